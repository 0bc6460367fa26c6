/* store.c - the crawl's state store on SQLite: schema, stored options, URLs, batched commits. */
#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontier.h"
#include "store.h"

/* The schema; docs/crawler.md ("State store") documents it for users of sqlite3.
 * urls.id keeps the order URLs were found in (a resumed crawl stays breadth-first):
 * the frontier's id when the caller gives it, changes by id find rows by it;
 * urls.fp is the frontier's fingerprint, read on resume to rebuild the seen set. It has
 * no index (format 2): a UNIQUE index on it (format 1) made every insert land at a
 * random place of a B-tree as large as the crawl, and commits slowed as the crawl grew
 * (bench_scale: 16k URLs/s at 1M, 6.6k at 10M; without it, a flat 31k). Duplicates
 * are kept out by the frontier's seen set, which every add goes through first. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS urls("
    " id INTEGER PRIMARY KEY,"
    " fp INTEGER NOT NULL,"
    " url TEXT NOT NULL,"
    " depth INTEGER NOT NULL,"
    " parent TEXT,"
    " seed TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL DEFAULT 'queued' CHECK(state IN ('queued','ended')));"
    "CREATE TABLE IF NOT EXISTS hosts("
    " host TEXT PRIMARY KEY,"
    " robots_status INTEGER NOT NULL,"
    " robots BLOB,"
    " robots_at INTEGER NOT NULL,"
    " interval_ms INTEGER NOT NULL DEFAULT 0);";

enum { ST_META, ST_ADD_ID, ST_ATTEMPTS_ID, ST_ENDED_ID, ST_QUEUED, ST_HOST, ST_NSTMT };

static const char *const stmt_sql[ST_NSTMT] = {
    [ST_META] = "INSERT OR REPLACE INTO meta(key,value) VALUES(?1,?2)",
    /* By id, the table's own key: an insert appends at the end of the table, an update
     * touches the row's page only (docs/crawler.md, "State store", has the costs). */
    [ST_ADD_ID] = "INSERT OR IGNORE INTO urls(id,fp,url,depth,parent,seed) VALUES(?6,?1,?2,?3,?4,?5)",
    [ST_ATTEMPTS_ID] = "UPDATE urls SET attempts=?2 WHERE id=?1",
    [ST_ENDED_ID] = "UPDATE urls SET attempts=?2, state='ended' WHERE id=?1",
    /* A walk of the rowid from ?1 on ("SEARCH urls USING INTEGER PRIMARY KEY (rowid>?)"):
     * its cost is the rows it returns plus the ended rows it steps over, never the
     * table's size. Past the spill cursor every row is queued while the crawl runs;
     * ended rows are stepped over only by the first refills after a resume. */
    [ST_HOST] = "INSERT OR REPLACE INTO hosts(host,robots_status,robots,robots_at,interval_ms) VALUES(?1,?2,?3,?4,?5)",
    [ST_QUEUED] = "SELECT id,fp,url,depth,parent,seed,attempts FROM urls WHERE id>?1 AND state='queued' ORDER BY id LIMIT ?2",
};

struct tw_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_NSTMT];
    int64_t max_id; /* the greatest id committed: tw_store_refill tells a short read from URLs not committed yet */
    char path[4096];
};

/* One change. Strings follow the struct: url (or key), then parent (or value), then seed. */
typedef struct change {
    struct change *next;
    int kind;
    int depth, attempts;
    bool has_parent;
    uint64_t fp;
    int64_t id;
    char text[];
} change;

struct tw_store_batch {
    change *head, **tail;
    size_t len;
};

static void set_err(char *err, size_t n, const tw_store *st, const char *what, const char *why) {
    if (err && n) snprintf(err, n, "%s %s: %s", what, st->path, why);
}

bool tw_store_exists(const char *dir) {
    char path[4096];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, TW_STORE_FILE);
    return stat(path, &sb) == 0;
}

