// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * -f prometheus / -f openmetrics on models built by hand: label sets by
 * comm, pids on request, label escaping, cumulative log2 buckets, the
 * --max-series cap with its "other" set (sticky across scrapes), the two
 * flavors' differences, and --serve's address rules.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "export/metrics.h"
#include "export/report.h"
#include "export/serve.h"
#include "model/model.h"
#include "testutil.h"

/*
 * Two "worker" processes (10, 11) write to reader[20] on pipes 1 and 2;
 * worker[10] also writes 1 byte to "logger"[30] on pipe 3.
 */
static void build_model(struct bt_model *m)
{
	struct bt_stats a = tu_stats(4, 400, 0), b = tu_stats(6, 600, 0), c = tu_stats(1, 1, 0);
	struct bt_stats r1 = tu_stats(4, 400, 0), r2 = tu_stats(6, 600, 0), r3 = tu_stats(1, 1, 0);

	a.blocked_hist[10] = 3;	/* [1024, 2047] ns */
	a.blocked_hist[12] = 1;	/* [4096, 8191] */
	a.blocked_ns = 3 * 1500 + 5000;
	a.size_hist[6] = 4;	/* 100 bytes */
	b.blocked_hist[0] = 6;
	b.size_hist[6] = 6;
	c.blocked_hist[0] = 1;
	c.size_hist[0] = 1;
	r1.blocked_hist[0] = 4;
	r2.blocked_hist[0] = 6;
	r3.blocked_hist[0] = 1;
	bt_model_init(m);
	tu_proc(m, 10, "worker")->target = true;
	tu_proc(m, 11, "worker")->target = true;
	tu_proc(m, 20, "reader")->target = true;
	tu_proc(m, 30, "logger")->target = true;
	tu_row(m, 10, BT_KIND_PIPE, BT_DIR_SEND, 1, &a, NULL);
	tu_row(m, 11, BT_KIND_PIPE, BT_DIR_SEND, 2, &b, NULL);
	tu_row(m, 10, BT_KIND_PIPE, BT_DIR_SEND, 3, &c, NULL);
	tu_row(m, 20, BT_KIND_PIPE, BT_DIR_RECV, 1, &r1, NULL);
	tu_row(m, 20, BT_KIND_PIPE, BT_DIR_RECV, 2, &r2, NULL);
	tu_row(m, 30, BT_KIND_PIPE, BT_DIR_RECV, 3, &r3, NULL);
	m->duration_ns = 2000000000ull;
	m->lost[BT_LOSS_EVENTS] = 3;
	bt_model_sort(m);
}

static char *render(const struct bt_model *m, enum bt_metrics_flavor fl,
		    struct bt_metrics_keep *keep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct bt_views v;

	assert_non_null(f);
	assert_int_equal(bt_views_build(m, BT_VIEW_PEERS, &v), 0);
	assert_int_equal(bt_metrics_write(f, m, &v, fl, keep), 0);
	bt_views_free(&v);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void has_line(const char *text, const char *line)
{
	char *want = malloc(strlen(line) + 3);
	bool ok;

	sprintf(want, "\n%s\n", line);
	ok = strstr(text, want) != NULL;
	free(want);
	if (!ok)
		fail_msg("no line '%s' in:\n%s", line, text);
}

#define W_R "process=\"worker\",peer=\"reader\",kind=\"pipe\",service=\"\",direction=\"send\""
#define W_L "process=\"worker\",peer=\"logger\",kind=\"pipe\",service=\"\",direction=\"send\""
#define R_W "process=\"reader\",peer=\"worker\",kind=\"pipe\",service=\"\",direction=\"recv\""
#define L_W "process=\"logger\",peer=\"worker\",kind=\"pipe\",service=\"\",direction=\"recv\""

static void test_label_sets_by_comm(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	out = render(&m, BT_METRICS_PROMETHEUS, NULL);
	/* Both workers' pipes to the reader are one set: pids are not labels. */
	has_line(out, "boundtrace_calls_total{" W_R "} 10");
	has_line(out, "boundtrace_bytes_total{" W_R "} 1000");
	has_line(out, "boundtrace_connections{" W_R "} 2");
	has_line(out, "boundtrace_bytes_total{" W_L "} 1");
	has_line(out, "boundtrace_bytes_total{" R_W "} 1000");
	has_line(out, "boundtrace_errors_total{" L_W "} 0");
	has_line(out, "# TYPE boundtrace_calls_total counter");
	has_line(out, "# TYPE boundtrace_blocked_seconds histogram");
	has_line(out, "boundtrace_lost_total{reason=\"events\"} 3");
	has_line(out, "boundtrace_series_folded 0");
	has_line(out, "boundtrace_processes 4");
	assert_null(strstr(out, "pid="));
	/* The text format has no EOF marker. */
	assert_null(strstr(out, "# EOF"));
	free(out);
	bt_model_free(&m);
}

/*
 * Sockets: the service label is the map's service (the server's address
 * and port: both clients' ephemeral ports fold into one set), and the
 * connections' lives are stated only where known for every connection.
 */
static void test_socket_service_and_lives(void **state)
{
	struct bt_chan_info c1 = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40001, "127.0.0.1", 6379);
	struct bt_chan_info c2 = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40002, "127.0.0.1", 6379);
	struct bt_chan_info u = tu_unix(BT_KIND_UNIX_STREAM, 99, "/run/x.sock");
	struct bt_stats st = tu_stats(1, 10, 0);
	struct bt_model m;
	char *out;

	(void)state;
	bt_model_init(&m);
	tu_proc(&m, 10, "client")->target = true;
	c1.role = c2.role = BT_ROLE_CLIENT;
	c1.conn = BT_CONN_NEW | BT_CONN_GONE;
	c2.conn = BT_CONN_OLD | BT_CONN_ALIVE;
	u.conn = BT_CONN_NEW;	/* the end not known (a recording cut short) */
	tu_row(&m, 10, BT_KIND_TCP, BT_DIR_SEND, 1, &st, &c1);
	tu_row(&m, 10, BT_KIND_TCP, BT_DIR_SEND, 2, &st, &c2);
	tu_row(&m, 10, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 3, &st, &u);
	bt_model_sort(&m);
	out = render(&m, BT_METRICS_PROMETHEUS, NULL);
