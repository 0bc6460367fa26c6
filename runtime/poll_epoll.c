/* poll_epoll.c -- the OS seam for waiting on file descriptors: Linux epoll.
 * A kqueue backend for macOS implements the same functions (see internal.h). Each
 * scheduler owns one poller; an eventfd in it lets other threads wake the scheduler
 * when it sleeps. Registrations are one-shot, re-armed on each request. */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct tr__poller {
    int epfd;
    int evfd;
};

#define WAKE_KEY UINT64_MAX

struct tr__poller *tr__poller_new(void) {
    struct tr__poller *pl = malloc(sizeof *pl);
    if (!pl) return NULL;
    pl->epfd = epoll_create1(EPOLL_CLOEXEC);
    pl->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = WAKE_KEY};
    if (pl->epfd < 0 || pl->evfd < 0 || epoll_ctl(pl->epfd, EPOLL_CTL_ADD, pl->evfd, &ev) != 0) {
        tr__poller_free(pl);
        return NULL;
    }
    return pl;
}

void tr__poller_free(struct tr__poller *pl) {
    if (!pl) return;
    if (pl->epfd >= 0) close(pl->epfd);
    if (pl->evfd >= 0) close(pl->evfd);
    free(pl);
}

int tr__poller_arm(struct tr__poller *pl, int fd, unsigned events, bool *in_set) {
    struct epoll_event ev = {.events = EPOLLONESHOT, .data.u64 = (uint64_t)fd};
    if (events & TR_READ) ev.events |= EPOLLIN | EPOLLRDHUP;
    if (events & TR_WRITE) ev.events |= EPOLLOUT;
    /* The fd may have been closed and its number reused since we saw it: fall back
     * from MOD to ADD and from ADD to MOD as the kernel tells us. */
    int op = *in_set ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(pl->epfd, op, fd, &ev) != 0) {
        if (errno == ENOENT) op = EPOLL_CTL_ADD;
        else if (errno == EEXIST) op = EPOLL_CTL_MOD;
        else return TR_ESYS;
        if (epoll_ctl(pl->epfd, op, fd, &ev) != 0) return TR_ESYS;
    }
    *in_set = true;
    return 0;
}

int tr__poller_disarm(struct tr__poller *pl, int fd, bool *in_set) {
    if (*in_set) epoll_ctl(pl->epfd, EPOLL_CTL_DEL, fd, NULL); /* ENOENT/EBADF: already gone */
    *in_set = false;
    return 0;
}

int tr__poller_wait(struct tr__poller *pl, int64_t timeout_ms,
                    void (*on_ready)(void *ctx, int fd, unsigned events), void *ctx) {
    struct epoll_event evs[64];
    int timeout = timeout_ms < 0 ? -1 : (timeout_ms > 1000000 ? 1000000 : (int)timeout_ms);
    int n = epoll_wait(pl->epfd, evs, 64, timeout);
    int fds = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == WAKE_KEY) {
            uint64_t v; /* one read takes the whole count and resets it */
            ssize_t rc = read(pl->evfd, &v, sizeof v);
            (void)rc;
            continue;
        }
        unsigned e = 0, k = evs[i].events;
        if (k & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) e |= TR_READ;
        if (k & (EPOLLOUT | EPOLLHUP | EPOLLERR)) e |= TR_WRITE;
        on_ready(ctx, (int)evs[i].data.u64, e);
        fds++;
    }
    return fds;
}

void tr__poller_wakeup(struct tr__poller *pl) {
    uint64_t one = 1;
    ssize_t rc = write(pl->evfd, &one, sizeof one); /* EAGAIN: a wakeup is pending anyway */
    (void)rc;
}
