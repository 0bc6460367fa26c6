/* bench_otp.c -- the behaviours' benchmarks, in the shapes of the BEAM anchors
 * (/work/shared/anchors: erl/anchors.erl), printing "RESULT <key> <value>" lines:
 *   bench_otp sup N          one_for_one supervisor, worker crashes on a message: restarts/s
 *   bench_otp call C N       gen_server call round trips from C clients: calls/s, latency
 *   bench_otp selrecv J N    calls with J unrelated messages in the caller's mailbox
 *   bench_otp dynsup N       N start_child calls on a dynamic supervisor: starts/s
 * Calls use a 5000 ms timeout, as gen_server:call's default (so they go through the
 * call guard); the *_infinity keys repeat the measure with TR_INFINITY (direct reply). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tr_otp.h>

enum { PING = 1, CRASH = 2, UP = 3, GO = 4, LAT = 5, JUNK = 6 };

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void result(const char *key, double v) { printf("RESULT %s %.4f\n", key, v); }

/* ---------------------------------------------------------------- the trivial server */

static void srv_init(void *arg, void **state, tr_gen_ret *out) {
    (void)out;
    *state = arg;
    if (arg) { /* a supervised worker announces itself to the driver */
        tr_pid self = tr_self();
        tr_send(*(tr_pid *)arg, UP, &self, sizeof self);
    }
}

static void srv_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    (void)req, (void)from, (void)state;
    tr_gen_ret_reply(out, "pong", 4);
}

static void srv_info(const tr_msg *m, void *state, tr_gen_ret *out) {
    (void)state;
    if (m->kind == TR_MSG_USER && m->tag == CRASH) tr_gen_ret_stop(out, tr_reason_new("crashed"));
}

static const tr_gen_callbacks srv_cb = {.entry = "bench_srv", .init = srv_init, .handle_call = srv_call,
                                        .handle_info = srv_info};

static void call_loop(tr_pid srv, long n, int64_t timeout) {
    for (long i = 0; i < n; i++) {
        tr_msg *reply = NULL;
        if (tr_gen_call(srv, PING, NULL, 0, timeout, &reply, NULL) != 0) tr_crash("call failed");
        tr_msg_free(reply);
    }
}

/* ---------------------------------------------------------------- sup */

static int start_worker(void *arg, tr_pid *pid, const tr_reason **why) {
    return tr_gen_start_link(&srv_cb, arg, NULL, pid, why);
}

static tr_pid crash_loop(tr_pid w, long n) {
    for (long i = 0; i < n; i++) {
        tr_send(w, CRASH, NULL, 0);
        tr_msg *up = tr_receive_tag(UP, TR_INFINITY);
        memcpy(&w, up->data, sizeof w);
        tr_msg_free(up);
    }
    return w;
}

static void bench_sup(long crashes) {
    tr_pid *driver = malloc(sizeof *driver); /* outlives the supervisor: freed at the end */
    *driver = tr_self();
    tr_child_spec child = {.id = "worker", .start = start_worker, .arg = driver, .shutdown_ms = 5000};
    tr_sup_spec spec = {.strategy = TR_ONE_FOR_ONE, .intensity = 100000000, .period_s = 1, .children = &child,
                        .nchildren = 1};
    tr_pid sup;
    if (tr_sup_start_link(&spec, &sup, NULL) != 0) tr_crash("supervisor did not start");
    tr_msg *up = tr_receive_tag(UP, TR_INFINITY);
    tr_pid w;
    memcpy(&w, up->data, sizeof w);
    tr_msg_free(up);
    long first = crashes < 1000 ? crashes : 1000;
    long last = crashes - first < 1000 ? crashes - first : 1000;
    double t0 = now_ns();
    w = crash_loop(w, first);
    double tm = now_ns();
    w = crash_loop(w, crashes - first - last);
    double tl = now_ns();
    crash_loop(w, last);
    double t1 = now_ns();
    char k[64];
    snprintf(k, sizeof k, "sup_c%ld_restarts_per_s", crashes);
    result(k, crashes / ((t1 - t0) / 1e9));
    snprintf(k, sizeof k, "sup_c%ld_us_per_restart", crashes);
    result(k, (t1 - t0) / 1000 / crashes);
    snprintf(k, sizeof k, "sup_c%ld_first1000_restarts_per_s", crashes);
    result(k, first / ((tm - t0) / 1e9));
    if (last) { /* flat or falling as crashes accumulate? */
        snprintf(k, sizeof k, "sup_c%ld_last1000_restarts_per_s", crashes);
        result(k, last / ((t1 - tl) / 1e9));
    }
    tr_sup_shutdown(sup, TR_SHUTDOWN_INFINITY, NULL);
    free(driver);
}

