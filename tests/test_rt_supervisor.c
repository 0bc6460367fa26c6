/* test_rt_supervisor.c -- supervisors: start order and reverse stop order, each
 * strategy's restart set and order, restart types, restart intensity and its
 * propagation up a tree, shutdown timeouts escalating to kill, the child API, and the
 * dynamic supervisor. Bodies run as root processes; failures are asserted after. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tr_otp.h>

/* ---------------------------------------------------------------- recording */

typedef struct t_ctx t_ctx;

typedef struct worker_cfg {
    t_ctx *t;
    char name[8];
    bool fail_init;
} worker_cfg;

struct t_ctx {
    pthread_mutex_t lock;
    int failures;
    char first[256];
    char log[4096]; /* " start:a stop:a ..." */
    worker_cfg cfg[8];
};

static void check_(t_ctx *t, bool ok, const char *what, int line) {
    if (ok) return;
    pthread_mutex_lock(&t->lock);
    if (!t->failures++) snprintf(t->first, sizeof t->first, "line %d: %s", line, what);
    fprintf(stderr, "    check failed at line %d: %s\n", line, what);
    pthread_mutex_unlock(&t->lock);
}
#define CHECK(t, cond) check_((t), (cond), #cond, __LINE__)

static void run(tr_fn body, t_ctx *t) {
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->lock, NULL);
    const char *names[8] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    for (int i = 0; i < 8; i++) {
        t->cfg[i].t = t;
        strcpy(t->cfg[i].name, names[i]);
    }
    int rc = tr_run(&(tr_config){.schedulers = 2}, body, t, NULL);
    pthread_mutex_destroy(&t->lock);
    if (t->failures) print_error("%d failure(s), first at %s\nlog:%s\n", t->failures, t->first, t->log);
    assert_int_equal(t->failures, 0);
    assert_int_equal(rc, 0);
}

static void log_event(t_ctx *t, const char *what, const char *name) {
    pthread_mutex_lock(&t->lock);
    size_t n = strlen(t->log);
    snprintf(t->log + n, sizeof t->log - n, " %s:%s", what, name);
    pthread_mutex_unlock(&t->lock);
}

static void log_clear(t_ctx *t) {
    pthread_mutex_lock(&t->lock);
    t->log[0] = 0;
    pthread_mutex_unlock(&t->lock);
}

/* Waits up to a second for the log to read expect; true if it did. */
static bool log_is(t_ctx *t, const char *expect) {
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&t->lock);
        bool same = strcmp(t->log, expect) == 0;
        pthread_mutex_unlock(&t->lock);
        if (same) return true;
        tr_sleep(1);
    }
    fprintf(stderr, "    log is '%s', expected '%s'\n", t->log, expect);
    return false;
}

/* ---------------------------------------------------------------- the worker */

enum { CRASH = 1, STOP_NORMAL };

typedef struct worker {
    worker_cfg *cfg;
} worker;

static void w_init(void *arg, void **state, tr_gen_ret *out) {
    worker_cfg *cfg = arg;
    if (cfg->fail_init) {
        tr_gen_ret_stop(out, tr_reason_new("cannot start %s", cfg->name));
        return;
    }
    tr_trap_exit(true); /* so a shutdown runs terminate, which logs the stop */
    worker *w = malloc(sizeof *w);
    w->cfg = cfg;
    *state = w;
    log_event(cfg->t, "start", cfg->name);
}

static void w_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    (void)req, (void)from, (void)state;
    tr_gen_ret_reply(out, NULL, 0);
}

static void w_cast(const tr_msg *req, void *state, tr_gen_ret *out) {
    worker *w = state;
    if (req->tag == CRASH) {
        free(w);
        tr_crash("crashed on purpose");
    }
    if (req->tag == STOP_NORMAL) tr_gen_ret_stop(out, NULL);
}

static void w_terminate(const tr_reason *reason, void *state) {
    worker *w = state;
    log_event(w->cfg->t, tr_reason_eq(reason, TR_SHUTDOWN) ? "stop" : "end", w->cfg->name);
    free(w);
}

static const tr_gen_callbacks worker_cb = {
    .entry = "test_worker", .init = w_init, .handle_call = w_call, .handle_cast = w_cast, .terminate = w_terminate};

