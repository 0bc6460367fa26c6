/* crash.c -- let it crash: processes that fault (a bad pointer, a runaway recursion, a
 * failed assertion) end alone, with a reason their monitor can read, and the program
 * carries on.   build/examples/crash                                                 */
#include <stdint.h>
#include <stdio.h>
#include <tr.h>

static volatile uintptr_t bad_pointer = 16;
static volatile int depth_limit = 1 << 30; /* never reached: the stack ends first */

static int recurse(volatile char *prev, int depth) {
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[511] = prev ? prev[0] : 0;
    if (depth >= depth_limit) return 0;
    return recurse(frame, depth + 1) + frame[3];
}

static void bad_write(void *arg) { (void)arg; *(volatile int *)bad_pointer = 1; }
static void runaway(void *arg) { (void)arg; recurse(NULL, 0); }
static void wrong(void *arg) { (void)arg; TR_ASSERT(1 + 1 == 3); }

static void root(void *arg) {
    (void)arg;
    tr_fn victims[] = {bad_write, runaway, wrong};
    const char *names[] = {"bad_write", "runaway", "wrong"};
    for (int i = 0; i < 3; i++) {
        tr_ref mon;
        tr_spawn_monitor(victims[i], NULL, &mon);
        tr_msg *down = tr_receive_ref(mon, 10000);
        printf("%-9s ended: %s\n", names[i], down ? tr_reason_text(down->reason) : "(no DOWN)");
        tr_msg_free(down);
    }
    printf("still here\n");
}

int main(void) { return tr_run(NULL, root, NULL, NULL); }
