// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The exporters on a model built by hand: JSON against golden text, the table by pieces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "model.h"
#include "report.h"

#define FUTEX_ADDR 0x7f00deadbeefull

/* worker[4242]: a pipe it writes to and a futex it wakes. */
static void build_model(struct bt_model *m)
{
	struct bt_key pipe = { .tgid = 4242, .kind = BT_KIND_PIPE, .dir = BT_DIR_SEND,
			       .chan = 9001 };
	struct bt_key futex = { .tgid = 4242, .kind = BT_KIND_FUTEX, .dir = BT_DIR_WAKE,
				.chan = FUTEX_ADDR };
	struct bt_stats ps = { .calls = 10, .bytes = 40960, .blocked_ns = 1500000,
			       .max_blocked_ns = 500000 };
	struct bt_stats fs = { .calls = 3, .woken = 2, .blocked_ns = 4500,
			       .max_blocked_ns = 2000 };
	struct bt_proc *p;

	bt_model_init(m);
	p = bt_model_proc(m, 4242);
	assert_non_null(p);
	strcpy(p->comm, "worker");
	p->start_ns = 123;
	/* Added futex first: the sort must put the pipe (lower kind) first. */
	assert_non_null(bt_model_add(m, &futex, &fs, NULL));
	assert_non_null(bt_model_add(m, &pipe, &ps, NULL));
	m->duration_ns = 2500000000ull;
	m->lost[BT_LOSS_EVENTS] = 1;
	bt_model_sort(m);
}

typedef int (*writer_fn)(FILE *f, const struct bt_model *m);

