/* test_rt_process.c -- processes, pids, messages and selective receive, names. */
#include "rt_test.h"

enum { T_A = 1, T_B, T_C, T_PID, T_DATA, T_ECHO };

/* ---------------------------------------------------------------- spawn and pids */

static void report_parent(void *arg) {
    tr_pid to = *(tr_pid *)arg;
    free(arg);
    tr_pid me = tr_self(), parent = tr_parent();
    tr_pid both[2] = {me, parent};
    tr_send(to, T_PID, both, sizeof both);
}

static void spawn_root(void *arg) {
    (void)arg;
    tr_pid *a = malloc(sizeof *a);
    *a = tr_self();
    tr_pid child = tr_spawn(report_parent, a);
    CHECK(child != 0 && child != tr_self());
    tr_msg *m = tr_receive_tag(T_PID, 5000);
    CHECK(m != NULL);
    if (!m) return;
    const tr_pid *both = m->data;
    CHECK(both[0] == child);
    CHECK(both[1] == tr_self());
    CHECK(m->from == child);
    tr_msg_free(m);
}

static void test_spawn_runs_function_with_arg_and_parent(void **state) {
    (void)state;
    rt_run(2, spawn_root, NULL);
}

static void count_msgs(void *arg) {
    tr_pid reply = *(tr_pid *)arg;
    free(arg);
    tr_msg *m = tr_receive(300);
    int got = m ? 1 : 0;
    tr_msg_free(m);
    tr_send(reply, T_C, &got, sizeof got);
}

static void stale_root(void *arg) {
    (void)arg;
    /* A pid whose process has ended is never given to another: a message to it is
     * dropped, even when the slot is reused right away. */
    tr_ref r;
    tr_pid old = tr_spawn_monitor(rt_wait_any, NULL, &r);
    tr_send(old, T_A, NULL, 0);
    char why[64];
    CHECK(strcmp(rt_await_down(r, why, sizeof why, 5000), "normal") == 0);
    CHECK(!tr_is_alive(old));
    CHECK(tr_send(old, T_A, "x", 1) == 0); /* silent no-op, as in Erlang */
    int reused = 0;
    for (int i = 0; i < 50; i++) {
        tr_pid *a = malloc(sizeof *a);
        *a = tr_self();
        tr_pid fresh = tr_spawn(count_msgs, a);
        CHECK(fresh != old);
        if ((uint32_t)fresh == (uint32_t)old) reused++;
        tr_send(old, T_A, "stale", 5);
        tr_msg *m = tr_receive_tag(T_C, 5000);
        CHECK(m && *(const int *)m->data == 0);
        tr_msg_free(m);
    }
    CHECK(reused > 0); /* the slot was reused, and still nothing leaked through */
}

static void test_stale_pid_never_reaches_new_process(void **state) {
    (void)state;
    rt_run(1, stale_root, NULL);
}

/* ---------------------------------------------------------------- messages */

static void copy_root(void *arg) {
    (void)arg;
    char buf[16] = "original";
    tr_send(tr_self(), T_DATA, buf, sizeof buf);
    strcpy(buf, "changed");
    tr_msg *m = tr_receive_tag(T_DATA, 0);
    CHECK(m && strcmp(m->data, "original") == 0 && m->data != (const void *)buf);
    tr_msg_free(m);

    tr_bin *b = tr_bin_new("a page of bytes", 15);
    tr_send_bin(tr_self(), T_DATA, 0, b);
    m = tr_receive_tag(T_DATA, 0);
    CHECK(m && m->bin == b && m->data == tr_bin_data(b) && m->len == 15); /* shared, not copied */
    tr_msg_free(m);
    tr_bin_unref(b);

    CHECK(tr_send(0, T_A, NULL, 0) == 0);
    CHECK(tr_receive(0) == NULL);
}

static void test_send_copies_and_binaries_are_shared(void **state) {
    (void)state;
    rt_run(2, copy_root, NULL);
}

static bool is_even_tag(const tr_msg *m, void *arg) {
    (void)arg;
    return m->kind == TR_MSG_USER && m->tag % 2 == 0;
}

