/* test_store.c -- the state store: schema and WAL mode, options, URLs kept in the order
 * found, batches applied atomically, format versions, errors that say where; the
 * frontier's window through it: paging the queue, spill and refill, resume. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontier.h"
#include "store.h"

static char dir[PATH_MAX];

static int setup_dir(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/trawl-test-store-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state) {
    (void)state;
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs one SQL query on DIR/state.sqlite with a separate connection (as a user's
 * sqlite3 would) and returns its first column as text in buf. */
static const char *query(const char *sql, char *buf, size_t n) {
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, TW_STORE_FILE);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    buf[0] = 0;
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
        snprintf(buf, n, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
    return buf;
}

typedef struct seen_urls {
    int n;
    tw_store_url u[8];
    char text[8][3][128];
} seen_urls;

static int collect(void *ctx, const tw_store_url *u) {
    seen_urls *s = ctx;
    if (s->n == 8) return 1;
    s->u[s->n] = *u;
    snprintf(s->text[s->n][0], 128, "%s", u->url);
    snprintf(s->text[s->n][1], 128, "%s", u->parent ? u->parent : "(null)");
    snprintf(s->text[s->n][2], 128, "%s", u->seed);
    s->n++;
    return 0;
}

/* Takes the next item of f, which must be a page with this URL. */
static tw_frontier_item next_is_page(tw_frontier *f, const char *url) {
    tw_frontier_item it;
    char host[64];
    assert_int_equal(tw_frontier_next(f, 0, &it, host, sizeof host, NULL), TW_FRONTIER_PAGE);
    assert_string_equal(it.url, url);
    return it;
}

static void test_open_creates_a_wal_database_with_its_format(void **state) {
    (void)state;
    char err[512], buf[64];
    assert_false(tw_store_exists(dir));
    tw_store *st = tw_store_open(dir, err, sizeof err);
    assert_non_null(st);
    assert_true(tw_store_exists(dir));
    assert_string_equal(query("PRAGMA journal_mode", buf, sizeof buf), "wal");
    assert_string_equal(query("SELECT value FROM meta WHERE key='format'", buf, sizeof buf), "2");
    char *v = (char *)1;
    assert_int_equal(tw_store_get_meta(st, TW_STORE_META_OPTIONS, &v, err, sizeof err), 0);
    assert_null(v);
    tw_store_close(st);
}

static void test_urls_load_in_the_order_found_and_a_known_id_is_ignored(void **state) {
    (void)state;
    char err[512];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    assert_non_null(st);
    assert_int_equal(tw_store_last_id(st), 0);
    tw_store_batch *b = tw_store_batch_new();
    assert_int_equal(tw_store_batch_add_url_id(b, 1, "http://a.test/", 0, NULL, "http://a.test/"), 0);
    assert_int_equal(tw_store_batch_add_url_id(b, 2, "http://a.test/z", 1, "http://a.test/", "http://a.test/"), 0);
    assert_int_equal(tw_store_batch_add_url_id(b, 3, "http://a.test/b", 1, "http://a.test/", "http://a.test/"), 0);
    assert_int_equal(tw_store_batch_add_url_id(b, 2, "http://a.test/y", 5, "http://x.test/", "http://x.test/"), 0);
    assert_int_equal(tw_store_batch_attempts_id(b, 2, 2), 0);
    assert_int_equal(tw_store_batch_ended_id(b, 1, 1), 0);
    assert_int_equal(tw_store_batch_len(b), 6);
    assert_int_equal(tw_store_commit(st, b, err, sizeof err), 0);
    assert_int_equal(tw_store_batch_len(b), 0);
    tw_store_batch_free(b);
    tw_store_close(st);

    st = tw_store_open(dir, err, sizeof err); /* what was committed survives a reopen */
    assert_non_null(st);
    assert_int_equal(tw_store_last_id(st), 3);
    seen_urls s = {0};
    assert_int_equal(tw_store_load_urls(st, collect, &s, err, sizeof err), 3);
    assert_string_equal(s.text[0][0], "http://a.test/");
    assert_string_equal(s.text[0][1], "(null)");
    assert_true(s.u[0].ended);
    assert_int_equal(s.u[0].attempts, 1);
    assert_string_equal(s.text[1][0], "http://a.test/z");
    assert_int_equal(s.u[1].depth, 1); /* the first one stored under the id stays */
    assert_string_equal(s.text[1][1], "http://a.test/");
    assert_int_equal(s.u[1].attempts, 2);
    assert_false(s.u[1].ended);
    assert_int_equal(s.u[1].fp, tw_frontier_fingerprint("http://a.test/z", strlen("http://a.test/z")));
    assert_string_equal(s.text[2][0], "http://a.test/b");
    assert_string_equal(s.text[2][2], "http://a.test/");
    tw_store_close(st);
}

