/* url.c: WHATWG URL parsing for http/https links, normalized per the crawl contract. */

/*
 * Why the parser is written here rather than taken from curl_url(): libcurl parses by
 * RFC 3986 and, for http(s), differs from the WHATWG URL standard that the contract
 * follows in many places: backslashes as slashes, "http:foo" as a relative reference,
 * the IPv4 number forms, the percent-encode sets of each component, the forbidden host
 * code points, "%2e" dot segments, leading zeros in ports. Fixing curl's output after
 * the fact means parsing it again, and a curl_url() round trip also costs several
 * mallocs per link where this costs one (bench/bench_url.c measures both: about 3x
 * faster one-shot, 8x with a prepared base). So this file
 * implements the standard's basic URL parser for the two schemes the crawler follows,
 * writing the serialization directly, and leaves to libcurl (built with libidn2) the
 * UTS #46 mapping of non-ASCII hosts, which is large and rare. tests/test_url.c checks
 * the result against the standard's own test suite and against curl for plain links.
 */

#include "url.h"

#include <curl/curl.h>
#include <libpsl.h>
#include <locale.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SCHEME_HTTP = 0, SCHEME_HTTPS = 1 };
static const char *const scheme_name[2] = {"http", "https"};
static const unsigned default_port[2] = {80, 443};
static const char hex_upper[] = "0123456789ABCDEF";

#define NO_POS SIZE_MAX

/* ---- character classes (ASCII only, independent of the C locale) ---- */

static int is_alpha(unsigned char c) { return (unsigned char)((c | 0x20) - 'a') < 26; }
static int is_digit(unsigned char c) { return (unsigned char)(c - '0') < 10; }
static char to_lower(char c) { return (unsigned char)(c - 'A') < 26 ? (char)(c | 0x20) : c; }
static int is_slash(char c) { return c == '/' || c == '\\'; } /* special schemes only */

static int hex_val(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    c |= 0x20;
    return (unsigned char)(c - 'a') < 6 ? c - 'a' + 10 : -1;
}

static int is_unreserved(unsigned char c)
{
    return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int ascii_ieq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (to_lower(a[i]) != to_lower(b[i]))
            return 0;
    return 1;
}

/* The standard's forbidden domain code points, restricted to ASCII. */
static int forbidden_in_domain(unsigned char c)
{
    if (c <= 0x20 || c == 0x7F)
        return 1;
    switch (c) {
    case '#': case '%': case '/': case ':': case '<': case '>': case '?': case '@':
    case '[': case '\\': case ']': case '^': case '|':
        return 1;
    default:
        return 0;
    }
}

/* The percent-encode sets of the URL standard for the parts of a special URL. */
enum enc_set { ENC_QUERY, ENC_PATH, ENC_USERINFO };

static int must_encode(unsigned char c, enum enc_set set)
{
    if (c <= 0x20 || c >= 0x7F)
        return 1;
    switch (c) {
    case '"': case '#': case '<': case '>':
        return 1;
    case '\'':
        return set == ENC_QUERY;
    case '?': case '^': case '`': case '{': case '}':
        return set != ENC_QUERY;
    case '/': case ':': case ';': case '=': case '@': case '[': case '\\': case ']': case '|':
        return set == ENC_USERINFO;
    default:
        return 0;
    }
}

/* ---- output string ---- */

/*
 * The serialization is written left to right into a buffer that starts on the caller's
 * stack and moves to the heap only for long URLs, so a typical link costs no allocation
 * until the result is copied out. err latches the first failure.
 */
struct out {
    char *p;
    size_t len, cap;
    size_t bare_pct; /* offset of the last '%' written that starts no escape, or NO_POS */
    int on_heap;
    int err;
};

static void out_init(struct out *o, char *stack, size_t cap)
{
    *o = (struct out){.p = stack, .cap = cap, .bare_pct = NO_POS};
}

static void out_free(struct out *o)
{
    if (o->on_heap)
        free(o->p);
    o->p = NULL;
}

static int out_reserve(struct out *o, size_t more)
{
    if (o->err)
        return -1;
    if (o->len + more < o->cap)
        return 0;
    size_t cap = o->cap * 2;
    while (cap <= o->len + more)
        cap *= 2;
    char *p = o->on_heap ? realloc(o->p, cap) : malloc(cap);
    if (!p) {
        o->err = TW_URL_ENOMEM;
        return -1;
    }
    if (!o->on_heap)
        memcpy(p, o->p, o->len);
    o->p = p;
    o->cap = cap;
    o->on_heap = 1;
    return 0;
}

static void out_mem(struct out *o, const char *s, size_t n)
{
    if (out_reserve(o, n) == 0) {
        memcpy(o->p + o->len, s, n);
        o->len += n;
    }
}

static void out_ch(struct out *o, char c)
{
    if (out_reserve(o, 1) == 0)
        o->p[o->len++] = c;
}

