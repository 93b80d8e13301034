/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One-hop trees of connections, paired as their records come. The kernel
 * marks a client's exchange BT_XREC_ROOT when its process never read a
 * request, a server's BT_XREC_LEAF when the thread that read the request
 * answered it calling nobody (bpf/boundtrace.h). A client's root and the
 * leaf its server answered it with are one tree of one hop: summed here
 * by key as the kernel's one-hop counts are (struct bt_onehop_row), for
 * the fold to add as their two records would have folded
 * (bt_xagg_add_onehop), without the chain window's passes over them.
 *
 * The rule is the kernel's meet (bpf/exchange.bpf.h, meet_take), run here
 * at no cost to the traced threads: a server's leaf is held under its
 * connection (the client's end, the server's) until its client's next
 * root; it answered that exchange when it read the request after the
 * client's response before and answered before this one. Anything else,
 * a half that finds no counterpart, goes to the window as every record
 * does ("spilled"): nothing is lost, a pair is only ever a shortcut.
 */
#ifndef BT_ONEHOP_PAIRS_H
#define BT_ONEHOP_PAIRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "model/model.h"

struct bt_pairs;

struct bt_pairs *bt_pairs_new(void);
void bt_pairs_free(struct bt_pairs *p);

/*
 * Record e: 1 when taken (paired and summed, or a server's leaf held),
 * 0 when not (unmarked, or a root that found no leaf: fold it), -1 when
 * out of memory (not taken). A held leaf that e shows will not pair is
 * copied to *spill, *spilled set: fold it too.
 */
int bt_pairs_offer(struct bt_pairs *p, const struct bt_exchange_ev *e,
		   struct bt_exchange_ev *spill, bool *spilled);

/*
 * Before a fold: each held leaf to fn (to be folded: its client's record
 * may have gone to the window before it came), then the connections no
 * record named since the last flush are forgotten. 0, or fn's error.
 */
int bt_pairs_flush(struct bt_pairs *p, int (*fn)(void *ctx, const struct bt_exchange_ev *e),
		   void *ctx);

/* The pairs summed by key since the last bt_pairs_taken (calls > 0 each). */
const struct bt_onehop_row *bt_pairs_rows(const struct bt_pairs *p, size_t *n);
/* The rows were added to the chains: the sums start again. */
void bt_pairs_taken(struct bt_pairs *p);
/* Exchanges paired so far (each a client's record and its server's). */
uint64_t bt_pairs_count(const struct bt_pairs *p);

#endif
