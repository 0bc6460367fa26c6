/* timer.c -- per-scheduler timer heaps: receive timeouts, sleeps, and send_after.
 *
 * No thread per timer: each scheduler keeps a binary min-heap of the timers of its
 * processes and fires the due ones between process runs and when it wakes from idle.
 * A process has one embedded timer for its own timeouts, moved in place on each park,
 * so a server that receives with a timeout a million times leaves no garbage behind.
 * send_after timers live in a table of slots with generations, so a handle stays safe
 * to cancel from any thread after the timer has fired and its slot been reused.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t tr__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tr_now_ms(void) { return tr__now(); }

int64_t tr__now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---------------------------------------------------------------- the heap */

static void heap_set(tr__sched *s, int i, tr__timer *t) {
    s->heap[i] = t;
    t->heap_idx = i;
}

static void sift_up(tr__sched *s, int i) {
    tr__timer *t = s->heap[i];
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (s->heap[parent]->deadline <= t->deadline) break;
        heap_set(s, i, s->heap[parent]);
        i = parent;
    }
    heap_set(s, i, t);
}

static void sift_down(tr__sched *s, int i) {
    tr__timer *t = s->heap[i];
    for (;;) {
        int c = 2 * i + 1;
        if (c >= s->heap_n) break;
        if (c + 1 < s->heap_n && s->heap[c + 1]->deadline < s->heap[c]->deadline) c++;
        if (s->heap[c]->deadline >= t->deadline) break;
        heap_set(s, i, s->heap[c]);
        i = c;
    }
    heap_set(s, i, t);
}

void tr__heap_add(tr__sched *s, tr__timer *t) {
    if (t->heap_idx >= 0) { /* moved deadline: restore the order in place */
        sift_up(s, t->heap_idx);
        sift_down(s, t->heap_idx);
        return;
    }
    if (s->heap_n == s->heap_cap) {
        int cap = s->heap_cap ? s->heap_cap * 2 : 64;
        tr__timer **h = realloc(s->heap, (size_t)cap * sizeof *h);
        if (!h) abort(); /* a lost timeout would hang a process forever */
        s->heap = h;
        s->heap_cap = cap;
    }
    heap_set(s, s->heap_n++, t);
    sift_up(s, t->heap_idx);
}

void tr__heap_remove(tr__sched *s, tr__timer *t) {
    int i = t->heap_idx;
    if (i < 0) return;
    t->heap_idx = -1;
    tr__timer *last = s->heap[--s->heap_n];
    if (i < s->heap_n) {
        heap_set(s, i, last);
        sift_up(s, i);
        sift_down(s, last->heap_idx);
    }
}

/* ---------------------------------------------------------------- send_after */

enum { ST_FREE, ST_PENDING, ST_CANCELLED, ST_FIRED };
#define ST_CHUNK 1024
#define ST_MAX_CHUNKS 4096

typedef struct send_timer {
    tr__timer t;
    _Atomic uint64_t word; /* generation << 2 | state: cancel and fire race on it */
    uint32_t index;
    int home;
    tr_pid to;
    uint64_t tag;
    void *data;
    size_t len;
    struct send_timer *next_free;
} send_timer;

static struct {
    pthread_mutex_t lock;
    _Atomic(send_timer *) chunks[ST_MAX_CHUNKS];
    uint32_t high;
    send_timer *free;
} st;

void tr__timers_global_init(void) {
    pthread_mutex_init(&st.lock, NULL);
    st.high = 0;
    st.free = NULL;
}

void tr__timers_global_destroy(void) {
    for (int c = 0; c < ST_MAX_CHUNKS; c++) {
        send_timer *chunk = atomic_load(&st.chunks[c]);
        if (!chunk) continue;
        for (int i = 0; i < ST_CHUNK; i++) free(chunk[i].data);
        free(chunk);
        atomic_store(&st.chunks[c], NULL);
    }
    pthread_mutex_destroy(&st.lock);
}

