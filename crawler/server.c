/* server.c -- the Server: drives the crawl.
 *
 * A gen_server that owns the frontier (per-host queues) and the record of what was
 * seen and what ended; hands URLs out to Downloaders as their hosts become ready (one
 * Downloader per request in flight, never one per queued URL); monitors each one; and
 * decides, from its report or its DOWN, whether the URL ended or is tried again later
 * (exponential backoff with jitter, or Retry-After). It writes pages.jsonl, one line
 * per ended URL, each with a single write() so a crash never leaves half a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backoff.h"
#include "crawl.h"
#include "frontier.h"
#include "pages.h"
#include "robots.h"
#include "scope.h"
#include "url.h"

typedef struct flight { /* a Downloader at work */
    struct flight *next;
    tr_pid pid;
    tr_ref mon;
    tw_frontier_item item; /* the URL it works on (owned) */
    tw_job_kind kind;
    char host[256];
} flight;

#define FLIGHT_BUCKETS 1024

typedef struct server {
    const tw_crawl_config *cfg;
    tw_frontier *frontier;
    tw_scope_filter *scope;
    tw_pages *pages;
    char *product;                 /* robots.txt product token */
    tw_fetcher fetcher;
    tr_pid limiter, downloaders;
    flight *flights[FLIGHT_BUCKETS];
    int in_flight;
    long ended, errors, retries_scheduled, retries_pending;
    long robots_pending;
    bool stopping;
    int64_t started_ms;
    uint64_t rng;
} server;

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- finishing */

static void finish(server *s, const char *why) {
    if (s->stopping) return;
    s->stopping = true;
    if (s->cfg->progress) fputc('\n', stderr);
    tr_reason *r = why ? tr_reason_new("%s", why) : NULL;
    tr_app_stop(TW_CRAWL_APP, r); /* the application stops us and the rest, in order */
    tr_reason_unref(r);
}

static void check_done(server *s) {
    if (s->stopping) return;
    if (s->cfg->max_pages > 0 && s->ended >= s->cfg->max_pages) {
        finish(s, NULL);
        return;
    }
    if (s->in_flight == 0 && s->retries_pending == 0 && tw_frontier_queued(s->frontier) == 0) finish(s, NULL);
}

/* ---------------------------------------------------------------- outcomes */

static void record(server *s, const tw_frontier_item *it, const tw_page_record *rec) {
    if (s->stopping) return;
    if (tw_pages_write(s->pages, rec) != 0) {
        char why[512];
        snprintf(why, sizeof why, "cannot write %s/pages.jsonl: %s", s->cfg->out_dir, strerror(errno));
        tr_crash("%s", why);
    }
    (void)it;
    s->ended++;
    if (rec->error) s->errors++;
}

static void record_simple(server *s, const tw_frontier_item *it, const char *error, int attempts) {
    tw_page_record rec = {.url = it->url, .status = 0, .error = error, .attempts = attempts,
                          .depth = it->depth, .parent = it->parent, .fetched_at_ms = wall_ms()};
    record(s, it, &rec);
}

/* Adds a discovered link (or redirect target) if scope, filters, depth and the seen set
 * allow it. */
static void discover(server *s, const tw_frontier_item *from, const char *url, int depth) {
    if (s->cfg->max_depth >= 0 && depth > s->cfg->max_depth) return;
    if (!tw_scope_allows(s->scope, from->seed, url)) return;
    tw_frontier_add(s->frontier, url, depth, from->url, from->seed);
}

static double uniform01(void *ctx) { /* the retry jitter's random source */
    server *s = ctx;
    s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(s->rng >> 11) / (double)(1ull << 53);
}

/* Queues the URL again after delay_ms; the frontier takes the item. */
static void retry_later(server *s, flight *f, int64_t delay_ms) {
    tw_frontier_retry(s->frontier, &f->item, tr_now_ms() + delay_ms);
    s->retries_scheduled++;
}