/* ---------------------------------------------------------------- call */

typedef struct client_arg {
    tr_pid srv, parent;
    long calls;
    int64_t timeout;
} client_arg;

static void client(void *arg) {
    client_arg c = *(client_arg *)arg;
    free(arg);
    tr_msg_free(tr_receive_tag(GO, TR_INFINITY));
    double a = now_ns();
    call_loop(c.srv, c.calls, c.timeout);
    double lat = now_ns() - a;
    tr_send(c.parent, LAT, &lat, sizeof lat);
}

static void bench_call_with(long clients, long total, int64_t timeout, const char *suffix) {
    tr_pid srv;
    if (tr_gen_start(&srv_cb, NULL, NULL, &srv, NULL) != 0) tr_crash("server did not start");
    call_loop(srv, 1000, timeout); /* warm up */
    long per = total / clients;
    tr_pid *cs = malloc(clients * sizeof *cs);
    for (long i = 0; i < clients; i++) {
        client_arg *a = malloc(sizeof *a);
        *a = (client_arg){srv, tr_self(), per, timeout};
        cs[i] = tr_spawn_link(client, a);
    }
    tr_sleep(10); /* let every client reach its receive */
    double t0 = now_ns();
    for (long i = 0; i < clients; i++) tr_send(cs[i], GO, NULL, 0);
    double lat_sum = 0;
    for (long i = 0; i < clients; i++) {
        tr_msg *m = tr_receive_tag(LAT, TR_INFINITY);
        double l;
        memcpy(&l, m->data, sizeof l);
        lat_sum += l;
        tr_msg_free(m);
    }
    double t1 = now_ns();
    char k[64];
    snprintf(k, sizeof k, "call_c%ld_calls_per_s%s", clients, suffix);
    result(k, per * clients / ((t1 - t0) / 1e9));
    snprintf(k, sizeof k, "call_c%ld_mean_latency_us%s", clients, suffix);
    result(k, lat_sum / clients / per / 1000);
    free(cs);
    tr_gen_stop(srv, NULL, TR_INFINITY, NULL);
}

/* ---------------------------------------------------------------- selrecv */

static void echo(void *arg) {
    (void)arg;
    for (;;) {
        tr_msg *m = tr_receive(TR_INFINITY);
        tr_send_ref(m->from, m->tag, m->ref, NULL, 0);
        tr_msg_free(m);
    }
}

static void bench_selrecv(long junk, long iters) {
    tr_pid e = tr_spawn_link(echo, NULL);
    tr_pid srv;
    tr_gen_start(&srv_cb, NULL, NULL, &srv, NULL);
    for (long i = 0; i < junk; i++) tr_send(tr_self(), JUNK, &i, sizeof i);
    char k[64];
    double t0 = now_ns();
    for (long i = 0; i < iters; i++) {
        tr_ref r = tr_make_ref();
        tr_send_ref(e, PING, r, NULL, 0);
        tr_msg_free(tr_receive_ref(r, TR_INFINITY));
    }
    double t1 = now_ns();
    snprintf(k, sizeof k, "selrecv_q%ld_fresh_ref_us_per_recv", junk);
    result(k, (t1 - t0) / 1000 / iters);
    call_loop(srv, 1000, 5000);
    t0 = now_ns();
    call_loop(srv, iters, 5000);
    t1 = now_ns();
    snprintf(k, sizeof k, "selrecv_q%ld_gen_call_us_per_call", junk);
    result(k, (t1 - t0) / 1000 / iters);
    t0 = now_ns();
    call_loop(srv, iters, TR_INFINITY);
    t1 = now_ns();
    snprintf(k, sizeof k, "selrecv_q%ld_gen_call_us_per_call_infinity", junk);
    result(k, (t1 - t0) / 1000 / iters);
    long iters2 = iters / 100 > 0 ? iters / 100 : 1;
    t0 = now_ns();
    for (long i = 0; i < iters2; i++) {
        tr_send(e, PING, NULL, 0);
        tr_msg_free(tr_receive_tag(PING, TR_INFINITY));
    }
    t1 = now_ns();
    snprintf(k, sizeof k, "selrecv_q%ld_old_tag_scan_us_per_recv", junk);
    result(k, (t1 - t0) / 1000 / iters2);
    if ((long)tr_mailbox_len() != junk) tr_crash("junk lost");
    tr_gen_stop(srv, NULL, TR_INFINITY, NULL);
    tr_exit(TR_NORMAL); /* the echo goes with the runtime */
}

