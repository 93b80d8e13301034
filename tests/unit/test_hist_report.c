// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Histograms out: the JSON buckets of every row and edge add up to the
 * calls they describe, exactly; -f hist against golden text; a name with
 * terminal control bytes is escaped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "lib/escape.h"
#include "model/model.h"
#include "export/report.h"
#include "testutil.h"

/*
 * writer[10] sends 7 messages on pipe 5 (one failed: EAGAIN), reader[11]
 * receives them in 6 calls plus the EOF read. Histograms as the kernel
 * fills them: every call in blocked_hist, successful byte calls in size_hist.
 */
static void build_model(struct bt_model *m, const char *writer_comm)
{
	struct bt_stats w = { .calls = 7, .errors = 1, .bytes = 6 * 100, .blocked_ns = 7000,
			      .max_blocked_ns = 3000 };
	struct bt_stats r = { .calls = 7, .bytes = 600, .blocked_ns = 90000,
			      .max_blocked_ns = 40000 };
	struct bt_proc *p;

	w.size_hist[6] = 6;		/* 100 bytes: [64, 128) */
	w.blocked_hist[9] = 4;		/* [512, 1024) ns */
	w.blocked_hist[10] = 2;
	w.blocked_hist[11] = 1;		/* the 3000 ns one */
	r.size_hist[0] = 1;		/* the EOF read: 0 bytes */
	r.size_hist[6] = 4;		/* 4 reads of 100 */
	r.size_hist[8] = 2;		/* and 2 of 100 bytes joined: 200 */
	r.blocked_hist[12] = 3;
	r.blocked_hist[13] = 3;
	r.blocked_hist[15] = 1;		/* 40000 ns */
	bt_model_init(m);
	p = tu_proc(m, 10, writer_comm);
	p->target = true;
	tu_row(m, 10, BT_KIND_PIPE, BT_DIR_SEND, 5, &w, NULL);
	p = tu_proc(m, 11, "reader");
	p->target = true;
	tu_row(m, 11, BT_KIND_PIPE, BT_DIR_RECV, 5, &r, NULL);
	m->duration_ns = 1000000;
	bt_model_sort(m);
}

/* Sum of the "count"s in the array after the n-th occurrence of key in json. */
static uint64_t bucket_sum(const char *json, const char *key, int n)
{
	const char *p = json, *end;
	uint64_t sum = 0;

	for (int i = 0; i <= n; i++) {
		p = strstr(p, key);
		assert_non_null(p);
		p += strlen(key);
	}
	end = strchr(p, ']');
	assert_non_null(end);
	while ((p = strstr(p, "\"count\":")) && p < end) {
		p += strlen("\"count\":");
		sum += strtoull(p, NULL, 10);
	}
	return sum;
}

static void test_json_buckets_sum_to_calls(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m, "writer");
	out = tu_render(bt_report_json, &m);
	/* Rows: blocked buckets are every call; sizes every successful call. */
	assert_int_equal(bucket_sum(out, "\"blocked_hist\":", 0), m.procs[0].rows[0].st.calls);
	assert_int_equal(bucket_sum(out, "\"size_hist\":", 0),
			 m.procs[0].rows[0].st.calls - m.procs[0].rows[0].st.errors);
	assert_int_equal(bucket_sum(out, "\"blocked_hist\":", 1), m.procs[1].rows[0].st.calls);
	assert_int_equal(bucket_sum(out, "\"size_hist\":", 1), m.procs[1].rows[0].st.calls);
	/* The edge: the writer's 6 successful sends; the reader's 7 blocked calls. */
	assert_non_null(strstr(out, "\"edges\":[{\"from\":10,\"to\":11,"));
	assert_int_equal(bucket_sum(strstr(out, "\"edges\""), "\"size_hist\":", 0), 6);
	assert_int_equal(bucket_sum(strstr(out, "\"edges\""), "\"blocked_hist\":", 0), 7);
	assert_non_null(strstr(out, "\"blocked_hist\":[{\"low\":512,\"high\":1023,\"count\":4},"
				    "{\"low\":1024,\"high\":2047,\"count\":2},"
				    "{\"low\":2048,\"high\":4095,\"count\":1}]"));
	assert_non_null(strstr(out, "\"size_hist\":[{\"low\":0,\"high\":1,\"count\":1},"
				    "{\"low\":64,\"high\":127,\"count\":4},"
				    "{\"low\":256,\"high\":511,\"count\":2}]"));
	free(out);
	bt_model_free(&m);
}

/* The open top slot has no "high". */
static void test_json_top_slot(void **state)
{
	struct bt_stats s = { .calls = 1, .blocked_ns = 5000000000ull,
			      .max_blocked_ns = 5000000000ull };
	struct bt_model m;
	char *out;

	(void)state;
	s.blocked_hist[BT_HIST_SLOTS - 1] = 1;
	bt_model_init(&m);
	tu_row(&m, 3, BT_KIND_FUTEX, BT_DIR_WAIT, 0x40, &s, NULL);
	out = tu_render(bt_report_json, &m);
	assert_non_null(strstr(out, "\"blocked_hist\":[{\"low\":2147483648,\"count\":1}]"));
	/* A futex moves no bytes: no size histogram. */
	assert_null(strstr(out, "size_hist"));
	free(out);
	bt_model_free(&m);
}

