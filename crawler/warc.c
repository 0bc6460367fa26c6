/* warc.c - WARC/1.1 writer and reader: records as gzip members, sha1/base32 digests, rotation, repair. */
#include "warc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <isa-l.h>
#include <openssl/evp.h>
#include <zlib.h>

/*
 * Compression is ISA-L's igzip (isal_deflate_stateless, one gzip member per record).
 * Encoder levels 1..12 keep libdeflate's scale: level 1 (the default) is igzip's
 * level 0 with Huffman codes learned from the crawl's own records (see LEARN_EVERY),
 * levels 2..5 igzip 2 and 6..12 igzip 3 (a code built for each record). Measured with
 * bench/bench_warc.c: 2000 generated 16 KB HTML pages, per CPU-second of one thread,
 * gcc -O2, 2-core AMD EPYC (Zen 5) VM shared with other work (figures move by +-10%:
 * medians of 5 to 9 runs, alternating where two builds are compared):
 *   compression alone    MB/s   us/page   output (share of the pages)
 *     libdeflate 1        ~230     ~70      28.7%   (what this file used first)
 *     igzip 0             ~490     ~33      33.1%   (igzip's generic code)
 *     igzip 0, learned    ~490     ~33      30.7%   (a code learned from 8 pages)
 *     igzip 1             ~375     ~43      30.1%
 *     igzip 2             ~360     ~44      30.1%   (the same as 1 on pages this size)
 *     igzip 3             ~290     ~55      29.3%
 *   both SHA-1s of a response: OpenSSL EVP one after the other ~20 us, side by side ~13.5 us
 *   tw_warc_encode_exchange (two records, digests, members):
 *     libdeflate 1:                    ~95 us a page, output 31.5%
 *     igzip 1 (the default until now): ~64 us a page, output 33.0%
 *     now, level 1 (learned codes):    ~53 us a page, output 33.3%
 *     level 2 (igzip 2): ~66 us, 32.8%     level 6 (igzip 3): ~78 us, 32.0%
 *   on 1406 real HTML pages of mixed sites (rustdoc, Debian docs; 17 KB on average):
 *     igzip 1 ~62 us, 30.9%; learned codes ~50 us, 31.9%
 *   on 1000 gzip-coded pages (5 KB, as servers mostly send them): igzip 1 ~32 us,
 *     learned codes ~16 us, output 0.4% larger
 * Learned codes save ~11 us of a 16 KB page (-18%) for output up to 1 point larger:
 * level 1 no longer searches as hard nor builds a code per member. Of what is left,
 * level-0 deflate is ~55%, the SHA-1 pair ~25%, copying the body into the record ~2%,
 * learning ~2%. The SHA-1 pair runs within ~15% of the latency bound of two chains of
 * sha1rnds4 (~1.9 ns each here; reordering the rounds and the schedule gained nothing).
 * Around the compressor: both SHA-1s run interleaved on SHA-NI over the block where it
 * lies in the record (elsewhere OpenSSL EVP, its digest fetched once); small records use
 * a fixed code made from header text (SMALL_RECORD); record IDs come from a pool of
 * random bytes (one getrandom() per 32 IDs: two a page cost ~2.6 us) and are formatted
 * without printf. The crawler encodes on its worker threads (tw_warc_encode_exchange)
 * and leaves the writer only the write().
 */

#define SHA1_LEN 20
#define SHA1_LABEL_LEN 37 /* "sha1:" + 32 base32 chars */
#define UUID_URN_LEN 47   /* "<urn:uuid:" + 36 + ">" */
#define MAX_HEADER_BYTES (1u << 20)
#define WARC_VERSION "WARC/1.1"
#define CONFORMS_TO "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"

const char *tw_warc_strerror(int err)
{
    switch (err) {
    case 0: return "ok";
    case TW_WARC_EIO: return "i/o error";
    case TW_WARC_ENOMEM: return "out of memory";
    case TW_WARC_EINVAL: return "invalid argument";
    case TW_WARC_ETORN: return "data ends inside a record";
    case TW_WARC_EFORMAT: return "not a WARC record";
    case TW_WARC_ETOOBIG: return "record too large";
    case TW_WARC_EDIGEST: return "digest mismatch";
    case TW_WARC_EALGO: return "unsupported digest algorithm";
    default: return "unknown error";
    }
}

/* ------------------------------------------------------------------ buffers */

typedef struct buf {
    uint8_t *p;
    size_t len, cap;
} buf;

static int buf_reserve(buf *b, size_t extra)
{
    if (extra <= b->cap - b->len)
        return 0;
    if (extra > SIZE_MAX / 2 - b->len)
        return TW_WARC_ENOMEM;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return TW_WARC_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_add(buf *b, const void *data, size_t n)
{
    if (buf_reserve(b, n))
        return TW_WARC_ENOMEM;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    return 0;
}

static int buf_str(buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

/* Appends "name: value CRLF". */
static int buf_field(buf *b, const char *name, const char *value)
{
    if (buf_str(b, name) || buf_add(b, ": ", 2) || buf_str(b, value) || buf_add(b, "\r\n", 2))
        return TW_WARC_ENOMEM;
    return 0;
}

static void buf_free(buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ------------------------------------------------------------------ small encodings */

/* RFC 4648 base32 of a SHA-1: 20 bytes are exactly 32 characters, so no padding. */
static void base32_sha1(const uint8_t in[SHA1_LEN], char out[33])
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    size_t o = 0;
    for (size_t i = 0; i < SHA1_LEN; i += 5) {
        uint64_t v = 0;
        for (size_t j = 0; j < 5; j++)
            v = v << 8 | in[i + j];
        for (int k = 35; k >= 0; k -= 5)
            out[o++] = alphabet[(v >> k) & 31];
    }
    out[o] = '\0';
}

static void sha1_label_from(const uint8_t md[SHA1_LEN], char out[38])
{
    memcpy(out, "sha1:", 5);
    base32_sha1(md, out + 5);
}

void tw_warc_sha1_label(const void *data, size_t len, char out[38])
{
    uint8_t md[EVP_MAX_MD_SIZE];
    unsigned md_len = 0;
    if (!EVP_Digest(len ? data : "", len, md, &md_len, EVP_sha1(), NULL) || md_len != SHA1_LEN)
        memset(md, 0, sizeof md); /* only when OpenSSL itself is broken; never matches a real digest */
    sha1_label_from(md, out);
}

/*
 * Random bytes for record IDs, fetched a pool at a time: one getrandom() costs
 * ~1.3 us of CPU in this VM, two per exchange were ~4% of an encode. A pool holds
 * 32 IDs; it must not be shared across a fork() (both sides would draw the same IDs).
 */
typedef struct random_pool {
    uint8_t bytes[512];
    size_t left;
} random_pool;

static int random_take(random_pool *pool, uint8_t *out, size_t n)
{
    if (pool->left < n) {
        size_t got = 0;
        while (got < sizeof pool->bytes) {
            ssize_t k = getrandom(pool->bytes + got, sizeof pool->bytes - got, 0);
            if (k < 0) {
                if (errno == EINTR)
                    continue;
                return TW_WARC_EIO;
            }
            got += (size_t)k;
        }
        pool->left = sizeof pool->bytes;
    }
    uint8_t *p = pool->bytes + sizeof pool->bytes - pool->left;
    memcpy(out, p, n);
    memset(p, 0, n); /* an ID is drawn once */
    pool->left -= n;
    return 0;
}

/* A random (version 4) UUID as "<urn:uuid:...>". */
static int make_record_id(random_pool *pool, char out[UUID_URN_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t u[16];
    if (random_take(pool, u, sizeof u))
        return TW_WARC_EIO;
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    char *o = out;
    memcpy(o, "<urn:uuid:", 10);
    o += 10;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[u[i] >> 4];
        *o++ = hex[u[i] & 15];
    }
    *o++ = '>';
    *o = '\0';
    return 0;
}

/* WARC-Date with microseconds, which WARC/1.1 allows and which keeps records ordered. */
static void format_date(struct timespec ts, char out[32])
{
    struct tm tm;
    time_t t = ts.tv_sec;
    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof tm);
    long usec = (ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000L) ? ts.tv_nsec / 1000 : 0;
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%06ldZ", usec);
}

/* A header value must not smuggle in a line break or other control bytes. */
static bool safe_value(const char *s, bool allow_space)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (*p == ' ' && !allow_space))
            return false;
    return true;
}