static void on_robots(server *s, flight *f, const tw_result *res, const char *body) {
    int status = res->err == TW_FETCH_OK ? res->status : 0;
    tw_robots *r = tw_robots_from_status(status, body, res->robots_len, s->product);
    double delay = r ? tw_robots_crawl_delay(r) : -1;
    tw_frontier_robots(s->frontier, f->host, r, tr_now_ms()); /* takes r */
    if (delay > 0) {
        int64_t ms = (int64_t)(delay * 1000.0 + 0.5);
        tw_frontier_set_interval(s->frontier, f->host, ms);
        tw_limiter_set_interval(s->limiter, f->host, ms);
    }
}

static void on_page(server *s, flight *f, const tw_result *res, const char *strings, const char *end) {
    const char *url = strings;
    const char *ctype = url + strlen(url) + 1;
    const char *redirect = ctype + strlen(ctype) + 1;
    const char *link = redirect + strlen(redirect) + 1;
    tw_page_record rec = {
        .url = f->item.url, .status = res->status, .attempts = f->item.attempts, .depth = f->item.depth,
        .parent = f->item.parent, .content_type = *ctype ? ctype : NULL, .bytes = res->bytes,
        .truncated = res->truncated, .links = res->nlinks, .redirect = *redirect ? redirect : NULL,
        .fetched_at_ms = res->fetched_at_ms, .ms = res->ms,
    };
    int64_t delay = 0;
    if (tw_backoff_decide(res->err, res->status, f->item.attempts, s->cfg->retries, res->retry_after_s, uniform01,
                          s, &delay) == TW_BACKOFF_RETRY) {
        retry_later(s, f, delay);
        return;
    }
    char words[200];
    rec.error = tw_backoff_error(res->err, res->status, res->err_text, words, sizeof words);
    record(s, &f->item, &rec);
    if (s->stopping || res->err != TW_FETCH_OK) return;
    if (*redirect) discover(s, &f->item, redirect, f->item.depth); /* keeps the depth */
    for (int i = 0; i < res->nfollow && link < end; i++) {
        discover(s, &f->item, link, f->item.depth + 1);
        link += strlen(link) + 1;
    }
}

/* ---------------------------------------------------------------- Downloaders */

static flight **flight_slot(server *s, tr_pid pid) {
    flight **p = &s->flights[(pid ^ (pid >> 32)) % FLIGHT_BUCKETS];
    while (*p && (*p)->pid != pid) p = &(*p)->next;
    return p;
}

static void flight_end(server *s, flight *f) {
    *flight_slot(s, f->pid) = f->next;
    s->in_flight--;
    tw_frontier_done(s->frontier, f->host);
    if (f->kind == TW_JOB_ROBOTS) s->robots_pending--;
    tw_frontier_item_free(&f->item);
    free(f);
}

static bool start_downloader(server *s, tw_frontier_item *it, tw_job_kind kind, const char *host) {
    if (!s->downloaders) s->downloaders = tr_whereis(TW_DOWNLOADERS_NAME);
    if (!s->limiter) s->limiter = tr_whereis(TW_LIMITER_NAME);
    if (!s->fetcher.n) {
        tr_msg *reply = NULL;
        const tr_reason *why = NULL;
        if (tr_gen_call_name(TW_HTTP_NAME, TW_TAG_FETCHER, NULL, 0, 5000, &reply, &why) == 0 &&
            reply->len == sizeof s->fetcher)
            memcpy(&s->fetcher, reply->data, sizeof s->fetcher);
        tr_msg_free(reply);
        tr_reason_unref(why);
    }
    if (!s->downloaders || !s->limiter || !s->fetcher.n) return false; /* siblings still starting */
    tw_job *job = calloc(1, sizeof *job);
    TR_ASSERT(job != NULL);
    job->fetcher = s->fetcher;
    job->server = tr_self();
    job->limiter = s->limiter;
    job->kind = kind;
    job->attempt = it->attempts;
    job->timeout_ms = (int64_t)(s->cfg->timeout_s * 1000.0);
    job->max_bytes = s->cfg->max_bytes;
    job->obey_nofollow = !s->cfg->ignore_robots;
    snprintf(job->user_agent, sizeof job->user_agent, "%s", s->cfg->user_agent);
    snprintf(job->host, sizeof job->host, "%s", host);
    snprintf(job->url, sizeof job->url, "%s", it->url);
    tr_pid pid = 0;
    const tr_reason *why = NULL;
    int rc = tr_dynsup_start_child(s->downloaders, job, sizeof *job, &pid, &why);
    free(job);
    tr_reason_unref(why);
    if (rc != 0 || !pid) {
        s->downloaders = 0; /* maybe restarted under a new pid: look it up again */
        return false;
    }
    flight *f = calloc(1, sizeof *f);
    TR_ASSERT(f != NULL);
    f->pid = pid;
    f->mon = tr_monitor(pid);
    f->item = *it;
    f->kind = kind;
    snprintf(f->host, sizeof f->host, "%s", host);
    flight **slot = flight_slot(s, pid);
    f->next = *slot;
    *slot = f;
    s->in_flight++;
    if (kind == TW_JOB_ROBOTS) s->robots_pending++;
    return true;
}

