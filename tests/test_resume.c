/* test_resume.c -- durability of `trawl crawl`: SIGKILL at random moments and resume,
 * SIGINT, the directory lock, foreign and unwritable --out, options stored and
 * overridden. Runs the real binary against the loopback test server and measures at
 * the server which URLs were requested after each interruption. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "testserver.h"
#include "trawl_cli.h"
#include "warc.h"
#include "warcio.h"

#define SITE_PAGES 300

/* ---------------------------------------------------------------- helpers */

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Page numbers named by the complete lines of DIR/pages.jsonl ("/p/N" URLs): counts[N]
 * is how many lines name page N. A last line without its newline is not counted (the
 * crawler repairs it away on resume). Returns the number of complete lines. */
static int page_lines(const char *dir, int counts[SITE_PAGES]) {
    memset(counts, 0, sizeof(int) * SITE_PAGES);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/pages.jsonl", dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] != '\n') break;
        n++;
        const char *p = strstr(line, "/p/");
        if (!p || p > strstr(line, "\",")) continue; /* a line for another URL */
        int k = atoi(p + 3);
        if (k >= 0 && k < SITE_PAGES) counts[k]++;
    }
    free(line);
    fclose(f);
    return n;
}

static int pages_in(const char *dir) {
    int counts[SITE_PAGES];
    return page_lines(dir, counts);
}

/* The generated site: /p/N links to three others; every page reachable from /p/0. A
 * few ms per page so a crawl lasts long enough to be interrupted. */
static void site_page(const ts_request *req, ts_response *resp, void *ctx) {
    int delay_ms = *(const int *)ctx;
    int n = atoi(req->path + 3);
    if (n < 0 || n >= SITE_PAGES) {
        ts_set_status(resp, 404);
        return;
    }
    if (delay_ms > 0) sleep_ms(delay_ms);
    ts_add_header(resp, "Content-Type", "text/html");
    ts_printf_body(resp, "<title>%d</title><a href=/p/%d>a</a> <a href=/p/%d>b</a> <a href=/p/%d>c</a>", n,
                   (n + 1) % SITE_PAGES, (n * 7 + 3) % SITE_PAGES, (n * 13 + 5) % SITE_PAGES);
}

static ts_server *site(int *delay_ms, char *seed, size_t n) {
    ts_server *ts = ts_start("127.0.0.1", 0);
    assert_non_null(ts);
    assert_int_equal(ts_route_fn(ts, "/p/*", site_page, delay_ms), 0);
    ts_url(ts, "/p/0", seed, n);
    return ts;
}

/* Waits until DIR/pages.jsonl holds at least `lines` complete lines (or fails). */
static void wait_for_lines(const char *dir, int lines, pid_t pid) {
    int64_t deadline = now_ms() + 20000;
    while (pages_in(dir) < lines) {
        if (now_ms() > deadline) {
            kill(pid, SIGKILL);
            fail_msg("no %d lines in %s/pages.jsonl after 20 s", lines, dir);
        }
        sleep_ms(5);
    }
}

/* Every page of the site has exactly one line. */
static void assert_each_page_once(const char *dir) {
    int counts[SITE_PAGES];
    int n = page_lines(dir, counts);
    for (int k = 0; k < SITE_PAGES; k++)
        if (counts[k] != 1) fail_msg("page /p/%d has %d lines in pages.jsonl (want 1)", k, counts[k]);
    assert_int_equal(n, SITE_PAGES);
}

/* Reads every WARC file of dir with the crawler's reader (each must read to its clean
 * end, every digest must match) and counts the response records of each page in
 * responses[]. Returns the number of files. */
