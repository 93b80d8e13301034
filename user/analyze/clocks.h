/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Merged recordings: each host's monotonic clock against host 0's, from
 * the TCP/UDP exchanges stitched between them, and the episodes moved
 * onto host 0's timeline.
 *
 * A connection stitched between host 0 (side A) and host h (side B) on
 * which both ends wait to receive (request and response): every wake of
 * one side on it lies between two consecutive wakes of the other side
 * (the data that woke it was sent after the other side's previous wake,
 * and the other side's next wake answers it). So for each wake b of B,
 * between A's wakes a1 < a2: a1 < b − θ < a2, that is
 * θ ∈ (b − a2, b − a1), θ being B's clock minus A's; and the same with
 * the roles swapped. Every stitched wake narrows θ; the intersection's
 * middle is the estimate, its half-width the error. A wake is placed
 * between the other side's wakes by the hosts' wall clocks first, so
 * those must agree to within one exchange; when the intersection is
 * empty (or there are no episodes: record with --chains) the wall
 * clocks alone give the offset, and the report says so.
 */
#ifndef BT_CLOCKS_H
#define BT_CLOCKS_H

#include "model/model.h"

/* Fills m->hosts[*].clock_* and shifts every other host's episodes; 0 or -ENOMEM. */
int bt_clocks_align(struct bt_model *m);

#endif