/* Hands out work while hosts are ready and --concurrency allows. */
static void pump(server *s) {
    while (!s->stopping && s->in_flight < s->cfg->concurrency) {
        tw_frontier_item it;
        char host[256];
        int64_t now = tr_now_ms();
        int64_t wake = -1;
        int got = tw_frontier_next(s->frontier, now, &it, host, sizeof host, &wake);
        if (got == TW_FRONTIER_NONE) {
            if (wake >= 0) tr_send_after(wake - now > 0 ? wake - now : 1, tr_self(), TW_TAG_PUMP, NULL, 0);
            break;
        }
        if (got == TW_FRONTIER_DISALLOWED) { /* robots.txt forbids it: it ends unfetched */
            record_simple(s, &it, "disallowed by robots.txt", 0);
            tw_frontier_item_free(&it);
            check_done(s);
            continue;
        }
        tw_job_kind kind = got == TW_FRONTIER_ROBOTS ? TW_JOB_ROBOTS : TW_JOB_PAGE;
        if (kind == TW_JOB_PAGE) it.attempts++;
        if (!start_downloader(s, &it, kind, host)) {
            tw_frontier_undo(s->frontier, &it, host, kind == TW_JOB_ROBOTS); /* attempts restored too */
            tr_send_after(20, tr_self(), TW_TAG_PUMP, NULL, 0);
            break;
        }
    }
    check_done(s);
}

/* ---------------------------------------------------------------- progress */

static void progress(server *s) {
    if (!s->cfg->progress || s->stopping) return;
    double secs = (double)(tr_now_ms() - s->started_ms) / 1000.0;
    tw_frontier_stats st;
    tw_frontier_get_stats(s->frontier, tr_now_ms(), &st);
    fprintf(stderr, "\r\033[Kpages %ld (%.0f/s)  queued %zu  in flight %d  retries %ld  errors %ld  hosts waiting %zu",
            s->ended, secs > 0 ? (double)s->ended / secs : 0.0, st.queued, s->in_flight, s->retries_scheduled,
            s->errors, st.hosts_rate_limited);
    fflush(stderr);
    tr_send_after(500, tr_self(), TW_TAG_PROGRESS, NULL, 0);
}

/* ---------------------------------------------------------------- gen_server */

