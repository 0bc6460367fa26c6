/* server.c -- the Server: drives the crawl.
 *
 * A gen_server that owns the frontier (per-host queues) and the record of what was
 * seen and what ended; hands URLs out to Downloaders as their hosts become ready (one
 * Downloader per request in flight, never one per queued URL); monitors each one; and
 * decides, from its report or its DOWN, whether the URL ended or is tried again later
 * (exponential backoff with jitter, or Retry-After). It writes pages.jsonl, one line
 * per ended URL, each with a single write() so a crash never leaves half a line.
 *
 * Durability (docs/crawler.md, "State store" and "Resume"): every change to the
 * frontier (a URL queued, retried, ended) goes into a batch for the state store, and
 * every pages.jsonl line waits beside it. Every FLUSH_MS, or once FLUSH_CHANGES are
 * waiting, the WARC writer is asked to make its records durable, then the batch is
 * committed and only then are the lines written, on the blocking pool. So a page's
 * line is never in pages.jsonl before its WARC records and the links it discovered
 * are on disk: a SIGKILL at any moment loses no URL and no record. On start the
 * Server rebuilds the frontier from pages.jsonl (the URLs that ended) and the store
 * (every URL queued), which also makes a restart by the supervisor resume correctly.
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
#include "store.h"
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
#define FLUSH_MS 100       /* longest a change waits for its commit */
#define FLUSH_CHANGES 1024 /* commit at once when this many changes wait */
#define FLUSH_BACKLOG (16 * FLUSH_CHANGES) /* wait for the flusher past this many */

typedef struct server {
    const tw_crawl_config *cfg;
    tw_frontier *frontier;
    tw_scope_filter *scope;
    tw_pages *pages;
    tw_store *store;
    tw_store_batch *batch;         /* store changes waiting for their commit */
    char *lines;                   /* pages.jsonl lines waiting for that commit, formatted */
    size_t lines_len, lines_cap, nlines;
    bool flush_armed;              /* a TW_TAG_FLUSH timer is pending */
    tr_pid flusher;                /* runs flush jobs (commit, then lines) off the Server */
    bool flush_busy;               /* a job is with the flusher */
    bool flush_again;              /* more is due when it comes back */
    char *product;                 /* robots.txt product token */
    tw_fetcher fetcher;
    tr_pid limiter, downloaders, warc_writer;
    flight *flights[FLIGHT_BUCKETS];
    int in_flight;
    long ended, errors, retries_scheduled, retries_pending;
    long robots_pending;
    bool stopping;
    bool failed;                   /* a flush failed: nothing more is written */
    int64_t started_ms;
    int64_t rate_interval_ms;      /* 1/--rate in ms, 0 = no limit */
    uint64_t rng;
} server;

static int64_t wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- finishing */

static void flush_or_crash(server *s);
static void flush_async(server *s);
static void pump(server *s);

/* Asks the application to stop normally: it stops us and the rest, in order. The
 * application may not be registered yet when the crawl has nothing left to do from
 * the start (a finished crawl resumed): then ask again a little later. */
static void request_stop(void) {
    if (tr_app_stop(TW_CRAWL_APP, NULL) != 0) tr_send_after(20, tr_self(), TW_TAG_STOP, NULL, 0);
}

static void finish(server *s) {
    if (s->stopping) return;
    s->stopping = true;
    if (s->cfg->progress) fputc('\n', stderr);
    flush_or_crash(s); /* the crawl is complete on disk before the tree stops */
    if (!s->failed) request_stop();
}

static bool limit_reached(const server *s) { return s->cfg->max_pages > 0 && s->ended >= s->cfg->max_pages; }

static void check_done(server *s) {
    if (s->stopping) return;
    if (limit_reached(s)) {
        finish(s);
        return;
    }
    if (s->in_flight == 0 && s->retries_pending == 0 && tw_frontier_queued(s->frontier) == 0) finish(s);
}

/* ---------------------------------------------------------------- the store */

/* A spilled URL read back from the store, its strings in one allocation. */
typedef struct refill_row {
    int64_t id;
    int depth, attempts;
    char *url, *parent, *seed; /* parent may be NULL; all in the block url points at */
} refill_row;

/* One flush: a batch of store changes and the pages.jsonl lines that wait for it. The
 * Server hands it to its flusher process and goes on crawling; it comes back done. */
