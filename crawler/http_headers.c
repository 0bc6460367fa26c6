/* http_headers.c - HTTP response head parser (status line, fields, obs-fold) and field value helpers. */
#include "http_headers.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The public struct first, so a tw_http_headers * is also a struct head *. */
struct head {
    tw_http_headers pub;
    tw_http_header fields[TW_HTTP_MAX_HEADERS];
    const char *content_type, *charset;
    const char *codings[TW_HTTP_MAX_CODINGS];
    int n_codings;
    char *out;   /* next free byte of buf */
    char buf[];  /* names, values and derived strings, NUL-terminated */
};

/* ---- small helpers ---------------------------------------------------------------- */

static bool is_ows(char c) { return c == ' ' || c == '\t'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c | 0x20) : c; }

/* RFC 9110 tchar: the characters of a token (field names, media types). */
static bool is_tchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && is_ows(**s)) (*s)++;
    while (*e > *s && is_ows((*e)[-1])) (*e)--;
}

/* Does the span [s, e) equal the string b, ignoring ASCII case? */
static bool span_ieq(const char *s, const char *e, const char *b)
{
    size_t n = strlen(b);
    if ((size_t)(e - s) != n) return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s[i]) != lower(b[i])) return false;
    return true;
}

static bool str_ieq(const char *a, const char *b) { return span_ieq(a, a + strlen(a), b); }

/* Copies [s, e) into the head's buffer, NUL-terminated, optionally lower-cased. */
static const char *put(struct head *h, const char *s, const char *e, bool lowercase)
{
    char *d = h->out;
    for (const char *p = s; p < e; p++) *h->out++ = lowercase ? lower(*p) : *p;
    *h->out++ = '\0';
    return d;
}

/* ---- splitting the input into lines and blocks ------------------------------------- */

/* Returns the end of the line starting at s (at the LF or at end) and its content end in *ce. */
static const char *line_end(const char *s, const char *end, const char **ce)
{
    const char *lf = memchr(s, '\n', (size_t)(end - s));
    const char *e = lf ? lf : end;
    *ce = (e > s && e[-1] == '\r') ? e - 1 : e;
    return e;
}

/*
 * Finds the last header block: a line starting with "HTTP/" at the start of
 * the input or right after an empty line. Returns its start or NULL.
 */
static const char *last_block(const char *raw, const char *end)
{
    const char *found = NULL;
    bool after_blank = true;
    for (const char *s = raw; s < end;) {
        const char *ce, *e = line_end(s, end, &ce);
        if (after_blank && ce - s >= 5 && memcmp(s, "HTTP/", 5) == 0) found = s;
        after_blank = (ce == s);
        s = e + 1;
    }
    return found;
}

/* ---- status line and fields -------------------------------------------------------- */

/* "HTTP/" DIGIT ["." DIGIT] SP 3DIGIT [SP reason]; trailing whitespace tolerated. */
static int parse_status(struct head *h, const char *s, const char *e)
{
    s += 5;
    if (s >= e || !is_digit(*s)) return TW_HTTP_EBADSTATUS;
    int version = (*s++ - '0') * 10;
    if (s < e && *s == '.') {
        if (s + 1 >= e || !is_digit(s[1])) return TW_HTTP_EBADSTATUS;
        version += s[1] - '0';
        s += 2;
    }
    if (s >= e || *s != ' ') return TW_HTTP_EBADSTATUS;
    s++;
    if (e - s < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]) || s[0] == '0')
        return TW_HTTP_EBADSTATUS;
    int status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    s += 3;
    if (s < e && !is_ows(*s)) return TW_HTTP_EBADSTATUS;
    trim(&s, &e);
    h->pub.version = version;
    h->pub.status = status;
    h->pub.reason = put(h, s, e, false);
    return TW_HTTP_OK;
}

/* Appends value bytes to the buffer; other control characters become spaces so values stay C strings. */
static void put_value_bytes(struct head *h, const char *s, const char *e)
{
    for (; s < e; s++) {
        unsigned char c = (unsigned char)*s;
        *h->out++ = (c < 0x20 && c != '\t') || c == 0x7f ? ' ' : (char)c;
    }
}

