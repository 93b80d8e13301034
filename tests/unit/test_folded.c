// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `-f folded` and `-f svg` (user/report_folded.c) on hand-built models
 * with --stacks aggregates and resolved stacks: the exact lines for each
 * --weight, missing stacks, sanitized names, the SVG's shape, and what a
 * model without stacks gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "model/model.h"
#include "export/report.h"
#include "testutil.h"

#define WRITER	100
#define READER	200
#define PIPE	7
#define KSTACK	2
#define CALLER	0x401234ull

#define KFOLD	"entry_SYSCALL_64_after_hwframe;do_syscall_64;ksys_write;pipe_write"

static struct bt_key stack_key(uint32_t pid, unsigned int kind, unsigned int dir, uint64_t chan,
			       int32_t ustack, int32_t kstack, uint64_t ucaller)
{
	struct bt_key k = tu_key(pid, kind, dir, chan);

	k.ustack = ustack;
	k.kstack = kstack;
	k.ucaller = ucaller;
	return k;
}

static void stackrow(struct bt_model *m, const struct bt_key *k, uint64_t calls, uint64_t bytes,
		     uint64_t blocked_ns)
{
	struct bt_stats st = tu_stats(calls, bytes, blocked_ns);

	assert_int_equal(bt_model_add_stackrow(m, k, &st), 0);
}

/*
 * writer[100] writes pipe 7, read by reader[200], from two call sites:
 * main;send_request (3 calls, 300 B, 1.5 ms blocked, in two snapshots)
 * and main;flush, restored by its caller (1 call, 4096 B, 999 ns). Both
 * through one kernel path.
 */
static void build_model(struct bt_model *m, enum bt_weight weight, const char *wcomm,
			const char *rcomm)
{
	struct bt_stats ws = tu_stats(4, 4396, 1500999), rs = tu_stats(4, 4396, 0);
	struct bt_key send = stack_key(WRITER, BT_KIND_PIPE, BT_DIR_SEND, PIPE, 1, KSTACK, 0);
	struct bt_key flush = stack_key(WRITER, BT_KIND_PIPE, BT_DIR_SEND, PIPE, 3, KSTACK,
					CALLER);
	struct bt_proc *p;

	bt_model_init(m);
	m->stack_mode = true;
	m->weight = weight;
	p = tu_proc(m, WRITER, wcomm);
	p->target = true;
	tu_row(m, WRITER, BT_KIND_PIPE, BT_DIR_SEND, PIPE, &ws, NULL);
	p = tu_proc(m, READER, rcomm);
	p->target = true;
	tu_row(m, READER, BT_KIND_PIPE, BT_DIR_RECV, PIPE, &rs, NULL);
	stackrow(m, &send, 2, 200, 1000000);
	stackrow(m, &flush, 1, 4096, 999);
	/* The same key again: summed into the first row. */
	stackrow(m, &send, 1, 100, 500000);
	assert_int_equal(m->nstackrows, 2);
	assert_int_equal(bt_model_add_stack(m, WRITER, 1, 0, "main;send_request"), 0);
	/* Stack 3 without the caller is another stack: not the one used. */
	assert_int_equal(bt_model_add_stack(m, WRITER, 3, 0, "main;wrong"), 0);
	assert_int_equal(bt_model_add_stack(m, WRITER, 3, CALLER, "main;flush"), 0);
	/* User stack ids are per process: the reader's 1 is not the writer's. */
	assert_int_equal(bt_model_add_stack(m, READER, 1, 0, "reader_main"), 0);
	assert_int_equal(bt_model_add_stack(m, 0, KSTACK, 0, KFOLD), 0);
	m->duration_ns = 1000000000ull;
	bt_model_sort(m);
}

static void expect_folded(const struct bt_model *m, const char *want)
{
	char *out = tu_render(bt_report_folded, m);

	assert_string_equal(out, want);
	free(out);
}

static void test_weight_calls(void **state)
{
	struct bt_model m;

	(void)state;
	build_model(&m, BT_WEIGHT_CALLS, "writer", "reader");
	/* Sorted by the line's text. */
	expect_folded(&m,
		"writer;main;flush;-;" KFOLD ";pipe:[7]\u2192reader 1\n"
		"writer;main;send_request;-;" KFOLD ";pipe:[7]\u2192reader 3\n");
	bt_model_free(&m);
}

static void test_weight_bytes(void **state)
{
	struct bt_model m;

	(void)state;
	build_model(&m, BT_WEIGHT_BYTES, "writer", "reader");
	expect_folded(&m,
		"writer;main;flush;-;" KFOLD ";pipe:[7]\u2192reader 4096\n"
		"writer;main;send_request;-;" KFOLD ";pipe:[7]\u2192reader 300\n");
	bt_model_free(&m);
}

