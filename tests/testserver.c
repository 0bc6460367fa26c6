/* testserver.c -- the loopback HTTP/1.1 test server of testserver.h: one thread per connection. */
#include "testserver.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define HEAD_MAX (64 * 1024)

typedef struct route {
    struct route *next;
    char *path;    /* without the trailing '*' of a prefix route */
    bool prefix;
    bool replaced; /* kept alive until ts_stop: a connection may still use it */
    ts_spec spec;  /* strings owned by the route */
    ts_handler fn;
    void *ctx;
    int hits;      /* TS_FAIL_THEN's requests so far (under the server lock) */
} route;

struct ts_server {
    int lfd;
    int stopfd; /* an eventfd that turns readable, and stays so, when the server stops */
    char ip[64];
    int port;
    pthread_t acceptor;
    pthread_mutex_t lock;
    pthread_cond_t idle; /* signalled when a connection thread ends */
    /* Everything below is under lock. */
    route *routes;
    ts_logged *log;
    char **raw;      /* raw[i]: the head of log[i] as received (raw_len[i] bytes) */
    size_t *raw_len;
    int nlog, caplog;
    int inflight, max_inflight;
    int connections, next_conn_id;
    int live_threads;
};

struct ts_response {
    int status;
    char *head;  /* extra header lines, each ending in CRLF */
    size_t head_len;
    char *body;
    size_t body_len;
};

typedef struct conn {
    ts_server *ts;
    int fd;
    int id;
    char buf[HEAD_MAX];
    size_t have; /* bytes in buf not yet consumed */
} conn;

int64_t ts_now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- socket helpers */

/* Waits until fd has `events`, or the server stops (false), or ms pass (true with
 * *timed_out set when timed_out is not NULL). ms < 0 waits without limit. */
static bool wait_io(conn *c, short events, int ms, bool *timed_out) {
    struct pollfd p[2] = {{.fd = c->fd, .events = events}, {.fd = c->ts->stopfd, .events = POLLIN}};
    for (;;) {
        int n = poll(p, 2, ms);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || (p[1].revents & POLLIN)) return false;
        if (timed_out) *timed_out = (n == 0);
        return true;
    }
}

/* Sleeps ms unless the server stops first (false). */
static bool nap(conn *c, int ms) {
    struct pollfd p = {.fd = c->ts->stopfd, .events = POLLIN};
    return poll(&p, 1, ms) == 0;
}

static bool send_all(conn *c, const void *data, size_t len) {
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            p += n;
            len -= (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (!wait_io(c, POLLOUT, -1, NULL)) return false;
        } else {
            return false; /* the client went away */
        }
    }
    return true;
}

/* Reads more bytes into c->buf; false on EOF, error, a full buffer, or stop. */
static bool fill(conn *c) {
    if (c->have >= sizeof c->buf) return false;
    if (!wait_io(c, POLLIN, -1, NULL)) return false;
    ssize_t n = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) return false;
    c->have += (size_t)n;
    return true;
}

static void drop(conn *c, size_t n) {
    memmove(c->buf, c->buf + n, c->have - n);
    c->have -= n;
}

/* Ends the connection with a TCP RST instead of a FIN. */
static void reset_conn(conn *c) {
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(c->fd);
    c->fd = -1;
}

/* ---------------------------------------------------------------- responses */

void ts_set_status(ts_response *r, int status) { r->status = status; }

static void append(char **buf, size_t *len, const char *data, size_t n) {
    char *p = realloc(*buf, *len + n + 1);
    if (!p) abort(); /* test infrastructure: out of memory is fatal */
    memcpy(p + *len, data, n);
    *len += n;
    p[*len] = 0;
    *buf = p;
}

