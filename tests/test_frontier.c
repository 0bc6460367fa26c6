/* test_frontier.c - tests of the frontier: seen set, per-host FIFO, slots, rate, retries, robots.txt. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontier.h"
#include "robots.h"

/* ---- helpers ---- */

static void add(tw_frontier *f, const char *url)
{
    int rc = tw_frontier_add(f, url, 0, NULL, url);
    if (rc != 1)
        fail_msg("add(%s) = %d", url, rc);
}

/* Takes the next item at `now`, asserting its kind and URL (want_url NULL: any). */
static tw_frontier_item next_is(tw_frontier *f, int64_t now, int kind, const char *want_url)
{
    tw_frontier_item it;
    char host[256];
    int64_t wake;
    int got = tw_frontier_next(f, now, &it, host, sizeof host, &wake);
    if (got != kind || (want_url && (!it.url || strcmp(it.url, want_url) != 0)))
        fail_msg("next(%lld): got kind %d url %s, want kind %d url %s", (long long)now, got,
                 it.url ? it.url : "-", kind, want_url ? want_url : "-");
    if (got != TW_FRONTIER_NONE)
        assert_string_equal(host, it.host);
    return it;
}

/* Asserts nothing is ready at now and returns the wake time. */
static int64_t none_until(tw_frontier *f, int64_t now)
{
    tw_frontier_item it;
    int64_t wake = -2;
    int got = tw_frontier_next(f, now, &it, NULL, 0, &wake);
    if (got != TW_FRONTIER_NONE)
        fail_msg("next(%lld): got %s, want nothing", (long long)now, it.url);
    return wake;
}

/* Fetches and ends a page item (frees it, gives the slot back). */
static void finish(tw_frontier *f, tw_frontier_item *it)
{
    char host[256];
    snprintf(host, sizeof host, "%s", it->host);
    tw_frontier_item_free(it);
    tw_frontier_done(f, host);
}

/* ---- hashing ---- */

static void test_siphash_matches_the_reference_vector(void **state)
{
    (void)state;
    unsigned char msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (unsigned char)i;
    /* SipHash paper, appendix A: key 00..0f, message 00..0e. */
    assert_true(tw_siphash24(msg, 15, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull) == 0xa129ca6149be45e5ull);
    assert_true(tw_siphash24("", 0, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull) == 0x726fdb47dd0e0e31ull);
}

static void test_fingerprints_are_stable_and_distinct(void **state)
{
    (void)state;
    const char *a = "http://example.com/a", *b = "http://example.com/b";
    assert_true(tw_frontier_fingerprint(a, strlen(a)) == tw_frontier_fingerprint(a, strlen(a)));
    assert_true(tw_frontier_fingerprint(a, strlen(a)) != tw_frontier_fingerprint(b, strlen(b)));
}

/* ---- the seen set ---- */

static void test_a_url_is_queued_once(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 0, false);
    assert_int_equal(tw_frontier_add(f, "http://a.example/x", 0, NULL, "http://a.example/x"), 1);
    assert_int_equal(tw_frontier_add(f, "http://a.example/x", 1, "http://a.example/", "http://a.example/x"), 0);
    assert_true(tw_frontier_seen(f, "http://a.example/x"));
    assert_false(tw_frontier_seen(f, "http://a.example/y"));
    assert_int_equal(tw_frontier_queued(f), 1);
    tw_frontier_free(f);
}

static void test_marked_urls_are_never_queued(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 0, false);
    assert_int_equal(tw_frontier_mark_seen(f, "http://a.example/done"), 1);
    assert_int_equal(tw_frontier_mark_seen(f, "http://a.example/done"), 0);
    assert_int_equal(tw_frontier_add(f, "http://a.example/done", 1, NULL, "http://a.example/"), 0);
    assert_int_equal(tw_frontier_queued(f), 0);
    tw_frontier_free(f);
}

static void test_urls_that_are_not_normalized_http_are_refused(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 0, false);
    assert_int_equal(tw_frontier_add(f, "ftp://a.example/", 0, NULL, NULL), TW_FRONTIER_EINVAL);
    assert_int_equal(tw_frontier_add(f, "not a url", 0, NULL, NULL), TW_FRONTIER_EINVAL);
    assert_false(tw_frontier_seen(f, "ftp://a.example/"));
    tw_frontier_free(f);
}

