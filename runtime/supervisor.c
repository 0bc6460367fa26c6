/* supervisor.c -- OTP's supervisor as a gen_server: child specs, the one_for_one,
 * one_for_all and rest_for_one strategies, restart intensity, shutdown/2, and the
 * start/terminate/restart/delete/which/count requests. */
#include "tr_otp.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define DEFAULT_WORKER_SHUTDOWN 5000

/* ================================================================ restart intensity */

void tr__window_init(tr__restart_window *w, int intensity, int period_s) {
    *w = (tr__restart_window){.intensity = intensity < 0 ? 0 : intensity,
                              .period_ms = (int64_t)(period_s > 0 ? period_s : 5) * 1000};
}

bool tr__window_add(tr__restart_window *w) {
    int64_t now = tr_now_ms();
    while (w->len && now - w->ts[w->head] >= w->period_ms) { /* out of the period */
        w->head = (w->head + 1) % w->cap;
        w->len--;
    }
    if (w->len == w->cap) { /* grow, unrolling the ring into the new array */
        size_t cap = w->cap ? 2 * w->cap : 16;
        int64_t *ts = malloc(cap * sizeof *ts);
        if (!ts) return false; /* cannot count: give up as if exceeded */
        for (size_t i = 0; i < w->len; i++) ts[i] = w->ts[(w->head + i) % w->cap];
        free(w->ts);
        w->ts = ts;
        w->head = 0;
        w->cap = cap;
    }
    w->ts[(w->head + w->len) % w->cap] = now;
    w->len++;
    if (w->len > (size_t)w->intensity) return false;
    return true;
}

void tr__window_free(tr__restart_window *w) {
    free(w->ts);
    w->ts = NULL;
    w->len = w->cap = w->head = 0;
}

/* ================================================================ shutdown/2 */

typedef struct exit_wait {
    tr_pid pid;
} exit_wait;

static bool is_exit_from(const tr_msg *m, void *arg) {
    return m->kind == TR_MSG_EXIT && m->from == ((exit_wait *)arg)->pid;
}

int tr_sup_shutdown(tr_pid pid, int64_t shutdown_ms, const tr_reason **why) {
    if (why) *why = NULL;
    tr_ref mref = tr_monitor(pid);
    tr_unlink(pid);
    /* An EXIT already queued means it ended by itself: report its reason, as OTP does. */
    exit_wait w = {pid};
    tr_msg *early = tr_receive_match(is_exit_from, &w, 0);
    if (early) {
        tr_msg_free(tr_receive_ref(mref, TR_INFINITY));
        int rc = tr_reason_eq(early->reason, TR_SHUTDOWN) ? 0 : TR_OTP_EEXIT;
        if (rc && why) *why = tr_reason_ref(early->reason);
        tr_msg_free(early);
        return rc;
    }
    bool brutal = shutdown_ms == TR_SHUTDOWN_BRUTAL;
    tr_exit_pid(pid, brutal ? TR_KILL : TR_SHUTDOWN);
    tr_msg *down = tr_receive_ref(mref, brutal || shutdown_ms < 0 ? TR_INFINITY : shutdown_ms);
    int rc = 0;
    if (!down) {
        tr_exit_pid(pid, TR_KILL);
        down = tr_receive_ref(mref, TR_INFINITY);
        rc = TR_ETIMEDOUT;
    }
    const tr_reason *expect = brutal ? TR_KILLED : TR_SHUTDOWN;
    if (rc == 0 && !tr_reason_eq(down->reason, expect) && !tr_reason_eq(down->reason, TR_NOPROC)) {
        rc = TR_OTP_EEXIT;
        if (why) *why = tr_reason_ref(down->reason);
    }
    tr_msg_free(down);
    return rc;
}

/* ================================================================ the supervisor's state */

typedef struct child {
    char id[64];
    tr_child_start_fn start;
    void *arg;
    tr_restart restart;
    int64_t shutdown_ms; /* resolved: never TR_SHUTDOWN_DEFAULT */
    tr_child_type type;
    tr_pid pid; /* 0: not running */
} child;

