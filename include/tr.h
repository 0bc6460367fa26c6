/* tr.h -- the trawl process runtime: Erlang's concurrency building blocks for C.
 *
 * A program starts the runtime with tr_run(), which runs a root process and returns
 * once it has ended and every other process is gone. Processes are lightweight and
 * stackful: straight-line C that blocks in tr_receive() without blocking its thread.
 * They share nothing: a message's payload is copied, or travels as a reference-counted
 * immutable binary. Links, monitors, trap_exit and exit signals follow Erlang.
 *
 * Conventions, for every function below:
 *   - Functions marked "process only" must be called from inside a process (any code
 *     running under tr_run()); called elsewhere they abort with a message.
 *   - Errors are negative TR_E* codes (see TR_ERRNO_MAP); tr_strerror() names them.
 *   - "Blocks" means blocks the calling *process*: its scheduler thread runs others.
 *   - Pointers returned to the caller are owned by the caller only where it says so.
 *   - Scheduling is cooperative: a process runs until it calls into the runtime
 *     (send, receive, yield, sleep, ...). A loop that never does holds its scheduler
 *     thread and cannot be killed until it does. docs/runtime.md lists every deliberate
 *     difference from Erlang.
 */
#ifndef TR_H
#define TR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TR_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

#define TR_ERRNO_MAP(X)                                                   \
    X(ENOPROC, -1, "no such process")                                     \
    X(ETIMEDOUT, -2, "timed out")                                         \
    X(EEXIST, -3, "already exists")                                       \
    X(EINVAL, -4, "invalid argument")                                     \
    X(ENOMEM, -5, "out of memory")                                        \
    X(EBADNAME, -6, "name is not registered")                             \
    X(EBUSY, -7, "resource busy")                                         \
    X(ESYS, -8, "system call failed (see errno)")                         \
    X(ELIMIT, -9, "process limit reached")

enum {
#define TR__ERR_ENUM(name, code, text) TR_##name = (code),
    TR_ERRNO_MAP(TR__ERR_ENUM)
#undef TR__ERR_ENUM
};

/* The text of a TR_E* code ("unknown error" for anything else). Never NULL. */
const char *tr_strerror(int err);

/* ---------------------------------------------------------------- identities */

/* A process identifier: a slot index in the low 32 bits, the slot's generation in the
 * high 32. A pid is never reused for another process during the runtime's life (a
 * slot's generation only grows), so a stale pid never reaches a new process. 0 is
 * never a pid. */
typedef uint64_t tr_pid;
#define TR_NOPID ((tr_pid)0)

/* A unique reference (Erlang's make_ref): unique for the runtime's life, never 0. */
typedef uint64_t tr_ref;

/* A handle on a tr_send_after() timer, for tr_cancel_timer(). Never 0. */
typedef uint64_t tr_timer;

/* Wait forever, as a timeout argument. */
#define TR_INFINITY ((int64_t)-1)

/* ---------------------------------------------------------------- exit reasons */

/* An exit reason: an immutable, reference-counted piece of text, like an Erlang atom
 * or term rendered as text ("normal", "killed", "signal SIGSEGV", "http 500").
 * The predefined reasons below are static and need no reference counting (ref/unref
 * accept them and do nothing). */
typedef struct tr_reason tr_reason;

extern const tr_reason tr__normal, tr__kill, tr__killed, tr__shutdown, tr__noproc,
    tr__stack_overflow, tr__timeout;
#define TR_NORMAL (&tr__normal)            /* the process returned, or exited normally */
#define TR_KILL (&tr__kill)                /* untrappable; reaches links as TR_KILLED */
#define TR_KILLED (&tr__killed)            /* the reason of a process ended by TR_KILL */
#define TR_SHUTDOWN (&tr__shutdown)        /* asked to stop by its supervisor */
#define TR_NOPROC (&tr__noproc)            /* the pid was dead when linked/monitored */
#define TR_STACK_OVERFLOW (&tr__stack_overflow) /* the process ran off its stack */
#define TR_TIMEOUT (&tr__timeout)          /* e.g. a gen_server call that timed out */

