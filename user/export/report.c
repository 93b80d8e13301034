// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "export/report.h"

static const struct bt_exporter exporters[] = {
	{ "table", BT_VIEW_PEERS | BT_VIEW_EDGES | BT_VIEW_CHAINS, bt_report_table },
	{ "json", BT_VIEW_PEERS | BT_VIEW_EDGES | BT_VIEW_CHAINS, bt_report_json },
	{ "dot", BT_VIEW_EDGES, bt_report_dot },
	{ "chains", BT_VIEW_CHAINS, bt_report_chains, BT_NEED_EPISODES },
	{ "folded", BT_VIEW_FOLDED, bt_report_folded, BT_NEED_STACKS },
	{ "svg", BT_VIEW_FOLDED, bt_report_svg, BT_NEED_STACKS },
	{ "wakers", BT_VIEW_WAKERS, bt_report_wakers, BT_NEED_STACKS },
	{ "hist", BT_VIEW_EDGES, bt_report_hist },
	{ "openmetrics", BT_VIEW_PEERS, bt_report_openmetrics },
	{ "prometheus", BT_VIEW_PEERS, bt_report_prometheus },
};

#define N_EXPORTERS (sizeof(exporters) / sizeof(exporters[0]))

const struct bt_exporter *bt_report_find(const char *name)
{
	for (size_t i = 0; i < N_EXPORTERS; i++)
		if (!strcmp(exporters[i].name, name))
			return &exporters[i];
	return NULL;
}

int bt_report_write(FILE *f, const struct bt_exporter *e, const struct bt_model *m)
{
	struct bt_views v;
	int err;

	if (bt_views_build(m, e->views, &v))
		return -1;
	err = e->write(f, m, &v);
	bt_views_free(&v);
	return err;
}

const char *bt_report_format_names(void)
{
	static char names[128];

	if (!names[0]) {
		for (size_t i = 0; i < N_EXPORTERS; i++) {
			if (i)
				strncat(names, "|", sizeof(names) - strlen(names) - 1);
			strncat(names, exporters[i].name, sizeof(names) - strlen(names) - 1);
		}
	}
	return names;
}

void bt_report_losses_text(FILE *f, const struct bt_model *m)
{
	bool any = false;

	for (unsigned int l = 0; l < BT_LOSS_MAX; l++) {
		if (!m->lost[l])
			continue;
		fprintf(f, "%s lost %s: %llu", any ? "," : "\n", bt_loss_name(l),
			(unsigned long long)m->lost[l]);
		any = true;
	}
	if (any)
		fputc('\n', f);
}

const char *bt_loss_name(unsigned int loss)
{
	static const char *const names[BT_LOSS_MAX] = {
		[BT_LOSS_MAP_FULL] = "map_full",
		[BT_LOSS_EVENTS] = "events",
		[BT_LOSS_NO_ENTRY] = "no_entry",
		[BT_LOSS_MMSG_TRUNC] = "mmsg_truncated",
		[BT_LOSS_TARGETS_FULL] = "pid_out_of_range",
		[BT_LOSS_WAKEES] = "wakees_overflow",
		[BT_LOSS_EPISODES] = "episodes",
		[BT_LOSS_STACKS] = "stacks",
		[BT_LOSS_CALLS] = "calls",
		[BT_LOSS_CALLS_UNPLACED] = "calls_unplaced",
		[BT_LOSS_EXCHANGES] = "exchanges",
	};

	return loss < BT_LOSS_MAX ? names[loss] : "?";
}

int bt_weight_parse(const char *name)
{
	static const char *const names[] = {
		[BT_WEIGHT_CALLS] = "calls",
		[BT_WEIGHT_BYTES] = "bytes",
		[BT_WEIGHT_BLOCKED] = "blocked",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}
