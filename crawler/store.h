/* store.h - the crawl's state store: DIR/state.sqlite (SQLite, WAL): stored options and URLs, batched writes. */
#ifndef TW_STORE_H
#define TW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The state store keeps what a crawl needs to resume that pages.jsonl does not hold:
 * the options it runs with and every URL it queued (its depth, parent, seed, attempts,
 * whether it ended). docs/crawler.md ("State store") gives the schema. pages.jsonl
 * stays the truth about which URLs ended: a URL marked ended here whose line is not in
 * pages.jsonl is queued again on resume.
 *
 * It also holds the frontier's queue beyond its window (frontier.h): URLs are stored
 * under the frontier's ids (urls.id), spilled URLs are paged back by id
 * (tw_store_refill), and a resume loads only the fingerprints (tw_store_resume), so
 * memory does not grow with the queue.
 *
 * The database runs in WAL mode with synchronous=NORMAL: a commit is atomic and never
 * torn by a crash of the process; only a power loss may lose the last commits (never
 * corrupt the file). Changes are gathered in a tw_store_batch and applied in one
 * transaction by tw_store_commit, which blocks its thread: the Server runs it on the
 * runtime's blocking pool.
 *
 * A tw_store is one SQLite connection: use it from one thread at a time.
 */
typedef struct tw_store tw_store;

/* The database's file name inside the crawl directory. */
#define TW_STORE_FILE "state.sqlite"
/* The schema version written to meta.format; tw_store_open also reads format 1 (the
 * same tables with a UNIQUE index on urls.fp, slower to write) and refuses others. */
#define TW_STORE_FORMAT 2

/* Meta keys. */
#define TW_STORE_META_OPTIONS "options" /* tw_options_to_json of the crawl's options */

/* Whether DIR/state.sqlite exists (a crawl may be resumed from DIR). Does not allocate. */
bool tw_store_exists(const char *dir);

/*
 * Opens DIR/state.sqlite, creating the file and its tables when missing (the directory
 * must exist), in WAL mode. Returns a store to close with tw_store_close(), or NULL
 * with a message saying what and where in err (n bytes): the file cannot be created or
 * opened, is not a database, or has another format version.
 */
tw_store *tw_store_open(const char *dir, char *err, size_t n);

/* Closes the connection (checkpointing the WAL) and frees st. NULL is a no-op. */
void tw_store_close(tw_store *st);

/*
 * Looks up meta key. Returns 1 with *value set to a new NUL-terminated string the
 * caller frees, 0 when the key is absent (*value = NULL), or -1 on a database error
 * (message in err, n bytes).
 */
int tw_store_get_meta(tw_store *st, const char *key, char **value, char *err, size_t n);

/* One stored URL, as tw_store_load_urls hands it out. Strings are valid during the call only. */
typedef struct tw_store_url {
    uint64_t fp;        /* tw_frontier_fingerprint(url) */
    const char *url;
    int depth;
    const char *parent; /* NULL for a seed */
    const char *seed;
    int attempts;       /* requests made so far (recorded on retries) */
    bool ended;         /* marked ended: its pages.jsonl line was written, or about to be */
    int64_t id;         /* urls.id: its place in the order found */
} tw_store_url;

/* Called by tw_store_load_urls for each URL; return 0 to go on, anything else to stop. */
typedef int (*tw_store_url_fn)(void *ctx, const tw_store_url *u);

/*
 * Calls fn for every stored URL in the order they were first stored (so a resumed
 * crawl keeps its breadth-first order). Returns the number of URLs visited (>= 0),
 * -1 on a database error (message in err), or -2 if fn stopped the scan.
 */
long tw_store_load_urls(tw_store *st, tw_store_url_fn fn, void *ctx, char *err, size_t n);