static void init(void *arg, void **state, tr_gen_ret *out) {
    const tw_crawl_config *cfg = arg;
    server *s = calloc(1, sizeof *s);
    if (!s) {
        tr_gen_ret_stop(out, tr_reason_new("out of memory"));
        return;
    }
    s->cfg = cfg;
    s->started_ms = tr_now_ms();
    s->rng = (uint64_t)wall_ms() ^ tr_random();
    char err[1024] = "";
    if (mkdir(cfg->out_dir, 0777) != 0 && errno != EEXIST)
        snprintf(err, sizeof err, "cannot create the output directory %s: %s", cfg->out_dir, strerror(errno));
    else if (!(s->pages = tw_pages_open(cfg->out_dir, err, sizeof err))) {
        /* err says what and where */
    } else if (!(s->scope = tw_scope_new(cfg->scope, cfg->includes, cfg->nincludes, cfg->excludes,
                                         cfg->nexcludes, err, sizeof err))) {
        /* err quotes the pattern */
    }
    if (err[0]) {
        tw_pages_close(s->pages);
        free(s);
        tr_gen_ret_stop(out, tr_reason_new("%s", err));
        return;
    }
    s->product = tw_user_agent_product(cfg->user_agent);
    int64_t interval = cfg->rate > 0 ? (int64_t)(1000.0 / cfg->rate + 0.5) : 0;
    s->frontier = tw_frontier_new(cfg->per_host, interval, !cfg->ignore_robots);
    for (size_t i = 0; i < cfg->nseeds; i++) tw_frontier_add(s->frontier, cfg->seeds[i], 0, NULL, cfg->seeds[i]);
    tr_send(tr_self(), TW_TAG_PUMP, NULL, 0);
    if (cfg->progress) tr_send_after(500, tr_self(), TW_TAG_PROGRESS, NULL, 0);
    *state = s;
}

static void handle_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    (void)req;
    (void)from;
    (void)state;
    tr_gen_ret_reply(out, NULL, 0);
}

static void handle_cast(const tr_msg *req, void *state, tr_gen_ret *out) {
    (void)out;
    server *s = state;
    if (req->tag != TW_TAG_RESULT || req->len < sizeof(tw_result)) return;
    tw_result res;
    memcpy(&res, req->data, sizeof res);
    flight **slot = flight_slot(s, req->from);
    flight *f = *slot;
    if (!f) return; /* not ours (a stale report) */
    tr_demonitor(f->mon);
    const char *strings = (const char *)req->data + sizeof res;
    const char *end = strings + res.strings_len;
    if (sizeof res + res.strings_len + res.robots_len <= req->len) {
        if (f->kind == TW_JOB_ROBOTS) on_robots(s, f, &res, end);
        else on_page(s, f, &res, strings, end);
    }
    flight_end(s, f);
    pump(s);
}

static void handle_info(const tr_msg *msg, void *state, tr_gen_ret *out) {
    (void)out;
    server *s = state;
    if (msg->kind == TR_MSG_DOWN) {
        flight *f = *flight_slot(s, msg->from);
        if (!f || f->mon != msg->ref) return;
        /* It ended without reporting: it crashed (or was killed). The URL is tried
         * again like any transient failure. */
        if (f->kind == TW_JOB_ROBOTS) {
            tw_result res = {.err = TW_FETCH_OTHER};
            on_robots(s, f, &res, NULL);
        } else if (f->item.attempts <= s->cfg->retries) {
            retry_later(s, f, tw_backoff_delay_ms(f->item.attempts, uniform01, s));
        } else {
            char words[200];
            snprintf(words, sizeof words, "downloader crashed: %s", tr_reason_text(msg->reason));
            record_simple(s, &f->item, words, f->item.attempts);
        }
        flight_end(s, f);
        pump(s);
    } else if (msg->kind == TR_MSG_USER && msg->tag == TW_TAG_PUMP) {
        pump(s);
    } else if (msg->kind == TR_MSG_USER && msg->tag == TW_TAG_PROGRESS) {
        progress(s);
    }
}

static void terminate(const tr_reason *reason, void *state) {
    (void)reason;
    server *s = state;
    for (int b = 0; b < FLIGHT_BUCKETS; b++)
        for (flight *f = s->flights[b], *n; f; f = n) {
            n = f->next;
            tw_frontier_item_free(&f->item);
            free(f);
        }
    tw_pages_close(s->pages);
    tw_scope_free(s->scope);
    tw_frontier_free(s->frontier);
    free(s->product);
    free(s);
}

static const tr_gen_callbacks server_cb = {
    .entry = "server",
    .init = init,
    .handle_call = handle_call,
    .handle_cast = handle_cast,
    .handle_info = handle_info,
    .terminate = terminate,
};

int tw_server_start(void *cfg, tr_pid *pid, const tr_reason **why) {
    return tr_gen_start_link(&server_cb, cfg, &(tr_gen_opts){.name = TW_SERVER_NAME}, pid, why);
}
