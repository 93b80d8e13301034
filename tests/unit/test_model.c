// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The model: rows summed by key, per-CPU summing, sort order, pid reuse,
 * and the facts kept for pairing (wakes, /proc holders, socket facts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "model/model.h"
#include "testutil.h"

static struct bt_key key_of(uint32_t pid, unsigned int kind, unsigned int dir, uint64_t chan,
			    uint64_t peer)
{
	struct bt_key k = { .tgid = pid, .kind = kind, .dir = dir, .chan = chan, .peer = peer };

	return k;
}

static struct bt_stats stats_of(uint64_t calls, uint64_t bytes, uint64_t blocked, uint64_t max)
{
	struct bt_stats s = { .calls = calls, .bytes = bytes, .blocked_ns = blocked,
			      .max_blocked_ns = max };

	return s;
}

static void test_init_empty(void **state)
{
	struct bt_model *m = *state;

	assert_int_equal(m->nprocs, 0);
	assert_null(m->procs);
	assert_null(bt_model_find(m, 1));
	assert_int_equal(m->duration_ns, 0);
	for (int l = 0; l < BT_LOSS_MAX; l++)
		assert_int_equal(m->lost[l], 0);
}

static void test_proc_find_or_add(void **state)
{
	struct bt_model *m = *state;
	struct bt_proc *p = bt_model_proc(m, 42);

	assert_non_null(p);
	assert_int_equal(p->pid, 42);
	assert_int_equal(p->nrows, 0);
	assert_false(p->exited);
	assert_ptr_equal(bt_model_proc(m, 42), p);
	assert_ptr_equal(bt_model_find(m, 42), p);
	assert_int_equal(m->nprocs, 1);
	assert_null(bt_model_find(m, 43));
}

static void test_add_same_key_sums(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = key_of(10, BT_KIND_PIPE, BT_DIR_SEND, 500, 0);
	struct bt_stats a = stats_of(3, 300, 1000, 700);
	struct bt_stats b = stats_of(2, 50, 400, 300);
	struct bt_row *r1, *r2;

	a.errors = 1;
	a.size_hist[6] = 2;
	a.blocked_hist[9] = 3;
	b.errors = 2;
	b.woken = 5;
	b.size_hist[6] = 1;
	b.size_hist[5] = 1;
	b.blocked_hist[8] = 2;
	r1 = bt_model_add(m, &k, &a, NULL);
	assert_non_null(r1);
	r2 = bt_model_add(m, &k, &b, NULL);
	assert_ptr_equal(r1, r2);
	assert_int_equal(m->nprocs, 1);
	assert_int_equal(m->procs[0].nrows, 1);
	assert_int_equal(r2->st.calls, 5);
	assert_int_equal(r2->st.bytes, 350);
	assert_int_equal(r2->st.errors, 3);
	assert_int_equal(r2->st.woken, 5);
	assert_int_equal(r2->st.blocked_ns, 1400);
	/* The maximum of maxima, not a sum. */
	assert_int_equal(r2->st.max_blocked_ns, 700);
	assert_int_equal(r2->st.size_hist[6], 3);
	assert_int_equal(r2->st.size_hist[5], 1);
	assert_int_equal(r2->st.blocked_hist[9], 3);
	assert_int_equal(r2->st.blocked_hist[8], 2);
	assert_string_equal(r2->channel, "pipe:[500]");
	assert_false(r2->has_info);
}

static void test_add_different_keys(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats s = stats_of(1, 10, 0, 0);
	struct bt_key keys[] = {
		key_of(10, BT_KIND_PIPE, BT_DIR_SEND, 500, 0),
		key_of(10, BT_KIND_PIPE, BT_DIR_RECV, 500, 0),	/* direction */
		key_of(10, BT_KIND_PIPE, BT_DIR_SEND, 501, 0),	/* channel */
		key_of(10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 500, 0),	/* kind */
		key_of(10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 500, 9),	/* peer */
	};
	size_t n = sizeof(keys) / sizeof(keys[0]);

	for (size_t i = 0; i < n; i++)
		assert_non_null(bt_model_add(m, &keys[i], &s, NULL));
	assert_int_equal(m->nprocs, 1);
	assert_int_equal(m->procs[0].nrows, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(m->procs[0].rows[i].st.calls, 1);
		assert_memory_equal(&m->procs[0].rows[i].key, &keys[i], sizeof(keys[i]));
	}

	/* Another tgid is another process. */
	keys[0].tgid = 11;
	assert_non_null(bt_model_add(m, &keys[0], &s, NULL));
	assert_int_equal(m->nprocs, 2);
	assert_int_equal(bt_model_find(m, 11)->nrows, 1);
	assert_int_equal(bt_model_find(m, 10)->nrows, n);
}

static void test_per_cpu_sum(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = key_of(20, BT_KIND_FUTEX, BT_DIR_WAIT, 0x1000, 0);
	struct bt_stats percpu[4] = {
		stats_of(1, 0, 100, 100),
		stats_of(0, 0, 0, 0),
		stats_of(4, 0, 900, 600),
		stats_of(2, 0, 300, 250),
	};
	struct bt_stats sum = { 0 };
	struct bt_row *r;

	/* What collect does with one per-CPU map value. */
	for (int c = 0; c < 4; c++) {
		percpu[c].blocked_hist[c] = c + 1;
		bt_stats_add(&sum, &percpu[c]);
	}
	assert_int_equal(sum.calls, 7);
	assert_int_equal(sum.blocked_ns, 1300);
	assert_int_equal(sum.max_blocked_ns, 600);
	for (int c = 0; c < 4; c++)
		assert_int_equal(sum.blocked_hist[c], c + 1);

	r = bt_model_add(m, &k, &sum, NULL);
	assert_non_null(r);
	assert_int_equal(r->st.max_blocked_ns, 600);
	assert_string_equal(r->channel, "futex:0x1000");

	/* An interval refill sums again; a larger max replaces, a smaller does not. */
	sum = stats_of(1, 0, 5000, 5000);
	bt_model_add(m, &k, &sum, NULL);
	assert_int_equal(r->st.max_blocked_ns, 5000);
	sum = stats_of(1, 0, 10, 10);
	bt_model_add(m, &k, &sum, NULL);
	assert_int_equal(r->st.max_blocked_ns, 5000);
	assert_int_equal(r->st.calls, 9);
	assert_int_equal(r->st.blocked_ns, 6310);
}

static void test_add_with_info(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = key_of(30, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 7, 0);
	struct bt_chan_info info = { .kind = BT_KIND_UNIX_STREAM, .peer_ino = 8,
				     .path = "/tmp/s" };
	struct bt_stats s = stats_of(1, 1, 1, 1);
	struct bt_row *r = bt_model_add(m, &k, &s, &info);

	assert_non_null(r);
	assert_true(r->has_info);
	assert_string_equal(r->info.path, "/tmp/s");
	assert_string_equal(r->channel, "unix:/tmp/s[7->8]");
}

static void test_sort(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats s = stats_of(1, 1, 0, 0);
	struct bt_key keys[] = {
		key_of(30, BT_KIND_FUTEX, BT_DIR_WAKE, 0x20, 0),
		key_of(10, BT_KIND_FUTEX, BT_DIR_WAIT, 0x20, 0),
		key_of(10, BT_KIND_FUTEX, BT_DIR_WAKE, 0x10, 0),
		key_of(10, BT_KIND_PIPE, BT_DIR_RECV, 200, 0),
		key_of(10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 1, 0),
		key_of(10, BT_KIND_PIPE, BT_DIR_RECV, 100, 0),
		key_of(10, BT_KIND_PIPE, BT_DIR_SEND, 200, 0),
		key_of(20, BT_KIND_TCP, BT_DIR_SEND, 5, 0),
		key_of(10, BT_KIND_FUTEX, BT_DIR_WAKE, 0x20, 0),
	};
	/* kind, then channel, then direction */
	static const struct {
		unsigned int kind, dir;
		const char *channel;
	} want[] = {
		{ BT_KIND_PIPE, BT_DIR_RECV, "pipe:[100]" },
		{ BT_KIND_PIPE, BT_DIR_SEND, "pipe:[200]" },
		{ BT_KIND_PIPE, BT_DIR_RECV, "pipe:[200]" },
		{ BT_KIND_UNIX_STREAM, BT_DIR_SEND, "unix:[1->?]" },	/* no facts: peer unknown */
		{ BT_KIND_FUTEX, BT_DIR_WAKE, "futex:0x10" },
		{ BT_KIND_FUTEX, BT_DIR_WAIT, "futex:0x20" },
		{ BT_KIND_FUTEX, BT_DIR_WAKE, "futex:0x20" },
	};
	const struct bt_proc *p;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_non_null(bt_model_add(m, &keys[i], &s, NULL));
	bt_model_sort(m);

	assert_int_equal(m->nprocs, 3);
	assert_int_equal(m->procs[0].pid, 10);
	assert_int_equal(m->procs[1].pid, 20);
	assert_int_equal(m->procs[2].pid, 30);
	p = &m->procs[0];
	assert_int_equal(p->nrows, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < p->nrows; i++) {
		assert_int_equal(p->rows[i].key.kind, want[i].kind);
		assert_int_equal(p->rows[i].key.dir, want[i].dir);
		assert_string_equal(p->rows[i].channel, want[i].channel);
	}
	/* Rows moved with their processes. */
	assert_int_equal(m->procs[1].rows[0].key.kind, BT_KIND_TCP);
	assert_int_equal(m->procs[2].rows[0].key.chan, 0x20);
}

static void test_clear_rows(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = key_of(40, BT_KIND_PIPE, BT_DIR_SEND, 1, 0);
	struct bt_stats s = stats_of(5, 50, 0, 0);
	struct bt_proc *p;
	struct bt_row *r;

	bt_model_add(m, &k, &s, NULL);
	k.tgid = 41;
	bt_model_add(m, &k, &s, NULL);
	p = bt_model_find(m, 40);
	strcpy(p->comm, "keep");
	p->exited = true;

	bt_model_clear_rows(m);
	assert_int_equal(m->nprocs, 2);
	assert_int_equal(m->procs[0].nrows, 0);
	assert_int_equal(m->procs[1].nrows, 0);
	assert_string_equal(p->comm, "keep");
	assert_true(p->exited);

	/* A refill starts from zero, not from the old sums. */
	k.tgid = 40;
	r = bt_model_add(m, &k, &s, NULL);
	assert_non_null(r);
	assert_int_equal(p->nrows, 1);
	assert_int_equal(r->st.calls, 5);
	assert_int_equal(r->st.bytes, 50);
}

/* A second entry for a pid, as after pid reuse (bt_model_proc finds the newest). */
static struct bt_proc *add_reused(struct bt_model *m, uint32_t pid, uint64_t start_ns)
{
	size_t n = m->nprocs;
	struct bt_proc *p = bt_model_new_proc(m, pid);

	assert_non_null(p);
	assert_int_equal(m->nprocs, n + 1);
	assert_ptr_equal(p, &m->procs[n]);
	assert_int_equal(p->pid, pid);
	assert_int_equal(p->nrows, 0);
	assert_false(p->exited);
	assert_string_equal(p->comm, "");
	p->start_ns = start_ns;
	return p;
}

static void test_find_after_pid_reuse(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = key_of(50, BT_KIND_PIPE, BT_DIR_SEND, 1, 0);
	struct bt_stats s = stats_of(1, 1, 0, 0);
	struct bt_proc *old, *newer;

	old = bt_model_proc(m, 50);
	old->start_ns = 1000;
	old->exited = true;
	strcpy(old->comm, "old");
	bt_model_proc(m, 60);
	newer = add_reused(m, 50, 2000);
	strcpy(newer->comm, "new");

	assert_string_equal(bt_model_find(m, 50)->comm, "new");
	assert_string_equal(bt_model_proc(m, 50)->comm, "new");
	/* Rows of the pid go to the live process. */
	bt_model_add(m, &k, &s, NULL);
	assert_int_equal(bt_model_find(m, 50)->nrows, 1);
	assert_int_equal(m->procs[0].nrows, 0);

	/* Sorting keeps the newest last among equal pids: by start time. */
	bt_model_sort(m);
	assert_int_equal(m->procs[0].pid, 50);
	assert_int_equal(m->procs[0].start_ns, 1000);
	assert_int_equal(m->procs[1].pid, 50);
	assert_int_equal(m->procs[1].start_ns, 2000);
	assert_int_equal(m->procs[2].pid, 60);
	assert_string_equal(bt_model_find(m, 50)->comm, "new");
}

static void test_clear_rows_keeps_harvested(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = key_of(70, BT_KIND_PIPE, BT_DIR_SEND, 1, 0);
	struct bt_stats s = stats_of(3, 30, 0, 0);
	struct bt_wake_key wk = { .waker = 70, .wakee = 71, .kind = BT_KIND_PIPE,
				  .dir = BT_DIR_SEND, .chan = 1 };
	struct bt_holder h = { .ino = 1, .pid = 71, .type = 1, .mode = 1 };
	struct bt_sockfact f = { .ino = 9, .peer_ino = 10 };
	struct bt_proc *p;

	bt_model_add(m, &k, &s, NULL);
	k.tgid = 71;
	bt_model_add(m, &k, &s, NULL);
	p = bt_model_find(m, 70);
	p->exited = true;
	p->harvested = true;	/* its rows were read at exit: final */
	assert_int_equal(bt_model_add_wake(m, &wk, 4), 0);
	assert_int_equal(bt_model_add_holder(m, &h), 0);
	assert_int_equal(bt_model_add_sockfact(m, &f), 0);

	bt_model_clear_rows(m);
	assert_int_equal(bt_model_find(m, 70)->nrows, 1);
	assert_int_equal(bt_model_find(m, 70)->rows[0].st.calls, 3);
	assert_int_equal(bt_model_find(m, 71)->nrows, 0);
	/*
	 * Wakes live in the rows: a harvested waker's are final and stay, a
	 * live waker's are refilled; /proc and sock_diag facts stay.
	 */
	assert_int_equal(m->nwakes, 1);
	assert_int_equal(m->wakes[0].count, 4);
	assert_int_equal(m->nholders, 1);
	assert_int_equal(m->nsocks, 1);
	wk.waker = 71;
	assert_int_equal(bt_model_add_wake(m, &wk, 2), 0);
	assert_int_equal(m->nwakes, 2);
	bt_model_clear_rows(m);
	assert_int_equal(m->nwakes, 1);
	assert_int_equal(m->wakes[0].key.waker, 70);
	/* The harvest of a waker takes its wakes again, for good. */
	bt_model_drop_wakes(m, 70);
	assert_int_equal(m->nwakes, 0);
}

/*
 * Folds: a row taken out of the kernel for good while tracing is final,
 * kept by clears as it was folded; what the last collection read for it
 * is dropped; a final row the kernel counts again (its channel came back)
 * shows both until the next clear puts it back.
 */
static void test_fold_keeps_rows_through_clears(void **state)
{
	struct bt_model *m = *state;
	struct bt_key a = key_of(80, BT_KIND_TCP, BT_DIR_SEND, 11, 5);
	struct bt_key b = key_of(80, BT_KIND_TCP, BT_DIR_RECV, 12, 6);
	struct bt_chan_info info = { .kind = BT_KIND_TCP, .lport = 4000, .rport = 80 };
	struct bt_stats s5 = stats_of(5, 50, 0, 0), s9 = stats_of(9, 90, 0, 0);
	struct bt_stats s2 = stats_of(2, 20, 0, 0), s4 = stats_of(4, 40, 0, 0);
	struct bt_stats zero = { 0 };
	struct bt_wake_key wk = { .waker = 80, .wakee = 81, .kind = BT_KIND_TCP,
				  .dir = BT_DIR_SEND, .chan = 11, .peer = 5 };
	struct bt_proc *p;
	struct bt_row *r;

	/* A collection read a (5 calls so far) and b. */
	bt_model_add(m, &a, &s5, &info);
	bt_model_add(m, &b, &s5, NULL);
	assert_int_equal(bt_model_add_wake(m, &wk, 3), 0);
	/* The connection of a closed: its kernel row (9 calls by then) is folded. */
	r = bt_model_fold_row(m, &a, &s9, &info);
	assert_non_null(r);
	assert_true(r->final);
	assert_int_equal(r->st.calls, 9);
	assert_int_equal(r->st.bytes, 90);
	assert_int_equal(bt_model_fold_wake(m, &wk, 5), 0);
	assert_int_equal(m->wakes[0].count, 5);

	bt_model_clear_rows(m);
	p = bt_model_find(m, 80);
	assert_int_equal(p->nrows, 1);
	assert_int_equal(p->rows[0].st.calls, 9);
	assert_true(p->rows[0].has_info);
	assert_int_equal(p->rows[0].info.lport, 4000);
	assert_int_equal(m->nwakes, 1);
	assert_int_equal(m->wakes[0].count, 5);

	/* The next collection: b again, and a counted again by the kernel. */
	bt_model_add(m, &b, &s4, NULL);
	r = bt_model_add(m, &a, &s2, &info);
	assert_int_equal(r->st.calls, 11);
	assert_int_equal(bt_model_add_wake(m, &wk, 2), 0);
	assert_int_equal(m->wakes[0].count, 7);
	p = bt_model_find(m, 80);
	assert_int_equal(p->nrows, 2);
	bt_model_clear_rows(m);
	p = bt_model_find(m, 80);
	assert_int_equal(p->nrows, 1);
	assert_int_equal(p->rows[0].st.calls, 9);
	assert_null(p->rows[0].fin);
	assert_int_equal(m->wakes[0].count, 5);

	/* Counted again (2 read), then that kernel row folded too (4 by then): 9 + 4. */
	bt_model_add(m, &a, &s2, &info);
	r = bt_model_fold_row(m, &a, &s4, &info);
	assert_int_equal(r->st.calls, 13);
	assert_null(r->fin);
	/* Its lost calls, folded from the lost-calls map, stay too. */
	r = bt_model_fold_row(m, &a, &zero, &info);
	r->lost_calls += 2;
	assert_int_equal(bt_model_fold_wake(m, &wk, 1), 0);
	bt_model_clear_rows(m);
	p = bt_model_find(m, 80);
	assert_int_equal(p->rows[0].st.calls, 13);
	assert_int_equal(p->rows[0].lost_calls, 2);
	assert_int_equal(m->wakes[0].count, 6);

	/* A report filter drops a final row counted again: nothing leaks (ASan). */
	bt_model_add(m, &a, &s2, &info);
	assert_non_null(bt_model_find(m, 80)->rows[0].fin);
	bt_model_filter(m, NULL, 0, BT_KIND_PIPE);
	assert_int_equal(bt_model_find(m, 80)->nrows, 0);
	/* And the model's free frees one left in place. */
	r = bt_model_fold_row(m, &b, &s2, NULL);
	bt_model_add(m, &b, &s2, NULL);
	assert_non_null(r->fin);
}

/*
 * A collection read a connection's row while it was open, before the
 * server's worker accepted it: the channel facts named no far end then.
 * The fold that takes the row once it closed reads the facts again, the
 * worker named (accepted_by): the final row has the fold's facts, not
 * the collection's, or the report would lose the connection from its
 * edge. The census's word on the socket (conn) stays; a row folded
 * without facts keeps those it had; a final row counted again keeps its own.
 */
static void test_fold_takes_the_facts_it_read(void **state)
{
	struct bt_model *m = *state;
	struct bt_key a = key_of(85, BT_KIND_TCP, BT_DIR_SEND, 31, 7);
	struct bt_key b = key_of(85, BT_KIND_TCP, BT_DIR_SEND, 32, 8);
	struct bt_chan_info early = { .kind = BT_KIND_TCP, .family = AF_INET, .lport = 40000,
				      .rport = 8080, .role = BT_ROLE_CLIENT, .laddr = { 127, 0, 0, 1 },
				      .raddr = { 127, 0, 0, 1 } };
	struct bt_chan_info named = early, other = early;
	struct bt_stats s1 = stats_of(1, 64, 0, 0);
	struct bt_row *r;

	named.peer_tgid = 86;
	other.peer_tgid = 87;
	r = bt_model_add(m, &a, &s1, &early);
	r->info.conn = BT_CONN_NEW;
	bt_model_add(m, &b, &s1, &early);
	r = bt_model_fold_row(m, &a, &s1, &named);
	assert_non_null(r);
	assert_true(r->has_info);
	assert_int_equal(r->info.peer_tgid, 86);
	assert_int_equal(r->info.conn, BT_CONN_NEW);
	assert_string_equal(r->channel, "tcp:127.0.0.1:40000->127.0.0.1:8080");
	assert_int_equal(r->st.calls, 1);
	/* The facts gone by the fold: the collection's stay. */
	r = bt_model_fold_row(m, &b, &s1, NULL);
	assert_true(r->has_info);
	assert_int_equal(r->info.lport, 40000);
	/* Counted again after its fold: what the fold read stays. */
	r = bt_model_fold_row(m, &a, &s1, &other);
	assert_int_equal(r->info.peer_tgid, 86);
	bt_model_clear_rows(m);
	assert_int_equal(bt_model_find(m, 85)->rows[0].info.peer_tgid, 86);
}

/*
 * --stacks through folds: a stack row and a waker stack folded with their
 * channel are final like the row (what the last collection read is
 * dropped, clears keep the folded part, what the kernel counts again
 * adds until the next clear); a waker's exit harvest keeps the folded
 * part of its wakes and stack rows (the kernel has it no more) and drops
 * the rest, which the harvest reads again.
 */
static void test_fold_keeps_stacks_through_clears(void **state)
{
	struct bt_model *m = *state;
	struct bt_key a = key_of(90, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 21, 0);
	struct bt_key b = key_of(90, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 22, 0);
	struct bt_stats s5 = stats_of(5, 50, 500, 0), s9 = stats_of(9, 90, 900, 0);
	struct bt_stats s2 = stats_of(2, 20, 200, 0), s4 = stats_of(4, 40, 400, 0);
	struct bt_wakestack_key wsk = { .wakee = 90, .waker = 91, .kind = BT_KIND_UNIX_STREAM,
					.dir = BT_DIR_RECV, .wakee_ustack = 3, .chan = 21 };
	struct bt_wakestack_val v2 = { 2, 20 }, v3 = { 3, 30 }, v1 = { 1, 10 };
	struct bt_wake_key wk = { .waker = 90, .wakee = 91, .kind = BT_KIND_UNIX_STREAM,
				  .dir = BT_DIR_SEND, .chan = 21 };

	a.ustack = 3;
	a.kstack = 4;
	b.ustack = 3;
	b.kstack = 4;
	/* A collection read a's stack (5 calls so far), b's and a waker stack. */
	assert_int_equal(bt_model_add_stackrow(m, &a, &s5), 0);
	assert_int_equal(bt_model_add_stackrow(m, &b, &s2), 0);
	assert_int_equal(bt_model_add_wakestack(m, &wsk, &v2), 0);
	/* a's channel closed: its kernel rows folded (9 calls, 3 wakes by then). */
	assert_int_equal(bt_model_fold_stackrow(m, &a, &s9), 0);
	assert_int_equal(bt_model_fold_wakestack(m, &wsk, &v3), 0);
	assert_int_equal(m->nstackrows, 2);
	assert_int_equal(m->stackrows[0].calls, 9);
	assert_int_equal(m->stackrows[0].bytes, 90);
	assert_int_equal(m->stackrows[0].blocked_ns, 900);
	assert_int_equal(m->wakestacks[0].val.count, 3);

	/* A clear keeps the folded ones, as folded; b's comes back with the next collection. */
	bt_model_clear_rows(m);
	assert_int_equal(m->nstackrows, 1);
	assert_memory_equal(&m->stackrows[0].key, &a, sizeof(a));
	assert_int_equal(m->stackrows[0].calls, 9);
	assert_int_equal(m->nwakestacks, 1);
	assert_int_equal(m->wakestacks[0].val.blocked_ns, 30);

	/* Counted again (the channel came back): both show until the next clear. */
	assert_int_equal(bt_model_add_stackrow(m, &a, &s2), 0);
	assert_int_equal(bt_model_add_wakestack(m, &wsk, &v1), 0);
	assert_int_equal(m->stackrows[0].calls, 11);
	assert_int_equal(m->wakestacks[0].val.count, 4);
	bt_model_clear_rows(m);
	assert_int_equal(m->stackrows[0].calls, 9);
	assert_int_equal(m->wakestacks[0].val.count, 3);

	/* Read again (2), then folded again (4 by then): 9 + 4, in one fold of two parts. */
	assert_int_equal(bt_model_add_stackrow(m, &a, &s2), 0);
	assert_int_equal(bt_model_fold_stackrow(m, &a, &s4), 0);
	assert_int_equal(m->stackrows[0].calls, 13);
	assert_int_equal(m->stackrows[0].errors, 0);

	/* The harvest at 90's exit: the folded parts stay, the rest is read again. */
	assert_int_equal(bt_model_add_stackrow(m, &b, &s5), 0);
	assert_int_equal(bt_model_add_stackrow(m, &a, &s2), 0);
	assert_int_equal(bt_model_add_wake(m, &wk, 1), 0);
	wk.chan = 22;
	assert_int_equal(bt_model_fold_wake(m, &wk, 6), 0);
	assert_int_equal(bt_model_add_wake(m, &wk, 2), 0);
	bt_model_drop_stackrows(m, 90);
	bt_model_drop_wakes(m, 90);
	assert_int_equal(m->nstackrows, 1);
	assert_int_equal(m->stackrows[0].calls, 13);
	assert_int_equal(m->nwakes, 1);
	assert_int_equal(m->wakes[0].key.chan, 22);
	assert_int_equal(m->wakes[0].count, 6);
	/* The waker stacks of its crossings too: the folded one stays, another goes. */
	wsk.chan = 22;
	assert_int_equal(bt_model_add_wakestack(m, &wsk, &v2), 0);
	assert_int_equal(m->nwakestacks, 2);
	bt_model_drop_stackrows(m, 90);
	assert_int_equal(m->nwakestacks, 1);
	assert_int_equal(m->wakestacks[0].key.chan, 21);
	/* What the harvest read again is final with the process: clears keep it. */
	assert_int_equal(bt_model_add_wakestack(m, &wsk, &v2), 0);
	assert_int_equal(bt_model_add_stackrow(m, &b, &s5), 0);
	bt_model_proc(m, 90)->harvested = true;
	bt_model_clear_rows(m);
	assert_int_equal(m->nwakestacks, 2);
	assert_int_equal(m->nstackrows, 2);
}

static void test_add_wake(void **state)
{
	struct bt_model *m = *state;
	struct bt_wake_key a = { .waker = 1, .wakee = 2, .kind = BT_KIND_FUTEX,
				 .dir = BT_DIR_WAKE, .chan = 0x100 };
	struct bt_wake_key b;

	assert_int_equal(bt_model_add_wake(m, &a, 3), 0);
	assert_int_equal(bt_model_add_wake(m, &a, 4), 0);
	assert_int_equal(m->nwakes, 1);
	assert_int_equal(m->wakes[0].count, 7);
	assert_memory_equal(&m->wakes[0].key, &a, sizeof(a));
	/* Any field of the key makes another entry. */
	b = a;
	b.waker = 9;
	assert_int_equal(bt_model_add_wake(m, &b, 1), 0);
	b = a;
	b.wakee = 9;
	assert_int_equal(bt_model_add_wake(m, &b, 1), 0);
	b = a;
	b.kind = BT_KIND_PIPE;
	assert_int_equal(bt_model_add_wake(m, &b, 1), 0);
	b = a;
	b.dir = BT_DIR_WAIT;
	assert_int_equal(bt_model_add_wake(m, &b, 1), 0);
	b = a;
	b.chan = 0x104;
	assert_int_equal(bt_model_add_wake(m, &b, 1), 0);
	b = a;
	b.peer = 1;
	assert_int_equal(bt_model_add_wake(m, &b, 1), 0);
	assert_int_equal(m->nwakes, 7);
	assert_int_equal(m->wakes[0].count, 7);
	/* Past the first allocation. */
	for (uint64_t c = 0; c < 40; c++) {
		b = a;
		b.chan = 0x1000 + c;
		assert_int_equal(bt_model_add_wake(m, &b, c), 0);
	}
	assert_int_equal(m->nwakes, 47);
	assert_int_equal(m->wakes[46].count, 39);
	assert_int_equal(m->wakes[0].count, 7);
}

static void test_add_holder(void **state)
{
	struct bt_model *m = *state;
	struct bt_holder r = { .ino = 5, .pid = 10, .type = 1, .mode = 1 };
	struct bt_holder h;

	assert_int_equal(bt_model_add_holder(m, &r), 0);
	assert_int_equal(bt_model_add_holder(m, &r), 0);
	assert_int_equal(m->nholders, 1);
	/* The same pipe seen through a write fd too: one holder of both ends. */
	h = r;
	h.mode = 2;
	assert_int_equal(bt_model_add_holder(m, &h), 0);
	assert_int_equal(m->nholders, 1);
	assert_int_equal(m->holders[0].mode, 3);
	/* Another process, inode or type is another holder. */
	h = r;
	h.pid = 11;
	assert_int_equal(bt_model_add_holder(m, &h), 0);
	h = r;
	h.ino = 6;
	assert_int_equal(bt_model_add_holder(m, &h), 0);
	h = r;
	h.type = 2;
	h.mode = 0;
	assert_int_equal(bt_model_add_holder(m, &h), 0);
	assert_int_equal(m->nholders, 4);
	assert_int_equal(m->holders[1].pid, 11);
	assert_int_equal(m->holders[1].mode, 1);
	assert_int_equal(m->holders[3].type, 2);
	assert_int_equal(m->holders[3].mode, 0);
}

static void test_add_sockfact(void **state)
{
	struct bt_model *m = *state;
	struct bt_sockfact a = { .ino = 20, .peer_ino = 21 };
	struct bt_sockfact b = { .ino = 22, .proto = 6, .family = 2, .lport = 80, .rport = 0 };

	assert_int_equal(bt_model_add_sockfact(m, &a), 0);
	assert_int_equal(bt_model_add_sockfact(m, &b), 0);
	assert_int_equal(m->nsocks, 2);
	/* The newest facts of an inode replace the old ones. */
	b.rport = 40000;
	b.raddr[0] = 127;
	assert_int_equal(bt_model_add_sockfact(m, &b), 0);
	assert_int_equal(m->nsocks, 2);
	assert_memory_equal(&m->socks[1], &b, sizeof(b));
	assert_memory_equal(&m->socks[0], &a, sizeof(a));
}

static void test_grow(void **state)
{
	uint32_t *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_true(bt_grow((void **)&v, &cap, 1, sizeof(*v)));
	assert_int_equal(cap, 16);
	/* New room is zeroed. */
	for (size_t i = 0; i < cap; i++)
		assert_int_equal(v[i], 0);
	v[15] = 7;
	/* Enough room: unchanged. */
	assert_true(bt_grow((void **)&v, &cap, 16, sizeof(*v)));
	assert_int_equal(cap, 16);
	/* Doubling until it fits; old content kept, the rest zero. */
	assert_true(bt_grow((void **)&v, &cap, 100, sizeof(*v)));
	assert_int_equal(cap, 128);
	assert_int_equal(v[15], 7);
	for (size_t i = 16; i < cap; i++)
		assert_int_equal(v[i], 0);
	free(v);
}

static void test_resize(void **state)
{
	uint32_t *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_true(bt_resize((void **)&v, &cap, 10, sizeof(*v)));
	assert_int_equal(cap, 10);
	for (size_t i = 0; i < cap; i++)
		assert_int_equal(v[i], 0);
	v[3] = 5;
	v[9] = 6;
	/* Shrinking keeps what stays. */
	assert_true(bt_resize((void **)&v, &cap, 4, sizeof(*v)));
	assert_int_equal(cap, 4);
	assert_int_equal(v[3], 5);
	/* Growing again zeroes the new room: nothing of the old tail comes back. */
	assert_true(bt_resize((void **)&v, &cap, 12, sizeof(*v)));
	assert_int_equal(cap, 12);
	assert_int_equal(v[3], 5);
	for (size_t i = 4; i < cap; i++)
		assert_int_equal(v[i], 0);
	/* No room at all, or more than memory can number: refused, the array kept. */
	assert_false(bt_resize((void **)&v, &cap, 0, sizeof(*v)));
	assert_false(bt_resize((void **)&v, &cap, SIZE_MAX / 2, sizeof(*v)));
	assert_int_equal(cap, 12);
	assert_int_equal(v[3], 5);
	free(v);
}

static void test_growth(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats s = stats_of(1, 1, 0, 0);

	/* Past the first allocation (16) of both arrays, several times. */
	for (uint32_t pid = 1; pid <= 100; pid++) {
		for (uint64_t ch = 0; ch < 40; ch++) {
			struct bt_key k = key_of(pid, BT_KIND_PIPE, BT_DIR_SEND, ch, 0);

			assert_non_null(bt_model_add(m, &k, &s, NULL));
		}
	}
	assert_int_equal(m->nprocs, 100);
	for (uint32_t pid = 1; pid <= 100; pid++) {
		const struct bt_proc *p = bt_model_find(m, pid);

		assert_non_null(p);
		assert_int_equal(p->nrows, 40);
		assert_int_equal(p->rows[39].key.chan, 39);
	}
}

static void test_free_resets(void **state)
{
	struct bt_model *m = *state;
	struct bt_key k = key_of(1, BT_KIND_PIPE, BT_DIR_SEND, 1, 0);
	struct bt_stats s = stats_of(1, 1, 0, 0);
	struct bt_wake_key wk = { .waker = 1, .wakee = 2 };
	struct bt_holder h = { .ino = 1, .pid = 2, .type = 1 };
	struct bt_sockfact f = { .ino = 3 };

	bt_model_add(m, &k, &s, NULL);
	assert_int_equal(bt_model_add_wake(m, &wk, 1), 0);
	assert_int_equal(bt_model_add_holder(m, &h), 0);
	assert_int_equal(bt_model_add_sockfact(m, &f), 0);
	m->duration_ns = 5;
	/* Everything is freed (ASan checks) and reset. */
	bt_model_free(m);
	assert_int_equal(m->nprocs, 0);
	assert_null(m->procs);
	assert_null(m->wakes);
	assert_null(m->holders);
	assert_null(m->socks);
	assert_int_equal(m->nwakes + m->nholders + m->nsocks, 0);
	assert_int_equal(m->duration_ns, 0);
	/* Usable again after free, and freeing twice is harmless. */
	assert_non_null(bt_model_add(m, &k, &s, NULL));
	bt_model_free(m);
	bt_model_free(m);
}

/*
 * The indexes follow every change the model's functions make: sorting,
 * filtering, clearing, dropping. Each lookup is checked against a scan.
 */
static const struct bt_row *scan_row(const struct bt_proc *p, const struct bt_key *k)
{
	for (size_t i = 0; i < p->nrows; i++)
		if (p->rows[i].key.kind == k->kind && p->rows[i].key.dir == k->dir &&
		    p->rows[i].key.chan == k->chan && p->rows[i].key.peer == k->peer)
			return &p->rows[i];
	return NULL;
}

static void check_index(struct bt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i], *newest = NULL;

		for (size_t j = 0; j < m->nprocs; j++)
			if (m->procs[j].pid == p->pid)
				newest = &m->procs[j];
		assert_ptr_equal(bt_model_find(m, p->pid), newest);
		for (size_t r = 0; r < p->nrows; r++) {
			struct bt_stats zero = { 0 };
			size_t had = p->nrows;

			/* Adding nothing to an existing row finds that row. */
			assert_ptr_equal(bt_proc_add_row((struct bt_proc *)p, &p->rows[r].key, &zero,
							 NULL), scan_row(p, &p->rows[r].key));
			assert_int_equal(p->nrows, had);
		}
	}
	for (size_t i = 0; i < m->nwakes; i++) {
		size_t had = m->nwakes;
		uint64_t count = m->wakes[i].count;

		assert_int_equal(bt_model_add_wake(m, &m->wakes[i].key, 0), 0);
		assert_int_equal(m->nwakes, had);
		assert_int_equal(m->wakes[i].count, count);
	}
	for (size_t i = 0; i < m->nstackrows; i++) {
		struct bt_stats one = { .calls = 1 };
		size_t had = m->nstackrows;
		uint64_t calls = m->stackrows[i].calls;

		assert_int_equal(bt_model_add_stackrow(m, &m->stackrows[i].key, &one), 0);
		assert_int_equal(m->nstackrows, had);
		assert_int_equal(m->stackrows[i].calls, calls + 1);
	}
}

