/* test_fetch.c - tests of the HTTP service (fetch.h) against the loopback test server. */
#include "rt_test.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "fetch.h"
#include "testserver.h"

static ts_server *ts1; /* 127.0.0.1 */
static ts_server *ts2; /* 127.0.0.2: another host */

#define UA "trawl-test/1.0 (+http://127.0.0.1/)"

/* ---------------------------------------------------------------- helpers */

typedef struct fetch_args {
    ts_server *ts;
    const char *path;  /* or a full URL when ts is NULL */
    int64_t timeout_ms;
    size_t max_bytes;
    const char *header; /* one extra request header, or NULL */
} fetch_args;

static tw_response *fetch(const tw_fetcher *f, fetch_args a) {
    char url[512];
    tw_fetch_opts o = {.url = a.ts ? ts_url(a.ts, a.path, url, sizeof url) : a.path,
                       .timeout_ms = a.timeout_ms ? a.timeout_ms : 10000,
                       .max_bytes = a.max_bytes,
                       .user_agent = UA,
                       .headers = {a.header}};
    tw_response *r = NULL;
    int rc = tw_fetch(f, &o, &r);
    CHECK(rc == 0);
    CHECK(r != NULL);
    if (!r) tr_crash("tw_fetch failed: %d", rc);
    return r;
}

static tw_fetcher start_fetcher(int n) {
    tw_fetcher f;
    int rc = tw_fetch_start(n, &f);
    CHECK(rc == 0);
    if (rc != 0) tr_crash("tw_fetch_start: %d", rc);
    return f;
}

static bool bin_eq(const tr_bin *b, const void *data, size_t len) {
    return b && tr_bin_len(b) == len && memcmp(tr_bin_data(b), data, len) == 0;
}

static bool bin_has(const tr_bin *b, const char *needle) {
    return b && memmem(tr_bin_data(b), tr_bin_len(b), needle, strlen(needle)) != NULL;
}

static bool all_bytes(const tr_bin *b, char c) {
    const char *p = tr_bin_data(b);
    for (size_t i = 0; i < tr_bin_len(b); i++)
        if (p[i] != c) return false;
    return true;
}

/* A port on 127.0.0.1 where nothing listens. */
static int closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        fail_msg("cannot reserve a port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* Resident and peak resident memory of this process, in KiB. */
static long proc_status_kb(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':') kb = atol(line + n + 1);
    if (f) fclose(f);
    return kb;
}

/* Resets the kernel's peak-RSS mark (VmHWM) to the current RSS; false if it cannot. */
static bool reset_peak_rss(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return false;
    bool ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

/* ---------------------------------------------------------------- a plain 200 */

static void root_ok(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(2);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hello?x=1"});
    CHECK(r->err == TW_FETCH_OK);
    CHECK(r->err_text[0] == 0);
    CHECK(r->status == 200);
    CHECK(r->http_version == 11);
    CHECK(!r->truncated);
    CHECK(!strcmp(r->content_type, "text/html; charset=utf-8"));
    CHECK(bin_eq(r->body, "<p>hello</p>", 12));
    CHECK(bin_eq(r->raw_body, "<p>hello</p>", 12));
    CHECK(bin_has(r->resp_headers, "HTTP/1.1 200 OK\r\n"));
    CHECK(bin_has(r->resp_headers, "X-Test: yes\r\n"));
    CHECK(bin_has(r->req_headers, "GET /hello?x=1 HTTP/1.1\r\n"));
    CHECK(bin_has(r->req_headers, "User-Agent: " UA "\r\n"));
    CHECK(bin_has(r->req_headers, "Accept-Encoding: gzip, deflate"));
    CHECK(!strcmp(r->ip, "127.0.0.1"));
    CHECK(r->port == ts_port(ts1));
    CHECK(strstr(r->url, "/hello?x=1") != NULL);
    CHECK(r->timings.total_ms > 0);
    CHECK(r->timings.connect_ms <= r->timings.ttfb_ms);
    CHECK(r->timings.ttfb_ms <= r->timings.total_ms);
    CHECK(!tw_fetch_transient(r));
    CHECK(tw_fetch_status_class(r) == 2);
    tw_response_free(r);
    tw_fetch_stop(&f);
}

static void test_200_with_headers_body_type_and_timings(void **state) {
    (void)state;
    ts_reset_stats(ts1);
    rt_run(2, root_ok, NULL);
    ts_logged log[4];
    assert_int_equal(ts_requests(ts1, "/hello", log, 4), 1);
    assert_string_equal(log[0].user_agent, UA);
    assert_string_equal(log[0].target, "/hello?x=1");
}

static void root_other_host(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(2);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts2, .path = "/hello"});
    CHECK(r->err == TW_FETCH_OK && r->status == 200);
    CHECK(!strcmp(r->ip, "127.0.0.2"));
    CHECK(bin_eq(r->body, "<p>hello</p>", 12));
    tw_response_free(r);
}

