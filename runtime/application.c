/* application.c -- OTP's application, reduced to what a C program's main needs: run a
 * top supervisor until asked to stop or until it gives up, stop the tree in order,
 * say how it ended; and a text dump of the supervision tree. */
#include "tr_otp.h"

#include <stdlib.h>
#include <string.h>

typedef struct app_run {
    const tr_app_spec *spec;
    int rc;
    const tr_reason *reason; /* owned */
} app_run;

static void controller_name(char *buf, size_t size, const char *app) {
    snprintf(buf, size, "app:%s", app ? app : "");
}

/* The root process: starts the top supervisor, then waits for a stop request or for
 * the top supervisor's end. */
static void controller(void *arg) {
    app_run *run = arg;
    const tr_app_spec *spec = run->spec;
    char name[64];
    controller_name(name, sizeof name, spec->name);
    tr_trap_exit(true);
    tr_pid top = 0;
    const tr_reason *why = NULL;
    int rc = tr_sup_start_link(&spec->top, &top, &why);
    if (rc != 0) {
        run->rc = TR_OTP_EINIT;
        run->reason = why ? why : tr_reason_new("%s", tr_otp_strerror(rc));
        return;
    }
    /* Registered only now, so a stop request never meets a half-started tree. */
    tr_register(name, tr_self());
    if (spec->started) spec->started(top, spec->arg);
    for (;;) {
        tr_msg *m = tr_receive(TR_INFINITY);
        if (m->kind == TR_MSG_EXIT && m->from == top) { /* the top supervisor gave up */
            run->rc = 1;
            run->reason = tr_reason_ref(m->reason);
            tr_msg_free(m);
            return;
        }
        if (m->kind == TR_MSG_USER && m->tag == TR_APP_TAG_STOP) {
            const tr_reason *r = m->len ? tr_reason_new("%.*s", (int)m->len, (const char *)m->data) : TR_NORMAL;
            tr_msg_free(m);
            tr_unregister(name); /* later stop requests find no one */
            tr_sup_shutdown(top, TR_SHUTDOWN_INFINITY, NULL);
            run->rc = tr_reason_is_normal(r) ? 0 : 1;
            run->reason = r;
            return;
        }
        tr_msg_free(m); /* EXITs of other linked processes, stray messages */
    }
}

int tr_app_run(const tr_app_spec *spec, const tr_reason **reason) {
    if (reason) *reason = NULL;
    if (!spec) return TR_EINVAL;
    app_run run = {.spec = spec};
    int rc = tr_run(&spec->runtime, controller, &run, NULL);
    if (rc < 0) {
        tr_reason_unref(run.reason);
        return rc;
    }
    if (!run.reason) run.reason = TR_NORMAL;
    if (reason) *reason = run.reason;
    else tr_reason_unref(run.reason);
    return run.rc;
}

int tr_app_stop(const char *name, const tr_reason *reason) {
    char buf[64];
    controller_name(buf, sizeof buf, name);
    const char *text = tr_reason_text(reason ? reason : TR_NORMAL);
    return tr_send_named(buf, TR_APP_TAG_STOP, text, strlen(text));
}

/* ================================================================ the tree */

static const char *state_name(tr_proc_state s) {
    switch (s) {
    case TR_PROC_RUNNABLE:
        return "runnable";
    case TR_PROC_RUNNING:
        return "running";
    case TR_PROC_WAITING:
        return "waiting";
    default:
        return "exiting";
    }
}

/* The children of a supervisor into a growing array; returns how many (0 on error). */
static size_t children_of(tr_pid sup, tr_sup_child **out) {
    size_t cap = 16;
    for (;;) {
        tr_sup_child *v = malloc(cap * sizeof *v);
        if (!v) return 0;
        int n = tr_sup_which_children(sup, v, cap);
        if (n < 0 || (size_t)n <= cap) {
            *out = v;
            return n < 0 ? 0 : (size_t)n;
        }
        free(v);
        cap = (size_t)n + 16; /* it grew meanwhile: ask again with room */
    }
}

static size_t dump(FILE *f, tr_pid pid, const char *id, int depth, bool sup) {
    tr_proc_info in;
    if (tr_process_info(pid, &in) != 0) {
        fprintf(f, "%*s%s <%u.%u> (gone)\n", 2 * depth, "", id, (unsigned)(pid >> 32), (unsigned)(uint32_t)pid);
        return 0;
    }
    fprintf(f, "%*s%s <%u.%u> %s%s%s %s%s%s mbox=%zu mem=%zu links=%zu\n", 2 * depth, "", id,
            (unsigned)(pid >> 32), (unsigned)(uint32_t)pid, in.entry, in.name[0] ? " name=" : "", in.name,
            state_name(in.state), in.waiting_in[0] ? ":" : "", in.waiting_in, in.mailbox_len, in.memory, in.links);
    size_t count = 1;
    if (!sup) return count;
    tr_sup_child *kids = NULL;
    size_t n = children_of(pid, &kids);
    for (size_t i = 0; i < n; i++) {
        const char *cid = kids[i].id[0] ? kids[i].id : "child";
        if (kids[i].pid) count += dump(f, kids[i].pid, cid, depth + 1, kids[i].type == TR_SUPERVISOR);
        else fprintf(f, "%*s%s (not running)\n", 2 * (depth + 1), "", cid);
    }
    free(kids);
    return count;
}

size_t tr_sup_dump_tree(FILE *f, tr_pid sup) { return dump(f, sup, "top", 0, true); }