static void selective_root(void *arg) {
    (void)arg;
    tr_pid me = tr_self();
    for (uint64_t t = 1; t <= 6; t++) tr_send(me, t, &t, sizeof t);
    CHECK(tr_mailbox_len() == 6);
    tr_msg *m = tr_receive_tag(4, 0);
    CHECK(m && m->tag == 4);
    tr_msg_free(m);
    m = tr_receive_match(is_even_tag, NULL, 0);
    CHECK(m && m->tag == 2); /* first match in arrival order */
    tr_msg_free(m);
    uint64_t order[4], k = 0;
    while ((m = tr_receive(0)) && k < 4) {
        order[k++] = m->tag;
        tr_msg_free(m);
    }
    tr_msg_free(m);
    CHECK(k == 4 && order[0] == 1 && order[1] == 3 && order[2] == 5 && order[3] == 6);
    CHECK(tr_mailbox_len() == 0);

    int64_t t0 = tr_now_ms();
    CHECK(tr_receive_tag(99, 100) == NULL);
    int64_t waited = tr_now_ms() - t0;
    CHECK(waited >= 99 && waited < 2000);
}

static void test_selective_receive_keeps_order_and_times_out(void **state) {
    (void)state;
    rt_run(2, selective_root, NULL);
}

static void echo(void *arg) {
    (void)arg;
    for (;;) {
        tr_msg *m = tr_receive(TR_INFINITY);
        tr_send_ref(m->from, T_ECHO, m->ref, m->data, m->len);
        tr_msg_free(m);
    }
}

static void marker_root(void *arg) {
    (void)arg;
    tr_pid e = tr_spawn_link(echo, NULL);
    for (int i = 0; i < 10000; i++) tr_send(tr_self(), T_A, &i, sizeof i);
    for (int i = 0; i < 100; i++) {
        tr_ref r = tr_make_ref();
        tr_send_ref(e, T_B, r, &i, sizeof i);
        tr_msg *m = tr_receive_ref(r, 5000);
        CHECK(m && m->ref == r && *(const int *)m->data == i);
        tr_msg_free(m);
    }
    CHECK(tr_mailbox_len() == 10000); /* the junk is still there, in order */
    tr_msg *first = tr_receive(0);
    CHECK(first && *(const int *)first->data == 0);
    tr_msg_free(first);
    tr_unlink(e);
    tr_exit_pid(e, TR_KILL);
}

static void test_receive_by_ref_skips_older_messages(void **state) {
    (void)state;
    rt_run(2, marker_root, NULL);
}

/* Replies through a monitor alias: delivered while the monitor is held, dropped once
 * it is gone (demonitor, or its DOWN received). */
static void alias_replier(void *arg) {
    (void)arg;
    for (;;) {
        tr_msg *m = tr_receive(TR_INFINITY);
        tr_sleep(*(const int *)m->data); /* answer after the given delay */
        tr_send_alias(m->from, T_ECHO, m->ref, "late", 4);
        tr_msg_free(m);
    }
}

static void alias_root(void *arg) {
    (void)arg;
    tr_pid r = tr_spawn_link(alias_replier, NULL);
    int now = 0, later = 100;
    tr_ref mon = tr_monitor(r);
    tr_send_ref(r, T_A, mon, &now, sizeof now);
    tr_msg *m = tr_receive_ref(mon, 5000);
    CHECK(m && m->kind == TR_MSG_USER && m->len == 4); /* held: delivered */
    tr_msg_free(m);
    tr_send_ref(r, T_A, mon, &later, sizeof later);
    CHECK(tr_receive_ref(mon, 10) == NULL); /* give up, as a timed-out call does */
    tr_demonitor(mon);
    tr_sleep(300);
    CHECK(tr_mailbox_len() == 0); /* the late reply was dropped on arrival */
    tr_unlink(r);
    tr_exit_pid(r, TR_KILL);
}

static void test_alias_reply_dropped_after_demonitor(void **state) {
    (void)state;
    rt_run(2, alias_root, NULL);
}

/* ---------------------------------------------------------------- many senders */

#define SENDERS 8
#define PER_SENDER 20000

static void sender(void *arg) {
    tr_pid to = *(tr_pid *)arg;
    free(arg);
    for (int i = 0; i < PER_SENDER; i++) tr_send(to, T_A, &i, sizeof i);
}

static void fan_in_root(void *arg) {
    (void)arg;
    tr_pid senders[SENDERS];
    int next[SENDERS] = {0};
    for (int s = 0; s < SENDERS; s++) {
        tr_pid *a = malloc(sizeof *a);
        *a = tr_self();
        senders[s] = tr_spawn(sender, a);
    }
    long total = 0, out_of_order = 0;
    while (total < (long)SENDERS * PER_SENDER) {
        tr_msg *m = tr_receive(10000);
        if (!m) break;
        for (int s = 0; s < SENDERS; s++)
            if (m->from == senders[s]) {
                if (*(const int *)m->data != next[s]) out_of_order++;
                next[s] = *(const int *)m->data + 1;
            }
        total++;
        tr_msg_free(m);
    }
    CHECK(total == (long)SENDERS * PER_SENDER);
    CHECK(out_of_order == 0); /* FIFO per sender, as Erlang guarantees */
}

