/* test_crawl.c -- `trawl crawl` end to end: the real binary against the test server
 * on loopback, measured at the server (how often each path was requested, when, and
 * how many at once) and in pages.jsonl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testserver.h"
#include "trawl_cli.h"
#include "warc.h"
#include "warcio.h"

/* The lines of DIR/pages.jsonl (at most max), each a malloc'd string; returns count. */
static int read_pages(const char *dir, char **lines, int max) {
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/pages.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (n < max) lines[n] = strdup(line);
        n++;
    }
    free(line);
    fclose(f);
    return n;
}

static void free_lines(char **lines, int n) {
    for (int i = 0; i < n; i++) free(lines[i]);
}

/* The line whose "url" is url, or NULL. */
static const char *line_for(char **lines, int n, const char *url) {
    char key[1200];
    snprintf(key, sizeof key, "\"url\":\"%s\"", url);
    for (int i = 0; i < n; i++)
        if (strstr(lines[i], key)) return lines[i];
    return NULL;
}

static void html(ts_server *ts, const char *path, const char *body) {
    ts_route(ts, path, &(ts_spec){.kind = TS_STATIC, .body = body});
}

/* ---------------------------------------------------------------- tests */

static void test_site_each_page_once_equivalent_spellings_once(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    char seed[128], other[128];
    ts_url(ts, "/", seed, sizeof seed);
    snprintf(other, sizeof other, "HTTP://127.0.0.1:%d/b.html#frag", ts_port(ts));
    char index[1024];
    snprintf(index, sizeof index,
             "<a href=/a.html>a</a> <a href='./a.html'>again</a> <a href=\"%s\">b</a>"
             "<a href=/p/../b.html>b</a> <a href=/c%%7e.html>c</a> <a href=mailto:x@y>m</a>"
             "<link rel=stylesheet href=/style.css>",
             other);
    html(ts, "/", index);
    html(ts, "/a.html", "<a href=/>home</a><a href=b.html>b</a>");
    html(ts, "/b.html", "<a href=/a.html>a</a><a href=/missing.html>gone</a>");
    html(ts, "/c~.html", "no links");
    const char *out = tc_outdir("site");
    int rc = tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "-o", out, seed, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(ts_count(ts, "/"), 1);
    assert_int_equal(ts_count(ts, "/a.html"), 1);
    assert_int_equal(ts_count(ts, "/b.html"), 1);
    assert_int_equal(ts_count(ts, "/c~.html"), 1);
    assert_int_equal(ts_count(ts, "/missing.html"), 1);
    assert_int_equal(ts_count(ts, "/style.css"), 0); /* embedded resources are not followed */
    char *lines[32];
    int n = read_pages(out, lines, 32);
    assert_int_equal(n, 5);
    char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/missing.html", ts_port(ts));
    const char *l = line_for(lines, n, url);
    assert_non_null(l);
    assert_non_null(strstr(l, "\"status\":404"));
    assert_non_null(strstr(l, "\"error\":null"));
    assert_non_null(strstr(l, "\"attempts\":1"));
    assert_non_null(strstr(l, "\"depth\":2"));
    l = line_for(lines, n, seed);
    assert_non_null(l);
    assert_non_null(strstr(l, "\"parent\":null"));
    assert_non_null(strstr(l, "\"depth\":0"));
    assert_non_null(strstr(l, "\"links\":3")); /* a, b, c: duplicates, mailto: and the stylesheet are not */
    free_lines(lines, n);
    ts_stop(ts);
}

/* A binary tree of pages: /t/N links to /t/2N+1 and /t/2N+2, below TREE_PAGES. */
#define TREE_PAGES 300
static void tree_page(const ts_request *req, ts_response *resp, void *ctx) {
    (void)ctx;
    int n = atoi(req->path + 3);
    if (n < 0 || n >= TREE_PAGES) {
        ts_set_status(resp, 404);
        return;
    }
    ts_add_header(resp, "Content-Type", "text/html");
    ts_printf_body(resp, "<a href=/t/%d>l</a> <a href=/t/%d>r</a> <a href=/t/0>root</a>", (2 * n + 1) % TREE_PAGES,
                   (2 * n + 2) % TREE_PAGES);
}

/* With only 4 queued URLs held in memory (TRAWL_FRONTIER_WINDOW), the rest of the queue
 * waits in the state store and comes back a window at a time: every page is still
 * fetched exactly once and has its line. */
