/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The command line of `boundtrace [trace|record|report]`: one table of
 * options serves the three subcommands, their parsing and their --help.
 *
 * Options and operands mix in any order (GNU style), except that
 * everything after `--` is an operand and everything after `-c CMD`
 * belongs to the command: `-c ls -l /tmp` runs `ls -l /tmp`.
 */
#ifndef BT_OPTS_H
#define BT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BT_MAX_PIDS 64
#define BT_MAX_FILES 64		/* report: recordings merged (one per host) */

enum bt_cmd {
	BT_CMD_TRACE,		/* the default: trace, then print a report */
	BT_CMD_RECORD,		/* trace into a recording (-o FILE) */
	BT_CMD_REPORT,		/* print a recording */
};

struct bt_exporter;

struct bt_opts {
	enum bt_cmd cmd;
	uint32_t pids[BT_MAX_PIDS];	/* -p: targets; report: a filter */
	int npids;
	const char *command;	/* -c, with the arguments after it */
	bool all;		/* -a */
	bool follow;		/* --follow (always on with -c) */
	int peers;		/* --peers: hops of peer following */
	bool chains;		/* record exchanges and episodes: on unless --no-chains */
	bool no_chains;		/* --no-chains */
	uint64_t min_block_ns;	/* --min-block */
	bool min_block_set;	/* --min-block was given */
	bool sockets_only;	/* --sockets-only */
	bool stacks;		/* --stacks */
	uint32_t stack_map_size;
	int weight;		/* enum bt_weight: --weight */
	uint64_t duration_ns;	/* -d, 0 = until targets exit or a signal */
	uint64_t interval_ns;	/* -i, 0 = print once at the end */
	const char *format;	/* -f, an exporter name */
	const struct bt_exporter *exporter;	/* its registry entry */
	const char *output;	/* -o, NULL = stdout */
	bool force;		/* overwrite an existing -o file */
	bool group_exe;		/* --group exe (default) or pid */
	bool connections;	/* --connections */
	const char *record;	/* --record: a recording beside the report */
	uint32_t map_size;	/* rows in the kernel aggregate */
	const char *file;	/* report: the recording to read (the first) */
	const char *files[BT_MAX_FILES];	/* report: every recording given */
	int nfiles;
	const char *serve;	/* --serve ADDR:PORT: /metrics while tracing */
	bool metrics_pid;	/* --metrics-pid: pid labels in the metrics */
	uint32_t max_series;	/* --max-series, 0: the default */
	unsigned int kind;	/* report --kind: BT_KIND_NONE = all */
	bool verbose;
	bool help;
	bool version;
	char *command_buf;	/* owns command when -c had arguments after it */
};

/*
 * argv is the whole command line: argv[1] may name the subcommand. 0 on
 * success (also for --help and --version, which stop the parse); -1 with
 * a message in err. Does not print. Free o with bt_opts_free either way.
 */
int bt_opts_parse(int argc, char **argv, struct bt_opts *o, char *err, size_t errlen);
void bt_opts_free(struct bt_opts *o);
/* The --help of a subcommand, made from the same table the parser reads. */
void bt_opts_usage(enum bt_cmd cmd, FILE *f);
/* "boundtrace", "boundtrace record", ... for messages. */
const char *bt_opts_cmd_name(enum bt_cmd cmd);

#endif