typedef struct sup {
    tr_strategy strategy;
    tr__restart_window window;
    child *kids; /* in start order */
    size_t n, cap;
    char name[64];
} sup;

static child make_child(const tr_child_spec *cs) {
    child c = {.start = cs->start, .arg = cs->arg, .restart = cs->restart, .type = cs->type};
    snprintf(c.id, sizeof c.id, "%s", cs->id ? cs->id : "");
    c.shutdown_ms = cs->shutdown_ms;
    if (c.shutdown_ms == TR_SHUTDOWN_DEFAULT)
        c.shutdown_ms = cs->type == TR_SUPERVISOR ? TR_SHUTDOWN_INFINITY : DEFAULT_WORKER_SHUTDOWN;
    return c;
}

static ssize_t find_id(const sup *s, const char *id) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->kids[i].id, id) == 0) return (ssize_t)i;
    return -1;
}

static ssize_t find_pid(const sup *s, tr_pid pid) {
    for (size_t i = 0; i < s->n; i++)
        if (s->kids[i].pid == pid) return (ssize_t)i;
    return -1;
}

static int append(sup *s, child c) {
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        child *k = realloc(s->kids, cap * sizeof *k);
        if (!k) return TR_ENOMEM;
        s->kids = k;
        s->cap = cap;
    }
    s->kids[s->n++] = c;
    return 0;
}

static void remove_at(sup *s, size_t i) {
    memmove(&s->kids[i], &s->kids[i + 1], (s->n - i - 1) * sizeof *s->kids);
    s->n--;
}

static int start_one(child *c, const tr_reason **why) {
    tr_pid pid = 0;
    *why = NULL;
    int rc = c->start(c->arg, &pid, why);
    c->pid = rc == 0 ? pid : 0;
    if (rc == TR_OTP_EIGNORE) rc = 0;
    if (rc && !*why) *why = tr_reason_new("%s", tr_otp_strerror(rc));
    return rc;
}

static void stop_one(child *c) {
    if (!c->pid) return;
    tr_sup_shutdown(c->pid, c->shutdown_ms, NULL);
    c->pid = 0;
}

/* Stops children [from, s->n) in reverse start order; temporary ones are forgotten
 * (OTP never restarts a temporary child). */
static void stop_from(sup *s, size_t from) {
    for (size_t i = s->n; i-- > from;) {
        bool had = s->kids[i].pid != 0;
        stop_one(&s->kids[i]);
        if (had && s->kids[i].restart == TR_TEMPORARY) remove_at(s, i);
    }
}

/* Starts the children [from, n) that are not running, in order. On failure returns the
 * error, with *failed the index of the child that failed. */
static int start_from(sup *s, size_t from, size_t *failed, const tr_reason **why) {
    for (size_t i = from; i < s->n; i++) {
        if (s->kids[i].pid) continue;
        int rc = start_one(&s->kids[i], why);
        if (rc) {
            *failed = i;
            return rc;
        }
    }
    return 0;
}

/* ================================================================ restarts */

static void try_again_later(const child *c) {
    tr_send(tr_self(), TR_SUP_TAG_TRY_AGAIN, c->id, strlen(c->id) + 1);
}

/* Restarts child i as the strategy says. False if the intensity is exceeded. */
static bool restart(sup *s, size_t i) {
    if (!tr__window_add(&s->window)) return false;
    const tr_reason *why = NULL;
    size_t failed = i;
    int rc = 0;
    switch (s->strategy) {
    case TR_ONE_FOR_ONE:
        rc = start_one(&s->kids[i], &why);
        break;
    case TR_ONE_FOR_ALL:
    case TR_REST_FOR_ONE: {
        size_t from = s->strategy == TR_ONE_FOR_ALL ? 0 : i;
        char id[64];
        memcpy(id, s->kids[i].id, sizeof id);
        stop_from(s, from);
        /* Stopping may have dropped temporary children before i: find it again. */
        ssize_t at = find_id(s, id);
        if (s->strategy == TR_REST_FOR_ONE) from = at >= 0 ? (size_t)at : s->n;
        rc = start_from(s, from, &failed, &why);
        break;
    }
    }
    if (rc) {
        /* As OTP: try again through our own mailbox, counting as another restart. */
        tr_reason_unref(why);
        try_again_later(&s->kids[failed]);
    }
    return true;
}