static void test_a_small_frontier_window_spills_to_the_store_and_loses_nothing(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    assert_int_equal(ts_route_fn(ts, "/t/*", tree_page, NULL), 0);
    char seed[128];
    ts_url(ts, "/t/0", seed, sizeof seed);
    const char *out = tc_outdir("window");
    setenv("TRAWL_FRONTIER_WINDOW", "4", 1);
    int rc = tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--per-host", "4", "-o", out, seed, NULL);
    unsetenv("TRAWL_FRONTIER_WINDOW");
    assert_int_equal(rc, 0);
    char path[16];
    for (int k = 0; k < TREE_PAGES; k++) {
        snprintf(path, sizeof path, "/t/%d", k);
        if (ts_count(ts, path) != 1) fail_msg("%s requested %d times (want 1)", path, ts_count(ts, path));
    }
    char *lines[TREE_PAGES + 1];
    int n = read_pages(out, lines, TREE_PAGES + 1);
    assert_int_equal(n, TREE_PAGES);
    free_lines(lines, n < TREE_PAGES + 1 ? n : TREE_PAGES + 1);
    ts_stop(ts);
}

static void test_retries_are_bounded_and_spaced(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    ts_route(ts, "/", &(ts_spec){.kind = TS_STATIC, .body = "<a href=/flaky>f</a><a href=/down>d</a>"});
    ts_route(ts, "/flaky", &(ts_spec){.kind = TS_FAIL_THEN, .status = 503, .times = 2, .body = "ok now"});
    ts_route(ts, "/down", &(ts_spec){.kind = TS_STATIC, .status = 500, .body = "broken"});
    char seed[128];
    ts_url(ts, "/", seed, sizeof seed);
    const char *out = tc_outdir("retries");
    int rc = tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--retries", "2", "-o", out, seed, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(ts_count(ts, "/flaky"), 3); /* two failures, then success */
    assert_int_equal(ts_count(ts, "/down"), 3);  /* 1 + --retries 2, then given up */
    ts_logged r[3];
    assert_int_equal(ts_requests(ts, "/down", r, 3), 3);
    int64_t gap1 = r[1].t_ms - r[0].t_ms, gap2 = r[2].t_ms - r[1].t_ms;
    assert_true(gap1 >= 450 && gap1 <= 1700);   /* 1 s ± 50% */
    assert_true(gap2 >= 950 && gap2 <= 3300);   /* 2 s ± 50% */
    char *lines[8];
    int n = read_pages(out, lines, 8);
    assert_int_equal(n, 3);
    char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/down", ts_port(ts));
    const char *l = line_for(lines, n, url);
    assert_non_null(l);
    assert_non_null(strstr(l, "\"status\":500"));
    assert_non_null(strstr(l, "\"error\":\"http 500\""));
    assert_non_null(strstr(l, "\"attempts\":3"));
    snprintf(url, sizeof url, "http://127.0.0.1:%d/flaky", ts_port(ts));
    l = line_for(lines, n, url);
    assert_non_null(l);
    assert_non_null(strstr(l, "\"status\":200"));
    assert_non_null(strstr(l, "\"attempts\":3"));
    free_lines(lines, n);
    ts_stop(ts);
}

static void test_retry_after_is_honoured(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    ts_route(ts, "/", &(ts_spec){.kind = TS_FAIL_THEN, .status = 429, .times = 1, .retry_after = "2",
                                 .body = "fine"});
    char seed[128];
    ts_url(ts, "/", seed, sizeof seed);
    const char *out = tc_outdir("retry_after");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "-o", out, seed, NULL), 0);
    ts_logged r[2];
    assert_int_equal(ts_requests(ts, "/", r, 2), 2);
    assert_true(r[1].t_ms - r[0].t_ms >= 1900); /* Retry-After: 2, not the 1 s backoff */
    ts_stop(ts);
}