static void test_another_host_works(void **state) {
    (void)state;
    ts_reset_stats(ts2);
    rt_run(2, root_other_host, NULL);
    assert_int_equal(ts_count(ts2, "/hello"), 1);
}

static void root_extra_header(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hello", .header = "If-None-Match: \"abc\""});
    CHECK(r->err == TW_FETCH_OK);
    CHECK(bin_has(r->req_headers, "If-None-Match: \"abc\"\r\n"));
    tw_response_free(r);
}

static void test_extra_request_headers_are_sent(void **state) {
    (void)state;
    rt_run(1, root_extra_header, NULL);
}

/* ---------------------------------------------------------------- the request head as sent */

/* Whether r's request head is, byte for byte, the head of the latest request the server
 * got for path. */
static bool head_is_wire(const tw_response *r, ts_server *ts, const char *path) {
    static char raw[16384];
    int n = ts_count(ts, path);
    long len = n > 0 ? ts_raw_head(ts, path, n - 1, raw, sizeof raw) : -1;
    return len > 0 && (size_t)len <= sizeof raw && bin_eq(r->req_headers, raw, (size_t)len);
}

static void root_head_is_wire(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    /* A new connection, then the same one again. */
    for (int i = 0; i < 2; i++) {
        tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hello?x=1"});
        CHECK(r->err == TW_FETCH_OK && r->status == 200);
        CHECK(head_is_wire(r, ts1, "/hello"));
        tw_response_free(r);
    }
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hello", .header = "If-None-Match: \"abc\""});
    CHECK(r->err == TW_FETCH_OK && head_is_wire(r, ts1, "/hello"));
    tw_response_free(r);
    /* The server drops the connection after answering: the next request goes out on a
     * new one. */
    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/close-after"});
    CHECK(r->err == TW_FETCH_OK && head_is_wire(r, ts1, "/close-after"));
    tw_response_free(r);
    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hello"});
    CHECK(r->err == TW_FETCH_OK && head_is_wire(r, ts1, "/hello"));
    tw_response_free(r);
    /* A reset on the kept-alive connection: libcurl sends the request again on a new
     * one by itself; the head kept is the last one sent. */
    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/reset"});
    CHECK(r->err == TW_FETCH_RESET || r->err == TW_FETCH_CLOSED);
    CHECK(ts_count(ts1, "/reset") >= 1 && head_is_wire(r, ts1, "/reset"));
    tw_response_free(r);
    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hello"});
    CHECK(r->err == TW_FETCH_OK && head_is_wire(r, ts1, "/hello"));
    tw_response_free(r);
    tw_fetch_stop(&f);
}

static void test_request_head_is_the_bytes_sent(void **state) {
    (void)state;
    ts_reset_stats(ts1);
    rt_run(2, root_head_is_wire, NULL);
    /* One connection for the first four, a new one after the server dropped it. */
    ts_logged lg[8];
    assert_true(ts_requests(ts1, NULL, lg, 8) >= 7);
    assert_int_equal(lg[1].conn_id, lg[0].conn_id);
    assert_int_equal(lg[3].conn_id, lg[0].conn_id);
    assert_int_not_equal(lg[4].conn_id, lg[3].conn_id);
    assert_int_equal(lg[5].conn_id, lg[4].conn_id);
}

/* ---------------------------------------------------------------- connections */

static void root_keepalive(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(4);
    for (int i = 0; i < 10; i++) {
        tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hello"});
        CHECK(r->err == TW_FETCH_OK && r->status == 200);
        tw_response_free(r);
    }
    tw_fetch_stop(&f);
}

static void test_sequential_fetches_reuse_one_connection(void **state) {
    (void)state;
    ts_reset_stats(ts1);
    rt_run(2, root_keepalive, NULL);
    assert_int_equal(ts_count(ts1, "/hello"), 10);
    assert_int_equal(ts_connections(ts1), 1);
}

/* The server holds each /slow request a while, so concurrent fetches overlap there. */
static void slow_handler(const ts_request *req, ts_response *resp, void *ctx) {
    (void)ctx;
    usleep(200 * 1000);
    ts_add_header(resp, "Content-Type", "text/plain");
    ts_printf_body(resp, "slow %s", req->query);
}