/* Parses the field lines of the block [s, e); returns TW_HTTP_OK or TW_HTTP_ETOOMANY. */
static int parse_fields(struct head *h, const char *s, const char *end)
{
    bool can_fold = false; /* the last thing written is a field value that a fold may extend */
    while (s < end) {
        const char *ce, *e = line_end(s, end, &ce);
        const char *ls = s;
        s = e + 1;
        if (ce == ls) break;
        if (is_ows(*ls)) {
            trim(&ls, &ce);
            if (can_fold && ls < ce) {
                h->out[-1] = ' '; /* overwrite the NUL that ended the value */
                put_value_bytes(h, ls, ce);
                *h->out++ = '\0';
            }
            continue;
        }
        const char *colon = memchr(ls, ':', (size_t)(ce - ls));
        can_fold = false;
        if (!colon || colon == ls) continue;
        bool token = true;
        for (const char *p = ls; p < colon && token; p++) token = is_tchar(*p);
        if (!token) continue; /* includes "Name : v", which RFC 9112 §5.1 forbids */
        if (h->pub.count == TW_HTTP_MAX_HEADERS) return TW_HTTP_ETOOMANY;
        const char *vs = colon + 1, *ve = ce;
        trim(&vs, &ve);
        tw_http_header *f = &h->fields[h->pub.count++];
        f->name = put(h, ls, colon, false);
        f->value = h->out;
        put_value_bytes(h, vs, ve);
        *h->out++ = '\0';
        can_fold = true;
    }
    return TW_HTTP_OK;
}

/* ---- derived values ----------------------------------------------------------------- */

/* Media type and charset of the first Content-Type, stored lower-cased in the buffer. */
static void derive_content_type(struct head *h)
{
    const char *v = tw_http_header_get(&h->pub, "content-type");
    if (!v) return;
    const char *s = v, *e = v + strlen(v);
    const char *semi = memchr(s, ';', (size_t)(e - s));
    const char *te = semi ? semi : e, *ts = s;
    trim(&ts, &te);
    const char *slash = memchr(ts, '/', (size_t)(te - ts));
    bool ok = slash && slash > ts && slash + 1 < te;
    for (const char *p = ts; ok && p < te; p++) ok = p == slash || is_tchar(*p);
    if (ok) h->content_type = put(h, ts, te, true);

    for (s = semi; s && s < e;) {
        s++; /* past ';' */
        while (s < e && is_ows(*s)) s++;
        const char *ns = s;
        while (s < e && is_tchar(*s)) s++;
        const char *ne = s;
        if (s >= e || *s != '=') {
            s = memchr(s, ';', (size_t)(e - s));
            continue;
        }
        s++;
        char *val = h->out;
        if (s < e && *s == '"') { /* quoted-string with backslash escapes */
            for (s++; s < e && *s != '"'; s++) {
                if (*s == '\\' && s + 1 < e) s++;
                *h->out++ = lower(*s);
            }
            if (s < e) s++;
        } else {
            while (s < e && *s != ';' && !is_ows(*s)) *h->out++ = lower(*s++);
        }
        *h->out++ = '\0';
        if (span_ieq(ns, ne, "charset") && *val && !h->charset)
            h->charset = val;
        else
            h->out = val; /* not kept: give the bytes back */
        s = memchr(s, ';', (size_t)(e - s));
    }
}

/* The codings of every Content-Encoding field, in order, lower-cased, without "identity". */
static void derive_codings(struct head *h)
{
    const char *v;
    for (size_t n = 0; (v = tw_http_header_get_nth(&h->pub, "content-encoding", n)); n++) {
        for (const char *s = v, *end = v + strlen(v); s < end;) {
            const char *comma = memchr(s, ',', (size_t)(end - s));
            const char *ts = s, *te = comma ? comma : end;
            s = te + 1;
            trim(&ts, &te);
            if (ts == te || span_ieq(ts, te, "identity")) continue;
            if (h->n_codings < 0) continue;
            if (h->n_codings == TW_HTTP_MAX_CODINGS) {
                h->n_codings = -1;
                continue;
            }
            h->codings[h->n_codings++] = put(h, ts, te, true);
        }
    }
}

/* ---- public API ------------------------------------------------------------------------ */

int tw_http_headers_parse(const char *raw, size_t len, tw_http_headers **out)
{
    *out = NULL;
    if (!raw || len == 0) return TW_HTTP_ENOSTATUS;
    const char *end = raw + len;
    const char *start = last_block(raw, end);
    if (!start) return TW_HTTP_ENOSTATUS;

    const char *block_end = start; /* just past the empty line that ends the block, or end */
    for (const char *s = start; s < end;) {
        const char *ce, *e = line_end(s, end, &ce);
        block_end = e < end ? e + 1 : end;
        if (ce == s || (size_t)(block_end - start) > TW_HTTP_MAX_BLOCK) break;
        s = e + 1;
    }
    size_t blen = (size_t)(block_end - start);
    if (blen > TW_HTTP_MAX_BLOCK) return TW_HTTP_ETOOLONG;

    /* Every stored string comes from a distinct part of the block, plus NULs: 2x is plenty. */
    struct head *h = calloc(1, sizeof *h + 2 * blen + 64);
    if (!h) return TW_HTTP_ENOMEM;
    h->out = h->buf;
    h->pub.fields = h->fields;

    const char *ce, *e = line_end(start, block_end, &ce);
    int rc = parse_status(h, start, ce);
    if (rc == TW_HTTP_OK) rc = parse_fields(h, e + 1, block_end);
    if (rc != TW_HTTP_OK) {
        free(h);
        return rc;
    }
    derive_content_type(h);
    derive_codings(h);
    *out = &h->pub;
    return TW_HTTP_OK;
}

