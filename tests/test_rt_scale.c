/* test_rt_scale.c -- a million live processes, and their memory. */
#include "rt_test.h"

static void scale_root(void *arg) {
    long n = (long)(intptr_t)arg;
    tr_stats before, after;
    tr_get_stats(&before);
    tr_pid *pids = malloc((size_t)n * sizeof *pids);
    for (long i = 0; i < n; i++) {
        pids[i] = tr_spawn(rt_wait_any, NULL);
        CHECK(pids[i] != 0);
    }
    /* let every one of them run into its receive and park */
    for (int tries = 0; tries < 600; tries++) {
        tr_proc_info in;
        if (tr_process_info(pids[n - 1], &in) == 0 && in.state == TR_PROC_WAITING &&
            tr_process_info(pids[n / 2], &in) == 0 && in.state == TR_PROC_WAITING)
            break;
        tr_sleep(50);
    }
    tr_sleep(100);
    tr_get_stats(&after);
    CHECK(after.processes == (size_t)n + 1);
    double per = (double)(after.process_memory - before.process_memory) / (double)n;
    print_message("%ld idle processes: %.0f bytes each (runtime accounting)\n", n, per);
    CHECK(per < 2048); /* well under a page: the stacks were copied off */
    /* and they all still work: wake every one, wait until all are gone */
    for (long i = 0; i < n; i++) tr_send(pids[i], 1, NULL, 0);
    for (int tries = 0; tries < 1200; tries++) {
        tr_get_stats(&after);
        if (after.processes == 1) break;
        tr_sleep(50);
    }
    CHECK(after.processes == 1);
    free(pids);
}

static void test_one_million_processes(void **s) {
    (void)s;
    rt_run(2, scale_root, (void *)(intptr_t)rt_scaled(1000000));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_million_processes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
