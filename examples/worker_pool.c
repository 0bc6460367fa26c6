/* worker_pool.c -- a supervised pool of gen_server workers that crash at random while
 * clients keep calling them: the supervisor restarts each crashed worker under its
 * registered name, and the pool keeps serving. Shows tr_app_run, a supervision tree,
 * calls by name, a call that fails with the worker's exit reason, and the tree dump.
 *   build/examples/worker_pool [JOBS] [WORKERS]                                     */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tr_otp.h>

enum { SQUARE = 1, DONE = 2 };
enum { CLIENTS = 8, MAX_WORKERS = 32 };

/* ---------------------------------------------------------------- a worker */

typedef struct worker_cfg {
    char name[24]; /* registered as this: "worker.3" */
} worker_cfg;

static void w_init(void *arg, void **state, tr_gen_ret *out) {
    (void)out;
    *state = arg;
}

/* Squares a number, and crashes on about one job in a thousand: a stand-in for the
 * bugs a real worker meets (a parser on hostile input, a lost connection). */
static void w_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    (void)from, (void)state;
    long n;
    if (req->tag != SQUARE || req->len != sizeof n) tr_crash("bad request");
    memcpy(&n, req->data, sizeof n);
    if (tr_random() % 1000 == 0) tr_crash("worker hit a bug on job %ld", n);
    long sq = n * n;
    tr_gen_ret_reply(out, &sq, sizeof sq);
}

static const tr_gen_callbacks worker_cb = {.entry = "pool_worker", .init = w_init, .handle_call = w_call};

static int start_worker(void *arg, tr_pid *pid, const tr_reason **why) {
    worker_cfg *cfg = arg;
    return tr_gen_start_link(&worker_cb, cfg, &(tr_gen_opts){.name = cfg->name}, pid, why);
}

/* ---------------------------------------------------------------- the pool's tree */

typedef struct pool {
    int workers;
    long jobs;
    worker_cfg cfg[MAX_WORKERS];
    tr_child_spec kids[MAX_WORKERS];
    tr_sup_spec workers_sup;
} pool;

static int start_workers_sup(void *arg, tr_pid *pid, const tr_reason **why) {
    pool *p = arg;
    return tr_sup_start_link(&p->workers_sup, pid, why);
}

/* ---------------------------------------------------------------- the load */

typedef struct client_arg {
    pool *p;
    int id;
    tr_pid report_to;
} client_arg;

typedef struct tally {
    long served, failed;
} tally;

/* Sends its share of jobs round-robin to the workers by name; a call that fails (the
 * worker crashed on it, or was being restarted) is retried on the next worker. */
static void client(void *arg) {
    client_arg c = *(client_arg *)arg;
    free(arg);
    tally t = {0};
    long share = c.p->jobs / CLIENTS;
    for (long job = 0, k = c.id; job < share; k++) {
        char name[24];
        snprintf(name, sizeof name, "worker.%d", (int)(k % c.p->workers));
        tr_msg *reply = NULL;
        int rc = tr_gen_call_name(name, SQUARE, &job, sizeof job, 1000, &reply, NULL);
        if (rc == 0) {
            long sq;
            memcpy(&sq, reply->data, sizeof sq);
            TR_ASSERT(sq == job * job);
            t.served++;
            job++;
        } else {
            t.failed++;
            tr_yield(); /* give the supervisor a moment to restart the worker */
        }
        tr_msg_free(reply);
    }
    tr_send(c.report_to, DONE, &t, sizeof t);
}

static void load(void *arg) {
    pool *p = arg;
    int64_t t0 = tr_now_ms();
    for (int i = 0; i < CLIENTS; i++) {
        client_arg *c = malloc(sizeof *c);
        *c = (client_arg){p, i, tr_self()};
        tr_spawn(client, c);
    }
    tally all = {0};
    for (int i = 0; i < CLIENTS; i++) {
        tr_msg *m = tr_receive_tag(DONE, TR_INFINITY);
        tally t;
        memcpy(&t, m->data, sizeof t);
        all.served += t.served;
        all.failed += t.failed;
        tr_msg_free(m);
    }
    int64_t ms = tr_now_ms() - t0;
    printf("%ld jobs served in %lld ms by %d workers; %ld calls failed on a crash and were retried\n",
           all.served, (long long)ms, p->workers, all.failed);
    printf("\nthe supervision tree now:\n");
    tr_sup_dump_tree(stdout, tr_whereis("pool_top"));
    tr_app_stop("worker_pool", NULL);
}

static void started(tr_pid top, void *arg) {
    (void)top;
    tr_spawn(load, arg);
}

int main(int argc, char **argv) {
    pool *p = calloc(1, sizeof *p);
    p->jobs = argc > 1 ? atol(argv[1]) : 100000;
    p->workers = argc > 2 ? atoi(argv[2]) : 4;
    if (p->workers < 1 || p->workers > MAX_WORKERS) p->workers = 4;
    for (int i = 0; i < p->workers; i++) {
        snprintf(p->cfg[i].name, sizeof p->cfg[i].name, "worker.%d", i);
        p->kids[i] = (tr_child_spec){.id = p->cfg[i].name, .start = start_worker, .arg = &p->cfg[i]};
    }
    /* Crashes are expected here (hundreds a second at full load), so the workers'
     * supervisor tolerates many; a crash loop would still stop it within a second. */
    p->workers_sup = (tr_sup_spec){.strategy = TR_ONE_FOR_ONE, .intensity = 10000, .period_s = 1,
                                   .children = p->kids, .nchildren = (size_t)p->workers};
    tr_child_spec top_kids[] = {
        {.id = "workers", .start = start_workers_sup, .arg = p, .type = TR_SUPERVISOR},
    };
    tr_app_spec app = {
        .name = "worker_pool",
        .top = {.strategy = TR_ONE_FOR_ONE, .intensity = 3, .period_s = 10, .children = top_kids, .nchildren = 1,
                .name = "pool_top"},
        .started = started,
        .arg = p,
    };
    const tr_reason *why = NULL;
    int rc = tr_app_run(&app, &why);
    printf("\napplication ended: %s (%s)\n", rc == 0 ? "stopped" : "failed", tr_reason_text(why));
    tr_reason_unref(why);
    free(p);
    return rc == 0 ? 0 : 1;
}
