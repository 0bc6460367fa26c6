/* frontier.c - the crawl frontier: seen set, per-host queues, ready list and time heap. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "frontier.h"
#include "url.h"

/* ---- shared strings ---- */

/* A reference-counted string: the parent of a page's links is stored once for all. */
typedef struct rcstr {
    uint32_t refs;
    char s[];
} rcstr;

static rcstr *rc_new(const char *s)
{
    size_t len = strlen(s);
    rcstr *r = malloc(sizeof *r + len + 1);
    if (r) {
        r->refs = 1;
        memcpy(r->s, s, len + 1);
    }
    return r;
}

static void rc_unref(rcstr *r)
{
    if (r && --r->refs == 0)
        free(r);
}

/* ---- queued URLs ---- */

typedef struct node {
    struct node *next;
    rcstr *parent;
    const char *seed; /* interned in the frontier's seed table */
    int64_t id;       /* its id in the store; 0 for robots.txt */
    int32_t depth, attempts;
    char url[];
} node;

static node *node_new(const char *url, size_t len)
{
    node *n = malloc(sizeof *n + len + 1);
    if (n) {
        memset(n, 0, sizeof *n);
        memcpy(n->url, url, len + 1);
    }
    return n;
}

static void node_free(node *n)
{
    rc_unref(n->parent);
    free(n);
}

/* ---- hosts ---- */

enum host_state {
    H_IDLE,    /* no URL queued: in no structure */
    H_READY,   /* in the ready list */
    H_WAITING, /* in the time heap, until ready_at */
    H_FULL,    /* every slot taken: in no structure until tw_frontier_done */
    H_ROBOTS   /* waiting for its robots.txt: in no structure until tw_frontier_robots */
};

enum robots_state { R_UNKNOWN, R_PENDING, R_KNOWN };

typedef struct host {
    node *head, *tail;
    struct host *ready_next;
    tw_robots *rules;
    int64_t next_allowed, prev_allowed; /* next start allowed; its value before the last start */
    int64_t ready_at;                   /* heap key while H_WAITING */
    int64_t interval;                   /* Crawl-delay, 0 if none */
    int64_t robots_at, robots_retry_at;
    uint64_t hash;
    uint64_t seq; /* order of entry into the heap: equal times leave first come, first served */
    size_t heap_idx;
    int inflight;
    uint8_t state, robots_state, robots_failures;
    bool robots_unreachable; /* its "disallow all" stands for a robots.txt it could not get */
    char key[];
} host;

/* One shard of the seen set (see "the seen set" below): linear probing over cap slots. */
#define SEEN_SHARD_BITS 8
#define SEEN_SHARDS (1 << SEEN_SHARD_BITS)
typedef struct seen_shard {
    uint64_t *t;
    size_t cap, count;
} seen_shard;

typedef struct retry {
    int64_t at;
    node *n;
    host *h;
} retry;

struct tw_frontier {
    int per_host;
    int64_t interval;
    bool robots;
    uint64_t salt; /* scatters fingerprints over the seen table: crafted URLs cannot pile up */

    seen_shard seen[SEEN_SHARDS];
    size_t seen_count, seen_slots; /* fingerprints held; slots of every shard together */

    host **hosts; /* open addressing by key hash */
    size_t host_cap, host_count;

    host **heap; /* min-heap by ready_at */
    size_t heap_len, heap_cap;
    host *ready_head, *ready_tail;
    size_t ready_len;

    retry *retries; /* min-heap by at */
    size_t retry_len, retry_cap;

    char **seeds; /* interned seed strings, open addressing */
    size_t seed_cap, seed_count;
    rcstr *last_parent; /* the links of one page come together: share their parent */

    size_t held, in_flight; /* URLs in host queues and retries; slots taken */
    size_t n_full, n_robots; /* hosts in H_FULL and H_ROBOTS */
    uint64_t seq;

    /* The window: at most `window` URLs held (0: no limit). URLs added beyond it, or
     * while others are spilled, are spilled: in the seen set and the store only. They
     * are the latest URLs of the store, in order: those with an id above spill_after. */
    size_t window, spilled;
    int64_t spill_after;
    int64_t next_id; /* the id the next new URL gets */
};

