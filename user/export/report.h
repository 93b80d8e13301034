/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Exporters: each prints the model and the views derived from it
 * (analyze/views.h) in one format. They compute nothing: what they show
 * was derived once, by the same code for a live trace and a recording,
 * so the two print alike.
 */
#ifndef BT_REPORT_H
#define BT_REPORT_H

#include <stdio.h>
#include "analyze/views.h"
#include "model/model.h"

/* What an exporter prints from that a trace collects only when asked. */
enum bt_need {
	BT_NEED_EPISODES = 1 << 0,	/* blocking episodes (--chains) */
	BT_NEED_STACKS = 1 << 1,	/* stacks of the crossings (--stacks) */
};

struct bt_exporter {
	const char *name;
	unsigned int views;	/* enum bt_view: what write() reads */
	/* 0 on success, -1 on a write error. */
	int (*write)(FILE *f, const struct bt_model *m, const struct bt_views *v);
	unsigned int needs;	/* enum bt_need: a live trace turns these on */
};

/*
 * From model to output, for a live trace and `report FILE` alike: builds
 * the views e needs, prints, frees them. 0, or -1 (out of memory, write error).
 */
int bt_report_write(FILE *f, const struct bt_exporter *e, const struct bt_model *m);

const struct bt_exporter *bt_report_find(const char *name);
/* "table|json|...", for usage and errors. */
const char *bt_report_format_names(void);

int bt_report_table(FILE *f, const struct bt_model *m, const struct bt_views *v);
int bt_report_json(FILE *f, const struct bt_model *m, const struct bt_views *v);
int bt_report_dot(FILE *f, const struct bt_model *m, const struct bt_views *v);
int bt_report_chains(FILE *f, const struct bt_model *m, const struct bt_views *v);
int bt_report_folded(FILE *f, const struct bt_model *m, const struct bt_views *v);
int bt_report_svg(FILE *f, const struct bt_model *m, const struct bt_views *v);
int bt_report_wakers(FILE *f, const struct bt_model *m, const struct bt_views *v);
int bt_report_hist(FILE *f, const struct bt_model *m, const struct bt_views *v);
int bt_report_openmetrics(FILE *f, const struct bt_model *m, const struct bt_views *v);
int bt_report_prometheus(FILE *f, const struct bt_model *m, const struct bt_views *v);

/* --weight NAME (calls, bytes, blocked) to enum bt_weight; -1 if unknown. */
int bt_weight_parse(const char *name);

/* Loss counters by name, shared by every exporter. */
const char *bt_loss_name(unsigned int loss);
/* The text formats' last line: every non-zero loss counter, or nothing. */
void bt_report_losses_text(FILE *f, const struct bt_model *m);
/* Ring records by kind (enum bt_self_record), shared by every exporter. */
const char *bt_self_record_name(unsigned int kind);
/*
 * What the trace cost boundtrace itself (struct bt_self_cost), over
 * duration_ns, as one line of text into buf (no newline); "" when nothing
 * was measured (s->measured false). Returns buf.
 */
char *bt_self_format(const struct bt_self_cost *s, uint64_t duration_ns, char *buf, size_t len);
/* The text formats' line of it, after the losses; nothing when nothing was measured. */
void bt_report_self_text(FILE *f, const struct bt_model *m);

#endif
