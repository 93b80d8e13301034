// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Chain analysis (definitions in chains.h). The plan, each step bounded:
 *   1. keep the valid, complete episodes in a compact array, channel names
 *      interned, sorted by (thread, start): radix passes, O(n);
 *   2. drop duplicates and overlaps so a thread's episodes are disjoint,
 *      which sorts their ends too: the waker's episodes inside a window
 *      are then one index range, found once per episode by a binary
 *      search and a gallop;
 *   3. mark nested episodes with a difference array over those ranges;
 *   4. walk each root's tree (depth cap, threads-on-path check, node
 *      budget), summing per trie node (a trie node is a hop sequence);
 *   5. per root, the visited trie nodes without visited children are its
 *      chains: add the root's sums along each, then rank.
 */
#include <errno.h>
#include <stddef.h>
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

static int ingest(struct ctx *x, const struct bt_episode *eps, size_t n,
		  uint64_t *span_lo, uint64_t *span_hi)
{
	for (size_t i = 0; i < n; i++) {
		const struct bt_episode *in = &eps[i];
		struct ep *e = &x->ep[x->nep];

		if (!in->tid || in->end_ns < in->start_ns) {
			x->cnt->invalid++;
			continue;
		}
		if (in->start_ns < *span_lo)
			*span_lo = in->start_ns;
		if (in->end_ns > *span_hi)
			*span_hi = in->end_ns;
		if (in->truncated) {
			x->cnt->truncated++;
			x->cnt->truncated_ns += in->end_ns - in->start_ns;
			continue;
		}
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
		e->src = (uint32_t)i;
		x->nep++;
	}
	return 0;
}

static bool same_episode(const struct ep *a, const struct ep *b)
{
	return a->start == b->start && a->end == b->end && a->name == b->name;
}

static void drop(struct ctx *x, const struct ep *e, const struct ep *kept)
{
	if (same_episode(e, kept))
		x->cnt->duplicates++;
	else
		x->cnt->overlaps++;
}

/*
 * One thread is in one syscall at a time, so overlapping episodes of a
 * thread are bad data: keep the first (the longest of equal starts).
 * Moves the episodes into key order, building the thread table and the
 * dense spans on the way.
 */
static int dedup(struct ctx *x, const struct rkey *key, struct ep *sorted)
{
	size_t out = 0;

	for (size_t i = 0, j; i < x->nep; i = j) {
		const struct ep *e = &x->ep[key[i].idx];
		struct thread *t = x->nth ? &x->th[x->nth - 1] : NULL;

		/* The sort left equal starts in input order: pick the first. */
		for (j = i + 1; j < x->nep; j++) {
			const struct ep *f = &x->ep[key[j].idx];

			if (f->tid != e->tid || f->start != e->start)
				break;
			if (cmp_ep(f, e) < 0) {
				drop(x, e, f);
				e = f;
			} else {
				drop(x, f, e);
			}
		}
		if (t && t->tid == e->tid) {
			if (e->start < sorted[out - 1].end) {
				drop(x, e, &sorted[out - 1]);
				continue;
			}
		} else {
			if (bt_chains_grow((void **)&x->th, &x->thcap, x->nth, sizeof(*x->th)))
				return -ENOMEM;
			t = &x->th[x->nth++];
			t->tid = e->tid;
			t->pid = e->pid;
			t->lo = (uint32_t)out;
		}
		sorted[out] = *e;
		x->span[out] = (struct span){ e->start, e->end };
		t->hi = (uint32_t)++out;
	}
	free(x->ep);
	x->ep = sorted;
	x->nep = out;
	return 0;
}

