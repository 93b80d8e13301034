// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Lifecycle events applied to the model: fork adds, exec renames, exit
 * marks; a fork after an exit of the same pid is a new process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "live/events.h"
#include "testutil.h"

/* Start times come in whole clock ticks, as /proc gives them. */
#define TICK	(1000000000ull / sysconf(_SC_CLK_TCK))

static struct bt_event ev(unsigned int type, uint32_t pid, const char *comm)
{
	struct bt_event e = { .type = type, .pid = pid };

	strncpy(e.comm, comm, sizeof(e.comm));
	return e;
}

static void test_fork_adds(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e = ev(BT_EV_FORK, 100, "sh");
	struct bt_proc *p;

	e.ppid = 1;
	e.start_ns = 5000 * TICK;
	p = bt_apply_event(m, &e);
	assert_non_null(p);
	assert_ptr_equal(p, bt_model_find(m, 100));
	assert_int_equal(m->nprocs, 1);
	assert_int_equal(p->pid, 100);
	assert_int_equal(p->start_ns, 5000 * TICK);
	assert_string_equal(p->comm, "sh");
	assert_false(p->exited);
	/* The parent is not added by its child's fork. */
	assert_null(bt_model_find(m, 1));
}

static void test_exec_renames(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e = ev(BT_EV_FORK, 100, "sh");
	struct bt_proc *p;

	e.start_ns = 5000 * TICK;
	bt_apply_event(m, &e);
	e = ev(BT_EV_EXEC, 100, "seq");
	e.start_ns = 9999 * TICK;	/* exec keeps the process: its start time stays */
	p = bt_apply_event(m, &e);
	assert_non_null(p);
	assert_int_equal(m->nprocs, 1);
	assert_string_equal(p->comm, "seq");
	assert_int_equal(p->start_ns, 5000 * TICK);
	assert_false(p->exited);
}

static void test_exec_keeps_rows(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = { .tgid = 100, .kind = BT_KIND_PIPE, .dir = BT_DIR_SEND, .chan = 3 };
	struct bt_stats s = { .calls = 1 };
	struct bt_event e = ev(BT_EV_EXEC, 100, "seq");
	struct bt_proc *p;

	assert_non_null(bt_model_add(m, &k, &s, NULL));
	p = bt_apply_event(m, &e);
	assert_int_equal(p->nrows, 1);
	assert_string_equal(p->comm, "seq");
}

static void test_exit_marks_exited(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e = ev(BT_EV_FORK, 200, "worker");
	struct bt_proc *p;

	bt_apply_event(m, &e);
	e = ev(BT_EV_EXIT, 200, "worker");
	e.exit_code = 3 << 8;	/* exit(3) as a wait status */
	p = bt_apply_event(m, &e);
	assert_non_null(p);
	assert_true(p->exited);
	assert_int_equal(p->exit_code, 3 << 8);
	assert_string_equal(p->comm, "worker");
	assert_int_equal(m->nprocs, 1);
}

static void test_exit_without_comm_keeps_name(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e = ev(BT_EV_FORK, 201, "named");
	struct bt_proc *p;

	bt_apply_event(m, &e);
	e = ev(BT_EV_EXIT, 201, "");
	p = bt_apply_event(m, &e);
	assert_true(p->exited);
	assert_string_equal(p->comm, "named");
}

static void test_exit_of_unseen_process(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e = ev(BT_EV_EXIT, 300, "late");
	struct bt_proc *p;

	/* Its fork happened before we started: the exit still names it. */
	e.exit_code = 9;	/* killed by SIGKILL */
	p = bt_apply_event(m, &e);
	assert_non_null(p);
	assert_int_equal(p->pid, 300);
	assert_true(p->exited);
	assert_int_equal(p->exit_code, 9);
	assert_string_equal(p->comm, "late");
}

static void test_fork_exec_exit_sequence(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e;
	struct bt_proc *p;

	e = ev(BT_EV_FORK, 10, "bash");
	bt_apply_event(m, &e);
	e = ev(BT_EV_FORK, 11, "bash");
	e.ppid = 10;
	bt_apply_event(m, &e);
	e = ev(BT_EV_EXEC, 11, "grep");
	bt_apply_event(m, &e);
	e = ev(BT_EV_EXIT, 11, "grep");
	bt_apply_event(m, &e);

	assert_int_equal(m->nprocs, 2);
	p = bt_model_find(m, 10);
	assert_string_equal(p->comm, "bash");
	assert_false(p->exited);
	p = bt_model_find(m, 11);
	assert_string_equal(p->comm, "grep");
	assert_true(p->exited);
}