#define TCP "process=\"client\",peer=\"127.0.0.1\",kind=\"tcp\",service=\"tcp:127.0.0.1:6379\",direction=\"send\""
#define UNX "process=\"client\",peer=\"\",kind=\"unix_stream\",service=\"unix:/run/x.sock\",direction=\"send\""
	has_line(out, "boundtrace_connections{" TCP "} 2");
	has_line(out, "boundtrace_connections_opened{" TCP "} 1");
	has_line(out, "boundtrace_connections_closed{" TCP "} 1");
	has_line(out, "boundtrace_connections_alive{" TCP "} 1");
	has_line(out, "boundtrace_connections_opened{" UNX "} 1");
	assert_null(strstr(out, "boundtrace_connections_closed{" UNX));
	assert_null(strstr(out, "boundtrace_connections_alive{" UNX));
#undef TCP
#undef UNX
	free(out);
	bt_model_free(&m);
}

static void test_pid_labels(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	m.metrics_pid = true;
	out = render(&m, BT_METRICS_PROMETHEUS, NULL);
	has_line(out, "boundtrace_bytes_total{process=\"worker\",pid=\"10\",peer=\"reader\","
		      "peer_pid=\"20\",kind=\"pipe\",service=\"\",direction=\"send\"} 400");
	has_line(out, "boundtrace_bytes_total{process=\"worker\",pid=\"11\",peer=\"reader\","
		      "peer_pid=\"20\",kind=\"pipe\",service=\"\",direction=\"send\"} 600");
	free(out);
	bt_model_free(&m);
}

/* Slot i's le is 2^(i+1) - 1 (ns as seconds); cumulative; +Inf is the count. */
static void test_histogram_buckets(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	out = render(&m, BT_METRICS_PROMETHEUS, NULL);
	/* worker→reader: pipe 1 (3 in slot 10, 1 in slot 12) + pipe 2 (6 in slot 0). */
	has_line(out, "boundtrace_blocked_seconds_bucket{" W_R ",le=\"1e-09\"} 6");
	has_line(out, "boundtrace_blocked_seconds_bucket{" W_R ",le=\"1.023e-06\"} 6");
	has_line(out, "boundtrace_blocked_seconds_bucket{" W_R ",le=\"2.047e-06\"} 9");
	has_line(out, "boundtrace_blocked_seconds_bucket{" W_R ",le=\"4.095e-06\"} 9");
	has_line(out, "boundtrace_blocked_seconds_bucket{" W_R ",le=\"8.191e-06\"} 10");
	has_line(out, "boundtrace_blocked_seconds_bucket{" W_R ",le=\"2.147483647\"} 10");
	has_line(out, "boundtrace_blocked_seconds_bucket{" W_R ",le=\"+Inf\"} 10");
	has_line(out, "boundtrace_blocked_seconds_count{" W_R "} 10");
	has_line(out, "boundtrace_blocked_seconds_sum{" W_R "} 9.5e-06");
	has_line(out, "boundtrace_message_size_bytes_bucket{" W_R ",le=\"63\"} 0");
	has_line(out, "boundtrace_message_size_bytes_bucket{" W_R ",le=\"127\"} 10");
	has_line(out, "boundtrace_message_size_bytes_sum{" W_R "} 1000");
	free(out);
	bt_model_free(&m);
}

