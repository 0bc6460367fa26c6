/* test_url.c: tests of URL normalization against the contract and the WHATWG URL test suite. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"

/* ---- helpers ---- */

/* Normalizes and checks the result in one go. */
static void expect_url(const char *input, const char *base, const char *want)
{
    char *out = NULL;
    int rc = tw_url_normalize(input, base, &out);
    if (rc != 0 || strcmp(out, want) != 0)
        fail_msg("normalize(\"%s\", %s%s%s): got %s (%s), want %s", input, base ? "\"" : "",
                 base ? base : "NULL", base ? "\"" : "", out ? out : "NULL",
                 tw_url_strerror(rc), want);
    free(out);
}

static void expect_error(const char *input, const char *base, int want)
{
    char *out = (char *)1;
    int rc = tw_url_normalize(input, base, &out);
    if (rc != want)
        fail_msg("normalize(\"%s\"): got %d (%s, %s), want %d (%s)", input, rc,
                 tw_url_strerror(rc), rc == 0 ? out : "", want, tw_url_strerror(want));
    assert_null(out);
}

/* ---- the contract's rules ---- */

static void test_fragment_is_dropped(void **state)
{
    (void)state;
    expect_url("http://example.com/a#frag", NULL, "http://example.com/a");
    expect_url("http://example.com/a?q=1#frag", NULL, "http://example.com/a?q=1");
    expect_url("#top", "http://example.com/a?q", "http://example.com/a?q");
}

static void test_unreserved_escapes_are_decoded(void **state)
{
    (void)state;
    expect_url("http://example.com/%7euser/%41%2d%2E%5F", NULL, "http://example.com/~user/A-._");
    expect_url("http://example.com/?a=%7E%7e", NULL, "http://example.com/?a=~~");
}

static void test_other_escapes_get_upper_case_hex(void **state)
{
    (void)state;
    expect_url("http://example.com/a%2fb", NULL, "http://example.com/a%2Fb");
    expect_url("http://example.com/%e4%bd%a0?x=%3d%2f", NULL, "http://example.com/%E4%BD%A0?x=%3D%2F");
}

static void test_characters_outside_the_sets_are_encoded(void **state)
{
    (void)state;
    expect_url("http://example.com/a b/ü?c d'", NULL, "http://example.com/a%20b/%C3%BC?c%20d%27");
    expect_url("http://example.com/{x}^", NULL, "http://example.com/%7Bx%7D%5E");
}

static void test_scheme_and_host_are_lower_cased_and_default_port_dropped(void **state)
{
    (void)state;
    expect_url("HTTP://EXAMPLE.COM:80", NULL, "http://example.com/");
    expect_url("HTTPS://Example.COM:443/Path", NULL, "https://example.com/Path");
    expect_url("https://example.com:80/", NULL, "https://example.com:80/");
    expect_url("http://example.com:0080/", NULL, "http://example.com/");
    expect_url("http://example.com:/", NULL, "http://example.com/");
}

static void test_dot_segments_are_removed(void **state)
{
    (void)state;
    expect_url("http://example.com/a/./b/../c", NULL, "http://example.com/a/c");
    expect_url("http://example.com/a/%2e%2E/b/.", NULL, "http://example.com/b/");
    expect_url("http://example.com/../../x", NULL, "http://example.com/x");
    expect_url("http://example.com/a/..", NULL, "http://example.com/");
}

static void test_empty_path_becomes_slash(void **state)
{
    (void)state;
    expect_url("http://example.com", NULL, "http://example.com/");
    expect_url("http://example.com?q", NULL, "http://example.com/?q");
}

static void test_idn_host_becomes_punycode(void **state)
{
    (void)state;
    expect_url("http://bücher.example/", NULL, "http://xn--bcher-kva.example/");
    expect_url("http://B%C3%BCcher.Example/", NULL, "http://xn--bcher-kva.example/");
    expect_url("http://xn--bcher-kva.example/", NULL, "http://xn--bcher-kva.example/");
    expect_url("http://a!b.BÜCHER.example/", NULL, "http://a!b.xn--bcher-kva.example/");
    expect_url("http://www.foo。bar.com/", NULL, "http://www.foo.bar.com/");
    expect_error("http://xn--zz-zz.example/", NULL, TW_URL_EHOST);
    expect_error("http://%C3%28.example/", NULL, TW_URL_EHOST); /* not UTF-8 */
}

