// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Graphviz exporter: exact output of small models, escaping of names
 * and channels, and (when graphviz is installed) that `dot` renders it.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "discover/procscan.h"
#include "export/report.h"
#include "testutil.h"

#define DOT_HEAD \
	"digraph boundtrace {\n" \
	"  rankdir=LR;\n" \
	"  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", " \
	"fontname=\"Helvetica\"];\n" \
	"  edge [fontname=\"Helvetica\", fontsize=10, arrowsize=0.7];\n"

/*
 * idle[50] with no traffic; writer[100] writes 1 MiB into pipe 7, read by
 * reader[200] (exited), and wakes it 3 times through a futex; writer also
 * talks tcp to pid 501, which is not in the model (named from /proc).
 */
static void build_model(struct bt_model *m)
{
	struct bt_chan_info tcp = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000, "127.0.0.1",
					  5432);
	struct bt_stats pw = tu_stats(10, 1048576, 0), pr = tu_stats(12, 1048576, 5000);
	struct bt_stats fw = tu_stats(5, 0, 0), fr = tu_stats(3, 0, 90000);
	struct bt_stats tw = tu_stats(2, 100, 0);
	struct bt_proc *p;

	bt_model_init(m);
	tu_proc(m, 100, "writer");
	p = tu_proc(m, 200, "reader");
	p->exited = true;
	tu_proc(m, 50, "idle");
	tu_row(m, 100, BT_KIND_PIPE, BT_DIR_SEND, 7, &pw, NULL);
	tu_row(m, 200, BT_KIND_PIPE, BT_DIR_RECV, 7, &pr, NULL);
	tu_row(m, 100, BT_KIND_FUTEX, BT_DIR_WAKE, 0x1000, &fw, NULL);
	tu_row(m, 200, BT_KIND_FUTEX, BT_DIR_WAIT, 0x2000, &fr, NULL);
	tu_wake(m, 100, 200, BT_KIND_FUTEX, BT_DIR_WAKE, 0x1000, 3);
	tu_row(m, 100, BT_KIND_TCP, BT_DIR_SEND, 1001, &tw, &tcp);
	tu_sock_inet(m, 60, IPPROTO_TCP, AF_INET, "127.0.0.1", 5432, "127.0.0.1", 40000);
	tu_holder(m, 60, 501, BT_FD_SOCKET, 0);
	bt_model_sort(m);
}

/*
 * Pen width 1..5 on a log scale of bytes (futex: wakeups) against the
 * heaviest edge: 1 + 4 * ln(1 + 3) / ln(1 + 2^20) = 1.40 for the futex.
 * The edge to pid 501 has no node: it is left out; so is idle[50], which
 * neither crossed a boundary nor was named.
 */
static const char golden_dot[] =
	DOT_HEAD
	"  p100_1 [label=\"writer\\n[100]\"];\n"
	"  p200_2 [label=\"reader\\n[200] exited\"];\n"
	"  p100_1 -> p200_2 [label=\"pipe:[7]\\n10 calls, 1.0 MiB\", penwidth=5.00];\n"
	"  p100_1 -> p200_2 [label=\"futex:0x1000\\n5 wakes, 3 woken\", penwidth=1.40, "
	"style=dashed];\n"
	"}\n";

static void test_golden(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	out = tu_render(bt_report_dot, &m);
	assert_string_equal(out, golden_dot);
	free(out);
	bt_model_free(&m);
}

static void test_empty_model(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	bt_model_init(&m);
	out = tu_render(bt_report_dot, &m);
	assert_string_equal(out, DOT_HEAD "}\n");
	free(out);
	bt_model_free(&m);
}

/* a"b\c[10] sends on a unix socket bound to /tmp/q"s\k to x\[20]; ?[30] has no name. */
static void build_escape_model(struct bt_model *m)
{
	struct bt_chan_info a = tu_unix(BT_KIND_UNIX_STREAM, 22, "/tmp/q\"s\\k");
	struct bt_chan_info b = tu_unix(BT_KIND_UNIX_STREAM, 21, "/tmp/q\"s\\k");
	struct bt_stats s = tu_stats(1, 10, 0);

	bt_model_init(m);
	tu_proc(m, 10, "a\"b\\c");
	tu_proc(m, 20, "x\\");
	tu_proc(m, 30, "")->target = true;	/* named: listed though silent */
	tu_row(m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 21, &s, &a);
	tu_row(m, 20, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 22, &s, &b);
	bt_model_sort(m);
}

