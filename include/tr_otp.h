/* tr_otp.h -- OTP's behaviours on the trawl process runtime: gen_server, supervisor,
 * dynamic supervisor and application, written as C callbacks and plain data specs.
 *
 * Everything here is built on the public API of tr.h only. The semantics follow
 * Erlang/OTP; docs/behaviours.md lists every deliberate difference and a worked
 * example. Conventions are those of tr.h: "process only" functions must run inside a
 * process, errors are negative codes (TR_E* or the TR_OTP_E* codes below), and a
 * `const tr_reason **why` out-parameter, when not NULL, receives a reference the
 * caller owns (release it with tr_reason_unref) whenever the function fails, and NULL
 * when it succeeds.
 *
 * Reserved message tags. Behaviours talk to each other with tags at or above
 * TR_TAG_RESERVED; a gen_server hands every other message to handle_info.
 *   TR_GEN_TAG_CALL    $gen_call: payload = u64 user tag, u64 reply-to pid, request
 *   TR_GEN_TAG_CAST    $gen_cast: payload = u64 user tag, request
 *   TR_GEN_TAG_REPLY   $gen_reply: ref = the call's ref, payload = the reply
 *   TR_GEN_TAG_ACK     init's answer to the starter (proc_lib:init_ack)
 *   TR_GEN_TAG_STOP    tr_gen_stop's request (proc_lib:stop)
 *   TR_GEN_TAG_TIMEOUT what handle_info sees when a callback's timeout runs out
 *   TR_GEN_TAG_ABANDON / TR_GEN_TAG_ABANDONED / TR_GEN_TAG_GUARD_UP  reserved (unused since
 *   replies go through aliases)
 *   TR_SUP_TAG_TRY_AGAIN a supervisor's note to itself to retry a failed restart
 * A supervisor's requests are ordinary calls with the TR_SUP_CALL_* tags below.
 *   TR_APP_TAG_STOP    tr_app_stop's request to the application controller
 */
#ifndef TR_OTP_H
#define TR_OTP_H

#include "tr.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TR_GEN_TAG_CALL (TR_TAG_RESERVED + 0x100)
#define TR_GEN_TAG_CAST (TR_TAG_RESERVED + 0x101)
#define TR_GEN_TAG_REPLY (TR_TAG_RESERVED + 0x102)
#define TR_GEN_TAG_ACK (TR_TAG_RESERVED + 0x103)
#define TR_GEN_TAG_STOP (TR_TAG_RESERVED + 0x104)
#define TR_GEN_TAG_TIMEOUT (TR_TAG_RESERVED + 0x105)
#define TR_GEN_TAG_ABANDON (TR_TAG_RESERVED + 0x106)
#define TR_GEN_TAG_ABANDONED (TR_TAG_RESERVED + 0x107)
#define TR_GEN_TAG_GUARD_UP (TR_TAG_RESERVED + 0x108)
#define TR_SUP_TAG_TRY_AGAIN (TR_TAG_RESERVED + 0x110)
#define TR_APP_TAG_STOP (TR_TAG_RESERVED + 0x120)

/* The call tags a supervisor (static or dynamic) answers, inside $gen_call. */
enum {
    TR_SUP_CALL_START_CHILD = 0x5301,
    TR_SUP_CALL_TERMINATE_CHILD,
    TR_SUP_CALL_RESTART_CHILD,
    TR_SUP_CALL_DELETE_CHILD,
    TR_SUP_CALL_WHICH_CHILDREN,
    TR_SUP_CALL_COUNT_CHILDREN,
};

/* Errors of the behaviours, beside tr.h's TR_E* codes. */
#define TR_OTP_EINIT (-32)   /* init failed or asked to stop; *why says why */
#define TR_OTP_EIGNORE (-33) /* init asked to be ignored (OTP's `ignore`) */
#define TR_OTP_EEXIT (-34)   /* the server exited during the call; *why is its reason */

/* The text of a TR_OTP_E* or TR_E* code. Never NULL. */
const char *tr_otp_strerror(int err);

/* ================================================================ gen_server */

/* Who made a call: where the reply goes and the call's reference. A plain value: keep
 * it (copy it anywhere, hand it to another process) to reply later. */
typedef struct tr_gen_from {
    tr_pid pid; /* reply-to: the caller */
    tr_ref ref;
} tr_gen_from;

