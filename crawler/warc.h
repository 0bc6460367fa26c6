/* warc.h - WARC/1.1 writing (one gzip member per record, file rotation) and reading (tests, resume, repair). */
#ifndef TW_WARC_H
#define TW_WARC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Error returns of this module (always negative; 0 means success). */
#define TW_WARC_EIO       (-1) /* a system call failed: errno says why */
#define TW_WARC_ENOMEM    (-2) /* memory ran out */
#define TW_WARC_EINVAL    (-3) /* a bad argument (a NULL that must not be, a bad level) */
#define TW_WARC_ETORN     (-4) /* the data ends inside a gzip member or a record */
#define TW_WARC_EFORMAT   (-5) /* the bytes are not a WARC record / not gzip as this reader expects */
#define TW_WARC_ETOOBIG   (-6) /* a record is over the reader's limit (writing: 4 GiB or more) */
#define TW_WARC_EDIGEST   (-7) /* a WARC-Block-Digest or WARC-Payload-Digest does not match */
#define TW_WARC_EALGO     (-8) /* a digest uses an algorithm other than sha1 */

/* A new file is started once the current one would pass this size (the contract's 1 GiB). */
#define TW_WARC_DEFAULT_MAX_FILE_BYTES (UINT64_C(1) << 30)
/*
 * Compression level used unless told otherwise. Levels keep libdeflate's scale
 * (1..12, higher = smaller files for more CPU) and map onto ISA-L igzip's levels:
 * 1 -> igzip 0 with Huffman codes each encoder learns from the records it has seen
 * (one per kind of content), 2..5 -> igzip 2, 6..12 -> igzip 3. Measured by
 * bench/bench_warc.c on 16 KB HTML pages, level 1 encodes ~19,000 pages/s per core
 * (~53 us a page), level 2 ~20% slower for files ~0.5 points smaller (about what level 1
 * wrote before it learned codes), levels 6..12 ~45% slower for files ~1.3 points
 * smaller; see the top of warc.c for the figures.
 */
#define TW_WARC_DEFAULT_LEVEL 1
/* Largest decompressed record tw_warc_reader accepts unless told otherwise. */
#define TW_WARC_DEFAULT_MAX_RECORD (UINT64_C(1) << 30)

/* Returns a static English description of a TW_WARC_E* code (0 gives "ok"). */
const char *tw_warc_strerror(int err);

/* ------------------------------------------------------------------ writing */

/* One HTTP exchange as the crawler saw it: becomes a request and a response record. */
typedef struct tw_warc_exchange {
    const char *target_uri;   /* the URL requested (required) */
    const char *ip_address;   /* the server's address, NULL or "" when unknown */
    struct timespec date;     /* when the request was sent (WARC-Date of both records) */
    /* The request as sent: request line, headers, blank line (and body, if any). */
    const void *request;
    size_t request_len;
    /*
     * The response's status line and headers as received (the final blank line
     * may be present or not). On writing, Transfer-Encoding fields are dropped,
     * because body holds the de-chunked bytes, and line ends are made CRLF (so a
     * bare-LF head cannot hide where the payload starts); all else is kept.
     */
    const void *response_head;
    size_t response_head_len;
    /* The body as received after de-chunking: content-encoding (gzip, br...) kept. */
    const void *body;
    size_t body_len;
    bool truncated;           /* body was cut at --max-bytes: WARC-Truncated: length */
} tw_warc_exchange;

/*
 * Turns exchanges into bytes: owns a compressor, its learned Huffman codes and scratch
 * buffers, so one encoder per thread lets compression run off the writer's thread (an
 * encoder may pass between threads, one user at a time). Records need nothing from the
 * file they land in or from each other, so encoded bytes may go to any writer: every
 * record is an independent gzip member whatever code compressed it.
 */
typedef struct tw_warc_encoder tw_warc_encoder;

/*
 * Creates an encoder compressing at level 1..12 (0 = TW_WARC_DEFAULT_LEVEL; the
 * mapping onto igzip's levels is beside it). Returns 0 and sets *out (free with
 * tw_warc_encoder_free), TW_WARC_EINVAL for a bad level, TW_WARC_ENOMEM.
 */