static void test_the_seen_set_survives_growth(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 0, false);
    char url[64];
    for (int i = 0; i < 50000; i++) {
        snprintf(url, sizeof url, "http://h%d.example/p/%d", i % 97, i);
        assert_int_equal(tw_frontier_add(f, url, 0, NULL, NULL), 1);
    }
    for (int i = 0; i < 50000; i++) {
        snprintf(url, sizeof url, "http://h%d.example/p/%d", i % 97, i);
        if (tw_frontier_add(f, url, 0, NULL, NULL) != 0)
            fail_msg("%s queued twice", url);
    }
    tw_frontier_stats st;
    tw_frontier_get_stats(f, 0, &st);
    assert_int_equal(st.seen, 50000);
    assert_int_equal(st.queued, 50000);
    assert_int_equal(st.hosts, 97);
    assert_true(st.seen_bytes <= 50000 * 8 * 8 / 3 + 1); /* load stays at least 3/8 */
    tw_frontier_free(f);
}

/* ---- items ---- */

static void test_items_carry_depth_parent_seed_and_host(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 0, false);
    const char *seed = "http://a.example:8080/";
    add(f, seed);
    tw_frontier_item it = next_is(f, 0, TW_FRONTIER_PAGE, seed);
    assert_null(it.parent);
    assert_string_equal(it.seed, seed);
    assert_string_equal(it.host, "a.example:8080");
    assert_int_equal(it.depth, 0);
    assert_int_equal(it.attempts, 0);
    /* The links found on it. */
    assert_int_equal(tw_frontier_add(f, "http://a.example:8080/1", 1, it.url, it.seed), 1);
    assert_int_equal(tw_frontier_add(f, "https://b.example/2", 1, it.url, it.seed), 1);
    finish(f, &it);
    tw_frontier_item one = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example:8080/1");
    tw_frontier_item two = next_is(f, 0, TW_FRONTIER_PAGE, "https://b.example/2");
    assert_string_equal(one.parent, seed);
    assert_string_equal(two.parent, seed);
    assert_string_equal(two.seed, seed);
    assert_string_equal(two.host, "b.example:443");
    assert_int_equal(two.depth, 1);
    finish(f, &one);
    finish(f, &two);
    tw_frontier_free(f);
}

/* ---- per-host order, slots and rate ---- */

static void test_each_host_is_first_in_first_out(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 0, false);
    add(f, "http://a.example/1");
    add(f, "http://a.example/2");
    add(f, "http://a.example/3");
    for (int i = 1; i <= 3; i++) {
        char want[64];
        snprintf(want, sizeof want, "http://a.example/%d", i);
        tw_frontier_item it = next_is(f, 0, TW_FRONTIER_PAGE, want);
        finish(f, &it);
    }
    assert_int_equal(none_until(f, 0), -1); /* nothing left at all */
    tw_frontier_free(f);
}

static void test_per_host_limit_holds_a_host_but_not_the_others(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 0, false);
    for (int i = 0; i < 5; i++) {
        char url[64];
        snprintf(url, sizeof url, "http://slow.example/%d", i);
        add(f, url);
    }
    add(f, "http://fast.example/1");
    add(f, "http://fast.example/2");
    tw_frontier_item a = next_is(f, 0, TW_FRONTIER_PAGE, "http://slow.example/0");
    tw_frontier_item b = next_is(f, 0, TW_FRONTIER_PAGE, "http://fast.example/1");
    tw_frontier_item c = next_is(f, 0, TW_FRONTIER_PAGE, "http://slow.example/1");
    tw_frontier_item d = next_is(f, 0, TW_FRONTIER_PAGE, "http://fast.example/2");
    /* slow.example has 2 in flight: nothing more from it until one ends. */
    assert_int_equal(none_until(f, 0), -1);
    tw_frontier_stats st;
    tw_frontier_get_stats(f, 0, &st);
    assert_int_equal(st.in_flight, 4);
    assert_int_equal(st.hosts_full, 1);
    assert_int_equal(st.queued, 3);
    finish(f, &a);
    tw_frontier_item e = next_is(f, 0, TW_FRONTIER_PAGE, "http://slow.example/2");
    finish(f, &b);
    finish(f, &c);
    finish(f, &d);
    finish(f, &e);
    tw_frontier_free(f);
}

