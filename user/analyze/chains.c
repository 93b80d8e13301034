// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Chain analysis (definitions in chains.h), window by window. Episodes
 * come into a compact array, channel names interned. A fold with cutoff
 * C takes the window's episodes that started by C (an episode ends less
 * than a horizon after it starts, so all of those have come) and, each
 * step bounded:
 *   1. sorts them by (thread, start): radix passes, O(n);
 *   2. drops duplicates and overlaps so a thread's episodes are disjoint
 *      (from its last kept episode that left the window on), which sorts
 *      their ends too: the waker's episodes inside a window are then one
 *      index range, found once per episode by galloping on from where the
 *      last episode of the thread found its waker's;
 *   3. marks nested episodes with a difference array over those ranges;
 *   4. walks the tree of each root that ended by C (depth cap,
 *      threads-on-path check, node budget), summing per trie node (a trie
 *      node is a hop sequence); counts the other episodes that ended by C;
 *   5. per root, the visited trie nodes without visited children are its
 *      chains: adds the root's sums along each (counts, histograms: they
 *      merge across folds);
 *   6. frees the counted episodes that ended long enough before C that no
 *      later root can hold them.
 * The chains are ranked when asked for. One fold at the end of the trace
 * (bt_chains_analyze) is the batch analysis.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/chains_priv.h"
#include "lib/vec.h"

/* ---- episodes ---------------------------------------------------------- */

static int cmp_ep(const struct ep *a, const struct ep *b)
{
	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	/* The longer first, so it is the one kept when they overlap. */
	if (a->end != b->end)
		return a->end > b->end ? -1 : 1;
	if (a->name != b->name)
		return a->name < b->name ? -1 : 1;
	return a->src < b->src ? -1 : a->src > b->src;
}

/*
 * A total order in which a parent always comes before its children
 * (start, then the longer, then tid): nesting follows it, so it has no
 * cycles even for identical spans, and every nested wait reaches a root.
 */
static bool ep_before(const struct ep *a, const struct ep *b)
{
	if (a->start != b->start)
		return a->start < b->start;
	if (a->end != b->end)
		return a->end > b->end;
	if (a->tid != b->tid)
		return a->tid < b->tid;
	return a->src < b->src;
}

static bool waker_known(const struct ep *e)
{
	return e->waker_tid && e->waker_tid != e->tid;
}

/*
 * Room for n elements of elem bytes in a pass array *p (with room *cap),
 * kept for the next pass; NULL when out of memory. Not zeroed.
 */
static void *pass_array(void **p, size_t *cap, size_t n, size_t elem)
{
	if (*p && n <= *cap)
		return *p;
	return bt_resize_raw(p, cap, bt_window_room(n), elem) ? *p : NULL;
}

/* ---- threads ------------------------------------------------------------ */

static bool tstate_eq(const void *ctx, uint32_t i, const void *key)
{
	return ((const struct tstate *)ctx)[i].tid == *(const uint32_t *)key;
}

/*
 * A thread's state; the last two found need no hash (a window's
 * episodes come, and are sorted, in runs of a thread or two taking
 * turns). Threads are never removed: a place found stays theirs.
 */
static struct tstate *tstate_find(struct ctx *x, uint32_t tid)
{
	uint32_t i;

	for (int k = 0; k < 2; k++)
		if (x->ts_recent[k] && x->ts[x->ts_recent[k] - 1].tid == tid)
			return &x->ts[x->ts_recent[k] - 1];
	i = bt_hmap_get(&x->tstab, bt_hash(&tid, sizeof(tid)), tstate_eq, x->ts, &tid);
	if (i == BT_HMAP_NONE)
		return NULL;
	x->ts_recent[1] = x->ts_recent[0];
	x->ts_recent[0] = i + 1;
	return &x->ts[i];
}

/* A thread whose episode came: known from now on, with its pid. */
static int tstate_note(struct ctx *x, uint32_t tid, uint32_t pid)
{
	if (tstate_find(x, tid))
		return 0;
	if (bt_chains_grow((void **)&x->ts, &x->tscap, x->nts, sizeof(*x->ts)) ||
	    bt_hmap_put(&x->tstab, bt_hash(&tid, sizeof(tid)), (uint32_t)x->nts))
		return -ENOMEM;
	x->ts[x->nts++] = (struct tstate){ .tid = tid, .pid = pid };
	return 0;
}

/* ---- the window ---------------------------------------------------------- */

struct bt_eagg {
	struct ctx x;
	struct bt_chain_counts cnt;
	struct bt_chain_opts opts;
	uint64_t cutoff, lo, hi;
	struct bt_budget bud;	/* bt_eagg_set_budget */
	bool folded_once;
	void (*tick)(void *ctx);	/* between a fold's steps (bt_eagg_set_tick) */
	void *tick_ctx;
};

int bt_eagg_add(struct bt_eagg *a, const struct bt_episode *in)
{
	struct ctx *x = &a->x;
	struct ep *e;

	x->cnt->episodes++;
	if (!in->tid || in->end_ns < in->start_ns) {
		x->cnt->invalid++;
		return 0;
	}
	if (in->start_ns < a->lo)
		a->lo = in->start_ns;
	if (in->end_ns > a->hi)
		a->hi = in->end_ns;
	if (in->truncated) {
		x->cnt->truncated++;
		x->cnt->truncated_ns += in->end_ns - in->start_ns;
		return 0;
	}
	/* Roots that could hold it were folded without it. */
	if (a->folded_once && in->end_ns <= a->cutoff)
		x->cnt->late++;
	if (x->nep >= UINT32_MAX - 2)
		return -EOVERFLOW;
	/* Raw: each episode is written whole, the doubled room not yet used costs nothing. */
	if (!bt_grow_raw((void **)&x->ep, &x->epcap, x->nep + 1, sizeof(*x->ep)) ||
	    tstate_note(x, in->tid, in->pid ? in->pid : in->tid))
		return -ENOMEM;
	e = &x->ep[x->nep];
	e->name = bt_strtab_kind_id(&x->names, in->kind, in->channel, BT_EPISODE_CHANNEL_LEN);
	if (e->name == NONE)
		return -ENOMEM;
	e->start = in->start_ns;
	e->end = in->end_ns;
	e->wake = in->wake_ns && in->wake_ns >= in->start_ns &&
		  in->wake_ns <= in->end_ns ? in->wake_ns : in->end_ns;
	e->tid = in->tid;
	e->pid = in->pid ? in->pid : in->tid;
	e->waker_tid = in->waker_tid;
	e->waker_pid = in->waker_pid;
	e->src = x->seq++;
	e->st = 0;
	x->nep++;
	return 0;
}

