/* bench_scale.c: the frontier and the state store together, driven as the Server drives
 * them, up to 10M URLs: bytes per URL and URLs per second every million, to show both
 * stay flat as the crawl grows.
 *
 *   build/bench/bench_scale                 1M URLs, window 100k, report every 100k
 *   build/bench/bench_scale -n 10000000     10M URLs, report every 1M (~3 min here)
 *   build/bench/bench_scale -n 1000000 -f   the same with synchronous=FULL
 *   build/bench/bench_scale -x              without the fp index (see -x below)
 *   build/bench/bench_scale -F              NORMAL and FULL commit by commit, compared
 *
 * Each step is one page: the next URL is handed out (tw_frontier_next) and ended
 * (tw_store_batch_ended, its slot given back), then its links are added: L new ones
 * (-l, default 2, so the queue grows by one URL per page) and K already seen (-k,
 * default 8, random earlier URLs). New URLs (add returned 1 or TW_FRONTIER_SPILLED)
 * go into the batch; the batch is committed once 1024 changes wait, and after a commit
 * the spilled URLs are taken back when the window asks (tw_store_refill). URLs are
 * 40-56 bytes over 1000 hosts. pages.jsonl is not written (it is appended to, at a
 * cost per line that does not depend on the crawl's size).
 *
 * -x creates the urls table before the store opens it as format 1 had it, with a
 * UNIQUE index on fp, to measure what that index cost (every insert lands at a random
 * place of a B-tree as large as the crawl). -F switches synchronous between NORMAL and FULL before every
 * commit and sums the commit times of each apart: both see the same database and the
 * same load on the machine, which sequential runs on a shared machine do not.
 *
 * Figures at each mark: URLs (new ones added), cumulative and interval URLs/s, RSS
 * growth per URL (from before the frontier and the store were made; SQLite's page
 * cache, up to 64 MiB, is in it), the seen set's bytes per URL, the heap the frontier
 * holds beside it, SQLite's own memory, the mean and worst commit, and for the
 * interval the CPU time and the bytes written (write/pwrite, WAL and checkpoints) per
 * URL: those two barely depend on what else the machine runs.
 */
#include <getopt.h>
#include <malloc.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "frontier.h"
#include "store.h"

#define HOSTS 1000
#define COMMIT_EVERY 1024 /* the Server's FLUSH_CHANGES */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* Bytes this process has passed to write() and pwrite() (WAL frames, checkpoints). */
static double written_bytes(void)
{
    double v = 0;
    char line[128];
    FILE *f = fopen("/proc/self/io", "r");
    if (f) {
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "wchar:", 6) == 0)
                v = atof(line + 6);
        fclose(f);
    }
    return v;
}

/* CPU seconds (user and system) this process has used. */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static size_t heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dull;
    x ^= x >> 33;
    return x;
}

/* The i-th URL: unique per i, its host one of HOSTS, 40 to 56 bytes. */
static void url_of(char *buf, size_t n, uint64_t i)
{
    static const char *const section[] = {"a", "en", "blog", "news", "about", "products", "2024/03", "docs/api"};
    uint64_t h = mix(i);
    snprintf(buf, n, "http://www.host%03u.example.com/%s/%llu.html", (unsigned)(h % HOSTS), section[(h >> 20) & 7],
             (unsigned long long)i);
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "bench_scale: %s: %s\n", what, err);
    exit(1);
}

typedef struct bench {
    bool alternate; /* -F */
    double sync_s[2]; /* -F: commit seconds with NORMAL, with FULL */
    long sync_n[2];
    tw_frontier *f;
    tw_store *st;
    tw_store_batch *b;
    double commit_s, commit_max_s, refill_s;
    long commits, refills, refilled;
} bench;

