/* fetch.c - the HTTP service: processes that drive libcurl multi handles through tr_select. */
#include "fetch.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#if __has_include(<brotli/decode.h>)
#include <brotli/decode.h>
#define HAVE_BROTLI_HEADER 1
#endif

/* Message tags, private to this module (below TR_TAG_RESERVED). */
#define TAG_BASE 0x7466657400000000ull
#define TAG_REQUEST (TAG_BASE + 1)      /* caller -> service: a request (ref = caller's monitor ref) */
#define TAG_CANCEL (TAG_BASE + 2)       /* caller -> service: give up the request with this ref */
#define TAG_STOP (TAG_BASE + 3)         /* anyone -> service: end cleanly */
#define TAG_FD (TAG_BASE + 4)           /* runtime -> service: a socket is ready (tr_select) */
#define TAG_BODY (TAG_BASE + 7)     /* service -> caller: the body binary of a reply ... */
#define TAG_RAW_BODY (TAG_BASE + 8) /* ... the raw body, when it differs from the body ... */
#define TAG_DONE (TAG_BASE + 9)     /* ... and last, the rest: a wire_resp */

/* How long a caller waits beyond its timeout before it gives up on the service, and how
 * long it then waits for the service to confirm the cancel. */
#define REPLY_MARGIN_MS 5000
#define CANCEL_GRACE_MS 2000
/* Connections one service keeps open, busy or idle, before it closes the oldest idle
 * one. libcurl's default (4 per transfer added) shrinks as transfers end, and closed
 * kept-alive connections under load; this bounds the descriptors a service holds. */
#define MAX_CACHED_CONNECTIONS 2048
/* Caps on the header blocks kept for WARC records. */
#define MAX_HEAD_BYTES (256 * 1024)
/* libcurl's receive buffer (its default is 16 KiB). A typical page with its head is a
 * little over 16 KiB, and libcurl follows a full read with a poll() and another read:
 * one read takes in the whole response instead, and a large body costs a quarter of the
 * reads and write callbacks. The memory is touched only as far as responses reach. */
#define RECV_BUFFER_BYTES (64L * 1024)

static const char *const DEFAULT_UA = "trawl/0.1";

/* ---------------------------------------------------------------- brotli, loaded on demand */

/* libbrotlidec is opened with dlopen rather than linked: the build links only the
 * packages the Makefile lists, and libcurl already depends on libbrotli1, so the
 * library is present wherever libcurl decodes brotli itself. The table is written once
 * under pthread_once and read-only afterwards. */
#ifdef HAVE_BROTLI_HEADER
typedef struct brotli_api {
    BrotliDecoderState *(*create)(brotli_alloc_func, brotli_free_func, void *);
    BrotliDecoderResult (*decompress)(BrotliDecoderState *, size_t *, const uint8_t **, size_t *, uint8_t **,
                                      size_t *);
    void (*destroy)(BrotliDecoderState *);
} brotli_api;

static brotli_api brotli;
static pthread_once_t brotli_once = PTHREAD_ONCE_INIT;

static void brotli_load(void) {
    void *h = dlopen("libbrotlidec.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) return;
    void *create = dlsym(h, "BrotliDecoderCreateInstance"), *decompress = dlsym(h, "BrotliDecoderDecompressStream"),
         *destroy = dlsym(h, "BrotliDecoderDestroyInstance");
    if (!create || !decompress || !destroy) return;
    /* POSIX guarantees object and function pointers convert; memcpy says so to C. */
    memcpy(&brotli.decompress, &decompress, sizeof decompress);
    memcpy(&brotli.destroy, &destroy, sizeof destroy);
    memcpy(&brotli.create, &create, sizeof create);
}
#endif

bool tw_fetch_brotli_available(void) {
#ifdef HAVE_BROTLI_HEADER
    pthread_once(&brotli_once, brotli_load);
    return brotli.create != NULL;
#else
    return false;
#endif
}

/* ---------------------------------------------------------------- growable, capped buffers */

/* The bytes live on the heap, or, for a body whose length the server announced, in a
 * binary allocated to that length up front: the reply then hands the binary over as is,
 * with no copy (a body that outgrows it moves to the heap). */
typedef struct buf {
    char *p;
    size_t len, cap;
    tr_bin *bin; /* p is its data; NULL when p is heap memory (or NULL) */
} buf;

/* Appends up to `limit - len` bytes of data; returns false if data did not fit (the part
 * that fits is kept) or memory ran out. */
static bool buf_add(buf *b, const void *data, size_t n, size_t limit) {
    bool fits = b->len + n <= limit;
    if (!fits) n = limit > b->len ? limit - b->len : 0;
    if (n == 0) return fits;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        if (cap > limit) cap = limit;
        char *p;
        if (b->bin) {
            if ((p = malloc(cap))) memcpy(p, b->p, b->len);
        } else {
            p = realloc(b->p, cap);
        }
        if (!p) return false;
        tr_bin_unref(b->bin);
        b->bin = NULL;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, n);
    b->len += n;
    return fits;
}

/* Makes an empty buffer's storage a binary of n bytes (best effort: on failure it
 * stays as it was and grows on the heap). */
static void buf_reserve_bin(buf *b, size_t n) {
    if (b->len || b->bin || n == 0) return;
    tr_bin *bin = tr_bin_alloc(n);
    if (!bin) return;
    free(b->p);
    b->bin = bin;
    b->p = tr_bin_wdata(bin);
    b->cap = n;
}