typedef enum tr_gen_action {
    TR_GEN_NOREPLY = 0, /* continue (handle_call: the reply comes later via tr_gen_reply) */
    TR_GEN_REPLY,       /* handle_call only: reply with out->reply / out->reply_bin */
    TR_GEN_STOP,        /* stop with out->reason (and reply first if out->has_reply) */
    TR_GEN_IGNORE,      /* init only: end normally; the starter gets TR_OTP_EIGNORE */
} tr_gen_action;

/* What a callback asks the server to do next. The server zeroes it before each
 * callback, with timeout_ms = TR_INFINITY; the tr_gen_ret_* helpers fill it. */
typedef struct tr_gen_ret {
    tr_gen_action action;
    const void *reply;   /* REPLY (or STOP with has_reply): sent after the callback
                            returns, so set directly it must point at memory that
                            outlives the callback; tr_gen_ret_reply copies instead */
    size_t reply_len;
    tr_bin *reply_bin;   /* instead of reply: a binary reference handed over */
    bool has_reply;      /* STOP: reply before stopping */
    const tr_reason *reason; /* STOP or init's failure: a reference handed over; NULL = normal */
    int64_t timeout_ms;  /* no message within this time: handle_info gets
                            TR_GEN_TAG_TIMEOUT; TR_INFINITY = none */
    bool hibernate;      /* accepted; see docs/behaviours.md (there is no heap to shrink) */
    /* Private: where tr_gen_ret_reply keeps its copy. */
    void *reply_heap_;
    max_align_t reply_small_[4];
} tr_gen_ret;

/* The callbacks of a server. Only init and handle_call are required; a missing
 * handle_cast or handle_info ignores the message, a missing terminate does nothing.
 * Callbacks run in the server process and may use any process function. A callback
 * that crashes (tr_crash, TR_ASSERT, a signal) ends the server at once without
 * terminate: release resources with tr_on_exit if they must survive a crash. */
typedef struct tr_gen_callbacks {
    const char *entry; /* label for introspection (static); default "gen_server" */
    /* Sets *state. Default outcome: started. TR_GEN_STOP (with reason): the starter
     * gets TR_OTP_EINIT and the reason; TR_GEN_IGNORE: the starter gets
     * TR_OTP_EIGNORE. Either way the server ends without terminate. */
    void (*init)(void *arg, void **state, tr_gen_ret *out);
    /* req: kind USER, tag = the caller's tag, from = the caller, data/len = request. */
    void (*handle_call)(const tr_msg *req, tr_gen_from from, void *state, tr_gen_ret *out);
    void (*handle_cast)(const tr_msg *req, void *state, tr_gen_ret *out);
    /* Any other message: user messages, EXIT and DOWN messages, and the timeout. */
    void (*handle_info)(const tr_msg *msg, void *state, tr_gen_ret *out);
    /* The server is stopping with reason (a callback said stop, tr_gen_stop, or the
     * parent's exit signal while trapping exits). Free the state here. */
    void (*terminate)(const tr_reason *reason, void *state);
} tr_gen_callbacks;

typedef struct tr_gen_opts {
    const char *name;      /* register the server under this name (copied); NULL: none */
    int64_t timeout_ms;    /* for init; 0 or TR_INFINITY = forever. On timeout the
                              server is killed and the start fails with TR_ETIMEDOUT */
    tr_priority priority;  /* the server's priority (OTP's {spawn_opt, [{priority, P}]}) */
} tr_gen_opts;

/* Starts a server process running cb with arg and waits until init has run. arg is
 * handed to init as is: heap or static memory, never the caller's locals (a process's
 * stack is not addressable by other processes); if the start fails with TR_EEXIST,
 * TR_ELIMIT or TR_EINVAL, init never ran and arg is still the caller's. opts may be NULL. start_link also links the
 * server to the caller (its parent: the server stops when the parent's exit signal
 * arrives while it traps exits). Process only; blocks.
 * Returns 0 and *pid; TR_EEXIST if the name is taken (*why "already_started");
 * TR_OTP_EINIT (init said stop, or crashed: *why is the reason); TR_OTP_EIGNORE;
 * TR_ETIMEDOUT; TR_ELIMIT when no process could be spawned. On failure nothing stays
 * behind, and a failed start_link does not send the caller an exit signal unless
 * init crashed (as in OTP). */
