/* html_tokenizer.c: streaming HTML tokenizer (WHATWG states) that reports start tags. */

/*
 * Hand-written rather than built on libxml2 or gumbo because the crawler must scan pages
 * at network speed on one core: libxml2's HTML parser and gumbo build whole trees and ran
 * about 40 and 300 times slower on gensite.py pages (bench/bench_links.c measures all
 * three: some 7 GB/s here against 175 and 22 MB/s). It follows the standard's state
 * machine state by state; tests/test_links.c checks it against the html5lib tokenizer
 * suite and against gumbo.
 *
 * Simplifications that cannot change which start tags come out: text, end tags and
 * comments are never materialised; character references are decoded only inside
 * attribute values; every "<!" other than "<!--" (DOCTYPE, CDATA section in HTML content,
 * bogus comment) ends at the first '>', as all the DOCTYPE states do; the comment
 * less-than-sign states are folded into the comment states, whose transitions they
 * reproduce. The preprocessing of the input stream (CRLF and CR to LF) is applied where it
 * shows, in attribute values.
 */
#include "html_tokenizer.h"

#include "html_entities.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    S_DATA, S_RCDATA, S_RAWTEXT, S_SCRIPT, S_PLAINTEXT,
    S_TAG_OPEN, S_END_TAG_OPEN, S_TAG_NAME,
    /* "<", "</", "</name" inside RCDATA, RAWTEXT, script data or escaped script data;
     * text_state says which of them to fall back to. */
    S_TEXT_LT, S_TEXT_END_OPEN, S_TEXT_END_NAME,
    S_SCRIPT_ESC_START, S_SCRIPT_ESC_START_DASH,
    S_SCRIPT_ESC, S_SCRIPT_ESC_DASH, S_SCRIPT_ESC_DASH_DASH,
    S_SCRIPT_DESC_START, S_SCRIPT_DESC, S_SCRIPT_DESC_DASH, S_SCRIPT_DESC_DASH_DASH,
    S_SCRIPT_DESC_LT, S_SCRIPT_DESC_END,
    S_BEFORE_ATTR_NAME, S_ATTR_NAME, S_AFTER_ATTR_NAME, S_BEFORE_ATTR_VALUE,
    S_ATTR_VALUE_DQ, S_ATTR_VALUE_SQ, S_ATTR_VALUE_UQ, S_AFTER_ATTR_VALUE_Q, S_SELF_CLOSING,
    S_MARKUP_OPEN, S_BOGUS_COMMENT,
    S_COMMENT_START, S_COMMENT_START_DASH, S_COMMENT, S_COMMENT_END_DASH, S_COMMENT_END,
    S_COMMENT_END_BANG,
    S_REF, S_REF_NAMED, S_REF_NUM, S_REF_HEX_START, S_REF_DEC_START, S_REF_HEX, S_REF_DEC,
};

#define NAME_CAP 32 /* bytes kept of end tag names and the last start tag name */

typedef struct {
    uint32_t name_off, name_len, val_off, val_len;
    bool truncated;
} attr_rec;

struct tw_html_tok {
    tw_html_tag_fn on_tag;
    tw_html_want_fn want;
    void *ctx;
    bool tree_rules;

    int state;
    int text_state; /* S_RCDATA, S_RAWTEXT, S_SCRIPT or S_SCRIPT_ESC */
    int ret_state;  /* attribute value state a character reference returns to */

    /* The tag being tokenized. buf holds its name, then each kept attribute's name and
     * value; recs index them by offset because buf moves when it grows. */
    bool is_end;
    bool store;       /* start tag that is wanted: keep its attributes */
    bool self_closing;
    bool dropped;     /* some attribute was not kept */
    bool keep;        /* bytes of the current name/value are being kept */
    bool after_cr;    /* last byte of a quoted value was CR: skip a following LF */
    char *buf;
    size_t len, cap;
    uint32_t part_off; /* start in buf of the name or value being read */
    bool part_trunc;
    uint32_t tag_name_len;
    attr_rec *recs;
    tw_html_attr *view;
    size_t nrecs, recs_cap;
    bool attr_open;    /* recs[nrecs-1] is the attribute being read */

    char end_name[NAME_CAP];
    size_t end_name_len;   /* may exceed NAME_CAP: then no end tag is appropriate */
    char last_start[NAME_CAP];
    size_t last_start_len; /* 0: none, or too long to match */
    char tmp[6];           /* "script" detection of the script double-escape states */
    size_t tmp_len;

    char ref[TW_HTML_ENTITY_MAX_NAME + 1]; /* characters after '&' */
    size_t ref_len;
    uint32_t code;
    bool dash_seen; /* "<!-" read in the markup declaration open state */
};

