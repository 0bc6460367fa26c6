/* test_robots.c - tests of robots.txt parsing and matching (RFC 9309), status rules and the cache. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robots.h"

/* Parses txt for product "FooBot" and asks about path. */
static bool allowed_for(const char *txt, const char *agent, const char *path)
{
    tw_robots *r = tw_robots_parse(txt, strlen(txt), agent);
    assert_non_null(r);
    bool ok = tw_robots_allowed(r, path);
    tw_robots_free(r);
    return ok;
}

static bool allowed(const char *txt, const char *path) { return allowed_for(txt, "FooBot", path); }

/* ---- RFC 9309 examples ---- */

static void test_rfc_fish_prefix(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /fish\n";
    assert_false(allowed(t, "/fish"));
    assert_false(allowed(t, "/fish.html"));
    assert_false(allowed(t, "/fish/salmon.html"));
    assert_false(allowed(t, "/fishheads"));
    assert_false(allowed(t, "/fishheads/yummy.html"));
    assert_false(allowed(t, "/fish.php?id=anything"));
    assert_true(allowed(t, "/Fish.asp"));
    assert_true(allowed(t, "/catfish"));
    assert_true(allowed(t, "/?id=fish"));
    assert_true(allowed(t, "/desert/fish"));
}

static void test_rfc_fish_trailing_star_is_same_as_prefix(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /fish*\n";
    assert_false(allowed(t, "/fish"));
    assert_false(allowed(t, "/fishheads/yummy.html"));
    assert_true(allowed(t, "/Fish.bar"));
    assert_true(allowed(t, "/catfish"));
}

static void test_rfc_fish_directory(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /fish/\n";
    assert_false(allowed(t, "/fish/"));
    assert_false(allowed(t, "/fish/?id=anything"));
    assert_false(allowed(t, "/fish/salmon.htm"));
    assert_true(allowed(t, "/fish"));
    assert_true(allowed(t, "/fish.html"));
    assert_true(allowed(t, "/animals/fish/"));
    assert_true(allowed(t, "/Fish/Salmon.asp"));
}

static void test_rfc_star_in_middle(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /*.php\n";
    assert_false(allowed(t, "/index.php"));
    assert_false(allowed(t, "/filename.php"));
    assert_false(allowed(t, "/folder/filename.php"));
    assert_false(allowed(t, "/folder/filename.php?parameters"));
    assert_false(allowed(t, "/folder/any.php.file.html"));
    assert_false(allowed(t, "/filename.php/"));
    assert_true(allowed(t, "/"));
    assert_true(allowed(t, "/windows.PHP"));
}

static void test_rfc_dollar_anchors_end(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /*.php$\n";
    assert_false(allowed(t, "/filename.php"));
    assert_false(allowed(t, "/folder/filename.php"));
    assert_true(allowed(t, "/filename.php?parameters"));
    assert_true(allowed(t, "/filename.php/"));
    assert_true(allowed(t, "/filename.php5"));
    assert_true(allowed(t, "/windows.PHP"));
}

static void test_rfc_star_then_literal(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /fish*.php\n";
    assert_false(allowed(t, "/fish.php"));
    assert_false(allowed(t, "/fishheads/catfish.php?parameters"));
    assert_true(allowed(t, "/Fish.PHP"));
}

static void test_rfc_dollar_only_anchors_at_end(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /a$b\n";
    assert_false(allowed(t, "/a$b"));
    assert_false(allowed(t, "/a$bc"));
    assert_true(allowed(t, "/a"));
}

static void test_rfc_section5_example_file(void **state)
{
    (void)state;
    /* The example robots.txt of RFC 9309 §5.1. */
    const char *t =
        "User-Agent: *\n"
        "Disallow: *.gif$\n"
        "Disallow: /example/\n"
        "Allow: /publications/\n"
        "\n"
        "User-Agent: foobot\n"
        "Disallow:/\n"
        "Allow:/example/page.html\n"
        "Allow:/example/allowed.gif\n"
        "\n"
        "User-Agent: barbot\n"
        "User-Agent: bazbot\n"
        "Disallow: /example/page.html\n"
        "\n"
        "User-Agent: quxbot\n"
        "\n"
        "EOF\n";
    assert_true(allowed_for(t, "foobot", "/example/page.html"));
    assert_true(allowed_for(t, "foobot", "/example/allowed.gif"));
    assert_false(allowed_for(t, "foobot", "/example/other.html"));
    assert_false(allowed_for(t, "foobot", "/"));
    assert_false(allowed_for(t, "barbot", "/example/page.html"));
    assert_true(allowed_for(t, "barbot", "/example/other.html"));
    assert_false(allowed_for(t, "bazbot", "/example/page.html"));
    assert_true(allowed_for(t, "quxbot", "/example/page.html"));
    assert_true(allowed_for(t, "quxbot", "/image.gif"));
    assert_false(allowed_for(t, "otherbot", "/image.gif"));
    assert_false(allowed_for(t, "otherbot", "/example/x"));
    assert_true(allowed_for(t, "otherbot", "/publications/x"));
}

