/* bench_url.c: normalizations per second for the hrefs a crawl meets, ours against a curl_url() round trip. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "url.h"

#define NLINKS 4096
#define ROUNDS 200

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The six href forms of /work/shared/bench/gensite.py, plus its off-site link. */
static void make_hrefs(char (*hrefs)[96], int absolute_only)
{
    unsigned seed = 1;
    for (int i = 0; i < NLINKS; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned t = (seed >> 8) % 10000, form = (seed >> 4) % (absolute_only ? 2 : 7);
        switch (absolute_only ? (form ? 5 : 0) : form) {
        case 0: snprintf(hrefs[i], 96, "http://127.0.0.1:8080/p/%u.html", t); break;
        case 1: snprintf(hrefs[i], 96, "/p/%u.html", t); break;
        case 2: snprintf(hrefs[i], 96, "%u.html", t); break;
        case 3: snprintf(hrefs[i], 96, "../p/./%u.html", t); break;
        case 4: snprintf(hrefs[i], 96, "/p/%u.html#s%d", t, i % 20); break;
        case 5: snprintf(hrefs[i], 96, "HTTP://127.0.0.1:8080/p/%u.html", t); break;
        default: snprintf(hrefs[i], 96, "http://example.invalid/outside/%u", t); break;
        }
    }
}

static double run_ours(char (*hrefs)[96], const char *base)
{
    size_t sum = 0;
    double t0 = now();
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < NLINKS; i++) {
            char *out;
            if (tw_url_normalize(hrefs[i], base, &out) == 0) {
                sum += strlen(out);
                free(out);
            }
        }
    double dt = now() - t0;
    if (sum == 0)
        fprintf(stderr, "no URL normalized\n");
    return (double)NLINKS * ROUNDS / dt;
}

static double run_prepared(char (*hrefs)[96], const char *base)
{
    struct tw_url_base b;
    size_t sum = 0;
    if (tw_url_base_init(&b, base))
        return 0;
    double t0 = now();
    for (int r = 0; r < ROUNDS; r++)
        for (int i = 0; i < NLINKS; i++) {
            char *out;
            if (tw_url_resolve(&b, hrefs[i], strlen(hrefs[i]), &out) == 0) {
                sum += strlen(out);
                free(out);
            }
        }
    double dt = now() - t0;
    tw_url_base_free(&b);
    if (sum == 0)
        fprintf(stderr, "no URL normalized\n");
    return (double)NLINKS * ROUNDS / dt;
}

/* What using libcurl's URL API for the same job costs (it does not apply WHATWG rules). */
static double run_curl(char (*hrefs)[96], const char *base)
{
    size_t sum = 0;
    double t0 = now();
    for (int r = 0; r < ROUNDS / 4; r++)
        for (int i = 0; i < NLINKS; i++) {
            CURLU *h = curl_url();
            char *out = NULL;
            curl_url_set(h, CURLUPART_URL, base, 0);
            if (curl_url_set(h, CURLUPART_URL, hrefs[i], 0) == CURLUE_OK &&
                curl_url_set(h, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
                curl_url_get(h, CURLUPART_URL, &out, CURLU_NO_DEFAULT_PORT) == CURLUE_OK)
                sum += strlen(out);
            curl_free(out);
            curl_url_cleanup(h);
        }
    double dt = now() - t0;
    if (sum == 0)
        fprintf(stderr, "no URL resolved by curl\n");
    return (double)NLINKS * (ROUNDS / 4) / dt;
}

static double run_host_key(void)
{
    char key[64];
    size_t sum = 0;
    double t0 = now();
    for (int i = 0; i < NLINKS * ROUNDS; i++)
        if (tw_url_host_key("http://127.0.0.1:8080/p/1234.html", key, sizeof key) == 0)
            sum += tw_url_same_origin("http://127.0.0.1:8080/p/1234.html", "http://127.0.0.1:8080/");
    double dt = now() - t0;
    return sum ? (double)NLINKS * ROUNDS / dt : 0;
}

int main(void)
{
    static char mixed[NLINKS][96], absolute[NLINKS][96];
    const char *base = "http://127.0.0.1:8080/p/123.html";
    make_hrefs(mixed, 0);
    make_hrefs(absolute, 1);
    printf("tw_url_normalize, gensite href mix:      %.0f normalizations/s\n", run_ours(mixed, base));
    printf("tw_url_normalize, absolute hrefs:        %.0f normalizations/s\n", run_ours(absolute, base));
    printf("tw_url_resolve, prepared base, mix:      %.0f normalizations/s\n", run_prepared(mixed, base));
    printf("tw_url_resolve, prepared base, absolute: %.0f normalizations/s\n", run_prepared(absolute, base));
    printf("curl_url round trip, gensite href mix:   %.0f resolutions/s\n", run_curl(mixed, base));
    printf("tw_url_host_key + tw_url_same_origin:    %.0f pairs/s\n", run_host_key());
    return 0;
}