/* ------------------------------------------------------------------ SHA-1, two at once */

/*
 * A response record needs two SHA-1s: of the block (head and body) and of the payload
 * (the body). OpenSSL's SHA-NI code does one stream at a time, bound by the latency of
 * the SHA rounds (~1.6 GB/s here, ~21 us for a 16 KB page's pair); running both streams
 * interleaved fills those gaps and takes ~13 us. On x86-64 CPUs with the SHA
 * extensions only; everywhere else (aarch64, older CPUs) the pair goes through OpenSSL.
 * The tests check these digests against OpenSSL's and warcio's.
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA_NI 1
#include <cpuid.h>
#include <immintrin.h>

/* Whether the CPU has SHA-NI (and SSSE3, SSE4.1); asked once, as CPUID traps in a VM. */
static bool sha_ni_usable(void)
{
    static _Atomic int known; /* 0 = not asked yet, 1 = usable, 2 = not */
    int k = atomic_load_explicit(&known, memory_order_relaxed);
    if (!k) {
        unsigned a, b, c, d;
        bool ok = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
                  __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
        k = ok ? 1 : 2;
        atomic_store_explicit(&known, k, memory_order_relaxed);
    }
    return k == 1;
}

/*
 * Lane L of a 64-byte block: message words W##L[4], state A##L (abcd) and E##L (e),
 * P##L the abcd of 4 rounds before (for sha1nexte), A0##L and E0##L the state at its start.
 */
#define SHA_LOAD(L, k)                                                                           \
    W##L[k] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p##L + 16 * (k))), byte_swap)