static void test_longest_match_wins(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\nallow: /p\ndisallow: /\n";
    assert_true(allowed(t, "/page"));
    const char *t2 = "user-agent: FooBot\nallow: /folder\ndisallow: /folder/\n";
    assert_false(allowed(t2, "/folder/page"));
    const char *t3 = "user-agent: FooBot\ndisallow: /folder\nallow: /folder/\n";
    assert_true(allowed(t3, "/folder/page"));
    assert_false(allowed(t3, "/folderx"));
    const char *t4 = "user-agent: FooBot\nallow: /page\ndisallow: /*.html\n";
    assert_false(allowed(t4, "/page.html"));
    assert_true(allowed(t4, "/page.php"));
}

static void test_allow_wins_tie(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /page\nallow: /page\n";
    assert_true(allowed(t, "/page"));
    const char *t2 = "user-agent: FooBot\nallow: /page\ndisallow: /page\n";
    assert_true(allowed(t2, "/page"));
    const char *t3 = "user-agent: FooBot\nallow: /$\ndisallow: /\n";
    assert_true(allowed(t3, "/"));
    assert_false(allowed(t3, "/page.htm"));
}

static void test_empty_disallow_allows_everything(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow:\n";
    assert_true(allowed(t, "/"));
    assert_true(allowed(t, "/anything"));
    const char *t2 = "user-agent: FooBot\ndisallow: \nallow:\n";
    assert_true(allowed(t2, "/x"));
}

static void test_no_file_rules_allow_everything(void **state)
{
    (void)state;
    assert_true(allowed("", "/x"));
    assert_true(allowed("user-agent: OtherBot\ndisallow: /\n", "/x"));
}

static void test_robots_txt_always_allowed(void **state)
{
    (void)state;
    const char *t = "user-agent: *\ndisallow: /\n";
    assert_false(allowed(t, "/"));
    assert_true(allowed(t, "/robots.txt"));
    tw_robots *r = tw_robots_disallow_all();
    assert_true(tw_robots_allowed(r, "/robots.txt"));
    assert_false(tw_robots_allowed(r, "/robots.txt.bak"));
    assert_false(tw_robots_allowed(r, "/"));
    tw_robots_free(r);
}

static void test_empty_path_counts_as_root(void **state)
{
    (void)state;
    const char *t = "user-agent: *\ndisallow: /$\n";
    assert_false(allowed(t, ""));
    assert_true(allowed(t, "/a"));
}

/* ---- percent-encoding ---- */

static void test_query_with_url_stays_unencoded(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /\nallow: /foo/bar?qux=taz&baz=https://foo.bar?tar&par\n";
    assert_true(allowed(t, "/foo/bar?qux=taz&baz=https://foo.bar?tar&par"));
    const char *t2 = "user-agent: FooBot\ndisallow: /foo/bar?baz=https://foo.bar\n";
    assert_false(allowed(t2, "/foo/bar?baz=https://foo.bar"));
    assert_true(allowed(t2, "/foo/bar?baz=http://foo.bar"));
}

static void test_utf8_pattern_matches_encoded_and_raw_path(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /\nallow: /foo/bar/\xE3\x83\x84\n";
    assert_true(allowed(t, "/foo/bar/%E3%83%84"));
    assert_true(allowed(t, "/foo/bar/%e3%83%84"));
    assert_true(allowed(t, "/foo/bar/\xE3\x83\x84"));
    assert_false(allowed(t, "/foo/bar/%E3%83%85"));
}

static void test_encoded_pattern_matches_utf8_path(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /\nallow: /foo/bar/%E3%83%84\n";
    assert_true(allowed(t, "/foo/bar/%E3%83%84"));
    assert_true(allowed(t, "/foo/bar/\xE3\x83\x84"));
    const char *lower = "user-agent: FooBot\ndisallow: /\nallow: /foo/bar/%e3%83%84\n";
    assert_true(allowed(lower, "/foo/bar/%E3%83%84"));
}

