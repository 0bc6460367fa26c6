/* bench_rt.c - the process runtime's micro-benchmarks, shaped like the BEAM/Go anchors.
 *
 *   build/bench/bench_rt spawn N        processes blocked in receive: spawn, memory, teardown
 *   build/bench/bench_rt ring N M       one token around a ring of N processes, M laps
 *   build/bench/bench_rt ringpar N M    N tokens at once, M hops each (every core busy)
 *   build/bench/bench_rt link N         chain of N linked processes; kill the head
 *   build/bench/bench_rt selrecv J N    selective receive with J junk messages queued
 *
 * Each bench prints "RESULT <key> <value>" lines whose keys are exactly those of
 * /work/shared/anchors (erl/anchors.erl, go/anchors.go), so bench/runtime.sh can print
 * every figure beside its anchor. The process bodies are the anchors' ones: processes
 * blocked in receive, tokens as small messages. Where the anchors poll for "all gone"
 * (BEAM process_count) or use a WaitGroup (Go), this file uses Go's way: a shared
 * atomic countdown that the last process turns into one message to the driver, so
 * the driver does not scan a million-slot process table while it waits.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tr.h>

/* Message tags; small integers, far below TR_TAG_RESERVED. */
enum { T_STOP = 1, T_DONE, T_NEXT, T_TOK, T_PTOK, T_LINKED, T_JUNK, T_PING };

/* What the driver and the benchmarked processes share: the driver's pid and a
 * countdown (the anchors' WaitGroup / atomics counter). Read-only but for `left`. */
typedef struct shared {
    tr_pid driver;
    _Atomic long left;
} shared;

/* A token: hops still to go, and whom to tell when it reaches 0 (the BEAM message
 * {tok, K, Parent} as a 16-byte payload). */
typedef struct token {
    long k;
    tr_pid parent;
} token;

typedef struct args {
    const char *bench;
    long a, b;
} args;

static void result(const char *key, double v) { printf("RESULT %s %.4f\n", key, v); }

/* Prints the result whose key is prefix followed by suffix. */
static void result2(const char *prefix, const char *suffix, double v) {
    char key[160];
    snprintf(key, sizeof key, "%s%s", prefix, suffix);
    result(key, v);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, rss = 0;
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &size, &rss) != 2) rss = 0;
    fclose(f);
    return (double)rss * (double)sysconf(_SC_PAGESIZE);
}

static size_t proc_memory(void) {
    tr_stats st;
    tr_get_stats(&st);
    return st.process_memory;
}

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "bench_rt: out of memory\n");
        exit(1);
    }
    return p;
}

/* The shared block lives on the heap: a process's stack is not addressable by other
 * processes (they all run on the same per-scheduler stack, see runtime/stack.c). */
static shared *new_shared(void) {
    shared *sh = xcalloc(1, sizeof *sh);
    sh->driver = tr_self();
    return sh;
}

/* Tells the driver when the last of the shared countdown is done. */
static void count_down(shared *sh) {
    if (atomic_fetch_sub(&sh->left, 1) == 1) tr_send(sh->driver, T_DONE, NULL, 0);
}

/* Waits for the countdown's T_DONE. A runtime that loses a message or a wakeup would
 * hang here, so after five minutes it says what the processes are doing and exits 3. */
static void wait_done(void) {
    tr_msg *m = tr_receive_tag(T_DONE, 300000);
    if (m) {
        tr_msg_free(m);
        return;
    }
    tr_stats st;
    tr_get_stats(&st);
    tr_proc_info *in = xcalloc(st.processes + 16, sizeof *in);
    size_t n = tr_processes(in, st.processes + 16), by_state[4] = {0}, queued = 0;
    for (size_t i = 0; i < n && i < st.processes + 16; i++) {
        by_state[in[i].state]++;
        queued += in[i].mailbox_len;
    }
    fprintf(stderr,
            "bench_rt: no T_DONE after 300 s: %zu alive (runnable %zu, running %zu, waiting %zu, "
            "exiting %zu), %zu messages queued\n",
            n, by_state[0], by_state[1], by_state[2], by_state[3], queued);
    exit(3);
}

