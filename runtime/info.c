/* info.c -- introspection: snapshots of live processes, for an observer view and for
 * `--debug-tree` style dumps. Reads other processes' tables under their info lock. */
#include "internal.h"

#include <string.h>

static const char *const state_names[] = {"free", "runnable", "running", "waiting", "exiting"};

static tr__proc *slot(uint32_t i) {
    tr__proc *chunk = atomic_load_explicit(&tr__rt.chunks[i >> TR__CHUNK_SHIFT], memory_order_acquire);
    return chunk ? &chunk[i & (TR__CHUNK - 1)] : NULL;
}

/* Fills one snapshot; false if the slot holds no live process. */
static bool snapshot(tr__proc *p, tr_proc_info *out) {
    int st = atomic_load(&p->state);
    if (st == TR__FREE) return false;
    tr__info_lock(p);
    out->pid = tr__pid_of(p);
    out->parent = p->parent;
    out->state = st == TR__RUNNABLE  ? TR_PROC_RUNNABLE
                 : st == TR__RUNNING ? TR_PROC_RUNNING
                 : st == TR__WAITING ? TR_PROC_WAITING
                                     : TR_PROC_EXITING;
    /* waiting_in and entry point to static strings: a stale one is still a string. */
    const char *w = __atomic_load_n(&p->waiting_in, __ATOMIC_RELAXED);
    out->waiting_in = st == TR__WAITING && w ? w : "";
    out->entry = __atomic_load_n(&p->entry, __ATOMIC_RELAXED);
    memcpy(out->name, p->name, sizeof out->name);
    /* Messages the process has not looked at yet are not counted: only the owner
     * may walk its mailbox. */
    out->mailbox_len = atomic_load_explicit(&p->q_len, memory_order_relaxed);
    out->links = p->links.len;
    out->monitors = p->mons.len;
    out->monitored_by = p->monby.len;
    out->memory = sizeof *p + tr__map_memory(&p->links) + tr__map_memory(&p->mons) +
                  tr__map_memory(&p->monby) + __atomic_load_n(&p->stack_cap, __ATOMIC_RELAXED) +
                  out->mailbox_len * sizeof(tr__node);
    out->trap_exit = __atomic_load_n(&p->trap_exit, __ATOMIC_RELAXED);
    out->priority = (tr_priority)__atomic_load_n(&p->priority, __ATOMIC_RELAXED);
    out->scheduler = atomic_load_explicit(&p->home, memory_order_relaxed);
    tr__info_unlock(p);
    return atomic_load(&p->state) != TR__FREE;
}

size_t tr_processes(tr_proc_info *out, size_t max) {
    size_t n = 0;
    uint32_t hw = __atomic_load_n(&tr__rt.high_water, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < hw; i++) {
        tr__proc *p = slot(i);
        if (!p) continue;
        tr_proc_info tmp;
        if (!snapshot(p, n < max ? &out[n] : &tmp)) continue;
        n++;
    }
    return n;
}

int tr_process_info(tr_pid pid, tr_proc_info *out) {
    tr__proc *p = tr__lookup(pid);
    if (!p || !snapshot(p, out) || out->pid != pid) return TR_ENOPROC;
    return 0;
}

size_t tr_process_links(tr_pid pid, tr_pid *out, size_t max) {
    tr__proc *p = tr__lookup(pid);
    if (!p) return 0;
    size_t n = 0;
    uint64_t k, v;
    tr__info_lock(p);
    for (uint32_t i = 0; tr__map_next(&p->links, &i, &k, &v); n++)
        if (n < max) out[n] = k;
    tr__info_unlock(p);
    return n;
}

void tr_dump(FILE *f) {
    tr_stats st;
    tr_get_stats(&st);
    fprintf(f, "trawl runtime: %zu processes, %d schedulers, seed %llu\n", st.processes, st.schedulers,
            (unsigned long long)tr__rt.cfg.seed);
    uint32_t hw = __atomic_load_n(&tr__rt.high_water, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < hw; i++) {
        tr__proc *p = slot(i);
        tr_proc_info in;
        if (!p || !snapshot(p, &in)) continue;
        fprintf(f, "  <%u.%u> %-10s %-8s %-9s sched=%d mbox=%zu links=%zu mons=%zu mem=%zu%s%s\n",
                (unsigned)(in.pid >> 32), (unsigned)(uint32_t)in.pid, in.entry,
                state_names[in.state + 1], in.waiting_in, in.scheduler, in.mailbox_len, in.links,
                in.monitors, in.memory, in.name[0] ? " name=" : "", in.name);
    }
}

void tr_get_stats(tr_stats *out) {
    memset(out, 0, sizeof *out);
    out->processes = atomic_load(&tr__rt.live);
    out->spawned = atomic_load(&tr__rt.spawned);
    out->exited = atomic_load(&tr__rt.exited);
    out->schedulers = tr__rt.nsched;
    uint32_t hw = __atomic_load_n(&tr__rt.high_water, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < hw; i++) {
        tr__proc *p = slot(i);
        if (!p || atomic_load(&p->state) == TR__FREE) continue;
        out->process_memory += sizeof *p + __atomic_load_n(&p->stack_cap, __ATOMIC_RELAXED);
    }
}