int tr_gen_start(const tr_gen_callbacks *cb, void *arg, const tr_gen_opts *opts, tr_pid *pid,
                 const tr_reason **why);
int tr_gen_start_link(const tr_gen_callbacks *cb, void *arg, const tr_gen_opts *opts, tr_pid *pid,
                      const tr_reason **why);

/* Calls server with tag (< TR_TAG_RESERVED) and a copy of req[0..len), and waits up
 * to timeout_ms (TR_INFINITY: forever) for the reply. The caller monitors the server
 * meanwhile. Process only; blocks.
 * Returns 0 and *reply (owned by the caller: tr_msg_free; its tag is TR_GEN_TAG_REPLY,
 * data/len or bin the reply, from the replier); TR_ETIMEDOUT (*why "timeout"); TR_ENOPROC
 * if the server was not alive (*why "noproc"); TR_OTP_EEXIT if it ended before replying
 * (*why its exit reason). The reply travels through the caller's monitor alias
 * (tr_send_alias), so after a timeout a late reply never reaches the caller's mailbox;
 * a reply that raced the timeout is still returned, as in OTP. */
int tr_gen_call(tr_pid server, uint64_t tag, const void *req, size_t len, int64_t timeout_ms,
                tr_msg **reply, const tr_reason **why);
/* As tr_gen_call to a registered name; TR_ENOPROC ("noproc") if the name is free. */
int tr_gen_call_name(const char *name, uint64_t tag, const void *req, size_t len, int64_t timeout_ms,
                     tr_msg **reply, const tr_reason **why);
/* Sends a cast (handle_cast). Never blocks; a dead server is a silent no-op. Returns 0,
 * TR_ENOMEM, or TR_EINVAL for a reserved tag. Any thread. */
int tr_gen_cast(tr_pid server, uint64_t tag, const void *req, size_t len);
/* As tr_gen_cast to a registered name; TR_EBADNAME if the name is free. */
int tr_gen_cast_name(const char *name, uint64_t tag, const void *req, size_t len);

/* Replies to a call (from handle_call's `from`, possibly later, from any process).
 * Copies data[0..len) / takes its own reference to bin. Returns 0 or TR_ENOMEM. */
int tr_gen_reply(tr_gen_from from, const void *data, size_t len);
int tr_gen_reply_bin(tr_gen_from from, tr_bin *bin);

/* Asks server to stop with reason (NULL = normal): it runs terminate and ends, and this
 * waits up to timeout_ms for it to be gone. Process only; blocks. Returns 0,
 * TR_ENOPROC if it was not alive, TR_ETIMEDOUT, or TR_OTP_EEXIT if it ended with
 * another reason (*why). */
int tr_gen_stop(tr_pid server, const tr_reason *reason, int64_t timeout_ms, const tr_reason **why);

/* Helpers for callbacks: fill *out. reply copies data[0..len) at once (into out
 * itself when small, else the heap: TR_ENOMEM then sends an empty reply), so it may
 * point at the callback's locals; stop takes over the reference to reason (NULL:
 * normal) and keeps a reply set before. */
void tr_gen_ret_reply(tr_gen_ret *out, const void *data, size_t len);
void tr_gen_ret_stop(tr_gen_ret *out, const tr_reason *reason);

/* ================================================================ supervisor */

typedef enum tr_restart {
    TR_PERMANENT = 0, /* always restarted */
    TR_TRANSIENT,     /* restarted if it ends abnormally (not normal/shutdown) */
    TR_TEMPORARY,     /* never restarted; its spec goes when it ends */
} tr_restart;

typedef enum tr_child_type { TR_WORKER = 0, TR_SUPERVISOR } tr_child_type;

typedef enum tr_strategy { TR_ONE_FOR_ONE = 0, TR_ONE_FOR_ALL, TR_REST_FOR_ONE } tr_strategy;

#define TR_SHUTDOWN_DEFAULT 0         /* 5000 ms for workers, infinity for supervisors */
#define TR_SHUTDOWN_BRUTAL (-2)       /* OTP's brutal_kill */
#define TR_SHUTDOWN_INFINITY TR_INFINITY

/* Starts a child linked to the calling supervisor. Returns 0 and *pid, TR_OTP_EIGNORE
 * (nothing started, the spec is kept), or another error with *why. The start functions
 * of the behaviours fit: call tr_gen_start_link or tr_sup_start_link inside. */
