/* pages.c - pages.jsonl: JSON line formatting, atomic appends, crash repair. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "pages.h"

struct tw_pages {
    int fd;
};

/* ---- a growable byte buffer ---- */

typedef struct buf {
    char *p;
    size_t len, cap;
    int oom;
} buf;

static void buf_reserve(buf *b, size_t extra)
{
    if (b->oom || b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

static void buf_add(buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_i64(buf *b, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    buf_add(b, tmp, (size_t)n);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if it is not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

static void buf_json_string(buf *b, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    buf_add(b, "\"", 1);
    size_t i = 0;
    while (i < n && !b->oom) {
        size_t run = i; /* copy plain stretches in one go */
        while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
            run++;
        buf_add(b, (const char *)s + i, run - i);
        i = run;
        if (i >= n)
            break;
        unsigned c = s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            buf_add(b, esc, 2);
            i++;
        } else if (c < 0x20) {
            char esc[8];
            switch (c) {
            case '\n': buf_add(b, "\\n", 2); break;
            case '\r': buf_add(b, "\\r", 2); break;
            case '\t': buf_add(b, "\\t", 2); break;
            case '\b': buf_add(b, "\\b", 2); break;
            case '\f': buf_add(b, "\\f", 2); break;
            default:
                snprintf(esc, sizeof esc, "\\u%04x", c);
                buf_add(b, esc, 6);
            }
            i++;
        } else {
            size_t len = utf8_seq(s + i, n - i);
            if (len) {
                buf_add(b, (const char *)s + i, len);
                i += len;
            } else {
                buf_add(b, "\xEF\xBF\xBD", 3); /* U+FFFD for this one byte */
                i++;
            }
        }
    }
    buf_add(b, "\"", 1);
}

static void buf_json_or_null(buf *b, const char *s)
{
    if (s)
        buf_json_string(b, s, strlen(s));
    else
        buf_str(b, "null");
}

/* RFC 3339 UTC with milliseconds. */
static void buf_time(buf *b, int64_t ms_since_epoch)
{
    int64_t secs = ms_since_epoch / 1000, ms = ms_since_epoch % 1000;
    if (ms < 0) {
        ms += 1000;
        secs--;
    }
    time_t t = (time_t)secs;
    struct tm tm;
    char tmp[64];
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        buf_str(b, "null"); /* no RFC 3339 form exists outside years 0000-9999 */
        return;
    }
    snprintf(tmp, sizeof tmp, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)ms);
    buf_str(b, tmp);
}

char *tw_json_quote(const char *s, size_t len)
{
    buf b = {0};
    buf_json_string(&b, s, len);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

char *tw_pages_format(const tw_page_record *r, size_t *len)
{
    buf b = {0};
    buf_str(&b, "{\"url\":");
    buf_json_string(&b, r->url ? r->url : "", r->url ? strlen(r->url) : 0);
    buf_str(&b, ",\"status\":");
    buf_i64(&b, r->status);
    buf_str(&b, ",\"error\":");
    buf_json_or_null(&b, r->error);
    buf_str(&b, ",\"attempts\":");
    buf_i64(&b, r->attempts);
    buf_str(&b, ",\"depth\":");
    buf_i64(&b, r->depth);
    buf_str(&b, ",\"parent\":");
    buf_json_or_null(&b, r->parent);
    buf_str(&b, ",\"content_type\":");
    buf_json_or_null(&b, r->content_type);
    buf_str(&b, ",\"bytes\":");
    buf_i64(&b, r->bytes);
    buf_str(&b, r->truncated ? ",\"truncated\":true" : ",\"truncated\":false");
    buf_str(&b, ",\"links\":");
    buf_i64(&b, r->links);
    buf_str(&b, ",\"redirect\":");
    buf_json_or_null(&b, r->redirect);
    buf_str(&b, ",\"fetched_at\":");
    buf_time(&b, r->fetched_at_ms);
    buf_str(&b, ",\"ms\":");
    buf_i64(&b, r->ms);
    buf_str(&b, "}\n");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    if (len)
        *len = b.len;
    return b.p;
}

/* ---- the file ---- */

/* DIR/pages.jsonl in a new string, or NULL. */
static char *file_path(const char *dir)
{
    char *path;
    return asprintf(&path, "%s/%s", dir, TW_PAGES_FILE) < 0 ? NULL : path;
}

tw_pages *tw_pages_open(const char *dir, char *err, size_t n)
{
    tw_pages *p = malloc(sizeof *p);
    char *path = file_path(dir);
    if (!p || !path) {
        free(p);
        free(path);
        if (n)
            snprintf(err, n, "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    p->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (p->fd < 0) {
        int e = errno;
        if (n)
            snprintf(err, n, "cannot open %s: %s", path, strerror(e));
        free(p);
        free(path);
        errno = e;
        return NULL;
    }
    free(path);
    return p;
}

int tw_pages_append(tw_pages *p, const char *lines, size_t len)
{
    if (len == 0)
        return 0;
    ssize_t w;
    do
        w = write(p->fd, lines, len);
    while (w < 0 && errno == EINTR);
    if (w < 0)
        return -errno;
    if ((size_t)w < len) {
        /* Only a full disk or a file size limit cuts a regular file's write short:
         * take the fragment back so the file still ends where it ended. */
        off_t end = lseek(p->fd, 0, SEEK_END);
        if (end >= w && ftruncate(p->fd, end - w) < 0)
            return -errno;
        return -ENOSPC;
    }
    return 0;
}

int tw_pages_write(tw_pages *p, const tw_page_record *r)
{
    size_t len;
    char *line = tw_pages_format(r, &len);
    if (!line)
        return -ENOMEM;
    int rc = tw_pages_append(p, line, len);
    free(line);
    return rc;
}

int tw_pages_sync(tw_pages *p) { return fsync(p->fd) < 0 ? -errno : 0; }

int tw_pages_close(tw_pages *p)
{
    if (!p)
        return 0;
    int rc = close(p->fd) < 0 ? -errno : 0;
    free(p);
    return rc;
}

/* ---- repair ---- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static long hex4(const char *s, const char *end)
{
    if (end - s < 4)
        return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval((unsigned char)s[i]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/*
 * Decodes the JSON string whose opening quote is at s[-1], up to end, into out (at
 * least end - s + 1 bytes: decoding never lengthens). Returns the decoded length, or
 * -1 if the string is malformed or unterminated; *stop (if not NULL) is set past the
 * closing quote.
 */
static long json_unquote(const char *s, const char *end, char *out, const char **stop)
{
    size_t n = 0;
    while (s < end) {
        char c = *s++;
        if (c == '"') {
            out[n] = '\0';
            if (stop)
                *stop = s;
            return (long)n;
        }
        if ((unsigned char)c < 0x20)
            return -1;
        if (c != '\\') {
            out[n++] = c;
            continue;
        }
        if (s >= end)
            return -1;
        c = *s++;
        switch (c) {
        case '"': case '\\': case '/': out[n++] = c; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            long cp = hex4(s, end);
            if (cp < 0)
                return -1;
            s += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && end - s >= 6 && s[0] == '\\' && s[1] == 'u') {
                long lo = hex4(s + 2, end);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    s += 6;
                }
            }
            if (cp >= 0xD800 && cp <= 0xDFFF)
                cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
            /* \uXXXX is 6 input bytes for at most 3 output bytes (4 for 12 in a pair). */
            n += put_utf8(out + n, (unsigned long)cp);
            break;
        }
        default: return -1;
        }
    }
    return -1;
}

