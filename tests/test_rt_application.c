/* test_rt_application.c -- tr_app_run: normal stop in reverse start order, a top
 * supervisor that gives up, stop reasons, a failed start, and the tree dump. Each
 * test calls tr_app_run from the test's thread, as main would; a driver process
 * spawned by the `started` hook plays the outside world. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <tr_otp.h>

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
    char log[1024];
    char dump[4096];
    size_t dumped;
    worker_cfg cfg[4];
    tr_child_spec kids[4];
    const char *app;
    const tr_reason *stop_with; /* what the driver asks the application to stop with */
    bool crash_b;               /* the driver crashes b instead of stopping */
};

static void check_(t_ctx *t, bool ok, const char *what, int line) {
    if (ok) return;
    pthread_mutex_lock(&t->lock);
    if (!t->failures++) snprintf(t->first, sizeof t->first, "line %d: %s", line, what);
    fprintf(stderr, "    check failed at line %d: %s\n", line, what);
    pthread_mutex_unlock(&t->lock);
}
#define CHECK(t, cond) check_((t), (cond), #cond, __LINE__)

static void log_event(t_ctx *t, const char *what, const char *name) {
    pthread_mutex_lock(&t->lock);
    size_t n = strlen(t->log);
    snprintf(t->log + n, sizeof t->log - n, " %s:%s", what, name);
    pthread_mutex_unlock(&t->lock);
}

/* ---------------------------------------------------------------- workers */

enum { CRASH = 1 };

static void w_init(void *arg, void **state, tr_gen_ret *out) {
    worker_cfg *cfg = arg;
    if (cfg->fail_init) {
        tr_gen_ret_stop(out, tr_reason_new("no config for %s", cfg->name));
        return;
    }
    tr_trap_exit(true);
    *state = cfg;
    log_event(cfg->t, "start", cfg->name);
}

static void w_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    (void)req, (void)from, (void)state;
    tr_gen_ret_reply(out, NULL, 0);
}

static void w_cast(const tr_msg *req, void *state, tr_gen_ret *out) {
    (void)state, (void)out;
    if (req->tag == CRASH) tr_crash("crashed on purpose");
}

static void w_terminate(const tr_reason *reason, void *state) {
    worker_cfg *cfg = state;
    (void)reason;
    log_event(cfg->t, "stop", cfg->name);
}

static const tr_gen_callbacks worker_cb = {
    .entry = "app_worker", .init = w_init, .handle_call = w_call, .handle_cast = w_cast, .terminate = w_terminate};

static int start_worker(void *arg, tr_pid *pid, const tr_reason **why) {
    return tr_gen_start_link(&worker_cb, arg, NULL, pid, why);
}

static void idle(void *arg) {
    (void)arg;
    for (;;) tr_msg_free(tr_receive(TR_INFINITY));
}

static int start_idle(void *arg, const void *extra, size_t len, tr_pid *pid, const tr_reason **why) {
    (void)arg, (void)extra, (void)len, (void)why;
    *pid = tr_spawn_opt(idle, NULL, &(tr_spawn_opts){.entry = "idle_child", .link = true}, NULL);
    return *pid ? 0 : TR_ELIMIT;
}

static int start_pool(void *arg, tr_pid *pid, const tr_reason **why) {
    (void)arg;
    tr_dynsup_spec spec = {.start = start_idle, .restart = TR_TEMPORARY, .intensity = 5, .period_s = 5,
                           .name = "pool"};
    return tr_dynsup_start_link(&spec, pid, why);
}

/* ---------------------------------------------------------------- the driver */

typedef struct driver_arg {
    t_ctx *t;
    tr_pid top;
} driver_arg;

static tr_pid child_pid(tr_pid sup, const char *id) {
    tr_sup_child kids[8];
    int n = tr_sup_which_children(sup, kids, 8);
    for (int i = 0; i < n && i < 8; i++)
        if (strcmp(kids[i].id, id) == 0) return kids[i].pid;
    return 0;
}

static void driver(void *arg) {
    driver_arg d = *(driver_arg *)arg;
    free(arg);
    t_ctx *t = d.t;
    CHECK(t, tr_app_stop("no such app", NULL) == TR_EBADNAME);
    tr_pid pool = tr_whereis("pool");
    if (pool) { /* the dump test: a few dynamic children, then the tree as text */
        for (int i = 0; i < 3; i++) CHECK(t, tr_dynsup_start_child(pool, NULL, 0, NULL, NULL) == 0);
        /* Let the pool and its new children settle into receive before they are looked
         * at (a snapshot of a process that is parking races in the runtime: see
         * sched.c's plain write of waiting_in, reported to the runtime's owner). */
        tr_sleep(50);
        FILE *f = fmemopen(t->dump, sizeof t->dump - 1, "w");
        t->dumped = tr_sup_dump_tree(f, d.top);
        fclose(f);
    }
    if (t->crash_b) tr_gen_cast(child_pid(d.top, "b"), CRASH, NULL, 0);
    else CHECK(t, tr_app_stop(t->app, t->stop_with) == 0);
}

static void started(tr_pid top, void *arg) {
    driver_arg *d = malloc(sizeof *d);
    *d = (driver_arg){arg, top};
    tr_spawn(driver, d);
}

/* Runs an application of workers a, b, c (plus the pool when with_pool) and returns
 * tr_app_run's code; *reason gets its reason. */
