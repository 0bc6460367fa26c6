/* fuzz_links.c: libFuzzer target: link extraction must not depend on how the body is chunked. */
#include "html_tokenizer.h"
#include "links.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *buf;
    size_t len, cap;
} out;

static void add(out *o, const void *s, size_t n)
{
    if (o->len + n > o->cap) {
        size_t cap = (o->len + n) * 2 + 64;
        char *b = realloc(o->buf, cap);
        if (!b)
            abort();
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void add_str(out *o, const char *s, size_t n)
{
    add(o, &n, sizeof n);
    add(o, s, n);
}

static void on_link(void *ctx, const tw_link *l)
{
    out *o = ctx;
    unsigned char kind = (unsigned char)l->kind, nf = l->nofollow;
    add(o, &kind, 1);
    add(o, &nf, 1);
    add_str(o, l->url, l->url_len);
    add_str(o, l->rel ? l->rel : "-", l->rel ? l->rel_len : 1);
}

static void on_tag(void *ctx, const tw_html_tag *t)
{
    out *o = ctx;
    add_str(o, t->name, t->name_len);
    for (size_t i = 0; i < t->nattrs; i++) {
        add_str(o, t->attrs[i].name, t->attrs[i].name_len);
        add_str(o, t->attrs[i].value, t->attrs[i].value_len);
    }
    unsigned char f = (unsigned char)(t->self_closing | t->attrs_dropped << 1);
    add(o, &f, 1);
}

static void same_or_abort(const out *a, const out *b, const char *what)
{
    if (a->len != b->len || memcmp(a->buf, b->buf, a->len) != 0) {
        fprintf(stderr, "%s: results differ\n", what);
        abort();
    }
}

/* An arbitrary half of the tag names (see test_links.c). */
static bool want_half(void *ctx, const char *name, size_t len)
{
    (void)ctx;
    return (len + (len ? (unsigned char)name[0] : 0)) % 2 == 0;
}

static void on_tag_filtered(void *ctx, const tw_html_tag *t)
{
    if (want_half(NULL, t->name, t->name_len))
        on_tag(ctx, t);
}

/* Links (and robots flags, dropped count) with the body cut at the given offsets. */
static void links_run(const char *d, size_t n, const size_t *cuts, size_t ncuts, out *o)
{
    tw_links *p = tw_links_new(on_link, o);
    if (!p)
        abort();
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t next = i < ncuts ? cuts[i] : n;
        tw_links_feed(p, d + at, next - at);
        at = next;
    }
    tw_links_finish(p);
    size_t tail[3] = {tw_links_meta_nofollow(p), tw_links_meta_noindex(p), tw_links_dropped(p)};
    add(o, tail, sizeof tail);
    tw_links_free(p);
}


/* Start tags with all their attributes, in the plain tokenizer (no tree rules); all of
 * them, or those want_half accepts. */
static void tokenize(const char *d, size_t n, const size_t *cuts, size_t ncuts,
                     tw_html_want_fn want, out *o)
{
    tw_html_tok *t = tw_html_tok_new(on_tag, want, o, false);
    if (!t)
        abort();
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t next = i < ncuts ? cuts[i] : n;
        tw_html_tok_feed(t, d + at, next - at);
        at = next;
    }
    tw_html_tok_finish(t);
    tw_html_tok_free(t);
}

static void tags_run(const char *d, size_t n, const size_t *cuts, size_t ncuts, out *o)
{
    tokenize(d, n, cuts, ncuts, NULL, o);
}

/* Unwanted tags are skipped without storing their attributes; the wanted ones must come
 * out as when every tag is stored and the callback does the filtering. */
static void check_filtering(const char *d, size_t n)
{
    out stored = {0}, skipped = {0};
    tw_html_tok *t = tw_html_tok_new(on_tag_filtered, NULL, &stored, false);
    if (!t)
        abort();
    tw_html_tok_feed(t, d, n);
    tw_html_tok_finish(t);
    tw_html_tok_free(t);
    tokenize(d, n, NULL, 0, want_half, &skipped);
    same_or_abort(&stored, &skipped, "want filter");
    free(stored.buf);
    free(skipped.buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    size_t cuts[3] = {0};
    size_t ncuts = 0;
    if (size > 1) {
        /* Cut points derived from the input, so the fuzzer can steer them. */
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < size && i < 16; i++)
            h = (h ^ data[i]) * 16777619u;
        cuts[0] = h % size;
        cuts[1] = cuts[0] + (h >> 8) % (size - cuts[0]);
        cuts[2] = cuts[1] + (h >> 16) % (size - cuts[1]);
        ncuts = 3;
    }
    void (*runs[2])(const char *, size_t, const size_t *, size_t, out *) = {links_run, tags_run};
    for (int r = 0; r < 2; r++) {
        out whole = {0}, split = {0};
        runs[r](d, size, NULL, 0, &whole);
        runs[r](d, size, cuts, ncuts, &split);
        same_or_abort(&whole, &split, r == 0 ? "links" : "tags");
        free(whole.buf);
        free(split.buf);
    }
    check_filtering(d, size);
    return 0;
}
