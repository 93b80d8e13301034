/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the exporters print besides the model itself, derived from it once
 * per report: the far ends of every row, the edges, the chains, the
 * stacks as folded lines. An exporter names the views it reads
 * (struct bt_exporter.views); bt_views_build() makes just those, so a
 * live trace and `report FILE` derive them by the same code.
 */
#ifndef BT_VIEWS_H
#define BT_VIEWS_H

#include "analyze/chains.h"
#include "analyze/folded.h"
#include "analyze/peers.h"
#include "analyze/services.h"
#include "lib/strtab.h"
#include "model/model.h"

enum bt_view {
	BT_VIEW_PEERS = 1 << 0,		/* the far ends of every row */
	BT_VIEW_EDGES = 1 << 1,		/* one per direction between two processes */
	BT_VIEW_CHAINS = 1 << 2,	/* synchronous chains (chain mode only) */
	BT_VIEW_FOLDED = 1 << 3,	/* stack rows as merged folded lines */
	BT_VIEW_WAKERS = 1 << 4,	/* blocked stacks with their wakers' */
};

/* The far ends of one row: v[0..n). */
struct bt_row_peers {
	const struct bt_peer *v;
	size_t n;
};

struct bt_views {
	unsigned int built;		/* enum bt_view bits */
	struct bt_edges edges;
	struct bt_chains *chains;	/* NULL outside chain mode */
	struct bt_folded folded;	/* BT_VIEW_FOLDED, else BT_VIEW_WAKERS */
	/* BT_VIEW_PEERS: row j of procs[i] is span[row_base[i] + j] of peer. */
	size_t *row_base;
	struct { size_t off, n; } *span;
	struct bt_peer *peer;
	/*
	 * BT_VIEW_PEERS: row's service, same index as span, as a number in
	 * names: a service is shared by every connection to it, so each
	 * name is held once (50,000 connections to one port: one name).
	 */
	uint32_t *service;
	struct bt_strtab names;
};

/* Builds the views asked for (BT_VIEW_FOLDED and _WAKERS exclude each other). */
int bt_views_build(const struct bt_model *m, unsigned int which, struct bt_views *v);
void bt_views_free(struct bt_views *v);

/* Row r of m->procs[p]: its far ends (BT_VIEW_PEERS). */
struct bt_row_peers bt_views_peers(const struct bt_views *v, const struct bt_model *m,
				   const struct bt_proc *p, const struct bt_row *r);

/* Row r of m->procs[p]: the service it is a connection to (BT_VIEW_PEERS), or "". */
const char *bt_views_service(const struct bt_views *v, const struct bt_model *m,
			     const struct bt_proc *p, const struct bt_row *r);

#endif
