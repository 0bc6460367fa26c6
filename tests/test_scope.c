/* test_scope.c - tests of the link filter: --scope, --include/--exclude and --max-depth. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "scope.h"

static tw_scope_filter *filter(tw_scope_mode mode, const char *const *inc, size_t ninc,
                               const char *const *exc, size_t nexc)
{
    char err[256] = "";
    tw_scope_filter *s = tw_scope_new(mode, inc, ninc, exc, nexc, err, sizeof err);
    if (!s)
        fail_msg("tw_scope_new: %s", err);
    return s;
}

#define SEED "http://www.example.com/start"

static void test_host_scope_needs_same_scheme_host_and_port(void **state)
{
    (void)state;
    tw_scope_filter *s = filter(TW_SCOPE_HOST, NULL, 0, NULL, 0);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/other?q=1", 1, -1), TW_SCOPE_FOLLOW);
    assert_int_equal(tw_scope_check(s, SEED, "https://www.example.com/", 1, -1), TW_SCOPE_OUT_OF_SCOPE);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com:8080/", 1, -1), TW_SCOPE_OUT_OF_SCOPE);
    assert_int_equal(tw_scope_check(s, SEED, "http://blog.example.com/", 1, -1), TW_SCOPE_OUT_OF_SCOPE);
    assert_true(tw_scope_allows(s, SEED, "http://www.example.com/x"));
    assert_false(tw_scope_allows(s, SEED, "http://other.example/"));
    tw_scope_free(s);
}

static void test_domain_scope_uses_the_registrable_domain(void **state)
{
    (void)state;
    tw_scope_filter *s = filter(TW_SCOPE_DOMAIN, NULL, 0, NULL, 0);
    assert_int_equal(tw_scope_check(s, SEED, "https://blog.example.com:8443/", 1, -1), TW_SCOPE_FOLLOW);
    assert_int_equal(tw_scope_check(s, SEED, "http://example.com/", 1, -1), TW_SCOPE_FOLLOW);
    assert_int_equal(tw_scope_check(s, SEED, "http://example.org/", 1, -1), TW_SCOPE_OUT_OF_SCOPE);
    assert_int_equal(tw_scope_check(s, "http://a.github.io/", "http://b.github.io/", 1, -1),
                     TW_SCOPE_OUT_OF_SCOPE); /* github.io is a public suffix */
    assert_int_equal(tw_scope_check(s, "http://127.0.0.1:8000/", "http://127.0.0.1:9000/", 1, -1),
                     TW_SCOPE_FOLLOW); /* an IP: the same host, any port */
    assert_int_equal(tw_scope_check(s, "http://127.0.0.1/", "http://127.0.0.2/", 1, -1), TW_SCOPE_OUT_OF_SCOPE);
    tw_scope_free(s);
}

static void test_any_scope_follows_every_http_link(void **state)
{
    (void)state;
    tw_scope_filter *s = filter(TW_SCOPE_ANY, NULL, 0, NULL, 0);
    assert_int_equal(tw_scope_check(s, SEED, "https://elsewhere.org/", 5, -1), TW_SCOPE_FOLLOW);
    assert_int_equal(tw_scope_check(s, NULL, "https://elsewhere.org/", 5, -1), TW_SCOPE_FOLLOW);
    tw_scope_free(s);
}

static void test_only_http_and_https_are_followed(void **state)
{
    (void)state;
    tw_scope_filter *s = filter(TW_SCOPE_ANY, NULL, 0, NULL, 0);
    assert_int_equal(tw_scope_check(s, SEED, "ftp://www.example.com/", 1, -1), TW_SCOPE_NOT_HTTP);
    assert_int_equal(tw_scope_check(s, SEED, "mailto:a@example.com", 1, -1), TW_SCOPE_NOT_HTTP);
    assert_int_equal(tw_scope_check(s, SEED, "", 1, -1), TW_SCOPE_NOT_HTTP);
    assert_int_equal(tw_scope_check(s, SEED, NULL, 1, -1), TW_SCOPE_NOT_HTTP);
    tw_scope_free(s);
}

static void test_include_patterns_are_unanchored_and_any_may_match(void **state)
{
    (void)state;
    const char *inc[] = {"/blog/", "\\.pdf$"};
    tw_scope_filter *s = filter(TW_SCOPE_HOST, inc, 2, NULL, 0);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/en/blog/post", 1, -1), TW_SCOPE_FOLLOW);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/doc.pdf", 1, -1), TW_SCOPE_FOLLOW);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/about", 1, -1), TW_SCOPE_NOT_INCLUDED);
    tw_scope_free(s);
}

static void test_exclude_patterns_must_all_fail_to_match(void **state)
{
    (void)state;
    const char *inc[] = {"example"};
    const char *exc[] = {"\\?", "/private/"};
    tw_scope_filter *s = filter(TW_SCOPE_HOST, inc, 1, exc, 2);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/a", 1, -1), TW_SCOPE_FOLLOW);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/a?x=1", 1, -1), TW_SCOPE_EXCLUDED);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/private/x", 1, -1), TW_SCOPE_EXCLUDED);
    tw_scope_free(s);
}

