// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The chain analysis's tables: interned channel names, the hop trie (a
 * node per distinct hop sequence), and the sample pool. Ids are dense
 * uint32 so per-node facts can live in plain arrays indexed by them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/chains_priv.h"
#include "lib/vec.h"

int bt_chains_grow(void **v, size_t *cap, size_t n, size_t elem)
{
	return bt_grow(v, cap, n + 1, elem) ? 0 : -ENOMEM;
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

/* Sizes the table for one more id first, so the slot found stays valid. */
static int htab_reserve(struct htab *t)
{
	return (t->n + 1) * 2 > t->cap ? htab_rehash(t) : 0;
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

static void htab_set(struct htab *t, size_t j, uint32_t h, uint32_t id)
{
	t->id[j] = id + 1;
	t->hash[j] = h;
	t->n++;
}

static void htab_free(struct htab *t)
{
	free(t->id);
	free(t->hash);
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

uint32_t bt_chains_name(struct ctx *x, uint8_t kind, const char *s)
{
	/* The caller may have filled all of channel[]: stop there. */
	struct name_key k = { s, strnlen(s, BT_EPISODE_CHANNEL_LEN - 1), kind };
	uint64_t h = 1469598103934665603ull ^ kind;	/* FNV-1a */
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
	if (bt_chains_grow((void **)&x->names, &x->namecap, x->nnames, sizeof(*x->names)))
		return NONE;
	n = &x->names[x->nnames];
	n->s = strndup(s, k.len);
	if (!n->s)
		return NONE;
	n->kind = kind;
	htab_set(&x->nametab, j, hh, (uint32_t)x->nnames);
	return (uint32_t)x->nnames++;
}

/* ---- the hop trie ------------------------------------------------------ */

static bool tnode_eq(const struct ctx *x, uint32_t id, const void *key)
{
	const struct tnode *a = &x->tn[id], *b = key;

	return a->parent == b->parent && a->from == b->from && a->to == b->to &&
	       a->name == b->name;
}

/* The per-node arrays share one capacity. */
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

uint32_t bt_chains_tnode(struct ctx *x, uint32_t parent, const struct ep *e)
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
	htab_set(&x->trietab, j, h, (uint32_t)x->ntn);
	return (uint32_t)x->ntn++;
}

/* ---- sorting ---------------------------------------------------------- */

/*
 * A million keys sort in a few passes over memory this way, several times
 * faster than qsort's comparisons through a function pointer. A byte that
 * every key shares (the high bytes of a timestamp) costs no pass.
 */
void bt_chains_radix(struct rkey *v, struct rkey *tmp, size_t n)
{
	static const unsigned int bytes = sizeof(v->k);
	size_t count[sizeof(v->k)][256];
	struct rkey *src = v, *dst = tmp, *t;

	if (n < 2)
		return;
	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++)
		for (unsigned int b = 0; b < bytes; b++)
			count[b][(v[i].k >> (8 * b)) & 0xff]++;
	for (unsigned int b = 0; b < bytes; b++) {
		size_t *c = count[b], sum = 0;

		if (c[(v[0].k >> (8 * b)) & 0xff] == n)
			continue;
		for (unsigned int d = 0; d < 256; d++) {
			size_t here = c[d];

			c[d] = sum;
			sum += here;
		}
		for (size_t i = 0; i < n; i++)
			dst[c[(src[i].k >> (8 * b)) & 0xff]++] = src[i];
		t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
}

/* ---- samples ----------------------------------------------------------- */

int bt_chains_sample(struct ctx *x, uint32_t *head, uint64_t v)
{
	if (x->nsamples >= NONE ||
	    bt_chains_grow((void **)&x->samples, &x->samplecap, x->nsamples,
			   sizeof(*x->samples)))
		return -ENOMEM;
	x->samples[x->nsamples] = (struct link){ v, *head };
	*head = (uint32_t)x->nsamples++;
	return 0;
}

void bt_chains_tab_free(struct ctx *x)
{
	for (size_t i = 0; i < x->nnames; i++)
		free(x->names[i].s);
	free(x->names);
	htab_free(&x->nametab);
	htab_free(&x->trietab);
	free(x->tn);
	free(x->stamp);
	free(x->slot_of);
	free(x->chain_of);
	free(x->samples);
}