char *tw_json_unquote(const char *s, size_t n, size_t *used, size_t *len)
{
    if (n < 2 || s[0] != '"')
        return NULL;
    char *out = malloc(n);
    const char *stop;
    long got = out ? json_unquote(s + 1, s + n, out, &stop) : -1;
    if (got < 0) {
        free(out);
        return NULL;
    }
    if (used)
        *used = (size_t)(stop - s);
    if (len)
        *len = (size_t)got;
    return out;
}

/* Whether line (len bytes, '\n' included) is one we wrote whole; decodes its url. */
static long good_line(const char *line, size_t len, char *url)
{
    static const char head[] = "{\"url\":\"";
    if (len < sizeof head + 2 || line[len - 1] != '\n' || line[len - 2] != '}' ||
        memchr(line, '\0', len) || memcmp(line, head, sizeof head - 1) != 0)
        return -1;
    return json_unquote(line + sizeof head - 1, line + len - 2, url, NULL);
}

long tw_pages_repair(const char *dir, tw_pages_url_fn fn, void *ctx)
{
    char *path = file_path(dir);
    if (!path)
        return -ENOMEM;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    free(path);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        int e = errno;
        close(fd);
        return -e;
    }
    char *line = NULL, *url = NULL;
    size_t cap = 0, url_cap = 0;
    long good = 0, rc = 0;
    off_t off = 0, good_end = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        off += n;
        if (url_cap < (size_t)n + 1) {
            char *p = realloc(url, (size_t)n + 1);
            if (!p) {
                rc = -ENOMEM;
                break;
            }
            url = p;
            url_cap = (size_t)n + 1;
        }
        long ulen = good_line(line, (size_t)n, url);
        if (ulen < 0)
            continue;
        good++;
        good_end = off;
        if (fn && fn(ctx, url, (size_t)ulen) != 0) {
            rc = -ECANCELED;
            break;
        }
    }
    if (rc == 0 && ferror(f))
        rc = -EIO;
    if (rc == 0 && off > good_end) {
        if (ftruncate(fd, good_end) < 0 || fsync(fd) < 0)
            rc = -errno;
    }
    free(line);
    free(url);
    fclose(f);
    return rc < 0 ? rc : good;
}