static const char golden_hist[] =
	"boundtrace: per-call sizes and blocked times, log2 buckets [low, high)\n"
	"\n"
	"wr\\x1b[2Jit\\\\er[10] pipe:[5] send: size (bytes), 6 calls\n"
	"[64, 128)               6 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"\n"
	"wr\\x1b[2Jit\\\\er[10] pipe:[5] send: blocked (ns), 7 calls\n"
	"[512, 1K)               4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"[1K, 2K)                2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	"[2K, 4K)                1 |@@@@@@@@@@@@@                                       |\n"
	"\n"
	"reader[11] pipe:[5] recv: size (bytes), 7 calls\n"
	"[0, 2)                  1 |@@@@@@@@@@@@@                                       |\n"
	"[2, 4)                  0 |                                                    |\n"
	"[4, 8)                  0 |                                                    |\n"
	"[8, 16)                 0 |                                                    |\n"
	"[16, 32)                0 |                                                    |\n"
	"[32, 64)                0 |                                                    |\n"
	"[64, 128)               4 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"[128, 256)              0 |                                                    |\n"
	"[256, 512)              2 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |\n"
	"\n"
	"reader[11] pipe:[5] recv: blocked (ns), 7 calls\n"
	"[4K, 8K)                3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"[8K, 16K)               3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"[16K, 32K)              0 |                                                    |\n"
	"[32K, 64K)              1 |@@@@@@@@@@@@@@@@@                                   |\n"
	"\n"
	"wr\\x1b[2Jit\\\\er[10] \u2192 reader[11] via pipe:[5]: size (bytes), 6 sends\n"
	"[64, 128)               6 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"\n"
	"wr\\x1b[2Jit\\\\er[10] \u2192 reader[11] via pipe:[5]: receiver blocked (ns), 7 receives\n"
	"[4K, 8K)                3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"[8K, 16K)               3 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n"
	"[16K, 32K)              0 |                                                    |\n"
	"[32K, 64K)              1 |@@@@@@@@@@@@@@@@@                                   |\n"
	"\n"
	" lost map_full: 2\n";

static void test_hist_golden(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	/* A name that would clear the screen, and a backslash. */
	build_model(&m, "wr\x1b[2Jit\\er");
	m.lost[BT_LOSS_MAP_FULL] = 2;
	out = tu_render(bt_report_hist, &m);
	assert_string_equal(out, golden_hist);
	free(out);
	bt_model_free(&m);
}

/*
 * --sockets-only timed no call: no exporter shows a blocked time (a
 * bucket of zeros would read as calls that never waited), each says so.
 */
static void test_sockets_only_shows_no_blocked_time(void **state)
{
	static const struct {
		tu_writer_fn fn;
		const char *says, *keeps;
	} fmts[] = {
		{ bt_report_hist, "sockets only: no blocked times were measured", "size (bytes)" },
		{ bt_report_json, "\"sockets_only\":true", "\"size_hist\"" },
		{ bt_report_table, "blocked time and wakeups were not measured", "6 sends" },
		{ bt_report_openmetrics, NULL, "boundtrace_message_size_bytes" },
	};
	struct bt_model m;

	(void)state;
	build_model(&m, "writer");
	m.sockets_only = true;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		char *out = tu_render(fmts[i].fn, &m);

		if (fmts[i].says)
			assert_non_null(strstr(out, fmts[i].says));
		assert_non_null(strstr(out, fmts[i].keeps));
		assert_null(strstr(out, "blocked ("));
		assert_null(strstr(out, "blocked_"));
		assert_null(strstr(out, "wakeups\""));
		assert_null(strstr(out, " wakeups,"));
		free(out);
	}
	bt_model_free(&m);
}

static void test_escape_term(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(bt_escape_term("plain", buf, sizeof(buf)), "plain");
	assert_string_equal(bt_escape_term("a\nb\tc\x7f", buf, sizeof(buf)),
			    "a\\x0ab\\x09c\\x7f");
	/* Valid UTF-8 passes; a C1 control (U+009B, CSI) and stray bytes do not. */
	assert_string_equal(bt_escape_term("caf\xc3\xa9", buf, sizeof(buf)), "caf\xc3\xa9");
	assert_string_equal(bt_escape_term("\xc2\x9b" "31m", buf, sizeof(buf)),
			    "\\xc2\\x9b31m");
	assert_string_equal(bt_escape_term("\xff\xc3", buf, sizeof(buf)), "\\xff\\xc3");
	assert_string_equal(bt_escape_term("back\\slash", buf, sizeof(buf)), "back\\\\slash");
	/* Truncated at a whole escape, always terminated. */
	assert_string_equal(bt_escape_term("ab\x01", buf, 6), "ab");
	assert_string_equal(bt_escape_term("abc", buf, 1), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_buckets_sum_to_calls),
		cmocka_unit_test(test_json_top_slot),
		cmocka_unit_test(test_hist_golden),
		cmocka_unit_test(test_sockets_only_shows_no_blocked_time),
		cmocka_unit_test(test_escape_term),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
