/* test_http_headers.c - tests of the HTTP response head parser and its field helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_headers.h"

static tw_http_headers *parse_ok(const char *raw)
{
    tw_http_headers *h = NULL;
    int rc = tw_http_headers_parse(raw, strlen(raw), &h);
    if (rc != TW_HTTP_OK) fail_msg("parse failed: %s", tw_http_strerror(rc));
    assert_non_null(h);
    return h;
}

static int parse_err(const char *raw, size_t len)
{
    tw_http_headers *h = (tw_http_headers *)1;
    int rc = tw_http_headers_parse(raw, len, &h);
    assert_null(h);
    return rc;
}

/* ---- status line and blocks ---- */

static void test_simple_response(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-A: b\r\n\r\n");
    assert_int_equal(h->version, 11);
    assert_int_equal(h->status, 200);
    assert_string_equal(h->reason, "OK");
    assert_int_equal(h->count, 2);
    assert_string_equal(h->fields[0].name, "Content-Type");
    assert_string_equal(h->fields[0].value, "text/html");
    assert_string_equal(h->fields[1].name, "X-A");
    tw_http_headers_free(h);
}

static void test_100_continue_then_200_keeps_last(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 100 Continue\r\nX-Early: 1\r\n\r\n"
                                  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    assert_int_equal(h->status, 200);
    assert_int_equal(h->count, 1);
    assert_null(tw_http_header_get(h, "x-early"));
    assert_int_equal(tw_http_content_length(h), 5);
    tw_http_headers_free(h);
}

static void test_proxy_connect_then_http2(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 Connection established\r\n\r\n"
                                  "HTTP/2 404 \r\ncontent-type: text/plain\r\n\r\n");
    assert_int_equal(h->version, 20);
    assert_int_equal(h->status, 404);
    assert_string_equal(h->reason, "");
    assert_string_equal(tw_http_content_type(h), "text/plain");
    tw_http_headers_free(h);
}

static void test_http2_status_line_without_reason(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/2 301\r\nlocation: /next\r\n\r\n");
    assert_int_equal(h->version, 20);
    assert_int_equal(h->status, 301);
    assert_string_equal(h->reason, "");
    assert_string_equal(tw_http_location(h), "/next");
    tw_http_headers_free(h);
    h = parse_ok("HTTP/3 200\n\n");
    assert_int_equal(h->version, 30);
    tw_http_headers_free(h);
}

static void test_bare_lf_line_ends(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.0 503 Service Unavailable\nRetry-After: 7\nA: b\n\n");
    assert_int_equal(h->version, 10);
    assert_int_equal(h->status, 503);
    assert_string_equal(h->reason, "Service Unavailable");
    assert_int_equal(tw_http_retry_after(h, 0), 7);
    assert_string_equal(tw_http_header_get(h, "a"), "b");
    tw_http_headers_free(h);
}

static void test_block_without_final_blank_line(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 204 No Content\r\nServer: x");
    assert_int_equal(h->status, 204);
    assert_string_equal(tw_http_header_get(h, "server"), "x");
    tw_http_headers_free(h);
}

static void test_trailers_after_block_ignored(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nA: 1\r\n\r\nTrailer-Field: 2\r\n\r\n");
    assert_int_equal(h->count, 1);
    assert_null(tw_http_header_get(h, "trailer-field"));
    tw_http_headers_free(h);
}

static void test_bad_status_lines_rejected(void **state)
{
    (void)state;
    const char *bad[] = {
        "HTTP/1.1 20 OK\r\n\r\n",   "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n",
        "HTTP/x 200 OK\r\n\r\n",    "HTTP/1. 200 OK\r\n\r\n",   "HTTP/1.1200 OK\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n", "HTTP/\r\n\r\n",            "HTTP/1.1\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = parse_err(bad[i], strlen(bad[i]));
        if (rc != TW_HTTP_EBADSTATUS) fail_msg("accepted or wrong error for: %s", bad[i]);
    }
}

static void test_missing_status_line_rejected(void **state)
{
    (void)state;
    assert_int_equal(parse_err("", 0), TW_HTTP_ENOSTATUS);
    const char *s = "Content-Type: text/html\r\n\r\n";
    assert_int_equal(parse_err(s, strlen(s)), TW_HTTP_ENOSTATUS);
    const char *s2 = "<html>HTTP/1.1 200 OK</html>";
    assert_int_equal(parse_err(s2, strlen(s2)), TW_HTTP_ENOSTATUS);
    assert_int_equal(parse_err(NULL, 10), TW_HTTP_ENOSTATUS);
}

