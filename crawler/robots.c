/* robots.c - robots.txt (RFC 9309): parser, matcher, fetch-status rules and per-host cache. */
#include "robots.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*
 * Patterns and paths are compared in a canonical form of percent-encoding:
 * escapes of unreserved characters are decoded ("%7e" -> "~"), other escapes
 * get upper-case hex ("%e3" -> "%E3"), and bytes that may not stand in a URI
 * as themselves (non-ASCII, controls, space, "<>{}|\^`, a '%' that starts no
 * escape) are escaped ("<" -> "%3C"). Reserved characters and their escapes
 * stay distinct ("%2F" != "/"). In the canonical form a '%' always starts a
 * three-byte escape, which the matcher relies on. In a compiled pattern '*'
 * is the wildcard (a path's '*' is only ever matched by it) and a final '$'
 * becomes the rule's anchored flag.
 */
#define MAX_SITEMAPS 1000

struct rule {
    uint32_t off;      /* first byte of the canonical pattern in tw_robots.pool */
    uint32_t n;        /* its length, without the anchoring '$' */
    uint32_t head;     /* length of its part before the first '*' (n when none) */
    uint32_t priority; /* length of the pattern in canonical octets, '$' included */
    bool allow;
    bool anchored;     /* the pattern ended in '$': it must match the whole path */
};

struct tw_robots {
    tw_robots_state state;
    double crawl_delay;
    struct rule *rules; /* sorted: highest priority first, allow before disallow */
    size_t n_rules;
    char *pool;
    /*
     * An index by the path's second byte (the first is always '/'): the rules
     * that can match a path whose byte 1 is b are
     * order[start[bucket[b]] .. start[bucket[b] + 1]), in priority order.
     * Bucket 0 holds the rules whose first '*' comes before byte 1, which
     * every bucket includes, and serves paths of one byte.
     */
    uint16_t bucket[256];
    uint32_t *start;
    uint32_t *order;
    char **sitemaps;
    size_t n_sitemaps;
};

/* ---- character classes ---------------------------------------------------- */

enum { C_UNRESERVED = 1, C_RESERVED = 2, C_HEX = 4, C_SPACE = 8 };

static inline unsigned char cclass(unsigned char c)
{
    if ((unsigned char)((c | 0x20) - 'a') < 26)
        return C_UNRESERVED | (((c | 0x20) <= 'f') ? C_HEX : 0);
    if ((unsigned char)(c - '0') < 10)
        return C_UNRESERVED | C_HEX;
    switch (c) {
    case '-': case '.': case '_': case '~':
        return C_UNRESERVED;
    case ':': case '/': case '?': case '#': case '[': case ']': case '@':
    case '!': case '$': case '&': case '\'': case '(': case ')':
    case '*': case '+': case ',': case ';': case '=':
        return C_RESERVED;
    case ' ': case '\t': case '\v': case '\f':
        return C_SPACE;
    default:
        return 0;
    }
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static const char HEX[] = "0123456789ABCDEF";

/*
 * Writes the canonical form of the character at s (s < end) to out: 1 byte,
 * or 3 for an escape. Stores the number of input bytes read in *adv.
 */
static size_t canon_one(const char *s, const char *end, char *out, size_t *adv)
{
    unsigned char c = (unsigned char)*s;
    *adv = 1;
    if (cclass(c) & (C_UNRESERVED | C_RESERVED)) {
        out[0] = (char)c;
        return 1;
    }
    if (c == '%' && end - s >= 3) {
        int hi = hexval((unsigned char)s[1]), lo = hexval((unsigned char)s[2]);
        if (hi >= 0 && lo >= 0) {
            *adv = 3;
            c = (unsigned char)(hi << 4 | lo);
            if (cclass(c) & C_UNRESERVED) {
                out[0] = (char)c;
                return 1;
            }
        }
    }
    out[0] = '%'; /* a bare '%' becomes "%25" */
    out[1] = HEX[c >> 4];
    out[2] = HEX[c & 15];
    return 3;
}

/* Is [s, s+n) already canonical (as a normalized URL's path is)? */
static bool is_canonical(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (cclass(c) & (C_UNRESERVED | C_RESERVED)) continue;
        if (c != '%' || n - i < 3) return false;
        int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
        if (hi < 0 || lo < 0 || HEX[hi] != s[i + 1] || HEX[lo] != s[i + 2] ||
            (cclass((unsigned char)(hi << 4 | lo)) & C_UNRESERVED))
            return false;
        i += 2;
    }
    return true;
}

/* Writes the canonical form of [s, s+n) to out (room for 3n bytes); returns its length. */
static size_t canonicalize(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (const char *end = s + n; s < end;) {
        size_t adv;
        o += canon_one(s, end, out + o, &adv);
        s += adv;
    }
    return o;
}

/* ASCII case-insensitive comparison of n bytes. */
static bool ieqn(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z') x |= 0x20;
        if (y >= 'A' && y <= 'Z') y |= 0x20;
        if (x != y) return false;
    }
    return true;
}