static void test_encoded_unreserved_equals_plain(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /\nallow: /foo/bar/%62%61%7A\n";
    assert_true(allowed(t, "/foo/bar/baz"));
    assert_true(allowed(t, "/foo/bar/%62%61%7A"));
    const char *t2 = "user-agent: FooBot\ndisallow: /~user\n";
    assert_false(allowed(t2, "/%7Euser/x"));
}

static void test_encoded_lt_equals_raw_lt(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /a%3Cb\n";
    assert_false(allowed(t, "/a<b"));
    assert_false(allowed(t, "/a%3cb"));
    const char *t2 = "user-agent: FooBot\ndisallow: /a<b\n";
    assert_false(allowed(t2, "/a%3Cb"));
    const char *t3 = "user-agent: FooBot\ndisallow: /a b\n";
    assert_false(allowed(t3, "/a%20b"));
}

static void test_encoded_reserved_differs_from_plain(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /a%2Fb\n";
    assert_false(allowed(t, "/a%2fb"));
    assert_true(allowed(t, "/a/b"));
    const char *t2 = "user-agent: FooBot\ndisallow: /a%2Ab\n";
    assert_true(allowed(t2, "/a*b"));
    assert_true(allowed(t2, "/axb"));
}

static void test_bare_percent_is_literal(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ndisallow: /100%\n";
    assert_false(allowed(t, "/100%"));
    assert_false(allowed(t, "/100%25"));
    assert_true(allowed(t, "/100"));
}


/* ---- the matcher against a plain backtracking reference ---- */

static bool ref_unreserved(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_' || c == '~';
}