void ts_add_header(ts_response *r, const char *name, const char *fmt, ...) {
    char value[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    char line[2200];
    int n = snprintf(line, sizeof line, "%s: %s\r\n", name, value);
    append(&r->head, &r->head_len, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

void ts_set_body(ts_response *r, const void *data, size_t len) {
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    append(&r->body, &r->body_len, data, len);
}

void ts_printf_body(ts_response *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) abort();
    ts_set_body(r, s, (size_t)n);
    free(s);
}

static const char *reason_phrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

/* Sends the status line and headers, declaring content_length bytes of body. */
static bool send_head(conn *c, const ts_response *r, size_t content_length, bool closing) {
    char line[256];
    int n = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s", r->status,
                     reason_phrase(r->status), content_length, closing ? "Connection: close\r\n" : "");
    return send_all(c, line, (size_t)n) && send_all(c, r->head ? r->head : "", r->head_len) &&
           send_all(c, "\r\n", 2);
}

/* ---------------------------------------------------------------- compression */

/* Compresses data with zlib: gzip (windowBits 31) or the zlib format (15). Allocates. */
static char *zcompress(const void *data, size_t len, int window_bits, size_t *out_len) {
    z_stream z = {0};
    if (deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    size_t cap = deflateBound(&z, (uLong)len) + 64;
    char *out = malloc(cap);
    if (!out) abort();
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* `zeros` zero bytes gzipped, made chunk by chunk so the bomb never exists decoded. */
static char *gzip_zeros(size_t zeros, size_t *out_len) {
    static const char chunk[64 * 1024];
    z_stream z = {0};
    if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    size_t cap = zeros / 500 + 4096, len = 0;
    char *out = malloc(cap);
    if (!out) abort();
    for (size_t left = zeros;;) {
        size_t n = left < sizeof chunk ? left : sizeof chunk;
        left -= n;
        z.next_in = (Bytef *)chunk;
        z.avail_in = (uInt)n;
        int flush = left ? Z_NO_FLUSH : Z_FINISH, rc;
        do {
            if (cap - len < 1024) {
                cap *= 2;
                if (!(out = realloc(out, cap))) abort();
            }
            z.next_out = (Bytef *)out + len;
            z.avail_out = (uInt)(cap - len);
            rc = deflate(&z, flush);
            len = cap - z.avail_out;
        } while (z.avail_in > 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
        if (!left) break;
    }
    deflateEnd(&z);
    *out_len = len;
    return out;
}

/* ---------------------------------------------------------------- behaviours */

/* What a behaviour leaves the connection in. */
typedef enum { KEEP, CLOSE, GONE /* already closed or reset */ } after;

static after respond(conn *c, ts_response *r, bool client_close) {
    bool ok = send_head(c, r, r->body_len, client_close) && send_all(c, r->body ? r->body : "", r->body_len);
    return !ok ? CLOSE : client_close ? CLOSE : KEEP;
}

static const char *content_type_for(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot) return "application/octet-stream";
    if (!strcmp(dot, ".html") || !strcmp(dot, ".htm")) return "text/html";
    if (!strcmp(dot, ".txt")) return "text/plain";
    if (!strcmp(dot, ".css")) return "text/css";
    if (!strcmp(dot, ".js")) return "application/javascript";
    if (!strcmp(dot, ".xml")) return "application/xml";
    if (!strcmp(dot, ".png")) return "image/png";
    if (!strcmp(dot, ".jpg")) return "image/jpeg";
    return "application/octet-stream";
}

static void serve_file(const route *rt, const char *path, ts_response *r) {
    const char *rel = path + strlen(rt->path);
    char file[4096];
    if (strstr(rel, "..")) {
        r->status = 403;
        return;
    }
    snprintf(file, sizeof file, "%s/%s", rt->spec.dir, rel);
    struct stat st;
    if (stat(file, &st) == 0 && S_ISDIR(st.st_mode)) strncat(file, "/index.html", sizeof file - strlen(file) - 1);
    FILE *f = fopen(file, "rb");
    if (!f) {
        r->status = 404;
        return;
    }
    char chunk[16384];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) append(&r->body, &r->body_len, chunk, n);
    fclose(f);
    ts_add_header(r, "Content-Type", "%s", content_type_for(file));
}

static after behave(conn *c, route *rt, const ts_request *req, bool client_close) {
    const ts_spec *s = &rt->spec;
    ts_response r = {.status = s->status ? s->status : 200};
    after how = KEEP;
    switch (s->kind) {
    case TS_STATIC:
    case TS_CLOSE_AFTER:
        if (s->content_type || s->body) ts_add_header(&r, "Content-Type", "%s", s->content_type ? s->content_type : "text/html");
        if (s->header) {
            append(&r.head, &r.head_len, s->header, strlen(s->header));
            append(&r.head, &r.head_len, "\r\n", 2);
        }
        if (s->body) ts_set_body(&r, s->body, s->body_len);
        how = respond(c, &r, client_close);
        if (s->kind == TS_CLOSE_AFTER) how = CLOSE;
        break;
    case TS_FAIL_THEN: {
        pthread_mutex_lock(&c->ts->lock);
        bool fail = rt->hits++ < s->times;
        pthread_mutex_unlock(&c->ts->lock);
        if (fail) {
            r.status = s->status ? s->status : 503;
            if (s->retry_after) ts_add_header(&r, "Retry-After", "%s", s->retry_after);
        } else {
            r.status = 200;
            ts_add_header(&r, "Content-Type", "text/html");
            if (s->body) ts_set_body(&r, s->body, s->body_len);
        }
        how = respond(c, &r, client_close);
        break;
    }
    case TS_RETRY_AFTER:
        r.status = s->status ? s->status : 429;
        ts_add_header(&r, "Retry-After", "%s", s->retry_after ? s->retry_after : "1");
        how = respond(c, &r, client_close);
        break;
    case TS_RESET:
        reset_conn(c);
        how = GONE;
        break;
    case TS_HANG:
        /* Answer nothing; return when the client closes or the server stops. */
        while (wait_io(c, POLLIN, -1, NULL)) {
            char sink[4096];
            ssize_t n = recv(c->fd, sink, sizeof sink, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;
        }
        how = CLOSE;
        break;
    case TS_DRIP: {
        how = send_head(c, &r, s->body_len, client_close) ? (client_close ? CLOSE : KEEP) : CLOSE;
        for (size_t i = 0; how != CLOSE && i < s->body_len; i++)
            if (!nap(c, s->interval_ms ? s->interval_ms : 100) || !send_all(c, s->body + i, 1)) how = CLOSE;
        break;
    }
    case TS_CUT: {
        size_t declared = s->length ? s->length : 1000, sent = s->sent ? s->sent : 10;
        if (sent > declared) sent = declared;
        ts_add_header(&r, "Content-Type", "text/html");
        if (send_head(c, &r, declared, false)) {
            char *filler = malloc(sent + 1);
            if (!filler) abort();
            memset(filler, 'x', sent);
            send_all(c, filler, sent);
            free(filler);
        }
        how = CLOSE;
        break;
    }
    case TS_GARBAGE: {
        size_t len = s->length ? s->length : 256;
        char *junk = malloc(len);
        if (!junk) abort();
        unsigned seed = (unsigned)c->id;
        for (size_t i = 0; i < len; i++) junk[i] = (char)(rand_r(&seed) & 0xff);
        junk[0] = '\x01'; /* never "HTTP/" by chance */
        send_all(c, junk, len);
        free(junk);
        how = CLOSE;
        break;
    }
    case TS_REDIRECT:
        r.status = s->status ? s->status : 302;
        ts_add_header(&r, "Location", "%s", s->location ? s->location : "/");
        how = respond(c, &r, client_close);
        break;
    case TS_ENCODED: {
        const char *enc = s->encoding ? s->encoding : "gzip";
        const char *body = s->body ? s->body : "";
        size_t n = 0;
        char *z = NULL;
        if (!strcmp(enc, "br"))
            append(&z, &n, body, s->body_len);
        else
            z = zcompress(body, s->body_len, !strcmp(enc, "deflate") ? 15 : 31, &n);
        ts_add_header(&r, "Content-Type", "%s", s->content_type ? s->content_type : "text/html");
        ts_add_header(&r, "Content-Encoding", "%s", enc);
        ts_add_header(&r, "Vary", "Accept-Encoding");
        r.body = z;
        r.body_len = n;
        how = respond(c, &r, client_close);
        break;
    }
    case TS_GZIP_BOMB: {
        size_t n;
        r.body = gzip_zeros(s->length ? s->length : 10u << 20, &n);
        r.body_len = n;
        ts_add_header(&r, "Content-Type", "text/html");
        ts_add_header(&r, "Content-Encoding", "gzip");
        how = respond(c, &r, client_close);
        break;
    }
    case TS_BIG: {
        size_t len = s->length ? s->length : 8u << 20;
        ts_add_header(&r, "Content-Type", "text/plain");
        how = send_head(c, &r, len, client_close) ? (client_close ? CLOSE : KEEP) : CLOSE;
        char chunk[64 * 1024];
        for (size_t i = 0; i < sizeof chunk; i++) chunk[i] = (char)('a' + i % 26);
        for (size_t left = len; how != CLOSE && left > 0;) {
            size_t n = left < sizeof chunk ? left : sizeof chunk;
            if (!send_all(c, chunk, n)) how = CLOSE;
            left -= n;
        }
        break;
    }
    case TS_TRAP: {
        long n = atol(req->path + strlen(rt->path));
        ts_add_header(&r, "Content-Type", "text/html");
        ts_printf_body(&r, "<html><body><a href=\"%s%ld\">next</a> <a href=\"%s%ld\">skip</a></body></html>",
                       rt->path, n + 1, rt->path, n + 2);
        how = respond(c, &r, client_close);
        break;
    }
    case TS_DIR:
        serve_file(rt, req->path, &r);
        how = respond(c, &r, client_close);
        break;
    }
    free(r.head);
    free(r.body);
    return how;
}

/* ---------------------------------------------------------------- requests */

const char *ts_header(const ts_request *req, const char *name, char *buf, size_t n) {
    size_t nl = strlen(name);
    for (const char *line = req->headers; line && *line;) {
        const char *end = strstr(line, "\r\n");
        if (!end) end = line + strlen(line);
        if ((size_t)(end - line) > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            while (v < end && (*v == ' ' || *v == '\t')) v++;
            size_t len = (size_t)(end - v);
            if (len >= n) len = n - 1;
            memcpy(buf, v, len);
            buf[len] = 0;
            return buf;
        }
        line = *end ? end + 2 : end;
    }
    return NULL;
}

static route *find_route(ts_server *ts, const char *path) {
    route *best = NULL;
    for (route *r = ts->routes; r; r = r->next) {
        if (r->replaced) continue;
        if (!r->prefix) {
            if (!strcmp(r->path, path)) return r;
        } else if (!strncmp(r->path, path, strlen(r->path)) && (!best || strlen(r->path) > strlen(best->path))) {
            best = r;
        }
    }
    return best;
}

static void log_request(ts_server *ts, const ts_request *req, const char *raw, size_t raw_len) {
    ts_logged e = {.t_ms = req->t_ms, .conn_id = req->conn_id};
    snprintf(e.method, sizeof e.method, "%s", req->method);
    snprintf(e.target, sizeof e.target, "%s", req->target);
    ts_header(req, "User-Agent", e.user_agent, sizeof e.user_agent);
    ts_header(req, "Accept-Encoding", e.accept_encoding, sizeof e.accept_encoding);
    pthread_mutex_lock(&ts->lock);
    if (ts->nlog == ts->caplog) {
        ts->caplog = ts->caplog ? ts->caplog * 2 : 256;
        ts->log = realloc(ts->log, (size_t)ts->caplog * sizeof *ts->log);
        ts->raw = realloc(ts->raw, (size_t)ts->caplog * sizeof *ts->raw);
        ts->raw_len = realloc(ts->raw_len, (size_t)ts->caplog * sizeof *ts->raw_len);
        if (!ts->log || !ts->raw || !ts->raw_len) abort();
    }
    if (!(ts->raw[ts->nlog] = malloc(raw_len ? raw_len : 1))) abort();
    memcpy(ts->raw[ts->nlog], raw, raw_len);
    ts->raw_len[ts->nlog] = raw_len;
    ts->log[ts->nlog++] = e;
    if (++ts->inflight > ts->max_inflight) ts->max_inflight = ts->inflight;
    pthread_mutex_unlock(&ts->lock);
}

/* Reads, answers and logs one request; returns what is left of the connection. */
static after serve_one(conn *c) {
    char *end;
    while (!(end = memmem(c->buf, c->have, "\r\n\r\n", 4)))
        if (!fill(c)) return CLOSE;
    size_t head_len = (size_t)(end - c->buf) + 4;
    char head[HEAD_MAX + 1], raw[HEAD_MAX];
    memcpy(head, c->buf, head_len);
    memcpy(raw, c->buf, head_len);
    head[head_len - 2] = 0; /* keep the last header's CRLF for ts_header */
    drop(c, head_len);

    char *line_end = strstr(head, "\r\n");
    *line_end = 0;
    char method[16] = "", target[2048] = "", version[16] = "";
    if (sscanf(head, "%15s %2047s %15s", method, target, version) != 3) return CLOSE;
    ts_request req = {.method = method, .target = target, .conn_id = c->id, .t_ms = ts_now_ms(),
                      .headers = line_end + 2};
    char path[2048];
    snprintf(path, sizeof path, "%s", target);
    char *q = strchr(path, '?');
    req.query = q ? target + (q - path) + 1 : "";
    if (q) *q = 0;
    req.path = path;

    char v[256];
    size_t body = ts_header(&req, "Content-Length", v, sizeof v) ? strtoul(v, NULL, 10) : 0;
    const char *conn_hdr = ts_header(&req, "Connection", v, sizeof v);
    bool client_close = conn_hdr ? strcasecmp(conn_hdr, "close") == 0 : strcmp(version, "HTTP/1.1") != 0;
    if (conn_hdr && !strcasecmp(conn_hdr, "keep-alive")) client_close = false;
    while (body > 0) { /* the request body is ignored */
        if (c->have == 0 && !fill(c)) return CLOSE;
        size_t n = c->have < body ? c->have : body;
        drop(c, n);
        body -= n;
    }

    ts_server *ts = c->ts;
    log_request(ts, &req, raw, head_len);
    pthread_mutex_lock(&ts->lock);
    route *rt = find_route(ts, path);
    pthread_mutex_unlock(&ts->lock);
    after how;
    if (!rt) {
        ts_response r = {.status = 404};
        ts_set_body(&r, "not found\n", 10);
        how = respond(c, &r, client_close);
        free(r.body);
    } else if (rt->fn) {
        ts_response r = {.status = 200};
        rt->fn(&req, &r, rt->ctx);
        how = respond(c, &r, client_close);
        free(r.head);
        free(r.body);
    } else {
        how = behave(c, rt, &req, client_close);
    }
    pthread_mutex_lock(&ts->lock);
    ts->inflight--;
    pthread_mutex_unlock(&ts->lock);
    return how;
}

static void *conn_main(void *arg) {
    conn *c = arg;
    ts_server *ts = c->ts;
    after how;
    do how = serve_one(c);
    while (how == KEEP);
    if (c->fd >= 0) close(c->fd);
    free(c);
    pthread_mutex_lock(&ts->lock);
    ts->live_threads--;
    pthread_cond_broadcast(&ts->idle);
    pthread_mutex_unlock(&ts->lock);
    return NULL;
}

static void *accept_main(void *arg) {
    ts_server *ts = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = ts->lfd, .events = POLLIN}, {.fd = ts->stopfd, .events = POLLIN}};
        if (poll(p, 2, -1) < 0 && errno != EINTR) break;
        if (p[1].revents & POLLIN) break;
        if (!(p[0].revents & POLLIN)) continue;
        int fd = accept4(ts->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        int one = 1; /* a head and body sent apart must not wait for a delayed ACK */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = malloc(sizeof *c);
        if (!c) abort();
        c->ts = ts;
        c->fd = fd;
        c->have = 0;
        pthread_mutex_lock(&ts->lock);
        c->id = ++ts->next_conn_id;
        ts->connections++;
        ts->live_threads++;
        pthread_mutex_unlock(&ts->lock);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 1024 * 1024);
        if (pthread_create(&t, &attr, conn_main, c) != 0) {
            close(fd);
            free(c);
            pthread_mutex_lock(&ts->lock);
            ts->live_threads--;
            pthread_mutex_unlock(&ts->lock);
        }
        pthread_attr_destroy(&attr);
    }
    return NULL;
}