/* A new reason from printf-style text. Returns a reference the caller owns (release
 * with tr_reason_unref), or TR_KILLED's static reason "enomem" text if out of memory
 * (never NULL). */
tr_reason *tr_reason_new(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Another reference to r (returns r). Thread-safe. */
const tr_reason *tr_reason_ref(const tr_reason *r);
/* Drops a reference; frees the reason when it was the last. NULL is fine. */
void tr_reason_unref(const tr_reason *r);
/* The reason's text; valid while the caller holds a reference. */
const char *tr_reason_text(const tr_reason *r);
/* Whether two reasons have the same text. */
bool tr_reason_eq(const tr_reason *a, const tr_reason *b);
/* Whether r counts as a normal end for OTP's purposes: "normal", "shutdown", or text
 * starting with "shutdown " (Erlang's {shutdown, Term}). */
bool tr_reason_is_normal(const tr_reason *r);

/* ---------------------------------------------------------------- binaries */

/* A reference-counted immutable byte string, for large payloads (a downloaded page)
 * that travel between processes without a copy. Its data is always followed by a NUL
 * byte (not counted in len), so text can be used as a C string. */
typedef struct tr_bin tr_bin;

/* A binary holding a copy of data[0..len). Returns a reference the caller owns, or
 * NULL if out of memory. */
tr_bin *tr_bin_new(const void *data, size_t len);
/* A binary of len uninitialised bytes that the caller fills through tr_bin_wdata()
 * *before* sharing it. NULL if out of memory. */
tr_bin *tr_bin_alloc(size_t len);
/* Writable data of a binary that has not been shared yet (see tr_bin_alloc). */
void *tr_bin_wdata(tr_bin *b);
/* Shrinks an unshared binary's length to len (<= its length), e.g. after a short read. */
void tr_bin_truncate(tr_bin *b, size_t len);
/* Another reference to b (returns b). Thread-safe. */
tr_bin *tr_bin_ref(tr_bin *b);
/* Drops a reference; frees the binary when it was the last. NULL is fine. */
void tr_bin_unref(tr_bin *b);
const void *tr_bin_data(const tr_bin *b);
size_t tr_bin_len(const tr_bin *b);

/* ---------------------------------------------------------------- boot */

typedef void (*tr_fn)(void *arg);

typedef struct tr_config {
    int schedulers;       /* scheduler threads; 0 = $TR_SCHEDULERS, else one per online core */
    int blocking_threads; /* threads for tr_blocking(); 0 = 4 */
    size_t stack_size;    /* bytes of each scheduler's shared process stack; 0 = 1 MiB */
    int max_processes;    /* 0 = 4,194,304 */
    uint64_t seed;        /* 0 = random; the seed for tr_random() streams, printed by
                             tr_dump() so that a run can be reproduced */
    int spin_us;          /* how long an idle scheduler polls before it sleeps, and only
                             while another scheduler is busy (a hand-off to it is then
                             likely); 0 = $TR_SPIN_US, else 100; negative = never spin */
} tr_config;

/* Starts the runtime, runs root(arg) as the first process, and blocks the calling
 * thread until the root process has ended. Then every process still alive is killed
 * (exit reason TR_KILL), and once all are gone the runtime frees everything it holds
 * and returns. cfg may be NULL for defaults.
 * Returns 0 if the root process ended with a normal reason, 1 if not, or a negative
 * TR_E* code if the runtime could not start. If exit_reason is not NULL it receives
 * a reference to the root's exit reason (release it with tr_reason_unref).
 * Only one runtime may run at a time in an OS process; tr_run may be called again
 * after it returns. */
int tr_run(const tr_config *cfg, tr_fn root, void *arg, const tr_reason **exit_reason);

/* Whether the calling code runs inside a process. */
bool tr_in_process(void);

/* ---------------------------------------------------------------- processes */

/* Scheduling priority (Erlang's process priorities, two of its four levels). A runnable
 * high process runs before every normal one on its scheduler; high ones take turns. It
 * is still not preempted, nor does it preempt: it goes next when the running process
 * yields or blocks. Meant for the few service processes that many others wait on (an
 * I/O driver, a dispatcher): keep their work per message small, or normal ones starve. */
typedef enum tr_priority { TR_PRIORITY_NORMAL = 0, TR_PRIORITY_HIGH = 1 } tr_priority;

typedef struct tr_spawn_opts {
    const char *entry; /* label shown by introspection (static string); default "process" */
    bool link;         /* link the new process to the caller (spawn_link) */
    bool monitor;      /* monitor it; the monitor reference goes to *mref (spawn_monitor) */
    tr_priority priority; /* its priority from the start (spawn_opt {priority, P}) */
    /* Start it on the scheduler with the fewest processes rather than next on the
     * caller's. A started process never changes scheduler, so a spawner of many
     * independent workers uses this to share them out (see docs/runtime.md). */
    bool spread;
} tr_spawn_opts;

/* Starts a process running fn(arg). Process only. arg is handed over as is: it should
 * be memory the new process owns (processes share nothing). Returns the new pid, or 0
 * if the process limit is reached or memory is out (then nothing was started and the
 * link/monitor was not set up). Never blocks. */
tr_pid tr_spawn(tr_fn fn, void *arg);
tr_pid tr_spawn_link(tr_fn fn, void *arg);
tr_pid tr_spawn_monitor(tr_fn fn, void *arg, tr_ref *mref);
tr_pid tr_spawn_opt(tr_fn fn, void *arg, const tr_spawn_opts *opts, tr_ref *mref);

/* The calling process's pid. Process only. */
tr_pid tr_self(void);
/* The pid of the process that spawned the caller (0 for the root). Process only. */
tr_pid tr_parent(void);

/* Ends the calling process with reason r (a reference is taken; the caller need not
 * keep one). Links and monitors see r. Process only; does not return. */
_Noreturn void tr_exit(const tr_reason *r);
/* Ends the calling process with a new reason made from printf-style text: "let it
 * crash". Process only; does not return. */
_Noreturn void tr_crash(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* An assertion that, when false, crashes only the calling process, with the reason
 * "assertion failed: EXPR (file:line)". */
#define TR_ASSERT(expr) \
    ((expr) ? (void)0 : tr_crash("assertion failed: %s (%s:%d)", #expr, __FILE__, __LINE__))

/* Sends an exit signal with reason r to pid (Erlang's exit/2). TR_KILL cannot be
 * trapped and kills pid with reason TR_KILLED. TR_NORMAL is ignored by a process that
 * does not trap exits (unless pid is the caller itself). Any other reason kills a
 * non-trapping pid with that reason, or reaches a trapping one as a TR_MSG_EXIT
 * message. A dead pid is a silent no-op. Returns 0. Process only. */
int tr_exit_pid(tr_pid pid, const tr_reason *r);

/* Lets other processes run, then continues. Process only. */
void tr_yield(void);
/* Blocks the calling process for ms milliseconds (messages stay queued). Process only. */
void tr_sleep(int64_t ms);
/* Whether pid is a live process (it may die right after; use a monitor to know). */
bool tr_is_alive(tr_pid pid);

/* Registers fn(arg) to run when the calling process ends, however it ends (return,
 * exit, crash, kill), most recently registered first. It runs on the scheduler's own
 * stack after the process has stopped, so it may free memory and close descriptors
 * but must not call process-only functions. Returns 0 or TR_ENOMEM. Process only. */
int tr_on_exit(void (*fn)(void *arg), void *arg);

/* A pseudo-random 64-bit number from the calling process's own stream (seeded from
 * tr_config.seed and the pid, so a seeded run is reproducible). Process only. */
uint64_t tr_random(void);

/* ---------------------------------------------------------------- messages */

typedef enum tr_msg_kind {
    TR_MSG_USER = 0, /* sent with tr_send*; tag, ref, data/len, bin are the sender's */
    TR_MSG_EXIT = 1, /* an exit signal trapped by trap_exit: from died or exited us with reason */
    TR_MSG_DOWN = 2, /* a monitor fired: ref is the monitor ref, from the process, reason why */
} tr_msg_kind;

/* A received message. The receiver owns it and releases it with tr_msg_free(). */
typedef struct tr_msg {
    tr_msg_kind kind;
    uint64_t tag;            /* USER: the sender's tag */
    tr_ref ref;              /* USER: the sender's reference (0 if none); DOWN: the monitor's */
    tr_pid from;             /* USER: the sender; EXIT/DOWN: the process that ended or signalled */
    const tr_reason *reason; /* EXIT/DOWN: why; valid until tr_msg_free */
    const void *data;        /* USER: payload (copied, or the binary's bytes); NULL if len 0 */
    size_t len;
    tr_bin *bin;             /* USER: the binary if sent with tr_send_bin, else NULL;
                                take your own tr_bin_ref to keep it past tr_msg_free */
} tr_msg;

/* Tags at or above this value are reserved for the runtime and its behaviours. */
#define TR_TAG_RESERVED ((uint64_t)0xFFFF000000000000ull)

/* Sends a message with tag and a copy of data[0..len) to pid. Never blocks. Sending to
 * a dead pid (or 0) is a silent no-op, as in Erlang. Returns 0, or TR_ENOMEM (nothing
 * sent). Process only? No: may also be called from any thread while the runtime runs
 * (the sender is then 0). */
int tr_send(tr_pid to, uint64_t tag, const void *data, size_t len);
/* As tr_send, also carrying a reference (request/reply: the reply echoes the ref). */
int tr_send_ref(tr_pid to, uint64_t tag, tr_ref ref, const void *data, size_t len);
/* Sends a binary without copying its bytes: the message takes its own reference, the
 * caller keeps theirs. */
int tr_send_bin(tr_pid to, uint64_t tag, tr_ref ref, tr_bin *bin);
/* Reply through a monitor alias (Erlang's alias, as gen_server:call uses it): like
 * tr_send_ref / tr_send_bin with ref, but the message is dropped when it reaches the
 * receiver unless the receiver still holds the monitor ref (it has neither demonitored
 * it nor received its DOWN). A caller that monitors the server for a call, and gives up
 * by demonitoring, therefore never receives a late reply. Returns as tr_send. */
int tr_send_alias(tr_pid to, uint64_t tag, tr_ref ref, const void *data, size_t len);
int tr_send_alias_bin(tr_pid to, uint64_t tag, tr_ref ref, tr_bin *bin);
/* Sends to a registered name. Returns TR_EBADNAME if no process has that name. */
int tr_send_named(const char *name, uint64_t tag, const void *data, size_t len);

/* Receives the first message in the mailbox (arrival order), waiting up to timeout_ms
 * (0 = poll, TR_INFINITY = forever). Returns the message, owned by the caller, or NULL
 * if the time ran out. Blocks. Process only. */
tr_msg *tr_receive(int64_t timeout_ms);
/* Selective receive: the first message with kind USER and this tag; others stay
 * queued in order. */
tr_msg *tr_receive_tag(uint64_t tag, int64_t timeout_ms);
/* Selective receive of the first message whose ref is ref: a USER reply carrying it or
 * the DOWN of monitor ref. When ref is the reference the caller created most recently
 * (tr_make_ref or tr_monitor), messages queued before it was created are skipped
 * without being looked at (as Erlang's receive markers), so a request/reply round
 * trip costs the same however long the mailbox is. */
tr_msg *tr_receive_ref(tr_ref ref, int64_t timeout_ms);
/* Selective receive with a predicate: the first message for which match(msg, arg) is
 * true. match runs in the receiving process and must not receive or send. */
typedef bool (*tr_match_fn)(const tr_msg *msg, void *arg);
tr_msg *tr_receive_match(tr_match_fn match, void *arg, int64_t timeout_ms);
/* Releases a received message (and its payload, reason and binary reference). NULL ok. */
void tr_msg_free(tr_msg *msg);
/* Messages queued for the calling process (including ones not yet looked at). */
size_t tr_mailbox_len(void);

/* A new unique reference. Process only. */
tr_ref tr_make_ref(void);

/* ---------------------------------------------------------------- links and monitors */

/* Links the caller and pid: when either ends with a reason other than normal, the
 * other gets an exit signal with that reason (see tr_exit_pid for what it does).
 * Linking twice is one link. If pid is dead, returns TR_ENOPROC and, when the caller
 * traps exits, also queues an EXIT message with reason TR_NOPROC (the caller is not
 * killed: a difference from Erlang, where link/1 raises noproc). Process only. */
int tr_link(tr_pid pid);
/* Removes the link (both sides); no exit signal from pid due to it reaches the caller
 * after this returns. Returns 0 (also when there was no link). Process only. */
int tr_unlink(tr_pid pid);
/* Sets whether exit signals (except TR_KILL) become TR_MSG_EXIT messages instead of
 * ending the caller. Returns the previous setting. Process only. */
bool tr_trap_exit(bool on);

/* Sets the caller's scheduling priority (Erlang's process_flag(priority, P)); returns
 * the previous one. Process only; never blocks. Takes effect the next time the caller
 * is queued to run. */
tr_priority tr_set_priority(tr_priority p);

/* Monitors pid: when it ends (or if it is already dead) the caller gets one TR_MSG_DOWN
 * message with the returned ref and the reason (TR_NOPROC if it was dead). Process only. */
tr_ref tr_monitor(tr_pid pid);
/* Removes a monitor. After it returns no DOWN for ref is received, even one already
 * queued (Erlang's [flush] is always in effect). Returns true if the monitor was
 * active. Process only. */
bool tr_demonitor(tr_ref ref);

/* ---------------------------------------------------------------- registered names */

/* Registers name (copied; at most 63 bytes) for pid, which must be alive. A process has
 * at most one name; the name goes away when it dies. Returns 0, TR_EEXIST if the name
 * is taken or pid already has a name, TR_ENOPROC if pid is dead, TR_EINVAL for a bad
 * name. Thread-safe. */
int tr_register(const char *name, tr_pid pid);
/* Removes a registration. Returns 0 or TR_EBADNAME. */
int tr_unregister(const char *name);
/* The pid registered under name, or 0. */
tr_pid tr_whereis(const char *name);

/* ---------------------------------------------------------------- timers */

/* After ms milliseconds, sends to pid a message with tag and a copy of data (as
 * tr_send). Returns a handle for tr_cancel_timer, or 0 if out of memory. No thread per
 * timer: timers live in their scheduler's heap. Process only. */
tr_timer tr_send_after(int64_t ms, tr_pid to, uint64_t tag, const void *data, size_t len);
/* Cancels a timer. Returns the milliseconds that were left (>= 0) if it was pending,
 * or -1 if it had already fired or been cancelled. Any process may cancel. */
int64_t tr_cancel_timer(tr_timer t);
/* Monotonic milliseconds since an arbitrary point, as used for timeouts. */
int64_t tr_now_ms(void);

/* ---------------------------------------------------------------- I/O and blocking calls */

#define TR_READ 1u
#define TR_WRITE 2u

/* Blocks the calling process until fd is ready for any of events (TR_READ, TR_WRITE),
 * or timeout_ms passes, without blocking its scheduler (epoll on Linux). Returns the
 * ready events (> 0), 0 on timeout, or a negative TR_E* code (TR_ESYS: see errno).
 * Only one process at a time may wait on a given fd per scheduler (TR_EBUSY).
 * Process only. */
int tr_wait_fd(int fd, unsigned events, int64_t timeout_ms);

/* Asks for one message when fd becomes ready for events: the message has kind USER,
 * tag `tag`, and data a tr_fd_event. One-shot: ask again after each message. A second
 * request for the same fd replaces the first. Returns 0 or a negative TR_E* code.
 * Process only. (Erlang's enif_select, for processes that wait on many fds at once.) */
typedef struct tr_fd_event { int fd; unsigned events; } tr_fd_event;
int tr_select(int fd, unsigned events, uint64_t tag);
/* Cancels tr_select for fd (a message already queued stays queued). Returns 0. */
int tr_select_cancel(int fd);

/* Runs fn(arg) on a thread of the blocking pool (file I/O, SQLite, DNS) and blocks the
 * calling process until it returns, while other processes run. If size > 0, the
 * runtime copies arg[0..size) to its own memory for fn and copies it back after, so
 * arg may point into the caller's stack; pointers *inside* it must not (a process's
 * stack is not addressable by other threads while it waits). If size is 0, arg is
 * passed as is and must be heap or static memory. Exit signals that arrive meanwhile
 * take effect when fn has returned. Returns 0, or TR_ENOMEM. Process only. */
int tr_blocking(void (*fn)(void *arg), void *arg, size_t size);

/* ---------------------------------------------------------------- introspection */

typedef enum tr_proc_state {
    TR_PROC_RUNNABLE, /* queued to run */
    TR_PROC_RUNNING,  /* running on a scheduler */
    TR_PROC_WAITING,  /* blocked: receive, sleep, fd, blocking call */
    TR_PROC_EXITING,  /* ending */
} tr_proc_state;

/* A snapshot of one process, as an observer shows it. */
typedef struct tr_proc_info {
    tr_pid pid;
    tr_pid parent;
    tr_proc_state state;
    const char *waiting_in; /* "receive", "sleep", "fd", "blocking", or "" */
    const char *entry;      /* the spawn label (static) */
    char name[64];          /* registered name, or "" */
    size_t mailbox_len;     /* messages it has received but not taken (another process's
                               count omits those it has not looked at yet) */
    size_t memory;          /* bytes: process record, saved stack, queued messages */
    size_t links;
    size_t monitors;        /* monitors this process holds on others */
    size_t monitored_by;
    bool trap_exit;
    tr_priority priority;   /* as tr_set_priority */
    int scheduler;          /* the scheduler it runs on; -1 before it first runs, unless
                               it was spawned spread (then: where it was placed) */
} tr_proc_info;

/* Fills out[0..max) with snapshots of live processes (in pid order) and returns how
 * many processes are alive (which may be more than max). Thread-safe; values are a
 * moment's view. */
size_t tr_processes(tr_proc_info *out, size_t max);
/* The snapshot of one process. Returns 0 or TR_ENOPROC. */
int tr_process_info(tr_pid pid, tr_proc_info *out);
/* The pids linked to pid, into out[0..max); returns how many there are. */
size_t tr_process_links(tr_pid pid, tr_pid *out, size_t max);
/* Writes a text dump of every live process (one line each) and the schedulers. */
void tr_dump(FILE *f);

/* Runtime-wide counters. */
typedef struct tr_stats {
    size_t processes;       /* live now */
    uint64_t spawned;       /* since tr_run */
    uint64_t exited;
    int schedulers;
    size_t process_memory;  /* bytes held for live processes (records, stacks, mailboxes) */
} tr_stats;
void tr_get_stats(tr_stats *out);

#ifdef __cplusplus
}
#endif
#endif