/* A binary of the bytes: the buffer's own (then the buffer is left empty), or a copy
 * (then the buffer keeps its memory for reuse). NULL if out of memory. */
static tr_bin *buf_take_bin(buf *b) {
    if (!b->bin) return tr_bin_new(b->p ? b->p : "", b->len);
    tr_bin *bin = b->bin;
    tr_bin_truncate(bin, b->len);
    *b = (buf){0};
    return bin;
}

static void buf_free(buf *b) {
    if (b->bin) tr_bin_unref(b->bin);
    else free(b->p);
    *b = (buf){0};
}

/* ---------------------------------------------------------------- content decoding */

typedef enum { DEC_IDENTITY, DEC_ZLIB, DEC_BROTLI, DEC_UNSUPPORTED } dec_kind;

typedef struct decoder {
    dec_kind kind;
    bool started;   /* the decoder state below is initialised */
    bool finished;  /* the compressed stream ended; later bytes are ignored */
    bool raw_tried; /* "deflate" fell back to raw DEFLATE (no zlib header) */
    z_stream z;
#ifdef HAVE_BROTLI_HEADER
    BrotliDecoderState *br;
#endif
} decoder;

static dec_kind kind_for(const char *coding) {
    if (!*coding || !strcasecmp(coding, "identity")) return DEC_IDENTITY;
    if (!strcasecmp(coding, "gzip") || !strcasecmp(coding, "x-gzip") || !strcasecmp(coding, "deflate"))
        return DEC_ZLIB;
    if (!strcasecmp(coding, "br") && tw_fetch_brotli_available()) return DEC_BROTLI;
    return DEC_UNSUPPORTED;
}

static void decoder_end(decoder *d) {
    if (d->started && d->kind == DEC_ZLIB) inflateEnd(&d->z);
#ifdef HAVE_BROTLI_HEADER
    if (d->started && d->kind == DEC_BROTLI) brotli.destroy(d->br);
#endif
    d->started = false;
}

/* Outcome of feeding a decoder. */
typedef enum { FEED_OK, FEED_FULL, FEED_BAD } feed_rc;

/* Inflates in[0..n) into out (capped at limit). 15+32 lets zlib detect gzip or zlib
 * framing; a "deflate" body without the zlib header (common) is retried as raw DEFLATE
 * from the start, which is all in `raw` since nothing has been produced yet. */
static feed_rc feed_zlib(decoder *d, const void *in, size_t n, const buf *raw, buf *out, size_t limit) {
    if (!d->started) {
        if (inflateInit2(&d->z, 15 + 32) != Z_OK) return FEED_BAD;
        d->started = true;
    }
    d->z.next_in = (Bytef *)in;
    d->z.avail_in = (uInt)n;
    unsigned char chunk[16384];
    while (d->z.avail_in > 0 && !d->finished) {
        d->z.next_out = chunk;
        d->z.avail_out = sizeof chunk;
        int rc = inflate(&d->z, Z_NO_FLUSH);
        if (rc == Z_DATA_ERROR && d->z.total_out == 0 && !d->raw_tried) {
            d->raw_tried = true;
            if (inflateReset2(&d->z, -15) != Z_OK) return FEED_BAD;
            d->z.next_in = (Bytef *)raw->p;
            d->z.avail_in = (uInt)raw->len;
            continue;
        }
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) return FEED_BAD;
        if (!buf_add(out, chunk, sizeof chunk - d->z.avail_out, limit)) return FEED_FULL;
        if (rc == Z_STREAM_END) d->finished = true;
        if (rc == Z_BUF_ERROR) break;
    }
    return FEED_OK;
}

#ifdef HAVE_BROTLI_HEADER
static feed_rc feed_brotli(decoder *d, const void *in, size_t n, buf *out, size_t limit) {
    if (!d->started) {
        if (!(d->br = brotli.create(NULL, NULL, NULL))) return FEED_BAD;
        d->started = true;
    }
    const uint8_t *next_in = in;
    size_t avail_in = n;
    uint8_t chunk[16384];
    while (!d->finished) {
        uint8_t *next_out = chunk;
        size_t avail_out = sizeof chunk;
        BrotliDecoderResult rc = brotli.decompress(d->br, &avail_in, &next_in, &avail_out, &next_out, NULL);
        if (rc == BROTLI_DECODER_RESULT_ERROR) return FEED_BAD;
        if (!buf_add(out, chunk, sizeof chunk - avail_out, limit)) return FEED_FULL;
        if (rc == BROTLI_DECODER_RESULT_SUCCESS) d->finished = true;
        if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) break;
    }
    return FEED_OK;
}
#endif

/* Decodes in[0..n) (already appended to raw) onto out. */
static feed_rc decode(decoder *d, const void *in, size_t n, const buf *raw, buf *out, size_t limit) {
    switch (d->kind) {
    case DEC_IDENTITY: return buf_add(out, in, n, limit) ? FEED_OK : FEED_FULL;
    case DEC_ZLIB: return feed_zlib(d, in, n, raw, out, limit);
#ifdef HAVE_BROTLI_HEADER
    case DEC_BROTLI: return feed_brotli(d, in, n, out, limit);
#endif
    default: return FEED_BAD;
    }
}

/* ---------------------------------------------------------------- the request on the wire */

