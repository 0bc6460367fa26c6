/* testserver.h -- a real HTTP/1.1 server on loopback for tests: routes, misbehaviours, request log.
 *
 * The server runs in its own threads inside the test process (plain POSIX sockets and
 * poll(), one thread per connection; it does not use the trawl runtime), so code under
 * test talks to it over real TCP exactly as it would to a web server.
 *
 *     ts_server *ts = ts_start("127.0.0.1", 0);
 *     ts_route(ts, "/", &(ts_spec){.kind = TS_STATIC, .body = "<a href=/x>x</a>"});
 *     ts_route(ts, "/flaky", &(ts_spec){.kind = TS_FAIL_THEN, .times = 2, .status = 503});
 *     ... fetch http://127.0.0.1:<ts_port(ts)>/flaky three times ...
 *     assert_int_equal(ts_count(ts, "/flaky"), 3);
 *     ts_stop(ts);
 *
 * Routes match the request path without its query. A route path ending in '*' matches
 * every path starting with what precedes the '*' ("/site*" matches "/site/a.html"); an
 * exact route wins over a
 * prefix route, and a longer prefix over a shorter one. Unmatched paths get a 404.
 * Connections are kept alive (HTTP/1.1 default, or "Connection: keep-alive" from a 1.0
 * client) unless the client sends "Connection: close" or the behaviour ends the
 * connection. Request bodies (Content-Length only) are read and ignored.
 *
 * Every request is recorded (time, method, target, a few headers, connection id) and
 * can be inspected with the thread-safe accessors below while the server runs.
 * All functions are thread-safe. Nothing here calls exit() or cmocka: functions that
 * can fail return NULL/-1 and print why on stderr.
 */
#ifndef TS_TESTSERVER_H
#define TS_TESTSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ts_server ts_server;

/* ---------------------------------------------------------------- requests and responses */

/* A parsed request as a callback sees it. Valid only during the callback. */
typedef struct ts_request {
    const char *method;  /* "GET" */
    const char *target;  /* path and query as sent: "/a/b?x=1" */
    const char *path;    /* the path alone: "/a/b" */
    const char *query;   /* after '?', or "" */
    int conn_id;         /* 1, 2, ... in order of acceptance */
    int64_t t_ms;        /* when the request head was complete (ts_now_ms clock) */
    const char *headers; /* the raw header lines after the request line, CRLF-separated */
} ts_request;

/* The value of the first header `name` (case-insensitive) in req, copied into buf
 * (truncated to n-1 bytes); returns buf, or NULL if there is no such header. */
const char *ts_header(const ts_request *req, const char *name, char *buf, size_t n);

/* A response under construction by a callback. The server adds Content-Length (and
 * Connection: close when it will close) itself. */