void tw_http_headers_free(tw_http_headers *h) { free(h); }

const char *tw_http_strerror(int err)
{
    switch (err) {
    case TW_HTTP_OK: return "success";
    case TW_HTTP_ENOSTATUS: return "no HTTP status line";
    case TW_HTTP_EBADSTATUS: return "malformed HTTP status line";
    case TW_HTTP_ETOOLONG: return "HTTP header block too long";
    case TW_HTTP_ETOOMANY: return "too many HTTP header fields";
    case TW_HTTP_ENOMEM: return "out of memory";
    default: return "unknown HTTP header error";
    }
}

const char *tw_http_header_get_nth(const tw_http_headers *h, const char *name, size_t n)
{
    for (size_t i = 0; i < h->count; i++)
        if (str_ieq(h->fields[i].name, name) && n-- == 0) return h->fields[i].value;
    return NULL;
}

const char *tw_http_header_get(const tw_http_headers *h, const char *name)
{
    return tw_http_header_get_nth(h, name, 0);
}

const char *tw_http_content_type(const tw_http_headers *h)
{
    return ((const struct head *)h)->content_type;
}

const char *tw_http_charset(const tw_http_headers *h) { return ((const struct head *)h)->charset; }

const char *tw_http_location(const tw_http_headers *h) { return tw_http_header_get(h, "location"); }

int tw_http_content_codings(const tw_http_headers *h, const char *const **codings)
{
    const struct head *hd = (const struct head *)h;
    *codings = hd->codings;
    return hd->n_codings;
}

int64_t tw_http_content_length(const tw_http_headers *h)
{
    int64_t result = -1;
    const char *v;
    for (size_t n = 0; (v = tw_http_header_get_nth(h, "content-length", n)); n++) {
        for (const char *s = v, *end = v + strlen(v); s <= end;) {
            const char *comma = memchr(s, ',', (size_t)(end - s));
            const char *ts = s, *te = comma ? comma : end;
            s = te + 1;
            trim(&ts, &te);
            if (ts == te) return -1;
            int64_t x = 0;
            for (const char *p = ts; p < te; p++) {
                if (!is_digit(*p) || x > (INT64_MAX - 9) / 10) return -1;
                x = x * 10 + (*p - '0');
            }
            if (result >= 0 && x != result) return -1;
            result = x;
        }
    }
    return result;
}

/* ---- HTTP-date -------------------------------------------------------------------------- */

static const char *const MONTHS[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
/* Short day names (IMF-fixdate, asctime) and long ones (RFC 850); either is accepted in any form. */
static const char *const DAYS[14] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
                                     "Monday", "Tuesday", "Wednesday", "Thursday",
                                     "Friday", "Saturday", "Sunday"};

/* A cursor over the date text; each reader below returns false on a mismatch. */
struct cur {
    const char *s, *e;
};

static bool lit(struct cur *c, char ch)
{
    if (c->s < c->e && *c->s == ch) {
        c->s++;
        return true;
    }
    return false;
}

/* Reads between min and max digits. */
static bool num(struct cur *c, int min, int max, int *out)
{
    int n = 0, v = 0;
    while (n < max && c->s < c->e && is_digit(*c->s)) v = v * 10 + (*c->s++ - '0'), n++;
    *out = v;
    return n >= min;
}

static bool word(struct cur *c, const char *const *names, int count, int *out)
{
    const char *ws = c->s;
    while (c->s < c->e && ((*c->s | 0x20) >= 'a' && (*c->s | 0x20) <= 'z')) c->s++;
    for (int i = 0; i < count; i++)
        if (span_ieq(ws, c->s, names[i])) {
            *out = i;
            return true;
        }
    return false;
}

/* hh:mm:ss */
static bool hms(struct cur *c, int *hh, int *mm, int *ss)
{
    return num(c, 2, 2, hh) && lit(c, ':') && num(c, 2, 2, mm) && lit(c, ':') && num(c, 2, 2, ss) &&
           *hh <= 23 && *mm <= 59 && *ss <= 60;
}

