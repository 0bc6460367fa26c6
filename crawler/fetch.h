/* fetch.h - the HTTP service: libcurl's multi socket interface driven by runtime processes.
 *
 * tw_fetch_start() spawns a few service processes. Each owns one libcurl multi handle
 * (its connection cache, keep-alive, HTTP/2 multiplexing and DNS cache) and drives it
 * from the runtime's poller (tr_select) and its own receive timeout: no thread per
 * request and no scheduler blocked in I/O. Any process calls tw_fetch(), which sends
 * the request to the service that owns the URL's host and blocks only the caller until
 * the reply, so many thousands of fetches can be in flight at once.
 *
 * Requests are GETs. Redirects are not followed (a 3xx is returned as is, its Location
 * in the headers). The body comes back decoded (one content coding of gzip, deflate
 * with or without zlib header, br) and also raw, as received, for WARC records; both
 * are capped at max_bytes. Errors are classified for a retry policy (tw_fetch_err,
 * tw_fetch_transient). TLS certificates are verified (libcurl's default), proxies come
 * from the environment as libcurl reads them, and names resolve through libcurl's
 * threaded resolver (a short-lived thread per lookup, never a scheduler), cached per
 * service for 5 minutes.
 *
 * Replies travel as messages that own nothing outside the runtime (a copied head and
 * reference-counted binaries), so a caller that dies or gives up leaks nothing.
 */
#ifndef TW_FETCH_H
#define TW_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tr.h>

/* Most service processes one fetcher runs. */
#define TW_FETCH_MAX_SERVICES 64
/* max_bytes when a request gives 0. */
#define TW_FETCH_DEFAULT_MAX_BYTES (16u << 20)
/* timeout_ms when a request gives 0. */
#define TW_FETCH_DEFAULT_TIMEOUT_MS 30000
/* Most extra request headers. */
#define TW_FETCH_MAX_HEADERS 16

/* A running set of services. A plain value: copy it into any process that fetches. */
typedef struct tw_fetcher {
    int n;
    tr_pid pids[TW_FETCH_MAX_SERVICES];
} tw_fetcher;

/* How a fetch ended. */
typedef enum tw_fetch_err {
    TW_FETCH_OK = 0,  /* a response arrived (any status, possibly truncated at max_bytes) */
    TW_FETCH_DNS,     /* the host name did not resolve */
    TW_FETCH_REFUSED, /* could not connect: refused (or unreachable) */
    TW_FETCH_RESET,   /* the connection was reset by the peer */
    TW_FETCH_TIMEOUT, /* the total timeout (connect included) ran out */
    TW_FETCH_TLS,     /* TLS handshake or certificate failure */
    TW_FETCH_CLOSED,  /* the server closed the connection: nothing received, or the body cut short */
    TW_FETCH_OTHER,   /* anything else: bad URL, protocol garbage, undecodable body, ... */
} tw_fetch_err;

/* A request. Strings are copied by tw_fetch; only url is required. */
typedef struct tw_fetch_opts {
    const char *url;        /* absolute http:// or https:// URL */
    int64_t timeout_ms;     /* total time for the transfer; 0 = TW_FETCH_DEFAULT_TIMEOUT_MS */
    size_t max_bytes;       /* decoded body limit; 0 = TW_FETCH_DEFAULT_MAX_BYTES */
    const char *user_agent; /* NULL = "trawl/0.1" */
    const char *headers[TW_FETCH_MAX_HEADERS]; /* extra "Name: value" lines, NULL-ended */
} tw_fetch_opts;

/* Timings of one transfer, in milliseconds since it started. */
typedef struct tw_fetch_timings {
    double dns_ms;     /* name resolved */
    double connect_ms; /* TCP connected */
    double ttfb_ms;    /* first response byte */
    double total_ms;   /* transfer done */
} tw_fetch_timings;

/* A response. Owned by the caller of tw_fetch; free with tw_response_free. The binaries
 * may be shared further with tr_bin_ref / tr_send_bin. Binaries are never NULL (empty
 * ones have length 0), strings never NULL (empty when unknown). */
typedef struct tw_response {
    tw_fetch_err err;
    char err_text[256];       /* "" when err is TW_FETCH_OK (unless truncated: says so) */
    int status;               /* HTTP status, 0 if no response head arrived */
    int http_version;         /* 10, 11, 20, 30; 0 if unknown */
    bool truncated;           /* the body passed max_bytes and the transfer was stopped */
    char url[2048];           /* the URL fetched (as libcurl normalised it), truncated to fit */
    char ip[64];              /* the remote address connected to ("" if none) */
    int port;
    char content_type[256];   /* Content-Type as sent, "" if none */
    char content_encoding[64];/* Content-Encoding as sent, "" if none */
    tw_fetch_timings timings;
    tr_bin *resp_headers;     /* raw bytes of the last response head, status line included */
    tr_bin *req_headers;      /* raw bytes of the request head as sent */
    tr_bin *body;             /* the body decoded, at most max_bytes */
    tr_bin *raw_body;         /* the body as received (content coding kept), at most max_bytes */
} tw_response;

/* Starts nservices (1..TW_FETCH_MAX_SERVICES) service processes, not linked to the
 * caller, and fills *out. Calls curl_global_init (libcurl counts its calls; the program
 * may call curl_global_cleanup after tr_run returns). Process only.
 * Returns 0, TR_EINVAL for a bad count, TR_ENOMEM / TR_ELIMIT if a process could not be
 * started (those already started are stopped again). */
int tw_fetch_start(int nservices, tw_fetcher *out);

/* Asks every service of f to stop: transfers in flight end with TW_FETCH_OTHER
 * ("fetch service stopped"), easy and multi handles are freed, the processes end
 * normally. Returns without waiting for them. Process only. (A service that is killed
 * instead frees the same through its exit handler.) */
void tw_fetch_stop(const tw_fetcher *f);

/* Fetches o->url through the service that owns its host, blocking only the calling
 * process until the response, the timeout (plus a margin) or the service's death.
 * Process only. On return *out holds a new response (free with tw_response_free) and
 * the result is 0 — also for failed transfers: look at (*out)->err. Returns TR_EINVAL
 * (bad arguments: no URL, no services) or TR_ENOMEM, with *out NULL. */
int tw_fetch(const tw_fetcher *f, const tw_fetch_opts *o, tw_response **out);

/* Frees r and drops its binaries' references. NULL is a no-op. */
void tw_response_free(tw_response *r);

/* Whether a retry later may succeed: DNS failures (a resolver cannot tell a missing
 * name from a temporary failure through libcurl), refused, reset, timeout, closed,
 * and statuses 408, 429 and 5xx. TLS failures, other errors and other statuses: no. */
bool tw_fetch_transient(const tw_response *r);

/* The status class: 1..5 for 1xx..5xx, 0 when there is no status. */
int tw_fetch_status_class(const tw_response *r);

/* A static name for an error class ("ok", "dns", "refused", ...). */
const char *tw_fetch_err_name(tw_fetch_err e);

/* Whether responses with "Content-Encoding: br" can be decoded (libbrotlidec could be
 * loaded), and so whether "br" is offered in Accept-Encoding. Thread-safe. */
bool tw_fetch_brotli_available(void);

#endif