static void test_meta_is_replaced_and_read_back(void **state) {
    (void)state;
    char err[512];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    tw_store_batch *b = tw_store_batch_new();
    assert_int_equal(tw_store_batch_meta(b, TW_STORE_META_OPTIONS, "{\"rate\":1}"), 0);
    assert_int_equal(tw_store_batch_meta(b, TW_STORE_META_OPTIONS, "{\"rate\":2}"), 0);
    assert_int_equal(tw_store_commit(st, b, err, sizeof err), 0);
    char *v = NULL;
    assert_int_equal(tw_store_get_meta(st, TW_STORE_META_OPTIONS, &v, err, sizeof err), 1);
    assert_string_equal(v, "{\"rate\":2}");
    free(v);
    tw_store_batch_free(b);
    tw_store_close(st);
}

typedef struct seen_hosts {
    int n;
    char host[4][64];
    int status[4];
    size_t len[4];
    unsigned char first[4];
    int64_t at[4], interval[4];
} seen_hosts;

static int take_host(void *ctx, const tw_store_host *h) {
    seen_hosts *s = ctx;
    assert_true(s->n < 4);
    snprintf(s->host[s->n], sizeof s->host[0], "%s", h->host);
    s->status[s->n] = h->robots_status;
    s->len[s->n] = h->robots_len;
    s->first[s->n] = h->robots_len ? ((const unsigned char *)h->robots)[h->robots_len - 1] : 0;
    s->at[s->n] = h->robots_at_ms;
    s->interval[s->n] = h->interval_ms;
    s->n++;
    return 0;
}

/* Hosts keep their robots.txt (any bytes, cut at the limit) and Crawl-delay; a later
 * record for a host replaces the earlier one. */
static void test_hosts_keep_their_robots_and_interval(void **state) {
    (void)state;
    char err[512];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    assert_non_null(st);
    tw_store_batch *b = tw_store_batch_new();
    static const char body[] = "User-agent: *\0Disallow: /x\n";
    assert_int_equal(tw_store_batch_host(b, "a.example:80", 200, body, sizeof body - 1, 1000, 0), 0);
    assert_int_equal(tw_store_batch_host(b, "b.example:443", 404, NULL, 0, 2000, 0), 0);
    assert_int_equal(tw_store_batch_host(b, "a.example:80", 200, body, sizeof body - 1, 3000, 1500), 0);
    char *big = malloc(TW_STORE_ROBOTS_MAX + 100);
    assert_non_null(big);
    memset(big, 'z', TW_STORE_ROBOTS_MAX + 100);
    assert_int_equal(tw_store_batch_host(b, "c.example:80", 200, big, TW_STORE_ROBOTS_MAX + 100, 4000, 0), 0);
    free(big);
    assert_int_equal(tw_store_commit(st, b, err, sizeof err), 0);
    seen_hosts s = {0};
    assert_int_equal(tw_store_load_hosts(st, take_host, &s, err, sizeof err), 3);
    for (int i = 0; i < s.n; i++) {
        if (strcmp(s.host[i], "a.example:80") == 0) {
            assert_int_equal(s.status[i], 200);
            assert_int_equal(s.len[i], sizeof body - 1); /* the NUL inside is kept */
            assert_int_equal(s.first[i], '\n');
            assert_int_equal(s.at[i], 3000);
            assert_int_equal(s.interval[i], 1500);
        } else if (strcmp(s.host[i], "b.example:443") == 0) {
            assert_int_equal(s.status[i], 404);
            assert_int_equal(s.len[i], 0);
        } else {
            assert_string_equal(s.host[i], "c.example:80");
            assert_int_equal(s.len[i], TW_STORE_ROBOTS_MAX);
        }
    }
    tw_store_batch_free(b);
    tw_store_close(st);
}

