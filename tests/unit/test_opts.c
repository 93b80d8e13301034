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
#include "export/report.h"

#define ERRLEN 256

/* The parser never writes to argv, so literals are safe. */
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
	/* Options after an operand are still options; the operand is still wrong. */
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
	EXPECT_ERROR("option --pid needs an argument", "--pid", NULL);
	EXPECT_ERROR("option -x is unknown", "-a", "-x", NULL);
	EXPECT_ERROR("option '--bogus' is unknown", "-a", "--bogus", NULL);
	EXPECT_ERROR("option '--bogus' is unknown", "-a", "--bogus=1", NULL);
	EXPECT_ERROR("option --map-size needs an argument", "-a", "--map-size", NULL);
	EXPECT_ERROR("option --all takes no argument", "--all=yes", NULL);
	/* --f is ambiguous: --format, --follow, --force. */
	EXPECT_ERROR("option '--f' is ambiguous", "-a", "--f", NULL);
}

static void test_parse_twice(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	/* A failed parse must leave nothing behind for the next one. */
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

static void test_usage(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	bt_opts_usage(BT_CMD_TRACE, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "Usage: boundtrace"));
	assert_non_null(strstr(buf, "  -f, --format FMT     table|json|dot|chains|folded|svg|wakers|hist|openmetrics|prometheus (default table)\n"));
	assert_non_null(strstr(buf, "      --map-size N     kernel aggregate rows"));
	/* A long option and its value past the column: two spaces, then the help. */
	assert_non_null(strstr(buf, "      --stack-map-size N  distinct stacks kept"));
	/* Continuation lines line up under the help. */
	assert_non_null(strstr(buf, "\n                       (default 10)\n"));
	assert_null(strstr(buf, "--kind"));
	free(buf);

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	bt_opts_usage(BT_CMD_REPORT, f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(buf, "Usage: boundtrace report FILE"));
	assert_non_null(strstr(buf, "  -p, --pid PID        only these processes' crossings"));
	assert_non_null(strstr(buf, "      --kind KIND"));
	assert_null(strstr(buf, "--command"));
	assert_null(strstr(buf, "--map-size"));
	free(buf);
}

/* Options before or after operands, in any order (GNU style). */
static void test_permutation(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "report", "trace.btrec", "-f", "chains", NULL), 0);
	assert_int_equal(o.cmd, BT_CMD_REPORT);
	assert_string_equal(o.file, "trace.btrec");
	assert_string_equal(o.format, "chains");
	assert_int_equal(PARSE(&o, err, "report", "FILE", "-f", "chains", "-o", "OUT", NULL), 0);
	assert_string_equal(o.file, "FILE");
	assert_string_equal(o.output, "OUT");
	assert_int_equal(PARSE(&o, err, "report", "-f", "json", "FILE", NULL), 0);
	assert_string_equal(o.file, "FILE");
	assert_string_equal(o.format, "json");
	assert_int_equal(PARSE(&o, err, "report", "--weight=bytes", "a.btrec", "-p", "5",
			       "--kind", "tcp", "-p7", "--force", NULL), 0);
	assert_string_equal(o.file, "a.btrec");
	assert_int_equal(o.weight, BT_WEIGHT_BYTES);
	assert_int_equal(o.npids, 2);
	assert_int_equal(o.pids[0], 5);
	assert_int_equal(o.pids[1], 7);
	assert_true(o.force);
	/* The recording is only read: a report collects nothing. */
	assert_false(o.chains);
	/* Short options cluster, and a value may stick to its option. */
	assert_int_equal(PARSE(&o, err, "-vap", "12", NULL), -1);
	assert_string_equal(err, "-a traces everything; it does not combine with -p or -c");
	assert_int_equal(PARSE(&o, err, "-vfjson", "-p12", NULL), 0);
	assert_true(o.verbose);
	assert_string_equal(o.format, "json");
	assert_int_equal(o.pids[0], 12);
	/* An unambiguous abbreviation is the option. */
	assert_int_equal(PARSE(&o, err, "--dur", "2", "--pi=3", "--fol", "--forc", NULL), 0);
	assert_int_equal(o.duration_ns, 2000000000ull);
	assert_int_equal(o.pids[0], 3);
	assert_true(o.follow);
	assert_true(o.force);
}

