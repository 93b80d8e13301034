/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The --stacks aggregates as folded lines, the unit flamegraph.pl,
 * inferno and speedscope read, root first:
 *   comm;user frames...;-;kernel frames...;kind:channel→peer   (crossings)
 *   wakee;its frames...;kind:channel←peer;--;waker frames (leaf first);waker
 * (→ for a send or wake, ← for a receive or wait). Rows that differ only
 * in what a line does not show (return addresses inside one function)
 * are merged: one line per stack, sorted, weights in the model's --weight.
 */
#ifndef BT_FOLDED_H
#define BT_FOLDED_H

#include <stdint.h>
#include "model/model.h"

/* Crossing lines are at most this long (wakers' twice): longer stacks are cut. */
#define BT_FOLDED_LINE_MAX (64 * 1024)

struct bt_folded_line {
	char *text;
	uint64_t weight;
};

struct bt_folded {
	struct bt_folded_line *v;
	size_t n, cap;
};

struct bt_views;

/* peers: a view with BT_VIEW_PEERS, naming each boundary's far end. 0 or -1 (ENOMEM). */
int bt_folded_crossings(const struct bt_model *m, const struct bt_views *peers,
			struct bt_folded *out);
int bt_folded_wakers(const struct bt_model *m, const struct bt_views *peers,
		     struct bt_folded *out);
void bt_folded_free(struct bt_folded *f);

/* The unit of the weights: "calls", "bytes" or "us blocked". */
const char *bt_folded_unit(const struct bt_model *m);

#endif