/* ---- hashing ---- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1, v1 = ROTL(v1, 13), v1 ^= v0, v0 = ROTL(v0, 32);                                  \
        v2 += v3, v3 = ROTL(v3, 16), v3 ^= v2;                                                     \
        v0 += v3, v3 = ROTL(v3, 21), v3 ^= v0;                                                     \
        v2 += v1, v1 = ROTL(v1, 17), v1 ^= v2, v2 = ROTL(v2, 32);                                  \
    } while (0)

uint64_t tw_siphash24(const void *data, size_t len, uint64_t k0, uint64_t k1)
{
    const unsigned char *p = data;
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    uint64_t b = (uint64_t)len << 56;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t m = 0;
        for (int j = 7; j >= 0; j--) /* little-endian, whatever the host's order */
            m = m << 8 | p[i + j];
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    for (int j = 0; i + j < len; j++)
        b |= (uint64_t)p[i + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t tw_frontier_fingerprint(const char *url, size_t len)
{
    /* A fixed key keeps fingerprints stable across runs ("trawl-seen-set!"). */
    return tw_siphash24(url, len, 0x7761727473656573ull, 0x21746573206e6565ull);
}

/* The murmur3 finalizer: a bijection that spreads every input bit over the index. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t str_hash(const char *s) { return tw_frontier_fingerprint(s, strlen(s)); }

/* ---- the seen set ---- */

/*
 * 256 independent shards, chosen by the top 8 bits of the salted, mixed fingerprint;
 * within a shard the slot is the other 56 bits scaled to its capacity (Lemire's
 * multiply-shift), so capacities need not be powers of two. A shard grows by half
 * when it would pass 3/4 full, so its load stays between 1/2 and 3/4: 10.7 to 16
 * bytes per fingerprint. Growing rehashes one shard, 1/256 of the set, so no add
 * ever pays for rehashing millions of fingerprints (at 10M URLs a shard holds ~40k).
 */
#define SEEN_MIN_CAP 16

/* 0 marks an empty slot, so a fingerprint of 0 is stored as 1. */
static uint64_t seen_key_of(uint64_t fp) { return fp ? fp : 1; }

static uint64_t seen_key(const char *url) { return seen_key_of(tw_frontier_fingerprint(url, strlen(url))); }

static seen_shard *seen_shard_of(const tw_frontier *f, uint64_t key, uint64_t *h)
{
    *h = mix64(key ^ f->salt);
    return (seen_shard *)&f->seen[*h >> (64 - SEEN_SHARD_BITS)];
}

static size_t seen_probe(const seen_shard *s, uint64_t h, uint64_t key)
{
    __extension__ typedef unsigned __int128 u128;
    size_t i = (size_t)(((u128)(h << SEEN_SHARD_BITS) * s->cap) >> 64);
    while (s->t[i] && s->t[i] != key)
        if (++i == s->cap)
            i = 0;
    return i;
}

static int seen_shard_grow(tw_frontier *f, seen_shard *s)
{
    size_t cap = s->cap < SEEN_MIN_CAP ? SEEN_MIN_CAP : s->cap + s->cap / 2;
    seen_shard n = {.t = calloc(cap, sizeof *n.t), .cap = cap, .count = s->count};
    if (!n.t)
        return -1;
    for (size_t i = 0; i < s->cap; i++)
        if (s->t[i]) {
            uint64_t h = mix64(s->t[i] ^ f->salt);
            n.t[seen_probe(&n, h, s->t[i])] = s->t[i];
        }
    free(s->t);
    f->seen_slots += n.cap - s->cap;
    *s = n;
    return 0;
}

/* Finds key's slot in its shard, growing the shard first if one more key would pass
 * 3/4. *sh is the shard. Returns the slot, or -1 when out of memory. The slot stays
 * valid until the shard grows (nothing but this function grows it). */
static ptrdiff_t seen_find(tw_frontier *f, uint64_t key, seen_shard **sh)
{
    uint64_t h;
    seen_shard *s = seen_shard_of(f, key, &h);
    if ((s->count + 1) * 4 > s->cap * 3 && seen_shard_grow(f, s) < 0)
        return -1;
    *sh = s;
    return (ptrdiff_t)seen_probe(s, h, key);
}

static void seen_put(tw_frontier *f, seen_shard *s, size_t slot, uint64_t key)
{
    s->t[slot] = key;
    s->count++;
    f->seen_count++;
}

/* 1 inserted, 0 present, -1 out of memory. */
static int seen_insert(tw_frontier *f, uint64_t key)
{
    seen_shard *s;
    ptrdiff_t i = seen_find(f, key, &s);
    if (i < 0)
        return -1;
    if (s->t[i])
        return 0;
    seen_put(f, s, (size_t)i, key);
    return 1;
}

bool tw_frontier_seen(const tw_frontier *f, const char *url)
{
    uint64_t key = seen_key(url), h;
    const seen_shard *s = seen_shard_of(f, key, &h);
    return s->cap && s->t[seen_probe(s, h, key)] == key;
}

int tw_frontier_mark_seen(tw_frontier *f, const char *url)
{
    int rc = seen_insert(f, seen_key(url));
    return rc < 0 ? TW_FRONTIER_ENOMEM : rc;
}

int tw_frontier_mark_seen_fp(tw_frontier *f, uint64_t fp)
{
    int rc = seen_insert(f, seen_key_of(fp));
    return rc < 0 ? TW_FRONTIER_ENOMEM : rc;
}

/* ---- interned seeds ---- */

static const char *seed_intern(tw_frontier *f, const char *seed)
{
    uint64_t h = str_hash(seed);
    if ((f->seed_count + 1) * 2 > f->seed_cap) {
        size_t cap = f->seed_cap ? f->seed_cap * 2 : 16;
        char **t = calloc(cap, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < f->seed_cap; i++)
            if (f->seeds[i]) {
                size_t j = str_hash(f->seeds[i]) & (cap - 1);
                while (t[j])
                    j = (j + 1) & (cap - 1);
                t[j] = f->seeds[i];
            }
        free(f->seeds);
        f->seeds = t;
        f->seed_cap = cap;
    }
    size_t mask = f->seed_cap - 1, i = h & mask;
    for (; f->seeds[i]; i = (i + 1) & mask)
        if (strcmp(f->seeds[i], seed) == 0)
            return f->seeds[i];
    if (!(f->seeds[i] = strdup(seed)))
        return NULL;
    f->seed_count++;
    return f->seeds[i];
}

/* ---- the host table ---- */

static host *host_find(const tw_frontier *f, const char *key)
{
    if (!f->host_cap)
        return NULL;
    uint64_t h = str_hash(key);
    size_t mask = f->host_cap - 1;
    for (size_t i = h & mask; f->hosts[i]; i = (i + 1) & mask)
        if (f->hosts[i]->hash == h && strcmp(f->hosts[i]->key, key) == 0)
            return f->hosts[i];
    return NULL;
}

static void host_place(host **t, size_t cap, host *h)
{
    size_t i = h->hash & (cap - 1);
    while (t[i])
        i = (i + 1) & (cap - 1);
    t[i] = h;
}

static host *host_get(tw_frontier *f, const char *key)
{
    host *h = host_find(f, key);
    if (h)
        return h;
    if ((f->host_count + 1) * 2 > f->host_cap) {
        size_t cap = f->host_cap ? f->host_cap * 2 : 64;
        host **t = calloc(cap, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < f->host_cap; i++)
            if (f->hosts[i])
                host_place(t, cap, f->hosts[i]);
        free(f->hosts);
        f->hosts = t;
        f->host_cap = cap;
    }
    size_t len = strlen(key);
    if (!(h = calloc(1, sizeof *h + len + 1)))
        return NULL;
    memcpy(h->key, key, len + 1);
    h->hash = str_hash(key);
    h->state = H_IDLE;
    h->robots_state = f->robots ? R_UNKNOWN : R_KNOWN;
    host_place(f->hosts, f->host_cap, h);
    f->host_count++;
    return h;
}

/* ---- the time heap of hosts ---- */

static bool before(const host *a, const host *b)
{
    return a->ready_at < b->ready_at || (a->ready_at == b->ready_at && a->seq < b->seq);
}

static void heap_set(tw_frontier *f, size_t i, host *h)
{
    f->heap[i] = h;
    h->heap_idx = i;
}

static void heap_up(tw_frontier *f, size_t i)
{
    host *h = f->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(h, f->heap[p]))
            break;
        heap_set(f, i, f->heap[p]);
        i = p;
    }
    heap_set(f, i, h);
}

