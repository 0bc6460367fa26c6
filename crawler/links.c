/* links.c: streaming extraction of the links in an HTML page, as a browser would find them. */

/*
 * Why hand-written: the crawler must extract links at network speed, at least 500 MB/s per
 * core on the pages of /work/shared/bench/gensite.py. libxml2's HTML parser and gumbo
 * build a tree for every page and are far slower (bench/bench_links.c measures the three
 * side by side), so the tokenizer in html_tokenizer.c follows the HTML standard's states
 * by hand, skipping text with memchr, and tests/test_links.c checks it against the
 * html5lib tokenizer suite. This file turns its start tags into links.
 */
#include "links.h"

#include "html_tokenizer.h"

#include <stdlib.h>
#include <string.h>

struct tw_links {
    tw_html_tok *tok;
    tw_link_cb cb;
    void *ctx;
    bool seen_base;
    bool finished;
    unsigned robots;
    size_t dropped;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static bool eq_nocase(const char *s, size_t n, const char *lit)
{
    size_t i = 0;
    for (; i < n && lit[i]; i++)
        if (ascii_lower(s[i]) != lit[i])
            return false;
    return i == n && lit[i] == '\0';
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_space(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_space((*s)[*n - 1]))
        (*n)--;
}

static const tw_html_attr *find_attr(const tw_html_tag *tag, const char *name)
{
    for (size_t i = 0; i < tag->nattrs; i++)
        if (strlen(name) == tag->attrs[i].name_len &&
            memcmp(tag->attrs[i].name, name, tag->attrs[i].name_len) == 0)
            return &tag->attrs[i];
    return NULL;
}

bool tw_links_rel_has(const char *rel, size_t rel_len, const char *token)
{
    size_t i = 0;
    while (rel && i < rel_len) {
        while (i < rel_len && is_space(rel[i]))
            i++;
        size_t start = i;
        while (i < rel_len && !is_space(rel[i]))
            i++;
        if (i > start && eq_nocase(rel + start, i - start, token))
            return true;
    }
    return false;
}

bool tw_links_link_is_followable(const tw_link *l)
{
    return tw_links_rel_has(l->rel, l->rel_len, "alternate") ||
           tw_links_rel_has(l->rel, l->rel_len, "canonical") ||
           tw_links_rel_has(l->rel, l->rel_len, "next") ||
           tw_links_rel_has(l->rel, l->rel_len, "prev");
}

/* The URL of a refresh declaration, per the HTML standard's "shared declarative refresh
 * steps": "5; url=/x", "0;URL='/y'", "3, /z". Returns false when there is none (a bad
 * time, or a refresh of the page itself). */
static bool refresh_url(const char *s, size_t n, const char **url, size_t *url_len)
{
    size_t i = 0;
    while (i < n && is_space(s[i]))
        i++;
    size_t digits = i;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i == digits && (i == n || s[i] != '.'))
        return false;
    while (i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
        i++;
    if (i == n)
        return false;
    if (s[i] != ';' && s[i] != ',' && !is_space(s[i]))
        return false;
    while (i < n && is_space(s[i]))
        i++;
    if (i < n && (s[i] == ';' || s[i] == ','))
        i++;
    while (i < n && is_space(s[i]))
        i++;
    size_t url_start = i; /* "url" not followed by "=" is the URL itself */
    bool skip_quotes = true;
    if (i < n && (s[i] == 'u' || s[i] == 'U')) {
        skip_quotes = false;
        if (i + 2 < n && (s[i + 1] == 'r' || s[i + 1] == 'R') &&
            (s[i + 2] == 'l' || s[i + 2] == 'L')) {
            size_t j = i + 3;
            while (j < n && is_space(s[j]))
                j++;
            if (j < n && s[j] == '=') {
                j++;
                while (j < n && is_space(s[j]))
                    j++;
                i = j;
                skip_quotes = true;
            }
        }
    }
    if (skip_quotes) {
        url_start = i;
        if (i < n && (s[i] == '\'' || s[i] == '"')) {
            const char *close = memchr(s + i + 1, s[i], n - i - 1);
            url_start = i + 1;
            if (close)
                n = (size_t)(close - s);
        }
    }
    *url = s + url_start;
    *url_len = n - url_start;
    trim(url, url_len);
    return *url_len > 0;
}

static void robots_directives(tw_links *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && (is_space(s[i]) || s[i] == ','))
            i++;
        size_t start = i;
        while (i < n && !is_space(s[i]) && s[i] != ',')
            i++;
        const char *w = s + start;
        size_t wn = i - start;
        if (eq_nocase(w, wn, "nofollow"))
            p->robots |= TW_ROBOTS_NOFOLLOW;
        else if (eq_nocase(w, wn, "noindex"))
            p->robots |= TW_ROBOTS_NOINDEX;
        else if (eq_nocase(w, wn, "none"))
            p->robots |= TW_ROBOTS_NOFOLLOW | TW_ROBOTS_NOINDEX;
    }
}

