/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The model's blocking episodes turned into chains (analyze/chains.c). */
#ifndef BT_CHAIN_INPUT_H
#define BT_CHAIN_INPUT_H

#include "analyze/chains.h"
#include "model/model.h"

/* Runs the chain analysis over the model's episodes; NULL when out of memory. */
struct bt_chains *bt_model_chains(const struct bt_model *m);

#endif
