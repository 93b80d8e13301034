// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "analyze/clocks.h"
#include "analyze/peers.h"
#include "lib/vec.h"

struct wakes {
	uint64_t *t;		/* receive-wait ends on one connection end, sorted */
	size_t n, cap;
};

/* The ends of tgid's blocked receives on chan. */
static int collect(const struct bt_model *m, uint32_t tgid, uint64_t chan, struct wakes *w)
{
	w->n = 0;
	for (size_t i = 0; i < m->nepisodes; i++) {
		const struct bt_episode_ev *e = &m->episodes[i];

		if (e->pid != tgid || e->chan != chan || e->dir != BT_DIR_RECV)
			continue;
		if (!bt_grow((void **)&w->t, &w->cap, w->n + 1, sizeof(*w->t)))
			return -ENOMEM;
		w->t[w->n++] = e->end_ns;
	}
	if (w->n)
		qsort(w->t, w->n, sizeof(*w->t), bt_cmp_u64);
	return 0;
}

struct bound {
	int64_t lo, hi;		/* lo < θ < hi */
	uint64_t samples;
};

/*
 * Each wake b (clock B) between consecutive wakes of a (clock A), placed
 * by guess (B − A): narrows θ to (b − a[k], b − a[k−1]).
 */
static void narrow(const struct wakes *a, const struct wakes *b, int64_t guess, int sign,
		   struct bound *bd)
{
	for (size_t i = 0; i < b->n; i++) {
		int64_t at = (int64_t)b->t[i] - guess;	/* b on A's clock, by the guess */
		/* k: how many of a's wakes are at or before it. */
		size_t k = at < 0 ? 0 : bt_upper_bound_u64(a->t, a->n, sizeof(*a->t), 0, at);

		if (k == 0 || k == a->n)
			continue;	/* before the first or after the last: bounded on one side only */
		/* sign -1: the roles are swapped, θ is A's clock minus B's: negate. */
		int64_t lo = (int64_t)b->t[i] - (int64_t)a->t[k];
		int64_t hi = (int64_t)b->t[i] - (int64_t)a->t[k - 1];

		if (sign < 0) {
			int64_t t = lo;

			lo = -hi;
			hi = -t;
		}
		if (lo > bd->lo)
			bd->lo = lo;
		if (hi < bd->hi)
			bd->hi = hi;
		bd->samples++;
	}
}

/* Host h against host 0 over every connection stitched between them. */
static int stitch(const struct bt_model *m, uint32_t h, int64_t guess, struct bound *bd)
{
	struct wakes wa = { 0 }, wb = { 0 };
	int err = 0;

	for (size_t i = 0; i < m->nprocs && !err; i++) {
		const struct bt_proc *p = &m->procs[i];

		if (bt_host_of_pid(p->pid) != 0)
			continue;
		for (size_t j = 0; j < p->nrows && !err; j++) {
			const struct bt_row *r = &p->rows[j];

			if (r->key.dir != BT_DIR_RECV ||
			    (r->key.kind != BT_KIND_TCP && r->key.kind != BT_KIND_UDP))
				continue;
			for (size_t x = 0; x < m->nprocs && !err; x++) {
				const struct bt_proc *q = &m->procs[x];

				if (bt_host_of_pid(q->pid) != h)
					continue;
				for (size_t y = 0; y < q->nrows && !err; y++) {
					const struct bt_row *o = &q->rows[y];

					if (o->key.dir != BT_DIR_RECV || !bt_inet_mirror(r, o))
						continue;
					err = collect(m, p->pid, r->key.chan, &wa);
					if (!err)
						err = collect(m, q->pid, o->key.chan, &wb);
					if (!err && wa.n && wb.n) {
						narrow(&wa, &wb, guess, 1, bd);
						narrow(&wb, &wa, -guess, -1, bd);
					}
				}
			}
		}
	}
	free(wa.t);
	free(wb.t);
	return err;
}

int bt_clocks_align(struct bt_model *m)
{
	if (m->nhosts < 2)
		return 0;
	for (size_t h = 1; h < m->nhosts; h++) {
		struct bt_host *host = &m->hosts[h];
		const struct bt_host *ref = &m->hosts[0];
		struct bound bd = { INT64_MIN, INT64_MAX, 0 };
		bool wall = host->wall_minus_mono_ns && ref->wall_minus_mono_ns;
		/* mono_h − mono_0 at one wall instant, if the wall clocks agree. */
		int64_t guess = wall ? ref->wall_minus_mono_ns - host->wall_minus_mono_ns : 0;

		if (stitch(m, h, guess, &bd))
			return -ENOMEM;
		if (bd.samples && bd.lo < bd.hi) {
			host->clock_from = BT_CLOCK_STITCHED;
			host->clock_offset_ns = bd.lo + (bd.hi - bd.lo) / 2;
			host->clock_error_ns = (uint64_t)(bd.hi - bd.lo) / 2;
			host->clock_samples = bd.samples;
		} else if (wall) {
			host->clock_from = BT_CLOCK_WALL;
			host->clock_offset_ns = guess;
		} else {
			host->clock_from = BT_CLOCK_UNKNOWN;
			continue;	/* episodes stay on their own clock */
		}
		for (size_t i = 0; i < m->nepisodes; i++) {
			struct bt_episode_ev *e = &m->episodes[i];

			if (bt_host_of_pid(e->pid) != h)
				continue;
			e->start_ns -= host->clock_offset_ns;
			e->end_ns -= host->clock_offset_ns;
			if (e->wake_ns)
				e->wake_ns -= host->clock_offset_ns;
		}
	}
	return 0;
}
