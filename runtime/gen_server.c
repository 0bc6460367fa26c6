/* gen_server.c -- OTP's gen_server on the trawl runtime: start with init, call, cast,
 * info, deferred replies, stop with terminate. Replies travel through the caller's
 * monitor alias (tr_send_alias), so a timed-out call's late reply never reaches the
 * caller's mailbox. */
#include "tr_otp.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define CALL_HDR (2 * sizeof(uint64_t)) /* user tag, reply-to pid */
#define CAST_HDR sizeof(uint64_t)       /* user tag */
#define SMALL_REQ 256                   /* requests up to this size are built on the stack */

const char *tr_otp_strerror(int err) {
    switch (err) {
    case TR_OTP_EINIT:
        return "init failed";
    case TR_OTP_EIGNORE:
        return "init returned ignore";
    case TR_OTP_EEXIT:
        return "process exited";
    default:
        return tr_strerror(err);
    }
}

static void set_why(const tr_reason **why, const tr_reason *r) {
    if (why) *why = r ? tr_reason_ref(r) : NULL;
}

static void release_reason(void *r) { tr_reason_unref(r); }

/* Ends the calling process with r, whose reference the caller hands over. tr_exit
 * takes its own reference, so ours is dropped once the process is gone. */
static _Noreturn void exit_owned(const tr_reason *r) {
    if (!r) tr_exit(TR_NORMAL);
    tr_on_exit(release_reason, (void *)r); /* on ENOMEM the reason leaks, nothing worse */
    tr_exit(r);
}

void tr_gen_ret_reply(tr_gen_ret *out, const void *data, size_t len) {
    out->action = TR_GEN_REPLY;
    free(out->reply_heap_);
    out->reply_heap_ = NULL;
    void *copy = out->reply_small_;
    if (len > sizeof out->reply_small_) copy = out->reply_heap_ = malloc(len);
    if (!copy) len = 0;
    if (len) memcpy(copy, data, len);
    out->reply = copy;
    out->reply_len = len;
}

void tr_gen_ret_stop(tr_gen_ret *out, const tr_reason *reason) {
    out->action = TR_GEN_STOP;
    tr_reason_unref(out->reason);
    out->reason = reason;
}

static tr_gen_ret fresh_ret(void) { return (tr_gen_ret){.timeout_ms = TR_INFINITY}; }

/* Sends tag with hdr[0..hlen) followed by data[0..len) in one message. */
static int send_framed(tr_pid to, uint64_t tag, tr_ref ref, const uint64_t *hdr, size_t hlen,
                       const void *data, size_t len) {
    char small[SMALL_REQ];
    char *buf = hlen + len <= sizeof small ? small : malloc(hlen + len);
    if (!buf) return TR_ENOMEM;
    memcpy(buf, hdr, hlen);
    if (len) memcpy(buf + hlen, data, len);
    int rc = tr_send_ref(to, tag, ref, buf, hlen + len);
    if (buf != small) free(buf);
    return rc;
}

/* ================================================================ the server process */

typedef struct start_block {
    const tr_gen_callbacks *cb;
    void *arg;
    tr_pid starter;
    bool linked;
    char name[64];
} start_block;

/* init's answer to the starter: a code and, on failure, the reason as text (text, not a
 * reason pointer, so a message dropped on the way leaks nothing). */
typedef struct ack_msg {
    int rc;
    char why[200];
} ack_msg;

typedef struct server {
    const tr_gen_callbacks *cb;
    void *state;
    tr_pid parent; /* the linked starter, whose exit signal stops us; 0 if none */
} server;

static void send_ack(const start_block *sb, int rc, const tr_reason *why) {
    ack_msg a = {.rc = rc};
    if (why) snprintf(a.why, sizeof a.why, "%s", tr_reason_text(why));
    tr_send(sb->starter, TR_GEN_TAG_ACK, &a, offsetof(ack_msg, why) + strlen(a.why) + 1);
}

static _Noreturn void stop_server(server *s, const tr_reason *owned) {
    if (s->cb->terminate) s->cb->terminate(owned ? owned : TR_NORMAL, s->state);
    exit_owned(owned);
}