static void test_network_failures_are_recorded_with_reasons(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    ts_route(ts, "/", &(ts_spec){.kind = TS_STATIC,
                                 .body = "<a href=/reset>r</a><a href=/hang>h</a><a href=/cut>c</a>"
                                         "<a href=/garbage>g</a>"});
    ts_route(ts, "/reset", &(ts_spec){.kind = TS_RESET});
    ts_route(ts, "/hang", &(ts_spec){.kind = TS_HANG});
    ts_route(ts, "/cut", &(ts_spec){.kind = TS_CUT, .length = 5000, .sent = 100});
    ts_route(ts, "/garbage", &(ts_spec){.kind = TS_GARBAGE});
    char seed[128];
    ts_url(ts, "/", seed, sizeof seed);
    const char *out = tc_outdir("failures");
    int rc = tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--retries", "1", "--timeout", "1", "-o",
                       out, seed, NULL);
    assert_int_equal(rc, 0); /* failed pages are data, not errors */
    /* libcurl retries a request at once, by itself, when a reused keep-alive connection
     * dies before any byte came back; a reset can cost one request more than attempts. */
    assert_true(ts_count(ts, "/reset") >= 2 && ts_count(ts, "/reset") <= 4);
    char *lines[8];
    int n = read_pages(out, lines, 8);
    assert_int_equal(ts_count(ts, "/hang"), 2);
    /* Under ASan the test server sometimes logs no request on a connection the client
     * opened for /cut, and libcurl's own retry on a dead keep-alive connection can add
     * one (the crawler's two attempts are checked in pages.jsonl below). */
    int cuts = ts_count(ts, "/cut");
    if (cuts < 1 || cuts > 3) fail_msg("/cut requested %d times (want 1 to 3)", cuts);
    assert_int_equal(n, 5);
    char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hang", ts_port(ts));
    assert_non_null(strstr(line_for(lines, n, url), "\"error\":\"timeout\""));
    snprintf(url, sizeof url, "http://127.0.0.1:%d/reset", ts_port(ts));
    const char *l = line_for(lines, n, url);
    assert_true(strstr(l, "\"error\":\"connection reset\"") || strstr(l, "\"error\":\"connection closed\""));
    assert_non_null(strstr(l, "\"attempts\":2")); /* 1 + --retries 1 */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/cut", ts_port(ts));
    l = line_for(lines, n, url);
    assert_non_null(strstr(l, "\"status\":200"));
    assert_non_null(strstr(l, "\"attempts\":2"));
    assert_null(strstr(l, "\"error\":null"));
    snprintf(url, sizeof url, "http://127.0.0.1:%d/garbage", ts_port(ts));
    l = line_for(lines, n, url);
    assert_non_null(l);
    assert_null(strstr(l, "\"error\":null"));
    free_lines(lines, n);
    ts_stop(ts);
}

static void test_redirects_are_pages_and_loops_end(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    ts_route(ts, "/", &(ts_spec){.kind = TS_REDIRECT, .status = 301, .location = "/loop1"});
    ts_route(ts, "/loop1", &(ts_spec){.kind = TS_REDIRECT, .location = "/loop2"});
    ts_route(ts, "/loop2", &(ts_spec){.kind = TS_REDIRECT, .location = "/loop1"});
    char seed[128];
    ts_url(ts, "/", seed, sizeof seed);
    const char *out = tc_outdir("redirects");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--max-depth", "0", "-o", out, seed, NULL), 0);
    assert_int_equal(ts_count(ts, "/loop1"), 1);
    assert_int_equal(ts_count(ts, "/loop2"), 1);
    char *lines[8];
    int n = read_pages(out, lines, 8);
    assert_int_equal(n, 3);
    char url[160], target[200];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/loop1", ts_port(ts));
    snprintf(target, sizeof target, "\"redirect\":\"http://127.0.0.1:%d/loop2\"", ts_port(ts));
    const char *l = line_for(lines, n, url);
    assert_non_null(strstr(l, target));
    assert_non_null(strstr(l, "\"depth\":0")); /* a redirect target keeps the depth */
    free_lines(lines, n);
    ts_stop(ts);
}

static void test_limits_max_pages_and_depth_in_a_link_trap(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    ts_route(ts, "/trap*", &(ts_spec){.kind = TS_TRAP});
    char seed[128];
    ts_url(ts, "/trap0", seed, sizeof seed);
    const char *out = tc_outdir("maxpages");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--max-pages", "25", "-o", out, seed, NULL), 0);
    char *lines[64];
    int n = read_pages(out, lines, 64);
    assert_int_equal(n, 25); /* exactly N lines */
    free_lines(lines, n);
    assert_true(ts_count(ts, "*") <= 25 + 64 + 1); /* in-flight ones dropped, no more started */

    ts_reset_stats(ts);
    out = tc_outdir("maxdepth");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--max-depth", "3", "-o", out, seed, NULL), 0);
    n = read_pages(out, lines, 64);
    free_lines(lines, n);
    int fetched = ts_count(ts, "*") - ts_count(ts, "/robots.txt");
    assert_int_equal(n, fetched);
    assert_true(n >= 4 && n <= 1 + 2 + 4 + 8); /* depth 0..3 of a binary link tree */
    ts_stop(ts);
}

