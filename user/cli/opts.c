// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/opts.h"
#include "export/report.h"

enum { OPT_FOLLOW = 256, OPT_MAP_SIZE, OPT_FORCE, OPT_VERSION, OPT_PEERS, OPT_CHAINS,
       OPT_MIN_BLOCK, OPT_STACKS, OPT_STACK_MAP, OPT_WEIGHT, OPT_RECORD, OPT_GROUP,
       OPT_CONNECTIONS };

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "command", required_argument, NULL, 'c' },
	{ "all", no_argument, NULL, 'a' },
	{ "duration", required_argument, NULL, 'd' },
	{ "interval", required_argument, NULL, 'i' },
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "follow", no_argument, NULL, OPT_FOLLOW },
	{ "peers", required_argument, NULL, OPT_PEERS },
	{ "chains", no_argument, NULL, OPT_CHAINS },
	{ "stacks", no_argument, NULL, OPT_STACKS },
	{ "stack-map-size", required_argument, NULL, OPT_STACK_MAP },
	{ "weight", required_argument, NULL, OPT_WEIGHT },
	{ "record", required_argument, NULL, OPT_RECORD },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "connections", no_argument, NULL, OPT_CONNECTIONS },
	{ "min-block", required_argument, NULL, OPT_MIN_BLOCK },
	{ "map-size", required_argument, NULL, OPT_MAP_SIZE },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ 0 },
};

void bt_opts_usage(FILE *f)
{
	fprintf(f,
"Usage: boundtrace [trace] [-p PID]... [-c 'CMD ARGS'] [-a] [options]\n"
"       boundtrace record -o FILE [-p PID]... [-c 'CMD ARGS'] [-a] [options]\n"
"       boundtrace report FILE [-f FORMAT] [-o OUT] (see boundtrace report --help)\n"
"Trace the IPC boundary crossings (pipes, unix sockets, TCP/UDP, futexes)\n"
"of processes: who talks to whom, through which channel, how often, how\n"
"much and how long each caller was blocked.\n"
"\n"
"Targets:\n"
"  -p, --pid PID        trace this process, all threads (repeatable)\n"
"  -c, --command CMD    run CMD and trace it and its children; exit with its status\n"
"  -a, --all            trace every process\n"
"      --follow         with -p, also trace children forked after the start\n"
"      --peers N        also trace the processes at the far end of the targets'\n"
"                       pipes and sockets, up to N hops (default 1, 0: off)\n"
"Stopping:\n"
"  -d, --duration SECS  stop after SECS seconds (default: when the targets exit, or Ctrl-C)\n"
"Chains:\n"
"      --chains         record blocking episodes and who ended them, and name the\n"
"                       hidden synchronous chains (A waits on B while B waits on C)\n"
"      --min-block US   a crossing blocked this many microseconds is an episode\n"
"                       (default 10; implies --chains)\n"
"Stacks:\n"
"      --stacks         take the user and kernel stack of every crossing (for\n"
"                       -f folded and -f svg); a stack not taken shows as [lost]\n"
"      --stack-map-size N  distinct stacks kept (default 16384)\n"
"      --weight W       folded/svg weight: calls, bytes or blocked (microseconds)\n"
"Output:\n"
"  -f, --format FMT     %s (default table)\n"
"  -o, --output FILE    write the report to FILE (mode 0600, never through a symlink)\n"
"      --force          overwrite FILE if it exists (and is ours)\n"
"  -i, --interval SECS  print the table every SECS seconds while tracing\n"
"      --group exe      fold a pool (one executable under one parent: workers,\n"
"                       backends) into one node of the map, table and graph\n"
"      --connections    the table lists each connection under its service line\n"
"      --record FILE    also write a recording (see `boundtrace record`)\n"
"Tuning:\n"
"      --map-size N     kernel aggregate rows (default 16384); a full map is reported as lost\n"
"  -v, --verbose        libbpf and loader diagnostics on stderr\n"
"  -h, --help, --version\n"
"\n"
"Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel with BTF.\n",
		bt_report_format_names());
}

static int parse_seconds(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 1e9)
		return -1;
	/* Round: 1.001 is 1000999999.99 ns in binary. */
	*ns = (uint64_t)(v * 1e9 + 0.5);
	/* 0 would mean "no limit": a positive value below 1 ns must not turn into that. */
	return *ns ? 0 : -1;
}