static void test_ipv4_number_forms_become_dotted_decimal(void **state)
{
    (void)state;
    expect_url("http://0x7f.1/", NULL, "http://127.0.0.1/");
    expect_url("http://2130706433/", NULL, "http://127.0.0.1/");
    expect_url("http://0177.0.0.01:8080/", NULL, "http://127.0.0.1:8080/");
    expect_error("http://256.0.0.0.1/", NULL, TW_URL_EHOST);
    expect_error("http://1.2.3.256/", NULL, TW_URL_EHOST);
}

static void test_ipv6_hosts_are_compressed(void **state)
{
    (void)state;
    expect_url("http://[0:0:0:0:0:0:0:1]:8080/", NULL, "http://[::1]:8080/");
    expect_url("http://[2001:DB8::0:0:1]/", NULL, "http://[2001:db8::1]/");
    expect_url("http://[::ffff:127.0.0.1]/", NULL, "http://[::ffff:7f00:1]/");
    expect_error("http://[1::2::3]/", NULL, TW_URL_EHOST);
}

static void test_backslashes_tabs_and_spaces_follow_the_standard(void **state)
{
    (void)state;
    expect_url(" \t http:\\\\example.com\\a\\b\n ", NULL, "http://example.com/a/b");
    expect_url("http://exa\tmple.com/p\na\rth", NULL, "http://example.com/path");
    expect_url("\\\\other.org\\x", "http://example.com/", "http://other.org/x");
}

static void test_relative_references_resolve_against_the_base(void **state)
{
    (void)state;
    const char *base = "http://example.com/dir/sub/page.html?x=1";
    expect_url("../other.html", base, "http://example.com/dir/other.html");
    expect_url("../../../../up", base, "http://example.com/up");
    expect_url("./", base, "http://example.com/dir/sub/");
    expect_url("file.html", base, "http://example.com/dir/sub/file.html");
    expect_url("/root", base, "http://example.com/root");
    expect_url("//cdn.example.net/lib.js", base, "http://cdn.example.net/lib.js");
    expect_url("//cdn.example.net", "https://example.com/", "https://cdn.example.net/");
    expect_url("?q=2", base, "http://example.com/dir/sub/page.html?q=2");
    expect_url("http:same-scheme", base, "http://example.com/dir/sub/same-scheme");
    expect_url("https:other-scheme", base, "https://other-scheme/");
}

static void test_empty_href_is_the_base(void **state)
{
    (void)state;
    expect_url("", "http://example.com/a/b?c=d", "http://example.com/a/b?c=d");
    expect_url("  ", "http://example.com/a/b#frag", "http://example.com/a/b");
}

static void test_non_http_schemes_are_rejected_with_enothttp(void **state)
{
    (void)state;
    expect_error("mailto:someone@example.com", NULL, TW_URL_ENOTHTTP);
    expect_error("javascript:void(0)", "http://example.com/", TW_URL_ENOTHTTP);
    expect_error("ftp://example.com/file", NULL, TW_URL_ENOTHTTP);
    expect_error("data:text/plain,hi", NULL, TW_URL_ENOTHTTP);
    expect_error(" TEL:+123", NULL, TW_URL_ENOTHTTP);
    expect_error("page.html", "ftp://example.com/dir/", TW_URL_ENOTHTTP);
}

static void test_invalid_urls_are_rejected_with_specific_codes(void **state)
{
    (void)state;
    expect_error("page.html", NULL, TW_URL_ERELATIVE);
    expect_error("http://", NULL, TW_URL_EHOST);
    expect_error("http://user@/", NULL, TW_URL_EHOST);
    expect_error("http://exa mple.com/", NULL, TW_URL_EHOST);
    expect_error("http://example.com:65536/", NULL, TW_URL_EPORT);
    expect_error("http://example.com:8o/", NULL, TW_URL_EPORT);
}

