/* pages.h - pages.jsonl: one JSON line per ended URL, appended atomically, repaired on resume. */
#ifndef TW_PAGES_H
#define TW_PAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One line of pages.jsonl, with exactly the contract's fields. Strings are borrowed
 * for the call; NULL strings are written as JSON null (url NULL is written as "").
 * Any bytes are accepted: invalid UTF-8 becomes U+FFFD, so every line is valid JSON.
 */
typedef struct tw_page_record {
    const char *url;          /* the normalized URL */
    int status;               /* HTTP status of the last attempt, 0 when none came */
    const char *error;        /* why the URL was given up, NULL after a final response */
    int attempts;             /* requests made (0 only when robots.txt forbade it) */
    int depth;                /* hops from the seed */
    const char *parent;       /* page it was first found on, NULL for seeds */
    const char *content_type; /* NULL when none */
    int64_t bytes;            /* decoded body bytes kept */
    bool truncated;           /* the body was cut at --max-bytes */
    int64_t links;            /* distinct http(s) links extracted */
    const char *redirect;     /* resolved, normalized Location of a 3xx, else NULL */
    int64_t fetched_at_ms;    /* start of the last attempt, ms since the Unix epoch */
    int64_t ms;               /* its duration in ms */
} tw_page_record;

/* The file's name inside the crawl directory. */
#define TW_PAGES_FILE "pages.jsonl"

/* An open pages.jsonl. */
typedef struct tw_pages tw_pages;

/*
 * Formats r as one JSON object followed by '\n' in a new NUL-terminated string that
 * the caller frees; stores its length (newline included) in *len if len is not NULL.
 * Fields come in the contract's order with "url" first (tw_pages_repair relies on it);
 * fetched_at is RFC 3339 UTC with milliseconds ("2024-05-01T12:00:00.250Z").
 * Returns NULL only when memory runs out.
 */
char *tw_pages_format(const tw_page_record *r, size_t *len);

/*
 * Returns s (len bytes, any bytes) as a quoted JSON string literal in a new
 * NUL-terminated string that the caller frees: '"' and '\\' escaped, control
 * characters as \n, \t, ... or \u00XX, each invalid UTF-8 byte (overlong forms,
 * surrogates and code points above U+10FFFF included) as U+FFFD. NULL when out of memory.
 */
char *tw_json_quote(const char *s, size_t len);

/*
 * Decodes the JSON string literal at the start of s (n bytes, starting with '"')
 * into a new NUL-terminated string that the caller frees (\uXXXX escapes become
 * UTF-8, lone surrogates U+FFFD); stores the bytes the literal took, quotes
 * included, in *used and the decoded length in *len (either may be NULL). Returns
 * NULL if s does not start with a well-formed literal, or when out of memory.
 */
char *tw_json_unquote(const char *s, size_t n, size_t *used, size_t *len);

/*
 * Opens (creating if missing, mode 0644) DIR/pages.jsonl for appending; the directory
 * must exist. Does not repair it: call tw_pages_repair first on resume. Returns a
 * handle to close with tw_pages_close(), or NULL with errno set (from open(), or
 * ENOMEM) and a message saying what and where in err (n bytes; "cannot open
 * DIR/pages.jsonl: Permission denied").
 */
tw_pages *tw_pages_open(const char *dir, char *err, size_t n);

/*
 * Appends r's line with a single write() on an O_APPEND descriptor, so a crash
 * leaves at most an incomplete last line, never interleaved ones. On a short write
 * (disk full) the partial line is cut off again. Does not fsync (see tw_pages_sync).
 * Returns 0, or a negative errno (-ENOMEM, -ENOSPC, -EIO, ...): the line is then not
 * in the file.
 */
int tw_pages_write(tw_pages *p, const tw_page_record *r);

/*
 * Appends len bytes of whole lines made by tw_pages_format with a single write(): a
 * crash leaves at most an incomplete last line (tw_pages_repair cuts it); a short
 * write (disk full) is cut back, so nothing of them is in the file then. Does not
 * fsync. Returns 0, or a negative errno.
 */
int tw_pages_append(tw_pages *p, const char *lines, size_t len);

/* fsync()s the file. Returns 0 or a negative errno. */
int tw_pages_sync(tw_pages *p);

/* Closes the file and frees p. Returns 0, or a negative errno from close(). NULL: 0. */
int tw_pages_close(tw_pages *p);

/*
 * Called by tw_pages_repair for each complete line: url is the decoded "url" value
 * (NUL-terminated, len bytes, valid until the callback returns). Return 0 to go on,
 * anything else to stop the scan (the file is then left untouched).
 */
typedef int (*tw_pages_url_fn)(void *ctx, const char *url, size_t len);

/*
 * Makes DIR/pages.jsonl end with a complete line after a crash: trailing bytes
 * that are not a complete, well-formed line (no final newline, or the NUL bytes a
 * power loss can leave) are truncated away. Lines before the last good one are
 * kept as they are. Calls fn (if not NULL) with the url of every good line, in file
 * order. A missing file is an empty one. Reads the file in a stream, so memory does
 * not grow with its size.
 * Returns the number of good lines (>= 0), or a negative errno (open, read, ftruncate,
 * -ENOMEM), or -ECANCELED if fn stopped the scan.
 */
long tw_pages_repair(const char *dir, tw_pages_url_fn fn, void *ctx);

#endif
