/* test_backoff.c - tests of the retry policy: what is transient, backoff delays, Retry-After, giving up. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "backoff.h"
#include "fetch.h"

/* A random source that returns a fixed value and counts its calls. */
typedef struct fixed {
    double value;
    int calls;
} fixed;

static double fixed_random(void *ctx)
{
    fixed *f = ctx;
    f->calls++;
    return f->value;
}

static void test_network_failures_are_transient(void **state)
{
    (void)state;
    assert_true(tw_backoff_transient(TW_FETCH_DNS, 0));
    assert_true(tw_backoff_transient(TW_FETCH_REFUSED, 0));
    assert_true(tw_backoff_transient(TW_FETCH_RESET, 0));
    assert_true(tw_backoff_transient(TW_FETCH_TIMEOUT, 0));
    assert_true(tw_backoff_transient(TW_FETCH_CLOSED, 0));
    assert_true(tw_backoff_transient(TW_FETCH_CLOSED, 200)); /* closed mid-body keeps its status */
    assert_true(tw_backoff_transient(TW_FETCH_RESET, 200));
}

static void test_429_and_5xx_are_transient(void **state)
{
    (void)state;
    assert_true(tw_backoff_transient(TW_FETCH_OK, 429));
    assert_true(tw_backoff_transient(TW_FETCH_OK, 500));
    assert_true(tw_backoff_transient(TW_FETCH_OK, 503));
    assert_true(tw_backoff_transient(TW_FETCH_OK, 599));
}

static void test_other_outcomes_are_final(void **state)
{
    (void)state;
    int final[] = {200, 204, 301, 304, 400, 403, 404, 408, 410, 451, 600};
    for (size_t i = 0; i < sizeof final / sizeof final[0]; i++)
        if (tw_backoff_transient(TW_FETCH_OK, final[i]))
            fail_msg("status %d counted as transient", final[i]);
    assert_false(tw_backoff_transient(TW_FETCH_TLS, 0));
    assert_false(tw_backoff_transient(TW_FETCH_OTHER, 0));
}

static void test_delay_doubles_from_one_second(void **state)
{
    (void)state;
    fixed mid = {.value = 0.5}; /* factor 1.0 */
    assert_int_equal(tw_backoff_delay_ms(1, fixed_random, &mid), 1000);
    assert_int_equal(tw_backoff_delay_ms(2, fixed_random, &mid), 2000);
    assert_int_equal(tw_backoff_delay_ms(3, fixed_random, &mid), 4000);
    assert_int_equal(tw_backoff_delay_ms(4, fixed_random, &mid), 8000);
    assert_int_equal(mid.calls, 4);
}

static void test_delay_is_randomized_by_half_either_way(void **state)
{
    (void)state;
    fixed lo = {.value = 0.0}, hi = {.value = 0.999999}, q = {.value = 0.25};
    assert_int_equal(tw_backoff_delay_ms(1, fixed_random, &lo), 500);
    assert_int_equal(tw_backoff_delay_ms(3, fixed_random, &lo), 2000);
    assert_in_range(tw_backoff_delay_ms(1, fixed_random, &hi), 1499, 1500);
    assert_in_range(tw_backoff_delay_ms(3, fixed_random, &hi), 5999, 6000);
    assert_int_equal(tw_backoff_delay_ms(2, fixed_random, &q), 1500);
}

static void test_delay_is_capped_and_never_overflows(void **state)
{
    (void)state;
    fixed hi = {.value = 0.999};
    assert_int_equal(tw_backoff_delay_ms(40, fixed_random, &hi), TW_BACKOFF_MAX_MS);
    assert_int_equal(tw_backoff_delay_ms(1 << 30, fixed_random, &hi), TW_BACKOFF_MAX_MS);
    fixed bad = {.value = 7.0}; /* a broken source gets the plain delay */
    assert_int_equal(tw_backoff_delay_ms(2, fixed_random, &bad), 2000);
}

static void test_transient_failure_is_retried_until_retries_run_out(void **state)
{
    (void)state;
    fixed mid = {.value = 0.5};
    int64_t d;
    /* --retries 3: attempts 1, 2 and 3 are followed by a retry, the 4th is the last. */
    for (int attempts = 1; attempts <= 3; attempts++) {
        assert_int_equal(tw_backoff_decide(TW_FETCH_TIMEOUT, 0, attempts, 3, -1, fixed_random, &mid, &d),
                         TW_BACKOFF_RETRY);
        assert_int_equal(d, 1000LL << (attempts - 1));
    }
    assert_int_equal(tw_backoff_decide(TW_FETCH_TIMEOUT, 0, 4, 3, -1, fixed_random, &mid, &d), TW_BACKOFF_RECORD);
    assert_int_equal(d, 0);
}

