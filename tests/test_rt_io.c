/* test_rt_io.c -- timers, sleep, waiting on file descriptors, the blocking pool. */
#include "rt_test.h"

#include <fcntl.h>
#include <unistd.h>

enum { T_TICK = 1, T_LATE, T_FD };

static void timers_root(void *arg) {
    (void)arg;
    int64_t t0 = tr_now_ms();
    tr_sleep(50);
    int64_t slept = tr_now_ms() - t0;
    CHECK(slept >= 50 && slept < 1000);

    tr_timer t = tr_send_after(30, tr_self(), T_TICK, "tick", 4);
    CHECK(t != 0);
    tr_msg *m = tr_receive_tag(T_TICK, 2000);
    CHECK(m && m->len == 4 && memcmp(m->data, "tick", 4) == 0);
    int64_t waited = tr_now_ms() - t0 - slept;
    CHECK(waited >= 29);
    tr_msg_free(m);
    CHECK(tr_cancel_timer(t) == -1); /* already fired */

    tr_timer late = tr_send_after(200, tr_self(), T_LATE, NULL, 0);
    int64_t left = tr_cancel_timer(late);
    CHECK(left > 100 && left <= 200);
    CHECK(tr_cancel_timer(late) == -1);
    CHECK(tr_receive_tag(T_LATE, 400) == NULL); /* never delivered */

    /* a timer still pending when the runtime stops is freed with it (ASan checks) */
    tr_send_after(60000, tr_self(), T_LATE, "later", 5);

    /* many timers fire in deadline order */
    for (int i = 10; i >= 1; i--) tr_send_after(i * 5, tr_self(), T_TICK, &i, sizeof i);
    for (int i = 1; i <= 10; i++) {
        m = tr_receive_tag(T_TICK, 2000);
        CHECK(m && *(const int *)m->data == i);
        tr_msg_free(m);
    }
}

static void test_sleep_send_after_and_cancel(void **s) {
    (void)s;
    rt_run(2, timers_root, NULL);
}

static _Atomic long counter;

static void count_forever(void *arg) {
    (void)arg;
    for (;;) {
        atomic_fetch_add(&counter, 1);
        tr_yield();
    }
}

static void writer(void *arg) {
    int fd = (int)(intptr_t)arg;
    tr_sleep(50);
    ssize_t n = write(fd, "x", 1);
    (void)n;
}

static void fd_root(void *arg) {
    (void)arg;
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0);
    atomic_store(&counter, 0);
    tr_pid c = tr_spawn_link(count_forever, NULL);
    /* one scheduler: if waiting blocked the thread, the counter could not move */
    CHECK(tr_wait_fd(p[0], TR_READ, 100) == 0); /* nothing yet: times out */
    long before = atomic_load(&counter);
    tr_spawn(writer, (void *)(intptr_t)p[1]);
    int64_t t0 = tr_now_ms();
    int ev = tr_wait_fd(p[0], TR_READ, 5000);
    CHECK(ev & TR_READ);
    CHECK(tr_now_ms() - t0 >= 40);
    CHECK(atomic_load(&counter) > before + 10);
    char b;
    CHECK(read(p[0], &b, 1) == 1 && b == 'x');
    CHECK(tr_wait_fd(p[1], TR_WRITE, 1000) & TR_WRITE);

    /* tr_select: readiness as a message */
    CHECK(tr_select(p[0], TR_READ, T_FD) == 0);
    CHECK(write(p[1], "y", 1) == 1);
    tr_msg *m = tr_receive_tag(T_FD, 5000);
    CHECK(m && m->len == sizeof(tr_fd_event) && ((const tr_fd_event *)m->data)->fd == p[0]);
    tr_msg_free(m);
    CHECK(tr_select_cancel(p[0]) == 0);
    close(p[0]);
    close(p[1]);
    tr_unlink(c);
    tr_exit_pid(c, TR_KILL);
}

static void test_wait_fd_blocks_only_the_process(void **s) {
    (void)s;
    rt_run(1, fd_root, NULL);
}

typedef struct {
    int in;
    int out;
} square_job;

static void slow_square(void *arg) {
    square_job *j = arg;
    usleep(200 * 1000); /* a blocking call: only the pool thread waits */
    j->out = j->in * j->in;
}

static void blocking_root(void *arg) {
    (void)arg;
    atomic_store(&counter, 0);
    tr_pid c = tr_spawn_link(count_forever, NULL);
    tr_sleep(5);
    long before = atomic_load(&counter);
    square_job j = {.in = 12}; /* on our stack: copied in and out by the runtime */
    CHECK(tr_blocking(slow_square, &j, sizeof j) == 0);
    CHECK(j.out == 144);
    CHECK(atomic_load(&counter) > before + 100);
    tr_unlink(c);
    tr_exit_pid(c, TR_KILL);
}

static void test_blocking_call_runs_off_the_scheduler(void **s) {
    (void)s;
    rt_run(1, blocking_root, NULL);
}

static void block_then_report(void *arg) {
    tr_pid boss = (tr_pid)(uintptr_t)arg;
    square_job j = {.in = 3};
    tr_blocking(slow_square, &j, sizeof j);
    tr_send(boss, T_TICK, &j.out, sizeof j.out); /* reached: the kill waits for the call */
}

static void blocking_kill_root(void *arg) {
    (void)arg;
    tr_ref r;
    tr_pid p = tr_spawn_monitor(block_then_report, (void *)(uintptr_t)tr_self(), &r);
    tr_sleep(50);
    tr_exit_pid(p, TR_KILL);
    char why[64];
    CHECK(strcmp(rt_await_down(r, why, sizeof why, 5000), "killed") == 0);
    /* the exit signal took effect when the call returned, before the send */
    CHECK(tr_receive_tag(T_TICK, 100) == NULL);
}

static void test_exit_signal_waits_for_blocking_call(void **s) {
    (void)s;
    rt_run(2, blocking_kill_root, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sleep_send_after_and_cancel),
        cmocka_unit_test(test_wait_fd_blocks_only_the_process),
        cmocka_unit_test(test_blocking_call_runs_off_the_scheduler),
        cmocka_unit_test(test_exit_signal_waits_for_blocking_call),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
