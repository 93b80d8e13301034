// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Chain analysis (definitions in chains.h). The plan, each step bounded:
 *   1. keep the valid, complete episodes in a compact array, channel names
 *      interned, sorted by (thread, start): one sort, O(n log n);
 *   2. drop duplicates and overlaps so a thread's episodes are disjoint,
 *      which makes both starts and ends sorted: the children of a window
 *      are then one index range, found by two binary searches;
 *   3. mark nested episodes with a difference array over those ranges;
 *   4. walk each root's tree (depth cap, threads-on-path check, node
 *      budget), summing per trie node (a trie node is a hop sequence);
 *   5. per root, the visited trie nodes without visited children are its
 *      chains: add the root's sums along each, then rank.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chains.h"

#define NONE		UINT32_MAX
#define F_CYCLE		1
#define F_CUT		2

/* A kept episode: the sorts and searches touch only these 48 bytes. */
struct ep {
	uint64_t start, end;
	uint64_t wake;		/* in [start, end]; end when unknown */
	uint32_t tid, pid;
	uint32_t waker_tid, waker_pid;
	uint32_t name;		/* interned (kind, channel) */
	uint32_t src;		/* index in the input: the last tie-break */
};

struct thread {
	uint32_t tid, pid;
	uint32_t lo, hi;	/* its episodes, ep[lo .. hi) */
};

struct name {
	char *s;
	uint8_t kind;
};

/* A hop sequence, stored as its last hop and the sequence before it. */
struct tnode {
	uint32_t parent;	/* NONE at depth 0 */
	uint32_t from, to;	/* pids */
	uint32_t name;
	uint32_t depth;
};

/* Open addressing over ids; the elements live in their own arrays. */
struct htab {
	uint32_t *id;		/* id + 1, 0 empty */
	uint32_t *hash;
	size_t cap, n;
};

/* One trie node's part of the current root's tree. */
struct slot {
	uint32_t trie;
	uint32_t count;
	uint64_t blocked, queue;
	uint64_t childdur;	/* children's time, or the window if not followed */
	uint64_t fan_calls, fan_save;
	uint32_t fan_peers;
	uint32_t first_dur;	/* list through durs[].next */
	uint8_t flags;
	bool has_child;
};

struct dur {
	uint64_t ns;
	uint32_t next;
};

struct kid {
	uint32_t trie, ep;
	uint64_t ns;
};

struct u32v {
	uint32_t *v;
	size_t n, cap;
};

struct u64v {
	uint64_t *v;
	size_t n, cap;
};

struct hagg {
	uint64_t calls, blocked, queue, childdur;
	uint64_t fan_calls, fan_save;
	uint32_t fan_peers;
	struct u32v ks;		/* calls per root */
	struct u64v ns;		/* each call's blocked time */
};

struct cagg {
	uint32_t trie;		/* the chain's last hop */
	unsigned int nhops;
	uint64_t episodes, blocked;
	uint32_t threads, last_tid;
	uint8_t flags;
	struct hagg *h;
};

struct bt_chains_mem {
	char **names;
	size_t nnames;
	struct bt_chain_hop *hops;
};

struct ctx {
	const struct bt_chain_opts *o;
	unsigned int max_depth, max_nodes;
	struct bt_chain_counts *cnt;

	struct ep *ep;
	size_t nep;
	struct thread *th;
	size_t nth, thcap;

	struct name *names;
	size_t nnames, namecap;
	struct htab nametab;

	struct tnode *tn;
	uint32_t *stamp, *slot_of, *chain_of;	/* per trie node */
	size_t ntn, tncap;
	struct htab trietab;

	/* the current root's tree */
	uint32_t serial;
	uint32_t path[BT_CHAINS_MAX_DEPTH];	/* from-thread of each hop */
	unsigned int budget;
	struct slot *slots;
	size_t nslots, slotcap;
	struct dur *durs;
	size_t ndurs, durcap;
	struct kid *kids;
	size_t nkids, kidcap;

	struct cagg *ch;
	size_t nch, chcap;
};

/* Room for one more element at index n; 0 or -ENOMEM. */
static int grow(void **v, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 16;
	p = realloc(*v, ncap * elem);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

static int u32v_push(struct u32v *a, uint32_t x)
{
	if (grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v)))
		return -ENOMEM;
	a->v[a->n++] = x;
	return 0;
}