static void send_reply(tr_gen_from from, tr_gen_ret *out) {
    if (out->reply_bin) {
        tr_send_alias_bin(from.pid, TR_GEN_TAG_REPLY, from.ref, out->reply_bin);
        tr_bin_unref(out->reply_bin);
        out->reply_bin = NULL;
    } else
        tr_send_alias(from.pid, TR_GEN_TAG_REPLY, from.ref, out->reply, out->reply_len);
}

/* A request's view for the callback: the user's tag and payload without our header. */
static tr_msg strip(const tr_msg *m, size_t hdr) {
    tr_msg v = *m;
    uint64_t tag;
    memcpy(&tag, m->data, sizeof tag);
    v.tag = tag;
    v.len = m->len - hdr;
    v.data = v.len ? (const char *)m->data + hdr : NULL;
    v.bin = NULL;
    return v;
}

/* Handles one message; fills *out with what the callback asked for. Frees m. */
static void dispatch(server *s, tr_msg *m, tr_gen_ret *out) {
    const tr_gen_callbacks *cb = s->cb;
    if (m->kind == TR_MSG_USER && m->tag == TR_GEN_TAG_CALL && m->len >= CALL_HDR) {
        uint64_t hdr[2];
        memcpy(hdr, m->data, sizeof hdr);
        tr_msg req = strip(m, CALL_HDR);
        tr_gen_from from = {.pid = (tr_pid)hdr[1], .ref = m->ref};
        cb->handle_call(&req, from, s->state, out);
        /* The reply may point into the request, so it goes before the request is freed. */
        if (out->action == TR_GEN_REPLY || (out->action == TR_GEN_STOP && out->has_reply)) send_reply(from, out);
    } else if (m->kind == TR_MSG_USER && m->tag == TR_GEN_TAG_CAST && m->len >= CAST_HDR) {
        tr_msg req = strip(m, CAST_HDR);
        if (cb->handle_cast) cb->handle_cast(&req, s->state, out);
    } else if (m->kind == TR_MSG_USER && m->tag == TR_GEN_TAG_STOP) {
        const tr_reason *r = m->len ? tr_reason_new("%.*s", (int)m->len, (const char *)m->data) : NULL;
        tr_msg_free(m);
        stop_server(s, r);
    } else if (m->kind == TR_MSG_USER && m->tag == TR_GEN_TAG_REPLY) {
        /* A reply to a call this server made and gave up on: never the callbacks' business. */
    } else if (m->kind == TR_MSG_EXIT && s->parent && m->from == s->parent) {
        const tr_reason *r = tr_reason_ref(m->reason);
        tr_msg_free(m);
        stop_server(s, r);
    } else if (cb->handle_info)
        cb->handle_info(m, s->state, out);
    tr_bin_unref(out->reply_bin);
    out->reply_bin = NULL;
    free(out->reply_heap_);
    out->reply_heap_ = NULL;
    tr_msg_free(m);
}

static _Noreturn void server_loop(server *s, int64_t timeout) {
    for (;;) {
        tr_msg *m = tr_receive(timeout);
        tr_gen_ret out = fresh_ret();
        if (m)
            dispatch(s, m, &out);
        else if (s->cb->handle_info) {
            tr_msg t = {.kind = TR_MSG_USER, .tag = TR_GEN_TAG_TIMEOUT};
            s->cb->handle_info(&t, s->state, &out);
            free(out.reply_heap_); /* a reply here has no one to go to */
        }
        if (out.action == TR_GEN_STOP) stop_server(s, out.reason);
        tr_reason_unref(out.reason); /* a reason set without stopping */
        timeout = out.timeout_ms;
    }
}

static void server_main(void *arg) {
    start_block sb = *(start_block *)arg;
    free(arg);
    server s = {.cb = sb.cb, .parent = sb.linked ? sb.starter : 0};
    if (sb.name[0] && tr_register(sb.name, tr_self()) != 0) {
        if (sb.linked) tr_unlink(sb.starter);
        tr_reason *r = tr_reason_new("already_started");
        send_ack(&sb, TR_EEXIST, r);
        tr_reason_unref(r);
        return;
    }
    tr_gen_ret out = fresh_ret();
    sb.cb->init(sb.arg, &s.state, &out);
    free(out.reply_heap_);
    if (out.action == TR_GEN_STOP || out.action == TR_GEN_IGNORE) {
        /* Unlinked first, so the starter learns of the failure from the answer alone. */
        if (sb.linked) tr_unlink(sb.starter);
        bool stop = out.action == TR_GEN_STOP;
        send_ack(&sb, stop ? TR_OTP_EINIT : TR_OTP_EIGNORE, stop ? (out.reason ? out.reason : TR_NORMAL) : NULL);
        if (!stop) {
            tr_reason_unref(out.reason);
            return;
        }
        exit_owned(out.reason);
    }
    tr_reason_unref(out.reason);
    send_ack(&sb, 0, NULL);
    server_loop(&s, out.timeout_ms);
}

