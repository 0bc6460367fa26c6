/* signal.c -- exit signals, links, trap_exit and monitors (Erlang's exit/2, link/1,
 * unlink/1, process_flag(trap_exit), monitor/2, demonitor/2). */
#include "internal.h"

int tr_exit_pid(tr_pid pid, const tr_reason *r) {
    tr__proc *p = tr__self("tr_exit_pid");
    tr_pid self = tr__pid_of(p);
    tr__signal(pid, TR__SIG_EXIT, self, 0, r ? r : TR_NORMAL);
    if (pid == self) tr__drain(p); /* exit(self(), R) acts at once, as in Erlang */
    return 0;
}

bool tr_trap_exit(bool on) {
    tr__proc *p = tr__self("tr_trap_exit");
    bool old = p->trap_exit;
    __atomic_store_n(&p->trap_exit, on, __ATOMIC_RELAXED); /* observers read it (info.c) */
    return old;
}

tr_priority tr_set_priority(tr_priority prio) {
    tr__proc *p = tr__self("tr_set_priority");
    tr_priority old = (tr_priority)p->priority;
    __atomic_store_n(&p->priority, prio == TR_PRIORITY_HIGH ? TR_PRIORITY_HIGH : TR_PRIORITY_NORMAL,
                     __ATOMIC_RELAXED); /* observers read it (info.c) */
    return old;
}

/* Queues an EXIT or DOWN message straight into the caller's own queue. */
static void self_message(tr__proc *p, tr_msg_kind kind, tr_pid from, tr_ref ref, const tr_reason *r) {
    tr__node *n = tr__node_new(0);
    if (!n) return;
    n->to = tr__pid_of(p);
    n->msg.kind = kind;
    n->msg.from = from;
    n->msg.ref = ref;
    n->msg.reason = tr_reason_ref(r);
    tr__drain(p); /* keep arrival order: what was sent before comes first */
    tr__queue_append(p, n);
}

int tr_link(tr_pid pid) {
    tr__proc *p = tr__self("tr_link");
    tr_pid self = tr__pid_of(p);
    if (pid == self) return 0;
    tr__info_lock(p);
    bool already = tr__map_get(&p->links, pid, NULL);
    tr__info_unlock(p);
    if (already) return 0;
    if (tr__signal(pid, TR__SIG_LINK, self, 0, NULL) != 0) {
        if (p->trap_exit) self_message(p, TR_MSG_EXIT, pid, 0, TR_NOPROC);
        return TR_ENOPROC;
    }
    tr__info_lock(p);
    int rc = tr__map_put(&p->links, pid, 0);
    tr__info_unlock(p);
    return rc;
}

int tr_unlink(tr_pid pid) {
    tr__proc *p = tr__self("tr_unlink");
    tr__info_lock(p);
    bool had = tr__map_del(&p->links, pid, NULL);
    tr__info_unlock(p);
    if (had) tr__signal(pid, TR__SIG_UNLINK, tr__pid_of(p), 0, NULL);
    return 0;
}

tr_ref tr_monitor(tr_pid pid) {
    tr__proc *p = tr__self("tr_monitor");
    tr_ref ref = tr_make_ref();
    tr_pid self = tr__pid_of(p);
    if (tr__signal(pid, TR__SIG_MONITOR, self, ref, NULL) != 0) {
        self_message(p, TR_MSG_DOWN, pid, ref, TR_NOPROC);
        return ref;
    }
    tr__info_lock(p);
    tr__map_put(&p->mons, ref, pid);
    tr__info_unlock(p);
    return ref;
}

bool tr_demonitor(tr_ref ref) {
    tr__proc *p = tr__self("tr_demonitor");
    uint64_t target;
    /* A DOWN that has already arrived means the monitor is gone (false), as in Erlang
     * once the message is in the mailbox; draining first makes that exact. */
    tr__drain(p);
    tr__info_lock(p);
    bool active = tr__map_del(&p->mons, ref, &target);
    tr__info_unlock(p);
    if (active) {
        /* Still active after the drain: no DOWN for it can be queued, and any later one
         * is dropped on arrival. Nothing to flush: O(1), however long the mailbox. */
        tr__signal(target, TR__SIG_DEMONITOR, tr__pid_of(p), ref, NULL);
        return true;
    }
    /* A DOWN already queued (e.g. the noproc one) is flushed; later ones are dropped
     * on arrival because the ref is no longer in our table. */
    for (tr__node *n = p->q_head, *next; n; n = next) {
        next = n->next;
        if (n->msg.kind == TR_MSG_DOWN && n->msg.ref == ref) {
            tr__queue_remove(p, n);
            tr__node_free(n);
        }
    }
    return active;
}