static int ref_hex(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes text into units as RFC 3986 equivalence sees them; '*' is -1 when wild. */
static size_t ref_units(const char *s, bool wild, int *out)
{
    size_t n = 0;
    for (size_t i = 0; s[i];) {
        int c = (unsigned char)s[i];
        if (wild && c == '*') {
            out[n++] = -1;
            i++;
        } else if (c == '%' && s[i + 1] && s[i + 2] && ref_hex(s[i + 1]) >= 0 && ref_hex(s[i + 2]) >= 0) {
            int v = ref_hex(s[i + 1]) * 16 + ref_hex(s[i + 2]);
            out[n++] = ref_unreserved(v) ? v : 256 + v;
            i += 3;
        } else {
            out[n++] = (ref_unreserved(c) || (c < 128 && strchr(":/?#[]@!$&'()*+,;=", c))) ? c : 256 + c;
            i++;
        }
    }
    return n;
}

static bool ref_glob(const int *p, size_t pn, bool anchored, const int *s, size_t sn)
{
    if (pn == 0) return !anchored || sn == 0;
    if (p[0] == -1) {
        for (size_t k = 0; k <= sn; k++)
            if (ref_glob(p + 1, pn - 1, anchored, s + k, sn - k)) return true;
        return false;
    }
    return sn > 0 && p[0] == s[0] && ref_glob(p + 1, pn - 1, anchored, s + 1, sn - 1);
}

static void test_matcher_agrees_with_reference_glob(void **state)
{
    (void)state;
    static const char *const ptoks[] = {"/", "a", "b", "*", "%61", "%2F", "%e3", "\xE3", "<", "%3c", "$", "ab", "F", "3"};
    static const char *const stoks[] = {"/", "a", "b", "%61", "%2F", "%E3", "\xE3", "<", "%3C", "*", "$", "%", "ab", "F"};
    uint32_t x = 2024;
    for (int iter = 0; iter < 20000; iter++) {
        char pat[128] = "/", path[128] = "/";
        int pl = 1 + (int)((x = x * 1103515245u + 12345u) >> 16) % 6;
        for (int i = 0; i < pl; i++) strcat(pat, ptoks[((x = x * 1103515245u + 12345u) >> 16) % 14]);
        int sl = (int)((x = x * 1103515245u + 12345u) >> 16) % 8;
        for (int i = 0; i < sl; i++) strcat(path, stoks[((x = x * 1103515245u + 12345u) >> 16) % 14]);

        size_t patlen = strlen(pat);
        bool anchored = pat[patlen - 1] == '$';
        if (anchored) pat[patlen - 1] = '\0';
        int pu[128], su[128];
        size_t pn = ref_units(pat, true, pu), sn = ref_units(path, false, su);
        bool want_match = ref_glob(pu, pn, anchored, su, sn);
        if (anchored) pat[patlen - 1] = '$';

        char txt[256];
        snprintf(txt, sizeof txt, "user-agent: *\ndisallow: %s\n", pat);
        bool got_allowed = allowed(txt, path);
        if (strcmp(path, "/robots.txt") != 0 && got_allowed == want_match)
            fail_msg("pattern \"%s\" path \"%s\": reference says %s", pat, path,
                     want_match ? "match" : "no match");
    }
}

/* ---- groups ---- */

static void test_agent_match_is_case_insensitive(void **state)
{
    (void)state;
    const char *t = "User-Agent: FOOBOT\nDisallow: /x\n";
    assert_false(allowed_for(t, "foobot", "/x"));
    assert_false(allowed_for(t, "FooBot", "/x"));
    assert_true(allowed_for(t, "foobotx", "/x"));
}

static void test_agent_line_product_token_only(void **state)
{
    (void)state;
    const char *t = "User-agent: FooBot/2.1\nDisallow: /x\n";
    assert_false(allowed(t, "/x"));
    const char *t2 = "User-agent: FooBot extra words\nDisallow: /y\n";
    assert_false(allowed(t2, "/y"));
}

static void test_full_user_agent_matches_by_product_token(void **state)
{
    (void)state;
    const char *t = "user-agent: *\ndisallow: /\n\nuser-agent: trawl\ndisallow: /private\n";
    assert_true(allowed_for(t, "trawl/0.1 (+https://example.com/bot)", "/public"));
    assert_false(allowed_for(t, "Trawl/0.1", "/private"));
    assert_false(allowed_for(t, "trawler/1.0", "/public"));
}

static void test_specific_group_beats_star(void **state)
{
    (void)state;
    const char *t = "user-agent: *\ndisallow: /\n\nuser-agent: FooBot\ndisallow: /private\n";
    assert_true(allowed(t, "/public"));
    assert_false(allowed(t, "/private"));
    assert_false(allowed_for(t, "BarBot", "/public"));
}

static void test_star_group_used_when_no_specific(void **state)
{
    (void)state;
    const char *t = "user-agent: BarBot\ndisallow: /\n\nuser-agent: *\ndisallow: /secret\n";
    assert_true(allowed(t, "/public"));
    assert_false(allowed(t, "/secret"));
}

static void test_specific_empty_group_allows_all(void **state)
{
    (void)state;
    const char *t = "user-agent: *\ndisallow: /\n\nuser-agent: FooBot\n";
    assert_true(allowed(t, "/a"));
    const char *t2 = "user-agent: *\ndisallow: /\n\nuser-agent: FooBot\nallow:\n";
    assert_true(allowed(t2, "/a"));
}

static void test_blank_line_does_not_split_agent_lines(void **state)
{
    (void)state;
    /* As in Google's parser, only a rule ends a run of user-agent lines. */
    const char *t = "user-agent: *\ndisallow: /\n\nuser-agent: FooBot\n\nuser-agent: BarBot\ndisallow: /b\n";
    assert_false(allowed(t, "/b"));
    assert_true(allowed(t, "/a"));
}

static void test_groups_for_same_agent_are_merged(void **state)
{
    (void)state;
    const char *t =
        "user-agent: FooBot\ndisallow: /a\n\n"
        "user-agent: BarBot\ndisallow: /b\n\n"
        "user-agent: foobot\ndisallow: /c\nallow: /a/ok\n";
    assert_false(allowed(t, "/a"));
    assert_true(allowed(t, "/b"));
    assert_false(allowed(t, "/c"));
    assert_true(allowed(t, "/a/ok"));
}

static void test_star_groups_are_merged(void **state)
{
    (void)state;
    const char *t = "user-agent: *\ndisallow: /a\nuser-agent: *\ndisallow: /b\n";
    assert_false(allowed(t, "/a"));
    assert_false(allowed(t, "/b"));
}

static void test_consecutive_agents_share_group(void **state)
{
    (void)state;
    const char *t = "user-agent: BarBot\nuser-agent: FooBot\nuser-agent: BazBot\ndisallow: /x\n";
    assert_false(allowed(t, "/x"));
    assert_false(allowed_for(t, "BazBot", "/x"));
    assert_true(allowed_for(t, "QuxBot", "/x"));
}

static void test_rules_before_agent_ignored(void **state)
{
    (void)state;
    const char *t = "disallow: /x\nuser-agent: FooBot\ndisallow: /y\n";
    assert_true(allowed(t, "/x"));
    assert_false(allowed(t, "/y"));
}

static void test_sitemap_does_not_end_group(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\nsitemap: https://e.com/s.xml\nuser-agent: BarBot\ndisallow: /x\n";
    assert_false(allowed(t, "/x"));
}

static void test_product_token_of_user_agent(void **state)
{
    (void)state;
    char *p = tw_user_agent_product("trawl/0.1 (+https://example.com/bot)");
    assert_string_equal(p, "trawl");
    free(p);
    p = tw_user_agent_product("Mozilla compatible");
    assert_string_equal(p, "Mozilla");
    free(p);
    p = tw_user_agent_product("plain");
    assert_string_equal(p, "plain");
    free(p);
}

/* ---- odd files ---- */

static void test_bom_crlf_and_cr_lines(void **state)
{
    (void)state;
    const char *bom = "\xEF\xBB\xBFuser-agent: FooBot\r\ndisallow: /a\r\n";
    assert_false(allowed(bom, "/a"));
    const char *cr = "user-agent: FooBot\rdisallow: /b\rallow: /b/c\r";
    assert_false(allowed(cr, "/b"));
    assert_true(allowed(cr, "/b/c"));
}

static void test_odd_spacing_case_and_comments(void **state)
{
    (void)state;
    const char *t =
        "# comment line\n"
        "  USER-AGENT   :   FooBot   # trailing comment\n"
        "DisAllow : /x   # why\n"
        "\tALLOW:/x/ok\n"
        "disallow /y\n"
        "nonsense line without colon here\n"
        "foo: bar\n"
        "disallow: /z#not-part\n";
    assert_false(allowed(t, "/x"));
    assert_true(allowed(t, "/x/ok"));
    assert_false(allowed(t, "/y"));
    assert_false(allowed(t, "/z"));
    assert_true(allowed(t, "/w"));
}

static void test_common_typos_accepted(void **state)
{
    (void)state;
    const char *t = "useragent: FooBot\ndissallow: /a\ndisalow: /b\n";
    assert_false(allowed(t, "/a"));
    assert_false(allowed(t, "/b"));
}

static void test_html_served_as_robots_allows(void **state)
{
    (void)state;
    const char *t = "<!DOCTYPE html>\n<html><head><title>Not found</title></head>\n"
                    "<body><p>Disallow: everything? no.</p></body></html>\n";
    assert_true(allowed(t, "/"));
    assert_true(allowed(t, "/everything"));
}

static void test_binary_garbage_does_not_crash(void **state)
{
    (void)state;
    unsigned char junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (unsigned char)(x >> 16);
    }
    tw_robots *r = tw_robots_parse((const char *)junk, sizeof junk, "FooBot");
    assert_non_null(r);
    (void)tw_robots_allowed(r, "/x");
    tw_robots_allowed_n(r, (const char *)junk, sizeof junk);
    tw_robots_free(r);
}