static bool same_episode(const struct ep *a, const struct ep *b)
{
	return a->start == b->start && a->end == b->end && a->name == b->name;
}

/* e is dropped for kept: counted once, and late if it came after its thread went past it. */
static void drop(struct ctx *x, const struct ep *e, const struct ep *kept)
{
	if (same_episode(e, kept))
		x->cnt->duplicates++;
	else
		x->cnt->overlaps++;
	if (cmp_ep(e, kept) < 0)
		x->cnt->late++;
}

/* Of two episodes of a thread in conflict, whether a is kept: one kept in an earlier fold stays. */
static bool keeps(const struct ep *a, const struct ep *b)
{
	if ((a->st & EP_KEPT) != (b->st & EP_KEPT))
		return a->st & EP_KEPT;
	return cmp_ep(a, b) < 0;
}

/* Whether e overlaps its thread's last kept episode that left the window (and is dropped). */
static bool overlaps_tail(struct ctx *x, const struct ep *e)
{
	const struct tstate *ts = tstate_find(x, e->tid);
	struct ep tail;

	if ((e->st & EP_KEPT) || !ts || !ts->tail || e->start >= ts->tail_end)
		return false;
	tail = (struct ep){ .start = ts->tail_start, .end = ts->tail_end, .tid = e->tid,
			    .name = ts->tail_name };
	drop(x, e, &tail);
	return true;
}

/*
 * One thread is in one syscall at a time, so overlapping episodes of a
 * thread are bad data: keep the first (the longest of equal starts).
 * Moves this pass's np episodes into key order, building the thread
 * table and the dense spans on the way; the later ones follow them.
 */
static int dedup(struct ctx *x, const struct rkey *key, size_t np, struct ep *sorted)
{
	size_t out = 0, room;

	for (size_t i = 0, j; i < np; i = j) {
		const struct ep *e = &x->ep[key[i].idx];
		struct thread *t = x->nth ? &x->th[x->nth - 1] : NULL;

		/* The sort left equal starts in input order: pick the first. */
		for (j = i + 1; j < np; j++) {
			const struct ep *f = &x->ep[key[j].idx];

			if (f->tid != e->tid || f->start != e->start)
				break;
			if (keeps(f, e)) {
				drop(x, e, f);
				e = f;
			} else {
				drop(x, f, e);
			}
		}
		if (t && t->tid == e->tid) {
			/* Kept before, after one that came since and overlaps it: that one goes. */
			while (out > t->lo && (e->st & EP_KEPT) && !(sorted[out - 1].st & EP_KEPT) &&
			       e->start < sorted[out - 1].end)
				drop(x, &sorted[--out], e);
			if (out > t->lo && e->start < sorted[out - 1].end) {
				drop(x, e, &sorted[out - 1]);
				continue;
			}
		} else {
			if (overlaps_tail(x, e))
				continue;
			if (bt_chains_grow((void **)&x->th, &x->thcap, x->nth, sizeof(*x->th)))
				return -ENOMEM;
			t = &x->th[x->nth++];
			t->tid = e->tid;
			t->pid = e->pid;
			t->lo = (uint32_t)out;
		}
		sorted[out] = *e;
		sorted[out].st |= (e->st & EP_KEPT) ? EP_KEPT : EP_KEPT | EP_NEW;
		x->span[out] = (struct span){ e->start, e->end };
		t->hi = (uint32_t)++out;
	}
	x->npass = out;
	memcpy(sorted + out, x->ep + np, (x->nep - np) * sizeof(*sorted));
	x->nep = out + (x->nep - np);
	/* The old array is the next pass's room to sort into. */
	x->spare = x->ep;
	x->ep = sorted;
	room = x->sparecap;
	x->sparecap = x->epcap;
	x->epcap = room;
	return 0;
}

/*
 * The episodes that started by cutoff, by thread, then start: two stable
 * radix passes, start first. The others wait for a later pass.
 */
static int sort_dedup(struct ctx *x, uint64_t cutoff)
{
	size_t np = 0, n = x->nep;
	struct rkey *key = pass_array((void **)&x->key, &x->keycap, n, sizeof(*key));
	struct rkey *tmp = pass_array((void **)&x->keytmp, &x->keytmpcap, n, sizeof(*tmp));
	struct ep *sorted = pass_array((void **)&x->spare, &x->sparecap, n, sizeof(*sorted));

	x->nth = 0;
	if (!key || !tmp || !sorted ||
	    !pass_array((void **)&x->span, &x->spancap, n, sizeof(*x->span)) ||
	    !pass_array((void **)&x->kids_of, &x->kidscap, n, sizeof(*x->kids_of)))
		return -ENOMEM;
	for (size_t i = 0; i < x->nep; i++) {
		if (x->ep[i].start > cutoff)
			continue;
		if (i != np) {
			struct ep t = x->ep[np];

			x->ep[np] = x->ep[i];
			x->ep[i] = t;
		}
		np++;
	}
	for (size_t i = 0; i < np; i++)
		key[i] = (struct rkey){ x->ep[i].start, (uint32_t)i, x->ep[i].tid };
	bt_chains_radix(key, tmp, np);
	for (size_t i = 0; i < np; i++)
		key[i].k = key[i].aux;
	bt_chains_radix(key, tmp, np);
	return dedup(x, key, np, sorted);
}