static void test_too_long_urls_are_rejected(void **state)
{
    (void)state;
    size_t n = TW_URL_MAX_LEN + 10;
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, "http://example.com/", 19);
    memset(s + 19, 'a', n - 19);
    s[n] = '\0';
    expect_error(s, NULL, TW_URL_ETOOLONG);
    /* within the input limit, but percent-encoding triples it */
    memset(s + 19, ' ', TW_URL_MAX_LEN / 2);
    s[19 + TW_URL_MAX_LEN / 2] = 'x';
    s[20 + TW_URL_MAX_LEN / 2] = '\0';
    expect_error(s, NULL, TW_URL_ETOOLONG);
    free(s);
}

static void test_credentials_are_kept_and_encoded(void **state)
{
    (void)state;
    expect_url("http://us er:p@ss@example.com/", NULL, "http://us%20er:p%40ss@example.com/");
    expect_url("http://:@example.com/", NULL, "http://example.com/");
}

static void test_normalizing_twice_changes_nothing(void **state)
{
    (void)state;
    const char *inputs[] = {
        "HTTP://Example.COM:80/a/../b/%7e/%2f?%41#x", "http://%%32%45/", "http://h/%%32%45",
        "http://h/%4%31/%%7e%", "http://[::1]/a b", "http://bücher.example/ä?ö",
        "http://h/a%2E%2E/b", "http://0x7f.1/x",
    };
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        char *once = NULL, *twice = NULL;
        int rc = tw_url_normalize(inputs[i], NULL, &once);
        if (rc == TW_URL_EHOST)
            continue; /* "%%32%45" is not a valid host, which is fine */
        assert_int_equal(rc, 0);
        assert_int_equal(tw_url_normalize(once, NULL, &twice), 0);
        assert_string_equal(once, twice);
        free(once);
        free(twice);
    }
}

static void test_prepared_base_resolves_like_normalize(void **state)
{
    (void)state;
    const char *base = "HTTP://Example.com:80/dir/./sub/page.html?x=1#f";
    const char *hrefs[] = {"../a", "", "?q", "#x", "//h/p", "/abs", "https:x", "mailto:a@b", "c d"};
    struct tw_url_base b;
    assert_int_equal(tw_url_base_init(&b, base), 0);
    assert_string_equal(b.url, "http://example.com/dir/sub/page.html?x=1");
    for (size_t i = 0; i < sizeof hrefs / sizeof hrefs[0]; i++) {
        char *x = NULL, *y = NULL;
        int rx = tw_url_normalize(hrefs[i], base, &x);
        int ry = tw_url_resolve(&b, hrefs[i], strlen(hrefs[i]), &y);
        assert_int_equal(rx, ry);
        if (rx == 0)
            assert_string_equal(x, y);
        free(x);
        free(y);
    }
    tw_url_base_free(&b);
    assert_null(b.url);
    assert_int_equal(tw_url_base_init(&b, "rel/ative"), TW_URL_ERELATIVE);
    assert_int_equal(tw_url_base_init(&b, "ftp://x/"), TW_URL_ENOTHTTP);
    char *out = NULL;
    assert_int_equal(tw_url_resolve(NULL, "a", 1, &out), TW_URL_ERELATIVE);
    assert_int_equal(tw_url_resolve(NULL, "http://a", 8, &out), 0);
    assert_string_equal(out, "http://a/");
    free(out);
}

static void test_host_key_always_has_the_port(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(tw_url_host_key("http://127.0.0.1:8080/x", buf, sizeof buf), 0);
    assert_string_equal(buf, "127.0.0.1:8080");
    assert_int_equal(tw_url_host_key("https://example.com/", buf, sizeof buf), 0);
    assert_string_equal(buf, "example.com:443");
    assert_int_equal(tw_url_host_key("http://u:p@example.com/", buf, sizeof buf), 0);
    assert_string_equal(buf, "example.com:80");
    assert_int_equal(tw_url_host_key("http://[::1]:81/", buf, sizeof buf), 0);
    assert_string_equal(buf, "[::1]:81");
    assert_int_equal(tw_url_host_key("http://example.com/", buf, 5), TW_URL_ETOOLONG);
    assert_int_equal(tw_url_host_key("mailto:x@y", buf, sizeof buf), TW_URL_EINVAL);
}