static void test_nul_bytes_inside_file(void **state)
{
    (void)state;
    const char t[] = "user-agent: FooBot\ndisallow: /a\0b\ndisallow: /c\n";
    tw_robots *r = tw_robots_parse(t, sizeof t - 1, "FooBot");
    assert_non_null(r);
    assert_false(tw_robots_allowed(r, "/c"));
    tw_robots_free(r);
}

static void test_very_long_line(void **state)
{
    (void)state;
    size_t n = 200000;
    char *t = malloc(n + 64);
    assert_non_null(t);
    int k = sprintf(t, "user-agent: FooBot\ndisallow: /");
    memset(t + k, 'a', n);
    strcpy(t + k + n, "\ndisallow: /b\n");
    tw_robots *r = tw_robots_parse(t, strlen(t), "FooBot");
    assert_non_null(r);
    assert_false(tw_robots_allowed(r, "/b"));
    assert_true(tw_robots_allowed(r, "/aaa"));
    tw_robots_free(r);
    free(t);
}

static void test_long_unnormalized_path_matched(void **state)
{
    (void)state;
    /* Long enough that canonicalizing it cannot use the matcher's stack buffer. */
    size_t reps = 400;
    char *path = malloc(reps * 3 + 16);
    assert_non_null(path);
    strcpy(path, "/x/");
    for (size_t i = 0; i < reps; i++) strcat(path, "\xE3\x83\x84");
    strcat(path, "<end>");
    const char *t = "user-agent: FooBot\ndisallow: /x/%E3%83%84*%3Cend%3E$\n";
    assert_false(allowed(t, path));
    path[strlen(path) - 1] = '!';
    assert_true(allowed(t, path));
    free(path);
}

