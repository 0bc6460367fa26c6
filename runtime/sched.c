/* sched.c -- scheduler threads: run queues, park and wake, idling, and tr_run().
 *
 * Each scheduler has three queues:
 *   local  -- started processes woken on this thread; touched by this thread only.
 *   remote -- started processes woken by other threads (mutex); they live here.
 *   fresh  -- processes not started yet (mutex); idle schedulers steal these.
 * A started process never moves (its frames live at this scheduler's stack
 * addresses, see stack.c), so only fresh processes balance load.
 *
 * Park/wake protocol (no lost wakeups): a process that blocks switches to its
 * scheduler, which *then* publishes state WAITING and re-checks the wake conditions.
 * A waker first makes its condition true (pushes a message, sets p->wake), then
 * moves WAITING -> RUNNABLE with a CAS and queues the process. Both sides use
 * sequentially consistent operations on the condition and on the state, so at least
 * one of them sees the other (Dekker), and only the CAS winner queues it. Publishing
 * WAITING only after the switch means no thread can resume a process whose registers
 * are still being saved.
 */
#include "internal.h"

#include <errno.h>
#include <malloc.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

tr__runtime tr__rt;
_Thread_local tr__sched *tr__tls_sched;

/* An idle scheduler polls its queues at most this long before it sleeps, and only while
 * another scheduler is busy (tr_config.spin_us; see idle()): waking a sleeping thread
 * costs tens of microseconds in a VM, far more than a hop between processes. */
#define SPIN_US_DEFAULT 100
/* A new process may be stolen only after waiting this long: a burst of spawns is then
 * split in large runs (a chain of processes mostly talks within one scheduler) rather
 * than dealt out one by one to whichever thread is idle. */
#define STEAL_DELAY_NS 20000

tr__proc *tr__self(const char *fn) {
    tr__proc *p = tr__cur();
    if (TR__UNLIKELY(!p)) {
        fprintf(stderr, "trawl runtime: %s called outside a process\n", fn);
        abort();
    }
    return p;
}

bool tr_in_process(void) { return tr__cur() != NULL; }

static void list_push(tr__proc **head, tr__proc **tail, tr__proc *p);

/* A priority is written by the spawner before the process is first queued, later only by
 * the process itself while it runs; a relaxed read sees the one it last queued with. */
static bool is_high(const tr__proc *p) { return __atomic_load_n(&p->priority, __ATOMIC_RELAXED) != 0; }

static void local_push(tr__sched *s, tr__proc *p) {
    if (is_high(p)) list_push(&s->high_head, &s->high_tail, p);
    else list_push(&s->local_head, &s->local_tail, p);
}

static tr__proc *list_pop(tr__proc **head, tr__proc **tail) {
    tr__proc *p = *head;
    if (p) {
        *head = p->run_next;
        if (!*head) *tail = NULL;
        p->run_next = NULL;
    }
    return p;
}

static void list_push(tr__proc **head, tr__proc **tail, tr__proc *p) {
    p->run_next = NULL;
    if (*tail) (*tail)->run_next = p;
    else *head = p;
    *tail = p;
}

/* `sleeping` is 0 (awake), 1 (asleep or about to be) or 2 (asleep and already woken):
 * only the waker that moves it from 1 to 2 writes to the eventfd, so a burst of sends
 * to a sleeping scheduler costs one wakeup, not one each. */
static void wake_sched(tr__sched *s) {
    /* seq_cst pairs with the sleeper's store of `sleeping` and its queue re-check. */
    int expect = 1;
    if (atomic_load(&s->sleeping) == 1 && atomic_compare_exchange_strong(&s->sleeping, &expect, 2))
        tr__poller_wakeup(s->poller);
}

/* Queues a runnable process on scheduler s: its own queues if s is this thread's,
 * otherwise s's remote queue (and wakes s). */