static void test_many_senders_on_all_schedulers_one_mailbox(void **state) {
    (void)state;
    rt_run(2, fan_in_root, NULL);
}

/* ---------------------------------------------------------------- names */

static void names_root(void *arg) {
    (void)arg;
    tr_ref r;
    tr_pid p = tr_spawn_monitor(echo, NULL, &r);
    CHECK(tr_register("echo", p) == 0);
    CHECK(tr_register("echo", tr_self()) == TR_EEXIST);
    CHECK(tr_register("other", p) == TR_EEXIST); /* one name per process */
    CHECK(tr_whereis("echo") == p);
    CHECK(tr_send_named("echo", T_A, "hi", 2) == 0);
    tr_msg *m = tr_receive_tag(T_ECHO, 5000);
    CHECK(m && m->len == 2 && memcmp(m->data, "hi", 2) == 0);
    tr_msg_free(m);
    CHECK(tr_send_named("nobody", T_A, NULL, 0) == TR_EBADNAME);
    CHECK(tr_register("", p) == TR_EINVAL);
    tr_exit_pid(p, TR_KILL);
    char why[64];
    CHECK(strcmp(rt_await_down(r, why, sizeof why, 5000), "killed") == 0);
    CHECK(tr_whereis("echo") == 0); /* the name dies with its process */
    CHECK(tr_register("echo", tr_self()) == 0);
    CHECK(tr_unregister("echo") == 0 && tr_whereis("echo") == 0);
    CHECK(tr_unregister("echo") == TR_EBADNAME);
    CHECK(tr_register("ghost", p) == TR_ENOPROC);
}

static void test_registered_names(void **state) {
    (void)state;
    rt_run(2, names_root, NULL);
}

/* ---------------------------------------------------------------- yield and boot */

static _Atomic long ticks_a, ticks_b;

static void spinner(void *arg) {
    _Atomic long *t = arg;
    for (;;) {
        atomic_fetch_add(t, 1);
        tr_yield();
    }
}

static void yield_root(void *arg) {
    (void)arg;
    atomic_store(&ticks_a, 0);
    atomic_store(&ticks_b, 0);
    tr_pid a = tr_spawn_link(spinner, &ticks_a), b = tr_spawn_link(spinner, &ticks_b);
    tr_sleep(100);
    CHECK(atomic_load(&ticks_a) > 100 && atomic_load(&ticks_b) > 100);
    (void)a;
    (void)b;
    tr_exit(TR_SHUTDOWN); /* the linked spinners go with it */
}

static void test_yield_lets_others_run_on_one_scheduler(void **state) {
    (void)state;
    rt_run_expect(1, yield_root, NULL, "shutdown");
}

static _Atomic int cleanups;
static void bump(void *arg) { atomic_fetch_add((_Atomic int *)arg, 1); }

static void lingerer(void *arg) {
    (void)arg;
    tr_on_exit(bump, &cleanups);
    tr_receive_tag(12345, TR_INFINITY);
}

static void leave_behind_root(void *arg) {
    (void)arg;
    for (int i = 0; i < 100; i++) tr_spawn(lingerer, NULL);
    tr_sleep(10);
    tr_crash("the root gives up: %d", 42);
}

static void test_run_returns_root_reason_and_kills_the_rest(void **state) {
    (void)state;
    atomic_store(&cleanups, 0);
    rt_run_expect(2, leave_behind_root, NULL, "the root gives up: 42");
    assert_int_equal(atomic_load(&cleanups), 100); /* every leftover was killed and cleaned */
    rt_run(1, spawn_root, NULL);                   /* and the runtime starts again */
}

