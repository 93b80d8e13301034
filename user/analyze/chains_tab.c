// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The chain analysis's tables: the hop trie (a node per distinct hop
 * sequence). Ids are dense uint32 so per-node facts can live in plain
 * arrays indexed by them (the channel names are lib/strtab.h's).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/chains_priv.h"
#include "lib/hmap.h"
#include "lib/vec.h"

void bt_chain_end_set(const struct bt_chain_opts *o, struct bt_chain_end *end, uint32_t pid)
{
	const char *s = pid && o && o->comm ? o->comm(pid, o->ctx) : NULL;
	size_t len = s ? strnlen(s, sizeof(end->comm) - 1) : 0;

	end->pid = pid;
	if (len)
		memcpy(end->comm, s, len);
	end->comm[len] = 0;
}

int bt_chains_grow(void **v, size_t *cap, size_t n, size_t elem)
{
	return bt_grow(v, cap, n + 1, elem) ? 0 : -ENOMEM;
}

/* ---- a window's budget ------------------------------------------------ */

void bt_budget_init(struct bt_budget *b, uint64_t horizon)
{
	*b = (struct bt_budget){ .horizon = horizon, .eff = horizon, .eff_min = horizon };
}

size_t bt_budget_added(const struct bt_budget *b, size_t n)
{
	return n > b->n_folded ? n - b->n_folded : 0;
}

static uint64_t effective_horizon(const struct bt_budget *b, size_t n, uint64_t lo, uint64_t hi,
				  uint64_t cutoff, bool folded_once)
{
	size_t added = bt_budget_added(b, n);
	uint64_t since = folded_once ? b->hi_folded : lo, span, h;

	if (!b->budget)
		return b->horizon;
	if (!added || hi <= since)
		return b->eff;	/* no rate to go by: the last one's */
	span = hi - since;
	/* rate = added / span; h + h / 4 = budget / rate. */
	h = span > UINT64_MAX / 4 / b->budget ? b->horizon :
	    (uint64_t)b->budget * span * 4 / 5 / added;
	if (h < BT_WINDOW_HORIZON_FLOOR)
		h = BT_WINDOW_HORIZON_FLOOR;
	if (h > b->horizon)
		h = b->horizon;
	/*
	 * It grows back as the records' time goes, not at once: the cutoff
	 * still moves on (a fold that folds nothing would leave the budget's
	 * records added, and the next poll fold again at once).
	 */
	if (folded_once && hi > cutoff + 1 && h >= hi - cutoff)
		h = hi - cutoff - 1;
	return h;
}

struct bt_fold_at bt_budget_next(const struct bt_budget *b, size_t n, uint64_t lo, uint64_t hi,
				 uint64_t cutoff, bool folded_once)
{
	struct bt_fold_at at = { effective_horizon(b, n, lo, hi, cutoff, folded_once), 0, 0 };

	at.cutoff = hi > at.horizon ? hi - at.horizon : 0;
	if (!n || (folded_once && at.cutoff <= cutoff))
		at.cutoff = 0;
	at.keep = at.cutoff > BT_WINDOW_CONTEXT(at.horizon) ?
		  at.cutoff - BT_WINDOW_CONTEXT(at.horizon) : 0;
	/* A longer horizon after a shorter one: what went, went (a record before it is late). */
	if (at.keep < b->keep)
		at.keep = b->keep;
	return at;
}

uint64_t bt_budget_horizon(const struct bt_budget *b, uint64_t *shortest)
{
	if (shortest)
		*shortest = b->eff_min;
	return b->eff;
}

uint64_t bt_budget_final_keep(const struct bt_budget *b, uint64_t hi)
{
	uint64_t h = b->horizon + BT_WINDOW_CONTEXT(b->horizon);

	return hi > h ? hi - h : 0;
}

size_t bt_window_room(size_t n)
{
	return n + n / 4 + 64;
}

void bt_window_trim(void **p, size_t *cap, size_t n, size_t elem)
{
	if (*cap > 2 * bt_window_room(n))
		bt_resize(p, cap, bt_window_room(n), elem);	/* kept as it is if that fails */
}

void bt_budget_done(struct bt_budget *b, size_t n, uint64_t hi, const struct bt_fold_at *at)
{
	/* Nothing to fold (no newer record): the budget counts from here. */
	if (!at && !b->budget)
		return;
	b->n_folded = n;
	b->hi_folded = hi;
	if (!at)
		return;
	b->keep = at->keep;
	b->eff = at->horizon;
	if (at->horizon < b->eff_min)
		b->eff_min = at->horizon;
}

/* ---- the hop trie ------------------------------------------------------ */

static bool tnode_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct tnode *a = &((const struct tnode *)ctx)[id], *b = key;

	return a->parent == b->parent && a->from == b->from && a->to == b->to &&
	       a->name == b->name;
}