/* A request message: this head, then NUL-terminated strings: url, user agent, headers. */
typedef struct wire_req {
    int64_t timeout_ms;
    uint64_t max_bytes;
    uint32_t nheaders;
} wire_req;

/* The next NUL-terminated string in p[*off..len), or NULL if there is none. */
static const char *next_str(const char *p, size_t len, size_t *off) {
    if (*off >= len) return NULL;
    const char *s = p + *off, *nul = memchr(s, 0, len - *off);
    if (!nul) return NULL;
    *off += (size_t)(nul - s) + 1;
    return s;
}

/* The last reply message: this head, then the bytes of the response head, the request
 * head, err_text, url, ip, content_type and content_encoding, back to back, of the
 * lengths given (the heads become binaries on the caller's side: the service's thread,
 * where every transfer of a host is driven, does as little as it can). */
enum { WS_RESP_HEAD, WS_REQ_HEAD, WS_ERR_TEXT, WS_URL, WS_IP, WS_CONTENT_TYPE, WS_CONTENT_ENCODING, WS_N };
typedef struct wire_resp {
    int32_t err, status, http_version, port;
    bool truncated;
    bool raw_is_body; /* the raw body is the body (identity coding): no message of its own */
    tw_fetch_timings timings;
    uint32_t len[WS_N];
} wire_resp;

/* ---------------------------------------------------------------- the service */

typedef struct service service;

/* One transfer in flight. A finished one goes back to its service's pool with its
 * easy handle and head buffers, so the next request reuses them (libcurl's advice:
 * an easy handle set up once costs far less than one made per transfer). */
typedef struct xfer {
    struct xfer *prev, *next;
    CURL *easy;
    struct curl_slist *headers; /* the service's shared list, or our own (own_headers) */
    bool own_headers;
    tr_pid from;     /* the caller */
    tr_ref ref;      /* the caller's monitor ref: tags every reply message */
    tr_ref mon;      /* our monitor of the caller */
    size_t max_bytes;
    buf resp_head, req_head, raw, body;
    char coding[64]; /* Content-Encoding of the current response head */
    decoder dec;
    bool body_started;
    bool truncated;
    bool decode_failed;
    bool resent;     /* already sent again after a stale kept-alive connection */
    bool added;      /* easy is in the multi handle: its info is this transfer's */
    char errbuf[CURL_ERROR_SIZE];
} xfer;

/* Finished transfers a service keeps for reuse, and the largest head buffer a pooled
 * one keeps. */
#define XFER_POOL_MAX 256
#define POOLED_HEAD_MAX 16384
/* A body whose announced length is at most this gets a binary of that size at once. */
#define BODY_RESERVE_MAX (4u << 20)

struct service {
    tw_response scratch; /* a reply being made (too big for the stack of a process) */
    CURLM *multi;
    xfer *xfers;
    xfer *pool;         /* finished transfers to reuse (linked by next) */
    int npool;
    struct curl_slist *accept; /* the request headers every request has */
    int64_t deadline;   /* when libcurl wants its timeout action (tr_now_ms), -1 for never */
    bool exiting;       /* in the exit handler: libcurl callbacks must not call the runtime */
    unsigned char *interest; /* TR_READ|TR_WRITE libcurl wants, indexed by socket */
    int ninterest;
};

static size_t on_header(char *data, size_t size, size_t n, void *arg) {
    xfer *x = arg;
    size_t len = size * n;
    if (len >= 5 && !memcmp(data, "HTTP/", 5)) { /* a new response head (after a 1xx) */
        x->resp_head.len = 0;
        x->coding[0] = 0;
    }
    buf_add(&x->resp_head, data, len, MAX_HEAD_BYTES);
    static const char ce[] = "content-encoding:";
    if (len > sizeof ce - 1 && !strncasecmp(data, ce, sizeof ce - 1)) {
        const char *v = data + sizeof ce - 1, *end = data + len;
        while (v < end && (*v == ' ' || *v == '\t')) v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t')) end--;
        size_t vl = (size_t)(end - v) < sizeof x->coding - 1 ? (size_t)(end - v) : sizeof x->coding - 1;
        memcpy(x->coding, v, vl);
        x->coding[vl] = 0;
    }
    return len;
}

/* Returning less than len stops the transfer (CURLE_WRITE_ERROR), which is how the
 * byte limit and undecodable bodies end it early. */
static size_t on_body(char *data, size_t size, size_t n, void *arg) {
    xfer *x = arg;
    size_t len = size * n;
    if (!x->body_started) {
        x->body_started = true;
        x->dec.kind = kind_for(x->coding);
        /* The announced length (of the bytes as received): store them straight into a
         * binary of that size. A server that sends more only costs a copy. */
        curl_off_t cl = -1;
        if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) == CURLE_OK && cl > 0 &&
            (uint64_t)cl <= x->max_bytes && (uint64_t)cl <= BODY_RESERVE_MAX)
            buf_reserve_bin(x->dec.kind == DEC_IDENTITY ? &x->body : &x->raw, (size_t)cl);
    }
    if (x->dec.kind == DEC_UNSUPPORTED) {
        x->decode_failed = true;
        return 0;
    }
    /* An identity body is its own raw body: it is stored once. */
    bool raw_fits = x->dec.kind == DEC_IDENTITY || buf_add(&x->raw, data, len, x->max_bytes);
    feed_rc rc = decode(&x->dec, data, len, &x->raw, &x->body, x->max_bytes);
    if (rc == FEED_BAD) {
        x->decode_failed = true;
        return 0;
    }
    if (rc == FEED_FULL || !raw_fits) {
        x->truncated = true;
        return 0;
    }
    return len;
}