static void test_starts_to_one_host_are_spaced_by_the_interval(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(10, 500, false); /* --rate 2 */
    add(f, "http://a.example/1");
    add(f, "http://a.example/2");
    add(f, "http://a.example/3");
    tw_frontier_item it = next_is(f, 1000, TW_FRONTIER_PAGE, "http://a.example/1");
    finish(f, &it); /* even with the request over, the next start waits */
    assert_int_equal(none_until(f, 1000), 1500);
    assert_int_equal(none_until(f, 1499), 1500);
    tw_frontier_stats st;
    tw_frontier_get_stats(f, 1499, &st);
    assert_int_equal(st.hosts_rate_limited, 1);
    it = next_is(f, 1500, TW_FRONTIER_PAGE, "http://a.example/2");
    finish(f, &it);
    it = next_is(f, 2600, TW_FRONTIER_PAGE, "http://a.example/3"); /* late: no burst owed */
    finish(f, &it);
    tw_frontier_free(f);
}

static void test_a_rate_limited_host_does_not_block_others(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 10000, false);
    add(f, "http://a.example/1");
    add(f, "http://a.example/2");
    add(f, "http://b.example/1");
    add(f, "http://c.example/1");
    tw_frontier_item a = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1");
    tw_frontier_item b = next_is(f, 0, TW_FRONTIER_PAGE, "http://b.example/1");
    tw_frontier_item c = next_is(f, 0, TW_FRONTIER_PAGE, "http://c.example/1");
    assert_int_equal(none_until(f, 1), 10000);
    finish(f, &a);
    finish(f, &b);
    finish(f, &c);
    tw_frontier_free(f);
}

static void test_zero_interval_is_no_limit_and_hosts_take_turns(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(100, 0, false);
    const char *hosts[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++)
        for (int h = 0; h < 3; h++) {
            char url[64];
            snprintf(url, sizeof url, "http://%s.example/%d", hosts[h], i);
            add(f, url);
        }
    tw_frontier_item items[9];
    for (int i = 0; i < 9; i++)
        items[i] = next_is(f, 0, TW_FRONTIER_PAGE, NULL);
    /* Every window of three starts covers the three hosts. */
    for (int w = 0; w < 9; w += 3)
        for (int i = w; i < w + 3; i++)
            for (int j = i + 1; j < w + 3; j++)
                assert_string_not_equal(items[i].host, items[j].host);
    for (int i = 0; i < 9; i++)
        finish(f, &items[i]);
    tw_frontier_free(f);
}

static void test_crawl_delay_lengthens_the_interval_of_one_host(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 100, false);
    add(f, "http://a.example/1");
    add(f, "http://a.example/2");
    add(f, "http://b.example/1");
    add(f, "http://b.example/2");
    tw_frontier_set_interval(f, "a.example:80", 3000);
    tw_frontier_item a = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1");
    tw_frontier_item b = next_is(f, 0, TW_FRONTIER_PAGE, "http://b.example/1");
    assert_int_equal(none_until(f, 0), 100);
    tw_frontier_item b2 = next_is(f, 100, TW_FRONTIER_PAGE, "http://b.example/2");
    assert_int_equal(none_until(f, 100), 3000);
    tw_frontier_item a2 = next_is(f, 3000, TW_FRONTIER_PAGE, "http://a.example/2");
    finish(f, &a);
    finish(f, &b);
    finish(f, &b2);
    finish(f, &a2);
    tw_frontier_free(f);
}

/* ---- retries and undo ---- */

static void test_a_retry_waits_and_then_goes_first(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 0, false);
    add(f, "http://a.example/1");
    add(f, "http://a.example/2");
    tw_frontier_item it = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1");
    char host[64];
    snprintf(host, sizeof host, "%s", it.host);
    it.attempts = 1;
    assert_int_equal(tw_frontier_retry(f, &it, 2000), 0);
    assert_null(it.mem_);
    tw_frontier_done(f, host);
    assert_int_equal(tw_frontier_queued(f), 2);
    tw_frontier_item two = next_is(f, 10, TW_FRONTIER_PAGE, "http://a.example/2");
    finish(f, &two);
    assert_int_equal(none_until(f, 10), 2000);
    tw_frontier_stats st;
    tw_frontier_get_stats(f, 10, &st);
    assert_int_equal(st.retrying, 1);
    it = next_is(f, 2000, TW_FRONTIER_PAGE, "http://a.example/1");
    assert_int_equal(it.attempts, 1);
    finish(f, &it);
    assert_int_equal(tw_frontier_queued(f), 0);
    tw_frontier_free(f);
}

