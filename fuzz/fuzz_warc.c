/* fuzz_warc.c - libFuzzer target: read hostile bytes as WARC (plain and gzipped), and round-trip them through the writer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libdeflate.h>

#include "warc.h"

/* Reads every record, touching each field and checking digests; returns how many records were read. */
static int read_all(const uint8_t *data, size_t size)
{
    tw_warc_reader *r;
    tw_warc_record rec;
    if (tw_warc_reader_new(data, size, 1 << 24, &r))
        return -1;
    int n = 0;
    while (tw_warc_reader_next(r, &rec) == 1) {
        size_t total = 0;
        for (size_t i = 0; i < rec.field_count; i++)
            total += strlen(rec.fields[i].name) + strlen(rec.fields[i].value);
        if (rec.block_len && (rec.block[0] ^ rec.block[rec.block_len - 1]) == 0x100)
            abort(); /* never true: makes the block's ends be read */
        (void)total;
        (void)tw_warc_record_field(&rec, "WARC-Type");
        (void)tw_warc_record_check_digests(&rec);
        if (rec.end_offset <= rec.offset || rec.end_offset > size)
            abort();
        n++;
    }
    tw_warc_reader_free(r);
    return n;
}

/*
 * The input as "uri NUL head NUL body" becomes an exchange; when the writer takes
 * it, what it wrote must read back as two records with good digests.
 */
static void round_trip(const uint8_t *data, size_t size)
{
    const uint8_t *nul1 = memchr(data, '\0', size);
    if (!nul1)
        return;
    const uint8_t *head = nul1 + 1;
    const uint8_t *nul2 = memchr(head, '\0', size - (size_t)(head - data));
    if (!nul2)
        return;
    const uint8_t *body = nul2 + 1;
    tw_warc_exchange x = {0};
    x.target_uri = (const char *)data; /* NUL-terminated by nul1 */
    x.request = "GET / HTTP/1.1\r\n\r\n";
    x.request_len = 18;
    x.response_head = head;
    x.response_head_len = (size_t)(nul2 - head);
    x.body = body;
    x.body_len = size - (size_t)(body - data);
    x.truncated = size & 1;
    static tw_warc_encoder *e; /* kept across inputs: allocating a compressor dominates otherwise */
    if (!e && tw_warc_encoder_new(1, &e))
        return;
    const uint8_t *out;
    size_t len;
    if (tw_warc_encode_exchange(e, &x, &out, &len) == 0) {
        tw_warc_reader *r;
        tw_warc_record rec;
        if (tw_warc_reader_new(out, len, 0, &r))
            abort();
        for (int i = 0; i < 2; i++)
            if (tw_warc_reader_next(r, &rec) != 1 || tw_warc_record_check_digests(&rec) != 0)
                abort();
        if (tw_warc_reader_next(r, &rec) != 0)
            abort();
        tw_warc_reader_free(r);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    read_all(data, size);

    /* The same bytes inside a gzip member, so the record parser sees them after inflate. */
    static struct libdeflate_compressor *c;
    if (!c)
        c = libdeflate_alloc_compressor(1);
    if (c) {
        size_t bound = libdeflate_gzip_compress_bound(c, size);
        uint8_t *gz = malloc(bound);
        if (gz) {
            size_t n = libdeflate_gzip_compress(c, data, size, gz, bound);
            if (n)
                read_all(gz, n);
            free(gz);
        }
    }
    round_trip(data, size);
    return 0;
}