static int on_debug(CURL *easy, curl_infotype type, char *data, size_t len, void *arg) {
    (void)easy;
    xfer *x = arg;
    if (type == CURLINFO_HEADER_OUT) { /* one call per request head: keep the last one */
        x->req_head.len = 0;
        buf_add(&x->req_head, data, len, MAX_HEAD_BYTES);
    }
    return 0;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp) {
    (void)easy;
    (void)socketp;
    service *s = arg;
    if (fd < 0) return 0;
    if (fd >= s->ninterest) {
        int n = s->ninterest ? s->ninterest : 64;
        while (n <= fd) n *= 2;
        unsigned char *p = realloc(s->interest, (size_t)n);
        if (!p) return -1;
        memset(p + s->ninterest, 0, (size_t)(n - s->ninterest));
        s->interest = p;
        s->ninterest = n;
    }
    unsigned ev = (what == CURL_POLL_IN || what == CURL_POLL_INOUT ? TR_READ : 0) |
                  (what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? TR_WRITE : 0);
    s->interest[fd] = (unsigned char)ev;
    if (s->exiting) return 0;
    /* Should tr_select fail (out of memory), the transfer stalls until its timeout ends
     * it, which the caller sees as TW_FETCH_TIMEOUT: no transfer waits forever. */
    if (ev)
        tr_select(fd, ev, TAG_FD);
    else
        tr_select_cancel(fd);
    return 0;
}

static int on_timer(CURLM *multi, long ms, void *arg) {
    (void)multi;
    service *s = arg;
    s->deadline = ms < 0 ? -1 : (s->exiting ? 0 : tr_now_ms() + ms);
    return 0;
}

static void xfer_unlink(service *s, xfer *x) {
    if (x->prev) x->prev->next = x->next;
    else s->xfers = x->next;
    if (x->next) x->next->prev = x->prev;
}

/* Ends a transfer: back to the pool with its easy handle and head buffers, or freed
 * with everything it holds. No runtime calls but tr_bin_unref (used by the exit handler). */
static void xfer_free(service *s, xfer *x) {
    xfer_unlink(s, x);
    if (x->easy) curl_multi_remove_handle(s->multi, x->easy);
    if (x->own_headers) curl_slist_free_all(x->headers);
    decoder_end(&x->dec);
    buf_free(&x->raw);
    buf_free(&x->body);
    if (!s->exiting && x->easy && s->npool < XFER_POOL_MAX) {
        /* Keep only what the next request reuses; the options that point at this
         * transfer's memory are set again by the next one (HTTPHEADER: now). */
        curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, NULL);
        CURL *easy = x->easy;
        buf rh = x->resp_head, qh = x->req_head;
        if (rh.cap > POOLED_HEAD_MAX) buf_free(&rh);
        if (qh.cap > POOLED_HEAD_MAX) buf_free(&qh);
        rh.len = qh.len = 0;
        memset(x, 0, sizeof *x);
        x->easy = easy;
        x->resp_head = rh;
        x->req_head = qh;
        x->next = s->pool;
        s->pool = x;
        s->npool++;
        return;
    }
    if (x->easy) curl_easy_cleanup(x->easy);
    buf_free(&x->resp_head);
    buf_free(&x->req_head);
    free(x);
}

/* The error class of a finished transfer. A reset is a reset whichever layer noticed it
 * (TCP read, TLS handshake, HTTP/2 framing); a write error is ours: the byte limit
 * (a truncated success) or an undecodable body. */
static tw_fetch_err classify(CURLcode rc, long os_errno, const xfer *x) {
    if (os_errno == ECONNRESET && rc != CURLE_OK && rc != CURLE_OPERATION_TIMEDOUT) return TW_FETCH_RESET;
    switch (rc) {
    case CURLE_OK: return TW_FETCH_OK;
    case CURLE_WRITE_ERROR: return x->truncated && !x->decode_failed ? TW_FETCH_OK : TW_FETCH_OTHER;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return TW_FETCH_DNS;
    case CURLE_COULDNT_CONNECT: return os_errno == ETIMEDOUT ? TW_FETCH_TIMEOUT : TW_FETCH_REFUSED;
    case CURLE_OPERATION_TIMEDOUT: return TW_FETCH_TIMEOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return TW_FETCH_RESET;
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return TW_FETCH_CLOSED;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE: return TW_FETCH_TLS;
    default: return TW_FETCH_OTHER;
    }
}

static void copy_str(char *dst, size_t n, const char *src) { snprintf(dst, n, "%s", src ? src : ""); }

static double ms_of(CURL *easy, CURLINFO what) {
    curl_off_t us = 0;
    curl_easy_getinfo(easy, what, &us);
    return (double)us / 1000.0;
}

