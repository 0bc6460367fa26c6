/* internal.h -- the runtime's private structures, shared by the files of runtime/.
 *
 * Names: tr_ is the public API (include/tr.h), tr__ is internal but not static.
 *
 * The shape of it:
 *   - A process is a tr__proc record in a table of chunks that is never freed while
 *     the runtime runs (records are type-stable), so a stale pid can always be looked
 *     up safely and is then rejected by its generation.
 *   - Each scheduler thread runs processes on one shared, guarded stack. A process
 *     that is switched out keeps its frames in place until another process needs the
 *     stack; only then are the bytes it used copied to the heap (stack.c). This is what
 *     makes an idle process cost well under a page. Its price: a started process stays
 *     on its scheduler (its frames hold absolute addresses of that stack), so work
 *     stealing moves only processes that have not started yet.
 *   - A mailbox is a closable lock-free push stack: senders CAS onto its head, the
 *     owner takes the whole stack with one exchange and reverses it into its private
 *     queue, in arrival order. Closing swaps in a sentinel, so a send to a dying
 *     process fails atomically instead of being lost.
 *   - Links, monitors and exit signals travel through the mailbox as signals; a
 *     process changes only its own tables (as BEAM does), when it drains its mailbox.
 */
#ifndef TR_INTERNAL_H
#define TR_INTERNAL_H

#include "tr.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define TR__CHUNK_SHIFT 12
#define TR__CHUNK (1u << TR__CHUNK_SHIFT)
#define TR__DEFAULT_MAX_PROCS (4u << 20)
#define TR__REDUCTIONS 2000 /* runtime calls a process makes before it yields */
#define TR__TAG_FDWAIT (TR_TAG_RESERVED + 1)
#define TR__TAG_SLEEP (TR_TAG_RESERVED + 2)

/* ThreadSanitizer must be told about our context switches (its fiber API), or its
 * shadow call stack grows with every switch. These compile to nothing otherwise. */
#if defined(__SANITIZE_THREAD__)
#define TR__TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TR__TSAN 1
#endif
#endif
#ifdef TR__TSAN
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#define TR__FIBER_FIELD void *tsan_fiber;
#else
#define TR__FIBER_FIELD
#endif

#define TR__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TR__LIKELY(x) __builtin_expect(!!(x), 1)

/* -------------------------------------------------------------- reasons, binaries */

struct tr_reason {
    _Atomic int refs; /* < 0: static, never freed */
    const char *text; /* points into buf, or to a literal for static reasons */
    char buf[];
};
#define TR__STATIC_REASON(txt) {.refs = -1, .text = (txt)}

struct tr_bin {
    _Atomic size_t refs;
    size_t len;
    char data[]; /* len bytes and a NUL */
};

/* -------------------------------------------------------------- small hash maps */

/* An open-addressing map from a non-zero 64-bit key to a 64-bit value (pid sets use
 * the value 0). Owned by one process; no locking of its own. */
typedef struct tr__map {
    uint64_t *keys;
    uint64_t *vals;
    uint32_t cap; /* 0 or a power of two */
    uint32_t len;
    uint32_t used; /* len + tombstones */
} tr__map;

int tr__map_put(tr__map *m, uint64_t key, uint64_t val); /* 0 or TR_ENOMEM; replaces */
bool tr__map_get(const tr__map *m, uint64_t key, uint64_t *val);
bool tr__map_del(tr__map *m, uint64_t key, uint64_t *val);
void tr__map_free(tr__map *m);
/* Iterate: for (uint32_t i = 0; tr__map_next(m, &i, &k, &v);) */
bool tr__map_next(const tr__map *m, uint32_t *i, uint64_t *key, uint64_t *val);
size_t tr__map_memory(const tr__map *m);

/* -------------------------------------------------------------- messages and signals */

