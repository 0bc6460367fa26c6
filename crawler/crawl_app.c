/* crawl_app.c -- the crawl as an OTP application: the top supervisor, its children in
 * order, and the HTTP service's supervised wrapper. docs/crawler.md explains the order. */
#include <stdlib.h>
#include <string.h>

#include "crawl.h"

/* ---------------------------------------------------------------- http: the HTTP service */

/* A gen_server that starts the fetch service processes and links to each, so that the
 * death of one (a libcurl fault) takes the http child down and rest_for_one restarts
 * the children after it, whose fetches were lost. Downloaders ask it for the fetcher. */
typedef struct http_state {
    tw_fetcher fetcher;
} http_state;

static void http_init(void *arg, void **state, tr_gen_ret *out) {
    const tw_crawl_config *cfg = arg;
    http_state *st = calloc(1, sizeof *st);
    if (!st) {
        tr_gen_ret_stop(out, tr_reason_new("http: out of memory"));
        return;
    }
    int n = cfg->http_services;
    if (n <= 0) {
        tr_stats s;
        tr_get_stats(&s);
        n = s.schedulers;
    }
    int rc = tw_fetch_start(n, &st->fetcher);
    if (rc != 0) {
        free(st);
        tr_gen_ret_stop(out, tr_reason_new("http: cannot start the HTTP service: %s", tr_strerror(rc)));
        return;
    }
    for (int i = 0; i < st->fetcher.n; i++) tr_link(st->fetcher.pids[i]);
    *state = st;
}

static void http_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    (void)req;
    (void)from;
    http_state *st = state;
    tr_gen_ret_reply(out, &st->fetcher, sizeof st->fetcher);
}

static void http_terminate(const tr_reason *reason, void *state) {
    (void)reason;
    http_state *st = state;
    tw_fetch_stop(&st->fetcher);
    free(st);
}

static const tr_gen_callbacks http_cb = {
    .entry = "http",
    .init = http_init,
    .handle_call = http_call,
    .terminate = http_terminate,
};

int tw_http_start(void *cfg, tr_pid *pid, const tr_reason **why) {
    return tr_gen_start_link(&http_cb, cfg, &(tr_gen_opts){.name = TW_HTTP_NAME}, pid, why);
}

/* ---------------------------------------------------------------- the application */

static int downloaders_start(void *cfg, tr_pid *pid, const tr_reason **why) {
    const tw_crawl_config *c = cfg;
    tr_dynsup_spec spec = {
        .start = tw_downloader_start,
        .restart = TR_TEMPORARY,
        .shutdown_ms = TR_SHUTDOWN_BRUTAL, /* a request in flight is dropped and stays queued */
        .type = TR_WORKER,
        .intensity = 1, /* temporary children are never restarted: intensity is moot */
        .period_s = 1,
        .max_children = (size_t)c->concurrency * 2 + 16,
        .name = TW_DOWNLOADERS_NAME,
        /* Every page starts here: a start must not wait behind busy Downloaders. */
        .priority = TR_PRIORITY_HIGH,
    };
    return tr_dynsup_start_link(&spec, pid, why);
}

static tw_crawl_end run_app(const tw_crawl_config *cfg) {
    tr_child_spec children[] = {
        {.id = "warc_writer", .start = tw_warc_writer_start, .arg = (void *)cfg, .restart = TR_PERMANENT,
         .shutdown_ms = 30000},
        {.id = "server", .start = tw_server_start, .arg = (void *)cfg, .restart = TR_PERMANENT,
         .shutdown_ms = 10000},
        {.id = "http", .start = tw_http_start, .arg = (void *)cfg, .restart = TR_PERMANENT, .shutdown_ms = 5000},
        {.id = "rate_limiter", .start = tw_limiter_start, .arg = (void *)cfg, .restart = TR_PERMANENT,
         .shutdown_ms = 5000},
        {.id = "downloaders", .start = downloaders_start, .arg = (void *)cfg, .restart = TR_PERMANENT,
         .shutdown_ms = TR_SHUTDOWN_INFINITY, .type = TR_SUPERVISOR},
    };
    tr_app_spec app = {
        .name = TW_CRAWL_APP,
        .top = {.strategy = TR_REST_FOR_ONE, .intensity = 5, .period_s = 10, .children = children,
                .nchildren = sizeof children / sizeof children[0]},
    };
    const tr_reason *why = NULL;
    int rc = tr_app_run(&app, &why);
    const char *text = tr_reason_text(why);
    tw_crawl_end end = TW_CRAWL_FINISHED;
    if (rc == 0) end = TW_CRAWL_FINISHED;
    else if (strcmp(text, "interrupted") == 0) end = TW_CRAWL_INTERRUPTED;
    else {
        /* The server's fatal errors say what and where; anything else is a crash the
         * supervisors could not recover from. */
        fprintf(stderr, "trawl: %s\n", text);
        end = TW_CRAWL_FATAL;
    }
    tr_reason_unref(why);
    return end;
}

tw_crawl_end tw_crawl_run(const tw_crawl_config *cfg) {
    tw_crawl_end end = run_app(cfg);
    tw_warc_writer_cleanup();
    return end;
}

int tw_crawl_interrupt(void) {
    tr_reason *r = tr_reason_new("interrupted");
    int rc = tr_app_stop(TW_CRAWL_APP, r);
    tr_reason_unref(r);
    return rc;
}