static bool restart_wanted(const child *c, const tr_reason *r) {
    switch (c->restart) {
    case TR_PERMANENT:
        return true;
    case TR_TRANSIENT:
        return !tr_reason_is_normal(r);
    default:
        return false;
    }
}

static void child_exited(sup *s, tr_pid pid, const tr_reason *r, tr_gen_ret *out) {
    ssize_t i = find_pid(s, pid);
    if (i < 0) return; /* an old child's EXIT, or one we stopped ourselves */
    child *c = &s->kids[i];
    c->pid = 0;
    if (!restart_wanted(c, r)) {
        if (c->restart == TR_TEMPORARY) remove_at(s, (size_t)i);
        return;
    }
    if (!restart(s, (size_t)i)) tr_gen_ret_stop(out, TR_SHUTDOWN);
}

static void sup_info(const tr_msg *m, void *state, tr_gen_ret *out) {
    sup *s = state;
    if (m->kind == TR_MSG_EXIT) {
        child_exited(s, m->from, m->reason, out);
    } else if (m->kind == TR_MSG_USER && m->tag == TR_SUP_TAG_TRY_AGAIN && m->len) {
        char id[64];
        snprintf(id, sizeof id, "%.*s", (int)m->len, (const char *)m->data);
        ssize_t i = find_id(s, id);
        if (i >= 0 && !s->kids[i].pid && !restart(s, (size_t)i)) tr_gen_ret_stop(out, TR_SHUTDOWN);
    }
}

/* ================================================================ requests */

void tr__sup_reply_start(tr_gen_from from, int rc, tr_pid pid, const tr_reason *why) {
    tr__sup_start_reply r = {.rc = rc, .pid = pid};
    if (why) snprintf(r.why, sizeof r.why, "%s", tr_reason_text(why));
    tr_gen_reply(from, &r, sizeof r);
}

int tr__sup_start_result(int rc, tr_msg *reply, tr_pid *pid, const tr_reason **why) {
    if (pid) *pid = 0;
    if (rc) return rc;
    tr__sup_start_reply r = {0};
    memcpy(&r, reply->data, reply->len < sizeof r ? reply->len : sizeof r);
    r.why[sizeof r.why - 1] = 0;
    tr_msg_free(reply);
    if (r.rc == 0 && pid) *pid = r.pid;
    if (r.rc && r.rc != TR_OTP_EIGNORE && why) *why = tr_reason_new("%s", r.why);
    return r.rc;
}

/* The wire form of a child spec in a start_child request: the id travels inline. */
typedef struct spec_msg {
    tr_child_spec spec;
    char id[64];
} spec_msg;

static void req_start_child(sup *s, const tr_msg *req, tr_gen_from from) {
    spec_msg sm;
    if (req->len != sizeof sm) {
        tr__sup_reply_start(from, TR_EINVAL, 0, NULL);
        return;
    }
    memcpy(&sm, req->data, sizeof sm);
    sm.id[sizeof sm.id - 1] = 0;
    sm.spec.id = sm.id;
    if (find_id(s, sm.id) >= 0) {
        tr__sup_reply_start(from, TR_EEXIST, 0, NULL);
        return;
    }
    if (append(s, make_child(&sm.spec)) != 0) {
        tr__sup_reply_start(from, TR_ENOMEM, 0, NULL);
        return;
    }
    const tr_reason *why = NULL;
    child *c = &s->kids[s->n - 1];
    int rc = start_one(c, &why);
    tr__sup_reply_start(from, rc, c->pid, why);
    if (rc) remove_at(s, s->n - 1); /* OTP keeps no spec for a child that failed to start */
    tr_reason_unref(why);
}