static void queue_on(tr__sched *s, tr__proc *p) {
    if (s == tr__tls_sched) {
        local_push(s, p);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (is_high(p)) {
        list_push(&s->remote_high_head, &s->remote_high_tail, p);
        atomic_store(&s->remote_high_n, 1);
    } else {
        list_push(&s->remote_head, &s->remote_tail, p);
    }
    atomic_store(&s->remote_n, 1);
    pthread_mutex_unlock(&s->lock);
    wake_sched(s);
}

void tr__wake(tr__proc *p) {
    int expect = TR__WAITING;
    if (!atomic_compare_exchange_strong(&p->state, &expect, TR__RUNNABLE)) return;
    /* Relaxed: home was written before the process first parked, and the CAS above
     * (seq_cst) orders this read after that park. */
    queue_on(&tr__rt.scheds[atomic_load_explicit(&p->home, memory_order_relaxed)], p);
}

/* Wakes one sleeping scheduler so it can steal new processes: at most one wakeup per
 * steal delay from a given scheduler, since a thief could not take them sooner anyway
 * (an eventfd write per spawn would cost more than the spawn). */
static void wake_one_sleeper(void) {
    tr__sched *me = tr__tls_sched;
    int64_t now = tr__now_ns();
    if (me) {
        if (now - me->last_wake_ns < STEAL_DELAY_NS) return;
        me->last_wake_ns = now;
    }
    for (int i = 0; i < tr__rt.nsched; i++) {
        tr__sched *s = &tr__rt.scheds[i];
        if (s != tr__tls_sched && atomic_load(&s->sleeping) == 1) {
            wake_sched(s);
            return;
        }
    }
}

/* Where a spread spawn goes: the scheduler with the fewest processes living there or
 * waiting to start (the spawner's own on a tie). */
static tr__sched *least_loaded(tr__sched *s) {
    int best = INT32_MAX;
    tr__sched *pick = s;
    for (int i = 0; i < tr__rt.nsched; i++) {
        tr__sched *o = &tr__rt.scheds[(s->id + i) % tr__rt.nsched];
        int load = atomic_load_explicit(&o->homed, memory_order_relaxed) +
                   atomic_load_explicit(&o->placing, memory_order_relaxed) +
                   atomic_load_explicit(&o->fresh_n, memory_order_relaxed);
        if (load < best) {
            best = load;
            pick = o;
        }
    }
    return pick;
}

/* A spread spawn is placed for good: homed and counted there at once (so a burst of
 * spawns is dealt out evenly) and queued like a woken process, where no idle thread
 * steals it. A thief would undo the placement: an idle scheduler takes everything
 * while the one it was meant for is still waking up. */
static void place(tr__sched *s, tr__proc *p) {
    atomic_store_explicit(&p->home, s->id, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->placing, 1, memory_order_relaxed);
    queue_on(s, p);
}

void tr__enqueue_fresh(tr__proc *p) {
    tr__sched *s = tr__tls_sched ? tr__tls_sched : &tr__rt.scheds[0];
    if (p->spread) {
        place(least_loaded(s), p);
        return;
    }
    if (is_high(p)) { /* runs before the normal ones here, so neither runnext nor stolen */
        queue_on(s, p);
        return;
    }
    if (s == tr__tls_sched) {
        /* The newest spawn runs next on the spawner's thread and is not stolen (Go's
         * runnext): a process that spawns a helper and then waits on it keeps the pair
         * on one scheduler. The one it displaces becomes stealable like any other. */
        tr__proc *older = s->runnext;
        s->runnext = p;
        if (!older) return;
        p = older;
    }
    pthread_mutex_lock(&s->lock);
    list_push(&s->fresh_head, &s->fresh_tail, p);
    if (atomic_fetch_add(&s->fresh_n, 1) == 0) atomic_store(&s->fresh_since, tr__now_ns());
    pthread_mutex_unlock(&s->lock);
    if (s != tr__tls_sched) wake_sched(s);
    else if (atomic_load(&tr__rt.sleepers) > 0) wake_one_sleeper();
}

/* ---------------------------------------------------------------- process side */

void tr__switch_out(tr__proc *p, int why) {
    p->yield_kind = (uint8_t)why;
#ifdef TR__TSAN
    __tsan_switch_to_fiber(tr__tls_sched->tsan_fiber, 0);
#endif
    tr__ctx_switch(&p->sp, tr__tls_sched->sp);
    p->reds = TR__REDUCTIONS;
}

void tr__park(tr__proc *p, int mode, int64_t deadline, const char *where) {
    p->wait_mode = (uint8_t)mode;
    p->tmr.deadline = deadline;
    __atomic_store_n(&p->waiting_in, where, __ATOMIC_RELAXED); /* observers read it (info.c) */
    tr__switch_out(p, TR__Y_PARK);
    __atomic_store_n(&p->waiting_in, "", __ATOMIC_RELAXED);
    /* Cleared before the caller re-checks its condition: a waker sets its condition,
     * then this flag, so a wake after the check is seen when we park again. */
    atomic_store(&p->wake, 0);
}

void tr__count_reduction(tr__proc *p) {
    if (TR__UNLIKELY(--p->reds <= 0)) tr_yield();
}

void tr_yield(void) {
    tr__proc *p = tr__self("tr_yield");
    tr__switch_out(p, TR__Y_YIELD);
    tr__drain(p); /* exit signals take effect at a yield too */
}

tr_ref tr__make_ref(void) {
    tr__sched *s = tr__tls_sched;
    if (s) return (++s->ref_next << 8) | (uint64_t)(s->id + 1);
    return (atomic_fetch_add_explicit(&tr__rt.ext_ref, 1, memory_order_relaxed) + 1) << 8;
}

/* ---------------------------------------------------------------- scheduler side */

static void park_commit(tr__sched *s, tr__proc *p) {
    if (p->tmr.deadline >= 0) tr__heap_add(s, &p->tmr);
    else if (p->tmr.heap_idx >= 0) tr__heap_remove(s, &p->tmr);
    atomic_store(&p->state, TR__WAITING);
    bool ready = atomic_load(&p->wake) != 0;
    if (!ready && p->wait_mode == TR__WAIT_MSG) ready = atomic_load(&p->inbox) != NULL;
    if (ready) {
        int expect = TR__WAITING;
        if (atomic_compare_exchange_strong(&p->state, &expect, TR__RUNNABLE)) local_push(s, p);
    }
}

static void run(tr__sched *s, tr__proc *p) {
    if (!p->started) {
        if (p->spread) atomic_fetch_sub_explicit(&s->placing, 1, memory_order_relaxed); /* home set when placed */
        else atomic_store_explicit(&p->home, s->id, memory_order_relaxed);
        tr__homed_add(s, 1);
    }
    if (TR__UNLIKELY(p->crashed && !p->on_stack && p->started)) {
        /* Its frames could not be saved (out of memory): it cannot resume. */
        p->exit_reason = tr__reason_enomem();
        tr__proc_exit_path(s, p);
        return;
    }
    atomic_store_explicit(&p->state, TR__RUNNING, memory_order_relaxed);
    tr__stack_switch_in(s, p);
    p->started = true;
    s->current = p;
#ifdef TR__TSAN
    if (!p->tsan_fiber) p->tsan_fiber = __tsan_create_fiber(0);
    __tsan_switch_to_fiber(p->tsan_fiber, 0);
#endif
    tr__ctx_switch(&s->sp, p->sp);
#ifdef TR__TSAN
    __tsan_switch_to_fiber(s->tsan_fiber, 0); /* a no-op unless we came from a fault */
#endif
    s->current = NULL;
    switch (p->yield_kind) {
    case TR__Y_YIELD:
        atomic_store_explicit(&p->state, TR__RUNNABLE, memory_order_relaxed);
        local_push(s, p);
        break;
    case TR__Y_PARK:
        park_commit(s, p);
        break;
    default:
        tr__proc_exit_path(s, p);
        break;
    }
}

static void append(tr__proc **head, tr__proc **tail, tr__proc *h, tr__proc *t) {
    if (!h) return;
    if (*tail) (*tail)->run_next = h;
    else *head = h;
    *tail = t;
}

static void drain_remote(tr__sched *s) {
    if (!atomic_load_explicit(&s->remote_n, memory_order_relaxed)) return;
    pthread_mutex_lock(&s->lock);
    tr__proc *h = s->remote_head, *t = s->remote_tail;
    tr__proc *hh = s->remote_high_head, *ht = s->remote_high_tail;
    s->remote_head = s->remote_tail = s->remote_high_head = s->remote_high_tail = NULL;
    atomic_store(&s->remote_n, 0);
    atomic_store(&s->remote_high_n, 0);
    pthread_mutex_unlock(&s->lock);
    append(&s->local_head, &s->local_tail, h, t);
    append(&s->high_head, &s->high_tail, hh, ht);
}

static tr__proc *take_fresh(tr__sched *from) {
    if (!atomic_load_explicit(&from->fresh_n, memory_order_relaxed)) return NULL;
    pthread_mutex_lock(&from->lock);
    tr__proc *p = list_pop(&from->fresh_head, &from->fresh_tail);
    if (p) atomic_fetch_sub(&from->fresh_n, 1);
    pthread_mutex_unlock(&from->lock);
    return p;
}

/* Takes up to half of a victim's fresh queue: one to run, the rest to our fresh queue. */
static tr__proc *steal(tr__sched *s) {
    for (int k = 1; k < tr__rt.nsched; k++) {
        tr__sched *v = &tr__rt.scheds[(s->id + k) % tr__rt.nsched];
        int n = atomic_load_explicit(&v->fresh_n, memory_order_relaxed);
        if (n <= 0) continue;
        if (tr__now_ns() - atomic_load_explicit(&v->fresh_since, memory_order_relaxed) < STEAL_DELAY_NS) continue;
        tr__proc *got = NULL, *h = NULL, *t = NULL;
        int moved = 0;
        pthread_mutex_lock(&v->lock);
        int want = (atomic_load(&v->fresh_n) + 1) / 2;
        for (int i = 0; i < want; i++) {
            tr__proc *p = list_pop(&v->fresh_head, &v->fresh_tail);
            if (!p) break;
            if (!got) got = p;
            else {
                list_push(&h, &t, p);
                moved++;
            }
        }
        atomic_fetch_sub(&v->fresh_n, moved + (got ? 1 : 0));
        atomic_store(&v->fresh_since, tr__now_ns()); /* what is left waits its turn again */
        pthread_mutex_unlock(&v->lock);
        if (h) {
            pthread_mutex_lock(&s->lock);
            if (s->fresh_tail) s->fresh_tail->run_next = h;
            else s->fresh_head = h;
            s->fresh_tail = t;
            atomic_fetch_add(&s->fresh_n, moved);
            pthread_mutex_unlock(&s->lock);
        }
        if (got) return got;
    }
    return NULL;
}

static tr__proc *next_runnable(tr__sched *s) {
    s->ticks++;
    /* High ones first, taking turns: those woken by other threads join the queue even
     * while a local high one keeps yielding (else that one would starve them). */
    if (atomic_load_explicit(&s->remote_high_n, memory_order_relaxed)) drain_remote(s);
    if (s->high_head) return list_pop(&s->high_head, &s->high_tail);
    if (s->runnext) {
        tr__proc *p = s->runnext;
        s->runnext = NULL;
        return p;
    }
    if (!s->local_head || (s->ticks & 63) == 0) drain_remote(s);
    tr__proc *p;
    /* New processes get a turn now and then even on a busy scheduler. */
    if ((!s->local_head || (s->ticks & 15) == 0) && (p = take_fresh(s))) return p;
    if ((p = list_pop(&s->local_head, &s->local_tail))) return p;
    return steal(s);
}

static bool has_work(tr__sched *s) {
    if (s->runnext || s->local_head || s->high_head || atomic_load(&s->remote_n) || atomic_load(&s->fresh_n))
        return true;
    for (int i = 0; i < tr__rt.nsched; i++)
        if (atomic_load_explicit(&tr__rt.scheds[i].fresh_n, memory_order_relaxed) > 0) return true;
    return false;
}

static void poll_io(tr__sched *s, int64_t timeout) {
    tr__poller_wait(s->poller, timeout, tr__fd_ready, s);
}

/* Whether another scheduler may hand this one work soon: one is running processes, or
 * work is queued where a scheduler will take it. Queues are read before the count of
 * active schedulers: one that takes queued work counts itself active first, so a check
 * that misses the queued work sees it active. */
static bool peer_busy(tr__sched *s) {
    for (int i = 0; i < tr__rt.nsched; i++) {
        tr__sched *o = &tr__rt.scheds[i];
        if (o != s && (atomic_load(&o->remote_n) || atomic_load(&o->fresh_n))) return true;
    }
    return atomic_load(&tr__rt.active) > 0;
}

/* How often a spinning scheduler that waits on fds looks at them. */
#define SPIN_IO_NS 20000

/* A scheduler out of work. Its own fds first (without blocking: work may be there
 * already). Then it spins, for at most spin_us, but only while another scheduler runs
 * processes or has work queued: only such a scheduler can hand it work without a
 * wakeup, and a request/reply between two schedulers then costs no syscall. When every
 * scheduler is idle, the work can only come from the kernel (fds, timers) or a thread
 * outside the runtime, so it sleeps in the poller at once instead of burning a core
 * that others (the server at the other end of the sockets) could use. While spinning
 * it keeps looking at its fds, and yields the core now and then to any thread that
 * wants it (as BEAM's schedulers do in their busy wait). */
static void idle(tr__sched *s) {
    int64_t t = tr__now_ns();
    int64_t spin_until = t + (int64_t)tr__rt.cfg.spin_us * 1000;
    int64_t next_io = t + SPIN_IO_NS;
    if (s->nregs) {
        poll_io(s, 0);
        if (s->local_head || s->high_head) return;
    }
    bool spin = spin_until > t && peer_busy(s);
    for (int i = 0; spin; i++) {
        if (has_work(s) || atomic_load_explicit(&tr__rt.stopping, memory_order_relaxed)) return;
#if defined(__x86_64__)
        __builtin_ia32_pause();
#elif defined(__aarch64__)
        __asm__ __volatile__("yield");
#endif
        if ((i & 63) == 63) {
            t = tr__now_ns();
            if (t > spin_until || !peer_busy(s)) break;
            sched_yield();
            if (s->nregs && t >= next_io) {
                poll_io(s, 0);
                if (s->local_head || s->high_head) return;
                next_io = t + SPIN_IO_NS;
            }
        }
    }
    int64_t now = tr__now();
    int64_t next = tr__timers_run(s, now);
    if (s->local_head || s->high_head || s->runnext) return;
    atomic_store(&s->sleeping, 1);
    atomic_fetch_add(&tr__rt.sleepers, 1);
    if (!has_work(s) && !atomic_load(&tr__rt.stopping)) {
        int64_t timeout = next < 0 ? -1 : (next > now ? next - now : 0);
        poll_io(s, timeout);
    }
    atomic_fetch_sub(&tr__rt.sleepers, 1);
    atomic_store(&s->sleeping, 0);
    tr__timers_run(s, tr__now());
}

static void *sched_main(void *arg) {
    tr__sched *s = arg;
    tr__tls_sched = s;
#ifdef TR__TSAN
    s->tsan_fiber = __tsan_get_current_fiber();
#endif
    tr__crash_thread_init(s);
    atomic_fetch_add(&tr__rt.active, 1);
    for (;;) {
        tr__proc *p = next_runnable(s);
        if (p) {
            run(s, p);
            /* A busy scheduler still fires timers and looks at its fds now and then;
             * the clock is read only if a timer exists, epoll only if an fd waits. */
            if ((s->ticks & 63) == 0) {
                if (s->heap_n) tr__timers_run(s, tr__now());
                if (s->nregs && (s->ticks & 255) == 0) poll_io(s, 0);
            }
            continue;
        }
        if (atomic_load(&tr__rt.stopping)) break;
        atomic_fetch_sub(&tr__rt.active, 1);
        idle(s);
        atomic_fetch_add(&tr__rt.active, 1);
    }
    atomic_fetch_sub(&tr__rt.active, 1);
    tr__crash_thread_fini(s);
    tr__tls_sched = NULL;
    return NULL;
}

/* ---------------------------------------------------------------- boot and shutdown */

static int online_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void destroy_scheds(int n) {
    for (int i = 0; i < n; i++) {
        tr__sched *s = &tr__rt.scheds[i];
        tr__timers_destroy(s);
        free(s->fds);
        if (s->poller) tr__poller_free(s->poller);
        tr__stack_destroy(s);
        pthread_mutex_destroy(&s->lock);
    }
    free(tr__rt.scheds);
    tr__rt.scheds = NULL;
}

static int init_scheds(void) {
    /* Aligned: tr__sched keeps groups of fields on cache lines of their own. */
    tr__rt.scheds = aligned_alloc(_Alignof(tr__sched), (size_t)tr__rt.nsched * sizeof(tr__sched));
    if (tr__rt.scheds) memset(tr__rt.scheds, 0, (size_t)tr__rt.nsched * sizeof(tr__sched));
    if (!tr__rt.scheds) return TR_ENOMEM;
    for (int i = 0; i < tr__rt.nsched; i++) {
        tr__sched *s = &tr__rt.scheds[i];
        s->id = i;
        pthread_mutex_init(&s->lock, NULL);
        s->poller = tr__poller_new();
        int rc = s->poller ? tr__stack_init(s, tr__rt.cfg.stack_size) : TR_ESYS;
        if (rc != 0) {
            destroy_scheds(i + 1);
            return rc;
        }
    }
    return 0;
}

static void free_table(void) {
    uint32_t nchunks = tr__rt.max_procs / TR__CHUNK;
    for (uint32_t c = 0; c < nchunks; c++) free(atomic_load(&tr__rt.chunks[c]));
    free((void *)tr__rt.chunks);
    tr__rt.chunks = NULL;
}

/* Kills every live process from outside, then waits until none is left. */
static void kill_all_and_wait(void) {
    pthread_mutex_lock(&tr__rt.done_lock);
    while (atomic_load(&tr__rt.live) > 0) {
        pthread_mutex_unlock(&tr__rt.done_lock);
        for (uint32_t i = 0; i < tr__rt.high_water; i++) {
            tr__proc *p = &atomic_load(&tr__rt.chunks[i >> TR__CHUNK_SHIFT])[i & (TR__CHUNK - 1)];
            int st = atomic_load(&p->state);
            if (st != TR__FREE && st != TR__EXITING) tr__signal(tr__pid_of(p), TR__SIG_EXIT, 0, 0, TR_KILL);
        }
        pthread_mutex_lock(&tr__rt.done_lock);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        if (atomic_load(&tr__rt.live) > 0) pthread_cond_timedwait(&tr__rt.done_cond, &tr__rt.done_lock, &ts);
    }
    pthread_mutex_unlock(&tr__rt.done_lock);
}

static _Atomic int running;

/* glibc returns the top of a heap to the OS as soon as more than 128 KiB of it is free,
 * and every page of it costs a fault when it is used again. Processes hand memory from
 * one scheduler thread to another (a binary made on one is freed on the other), so the
 * free space at the top of each thread's heap comes and goes by hundreds of KiB all the
 * time: a fetched page cost about one page fault. Keep up to 32 MiB free per heap
 * instead (memory that was in use anyway; RSS does not grow), and take blocks up to
 * 4 MiB from the heaps rather than from mmap (which setting the first turns off).
 * The environment's own malloc settings win. */
static void tune_malloc(void) {
#if defined(__GLIBC__) && defined(M_TRIM_THRESHOLD) && defined(M_MMAP_THRESHOLD)
    if (getenv("GLIBC_TUNABLES") || getenv("MALLOC_TRIM_THRESHOLD_") || getenv("MALLOC_MMAP_THRESHOLD_") ||
        getenv("MALLOC_TOP_PAD_"))
        return;
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
#endif
}

int tr_run(const tr_config *cfg, tr_fn root, void *arg, const tr_reason **exit_reason) {
    int expect = 0;
    if (!atomic_compare_exchange_strong(&running, &expect, 1)) return TR_EBUSY;
    memset(&tr__rt, 0, sizeof tr__rt);
    if (cfg) tr__rt.cfg = *cfg;
    tr_config *c = &tr__rt.cfg;
    if (c->schedulers <= 0 && getenv("TR_SCHEDULERS")) c->schedulers = atoi(getenv("TR_SCHEDULERS"));
    if (c->schedulers <= 0) c->schedulers = online_cores();
    if (c->schedulers > 254) c->schedulers = 254;
    if (c->blocking_threads <= 0) c->blocking_threads = 4;
    if (c->spin_us == 0 && getenv("TR_SPIN_US")) c->spin_us = atoi(getenv("TR_SPIN_US"));
    if (c->spin_us == 0) c->spin_us = SPIN_US_DEFAULT;
    if (c->spin_us < 0) c->spin_us = 0;
    if (c->stack_size == 0) c->stack_size = 1u << 20;
    if (c->stack_size < 64 * 1024) c->stack_size = 64 * 1024;
    if (c->max_processes <= 0) c->max_processes = TR__DEFAULT_MAX_PROCS;
    if (c->seed == 0) c->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    tune_malloc();
    tr__rt.nsched = c->schedulers;
    tr__rt.page = (size_t)sysconf(_SC_PAGESIZE);
    tr__rt.max_procs = ((uint32_t)c->max_processes + TR__CHUNK - 1) & ~(TR__CHUNK - 1);
    tr__rt.chunks = calloc(tr__rt.max_procs / TR__CHUNK, sizeof *tr__rt.chunks);
    pthread_mutex_init(&tr__rt.table_lock, NULL);
    pthread_mutex_init(&tr__rt.done_lock, NULL);
    pthread_cond_init(&tr__rt.done_cond, NULL);
    int rc = tr__rt.chunks ? 0 : TR_ENOMEM;
    if (rc == 0) rc = init_scheds();
    if (rc != 0) {
        free((void *)tr__rt.chunks);
        atomic_store(&running, 0);
        return rc;
    }
    tr__registry_init();
    tr__timers_global_init();
    tr__crash_install();
    tr__blocking_start(c->blocking_threads);

    tr__proc *p = tr__proc_alloc();
    p->fn = root;
    p->arg = arg;
    p->entry = "root";
    tr__rt.root = tr__pid_of(p);
    tr__enqueue_fresh(p);

    for (int i = 0; i < tr__rt.nsched; i++)
        pthread_create(&tr__rt.scheds[i].thread, NULL, sched_main, &tr__rt.scheds[i]);

    pthread_mutex_lock(&tr__rt.done_lock);
    while (!tr__rt.root_done) pthread_cond_wait(&tr__rt.done_cond, &tr__rt.done_lock);
    pthread_mutex_unlock(&tr__rt.done_lock);
    kill_all_and_wait();

    atomic_store(&tr__rt.stopping, 1);
    for (int i = 0; i < tr__rt.nsched; i++) tr__poller_wakeup(tr__rt.scheds[i].poller);
    for (int i = 0; i < tr__rt.nsched; i++) pthread_join(tr__rt.scheds[i].thread, NULL);

    tr__blocking_stop();
    tr__crash_uninstall();
    /* Heaps first: timers still pending at the end live in the global table. */
    for (int i = 0; i < tr__rt.nsched; i++) tr__timers_destroy(&tr__rt.scheds[i]);
    tr__timers_global_destroy();
    tr__registry_destroy();
    destroy_scheds(tr__rt.nsched);
    free_table();
    pthread_mutex_destroy(&tr__rt.table_lock);
    pthread_mutex_destroy(&tr__rt.done_lock);
    pthread_cond_destroy(&tr__rt.done_cond);

    const tr_reason *r = tr__rt.root_reason;
    int result = tr_reason_eq(r, TR_NORMAL) ? 0 : 1;
    if (exit_reason) *exit_reason = r;
    else tr_reason_unref(r);
    atomic_store(&running, 0);
    return result;
}