static void test_index_follows_changes(void **state)
{
	struct bt_model *m = *state;
	struct bt_stats s = stats_of(1, 10, 0, 0);

	/* Processes in descending pid order, so sorting moves every one. */
	for (uint32_t pid = 300; pid > 0; pid--) {
		for (uint64_t c = 0; c < 7; c++) {
			struct bt_key k = key_of(pid, c % 2 ? BT_KIND_PIPE : BT_KIND_TCP,
						 c % 3 ? BT_DIR_SEND : BT_DIR_RECV, 1000 - c, pid);
			struct bt_wake_key wk = { .waker = pid, .wakee = pid + 1, .chan = c };

			assert_non_null(bt_model_add(m, &k, &s, NULL));
			k.ustack = (int32_t)c;
			assert_int_equal(bt_model_add_stackrow(m, &k, &s), 0);
			assert_int_equal(bt_model_add_wake(m, &wk, 1), 0);
		}
	}
	/* Pid reuse: a second process 7, the one the pid finds. */
	add_reused(m, 7, 99);
	check_index(m);
	bt_model_sort(m);
	check_index(m);
	assert_int_equal(bt_model_find(m, 7)->start_ns, 99);
	for (uint32_t pid = 1; pid <= 300; pid += 2) {
		bt_model_find(m, pid)->harvested = true;
		bt_model_drop_wakes(m, pid + 1);
	}
	check_index(m);
	bt_model_clear_rows(m);
	check_index(m);
	{
		uint32_t keep[] = { 1, 3, 5, 200 };

		bt_model_filter(m, keep, 4, BT_KIND_PIPE);
	}
	check_index(m);
	assert_int_equal(bt_model_find(m, 3)->nrows, 3);
	assert_int_equal(bt_model_find(m, 4)->nrows, 0);
	for (size_t i = 0; i < m->nstackrows; i++)
		assert_int_equal(m->stackrows[i].key.kind, BT_KIND_PIPE);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tu_model_setup, tu_model_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_empty),
		T(test_proc_find_or_add),
		T(test_add_same_key_sums),
		T(test_add_different_keys),
		T(test_per_cpu_sum),
		T(test_add_with_info),
		T(test_sort),
		T(test_clear_rows),
		T(test_find_after_pid_reuse),
		T(test_clear_rows_keeps_harvested),
		T(test_fold_keeps_rows_through_clears),
		T(test_fold_takes_the_facts_it_read),
		T(test_fold_keeps_stacks_through_clears),
		T(test_add_wake),
		T(test_add_holder),
		T(test_add_sockfact),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_resize),
		T(test_growth),
		T(test_free_resets),
		T(test_index_follows_changes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