static void heap_down(tw_frontier *f, size_t i)
{
    host *h = f->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= f->heap_len)
            break;
        if (c + 1 < f->heap_len && before(f->heap[c + 1], f->heap[c]))
            c++;
        if (!before(f->heap[c], h))
            break;
        heap_set(f, i, f->heap[c]);
        i = c;
    }
    heap_set(f, i, h);
}

static int heap_push(tw_frontier *f, host *h)
{
    if (f->heap_len == f->heap_cap) {
        size_t cap = f->heap_cap ? f->heap_cap * 2 : 64;
        host **t = realloc(f->heap, cap * sizeof *t);
        if (!t)
            return -1;
        f->heap = t;
        f->heap_cap = cap;
    }
    h->seq = f->seq++;
    heap_set(f, f->heap_len++, h);
    heap_up(f, f->heap_len - 1);
    return 0;
}

static host *heap_pop(tw_frontier *f)
{
    host *top = f->heap[0];
    if (--f->heap_len > 0) {
        heap_set(f, 0, f->heap[f->heap_len]);
        heap_down(f, 0);
    }
    return top;
}

/* ---- scheduling ---- */

static void set_state(tw_frontier *f, host *h, enum host_state s)
{
    f->n_full += (s == H_FULL) - (h->state == H_FULL);
    f->n_robots += (s == H_ROBOTS) - (h->state == H_ROBOTS);
    h->state = (uint8_t)s;
}