/* A format-1 store (a UNIQUE index on fp, written by an older trawl) still opens and
 * takes changes: the formats differ only by that index. */
static void test_a_format_1_store_is_still_read(void **state) {
    (void)state;
    char err[512], path[PATH_MAX + 32], buf[64];
    tw_store_close(tw_store_open(dir, err, sizeof err));
    snprintf(path, sizeof path, "%s/%s", dir, TW_STORE_FILE);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value='1' WHERE key='format';"
                                      "CREATE UNIQUE INDEX old_fp ON urls(fp)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    tw_store *st = tw_store_open(dir, err, sizeof err);
    assert_non_null(st);
    tw_store_batch *b = tw_store_batch_new();
    assert_int_equal(tw_store_batch_add_url_id(b, 1, "http://a.test/", 0, NULL, "http://a.test/"), 0);
    assert_int_equal(tw_store_batch_ended_id(b, 1, 1), 0);
    assert_int_equal(tw_store_commit(st, b, err, sizeof err), 0);
    assert_string_equal(query("SELECT attempts||state FROM urls WHERE id=1", buf, sizeof buf), "1ended");
    tw_store_batch_free(b);
    tw_store_close(st);
}

static void test_another_format_version_is_refused_with_a_message(void **state) {
    (void)state;
    char err[512], path[PATH_MAX + 32];
    tw_store_close(tw_store_open(dir, err, sizeof err));
    snprintf(path, sizeof path, "%s/%s", dir, TW_STORE_FILE);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='format'", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(tw_store_open(dir, err, sizeof err));
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "format 99"));
}

static void test_a_file_that_is_not_a_database_is_refused(void **state) {
    (void)state;
    char err[512], path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, TW_STORE_FILE);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 200; i++) fputs("this is not a database. ", f);
    fclose(f);
    assert_null(tw_store_open(dir, err, sizeof err));
    assert_non_null(strstr(err, path));
}

static void test_missing_directory_is_an_error_naming_it(void **state) {
    (void)state;
    char err[512], missing[PATH_MAX + 32];
    snprintf(missing, sizeof missing, "%s/no/such/dir", dir);
    assert_null(tw_store_open(missing, err, sizeof err));
    assert_non_null(strstr(err, missing));
}

/* ---------------------------------------------------------------- the window */

typedef struct ids {
    int n;
    int64_t id[64];
    char url[64][64];
} ids;

static int collect_ids(void *ctx, const tw_store_url *u) {
    ids *s = ctx;
    if (s->n == 64) return 1;
    s->id[s->n] = u->id;
    snprintf(s->url[s->n], sizeof s->url[s->n], "%s", u->url);
    s->n++;
    return 0;
}

static void store_urls(tw_store *st, int from, int to, const char *fmt) {
    char err[512], url[64];
    tw_store_batch *b = tw_store_batch_new();
    for (int i = from; i <= to; i++) {
        snprintf(url, sizeof url, fmt, i);
        assert_int_equal(tw_store_batch_add_url_id(b, i, url, 1, "http://a.test/", "http://a.test/"), 0);
    }
    assert_int_equal(tw_store_commit(st, b, err, sizeof err), 0);
    tw_store_batch_free(b);
}

static void end_urls(tw_store *st, const int *which, int n) {
    char err[512];
    tw_store_batch *b = tw_store_batch_new();
    for (int i = 0; i < n; i++) assert_int_equal(tw_store_batch_ended_id(b, which[i], 1), 0);
    assert_int_equal(tw_store_commit(st, b, err, sizeof err), 0);
    tw_store_batch_free(b);
}