/* Pid reuse: a fork for a pid whose newest process exited is a new process. */
static void test_fork_after_exit_is_new_process(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = { .tgid = 400, .kind = BT_KIND_PIPE, .dir = BT_DIR_SEND, .chan = 3 };
	struct bt_stats s = { .calls = 7 };
	struct bt_event e = ev(BT_EV_FORK, 400, "first");
	struct bt_proc *p;

	e.start_ns = 1 * TICK;
	bt_apply_event(m, &e);
	assert_non_null(bt_model_add(m, &k, &s, NULL));
	e = ev(BT_EV_EXIT, 400, "first");
	e.exit_code = 1 << 8;
	bt_apply_event(m, &e);
	/* The pid comes back as another process. */
	e = ev(BT_EV_FORK, 400, "second");
	e.start_ns = 2 * TICK;
	p = bt_apply_event(m, &e);
	assert_non_null(p);
	assert_int_equal(m->nprocs, 2);
	assert_ptr_equal(p, &m->procs[1]);
	assert_ptr_equal(p, bt_model_find(m, 400));
	assert_int_equal(p->pid, 400);
	assert_false(p->exited);
	assert_int_equal(p->start_ns, 2 * TICK);
	assert_string_equal(p->comm, "second");
	assert_int_equal(p->nrows, 0);
	/* The first one keeps its name, exit status and rows. */
	p = &m->procs[0];
	assert_int_equal(p->pid, 400);
	assert_true(p->exited);
	assert_int_equal(p->exit_code, 1 << 8);
	assert_int_equal(p->start_ns, 1 * TICK);
	assert_string_equal(p->comm, "first");
	assert_int_equal(p->nrows, 1);
	assert_int_equal(p->rows[0].st.calls, 7);

	/* Later events and rows of the pid go to the new process. */
	e = ev(BT_EV_EXEC, 400, "third");
	p = bt_apply_event(m, &e);
	assert_ptr_equal(p, &m->procs[1]);
	assert_string_equal(m->procs[0].comm, "first");
	assert_string_equal(m->procs[1].comm, "third");
	assert_non_null(bt_model_add(m, &k, &s, NULL));
	assert_int_equal(m->procs[0].nrows, 1);
	assert_int_equal(m->procs[1].nrows, 1);

	/* And it can exit and be reused in turn. */
	e = ev(BT_EV_EXIT, 400, "third");
	bt_apply_event(m, &e);
	e = ev(BT_EV_FORK, 400, "fourth");
	e.start_ns = 3 * TICK;
	p = bt_apply_event(m, &e);
	assert_int_equal(m->nprocs, 3);
	assert_ptr_equal(p, &m->procs[2]);
	assert_true(m->procs[1].exited);
	assert_false(m->procs[2].exited);
	assert_string_equal(bt_model_find(m, 400)->comm, "fourth");
}

/* A fork for a pid whose process is alive (seen first by its rows) is that process. */
static void test_fork_of_live_pid_is_same_process(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = { .tgid = 410, .kind = BT_KIND_PIPE, .dir = BT_DIR_SEND, .chan = 3 };
	struct bt_stats s = { .calls = 1 };
	struct bt_event e = ev(BT_EV_FORK, 410, "child");
	struct bt_proc *p;

	assert_non_null(bt_model_add(m, &k, &s, NULL));
	e.start_ns = 77 * TICK;
	p = bt_apply_event(m, &e);
	assert_int_equal(m->nprocs, 1);
	assert_ptr_equal(p, &m->procs[0]);
	assert_int_equal(p->nrows, 1);
	assert_int_equal(p->start_ns, 77 * TICK);
	assert_string_equal(p->comm, "child");
}

/* Only a fork starts a new process: a second exit goes to the exited one. */
static void test_exit_after_exit_stays(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e = ev(BT_EV_FORK, 420, "gone");
	struct bt_proc *p;

	bt_apply_event(m, &e);
	e = ev(BT_EV_EXIT, 420, "gone");
	e.exit_code = 5;
	bt_apply_event(m, &e);
	e = ev(BT_EV_EXIT, 420, "");
	e.exit_code = 5;
	p = bt_apply_event(m, &e);
	assert_int_equal(m->nprocs, 1);
	assert_ptr_equal(p, &m->procs[0]);
	assert_true(p->exited);
	assert_int_equal(p->exit_code, 5);
	assert_string_equal(p->comm, "gone");
}

