/* fuzz_robots.c - libFuzzer target: parse robots.txt bytes, then query paths taken from the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "robots.h"

/*
 * The input is "body NUL path": the body is parsed for two agents and the
 * path (or, without a NUL, the body's first line) is checked, along with
 * a few fixed paths, so both the parser and the matcher see hostile bytes.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body = (const char *)data;
    size_t body_len = size, path_len;
    const char *path;
    const char *nul = memchr(body, '\0', size);
    if (nul) {
        body_len = (size_t)(nul - body);
        path = nul + 1;
        path_len = size - body_len - 1;
    } else {
        const char *lf = memchr(body, '\n', size);
        path = body;
        path_len = lf ? (size_t)(lf - body) : size;
    }
    static const char *const agents[] = {"FooBot", NULL};
    static const char *const fixed[] = {"/", "", "/robots.txt", "/a/b?c=d", "/%E3%83%84", "/*$"};
    for (size_t a = 0; a < 2; a++) {
        int status = size ? 200 + (data[0] % 5) * 100 : 200;
        tw_robots *r = tw_robots_from_status(status, body, body_len, agents[a]);
        if (!r) continue;
        (void)tw_robots_allowed_n(r, path, path_len);
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) (void)tw_robots_allowed(r, fixed[i]);
        (void)tw_robots_crawl_delay(r);
        for (size_t i = 0; i < tw_robots_sitemap_count(r); i++)
            if (!tw_robots_sitemap(r, i)) abort();
        tw_robots_free(r);
    }
    return 0;
}