/* Removes a queued EXIT message from pid (after a failed start_link). */
static bool is_exit_from(const tr_msg *m, void *pid) {
    return m->kind == TR_MSG_EXIT && m->from == *(tr_pid *)pid;
}

/* The starter waits for the server's answer or its DOWN (init crashed). The answer
 * carries no ref: the monitor's ref is known only once the server may already run. */
typedef struct start_wait {
    tr_pid pid;
    tr_ref mref;
} start_wait;

static bool is_answer(const tr_msg *m, void *arg) {
    const start_wait *w = arg;
    if (m->kind == TR_MSG_DOWN) return m->ref == w->mref;
    return m->kind == TR_MSG_USER && m->tag == TR_GEN_TAG_ACK && m->from == w->pid;
}

static int start(const tr_gen_callbacks *cb, void *arg, const tr_gen_opts *opts, tr_pid *pidp,
                 const tr_reason **why, bool link) {
    if (pidp) *pidp = 0;
    if (why) *why = NULL;
    if (!cb || !cb->init || !cb->handle_call) return TR_EINVAL;
    start_block *sb = calloc(1, sizeof *sb);
    if (!sb) return TR_ENOMEM;
    sb->cb = cb;
    sb->arg = arg;
    sb->starter = tr_self();
    sb->linked = link;
    if (opts && opts->name) {
        if (strlen(opts->name) >= sizeof sb->name) {
            free(sb);
            return TR_EINVAL;
        }
        strcpy(sb->name, opts->name);
    }
    start_wait w = {0};
    tr_spawn_opts so = {.entry = cb->entry ? cb->entry : "gen_server", .link = link, .monitor = true,
                        .priority = opts ? opts->priority : TR_PRIORITY_NORMAL};
    tr_pid pid = w.pid = tr_spawn_opt(server_main, sb, &so, &w.mref);
    if (!pid) {
        free(sb);
        return TR_ELIMIT;
    }
    tr_ref mref = w.mref;
    int64_t timeout = opts && opts->timeout_ms > 0 ? opts->timeout_ms : TR_INFINITY;
    tr_msg *m = tr_receive_match(is_answer, &w, timeout);
    if (!m) { /* init took too long: unlinked first, so the kill does not reach us */
        if (link) tr_unlink(pid);
        tr_exit_pid(pid, TR_KILL);
        tr_demonitor(mref);
        set_why(why, TR_TIMEOUT);
        return TR_ETIMEDOUT;
    }
    if (m->kind == TR_MSG_DOWN) { /* init crashed */
        set_why(why, m->reason);
        tr_msg_free(m);
        if (link) tr_msg_free(tr_receive_match(is_exit_from, &pid, 0)); /* the link fired first */
        return TR_OTP_EINIT;
    }
    ack_msg a = {0};
    memcpy(&a, m->data, m->len < sizeof a ? m->len : sizeof a);
    a.why[sizeof a.why - 1] = 0;
    tr_msg_free(m);
    tr_demonitor(mref); /* also drops the DOWN of a server that ended after answering */
    int rc = a.rc;
    if (rc == 0) {
        if (pidp) *pidp = pid;
    } else if (why && rc != TR_OTP_EIGNORE)
        *why = tr_reason_new("%s", a.why);
    return rc;
}

int tr_gen_start(const tr_gen_callbacks *cb, void *arg, const tr_gen_opts *opts, tr_pid *pid,
                 const tr_reason **why) {
    return start(cb, arg, opts, pid, why, false);
}

int tr_gen_start_link(const tr_gen_callbacks *cb, void *arg, const tr_gen_opts *opts, tr_pid *pid,
                      const tr_reason **why) {
    return start(cb, arg, opts, pid, why, true);
}