/* After --, everything is an operand, even what looks like an option. */
static void test_double_dash(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "report", "-f", "dot", "--", "-odd.btrec", NULL), 0);
	assert_string_equal(o.file, "-odd.btrec");
	assert_string_equal(o.format, "dot");
	assert_null(o.output);
	/* Several recordings (one per host) are merged; -- keeps them operands. */
	assert_int_equal(PARSE(&o, err, "report", "a", "--", "-f", NULL), 0);
	assert_int_equal(o.nfiles, 2);
	assert_string_equal(o.files[0], "a");
	assert_string_equal(o.files[1], "-f");
	EXPECT_ERROR("give a recording FILE (several: one per host, merged)", "report", "--",
		     NULL);
	EXPECT_ERROR("unexpected argument '-p' (use -c 'CMD ARGS' to run a command)",
		     "-a", "--", "-p", "1", NULL);
}

/* Everything after -c CMD belongs to the command, options included. */
static void test_command_takes_the_rest(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-f", "json", "-c", "CMD", "args", "-x", NULL), 0);
	assert_string_equal(o.command, "CMD args -x");
	assert_string_equal(o.format, "json");
	bt_opts_free(&o);
	/* -f after -c is the command's, not ours; so is a --. */
	assert_int_equal(PARSE(&o, err, "-c", "ls", "-f", "json", "--", "-p", NULL), 0);
	assert_string_equal(o.command, "ls -f json -- -p");
	assert_string_equal(o.format, "table");
	assert_int_equal(o.npids, 0);
	bt_opts_free(&o);
	/* Arguments keep their words through the shell. */
	assert_int_equal(PARSE(&o, err, "--command=sh", "-c", "echo 'a b'", "", NULL), 0);
	assert_string_equal(o.command, "sh -c 'echo '\\''a b'\\''' ''");
	bt_opts_free(&o);
	assert_null(o.command);
	/* CMD itself is a command line, as it always was. */
	assert_int_equal(PARSE(&o, err, "-c", "sleep 1", "-d", NULL), 0);
	assert_string_equal(o.command, "sleep 1 -d");
	assert_int_equal(o.duration_ns, 0);
	bt_opts_free(&o);
	/* A cluster ending in c takes the next word as CMD. */
	assert_int_equal(PARSE(&o, err, "record", "-o", "r.btrec", "-vc", "true", "x", NULL), 0);
	assert_true(o.verbose);
	assert_string_equal(o.command, "true x");
	bt_opts_free(&o);
}

static void test_subcommands(void **state)
{
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "trace", "-p", "1", NULL), 0);
	assert_int_equal(o.cmd, BT_CMD_TRACE);
	assert_int_equal(PARSE(&o, err, "record", "-p", "1", "-o", "r.btrec", NULL), 0);
	assert_int_equal(o.cmd, BT_CMD_RECORD);
	assert_string_equal(o.output, "r.btrec");
	EXPECT_ERROR("record needs -o FILE", "record", "-p", "1", NULL);
	EXPECT_ERROR("record needs -o FILE", "record", "-p", "1", "-o", "-", NULL);
	EXPECT_ERROR("record does not take --record", "record", "-o", "a", "--record", "b",
		     "-a", NULL);
	EXPECT_ERROR("record does not take -i", "record", "-o", "a", "-i", "1", "-a", NULL);
	EXPECT_ERROR("report does not take -c", "report", "f.btrec", "-c", "true", NULL);
	EXPECT_ERROR("report does not take --map-size", "report", "f", "--map-size=16", NULL);
	EXPECT_ERROR("trace does not take --kind", "-a", "--kind", "tcp", NULL);
	EXPECT_ERROR("unknown kind 'smoke'", "report", "f", "--kind", "smoke", NULL);
	EXPECT_ERROR("invalid pid '0'", "report", "f", "-p", "0", NULL);
	EXPECT_ERROR("give a recording FILE (several: one per host, merged)", "report", NULL);
	assert_int_equal(PARSE(&o, err, "report", "a", "-f", "json", "b", NULL), 0);
	assert_int_equal(o.nfiles, 2);
	assert_string_equal(o.file, "a");
	assert_string_equal(o.files[1], "b");
	/* The subcommand is the first word only. */
	EXPECT_ERROR("unexpected argument 'report' (use -c 'CMD ARGS' to run a command)",
		     "-a", "report", NULL);
	assert_int_equal(PARSE(&o, err, "report", "--help", NULL), 0);
	assert_true(o.help);
	assert_int_equal(o.cmd, BT_CMD_REPORT);
}