int tw_warc_encoder_new(int level, tw_warc_encoder **out);

/* Frees an encoder and its buffers. NULL is a no-op. */
void tw_warc_encoder_free(tw_warc_encoder *e);

/* What an encoder has done so far (for tests and benchmarks). */
typedef struct tw_warc_encoder_stats {
    uint64_t records;         /* records (gzip members) encoded */
    uint64_t learned;         /* Huffman codes learned from records (default level only) */
    uint64_t learned_records; /* records compressed with a learned code */
} tw_warc_encoder_stats;

/* Copies e's counters into *out. Does not block; e must not be in use by another thread. */
void tw_warc_encoder_get_stats(const tw_warc_encoder *e, tw_warc_encoder_stats *out);

/*
 * Encodes an exchange as two gzip members, a request record then a response record
 * (each naming the other in WARC-Concurrent-To, with fresh random record IDs).
 * On success returns 0 and points *out and *out_len at bytes owned by the encoder,
 * valid until its next call or its freeing. Errors: TW_WARC_EINVAL (missing
 * target_uri, NULL pointer with a non-zero length, a URI or IP with a space or
 * control character, a response head with no line), TW_WARC_ETOOBIG (a record of
 * 4 GiB or more, past what igzip takes in one call), TW_WARC_EIO (no random bytes
 * for record IDs), TW_WARC_ENOMEM.
 */
int tw_warc_encode_exchange(tw_warc_encoder *e, const tw_warc_exchange *x,
                            const uint8_t **out, size_t *out_len);

/* How a writer names, sizes and describes its files; zeros and NULLs give defaults. */
typedef struct tw_warc_options {
    const char *prefix;       /* file names are PREFIX-YYYYMMDDThhmmssZ-NNNNN.warc.gz; NULL = "trawl" */
    uint64_t max_file_bytes;  /* start a new file before one would pass this; 0 = 1 GiB */
    int level;                /* compression level 1..12 (see TW_WARC_DEFAULT_LEVEL); 0 = that default */
    const char *software;     /* warcinfo "software", e.g. "trawl/0.1"; NULL = "trawl" */
    const char *operator_name;/* warcinfo "operator"; NULL = omitted */
    const char *user_agent;   /* warcinfo "http-header-user-agent"; NULL = omitted */
    const char *robots;       /* warcinfo "robots" policy, e.g. "obey"; NULL = omitted */
} tw_warc_options;

/* A WARC writer: a directory, the current file, rotation. Not thread-safe. */
typedef struct tw_warc tw_warc;

/*
 * Creates a NEW file in dir (which must exist) for this run, never reusing or
 * overwriting an existing one, and writes its warcinfo record. opts may be NULL.
 * Returns 0 and sets *out (close with tw_warc_close), TW_WARC_EIO (errno set:
 * the directory cannot be written), TW_WARC_EINVAL, TW_WARC_ENOMEM.
 */
int tw_warc_open(const char *dir, const tw_warc_options *opts, tw_warc **out);

/*
 * Appends the request and response records of x to the current file with one
 * write(), first starting a new file (with its warcinfo) if the current one
 * already holds an exchange and would pass max_file_bytes.
 * Returns 0, or an error of tw_warc_encode_exchange / TW_WARC_EIO (errno set).
 */
int tw_warc_write_exchange(tw_warc *w, const tw_warc_exchange *x);

/*
 * Appends bytes made by tw_warc_encode_exchange (by any encoder, any thread)
 * exactly as tw_warc_write_exchange would. Returns 0 or TW_WARC_EIO (errno set).
 */
int tw_warc_write_encoded(tw_warc *w, const uint8_t *data, size_t len);

/*
 * Makes everything written so far durable (fdatasync of the file; the directory
 * entry of each new file is synced when the file is created).
 * Returns 0 or TW_WARC_EIO (errno set).
 */
int tw_warc_flush(tw_warc *w);

/* Flushes and closes the writer and frees it. Returns 0 or TW_WARC_EIO (the writer is freed anyway). NULL is a no-op. */
int tw_warc_close(tw_warc *w);

/* The path of the file being written; owned by the writer, valid until the next write or close. */
const char *tw_warc_path(const tw_warc *w);