/* Does a[0..an) equal the string b, ignoring ASCII case? */
static bool ieq(const char *a, size_t an, const char *b)
{
    return strlen(b) == an && ieqn(a, b, an);
}

/* ---- parse-time buffers ----------------------------------------------------- */

/* The rules gathered from the groups of one kind (those naming us, or `*`). */
struct ruleset {
    struct rule *rules;
    size_t n, cap;
    char *pool; /* the canonical patterns, back to back */
    size_t npool, cappool;
    double crawl_delay;
    bool matched; /* some group of this kind exists */
};

static bool grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return true;
    size_t ncap = *cap ? *cap : 16;
    while (ncap < need) ncap *= 2;
    void *q = realloc(*p, ncap * size);
    if (!q) return false;
    *p = q;
    *cap = ncap;
    return true;
}

/* Appends a compiled pattern; returns false when out of memory. */
static bool ruleset_add(struct ruleset *rs, bool allow, const char *v, size_t vn)
{
    /* An empty pattern matches nothing (RFC 9309 §2.2.2: "Disallow:" allows all). */
    if (vn == 0) return true;
    if (vn > UINT32_MAX / 4) return true;
    if (!grow((void **)&rs->rules, &rs->cap, rs->n + 1, sizeof *rs->rules) ||
        !grow((void **)&rs->pool, &rs->cappool, rs->npool + 3 * vn, 1))
        return false;
    char *out = rs->pool + rs->npool;
    size_t n = 0, prio = 0;
    bool anchored = false;
    for (const char *s = v, *end = v + vn; s < end;) {
        size_t adv = 1;
        if (*s == '*') {
            if (n == 0 || out[n - 1] != '*') out[n++] = '*';
            prio += 1;
        } else if (*s == '$' && s + 1 == end) {
            anchored = true;
            prio += 1;
        } else {
            size_t w = canon_one(s, end, out + n, &adv);
            n += w;
            prio += w;
        }
        s += adv;
    }
    const char *star = memchr(out, '*', n);
    rs->rules[rs->n++] = (struct rule){.off = (uint32_t)rs->npool, .n = (uint32_t)n,
                                       .head = star ? (uint32_t)(star - out) : (uint32_t)n,
                                       .priority = (uint32_t)prio, .allow = allow,
                                       .anchored = anchored};
    rs->npool += n;
    return true;
}

static void ruleset_free(struct ruleset *rs)
{
    free(rs->rules);
    free(rs->pool);
}

/* Parses a non-negative decimal number ("10", "0.5", ".5"); -1 when it is not one. */
static double parse_delay(const char *v, size_t vn)
{
    double x = 0, scale = 1;
    bool digits = false, dot = false;
    for (size_t i = 0; i < vn; i++) {
        char c = v[i];
        if (c >= '0' && c <= '9') {
            digits = true;
            if (dot) {
                scale /= 10;
                x += (c - '0') * scale;
            } else if (x < 1e12) {
                x = x * 10 + (c - '0');
            }
        } else if (c == '.' && !dot) {
            dot = true;
        } else {
            return -1;
        }
    }
    return digits ? x : -1;
}

/* ---- line handling ------------------------------------------------------------- */

enum key { K_UNKNOWN, K_USER_AGENT, K_ALLOW, K_DISALLOW, K_CRAWL_DELAY, K_SITEMAP };