static void test_rule_past_500kib_ignored(void **state)
{
    (void)state;
    size_t fill = TW_ROBOTS_MAX_BYTES + 100;
    char *t = malloc(fill + 128);
    assert_non_null(t);
    int k = sprintf(t, "user-agent: FooBot\ndisallow: /early\n");
    memset(t + k, '#', fill - (size_t)k);
    t[fill - 1] = '\n';
    strcpy(t + fill, "disallow: /late\n");
    tw_robots *r = tw_robots_parse(t, strlen(t), "FooBot");
    assert_non_null(r);
    assert_false(tw_robots_allowed(r, "/early"));
    assert_true(tw_robots_allowed(r, "/late"));
    tw_robots_free(r);

    /* The same rule inside the limit is obeyed. */
    const char *small = "user-agent: FooBot\ndisallow: /early\ndisallow: /late\n";
    assert_false(allowed(small, "/late"));
    free(t);
}

/* ---- crawl-delay and sitemaps ---- */

static void test_crawl_delay_of_matched_group(void **state)
{
    (void)state;
    const char *t = "user-agent: *\ncrawl-delay: 10\n\nuser-agent: FooBot\ncrawl-delay: 2.5\ndisallow: /x\n";
    tw_robots *r = tw_robots_parse(t, strlen(t), "FooBot");
    assert_true(tw_robots_crawl_delay(r) == 2.5);
    tw_robots_free(r);
    r = tw_robots_parse(t, strlen(t), "OtherBot");
    assert_true(tw_robots_crawl_delay(r) == 10.0);
    tw_robots_free(r);
}

static void test_crawl_delay_absent_or_invalid(void **state)
{
    (void)state;
    const char *t = "user-agent: FooBot\ncrawl-delay: soon\ncrawl-delay: -3\n";
    tw_robots *r = tw_robots_parse(t, strlen(t), "FooBot");
    assert_true(tw_robots_crawl_delay(r) < 0);
    tw_robots_free(r);
    r = tw_robots_allow_all();
    assert_true(tw_robots_crawl_delay(r) < 0);
    tw_robots_free(r);
}

static void test_sitemaps_collected(void **state)
{
    (void)state;
    const char *t = "Sitemap: https://e.com/a.xml\nuser-agent: x\nsitemap: https://e.com/b.xml?q=1#f\n";
    tw_robots *r = tw_robots_parse(t, strlen(t), "FooBot");
    assert_int_equal(tw_robots_sitemap_count(r), 2);
    assert_string_equal(tw_robots_sitemap(r, 0), "https://e.com/a.xml");
    assert_string_equal(tw_robots_sitemap(r, 1), "https://e.com/b.xml?q=1");
    assert_null(tw_robots_sitemap(r, 2));
    tw_robots_free(r);
}

/* ---- fetch status rules ---- */

static void test_status_2xx_parses_body(void **state)
{
    (void)state;
    const char *t = "user-agent: *\ndisallow: /x\n";
    tw_robots *r = tw_robots_from_status(200, t, strlen(t), "FooBot");
    assert_int_equal(tw_robots_get_state(r), TW_ROBOTS_PARSED);
    assert_false(tw_robots_allowed(r, "/x"));
    assert_true(tw_robots_allowed(r, "/y"));
    tw_robots_free(r);
}

static void test_status_404_allows_all(void **state)
{
    (void)state;
    const char *t = "user-agent: *\ndisallow: /\n";
    int codes[] = {400, 401, 403, 404, 410, 451};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        tw_robots *r = tw_robots_from_status(codes[i], t, strlen(t), "FooBot");
        assert_int_equal(tw_robots_get_state(r), TW_ROBOTS_ALLOW_ALL);
        assert_true(tw_robots_allowed(r, "/anything"));
        tw_robots_free(r);
    }
}