/*
 * The per-node arrays share one capacity: each grows from the same one by
 * the same rule, so they end equal. The new room is zeroed, and serial 0
 * is never current: a zero stamp means "not in this tree".
 */
static int tnode_grow(struct ctx *x)
{
	void **arr[] = { (void **)&x->tn, (void **)&x->slot_of, (void **)&x->chain_of,
			 (void **)&x->stamp };
	size_t elem[] = { sizeof(*x->tn), sizeof(*x->slot_of), sizeof(*x->chain_of),
			  sizeof(*x->stamp) };
	size_t cap = x->tncap;

	for (size_t i = 0; i < sizeof(arr) / sizeof(arr[0]); i++) {
		cap = x->tncap;
		if (!bt_grow(arr[i], &cap, x->ntn + 1, elem[i]))
			return -ENOMEM;
	}
	x->tncap = cap;
	return 0;
}

uint32_t bt_chains_tnode(struct ctx *x, uint32_t parent, const struct ep *e)
{
	struct tnode k = { parent, e->pid, e->waker_pid, e->name, 0 };
	/* Its identity: the hop and the sequence before it, not the depth. */
	uint32_t id_of[4] = { parent, e->pid, e->waker_pid, e->name };
	uint64_t h = bt_hash(id_of, sizeof(id_of));
	uint32_t id;

	id = bt_hmap_get(&x->trietab, h, tnode_eq, x->tn, &k);
	if (id != BT_HMAP_NONE)
		return id;
	if (tnode_grow(x) || bt_hmap_put(&x->trietab, h, (uint32_t)x->ntn))
		return NONE;
	k.depth = parent == NONE ? 0 : x->tn[parent].depth + 1;
	x->tn[x->ntn] = k;
	x->chain_of[x->ntn] = NONE;
	return (uint32_t)x->ntn++;
}

/* ---- sorting ---------------------------------------------------------- */

/*
 * A million keys sort in a few passes over memory this way, several times
 * faster than qsort's comparisons through a function pointer. Digits of
 * 11 bits: a window's timestamps differ in about 33 bits, 3 passes rather
 * than 5 of a byte (2048 counters stay in the L1 cache). A digit that
 * every key shares (the high bits of a timestamp) costs no pass.
 */
#define RADIX_BITS	11
#define RADIX_DIGITS	((64 + RADIX_BITS - 1) / RADIX_BITS)
void bt_chains_radix(struct rkey *v, struct rkey *tmp, size_t n)
{
	static const uint64_t mask = (1u << RADIX_BITS) - 1;
	uint32_t count[RADIX_DIGITS][1u << RADIX_BITS];
	struct rkey *src = v, *dst = tmp, *t;
	uint64_t differ = 0;
	unsigned int pass[RADIX_DIGITS], npass = 0;

	if (n < 2)
		return;
	/* Only the digits some key has unlike the first are counted and passed over. */
	for (size_t i = 1; i < n; i++)
		differ |= v[i].k ^ v[0].k;
	for (unsigned int d = 0; d < RADIX_DIGITS; d++)
		if (differ >> (RADIX_BITS * d) & mask)
			pass[npass++] = d;
	for (unsigned int p = 0; p < npass; p++)
		memset(count[pass[p]], 0, sizeof(count[0]));
	for (size_t i = 0; i < n; i++)
		for (unsigned int p = 0; p < npass; p++)
			count[pass[p]][(v[i].k >> (RADIX_BITS * pass[p])) & mask]++;
	for (unsigned int p = 0; p < npass; p++) {
		unsigned int shift = RADIX_BITS * pass[p];
		uint32_t *c = count[pass[p]], sum = 0;

		for (unsigned int d = 0; d <= mask; d++) {
			uint32_t here = c[d];

			c[d] = sum;
			sum += here;
		}
		for (size_t i = 0; i < n; i++)
			dst[c[(src[i].k >> shift) & mask]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

void bt_chains_tab_free(struct ctx *x)
{
	bt_strtab_free(&x->names);
	bt_hmap_free(&x->trietab);
	free(x->tn);
	free(x->stamp);
	free(x->slot_of);
	free(x->chain_of);
}
