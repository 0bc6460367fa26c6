/* mailbox.c -- sending, the mailbox, signal handling, and selective receive. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

tr__node *tr__node_new(size_t payload) {
    tr__node *n = malloc(sizeof *n + payload);
    if (!n) return NULL;
    n->next = n->prev = NULL;
    n->to = 0;
    n->sig = TR__SIG_MSG;
    n->msg = (tr_msg){0};
    return n;
}

void tr__node_free(tr__node *n) {
    if (!n) return;
    tr_reason_unref(n->msg.reason);
    tr_bin_unref(n->msg.bin);
    free(n);
}

void tr_msg_free(tr_msg *m) {
    if (m) tr__node_free((tr__node *)((char *)m - offsetof(tr__node, msg)));
}

bool tr__push(tr__proc *p, tr__node *n) {
    tr__node *h = atomic_load_explicit(&p->inbox, memory_order_relaxed);
    do {
        if (h == TR__CLOSED) return false;
        n->next = h;
        /* seq_cst: the push must be ordered before the sender's read of the state
         * (the park/wake protocol in sched.c), and publishes the node's contents. */
    } while (!atomic_compare_exchange_weak_explicit(&p->inbox, &h, n, memory_order_seq_cst,
                                                    memory_order_relaxed));
    return true;
}

int tr__deliver(tr_pid to, tr__node *n) {
    n->to = to;
    /* Monitor, demonitor and unlink requests only update the receiver's own tables,
     * which matter when it ends or is inspected: they wait for its next wakeup (at the
     * latest the exit signal that ends it, which is drained after them) rather than
     * causing one. Otherwise a process blocked in a call would run, and its thread
     * possibly be woken, just to note that the callee monitors it or forgot it. Read
     * before the push: the receiver may free the node at once. */
    bool lazy = n->sig == TR__SIG_MONITOR || n->sig == TR__SIG_DEMONITOR || n->sig == TR__SIG_UNLINK;
    tr__proc *p = tr__lookup(to);
    if (!p || !tr__push(p, n)) {
        tr__node_free(n);
        return TR_ENOPROC;
    }
    if (!lazy && atomic_load(&p->state) == TR__WAITING) tr__wake(p);
    return 0;
}

int tr__signal(tr_pid to, int sig, tr_pid from, tr_ref ref, const tr_reason *r) {
    tr__node *n = tr__node_new(0);
    if (!n) return TR_ENOMEM;
    n->sig = (uint8_t)sig;
    n->msg.kind = sig == TR__SIG_DOWN ? TR_MSG_DOWN : TR_MSG_EXIT;
    n->msg.from = from;
    n->msg.ref = ref;
    n->msg.reason = r ? tr_reason_ref(r) : NULL;
    return tr__deliver(to, n);
}

/* ---------------------------------------------------------------- the private queue */

void tr__queue_append(tr__proc *p, tr__node *n) {
    n->next = NULL;
    n->prev = p->q_tail;
    if (p->q_tail) p->q_tail->next = n;
    else p->q_head = n;
    p->q_tail = n;
    atomic_store_explicit(&p->q_len, atomic_load_explicit(&p->q_len, memory_order_relaxed) + 1,
                          memory_order_relaxed); /* only the owner writes; observers read */
}

void tr__queue_remove(tr__proc *p, tr__node *n) {
    if (n->prev) n->prev->next = n->next;
    else p->q_head = n->next;
    if (n->next) n->next->prev = n->prev;
    else p->q_tail = n->prev;
    if (p->marker == n) p->marker = n->prev;
    atomic_store_explicit(&p->q_len, atomic_load_explicit(&p->q_len, memory_order_relaxed) - 1,
                          memory_order_relaxed);
}

/* ---------------------------------------------------------------- signals */

/* An exit signal reached p: ignore it, queue it as an EXIT message, or die. */
static void handle_exit(tr__proc *p, tr__node *n, bool linked, tr__node *rest) {
    const tr_reason *r = n->msg.reason;
    const tr_reason *die_with = NULL;
    if (!linked && tr_reason_eq(r, TR_KILL)) die_with = TR_KILLED;
    else if (p->trap_exit) {
        n->msg.kind = TR_MSG_EXIT;
        tr__queue_append(p, n);
        return;
    } else if (tr_reason_eq(r, TR_NORMAL)) {
        if (!linked && n->msg.from == tr__pid_of(p)) die_with = TR_NORMAL;
    } else
        die_with = r;
    if (!die_with) {
        tr__node_free(n);
        return;
    }
    p->pending = rest; /* the exit path answers what we did not get to */
    const tr_reason *keep = tr_reason_ref(die_with);
    tr__node_free(n);
    p->exit_reason = keep;
    tr__switch_out(p, TR__Y_EXIT);
    abort();
}

