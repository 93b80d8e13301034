/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Exporters: each turns the model into one output format. They read the
 * model and nothing else, so a live trace and a recording print alike.
 */
#ifndef BT_REPORT_H
#define BT_REPORT_H

#include <stdio.h>
#include "model/model.h"

struct bt_exporter {
	const char *name;
	/* 0 on success, -1 on a write error. */
	int (*write)(FILE *f, const struct bt_model *m);
};

const struct bt_exporter *bt_report_find(const char *name);
/* "table|json|...", for usage and errors. */
const char *bt_report_format_names(void);

int bt_report_table(FILE *f, const struct bt_model *m);
int bt_report_json(FILE *f, const struct bt_model *m);
int bt_report_dot(FILE *f, const struct bt_model *m);
int bt_report_chains(FILE *f, const struct bt_model *m);
int bt_report_folded(FILE *f, const struct bt_model *m);
int bt_report_svg(FILE *f, const struct bt_model *m);
int bt_report_wakers(FILE *f, const struct bt_model *m);

/* --weight NAME (calls, bytes, blocked) to enum bt_weight; -1 if unknown. */
int bt_weight_parse(const char *name);

/* Loss counters by name, shared by every exporter. */
const char *bt_loss_name(unsigned int loss);

#endif