static void test_a_retry_goes_before_urls_queued_meanwhile(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 0, false);
    add(f, "http://a.example/1");
    tw_frontier_item it = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1");
    it.attempts = 2;
    it.depth = 4;
    assert_int_equal(tw_frontier_retry(f, &it, 50), 0);
    tw_frontier_done(f, "a.example:80");
    add(f, "http://a.example/2");
    add(f, "http://a.example/3");
    tw_frontier_item x = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/2");
    finish(f, &x);
    x = next_is(f, 60, TW_FRONTIER_PAGE, "http://a.example/1");
    assert_int_equal(x.attempts, 2);
    assert_int_equal(x.depth, 4);
    finish(f, &x);
    x = next_is(f, 60, TW_FRONTIER_PAGE, "http://a.example/3");
    finish(f, &x);
    tw_frontier_free(f);
}

static void test_undo_puts_everything_back(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 1000, false);
    add(f, "http://a.example/1");
    add(f, "http://a.example/2");
    tw_frontier_item it = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1");
    it.attempts = 5; /* the caller's changes are ignored */
    tw_frontier_undo(f, &it, "a.example:80", false);
    assert_null(it.url);
    assert_int_equal(tw_frontier_queued(f), 2);
    it = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1"); /* its start time came back too */
    assert_int_equal(it.attempts, 0);
    finish(f, &it);
    tw_frontier_free(f);
}

/* ---- robots.txt ---- */

static tw_robots *rules(const char *body)
{
    tw_robots *r = tw_robots_from_status(200, body, strlen(body), "trawl");
    assert_non_null(r);
    return r;
}

static void test_robots_txt_comes_first_and_holds_its_host(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 0, true);
    add(f, "https://a.example:8443/page?q=1");
    add(f, "https://a.example:8443/private/x");
    add(f, "http://b.example/");
    tw_frontier_item r = next_is(f, 0, TW_FRONTIER_ROBOTS, "https://a.example:8443/robots.txt");
    assert_null(r.parent);
    tw_frontier_item rb = next_is(f, 0, TW_FRONTIER_ROBOTS, "http://b.example/robots.txt");
    assert_int_equal(none_until(f, 0), -1); /* both wait for their rules */
    tw_frontier_stats st;
    tw_frontier_get_stats(f, 0, &st);
    assert_int_equal(st.hosts_robots, 2);
    tw_frontier_robots(f, "a.example:8443", rules("User-agent: *\nDisallow: /private\n"), 5);
    finish(f, &r);
    tw_frontier_item p = next_is(f, 5, TW_FRONTIER_PAGE, "https://a.example:8443/page?q=1");
    tw_frontier_item d = next_is(f, 5, TW_FRONTIER_DISALLOWED, "https://a.example:8443/private/x");
    tw_frontier_get_stats(f, 5, &st);
    assert_int_equal(st.in_flight, 2); /* b's robots.txt and a's page: none for the disallowed */
    tw_frontier_item_free(&d);
    finish(f, &p);
    tw_frontier_robots(f, "b.example:80", tw_robots_from_status(404, NULL, 0, "trawl"), 6);
    finish(f, &rb);
    tw_frontier_item b = next_is(f, 6, TW_FRONTIER_PAGE, "http://b.example/");
    finish(f, &b);
    tw_frontier_free(f);
}

static void test_robots_txt_counts_toward_the_rate(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 1000, true);
    add(f, "http://a.example/");
    tw_frontier_item r = next_is(f, 0, TW_FRONTIER_ROBOTS, NULL);
    tw_frontier_robots(f, r.host, rules("User-agent: *\nAllow: /\n"), 100);
    finish(f, &r);
    assert_int_equal(none_until(f, 100), 1000);
    tw_frontier_item p = next_is(f, 1000, TW_FRONTIER_PAGE, "http://a.example/");
    finish(f, &p);
    tw_frontier_free(f);
}