static const struct thread *thread_find(const struct ctx *x, uint32_t tid)
{
	size_t lo = 0, hi = x->nth;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->th[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < x->nth && x->th[lo].tid == tid ? &x->th[lo] : NULL;
}

/*
 * The first index in [lo, hi) whose value (start, or end with ends) is
 * at least v, none below lo being: a gallop from lo then a binary
 * search, so a search that starts where the last one ended costs the
 * distance it moves, not the thread's log.
 */
static uint32_t gallop(const struct ctx *x, uint32_t lo, uint32_t hi, uint64_t v, bool ends)
{
	uint32_t a = lo, b = lo;
	uint64_t step = 1;

#define SPAN_AT(i) (ends ? x->span[i].end : x->span[i].start)
	while (b < hi && SPAN_AT(b) < v) {
		a = b + 1;
		b = hi - b > step ? b + (uint32_t)step : hi;
		step *= 2;
	}
	while (a < b) {
		uint32_t mid = a + (b - a) / 2;

		if (SPAN_AT(mid) < v)
			a = mid + 1;
		else
			b = mid;
	}
#undef SPAN_AT
	return a;
}

/*
 * Episodes of t inside [s, w], none before from starting at s or later
 * (t->lo, or where the search for an earlier s began).
 */
static struct range inside(const struct ctx *x, const struct thread *t, uint64_t s, uint64_t w,
			   uint32_t from)
{
	uint32_t lo = gallop(x, from, t->hi, s, false);
	/* Ends are sorted too (a thread's episodes are disjoint); w + 1: ends <= w are inside. */
	uint32_t hi = w == UINT64_MAX ? t->hi : gallop(x, lo, t->hi, w + 1, true);

	return (struct range){ lo, hi > lo ? hi : lo };
}

/*
 * For every episode of the pass: the waker's episodes inside its window,
 * and for those counted now, the waker's pid when only the tid came (the
 * pid its own episodes carry, when one came by now). The pass is in
 * (thread, start) order, so a thread's next episode with the same waker
 * searches on from where the last search found the waker's episodes.
 */
static void link_wakers(struct ctx *x, uint64_t cutoff)
{
	const struct thread *last = NULL;
	uint64_t last_start = 0;
	uint32_t last_lo = 0;

	for (size_t i = 0; i < x->npass; i++) {
		struct ep *e = &x->ep[i];
		const struct thread *t = !waker_known(e) ? NULL :
					 last && last->tid == e->waker_tid ? last :
					 thread_find(x, e->waker_tid);
		uint32_t from;

		if (e->waker_tid && !e->waker_pid && e->end <= cutoff) {
			const struct tstate *ts = t ? NULL :
				waker_known(e) ? tstate_find(x, e->waker_tid) : NULL;

			e->waker_pid = t ? t->pid : ts ? ts->pid : e->waker_tid;
		}
		if (!t) {
			x->kids_of[i] = (struct range){ 0, 0 };
			continue;
		}
		from = t == last && e->start >= last_start ? last_lo : t->lo;
		x->kids_of[i] = inside(x, t, e->start, e->wake, from);
		last = t;
		last_start = e->start;
		last_lo = x->kids_of[i].lo;
	}
}

/*
 * Whether ep[i] was counted in an earlier pass as not nested where it is:
 * a root, or with nested_roots one without a waker (that count changes).
 */
static bool counted_unnested(const struct ctx *x, size_t i)
{
	return (x->ep[i].st & EP_COUNTED) && (!x->nested_roots || !waker_known(&x->ep[i]));
}

/*
 * nested[i] when ep[i] is a child of an episode ordered before it. Each
 * episode's children are one range, so a difference array marks them all
 * in O(n). A child with its parent's exact span is alone in its range
 * (its thread's episodes are disjoint): that is where the order decides.
 * A parent in its first pass whose children were counted in an earlier
 * one as not nested came too late for them: counted late.
 */
static uint8_t *mark_nested(struct ctx *x)
{
	int64_t *diff = pass_array((void **)&x->diff, &x->diffcap, x->npass + 1, sizeof(*diff));
	uint32_t *before = pass_array((void **)&x->before, &x->beforecap, x->npass + 1,
				      sizeof(*before));
	uint8_t *nested = pass_array((void **)&x->nested, &x->nestedcap, x->npass + 1, 1);
	int64_t depth = 0;

	if (!diff || !nested || !before)
		return NULL;
	memset(diff, 0, (x->npass + 1) * sizeof(*diff));
	before[0] = 0;
	for (size_t i = 0; i < x->npass; i++)
		before[i + 1] = before[i] + counted_unnested(x, i);
	for (size_t i = 0; i < x->npass; i++) {
		struct range r = x->kids_of[i];

		if (r.lo >= r.hi || (r.hi - r.lo == 1 && !ep_before(&x->ep[i], &x->ep[r.lo])))
			continue;
		diff[r.lo]++;
		diff[r.hi]--;
		if ((x->ep[i].st & EP_NEW) && before[r.hi] > before[r.lo])
			x->cnt->late++;
	}
	for (size_t i = 0; i < x->npass; i++) {
		depth += diff[i];
		nested[i] = depth > 0;
	}
	return nested;
}

/* ---- one root's tree --------------------------------------------------- */

/* Index of trie node's slot in this tree; -1 when out of memory. */
static long slot_get(struct ctx *x, uint32_t trie)
{
	struct slot *s;

	if (x->stamp[trie] == x->serial)
		return x->slot_of[trie];
	if (bt_chains_grow((void **)&x->slots, &x->slotcap, x->nslots, sizeof(*x->slots)))
		return -1;
	s = &x->slots[x->nslots];
	memset(s, 0, sizeof(*s));
	s->trie = trie;
	s->first_dur = NONE;
	x->stamp[trie] = x->serial;
	x->slot_of[trie] = (uint32_t)x->nslots;
	return (long)x->nslots++;
}

static int cmp_kid(const void *pa, const void *pb)
{
	const struct kid *a = pa, *b = pb;

	if (a->trie != b->trie)
		return a->trie < b->trie ? -1 : 1;
	return a->ep < b->ep ? -1 : a->ep > b->ep;
}

/*
 * The waker's calls to two peers or more inside one window were one after
 * the other (one thread): in parallel they would have taken the longest
 * peer's total.
 */
static void fanout(struct ctx *x, struct slot *s, size_t base)
{
	uint64_t total = 0, max = 0, run = 0;
	uint32_t peers = 0;

	if (x->nkids - base < 2)
		return;
	qsort(x->kids + base, x->nkids - base, sizeof(*x->kids), cmp_kid);
	for (size_t k = base; k < x->nkids; k++) {
		if (k == base || x->kids[k].trie != x->kids[k - 1].trie) {
			peers++;
			run = 0;
		}
		run += x->kids[k].ns;
		total += x->kids[k].ns;
		if (run > max)
			max = run;
	}
	if (peers < 2)
		return;
	s->fan_calls++;
	s->fan_save += total - max;
	if (peers > s->fan_peers)
		s->fan_peers = peers;
}

/* Not following the waker: its whole window counts as waiting elsewhere. */
static void not_followed(struct ctx *x, struct slot *s, const struct ep *e, uint8_t why)
{
	s->childdur += e->wake - e->start;
	s->flags |= why;
	if (why == F_CYCLE)
		x->cnt->cycles++;
	else
		x->cnt->cut++;
}

/* Sums the waker's episodes in the window; pushes the ones to follow. */
static int scan_children(struct ctx *x, long si, struct range r)
{
	uint32_t parent = x->slots[si].trie, trie = NONE;
	const struct ep *prev = NULL;

	for (uint32_t k = r.lo; k < r.hi; k++) {
		const struct ep *c = &x->ep[k];
		uint64_t ns = c->end - c->start;

		x->slots[si].childdur += ns;
		/* A wait nobody is known to have ended: the chain ends. */
		if (!waker_known(c))
			continue;
		/* Round trips repeat one hop: skip the lookup then. */
		if (!prev || c->name != prev->name || c->waker_pid != prev->waker_pid)
			trie = bt_chains_tnode(x, parent, c);
		prev = c;
		if (trie == NONE ||
		    bt_chains_grow((void **)&x->kids, &x->kidcap, x->nkids, sizeof(*x->kids)))
			return -ENOMEM;
		x->kids[x->nkids++] = (struct kid){ trie, k, ns };
	}
	return 0;
}

/* Adds e (at depth d, hop sequence trie) and what its waker did meanwhile. */
static int visit(struct ctx *x, uint32_t ei, uint32_t trie, unsigned int d)
{
	const struct ep *e = &x->ep[ei];
	struct range r = x->kids_of[ei];
	long si = slot_get(x, trie);
	const struct tstate *w;
	size_t base, end;
	struct slot *s;

	if (si < 0 ||
	    bt_chains_grow((void **)&x->durs, &x->durcap, x->ndurs, sizeof(*x->durs)))
		return -ENOMEM;
	s = &x->slots[si];
	s->count++;
	s->blocked += e->end - e->start;
	s->queue += e->end - e->wake;
	x->durs[x->ndurs] = (struct link){ e->end - e->start, s->first_dur };
	s->first_dur = (uint32_t)x->ndurs++;
	x->path[d] = e->tid;

	/* A thread on the path is blocked in an ancestor: it did not run. */
	for (unsigned int i = 0; i <= d; i++) {
		if (x->path[i] == e->waker_tid) {
			not_followed(x, s, e, F_CYCLE);
			return 0;
		}
	}
	/* The waker's episodes in this window may have left it already. */
	w = tstate_find(x, e->waker_tid);
	if (w && w->tail && w->tail_start >= e->start && w->tail_end <= e->wake)
		x->partial = true;
	if (r.hi <= r.lo)
		return 0;	/* the waker never blocked meanwhile: its own time */
	if (d + 1 >= x->max_depth || r.hi - r.lo > x->budget) {
		not_followed(x, s, e, F_CUT);
		return 0;
	}
	x->budget -= r.hi - r.lo;

	base = x->nkids;
	if (scan_children(x, si, r))
		return -ENOMEM;
	fanout(x, &x->slots[si], base);
	end = x->nkids;
	for (size_t k = base; k < end; k++) {
		int err = visit(x, x->kids[k].ep, x->kids[k].trie, d + 1);

		if (err)
			return err;
	}
	x->nkids = base;
	return 0;
}

/* ---- per-chain sums ---------------------------------------------------- */

static long chain_get(struct ctx *x, uint32_t trie)
{
	unsigned int nhops = x->tn[trie].depth + 1;
	struct cagg *c;

	if (x->chain_of[trie] != NONE)
		return x->chain_of[trie];
	if (bt_chains_grow((void **)&x->ch, &x->chcap, x->nch, sizeof(*x->ch)))
		return -1;
	while (x->nhg + nhops > x->hgcap)
		if (bt_chains_grow((void **)&x->hg, &x->hgcap, x->hgcap, sizeof(*x->hg)))
			return -1;
	for (unsigned int d = 0; d < nhops; d++)
		x->hg[x->nhg + d] = (struct hagg){ .calls = 0 };
	c = &x->ch[x->nch];
	*c = (struct cagg){ .trie = trie, .h = (uint32_t)x->nhg, .nhops = nhops };
	x->nhg += nhops;
	x->chain_of[trie] = (uint32_t)x->nch;
	return (long)x->nch++;
}

static int add_hop(struct ctx *x, struct hagg *h, const struct slot *s, unsigned int d)
{
	h->calls += s->count;
	h->blocked += s->blocked;
	h->queue += s->queue;
	h->childdur += s->childdur;
	h->fan_calls += s->fan_calls;
	h->fan_save += s->fan_save;
	if (s->fan_peers > h->fan_peers)
		h->fan_peers = s->fan_peers;
	/* The root is always one call: no count for hop 0. */
	if (d && bt_calls_add(&h->per_root, s->count))
		return -ENOMEM;
	for (uint32_t i = s->first_dur; i != NONE; i = x->durs[i].next)
		if (bt_lat_add(&h->each, x->durs[i].v))
			return -ENOMEM;
	return 0;
}

/* Adds the root's tree to every chain it ends: its leaves in the trie. */
static int add_root(struct ctx *x, const struct ep *root)
{
	for (size_t i = 0; i < x->nslots; i++) {
		uint32_t p = x->tn[x->slots[i].trie].parent;

		if (p != NONE)
			x->slots[x->slot_of[p]].has_child = true;
	}
	for (size_t i = 0; i < x->nslots; i++) {
		struct cagg *c;
		long ci;

		if (x->slots[i].has_child)
			continue;
		ci = chain_get(x, x->slots[i].trie);
		if (ci < 0)
			return -ENOMEM;
		c = &x->ch[ci];
		c->episodes++;
		c->blocked += root->end - root->start;
		if (bt_tidset_add(&c->threads, root->tid))
			return -ENOMEM;
		for (uint32_t t = c->trie; t != NONE; t = x->tn[t].parent) {
			const struct slot *s = &x->slots[x->slot_of[t]];
			unsigned int d = x->tn[t].depth;

			c->flags |= s->flags;
			if (add_hop(x, &x->hg[c->h + d], s, d))
				return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Windows of many roots can hold the same busy waker's episodes (clients
 * of one server all waiting while it works), which no per-root budget
 * bounds. So the roots share one: WORK_PER_EP tree nodes per kept episode
 * (at least WORK_MIN), handed out evenly over the roots still to walk,
 * never under ROOT_MIN_NODES each. Ordinary traces never reach it.
 */
#define WORK_PER_EP	8
#define WORK_MIN	(1u << 20)
#define ROOT_MIN_NODES	16

static unsigned int root_budget(const struct ctx *x, uint64_t work, uint64_t roots_left)
{
	uint64_t share = roots_left ? work / roots_left : work;

	if (share < ROOT_MIN_NODES)
		share = ROOT_MIN_NODES;
	return share < x->max_nodes ? (unsigned int)share : x->max_nodes;
}

static bool is_root(const struct ctx *x, const uint8_t *nested, size_t i)
{
	return (x->nested_roots || !nested[i]) && waker_known(&x->ep[i]);
}

/* A root whose chains are not made (bt_eagg_skip_stream_roots). */
static bool root_skipped(const struct ctx *x, size_t i)
{
	uint8_t kind;

	if (!x->skip_stream_roots)
		return false;
	kind = bt_strtab_kind(&x->names, x->ep[i].name);
	return kind == BT_KIND_TCP || kind == BT_KIND_UNIX_STREAM;
}

/* Whether episode i is counted in this pass: it ended by the cutoff and was not counted yet. */
static bool due(const struct ctx *x, size_t i, uint64_t cutoff)
{
	return !(x->ep[i].st & EP_COUNTED) && x->ep[i].end <= cutoff;
}

/* The roots that ended by cutoff walked, the other episodes that did counted. */
static int walk_roots(struct ctx *x, uint64_t cutoff)
{
	uint8_t *nested = mark_nested(x);
	uint64_t work = (uint64_t)x->npass * WORK_PER_EP, roots = 0, walked = 0;
	int err = 0;

	if (!nested)
		return -ENOMEM;
	if (work < WORK_MIN)
		work = WORK_MIN;
	for (size_t i = 0; i < x->npass; i++)
		roots += due(x, i, cutoff) && is_root(x, nested, i) && !root_skipped(x, i);
	for (size_t i = 0; i < x->npass && !err; i++) {
		struct ep *e = &x->ep[i];
		unsigned int budget;
		uint32_t trie;

		if (!due(x, i, cutoff))
			continue;
		e->st |= EP_COUNTED;
		if (!is_root(x, nested, i)) {
			if (nested[i])
				x->cnt->nested++;
			else
				x->cnt->no_waker++;
			continue;
		}
		if (root_skipped(x, i))
			continue;
		trie = bt_chains_tnode(x, NONE, e);
		if (trie == NONE) {
			err = -ENOMEM;
			break;
		}
		budget = root_budget(x, work, roots - walked++);
		x->cnt->roots++;
		x->serial++;
		x->nslots = x->ndurs = x->nkids = 0;
		x->budget = budget;
		x->partial = false;
		err = visit(x, (uint32_t)i, trie, 0);
		if (!err)
			err = add_root(x, e);
		x->cnt->late += x->partial;
		budget -= x->budget;
		work -= budget < work ? budget : work;
	}
	return err;
}

/*
 * Frees the counted episodes that ended before keep_ns: a root that
 * comes later and would hold one is longer than the horizon and this
 * (its tree is then partial: counted late). Each thread keeps its last
 * kept one, for its dedup.
 */
static void forget(struct ctx *x, uint64_t keep_ns)
{
	size_t n = 0;

	for (size_t i = 0; i < x->nep; i++) {
		const struct ep *e = &x->ep[i];
		struct tstate *t;

		if (!(e->st & EP_COUNTED) || e->end >= keep_ns) {
			x->ep[n] = *e;
			x->ep[n++].st &= (uint8_t)~EP_NEW;
			continue;
		}
		t = tstate_find(x, e->tid);
		if (t && (!t->tail || e->start > t->tail_start)) {
			t->tail = true;
			t->tail_start = e->start;
			t->tail_end = e->end;
			t->tail_name = e->name;
		}
	}
	x->nep = n;
	x->npass = 0;
	/* What a burst grew goes back once it passed (the next pass's copy is the window's size). */
	bt_window_trim((void **)&x->ep, &x->epcap, n, sizeof(*x->ep));
}

/* A pass's arrays given back down to what the window left needs (a burst's room goes). */
static void pass_trim(struct ctx *x)
{
	bt_window_trim((void **)&x->key, &x->keycap, x->nep, sizeof(*x->key));
	bt_window_trim((void **)&x->keytmp, &x->keytmpcap, x->nep, sizeof(*x->keytmp));
	bt_window_trim((void **)&x->spare, &x->sparecap, x->nep, sizeof(*x->spare));
	bt_window_trim((void **)&x->span, &x->spancap, x->nep, sizeof(*x->span));
	bt_window_trim((void **)&x->kids_of, &x->kidscap, x->nep, sizeof(*x->kids_of));
	bt_window_trim((void **)&x->diff, &x->diffcap, x->nep, sizeof(*x->diff));
	bt_window_trim((void **)&x->before, &x->beforecap, x->nep, sizeof(*x->before));
	bt_window_trim((void **)&x->nested, &x->nestedcap, x->nep, sizeof(*x->nested));
}

static void tick(struct bt_eagg *a)
{
	if (a->tick)
		a->tick(a->tick_ctx);
}

/* One pass: counts what ended by cutoff, frees what ended before keep_ns. */
static int pass(struct bt_eagg *a, uint64_t cutoff, uint64_t keep_ns)
{
	struct ctx *x = &a->x;
	int err = sort_dedup(x, cutoff);

	tick(a);
	if (!err) {
		link_wakers(x, cutoff);
		err = walk_roots(x, cutoff);
		tick(a);
	}
	if (!err)
		forget(x, keep_ns);
	pass_trim(x);
	return err;
}

/* ---- the result -------------------------------------------------------- */

static int fill_hop(struct ctx *x, struct bt_chain_hop *out, uint32_t trie,
		    const struct hagg *h, const struct hagg *next, uint64_t episodes,
		    struct bt_strtab *names)
{
	const struct tnode *t = &x->tn[trie];
	uint64_t wait = next ? next->blocked : 0;
	/* The result's own copy: the aggregate goes on. */
	uint32_t channel = bt_strtab_id(names, bt_strtab_str(&x->names, t->name));

	if (channel == BT_HMAP_NONE)
		return -ENOMEM;
	bt_chain_end_set(x->o, &out->from, t->from);
	bt_chain_end_set(x->o, &out->to, t->to);
	out->kind = bt_strtab_kind(&x->names, t->name);
	out->channel = bt_strtab_str(names, channel);
	out->calls = h->calls;
	out->calls_per_episode = episodes ? (double)h->calls / (double)episodes : 0;
	out->calls_min = out->calls_p50 = out->calls_max = 1;
	if (t->depth) {
		out->calls_min = (uint32_t)h->per_root.s.min;
		out->calls_p50 = bt_calls_pct(&h->per_root, 0.5);
		out->calls_max = (uint32_t)h->per_root.s.max;
	}
	out->p50_ns = bt_lat_pct(&h->each, 0.5);
	out->blocked_ns = h->blocked;
	out->queue_ns = h->queue;
	out->wait_ns = wait;
	out->other_ns = h->childdur - wait;
	out->self_ns = h->blocked - h->queue - h->childdur;
	out->fanout_calls = h->fan_calls;
	out->fanout_max_peers = h->fan_peers;
	out->fanout_save_ns = h->fan_save;
	return 0;
}

/* Root-first hop by hop: from pid, kind, channel, to pid; then the shorter. */
static int cmp_paths(const struct ctx *x, uint32_t a, uint32_t b)
{
	uint32_t pa[BT_CHAINS_MAX_DEPTH], pb[BT_CHAINS_MAX_DEPTH];
	unsigned int na = 0, nb = 0;

	for (; a != NONE; a = x->tn[a].parent)
		pa[na++] = a;
	for (; b != NONE; b = x->tn[b].parent)
		pb[nb++] = b;
	while (na && nb) {
		const struct tnode *p = &x->tn[pa[--na]], *q = &x->tn[pb[--nb]];
		uint8_t mk = bt_strtab_kind(&x->names, p->name), nk = bt_strtab_kind(&x->names, q->name);
		int r;

		if (p->from != q->from)
			return p->from < q->from ? -1 : 1;
		if (mk != nk)
			return mk < nk ? -1 : 1;
		r = strcmp(bt_strtab_str(&x->names, p->name), bt_strtab_str(&x->names, q->name));
		if (r)
			return r;
		if (p->to != q->to)
			return p->to < q->to ? -1 : 1;
	}
	return na < nb ? -1 : na > nb;
}

static int cmp_tie(const void *pa, const void *pb, void *ctx)
{
	const struct rkey *a = pa, *b = pb;
	const struct ctx *x = ctx;
	const struct cagg *p = &x->ch[a->idx], *q = &x->ch[b->idx];

	if (p->episodes != q->episodes)
		return p->episodes > q->episodes ? -1 : 1;
	return cmp_paths(x, p->trie, q->trie);
}

/*
 * The chains' order: largest blocked time first, then more episodes, then
 * by the hops. Equal blocked times are rare: only those runs compare more.
 */
static struct rkey *rank(struct ctx *x)
{
	size_t n = x->nch ? x->nch : 1;
	struct rkey *key = malloc(n * sizeof(*key)), *tmp = malloc(n * sizeof(*tmp));

	if (!key || !tmp) {
		free(key);
		free(tmp);
		return NULL;
	}
	for (size_t i = 0; i < x->nch; i++)
		key[i] = (struct rkey){ ~x->ch[i].blocked, (uint32_t)i, 0 };
	bt_chains_radix(key, tmp, x->nch);
	free(tmp);
	for (size_t i = 0, j; i < x->nch; i = j) {
		for (j = i + 1; j < x->nch && key[j].k == key[i].k; j++)
			;
		if (j - i > 1)
			qsort_r(key + i, j - i, sizeof(*key), cmp_tie, x);
	}
	return key;
}

static int fill_chain(struct ctx *x, const struct bt_chains *r, struct bt_chain *out,
		      const struct cagg *c)
{
	double wall = (double)r->duration_ns * (double)c->threads.n;
	uint32_t t = c->trie;

	out->nhops = c->nhops;
	for (unsigned int d = c->nhops; d-- > 0; t = x->tn[t].parent) {
		const struct hagg *h = &x->hg[c->h + d];

		if (fill_hop(x, &out->hops[d], t, h, d + 1 < c->nhops ? h + 1 : NULL,
			     c->episodes, &r->mem->names))
			return -ENOMEM;
	}
	out->episodes = c->episodes;
	out->blocked_ns = c->blocked;
	out->root_threads = (uint32_t)c->threads.n;
	out->share = wall > 0 ? (double)c->blocked / wall : 0;
	if (out->share > 1)
		out->share = 1;
	out->cycle = c->flags & F_CYCLE;
	out->cut = c->flags & F_CUT;
	return 0;
}

static int build_result(struct ctx *x, struct bt_chains *r)
{
	struct rkey *order = rank(x);
	uint32_t *pos = malloc((x->nch ? x->nch : 1) * sizeof(*pos));
	int err = -ENOMEM;

	r->chains = calloc(x->nch ? x->nch : 1, sizeof(*r->chains));
	r->mem->hops = calloc(x->nhg ? x->nhg : 1, sizeof(*r->mem->hops));
	if (!order || !pos || !r->chains || !r->mem->hops)
		goto out;
	for (size_t i = 0; i < x->nch; i++)
		pos[order[i].idx] = (uint32_t)i;
	/* In the order the sums were made: their memory is read in order. */
	for (size_t i = 0; i < x->nch; i++) {
		struct bt_chain *c = &r->chains[pos[i]];

		c->hops = r->mem->hops + x->ch[i].h;
		if (fill_chain(x, r, c, &x->ch[i]))
			goto out;
	}
	r->nchains = x->nch;
	err = 0;
out:
	free(pos);
	free(order);
	return err;
}

static void ctx_free(struct ctx *x)
{
	bt_chains_tab_free(x);
	for (size_t i = 0; i < x->nch; i++)
		bt_tidset_free(&x->ch[i].threads);
	for (size_t i = 0; i < x->nhg; i++) {
		bt_calls_free(&x->hg[i].per_root);
		bt_lat_free(&x->hg[i].each);
	}
	free(x->ch);
	free(x->hg);
	free(x->slots);
	free(x->durs);
	free(x->kids);
	free(x->th);
	free(x->kids_of);
	free(x->span);
	free(x->key);
	free(x->keytmp);
	free(x->spare);
	free(x->diff);
	free(x->before);
	free(x->nested);
	free(x->ep);
	free(x->ts);
	bt_hmap_free(&x->tstab);
}

void bt_chains_free(struct bt_chains *c)
{
	if (!c)
		return;
	if (c->mem) {
		bt_strtab_free(&c->mem->names);
		free(c->mem->hops);
		bt_chains_free(c->mem->extra);
		free(c->mem);
	}
	free(c->chains);
	free(c->waits);
	free(c);
}

struct bt_chains *bt_chains_new(void)
{
	struct bt_chains *r = calloc(1, sizeof(*r));

	if (!r || !(r->mem = calloc(1, sizeof(*r->mem)))) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	return r;
}

struct bt_eagg *bt_eagg_new(uint64_t horizon_ns, const struct bt_chain_opts *opts)
{
	struct bt_eagg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	if (opts)
		a->opts = *opts;
	a->x.o = &a->opts;
	a->x.cnt = &a->cnt;
	a->x.max_depth = a->opts.max_depth && a->opts.max_depth < BT_CHAINS_MAX_DEPTH ?
			 a->opts.max_depth : BT_CHAINS_MAX_DEPTH;
	a->x.max_nodes = a->opts.max_nodes ? a->opts.max_nodes : BT_CHAINS_DEF_NODES;
	a->x.nested_roots = a->opts.nested_roots;
	bt_budget_init(&a->bud, horizon_ns);
	a->lo = UINT64_MAX;
	return a;
}

/*
 * With a budget, the horizon shortens at a high rate (bt_budget_next): a
 * root that comes later than the cutoff, or holds waits freed already, is
 * counted late as against the full horizon.
 */
int bt_eagg_fold(struct bt_eagg *a)
{
	struct bt_fold_at at = bt_budget_next(&a->bud, a->x.nep, a->lo, a->hi, a->cutoff,
					      a->folded_once);
	int err;

	if (!at.cutoff) {
		bt_budget_done(&a->bud, a->x.nep, a->hi, NULL);
		return 0;
	}
	err = pass(a, at.cutoff, at.keep);
	a->cutoff = at.cutoff;
	bt_budget_done(&a->bud, a->x.nep, a->hi, &at);
	a->folded_once = true;
	return err;
}

void bt_eagg_skip_stream_roots(struct bt_eagg *a)
{
	a->x.skip_stream_roots = true;
}

void bt_eagg_set_budget(struct bt_eagg *a, size_t episodes)
{
	a->bud.budget = episodes;
}

size_t bt_eagg_added(const struct bt_eagg *a)
{
	return bt_budget_added(&a->bud, a->x.nep);
}

uint64_t bt_eagg_horizon(const struct bt_eagg *a, uint64_t *shortest)
{
	return bt_budget_horizon(&a->bud, shortest);
}

void bt_eagg_set_tick(struct bt_eagg *a, void (*fn)(void *ctx), void *ctx)
{
	a->tick = fn;
	a->tick_ctx = ctx;
}

size_t bt_eagg_window(const struct bt_eagg *a)
{
	return a->x.nep;
}

/* The chains, every root folded first (all) or only those folded already. */
static struct bt_chains *result(struct bt_eagg *a, const struct bt_chain_opts *opts, bool all)
{
	uint64_t keep = bt_budget_final_keep(&a->bud, a->hi);
	struct bt_chains *r = bt_chains_new();
	int err;

	if (!r)
		return NULL;
	/* Every root now; the window keeps its last horizon for what may still come. */
	err = a->x.nep && all ? pass(a, UINT64_MAX, keep) : 0;
	r->counts = a->cnt;
	r->episodes_horizon_ns = a->bud.eff_min;
	r->duration_ns = opts && opts->duration_ns ? opts->duration_ns :
			 a->hi > a->lo ? a->hi - a->lo : 0;
	if (!err) {
		a->opts.comm = opts ? opts->comm : NULL;
		a->opts.ctx = opts ? opts->ctx : NULL;
		err = build_result(&a->x, r);
	}
	if (err) {
		bt_chains_free(r);
		errno = -err;
		return NULL;
	}
	return r;
}

struct bt_chains *bt_eagg_chains(struct bt_eagg *a, const struct bt_chain_opts *opts)
{
	return result(a, opts, true);
}

struct bt_chains *bt_eagg_folded(struct bt_eagg *a, const struct bt_chain_opts *opts)
{
	return result(a, opts, false);
}

void bt_eagg_free(struct bt_eagg *a)
{
	if (!a)
		return;
	ctx_free(&a->x);
	free(a);
}

struct bt_chains *bt_chains_analyze(const struct bt_episode *eps, size_t n,
				    const struct bt_chain_opts *opts)
{
	struct bt_chains *r = NULL;
	struct bt_eagg *a;
	int err = 0;

	if (!eps && n) {
		errno = EINVAL;
		return NULL;
	}
	/* Indexes are 32-bit; NONE and the +1 of the hash slots stay free. */
	if (n > UINT32_MAX - 2) {
		errno = EOVERFLOW;
		return NULL;
	}
	a = bt_eagg_new(UINT64_MAX / 4, opts);
	if (!a)
		return NULL;
	for (size_t i = 0; i < n && !err; i++)
		err = bt_eagg_add(a, &eps[i]);
	if (!err)
		r = bt_eagg_chains(a, opts);
	else
		errno = -err;
	bt_eagg_free(a);
	return r;
}

/* ---- two results compared ------------------------------------------------ */

/*
 * Where a difference is ("chain 2 hop 0 to"), what differs and both
 * values, into why: the first found is the one reported.
 */
static int differ(char *why, size_t len, const char *at, const char *field, const char *fmt,
		  ...) __attribute__((format(printf, 5, 6)));

static int differ(char *why, size_t len, const char *at, const char *field, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!why || !len)
		return 1;
	n = snprintf(why, len, "%s%s%s ", at, *at ? ": " : "", field);
	if (n < 0 || (size_t)n >= len)
		return 1;
	va_start(ap, fmt);
	vsnprintf(why + n, len - (size_t)n, fmt, ap);
	va_end(ap);
	return 1;
}

#define DIFF_U(x, y, f)							\
	do {								\
		if ((x)->f != (y)->f)					\
			return differ(why, len, at, #f, "%llu vs %llu",	\
				      (unsigned long long)(x)->f,	\
				      (unsigned long long)(y)->f);	\
	} while (0)
/* Doubles made of the same integers by the same code: equal, not close. */
#define DIFF_D(x, y, f)							\
	do {								\
		if ((x)->f != (y)->f)					\
			return differ(why, len, at, #f, "%.17g vs %.17g",	\
				      (double)(x)->f, (double)(y)->f);	\
	} while (0)
/* A name in a fixed array: its bytes up to the NUL (what follows is not the name). */
#define DIFF_S(x, y, f)							\
	do {								\
		if (strncmp((x)->f, (y)->f, sizeof((x)->f)))		\
			return differ(why, len, at, #f, "\"%.*s\" vs \"%.*s\"",	\
				      (int)sizeof((x)->f), (x)->f,	\
				      (int)sizeof((y)->f), (y)->f);	\
	} while (0)

static int diff_end(const struct bt_chain_end *x, const struct bt_chain_end *y,
		    const char *at, char *why, size_t len)
{
	DIFF_U(x, y, pid);
	DIFF_S(x, y, comm);
	DIFF_U(x, y, threads);
	DIFF_U(x, y, tid);
	DIFF_S(x, y, thread);
	DIFF_U(x, y, procs);
	/* Only the first procs are set. */
	for (uint32_t i = 0; i < x->procs && i < BT_CHAIN_PIDS; i++) {
		char f[16];

		snprintf(f, sizeof(f), "pids[%u]", i);
		if (x->pids[i] != y->pids[i])
			return differ(why, len, at, f, "%u vs %u", x->pids[i], y->pids[i]);
	}
	return 0;
}

static int diff_hop(const struct bt_chain_hop *x, const struct bt_chain_hop *y,
		    const char *at, char *why, size_t len)
{
	char end[64];

	snprintf(end, sizeof(end), "%s from", at);
	if (diff_end(&x->from, &y->from, end, why, len))
		return 1;
	snprintf(end, sizeof(end), "%s to", at);
	if (diff_end(&x->to, &y->to, end, why, len))
		return 1;
	DIFF_U(x, y, kind);
	if (!x->channel != !y->channel || (x->channel && strcmp(x->channel, y->channel)))
		return differ(why, len, at, "channel", "\"%s\" vs \"%s\"",
			      x->channel ? x->channel : "(none)", y->channel ? y->channel : "(none)");
	DIFF_U(x, y, calls);
	DIFF_U(x, y, ambiguous);
	DIFF_D(x, y, calls_per_episode);
	DIFF_U(x, y, calls_min);
	DIFF_U(x, y, calls_p50);
	DIFF_U(x, y, calls_max);
	DIFF_U(x, y, blocked_ns);
	DIFF_U(x, y, p50_ns);
	DIFF_U(x, y, self_ns);
	DIFF_U(x, y, wait_ns);
	DIFF_U(x, y, other_ns);
	DIFF_U(x, y, queue_ns);
	DIFF_U(x, y, fanout_calls);
	DIFF_U(x, y, fanout_max_peers);
	DIFF_U(x, y, fanout_save_ns);
	return 0;
}

static int diff_chain(const struct bt_chain *x, const struct bt_chain *y, size_t i,
		      char *why, size_t len)
{
	char at[48];

	snprintf(at, sizeof(at), "chain %zu", i);
	DIFF_U(x, y, nhops);
	DIFF_U(x, y, episodes);
	DIFF_U(x, y, blocked_ns);
	DIFF_U(x, y, root_threads);
	DIFF_D(x, y, share);
	DIFF_U(x, y, cycle);
	DIFF_U(x, y, cut);
	DIFF_U(x, y, exchanges);
	DIFF_U(x, y, requests);
	DIFF_U(x, y, p50_ns);
	DIFF_U(x, y, p99_ns);
	DIFF_D(x, y, in_flight);
	for (unsigned int d = 0; d < x->nhops; d++) {
		snprintf(at, sizeof(at), "chain %zu hop %u", i, d);
		if (diff_hop(&x->hops[d], &y->hops[d], at, why, len))
			return 1;
	}
	return 0;
}

int bt_chains_diff(const struct bt_chains *a, const struct bt_chains *b, char *why, size_t len)
{
	const char *at = "";

	if (why && len)
		why[0] = 0;
	if (!a || !b)
		return a != b ? differ(why, len, at, "result", "%s vs %s",
				       a ? "some" : "none", b ? "some" : "none") : 0;
	DIFF_U(a, b, nchains);
	DIFF_U(a, b, duration_ns);
	DIFF_U(a, b, horizon_ns);
	DIFF_U(a, b, episodes_horizon_ns);
	DIFF_U(a, b, counts.episodes);
	DIFF_U(a, b, counts.invalid);
	DIFF_U(a, b, counts.truncated);
	DIFF_U(a, b, counts.truncated_ns);
	DIFF_U(a, b, counts.duplicates);
	DIFF_U(a, b, counts.overlaps);
	DIFF_U(a, b, counts.roots);
	DIFF_U(a, b, counts.nested);
	DIFF_U(a, b, counts.no_waker);
	DIFF_U(a, b, counts.cycles);
	DIFF_U(a, b, counts.cut);
	DIFF_U(a, b, counts.late);
	DIFF_U(a, b, xcounts.exchanges);
	DIFF_U(a, b, xcounts.invalid);
	DIFF_U(a, b, xcounts.nested);
	DIFF_U(a, b, xcounts.roots);
	DIFF_U(a, b, xcounts.rejected);
	DIFF_U(a, b, xcounts.ambiguous);
	DIFF_U(a, b, xcounts.paired);
	DIFF_U(a, b, xcounts.late);
	for (size_t i = 0; i < a->nchains; i++)
		if (diff_chain(&a->chains[i], &b->chains[i], i, why, len))
			return 1;
	DIFF_U(a, b, nwaits);
	for (size_t i = 0; i < a->nwaits; i++) {
		const struct bt_proc_waits *x = &a->waits[i], *y = &b->waits[i];
		char w[32];

		snprintf(w, sizeof(w), "waits %zu", i);
		at = w;
		DIFF_U(x, y, pid);
		for (unsigned int k = 0; k < BT_WAIT_MAX; k++) {
			char f[16];

			snprintf(f, sizeof(f), "n[%u]", k);
			if (x->n[k] != y->n[k])
				return differ(why, len, at, f, "%llu vs %llu",
					      (unsigned long long)x->n[k],
					      (unsigned long long)y->n[k]);
			snprintf(f, sizeof(f), "ns[%u]", k);
			if (x->ns[k] != y->ns[k])
				return differ(why, len, at, f, "%llu vs %llu",
					      (unsigned long long)x->ns[k],
					      (unsigned long long)y->ns[k]);
		}
	}
	return 0;
}