/* Commits the batch, then refills if the window asks: the Server's flush. */
static void flush(bench *x)
{
    char err[600];
    if (tw_store_batch_len(x->b) > 0) {
        int full = (int)(x->commits & 1);
        if (x->alternate && tw_store_set_synchronous(x->st, full, err, sizeof err) != 0)
            die("synchronous", err);
        double t = now();
        if (tw_store_commit(x->st, x->b, err, sizeof err) != 0)
            die("commit", err);
        t = now() - t;
        x->sync_s[full] += t;
        x->sync_n[full]++;
        x->commit_s += t;
        if (t > x->commit_max_s)
            x->commit_max_s = t;
        x->commits++;
    }
    if (tw_frontier_wants_refill(x->f)) {
        double t = now();
        long got = tw_store_refill(x->st, x->f, 0, err, sizeof err);
        if (got < 0)
            die("refill", err);
        x->refill_s += now() - t;
        x->refills++;
        x->refilled += got;
    }
}

/* The Server's discover(): a new URL (held or spilled) is stored with its id. */
static void add(bench *x, const char *url, int depth, const char *parent, const char *seed)
{
    int64_t id;
    int rc = tw_frontier_add_id(x->f, url, depth, parent, seed, &id);
    if (rc == 1 || rc == TW_FRONTIER_SPILLED) {
        if (tw_store_batch_add_url_id(x->b, id, url, depth, parent, seed) != 0)
            die("batch", "out of memory");
    } else
        die("add", url);
}

