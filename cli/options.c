/* options.c - the `trawl crawl` command line: parsing, validation, merging on resume, storage as JSON. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "pages.h"
#include "url.h"

enum arg_kind { FLAG, VALUE };

/* An option of the table; `bit` 0 marks --help and --version. */
typedef struct optdef {
    const char *name;
    char short_name;
    enum arg_kind arg;
    unsigned bit;
} optdef;

static const optdef OPTIONS[] = {
    {"out", 'o', VALUE, TW_OPT_OUT},
    {"max-pages", 0, VALUE, TW_OPT_MAX_PAGES},
    {"max-depth", 0, VALUE, TW_OPT_MAX_DEPTH},
    {"scope", 0, VALUE, TW_OPT_SCOPE},
    {"include", 0, VALUE, TW_OPT_INCLUDE},
    {"exclude", 0, VALUE, TW_OPT_EXCLUDE},
    {"concurrency", 0, VALUE, TW_OPT_CONCURRENCY},
    {"per-host", 0, VALUE, TW_OPT_PER_HOST},
    {"rate", 0, VALUE, TW_OPT_RATE},
    {"retries", 0, VALUE, TW_OPT_RETRIES},
    {"timeout", 0, VALUE, TW_OPT_TIMEOUT},
    {"max-bytes", 0, VALUE, TW_OPT_MAX_BYTES},
    {"user-agent", 0, VALUE, TW_OPT_USER_AGENT},
    {"ignore-robots", 0, FLAG, TW_OPT_IGNORE_ROBOTS},
    {"no-warc", 0, FLAG, TW_OPT_NO_WARC},
    {"quiet", 0, FLAG, TW_OPT_QUIET},
    {"help", 'h', FLAG, 0},
    {"version", 0, FLAG, 0},
};
#define N_OPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

static const char USAGE[] =
    "usage: trawl crawl [OPTIONS] SEED_URL...\n"
    "       trawl crawl --out DIR            resume the unfinished crawl stored in DIR\n"
    "\n"
    "  -o, --out DIR            crawl directory, created if missing (./crawl)\n"
    "      --max-pages N        stop once N URLs have ended; 0 = no limit (0)\n"
    "      --max-depth N        follow links at most N hops from a seed (no limit)\n"
    "      --scope host|domain|any  which links are followed (host)\n"
    "      --include REGEX      follow only links matching some include (repeatable)\n"
    "      --exclude REGEX      never follow links matching an exclude (repeatable)\n"
    "      --concurrency N      most requests in flight in total (64)\n"
    "      --per-host N         most requests in flight to one host (2)\n"
    "      --rate R             request starts per second to one host; 0 = no limit (2)\n"
    "      --retries N          further attempts after a transient failure (3)\n"
    "      --timeout SECONDS    limit on one request (30)\n"
    "      --max-bytes N        largest body kept (10485760)\n"
    "      --user-agent STRING  User-Agent header (" TW_DEFAULT_USER_AGENT ")\n"
    "      --ignore-robots      do not fetch or obey robots.txt\n"
    "      --no-warc            write no WARC files (pages.jsonl and the state only)\n"
    "      --quiet              no progress output\n"
    "  -h, --help               this text\n"
    "      --version            the version\n"
    "\n"
    "Exit status: 0 finished, 1 fatal error, 2 usage error, 130 interrupted (resumable).\n";

const char *tw_options_usage(void) { return USAGE; }

static int usage_fail(char *err, size_t n, int rc, const char *fmt, ...)
{
    if (n) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, n, fmt, ap);
        va_end(ap);
    }
    return rc;
}

#define OOM(err, n) usage_fail(err, n, TW_OPTIONS_ENOMEM, "trawl: out of memory")

int tw_options_init(tw_options *o)
{
    memset(o, 0, sizeof *o);
    o->max_depth = -1;
    o->scope = TW_SCOPE_HOST;
    o->concurrency = 64;
    o->per_host = 2;
    o->rate = 2;
    o->retries = 3;
    o->timeout = 30;
    o->max_bytes = 10485760;
    o->out = strdup("./crawl");
    o->user_agent = strdup(TW_DEFAULT_USER_AGENT);
    if (!o->out || !o->user_agent) {
        tw_options_free(o);
        return TW_OPTIONS_ENOMEM;
    }
    return 0;
}

static void free_list(char **list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(list[i]);
    free(list);
}

