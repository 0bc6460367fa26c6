/* pingpong.c -- two processes bounce a counter; the smallest tour of the runtime:
 * spawn, send, selective receive, monitor, and a process's normal end.
 *   build/examples/pingpong [ROUNDS]                                              */
#include <stdio.h>
#include <stdlib.h>
#include <tr.h>

enum { PING = 1, PONG = 2 };

static void ponger(void *arg) {
    (void)arg;
    for (;;) {
        tr_msg *m = tr_receive_tag(PING, TR_INFINITY);
        long n = *(const long *)m->data;
        tr_send(m->from, PONG, &n, sizeof n);
        tr_msg_free(m);
        if (n == 0) return; /* the last ball: end normally */
    }
}

static void pinger(void *arg) {
    long rounds = *(long *)arg;
    tr_ref mon;
    tr_pid pong = tr_spawn_monitor(ponger, NULL, &mon);
    int64_t t0 = tr_now_ms();
    for (long n = rounds - 1; n >= 0; n--) {
        tr_send(pong, PING, &n, sizeof n);
        tr_msg_free(tr_receive_tag(PONG, TR_INFINITY));
    }
    tr_msg *down = tr_receive_ref(mon, TR_INFINITY); /* wait for the ponger to end */
    printf("%ld round trips in %lld ms; ponger ended: %s\n", rounds, (long long)(tr_now_ms() - t0),
           tr_reason_text(down->reason));
    tr_msg_free(down);
}

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 100000;
    return tr_run(NULL, pinger, &rounds, NULL) == 0 ? 0 : 1;
}