static int read_warcs(const char *dir, int responses[SITE_PAGES]) {
    memset(responses, 0, sizeof(int) * SITE_PAGES);
    static char paths[64][WARCIO_PATH];
    int files = warcio_list(dir, paths, 64);
    assert_true(files <= 64);
    for (int i = 0; i < files; i++) {
        const char *path = paths[i];
        tw_warc_reader *r = NULL;
        assert_int_equal(tw_warc_reader_open(path, &r), 0);
        tw_warc_record rec;
        int rc, records = 0;
        while ((rc = tw_warc_reader_next(r, &rec)) == 1) {
            records++;
            if (tw_warc_record_check_digests(&rec) != 0) fail_msg("%s: record %d: a digest does not match", path, records);
            const char *type = tw_warc_record_field(&rec, "WARC-Type");
            const char *uri = tw_warc_record_field(&rec, "WARC-Target-URI");
            const char *p = uri ? strstr(uri, "/p/") : NULL;
            if (type && strcmp(type, "response") == 0 && p) {
                int k = atoi(p + 3);
                if (k >= 0 && k < SITE_PAGES) responses[k]++;
            }
        }
        if (rc != 0) fail_msg("%s: unreadable after record %d: %s", path, records, tw_warc_strerror(rc));
        if (records == 0) fail_msg("%s: no warcinfo record", path);
        tw_warc_reader_free(r);
    }
    return files;
}

/* ---------------------------------------------------------------- tests */

/* SIGKILL at random moments, resuming each time with `--out DIR` alone: in the end
 * every page has exactly one line, no page with a line at the moment of a kill was
 * requested again afterwards (measured at the server), and the WARC files (one per
 * run, the torn tail of a killed run's file repaired) are all readable, by our reader
 * and by warcio, and hold a response for every page. */
static void test_sigkill_at_random_moments_loses_and_repeats_nothing(void **state) {
    (void)state;
    int delay = 4;
    char seed[128];
    ts_server *ts = site(&delay, seed, sizeof seed);
    const char *out = tc_outdir("kill");
    unsigned rng = (unsigned)time(NULL) ^ (unsigned)getpid();
    print_message("kill schedule seed %u\n", rng);
    /* A window of 10 URLs in memory: most of the queue waits in the store, so the kills
     * also land in the middle of spills and refills. */
    setenv("TRAWL_FRONTIER_WINDOW", "10", 1);
    enum { KILLS = 8 };
    int recorded[KILLS][SITE_PAGES]; /* lines per page at each kill */
    int log_at[KILLS];               /* requests logged at the server at each kill */
    int kills = 0, runs = 1;
    int64_t t0 = now_ms();
    pid_t pid = tc_spawn("crawl", "--quiet", "--rate", "0", "--per-host", "2", "-o", out, seed, NULL);
    wait_for_lines(out, 1, pid); /* the crawl is stored: from now on it can be resumed */
    for (;;) {
        sleep_ms(30 + (int)(rand_r(&rng) % 300));
        int status = 0;
        if (waitpid(pid, &status, WNOHANG) == pid) { /* it finished first */
            assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
            break;
        }
        kill(pid, SIGKILL);
        assert_int_equal(tc_wait(pid), 128 + SIGKILL);
        log_at[kills] = ts_requests(ts, NULL, NULL, 0);
        int lines = page_lines(out, recorded[kills]);
        print_message("kill %d: %d lines\n", kills + 1, lines);
        kills++;
        if (kills == KILLS) break;
        pid = tc_spawn("crawl", "--quiet", "-o", out, NULL);
        runs++;
    }
    if (kills == KILLS) {
        assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "-o", out, NULL), 0);
        runs++;
    }
    print_message("%d kills, %lld ms in all\n", kills, (long long)(now_ms() - t0));
    assert_true(kills >= 2); /* the schedule really interrupted the crawl */
    assert_each_page_once(out);

    int total = ts_requests(ts, NULL, NULL, 0);
    ts_logged *log = calloc((size_t)total, sizeof *log);
    assert_non_null(log);
    ts_requests(ts, NULL, log, total);
    for (int k = 0; k < kills; k++)
        for (int i = log_at[k]; i < total; i++) {
            if (strncmp(log[i].target, "/p/", 3) != 0) continue;
            int page = atoi(log[i].target + 3);
            if (page >= 0 && page < SITE_PAGES && recorded[k][page])
                fail_msg("/p/%d had its line at kill %d and was requested again after it", page, k + 1);
        }
    free(log);
    ts_stop(ts);

    unsetenv("TRAWL_FRONTIER_WINDOW");
    int responses[SITE_PAGES];
    int files = read_warcs(out, responses);
    print_message("%d runs, %d WARC files\n", runs, files);
    assert_true(files >= 2 && files <= runs); /* a new file per run (a run killed early may have none) */
    for (int k = 0; k < SITE_PAGES; k++)
        if (responses[k] < 1) fail_msg("page /p/%d has a line but no response record in the WARC files", k);
    char words[PATH_MAX + 32];
    snprintf(words, sizeof words, "'%s'/*.warc.gz", out);
    warcio_require();
    assert_int_equal(warcio_check(words), 0);
}