void tw_options_free(tw_options *o)
{
    free(o->out);
    free(o->user_agent);
    free_list(o->include, o->n_include);
    free_list(o->exclude, o->n_exclude);
    free_list(o->seeds, o->n_seeds);
    memset(o, 0, sizeof *o);
}

/* Appends a copy of s (or s itself when owned) to a list. -1 when out of memory. */
static int list_add(char ***list, size_t *count, const char *s)
{
    char *copy = strdup(s);
    char **l = copy ? realloc(*list, (*count + 1) * sizeof *l) : NULL;
    if (!l) {
        free(copy);
        return -1;
    }
    l[(*count)++] = copy;
    *list = l;
    return 0;
}

static int replace_string(char **dst, const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        return -1;
    free(*dst);
    *dst = copy;
    return 0;
}

/* ---- values ---- */

/* An integer in [min, max], written in decimal with an optional leading '-'. */
static int parse_int(const optdef *d, const char *v, long long min, long long max, long long *out,
                     char *err, size_t n)
{
    const char *p = v + (*v == '-' || *v == '+');
    if (*p < '0' || *p > '9' || strspn(p, "0123456789") != strlen(p)) {
        char *end;
        errno = 0;
        double x = strtod(v, &end);
        if (*v && !*end && v[strspn(v, "+-0123456789.eE")] == '\0' && errno == 0 && isfinite(x))
            return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: --%s: \"%s\" is not a whole number", d->name, v);
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: --%s: \"%s\" is not a number", d->name, v);
    }
    errno = 0;
    long long x = strtoll(v, NULL, 10);
    if (errno == ERANGE || x > max)
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: --%s: \"%s\" is too large (at most %lld)", d->name, v, max);
    if (x < min)
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: --%s: \"%s\" must be at least %lld", d->name, v, min);
    *out = x;
    return 0;
}

/* A finite real number, at least min (or more than min when `strict`). */
static int parse_real(const optdef *d, const char *v, double min, bool strict, double *out, char *err, size_t n)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    /* strtod accepts leading spaces, "inf", "nan" and hex floats: only plain decimals pass. */
    if (!*v || *end || v[strspn(v, "+-0123456789.eE")] != '\0' || !isfinite(x) || errno == ERANGE)
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: --%s: \"%s\" is not a number", d->name, v);
    if (strict ? !(x > min) : !(x >= min))
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: --%s: \"%s\" must be %s %g", d->name, v,
                    strict ? "more than" : "at least", min);
    *out = x;
    return 0;
}

static int add_pattern(const optdef *d, const char *v, char ***list, size_t *count, char *err, size_t n)
{
    char why[256];
    if (tw_scope_check_regex(v, why, sizeof why) < 0)
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: --%s: \"%s\" is not a valid regex: %s", d->name, v, why);
    return list_add(list, count, v) < 0 ? OOM(err, n) : 0;
}

static int check_text(const optdef *d, const char *v, char *err, size_t n)
{
    if (!*v)
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: --%s: must not be empty", d->name);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f) /* a header value or a path: no CR/LF injection */
            return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: --%s: \"%s\" contains a control character",
                        d->name, v);
    return 0;
}