typedef struct flush_job {
    tw_store *store;       /* NULL with TRAWL_BENCH_NO_STORE */
    tw_store_batch *batch; /* owned */
    tw_pages *pages;
    char *lines;           /* whole lines, formatted (owned) */
    size_t lines_len;
    const char *out_dir;
    bool warc;             /* sync the WARC writer first */
    /* After the commit, read back up to refill_room queued URLs with ids after
     * refill_after (the frontier's spilled URLs, now committed) for the Server. */
    int64_t refill_after;
    long refill_room;
    refill_row *rows;      /* what was read (owned) */
    size_t nrows, rows_cap;
    int failed;
    char err[600];
} flush_job;

/* tw_store_load_queued's callback: copies a spilled URL into the job. */
static int keep_row(void *ctx, const tw_store_url *u) {
    flush_job *j = ctx;
    if (j->nrows == j->rows_cap) {
        size_t cap = j->rows_cap ? j->rows_cap * 2 : 256;
        refill_row *r = realloc(j->rows, cap * sizeof *r);
        if (!r) return -1;
        j->rows = r;
        j->rows_cap = cap;
    }
    size_t lu = strlen(u->url) + 1, lp = u->parent ? strlen(u->parent) + 1 : 0, ls = strlen(u->seed) + 1;
    char *mem = malloc(lu + lp + ls);
    if (!mem) return -1;
    refill_row *r = &j->rows[j->nrows++];
    r->id = u->id;
    r->depth = u->depth;
    r->attempts = u->attempts;
    r->url = memcpy(mem, u->url, lu);
    r->parent = lp ? memcpy(mem + lu, u->parent, lp) : NULL;
    r->seed = memcpy(mem + lu + lp, u->seed, ls);
    return 0;
}

/* The order is the point: the store's commit first, then the lines. Blocking pool. */
static void flush_run(void *arg) {
    flush_job *j = arg;
    if (j->store && tw_store_commit(j->store, j->batch, j->err, sizeof j->err) != 0) {
        j->failed = 1;
        return;
    }
    int rc = tw_pages_append(j->pages, j->lines, j->lines_len);
    if (rc != 0) {
        snprintf(j->err, sizeof j->err, "cannot write %s/%s: %s", j->out_dir, TW_PAGES_FILE, strerror(-rc));
        j->failed = 1;
        return;
    }
    if (j->store && j->refill_room > 0 &&
        tw_store_load_queued(j->store, j->refill_after, j->refill_room, keep_row, j, NULL, j->err, sizeof j->err) < 0) {
        if (!j->err[0]) snprintf(j->err, sizeof j->err, "out of memory");
        j->failed = 1;
    }
}

/* Runs a job in the calling process (which blocks): the WARC records of its pages
 * made durable, then the commit, then the lines. */
static void job_run(flush_job *j) {
    if (j->warc && tw_warc_writer_sync(j->err, sizeof j->err) != 0) {
        j->failed = 1; /* these pages' records may be lost: their lines must not be written */
        return;
    }
    if (tr_blocking(flush_run, j, 0) != 0) flush_run(j); /* no memory for the job: do it here */
}

static void job_free(flush_job *j) {
    for (size_t i = 0; i < j->nrows; i++) free(j->rows[i].url);
    free(j->rows);
    tw_store_batch_free(j->batch);
    free(j->lines);
    free(j);
}

/* The flusher: runs the Server's jobs one after the other, in the order sent, so
 * commits and lines reach the disk in the order the crawl made them. Linked to the
 * Server: it dies with it, and its death (a fault in SQLite) is the Server's. */
static void flusher(void *arg) {
    (void)arg;
    for (;;) {
        tr_msg *m = tr_receive(TR_INFINITY);
        if (m->kind == TR_MSG_USER && m->tag == TW_TAG_FLUSH_JOB && m->len == sizeof(flush_job *)) {
            flush_job *j;
            memcpy(&j, m->data, sizeof j);
            job_run(j);
            tr_send(m->from, TW_TAG_FLUSH_DONE, &j, sizeof j);
        }
        tr_msg_free(m);
    }
}

static size_t waiting(const server *s) { return tw_store_batch_len(s->batch) + s->nlines; }