static int start_worker(void *arg, tr_pid *pid, const tr_reason **why) {
    return tr_gen_start_link(&worker_cb, arg, NULL, pid, why);
}

/* A child that traps exits and ignores every message, shutdown included. */
static void stubborn(void *arg) {
    (void)arg;
    tr_trap_exit(true);
    for (;;) tr_msg_free(tr_receive(TR_INFINITY));
}

static int start_stubborn(void *arg, tr_pid *pid, const tr_reason **why) {
    (void)arg, (void)why;
    *pid = tr_spawn_link(stubborn, NULL);
    return *pid ? 0 : TR_ELIMIT;
}

static tr_child_spec wspec(t_ctx *t, int i, tr_restart restart) {
    return (tr_child_spec){.id = t->cfg[i].name, .start = start_worker, .arg = &t->cfg[i], .restart = restart};
}

static tr_pid child_pid(tr_pid sup, const char *id) {
    tr_sup_child kids[16];
    int n = tr_sup_which_children(sup, kids, 16);
    for (int i = 0; i < n && i < 16; i++)
        if (strcmp(kids[i].id, id) == 0) return kids[i].pid;
    return 0;
}

static tr_pid start_sup(t_ctx *t, tr_strategy strategy, int intensity, const tr_child_spec *kids, size_t n) {
    tr_sup_spec spec = {.strategy = strategy, .intensity = intensity, .period_s = 5, .children = kids, .nchildren = n};
    tr_pid sup = 0;
    const tr_reason *why = NULL;
    int rc = tr_sup_start_link(&spec, &sup, &why);
    CHECK(t, rc == 0);
    if (why) fprintf(stderr, "    start failed: %s\n", tr_reason_text(why));
    tr_reason_unref(why);
    return sup;
}

static void stop_sup(t_ctx *t, tr_pid sup) { CHECK(t, tr_sup_shutdown(sup, TR_SHUTDOWN_INFINITY, NULL) == 0); }

/* ---------------------------------------------------------------- strategies */

static void body_order(void *arg) {
    t_ctx *t = arg;
    tr_child_spec kids[3] = {wspec(t, 0, TR_PERMANENT), wspec(t, 1, TR_PERMANENT), wspec(t, 2, TR_PERMANENT)};
    tr_pid sup = start_sup(t, TR_ONE_FOR_ONE, 3, kids, 3);
    CHECK(t, log_is(t, " start:a start:b start:c"));
    tr_sup_child which[4];
    CHECK(t, tr_sup_which_children(sup, which, 4) == 3);
    CHECK(t, strcmp(which[0].id, "a") == 0 && strcmp(which[2].id, "c") == 0 && which[1].pid != 0);
    stop_sup(t, sup);
    CHECK(t, log_is(t, " start:a start:b start:c stop:c stop:b stop:a"));
    CHECK(t, !tr_is_alive(which[0].pid) && !tr_is_alive(which[2].pid));
}

static void test_children_start_in_order_and_stop_in_reverse(void **state) {
    (void)state;
    t_ctx t;
    run(body_order, &t);
}

typedef struct strategy_case {
    tr_strategy strategy;
    const char *after_crash_of_b; /* the log after b crashes */
    bool a_same, c_same;          /* whether a and c keep their pids */
} strategy_case;

static void strategy_body(t_ctx *t, const strategy_case *sc) {
    tr_child_spec kids[3] = {wspec(t, 0, TR_PERMANENT), wspec(t, 1, TR_PERMANENT), wspec(t, 2, TR_PERMANENT)};
    tr_pid sup = start_sup(t, sc->strategy, 3, kids, 3);
    CHECK(t, log_is(t, " start:a start:b start:c"));
    tr_pid a = child_pid(sup, "a"), b = child_pid(sup, "b"), c = child_pid(sup, "c");
    log_clear(t);
    tr_gen_cast(b, CRASH, NULL, 0);
    CHECK(t, log_is(t, sc->after_crash_of_b));
    CHECK(t, (child_pid(sup, "a") == a) == sc->a_same);
    CHECK(t, (child_pid(sup, "c") == c) == sc->c_same);
    tr_pid nb = child_pid(sup, "b");
    CHECK(t, nb != 0 && nb != b && tr_is_alive(nb));
    stop_sup(t, sup);
}