/* A WARC file torn by a crash (a record cut in the middle, as SIGKILL inside a write()
 * or a power cut leaves it) is repaired when the crawl resumes: cut back to its last
 * whole record, so every file reads to its end again. */
static void test_torn_warc_tail_is_repaired_on_resume(void **state) {
    (void)state;
    int delay = 10;
    char seed[128];
    ts_server *ts = site(&delay, seed, sizeof seed);
    const char *out = tc_outdir("torn");
    pid_t pid = tc_spawn("crawl", "--quiet", "--rate", "0", "-o", out, seed, NULL);
    wait_for_lines(out, 20, pid);
    kill(pid, SIGKILL);
    assert_int_equal(tc_wait(pid), 128 + SIGKILL);

    /* The killed run's file is the one warc.open names; append half a record to it. */
    char marker[PATH_MAX + 32], name[400] = "", path[PATH_MAX + 400];
    snprintf(marker, sizeof marker, "%s/warc.open", out);
    FILE *m = fopen(marker, "r");
    assert_non_null(m);
    assert_non_null(fgets(name, sizeof name, m));
    fclose(m);
    snprintf(path, sizeof path, "%s/%s", out, name);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    unsigned char head[200];
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head); /* the start of a gzip member */
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long whole = ftell(f);
    assert_int_equal(fwrite(head, 1, sizeof head, f), sizeof head);
    fclose(f);
    tw_warc_reader *r = NULL;
    tw_warc_record rec;
    int rc;
    assert_int_equal(tw_warc_reader_open(path, &r), 0);
    while ((rc = tw_warc_reader_next(r, &rec)) == 1) {}
    tw_warc_reader_free(r);
    assert_true(rc < 0); /* torn indeed */

    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "-o", out, NULL), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, whole); /* cut back to the last whole record */
    int responses[SITE_PAGES];
    assert_int_equal(read_warcs(out, responses), 2);
    assert_each_page_once(out);
    assert_int_equal(access(marker, F_OK), -1); /* the finished run closed its file */
    ts_stop(ts);
}

/* Pages of ~40 KB that compress poorly, so the WARC file grows fast. */
static void big_page(const ts_request *req, ts_response *resp, void *ctx) {
    (void)ctx;
    int n = atoi(req->path + 3);
    if (n < 0 || n >= SITE_PAGES) {
        ts_set_status(resp, 404);
        return;
    }
    sleep_ms(10); /* so that several flushes happen before the limit is reached */
    enum { FILL = 40000 };
    char *body = malloc(FILL + 200);
    assert_non_null(body);
    int len = snprintf(body, 200, "<a href=/p/%d>a</a> <a href=/p/%d>b</a> <p>", (n + 1) % SITE_PAGES,
                       (n * 7 + 3) % SITE_PAGES);
    uint64_t x = (uint64_t)n * 0x9E3779B97F4A7C15ull + 1;
    for (int i = 0; i < FILL; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        body[len++] = "0123456789abcdef"[x & 15];
    }
    ts_add_header(resp, "Content-Type", "text/html");
    ts_set_body(resp, body, (size_t)len);
    free(body);
}