/* Checks meta.format: writes it into a new database, refuses another version. */
static int check_format(tw_store *st, char *err, size_t n) {
    char *v = NULL;
    int rc = tw_store_get_meta(st, "format", &v, err, n);
    if (rc < 0) return -1;
    if (rc == 0) {
        char sql[128];
        snprintf(sql, sizeof sql, "INSERT INTO meta(key,value) VALUES('format','%d')", TW_STORE_FORMAT);
        if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK) {
            set_err(err, n, st, "cannot write", sqlite3_errmsg(st->db));
            return -1;
        }
        return 0;
    }
    int version = atoi(v);
    free(v);
    if (version != TW_STORE_FORMAT && version != 1) { /* format 1 differs only by an index on fp */
        char why[96];
        snprintf(why, sizeof why, "state format %d, this trawl reads format %d", version, TW_STORE_FORMAT);
        set_err(err, n, st, "cannot resume from", why);
        return -1;
    }
    return 0;
}

/* Reads the greatest id stored into st->max_id (the end of the primary key: O(log n)). */
static int read_max_id(tw_store *st, char *err, size_t n) {
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, "SELECT max(id) FROM urls", -1, &q, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        st->max_id = sqlite3_column_int64(q, 0); /* 0 when empty (NULL) */
        rc = SQLITE_OK;
    }
    sqlite3_finalize(q);
    if (rc != SQLITE_OK) {
        set_err(err, n, st, "cannot read", sqlite3_errmsg(st->db));
        return -1;
    }
    return 0;
}

tw_store *tw_store_open(const char *dir, char *err, size_t n) {
    tw_store *st = calloc(1, sizeof *st);
    if (!st) {
        if (err && n) snprintf(err, n, "out of memory");
        return NULL;
    }
    snprintf(st->path, sizeof st->path, "%s/%s", dir, TW_STORE_FILE);
    int rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        set_err(err, n, st, "cannot open", st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        tw_store_close(st);
        return NULL;
    }
    /* A second connection (sqlite3 reading a live crawl) may hold a lock briefly. */
    sqlite3_busy_timeout(st->db, 5000);
    char *msg = NULL;
    /* 64 MiB of page cache keeps the fp index of millions of URLs in memory: commits
     * went from 13.5 to 10 us per change (docs/crawler.md, "State store"). */
    static const char pragmas[] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;";
    if (sqlite3_exec(st->db, pragmas, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(st->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        set_err(err, n, st, "cannot open", msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        tw_store_close(st);
        return NULL;
    }
    for (int i = 0; i < ST_NSTMT; i++)
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i], NULL) != SQLITE_OK) {
            set_err(err, n, st, "cannot open", sqlite3_errmsg(st->db));
            tw_store_close(st);
            return NULL;
        }
    if (check_format(st, err, n) != 0 || read_max_id(st, err, n) != 0) {
        tw_store_close(st);
        return NULL;
    }
    return st;
}

void tw_store_close(tw_store *st) {
    if (!st) return;
    for (int i = 0; i < ST_NSTMT; i++) sqlite3_finalize(st->stmt[i]);
    sqlite3_close(st->db);
    free(st);
}

int tw_store_get_meta(tw_store *st, const char *key, char **value, char *err, size_t n) {
    *value = NULL;
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key=?1", -1, &q, NULL) != SQLITE_OK) {
        set_err(err, n, st, "cannot read", sqlite3_errmsg(st->db));
        return -1;
    }
    sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        *value = strdup(v ? v : "");
        ret = *value ? 1 : -1;
        if (!*value) set_err(err, n, st, "cannot read", "out of memory");
    } else if (rc != SQLITE_DONE) {
        set_err(err, n, st, "cannot read", sqlite3_errmsg(st->db));
        ret = -1;
    }
    sqlite3_finalize(q);
    return ret;
}

