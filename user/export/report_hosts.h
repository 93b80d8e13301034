/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Merged recordings: the hosts and their clock offsets, in the table and the JSON. */
#ifndef BT_REPORT_HOSTS_H
#define BT_REPORT_HOSTS_H

#include <stdio.h>
#include "lib/json.h"
#include "model/model.h"

/* "hosts": [...] when m merges several hosts, else nothing. */
void bt_json_hosts(struct jw *w, const struct bt_model *m);
/* The table's lines: one per host with its clock; nothing for one host. */
void bt_table_hosts(FILE *f, const struct bt_model *m);

#endif