static void test_retries_zero_never_retries(void **state)
{
    (void)state;
    fixed mid = {.value = 0.5};
    int64_t d;
    assert_int_equal(tw_backoff_decide(TW_FETCH_OK, 503, 1, 0, -1, fixed_random, &mid, &d), TW_BACKOFF_RECORD);
    assert_int_equal(mid.calls, 0);
}

static void test_final_outcomes_are_recorded_at_once(void **state)
{
    (void)state;
    fixed mid = {.value = 0.5};
    int64_t d = 99;
    assert_int_equal(tw_backoff_decide(TW_FETCH_OK, 404, 1, 3, -1, fixed_random, &mid, &d), TW_BACKOFF_RECORD);
    assert_int_equal(d, 0);
    assert_int_equal(tw_backoff_decide(TW_FETCH_OK, 200, 1, 3, -1, fixed_random, &mid, &d), TW_BACKOFF_RECORD);
    assert_int_equal(tw_backoff_decide(TW_FETCH_TLS, 0, 1, 3, -1, fixed_random, &mid, &d), TW_BACKOFF_RECORD);
    assert_int_equal(mid.calls, 0);
}

static void test_retry_after_replaces_the_backoff(void **state)
{
    (void)state;
    fixed mid = {.value = 0.5};
    int64_t d;
    assert_int_equal(tw_backoff_decide(TW_FETCH_OK, 429, 1, 3, 7, fixed_random, &mid, &d), TW_BACKOFF_RETRY);
    assert_int_equal(d, 7000);
    assert_int_equal(tw_backoff_decide(TW_FETCH_OK, 503, 3, 3, 0, fixed_random, &mid, &d), TW_BACKOFF_RETRY);
    assert_int_equal(d, 0); /* "now" (a date in the past) is honoured too */
    assert_int_equal(mid.calls, 0);
    assert_int_equal(tw_backoff_decide(TW_FETCH_OK, 503, 1, 3, 2147483647L, fixed_random, &mid, &d),
                     TW_BACKOFF_RETRY);
    assert_int_equal(d, TW_BACKOFF_MAX_MS);
}

static void test_retry_after_does_not_extend_the_retries(void **state)
{
    (void)state;
    fixed mid = {.value = 0.5};
    int64_t d;
    assert_int_equal(tw_backoff_decide(TW_FETCH_OK, 429, 2, 1, 5, fixed_random, &mid, &d), TW_BACKOFF_RECORD);
}

static void test_error_texts_follow_the_contract(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(tw_backoff_error(TW_FETCH_OK, 500, NULL, buf, sizeof buf), "http 500");
    assert_string_equal(tw_backoff_error(TW_FETCH_OK, 429, NULL, buf, sizeof buf), "http 429");
    assert_null(tw_backoff_error(TW_FETCH_OK, 404, NULL, buf, sizeof buf));
    assert_string_equal(tw_backoff_error(TW_FETCH_TIMEOUT, 0, NULL, buf, sizeof buf), "timeout");
    assert_string_equal(tw_backoff_error(TW_FETCH_REFUSED, 0, NULL, buf, sizeof buf), "connection refused");
    assert_string_equal(tw_backoff_error(TW_FETCH_OTHER, 0, "bad gzip", buf, sizeof buf), "bad gzip");
    assert_string_equal(tw_backoff_error(TW_FETCH_OTHER, 0, "", buf, sizeof buf), "error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_network_failures_are_transient),
        cmocka_unit_test(test_429_and_5xx_are_transient),
        cmocka_unit_test(test_other_outcomes_are_final),
        cmocka_unit_test(test_delay_doubles_from_one_second),
        cmocka_unit_test(test_delay_is_randomized_by_half_either_way),
        cmocka_unit_test(test_delay_is_capped_and_never_overflows),
        cmocka_unit_test(test_transient_failure_is_retried_until_retries_run_out),
        cmocka_unit_test(test_retries_zero_never_retries),
        cmocka_unit_test(test_final_outcomes_are_recorded_at_once),
        cmocka_unit_test(test_retry_after_replaces_the_backoff),
        cmocka_unit_test(test_retry_after_does_not_extend_the_retries),
        cmocka_unit_test(test_error_texts_follow_the_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