static void test_per_host_and_rate_limits_hold_at_the_server(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    char body[4096] = "";
    for (int i = 0; i < 30; i++) {
        char a[64];
        snprintf(a, sizeof a, "<a href=/slow%d>s</a>", i);
        strcat(body, a);
        char path[32];
        snprintf(path, sizeof path, "/slow%d", i);
        ts_route(ts, path, &(ts_spec){.kind = TS_DRIP, .body = "abcde", .interval_ms = 20});
    }
    ts_route(ts, "/", &(ts_spec){.kind = TS_STATIC, .body = body});
    char seed[128];
    ts_url(ts, "/", seed, sizeof seed);
    const char *out = tc_outdir("perhost");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--per-host", "3", "-o", out, seed, NULL), 0);
    assert_true(ts_max_inflight(ts) <= 3);
    assert_true(ts_max_inflight(ts) >= 2); /* and it did use them */

    ts_reset_stats(ts);
    out = tc_outdir("rate");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "20", "--per-host", "8", "--max-pages", "12",
                               "-o", out, seed, NULL), 0);
    ts_logged r[64];
    int n = ts_requests(ts, NULL, r, 64);
    /* Starts are 1/20 s apart; the server sees them after a variable delay, so each gap
     * may be a little short, but no burst (gaps near 0), and the pace holds overall. */
    assert_true(n >= 10);
    for (int i = 1; i < n && i < 64; i++) assert_true(r[i].t_ms - r[i - 1].t_ms >= 30);
    int last = (n < 64 ? n : 64) - 1;
    assert_true(r[last].t_ms - r[0].t_ms >= (int64_t)last * 50 * 9 / 10);
    ts_stop(ts);
}

static void test_robots_txt_is_obeyed_and_fetched_once(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    ts_route(ts, "/robots.txt", &(ts_spec){.kind = TS_STATIC, .content_type = "text/plain",
                                           .body = "User-agent: *\nDisallow: /private\n"});
    html(ts, "/", "<a href=/private/x>p</a><a href=/public>q</a>");
    html(ts, "/public", "<a href=/private/y>p</a>");
    char seed[128];
    ts_url(ts, "/", seed, sizeof seed);
    const char *out = tc_outdir("robots");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "-o", out, seed, NULL), 0);
    assert_int_equal(ts_count(ts, "/robots.txt"), 1);
    assert_int_equal(ts_count(ts, "/private/x") + ts_count(ts, "/private/y"), 0);
    char *lines[8];
    int n = read_pages(out, lines, 8);
    assert_int_equal(n, 4); /* robots.txt has no line; the two private URLs do */
    char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/private/x", ts_port(ts));
    const char *l = line_for(lines, n, url);
    assert_non_null(l);
    assert_non_null(strstr(l, "\"error\":\"disallowed by robots.txt\""));
    assert_non_null(strstr(l, "\"attempts\":0"));
    free_lines(lines, n);

    ts_reset_stats(ts);
    out = tc_outdir("ignore_robots");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--ignore-robots", "-o", out, seed, NULL), 0);
    assert_int_equal(ts_count(ts, "/robots.txt"), 0);
    assert_int_equal(ts_count(ts, "/private/x"), 1);
    ts_stop(ts);
}

static void test_many_hosts_one_slow_host_does_not_hold_others(void **state) {
    (void)state;
    ts_server *a = ts_start("127.0.0.2", 0), *b = ts_start("127.0.0.3", 0);
    char body[2048], url[128];
    snprintf(body, sizeof body, "<a href=%s>b</a><a href=/slow1>1</a><a href=/slow2>2</a>",
             ts_url(b, "/", url, sizeof url));
    html(a, "/", body);
    ts_route(a, "/slow1", &(ts_spec){.kind = TS_HANG});
    ts_route(a, "/slow2", &(ts_spec){.kind = TS_HANG});
    char bbody[1024] = "";
    for (int i = 0; i < 10; i++) {
        char l[64];
        snprintf(l, sizeof l, "<a href=/p%d>p</a>", i);
        strcat(bbody, l);
        char path[16];
        snprintf(path, sizeof path, "/p%d", i);
        html(b, path, "leaf");
    }
    html(b, "/", bbody);
    char seed[128];
    ts_url(a, "/", seed, sizeof seed);
    const char *out = tc_outdir("hosts");
    int64_t t0 = ts_now_ms();
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--scope", "any", "--per-host", "2",
                               "--retries", "0", "--timeout", "3", "-o", out, seed, NULL), 0);
    assert_int_equal(ts_count(b, "*") - ts_count(b, "/robots.txt"), 11);
    ts_logged r[16];
    int n = ts_requests(b, NULL, r, 16);
    assert_true(n >= 11 && r[n - 1].t_ms - t0 < 2500); /* b finished while a's two slots hung */
    ts_stop(a);
    ts_stop(b);
}

