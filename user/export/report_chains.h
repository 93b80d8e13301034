/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The chains list as the JSON exporter prints it (the table and -f chains print lines). */
#ifndef BT_REPORT_CHAINS_H
#define BT_REPORT_CHAINS_H

#include "analyze/chains.h"
#include "lib/json.h"

/* The JSON `chains` list (docs/SCHEMA.md); writes the key too. */
void bt_json_chains(struct jw *w, const struct bt_chains *c);
/* The JSON `waits` list: each process's blocking episodes by wait class. */
void bt_json_waits(struct jw *w, const struct bt_chains *c);

#endif