enum { TAG_RESULT = 1 };
#define CONCURRENT 100

typedef struct worker_arg {
    tw_fetcher f;
    int i;
} worker_arg;

static void fetch_worker(void *arg) {
    worker_arg w = *(worker_arg *)arg;
    free(arg);
    char path[64], want[64];
    snprintf(path, sizeof path, "/slow?%d", w.i);
    snprintf(want, sizeof want, "slow %d", w.i);
    tw_response *r = fetch(&w.f, (fetch_args){.ts = ts1, .path = path});
    int ok = r->err == TW_FETCH_OK && r->status == 200 && bin_eq(r->body, want, strlen(want));
    tw_response_free(r);
    tr_send(tr_parent(), TAG_RESULT, &ok, sizeof ok);
}

static void root_concurrent(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(2);
    for (int i = 0; i < CONCURRENT; i++) {
        worker_arg *w = malloc(sizeof *w);
        *w = (worker_arg){f, i};
        CHECK(tr_spawn(fetch_worker, w) != 0);
    }
    int ok = 0;
    for (int i = 0; i < CONCURRENT; i++) {
        tr_msg *m = tr_receive_tag(TAG_RESULT, 30000);
        CHECK(m != NULL);
        if (!m) break;
        ok += *(const int *)m->data;
        tr_msg_free(m);
    }
    CHECK(ok == CONCURRENT);
    tw_fetch_stop(&f);
}

static void test_100_concurrent_fetches_overlap_at_the_server(void **state) {
    (void)state;
    ts_reset_stats(ts1);
    int64_t t0 = ts_now_ms();
    rt_run(2, root_concurrent, NULL);
    assert_int_equal(ts_count(ts1, "/slow"), CONCURRENT);
    assert_true(ts_max_inflight(ts1) > 1);
    /* 100 requests of 200 ms each, one after the other, would take 20 s. */
    assert_true(ts_now_ms() - t0 < 10000);
}

/* ---------------------------------------------------------------- a fetch blocks only its caller */

static void counter(void *arg) {
    (void)arg;
    long n = 0;
    for (;;) {
        tr_msg *m = tr_receive(10);
        if (m) {
            tr_send(m->from, TAG_RESULT, &n, sizeof n);
            tr_msg_free(m);
            return;
        }
        n++;
    }
}

static void root_blocks_only_caller(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    tr_pid c = tr_spawn(counter, NULL);
    int64_t t0 = tr_now_ms();
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/drip"}); /* 10 bytes, one per 50 ms */
    int64_t took = tr_now_ms() - t0;
    CHECK(r->err == TW_FETCH_OK && bin_eq(r->body, "0123456789", 10));
    tw_response_free(r);
    tr_send(c, 0, NULL, 0);
    tr_msg *m = tr_receive_tag(TAG_RESULT, 5000);
    CHECK(m != NULL);
    long ticks = m ? *(const long *)m->data : 0;
    tr_msg_free(m);
    CHECK(took >= 400);
    /* The counter ticks every 10 ms: it ran all along on the one scheduler. */
    CHECK(ticks >= took / 10 / 3);
}

static void test_fetch_blocks_only_its_process(void **state) {
    (void)state;
    rt_run(1, root_blocks_only_caller, NULL);
}

/* ---------------------------------------------------------------- content codings */

static const char page[] = "<html><body>compressed page compressed page compressed page</body></html>";

static void root_gzip(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/gzip"});
    CHECK(r->err == TW_FETCH_OK && r->status == 200);
    CHECK(!strcmp(r->content_encoding, "gzip"));
    CHECK(bin_eq(r->body, page, strlen(page)));
    const unsigned char *raw = tr_bin_data(r->raw_body);
    CHECK(tr_bin_len(r->raw_body) > 2 && raw[0] == 0x1f && raw[1] == 0x8b); /* gzip magic */
    CHECK(bin_has(r->resp_headers, "Content-Encoding: gzip"));
    tw_response_free(r);

    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/deflate"});
    CHECK(r->err == TW_FETCH_OK && bin_eq(r->body, page, strlen(page)));
    CHECK(!strcmp(r->content_encoding, "deflate"));
    CHECK(!bin_eq(r->raw_body, page, strlen(page)));
    tw_response_free(r);

    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/deflate-raw"});
    CHECK(r->err == TW_FETCH_OK && bin_eq(r->body, page, strlen(page)));
    tw_response_free(r);

    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/bad-gzip"});
    CHECK(r->err == TW_FETCH_OTHER);
    CHECK(strstr(r->err_text, "decode") != NULL);
    CHECK(r->status == 200);
    tw_response_free(r);
}

