/* ring.c -- N processes in a ring pass a token M times around; each process knows only
 * the next pid. Shows spawn_link (the whole ring dies with its starter) and how cheap
 * a process and a message are.   build/examples/ring [N] [M]                          */
#include <stdio.h>
#include <stdlib.h>
#include <tr.h>

enum { NEXT = 1, TOKEN = 2 };

static void member(void *arg) {
    (void)arg;
    tr_msg *m = tr_receive_tag(NEXT, TR_INFINITY); /* who to pass the token to */
    tr_pid next = *(const tr_pid *)m->data;
    tr_msg_free(m);
    for (;;) {
        m = tr_receive_tag(TOKEN, TR_INFINITY);
        long hops = *(const long *)m->data - 1;
        tr_msg_free(m);
        tr_send(next, TOKEN, &hops, sizeof hops);
    }
}

static void starter(void *arg) {
    long *nm = arg, n = nm[0], m = nm[1];
    tr_pid first = tr_self(), prev = first;
    for (long i = 0; i < n - 1; i++) { /* build the ring back to front */
        tr_pid p = tr_spawn_link(member, NULL);
        tr_send(p, NEXT, &prev, sizeof prev);
        prev = p;
    }
    int64_t t0 = tr_now_ms();
    long hops = n * m;
    tr_send(prev, TOKEN, &hops, sizeof hops);
    for (;;) { /* the starter is the ring's last member */
        tr_msg *t = tr_receive_tag(TOKEN, TR_INFINITY);
        long left = *(const long *)t->data - 1;
        tr_msg_free(t);
        if (left <= 0) break;
        tr_send(prev, TOKEN, &left, sizeof left);
    }
    int64_t ms = tr_now_ms() - t0;
    printf("ring of %ld processes, %ld laps: %ld hops in %lld ms (%.0f ns/hop)\n", n, m, n * m,
           (long long)ms, ms * 1e6 / (double)(n * m));
    tr_exit(TR_SHUTDOWN); /* takes the linked ring down with it */
}

int main(int argc, char **argv) {
    long nm[2] = {argc > 1 ? atol(argv[1]) : 1000, argc > 2 ? atol(argv[2]) : 1000};
    int rc = tr_run(NULL, starter, nm, NULL);
    return rc == 1 ? 0 : 1; /* the starter ends with "shutdown" on purpose */
}