/* Character classes, indexed by byte. */
enum { C_WS = 1, C_ALPHA = 2, C_DIGIT = 4, C_HEX = 8, C_UPPER = 16 };

static const uint8_t cclass[256] = {
    ['\t'] = C_WS, ['\n'] = C_WS, ['\f'] = C_WS, ['\r'] = C_WS, [' '] = C_WS,
#define D(c) [c] = C_DIGIT | C_HEX
    D('0'), D('1'), D('2'), D('3'), D('4'), D('5'), D('6'), D('7'), D('8'), D('9'),
#undef D
#define L(c) [c] = C_ALPHA
#define LH(c) [c] = C_ALPHA | C_HEX
#define U(c) [c] = C_ALPHA | C_UPPER
#define UH(c) [c] = C_ALPHA | C_UPPER | C_HEX
    LH('a'), LH('b'), LH('c'), LH('d'), LH('e'), LH('f'), L('g'), L('h'), L('i'), L('j'),
    L('k'), L('l'), L('m'), L('n'), L('o'), L('p'), L('q'), L('r'), L('s'), L('t'),
    L('u'), L('v'), L('w'), L('x'), L('y'), L('z'),
    UH('A'), UH('B'), UH('C'), UH('D'), UH('E'), UH('F'), U('G'), U('H'), U('I'), U('J'),
    U('K'), U('L'), U('M'), U('N'), U('O'), U('P'), U('Q'), U('R'), U('S'), U('T'),
    U('U'), U('V'), U('W'), U('X'), U('Y'), U('Z'),
#undef L
#undef LH
#undef U
#undef UH
};

/* Bytes that end a run in the tag states, so runs of ordinary bytes are copied (or, in a
 * tag nobody wants, skipped) in one go. */
enum {
    T_TAG_END = 1,    /* ends a tag name: whitespace '/' '>' */
    T_ATTR_END = 2,   /* ends an attribute name: whitespace '/' '>' '=' */
    T_UQ_END = 4,     /* ends an unquoted value: whitespace '>' */
    T_FIX = 8,        /* changed when kept in a name: A-Z, NUL */
    T_UQ_FIX = 16,    /* needs care when kept in an unquoted value: '&' NUL */
    T_DQ = 32,        /* needs care when kept in a "value": '"' '&' NUL CR */
    T_SQ = 64,        /* needs care when kept in a 'value': '\'' '&' NUL CR */
};

static const uint8_t stop[256] = {
#define WS T_TAG_END | T_ATTR_END | T_UQ_END
    ['\t'] = WS, ['\n'] = WS, ['\f'] = WS, ['\r'] = WS | T_DQ | T_SQ, [' '] = WS,
#undef WS
    ['/'] = T_TAG_END | T_ATTR_END, ['>'] = T_TAG_END | T_ATTR_END | T_UQ_END,
    ['='] = T_ATTR_END, ['\0'] = T_FIX | T_UQ_FIX | T_DQ | T_SQ,
    ['&'] = T_UQ_FIX | T_DQ | T_SQ, ['"'] = T_DQ, ['\''] = T_SQ,
#define U(c) [c] = T_FIX
    U('A'), U('B'), U('C'), U('D'), U('E'), U('F'), U('G'), U('H'), U('I'), U('J'),
    U('K'), U('L'), U('M'), U('N'), U('O'), U('P'), U('Q'), U('R'), U('S'), U('T'),
    U('U'), U('V'), U('W'), U('X'), U('Y'), U('Z'),
#undef U
};

/* First byte in [p, end) whose stop bits meet `bits`. */
static inline const char *run_end(const char *p, const char *end, uint8_t bits)
{
    while (p < end && !(stop[(unsigned char)*p] & bits))
        p++;
    return p;
}

static inline bool is_ws(unsigned char c) { return cclass[c] & C_WS; }
static inline bool is_alpha(unsigned char c) { return cclass[c] & C_ALPHA; }
static inline bool is_alnum(unsigned char c) { return cclass[c] & (C_ALPHA | C_DIGIT); }
static inline unsigned char lower(unsigned char c)
{
    return (cclass[c] & C_UPPER) ? (unsigned char)(c + 32) : c;
}

static const char replacement_char[3] = {'\xEF', '\xBF', '\xBD'}; /* U+FFFD */

/* ---- the tag buffer ---- */

static bool reserve(tw_html_tok *t, size_t need)
{
    if (need <= t->cap)
        return true;
    size_t cap = t->cap ? t->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > TW_HTML_MAX_TAG_BYTES)
        cap = TW_HTML_MAX_TAG_BYTES;
    char *b = realloc(t->buf, cap);
    if (!b)
        return false;
    t->buf = b;
    t->cap = cap;
    return need <= cap;
}

