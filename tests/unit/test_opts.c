// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* bt_opts_parse: every option, the defaults and every error message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cli/opts.h"

#define ERRLEN 256

/* getopt with a leading '+' never permutes argv, so literals are safe. */
static int parse_args(struct bt_opts *o, char *err, const char **args)
{
	int argc = 0;

	while (args[argc])
		argc++;
	err[0] = 0;
	return bt_opts_parse(argc, (char **)args, o, err, ERRLEN);
}

/* PARSE(&o, err, "-p", "1", NULL): argv[0] is supplied, NULL ends the list. */
#define PARSE(o, err, ...) \
	parse_args(o, err, (const char *[]){ "boundtrace", __VA_ARGS__ })

static void expect_error(const char *expected, const char **args)
{
	struct bt_opts o;
	char err[ERRLEN];

	assert_int_equal(parse_args(&o, err, args), -1);
	assert_string_equal(err, expected);
}

#define EXPECT_ERROR(msg, ...) \
	expect_error(msg, (const char *[]){ "boundtrace", __VA_ARGS__ })

static void test_defaults(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-p", "42", NULL), 0);
	assert_string_equal(err, "");
	assert_int_equal(o.npids, 1);
	assert_int_equal(o.pids[0], 42);
	assert_null(o.command);
	assert_false(o.all);
	assert_false(o.follow);
	assert_int_equal(o.duration_ns, 0);
	assert_int_equal(o.interval_ns, 0);
	assert_string_equal(o.format, "table");
	assert_null(o.output);
	assert_false(o.force);
	assert_int_equal(o.map_size, 16384);
	assert_false(o.verbose);
	assert_false(o.help);
	assert_false(o.version);
}

static void test_short_options(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-p", "1", "-p", "2", "-d", "1.5", "-i", "0.25",
			       "-f", "json", "-o", "out.json", "-v", NULL), 0);
	assert_int_equal(o.npids, 2);
	assert_int_equal(o.pids[0], 1);
	assert_int_equal(o.pids[1], 2);
	assert_int_equal(o.duration_ns, 1500000000ull);
	assert_int_equal(o.interval_ns, 250000000ull);
	assert_string_equal(o.format, "json");
	assert_string_equal(o.output, "out.json");
	assert_true(o.verbose);
	assert_false(o.follow);
	assert_false(o.force);
}

static void test_long_options(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "--pid", "7", "--pid=8", "--duration", "2",
			       "--interval=3", "--format", "table", "--output", "-",
			       "--follow", "--map-size", "1024", "--force", "--verbose", NULL), 0);
	assert_int_equal(o.npids, 2);
	assert_int_equal(o.pids[0], 7);
	assert_int_equal(o.pids[1], 8);
	assert_int_equal(o.duration_ns, 2000000000ull);
	assert_int_equal(o.interval_ns, 3000000000ull);
	assert_string_equal(o.format, "table");
	assert_string_equal(o.output, "-");
	assert_true(o.follow);
	assert_int_equal(o.map_size, 1024);
	assert_true(o.force);
	assert_true(o.verbose);
}

static void test_all(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-a", NULL), 0);
	assert_true(o.all);
	assert_int_equal(o.npids, 0);
	assert_false(o.follow);
	assert_int_equal(PARSE(&o, err, "--all", "-f", "json", NULL), 0);
	assert_true(o.all);
	assert_string_equal(o.format, "json");
}

static void test_command_implies_follow(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-c", "ls -l /", NULL), 0);
	assert_string_equal(o.command, "ls -l /");
	assert_true(o.follow);
	assert_int_equal(PARSE(&o, err, "--command", "true", NULL), 0);
	assert_string_equal(o.command, "true");
	assert_true(o.follow);
	/* -p and -c together are allowed; -c still turns follow on. */
	assert_int_equal(PARSE(&o, err, "-p", "9", "-c", "sleep 1", NULL), 0);
	assert_int_equal(o.npids, 1);
	assert_true(o.follow);
	/* Only -c does: -p alone does not follow. */
	assert_int_equal(PARSE(&o, err, "-p", "9", NULL), 0);
	assert_false(o.follow);
}

static void test_help_and_version(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	/* No target needed, and what follows is not looked at. */
	assert_int_equal(PARSE(&o, err, "-h", NULL), 0);
	assert_true(o.help);
	assert_int_equal(PARSE(&o, err, "--help", "-p", "0", NULL), 0);
	assert_true(o.help);
	assert_int_equal(PARSE(&o, err, "--version", NULL), 0);
	assert_true(o.version);
	assert_false(o.help);
}