/* Takes what waits into a new job; the server starts a fresh batch and line buffer. */
static flush_job *take_job(server *s) {
    flush_job *j = calloc(1, sizeof *j);
    tw_store_batch *fresh = tw_store_batch_new();
    if (!j || !fresh) tr_crash("out of memory");
    *j = (flush_job){.store = s->store, .batch = s->batch, .pages = s->pages, .lines = s->lines,
                     .lines_len = s->lines_len, .out_dir = s->cfg->out_dir, .warc = s->cfg->warc};
    s->batch = fresh;
    s->lines = NULL;
    s->lines_len = s->lines_cap = 0;
    s->nlines = 0;
    if (s->store && tw_frontier_wants_refill(s->frontier)) {
        j->refill_after = tw_frontier_spill_cursor(s->frontier);
        j->refill_room = (long)tw_frontier_refill_room(s->frontier);
    }
    return j;
}

/* Gives the frontier the spilled URLs a job read back, in id order. A refill that
 * found nothing although nothing waits to be committed means the store holds fewer
 * than were counted (a hand-edited file): the count is dropped so the crawl can end. */
static void apply_refill(server *s, flush_job *j) {
    for (size_t i = 0; i < j->nrows; i++) {
        refill_row *r = &j->rows[i];
        if (tw_frontier_refill(s->frontier, r->url, r->depth, r->parent, r->seed, r->attempts, r->id) ==
            TW_FRONTIER_ENOMEM)
            tr_crash("out of memory");
    }
    if (j->refill_room > 0 && j->nrows == 0 && waiting(s) == 0 && !s->flush_busy)
        tw_frontier_set_spilled(s->frontier, 0, tw_frontier_spill_cursor(s->frontier));
}

/* Ends a job that came back. Returns 0, or -1 with the reason in err (n bytes). */
static int job_done(server *s, flush_job *j, char *err, size_t n) {
    int rc = j->failed ? -1 : 0;
    if (rc) {
        snprintf(err, n, "%s", j->err);
        s->failed = true;
    } else {
        apply_refill(s, j);
    }
    job_free(j);
    return rc;
}

/* A failed write is fatal to the crawl: the application stops with the message (exit
 * status 1); what was recorded before stays, the rest is fetched again on resume. */
static void fatal(server *s, const char *err) {
    s->stopping = true;
    tr_reason *why = tr_reason_new("%s", err);
    if (tr_app_stop(TW_CRAWL_APP, why) != 0) tr_crash("%s", err);
    tr_reason_unref(why);
}

/* Hands what waits to the flusher, unless it is busy (then it goes when the job in
 * flight comes back). */
static void flush_async(server *s) {
    bool refill = s->store && tw_frontier_wants_refill(s->frontier);
    if (s->failed || !s->pages || (waiting(s) == 0 && !refill)) return;
    if (s->flush_busy) {
        s->flush_again = true;
        return;
    }
    flush_job *j = take_job(s);
    s->flush_busy = true;
    s->flush_again = false;
    if (tr_send(s->flusher, TW_TAG_FLUSH_JOB, &j, sizeof j) != 0) tr_crash("out of memory");
}

/* The flusher's answer. */
/* Ends the job a TW_TAG_FLUSH_DONE message brings back. Returns 0, or -1 with err. */
static int job_back(server *s, const tr_msg *msg, char *err, size_t n) {
    flush_job *j;
    memcpy(&j, msg->data, sizeof j);
    s->flush_busy = false;
    return job_done(s, j, err, n);
}

static void on_flush_done(server *s, const tr_msg *msg) {
    char err[600];
    if (job_back(s, msg, err, sizeof err) != 0) {
        fatal(s, err);
        return;
    }
    pump(s); /* refilled URLs may be ready */
    if (s->flush_again || waiting(s) >= FLUSH_CHANGES) flush_async(s);
}

/* Waits for the job in flight, if any (blocks the Server). Returns 0, or -1 with err. */
static int flush_wait(server *s, char *err, size_t n) {
    if (!s->flush_busy) return 0;
    tr_msg *m = tr_receive_tag(TW_TAG_FLUSH_DONE, TR_INFINITY);
    int rc = job_back(s, m, err, n);
    tr_msg_free(m);
    return rc;
}

/* Commits everything that waits and writes its lines before returning (the job in
 * flight first). Returns 0, or -1 with the reason in err (n bytes). */
static int flush(server *s, char *err, size_t n) {
    if (s->failed) {
        snprintf(err, n, "an earlier write failed");
        return -1;
    }
    if (flush_wait(s, err, n) != 0) return -1;
    if (!s->pages || waiting(s) == 0) return 0;
    flush_job *j = take_job(s);
    job_run(j);
    return job_done(s, j, err, n);
}

static void flush_or_crash(server *s) {
    char err[600];
    if (s->failed || flush(s, err, sizeof err) == 0) return; /* a failure is reported once */
    fatal(s, err);
}

