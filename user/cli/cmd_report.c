// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cmd_report.h"
#include "model/kinds.h"
#include "lib/outfile.h"
#include "record/record.h"
#include "export/report.h"

#define MAX_FILTER_PIDS 64

static void usage(FILE *f)
{
	fprintf(f,
"Usage: boundtrace report FILE [-f FORMAT] [-o OUT] [--force] [--weight W]\n"
"                         [-p PID]... [--kind KIND]\n"
"Prints a recording made by `boundtrace record -o FILE` exactly as the live\n"
"trace would have: the same exporters read the same model.\n"
"  -f, --format FMT   %s (default table)\n"
"  -o, --output OUT   write to OUT (0600, never through a symlink)\n"
"      --force        overwrite OUT if it exists (and is ours)\n"
"      --weight W     folded/svg weight: calls, bytes or blocked\n"
"  -p, --pid PID      only these processes' crossings (repeatable)\n"
"      --kind KIND    only crossings of this kind (pipe, unix_stream, ...)\n"
"      --group exe    fold a pool (one executable under one parent) into one node\n"
"      --connections  the table lists each connection under its service line\n",
		bt_report_format_names());
}

static bool pid_wanted(uint32_t pid, const uint32_t *pids, int npids)
{
	if (!npids)
		return true;
	for (int i = 0; i < npids; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

void bt_model_filter(struct bt_model *m, const uint32_t *pids, int npids, unsigned int kind)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		struct bt_proc *p = &m->procs[i];
		size_t keep = 0;

		for (size_t j = 0; j < p->nrows; j++) {
			if (!pid_wanted(p->pid, pids, npids))
				continue;
			if (kind != BT_KIND_NONE && p->rows[j].key.kind != kind)
				continue;
			p->rows[keep++] = p->rows[j];
		}
		p->nrows = keep;
	}
	for (size_t i = 0; i < m->nstackrows;) {
		const struct bt_key *k = &m->stackrows[i].key;

		if (!pid_wanted(k->tgid, pids, npids) || (kind != BT_KIND_NONE && k->kind != kind))
			m->stackrows[i] = m->stackrows[--m->nstackrows];
		else
			i++;
	}
}

enum { OPT_FORCE = 256, OPT_WEIGHT, OPT_KIND, OPT_GROUP, OPT_CONNECTIONS };

int bt_cmd_report(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "weight", required_argument, NULL, OPT_WEIGHT },
		{ "kind", required_argument, NULL, OPT_KIND },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "connections", no_argument, NULL, OPT_CONNECTIONS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *format = "table", *output = NULL, *path;
	const struct bt_exporter *exp;
	uint32_t pids[MAX_FILTER_PIDS];
	unsigned int kind = BT_KIND_NONE;
	struct bt_rec_status st;
	struct bt_rec_info info;
	int npids = 0, c, w, ret = 1;
	enum bt_weight weight = BT_WEIGHT_CALLS;
	struct bt_model m;
	bool force = false, group_exe = false, connections = false;
	char err[512];
	FILE *out;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+f:o:p:h", long_opts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'p':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || !v || v > INT_MAX || npids == MAX_FILTER_PIDS) {
				fprintf(stderr, "boundtrace report: invalid or too many -p '%s'\n", optarg);
				return 2;
			}
			pids[npids++] = v;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_GROUP:
			if (strcmp(optarg, "exe")) {
				fprintf(stderr, "boundtrace report: invalid --group '%s' (exe)\n", optarg);
				return 2;
			}
			group_exe = true;
			break;
		case OPT_CONNECTIONS:
			connections = true;
			break;
		case OPT_WEIGHT:
			w = bt_weight_parse(optarg);
			if (w < 0) {
				fprintf(stderr, "boundtrace report: invalid --weight '%s'\n", optarg);
				return 2;
			}
			weight = w;
			break;
		case OPT_KIND:
			kind = bt_kind_parse(optarg);
			if (kind == BT_KIND_NONE) {
				fprintf(stderr, "boundtrace report: unknown kind '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "boundtrace report: unknown or incomplete option '%s'\n",
				argv[optind - 1]);
			usage(stderr);
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "boundtrace report: give exactly one recording FILE\n");
		usage(stderr);
		return 2;
	}
	path = argv[optind];
	exp = bt_report_find(format);
	if (!exp) {
		fprintf(stderr, "boundtrace report: unknown format '%s' (one of: %s)\n", format,
			bt_report_format_names());
		return 2;
	}
	bt_model_init(&m);
	if (bt_rec_read(path, &m, &info, &st, err, sizeof(err))) {
		fprintf(stderr, "boundtrace report: %s\n", err);
		goto out;
	}
	if (!st.snapshots) {
		fprintf(stderr, "boundtrace report: %s: holds no complete snapshot (cut short "
				"before the first one was written)\n", path);
		goto out;
	}
	if (st.truncated)
		fprintf(stderr, "boundtrace report: %s: recording cut short; showing its last "
				"complete snapshot (%u)\n", path, st.snapshots);
	m.weight = weight;
	m.group_exe = group_exe;
	m.connections = connections;
	bt_model_filter(&m, pids, npids, kind);
	bt_model_sort(&m);
	out = output ? bt_open_output(output, force, err, sizeof(err)) : stdout;
	if (!out) {
		fprintf(stderr, "boundtrace report: %s\n", err);
		goto out;
	}
	ret = bt_report_write(out, exp, &m) ? 1 : 0;
	if (!bt_close_output(out, err, sizeof(err))) {
		fprintf(stderr, "boundtrace report: %s\n", err);
		ret = 1;
	}
out:
	bt_model_free(&m);
	return ret;
}
