/* blocking.c -- a pool of plain threads for calls that block the OS thread (file I/O,
 * SQLite, getaddrinfo), so that a process can make one without stalling the other
 * processes of its scheduler. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct job {
    struct job *next;
    void (*fn)(void *);
    void *arg;
    tr__proc *proc;
    _Atomic int done;
} job;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    job *head, *tail;
    bool stop;
    int n;
    pthread_t *threads;
} pool;

static void *worker(void *unused) {
    (void)unused;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (!pool.head && !pool.stop) pthread_cond_wait(&pool.cond, &pool.lock);
        if (!pool.head) break;
        job *j = pool.head;
        pool.head = j->next;
        if (!pool.head) pool.tail = NULL;
        pthread_mutex_unlock(&pool.lock);
        j->fn(j->arg);
        tr__proc *p = j->proc; /* read before `done`: the job is freed once it is seen */
        atomic_store_explicit(&j->done, 1, memory_order_release);
        atomic_store(&p->wake, 1);
        tr__wake(p);
        pthread_mutex_lock(&pool.lock);
    }
    pthread_mutex_unlock(&pool.lock);
    return NULL;
}

int tr__blocking_start(int nthreads) {
    pthread_mutex_init(&pool.lock, NULL);
    pthread_cond_init(&pool.cond, NULL);
    pool.head = pool.tail = NULL;
    pool.stop = false;
    pool.threads = calloc((size_t)nthreads, sizeof *pool.threads);
    if (!pool.threads) return TR_ENOMEM;
    pool.n = 0;
    for (int i = 0; i < nthreads; i++)
        if (pthread_create(&pool.threads[pool.n], NULL, worker, NULL) == 0) pool.n++;
    return pool.n ? 0 : TR_ESYS;
}

void tr__blocking_stop(void) {
    pthread_mutex_lock(&pool.lock);
    pool.stop = true;
    pthread_cond_broadcast(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    for (int i = 0; i < pool.n; i++) pthread_join(pool.threads[i], NULL);
    free(pool.threads);
    pool.threads = NULL;
    pthread_mutex_destroy(&pool.lock);
    pthread_cond_destroy(&pool.cond);
}

int tr_blocking(void (*fn)(void *), void *arg, size_t size) {
    tr__proc *p = tr__self("tr_blocking");
    job *j = malloc(sizeof *j + size);
    if (!j) return TR_ENOMEM;
    j->next = NULL;
    j->fn = fn;
    j->proc = p;
    j->arg = arg;
    atomic_init(&j->done, 0);
    if (size) {
        j->arg = j + 1;
        memcpy(j->arg, arg, size);
    }
    pthread_mutex_lock(&pool.lock);
    if (pool.tail) pool.tail->next = j;
    else pool.head = j;
    pool.tail = j;
    pthread_cond_signal(&pool.cond);
    pthread_mutex_unlock(&pool.lock);
    /* FLAG mode: messages and exit signals do not end this wait; they act after. */
    while (!atomic_load_explicit(&j->done, memory_order_acquire)) tr__park(p, TR__WAIT_FLAG, -1, "blocking");
    if (size) memcpy(arg, j + 1, size);
    free(j);
    tr__drain(p);
    return 0;
}
