/* proc.c -- the process table, spawning, and what happens when a process ends. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const NO_WAIT = "";

void tr__info_lock(tr__proc *p) {
    /* acquire/release: the lock orders the table updates it guards. */
    while (atomic_flag_test_and_set_explicit(&p->info_lock, memory_order_acquire)) {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
    }
}

void tr__info_unlock(tr__proc *p) { atomic_flag_clear_explicit(&p->info_lock, memory_order_release); }

tr__proc *tr__lookup(tr_pid pid) {
    uint32_t idx = (uint32_t)pid, gen = (uint32_t)(pid >> 32);
    if (!pid || idx >= tr__rt.max_procs) return NULL;
    /* acquire: pairs with the release that published the chunk's initialised slots. */
    tr__proc *chunk = atomic_load_explicit(&tr__rt.chunks[idx >> TR__CHUNK_SHIFT], memory_order_acquire);
    if (!chunk) return NULL;
    tr__proc *p = &chunk[idx & (TR__CHUNK - 1)];
    if (atomic_load_explicit(&p->gen, memory_order_acquire) != gen) return NULL;
    int st = atomic_load_explicit(&p->state, memory_order_acquire);
    return st == TR__FREE ? NULL : p;
}

static tr__proc *new_chunk_slot(void) {
    uint32_t idx = tr__rt.high_water;
    if (idx >= tr__rt.max_procs) return NULL;
    _Atomic(tr__proc *) *slot = &tr__rt.chunks[idx >> TR__CHUNK_SHIFT];
    tr__proc *chunk = atomic_load_explicit(slot, memory_order_relaxed);
    if (!chunk) {
        chunk = calloc(TR__CHUNK, sizeof *chunk);
        if (!chunk) return NULL;
        for (uint32_t i = 0; i < TR__CHUNK; i++) {
            tr__proc *p = &chunk[i];
            p->index = (idx & ~(TR__CHUNK - 1)) + i;
            atomic_init(&p->gen, 1);
            atomic_init(&p->state, TR__FREE);
            atomic_init(&p->inbox, TR__CLOSED);
            atomic_flag_clear(&p->info_lock);
            p->tmr.heap_idx = -1;
        }
        atomic_store_explicit(slot, chunk, memory_order_release); /* see tr__lookup */
    }
    tr__rt.high_water++;
    return &chunk[idx & (TR__CHUNK - 1)];
}

tr__proc *tr__proc_alloc(void) {
    pthread_mutex_lock(&tr__rt.table_lock);
    tr__proc *p = tr__rt.free_list;
    if (p) tr__rt.free_list = p->run_next;
    else p = new_chunk_slot();
    pthread_mutex_unlock(&tr__rt.table_lock);
    if (!p) return NULL;

    /* Field by field, not memset: stale senders may still touch the atomics. */
    p->q_head = p->q_tail = p->marker = NULL;
    p->marker_ref = 0;
    p->run_next = NULL;
    p->sp = NULL;
    p->stack_copy = NULL;
    p->stack_len = p->stack_cap = 0;
    p->yield_kind = p->wait_mode = 0;
    p->started = p->crashed = p->on_stack = p->spread = false;
    __atomic_store_n(&p->trap_exit, false, __ATOMIC_RELAXED); /* observers read it (info.c) */
    __atomic_store_n(&p->priority, TR_PRIORITY_NORMAL, __ATOMIC_RELAXED);
    p->reds = TR__REDUCTIONS;
    __atomic_store_n(&p->entry, "process", __ATOMIC_RELAXED);
    __atomic_store_n(&p->waiting_in, NO_WAIT, __ATOMIC_RELAXED);
    p->parent = 0;
    p->links = p->mons = p->monby = (tr__map){0};
    p->exit_reason = NULL;
    p->pending = NULL;
    p->cleanups = NULL;
    p->tmr = (tr__timer){.deadline = -1, .heap_idx = -1, .kind = TR__TIMER_PROC};
    p->nfds = 0;
    p->name[0] = 0;
    atomic_store(&p->wake, 0);
    atomic_store(&p->home, -1);
    atomic_store(&p->q_len, 0);
    atomic_store(&p->inbox, NULL);
    atomic_store(&p->state, TR__RUNNABLE);
    p->rng = tr__rt.cfg.seed ^ (tr__pid_of(p) * 0x9E3779B97F4A7C15ull);
    atomic_fetch_add(&tr__rt.live, 1);
    atomic_fetch_add_explicit(&tr__rt.spawned, 1, memory_order_relaxed);
    return p;
}

