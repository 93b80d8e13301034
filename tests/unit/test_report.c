// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The exporters on models built by hand: JSON against golden text, the
 * table by pieces (DOT has its own test_dot.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "model/model.h"
#include "discover/procscan.h"
#include "export/report.h"
#include "testutil.h"

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

	/* 6 calls in [131072, 262144) ns, 4 in [262144, 524288) */
	ps.blocked_hist[17] = 6;
	ps.blocked_hist[18] = 4;
	/* 10 sends of 4096 bytes: [4096, 8192) */
	ps.size_hist[12] = 10;
	/* 3 in [1024, 2048) */
	fs.blocked_hist[10] = 3;
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

/*
 * p50: rank 5 of 10, slot 17: 131072 + 131072 * 5/6; p90: rank 9, 3rd of 4
 * in slot 18: 262144 + 262144 * 3/4; p99: rank 10, the top of slot 18
 * (524288), clamped to the max, 500000. The futex: p50 rank 2 of 3 in
 * slot 10; p90 and p99 the top of slot 10 (2048), clamped to the max, 2000.
 */
static const char golden_json[] =
	"{\"version\":2,\"duration_ns\":2500000000,\"processes\":["
	"{\"pid\":4242,\"comm\":\"worker\",\"start_ns\":123,\"role\":\"peer\",\"traced\":false,\"exited\":false,\"boundaries\":["
	"{\"kind\":\"pipe\",\"channel\":\"pipe:[9001]\",\"direction\":\"send\","
	"\"calls\":10,\"bytes\":40960,\"errors\":0,\"blocked_ns\":1500000,"
	"\"max_blocked_ns\":500000,\"p50_ns\":240298,\"p90_ns\":458752,\"p99_ns\":500000,"
	"\"blocked_hist\":[{\"low\":131072,\"high\":262143,\"count\":6},"
	"{\"low\":262144,\"high\":524287,\"count\":4}],"
	"\"size_hist\":[{\"low\":4096,\"high\":8191,\"count\":10}]},"
	"{\"kind\":\"futex\",\"channel\":\"futex:0x7f00deadbeef\",\"direction\":\"wake\","
	"\"calls\":3,\"bytes\":0,\"errors\":0,\"blocked_ns\":4500,\"max_blocked_ns\":2000,"
	"\"p50_ns\":1706,\"p90_ns\":2000,\"p99_ns\":2000,"
	"\"blocked_hist\":[{\"low\":1024,\"high\":2047,\"count\":3}],"
	"\"woken\":2}]}],"
	"\"edges\":[],"
	"\"lost\":{\"map_full\":0,\"events\":1,\"no_entry\":0,\"mmsg_truncated\":0,"
	"\"pid_out_of_range\":0,\"wakees_overflow\":0,\"episodes\":0,\"stacks\":0,\"calls\":0,\"calls_unplaced\":0,\"exchanges\":0,\"unseen_bytes\":0}}\n";

static void test_json_golden(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	out = tu_render(bt_report_json, &m);
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
	out = tu_render(bt_report_json, &m);
	assert_string_equal(out,
		"{\"version\":2,\"duration_ns\":0,\"processes\":[],\"edges\":[],"
		"\"lost\":{\"map_full\":0,\"events\":0,\"no_entry\":0,\"mmsg_truncated\":0,"
		"\"pid_out_of_range\":0,\"wakees_overflow\":0,\"episodes\":0,\"stacks\":0,\"calls\":0,\"calls_unplaced\":0,\"exchanges\":0,\"unseen_bytes\":0}}\n");
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
	out = tu_render(bt_report_json, &m);
	assert_string_equal(out,
		"{\"version\":2,\"duration_ns\":0,\"processes\":["
		"{\"pid\":7,\"comm\":\"?\",\"start_ns\":0,\"role\":\"peer\",\"traced\":false,\"exited\":true,\"boundaries\":["
		"{\"kind\":\"unix_stream\",\"channel\":\"unix:/run/a\\\"b.sock[11->12]\","
		"\"direction\":\"recv\",\"calls\":1,\"bytes\":5,\"errors\":1,\"blocked_ns\":0,"
		"\"max_blocked_ns\":0,\"p50_ns\":0,\"p90_ns\":0,\"p99_ns\":0,"
		"\"blocked_hist\":[],\"size_hist\":[],\"path\":\"/run/a\\\"b.sock\"}]}],"
		"\"edges\":[],"
		"\"lost\":{\"map_full\":0,\"events\":0,\"no_entry\":0,\"mmsg_truncated\":0,"
		"\"pid_out_of_range\":0,\"wakees_overflow\":0,\"episodes\":0,\"stacks\":0,\"calls\":0,\"calls_unplaced\":0,\"exchanges\":0,\"unseen_bytes\":0}}\n");
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
		"KIND", "SERVICE", "DIR", "CONNS", "CALLS", "BYTES", "MEAN", "BLOCKED", "P99<=", "MAX",
		NULL,
	};
	static const char *const pipe[] = {
		"pipe", "pipe:[9001]", "send", "1", "10", "40.0", "KiB", "4.0", "KiB",
		"1.5", "ms", "500", "us", "500", "us", NULL,
	};
	static const char *const futex[] = {
		"futex", "futex:0x7f00deadbeef", "wake", "1", "3", "2", "woken", "-",
		"4.5", "us", "2.0", "us", "2.0", "us", NULL,
	};
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	out = tu_render(bt_report_table, &m);
	/* No edges, no map; both rows have no known far end: one group. */
	assert_true(strncmp(out, "boundtrace: 1 process, 2.5 s traced\n\nworker[4242]\n"
			    "  \u21c4 (other end unknown)\n    KIND ", 79) == 0);
	assert_null(strstr(out, "communication map"));
	assert_null(strstr(strstr(out, "\u21c4") + 1, "\u21c4"));
	expect_line_words(out, "KIND", header);
	expect_line_words(out, "pipe:[9001]", pipe);
	expect_line_words(out, "futex:0x", futex);
	/* The pipe row comes first, as sorted. */
	assert_true(strstr(out, "pipe:[9001]") < strstr(out, "futex:0x"));
	/* Every row is indented under its peer group. */
	assert_non_null(strstr(out, "\n    pipe "));
	assert_non_null(strstr(out, "\n    futex "));
	/* The loss line ends the report. */
	assert_non_null(strstr(out, "\n\n lost events: 1\n"));
	assert_int_equal(out[strlen(out) - 1], '\n');
	free(out);
	bt_model_free(&m);
}

