/* http_headers.h - parsing of raw HTTP response header blocks and the header values a crawler needs. */
#ifndef TW_HTTP_HEADERS_H
#define TW_HTTP_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Limits on the header block that is kept (the last one of the input). */
#define TW_HTTP_MAX_BLOCK (64 * 1024)
#define TW_HTTP_MAX_HEADERS 256
/* Most content codings kept from Content-Encoding. */
#define TW_HTTP_MAX_CODINGS 8

/* Results of tw_http_headers_parse(); tw_http_strerror() names them. */
typedef enum tw_http_err {
    TW_HTTP_OK = 0,
    TW_HTTP_ENOSTATUS = -1,  /* no line starting with "HTTP/" begins a header block */
    TW_HTTP_EBADSTATUS = -2, /* the status line is malformed (version or 3-digit code) */
    TW_HTTP_ETOOLONG = -3,   /* the header block is longer than TW_HTTP_MAX_BLOCK */
    TW_HTTP_ETOOMANY = -4,   /* more than TW_HTTP_MAX_HEADERS header fields */
    TW_HTTP_ENOMEM = -5      /* out of memory */
} tw_http_err;

/* One header field; both strings are NUL-terminated and owned by the tw_http_headers. */
typedef struct tw_http_header {
    const char *name;  /* as received (compare case-insensitively) */
    const char *value; /* leading and trailing whitespace removed, obs-folds joined by one space */
} tw_http_header;

/* A parsed response head. All pointers are owned by it; read-only for users. */
typedef struct tw_http_headers {
    int version;    /* 10, 11, 20, 30: HTTP/1.0, HTTP/1.1, HTTP/2, HTTP/3 */
    int status;     /* 100-999 */
    const char *reason; /* "" when absent */
    size_t count;
    const tw_http_header *fields;
} tw_http_headers;

/*
 * Parses raw header bytes as libcurl delivers them: possibly several response
 * heads one after the other (100 Continue, a proxy's CONNECT answer, ...), of
 * which the last one that starts with a status line is kept. Lines may end in
 * CRLF or bare LF; lines starting with space or tab continue the previous
 * field (obs-fold). Lines that are not a valid "name: value" field are
 * skipped. Stores a new object in *out (free with tw_http_headers_free()) and
 * returns TW_HTTP_OK, or returns a negative tw_http_err and sets *out to NULL.
 */
int tw_http_headers_parse(const char *raw, size_t len, tw_http_headers **out);

/* Frees h and everything it owns; NULL is a no-op. */
void tw_http_headers_free(tw_http_headers *h);

/* Returns a static English message for a tw_http_err code. */
const char *tw_http_strerror(int err);

/* Returns the value of the first field named name (case-insensitive), or NULL. Owned by h. */
const char *tw_http_header_get(const tw_http_headers *h, const char *name);

/* Returns the value of the n-th (from 0) field named name, or NULL; for repeated fields. */
const char *tw_http_header_get_nth(const tw_http_headers *h, const char *name, size_t n);

/*
 * Returns the media type of the first Content-Type, lower-cased and without
 * parameters ("text/html; charset=UTF-8" -> "text/html"), or NULL when the
 * field is absent or is no type/subtype. Owned by h.
 */
const char *tw_http_content_type(const tw_http_headers *h);

/*
 * Returns the charset parameter of the first Content-Type, lower-cased and
 * unquoted ("utf-8"), or NULL when there is none. Owned by h.
 */
const char *tw_http_charset(const tw_http_headers *h);

/* Returns the raw Location value (a URI reference the caller resolves), or NULL. Owned by h. */
const char *tw_http_location(const tw_http_headers *h);

/*
 * Returns Content-Length (>= 0), or -1 when absent or invalid: not a number,
 * or several fields / list members that disagree (RFC 9110 §8.6).
 */
int64_t tw_http_content_length(const tw_http_headers *h);

/*
 * Returns how many content codings Content-Encoding lists over all its fields,
 * in the order they were applied, lower-cased, "identity" left out; points
 * *codings at them (owned by h). Returns -1 when there are more than
 * TW_HTTP_MAX_CODINGS (no client can undo that; treat the body as undecodable).
 */
int tw_http_content_codings(const tw_http_headers *h, const char *const **codings);

/*
 * Parses a Retry-After value, delta-seconds ("120") or an HTTP-date, into
 * seconds to wait from now, clamped to >= 0 (a date in the past gives 0;
 * huge delays are capped at 2^31-1). Returns -1 when value is NULL or invalid.
 */
long tw_http_retry_after_value(const char *value, time_t now);

/* tw_http_retry_after_value() of the first Retry-After field of h; -1 when absent or invalid. */
long tw_http_retry_after(const tw_http_headers *h, time_t now);

/*
 * Parses an HTTP-date (RFC 9110 §5.6.7) in any of its three forms:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit years 70-99 are 19xx, 00-69 20xx)
 *   asctime      "Sun Nov  6 08:49:37 1994"
 * Surrounding whitespace is allowed; the day name is not checked against the
 * date. Stores the time in *out and returns 0, or returns -1 for anything else
 * (including impossible dates such as 31 Feb).
 */
int tw_http_date_parse(const char *s, time_t *out);

/* Flags returned by tw_http_robots_tag(). */
#define TW_HTTP_ROBOTS_NOINDEX 1u
#define TW_HTTP_ROBOTS_NOFOLLOW 2u

/*
 * Reads the X-Robots-Tag fields that apply to product_token (fields without
 * an agent prefix, and "agent: ..." fields naming it case-insensitively) and
 * returns TW_HTTP_ROBOTS_* flags: "nofollow", "noindex", "none" (both).
 */
unsigned tw_http_robots_tag(const tw_http_headers *h, const char *product_token);

#endif
