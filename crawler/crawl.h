/* crawl.h -- the crawl application: its configuration, its processes, and the messages
 * they exchange. docs/crawler.md draws the supervision tree and says why it is ordered
 * as it is.
 *
 *   trawl (application, rest_for_one)
 *   ├── warc_writer   gen_server: appends the records Downloaders encode to the WARC
 *   │                 files; syncs them before the server records their pages
 *   ├── server        gen_server: frontier, seen set, outcomes, retries; starts and
 *   │                 monitors Downloaders; writes pages.jsonl and the state store
 *   ├── http          the HTTP service processes (libcurl multi handles)
 *   ├── rate_limiter  gen_server: per-host in-flight and start-rate slots, a blocking
 *   │                 pool that monitors the Downloaders holding slots
 *   └── downloaders   dynamic supervisor of Downloaders (temporary): one URL each
 */
#ifndef TW_CRAWL_H
#define TW_CRAWL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tr.h>
#include <tr_otp.h>

#include "fetch.h"
#include "scope.h"

#define TW_CRAWL_APP "trawl"
#define TW_SERVER_NAME "crawl_server"
#define TW_HTTP_NAME "crawl_http"
#define TW_LIMITER_NAME "rate_limiter"
#define TW_DOWNLOADERS_NAME "downloaders"
#define TW_WARC_NAME "warc_writer"

/* Everything a crawl needs to run, as the command line (or the stored crawl) set it.
 * Owned by main; the processes read it and never change it. */
typedef struct tw_crawl_config {
    const char *out_dir;
    const char *const *seeds; /* normalized absolute URLs */
    size_t nseeds;
    long max_pages;           /* 0 = no limit */
    long max_depth;           /* < 0 = no limit */
    tw_scope_mode scope;
    const char *const *includes; /* PCRE2 patterns */
    size_t nincludes;
    const char *const *excludes;
    size_t nexcludes;
    int concurrency;
    int per_host;
    double rate;              /* starts per second per host; 0 = no limit */
    int retries;
    double timeout_s;
    size_t max_bytes;
    const char *user_agent;
    bool ignore_robots;
    bool warc;                /* write WARC files (not --no-warc) */
    size_t frontier_window;   /* URLs held in memory, the rest spilled to the store;
                                 0 = TW_FRONTIER_WINDOW_DEFAULT (TRAWL_FRONTIER_WINDOW) */
    bool bench_no_store;      /* benchmarks only (TRAWL_BENCH_NO_STORE=1): keep no state
                                 store, so its cost can be measured; not resumable */
    bool progress;            /* draw the progress line (a terminal, not --quiet) */
    int http_services;        /* 0 = one per scheduler */
} tw_crawl_config;

/* How a crawl ended, for main's exit status. */
typedef enum tw_crawl_end {
    TW_CRAWL_FINISHED = 0, /* every URL ended, or a limit was reached */
    TW_CRAWL_FATAL = 1,    /* e.g. the output could not be written (message printed) */
    TW_CRAWL_INTERRUPTED = 130,
} tw_crawl_end;

/* Runs a whole crawl from main: starts the runtime and the application, waits for the
 * crawl to end (or for tw_crawl_interrupt), stops the tree in order. Blocks. */
tw_crawl_end tw_crawl_run(const tw_crawl_config *cfg);

/* Asks a running crawl to stop (SIGINT/SIGTERM): in-flight requests are dropped and
 * stay queued. Safe from any thread; not from a signal handler. Returns 0, or
 * TR_EBADNAME while the crawl is not (yet, or any more) running. */
int tw_crawl_interrupt(void);

/* ---------------------------------------------------------------- internal messages */

