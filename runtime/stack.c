/* stack.c -- each scheduler's shared process stack, and copying frames on and off it.
 *
 * Every process of a scheduler runs on the same stack. When the scheduler is about to
 * run a process other than the one whose frames are on the stack (the "owner"), it
 * first copies the owner's used bytes, [owner->sp, stack_hi), to the owner's heap
 * copy, then copies the new process's saved bytes back to the same addresses. A
 * process that switches out and back in with nobody running in between costs no copy.
 * Why: an idle process then holds only the few hundred bytes its frames use, instead
 * of a page-rounded stack of its own and two kernel mappings (with a guard page each,
 * a million processes would pass Linux's default limit of 65,530 mappings).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define TR__ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TR__ASAN 1
#endif
#endif
#ifdef TR__ASAN
#include <sanitizer/asan_interface.h>
#define TR__UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define TR__UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define TR__GUARD (64 * 1024) /* large enough that a big frame cannot jump over it */

int tr__stack_init(tr__sched *s, size_t size) {
    size_t page = tr__rt.page;
    size = (size + page - 1) & ~(page - 1);
    s->guard_len = TR__GUARD;
    s->map_len = size + s->guard_len;
    s->map = mmap(NULL, s->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                  -1, 0);
    if (s->map == MAP_FAILED) {
        s->map = NULL;
        return TR_ENOMEM;
    }
    if (mprotect(s->map, s->guard_len, PROT_NONE) != 0) {
        munmap(s->map, s->map_len);
        s->map = NULL;
        return TR_ESYS;
    }
    s->stack_lo = s->map + s->guard_len;
    s->stack_hi = s->map + s->map_len;
    s->stack_owner = NULL;
    return 0;
}

void tr__stack_destroy(tr__sched *s) {
    if (s->map) munmap(s->map, s->map_len);
    s->map = NULL;
}

/* Lays out a first frame for tr__ctx_switch to "return" into tr__proc_entry. */
static void *initial_frame(char *hi) {
    extern void tr__proc_entry(void);
    uintptr_t top = (uintptr_t)hi & ~(uintptr_t)15;
#if defined(__x86_64__)
    uint64_t *f = (uint64_t *)(top - 80);
    memset(f, 0, 80);
    f[0] = 0x1F80u | ((uint64_t)0x037Fu << 32); /* MXCSR, x87 control word */
    f[7] = (uint64_t)(uintptr_t)tr__proc_entry; /* after r15..rbp */
    return f;
#elif defined(__aarch64__)
    uint64_t *f = (uint64_t *)(top - 176);
    memset(f, 0, 176);
    f[11] = (uint64_t)(uintptr_t)tr__proc_entry; /* x30 */
    return f;
#else
#error "trawl runtime: no context switch for this architecture yet"
#endif
}

static int save_owner(tr__sched *s) {
    tr__proc *o = s->stack_owner;
    size_t len = (size_t)(s->stack_hi - (char *)o->sp);
    if (len > o->stack_cap) {
        size_t cap = (len + 255) & ~(size_t)255;
        char *c = realloc(o->stack_copy, cap);
        if (!c) return TR_ENOMEM;
        o->stack_copy = c;
        __atomic_store_n(&o->stack_cap, (uint32_t)cap, __ATOMIC_RELAXED); /* observers read it */
    }
    TR__UNPOISON(o->sp, len);
    memcpy(o->stack_copy, o->sp, len);
    o->stack_len = (uint32_t)len;
    o->on_stack = false;
    return 0;
}

void tr__stack_switch_in(tr__sched *s, tr__proc *p) {
    if (s->stack_owner == p) return;
    if (s->stack_owner && save_owner(s) != 0) {
        /* No memory to keep the owner's frames: it cannot go on. Its record stays
         * valid; it is ended with a reason that says why. */
        tr__proc *o = s->stack_owner;
        o->crashed = true;
        o->on_stack = false;
    }
    if (!p->started) {
        p->sp = initial_frame(s->stack_hi);
    } else if (p->stack_len) {
        memcpy(s->stack_hi - p->stack_len, p->stack_copy, p->stack_len);
        /* An idle process keeps only what it used: give back a large copy buffer. */
        if (p->stack_cap > 4096 && p->stack_len < p->stack_cap / 4) {
            free(p->stack_copy);
            p->stack_copy = NULL;
            __atomic_store_n(&p->stack_cap, 0, __ATOMIC_RELAXED);
        }
    }
    p->on_stack = true;
    s->stack_owner = p;
}

void tr__stack_release(tr__sched *s, tr__proc *p) {
    if (s && s->stack_owner == p) {
        /* Frames that never returned (a crash, a kill) may leave ASan's poison behind. */
        TR__UNPOISON(s->stack_lo, (size_t)(s->stack_hi - s->stack_lo));
        s->stack_owner = NULL;
    }
    free(p->stack_copy);
    p->stack_copy = NULL;
    p->stack_len = 0;
    __atomic_store_n(&p->stack_cap, 0, __ATOMIC_RELAXED);
    p->on_stack = false;
}