enum tr__sig {
    TR__SIG_MSG,       /* a user message */
    TR__SIG_ALIAS,     /* a user message kept only while the receiver holds monitor ref */
    TR__SIG_DOWN,      /* a monitor fired (becomes a DOWN message if still monitored) */
    TR__SIG_EXIT,      /* exit/2 from `from` */
    TR__SIG_EXIT_LINK, /* `from` died and was linked to us */
    TR__SIG_LINK,
    TR__SIG_UNLINK,
    TR__SIG_MONITOR,   /* `from` monitors us with ref */
    TR__SIG_DEMONITOR, /* `from` dropped monitor ref */
};

/* A message or signal. The public tr_msg is embedded; an inline payload may follow. */
typedef struct tr__node {
    struct tr__node *next;
    struct tr__node *prev;
    tr_pid to; /* addressee: a node that reaches a reused slot is dropped */
    uint8_t sig;
    tr_msg msg;
    max_align_t payload[];
} tr__node;

#define TR__CLOSED ((tr__node *)(uintptr_t)1)

/* -------------------------------------------------------------- timers */

enum { TR__TIMER_PROC, TR__TIMER_SEND };

typedef struct tr__timer {
    int64_t deadline; /* ms, tr_now_ms() clock */
    int32_t heap_idx; /* -1 when not in a heap */
    uint8_t kind;
} tr__timer;

/* -------------------------------------------------------------- processes */

enum tr__state { TR__FREE, TR__RUNNABLE, TR__RUNNING, TR__WAITING, TR__EXITING };
enum tr__wait { TR__WAIT_MSG, TR__WAIT_FLAG };         /* what may end a park */
enum tr__yield { TR__Y_YIELD, TR__Y_PARK, TR__Y_EXIT }; /* why a process switched out */

typedef struct tr__cleanup {
    struct tr__cleanup *next;
    void (*fn)(void *);
    void *arg;
} tr__cleanup;

typedef struct tr__proc {
    /* Shared with other threads: atomics only. */
    _Atomic uint32_t gen;          /* current generation of this slot */
    _Atomic int state;             /* enum tr__state */
    _Atomic(tr__node *) inbox;     /* push stack, or TR__CLOSED */
    _Atomic int wake;              /* set by timers, fd events, blocking completions */
    _Atomic int home;              /* scheduler index, -1 until first run */
    _Atomic size_t q_len;          /* drained messages waiting in the private queue */
    atomic_flag info_lock;         /* guards links/monitors/name for introspection */

    /* Owned by the process (and by its scheduler once it stops). */
    uint32_t index;
    tr__node *q_head, *q_tail;     /* private queue, arrival order */
    tr__node *marker;              /* receive marker: last node before marker_ref existed */
    tr_ref marker_ref;
    struct tr__proc *run_next;     /* run queue / free list link */
    void *sp;                      /* saved stack pointer */
    char *stack_copy;              /* the frames, while another process has the stack */
    uint32_t stack_len, stack_cap;
    uint8_t yield_kind, wait_mode;
    bool trap_exit, started, crashed, on_stack;
    uint8_t priority;             /* tr_priority; observers read it (info.c) */
    bool spread;                  /* placed by load, not next on its spawner's scheduler */
    int reds;
    tr_fn fn;
    void *arg;
    const char *entry;
    const char *waiting_in;
    tr_pid parent;
    tr__map links;                 /* pid -> 0 */
    tr__map mons;                  /* monitors we hold: ref -> pid */
    tr__map monby;                 /* monitors on us: ref -> pid */
    const tr_reason *exit_reason;
    tr__node *pending;             /* unprocessed signals when it decided to die */
    tr__cleanup *cleanups;
    tr__timer tmr;                 /* the receive/sleep timeout */
    uint32_t nfds;                 /* fds registered with tr_select */
    char name[64];
    uint64_t rng;
    TR__FIBER_FIELD
} tr__proc;

static inline tr_pid tr__pid_of(const tr__proc *p) {
    return ((uint64_t)atomic_load_explicit(&p->gen, memory_order_relaxed) << 32) | p->index;
}