/* ---------------------------------------------------------------- life */

ts_server *ts_start(const char *ip, int port) {
    ts_server *ts = calloc(1, sizeof *ts);
    if (!ts) return NULL;
    snprintf(ts->ip, sizeof ts->ip, "%s", ip);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        fprintf(stderr, "ts_start: bad address %s\n", ip);
        free(ts);
        return NULL;
    }
    ts->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(ts->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t alen = sizeof a;
    if (ts->lfd < 0 || bind(ts->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(ts->lfd, 1024) != 0 ||
        getsockname(ts->lfd, (struct sockaddr *)&a, &alen) != 0) {
        fprintf(stderr, "ts_start: %s:%d: %s\n", ip, port, strerror(errno));
        if (ts->lfd >= 0) close(ts->lfd);
        free(ts);
        return NULL;
    }
    ts->port = ntohs(a.sin_port);
    ts->stopfd = eventfd(0, EFD_CLOEXEC);
    pthread_mutex_init(&ts->lock, NULL);
    pthread_cond_init(&ts->idle, NULL);
    if (ts->stopfd < 0 || pthread_create(&ts->acceptor, NULL, accept_main, ts) != 0) {
        fprintf(stderr, "ts_start: cannot start: %s\n", strerror(errno));
        close(ts->lfd);
        if (ts->stopfd >= 0) close(ts->stopfd);
        free(ts);
        return NULL;
    }
    return ts;
}

int ts_port(const ts_server *ts) { return ts->port; }

const char *ts_url(const ts_server *ts, const char *path, char *buf, size_t n) {
    snprintf(buf, n, "http://%s:%d%s", ts->ip, ts->port, path);
    return buf;
}

static void free_route(route *r) {
    free(r->path);
    free((char *)r->spec.content_type);
    free((char *)r->spec.body);
    free((char *)r->spec.header);
    free((char *)r->spec.retry_after);
    free((char *)r->spec.location);
    free((char *)r->spec.encoding);
    free((char *)r->spec.dir);
    free(r);
}

void ts_stop(ts_server *ts) {
    if (!ts) return;
    uint64_t one = 1;
    if (write(ts->stopfd, &one, sizeof one) != sizeof one) abort();
    pthread_join(ts->acceptor, NULL);
    pthread_mutex_lock(&ts->lock);
    while (ts->live_threads > 0) pthread_cond_wait(&ts->idle, &ts->lock);
    pthread_mutex_unlock(&ts->lock);
    close(ts->lfd);
    close(ts->stopfd);
    for (route *r = ts->routes, *next; r; r = next) {
        next = r->next;
        free_route(r);
    }
    for (int i = 0; i < ts->nlog; i++) free(ts->raw[i]);
    free(ts->raw);
    free(ts->raw_len);
    free(ts->log);
    pthread_mutex_destroy(&ts->lock);
    pthread_cond_destroy(&ts->idle);
    free(ts);
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static int add_route(ts_server *ts, const char *path, route *r) {
    size_t len = strlen(path);
    r->prefix = len > 0 && path[len - 1] == '*';
    r->path = strndup(path, r->prefix ? len - 1 : len);
    if (!r->path) {
        free_route(r);
        return -1;
    }
    pthread_mutex_lock(&ts->lock);
    for (route *o = ts->routes; o; o = o->next)
        if (o->prefix == r->prefix && !strcmp(o->path, r->path)) o->replaced = true;
    r->next = ts->routes;
    ts->routes = r;
    pthread_mutex_unlock(&ts->lock);
    return 0;
}

int ts_route(ts_server *ts, const char *path, const ts_spec *spec) {
    route *r = calloc(1, sizeof *r);
    if (!r) return -1;
    r->spec = *spec;
    size_t blen = spec->body ? (spec->body_len ? spec->body_len : strlen(spec->body)) : 0;
    r->spec.body_len = blen;
    if (spec->body) {
        char *b = malloc(blen + 1);
        if (b) memcpy(b, spec->body, blen), b[blen] = 0;
        r->spec.body = b;
    }
    r->spec.content_type = dup_or_null(spec->content_type);
    r->spec.header = dup_or_null(spec->header);
    r->spec.retry_after = dup_or_null(spec->retry_after);
    r->spec.location = dup_or_null(spec->location);
    r->spec.encoding = dup_or_null(spec->encoding);
    r->spec.dir = dup_or_null(spec->dir);
    return add_route(ts, path, r);
}

int ts_route_fn(ts_server *ts, const char *path, ts_handler fn, void *ctx) {
    route *r = calloc(1, sizeof *r);
    if (!r) return -1;
    r->fn = fn;
    r->ctx = ctx;
    return add_route(ts, path, r);
}

/* ---------------------------------------------------------------- statistics */

static bool path_is(const char *target, const char *path) {
    if (!strcmp(path, "*")) return true;
    size_t n = strcspn(target, "?");
    return strlen(path) == n && !strncmp(target, path, n);
}

int ts_count(ts_server *ts, const char *path) {
    int n = 0;
    pthread_mutex_lock(&ts->lock);
    for (int i = 0; i < ts->nlog; i++) n += path_is(ts->log[i].target, path);
    pthread_mutex_unlock(&ts->lock);
    return n;
}

int ts_requests(ts_server *ts, const char *path, ts_logged *out, int max) {
    int n = 0;
    pthread_mutex_lock(&ts->lock);
    for (int i = 0; i < ts->nlog; i++) {
        if (path && !path_is(ts->log[i].target, path)) continue;
        if (n < max) out[n] = ts->log[i];
        n++;
    }
    pthread_mutex_unlock(&ts->lock);
    return n;
}

long ts_raw_head(ts_server *ts, const char *path, int i, char *buf, size_t n) {
    long len = -1;
    pthread_mutex_lock(&ts->lock);
    for (int k = 0; k < ts->nlog; k++) {
        if (path && !path_is(ts->log[k].target, path)) continue;
        if (i-- > 0) continue;
        size_t m = ts->raw_len[k] < n ? ts->raw_len[k] : n;
        if (m) memcpy(buf, ts->raw[k], m);
        len = (long)ts->raw_len[k];
        break;
    }
    pthread_mutex_unlock(&ts->lock);
    return len;
}

int ts_inflight(ts_server *ts) {
    pthread_mutex_lock(&ts->lock);
    int n = ts->inflight;
    pthread_mutex_unlock(&ts->lock);
    return n;
}

int ts_max_inflight(ts_server *ts) {
    pthread_mutex_lock(&ts->lock);
    int n = ts->max_inflight;
    pthread_mutex_unlock(&ts->lock);
    return n;
}

int ts_connections(ts_server *ts) {
    pthread_mutex_lock(&ts->lock);
    int n = ts->connections;
    pthread_mutex_unlock(&ts->lock);
    return n;
}

void ts_reset_stats(ts_server *ts) {
    pthread_mutex_lock(&ts->lock);
    for (int i = 0; i < ts->nlog; i++) free(ts->raw[i]);
    ts->nlog = 0;
    ts->max_inflight = ts->inflight;
    ts->connections = 0;
    for (route *r = ts->routes; r; r = r->next) r->hits = 0;
    pthread_mutex_unlock(&ts->lock);
}
