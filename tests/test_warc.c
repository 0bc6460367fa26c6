/* test_warc.c - tests of the WARC writer and reader: fields, digests, gzip members, rotation, repair, warcio. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libdeflate.h>

#include "warc.h"
#include "warcio.h"

/* ------------------------------------------------------------------ helpers */

static char *make_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[512];
    snprintf(tmpl, sizeof tmpl, "%s/test_warc.XXXXXX", base && *base ? base : "/tmp");
    char *dir = mkdtemp(tmpl);
    assert_non_null(dir);
    return strdup(dir);
}

static void remove_tree(char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char p[1024];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
    free(dir);
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* One exchange the tests write, with the block the response record must hold. */
typedef struct sample {
    const char *uri, *ip;
    const char *request;
    const char *head;
    const uint8_t *body;
    size_t body_len;
    bool truncated;
    const char *expect_head; /* the head as the record must keep it */
} sample;

static const uint8_t binary_body[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0x0d,
                                      'I', 'H', 'D', 'R', 0, 0xff, 0xfe, '\r', '\n', '\r', '\n', 7};

/* "hello, gzip\n" compressed by gzip -9n: the record must keep these bytes, not decode them. */
static const uint8_t gzip_body[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03,
                                    0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xd7, 0x51, 0x48, 0xaf, 0xca,
                                    0x2c, 0xe0, 0x02, 0x00, 0x86, 0x1f, 0x82, 0xa4, 0x0c, 0x00,
                                    0x00, 0x00};

#define HTML "<!doctype html><title>a</title><a href=/b>b</a>"
#define ROBOTS "User-agent: *\nDisallow: /private\n"

static const sample samples[] = {
    {"http://example.com/", "93.184.216.34",
     "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: trawl/0.1\r\n\r\n",
     "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 47\r\n\r\n",
     (const uint8_t *)HTML, sizeof HTML - 1, false,
     "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 47\r\n\r\n"},
    {"http://example.com/big", "2001:db8::1",
     "GET /big HTTP/1.1\r\nHost: example.com\r\n\r\n",
     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n", /* no final CRLF */
     (const uint8_t *)"0123456789", 10, true,
     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100000\r\n\r\n"},
    {"http://example.com/missing", NULL,
     "GET /missing HTTP/1.1\r\nHost: example.com\r\n\r\n",
     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", (const uint8_t *)"", 0, false,
     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"},
    {"http://example.com/robots.txt", "93.184.216.34",
     "GET /robots.txt HTTP/1.1\r\nHost: example.com\r\n\r\n",
     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
     (const uint8_t *)ROBOTS, sizeof ROBOTS - 1, false,
     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"},
    {"http://example.com/logo.png", "93.184.216.34",
     "GET /logo.png HTTP/1.1\r\nHost: example.com\r\n\r\n",
     "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 24\r\n\r\n", binary_body,
     sizeof binary_body, false,
     "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 24\r\n\r\n"},
    {"https://example.com/gz?q=1", "93.184.216.34",
     "GET /gz?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip\r\n\r\n",
     "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\ntransfer-encoding : chunked\r\n\tx-folded\r\n"
     "Vary: Accept-Encoding\r\n\r\n",
     gzip_body, sizeof gzip_body, false,
     "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding\r\n\r\n"},
    {"http://old.example.com/", NULL, "GET / HTTP/1.0\r\n\r\n",
     "\r\nHTTP/1.0 200 OK\nContent-Type: text/plain\n\n", /* a sloppy server's bare LFs */
     (const uint8_t *)"a\n\nb\r\n\r\nc", 9, false,
     "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"},
};
#define NSAMPLES (sizeof samples / sizeof samples[0])

static tw_warc_exchange to_exchange(const sample *s, long sec)
{
    tw_warc_exchange x = {0};
    x.target_uri = s->uri;
    x.ip_address = s->ip;
    x.date.tv_sec = sec;
    x.date.tv_nsec = 123456789;
    x.request = s->request;
    x.request_len = strlen(s->request);
    x.response_head = s->head;
    x.response_head_len = strlen(s->head);
    x.body = s->body;
    x.body_len = s->body_len;
    x.truncated = s->truncated;
    return x;
}

/* Writes every sample into a fresh file in dir; returns the writer's path (caller frees). */
static char *write_samples(const char *dir)
{
    tw_warc_options o = {.software = "trawl/0.1", .operator_name = "Test Operator <ops@example.com>",
                         .user_agent = "trawl/0.1 (+https://example.com/bot)", .robots = "obey"};
    tw_warc *w;
    assert_int_equal(tw_warc_open(dir, &o, &w), 0);
    for (size_t i = 0; i < NSAMPLES; i++) {
        tw_warc_exchange x = to_exchange(&samples[i], 1795583700 + (long)i);
        assert_int_equal(tw_warc_write_exchange(w, &x), 0);
    }
    assert_int_equal(tw_warc_flush(w), 0);
    char *path = strdup(tw_warc_path(w));
    assert_int_equal(tw_warc_close(w), 0);
    return path;
}

static bool is_record_id(const char *s)
{
    if (!s || strlen(s) != 47 || strncmp(s, "<urn:uuid:", 10) != 0 || s[46] != '>')
        return false;
    for (int i = 10; i < 46; i++) {
        bool dash = i == 18 || i == 23 || i == 28 || i == 33;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
            return false;
    }
    return s[24] == '4'; /* version 4: random */
}

#define FIELD(rec, name) tw_warc_record_field(&(rec), name)

/* ------------------------------------------------------------------ tests */

static void sha1_labels_are_base32_of_known_vectors(void **state)
{
    (void)state;
    char out[38];
    tw_warc_sha1_label("", 0, out);
    assert_string_equal(out, "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    tw_warc_sha1_label("abc", 3, out);
    assert_string_equal(out, "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
}

/* Two digests side by side (SHA-NI lanes) equal two one at a time (OpenSSL), at every length around the 64-byte blocks. */
static void sha1_label_pairs_match_single_labels(void **state)
{
    (void)state;
    size_t max = 70000;
    uint8_t *data = malloc(max);
    assert_non_null(data);
    for (size_t i = 0; i < max; i++)
        data[i] = (uint8_t)(i * 131 + (i >> 7));
    char pa[38], pb[38], sa[38], sb[38];
    tw_warc_sha1_label_pair("abc", 3, "", 0, pa, pb);
    assert_string_equal(pa, "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5");
    assert_string_equal(pb, "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    tw_warc_sha1_label_pair(NULL, 0, NULL, 0, pa, pb);
    assert_string_equal(pa, "sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ");
    static const size_t offsets[] = {0, 1, 7, 55, 56, 63, 64, 65, 119, 120, 200, 333};
    for (size_t la = 0; la < 400; la++)
        for (size_t o = 0; o < sizeof offsets / sizeof offsets[0]; o++) {
            size_t off = offsets[o], lb = la > off ? la - off : 0;
            tw_warc_sha1_label_pair(data, la, data + off, lb, pa, pb);
            tw_warc_sha1_label(data, la, sa);
            tw_warc_sha1_label(data + off, lb, sb);
            assert_string_equal(pa, sa);
            assert_string_equal(pb, sb);
        }
    tw_warc_sha1_label_pair(data + 3, max - 3, data + 300, max - 5000, pa, pb);
    tw_warc_sha1_label(data + 3, max - 3, sa);
    tw_warc_sha1_label(data + 300, max - 5000, sb);
    assert_string_equal(pa, sa);
    assert_string_equal(pb, sb);
    free(data);
}

static void file_starts_with_warcinfo_describing_the_crawl(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *path = write_samples(dir);
    const char *base = strrchr(path, '/') + 1;
    assert_int_equal(strncmp(base, "trawl-", 6), 0);
    assert_string_equal(base + strlen(base) - 14, "-00000.warc.gz");

    tw_warc_reader *r;
    tw_warc_record rec;
    assert_int_equal(tw_warc_reader_open(path, &r), 0);
    assert_int_equal(tw_warc_reader_next(r, &rec), 1);
    assert_int_equal(rec.offset, 0);
    assert_string_equal(rec.version, "WARC/1.1");
    assert_string_equal(FIELD(rec, "WARC-Type"), "warcinfo");
    assert_string_equal(FIELD(rec, "Content-Type"), "application/warc-fields");
    assert_string_equal(FIELD(rec, "WARC-Filename"), base);
    assert_true(is_record_id(FIELD(rec, "WARC-Record-ID")));
    assert_non_null(FIELD(rec, "WARC-Date"));
    assert_non_null(FIELD(rec, "WARC-Block-Digest"));
    assert_int_equal(tw_warc_record_check_digests(&rec), 0);
    char *block = strndup((const char *)rec.block, rec.block_len);
    assert_non_null(strstr(block, "software: trawl/0.1\r\n"));
    assert_non_null(strstr(block, "format: WARC File Format 1.1\r\n"));
    assert_non_null(strstr(block, "operator: Test Operator <ops@example.com>\r\n"));
    assert_non_null(strstr(block, "http-header-user-agent: trawl/0.1 (+https://example.com/bot)\r\n"));
    assert_non_null(strstr(block, "robots: obey\r\n"));
    free(block);
    tw_warc_reader_free(r);
    free(path);
    remove_tree(dir);
}

static void every_exchange_reads_back_as_linked_request_and_response(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *path = write_samples(dir);
    tw_warc_reader *r;
    tw_warc_record rec;
    assert_int_equal(tw_warc_reader_open(path, &r), 0);
    assert_int_equal(tw_warc_reader_next(r, &rec), 1); /* warcinfo */
    uint64_t prev_end = rec.end_offset;
    char ids[2 * NSAMPLES][48];
    for (size_t i = 0; i < NSAMPLES; i++) {
        const sample *s = &samples[i];
        char date[40], req_id[48];
        snprintf(date, sizeof date, "2026-11-25T05:%02d:%02d.123456Z", (int)(15 + i / 60), (int)(i % 60));

        /* the request record */
        assert_int_equal(tw_warc_reader_next(r, &rec), 1);
        assert_int_equal(rec.offset, prev_end);
        prev_end = rec.end_offset;
        assert_string_equal(FIELD(rec, "WARC-Type"), "request");
        assert_string_equal(FIELD(rec, "WARC-Target-URI"), s->uri);
        assert_string_equal(FIELD(rec, "WARC-Date"), date);
        assert_string_equal(FIELD(rec, "Content-Type"), "application/http;msgtype=request");
        if (s->ip)
            assert_string_equal(FIELD(rec, "WARC-IP-Address"), s->ip);
        else
            assert_null(FIELD(rec, "WARC-IP-Address"));
        assert_null(FIELD(rec, "WARC-Truncated"));
        assert_true(is_record_id(FIELD(rec, "WARC-Record-ID")));
        snprintf(req_id, sizeof req_id, "%s", FIELD(rec, "WARC-Record-ID"));
        char resp_id[48];
        snprintf(resp_id, sizeof resp_id, "%s", FIELD(rec, "WARC-Concurrent-To"));
        assert_int_equal(rec.block_len, strlen(s->request));
        assert_memory_equal(rec.block, s->request, rec.block_len);
        char want[38];
        tw_warc_sha1_label(s->request, strlen(s->request), want);
        assert_string_equal(FIELD(rec, "WARC-Block-Digest"), want);
        assert_int_equal(tw_warc_record_check_digests(&rec), 0);

        /* the response record */
        assert_int_equal(tw_warc_reader_next(r, &rec), 1);
        assert_int_equal(rec.offset, prev_end);
        prev_end = rec.end_offset;
        assert_string_equal(FIELD(rec, "WARC-Type"), "response");
        assert_string_equal(FIELD(rec, "WARC-Record-ID"), resp_id);
        assert_string_equal(FIELD(rec, "WARC-Concurrent-To"), req_id);
        assert_string_equal(FIELD(rec, "WARC-Target-URI"), s->uri);
        assert_string_equal(FIELD(rec, "WARC-Date"), date);
        assert_string_equal(FIELD(rec, "Content-Type"), "application/http;msgtype=response");
        if (s->truncated)
            assert_string_equal(FIELD(rec, "WARC-Truncated"), "length");
        else
            assert_null(FIELD(rec, "WARC-Truncated"));
        size_t hl = strlen(s->expect_head);
        char cl[24];
        snprintf(cl, sizeof cl, "%zu", hl + s->body_len);
        assert_string_equal(FIELD(rec, "Content-Length"), cl);
        assert_int_equal(rec.block_len, hl + s->body_len);
        assert_memory_equal(rec.block, s->expect_head, hl);
        if (s->body_len)
            assert_memory_equal(rec.block + hl, s->body, s->body_len);
        tw_warc_sha1_label(rec.block, rec.block_len, want);
        assert_string_equal(FIELD(rec, "WARC-Block-Digest"), want);
        tw_warc_sha1_label(s->body, s->body_len, want);
        assert_string_equal(FIELD(rec, "WARC-Payload-Digest"), want);
        assert_int_equal(tw_warc_record_check_digests(&rec), 0);
        memcpy(ids[2 * i], req_id, 48);
        memcpy(ids[2 * i + 1], resp_id, 48);
    }
    assert_int_equal(tw_warc_reader_next(r, &rec), 0);
    assert_int_equal(tw_warc_reader_next(r, &rec), 0);
    for (size_t i = 0; i < 2 * NSAMPLES; i++)
        for (size_t j = i + 1; j < 2 * NSAMPLES; j++)
            assert_string_not_equal(ids[i], ids[j]);
    tw_warc_reader_free(r);
    free(path);
    remove_tree(dir);
}

/* Each record is one gzip member: decompressing exactly its byte range with libdeflate gives one record. */
static void each_record_is_its_own_gzip_member(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *path = write_samples(dir);
    size_t len;
    uint8_t *data = read_file(path, &len);
    tw_warc_reader *r;
    tw_warc_record rec;
    assert_int_equal(tw_warc_reader_new(data, len, 0, &r), 0);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    uint8_t *out = malloc(1 << 20);
    int n = 0;
    while (tw_warc_reader_next(r, &rec) == 1) {
        size_t in_used, out_len;
        assert_int_equal(libdeflate_gzip_decompress_ex(d, data + rec.offset, rec.end_offset - rec.offset,
                                                       out, 1 << 20, &in_used, &out_len),
                         LIBDEFLATE_SUCCESS);
        assert_int_equal(in_used, rec.end_offset - rec.offset);
        assert_memory_equal(out, "WARC/1.1\r\n", 10);
        assert_memory_equal(out + out_len - 4, "\r\n\r\n", 4);
        n++;
    }
    assert_int_equal(n, 1 + 2 * NSAMPLES);
    free(out);
    libdeflate_free_decompressor(d);
    tw_warc_reader_free(r);
    free(data);
    free(path);
    remove_tree(dir);
}

static void rotation_starts_new_files_each_with_warcinfo(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    tw_warc_options o = {.max_file_bytes = 4096, .prefix = "rot"};
    tw_warc *w;
    assert_int_equal(tw_warc_open(dir, &o, &w), 0);
    uint8_t body[800];
    uint32_t seed = 12345;
    for (int i = 0; i < 20; i++) {
        for (size_t k = 0; k < sizeof body; k++) { /* incompressible, so sizes are predictable */
            seed = seed * 1103515245u + 12345u;
            body[k] = (uint8_t)(seed >> 16);
        }
        tw_warc_exchange x = to_exchange(&samples[0], 1795583700 + i);
        x.body = body;
        x.body_len = sizeof body;
        assert_int_equal(tw_warc_write_exchange(w, &x), 0);
    }
    unsigned files = tw_warc_file_count(w);
    assert_int_equal(tw_warc_close(w), 0);
    assert_true(files >= 6);

    char names[64][WARCIO_PATH];
    int n = warcio_list(dir, names, 64);
    assert_int_equal(n, (int)files);
    int exchanges = 0;
    for (int f = 0; f < n; f++) {
        struct stat st;
        assert_int_equal(stat(names[f], &st), 0);
        assert_true(st.st_size <= 4096);
        tw_warc_reader *r;
        tw_warc_record rec;
        assert_int_equal(tw_warc_reader_open(names[f], &r), 0);
        assert_int_equal(tw_warc_reader_next(r, &rec), 1);
        assert_string_equal(FIELD(rec, "WARC-Type"), "warcinfo");
        assert_string_equal(FIELD(rec, "WARC-Filename"), strrchr(names[f], '/') + 1);
        int in_file = 0, rc;
        while ((rc = tw_warc_reader_next(r, &rec)) == 1) {
            assert_int_equal(tw_warc_record_check_digests(&rec), 0);
            if (strcmp(FIELD(rec, "WARC-Type"), "response") == 0)
                in_file++;
        }
        assert_int_equal(rc, 0);
        assert_true(in_file >= 1);
        exchanges += in_file;
        tw_warc_reader_free(r);
    }
    assert_int_equal(exchanges, 20);
    remove_tree(dir);
}

static void an_exchange_larger_than_the_limit_still_gets_written(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    tw_warc_options o = {.max_file_bytes = 100};
    tw_warc *w;
    assert_int_equal(tw_warc_open(dir, &o, &w), 0);
    tw_warc_exchange x = to_exchange(&samples[0], 1795583700);
    assert_int_equal(tw_warc_write_exchange(w, &x), 0);
    assert_int_equal(tw_warc_file_count(w), 1); /* a file holds at least one exchange */
    assert_int_equal(tw_warc_write_exchange(w, &x), 0);
    assert_int_equal(tw_warc_file_count(w), 2);
    assert_int_equal(tw_warc_close(w), 0);
    remove_tree(dir);
}

static void a_second_open_makes_a_new_file_and_leaves_the_first_alone(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *first = write_samples(dir);
    size_t len1;
    uint8_t *before = read_file(first, &len1);
    char *second = write_samples(dir);
    char *third = write_samples(dir);
    assert_string_not_equal(first, second);
    assert_string_not_equal(second, third);
    assert_string_not_equal(first, third);
    size_t len2;
    uint8_t *after = read_file(first, &len2);
    assert_int_equal(len1, len2);
    assert_memory_equal(before, after, len1);
    char names[8][WARCIO_PATH];
    assert_int_equal(warcio_list(dir, names, 8), 3);
    free(before);
    free(after);
    free(first);
    free(second);
    free(third);
    remove_tree(dir);
}

static void open_fails_when_the_directory_is_missing(void **state)
{
    (void)state;
    tw_warc *w = NULL;
    errno = 0;
    assert_int_equal(tw_warc_open("/nonexistent/trawl-warc-test", NULL, &w), TW_WARC_EIO);
    assert_int_equal(errno, ENOENT);
    assert_null(w);
}

static void bad_exchanges_are_refused(void **state)
{
    (void)state;
    tw_warc_encoder *e;
    assert_int_equal(tw_warc_encoder_new(0, &e), 0);
    const uint8_t *out;
    size_t len;
    tw_warc_exchange x = to_exchange(&samples[0], 0);
    x.target_uri = "http://example.com/\r\nWARC-Type: evil";
    assert_int_equal(tw_warc_encode_exchange(e, &x, &out, &len), TW_WARC_EINVAL);
    x = to_exchange(&samples[0], 0);
    x.target_uri = NULL;
    assert_int_equal(tw_warc_encode_exchange(e, &x, &out, &len), TW_WARC_EINVAL);
    x = to_exchange(&samples[0], 0);
    x.ip_address = "1.2.3.4\n";
    assert_int_equal(tw_warc_encode_exchange(e, &x, &out, &len), TW_WARC_EINVAL);
    x = to_exchange(&samples[0], 0);
    x.response_head_len = 0;
    assert_int_equal(tw_warc_encode_exchange(e, &x, &out, &len), TW_WARC_EINVAL);
    x = to_exchange(&samples[0], 0);
    x.body = NULL;
    assert_int_equal(tw_warc_encode_exchange(e, &x, &out, &len), TW_WARC_EINVAL);
    tw_warc_encoder *bad;
    assert_int_equal(tw_warc_encoder_new(13, &bad), TW_WARC_EINVAL);
    tw_warc_encoder_free(e);
}

/*
 * Encodes x with e and reads it back: two members that zlib (the reader) and libdeflate
 * both decode, whose blocks are the request and head + body, with matching digests.
 */
static void check_round_trip(tw_warc_encoder *e, const tw_warc_exchange *x, struct libdeflate_decompressor *d)
{
    const uint8_t *out;
    size_t len;
    assert_int_equal(tw_warc_encode_exchange(e, x, &out, &len), 0);
    tw_warc_reader *r;
    tw_warc_record rec;
    assert_int_equal(tw_warc_reader_new(out, len, 0, &r), 0);
    size_t cap = x->request_len + x->response_head_len + x->body_len + 4096;
    uint8_t *plain = malloc(cap);
    assert_non_null(plain);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(tw_warc_reader_next(r, &rec), 1);
        assert_int_equal(tw_warc_record_check_digests(&rec), 0);
        size_t in_used, plain_len;
        assert_int_equal(libdeflate_gzip_decompress_ex(d, out + rec.offset, rec.end_offset - rec.offset, plain,
                                                       cap, &in_used, &plain_len),
                         LIBDEFLATE_SUCCESS);
        assert_int_equal(in_used, rec.end_offset - rec.offset);
        if (i == 0) {
            assert_int_equal(rec.block_len, x->request_len);
            assert_memory_equal(rec.block, x->request, x->request_len);
        } else {
            assert_int_equal(rec.block_len, x->response_head_len + x->body_len);
            assert_memory_equal(rec.block, x->response_head, x->response_head_len);
            assert_memory_equal(rec.block + x->response_head_len, x->body, x->body_len);
            char want[38];
            tw_warc_sha1_label(x->body, x->body_len, want);
            assert_string_equal(tw_warc_record_field(&rec, "WARC-Payload-Digest"), want);
        }
    }
    assert_int_equal(tw_warc_reader_next(r, &rec), 0);
    free(plain);
    tw_warc_reader_free(r);
}

/*
 * Every body length around SHA-1's 64-byte blocks (the block and payload digests run
 * side by side), bodies that do not compress (stored blocks), large ones, binary
 * requests (small records use a fixed Huffman code), at every compression level.
 */
static void every_length_and_level_round_trips(void **state)
{
    (void)state;
    size_t big = 600000; /* the largest of large[] below */
    uint8_t *body = malloc(big);
    assert_non_null(body);
    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < big; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        body[i] = (uint8_t)(seed >> 56);
    }
    uint8_t *text = malloc(big);
    assert_non_null(text);
    for (size_t i = 0; i < big; i++)
        text[i] = (uint8_t)"<p class=\"x\">Lorem ipsum dolor sit amet</p>\n"[i % 44];
    static const char *heads[] = {"HTTP/1.1 200 OK\r\n\r\n",
                                  "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nServer: t\r\n\r\n"};
    char request[4096];
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    assert_non_null(d);
    static const int levels[] = {1, 2, 5, 6, 12};
    for (size_t l = 0; l < sizeof levels / sizeof levels[0]; l++) {
        tw_warc_encoder *e;
        assert_int_equal(tw_warc_encoder_new(levels[l], &e), 0);
        tw_warc_exchange x = {0};
        x.target_uri = "http://example.com/len";
        x.request = "GET /len HTTP/1.1\r\nHost: example.com\r\n\r\n";
        x.request_len = strlen(x.request);
        static const size_t large[] = {1000, 4000, 70000, 200000, 600000};
        for (size_t h = 0; h < 2; h++) {
            x.response_head = heads[h];
            x.response_head_len = strlen(heads[h]);
            for (size_t n = 0; n < 200 + sizeof large / sizeof large[0]; n++) {
                x.body_len = n < 200 ? n : large[n - 200];
                x.body = body;
                check_round_trip(e, &x, d);
                x.body = text;
                check_round_trip(e, &x, d);
            }
        }
        /* A request with a binary body, under and over the small-record size. */
        for (size_t n = 100; n < 4000; n += 900) {
            int k = snprintf(request, sizeof request, "POST /len HTTP/1.1\r\nContent-Length: %zu\r\n\r\n", n);
            memcpy(request + k, body + 1000, n);
            x.request = request;
            x.request_len = (size_t)k + n;
            x.body_len = 10;
            check_round_trip(e, &x, d);
        }
        tw_warc_encoder_free(e);
    }
    libdeflate_free_decompressor(d);
    free(text);
    free(body);
}

/* A body of n bytes of one kind: 0 HTML, 1 JSON, 2 random bytes (an image), varied by seed. */
static void make_body(uint8_t *b, size_t n, int kind, uint64_t seed)
{
    static const char *html[] = {"<div class=\"item\"><a href=\"/p/", "\">link</a> lorem ipsum ",
                                 "dolor sit amet</div>\n", "<p>consectetur adipiscing elit, sed do ",
                                 "eiusmod tempor</p>\n"};
    static const char *json[] = {"{\"id\": ", ", \"name\": \"item-", "\", \"tags\": [\"a\", \"b\"], ",
                                 "\"price\": 12.", "5, \"ok\": true},\n"};
    size_t i = 0;
    while (i < n) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        char piece[64];
        int k = kind == 2 ? 8 : snprintf(piece, sizeof piece, "%s%u", (kind ? json : html)[(seed >> 40) % 5],
                                          (unsigned)(seed >> 50));
        for (int j = 0; j < k && i < n; j++, i++)
            b[i] = kind == 2 ? (uint8_t)(seed >> (8 * j)) : (uint8_t)piece[j];
    }
}

/*
 * At the default level, larger records go through a Huffman code learned per kind of
 * content: the first record of a new kind learns one, later ones reuse it (learning
 * again now and then), and every record still decodes, with zlib and libdeflate, to
 * exactly what went in, whatever code it was compressed with.
 */
static void learned_codes_follow_the_kind_of_content(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint8_t *body = malloc(N);
    assert_non_null(body);
    static const char *heads[] = {
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
        "HTTP/1.1 200 OK\r\ncontent-type:application/json\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: TEXT/HTML\r\nContent-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\n\r\n",
    };
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    assert_non_null(d);
    tw_warc_encoder *e;
    assert_int_equal(tw_warc_encoder_new(0, &e), 0);
    tw_warc_exchange x = {0};
    x.target_uri = "http://example.com/kind";
    x.request = "GET /kind HTTP/1.1\r\nHost: example.com\r\n\r\n";
    x.request_len = strlen(x.request);
    x.body = body;
    tw_warc_encoder_stats st;
    /* kind of body, head, exchanges, learnings expected after them */
    static const struct { int kind, head, count; uint64_t learned; } steps[] = {
        {0, 0, 1, 1},  /* HTML: a code learned from the first page */
        {0, 0, 5, 3},  /* then from the 2nd and the 4th (pages 1, 2, 4, 8 ... learn) */
        {1, 1, 1, 4},  /* JSON (the same media type whatever the case or spacing): a code of its own */
        {0, 0, 1, 4},  /* back to HTML: its code is still there, and not due (page 7) */
        {2, 2, 1, 5},  /* random bytes served as an image */
        {0, 3, 1, 6},  /* gzip-coded HTML is a kind apart from plain HTML */
        {0, 4, 1, 7},  /* a fifth kind takes the slot used longest ago (JSON's) */
        {1, 1, 1, 8},  /* so JSON learns anew */
    };
    uint64_t seed = 1;
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
        x.response_head = heads[steps[s].head];
        x.response_head_len = strlen(x.response_head);
        for (int i = 0; i < steps[s].count; i++) {
            x.body_len = N - 1000 * (size_t)(seed % 8);
            make_body(body, x.body_len, steps[s].kind, seed++);
            check_round_trip(e, &x, d);
        }
        tw_warc_encoder_get_stats(e, &st);
        assert_int_equal(st.learned, steps[s].learned);
    }
    /* Only the responses are large enough for a learned code (requests use the small one). */
    assert_int_equal(st.records, 2 * 12);
    assert_int_equal(st.learned_records, 12);
    /* JSON took HTML's slot, so HTML starts over: a long run learns on pages 1, 2, 4 ... 32,
       then every 32 (64, 96 ... 192): 11 times in 200 pages. */
    x.response_head = heads[0];
    x.response_head_len = strlen(x.response_head);
    for (int i = 0; i < 200; i++) {
        x.body_len = N - 1000 * (size_t)(seed % 8);
        make_body(body, x.body_len, 0, seed++);
        check_round_trip(e, &x, d);
    }
    tw_warc_encoder_get_stats(e, &st);
    assert_int_equal(st.learned, 8 + 11);
    tw_warc_encoder_free(e);
    libdeflate_free_decompressor(d);
    free(body);
}

/*
 * The learned code costs little size: on HTML pages the default level writes at most
 * a few percent more than level 2 (igzip's level 2, which builds a code per record).
 */
static void learned_codes_compress_nearly_as_well_as_per_record_codes(void **state)
{
    (void)state;
    enum { N = 16000, PAGES = 40 };
    uint8_t *body = malloc(N);
    assert_non_null(body);
    size_t total[2] = {0, 0};
    static const int levels[] = {1, 2};
    for (int l = 0; l < 2; l++) {
        tw_warc_encoder *e;
        assert_int_equal(tw_warc_encoder_new(levels[l], &e), 0);
        tw_warc_exchange x = {0};
        x.target_uri = "http://example.com/size";
        x.request = "GET /size HTTP/1.1\r\nHost: example.com\r\n\r\n";
        x.request_len = strlen(x.request);
        x.response_head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n";
        x.response_head_len = strlen(x.response_head);
        x.body = body;
        x.body_len = N;
        for (uint64_t seed = 1; seed <= PAGES; seed++) {
            make_body(body, N, 0, seed);
            const uint8_t *out;
            size_t len;
            assert_int_equal(tw_warc_encode_exchange(e, &x, &out, &len), 0);
            total[l] += len;
        }
        tw_warc_encoder_free(e);
    }
    assert_true(total[0] * 100 <= total[1] * 104);
    free(body);
}

/* Encoding on another encoder (another thread, in the crawler) and writing the bytes is the same as writing the exchange. */
static void encoded_exchanges_can_be_written_by_the_writer(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    tw_warc_encoder *e;
    assert_int_equal(tw_warc_encoder_new(6, &e), 0);
    tw_warc *w;
    assert_int_equal(tw_warc_open(dir, NULL, &w), 0);
    for (size_t i = 0; i < NSAMPLES; i++) {
        tw_warc_exchange x = to_exchange(&samples[i], 1795583700);
        const uint8_t *out;
        size_t len;
        assert_int_equal(tw_warc_encode_exchange(e, &x, &out, &len), 0);
        assert_int_equal(tw_warc_write_encoded(w, out, len), 0);
    }
    char *path = strdup(tw_warc_path(w));
    assert_int_equal(tw_warc_close(w), 0);
    tw_warc_reader *r;
    tw_warc_record rec;
    assert_int_equal(tw_warc_reader_open(path, &r), 0);
    int n = 0, rc;
    while ((rc = tw_warc_reader_next(r, &rec)) == 1) {
        assert_int_equal(tw_warc_record_check_digests(&rec), 0);
        n++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(n, 1 + 2 * NSAMPLES);
    tw_warc_reader_free(r);
    tw_warc_encoder_free(e);
    free(path);
    remove_tree(dir);
}

static void repair_cuts_a_torn_tail_wherever_the_file_stops(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *path = write_samples(dir);
    size_t len;
    uint8_t *data = read_file(path, &len);

    uint64_t ends[64];
    int nrec = 0;
    tw_warc_reader *r;
    tw_warc_record rec;
    assert_int_equal(tw_warc_reader_new(data, len, 0, &r), 0);
    while (nrec < 64 && tw_warc_reader_next(r, &rec) == 1)
        ends[nrec++] = rec.end_offset;
    tw_warc_reader_free(r);
    assert_int_equal(ends[nrec - 1], len);

    /* Every point near a record boundary, and pseudo-random points in between (each repair fsyncs). */
    size_t cuts[64 * 5 + 200], ncuts = 0;
    for (int i = 0; i < nrec; i++)
        for (int d = -2; d <= 2; d++) {
            int64_t at = (int64_t)ends[i] + d;
            if (at >= 0 && at <= (int64_t)len)
                cuts[ncuts++] = (size_t)at;
        }
    uint32_t seed = 2463534242u;
    for (int i = 0; i < 200; i++) {
        seed ^= seed << 13, seed ^= seed >> 17, seed ^= seed << 5;
        cuts[ncuts++] = seed % (len + 1);
    }
    cuts[ncuts++] = 0;
    char torn[600];
    snprintf(torn, sizeof torn, "%s/torn.warc.gz", dir);
    for (size_t c = 0; c < ncuts; c++) {
        size_t cut = cuts[c];
        write_file(torn, data, cut);
        uint64_t good = UINT64_MAX;
        int rc = tw_warc_repair(torn, &good);
        uint64_t want = 0;
        bool whole = false;
        for (int i = 0; i < nrec; i++)
            if (ends[i] <= cut) {
                want = ends[i];
                whole = ends[i] == cut;
            }
        if (cut == 0)
            whole = true;
        assert_int_equal(rc, whole ? 0 : 1);
        assert_int_equal(good, want);
        struct stat st;
        assert_int_equal(stat(torn, &st), 0);
        assert_int_equal((uint64_t)st.st_size, want);
        /* what is left reads cleanly */
        assert_int_equal(tw_warc_reader_open(torn, &r), 0);
        int n = 0;
        while ((rc = tw_warc_reader_next(r, &rec)) == 1)
            n++;
        assert_int_equal(rc, 0);
        tw_warc_reader_free(r);
    }
    /* Garbage appended after whole records (a crash on a filesystem that zero-fills) is cut too. */
    uint8_t *zeros = calloc(1, len + 512);
    memcpy(zeros, data, len);
    write_file(torn, zeros, len + 512);
    uint64_t good;
    assert_int_equal(tw_warc_repair(torn, &good), 1);
    assert_int_equal(good, len);
    assert_int_equal(tw_warc_repair(torn, &good), 0);
    assert_int_equal(good, len);
    free(zeros);
    free(data);
    free(path);
    remove_tree(dir);
}

static void reader_reports_torn_and_corrupt_data(void **state)
{
    (void)state;
    char *dir = make_tmpdir();
    char *path = write_samples(dir);
    size_t len;
    uint8_t *data = read_file(path, &len);
    tw_warc_reader *r;
    tw_warc_record rec;

    assert_int_equal(tw_warc_reader_new(data, len - 1, 0, &r), 0);
    int rc;
    while ((rc = tw_warc_reader_next(r, &rec)) == 1) {}
    assert_int_equal(rc, TW_WARC_ETORN);
    assert_int_equal(tw_warc_reader_next(r, &rec), TW_WARC_ETORN); /* sticky */
    tw_warc_reader_free(r);

    data[len - 5] ^= 0x55; /* inside the last member's CRC */
    assert_int_equal(tw_warc_reader_new(data, len, 0, &r), 0);
    while ((rc = tw_warc_reader_next(r, &rec)) == 1) {}
    assert_int_equal(rc, TW_WARC_EFORMAT);
    tw_warc_reader_free(r);

    free(data);
    free(path);
    remove_tree(dir);
}

#define PLAIN_BODY "hello"
#define PLAIN_RECORD(digest)                                                                    \
    "WARC/1.1\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:x>\r\n"                      \
    "WARC-Block-Digest: " digest "\r\nX-Folded: a\r\n  b\r\nContent-Length: 5\r\n\r\n" PLAIN_BODY \
    "\r\n\r\n"

static void plain_streams_parse_and_digests_are_checked(void **state)
{
    (void)state;
    char good_digest[38];
    tw_warc_sha1_label(PLAIN_BODY, 5, good_digest);
    assert_string_equal(good_digest, "sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N"); /* sha1("hello") */
    const char *stream = PLAIN_RECORD("sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N")
        PLAIN_RECORD("sha1:aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d") /* hex form */
        PLAIN_RECORD("sha1:AAAAMHO4YXUKFWV63YHTWSBM3GXKSQ2N") PLAIN_RECORD("md5:XYZ")
        "WARC/1.1\r\nContent-Type: text/plain\r\n" /* not HTTP: the payload is the block */
        "WARC-Payload-Digest: sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n";
    tw_warc_reader *r;
    tw_warc_record rec;
    assert_int_equal(tw_warc_reader_new(stream, strlen(stream), 0, &r), 0);
    assert_int_equal(tw_warc_reader_next(r, &rec), 1);
    assert_string_equal(FIELD(rec, "x-folded"), "a    b");
    assert_int_equal(rec.block_len, 5);
    assert_memory_equal(rec.block, PLAIN_BODY, 5);
    assert_int_equal(tw_warc_record_check_digests(&rec), 0);
    assert_int_equal(tw_warc_reader_next(r, &rec), 1);
    assert_int_equal(tw_warc_record_check_digests(&rec), 0);
    assert_int_equal(tw_warc_reader_next(r, &rec), 1);
    assert_int_equal(tw_warc_record_check_digests(&rec), TW_WARC_EDIGEST);
    assert_int_equal(tw_warc_reader_next(r, &rec), 1);
    assert_int_equal(tw_warc_record_check_digests(&rec), TW_WARC_EALGO);
    assert_int_equal(tw_warc_reader_next(r, &rec), 1);
    assert_null(FIELD(rec, "WARC-Block-Digest"));
    assert_int_equal(tw_warc_record_check_digests(&rec), 0);
    assert_int_equal(tw_warc_reader_next(r, &rec), 0);
    tw_warc_reader_free(r);

    /* cut short anywhere: torn, never a crash */
    size_t one = strlen(PLAIN_RECORD("sha1:VL2MMHO4YXUKFWV63YHTWSBM3GXKSQ2N"));
    for (size_t cut = 1; cut < one; cut++) {
        assert_int_equal(tw_warc_reader_new(stream, cut, 0, &r), 0);
        int rc = tw_warc_reader_next(r, &rec);
        assert_int_equal(rc, TW_WARC_ETORN);
        tw_warc_reader_free(r);
    }
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\n\r\n",
        "WARC/1.1\r\nNo colon here\r\nContent-Length: 0\r\n\r\n\r\n\r\n",
        "WARC/1.1\r\nContent-Length: 1x\r\n\r\nx\r\n\r\n",
        "WARC/1.1\r\nWARC-Type: x\r\n\r\n\r\n\r\n", /* no Content-Length */
        "WARC/1.1\r\nContent-Length: 1\r\n\r\nxyz\r\n",
        "WARC/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tw_warc_reader_new(bad[i], strlen(bad[i]), 0, &r), 0);
        int rc = tw_warc_reader_next(r, &rec);
        assert_true(rc == TW_WARC_EFORMAT || rc == TW_WARC_ETOOBIG);
        tw_warc_reader_free(r);
    }
}

/* ------------------------------------------------------------------ the independent reader (npm warcio) */

/* warc_check on one path. */
static int warc_check(const char *path)
{
    char *words;
    assert_true(asprintf(&words, "'%s'", path) > 0);
    int rc = warcio_check(words);
    free(words);
    return rc;
}

static void warcio_reads_every_file_and_confirms_the_digests(void **state)
{
    (void)state;
    warcio_require();
    char *dir = make_tmpdir();
    free(write_samples(dir));
    free(write_samples(dir));
    tw_warc_options o = {.max_file_bytes = 2048};
    tw_warc *w;
    assert_int_equal(tw_warc_open(dir, &o, &w), 0);
    for (int i = 0; i < 12; i++) {
        tw_warc_exchange x = to_exchange(&samples[(size_t)i % NSAMPLES], 1795583700 + i);
        assert_int_equal(tw_warc_write_exchange(w, &x), 0);
    }
    assert_true(tw_warc_file_count(w) > 1);
    assert_int_equal(tw_warc_close(w), 0);
    char names[64][WARCIO_PATH];
    int n = warcio_list(dir, names, 64);
    assert_true(n > 3);
    for (int i = 0; i < n; i++)
        assert_int_equal(warc_check(names[i]), 0);
    remove_tree(dir);
}

/* Rewrites the first response record of path with a wrong payload digest, as a new valid gzip member. */
static void corrupt_payload_digest(const char *path, const char *out_path)
{
    size_t len;
    uint8_t *data = read_file(path, &len);
    tw_warc_reader *r;
    tw_warc_record rec;
    assert_int_equal(tw_warc_reader_new(data, len, 0, &r), 0);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
    FILE *f = fopen(out_path, "wb");
    assert_non_null(f);
    bool done = false;
    uint8_t *plain = malloc(1 << 20), *packed = malloc(1 << 21);
    while (tw_warc_reader_next(r, &rec) == 1) {
        size_t mlen = rec.end_offset - rec.offset;
        if (!done && strcmp(FIELD(rec, "WARC-Type"), "response") == 0) {
            size_t plen;
            assert_int_equal(libdeflate_gzip_decompress(d, data + rec.offset, mlen, plain, 1 << 20, &plen),
                             LIBDEFLATE_SUCCESS);
            uint8_t *at = memmem(plain, plen, "WARC-Payload-Digest: sha1:", 26);
            assert_non_null(at);
            at[26] = at[26] == 'A' ? 'B' : 'A';
            size_t clen = libdeflate_gzip_compress(c, plain, plen, packed, 1 << 21);
            assert_true(clen > 0);
            fwrite(packed, 1, clen, f);
            done = true;
        } else {
            fwrite(data + rec.offset, 1, mlen, f);
        }
    }
    assert_true(done);
    fclose(f);
    free(plain);
    free(packed);
    libdeflate_free_compressor(c);
    libdeflate_free_decompressor(d);
    tw_warc_reader_free(r);
    free(data);
}

static void warcio_check_fails_on_a_wrong_digest(void **state)
{
    (void)state;
    warcio_require();
    char *dir = make_tmpdir();
    char *path = write_samples(dir);
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.warc.gz", dir);
    corrupt_payload_digest(path, bad);

    /* our reader sees the same damage */
    tw_warc_reader *r;
    tw_warc_record rec;
    assert_int_equal(tw_warc_reader_open(bad, &r), 0);
    int mismatches = 0;
    while (tw_warc_reader_next(r, &rec) == 1)
        mismatches += tw_warc_record_check_digests(&rec) == TW_WARC_EDIGEST;
    assert_int_equal(mismatches, 1);
    tw_warc_reader_free(r);

    char *words;
    assert_true(asprintf(&words, "'%s' 2>/dev/null >/dev/null", bad) > 0);
    assert_int_equal(warcio_check(words), 1);
    free(words);
    assert_int_equal(warc_check(path), 0); /* the untouched file still passes */
    free(path);
    remove_tree(dir);
}

/* Records compressed with learned codes (HTML, JSON, random bytes, by turns) read back in warcio too. */
static void warcio_reads_records_compressed_with_learned_codes(void **state)
{
    (void)state;
    warcio_require();
    char *dir = make_tmpdir();
    tw_warc *w;
    assert_int_equal(tw_warc_open(dir, NULL, &w), 0);
    static const char *heads[] = {"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n",
                                  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n",
                                  "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\n\r\n"};
    uint8_t *body = malloc(20000);
    assert_non_null(body);
    for (int i = 0; i < 30; i++) {
        tw_warc_exchange x = {0};
        x.target_uri = "http://example.com/learned";
        x.request = "GET /learned HTTP/1.1\r\nHost: example.com\r\n\r\n";
        x.request_len = strlen(x.request);
        x.response_head = heads[i % 3 == 2 && i > 15 ? 2 : i % 2];
        x.response_head_len = strlen(x.response_head);
        x.body_len = 3000 + 571 * (size_t)i;
        make_body(body, x.body_len, i % 3 == 2 && i > 15 ? 2 : i % 2, (uint64_t)i + 7);
        x.body = body;
        x.date.tv_sec = 1795583700 + i;
        assert_int_equal(tw_warc_write_exchange(w, &x), 0);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s", tw_warc_path(w));
    assert_int_equal(tw_warc_close(w), 0);
    assert_int_equal(warc_check(path), 0);
    free(body);
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha1_labels_are_base32_of_known_vectors),
        cmocka_unit_test(sha1_label_pairs_match_single_labels),
        cmocka_unit_test(file_starts_with_warcinfo_describing_the_crawl),
        cmocka_unit_test(every_exchange_reads_back_as_linked_request_and_response),
        cmocka_unit_test(each_record_is_its_own_gzip_member),
        cmocka_unit_test(rotation_starts_new_files_each_with_warcinfo),
        cmocka_unit_test(an_exchange_larger_than_the_limit_still_gets_written),
        cmocka_unit_test(a_second_open_makes_a_new_file_and_leaves_the_first_alone),
        cmocka_unit_test(open_fails_when_the_directory_is_missing),
        cmocka_unit_test(bad_exchanges_are_refused),
        cmocka_unit_test(encoded_exchanges_can_be_written_by_the_writer),
        cmocka_unit_test(every_length_and_level_round_trips),
        cmocka_unit_test(learned_codes_follow_the_kind_of_content),
        cmocka_unit_test(learned_codes_compress_nearly_as_well_as_per_record_codes),
        cmocka_unit_test(repair_cuts_a_torn_tail_wherever_the_file_stops),
        cmocka_unit_test(reader_reports_torn_and_corrupt_data),
        cmocka_unit_test(plain_streams_parse_and_digests_are_checked),
        cmocka_unit_test(warcio_reads_every_file_and_confirms_the_digests),
        cmocka_unit_test(warcio_check_fails_on_a_wrong_digest),
        cmocka_unit_test(warcio_reads_records_compressed_with_learned_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