/* The message words of rounds 4i..4i+3 from those of the 16 rounds before. */
#define SHA_SCHEDULE(L, i)                                                                       \
    W##L[(i) % 4] = _mm_sha1msg2_epu32(                                                          \
        _mm_xor_si128(_mm_sha1msg1_epu32(W##L[(i) % 4], W##L[((i) + 1) % 4]), W##L[((i) + 2) % 4]), \
        W##L[((i) + 3) % 4])
/* Rounds 4i..4i+3 of lane L. */
#define SHA_QUAD(L, i)                                                                           \
    do {                                                                                         \
        if ((i) >= 4)                                                                            \
            SHA_SCHEDULE(L, i);                                                                  \
        __m128i e_ = (i) == 0 ? _mm_add_epi32(E##L, W##L[0])                                     \
                              : _mm_sha1nexte_epu32(P##L, W##L[(i) % 4]);                        \
        P##L = A##L;                                                                             \
        A##L = _mm_sha1rnds4_epu32(A##L, e_, (i) / 5);                                           \
    } while (0)
#define SHA_START(L, s)                                                                          \
    __m128i A##L = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(s)), 0x1b);               \
    __m128i E##L = _mm_set_epi32((int)(s)[4], 0, 0, 0)
#define SHA_BLOCK_START(L)                                                                       \
    __m128i W##L[4], P##L = A##L, A0##L = A##L, E0##L = E##L;                                    \
    SHA_LOAD(L, 0);                                                                              \
    SHA_LOAD(L, 1);                                                                              \
    SHA_LOAD(L, 2);                                                                              \
    SHA_LOAD(L, 3)
#define SHA_BLOCK_END(L)                                                                         \
    E##L = _mm_sha1nexte_epu32(P##L, E0##L);                                                     \
    A##L = _mm_add_epi32(A##L, A0##L)
#define SHA_STORE(L, s)                                                                          \
    _mm_storeu_si128((__m128i *)(s), _mm_shuffle_epi32(A##L, 0x1b));                             \
    (s)[4] = (uint32_t)_mm_extract_epi32(E##L, 3)

/* Runs n blocks of lane a (state sa, data pa) and of lane b together. */
__attribute__((target("sha,sse4.1")))
static void sha1_blocks_x2(uint32_t sa[5], const uint8_t *pa, uint32_t sb[5], const uint8_t *pb, size_t n)
{
    const __m128i byte_swap = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
    SHA_START(a, sa);
    SHA_START(b, sb);
    for (; n; n--, pa += 64, pb += 64) {
        SHA_BLOCK_START(a);
        SHA_BLOCK_START(b);
#define SHA_QUAD2(i) SHA_QUAD(a, i); SHA_QUAD(b, i)
        SHA_QUAD2(0); SHA_QUAD2(1); SHA_QUAD2(2); SHA_QUAD2(3); SHA_QUAD2(4);
        SHA_QUAD2(5); SHA_QUAD2(6); SHA_QUAD2(7); SHA_QUAD2(8); SHA_QUAD2(9);
        SHA_QUAD2(10); SHA_QUAD2(11); SHA_QUAD2(12); SHA_QUAD2(13); SHA_QUAD2(14);
        SHA_QUAD2(15); SHA_QUAD2(16); SHA_QUAD2(17); SHA_QUAD2(18); SHA_QUAD2(19);
#undef SHA_QUAD2
        SHA_BLOCK_END(a);
        SHA_BLOCK_END(b);
    }
    SHA_STORE(a, sa);
    SHA_STORE(b, sb);
}

/* Runs n blocks of one lane. */
__attribute__((target("sha,sse4.1")))
static void sha1_blocks(uint32_t sa[5], const uint8_t *pa, size_t n)
{
    const __m128i byte_swap = _mm_set_epi64x(0x0001020304050607LL, 0x08090a0b0c0d0e0fLL);
    SHA_START(a, sa);
    for (; n; n--, pa += 64) {
        SHA_BLOCK_START(a);
        SHA_QUAD(a, 0); SHA_QUAD(a, 1); SHA_QUAD(a, 2); SHA_QUAD(a, 3); SHA_QUAD(a, 4);
        SHA_QUAD(a, 5); SHA_QUAD(a, 6); SHA_QUAD(a, 7); SHA_QUAD(a, 8); SHA_QUAD(a, 9);
        SHA_QUAD(a, 10); SHA_QUAD(a, 11); SHA_QUAD(a, 12); SHA_QUAD(a, 13); SHA_QUAD(a, 14);
        SHA_QUAD(a, 15); SHA_QUAD(a, 16); SHA_QUAD(a, 17); SHA_QUAD(a, 18); SHA_QUAD(a, 19);
        SHA_BLOCK_END(a);
    }
    SHA_STORE(a, sa);
}

/* The last one or two blocks of a message of len bytes: its tail, 0x80, zeros, the length in bits. */
static size_t sha1_final_blocks(const uint8_t *p, size_t len, uint8_t out[128])
{
    size_t rem = len % 64, n = rem < 56 ? 1 : 2;
    uint64_t bits = (uint64_t)len * 8;
    memset(out, 0, 128);
    if (rem)
        memcpy(out, p + len - rem, rem);
    out[rem] = 0x80;
    for (int i = 0; i < 8; i++)
        out[n * 64 - 1 - (size_t)i] = (uint8_t)(bits >> (8 * i));
    return n;
}

static void sha1_digest_of(const uint32_t s[5], uint8_t md[SHA1_LEN])
{
    for (int i = 0; i < 5; i++) {
        md[4 * i] = (uint8_t)(s[i] >> 24);
        md[4 * i + 1] = (uint8_t)(s[i] >> 16);
        md[4 * i + 2] = (uint8_t)(s[i] >> 8);
        md[4 * i + 3] = (uint8_t)s[i];
    }
}

/* SHA-1 of a[0..la) into mda and of b[0..lb) into mdb, the common run of blocks interleaved. */
static void sha1_pair_ni(const uint8_t *a, size_t la, const uint8_t *b, size_t lb, uint8_t mda[SHA1_LEN],
                         uint8_t mdb[SHA1_LEN])
{
    static const uint32_t iv[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    uint32_t sa[5], sb[5];
    memcpy(sa, iv, sizeof iv);
    memcpy(sb, iv, sizeof iv);
    size_t na = la / 64, nb = lb / 64, both = na < nb ? na : nb;
    sha1_blocks_x2(sa, a, sb, b, both);
    sha1_blocks(sa, a + both * 64, na - both);
    sha1_blocks(sb, b + both * 64, nb - both);
    uint8_t fa[128], fb[128];
    size_t ka = sha1_final_blocks(a, la, fa), kb = sha1_final_blocks(b, lb, fb);
    if (ka == kb) {
        sha1_blocks_x2(sa, fa, sb, fb, ka);
    } else {
        sha1_blocks(sa, fa, ka);
        sha1_blocks(sb, fb, kb);
    }
    sha1_digest_of(sa, mda);
    sha1_digest_of(sb, mdb);
}
#endif

void tw_warc_sha1_label_pair(const void *a, size_t la, const void *b, size_t lb, char label_a[38],
                             char label_b[38])
{
#ifdef SHA_NI
    if (sha_ni_usable()) {
        uint8_t ma[SHA1_LEN], mb[SHA1_LEN];
        sha1_pair_ni(la ? a : "", la, lb ? b : "", lb, ma, mb);
        sha1_label_from(ma, label_a);
        sha1_label_from(mb, label_b);
        return;
    }
#endif
    tw_warc_sha1_label(a, la, label_a);
    tw_warc_sha1_label(b, lb, label_b);
}

/* ------------------------------------------------------------------ encoder */

/*
 * At the default level, records of SMALL_RECORD bytes or more go through igzip's level 0
 * with a Huffman code LEARNED from earlier records of the same kind, not igzip's level 1,
 * which builds a code for every member (~12 us of a 16 KB page, with its costlier
 * search). A kind is the response's media type and content coding (or the WARC type of
 * other records); each has its code in a small per-encoder cache (the oldest goes), so
 * a crawl that moves from HTML to JSON or images gets a code for the new kind from its
 * first record. A code is learned again after 1, 2, 4 ... LEARN_EVERY records of its
 * kind (often at first, while one record is all it has seen): from the record at hand
 * (its first LEARN_BYTES) added to 7/8 of the counts of before, so it stands for the
 * recent mix of pages rather than the last one and still follows a drift. Learning
 * costs about one more level-0 pass, ~1 us a page spread over LEARN_EVERY records.
 * Learning every 16 records wrote no smaller files; halving the counts, or learning
 * every 64, wrote up to 0.3 points more. Counts stay under 8 * LEARN_BYTES: 32 bits.
 */
#define LEARN_SLOTS 4
#define LEARN_EVERY 32
#define LEARN_BYTES 65536

typedef struct learned {
    uint32_t key;       /* the kind of record (kind_key); 0 = an empty slot */
    uint32_t left;      /* records to go before the next learning */
    uint32_t every;     /* records between learnings: doubles up to LEARN_EVERY */
    bool ready;         /* table holds a usable code */
    uint64_t used;      /* when last used (the encoder's clock), to evict the oldest */
    uint32_t lit[ISAL_DEF_LIT_LEN_SYMBOLS], dist[ISAL_DEF_DIST_SYMBOLS]; /* decayed counts */
    struct isal_hufftables table;
} learned;

struct tw_warc_encoder {
    struct isal_zstream z; /* igzip's stream: reset for every member (stateless) */
    uint32_t isal_level;
    uint8_t *level_buf;    /* igzip's working memory for levels 1..3 */
    uint32_t level_buf_size;
    struct isal_hufftables small; /* a fixed code for small records at level 1 (SMALL_RECORD) */
    learned kinds[LEARN_SLOTS];   /* learned codes for larger records at level 1 */
    struct isal_huff_histogram *hist; /* scratch for learning (~19 KB, igzip's hash table inside) */
    uint64_t clock;
    tw_warc_encoder_stats stats;
    random_pool random;    /* for record IDs */
    EVP_MD *sha1;      /* fetched once: an implicit fetch per digest costs microseconds */
    EVP_MD_CTX *ctx;
    buf fields;        /* the named fields of the record being built */
    buf head;          /* the response head without Transfer-Encoding */
    buf rec;           /* the uncompressed record */
    buf out;           /* the compressed members handed to the caller */
};

typedef struct piece {
    const void *p;
    size_t n;
} piece;

/*
 * At the default level, records shorter than this go through igzip's level 0 with a
 * fixed Huffman code made once from WARC and HTTP header text (SMALL_SAMPLE): levels
 * 1..3 build a code for every member, ~6 us however short it is, while these records
 * (requests, warcinfo, redirects and other bodiless responses) take ~1.5 us this way
 * and come out ~10% larger (~45 bytes a request).
 */
#define SMALL_RECORD 2048
static const char SMALL_SAMPLE[] =
    "WARC/1.1\r\nWARC-Type: request\r\n"
    "WARC-Record-ID: <urn:uuid:3f0c9a1e-7b42-4d8e-a5c6-19e0b7d2f4a8>\r\n"
    "WARC-Date: 2026-11-24T05:15:00.123456Z\r\n"
    "WARC-Target-URI: https://www.example.org/news/2026/11/some-article-title?id=42&lang=en\r\n"
    "WARC-IP-Address: 93.184.216.34\r\n"
    "WARC-Concurrent-To: <urn:uuid:c81d4e2f-0a6b-4f3c-9e85-7d2b1a0f6c39>\r\n"
    "WARC-Block-Digest: sha1:Q3ZLMH7XKAW2VY5RBNT6DJ4OFEGC2PSI\r\n"
    "Content-Type: application/http;msgtype=request\r\nContent-Length: 187\r\n\r\n"
    "GET /news/2026/11/some-article-title?id=42&lang=en HTTP/1.1\r\nHost: www.example.org\r\n"
    "User-Agent: trawl/0.1 (+https://example.com/bot)\r\nAccept: text/html,application/xhtml+xml,*/*;q=0.8\r\n"
    "Accept-Encoding: gzip, br\r\n\r\n\r\n\r\n"
    "WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:c81d4e2f-0a6b-4f3c-9e85-7d2b1a0f6c39>\r\n"
    "WARC-Payload-Digest: sha1:7WJ2KDQ5ZBXRM4NAP6CHGVT3YOEUFLS2\r\n"
    "Content-Type: application/http;msgtype=response\r\nContent-Length: 312\r\n\r\n"
    "HTTP/1.1 301 Moved Permanently\r\nDate: Tue, 24 Nov 2026 05:15:00 GMT\r\nServer: nginx/1.22.1\r\n"
    "Content-Type: text/html; charset=utf-8\r\nContent-Length: 169\r\nConnection: keep-alive\r\n"
    "Location: https://www.example.org/news/\r\nCache-Control: max-age=3600\r\nVary: Accept-Encoding\r\n\r\n"
    "<html>\r\n<head><title>301 Moved Permanently</title></head>\r\n<body>\r\n"
    "<center><h1>301 Moved Permanently</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/* igzip level for an encoder level (1..12, libdeflate's scale): see warc.h. */
static uint32_t isal_level_of(int level)
{
    return level <= 1 ? 1 : level <= 5 ? 2 : 3;
}

int tw_warc_encoder_new(int level, tw_warc_encoder **out)
{
    if (!out || level < 0 || level > 12)
        return TW_WARC_EINVAL;
    tw_warc_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return TW_WARC_ENOMEM;
    e->isal_level = isal_level_of(level ? level : TW_WARC_DEFAULT_LEVEL);
    static const uint32_t level_buf_sizes[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                               ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
    e->level_buf_size = level_buf_sizes[e->isal_level];
    e->level_buf = e->level_buf_size ? malloc(e->level_buf_size) : NULL;
    struct isal_huff_histogram hist;
    memset(&hist, 0, sizeof hist);
    isal_update_histogram((uint8_t *)(uintptr_t)SMALL_SAMPLE, (int)sizeof SMALL_SAMPLE - 1, &hist);
    int hrc = isal_create_hufftables(&e->small, &hist); /* every symbol gets a code */
    e->hist = malloc(sizeof *e->hist);
    e->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
    e->ctx = EVP_MD_CTX_new();
    if (hrc || (e->level_buf_size && !e->level_buf) || !e->hist || !e->sha1 || !e->ctx) {
        tw_warc_encoder_free(e);
        return TW_WARC_ENOMEM;
    }
    *out = e;
    return 0;
}

void tw_warc_encoder_free(tw_warc_encoder *e)
{
    if (!e)
        return;
    free(e->level_buf);
    free(e->hist);
    EVP_MD_free(e->sha1);
    EVP_MD_CTX_free(e->ctx);
    buf_free(&e->fields);
    buf_free(&e->head);
    buf_free(&e->rec);
    buf_free(&e->out);
    free(e);
}

void tw_warc_encoder_get_stats(const tw_warc_encoder *e, tw_warc_encoder_stats *out)
{
    *out = e->stats;
}

/* FNV-1a of s[0..n) lowercased, from h. */
static uint32_t hash_lower(uint32_t h, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        h = (h ^ (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c)) * 16777619u;
    }
    return h;
}

/* The key of a kind of record for its learned table (never 0): a name in any case. */
static uint32_t kind_key(const uint8_t *s, size_t n)
{
    return hash_lower(2166136261u, s, n) | 1;
}

/*
 * The learned code for records of kind key, learning it from in[0..n) first when
 * it is due (a new kind takes the slot used longest ago). NULL when igzip could not
 * build one (not seen; the record then goes through level 1).
 */
static struct isal_hufftables *learned_table(tw_warc_encoder *e, uint32_t key, const uint8_t *in, size_t n)
{
    learned *k = NULL, *oldest = &e->kinds[0];
    for (int i = 0; i < LEARN_SLOTS && !k; i++) {
        if (e->kinds[i].key == key)
            k = &e->kinds[i];
        else if (e->kinds[i].used < oldest->used)
            oldest = &e->kinds[i];
    }
    if (!k) {
        k = oldest;
        memset(k, 0, offsetof(learned, table));
        k->key = key;
        k->every = 1;
    }
    k->used = ++e->clock;
    if (k->left == 0) {
        struct isal_huff_histogram *h = e->hist;
        memset(h, 0, sizeof *h);
        isal_update_histogram((uint8_t *)(uintptr_t)in, (int)(n < LEARN_BYTES ? n : LEARN_BYTES), h);
        for (int i = 0; i < ISAL_DEF_LIT_LEN_SYMBOLS; i++)
            h->lit_len_histogram[i] = k->lit[i] = (uint32_t)(k->lit[i] * 7 / 8 + h->lit_len_histogram[i]);
        for (int i = 0; i < ISAL_DEF_DIST_SYMBOLS; i++)
            h->dist_histogram[i] = k->dist[i] = (uint32_t)(k->dist[i] * 7 / 8 + h->dist_histogram[i]);
        k->ready = isal_create_hufftables(&k->table, h) == 0; /* every symbol gets a code */
        k->left = k->every;
        if (k->every < LEARN_EVERY)
            k->every *= 2;
        e->stats.learned++;
    }
    k->left--;
    return k->ready ? &k->table : NULL;
}

/*
 * Appends in[0..n) to out as one gzip member (igzip's generic 10-byte header,
 * then the CRC-32 and length trailer). igzip falls back to stored blocks when
 * the data does not shrink, so input + 5 bytes per 64 KiB + the wrapper always fits.
 * key names the kind of record, for a learned code at the default level.
 */
static int compress_member(tw_warc_encoder *e, buf *out, const uint8_t *in, size_t n, uint32_t key)
{
    if (n > UINT32_MAX - (UINT32_C(1) << 20))
        return TW_WARC_ETOOBIG; /* igzip counts in 32 bits */
    size_t bound = n + 5 * (n / 65535 + 1) + 18 + ISAL_DEF_MAX_HDR_SIZE + 8;
    if (buf_reserve(out, bound))
        return TW_WARC_ENOMEM;
    struct isal_zstream *z = &e->z;
    isal_deflate_stateless_init(z); /* level 0, igzip's default code */
    struct isal_hufftables *t = NULL;
    if (e->isal_level == 1)
        t = n < SMALL_RECORD ? &e->small : learned_table(e, key, in, n);
    if (t) {
        isal_deflate_set_hufftables(z, t, IGZIP_HUFFTABLE_CUSTOM);
        e->stats.learned_records += n >= SMALL_RECORD;
    } else {
        z->level = e->isal_level;
        z->level_buf = e->level_buf;
        z->level_buf_size = e->level_buf_size;
    }
    e->stats.records++;
    z->gzip_flag = IGZIP_GZIP;
    z->flush = NO_FLUSH;
    z->end_of_stream = 1;
    z->next_in = (uint8_t *)(uintptr_t)in;
    z->avail_in = (uint32_t)n;
    z->next_out = out->p + out->len;
    z->avail_out = (uint32_t)bound;
    if (isal_deflate_stateless(z) != COMP_OK)
        return TW_WARC_ENOMEM; /* cannot happen with a bound-sized buffer and a full level buffer */
    out->len += z->total_out;
    return 0;
}

static int digest_evp(tw_warc_encoder *e, const uint8_t *p, size_t n, uint8_t md[SHA1_LEN])
{
    uint8_t out[EVP_MAX_MD_SIZE];
    unsigned out_len = 0;
    if (!EVP_DigestInit_ex(e->ctx, e->sha1, NULL) || (n && !EVP_DigestUpdate(e->ctx, p, n)) ||
        !EVP_DigestFinal_ex(e->ctx, out, &out_len) || out_len != SHA1_LEN)
        return TW_WARC_ENOMEM;
    memcpy(md, out, SHA1_LEN);
    return 0;
}

/* Appends "name: " and room for a digest label; sets *at to where the label goes. */
static int digest_field(buf *r, const char *name, size_t *at)
{
    if (buf_str(r, name) || buf_add(r, ": ", 2) || buf_reserve(r, SHA1_LABEL_LEN + 2))
        return TW_WARC_ENOMEM;
    *at = r->len;
    memset(r->p + r->len, '-', SHA1_LABEL_LEN);
    r->len += SHA1_LABEL_LEN;
    return buf_add(r, "\r\n", 2);
}

/*
 * Builds one record from e->fields (the named fields other than digests, type and
 * length) and its block, and appends it to out as one gzip member. With
 * payload_last, the last piece of the block is also its payload (WARC-Payload-Digest).
 * key is the kind of record (kind_key) whose learned code compresses it.
 * The block is copied in first and digested where it lies, both digests at once.
 */
static int encode_record(tw_warc_encoder *e, buf *out, const char *content_type,
                         const piece *block, int nblock, bool payload_last, uint32_t key)
{
    char num[24];
    size_t block_len = 0;
    for (int i = 0; i < nblock; i++)
        block_len += block[i].n;
    if (block_len > UINT32_MAX - (UINT32_C(1) << 20))
        return TW_WARC_ETOOBIG; /* before copying it: compress_member would refuse it */
    size_t payload_len = payload_last ? block[nblock - 1].n : 0;
    buf *r = &e->rec;
    r->len = 0;
    size_t block_at, payload_at = 0;
    if (buf_str(r, WARC_VERSION "\r\n") || buf_add(r, e->fields.p, e->fields.len) ||
        digest_field(r, "WARC-Block-Digest", &block_at) ||
        (payload_last && digest_field(r, "WARC-Payload-Digest", &payload_at)))
        return TW_WARC_ENOMEM;
    snprintf(num, sizeof num, "%zu", block_len);
    if (buf_field(r, "Content-Type", content_type) || buf_field(r, "Content-Length", num) ||
        buf_add(r, "\r\n", 2) || buf_reserve(r, block_len + 4))
        return TW_WARC_ENOMEM;
    const uint8_t *b = r->p + r->len;
    for (int i = 0; i < nblock; i++)
        if (buf_add(r, block[i].p, block[i].n))
            return TW_WARC_ENOMEM;
    if (buf_add(r, "\r\n\r\n", 4))
        return TW_WARC_ENOMEM;

    const uint8_t *payload = b + block_len - payload_len;
    uint8_t md[SHA1_LEN], pmd[SHA1_LEN];
    char label[38];
    bool done = false;
#ifdef SHA_NI
    if (payload_last && sha_ni_usable()) {
        sha1_pair_ni(b, block_len, payload, payload_len, md, pmd);
        done = true;
    }
#endif
    if (!done && (digest_evp(e, b, block_len, md) ||
                  (payload_last && digest_evp(e, payload, payload_len, pmd))))
        return TW_WARC_ENOMEM;
    sha1_label_from(md, label);
    memcpy(r->p + block_at, label, SHA1_LABEL_LEN);
    if (payload_last) {
        sha1_label_from(pmd, label);
        memcpy(r->p + payload_at, label, SHA1_LABEL_LEN);
    }
    return compress_member(e, out, r->p, r->len, key);
}

/* Whether line[0..n) is a field called name (lowercase): its value's offset, else 0. */
static size_t field_value_at(const uint8_t *line, size_t n, const char *name)
{
    size_t k = strlen(name);
    if (n < k || strncasecmp((const char *)line, name, k) != 0)
        return 0;
    while (k < n && (line[k] == ' ' || line[k] == '\t'))
        k++;
    if (k >= n || line[k] != ':')
        return 0;
    for (k++; k < n && (line[k] == ' ' || line[k] == '\t'); k++) {}
    return k;
}

/* The kind_key of a field's value (of a Content-Type, its media type: up to ';'). */
static uint32_t value_key(const uint8_t *v, size_t n, bool media_type)
{
    const uint8_t *semi = media_type ? memchr(v, ';', n) : NULL;
    if (semi)
        n = (size_t)(semi - v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    return kind_key(v, n);
}

/*
 * Copies the response head into e->head without Transfer-Encoding fields (nor
 * their obsolete continuation lines), ending it with the blank line. Line ends
 * become CRLF (a bare LF from a sloppy server included) so that the first CRLF
 * CRLF of the block is exactly where the payload starts, as readers assume.
 * Leading blank lines are dropped; a head with no line at all is TW_WARC_EINVAL.
 * Sets *key to the kind of response: its media type and content coding.
 */
static int filter_head(tw_warc_encoder *e, const uint8_t *h, size_t n, uint32_t *key)
{
    buf *b = &e->head;
    b->len = 0;
    bool first = true, dropping = false;
    uint32_t type = 0, coding = 0; /* hashes of the first of each field, 0 = none */
    size_t i = 0;
    while (i < n) {
        const uint8_t *lf = memchr(h + i, '\n', n - i);
        size_t end = lf ? (size_t)(lf - h) + 1 : n;
        const uint8_t *line = h + i;
        size_t len = end - i;
        i = end;
        if (lf)
            len--;
        if (len && line[len - 1] == '\r')
            len--;
        if (len == 0) {
            if (first)
                continue;
            break;
        }
        bool continuation = !first && (line[0] == ' ' || line[0] == '\t');
        if (!continuation && !first) {
            dropping = field_value_at(line, len, "transfer-encoding") != 0;
            size_t v;
            if (!type && (v = field_value_at(line, len, "content-type")))
                type = value_key(line + v, len - v, true);
            else if (!coding && (v = field_value_at(line, len, "content-encoding")))
                coding = value_key(line + v, len - v, false);
        }
        first = false;
        if (!dropping && (buf_add(b, line, len) || buf_add(b, "\r\n", 2)))
            return TW_WARC_ENOMEM;
    }
    if (first)
        return TW_WARC_EINVAL;
    *key = (type ^ coding * 0x9e3779b1u) | 1;
    return buf_add(b, "\r\n", 2);
}

static int exchange_fields(tw_warc_encoder *e, const char *type, const char *id, const char *other_id,
                           const char *date, const tw_warc_exchange *x)
{
    buf *f = &e->fields;
    f->len = 0;
    if (buf_field(f, "WARC-Type", type) || buf_field(f, "WARC-Record-ID", id) ||
        buf_field(f, "WARC-Date", date) || buf_field(f, "WARC-Target-URI", x->target_uri) ||
        (x->ip_address && *x->ip_address && buf_field(f, "WARC-IP-Address", x->ip_address)) ||
        buf_field(f, "WARC-Concurrent-To", other_id) ||
        (x->truncated && strcmp(type, "response") == 0 && buf_field(f, "WARC-Truncated", "length")))
        return TW_WARC_ENOMEM;
    return 0;
}

int tw_warc_encode_exchange(tw_warc_encoder *e, const tw_warc_exchange *x, const uint8_t **out,
                            size_t *out_len)
{
    if (!e || !x || !out || !out_len || !x->target_uri || !*x->target_uri ||
        !safe_value(x->target_uri, false) || (x->ip_address && !safe_value(x->ip_address, false)) ||
        (!x->request && x->request_len) || !x->response_head || !x->response_head_len ||
        (!x->body && x->body_len))
        return TW_WARC_EINVAL;
    char req_id[UUID_URN_LEN + 1], resp_id[UUID_URN_LEN + 1], date[32];
    if (make_record_id(&e->random, req_id) || make_record_id(&e->random, resp_id))
        return TW_WARC_EIO;
    format_date(x->date, date);
    e->out.len = 0;

    piece req = {x->request, x->request_len};
    static const char req_type[] = "application/http;msgtype=request";
    uint32_t key = kind_key((const uint8_t *)req_type, sizeof req_type - 1);
    int rc = exchange_fields(e, "request", req_id, resp_id, date, x);
    if (!rc)
        rc = encode_record(e, &e->out, req_type, &req, 1, false, key);
    if (!rc)
        rc = filter_head(e, x->response_head, x->response_head_len, &key);
    if (!rc)
        rc = exchange_fields(e, "response", resp_id, req_id, date, x);
    if (!rc) {
        piece block[2] = {{e->head.p, e->head.len}, {x->body, x->body_len}};
        rc = encode_record(e, &e->out, "application/http;msgtype=response", block, 2, true, key);
    }
    if (rc)
        return rc;
    *out = e->out.p;
    *out_len = e->out.len;
    return 0;
}

/* ------------------------------------------------------------------ writer */

struct tw_warc {
    int dirfd, fd;
    char *dir, *path;
    tw_warc_options opt;         /* its strings point into the copies below */
    char *strings[5];
    uint64_t max, size;
    unsigned files, serial;
    unsigned exchanges;          /* exchanges in the current file */
    tw_warc_encoder *enc;
    buf info;                    /* the warcinfo member: apart from enc->out, which a rotation
                                    inside tw_warc_write_exchange() is still writing out */
};

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return TW_WARC_EIO;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Appends data; on failure cuts the file back so no partial member stays behind. */
static int append(tw_warc *w, const uint8_t *data, size_t len)
{
    if (write_all(w->fd, data, len)) {
        int saved = errno;
        if (ftruncate(w->fd, (off_t)w->size) != 0) { /* the next repair will cut it */ }
        errno = saved;
        return TW_WARC_EIO;
    }
    w->size += len;
    return 0;
}

static int write_warcinfo(tw_warc *w, const char *name)
{
    tw_warc_encoder *e = w->enc;
    char id[UUID_URN_LEN + 1], date[32], host[256];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    format_date(now, date);
    if (make_record_id(&e->random, id))
        return TW_WARC_EIO;
    if (gethostname(host, sizeof host) != 0 || !safe_value(host, false))
        host[0] = '\0';
    host[sizeof host - 1] = '\0';

    buf body = {0};
    int rc = TW_WARC_ENOMEM;
    if (buf_field(&body, "software", w->opt.software) ||
        buf_field(&body, "format", "WARC File Format 1.1") ||
        buf_field(&body, "conformsTo", CONFORMS_TO) ||
        (host[0] && buf_field(&body, "hostname", host)) ||
        (w->opt.operator_name && buf_field(&body, "operator", w->opt.operator_name)) ||
        (w->opt.user_agent && buf_field(&body, "http-header-user-agent", w->opt.user_agent)) ||
        (w->opt.robots && buf_field(&body, "robots", w->opt.robots)))
        goto out;
    e->fields.len = 0;
    if (buf_field(&e->fields, "WARC-Type", "warcinfo") || buf_field(&e->fields, "WARC-Record-ID", id) ||
        buf_field(&e->fields, "WARC-Date", date) || buf_field(&e->fields, "WARC-Filename", name))
        goto out;
    piece block = {body.p, body.len};
    w->info.len = 0;
    static const char info_type[] = "application/warc-fields";
    rc = encode_record(e, &w->info, info_type, &block, 1, false,
                       kind_key((const uint8_t *)info_type, sizeof info_type - 1));
    if (!rc)
        rc = append(w, w->info.p, w->info.len);
out:
    buf_free(&body);
    return rc;
}

/* Creates the next file under a name no file has, syncs the directory, writes warcinfo. */
static int start_file(tw_warc *w)
{
    char stamp[32], name[300];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    int fd = -1;
    for (;;) {
        snprintf(name, sizeof name, "%s-%s-%05u.warc.gz", w->opt.prefix, stamp, w->serial++);
        fd = openat(w->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST)
            break;
    }
    if (fd < 0)
        return TW_WARC_EIO;
    if (fsync(w->dirfd) != 0 && errno != EINVAL) { /* some filesystems cannot sync directories */
        int saved = errno;
        close(fd);
        errno = saved;
        return TW_WARC_EIO;
    }
    size_t plen = strlen(w->dir) + 1 + strlen(name) + 1;
    char *path = malloc(plen);
    if (!path) {
        close(fd);
        return TW_WARC_ENOMEM;
    }
    snprintf(path, plen, "%s/%s", w->dir, name);
    free(w->path);
    w->path = path;
    w->fd = fd;
    w->size = 0;
    w->exchanges = 0;
    w->files++;
    return write_warcinfo(w, name);
}

static int close_file(tw_warc *w)
{
    if (w->fd < 0)
        return 0;
    int rc = fdatasync(w->fd) == 0 ? 0 : TW_WARC_EIO;
    int saved = errno;
    if (close(w->fd) != 0 && rc == 0)
        rc = TW_WARC_EIO;
    else
        errno = saved;
    w->fd = -1;
    return rc;
}

static int copy_option(tw_warc *w, int slot, const char *src, const char *fallback, const char **dst)
{
    if (!src)
        src = fallback;
    if (!src) {
        *dst = NULL;
        return 0;
    }
    if (!safe_value(src, true))
        return TW_WARC_EINVAL;
    if (!(w->strings[slot] = strdup(src)))
        return TW_WARC_ENOMEM;
    *dst = w->strings[slot];
    return 0;
}

int tw_warc_open(const char *dir, const tw_warc_options *opts, tw_warc **out)
{
    if (!dir || !out)
        return TW_WARC_EINVAL;
    tw_warc_options o = opts ? *opts : (tw_warc_options){0};
    tw_warc *w = calloc(1, sizeof *w);
    if (!w)
        return TW_WARC_ENOMEM;
    w->fd = w->dirfd = -1;
    w->max = o.max_file_bytes ? o.max_file_bytes : TW_WARC_DEFAULT_MAX_FILE_BYTES;
    int rc = tw_warc_encoder_new(o.level, &w->enc);
    if (!rc && !(w->dir = strdup(dir)))
        rc = TW_WARC_ENOMEM;
    if (!rc)
        rc = copy_option(w, 0, o.prefix, "trawl", &w->opt.prefix);
    if (!rc && (strchr(w->opt.prefix, '/') || strlen(w->opt.prefix) > 200))
        rc = TW_WARC_EINVAL;
    if (!rc)
        rc = copy_option(w, 1, o.software, "trawl", &w->opt.software);
    if (!rc)
        rc = copy_option(w, 2, o.operator_name, NULL, &w->opt.operator_name);
    if (!rc)
        rc = copy_option(w, 3, o.user_agent, NULL, &w->opt.user_agent);
    if (!rc)
        rc = copy_option(w, 4, o.robots, NULL, &w->opt.robots);
    if (!rc && (w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        rc = TW_WARC_EIO;
    if (!rc)
        rc = start_file(w);
    if (rc) {
        int saved = errno;
        tw_warc_close(w);
        errno = saved;
        return rc;
    }
    *out = w;
    return 0;
}

int tw_warc_write_encoded(tw_warc *w, const uint8_t *data, size_t len)
{
    if (!w || (!data && len))
        return TW_WARC_EINVAL;
    if (w->fd < 0)
        return TW_WARC_EIO; /* a failed rotation left no file open */
    if (w->exchanges > 0 && len > w->max - (w->size < w->max ? w->size : w->max)) {
        int rc = close_file(w);
        if (!rc)
            rc = start_file(w);
        if (rc)
            return rc;
    }
    int rc = append(w, data, len);
    if (!rc)
        w->exchanges++;
    return rc;
}

int tw_warc_write_exchange(tw_warc *w, const tw_warc_exchange *x)
{
    if (!w)
        return TW_WARC_EINVAL;
    const uint8_t *data;
    size_t len;
    int rc = tw_warc_encode_exchange(w->enc, x, &data, &len);
    return rc ? rc : tw_warc_write_encoded(w, data, len);
}

int tw_warc_flush(tw_warc *w)
{
    if (!w)
        return TW_WARC_EINVAL;
    if (w->fd >= 0 && fdatasync(w->fd) != 0)
        return TW_WARC_EIO;
    return 0;
}

int tw_warc_close(tw_warc *w)
{
    if (!w)
        return 0;
    int rc = close_file(w);
    if (w->dirfd >= 0)
        close(w->dirfd);
    tw_warc_encoder_free(w->enc);
    buf_free(&w->info);
    for (size_t i = 0; i < sizeof w->strings / sizeof w->strings[0]; i++)
        free(w->strings[i]);
    free(w->dir);
    free(w->path);
    free(w);
    return rc;
}

const char *tw_warc_path(const tw_warc *w)
{
    return w ? w->path : NULL;
}

unsigned tw_warc_file_count(const tw_warc *w)
{
    return w ? w->files : 0;
}

/* ------------------------------------------------------------------ reader */

struct tw_warc_reader {
    const uint8_t *data;
    size_t len, pos;
    uint64_t max_record;
    bool gzip, z_ready;
    int error;                 /* sticky: once set, every call returns it */
    z_stream z;
    buf member;                /* the decompressed member */
    buf header;                /* NUL-terminated copy of the named fields */
    tw_warc_field *fields;
    size_t field_cap;
    char version[33];
    void *map;                 /* set when the reader mapped a file */
    size_t map_len;
};

int tw_warc_reader_new(const void *data, size_t len, uint64_t max_record, tw_warc_reader **out)
{
    if ((!data && len) || !out)
        return TW_WARC_EINVAL;
    tw_warc_reader *r = calloc(1, sizeof *r);
    if (!r)
        return TW_WARC_ENOMEM;
    r->data = data;
    r->len = len;
    r->max_record = max_record ? max_record : TW_WARC_DEFAULT_MAX_RECORD;
    r->gzip = len >= 2 && r->data[0] == 0x1f && r->data[1] == 0x8b;
    *out = r;
    return 0;
}

int tw_warc_reader_open(const char *path, tw_warc_reader **out)
{
    if (!path || !out)
        return TW_WARC_EINVAL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return TW_WARC_EIO;
    struct stat st;
    void *map = NULL;
    if (fstat(fd, &st) != 0 || (st.st_size > 0 && (uint64_t)st.st_size > SIZE_MAX)) {
        close(fd);
        return TW_WARC_EIO;
    }
    size_t len = (size_t)st.st_size;
    if (len && (map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
        int saved = errno;
        close(fd);
        errno = saved;
        return TW_WARC_EIO;
    }
    close(fd);
    int rc = tw_warc_reader_new(map ? map : "", len, 0, out);
    if (rc) {
        if (map)
            munmap(map, len);
        return rc;
    }
    (*out)->map = map;
    (*out)->map_len = len;
    return 0;
}

void tw_warc_reader_free(tw_warc_reader *r)
{
    if (!r)
        return;
    if (r->z_ready)
        inflateEnd(&r->z);
    if (r->map)
        munmap(r->map, r->map_len);
    buf_free(&r->member);
    buf_free(&r->header);
    free(r->fields);
    free(r);
}

/*
 * Splits the copied header (version line excluded) into fields, in place.
 * Obsolete folding (a line starting with SP/HT) continues the previous value.
 */
static int split_fields(tw_warc_reader *r, size_t *count)
{
    char *h = (char *)r->header.p;
    size_t n = r->header.len;
    for (size_t i = 0; i + 2 < n; i++)
        if (h[i] == '\r' && h[i + 1] == '\n' && (h[i + 2] == ' ' || h[i + 2] == '\t'))
            h[i] = h[i + 1] = ' ';
    size_t c = 0, i = 0;
    while (i < n) {
        char *line = h + i;
        char *crlf = memmem(line, n - i, "\r\n", 2);
        if (!crlf)
            return TW_WARC_EFORMAT;
        *crlf = '\0';
        i = (size_t)(crlf - h) + 2;
        char *colon = strchr(line, ':');
        if (!colon || colon == line)
            return TW_WARC_EFORMAT;
        for (char *p = line; p < colon; p++)
            if ((unsigned char)*p <= ' ' || *p == 0x7f)
                return TW_WARC_EFORMAT;
        *colon = '\0';
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char *end = v + strlen(v);
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        if (c == r->field_cap) {
            size_t cap = r->field_cap ? r->field_cap * 2 : 16;
            tw_warc_field *f = realloc(r->fields, cap * sizeof *f);
            if (!f)
                return TW_WARC_ENOMEM;
            r->fields = f;
            r->field_cap = cap;
        }
        r->fields[c].name = line;
        r->fields[c].value = v;
        c++;
    }
    *count = c;
    return 0;
}

static int parse_length(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return TW_WARC_EFORMAT;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return TW_WARC_EFORMAT;
        if (v > (UINT64_MAX - 9) / 10)
            return TW_WARC_ETOOBIG;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > max)
        return TW_WARC_ETOOBIG;
    *out = v;
    return 0;
}

/*
 * Parses one record at p[0..n). incomplete is the error for data that stops
 * early: TW_WARC_ETORN in a plain stream, TW_WARC_EFORMAT inside a whole member.
 */
static int parse_record(tw_warc_reader *r, const uint8_t *p, size_t n, int incomplete,
                        tw_warc_record *rec, size_t *consumed)
{
    static const char magic[] = "WARC/";
    size_t m = n < sizeof magic - 1 ? n : sizeof magic - 1;
    if (memcmp(p, magic, m) != 0)
        return TW_WARC_EFORMAT;
    size_t limit = n < MAX_HEADER_BYTES ? n : MAX_HEADER_BYTES;
    const uint8_t *eol = memmem(p, limit, "\r\n", 2);
    if (!eol)
        return n < MAX_HEADER_BYTES ? incomplete : TW_WARC_EFORMAT;
    size_t vlen = (size_t)(eol - p);
    if (vlen >= sizeof r->version || vlen < sizeof magic)
        return TW_WARC_EFORMAT;
    for (size_t i = 0; i < vlen; i++)
        if (p[i] <= ' ' || p[i] >= 0x7f)
            return TW_WARC_EFORMAT;
    memcpy(r->version, p, vlen);
    r->version[vlen] = '\0';

    size_t hstart = vlen + 2;
    /* The CRLF ending the last field (or the version line) and the blank line. */
    const uint8_t *hend = memmem(p + vlen, limit - vlen, "\r\n\r\n", 4);
    if (!hend)
        return n < MAX_HEADER_BYTES ? incomplete : TW_WARC_EFORMAT;
    size_t hlen = (size_t)(hend - p) + 2 - hstart; /* named fields with their CRLFs */
    if (memchr(p + hstart, '\0', hlen))
        return TW_WARC_EFORMAT;
    r->header.len = 0;
    if (buf_add(&r->header, p + hstart, hlen) || buf_add(&r->header, "", 1))
        return TW_WARC_ENOMEM;
    r->header.len = hlen; /* the NUL stays after the data */
    size_t count = 0;
    int rc = split_fields(r, &count);
    if (rc)
        return rc;
    rec->version = r->version;
    rec->fields = r->fields;
    rec->field_count = count;

    const char *cl = tw_warc_record_field(rec, "Content-Length");
    uint64_t block_len;
    if (!cl)
        return TW_WARC_EFORMAT;
    if ((rc = parse_length(cl, r->max_record, &block_len)))
        return rc;
    size_t body = hstart + hlen + 2;
    if (block_len > n - body || n - body - block_len < 4)
        return incomplete;
    if (memcmp(p + body + block_len, "\r\n\r\n", 4) != 0)
        return TW_WARC_EFORMAT;
    rec->block = p + body;
    rec->block_len = (size_t)block_len;
    *consumed = body + (size_t)block_len + 4;
    return 0;
}

/* Inflates the gzip member at r->pos into r->member; sets *in_used to its compressed size. */
static int inflate_member(tw_warc_reader *r, size_t *in_used)
{
    if (!r->z_ready) {
        memset(&r->z, 0, sizeof r->z);
        if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK)
            return TW_WARC_ENOMEM;
        r->z_ready = true;
    } else if (inflateReset(&r->z) != Z_OK) {
        return TW_WARC_ENOMEM;
    }
    const uint8_t *in = r->data + r->pos;
    size_t in_left = r->len - r->pos;
    if (in_left < 2 || in[0] != 0x1f || in[1] != 0x8b)
        return in_left < 2 && (in_left == 0 || in[0] == 0x1f) ? TW_WARC_ETORN : TW_WARC_EFORMAT;
    r->member.len = 0;
    r->z.avail_in = 0;
    for (;;) {
        if (r->z.avail_in == 0 && in_left) {
            r->z.next_in = (Bytef *)(uintptr_t)in;
            r->z.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
            in += r->z.avail_in;
            in_left -= r->z.avail_in;
        }
        if (r->member.len == r->member.cap) {
            if (r->member.len >= r->max_record + MAX_HEADER_BYTES + 4)
                return TW_WARC_ETOOBIG;
            if (buf_reserve(&r->member, r->member.cap ? r->member.cap : 65536))
                return TW_WARC_ENOMEM;
        }
        size_t room = r->member.cap - r->member.len;
        r->z.next_out = r->member.p + r->member.len;
        r->z.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt before = r->z.avail_out;
        int zrc = inflate(&r->z, Z_NO_FLUSH);
        r->member.len += before - r->z.avail_out;
        if (zrc == Z_STREAM_END)
            break;
        if (zrc == Z_MEM_ERROR)
            return TW_WARC_ENOMEM;
        if (zrc != Z_OK && zrc != Z_BUF_ERROR)
            return TW_WARC_EFORMAT;
        if (r->z.avail_in == 0 && in_left == 0 && r->z.avail_out != 0)
            return TW_WARC_ETORN;
    }
    *in_used = (size_t)(in - (r->data + r->pos)) - r->z.avail_in;
    return 0;
}

int tw_warc_reader_next(tw_warc_reader *r, tw_warc_record *rec)
{
    if (!r || !rec)
        return TW_WARC_EINVAL;
    if (r->error)
        return r->error;
    if (r->pos == r->len)
        return 0;
    size_t used = 0, consumed = 0;
    int rc;
    if (r->gzip) {
        rc = inflate_member(r, &used);
        if (!rc && r->member.len == 0)
            rc = TW_WARC_EFORMAT;
        if (!rc)
            rc = parse_record(r, r->member.p, r->member.len, TW_WARC_EFORMAT, rec, &consumed);
        if (!rc && consumed != r->member.len)
            rc = TW_WARC_EFORMAT; /* one record per member, as the contract says */
    } else {
        rc = parse_record(r, r->data + r->pos, r->len - r->pos, TW_WARC_ETORN, rec, &consumed);
        used = consumed;
    }
    if (rc) {
        r->error = rc;
        return rc;
    }
    rec->offset = r->pos;
    r->pos += used;
    rec->end_offset = r->pos;
    return 1;
}

const char *tw_warc_record_field(const tw_warc_record *rec, const char *name)
{
    if (!rec || !name)
        return NULL;
    for (size_t i = 0; i < rec->field_count; i++)
        if (strcasecmp(rec->fields[i].name, name) == 0)
            return rec->fields[i].value;
    return NULL;
}

/* Compares a "sha1:..." field (base32, or hex as some tools write) with data's digest. */
static int check_one(const char *field, const uint8_t *data, size_t len)
{
    if (strncasecmp(field, "sha1:", 5) != 0)
        return TW_WARC_EALGO;
    char want[38];
    tw_warc_sha1_label(data, len, want);
    const char *got = field + 5;
    size_t n = strlen(got);
    if (n == 32)
        return strcasecmp(got, want + 5) == 0 ? 0 : TW_WARC_EDIGEST;
    if (n == 40) {
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        char hex[41];
        if (!EVP_Digest(len ? (const void *)data : "", len, md, &md_len, EVP_sha1(), NULL))
            return TW_WARC_ENOMEM;
        for (unsigned i = 0; i < SHA1_LEN; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        return strcasecmp(got, hex) == 0 ? 0 : TW_WARC_EDIGEST;
    }
    return TW_WARC_EDIGEST;
}

int tw_warc_record_check_digests(const tw_warc_record *rec)
{
    if (!rec)
        return TW_WARC_EINVAL;
    const char *block = tw_warc_record_field(rec, "WARC-Block-Digest");
    const char *payload = tw_warc_record_field(rec, "WARC-Payload-Digest");
    int rc = block ? check_one(block, rec->block, rec->block_len) : 0;
    if (rc || !payload)
        return rc;
    const char *type = tw_warc_record_field(rec, "Content-Type");
    if (!type || strncasecmp(type, "application/http", 16) != 0)
        return check_one(payload, rec->block, rec->block_len); /* the block is the payload */
    const uint8_t *end = rec->block_len >= 4 ? memmem(rec->block, rec->block_len, "\r\n\r\n", 4) : NULL;
    if (!end)
        return TW_WARC_EFORMAT;
    size_t off = (size_t)(end - rec->block) + 4;
    return check_one(payload, rec->block + off, rec->block_len - off);
}

/* ------------------------------------------------------------------ repair */

int tw_warc_repair(const char *path, uint64_t *good_len)
{
    if (!path)
        return TW_WARC_EINVAL;
    tw_warc_reader *r;
    int rc = tw_warc_reader_open(path, &r);
    if (rc)
        return rc;
    r->max_record = UINT64_MAX / 4; /* never cut a record for being large */
    tw_warc_record rec;
    uint64_t good = 0;
    while ((rc = tw_warc_reader_next(r, &rec)) == 1)
        good = rec.end_offset;
    size_t total = r->len;
    tw_warc_reader_free(r);
    if (rc == TW_WARC_ENOMEM || rc == TW_WARC_EINVAL)
        return rc;
    if (good_len)
        *good_len = rc == 0 ? total : good;
    if (rc == 0)
        return 0;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return TW_WARC_EIO;
    if (ftruncate(fd, (off_t)good) != 0 || fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return TW_WARC_EIO;
    }
    close(fd);
    return 1;
}