static void test_unreachable_robots_txt_is_retried_then_disallows(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 0, true);
    add(f, "http://a.example/");
    int64_t now = 0;
    for (int i = 0; i < TW_FRONTIER_ROBOTS_TRIES; i++) {
        tw_frontier_item r = next_is(f, now, TW_FRONTIER_ROBOTS, "http://a.example/robots.txt");
        tw_frontier_robots(f, r.host, tw_robots_from_status(503, NULL, 0, "trawl"), now);
        finish(f, &r);
        if (i + 1 < TW_FRONTIER_ROBOTS_TRIES) {
            int64_t wake = none_until(f, now);
            assert_int_equal(wake, now + (1000 << i)); /* 1 s, 2 s, 4 s */
            now = wake;
        }
    }
    tw_frontier_item d = next_is(f, now, TW_FRONTIER_DISALLOWED, "http://a.example/");
    tw_frontier_item_free(&d);
    tw_frontier_free(f);
}

static void test_robots_txt_is_fetched_again_after_a_day(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 0, true);
    add(f, "http://a.example/1");
    tw_frontier_item r = next_is(f, 0, TW_FRONTIER_ROBOTS, NULL);
    tw_frontier_robots(f, r.host, rules("User-agent: *\nAllow: /\n"), 0);
    finish(f, &r);
    tw_frontier_item p = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1");
    finish(f, &p);
    add(f, "http://a.example/2");
    r = next_is(f, TW_FRONTIER_ROBOTS_TTL_MS, TW_FRONTIER_ROBOTS, "http://a.example/robots.txt");
    tw_frontier_undo(f, &r, "a.example:80", true); /* could not start it: it comes again */
    r = next_is(f, TW_FRONTIER_ROBOTS_TTL_MS, TW_FRONTIER_ROBOTS, "http://a.example/robots.txt");
    tw_frontier_robots(f, r.host, rules("User-agent: *\nDisallow: /\n"), TW_FRONTIER_ROBOTS_TTL_MS);
    finish(f, &r);
    p = next_is(f, TW_FRONTIER_ROBOTS_TTL_MS, TW_FRONTIER_DISALLOWED, "http://a.example/2");
    tw_frontier_item_free(&p);
    tw_frontier_free(f);
}

static void test_freeing_with_urls_queued_and_retrying_leaks_nothing(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 0, true);
    add(f, "http://a.example/1");
    add(f, "http://a.example/2");
    tw_frontier_item r = next_is(f, 0, TW_FRONTIER_ROBOTS, NULL);
    tw_frontier_robots(f, r.host, rules("User-agent: *\nAllow: /\n"), 0);
    finish(f, &r);
    tw_frontier_item p = next_is(f, 0, TW_FRONTIER_PAGE, NULL);
    assert_int_equal(tw_frontier_add(f, "http://c.example/", 1, p.url, p.seed), 1);
    assert_int_equal(tw_frontier_retry(f, &p, 99999), 0);
    tw_frontier_free(f); /* ASan's leak check is the assertion */
}

/* ---- the window ---- */

static int add_rc(tw_frontier *f, const char *url)
{
    return tw_frontier_add(f, url, 1, "http://a.example/", "http://a.example/");
}

static void test_the_seen_set_stays_within_16_bytes_a_url(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 0, false);
    tw_frontier_set_window(f, 10); /* the seen set grows the same whether URLs are held or not */
    char url[64];
    const size_t empty = 256 * 16 * 8; /* every shard at its least */
    for (int i = 1; i <= 300000; i++) {
        snprintf(url, sizeof url, "http://h%d.example/p/%d", i % 1000, i);
        int rc = add_rc(f, url);
        if (rc != 1 && rc != TW_FRONTIER_SPILLED)
            fail_msg("add(%s) = %d", url, rc);
        if (i % 5000 == 0) {
            tw_frontier_stats st;
            tw_frontier_get_stats(f, 0, &st);
            if (st.seen_bytes > 16 * st.seen + empty || (i >= 50000 && st.seen_bytes * 3 < 32 * st.seen))
                fail_msg("%zu bytes for %zu URLs", st.seen_bytes, st.seen);
        }
    }
    for (int i = 1; i <= 300000; i += 7) {
        snprintf(url, sizeof url, "http://h%d.example/p/%d", i % 1000, i);
        if (!tw_frontier_seen(f, url))
            fail_msg("%s forgotten", url);
    }
    assert_int_equal(tw_frontier_queued(f), 300000);
    tw_frontier_free(f);
}