static int u64v_push(struct u64v *a, uint64_t x)
{
	if (grow((void **)&a->v, &a->cap, a->n, sizeof(*a->v)))
		return -ENOMEM;
	a->v[a->n++] = x;
	return 0;
}

static uint32_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* ---- hash index -------------------------------------------------------- */

typedef bool (*eq_fn)(const struct ctx *x, uint32_t id, const void *key);

static int htab_rehash(struct htab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 64;
	uint32_t *id = calloc(ncap, sizeof(*id));
	uint32_t *hash = calloc(ncap, sizeof(*hash));

	if (!id || !hash) {
		free(id);
		free(hash);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->id[i])
			continue;
		for (j = t->hash[i] & (ncap - 1); id[j]; j = (j + 1) & (ncap - 1))
			;
		id[j] = t->id[i];
		hash[j] = t->hash[i];
	}
	free(t->id);
	free(t->hash);
	t->id = id;
	t->hash = hash;
	t->cap = ncap;
	return 0;
}

/* The slot holding key, or the empty slot where it belongs. */
static size_t htab_slot(const struct ctx *x, const struct htab *t, uint32_t h,
			eq_fn eq, const void *key)
{
	size_t j = h & (t->cap - 1);

	while (t->id[j] && !(t->hash[j] == h && eq(x, t->id[j] - 1, key)))
		j = (j + 1) & (t->cap - 1);
	return j;
}

/* Sizes the table for one more id first, so a found slot stays valid. */
static int htab_reserve(struct htab *t)
{
	return (t->n + 1) * 2 > t->cap ? htab_rehash(t) : 0;
}

static void htab_set(struct htab *t, size_t j, uint32_t h, uint32_t id)
{
	t->id[j] = id + 1;
	t->hash[j] = h;
	t->n++;
}

/* ---- channel names ----------------------------------------------------- */

struct name_key {
	const char *s;
	size_t len;
	uint8_t kind;
};

static bool name_eq(const struct ctx *x, uint32_t id, const void *key)
{
	const struct name_key *k = key;
	const struct name *n = &x->names[id];

	return n->kind == k->kind && !strncmp(n->s, k->s, k->len) && !n->s[k->len];
}