static void test_binary_garbage_rejected(void **state)
{
    (void)state;
    unsigned char junk[2048];
    uint32_t x = 99;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1664525u + 1013904223u;
        junk[i] = (unsigned char)(x >> 24);
    }
    junk[0] = 0x01;
    assert_int_equal(parse_err((const char *)junk, sizeof junk), TW_HTTP_ENOSTATUS);
}

static void test_overlong_block_rejected(void **state)
{
    (void)state;
    size_t n = TW_HTTP_MAX_BLOCK + 10;
    char *raw = malloc(n + 64);
    assert_non_null(raw);
    int k = sprintf(raw, "HTTP/1.1 200 OK\r\nX-Big: ");
    memset(raw + k, 'a', n);
    strcpy(raw + k + n, "\r\n\r\n");
    assert_int_equal(parse_err(raw, strlen(raw)), TW_HTTP_ETOOLONG);
    free(raw);
}

static void test_too_many_headers_rejected(void **state)
{
    (void)state;
    char *raw = malloc(32 * (TW_HTTP_MAX_HEADERS + 2) + 64);
    assert_non_null(raw);
    char *p = raw + sprintf(raw, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i <= TW_HTTP_MAX_HEADERS; i++) p += sprintf(p, "X-H%d: %d\r\n", i, i);
    strcpy(p, "\r\n");
    assert_int_equal(parse_err(raw, strlen(raw)), TW_HTTP_ETOOMANY);
    free(raw);
}

static void test_exactly_max_headers_accepted(void **state)
{
    (void)state;
    char *raw = malloc(32 * (TW_HTTP_MAX_HEADERS + 2) + 64);
    assert_non_null(raw);
    char *p = raw + sprintf(raw, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < TW_HTTP_MAX_HEADERS; i++) p += sprintf(p, "X-H%d: %d\r\n", i, i);
    strcpy(p, "\r\n");
    tw_http_headers *h = parse_ok(raw);
    assert_int_equal(h->count, TW_HTTP_MAX_HEADERS);
    assert_string_equal(tw_http_header_get(h, "x-h255"), "255");
    tw_http_headers_free(h);
    free(raw);
}

static void test_strerror_names_every_code(void **state)
{
    (void)state;
    int codes[] = {TW_HTTP_OK, TW_HTTP_ENOSTATUS, TW_HTTP_EBADSTATUS, TW_HTTP_ETOOLONG,
                   TW_HTTP_ETOOMANY, TW_HTTP_ENOMEM};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        assert_string_not_equal(tw_http_strerror(codes[i]), tw_http_strerror(12345));
    assert_string_equal(tw_http_strerror(TW_HTTP_ENOSTATUS), "no HTTP status line");
}

/* ---- fields ---- */

static void test_folded_header_joined(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nX-Long: first\r\n   second\r\n\tthird  \r\nNext: n\r\n\r\n");
    assert_string_equal(tw_http_header_get(h, "x-long"), "first second third");
    assert_string_equal(tw_http_header_get(h, "next"), "n");
    tw_http_headers_free(h);
}

static void test_fold_before_any_field_ignored(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\n  stray\r\nA: 1\r\n\r\n");
    assert_int_equal(h->count, 1);
    assert_string_equal(tw_http_header_get(h, "a"), "1");
    tw_http_headers_free(h);
}

static void test_duplicate_headers_kept_in_order(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n");
    assert_string_equal(tw_http_header_get(h, "set-cookie"), "a=1");
    assert_string_equal(tw_http_header_get_nth(h, "Set-Cookie", 1), "b=2");
    assert_null(tw_http_header_get_nth(h, "set-cookie", 2));
    tw_http_headers_free(h);
}

static void test_lookup_is_case_insensitive(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\ncOnTeNt-TyPe: text/html\r\n\r\n");
    assert_string_equal(tw_http_header_get(h, "Content-Type"), "text/html");
    assert_string_equal(tw_http_header_get(h, "CONTENT-TYPE"), "text/html");
    assert_null(tw_http_header_get(h, "content-typ"));
    tw_http_headers_free(h);
}