static void test_invalid_pid(void **state)
{
	static const char *const bad[] = {
		"0", "abc", "-5", "+5", "12x", "", "2147483648", "99999999999999999999",
	};
	char msg[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "invalid pid '%s'", bad[i]);
		EXPECT_ERROR(msg, "-p", bad[i], NULL);
	}
}

static void test_pid_bounds(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-p", "1", "-p", "2147483647", NULL), 0);
	assert_int_equal(o.pids[0], 1);
	assert_int_equal(o.pids[1], 2147483647u);
}

static void test_too_many_pids(void **state)
{
	/* argv[0], BT_MAX_PIDS + 1 pairs of "-p N", NULL */
	const char *args[1 + 2 * (BT_MAX_PIDS + 1) + 1];
	char nums[BT_MAX_PIDS + 1][12];
	struct bt_opts o;
	char err[ERRLEN];
	int n = 0;

	(void)state;
	args[n++] = "boundtrace";
	for (int i = 0; i <= BT_MAX_PIDS; i++) {
		snprintf(nums[i], sizeof(nums[i]), "%d", 100 + i);
		args[n++] = "-p";
		args[n++] = nums[i];
	}
	args[n] = NULL;

	/* Exactly BT_MAX_PIDS is fine... */
	args[n - 2] = NULL;
	assert_int_equal(parse_args(&o, err, args), 0);
	assert_int_equal(o.npids, BT_MAX_PIDS);
	assert_int_equal(o.pids[BT_MAX_PIDS - 1], 100 + BT_MAX_PIDS - 1);

	/* ...one more is not. */
	args[n - 2] = "-p";
	assert_int_equal(parse_args(&o, err, args), -1);
	assert_string_equal(err, "at most 64 -p options");
}

static void test_bad_duration(void **state)
{
	static const char *const bad[] = {
		"0", "-1", "abc", "", "1s", "inf", "nan", "1e10", "1e-12", " ",
	};
	char msg[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "invalid duration '%s' (seconds > 0)", bad[i]);
		EXPECT_ERROR(msg, "-p", "1", "-d", bad[i], NULL);
		EXPECT_ERROR(msg, "-p", "1", "--duration", bad[i], NULL);
	}
}

static void test_bad_interval(void **state)
{
	static const char *const bad[] = { "0", "-0.5", "x1", "1e10", "2min", "1e-12" };
	char msg[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "invalid interval '%s' (seconds > 0)", bad[i]);
		EXPECT_ERROR(msg, "-p", "1", "-i", bad[i], NULL);
	}
}

static void test_seconds_values(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-a", "-d", "1.001", "-i", "1e-9", NULL), 0);
	/* 1.001 * 1e9 is 1000999999.99... in binary: it must round, not truncate. */
	assert_int_equal(o.duration_ns, 1001000000ull);
	assert_int_equal(o.interval_ns, 1);
	assert_int_equal(PARSE(&o, err, "-a", "-d", "1e9", NULL), 0);
	assert_int_equal(o.duration_ns, 1000000000000000000ull);
}

static void test_unknown_format(void **state)
{
	(void)state;
	EXPECT_ERROR("unknown format 'xml' (one of: table|json|dot|chains|folded|svg|wakers|hist|openmetrics|prometheus)", "-p", "1", "-f", "xml",
		     NULL);
	EXPECT_ERROR("unknown format 'JSON' (one of: table|json|dot|chains|folded|svg|wakers|hist|openmetrics|prometheus)", "-p", "1", "--format",
		     "JSON", NULL);
	EXPECT_ERROR("unknown format '' (one of: table|json|dot|chains|folded|svg|wakers|hist|openmetrics|prometheus)", "-p", "1", "-f", "",
		     NULL);
}

static void test_map_size(void **state)
{
	static const char *const bad[] = { "15", "4194305", "abc", "-16", "0", "" };
	struct bt_opts o;
	char err[ERRLEN], msg[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-a", "--map-size", "16", NULL), 0);
	assert_int_equal(o.map_size, 16);
	assert_int_equal(PARSE(&o, err, "-a", "--map-size=4194304", NULL), 0);
	assert_int_equal(o.map_size, 4194304);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "invalid --map-size '%s' (16..4194304)", bad[i]);
		EXPECT_ERROR(msg, "-a", "--map-size", bad[i], NULL);
	}
}

static void test_missing_target(void **state)
{
	(void)state;
	EXPECT_ERROR("no target: give -p PID, -c CMD or -a", NULL);
	EXPECT_ERROR("no target: give -p PID, -c CMD or -a", "-f", "json", "-d", "1", NULL);
	EXPECT_ERROR("no target: give -p PID, -c CMD or -a", "--follow", NULL);
}

