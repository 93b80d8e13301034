/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The model as Prometheus metrics: one label set per (process, peer,
 * kind, service, direction), named by comm (pids only with --metrics-pid)
 * so the series count follows what talks to what, not how many pids or
 * connections came and went. docs/METRICS.md lists every metric and the
 * cardinality.
 */
#ifndef BT_METRICS_H
#define BT_METRICS_H

#include <stddef.h>
#include <stdio.h>
#include "analyze/views.h"
#include "model/model.h"

#define BT_MAX_SERIES_DEFAULT	500

enum bt_metrics_flavor {
	BT_METRICS_PROMETHEUS,		/* text format 0.0.4 */
	BT_METRICS_OPENMETRICS,		/* OpenMetrics 1.0.0 text */
	BT_METRICS_FLAVORS,
};

/*
 * The label sets admitted so far. Beyond --max-series the rest are summed
 * into one "other" set; a set once admitted stays admitted, so between
 * scrapes no counter moves into "other" and back (a counter must not go
 * down). NULL for a one-shot report: the busiest sets are admitted.
 */
struct bt_metrics_keep {
	char **keys;		/* sorted */
	size_t n, cap;
};

void bt_metrics_keep_free(struct bt_metrics_keep *k);

/* 0, or -1 on a write error or out of memory. Views: BT_VIEW_PEERS. */
int bt_metrics_write(FILE *f, const struct bt_model *m, const struct bt_views *v,
		     enum bt_metrics_flavor flavor, struct bt_metrics_keep *keep);

/* The Content-Type of each flavor. */
const char *bt_metrics_content_type(enum bt_metrics_flavor flavor);

#endif
