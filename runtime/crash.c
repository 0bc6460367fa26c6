/* crash.c -- "let it crash" for faults: a SIGSEGV, SIGBUS, SIGFPE or SIGILL raised
 * while a process runs ends only that process, with a reason naming the signal (or
 * stack_overflow when it ran into its scheduler's guard zone).
 *
 * The handler runs on the scheduler thread's alternate signal stack and never returns:
 * it switches straight back to the scheduler, which runs the process's exit path.
 * What cannot be contained (docs/runtime.md says so too): a fault inside code that
 * holds a lock or is half-way through updating shared state (malloc, stdio, the
 * runtime itself) leaves that state broken; memory the process corrupted before it
 * faulted stays corrupted; and a fault outside any process kills the OS process. */
#include "internal.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define NSIGS (sizeof sigs / sizeof sigs[0])
static struct sigaction saved[NSIGS];
#define ALTSTACK_SIZE (64 * 1024)

#define R(var, txt)                                                                   \
    static const struct {                                                             \
        _Atomic int refs;                                                             \
        char text[sizeof(txt)];                                                       \
    } var = {-1, txt};
R(r_segv, "signal SIGSEGV")
R(r_bus, "signal SIGBUS")
R(r_fpe, "signal SIGFPE")
R(r_ill, "signal SIGILL")
#undef R

static const tr_reason *reason_for(int sig) {
    switch (sig) {
    case SIGSEGV:
        return (const tr_reason *)&r_segv;
    case SIGBUS:
        return (const tr_reason *)&r_bus;
    case SIGFPE:
        return (const tr_reason *)&r_fpe;
    default:
        return (const tr_reason *)&r_ill;
    }
}

static void on_fault(int sig, siginfo_t *si, void *uctx) {
    (void)uctx;
    tr__sched *s = tr__tls_sched;
    tr__proc *p = s ? s->current : NULL;
    if (!p) {
        /* Not process code: nothing to contain. Die the ordinary way. */
        signal(sig, SIG_DFL);
        return; /* the instruction faults again, now fatally */
    }
    char *addr = si->si_addr;
    bool overflow = (sig == SIGSEGV || sig == SIGBUS) && addr >= s->map && addr < s->stack_lo;
    p->exit_reason = overflow ? TR_STACK_OVERFLOW : reason_for(sig);
    p->yield_kind = TR__Y_EXIT;
    void *dead_sp;
    tr__ctx_switch(&dead_sp, s->sp); /* to the scheduler, for good */
    abort();
}

int tr__crash_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NSIGS; i++)
        if (sigaction(sigs[i], &sa, &saved[i]) != 0) return TR_ESYS;
    return 0;
}

void tr__crash_uninstall(void) {
    for (size_t i = 0; i < NSIGS; i++) sigaction(sigs[i], &saved[i], NULL);
}

int tr__crash_thread_init(tr__sched *s) {
    s->altstack = malloc(ALTSTACK_SIZE);
    if (!s->altstack) return TR_ENOMEM;
    stack_t ss = {.ss_sp = s->altstack, .ss_size = ALTSTACK_SIZE, .ss_flags = 0};
    return sigaltstack(&ss, NULL) == 0 ? 0 : TR_ESYS;
}

void tr__crash_thread_fini(tr__sched *s) {
    stack_t ss = {.ss_flags = SS_DISABLE};
    sigaltstack(&ss, NULL);
    free(s->altstack);
    s->altstack = NULL;
}