/* By thread, then start: two stable radix passes, start first. */
static int sort_dedup(struct ctx *x)
{
	size_t n = x->nep ? x->nep : 1;
	struct rkey *key = malloc(n * sizeof(*key)), *tmp = malloc(n * sizeof(*tmp));
	struct ep *sorted = malloc(n * sizeof(*sorted));
	int err = -ENOMEM;

	x->span = malloc(n * sizeof(*x->span));
	x->kids_of = malloc(n * sizeof(*x->kids_of));
	if (!key || !tmp || !sorted || !x->span || !x->kids_of)
		goto out;
	for (size_t i = 0; i < x->nep; i++)
		key[i] = (struct rkey){ x->ep[i].start, (uint32_t)i, x->ep[i].tid };
	bt_chains_radix(key, tmp, x->nep);
	for (size_t i = 0; i < x->nep; i++)
		key[i].k = key[i].aux;
	bt_chains_radix(key, tmp, x->nep);
	err = dedup(x, key, sorted);
	if (!err)
		sorted = NULL;
out:
	free(sorted);
	free(tmp);
	free(key);
	return err;
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

/* Episodes of t inside [s, w]. */
static struct range inside(const struct ctx *x, const struct thread *t, uint64_t s, uint64_t w)
{
	uint32_t lo = t->lo, hi = t->hi, a, b;
	uint64_t step = 1;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (x->span[mid].start < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* Ends are sorted too; a window holds few episodes, so gallop. */
	for (a = b = lo; b < t->hi && x->span[b].end <= w; step *= 2) {
		a = b + 1;
		b = t->hi - b > step ? b + (uint32_t)step : t->hi;
	}
	while (a < b) {
		uint32_t mid = a + (b - a) / 2;

		if (x->span[mid].end <= w)
			a = mid + 1;
		else
			b = mid;
	}
	return (struct range){ lo, a > lo ? a : lo };
}

/*
 * For every episode: its waker's pid when only the tid came (the pid its
 * own episodes carry), and the waker's episodes inside its window.
 */
static void link_wakers(struct ctx *x)
{
	for (size_t i = 0; i < x->nep; i++) {
		struct ep *e = &x->ep[i];
		const struct thread *t = waker_known(e) ? thread_find(x, e->waker_tid) : NULL;

		if (e->waker_tid && !e->waker_pid)
			e->waker_pid = t ? t->pid : e->waker_tid;
		x->kids_of[i] = t ? inside(x, t, e->start, e->wake) : (struct range){ 0, 0 };
	}
}

/*
 * nested[i] when ep[i] is a child of an episode ordered before it. Each
 * episode's children are one range, so a difference array marks them all
 * in O(n). A child with its parent's exact span is alone in its range
 * (its thread's episodes are disjoint): that is where the order decides.
 */
static uint8_t *mark_nested(const struct ctx *x)
{
	int64_t *diff = calloc(x->nep + 1, sizeof(*diff));
	uint8_t *nested = calloc(x->nep + 1, 1);
	int64_t depth = 0;

	if (!diff || !nested) {
		free(diff);
		free(nested);
		return NULL;
	}
	for (size_t i = 0; i < x->nep; i++) {
		struct range r = x->kids_of[i];

		if (r.lo >= r.hi || (r.hi - r.lo == 1 && !ep_before(&x->ep[i], &x->ep[r.lo])))
			continue;
		diff[r.lo]++;
		diff[r.hi]--;
	}
	for (size_t i = 0; i < x->nep; i++) {
		depth += diff[i];
		nested[i] = depth > 0;
	}
	free(diff);
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
		x->hg[x->nhg + d] = (struct hagg){ .ks = NONE, .ns = NONE };
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
	/* The root is always one call: no list for hop 0. */
	if (d && bt_chains_sample(x, &h->ks, s->count))
		return -ENOMEM;
	for (uint32_t i = s->first_dur; i != NONE; i = x->durs[i].next)
		if (bt_chains_sample(x, &h->ns, x->durs[i].v))
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
		/* Roots come thread by thread: a new tid is a new thread. */
		if (root->tid != c->last_tid) {
			c->threads++;
			c->last_tid = root->tid;
		}
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

static int walk_roots(struct ctx *x)
{
	uint8_t *nested = mark_nested(x);
	uint64_t work = (uint64_t)x->nep * WORK_PER_EP, roots = 0;
	int err = 0;

	if (!nested)
		return -ENOMEM;
	if (work < WORK_MIN)
		work = WORK_MIN;
	for (size_t i = 0; i < x->nep; i++)
		roots += is_root(x, nested, i);
	for (size_t i = 0; i < x->nep && !err; i++) {
		const struct ep *e = &x->ep[i];
		unsigned int budget;
		uint32_t trie;

		if (!is_root(x, nested, i)) {
			if (nested[i])
				x->cnt->nested++;
			else
				x->cnt->no_waker++;
			continue;
		}
		trie = bt_chains_tnode(x, NONE, e);
		if (trie == NONE) {
			err = -ENOMEM;
			break;
		}
		budget = root_budget(x, work, roots - x->cnt->roots);
		x->cnt->roots++;
		x->serial++;
		x->nslots = x->ndurs = x->nkids = 0;
		x->budget = budget;
		err = visit(x, (uint32_t)i, trie, 0);
		if (!err)
			err = add_root(x, e);
		budget -= x->budget;
		work -= budget < work ? budget : work;
	}
	free(nested);
	return err;
}

/* ---- the result -------------------------------------------------------- */

static uint64_t median3(uint64_t a, uint64_t b, uint64_t c)
{
	if (a > b) {
		uint64_t t = a;

		a = b;
		b = t;
	}
	return c < a ? a : c > b ? b : c;
}

/* The k-th smallest of v[0 .. n), reordering v: Hoare's FIND, O(n). */
static uint64_t kth(uint64_t *v, size_t n, size_t k)
{
	ptrdiff_t l = 0, r = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

	while (l < r) {
		uint64_t p = median3(v[l], v[kk], v[r]);
		ptrdiff_t i = l, j = r;

		do {
			while (v[i] < p)
				i++;
			while (p < v[j])
				j--;
			if (i <= j) {
				uint64_t t = v[i];

				v[i++] = v[j];
				v[j--] = t;
			}
		} while (i <= j);
		if (j < kk)
			l = i;
		if (kk < i)
			r = j;
	}
	return v[kk];
}

/* A sample list copied to x->scratch; its length, 0 when out of memory. */
static size_t gather(struct ctx *x, uint32_t head, size_t n)
{
	size_t i = 0;

	if (!bt_grow((void **)&x->scratch, &x->scratchcap, n, sizeof(*x->scratch)))
		return 0;
	for (uint32_t s = head; s != NONE && i < n; s = x->samples[s].next)
		x->scratch[i++] = x->samples[s].v;
	return i;
}

static int fill_hop(struct ctx *x, struct bt_chain_hop *out, uint32_t trie,
		    const struct hagg *h, const struct hagg *next, uint64_t episodes)
{
	const struct tnode *t = &x->tn[trie];
	uint64_t wait = next ? next->blocked : 0;
	size_t n;

	bt_chain_end_set(x->o, &out->from, t->from);
	bt_chain_end_set(x->o, &out->to, t->to);
	out->kind = bt_strtab_kind(&x->names, t->name);
	out->channel = bt_strtab_str(&x->names, t->name);
	out->calls = h->calls;
	out->calls_per_episode = episodes ? (double)h->calls / (double)episodes : 0;
	out->calls_min = out->calls_p50 = out->calls_max = 1;
	if (t->depth) {
		n = gather(x, h->ks, episodes);
		if (!n)
			return -ENOMEM;
		out->calls_min = UINT32_MAX;
		out->calls_max = 0;
		for (size_t i = 0; i < n; i++) {
			if (x->scratch[i] < out->calls_min)
				out->calls_min = (uint32_t)x->scratch[i];
			if (x->scratch[i] > out->calls_max)
				out->calls_max = (uint32_t)x->scratch[i];
		}
		out->calls_p50 = (uint32_t)kth(x->scratch, n, (n - 1) / 2);
	}
	n = gather(x, h->ns, h->calls);
	if (!n)
		return -ENOMEM;
	out->p50_ns = kth(x->scratch, n, (n - 1) / 2);
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

static int fill_chain(struct ctx *x, struct bt_chain *out, const struct cagg *c,
		      uint64_t duration)
{
	double wall = (double)duration * c->threads;
	uint32_t t = c->trie;

	out->nhops = c->nhops;
	for (unsigned int d = c->nhops; d-- > 0; t = x->tn[t].parent) {
		const struct hagg *h = &x->hg[c->h + d];

		if (fill_hop(x, &out->hops[d], t, h, d + 1 < c->nhops ? h + 1 : NULL,
			     c->episodes))
			return -ENOMEM;
	}
	out->episodes = c->episodes;
	out->blocked_ns = c->blocked;
	out->root_threads = c->threads;
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
		if (fill_chain(x, c, &x->ch[i], r->duration_ns))
			goto out;
	}
	r->nchains = x->nch;
	err = 0;
out:
	free(pos);
	free(order);
	if (err)
		return err;
	/* The names now belong to the result (the hops point into them). */
	r->mem->names = x->names;
	memset(&x->names, 0, sizeof(x->names));
	return 0;
}

static void ctx_free(struct ctx *x)
{
	bt_chains_tab_free(x);
	free(x->ch);
	free(x->hg);
	free(x->scratch);
	free(x->slots);
	free(x->durs);
	free(x->kids);
	free(x->th);
	free(x->kids_of);
	free(x->span);
	free(x->ep);
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

static int analyze(struct ctx *x, const struct bt_episode *eps, size_t n, struct bt_chains *r)
{
	uint64_t lo = UINT64_MAX, hi = 0;
	int err;

	x->ep = malloc((n ? n : 1) * sizeof(*x->ep));
	if (!x->ep)
		return -ENOMEM;
	err = ingest(x, eps, n, &lo, &hi);
	if (err)
		return err;
	r->duration_ns = x->o && x->o->duration_ns ? x->o->duration_ns : hi > lo ? hi - lo : 0;
	err = sort_dedup(x);
	if (err)
		return err;
	link_wakers(x);
	err = walk_roots(x);
	if (err)
		return err;
	return build_result(x, r);
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

struct bt_chains *bt_chains_analyze(const struct bt_episode *eps, size_t n,
				    const struct bt_chain_opts *opts)
{
	struct ctx x = { .o = opts };
	struct bt_chains *r;
	int err;

	if (!eps && n) {
		errno = EINVAL;
		return NULL;
	}
	/* Indexes are 32-bit; NONE and the +1 of the hash slots stay free. */
	if (n > UINT32_MAX - 2) {
		errno = EOVERFLOW;
		return NULL;
	}
	r = bt_chains_new();
	if (!r)
		return NULL;
	x.cnt = &r->counts;
	x.cnt->episodes = n;
	x.max_depth = opts && opts->max_depth && opts->max_depth < BT_CHAINS_MAX_DEPTH ?
		      opts->max_depth : BT_CHAINS_MAX_DEPTH;
	x.max_nodes = opts && opts->max_nodes ? opts->max_nodes : BT_CHAINS_DEF_NODES;
	x.nested_roots = opts && opts->nested_roots;
	err = analyze(&x, eps, n, r);
	ctx_free(&x);
	if (err) {
		bt_chains_free(r);
		errno = -err;
		return NULL;
	}
	return r;
}