/* Applies one option with its value (NULL for flags, or "true"/"false" from JSON). */
static int apply(tw_options *o, const optdef *d, const char *v, char *err, size_t n)
{
    long long x;
    int rc = 0;
    switch (d->bit) {
    case TW_OPT_OUT:
        if ((rc = check_text(d, v, err, n)) == 0 && replace_string(&o->out, v) < 0)
            rc = OOM(err, n);
        break;
    case TW_OPT_USER_AGENT:
        if ((rc = check_text(d, v, err, n)) == 0 && replace_string(&o->user_agent, v) < 0)
            rc = OOM(err, n);
        break;
    case TW_OPT_MAX_PAGES: rc = parse_int(d, v, 0, LLONG_MAX, &o->max_pages, err, n); break;
    case TW_OPT_MAX_DEPTH:
        rc = parse_int(d, v, 0, INT_MAX, &o->max_depth, err, n);
        break;
    case TW_OPT_MAX_BYTES: rc = parse_int(d, v, 1, LLONG_MAX, &o->max_bytes, err, n); break;
    case TW_OPT_CONCURRENCY:
        if ((rc = parse_int(d, v, 1, INT_MAX, &x, err, n)) == 0)
            o->concurrency = (int)x;
        break;
    case TW_OPT_PER_HOST:
        if ((rc = parse_int(d, v, 1, INT_MAX, &x, err, n)) == 0)
            o->per_host = (int)x;
        break;
    case TW_OPT_RETRIES:
        if ((rc = parse_int(d, v, 0, INT_MAX, &x, err, n)) == 0)
            o->retries = (int)x;
        break;
    case TW_OPT_RATE: rc = parse_real(d, v, 0, false, &o->rate, err, n); break;
    case TW_OPT_TIMEOUT: rc = parse_real(d, v, 0, true, &o->timeout, err, n); break;
    case TW_OPT_SCOPE:
        if (tw_scope_mode_parse(v, &o->scope) < 0)
            rc = usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: --scope: \"%s\" is not host, domain or any", v);
        break;
    case TW_OPT_INCLUDE: rc = add_pattern(d, v, &o->include, &o->n_include, err, n); break;
    case TW_OPT_EXCLUDE: rc = add_pattern(d, v, &o->exclude, &o->n_exclude, err, n); break;
    case TW_OPT_IGNORE_ROBOTS: o->ignore_robots = !v || strcmp(v, "true") == 0; break;
    case TW_OPT_NO_WARC: o->no_warc = !v || strcmp(v, "true") == 0; break;
    case TW_OPT_QUIET: o->quiet = !v || strcmp(v, "true") == 0; break;
    }
    if (rc == 0)
        o->set |= d->bit;
    return rc;
}

/* ---- the command line ---- */

static const optdef *find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strlen(OPTIONS[i].name) == len && memcmp(OPTIONS[i].name, name, len) == 0)
            return &OPTIONS[i];
    return NULL;
}

static const optdef *find_short(char c)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (OPTIONS[i].short_name == c)
            return &OPTIONS[i];
    return NULL;
}

static int add_seed(tw_options *o, const char *arg, char *err, size_t n)
{
    char *url = NULL;
    int rc = tw_url_normalize(arg, NULL, &url);
    if (rc == TW_URL_ENOMEM)
        return OOM(err, n);
    if (rc != 0)
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: invalid seed URL \"%s\": %s", arg,
                    rc == TW_URL_ENOTHTTP ? "not http(s)" : tw_url_strerror(rc));
    char **l = realloc(o->seeds, (o->n_seeds + 1) * sizeof *l);
    if (!l) {
        free(url);
        return OOM(err, n);
    }
    l[o->n_seeds++] = url;
    o->seeds = l;
    return 0;
}

/* The result for --help / --version, or 0 for another option applied. */
static int option_found(tw_options *o, const optdef *d, const char *v, char *err, size_t n)
{
    if (d->bit == 0)
        return d->short_name == 'h' ? TW_OPTIONS_HELP : TW_OPTIONS_VERSION;
    return apply(o, d, v, err, n);
}

int tw_options_parse(int argc, char *const argv[], tw_options *o, char *err, size_t n)
{
    if (n)
        err[0] = '\0';
    if (tw_options_init(o) < 0)
        return OOM(err, n);
    bool options_end = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int rc;
        if (options_end || a[0] != '-' || a[1] == '\0') { /* "-" alone is an operand */
            rc = add_seed(o, a, err, n);
        } else if (strcmp(a, "--") == 0) {
            options_end = true;
            continue;
        } else if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            const optdef *d = find_long(name, len);
            if (!d)
                return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: unknown option --%.*s (see trawl crawl --help)",
                            (int)len, name);
            const char *v = NULL;
            if (d->arg == FLAG && eq)
                return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: option --%s takes no value", d->name);
            if (d->arg == VALUE) {
                if (eq)
                    v = eq + 1;
                else if (i + 1 < argc)
                    v = argv[++i];
                else
                    return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: option --%s needs a value", d->name);
            }
            rc = option_found(o, d, v, err, n);
        } else {
            const optdef *d = find_short(a[1]);
            if (!d)
                return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: unknown option -%c (see trawl crawl --help)", a[1]);
            const char *v = NULL;
            if (d->arg == FLAG && a[2])
                return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: option -%c takes no value", a[1]);
            if (d->arg == VALUE) {
                if (a[2])
                    v = a + 2;
                else if (i + 1 < argc)
                    v = argv[++i];
                else
                    return usage_fail(err, n, TW_OPTIONS_EUSAGE, "trawl: option -%c needs a value", a[1]);
            }
            rc = option_found(o, d, v, err, n);
        }
        if (rc != 0)
            return rc;
    }
    return TW_OPTIONS_RUN;
}