/* A WARC write that fails (here: the file size limit, as a full disk would) stops the
 * crawl with status 1 and a message naming the file, and no page gets its line
 * without its records: every page in pages.jsonl has a response in the WARC files.
 * Resuming without the limit finishes the crawl. */
static void test_warc_write_error_is_fatal_and_records_precede_lines(void **state) {
    (void)state;
    ts_server *ts = ts_start("127.0.0.1", 0);
    assert_non_null(ts);
    assert_int_equal(ts_route_fn(ts, "/p/*", big_page, NULL), 0);
    char seed[128];
    ts_url(ts, "/p/0", seed, sizeof seed);
    const char *out = tc_outdir("efbig");

    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 3 << 20; /* the WARC file passes 3 MiB first: the store and pages.jsonl stay smaller */
    void (*was)(int) = signal(SIGXFSZ, SIG_IGN); /* so write() fails with EFBIG instead */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    pid_t pid = tc_spawn("crawl", "--quiet", "--rate", "0", "--per-host", "4", "-o", out, seed, NULL);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, was);
    assert_int_equal(tc_wait(pid), 1);
    char err[2048];
    tc_read_stderr(err, sizeof err);
    if (!strstr(err, ".warc.gz") || !strstr(err, "too large")) fail_msg("unexpected message: %s", err);

    int counts[SITE_PAGES], responses[SITE_PAGES];
    int lines = page_lines(out, counts);
    read_warcs(out, responses);
    print_message("stopped with %d lines: %s", lines, err);
    assert_true(lines > 0 && lines < SITE_PAGES);
    for (int k = 0; k < SITE_PAGES; k++)
        if (counts[k] && !responses[k]) fail_msg("/p/%d has its line but no response record", k);

    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "-o", out, NULL), 0);
    assert_each_page_once(out);
    read_warcs(out, responses);
    for (int k = 0; k < SITE_PAGES; k++)
        if (!responses[k]) fail_msg("/p/%d has no response record after the resume", k);
    ts_stop(ts);
}

/* robots.txt is kept with the crawl: a resumed run obeys the rules it stored (within
 * their 24 hours) without fetching robots.txt again. */
static void test_robots_txt_is_stored_and_obeyed_after_resume(void **state) {
    (void)state;
    int delay = 0;
    char seed[128];
    ts_server *ts = site(&delay, seed, sizeof seed);
    ts_route(ts, "/robots.txt", &(ts_spec){.kind = TS_STATIC, .content_type = "text/plain",
                                           .body = "User-agent: *\nDisallow: /p/7\n"});
    const char *out = tc_outdir("robots");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--max-pages", "20", "-o", out, seed, NULL), 0);
    assert_int_equal(pages_in(out), 20);
    assert_int_equal(ts_count(ts, "/robots.txt"), 1);
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--max-pages", "0", "-o", out, NULL), 0);
    assert_int_equal(ts_count(ts, "/robots.txt"), 1); /* not fetched again */
    assert_int_equal(ts_count(ts, "/p/7"), 0);
    int counts[SITE_PAGES];
    assert_int_equal(page_lines(out, counts), SITE_PAGES);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/pages.jsonl", out);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[4096];
    bool found = false;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "/p/7\"")) {
            found = true;
            assert_non_null(strstr(line, "\"error\":\"disallowed by robots.txt\""));
            assert_non_null(strstr(line, "\"attempts\":0"));
        }
    fclose(f);
    assert_true(found);
    ts_stop(ts);
}

/* A stored Crawl-delay holds from the first request of a resumed run (whose robots.txt
 * comes from the store, not the network): the rate limiter hears it with each request,
 * and the host's first start waits one interval after the restart. */
