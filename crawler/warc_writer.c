/* warc_writer.c -- the WARC writer: the one process that appends to the crawl's WARC files.
 *
 * Downloaders encode their own exchanges (compression is the costly part, so it runs
 * on every scheduler, with encoders borrowed from a small pool) and send the bytes here
 * as a binary; this process only appends them, one write() per exchange, rotating at
 * 1 GiB (crawler/warc.c). The Server calls tw_warc_writer_sync() before it commits the
 * store and writes pages.jsonl lines: a Downloader sends its records before it reports
 * to the Server, and the Server's sync request comes after that report, so this
 * mailbox holds every record of those pages before the sync and the fdatasync covers
 * them. A page's line is therefore never in pages.jsonl before its records are on disk.
 *
 * A crash can tear only the tail of the file being written. The file's name is kept
 * in DIR/warc.open while it is open (removed on a clean close); the next run repairs
 * that file, and any created after the marker was written, before it starts its own
 * (tw_warc_repair cuts the torn tail: those records belong to pages whose lines were
 * never written, which are fetched again; a file left with no whole record is removed).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crawl.h"
#include "version.h"
#include "warc.h"

#define MARKER "warc.open"
#define POOL_MAX 16 /* encoders kept for reuse: more than schedulers ever run at once */

/* ---------------------------------------------------------------- the encoder pool */

/* Encoders own a compressor and buffers worth keeping between pages; a Downloader
 * borrows one for the few microseconds of an encode, on whichever scheduler it runs. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static tw_warc_encoder *pool[POOL_MAX];
static int pool_n;

static tw_warc_encoder *encoder_take(void) {
    tw_warc_encoder *e = NULL;
    pthread_mutex_lock(&pool_lock);
    if (pool_n > 0) e = pool[--pool_n];
    pthread_mutex_unlock(&pool_lock);
    if (!e && tw_warc_encoder_new(0, &e) != 0) return NULL;
    return e;
}

static void encoder_give(tw_warc_encoder *e) {
    pthread_mutex_lock(&pool_lock);
    if (pool_n < POOL_MAX) {
        pool[pool_n++] = e;
        e = NULL;
    }
    pthread_mutex_unlock(&pool_lock);
    tw_warc_encoder_free(e);
}

void tw_warc_writer_cleanup(void) {
    pthread_mutex_lock(&pool_lock);
    while (pool_n > 0) tw_warc_encoder_free(pool[--pool_n]);
    pthread_mutex_unlock(&pool_lock);
}

int tw_warc_writer_send(tr_pid writer, const tw_warc_exchange *x) {
    tw_warc_encoder *e = encoder_take();
    if (!e) return TW_WARC_ENOMEM;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = tw_warc_encode_exchange(e, x, &bytes, &len);
    tr_bin *bin = rc == 0 ? tr_bin_new(bytes, len) : NULL;
    encoder_give(e);
    if (rc != 0) return rc;
    if (!bin) return TW_WARC_ENOMEM;
    rc = tr_send_bin(writer, TW_TAG_WARC_RECORD, 0, bin);
    tr_bin_unref(bin);
    return rc == 0 ? 0 : TW_WARC_ENOMEM;
}

int tw_warc_writer_sync(char *err, size_t n) {
    tr_msg *reply = NULL;
    const tr_reason *why = NULL;
    int rc = tr_gen_call_name(TW_WARC_NAME, TW_TAG_WARC_SYNC, NULL, 0, TR_INFINITY, &reply, &why);
    if (rc != 0) {
        snprintf(err, n, "the WARC writer is gone (%s): its last records may be lost", tr_reason_text(why));
    } else if (reply->len > 0) {
        snprintf(err, n, "%.*s", (int)reply->len, (const char *)reply->data);
        rc = -1;
    }
    tr_msg_free(reply);
    tr_reason_unref(why);
    return rc == 0 ? 0 : -1;
}

/* ---------------------------------------------------------------- the process */

typedef struct writer {
    const tw_crawl_config *cfg;
    tw_warc *warc;      /* NULL with --no-warc */
    int dirfd;
    unsigned files;     /* tw_warc_file_count when the marker was last written */
    tr_bin **pending;   /* records received, not yet written (references held) */
    size_t npending, pending_cap, pending_bytes;
    bool sync;          /* the blocking job also makes the file durable */
    char err[600];      /* the first write error: every later sync reports it */
} writer;

/* Records are written in batches on the blocking pool, never by a scheduler thread:
 * a write() that lands on a page under write-back (while a sync runs) can wait for the
 * disk, and a scheduler waiting in the kernel stalls every process it runs. */
#define PENDING_BYTES (1u << 20)

/* Names the file being written in DIR/warc.open (atomically: temp file, rename, sync);
 * NULL writes it empty: "a file is about to be created". */
