/* bench_warc.c - measures WARC writing speed (MB/s of pages) at libdeflate levels 1, 3, 6 against zlib's deflate at 6. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libdeflate.h>
#include <zlib.h>

#include "warc.h"

/*
 * Usage: build/bench/bench_warc [SITE_DIR] [ROUNDS]
 * SITE_DIR holds the pages of /work/shared/bench/gensite.py
 * (python3 /work/shared/bench/gensite.py --pages 2000 --out /tmp/warcsite; the default).
 * Each page becomes one exchange (a 200 with a typical request and response head).
 * Figures are MB/s of page bytes (1 MB = 10^6 bytes) per second of this thread's CPU
 * time (so other load on the machine does not skew them; kernel time of write() counts):
 *   compress  - libdeflate_gzip_compress (or zlib deflate) of the records alone
 *   encode    - tw_warc_encode_exchange: record building, two SHA-1s, compression
 *   write     - tw_warc_write_exchange into a temporary directory (encode + write())
 * and the size of the output as a share of the input.
 */

typedef struct page {
    uint8_t *data;
    size_t len;
    char uri[64];
} page;

/* CPU seconds of this thread: throughput per core, whatever else the machine runs. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
        fclose(f);
        n++;
    }
    closedir(d);
    *out = pages;
    return n;
}

static char request[512], head[512];

static tw_warc_exchange exchange_of(const page *p)
{
    snprintf(request, sizeof request,
             "GET %s HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: trawl/0.1\r\nAccept: */*\r\n"
             "Accept-Encoding: gzip, br\r\n\r\n", p->uri + 20);
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nDate: Tue, 24 Nov 2026 05:15:00 GMT\r\nServer: nginx\r\n"
             "Content-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
             "Last-Modified: Mon, 23 Nov 2026 10:00:00 GMT\r\nCache-Control: max-age=600\r\n\r\n", p->len);
    tw_warc_exchange x = {0};
    x.target_uri = p->uri;
    x.ip_address = "192.0.2.10";
    clock_gettime(CLOCK_REALTIME, &x.date);
    x.request = request;
    x.request_len = strlen(request);
    x.response_head = head;
    x.response_head_len = strlen(head);
    x.body = p->data;
    x.body_len = p->len;
    return x;
}

/* Compression alone: each page with a head-sized prefix as one member, libdeflate or zlib. */
static void bench_compress(const page *pages, int n, int rounds, int level, bool zlib_deflate)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    size_t cap = 1 << 20;
    uint8_t *in = malloc(cap), *out = malloc(cap * 2);
    uint64_t bytes = 0, packed = 0;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (zlib_deflate && deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        exit(1);
    double t0 = now();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            tw_warc_exchange x = exchange_of(&pages[i]);
            size_t len = x.response_head_len + x.body_len + 700; /* ~ the WARC header block */
            memset(in, 'W', 700);
            memcpy(in + 700, x.response_head, x.response_head_len);
            memcpy(in + 700 + x.response_head_len, x.body, x.body_len);
            size_t got;
            if (zlib_deflate) {
                deflateReset(&z);
                z.next_in = in;
                z.avail_in = (uInt)len;
                z.next_out = out;
                z.avail_out = (uInt)(cap * 2);
                if (deflate(&z, Z_FINISH) != Z_STREAM_END)
                    exit(1);
                got = z.total_out;
            } else {
                got = libdeflate_gzip_compress(c, in, len, out, cap * 2);
            }
            bytes += x.body_len;
            packed += got;
        }
    double dt = now() - t0;
    printf("compress  %-13s level %d: %8.1f MB/s   output %.1f%% of pages\n",
           zlib_deflate ? "zlib" : "libdeflate", level, (double)bytes / dt / 1e6, 100.0 * (double)packed / (double)bytes);
    if (zlib_deflate)
        deflateEnd(&z);
    libdeflate_free_compressor(c);
    free(in);
    free(out);
}

static void bench_encode(const page *pages, int n, int rounds, int level)
{
    tw_warc_encoder *e;
    if (tw_warc_encoder_new(level, &e))
        exit(1);
    uint64_t bytes = 0, packed = 0;
    double t0 = now();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            tw_warc_exchange x = exchange_of(&pages[i]);
            const uint8_t *out;
            size_t len;
            if (tw_warc_encode_exchange(e, &x, &out, &len))
                exit(1);
            bytes += x.body_len;
            packed += len;
        }
    double dt = now() - t0;
    printf("encode    libdeflate    level %d: %8.1f MB/s   %8.0f pages/s   output %.1f%% of pages\n", level,
           (double)bytes / dt / 1e6, (double)n * rounds / dt, 100.0 * (double)packed / (double)bytes);
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
    uint64_t bytes = 0;
    double t0 = now();
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            tw_warc_exchange x = exchange_of(&pages[i]);
            if (tw_warc_write_exchange(w, &x))
                exit(1);
            bytes += x.body_len;
        }
    double dt = now() - t0;
    char path[4200];
    snprintf(path, sizeof path, "%s", tw_warc_path(w));
    tw_warc_close(w);
    printf("write     libdeflate    level %d: %8.1f MB/s   %8.0f pages/s   (one file in %s)\n", level,
           (double)bytes / dt / 1e6, (double)n * rounds / dt, dir);
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
    static const int levels[] = {1, 3, 6};
    for (size_t i = 0; i < 3; i++)
        bench_compress(pages, n, rounds, levels[i], false);
    bench_compress(pages, n, rounds, 6, true);
    for (size_t i = 0; i < 3; i++)
        bench_encode(pages, n, rounds, levels[i]);
    for (size_t i = 0; i < 3; i++)
        bench_write(pages, n, rounds, levels[i]);
    for (int i = 0; i < n; i++)
        free(pages[i].data);
    free(pages);
    return 0;
}
