/* test_options.c - tests of the `trawl crawl` command line against the contract's option table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cli/ is linked into build/trawl only, and test binaries link libtrawl.a: compile
 * the parser into this test directly. */
#include "../cli/options.c"

/* ---- helpers ---- */

#define MAX_ARGS 32

/* Parses "crawl" followed by the given arguments (NULL-terminated). */
static int parse(tw_options *o, char *err, size_t n, ...)
{
    char *argv[MAX_ARGS] = {"crawl"};
    int argc = 1;
    va_list ap;
    va_start(ap, n);
    for (char *a; (a = va_arg(ap, char *)) && argc < MAX_ARGS;)
        argv[argc++] = a;
    va_end(ap);
    return tw_options_parse(argc, argv, o, err, n);
}

/* Asserts the arguments are a usage error whose message contains `want`. */
#define expect_usage_error(want, ...)                                                        \
    do {                                                                                     \
        tw_options o_;                                                                       \
        char err_[512];                                                                      \
        int rc_ = parse(&o_, err_, sizeof err_, __VA_ARGS__, NULL);                          \
        if (rc_ != TW_OPTIONS_EUSAGE || !strstr(err_, want))                                 \
            fail_msg("got rc %d, message \"%s\"; want a usage error naming \"%s\"", rc_, err_, \
                     want);                                                                  \
        assert_true(strncmp(err_, "trawl: ", 7) == 0 || strncmp(err_, "stored", 6) == 0);    \
        tw_options_free(&o_);                                                                \
    } while (0)

static tw_options parse_ok(const char *first, ...)
{
    char *argv[MAX_ARGS] = {"crawl"};
    int argc = 1;
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < MAX_ARGS; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    tw_options o;
    char err[512] = "";
    int rc = tw_options_parse(argc, argv, &o, err, sizeof err);
    if (rc != TW_OPTIONS_RUN)
        fail_msg("parse failed (%d): %s", rc, err);
    return o;
}

/* ---- defaults ---- */

static void test_defaults_are_the_contracts(void **state)
{
    (void)state;
    tw_options o = parse_ok("http://example.com/", NULL);
    assert_string_equal(o.out, "./crawl");
    assert_int_equal(o.max_pages, 0);
    assert_int_equal(o.max_depth, -1);
    assert_int_equal(o.scope, TW_SCOPE_HOST);
    assert_int_equal(o.n_include, 0);
    assert_int_equal(o.n_exclude, 0);
    assert_int_equal(o.concurrency, 64);
    assert_int_equal(o.per_host, 2);
    assert_true(o.rate == 2.0);
    assert_int_equal(o.retries, 3);
    assert_true(o.timeout == 30.0);
    assert_int_equal(o.max_bytes, 10485760);
    assert_string_equal(o.user_agent, "trawl/" TW_VERSION);
    assert_false(o.ignore_robots);
    assert_false(o.quiet);
    assert_int_equal(o.set, 0);
    tw_options_free(&o);
}

/* ---- every option, in its forms ---- */

static void test_every_option_sets_its_field_and_bit(void **state)
{
    (void)state;
    tw_options o = parse_ok("--out", "/tmp/c", "--max-pages", "10", "--max-depth", "3", "--scope", "domain",
                            "--include", "a", "--exclude", "b", "--concurrency", "8", "--per-host", "4",
                            "--rate", "0.5", "--retries", "0", "--timeout", "2.5", "--max-bytes", "1",
                            "--user-agent", "bot/1 (+https://x)", "--ignore-robots", "--quiet",
                            "http://a.example/", NULL);
    assert_string_equal(o.out, "/tmp/c");
    assert_int_equal(o.max_pages, 10);
    assert_int_equal(o.max_depth, 3);
    assert_int_equal(o.scope, TW_SCOPE_DOMAIN);
    assert_string_equal(o.include[0], "a");
    assert_string_equal(o.exclude[0], "b");
    assert_int_equal(o.concurrency, 8);
    assert_int_equal(o.per_host, 4);
    assert_true(o.rate == 0.5);
    assert_int_equal(o.retries, 0);
    assert_true(o.timeout == 2.5);
    assert_int_equal(o.max_bytes, 1);
    assert_string_equal(o.user_agent, "bot/1 (+https://x)");
    assert_true(o.ignore_robots);
    assert_true(o.quiet);
    assert_int_equal(o.set, (TW_OPT_QUIET << 1) - 1); /* every bit */
    tw_options_free(&o);
}