static void test_queued_urls_page_back_in_the_order_found_past_ended_ones(void **state) {
    (void)state;
    char err[512];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    assert_non_null(st);
    store_urls(st, 1, 10, "http://a.test/%d");
    end_urls(st, (int[]){2, 5, 6}, 3);
    ids got = {0};
    int64_t last = -7;
    assert_int_equal(tw_store_load_queued(st, 0, 3, collect_ids, &got, &last, err, sizeof err), 3);
    assert_string_equal(got.url[0], "http://a.test/1");
    assert_string_equal(got.url[1], "http://a.test/3");
    assert_string_equal(got.url[2], "http://a.test/4");
    assert_true(got.id[0] == 1 && got.id[1] == 3 && got.id[2] == 4);
    assert_true(last == 4);
    got.n = 0;
    assert_int_equal(tw_store_load_queued(st, last, 100, collect_ids, &got, &last, err, sizeof err), 4);
    assert_string_equal(got.url[0], "http://a.test/7");
    assert_string_equal(got.url[3], "http://a.test/10");
    assert_true(last == 10);
    assert_int_equal(tw_store_load_queued(st, last, 100, collect_ids, &got, &last, err, sizeof err), 0);
    assert_true(last == 10); /* unchanged when none is left */
    assert_int_equal(tw_store_load_queued(st, 0, 0, collect_ids, &got, &last, err, sizeof err), 0);
    /* A callback that stops: -2, and the cursor stays before the URL it stopped at. */
    got.n = 64;
    last = 0;
    assert_int_equal(tw_store_load_queued(st, 0, 5, collect_ids, &got, &last, err, sizeof err), -2);
    assert_true(last == 0);
    tw_store_close(st);
}

/* The statement tw_store_load_queued runs (crawler/store.c, ST_QUEUED): SQLite must
 * walk the primary key from the cursor, not scan the table or sort. */
static void test_paging_the_queue_walks_the_primary_key(void **state) {
    (void)state;
    char err[512], plan[256] = "";
    tw_store_close(tw_store_open(dir, err, sizeof err));
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", dir, TW_STORE_FILE);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "EXPLAIN QUERY PLAN SELECT id,fp,url,depth,parent,seed,attempts FROM urls"
                                        " WHERE id>?1 AND state='queued' ORDER BY id LIMIT ?2",
                                        -1, &q, NULL),
                     SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) /* rows of (id, parent, notused, detail) */
        snprintf(plan + strlen(plan), sizeof plan - strlen(plan), "%s;", (const char *)sqlite3_column_text(q, 3));
    sqlite3_finalize(q);
    sqlite3_close(db);
    if (!strstr(plan, "INTEGER PRIMARY KEY (rowid>?)") || strstr(plan, "TEMP B-TREE"))
        fail_msg("plan: %s", plan);
}

typedef struct fps {
    int n, ended;
    int64_t id[16];
    uint64_t fp[16];
} fps;

static int collect_fp(void *ctx, int64_t id, uint64_t fp, bool ended) {
    fps *s = ctx;
    if (s->n == 16) return 1;
    s->id[s->n] = id;
    s->fp[s->n++] = fp;
    s->ended += ended;
    return 0;
}

static void test_the_seen_set_loads_as_fingerprints(void **state) {
    (void)state;
    char err[512];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    store_urls(st, 1, 5, "http://a.test/%d");
    end_urls(st, (int[]){4}, 1);
    fps got = {0};
    assert_int_equal(tw_store_load_seen(st, collect_fp, &got, err, sizeof err), 5);
    assert_int_equal(got.ended, 1);
    for (int i = 0; i < 5; i++) {
        char u[64];
        snprintf(u, sizeof u, "http://a.test/%d", i + 1);
        assert_true(got.id[i] == i + 1);
        assert_true(got.fp[i] == tw_frontier_fingerprint(u, strlen(u)));
    }
    tw_store_close(st);
}

/* Drives frontier and store as the Server does: every new URL stored, commits every
 * few changes, a refill after a commit when the window asks. */
typedef struct drive {
    tw_frontier *f;
    tw_store *st;
    tw_store_batch *b;
    int order[4][400]; /* per host: the URL numbers in the order handed out */
    int count[4];
    char handed[1300];
} drive;

