// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The one option table of boundtrace's subcommands. The parser and
 * --help both read it, so an option cannot exist without its help, nor
 * be taken by a subcommand whose help does not show it.
 */
#include <errno.h>
#include <stddef.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/opts.h"
#include "export/report.h"
#include "export/serve.h"
#include "lib/shellquote.h"
#include "model/kinds.h"

enum {
	ON_TRACE = 1 << BT_CMD_TRACE,
	ON_RECORD = 1 << BT_CMD_RECORD,
	ON_REPORT = 1 << BT_CMD_REPORT,
	ON_LIVE = ON_TRACE | ON_RECORD,
	ON_ALL = ON_LIVE | ON_REPORT,
};

/* What apply() does with an option beyond what its table entry says. */
enum opt_id {
	O_PLAIN,		/* nothing: the entry's flag or str field is all */
	O_PID, O_COMMAND, O_PEERS, O_MIN_BLOCK, O_STACK_MAP, O_WEIGHT, O_FORMAT, O_KIND,
	O_MAP_SIZE, O_HELP, O_VERSION, O_SERVE, O_MAX_SERIES, O_GROUP,
};

struct opt {
	enum opt_id id;
	char shrt;		/* 0: long only */
	const char *lng;
	const char *arg;	/* its value's name in --help; NULL: takes none */
	unsigned int on;	/* ON_*: the subcommands that take it */
	const char *section;	/* the --help heading it goes under */
	const char *help;	/* lines split by '\n'; FORMATS: the exporters' names */
	/* Offsets in struct bt_opts (0: none): a bool set, a string kept, seconds as ns. */
	size_t flag, str, secs;
	/* max > 0: the value is an integer in [min, max] (unit for messages). */
	uint32_t min, max;
	const char *unit;
};

/* Offset 0 is cmd, which no option sets: it can mean "none". */
_Static_assert(offsetof(struct bt_opts, cmd) == 0, "cmd first");
#define FLAG(f)	.flag = offsetof(struct bt_opts, f)
#define STR(f)	.str = offsetof(struct bt_opts, f)
#define SECS(f)	.secs = offsetof(struct bt_opts, f)

