/* test_store.c -- the state store: schema and WAL mode, options, URLs kept in the order
 * found, batches applied atomically, format versions, errors that say where. */
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

static void test_open_creates_a_wal_database_with_its_format(void **state) {
    (void)state;
    char err[512], buf[64];
    assert_false(tw_store_exists(dir));
    tw_store *st = tw_store_open(dir, err, sizeof err);
    assert_non_null(st);
    assert_true(tw_store_exists(dir));
    assert_string_equal(query("PRAGMA journal_mode", buf, sizeof buf), "wal");
    assert_string_equal(query("SELECT value FROM meta WHERE key='format'", buf, sizeof buf), "1");
    char *v = (char *)1;
    assert_int_equal(tw_store_get_meta(st, TW_STORE_META_OPTIONS, &v, err, sizeof err), 0);
    assert_null(v);
    tw_store_close(st);
}

static void test_urls_load_in_the_order_found_and_duplicates_are_ignored(void **state) {
    (void)state;
    char err[512];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    assert_non_null(st);
    tw_store_batch *b = tw_store_batch_new();
    assert_int_equal(tw_store_batch_add_url(b, "http://a.test/", 0, NULL, "http://a.test/"), 0);
    assert_int_equal(tw_store_batch_add_url(b, "http://a.test/z", 1, "http://a.test/", "http://a.test/"), 0);
    assert_int_equal(tw_store_batch_add_url(b, "http://a.test/b", 1, "http://a.test/", "http://a.test/"), 0);
    assert_int_equal(tw_store_batch_add_url(b, "http://a.test/z", 5, "http://x.test/", "http://x.test/"), 0);
    assert_int_equal(tw_store_batch_attempts(b, "http://a.test/z", 2), 0);
    assert_int_equal(tw_store_batch_ended(b, "http://a.test/", 1), 0);
    assert_int_equal(tw_store_batch_len(b), 6);
    assert_int_equal(tw_store_commit(st, b, err, sizeof err), 0);
    assert_int_equal(tw_store_batch_len(b), 0);
    tw_store_batch_free(b);
    tw_store_close(st);

    st = tw_store_open(dir, err, sizeof err); /* what was committed survives a reopen */
    assert_non_null(st);
    seen_urls s = {0};
    assert_int_equal(tw_store_load_urls(st, collect, &s, err, sizeof err), 3);
    assert_string_equal(s.text[0][0], "http://a.test/");
    assert_string_equal(s.text[0][1], "(null)");
    assert_true(s.u[0].ended);
    assert_int_equal(s.u[0].attempts, 1);
    assert_string_equal(s.text[1][0], "http://a.test/z");
    assert_int_equal(s.u[1].depth, 1); /* the first one stored stays */
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_a_wal_database_with_its_format, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_urls_load_in_the_order_found_and_duplicates_are_ignored, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_meta_is_replaced_and_read_back, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_another_format_version_is_refused_with_a_message, setup_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_a_file_that_is_not_a_database_is_refused, setup_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_missing_directory_is_an_error_naming_it, setup_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
