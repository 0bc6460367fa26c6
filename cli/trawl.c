/* trawl.c -- the trawl command: `trawl crawl [OPTIONS] SEED_URL...`.
 * Parses the command line (cli/options.c), runs the crawl application, and turns how
 * it ended into the contract's exit status: 0 finished, 1 fatal, 2 usage, 130
 * interrupted. SIGINT and SIGTERM are taken by a thread of their own (blocked in every
 * other thread) that asks the application to stop in order. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crawl.h"
#include "options.h"

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
    if (o.n_seeds == 0) {
        struct stat st;
        char path[4096];
        snprintf(path, sizeof path, "%s/pages.jsonl", o.out);
        if (stat(path, &st) != 0)
            fprintf(stderr, "trawl: no seed URL given, and no crawl in %s to resume\n", o.out);
        else
            fprintf(stderr, "trawl: %s holds a crawl, but resuming needs the state store, which this "
                            "version does not have yet: give the seeds again with a new --out\n", o.out);
        tw_options_free(&o);
        return 2;
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