static void on_meta(tw_links *p, const tw_html_tag *tag)
{
    const tw_html_attr *content = find_attr(tag, "content");
    if (!content)
        return;
    const tw_html_attr *equiv = find_attr(tag, "http-equiv");
    const tw_html_attr *name = find_attr(tag, "name");
    if (equiv && eq_nocase(equiv->value, equiv->value_len, "refresh")) {
        if (content->truncated) {
            p->dropped++;
            return;
        }
        tw_link l = {.kind = TW_LINK_META_REFRESH};
        if (refresh_url(content->value, content->value_len, &l.url, &l.url_len))
            p->cb(p->ctx, &l);
    } else if (name) {
        const char *v = name->value;
        size_t vn = name->value_len;
        trim(&v, &vn);
        if (eq_nocase(v, vn, "robots"))
            robots_directives(p, content->value, content->value_len);
    }
}

static void report(tw_links *p, const tw_html_tag *tag, tw_link_kind kind,
                   const char *url_attr)
{
    const tw_html_attr *url = find_attr(tag, url_attr);
    if (!url) {
        /* A link attribute lost to the per-tag limits may have existed. */
        if (tag->attrs_dropped)
            p->dropped++;
        return;
    }
    if (url->truncated) {
        p->dropped++;
        return;
    }
    tw_link l = {.kind = kind, .url = url->value, .url_len = url->value_len};
    trim(&l.url, &l.url_len);
    const tw_html_attr *rel = kind == TW_LINK_A || kind == TW_LINK_AREA || kind == TW_LINK_LINK
                              ? find_attr(tag, "rel") : NULL;
    if (rel) {
        l.rel = rel->value;
        l.rel_len = rel->value_len;
        trim(&l.rel, &l.rel_len);
        l.nofollow = tw_links_rel_has(l.rel, l.rel_len, "nofollow");
    }
    if (kind == TW_LINK_BASE)
        p->seen_base = true;
    p->cb(p->ctx, &l);
}

static void on_tag(void *ctx, const tw_html_tag *tag)
{
    tw_links *p = ctx;
    const char *n = tag->name;
    switch (tag->name_len) {
    case 1:
        report(p, tag, TW_LINK_A, "href");
        break;
    case 4:
        if (memcmp(n, "area", 4) == 0)
            report(p, tag, TW_LINK_AREA, "href");
        else if (memcmp(n, "link", 4) == 0)
            report(p, tag, TW_LINK_LINK, "href");
        else if (memcmp(n, "base", 4) == 0 && !p->seen_base)
            report(p, tag, TW_LINK_BASE, "href");
        else if (memcmp(n, "meta", 4) == 0)
            on_meta(p, tag);
        break;
    case 5:
        report(p, tag, TW_LINK_FRAME, "src");
        break;
    case 6:
        report(p, tag, TW_LINK_IFRAME, "src");
        break;
    }
}

/* Only these tags are stored and reported by the tokenizer; on_tag relies on it. */
static bool want_tag(void *ctx, const char *n, size_t len)
{
    (void)ctx;
    switch (len) {
    case 1:
        return n[0] == 'a';
    case 4:
        return memcmp(n, "area", 4) == 0 || memcmp(n, "link", 4) == 0 ||
               memcmp(n, "base", 4) == 0 || memcmp(n, "meta", 4) == 0;
    case 5:
        return memcmp(n, "frame", 5) == 0;
    case 6:
        return memcmp(n, "iframe", 6) == 0;
    default:
        return false;
    }
}

tw_links *tw_links_new(tw_link_cb cb, void *ctx)
{
    tw_links *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->tok = tw_html_tok_new(on_tag, want_tag, p, true);
    if (!p->tok) {
        free(p);
        return NULL;
    }
    p->cb = cb;
    p->ctx = ctx;
    return p;
}

int tw_links_feed(tw_links *p, const char *data, size_t len)
{
    if (p->finished)
        return -1;
    tw_html_tok_feed(p->tok, data, len);
    return 0;
}

int tw_links_finish(tw_links *p)
{
    if (p->finished)
        return -1;
    tw_html_tok_finish(p->tok);
    p->finished = true;
    return 0;
}

bool tw_links_meta_nofollow(const tw_links *p)
{
    return p->robots & TW_ROBOTS_NOFOLLOW;
}

bool tw_links_meta_noindex(const tw_links *p)
{
    return p->robots & TW_ROBOTS_NOINDEX;
}

size_t tw_links_dropped(const tw_links *p)
{
    return p->dropped;
}

void tw_links_free(tw_links *p)
{
    if (!p)
        return;
    tw_html_tok_free(p->tok);
    free(p);
}

int tw_links_extract(const char *data, size_t len, tw_link_cb cb, void *ctx,
                     unsigned *robots)
{
    tw_links *p = tw_links_new(cb, ctx);
    if (!p)
        return -1;
    tw_links_feed(p, data, len);
    tw_links_finish(p);
    if (robots)
        *robots = p->robots;
    tw_links_free(p);
    return 0;
}