static void req_by_id(sup *s, uint64_t tag, const tr_msg *req, tr_gen_from from) {
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)req->len, req->data ? (const char *)req->data : "");
    ssize_t i = find_id(s, id);
    int rc = i < 0 ? TR_EBADNAME : 0;
    child *c = i < 0 ? NULL : &s->kids[i];
    switch (tag) {
    case TR_SUP_CALL_TERMINATE_CHILD:
        if (c) {
            stop_one(c);
            if (c->restart == TR_TEMPORARY) remove_at(s, (size_t)i);
        }
        break;
    case TR_SUP_CALL_DELETE_CHILD:
        if (c && c->pid) rc = TR_EBUSY;
        else if (c) remove_at(s, (size_t)i);
        break;
    case TR_SUP_CALL_RESTART_CHILD: {
        const tr_reason *why = NULL;
        if (c && c->pid) rc = TR_EBUSY;
        else if (c) rc = start_one(c, &why);
        tr__sup_reply_start(from, rc, c ? c->pid : 0, why);
        tr_reason_unref(why);
        return;
    }
    }
    tr_gen_reply(from, &rc, sizeof rc);
}

static void req_which(sup *s, tr_gen_from from) {
    tr_sup_child *v = calloc(s->n ? s->n : 1, sizeof *v);
    if (!v) {
        tr_gen_reply(from, NULL, 0);
        return;
    }
    for (size_t i = 0; i < s->n; i++) {
        memcpy(v[i].id, s->kids[i].id, sizeof v[i].id);
        v[i].pid = s->kids[i].pid;
        v[i].type = s->kids[i].type;
        v[i].restart = s->kids[i].restart;
    }
    tr_gen_reply(from, v, s->n * sizeof *v);
    free(v);
}

static void req_count(sup *s, tr_gen_from from) {
    tr_sup_counts c = {.specs = s->n};
    for (size_t i = 0; i < s->n; i++) {
        if (s->kids[i].pid) c.active++;
        if (s->kids[i].type == TR_SUPERVISOR) c.supervisors++;
        else c.workers++;
    }
    tr_gen_reply(from, &c, sizeof c);
}

static void sup_call(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out) {
    sup *s = state;
    (void)out; /* every request replies itself */
    switch (req->tag) {
    case TR_SUP_CALL_START_CHILD:
        req_start_child(s, req, from);
        break;
    case TR_SUP_CALL_TERMINATE_CHILD:
    case TR_SUP_CALL_RESTART_CHILD:
    case TR_SUP_CALL_DELETE_CHILD:
        req_by_id(s, req->tag, req, from);
        break;
    case TR_SUP_CALL_WHICH_CHILDREN:
        req_which(s, from);
        break;
    case TR_SUP_CALL_COUNT_CHILDREN:
        req_count(s, from);
        break;
    default: {
        int rc = TR_EINVAL;
        tr_gen_reply(from, &rc, sizeof rc);
    }
    }
}

/* ================================================================ life cycle */

static void sup_free(sup *s) {
    tr__window_free(&s->window);
    free(s->kids);
    free(s);
}

static void sup_init(void *arg, void **state, tr_gen_ret *out) {
    sup *s = arg;
    *state = s;
    tr_trap_exit(true);
    if (s->name[0] && tr_register(s->name, tr_self()) != 0) {
        sup_free(s);
        tr_gen_ret_stop(out, tr_reason_new("already_started"));
        return;
    }
    const tr_reason *why = NULL;
    size_t failed = 0;
    if (start_from(s, 0, &failed, &why) != 0) {
        stop_from(s, 0);
        tr_gen_ret_stop(out, tr_reason_new("shutdown failed_to_start_child %s: %s", s->kids[failed].id,
                                           tr_reason_text(why)));
        tr_reason_unref(why);
        sup_free(s);
    }
}

static void sup_terminate(const tr_reason *reason, void *state) {
    (void)reason;
    sup *s = state;
    stop_from(s, 0);
    sup_free(s);
}

static const tr_gen_callbacks sup_callbacks = {
    .entry = "supervisor",
    .init = sup_init,
    .handle_call = sup_call,
    .handle_info = sup_info,
    .terminate = sup_terminate,
};