/* Recognizes a directive name, with the misspellings sites really use (as Google does). */
static enum key classify(const char *k, size_t kn)
{
    static const struct { const char *name; enum key key; } names[] = {
        {"user-agent", K_USER_AGENT}, {"useragent", K_USER_AGENT}, {"user agent", K_USER_AGENT},
        {"allow", K_ALLOW},
        {"disallow", K_DISALLOW}, {"dissallow", K_DISALLOW}, {"dissalow", K_DISALLOW},
        {"disalow", K_DISALLOW}, {"diasllow", K_DISALLOW}, {"disallaw", K_DISALLOW},
        {"crawl-delay", K_CRAWL_DELAY}, {"crawldelay", K_CRAWL_DELAY},
        {"sitemap", K_SITEMAP}, {"site-map", K_SITEMAP},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (ieq(k, kn, names[i].name)) return names[i].key;
    return K_UNKNOWN;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (cclass((unsigned char)**s) & C_SPACE)) (*s)++, (*n)--;
    while (*n && (cclass((unsigned char)(*s)[*n - 1]) & C_SPACE)) (*n)--;
}

/*
 * Splits a line (comment already removed) into key and value. Besides
 * "key: value" it accepts "key value" with no colon when the line has exactly
 * two words, as Google's parser does. Returns false for lines that are no directive.
 */
static bool split_line(const char *l, size_t ln, const char **k, size_t *kn,
                       const char **v, size_t *vn)
{
    trim(&l, &ln);
    if (ln == 0) return false;
    const char *colon = memchr(l, ':', ln);
    if (colon) {
        *k = l;
        *kn = (size_t)(colon - l);
        *v = colon + 1;
        *vn = ln - *kn - 1;
    } else {
        size_t i = 0;
        while (i < ln && !(cclass((unsigned char)l[i]) & C_SPACE)) i++;
        if (i == ln) return false;
        *k = l;
        *kn = i;
        *v = l + i;
        *vn = ln - i;
        trim(v, vn);
        for (size_t j = 0; j < *vn; j++)
            if (cclass((unsigned char)(*v)[j]) & C_SPACE) return false;
    }
    trim(k, kn);
    trim(v, vn);
    return *kn > 0;
}

/* The parser's state between lines. */
struct parser {
    const char *product;
    size_t product_len;
    bool in_agents;      /* the previous directive was a user-agent line */
    bool group_open;     /* some user-agent line has been seen */
    bool group_specific; /* the current group names our product token */
    bool group_global;   /* the current group names `*` */
    struct ruleset specific, global;
    char **sitemaps;
    size_t n_sitemaps, cap_sitemaps;
    bool oom;
};

static void on_user_agent(struct parser *p, const char *v, size_t vn)
{
    if (!p->in_agents) {
        p->group_specific = p->group_global = false;
        p->in_agents = p->group_open = true;
    }
    if (vn >= 1 && v[0] == '*' && (vn == 1 || (cclass((unsigned char)v[1]) & C_SPACE))) {
        p->group_global = true;
        p->global.matched = true;
        return;
    }
    size_t t = 0; /* only the product token counts: "Googlebot/2.1" -> "Googlebot" */
    while (t < vn && v[t] != '/' && !(cclass((unsigned char)v[t]) & C_SPACE)) t++;
    if (p->product_len > 0 && t == p->product_len && ieqn(v, p->product, t)) {
        p->group_specific = true;
        p->specific.matched = true;
    }
}

static void on_rule(struct parser *p, enum key key, const char *v, size_t vn)
{
    p->in_agents = false;
    if (!p->group_open) return; /* rules before any user-agent line belong to no group */
    struct ruleset *sets[2] = {p->group_specific ? &p->specific : NULL,
                               p->group_global ? &p->global : NULL};
    for (int i = 0; i < 2; i++) {
        struct ruleset *rs = sets[i];
        if (!rs) continue;
        if (key == K_CRAWL_DELAY) {
            double d = parse_delay(v, vn);
            if (d >= 0 && rs->crawl_delay < 0) rs->crawl_delay = d;
        } else if (!ruleset_add(rs, key == K_ALLOW, v, vn)) {
            p->oom = true;
        }
    }
}