static void test_equals_form_and_short_out_form(void **state)
{
    (void)state;
    tw_options o = parse_ok("--rate=10", "--scope=any", "-o", "d1", "http://a.example/", NULL);
    assert_true(o.rate == 10.0);
    assert_int_equal(o.scope, TW_SCOPE_ANY);
    assert_string_equal(o.out, "d1");
    tw_options_free(&o);
    o = parse_ok("-od2", "http://a.example/", NULL);
    assert_string_equal(o.out, "d2");
    tw_options_free(&o);
    o = parse_ok("--out=d3", "--user-agent=x=y", "http://a.example/", NULL);
    assert_string_equal(o.out, "d3");
    assert_string_equal(o.user_agent, "x=y"); /* only the first '=' splits */
    tw_options_free(&o);
}

static void test_include_and_exclude_are_repeatable_in_order(void **state)
{
    (void)state;
    tw_options o = parse_ok("--include", "a", "--include=b", "--exclude", "x", "--include", "c",
                            "--exclude=y", "http://a.example/", NULL);
    assert_int_equal(o.n_include, 3);
    assert_string_equal(o.include[0], "a");
    assert_string_equal(o.include[1], "b");
    assert_string_equal(o.include[2], "c");
    assert_int_equal(o.n_exclude, 2);
    assert_string_equal(o.exclude[1], "y");
    tw_options_free(&o);
}

static void test_other_options_given_twice_keep_the_last(void **state)
{
    (void)state;
    tw_options o = parse_ok("--rate", "1", "--rate", "5", "http://a.example/", NULL);
    assert_true(o.rate == 5.0);
    tw_options_free(&o);
}

static void test_rate_zero_means_no_limit_and_is_accepted(void **state)
{
    (void)state;
    tw_options o = parse_ok("--rate", "0", "http://a.example/", NULL);
    assert_true(o.rate == 0.0);
    assert_true(o.set & TW_OPT_RATE);
    tw_options_free(&o);
}

static void test_zero_is_accepted_where_the_contract_allows_it(void **state)
{
    (void)state;
    tw_options o = parse_ok("--max-pages", "0", "--max-depth", "0", "--retries", "0", "http://a.example/", NULL);
    assert_int_equal(o.max_pages, 0);
    assert_int_equal(o.max_depth, 0);
    assert_int_equal(o.retries, 0);
    tw_options_free(&o);
}

/* ---- seeds ---- */

static void test_seeds_are_normalized_and_kept_in_order(void **state)
{
    (void)state;
    tw_options o = parse_ok("HTTP://Example.COM:80/a/../b#frag", "--rate", "1", "https://x.example/%7euser", NULL);
    assert_int_equal(o.n_seeds, 2);
    assert_string_equal(o.seeds[0], "http://example.com/b");
    assert_string_equal(o.seeds[1], "https://x.example/~user");
    tw_options_free(&o);
}

static void test_double_dash_ends_options(void **state)
{
    (void)state;
    tw_options o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, "--", "--rate", NULL), TW_OPTIONS_EUSAGE);
    assert_non_null(strstr(err, "invalid seed URL \"--rate\""));
    tw_options_free(&o);
}

static void test_out_without_seeds_is_left_to_the_caller(void **state)
{
    (void)state;
    tw_options o = parse_ok("--out", "somewhere", NULL);
    assert_int_equal(o.n_seeds, 0);
    assert_string_equal(o.out, "somewhere");
    tw_options_free(&o);
}

static void test_invalid_seeds_are_usage_errors_naming_the_seed(void **state)
{
    (void)state;
    expect_usage_error("trawl: invalid seed URL \"ftp://x\": not http(s)", "ftp://x");
    expect_usage_error("invalid seed URL \"mailto:a@b\": not http(s)", "mailto:a@b");
    expect_usage_error("invalid seed URL \"example.com\"", "example.com");
    expect_usage_error("invalid seed URL \"http://exa mple.com/\"", "http://exa mple.com/");
    expect_usage_error("invalid seed URL \"http://a:99999/\"", "http://a:99999/");
    expect_usage_error("invalid seed URL \"-\"", "-");
}

/* ---- bad values: exit 2, the option named ---- */