static void body_one_for_one(void *arg) {
    strategy_body(arg, &(strategy_case){TR_ONE_FOR_ONE, " start:b", true, true});
}
static void body_one_for_all(void *arg) {
    strategy_body(arg, &(strategy_case){TR_ONE_FOR_ALL, " stop:c stop:a start:a start:b start:c", false, false});
}
static void body_rest_for_one(void *arg) {
    strategy_body(arg, &(strategy_case){TR_REST_FOR_ONE, " stop:c start:b start:c", true, false});
}

static void test_one_for_one_restarts_only_the_failed_child(void **state) {
    (void)state;
    t_ctx t;
    run(body_one_for_one, &t);
}

static void test_one_for_all_stops_others_in_reverse_then_restarts_all_in_order(void **state) {
    (void)state;
    t_ctx t;
    run(body_one_for_all, &t);
}

static void test_rest_for_one_restarts_the_failed_child_and_later_ones(void **state) {
    (void)state;
    t_ctx t;
    run(body_rest_for_one, &t);
}

/* ---------------------------------------------------------------- restart types */

static void body_restart_types(void *arg) {
    t_ctx *t = arg;
    tr_child_spec kids[3] = {wspec(t, 0, TR_PERMANENT), wspec(t, 1, TR_TRANSIENT), wspec(t, 2, TR_TEMPORARY)};
    tr_pid sup = start_sup(t, TR_ONE_FOR_ONE, 10, kids, 3);
    CHECK(t, log_is(t, " start:a start:b start:c"));
    log_clear(t);
    /* A normal end: permanent restarts, transient and temporary do not. */
    tr_gen_cast(child_pid(sup, "a"), STOP_NORMAL, NULL, 0);
    CHECK(t, log_is(t, " end:a start:a"));
    tr_gen_cast(child_pid(sup, "b"), STOP_NORMAL, NULL, 0);
    tr_gen_cast(child_pid(sup, "c"), STOP_NORMAL, NULL, 0);
    CHECK(t, log_is(t, " end:a start:a end:b end:c"));
    tr_sup_counts n;
    CHECK(t, tr_sup_count_children(sup, &n) == 0);
    CHECK(t, n.specs == 2 && n.active == 1 && n.workers == 2); /* the temporary spec is gone */
    CHECK(t, child_pid(sup, "b") == 0);
    /* An abnormal end: transient restarts, temporary does not (and goes). */
    tr_pid b = 0;
    CHECK(t, tr_sup_restart_child(sup, "b", &b, NULL) == 0 && b != 0);
    log_clear(t);
    tr_gen_cast(b, CRASH, NULL, 0);
    CHECK(t, log_is(t, " start:b"));
    tr_child_spec tmp = wspec(t, 2, TR_TEMPORARY);
    tr_pid c = 0;
    CHECK(t, tr_sup_start_child(sup, &tmp, &c, NULL) == 0 && c != 0);
    tr_gen_cast(c, CRASH, NULL, 0);
    CHECK(t, log_is(t, " start:b start:c"));
    tr_sleep(10);
    CHECK(t, tr_sup_count_children(sup, &n) == 0 && n.specs == 2 && n.active == 2);
    stop_sup(t, sup);
}

static void test_permanent_transient_temporary(void **state) {
    (void)state;
    t_ctx t;
    run(body_restart_types, &t);
}

/* ---------------------------------------------------------------- intensity */

static void body_intensity(void *arg) {
    t_ctx *t = arg;
    tr_trap_exit(true);
    tr_child_spec kids[2] = {wspec(t, 0, TR_PERMANENT), wspec(t, 1, TR_PERMANENT)};
    tr_pid sup = start_sup(t, TR_ONE_FOR_ONE, 2, kids, 2);
    tr_ref mref = tr_monitor(sup);
    CHECK(t, log_is(t, " start:a start:b"));
    log_clear(t);
    tr_gen_cast(child_pid(sup, "b"), CRASH, NULL, 0);
    CHECK(t, log_is(t, " start:b"));
    tr_gen_cast(child_pid(sup, "b"), CRASH, NULL, 0);
    CHECK(t, log_is(t, " start:b start:b"));
    tr_gen_cast(child_pid(sup, "b"), CRASH, NULL, 0); /* the third within the period: too many */
    tr_msg *down = tr_receive_ref(mref, 2000);
    CHECK(t, down && tr_reason_eq(down->reason, TR_SHUTDOWN));
    tr_msg_free(down);
    CHECK(t, log_is(t, " start:b start:b stop:a")); /* it stopped its other children first */
    for (tr_msg *m; (m = tr_receive(0));) tr_msg_free(m); /* the EXIT from our linked sup */
}