/* Answers with `page` as raw DEFLATE (no zlib header), as some servers send "deflate". */
static void raw_deflate_handler(const ts_request *req, ts_response *resp, void *ctx) {
    (void)req;
    (void)ctx;
    unsigned char out[1024];
    z_stream z = {0};
    deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    z.next_in = (Bytef *)page;
    z.avail_in = (uInt)strlen(page);
    z.next_out = out;
    z.avail_out = sizeof out;
    deflate(&z, Z_FINISH);
    ts_add_header(resp, "Content-Encoding", "deflate");
    ts_set_body(resp, out, z.total_out);
    deflateEnd(&z);
}

static void test_gzip_and_deflate_are_decoded_and_raw_kept(void **state) {
    (void)state;
    rt_run(1, root_gzip, NULL);
}

/* "<html><body>brotli works: hello hello hello hello</body></html>" compressed by
 * BrotliEncoderCompress(quality 11, lgwin 22, BROTLI_MODE_TEXT). */
static const unsigned char brotli_page[] = {
    0x1b, 0x3e, 0x00, 0xf8, 0x45, 0x77, 0x78, 0xbd, 0x7b, 0xee, 0xa4, 0xef, 0x88, 0x58,
    0x2c, 0x91, 0x7a, 0x16, 0x5a, 0x84, 0x99, 0x47, 0x1f, 0x90, 0xc3, 0x28, 0xc0, 0x90,
    0xf3, 0x47, 0x31, 0x33, 0x6f, 0x5f, 0x0d, 0x8f, 0x81, 0x25, 0x2d, 0x51,
};
static const char brotli_text[] = "<html><body>brotli works: hello hello hello hello</body></html>";

static void root_brotli(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/br"});
    CHECK(r->err == TW_FETCH_OK);
    CHECK(bin_has(r->req_headers, "Accept-Encoding: gzip, deflate, br"));
    CHECK(bin_eq(r->body, brotli_text, strlen(brotli_text)));
    CHECK(bin_eq(r->raw_body, brotli_page, sizeof brotli_page));
    tw_response_free(r);
}

static void test_brotli_is_decoded(void **state) {
    (void)state;
    /* libbrotli1 comes with libcurl on Debian, so it must be found. */
    assert_true(tw_fetch_brotli_available());
    rt_run(1, root_brotli, NULL);
}

/* ---------------------------------------------------------------- the byte limit */

#define BOMB_BYTES (64u << 20)

static void root_bomb(void *arg) {
    long *grew_kb = arg;
    tw_fetcher f = start_fetcher(1);
    long before = proc_status_kb("VmRSS");
    if (!reset_peak_rss()) *grew_kb = -1;
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/bomb", .max_bytes = 1u << 20});
    if (*grew_kb == 0) *grew_kb = proc_status_kb("VmHWM") - before;
    CHECK(r->err == TW_FETCH_OK);
    CHECK(r->truncated);
    CHECK(strstr(r->err_text, "truncated") != NULL);
    CHECK(tr_bin_len(r->body) == 1u << 20);
    CHECK(all_bytes(r->body, 0));
    CHECK(tr_bin_len(r->raw_body) < 1u << 20); /* the part of the compressed body that was read */
    tw_response_free(r);
    tw_fetch_stop(&f);
}

static void test_gzip_bomb_is_truncated_with_bounded_memory(void **state) {
    (void)state;
    long grew_kb = 0;
    rt_run(1, root_bomb, &grew_kb);
    if (grew_kb < 0) fail_msg("cannot reset the peak RSS through /proc/self/clear_refs to measure memory");
    /* Decoding all of it would take 64 MiB; the limit is 1 MiB. */
    if (grew_kb > 24 * 1024) fail_msg("peak memory grew by %ld KiB", grew_kb);
}

static void root_big(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/big", .max_bytes = 100000});
    CHECK(r->err == TW_FETCH_OK && r->status == 200);
    CHECK(r->truncated);
    CHECK(tr_bin_len(r->body) == 100000);
    CHECK(tr_bin_len(r->raw_body) == 100000);
    CHECK(!memcmp(tr_bin_data(r->body), "abcdefghij", 10));
    tw_response_free(r);

    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hello", .max_bytes = 12}); /* exactly at the limit */
    CHECK(r->err == TW_FETCH_OK && !r->truncated && tr_bin_len(r->body) == 12);
    tw_response_free(r);
}