long tw_store_load_urls(tw_store *st, tw_store_url_fn fn, void *ctx, char *err, size_t n) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT fp,url,depth,parent,seed,attempts,state,id FROM urls ORDER BY id", -1, &q,
                           NULL) != SQLITE_OK) {
        set_err(err, n, st, "cannot read", sqlite3_errmsg(st->db));
        return -1;
    }
    long count = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *url = (const char *)sqlite3_column_text(q, 1);
        const char *seed = (const char *)sqlite3_column_text(q, 4);
        const char *state = (const char *)sqlite3_column_text(q, 6);
        if (!url || !seed) continue; /* NOT NULL columns: only a hand-edited file gets here */
        tw_store_url u = {
            .fp = (uint64_t)sqlite3_column_int64(q, 0),
            .url = url,
            .depth = sqlite3_column_int(q, 2),
            .parent = (const char *)sqlite3_column_text(q, 3),
            .seed = seed,
            .attempts = sqlite3_column_int(q, 5),
            .ended = state && strcmp(state, "ended") == 0,
            .id = sqlite3_column_int64(q, 7),
        };
        count++;
        if (fn(ctx, &u) != 0) {
            sqlite3_finalize(q);
            return -2;
        }
    }
    if (rc != SQLITE_DONE) {
        set_err(err, n, st, "cannot read", sqlite3_errmsg(st->db));
        count = -1;
    }
    sqlite3_finalize(q);
    return count;
}

int tw_store_set_synchronous(tw_store *st, bool full, char *err, size_t n) {
    if (sqlite3_exec(st->db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) !=
        SQLITE_OK) {
        set_err(err, n, st, "cannot set up", sqlite3_errmsg(st->db));
        return -1;
    }
    return 0;
}

long tw_store_load_queued(tw_store *st, int64_t after_id, long limit, tw_store_url_fn fn, void *ctx,
                          int64_t *last_id, char *err, size_t n) {
    if (limit <= 0) return 0;
    sqlite3_stmt *q = st->stmt[ST_QUEUED];
    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, after_id);
    sqlite3_bind_int64(q, 2, limit);
    long count = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *url = (const char *)sqlite3_column_text(q, 2);
        const char *seed = (const char *)sqlite3_column_text(q, 5);
        int64_t id = sqlite3_column_int64(q, 0);
        if (!url || !seed) { /* NOT NULL columns: only a hand-edited file gets here */
            if (last_id) *last_id = id;
            continue;
        }
        tw_store_url u = {
            .fp = (uint64_t)sqlite3_column_int64(q, 1),
            .url = url,
            .depth = sqlite3_column_int(q, 3),
            .parent = (const char *)sqlite3_column_text(q, 4),
            .seed = seed,
            .attempts = sqlite3_column_int(q, 6),
            .ended = false,
            .id = id,
        };
        if (fn(ctx, &u) != 0) {
            sqlite3_reset(q);
            return -2;
        }
        if (last_id) *last_id = id;
        count++;
    }
    if (rc != SQLITE_DONE) {
        set_err(err, n, st, "cannot read", sqlite3_errmsg(st->db));
        count = -1;
    }
    sqlite3_reset(q); /* ends the read transaction: a checkpoint may pass */
    return count;
}

long tw_store_load_seen(tw_store *st, tw_store_seen_fn fn, void *ctx, char *err, size_t n) {
    sqlite3_stmt *q = NULL;
    /* A walk of the table: reading state needs the rows, so the fp index alone will not do. */
    if (sqlite3_prepare_v2(st->db, "SELECT id,fp,state='ended' FROM urls ORDER BY id", -1, &q, NULL) != SQLITE_OK) {
        set_err(err, n, st, "cannot read", sqlite3_errmsg(st->db));
        return -1;
    }
    long count = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        count++;
        if (fn(ctx, sqlite3_column_int64(q, 0), (uint64_t)sqlite3_column_int64(q, 1), sqlite3_column_int(q, 2) != 0)) {
            sqlite3_finalize(q);
            return -2;
        }
    }
    if (rc != SQLITE_DONE) {
        set_err(err, n, st, "cannot read", sqlite3_errmsg(st->db));
        count = -1;
    }
    sqlite3_finalize(q);
    return count;
}