/* BEAM's wait_quiet: returns once every process spawned so far has run and parked.
 * The last spawned process must be waiting, then the runtime's process memory (which
 * grows as each started process gets its frames saved) must hold still for 2 ms. */
static void wait_quiet(tr_pid last) {
    tr_proc_info in;
    while (last && tr_process_info(last, &in) == 0 && in.state != TR_PROC_WAITING) tr_sleep(1);
    size_t prev = (size_t)-1, cur;
    while ((cur = proc_memory()) != prev) {
        prev = cur;
        tr_sleep(2);
    }
}

/* ---------------------------------------------------------------- 1. spawn */

/* The anchors' hang(): receive stop, then end. */
static void hang(void *arg) {
    tr_msg_free(tr_receive(TR_INFINITY));
    count_down(arg);
}

static void exit_at_once(void *arg) { count_down(arg); }

static int64_t spawn_round(long n, tr_pid *pids, shared *sh) {
    atomic_store(&sh->left, n);
    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pids[i] = tr_spawn(hang, sh);
        if (!pids[i]) {
            fprintf(stderr, "bench_rt: spawn %ld failed\n", i);
            exit(1);
        }
    }
    return now_ns() - t0;
}

static int64_t stop_all(long n, const tr_pid *pids) {
    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++) tr_send(pids[i], T_STOP, NULL, 0);
    wait_done();
    return now_ns() - t0;
}

static void bench_spawn(long n) {
    char k[64];
    snprintf(k, sizeof k, "spawn_n%ld", n);
    shared *sh = new_shared();
    tr_pid *pids = xcalloc((size_t)n, sizeof *pids);
    memset(pids, 0xff, (size_t)n * sizeof *pids); /* touched before the baseline */
    wait_quiet(0);
    double r0 = rss_bytes();
    size_t m0 = proc_memory();
    int64_t d = spawn_round(n, pids, sh);
    wait_quiet(pids[n - 1]);
    size_t m1 = proc_memory();
    double r1 = rss_bytes();
    result2(k, "_us_per_spawn", (double)d / 1e3 / (double)n);
    result2(k, "_bytes_per_proc_mem_processes", ((double)m1 - (double)m0) / (double)n);
    result2(k, "_bytes_per_proc_rss", (r1 - r0) / (double)n);

    int64_t td = stop_all(n, pids);
    result2(k, "_teardown_ms", (double)td / 1e6);
    result2(k, "_teardown_us_per_proc", (double)td / 1e3 / (double)n);

    /* warm round: the process table's slots and freed memory can be reused */
    wait_quiet(0);
    d = spawn_round(n, pids, sh);
    result2(k, "_warm_us_per_spawn", (double)d / 1e3 / (double)n);
    wait_quiet(pids[n - 1]);
    stop_all(n, pids);

    /* processes that end at once: timed until the last one has run */
    wait_quiet(0);
    atomic_store(&sh->left, n);
    int64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        if (!tr_spawn(exit_at_once, sh)) {
            fprintf(stderr, "bench_rt: spawn %ld failed\n", i);
            exit(1);
        }
    wait_done();
    result2(k, "_spawn_exit_us_per_proc", (double)(now_ns() - t0) / 1e3 / (double)n);
    free(pids);
    free(sh);
}

/* ---------------------------------------------------------------- 2. ring */