typedef struct ts_response ts_response;
void ts_set_status(ts_response *resp, int status);
/* Adds a header line "name: value" (printf-style value). */
void ts_add_header(ts_response *resp, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Sets the body to a copy of data[0..len). */
void ts_set_body(ts_response *resp, const void *data, size_t len);
/* Sets the body from printf-style text. */
void ts_printf_body(ts_response *resp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

typedef void (*ts_handler)(const ts_request *req, ts_response *resp, void *ctx);

/* ---------------------------------------------------------------- routes */

/* Built-in behaviours a test attaches to a path. Fields not listed for a kind are ignored;
 * zero fields take the defaults given. */
typedef enum ts_kind {
    TS_STATIC,      /* status (200), content_type ("text/html"), body (""; body_len if binary,
                       else strlen), optional extra header line `header` ("Name: value") */
    TS_FAIL_THEN,   /* the first `times` requests get `status` (503) with Retry-After `retry_after`
                       if set; later ones get 200 with `body` */
    TS_RETRY_AFTER, /* status (429) with "Retry-After: <retry_after>" (seconds or an HTTP-date) */
    TS_RESET,       /* reads the request, then resets the connection (SO_LINGER 0, close) */
    TS_HANG,        /* reads the request and never answers (until the client or ts_stop ends it) */
    TS_DRIP,        /* 200, sends `body` one byte every `interval_ms` (100) ms */
    TS_CUT,         /* 200 with Content-Length `length` (1000), sends the first `sent` (10)
                       bytes of a filler body, then closes */
    TS_GARBAGE,     /* answers with `length` (256) random bytes that are not HTTP, then closes */
    TS_REDIRECT,    /* status (302) with Location `location` */
    TS_ENCODED,     /* 200 with `body` compressed by `encoding`: "gzip" (default) or "deflate"
                       (zlib format); Content-Encoding set accordingly. For "br", body/body_len
                       must already be brotli data (the server has no brotli encoder). */
    TS_GZIP_BOMB,   /* 200, Content-Encoding gzip: `length` (10 MiB) zero bytes gzipped */
    TS_BIG,         /* 200, `length` (8 MiB) bytes of text, not compressed */
    TS_TRAP,        /* a link trap on a prefix route "/trap*": /trapN answers a page linking to
                       /trapN+1 and /trapN+2, without end (any prefix works the same) */
    TS_DIR,         /* serves files under directory `dir` on a prefix route "/site*": "/site/a.html"
                       reads dir/a.html; "/site/" or a directory serves index.html; ".." gets 403 */
    TS_CLOSE_AFTER, /* as TS_STATIC, then closes the connection without having said so (no
                       "Connection: close"): a kept-alive connection the server drops idle */
} ts_kind;

typedef struct ts_spec {
    ts_kind kind;
    int status;
    const char *content_type;
    const char *body;
    size_t body_len;
    const char *header;
    int times;
    const char *retry_after;
    int interval_ms;
    size_t length;
    size_t sent;
    const char *location;
    const char *encoding;
    const char *dir;
} ts_spec;

/* ---------------------------------------------------------------- life */

/* Starts a server on ip (any loopback address "127.x.y.z") and port (0 = an ephemeral
 * port). Returns the server, or NULL (reason on stderr). Allocates; free with ts_stop. */
ts_server *ts_start(const char *ip, int port);
/* The port the server listens on. */
int ts_port(const ts_server *ts);
/* "http://IP:PORT" + path, written into buf (size n); returns buf. */
const char *ts_url(const ts_server *ts, const char *path, char *buf, size_t n);
/* Closes every connection (hanging and dripping ones too), joins all threads, frees ts.
 * NULL is a no-op. */
void ts_stop(ts_server *ts);

/* Adds a route with a built-in behaviour (spec and its strings are copied). A route for
 * the same path replaces the previous one. Returns 0, or -1 if out of memory. */
int ts_route(ts_server *ts, const char *path, const ts_spec *spec);
/* Adds a route answered by fn(req, resp, ctx), called on a connection thread (several
 * may run at once: ctx must be thread-safe). Returns 0 or -1. */
int ts_route_fn(ts_server *ts, const char *path, ts_handler fn, void *ctx);

/* ---------------------------------------------------------------- what the server saw */

/* One logged request. */
typedef struct ts_logged {
    int64_t t_ms;          /* ts_now_ms() when the request head was complete */
    char method[16];
    char target[512];      /* path and query, truncated */
    char user_agent[256];
    char accept_encoding[128];
    int conn_id;
} ts_logged;

/* Monotonic milliseconds, the clock of t_ms. */
int64_t ts_now_ms(void);
/* How many requests had exactly this path (query ignored; "*" counts all requests). */
int ts_count(ts_server *ts, const char *path);
/* Copies up to max logged requests whose path is `path` (NULL: all) into out, oldest
 * first; returns how many there are (may exceed max). */
int ts_requests(ts_server *ts, const char *path, ts_logged *out, int max);
/* Copies into buf (n bytes, truncated) the head of the i-th request (0 = oldest) whose
 * path is `path` (NULL: all) exactly as it came off the wire: request line, header
 * lines, the empty line. Returns its whole length, or -1 if there is no such request. */
long ts_raw_head(ts_server *ts, const char *path, int i, char *buf, size_t n);
/* Requests being answered right now (a hanging one counts until its client goes away). */
int ts_inflight(ts_server *ts);
/* The most requests being answered at the same time since start or the last reset. */
int ts_max_inflight(ts_server *ts);
/* Connections accepted since start or the last reset. */
int ts_connections(ts_server *ts);
/* Forgets the request log and zeroes the counters (TS_FAIL_THEN counts restart too). */
void ts_reset_stats(ts_server *ts);

#endif