static void ready_push(tw_frontier *f, host *h)
{
    set_state(f, h, H_READY);
    h->ready_next = NULL;
    if (f->ready_tail)
        f->ready_tail->ready_next = h;
    else
        f->ready_head = h;
    f->ready_tail = h;
    f->ready_len++;
}

static host *ready_pop(tw_frontier *f)
{
    host *h = f->ready_head;
    if (h) {
        f->ready_head = h->ready_next;
        if (!f->ready_head)
            f->ready_tail = NULL;
        f->ready_len--;
        set_state(f, h, H_IDLE);
    }
    return h;
}

static int64_t host_ready_at(const host *h)
{
    if (h->robots_state == R_UNKNOWN && h->robots_retry_at > h->next_allowed)
        return h->robots_retry_at;
    return h->next_allowed;
}

/*
 * Puts a host that is in no structure where its state says: the time heap when it
 * may start (now or later: tw_frontier_next moves it on when its time comes), or
 * nowhere. If the heap cannot grow, the host goes to the ready list instead, which
 * only costs it its rate limit for one start.
 */
static void schedule(tw_frontier *f, host *h)
{
    if (h->state == H_READY || h->state == H_WAITING)
        return;
    if (h->robots_state == R_PENDING)
        set_state(f, h, H_ROBOTS);
    else if (!h->head)
        set_state(f, h, H_IDLE);
    else if (h->inflight >= f->per_host)
        set_state(f, h, H_FULL);
    else {
        h->ready_at = host_ready_at(h);
        set_state(f, h, H_WAITING);
        if (heap_push(f, h) < 0)
            ready_push(f, h);
    }
}

/* ---- retries ---- */

static int retry_push(tw_frontier *f, retry r)
{
    if (f->retry_len == f->retry_cap) {
        size_t cap = f->retry_cap ? f->retry_cap * 2 : 64;
        retry *t = realloc(f->retries, cap * sizeof *t);
        if (!t)
            return -1;
        f->retries = t;
        f->retry_cap = cap;
    }
    size_t i = f->retry_len++;
    while (i > 0 && f->retries[(i - 1) / 2].at > r.at) {
        f->retries[i] = f->retries[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    f->retries[i] = r;
    return 0;
}

static retry retry_pop(tw_frontier *f)
{
    retry top = f->retries[0], last = f->retries[--f->retry_len];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= f->retry_len)
            break;
        if (c + 1 < f->retry_len && f->retries[c + 1].at < f->retries[c].at)
            c++;
        if (last.at <= f->retries[c].at)
            break;
        f->retries[i] = f->retries[c];
        i = c;
    }
    if (f->retry_len)
        f->retries[i] = last;
    return top;
}

