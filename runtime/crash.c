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
#include <ucontext.h>
#include <stdlib.h>
#include <string.h>

static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
#define NSIGS (sizeof sigs / sizeof sigs[0])
static struct sigaction saved[NSIGS];
#define ALTSTACK_SIZE (64 * 1024)

static const tr_reason r_segv = TR__STATIC_REASON("signal SIGSEGV");
static const tr_reason r_bus = TR__STATIC_REASON("signal SIGBUS");
static const tr_reason r_fpe = TR__STATIC_REASON("signal SIGFPE");
static const tr_reason r_ill = TR__STATIC_REASON("signal SIGILL");

static const tr_reason *reason_for(int sig) {
    switch (sig) {
    case SIGSEGV:
        return &r_segv;
    case SIGBUS:
        return &r_bus;
    case SIGFPE:
        return &r_fpe;
    default:
        return &r_ill;
    }
}

static void on_fault(int sig, siginfo_t *si, void *uctx) {
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
    /* Return from the handler into the scheduler: when the kernel restores this
     * context, execution continues in the second half of the context switch, on the
     * scheduler's stack, as if the process had switched out. Leaving the handler the
     * ordinary way keeps the signal machinery (and ThreadSanitizer's view) sound. */
    ucontext_t *uc = uctx;
#if defined(__x86_64__)
    uc->uc_mcontext.gregs[REG_RSP] = (greg_t)(uintptr_t)s->sp;
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)tr__ctx_restore;
#elif defined(__aarch64__)
    uc->uc_mcontext.sp = (uint64_t)(uintptr_t)s->sp;
    uc->uc_mcontext.pc = (uint64_t)(uintptr_t)tr__ctx_restore;
#else
#error "trawl runtime: crash containment needs this architecture's context layout"
#endif
}

int tr__crash_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
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