static void test_status_503_disallows_all(void **state)
{
    (void)state;
    int codes[] = {500, 502, 503, 504, 429};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        tw_robots *r = tw_robots_from_status(codes[i], NULL, 0, "FooBot");
        assert_int_equal(tw_robots_get_state(r), TW_ROBOTS_UNREACHABLE);
        assert_false(tw_robots_allowed(r, "/"));
        assert_false(tw_robots_allowed(r, "/anything"));
        assert_true(tw_robots_allowed(r, "/robots.txt"));
        tw_robots_free(r);
    }
}

static void test_unreachable_disallows_all(void **state)
{
    (void)state;
    tw_robots *r = tw_robots_from_status(0, NULL, 0, "FooBot");
    assert_int_equal(tw_robots_get_state(r), TW_ROBOTS_UNREACHABLE);
    assert_false(tw_robots_allowed(r, "/"));
    tw_robots_free(r);
    r = tw_robots_from_status(-1, NULL, 0, "FooBot");
    assert_int_equal(tw_robots_get_state(r), TW_ROBOTS_UNREACHABLE);
    tw_robots_free(r);
}

static void test_status_3xx_after_redirects_allows_all(void **state)
{
    (void)state;
    tw_robots *r = tw_robots_from_status(301, NULL, 0, "FooBot");
    assert_int_equal(tw_robots_get_state(r), TW_ROBOTS_ALLOW_ALL);
    assert_true(tw_robots_allowed(r, "/x"));
    tw_robots_free(r);
}

/* ---- cache ---- */

static void test_cache_get_and_expiry(void **state)
{
    (void)state;
    tw_robots_cache *c = tw_robots_cache_new(0, 0);
    assert_non_null(c);
    time_t t0 = 1700000000;
    const char *txt = "user-agent: *\ndisallow: /x\n";
    assert_int_equal(tw_robots_cache_put(c, "example.com:443", tw_robots_parse(txt, strlen(txt), "a"), t0), 0);
    const tw_robots *r = tw_robots_cache_get(c, "example.com:443", t0 + 10);
    assert_non_null(r);
    assert_false(tw_robots_allowed(r, "/x"));
    assert_non_null(tw_robots_cache_get(c, "EXAMPLE.com:443", t0 + TW_ROBOTS_TTL_SECONDS - 1));
    assert_null(tw_robots_cache_get(c, "example.com:443", t0 + TW_ROBOTS_TTL_SECONDS));
    assert_null(tw_robots_cache_get(c, "example.com:80", t0));

    tw_robots_entry e;
    assert_true(tw_robots_cache_lookup(c, "example.com:443", &e));
    assert_int_equal(e.fetched_at, t0);
    assert_int_equal(e.expires_at, t0 + TW_ROBOTS_TTL_SECONDS);

    assert_int_equal(tw_robots_cache_prune(c, t0 + TW_ROBOTS_TTL_SECONDS), 1);
    assert_int_equal(tw_robots_cache_size(c), 0);
    assert_false(tw_robots_cache_lookup(c, "example.com:443", &e));
    tw_robots_cache_free(c);
}

static void test_cache_unreachable_expires_sooner(void **state)
{
    (void)state;
    tw_robots_cache *c = tw_robots_cache_new(100, 10);
    time_t t0 = 1000;
    assert_int_equal(tw_robots_cache_put(c, "a:80", tw_robots_from_status(503, NULL, 0, "x"), t0), 0);
    assert_int_equal(tw_robots_cache_put(c, "b:80", tw_robots_from_status(404, NULL, 0, "x"), t0), 0);
    assert_non_null(tw_robots_cache_get(c, "a:80", t0 + 9));
    assert_null(tw_robots_cache_get(c, "a:80", t0 + 10));
    assert_non_null(tw_robots_cache_get(c, "b:80", t0 + 99));
    assert_null(tw_robots_cache_get(c, "b:80", t0 + 100));
    tw_robots_cache_free(c);
}