static void test_host_port_and_path_query_accessors(void **state)
{
    (void)state;
    char buf[64];
    assert_int_equal(tw_url_host("https://u@[::1]:8443/a?b", buf, sizeof buf), 0);
    assert_string_equal(buf, "[::1]");
    assert_int_equal(tw_url_port("https://u@[::1]:8443/a?b"), 8443);
    assert_int_equal(tw_url_port("https://example.com/"), 443);
    assert_int_equal(tw_url_port("http://example.com/"), 80);
    assert_string_equal(tw_url_path_query("http://example.com:8080/p/1.html?x=1"), "/p/1.html?x=1");
    assert_string_equal(tw_url_path_query("http://example.com/"), "/");
    assert_null(tw_url_path_query("http://example.com"));
    assert_null(tw_url_path_query("ftp://example.com/"));
}

static void test_same_site_uses_the_public_suffix_list(void **state)
{
    (void)state;
    assert_true(tw_url_same_site("http://a.example.co.uk/", "https://b.example.co.uk:8443/x"));
    assert_false(tw_url_same_site("http://a.co.uk/", "http://b.co.uk/"));
    assert_true(tw_url_same_site("http://www.example.com/", "http://example.com/"));
    assert_false(tw_url_same_site("http://example.com/", "http://example.org/"));
    assert_true(tw_url_same_site("http://127.0.0.1:8080/", "http://127.0.0.1:9090/"));
    assert_false(tw_url_same_site("http://127.0.0.1/", "http://127.0.0.2/"));
    assert_true(tw_url_same_site("http://a.x.web1/", "http://b.x.web1/")); /* a name, not an IP */
    assert_true(tw_url_same_site("http://localhost/", "http://localhost:81/"));
    assert_false(tw_url_same_site("http://a.localhost/", "http://b.localhost/"));
    assert_false(tw_url_same_site("http://a.com/", "not a url"));
}

static void test_same_origin_compares_scheme_host_and_port(void **state)
{
    (void)state;
    assert_true(tw_url_same_origin("http://example.com/a", "http://example.com:80/b?c"));
    assert_false(tw_url_same_origin("http://example.com/", "https://example.com/"));
    assert_false(tw_url_same_origin("http://example.com/", "http://example.com:8080/"));
    assert_false(tw_url_same_origin("http://a.example.com/", "http://example.com/"));
    assert_true(tw_url_same_origin("http://u@example.com/", "http://example.com/"));
}

static void test_strerror_names_every_code(void **state)
{
    (void)state;
    for (int e = 0; e >= TW_URL_ENOMEM; e--)
        assert_string_not_equal(tw_url_strerror(e), "unknown URL error");
    assert_string_equal(tw_url_strerror(-100), "unknown URL error");
}

/* For links on which RFC 3986 and WHATWG agree, the result is curl's. */
static void test_agrees_with_curl_on_plain_links(void **state)
{
    (void)state;
    const char *base = "http://127.0.0.1:8080/p/12.html";
    const char *hrefs[] = {
        "http://127.0.0.1:8080/p/3.html", "/p/4.html", "5.html", "../p/./6.html",
        "/p/7.html#s3", "HTTP://127.0.0.1:8080/p/8.html", "http://example.invalid/outside/9",
        "?q=1", "//other.example/x/../y", "a/b/../../c", "https://example.com:443/",
    };
    for (size_t i = 0; i < sizeof hrefs / sizeof hrefs[0]; i++) {
        CURLU *h = curl_url();
        char *want = NULL, *got = NULL;
        assert_non_null(h);
        assert_int_equal(curl_url_set(h, CURLUPART_URL, base, 0), CURLUE_OK);
        assert_int_equal(curl_url_set(h, CURLUPART_URL, hrefs[i], 0), CURLUE_OK);
        assert_int_equal(curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0), CURLUE_OK);
        assert_int_equal(curl_url_get(h, CURLUPART_URL, &want, CURLU_NO_DEFAULT_PORT), CURLUE_OK);
        assert_int_equal(tw_url_normalize(hrefs[i], base, &got), 0);
        assert_string_equal(got, want);
        curl_free(want);
        free(got);
        curl_url_cleanup(h);
    }
}