static void out_truncate(struct out *o, size_t len)
{
    o->len = len;
    o->bare_pct = NO_POS;
}

static void out_uint(struct out *o, unsigned v, unsigned radix)
{
    char tmp[12];
    size_t n = sizeof tmp;
    do {
        /* constant divisors: a division by a variable radix is slow */
        tmp[--n] = (char)to_lower(hex_upper[radix == 16 ? v & 15 : v % 10]);
        v = radix == 16 ? v >> 4 : v / 10;
    } while (v);
    out_mem(o, tmp + n, sizeof tmp - n);
}

/*
 * Would a hex digit written now turn an earlier bare '%' into an escape? Decoding
 * "%%32%45" to "%2E" would, and the next normalization would then decode that to ".";
 * such an escape is kept encoded so that normalizing twice changes nothing.
 */
static int completes_escape(const struct out *o, size_t len)
{
    if (o->bare_pct == NO_POS)
        return 0;
    return o->bare_pct + 1 == len || (o->bare_pct + 2 == len && hex_val(o->p[len - 1]) >= 0);
}

/*
 * Appends s percent-encoded with the given set, applying the contract on the way:
 * escapes of unreserved characters are decoded, others get upper-case hex digits.
 */
static void out_encoded(struct out *o, const char *s, size_t n, enum enc_set set)
{
    if (out_reserve(o, 3 * n))
        return;
    char *w = o->p + o->len;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int hi, lo;
        if (c == '%') {
            if (i + 2 < n && (hi = hex_val(s[i + 1])) >= 0 && (lo = hex_val(s[i + 2])) >= 0) {
                unsigned char v = (unsigned char)(hi * 16 + lo);
                if (is_unreserved(v) && !(hex_val(v) >= 0 && completes_escape(o, (size_t)(w - o->p)))) {
                    *w++ = (char)v;
                } else {
                    *w++ = '%';
                    *w++ = hex_upper[hi];
                    *w++ = hex_upper[lo];
                }
                i += 2;
            } else {
                o->bare_pct = (size_t)(w - o->p);
                *w++ = '%';
            }
        } else if (must_encode(c, set)) {
            *w++ = '%';
            *w++ = hex_upper[c >> 4];
            *w++ = hex_upper[c & 15];
        } else {
            *w++ = (char)c;
        }
    }
    o->len = (size_t)(w - o->p);
}

/* ---- IPv4 and IPv6 hosts ---- */

/* One part of an IPv4 host: decimal, 0x-hex or 0-octal; values saturate, which is
 * enough because any part that large makes the address invalid. */
static int ipv4_number(const char *s, size_t n, uint64_t *v)
{
    unsigned radix = 10;
    if (n == 0)
        return -1;
    if (n >= 2 && s[0] == '0' && (s[1] | 0x20) == 'x') {
        radix = 16;
        s += 2;
        n -= 2;
    } else if (n >= 2 && s[0] == '0') {
        radix = 8;
        s++;
        n--;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        int d = hex_val((unsigned char)s[i]);
        if (d < 0 || (unsigned)d >= radix)
            return -1;
        if (x < (UINT64_C(1) << 40))
            x = x * radix + (unsigned)d;
    }
    *v = x;
    return 0;
}

/* The standard's "ends in a number" test that makes a host an IPv4 address. */
static int ends_in_number(const char *s, size_t n)
{
    if (n && s[n - 1] == '.')
        n--;
    size_t st = n;
    while (st && s[st - 1] != '.')
        st--;
    if (st == n)
        return 0;
    size_t i = st;
    while (i < n && is_digit((unsigned char)s[i]))
        i++;
    uint64_t v;
    return i == n || ipv4_number(s + st, n - st, &v) == 0;
}

static int ipv4_parse(const char *s, size_t n, uint32_t *addr)
{
    uint64_t num[4];
    int cnt = 0;
    if (n && s[n - 1] == '.')
        n--;
    for (size_t i = 0, st = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (cnt == 4 || ipv4_number(s + st, i - st, &num[cnt]))
                return -1;
            cnt++;
            st = i + 1;
        }
    }
    for (int i = 0; i < cnt - 1; i++)
        if (num[i] > 255)
            return -1;
    if (num[cnt - 1] >= (UINT64_C(1) << (8 * (5 - cnt))))
        return -1;
    uint64_t a = num[cnt - 1];
    for (int i = 0; i < cnt - 1; i++)
        a += num[i] << (8 * (3 - i));
    *addr = (uint32_t)a;
    return 0;
}

