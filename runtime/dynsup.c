/* dynsup.c -- a dynamic supervisor (OTP's DynamicSupervisor / simple_one_for_one):
 * many children of one kind, started on demand, kept in a hash map by pid so that
 * starting, finding and forgetting a child is O(1) however many there are. */
#include "tr_otp.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_WORKER_SHUTDOWN 5000

typedef struct dchild {
    tr_pid pid;
    size_t len;
    max_align_t extra[]; /* len bytes: the start argument, kept for restarts */
} dchild;

typedef struct dynsup {
    tr_dynsup_spec spec; /* spec.name points at name */
    char name[64];
    tr__restart_window window;
    dchild **slots; /* open addressing by pid, linear probing, no tombstones */
    size_t cap, n;
} dynsup;

/* ================================================================ the pid map */

static size_t slot_of(const dynsup *d, tr_pid pid) {
    return (size_t)((pid * 0x9E3779B97F4A7C15ull) >> 17) & (d->cap - 1);
}

static dchild **lookup(dynsup *d, tr_pid pid) {
    if (!d->cap) return NULL;
    for (size_t i = slot_of(d, pid);; i = (i + 1) & (d->cap - 1)) {
        if (!d->slots[i]) return NULL;
        if (d->slots[i]->pid == pid) return &d->slots[i];
    }
}

static void place(dynsup *d, dchild *c) {
    size_t i = slot_of(d, c->pid);
    while (d->slots[i]) i = (i + 1) & (d->cap - 1);
    d->slots[i] = c;
}

static int insert(dynsup *d, dchild *c) {
    if (2 * (d->n + 1) > d->cap) { /* keep the load at most one half */
        size_t cap = d->cap ? 2 * d->cap : 64, old_cap = d->cap;
        dchild **old = d->slots;
        d->slots = calloc(cap, sizeof *d->slots);
        if (!d->slots) {
            d->slots = old;
            return TR_ENOMEM;
        }
        d->cap = cap;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i]) place(d, old[i]);
        free(old);
    }
    place(d, c);
    d->n++;
    return 0;
}

/* Removes the entry at *e, shifting later members of its probe run back. */
static void erase(dynsup *d, dchild **e) {
    size_t i = (size_t)(e - d->slots), mask = d->cap - 1;
    d->slots[i] = NULL;
    d->n--;
    for (size_t j = (i + 1) & mask; d->slots[j]; j = (j + 1) & mask) {
        size_t home = slot_of(d, d->slots[j]->pid);
        /* Move j back to i if its home is not in (i, j] (cyclically). */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            d->slots[i] = d->slots[j];
            d->slots[j] = NULL;
            i = j;
        }
    }
}

/* ================================================================ children */

static int start_child(dynsup *d, dchild *c, const tr_reason **why) {
    *why = NULL;
    tr_pid pid = 0;
    int rc = d->spec.start(d->spec.arg, c->len ? c->extra : NULL, c->len, &pid, why);
    c->pid = rc == 0 ? pid : 0;
    if (rc && rc != TR_OTP_EIGNORE && !*why) *why = tr_reason_new("%s", tr_otp_strerror(rc));
    return rc;
}

static void child_exited(dynsup *d, tr_pid pid, const tr_reason *r, tr_gen_ret *out) {
    dchild **e = lookup(d, pid);
    if (!e) return;
    dchild *c = *e;
    erase(d, e);
    bool again = d->spec.restart == TR_PERMANENT || (d->spec.restart == TR_TRANSIENT && !tr_reason_is_normal(r));
    if (!again) {
        free(c);
        return;
    }
    if (!tr__window_add(&d->window)) {
        free(c);
        tr_gen_ret_stop(out, TR_SHUTDOWN);
        return;
    }
    const tr_reason *why = NULL;
    /* A child whose restart fails (or is ignored) is given up: see docs/behaviours.md. */
    if (start_child(d, c, &why) != 0 || !c->pid || insert(d, c) != 0) {
        if (c->pid) tr_exit_pid(c->pid, TR_KILL);
        free(c);
    }
    tr_reason_unref(why);
}

