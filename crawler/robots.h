/* robots.h - robots.txt (RFC 9309) parsing, matching, fetch-status rules and a per-host cache. */
#ifndef TW_ROBOTS_H
#define TW_ROBOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Bytes of a robots.txt body that are parsed; the rest is ignored (RFC 9309 §2.5). */
#define TW_ROBOTS_MAX_BYTES (500 * 1024)
/* How long a fetched robots.txt is used before it is fetched again (RFC 9309 §2.4). */
#define TW_ROBOTS_TTL_SECONDS (24 * 60 * 60)
/* Suggested wait before fetching an unreachable robots.txt again. */
#define TW_ROBOTS_RETRY_SECONDS (5 * 60)

/*
 * The rules of one robots.txt for one crawler. Immutable once built, so a
 * tw_robots may be shared by any number of readers.
 */
typedef struct tw_robots tw_robots;

/* Where a tw_robots came from, which the crawler needs to know to act on it. */
typedef enum tw_robots_state {
    TW_ROBOTS_PARSED,      /* a 2xx body was parsed: its rules apply */
    TW_ROBOTS_ALLOW_ALL,   /* robots.txt is unavailable (4xx) or ignored: everything allowed */
    TW_ROBOTS_DISALLOW_ALL,/* built with tw_robots_disallow_all(): nothing allowed */
    TW_ROBOTS_UNREACHABLE  /* 5xx, 429 or network error: nothing allowed for now; fetch again later */
} tw_robots_state;

/*
 * Parses a robots.txt body (any bytes; need not be NUL-terminated; only the
 * first TW_ROBOTS_MAX_BYTES are read) and keeps the rules that apply to
 * product_token: those of every group naming it (case-insensitively), else
 * those of every `*` group, else none (everything allowed). product_token is
 * the crawler's token, e.g. "trawl" (a whole User-Agent such as "trawl/0.1
 * (+url)" is cut to it, see tw_user_agent_product()); NULL or "" selects the
 * `*` groups. A group's "User-agent: Foo/2.1" line counts as "Foo". Sitemap
 * lines are kept whatever their group.
 * Returns a new object in state TW_ROBOTS_PARSED that the caller frees with
 * tw_robots_free(), or NULL only when memory runs out. Garbage input is not an
 * error: lines that are not directives are skipped.
 */
tw_robots *tw_robots_parse(const char *body, size_t len, const char *product_token);

/* Returns a new object that allows every path (state TW_ROBOTS_ALLOW_ALL); NULL when out of memory. */
tw_robots *tw_robots_allow_all(void);

/* Returns a new object that allows no path but /robots.txt (state TW_ROBOTS_DISALLOW_ALL); NULL when out of memory. */
tw_robots *tw_robots_disallow_all(void);

/*
 * Applies RFC 9309 §2.3.1 to the outcome of fetching /robots.txt and returns
 * a new object (free with tw_robots_free()), NULL only when out of memory:
 *   200-299  the body is parsed as by tw_robots_parse()   -> TW_ROBOTS_PARSED
 *   429      treated as a server error (the site asks us to back off)
 *   400-499  robots.txt is unavailable: allow everything  -> TW_ROBOTS_ALLOW_ALL
 *   500-599, or http_status <= 0 for a network error (DNS, connect, timeout),
 *            or anything else: disallow everything for now -> TW_ROBOTS_UNREACHABLE;
 *            the caller fetches it again later (TW_ROBOTS_RETRY_SECONDS is a fair wait)
 *   300-399  the crawler follows redirects itself (up to five, §2.3.1.2); a 3xx
 *            passed here means it gave up following them, so it is treated
 *            as unavailable                               -> TW_ROBOTS_ALLOW_ALL
 * body and len are read only for 2xx and may be NULL/0 otherwise.
 */
tw_robots *tw_robots_from_status(int http_status, const char *body, size_t len,
                                 const char *product_token);

/* Returns where r came from (see tw_robots_state). */
tw_robots_state tw_robots_get_state(const tw_robots *r);