static void test_value_whitespace_trimmed_and_empty_values(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nA:   spaced out \t\r\nEmpty:\r\n\r\n");
    assert_string_equal(tw_http_header_get(h, "a"), "spaced out");
    assert_string_equal(tw_http_header_get(h, "empty"), "");
    tw_http_headers_free(h);
}

static void test_malformed_field_lines_skipped(void **state)
{
    (void)state;
    const char raw[] = "HTTP/1.1 200 OK\r\nno colon here\r\n: empty name\r\nBad Name: x\r\n"
                       "Spaced : y\r\nNul: a\0b\r\nGood: z\r\n\r\n";
    tw_http_headers *h = NULL;
    assert_int_equal(tw_http_headers_parse(raw, sizeof raw - 1, &h), TW_HTTP_OK);
    assert_int_equal(h->count, 2);
    assert_string_equal(tw_http_header_get(h, "nul"), "a b");
    assert_string_equal(tw_http_header_get(h, "good"), "z");
    assert_null(tw_http_header_get(h, "spaced"));
    tw_http_headers_free(h);
}

/* ---- content type, length, encoding, location ---- */

static void test_content_type_without_parameters_lowercased(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nContent-Type: Text/HTML; charset=UTF-8\r\n\r\n");
    assert_string_equal(tw_http_content_type(h), "text/html");
    assert_string_equal(tw_http_charset(h), "utf-8");
    tw_http_headers_free(h);
}

static void test_charset_quoted_and_among_parameters(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nContent-Type: text/plain ; format=flowed; CharSet=\"ISO-8859-1\"\r\n\r\n");
    assert_string_equal(tw_http_content_type(h), "text/plain");
    assert_string_equal(tw_http_charset(h), "iso-8859-1");
    tw_http_headers_free(h);
}

static void test_content_type_absent_or_invalid(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\n\r\n");
    assert_null(tw_http_content_type(h));
    assert_null(tw_http_charset(h));
    tw_http_headers_free(h);
    h = parse_ok("HTTP/1.1 200 OK\r\nContent-Type: html\r\n\r\n");
    assert_null(tw_http_content_type(h));
    tw_http_headers_free(h);
    h = parse_ok("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=\r\n\r\n");
    assert_string_equal(tw_http_content_type(h), "text/html");
    assert_null(tw_http_charset(h));
    tw_http_headers_free(h);
}

static void test_first_content_type_wins(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Type: image/png\r\n\r\n");
    assert_string_equal(tw_http_content_type(h), "text/html");
    tw_http_headers_free(h);
}

static void test_content_length_rules(void **state)
{
    (void)state;
    struct { const char *raw; int64_t want; } cases[] = {
        {"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 1234},
        {"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0},
        {"HTTP/1.1 200 OK\r\n\r\n", -1},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12, 12\r\n\r\n", 12},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 12\r\n\r\n", 12},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12\r\nContent-Length: 13\r\n\r\n", -1},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", -1},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1e3\r\n\r\n", -1},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n", -1},
        {"HTTP/1.1 200 OK\r\nContent-Length: 12,\r\n\r\n", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tw_http_headers *h = parse_ok(cases[i].raw);
        if (tw_http_content_length(h) != cases[i].want)
            fail_msg("case %zu: got %lld", i, (long long)tw_http_content_length(h));
        tw_http_headers_free(h);
    }
}

static void test_content_encoding_tokens(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nContent-Encoding: GZIP, identity\r\ncontent-encoding: br\r\n\r\n");
    const char *const *c;
    assert_int_equal(tw_http_content_codings(h, &c), 2);
    assert_string_equal(c[0], "gzip");
    assert_string_equal(c[1], "br");
    tw_http_headers_free(h);
    h = parse_ok("HTTP/1.1 200 OK\r\n\r\n");
    assert_int_equal(tw_http_content_codings(h, &c), 0);
    tw_http_headers_free(h);
    h = parse_ok("HTTP/1.1 200 OK\r\nContent-Encoding: a,b,c,d,e,f,g,h,i\r\n\r\n");
    assert_int_equal(tw_http_content_codings(h, &c), -1);
    tw_http_headers_free(h);
}

static void test_location_raw_value(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 302 Found\r\nLocation:  ../a b?x=1#f \r\n\r\n");
    assert_string_equal(tw_http_location(h), "../a b?x=1#f");
    tw_http_headers_free(h);
}

/* ---- dates and Retry-After ---- */