/* ---------------------------------------------------------------- the frontier's window */

/* A growable list of row ids. */
typedef struct id_list {
    int64_t *v;
    size_t len, cap;
} id_list;

static int id_push(id_list *l, int64_t id) {
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->len++] = id;
    return 0;
}

typedef struct resume_ctx {
    tw_frontier *f;
    id_list requeue, end; /* rows whose state disagrees with pages.jsonl */
    size_t queued;
    int64_t first; /* the first queued row's id, -1 while none */
    int64_t max;   /* the greatest id */
    bool nomem;
} resume_ctx;

/* tw_store_load_seen's callback for tw_store_resume: the frontier's seen set holds the
 * URLs of pages.jsonl and nothing else yet, so "already seen" means "has a line". */
static int resume_row(void *ctx, int64_t id, uint64_t fp, bool ended) {
    resume_ctx *r = ctx;
    if (id > r->max) r->max = id;
    int rc = tw_frontier_mark_seen_fp(r->f, fp);
    if (rc < 0) {
        r->nomem = true;
        return 1;
    }
    bool has_line = rc == 0, queued = !has_line;
    if (ended && !has_line && id_push(&r->requeue, id) != 0) r->nomem = true;
    if (!ended && has_line && id_push(&r->end, id) != 0) r->nomem = true;
    if (queued) {
        r->queued++;
        if (r->first < 0) r->first = id;
    }
    return r->nomem;
}

/* Sets the state of every listed row, in the open transaction. Returns an SQLite code. */
static int set_states(tw_store *st, const id_list *l, const char *state) {
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, "UPDATE urls SET state=?2 WHERE id=?1", -1, &q, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < l->len; i++) {
        sqlite3_bind_int64(q, 1, l->v[i]);
        sqlite3_bind_text(q, 2, state, -1, SQLITE_STATIC);
        rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(st->db);
        sqlite3_reset(q);
    }
    sqlite3_finalize(q);
    return rc;
}

long tw_store_resume(tw_store *st, tw_frontier *f, char *err, size_t n) {
    resume_ctx r = {.f = f, .first = -1};
    long rows = tw_store_load_seen(st, resume_row, &r, err, n);
    long ret = -1;
    if (r.nomem) {
        if (err && n) snprintf(err, n, "out of memory");
    } else if (rows >= 0) {
        int rc = SQLITE_OK;
        if (r.requeue.len || r.end.len) {
            rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
            if (rc == SQLITE_OK) rc = set_states(st, &r.requeue, "queued");
            if (rc == SQLITE_OK) rc = set_states(st, &r.end, "ended");
            if (rc == SQLITE_OK) rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
            if (rc != SQLITE_OK) {
                set_err(err, n, st, "cannot write", sqlite3_errmsg(st->db));
                sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            }
        }
        if (rc == SQLITE_OK) {
            tw_frontier_set_spilled(f, r.queued, r.first < 0 ? r.max : r.first - 1);
            tw_frontier_set_next_id(f, r.max + 1);
            ret = (long)r.queued;
        }
    }
    free(r.requeue.v);
    free(r.end.v);
    return ret;
}

typedef struct refill_ctx {
    tw_frontier *f;
    bool nomem;
} refill_ctx;

static int refill_row(void *ctx, const tw_store_url *u) {
    refill_ctx *r = ctx;
    if (tw_frontier_refill(r->f, u->url, u->depth, u->parent, u->seed, u->attempts, u->id) == TW_FRONTIER_ENOMEM) {
        r->nomem = true;
        return 1;
    }
    return 0;
}