/* The standard's IPv6 parser, on the text between the brackets. */
static int ipv6_parse(const char *s, size_t n, uint16_t a[8])
{
    size_t p = 0;
    int piece = 0, compress = -1;
    memset(a, 0, 8 * sizeof a[0]);
    if (p < n && s[p] == ':') {
        if (p + 1 >= n || s[p + 1] != ':')
            return -1;
        p += 2;
        compress = ++piece;
    }
    while (p < n) {
        if (piece == 8)
            return -1;
        if (s[p] == ':') {
            if (compress != -1)
                return -1;
            p++;
            compress = ++piece;
            continue;
        }
        unsigned value = 0, length = 0;
        while (length < 4 && p < n && hex_val((unsigned char)s[p]) >= 0) {
            value = value * 16 + (unsigned)hex_val((unsigned char)s[p]);
            p++;
            length++;
        }
        if (p < n && s[p] == '.') {
            if (length == 0 || piece > 6)
                return -1;
            p -= length;
            int seen = 0;
            while (p < n) {
                int v4 = -1;
                if (seen > 0) {
                    if (s[p] == '.' && seen < 4)
                        p++;
                    else
                        return -1;
                }
                if (p >= n || !is_digit((unsigned char)s[p]))
                    return -1;
                while (p < n && is_digit((unsigned char)s[p])) {
                    int d = s[p] - '0';
                    if (v4 == -1)
                        v4 = d;
                    else if (v4 == 0)
                        return -1;
                    else
                        v4 = v4 * 10 + d;
                    if (v4 > 255)
                        return -1;
                    p++;
                }
                a[piece] = (uint16_t)(a[piece] * 0x100 + v4);
                seen++;
                if (seen == 2 || seen == 4)
                    piece++;
            }
            if (seen != 4)
                return -1;
            break;
        } else if (p < n && s[p] == ':') {
            p++;
            if (p >= n)
                return -1;
        } else if (p < n) {
            return -1;
        }
        a[piece++] = (uint16_t)value;
    }
    if (compress != -1) {
        int swaps = piece - compress;
        piece = 7;
        while (piece != 0 && swaps > 0) {
            uint16_t t = a[piece];
            a[piece] = a[compress + swaps - 1];
            a[compress + swaps - 1] = t;
            piece--;
            swaps--;
        }
    } else if (piece != 8) {
        return -1;
    }
    return 0;
}

static void ipv6_write(struct out *o, const uint16_t a[8])
{
    int best = -1, best_len = 1;
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && a[j] == 0)
            j++;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    out_ch(o, '[');
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            out_mem(o, i == 0 ? "::" : ":", i == 0 ? 2 : 1);
            i += best_len - 1;
            continue;
        }
        out_uint(o, a[i], 16);
        if (i != 7)
            out_ch(o, ':');
    }
    out_ch(o, ']');
}

/* ---- domains ---- */

/*
 * UTS #46 ToASCII of a UTF-8 domain through libcurl's IDN support (libidn2,
 * non-transitional). libidn2 reads its input in the locale's charset, so the call runs
 * under a thread-local UTF-8 locale: no process-wide setlocale(). Appends the ASCII
 * result to o. Returns 0 or TW_URL_EHOST/TW_URL_ENOMEM. Known gap: a non-ASCII label
 * that also holds one of the ASCII characters libcurl refuses in host names ('!', '$',
 * '&', '*', ...) fails here although the URL standard accepts it.
 */
static int idna_to_ascii(struct out *o, const char *d, size_t n)
{
    char *url = malloc(n + 9);
    if (!url)
        return TW_URL_ENOMEM;
    memcpy(url, "http://", 7);
    memcpy(url + 7, d, n);
    memcpy(url + 7 + n, "/", 2);

    int rc = TW_URL_EHOST;
    locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (utf8) {
        locale_t old = uselocale(utf8);
        CURLU *h = curl_url();
        char *host = NULL;
        if (h && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
            curl_url_get(h, CURLUPART_HOST, &host, CURLU_PUNYCODE) == CURLUE_OK) {
            rc = 0;
            for (const char *c = host; *c; c++)
                if ((unsigned char)*c >= 0x80)
                    rc = TW_URL_EHOST; /* libcurl without IDN hands the name back */
            if (rc == 0)
                for (const char *c = host; *c; c++)
                    out_ch(o, to_lower(*c));
        } else if (!h) {
            rc = TW_URL_ENOMEM;
        }
        curl_free(host);
        curl_url_cleanup(h);
        uselocale(old);
        freelocale(utf8);
    }
    free(url);
    return rc;
}

