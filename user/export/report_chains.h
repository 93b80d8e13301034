/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The model's blocking episodes turned into chains (user/chains.c) for the exporters. */
#ifndef BT_REPORT_CHAINS_H
#define BT_REPORT_CHAINS_H

#include "analyze/chains.h"
#include "lib/json.h"
#include "model/model.h"

/* Runs the chain analysis over the model's episodes; NULL when out of memory. */
struct bt_chains *bt_model_chains(const struct bt_model *m);
/* The JSON `chains` list (docs/SCHEMA.md); writes the key too. */
void bt_json_chains(struct jw *w, const struct bt_chains *c);

#endif