long tw_store_refill(tw_store *st, tw_frontier *f, long max, char *err, size_t n) {
    size_t room = tw_frontier_refill_room(f);
    if (max > 0 && room > (size_t)max) room = (size_t)max;
    if (room == 0) return 0;
    if (room > LONG_MAX) room = LONG_MAX;
    refill_ctx r = {.f = f};
    long got = tw_store_load_queued(st, tw_frontier_spill_cursor(f), (long)room, refill_row, &r, NULL, err, n);
    if (got == -2 || r.nomem) {
        if (err && n) snprintf(err, n, "out of memory");
        return -1;
    }
    /* A short read with every id f gave committed means the store holds fewer than
     * counted (only a hand-edited file): the count follows the store, or the crawl would
     * wait forever for URLs that do not exist. Otherwise the rest are not committed yet. */
    if (got >= 0 && (size_t)got < room && tw_frontier_next_id(f) - 1 <= st->max_id)
        tw_frontier_set_spilled(f, 0, tw_frontier_spill_cursor(f));
    return got;
}

/* ---------------------------------------------------------------- batches */

tw_store_batch *tw_store_batch_new(void) {
    tw_store_batch *b = calloc(1, sizeof *b);
    if (b) b->tail = &b->head;
    return b;
}

static void batch_clear(tw_store_batch *b) {
    for (change *c = b->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    b->head = NULL;
    b->tail = &b->head;
    b->len = 0;
}

void tw_store_batch_free(tw_store_batch *b) {
    if (!b) return;
    batch_clear(b);
    free(b);
}

size_t tw_store_batch_len(const tw_store_batch *b) { return b->len; }

static void append(tw_store_batch *b, change *c) {
    *b->tail = c;
    b->tail = &c->next;
    b->len++;
}

/* Appends a change carrying up to three strings (NULL ones stored as ""). */
static change *push(tw_store_batch *b, int kind, const char *s1, const char *s2, const char *s3) {
    size_t l1 = strlen(s1), l2 = s2 ? strlen(s2) : 0, l3 = s3 ? strlen(s3) : 0;
    change *c = malloc(sizeof *c + l1 + l2 + l3 + 3);
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    c->kind = kind;
    c->fp = tw_frontier_fingerprint(s1, l1);
    c->has_parent = s2 != NULL;
    memcpy(c->text, s1, l1 + 1);
    memcpy(c->text + l1 + 1, s2 ? s2 : "", l2 + 1);
    memcpy(c->text + l1 + l2 + 2, s3 ? s3 : "", l3 + 1);
    append(b, c);
    return c;
}

int tw_store_batch_meta(tw_store_batch *b, const char *key, const char *value) {
    return push(b, ST_META, key, value, NULL) ? 0 : -1;
}

int tw_store_batch_add_url_id(tw_store_batch *b, int64_t id, const char *url, int depth, const char *parent,
                              const char *seed) {
    change *c = push(b, ST_ADD_ID, url, parent, seed);
    if (!c) return -1;
    c->depth = depth;
    c->id = id;
    return 0;
}

/* A change by id carries no string. */
static int push_id(tw_store_batch *b, int kind, int64_t id, int attempts) {
    change *c = malloc(sizeof *c + 3);
    if (!c) return -1;
    memset(c, 0, sizeof *c + 3);
    c->kind = kind;
    c->id = id;
    c->attempts = attempts;
    append(b, c);
    return 0;
}

int tw_store_batch_attempts_id(tw_store_batch *b, int64_t id, int attempts) {
    return push_id(b, ST_ATTEMPTS_ID, id, attempts);
}

int tw_store_batch_ended_id(tw_store_batch *b, int64_t id, int attempts) {
    return push_id(b, ST_ENDED_ID, id, attempts);
}

int tw_store_batch_host(tw_store_batch *b, const char *host, int robots_status, const void *robots, size_t len,
                        int64_t robots_at_ms, int64_t interval_ms) {
    if (len > TW_STORE_ROBOTS_MAX) len = TW_STORE_ROBOTS_MAX;
    size_t lh = strlen(host);
    change *c = malloc(sizeof *c + lh + 1 + len + 1);
    if (!c) return -1;
    memset(c, 0, sizeof *c);
    c->kind = ST_HOST;
    c->depth = robots_status;
    c->attempts = (int)len;
    c->id = robots_at_ms;
    c->fp = (uint64_t)interval_ms;
    memcpy(c->text, host, lh + 1);
    if (len) memcpy(c->text + lh + 1, robots, len);
    c->text[lh + 1 + len] = 0;
    append(b, c);
    return 0;
}

long tw_store_load_hosts(tw_store *st, tw_store_host_fn fn, void *ctx, char *err, size_t n) {
    sqlite3_stmt *q = NULL;
    if (sqlite3_prepare_v2(st->db, "SELECT host,robots_status,robots,robots_at,interval_ms FROM hosts", -1, &q,
                           NULL) != SQLITE_OK) {
        set_err(err, n, st, "cannot read", sqlite3_errmsg(st->db));
        return -1;
    }
    long count = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *host = (const char *)sqlite3_column_text(q, 0);
        if (!host) continue;
        tw_store_host h = {
            .host = host,
            .robots_status = sqlite3_column_int(q, 1),
            .robots = sqlite3_column_blob(q, 2),
            .robots_len = (size_t)sqlite3_column_bytes(q, 2),
            .robots_at_ms = sqlite3_column_int64(q, 3),
            .interval_ms = sqlite3_column_int64(q, 4),
        };
        if (fn(ctx, &h) != 0) {
            sqlite3_finalize(q);
            return -2;
        }
        count++;
    }
    if (rc != SQLITE_DONE) {
        set_err(err, n, st, "cannot read", sqlite3_errmsg(st->db));
        count = -1;
    }
    sqlite3_finalize(q);
    return count;
}