static void test_stored_crawl_delay_is_obeyed_after_resume(void **state) {
    (void)state;
    int delay = 0;
    char seed[128];
    ts_server *ts = site(&delay, seed, sizeof seed);
    ts_route(ts, "/robots.txt", &(ts_spec){.kind = TS_STATIC, .content_type = "text/plain",
                                           .body = "User-agent: *\nCrawl-delay: 0.15\n"});
    const char *out = tc_outdir("crawl_delay");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--per-host", "8", "--max-pages", "3",
                            "-o", out, seed, NULL), 0);
    assert_int_equal(ts_count(ts, "/robots.txt"), 1);
    ts_reset_stats(ts);
    int64_t resumed = now_ms();
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--max-pages", "7", "-o", out, NULL), 0);
    assert_int_equal(ts_count(ts, "/robots.txt"), 0); /* the stored one stands */
    ts_logged r[16];
    int n = ts_requests(ts, NULL, r, 16);
    assert_int_equal(n, 4);
    assert_true(r[0].t_ms - resumed >= 140);
    for (int i = 1; i < n; i++)
        if (r[i].t_ms - r[i - 1].t_ms < 140)
            fail_msg("requests %d and %d %lld ms apart (Crawl-delay 150 ms)", i - 1, i,
                     (long long)(r[i].t_ms - r[i - 1].t_ms));
    ts_stop(ts);
}

/* SIGINT stops the crawl in order within 2 s with status 130; resuming finishes it. */
static void test_sigint_exits_130_quickly_and_resumes(void **state) {
    (void)state;
    int delay = 20;
    char seed[128];
    ts_server *ts = site(&delay, seed, sizeof seed);
    const char *out = tc_outdir("sigint");
    pid_t pid = tc_spawn("crawl", "--quiet", "--rate", "0", "-o", out, seed, NULL);
    wait_for_lines(out, 3, pid);
    int64_t t = now_ms();
    kill(pid, SIGINT);
    assert_int_equal(tc_wait(pid), 130);
    int64_t took = now_ms() - t;
    print_message("exit after SIGINT in %lld ms\n", (long long)took);
    assert_true(took < 2000);
    int before = pages_in(out);
    assert_true(before >= 3 && before < SITE_PAGES);
    delay = 0;
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "-o", out, NULL), 0);
    assert_each_page_once(out);
    ts_stop(ts);
}

/* A second trawl on a directory in use is refused, naming the running one's pid. */
static void test_second_trawl_on_same_dir_is_refused(void **state) {
    (void)state;
    int delay = 20;
    char seed[128];
    ts_server *ts = site(&delay, seed, sizeof seed);
    const char *out = tc_outdir("lock");
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s", out);
    pid_t pid = tc_spawn("crawl", "--quiet", "--rate", "0", "-o", dir, seed, NULL);
    wait_for_lines(dir, 1, pid);
    char err[2048];
    /* run_trawl's stderr file is shared: the first one writes nothing while it runs (--quiet). */
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--quiet", "-o", dir, NULL), 1);
    char want[PATH_MAX + 128];
    snprintf(want, sizeof want, "trawl: %s is in use by another trawl (pid %d)", dir, (int)pid);
    if (!strstr(err, want)) fail_msg("stderr: %s (want \"%s\")", err, want);
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--quiet", "-o", dir, seed, NULL), 1);
    kill(pid, SIGKILL);
    tc_wait(pid);
    ts_stop(ts);
}

/* A directory holding other files is never taken over; one that cannot be created is
 * a fatal error naming it. */
static void test_foreign_or_unwritable_out_exits_1(void **state) {
    (void)state;
    char err[2048];
    const char *out = tc_outdir("foreign");
    char dir[PATH_MAX + 64], file[PATH_MAX + 80];
    snprintf(dir, sizeof dir, "%s", out);
    assert_int_equal(mkdir(dir, 0777), 0);
    snprintf(file, sizeof file, "%s/notes.txt", dir);
    FILE *f = fopen(file, "w");
    fputs("mine", f);
    fclose(f);
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--quiet", "-o", dir, "http://127.0.0.1:9/", NULL), 1);
    assert_non_null(strstr(err, dir));
    assert_non_null(strstr(err, "holds no trawl crawl"));
    char state_path[PATH_MAX + 80];
    snprintf(state_path, sizeof state_path, "%s/state.sqlite", dir);
    assert_int_not_equal(access(state_path, F_OK), 0); /* nothing written there */
    assert_int_equal(access(file, F_OK), 0);

    /* Below a regular file, and in /proc: cannot be created. */
    char below[PATH_MAX + 100];
    snprintf(below, sizeof below, "%s/crawl", file);
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--quiet", "-o", below, "http://127.0.0.1:9/", NULL), 1);
    assert_non_null(strstr(err, below));
    assert_int_equal(tc_run(err, sizeof err, "crawl", "--quiet", "-o", "/proc/trawl-crawl", "http://127.0.0.1:9/",
                               NULL), 1);
    assert_non_null(strstr(err, "/proc/trawl-crawl"));
}