/* -------------------------------------------------------------- schedulers */

typedef struct tr__fdreg {
    tr_pid pid;
    uint64_t tag;
    tr_ref ref;
    unsigned events;
    bool in_epoll;
} tr__fdreg;

typedef struct tr__sched {
    int id;
    pthread_t thread;
    void *sp;                     /* the scheduler's own context while a process runs */
    tr__proc *current;
    char *map;                    /* the shared stack mapping: guard, then stack */
    size_t map_len, guard_len;
    char *stack_lo, *stack_hi;
    tr__proc *stack_owner;        /* whose frames are on the shared stack */
    void *altstack;

    /* From here on, three groups on lines of their own: this thread's queues, what
     * other threads write on every wakeup, and the rarely written counters. */
    _Alignas(64) tr__proc *local_head, *local_tail; /* this thread only */
    tr__proc *high_head, *high_tail;   /* this thread only: TR_PRIORITY_HIGH, run first */
    tr__proc *runnext;                 /* this thread only: the newest spawn, run next */
    _Alignas(64) pthread_mutex_t lock; /* guards remote_* and fresh_* */
    tr__proc *remote_head, *remote_tail;
    tr__proc *remote_high_head, *remote_high_tail;
    tr__proc *fresh_head, *fresh_tail;
    _Atomic int remote_n, fresh_n;
    _Atomic int64_t fresh_since;  /* ns when the fresh queue last became non-empty */
    _Atomic int sleeping;

    _Alignas(64) struct tr__poller *poller; /* the OS seam (poll_epoll.c) */
    tr__fdreg *fds;
    int fds_cap;
    int nregs;                    /* fds with a registration: poll only if any */

    tr__timer **heap;             /* timers, min-heap by deadline */
    int heap_n, heap_cap;

    uint64_t ref_next;
    unsigned ticks;
    int64_t last_wake_ns;         /* when this scheduler last woke a sleeping one */
    /* Read at every pick or every spread spawn, written rarely: a line of their own,
     * away from the one other threads write on every wakeup (remote_n and the lock):
     * that sharing cost 5% of a link cascade. */
    _Alignas(64) _Atomic int remote_high_n; /* a high process was queued on remote_high_* */
    _Atomic int homed;            /* started processes living here (they never move);
                                     written by this thread only, read by any */
    _Atomic int placing;          /* spread spawns placed here, not started yet */
    TR__FIBER_FIELD
} tr__sched;

/* Counts a process starting (+1) or ending (-1) on s. Only s's own thread writes the
 * count, so a load and a store do: no locked instruction per spawn or exit. */
static inline void tr__homed_add(tr__sched *s, int d) {
    atomic_store_explicit(&s->homed, atomic_load_explicit(&s->homed, memory_order_relaxed) + d, memory_order_relaxed);
}

/* -------------------------------------------------------------- the runtime */

typedef struct tr__runtime {
    tr_config cfg;
    int nsched;
    tr__sched *scheds;
    _Atomic(tr__proc *) *chunks;  /* max_procs / TR__CHUNK chunk pointers */
    uint32_t max_procs;
    pthread_mutex_t table_lock;   /* free list and chunk allocation */
    tr__proc *free_list;
    uint32_t high_water;          /* slots ever handed out */
    _Atomic size_t live;
    _Atomic uint64_t spawned, exited;
    _Atomic int sleepers;
    _Atomic int active;           /* schedulers not idle (running or looking for work) */
    _Atomic int stopping;
    _Atomic uint64_t ext_ref;     /* refs made outside processes */
    tr_pid root;
    const tr_reason *root_reason;
    pthread_mutex_t done_lock;
    pthread_cond_t done_cond;
    bool root_done;
    size_t page;
} tr__runtime;

extern tr__runtime tr__rt;
extern _Thread_local tr__sched *tr__tls_sched;

/* The current process, or abort with a message naming the function. */
tr__proc *tr__self(const char *fn);
static inline tr__proc *tr__cur(void) {
    tr__sched *s = tr__tls_sched;
    return s ? s->current : NULL;
}

