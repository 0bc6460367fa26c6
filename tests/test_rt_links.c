/* test_rt_links.c -- links, trap_exit, kill, exit signals and monitors. */
#include "rt_test.h"

enum { T_GO = 1, T_LINK_TO, T_READY, T_TRAPPED };

static char why[128];

/* Waits for T_GO, then ends with the reason text it carries ("normal" returns). */
static void die_on_go(void *arg) {
    (void)arg;
    tr_msg *m = tr_receive_tag(T_GO, TR_INFINITY);
    char reason[64];
    snprintf(reason, sizeof reason, "%.*s", (int)m->len, (const char *)m->data);
    tr_msg_free(m);
    if (strcmp(reason, "normal") == 0) return;
    if (strcmp(reason, "kill") == 0) tr_exit(TR_KILL);
    tr_crash("%s", reason);
}

/* Links to the pid it is sent, reports ready, then waits forever (a bystander). */
static void linker(void *arg) {
    bool trap = arg != NULL;
    tr_trap_exit(trap);
    tr_msg *m = tr_receive_tag(T_LINK_TO, TR_INFINITY);
    tr_pid target = *(const tr_pid *)m->data, boss = m->from;
    tr_msg_free(m);
    int rc = tr_link(target);
    tr_send(boss, T_READY, &rc, sizeof rc);
    for (;;) {
        m = tr_receive(TR_INFINITY);
        if (m->kind == TR_MSG_EXIT) {
            char buf[80];
            int n = snprintf(buf, sizeof buf, "%s", tr_reason_text(m->reason));
            tr_send(boss, T_TRAPPED, buf, (size_t)n + 1);
        }
        tr_msg_free(m);
    }
}

/* Starts a target and a linker (trapping or not) monitoring both; returns pids. */
static void setup(bool trap, tr_pid *target, tr_pid *lk, tr_ref *mt, tr_ref *ml) {
    *target = tr_spawn_monitor(die_on_go, NULL, mt);
    *lk = tr_spawn_monitor(linker, trap ? (void *)1 : NULL, ml);
    tr_send(*lk, T_LINK_TO, target, sizeof *target);
    tr_msg *m = tr_receive_tag(T_READY, 5000);
    CHECK(m && *(const int *)m->data == 0);
    tr_msg_free(m);
}

static void go(tr_pid p, const char *reason) { tr_send(p, T_GO, reason, strlen(reason)); }

static void abnormal_propagates_root(void *arg) {
    (void)arg;
    tr_pid t, l;
    tr_ref mt, ml;
    setup(false, &t, &l, &mt, &ml);
    go(t, "boom");
    CHECK(strcmp(rt_await_down(mt, why, sizeof why, 5000), "boom") == 0);
    CHECK(strcmp(rt_await_down(ml, why, sizeof why, 5000), "boom") == 0);
}

static void test_abnormal_exit_kills_linked_process_with_same_reason(void **s) {
    (void)s;
    rt_run(2, abnormal_propagates_root, NULL);
}

static void normal_does_not_propagate_root(void *arg) {
    (void)arg;
    tr_pid t, l;
    tr_ref mt, ml;
    setup(false, &t, &l, &mt, &ml);
    go(t, "normal");
    CHECK(strcmp(rt_await_down(mt, why, sizeof why, 5000), "normal") == 0);
    CHECK(tr_receive_ref(ml, 200) == NULL); /* the linker lives on */
    CHECK(tr_is_alive(l));
    tr_exit_pid(l, TR_KILL);
    CHECK(strcmp(rt_await_down(ml, why, sizeof why, 5000), "killed") == 0);
}

static void test_normal_exit_does_not_kill_linked_process(void **s) {
    (void)s;
    rt_run(2, normal_does_not_propagate_root, NULL);
}

