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
/* The schema version written to meta.format; tw_store_open refuses other versions. */
#define TW_STORE_FORMAT 1

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
} tw_store_url;

/* Called by tw_store_load_urls for each URL; return 0 to go on, anything else to stop. */
typedef int (*tw_store_url_fn)(void *ctx, const tw_store_url *u);

/*
 * Calls fn for every stored URL in the order they were first stored (so a resumed
 * crawl keeps its breadth-first order). Returns the number of URLs visited (>= 0),
 * -1 on a database error (message in err), or -2 if fn stopped the scan.
 */
long tw_store_load_urls(tw_store *st, tw_store_url_fn fn, void *ctx, char *err, size_t n);

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

/* Stores a queued URL unless it is stored already (then nothing changes). Strings are
 * copied; parent may be NULL. Returns 0 or -1 when out of memory. */
int tw_store_batch_add_url(tw_store_batch *b, const char *url, int depth, const char *parent, const char *seed);

/* Records that url has been requested `attempts` times. Returns 0 or -1 (out of memory). */
int tw_store_batch_attempts(tw_store_batch *b, const char *url, int attempts);

/* Marks url ended after `attempts` requests. Returns 0 or -1 (out of memory). */
int tw_store_batch_ended(tw_store_batch *b, const char *url, int attempts);

/*
 * Applies every change of b, in the order they were made, in one transaction, and
 * empties b. On failure nothing of the batch is applied, b is emptied all the same,
 * and -1 is returned with a message in err (n bytes, "cannot write DIR/state.sqlite:
 * database or disk is full"). Blocks the calling thread (SQLite I/O). Returns 0 on success.
 */
int tw_store_commit(tw_store *st, tw_store_batch *b, char *err, size_t n);

#endif