static void push_front(host *h, node *n)
{
    n->next = h->head;
    h->head = n;
    if (!h->tail)
        h->tail = n;
}

/* Retries whose time has come go to the front of their host's queue. */
static void promote_retries(tw_frontier *f, int64_t now)
{
    while (f->retry_len && f->retries[0].at <= now) {
        retry r = retry_pop(f);
        push_front(r.h, r.n);
        schedule(f, r.h);
    }
}

/* Hosts whose time has come join the ready list, in time order. */
static void promote_hosts(tw_frontier *f, int64_t now)
{
    while (f->heap_len && f->heap[0]->ready_at <= now)
        ready_push(f, heap_pop(f));
}

/* ---- the public operations ---- */

tw_frontier *tw_frontier_new(int per_host, int64_t interval_ms, bool robots)
{
    tw_frontier *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->per_host = per_host < 1 ? 1 : per_host;
    f->interval = interval_ms > 0 ? interval_ms : 0;
    f->robots = robots;
    f->next_id = 1;
    /* Without entropy the salt is a constant: only resistance to crafted URLs is lost. */
    if (getrandom(&f->salt, sizeof f->salt, GRND_NONBLOCK) != (ssize_t)sizeof f->salt)
        f->salt = 0x9e3779b97f4a7c15ull;
    return f;
}

static void free_queue(node *n)
{
    while (n) {
        node *next = n->next;
        node_free(n);
        n = next;
    }
}

void tw_frontier_free(tw_frontier *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->host_cap; i++)
        if (f->hosts[i]) {
            free_queue(f->hosts[i]->head);
            tw_robots_free(f->hosts[i]->rules);
            free(f->hosts[i]);
        }
    for (size_t i = 0; i < f->retry_len; i++)
        node_free(f->retries[i].n);
    for (size_t i = 0; i < f->seed_cap; i++)
        free(f->seeds[i]);
    rc_unref(f->last_parent);
    free(f->seeds);
    free(f->retries);
    free(f->heap);
    free(f->hosts);
    for (size_t i = 0; i < SEEN_SHARDS; i++)
        free(f->seen[i].t);
    free(f);
}

static rcstr *parent_ref(tw_frontier *f, const char *parent)
{
    if (!parent)
        return NULL;
    if (!f->last_parent || strcmp(f->last_parent->s, parent) != 0) {
        rcstr *r = rc_new(parent);
        if (!r)
            return NULL;
        rc_unref(f->last_parent);
        f->last_parent = r; /* the frontier's own reference keeps it for the next add */
    }
    f->last_parent->refs++;
    return f->last_parent;
}

/* Checks that url is a normalized http(s) URL and finds (or makes) its host when h is
 * not NULL. Returns 0, TW_FRONTIER_EINVAL or TW_FRONTIER_ENOMEM. */
static int url_host(tw_frontier *f, const char *url, size_t len, host **h)
{
    char buf[512], *key = buf;
    int rc = tw_url_host_key(url, buf, sizeof buf);
    if (rc == TW_URL_ETOOLONG) { /* a host key is never longer than its URL */
        if (!(key = malloc(len + 8)))
            return TW_FRONTIER_ENOMEM;
        rc = tw_url_host_key(url, key, len + 8);
    }
    int ret = rc != 0 ? TW_FRONTIER_EINVAL : 0;
    if (rc == 0 && h && !(*h = host_get(f, key)))
        ret = TW_FRONTIER_ENOMEM;
    if (key != buf)
        free(key);
    return ret;
}

/* Queues url at the tail of its host h. Returns 0 or TW_FRONTIER_ENOMEM. */
static int enqueue(tw_frontier *f, host *h, const char *url, size_t len, int64_t id, int depth, int attempts,
                   const char *parent, const char *seed)
{
    node *n = node_new(url, len);
    if (!n)
        return TW_FRONTIER_ENOMEM;
    n->id = id;
    n->depth = depth;
    n->attempts = attempts;
    n->seed = seed ? seed_intern(f, seed) : NULL;
    n->parent = parent_ref(f, parent);
    if ((seed && !n->seed) || (parent && !n->parent)) {
        node_free(n);
        return TW_FRONTIER_ENOMEM;
    }
    if (h->tail)
        h->tail->next = n;
    else
        h->head = n;
    h->tail = n;
    f->held++;
    schedule(f, h);
    return 0;
}