/* ---- the WHATWG URL test suite (urltestdata.json) ---- */

/* A minimal JSON reader, enough for urltestdata.json: strings decode to UTF-8 with
 * their length (they may hold NUL), lone surrogates become U+FFFD as a browser's
 * string-to-UTF-8 conversion does. */
struct json {
    const char *p, *end;
    int bad;
};

static void ws(struct json *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
        j->p++;
}

static int hex4(struct json *j, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        if (j->p >= j->end)
            return -1;
        char c = *j->p++;
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (unsigned)((c | 0x20) - 'a' + 10)
                   : 16;
        if (d == 16)
            return -1;
        *v = *v * 16 + d;
    }
    return 0;
}

static size_t put_utf8(char *o, unsigned c)
{
    if (c < 0x80) {
        o[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (char)(0xC0 | c >> 6);
        o[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | c >> 12);
        o[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | c >> 18);
    o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Reads a string at j->p (which must be '"'); returns a malloc'd copy and its length. */
static char *json_string(struct json *j, size_t *len)
{
    ws(j);
    if (j->p >= j->end || *j->p != '"') {
        j->bad = 1;
        return NULL;
    }
    j->p++;
    char *o = malloc((size_t)(j->end - j->p) * 3 + 1);
    size_t n = 0;
    assert_non_null(o);
    while (j->p < j->end && *j->p != '"') {
        char c = *j->p++;
        if (c != '\\') {
            o[n++] = c;
            continue;
        }
        if (j->p >= j->end)
            break;
        c = *j->p++;
        unsigned u, lo;
        switch (c) {
        case 'n': o[n++] = '\n'; break;
        case 't': o[n++] = '\t'; break;
        case 'r': o[n++] = '\r'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'u':
            if (hex4(j, &u)) {
                j->bad = 1;
                break;
            }
            if (u >= 0xD800 && u < 0xDC00 && j->end - j->p >= 6 && j->p[0] == '\\' &&
                j->p[1] == 'u') {
                const char *save = j->p;
                j->p += 2;
                if (hex4(j, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000)
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                else
                    j->p = save;
            }
            if (u >= 0xD800 && u < 0xE000)
                u = 0xFFFD;
            n += put_utf8(o + n, u);
            break;
        default: o[n++] = c; break;
        }
    }
    if (j->p >= j->end)
        j->bad = 1;
    else
        j->p++;
    o[n] = '\0';
    *len = n;
    return o;
}

static void json_skip(struct json *j)
{
    ws(j);
    if (j->p >= j->end) {
        j->bad = 1;
        return;
    }
    char c = *j->p;
    if (c == '"') {
        size_t n;
        free(json_string(j, &n));
    } else if (c == '{' || c == '[') {
        char close = c == '{' ? '}' : ']';
        j->p++;
        ws(j);
        while (!j->bad && j->p < j->end && *j->p != close) {
            if (close == '}') {
                size_t n;
                free(json_string(j, &n));
                ws(j);
                if (j->p < j->end && *j->p == ':')
                    j->p++;
            }
            json_skip(j);
            ws(j);
            if (j->p < j->end && *j->p == ',')
                j->p++;
            ws(j);
        }
        if (j->p < j->end)
            j->p++;
    } else {
        while (j->p < j->end && *j->p != ',' && *j->p != '}' && *j->p != ']')
            j->p++;
    }
}

struct wpt_case {
    char *input, *base, *href;
    size_t input_len;
    int failure;
};

static void case_free(struct wpt_case *c)
{
    free(c->input);
    free(c->base);
    free(c->href);
}

/* Reads one object of the array into c. */
static void json_case(struct json *j, struct wpt_case *c)
{
    memset(c, 0, sizeof *c);
    j->p++; /* '{' */
    ws(j);
    while (!j->bad && j->p < j->end && *j->p != '}') {
        size_t kn, n;
        char *key = json_string(j, &kn);
        ws(j);
        if (j->p < j->end && *j->p == ':')
            j->p++;
        ws(j);
        if (key && strcmp(key, "input") == 0) {
            c->input = json_string(j, &c->input_len);
        } else if (key && strcmp(key, "base") == 0 && j->p < j->end && *j->p == '"') {
            c->base = json_string(j, &n);
        } else if (key && strcmp(key, "href") == 0) {
            c->href = json_string(j, &n);
        } else if (key && strcmp(key, "failure") == 0) {
            c->failure = j->end - j->p >= 4 && memcmp(j->p, "true", 4) == 0;
            json_skip(j);
        } else {
            json_skip(j);
        }
        free(key);
        ws(j);
        if (j->p < j->end && *j->p == ',')
            j->p++;
        ws(j);
    }
    if (j->p < j->end)
        j->p++;
}

static char *read_testdata(const char *rel, size_t *len)
{
    const char *env = getenv("TRAWL_TESTDATA");
    const char *dirs[] = {env, "../shared/testdata", "../../shared/testdata"};
    for (size_t i = 0; i < 3; i++) {
        char path[1024];
        if (!dirs[i])
            continue;
        snprintf(path, sizeof path, "%s/%s", dirs[i], rel);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        char *buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
        fclose(f);
        buf[n] = '\0';
        *len = (size_t)n;
        return buf;
    }
    fail_msg("test data %s not found: set TRAWL_TESTDATA or run from the repository root "
             "next to ../shared/testdata", rel);
    return NULL;
}

/* Is c an http(s) case: an http(s) scheme, or a scheme-less input against an http(s)
 * base? Looks at the input as the parser does: trimmed, tabs and newlines ignored. */
static int is_http_case(const struct wpt_case *c)
{
    char scheme[16];
    size_t n = 0, i = 0, len = c->input_len;
    const unsigned char *s = (const unsigned char *)c->input;
    while (i < len && s[i] <= 0x20)
        i++;
    for (; i < len; i++) {
        if (s[i] == '\t' || s[i] == '\n' || s[i] == '\r')
            continue;
        if (s[i] == ':')
            break;
        int ok = ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z') ||
                 (n > 0 && ((s[i] >= '0' && s[i] <= '9') || s[i] == '+' || s[i] == '-' || s[i] == '.'));
        if (!ok) {
            n = 0;
            break;
        }
        if (n < sizeof scheme - 1)
            scheme[n] = (char)s[i];
        n++;
    }
    int has_scheme = n > 0 && i < len && s[i] == ':';
    if (has_scheme) {
        if (n >= sizeof scheme)
            return 0; /* longer than "https" */
        scheme[n] = '\0';
        return strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0;
    }
    return c->base && (strncasecmp(c->base, "http:", 5) == 0 || strncasecmp(c->base, "https:", 6) == 0);
}

/* The contract applied to an expected href, written independently of url.c:
 * drop the fragment, decode escapes of unreserved characters, upper-case the rest. */
static char *contract_form(const char *href)
{
    size_t n = strcspn(href, "#");
    char *o = malloc(n + 1);
    size_t k = 0;
    assert_non_null(o);
    for (size_t i = 0; i < n; i++) {
        if (href[i] == '%' && i + 2 < n && isxdigit((unsigned char)href[i + 1]) &&
            isxdigit((unsigned char)href[i + 2])) {
            char hx[3] = {href[i + 1], href[i + 2], 0};
            int v = (int)strtol(hx, NULL, 16);
            if (isalnum(v) || v == '-' || v == '.' || v == '_' || v == '~') {
                o[k++] = (char)v;
            } else {
                o[k++] = '%';
                o[k++] = (char)toupper((unsigned char)hx[0]);
                o[k++] = (char)toupper((unsigned char)hx[1]);
            }
            i += 2;
        } else {
            o[k++] = href[i];
        }
    }
    o[k] = '\0';
    return o;
}

static void test_wpt_urltestdata(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_testdata("wpt-url/urltestdata.json", &len);
    struct json j = {data, data + len, 0};
    int http_total = 0, http_pass = 0, other_total = 0, other_match = 0, prepared_mismatch = 0;

    ws(&j);
    assert_true(j.p < j.end && *j.p == '[');
    j.p++;
    for (;;) {
        ws(&j);
        if (j.bad || j.p >= j.end || *j.p == ']')
            break;
        if (*j.p == '{') {
            struct wpt_case c;
            json_case(&j, &c);
            assert_false(j.bad);
            assert_non_null(c.input);
            char *out = NULL;
            int rc = tw_url_normalize_n(c.input, c.input_len, c.base, &out);
            char *want = c.href ? contract_form(c.href) : NULL;
            int ok = c.failure ? rc < 0 : (rc == 0 && want && strcmp(out, want) == 0);
            if (is_http_case(&c)) {
                http_total++;
                http_pass += ok;
                if (!ok)
                    print_message("FAIL input=\"%s\" base=%s want=%s got=%s (%s)\n", c.input,
                                  c.base ? c.base : "null", c.failure ? "failure" : want,
                                  out ? out : "error", tw_url_strerror(rc));
            } else {
                other_total++;
                other_match += ok;
            }
            /* the prepared-base path must agree with the one-shot call */
            struct tw_url_base b;
            char *out2 = NULL;
            int have_base = c.base && tw_url_base_init(&b, c.base) == 0;
            int rc2 = tw_url_resolve(have_base ? &b : NULL, c.input, c.input_len, &out2);
            if ((rc < 0) != (rc2 < 0) || (rc == 0 && strcmp(out, out2) != 0)) {
                prepared_mismatch++;
                print_message("prepared base differs: input=\"%s\" base=%s: %s vs %s\n", c.input,
                              c.base ? c.base : "null", out ? out : "error", out2 ? out2 : "error");
            }
            if (have_base)
                tw_url_base_free(&b);
            free(out2);
            free(out);
            free(want);
            case_free(&c);
        } else {
            json_skip(&j); /* a comment string */
        }
        ws(&j);
        if (j.p < j.end && *j.p == ',')
            j.p++;
    }
    assert_false(j.bad);
    print_message("urltestdata.json: http(s) cases %d/%d pass; other schemes %d/%d match "
                  "(informational: only http and https produce a URL)\n",
                  http_pass, http_total, other_match, other_total);
    free(data);
    assert_true(http_total > 400);
    assert_int_equal(http_pass, http_total);
    assert_int_equal(prepared_mismatch, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fragment_is_dropped),
        cmocka_unit_test(test_unreserved_escapes_are_decoded),
        cmocka_unit_test(test_other_escapes_get_upper_case_hex),
        cmocka_unit_test(test_characters_outside_the_sets_are_encoded),
        cmocka_unit_test(test_scheme_and_host_are_lower_cased_and_default_port_dropped),
        cmocka_unit_test(test_dot_segments_are_removed),
        cmocka_unit_test(test_empty_path_becomes_slash),
        cmocka_unit_test(test_idn_host_becomes_punycode),
        cmocka_unit_test(test_ipv4_number_forms_become_dotted_decimal),
        cmocka_unit_test(test_ipv6_hosts_are_compressed),
        cmocka_unit_test(test_backslashes_tabs_and_spaces_follow_the_standard),
        cmocka_unit_test(test_relative_references_resolve_against_the_base),
        cmocka_unit_test(test_empty_href_is_the_base),
        cmocka_unit_test(test_non_http_schemes_are_rejected_with_enothttp),
        cmocka_unit_test(test_invalid_urls_are_rejected_with_specific_codes),
        cmocka_unit_test(test_too_long_urls_are_rejected),
        cmocka_unit_test(test_credentials_are_kept_and_encoded),
        cmocka_unit_test(test_normalizing_twice_changes_nothing),
        cmocka_unit_test(test_prepared_base_resolves_like_normalize),
        cmocka_unit_test(test_host_key_always_has_the_port),
        cmocka_unit_test(test_host_port_and_path_query_accessors),
        cmocka_unit_test(test_same_site_uses_the_public_suffix_list),
        cmocka_unit_test(test_same_origin_compares_scheme_host_and_port),
        cmocka_unit_test(test_strerror_names_every_code),
        cmocka_unit_test(test_agrees_with_curl_on_plain_links),
        cmocka_unit_test(test_wpt_urltestdata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