/* Stops every child at once (OTP does the same for simple_one_for_one): exit signals to
 * all, then one deadline for all the DOWNs, then kill whoever is left. */
static bool is_down(const tr_msg *m, void *arg) {
    (void)arg;
    return m->kind == TR_MSG_DOWN;
}

static void stop_all(dynsup *d) {
    bool brutal = d->spec.shutdown_ms == TR_SHUTDOWN_BRUTAL;
    size_t pending = 0;
    for (size_t i = 0; i < d->cap; i++) {
        dchild *c = d->slots[i];
        if (!c) continue;
        tr_monitor(c->pid);
        tr_unlink(c->pid);
        tr_exit_pid(c->pid, brutal ? TR_KILL : TR_SHUTDOWN);
        pending++;
    }
    int64_t t = d->spec.shutdown_ms;
    int64_t deadline = brutal || t < 0 ? -1 : tr_now_ms() + t;
    while (pending) {
        tr_msg *m;
        if (deadline < 0) m = tr_receive_match(is_down, NULL, TR_INFINITY);
        else {
            int64_t left = deadline - tr_now_ms();
            m = left > 0 ? tr_receive_match(is_down, NULL, left) : NULL;
        }
        if (!m) { /* time is up: kill the rest and wait for them */
            for (size_t i = 0; i < d->cap; i++)
                if (d->slots[i]) tr_exit_pid(d->slots[i]->pid, TR_KILL);
            deadline = -1;
            continue;
        }
        tr_msg_free(m);
        pending--;
    }
    for (size_t i = 0; i < d->cap; i++) free(d->slots[i]);
    free(d->slots);
    d->slots = NULL;
    d->cap = d->n = 0;
}

/* ================================================================ requests */

static void req_start(dynsup *d, const tr_msg *req, tr_gen_from from) {
    if (d->spec.max_children && d->n >= d->spec.max_children) {
        tr__sup_reply_start(from, TR_ELIMIT, 0, NULL);
        return;
    }
    dchild *c = malloc(sizeof *c + req->len);
    if (!c) {
        tr__sup_reply_start(from, TR_ENOMEM, 0, NULL);
        return;
    }
    c->len = req->len;
    if (req->len) memcpy(c->extra, req->data, req->len);
    const tr_reason *why = NULL;
    int rc = start_child(d, c, &why);
    if (rc == 0 && c->pid && insert(d, c) != 0) {
        tr_exit_pid(c->pid, TR_KILL);
        c->pid = 0;
        rc = TR_ENOMEM;
    }
    tr__sup_reply_start(from, rc, c->pid, why);
    tr_reason_unref(why);
    if (rc || !c->pid) free(c);
}

static void req_terminate(dynsup *d, const tr_msg *req, tr_gen_from from) {
    int rc = TR_ENOPROC;
    tr_pid pid = 0;
    if (req->len == sizeof pid) memcpy(&pid, req->data, sizeof pid);
    dchild **e = pid ? lookup(d, pid) : NULL;
    if (e) {
        free(*e);
        erase(d, e);
        tr_sup_shutdown(pid, d->spec.shutdown_ms, NULL);
        rc = 0;
    }
    tr_gen_reply(from, &rc, sizeof rc);
}

static void req_which(dynsup *d, tr_gen_from from) {
    tr_sup_child *v = calloc(d->n ? d->n : 1, sizeof *v);
    if (!v) {
        tr_gen_reply(from, NULL, 0);
        return;
    }
    size_t k = 0;
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i])
            v[k++] = (tr_sup_child){.pid = d->slots[i]->pid, .type = d->spec.type, .restart = d->spec.restart};
    tr_gen_reply(from, v, k * sizeof *v);
    free(v);
}