/* RFC 3492 Punycode decoding into code points; -1 on malformed input or overflow. */
static int punycode_decode(const char *in, size_t n, uint32_t *out, size_t *outlen, size_t max)
{
    enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700 };
    size_t b = 0, len = 0;
    for (size_t j = 0; j < n; j++)
        if (in[j] == '-')
            b = j;
    if (b > max)
        return -1;
    for (size_t j = 0; j < b; j++) {
        if ((unsigned char)in[j] >= 0x80)
            return -1;
        out[len++] = (unsigned char)in[j];
    }
    uint32_t code = 128, i = 0, bias = 72;
    int first = 1;
    for (size_t p = b > 0 ? b + 1 : 0; p < n;) {
        uint32_t oldi = i, w = 1;
        for (uint32_t k = BASE;; k += BASE) {
            if (p >= n)
                return -1;
            unsigned char c = (unsigned char)in[p++];
            uint32_t digit = is_digit(c) ? c - '0' + 26u : is_alpha(c) ? (c | 0x20u) - 'a' : BASE;
            if (digit >= BASE || digit > (UINT32_MAX - i) / w)
                return -1;
            i += digit * w;
            uint32_t t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
            if (digit < t)
                break;
            if (w > UINT32_MAX / (BASE - t))
                return -1;
            w *= BASE - t;
        }
        uint32_t delta = first ? (i - oldi) / DAMP : (i - oldi) / 2;
        first = 0;
        delta += delta / ((uint32_t)len + 1);
        uint32_t k = 0;
        while (delta > ((BASE - TMIN) * TMAX) / 2) {
            delta /= BASE - TMIN;
            k += BASE;
        }
        bias = k + (BASE - TMIN + 1) * delta / (delta + SKEW);
        if (i / (len + 1) > UINT32_MAX - code)
            return -1;
        code += i / ((uint32_t)len + 1);
        i %= (uint32_t)len + 1;
        if (len >= max || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
            return -1;
        memmove(out + i + 1, out + i, (len - i) * sizeof *out);
        out[i++] = code;
        len++;
    }
    *outlen = len;
    return 0;
}

/*
 * An ASCII label starting "xn--" must be the Punycode of a valid non-ASCII label, as
 * UTS #46 requires: it must decode, and mapping the decoded label must give it back.
 */
static int alabel_valid(const char *label, size_t n)
{
    enum { MAXCP = 128 };
    uint32_t cp[MAXCP];
    size_t cn = 0, un = 0;
    char u[4 * MAXCP];
    int non_ascii = 0;
    if (punycode_decode(label + 4, n - 4, cp, &cn, MAXCP) || cn == 0)
        return 0;
    for (size_t k = 0; k < cn; k++) {
        uint32_t c = cp[k];
        if (c < 0x80) {
            u[un++] = (char)c;
        } else if (c < 0x800) {
            u[un++] = (char)(0xC0 | c >> 6);
            u[un++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            u[un++] = (char)(0xE0 | c >> 12);
            u[un++] = (char)(0x80 | ((c >> 6) & 0x3F));
            u[un++] = (char)(0x80 | (c & 0x3F));
        } else {
            u[un++] = (char)(0xF0 | c >> 18);
            u[un++] = (char)(0x80 | ((c >> 12) & 0x3F));
            u[un++] = (char)(0x80 | ((c >> 6) & 0x3F));
            u[un++] = (char)(0x80 | (c & 0x3F));
        }
        non_ascii |= c >= 0x80;
    }
    if (!non_ascii)
        return 0;
    char stack[128];
    struct out back;
    out_init(&back, stack, sizeof stack);
    int ok = idna_to_ascii(&back, u, un) == 0 && back.err == 0 && back.len == n &&
             ascii_ieq(back.p, label, n);
    out_free(&back);
    return ok;
}

/*
 * Appends the ASCII form of one label: lower-cased if ASCII (an "xn--" label must be
 * valid Punycode), else mapped by UTS #46. Going label by label keeps libcurl's
 * stricter host syntax (it refuses '!', '$', '&'...) away from ASCII labels.
 */
static int write_label(struct out *o, const char *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)d[i] >= 0x80)
            return idna_to_ascii(o, d, n);
    if (n >= 4 && ascii_ieq(d, "xn--", 4) && !alabel_valid(d, n))
        return TW_URL_EHOST;
    if (out_reserve(o, n))
        return o->err;
    for (size_t i = 0; i < n; i++)
        o->p[o->len++] = to_lower(d[i]);
    return 0;
}

/* Appends the ASCII form of a percent-decoded domain d, then checks the standard's
 * rules on the result and rewrites it as dotted IPv4 when it ends in a number. */
static int write_domain(struct out *o, const char *d, size_t n)
{
    size_t start = o->len;
    for (size_t i = 0; i < n; i++)
        if (forbidden_in_domain((unsigned char)d[i]))
            return TW_URL_EHOST; /* UTS #46 keeps ASCII, so check before mapping */
    for (size_t i = 0, st = 0; i <= n; i++) {
        if (i < n && d[i] != '.')
            continue;
        if (st > 0)
            out_ch(o, '.');
        int rc = write_label(o, d + st, i - st);
        if (rc)
            return rc;
        st = i + 1;
    }
    if (o->err)
        return o->err;
    const char *h = o->p + start;
    size_t hn = o->len - start;
    if (hn == 0)
        return TW_URL_EHOST;
    for (size_t i = 0; i < hn; i++)
        if (forbidden_in_domain((unsigned char)h[i]))
            return TW_URL_EHOST;
    if (ends_in_number(h, hn)) {
        uint32_t a;
        if (ipv4_parse(h, hn, &a))
            return TW_URL_EHOST;
        out_truncate(o, start);
        for (int k = 3; k >= 0; k--) {
            out_uint(o, (a >> (8 * k)) & 255, 10);
            if (k)
                out_ch(o, '.');
        }
    }
    return 0;
}