/* A body of many receive buffers, and one of a few bytes more than one, arrive whole. */
static void root_big_whole(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    size_t lens[] = {1000003, 65537, 16385};
    for (size_t k = 0; k < sizeof lens / sizeof *lens; k++) {
        char path[64];
        snprintf(path, sizeof path, "/big-%zu", lens[k]);
        tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = path});
        CHECK(r->err == TW_FETCH_OK && r->status == 200 && !r->truncated);
        CHECK(tr_bin_len(r->body) == lens[k]);
        const char *p = tr_bin_data(r->body);
        bool ok = tr_bin_len(r->body) == lens[k];
        for (size_t i = 0; ok && i < lens[k]; i++) ok = p[i] == (char)('a' + i % (64 * 1024) % 26);
        CHECK(ok);
        tw_response_free(r);
    }
}

static void test_big_body_arrives_whole(void **state) {
    (void)state;
    rt_run(1, root_big_whole, NULL);
}

static void test_big_body_is_truncated_at_max_bytes(void **state) {
    (void)state;
    rt_run(1, root_big, NULL);
}

/* ---------------------------------------------------------------- statuses */

static void root_statuses(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(2);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/redirect"});
    CHECK(r->err == TW_FETCH_OK && r->status == 302);
    CHECK(bin_has(r->resp_headers, "Location: /target\r\n"));
    CHECK(tw_fetch_status_class(r) == 3);
    CHECK(!tw_fetch_transient(r));
    tw_response_free(r);

    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/missing"});
    CHECK(r->err == TW_FETCH_OK && r->status == 404);
    CHECK(tw_fetch_status_class(r) == 4);
    CHECK(!tw_fetch_transient(r));
    tw_response_free(r);

    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/unavailable"});
    CHECK(r->err == TW_FETCH_OK && r->status == 503);
    CHECK(tw_fetch_status_class(r) == 5);
    CHECK(tw_fetch_transient(r));
    tw_response_free(r);

    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/busy"});
    CHECK(r->err == TW_FETCH_OK && r->status == 429);
    CHECK(bin_has(r->resp_headers, "Retry-After: 7\r\n"));
    CHECK(tw_fetch_transient(r));
    tw_response_free(r);
}

static void test_redirect_404_503_429_are_responses(void **state) {
    (void)state;
    ts_reset_stats(ts1);
    rt_run(2, root_statuses, NULL);
    assert_int_equal(ts_count(ts1, "/redirect"), 1);
    assert_int_equal(ts_count(ts1, "/target"), 0); /* not followed */
}

/* ---------------------------------------------------------------- failures */

static void root_refused(void *arg) {
    int port = *(int *)arg;
    tw_fetcher f = start_fetcher(1);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    tw_response *r = fetch(&f, (fetch_args){.ts = NULL, .path = url});
    CHECK(r->err == TW_FETCH_REFUSED);
    CHECK(r->status == 0);
    CHECK(r->err_text[0] != 0);
    CHECK(tw_fetch_transient(r));
    CHECK(tr_bin_len(r->body) == 0);
    tw_response_free(r);
}

static void test_connection_refused(void **state) {
    (void)state;
    int port = closed_port();
    rt_run(1, root_refused, &port);
}

static void root_reset(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/reset"});
    CHECK(r->err == TW_FETCH_RESET);
    CHECK(tw_fetch_transient(r));
    tw_response_free(r);
}

static void test_connection_reset(void **state) {
    (void)state;
    rt_run(1, root_reset, NULL);
}

static void root_timeout(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    int64_t t0 = tr_now_ms();
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hang", .timeout_ms = 300});
    int64_t took = tr_now_ms() - t0;
    CHECK(r->err == TW_FETCH_TIMEOUT);
    CHECK(tw_fetch_transient(r));
    CHECK(took >= 250 && took < 3000);
    tw_response_free(r);

    /* A slow body counts against the same total timeout. */
    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/drip", .timeout_ms = 200});
    CHECK(r->err == TW_FETCH_TIMEOUT);
    CHECK(r->status == 200);
    tw_response_free(r);
}

static void test_timeout_on_a_hanging_server(void **state) {
    (void)state;
    rt_run(1, root_timeout, NULL);
}

static void root_closed(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/cut"});
    CHECK(r->err == TW_FETCH_CLOSED);
    CHECK(r->status == 200);
    CHECK(tr_bin_len(r->body) == 10);
    CHECK(tw_fetch_transient(r));
    tw_response_free(r);

    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/garbage"});
    CHECK(r->err == TW_FETCH_OTHER);
    CHECK(r->status == 0);
    CHECK(!tw_fetch_transient(r));
    tw_response_free(r);
}