void tr__drain(tr__proc *p) {
    if (atomic_load_explicit(&p->inbox, memory_order_relaxed) == NULL) return;
    /* acquire: see the contents of every node pushed (with release) before. */
    tr__node *h = atomic_exchange_explicit(&p->inbox, NULL, memory_order_acquire);
    tr__node *fifo = NULL;
    while (h) {
        tr__node *next = h->next;
        h->next = fifo;
        fifo = h;
        h = next;
    }
    tr_pid self = tr__pid_of(p);
    while (fifo) {
        tr__node *n = fifo;
        fifo = n->next;
        if (n->to != self) { /* meant for an earlier process in this slot */
            tr__node_free(n);
            continue;
        }
        uint64_t from = n->msg.from;
        switch (n->sig) {
        case TR__SIG_MSG:
            tr__queue_append(p, n);
            continue;
        case TR__SIG_ALIAS: /* only the owner writes mons, so no lock to read it */
            if (tr__map_get(&p->mons, n->msg.ref, NULL)) tr__queue_append(p, n);
            else tr__node_free(n); /* its call was given up: never delivered */
            continue;
        case TR__SIG_DOWN: {
            tr__info_lock(p);
            bool live = tr__map_del(&p->mons, n->msg.ref, NULL);
            tr__info_unlock(p);
            if (live) tr__queue_append(p, n);
            else tr__node_free(n); /* demonitored: a DOWN must never show up after */
            continue;
        }
        case TR__SIG_EXIT_LINK: {
            tr__info_lock(p);
            bool linked = tr__map_del(&p->links, from, NULL);
            tr__info_unlock(p);
            if (linked) handle_exit(p, n, true, fifo);
            else tr__node_free(n); /* unlinked meanwhile */
            continue;
        }
        case TR__SIG_EXIT:
            handle_exit(p, n, false, fifo);
            continue;
        case TR__SIG_LINK:
            tr__info_lock(p);
            tr__map_put(&p->links, from, 0);
            tr__info_unlock(p);
            break;
        case TR__SIG_UNLINK:
            tr__info_lock(p);
            tr__map_del(&p->links, from, NULL);
            tr__info_unlock(p);
            break;
        case TR__SIG_MONITOR:
            tr__info_lock(p);
            tr__map_put(&p->monby, n->msg.ref, from);
            tr__info_unlock(p);
            break;
        case TR__SIG_DEMONITOR:
            tr__info_lock(p);
            tr__map_del(&p->monby, n->msg.ref, NULL);
            tr__info_unlock(p);
            break;
        }
        tr__node_free(n);
    }
}

/* Signals that reached a process that has ended are answered as if it had been dead
 * when they were sent: a link or monitor gets noproc. */
void tr__dead_signals(tr__proc *p, tr__node *list) {
    tr_pid self = tr__pid_of(p);
    while (list) {
        tr__node *n = list;
        list = n->next;
        if (n->to == self) {
            if (n->sig == TR__SIG_LINK) tr__signal(n->msg.from, TR__SIG_EXIT_LINK, self, 0, TR_NOPROC);
            else if (n->sig == TR__SIG_MONITOR)
                tr__signal(n->msg.from, TR__SIG_DOWN, self, n->msg.ref, TR_NOPROC);
        }
        tr__node_free(n);
    }
}

/* ---------------------------------------------------------------- sending */

static int send_node(tr_pid to, uint64_t tag, tr_ref ref, const void *data, size_t len, tr_bin *bin,
                     int sig) {
    tr__node *n = tr__node_new(bin ? 0 : len);
    if (!n) return TR_ENOMEM;
    n->sig = (uint8_t)sig;
    tr__proc *self = tr__cur();
    n->msg.kind = TR_MSG_USER;
    n->msg.tag = tag;
    n->msg.ref = ref;
    n->msg.from = self ? tr__pid_of(self) : 0;
    if (bin) {
        n->msg.bin = tr_bin_ref(bin);
        n->msg.data = bin->data;
        n->msg.len = bin->len;
    } else if (len) {
        memcpy(n->payload, data, len);
        n->msg.data = n->payload;
        n->msg.len = len;
    }
    tr__deliver(to, n);
    if (self) tr__count_reduction(self);
    return 0;
}

int tr_send(tr_pid to, uint64_t tag, const void *data, size_t len) {
    return send_node(to, tag, 0, data, len, NULL, TR__SIG_MSG);
}