/* Called after each message: hands the batch over once enough waits, else within
 * FLUSH_MS. While the flusher is busy changes pile up; past FLUSH_BACKLOG the Server
 * waits for it, so a slow disk slows the crawl instead of filling memory. */
static void maybe_flush(server *s) {
    size_t w = waiting(s);
    if (w >= FLUSH_BACKLOG && s->flush_busy) {
        char err[600];
        if (flush_wait(s, err, sizeof err) != 0) {
            fatal(s, err);
            return;
        }
    }
    if (w >= FLUSH_CHANGES || (!s->flush_busy && s->store && tw_frontier_wants_refill(s->frontier))) {
        flush_async(s); /* a refill is wanted at once: the window is running dry */
    } else if (w > 0 && !s->flush_armed) {
        s->flush_armed = true;
        tr_send_after(FLUSH_MS, tr_self(), TW_TAG_FLUSH, NULL, 0);
    }
}

/* Formats rec's line to write once the batch it belongs to is committed. */
static void keep_line(server *s, const tw_page_record *rec) {
    size_t len = 0;
    char *line = tw_pages_format(rec, &len);
    if (!line) tr_crash("out of memory");
    if (s->lines_len + len > s->lines_cap) {
        size_t cap = s->lines_cap ? s->lines_cap * 2 : 64 * 1024;
        while (cap < s->lines_len + len) cap *= 2;
        char *l = realloc(s->lines, cap);
        if (!l) tr_crash("out of memory");
        s->lines = l;
        s->lines_cap = cap;
    }
    memcpy(s->lines + s->lines_len, line, len);
    s->lines_len += len;
    s->nlines++;
    free(line);
}

static void store_check(int rc) {
    if (rc != 0) tr_crash("out of memory");
}

/* ---------------------------------------------------------------- outcomes */

static void record(server *s, const tw_frontier_item *it, const tw_page_record *rec) {
    /* Past --max-pages nothing more ends: the URL stays queued in the store. */
    if (s->stopping || limit_reached(s)) return;
    keep_line(s, rec);
    if (s->store) store_check(tw_store_batch_ended_id(s->batch, it->id, rec->attempts));
    s->ended++;
    if (rec->error) s->errors++;
}

static void record_simple(server *s, const tw_frontier_item *it, const char *error, int attempts) {
    tw_page_record rec = {.url = it->url, .status = 0, .error = error, .attempts = attempts,
                          .depth = it->depth, .parent = it->parent, .fetched_at_ms = wall_ms()};
    record(s, it, &rec);
}

/* Adds url to the frontier unless seen, and stores it under its new id (held in the
 * window or spilled: both are new). */
static void add_url(server *s, const char *url, int depth, const char *parent, const char *seed) {
    int64_t id = 0;
    int r = tw_frontier_add_id(s->frontier, url, depth, parent, seed, &id);
    if ((r == 1 || r == TW_FRONTIER_SPILLED) && s->store)
        store_check(tw_store_batch_add_url_id(s->batch, id, url, depth, parent, seed));
}

/* Adds a discovered link (or redirect target) if scope, filters, depth and the seen set
 * allow it. */
static void discover(server *s, const tw_frontier_item *from, const char *url, int depth) {
    if (s->cfg->max_depth >= 0 && depth > s->cfg->max_depth) return;
    if (!tw_scope_allows(s->scope, from->seed, url)) return;
    add_url(s, url, depth, from->url, from->seed);
}

static double uniform01(void *ctx) { /* the retry jitter's random source */
    server *s = ctx;
    s->rng = s->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(s->rng >> 11) / (double)(1ull << 53);
}

/* Queues the URL again after delay_ms; the frontier takes the item. */
static void retry_later(server *s, flight *f, int64_t delay_ms) {
    if (s->store) store_check(tw_store_batch_attempts_id(s->batch, f->item.id, f->item.attempts));
    tw_frontier_retry(s->frontier, &f->item, tr_now_ms() + delay_ms);
    s->retries_scheduled++;
}