static bool gmt(struct cur *c)
{
    const char *ws = c->s;
    while (c->s < c->e && !is_ows(*c->s)) c->s++;
    return span_ieq(ws, c->s, "GMT");
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's algorithm). */
static long long days_from_civil(long long y, int m, int d)
{
    y -= m <= 2;
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dm[m - 1];
}

int tw_http_date_parse(const char *str, time_t *out)
{
    if (!str) return -1;
    struct cur c = {str, str + strlen(str)};
    trim(&c.s, &c.e);
    int wd = 0, day = 0, mon = 0, year = 0, hh = 0, mm = 0, ss = 0;
    if (!word(&c, DAYS, 14, &wd)) return -1;
    bool ok;
    if (lit(&c, ',')) {
        ok = lit(&c, ' ') && num(&c, 1, 2, &day);
        if (ok && lit(&c, ' ')) { /* IMF-fixdate */
            ok = word(&c, MONTHS, 12, &mon) && lit(&c, ' ') && num(&c, 4, 4, &year) &&
                 lit(&c, ' ') && hms(&c, &hh, &mm, &ss) && lit(&c, ' ') && gmt(&c);
        } else if (ok && lit(&c, '-')) { /* RFC 850 */
            ok = word(&c, MONTHS, 12, &mon) && lit(&c, '-') && num(&c, 2, 2, &year) &&
                 lit(&c, ' ') && hms(&c, &hh, &mm, &ss) && lit(&c, ' ') && gmt(&c);
            year += year < 70 ? 2000 : 1900;
        } else {
            ok = false;
        }
    } else { /* asctime: day is "  6" or " 06" */
        ok = lit(&c, ' ') && word(&c, MONTHS, 12, &mon) && lit(&c, ' ');
        if (ok) lit(&c, ' ');
        ok = ok && num(&c, 1, 2, &day) && lit(&c, ' ') && hms(&c, &hh, &mm, &ss) &&
             lit(&c, ' ') && num(&c, 4, 4, &year);
    }
    if (!ok || c.s != c.e) return -1;
    mon += 1;
    if (day < 1 || day > days_in_month(year, mon)) return -1;
    long long t = days_from_civil(year, mon, day) * 86400LL + hh * 3600LL + mm * 60LL + ss;
    if ((long long)(time_t)t != t) return -1;
    *out = (time_t)t;
    return 0;
}

/* ---- Retry-After and X-Robots-Tag -------------------------------------------------- */

long tw_http_retry_after_value(const char *value, time_t now)
{
    if (!value) return -1;
    const char *s = value, *e = value + strlen(value);
    trim(&s, &e);
    if (s == e) return -1;
    if (is_digit(*s)) { /* delta-seconds, or an error: no HTTP-date starts with a digit */
        long v = 0;
        for (const char *p = s; p < e; p++) {
            if (!is_digit(*p)) return -1;
            if (v < INT32_MAX) v = v * 10 + (*p - '0');
        }
        return v < INT32_MAX ? v : INT32_MAX;
    }
    time_t t;
    if (tw_http_date_parse(value, &t) != 0) return -1;
    if (t <= now) return 0;
    double d = difftime(t, now);
    return d < INT32_MAX ? (long)d : INT32_MAX;
}

long tw_http_retry_after(const tw_http_headers *h, time_t now)
{
    return tw_http_retry_after_value(tw_http_header_get(h, "retry-after"), now);
}

/* Directives that carry a value after a colon, so "name:" before them is no agent. */
static bool is_valued_directive(const char *s, const char *e)
{
    return span_ieq(s, e, "unavailable_after") || span_ieq(s, e, "max-snippet") ||
           span_ieq(s, e, "max-image-preview") || span_ieq(s, e, "max-video-preview");
}

unsigned tw_http_robots_tag(const tw_http_headers *h, const char *product_token)
{
    unsigned flags = 0;
    const char *v;
    for (size_t n = 0; (v = tw_http_header_get_nth(h, "x-robots-tag", n)); n++) {
        const char *s = v, *end = v + strlen(v);
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *colon = memchr(s, ':', (size_t)((comma ? comma : end) - s));
        if (colon) { /* "agent: directives" applies to that agent only */
            const char *as = s, *ae = colon;
            trim(&as, &ae);
            if (!is_valued_directive(as, ae)) {
                if (!product_token || !span_ieq(as, ae, product_token)) continue;
                s = colon + 1;
            }
        }
        while (s < end) {
            comma = memchr(s, ',', (size_t)(end - s));
            const char *ts = s, *te = comma ? comma : end;
            s = te + 1;
            trim(&ts, &te);
            if (span_ieq(ts, te, "nofollow")) flags |= TW_HTTP_ROBOTS_NOFOLLOW;
            else if (span_ieq(ts, te, "noindex")) flags |= TW_HTTP_ROBOTS_NOINDEX;
            else if (span_ieq(ts, te, "none")) flags |= TW_HTTP_ROBOTS_NOFOLLOW | TW_HTTP_ROBOTS_NOINDEX;
        }
    }
    return flags;
}