static int run_app(t_ctx *t, int intensity, bool with_pool, const tr_reason **reason) {
    pthread_mutex_init(&t->lock, NULL);
    const char *names[4] = {"a", "b", "c", "d"};
    size_t n = 3;
    for (int i = 0; i < 4; i++) {
        t->cfg[i].t = t;
        strcpy(t->cfg[i].name, names[i]);
        t->kids[i] = (tr_child_spec){.id = names[i], .start = start_worker, .arg = &t->cfg[i]};
    }
    if (with_pool) t->kids[n++] = (tr_child_spec){.id = "pool", .start = start_pool, .type = TR_SUPERVISOR};
    t->app = "test_app";
    tr_app_spec spec = {
        .name = t->app,
        .top = {.strategy = TR_ONE_FOR_ONE, .intensity = intensity, .period_s = 5, .children = t->kids, .nchildren = n},
        .runtime = {.schedulers = 2},
        .started = started,
        .arg = t,
    };
    int rc = tr_app_run(&spec, reason);
    pthread_mutex_destroy(&t->lock);
    if (t->failures) print_error("%d failure(s), first at %s\nlog:%s\n", t->failures, t->first, t->log);
    return rc;
}

/* ---------------------------------------------------------------- tests */

static void test_normal_stop_shuts_children_down_in_reverse_order(void **state) {
    (void)state;
    t_ctx t = {0};
    const tr_reason *reason = NULL;
    int rc = run_app(&t, 3, false, &reason);
    assert_int_equal(t.failures, 0);
    assert_int_equal(rc, 0);
    assert_string_equal(tr_reason_text(reason), "normal");
    assert_string_equal(t.log, " start:a start:b start:c stop:c stop:b stop:a");
    tr_reason_unref(reason);
}

static void test_top_supervisor_giving_up_ends_the_application(void **state) {
    (void)state;
    t_ctx t = {.crash_b = true};
    const tr_reason *reason = NULL;
    int rc = run_app(&t, 0, false, &reason);
    assert_int_equal(t.failures, 0);
    assert_int_equal(rc, 1);
    assert_string_equal(tr_reason_text(reason), "shutdown");
    assert_string_equal(t.log, " start:a start:b start:c stop:c stop:a");
    tr_reason_unref(reason);
}

static void test_stop_reason_decides_the_outcome(void **state) {
    (void)state;
    t_ctx t = {0};
    tr_reason *fatal = tr_reason_new("fatal: disk full");
    t.stop_with = fatal;
    const tr_reason *reason = NULL;
    int rc = run_app(&t, 3, false, &reason);
    assert_int_equal(t.failures, 0);
    assert_int_equal(rc, 1);
    assert_string_equal(tr_reason_text(reason), "fatal: disk full");
    assert_string_equal(t.log, " start:a start:b start:c stop:c stop:b stop:a");
    tr_reason_unref(reason);
    tr_reason_unref(fatal);

    t_ctx u = {0};
    tr_reason *sig = tr_reason_new("shutdown SIGINT"); /* OTP's {shutdown, _}: a normal end */
    u.stop_with = sig;
    rc = run_app(&u, 3, false, &reason);
    assert_int_equal(u.failures, 0);
    assert_int_equal(rc, 0);
    assert_string_equal(tr_reason_text(reason), "shutdown SIGINT");
    tr_reason_unref(reason);
    tr_reason_unref(sig);
}

static void test_failed_start_reports_why(void **state) {
    (void)state;
    t_ctx t = {0};
    pthread_mutex_init(&t.lock, NULL);
    t.cfg[0] = (worker_cfg){.t = &t, .name = "a"};
    t.cfg[1] = (worker_cfg){.t = &t, .name = "b", .fail_init = true};
    tr_child_spec kids[2] = {{.id = "a", .start = start_worker, .arg = &t.cfg[0]},
                             {.id = "b", .start = start_worker, .arg = &t.cfg[1]}};
    tr_app_spec spec = {.name = "failing", .top = {.intensity = 1, .children = kids, .nchildren = 2},
                        .runtime = {.schedulers = 2}};
    const tr_reason *reason = NULL;
    int rc = tr_app_run(&spec, &reason);
    pthread_mutex_destroy(&t.lock);
    assert_int_equal(rc, TR_OTP_EINIT);
    assert_non_null(strstr(tr_reason_text(reason), "failed_to_start_child b: no config for b"));
    assert_string_equal(t.log, " start:a stop:a");
    tr_reason_unref(reason);
}

static void test_tree_dump_lists_every_process_with_its_state(void **state) {
    (void)state;
    t_ctx t = {0};
    const tr_reason *reason = NULL;
    int rc = run_app(&t, 3, true, &reason);
    tr_reason_unref(reason);
    assert_int_equal(t.failures, 0);
    assert_int_equal(rc, 0);
    /* top, a, b, c, the pool and its three children */
    assert_int_equal(t.dumped, 8);
    assert_non_null(strstr(t.dump, "top <"));
    assert_non_null(strstr(t.dump, "supervisor"));
    assert_non_null(strstr(t.dump, "\n  a <"));
    assert_non_null(strstr(t.dump, "app_worker"));
    assert_non_null(strstr(t.dump, "\n  pool <"));
    assert_non_null(strstr(t.dump, "dynamic_supervisor name=pool"));
    assert_non_null(strstr(t.dump, "\n    child <"));
    assert_non_null(strstr(t.dump, "idle_child waiting:receive mbox=0"));
    assert_non_null(strstr(t.dump, " mbox=0 mem="));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normal_stop_shuts_children_down_in_reverse_order),
        cmocka_unit_test(test_top_supervisor_giving_up_ends_the_application),
        cmocka_unit_test(test_stop_reason_decides_the_outcome),
        cmocka_unit_test(test_failed_start_reports_why),
        cmocka_unit_test(test_tree_dump_lists_every_process_with_its_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