/* How many files this writer has created so far (1 after tw_warc_open). */
unsigned tw_warc_file_count(const tw_warc *w);

/* ------------------------------------------------------------------ reading */

/* One named field of a record's header; name and value are NUL-terminated. */
typedef struct tw_warc_field {
    const char *name;
    const char *value;
} tw_warc_field;

/* One record; every pointer is owned by the reader and valid until its next call. */
typedef struct tw_warc_record {
    const char *version;        /* "WARC/1.1" (or "WARC/1.0") */
    const tw_warc_field *fields;
    size_t field_count;
    const uint8_t *block;       /* Content-Length bytes */
    size_t block_len;
    uint64_t offset;            /* where the record (its gzip member) starts in the input */
    uint64_t end_offset;        /* where it ends: the next record's offset */
} tw_warc_record;

/*
 * Reads records from bytes in memory: a .warc.gz in which each record is its
 * own gzip member, or (when the data does not start with the gzip magic) an
 * uncompressed WARC stream. The reader does not copy data: it must outlive it.
 */
typedef struct tw_warc_reader tw_warc_reader;

/*
 * Creates a reader over data[0..len). max_record bounds a record's decompressed
 * size (0 = TW_WARC_DEFAULT_MAX_RECORD). Returns 0 and sets *out (free with
 * tw_warc_reader_free), TW_WARC_ENOMEM.
 */
int tw_warc_reader_new(const void *data, size_t len, uint64_t max_record, tw_warc_reader **out);

/*
 * Creates a reader over a file (mapped read-only, so files of any size cost no copy).
 * Returns 0 and sets *out, TW_WARC_EIO (errno set), TW_WARC_ENOMEM.
 */
int tw_warc_reader_open(const char *path, tw_warc_reader **out);

/*
 * Reads the next record into *rec. Returns 1 for a record, 0 at the clean end of
 * the data, TW_WARC_ETORN when the data stops inside a member or record,
 * TW_WARC_EFORMAT for bytes that are not a record (including a gzip member that
 * holds other than exactly one record), TW_WARC_ETOOBIG, TW_WARC_ENOMEM. After an
 * error the reader stays at the bad record: every later call returns the same error.
 */
int tw_warc_reader_next(tw_warc_reader *r, tw_warc_record *rec);

/* Frees a reader (and unmaps its file). NULL is a no-op. */
void tw_warc_reader_free(tw_warc_reader *r);

/* Returns the value of the record's first field called name (case-insensitive), or NULL. */
const char *tw_warc_record_field(const tw_warc_record *rec, const char *name);

/*
 * Checks the record's WARC-Block-Digest and, if present, WARC-Payload-Digest (the
 * bytes after the HTTP header of an application/http block; the whole block for
 * other content types). A missing digest is
 * not an error: test for the field to require it. Returns 0 when every digest
 * present matches, TW_WARC_EDIGEST, TW_WARC_EALGO (not "sha1:"), TW_WARC_EFORMAT
 * (a payload digest on a block with no HTTP header end).
 */
int tw_warc_record_check_digests(const tw_warc_record *rec);

/* Writes the "sha1:BASE32" form of data's SHA-1 (37 chars + NUL) into out[38]. */
void tw_warc_sha1_label(const void *data, size_t len, char out[38]);

/*
 * tw_warc_sha1_label of a[0..la) into label_a and of b[0..lb) into label_b, the two
 * computed side by side on x86-64 CPUs with SHA-NI (about twice the speed of one
 * after the other), as encoders do for a response's block and payload digests.
 */
void tw_warc_sha1_label_pair(const void *a, size_t la, const void *b, size_t lb, char label_a[38],
                             char label_b[38]);

/*
 * Makes a crash-torn .warc.gz readable again: reads records from the start and
 * truncates the file after the last complete record before the first damaged or
 * incomplete one (writers append whole records with one write(), so only the tail
 * can be torn), then syncs it. Sets *good_len (may be NULL) to the length kept.
 * Returns 0 when nothing was cut, 1 when the file was truncated, TW_WARC_EIO
 * (errno set), TW_WARC_ENOMEM.
 */
int tw_warc_repair(const char *path, uint64_t *good_len);

#endif