static void drive_add(drive *d, int i, const char *parent) {
    char url[64];
    snprintf(url, sizeof url, "http://h%d.test/%d", i % 4, i);
    int64_t id = 0;
    int rc = tw_frontier_add_id(d->f, url, 1, parent, "http://h0.test/0", &id);
    assert_true(rc == 1 || rc == TW_FRONTIER_SPILLED);
    assert_true(id == i + 1);
    assert_int_equal(tw_store_batch_add_url_id(d->b, id, url, 1, parent, "http://h0.test/0"), 0);
}

static void drive_flush(drive *d) {
    char err[512];
    assert_int_equal(tw_store_commit(d->st, d->b, err, sizeof err), 0);
    if (tw_frontier_wants_refill(d->f)) assert_true(tw_store_refill(d->st, d->f, 0, err, sizeof err) >= 0);
}

static void test_spilled_urls_come_back_through_the_store_none_lost_none_twice(void **state) {
    (void)state;
    char err[512];
    drive d = {.f = tw_frontier_new(100, 0, false), .b = tw_store_batch_new()};
    d.st = tw_store_open(dir, err, sizeof err);
    assert_non_null(d.st);
    tw_frontier_set_window(d.f, 20);
    int next = 0, spilled_max = 0;
    for (; next < 4; next++) drive_add(&d, next, NULL);
    for (;;) {
        tw_frontier_item it;
        char host[64];
        if (tw_frontier_next(d.f, 0, &it, host, sizeof host, NULL) != TW_FRONTIER_PAGE) {
            if (tw_frontier_queued(d.f) == 0) break;
            drive_flush(&d); /* all spilled and not committed: the Server's timer flush */
            continue;
        }
        int i = atoi(strrchr(it.url, '/') + 1);
        if (d.handed[i]++) fail_msg("%s handed out twice", it.url);
        d.order[i % 4][d.count[i % 4]++] = i;
        assert_true(it.id == i + 1);
        assert_int_equal(tw_store_batch_ended_id(d.b, it.id, 1), 0);
        for (int k = 0; k < 3 && next < 1200; k++, next++) drive_add(&d, next, it.url);
        tw_frontier_item_free(&it);
        tw_frontier_done(d.f, host);
        if ((int)tw_frontier_spilled(d.f) > spilled_max) spilled_max = (int)tw_frontier_spilled(d.f);
        assert_true(tw_frontier_held(d.f) <= 20);
        if (tw_store_batch_len(d.b) >= 16) drive_flush(&d);
    }
    drive_flush(&d);
    assert_true(spilled_max > 500); /* the window did its work */
    for (int i = 0; i < 1200; i++)
        if (d.handed[i] != 1) fail_msg("URL %d handed out %d times", i, d.handed[i]);
    for (int h = 0; h < 4; h++) /* each host first in, first out */
        for (int k = 1; k < d.count[h]; k++)
            if (d.order[h][k] < d.order[h][k - 1]) fail_msg("host %d: %d after %d", h, d.order[h][k], d.order[h][k - 1]);
    char buf[64];
    assert_string_equal(query("SELECT count(*) FROM urls WHERE state='ended'", buf, sizeof buf), "1200");
    tw_store_close(d.st);
    tw_store_batch_free(d.b);
    tw_frontier_free(d.f);
}