void tr__proc_free(tr__proc *p) {
    uint32_t g = atomic_load(&p->gen) + 1;
    atomic_store(&p->gen, g ? g : 1); /* before FREE: a racing lookup sees a new generation */
    atomic_store(&p->state, TR__FREE);
    pthread_mutex_lock(&tr__rt.table_lock);
    p->run_next = tr__rt.free_list;
    tr__rt.free_list = p;
    pthread_mutex_unlock(&tr__rt.table_lock);
    atomic_fetch_add_explicit(&tr__rt.exited, 1, memory_order_relaxed);
    if (atomic_fetch_sub(&tr__rt.live, 1) == 1) {
        pthread_mutex_lock(&tr__rt.done_lock);
        pthread_cond_broadcast(&tr__rt.done_cond);
        pthread_mutex_unlock(&tr__rt.done_lock);
    }
}

/* ---------------------------------------------------------------- spawning */

tr_pid tr_spawn_opt(tr_fn fn, void *arg, const tr_spawn_opts *opts, tr_ref *mref) {
    tr__proc *self = tr__self("tr_spawn");
    tr__proc *p = tr__proc_alloc();
    if (!p) return 0;
    tr_pid pid = tr__pid_of(p), me = tr__pid_of(self);
    p->fn = fn;
    p->arg = arg;
    p->parent = me;
    if (opts && opts->entry) __atomic_store_n(&p->entry, opts->entry, __ATOMIC_RELAXED);
    /* The new process is not running yet, so its tables can be set directly. */
    if (opts && opts->link) {
        tr__info_lock(self);
        int rc = tr__map_put(&self->links, pid, 0);
        tr__info_unlock(self);
        if (rc != 0 || tr__map_put(&p->links, me, 0) != 0) goto nomem;
    }
    if (opts && opts->monitor) {
        tr_ref ref = tr__make_ref();
        tr__info_lock(self);
        int rc = tr__map_put(&self->mons, ref, pid);
        tr__info_unlock(self);
        if (rc != 0 || tr__map_put(&p->monby, ref, me) != 0) goto nomem;
        if (mref) *mref = ref;
    }
    p->spread = opts && opts->spread;
    if (opts && opts->priority == TR_PRIORITY_HIGH) __atomic_store_n(&p->priority, TR_PRIORITY_HIGH, __ATOMIC_RELAXED);
    tr__enqueue_fresh(p);
    tr__count_reduction(self);
    return pid;
nomem:
    tr__info_lock(self);
    tr__map_del(&self->links, pid, NULL);
    tr__info_unlock(self);
    tr__map_free(&p->links);
    tr__map_free(&p->monby);
    atomic_store(&p->inbox, TR__CLOSED);
    tr__proc_free(p);
    return 0;
}

tr_pid tr_spawn(tr_fn fn, void *arg) { return tr_spawn_opt(fn, arg, NULL, NULL); }

tr_pid tr_spawn_link(tr_fn fn, void *arg) {
    return tr_spawn_opt(fn, arg, &(tr_spawn_opts){.link = true}, NULL);
}

tr_pid tr_spawn_monitor(tr_fn fn, void *arg, tr_ref *mref) {
    return tr_spawn_opt(fn, arg, &(tr_spawn_opts){.monitor = true}, mref);
}

tr_pid tr_self(void) { return tr__pid_of(tr__self("tr_self")); }
tr_pid tr_parent(void) { return tr__self("tr_parent")->parent; }

bool tr_is_alive(tr_pid pid) {
    tr__proc *p = tr__lookup(pid);
    return p && atomic_load(&p->state) != TR__EXITING;
}