/* The host parser for special schemes: IPv6 literal, or percent-decoded domain/IPv4. */
static int write_host(struct out *o, const char *s, size_t n)
{
    if (n == 0)
        return TW_URL_EHOST;
    if (s[0] == '[') {
        uint16_t a[8];
        if (n < 2 || s[n - 1] != ']' || ipv6_parse(s + 1, n - 2, a))
            return TW_URL_EHOST;
        ipv6_write(o, a);
        return 0;
    }
    if (!memchr(s, '%', n))
        return write_domain(o, s, n);
    char stack[256];
    char *d = n <= sizeof stack ? stack : malloc(n);
    if (!d)
        return TW_URL_ENOMEM;
    size_t dn = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hex_val((unsigned char)s[i + 1])) >= 0 &&
            (lo = hex_val((unsigned char)s[i + 2])) >= 0) {
            d[dn++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[dn++] = s[i];
        }
    }
    int rc = write_domain(o, d, dn);
    if (d != stack)
        free(d);
    return rc;
}

/* ---- the parser ---- */

/* A serialization being built, with the offsets where its parts start. */
struct parsed {
    struct out o;
    int scheme;
    size_t auth;  /* after "://" */
    size_t path;  /* the '/' that starts the path */
    size_t query; /* the '?' that starts the query, or o.len when there is none */
};

/* 0 none, 1 for a "." segment, 2 for "..", either possibly spelled with "%2e". */
static int dot_segment(const char *s, size_t n)
{
    int dots = 0;
    for (size_t i = 0; i < n; dots++) {
        if (dots == 2)
            return 0;
        if (s[i] == '.')
            i++;
        else if (i + 3 <= n && s[i] == '%' && s[i + 1] == '2' && (s[i + 2] | 0x20) == 'e')
            i += 3;
        else
            return 0;
    }
    return dots;
}

/* Removes the path's last segment (the standard's "shorten a path"). */
static void shorten_path(struct parsed *u)
{
    size_t k = u->o.len;
    while (k > u->path && u->o.p[k - 1] != '/')
        k--;
    if (k > u->path)
        out_truncate(&u->o, k - 1);
}

/* Query state: from the '?' at s[i], if there is one, to the fragment, which is dropped. */
static void parse_query(struct parsed *u, const char *s, size_t n, size_t i)
{
    u->query = u->o.len;
    if (i < n && s[i] == '?') {
        size_t q = ++i;
        while (i < n && s[i] != '#')
            i++;
        out_ch(&u->o, '?');
        out_encoded(&u->o, s + q, i - q, ENC_QUERY);
    }
}

/* Path state onwards: segments from s[i], then the query. */
static void parse_path_query(struct parsed *u, const char *s, size_t n, size_t i)
{
    for (;;) {
        size_t seg = i;
        while (i < n && !is_slash(s[i]) && s[i] != '?' && s[i] != '#')
            i++;
        int more = i < n && is_slash(s[i]);
        int dots = dot_segment(s + seg, i - seg);
        if (dots) {
            if (dots == 2)
                shorten_path(u);
            if (!more)
                out_ch(&u->o, '/');
        } else {
            out_ch(&u->o, '/');
            out_encoded(&u->o, s + seg, i - seg, ENC_PATH);
        }
        if (!more)
            break;
        i++;
    }
    parse_query(u, s, n, i);
}

/* Authority state onwards, from just after the slashes. */
static int parse_authority(struct parsed *u, const char *s, size_t n, size_t i)
{
    size_t end = i, at = NO_POS;
    while (end < n && !is_slash(s[end]) && s[end] != '?' && s[end] != '#') {
        if (s[end] == '@')
            at = end;
        end++;
    }
    size_t hs = i;
    if (at != NO_POS) {
        size_t colon = i;
        while (colon < at && s[colon] != ':')
            colon++;
        out_encoded(&u->o, s + i, colon - i, ENC_USERINFO);
        if (colon + 1 < at) {
            out_ch(&u->o, ':');
            out_encoded(&u->o, s + colon + 1, at - colon - 1, ENC_USERINFO);
        }
        if (colon > i || colon + 1 < at)
            out_ch(&u->o, '@');
        hs = at + 1;
    }
    size_t he = hs;
    int brackets = 0;
    while (he < end && !(s[he] == ':' && !brackets)) {
        if (s[he] == '[')
            brackets = 1;
        else if (s[he] == ']')
            brackets = 0;
        he++;
    }
    int rc = write_host(&u->o, s + hs, he - hs);
    if (rc)
        return rc;
    if (he < end) {
        unsigned port = 0;
        for (size_t k = he + 1; k < end; k++) {
            if (!is_digit((unsigned char)s[k]))
                return TW_URL_EPORT;
            port = port * 10 + (unsigned)(s[k] - '0');
            if (port > 65535)
                return TW_URL_EPORT;
        }
        if (he + 1 < end && port != default_port[u->scheme]) {
            out_ch(&u->o, ':');
            out_uint(&u->o, port, 10);
        }
    }
    u->path = u->o.len;
    if (end < n && is_slash(s[end]))
        end++;
    parse_path_query(u, s, n, end);
    return 0;
}