static void test_closed_mid_body_and_garbage(void **state) {
    (void)state;
    rt_run(1, root_closed, NULL);
}

static void root_dns(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    tw_response *r = fetch(&f, (fetch_args){.ts = NULL, .path = "http://nonexistent.invalid/", .timeout_ms = 15000});
    CHECK(r->err == TW_FETCH_DNS);
    CHECK(!strcmp(tw_fetch_err_name(r->err), "dns"));
    CHECK(r->status == 0);
    tw_response_free(r);
}

static void test_dns_failure(void **state) {
    (void)state;
    rt_run(1, root_dns, NULL);
}

/* ---------------------------------------------------------------- the service's life */

typedef struct kill_later {
    tr_pid victim;
    int64_t after_ms;
    bool stop; /* tw_fetch_stop instead of a kill */
} kill_later;

static void killer(void *arg) {
    kill_later k = *(kill_later *)arg;
    free(arg);
    tr_sleep(k.after_ms);
    if (k.stop) {
        tw_fetcher f = {.n = 1, .pids = {k.victim}};
        tw_fetch_stop(&f);
    } else {
        tr_exit_pid(k.victim, TR_KILL);
    }
}

static void root_stop_or_kill(void *arg) {
    bool stop = *(bool *)arg;
    tw_fetcher f = start_fetcher(1);
    tr_ref mon = tr_monitor(f.pids[0]);
    kill_later *k = malloc(sizeof *k);
    *k = (kill_later){f.pids[0], 150, stop};
    tr_spawn(killer, k);
    int64_t t0 = tr_now_ms();
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hang", .timeout_ms = 5000});
    CHECK(r->err == TW_FETCH_OTHER);
    CHECK(strstr(r->err_text, stop ? "stopped" : "ended") != NULL);
    CHECK(tr_now_ms() - t0 < 3000);
    tw_response_free(r);
    char why[64];
    CHECK(!strcmp(rt_await_down(mon, why, sizeof why, 2000), stop ? "normal" : "killed"));
}

static void test_stopped_service_answers_pending_fetches(void **state) {
    (void)state;
    bool stop = true;
    rt_run(1, root_stop_or_kill, &stop);
}

static void test_killed_service_fails_pending_fetches(void **state) {
    (void)state;
    bool stop = false;
    rt_run(2, root_stop_or_kill, &stop);
}

static void hanging_fetcher(void *arg) {
    tw_fetcher f = *(tw_fetcher *)arg;
    free(arg);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hang", .timeout_ms = 20000});
    tw_response_free(r); /* not reached: killed while waiting */
}

static void root_caller_dies(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    tw_fetcher *copy = malloc(sizeof *copy);
    *copy = f;
    tr_ref mon;
    tr_pid caller = tr_spawn_monitor(hanging_fetcher, copy, &mon);
    for (int i = 0; i < 200 && ts_inflight(ts1) == 0; i++) tr_sleep(5);
    CHECK(ts_inflight(ts1) == 1);
    tr_exit_pid(caller, TR_KILL);
    char why[64];
    CHECK(!strcmp(rt_await_down(mon, why, sizeof why, 2000), "killed"));
    /* The service drops the transfer, which closes the connection at the server. */
    for (int i = 0; i < 200 && ts_inflight(ts1) > 0; i++) tr_sleep(5);
    CHECK(ts_inflight(ts1) == 0);
    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/hello"});
    CHECK(r->err == TW_FETCH_OK && r->status == 200);
    tw_response_free(r);
}

static void test_dead_caller_transfer_is_dropped(void **state) {
    (void)state;
    rt_run(2, root_caller_dies, NULL);
}

/* ---------------------------------------------------------------- test server behaviours */

