/* trawl.c -- the trawl command: `trawl crawl [OPTIONS] SEED_URL...`.
 * Parses the command line (cli/options.c), runs the crawl application, and turns how
 * it ended into the contract's exit status: 0 finished, 1 fatal, 2 usage, 130
 * interrupted. SIGINT and SIGTERM are taken by a thread of their own (blocked in every
 * other thread) that asks the application to stop in order.
 *
 * Before the crawl starts it claims the crawl directory (DIR/lock, flock'ed for the
 * whole run, so a second trawl on it is refused), refuses a directory that holds
 * something else than a crawl, and writes the options and seeds to the state store:
 * from then on, whatever kills the process, `trawl crawl --out DIR` resumes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crawl.h"
#include "options.h"
#include "pages.h"
#include "store.h"

static const char *const general_usage =
    "usage: trawl crawl [OPTIONS] SEED_URL...\n"
    "       trawl crawl --out DIR            resume the unfinished crawl stored in DIR\n"
    "       trawl crawl --help               the options\n";

static _Atomic int crawl_done;

/* Waits for SIGINT/SIGTERM and asks the crawl to stop; retries until the application
 * is up (a signal may come while it starts) or the crawl is over. */
static void *signal_thread(void *arg) {
    sigset_t *set = arg;
    int sig;
    if (sigwait(set, &sig) != 0) return NULL;
    while (!atomic_load(&crawl_done) && tw_crawl_interrupt() != 0) usleep(10000);
    return NULL;
}

/* Whether dir holds nothing but what a crawl could leave before its store existed
 * (a lock file). A directory of someone else's files is never taken over. */
static bool dir_is_free(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return false;
    bool free_ = true;
    struct dirent *e;
    while (free_ && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "lock")) free_ = false;
    closedir(d);
    return free_;
}

/* Creates dir if missing, refuses a foreign one, and takes DIR/lock. Returns the
 * lock's descriptor (kept open until exit), or -1 after printing why. */