static void trap_root(void *arg) {
    (void)arg;
    tr_pid t, l;
    tr_ref mt, ml;
    setup(true, &t, &l, &mt, &ml);
    go(t, "boom");
    CHECK(strcmp(rt_await_down(mt, why, sizeof why, 5000), "boom") == 0);
    tr_msg *m = tr_receive_tag(T_TRAPPED, 5000);
    CHECK(m && strcmp(m->data, "boom") == 0);
    tr_msg_free(m);
    CHECK(tr_is_alive(l));

    /* kill cannot be trapped, and a killed process's links see "killed" */
    tr_pid t2, l2;
    tr_ref mt2, ml2;
    setup(true, &t2, &l2, &mt2, &ml2);
    tr_exit_pid(t2, TR_KILL);
    CHECK(strcmp(rt_await_down(mt2, why, sizeof why, 5000), "killed") == 0);
    m = tr_receive_tag(T_TRAPPED, 5000);
    CHECK(m && strcmp(m->data, "killed") == 0);
    tr_msg_free(m);
    tr_exit_pid(l2, TR_KILL); /* the trapping linker itself: kill wins over trap_exit */
    CHECK(strcmp(rt_await_down(ml2, why, sizeof why, 5000), "killed") == 0);

    /* exit(kill) from inside: links get "killed", trappable */
    tr_pid t3, l3;
    tr_ref mt3, ml3;
    setup(true, &t3, &l3, &mt3, &ml3);
    go(t3, "kill");
    CHECK(strcmp(rt_await_down(mt3, why, sizeof why, 5000), "killed") == 0);
    m = tr_receive_tag(T_TRAPPED, 5000);
    CHECK(m && strcmp(m->data, "killed") == 0);
    tr_msg_free(m);
    tr_exit_pid(l, TR_KILL);
    tr_exit_pid(l3, TR_KILL);
}

static void test_trap_exit_turns_signals_into_messages_but_not_kill(void **s) {
    (void)s;
    rt_run(2, trap_root, NULL);
}

static void exit_signal_root(void *arg) {
    (void)arg;
    tr_ref r;
    tr_pid p = tr_spawn_monitor(rt_wait_any, NULL, &r);
    tr_sleep(10);
    tr_exit_pid(p, TR_NORMAL); /* ignored by a process that does not trap exits */
    CHECK(tr_receive_ref(r, 100) == NULL);
    tr_exit_pid(p, TR_SHUTDOWN);
    CHECK(strcmp(rt_await_down(r, why, sizeof why, 5000), "shutdown") == 0);

    /* a trapping process gets exit/2 as a message, with the sender */
    tr_trap_exit(true);
    tr_exit_pid(tr_self(), TR_SHUTDOWN);
    tr_msg *m = tr_receive(1000);
    CHECK(m && m->kind == TR_MSG_EXIT && m->from == tr_self() && strcmp(tr_reason_text(m->reason), "shutdown") == 0);
    tr_msg_free(m);
    tr_trap_exit(false);
}

static void test_exit_pid_normal_is_ignored_other_reasons_kill(void **s) {
    (void)s;
    rt_run(2, exit_signal_root, NULL);
}

static void timeout_waiter(void *arg) {
    (void)arg;
    tr_receive_tag(777, 10000); /* a long receive timeout */
}

static void kill_during_timeout_root(void *arg) {
    (void)arg;
    tr_ref r;
    tr_pid p = tr_spawn_monitor(timeout_waiter, NULL, &r);
    tr_sleep(20);
    int64_t t0 = tr_now_ms();
    tr_reason *stop = tr_reason_new("stop now");
    tr_exit_pid(p, stop);
    tr_reason_unref(stop);
    CHECK(strcmp(rt_await_down(r, why, sizeof why, 5000), "stop now") == 0);
    CHECK(tr_now_ms() - t0 < 1000); /* it did not sit out its timeout */
}

static void test_exit_signal_during_receive_timeout_acts_at_once(void **s) {
    (void)s;
    rt_run(2, kill_during_timeout_root, NULL);
}

static void unlink_root(void *arg) {
    (void)arg;
    tr_trap_exit(true);
    tr_ref r;
    tr_pid t = tr_spawn_monitor(die_on_go, NULL, &r);
    CHECK(tr_link(t) == 0);
    CHECK(tr_unlink(t) == 0);
    go(t, "boom");
    CHECK(strcmp(rt_await_down(r, why, sizeof why, 5000), "boom") == 0);
    CHECK(tr_receive(100) == NULL); /* no EXIT after unlink */

    /* linking to a dead pid: noproc, as an EXIT message when trapping */
    CHECK(tr_link(t) == TR_ENOPROC);
    tr_msg *m = tr_receive(1000);
    CHECK(m && m->kind == TR_MSG_EXIT && m->from == t && strcmp(tr_reason_text(m->reason), "noproc") == 0);
    tr_msg_free(m);
}

static void test_unlink_and_link_to_dead_pid(void **s) {
    (void)s;
    rt_run(2, unlink_root, NULL);
}

static void spawn_link_root(void *arg) {
    (void)arg;
    /* a crash in a spawn_linked child takes its non-trapping parent down */
    tr_pid c = tr_spawn_link(die_on_go, NULL);
    go(c, "child crashed");
    tr_receive_tag(999, 5000);
    CHECK(!"not reached: the link should have killed us");
}