/* Microseconds, rounded down: 999 ns weighs nothing and is left out. */
static void test_weight_blocked(void **state)
{
	struct bt_model m;

	(void)state;
	build_model(&m, BT_WEIGHT_BLOCKED, "writer", "reader");
	expect_folded(&m, "writer;main;send_request;-;" KFOLD ";pipe:[7]\u2192reader 1500\n");
	bt_model_free(&m);
}

/* A stack that was never resolved, or resolved to nothing, is [lost]. */
static void test_lost_stacks(void **state)
{
	struct bt_key nouser = stack_key(WRITER, BT_KIND_PIPE, BT_DIR_SEND, PIPE, 9, KSTACK, 0);
	struct bt_key nokern = stack_key(WRITER, BT_KIND_PIPE, BT_DIR_SEND, PIPE, 1, 4, 0);
	struct bt_key neither = stack_key(WRITER, BT_KIND_PIPE, BT_DIR_SEND, PIPE,
					  BT_STACK_LOST, BT_STACK_LOST, 0);
	struct bt_model m;

	(void)state;
	build_model(&m, BT_WEIGHT_CALLS, "writer", "reader");
	stackrow(&m, &nouser, 5, 0, 0);
	stackrow(&m, &nokern, 6, 0, 0);
	stackrow(&m, &neither, 7, 0, 0);
	/* Every frame of it was the tracing hook. */
	assert_int_equal(bt_model_add_stack(&m, 0, 4, 0, ""), 0);
	expect_folded(&m,
		"writer;[lost];-;[lost];pipe:[7]\u2192reader 7\n"
		"writer;[lost];-;" KFOLD ";pipe:[7]\u2192reader 5\n"
		"writer;main;flush;-;" KFOLD ";pipe:[7]\u2192reader 1\n"
		"writer;main;send_request;-;[lost];pipe:[7]\u2192reader 6\n"
		"writer;main;send_request;-;" KFOLD ";pipe:[7]\u2192reader 3\n");
	bt_model_free(&m);
}

/*
 * Rows that differ only in what the line does not show (another return
 * address in the same caller, another stack id with the same frames) are
 * one line, their weights summed.
 */
static void test_same_line_merged(void **state)
{
	struct bt_key other_caller = stack_key(WRITER, BT_KIND_PIPE, BT_DIR_SEND, PIPE, 1,
					       KSTACK, 0x405678);
	struct bt_key other_kstack = stack_key(WRITER, BT_KIND_PIPE, BT_DIR_SEND, PIPE, 3, 5,
					       CALLER);
	struct bt_model m;

	(void)state;
	build_model(&m, BT_WEIGHT_CALLS, "writer", "reader");
	stackrow(&m, &other_caller, 4, 0, 0);
	stackrow(&m, &other_kstack, 10, 0, 0);
	assert_int_equal(bt_model_add_stack(&m, WRITER, 1, 0x405678, "main;send_request"), 0);
	assert_int_equal(bt_model_add_stack(&m, 0, 5, 0, KFOLD), 0);
	expect_folded(&m,
		"writer;main;flush;-;" KFOLD ";pipe:[7]\u2192reader 11\n"
		"writer;main;send_request;-;" KFOLD ";pipe:[7]\u2192reader 7\n");
	bt_model_free(&m);
}

/* ';' and blanks in the process, the peer and the channel would break the format. */
static void test_names_sanitized(void **state)
{
	struct bt_chan_info wi = tu_unix(BT_KIND_UNIX_STREAM, 12, "/tmp/my sock");
	struct bt_chan_info ri = tu_unix(BT_KIND_UNIX_STREAM, 11, "");
	struct bt_key k = stack_key(WRITER, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 11, 1, KSTACK, 0);
	struct bt_key rk = stack_key(READER, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 12, 1, KSTACK, 0);
	struct bt_stats st = tu_stats(2, 20, 0);
	struct bt_model m;

	(void)state;
	build_model(&m, BT_WEIGHT_CALLS, "my app;v2", "rd;x\ty");
	tu_row(&m, WRITER, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 11, &st, &wi);
	tu_row(&m, READER, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 12, &st, &ri);
	stackrow(&m, &k, 2, 20, 0);
	stackrow(&m, &rk, 2, 20, 0);
	expect_folded(&m,
		"my_app_v2;main;flush;-;" KFOLD ";pipe:[7]\u2192rd_x_y 1\n"
		"my_app_v2;main;send_request;-;" KFOLD ";pipe:[7]\u2192rd_x_y 3\n"
		"my_app_v2;main;send_request;-;" KFOLD
		";unix_stream:/tmp/my_sock[11->12]\u2192rd_x_y 2\n"
		/* A receive points the other way; the reader's own stack 1. */
		"rd_x_y;reader_main;-;" KFOLD ";unix_stream:[12->11]\u2190my_app_v2 2\n");
	bt_model_free(&m);
}