static void test_cache_replace_and_many_hosts(void **state)
{
    (void)state;
    tw_robots_cache *c = tw_robots_cache_new(0, 0);
    char host[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(host, sizeof host, "host%d.example:%d", i, 80 + i % 3);
        assert_int_equal(tw_robots_cache_put(c, host, tw_robots_allow_all(), i), 0);
    }
    assert_int_equal(tw_robots_cache_size(c), 1000);
    assert_int_equal(tw_robots_cache_put(c, "host5.example:82", tw_robots_disallow_all(), 5000), 0);
    assert_int_equal(tw_robots_cache_size(c), 1000);
    assert_false(tw_robots_allowed(tw_robots_cache_get(c, "host5.example:82", 5001), "/"));
    /* Entries fetched at 0..499 expire first; the rest must all still be found after the prune. */
    assert_int_equal(tw_robots_cache_prune(c, 499 + TW_ROBOTS_TTL_SECONDS), 499);
    for (int i = 500; i < 1000; i++) {
        snprintf(host, sizeof host, "host%d.example:%d", i, 80 + i % 3);
        assert_non_null(tw_robots_cache_get(c, host, i));
    }
    assert_non_null(tw_robots_cache_get(c, "host5.example:82", 5001));
    tw_robots_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc_fish_prefix),
        cmocka_unit_test(test_rfc_fish_trailing_star_is_same_as_prefix),
        cmocka_unit_test(test_rfc_fish_directory),
        cmocka_unit_test(test_rfc_star_in_middle),
        cmocka_unit_test(test_rfc_dollar_anchors_end),
        cmocka_unit_test(test_rfc_star_then_literal),
        cmocka_unit_test(test_rfc_dollar_only_anchors_at_end),
        cmocka_unit_test(test_rfc_section5_example_file),
        cmocka_unit_test(test_longest_match_wins),
        cmocka_unit_test(test_allow_wins_tie),
        cmocka_unit_test(test_empty_disallow_allows_everything),
        cmocka_unit_test(test_no_file_rules_allow_everything),
        cmocka_unit_test(test_robots_txt_always_allowed),
        cmocka_unit_test(test_empty_path_counts_as_root),
        cmocka_unit_test(test_query_with_url_stays_unencoded),
        cmocka_unit_test(test_utf8_pattern_matches_encoded_and_raw_path),
        cmocka_unit_test(test_encoded_pattern_matches_utf8_path),
        cmocka_unit_test(test_encoded_unreserved_equals_plain),
        cmocka_unit_test(test_encoded_lt_equals_raw_lt),
        cmocka_unit_test(test_encoded_reserved_differs_from_plain),
        cmocka_unit_test(test_bare_percent_is_literal),
        cmocka_unit_test(test_matcher_agrees_with_reference_glob),
        cmocka_unit_test(test_agent_match_is_case_insensitive),
        cmocka_unit_test(test_agent_line_product_token_only),
        cmocka_unit_test(test_full_user_agent_matches_by_product_token),
        cmocka_unit_test(test_specific_group_beats_star),
        cmocka_unit_test(test_star_group_used_when_no_specific),
        cmocka_unit_test(test_specific_empty_group_allows_all),
        cmocka_unit_test(test_blank_line_does_not_split_agent_lines),
        cmocka_unit_test(test_groups_for_same_agent_are_merged),
        cmocka_unit_test(test_star_groups_are_merged),
        cmocka_unit_test(test_consecutive_agents_share_group),
        cmocka_unit_test(test_rules_before_agent_ignored),
        cmocka_unit_test(test_sitemap_does_not_end_group),
        cmocka_unit_test(test_product_token_of_user_agent),
        cmocka_unit_test(test_bom_crlf_and_cr_lines),
        cmocka_unit_test(test_odd_spacing_case_and_comments),
        cmocka_unit_test(test_common_typos_accepted),
        cmocka_unit_test(test_html_served_as_robots_allows),
        cmocka_unit_test(test_binary_garbage_does_not_crash),
        cmocka_unit_test(test_nul_bytes_inside_file),
        cmocka_unit_test(test_very_long_line),
        cmocka_unit_test(test_long_unnormalized_path_matched),
        cmocka_unit_test(test_rule_past_500kib_ignored),
        cmocka_unit_test(test_crawl_delay_of_matched_group),
        cmocka_unit_test(test_crawl_delay_absent_or_invalid),
        cmocka_unit_test(test_sitemaps_collected),
        cmocka_unit_test(test_status_2xx_parses_body),
        cmocka_unit_test(test_status_404_allows_all),
        cmocka_unit_test(test_status_503_disallows_all),
        cmocka_unit_test(test_unreachable_disallows_all),
        cmocka_unit_test(test_status_3xx_after_redirects_allows_all),
        cmocka_unit_test(test_cache_get_and_expiry),
        cmocka_unit_test(test_cache_unreachable_expires_sooner),
        cmocka_unit_test(test_cache_replace_and_many_hosts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