/*
 * Tells whether the crawler may fetch path_and_query, the path and query of
 * a URL as in the request line ("/a/b?c=d"; "" counts as "/"). The longest
 * matching allow or disallow pattern wins, allow winning ties; `*` matches any
 * run of characters and a final `$` anchors the end. Paths and patterns are
 * compared in a canonical percent-encoded form, so "/%7Euser" matches "/~user"
 * and "/ツ" matches "/%E3%83%84"; escapes of reserved characters (%2F, %3A, ...)
 * stay distinct from the characters themselves, as RFC 3986 §6.2.2.2 requires.
 * "/robots.txt" is always allowed. r must not be NULL. Does not allocate
 * unless the path is not in canonical form (a normalized URL's path is) and
 * longer than 682 bytes; should that allocation fail, the answer is false.
 */
bool tw_robots_allowed(const tw_robots *r, const char *path_and_query);

/* As tw_robots_allowed() for a path of len bytes (not NUL-terminated). */
bool tw_robots_allowed_n(const tw_robots *r, const char *path_and_query, size_t len);

/*
 * Returns the Crawl-delay of the matched group(s) in seconds (a real number
 * >= 0; the first valid one when several groups give one), or -1 when none
 * is given.
 */
double tw_robots_crawl_delay(const tw_robots *r);

/* Returns how many Sitemap URLs the file lists (at most 1000 are kept). */
size_t tw_robots_sitemap_count(const tw_robots *r);

/* Returns the i-th Sitemap URL as written, owned by r; NULL when i is out of range. */
const char *tw_robots_sitemap(const tw_robots *r, size_t i);

/* Frees r and everything it owns; NULL is a no-op. */
void tw_robots_free(tw_robots *r);

/*
 * Returns the product token of a User-Agent string, the text before the first
 * '/' or whitespace: "trawl/0.1 (+https://x)" -> "trawl". Newly allocated
 * (caller frees); NULL when out of memory or user_agent is NULL.
 */
char *tw_user_agent_product(const char *user_agent);

/*
 * A cache of robots.txt rules by host key (scheme-less "host:port", compared
 * case-insensitively). Each entry owns its tw_robots and remembers when it was
 * fetched and when it expires. Not thread-safe: one owner uses it.
 */
typedef struct tw_robots_cache tw_robots_cache;

/* One cache entry as seen by tw_robots_cache_lookup(). */
typedef struct tw_robots_entry {
    const tw_robots *robots; /* owned by the cache */
    time_t fetched_at;
    time_t expires_at;
} tw_robots_entry;

/*
 * Creates an empty cache. Entries of state TW_ROBOTS_UNREACHABLE expire
 * retry_seconds after they were fetched, the others ttl_seconds after;
 * 0 selects TW_ROBOTS_RETRY_SECONDS and TW_ROBOTS_TTL_SECONDS. Returns NULL
 * when out of memory. Free with tw_robots_cache_free().
 */
tw_robots_cache *tw_robots_cache_new(long ttl_seconds, long retry_seconds);

/* Frees the cache and every tw_robots it holds; NULL is a no-op. */
void tw_robots_cache_free(tw_robots_cache *c);

/*
 * Stores r for host, fetched at fetched_at, taking ownership of r (also on
 * failure, when r is freed). An entry already there for host is replaced and
 * its tw_robots freed. Returns 0, or -1 when out of memory.
 */
int tw_robots_cache_put(tw_robots_cache *c, const char *host, tw_robots *r, time_t fetched_at);

/*
 * Returns the rules for host if they are cached and not expired at now
 * (now < expires_at), else NULL (the caller then fetches robots.txt). The
 * pointer stays valid until host is replaced, tw_robots_cache_prune() drops
 * it or the cache is freed.
 */
const tw_robots *tw_robots_cache_get(const tw_robots_cache *c, const char *host, time_t now);

/*
 * Fills *out with the entry for host whether expired or not (a crawler may
 * keep using old rules while a fresh fetch fails, RFC 9309 §2.4). Returns
 * false when host has no entry.
 */
bool tw_robots_cache_lookup(const tw_robots_cache *c, const char *host, tw_robots_entry *out);

/* Drops and frees every entry expired at now; returns how many were dropped. */
size_t tw_robots_cache_prune(tw_robots_cache *c, time_t now);

/* Returns how many hosts the cache holds. */
size_t tw_robots_cache_size(const tw_robots_cache *c);

#endif