/* ---- merging ---- */

static int copy_list(char ***dst, size_t *dn, char *const *src, size_t sn)
{
    for (size_t i = 0; i < sn; i++)
        if (list_add(dst, dn, src[i]) < 0)
            return -1;
    return 0;
}

int tw_options_merge(tw_options *out, const tw_options *stored, const tw_options *given)
{
    const tw_options *inc = given->set & TW_OPT_INCLUDE ? given : stored;
    const tw_options *exc = given->set & TW_OPT_EXCLUDE ? given : stored;
    const tw_options *ua = given->set & TW_OPT_USER_AGENT ? given : stored;
    *out = *stored;
    out->out = out->user_agent = NULL;
    out->include = out->exclude = out->seeds = NULL;
    out->n_include = out->n_exclude = out->n_seeds = 0;
    unsigned g = given->set;
#define TAKE(bit, field) \
    if (g & (bit))       \
        out->field = given->field;
    TAKE(TW_OPT_MAX_PAGES, max_pages)
    TAKE(TW_OPT_MAX_DEPTH, max_depth)
    TAKE(TW_OPT_SCOPE, scope)
    TAKE(TW_OPT_CONCURRENCY, concurrency)
    TAKE(TW_OPT_PER_HOST, per_host)
    TAKE(TW_OPT_RATE, rate)
    TAKE(TW_OPT_RETRIES, retries)
    TAKE(TW_OPT_TIMEOUT, timeout)
    TAKE(TW_OPT_MAX_BYTES, max_bytes)
    TAKE(TW_OPT_IGNORE_ROBOTS, ignore_robots)
    TAKE(TW_OPT_NO_WARC, no_warc)
#undef TAKE
    out->quiet = given->quiet;
    out->set = stored->set | given->set;
    out->out = strdup(given->out ? given->out : stored->out ? stored->out : "./crawl");
    out->user_agent = strdup(ua->user_agent ? ua->user_agent : TW_DEFAULT_USER_AGENT);
    if (!out->out || !out->user_agent || copy_list(&out->include, &out->n_include, inc->include, inc->n_include) < 0 ||
        copy_list(&out->exclude, &out->n_exclude, exc->exclude, exc->n_exclude) < 0 ||
        copy_list(&out->seeds, &out->n_seeds, given->seeds, given->n_seeds) < 0) {
        tw_options_free(out);
        return TW_OPTIONS_ENOMEM;
    }
    return 0;
}

/* ---- JSON ---- */

/* Writes s as a JSON string; false when out of memory. */
static bool put_json_string(FILE *f, const char *s)
{
    char *q = tw_json_quote(s, strlen(s));
    if (!q)
        return false;
    fputs(q, f);
    free(q);
    return true;
}

static bool put_list(FILE *f, const char *name, char *const *list, size_t count)
{
    bool ok = true;
    fprintf(f, ",\"%s\":[", name);
    for (size_t i = 0; i < count; i++) {
        if (i)
            fputc(',', f);
        ok = put_json_string(f, list[i]) && ok;
    }
    fputc(']', f);
    return ok;
}

/* The shortest decimal that reads back as the same double. */
static void put_real(FILE *f, double x)
{
    char tmp[40];
    if (x == floor(x) && fabs(x) < 1e15) { /* whole numbers read best without an exponent */
        fprintf(f, "%.0f", x);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x)
            break;
    }
    fputs(tmp, f);
}

char *tw_options_to_json(const tw_options *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fprintf(f, "{\"max-pages\":%lld,\"max-depth\":%lld,\"scope\":\"%s\"", o->max_pages,
            o->max_depth < 0 ? -1 : o->max_depth, tw_scope_mode_name(o->scope));
    bool ok = put_list(f, "include", o->include, o->n_include);
    ok = put_list(f, "exclude", o->exclude, o->n_exclude) && ok;
    fprintf(f, ",\"concurrency\":%d,\"per-host\":%d,\"rate\":", o->concurrency, o->per_host);
    put_real(f, o->rate);
    fprintf(f, ",\"retries\":%d,\"timeout\":", o->retries);
    put_real(f, o->timeout);
    fprintf(f, ",\"max-bytes\":%lld,\"user-agent\":", o->max_bytes);
    ok = put_json_string(f, o->user_agent ? o->user_agent : TW_DEFAULT_USER_AGENT) && ok;
    fprintf(f, ",\"ignore-robots\":%s,\"no-warc\":%s}", o->ignore_robots ? "true" : "false",
            o->no_warc ? "true" : "false");
    ok = !ferror(f) && ok;
    if (fclose(f) != 0 || !ok) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* A cursor over the JSON text. */
typedef struct jreader {
    const char *p, *end;
} jreader;

static void skip_ws(jreader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static bool eat(jreader *r, char c)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == c) {
        r->p++;
        return true;
    }
    return false;
}