/* The fixed part of the reply from a finished transfer. */
static void fill_response(xfer *x, CURLcode rc, tw_response *r) {
    CURL *e = x->easy;
    if (!e || !x->added) {
        r->err = TW_FETCH_OTHER;
        return;
    }
    long status = 0, version = 0, os_errno = 0, port = 0;
    char *s = NULL;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &version);
    curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
    curl_easy_getinfo(e, CURLINFO_PRIMARY_PORT, &port);
    r->err = classify(rc, os_errno, x);
    r->status = (int)status;
    r->http_version = version == CURL_HTTP_VERSION_1_0   ? 10
                      : version == CURL_HTTP_VERSION_1_1 ? 11
                      : version == CURL_HTTP_VERSION_2_0 ? 20
                      : version == CURL_HTTP_VERSION_3   ? 30
                                                         : 0;
    r->truncated = x->truncated;
    r->port = (int)port;
    if (curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &s) == CURLE_OK) copy_str(r->url, sizeof r->url, s);
    s = NULL;
    if (curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &s) == CURLE_OK) copy_str(r->ip, sizeof r->ip, s);
    s = NULL;
    if (curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &s) == CURLE_OK) copy_str(r->content_type, sizeof r->content_type, s);
    copy_str(r->content_encoding, sizeof r->content_encoding, x->coding);
    r->timings.dns_ms = ms_of(e, CURLINFO_NAMELOOKUP_TIME_T);
    r->timings.connect_ms = ms_of(e, CURLINFO_CONNECT_TIME_T);
    r->timings.ttfb_ms = ms_of(e, CURLINFO_STARTTRANSFER_TIME_T);
    r->timings.total_ms = ms_of(e, CURLINFO_TOTAL_TIME_T);
    if (x->decode_failed)
        snprintf(r->err_text, sizeof r->err_text, "cannot decode Content-Encoding \"%s\"", x->coding);
    else if (r->err == TW_FETCH_OK && x->truncated)
        snprintf(r->err_text, sizeof r->err_text, "body truncated at %zu bytes", x->max_bytes);
    else if (r->err != TW_FETCH_OK)
        copy_str(r->err_text, sizeof r->err_text, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
}

/* Sends the reply: the body binaries, then the rest, which tells the caller it is all
 * there (messages from one sender arrive in order). */
static void reply(xfer *x, const tw_response *r) {
    tr_bin *body = buf_take_bin(&x->body);
    if (body) tr_send_bin(x->from, TAG_BODY, x->ref, body);
    bool raw_is_body = x->dec.kind == DEC_IDENTITY && body; /* the same bytes: share them */
    if (!raw_is_body) {
        tr_bin *raw = buf_take_bin(&x->raw);
        if (raw) tr_send_bin(x->from, TAG_RAW_BODY, x->ref, raw);
        tr_bin_unref(raw);
    }
    tr_bin_unref(body);
    wire_resp w = {.err = r->err, .status = r->status, .http_version = r->http_version, .port = r->port,
                   .truncated = r->truncated, .raw_is_body = raw_is_body, .timings = r->timings};
    const char *part[WS_N] = {x->resp_head.p, x->req_head.p, r->err_text, r->url, r->ip, r->content_type,
                              r->content_encoding};
    w.len[WS_RESP_HEAD] = (uint32_t)x->resp_head.len;
    w.len[WS_REQ_HEAD] = (uint32_t)x->req_head.len;
    size_t n = sizeof w + w.len[WS_RESP_HEAD] + w.len[WS_REQ_HEAD];
    for (int i = WS_ERR_TEXT; i < WS_N; i++) n += w.len[i] = (uint32_t)strlen(part[i]);
    char *msg = malloc(n);
    if (!msg) return; /* the caller times out */
    memcpy(msg, &w, sizeof w);
    char *p = msg + sizeof w;
    for (int i = 0; i < WS_N; i++) {
        if (w.len[i]) memcpy(p, part[i], w.len[i]);
        p += w.len[i];
    }
    tr_send_ref(x->from, TAG_DONE, x->ref, msg, n);
    free(msg);
}

static void finish(service *s, xfer *x, CURLcode rc) {
    tw_response *r = &s->scratch;
    memset(r, 0, sizeof *r);
    fill_response(x, rc, r);
    reply(x, r);
    tr_demonitor(x->mon);
    xfer_free(s, x);
}

/* Ends a transfer early with an error of our own, replying to its caller. */
static void abandon(service *s, xfer *x, tw_fetch_err err, const char *why) {
    tw_response *r = &s->scratch;
    memset(r, 0, sizeof *r);
    fill_response(x, CURLE_ABORTED_BY_CALLBACK, r);
    r->err = err;
    copy_str(r->err_text, sizeof r->err_text, why);
    reply(x, r);
    tr_demonitor(x->mon);
    xfer_free(s, x);
}

/* Whether a transfer failed on a reused connection before any byte of a response. */
static bool stale_connection(const xfer *x, CURLcode rc) {
    if (x->resent || x->resp_head.len || x->body_started) return false;
    if (rc != CURLE_SEND_ERROR && rc != CURLE_RECV_ERROR && rc != CURLE_GOT_NOTHING) return false;
    long connects = -1;
    curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
    return connects == 0; /* no new connection was made: it used one from the pool */
}

static void drain(service *s) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(s->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        xfer *x = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        if (x && stale_connection(x, rc)) {
            /* The server had closed this kept-alive connection before our request
             * reached it: not an attempt at all. libcurl sends again by itself when a
             * receive fails that way, but not when the send does; do it once, on a new
             * connection, so callers count only requests the server could have seen. */
            x->resent = true;
            x->req_head.len = 0;
            curl_multi_remove_handle(s->multi, easy);
            curl_easy_setopt(easy, CURLOPT_FRESH_CONNECT, 1L);
            if (curl_multi_add_handle(s->multi, easy) == CURLM_OK) continue;
        }
        if (x) finish(s, x, rc);
    }
}