uint64_t tr_random(void) {
    tr__proc *p = tr__self("tr_random");
    /* splitmix64: small, fast, and good enough for jitter and test schedules. */
    uint64_t z = (p->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int tr_on_exit(void (*fn)(void *), void *arg) {
    tr__proc *p = tr__self("tr_on_exit");
    tr__cleanup *c = malloc(sizeof *c);
    if (!c) return TR_ENOMEM;
    c->fn = fn;
    c->arg = arg;
    c->next = p->cleanups;
    p->cleanups = c;
    return 0;
}

/* ---------------------------------------------------------------- ending */

/* The process's first frame: run its function, then end normally. */
void tr__proc_main(void) {
    tr__proc *p = tr__cur();
    p->fn(p->arg);
    tr__die(p, TR_NORMAL);
}

_Noreturn void tr__die(tr__proc *p, const tr_reason *reason) {
    p->exit_reason = tr_reason_ref(reason);
    tr__switch_out(p, TR__Y_EXIT);
    abort(); /* a dead process is never resumed */
}

_Noreturn void tr_exit(const tr_reason *r) { tr__die(tr__self("tr_exit"), r ? r : TR_NORMAL); }

_Noreturn void tr_crash(const char *fmt, ...) {
    tr__proc *p = tr__self("tr_crash");
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    tr_reason *r = tr_reason_new("%s", buf);
    p->exit_reason = r; /* the new reference is handed over */
    tr__switch_out(p, TR__Y_EXIT);
    abort();
}

static tr__node *reverse(tr__node *h) {
    tr__node *r = NULL;
    while (h) {
        tr__node *n = h->next;
        h->next = r;
        r = h;
        h = n;
    }
    return r;
}

/* Runs on the scheduler's stack once the process has stopped for good. Order matters:
 * the name goes first (so a restarted process can take it), then cleanups (so
 * resources are free before anyone reacts), then the mailbox closes, and only then
 * do links and monitors hear of the death. */
void tr__proc_exit_path(tr__sched *s, tr__proc *p) {
    tr_pid self = tr__pid_of(p);
    const tr_reason *r = p->exit_reason ? p->exit_reason : TR_NORMAL;
    atomic_store(&p->state, TR__EXITING);
    if (p->started) tr__homed_add(s, -1);
    if (p->tmr.heap_idx >= 0) tr__heap_remove(s, &p->tmr);
    if (p->nfds) tr__fds_release(s, p);
    tr__registry_drop(p);
    for (tr__cleanup *c = p->cleanups, *next; c; c = next) {
        next = c->next;
        c->fn(c->arg);
        free(c);
    }
    p->cleanups = NULL;

    tr__node *rest = atomic_exchange(&p->inbox, TR__CLOSED);
    tr__dead_signals(p, p->pending);
    p->pending = NULL;
    tr__dead_signals(p, reverse(rest));
    for (tr__node *n = p->q_head, *next; n; n = next) {
        next = n->next;
        tr__node_free(n);
    }
    p->q_head = p->q_tail = p->marker = NULL;
    atomic_store(&p->q_len, 0);

    const tr_reason *lr = tr_reason_eq(r, TR_KILL) ? TR_KILLED : r;
    uint64_t k, v;
    for (uint32_t i = 0; tr__map_next(&p->links, &i, &k, &v);) tr__signal(k, TR__SIG_EXIT_LINK, self, 0, lr);
    for (uint32_t i = 0; tr__map_next(&p->monby, &i, &k, &v);) tr__signal(v, TR__SIG_DOWN, self, k, lr);
    for (uint32_t i = 0; tr__map_next(&p->mons, &i, &k, &v);) tr__signal(v, TR__SIG_DEMONITOR, self, k, NULL);
    tr__info_lock(p);
    tr__map_free(&p->links);
    tr__map_free(&p->mons);
    tr__map_free(&p->monby);
    tr__info_unlock(p);
    tr__stack_release(s, p);
#ifdef TR__TSAN
    if (p->tsan_fiber) __tsan_destroy_fiber(p->tsan_fiber);
    p->tsan_fiber = NULL;
#endif

    if (self == tr__rt.root) {
        pthread_mutex_lock(&tr__rt.done_lock);
        tr__rt.root_reason = tr_reason_ref(lr);
        tr__rt.root_done = true;
        pthread_cond_broadcast(&tr__rt.done_cond);
        pthread_mutex_unlock(&tr__rt.done_lock);
    }
    tr_reason_unref(p->exit_reason);
    p->exit_reason = NULL;
    tr__proc_free(p);
}

size_t tr__proc_memory(tr__proc *p) {
    return sizeof *p + p->stack_cap + tr__map_memory(&p->links) + tr__map_memory(&p->mons) +
           tr__map_memory(&p->monby);
}