int tw_frontier_add(tw_frontier *f, const char *url, int depth, const char *parent, const char *seed)
{
    return tw_frontier_add_id(f, url, depth, parent, seed, NULL);
}

int tw_frontier_add_id(tw_frontier *f, const char *url, int depth, const char *parent, const char *seed,
                       int64_t *id)
{
    size_t len = strlen(url);
    uint64_t key = seen_key_of(tw_frontier_fingerprint(url, len));
    seen_shard *sh;
    ptrdiff_t slot = seen_find(f, key, &sh); /* stays valid: nothing below grows the shard */
    if (slot < 0)
        return TW_FRONTIER_ENOMEM;
    if (sh->t[slot] == key) /* most links were seen: answer before parsing the URL */
        return 0;
    /* Once one URL is spilled, every later one is too, until a refill has taken them
     * all back: so the spilled URLs are always the store's latest, in order. */
    bool spill = f->spilled > 0 || (f->window && f->held >= f->window);
    host *h = NULL;
    int rc = url_host(f, url, len, spill ? NULL : &h);
    if (rc == 0 && !spill)
        rc = enqueue(f, h, url, len, f->next_id, depth, 0, parent, seed);
    if (rc != 0)
        return rc;
    seen_put(f, sh, (size_t)slot, key);
    if (id)
        *id = f->next_id;
    if (spill && f->spilled++ == 0)
        f->spill_after = f->next_id - 1;
    f->next_id++;
    return spill ? TW_FRONTIER_SPILLED : 1;
}

int tw_frontier_refill(tw_frontier *f, const char *url, int depth, const char *parent, const char *seed,
                       int attempts, int64_t id)
{
    size_t len = strlen(url);
    host *h = NULL;
    int rc = url_host(f, url, len, &h);
    if (rc == 0)
        rc = enqueue(f, h, url, len, id, depth, attempts, parent, seed);
    if (rc == TW_FRONTIER_ENOMEM)
        return rc;
    /* Taken back, or (not a URL: only a hand-edited store has one) dropped. */
    if (f->spilled > 0)
        f->spilled--;
    f->spill_after = id;
    return rc == 0 ? 1 : rc;
}

size_t tw_frontier_spilled(const tw_frontier *f) { return f->spilled; }

size_t tw_frontier_held(const tw_frontier *f) { return f->held; }

void tw_frontier_set_window(tw_frontier *f, size_t window) { f->window = window; }

size_t tw_frontier_window(const tw_frontier *f) { return f->window; }

bool tw_frontier_wants_refill(const tw_frontier *f)
{
    return f->spilled > 0 && (!f->window || f->held * 2 < f->window);
}

size_t tw_frontier_refill_room(const tw_frontier *f)
{
    size_t room = f->spilled;
    if (f->window) {
        size_t free_slots = f->held < f->window ? f->window - f->held : 0;
        if (free_slots < room)
            room = free_slots;
    }
    return room;
}

int64_t tw_frontier_spill_cursor(const tw_frontier *f) { return f->spill_after; }

int64_t tw_frontier_next_id(const tw_frontier *f) { return f->next_id; }

void tw_frontier_set_next_id(tw_frontier *f, int64_t id) { f->next_id = id > 0 ? id : 1; }

void tw_frontier_set_spilled(tw_frontier *f, size_t n, int64_t after_id)
{
    f->spilled = n;
    f->spill_after = after_id;
}

static void fill_item(tw_frontier_item *it, host *h, node *n)
{
    it->url = n->url;
    it->parent = n->parent ? n->parent->s : NULL;
    it->seed = n->seed;
    it->host = h->key;
    it->depth = n->depth;
    it->attempts = n->attempts;
    it->id = n->id;
    it->mem_ = n;
}

static node *pop_front(host *h)
{
    node *n = h->head;
    h->head = n->next;
    if (!h->head)
        h->tail = NULL;
    n->next = NULL;
    return n;
}