static int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int bt_opts_parse(int argc, char **argv, struct bt_opts *o, char *err, size_t errlen)
{
	uint32_t pid, n;
	int c;

	memset(o, 0, sizeof(*o));
	o->format = "table";
	o->map_size = 16384;
	o->peers = 1;
	o->min_block_ns = 10 * 1000;
	o->stack_map_size = 16384;
	optind = 0;	/* GNU: full reinitialisation, so tests can parse twice */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+p:c:ad:i:f:o:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_u32(optarg, 1, INT_MAX, &pid)) {
				snprintf(err, errlen, "invalid pid '%s'", optarg);
				return -1;
			}
			if (o->npids == BT_MAX_PIDS) {
				snprintf(err, errlen, "at most %d -p options", BT_MAX_PIDS);
				return -1;
			}
			o->pids[o->npids++] = pid;
			break;
		case 'c':
			o->command = optarg;
			break;
		case 'a':
			o->all = true;
			break;
		case 'd':
			if (parse_seconds(optarg, &o->duration_ns)) {
				snprintf(err, errlen, "invalid duration '%s' (seconds > 0)", optarg);
				return -1;
			}
			break;
		case 'i':
			if (parse_seconds(optarg, &o->interval_ns)) {
				snprintf(err, errlen, "invalid interval '%s' (seconds > 0)", optarg);
				return -1;
			}
			break;
		case 'f':
			if (!bt_report_find(optarg)) {
				snprintf(err, errlen, "unknown format '%s' (one of: %s)", optarg,
					 bt_report_format_names());
				return -1;
			}
			o->format = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_FOLLOW:
			o->follow = true;
			break;
		case OPT_MAP_SIZE:
			/* A recording holds at most 2^23 rows: keep every trace recordable. */
			if (parse_u32(optarg, 16, 1u << 22, &o->map_size)) {
				snprintf(err, errlen, "invalid --map-size '%s' (16..4194304)", optarg);
				return -1;
			}
			break;
		case OPT_PEERS:
			if (parse_u32(optarg, 0, 16, &n)) {
				snprintf(err, errlen, "invalid --peers '%s' (0..16)", optarg);
				return -1;
			}
			o->peers = n;
			break;
		case OPT_CHAINS:
			o->chains = true;
			break;
		case OPT_MIN_BLOCK:
			if (parse_u32(optarg, 1, 60000000, &n)) {
				snprintf(err, errlen, "invalid --min-block '%s' (1..60000000 us)", optarg);
				return -1;
			}
			o->min_block_ns = (uint64_t)n * 1000;
			o->chains = true;
			break;
		case OPT_STACKS:
			o->stacks = true;
			break;
		case OPT_STACK_MAP:
			if (parse_u32(optarg, 16, 1u << 20, &o->stack_map_size)) {
				snprintf(err, errlen, "invalid --stack-map-size '%s' (16..1048576)",
					 optarg);
				return -1;
			}
			break;
		case OPT_WEIGHT:
			o->weight = bt_weight_parse(optarg);
			if (o->weight < 0) {
				snprintf(err, errlen, "invalid --weight '%s' (calls, bytes or blocked)",
					 optarg);
				return -1;
			}
			break;
		case OPT_RECORD:
			o->record = optarg;
			break;
		case OPT_GROUP:
			if (strcmp(optarg, "exe")) {
				snprintf(err, errlen, "invalid --group '%s' (exe)", optarg);
				return -1;
			}
			o->group_exe = true;
			break;
		case OPT_CONNECTIONS:
			o->connections = true;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			o->help = true;
			return 0;
		case OPT_VERSION:
			o->version = true;
			return 0;
		default:
			if (optopt && optopt < 256)
				snprintf(err, errlen, "option -%c %s", optopt,
					 strchr("pcdifo", optopt) ? "needs an argument" : "is unknown");
			else
				snprintf(err, errlen, "unknown or incomplete option '%s'",
					 argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s' (use -c 'CMD ARGS' to run a command)",
			 argv[optind]);
		return -1;
	}
	if (!o->npids && !o->command && !o->all) {
		snprintf(err, errlen, "no target: give -p PID, -c CMD or -a");
		return -1;
	}
	if (o->all && (o->npids || o->command)) {
		snprintf(err, errlen, "-a traces everything; it does not combine with -p or -c");
		return -1;
	}
	if (o->command)
		o->follow = true;
	/* The chains report needs the episodes, the flame reports the stacks. */
	if (!strcmp(o->format, "chains"))
		o->chains = true;
	if (!strcmp(o->format, "folded") || !strcmp(o->format, "svg") ||
	    !strcmp(o->format, "wakers"))
		o->stacks = true;
	return 0;
}
