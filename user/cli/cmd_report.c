// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include "cli/cmd_report.h"
#include "lib/outfile.h"
#include "analyze/chain_input.h"
#include "record/merge.h"
#include "record/record.h"
#include "analyze/clocks.h"
#include "export/report.h"

/*
 * Each snapshot's new records into the chains, by that snapshot's rows
 * (those of the collection right after the records came, as the live
 * trace beside the recording folded them), kept from the rows -p and
 * --kind keep.
 */
static int take_snapshot(struct bt_model *m, void *ctx)
{
	const struct bt_opts *o = ctx;

	bt_model_filter(m, o->pids, o->npids, o->kind);
	return bt_model_fold_chains(m);
}

int bt_cmd_report(const struct bt_opts *o)
{
	const char *path = o->file;
	struct bt_rec_status st;
	struct bt_rec_info info;
	struct bt_model m;
	char err[512];
	int ret = 1;
	FILE *out;

	bt_model_init(&m);
	if (o->output && bt_same_output(o->output, path)) {
		fprintf(stderr, "boundtrace report: %s: -o names the recording itself\n", o->output);
		goto out;
	}
	if (o->nfiles > 1) {
		char warn[512];

		/* Several hosts' recordings: one model, each host apart, clocks aligned. */
		snprintf(err, sizeof(err), "out of memory aligning the hosts' clocks");
		if (bt_rec_merge(o->files, o->nfiles, &m, warn, sizeof(warn), err, sizeof(err)) ||
		    bt_clocks_align(&m)) {
			fprintf(stderr, "boundtrace report: %s\n", err);
			goto out;
		}
		if (warn[0])
			fprintf(stderr, "boundtrace report: %s\n", warn);
	} else if (bt_rec_read_each(path, take_snapshot, (void *)o, &m, &info, &st, err,
				    sizeof(err))) {
		fprintf(stderr, "boundtrace report: %s\n", err);
		goto out;
	} else if (!st.snapshots) {
		fprintf(stderr, "boundtrace report: %s: holds no complete snapshot (cut short "
				"before the first one was written)\n", path);
		goto out;
	} else if (st.truncated) {
		fprintf(stderr, "boundtrace report: %s: recording cut short; showing its last "
				"complete snapshot (%u)\n", path, st.snapshots);
	}
	m.weight = o->weight;
	m.metrics_pid = o->metrics_pid;
	m.group_exe = o->group_exe;
	m.connections = o->connections;
	m.max_series = o->max_series;
	bt_model_filter(&m, o->pids, o->npids, o->kind);
	bt_model_sort(&m);
	out = o->output ? bt_open_output(o->output, o->force, err, sizeof(err)) : stdout;
	if (!out) {
		fprintf(stderr, "boundtrace report: %s\n", err);
		goto out;
	}
	ret = bt_report_write(out, o->exporter, &m) ? 1 : 0;
	if (ret) {
		bt_abort_output(out);
	} else if (!bt_close_output(out, err, sizeof(err))) {
		fprintf(stderr, "boundtrace report: %s\n", err);
		ret = 1;
	}
out:
	bt_model_free(&m);
	return ret;
}