static send_timer *st_alloc(void) {
    pthread_mutex_lock(&st.lock);
    send_timer *t = st.free;
    if (t) st.free = t->next_free;
    else if (st.high < ST_CHUNK * ST_MAX_CHUNKS) {
        uint32_t c = st.high / ST_CHUNK;
        send_timer *chunk = atomic_load_explicit(&st.chunks[c], memory_order_relaxed);
        if (!chunk) {
            chunk = calloc(ST_CHUNK, sizeof *chunk);
            if (chunk) {
                for (uint32_t i = 0; i < ST_CHUNK; i++) {
                    chunk[i].index = c * ST_CHUNK + i;
                    atomic_init(&chunk[i].word, (uint64_t)1 << 2 | ST_FREE);
                }
                /* release: a canceller's acquire load sees initialised slots */
                atomic_store_explicit(&st.chunks[c], chunk, memory_order_release);
            }
        }
        if (chunk) t = &chunk[st.high++ % ST_CHUNK];
    }
    pthread_mutex_unlock(&st.lock);
    return t;
}

static void st_free(send_timer *t) {
    free(t->data);
    t->data = NULL;
    uint64_t gen = (atomic_load(&t->word) >> 2) + 1;
    atomic_store(&t->word, gen << 2 | ST_FREE);
    pthread_mutex_lock(&st.lock);
    t->next_free = st.free;
    st.free = t;
    pthread_mutex_unlock(&st.lock);
}

tr_timer tr_send_after(int64_t ms, tr_pid to, uint64_t tag, const void *data, size_t len) {
    tr__self("tr_send_after");
    tr__sched *s = tr__tls_sched;
    send_timer *t = st_alloc();
    if (!t) return 0;
    t->data = NULL;
    if (len) {
        t->data = malloc(len);
        if (!t->data) {
            st_free(t);
            return 0;
        }
        memcpy(t->data, data, len);
    }
    t->len = len;
    t->to = to;
    t->tag = tag;
    t->home = s->id;
    t->t = (tr__timer){.deadline = tr__now() + (ms > 0 ? ms : 0), .heap_idx = -1, .kind = TR__TIMER_SEND};
    uint64_t gen = atomic_load(&t->word) >> 2;
    atomic_store(&t->word, gen << 2 | ST_PENDING);
    tr__heap_add(s, &t->t);
    return (gen << 32) | t->index;
}

int64_t tr_cancel_timer(tr_timer h) {
    uint32_t idx = (uint32_t)h;
    uint64_t gen = h >> 32;
    if (idx >= ST_CHUNK * ST_MAX_CHUNKS) return -1;
    send_timer *chunk = atomic_load_explicit(&st.chunks[idx / ST_CHUNK], memory_order_acquire);
    if (!chunk) return -1;
    send_timer *t = &chunk[idx % ST_CHUNK];
    uint64_t expect = gen << 2 | ST_PENDING;
    if (!atomic_compare_exchange_strong(&t->word, &expect, gen << 2 | ST_CANCELLED)) return -1;
    int64_t left = t->t.deadline - tr__now();
    tr__sched *s = tr__tls_sched;
    if (s && s->id == t->home) { /* the heap is ours: drop it now rather than at its deadline */
        tr__heap_remove(s, &t->t);
        st_free(t);
    }
    return left > 0 ? left : 0;
}

/* ---------------------------------------------------------------- firing */

static void fire(tr__timer *tm) {
    if (tm->kind == TR__TIMER_PROC) {
        tr__proc *p = (tr__proc *)((char *)tm - offsetof(tr__proc, tmr));
        atomic_store(&p->wake, 1);
        tr__wake(p);
        return;
    }
    send_timer *t = (send_timer *)tm;
    uint64_t w = atomic_load(&t->word);
    uint64_t expect = (w >> 2) << 2 | ST_PENDING;
    if (atomic_compare_exchange_strong(&t->word, &expect, (w >> 2) << 2 | ST_FIRED))
        tr_send(t->to, t->tag, t->data, t->len);
    st_free(t);
}

int64_t tr__timers_run(tr__sched *s, int64_t now) {
    while (s->heap_n > 0 && s->heap[0]->deadline <= now) {
        tr__timer *t = s->heap[0];
        tr__heap_remove(s, t);
        fire(t);
    }
    return s->heap_n > 0 ? s->heap[0]->deadline : -1;
}

void tr__timers_destroy(tr__sched *s) {
    for (int i = 0; i < s->heap_n; i++) s->heap[i]->heap_idx = -1;
    free(s->heap);
    s->heap = NULL;
    s->heap_n = s->heap_cap = 0;
}
