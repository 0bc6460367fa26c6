/* store.c - the crawl's state store on SQLite: schema, stored options, URLs, batched commits. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontier.h"
#include "store.h"

/* The schema; docs/crawler.md ("State store") documents it for users of sqlite3.
 * urls.id keeps the order URLs were found in (a resumed crawl stays breadth-first);
 * urls.fp is the frontier's fingerprint, unique, the key changes are made by. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS urls("
    " id INTEGER PRIMARY KEY,"
    " fp INTEGER NOT NULL UNIQUE,"
    " url TEXT NOT NULL,"
    " depth INTEGER NOT NULL,"
    " parent TEXT,"
    " seed TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL DEFAULT 'queued' CHECK(state IN ('queued','ended')));";

enum { ST_ADD, ST_ATTEMPTS, ST_ENDED, ST_META, ST_NSTMT };

static const char *const stmt_sql[ST_NSTMT] = {
    [ST_ADD] = "INSERT OR IGNORE INTO urls(fp,url,depth,parent,seed) VALUES(?1,?2,?3,?4,?5)",
    [ST_ATTEMPTS] = "UPDATE urls SET attempts=?2 WHERE fp=?1",
    [ST_ENDED] = "UPDATE urls SET attempts=?2, state='ended' WHERE fp=?1",
    [ST_META] = "INSERT OR REPLACE INTO meta(key,value) VALUES(?1,?2)",
};

struct tw_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[ST_NSTMT];
    char path[4096];
};

/* One change. Strings follow the struct: url (or key), then parent (or value), then seed. */
typedef struct change {
    struct change *next;
    int kind;
    int depth, attempts;
    bool has_parent;
    uint64_t fp;
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
    if (version != TW_STORE_FORMAT) {
        char why[96];
        snprintf(why, sizeof why, "state format %d, this trawl reads format %d", version, TW_STORE_FORMAT);
        set_err(err, n, st, "cannot resume from", why);
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
    if (check_format(st, err, n) != 0) {
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
    if (sqlite3_prepare_v2(st->db, "SELECT fp,url,depth,parent,seed,attempts,state FROM urls ORDER BY id", -1, &q,
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
    *b->tail = c;
    b->tail = &c->next;
    b->len++;
    return c;
}

int tw_store_batch_meta(tw_store_batch *b, const char *key, const char *value) {
    return push(b, ST_META, key, value, NULL) ? 0 : -1;
}

int tw_store_batch_add_url(tw_store_batch *b, const char *url, int depth, const char *parent, const char *seed) {
    change *c = push(b, ST_ADD, url, parent, seed);
    if (!c) return -1;
    c->depth = depth;
    return 0;
}

int tw_store_batch_attempts(tw_store_batch *b, const char *url, int attempts) {
    change *c = push(b, ST_ATTEMPTS, url, NULL, NULL);
    if (!c) return -1;
    c->attempts = attempts;
    return 0;
}

int tw_store_batch_ended(tw_store_batch *b, const char *url, int attempts) {
    change *c = push(b, ST_ENDED, url, NULL, NULL);
    if (!c) return -1;
    c->attempts = attempts;
    return 0;
}

/* Runs one change's statement. Returns an SQLite result code. */
static int apply(tw_store *st, const change *c) {
    sqlite3_stmt *q = st->stmt[c->kind];
    const char *s1 = c->text, *s2 = s1 + strlen(s1) + 1, *s3 = s2 + strlen(s2) + 1;
    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    switch (c->kind) {
    case ST_ADD:
        sqlite3_bind_int64(q, 1, (sqlite3_int64)c->fp);
        sqlite3_bind_text(q, 2, s1, -1, SQLITE_STATIC);
        sqlite3_bind_int(q, 3, c->depth);
        if (c->has_parent) sqlite3_bind_text(q, 4, s2, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 5, s3, -1, SQLITE_STATIC);
        break;
    case ST_ATTEMPTS:
    case ST_ENDED:
        sqlite3_bind_int64(q, 1, (sqlite3_int64)c->fp);
        sqlite3_bind_int(q, 2, c->attempts);
        break;
    case ST_META:
        sqlite3_bind_text(q, 1, s1, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, s2, -1, SQLITE_STATIC);
        break;
    }
    int rc = sqlite3_step(q);
    sqlite3_reset(q);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int tw_store_commit(tw_store *st, tw_store_batch *b, char *err, size_t n) {
    if (b->len == 0) return 0;
    int rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    for (const change *c = b->head; rc == SQLITE_OK && c; c = c->next) rc = apply(st, c);
    if (rc == SQLITE_OK) rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
    batch_clear(b);
    if (rc != SQLITE_OK) {
        set_err(err, n, st, "cannot write", sqlite3_errmsg(st->db));
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    return 0;
}
