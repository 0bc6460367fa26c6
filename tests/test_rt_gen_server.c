/* test_rt_gen_server.c -- gen_server: start/init outcomes, call/cast/info, calls
 * against dead, dying and slow servers, late replies, deferred replies, stop and
 * terminate, registered names. Each test's body runs as the root process under
 * tr_run; failures are recorded and asserted after tr_run returns (cmocka's asserts
 * must not run inside a process). */
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

typedef struct t_ctx {
    pthread_mutex_t lock;
    int failures;
    char first[256];
    char terminated[64]; /* the last terminate's reason */
    int terminate_calls;
    int timeouts;
} t_ctx;

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
    int rc = tr_run(&(tr_config){.schedulers = 2}, body, t, NULL);
    pthread_mutex_destroy(&t->lock);
    if (t->failures) print_error("%d failure(s), first at %s\n", t->failures, t->first);
    assert_int_equal(t->failures, 0);
    assert_int_equal(rc, 0);
}

static bool reason_is(const tr_reason *r, const char *text) {
    return r && strcmp(tr_reason_text(r), text) == 0;
}

/* ---------------------------------------------------------------- the test server */

enum { PING = 1, ADD, GET, SLOW, CRASH, DEFER, DEFER_OTHER, RELEASE, STOP_REPLY, DIE_NOREPLY, BIN, INFO };
enum { M_OK, M_STOP, M_IGNORE, M_CRASH, M_TRAP, M_TIMEOUT, M_SLOW_INIT };

typedef struct srv_arg {
    t_ctx *t;
    int mode;
} srv_arg;

typedef struct srv {
    t_ctx *t;
    long count;
    tr_gen_from deferred;
} srv;

/* arg is heap memory the server takes over: a process's stack is not addressable by
 * other processes (the runtime copies stacks), so it never points into the starter's. */
static srv_arg *new_arg(t_ctx *t, int mode) {
    srv_arg *a = malloc(sizeof *a);
    *a = (srv_arg){t, mode};
    return a;
}

static void srv_init(void *arg, void **state, tr_gen_ret *out) {
    srv_arg a = *(srv_arg *)arg;
    free(arg);
    switch (a.mode) {
    case M_STOP:
        tr_gen_ret_stop(out, tr_reason_new("bad config"));
        return;
    case M_IGNORE:
        out->action = TR_GEN_IGNORE;
        return;
    case M_CRASH:
        tr_crash("init blew up");
    case M_TRAP:
        tr_trap_exit(true);
        break;
    case M_TIMEOUT:
        out->timeout_ms = 20;
        break;
    case M_SLOW_INIT:
        tr_sleep(500);
        break;
    }
    srv *s = calloc(1, sizeof *s);
    s->t = a.t;
    *state = s;
}

static void reply_later(void *arg) {
    tr_gen_from from = *(tr_gen_from *)arg;
    free(arg);
    tr_sleep(10);
    tr_gen_reply(from, "from a friend", 14);
}

static void srv_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    srv *s = state;
    long n = 0;
    if (req->len == sizeof n) memcpy(&n, req->data, sizeof n);
    switch (req->tag) {
    case PING:
        tr_gen_ret_reply(out, "pong", 5);
        break;
    case ADD:
        s->count += n;
        /* fall through */
    case GET:
        tr_gen_ret_reply(out, &s->count, sizeof s->count);
        break;
    case SLOW:
        tr_sleep(n);
        tr_gen_ret_reply(out, &n, sizeof n);
        break;
    case CRASH:
        tr_crash("boom");
    case DEFER:
        s->deferred = from; /* answered by the RELEASE cast */
        break;
    case DEFER_OTHER: {
        tr_gen_from *f = malloc(sizeof *f);
        *f = from;
        tr_spawn(reply_later, f);
        break;
    }
    case STOP_REPLY:
        tr_gen_ret_stop(out, tr_reason_new("bye"));
        out->has_reply = true;
        out->reply = "last words"; /* set directly: static memory outlives the callback */
        out->reply_len = 11;
        break;
    case DIE_NOREPLY:
        tr_gen_ret_stop(out, tr_reason_new("died"));
        break;
    case BIN:
        out->action = TR_GEN_REPLY;
        out->reply_bin = tr_bin_new("binary reply", 12);
        break;
    }
}

