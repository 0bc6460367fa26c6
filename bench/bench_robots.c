/* bench_robots.c - measures robots.txt parsing and tw_robots_allowed() checks per second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "robots.h"

/* Appends printf output to a growing buffer. */
static void add(char **buf, size_t *len, size_t *cap, const char *fmt, const char *arg, int n)
{
    if (*len + 512 > *cap) {
        *cap = (*cap + 512) * 2;
        *buf = realloc(*buf, *cap);
        if (!*buf) exit(1);
    }
    *len += (size_t)snprintf(*buf + *len, *cap - *len, fmt, arg, n);
}

/*
 * A robots.txt shaped like those of large sites: a `*` group and two
 * bot-specific groups, about 200 rules, a third of them with `*` or `$`.
 */
static char *make_robots(size_t *len_out)
{
    static const char *const sections[] = {"search", "account", "cart", "checkout", "api",
                                           "admin",  "user",    "tag",  "print",    "share"};
    char *b = NULL;
    size_t len = 0, cap = 0;
    add(&b, &len, &cap, "# robots.txt for %s (%d)\nUser-agent: Googlebot\nDisallow: /nogoogle/\n\n",
        "www.example.com", 1);
    add(&b, &len, &cap, "User-agent: %s\nCrawl-delay: %d\n", "*", 1);
    for (int i = 0; i < 190; i++) {
        const char *s = sections[i % 10];
        switch (i % 6) {
        case 0: add(&b, &len, &cap, "Disallow: /%s/private%d/\n", s, i); break;
        case 1: add(&b, &len, &cap, "Disallow: /*?%s=%d\n", s, i); break;
        case 2: add(&b, &len, &cap, "Disallow: /%s/*/edit%d$\n", s, i); break;
        case 3: add(&b, &len, &cap, "Allow: /%s/public%d/\n", s, i); break;
        case 4: add(&b, &len, &cap, "Disallow: /%s/%d/*.pdf$\n", s, i); break;
        default: add(&b, &len, &cap, "Disallow: /%s-archive-%d\n", s, i); break;
        }
    }
    add(&b, &len, &cap, "Disallow: /*%s*\nSitemap: https://www.example.com/sitemap%d.xml\n",
        "sessionid=", 1);
    add(&b, &len, &cap, "\nUser-agent: %s\nDisallow: /\nAllow: /public%d\n", "BadBot", 2);
    *len_out = len;
    return b;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
    size_t len;
    char *txt = make_robots(&len);

    const int parses = 2000;
    double t0 = now_s();
    for (int i = 0; i < parses; i++) tw_robots_free(tw_robots_parse(txt, len, "trawl"));
    double parse_s = now_s() - t0;

    tw_robots *r = tw_robots_parse(txt, len, "trawl");
    if (!r) return 1;

    /* Realistic URL paths: mostly allowed deep pages, some hitting rules late in the list. */
    static const char *const paths[] = {
        "/",
        "/products/shoes/running/item-12345.html",
        "/blog/2024/05/how-to-crawl-politely?utm_source=feed&utm_medium=rss",
        "/search/results?q=robots&page=2",
        "/user/alice/profile",
        "/user/alice/edit176$",
        "/tag/c/private186/index.html",
        "/admin/5/report.pdf",
        "/share/public159/article",
        "/en-us/docs/Web/HTTP/Headers/Retry-After",
        "/catalog/item?id=998877&sessionid=abcdef0123456789",
        "/%E3%83%84/%E3%83%84/page",
        "/static/js/app.3f9c2b.js",
        "/print-archive-185/page/7",
        "/news/world/europe/2024/11/24/some-long-headline-with-many-words-in-it.html",
        "/forum/thread/123456?sort=newest&page=40",
    };
    const size_t npaths = sizeof paths / sizeof paths[0];
    size_t lens[sizeof paths / sizeof paths[0]];
    for (size_t i = 0; i < npaths; i++) lens[i] = strlen(paths[i]);

    const long checks = 4000000;
    long allowed = 0;
    t0 = now_s();
    for (long i = 0; i < checks; i++) {
        size_t k = (size_t)i % npaths;
        allowed += tw_robots_allowed_n(r, paths[k], lens[k]);
    }
    double check_s = now_s() - t0;

    printf("robots.txt: %zu bytes, ~200 rules\n", len);
    printf("parse:   %.1f us per file (%d parses)\n", parse_s / parses * 1e6, parses);
    printf("allowed: %.2f M checks/s (%.0f ns per check; %ld of %ld allowed)\n",
           checks / check_s / 1e6, check_s / checks * 1e9, allowed, checks);
    tw_robots_free(r);
    free(txt);
    return 0;
}