static void test_max_bytes_truncates_a_gzip_bomb(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    ts_route(ts, "/", &(ts_spec){.kind = TS_GZIP_BOMB, .length = 50 << 20});
    char seed[128];
    ts_url(ts, "/", seed, sizeof seed);
    const char *out = tc_outdir("bomb");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--max-bytes", "100000", "-o", out, seed, NULL), 0);
    char *lines[4];
    int n = read_pages(out, lines, 4);
    assert_int_equal(n, 1);
    assert_non_null(strstr(lines[0], "\"truncated\":true"));
    assert_non_null(strstr(lines[0], "\"bytes\":100000"));
    free_lines(lines, n);
    ts_stop(ts);
}

/* The WARC file holds, after its warcinfo, a request and a response record for every
 * response that came whole or cut at --max-bytes (robots.txt and a 404 included), none
 * for a timeout or a connection closed mid-body; the pair name each other; the response
 * block is the response as received (content-encoding kept); every digest matches.
 * --no-warc writes no file. */
static void test_warc_records_follow_the_contract(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    html(ts, "/", "<a href=/gz>g</a> <a href=/big>b</a> <a href=/hang>h</a> <a href=/cut>c</a> "
                  "<a href=/missing>m</a>");
    ts_route(ts, "/robots.txt", &(ts_spec){.kind = TS_STATIC, .content_type = "text/plain",
                                           .body = "User-agent: *\nAllow: /\n"});
    ts_route(ts, "/gz", &(ts_spec){.kind = TS_ENCODED, .body = "<p>compressed on the wire</p>"});
    ts_route(ts, "/big", &(ts_spec){.kind = TS_BIG, .length = 300000});
    ts_route(ts, "/hang", &(ts_spec){.kind = TS_HANG});
    ts_route(ts, "/cut", &(ts_spec){.kind = TS_CUT, .length = 5000, .sent = 100});
    char seed[128], base[128];
    ts_url(ts, "/", seed, sizeof seed);
    ts_url(ts, "", base, sizeof base);
    const char *out = tc_outdir("warc");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--retries", "0", "--timeout", "1",
                            "--max-bytes", "100000", "-o", out, seed, NULL),
                     0);
    char paths[4][WARCIO_PATH];
    assert_int_equal(warcio_list(out, paths, 4), 1);
    tw_warc_reader *r = NULL;
    assert_int_equal(tw_warc_reader_open(paths[0], &r), 0);
    const char *want[] = {"/", "/robots.txt", "/gz", "/big", "/missing"};
    enum { NWANT = sizeof want / sizeof want[0] };
    int responses[NWANT] = {0}, requests = 0, records = 0, rc;
    char last_request_id[128] = "", last_request_to[128] = "";
    tw_warc_record rec;
    while ((rc = tw_warc_reader_next(r, &rec)) == 1) {
        const char *type = tw_warc_record_field(&rec, "WARC-Type");
        assert_non_null(type);
        assert_int_equal(tw_warc_record_check_digests(&rec), 0);
        assert_non_null(tw_warc_record_field(&rec, "WARC-Block-Digest"));
        if (records++ == 0) {
            assert_string_equal(type, "warcinfo");
            continue;
        }
        const char *uri = tw_warc_record_field(&rec, "WARC-Target-URI");
        assert_non_null(uri);
        assert_true(strncmp(uri, base, strlen(base)) == 0);
        const char *path = uri + strlen(base);
        assert_string_equal(tw_warc_record_field(&rec, "WARC-IP-Address"), "127.0.0.1");
        if (strcmp(type, "request") == 0) {
            requests++;
            snprintf(last_request_id, sizeof last_request_id, "%s", tw_warc_record_field(&rec, "WARC-Record-ID"));
            snprintf(last_request_to, sizeof last_request_to, "%s",
                     tw_warc_record_field(&rec, "WARC-Concurrent-To"));
            continue;
        }
        assert_string_equal(type, "response");
        assert_non_null(tw_warc_record_field(&rec, "WARC-Payload-Digest"));
        /* its request came just before it, and each names the other */
        assert_string_equal(tw_warc_record_field(&rec, "WARC-Concurrent-To"), last_request_id);
        assert_string_equal(last_request_to, tw_warc_record_field(&rec, "WARC-Record-ID"));
        const char *block = (const char *)rec.block;
        const char *end = memmem(block, rec.block_len, "\r\n\r\n", 4);
        assert_non_null(end);
        assert_null(memmem(block, (size_t)(end - block), "Transfer-Encoding", 17));
        int k = 0;
        while (k < NWANT && strcmp(path, want[k]) != 0) k++;
        if (k == NWANT) fail_msg("a response record for %s, which got no whole response", uri);
        responses[k]++;
        const char *truncated = tw_warc_record_field(&rec, "WARC-Truncated");
        if (strcmp(path, "/big") == 0) {
            assert_non_null(truncated);
            assert_string_equal(truncated, "length");
        } else {
            assert_null(truncated);
        }
        if (strcmp(path, "/gz") == 0) { /* the payload as sent: gzip bytes */
            assert_non_null(memmem(block, (size_t)(end - block), "Content-Encoding: gzip", 22));
            assert_true((unsigned char)end[4] == 0x1f && (unsigned char)end[5] == 0x8b);
        }
        if (strcmp(path, "/missing") == 0) assert_true(strncmp(block, "HTTP/1.1 404", 12) == 0);
    }
    assert_int_equal(rc, 0);
    tw_warc_reader_free(r);
    for (int k = 0; k < NWANT; k++)
        if (responses[k] != 1) fail_msg("%d response records for %s (want 1)", responses[k], want[k]);
    assert_int_equal(requests, NWANT);

    const char *bare = tc_outdir("nowarc");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--no-warc", "--retries", "0", "--timeout",
                            "1", "-o", bare, seed, NULL),
                     0);
    assert_int_equal(warcio_list(bare, paths, 4), 0);
    ts_stop(ts);
}