/* Options are stored with the crawl; given again on resume they override the stored
 * ones and are stored in their turn. */
static void test_options_are_stored_and_overridden_on_resume(void **state) {
    (void)state;
    int delay = 0;
    char seed[128];
    ts_server *ts = site(&delay, seed, sizeof seed);
    const char *out = tc_outdir("options");
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s", out);
    assert_int_equal(
        tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "--max-pages", "5", "-o", dir, seed, NULL), 0);
    assert_int_equal(pages_in(dir), 5);
    int requests = ts_count(ts, "*");
    /* Resumed alone: the stored --max-pages 5 holds, nothing is fetched. */
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "-o", dir, NULL), 0);
    assert_int_equal(pages_in(dir), 5);
    assert_int_equal(ts_count(ts, "*"), requests);
    /* Raised: 12 lines in all, and the new limit is stored. */
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--max-pages", "12", "-o", dir, NULL), 0);
    assert_int_equal(pages_in(dir), 12);
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "-o", dir, NULL), 0);
    assert_int_equal(pages_in(dir), 12);

    char err[512];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    assert_non_null(st);
    char *json = NULL;
    assert_int_equal(tw_store_get_meta(st, TW_STORE_META_OPTIONS, &json, err, sizeof err), 1);
    if (!strstr(json, "\"max-pages\":12") || !strstr(json, "\"rate\":0")) /* rate kept from the first run */
        fail_msg("stored options: %s", json);
    free(json);
    tw_store_close(st);
    ts_stop(ts);
}

/* Resuming a crawl that already finished fetches nothing and exits 0. */
static void test_resuming_a_finished_crawl_does_nothing(void **state) {
    (void)state;
    int delay = 0;
    char seed[128];
    ts_server *ts = site(&delay, seed, sizeof seed);
    const char *out = tc_outdir("finished");
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s", out);
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "--rate", "0", "-o", dir, seed, NULL), 0);
    assert_each_page_once(dir);
    int requests = ts_count(ts, "*");
    assert_int_equal(tc_run(NULL, 0, "crawl", "--quiet", "-o", dir, seed, NULL), 0); /* the seed again: a no-op */
    assert_int_equal(ts_count(ts, "*"), requests);
    assert_each_page_once(dir);
    ts_stop(ts);
}

static int setup(void **state) {
    (void)state;
    return tc_setup("test-resume");
}

static int teardown(void **state) {
    (void)state;
    return tc_teardown();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_at_random_moments_loses_and_repeats_nothing),
        cmocka_unit_test(test_torn_warc_tail_is_repaired_on_resume),
        cmocka_unit_test(test_warc_write_error_is_fatal_and_records_precede_lines),
        cmocka_unit_test(test_robots_txt_is_stored_and_obeyed_after_resume),
        cmocka_unit_test(test_stored_crawl_delay_is_obeyed_after_resume),
        cmocka_unit_test(test_sigint_exits_130_quickly_and_resumes),
        cmocka_unit_test(test_second_trawl_on_same_dir_is_refused),
        cmocka_unit_test(test_foreign_or_unwritable_out_exits_1),
        cmocka_unit_test(test_options_are_stored_and_overridden_on_resume),
        cmocka_unit_test(test_resuming_a_finished_crawl_does_nothing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