static void test_patterns_see_the_whole_normalized_url(void **state)
{
    (void)state;
    const char *inc[] = {"^http://www\\.example\\.com/a/~user$"};
    tw_scope_filter *s = filter(TW_SCOPE_ANY, inc, 1, NULL, 0);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/a/~user", 1, -1), TW_SCOPE_FOLLOW);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/a/~user/", 1, -1), TW_SCOPE_NOT_INCLUDED);
    tw_scope_free(s);
}

static void test_scope_is_checked_before_filters(void **state)
{
    (void)state;
    const char *inc[] = {"."};
    tw_scope_filter *s = filter(TW_SCOPE_HOST, inc, 1, NULL, 0);
    assert_int_equal(tw_scope_check(s, SEED, "http://other.org/", 1, -1), TW_SCOPE_OUT_OF_SCOPE);
    tw_scope_free(s);
}

static void test_max_depth_allows_up_to_n_hops(void **state)
{
    (void)state;
    tw_scope_filter *s = filter(TW_SCOPE_HOST, NULL, 0, NULL, 0);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/a", 2, 2), TW_SCOPE_FOLLOW);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/a", 3, 2), TW_SCOPE_TOO_DEEP);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/a", 1, 0), TW_SCOPE_TOO_DEEP);
    assert_int_equal(tw_scope_check(s, SEED, "http://www.example.com/a", 1000000, -1), TW_SCOPE_FOLLOW);
    tw_scope_free(s);
}

static void test_bad_pattern_is_reported_with_its_text(void **state)
{
    (void)state;
    const char *inc[] = {"ok", "(unclosed"};
    char err[256] = "";
    assert_null(tw_scope_new(TW_SCOPE_HOST, inc, 2, NULL, 0, err, sizeof err));
    assert_non_null(strstr(err, "--include \"(unclosed\""));
    const char *exc[] = {"*"};
    assert_null(tw_scope_new(TW_SCOPE_HOST, NULL, 0, exc, 1, err, sizeof err));
    assert_non_null(strstr(err, "--exclude \"*\""));
    assert_int_equal(tw_scope_check_regex("a+b", err, sizeof err), 0);
    assert_int_equal(tw_scope_check_regex("[", err, sizeof err), -1);
    assert_non_null(strstr(err, "offset"));
}

static void test_a_match_that_fails_counts_against_the_link(void **state)
{
    (void)state;
    /* Exponential backtracking over the a's, cut short by (*LIMIT_MATCH): PCRE2 gives
     * up with an error instead of answering (NO_START_OPT keeps it from seeing at once
     * that '!' never occurs). */
    const char *limited[] = {"(*LIMIT_MATCH=1000)(*NO_START_OPT)(a|aa)+!"};
    const char *url = "http://www.example.com/?q=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab";
    tw_scope_filter *exc = filter(TW_SCOPE_ANY, NULL, 0, limited, 1);
    assert_int_equal(tw_scope_check(exc, SEED, url, 1, -1), TW_SCOPE_EXCLUDED);
    tw_scope_free(exc);
    tw_scope_filter *inc = filter(TW_SCOPE_ANY, limited, 1, NULL, 0);
    assert_int_equal(tw_scope_check(inc, SEED, url, 1, -1), TW_SCOPE_NOT_INCLUDED);
    tw_scope_free(inc);
}

static void test_mode_names_parse_and_print(void **state)
{
    (void)state;
    tw_scope_mode m;
    assert_int_equal(tw_scope_mode_parse("domain", &m), 0);
    assert_int_equal(m, TW_SCOPE_DOMAIN);
    assert_int_equal(tw_scope_mode_parse("Domain", &m), -1);
    assert_string_equal(tw_scope_mode_name(TW_SCOPE_ANY), "any");
    assert_string_equal(tw_scope_verdict_name(TW_SCOPE_EXCLUDED), "matches an --exclude");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host_scope_needs_same_scheme_host_and_port),
        cmocka_unit_test(test_domain_scope_uses_the_registrable_domain),
        cmocka_unit_test(test_any_scope_follows_every_http_link),
        cmocka_unit_test(test_only_http_and_https_are_followed),
        cmocka_unit_test(test_include_patterns_are_unanchored_and_any_may_match),
        cmocka_unit_test(test_exclude_patterns_must_all_fail_to_match),
        cmocka_unit_test(test_patterns_see_the_whole_normalized_url),
        cmocka_unit_test(test_scope_is_checked_before_filters),
        cmocka_unit_test(test_max_depth_allows_up_to_n_hops),
        cmocka_unit_test(test_bad_pattern_is_reported_with_its_text),
        cmocka_unit_test(test_a_match_that_fails_counts_against_the_link),
        cmocka_unit_test(test_mode_names_parse_and_print),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