static void test_intensity_exceeded_stops_children_and_exits_shutdown(void **state) {
    (void)state;
    t_ctx t;
    run(body_intensity, &t);
}

static int start_inner(void *arg, tr_pid *pid, const tr_reason **why) {
    t_ctx *t = arg;
    static const tr_sup_spec proto = {.strategy = TR_ONE_FOR_ONE, .intensity = 0, .period_s = 5};
    tr_sup_spec spec = proto;
    /* The child spec array must outlive the start call only: the supervisor copies it. */
    tr_child_spec kids[1] = {{.id = "w", .start = start_worker, .arg = &t->cfg[3]}};
    spec.children = kids;
    spec.nchildren = 1;
    return tr_sup_start_link(&spec, pid, why);
}

static void body_propagation(void *arg) {
    t_ctx *t = arg;
    tr_trap_exit(true);
    tr_child_spec kids[2] = {wspec(t, 0, TR_PERMANENT),
                             {.id = "inner", .start = start_inner, .arg = t, .type = TR_SUPERVISOR}};
    tr_pid top = start_sup(t, TR_ONE_FOR_ONE, 1, kids, 2);
    tr_ref mref = tr_monitor(top);
    CHECK(t, log_is(t, " start:a start:d"));
    tr_pid inner = child_pid(top, "inner");
    tr_pid w = child_pid(inner, "w");
    log_clear(t);
    /* The inner supervisor allows no restart: it gives up, the top restarts it. */
    tr_gen_cast(w, CRASH, NULL, 0);
    CHECK(t, log_is(t, " start:d"));
    tr_pid inner2 = child_pid(top, "inner");
    CHECK(t, inner2 != 0 && inner2 != inner && !tr_is_alive(inner));
    /* Again: now the top has had one restart too many and gives up as well. */
    tr_gen_cast(child_pid(inner2, "w"), CRASH, NULL, 0);
    tr_msg *down = tr_receive_ref(mref, 2000);
    CHECK(t, down && tr_reason_eq(down->reason, TR_SHUTDOWN));
    tr_msg_free(down);
    CHECK(t, log_is(t, " start:d stop:a"));
    for (tr_msg *m; (m = tr_receive(0));) tr_msg_free(m);
}

static void test_intensity_exceeded_propagates_up_the_tree(void **state) {
    (void)state;
    t_ctx t;
    run(body_propagation, &t);
}

/* ---------------------------------------------------------------- shutdown */

static void body_shutdown(void *arg) {
    t_ctx *t = arg;
    tr_child_spec kids[3] = {
        {.id = "stubborn", .start = start_stubborn, .shutdown_ms = 50},
        {.id = "brutal", .start = start_worker, .arg = &t->cfg[1], .shutdown_ms = TR_SHUTDOWN_BRUTAL},
        {.id = "polite", .start = start_worker, .arg = &t->cfg[2], .shutdown_ms = 1000},
    };
    tr_pid sup = start_sup(t, TR_ONE_FOR_ONE, 3, kids, 3);
    CHECK(t, log_is(t, " start:b start:c"));
    tr_pid s = child_pid(sup, "stubborn");
    int64_t t0 = tr_now_ms();
    CHECK(t, tr_sup_terminate_child(sup, "stubborn") == 0);
    int64_t took = tr_now_ms() - t0;
    CHECK(t, took >= 50 && took < 1000); /* it ignored shutdown, so it was killed at 50 ms */
    CHECK(t, !tr_is_alive(s) && child_pid(sup, "stubborn") == 0);
    /* Brutal kill: no terminate; a polite child's terminate runs. */
    tr_pid b = child_pid(sup, "brutal");
    CHECK(t, tr_sup_terminate_child(sup, "brutal") == 0 && !tr_is_alive(b));
    CHECK(t, tr_sup_terminate_child(sup, "polite") == 0);
    CHECK(t, log_is(t, " start:b start:c stop:c"));
    stop_sup(t, sup);
    /* tr_sup_shutdown on its own says how the end went. */
    tr_pid lone = tr_spawn_link(stubborn, NULL);
    const tr_reason *why = NULL;
    CHECK(t, tr_sup_shutdown(lone, 20, &why) == TR_ETIMEDOUT && !tr_is_alive(lone));
    tr_pid dead = tr_spawn(stubborn, NULL);
    tr_exit_pid(dead, TR_KILL);
    tr_sleep(5);
    CHECK(t, tr_sup_shutdown(dead, 20, &why) == 0); /* already gone: noproc is fine */
}