static void test_unknown_options_are_named(void **state)
{
    (void)state;
    expect_usage_error("trawl: unknown option --frobnicate", "--frobnicate", "http://a.example/");
    expect_usage_error("unknown option --frobnicate", "--frobnicate=1", "http://a.example/");
    expect_usage_error("unknown option -x", "-x", "http://a.example/");
    expect_usage_error("unknown option --ra", "--ra", "1", "http://a.example/"); /* no abbreviations */
}

static void test_missing_values_are_named(void **state)
{
    (void)state;
    expect_usage_error("--rate needs a value", "http://a.example/", "--rate");
    expect_usage_error("-o needs a value", "http://a.example/", "-o");
    expect_usage_error("--quiet takes no value", "--quiet=yes", "http://a.example/");
    expect_usage_error("--ignore-robots takes no value", "--ignore-robots=1", "http://a.example/");
}

static void test_non_numbers_are_rejected_for_every_numeric_option(void **state)
{
    (void)state;
    expect_usage_error("trawl: --rate: \"abc\" is not a number", "--rate", "abc", "http://a.example/");
    expect_usage_error("--timeout: \"\" is not a number", "--timeout", "", "http://a.example/");
    expect_usage_error("--max-pages: \"ten\" is not a number", "--max-pages", "ten", "http://a.example/");
    expect_usage_error("--max-depth: \"1x\" is not a number", "--max-depth", "1x", "http://a.example/");
    expect_usage_error("--concurrency: \"\" is not a number", "--concurrency=", "http://a.example/");
    expect_usage_error("--per-host: \" 2\" is not a number", "--per-host", " 2", "http://a.example/");
    expect_usage_error("--retries: \"0x3\" is not a number", "--retries", "0x3", "http://a.example/");
    expect_usage_error("--max-bytes: \"1k\" is not a number", "--max-bytes", "1k", "http://a.example/");
    expect_usage_error("--rate: \"nan\" is not a number", "--rate", "nan", "http://a.example/");
    expect_usage_error("--rate: \"inf\" is not a number", "--rate", "inf", "http://a.example/");
    expect_usage_error("--timeout: \"1e999\" is not a number", "--timeout", "1e999", "http://a.example/");
}

static void test_integers_must_be_whole(void **state)
{
    (void)state;
    expect_usage_error("--max-pages: \"1.5\" is not a whole number", "--max-pages", "1.5", "http://a.example/");
    expect_usage_error("--per-host: \"2.0\" is not a whole number", "--per-host", "2.0", "http://a.example/");
}

static void test_out_of_range_values_are_rejected(void **state)
{
    (void)state;
    expect_usage_error("--rate: \"-1\" must be at least 0", "--rate", "-1", "http://a.example/");
    expect_usage_error("--per-host: \"0\" must be at least 1", "--per-host", "0", "http://a.example/");
    expect_usage_error("--concurrency: \"0\" must be at least 1", "--concurrency", "0", "http://a.example/");
    expect_usage_error("--max-pages: \"-1\" must be at least 0", "--max-pages", "-1", "http://a.example/");
    expect_usage_error("--max-depth: \"-1\" must be at least 0", "--max-depth", "-1", "http://a.example/");
    expect_usage_error("--retries: \"-2\" must be at least 0", "--retries", "-2", "http://a.example/");
    expect_usage_error("--timeout: \"0\" must be more than 0", "--timeout", "0", "http://a.example/");
    expect_usage_error("--timeout: \"-3\" must be more than 0", "--timeout", "-3", "http://a.example/");
    expect_usage_error("--max-bytes: \"0\" must be at least 1", "--max-bytes", "0", "http://a.example/");
    expect_usage_error("--concurrency: \"99999999999\" is too large", "--concurrency", "99999999999",
                       "http://a.example/");
    expect_usage_error("--max-pages: \"99999999999999999999999\" is too large", "--max-pages",
                       "99999999999999999999999", "http://a.example/");
}

static void test_scope_must_be_host_domain_or_any(void **state)
{
    (void)state;
    expect_usage_error("--scope: \"site\" is not host, domain or any", "--scope", "site", "http://a.example/");
    expect_usage_error("--scope: \"HOST\"", "--scope", "HOST", "http://a.example/");
    tw_options o = parse_ok("--scope", "any", "http://a.example/", NULL);
    assert_int_equal(o.scope, TW_SCOPE_ANY);
    tw_options_free(&o);
}