static void test_a_refill_before_the_commit_takes_nothing_and_loses_nothing(void **state) {
    (void)state;
    char err[512];
    tw_frontier *f = tw_frontier_new(1, 0, false);
    tw_store *st = tw_store_open(dir, err, sizeof err);
    tw_store_batch *b = tw_store_batch_new();
    tw_frontier_set_window(f, 1);
    const char *urls[] = {"http://a.test/1", "http://a.test/2", "http://a.test/3"};
    for (int i = 0; i < 3; i++) {
        int64_t id;
        assert_int_equal(tw_frontier_add_id(f, urls[i], 0, NULL, urls[i], &id), i == 0 ? 1 : TW_FRONTIER_SPILLED);
        assert_int_equal(tw_store_batch_add_url_id(b, id, urls[i], 0, NULL, urls[i]), 0);
    }
    tw_frontier_item it = next_is_page(f, urls[0]);
    assert_true(tw_frontier_wants_refill(f));
    assert_int_equal(tw_store_refill(st, f, 0, err, sizeof err), 0); /* not committed yet */
    assert_int_equal(tw_frontier_spilled(f), 2);
    assert_int_equal(tw_store_commit(st, b, err, sizeof err), 0);
    assert_int_equal(tw_store_refill(st, f, 0, err, sizeof err), 1); /* the window holds one */
    assert_int_equal(tw_frontier_spill_cursor(f), 2);
    tw_frontier_item_free(&it);
    tw_frontier_done(f, "a.test:80");
    tw_frontier_item two = next_is_page(f, urls[1]);
    assert_int_equal(tw_store_refill(st, f, 0, err, sizeof err), 1);
    tw_frontier_item_free(&two);
    tw_frontier_done(f, "a.test:80");
    tw_frontier_item three = next_is_page(f, urls[2]);
    assert_true(three.id == 3);
    assert_int_equal(tw_frontier_queued(f), 0);
    tw_frontier_item_free(&three);
    tw_store_batch_free(b);
    tw_store_close(st);
    tw_frontier_free(f);
}

static void test_changes_by_id_touch_the_url_with_that_id(void **state) {
    (void)state;
    char err[512], buf[64];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    tw_store_batch *b = tw_store_batch_new();
    assert_int_equal(tw_store_batch_add_url_id(b, 7, "http://a.test/7", 0, NULL, "http://a.test/7"), 0);
    assert_int_equal(tw_store_batch_add_url_id(b, 9, "http://a.test/9", 1, "http://a.test/7", "http://a.test/7"), 0);
    assert_int_equal(tw_store_batch_add_url_id(b, 9, "http://a.test/other", 1, NULL, "http://a.test/7"), 0);
    assert_int_equal(tw_store_batch_attempts_id(b, 9, 2), 0);
    assert_int_equal(tw_store_batch_ended_id(b, 7, 1), 0);
    assert_int_equal(tw_store_commit(st, b, err, sizeof err), 0);
    assert_string_equal(query("SELECT count(*) FROM urls", buf, sizeof buf), "2"); /* the same id: ignored */
    assert_string_equal(query("SELECT url FROM urls WHERE id=9", buf, sizeof buf), "http://a.test/9");
    assert_string_equal(query("SELECT attempts||state FROM urls WHERE id=9", buf, sizeof buf), "2queued");
    assert_string_equal(query("SELECT attempts||state FROM urls WHERE id=7", buf, sizeof buf), "1ended");
    tw_store_batch_free(b);
    tw_store_close(st);
}

static void test_a_refill_that_finds_fewer_than_counted_lets_the_crawl_end(void **state) {
    (void)state;
    char err[512];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    store_urls(st, 1, 2, "http://a.test/%d");
    tw_frontier *f = tw_frontier_new(1, 0, false);
    tw_frontier_set_spilled(f, 5, 0); /* a hand-edited store: 2 where 5 were counted */
    assert_int_equal(tw_store_refill(st, f, 0, err, sizeof err), 2);
    assert_int_equal(tw_frontier_spilled(f), 0);
    assert_int_equal(tw_frontier_queued(f), 2);
    tw_frontier_free(f);
    tw_store_close(st);
}