static void test_openmetrics_flavor(void **state)
{
	struct bt_model m;
	char *out;
	size_t len;

	(void)state;
	build_model(&m);
	out = render(&m, BT_METRICS_OPENMETRICS, NULL);
	/* A counter family is named without _total; its samples carry it. */
	has_line(out, "# TYPE boundtrace_calls counter");
	has_line(out, "boundtrace_calls_total{" W_R "} 10");
	has_line(out, "# TYPE boundtrace_lost counter");
	has_line(out, "# TYPE boundtrace_connections gauge");
	assert_null(strstr(out, "# TYPE boundtrace_calls_total"));
	len = strlen(out);
	assert_true(len > 6 && !strcmp(out + len - 6, "# EOF\n"));
	assert_non_null(strstr(bt_metrics_content_type(BT_METRICS_OPENMETRICS),
			       "application/openmetrics-text; version=1.0.0"));
	assert_non_null(strstr(bt_metrics_content_type(BT_METRICS_PROMETHEUS),
			       "text/plain; version=0.0.4"));
	free(out);
	bt_model_free(&m);
}

/* A trace's own cost: its families; none where nothing was measured. */
static void test_tracer_cost(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	out = render(&m, BT_METRICS_OPENMETRICS, NULL);
	assert_null(strstr(out, "boundtrace_tracer"));
	free(out);
	m.self = (struct bt_self_cost){ .measured = true, .cpu_ns = 1500000000,
					.max_rss_kib = 20480, .chain_cpu_ns = 250000000,
					.exchanges_counted = 1999, .exchanges_paired = 2999,
					.records = { [BT_SELF_EXCHANGES] = 400, [BT_SELF_EVENTS] = 3 } };
	out = render(&m, BT_METRICS_OPENMETRICS, NULL);
	has_line(out, "# TYPE boundtrace_tracer_cpu_seconds counter");
	has_line(out, "boundtrace_tracer_cpu_seconds_total 1.500000000");
	has_line(out, "# TYPE boundtrace_tracer_chain_cpu_seconds counter");
	has_line(out, "boundtrace_tracer_chain_cpu_seconds_total 0.250000000");
	has_line(out, "# TYPE boundtrace_tracer_records counter");
	has_line(out, "boundtrace_tracer_records_total{kind=\"events\"} 3");
	has_line(out, "boundtrace_tracer_records_total{kind=\"episodes\"} 0");
	has_line(out, "boundtrace_tracer_records_total{kind=\"exchanges\"} 400");
	has_line(out, "boundtrace_tracer_records_total{kind=\"handoffs\"} 0");
	has_line(out, "# TYPE boundtrace_tracer_exchanges_counted counter");
	has_line(out, "boundtrace_tracer_exchanges_counted_total 1999");
	has_line(out, "# TYPE boundtrace_tracer_exchanges_paired counter");
	has_line(out, "boundtrace_tracer_exchanges_paired_total 2999");
	has_line(out, "# TYPE boundtrace_tracer_max_rss_bytes gauge");
	has_line(out, "boundtrace_tracer_max_rss_bytes 20971520");
	free(out);
	bt_model_free(&m);
}

/* comm is another process's bytes: escaped for the format, valid UTF-8. */
static void test_label_escaping(void **state)
{
	struct bt_stats s = tu_stats(1, 1, 0);
	struct bt_model m;
	char *out;

	(void)state;
	bt_model_init(&m);
	tu_proc(&m, 5, "a\"b\\c\n\xff");
	tu_row(&m, 5, BT_KIND_PIPE, BT_DIR_SEND, 9, &s, NULL);
	out = render(&m, BT_METRICS_PROMETHEUS, NULL);
	has_line(out, "boundtrace_calls_total{process=\"a\\\"b\\\\\\\\c\\\\x0a\\\\xff\","
		      "peer=\"\",kind=\"pipe\",service=\"\",direction=\"send\"} 1");
	free(out);
	bt_model_free(&m);
}

#define OTHER "process=\"other\",peer=\"other\",kind=\"other\",service=\"other\",direction=\"other\""