static void test_invalid_regexes_are_named_with_pcre2s_reason(void **state)
{
    (void)state;
    expect_usage_error("--include: \"(\" is not a valid regex: missing closing parenthesis", "--include", "(",
                       "http://a.example/");
    expect_usage_error("--exclude: \"a[\" is not a valid regex", "--exclude", "a[", "http://a.example/");
}

static void test_empty_out_and_user_agent_with_newline_are_rejected(void **state)
{
    (void)state;
    expect_usage_error("--out: must not be empty", "--out", "", "http://a.example/");
    expect_usage_error("--user-agent: must not be empty", "--user-agent=", "http://a.example/");
    expect_usage_error("--user-agent: \"a\nX: y\" contains a control character", "--user-agent", "a\nX: y",
                       "http://a.example/");
}

/* ---- help and version ---- */

static void test_help_and_version_are_recognized(void **state)
{
    (void)state;
    tw_options o;
    char err[256];
    assert_int_equal(parse(&o, err, sizeof err, "--help", NULL), TW_OPTIONS_HELP);
    tw_options_free(&o);
    assert_int_equal(parse(&o, err, sizeof err, "http://a.example/", "-h", NULL), TW_OPTIONS_HELP);
    tw_options_free(&o);
    assert_int_equal(parse(&o, err, sizeof err, "--version", NULL), TW_OPTIONS_VERSION);
    tw_options_free(&o);
    const char *u = tw_options_usage();
    const char *names[] = {"--out", "--max-pages", "--max-depth", "--scope", "--include", "--exclude",
                           "--concurrency", "--per-host", "--rate", "--retries", "--timeout", "--max-bytes",
                           "--user-agent", "--ignore-robots", "--quiet", "SEED_URL"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strstr(u, names[i]))
            fail_msg("usage text lacks %s", names[i]);
}

/* ---- resume: merge and storage ---- */

static void test_merge_overrides_only_options_given_again(void **state)
{
    (void)state;
    tw_options stored = parse_ok("--max-pages", "10", "--rate", "1", "--include", "a", "--scope", "any",
                                 "http://a.example/", NULL);
    tw_options given = parse_ok("--out", "d", "--max-pages", "20", "--quiet", NULL);
    tw_options m;
    assert_int_equal(tw_options_merge(&m, &stored, &given), 0);
    assert_int_equal(m.max_pages, 20); /* given again */
    assert_true(m.rate == 1.0);        /* kept */
    assert_int_equal(m.scope, TW_SCOPE_ANY);
    assert_int_equal(m.n_include, 1);
    assert_string_equal(m.include[0], "a");
    assert_string_equal(m.out, "d");
    assert_true(m.quiet);
    assert_int_equal(m.n_seeds, 0);
    assert_true(m.set & TW_OPT_MAX_PAGES && m.set & TW_OPT_RATE);
    tw_options_free(&m);
    tw_options_free(&given);

    given = parse_ok("--include", "b", "--include", "c", "--rate", "0", "http://new.example/", NULL);
    assert_int_equal(tw_options_merge(&m, &stored, &given), 0);
    assert_int_equal(m.n_include, 2); /* the list is replaced, not extended */
    assert_string_equal(m.include[0], "b");
    assert_true(m.rate == 0.0);
    assert_int_equal(m.max_pages, 10);
    assert_int_equal(m.n_seeds, 1);
    assert_string_equal(m.seeds[0], "http://new.example/");
    tw_options_free(&m);
    tw_options_free(&given);
    tw_options_free(&stored);
}

static void test_json_round_trip_keeps_every_stored_option(void **state)
{
    (void)state;
    tw_options o = parse_ok("--max-pages", "7", "--max-depth", "2", "--scope", "domain", "--include",
                            "\"quoted\\\"", "--include", "caf\xc3\xa9", "--exclude", "x$", "--concurrency", "9",
                            "--per-host", "3", "--rate", "0.1", "--retries", "5", "--timeout", "1.25",
                            "--max-bytes", "4096", "--user-agent", "ua/2 \"q\"", "--ignore-robots",
                            "http://a.example/", NULL);
    char *json = tw_options_to_json(&o);
    assert_non_null(json);
    tw_options back;
    char err[256] = "";
    if (tw_options_from_json(json, &back, err, sizeof err) != 0)
        fail_msg("from_json(%s): %s", json, err);
    assert_int_equal(back.max_pages, 7);
    assert_int_equal(back.max_depth, 2);
    assert_int_equal(back.scope, TW_SCOPE_DOMAIN);
    assert_int_equal(back.n_include, 2);
    assert_string_equal(back.include[0], "\"quoted\\\"");
    assert_string_equal(back.include[1], "caf\xc3\xa9");
    assert_string_equal(back.exclude[0], "x$");
    assert_int_equal(back.concurrency, 9);
    assert_int_equal(back.per_host, 3);
    assert_true(back.rate == 0.1); /* exactly: the shortest round-trip form is written */
    assert_int_equal(back.retries, 5);
    assert_true(back.timeout == 1.25);
    assert_int_equal(back.max_bytes, 4096);
    assert_string_equal(back.user_agent, "ua/2 \"q\"");
    assert_true(back.ignore_robots);
    char *again = tw_options_to_json(&back);
    assert_string_equal(json, again);
    free(json);
    free(again);
    tw_options_free(&back);
    tw_options_free(&o);
}