static void test_table_errors_and_states(void **state)
{
	static const char *const recv[] = {
		"pipe", "pipe:[5]", "recv", "1", "1,200", "300", "B", "0", "B",
		"-", "-", "-", "1200", "errors", NULL,
	};
	static const char *const wait[] = {
		"futex", "futex:0x10", "wait", "1", "5", "-", "-", "1.0", "s", "1.1", "s", "1.0", "min",
		NULL,
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
	/* 5 waits in [2^29, 2^30) ns: p99 is the top, 1073741824 ns. */
	ws.blocked_hist[29] = 5;
	bt_model_init(&m);
	p = bt_model_proc(&m, 10);
	strcpy(p->comm, "idle");
	p->exited = true;
	/* A traced target without crossings is still shown. */
	p->target = true;
	assert_non_null(bt_model_add(&m, &r, &rs, NULL));
	assert_non_null(bt_model_add(&m, &w, &ws, NULL));
	m.lost[BT_LOSS_MAP_FULL] = 2;
	m.lost[BT_LOSS_TARGETS_FULL] = 3;
	m.lost[BT_LOSS_WAKEES] = 4;
	m.duration_ns = 90000000000ull;
	bt_model_sort(&m);
	out = tu_render(bt_report_table, &m);
	assert_true(strncmp(out, "boundtrace: 2 processes, 1.5 min traced\n", 40) == 0);
	assert_non_null(strstr(out, "\nidle[10] (exited)\n  no boundary crossings\n"));
	/* No comm: a question mark, and no "(exited)". */
	assert_non_null(strstr(out, "\n?[20]\n  \u21c4 (other end unknown)\n"));
	expect_line_words(out, "pipe:[5]", recv);
	expect_line_words(out, "futex:0x10", wait);
	assert_non_null(strstr(out, "\n lost map_full: 2, lost pid_out_of_range: 3, "
				    "lost wakees_overflow: 4\n"));
	free(out);
	bt_model_free(&m);
}

/*
 * writer[20] (traced) writes pipe 5, whose read end /proc saw held by
 * far[30]: in the model for its name, but not traced and without rows.
 * idle[10] is a traced target that never crossed a boundary.
 */
static void test_table_untraced_far_end(void **state)
{
	struct bt_stats w = tu_stats(2, 64, 0);
	struct bt_model m;
	struct bt_proc *p;
	char *out;

	(void)state;
	bt_model_init(&m);
	p = tu_proc(&m, 20, "writer");
	p->target = true;
	tu_row(&m, 20, BT_KIND_PIPE, BT_DIR_SEND, 5, &w, NULL);
	tu_proc(&m, 30, "far");
	p = tu_proc(&m, 10, "idle");
	p->target = true;
	tu_holder(&m, 5, 30, BT_FD_PIPE, BT_END_READ);
	bt_model_sort(&m);
	out = tu_render(bt_report_table, &m);
	/* The receiver's waits were not measured: no number for them. */
	assert_non_null(strstr(out, "\n  writer[20] \u2192 far[30] via pipe:[5]: 1 conn, 2 sends, 64 B, "
				    "0 wakeups, blocked ?, p99 ? (receiver not traced)\n"));
	/* The far end is named in its peer's lines, with no block of its own. */
	assert_non_null(strstr(out, "\nwriter[20]\n  \u21c4 far[30]\n    KIND "));
	assert_null(strstr(out, "\nfar[30]"));
	/* A traced target is shown even without crossings, before writer (pid order). */
	assert_non_null(strstr(out, "\nidle[10]\n  no boundary crossings\n"));
	assert_true(strstr(out, "\nidle[10]\n") < strstr(out, "\nwriter[20]\n"));
	free(out);
	bt_model_free(&m);
}

static void test_table_empty(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	bt_model_init(&m);
	out = tu_render(bt_report_table, &m);
	assert_string_equal(out, "boundtrace: 0 processes, 0 ns traced\n");
	free(out);
	bt_model_free(&m);
}

/*
 * writer[100] writes pipe 7, read by reader[200] (exited) and reader2[201];
 * pipe 8, read by untraced pid 300 (known from /proc); a tcp connection
 * off the machine; and wakes pid 300 through a futex. 100, 200 and 201
 * are traced targets; 300 is not in the model.
 */
static void build_peer_model(struct bt_model *m)
{
	struct bt_chan_info tcp = tu_inet(BT_KIND_TCP, AF_INET, "192.168.1.10", 40000,
					  "10.1.2.3", 443);
	struct bt_stats w7 = tu_stats(4, 300, 0), w8 = tu_stats(1, 5, 0);
	struct bt_stats t = tu_stats(1, 10, 0), fw = tu_stats(2, 0, 0);
	struct bt_stats r1 = tu_stats(3, 300, 7000), r2 = tu_stats(1, 0, 10);
	struct bt_proc *p;

	bt_model_init(m);
	w7.errors = 1;
	fw.woken = 2;
	r1.max_blocked_ns = 4000;
	r1.blocked_hist[10] = 2;
	r1.blocked_hist[11] = 1;
	r2.blocked_hist[3] = 1;
	/* Added out of order: the exporters see the sorted model. */
	p = tu_proc(m, 201, "reader2");
	p->target = true;
	tu_row(m, 201, BT_KIND_PIPE, BT_DIR_RECV, 7, &r2, NULL);
	p = tu_proc(m, 100, "writer");
	snprintf(p->exe, sizeof(p->exe), "/usr/bin/writer");
	p->start_ns = 5000;
	p->target = true;
	tu_row(m, 100, BT_KIND_FUTEX, BT_DIR_WAKE, 0x10, &fw, NULL);
	tu_row(m, 100, BT_KIND_TCP, BT_DIR_SEND, 1001, &t, &tcp);
	tu_row(m, 100, BT_KIND_PIPE, BT_DIR_SEND, 8, &w8, NULL);
	tu_row(m, 100, BT_KIND_PIPE, BT_DIR_SEND, 7, &w7, NULL);
	p = tu_proc(m, 200, "reader");
	p->start_ns = 6000;
	p->exited = true;
	p->target = true;
	tu_row(m, 200, BT_KIND_PIPE, BT_DIR_RECV, 7, &r1, NULL);
	tu_holder(m, 8, 300, BT_FD_PIPE, BT_END_READ);
	tu_wake(m, 100, 200, BT_KIND_PIPE, BT_DIR_SEND, 7, 2);
	tu_wake(m, 100, 300, BT_KIND_FUTEX, BT_DIR_WAKE, 0x10, 2);
	m->duration_ns = 1000000;
	bt_model_sort(m);
}

#define ZERO_P "\"p50_ns\":0,\"p90_ns\":0,\"p99_ns\":0"
/* Hand-built rows without histograms (their own tests fill them). */
#define NO_HIST ",\"blocked_hist\":[],\"size_hist\":[]"

static const char golden_peers_json[] =
	"{\"version\":2,\"duration_ns\":1000000,\"processes\":["
	"{\"pid\":100,\"comm\":\"writer\",\"exe\":\"/usr/bin/writer\",\"start_ns\":5000,"
	"\"role\":\"target\",\"traced\":true,\"exited\":false,\"boundaries\":["
	"{\"kind\":\"pipe\",\"channel\":\"pipe:[7]\",\"direction\":\"send\",\"calls\":4,"
	"\"bytes\":300,\"errors\":1,\"blocked_ns\":0,\"max_blocked_ns\":0," ZERO_P NO_HIST ","
	"\"peer\":{\"pid\":200,\"comm\":\"reader\"},"
	"\"peers\":[{\"pid\":200,\"comm\":\"reader\"},{\"pid\":201,\"comm\":\"reader2\"}]},"
	"{\"kind\":\"pipe\",\"channel\":\"pipe:[8]\",\"direction\":\"send\",\"calls\":1,"
	"\"bytes\":5,\"errors\":0,\"blocked_ns\":0,\"max_blocked_ns\":0," ZERO_P NO_HIST ","
	"\"peer\":{\"pid\":300,\"comm\":\"?\"}},"
	"{\"kind\":\"tcp\",\"channel\":\"tcp:192.168.1.10:40000->10.1.2.3:443\","
	"\"direction\":\"send\",\"calls\":1,\"bytes\":10,\"errors\":0,\"blocked_ns\":0,"
	"\"max_blocked_ns\":0," ZERO_P NO_HIST ",\"peer\":{\"addr\":\"10.1.2.3:443\"}},"
	"{\"kind\":\"futex\",\"channel\":\"futex:0x10\",\"direction\":\"wake\",\"calls\":2,"
	"\"bytes\":0,\"errors\":0,\"blocked_ns\":0,\"max_blocked_ns\":0," ZERO_P ","
	"\"blocked_hist\":[],\"woken\":2,\"peer\":{\"pid\":300,\"comm\":\"?\"}}]},"
	"{\"pid\":200,\"comm\":\"reader\",\"start_ns\":6000,\"role\":\"target\",\"traced\":true,\"exited\":true,\"boundaries\":["
	"{\"kind\":\"pipe\",\"channel\":\"pipe:[7]\",\"direction\":\"recv\",\"calls\":3,"
	"\"bytes\":300,\"errors\":0,\"blocked_ns\":7000,\"max_blocked_ns\":4000,"
	"\"p50_ns\":2048,\"p90_ns\":4000,\"p99_ns\":4000,"
	"\"blocked_hist\":[{\"low\":1024,\"high\":2047,\"count\":2},"
	"{\"low\":2048,\"high\":4095,\"count\":1}],\"size_hist\":[],"
	"\"peer\":{\"pid\":100,\"comm\":\"writer\"}}]},"
	"{\"pid\":201,\"comm\":\"reader2\",\"start_ns\":0,"
	"\"role\":\"target\",\"traced\":true,\"exited\":false,\"boundaries\":["
	"{\"kind\":\"pipe\",\"channel\":\"pipe:[7]\",\"direction\":\"recv\",\"calls\":1,"
	"\"bytes\":0,\"errors\":0,\"blocked_ns\":10,\"max_blocked_ns\":10,"
	"\"p50_ns\":10,\"p90_ns\":10,\"p99_ns\":10,"
	"\"blocked_hist\":[{\"low\":8,\"high\":15,\"count\":1}],\"size_hist\":[],"
	"\"peer\":{\"pid\":100,\"comm\":\"writer\"}}]}],"
	"\"edges\":["
	"{\"from\":100,\"to\":200,\"kind\":\"pipe\",\"service\":\"pipe:[7]\","
	"\"channel\":\"pipe:[7]\",\"connections_seen\":1,\"calls\":3,\"bytes\":300,"
	"\"unseen_bytes\":0,\"wakeups\":2,\"blocked_ns\":7000,"
	"\"p50_ns\":2048,\"p90_ns\":4000,\"p99_ns\":4000,"
	"\"blocked_hist\":[{\"low\":1024,\"high\":2047,\"count\":2},"
	"{\"low\":2048,\"high\":4095,\"count\":1}],\"size_hist\":[],"
	"\"connections\":[{\"from\":100,\"channel\":\"pipe:[7]\",\"calls\":3,\"bytes\":300}]},"
	"{\"from\":100,\"to\":201,\"kind\":\"pipe\",\"service\":\"pipe:[7]\","
	"\"channel\":\"pipe:[7]\",\"connections_seen\":1,\"calls\":3,\"bytes\":300,"
	"\"unseen_bytes\":0,\"wakeups\":0,\"blocked_ns\":10,"
	"\"p50_ns\":10,\"p90_ns\":10,\"p99_ns\":10,"
	"\"blocked_hist\":[{\"low\":8,\"high\":15,\"count\":1}],\"size_hist\":[],"
	"\"connections\":[{\"from\":100,\"channel\":\"pipe:[7]\",\"calls\":3,\"bytes\":300}]},"
	"{\"from\":100,\"to\":300,\"kind\":\"pipe\",\"service\":\"pipe:[8]\","
	"\"channel\":\"pipe:[8]\",\"connections_seen\":1,\"calls\":1,\"bytes\":5,"
	"\"unseen_bytes\":0,\"wakeups\":0,\"blocked_ns\":0," ZERO_P NO_HIST ","
	"\"connections\":[{\"from\":100,\"channel\":\"pipe:[8]\",\"calls\":1,\"bytes\":5}]},"
	"{\"from\":100,\"to\":300,\"kind\":\"futex\",\"service\":\"futex:0x10\","
	"\"channel\":\"futex:0x10\",\"connections_seen\":1,\"calls\":2,\"bytes\":0,"
	"\"unseen_bytes\":0,\"wakeups\":2,\"blocked_ns\":0," ZERO_P ",\"blocked_hist\":[],"
	"\"connections\":[{\"from\":100,\"channel\":\"futex:0x10\",\"calls\":2,\"bytes\":0}]}],"
	"\"lost\":{\"map_full\":0,\"events\":0,\"no_entry\":0,\"mmsg_truncated\":0,"
	"\"pid_out_of_range\":0,\"wakees_overflow\":0,\"episodes\":0,\"stacks\":0,\"calls\":0,\"calls_unplaced\":0,\"exchanges\":0,\"unseen_bytes\":0}}\n";

static void test_json_peers_and_edges(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_peer_model(&m);
	out = tu_render(bt_report_json, &m);
	assert_string_equal(out, golden_peers_json);
	free(out);
	bt_model_free(&m);
}

/* The lines from the one starting with first up to the blank line that ends its block. */
static char *block_of(const char *table, const char *first)
{
	const char *b = strstr(table, first), *e;
	char *copy;

	if (!b)
		fail_msg("no '%s' in:\n%s", first, table);
	e = strstr(b, "\n\n");
	e = e ? e + 1 : b + strlen(b);
	copy = strndup(b, e - b);
	assert_non_null(copy);
	return copy;
}

/* Each line of block must start with the next prefix, and the counts match. */
static void expect_line_prefixes(const char *block, const char *const *prefixes)
{
	const char *line = block;
	size_t i = 0;

	for (; *line; i++) {
		const char *nl = strchr(line, '\n');

		assert_non_null(nl);
		if (!prefixes[i])
			fail_msg("extra line '%.*s'", (int)(nl - line), line);
		if (strncmp(line, prefixes[i], strlen(prefixes[i])))
			fail_msg("line '%.*s' does not start with '%s'", (int)(nl - line), line,
				 prefixes[i]);
		line = nl + 1;
	}
	if (prefixes[i])
		fail_msg("missing line '%s'", prefixes[i]);
}

static void test_table_peers_and_map(void **state)
{
	static const char *const writer[] = {
		"writer[100]",
		"  \u21c4 reader[200], reader2[201]",
		"    KIND ",
		"    pipe        pipe:[7] ",
		/* Rows of one far end stay together though sorted apart. */
		"  \u21c4 ?[300]",
		"    KIND ",
		"    pipe        pipe:[8] ",
		"    futex       futex:0x10 ",
		"  \u21c4 10.1.2.3:443",
		"    KIND ",
		/* The client's ephemeral port is a connection; the service is the server's. */
		"    tcp         tcp:10.1.2.3:443 ",
		NULL,
	};
	static const char *const reader[] = {
		"reader[200] (exited)",
		"  \u21c4 writer[100]",
		"    KIND ",
		"    pipe        pipe:[7] ",
		NULL,
	};
	static const char *const w7[] = {
		"pipe", "pipe:[7]", "send", "1", "4", "300", "B", "100", "B", "-", "-", "-",
		"1", "errors", NULL,
	};
	static const char *const r7[] = {
		"pipe", "pipe:[7]", "recv", "1", "3", "300", "B", "100", "B", "7.0", "us", "4.0", "us",
		"4.0", "us", NULL,
	};
	static const char *const fx[] = {
		"futex", "futex:0x10", "wake", "1", "2", "2", "woken", "-", "-", "-", "-", NULL,
	};
	static const char head[] =
		"boundtrace: 3 processes, 1.0 ms traced\n"
		"\ncommunication map (sender \u2192 receiver; blocked = the receiver waiting):\n"
		"  writer[100] \u2192 reader[200] via pipe:[7]: 1 conn, 3 sends, 300 B, 2 wakeups, "
		"blocked 7.0 us, p99 \u2264 4.0 us\n"
		"  writer[100] \u2192 reader2[201] via pipe:[7]: 1 conn, 3 sends, 300 B, 0 wakeups, "
		"blocked 10 ns, p99 \u2264 10 ns\n"
		/* pid 300 is known from /proc only: nobody measured its waits. */
		"  writer[100] \u2192 ?[300] via pipe:[8]: 1 conn, 1 sends, 5 B, 0 wakeups, "
		"blocked ?, p99 ? (receiver not traced)\n"
		"  writer[100] \u2192 ?[300] via futex:0x10: 2 wake calls, 2 woke a waiter, "
		"blocked ?, p99 ? (receiver not traced)\n"
		"\nwriter[100]\n";
	struct bt_model m;
	char *out, *block;

	(void)state;
	build_peer_model(&m);
	out = tu_render(bt_report_table, &m);
	/* The map comes first, one line per edge, in edge order. */
	assert_true(strncmp(out, head, sizeof(head) - 1) == 0);

	block = block_of(out, "\nwriter[100]\n");
	expect_line_prefixes(block + 1, writer);
	expect_line_words(block + 1, "pipe:[7]", w7);
	expect_line_words(block + 1, "futex:0x10", fx);
	free(block);
	block = block_of(out, "\nreader[200]");
	expect_line_prefixes(block + 1, reader);
	expect_line_words(block + 1, "pipe:[7]", r7);
	free(block);
	/* The last block; no losses, so nothing after it. */
	assert_non_null(strstr(out, "\nreader2[201]\n  \u21c4 writer[100]\n    KIND "));
	assert_null(strstr(out, "lost"));
	free(out);
	bt_model_free(&m);
}

static void test_write_error(void **state)
{
	static const tu_writer_fn writers[] = { bt_report_json, bt_report_table, bt_report_dot };
	FILE *f = tu_dev_full();
	struct bt_model m;

	(void)state;
	build_peer_model(&m);
	tu_expect_write_errors(f, &m, writers, sizeof(writers) / sizeof(writers[0]));
	bt_model_free(&m);
}

#define FORMATS "table|json|dot|chains|folded|svg|wakers|hist|openmetrics|prometheus"

static void test_find_exporters(void **state)
{
	(void)state;
	assert_non_null(bt_report_find("table"));
	assert_ptr_equal(bt_report_find("table")->write, bt_report_table);
	assert_ptr_equal(bt_report_find("json")->write, bt_report_json);
	assert_ptr_equal(bt_report_find("dot")->write, bt_report_dot);
	assert_string_equal(bt_report_find("json")->name, "json");
	assert_string_equal(bt_report_find("dot")->name, "dot");
	assert_ptr_equal(bt_report_find("chains")->write, bt_report_chains);
	assert_null(bt_report_find("xml"));
	assert_null(bt_report_find("DOT"));
	assert_null(bt_report_find(""));
	assert_ptr_equal(bt_report_find("folded")->write, bt_report_folded);
	assert_ptr_equal(bt_report_find("svg")->write, bt_report_svg);
	assert_ptr_equal(bt_report_find("wakers")->write, bt_report_wakers);
	assert_ptr_equal(bt_report_find("hist")->write, bt_report_hist);
	assert_string_equal(bt_report_format_names(), FORMATS);
	/* Built once, the same on every call. */
	assert_string_equal(bt_report_format_names(), FORMATS);
}

static void test_loss_names(void **state)
{
	static const struct tu_name names[] = {
		{ BT_LOSS_MAP_FULL, "map_full" },
		{ BT_LOSS_EVENTS, "events" },
		{ BT_LOSS_NO_ENTRY, "no_entry" },
		{ BT_LOSS_MMSG_TRUNC, "mmsg_truncated" },
		{ BT_LOSS_TARGETS_FULL, "pid_out_of_range" },
		{ BT_LOSS_WAKEES, "wakees_overflow" },
		{ BT_LOSS_EPISODES, "episodes" },
		{ BT_LOSS_STACKS, "stacks" },
		{ BT_LOSS_MAX, "?" },
	};

	(void)state;
	tu_expect_names(bt_loss_name, names, sizeof(names) / sizeof(names[0]));
	for (unsigned int l = 0; l < BT_LOSS_MAX; l++)
		assert_non_null(bt_loss_name(l));
}

/* What a live trace measured of itself: 1.5 s of trace, 45 ms of CPU. */
static void set_self(struct bt_self_cost *s)
{
	*s = (struct bt_self_cost){
		.measured = true, .load_cpu_ns = 412000000, .cpu_ns = 45000000,
		.max_rss_kib = 20480, .record_bytes = 5 * 24 + 1000 * 96 + 3000 * 96,
		.records = { [BT_SELF_EVENTS] = 5, [BT_SELF_EXCHANGES] = 3000,
			     [BT_SELF_HANDOFFS] = 1000 },
	};
}

static void test_self_cost_line(void **state)
{
	struct bt_self_cost s;
	char line[512];

	(void)state;
	set_self(&s);
	assert_string_equal(bt_self_format(&s, 1500000000, line, sizeof(line)),
		"boundtrace's own cost: 45.0 ms CPU while tracing (3.00% of a core), 412 ms to "
		"load; peak RSS 20.0 MiB; 4,005 records from the kernel (events 5, episodes 0, "
		"exchanges 3,000, handoffs 1,000), 375 KiB; BPF programs not timed "
		"(kernel.bpf_stats_enabled is 0)");
	s.bpf_stats = true;
	s.bpf_ns = 2400000;
	s.bpf_runs = 12000;
	assert_string_equal(strstr(bt_self_format(&s, 1500000000, line, sizeof(line)), "; BPF"),
			    "; BPF programs 2.4 ms over 12,000 runs (200 ns a run)");
	s.bpf_runs = 0;
	assert_string_equal(strstr(bt_self_format(&s, 1500000000, line, sizeof(line)), "; BPF"),
			    "; BPF programs not timed (kernel.bpf_stats_enabled is on, but "
			    "counted no run)");
	/* Chain mode: the folds' part of the CPU, after its share. */
	s.chain_cpu_ns = 21500000;
	assert_non_null(strstr(bt_self_format(&s, 1500000000, line, sizeof(line)),
			       "CPU while tracing (3.00% of a core), 21.5 ms of it folding chains, "
			       "412 ms to load;"));
	s.chain_cpu_ns = 0;
	/* Exchanges counted in the kernel: said only when there are some. */
	assert_null(strstr(bt_self_format(&s, 1500000000, line, sizeof(line)), "one-hop"));
	s.exchanges_counted = 12345;
	assert_non_null(strstr(bt_self_format(&s, 1500000000, line, sizeof(line)),
			       "; 12,345 one-hop exchanges counted in the kernel instead; BPF"));
	/* And those paired as their records came: said beside them, only when there are some. */
	s.exchanges_paired = 2999;
	assert_non_null(strstr(bt_self_format(&s, 1500000000, line, sizeof(line)),
			       "; 12,345 one-hop exchanges counted in the kernel instead; "
			       "2,999 one-hop exchanges paired as they came, not folded; BPF"));
	s.exchanges_counted = 0;
	assert_non_null(strstr(bt_self_format(&s, 1500000000, line, sizeof(line)),
			       "KiB; 2,999 one-hop exchanges paired as they came, not folded; BPF"));
	s.exchanges_paired = 0;
	/* No duration: no share. A short buffer: cut, still a string. */
	assert_null(strstr(bt_self_format(&s, 0, line, sizeof(line)), "of a core"));
	assert_string_equal(bt_self_format(&s, 1500000000, line, 23), "boundtrace's own cost:");
	/* Nothing measured (an old recording, several merged): no line. */
	s.measured = false;
	assert_string_equal(bt_self_format(&s, 1500000000, line, sizeof(line)), "");
}

static void test_self_cost_reports(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	set_self(&m.self);
	out = tu_render(bt_report_json, &m);
	assert_non_null(strstr(out,
		",\"tracer\":{\"cpu_ns\":45000000,\"load_cpu_ns\":412000000,\"max_rss_kib\":20480,"
		"\"records\":{\"events\":5,\"episodes\":0,\"exchanges\":3000,\"handoffs\":1000},"
		"\"record_bytes\":384120,\"bpf_stats\":false,\"bpf_ns\":0,\"bpf_runs\":0,"
		"\"chain_cpu_ns\":0,\"exchanges_counted\":0,\"exchanges_paired\":0},"
		"\"lost\":{"));
	free(out);
	/* The table's last line, after the losses. */
	out = tu_render(bt_report_table, &m);
	assert_non_null(strstr(out, "lost events: 1\nboundtrace's own cost: 45.0 ms CPU while "
				    "tracing (1.80% of a core)"));
	assert_string_equal(out + strlen(out) - strlen("is 0)\n"), "is 0)\n");
	free(out);
	bt_model_free(&m);
}

static void test_self_record_names(void **state)
{
	static const struct tu_name names[] = {
		{ BT_SELF_EVENTS, "events" },
		{ BT_SELF_EPISODES, "episodes" },
		{ BT_SELF_EXCHANGES, "exchanges" },
		{ BT_SELF_HANDOFFS, "handoffs" },
		{ BT_SELF_RECORDS_MAX, "?" },
	};

	(void)state;
	tu_expect_names(bt_self_record_name, names, sizeof(names) / sizeof(names[0]));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_cost_line),
		cmocka_unit_test(test_self_cost_reports),
		cmocka_unit_test(test_self_record_names),
		cmocka_unit_test(test_json_golden),
		cmocka_unit_test(test_json_empty_model),
		cmocka_unit_test(test_json_path_exited_unnamed),
		cmocka_unit_test(test_json_peers_and_edges),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_errors_and_states),
		cmocka_unit_test(test_table_untraced_far_end),
		cmocka_unit_test(test_table_empty),
		cmocka_unit_test(test_table_peers_and_map),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_find_exporters),
		cmocka_unit_test(test_loss_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
