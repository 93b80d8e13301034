/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The model's blocking episodes turned into chains (analyze/chains.c). */
#ifndef BT_CHAIN_INPUT_H
#define BT_CHAIN_INPUT_H

#include "analyze/chains.h"
#include "model/model.h"

/*
 * The chain window's horizon (analyze/exchains.h): a request longer than
 * this that makes calls is nested partially (counted in xcounts.late).
 */
#define BT_CHAIN_HORIZON_NS	(500 * 1000000ull)
/*
 * Each window's budget (bt_xagg_set_budget: exchange records,
 * bt_eagg_set_budget: blocking episodes): a live trace folds when that
 * many of either came since the last fold, and at a high rate a window's
 * horizon shortens so that it keeps about as many.
 */
#define BT_CHAIN_BUDGET		32768

/*
 * Folds the exchange records that came since the last call into the
 * chain aggregates (m->fold), with the hand-offs among the new episodes,
 * and frees the episodes no chain is made of (summed by process). The
 * channels are named from the rows: call it right after a collection, so
 * every record's row is there. 0, or -1 when out of memory.
 */
int bt_model_fold_chains(struct bt_model *m);
/*
 * The same, calling tick(ctx) now and then while the window folds: a
 * tracer empties its ring buffers there, so a long fold on a busy machine
 * loses nothing. What tick adds to the model waits for the next fold.
 */
int bt_model_fold_chains_tick(struct bt_model *m, void (*tick)(void *ctx), void *ctx);
/*
 * The budget's records (bt_model_take_exchange) or episodes came since
 * the last fold: collect and fold now rather than at the next round.
 * False while a recording is made (its snapshots fold), and before the
 * first fold (no chain mode: never).
 */
bool bt_model_fold_due(const struct bt_model *m);
/* For -v: what the windows did so far. */
struct bt_fold_stats {
	uint64_t folds, window_max;	/* the largest exchange window a fold took (records, hand-offs) */
	size_t budget;
	uint64_t horizon_ns, horizon_min_ns;	/* the last fold's, the shortest */
	uint64_t ep_window_max;		/* the same for the episode window */
	uint64_t ep_horizon_ns, ep_horizon_min_ns;
	/*
	 * The folds' CPU (this thread's clock): names, windows' passes,
	 * sums; not the records' intake, nor the ticks' draining of the rings.
	 */
	uint64_t cpu_ns;
	uint64_t onehop_calls;	/* exchanges the kernel counted, taken into the chains */
	uint64_t paired_calls;	/* connections' exchanges paired as their records came (onehop_pairs.h) */
};
void bt_model_fold_stats(const struct bt_model *m, struct bt_fold_stats *s);
/*
 * The check mode (m->onehop_check), once the chains were made at the
 * trace's end: 0 when the chains of the records, the kernel's one-hop
 * counts and the pairs made as the records came are those of every
 * record (*counted: the exchanges the counts held; *paired: those
 * paired), 1 when not (the first difference in why), -1 when no check
 * was made.
 */
int bt_model_onehop_check(const struct bt_model *m, uint64_t *counted, uint64_t *paired,
			  char *why, size_t len);
/*
 * One exchange record as it comes: once the model folds as the trace
 * goes (after its first bt_model_fold_chains), straight into the window,
 * its service named at the next fold (after the collection before it);
 * else, while the windows fold, or while a recording is made
 * (m->keep_records: its next snapshot writes it), kept in the model
 * until then. 0, or -1 when out of memory.
 */
int bt_model_take_exchange(struct bt_model *m, const struct bt_exchange_ev *e);
/*
 * The rows were just collected (the exchange records taken until now
 * came before): the next fold names those records from them, and the
 * records that come until then wait for the fold after.
 */
void bt_model_collected(struct bt_model *m);
/*
 * The chains of the model's records (folding what came since the last
 * fold first): at the end of the trace every record's; while it goes on
 * (m->chains_open: an interval table) those the windows folded by then,
 * the rest left pending for the next; a recording's records pending
 * (m->keep_records) wait for its next snapshot, whose fold takes them. A
 * model never folded (a recording of the first format, read back)
 * goes through windows of its own and is left as it is. NULL when out of
 * memory.
 */
struct bt_edges;
/*
 * e (may be NULL): the map's edges, which name a hop's far end nobody
 * traced; a pool of processes is one end, as in the map (bt_node_of).
 */
struct bt_chains *bt_model_chains(const struct bt_model *m, const struct bt_edges *e);

/*
 * Names the far end of each hop to a process nobody traced (no server
 * exchange of its own says who answered): the one process the edges
 * (the rows' far ends, from discovery) give for the hop's service from
 * the same process, if exactly one does.
 */
void bt_chains_name_far_ends(const struct bt_model *m, struct bt_chains *c,
			     const struct bt_edges *e);

#endif