static void root_server_behaviours(void *arg) {
    (void)arg;
    tw_fetcher f = start_fetcher(1);
    int statuses[3];
    for (int i = 0; i < 3; i++) {
        tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/flaky"});
        statuses[i] = r->status;
        if (i < 2) CHECK(bin_has(r->resp_headers, "Retry-After: Wed, 21 Oct 2015 07:28:00 GMT\r\n"));
        tw_response_free(r);
    }
    CHECK(statuses[0] == 503 && statuses[1] == 503 && statuses[2] == 200);

    tw_response *r = fetch(&f, (fetch_args){.ts = ts1, .path = "/trap/7"});
    CHECK(bin_has(r->body, "href=\"/trap/8\"") && bin_has(r->body, "href=\"/trap/9\""));
    tw_response_free(r);

    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/loop"});
    CHECK(r->status == 301 && bin_has(r->resp_headers, "Location: /loop\r\n"));
    tw_response_free(r);

    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/site/"});
    CHECK(r->status == 200 && bin_eq(r->body, "<a href=a.txt>a</a>", 19));
    CHECK(!strcmp(r->content_type, "text/html"));
    tw_response_free(r);
    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/site/a.txt"});
    CHECK(r->status == 200 && bin_eq(r->body, "text a", 6) && !strcmp(r->content_type, "text/plain"));
    tw_response_free(r);
    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/site/none.html"});
    CHECK(r->status == 404);
    tw_response_free(r);
    r = fetch(&f, (fetch_args){.ts = ts1, .path = "/site/%2e%2e/x"});
    CHECK(r->status == 404 || r->status == 403);
    tw_response_free(r);
}

static void write_file(const char *dir, const char *name, const char *text) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) fail_msg("cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void test_server_fail_then_trap_loop_and_directory(void **state) {
    (void)state;
    char dir[] = "/tmp/trawl-site-XXXXXX";
    if (!mkdtemp(dir)) fail_msg("mkdtemp: %s", strerror(errno));
    write_file(dir, "index.html", "<a href=a.txt>a</a>");
    write_file(dir, "a.txt", "text a");
    ts_route(ts1, "/flaky", &(ts_spec){.kind = TS_FAIL_THEN, .times = 2, .status = 503, .body = "ok",
                                        .retry_after = "Wed, 21 Oct 2015 07:28:00 GMT"});
    ts_route(ts1, "/trap/*", &(ts_spec){.kind = TS_TRAP});
    ts_route(ts1, "/loop", &(ts_spec){.kind = TS_REDIRECT, .status = 301, .location = "/loop"});
    ts_route(ts1, "/site*", &(ts_spec){.kind = TS_DIR, .dir = dir});
    ts_reset_stats(ts1);
    rt_run(1, root_server_behaviours, NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/index.html", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/a.txt", dir);
    unlink(path);
    rmdir(dir);
    assert_int_equal(ts_count(ts1, "/flaky"), 3);
    ts_logged log[3];
    assert_int_equal(ts_requests(ts1, "/flaky", log, 3), 3);
    assert_true(log[0].t_ms <= log[1].t_ms && log[1].t_ms <= log[2].t_ms);
    assert_int_equal(log[0].conn_id, log[2].conn_id); /* kept alive across statuses */
    assert_string_equal(log[0].accept_encoding, "gzip, deflate, br");
}

/* ---------------------------------------------------------------- pure helpers */