/* A new easy handle with the options every transfer of x shares (x lives as long as it). */
static CURL *make_easy(xfer *x) {
    CURL *e = curl_easy_init();
    if (!e) return NULL;
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, 300L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, RECV_BUFFER_BYTES);
    /* Content codings are decoded here, so that the raw body stays available. */
    curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    /* VERBOSE routes every request head through on_debug (nothing is printed). */
    curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, on_debug);
    curl_easy_setopt(e, CURLOPT_DEBUGDATA, x);
    curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    return e;
}

/* The options of one request (the others stay as make_easy set them). */
static bool prepare_easy(xfer *x, const char *url, const char *ua, int64_t timeout_ms) {
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    return curl_easy_setopt(e, CURLOPT_URL, url) == CURLE_OK && curl_easy_setopt(e, CURLOPT_USERAGENT, ua) == CURLE_OK;
}

/* Starts the transfer a request message asks for; replies with an error at once if the
 * request is malformed or resources run out. */
static void start_request(service *s, const tr_msg *m) {
    xfer *x = s->pool;
    if (x) {
        s->pool = x->next;
        s->npool--;
        x->next = NULL;
    } else if (!(x = calloc(1, sizeof *x))) {
        return; /* the caller times out (it cannot be told without memory either) */
    }
    x->from = m->from;
    x->ref = m->ref;
    x->next = s->xfers;
    if (s->xfers) s->xfers->prev = x;
    s->xfers = x;
    x->mon = tr_monitor(m->from);

    wire_req w;
    size_t off = sizeof w;
    const char *url = NULL, *ua = NULL;
    bool ok = m->len >= sizeof w;
    if (ok) {
        memcpy(&w, m->data, sizeof w);
        x->max_bytes = (size_t)w.max_bytes;
        url = next_str(m->data, m->len, &off);
        ua = next_str(m->data, m->len, &off);
        ok = url && ua;
    }
    x->headers = s->accept;
    if (ok && w.nheaders > 0) { /* a list of its own: the shared one, then these */
        x->headers = NULL;
        x->own_headers = true;
        for (struct curl_slist *h = s->accept; ok && h; h = h->next) {
            struct curl_slist *l = curl_slist_append(x->headers, h->data);
            ok = l != NULL;
            if (l) x->headers = l;
        }
        for (uint32_t i = 0; ok && i < w.nheaders; i++) {
            const char *h = next_str(m->data, m->len, &off);
            struct curl_slist *l = h ? curl_slist_append(x->headers, h) : NULL;
            ok = l != NULL;
            if (l) x->headers = l;
        }
    }
    if (!ok) {
        abandon(s, x, TW_FETCH_OTHER, "malformed request or out of memory");
        return;
    }
    if (!x->easy) x->easy = make_easy(x);
    if (!x->easy || !prepare_easy(x, url, ua, w.timeout_ms) || curl_multi_add_handle(s->multi, x->easy) != CURLM_OK) {
        if (x->easy) curl_easy_cleanup(x->easy);
        x->easy = NULL;
        abandon(s, x, TW_FETCH_OTHER, "cannot start transfer");
        return;
    }
    x->added = true;
}

static xfer *find_xfer(service *s, tr_pid from, tr_ref ref, tr_ref mon) {
    for (xfer *x = s->xfers; x; x = x->next)
        if (mon ? x->mon == mon : (x->from == from && x->ref == ref)) return x;
    return NULL;
}

static void on_fd(service *s, const tr_msg *m) {
    tr_fd_event ev;
    memcpy(&ev, m->data, sizeof ev);
    if (ev.fd < 0 || ev.fd >= s->ninterest || !s->interest[ev.fd]) return; /* stale: libcurl let it go */
    int flags = (ev.events & TR_READ ? CURL_CSELECT_IN : 0) | (ev.events & TR_WRITE ? CURL_CSELECT_OUT : 0);
    int running;
    curl_multi_socket_action(s->multi, ev.fd, flags, &running);
    /* tr_select is one-shot: ask again for what libcurl still wants on this socket. */
    if (ev.fd < s->ninterest && s->interest[ev.fd]) tr_select(ev.fd, s->interest[ev.fd], TAG_FD);
}

/* Frees the multi handle and every transfer. No runtime calls: also the exit handler. */
static void service_free(void *arg) {
    service *s = arg;
    s->exiting = true;
    while (s->xfers) xfer_free(s, s->xfers);
    while (s->pool) {
        xfer *x = s->pool;
        s->pool = x->next;
        curl_easy_cleanup(x->easy);
        buf_free(&x->resp_head);
        buf_free(&x->req_head);
        free(x);
    }
    curl_slist_free_all(s->accept);
    if (s->multi) curl_multi_cleanup(s->multi);
    free(s->interest);
    free(s);
}