static int claim_dir(const char *dir) {
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "trawl: cannot create the output directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "trawl: the output directory %s is not a directory\n", dir);
        return -1;
    }
    if (!tw_store_exists(dir) && !dir_is_free(dir)) {
        fprintf(stderr, "trawl: %s is not empty and holds no trawl crawl: give --out a new or empty directory\n",
                dir);
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "trawl: cannot write in the output directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        if (errno == EWOULDBLOCK || errno == EAGAIN)
            fprintf(stderr, "trawl: %s is in use by another trawl (pid %s)\n", dir, pid[0] ? pid : "unknown");
        else
            fprintf(stderr, "trawl: cannot lock %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        fprintf(stderr, "trawl: cannot write %s: %s\n", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Stores the options and the seeds before the crawl starts; on resume, first merges
 * the stored options with the given ones into *o. Returns 0, or 1 or 2 (the exit
 * status) after printing why. */
static int prepare_store(const char *dir, tw_options *o) {
    char err[1024];
    tw_store *st = tw_store_open(dir, err, sizeof err);
    if (!st) {
        fprintf(stderr, "trawl: %s\n", err);
        return 1;
    }
    char *json = NULL;
    int rc = tw_store_get_meta(st, TW_STORE_META_OPTIONS, &json, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "trawl: %s\n", err);
        tw_store_close(st);
        return 1;
    }
    if (rc == 0 && o->n_seeds == 0) {
        fprintf(stderr, "trawl: no seed URL given, and no crawl in %s to resume\n", dir);
        tw_store_close(st);
        return 2;
    }
    if (rc == 1) {
        tw_options stored, merged;
        if (tw_options_from_json(json, &stored, err, sizeof err) != 0) {
            fprintf(stderr, "trawl: the options stored in %s/%s are unreadable: %s\n", dir, TW_STORE_FILE, err);
            tw_options_free(&stored);
            free(json);
            tw_store_close(st);
            return 1;
        }
        if (tw_options_merge(&merged, &stored, o) != 0) {
            fprintf(stderr, "trawl: out of memory\n");
            tw_options_free(&stored);
            free(json);
            tw_store_close(st);
            return 1;
        }
        tw_options_free(&stored);
        tw_options_free(o);
        *o = merged;
    }
    free(json);
    tw_store_batch *b = tw_store_batch_new();
    char *now = tw_options_to_json(o);
    int bad = !b || !now || tw_store_batch_meta(b, TW_STORE_META_OPTIONS, now) != 0;
    /* A new crawl stores its seeds now, under the ids the frontier will count on from
     * (1, 2, ...), so it can be resumed even if killed before its first page. Seeds
     * given to a resumed crawl are the Server's to add: its seen set skips known ones. */
    int64_t id = tw_store_last_id(st);
    for (size_t i = 0; !bad && id == 0 && i < o->n_seeds; i++) {
        bool again = false;
        for (size_t k = 0; k < i; k++) again = again || strcmp(o->seeds[k], o->seeds[i]) == 0;
        if (!again) bad = tw_store_batch_add_url_id(b, (int64_t)i + 1, o->seeds[i], 0, NULL, o->seeds[i]) != 0;
    }
    if (bad) snprintf(err, sizeof err, "out of memory");
    else bad = tw_store_commit(st, b, err, sizeof err) != 0;
    if (bad) fprintf(stderr, "trawl: %s\n", err);
    free(now);
    tw_store_batch_free(b);
    tw_store_close(st);
    return bad ? 1 : 0;
}

static int crawl(int argc, char **argv) {
    tw_options o;
    char err[1024];
    int rc = tw_options_parse(argc, argv, &o, err, sizeof err);
    if (rc == TW_OPTIONS_HELP) {
        fputs(tw_options_usage(), stdout);
        tw_options_free(&o);
        return 0;
    }
    if (rc == TW_OPTIONS_VERSION) {
        printf("trawl %s\n", TW_VERSION);
        tw_options_free(&o);
        return 0;
    }
    if (rc != TW_OPTIONS_RUN) {
        fprintf(stderr, "%s\n", err);
        tw_options_free(&o);
        return 2;
    }
    if (o.n_seeds == 0 && !tw_store_exists(o.out)) { /* checked before creating anything */
        fprintf(stderr, "trawl: no seed URL given, and no crawl in %s to resume\n", o.out);
        tw_options_free(&o);
        return 2;
    }
    int lock = claim_dir(o.out);
    if (lock < 0) {
        tw_options_free(&o);
        return 1;
    }
    rc = prepare_store(o.out, &o);
    if (rc != 0) {
        tw_options_free(&o);
        close(lock);
        return rc;
    }
    tw_crawl_config cfg = {
        .out_dir = o.out,
        .seeds = (const char *const *)o.seeds,
        .nseeds = o.n_seeds,
        .max_pages = (long)o.max_pages,
        .max_depth = (long)o.max_depth,
        .scope = o.scope,
        .includes = (const char *const *)o.include,
        .nincludes = o.n_include,
        .excludes = (const char *const *)o.exclude,
        .nexcludes = o.n_exclude,
        .concurrency = o.concurrency,
        .per_host = o.per_host,
        .rate = o.rate,
        .retries = o.retries,
        .timeout_s = o.timeout,
        .max_bytes = (size_t)o.max_bytes,
        .user_agent = o.user_agent,
        .ignore_robots = o.ignore_robots,
        .warc = !o.no_warc,
        /* bench/: the cost of the state store is measured against a run without it */
        /* tests and tuning: how many queued URLs stay in memory (the rest wait in the store) */
        .frontier_window = getenv("TRAWL_FRONTIER_WINDOW") ? strtoul(getenv("TRAWL_FRONTIER_WINDOW"), NULL, 10) : 0,
        .bench_no_store = getenv("TRAWL_BENCH_NO_STORE") && strcmp(getenv("TRAWL_BENCH_NO_STORE"), "1") == 0,
        .progress = !o.quiet && isatty(STDERR_FILENO),
    };

    /* Block the signals before any thread starts, so only signal_thread sees them. */
    static sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t t;
    pthread_create(&t, NULL, signal_thread, &set);
    pthread_detach(t);

    tw_crawl_end end = tw_crawl_run(&cfg);
    atomic_store(&crawl_done, 1);
    tw_options_free(&o);
    close(lock); /* the crawl is saved: the directory is free again */
    return (int)end;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(general_usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(general_usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("trawl %s\n", TW_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "crawl") != 0) {
        fprintf(stderr, "trawl: unknown command \"%s\"\n%s", argv[1], general_usage);
        return 2;
    }
    return crawl(argc - 1, argv + 1);
}