typedef int (*tr_child_start_fn)(void *arg, tr_pid *pid, const tr_reason **why);

typedef struct tr_child_spec {
    const char *id;          /* unique within the supervisor; copied (at most 63 bytes) */
    tr_child_start_fn start;
    void *arg;               /* passed to each start; must outlive the supervisor */
    tr_restart restart;
    int64_t shutdown_ms;     /* TR_SHUTDOWN_DEFAULT, TR_SHUTDOWN_BRUTAL, a timeout in
                                ms after which the child is killed, or TR_SHUTDOWN_INFINITY */
    tr_child_type type;
} tr_child_spec;

typedef struct tr_sup_spec {
    tr_strategy strategy;
    int intensity;             /* MaxR: more restarts than this ... */
    int period_s;              /* ... within MaxT seconds and the supervisor gives up
                                  (0 = 5 s, as OTP's default) */
    const tr_child_spec *children; /* started in this order, stopped in reverse */
    size_t nchildren;
    const char *name;          /* register the supervisor (copied); NULL: none */
} tr_sup_spec;

/* Starts a supervisor linked to the caller and, in it, every child in order. The spec
 * is copied. If a child fails to start, the ones started are stopped in reverse order
 * and the start fails with TR_OTP_EINIT and *why naming the child and its reason.
 * Process only; blocks. Other returns as tr_gen_start_link. */
int tr_sup_start_link(const tr_sup_spec *spec, tr_pid *pid, const tr_reason **why);

/* Adds spec to a running supervisor and starts it. Returns 0 and *pid (0 if ignored),
 * TR_EEXIST if the id is taken, or the start's error with *why. */
int tr_sup_start_child(tr_pid sup, const tr_child_spec *spec, tr_pid *pid, const tr_reason **why);
/* Stops a child as its shutdown says and keeps its spec (a temporary child's goes).
 * Returns 0 or TR_EBADNAME (no such id). */
int tr_sup_terminate_child(tr_pid sup, const char *id);
/* Starts a stopped child again. Returns 0 and *pid, TR_EBADNAME, TR_EBUSY (running),
 * or the start's error with *why. */
int tr_sup_restart_child(tr_pid sup, const char *id, tr_pid *pid, const tr_reason **why);
/* Removes a stopped child's spec. Returns 0, TR_EBADNAME, or TR_EBUSY (running). */
int tr_sup_delete_child(tr_pid sup, const char *id);

typedef struct tr_sup_child {
    char id[64];      /* "" for a dynamic supervisor's children */
    tr_pid pid;       /* 0 when not running */
    tr_child_type type;
    tr_restart restart;
} tr_sup_child;

/* The children of sup (static or dynamic supervisor), in start order, into
 * out[0..max). Returns how many children there are (may exceed max), or TR_ENOPROC /
 * TR_OTP_EEXIT. Process only; blocks. */
int tr_sup_which_children(tr_pid sup, tr_sup_child *out, size_t max);

typedef struct tr_sup_counts {
    size_t specs, active, supervisors, workers;
} tr_sup_counts;
/* Counts of sup's children, as OTP's count_children. Returns 0 or an error. */
int tr_sup_count_children(tr_pid sup, tr_sup_counts *out);

/* Stops pid the way a supervisor does (OTP's shutdown/2): unlink, monitor, exit signal
 * shutdown, wait up to shutdown_ms for it to end, then kill it. TR_SHUTDOWN_BRUTAL
 * kills at once; TR_SHUTDOWN_INFINITY waits forever. Returns 0 if it ended with
 * reason shutdown (or was killed by brutal kill), TR_ETIMEDOUT if it had to be
 * killed, TR_OTP_EEXIT with *why if it ended for another reason. Process only. */
int tr_sup_shutdown(tr_pid pid, int64_t shutdown_ms, const tr_reason **why);

/* ================================================================ dynamic supervisor */

/* One kind of child, started on demand with per-child bytes (OTP's DynamicSupervisor,
 * or simple_one_for_one): extra[0..len) is a copy the supervisor keeps for restarts. */
typedef int (*tr_dynsup_start_fn)(void *arg, const void *extra, size_t len, tr_pid *pid,
                                  const tr_reason **why);