static void on_sitemap(struct parser *p, const char *v, size_t vn)
{
    if (vn == 0 || p->n_sitemaps >= MAX_SITEMAPS) return;
    if (!grow((void **)&p->sitemaps, &p->cap_sitemaps, p->n_sitemaps + 1, sizeof *p->sitemaps)) {
        p->oom = true;
        return;
    }
    char *s = malloc(vn + 1);
    if (!s) {
        p->oom = true;
        return;
    }
    memcpy(s, v, vn);
    s[vn] = '\0';
    p->sitemaps[p->n_sitemaps++] = s;
}

static void on_line(struct parser *p, const char *l, size_t ln)
{
    const char *hash = memchr(l, '#', ln);
    if (hash) ln = (size_t)(hash - l);
    const char *k, *v;
    size_t kn, vn;
    if (!split_line(l, ln, &k, &kn, &v, &vn)) return;
    enum key key = classify(k, kn);
    switch (key) {
    case K_USER_AGENT: on_user_agent(p, v, vn); break;
    case K_ALLOW: case K_DISALLOW: case K_CRAWL_DELAY: on_rule(p, key, v, vn); break;
    case K_SITEMAP: on_sitemap(p, v, vn); break;
    case K_UNKNOWN: break;
    }
}

/* ---- building the object ---------------------------------------------------- */

