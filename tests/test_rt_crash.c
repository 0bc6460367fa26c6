/* test_rt_crash.c -- let it crash: faults end only the faulting process, with a reason
 * that says what happened, and the runtime carries on. */
#include "rt_test.h"

#include <signal.h>

typedef enum { C_CRASH, C_ASSERT, C_SEGV, C_OVERFLOW, C_FPE, C_ILL, C_BUS } crash_kind;

static volatile int depth_limit = 1 << 30; /* never reached: the stack ends first */

__attribute__((noinline)) static int recurse(volatile char *prev, int depth) {
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[511] = prev ? prev[0] : 0;
    if (depth >= depth_limit) return 0;
    return recurse(frame, depth + 1) + frame[3];
}

static volatile uintptr_t bad_address = 16;

/* Faults made on purpose: hidden from UBSan, which would report them before the CPU
 * does (the point here is the hardware fault). */
__attribute__((no_sanitize("undefined"))) static void do_crash(crash_kind k) {
    volatile int zero = 0;
    switch (k) {
    case C_CRASH:
        tr_crash("bad page %d", 7);
    case C_ASSERT:
        TR_ASSERT(1 + 1 == 3);
        break;
    case C_SEGV:
        *(volatile int *)bad_address = 1;
        break;
    case C_OVERFLOW:
        recurse(NULL, 0);
        break;
    case C_FPE: {
        volatile int r = 10 / zero;
        (void)r;
        break;
    }
    case C_ILL:
        __builtin_trap();
    case C_BUS:
        raise(SIGBUS); /* delivered synchronously to the raising thread */
        break;
    }
}

static void crasher(void *arg) {
    /* Park once first, so the crash hits a process that has been switched out and
     * back (its frames were copied off the shared stack and restored). */
    tr_msg_free(tr_receive(TR_INFINITY));
    do_crash((crash_kind)(intptr_t)arg);
}

static const char *crash_reason(crash_kind k, char *buf, size_t n) {
    tr_ref r;
    tr_pid p = tr_spawn_monitor(crasher, (void *)(intptr_t)k, &r);
    tr_send(p, 1, NULL, 0);
    return rt_await_down(r, buf, n, 10000);
}

static void crash_root(void *arg) {
    (void)arg;
    char why[128];
    CHECK(strcmp(crash_reason(C_CRASH, why, sizeof why), "bad page 7") == 0);
    CHECK(strncmp(crash_reason(C_ASSERT, why, sizeof why), "assertion failed: 1 + 1 == 3 (", 30) == 0);
    CHECK(strcmp(crash_reason(C_SEGV, why, sizeof why), "signal SIGSEGV") == 0);
    CHECK(strcmp(crash_reason(C_OVERFLOW, why, sizeof why), "stack_overflow") == 0);
    CHECK(strcmp(crash_reason(C_FPE, why, sizeof why), "signal SIGFPE") == 0);
    CHECK(strcmp(crash_reason(C_ILL, why, sizeof why), "signal SIGILL") == 0);
    CHECK(strcmp(crash_reason(C_SEGV, why, sizeof why), "signal SIGSEGV") == 0); /* again */
    /* the runtime carries on: spawn and talk to a process after all that */
    tr_ref r;
    tr_pid p = tr_spawn_monitor(rt_wait_any, NULL, &r);
    tr_send(p, 1, NULL, 0);
    CHECK(strcmp(rt_await_down(r, why, sizeof why, 5000), "normal") == 0);
}

static void test_faults_end_only_the_faulting_process(void **s) {
    (void)s;
    rt_run(2, crash_root, NULL);
}

static void linked_crash_root(void *arg) {
    (void)arg;
    tr_trap_exit(true);
    tr_pid p = tr_spawn_link(crasher, (void *)(intptr_t)C_SEGV);
    tr_send(p, 1, NULL, 0);
    tr_msg *m = tr_receive(10000);
    CHECK(m && m->kind == TR_MSG_EXIT && m->from == p && strcmp(tr_reason_text(m->reason), "signal SIGSEGV") == 0);
    tr_msg_free(m);
}

static void test_links_see_the_crash_reason(void **s) {
    (void)s;
    rt_run(2, linked_crash_root, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_faults_end_only_the_faulting_process),
        cmocka_unit_test(test_links_see_the_crash_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