static void test_escaping(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_escape_model(&m);
	out = tu_render(bt_report_dot, &m);
	assert_string_equal(out,
		DOT_HEAD
		"  p10_0 [label=\"a\\\"b\\\\c\\n[10]\"];\n"
		"  p20_1 [label=\"x\\\\\\n[20]\"];\n"
		"  p30_2 [label=\"?\\n[30]\"];\n"
		"  p10_0 -> p20_1 [label=\"unix:/tmp/q\\\"s\\\\k\\n1 calls, 10 B\", "
		"penwidth=5.00];\n"
		"}\n");
	free(out);
	bt_model_free(&m);
}

/* After pid reuse each process is its own node; edges go to the newest. */
static void test_pid_reuse(void **state)
{
	struct bt_stats s = tu_stats(1, 1, 0);
	struct bt_model m;
	struct bt_proc *p;
	char *out;

	(void)state;
	bt_model_init(&m);
	tu_proc(&m, 100, "w");
	p = tu_proc(&m, 200, "old");
	p->start_ns = 1;
	p->exited = true;
	p = bt_model_new_proc(&m, 200);
	assert_non_null(p);
	strcpy(p->comm, "new");
	p->start_ns = 2;
	tu_row(&m, 100, BT_KIND_PIPE, BT_DIR_SEND, 7, &s, NULL);
	tu_row(&m, 200, BT_KIND_PIPE, BT_DIR_RECV, 7, &s, NULL);
	bt_model_sort(&m);
	out = tu_render(bt_report_dot, &m);
	assert_string_equal(out,
		DOT_HEAD
		"  p100_0 [label=\"w\\n[100]\"];\n"
		"  p200_1 [label=\"old\\n[200] exited\"];\n"
		"  p200_2 [label=\"new\\n[200]\"];\n"
		"  p100_0 -> p200_2 [label=\"pipe:[7]\\n1 calls, 1 B\", penwidth=5.00];\n"
		"}\n");
	free(out);
	bt_model_free(&m);
}

static bool have_dot(void)
{
	return system("command -v dot >/dev/null 2>&1") == 0;
}

/* Renders model with `dot -Tsvg`; returns the SVG text (caller frees). */
static char *render_svg(const struct bt_model *m)
{
	char in[] = "/tmp/bt_test_dot_XXXXXX", out[sizeof(in) + 4], cmd[256];
	char *svg = NULL;
	size_t len = 0;
	FILE *f;
	int fd = mkstemp(in);

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(tu_write(bt_report_dot, f, m), 0);
	assert_int_equal(fclose(f), 0);
	snprintf(out, sizeof(out), "%s.svg", in);
	snprintf(cmd, sizeof(cmd), "dot -Tsvg '%s' -o '%s' 2>/dev/null", in, out);
	assert_int_equal(system(cmd), 0);
	f = fopen(out, "r");
	assert_non_null(f);
	assert_true(getdelim(&svg, &len, 0, f) > 0);
	fclose(f);
	unlink(in);
	unlink(out);
	return svg;
}

static void test_renders_with_dot(void **state)
{
	struct bt_model m;
	char *svg;

	(void)state;
	if (!have_dot())
		skip();
	build_model(&m);
	svg = render_svg(&m);
	assert_non_null(strstr(svg, "<svg"));
	assert_non_null(strstr(svg, ">writer</text>"));
	assert_non_null(strstr(svg, ">[200] exited</text>"));
	assert_non_null(strstr(svg, ">10 calls, 1.0 MiB</text>"));
	free(svg);
	bt_model_free(&m);

	/* The escaped names come out as they went in. */
	build_escape_model(&m);
	svg = render_svg(&m);
	assert_non_null(strstr(svg, ">a&quot;b\\c</text>"));
	assert_non_null(strstr(svg, ">x\\</text>"));
	assert_non_null(strstr(svg, ">unix:/tmp/q&quot;s\\k</text>"));
	free(svg);
	bt_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_empty_model),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_renders_with_dot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