static void test_comm_always_terminated(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e = { .type = BT_EV_EXEC, .pid = 500 };
	struct bt_proc *p;

	/* The kernel's comm fills all 16 bytes; ours keeps a terminator. */
	memset(e.comm, 'z', sizeof(e.comm));
	p = bt_apply_event(m, &e);
	assert_int_equal(strlen(p->comm), BT_COMM_LEN - 1);
	assert_int_equal(p->comm[0], 'z');
}

static void test_unknown_type(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e = ev(99, 600, "ignored");
	struct bt_proc *p = bt_apply_event(m, &e);

	/* Nothing is applied, but the process is known. */
	assert_non_null(p);
	assert_int_equal(p->pid, 600);
	assert_string_equal(p->comm, "");
	assert_false(p->exited);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_model_setup, tu_model_teardown)

/* A process still there renamed itself: the refresh takes the new name. */
static void test_identity_renames_same_process(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e = ev(BT_EV_FORK, 100, "worker");

	e.start_ns = 7000000000ull;
	bt_apply_event(m, &e);
	bt_apply_identity(m, 0, "worker-1", 7000000000ull, true);
	assert_int_equal(m->nprocs, 1);
	assert_string_equal(m->procs[0].comm, "worker-1");
	assert_false(m->procs[0].exited);
	/* Unknown start times cannot tell processes apart: a rename. */
	bt_apply_identity(m, 0, "worker-2", 0, true);
	assert_string_equal(m->procs[0].comm, "worker-2");
	assert_false(m->procs[0].exited);
}

/*
 * Its exit event was lost and another process has the pid: the old one
 * keeps its name and is gone; the new one is a process of its own when
 * the kernel traces the pid, and unknown to the model when it does not.
 */
static void test_identity_of_reused_pid(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = { .tgid = 100, .kind = BT_KIND_PIPE, .dir = BT_DIR_SEND, .chan = 1 };
	struct bt_stats s = { .calls = 1 };

	for (int traced = 0; traced < 2; traced++) {
		struct bt_event e = ev(BT_EV_FORK, 100, "old");

		bt_model_free(m);
		e.start_ns = 7000000000ull;
		bt_apply_event(m, &e);
		m->procs[0].target = true;
		m->procs[0].hop = 1;
		bt_apply_identity(m, 0, "new", 9000000000ull, traced);
		assert_int_equal(m->nprocs, 1 + traced);
		assert_string_equal(m->procs[0].comm, "old");
		assert_true(m->procs[0].exited);
	}
	assert_string_equal(bt_model_find(m, 100)->comm, "new");
	assert_int_equal(bt_model_find(m, 100)->start_ns, 9000000000ull);
	assert_false(bt_model_find(m, 100)->exited);
	assert_true(bt_model_find(m, 100)->target);
	assert_int_equal(bt_model_find(m, 100)->hop, 1);
	/* What the kernel counts for the pid from now on is the new process's. */
	bt_model_add(m, &k, &s, NULL);
	assert_int_equal(bt_model_find(m, 100)->nrows, 1);
	assert_int_equal(m->procs[0].nrows, 0);
}

/* The kernel's start time is /proc's: ns since boot, at clock-tick resolution. */
static void test_fork_start_at_proc_resolution(void **state)
{
	struct bt_model *m = *state;
	struct bt_event e = ev(BT_EV_FORK, 100, "sh");
	uint64_t tick = TICK;

	e.start_ns = 123 * tick + tick - 1;
	assert_int_equal(bt_apply_event(m, &e)->start_ns, 123 * tick);
	/* And so the same process read from /proc is the same process. */
	bt_apply_identity(m, 0, "sh2", 123 * tick, true);
	assert_int_equal(m->nprocs, 1);
	assert_false(m->procs[0].exited);
	assert_string_equal(m->procs[0].comm, "sh2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity_renames_same_process),
		T(test_identity_of_reused_pid),
		T(test_fork_start_at_proc_resolution),
		T(test_fork_adds),
		T(test_exec_renames),
		T(test_exec_keeps_rows),
		T(test_exit_marks_exited),
		T(test_exit_without_comm_keeps_name),
		T(test_exit_of_unseen_process),
		T(test_fork_exec_exit_sequence),
		T(test_fork_after_exit_is_new_process),
		T(test_fork_of_live_pid_is_same_process),
		T(test_exit_after_exit_stays),
		T(test_comm_always_terminated),
		T(test_unknown_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