/* Runs one change's statement. Returns an SQLite result code. */
static int apply(tw_store *st, const change *c) {
    sqlite3_stmt *q = st->stmt[c->kind];
    const char *s1 = c->text, *s2 = s1 + strlen(s1) + 1, *s3 = s2 + strlen(s2) + 1;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    switch (c->kind) {
    case ST_ADD_ID:
        sqlite3_bind_int64(q, 6, c->id);
        sqlite3_bind_int64(q, 1, (sqlite3_int64)c->fp);
        sqlite3_bind_text(q, 2, s1, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 3, c->depth);
        if (c->has_parent) sqlite3_bind_text(q, 4, s2, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, s3, -1, SQLITE_STATIC);
        break;
    case ST_ATTEMPTS_ID:
    case ST_ENDED_ID:
        sqlite3_bind_int64(q, 1, c->id);
        sqlite3_bind_int(q, 2, c->attempts);
        break;
    case ST_META:
        sqlite3_bind_text(q, 1, s1, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, s2, -1, SQLITE_STATIC);
        break;
    case ST_HOST: /* depth: status, attempts: body length, id: robots_at, fp: interval */
        sqlite3_bind_text(q, 1, s1, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 2, c->depth);
        sqlite3_bind_blob(q, 3, s1 + strlen(s1) + 1, c->attempts, SQLITE_STATIC);
        sqlite3_bind_int64(q, 4, c->id);
        sqlite3_bind_int64(q, 5, (sqlite3_int64)c->fp);
        break;
    }
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int tw_store_commit(tw_store *st, tw_store_batch *b, char *err, size_t n) {
    if (b->len == 0) return 0;
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    int64_t max_id = st->max_id;
    for (const change *c = b->head; rc == SQLITE_OK && c; c = c->next) {
        rc = apply(st, c);
        if (c->kind == ST_ADD_ID && c->id > max_id) max_id = c->id;
    }
    if (rc == SQLITE_OK) rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK) st->max_id = max_id;
    batch_clear(b);
    if (rc != SQLITE_OK) {
        set_err(err, n, st, "cannot write", sqlite3_errmsg(st->db));
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}

int64_t tw_store_last_id(const tw_store *st) { return st->max_id; }
