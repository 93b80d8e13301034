// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The views of one report, built once from the model (analyze/views.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/chain_input.h"
#include "analyze/views.h"
#include "lib/vec.h"

static int build_peers(const struct bt_model *m, struct bt_views *v)
{
	size_t nrows = 0, cap = 0, n = 0;
	struct bt_peer buf[BT_PEERS_MAX];
	char service[BT_CHANNEL_LEN];

	v->row_base = calloc(m->nprocs ? m->nprocs : 1, sizeof(*v->row_base));
	for (size_t i = 0; i < m->nprocs; i++) {
		if (v->row_base)
			v->row_base[i] = nrows;
		nrows += m->procs[i].nrows;
	}
	v->span = calloc(nrows ? nrows : 1, sizeof(*v->span));
	v->service = calloc(nrows ? nrows : 1, sizeof(*v->service));
	if (!v->row_base || !v->span || !v->service)
		return -1;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];

		for (size_t j = 0; j < p->nrows; j++) {
			size_t k = bt_row_peers(m, p, &p->rows[j], buf, BT_PEERS_MAX);

			/* Rows with no far end may leave v->peer NULL: nothing to copy. */
			if (k) {
				if (!bt_grow((void **)&v->peer, &cap, n + k, sizeof(*v->peer)))
					return -1;
				memcpy(v->peer + n, buf, k * sizeof(*buf));
			}
			v->span[v->row_base[i] + j].off = n;
			v->span[v->row_base[i] + j].n = k;
			bt_row_service(m, &p->rows[j], service, sizeof(service));
			v->service[v->row_base[i] + j] = bt_strtab_id(&v->names, service);
			if (v->service[v->row_base[i] + j] == BT_HMAP_NONE)
				return -1;
			n += k;
		}
	}
	return 0;
}

struct bt_row_peers bt_views_peers(const struct bt_views *v, const struct bt_model *m,
				   const struct bt_proc *p, const struct bt_row *r)
{
	struct bt_row_peers out = { 0 };
	size_t i = p - m->procs, j = r - p->rows;

	if (!(v->built & BT_VIEW_PEERS) || i >= m->nprocs || j >= p->nrows)
		return out;
	out.n = v->span[v->row_base[i] + j].n;
	if (out.n)
		out.v = v->peer + v->span[v->row_base[i] + j].off;
	return out;
}

const char *bt_views_service(const struct bt_views *v, const struct bt_model *m,
			     const struct bt_proc *p, const struct bt_row *r)
{
	size_t i = p - m->procs, j = r - p->rows;

	if (!(v->built & BT_VIEW_PEERS) || i >= m->nprocs || j >= p->nrows)
		return "";
	return bt_strtab_str(&v->names, v->service[v->row_base[i] + j]);
}

static int build_views(const struct bt_model *m, unsigned int which, struct bt_views *v)
{
	/* The folded lines name each boundary's far end. */
	if (which & (BT_VIEW_FOLDED | BT_VIEW_WAKERS))
		which |= BT_VIEW_PEERS;
	/* A chain's hop to an untraced process is named from the edges. */
	if (which & BT_VIEW_CHAINS)
		which |= BT_VIEW_EDGES;
	if (which & BT_VIEW_PEERS) {
		if (build_peers(m, v))
			goto fail;
		v->built |= BT_VIEW_PEERS;
	}
	if (which & BT_VIEW_EDGES) {
		if (bt_edges_build(m, &v->edges))
			goto fail;
		v->built |= BT_VIEW_EDGES;
	}
	if ((which & BT_VIEW_CHAINS) && m->chain_mode) {
		v->chains = bt_model_chains(m, &v->edges);
		if (!v->chains)
			goto fail;
		bt_chains_name_far_ends(m, v->chains, &v->edges);
		v->built |= BT_VIEW_CHAINS;
	}
	if (which & BT_VIEW_FOLDED) {
		if (bt_folded_crossings(m, v, &v->folded))
			goto fail;
		v->built |= BT_VIEW_FOLDED;
	} else if (which & BT_VIEW_WAKERS) {
		if (bt_folded_wakers(m, v, &v->folded))
			goto fail;
		v->built |= BT_VIEW_WAKERS;
	}
	return 0;
fail:
	bt_views_free(v);
	return -1;
}

int bt_views_build(const struct bt_model *m, unsigned int which, struct bt_views *v)
{
	int err, ret;

	memset(v, 0, sizeof(*v));
	/* Every view pairs rows: index the model once for all of them. */
	err = bt_peer_index_begin(m);
	if (err && err != -EBUSY)
		return -1;
	ret = build_views(m, which, v);
	if (!err)
		bt_peer_index_end();
	return ret;
}

void bt_views_free(struct bt_views *v)
{
	bt_edges_free(&v->edges);
	bt_chains_free(v->chains);
	bt_folded_free(&v->folded);
	free(v->row_base);
	free(v->span);
	free(v->peer);
	free(v->service);
	bt_strtab_free(&v->names);
	memset(v, 0, sizeof(*v));
}