/* The anchors' ring_loop: forward single tokens; count down parallel ones at 0. */
static void ring_member(void *arg) {
    shared *sh = arg;
    tr_msg *m = tr_receive_tag(T_NEXT, TR_INFINITY);
    tr_pid next = *(const tr_pid *)m->data;
    tr_msg_free(m);
    for (;;) {
        m = tr_receive(TR_INFINITY);
        if (m->tag == T_STOP) {
            tr_msg_free(m);
            return;
        }
        token t = *(const token *)m->data;
        uint64_t tag = m->tag;
        tr_msg_free(m);
        if (t.k == 0) {
            if (tag == T_TOK) tr_send(t.parent, T_DONE, NULL, 0);
            else count_down(sh);
            continue;
        }
        t.k--;
        tr_send(next, tag, &t, sizeof t);
    }
}

static tr_pid *make_ring(long n, shared *sh) {
    tr_pid *pids = xcalloc((size_t)n, sizeof *pids);
    for (long i = 0; i < n; i++)
        if (!(pids[i] = tr_spawn(ring_member, sh))) {
            fprintf(stderr, "bench_rt: spawn %ld failed\n", i);
            exit(1);
        }
    for (long i = 0; i < n; i++) tr_send(pids[i], T_NEXT, &pids[(i + 1) % n], sizeof(tr_pid));
    wait_quiet(pids[n - 1]);
    return pids;
}

static void bench_ring(long n, long m, bool par) {
    shared *sh = new_shared();
    tr_pid *ring = make_ring(n, sh);
    long hops = n * m;
    int64_t t0 = now_ns();
    if (par) {
        atomic_store(&sh->left, n);
        token t = {.k = m, .parent = tr_self()};
        for (long i = 0; i < n; i++) tr_send(ring[i], T_PTOK, &t, sizeof t);
    } else {
        token t = {.k = hops, .parent = tr_self()};
        tr_send(ring[0], T_TOK, &t, sizeof t);
    }
    wait_done();
    double ns = (double)(now_ns() - t0);
    char k[64];
    snprintf(k, sizeof k, "%s_n%ld_m%ld", par ? "ringpar" : "ring", n, m);
    result2(k, "_msgs_per_s", (double)hops / (ns / 1e9));
    result2(k, "_ns_per_hop", ns / (double)hops);
    for (long i = 0; i < n; i++) tr_send(ring[i], T_STOP, NULL, 0);
    free(ring);
    /* sh stays allocated: the members may still be reading it as they stop */
}

/* ---------------------------------------------------------------- 5. link cascade */

/* The anchors' chain member: link to the previous process, ack, then hang. */
static void chain_member(void *arg) {
    tr_pid prev = (tr_pid)(uintptr_t)arg;
    if (prev) tr_link(prev);
    tr_send(tr_parent(), T_LINKED, NULL, 0);
    tr_msg_free(tr_receive(TR_INFINITY));
}

static void bench_link(long n) {
    tr_pid head = 0, prev = 0;
    for (long i = 0; i < n; i++) {
        tr_pid p = tr_spawn(chain_member, (void *)(uintptr_t)prev);
        if (!p) {
            fprintf(stderr, "bench_rt: spawn %ld failed\n", i);
            exit(1);
        }
        tr_msg_free(tr_receive_tag(T_LINKED, TR_INFINITY)); /* linked before the next */
        if (!head) head = p;
        prev = p;
    }
    tr_ref mref = tr_monitor(prev);
    wait_quiet(prev);
    int64_t t0 = now_ns();
    tr_exit_pid(head, TR_KILL);
    tr_msg *down = tr_receive_ref(mref, TR_INFINITY);
    double ns = (double)(now_ns() - t0);
    if (down->kind != TR_MSG_DOWN || !tr_reason_eq(down->reason, TR_KILLED)) {
        fprintf(stderr, "bench_rt: tail ended with %s\n", tr_reason_text(down->reason));
        exit(1);
    }
    tr_msg_free(down);
    char k[64];
    snprintf(k, sizeof k, "link_n%ld", n);
    result2(k, "_cascade_ms", ns / 1e6);
    result2(k, "_ns_per_proc", ns / (double)n);
}

/* ---------------------------------------------------------------- 6. selective receive */