/*
 * Calls fn for each queued URL with an id greater than after_id, in id order (the order
 * found), at most `limit` of them: a page of the queue, read from the primary key, so
 * it costs the rows returned plus the ended rows stepped over, whatever the table's
 * size. *last_id (if not NULL) is set to the id of the last URL visited (unchanged when
 * none). Returns the number of URLs visited (0 when limit <= 0 or none is left), -1 on
 * a database error (message in err, n bytes), -2 if fn stopped (the URL it stopped at
 * is not counted and *last_id stays before it). Blocks its thread (SQLite I/O).
 */
long tw_store_load_queued(tw_store *st, int64_t after_id, long limit, tw_store_url_fn fn, void *ctx,
                          int64_t *last_id, char *err, size_t n);

/* Called by tw_store_load_seen for each stored URL: its id, fingerprint, and whether it
 * is marked ended. Return 0 to go on, anything else to stop. */
typedef int (*tw_store_seen_fn)(void *ctx, int64_t id, uint64_t fp, bool ended);

/*
 * Calls fn for every stored URL in id order with its fingerprint only (no strings are
 * read into memory: the seen set of a resumed crawl costs 8 bytes a URL, not the URLs).
 * Returns the number of URLs visited, -1 on a database error (message in err), -2 if
 * fn stopped. Blocks its thread; reads the whole table (once per resume).
 */
long tw_store_load_seen(tw_store *st, tw_store_seen_fn fn, void *ctx, char *err, size_t n);

/* One stored host, as tw_store_load_hosts hands it out; valid during the call only. */
typedef struct tw_store_host {
    const char *host;      /* "host:port" */
    int robots_status;     /* HTTP status of its robots.txt */
    const void *robots;    /* the body (robots_len bytes; NULL when empty) */
    size_t robots_len;
    int64_t robots_at_ms;  /* when it was fetched, ms since the epoch */
    int64_t interval_ms;   /* least interval between starts from Crawl-delay, 0 if none */
} tw_store_host;

/* Called by tw_store_load_hosts for each host; 0 to go on, anything else to stop. */
typedef int (*tw_store_host_fn)(void *ctx, const tw_store_host *h);

/* Calls fn for every stored host. Returns the number visited, -1 on a database error
 * (message in err, n bytes), -2 if fn stopped. Blocks its thread. */
long tw_store_load_hosts(tw_store *st, tw_store_host_fn fn, void *ctx, char *err, size_t n);

/* ---------------------------------------------------------------- the frontier's window */

struct tw_frontier;

/*
 * Resumes the frontier f from the store: puts every stored URL's fingerprint in f's
 * seen set, declares the queued ones spilled (tw_frontier_set_spilled), so none is
 * held in memory yet (tw_store_refill then loads the first window), and sets f's next
 * id past the greatest stored (tw_frontier_set_next_id). Call it once, after
 * f's seen set has been given the URLs of pages.jsonl (tw_pages_repair +
 * tw_frontier_mark_seen) and before anything else is added to f: a stored URL already
 * seen is taken to have its line in pages.jsonl. It also makes the store agree with
 * pages.jsonl, in one transaction: a URL marked ended without a line is marked queued
 * again (its end was committed but the line never written: it is fetched again), and a
 * queued URL with a line is marked ended. Returns the number of queued URLs, or -1
 * (database error or out of memory, message in err, n bytes). Blocks its thread.
 */
long tw_store_resume(tw_store *st, struct tw_frontier *f, char *err, size_t n);

/*
 * Takes spilled URLs back into f from the store, in id order from f's spill cursor,
 * until f's window is full, every spilled URL is back, or `max` (when > 0) are taken;
 * through tw_frontier_refill, with their id, depth, parent, seed and the attempts
 * recorded (a retry interrupted by a restart keeps its count, as the Server's own
 * refill does). The URLs must have been stored with
 * the ids f gave them (tw_store_batch_add_url_id). Call it when
 * tw_frontier_wants_refill(f) says so, best right after tw_store_commit: spilled URLs
 * whose add is not committed yet are not found, and are taken on a later call. When
 * every id f gave is committed and the store still has fewer than counted (only a
 * hand-edited file), the spilled count is set to 0, so the crawl can end. Returns the
 * number of URLs taken back (0 when none is due or none is committed yet), or -1
 * (database error or out of memory, message in err; the URLs taken back stay, the
 * others stay spilled). Blocks its thread (SQLite reads), so the Server runs it on
 * the blocking pool.
 */