static void test_shutdown_timeout_escalates_to_kill(void **state) {
    (void)state;
    t_ctx t;
    run(body_shutdown, &t);
}

/* ---------------------------------------------------------------- the child API */

static void body_child_api(void *arg) {
    t_ctx *t = arg;
    tr_child_spec kids[1] = {wspec(t, 0, TR_PERMANENT)};
    tr_pid sup = start_sup(t, TR_ONE_FOR_ONE, 3, kids, 1);
    tr_child_spec e = wspec(t, 4, TR_PERMANENT);
    tr_pid pe = 0, again = 0;
    const tr_reason *why = NULL;
    CHECK(t, tr_sup_start_child(sup, &e, &pe, &why) == 0 && pe != 0 && why == NULL);
    CHECK(t, tr_sup_start_child(sup, &e, &again, &why) == TR_EEXIST && again == 0);
    CHECK(t, tr_sup_restart_child(sup, "e", &again, &why) == TR_EBUSY);
    CHECK(t, tr_sup_delete_child(sup, "e") == TR_EBUSY);
    CHECK(t, tr_sup_terminate_child(sup, "e") == 0 && !tr_is_alive(pe));
    CHECK(t, child_pid(sup, "e") == 0);
    CHECK(t, tr_sup_restart_child(sup, "e", &again, &why) == 0 && again != 0 && again != pe);
    CHECK(t, tr_sup_terminate_child(sup, "e") == 0);
    CHECK(t, tr_sup_delete_child(sup, "e") == 0);
    CHECK(t, tr_sup_delete_child(sup, "e") == TR_EBADNAME);
    CHECK(t, tr_sup_terminate_child(sup, "nope") == TR_EBADNAME);
    /* A child that fails to start leaves no spec behind. */
    t->cfg[5].fail_init = true;
    tr_child_spec f = wspec(t, 5, TR_PERMANENT);
    CHECK(t, tr_sup_start_child(sup, &f, &again, &why) == TR_OTP_EINIT);
    CHECK(t, why && strcmp(tr_reason_text(why), "cannot start f") == 0);
    tr_reason_unref(why);
    tr_sup_counts n;
    CHECK(t, tr_sup_count_children(sup, &n) == 0 && n.specs == 1 && n.active == 1);
    CHECK(t, log_is(t, " start:a start:e stop:e start:e stop:e"));
    stop_sup(t, sup);
}

static void test_start_terminate_restart_delete_which_count(void **state) {
    (void)state;
    t_ctx t;
    run(body_child_api, &t);
}

static void body_start_failure(void *arg) {
    t_ctx *t = arg;
    t->cfg[1].fail_init = true;
    tr_child_spec kids[3] = {wspec(t, 0, TR_PERMANENT), wspec(t, 1, TR_PERMANENT), wspec(t, 2, TR_PERMANENT)};
    tr_sup_spec spec = {.strategy = TR_ONE_FOR_ONE, .intensity = 1, .children = kids, .nchildren = 3};
    tr_pid sup = 0;
    const tr_reason *why = NULL;
    CHECK(t, tr_sup_start_link(&spec, &sup, &why) == TR_OTP_EINIT && sup == 0);
    CHECK(t, why && strstr(tr_reason_text(why), "failed_to_start_child b") != NULL);
    tr_reason_unref(why);
    CHECK(t, log_is(t, " start:a stop:a"));
    CHECK(t, tr_mailbox_len() == 0);
}

static void test_failed_child_start_fails_the_supervisor_start(void **state) {
    (void)state;
    t_ctx t;
    run(body_start_failure, &t);
}

/* ---------------------------------------------------------------- dynamic supervisor */

static void quiet(void *arg) {
    (void)arg;
    for (;;) tr_msg_free(tr_receive(TR_INFINITY));
}