/* Relative state: s[i..] resolved against base, which has u's scheme. */
static int parse_relative(struct parsed *u, const char *s, size_t n, size_t i,
                          const struct parsed *base)
{
    const char *b = base->o.p;
    if (i < n && is_slash(s[i])) {
        if (i + 1 < n && is_slash(s[i + 1])) {
            i += 2;
            while (i < n && is_slash(s[i]))
                i++;
            return parse_authority(u, s, n, i);
        }
        out_mem(&u->o, b + base->auth, base->path - base->auth);
        u->path = u->o.len;
        parse_path_query(u, s, n, i + 1);
        return 0;
    }
    out_mem(&u->o, b + base->auth, base->path - base->auth);
    u->path = u->o.len;
    if (i == n || s[i] == '#') {
        out_mem(&u->o, b + base->path, base->o.len - base->path);
        u->query = u->path + (base->query - base->path);
        return 0;
    }
    out_mem(&u->o, b + base->path, base->query - base->path);
    if (s[i] == '?') {
        parse_query(u, s, n, i);
        return 0;
    }
    shorten_path(u);
    parse_path_query(u, s, n, i);
    return 0;
}

/* Returns SCHEME_HTTP/HTTPS and sets *after past the ':', -1 when s has no scheme,
 * TW_URL_ENOTHTTP for any other scheme. */
static int scheme_of(const char *s, size_t n, size_t *after)
{
    if (n == 0 || !is_alpha((unsigned char)s[0]))
        return -1;
    size_t j = 1;
    while (j < n && (is_alpha((unsigned char)s[j]) || is_digit((unsigned char)s[j]) ||
                     s[j] == '+' || s[j] == '-' || s[j] == '.'))
        j++;
    if (j >= n || s[j] != ':')
        return -1;
    *after = j + 1;
    if (j == 4 && ascii_ieq(s, "http", 4))
        return SCHEME_HTTP;
    if (j == 5 && ascii_ieq(s, "https", 5))
        return SCHEME_HTTPS;
    return TW_URL_ENOTHTTP;
}

static void start_serialization(struct parsed *u, int scheme)
{
    u->scheme = scheme;
    out_mem(&u->o, scheme_name[scheme], strlen(scheme_name[scheme]));
    out_mem(&u->o, "://", 3);
    u->auth = u->o.len;
}

/*
 * Parses s (already trimmed and without tabs and newlines) against base (NULL or a
 * parsed http(s) URL) into u, whose o must be initialized.
 */
static int parse(struct parsed *u, const char *s, size_t n, int scheme, size_t after,
                 const struct parsed *base)
{
    int rc;
    if (scheme < 0) {
        start_serialization(u, base->scheme);
        rc = parse_relative(u, s, n, 0, base);
    } else if (base && base->scheme == scheme) {
        start_serialization(u, scheme);
        rc = parse_relative(u, s, n, after, base);
    } else {
        start_serialization(u, scheme);
        size_t i = after;
        while (i < n && is_slash(s[i]))
            i++;
        rc = parse_authority(u, s, n, i);
    }
    if (rc == 0 && u->o.err)
        rc = u->o.err;
    return rc;
}

/*
 * The standard's preprocessing: strip leading and trailing C0 controls and spaces,
 * remove every tab and newline. Points *s at the result, in scratch (of cap bytes) or
 * in a malloc'd copy returned through *heap when needed.
 */
static int preprocess(const char **s, size_t *n, char *scratch, size_t cap, char **heap)
{
    const char *p = *s;
    size_t len = *n;
    while (len && (unsigned char)p[0] <= 0x20) {
        p++;
        len--;
    }
    while (len && (unsigned char)p[len - 1] <= 0x20)
        len--;
    *heap = NULL;
    if (memchr(p, '\t', len) || memchr(p, '\n', len) || memchr(p, '\r', len)) {
        char *d = scratch;
        if (len > cap && !(d = *heap = malloc(len)))
            return TW_URL_ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < len; i++)
            if (p[i] != '\t' && p[i] != '\n' && p[i] != '\r')
                d[k++] = p[i];
        p = d;
        len = k;
    }
    *s = p;
    *n = len;
    return 0;
}