/* Each exporter says what it prints from; a live trace collects just that. */
static void test_format_needs(void **state)
{
	static const struct {
		const char *format;
		bool chains, stacks;
	} cases[] = {
		/* Chains are on by default, whatever prints them. */
		{ "table", true, false }, { "json", true, false }, { "dot", true, false },
		{ "chains", true, false }, { "folded", true, true }, { "svg", true, true },
		{ "wakers", true, true }, { "hist", true, false }, { "openmetrics", true, false },
		{ "prometheus", true, false },
	};
	struct bt_opts o;
	char err[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(PARSE(&o, err, "-a", "-f", cases[i].format, NULL), 0);
		assert_int_equal(o.chains, cases[i].chains);
		assert_int_equal(o.stacks, cases[i].stacks);
		assert_string_equal(o.exporter->name, cases[i].format);
	}
	/* --no-chains is the cheapest trace; --chains is accepted and changes nothing. */
	assert_int_equal(PARSE(&o, err, "-a", "--no-chains", NULL), 0);
	assert_false(o.chains);
	assert_int_equal(PARSE(&o, err, "-a", "--chains", NULL), 0);
	assert_true(o.chains);
	assert_int_equal(PARSE(&o, err, "-a", "--no-chains", "-f", "chains", NULL), -1);
	assert_string_equal(err, "-f chains prints chains: it does not combine with --no-chains");
}

/* --sockets-only: no chains, no stacks; each thing it cannot do named. */
static void test_sockets_only(void **state)
{
	static const struct {
		const char *a, *b, *err;
	} bad[] = {
		{ "--chains", NULL, "--chains" },
		{ "--min-block", "50", "--min-block" },
		{ "--stacks", NULL, "--stacks" },
		{ "-f", "chains", "-f chains" },
		{ "-f", "folded", "-f folded" },
		{ "-f", "svg", "-f svg" },
		{ "-f", "wakers", "-f wakers" },
	};
	struct bt_opts o;
	char err[ERRLEN], want[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&o, err, "-p", "1", "--sockets-only", NULL), 0);
	assert_true(o.sockets_only);
	assert_false(o.chains);
	assert_false(o.stacks);
	assert_int_equal(PARSE(&o, err, "-a", "--sockets-only", "-f", "json", "--peers", "2", NULL), 0);
	assert_true(o.sockets_only);
	assert_int_equal(PARSE(&o, err, "-a", "--no-chains", NULL), 0);
	assert_false(o.sockets_only);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(PARSE(&o, err, "-a", "--sockets-only", bad[i].a, bad[i].b, NULL), -1);
		snprintf(want, sizeof(want), "%s does not combine with --sockets-only (no chains, "
			 "no stacks: no call's blocking is timed)", bad[i].err);
		assert_string_equal(err, want);
	}
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
	bt_opts_free(&o);
	assert_int_equal(PARSE(&o, err, "-a", NULL), 0);
	assert_null(o.serve);
	assert_false(o.metrics_pid);
	assert_int_equal(o.max_series, 0);
	bt_opts_free(&o);
	assert_int_equal(PARSE(&o, err, "report", "f", "--max-series=3", "--metrics-pid", NULL), 0);
	assert_int_equal(o.max_series, 3);
	bt_opts_free(&o);
	/* No address, no port: refused before anything is bound. */
	EXPECT_ERROR("--serve '9464': want ADDR:PORT, e.g. 127.0.0.1:9464 (the address is "
		     "required; all interfaces only when asked for: 0.0.0.0:PORT)",
		     "-a", "--serve", "9464", NULL);
	EXPECT_ERROR("--serve '127.0.0.1:': the port must be 1..65535", "-a", "--serve",
		     "127.0.0.1:", NULL);
	EXPECT_ERROR("invalid --max-series '0' (1..1000000)", "-a", "--max-series", "0", NULL);
	EXPECT_ERROR("report does not take --serve", "report", "f", "--serve", "127.0.0.1:1", NULL);
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
		cmocka_unit_test(test_permutation),
		cmocka_unit_test(test_double_dash),
		cmocka_unit_test(test_command_takes_the_rest),
		cmocka_unit_test(test_subcommands),
		cmocka_unit_test(test_format_needs),
		cmocka_unit_test(test_sockets_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