static bool robots_due(const tw_frontier *f, const host *h, int64_t now)
{
    if (!f->robots)
        return false;
    return h->robots_state == R_UNKNOWN ||
           (h->robots_state == R_KNOWN && now - h->robots_at >= TW_FRONTIER_ROBOTS_TTL_MS);
}

/* Takes a slot and a start of h at now. */
static void take_slot(tw_frontier *f, host *h, int64_t now)
{
    int64_t interval = h->interval > f->interval ? h->interval : f->interval;
    h->inflight++;
    f->in_flight++;
    h->prev_allowed = h->next_allowed;
    h->next_allowed = now + interval;
}

/* A robots.txt item for the host of URL u: its scheme and authority + "/robots.txt". */
static node *robots_node(const char *u)
{
    const char *pq = tw_url_path_query(u);
    size_t pre = pq ? (size_t)(pq - u) : 0;
    node *n = malloc(sizeof *n + pre + sizeof "/robots.txt");
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    memcpy(n->url, u, pre);
    memcpy(n->url + pre, "/robots.txt", sizeof "/robots.txt");
    return n;
}

int tw_frontier_next(tw_frontier *f, int64_t now, tw_frontier_item *it, char *hostbuf, size_t n,
                     int64_t *wake)
{
    memset(it, 0, sizeof *it);
    promote_retries(f, now);
    promote_hosts(f, now);
    host *h;
    /* Each host on the list is looked at once at most, so a host put back on it (the
     * fallback when the heap cannot grow) cannot keep this loop going. */
    for (size_t budget = f->ready_len; budget > 0 && (h = ready_pop(f)); budget--) {
        if (!h->head || h->inflight >= f->per_host || h->robots_state == R_PENDING ||
            host_ready_at(h) > now) {
            schedule(f, h); /* a fallback host whose state changed: set it right */
            continue;
        }
        int kind;
        if (robots_due(f, h, now)) {
            node *r = robots_node(h->head->url);
            if (!r) {
                ready_push(f, h); /* try again next call */
                break;
            }
            h->robots_state = R_PENDING;
            take_slot(f, h, now);
            fill_item(it, h, r);
            kind = TW_FRONTIER_ROBOTS;
        } else {
            node *u = pop_front(h);
            f->held--;
            fill_item(it, h, u);
            const char *pq = tw_url_path_query(u->url);
            if (f->robots && h->rules && !tw_robots_allowed(h->rules, pq ? pq : "/"))
                kind = TW_FRONTIER_DISALLOWED;
            else {
                take_slot(f, h, now);
                kind = TW_FRONTIER_PAGE;
            }
        }
        schedule(f, h);
        if (hostbuf && n) {
            size_t len = strlen(h->key);
            if (len >= n)
                len = n - 1;
            memcpy(hostbuf, h->key, len);
            hostbuf[len] = '\0';
        }
        return kind;
    }
    if (wake) {
        int64_t w = -1;
        if (f->heap_len)
            w = f->heap[0]->ready_at;
        if (f->retry_len && (w < 0 || f->retries[0].at < w))
            w = f->retries[0].at;
        *wake = w;
    }
    return TW_FRONTIER_NONE;
}

void tw_frontier_done(tw_frontier *f, const char *key)
{
    host *h = host_find(f, key);
    if (!h || h->inflight == 0)
        return;
    h->inflight--;
    f->in_flight--;
    if (h->state == H_FULL) {
        set_state(f, h, H_IDLE);
        schedule(f, h);
    }
}

void tw_frontier_item_free(tw_frontier_item *it)
{
    if (it->mem_)
        node_free(it->mem_);
    memset(it, 0, sizeof *it);
}

void tw_frontier_undo(tw_frontier *f, tw_frontier_item *it, const char *key, bool robots)
{
    host *h = host_find(f, key);
    node *n = it->mem_;
    memset(it, 0, sizeof *it);
    if (!n)
        return;
    if (!h) {
        node_free(n);
        return;
    }
    if (robots) {
        node_free(n);
        h->robots_state = R_UNKNOWN;
    } else {
        push_front(h, n);
        f->held++;
    }
    if (h->inflight > 0) {
        h->inflight--;
        f->in_flight--;
    }
    h->next_allowed = h->prev_allowed;
    if (h->state == H_WAITING) { /* its time can only have come earlier */
        h->ready_at = host_ready_at(h);
        heap_up(f, h->heap_idx);
    } else if (h->state != H_READY) {
        set_state(f, h, H_IDLE);
        schedule(f, h);
    }
}