/* Parses a whole string (preprocessing included) with no base. */
static int parse_absolute(struct parsed *u, const char *s, size_t n)
{
    char scratch[256], *heap;
    size_t after = 0;
    if (n > TW_URL_MAX_LEN)
        return TW_URL_ETOOLONG;
    int rc = preprocess(&s, &n, scratch, sizeof scratch, &heap);
    if (rc)
        return rc;
    int scheme = scheme_of(s, n, &after);
    if (scheme == -1)
        rc = TW_URL_ERELATIVE;
    else if (scheme < 0)
        rc = scheme;
    else
        rc = parse(u, s, n, scheme, after, NULL);
    free(heap);
    return rc;
}

/*
 * Resolves input against a base given either parsed (prepared) or as a string (base,
 * parsed here only if the input needs it), and copies the result out.
 */
static int resolve(const char *input, size_t len, const char *base,
                   const struct parsed *prepared, char **out)
{
    char scratch[256], *heap = NULL;
    char ubuf[512], bbuf[512];
    struct parsed u, b;
    size_t after = 0;
    int rc;

    *out = NULL;
    if (len > TW_URL_MAX_LEN)
        return TW_URL_ETOOLONG;
    rc = preprocess(&input, &len, scratch, sizeof scratch, &heap);
    if (rc)
        return rc;
    int scheme = scheme_of(input, len, &after);
    if (scheme < -1) {
        free(heap);
        return scheme;
    }
    out_init(&b.o, bbuf, sizeof bbuf);
    int base_err = TW_URL_ERELATIVE;
    if (!prepared && base && (base_err = parse_absolute(&b, base, strlen(base))) == 0)
        prepared = &b;
    if (scheme == -1 && !prepared) {
        rc = base_err;
    } else {
        out_init(&u.o, ubuf, sizeof ubuf);
        rc = parse(&u, input, len, scheme, after, prepared);
        if (rc == 0 && u.o.len > TW_URL_MAX_LEN)
            rc = TW_URL_ETOOLONG;
        if (rc == 0 && !(*out = malloc(u.o.len + 1)))
            rc = TW_URL_ENOMEM;
        if (rc == 0) {
            memcpy(*out, u.o.p, u.o.len);
            (*out)[u.o.len] = '\0';
        }
        out_free(&u.o);
    }
    out_free(&b.o);
    free(heap);
    return rc;
}

int tw_url_normalize_n(const char *input, size_t len, const char *base, char **out)
{
    return resolve(input, len, base, NULL, out);
}

int tw_url_normalize(const char *input, const char *base, char **out)
{
    return resolve(input, strlen(input), base, NULL, out);
}

int tw_url_base_init(struct tw_url_base *tb, const char *base)
{
    char buf[512];
    struct parsed b;
    memset(tb, 0, sizeof *tb);
    out_init(&b.o, buf, sizeof buf);
    int rc = parse_absolute(&b, base, strlen(base));
    if (rc == 0 && b.o.len > TW_URL_MAX_LEN)
        rc = TW_URL_ETOOLONG;
    if (rc == 0 && !(tb->url = malloc(b.o.len + 1)))
        rc = TW_URL_ENOMEM;
    if (rc == 0) {
        memcpy(tb->url, b.o.p, b.o.len);
        tb->url[b.o.len] = '\0';
        tb->len = b.o.len;
        tb->scheme = b.scheme;
        tb->auth = b.auth;
        tb->path = b.path;
        tb->query = b.query;
    }
    out_free(&b.o);
    return rc;
}

void tw_url_base_free(struct tw_url_base *tb)
{
    free(tb->url);
    memset(tb, 0, sizeof *tb);
}

int tw_url_resolve(const struct tw_url_base *tb, const char *input, size_t len, char **out)
{
    if (!tb || !tb->url)
        return resolve(input, len, NULL, NULL, out);
    /* a read-only view: parse() only reads the base's text and offsets */
    struct parsed view = {
        .o = {.p = tb->url, .len = tb->len, .cap = tb->len + 1, .bare_pct = NO_POS},
        .scheme = tb->scheme, .auth = tb->auth, .path = tb->path, .query = tb->query,
    };
    return resolve(input, len, NULL, &view, out);
}

const char *tw_url_strerror(int err)
{
    switch (err) {
    case 0: return "ok";
    case TW_URL_EINVAL: return "not a valid URL";
    case TW_URL_ENOTHTTP: return "not an http or https URL";
    case TW_URL_EHOST: return "invalid host";
    case TW_URL_EPORT: return "invalid port";
    case TW_URL_ETOOLONG: return "URL too long";
    case TW_URL_ERELATIVE: return "relative URL without a base";
    case TW_URL_ENOMEM: return "out of memory";
    default: return "unknown URL error";
    }
}

/* ---- helpers on normalized URLs ---- */

/* The parts of a normalized URL, as spans of it. */
struct split {
    int scheme;
    const char *host;
    size_t host_len;
    unsigned port;
    const char *path;
};