int main(int argc, char **argv)
{
    long total = 1000000, every = 0, window = TW_FRONTIER_WINDOW_DEFAULT;
    int links = 2, dups = 8;
    bool full = false, keep = false, fp_index = false;
    const char *dir_arg = NULL;
    bench x = {0};
    int opt;
    while ((opt = getopt(argc, argv, "n:w:l:k:e:d:fFKxu")) != -1) {
        switch (opt) {
        case 'n': total = atol(optarg); break;
        case 'w': window = atol(optarg); break;
        case 'l': links = atoi(optarg); break;
        case 'k': dups = atoi(optarg); break;
        case 'e': every = atol(optarg); break;
        case 'd': dir_arg = optarg; break;
        case 'f': full = true; break;
        case 'K': keep = true; break;
        case 'x': fp_index = true; break;
        case 'F': x.alternate = true; break;
        default:
            fprintf(stderr,
                    "usage: bench_scale [-n URLS] [-w WINDOW (0: none)] [-l NEW_LINKS] [-k SEEN_LINKS]\n"
                    "                   [-e REPORT_EVERY] [-d DIR] [-f (synchronous=FULL)] [-K (keep DIR)]\n"
                    "                   [-x (format 1: a UNIQUE index on fp)] [-F (NORMAL and FULL alternate)]\n");
            return 2;
        }
    }
    if (links < 2 || total < 1000) {
        fprintf(stderr, "bench_scale: -l must be at least 2 (the queue must grow), -n at least 1000\n");
        return 2;
    }
    if (every <= 0)
        every = total >= 10000000 ? 1000000 : total / 10;
    char dir[4096];
    if (dir_arg)
        snprintf(dir, sizeof dir, "%s", dir_arg);
    else {
        snprintf(dir, sizeof dir, "/tmp/bench-scale-XXXXXX");
        if (!mkdtemp(dir))
            die("mkdtemp", dir);
    }

    if (fp_index) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, TW_STORE_FILE);
        sqlite3 *db = NULL;
        if (sqlite3_open(path, &db) != SQLITE_OK ||
            sqlite3_exec(db,
                         "CREATE TABLE urls(id INTEGER PRIMARY KEY, fp INTEGER NOT NULL, url TEXT NOT NULL,"
                         " depth INTEGER NOT NULL, parent TEXT, seed TEXT NOT NULL,"
                         " attempts INTEGER NOT NULL DEFAULT 0,"
                         " state TEXT NOT NULL DEFAULT 'queued' CHECK(state IN ('queued','ended')));"
                         "CREATE UNIQUE INDEX urls_fp ON urls(fp)",
                         NULL, NULL, NULL) != SQLITE_OK)
            die("-x", sqlite3_errmsg(db));
        sqlite3_close(db);
    }
    size_t rss0 = rss_bytes(), heap0 = heap_used();
    char err[600];
    x.f = tw_frontier_new(1 << 30, 0, false);
    x.b = tw_store_batch_new();
    if (!x.f || !x.b)
        die("setup", "out of memory");
    tw_frontier_set_window(x.f, (size_t)window);
    if (!(x.st = tw_store_open(dir, err, sizeof err)))
        die("open", err);
    if (full && tw_store_set_synchronous(x.st, true, err, sizeof err) != 0)
        die("synchronous", err);

    printf("bench_scale: %ld URLs, window %ld, %d new + %d seen links a page, %d hosts, synchronous=%s,%s %s\n",
           total, window, links, dups, HOSTS, x.alternate ? "NORMAL/FULL alternating" : full ? "FULL" : "NORMAL",
           fp_index ? " UNIQUE fp index (format 1)," : "", dir);
    printf("%9s %9s %8s %9s %8s %8s %8s %8s %8s %8s %7s %6s %7s %7s %6s\n", "URLs", "ended", "held", "spilled",
           "URL/s", "last/s", "RSS B/U", "seen B/U", "heap B/U", "sqlite", "commit", "worst", "cpu us", "wr KB/U",
           "db MB");

    char url[128], parent[128];
    uint64_t next_url = 0, urls = 0;
    long ended = 0;
    /* Seeds: the first 1000 URLs. */
    for (; next_url < 1000; next_url++) {
        url_of(url, sizeof url, next_url);
        add(&x, url, 0, NULL, url);
        urls++;
    }
    double t0 = now(), mark_t = t0, mark_commit = 0, mark_cpu = cpu_seconds(), mark_wr = written_bytes();
    long mark_commits = 0;
    uint64_t mark_urls = urls, rng = 42;
    uint64_t next_mark = (uint64_t)every;
    while (urls < (uint64_t)total) {
        tw_frontier_item it;
        char host[256];
        int got = tw_frontier_next(x.f, 0, &it, host, sizeof host, NULL);
        if (got == TW_FRONTIER_NONE) { /* all spilled and not committed yet: the Server's timer flush */
            if (tw_frontier_spilled(x.f) == 0)
                die("run", "the queue ran dry");
            flush(&x);
            continue;
        }
        /* The page ends, and its links are found. */
        if (tw_store_batch_ended_id(x.b, it.id, 1) != 0)
            die("batch", "out of memory");
        ended++;
        snprintf(parent, sizeof parent, "%s", it.url);
        for (int l = 0; l < links; l++, next_url++, urls++) {
            url_of(url, sizeof url, next_url);
            add(&x, url, it.depth + 1, parent, it.seed);
        }
        for (int k = 0; k < dups; k++) {
            rng = rng * 6364136223846793005ull + 1442695040888963407ull;
            url_of(url, sizeof url, (rng >> 20) % next_url);
            if (tw_frontier_add(x.f, url, it.depth + 1, parent, it.seed) != 0)
                die("add of a seen URL", url);
        }
        tw_frontier_item_free(&it);
        tw_frontier_done(x.f, host);
        if (tw_store_batch_len(x.b) >= COMMIT_EVERY)
            flush(&x);
        if (urls >= next_mark || urls >= (uint64_t)total) {
            double t = now();
            tw_frontier_stats fs;
            tw_frontier_get_stats(x.f, 0, &fs);
            size_t rss = rss_bytes(), heap = heap_used();
            size_t sql = (size_t)sqlite3_memory_used();
            struct stat sb;
            char path[4200];
            snprintf(path, sizeof path, "%s/%s", dir, TW_STORE_FILE);
            double db_mb = stat(path, &sb) == 0 ? (double)sb.st_size / 1048576.0 : 0;
            long nc = x.commits - mark_commits;
            double cpu = cpu_seconds(), wr = written_bytes(), du = (double)(urls - mark_urls);
            printf("%9llu %9ld %8zu %9zu %8.0f %8.0f %8.1f %8.1f %8.1f %6.1fMB %5.1fms %4.0fms %7.2f %7.2f %6.0f\n",
                   (unsigned long long)urls, ended, tw_frontier_held(x.f), fs.spilled, (double)urls / (t - t0),
                   du / (t - mark_t), (double)(rss - rss0) / (double)urls, (double)fs.seen_bytes / (double)urls,
                   (double)(heap - heap0 - sql - fs.seen_bytes) / (double)urls, (double)sql / 1048576.0,
                   nc ? (x.commit_s - mark_commit) * 1e3 / (double)nc : 0.0, x.commit_max_s * 1e3,
                   (cpu - mark_cpu) * 1e6 / du, (wr - mark_wr) / 1024.0 / du, db_mb);
            fflush(stdout);
            mark_t = now(); /* the report itself is not timed */
            t0 += mark_t - t;
            mark_urls = urls;
            mark_commit = x.commit_s;
            mark_commits = x.commits;
            mark_cpu = cpu_seconds();
            mark_wr = written_bytes();
            x.commit_max_s = 0;
            next_mark += (uint64_t)every;
        }
    }
    flush(&x);
    double secs = now() - t0;
    printf("%llu URLs in %.1f s (%.0f URLs/s); %ld commits (%.2f ms mean, %.1f us a change); "
           "%ld refills of %.0f URLs (%.1f ms mean, %.2f us a URL)\n",
           (unsigned long long)urls, secs, (double)urls / secs, x.commits,
           x.commits ? x.commit_s * 1e3 / (double)x.commits : 0.0,
           x.commits ? x.commit_s * 1e6 / ((double)x.commits * COMMIT_EVERY) : 0.0, x.refills,
           x.refills ? (double)x.refilled / (double)x.refills : 0.0,
           x.refills ? x.refill_s * 1e3 / (double)x.refills : 0.0,
           x.refilled ? x.refill_s * 1e6 / (double)x.refilled : 0.0);
    if (x.alternate && x.sync_n[0] && x.sync_n[1])
        printf("commits with synchronous=NORMAL: %ld, %.2f ms mean; with FULL: %ld, %.2f ms mean (%+.2f ms a commit)\n",
               x.sync_n[0], x.sync_s[0] * 1e3 / (double)x.sync_n[0], x.sync_n[1],
               x.sync_s[1] * 1e3 / (double)x.sync_n[1],
               (x.sync_s[1] / (double)x.sync_n[1] - x.sync_s[0] / (double)x.sync_n[0]) * 1e3);
    /* Nothing lost or doubled: with nothing in flight, the store's queued URLs are the
     * frontier's (held plus spilled), and every URL is stored once. */
    size_t queued = tw_frontier_queued(x.f);
    tw_store_close(x.st);
    tw_store_batch_free(x.b);
    tw_frontier_free(x.f);
    {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, TW_STORE_FILE);
        sqlite3 *db = NULL;
        sqlite3_stmt *q = NULL;
        long long stored_queued = -1, stored = -1;
        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(db, "SELECT sum(state='queued'), count(*) FROM urls", -1, &q, NULL) == SQLITE_OK &&
            sqlite3_step(q) == SQLITE_ROW) {
            stored_queued = sqlite3_column_int64(q, 0);
            stored = sqlite3_column_int64(q, 1);
        }
        sqlite3_finalize(q);
        sqlite3_close(db);
        printf("at the end: %zu queued in the frontier, %lld in the store; %lld URLs stored of %llu added\n", queued,
               stored_queued, stored, (unsigned long long)urls);
        if (stored_queued != (long long)queued || stored != (long long)urls) {
            fprintf(stderr, "bench_scale: the store and the frontier disagree\n");
            return 1;
        }
    }
    if (!keep && !dir_arg) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_scale: could not remove %s\n", dir);
    }
    return 0;
}
