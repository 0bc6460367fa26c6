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
 * for rehashing the whole set. A URL held in memory costs one malloc of 40 bytes plus
 * the URL and its NUL (96 bytes with glibc's overhead for a 34-byte URL); parents are
 * shared by the links of one page and seeds are stored once. Beyond the window (below)
 * a URL costs nothing but its fingerprint.
 *
 * Ids: every new URL gets the next of a counter (1, 2, 3...; tw_frontier_add_id says
 * which), carried by its item: the state store keeps it as urls.id, so changes to a
 * URL are made by id (the table's own key) and the order found is the order of ids.
 *
 * The window bounds the URLs held: with tw_frontier_set_window(f, W), once W URLs are
 * held (in host queues or waiting for a retry) a new URL is "spilled": it enters the
 * seen set but lives only in the caller's store (the state store, crawler/store.h),
 * and tw_frontier_add says so (TW_FRONTIER_SPILLED). While any URL is spilled, every
 * new one is spilled too, so the spilled URLs are always the newest of the store, in
 * id order after tw_frontier_spill_cursor(), and taking them back in id order
 * (tw_frontier_refill, or tw_store_refill which does it all) keeps each host first
 * in, first out. The default window is 0, no limit: nothing is spilled.
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

/* What tw_frontier_add() returns for a new URL beyond the window: it is in the seen set
 * and must be stored, but the frontier does not hold it (see tw_frontier_refill). */
#define TW_FRONTIER_SPILLED 2

/* The window the Server should use: at ~96 bytes per URL held, ~10 MB. */
#define TW_FRONTIER_WINDOW_DEFAULT 100000

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
    int64_t id;         /* its id (urls.id in the state store); 0 for robots.txt */
    void *mem_;         /* private */
} tw_frontier_item;

/* Counters, see tw_frontier_get_stats(). */
typedef struct tw_frontier_stats {
    size_t queued;             /* URLs waiting: held (in host queues and waiting for a
                                  retry) plus spilled; 0 with nothing in flight = done */
    size_t spilled;            /* of those, in the store only (beyond the window) */
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
 * Strings are copied. Returns 1 if it was queued (held in memory),
 * TW_FRONTIER_SPILLED if it is new but beyond the window (or others are spilled): it
 * is in the seen set and counted in tw_frontier_queued(), but only the caller's store
 * holds it, so the caller must store it (both 1 and 2 mean "new: store it"); 0 if it
 * was already seen (nothing changes); TW_FRONTIER_EINVAL if url is not a normalized
 * http(s) URL; TW_FRONTIER_ENOMEM (nothing changes). O(1) (O(log hosts) to schedule
 * the host); does not block.
 */
int tw_frontier_add(tw_frontier *f, const char *url, int depth, const char *parent, const char *seed);

/* tw_frontier_add(), which also sets *id (if not NULL) to the id the URL got when it
 * returns 1 or TW_FRONTIER_SPILLED: store it with that id (tw_store_batch_add_url_id). */
int tw_frontier_add_id(tw_frontier *f, const char *url, int depth, const char *parent, const char *seed,
                       int64_t *id);

/* The id the next new URL will get. */
int64_t tw_frontier_next_id(const tw_frontier *f);

/* Sets the id the next new URL gets (< 1 counts as 1): on resume, one more than the
 * greatest stored (tw_store_resume does it), so ids never repeat. */
void tw_frontier_set_next_id(tw_frontier *f, int64_t id);

/* Puts url in the seen set without queuing it (on resume: a URL that already ended).
 * Returns 1 if it was new, 0 if already seen, TW_FRONTIER_ENOMEM. */
int tw_frontier_mark_seen(tw_frontier *f, const char *url);

/* The same, given the URL's fingerprint (tw_frontier_fingerprint, as the store keeps
 * it): on resume, the seen set is loaded from the store without reading any URL. */
int tw_frontier_mark_seen_fp(tw_frontier *f, uint64_t fp);

/* ---------------------------------------------------------------- the window */

/*
 * Sets how many URLs the frontier holds at most (0: no limit, the default). URLs
 * already held stay; a retry or an undo is always taken back, even beyond it. Only
 * new URLs are spilled, from the next tw_frontier_add() on. Never fails.
 */
void tw_frontier_set_window(tw_frontier *f, size_t window);

/* The window (0: no limit). */
size_t tw_frontier_window(const tw_frontier *f);

/* URLs held in memory: in host queues and waiting for a retry (not those handed out). */
size_t tw_frontier_held(const tw_frontier *f);

/* URLs spilled: new, in the seen set and counted as queued, but only in the store. */
size_t tw_frontier_spilled(const tw_frontier *f);

/* Whether a refill is due: URLs are spilled and fewer than half the window are held
 * (with no window: whenever URLs are spilled, as after tw_frontier_set_spilled). */
bool tw_frontier_wants_refill(const tw_frontier *f);

/* How many spilled URLs a refill should take back: the window's free room, at most
 * the number spilled (every spilled one when there is no window). */
size_t tw_frontier_refill_room(const tw_frontier *f);

/*
 * Takes a spilled URL back from the store: queues it at its host's tail as
 * tw_frontier_add() would, without consulting the seen set (it is in it already), with
 * `attempts` requests already made. `id` is its id (urls.id): its item carries it and
 * the spill cursor moves to it, so give the spilled URLs back in id order, each once.
 * Strings are copied. Returns 1 (one URL fewer spilled, one more held);
 * TW_FRONTIER_EINVAL if url is not a normalized http(s) URL (only a hand-edited store
 * has one: it is dropped, counted out of the spilled URLs, and the cursor moves past
 * it); TW_FRONTIER_ENOMEM (nothing changes: try again later). Does not block.
 */
int tw_frontier_refill(tw_frontier *f, const char *url, int depth, const char *parent, const char *seed,
                       int attempts, int64_t id);

/*
 * Where the spilled URLs are in the store: the id after which they start (every stored
 * URL with a greater id and still queued is spilled, in id order; none is held or
 * handed out). A URL spilled while none was sets it to its id minus one; each refilled
 * URL moves it to its id. Meaningful while tw_frontier_spilled() > 0.
 */
int64_t tw_frontier_spill_cursor(const tw_frontier *f);

/* Declares n URLs spilled, starting after store id after_id (on resume: every queued
 * URL of the store is spilled, and refills load them in order). Replaces the count. */
void tw_frontier_set_spilled(tw_frontier *f, size_t n, int64_t after_id);

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

/*
 * On resume: creates host `key` (with no URLs yet) or updates it with what a previous
 * run stored: its robots.txt rules r (taken; NULL or unreachable ones are dropped, so
 * robots.txt is fetched again) fetched at robots_at on this frontier's clock (in the
 * past: the rules expire TW_FRONTIER_ROBOTS_TTL_MS after it), its Crawl-delay interval,
 * and no start before not_before. Returns 0 or TW_FRONTIER_ENOMEM (r freed).
 */
int tw_frontier_restore_host(tw_frontier *f, const char *key, tw_robots *r, int64_t robots_at, int64_t interval_ms,
                             int64_t not_before);

/* Whether host's URLs are disallowed only because its robots.txt could not be fetched
 * (TW_FRONTIER_ROBOTS_TRIES times), rather than by rules it served: for a truer error. */
bool tw_frontier_robots_unreachable(tw_frontier *f, const char *host);

/* Sets host's least interval between starts (robots.txt Crawl-delay, in ms); the
 * interval used is the larger of it and the frontier's. From its next start on. */
void tw_frontier_set_interval(tw_frontier *f, const char *host, int64_t interval_ms);

/* host's Crawl-delay interval in ms (set or restored), 0 if it has none or is unknown. */
int64_t tw_frontier_interval(tw_frontier *f, const char *host);

/* URLs waiting: held (queued and waiting for a retry) plus spilled, not counting those
 * handed out. The crawl is done when this is 0 and nothing is in flight. */
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