static void test_a_seen_set_loaded_by_fingerprint_knows_the_urls(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 0, false);
    const char *u = "http://a.example/stored";
    assert_int_equal(tw_frontier_mark_seen_fp(f, tw_frontier_fingerprint(u, strlen(u))), 1);
    assert_int_equal(tw_frontier_mark_seen_fp(f, tw_frontier_fingerprint(u, strlen(u))), 0);
    assert_int_equal(tw_frontier_mark_seen_fp(f, 0), 1); /* 0 is a fingerprint like another */
    assert_true(tw_frontier_seen(f, u));
    assert_int_equal(add_rc(f, u), 0);
    assert_int_equal(tw_frontier_queued(f), 0);
    tw_frontier_free(f);
}

static void test_urls_beyond_the_window_are_spilled_and_counted(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 0, false);
    assert_int_equal(tw_frontier_window(f), 0); /* no limit unless asked */
    tw_frontier_set_window(f, 3);
    assert_int_equal(add_rc(f, "http://a.example/1"), 1);
    assert_int_equal(add_rc(f, "http://b.example/1"), 1);
    assert_int_equal(add_rc(f, "http://a.example/2"), 1);
    assert_int_equal(add_rc(f, "http://a.example/3"), TW_FRONTIER_SPILLED);
    assert_int_equal(add_rc(f, "http://c.example/1"), TW_FRONTIER_SPILLED);
    assert_int_equal(add_rc(f, "http://a.example/3"), 0); /* spilled URLs are seen */
    assert_int_equal(add_rc(f, "ftp://a.example/"), TW_FRONTIER_EINVAL);
    assert_int_equal(tw_frontier_held(f), 3);
    assert_int_equal(tw_frontier_spilled(f), 2);
    assert_int_equal(tw_frontier_queued(f), 5); /* the crawl is not done while any is spilled */
    tw_frontier_stats st;
    tw_frontier_get_stats(f, 0, &st);
    assert_int_equal(st.queued, 5);
    assert_int_equal(st.spilled, 2);
    assert_int_equal(st.seen, 5);
    assert_int_equal(st.hosts, 2); /* c.example is not known until its URL is taken back */
    /* Its window half full, a frontier with URLs spilled asks to be refilled. */
    assert_false(tw_frontier_wants_refill(f));
    tw_frontier_item a = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1");
    assert_false(tw_frontier_wants_refill(f)); /* 2 held: not below 3/2 */
    tw_frontier_item b = next_is(f, 0, TW_FRONTIER_PAGE, "http://b.example/1");
    assert_true(tw_frontier_wants_refill(f));
    assert_int_equal(tw_frontier_refill_room(f), 2);
    finish(f, &a);
    finish(f, &b);
    tw_frontier_free(f);
}

static void test_while_urls_are_spilled_new_ones_spill_too_to_keep_the_order(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 0, false);
    tw_frontier_set_window(f, 2);
    add(f, "http://a.example/1");
    add(f, "http://a.example/2");
    assert_int_equal(add_rc(f, "http://a.example/3"), TW_FRONTIER_SPILLED);
    tw_frontier_item it = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1");
    finish(f, &it);
    /* Room for one, but /3 waits in the store: /4 must not pass it. */
    assert_int_equal(add_rc(f, "http://a.example/4"), TW_FRONTIER_SPILLED);
    assert_int_equal(tw_frontier_spilled(f), 2);
    assert_int_equal(tw_frontier_refill(f, "http://a.example/3", 1, NULL, "http://a.example/", 0, 3), 1);
    assert_int_equal(tw_frontier_refill(f, "http://a.example/4", 1, NULL, "http://a.example/", 0, 4), 1);
    assert_int_equal(tw_frontier_spilled(f), 0);
    assert_int_equal(tw_frontier_held(f), 3); /* a refill may pass the window; the caller asks room */
    for (int i = 2; i <= 4; i++) {
        char want[64];
        snprintf(want, sizeof want, "http://a.example/%d", i);
        it = next_is(f, 0, TW_FRONTIER_PAGE, want);
        finish(f, &it);
    }
    /* Nothing spilled: new URLs are held again. */
    add(f, "http://a.example/5");
    tw_frontier_free(f);
}