int tr_send_ref(tr_pid to, uint64_t tag, tr_ref ref, const void *data, size_t len) {
    return send_node(to, tag, ref, data, len, NULL, TR__SIG_MSG);
}

int tr_send_bin(tr_pid to, uint64_t tag, tr_ref ref, tr_bin *bin) {
    if (!bin) return TR_EINVAL;
    return send_node(to, tag, ref, NULL, 0, bin, TR__SIG_MSG);
}

int tr_send_alias(tr_pid to, uint64_t tag, tr_ref ref, const void *data, size_t len) {
    return send_node(to, tag, ref, data, len, NULL, TR__SIG_ALIAS);
}

int tr_send_alias_bin(tr_pid to, uint64_t tag, tr_ref ref, tr_bin *bin) {
    if (!bin) return TR_EINVAL;
    return send_node(to, tag, ref, NULL, 0, bin, TR__SIG_ALIAS);
}

int tr_send_named(const char *name, uint64_t tag, const void *data, size_t len) {
    tr_pid pid = tr_whereis(name);
    if (!pid) return TR_EBADNAME;
    return send_node(pid, tag, 0, data, len, NULL, TR__SIG_MSG);
}

/* ---------------------------------------------------------------- receiving */

enum { BY_ANY, BY_TAG, BY_REF, BY_FN };

static inline bool matches(int how, uint64_t key, tr_match_fn fn, void *arg, const tr__node *n) {
    switch (how) {
    case BY_ANY:
        return true;
    case BY_TAG:
        return n->msg.kind == TR_MSG_USER && n->msg.tag == key;
    case BY_REF:
        return n->msg.ref == key;
    default:
        return fn(&n->msg, arg);
    }
}

static tr_msg *receive(const char *who, int how, uint64_t key, tr_match_fn fn, void *arg, int64_t timeout) {
    tr__proc *p = tr__self(who);
    int64_t deadline = timeout > 0 ? tr__now() + timeout : -1;
    tr__drain(p);
    tr__node *n = p->q_head;
    if (how == BY_REF && key && key == p->marker_ref) n = p->marker ? p->marker->next : p->q_head;
    for (;;) {
        for (; n; n = n->next) {
            if (matches(how, key, fn, arg, n)) {
                tr__queue_remove(p, n);
                tr__count_reduction(p);
                return &n->msg;
            }
        }
        tr__node *last = p->q_tail;
        if (atomic_load_explicit(&p->inbox, memory_order_relaxed) == NULL) {
            if (timeout == 0 || (deadline >= 0 && tr__now() >= deadline)) return NULL;
            tr__park(p, TR__WAIT_MSG, deadline, "receive");
        }
        tr__drain(p);
        n = last ? last->next : p->q_head;
    }
}

tr_msg *tr_receive(int64_t timeout_ms) { return receive("tr_receive", BY_ANY, 0, NULL, NULL, timeout_ms); }

tr_msg *tr_receive_tag(uint64_t tag, int64_t timeout_ms) {
    return receive("tr_receive_tag", BY_TAG, tag, NULL, NULL, timeout_ms);
}

tr_msg *tr_receive_ref(tr_ref ref, int64_t timeout_ms) {
    return receive("tr_receive_ref", BY_REF, ref, NULL, NULL, timeout_ms);
}

tr_msg *tr_receive_match(tr_match_fn match, void *arg, int64_t timeout_ms) {
    return receive("tr_receive_match", BY_FN, 0, match, arg, timeout_ms);
}

size_t tr_mailbox_len(void) {
    tr__proc *p = tr__self("tr_mailbox_len");
    tr__drain(p);
    return atomic_load_explicit(&p->q_len, memory_order_relaxed);
}

tr_ref tr_make_ref(void) {
    tr__proc *p = tr__self("tr_make_ref");
    /* Everything already sent is moved to the queue first, so the marker covers it:
     * none of it can carry a reference that did not exist yet. */
    tr__drain(p);
    tr_ref ref = tr__make_ref();
    p->marker = p->q_tail;
    p->marker_ref = ref;
    return ref;
}

void tr_sleep(int64_t ms) {
    tr__proc *p = tr__self("tr_sleep");
    if (ms <= 0) {
        tr_yield();
        return;
    }
    int64_t deadline = tr__now() + ms;
    do {
        tr__park(p, TR__WAIT_MSG, deadline, "sleep");
        tr__drain(p); /* messages stay queued; exit signals act */
    } while (tr__now() < deadline);
}
