/* bench_frontier.c: frontier memory per URL and adds/nexts per second at 1M and 10M URLs over 1000 hosts. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontier.h"

#define HOSTS 1000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes the heap holds (glibc's count of allocated bytes, chunk overhead included). */
static size_t heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static int url_of(char *buf, size_t n, long i)
{
    return snprintf(buf, n, "http://host%ld.example/p/%ld.html", i % HOSTS, i / HOSTS);
}

/* Adds n URLs, then hands them all out and ends them; prints the figures. */
static void run(long n)
{
    size_t heap0 = heap_used();
    tw_frontier *f = tw_frontier_new(1 << 30, 0, false);
    char url[128];
    size_t url_bytes = 0;
    double t0 = now(), first_tenth = 0, last_tenth = 0, mark = t0;
    for (long i = 0; i < n; i++) {
        url_bytes += (size_t)url_of(url, sizeof url, i) + 1;
        if (tw_frontier_add(f, url, 1, "http://host0.example/", "http://host0.example/") != 1) {
            fprintf(stderr, "add failed at %ld\n", i);
            exit(1);
        }
        if (i + 1 == n / 10) {
            first_tenth = now() - t0;
        } else if (i + 1 == n - n / 10)
            mark = now();
    }
    double t_add = now() - t0;
    last_tenth = now() - mark;
    tw_frontier_stats st;
    tw_frontier_get_stats(f, 0, &st);
    size_t heap1 = heap_used();
    double seen_per = (double)st.seen_bytes / (double)n;
    double total_per = (double)(heap1 - heap0) / (double)n;
    double queued_per = total_per - seen_per;

    /* Hand out and end everything. */
    t0 = now();
    long got = 0;
    tw_frontier_item it;
    char host[64];
    while (tw_frontier_next(f, 0, &it, host, sizeof host, NULL) == TW_FRONTIER_PAGE) {
        tw_frontier_item_free(&it);
        tw_frontier_done(f, host);
        got++;
    }
    double t_next = now() - t0;
    if (got != n) {
        fprintf(stderr, "handed out %ld of %ld\n", got, n);
        exit(1);
    }
    /* Seen lookups of URLs already there (the duplicate links a crawl mostly meets). */
    t0 = now();
    long dup = 0;
    for (long i = 0; i < n; i += 7) {
        url_of(url, sizeof url, i);
        dup += tw_frontier_add(f, url, 1, NULL, NULL) == 0;
    }
    double t_dup = now() - t0;
    tw_frontier_free(f);

    printf("%ld URLs over %d hosts (mean URL %.1f bytes with NUL)\n", n, HOSTS, (double)url_bytes / (double)n);
    printf("  seen set:        %.1f bytes/URL (table %zu bytes, load %.2f)\n", seen_per, st.seen_bytes,
           (double)n * 8 / (double)st.seen_bytes);
    printf("  queued URL:      %.1f bytes/URL (heap growth minus the seen set; URL text included)\n", queued_per);
    printf("  add:             %.2f M/s  (first tenth %.2f M/s, last tenth %.2f M/s)\n", n / t_add / 1e6,
           n / 10 / first_tenth / 1e6, n / 10 / last_tenth / 1e6);
    printf("  next+done+free:  %.2f M/s\n", n / t_next / 1e6);
    printf("  add of a seen URL: %.2f M/s (%ld checked)\n", dup / t_dup / 1e6, dup);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        for (int i = 1; i < argc; i++)
            run(atol(argv[i]));
        return 0;
    }
    run(1000000);
    run(10000000);
    return 0;
}