int tr_sup_start_link(const tr_sup_spec *spec, tr_pid *pid, const tr_reason **why) {
    if (pid) *pid = 0;
    if (why) *why = NULL;
    if (!spec || (spec->nchildren && !spec->children)) return TR_EINVAL;
    sup *s = calloc(1, sizeof *s);
    if (!s) return TR_ENOMEM;
    s->strategy = spec->strategy;
    tr__window_init(&s->window, spec->intensity, spec->period_s);
    if (spec->name) snprintf(s->name, sizeof s->name, "%s", spec->name);
    for (size_t i = 0; i < spec->nchildren; i++) {
        const tr_child_spec *cs = &spec->children[i];
        if (!cs->start || !cs->id || find_id(s, cs->id) >= 0 || append(s, make_child(cs)) != 0) {
            sup_free(s);
            return TR_EINVAL;
        }
    }
    int rc = tr_gen_start_link(&sup_callbacks, s, NULL, pid, why);
    if (rc == TR_ELIMIT) sup_free(s); /* init never ran, so the state is still ours */
    if (rc == TR_OTP_EINIT && why && *why && strcmp(tr_reason_text(*why), "already_started") == 0)
        rc = TR_EEXIST;
    return rc;
}

/* ================================================================ the API */

int tr_sup_start_child(tr_pid sup_pid, const tr_child_spec *spec, tr_pid *pid, const tr_reason **why) {
    if (pid) *pid = 0;
    if (why) *why = NULL;
    if (!spec || !spec->start || !spec->id || strlen(spec->id) >= 64) return TR_EINVAL;
    spec_msg sm = {.spec = *spec};
    strcpy(sm.id, spec->id);
    sm.spec.id = NULL;
    tr_msg *reply;
    int rc = tr_gen_call(sup_pid, TR_SUP_CALL_START_CHILD, &sm, sizeof sm, TR_INFINITY, &reply, why);
    return tr__sup_start_result(rc, reply, pid, why);
}

static int call_by_id(tr_pid sup_pid, uint64_t tag, const char *id) {
    if (!id) return TR_EINVAL;
    tr_msg *reply;
    int rc = tr_gen_call(sup_pid, tag, id, strlen(id), TR_INFINITY, &reply, NULL);
    if (rc) return rc;
    if (reply->len == sizeof rc) memcpy(&rc, reply->data, sizeof rc);
    tr_msg_free(reply);
    return rc;
}

int tr_sup_terminate_child(tr_pid sup_pid, const char *id) {
    return call_by_id(sup_pid, TR_SUP_CALL_TERMINATE_CHILD, id);
}

int tr_sup_delete_child(tr_pid sup_pid, const char *id) { return call_by_id(sup_pid, TR_SUP_CALL_DELETE_CHILD, id); }

int tr_sup_restart_child(tr_pid sup_pid, const char *id, tr_pid *pid, const tr_reason **why) {
    if (pid) *pid = 0;
    if (why) *why = NULL;
    if (!id) return TR_EINVAL;
    tr_msg *reply;
    int rc = tr_gen_call(sup_pid, TR_SUP_CALL_RESTART_CHILD, id, strlen(id), TR_INFINITY, &reply, why);
    return tr__sup_start_result(rc, reply, pid, why);
}

int tr_sup_which_children(tr_pid sup_pid, tr_sup_child *out, size_t max) {
    tr_msg *reply;
    int rc = tr_gen_call(sup_pid, TR_SUP_CALL_WHICH_CHILDREN, NULL, 0, TR_INFINITY, &reply, NULL);
    if (rc) return rc;
    size_t n = reply->len / sizeof(tr_sup_child);
    if (out && max) memcpy(out, reply->data, (n < max ? n : max) * sizeof *out);
    tr_msg_free(reply);
    return (int)n;
}

int tr_sup_count_children(tr_pid sup_pid, tr_sup_counts *out) {
    tr_msg *reply;
    int rc = tr_gen_call(sup_pid, TR_SUP_CALL_COUNT_CHILDREN, NULL, 0, TR_INFINITY, &reply, NULL);
    if (rc) return rc;
    *out = (tr_sup_counts){0};
    memcpy(out, reply->data, reply->len < sizeof *out ? reply->len : sizeof *out);
    tr_msg_free(reply);
    return 0;
}
