/* bench_warc.c - WARC writing speed: igzip levels 0..3 beside libdeflate 1, SHA-1 pairs, whole encodes. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <isa-l.h>
#include <libdeflate.h>
#include <openssl/evp.h>

#include "warc.h"

/*
 * Usage: build/bench/bench_warc [SITE_DIR] [ROUNDS] [encode]
 * SITE_DIR holds the pages of /work/shared/bench/gensite.py
 * (python3 /work/shared/bench/gensite.py --pages 2000 --out /tmp/warcsite; the default).
 * Each page becomes one exchange (a 200 with a typical request and response head).
 * Figures are per second of this thread's CPU time (so other load on the machine does
 * not skew them; kernel time of write() counts), MB/s of page bytes (1 MB = 10^6 bytes),
 * pages/s and microseconds of CPU per page:
 *   compress  - one gzip member of each page (with a record-header-sized prefix) alone:
 *               igzip levels 0..3 (isal_deflate_stateless, what warc.c uses) beside
 *               libdeflate level 1 (what warc.c used before), so the choice can be re-checked,
 *               and igzip level 0 with a code learned from the first pages (warc.c's way)
 *   sha1      - the two SHA-1s of a response record (block and payload): OpenSSL EVP one
 *               after the other, and tw_warc_sha1_label_pair (two SHA-NI lanes side by
 *               side where the CPU has them: what the encoder uses)
 *   encode    - tw_warc_encode_exchange at encoder levels 1, 2, 6 (level 1: igzip 0 with
 *               codes learned per kind of record; 2: igzip 2, a code built per record, as
 *               level 1 did before; 6: igzip 3; see warc.h): two records, two SHA-1s, two
 *               gzip members, and how many codes the encoder learned
 *   write     - tw_warc_write_exchange at the default level into a temporary directory
 * and the size of the output as a share of the pages. With a third argument "encode",
 * only the encode at the default level runs (for profiling and quick A/B runs).
 */

typedef struct page {
    uint8_t *data;
    size_t len;
    char uri[64];
    char request[256], head[512]; /* built before the clock starts */
} page;

/* CPU seconds of this thread: throughput per core, whatever else the machine runs. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_heads(page *p)
{
    snprintf(p->request, sizeof p->request,
             "GET %s HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: trawl/0.1\r\nAccept: */*\r\n"
             "Accept-Encoding: gzip, br\r\n\r\n", p->uri + 20);
    snprintf(p->head, sizeof p->head,
             "HTTP/1.1 200 OK\r\nDate: Tue, 24 Nov 2026 05:15:00 GMT\r\nServer: nginx\r\n"
             "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
             "Last-Modified: Mon, 23 Nov 2026 10:00:00 GMT\r\nCache-Control: max-age=600\r\n\r\n", p->len);
}

static int load_pages(const char *site, page **out)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/p", site);
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    page *pages = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strstr(e->d_name, ".html"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            pages = realloc(pages, (size_t)cap * sizeof *pages);
            if (!pages)
                exit(1);
        }
        fseek(f, 0, SEEK_END);
        long len = ftell(f);
        fseek(f, 0, SEEK_SET);
        pages[n].data = malloc((size_t)len + 1);
        if (!pages[n].data || fread(pages[n].data, 1, (size_t)len, f) != (size_t)len)
            exit(1);
        pages[n].len = (size_t)len;
        snprintf(pages[n].uri, sizeof pages[n].uri, "http://bench.example/p/%.40s", e->d_name);
        make_heads(&pages[n]);
        fclose(f);
        n++;
    }
    closedir(d);
    *out = pages;
    return n;
}

static tw_warc_exchange exchange_of(const page *p, struct timespec date)
{
    tw_warc_exchange x = {0};
    x.target_uri = p->uri;
    x.ip_address = "192.0.2.10";
    x.date = date;
    x.request = p->request;
    x.request_len = strlen(p->request);
    x.response_head = p->head;
    x.response_head_len = strlen(p->head);
    x.body = p->data;
    x.body_len = p->len;
    return x;
}

static void report(const char *what, const char *how, double dt, uint64_t bytes, uint64_t pages, uint64_t packed)
{
    printf("%-9s %-28s %7.1f MB/s %8.0f pages/s %6.1f us/page", what, how, (double)bytes / dt / 1e6,
           (double)pages / dt, dt / (double)pages * 1e6);
    if (packed)
        printf("   output %.1f%% of pages", 100.0 * (double)packed / (double)bytes);
    printf("\n");
}