static void test_all_combined(void **state)
{
	const char *msg = "-a traces everything; it does not combine with -p or -c";

	(void)state;
	EXPECT_ERROR(msg, "-a", "-p", "1", NULL);
	EXPECT_ERROR(msg, "-p", "1", "--all", NULL);
	EXPECT_ERROR(msg, "-a", "-c", "true", NULL);
}

static void test_unexpected_argument(void **state)
{
	(void)state;
	EXPECT_ERROR("unexpected argument 'extra' (use -c 'CMD ARGS' to run a command)",
		     "-p", "1", "extra", NULL);
	/* Options stop at the first operand: a command line is not taken apart. */
	EXPECT_ERROR("unexpected argument 'ls' (use -c 'CMD ARGS' to run a command)",
		     "ls", "-p", "1", NULL);
	EXPECT_ERROR("unexpected argument 'foo' (use -c 'CMD ARGS' to run a command)",
		     "-a", "--", "foo", NULL);
}

static void test_missing_argument_and_unknown(void **state)
{
	(void)state;
	EXPECT_ERROR("option -p needs an argument", "-p", NULL);
	EXPECT_ERROR("option -c needs an argument", "-a", "-c", NULL);
	EXPECT_ERROR("option -d needs an argument", "-a", "-d", NULL);
	EXPECT_ERROR("option -o needs an argument", "-a", "-o", NULL);
	EXPECT_ERROR("option -p needs an argument", "--pid", NULL);
	EXPECT_ERROR("option -x is unknown", "-a", "-x", NULL);
	EXPECT_ERROR("unknown or incomplete option '--bogus'", "-a", "--bogus", NULL);
	EXPECT_ERROR("unknown or incomplete option '--map-size'", "-a", "--map-size", NULL);
	/* --f is ambiguous: --format, --follow, --force. */
	EXPECT_ERROR("unknown or incomplete option '--f'", "-a", "--f", NULL);
}

static void test_parse_twice(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	/* A failed parse leaves getopt mid-way; the next one must start afresh. */
	assert_int_equal(PARSE(&o, err, "-p", "1", "-d", "bad", "-v", NULL), -1);
	assert_int_equal(PARSE(&o, err, "-v", "-p", "3", NULL), 0);
	assert_int_equal(o.npids, 1);
	assert_int_equal(o.pids[0], 3);
	assert_true(o.verbose);
	/* And nothing leaks from the previous result. */
	assert_int_equal(PARSE(&o, err, "-p", "4", NULL), 0);
	assert_false(o.verbose);
	assert_int_equal(o.duration_ns, 0);
}

static void test_metrics_options(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-a", "--serve", "127.0.0.1:9464", "--metrics-pid",
			       "--max-series", "40", NULL), 0);
	assert_string_equal(o.serve, "127.0.0.1:9464");
	assert_true(o.metrics_pid);
	assert_int_equal(o.max_series, 40);
	assert_int_equal(PARSE(&o, err, "-a", NULL), 0);
	assert_null(o.serve);
	assert_false(o.metrics_pid);
	assert_int_equal(o.max_series, 0);
	/* No address, no port: refused before anything is bound. */
	EXPECT_ERROR("--serve '9464': want ADDR:PORT, e.g. 127.0.0.1:9464 (the address is "
		     "required; all interfaces only when asked for: 0.0.0.0:PORT)",
		     "-a", "--serve", "9464", NULL);
	EXPECT_ERROR("--serve '127.0.0.1:': the port must be 1..65535", "-a", "--serve",
		     "127.0.0.1:", NULL);
	EXPECT_ERROR("invalid --max-series '0' (1..1000000)", "-a", "--max-series", "0", NULL);
}

static void test_usage(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	bt_opts_usage(f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "Usage: boundtrace"));
	assert_non_null(strstr(buf, "table|json|dot|chains|folded|svg|wakers|hist|openmetrics|prometheus (default table)"));
	assert_non_null(strstr(buf, "--map-size N"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_short_options),
		cmocka_unit_test(test_long_options),
		cmocka_unit_test(test_all),
		cmocka_unit_test(test_command_implies_follow),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_invalid_pid),
		cmocka_unit_test(test_pid_bounds),
		cmocka_unit_test(test_too_many_pids),
		cmocka_unit_test(test_bad_duration),
		cmocka_unit_test(test_bad_interval),
		cmocka_unit_test(test_seconds_values),
		cmocka_unit_test(test_unknown_format),
		cmocka_unit_test(test_map_size),
		cmocka_unit_test(test_missing_target),
		cmocka_unit_test(test_all_combined),
		cmocka_unit_test(test_unexpected_argument),
		cmocka_unit_test(test_missing_argument_and_unknown),
		cmocka_unit_test(test_parse_twice),
		cmocka_unit_test(test_metrics_options),
		cmocka_unit_test(test_usage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