/* Runs an exporter into memory; the caller frees. */
static char *render(writer_fn write, const struct bt_model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(write(f, m), 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static const char golden_json[] =
	"{\"version\":1,\"duration_ns\":2500000000,\"processes\":["
	"{\"pid\":4242,\"comm\":\"worker\",\"exited\":false,\"boundaries\":["
	"{\"kind\":\"pipe\",\"channel\":\"pipe:[9001]\",\"direction\":\"send\","
	"\"calls\":10,\"bytes\":40960,\"errors\":0,\"blocked_ns\":1500000,"
	"\"max_blocked_ns\":500000},"
	"{\"kind\":\"futex\",\"channel\":\"futex:0x7f00deadbeef\",\"direction\":\"wake\","
	"\"calls\":3,\"bytes\":0,\"errors\":0,\"blocked_ns\":4500,\"max_blocked_ns\":2000,"
	"\"woken\":2}]}],"
	"\"lost\":{\"map_full\":0,\"events\":1,\"no_entry\":0,\"mmsg_truncated\":0,"
	"\"pid_out_of_range\":0}}\n";

static void test_json_golden(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	out = render(bt_report_json, &m);
	assert_string_equal(out, golden_json);
	free(out);
	bt_model_free(&m);
}

static void test_json_empty_model(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	bt_model_init(&m);
	out = render(bt_report_json, &m);
	assert_string_equal(out,
		"{\"version\":1,\"duration_ns\":0,\"processes\":[],"
		"\"lost\":{\"map_full\":0,\"events\":0,\"no_entry\":0,\"mmsg_truncated\":0,"
		"\"pid_out_of_range\":0}}\n");
	free(out);
	bt_model_free(&m);
}

static void test_json_path_exited_unnamed(void **state)
{
	struct bt_key k = { .tgid = 7, .kind = BT_KIND_UNIX_STREAM, .dir = BT_DIR_RECV,
			    .chan = 11, .peer = 0 };
	struct bt_chan_info info = { .kind = BT_KIND_UNIX_STREAM, .peer_ino = 12,
				     .path = "/run/a\"b.sock" };
	struct bt_stats s = { .calls = 1, .bytes = 5, .errors = 1 };
	struct bt_model m;
	char *out;

	(void)state;
	bt_model_init(&m);
	assert_non_null(bt_model_add(&m, &k, &s, &info));
	m.procs[0].exited = true;
	out = render(bt_report_json, &m);
	assert_string_equal(out,
		"{\"version\":1,\"duration_ns\":0,\"processes\":["
		"{\"pid\":7,\"comm\":\"?\",\"exited\":true,\"boundaries\":["
		"{\"kind\":\"unix_stream\",\"channel\":\"unix:/run/a\\\"b.sock[11->12]\","
		"\"direction\":\"recv\",\"calls\":1,\"bytes\":5,\"errors\":1,\"blocked_ns\":0,"
		"\"max_blocked_ns\":0,\"path\":\"/run/a\\\"b.sock\"}]}],"
		"\"lost\":{\"map_full\":0,\"events\":0,\"no_entry\":0,\"mmsg_truncated\":0,"
		"\"pid_out_of_range\":0}}\n");
	free(out);
	bt_model_free(&m);
}

/*
 * The table line that contains needle, split on blanks, must be exactly
 * the expected words (NULL-terminated): content and order, not widths.
 */
static void expect_line_words(const char *table, const char *needle, const char *const *words)
{
	const char *hit = strstr(table, needle), *start, *end;
	char line[512], *save = NULL, *w;
	size_t i = 0;

	if (!hit)
		fail_msg("no line with '%s' in:\n%s", needle, table);
	for (start = hit; start > table && start[-1] != '\n'; start--)
		;
	end = strchr(hit, '\n');
	assert_non_null(end);
	assert_true((size_t)(end - start) < sizeof(line));
	memcpy(line, start, end - start);
	line[end - start] = 0;
	for (w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save), i++) {
		if (!words[i])
			fail_msg("extra word '%s' in line with '%s'", w, needle);
		assert_string_equal(w, words[i]);
	}
	if (words[i])
		fail_msg("missing word '%s' in line with '%s'", words[i], needle);
}

static void test_table(void **state)
{
	static const char *const header[] = {
		"KIND", "CHANNEL", "DIR", "CALLS", "BYTES", "MEAN", "BLOCKED", "MAX", NULL,
	};
	static const char *const pipe[] = {
		"pipe", "pipe:[9001]", "send", "10", "40.0", "KiB", "4.0", "KiB",
		"1.5", "ms", "500", "us", NULL,
	};
	static const char *const futex[] = {
		"futex", "futex:0x7f00deadbeef", "wake", "3", "2", "woken", "-",
		"4.5", "us", "2.0", "us", NULL,
	};
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	out = render(bt_report_table, &m);
	assert_true(strncmp(out, "boundtrace: 1 process, 2.5 s traced\n\nworker[4242]\n", 49) == 0);
	expect_line_words(out, "KIND", header);
	expect_line_words(out, "pipe:[9001]", pipe);
	expect_line_words(out, "futex:0x", futex);
	/* The pipe row comes first, as sorted. */
	assert_true(strstr(out, "pipe:[9001]") < strstr(out, "futex:0x"));
	/* Every row is indented under its process. */
	assert_non_null(strstr(out, "\n  pipe "));
	assert_non_null(strstr(out, "\n  futex "));
	/* The loss line ends the report. */
	assert_non_null(strstr(out, "\n\n lost events: 1\n"));
	assert_int_equal(out[strlen(out) - 1], '\n');
	free(out);
	bt_model_free(&m);
}

static void test_table_errors_and_states(void **state)
{
	static const char *const recv[] = {
		"pipe", "pipe:[5]", "recv", "1,200", "300", "B", "0", "B",
		"0", "ns", "0", "ns", "1200", "errors", NULL,
	};
	static const char *const wait[] = {
		"futex", "futex:0x10", "wait", "5", "-", "-", "1.0", "s", "1.0", "min", NULL,
	};
	struct bt_key r = { .tgid = 20, .kind = BT_KIND_PIPE, .dir = BT_DIR_RECV, .chan = 5 };
	struct bt_key w = { .tgid = 20, .kind = BT_KIND_FUTEX, .dir = BT_DIR_WAIT, .chan = 0x10 };
	/* All calls failed: the mean must not divide by zero. */
	struct bt_stats rs = { .calls = 1200, .bytes = 300, .errors = 1200 };
	struct bt_stats ws = { .calls = 5, .blocked_ns = 1000000000ull,
			       .max_blocked_ns = 60000000000ull };
	struct bt_model m;
	struct bt_proc *p;
	char *out;

	(void)state;
	bt_model_init(&m);
	p = bt_model_proc(&m, 10);
	strcpy(p->comm, "idle");
	p->exited = true;
	assert_non_null(bt_model_add(&m, &r, &rs, NULL));
	assert_non_null(bt_model_add(&m, &w, &ws, NULL));
	m.lost[BT_LOSS_MAP_FULL] = 2;
	m.lost[BT_LOSS_TARGETS_FULL] = 3;
	m.duration_ns = 90000000000ull;
	bt_model_sort(&m);
	out = render(bt_report_table, &m);
	assert_true(strncmp(out, "boundtrace: 2 processes, 1.5 min traced\n", 40) == 0);
	assert_non_null(strstr(out, "\nidle[10] (exited)\n  no boundary crossings\n"));
	/* No comm: a question mark, and no "(exited)". */
	assert_non_null(strstr(out, "\n?[20]\n"));
	expect_line_words(out, "pipe:[5]", recv);
	expect_line_words(out, "futex:0x10", wait);
	assert_non_null(strstr(out, "\n lost map_full: 2, lost pid_out_of_range: 3\n"));
	free(out);
	bt_model_free(&m);
}

static void test_table_empty(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	bt_model_init(&m);
	out = render(bt_report_table, &m);
	assert_string_equal(out, "boundtrace: 0 processes, 0 ns traced\n");
	free(out);
	bt_model_free(&m);
}

static void test_write_error(void **state)
{
	struct bt_model m;
	FILE *f;

	(void)state;
	f = fopen("/dev/full", "w");
	if (!f)
		skip();
	/* Unbuffered, so the failure shows before the exporter returns. */
	setvbuf(f, NULL, _IONBF, 0);
	build_model(&m);
	assert_int_equal(bt_report_json(f, &m), -1);
	clearerr(f);
	assert_int_equal(bt_report_table(f, &m), -1);
	fclose(f);
	bt_model_free(&m);
}

static void test_find_exporters(void **state)
{
	(void)state;
	assert_non_null(bt_report_find("table"));
	assert_ptr_equal(bt_report_find("table")->write, bt_report_table);
	assert_ptr_equal(bt_report_find("json")->write, bt_report_json);
	assert_string_equal(bt_report_find("json")->name, "json");
	assert_null(bt_report_find("xml"));
	assert_null(bt_report_find(""));
	assert_string_equal(bt_report_format_names(), "table|json");
	/* Built once, the same on every call. */
	assert_string_equal(bt_report_format_names(), "table|json");
}

static void test_loss_names(void **state)
{
	(void)state;
	assert_string_equal(bt_loss_name(BT_LOSS_MAP_FULL), "map_full");
	assert_string_equal(bt_loss_name(BT_LOSS_EVENTS), "events");
	assert_string_equal(bt_loss_name(BT_LOSS_NO_ENTRY), "no_entry");
	assert_string_equal(bt_loss_name(BT_LOSS_MMSG_TRUNC), "mmsg_truncated");
	assert_string_equal(bt_loss_name(BT_LOSS_TARGETS_FULL), "pid_out_of_range");
	assert_string_equal(bt_loss_name(BT_LOSS_MAX), "?");
	for (unsigned int l = 0; l < BT_LOSS_MAX; l++)
		assert_non_null(bt_loss_name(l));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_golden),
		cmocka_unit_test(test_json_empty_model),
		cmocka_unit_test(test_json_path_exited_unnamed),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_errors_and_states),
		cmocka_unit_test(test_table_empty),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_find_exporters),
		cmocka_unit_test(test_loss_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