static int write_marker(writer *w, const char *path) {
    const char *name = !path ? "" : strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    int fd = openat(w->dirfd, MARKER ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    size_t len = strlen(name);
    int ok = write(fd, name, len) == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    if (!ok || renameat(w->dirfd, MARKER ".tmp", w->dirfd, MARKER) != 0) return -1;
    if (fsync(w->dirfd) != 0 && errno != EINVAL) return -1;
    if (w->warc) w->files = tw_warc_file_count(w->warc);
    return 0;
}

static bool not_older(const struct timespec *a, const struct timespec *b) {
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec >= b->tv_nsec);
}

/*
 * Repairs what a killed run may have left torn: the file the marker names, and any
 * WARC file modified since the marker was written (a file created after the marker
 * was last rewritten: the run died before naming it). Files older than the marker were
 * closed whole. Returns 0, or -1 with err.
 */
static int repair_previous(writer *w, char *err, size_t n) {
    char marked[400] = "";
    struct stat ms;
    int fd = openat(w->dirfd, MARKER, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return 0; /* the last run closed its files */
        snprintf(err, n, "cannot read %s/%s: %s", w->cfg->out_dir, MARKER, strerror(errno));
        return -1;
    }
    ssize_t got = read(fd, marked, sizeof marked - 1);
    int ok = got >= 0 && fstat(fd, &ms) == 0;
    close(fd);
    if (!ok) {
        snprintf(err, n, "cannot read %s/%s: %s", w->cfg->out_dir, MARKER, strerror(errno));
        return -1;
    }
    marked[got] = 0;
    int dfd = dup(w->dirfd);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0) close(dfd);
        snprintf(err, n, "cannot list %s: %s", w->cfg->out_dir, strerror(errno));
        return -1;
    }
    rewinddir(d);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        struct stat st;
        if (len < 8 || strcmp(e->d_name + len - 8, ".warc.gz") != 0) continue;
        if (fstatat(w->dirfd, e->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
        if (strcmp(e->d_name, marked) != 0 && !not_older(&st.st_mtim, &ms.st_mtim)) continue;
        char path[4600];
        snprintf(path, sizeof path, "%s/%s", w->cfg->out_dir, e->d_name);
        uint64_t kept = 0;
        int r = tw_warc_repair(path, &kept);
        if (r >= 0 && kept == 0) {
            unlinkat(w->dirfd, e->d_name, 0); /* created, then killed before its warcinfo */
        } else if (r < 0) {
            snprintf(err, n, "cannot repair %s/%.300s: %s", w->cfg->out_dir, e->d_name,
                     r == TW_WARC_EIO ? strerror(errno) : tw_warc_strerror(r));
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

typedef struct open_job { /* init's disk work, run on the blocking pool */
    writer *w;
    int failed;
    char err[600];
} open_job;

static void open_run(void *arg) {
    open_job *j = arg;
    writer *w = j->w;
    const tw_crawl_config *cfg = w->cfg;
    if (mkdir(cfg->out_dir, 0777) != 0 && errno != EEXIST) {
        snprintf(j->err, sizeof j->err, "cannot create the output directory %s: %s", cfg->out_dir, strerror(errno));
    } else if ((w->dirfd = open(cfg->out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        snprintf(j->err, sizeof j->err, "cannot open the output directory %s: %s", cfg->out_dir, strerror(errno));
    } else if (repair_previous(w, j->err, sizeof j->err) != 0) {
        /* err says what and where */
    } else if (write_marker(w, NULL) != 0) {
        snprintf(j->err, sizeof j->err, "cannot write %s/%s: %s", cfg->out_dir, MARKER, strerror(errno));
    } else {
        tw_warc_options o = {.software = "trawl/" TW_VERSION, .user_agent = cfg->user_agent,
                             .robots = cfg->ignore_robots ? "ignore" : "obey"};
        int rc = tw_warc_open(cfg->out_dir, &o, &w->warc);
        if (rc != 0)
            snprintf(j->err, sizeof j->err, "cannot create a WARC file in %s: %s", cfg->out_dir,
                     rc == TW_WARC_EIO ? strerror(errno) : tw_warc_strerror(rc));
        else if (write_marker(w, tw_warc_path(w->warc)) != 0)
            snprintf(j->err, sizeof j->err, "cannot write %s/%s: %s", cfg->out_dir, MARKER, strerror(errno));
    }
    j->failed = j->err[0] != 0;
}

static void init(void *arg, void **state, tr_gen_ret *out) {
    const tw_crawl_config *cfg = arg;
    writer *w = calloc(1, sizeof *w);
    if (!w) {
        tr_gen_ret_stop(out, tr_reason_new("out of memory"));
        return;
    }
    w->cfg = cfg;
    w->dirfd = -1;
    if (cfg->warc) {
        open_job *j = calloc(1, sizeof *j);
        if (!j || (j->w = w, tr_blocking(open_run, j, 0)) != 0) {
            free(j);
            free(w);
            tr_gen_ret_stop(out, tr_reason_new("out of memory"));
            return;
        }
        if (j->failed) {
            tr_gen_ret_stop(out, tr_reason_new("%s", j->err));
            tw_warc_close(w->warc);
            if (w->dirfd >= 0) close(w->dirfd);
            free(j);
            free(w);
            return;
        }
        free(j);
    }
    /* So that the supervisor's shutdown runs terminate, which syncs and closes. */
    tr_trap_exit(true);
    *state = w;
}

/* Keeps the first write error (errno says why), naming the file. */
static void write_failed(writer *w) {
    snprintf(w->err, sizeof w->err, "cannot write %s: %s", tw_warc_path(w->warc), strerror(errno));
}

/* Writes the pending records in order (rotating files as they fill), then, if asked,
 * makes the file durable. Runs on the blocking pool while the writer waits. A write
 * error is kept, not a crash: the next sync reports it to the Server, which stops the
 * crawl with the message before any line of these pages is written. */
static void write_run(void *arg) {
    writer *w = arg;
    for (size_t i = 0; i < w->npending && !w->err[0]; i++) {
        tr_bin *b = w->pending[i];
        if (tw_warc_write_encoded(w->warc, tr_bin_data(b), tr_bin_len(b)) != 0)
            write_failed(w);
        else if (tw_warc_file_count(w->warc) != w->files && write_marker(w, tw_warc_path(w->warc)) != 0)
            snprintf(w->err, sizeof w->err, "cannot write %s/%s: %s", w->cfg->out_dir, MARKER, strerror(errno));
    }
    if (w->sync && !w->err[0] && tw_warc_flush(w->warc) != 0)
        write_failed(w);
}

/* Writes what is pending (and syncs if `sync`), on the blocking pool. */
static void write_pending(writer *w, bool sync) {
    if (!w->warc || w->err[0] || (w->npending == 0 && !sync)) goto drop;
    w->sync = sync;
    if (tr_blocking(write_run, w, 0) != 0) write_run(w); /* no memory for the job: do it here */
drop:
    for (size_t i = 0; i < w->npending; i++) tr_bin_unref(w->pending[i]);
    w->npending = 0;
    w->pending_bytes = 0;
}

static void handle_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    (void)from;
    writer *w = state;
    if (req->tag == TW_TAG_WARC_SYNC) write_pending(w, true);
    /* An empty reply says all is on disk; otherwise the reply is the error. */
    tr_gen_ret_reply(out, w->err, strlen(w->err));
}

static void handle_info(const tr_msg *msg, void *state, tr_gen_ret *out) {
    (void)out;
    writer *w = state;
    if (msg->kind != TR_MSG_USER || msg->tag != TW_TAG_WARC_RECORD || !msg->bin || !w->warc || w->err[0]) return;
    if (w->npending == w->pending_cap) {
        size_t cap = w->pending_cap ? w->pending_cap * 2 : 256;
        tr_bin **p = realloc(w->pending, cap * sizeof *p);
        if (!p) {
            snprintf(w->err, sizeof w->err, "out of memory");
            return;
        }
        w->pending = p;
        w->pending_cap = cap;
    }
    w->pending[w->npending++] = tr_bin_ref(msg->bin);
    w->pending_bytes += msg->len;
    if (w->pending_bytes >= PENDING_BYTES) write_pending(w, false);
}

static void close_run(void *arg) {
    writer *w = arg;
    if (tw_warc_close(w->warc) != 0 && !w->err[0])
        fprintf(stderr, "trawl: cannot write %s/*.warc.gz: %s\n", w->cfg->out_dir, strerror(errno));
    else if (!w->err[0])
        unlinkat(w->dirfd, MARKER, 0); /* closed whole: nothing to repair */
}

static void terminate(const tr_reason *reason, void *state) {
    (void)reason;
    writer *w = state;
    write_pending(w, false); /* close_run syncs */
    free(w->pending);
    if (w->warc && tr_blocking(close_run, w, 0) != 0) close_run(w);
    if (w->dirfd >= 0) close(w->dirfd);
    free(w);
}

static const tr_gen_callbacks writer_cb = {
    .entry = "warc_writer",
    .init = init,
    .handle_call = handle_call,
    .handle_info = handle_info,
    .terminate = terminate,
};

int tw_warc_writer_start(void *cfg, tr_pid *pid, const tr_reason **why) {
    return tr_gen_start_link(&writer_cb, cfg, &(tr_gen_opts){.name = TW_WARC_NAME}, pid, why);
}