/* In --help order. One option may have an entry per meaning (-p). */
static const struct opt opts[] = {
	{ O_PID, 'p', "pid", "PID", ON_LIVE, "Targets",
	  "trace this process, all threads (repeatable)" },
	{ O_COMMAND, 'c', "command", "CMD", ON_LIVE, "Targets",
	  "run CMD (and the ARGs after it), trace it and its\n"
	  "children; exit with its status" },
	{ O_PLAIN, 'a', "all", NULL, ON_LIVE, "Targets", "trace every process", FLAG(all) },
	{ O_PLAIN, 0, "follow", NULL, ON_LIVE, "Targets",
	  "with -p, also trace children forked after the start", FLAG(follow) },
	{ O_PEERS, 0, "peers", "N", ON_LIVE, "Targets",
	  "also trace the processes at the far end of the targets'\n"
	  "pipes and sockets, up to N hops (default 1, 0: off)", .min = 0, .max = 16 },
	{ O_PLAIN, 'd', "duration", "SECS", ON_LIVE, "Stopping",
	  "stop after SECS seconds (default: when the targets exit, or Ctrl-C)",
	  SECS(duration_ns) },
	{ O_PLAIN, 0, "sockets-only", NULL, ON_LIVE, "Cost",
	  "the least cost to a busy server and the machine: socket calls\n"
	  "counted at the socket layer, no hook on every syscall; no\n"
	  "pipes, futexes, blocked time or chains (exchanges stay)",
	  FLAG(sockets_only) },
	{ O_PLAIN, 0, "no-chains", NULL, ON_LIVE, "Chains",
	  "the cheapest trace: no request/response records, no blocking\n"
	  "episodes, no chains section (chains are on by default)", FLAG(no_chains) },
	{ O_PLAIN, 0, "chains", NULL, ON_LIVE, "Chains",
	  "chains are on by default; accepted for compatibility", FLAG(chains) },
	{ O_MIN_BLOCK, 0, "min-block", "US", ON_LIVE, "Chains",
	  "a crossing blocked this many microseconds that slept\n"
	  "(was woken, timed out or was signalled) is an episode\n"
	  "(default 10)", .min = 1, .max = 60000000, .unit = " us" },
	{ O_PLAIN, 0, "stacks", NULL, ON_LIVE, "Stacks",
	  "take the user and kernel stack of every crossing (for\n"
	  "-f folded and -f svg); a stack not taken shows as [lost]", FLAG(stacks) },
	{ O_STACK_MAP, 0, "stack-map-size", "N", ON_LIVE, "Stacks",
	  "distinct stacks kept (default 16384)", .min = 16, .max = 1u << 20 },
	{ O_WEIGHT, 0, "weight", "W", ON_ALL, "Stacks",
	  "folded/svg weight: calls, bytes or blocked (microseconds)" },
	{ O_FORMAT, 'f', "format", "FMT", ON_ALL, "Output", "FORMATS (default table)" },
	{ O_PLAIN, 'o', "output", "FILE", ON_ALL, "Output",
	  "write the report (record: the recording) to FILE\n"
	  "(mode 0600, never through a symlink)", STR(output) },
	{ O_PLAIN, 0, "force", NULL, ON_ALL, "Output",
	  "overwrite FILE if it exists (and is ours)", FLAG(force) },
	{ O_PLAIN, 'i', "interval", "SECS", ON_TRACE, "Output",
	  "print the table every SECS seconds while tracing", SECS(interval_ns) },
	{ O_PLAIN, 0, "record", "FILE", ON_TRACE, "Output",
	  "also write a recording (see `boundtrace record`)", STR(record) },
	{ O_GROUP, 0, "group", "HOW", ON_ALL, "Output",
	  "exe (default): a pool (one executable and name under one\n"
	  "parent: workers, backends, clients) is one node of the map,\n"
	  "table and graph; pid: every process its own" },
	{ O_PLAIN, 0, "connections", NULL, ON_ALL, "Output",
	  "the table lists each connection under its service line", FLAG(connections) },
	{ O_SERVE, 0, "serve", "ADDR:PORT", ON_TRACE, "Metrics",
	  "serve /metrics over HTTP while tracing (e.g. 127.0.0.1:9464;\n"
	  "only where told), Prometheus text or OpenMetrics as asked", STR(serve) },
	{ O_PLAIN, 0, "metrics-pid", NULL, ON_ALL, "Metrics",
	  "label metric series with pids too (default: by process name)", FLAG(metrics_pid) },
	{ O_MAX_SERIES, 0, "max-series", "N", ON_ALL, "Metrics",
	  "metric label sets kept (default 500); the rest are summed\n"
	  "into one \"other\" set and counted", .min = 1, .max = 1000000 },
	{ O_PID, 'p', "pid", "PID", ON_REPORT, "Filters",
	  "only these processes' crossings (repeatable)" },
	{ O_KIND, 0, "kind", "KIND", ON_REPORT, "Filters",
	  "only crossings of this kind (pipe, unix_stream, ...)" },
	/* A recording holds at most 2^23 rows: keep every trace recordable. */
	{ O_MAP_SIZE, 0, "map-size", "N", ON_LIVE, "Tuning",
	  "kernel aggregate rows (default 16384); rows of closed pipes and sockets\n"
	  "are folded out while tracing; a full map is reported as lost",
	  .min = 16, .max = 1u << 22 },
	{ O_PLAIN, 'v', "verbose", NULL, ON_LIVE, "Tuning",
	  "libbpf and loader diagnostics on stderr", FLAG(verbose) },
	{ O_HELP, 'h', "help", NULL, ON_ALL, "Help", "this help" },
	{ O_VERSION, 0, "version", NULL, ON_ALL, "Help",
	  "the version and the git revision it was built from" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

static const char *const cmd_names[] = {
	[BT_CMD_TRACE] = "boundtrace",
	[BT_CMD_RECORD] = "boundtrace record",
	[BT_CMD_REPORT] = "boundtrace report",
};

const char *bt_opts_cmd_name(enum bt_cmd cmd)
{
	return cmd_names[cmd];
}

/* ---- --help ----------------------------------------------------------- */

/* Where an option's help starts. */
#define HELP_COL 23

static void print_help_line(FILE *f, const char *s, size_t n)
{
	const char *fmts = memmem(s, n, "FORMATS", 7);

	if (fmts) {
		fprintf(f, "%.*s%s%.*s\n", (int)(fmts - s), s, bt_report_format_names(),
			(int)(n - (fmts + 7 - s)), fmts + 7);
		return;
	}
	fprintf(f, "%.*s\n", (int)n, s);
}

static void print_opt(FILE *f, const struct opt *op)
{
	const char *h = op->help;
	int w;

	if (op->shrt)
		w = fprintf(f, "  -%c, --%s", op->shrt, op->lng);
	else
		w = fprintf(f, "      --%s", op->lng);
	if (op->arg)
		w += fprintf(f, " %s", op->arg);
	fprintf(f, "%*s", w < HELP_COL - 1 ? HELP_COL - w : 2, "");
	for (;;) {
		const char *nl = strchr(h, '\n');

		print_help_line(f, h, nl ? (size_t)(nl - h) : strlen(h));
		if (!nl)
			break;
		h = nl + 1;
		fprintf(f, "%*s", HELP_COL, "");
	}
}

void bt_opts_usage(enum bt_cmd cmd, FILE *f)
{
	const char *section = NULL;

	if (cmd == BT_CMD_REPORT) {
		fputs("Usage: boundtrace report FILE [options]\n"
		      "Prints a recording made by `boundtrace record -o FILE` exactly as the live\n"
		      "trace would have: the same exporters read the same model.\n", f);
	} else {
		fputs("Usage: boundtrace [trace] [-p PID]... [-c CMD [ARG]...] [-a] [options]\n"
		      "       boundtrace record -o FILE [-p PID]... [-c CMD [ARG]...] [-a] [options]\n"
		      "       boundtrace report FILE [options] (see boundtrace report --help)\n"
		      "Trace the IPC boundary crossings (pipes, unix sockets, TCP/UDP, futexes)\n"
		      "of processes: who talks to whom, through which channel, how often, how\n"
		      "much and how long each caller was blocked. Options go before or after\n"
		      "operands; everything after -c CMD or -- is not an option.\n", f);
	}
	for (size_t i = 0; i < N_OPTS; i++) {
		if (!(opts[i].on & 1u << cmd))
			continue;
		if (!section || strcmp(section, opts[i].section)) {
			section = opts[i].section;
			fprintf(f, "%s:\n", section);
		}
		print_opt(f, &opts[i]);
	}
	if (cmd != BT_CMD_REPORT)
		fputs("\nNeeds root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) and a kernel with BTF.\n",
		      f);
}

/* ---- values ----------------------------------------------------------- */

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

/* -c CMD ARG...: the arguments join the command as a shell would need them. */
static int set_command(struct bt_opts *o, const char *cmd, int nargs, char **args,
		       char *err, size_t errlen)
{
	size_t len, need;

	o->command = cmd;
	if (!nargs)
		return 0;
	len = strlen(cmd);
	need = bt_shell_join(NULL, 0, nargs, args);
	o->command_buf = malloc(len + 1 + need + 1);
	if (!o->command_buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(o->command_buf, cmd, len);
	o->command_buf[len] = ' ';
	bt_shell_join(o->command_buf + len + 1, need + 1, nargs, args);
	o->command = o->command_buf;
	return 0;
}

#define BAD(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/*
 * Applies op with its value v. rest/nrest: the arguments after it, which
 * -c takes. 0 to go on, 1 when the parse is over, -1 on error.
 */
static int apply(struct bt_opts *o, const struct opt *op, const char *v, char **rest, int nrest,
		 char *err, size_t errlen)
{
	uint32_t n = 0;

	if (op->flag)
		*(bool *)((char *)o + op->flag) = true;
	if (op->str)
		*(const char **)((char *)o + op->str) = v;
	if (op->secs && parse_seconds(v, (uint64_t *)((char *)o + op->secs)))
		return BAD("invalid %s '%s' (seconds > 0)", op->lng, v);
	if (op->max && parse_u32(v, op->min, op->max, &n))
		return BAD("invalid --%s '%s' (%u..%u%s)", op->lng, v, op->min, op->max,
			   op->unit ? op->unit : "");
	switch (op->id) {
	case O_PLAIN:
		return 0;
	case O_PID:
		if (parse_u32(v, 1, INT_MAX, &n))
			return BAD("invalid pid '%s'", v);
		if (o->npids == BT_MAX_PIDS)
			return BAD("at most %d -p options", BT_MAX_PIDS);
		o->pids[o->npids++] = n;
		return 0;
	case O_COMMAND:
		return set_command(o, v, nrest, rest, err, errlen) ? -1 : 1;
	case O_PEERS:
		o->peers = n;
		return 0;
	case O_MIN_BLOCK:
		o->min_block_ns = (uint64_t)n * 1000;
		o->min_block_set = true;
		return 0;
	case O_STACK_MAP:
		o->stack_map_size = n;
		return 0;
	case O_WEIGHT:
		o->weight = bt_weight_parse(v);
		if (o->weight < 0)
			return BAD("invalid --weight '%s' (calls, bytes or blocked)", v);
		return 0;
	case O_FORMAT:
		o->exporter = bt_report_find(v);
		if (!o->exporter)
			return BAD("unknown format '%s' (one of: %s)", v, bt_report_format_names());
		o->format = v;
		return 0;
	case O_GROUP:
		if (strcmp(v, "exe") && strcmp(v, "pid"))
			return BAD("invalid --group '%s' (exe or pid)", v);
		o->group_exe = !strcmp(v, "exe");
		return 0;
	case O_KIND:
		o->kind = bt_kind_parse(v);
		if (o->kind == BT_KIND_NONE)
			return BAD("unknown kind '%s'", v);
		return 0;
	case O_MAP_SIZE:
		o->map_size = n;
		return 0;
	case O_SERVE: {
		/* Refused here, before anything is traced or bound. */
		struct sockaddr_storage ss;
		socklen_t len;

		return bt_serve_parse_addr(v, &ss, &len, err, errlen);
	}
	case O_MAX_SERIES:
		o->max_series = n;
		return 0;
	case O_HELP:
		o->help = true;
		return 1;
	case O_VERSION:
		o->version = true;
		return 1;
	}
	return BAD("option table out of step with the parser");
}

/* ---- the parser ------------------------------------------------------- */

enum found { FOUND, NOT_FOUND, AMBIGUOUS, ELSEWHERE };

/*
 * The entry for -c (c) or --name (name, len, or its abbreviation unless
 * exact) that cmd takes, in *op. ELSEWHERE: only other subcommands take it.
 */
static enum found find_opt(enum bt_cmd cmd, char c, const char *name, size_t len, bool exact,
			   const struct opt **op)
{
	bool elsewhere = false, ambiguous = false;

	*op = NULL;
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *x = &opts[i];
		bool match = c ? x->shrt == c :
			     !strncmp(x->lng, name, len) && (!exact || !x->lng[len]);

		if (!match)
			continue;
		if (!(x->on & 1u << cmd))
			elsewhere = true;
		else if (*op && strcmp((*op)->lng, x->lng))
			ambiguous = true;
		else
			*op = x;
	}
	if (ambiguous)
		return AMBIGUOUS;
	if (*op)
		return FOUND;
	return elsewhere ? ELSEWHERE : NOT_FOUND;
}

static const char *subcommand_word(enum bt_cmd cmd)
{
	return cmd == BT_CMD_RECORD ? "record" : cmd == BT_CMD_REPORT ? "report" : "trace";
}

/* --name, --name=value or --name value; a unique abbreviation will do. */
static int take_long(struct bt_opts *o, int argc, char **argv, int *i, char *err, size_t errlen)
{
	const char *a = argv[*i], *name = a + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);
	const struct opt *op;
	const char *v = NULL;
	enum found f;

	f = find_opt(o->cmd, 0, name, len, true, &op);
	if (f != FOUND)
		f = find_opt(o->cmd, 0, name, len, false, &op);
	if (f == ELSEWHERE)
		return BAD("%s does not take --%.*s", subcommand_word(o->cmd), (int)len, name);
	if (f == AMBIGUOUS)
		return BAD("option '%.*s' is ambiguous", (int)(len + 2), a);
	if (f == NOT_FOUND)
		return BAD("option '%.*s' is unknown", (int)(len + 2), a);
	if (op->arg) {
		if (eq)
			v = eq + 1;
		else if (*i + 1 < argc)
			v = argv[++*i];
		else
			return BAD("option --%s needs an argument", op->lng);
	} else if (eq) {
		return BAD("option --%s takes no argument", op->lng);
	}
	return apply(o, op, v, argv + *i + 1, argc - *i - 1, err, errlen);
}

/* -x, -xVALUE, -x VALUE, and clusters of flags: -av. */
static int take_short(struct bt_opts *o, int argc, char **argv, int *i, char *err, size_t errlen)
{
	const char *a = argv[*i];

	for (size_t k = 1; a[k]; k++) {
		const struct opt *op;
		enum found f = find_opt(o->cmd, a[k], NULL, 0, true, &op);
		const char *v = NULL;
		int ret;

		if (f == ELSEWHERE)
			return BAD("%s does not take -%c", subcommand_word(o->cmd), a[k]);
		if (f != FOUND)
			return BAD("option -%c is unknown", a[k]);
		if (op->arg) {
			if (a[k + 1])
				v = a + k + 1;
			else if (*i + 1 < argc)
				v = argv[++*i];
			else
				return BAD("option -%c needs an argument", a[k]);
		}
		ret = apply(o, op, v, argv + *i + 1, argc - *i - 1, err, errlen);
		if (ret || v)
			return ret;
	}
	return 0;
}

/* What no single option can check: targets, operands, what the format needs. */
static int check(struct bt_opts *o, int noperands, const char *first, char *err, size_t errlen)
{
	if (o->cmd == BT_CMD_REPORT) {
		if (!noperands)
			return BAD("give a recording FILE (several: one per host, merged)");
		if (noperands > BT_MAX_FILES)
			return BAD("at most %d recordings", BT_MAX_FILES);
		o->file = first;
		return 0;
	}
	if (noperands)
		return BAD("unexpected argument '%s' (use -c 'CMD ARGS' to run a command)", first);
	if (!o->npids && !o->command && !o->all)
		return BAD("no target: give -p PID, -c CMD or -a");
	if (o->all && (o->npids || o->command))
		return BAD("-a traces everything; it does not combine with -p or -c");
	if (o->cmd == BT_CMD_RECORD && (!o->output || !strcmp(o->output, "-")))
		return BAD("record needs -o FILE");
	if (o->command)
		o->follow = true;
	/* The exporter says what it prints from: the kernel must collect that. */
	if (o->no_chains && (o->exporter->needs & BT_NEED_EPISODES))
		return BAD("-f %s prints chains: it does not combine with --no-chains",
			   o->exporter->name);
	if (o->sockets_only) {
		/* What it does without: a clear error, not a report missing it. */
		const char *what = o->chains ? "--chains" : o->min_block_set ? "--min-block" :
				   o->stacks ? "--stacks" : NULL;
		char format[64];

		if (!what && (o->exporter->needs & (BT_NEED_EPISODES | BT_NEED_STACKS))) {
			snprintf(format, sizeof(format), "-f %s", o->exporter->name);
			what = format;
		}
		if (what)
			return BAD("%s does not combine with --sockets-only (no chains, no "
				   "stacks: no call's blocking is timed)", what);
		o->no_chains = true;
	}
	if (o->exporter->needs & BT_NEED_STACKS)
		o->stacks = true;
	o->chains = !o->no_chains;
	return 0;
}

int bt_opts_parse(int argc, char **argv, struct bt_opts *o, char *err, size_t errlen)
{
	const char *first = NULL;
	int i = 1, noperands = 0;

	memset(o, 0, sizeof(*o));
	o->format = "table";
	o->exporter = bt_report_find(o->format);
	o->map_size = 16384;
	o->peers = 1;
	o->group_exe = true;
	o->min_block_ns = 10 * 1000;
	o->stack_map_size = 16384;
	o->kind = BT_KIND_NONE;
	if (argc > 1) {
		for (int c = BT_CMD_TRACE; c <= BT_CMD_REPORT; c++) {
			if (!strcmp(argv[1], subcommand_word(c))) {
				o->cmd = c;
				i = 2;
			}
		}
	}
	for (; i < argc; i++) {
		const char *a = argv[i];
		int ret;

		if (!strcmp(a, "--")) {
			/* Operands only from here on. */
			if (i + 1 < argc && !first)
				first = argv[i + 1];
			for (int k = i + 1; k < argc; k++)
				if (o->nfiles < BT_MAX_FILES)
					o->files[o->nfiles++] = argv[k];
			noperands += argc - i - 1;
			break;
		}
		if (a[0] != '-' || !a[1]) {
			if (!noperands++)
				first = a;
			if (o->nfiles < BT_MAX_FILES)
				o->files[o->nfiles++] = a;
			continue;
		}
		ret = a[1] == '-' ? take_long(o, argc, argv, &i, err, errlen) :
				    take_short(o, argc, argv, &i, err, errlen);
		if (ret < 0)
			return -1;
		if (o->help || o->version)
			return 0;
		if (ret)
			break;	/* -c took the rest */
	}
	return check(o, noperands, first, err, errlen);
}

void bt_opts_free(struct bt_opts *o)
{
	free(o->command_buf);
	o->command_buf = NULL;
	o->command = NULL;
}