long tw_store_refill(tw_store *st, struct tw_frontier *f, long max, char *err, size_t n);

/*
 * Sets the durability of commits: full false is synchronous=NORMAL (the default: WAL
 * fsynced at checkpoints only: a power loss may lose the last commits), true is
 * synchronous=FULL (the WAL fsynced at every commit: a committed batch survives a power
 * loss). Returns 0, or -1 with a message in err. Blocks briefly.
 */
int tw_store_set_synchronous(tw_store *st, bool full, char *err, size_t n);

/* ---------------------------------------------------------------- batched changes */

/* Changes waiting to be committed together. Owned by whoever made it; not thread-safe. */
typedef struct tw_store_batch tw_store_batch;

/* A new empty batch, or NULL when out of memory. Free with tw_store_batch_free(). */
tw_store_batch *tw_store_batch_new(void);

/* Frees the batch and the changes still in it. NULL is a no-op. */
void tw_store_batch_free(tw_store_batch *b);

/* Changes held. */
size_t tw_store_batch_len(const tw_store_batch *b);

/* Sets meta key to value (both copied). Returns 0 or -1 when out of memory. */
int tw_store_batch_meta(tw_store_batch *b, const char *key, const char *value);

/*
 * Changes are made by id (the frontier's, tw_frontier_add_id and tw_frontier_item.id):
 * each touches the table's own key, so an add appends and an end rewrites one row, at
 * a cost that does not grow with the crawl.
 */

/* Stores a queued URL under its id (tw_frontier_add_id's); a URL with this id already
 * stored is left as it is. Strings are copied; parent may be NULL. Returns 0 or -1
 * when out of memory. */
int tw_store_batch_add_url_id(tw_store_batch *b, int64_t id, const char *url, int depth, const char *parent,
                              const char *seed);

/* Records that the URL with this id has been requested `attempts` times. Returns 0 or
 * -1 (out of memory). */
int tw_store_batch_attempts_id(tw_store_batch *b, int64_t id, int attempts);

/* Marks the URL with this id ended after `attempts` requests. Returns 0 or -1 (out of
 * memory). */
int tw_store_batch_ended_id(tw_store_batch *b, int64_t id, int attempts);

/* Robots.txt bodies are stored up to this many bytes (RFC 9309 asks parsers to read at
 * least 500 KiB). */
#define TW_STORE_ROBOTS_MAX (512 * 1024)

/* Records what the crawl knows of a host (key "host:port"), replacing what was stored:
 * the status and body (len bytes, any bytes, cut at TW_STORE_ROBOTS_MAX) of its
 * robots.txt fetched at robots_at_ms (ms since the epoch), and its least interval
 * between request starts from Crawl-delay (0 if none). Copied. 0, or -1 (out of memory). */
int tw_store_batch_host(tw_store_batch *b, const char *host, int robots_status, const void *robots, size_t len,
                        int64_t robots_at_ms, int64_t interval_ms);

/*
 * Applies every change of b, in the order they were made, in one transaction, and
 * empties b. On failure nothing of the batch is applied, b is emptied all the same,
 * and -1 is returned with a message in err (n bytes, "cannot write DIR/state.sqlite:
 * database or disk is full"). Blocks the calling thread (SQLite I/O). Returns 0 on success.
 */
int tw_store_commit(tw_store *st, tw_store_batch *b, char *err, size_t n);

/* The greatest URL id committed (0 for an empty store): a new crawl's first URL gets
 * the next. Does not block. */
int64_t tw_store_last_id(const tw_store *st);

#endif
