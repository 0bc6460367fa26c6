/* scope.h - the link filter: --scope, --include/--exclude (PCRE2) and --max-depth. */
#ifndef TW_SCOPE_H
#define TW_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

/* Which discovered links are followed, relative to the seed they descend from. */
typedef enum tw_scope_mode {
    TW_SCOPE_HOST = 0, /* same scheme, host and port (tw_url_same_origin) */
    TW_SCOPE_DOMAIN,   /* same registrable domain (tw_url_same_site) */
    TW_SCOPE_ANY       /* everything */
} tw_scope_mode;

/* What tw_scope_check() decided about one link. Only TW_SCOPE_FOLLOW means follow. */
typedef enum tw_scope_verdict {
    TW_SCOPE_FOLLOW = 0,
    TW_SCOPE_NOT_HTTP,     /* not a normalized http(s) URL */
    TW_SCOPE_OUT_OF_SCOPE, /* fails the host/domain test against its seed */
    TW_SCOPE_NOT_INCLUDED, /* --include patterns were given and none matched */
    TW_SCOPE_EXCLUDED,     /* an --exclude pattern matched */
    TW_SCOPE_TOO_DEEP      /* its depth is more than --max-depth */
} tw_scope_verdict;

/* A compiled filter. Not thread-safe: it reuses one PCRE2 match block. */
typedef struct tw_scope_filter tw_scope_filter;

/* Returns "host", "domain" or "any" (static); "?" for a value out of range. */
const char *tw_scope_mode_name(tw_scope_mode mode);

/* Parses "host", "domain" or "any" (exact, lower case) into *mode. Returns 0, or -1
 * for anything else (*mode untouched). */
int tw_scope_mode_parse(const char *s, tw_scope_mode *mode);

/* Returns a static English name for a verdict ("follow", "excluded", ...). */
const char *tw_scope_verdict_name(tw_scope_verdict v);

/*
 * Checks that `pattern` compiles as a PCRE2 regular expression. Returns 0, or -1 with
 * PCRE2's message and the offset of the error written to err (n bytes,
 * NUL-terminated; err may be NULL when n is 0). Allocates nothing that outlives it.
 */
int tw_scope_check_regex(const char *pattern, char *err, size_t n);

/*
 * Builds a filter: links must pass `mode` against their seed, match one of the
 * n_include patterns (when n_include > 0) and match none of the n_exclude patterns
 * (tw_scope_check adds the depth limit). Patterns are
 * PCRE2, unanchored, compiled once here (JIT-compiled when PCRE2 supports it); the
 * strings are not kept. Returns a new filter to free with tw_scope_free(), or NULL with
 * a message in err (n bytes): a pattern that does not compile (the message quotes it)
 * or memory running out.
 */
tw_scope_filter *tw_scope_new(tw_scope_mode mode, const char *const *include, size_t n_include,
                              const char *const *exclude, size_t n_exclude, char *err, size_t n);

/* Frees a filter. NULL is a no-op. */
void tw_scope_free(tw_scope_filter *s);

/*
 * Decides whether to follow `url` (a normalized absolute URL, from tw_url_normalize or
 * tw_url_resolve), found `depth` hops from `seed` (the normalized seed URL it descends
 * from; may be NULL with TW_SCOPE_ANY), when links are followed at most max_depth hops
 * (< 0: no limit). Seeds themselves are always crawled: do not pass them here. The
 * checks run in the order of the verdicts above and the first that fails is
 * returned. A pattern whose match fails with an error (e.g. PCRE2's match limit on a
 * pathological pattern) counts against the link: an include as not matching, an
 * exclude as matching. Does not allocate.
 */
tw_scope_verdict tw_scope_check(tw_scope_filter *s, const char *seed, const char *url, long depth,
                                long max_depth);

/* tw_scope_check without the depth limit: true when the verdict is TW_SCOPE_FOLLOW. */
bool tw_scope_allows(tw_scope_filter *s, const char *seed, const char *url);

#endif
