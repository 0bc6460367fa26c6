/* frontier.h - the crawl frontier: the seen set, per-host FIFO queues, host readiness, robots.txt state. */
#ifndef TW_FRONTIER_H
#define TW_FRONTIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "robots.h"

/*
 * The Server's record of what to fetch. Every URL ever added is remembered in the
 * seen set as a 64-bit fingerprint (SipHash-2-4 of the normalized URL; at 10M URLs
 * the chance of any collision is about 3e-6). Pending URLs wait in a FIFO queue per
 * host ("host:port", tw_url_host_key). A host may start a request when it has a URL,
 * fewer than per_host requests in flight and its next allowed start time has come
 * (starts are interval_ms apart, robots.txt fetches included), so a slow or
 * rate-limited host never holds up the others: hosts that may start now wait in a
 * FIFO ready list (round robin), hosts waiting for their time in a min-heap by that
 * time. Every operation costs O(1) or O(log hosts), whatever the number of URLs.
 *
 * Unless robots.txt is ignored, the first turn of each host (and the first after 24
 * hours) is a robots.txt fetch; the host's URLs wait until tw_frontier_robots()
 * gives its rules, and URLs the rules forbid are handed out as
 * TW_FRONTIER_DISALLOWED without taking a slot.
 *
 * Memory: the seen set is 256 open-addressing tables (shards) of 8-byte fingerprints,
 * each grown by half when 3/4 full, so its load stays between 1/2 and 3/4: 10.7 to 16
 * bytes per URL seen. A shard grows alone (at 10M URLs one holds ~40k), so no add pays
 * for rehashing the whole set. A queued URL costs one malloc of 32 bytes plus the URL
 * and its NUL (~80 bytes with glibc's overhead for a 35-byte URL); parents are shared
 * by the links of one page and seeds are stored once.
 *
 * Times are milliseconds on the caller's monotonic clock (tr_now_ms()). Not
 * thread-safe: one owner (the Server process) uses it and the items it hands out.
 */
typedef struct tw_frontier tw_frontier;

/* What tw_frontier_next() handed out (or that nothing is ready). */
#define TW_FRONTIER_NONE 0       /* no host may start now: see *wake */
#define TW_FRONTIER_PAGE 1       /* fetch item->url; a slot and a start of its host are taken */
#define TW_FRONTIER_ROBOTS 2     /* fetch item->url, the host's robots.txt; slot and start taken */
#define TW_FRONTIER_DISALLOWED 3 /* robots.txt forbids item->url: it ends unfetched; no slot taken */

/* Errors (negative). */
#define TW_FRONTIER_ENOMEM (-1)  /* out of memory */
#define TW_FRONTIER_EINVAL (-2)  /* not a normalized http(s) URL, or an unknown host */

/* Robots.txt rules are fetched again after this long. */
#define TW_FRONTIER_ROBOTS_TTL_MS ((int64_t)TW_ROBOTS_TTL_SECONDS * 1000)
/* An unreachable robots.txt (5xx, 429, network error) is fetched again after 1 s, 2 s,
 * 4 s...; after this many fetches in a row fail, the host is taken as disallowed
 * entirely (RFC 9309 §2.3.1.4), so its URLs end instead of waiting forever. */
#define TW_FRONTIER_ROBOTS_TRIES 4

/*
 * A URL handed out by tw_frontier_next(). The caller owns it and must give it back
 * exactly once: tw_frontier_item_free(), tw_frontier_retry() or tw_frontier_undo().
 * Plain copies of the struct share the same memory (move it, do not duplicate it).
 */
typedef struct tw_frontier_item {
    const char *url;    /* normalized URL; freed with the item */
    const char *parent; /* the page it was found on (NULL for seeds and robots.txt);
                           freed with the item */
    const char *seed;   /* the seed it descends from (NULL for robots.txt); owned by
                           the frontier, valid until tw_frontier_free() */
    const char *host;   /* its host key; owned by the frontier, valid until tw_frontier_free() */
    int depth;          /* hops from the seed */
    int attempts;       /* requests already made for it (0 when new) */
    void *mem_;         /* private */
} tw_frontier_item;

/* Counters, see tw_frontier_get_stats(). */
typedef struct tw_frontier_stats {
    size_t queued;             /* URLs held: in host queues and waiting for a retry */
    size_t retrying;           /* of those, waiting for their retry time */
    size_t in_flight;          /* slots taken (pages and robots.txt) */
    size_t seen;               /* URLs in the seen set */
    size_t seen_bytes;         /* bytes of the seen set's table */
    size_t hosts;              /* hosts known */
    size_t hosts_ready;        /* hosts that may start a request now */
    size_t hosts_rate_limited; /* hosts with URLs and a free slot, waiting for their start time */
    size_t hosts_full;         /* hosts with URLs and every slot taken */
    size_t hosts_robots;       /* hosts waiting for their robots.txt */
} tw_frontier_stats;

/*
 * Creates an empty frontier: at most per_host (< 1 counts as 1) requests in flight per
 * host, starts to one host at least interval_ms apart (0: no limit; --rate R gives
 * 1000/R), robots.txt fetched and obeyed when `robots` is true. Returns NULL when out
 * of memory. Free with tw_frontier_free().
 */
