/* map.c -- a small open-addressing hash map from non-zero 64-bit keys, for a process's
 * links and monitors. Linear probing; deleted slots are tombstones until a rehash. */
#include "internal.h"

#include <stdlib.h>

#define TOMB UINT64_MAX /* pids and refs are never all ones */

static inline uint32_t slot_of(uint64_t k, uint32_t cap) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (uint32_t)k & (cap - 1);
}

/* Keys and values share one allocation: vals is keys + cap. */
static int rehash(tr__map *m, uint32_t cap) {
    uint64_t *keys = calloc(2 * (size_t)cap, sizeof *keys);
    if (!keys) return TR_ENOMEM;
    uint64_t *vals = keys + cap;
    for (uint32_t i = 0; i < m->cap; i++) {
        uint64_t k = m->keys[i];
        if (k == 0 || k == TOMB) continue;
        uint32_t j = slot_of(k, cap);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = k;
        vals[j] = m->vals[i];
    }
    free(m->keys);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    m->used = m->len;
    return 0;
}

int tr__map_put(tr__map *m, uint64_t key, uint64_t val) {
    if ((m->used + 1) * 4 >= m->cap * 3) {
        uint32_t cap = m->cap ? m->cap : 4;
        while ((m->len + 1) * 2 >= cap) cap *= 2;
        if (rehash(m, cap) != 0) return TR_ENOMEM;
    }
    uint32_t j = slot_of(key, m->cap), tomb = UINT32_MAX;
    for (;; j = (j + 1) & (m->cap - 1)) {
        uint64_t k = m->keys[j];
        if (k == key) {
            m->vals[j] = val;
            return 0;
        }
        if (k == TOMB && tomb == UINT32_MAX) tomb = j;
        if (k == 0) break;
    }
    if (tomb != UINT32_MAX) j = tomb;
    else m->used++;
    m->keys[j] = key;
    m->vals[j] = val;
    m->len++;
    return 0;
}

static uint32_t find(const tr__map *m, uint64_t key) {
    if (!m->cap) return UINT32_MAX;
    for (uint32_t j = slot_of(key, m->cap);; j = (j + 1) & (m->cap - 1)) {
        if (m->keys[j] == key) return j;
        if (m->keys[j] == 0) return UINT32_MAX;
    }
}

bool tr__map_get(const tr__map *m, uint64_t key, uint64_t *val) {
    uint32_t j = find(m, key);
    if (j == UINT32_MAX) return false;
    if (val) *val = m->vals[j];
    return true;
}

bool tr__map_del(tr__map *m, uint64_t key, uint64_t *val) {
    uint32_t j = find(m, key);
    if (j == UINT32_MAX) return false;
    if (val) *val = m->vals[j];
    m->keys[j] = TOMB;
    m->len--;
    if (m->len == 0) { /* cheap reset keeps probe chains short */
        for (uint32_t i = 0; i < m->cap; i++) m->keys[i] = 0;
        m->used = 0;
    }
    return true;
}

bool tr__map_next(const tr__map *m, uint32_t *i, uint64_t *key, uint64_t *val) {
    for (; *i < m->cap; (*i)++) {
        uint64_t k = m->keys[*i];
        if (k && k != TOMB) {
            *key = k;
            if (val) *val = m->vals[*i];
            (*i)++;
            return true;
        }
    }
    return false;
}

void tr__map_free(tr__map *m) {
    free(m->keys);
    *m = (tr__map){0};
}

size_t tr__map_memory(const tr__map *m) { return (size_t)m->cap * 16; }