static void on_robots(server *s, flight *f, const tw_result *res, const char *body) {
    int status = res->err == TW_FETCH_OK ? res->status : 0;
    tw_robots *r = tw_robots_from_status(status, body, res->robots_len, s->product);
    double delay = r ? tw_robots_crawl_delay(r) : -1;
    bool reachable = r && tw_robots_get_state(r) != TW_ROBOTS_UNREACHABLE;
    tw_frontier_robots(s->frontier, f->host, r, tr_now_ms()); /* takes r */
    int64_t ms = delay > 0 ? (int64_t)(delay * 1000.0 + 0.5) : 0;
    if (ms > 0) tw_frontier_set_interval(s->frontier, f->host, ms); /* Downloaders tell the limiter */
    /* Kept so that a resumed crawl obeys it without fetching it again (within its
     * 24 hours); an unreachable one is fetched again anyway. */
    if (reachable && s->store)
        store_check(tw_store_batch_host(s->batch, f->host, status, body, res->robots_len, res->fetched_at_ms, ms));
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
    /* The writer starts before us and a restart of it restarts us: looked up once. */
    if (s->cfg->warc && !s->warc_writer) s->warc_writer = tr_whereis(TW_WARC_NAME);
    job->warc_writer = s->warc_writer;
    job->kind = kind;
    job->interval_ms = tw_frontier_interval(s->frontier, host);
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
    while (!s->stopping && !limit_reached(s) && s->in_flight < s->cfg->concurrency) {
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
            /* RFC 9309 treats an unreachable robots.txt as "disallow all"; say which. */
            record_simple(s, &it,
                          tw_frontier_robots_unreachable(s->frontier, host)
                              ? "disallowed by robots.txt (robots.txt unreachable)"
                              : "disallowed by robots.txt",
                          0);
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

/* tw_pages_repair's callback: a URL with a line in pages.jsonl has ended. */
static int mark_ended(void *ctx, const char *url, size_t len) {
    (void)len;
    server *s = ctx;
    return tw_frontier_mark_seen(s->frontier, url) < 0 ? -1 : 0;
}

typedef struct resume_job { /* the store's part of a resume, on the blocking pool */
    tw_store *store;
    tw_frontier *frontier;
    long queued;
    char err[1024];
} resume_job;

static void resume_run(void *arg) {
    resume_job *j = arg;
    j->queued = tw_store_resume(j->store, j->frontier, j->err, sizeof j->err);
}

/* tw_store_load_hosts's callback: what a previous run knew of a host. Its robots.txt
 * rules stand for the rest of their 24 hours, and its first start waits one interval
 * (its Crawl-delay or 1/--rate), as if a request had just started: the previous run's
 * last one was no later than now, so a restart never shortens the gap between two. */
static int restore_host(void *ctx, const tw_store_host *h) {
    server *s = ctx;
    int64_t now = tr_now_ms(), age = wall_ms() - h->robots_at_ms;
    tw_robots *r = NULL;
    if (!s->cfg->ignore_robots && age >= 0 && age < TW_FRONTIER_ROBOTS_TTL_MS)
        r = tw_robots_from_status(h->robots_status, h->robots ? h->robots : "", h->robots_len, s->product);
    int64_t wait = h->interval_ms > s->rate_interval_ms ? h->interval_ms : s->rate_interval_ms;
    return tw_frontier_restore_host(s->frontier, h->host, r, now - (age > 0 ? age : 0), h->interval_ms, now + wait) ==
           TW_FRONTIER_ENOMEM;
}

/* Rebuilds the frontier: pages.jsonl first (repaired after a crash: its URLs are seen),
 * then the store (every stored URL seen, the queued ones spilled: refills bring them
 * back a window at a time), then the seeds the configuration names (new ones are
 * stored). 0, or -1 with err. */
static int resume(server *s, char *err, size_t n) {
    const tw_crawl_config *cfg = s->cfg;
    long lines = tw_pages_repair(cfg->out_dir, mark_ended, s);
    if (lines < 0) {
        snprintf(err, n, "cannot read %s/%s: %s", cfg->out_dir, TW_PAGES_FILE,
                 lines == -ECANCELED ? "out of memory" : strerror((int)-lines));
        return -1;
    }
    s->ended = lines;
    if (!cfg->bench_no_store) {
        if (!(s->store = tw_store_open(cfg->out_dir, err, n))) return -1;
        /* Each commit reaches the disk before its pages' lines are written, so a power
         * cut never leaves a line whose discoveries were lost; the flusher pays for it. */
        if (tw_store_set_synchronous(s->store, true, err, n) != 0) return -1;
        resume_job *j = calloc(1, sizeof *j);
        if (!j) {
            snprintf(err, n, "out of memory");
            return -1;
        }
        *j = (resume_job){.store = s->store, .frontier = s->frontier};
        if (tr_blocking(resume_run, j, 0) != 0) resume_run(j);
        long queued = j->queued;
        if (queued < 0) snprintf(err, n, "%s", j->err[0] ? j->err : "out of memory");
        free(j);
        if (queued < 0) return -1;
        tw_frontier_set_window(s->frontier, cfg->frontier_window ? cfg->frontier_window : TW_FRONTIER_WINDOW_DEFAULT);
    }
    if (s->store) {
        long hosts = tw_store_load_hosts(s->store, restore_host, s, err, n);
        if (hosts < 0) {
            if (!err[0]) snprintf(err, n, "out of memory");
            return -1;
        }
    }
    /* else measuring the store's cost: no state kept, this run cannot be resumed */
    for (size_t i = 0; i < cfg->nseeds; i++) add_url(s, cfg->seeds[i], 0, NULL, cfg->seeds[i]);
    return 0;
}

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
    s->rate_interval_ms = cfg->rate > 0 ? (int64_t)(1000.0 / cfg->rate + 0.5) : 0;
    s->frontier = tw_frontier_new(cfg->per_host, s->rate_interval_ms, !cfg->ignore_robots);
    s->batch = tw_store_batch_new();
    s->product = tw_user_agent_product(cfg->user_agent);
    char err[1024] = "";
    if (!s->frontier || !s->batch)
        snprintf(err, sizeof err, "out of memory");
    else if (mkdir(cfg->out_dir, 0777) != 0 && errno != EEXIST)
        snprintf(err, sizeof err, "cannot create the output directory %s: %s", cfg->out_dir, strerror(errno));
    else if (resume(s, err, sizeof err) != 0) {
        /* err says what and where */
    } else if (!(s->pages = tw_pages_open(cfg->out_dir, err, sizeof err))) {
        /* err says what and where */
    } else if (!(s->scope = tw_scope_new(cfg->scope, cfg->includes, cfg->nincludes, cfg->excludes,
                                         cfg->nexcludes, err, sizeof err))) {
        /* err quotes the pattern */
    }
    if (err[0]) {
        tw_pages_close(s->pages);
        tw_store_close(s->store);
        tw_store_batch_free(s->batch);
        tw_frontier_free(s->frontier);
        free(s->product);
        free(s);
        tr_gen_ret_stop(out, tr_reason_new("%s", err));
        return;
    }
    /* So that the supervisor's shutdown runs terminate, which commits what waits. */
    tr_trap_exit(true);
    s->flusher = tr_spawn_opt(flusher, NULL, &(tr_spawn_opts){.entry = "store_flusher", .link = true}, NULL);
    if (!s->flusher) tr_crash("cannot start the store's flusher");
    maybe_flush(s); /* new seeds */
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
    maybe_flush(s);
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
    } else if (msg->kind == TR_MSG_USER && msg->tag == TW_TAG_STOP) {
        request_stop();
    } else if (msg->kind == TR_MSG_USER && msg->tag == TW_TAG_FLUSH) {
        s->flush_armed = false;
        flush_async(s);
    } else if (msg->kind == TR_MSG_USER && msg->tag == TW_TAG_FLUSH_DONE && msg->len == sizeof(void *)) {
        on_flush_done(s, msg);
    } else if (msg->kind == TR_MSG_EXIT && msg->from == s->flusher) {
        tr_crash("the store's flusher died: %s", tr_reason_text(msg->reason));
    }
    maybe_flush(s);
}

static void terminate(const tr_reason *reason, void *state) {
    (void)reason;
    server *s = state;
    char err[600];
    if (!s->failed && flush(s, err, sizeof err) != 0) fprintf(stderr, "trawl: %s\n", err); /* what was recorded stays */
    for (int b = 0; b < FLIGHT_BUCKETS; b++)
        for (flight *f = s->flights[b], *n; f; f = n) {
            n = f->next;
            tw_frontier_item_free(&f->item);
            free(f);
        }
    free(s->lines);
    if (s->flusher) {
        tr_unlink(s->flusher);
        tr_exit_pid(s->flusher, TR_KILL);
    }
    tw_pages_close(s->pages);
    tw_store_close(s->store);
    tw_store_batch_free(s->batch);
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
    /* High priority: each report it handles frees a slot for the next Downloader, so a
     * report waiting behind Downloaders is a request not made. */
    return tr_gen_start_link(&server_cb, cfg, &(tr_gen_opts){.name = TW_SERVER_NAME, .priority = TR_PRIORITY_HIGH},
                             pid, why);
}
