/* fuzz_http_headers.c - libFuzzer target: parse raw response heads and call every field helper. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_headers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tw_http_headers *h = NULL;
    int rc = tw_http_headers_parse((const char *)data, size, &h);
    if (rc == TW_HTTP_OK) {
        if (h->status < 100 || h->status > 999 || !h->reason) abort();
        for (size_t i = 0; i < h->count; i++)
            if (!h->fields[i].name[0] || strlen(h->fields[i].value) > size) abort();
        (void)tw_http_header_get(h, "content-type");
        (void)tw_http_content_type(h);
        (void)tw_http_charset(h);
        (void)tw_http_location(h);
        (void)tw_http_content_length(h);
        const char *const *codings;
        int n = tw_http_content_codings(h, &codings);
        for (int i = 0; i < n; i++)
            if (!codings[i][0]) abort();
        if (tw_http_retry_after(h, 1700000000) < -1) abort();
        (void)tw_http_robots_tag(h, "trawl");
        tw_http_headers_free(h);
    } else if (h || !tw_http_strerror(rc)) {
        abort();
    }

    /* The date and Retry-After parsers take C strings: feed them the input as one. */
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    time_t t;
    (void)tw_http_date_parse(s, &t);
    if (tw_http_retry_after_value(s, 1700000000) < -1) abort();
    free(s);
    return 0;
}
