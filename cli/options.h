/* options.h - the `trawl crawl` command line: parsing, validation, merging on resume, storage as JSON. */
#ifndef TW_OPTIONS_H
#define TW_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "scope.h"
#include "version.h"

#define TW_DEFAULT_USER_AGENT "trawl/" TW_VERSION

/* One bit per option, in tw_options.set: which options a command line (or a stored
 * crawl) gave explicitly. */
enum tw_option_bit {
    TW_OPT_OUT = 1u << 0,
    TW_OPT_MAX_PAGES = 1u << 1,
    TW_OPT_MAX_DEPTH = 1u << 2,
    TW_OPT_SCOPE = 1u << 3,
    TW_OPT_INCLUDE = 1u << 4,
    TW_OPT_EXCLUDE = 1u << 5,
    TW_OPT_CONCURRENCY = 1u << 6,
    TW_OPT_PER_HOST = 1u << 7,
    TW_OPT_RATE = 1u << 8,
    TW_OPT_RETRIES = 1u << 9,
    TW_OPT_TIMEOUT = 1u << 10,
    TW_OPT_MAX_BYTES = 1u << 11,
    TW_OPT_USER_AGENT = 1u << 12,
    TW_OPT_IGNORE_ROBOTS = 1u << 13,
    TW_OPT_QUIET = 1u << 14,
    TW_OPT_NO_WARC = 1u << 15,
};

/* The options of a crawl. Every pointer is owned by the struct (tw_options_free). */
typedef struct tw_options {
    unsigned set;          /* TW_OPT_* bits of the options given explicitly */
    char *out;             /* -o/--out: crawl directory ("./crawl") */
    long long max_pages;   /* 0 = no limit */
    long long max_depth;   /* -1 = no limit */
    tw_scope_mode scope;   /* TW_SCOPE_HOST */
    char **include;        /* PCRE2 patterns, n_include of them (each one compiles) */
    size_t n_include;
    char **exclude;
    size_t n_exclude;
    int concurrency;       /* 64 */
    int per_host;          /* 2 */
    double rate;           /* starts per second per host (2); 0 = no limit */
    int retries;           /* 3 */
    double timeout;        /* seconds (30) */
    long long max_bytes;   /* 10485760 */
    char *user_agent;      /* "trawl/<version>" */
    bool ignore_robots;
    bool no_warc;          /* --no-warc: write no WARC files (an extension of the contract) */
    bool quiet;
    char **seeds;          /* normalized seed URLs, in command-line order */
    size_t n_seeds;        /* 0: resume the crawl in `out` (the caller checks there is one) */
} tw_options;

/* What tw_options_parse() found. */
#define TW_OPTIONS_RUN 0       /* crawl with *o */
#define TW_OPTIONS_HELP 1      /* --help / -h: print tw_options_usage(), exit 0 */
#define TW_OPTIONS_VERSION 2   /* --version: print the version, exit 0 */
#define TW_OPTIONS_EUSAGE (-1) /* a usage error: print err, exit 2 */
#define TW_OPTIONS_ENOMEM (-2) /* out of memory */

/* Sets *o to the defaults (set = 0, no seeds). Allocates out and user_agent.
 * Returns 0, or TW_OPTIONS_ENOMEM (then *o needs no freeing). */
int tw_options_init(tw_options *o);

/* Frees what *o owns and zeroes it. */
void tw_options_free(tw_options *o);

/*
 * Parses the arguments of `trawl crawl`: argv[0] is the subcommand ("crawl") and is
 * skipped; options and seeds may come in any order; "--" ends the options. Options
 * take their value as --opt=value, --opt value, or for -o also -oDIR and -o DIR.
 * Values are checked as the contract says (numbers in range, --scope host|domain|any,
 * patterns that compile with PCRE2, non-empty --out and --user-agent) and seeds are
 * normalized with tw_url_normalize (http and https only). --include and --exclude
 * add a pattern each time; any other option given twice keeps its last value.
 * Fills *o (which it initializes itself: do not call tw_options_init first) and
 * returns TW_OPTIONS_RUN, _HELP or _VERSION; on TW_OPTIONS_EUSAGE / _ENOMEM writes a
 * one-line message naming the culprit to err (n bytes, e.g. `trawl: --rate: "abc"
 * is not a number`). *o must be freed with tw_options_free whatever the result.
 */
int tw_options_parse(int argc, char *const argv[], tw_options *o, char *err, size_t n);

/* The usage text for --help (static, ends with a newline). */
const char *tw_options_usage(void);

/*
 * Resume: fills *out with the stored options, each option set in given->set replaced
 * by given's value (--include/--exclude replace the stored lists as a whole), and
 * given's out, quiet and seeds. out->set is the union of both sets. Everything is
 * copied: *out owns its strings. Returns 0, or TW_OPTIONS_ENOMEM (*out then needs no
 * freeing).
 */
int tw_options_merge(tw_options *out, const tw_options *stored, const tw_options *given);

/*
 * Serializes the options stored with a crawl as one JSON object: every crawl policy
 * option by its long name ("max-pages", "max-depth" (-1 = none), "scope", "include",
 * "exclude", "concurrency", "per-host", "rate", "retries", "timeout", "max-bytes",
 * "user-agent", "ignore-robots", "no-warc"). Not stored: out (it is where the crawl lives),
 * quiet (a property of one run) and seeds (they live in the frontier). Returns a new
 * NUL-terminated string that the caller frees, or NULL when out of memory.
 */
char *tw_options_to_json(const tw_options *o);

/*
 * Parses what tw_options_to_json wrote into *o: defaults first, then each key found
 * (its bit set in o->set); unknown keys are skipped, so newer versions may add some.
 * Values are validated as on the command line. Returns 0, TW_OPTIONS_EUSAGE with a
 * message in err (n bytes) for malformed JSON or a bad value, or TW_OPTIONS_ENOMEM.
 * *o must be freed with tw_options_free whatever the result.
 */
int tw_options_from_json(const char *json, tw_options *o, char *err, size_t n);

#endif