static void info_root(void *arg) {
    (void)arg;
    tr_pid e = tr_spawn_link(echo, NULL);
    tr_register("info_echo", e);
    for (int i = 0; i < 3; i++) tr_send(e, 0xbeef, NULL, 0); /* echo answers, we don't read */
    tr_sleep(20);
    tr_proc_info in;
    CHECK(tr_process_info(e, &in) == 0);
    CHECK(strcmp(in.name, "info_echo") == 0 && in.links == 1 && in.state == TR_PROC_WAITING);
    CHECK(strcmp(in.waiting_in, "receive") == 0 && in.memory > 0 && in.parent == tr_self());
    CHECK(tr_process_info(tr_self(), &in) == 0 && in.mailbox_len == 3 && in.state == TR_PROC_RUNNING);
    tr_pid links[4];
    CHECK(tr_process_links(tr_self(), links, 4) == 1 && links[0] == e);
    tr_proc_info all[8];
    CHECK(tr_processes(all, 8) == 2);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    tr_dump(f);
    fclose(f);
    CHECK(strstr(text, "info_echo") != NULL && strstr(text, "root") != NULL);
    free(text);
    tr_unlink(e);
    tr_exit_pid(e, TR_KILL);
}

static void test_introspection_lists_processes(void **state) {
    (void)state;
    rt_run(2, info_root, NULL);
}

/* ---------------------------------------------------------------- priority and placement */

static char order_log[64];
static _Atomic int order_len;
static void order_put(char c) {
    int i = atomic_fetch_add(&order_len, 1);
    if (i < (int)sizeof order_log) order_log[i] = c;
}

static void normal_worker(void *arg) { /* runs in turns with the others */
    (void)arg;
    for (int i = 0; i < 4; i++) {
        order_put('n');
        tr_yield();
    }
}

static void high_waiter(void *arg) {
    (void)arg;
    CHECK(tr_set_priority(TR_PRIORITY_HIGH) == TR_PRIORITY_NORMAL);
    tr_msg *m = tr_receive(TR_INFINITY);
    order_put('h');
    tr_msg_free(m);
}

static void priority_root(void *arg) {
    (void)arg;
    atomic_store(&order_len, 0);
    tr_pid h = tr_spawn_link(high_waiter, NULL);
    tr_proc_info in;
    while (tr_process_info(h, &in) == 0 && in.state != TR_PROC_WAITING) tr_yield();
    CHECK(in.priority == TR_PRIORITY_HIGH);
    CHECK(tr_process_info(tr_self(), &in) == 0 && in.priority == TR_PRIORITY_NORMAL);
    for (int i = 0; i < 3; i++) tr_spawn_link(normal_worker, NULL);
    while (atomic_load(&order_len) < 3) tr_yield(); /* the three are runnable, in turns */
    int before = atomic_load(&order_len);
    CHECK(before < 12); /* normal ones are still queued */
    tr_send(h, T_A, NULL, 0);
    tr_sleep(50); /* the others end their turns; all of them end */
    /* The high one ran as soon as this process let go, ahead of the normal ones queued
     * before it was woken. */
    CHECK(atomic_load(&order_len) == 13 && order_log[before] == 'h');
}

static void test_high_priority_runs_before_queued_normal_ones(void **state) {
    (void)state;
    rt_run(1, priority_root, NULL);
}

static void spawn_opt_priority_root(void *arg) {
    (void)arg;
    tr_pid p = tr_spawn_opt(lingerer, NULL, &(tr_spawn_opts){.link = true, .priority = TR_PRIORITY_HIGH}, NULL);
    tr_proc_info in;
    CHECK(p != 0 && tr_process_info(p, &in) == 0 && in.priority == TR_PRIORITY_HIGH);
    tr_unlink(p);
    tr_exit_pid(p, TR_KILL);
}

static void test_spawn_opt_sets_priority(void **state) {
    (void)state;
    rt_run(2, spawn_opt_priority_root, NULL);
}

static void high_logger(void *arg) {
    (void)arg;
    order_put('h');
}

static void high_spawn_root(void *arg) {
    (void)arg;
    atomic_store(&order_len, 0);
    tr_spawn_opt(high_logger, NULL, &(tr_spawn_opts){.link = true, .priority = TR_PRIORITY_HIGH}, NULL);
    for (int i = 0; i < 3; i++) tr_spawn_link(normal_worker, NULL); /* spawned after it */
    tr_sleep(50);
    CHECK(atomic_load(&order_len) == 13 && order_log[0] == 'h');
}

static void test_high_spawn_runs_before_normal_spawns(void **state) {
    (void)state;
    rt_run(1, high_spawn_root, NULL);
}

#define SPREAD_N 24
static void report_then_wait(void *arg) {
    tr_pid to = *(tr_pid *)arg;
    free(arg);
    tr_send(to, T_B, NULL, 0);
    tr_receive_tag(12345, TR_INFINITY);
}

