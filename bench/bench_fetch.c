/* bench_fetch.c: fetches per second through the fetch service, and thousands in flight at once.
 *
 *   build/bench/bench_fetch [PROCS] [FETCHES_EACH] [SERVICES] [SLOW_PROCS]
 *
 * Runs the loopback test server of tests/testserver.c in this process (one thread per
 * connection, so the server is part of what is measured). Phase 1: PROCS processes
 * (default 100) each fetch a small page FETCHES_EACH times (default 100) over kept-alive
 * connections. Phase 2: SLOW_PROCS processes (default 2000) each fetch a page the
 * server holds for one second: with every fetch in flight together, the phase takes
 * about one second however many there are. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tr.h>
#include <unistd.h>

#include "../tests/testserver.c" /* the test server is test infrastructure, not a library */
#include "fetch.h"

enum { TAG_DONE = 1 };

typedef struct job {
    tw_fetcher f;
    char url[128];
    int count;
} job;

typedef struct plan {
    ts_server *ts;
    int procs, each, services, slow;
} plan;

static void worker(void *arg) {
    job j = *(job *)arg;
    free(arg);
    int ok = 0;
    for (int i = 0; i < j.count; i++) {
        tw_fetch_opts o = {.url = j.url, .timeout_ms = 30000};
        tw_response *r = NULL;
        if (tw_fetch(&j.f, &o, &r) == 0 && r->err == TW_FETCH_OK && r->status == 200) ok++;
        tw_response_free(r);
    }
    tr_send(tr_parent(), TAG_DONE, &ok, sizeof ok);
}

/* Runs n workers fetching path count times each; returns the successes. */
static int run_phase(const tw_fetcher *f, ts_server *ts, const char *path, int n, int count) {
    for (int i = 0; i < n; i++) {
        job *j = malloc(sizeof *j);
        j->f = *f;
        j->count = count;
        ts_url(ts, path, j->url, sizeof j->url);
        if (!tr_spawn(worker, j)) {
            fprintf(stderr, "spawn failed\n");
            exit(1);
        }
    }
    int ok = 0;
    for (int i = 0; i < n; i++) {
        tr_msg *m = tr_receive_tag(TAG_DONE, TR_INFINITY);
        ok += *(const int *)m->data;
        tr_msg_free(m);
    }
    return ok;
}

static void hold_one_second(const ts_request *req, ts_response *resp, void *ctx) {
    (void)req;
    (void)ctx;
    sleep(1);
    ts_printf_body(resp, "slow");
}

static void root(void *arg) {
    plan *p = arg;
    tw_fetcher f;
    if (tw_fetch_start(p->services, &f) != 0) tr_crash("tw_fetch_start failed");

    int64_t t0 = tr_now_ms();
    int ok = run_phase(&f, p->ts, "/page", p->procs, p->each);
    double secs = (double)(tr_now_ms() - t0) / 1000.0;
    printf("small pages: %d processes x %d fetches, %d services: %d ok in %.2f s = %.0f fetches/s, "
           "%d connections\n",
           p->procs, p->each, p->services, ok, secs, ok / secs, ts_connections(p->ts));

    ts_reset_stats(p->ts);
    t0 = tr_now_ms();
    ok = run_phase(&f, p->ts, "/slow", p->slow, 1);
    secs = (double)(tr_now_ms() - t0) / 1000.0;
    printf("in flight: %d fetches of a 1 s page: %d ok in %.2f s, server saw %d at once\n", p->slow, ok, secs,
           ts_max_inflight(p->ts));
    tw_fetch_stop(&f);
}

int main(int argc, char **argv) {
    plan p = {.procs = argc > 1 ? atoi(argv[1]) : 100,
              .each = argc > 2 ? atoi(argv[2]) : 100,
              .services = argc > 3 ? atoi(argv[3]) : 2,
              .slow = argc > 4 ? atoi(argv[4]) : 2000};
    p.ts = ts_start("127.0.0.1", 0);
    if (!p.ts) return 1;
    static char body[4096];
    memset(body, 'x', sizeof body - 1);
    ts_route(p.ts, "/page", &(ts_spec){.kind = TS_STATIC, .body = body});
    ts_route_fn(p.ts, "/slow", hold_one_second, NULL);
    int rc = tr_run(NULL, root, &p, NULL);
    ts_stop(p.ts);
    return rc == 0 ? 0 : 1;
}