static void test_refilled_urls_come_back_in_order_with_their_fields(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(100, 0, false);
    tw_frontier_set_window(f, 4);
    char url[64];
    for (int i = 1; i <= 10; i++) {
        snprintf(url, sizeof url, "http://a.example/%d", i);
        assert_int_equal(add_rc(f, url), i <= 4 ? 1 : TW_FRONTIER_SPILLED);
    }
    tw_frontier_item it[4];
    for (int i = 0; i < 3; i++) {
        snprintf(url, sizeof url, "http://a.example/%d", i + 1);
        it[i] = next_is(f, 0, TW_FRONTIER_PAGE, url);
    }
    assert_true(tw_frontier_wants_refill(f));
    size_t room = tw_frontier_refill_room(f);
    assert_int_equal(room, 3);
    for (int i = 5; i < 5 + (int)room; i++) {
        snprintf(url, sizeof url, "http://a.example/%d", i);
        assert_int_equal(tw_frontier_refill(f, url, 7, "http://p.example/", "http://s.example/", 2, 100 + i), 1);
    }
    assert_int_equal(tw_frontier_spilled(f), 3);
    assert_int_equal(tw_frontier_queued(f), 7);
    assert_int_equal(tw_frontier_spill_cursor(f), 107);
    it[3] = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/4");
    tw_frontier_item r = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/5");
    assert_int_equal(r.depth, 7);
    assert_int_equal(r.attempts, 2);
    assert_string_equal(r.parent, "http://p.example/");
    assert_string_equal(r.seed, "http://s.example/");
    finish(f, &r);
    r = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/6");
    finish(f, &r);
    for (int i = 0; i < 4; i++)
        finish(f, &it[i]);
    tw_frontier_free(f);
}

static void test_new_urls_get_ids_in_order_and_the_spill_cursor_follows_them(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 0, false);
    tw_frontier_set_window(f, 1);
    int64_t id = -1;
    assert_int_equal(tw_frontier_add_id(f, "http://a.example/1", 0, NULL, "http://a.example/1", &id), 1);
    assert_true(id == 1);
    assert_int_equal(tw_frontier_add_id(f, "http://a.example/2", 1, NULL, "http://a.example/1", &id),
                     TW_FRONTIER_SPILLED);
    assert_true(id == 2);
    assert_int_equal(tw_frontier_spill_cursor(f), 1); /* spilled URLs start after id 1 */
    id = -1;
    assert_int_equal(tw_frontier_add_id(f, "http://a.example/2", 1, NULL, "http://a.example/1", &id), 0);
    assert_true(id == -1); /* a seen URL gets no id */
    assert_int_equal(add_rc(f, "http://a.example/3"), TW_FRONTIER_SPILLED);
    assert_true(tw_frontier_next_id(f) == 4);
    tw_frontier_item it = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1");
    assert_true(it.id == 1);
    finish(f, &it);
    assert_int_equal(tw_frontier_refill(f, "http://a.example/2", 1, NULL, "http://a.example/1", 0, 2), 1);
    assert_int_equal(tw_frontier_spill_cursor(f), 2);
    it = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/2");
    assert_true(it.id == 2);
    finish(f, &it);
    /* A URL that is not one (a hand-edited store) is dropped, and the cursor passes it. */
    assert_int_equal(tw_frontier_refill(f, "not a url", 1, NULL, "http://a.example/", 0, 3), TW_FRONTIER_EINVAL);
    assert_int_equal(tw_frontier_spilled(f), 0);
    assert_int_equal(tw_frontier_spill_cursor(f), 3);
    /* Nothing spilled and room again: held. The next spill starts after its own id. */
    add(f, "http://a.example/4");
    assert_int_equal(add_rc(f, "http://a.example/5"), TW_FRONTIER_SPILLED);
    assert_int_equal(tw_frontier_spill_cursor(f), 4);
    /* On resume, ids go on after the greatest stored. */
    tw_frontier_set_next_id(f, 1000);
    assert_int_equal(tw_frontier_add_id(f, "http://a.example/6", 1, NULL, "http://a.example/1", &id),
                     TW_FRONTIER_SPILLED);
    assert_true(id == 1000);
    tw_frontier_free(f);
}