/*
 * Compression alone: each page behind a record-header-sized prefix as one gzip member,
 * by igzip at isal_level (0..3) or, with isal_level < 0, by libdeflate at level 1.
 * With learn, level 0 uses a code learned (before the clock starts) from the first
 * 8 pages instead of igzip's generic one: what the encoder's learned codes can reach.
 */
static void bench_compress(const page *pages, int n, int rounds, int isal_level, bool learn)
{
    static const uint32_t level_buf_sizes[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                               ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
    struct libdeflate_compressor *c = isal_level < 0 ? libdeflate_alloc_compressor(1) : NULL;
    uint32_t lbs = isal_level < 0 ? 0 : level_buf_sizes[isal_level];
    uint8_t *level_buf = lbs ? malloc(lbs) : NULL;
    struct isal_zstream *z = malloc(sizeof *z);
    size_t cap = 1 << 20;
    uint8_t *in = malloc(cap), *out = malloc(cap * 2);
    struct isal_huff_histogram *hist = calloc(1, sizeof *hist);
    struct isal_hufftables *code = malloc(sizeof *code);
    if (!z || !in || !out || (lbs && !level_buf) || (isal_level < 0 && !c) || !hist || !code)
        exit(1);
    for (int i = 0; learn && i < n && i < 8; i++)
        isal_update_histogram(pages[i].data, (int)pages[i].len, hist);
    if (learn && isal_create_hufftables(code, hist))
        exit(1);
    static const char prefix[] =
        "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:0b4a7f8e-2c1d-4e5f-9a0b-1c2d3e4f5a6b>\r\n"
        "WARC-Date: 2026-11-24T05:15:00.123456Z\r\nWARC-Target-URI: http://bench.example/p/0001.html\r\n"
        "WARC-IP-Address: 192.0.2.10\r\nWARC-Concurrent-To: <urn:uuid:7c6d5e4f-3a2b-4c1d-8e0f-a1b2c3d4e5f6>\r\n"
        "WARC-Block-Digest: sha1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567\r\n"
        "WARC-Payload-Digest: sha1:QRSTUVWXYZ234567ABCDEFGHIJKLMNOP\r\n"
        "Content-Type: application/http;msgtype=response\r\nContent-Length: 16384\r\n\r\n";
    uint64_t bytes = 0, packed = 0;
    double t0 = now();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            const page *p = &pages[i];
            size_t hl = strlen(p->head), len = sizeof prefix - 1 + hl + p->len;
            memcpy(in, prefix, sizeof prefix - 1);
            memcpy(in + sizeof prefix - 1, p->head, hl);
            memcpy(in + sizeof prefix - 1 + hl, p->data, p->len);
            size_t got;
            if (isal_level < 0) {
                got = libdeflate_gzip_compress(c, in, len, out, cap * 2);
            } else {
                isal_deflate_stateless_init(z);
                if (learn)
                    isal_deflate_set_hufftables(z, code, IGZIP_HUFFTABLE_CUSTOM);
                z->level = (uint32_t)isal_level;
                z->level_buf = level_buf;
                z->level_buf_size = lbs;
                z->gzip_flag = IGZIP_GZIP;
                z->end_of_stream = 1;
                z->next_in = in;
                z->avail_in = (uint32_t)len;
                z->next_out = out;
                z->avail_out = (uint32_t)(cap * 2);
                if (isal_deflate_stateless(z) != COMP_OK)
                    exit(1);
                got = z->total_out;
            }
            if (!got)
                exit(1);
            bytes += p->len;
            packed += got;
        }
    double dt = now() - t0;
    char how[32];
    if (isal_level < 0)
        snprintf(how, sizeof how, "libdeflate level 1");
    else
        snprintf(how, sizeof how, "igzip level %d%s", isal_level, learn ? ", learned code" : "");
    report("compress", how, dt, bytes, (uint64_t)n * (uint64_t)rounds, packed);
    if (c)
        libdeflate_free_compressor(c);
    free(level_buf);
    free(hist);
    free(code);
    free(z);
    free(in);
    free(out);
}