/* The id of (kind, channel), adding it; NONE when out of memory. */
static uint32_t name_intern(struct ctx *x, uint8_t kind, const char *s)
{
	struct name_key k = { s, strnlen(s, BT_EPISODE_CHANNEL_LEN - 1), kind };
	uint64_t h = 1469598103934665603ull ^ kind;
	struct name *n;
	uint32_t hh;
	size_t j;

	for (size_t i = 0; i < k.len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	hh = mix(h);
	if (htab_reserve(&x->nametab))
		return NONE;
	j = htab_slot(x, &x->nametab, hh, name_eq, &k);
	if (x->nametab.id[j])
		return x->nametab.id[j] - 1;
	if (grow((void **)&x->names, &x->namecap, x->nnames, sizeof(*x->names)))
		return NONE;
	n = &x->names[x->nnames];
	n->s = strndup(s, k.len);
	if (!n->s)
		return NONE;
	n->kind = kind;
	htab_set(&x->nametab, j, hh, x->nnames);
	return x->nnames++;
}

/* ---- the hop trie ------------------------------------------------------ */

static bool tnode_eq(const struct ctx *x, uint32_t id, const void *key)
{
	const struct tnode *a = &x->tn[id], *b = key;

	return a->parent == b->parent && a->from == b->from && a->to == b->to &&
	       a->name == b->name;
}

/* The trie node arrays share one capacity. */
static int tnode_grow(struct ctx *x)
{
	size_t ncap = x->tncap ? x->tncap * 2 : 64;
	void *p;

	if (x->ntn < x->tncap)
		return 0;
	p = realloc(x->tn, ncap * sizeof(*x->tn));
	if (!p)
		return -ENOMEM;
	x->tn = p;
	p = realloc(x->slot_of, ncap * sizeof(*x->slot_of));
	if (!p)
		return -ENOMEM;
	x->slot_of = p;
	p = realloc(x->chain_of, ncap * sizeof(*x->chain_of));
	if (!p)
		return -ENOMEM;
	x->chain_of = p;
	p = realloc(x->stamp, ncap * sizeof(*x->stamp));
	if (!p)
		return -ENOMEM;
	x->stamp = p;
	/* Serial 0 is never current: a zero stamp means "not in this tree". */
	memset(x->stamp + x->tncap, 0, (ncap - x->tncap) * sizeof(*x->stamp));
	x->tncap = ncap;
	return 0;
}

/* The trie node of episode e's hop under parent; NONE when out of memory. */
static uint32_t tnode_get(struct ctx *x, uint32_t parent, const struct ep *e)
{
	struct tnode k = { parent, e->pid, e->waker_pid, e->name, 0 };
	uint32_t h = mix(((uint64_t)parent << 32 | e->name) ^
			 mix((uint64_t)e->pid << 32 | e->waker_pid));
	size_t j;

	if (htab_reserve(&x->trietab) || tnode_grow(x))
		return NONE;
	j = htab_slot(x, &x->trietab, h, tnode_eq, &k);
	if (x->trietab.id[j])
		return x->trietab.id[j] - 1;
	k.depth = parent == NONE ? 0 : x->tn[parent].depth + 1;
	x->tn[x->ntn] = k;
	x->chain_of[x->ntn] = NONE;
	htab_set(&x->trietab, j, h, x->ntn);
	return x->ntn++;
}

/* ---- episodes ---------------------------------------------------------- */

static int cmp_ep(const void *pa, const void *pb)
{
	const struct ep *a = pa, *b = pb;

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

/* Global order for "the earlier of two identical spans": start, longer, tid. */
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
		e->name = name_intern(x, in->kind, in->channel);
		if (e->name == NONE)
			return -ENOMEM;
		e->start = in->start_ns;
		e->end = in->end_ns;
		e->wake = in->wake_ns >= in->start_ns && in->wake_ns <= in->end_ns &&
			  in->wake_ns ? in->wake_ns : in->end_ns;
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

/*
 * One thread is in one syscall at a time, so overlapping episodes of a
 * thread are bad data: keep the first (the longest of equal starts).
 * Builds the thread table on the way.
 */
static int dedup(struct ctx *x)
{
	size_t out = 0;

	for (size_t i = 0; i < x->nep; i++) {
		struct ep *e = &x->ep[i];
		struct thread *t = x->nth ? &x->th[x->nth - 1] : NULL;

		if (t && t->tid == e->tid) {
			struct ep *last = &x->ep[out - 1];

			if (same_episode(last, e)) {
				x->cnt->duplicates++;
				continue;
			}
			if (e->start < last->end) {
				x->cnt->overlaps++;
				continue;
			}
		} else {
			if (grow((void **)&x->th, &x->thcap, x->nth, sizeof(*x->th)))
				return -ENOMEM;
			t = &x->th[x->nth++];
			t->tid = e->tid;
			t->pid = e->pid;
			t->lo = (uint32_t)out;
		}
		x->ep[out++] = *e;
		t->hi = (uint32_t)out;
	}
	x->nep = out;
	return 0;
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

/* A waker with no pid of its own gets the one its episodes carry. */
static void resolve_wakers(struct ctx *x)
{
	for (size_t i = 0; i < x->nep; i++) {
		struct ep *e = &x->ep[i];
		const struct thread *t;

		if (!e->waker_tid || e->waker_pid)
			continue;
		t = thread_find(x, e->waker_tid);
		e->waker_pid = t ? t->pid : e->waker_tid;
	}
}

/* Episodes of t inside [s, w]: ep[*lo .. *hi). */
static void children(const struct ctx *x, const struct thread *t, uint64_t s, uint64_t w,
		     uint32_t *plo, uint32_t *phi)
{
	uint32_t lo = t->lo, hi = t->hi;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (x->ep[mid].start < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	*plo = lo;
	/* Disjoint episodes: ends are sorted too. */
	hi = t->hi;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (x->ep[mid].end <= w)
			lo = mid + 1;
		else
			hi = mid;
	}
	*phi = lo;
}

/*
 * nested[i] when ep[i] is a child of an episode ordered before it. Children
 * of a window are one range, so a difference array marks them all in
 * O(n). A child with the parent's exact span is alone in its range (its
 * thread's episodes are disjoint), which is where the order decides.
 */
static uint8_t *mark_nested(const struct ctx *x)
{
	int32_t *diff = calloc(x->nep + 1, sizeof(*diff));
	uint8_t *nested = calloc(x->nep + 1, 1);
	int32_t depth = 0;

	if (!diff || !nested) {
		free(diff);
		free(nested);
		return NULL;
	}
	for (size_t i = 0; i < x->nep; i++) {
		const struct ep *e = &x->ep[i];
		const struct thread *t;
		uint32_t lo, hi;

		if (!waker_known(e) || !(t = thread_find(x, e->waker_tid)))
			continue;
		children(x, t, e->start, e->wake, &lo, &hi);
		if (lo >= hi || (hi - lo == 1 && !ep_before(e, &x->ep[lo])))
			continue;
		diff[lo]++;
		diff[hi]--;
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
	if (grow((void **)&x->slots, &x->slotcap, x->nslots, sizeof(*x->slots)))
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

/* The waker's calls to two peers or more, one after the other: fan-out. */
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

/* Not following the waker: its window counts as waiting elsewhere. */
static void not_followed(struct ctx *x, struct slot *s, const struct ep *e, uint8_t why)
{
	s->childdur += e->wake - e->start;
	s->flags |= why;
	if (why == F_CYCLE)
		x->cnt->cycles++;
	else
		x->cnt->cut++;
}

/* Scans the waker's episodes in e's window; pushes the followable ones. */
static int scan_children(struct ctx *x, long si, uint32_t lo, uint32_t hi)
{
	uint32_t parent = x->slots[si].trie;

	for (uint32_t k = lo; k < hi; k++) {
		const struct ep *c = &x->ep[k];
		uint64_t ns = c->end - c->start;
		uint32_t trie;

		x->slots[si].childdur += ns;
		/* A wait nobody is known to have ended: the chain ends. */
		if (!waker_known(c))
			continue;
		trie = tnode_get(x, parent, c);
		if (trie == NONE ||
		    grow((void **)&x->kids, &x->kidcap, x->nkids, sizeof(*x->kids)))
			return -ENOMEM;
		x->kids[x->nkids++] = (struct kid){ trie, k, ns };
	}
	return 0;
}

static int visit(struct ctx *x, uint32_t ei, uint32_t trie, unsigned int d)
{
	const struct ep *e = &x->ep[ei];
	const struct thread *t;
	uint32_t lo, hi;
	size_t base, end;
	long si = slot_get(x, trie);
	struct slot *s;

	if (si < 0 || grow((void **)&x->durs, &x->durcap, x->ndurs, sizeof(*x->durs)))
		return -ENOMEM;
	s = &x->slots[si];
	s->count++;
	s->blocked += e->end - e->start;
	s->queue += e->end - e->wake;
	x->durs[x->ndurs] = (struct dur){ e->end - e->start, s->first_dur };
	s->first_dur = (uint32_t)x->ndurs++;
	x->path[d] = e->tid;

	for (unsigned int i = 0; i <= d; i++) {
		if (x->path[i] == e->waker_tid) {
			not_followed(x, s, e, F_CYCLE);
			return 0;
		}
	}
	t = thread_find(x, e->waker_tid);
	if (!t)
		return 0;	/* the waker never blocked: all its own time */
	children(x, t, e->start, e->wake, &lo, &hi);
	if (hi <= lo)
		return 0;	/* nor in this window */
	if (d + 1 >= x->max_depth || hi - lo > x->budget) {
		not_followed(x, s, e, F_CUT);
		return 0;
	}
	x->budget -= hi - lo;

	base = x->nkids;
	if (scan_children(x, si, lo, hi))
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
	if (grow((void **)&x->ch, &x->chcap, x->nch, sizeof(*x->ch)))
		return -1;
	c = &x->ch[x->nch];
	memset(c, 0, sizeof(*c));
	c->h = calloc(nhops, sizeof(*c->h));
	if (!c->h)
		return -1;
	c->trie = trie;
	c->nhops = nhops;
	x->chain_of[trie] = (uint32_t)x->nch;
	return (long)x->nch++;
}

static int add_hop(struct ctx *x, struct hagg *h, const struct slot *s)
{
	h->calls += s->count;
	h->blocked += s->blocked;
	h->queue += s->queue;
	h->childdur += s->childdur;
	h->fan_calls += s->fan_calls;
	h->fan_save += s->fan_save;
	if (s->fan_peers > h->fan_peers)
		h->fan_peers = s->fan_peers;
	if (u32v_push(&h->ks, s->count))
		return -ENOMEM;
	for (uint32_t d = s->first_dur; d != NONE; d = x->durs[d].next)
		if (u64v_push(&h->ns, x->durs[d].ns))
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

			c->flags |= s->flags;
			if (add_hop(x, &c->h[x->tn[t].depth], s))
				return -ENOMEM;
		}
	}
	return 0;
}

static int walk_roots(struct ctx *x)
{
	uint8_t *nested = mark_nested(x);
	int err = 0;

	if (!nested)
		return -ENOMEM;
	for (size_t i = 0; i < x->nep && !err; i++) {
		const struct ep *e = &x->ep[i];
		uint32_t trie;

		if (nested[i]) {
			x->cnt->nested++;
			continue;
		}
		if (!waker_known(e)) {
			x->cnt->no_waker++;
			continue;
		}
		x->cnt->roots++;
		trie = tnode_get(x, NONE, e);
		if (trie == NONE) {
			err = -ENOMEM;
			break;
		}
		x->serial++;
		x->nslots = x->ndurs = x->nkids = 0;
		x->budget = x->max_nodes;
		err = visit(x, (uint32_t)i, trie, 0);
		if (!err)
			err = add_root(x, e);
	}
	free(nested);
	return err;
}

/* ---- the result -------------------------------------------------------- */

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;

	return a < b ? -1 : a > b;
}

static int cmp_u64(const void *pa, const void *pb)
{
	uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;

	return a < b ? -1 : a > b;
}

static void set_end(const struct ctx *x, struct bt_chain_end *end, uint32_t pid)
{
	const char *s = x->o && x->o->comm ? x->o->comm(pid, x->o->ctx) : NULL;

	end->pid = pid;
	snprintf(end->comm, sizeof(end->comm), "%s", s ? s : "");
}

static void fill_hop(const struct ctx *x, struct bt_chain_hop *out, uint32_t trie,
		     struct hagg *h, const struct hagg *next, uint64_t episodes)
{
	const struct tnode *t = &x->tn[trie];
	uint64_t wait = next ? next->blocked : 0;

	set_end(x, &out->from, t->from);
	set_end(x, &out->to, t->to);
	out->kind = x->names[t->name].kind;
	out->channel = x->names[t->name].s;
	out->calls = h->calls;
	out->calls_per_episode = episodes ? (double)h->calls / (double)episodes : 0;
	qsort(h->ks.v, h->ks.n, sizeof(*h->ks.v), cmp_u32);
	qsort(h->ns.v, h->ns.n, sizeof(*h->ns.v), cmp_u64);
	if (h->ks.n) {
		out->calls_min = h->ks.v[0];
		out->calls_p50 = h->ks.v[(h->ks.n - 1) / 2];
		out->calls_max = h->ks.v[h->ks.n - 1];
	}
	if (h->ns.n)
		out->p50_ns = h->ns.v[(h->ns.n - 1) / 2];
	out->blocked_ns = h->blocked;
	out->queue_ns = h->queue;
	out->wait_ns = wait;
	out->other_ns = h->childdur - wait;
	out->self_ns = h->blocked - h->queue - h->childdur;
	out->fanout_calls = h->fan_calls;
	out->fanout_max_peers = h->fan_peers;
	out->fanout_save_ns = h->fan_save;
}

static int cmp_chain(const void *pa, const void *pb)
{
	const struct bt_chain *a = pa, *b = pb;
	int r;

	if (a->blocked_ns != b->blocked_ns)
		return a->blocked_ns > b->blocked_ns ? -1 : 1;
	if (a->episodes != b->episodes)
		return a->episodes > b->episodes ? -1 : 1;
	for (unsigned int i = 0; i < a->nhops && i < b->nhops; i++) {
		const struct bt_chain_hop *x = &a->hops[i], *y = &b->hops[i];

		if (x->from.pid != y->from.pid)
			return x->from.pid < y->from.pid ? -1 : 1;
		if (x->kind != y->kind)
			return x->kind < y->kind ? -1 : 1;
		r = strcmp(x->channel, y->channel);
		if (r)
			return r;
		if (x->to.pid != y->to.pid)
			return x->to.pid < y->to.pid ? -1 : 1;
	}
	return a->nhops < b->nhops ? -1 : a->nhops > b->nhops;
}

static int build_result(struct ctx *x, struct bt_chains *r)
{
	size_t nhops = 0, used = 0;

	for (size_t i = 0; i < x->nch; i++)
		nhops += x->ch[i].nhops;
	r->chains = calloc(x->nch ? x->nch : 1, sizeof(*r->chains));
	r->mem->hops = calloc(nhops ? nhops : 1, sizeof(*r->mem->hops));
	if (!r->chains || !r->mem->hops)
		return -ENOMEM;
	for (size_t i = 0; i < x->nch; i++) {
		struct cagg *c = &x->ch[i];
		struct bt_chain *out = &r->chains[i];
		uint32_t t = c->trie;
		double wall = (double)r->duration_ns * c->threads;

		out->hops = r->mem->hops + used;
		out->nhops = c->nhops;
		used += c->nhops;
		for (unsigned int d = c->nhops; d-- > 0; t = x->tn[t].parent)
			fill_hop(x, &out->hops[d], t, &c->h[d],
				 d + 1 < c->nhops ? &c->h[d + 1] : NULL, c->episodes);
		out->episodes = c->episodes;
		out->blocked_ns = c->blocked;
		out->root_threads = c->threads;
		out->share = wall > 0 ? (double)c->blocked / wall : 0;
		if (out->share > 1)
			out->share = 1;
		out->cycle = c->flags & F_CYCLE;
		out->cut = c->flags & F_CUT;
	}
	r->nchains = x->nch;
	if (x->nch > 1)
		qsort(r->chains, x->nch, sizeof(*r->chains), cmp_chain);
	/* The names now belong to the result. */
	r->mem->names = malloc((x->nnames ? x->nnames : 1) * sizeof(char *));
	if (!r->mem->names)
		return -ENOMEM;
	for (size_t i = 0; i < x->nnames; i++)
		r->mem->names[i] = x->names[i].s;
	r->mem->nnames = x->nnames;
	x->nnames = 0;
	return 0;
}

static void ctx_free(struct ctx *x)
{
	for (size_t i = 0; i < x->nnames; i++)
		free(x->names[i].s);
	for (size_t i = 0; i < x->nch; i++) {
		for (unsigned int d = 0; d < x->ch[i].nhops; d++) {
			free(x->ch[i].h[d].ks.v);
			free(x->ch[i].h[d].ns.v);
		}
		free(x->ch[i].h);
	}
	free(x->ch);
	free(x->names);
	free(x->nametab.id);
	free(x->nametab.hash);
	free(x->trietab.id);
	free(x->trietab.hash);
	free(x->tn);
	free(x->stamp);
	free(x->slot_of);
	free(x->chain_of);
	free(x->slots);
	free(x->durs);
	free(x->kids);
	free(x->th);
	free(x->ep);
}

void bt_chains_free(struct bt_chains *c)
{
	if (!c)
		return;
	if (c->mem) {
		for (size_t i = 0; i < c->mem->nnames; i++)
			free(c->mem->names[i]);
		free(c->mem->names);
		free(c->mem->hops);
		free(c->mem);
	}
	free(c->chains);
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
	if (x->nep)
		qsort(x->ep, x->nep, sizeof(*x->ep), cmp_ep);
	err = dedup(x);
	if (err)
		return err;
	resolve_wakers(x);
	err = walk_roots(x);
	if (err)
		return err;
	return build_result(x, r);
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
	r = calloc(1, sizeof(*r));
	if (!r || !(r->mem = calloc(1, sizeof(*r->mem)))) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	x.cnt = &r->counts;
	x.cnt->episodes = n;
	x.max_depth = opts && opts->max_depth && opts->max_depth < BT_CHAINS_MAX_DEPTH ?
		      opts->max_depth : BT_CHAINS_MAX_DEPTH;
	x.max_nodes = opts && opts->max_nodes ? opts->max_nodes : BT_CHAINS_DEF_NODES;
	err = analyze(&x, eps, n, r);
	ctx_free(&x);
	if (err) {
		bt_chains_free(r);
		errno = -err;
		return NULL;
	}
	return r;
}