static void srv_cast(const tr_msg *req, void *state, tr_gen_ret *out) {
    srv *s = state;
    long n = 0;
    if (req->len == sizeof n) memcpy(&n, req->data, sizeof n);
    if (req->tag == ADD) s->count += n;
    if (req->tag == RELEASE) tr_gen_reply(s->deferred, "released", 9);
    if (req->tag == SLOW) out->timeout_ms = n; /* arm a callback timeout */
}

static void srv_info(const tr_msg *m, void *state, tr_gen_ret *out) {
    srv *s = state;
    (void)out;
    if (m->kind == TR_MSG_USER && m->tag == INFO) s->count += 100;
    if (m->kind == TR_MSG_USER && m->tag == TR_GEN_TAG_TIMEOUT) {
        pthread_mutex_lock(&s->t->lock);
        s->t->timeouts++;
        pthread_mutex_unlock(&s->t->lock);
    }
}

static void srv_terminate(const tr_reason *reason, void *state) {
    srv *s = state;
    pthread_mutex_lock(&s->t->lock);
    snprintf(s->t->terminated, sizeof s->t->terminated, "%s", tr_reason_text(reason));
    s->t->terminate_calls++;
    pthread_mutex_unlock(&s->t->lock);
    free(s);
}

static const tr_gen_callbacks srv_cb = {
    .entry = "test_srv",
    .init = srv_init,
    .handle_call = srv_call,
    .handle_cast = srv_cast,
    .handle_info = srv_info,
    .terminate = srv_terminate,
};

static tr_pid start_srv(t_ctx *t, int mode, bool link) {
    tr_pid pid = 0;
    const tr_reason *why = NULL;
    int rc = link ? tr_gen_start_link(&srv_cb, new_arg(t, mode), NULL, &pid, &why)
                  : tr_gen_start(&srv_cb, new_arg(t, mode), NULL, &pid, &why);
    CHECK(t, rc == 0 && pid != 0);
    tr_reason_unref(why);
    return pid;
}

static long call_long(tr_pid pid, uint64_t tag, long n, int64_t timeout, int *rc) {
    tr_msg *reply = NULL;
    *rc = tr_gen_call(pid, tag, &n, sizeof n, timeout, &reply, NULL);
    long v = -1;
    if (*rc == 0 && reply->len == sizeof v) memcpy(&v, reply->data, sizeof v);
    tr_msg_free(reply);
    return v;
}