static int start_dyn(void *arg, const void *extra, size_t len, tr_pid *pid, const tr_reason **why) {
    (void)arg, (void)why;
    if (len == 4 && memcmp(extra, "fail", 4) == 0) return TR_EINVAL;
    *pid = tr_spawn_link(quiet, NULL);
    return *pid ? 0 : TR_ELIMIT;
}

static void body_dynsup(void *arg) {
    t_ctx *t = arg;
    enum { N = 2000 };
    tr_dynsup_spec spec = {.start = start_dyn, .restart = TR_TRANSIENT, .intensity = 1000, .period_s = 5,
                           .max_children = N, .priority = TR_PRIORITY_HIGH};
    tr_pid sup = 0;
    CHECK(t, tr_dynsup_start_link(&spec, &sup, NULL) == 0);
    tr_proc_info in; /* the supervisor is high; its children are not */
    CHECK(t, tr_process_info(sup, &in) == 0 && in.priority == TR_PRIORITY_HIGH);
    tr_stats before;
    tr_get_stats(&before);
    tr_pid *kids = malloc(N * sizeof *kids);
    /* (how fast: build/bench/bench_otp dynsup N; no timing assertions in tests) */
    for (int i = 0; i < N; i++) CHECK(t, tr_dynsup_start_child(sup, &i, sizeof i, &kids[i], NULL) == 0);
    CHECK(t, tr_process_info(kids[0], &in) == 0 && in.priority == TR_PRIORITY_NORMAL);
    tr_pid extra = 0;
    CHECK(t, tr_dynsup_start_child(sup, NULL, 0, &extra, NULL) == TR_ELIMIT);
    tr_sup_counts n;
    CHECK(t, tr_sup_count_children(sup, &n) == 0 && n.active == N && n.workers == N);
    /* Transient: a crash (or a kill) restarts the child. */
    tr_reason *boom = tr_reason_new("boom");
    for (int i = 0; i < 100; i++) tr_exit_pid(kids[i], boom);
    tr_reason_unref(boom);
    for (int i = 100; i < 150; i++) tr_exit_pid(kids[i], TR_KILL);
    tr_sleep(50);
    CHECK(t, tr_sup_count_children(sup, &n) == 0 && n.active == N);
    CHECK(t, tr_dynsup_terminate_child(sup, kids[500]) == 0 && !tr_is_alive(kids[500]));
    CHECK(t, tr_dynsup_terminate_child(sup, kids[500]) == TR_ENOPROC);
    CHECK(t, tr_sup_count_children(sup, &n) == 0 && n.active == N - 1);
    int listed = tr_sup_which_children(sup, NULL, 0);
    CHECK(t, listed == N - 1);
    const tr_reason *why = NULL;
    CHECK(t, tr_dynsup_start_child(sup, "fail", 4, &extra, &why) == TR_EINVAL);
    tr_reason_unref(why);
    CHECK(t, tr_sup_shutdown(sup, TR_SHUTDOWN_INFINITY, NULL) == 0);
    tr_sleep(10);
    tr_stats after;
    tr_get_stats(&after);
    CHECK(t, after.processes < before.processes); /* every child went with it */
    CHECK(t, !tr_is_alive(kids[1000]));
    free(kids);
}

static void test_dynamic_supervisor_with_thousands_of_children(void **state) {
    (void)state;
    t_ctx t;
    run(body_dynsup, &t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_children_start_in_order_and_stop_in_reverse),
        cmocka_unit_test(test_one_for_one_restarts_only_the_failed_child),
        cmocka_unit_test(test_one_for_all_stops_others_in_reverse_then_restarts_all_in_order),
        cmocka_unit_test(test_rest_for_one_restarts_the_failed_child_and_later_ones),
        cmocka_unit_test(test_permanent_transient_temporary),
        cmocka_unit_test(test_intensity_exceeded_stops_children_and_exits_shutdown),
        cmocka_unit_test(test_intensity_exceeded_propagates_up_the_tree),
        cmocka_unit_test(test_shutdown_timeout_escalates_to_kill),
        cmocka_unit_test(test_start_terminate_restart_delete_which_count),
        cmocka_unit_test(test_failed_child_start_fails_the_supervisor_start),
        cmocka_unit_test(test_dynamic_supervisor_with_thousands_of_children),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