static int rule_cmp(const void *a, const void *b)
{
    const struct rule *x = a, *y = b;
    if (x->priority != y->priority) return x->priority > y->priority ? -1 : 1;
    if (x->allow != y->allow) return x->allow ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static tw_robots *robots_new(tw_robots_state state)
{
    tw_robots *r = calloc(1, sizeof *r);
    if (r) {
        r->state = state;
        r->crawl_delay = -1;
    }
    return r;
}

/* Does rule i need a particular byte 1 in the path (and which)? */
static bool rule_needs_byte1(const tw_robots *r, size_t i, unsigned char *b)
{
    const struct rule *ru = &r->rules[i];
    if (ru->head < 2) return false;
    *b = (unsigned char)r->pool[ru->off + 1];
    return true;
}

/* Builds the index by byte 1 described in struct tw_robots; false when out of memory. */
static bool build_index(tw_robots *r)
{
    size_t nb = 1, n_any = 0;
    unsigned char b;
    for (size_t i = 0; i < r->n_rules; i++) {
        if (!rule_needs_byte1(r, i, &b)) n_any++;
        else if (r->bucket[b] == 0) r->bucket[b] = (uint16_t)nb++;
    }
    /*
     * Every bucket repeats the rules of bucket 0. Should that cost more than
     * the rules themselves (a file of many leading-'*' rules), keep one bucket.
     */
    bool single = (nb - 1) * n_any > 2 * r->n_rules + 4096;
    if (single) {
        memset(r->bucket, 0, sizeof r->bucket);
        nb = 1;
        n_any = r->n_rules;
    }
    size_t total = single ? r->n_rules : r->n_rules + (nb - 1) * n_any;
    r->start = malloc((nb + 1) * sizeof *r->start);
    r->order = malloc((total ? total : 1) * sizeof *r->order);
    uint32_t *fill = calloc(nb, sizeof *fill);
    if (!r->start || !r->order || !fill) {
        free(fill);
        return false;
    }
    for (size_t i = 0; i < r->n_rules && !single; i++)
        if (rule_needs_byte1(r, i, &b)) fill[r->bucket[b]]++;
    r->start[0] = 0;
    for (size_t k = 0; k < nb; k++)
        r->start[k + 1] = r->start[k] + (uint32_t)n_any + (k ? fill[k] : 0);
    memset(fill, 0, nb * sizeof *fill);
    for (size_t i = 0; i < r->n_rules; i++) { /* in priority order, so each bucket stays sorted */
        if (!single && rule_needs_byte1(r, i, &b)) {
            size_t k = r->bucket[b];
            r->order[r->start[k] + fill[k]++] = (uint32_t)i;
        } else {
            for (size_t k = 0; k < nb; k++) r->order[r->start[k] + fill[k]++] = (uint32_t)i;
        }
    }
    free(fill);
    return true;
}

tw_robots *tw_robots_allow_all(void) { return robots_new(TW_ROBOTS_ALLOW_ALL); }
tw_robots *tw_robots_disallow_all(void) { return robots_new(TW_ROBOTS_DISALLOW_ALL); }

tw_robots *tw_robots_parse(const char *body, size_t len, const char *product_token)
{
    struct parser p = {.product = product_token ? product_token : "",
                       .specific = {.crawl_delay = -1}, .global = {.crawl_delay = -1}};
    while (p.product[p.product_len] && p.product[p.product_len] != '/' &&
           !(cclass((unsigned char)p.product[p.product_len]) & C_SPACE))
        p.product_len++; /* a whole User-Agent counts by its product token too */
    if (!body) body = "", len = 0;
    if (len > TW_ROBOTS_MAX_BYTES) len = TW_ROBOTS_MAX_BYTES;
    const char *s = body, *end = body + len;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3;
    while (s < end && !p.oom) {
        const char *e = s;
        while (e < end && *e != '\n' && *e != '\r') e++;
        on_line(&p, s, (size_t)(e - s));
        if (e < end && *e == '\r' && e + 1 < end && e[1] == '\n') e++;
        s = e + 1;
    }

    tw_robots *r = p.oom ? NULL : robots_new(TW_ROBOTS_PARSED);
    if (r) {
        struct ruleset *use = p.specific.matched ? &p.specific : &p.global;
        if (use->n) qsort(use->rules, use->n, sizeof *use->rules, rule_cmp);
        r->rules = use->rules;
        r->n_rules = use->n;
        r->pool = use->pool;
        r->crawl_delay = use->crawl_delay;
        r->sitemaps = p.sitemaps;
        r->n_sitemaps = p.n_sitemaps;
        use->rules = NULL;
        use->pool = NULL;
        p.sitemaps = NULL;
        p.n_sitemaps = 0;
        if (!build_index(r)) {
            tw_robots_free(r);
            r = NULL;
        }
    }
    ruleset_free(&p.specific);
    ruleset_free(&p.global);
    for (size_t i = 0; i < p.n_sitemaps; i++) free(p.sitemaps[i]);
    free(p.sitemaps);
    return r;
}

tw_robots *tw_robots_from_status(int http_status, const char *body, size_t len,
                                 const char *product_token)
{
    if (http_status >= 200 && http_status <= 299)
        return tw_robots_parse(body, len, product_token);
    if (http_status == 429)
        return robots_new(TW_ROBOTS_UNREACHABLE);
    if (http_status >= 300 && http_status <= 499)
        return robots_new(TW_ROBOTS_ALLOW_ALL);
    return robots_new(TW_ROBOTS_UNREACHABLE);
}

tw_robots_state tw_robots_get_state(const tw_robots *r) { return r->state; }

void tw_robots_free(tw_robots *r)
{
    if (!r) return;
    free(r->rules);
    free(r->pool);
    free(r->start);
    free(r->order);
    for (size_t i = 0; i < r->n_sitemaps; i++) free(r->sitemaps[i]);
    free(r->sitemaps);
    free(r);
}

double tw_robots_crawl_delay(const tw_robots *r) { return r->crawl_delay; }
size_t tw_robots_sitemap_count(const tw_robots *r) { return r->n_sitemaps; }

const char *tw_robots_sitemap(const tw_robots *r, size_t i)
{
    return i < r->n_sitemaps ? r->sitemaps[i] : NULL;
}

char *tw_user_agent_product(const char *user_agent)
{
    if (!user_agent) return NULL;
    size_t n = 0;
    while (user_agent[n] && user_agent[n] != '/' &&
           !(cclass((unsigned char)user_agent[n]) & C_SPACE))
        n++;
    char *t = malloc(n + 1);
    if (t) {
        memcpy(t, user_agent, n);
        t[n] = '\0';
    }
    return t;
}

/* ---- matching ------------------------------------------------------------------- */

/* memcmp() == 0 for the short runs compared here, where a call costs more than the loop. */
static inline bool same(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* Does a match of canonical text start at s[at], rather than inside an escape? */
static bool on_boundary(const char *s, size_t at)
{
    return (at < 1 || s[at - 1] != '%') && (at < 2 || s[at - 2] != '%');
}

/* Returns the first position >= from where seg occurs in s on a character boundary, or SIZE_MAX. */
static size_t find(const char *s, size_t n, size_t from, const char *seg, size_t segn)
{
    if (segn == 0) return from;
    /* Pieces are short and paths shorter still: memchr on the first byte beats memmem's setup. */
    while (from + segn <= n) {
        const char *hit = memchr(s + from, seg[0], n - from - segn + 1);
        if (!hit) break;
        size_t at = (size_t)(hit - s);
        if (same(hit + 1, seg + 1, segn - 1) && on_boundary(s, at)) return at;
        from = at + 1;
    }
    return SIZE_MAX;
}

/*
 * Does the canonical pattern p match the canonical path s (a prefix of it,
 * or all of it when anchored)? The pattern is split at its '*'s: the first
 * piece must start the path, each later one is taken at its leftmost
 * occurrence after the previous (which is optimal when '*' is the only
 * wildcard), and an anchored last piece must end the path. Linear in the
 * path for each piece, with no backtracking and no memory.
 */
static bool pattern_matches(const char *p, const struct rule *ru, const char *s, size_t sn)
{
    size_t pn = ru->n, seg = ru->head;
    if (sn < seg || !same(s, p, seg)) return false;
    if (seg == pn) return !ru->anchored || sn == seg;
    size_t pos = seg;
    for (;;) {
        p += seg + 1;
        pn -= seg + 1;
        const char *star = memchr(p, '*', pn);
        seg = star ? (size_t)(star - p) : pn;
        if (!star && ru->anchored) {
            size_t at = sn - seg;
            return sn - pos >= seg && on_boundary(s, at) && same(s + at, p, seg);
        }
        size_t at = find(s, sn, pos, p, seg);
        if (at == SIZE_MAX) return false;
        if (!star) return true;
        pos = at + seg;
    }
}

/* Paths up to this many canonical bytes are canonicalized on the stack. */
#define PATH_STACK 2048

bool tw_robots_allowed_n(const tw_robots *r, const char *path, size_t len)
{
    if (len == 0) path = "/", len = 1;
    size_t plen = 0; /* the path without its query */
    while (plen < len && path[plen] != '?') plen++;
    if (plen == 11 && memcmp(path, "/robots.txt", 11) == 0) return true;
    switch (r->state) {
    case TW_ROBOTS_ALLOW_ALL: return true;
    case TW_ROBOTS_DISALLOW_ALL: case TW_ROBOTS_UNREACHABLE: return false;
    case TW_ROBOTS_PARSED: break;
    }
    if (r->n_rules == 0) return true;

    /* A normalized URL's path is canonical already; others are rewritten first. */
    char stack[PATH_STACK], *heap = NULL;
    if (!is_canonical(path, len)) {
        char *buf = stack;
        if (len > PATH_STACK / 3 && !(buf = heap = malloc(3 * len)))
            return false; /* out of memory: err on the side of not fetching */
        len = canonicalize(path, len, buf);
        path = buf;
    }
    /* Each bucket is sorted so that the first match is the longest, allow first on ties. */
    size_t k = len >= 2 ? r->bucket[(unsigned char)path[1]] : 0;
    bool ok = true;
    for (size_t j = r->start[k]; j < r->start[k + 1]; j++) {
        const struct rule *ru = &r->rules[r->order[j]];
        if (pattern_matches(r->pool + ru->off, ru, path, len)) {
            ok = ru->allow;
            break;
        }
    }
    free(heap);
    return ok;
}

bool tw_robots_allowed(const tw_robots *r, const char *path_and_query)
{
    return tw_robots_allowed_n(r, path_and_query ? path_and_query : "",
                               path_and_query ? strlen(path_and_query) : 0);
}

/* ---- cache ------------------------------------------------------------------------ */

/* Open addressing with linear probing; deletion shifts entries back, so no tombstones. */
struct slot {
    char *host; /* NULL when the slot is empty */
    uint64_t hash;
    tw_robots *robots;
    time_t fetched_at, expires_at;
};

struct tw_robots_cache {
    struct slot *slots;
    size_t cap; /* a power of two */
    size_t count;
    long ttl, retry;
};

static uint64_t host_hash(const char *h)
{
    uint64_t x = 14695981039346656037ull; /* FNV-1a over the lower-cased key */
    for (; *h; h++) {
        unsigned char c = (unsigned char)*h;
        if (c >= 'A' && c <= 'Z') c |= 0x20;
        x = (x ^ c) * 1099511628211ull;
    }
    return x;
}

/* Returns the slot holding host, or the empty slot where it would go. */
static struct slot *find_slot(const tw_robots_cache *c, const char *host, uint64_t h)
{
    size_t mask = c->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct slot *s = &c->slots[i];
        if (!s->host || (s->hash == h && ieq(host, strlen(host), s->host))) return s;
    }
}

tw_robots_cache *tw_robots_cache_new(long ttl_seconds, long retry_seconds)
{
    tw_robots_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cap = 16;
    c->slots = calloc(c->cap, sizeof *c->slots);
    if (!c->slots) {
        free(c);
        return NULL;
    }
    c->ttl = ttl_seconds > 0 ? ttl_seconds : TW_ROBOTS_TTL_SECONDS;
    c->retry = retry_seconds > 0 ? retry_seconds : TW_ROBOTS_RETRY_SECONDS;
    return c;
}

void tw_robots_cache_free(tw_robots_cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->cap; i++) {
        free(c->slots[i].host);
        tw_robots_free(c->slots[i].robots);
    }
    free(c->slots);
    free(c);
}

