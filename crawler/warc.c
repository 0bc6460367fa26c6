/* warc.c - WARC/1.1 writer and reader: records as gzip members, sha1/base32 digests, rotation, repair. */
#include "warc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libdeflate.h>
#include <openssl/evp.h>
#include <zlib.h>

/*
 * The default level (TW_WARC_DEFAULT_LEVEL = 1) was measured with bench/bench_warc.c:
 * 2000 generated 16 KB HTML pages, MB/s of pages per CPU-second, gcc -O2, AMD EPYC VM:
 *   compression alone   libdeflate 1: ~200   3: ~125   6: ~75   zlib 6: ~44
 *   whole exchange      libdeflate 1: ~140-170 (about 10,000 pages/s)   3: ~86   6: ~60
 *   output size         level 1: 31% of the pages, 3: 29.5%, 6: 28%
 * Level 1 is the only one near the crawl's 160 MB/s per core; level 6 would buy files
 * 11% smaller for 2.5 times the CPU. SHA-1 (OpenSSL, SHA-NI) runs at ~1.7 GB/s, so the
 * cost is compression: the crawler should encode on its worker threads
 * (tw_warc_encode_exchange) and leave the writer only the write().
 */

#define SHA1_LEN 20
#define SHA1_LABEL_LEN 37 /* "sha1:" + 32 base32 chars */
#define UUID_URN_LEN 47   /* "<urn:uuid:" + 36 + ">" */
#define MAX_HEADER_BYTES (1u << 20)
#define WARC_VERSION "WARC/1.1"
#define CONFORMS_TO "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"

const char *tw_warc_strerror(int err)
{
    switch (err) {
    case 0: return "ok";
    case TW_WARC_EIO: return "i/o error";
    case TW_WARC_ENOMEM: return "out of memory";
    case TW_WARC_EINVAL: return "invalid argument";
    case TW_WARC_ETORN: return "data ends inside a record";
    case TW_WARC_EFORMAT: return "not a WARC record";
    case TW_WARC_ETOOBIG: return "record too large";
    case TW_WARC_EDIGEST: return "digest mismatch";
    case TW_WARC_EALGO: return "unsupported digest algorithm";
    default: return "unknown error";
    }
}

/* ------------------------------------------------------------------ buffers */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static int buf_reserve(buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return TW_WARC_ENOMEM;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return TW_WARC_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_add(buf *b, const void *data, size_t n)
{
    if (buf_reserve(b, n))
        return TW_WARC_ENOMEM;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

static int buf_str(buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

/* Appends "name: value CRLF". */
static int buf_field(buf *b, const char *name, const char *value)
{
    if (buf_str(b, name) || buf_add(b, ": ", 2) || buf_str(b, value) || buf_add(b, "\r\n", 2))
        return TW_WARC_ENOMEM;
    return 0;
}

static void buf_free(buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ------------------------------------------------------------------ small encodings */

/* RFC 4648 base32 of a SHA-1: 20 bytes are exactly 32 characters, so no padding. */
static void base32_sha1(const uint8_t in[SHA1_LEN], char out[33])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t o = 0;
    for (size_t i = 0; i < SHA1_LEN; i += 5) {
        uint64_t v = 0;
        for (size_t j = 0; j < 5; j++)
            v = v << 8 | in[i + j];
        for (int k = 35; k >= 0; k -= 5)
            out[o++] = alphabet[(v >> k) & 31];
    }
    out[o] = '\0';
}

static void sha1_label_from(const uint8_t md[SHA1_LEN], char out[38])
{
    memcpy(out, "sha1:", 5);
    base32_sha1(md, out + 5);
}

void tw_warc_sha1_label(const void *data, size_t len, char out[38])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    if (!EVP_Digest(len ? data : "", len, md, &md_len, EVP_sha1(), NULL) || md_len != SHA1_LEN)
        memset(md, 0, sizeof md); /* only when OpenSSL itself is broken; never matches a real digest */
    sha1_label_from(md, out);
}

/* A random (version 4) UUID as "<urn:uuid:...>". */
static int make_record_id(char out[UUID_URN_LEN + 1])
{
    uint8_t u[16];
    size_t got = 0;
    while (got < sizeof u) {
        ssize_t n = getrandom(u + got, sizeof u - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return TW_WARC_EIO;
        }
        got += (size_t)n;
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    snprintf(out, UUID_URN_LEN + 1,
             "<urn:uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x>",
             u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
             u[13], u[14], u[15]);
    return 0;
}

/* WARC-Date with microseconds, which WARC/1.1 allows and which keeps records ordered. */
static void format_date(struct timespec ts, char out[32])
{
    struct tm tm;
    time_t t = ts.tv_sec;
    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof tm);
    long usec = (ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L) ? ts.tv_nsec / 1000 : 0;
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%06ldZ", usec);
}

/* A header value must not smuggle in a line break or other control bytes. */
static bool safe_value(const char *s, bool allow_space)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (*p == ' ' && !allow_space))
            return false;
    return true;
}

