/* io.c -- processes waiting on file descriptors (tr_select, tr_wait_fd), on top of
 * the scheduler's poller. A registration belongs to the scheduler the process runs
 * on; readiness arrives as a message, so one process can wait on many fds at once. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static tr__fdreg *reg_for(tr__sched *s, int fd) {
    if (fd < 0) return NULL;
    if (fd >= s->fds_cap) {
        int cap = s->fds_cap ? s->fds_cap : 64;
        while (cap <= fd) cap *= 2;
        tr__fdreg *r = realloc(s->fds, (size_t)cap * sizeof *r);
        if (!r) return NULL;
        memset(r + s->fds_cap, 0, (size_t)(cap - s->fds_cap) * sizeof *r);
        s->fds = r;
        s->fds_cap = cap;
    }
    return &s->fds[fd];
}

static int select_fd(tr__proc *p, int fd, unsigned events, uint64_t tag, tr_ref ref) {
    tr__sched *s = tr__tls_sched;
    if (fd < 0 || !(events & (TR_READ | TR_WRITE))) return TR_EINVAL;
    tr__fdreg *r = reg_for(s, fd);
    if (!r) return TR_ENOMEM;
    tr_pid self = tr__pid_of(p);
    if (r->pid && r->pid != self) {
        if (tr__lookup(r->pid)) return TR_EBUSY;
        r->pid = 0; /* its owner died without tidying: take it over */
        s->nregs--;
    }
    if (!r->pid) {
        p->nfds++;
        s->nregs++;
    }
    r->pid = self;
    r->tag = tag;
    r->ref = ref;
    r->events = events;
    if (tr__poller_arm(s->poller, fd, events, &r->in_epoll) != 0) {
        r->pid = 0;
        p->nfds--;
        s->nregs--;
        return TR_ESYS;
    }
    return 0;
}

int tr_select(int fd, unsigned events, uint64_t tag) {
    return select_fd(tr__self("tr_select"), fd, events, tag, 0);
}

int tr_select_cancel(int fd) {
    tr__proc *p = tr__self("tr_select_cancel");
    tr__sched *s = tr__tls_sched;
    if (fd < 0 || fd >= s->fds_cap) return 0;
    tr__fdreg *r = &s->fds[fd];
    if (r->pid != tr__pid_of(p)) return 0;
    /* The fd stays in the epoll set, still armed if it had not fired: removing it would
     * cost a syscall each time (libcurl gives up a socket after every transfer). If it
     * fires, tr__fd_ready drops the event (no owner), and the one-shot registration is
     * then inert; the next tr_select re-arms it with one MOD, and closing the fd removes
     * it. */
    r->pid = 0;
    p->nfds--;
    s->nregs--;
    return 0;
}

void tr__fd_ready(void *sched, int fd, unsigned events) {
    tr__sched *s = sched;
    if (fd < 0 || fd >= s->fds_cap || !s->fds[fd].pid) return;
    tr__fdreg *r = &s->fds[fd];
    tr_fd_event ev = {fd, events & (r->events | TR_READ | TR_WRITE)};
    tr_send_ref(r->pid, r->tag, r->ref, &ev, sizeof ev); /* one-shot: armed again on request */
}

void tr__fds_release(tr__sched *s, tr__proc *p) {
    tr_pid pid = tr__pid_of(p);
    for (int fd = 0; fd < s->fds_cap && p->nfds; fd++) {
        if (s->fds[fd].pid != pid) continue;
        tr__poller_disarm(s->poller, fd, &s->fds[fd].in_epoll);
        s->fds[fd].pid = 0;
        p->nfds--;
        s->nregs--;
    }
}

int tr_wait_fd(int fd, unsigned events, int64_t timeout_ms) {
    tr__proc *p = tr__self("tr_wait_fd");
    tr_ref ref = tr_make_ref();
    int rc = select_fd(p, fd, events, TR__TAG_FDWAIT, ref);
    if (rc != 0) return rc;
    tr_msg *m = tr_receive_ref(ref, timeout_ms);
    tr_select_cancel(fd);
    if (!m) m = tr_receive_ref(ref, 0); /* it may have fired just as the time ran out */
    if (!m) return 0;
    tr_fd_event ev;
    memcpy(&ev, m->data, sizeof ev);
    tr_msg_free(m);
    return (int)ev.events;
}