static bool cache_grow(tw_robots_cache *c)
{
    size_t ncap = c->cap * 2;
    struct slot *ns = calloc(ncap, sizeof *ns);
    if (!ns) return false;
    for (size_t i = 0; i < c->cap; i++) {
        struct slot *s = &c->slots[i];
        if (!s->host) continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].host) j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    free(c->slots);
    c->slots = ns;
    c->cap = ncap;
    return true;
}

int tw_robots_cache_put(tw_robots_cache *c, const char *host, tw_robots *r, time_t fetched_at)
{
    if ((c->count + 1) * 4 > c->cap * 3 && !cache_grow(c)) {
        tw_robots_free(r);
        return -1;
    }
    uint64_t h = host_hash(host);
    struct slot *s = find_slot(c, host, h);
    if (!s->host) {
        s->host = strdup(host);
        if (!s->host) {
            tw_robots_free(r);
            return -1;
        }
        s->hash = h;
        c->count++;
    } else {
        tw_robots_free(s->robots);
    }
    s->robots = r;
    s->fetched_at = fetched_at;
    s->expires_at = fetched_at + (r->state == TW_ROBOTS_UNREACHABLE ? c->retry : c->ttl);
    return 0;
}

bool tw_robots_cache_lookup(const tw_robots_cache *c, const char *host, tw_robots_entry *out)
{
    const struct slot *s = find_slot(c, host, host_hash(host));
    if (!s->host) return false;
    *out = (tw_robots_entry){s->robots, s->fetched_at, s->expires_at};
    return true;
}