/* ---------------------------------------------------------------- dynsup */

static void idle(void *arg) {
    (void)arg;
    for (;;) tr_msg_free(tr_receive(TR_INFINITY));
}

static int start_idle(void *arg, const void *extra, size_t len, tr_pid *pid, const tr_reason **why) {
    (void)arg, (void)extra, (void)len, (void)why;
    *pid = tr_spawn_link(idle, NULL);
    return *pid ? 0 : TR_ELIMIT;
}

static int start_gen(void *arg, const void *extra, size_t len, tr_pid *pid, const tr_reason **why) {
    (void)arg, (void)extra, (void)len;
    return tr_gen_start_link(&srv_cb, NULL, NULL, pid, why);
}

static void bench_dynsup_with(long n, tr_dynsup_start_fn start, const char *what) {
    tr_dynsup_spec spec = {.start = start, .restart = TR_TEMPORARY, .intensity = 1, .period_s = 1};
    tr_pid sup;
    if (tr_dynsup_start_link(&spec, &sup, NULL) != 0) tr_crash("dynamic supervisor did not start");
    double t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (tr_dynsup_start_child(sup, &i, sizeof i, NULL, NULL) != 0) tr_crash("start_child failed");
    double t1 = now_ns();
    tr_sup_shutdown(sup, TR_SHUTDOWN_INFINITY, NULL);
    double t2 = now_ns();
    char k[80];
    snprintf(k, sizeof k, "dynsup_n%ld_%s_starts_per_s", n, what);
    result(k, n / ((t1 - t0) / 1e9));
    snprintf(k, sizeof k, "dynsup_n%ld_%s_shutdown_ms", n, what);
    result(k, (t2 - t1) / 1e6);
}

/* ---------------------------------------------------------------- main */

typedef struct args {
    int argc;
    char **argv;
} args;

static void root(void *arg) {
    args *a = arg;
    const char *what = a->argc > 1 ? a->argv[1] : "";
    long x = a->argc > 2 ? atol(a->argv[2]) : 0, y = a->argc > 3 ? atol(a->argv[3]) : 0;
    if (strcmp(what, "sup") == 0) bench_sup(x > 0 ? x : 100000);
    else if (strcmp(what, "call") == 0) {
        bench_call_with(x > 0 ? x : 1, y > 0 ? y : 1000000, 5000, "");
        bench_call_with(x > 0 ? x : 1, y > 0 ? y : 1000000, TR_INFINITY, "_infinity");
    } else if (strcmp(what, "dynsup") == 0) {
        bench_dynsup_with(x > 0 ? x : 100000, start_idle, "process");
        bench_dynsup_with(x > 0 ? x : 100000, start_gen, "gen_server");
    } else if (strcmp(what, "selrecv") == 0)
        bench_selrecv(x, y > 0 ? y : 100000);
    else
        fprintf(stderr, "usage: bench_otp sup N | call C N | selrecv J N | dynsup N\n");
}

int main(int argc, char **argv) {
    args a = {argc, argv};
    return tr_run(&(tr_config){.schedulers = 2}, root, &a, NULL) == 0 ? 0 : 1;
}