tw_frontier *tw_frontier_new(int per_host, int64_t interval_ms, bool robots);

/* Frees the frontier, every URL it holds and its robots.txt rules. NULL is a no-op.
 * Items handed out and not yet given back must be freed before it. */
void tw_frontier_free(tw_frontier *f);

/*
 * Adds url (a normalized http(s) URL) found `depth` hops from `seed` on page `parent`
 * (NULL for a seed; then pass the URL itself as seed) unless it was seen before.
 * Strings are copied. Returns 1 if it was queued, 0 if it was already seen (nothing
 * changes), TW_FRONTIER_EINVAL if url is not a normalized http(s) URL,
 * TW_FRONTIER_ENOMEM.
 */
int tw_frontier_add(tw_frontier *f, const char *url, int depth, const char *parent, const char *seed);

/* Puts url in the seen set without queuing it (on resume: a URL that already ended).
 * Returns 1 if it was new, 0 if already seen, TW_FRONTIER_ENOMEM. */
int tw_frontier_mark_seen(tw_frontier *f, const char *url);

/* Whether url is in the seen set. Does not allocate. */
bool tw_frontier_seen(const tw_frontier *f, const char *url);

/*
 * Hands out the next URL of a host that may start now. On TW_FRONTIER_PAGE or
 * TW_FRONTIER_ROBOTS a slot of the host is taken (give it back with
 * tw_frontier_done() when the request ends) and its next start is pushed interval
 * later. *it is filled (an item to give back, see tw_frontier_item); the host key is
 * also copied into host (n bytes, NUL-terminated, cut if too small; host may be NULL).
 * On TW_FRONTIER_NONE, *wake (if not NULL) is the earliest time at which a host may
 * become ready or a retry falls due, or -1 when only requests in flight can make
 * more work. Never fails.
 */
int tw_frontier_next(tw_frontier *f, int64_t now, tw_frontier_item *it, char *host, size_t n,
                     int64_t *wake);

/* Gives back a slot of host taken by tw_frontier_next() (a page or robots.txt request
 * ended, however it ended). Unknown hosts and hosts with no slot taken are ignored. */
void tw_frontier_done(tw_frontier *f, const char *host);

/*
 * Gives an item handed out by tw_frontier_next() back as if it had not been: the
 * URL returns to the front of its host's queue (a robots.txt item is dropped and will
 * be handed out again), the slot is freed and the host's start time restored.
 * `robots` says whether it was a TW_FRONTIER_ROBOTS item. Changes the caller made to
 * the item (attempts) are ignored. Takes the item: *it is zeroed.
 */
void tw_frontier_undo(tw_frontier *f, tw_frontier_item *it, const char *host, bool robots);

/*
 * Queues a handed-out page item again, to be handed out no earlier than not_before
 * (a retry; the seen set is not consulted). it->attempts and it->depth are kept as
 * the caller set them. Does not free the slot: call tw_frontier_done() too. Takes
 * the item: *it is zeroed. Returns 0, or TW_FRONTIER_ENOMEM (the item is then freed
 * and the URL lost) or TW_FRONTIER_EINVAL (not an item of this frontier's hosts;
 * the item is left untouched).
 */
int tw_frontier_retry(tw_frontier *f, tw_frontier_item *it, int64_t not_before);

/*
 * Gives host the rules of its robots.txt fetched at `now`, taking ownership of r
 * (from tw_robots_from_status; NULL counts as unreachable). An unreachable one is
 * fetched again later (see TW_FRONTIER_ROBOTS_TRIES). Ignored (r freed) for an
 * unknown host.
 */
void tw_frontier_robots(tw_frontier *f, const char *host, tw_robots *r, int64_t now);

/* Whether host's URLs are disallowed only because its robots.txt could not be fetched
 * (TW_FRONTIER_ROBOTS_TRIES times), rather than by rules it served: for a truer error. */
bool tw_frontier_robots_unreachable(tw_frontier *f, const char *host);

/* Sets host's least interval between starts (robots.txt Crawl-delay, in ms); the
 * interval used is the larger of it and the frontier's. From its next start on. */
void tw_frontier_set_interval(tw_frontier *f, const char *host, int64_t interval_ms);

/* URLs held (queued and waiting for a retry), not counting those handed out. */
size_t tw_frontier_queued(const tw_frontier *f);

/* Fills *st. Moves hosts whose time has come at `now` to the ready list first, so
 * hosts_rate_limited counts those still waiting. */
void tw_frontier_get_stats(tw_frontier *f, int64_t now, tw_frontier_stats *st);

/* Frees an item handed out by tw_frontier_next(); zeroes *it. A zeroed item is a no-op. */
void tw_frontier_item_free(tw_frontier_item *it);

/* The seen set's fingerprint of a URL (len bytes): SipHash-2-4 under a fixed key, so
 * fingerprints are stable across runs and can be stored. */
uint64_t tw_frontier_fingerprint(const char *url, size_t len);

/* SipHash-2-4 (Aumasson and Bernstein) of len bytes under the key (k0, k1). */
uint64_t tw_siphash24(const void *data, size_t len, uint64_t k0, uint64_t k1);

#endif