/* ================================================================ calls */

int tr_gen_call(tr_pid server, uint64_t tag, const void *req, size_t len, int64_t timeout_ms,
                tr_msg **reply, const tr_reason **why) {
    if (reply) *reply = NULL;
    if (why) *why = NULL;
    if (tag >= TR_TAG_RESERVED) return TR_EINVAL;
    if (timeout_ms < 0) timeout_ms = TR_INFINITY;
    /* The monitor's ref is the call's ref and its alias: the server replies with
     * tr_send_alias, so once we demonitor (timeout) or take the DOWN, a late reply is
     * dropped on arrival. It is also the receive marker: the wait skips older mail. */
    tr_ref mref = tr_monitor(server);
    uint64_t hdr[2] = {tag, tr_self()};
    int rc = send_framed(server, TR_GEN_TAG_CALL, mref, hdr, sizeof hdr, req, len);
    if (rc != 0) {
        tr_demonitor(mref);
        return rc;
    }
    tr_msg *m = tr_receive_ref(mref, timeout_ms);
    if (m && m->kind == TR_MSG_DOWN) { /* a reply sent before the end would have come first */
        bool noproc = tr_reason_eq(m->reason, TR_NOPROC);
        set_why(why, m->reason);
        tr_msg_free(m);
        return noproc ? TR_ENOPROC : TR_OTP_EEXIT;
    }
    tr_demonitor(mref);
    if (!m) m = tr_receive_ref(mref, 0); /* a reply that raced the timeout counts, as in OTP */
    if (!m) {
        set_why(why, TR_TIMEOUT);
        return TR_ETIMEDOUT;
    }
    if (reply) *reply = m;
    else tr_msg_free(m);
    return 0;
}

int tr_gen_call_name(const char *name, uint64_t tag, const void *req, size_t len, int64_t timeout_ms,
                     tr_msg **reply, const tr_reason **why) {
    tr_pid pid = tr_whereis(name);
    if (!pid) {
        if (reply) *reply = NULL;
        set_why(why, TR_NOPROC);
        return TR_ENOPROC;
    }
    return tr_gen_call(pid, tag, req, len, timeout_ms, reply, why);
}

int tr_gen_cast(tr_pid server, uint64_t tag, const void *req, size_t len) {
    if (tag >= TR_TAG_RESERVED) return TR_EINVAL;
    uint64_t hdr = tag;
    return send_framed(server, TR_GEN_TAG_CAST, 0, &hdr, sizeof hdr, req, len);
}

int tr_gen_cast_name(const char *name, uint64_t tag, const void *req, size_t len) {
    tr_pid pid = tr_whereis(name);
    return pid ? tr_gen_cast(pid, tag, req, len) : TR_EBADNAME;
}

int tr_gen_reply(tr_gen_from from, const void *data, size_t len) {
    return tr_send_alias(from.pid, TR_GEN_TAG_REPLY, from.ref, data, len);
}

int tr_gen_reply_bin(tr_gen_from from, tr_bin *bin) {
    return tr_send_alias_bin(from.pid, TR_GEN_TAG_REPLY, from.ref, bin);
}

int tr_gen_stop(tr_pid server, const tr_reason *reason, int64_t timeout_ms, const tr_reason **why) {
    if (why) *why = NULL;
    if (!reason) reason = TR_NORMAL;
    tr_ref mref = tr_monitor(server);
    const char *text = tr_reason_text(reason);
    int rc = tr_send_ref(server, TR_GEN_TAG_STOP, mref, text, strlen(text));
    if (rc != 0) {
        tr_demonitor(mref);
        return rc;
    }
    tr_msg *m = tr_receive_ref(mref, timeout_ms < 0 ? TR_INFINITY : timeout_ms);
    if (!m) {
        tr_demonitor(mref);
        set_why(why, TR_TIMEOUT);
        return TR_ETIMEDOUT;
    }
    if (tr_reason_eq(m->reason, TR_NOPROC)) rc = TR_ENOPROC;
    else if (!tr_reason_eq(m->reason, reason)) rc = TR_OTP_EEXIT;
    if (rc) set_why(why, m->reason);
    tr_msg_free(m);
    return rc;
}