static void test_json_of_defaults_restores_no_depth_limit(void **state)
{
    (void)state;
    tw_options o = parse_ok("http://a.example/", NULL), back;
    char *json = tw_options_to_json(&o);
    assert_non_null(strstr(json, "\"max-depth\":-1"));
    assert_non_null(strstr(json, "\"timeout\":30,"));
    char err[256];
    assert_int_equal(tw_options_from_json(json, &back, err, sizeof err), 0);
    assert_int_equal(back.max_depth, -1);
    free(json);
    tw_options_free(&back);
    tw_options_free(&o);
}

static void test_json_unknown_keys_are_skipped_and_bad_input_rejected(void **state)
{
    (void)state;
    tw_options o;
    char err[256];
    assert_int_equal(tw_options_from_json("{\"future\":1,\"rate\":4,\"also\":[\"x\"]}", &o, err, sizeof err), 0);
    assert_true(o.rate == 4.0);
    assert_int_equal(o.set, TW_OPT_RATE);
    tw_options_free(&o);
    const char *bad[] = {"", "{", "{\"rate\":}", "{\"rate\":\"abc\"}", "{\"rate\":1,}", "{\"rate\":1} x",
                         "{\"scope\":\"planet\"}", "{\"include\":[\"(\"]}", "{\"ignore-robots\":1}",
                         "{\"rate\":[1]}", "{\"include\":[\"a\" \"b\"]}", "{\"user-agent\":\"a\\u0000b\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (tw_options_from_json(bad[i], &o, err, sizeof err) != TW_OPTIONS_EUSAGE)
            fail_msg("accepted %s", bad[i]);
        tw_options_free(&o);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_are_the_contracts),
        cmocka_unit_test(test_every_option_sets_its_field_and_bit),
        cmocka_unit_test(test_equals_form_and_short_out_form),
        cmocka_unit_test(test_include_and_exclude_are_repeatable_in_order),
        cmocka_unit_test(test_other_options_given_twice_keep_the_last),
        cmocka_unit_test(test_rate_zero_means_no_limit_and_is_accepted),
        cmocka_unit_test(test_zero_is_accepted_where_the_contract_allows_it),
        cmocka_unit_test(test_seeds_are_normalized_and_kept_in_order),
        cmocka_unit_test(test_double_dash_ends_options),
        cmocka_unit_test(test_out_without_seeds_is_left_to_the_caller),
        cmocka_unit_test(test_invalid_seeds_are_usage_errors_naming_the_seed),
        cmocka_unit_test(test_unknown_options_are_named),
        cmocka_unit_test(test_missing_values_are_named),
        cmocka_unit_test(test_non_numbers_are_rejected_for_every_numeric_option),
        cmocka_unit_test(test_integers_must_be_whole),
        cmocka_unit_test(test_out_of_range_values_are_rejected),
        cmocka_unit_test(test_scope_must_be_host_domain_or_any),
        cmocka_unit_test(test_invalid_regexes_are_named_with_pcre2s_reason),
        cmocka_unit_test(test_empty_out_and_user_agent_with_newline_are_rejected),
        cmocka_unit_test(test_help_and_version_are_recognized),
        cmocka_unit_test(test_merge_overrides_only_options_given_again),
        cmocka_unit_test(test_json_round_trip_keeps_every_stored_option),
        cmocka_unit_test(test_json_of_defaults_restores_no_depth_limit),
        cmocka_unit_test(test_json_unknown_keys_are_skipped_and_bad_input_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