/* ------------------------------------------------------------------ encoder */

struct tw_warc_encoder {
    struct libdeflate_compressor *comp;
    EVP_MD *sha1;      /* fetched once: an implicit fetch per digest costs microseconds */
    EVP_MD_CTX *ctx;
    buf fields;        /* the named fields of the record being built */
    buf head;          /* the response head without Transfer-Encoding */
    buf rec;           /* the uncompressed record */
    buf out;           /* the compressed members handed to the caller */
};

typedef struct piece {
    const void *p;
    size_t n;
} piece;

int tw_warc_encoder_new(int level, tw_warc_encoder **out)
{
    if (!out || level < 0 || level > 12)
        return TW_WARC_EINVAL;
    tw_warc_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return TW_WARC_ENOMEM;
    e->comp = libdeflate_alloc_compressor(level ? level : TW_WARC_DEFAULT_LEVEL);
    e->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    e->ctx = EVP_MD_CTX_new();
    if (!e->comp || !e->sha1 || !e->ctx) {
        tw_warc_encoder_free(e);
        return TW_WARC_ENOMEM;
    }
    *out = e;
    return 0;
}

void tw_warc_encoder_free(tw_warc_encoder *e)
{
    if (!e)
        return;
    if (e->comp)
        libdeflate_free_compressor(e->comp);
    EVP_MD_free(e->sha1);
    EVP_MD_CTX_free(e->ctx);
    buf_free(&e->fields);
    buf_free(&e->head);
    buf_free(&e->rec);
    buf_free(&e->out);
    free(e);
}

static int digest_pieces(tw_warc_encoder *e, const piece *pieces, int n, char label[38])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    if (!EVP_DigestInit_ex(e->ctx, e->sha1, NULL))
        return TW_WARC_ENOMEM;
    for (int i = 0; i < n; i++)
        if (pieces[i].n && !EVP_DigestUpdate(e->ctx, pieces[i].p, pieces[i].n))
            return TW_WARC_ENOMEM;
    if (!EVP_DigestFinal_ex(e->ctx, md, &md_len) || md_len != SHA1_LEN)
        return TW_WARC_ENOMEM;
    sha1_label_from(md, label);
    return 0;
}

/*
 * Builds one record from e->fields (the named fields other than digests, type and
 * length) and its block, and appends it to out as one gzip member.
 */
static int encode_record(tw_warc_encoder *e, buf *out, const char *content_type,
                         const piece *block, int nblock, const piece *payload)
{
    char label[38], num[24];
    size_t block_len = 0;
    for (int i = 0; i < nblock; i++)
        block_len += block[i].n;
    buf *r = &e->rec;
    r->len = 0;
    if (buf_str(r, WARC_VERSION "\r\n") || buf_add(r, e->fields.p, e->fields.len))
        return TW_WARC_ENOMEM;
    if (digest_pieces(e, block, nblock, label) || buf_field(r, "WARC-Block-Digest", label))
        return TW_WARC_ENOMEM;
    if (payload && (digest_pieces(e, payload, 1, label) || buf_field(r, "WARC-Payload-Digest", label)))
        return TW_WARC_ENOMEM;
    snprintf(num, sizeof num, "%zu", block_len);
    if (buf_field(r, "Content-Type", content_type) || buf_field(r, "Content-Length", num) ||
        buf_add(r, "\r\n", 2))
        return TW_WARC_ENOMEM;
    for (int i = 0; i < nblock; i++)
        if (buf_add(r, block[i].p, block[i].n))
            return TW_WARC_ENOMEM;
    if (buf_add(r, "\r\n\r\n", 4))
        return TW_WARC_ENOMEM;

    size_t bound = libdeflate_gzip_compress_bound(e->comp, r->len);
    if (buf_reserve(out, bound))
        return TW_WARC_ENOMEM;
    size_t n = libdeflate_gzip_compress(e->comp, r->p, r->len, out->p + out->len, bound);
    if (n == 0)
        return TW_WARC_ENOMEM; /* cannot happen with a bound-sized buffer */
    out->len += n;
    return 0;
}