/* Runs write on m with stderr captured; returns stdout's text, *err stderr's. */
static char *render_capture(tu_writer_fn write, const struct bt_model *m, char **err)
{
	char *out = NULL, *e;
	size_t len = 0, elen;
	FILE *f = open_memstream(&out, &len), *tmp = tmpfile();
	int saved, rc;

	assert_non_null(f);
	assert_non_null(tmp);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	rc = tu_write(write, f, m);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(rc, 0);
	assert_int_equal(fclose(f), 0);
	elen = (size_t)ftell(tmp);
	e = calloc(1, elen + 1);
	assert_non_null(e);
	rewind(tmp);
	assert_int_equal(fread(e, 1, elen, tmp), elen);
	fclose(tmp);
	*err = e;
	return out;
}

static void test_without_stacks(void **state)
{
	static const char msg[] = "boundtrace: no stacks were taken (run with --stacks)\n";
	struct bt_model m;
	char *out, *err;

	(void)state;
	build_model(&m, BT_WEIGHT_CALLS, "writer", "reader");
	m.stack_mode = false;
	out = render_capture(bt_report_folded, &m, &err);
	assert_string_equal(out, "");
	assert_string_equal(err, msg);
	free(out);
	free(err);
	out = render_capture(bt_report_svg, &m, &err);
	assert_string_equal(out, "");
	assert_string_equal(err, msg);
	free(out);
	free(err);
	/* With stacks, nothing goes to stderr. */
	m.stack_mode = true;
	out = render_capture(bt_report_folded, &m, &err);
	assert_string_equal(err, "");
	free(out);
	free(err);
	bt_model_free(&m);
}

static void expect_title(const char *svg, const char *name)
{
	char needle[256];

	snprintf(needle, sizeof(needle), "<title>%s (", name);
	if (!strstr(svg, needle))
		fail_msg("no frame '%s' in the SVG", name);
}

static void test_svg(void **state)
{
	static const char *const frames[] = {
		"writer", "main", "send_request", "flush", "-", "entry_SYSCALL_64_after_hwframe",
		"do_syscall_64", "ksys_write", "pipe_write", "pipe:[7]\u2192reader",
	};
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m, BT_WEIGHT_CALLS, "writer", "reader");
	out = tu_render(bt_report_svg, &m);
	/*
	 * all, writer, main, then two branches of send_request (flush), -,
	 * the four kernel frames and the boundary: 3 + 2 * 7.
	 */
	tu_check_xml(out, 17);
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++)
		expect_title(out, frames[i]);
	assert_non_null(strstr(out, "<title>writer (4 calls, 100.00%)</title>"));
	assert_non_null(strstr(out, "<title>flush (1 calls, 25.00%)</title>"));
	assert_non_null(strstr(out, "boundtrace: boundary crossings by stack"));
	assert_null(strstr(out, "wrong"));
	free(out);
	bt_model_free(&m);

	/* Blocked time: the unit says so; the 999 ns call site is gone. */
	build_model(&m, BT_WEIGHT_BLOCKED, "writer", "reader");
	out = tu_render(bt_report_svg, &m);
	tu_check_xml(out, 10);
	assert_non_null(strstr(out, "<title>writer (1,500 us blocked, 100.00%)</title>"));
	assert_null(strstr(out, "<title>flush ("));
	free(out);
	bt_model_free(&m);
}

static void test_write_error(void **state)
{
	static const tu_writer_fn writers[] = { bt_report_folded, bt_report_svg };
	FILE *f = tu_dev_full();
	struct bt_model m;

	(void)state;
	build_model(&m, BT_WEIGHT_CALLS, "writer", "reader");
	tu_expect_write_errors(f, &m, writers, sizeof(writers) / sizeof(writers[0]));
	bt_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weight_calls),
		cmocka_unit_test(test_weight_bytes),
		cmocka_unit_test(test_weight_blocked),
		cmocka_unit_test(test_lost_stacks),
		cmocka_unit_test(test_same_line_merged),
		cmocka_unit_test(test_names_sanitized),
		cmocka_unit_test(test_without_stacks),
		cmocka_unit_test(test_svg),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
