/* ratelimiter.c -- the RateLimiter: a blocking pool of request slots per host.
 *
 * A Downloader calls acquire(host, Crawl-delay) and is answered only when it may start:
 * fewer than --per-host requests to that host in flight, fewer than --concurrency in
 * all, and at least the host's interval (1/--rate, or the longest Crawl-delay a request
 * carried) since the last start to it. Callers that must wait get a deferred reply, in
 * arrival order per host. The limiter monitors every Downloader holding a slot and
 * takes the slot back on its DOWN, so a Downloader that crashes (or is killed) never
 * leaks one; that is also how a slot is released normally, when the Downloader ends.
 */
#include <stdlib.h>
#include <string.h>

#include "crawl.h"

typedef struct waiter {
    struct waiter *next;
    tr_gen_from from;
} waiter;

typedef struct host {
    struct host *next; /* hash chain */
    char key[256];
    int in_flight;
    int64_t interval_ms;
    int64_t next_start; /* ms, tr_now_ms clock */
    waiter *wait_head, *wait_tail;
    bool timer_set;
} host;

typedef struct holder { /* a Downloader holding a slot */
    struct holder *next;
    tr_ref mon;
    host *h;
} holder;

#define NBUCKETS 4096

typedef struct limiter {
    const tw_crawl_config *cfg;
    host *hosts[NBUCKETS];
    holder *holders[NBUCKETS];
    int in_flight;
    int64_t default_interval;
    size_t waiting;
} limiter;

static unsigned hash_str(const char *s) {
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % NBUCKETS;
}

static host *host_get(limiter *l, const char *key) {
    unsigned b = hash_str(key);
    for (host *h = l->hosts[b]; h; h = h->next)
        if (strcmp(h->key, key) == 0) return h;
    host *h = calloc(1, sizeof *h);
    if (!h) tr_crash("rate limiter: out of memory");
    snprintf(h->key, sizeof h->key, "%s", key);
    h->interval_ms = l->default_interval;
    h->next = l->hosts[b];
    l->hosts[b] = h;
    return h;
}

/* Grants waiting callers of h as far as the limits allow; arms a timer for the rest. */
static void grant(limiter *l, host *h) {
    int64_t now = tr_now_ms();
    while (h->wait_head && h->in_flight < l->cfg->per_host && l->in_flight < l->cfg->concurrency) {
        if (now < h->next_start) {
            if (!h->timer_set) {
                tr_send_after(h->next_start - now, tr_self(), TW_TAG_PUMP, h->key, strlen(h->key) + 1);
                h->timer_set = true;
            }
            return;
        }
        waiter *w = h->wait_head;
        h->wait_head = w->next;
        if (!h->wait_head) h->wait_tail = NULL;
        l->waiting--;
        holder *hd = malloc(sizeof *hd);
        if (!hd) tr_crash("rate limiter: out of memory");
        hd->mon = tr_monitor(w->from.pid);
        hd->h = h;
        unsigned b = (unsigned)(hd->mon % NBUCKETS);
        hd->next = l->holders[b];
        l->holders[b] = hd;
        h->in_flight++;
        l->in_flight++;
        h->next_start = now + h->interval_ms;
        tr_gen_reply(w->from, NULL, 0);
        free(w);
    }
}

/* A slot came back: the same host first, then any host held up by --concurrency. */
static void release(limiter *l, host *h) {
    h->in_flight--;
    l->in_flight--;
    grant(l, h);
    if (l->waiting && l->in_flight < l->cfg->concurrency)
        for (unsigned b = 0; b < NBUCKETS && l->in_flight < l->cfg->concurrency; b++)
            for (host *o = l->hosts[b]; o; o = o->next)
                if (o->wait_head) grant(l, o);
}

static void init(void *arg, void **state, tr_gen_ret *out) {
    (void)out;
    limiter *l = calloc(1, sizeof *l);
    if (!l) tr_crash("rate limiter: out of memory");
    l->cfg = arg;
    l->default_interval = l->cfg->rate > 0 ? (int64_t)(1000.0 / l->cfg->rate + 0.5) : 0;
    *state = l;
}

static void handle_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    limiter *l = state;
    const tw_acquire_msg *m = req->data;
    if (req->tag != TW_TAG_ACQUIRE || req->len != sizeof *m || !memchr(m->host, 0, sizeof m->host)) {
        tr_gen_ret_reply(out, NULL, 0);
        return;
    }
    host *h = host_get(l, m->host);
    if (m->interval_ms > h->interval_ms) h->interval_ms = m->interval_ms;
    waiter *w = malloc(sizeof *w);
    if (!w) tr_crash("rate limiter: out of memory");
    w->from = from;
    w->next = NULL;
    if (h->wait_tail) h->wait_tail->next = w;
    else h->wait_head = w;
    h->wait_tail = w;
    l->waiting++;
    grant(l, h);
    out->action = TR_GEN_NOREPLY; /* answered by grant(), now or later */
}

static void handle_info(const tr_msg *msg, void *state, tr_gen_ret *out) {
    (void)out;
    limiter *l = state;
    if (msg->kind == TR_MSG_DOWN) {
        for (holder **p = &l->holders[msg->ref % NBUCKETS]; *p; p = &(*p)->next) {
            if ((*p)->mon != msg->ref) continue;
            holder *hd = *p;
            *p = hd->next;
            host *h = hd->h;
            free(hd);
            release(l, h);
            return;
        }
    } else if (msg->kind == TR_MSG_USER && msg->tag == TW_TAG_PUMP && msg->len) {
        host *h = host_get(l, msg->data);
        h->timer_set = false;
        grant(l, h);
    }
}

static void terminate(const tr_reason *reason, void *state) {
    (void)reason;
    limiter *l = state;
    for (unsigned b = 0; b < NBUCKETS; b++) {
        for (host *h = l->hosts[b], *n; h; h = n) {
            n = h->next;
            for (waiter *w = h->wait_head, *wn; w; w = wn) {
                wn = w->next;
                free(w);
            }
            free(h);
        }
        for (holder *hd = l->holders[b], *n; hd; hd = n) {
            n = hd->next;
            free(hd);
        }
    }
    free(l);
}

static const tr_gen_callbacks limiter_cb = {
    .entry = "rate_limiter",
    .init = init,
    .handle_call = handle_call,
    .handle_info = handle_info,
    .terminate = terminate,
};

int tw_limiter_start(void *cfg, tr_pid *pid, const tr_reason **why) {
    tr_trap_exit(false);
    /* High priority: every Downloader waits on its slot, and a grant is a few lines. */
    return tr_gen_start_link(&limiter_cb, cfg, &(tr_gen_opts){.name = TW_LIMITER_NAME, .priority = TR_PRIORITY_HIGH},
                             pid, why);
}

int tw_limiter_acquire(tr_pid limiter, const char *host, int64_t interval_ms) {
    tw_acquire_msg m = {.interval_ms = interval_ms};
    snprintf(m.host, sizeof m.host, "%s", host);
    tr_msg *reply = NULL;
    const tr_reason *why = NULL;
    int rc = tr_gen_call(limiter, TW_TAG_ACQUIRE, &m, sizeof m, TR_INFINITY, &reply, &why);
    tr_msg_free(reply);
    tr_reason_unref(why);
    return rc;
}

