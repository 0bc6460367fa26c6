/* backoff.h - the retry policy: transient vs final outcomes, exponential backoff with jitter, Retry-After. */
#ifndef TW_BACKOFF_H
#define TW_BACKOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The first retry waits about this long; each further one doubles it. */
#define TW_BACKOFF_BASE_MS 1000
/* No wait, from backoff or from Retry-After, is longer: a server asking for days
 * would otherwise keep the crawl from ever finishing. */
#define TW_BACKOFF_MAX_MS (3600 * 1000)

/* A source of uniform random numbers in [0, 1), provided by the caller (so tests can
 * fix it). ctx is passed through. */
typedef double (*tw_random_fn)(void *ctx);

/* What to do with the outcome of an attempt. */
typedef enum tw_backoff_action {
    TW_BACKOFF_RECORD = 0, /* the URL has ended: record it (a final response, a permanent
                              failure, or a transient one with no retries left) */
    TW_BACKOFF_RETRY = 1   /* try again after the delay */
} tw_backoff_action;

/*
 * Whether an outcome may succeed if tried again, by the contract's list: a DNS or
 * connection error, a reset or a close (also mid-body), a timeout (fetch_err is a
 * tw_fetch_err from fetch.h: TW_FETCH_DNS, _REFUSED, _RESET, _TIMEOUT, _CLOSED), or
 * a response with status 429 or 5xx. TLS failures, other errors and every other
 * status (404 and 408 included) are final. Unlike tw_fetch_transient, 408 is final:
 * the contract does not list it.
 */
bool tw_backoff_transient(int fetch_err, int status);

/*
 * The backoff before the next attempt after `attempts` attempts (>= 1) failed:
 * TW_BACKOFF_BASE_MS * 2^(attempts-1), multiplied by a uniform factor in [0.5, 1.5)
 * drawn from rnd (one call), capped at TW_BACKOFF_MAX_MS. Returns milliseconds.
 */
int64_t tw_backoff_delay_ms(int attempts, tw_random_fn rnd, void *ctx);

/*
 * Decides what follows an attempt. attempts counts the requests made for the URL,
 * this one included (>= 1); retries is --retries, the further attempts allowed after
 * the first, so a transient failure is retried while attempts <= retries.
 * retry_after_s is the response's Retry-After in seconds (tw_http_retry_after), or
 * < 0 when it had none. On TW_BACKOFF_RETRY, *delay_ms is the wait: Retry-After
 * when given (it is the server's explicit word, so it replaces the backoff rather
 * than adding to it; capped at TW_BACKOFF_MAX_MS), else tw_backoff_delay_ms. rnd is
 * called only then. On TW_BACKOFF_RECORD, *delay_ms is 0.
 */
tw_backoff_action tw_backoff_decide(int fetch_err, int status, int attempts, int retries,
                                    long retry_after_s, tw_random_fn rnd, void *ctx,
                                    int64_t *delay_ms);

/*
 * Writes the pages.jsonl "error" text for an outcome into buf (n bytes) and returns
 * buf: "dns failure", "connection refused", "connection reset", "timeout",
 * "tls error", "connection closed", or other_text (when not NULL or empty) else
 * "error" for TW_FETCH_OTHER; for a response (TW_FETCH_OK) "http <status>". Returns
 * NULL for a response that is not an error to record (fetch_err TW_FETCH_OK and a
 * status other than 429/5xx): its "error" is null.
 */
const char *tw_backoff_error(int fetch_err, int status, const char *other_text, char *buf, size_t n);

#endif
