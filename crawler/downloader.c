/* downloader.c -- a Downloader: one URL, start to finish, then it ends.
 *
 * It waits for a slot from the RateLimiter, fetches through the HTTP service, extracts
 * the links, reports the outcome to the Server in one message, and returns. It
 * succeeds or crashes: anything unexpected (a parser fault, an assertion) ends only
 * this process, and the Server, which monitors it, decides what to do with the URL.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crawl.h"
#include "http_headers.h"
#include "links.h"
#include "url.h"
#include "warc.h"

typedef struct linkset {
    struct tw_url_base base;
    bool base_ok;
    bool obey_nofollow;
    char **urls;     /* distinct normalized http(s) links, in order */
    bool *follow;    /* whether each may be followed */
    size_t n, cap;
    uint64_t *seen;  /* hashes of urls, open addressing */
    size_t seen_cap;
} linkset;

static uint64_t fnv64(const char *s) {
    uint64_t h = 1469598103934665603ull;
    while (*s) h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h ? h : 1;
}

/* Adds url (taking it) unless already there; returns its index. */
static size_t linkset_add(linkset *ls, char *url) {
    if ((ls->n + 1) * 2 > ls->seen_cap) {
        size_t cap = ls->seen_cap ? ls->seen_cap * 2 : 64;
        uint64_t *t = calloc(cap, sizeof *t);
        TR_ASSERT(t != NULL);
        for (size_t i = 0; i < ls->n; i++) {
            size_t j = fnv64(ls->urls[i]) & (cap - 1);
            while (t[j]) j = (j + 1) & (cap - 1);
            t[j] = i + 1;
        }
        free(ls->seen);
        ls->seen = t;
        ls->seen_cap = cap;
    }
    size_t j = fnv64(url) & (ls->seen_cap - 1);
    for (; ls->seen[j]; j = (j + 1) & (ls->seen_cap - 1)) {
        size_t i = ls->seen[j] - 1;
        if (strcmp(ls->urls[i], url) == 0) {
            free(url);
            return i;
        }
    }
    if (ls->n == ls->cap) {
        ls->cap = ls->cap ? ls->cap * 2 : 32;
        ls->urls = realloc(ls->urls, ls->cap * sizeof *ls->urls);
        ls->follow = realloc(ls->follow, ls->cap * sizeof *ls->follow);
        TR_ASSERT(ls->urls && ls->follow);
    }
    ls->seen[j] = ls->n + 1;
    ls->urls[ls->n] = url;
    ls->follow[ls->n] = false;
    return ls->n++;
}

static void on_link(void *ctx, const tw_link *link) {
    linkset *ls = ctx;
    if (link->kind == TW_LINK_BASE) { /* later links resolve against it */
        char *abs = NULL;
        if (ls->base_ok && tw_url_resolve(&ls->base, link->url, link->url_len, &abs) == 0) {
            struct tw_url_base nb;
            if (tw_url_base_init(&nb, abs) == 0) {
                tw_url_base_free(&ls->base);
                ls->base = nb;
            }
        }
        free(abs);
        return;
    }
    /* Hyperlinks only: a <link> is one when its rel is alternate, canonical, next or
     * prev; stylesheets and icons are embedded resources, neither counted nor followed. */
    if (!ls->base_ok || (link->kind == TW_LINK_LINK && !tw_links_link_is_followable(link))) return;
    char *abs = NULL;
    if (tw_url_resolve(&ls->base, link->url, link->url_len, &abs) != 0) return;
    bool followable = !(ls->obey_nofollow && link->nofollow);
    size_t i = linkset_add(ls, abs);
    if (followable) ls->follow[i] = true;
}

static void linkset_free(linkset *ls) {
    for (size_t i = 0; i < ls->n; i++) free(ls->urls[i]);
    free(ls->urls);
    free(ls->follow);
    free(ls->seen);
    if (ls->base_ok) tw_url_base_free(&ls->base);
}

static bool is_html(const char *content_type) {
    return content_type[0] == 0 || strncasecmp(content_type, "text/html", 9) == 0 ||
           strncasecmp(content_type, "application/xhtml", 17) == 0;
}

/* Appends s and its NUL to buf. */
static void put(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
    if (*len + n + 1 > *cap) {
        *cap = (*len + n + 1) * 2;
        *buf = realloc(*buf, *cap);
        TR_ASSERT(*buf != NULL);
    }
    memcpy(*buf + *len, s, n);
    (*buf)[*len + n] = 0;
    *len += n + 1;
}

/* Sends the request and response records of a response that came whole (or cut at
 * --max-bytes) to the WARC writer, before the Server hears of the page: the Server's
 * sync then covers them. Timeouts and broken connections get no records. */
