/* backoff.c - the retry policy. */
#include <stdio.h>

#include "backoff.h"
#include "fetch.h"

static bool status_transient(int status) { return status == 429 || (status >= 500 && status <= 599); }

bool tw_backoff_transient(int fetch_err, int status)
{
    switch (fetch_err) {
    case TW_FETCH_OK: return status_transient(status);
    case TW_FETCH_DNS:
    case TW_FETCH_REFUSED:
    case TW_FETCH_RESET:
    case TW_FETCH_TIMEOUT:
    case TW_FETCH_CLOSED: return true;
    default: return false; /* TLS (a bad certificate stays bad), OTHER */
    }
}

int64_t tw_backoff_delay_ms(int attempts, tw_random_fn rnd, void *ctx)
{
    double base = TW_BACKOFF_BASE_MS;
    /* Doubling past the cap is pointless; stopping early also avoids overflow. */
    for (int i = 1; i < attempts && base < TW_BACKOFF_MAX_MS; i++)
        base *= 2;
    double u = rnd(ctx);
    if (!(u >= 0.0 && u < 1.0)) /* a bad source (NaN, out of range) gets the plain delay */
        u = 0.5;
    double d = base * (0.5 + u);
    return d > TW_BACKOFF_MAX_MS ? TW_BACKOFF_MAX_MS : (int64_t)d;
}

tw_backoff_action tw_backoff_decide(int fetch_err, int status, int attempts, int retries,
                                    long retry_after_s, tw_random_fn rnd, void *ctx,
                                    int64_t *delay_ms)
{
    *delay_ms = 0;
    if (!tw_backoff_transient(fetch_err, status) || attempts > retries)
        return TW_BACKOFF_RECORD;
    if (retry_after_s >= 0)
        *delay_ms = retry_after_s >= TW_BACKOFF_MAX_MS / 1000 ? TW_BACKOFF_MAX_MS
                                                               : (int64_t)retry_after_s * 1000;
    else
        *delay_ms = tw_backoff_delay_ms(attempts, rnd, ctx);
    return TW_BACKOFF_RETRY;
}

const char *tw_backoff_error(int fetch_err, int status, const char *other_text, char *buf, size_t n)
{
    const char *w;
    switch (fetch_err) {
    case TW_FETCH_OK:
        if (!status_transient(status))
            return NULL;
        snprintf(buf, n, "http %d", status);
        return buf;
    case TW_FETCH_DNS: w = "dns failure"; break;
    case TW_FETCH_REFUSED: w = "connection refused"; break;
    case TW_FETCH_RESET: w = "connection reset"; break;
    case TW_FETCH_TIMEOUT: w = "timeout"; break;
    case TW_FETCH_TLS: w = "tls error"; break;
    case TW_FETCH_CLOSED: w = "connection closed"; break;
    default: w = other_text && *other_text ? other_text : "error"; break;
    }
    snprintf(buf, n, "%s", w);
    return buf;
}