static void service_main(void *arg) {
    (void)arg;
    service *s = calloc(1, sizeof *s);
    if (!s) tr_crash("fetch service: out of memory");
    s->deadline = -1;
    s->multi = curl_multi_init();
    s->accept = curl_slist_append(NULL, tw_fetch_brotli_available() ? "Accept-Encoding: gzip, deflate, br"
                                                                    : "Accept-Encoding: gzip, deflate");
    if (!s->multi || !s->accept || tr_on_exit(service_free, s) != 0) {
        service_free(s);
        tr_crash("fetch service: cannot initialise libcurl");
    }
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)MAX_CACHED_CONNECTIONS);
    for (;;) {
        int64_t wait = s->deadline < 0 ? TR_INFINITY : s->deadline - tr_now_ms();
        tr_msg *m = tr_receive(wait < 0 && s->deadline >= 0 ? 0 : wait);
        if (m && m->kind == TR_MSG_USER) {
            switch (m->tag) {
            case TAG_FD: on_fd(s, m); break;
            case TAG_REQUEST: start_request(s, m); break;
            case TAG_CANCEL: {
                xfer *x = find_xfer(s, m->from, m->ref, 0);
                if (x) abandon(s, x, TW_FETCH_TIMEOUT, "no answer in time: the caller gave up");
                break;
            }
            case TAG_STOP:
                tr_msg_free(m);
                while (s->xfers) abandon(s, s->xfers, TW_FETCH_OTHER, "fetch service stopped");
                return; /* the exit handler frees the rest */
            default: break;
            }
        } else if (m && m->kind == TR_MSG_DOWN) { /* a caller died: drop its transfer */
            xfer *x = find_xfer(s, 0, 0, m->ref);
            if (x) xfer_free(s, x);
        }
        tr_msg_free(m);
        /* Run libcurl's timeout even when messages keep arriving. */
        if (s->deadline >= 0 && tr_now_ms() >= s->deadline) {
            int running;
            s->deadline = -1;
            curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        drain(s);
    }
}

/* ---------------------------------------------------------------- the caller's side */

int tw_fetch_start(int nservices, tw_fetcher *out) {
    if (nservices < 1 || nservices > TW_FETCH_MAX_SERVICES || !out) return TR_EINVAL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return TR_ENOMEM;
    tw_fetch_brotli_available(); /* load it now rather than inside a first transfer */
    *out = (tw_fetcher){0};
    /* High priority: every Downloader's request and every socket event goes through a
     * service, and its work per message is one libcurl step (with a gzip or brotli body,
     * that step also decodes the bytes just read). At normal priority it waits behind
     * Downloaders parsing and compressing pages, and the requests it should be sending
     * meanwhile leave the server idle. Spread: one service per scheduler, not all on
     * the spawner's. */
    tr_spawn_opts so = {.entry = "tw_fetch_service", .priority = TR_PRIORITY_HIGH, .spread = true};
    for (int i = 0; i < nservices; i++) {
        tr_pid p = tr_spawn_opt(service_main, NULL, &so, NULL);
        if (!p) {
            tw_fetch_stop(out);
            *out = (tw_fetcher){0};
            return TR_ELIMIT;
        }
        out->pids[out->n++] = p;
    }
    return 0;
}

void tw_fetch_stop(const tw_fetcher *f) {
    for (int i = 0; f && i < f->n; i++) tr_send(f->pids[i], TAG_STOP, NULL, 0);
}

/* The service for a URL: a hash of its authority, so one host's requests share one
 * multi handle and so its connections. */
static tr_pid pick_service(const tw_fetcher *f, const char *url) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)(p[i] | 0x20)) * 1099511628211ull;
    return f->pids[h % (uint64_t)f->n];
}

/* The request message: wire_req and the strings. Allocates; NULL if out of memory. */
static char *encode_request(const tw_fetch_opts *o, size_t *len) {
    wire_req w = {
        .timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : TW_FETCH_DEFAULT_TIMEOUT_MS,
        .max_bytes = o->max_bytes ? o->max_bytes : TW_FETCH_DEFAULT_MAX_BYTES,
    };
    const char *ua = o->user_agent ? o->user_agent : DEFAULT_UA;
    size_t n = sizeof w + strlen(o->url) + 1 + strlen(ua) + 1;
    while (w.nheaders < TW_FETCH_MAX_HEADERS && o->headers[w.nheaders]) n += strlen(o->headers[w.nheaders++]) + 1;
    char *msg = malloc(n), *p = msg;
    if (!msg) return NULL;
    memcpy(p, &w, sizeof w);
    p += sizeof w;
    p = stpcpy(p, o->url) + 1;
    p = stpcpy(p, ua) + 1;
    for (uint32_t i = 0; i < w.nheaders; i++) p = stpcpy(p, o->headers[i]) + 1;
    *len = n;
    return msg;
}

static void set_error(tw_response *r, tw_fetch_err err, const char *text) {
    r->err = err;
    copy_str(r->err_text, sizeof r->err_text, text);
}

/* Copies n bytes of p to a string of cap bytes, truncating. */
static void copy_part(char *dst, size_t cap, const char *p, size_t n) {
    if (n >= cap) n = cap - 1;
    memcpy(dst, p, n);
    dst[n] = 0;
}

/* Fills r from a TAG_DONE message (its binaries from the bytes, or shared with the
 * body); false if the message is malformed. */