/* The two digests of a response record: the block (head and body), then the payload (body). */
static void bench_sha1(const page *pages, int n, int rounds)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA1", NULL);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!md || !ctx)
        exit(1);
    uint64_t bytes = 0;
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned out_len;
    double t0 = now();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            const page *p = &pages[i];
            if (!EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, p->head, strlen(p->head)) ||
                !EVP_DigestUpdate(ctx, p->data, p->len) || !EVP_DigestFinal_ex(ctx, out, &out_len) ||
                !EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, p->data, p->len) ||
                !EVP_DigestFinal_ex(ctx, out, &out_len))
                exit(1);
            bytes += p->len;
        }
    double dt = now() - t0;
    report("sha1", "EVP, one by one", dt, bytes, (uint64_t)n * (uint64_t)rounds, 0);
    /* The encoder digests a block where it lies in the record: head and body in one buffer. */
    uint8_t **blocks = malloc((size_t)n * sizeof *blocks);
    if (!blocks)
        exit(1);
    for (int i = 0; i < n; i++) {
        size_t hl = strlen(pages[i].head);
        if (!(blocks[i] = malloc(hl + pages[i].len)))
            exit(1);
        memcpy(blocks[i], pages[i].head, hl);
        memcpy(blocks[i] + hl, pages[i].data, pages[i].len);
    }
    char la[38], lb[38];
    t0 = now();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            size_t hl = strlen(pages[i].head);
            tw_warc_sha1_label_pair(blocks[i], hl + pages[i].len, blocks[i] + hl, pages[i].len, la, lb);
        }
    dt = now() - t0;
    report("sha1", "tw_warc_sha1_label_pair", dt, bytes, (uint64_t)n * (uint64_t)rounds, 0);
    for (int i = 0; i < n; i++)
        free(blocks[i]);
    free(blocks);
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
}

static void bench_encode(const page *pages, int n, int rounds, int level)
{
    tw_warc_encoder *e;
    if (tw_warc_encoder_new(level, &e))
        exit(1);
    struct timespec date;
    clock_gettime(CLOCK_REALTIME, &date);
    uint64_t bytes = 0, packed = 0;
    double t0 = now();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            tw_warc_exchange x = exchange_of(&pages[i], date);
            const uint8_t *out;
            size_t len;
            if (tw_warc_encode_exchange(e, &x, &out, &len))
                exit(1);
            bytes += x.body_len;
            packed += len;
        }
    double dt = now() - t0;
    tw_warc_encoder_stats st;
    tw_warc_encoder_get_stats(e, &st);
    char how[40];
    snprintf(how, sizeof how, "level %d (%llu learned)", level, (unsigned long long)st.learned);
    report("encode", how, dt, bytes, (uint64_t)n * (uint64_t)rounds, packed);
    tw_warc_encoder_free(e);
}

static void bench_write(const page *pages, int n, int rounds, int level)
{
    char dir[] = "/tmp/bench_warc.XXXXXX";
    if (!mkdtemp(dir))
        exit(1);
    tw_warc_options o = {.level = level};
    tw_warc *w;
    if (tw_warc_open(dir, &o, &w))
        exit(1);
    struct timespec date;
    clock_gettime(CLOCK_REALTIME, &date);
    uint64_t bytes = 0;
    double t0 = now();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            tw_warc_exchange x = exchange_of(&pages[i], date);
            if (tw_warc_write_exchange(w, &x))
                exit(1);
            bytes += x.body_len;
        }
    double dt = now() - t0;
    char path[4200];
    snprintf(path, sizeof path, "%s", tw_warc_path(w));
    tw_warc_close(w);
    char how[32];
    snprintf(how, sizeof how, "level %d", level);
    report("write", how, dt, bytes, (uint64_t)n * (uint64_t)rounds, 0);
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    const char *site = argc > 1 ? argv[1] : "/tmp/warcsite";
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    page *pages;
    int n = load_pages(site, &pages);
    if (n <= 0) {
        fprintf(stderr, "no pages in %s/p: run python3 /work/shared/bench/gensite.py --pages 2000 --out %s\n",
                site, site);
        return 1;
    }
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total += pages[i].len;
    printf("%d pages, %.1f KB on average, %d rounds\n", n, (double)total / n / 1e3, rounds);
    if (argc > 3 && strcmp(argv[3], "encode") == 0) {
        bench_encode(pages, n, rounds, TW_WARC_DEFAULT_LEVEL);
        for (int i = 0; i < n; i++)
            free(pages[i].data);
        free(pages);
        return 0;
    }
    bench_compress(pages, n, rounds, -1, false);
    for (int level = 0; level <= 3; level++)
        bench_compress(pages, n, rounds, level, false);
    bench_compress(pages, n, rounds, 0, true);
    bench_sha1(pages, n, rounds);
    static const int levels[] = {1, 2, 6};
    for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
        bench_encode(pages, n, rounds, levels[i]);
    bench_write(pages, n, rounds, TW_WARC_DEFAULT_LEVEL);
    for (int i = 0; i < n; i++)
        free(pages[i].data);
    free(pages);
    return 0;
}