static void archive(const tw_job *job, const tw_response *r, const struct timespec *started) {
    if (!job->warc_writer || r->err != TW_FETCH_OK || tr_bin_len(r->resp_headers) == 0) return;
    tw_warc_exchange x = {
        .target_uri = job->url, .ip_address = r->ip, .date = *started,
        .request = tr_bin_data(r->req_headers), .request_len = tr_bin_len(r->req_headers),
        .response_head = tr_bin_data(r->resp_headers), .response_head_len = tr_bin_len(r->resp_headers),
        .body = tr_bin_data(r->raw_body), .body_len = tr_bin_len(r->raw_body), .truncated = r->truncated,
    };
    int rc = tw_warc_writer_send(job->warc_writer, &x);
    if (rc != 0) tr_crash("cannot make WARC records of %s: %s", job->url, tw_warc_strerror(rc));
}

static void downloader(void *arg) {
    tw_job *job = arg;
    tr_on_exit(free, job);
    TR_ASSERT(tw_limiter_acquire(job->limiter, job->host, job->interval_ms) == 0);

    tw_fetch_opts o = {.url = job->url, .timeout_ms = job->timeout_ms, .max_bytes = job->max_bytes,
                       .user_agent = job->user_agent};
    struct timespec started_ts;
    clock_gettime(CLOCK_REALTIME, &started_ts);
    int64_t started = (int64_t)started_ts.tv_sec * 1000 + started_ts.tv_nsec / 1000000;
    tw_response *r = NULL;
    TR_ASSERT(tw_fetch(&job->fetcher, &o, &r) == 0);
    archive(job, r, &started_ts);

    tw_result res = {.kind = job->kind, .attempt = job->attempt, .status = r->status, .err = r->err,
                     .truncated = r->truncated, .fetched_at_ms = started, .retry_after_s = -1};
    snprintf(res.err_text, sizeof res.err_text, "%.159s", r->err_text);
    res.ms = (int64_t)(r->timings.total_ms + 0.5);
    res.bytes = tr_bin_len(r->body);

    char *strings = NULL;
    size_t len = 0, cap = 0;
    put(&strings, &len, &cap, job->url, strlen(job->url));
    put(&strings, &len, &cap, r->content_type, strlen(r->content_type));

    tw_http_headers *h = NULL;
    char *redirect = NULL;
    if (tr_bin_len(r->resp_headers) &&
        tw_http_headers_parse(tr_bin_data(r->resp_headers), tr_bin_len(r->resp_headers), &h) == TW_HTTP_OK) {
        res.retry_after_s = tw_http_retry_after(h, time(NULL));
        const char *loc = tw_http_location(h);
        if (r->status >= 300 && r->status < 400 && loc && *loc) tw_url_normalize(loc, job->url, &redirect);
    }
    tw_http_headers_free(h);
    put(&strings, &len, &cap, redirect ? redirect : "", redirect ? strlen(redirect) : 0);
    free(redirect);

    if (job->kind == TW_JOB_PAGE && r->err == TW_FETCH_OK && is_html(r->content_type) && res.bytes) {
        linkset ls = {.obey_nofollow = job->obey_nofollow};
        ls.base_ok = tw_url_base_init(&ls.base, job->url) == 0;
        unsigned robots = 0;
        tw_links_extract(tr_bin_data(r->body), tr_bin_len(r->body), on_link, &ls, &robots);
        bool page_nofollow = job->obey_nofollow && (robots & TW_ROBOTS_NOFOLLOW);
        res.nlinks = (int)ls.n;
        for (size_t i = 0; i < ls.n; i++) {
            if (!ls.follow[i] || page_nofollow) continue;
            put(&strings, &len, &cap, ls.urls[i], strlen(ls.urls[i]));
            res.nfollow++;
        }
        linkset_free(&ls);
    }
    res.strings_len = len;
    if (job->kind == TW_JOB_ROBOTS && r->err == TW_FETCH_OK) res.robots_len = tr_bin_len(r->body);

    size_t total = sizeof res + len + res.robots_len;
    char *msg = malloc(total);
    TR_ASSERT(msg != NULL);
    memcpy(msg, &res, sizeof res);
    memcpy(msg + sizeof res, strings, len);
    if (res.robots_len) memcpy(msg + sizeof res + len, tr_bin_data(r->body), res.robots_len);
    tr_gen_cast(job->server, TW_TAG_RESULT, msg, total);
    free(msg);
    free(strings);
    tw_response_free(r);
}

int tw_downloader_start(void *unused, const void *job, size_t len, tr_pid *pid, const tr_reason **why) {
    (void)unused;
    (void)why;
    if (len != sizeof(tw_job)) return TR_EINVAL;
    tw_job *copy = malloc(sizeof *copy);
    if (!copy) return TR_ENOMEM;
    memcpy(copy, job, sizeof *copy);
    /* Spread: Downloaders are independent and do most of the crawl's CPU work (parsing,
     * WARC compression), and a started process never changes scheduler. Next to their
     * spawner (the supervisor) they would all share its scheduler. */
    *pid = tr_spawn_opt(downloader, copy, &(tr_spawn_opts){.entry = "downloader", .link = true, .spread = true},
                        NULL);
    if (!*pid) {
        free(copy);
        return TR_ELIMIT;
    }
    return 0;
}