static bool unpack_reply(const char *data, size_t len, tw_response *r) {
    wire_resp w;
    if (len < sizeof w) return false;
    memcpy(&w, data, sizeof w);
    size_t n = sizeof w;
    for (int i = 0; i < WS_N; i++) n += w.len[i];
    if (n != len) return false;
    r->err = (tw_fetch_err)w.err;
    r->status = w.status;
    r->http_version = w.http_version;
    r->port = w.port;
    r->truncated = w.truncated;
    r->timings = w.timings;
    const char *p = data + sizeof w;
    if (!r->resp_headers) r->resp_headers = tr_bin_new(p, w.len[WS_RESP_HEAD]);
    p += w.len[WS_RESP_HEAD];
    if (!r->req_headers) r->req_headers = tr_bin_new(p, w.len[WS_REQ_HEAD]);
    p += w.len[WS_REQ_HEAD];
    char *str[WS_N] = {[WS_ERR_TEXT] = r->err_text, [WS_URL] = r->url, [WS_IP] = r->ip,
                       [WS_CONTENT_TYPE] = r->content_type, [WS_CONTENT_ENCODING] = r->content_encoding};
    size_t cap[WS_N] = {[WS_ERR_TEXT] = sizeof r->err_text, [WS_URL] = sizeof r->url, [WS_IP] = sizeof r->ip,
                        [WS_CONTENT_TYPE] = sizeof r->content_type,
                        [WS_CONTENT_ENCODING] = sizeof r->content_encoding};
    for (int i = WS_ERR_TEXT; i < WS_N; i++) {
        copy_part(str[i], cap[i], p, w.len[i]);
        p += w.len[i];
    }
    if (w.raw_is_body && r->body && !r->raw_body) r->raw_body = tr_bin_ref(r->body);
    return true;
}

/* Takes the reply messages for ref into r until the fixed part arrives (true), the
 * service dies, or the time runs out (false, with r->err_text saying which). */
static bool collect(tr_ref ref, int64_t deadline, tw_response *r, bool *down) {
    for (;;) {
        int64_t left = deadline - tr_now_ms();
        tr_msg *m = tr_receive_ref(ref, left > 0 ? left : 0);
        if (!m) return false;
        if (m->kind == TR_MSG_DOWN) {
            char why[200];
            snprintf(why, sizeof why, "fetch service ended: %s", tr_reason_text(m->reason));
            set_error(r, TW_FETCH_OTHER, why);
            *down = true;
            tr_msg_free(m);
            return false;
        }
        tr_bin **slot = m->tag == TAG_BODY ? &r->body : m->tag == TAG_RAW_BODY ? &r->raw_body : NULL;
        if (slot && m->bin && !*slot) *slot = tr_bin_ref(m->bin);
        bool done = m->tag == TAG_DONE && unpack_reply(m->data, m->len, r);
        tr_msg_free(m);
        if (done) return true;
    }
}

/* Every binary of a response exists, empty if nothing came. */
static int fill_missing(tw_response *r) {
    tr_bin **slots[] = {&r->resp_headers, &r->req_headers, &r->body, &r->raw_body};
    for (size_t i = 0; i < sizeof slots / sizeof *slots; i++)
        if (!*slots[i] && !(*slots[i] = tr_bin_new("", 0))) return TR_ENOMEM;
    return 0;
}

int tw_fetch(const tw_fetcher *f, const tw_fetch_opts *o, tw_response **out) {
    *out = NULL;
    if (!f || f->n < 1 || !o || !o->url) return TR_EINVAL;
    size_t len;
    char *msg = encode_request(o, &len);
    tw_response *r = calloc(1, sizeof *r);
    if (!msg || !r) {
        free(msg);
        free(r);
        return TR_ENOMEM;
    }
    tr_pid svc = pick_service(f, o->url);
    tr_ref ref = tr_monitor(svc);
    int rc = tr_send_ref(svc, TAG_REQUEST, ref, msg, len);
    int64_t timeout = o->timeout_ms > 0 ? o->timeout_ms : TW_FETCH_DEFAULT_TIMEOUT_MS;
    free(msg);
    bool down = false;
    if (rc != 0) {
        set_error(r, TW_FETCH_OTHER, "cannot send the request");
    } else if (!collect(ref, tr_now_ms() + timeout + REPLY_MARGIN_MS, r, &down) && !down) {
        tr_send_ref(svc, TAG_CANCEL, ref, NULL, 0);
        if (!collect(ref, tr_now_ms() + CANCEL_GRACE_MS, r, &down) && !down)
            set_error(r, TW_FETCH_TIMEOUT, "the fetch service did not answer in time");
    }
    tr_demonitor(ref);
    if (fill_missing(r) != 0) {
        tw_response_free(r);
        return TR_ENOMEM;
    }
    *out = r;
    return 0;
}

void tw_response_free(tw_response *r) {
    if (!r) return;
    tr_bin_unref(r->resp_headers);
    tr_bin_unref(r->req_headers);
    tr_bin_unref(r->body);
    tr_bin_unref(r->raw_body);
    free(r);
}

bool tw_fetch_transient(const tw_response *r) {
    switch (r->err) {
    case TW_FETCH_DNS:
    case TW_FETCH_REFUSED:
    case TW_FETCH_RESET:
    case TW_FETCH_TIMEOUT:
    case TW_FETCH_CLOSED: return true;
    case TW_FETCH_OK: return r->status == 408 || r->status == 429 || (r->status >= 500 && r->status <= 599);
    default: return false;
    }
}

int tw_fetch_status_class(const tw_response *r) {
    return r->status >= 100 && r->status <= 599 ? r->status / 100 : 0;
}

const char *tw_fetch_err_name(tw_fetch_err e) {
    static const char *const names[] = {"ok", "dns", "refused", "reset", "timeout", "tls", "closed", "other"};
    return (unsigned)e < sizeof names / sizeof *names ? names[e] : "unknown";
}