enum {
    TW_TAG_BASE = 0x7477000000000000ull, /* "tw": clear of the runtime's reserved tags */
    TW_TAG_ACQUIRE,      /* call rate_limiter: tw_acquire_msg; reply when a slot is ours */
    TW_TAG_RESULT,       /* Downloader -> server: a packed tw_result */
    TW_TAG_FETCHER,      /* call http: reply = tw_fetcher */
    TW_TAG_PUMP,         /* server to itself: look for work */
    TW_TAG_PROGRESS,     /* server to itself: redraw the progress line */
    TW_TAG_STOP,         /* server: finish (limit reached, interrupted) */
    TW_TAG_FLUSH,        /* server to itself: commit the store batch, write pages.jsonl lines */
    TW_TAG_FLUSH_JOB,    /* server -> its flusher: a flush_job pointer to run */
    TW_TAG_FLUSH_DONE,   /* flusher -> server: the job pointer, done */
    TW_TAG_WARC_RECORD,  /* Downloader -> warc_writer: a binary of encoded records */
    TW_TAG_WARC_SYNC,    /* call warc_writer: make every record received so far durable */
};

/* A Downloader's request for a slot. It carries the host's Crawl-delay as the Server
 * knows it, so the limiter never depends on having been told before: a restarted
 * limiter, or a resumed crawl whose robots.txt came from the store, enforces it from
 * the first request on. */
typedef struct tw_acquire_msg {
    int64_t interval_ms; /* least time between request starts to host (0: 1/--rate) */
    char host[256];      /* host key, NUL-terminated */
} tw_acquire_msg;

typedef enum tw_job_kind { TW_JOB_PAGE, TW_JOB_ROBOTS } tw_job_kind;

/* What a Downloader is started with (the dynamic supervisor keeps a copy). */
typedef struct tw_job {
    tw_fetcher fetcher;
    tr_pid server, limiter;
    tr_pid warc_writer;       /* 0 with --no-warc */
    tw_job_kind kind;
    int64_t interval_ms;      /* host's Crawl-delay in ms, 0 if none: for the limiter */
    int attempt;              /* 1 for the first request */
    int64_t timeout_ms;
    size_t max_bytes;
    bool obey_nofollow;
    char user_agent[128];
    char host[256];           /* host key: host:port */
    char url[4096];
} tw_job;

/* What a Downloader reports. Variable strings follow the struct, NUL-separated:
 * url, content_type, redirect, then the followable links, then (robots only) the body. */
typedef struct tw_result {
    tw_job_kind kind;
    int attempt;
    int status;
    int err;                  /* tw_fetch_err */
    char err_text[160];
    bool truncated;
    size_t bytes;             /* decoded body bytes kept */
    int64_t fetched_at_ms;    /* wall clock, ms since the epoch, of the request start */
    int64_t ms;               /* duration */
    long retry_after_s;       /* from Retry-After; -1 if none */
    int nlinks;               /* distinct http(s) links in the body */
    int nfollow;              /* links listed after the strings */
    size_t robots_len;        /* bytes of robots.txt body at the end */
    size_t strings_len;
} tw_result;

/* The processes' start functions (child specs of the application). */
int tw_server_start(void *cfg, tr_pid *pid, const tr_reason **why);
int tw_http_start(void *cfg, tr_pid *pid, const tr_reason **why);
int tw_limiter_start(void *cfg, tr_pid *pid, const tr_reason **why);
int tw_warc_writer_start(void *cfg, tr_pid *pid, const tr_reason **why);
int tw_downloader_start(void *unused, const void *job, size_t len, tr_pid *pid, const tr_reason **why);

/* For Downloaders: waits for a slot for host (blocks the caller only). interval_ms is
 * the host's Crawl-delay (0 if none): the limiter keeps the larger of it and 1/--rate
 * between starts to host. 0, or the call's error (the limiter is gone). */
int tw_limiter_acquire(tr_pid limiter, const char *host, int64_t interval_ms);

/* For Downloaders: encodes the exchange (compressing on the caller's scheduler) and sends
 * the records to the WARC writer. Never blocks. Returns 0, TW_WARC_EINVAL (a bad
 * exchange), TW_WARC_ENOMEM. */
struct tw_warc_exchange;
int tw_warc_writer_send(tr_pid writer, const struct tw_warc_exchange *x);
/* For the Server: waits until every record the writer has received is on disk.
 * Blocks the caller. Returns 0, or -1 with the reason in err (n bytes): a write error
 * (what and where), or the writer is gone. */
int tw_warc_writer_sync(char *err, size_t n);
/* Frees the encoders the Downloaders left for reuse; after the application has ended. */
void tw_warc_writer_cleanup(void);

#endif
