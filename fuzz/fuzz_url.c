/* fuzz_url.c: libFuzzer target for URL normalization: no crashes, and normalizing is idempotent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

/* Checks what every normalized URL must satisfy, and that the helpers accept it. */
static void check_normalized(const char *url)
{
    char *again = NULL;
    char key[TW_URL_MAX_LEN + 8];
    int rc = tw_url_normalize(url, NULL, &again);
    if (rc != 0 || strcmp(url, again) != 0) {
        fprintf(stderr, "not idempotent: \"%s\" -> %s (%s)\n", url, again ? again : "error",
                tw_url_strerror(rc));
        abort();
    }
    free(again);
    for (const unsigned char *c = (const unsigned char *)url; *c; c++)
        if (*c <= 0x20 || *c >= 0x7F || *c == '#')
            abort();
    if (tw_url_host_key(url, key, sizeof key) != 0 || tw_url_path_query(url) == NULL ||
        tw_url_port(url) < 0 || !tw_url_same_origin(url, url) || !tw_url_same_site(url, url))
        abort();
}

/* Input: base, a NUL byte, then the href; without a NUL byte, the whole input is the href. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    char *base = NULL;
    const char *href = (const char *)data;
    size_t href_len = size;
    if (nul) {
        size_t bn = (size_t)(nul - data);
        base = malloc(bn + 1);
        if (!base)
            return 0;
        memcpy(base, data, bn);
        base[bn] = '\0';
        href = (const char *)nul + 1;
        href_len = size - bn - 1;
    }
    char *out = NULL;
    if (base && tw_url_normalize(base, NULL, &out) == 0) {
        check_normalized(out);
        free(out);
    }
    int rc = tw_url_normalize_n(href, href_len, base, &out);
    if (rc == 0)
        check_normalized(out);
    else if (out != NULL)
        abort(); /* errors leave *out NULL */

    /* a prepared base gives the same answer */
    struct tw_url_base b;
    char *out2 = NULL;
    int have_base = base && tw_url_base_init(&b, base) == 0;
    int rc2 = tw_url_resolve(have_base ? &b : NULL, href, href_len, &out2);
    if ((rc < 0) != (rc2 < 0) || (rc == 0 && strcmp(out, out2) != 0))
        abort();
    if (have_base)
        tw_url_base_free(&b);
    free(out2);
    free(out);
    free(base);
    return 0;
}