static void spread_root(void *arg) {
    (void)arg;
    tr_pid kids[SPREAD_N];
    for (int i = 0; i < SPREAD_N; i++) {
        tr_pid *a = malloc(sizeof *a);
        *a = tr_self();
        kids[i] = tr_spawn_opt(report_then_wait, a, &(tr_spawn_opts){.link = true, .spread = true}, NULL);
        CHECK(kids[i] != 0);
    }
    for (int i = 0; i < SPREAD_N; i++) {
        tr_msg *m = tr_receive_tag(T_B, 5000);
        CHECK(m != NULL);
        tr_msg_free(m);
    }
    int on[2] = {0, 0};
    for (int i = 0; i < SPREAD_N; i++) {
        tr_proc_info in;
        CHECK(tr_process_info(kids[i], &in) == 0 && in.scheduler >= 0 && in.scheduler < 2);
        on[in.scheduler & 1]++;
    }
    /* Placed by load: half on each, give or take the root itself (no thief moves them). */
    CHECK(abs(on[0] - on[1]) <= 2);
    tr_exit(TR_SHUTDOWN); /* the linked children go with it */
}

static void test_spread_spawns_share_the_schedulers(void **state) {
    (void)state;
    rt_run_expect(2, spread_root, NULL, "shutdown");
}

/* Two high processes on one scheduler take turns, even when one is woken from another
 * scheduler while the other keeps yielding. */
static _Atomic int woken;

static void yielding_high(void *arg) { /* yields until the other one has run */
    tr_pid root = *(tr_pid *)arg;
    free(arg);
    long turns = 0;
    while (!atomic_load(&woken) && turns < 50000000) {
        tr_yield();
        turns++;
    }
    tr_send(root, T_C, &turns, sizeof turns);
}

static void woken_high(void *arg) {
    (void)arg;
    tr_msg_free(tr_receive_tag(T_A, TR_INFINITY));
    atomic_store(&woken, 1);
}

static void remote_waker(void *arg) { /* on the other scheduler: waits, then wakes */
    tr_pid target = *(tr_pid *)arg;
    free(arg);
    tr_proc_info in;
    while (tr_process_info(target, &in) == 0 && in.state != TR_PROC_WAITING) tr_sleep(1);
    tr_send(target, T_A, NULL, 0);
}

static void turns_root(void *arg) {
    (void)arg;
    atomic_store(&woken, 0);
    tr_pid *me = malloc(sizeof *me);
    *me = tr_self();
    tr_spawn_opts high = {.link = true, .priority = TR_PRIORITY_HIGH};
    tr_pid w = tr_spawn_opt(woken_high, NULL, &high, NULL);
    tr_pid y = tr_spawn_opt(yielding_high, me, &high, NULL);
    tr_pid *target = malloc(sizeof *target);
    *target = w;
    /* Spread: the other scheduler has fewer processes (this one has us). */
    tr_pid k = tr_spawn_opt(remote_waker, target, &(tr_spawn_opts){.link = true, .spread = true}, NULL);
    CHECK(w && y && k);
    tr_msg *m = tr_receive_tag(T_C, 30000);
    CHECK(m != NULL);
    if (!m) return;
    long turns;
    memcpy(&turns, m->data, sizeof turns);
    CHECK(turns < 50000000); /* the yielding one stopped because the other one ran */
    tr_msg_free(m);
}

static void test_high_processes_take_turns(void **state) {
    (void)state;
    rt_run(2, turns_root, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spawn_runs_function_with_arg_and_parent),
        cmocka_unit_test(test_stale_pid_never_reaches_new_process),
        cmocka_unit_test(test_send_copies_and_binaries_are_shared),
        cmocka_unit_test(test_selective_receive_keeps_order_and_times_out),
        cmocka_unit_test(test_receive_by_ref_skips_older_messages),
        cmocka_unit_test(test_alias_reply_dropped_after_demonitor),
        cmocka_unit_test(test_many_senders_on_all_schedulers_one_mailbox),
        cmocka_unit_test(test_registered_names),
        cmocka_unit_test(test_yield_lets_others_run_on_one_scheduler),
        cmocka_unit_test(test_run_returns_root_reason_and_kills_the_rest),
        cmocka_unit_test(test_introspection_lists_processes),
        cmocka_unit_test(test_high_priority_runs_before_queued_normal_ones),
        cmocka_unit_test(test_spawn_opt_sets_priority),
        cmocka_unit_test(test_high_spawn_runs_before_normal_spawns),
        cmocka_unit_test(test_spread_spawns_share_the_schedulers),
        cmocka_unit_test(test_high_processes_take_turns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