static int terminate_calls(t_ctx *t) {
    pthread_mutex_lock(&t->lock);
    int n = t->terminate_calls;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* ---------------------------------------------------------------- tests */

static void body_call_cast_info(void *arg) {
    t_ctx *t = arg;
    tr_pid s = start_srv(t, M_OK, false);
    tr_msg *reply = NULL;
    CHECK(t, tr_gen_call(s, PING, NULL, 0, 1000, &reply, NULL) == 0);
    CHECK(t, reply && reply->tag == TR_GEN_TAG_REPLY && strcmp(reply->data, "pong") == 0);
    tr_msg_free(reply);
    long five = 5;
    CHECK(t, tr_gen_cast(s, ADD, &five, sizeof five) == 0);
    int rc;
    CHECK(t, call_long(s, GET, 0, TR_INFINITY, &rc) == 5 && rc == 0);
    tr_send(s, INFO, NULL, 0); /* any other message goes to handle_info */
    CHECK(t, call_long(s, GET, 0, 1000, &rc) == 105 && rc == 0);
    CHECK(t, tr_gen_call(s, BIN, NULL, 0, TR_INFINITY, &reply, NULL) == 0);
    CHECK(t, reply && reply->bin && reply->len == 12 && memcmp(reply->data, "binary reply", 12) == 0);
    tr_msg_free(reply);
    CHECK(t, tr_gen_cast(s, TR_TAG_RESERVED, NULL, 0) == TR_EINVAL);
    CHECK(t, tr_gen_stop(s, NULL, TR_INFINITY, NULL) == 0);
    CHECK(t, terminate_calls(t) == 1 && strcmp(t->terminated, "normal") == 0);
    CHECK(t, tr_mailbox_len() == 0);
}

static void test_call_cast_info_and_stop(void **state) {
    (void)state;
    t_ctx t;
    run(body_call_cast_info, &t);
}

static void body_init_outcomes(void *arg) {
    t_ctx *t = arg;
    tr_pid pid = 1;
    const tr_reason *why = NULL;
    CHECK(t, tr_gen_start(&srv_cb, new_arg(t, M_STOP), NULL, &pid, &why) == TR_OTP_EINIT);
    CHECK(t, pid == 0 && reason_is(why, "bad config"));
    tr_reason_unref(why);
    /* start_link: the failure is an answer, not an exit signal */
    CHECK(t, tr_gen_start_link(&srv_cb, new_arg(t, M_STOP), NULL, &pid, &why) == TR_OTP_EINIT);
    CHECK(t, reason_is(why, "bad config"));
    tr_reason_unref(why);
    CHECK(t, tr_gen_start_link(&srv_cb, new_arg(t, M_IGNORE), NULL, &pid, &why) == TR_OTP_EIGNORE && why == NULL);
    CHECK(t, tr_gen_start(&srv_cb, new_arg(t, M_CRASH), NULL, &pid, &why) == TR_OTP_EINIT);
    CHECK(t, reason_is(why, "init blew up"));
    tr_reason_unref(why);
    tr_trap_exit(true); /* a linked init that crashes: the starter must survive to see it */
    CHECK(t, tr_gen_start_link(&srv_cb, new_arg(t, M_CRASH), NULL, &pid, &why) == TR_OTP_EINIT);
    CHECK(t, reason_is(why, "init blew up"));
    tr_reason_unref(why);
    tr_trap_exit(false);
    CHECK(t, terminate_calls(t) == 0); /* terminate never runs for a failed init */
    CHECK(t, tr_mailbox_len() == 0);
}

static void test_init_stop_ignore_and_crash(void **state) {
    (void)state;
    t_ctx t;
    run(body_init_outcomes, &t);
}

static void body_init_timeout(void *arg) {
    t_ctx *t = arg;
    tr_pid pid = 1;
    const tr_reason *why = NULL;
    int64_t t0 = tr_now_ms();
    /* Linked and not trapping exits: the starter must not be hit by the kill. */
    CHECK(t, tr_gen_start_link(&srv_cb, new_arg(t, M_SLOW_INIT), &(tr_gen_opts){.timeout_ms = 20}, &pid, &why) ==
                 TR_ETIMEDOUT);
    CHECK(t, pid == 0 && reason_is(why, "timeout") && tr_now_ms() - t0 < 400);
    tr_reason_unref(why);
    tr_sleep(20);
    CHECK(t, tr_mailbox_len() == 0);
}

static void test_init_timeout_kills_the_server(void **state) {
    (void)state;
    t_ctx t;
    run(body_init_timeout, &t);
}

static void body_registered(void *arg) {
    t_ctx *t = arg;
    tr_pid pid = 0, dup = 0;
    const tr_reason *why = NULL;
    CHECK(t, tr_gen_start(&srv_cb, new_arg(t, M_OK), &(tr_gen_opts){.name = "counter", .priority = TR_PRIORITY_HIGH},
                          &pid, NULL) == 0);
    CHECK(t, tr_whereis("counter") == pid);
    tr_proc_info in;
    CHECK(t, tr_process_info(pid, &in) == 0 && in.priority == TR_PRIORITY_HIGH); /* the spawn_opt */
    srv_arg *a = new_arg(t, M_OK); /* init never runs for a taken name: the arg stays ours */
    CHECK(t, tr_gen_start(&srv_cb, a, &(tr_gen_opts){.name = "counter"}, &dup, &why) == TR_EEXIST);
    free(a);
    CHECK(t, dup == 0 && reason_is(why, "already_started"));
    tr_reason_unref(why);
    long seven = 7;
    CHECK(t, tr_gen_cast_name("counter", ADD, &seven, sizeof seven) == 0);
    tr_msg *reply = NULL;
    CHECK(t, tr_gen_call_name("counter", GET, NULL, 0, 1000, &reply, NULL) == 0);
    CHECK(t, reply && *(const long *)reply->data == 7);
    tr_msg_free(reply);
    CHECK(t, tr_gen_stop(pid, NULL, TR_INFINITY, NULL) == 0);
    CHECK(t, tr_gen_call_name("counter", GET, NULL, 0, 1000, &reply, &why) == TR_ENOPROC);
    CHECK(t, reply == NULL && reason_is(why, "noproc"));
    tr_reason_unref(why);
    CHECK(t, tr_gen_cast_name("counter", GET, NULL, 0) == TR_EBADNAME);
}

static void test_registered_server_by_name(void **state) {
    (void)state;
    t_ctx t;
    run(body_registered, &t);
}

static void quit_at_once(void *arg) { (void)arg; }

static void body_call_dead(void *arg) {
    t_ctx *t = arg;
    tr_ref mref;
    tr_pid dead = tr_spawn_monitor(quit_at_once, NULL, &mref);
    tr_msg_free(tr_receive_ref(mref, TR_INFINITY));
    const tr_reason *why = NULL;
    tr_msg *reply = NULL;
    CHECK(t, tr_gen_call(dead, PING, NULL, 0, 1000, &reply, &why) == TR_ENOPROC);
    CHECK(t, reply == NULL && reason_is(why, "noproc"));
    tr_reason_unref(why);
    CHECK(t, tr_gen_call(dead, PING, NULL, 0, TR_INFINITY, &reply, &why) == TR_ENOPROC);
    tr_reason_unref(why);
    CHECK(t, tr_gen_cast(dead, PING, NULL, 0) == 0); /* a silent no-op */
    CHECK(t, tr_gen_stop(dead, NULL, 100, NULL) == TR_ENOPROC);
    CHECK(t, tr_mailbox_len() == 0);
}

static void test_call_dead_server_fails_with_noproc(void **state) {
    (void)state;
    t_ctx t;
    run(body_call_dead, &t);
}

static void body_call_dying(void *arg) {
    t_ctx *t = arg;
    const tr_reason *why = NULL;
    tr_msg *reply = NULL;
    tr_pid s = start_srv(t, M_OK, false);
    CHECK(t, tr_gen_call(s, CRASH, NULL, 0, 1000, &reply, &why) == TR_OTP_EEXIT);
    CHECK(t, reply == NULL && reason_is(why, "boom"));
    tr_reason_unref(why);
    CHECK(t, terminate_calls(t) == 0); /* a crash skips terminate */
    s = start_srv(t, M_OK, false);
    CHECK(t, tr_gen_call(s, DIE_NOREPLY, NULL, 0, TR_INFINITY, &reply, &why) == TR_OTP_EEXIT);
    CHECK(t, reason_is(why, "died") && strcmp(t->terminated, "died") == 0);
    tr_reason_unref(why);
    s = start_srv(t, M_OK, false);
    tr_ref mref = tr_monitor(s);
    CHECK(t, tr_gen_call(s, STOP_REPLY, NULL, 0, 1000, &reply, &why) == 0);
    CHECK(t, reply && strcmp(reply->data, "last words") == 0 && why == NULL);
    tr_msg_free(reply);
    tr_msg *down = tr_receive_ref(mref, TR_INFINITY);
    CHECK(t, reason_is(down->reason, "bye") && strcmp(t->terminated, "bye") == 0);
    tr_msg_free(down);
    CHECK(t, tr_mailbox_len() == 0);
}

static void test_call_dying_server_fails_with_its_reason(void **state) {
    (void)state;
    t_ctx t;
    run(body_call_dying, &t);
}

static void body_late_reply(void *arg) {
    t_ctx *t = arg;
    tr_pid s = start_srv(t, M_OK, false);
    int rc;
    const tr_reason *why = NULL;
    tr_msg *reply = NULL;
    long ms = 60;
    CHECK(t, tr_gen_call(s, SLOW, &ms, sizeof ms, 10, &reply, &why) == TR_ETIMEDOUT);
    CHECK(t, reply == NULL && reason_is(why, "timeout"));
    tr_reason_unref(why);
    tr_sleep(150); /* the server has answered by now */
    CHECK(t, tr_mailbox_len() == 0);
    tr_msg *stray = tr_receive(0);
    CHECK(t, stray == NULL);
    tr_msg_free(stray);
    /* Near-misses: replies racing the deadline are either returned or dropped. */
    for (int i = 0; i < 40; i++) {
        long v = call_long(s, SLOW, 2, 2 + (i % 3), &rc);
        CHECK(t, (rc == 0 && v == 2) || rc == TR_ETIMEDOUT);
    }
    tr_sleep(50);
    CHECK(t, tr_mailbox_len() == 0);
    CHECK(t, call_long(s, ADD, 1, 1000, &rc) == 1 && rc == 0); /* still serving */
    CHECK(t, tr_gen_stop(s, NULL, TR_INFINITY, NULL) == 0);
    CHECK(t, tr_mailbox_len() == 0);
}

static void test_timed_out_call_never_gets_late_reply(void **state) {
    (void)state;
    t_ctx t;
    run(body_late_reply, &t);
}

static void release_after(void *arg) {
    tr_pid s = *(tr_pid *)arg;
    free(arg);
    tr_sleep(20);
    tr_gen_cast(s, RELEASE, NULL, 0);
}

static void body_deferred(void *arg) {
    t_ctx *t = arg;
    tr_pid s = start_srv(t, M_OK, false);
    for (int timeout = 0; timeout < 2; timeout++) { /* direct, then through the call guard */
        tr_pid *p = malloc(sizeof *p);
        *p = s;
        tr_spawn(release_after, p);
        tr_msg *reply = NULL;
        CHECK(t, tr_gen_call(s, DEFER, NULL, 0, timeout ? 5000 : TR_INFINITY, &reply, NULL) == 0);
        CHECK(t, reply && strcmp(reply->data, "released") == 0);
        tr_msg_free(reply);
        CHECK(t, tr_gen_call(s, DEFER_OTHER, NULL, 0, timeout ? 5000 : TR_INFINITY, &reply, NULL) == 0);
        CHECK(t, reply && strcmp(reply->data, "from a friend") == 0);
        tr_msg_free(reply);
    }
    CHECK(t, tr_gen_stop(s, NULL, TR_INFINITY, NULL) == 0);
    CHECK(t, tr_mailbox_len() == 0);
}

static void test_deferred_reply_from_server_or_other_process(void **state) {
    (void)state;
    t_ctx t;
    run(body_deferred, &t);
}

static void exit_other(void *arg) {
    tr_pid s = *(tr_pid *)arg;
    free(arg);
    tr_exit_pid(s, TR_SHUTDOWN);
}

static void body_parent_shutdown(void *arg) {
    t_ctx *t = arg;
    tr_trap_exit(true);
    /* Trapping server: the parent's shutdown runs terminate. */
    tr_pid s = start_srv(t, M_TRAP, true);
    tr_ref mref = tr_monitor(s);
    tr_exit_pid(s, TR_SHUTDOWN);
    tr_msg *down = tr_receive_ref(mref, TR_INFINITY);
    CHECK(t, tr_reason_eq(down->reason, TR_SHUTDOWN));
    tr_msg_free(down);
    CHECK(t, terminate_calls(t) == 1 && strcmp(t->terminated, "shutdown") == 0);
    /* An EXIT from anyone else is just info for a trapping server... */
    s = start_srv(t, M_TRAP, true);
    tr_pid *target = malloc(sizeof *target);
    *target = s;
    tr_ref hm;
    tr_spawn_monitor(exit_other, target, &hm);
    tr_msg_free(tr_receive_ref(hm, TR_INFINITY));
    int rc;
    CHECK(t, call_long(s, GET, 0, 1000, &rc) == 0 && rc == 0);
    CHECK(t, terminate_calls(t) == 1);
    /* ... while the parent's, even with reason normal, stops it through terminate. */
    mref = tr_monitor(s);
    tr_exit_pid(s, TR_NORMAL);
    down = tr_receive_ref(mref, TR_INFINITY);
    CHECK(t, tr_reason_eq(down->reason, TR_NORMAL));
    tr_msg_free(down);
    CHECK(t, terminate_calls(t) == 2 && strcmp(t->terminated, "normal") == 0);
    /* Not trapping: the exit signal kills it, terminate does not run (as OTP). */
    s = start_srv(t, M_OK, true);
    mref = tr_monitor(s);
    tr_exit_pid(s, TR_SHUTDOWN);
    down = tr_receive_ref(mref, TR_INFINITY);
    CHECK(t, tr_reason_eq(down->reason, TR_SHUTDOWN));
    tr_msg_free(down);
    CHECK(t, terminate_calls(t) == 2);
    /* Drain the EXITs of the linked servers. */
    for (tr_msg *m; (m = tr_receive(10));) tr_msg_free(m);
}

static void test_terminate_runs_on_parent_shutdown_only_when_trapping(void **state) {
    (void)state;
    t_ctx t;
    run(body_parent_shutdown, &t);
}

static void body_stop_reason(void *arg) {
    t_ctx *t = arg;
    tr_pid s = start_srv(t, M_OK, false);
    const tr_reason *custom = tr_reason_new("custom stop");
    const tr_reason *why = NULL;
    CHECK(t, tr_gen_stop(s, custom, TR_INFINITY, &why) == 0 && why == NULL);
    CHECK(t, strcmp(t->terminated, "custom stop") == 0);
    tr_reason_unref(custom);
}

static void test_stop_with_reason_runs_terminate(void **state) {
    (void)state;
    t_ctx t;
    run(body_stop_reason, &t);
}

static void body_callback_timeout(void *arg) {
    t_ctx *t = arg;
    tr_pid s = start_srv(t, M_TIMEOUT, false); /* init asked for a 20 ms timeout */
    tr_sleep(60);
    pthread_mutex_lock(&t->lock);
    int n = t->timeouts;
    pthread_mutex_unlock(&t->lock);
    CHECK(t, n == 1); /* once: handle_info returned no new timeout */
    long ms = 10;
    tr_gen_cast(s, SLOW, &ms, sizeof ms);
    tr_sleep(60);
    pthread_mutex_lock(&t->lock);
    n = t->timeouts;
    pthread_mutex_unlock(&t->lock);
    CHECK(t, n == 2);
    CHECK(t, tr_gen_stop(s, NULL, TR_INFINITY, NULL) == 0);
}

static void test_callback_timeout_reaches_handle_info(void **state) {
    (void)state;
    t_ctx t;
    run(body_callback_timeout, &t);
}

typedef struct client_arg {
    t_ctx *t;
    tr_pid server, parent;
    int calls;
    int64_t timeout;
} client_arg;

static void client(void *arg) {
    client_arg *c = arg;
    int rc;
    for (int i = 0; i < c->calls; i++) {
        call_long(c->server, ADD, 1, c->timeout, &rc);
        CHECK(c->t, rc == 0);
    }
    CHECK(c->t, tr_mailbox_len() == 0);
    tr_send(c->parent, 1, NULL, 0);
    free(c);
}

static void body_many_clients(void *arg) {
    t_ctx *t = arg;
    tr_pid s = start_srv(t, M_OK, false);
    enum { CLIENTS = 40, CALLS = 500 };
    for (int i = 0; i < CLIENTS; i++) {
        client_arg *ca = malloc(sizeof *ca);
        *ca = (client_arg){t, s, tr_self(), CALLS, i % 2 ? 5000 : TR_INFINITY};
        tr_spawn(client, ca);
    }
    for (int i = 0; i < CLIENTS; i++) tr_msg_free(tr_receive_tag(1, TR_INFINITY));
    int rc;
    CHECK(t, call_long(s, GET, 0, TR_INFINITY, &rc) == CLIENTS * CALLS);
    CHECK(t, tr_gen_stop(s, NULL, TR_INFINITY, NULL) == 0);
}

static void test_many_concurrent_callers(void **state) {
    (void)state;
    t_ctx t;
    run(body_many_clients, &t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_cast_info_and_stop),
        cmocka_unit_test(test_init_stop_ignore_and_crash),
        cmocka_unit_test(test_init_timeout_kills_the_server),
        cmocka_unit_test(test_registered_server_by_name),
        cmocka_unit_test(test_call_dead_server_fails_with_noproc),
        cmocka_unit_test(test_call_dying_server_fails_with_its_reason),
        cmocka_unit_test(test_timed_out_call_never_gets_late_reply),
        cmocka_unit_test(test_deferred_reply_from_server_or_other_process),
        cmocka_unit_test(test_terminate_runs_on_parent_shutdown_only_when_trapping),
        cmocka_unit_test(test_stop_with_reason_runs_terminate),
        cmocka_unit_test(test_callback_timeout_reaches_handle_info),
        cmocka_unit_test(test_many_concurrent_callers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