/* Append to the current name or value, within the per-part and per-tag limits. */
static void put(tw_html_tok *t, const char *s, size_t n)
{
    if (!t->keep)
        return;
    size_t used = t->len - t->part_off;
    size_t room = TW_HTML_MAX_VALUE - used;
    if (TW_HTML_MAX_TAG_BYTES - t->len < room)
        room = TW_HTML_MAX_TAG_BYTES - t->len;
    if (n > room) {
        n = room;
        t->part_trunc = true;
    }
    if (n == 0)
        return;
    if (!reserve(t, t->len + n)) {
        t->part_trunc = true;
        return;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

static inline void put1(tw_html_tok *t, unsigned char c)
{
    if (t->keep && t->len < t->cap && t->len - t->part_off < TW_HTML_MAX_VALUE)
        t->buf[t->len++] = (char)c;
    else
        put(t, (const char *)&c, 1);
}

static void put_code_point(tw_html_tok *t, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    put(t, u, n);
}

/* ---- tags and attributes ---- */

static void begin_tag(tw_html_tok *t, bool is_end)
{
    t->is_end = is_end;
    t->store = false;
    t->self_closing = false;
    t->dropped = false;
    t->len = 0;
    t->nrecs = 0;
    t->attr_open = false;
    /* A start tag's name is kept (the caller and the tree rules need it). */
    t->keep = !is_end;
    t->part_off = 0;
    t->part_trunc = false;
}

static void end_tag_name(tw_html_tok *t)
{
    if (t->is_end)
        return;
    t->tag_name_len = (uint32_t)t->len;
    t->store = !t->want || t->want(t->ctx, t->buf ? t->buf : "", t->len);
    t->keep = false;
}

static void close_attr(tw_html_tok *t)
{
    if (!t->attr_open)
        return;
    t->attr_open = false;
    attr_rec *r = &t->recs[t->nrecs - 1];
    if (t->keep) {
        r->val_len = (uint32_t)(t->len - r->val_off);
        r->truncated |= t->part_trunc;
    }
    t->keep = false;
}

static void begin_attr(tw_html_tok *t)
{
    close_attr(t);
    t->keep = false;
    if (!t->store)
        return;
    if (t->nrecs == TW_HTML_MAX_ATTRS || t->len >= TW_HTML_MAX_TAG_BYTES) {
        t->dropped = true;
        return;
    }
    if (t->nrecs == t->recs_cap) {
        size_t cap = t->recs_cap ? t->recs_cap * 2 : 16;
        if (cap > TW_HTML_MAX_ATTRS)
            cap = TW_HTML_MAX_ATTRS;
        attr_rec *r = realloc(t->recs, cap * sizeof *r);
        if (!r) {
            t->dropped = true;
            return;
        }
        t->recs = r;
        tw_html_attr *v = realloc(t->view, cap * sizeof *v);
        if (!v) {
            t->dropped = true;
            return;
        }
        t->view = v;
        t->recs_cap = cap;
    }
    attr_rec *r = &t->recs[t->nrecs++];
    memset(r, 0, sizeof *r);
    r->name_off = (uint32_t)t->len;
    t->attr_open = true;
    t->keep = true;
    t->part_off = (uint32_t)t->len;
    t->part_trunc = false;
}

/* Leaving the attribute name state: a name seen before in this tag drops the attribute. */
static void end_attr_name(tw_html_tok *t)
{
    if (!t->attr_open || !t->keep)
        return;
    attr_rec *r = &t->recs[t->nrecs - 1];
    r->name_len = (uint32_t)(t->len - r->name_off);
    r->truncated = t->part_trunc;
    for (size_t i = 0; i + 1 < t->nrecs; i++) {
        const attr_rec *o = &t->recs[i];
        if (o->name_len == r->name_len &&
            memcmp(t->buf + o->name_off, t->buf + r->name_off, r->name_len) == 0) {
            t->len = r->name_off;
            t->nrecs--;
            t->attr_open = false;
            t->keep = false;
            return;
        }
    }
    r->val_off = (uint32_t)t->len;
    t->part_off = (uint32_t)t->len;
    t->part_trunc = false;
}

static void remember_start_tag(tw_html_tok *t, const char *name, size_t len)
{
    if (len == 0 || len > NAME_CAP) {
        t->last_start_len = 0;
        return;
    }
    memcpy(t->last_start, name, len);
    t->last_start_len = len;
}

static bool name_is(const char *name, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(name, lit, len) == 0;
}

/* What the tree builder does to the tokenizer after inserting an HTML element. */
static int state_after_start_tag(const char *name, size_t len)
{
    switch (len) {
    case 3:
        return name_is(name, len, "xmp") ? S_RAWTEXT : S_DATA;
    case 5:
        return name_is(name, len, "title") ? S_RCDATA
             : name_is(name, len, "style") ? S_RAWTEXT : S_DATA;
    case 6:
        return name_is(name, len, "script") ? S_SCRIPT
             : name_is(name, len, "iframe") ? S_RAWTEXT : S_DATA;
    case 7:
        return name_is(name, len, "noembed") ? S_RAWTEXT : S_DATA;
    case 8:
        return name_is(name, len, "textarea") ? S_RCDATA
             : name_is(name, len, "noframes") ? S_RAWTEXT : S_DATA;
    case 9:
        return name_is(name, len, "plaintext") ? S_PLAINTEXT : S_DATA;
    default:
        return S_DATA;
    }
}

static void emit_tag(tw_html_tok *t)
{
    t->state = S_DATA;
    if (t->is_end)
        return;
    close_attr(t);
    const char *buf = t->buf ? t->buf : "";
    if (t->store && t->on_tag) {
        for (size_t i = 0; i < t->nrecs; i++) {
            const attr_rec *r = &t->recs[i];
            t->view[i] = (tw_html_attr){
                .name = buf + r->name_off, .name_len = r->name_len,
                .value = buf + r->val_off, .value_len = r->val_len,
                .truncated = r->truncated,
            };
        }
        tw_html_tag tag = {
            .name = buf, .name_len = t->tag_name_len,
            .attrs = t->view, .nattrs = t->nrecs,
            .self_closing = t->self_closing, .attrs_dropped = t->dropped,
        };
        t->on_tag(t->ctx, &tag);
    }
    remember_start_tag(t, buf, t->tag_name_len);
    if (t->tree_rules)
        t->state = state_after_start_tag(buf, t->tag_name_len);
}

static bool appropriate_end_tag(const tw_html_tok *t)
{
    return t->last_start_len != 0 && t->end_name_len == t->last_start_len &&
           memcmp(t->end_name, t->last_start, t->end_name_len) == 0;
}

static void tmp_add(tw_html_tok *t, unsigned char c)
{
    if (t->tmp_len < sizeof t->tmp)
        t->tmp[t->tmp_len] = (char)lower(c);
    if (t->tmp_len <= sizeof t->tmp)
        t->tmp_len++;
}

static bool tmp_is_script(const tw_html_tok *t)
{
    return t->tmp_len == 6 && memcmp(t->tmp, "script", 6) == 0;
}

/* ---- character references (attribute values only) ---- */

/* Length of the longest entity name that is a prefix of s[0..n); *hit gets it. */
static size_t longest_entity(const char *s, size_t n, const tw_html_entity **hit)
{
    size_t lo = 0, hi = TW_HTML_ENTITY_COUNT, best = 0;
    *hit = NULL;
    /* Entries in [lo, hi) share the first k bytes of s; being sorted, they are ordered by
     * their byte k, a name that ends there sorting first. */
    for (size_t k = 0; k < n && lo < hi; k++) {
        unsigned char c = (unsigned char)s[k];
        size_t a = lo, b = hi;
        while (a < b) { /* first entry whose byte k is >= c */
            size_t m = (a + b) / 2;
            const tw_html_entity *e = &tw_html_entities[m];
            if (e->name_len <= k || (unsigned char)e->name[k] < c)
                a = m + 1;
            else
                b = m;
        }
        lo = a;
        b = hi;
        while (a < b) { /* first entry whose byte k is > c */
            size_t m = (a + b) / 2;
            const tw_html_entity *e = &tw_html_entities[m];
            if (e->name_len <= k || (unsigned char)e->name[k] <= c)
                a = m + 1;
            else
                b = m;
        }
        hi = a;
        if (lo < hi && tw_html_entities[lo].name_len == k + 1) {
            best = k + 1;
            *hit = &tw_html_entities[lo];
        }
    }
    return best;
}

/* The named character reference state, once the run of characters after '&' is known.
 * `next` is the character after the run (-1 when the run ended with ';' or filled ref). */
/* The entity named exactly s[0..n), or NULL. */
static const tw_html_entity *exact_entity(const char *s, size_t n)
{
    size_t lo = 0, hi = TW_HTML_ENTITY_COUNT;
    while (lo < hi) {
        size_t m = (lo + hi) / 2;
        const tw_html_entity *e = &tw_html_entities[m];
        size_t k = n < e->name_len ? n : e->name_len;
        int c = e->name[0] != s[0] ? (unsigned char)e->name[0] - (unsigned char)s[0]
                                   : memcmp(e->name, s, k);
        if (c == 0)
            c = e->name_len < n ? -1 : e->name_len > n;
        if (c == 0)
            return e;
        if (c < 0)
            lo = m + 1;
        else
            hi = m;
    }
    return NULL;
}

static void resolve_named(tw_html_tok *t, int next)
{
    const tw_html_entity *e = NULL;
    size_t m = 0;
    /* The usual case, "&amp;": the whole run including ';' is a name, the longest match. */
    static const tw_html_entity amp = {"amp;", "&", 4, 1};
    if (t->ref_len == 4 && memcmp(t->ref, "amp;", 4) == 0) {
        e = &amp;
        m = 4;
    } else if (t->ref[t->ref_len - 1] == ';' && (e = exact_entity(t->ref, t->ref_len))) {
        m = t->ref_len;
    } else {
        m = longest_entity(t->ref, t->ref_len, &e);
    }
    if (m > 0 && e->name[m - 1] != ';') {
        /* Legacy name without ';': in an attribute it stays literal before an
         * alphanumeric or '=' (so "?a=1&notit=2" keeps its query). */
        int after = m < t->ref_len ? (unsigned char)t->ref[m] : next;
        if (after >= 0 && (after == '=' || is_alnum((unsigned char)after)))
            m = 0;
    }
    if (m == 0) {
        put1(t, '&');
        put(t, t->ref, t->ref_len);
    } else {
        put(t, e->value, e->value_len);
        put(t, t->ref + m, t->ref_len - m);
    }
    t->state = t->ret_state;
}

static uint32_t c1_replacement(uint32_t c)
{
    static const uint16_t table[32] = {
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    };
    return table[c - 0x80] ? table[c - 0x80] : c;
}

/* The numeric character reference end state. */
static void resolve_numeric(tw_html_tok *t)
{
    uint32_t c = t->code;
    if (c == 0 || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        c = 0xFFFD;
    else if (c >= 0x80 && c <= 0x9F)
        c = c1_replacement(c);
    put_code_point(t, c);
    t->state = t->ret_state;
}

/* ---- the state machine ---- */

void tw_html_tok_feed(tw_html_tok *t, const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        switch (t->state) {
        case S_DATA: {
            const char *lt = memchr(p, '<', (size_t)(end - p));
            if (!lt)
                return;
            p = lt + 1;
            t->state = S_TAG_OPEN;
            break;
        }
        case S_RCDATA:
        case S_RAWTEXT:
        case S_SCRIPT: {
            const char *lt = memchr(p, '<', (size_t)(end - p));
            if (!lt)
                return;
            p = lt + 1;
            t->text_state = t->state;
            t->state = S_TEXT_LT;
            break;
        }
        case S_PLAINTEXT:
            return;

        case S_TAG_OPEN:
            if (c == '!') {
                t->dash_seen = false;
                t->state = S_MARKUP_OPEN;
                p++;
            } else if (c == '/') {
                t->state = S_END_TAG_OPEN;
                p++;
            } else if (is_alpha(c)) {
                begin_tag(t, false);
                t->state = S_TAG_NAME;
            } else if (c == '?') {
                t->state = S_BOGUS_COMMENT;
            } else {
                t->state = S_DATA;
            }
            break;
        case S_END_TAG_OPEN:
            if (is_alpha(c)) {
                begin_tag(t, true);
                t->state = S_TAG_NAME;
            } else if (c == '>') {
                t->state = S_DATA;
                p++;
            } else {
                t->state = S_BOGUS_COMMENT;
            }
            break;
        case S_TAG_NAME: {
            const char *s = p;
            p = run_end(p, end, t->keep ? T_TAG_END | T_FIX : T_TAG_END);
            if (p > s) {
                put(t, s, (size_t)(p - s));
                break;
            }
            p++;
            if (is_ws(c)) {
                end_tag_name(t);
                t->state = S_BEFORE_ATTR_NAME;
            } else if (c == '/') {
                end_tag_name(t);
                t->state = S_SELF_CLOSING;
            } else if (c == '>') {
                end_tag_name(t);
                emit_tag(t);
            } else if (c == '\0') {
                put(t, replacement_char, 3);
            } else {
                put1(t, lower(c));
            }
            break;
        }

        case S_TEXT_LT:
            if (c == '/') {
                t->state = S_TEXT_END_OPEN;
                p++;
            } else if (c == '!' && t->text_state == S_SCRIPT) {
                t->state = S_SCRIPT_ESC_START;
                p++;
            } else if (is_alpha(c) && t->text_state == S_SCRIPT_ESC) {
                t->tmp_len = 0;
                t->state = S_SCRIPT_DESC_START;
            } else {
                t->state = t->text_state;
            }
            break;
        case S_TEXT_END_OPEN:
            if (is_alpha(c)) {
                t->end_name_len = 0;
                t->state = S_TEXT_END_NAME;
            } else {
                t->state = t->text_state;
            }
            break;
        case S_TEXT_END_NAME:
            if (is_alpha(c)) {
                if (t->end_name_len < NAME_CAP)
                    t->end_name[t->end_name_len] = (char)lower(c);
                if (t->end_name_len <= NAME_CAP)
                    t->end_name_len++;
                p++;
            } else if ((is_ws(c) || c == '/' || c == '>') && appropriate_end_tag(t)) {
                begin_tag(t, true);
                p++;
                if (c == '>')
                    emit_tag(t);
                else
                    t->state = c == '/' ? S_SELF_CLOSING : S_BEFORE_ATTR_NAME;
            } else {
                t->state = t->text_state;
            }
            break;

        case S_SCRIPT_ESC_START:
            if (c == '-') {
                t->state = S_SCRIPT_ESC_START_DASH;
                p++;
            } else {
                t->state = S_SCRIPT;
            }
            break;
        case S_SCRIPT_ESC_START_DASH:
            if (c == '-') {
                t->state = S_SCRIPT_ESC_DASH_DASH;
                p++;
            } else {
                t->state = S_SCRIPT;
            }
            break;
        case S_SCRIPT_ESC:
            while (p < end && *p != '-' && *p != '<')
                p++;
            if (p == end)
                return;
            t->text_state = S_SCRIPT_ESC;
            t->state = *p == '-' ? S_SCRIPT_ESC_DASH : S_TEXT_LT;
            p++;
            break;
        case S_SCRIPT_ESC_DASH:
        case S_SCRIPT_ESC_DASH_DASH:
            p++;
            if (c == '-') {
                t->state = S_SCRIPT_ESC_DASH_DASH;
            } else if (c == '<') {
                t->text_state = S_SCRIPT_ESC;
                t->state = S_TEXT_LT;
            } else if (c == '>' && t->state == S_SCRIPT_ESC_DASH_DASH) {
                t->state = S_SCRIPT;
            } else {
                t->state = S_SCRIPT_ESC;
            }
            break;
        case S_SCRIPT_DESC_START:
        case S_SCRIPT_DESC_END:
            if (is_ws(c) || c == '/' || c == '>') {
                bool script = tmp_is_script(t);
                if (t->state == S_SCRIPT_DESC_START)
                    t->state = script ? S_SCRIPT_DESC : S_SCRIPT_ESC;
                else
                    t->state = script ? S_SCRIPT_ESC : S_SCRIPT_DESC;
                p++;
            } else if (is_alpha(c)) {
                tmp_add(t, c);
                p++;
            } else {
                t->state = t->state == S_SCRIPT_DESC_START ? S_SCRIPT_ESC : S_SCRIPT_DESC;
            }
            break;
        case S_SCRIPT_DESC:
            while (p < end && *p != '-' && *p != '<')
                p++;
            if (p == end)
                return;
            t->state = *p == '-' ? S_SCRIPT_DESC_DASH : S_SCRIPT_DESC_LT;
            p++;
            break;
        case S_SCRIPT_DESC_DASH:
        case S_SCRIPT_DESC_DASH_DASH:
            p++;
            if (c == '-')
                t->state = S_SCRIPT_DESC_DASH_DASH;
            else if (c == '<')
                t->state = S_SCRIPT_DESC_LT;
            else if (c == '>' && t->state == S_SCRIPT_DESC_DASH_DASH)
                t->state = S_SCRIPT;
            else
                t->state = S_SCRIPT_DESC;
            break;
        case S_SCRIPT_DESC_LT:
            if (c == '/') {
                t->tmp_len = 0;
                t->state = S_SCRIPT_DESC_END;
                p++;
            } else {
                t->state = S_SCRIPT_DESC;
            }
            break;

        case S_BEFORE_ATTR_NAME:
            if (is_ws(c)) {
                p++;
            } else if (c == '/' || c == '>') {
                t->state = S_AFTER_ATTR_NAME;
            } else if (c == '=') {
                begin_attr(t);
                put1(t, c);
                t->state = S_ATTR_NAME;
                p++;
            } else {
                begin_attr(t);
                t->state = S_ATTR_NAME;
            }
            break;
        case S_ATTR_NAME: {
            const char *s = p;
            p = run_end(p, end, t->keep ? T_ATTR_END | T_FIX : T_ATTR_END);
            if (p > s) {
                put(t, s, (size_t)(p - s));
                break;
            }
            if (is_ws(c) || c == '/' || c == '>') {
                end_attr_name(t);
                t->state = S_AFTER_ATTR_NAME;
            } else if (c == '=') {
                end_attr_name(t);
                t->state = S_BEFORE_ATTR_VALUE;
                p++;
            } else if (c == '\0') {
                put(t, replacement_char, 3);
                p++;
            } else {
                put1(t, lower(c));
                p++;
            }
            break;
        }
        case S_AFTER_ATTR_NAME:
            if (is_ws(c)) {
                p++;
            } else if (c == '/') {
                t->state = S_SELF_CLOSING;
                p++;
            } else if (c == '=') {
                t->state = S_BEFORE_ATTR_VALUE;
                p++;
            } else if (c == '>') {
                p++;
                emit_tag(t);
            } else {
                begin_attr(t);
                t->state = S_ATTR_NAME;
            }
            break;
        case S_BEFORE_ATTR_VALUE:
            if (is_ws(c)) {
                p++;
            } else if (c == '"') {
                t->after_cr = false;
                t->state = S_ATTR_VALUE_DQ;
                p++;
            } else if (c == '\'') {
                t->after_cr = false;
                t->state = S_ATTR_VALUE_SQ;
                p++;
            } else if (c == '>') {
                p++;
                emit_tag(t);
            } else {
                t->state = S_ATTR_VALUE_UQ;
            }
            break;
        case S_ATTR_VALUE_DQ:
        case S_ATTR_VALUE_SQ: {
            char quote = t->state == S_ATTR_VALUE_DQ ? '"' : '\'';
            if (t->after_cr) {
                t->after_cr = false;
                if (c == '\n') {
                    p++;
                    break;
                }
            }
            const char *s = p;
            if (!t->keep) {
                /* Nobody reads this value: only the closing quote matters (character
                 * references cannot contain it). */
                const char *q = memchr(p, quote, (size_t)(end - p));
                if (!q)
                    return;
                p = q + 1;
                t->state = S_AFTER_ATTR_VALUE_Q;
                break;
            }
            p = run_end(p, end, quote == '"' ? T_DQ : T_SQ);
            if (p > s) {
                put(t, s, (size_t)(p - s));
                break;
            }
            p++;
            if (c == (unsigned char)quote) {
                t->state = S_AFTER_ATTR_VALUE_Q;
            } else if (c == '&') {
                t->ret_state = t->state;
                t->state = S_REF;
            } else if (c == '\0') {
                put(t, replacement_char, 3);
            } else { /* '\r' */
                put1(t, '\n');
                t->after_cr = true;
            }
            break;
        }
        case S_ATTR_VALUE_UQ: {
            const char *s = p;
            p = run_end(p, end, t->keep ? T_UQ_END | T_UQ_FIX : T_UQ_END);
            if (p > s) {
                put(t, s, (size_t)(p - s));
                break;
            }
            p++;
            if (is_ws(c)) {
                t->state = S_BEFORE_ATTR_NAME;
            } else if (c == '&') {
                t->ret_state = S_ATTR_VALUE_UQ;
                t->state = S_REF;
            } else if (c == '>') {
                emit_tag(t);
            } else if (c == '\0') {
                put(t, replacement_char, 3);
            } else {
                put1(t, c);
            }
            break;
        }
        case S_AFTER_ATTR_VALUE_Q:
            if (is_ws(c)) {
                t->state = S_BEFORE_ATTR_NAME;
                p++;
            } else if (c == '/') {
                t->state = S_SELF_CLOSING;
                p++;
            } else if (c == '>') {
                p++;
                emit_tag(t);
            } else {
                t->state = S_BEFORE_ATTR_NAME;
            }
            break;
        case S_SELF_CLOSING:
            if (c == '>') {
                t->self_closing = true;
                p++;
                emit_tag(t);
            } else {
                t->state = S_BEFORE_ATTR_NAME;
            }
            break;

        case S_MARKUP_OPEN:
            if (c == '-' && !t->dash_seen) {
                t->dash_seen = true;
                p++;
            } else if (c == '-') {
                t->state = S_COMMENT_START;
                p++;
            } else {
                t->state = S_BOGUS_COMMENT;
            }
            break;
        case S_BOGUS_COMMENT: {
            const char *gt = memchr(p, '>', (size_t)(end - p));
            if (!gt)
                return;
            p = gt + 1;
            t->state = S_DATA;
            break;
        }
        case S_COMMENT_START:
        case S_COMMENT_START_DASH:
            if (c == '-') {
                t->state = t->state == S_COMMENT_START ? S_COMMENT_START_DASH : S_COMMENT_END;
                p++;
            } else if (c == '>') {
                t->state = S_DATA;
                p++;
            } else {
                t->state = S_COMMENT;
            }
            break;
        case S_COMMENT: {
            const char *dash = memchr(p, '-', (size_t)(end - p));
            if (!dash)
                return;
            p = dash + 1;
            t->state = S_COMMENT_END_DASH;
            break;
        }
        case S_COMMENT_END_DASH:
            if (c == '-') {
                t->state = S_COMMENT_END;
                p++;
            } else {
                t->state = S_COMMENT;
            }
            break;
        case S_COMMENT_END:
            if (c == '>') {
                t->state = S_DATA;
                p++;
            } else if (c == '!') {
                t->state = S_COMMENT_END_BANG;
                p++;
            } else if (c == '-') {
                p++;
            } else {
                t->state = S_COMMENT;
            }
            break;
        case S_COMMENT_END_BANG:
            if (c == '-') {
                t->state = S_COMMENT_END_DASH;
                p++;
            } else if (c == '>') {
                t->state = S_DATA;
                p++;
            } else {
                t->state = S_COMMENT;
            }
            break;

        case S_REF:
            t->ref_len = 0;
            t->code = 0;
            if (is_alnum(c)) {
                t->state = S_REF_NAMED;
            } else if (c == '#') {
                t->state = S_REF_NUM;
                p++;
            } else {
                put1(t, '&');
                t->state = t->ret_state;
            }
            break;
        case S_REF_NAMED:
            if (is_alnum(c) || c == ';') {
                t->ref[t->ref_len++] = (char)c;
                p++;
                if (c == ';' || t->ref_len == sizeof t->ref)
                    resolve_named(t, -1);
            } else {
                resolve_named(t, c);
            }
            break;
        case S_REF_NUM:
            if (c == 'x' || c == 'X') {
                t->ref[0] = (char)c;
                t->ref_len = 1;
                t->state = S_REF_HEX_START;
                p++;
            } else {
                t->state = S_REF_DEC_START;
            }
            break;
        case S_REF_HEX_START:
        case S_REF_DEC_START:
            if (cclass[c] & (t->state == S_REF_HEX_START ? C_HEX : C_DIGIT)) {
                t->state = t->state == S_REF_HEX_START ? S_REF_HEX : S_REF_DEC;
            } else {
                put(t, "&#", 2);
                put(t, t->ref, t->ref_len);
                t->state = t->ret_state;
            }
            break;
        case S_REF_HEX:
        case S_REF_DEC: {
            bool hex = t->state == S_REF_HEX;
            if (cclass[c] & (hex ? C_HEX : C_DIGIT)) {
                uint32_t d = (cclass[c] & C_DIGIT) ? (uint32_t)(c - '0')
                                                   : (uint32_t)(lower(c) - 'a' + 10);
                uint32_t v = t->code * (hex ? 16 : 10) + d;
                t->code = v > 0x110000 ? 0x110000 : v; /* all out of range alike */
                p++;
            } else {
                if (c == ';')
                    p++;
                resolve_numeric(t);
            }
            break;
        }
        }
    }
}

tw_html_tok *tw_html_tok_new(tw_html_tag_fn on_tag, tw_html_want_fn want, void *ctx,
                             bool tree_rules)
{
    tw_html_tok *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->on_tag = on_tag;
    t->want = want;
    t->ctx = ctx;
    t->tree_rules = tree_rules;
    t->state = S_DATA;
    return t;
}

void tw_html_tok_set_state(tw_html_tok *t, tw_html_state state, const char *last_start_tag)
{
    static const int map[] = {
        [TW_HTML_DATA] = S_DATA, [TW_HTML_RCDATA] = S_RCDATA, [TW_HTML_RAWTEXT] = S_RAWTEXT,
        [TW_HTML_SCRIPT_DATA] = S_SCRIPT, [TW_HTML_PLAINTEXT] = S_PLAINTEXT,
    };
    t->state = map[state];
    remember_start_tag(t, last_start_tag ? last_start_tag : "",
                       last_start_tag ? strlen(last_start_tag) : 0);
}

void tw_html_tok_finish(tw_html_tok *t)
{
    t->state = S_DATA;
    t->last_start_len = 0;
    t->len = 0;
    t->nrecs = 0;
    t->attr_open = false;
    t->keep = false;
}

void tw_html_tok_free(tw_html_tok *t)
{
    if (!t)
        return;
    free(t->buf);
    free(t->recs);
    free(t->view);
    free(t);
}