static const time_t T1994 = 784111777; /* Sun, 06 Nov 1994 08:49:37 GMT */

static void test_http_date_imf_fixdate(void **state)
{
    (void)state;
    time_t t = 0;
    assert_int_equal(tw_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t), 0);
    assert_int_equal(t, T1994);
    assert_int_equal(tw_http_date_parse("  Sun, 06 Nov 1994 08:49:37 GMT  ", &t), 0);
    assert_int_equal(t, T1994);
}

static void test_http_date_rfc850(void **state)
{
    (void)state;
    time_t t = 0;
    assert_int_equal(tw_http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t), 0);
    assert_int_equal(t, T1994);
    assert_int_equal(tw_http_date_parse("Thursday, 01-Jan-30 00:00:00 GMT", &t), 0);
    assert_int_equal(t, 1893456000); /* 2030 */
}

static void test_http_date_asctime(void **state)
{
    (void)state;
    time_t t = 0;
    assert_int_equal(tw_http_date_parse("Sun Nov  6 08:49:37 1994", &t), 0);
    assert_int_equal(t, T1994);
    assert_int_equal(tw_http_date_parse("Sun Nov 06 08:49:37 1994", &t), 0);
    assert_int_equal(t, T1994);
}

static void test_http_date_invalid_rejected(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "garbage", "Sun", "Sun, 06 Nov 1994", "Sun, 06 Nov 1994 08:49:37 PST",
        "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT", "x Sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT trailing", "Sun Nov  6 08:49:37 94",
        "Sunday, 06-Nov-1994 08:49:37 GMT", "1994-11-06T08:49:37Z", NULL,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        time_t t = 42;
        if (tw_http_date_parse(bad[i], &t) != -1) fail_msg("accepted: %s", bad[i] ? bad[i] : "NULL");
        assert_int_equal(t, 42);
    }
}

