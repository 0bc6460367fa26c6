/* reason.c -- exit reasons, reference-counted binaries, and error texts. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


const tr_reason tr__normal = TR__STATIC_REASON("normal");
const tr_reason tr__kill = TR__STATIC_REASON("kill");
const tr_reason tr__killed = TR__STATIC_REASON("killed");
const tr_reason tr__shutdown = TR__STATIC_REASON("shutdown");
const tr_reason tr__noproc = TR__STATIC_REASON("noproc");
const tr_reason tr__stack_overflow = TR__STATIC_REASON("stack_overflow");
const tr_reason tr__timeout = TR__STATIC_REASON("timeout");
static const tr_reason tr__enomem_reason = TR__STATIC_REASON("out of memory");

const tr_reason *tr__reason_enomem(void) { return &tr__enomem_reason; }

tr_reason *tr_reason_new(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) n = 0;
    tr_reason *r = malloc(sizeof *r + (size_t)n + 1);
    if (!r) return (tr_reason *)&tr__enomem_reason;
    atomic_init(&r->refs, 1);
    va_start(ap, fmt);
    vsnprintf(r->buf, (size_t)n + 1, fmt, ap);
    r->text = r->buf;
    va_end(ap);
    return r;
}

const tr_reason *tr_reason_ref(const tr_reason *r) {
    tr_reason *m = (tr_reason *)r;
    /* Relaxed: taking a reference needs no ordering, only the final release does. */
    if (m && atomic_load_explicit(&m->refs, memory_order_relaxed) >= 0)
        atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return r;
}

void tr_reason_unref(const tr_reason *r) {
    tr_reason *m = (tr_reason *)r;
    if (!m || atomic_load_explicit(&m->refs, memory_order_relaxed) < 0) return;
    /* acq_rel: the last owner must see every write made through other references. */
    if (atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1) free(m);
}

const char *tr_reason_text(const tr_reason *r) { return r ? r->text : "normal"; }

bool tr_reason_eq(const tr_reason *a, const tr_reason *b) {
    return a == b || strcmp(tr_reason_text(a), tr_reason_text(b)) == 0;
}

bool tr_reason_is_normal(const tr_reason *r) {
    const char *t = tr_reason_text(r);
    return strcmp(t, "normal") == 0 || strcmp(t, "shutdown") == 0 || strncmp(t, "shutdown ", 9) == 0;
}

/* ---------------------------------------------------------------- binaries */

tr_bin *tr_bin_alloc(size_t len) {
    if (len > SIZE_MAX - sizeof(tr_bin) - 1) return NULL;
    tr_bin *b = malloc(sizeof *b + len + 1);
    if (!b) return NULL;
    atomic_init(&b->refs, 1);
    b->len = len;
    b->data[len] = 0;
    return b;
}

tr_bin *tr_bin_new(const void *data, size_t len) {
    tr_bin *b = tr_bin_alloc(len);
    if (b && len) memcpy(b->data, data, len);
    return b;
}

void *tr_bin_wdata(tr_bin *b) { return b->data; }

void tr_bin_truncate(tr_bin *b, size_t len) {
    if (len < b->len) {
        b->len = len;
        b->data[len] = 0;
    }
}

tr_bin *tr_bin_ref(tr_bin *b) {
    if (b) atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed); /* as tr_reason_ref */
    return b;
}

void tr_bin_unref(tr_bin *b) {
    if (b && atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1) free(b);
}

const void *tr_bin_data(const tr_bin *b) { return b->data; }
size_t tr_bin_len(const tr_bin *b) { return b->len; }

/* ---------------------------------------------------------------- errors */

const char *tr_strerror(int err) {
    switch (err) {
#define TR__ERR_TEXT(name, code, text) \
    case TR_##name:                    \
        return text;
        TR_ERRNO_MAP(TR__ERR_TEXT)
#undef TR__ERR_TEXT
    case 0:
        return "success";
    }
    return "unknown error";
}
