/* rt_test.h -- helpers for tests that run inside the process runtime.
 *
 * cmocka's assertions jump out of the function that fails, which must never happen
 * inside a process (it would unwind across a context switch). Tests therefore check
 * with CHECK(), which records the first failure, and rt_run() asserts after tr_run()
 * has returned, on the main thread. */
#ifndef RT_TEST_H
#define RT_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tr.h>

static _Atomic int rt_failures;
static char rt_first_failure[512];
static pthread_mutex_t rt_fail_lock = PTHREAD_MUTEX_INITIALIZER;

static inline void rt_fail(const char *file, int line, const char *what) {
    pthread_mutex_lock(&rt_fail_lock);
    if (atomic_fetch_add(&rt_failures, 1) == 0)
        snprintf(rt_first_failure, sizeof rt_first_failure, "%s:%d: CHECK(%s) failed", file, line, what);
    pthread_mutex_unlock(&rt_fail_lock);
}

#define CHECK(c) ((c) ? (void)0 : rt_fail(__FILE__, __LINE__, #c))

/* Runs fn(arg) as the root process on `schedulers` threads; fails the test if any
 * CHECK failed or if the root did not end with `expect` ("normal" when NULL). */
static inline void rt_run_expect(int schedulers, tr_fn fn, void *arg, const char *expect) {
    atomic_store(&rt_failures, 0);
    rt_first_failure[0] = 0;
    const tr_reason *why = NULL;
    tr_config cfg = {.schedulers = schedulers};
    int rc = tr_run(&cfg, fn, arg, &why);
    if (atomic_load(&rt_failures)) fail_msg("%s (and %d more)", rt_first_failure, atomic_load(&rt_failures) - 1);
    const char *want = expect ? expect : "normal";
    if (strcmp(tr_reason_text(why), want) != 0)
        fail_msg("root ended with \"%s\", expected \"%s\"", tr_reason_text(why), want);
    assert_int_equal(rc, strcmp(want, "normal") == 0 ? 0 : 1);
    tr_reason_unref(why);
}

static inline void rt_run(int schedulers, tr_fn fn, void *arg) { rt_run_expect(schedulers, fn, arg, NULL); }

/* Waits for the DOWN of monitor ref and returns a copy of its reason text. */
static inline const char *rt_await_down(tr_ref ref, char *buf, size_t n, int64_t timeout) {
    tr_msg *m = tr_receive_ref(ref, timeout);
    if (!m) return snprintf(buf, n, "(no DOWN)"), buf;
    snprintf(buf, n, "%s", m->kind == TR_MSG_DOWN ? tr_reason_text(m->reason) : "(not a DOWN)");
    tr_msg_free(m);
    return buf;
}

/* A process body that waits for any message, then returns normally. */
static inline void rt_wait_any(void *arg) {
    (void)arg;
    tr_msg_free(tr_receive(TR_INFINITY));
}

/* A scale factor: sanitizer builds run big tests smaller (TR_TEST_SCALE divides). */
static inline long rt_scaled(long n) {
    const char *s = getenv("TR_TEST_SCALE");
    long d = s ? atol(s) : 1;
#ifdef TR_SANITIZER
    if (!s) d = 10;
#endif
#if defined(__SANITIZE_THREAD__)
    if (!s) d = 500; /* TSan counts each process (fiber) against its 8128-thread limit */
#endif
    return d > 1 ? n / d : n;
}

#endif