static bool is_transfer_encoding(const uint8_t *line, size_t n)
{
    static const char name[] = "transfer-encoding";
    size_t k = sizeof name - 1;
    if (n < k || strncasecmp((const char *)line, name, k) != 0)
        return false;
    while (k < n && (line[k] == ' ' || line[k] == '\t'))
        k++;
    return k < n && line[k] == ':';
}

/*
 * Copies the response head into e->head without Transfer-Encoding fields (nor
 * their obsolete continuation lines), ending it with the blank line. Line ends
 * become CRLF (a bare LF from a sloppy server included) so that the first CRLF
 * CRLF of the block is exactly where the payload starts, as readers assume.
 * Leading blank lines are dropped; a head with no line at all is TW_WARC_EINVAL.
 */
static int filter_head(tw_warc_encoder *e, const uint8_t *h, size_t n)
{
    buf *b = &e->head;
    b->len = 0;
    bool first = true, dropping = false;
    size_t i = 0;
    while (i < n) {
        const uint8_t *lf = memchr(h + i, '\n', n - i);
        size_t end = lf ? (size_t)(lf - h) + 1 : n;
        const uint8_t *line = h + i;
        size_t len = end - i;
        i = end;
        if (lf)
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        if (len == 0) {
            if (first)
                continue;
            break;
        }
        bool continuation = !first && (line[0] == ' ' || line[0] == '\t');
        if (!continuation)
            dropping = !first && is_transfer_encoding(line, len);
        first = false;
        if (!dropping && (buf_add(b, line, len) || buf_add(b, "\r\n", 2)))
            return TW_WARC_ENOMEM;
    }
    if (first)
        return TW_WARC_EINVAL;
    return buf_add(b, "\r\n", 2);
}

static int exchange_fields(tw_warc_encoder *e, const char *type, const char *id, const char *other_id,
                           const char *date, const tw_warc_exchange *x)
{
    buf *f = &e->fields;
    f->len = 0;
    if (buf_field(f, "WARC-Type", type) || buf_field(f, "WARC-Record-ID", id) ||
        buf_field(f, "WARC-Date", date) || buf_field(f, "WARC-Target-URI", x->target_uri) ||
        (x->ip_address && *x->ip_address && buf_field(f, "WARC-IP-Address", x->ip_address)) ||
        buf_field(f, "WARC-Concurrent-To", other_id) ||
        (x->truncated && strcmp(type, "response") == 0 && buf_field(f, "WARC-Truncated", "length")))
        return TW_WARC_ENOMEM;
    return 0;
}

int tw_warc_encode_exchange(tw_warc_encoder *e, const tw_warc_exchange *x, const uint8_t **out,
                            size_t *out_len)
{
    if (!e || !x || !out || !out_len || !x->target_uri || !*x->target_uri ||
        !safe_value(x->target_uri, false) || (x->ip_address && !safe_value(x->ip_address, false)) ||
        (!x->request && x->request_len) || !x->response_head || !x->response_head_len ||
        (!x->body && x->body_len))
        return TW_WARC_EINVAL;
    char req_id[UUID_URN_LEN + 1], resp_id[UUID_URN_LEN + 1], date[32];
    if (make_record_id(req_id) || make_record_id(resp_id))
        return TW_WARC_EIO;
    format_date(x->date, date);
    e->out.len = 0;

    piece req = {x->request, x->request_len};
    int rc = exchange_fields(e, "request", req_id, resp_id, date, x);
    if (!rc)
        rc = encode_record(e, &e->out, "application/http;msgtype=request", &req, 1, NULL);
    if (!rc)
        rc = filter_head(e, x->response_head, x->response_head_len);
    if (!rc)
        rc = exchange_fields(e, "response", resp_id, req_id, date, x);
    if (!rc) {
        piece block[2] = {{e->head.p, e->head.len}, {x->body, x->body_len}};
        rc = encode_record(e, &e->out, "application/http;msgtype=response", block, 2, &block[1]);
    }
    if (rc)
        return rc;
    *out = e->out.p;
    *out_len = e->out.len;
    return 0;
}