/* proc.c */
tr__proc *tr__lookup(tr_pid pid);
tr__proc *tr__proc_alloc(void);
void tr__proc_free(tr__proc *p);
void tr__proc_exit_path(tr__sched *s, tr__proc *p);
_Noreturn void tr__die(tr__proc *p, const tr_reason *reason);
void tr__info_lock(tr__proc *p);
void tr__info_unlock(tr__proc *p);
size_t tr__proc_memory(tr__proc *p);

/* mailbox.c */
tr__node *tr__node_new(size_t payload);
void tr__node_free(tr__node *n);
bool tr__push(tr__proc *p, tr__node *n);            /* false: the mailbox is closed */
int tr__deliver(tr_pid to, tr__node *n);            /* push + wake; frees n if dead */
int tr__signal(tr_pid to, int sig, tr_pid from, tr_ref ref, const tr_reason *r);
void tr__drain(tr__proc *p);                         /* process context */
void tr__queue_append(tr__proc *p, tr__node *n);
void tr__queue_remove(tr__proc *p, tr__node *n);
void tr__dead_signals(tr__proc *p, tr__node *list); /* answers signals sent to the dead */

/* sched.c */
void tr__wake(tr__proc *p);
void tr__enqueue_fresh(tr__proc *p);
void tr__switch_out(tr__proc *p, int why);           /* process context */
void tr__park(tr__proc *p, int mode, int64_t deadline, const char *where);
void tr__count_reduction(tr__proc *p);
tr_ref tr__make_ref(void);

/* stack.c */
int tr__stack_init(tr__sched *s, size_t size);
void tr__stack_destroy(tr__sched *s);
void tr__stack_switch_in(tr__sched *s, tr__proc *p);
void tr__stack_release(tr__sched *s, tr__proc *p);
void tr__ctx_switch(void **save_sp, void *to_sp);   /* arch/switch_*.S */
void tr__ctx_restore(void);                         /* its second half: resume at sp */
void tr__proc_main(void);                           /* where a new process starts */

/* timer.c */
int64_t tr__now(void);
int64_t tr__now_ns(void);
void tr__heap_add(tr__sched *s, tr__timer *t);
void tr__heap_remove(tr__sched *s, tr__timer *t);
int64_t tr__timers_run(tr__sched *s, int64_t now);  /* fires due ones; next deadline or -1 */
void tr__timers_destroy(tr__sched *s);
void tr__timers_global_init(void);
void tr__timers_global_destroy(void);

/* poll_epoll.c: the OS seam (a kqueue file would implement the same five calls) */
struct tr__poller *tr__poller_new(void);
void tr__poller_free(struct tr__poller *pl);
int tr__poller_arm(struct tr__poller *pl, int fd, unsigned events, bool *in_set);
int tr__poller_disarm(struct tr__poller *pl, int fd, bool *in_set);
/* Waits up to timeout_ms (-1 forever) for events or a wakeup; calls on_ready for each
 * ready fd. Returns the number of fd events. */
int tr__poller_wait(struct tr__poller *pl, int64_t timeout_ms,
                    void (*on_ready)(void *ctx, int fd, unsigned events), void *ctx);
void tr__poller_wakeup(struct tr__poller *pl);
void tr__fd_ready(void *sched, int fd, unsigned events);
void tr__fds_release(tr__sched *s, tr__proc *p);

/* blocking.c */
int tr__blocking_start(int nthreads);
void tr__blocking_stop(void);

/* crash.c */
int tr__crash_install(void);
void tr__crash_uninstall(void);
int tr__crash_thread_init(tr__sched *s);
void tr__crash_thread_fini(tr__sched *s);

/* registry.c */
void tr__registry_init(void);
void tr__registry_destroy(void);
void tr__registry_drop(tr__proc *p);

/* reason.c */
const tr_reason *tr__reason_enomem(void);

#endif