static void test_a_resumed_frontier_has_everything_spilled(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(1, 0, false); /* no window: a refill takes all */
    tw_frontier_set_spilled(f, 3, 41);
    assert_int_equal(tw_frontier_queued(f), 3);
    assert_int_equal(tw_frontier_spill_cursor(f), 41);
    assert_true(tw_frontier_wants_refill(f));
    assert_int_equal(tw_frontier_refill_room(f), 3);
    /* A seed added before the refill goes after the stored URLs. */
    assert_int_equal(add_rc(f, "http://a.example/seed"), TW_FRONTIER_SPILLED);
    assert_int_equal(tw_frontier_spill_cursor(f), 41);
    assert_int_equal(tw_frontier_refill_room(f), 4);
    tw_frontier_free(f);
}

static void test_retries_and_undo_are_taken_back_beyond_the_window(void **state)
{
    (void)state;
    tw_frontier *f = tw_frontier_new(2, 0, false);
    tw_frontier_set_window(f, 1);
    add(f, "http://a.example/1");
    tw_frontier_item it = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/1");
    add(f, "http://a.example/2");
    assert_int_equal(tw_frontier_retry(f, &it, 10), 0);
    tw_frontier_done(f, "a.example:80");
    assert_int_equal(tw_frontier_held(f), 2);
    assert_int_equal(add_rc(f, "http://a.example/3"), TW_FRONTIER_SPILLED);
    tw_frontier_item two = next_is(f, 0, TW_FRONTIER_PAGE, "http://a.example/2");
    tw_frontier_undo(f, &two, "a.example:80", false);
    assert_int_equal(tw_frontier_held(f), 2);
    assert_int_equal(tw_frontier_queued(f), 3);
    tw_frontier_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_siphash_matches_the_reference_vector),
        cmocka_unit_test(test_fingerprints_are_stable_and_distinct),
        cmocka_unit_test(test_a_url_is_queued_once),
        cmocka_unit_test(test_marked_urls_are_never_queued),
        cmocka_unit_test(test_urls_that_are_not_normalized_http_are_refused),
        cmocka_unit_test(test_the_seen_set_survives_growth),
        cmocka_unit_test(test_items_carry_depth_parent_seed_and_host),
        cmocka_unit_test(test_each_host_is_first_in_first_out),
        cmocka_unit_test(test_per_host_limit_holds_a_host_but_not_the_others),
        cmocka_unit_test(test_starts_to_one_host_are_spaced_by_the_interval),
        cmocka_unit_test(test_a_rate_limited_host_does_not_block_others),
        cmocka_unit_test(test_zero_interval_is_no_limit_and_hosts_take_turns),
        cmocka_unit_test(test_crawl_delay_lengthens_the_interval_of_one_host),
        cmocka_unit_test(test_a_retry_waits_and_then_goes_first),
        cmocka_unit_test(test_a_retry_goes_before_urls_queued_meanwhile),
        cmocka_unit_test(test_undo_puts_everything_back),
        cmocka_unit_test(test_robots_txt_comes_first_and_holds_its_host),
        cmocka_unit_test(test_robots_txt_counts_toward_the_rate),
        cmocka_unit_test(test_unreachable_robots_txt_is_retried_then_disallows),
        cmocka_unit_test(test_robots_txt_is_fetched_again_after_a_day),
        cmocka_unit_test(test_freeing_with_urls_queued_and_retrying_leaks_nothing),
        cmocka_unit_test(test_the_seen_set_stays_within_16_bytes_a_url),
        cmocka_unit_test(test_a_seen_set_loaded_by_fingerprint_knows_the_urls),
        cmocka_unit_test(test_urls_beyond_the_window_are_spilled_and_counted),
        cmocka_unit_test(test_while_urls_are_spilled_new_ones_spill_too_to_keep_the_order),
        cmocka_unit_test(test_refilled_urls_come_back_in_order_with_their_fields),
        cmocka_unit_test(test_new_urls_get_ids_in_order_and_the_spill_cursor_follows_them),
        cmocka_unit_test(test_a_resumed_frontier_has_everything_spilled),
        cmocka_unit_test(test_retries_and_undo_are_taken_back_beyond_the_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
