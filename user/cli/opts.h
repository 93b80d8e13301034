/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command-line options of `boundtrace` (trace mode). */
#ifndef BT_OPTS_H
#define BT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BT_MAX_PIDS 64

struct bt_opts {
	uint32_t pids[BT_MAX_PIDS];
	int npids;
	const char *command;	/* -c */
	bool all;		/* -a */
	bool follow;		/* --follow (always on with -c) */
	int peers;		/* --peers: hops of peer following */
	bool chains;		/* --chains: record blocking episodes */
	uint64_t min_block_ns;	/* --min-block */
	bool stacks;		/* --stacks */
	uint32_t stack_map_size;
	int weight;		/* enum bt_weight: --weight */
	uint64_t duration_ns;	/* -d, 0 = until targets exit or a signal */
	uint64_t interval_ns;	/* -i, 0 = print once at the end */
	const char *format;	/* -f, an exporter name */
	const char *output;	/* -o, NULL = stdout */
	bool force;		/* overwrite an existing -o file */
	bool group_exe;		/* --group exe */
	bool connections;	/* --connections */
	const char *record;	/* --record: a recording beside the report */
	uint32_t map_size;	/* rows in the kernel aggregate */
	bool verbose;
	bool help;
	bool version;
};

/* 0 on success; -1 with a message in err. Does not print. */
int bt_opts_parse(int argc, char **argv, struct bt_opts *o, char *err, size_t errlen);
void bt_opts_usage(FILE *f);

#endif
