/* url.h: URL normalization (WHATWG parsing for http/https), host keys and scope tests. */
#ifndef TW_URL_H
#define TW_URL_H

#include <stddef.h>

/*
 * A normalized URL is the WHATWG URL serialization of an http or https URL without its
 * fragment, with percent-escapes of unreserved characters (A-Z a-z 0-9 - . _ ~) decoded
 * and every other escape in upper-case hex. So it has a lower-case scheme and host
 * (IDN hosts in punycode, IPv4 hosts dotted-decimal, IPv6 hosts compressed in brackets),
 * no default port, no dot segments, a path that starts with '/', and no '#'.
 * Normalizing a normalized URL again gives the same string.
 */

/* Errors returned by the functions below (all negative). */
#define TW_URL_EINVAL    (-1) /* not a valid URL (WHATWG parsing fails) */
#define TW_URL_ENOTHTTP  (-2) /* a scheme other than http/https (mailto:, javascript:, ftp:...) */
#define TW_URL_EHOST     (-3) /* the host is missing or invalid (bad IPv4/IPv6, forbidden code point, IDNA failure) */
#define TW_URL_EPORT     (-4) /* the port is not a number in 0..65535 */
#define TW_URL_ETOOLONG  (-5) /* input or result longer than TW_URL_MAX_LEN, or output buffer too small */
#define TW_URL_ERELATIVE (-6) /* a relative reference and no base to resolve it against */
#define TW_URL_ENOMEM    (-7) /* out of memory */

/* Longest input or normalized URL accepted, in bytes. */
#define TW_URL_MAX_LEN 8192

/* Returns a static English message for a TW_URL_E* code ("ok" for 0). Never NULL. */
const char *tw_url_strerror(int err);

/*
 * Resolves `input` (an href: absolute or relative, surrounding spaces, tabs and newlines
 * allowed as the URL standard allows them) against `base` (an absolute URL, normally a
 * normalized one; NULL when there is none) and stores the normalized absolute URL in
 * *out, a NUL-terminated string allocated with malloc that the caller frees.
 * `base` is only consulted when the URL standard would: an absolute http(s) `input`
 * ignores a base of another scheme. Returns 0, or a TW_URL_E* code with *out set to NULL:
 * TW_URL_ENOTHTTP when the result would have a scheme other than http/https (also when a
 * relative `input` is resolved against a non-http(s) base), TW_URL_ERELATIVE when
 * `input` is relative and `base` is NULL, TW_URL_EINVAL/EHOST/EPORT when `input` (or the
 * needed `base`) is not a valid URL, TW_URL_ETOOLONG, TW_URL_ENOMEM.
 */
int tw_url_normalize(const char *input, const char *base, char **out);

/* As tw_url_normalize, for an `input` of `len` bytes that need not be NUL-terminated
 * (it may contain NUL bytes, which are percent-encoded like any control character). */
int tw_url_normalize_n(const char *input, size_t len, const char *base, char **out);

/*
 * A base URL parsed once, to resolve the many links of one page without parsing the
 * base again for each (tw_url_normalize does). url is the normalized base; the other
 * fields are private to url.c.
 */
struct tw_url_base {
    char *url;
    size_t len, auth, path, query;
    int scheme;
};

/*
 * Parses `base` (an absolute http(s) URL) into *b. b->url is allocated; release it with
 * tw_url_base_free. Returns 0, or a TW_URL_E* code as tw_url_normalize would for
 * `base` alone (TW_URL_ERELATIVE if it is relative), with *b zeroed (nothing to free).
 */
int tw_url_base_init(struct tw_url_base *b, const char *base);

/* Frees what tw_url_base_init allocated and zeroes *b. */
void tw_url_base_free(struct tw_url_base *b);

/*
 * tw_url_normalize_n against a prepared base: the same result, the same errors and
 * ownership (*out is malloc'd for the caller). b may be NULL or zeroed: no base.
 */
int tw_url_resolve(const struct tw_url_base *b, const char *input, size_t len, char **out);

/*
 * Writes the crawl host key of a normalized URL into buf (n bytes, NUL-terminated):
 * scheme-less "host:port" with the port always present, e.g. "127.0.0.1:8080",
 * "example.com:443", "[::1]:80". Does not allocate. Returns 0, TW_URL_EINVAL if `url`
 * is not a normalized http(s) URL, TW_URL_ETOOLONG if buf is too small.
 */
int tw_url_host_key(const char *url, char *buf, size_t n);

/*
 * Writes the host of a normalized URL into buf (n bytes, NUL-terminated): the name,
 * the dotted IPv4 address, or the IPv6 address in brackets. Does not allocate.
 * Returns 0, TW_URL_EINVAL if `url` is not a normalized http(s) URL, TW_URL_ETOOLONG
 * if buf is too small.
 */
int tw_url_host(const char *url, char *buf, size_t n);

/* Returns the port of a normalized URL (the scheme's default when none is written),
 * or TW_URL_EINVAL if `url` is not a normalized http(s) URL. */
int tw_url_port(const char *url);

/*
 * Returns a pointer into `url` (a normalized URL) to its path and query, which run to
 * the end of the string: the request target for the request line and the string that
 * robots.txt rules are matched against (e.g. "/p/1.html?x=1"). Does not allocate.
 * Returns NULL if `url` is not a normalized http(s) URL.
 */
const char *tw_url_path_query(const char *url);

/*
 * Returns 1 if normalized URLs a and b have the same scheme, host and port (the
 * --scope host test), 0 if not or if either is not a normalized http(s) URL.
 */
int tw_url_same_origin(const char *a, const char *b);

/*
 * Returns 1 if the hosts of normalized URLs a and b have the same registrable domain
 * by the public suffix list built into libpsl (the --scope domain test; scheme and
 * port are ignored). A host that is itself a public suffix, or has none, is only the
 * same site as the same host; an IP address is only the same site as the same address.
 * Returns 0 if not, or if either is not a normalized http(s) URL. Allocates only for
 * hosts longer than 255 bytes; returns 0 if that allocation fails.
 */
int tw_url_same_site(const char *a, const char *b);

#endif