const tw_robots *tw_robots_cache_get(const tw_robots_cache *c, const char *host, time_t now)
{
    tw_robots_entry e;
    if (!tw_robots_cache_lookup(c, host, &e) || now >= e.expires_at) return NULL;
    return e.robots;
}

/* Empties slot i and moves later entries of its probe run back into the hole. */
static void cache_delete_at(tw_robots_cache *c, size_t i)
{
    size_t mask = c->cap - 1;
    free(c->slots[i].host);
    tw_robots_free(c->slots[i].robots);
    c->slots[i] = (struct slot){0};
    c->count--;
    for (size_t j = (i + 1) & mask; c->slots[j].host; j = (j + 1) & mask) {
        size_t home = c->slots[j].hash & mask;
        /* Move j into the hole unless its home lies cyclically in (i, j]. */
        bool stays = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            c->slots[i] = c->slots[j];
            c->slots[j] = (struct slot){0};
            i = j;
        }
    }
}

size_t tw_robots_cache_prune(tw_robots_cache *c, time_t now)
{
    size_t dropped = 0;
    for (size_t i = 0; i < c->cap;) {
        if (c->slots[i].host && now >= c->slots[i].expires_at) {
            cache_delete_at(c, i);
            dropped++;
            continue; /* another entry may have moved into slot i */
        }
        i++;
    }
    return dropped;
}

size_t tw_robots_cache_size(const tw_robots_cache *c) { return c->count; }