static void test_spawn_link_crash_takes_parent_down(void **s) {
    (void)s;
    rt_run_expect(2, spawn_link_root, NULL, "child crashed");
}

/* ---------------------------------------------------------------- monitors */

static void monitor_root(void *arg) {
    (void)arg;
    tr_pid p = tr_spawn(die_on_go, NULL);
    tr_ref r1 = tr_monitor(p), r2 = tr_monitor(p);
    CHECK(r1 != r2);
    go(p, "bye");
    tr_msg *m = tr_receive_ref(r2, 5000);
    CHECK(m && m->kind == TR_MSG_DOWN && m->from == p && strcmp(tr_reason_text(m->reason), "bye") == 0);
    tr_msg_free(m);
    CHECK(strcmp(rt_await_down(r1, why, sizeof why, 5000), "bye") == 0);

    /* monitoring a dead pid: DOWN noproc at once */
    tr_ref r3 = tr_monitor(p);
    m = tr_receive_ref(r3, 0);
    CHECK(m && m->kind == TR_MSG_DOWN && strcmp(tr_reason_text(m->reason), "noproc") == 0);
    tr_msg_free(m);

    /* demonitor: no DOWN ever, even when the process dies right after */
    tr_pid q = tr_spawn(die_on_go, NULL);
    tr_ref r4 = tr_monitor(q);
    CHECK(tr_demonitor(r4) == true);
    go(q, "gone");
    tr_ref r5 = tr_monitor(q);
    rt_await_down(r5, why, sizeof why, 5000);
    CHECK(tr_receive_ref(r4, 100) == NULL);

    /* demonitor after the DOWN was queued flushes it */
    tr_pid w = tr_spawn(die_on_go, NULL);
    tr_ref r6 = tr_monitor(w), r7 = tr_monitor(w);
    go(w, "x");
    rt_await_down(r7, why, sizeof why, 5000);
    tr_sleep(50); /* r6's DOWN follows r7's (a dying process sends them in no set order) */
    CHECK(tr_demonitor(r6) == false);
    CHECK(tr_receive_ref(r6, 0) == NULL);
    CHECK(tr_mailbox_len() == 0);
}

static void test_monitors_down_noproc_and_demonitor(void **s) {
    (void)s;
    rt_run(2, monitor_root, NULL);
}

/* a chain of linked processes: killing the head takes every one down */
static void chain_member(void *arg) {
    tr_pid prev = (tr_pid)(uintptr_t)arg;
    if (prev) tr_link(prev);
    tr_send(tr_parent(), T_READY, NULL, 0); /* linked: the next one may start */
    tr_receive_tag(12345, TR_INFINITY);
}

static void cascade_root(void *arg) {
    long n = (long)(intptr_t)arg;
    tr_pid head = tr_spawn(chain_member, NULL), prev = head;
    tr_msg_free(tr_receive_tag(T_READY, TR_INFINITY));
    for (long i = 1; i < n; i++) {
        prev = tr_spawn(chain_member, (void *)(uintptr_t)prev);
        tr_msg_free(tr_receive_tag(T_READY, TR_INFINITY));
    }
    tr_ref r = tr_monitor(prev);
    tr_exit_pid(head, TR_KILL);
    CHECK(strcmp(rt_await_down(r, why, sizeof why, 60000), "killed") == 0);
    tr_stats st;
    for (int i = 0; i < 100; i++) { /* the DOWN can overtake the last exits' bookkeeping */
        tr_get_stats(&st);
        if (st.processes == 1) break;
        tr_sleep(10);
    }
    CHECK(st.processes == 1);
}

static void test_link_cascade_kills_whole_chain(void **s) {
    (void)s;
    rt_run(2, cascade_root, (void *)(intptr_t)rt_scaled(100000));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_abnormal_exit_kills_linked_process_with_same_reason),
        cmocka_unit_test(test_normal_exit_does_not_kill_linked_process),
        cmocka_unit_test(test_trap_exit_turns_signals_into_messages_but_not_kill),
        cmocka_unit_test(test_exit_pid_normal_is_ignored_other_reasons_kill),
        cmocka_unit_test(test_exit_signal_during_receive_timeout_acts_at_once),
        cmocka_unit_test(test_unlink_and_link_to_dead_pid),
        cmocka_unit_test(test_spawn_link_crash_takes_parent_down),
        cmocka_unit_test(test_monitors_down_noproc_and_demonitor),
        cmocka_unit_test(test_link_cascade_kills_whole_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