static void test_bad_command_lines_exit_2_naming_the_culprit(void **state) {
    (void)state;
    char err[2048];
    const char *out = tc_outdir("usage");
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--frobnicate", "http://x/", NULL), 2);
    assert_non_null(strstr(err, "--frobnicate"));
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--rate", "fast", "http://x/", NULL), 2);
    assert_non_null(strstr(err, "--rate"));
    assert_int_equal(tc_run(err, sizeof err, "crawl", "ftp://example.com/", NULL), 2);
    assert_non_null(strstr(err, "ftp://example.com/"));
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--include", "(unclosed", "http://x/", NULL), 2);
    assert_non_null(strstr(err, "(unclosed"));
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--out", out, NULL), 2); /* no seeds, no crawl */
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--scope", "planet", "http://x/", NULL), 2);
    assert_non_null(strstr(err, "--scope"));
}

static void test_unwritable_out_is_a_fatal_error(void **state) {
    (void)state;
    char err[2048], path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/a-file", tc_workdir);
    FILE *f = fopen(path, "w");
    fputs("not a directory", f);
    fclose(f);
    char sub[PATH_MAX + 40];
    snprintf(sub, sizeof sub, "%s/crawl", path);
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--quiet", "-o", sub, "http://127.0.0.1:9/", NULL), 1);
    assert_non_null(strstr(err, sub));
}

static int setup(void **state) {
    (void)state;
    return tc_setup("test-crawl");
}

static int teardown(void **state) {
    (void)state;
    return tc_teardown();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_site_each_page_once_equivalent_spellings_once),
        cmocka_unit_test(test_a_small_frontier_window_spills_to_the_store_and_loses_nothing),
        cmocka_unit_test(test_retries_are_bounded_and_spaced),
        cmocka_unit_test(test_retry_after_is_honoured),
        cmocka_unit_test(test_network_failures_are_recorded_with_reasons),
        cmocka_unit_test(test_redirects_are_pages_and_loops_end),
        cmocka_unit_test(test_limits_max_pages_and_depth_in_a_link_trap),
        cmocka_unit_test(test_per_host_and_rate_limits_hold_at_the_server),
        cmocka_unit_test(test_robots_txt_is_obeyed_and_fetched_once),
        cmocka_unit_test(test_many_hosts_one_slow_host_does_not_hold_others),
        cmocka_unit_test(test_max_bytes_truncates_a_gzip_bomb),
        cmocka_unit_test(test_warc_records_follow_the_contract),
        cmocka_unit_test(test_bad_command_lines_exit_2_naming_the_culprit),
        cmocka_unit_test(test_unwritable_out_is_a_fatal_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