/* Beyond --max-series: the quietest sets summed into "other", counted; no byte lost. */
static void test_max_series_other(void **state)
{
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	m.max_series = 2;
	out = render(&m, BT_METRICS_PROMETHEUS, NULL);
	/* Busiest by calls: worker→reader (10) and reader←worker (10). */
	has_line(out, "boundtrace_calls_total{" W_R "} 10");
	has_line(out, "boundtrace_calls_total{" R_W "} 10");
	assert_null(strstr(out, W_L));
	assert_null(strstr(out, L_W));
	has_line(out, "boundtrace_calls_total{" OTHER "} 2");
	has_line(out, "boundtrace_bytes_total{" OTHER "} 2");
	has_line(out, "boundtrace_connections{" OTHER "} 2");
	has_line(out, "boundtrace_blocked_seconds_count{" OTHER "} 2");
	has_line(out, "boundtrace_series_folded 2");
	has_line(out, "boundtrace_series_max 2");
	free(out);
	bt_model_free(&m);
}

/* Across scrapes a set admitted once stays: counters never move into "other" and back. */
static void test_max_series_sticky(void **state)
{
	struct bt_metrics_keep keep = { 0 };
	struct bt_model m;
	char *out;

	(void)state;
	build_model(&m);
	m.max_series = 3;
	/* First scrape: worker[11] and the reader not seen yet; 3 sets, all admitted. */
	bt_proc_clear_rows(&m.procs[1]);
	bt_proc_clear_rows(&m.procs[2]);
	out = render(&m, BT_METRICS_PROMETHEUS, &keep);
	has_line(out, "boundtrace_calls_total{" L_W "} 1");
	has_line(out, "boundtrace_calls_total{" W_L "} 1");
	has_line(out, "boundtrace_series_folded 0");
	free(out);
	assert_int_equal(keep.n, 3);
	bt_model_free(&m);
	/*
	 * Then the busy pair appears: the logger's quiet sets stay, one
	 * busy set fits (by calls, then bytes, then labels), the other is
	 * "other".
	 */
	build_model(&m);
	m.max_series = 3;
	out = render(&m, BT_METRICS_PROMETHEUS, &keep);
	has_line(out, "boundtrace_calls_total{" L_W "} 1");
	has_line(out, "boundtrace_calls_total{" W_L "} 1");
	has_line(out, "boundtrace_calls_total{" R_W "} 10");
	has_line(out, "boundtrace_calls_total{" OTHER "} 10");
	has_line(out, "boundtrace_series_folded 1");
	assert_null(strstr(out, W_R));
	assert_int_equal(keep.n, 4);
	free(out);
	bt_metrics_keep_free(&keep);
	bt_model_free(&m);
}

static void test_registered(void **state)
{
	(void)state;
	assert_ptr_equal(bt_report_find("openmetrics")->write, bt_report_openmetrics);
	assert_ptr_equal(bt_report_find("prometheus")->write, bt_report_prometheus);
}

static void expect_addr_error(const char *addr, const char *msg)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256] = "";

	assert_int_equal(bt_serve_parse_addr(addr, &ss, &len, err, sizeof(err)), -1);
	if (!strstr(err, msg))
		fail_msg("'%s': error '%s' does not say '%s'", addr, err, msg);
}

static void test_serve_addresses(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];

	(void)state;
	assert_int_equal(bt_serve_parse_addr("127.0.0.1:9464", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&ss)->sin_port), 9464);
	assert_int_equal(bt_serve_parse_addr("[::1]:80", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	/* All interfaces only when written out. */
	assert_int_equal(bt_serve_parse_addr("0.0.0.0:9464", &ss, &len, err, sizeof(err)), 0);
	expect_addr_error("9464", "want ADDR:PORT");
	expect_addr_error(":9464", "want ADDR:PORT");
	expect_addr_error("127.0.0.1", "want ADDR:PORT");
	expect_addr_error("127.0.0.1:", "the port must be 1..65535");
	expect_addr_error("127.0.0.1:0", "the port must be 1..65535");
	expect_addr_error("127.0.0.1:65536", "the port must be 1..65535");
	expect_addr_error("127.0.0.1:-1", "the port must be 1..65535");
	expect_addr_error("localhost:9464", "is not an IP address");
	expect_addr_error("[::1:9464", "want [IPV6]:PORT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_sets_by_comm),
		cmocka_unit_test(test_pid_labels),
		cmocka_unit_test(test_socket_service_and_lives),
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_openmetrics_flavor),
		cmocka_unit_test(test_tracer_cost),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_max_series_other),
		cmocka_unit_test(test_max_series_sticky),
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_serve_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