static void test_transient_classification(void **state) {
    (void)state;
    tw_response r = {0};
    struct {
        tw_fetch_err err;
        int status;
        bool transient;
    } cases[] = {
        {TW_FETCH_OK, 200, false},     {TW_FETCH_OK, 301, false},      {TW_FETCH_OK, 404, false},
        {TW_FETCH_OK, 408, true},      {TW_FETCH_OK, 429, true},       {TW_FETCH_OK, 500, true},
        {TW_FETCH_OK, 599, true},      {TW_FETCH_DNS, 0, true},        {TW_FETCH_REFUSED, 0, true},
        {TW_FETCH_RESET, 0, true},     {TW_FETCH_TIMEOUT, 0, true},    {TW_FETCH_CLOSED, 200, true},
        {TW_FETCH_TLS, 0, false},      {TW_FETCH_OTHER, 0, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        r.err = cases[i].err;
        r.status = cases[i].status;
        if (tw_fetch_transient(&r) != cases[i].transient)
            fail_msg("%s/%d: expected transient=%d", tw_fetch_err_name(r.err), r.status, cases[i].transient);
    }
    r.status = 0;
    assert_int_equal(tw_fetch_status_class(&r), 0);
    r.status = 503;
    assert_int_equal(tw_fetch_status_class(&r), 5);
    assert_string_equal(tw_fetch_err_name(TW_FETCH_TIMEOUT), "timeout");
}

/* ---------------------------------------------------------------- setup */

static void add_common_routes(ts_server *ts) {
    ts_route(ts, "/hello", &(ts_spec){.kind = TS_STATIC, .body = "<p>hello</p>",
                                       .content_type = "text/html; charset=utf-8", .header = "X-Test: yes"});
}

static int setup(void **state) {
    (void)state;
    /* Loopback only: a proxy from the environment must not see these requests. */
    setenv("no_proxy", "*", 1);
    ts1 = ts_start("127.0.0.1", 0);
    ts2 = ts_start("127.0.0.2", 0);
    if (!ts1 || !ts2) return -1;
    add_common_routes(ts1);
    add_common_routes(ts2);
    ts_route_fn(ts1, "/slow", slow_handler, NULL);
    ts_route(ts1, "/drip", &(ts_spec){.kind = TS_DRIP, .body = "0123456789", .interval_ms = 50});
    ts_route(ts1, "/gzip", &(ts_spec){.kind = TS_ENCODED, .body = page, .encoding = "gzip"});
    ts_route(ts1, "/deflate", &(ts_spec){.kind = TS_ENCODED, .body = page, .encoding = "deflate"});
    ts_route_fn(ts1, "/deflate-raw", raw_deflate_handler, NULL);
    ts_route(ts1, "/bad-gzip", &(ts_spec){.kind = TS_STATIC, .body = "this is not gzip at all",
                                           .header = "Content-Encoding: gzip"});
    ts_route(ts1, "/br", &(ts_spec){.kind = TS_ENCODED, .encoding = "br", .body = (const char *)brotli_page,
                                     .body_len = sizeof brotli_page});
    ts_route(ts1, "/bomb", &(ts_spec){.kind = TS_GZIP_BOMB, .length = BOMB_BYTES});
    ts_route(ts1, "/big", &(ts_spec){.kind = TS_BIG, .length = 8u << 20});
    ts_route(ts1, "/big-1000003", &(ts_spec){.kind = TS_BIG, .length = 1000003});
    ts_route(ts1, "/big-65537", &(ts_spec){.kind = TS_BIG, .length = 65537});
    ts_route(ts1, "/big-16385", &(ts_spec){.kind = TS_BIG, .length = 16385});
    ts_route(ts1, "/redirect", &(ts_spec){.kind = TS_REDIRECT, .location = "/target"});
    ts_route(ts1, "/target", &(ts_spec){.kind = TS_STATIC, .body = "target"});
    ts_route(ts1, "/unavailable", &(ts_spec){.kind = TS_STATIC, .status = 503});
    ts_route(ts1, "/busy", &(ts_spec){.kind = TS_RETRY_AFTER, .retry_after = "7"});
    ts_route(ts1, "/reset", &(ts_spec){.kind = TS_RESET});
    ts_route(ts1, "/hang", &(ts_spec){.kind = TS_HANG});
    ts_route(ts1, "/cut", &(ts_spec){.kind = TS_CUT, .length = 1000, .sent = 10});
    ts_route(ts1, "/garbage", &(ts_spec){.kind = TS_GARBAGE, .length = 300});
    ts_route(ts1, "/close-after", &(ts_spec){.kind = TS_CLOSE_AFTER, .body = "bye"});
    return 0;
}

static int teardown(void **state) {
    (void)state;
    ts_stop(ts1);
    ts_stop(ts2);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_200_with_headers_body_type_and_timings),
        cmocka_unit_test(test_another_host_works),
        cmocka_unit_test(test_extra_request_headers_are_sent),
        cmocka_unit_test(test_request_head_is_the_bytes_sent),
        cmocka_unit_test(test_sequential_fetches_reuse_one_connection),
        cmocka_unit_test(test_100_concurrent_fetches_overlap_at_the_server),
        cmocka_unit_test(test_fetch_blocks_only_its_process),
        cmocka_unit_test(test_gzip_and_deflate_are_decoded_and_raw_kept),
        cmocka_unit_test(test_brotli_is_decoded),
        cmocka_unit_test(test_gzip_bomb_is_truncated_with_bounded_memory),
        cmocka_unit_test(test_big_body_is_truncated_at_max_bytes),
        cmocka_unit_test(test_big_body_arrives_whole),
        cmocka_unit_test(test_redirect_404_503_429_are_responses),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_connection_reset),
        cmocka_unit_test(test_timeout_on_a_hanging_server),
        cmocka_unit_test(test_closed_mid_body_and_garbage),
        cmocka_unit_test(test_dns_failure),
        cmocka_unit_test(test_stopped_service_answers_pending_fetches),
        cmocka_unit_test(test_killed_service_fails_pending_fetches),
        cmocka_unit_test(test_dead_caller_transfer_is_dropped),
        cmocka_unit_test(test_server_fail_then_trap_loop_and_directory),
        cmocka_unit_test(test_transient_classification),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