/* ------------------------------------------------------------------ writer */

struct tw_warc {
    int dirfd, fd;
    char *dir, *path;
    tw_warc_options opt;         /* its strings point into the copies below */
    char *strings[5];
    uint64_t max, size;
    unsigned files, serial;
    unsigned exchanges;          /* exchanges in the current file */
    tw_warc_encoder *enc;
    buf info;                    /* the warcinfo member: apart from enc->out, which a rotation
                                    inside tw_warc_write_exchange() is still writing out */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return TW_WARC_EIO;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Appends data; on failure cuts the file back so no partial member stays behind. */
static int append(tw_warc *w, const uint8_t *data, size_t len)
{
    if (write_all(w->fd, data, len)) {
        int saved = errno;
        if (ftruncate(w->fd, (off_t)w->size) != 0) { /* the next repair will cut it */ }
        errno = saved;
        return TW_WARC_EIO;
    }
    w->size += len;
    return 0;
}

static int write_warcinfo(tw_warc *w, const char *name)
{
    tw_warc_encoder *e = w->enc;
    char id[UUID_URN_LEN + 1], date[32], host[256];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    format_date(now, date);
    if (make_record_id(id))
        return TW_WARC_EIO;
    if (gethostname(host, sizeof host) != 0 || !safe_value(host, false))
        host[0] = '\0';
    host[sizeof host - 1] = '\0';

    buf body = {0};
    int rc = TW_WARC_ENOMEM;
    if (buf_field(&body, "software", w->opt.software) ||
        buf_field(&body, "format", "WARC File Format 1.1") ||
        buf_field(&body, "conformsTo", CONFORMS_TO) ||
        (host[0] && buf_field(&body, "hostname", host)) ||
        (w->opt.operator_name && buf_field(&body, "operator", w->opt.operator_name)) ||
        (w->opt.user_agent && buf_field(&body, "http-header-user-agent", w->opt.user_agent)) ||
        (w->opt.robots && buf_field(&body, "robots", w->opt.robots)))
        goto out;
    e->fields.len = 0;
    if (buf_field(&e->fields, "WARC-Type", "warcinfo") || buf_field(&e->fields, "WARC-Record-ID", id) ||
        buf_field(&e->fields, "WARC-Date", date) || buf_field(&e->fields, "WARC-Filename", name))
        goto out;
    piece block = {body.p, body.len};
    w->info.len = 0;
    rc = encode_record(e, &w->info, "application/warc-fields", &block, 1, NULL);
    if (!rc)
        rc = append(w, w->info.p, w->info.len);
out:
    buf_free(&body);
    return rc;
}

/* Creates the next file under a name no file has, syncs the directory, writes warcinfo. */
static int start_file(tw_warc *w)
{
    char stamp[32], name[300];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    int fd = -1;
    for (;;) {
        snprintf(name, sizeof name, "%s-%s-%05u.warc.gz", w->opt.prefix, stamp, w->serial++);
        fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0)
        return TW_WARC_EIO;
    if (fsync(w->dirfd) != 0 && errno != EINVAL) { /* some filesystems cannot sync directories */
        int saved = errno;
        close(fd);
        errno = saved;
        return TW_WARC_EIO;
    }
    size_t plen = strlen(w->dir) + 1 + strlen(name) + 1;
    char *path = malloc(plen);
    if (!path) {
        close(fd);
        return TW_WARC_ENOMEM;
    }
    snprintf(path, plen, "%s/%s", w->dir, name);
    free(w->path);
    w->path = path;
    w->fd = fd;
    w->size = 0;
    w->exchanges = 0;
    w->files++;
    return write_warcinfo(w, name);
}

static int close_file(tw_warc *w)
{
    if (w->fd < 0)
        return 0;
    int rc = fdatasync(w->fd) == 0 ? 0 : TW_WARC_EIO;
    int saved = errno;
    if (close(w->fd) != 0 && rc == 0)
        rc = TW_WARC_EIO;
    else
        errno = saved;
    w->fd = -1;
    return rc;
}

static int copy_option(tw_warc *w, int slot, const char *src, const char *fallback, const char **dst)
{
    if (!src)
        src = fallback;
    if (!src) {
        *dst = NULL;
        return 0;
    }
    if (!safe_value(src, true))
        return TW_WARC_EINVAL;
    if (!(w->strings[slot] = strdup(src)))
        return TW_WARC_ENOMEM;
    *dst = w->strings[slot];
    return 0;
}

int tw_warc_open(const char *dir, const tw_warc_options *opts, tw_warc **out)
{
    if (!dir || !out)
        return TW_WARC_EINVAL;
    tw_warc_options o = opts ? *opts : (tw_warc_options){0};
    tw_warc *w = calloc(1, sizeof *w);
    if (!w)
        return TW_WARC_ENOMEM;
    w->fd = w->dirfd = -1;
    w->max = o.max_file_bytes ? o.max_file_bytes : TW_WARC_DEFAULT_MAX_FILE_BYTES;
    int rc = tw_warc_encoder_new(o.level, &w->enc);
    if (!rc && !(w->dir = strdup(dir)))
        rc = TW_WARC_ENOMEM;
    if (!rc)
        rc = copy_option(w, 0, o.prefix, "trawl", &w->opt.prefix);
    if (!rc && (strchr(w->opt.prefix, '/') || strlen(w->opt.prefix) > 200))
        rc = TW_WARC_EINVAL;
    if (!rc)
        rc = copy_option(w, 1, o.software, "trawl", &w->opt.software);
    if (!rc)
        rc = copy_option(w, 2, o.operator_name, NULL, &w->opt.operator_name);
    if (!rc)
        rc = copy_option(w, 3, o.user_agent, NULL, &w->opt.user_agent);
    if (!rc)
        rc = copy_option(w, 4, o.robots, NULL, &w->opt.robots);
    if (!rc && (w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        rc = TW_WARC_EIO;
    if (!rc)
        rc = start_file(w);
    if (rc) {
        int saved = errno;
        tw_warc_close(w);
        errno = saved;
        return rc;
    }
    *out = w;
    return 0;
}

int tw_warc_write_encoded(tw_warc *w, const uint8_t *data, size_t len)
{
    if (!w || (!data && len))
        return TW_WARC_EINVAL;
    if (w->fd < 0)
        return TW_WARC_EIO; /* a failed rotation left no file open */
    if (w->exchanges > 0 && len > w->max - (w->size < w->max ? w->size : w->max)) {
        int rc = close_file(w);
        if (!rc)
            rc = start_file(w);
        if (rc)
            return rc;
    }
    int rc = append(w, data, len);
    if (!rc)
        w->exchanges++;
    return rc;
}

int tw_warc_write_exchange(tw_warc *w, const tw_warc_exchange *x)
{
    if (!w)
        return TW_WARC_EINVAL;
    const uint8_t *data;
    size_t len;
    int rc = tw_warc_encode_exchange(w->enc, x, &data, &len);
    return rc ? rc : tw_warc_write_encoded(w, data, len);
}

int tw_warc_flush(tw_warc *w)
{
    if (!w)
        return TW_WARC_EINVAL;
    if (w->fd >= 0 && fdatasync(w->fd) != 0)
        return TW_WARC_EIO;
    return 0;
}

int tw_warc_close(tw_warc *w)
{
    if (!w)
        return 0;
    int rc = close_file(w);
    if (w->dirfd >= 0)
        close(w->dirfd);
    tw_warc_encoder_free(w->enc);
    buf_free(&w->info);
    for (size_t i = 0; i < sizeof w->strings / sizeof w->strings[0]; i++)
        free(w->strings[i]);
    free(w->dir);
    free(w->path);
    free(w);
    return rc;
}

const char *tw_warc_path(const tw_warc *w)
{
    return w ? w->path : NULL;
}

unsigned tw_warc_file_count(const tw_warc *w)
{
    return w ? w->files : 0;
}

/* ------------------------------------------------------------------ reader */

struct tw_warc_reader {
    const uint8_t *data;
    size_t len, pos;
    uint64_t max_record;
    bool gzip, z_ready;
    int error;                 /* sticky: once set, every call returns it */
    z_stream z;
    buf member;                /* the decompressed member */
    buf header;                /* NUL-terminated copy of the named fields */
    tw_warc_field *fields;
    size_t field_cap;
    char version[33];
    void *map;                 /* set when the reader mapped a file */
    size_t map_len;
};

int tw_warc_reader_new(const void *data, size_t len, uint64_t max_record, tw_warc_reader **out)
{
    if ((!data && len) || !out)
        return TW_WARC_EINVAL;
    tw_warc_reader *r = calloc(1, sizeof *r);
    if (!r)
        return TW_WARC_ENOMEM;
    r->data = data;
    r->len = len;
    r->max_record = max_record ? max_record : TW_WARC_DEFAULT_MAX_RECORD;
    r->gzip = len >= 2 && r->data[0] == 0x1f && r->data[1] == 0x8b;
    *out = r;
    return 0;
}

int tw_warc_reader_open(const char *path, tw_warc_reader **out)
{
    if (!path || !out)
        return TW_WARC_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return TW_WARC_EIO;
    struct stat st;
    void *map = NULL;
    if (fstat(fd, &st) != 0 || (st.st_size > 0 && (uint64_t)st.st_size > SIZE_MAX)) {
        close(fd);
        return TW_WARC_EIO;
    }
    size_t len = (size_t)st.st_size;
    if (len && (map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        int saved = errno;
        close(fd);
        errno = saved;
        return TW_WARC_EIO;
    }
    close(fd);
    int rc = tw_warc_reader_new(map ? map : "", len, 0, out);
    if (rc) {
        if (map)
            munmap(map, len);
        return rc;
    }
    (*out)->map = map;
    (*out)->map_len = len;
    return 0;
}

void tw_warc_reader_free(tw_warc_reader *r)
{
    if (!r)
        return;
    if (r->z_ready)
        inflateEnd(&r->z);
    if (r->map)
        munmap(r->map, r->map_len);
    buf_free(&r->member);
    buf_free(&r->header);
    free(r->fields);
    free(r);
}

/*
 * Splits the copied header (version line excluded) into fields, in place.
 * Obsolete folding (a line starting with SP/HT) continues the previous value.
 */
static int split_fields(tw_warc_reader *r, size_t *count)
{
    char *h = (char *)r->header.p;
    size_t n = r->header.len;
    for (size_t i = 0; i + 2 < n; i++)
        if (h[i] == '\r' && h[i + 1] == '\n' && (h[i + 2] == ' ' || h[i + 2] == '\t'))
            h[i] = h[i + 1] = ' ';
    size_t c = 0, i = 0;
    while (i < n) {
        char *line = h + i;
        char *crlf = memmem(line, n - i, "\r\n", 2);
        if (!crlf)
            return TW_WARC_EFORMAT;
        *crlf = '\0';
        i = (size_t)(crlf - h) + 2;
        char *colon = strchr(line, ':');
        if (!colon || colon == line)
            return TW_WARC_EFORMAT;
        for (char *p = line; p < colon; p++)
            if ((unsigned char)*p <= ' ' || *p == 0x7f)
                return TW_WARC_EFORMAT;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char *end = v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (c == r->field_cap) {
            size_t cap = r->field_cap ? r->field_cap * 2 : 16;
            tw_warc_field *f = realloc(r->fields, cap * sizeof *f);
            if (!f)
                return TW_WARC_ENOMEM;
            r->fields = f;
            r->field_cap = cap;
        }
        r->fields[c].name = line;
        r->fields[c].value = v;
        c++;
    }
    *count = c;
    return 0;
}

static int parse_length(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return TW_WARC_EFORMAT;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return TW_WARC_EFORMAT;
        if (v > (UINT64_MAX - 9) / 10)
            return TW_WARC_ETOOBIG;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > max)
        return TW_WARC_ETOOBIG;
    *out = v;
    return 0;
}

/*
 * Parses one record at p[0..n). incomplete is the error for data that stops
 * early: TW_WARC_ETORN in a plain stream, TW_WARC_EFORMAT inside a whole member.
 */
static int parse_record(tw_warc_reader *r, const uint8_t *p, size_t n, int incomplete,
                        tw_warc_record *rec, size_t *consumed)
{
    static const char magic[] = "WARC/";
    size_t m = n < sizeof magic - 1 ? n : sizeof magic - 1;
    if (memcmp(p, magic, m) != 0)
        return TW_WARC_EFORMAT;
    size_t limit = n < MAX_HEADER_BYTES ? n : MAX_HEADER_BYTES;
    const uint8_t *eol = memmem(p, limit, "\r\n", 2);
    if (!eol)
        return n < MAX_HEADER_BYTES ? incomplete : TW_WARC_EFORMAT;
    size_t vlen = (size_t)(eol - p);
    if (vlen >= sizeof r->version || vlen < sizeof magic)
        return TW_WARC_EFORMAT;
    for (size_t i = 0; i < vlen; i++)
        if (p[i] <= ' ' || p[i] >= 0x7f)
            return TW_WARC_EFORMAT;
    memcpy(r->version, p, vlen);
    r->version[vlen] = '\0';

    size_t hstart = vlen + 2;
    /* The CRLF ending the last field (or the version line) and the blank line. */
    const uint8_t *hend = memmem(p + vlen, limit - vlen, "\r\n\r\n", 4);
    if (!hend)
        return n < MAX_HEADER_BYTES ? incomplete : TW_WARC_EFORMAT;
    size_t hlen = (size_t)(hend - p) + 2 - hstart; /* named fields with their CRLFs */
    if (memchr(p + hstart, '\0', hlen))
        return TW_WARC_EFORMAT;
    r->header.len = 0;
    if (buf_add(&r->header, p + hstart, hlen) || buf_add(&r->header, "", 1))
        return TW_WARC_ENOMEM;
    r->header.len = hlen; /* the NUL stays after the data */
    size_t count = 0;
    int rc = split_fields(r, &count);
    if (rc)
        return rc;
    rec->version = r->version;
    rec->fields = r->fields;
    rec->field_count = count;

    const char *cl = tw_warc_record_field(rec, "Content-Length");
    uint64_t block_len;
    if (!cl)
        return TW_WARC_EFORMAT;
    if ((rc = parse_length(cl, r->max_record, &block_len)))
        return rc;
    size_t body = hstart + hlen + 2;
    if (block_len > n - body || n - body - block_len < 4)
        return incomplete;
    if (memcmp(p + body + block_len, "\r\n\r\n", 4) != 0)
        return TW_WARC_EFORMAT;
    rec->block = p + body;
    rec->block_len = (size_t)block_len;
    *consumed = body + (size_t)block_len + 4;
    return 0;
}

/* Inflates the gzip member at r->pos into r->member; sets *in_used to its compressed size. */
static int inflate_member(tw_warc_reader *r, size_t *in_used)
{
    if (!r->z_ready) {
        memset(&r->z, 0, sizeof r->z);
        if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
            return TW_WARC_ENOMEM;
        r->z_ready = true;
    } else if (inflateReset(&r->z) != Z_OK) {
        return TW_WARC_ENOMEM;
    }
    const uint8_t *in = r->data + r->pos;
    size_t in_left = r->len - r->pos;
    if (in_left < 2 || in[0] != 0x1f || in[1] != 0x8b)
        return in_left < 2 && (in_left == 0 || in[0] == 0x1f) ? TW_WARC_ETORN : TW_WARC_EFORMAT;
    r->member.len = 0;
    r->z.avail_in = 0;
    for (;;) {
        if (r->z.avail_in == 0 && in_left) {
            r->z.next_in = (Bytef *)(uintptr_t)in;
            r->z.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
            in += r->z.avail_in;
            in_left -= r->z.avail_in;
        }
        if (r->member.len == r->member.cap) {
            if (r->member.len >= r->max_record + MAX_HEADER_BYTES + 4)
                return TW_WARC_ETOOBIG;
            if (buf_reserve(&r->member, r->member.cap ? r->member.cap : 65536))
                return TW_WARC_ENOMEM;
        }
        size_t room = r->member.cap - r->member.len;
        r->z.next_out = r->member.p + r->member.len;
        r->z.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = r->z.avail_out;
        int zrc = inflate(&r->z, Z_NO_FLUSH);
        r->member.len += before - r->z.avail_out;
        if (zrc == Z_STREAM_END)
            break;
        if (zrc == Z_MEM_ERROR)
            return TW_WARC_ENOMEM;
        if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            return TW_WARC_EFORMAT;
        if (r->z.avail_in == 0 && in_left == 0 && r->z.avail_out != 0)
            return TW_WARC_ETORN;
    }
    *in_used = (size_t)(in - (r->data + r->pos)) - r->z.avail_in;
    return 0;
}

int tw_warc_reader_next(tw_warc_reader *r, tw_warc_record *rec)
{
    if (!r || !rec)
        return TW_WARC_EINVAL;
    if (r->error)
        return r->error;
    if (r->pos == r->len)
        return 0;
    size_t used = 0, consumed = 0;
    int rc;
    if (r->gzip) {
        rc = inflate_member(r, &used);
        if (!rc && r->member.len == 0)
            rc = TW_WARC_EFORMAT;
        if (!rc)
            rc = parse_record(r, r->member.p, r->member.len, TW_WARC_EFORMAT, rec, &consumed);
        if (!rc && consumed != r->member.len)
            rc = TW_WARC_EFORMAT; /* one record per member, as the contract says */
    } else {
        rc = parse_record(r, r->data + r->pos, r->len - r->pos, TW_WARC_ETORN, rec, &consumed);
        used = consumed;
    }
    if (rc) {
        r->error = rc;
        return rc;
    }
    rec->offset = r->pos;
    r->pos += used;
    rec->end_offset = r->pos;
    return 1;
}

const char *tw_warc_record_field(const tw_warc_record *rec, const char *name)
{
    if (!rec || !name)
        return NULL;
    for (size_t i = 0; i < rec->field_count; i++)
        if (strcasecmp(rec->fields[i].name, name) == 0)
            return rec->fields[i].value;
    return NULL;
}

/* Compares a "sha1:..." field (base32, or hex as some tools write) with data's digest. */
static int check_one(const char *field, const uint8_t *data, size_t len)
{
    if (strncasecmp(field, "sha1:", 5) != 0)
        return TW_WARC_EALGO;
    char want[38];
    tw_warc_sha1_label(data, len, want);
    const char *got = field + 5;
    size_t n = strlen(got);
    if (n == 32)
        return strcasecmp(got, want + 5) == 0 ? 0 : TW_WARC_EDIGEST;
    if (n == 40) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        char hex[41];
        if (!EVP_Digest(len ? (const void *)data : "", len, md, &md_len, EVP_sha1(), NULL))
            return TW_WARC_ENOMEM;
        for (unsigned i = 0; i < SHA1_LEN; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        return strcasecmp(got, hex) == 0 ? 0 : TW_WARC_EDIGEST;
    }
    return TW_WARC_EDIGEST;
}

int tw_warc_record_check_digests(const tw_warc_record *rec)
{
    if (!rec)
        return TW_WARC_EINVAL;
    const char *block = tw_warc_record_field(rec, "WARC-Block-Digest");
    const char *payload = tw_warc_record_field(rec, "WARC-Payload-Digest");
    int rc = block ? check_one(block, rec->block, rec->block_len) : 0;
    if (rc || !payload)
        return rc;
    const char *type = tw_warc_record_field(rec, "Content-Type");
    if (!type || strncasecmp(type, "application/http", 16) != 0)
        return check_one(payload, rec->block, rec->block_len); /* the block is the payload */
    const uint8_t *end = rec->block_len >= 4 ? memmem(rec->block, rec->block_len, "\r\n\r\n", 4) : NULL;
    if (!end)
        return TW_WARC_EFORMAT;
    size_t off = (size_t)(end - rec->block) + 4;
    return check_one(payload, rec->block + off, rec->block_len - off);
}

/* ------------------------------------------------------------------ repair */

int tw_warc_repair(const char *path, uint64_t *good_len)
{
    if (!path)
        return TW_WARC_EINVAL;
    tw_warc_reader *r;
    int rc = tw_warc_reader_open(path, &r);
    if (rc)
        return rc;
    r->max_record = UINT64_MAX / 4; /* never cut a record for being large */
    tw_warc_record rec;
    uint64_t good = 0;
    while ((rc = tw_warc_reader_next(r, &rec)) == 1)
        good = rec.end_offset;
    size_t total = r->len;
    tw_warc_reader_free(r);
    if (rc == TW_WARC_ENOMEM || rc == TW_WARC_EINVAL)
        return rc;
    if (good_len)
        *good_len = rc == 0 ? total : good;
    if (rc == 0)
        return 0;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return TW_WARC_EIO;
    if (ftruncate(fd, (off_t)good) != 0 || fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return TW_WARC_EIO;
    }
    close(fd);
    return 1;
}