static int split_url(const char *url, struct split *sp)
{
    const char *p;
    if (!url)
        return TW_URL_EINVAL;
    if (strncmp(url, "http://", 7) == 0) {
        sp->scheme = SCHEME_HTTP;
        p = url + 7;
    } else if (strncmp(url, "https://", 8) == 0) {
        sp->scheme = SCHEME_HTTPS;
        p = url + 8;
    } else {
        return TW_URL_EINVAL;
    }
    const char *end = p + strcspn(p, "/?#");
    if (*end != '/')
        return TW_URL_EINVAL;
    const char *h = p;
    for (const char *k = p; k < end; k++)
        if (*k == '@')
            h = k + 1;
    const char *he = h;
    if (*h == '[') {
        while (he < end && *he != ']')
            he++;
        if (he == end)
            return TW_URL_EINVAL;
        he++;
    } else {
        while (he < end && *he != ':')
            he++;
    }
    if (he == h)
        return TW_URL_EINVAL;
    sp->port = default_port[sp->scheme];
    if (he < end) {
        if (*he != ':' || he + 1 == end)
            return TW_URL_EINVAL;
        unsigned port = 0;
        for (const char *k = he + 1; k < end; k++) {
            if (!is_digit((unsigned char)*k) || (port = port * 10 + (unsigned)(*k - '0')) > 65535)
                return TW_URL_EINVAL;
        }
        sp->port = port;
    }
    sp->host = h;
    sp->host_len = (size_t)(he - h);
    sp->path = end;
    return 0;
}

int tw_url_host(const char *url, char *buf, size_t n)
{
    struct split sp;
    if (split_url(url, &sp))
        return TW_URL_EINVAL;
    if (sp.host_len >= n)
        return TW_URL_ETOOLONG;
    memcpy(buf, sp.host, sp.host_len);
    buf[sp.host_len] = '\0';
    return 0;
}

int tw_url_host_key(const char *url, char *buf, size_t n)
{
    struct split sp;
    char port[8];
    if (split_url(url, &sp))
        return TW_URL_EINVAL;
    int pn = snprintf(port, sizeof port, ":%u", sp.port);
    if (sp.host_len + (size_t)pn >= n)
        return TW_URL_ETOOLONG;
    memcpy(buf, sp.host, sp.host_len);
    memcpy(buf + sp.host_len, port, (size_t)pn + 1);
    return 0;
}

int tw_url_port(const char *url)
{
    struct split sp;
    return split_url(url, &sp) ? TW_URL_EINVAL : (int)sp.port;
}

const char *tw_url_path_query(const char *url)
{
    struct split sp;
    return split_url(url, &sp) ? NULL : sp.path;
}

int tw_url_same_origin(const char *a, const char *b)
{
    struct split x, y;
    if (split_url(a, &x) || split_url(b, &y))
        return 0;
    return x.scheme == y.scheme && x.port == y.port && x.host_len == y.host_len &&
           memcmp(x.host, y.host, x.host_len) == 0;
}

/* A normalized host is an IP address when it is bracketed or its last label is all
 * digits: the parser turns every host whose last label is a number into dotted IPv4. */
static int host_is_ip(const char *h, size_t n)
{
    if (h[0] == '[')
        return 1;
    size_t i = n;
    while (i > 0 && is_digit((unsigned char)h[i - 1]))
        i--;
    return i < n && (i == 0 || h[i - 1] == '.');
}

/* The registrable domain of a NUL-terminated host, or the host itself when it has
 * none (an IP address, a public suffix, a name under no known suffix). */
static const char *site_of(const char *host, size_t n)
{
    const psl_ctx_t *psl = psl_builtin();
    const char *rd = NULL;
    if (psl && !host_is_ip(host, n))
        rd = psl_registrable_domain(psl, host);
    return rd ? rd : host;
}

int tw_url_same_site(const char *a, const char *b)
{
    struct split x, y;
    if (split_url(a, &x) || split_url(b, &y))
        return 0;
    if (x.host_len == y.host_len && memcmp(x.host, y.host, x.host_len) == 0)
        return 1;
    if (host_is_ip(x.host, x.host_len) || host_is_ip(y.host, y.host_len))
        return 0;
    char sa[256], sb[256];
    char *ha = x.host_len < sizeof sa ? sa : malloc(x.host_len + 1);
    char *hb = y.host_len < sizeof sb ? sb : malloc(y.host_len + 1);
    int same = 0;
    if (ha && hb) {
        memcpy(ha, x.host, x.host_len);
        ha[x.host_len] = '\0';
        memcpy(hb, y.host, y.host_len);
        hb[y.host_len] = '\0';
        same = strcmp(site_of(ha, x.host_len), site_of(hb, y.host_len)) == 0;
    }
    if (ha != sa)
        free(ha);
    if (hb != sb)
        free(hb);
    return same;
}