/* The anchors' echo(): answer {From, Tag} with {Tag, pong}; here the tag and the ref
 * travel back as they came. */
static void echo(void *arg) {
    (void)arg;
    for (;;) {
        tr_msg *m = tr_receive(TR_INFINITY);
        tr_send_ref(m->from, m->tag, m->ref, NULL, 0);
        tr_msg_free(m);
    }
}

static void ref_loop(tr_pid echo_pid, long n) {
    for (long i = 0; i < n; i++) {
        tr_ref ref = tr_make_ref();
        tr_send_ref(echo_pid, T_PING, ref, NULL, 0);
        tr_msg *m = tr_receive_ref(ref, TR_INFINITY);
        tr_msg_free(m);
    }
}

static void tag_loop(tr_pid echo_pid, uint64_t tag, long n) {
    for (long i = 0; i < n; i++) {
        tr_send(echo_pid, tag, NULL, 0);
        tr_msg_free(tr_receive_tag(tag, TR_INFINITY));
    }
}

static void bench_selrecv(long junk, long iters) {
    tr_pid e = tr_spawn_link(echo, NULL);
    tr_pid me = tr_self();
    for (long i = 0; i < junk; i++) tr_send(me, T_JUNK, &i, sizeof i);
    if ((long)tr_mailbox_len() != junk) {
        fprintf(stderr, "bench_rt: mailbox holds %zu, expected %ld\n", tr_mailbox_len(), junk);
        exit(1);
    }
    char k[64];
    snprintf(k, sizeof k, "selrecv_q%ld", junk);
    ref_loop(e, 1000); /* warm up */
    int64_t t0 = now_ns();
    ref_loop(e, iters);
    result2(k, "_fresh_ref_us_per_recv", (double)(now_ns() - t0) / 1e3 / (double)iters);

    /* A tag that is not a fresh reference: every receive scans all the junk. */
    uint64_t tag = 1000000 + (tr_random() & 0xffffff);
    long iters2 = iters / 100 > 1 ? iters / 100 : 1;
    t0 = now_ns();
    tag_loop(e, tag, iters2);
    result2(k, "_old_tag_scan_us_per_recv", (double)(now_ns() - t0) / 1e3 / (double)iters2);
    if ((long)tr_mailbox_len() != junk) {
        fprintf(stderr, "bench_rt: mailbox holds %zu after, expected %ld\n", tr_mailbox_len(), junk);
        exit(1);
    }
}

/* ---------------------------------------------------------------- main */

static void root(void *arg) {
    const args *a = arg;
    if (!strcmp(a->bench, "spawn")) bench_spawn(a->a);
    else if (!strcmp(a->bench, "ring")) bench_ring(a->a, a->b, false);
    else if (!strcmp(a->bench, "ringpar")) bench_ring(a->a, a->b, true);
    else if (!strcmp(a->bench, "link")) bench_link(a->a);
    else if (!strcmp(a->bench, "selrecv")) bench_selrecv(a->a, a->b);
    fflush(stdout);
}

static void usage(void) {
    fprintf(stderr, "usage: bench_rt spawn N | ring N M | ringpar N M | link N | selrecv J N\n");
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 3) usage();
    args a = {.bench = argv[1], .a = atol(argv[2]), .b = argc > 3 ? atol(argv[3]) : 0};
    bool two = !strcmp(a.bench, "ring") || !strcmp(a.bench, "ringpar") || !strcmp(a.bench, "selrecv");
    bool one = !strcmp(a.bench, "spawn") || !strcmp(a.bench, "link");
    bool sel = !strcmp(a.bench, "selrecv");
    if ((!one && !two) || (two && argc < 4) || a.a < (sel ? 0 : 1) || (two && a.b < 1)) usage();
    setvbuf(stdout, NULL, _IOLBF, 0); /* a hung run still shows what it measured */
    int rc = tr_run(&(tr_config){0}, root, &a, NULL);
    return rc == 0 ? 0 : 1;
}
