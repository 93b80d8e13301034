/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The log2 histograms as data: JSON buckets (docs/SCHEMA.md). */
#ifndef BT_REPORT_HIST_H
#define BT_REPORT_HIST_H

#include "lib/json.h"
#include "boundtrace.h"

/* key: [{"low":L,"high":H,"count":N}, ...], non-empty slots only; the last slot has no "high". */
void bt_json_hist(struct jw *w, const char *key, const __u64 hist[BT_HIST_SLOTS]);

#endif