static void test_http_date_agrees_with_curl_getdate(void **state)
{
    (void)state;
    /* Cross-check the hand-written parser against libcurl's on many valid dates. */
    static const char *const days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    for (time_t t = 0; t < (time_t)4102444800; t += 7777777) {
        struct tm tm;
        gmtime_r(&t, &tm);
        char s[64];
        snprintf(s, sizeof s, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[(t / 86400) % 7],
                 tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        time_t got = 0;
        assert_int_equal(tw_http_date_parse(s, &got), 0);
        assert_int_equal(got, t);
        assert_int_equal((long long)curl_getdate(s, NULL), (long long)got);
        snprintf(s, sizeof s, "%s %s %2d %02d:%02d:%02d %04d", days[(t / 86400) % 7], mons[tm.tm_mon],
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
        assert_int_equal(tw_http_date_parse(s, &got), 0);
        assert_int_equal(got, t);
        assert_int_equal((long long)curl_getdate(s, NULL), (long long)got);
    }
}

static void test_retry_after_seconds(void **state)
{
    (void)state;
    assert_int_equal(tw_http_retry_after_value("120", 1000), 120);
    assert_int_equal(tw_http_retry_after_value(" 0 ", 1000), 0);
    assert_int_equal(tw_http_retry_after_value("99999999999999999999", 1000), INT32_MAX);
    tw_http_headers *h = parse_ok("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 30\r\n\r\n");
    assert_int_equal(tw_http_retry_after(h, 5), 30);
    tw_http_headers_free(h);
}

static void test_retry_after_each_date_form(void **state)
{
    (void)state;
    time_t now = T1994 - 100;
    assert_int_equal(tw_http_retry_after_value("Sun, 06 Nov 1994 08:49:37 GMT", now), 100);
    assert_int_equal(tw_http_retry_after_value("Sunday, 06-Nov-94 08:49:37 GMT", now), 100);
    assert_int_equal(tw_http_retry_after_value("Sun Nov  6 08:49:37 1994", now), 100);
}

static void test_retry_after_past_date_is_zero(void **state)
{
    (void)state;
    assert_int_equal(tw_http_retry_after_value("Sun, 06 Nov 1994 08:49:37 GMT", T1994 + 5000), 0);
    assert_int_equal(tw_http_retry_after_value("Sun, 06 Nov 1994 08:49:37 GMT", T1994), 0);
}

static void test_retry_after_garbage_is_minus_one(void **state)
{
    (void)state;
    const char *bad[] = {"", "soon", "-5", "1.5", "12abc", "Sun, 06 Nov 1994", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tw_http_retry_after_value(bad[i], 1000), -1);
    tw_http_headers *h = parse_ok("HTTP/1.1 503 x\r\n\r\n");
    assert_int_equal(tw_http_retry_after(h, 1000), -1);
    tw_http_headers_free(h);
}

/* ---- X-Robots-Tag ---- */

static void test_x_robots_tag_nofollow(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nX-Robots-Tag: noindex, NoFollow\r\n\r\n");
    assert_int_equal(tw_http_robots_tag(h, "trawl"), TW_HTTP_ROBOTS_NOINDEX | TW_HTTP_ROBOTS_NOFOLLOW);
    tw_http_headers_free(h);
    h = parse_ok("HTTP/1.1 200 OK\r\nX-Robots-Tag: none\r\n\r\n");
    assert_int_equal(tw_http_robots_tag(h, "trawl"), TW_HTTP_ROBOTS_NOINDEX | TW_HTTP_ROBOTS_NOFOLLOW);
    tw_http_headers_free(h);
    h = parse_ok("HTTP/1.1 200 OK\r\nX-Robots-Tag: unavailable_after: 25 Jun 2010 15:00:00 PST\r\n\r\n");
    assert_int_equal(tw_http_robots_tag(h, "trawl"), 0);
    tw_http_headers_free(h);
}

static void test_x_robots_tag_agent_specific(void **state)
{
    (void)state;
    tw_http_headers *h = parse_ok("HTTP/1.1 200 OK\r\nX-Robots-Tag: otherbot: nofollow\r\n"
                                  "X-Robots-Tag: Trawl: noindex\r\n\r\n");
    assert_int_equal(tw_http_robots_tag(h, "trawl"), TW_HTTP_ROBOTS_NOINDEX);
    assert_int_equal(tw_http_robots_tag(h, "otherbot"), TW_HTTP_ROBOTS_NOFOLLOW);
    tw_http_headers_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_response),
        cmocka_unit_test(test_100_continue_then_200_keeps_last),
        cmocka_unit_test(test_proxy_connect_then_http2),
        cmocka_unit_test(test_http2_status_line_without_reason),
        cmocka_unit_test(test_bare_lf_line_ends),
        cmocka_unit_test(test_block_without_final_blank_line),
        cmocka_unit_test(test_trailers_after_block_ignored),
        cmocka_unit_test(test_bad_status_lines_rejected),
        cmocka_unit_test(test_missing_status_line_rejected),
        cmocka_unit_test(test_binary_garbage_rejected),
        cmocka_unit_test(test_overlong_block_rejected),
        cmocka_unit_test(test_too_many_headers_rejected),
        cmocka_unit_test(test_exactly_max_headers_accepted),
        cmocka_unit_test(test_strerror_names_every_code),
        cmocka_unit_test(test_folded_header_joined),
        cmocka_unit_test(test_fold_before_any_field_ignored),
        cmocka_unit_test(test_duplicate_headers_kept_in_order),
        cmocka_unit_test(test_lookup_is_case_insensitive),
        cmocka_unit_test(test_value_whitespace_trimmed_and_empty_values),
        cmocka_unit_test(test_malformed_field_lines_skipped),
        cmocka_unit_test(test_content_type_without_parameters_lowercased),
        cmocka_unit_test(test_charset_quoted_and_among_parameters),
        cmocka_unit_test(test_content_type_absent_or_invalid),
        cmocka_unit_test(test_first_content_type_wins),
        cmocka_unit_test(test_content_length_rules),
        cmocka_unit_test(test_content_encoding_tokens),
        cmocka_unit_test(test_location_raw_value),
        cmocka_unit_test(test_http_date_imf_fixdate),
        cmocka_unit_test(test_http_date_rfc850),
        cmocka_unit_test(test_http_date_asctime),
        cmocka_unit_test(test_http_date_invalid_rejected),
        cmocka_unit_test(test_http_date_agrees_with_curl_getdate),
        cmocka_unit_test(test_retry_after_seconds),
        cmocka_unit_test(test_retry_after_each_date_form),
        cmocka_unit_test(test_retry_after_past_date_is_zero),
        cmocka_unit_test(test_retry_after_garbage_is_minus_one),
        cmocka_unit_test(test_x_robots_tag_nofollow),
        cmocka_unit_test(test_x_robots_tag_agent_specific),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