static void dyn_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    dynsup *d = state;
    (void)out;
    switch (req->tag) {
    case TR_SUP_CALL_START_CHILD:
        req_start(d, req, from);
        break;
    case TR_SUP_CALL_TERMINATE_CHILD:
        req_terminate(d, req, from);
        break;
    case TR_SUP_CALL_WHICH_CHILDREN:
        req_which(d, from);
        break;
    case TR_SUP_CALL_COUNT_CHILDREN: {
        tr_sup_counts c = {.specs = 1, .active = d->n};
        if (d->spec.type == TR_SUPERVISOR) c.supervisors = d->n;
        else c.workers = d->n;
        tr_gen_reply(from, &c, sizeof c);
        break;
    }
    default: {
        int rc = TR_EINVAL;
        tr_gen_reply(from, &rc, sizeof rc);
    }
    }
}

static void dyn_info(const tr_msg *m, void *state, tr_gen_ret *out) {
    if (m->kind == TR_MSG_EXIT) child_exited(state, m->from, m->reason, out);
}

static void dyn_free(dynsup *d) {
    tr__window_free(&d->window);
    free(d);
}

static void dyn_init(void *arg, void **state, tr_gen_ret *out) {
    dynsup *d = arg;
    *state = d;
    tr_trap_exit(true);
    if (d->name[0] && tr_register(d->name, tr_self()) != 0) {
        dyn_free(d);
        tr_gen_ret_stop(out, tr_reason_new("already_started"));
    }
}

static void dyn_terminate(const tr_reason *reason, void *state) {
    (void)reason;
    stop_all(state);
    dyn_free(state);
}

static const tr_gen_callbacks dyn_callbacks = {
    .entry = "dynamic_supervisor",
    .init = dyn_init,
    .handle_call = dyn_call,
    .handle_info = dyn_info,
    .terminate = dyn_terminate,
};

int tr_dynsup_start_link(const tr_dynsup_spec *spec, tr_pid *pid, const tr_reason **why) {
    if (pid) *pid = 0;
    if (why) *why = NULL;
    if (!spec || !spec->start) return TR_EINVAL;
    dynsup *d = calloc(1, sizeof *d);
    if (!d) return TR_ENOMEM;
    d->spec = *spec;
    if (spec->name) snprintf(d->name, sizeof d->name, "%s", spec->name);
    d->spec.name = d->name;
    if (d->spec.shutdown_ms == TR_SHUTDOWN_DEFAULT)
        d->spec.shutdown_ms = spec->type == TR_SUPERVISOR ? TR_SHUTDOWN_INFINITY : DEFAULT_WORKER_SHUTDOWN;
    tr__window_init(&d->window, spec->intensity, spec->period_s);
    int rc = tr_gen_start_link(&dyn_callbacks, d, &(tr_gen_opts){.priority = spec->priority}, pid, why);
    if (rc == TR_ELIMIT) dyn_free(d);
    if (rc == TR_OTP_EINIT && why && *why && strcmp(tr_reason_text(*why), "already_started") == 0)
        rc = TR_EEXIST;
    return rc;
}

int tr_dynsup_start_child(tr_pid sup, const void *extra, size_t len, tr_pid *pid, const tr_reason **why) {
    if (pid) *pid = 0;
    if (why) *why = NULL;
    tr_msg *reply;
    int rc = tr_gen_call(sup, TR_SUP_CALL_START_CHILD, extra, len, TR_INFINITY, &reply, why);
    return tr__sup_start_result(rc, reply, pid, why);
}

int tr_dynsup_terminate_child(tr_pid sup, tr_pid child) {
    tr_msg *reply;
    int rc = tr_gen_call(sup, TR_SUP_CALL_TERMINATE_CHILD, &child, sizeof child, TR_INFINITY, &reply, NULL);
    if (rc) return rc;
    if (reply->len == sizeof rc) memcpy(&rc, reply->data, sizeof rc);
    tr_msg_free(reply);
    return rc;
}
