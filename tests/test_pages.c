/* test_pages.c - tests of pages.jsonl: the line format, JSON escaping, appends and crash repair. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pages.h"

/* ---- helpers ---- */

static char *format(const tw_page_record *r)
{
    size_t len;
    char *line = tw_pages_format(r, &len);
    assert_non_null(line);
    assert_int_equal(strlen(line), len);
    return line;
}

static char *quote(const char *s, size_t n)
{
    char *q = tw_json_quote(s, n);
    assert_non_null(q);
    return q;
}

static void expect_quote(const char *s, size_t n, const char *want)
{
    char *q = quote(s, n);
    if (strcmp(q, want) != 0)
        fail_msg("quote: got %s, want %s", q, want);
    free(q);
}

/* A fresh directory under /tmp; removed by cleanup(). */
static char *make_dir(void)
{
    char tmpl[] = "/tmp/test_pages.XXXXXX";
    char *d = mkdtemp(tmpl);
    assert_non_null(d);
    return strdup(d);
}

static char *file_in(const char *dir)
{
    char *p;
    assert_true(asprintf(&p, "%s/%s", dir, TW_PAGES_FILE) > 0);
    return p;
}

static void cleanup(char *dir)
{
    char *p = file_in(dir);
    unlink(p);
    rmdir(dir);
    free(p);
    free(dir);
}

static void write_file(const char *dir, const char *data, size_t len)
{
    char *p = file_in(dir);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    free(p);
}

static char *read_all(const char *dir, size_t *len)
{
    char *p = file_in(dir), *data = NULL;
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    size_t cap = 0;
    *len = 0;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        data = realloc(data, cap = *len + n + 1);
        memcpy(data + *len, chunk, n);
        *len += n;
    }
    if (!data)
        data = calloc(1, 1);
    data[*len] = '\0';
    fclose(f);
    free(p);
    return data;
}

/* Collects the urls tw_pages_repair reports, joined by spaces. */
typedef struct seen {
    char text[1024];
    int count, stop_after;
} seen;

static int collect(void *ctx, const char *url, size_t len)
{
    seen *s = ctx;
    assert_int_equal(strlen(url), len);
    if (s->text[0])
        strcat(s->text, " ");
    strcat(s->text, url);
    s->count++;
    return s->stop_after && s->count >= s->stop_after;
}

static const tw_page_record FULL = {
    .url = "http://example.com/a",
    .status = 200,
    .error = NULL,
    .attempts = 1,
    .depth = 2,
    .parent = "http://example.com/",
    .content_type = "text/html; charset=utf-8",
    .bytes = 1234,
    .truncated = false,
    .links = 7,
    .redirect = NULL,
    .fetched_at_ms = 1714564800250, /* 2024-05-01T12:00:00.250Z */
    .ms = 42,
};

/* ---- the line ---- */

static void test_line_has_exactly_the_contract_fields_in_order(void **state)
{
    (void)state;
    char *line = format(&FULL);
    assert_string_equal(line, "{\"url\":\"http://example.com/a\",\"status\":200,\"error\":null,\"attempts\":1,"
                              "\"depth\":2,\"parent\":\"http://example.com/\",\"content_type\":"
                              "\"text/html; charset=utf-8\",\"bytes\":1234,\"truncated\":false,\"links\":7,"
                              "\"redirect\":null,\"fetched_at\":\"2024-05-01T12:00:00.250Z\",\"ms\":42}\n");
    free(line);
}

static void test_seed_given_up_has_nulls_and_error_text(void **state)
{
    (void)state;
    tw_page_record r = {.url = "http://a.example/", .status = 0, .error = "connection refused", .attempts = 4,
                        .fetched_at_ms = 0, .truncated = true, .redirect = "http://b.example/"};
    char *line = format(&r);
    assert_string_equal(line, "{\"url\":\"http://a.example/\",\"status\":0,\"error\":\"connection refused\","
                              "\"attempts\":4,\"depth\":0,\"parent\":null,\"content_type\":null,\"bytes\":0,"
                              "\"truncated\":true,\"links\":0,\"redirect\":\"http://b.example/\","
                              "\"fetched_at\":\"1970-01-01T00:00:00.000Z\",\"ms\":0}\n");
    free(line);
}

static void test_fetched_at_is_rfc3339_utc_with_milliseconds(void **state)
{
    (void)state;
    tw_page_record r = FULL;
    r.fetched_at_ms = 951782400999; /* a leap day, just before a second boundary */
    char *line = format(&r);
    assert_non_null(strstr(line, "\"fetched_at\":\"2000-02-29T00:00:00.999Z\""));
    free(line);
    r.fetched_at_ms = -1; /* before the epoch: still a valid time */
    line = format(&r);
    assert_non_null(strstr(line, "\"fetched_at\":\"1969-12-31T23:59:59.999Z\""));
    free(line);
}

/* ---- escaping ---- */