typedef struct tr_dynsup_spec {
    tr_dynsup_start_fn start;
    void *arg;             /* passed to every start; must outlive the supervisor */
    tr_restart restart;    /* usually TR_TEMPORARY or TR_TRANSIENT */
    int64_t shutdown_ms;   /* as tr_child_spec */
    tr_child_type type;
    int intensity, period_s; /* as tr_sup_spec */
    size_t max_children;   /* 0 = no limit */
    const char *name;      /* register (copied); NULL: none */
    tr_priority priority;  /* the supervisor's own priority, not its children's */
} tr_dynsup_spec;

/* Starts a dynamic supervisor linked to the caller. Process only; blocks. Returns as
 * tr_gen_start_link. */
int tr_dynsup_start_link(const tr_dynsup_spec *spec, tr_pid *pid, const tr_reason **why);
/* Starts one child with a copy of extra[0..len). O(1) in the number of children.
 * Returns 0 and *pid (0 if ignored), TR_ELIMIT at max_children, or the start's error. */
int tr_dynsup_start_child(tr_pid sup, const void *extra, size_t len, tr_pid *pid,
                          const tr_reason **why);
/* Stops child pid as the shutdown says and forgets it. Returns 0 or TR_ENOPROC (not a
 * child). */
int tr_dynsup_terminate_child(tr_pid sup, tr_pid child);
/* tr_sup_which_children and tr_sup_count_children work on dynamic supervisors too. */

/* ================================================================ application */

typedef struct tr_app_spec {
    const char *name;         /* the controller registers "app:<name>" (tr_app_stop) */
    tr_sup_spec top;          /* the top supervisor */
    tr_config runtime;        /* for tr_run; zero = defaults */
    /* Optional: runs in the controller once the top supervisor is up (e.g. to print
     * the tree or spawn a driver). Must not block for long. */
    void (*started)(tr_pid top, void *arg);
    void *arg;
} tr_app_spec;

/* Runs an application from main: starts the runtime and the top supervisor, waits for
 * tr_app_stop or for the top supervisor to end, stops the tree in order (children in
 * reverse start order, each within its shutdown), and returns how it ended:
 * 0 after tr_app_stop with a normal reason; 1 if the top supervisor ended by itself
 * (it gave up: *reason is typically "shutdown") or the stop reason was not normal;
 * TR_OTP_EINIT if the top supervisor could not start (*reason says why); a negative
 * TR_E* code if the runtime could not start. *reason (if not NULL) gets a reference
 * the caller owns, also on success ("normal"). Not process only: call it from main. */
int tr_app_run(const tr_app_spec *spec, const tr_reason **reason);

/* Asks the application name to stop with reason (NULL = normal). From any thread
 * while it runs (not from a signal handler). Returns 0 or TR_EBADNAME. */
int tr_app_stop(const char *name, const tr_reason *reason);

/* Writes the supervision tree under sup as text, one process a line, indented by
 * depth: id, pid, entry, registered name, state, mailbox length and memory. Process
 * only; blocks (asks each supervisor for its children). Returns the number of
 * processes listed. */
size_t tr_sup_dump_tree(FILE *f, tr_pid sup);

/* ================================================================ internal
 * Shared by the behaviours' own files (runtime/supervisor.c, runtime/dynsup.c); not
 * for applications. */

/* OTP's restart intensity as a queue of restart times inside the period: adding one
 * is amortised O(1), and the queue never holds more than intensity + 1 entries. */
typedef struct tr__restart_window {
    int64_t *ts;
    size_t head, len, cap;
    int intensity;
    int64_t period_ms;
} tr__restart_window;
void tr__window_init(tr__restart_window *w, int intensity, int period_s);
/* Records a restart now; false if that makes more than intensity in the period. */
bool tr__window_add(tr__restart_window *w);
void tr__window_free(tr__restart_window *w);
/* A supervisor's reply to start/restart_child, and its decoding by the caller. */
typedef struct tr__sup_start_reply {
    int rc;
    tr_pid pid;
    char why[200];
} tr__sup_start_reply;
int tr__sup_start_result(int rc, tr_msg *reply, tr_pid *pid, const tr_reason **why);
void tr__sup_reply_start(tr_gen_from from, int rc, tr_pid pid, const tr_reason *why);

#ifdef __cplusplus
}
#endif
#endif