/* A string literal at the cursor, decoded (caller frees); NULL if there is none. */
static char *read_string(jreader *r)
{
    skip_ws(r);
    size_t used, len;
    char *s = tw_json_unquote(r->p, (size_t)(r->end - r->p), &used, &len);
    if (s && strlen(s) != len) { /* an escaped NUL: not an option value */
        free(s);
        return NULL;
    }
    if (s)
        r->p += used;
    return s;
}

/* A number, true, false or null at the cursor, as its text (caller frees). */
static char *read_scalar(jreader *r)
{
    skip_ws(r);
    size_t len = strspn(r->p, "+-0123456789.eEtruefalsn");
    if (len == 0 || len > 64)
        return NULL;
    char *s = strndup(r->p, len);
    r->p += len;
    return s;
}

static const optdef *find_stored(const char *key)
{
    const optdef *d = find_long(key, strlen(key));
    return d && d->bit && d->bit != TW_OPT_OUT && d->bit != TW_OPT_QUIET ? d : NULL;
}

/* One "key": value pair. */
static int read_member(jreader *r, tw_options *o, char *err, size_t n)
{
    char *key = read_string(r);
    if (!key || !eat(r, ':')) {
        free(key);
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "stored options: malformed JSON");
    }
    const optdef *d = find_stored(key);
    int rc = 0;
    skip_ws(r);
    if (r->p < r->end && *r->p == '[') { /* a list: only include/exclude have one */
        r->p++;
        if (d && d->bit != TW_OPT_INCLUDE && d->bit != TW_OPT_EXCLUDE)
            rc = usage_fail(err, n, TW_OPTIONS_EUSAGE, "stored options: \"%s\" is not a list", key);
        if (d && (d->bit == TW_OPT_INCLUDE || d->bit == TW_OPT_EXCLUDE))
            o->set |= d->bit; /* an empty list is a value too */
        bool first = true;
        while (rc == 0 && !eat(r, ']')) {
            char *v = (first || eat(r, ',')) ? read_string(r) : NULL;
            first = false;
            if (!v)
                rc = usage_fail(err, n, TW_OPTIONS_EUSAGE, "stored options: malformed JSON");
            else if (d)
                rc = apply(o, d, v, err, n);
            free(v);
        }
    } else {
        bool is_string = r->p < r->end && *r->p == '"';
        char *v = is_string ? read_string(r) : read_scalar(r);
        if (!v)
            rc = usage_fail(err, n, TW_OPTIONS_EUSAGE, "stored options: malformed JSON");
        else if (d && d->arg == FLAG && strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
            rc = usage_fail(err, n, TW_OPTIONS_EUSAGE, "stored options: \"%s\" is not a boolean", key);
        else if (d && d->bit == TW_OPT_MAX_DEPTH && strcmp(v, "-1") == 0) {
            o->max_depth = -1;
            o->set |= d->bit;
        } else if (d)
            rc = apply(o, d, v, err, n);
        free(v);
    }
    free(key);
    return rc;
}

int tw_options_from_json(const char *json, tw_options *o, char *err, size_t n)
{
    if (tw_options_init(o) < 0)
        return OOM(err, n);
    jreader r = {json, json + strlen(json)};
    if (!eat(&r, '{'))
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "stored options: malformed JSON");
    if (eat(&r, '}'))
        goto end;
    do {
        int rc = read_member(&r, o, err, n);
        if (rc)
            return rc;
    } while (eat(&r, ','));
    if (!eat(&r, '}'))
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "stored options: malformed JSON");
end:
    skip_ws(&r);
    if (r.p != r.end)
        return usage_fail(err, n, TW_OPTIONS_EUSAGE, "stored options: malformed JSON");
    return 0;
}