int tw_frontier_retry(tw_frontier *f, tw_frontier_item *it, int64_t not_before)
{
    host *h = it->host ? host_find(f, it->host) : NULL;
    node *n = it->mem_;
    if (!h || !n)
        return TW_FRONTIER_EINVAL;
    n->attempts = it->attempts;
    n->depth = it->depth;
    memset(it, 0, sizeof *it);
    if (retry_push(f, (retry){.at = not_before, .n = n, .h = h}) < 0) {
        node_free(n);
        return TW_FRONTIER_ENOMEM;
    }
    f->held++;
    return 0;
}

void tw_frontier_robots(tw_frontier *f, const char *key, tw_robots *r, int64_t now)
{
    host *h = host_find(f, key);
    if (!h) {
        tw_robots_free(r);
        return;
    }
    if (!r || tw_robots_get_state(r) == TW_ROBOTS_UNREACHABLE) {
        if (++h->robots_failures < TW_FRONTIER_ROBOTS_TRIES) {
            tw_robots_free(r);
            h->robots_state = R_UNKNOWN;
            h->robots_retry_at = now + ((int64_t)1000 << (h->robots_failures - 1));
            goto reschedule;
        }
        tw_robots_free(r);
        r = tw_robots_disallow_all(); /* NULL if out of memory: then allowed, not stuck */
        h->robots_unreachable = true;
    } else
        h->robots_unreachable = false;
    tw_robots_free(h->rules);
    h->rules = r;
    h->robots_state = R_KNOWN;
    h->robots_at = now;
    h->robots_failures = 0;
reschedule:
    if (h->state == H_ROBOTS) {
        set_state(f, h, H_IDLE);
        schedule(f, h);
    }
}

int tw_frontier_restore_host(tw_frontier *f, const char *key, tw_robots *r, int64_t robots_at, int64_t interval_ms,
                             int64_t not_before)
{
    host *h = host_get(f, key);
    if (!h) {
        tw_robots_free(r);
        return TW_FRONTIER_ENOMEM;
    }
    if (r && f->robots && tw_robots_get_state(r) != TW_ROBOTS_UNREACHABLE) {
        tw_robots_free(h->rules);
        h->rules = r;
        h->robots_state = R_KNOWN;
        h->robots_at = robots_at;
        h->robots_failures = 0;
        h->robots_unreachable = false;
    } else {
        tw_robots_free(r);
    }
    h->interval = interval_ms > 0 ? interval_ms : 0;
    if (not_before > h->next_allowed)
        h->next_allowed = not_before;
    return 0;
}

bool tw_frontier_robots_unreachable(tw_frontier *f, const char *key)
{
    host *h = host_find(f, key);
    return h && h->robots_unreachable;
}

void tw_frontier_set_interval(tw_frontier *f, const char *key, int64_t interval_ms)
{
    host *h = host_find(f, key);
    if (h)
        h->interval = interval_ms > 0 ? interval_ms : 0;
}

int64_t tw_frontier_interval(tw_frontier *f, const char *key)
{
    host *h = host_find(f, key);
    return h ? h->interval : 0;
}

size_t tw_frontier_queued(const tw_frontier *f) { return f->held + f->spilled; }

void tw_frontier_get_stats(tw_frontier *f, int64_t now, tw_frontier_stats *st)
{
    promote_hosts(f, now);
    memset(st, 0, sizeof *st);
    st->queued = f->held + f->spilled;
    st->spilled = f->spilled;
    st->retrying = f->retry_len;
    st->in_flight = f->in_flight;
    st->seen = f->seen_count;
    st->seen_bytes = f->seen_slots * sizeof(uint64_t);
    st->hosts = f->host_count;
    st->hosts_ready = f->ready_len;
    st->hosts_rate_limited = f->heap_len;
    st->hosts_full = f->n_full;
    st->hosts_robots = f->n_robots;
}