static void test_resume_loads_fingerprints_and_makes_the_store_agree_with_the_lines(void **state) {
    (void)state;
    char err[512], buf[64];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    store_urls(st, 1, 8, "http://a.test/%d");
    /* 1 and 2 ended with their lines; 3 ended, its line never written; 5 has a line
     * though its end was not committed (a power loss kept the line, lost the commit). */
    end_urls(st, (int[]){1, 2, 3}, 3);
    tw_store_close(st);

    st = tw_store_open(dir, err, sizeof err);
    tw_frontier *f = tw_frontier_new(1, 0, false);
    tw_frontier_set_window(f, 3);
    const char *lines[] = {"http://a.test/1", "http://a.test/2", "http://a.test/5"};
    for (int i = 0; i < 3; i++) assert_int_equal(tw_frontier_mark_seen(f, lines[i]), 1);
    assert_int_equal(tw_store_resume(st, f, err, sizeof err), 5); /* 3, 4, 6, 7, 8 */
    assert_int_equal(tw_frontier_spilled(f), 5);
    assert_int_equal(tw_frontier_held(f), 0);
    tw_frontier_stats fs;
    tw_frontier_get_stats(f, 0, &fs);
    assert_int_equal(fs.seen, 8);
    assert_string_equal(query("SELECT state FROM urls WHERE id=3", buf, sizeof buf), "queued");
    assert_string_equal(query("SELECT state FROM urls WHERE id=5", buf, sizeof buf), "ended");
    assert_string_equal(query("SELECT count(*) FROM urls WHERE state='queued'", buf, sizeof buf), "5");
    /* A seed given again is known; a new one goes after the stored URLs. */
    assert_int_equal(tw_frontier_add(f, "http://a.test/4", 0, NULL, "http://a.test/4"), 0);
    int64_t id = 0;
    assert_int_equal(tw_frontier_add_id(f, "http://a.test/new", 0, NULL, "http://a.test/new", &id),
                     TW_FRONTIER_SPILLED);
    assert_true(id == 9); /* ids go on after the greatest stored */
    tw_store_batch *b = tw_store_batch_new();
    assert_int_equal(tw_store_batch_add_url_id(b, id, "http://a.test/new", 0, NULL, "http://a.test/new"), 0);
    assert_int_equal(tw_store_commit(st, b, err, sizeof err), 0);
    tw_store_batch_free(b);
    /* The first window: 3, 4, 6, in the order found; then the rest as room is made. */
    assert_true(tw_frontier_wants_refill(f));
    assert_int_equal(tw_store_refill(st, f, 0, err, sizeof err), 3);
    const char *want[] = {"http://a.test/3", "http://a.test/4", "http://a.test/6", "http://a.test/7",
                          "http://a.test/8", "http://a.test/new"};
    for (int i = 0; i < 6; i++) {
        tw_frontier_item it;
        char host[64];
        if (tw_frontier_next(f, 0, &it, host, sizeof host, NULL) != TW_FRONTIER_PAGE) {
            assert_true(tw_store_refill(st, f, 0, err, sizeof err) > 0);
            i--;
            continue;
        }
        assert_string_equal(it.url, want[i]);
        assert_int_equal(it.attempts, i == 0 ? 1 : 0); /* /3 was requested once: it keeps the count */
        tw_frontier_item_free(&it);
        tw_frontier_done(f, host);
    }
    assert_int_equal(tw_frontier_queued(f), 0);
    tw_frontier_free(f);
    tw_store_close(st);
}

static void test_synchronous_full_can_be_chosen(void **state) {
    (void)state;
    char err[512];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    assert_int_equal(tw_store_set_synchronous(st, true, err, sizeof err), 0);
    store_urls(st, 1, 3, "http://a.test/%d");
    assert_int_equal(tw_store_set_synchronous(st, false, err, sizeof err), 0);
    tw_store_close(st);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_a_wal_database_with_its_format, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_urls_load_in_the_order_found_and_a_known_id_is_ignored, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_meta_is_replaced_and_read_back, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_hosts_keep_their_robots_and_interval, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_a_format_1_store_is_still_read, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_another_format_version_is_refused_with_a_message, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_a_file_that_is_not_a_database_is_refused, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_missing_directory_is_an_error_naming_it, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_queued_urls_page_back_in_the_order_found_past_ended_ones, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_paging_the_queue_walks_the_primary_key, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_the_seen_set_loads_as_fingerprints, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_spilled_urls_come_back_through_the_store_none_lost_none_twice,
                                        setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_a_refill_before_the_commit_takes_nothing_and_loses_nothing, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_changes_by_id_touch_the_url_with_that_id, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_a_refill_that_finds_fewer_than_counted_lets_the_crawl_end, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_resume_loads_fingerprints_and_makes_the_store_agree_with_the_lines,
                                        setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_synchronous_full_can_be_chosen, setup_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
