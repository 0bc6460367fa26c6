/* scope.c - the link filter: scope against the seed, PCRE2 include/exclude, depth. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scope.h"
#include "url.h"

struct tw_scope_filter {
    tw_scope_mode mode;
    pcre2_code **include, **exclude;
    size_t n_include, n_exclude;
    pcre2_match_data *md; /* one block for every match: the filter is single-threaded */
};

const char *tw_scope_mode_name(tw_scope_mode mode)
{
    switch (mode) {
    case TW_SCOPE_HOST: return "host";
    case TW_SCOPE_DOMAIN: return "domain";
    case TW_SCOPE_ANY: return "any";
    }
    return "?";
}

int tw_scope_mode_parse(const char *s, tw_scope_mode *mode)
{
    static const tw_scope_mode all[] = {TW_SCOPE_HOST, TW_SCOPE_DOMAIN, TW_SCOPE_ANY};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, tw_scope_mode_name(all[i])) == 0) {
            *mode = all[i];
            return 0;
        }
    return -1;
}

const char *tw_scope_verdict_name(tw_scope_verdict v)
{
    switch (v) {
    case TW_SCOPE_FOLLOW: return "follow";
    case TW_SCOPE_NOT_HTTP: return "not http(s)";
    case TW_SCOPE_OUT_OF_SCOPE: return "out of scope";
    case TW_SCOPE_NOT_INCLUDED: return "matches no --include";
    case TW_SCOPE_EXCLUDED: return "matches an --exclude";
    case TW_SCOPE_TOO_DEEP: return "deeper than --max-depth";
    }
    return "?";
}

/* Compiles one pattern; on failure writes "PCRE2 message at offset N" to err. */
static pcre2_code *compile(const char *pattern, char *err, size_t n)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", code);
        if (n)
            snprintf(err, n, "%s at offset %zu", (const char *)msg, (size_t)off);
        return NULL;
    }
    /* JIT is an optimisation only: without it (not built in, no executable memory)
     * pcre2_match interprets the same pattern. */
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

int tw_scope_check_regex(const char *pattern, char *err, size_t n)
{
    pcre2_code *re = compile(pattern, err, n);
    if (!re)
        return -1;
    pcre2_code_free(re);
    return 0;
}

/* Compiles a list of patterns into *out; on failure, err names the pattern. */
static int compile_all(const char *const *pats, size_t count, pcre2_code ***out,
                       const char *what, char *err, size_t n)
{
    if (count == 0)
        return 0;
    *out = calloc(count, sizeof **out);
    if (!*out) {
        if (n)
            snprintf(err, n, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        char why[300];
        (*out)[i] = compile(pats[i], why, sizeof why);
        if (!(*out)[i]) {
            if (n)
                snprintf(err, n, "%s \"%s\": %s", what, pats[i], why);
            return -1;
        }
    }
    return 0;
}

static void free_all(pcre2_code **res, size_t count)
{
    if (!res)
        return;
    for (size_t i = 0; i < count; i++)
        pcre2_code_free(res[i]);
    free(res);
}

void tw_scope_free(tw_scope_filter *s)
{
    if (!s)
        return;
    free_all(s->include, s->n_include);
    free_all(s->exclude, s->n_exclude);
    pcre2_match_data_free(s->md);
    free(s);
}

tw_scope_filter *tw_scope_new(tw_scope_mode mode, const char *const *include, size_t n_include,
                              const char *const *exclude, size_t n_exclude, char *err, size_t n)
{
    tw_scope_filter *s = calloc(1, sizeof *s);
    if (!s) {
        if (n)
            snprintf(err, n, "out of memory");
        return NULL;
    }
    s->mode = mode;
    s->n_include = n_include;
    s->n_exclude = n_exclude;
    if (compile_all(include, n_include, &s->include, "--include", err, n) < 0 ||
        compile_all(exclude, n_exclude, &s->exclude, "--exclude", err, n) < 0) {
        tw_scope_free(s);
        return NULL;
    }
    /* One ovector pair is all a yes/no match needs. */
    s->md = pcre2_match_data_create(1, NULL);
    if (!s->md) {
        if (n)
            snprintf(err, n, "out of memory");
        tw_scope_free(s);
        return NULL;
    }
    return s;
}

/* 1 match, 0 no match, -1 the match itself failed (limits, ...). */
static int matches(tw_scope_filter *s, pcre2_code *re, const char *url, size_t len)
{
    int rc = pcre2_match(re, (PCRE2_SPTR)url, len, 0, 0, s->md, NULL);
    if (rc >= 0)
        return 1;
    return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

static bool in_scope(tw_scope_mode mode, const char *url, const char *seed)
{
    switch (mode) {
    case TW_SCOPE_HOST: return tw_url_same_origin(url, seed) == 1;
    case TW_SCOPE_DOMAIN: return tw_url_same_site(url, seed) == 1;
    case TW_SCOPE_ANY: return true;
    }
    return false;
}

tw_scope_verdict tw_scope_check(tw_scope_filter *s, const char *seed, const char *url, long depth,
                                long max_depth)
{
    if (!url || !tw_url_path_query(url))
        return TW_SCOPE_NOT_HTTP;
    if (s->mode != TW_SCOPE_ANY && (!seed || !in_scope(s->mode, url, seed)))
        return TW_SCOPE_OUT_OF_SCOPE;
    size_t len = strlen(url);
    if (s->n_include) {
        bool any = false;
        for (size_t i = 0; i < s->n_include && !any; i++)
            any = matches(s, s->include[i], url, len) == 1;
        if (!any)
            return TW_SCOPE_NOT_INCLUDED;
    }
    for (size_t i = 0; i < s->n_exclude; i++)
        if (matches(s, s->exclude[i], url, len) != 0)
            return TW_SCOPE_EXCLUDED;
    if (max_depth >= 0 && depth > max_depth)
        return TW_SCOPE_TOO_DEEP;
    return TW_SCOPE_FOLLOW;
}

bool tw_scope_allows(tw_scope_filter *s, const char *seed, const char *url)
{
    return tw_scope_check(s, seed, url, 0, -1) == TW_SCOPE_FOLLOW;
}