static void test_quotes_backslashes_and_controls_are_escaped(void **state)
{
    (void)state;
    expect_quote("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
    expect_quote("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"");
    expect_quote("\x01\x1f", 2, "\"\\u0001\\u001f\"");
    expect_quote("a\0b", 3, "\"a\\u0000b\"");
    expect_quote("/\x7f", 2, "\"/\x7f\""); /* DEL and '/' need no escape */
}

static void test_valid_utf8_is_kept(void **state)
{
    (void)state;
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xef\xbf\xbf \xf4\x8f\xbf\xbf";
    char *want;
    assert_true(asprintf(&want, "\"%s\"", s) > 0);
    expect_quote(s, strlen(s), want);
    free(want);
}

static void test_invalid_utf8_becomes_replacement_characters(void **state)
{
    (void)state;
#define FFFD "\xef\xbf\xbd"
    expect_quote("a\xff" "b", 3, "\"a" FFFD "b\"");             /* never valid */
    expect_quote("\xc0\xaf", 2, "\"" FFFD FFFD "\"");           /* overlong '/' */
    expect_quote("\xe0\x80\xaf", 3, "\"" FFFD FFFD FFFD "\"");  /* overlong, 3 bytes */
    expect_quote("\xed\xa0\x80", 3, "\"" FFFD FFFD FFFD "\"");  /* a surrogate */
    expect_quote("\xf4\x90\x80\x80", 4, "\"" FFFD FFFD FFFD FFFD "\""); /* above U+10FFFF */
    expect_quote("\xc3", 1, "\"" FFFD "\"");                    /* cut short at the end */
    expect_quote("\xe2\x82" "x", 3, "\"" FFFD FFFD "x\"");      /* cut short mid-string */
    expect_quote("\x80", 1, "\"" FFFD "\"");                    /* a lone continuation byte */
#undef FFFD
}

static void test_unquote_reverses_quote(void **state)
{
    (void)state;
    const char *s = "tab\there \"q\" \\ \x01 caf\xc3\xa9 \xf0\x9f\x98\x80";
    char *q = quote(s, strlen(s));
    size_t used, len;
    char *back = tw_json_unquote(q, strlen(q), &used, &len);
    assert_non_null(back);
    assert_string_equal(back, s);
    assert_int_equal(used, strlen(q));
    assert_int_equal(len, strlen(s));
    free(back);
    free(q);
    back = tw_json_unquote("\"\\ud83d\\ude00 \\u00e9\"", 22, NULL, NULL);
    assert_string_equal(back, "\xf0\x9f\x98\x80 \xc3\xa9"); /* surrogate pairs join */
    free(back);
    assert_null(tw_json_unquote("\"unterminated", 13, NULL, NULL));
    assert_null(tw_json_unquote("\"bad \\x\"", 8, NULL, NULL));
    assert_null(tw_json_unquote("\"\\u12\"", 6, NULL, NULL));
    assert_null(tw_json_unquote("nope", 4, NULL, NULL));
}

/* ---- the file ---- */

static void test_writes_append_one_complete_line_each(void **state)
{
    (void)state;
    char *dir = make_dir();
    char err[256];
    tw_pages *p = tw_pages_open(dir, err, sizeof err);
    assert_non_null(p);
    tw_page_record r = FULL;
    assert_int_equal(tw_pages_write(p, &r), 0);
    r.url = "http://example.com/b\n\"x\"";
    assert_int_equal(tw_pages_write(p, &r), 0);
    assert_int_equal(tw_pages_sync(p), 0);
    assert_int_equal(tw_pages_close(p), 0);
    p = tw_pages_open(dir, err, sizeof err); /* reopening appends */
    r.url = "http://example.com/c";
    assert_int_equal(tw_pages_write(p, &r), 0);
    assert_int_equal(tw_pages_close(p), 0);
    size_t len;
    char *data = read_all(dir, &len);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += data[i] == '\n';
    assert_int_equal(lines, 3);
    assert_int_equal(data[len - 1], '\n');
    assert_non_null(strstr(data, "\"url\":\"http://example.com/b\\n\\\"x\\\"\""));
    free(data);
    seen s = {0};
    assert_int_equal(tw_pages_repair(dir, collect, &s), 3);
    assert_string_equal(s.text, "http://example.com/a http://example.com/b\n\"x\" http://example.com/c");
    cleanup(dir);
}

static void test_open_failure_names_the_file(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(tw_pages_open("/nonexistent/dir", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/dir/pages.jsonl"));
}

/* ---- repair ---- */

static void test_repair_cuts_an_incomplete_last_line(void **state)
{
    (void)state;
    char *dir = make_dir();
    char *a = format(&FULL), *b;
    tw_page_record r = FULL;
    r.url = "http://example.com/b";
    b = format(&r);
    char *data;
    /* The crash came halfway through b's write. */
    assert_true(asprintf(&data, "%s%.*s", a, (int)(strlen(b) / 2), b) > 0);
    write_file(dir, data, strlen(data));
    seen s = {0};
    assert_int_equal(tw_pages_repair(dir, collect, &s), 1);
    assert_string_equal(s.text, "http://example.com/a");
    size_t len;
    char *after = read_all(dir, &len);
    assert_string_equal(after, a);
    free(after);
    /* Writing goes on after the repaired line. */
    char err[256];
    tw_pages *p = tw_pages_open(dir, err, sizeof err);
    assert_int_equal(tw_pages_write(p, &r), 0);
    tw_pages_close(p);
    memset(&s, 0, sizeof s);
    assert_int_equal(tw_pages_repair(dir, collect, &s), 2);
    assert_string_equal(s.text, "http://example.com/a http://example.com/b");
    free(data);
    free(a);
    free(b);
    cleanup(dir);
}

static void test_repair_cuts_a_line_missing_only_its_newline(void **state)
{
    (void)state;
    char *dir = make_dir();
    char *a = format(&FULL);
    write_file(dir, a, strlen(a) - 1);
    assert_int_equal(tw_pages_repair(dir, NULL, NULL), 0);
    size_t len;
    free(read_all(dir, &len));
    assert_int_equal(len, 0);
    free(a);
    cleanup(dir);
}

static void test_repair_cuts_the_zeros_a_power_loss_leaves(void **state)
{
    (void)state;
    char *dir = make_dir();
    char *a = format(&FULL);
    size_t alen = strlen(a);
    char *data = calloc(1, alen + 300);
    memcpy(data, a, alen);
    data[alen + 299] = '\n'; /* the size grew, the data never came: zeros (and a newline) */
    write_file(dir, data, alen + 300);
    seen s = {0};
    assert_int_equal(tw_pages_repair(dir, collect, &s), 1);
    size_t len;
    free(read_all(dir, &len));
    assert_int_equal(len, alen);
    free(data);
    free(a);
    cleanup(dir);
}

static void test_repair_leaves_a_sound_file_alone(void **state)
{
    (void)state;
    char *dir = make_dir();
    char *a = format(&FULL);
    char *data;
    assert_true(asprintf(&data, "%s%s", a, a) > 0);
    write_file(dir, data, strlen(data));
    assert_int_equal(tw_pages_repair(dir, NULL, NULL), 2);
    size_t len;
    char *after = read_all(dir, &len);
    assert_string_equal(after, data);
    free(after);
    free(data);
    free(a);
    cleanup(dir);
}

static void test_repair_of_a_missing_file_finds_nothing(void **state)
{
    (void)state;
    char *dir = make_dir();
    seen s = {0};
    assert_int_equal(tw_pages_repair(dir, collect, &s), 0);
    assert_int_equal(s.count, 0);
    cleanup(dir);
}

static void test_repair_stopped_by_the_callback_changes_nothing(void **state)
{
    (void)state;
    char *dir = make_dir();
    char *a = format(&FULL);
    char *data;
    assert_true(asprintf(&data, "%s%sgarbage", a, a) > 0);
    write_file(dir, data, strlen(data));
    seen s = {.stop_after = 1};
    assert_int_equal(tw_pages_repair(dir, collect, &s), -ECANCELED);
    size_t len;
    char *after = read_all(dir, &len);
    assert_string_equal(after, data);
    free(after);
    free(data);
    free(a);
    cleanup(dir);
}

static void test_repair_decodes_escaped_urls(void **state)
{
    (void)state;
    char *dir = make_dir();
    const char *text = "{\"url\":\"http://x.example/\\u00e9\\\"\\/\",\"status\":200}\n";
    write_file(dir, text, strlen(text));
    seen s = {0};
    assert_int_equal(tw_pages_repair(dir, collect, &s), 1);
    assert_string_equal(s.text, "http://x.example/\xc3\xa9\"/");
    cleanup(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_has_exactly_the_contract_fields_in_order),
        cmocka_unit_test(test_seed_given_up_has_nulls_and_error_text),
        cmocka_unit_test(test_fetched_at_is_rfc3339_utc_with_milliseconds),
        cmocka_unit_test(test_quotes_backslashes_and_controls_are_escaped),
        cmocka_unit_test(test_valid_utf8_is_kept),
        cmocka_unit_test(test_invalid_utf8_becomes_replacement_characters),
        cmocka_unit_test(test_unquote_reverses_quote),
        cmocka_unit_test(test_writes_append_one_complete_line_each),
        cmocka_unit_test(test_open_failure_names_the_file),
        cmocka_unit_test(test_repair_cuts_an_incomplete_last_line),
        cmocka_unit_test(test_repair_cuts_a_line_missing_only_its_newline),
        cmocka_unit_test(test_repair_cuts_the_zeros_a_power_loss_leaves),
        cmocka_unit_test(test_repair_leaves_a_sound_file_alone),
        cmocka_unit_test(test_repair_of_a_missing_file_finds_nothing),
        cmocka_unit_test(test_repair_stopped_by_the_callback_changes_nothing),
        cmocka_unit_test(test_repair_decodes_escaped_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
