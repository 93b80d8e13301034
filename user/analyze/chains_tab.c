// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The chain analysis's tables: interned channel names and the hop trie
 * (a node per distinct hop sequence). Ids are dense
 * uint32 so per-node facts can live in plain arrays indexed by them.
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

/* ---- channel names ----------------------------------------------------- */

/* A name's key: its kind, then its bytes. */
struct name_key {
	size_t len;
	char b[1 + BT_EPISODE_CHANNEL_LEN];
};

static bool name_eq(const void *ctx, uint32_t id, const void *key)
{
	const struct name_key *k = key;
	const struct name *n = &((const struct name *)ctx)[id];

	return n->kind == (uint8_t)k->b[0] && !strncmp(n->s, k->b + 1, k->len - 1) &&
	       !n->s[k->len - 1];
}

static uint32_t names_recent(struct bt_names *t, uint32_t id)
{
	t->recent[1] = t->recent[0];
	t->recent[0] = id + 1;
	return id;
}

uint32_t bt_names_id(struct bt_names *t, uint8_t kind, const char *s, size_t max)
{
	/* The caller may have filled all of its buffer: stop there. */
	size_t len = strnlen(s, (max < BT_EPISODE_CHANNEL_LEN ? max : BT_EPISODE_CHANNEL_LEN) - 1);
	struct name_key k;
	struct name *n;
	uint64_t h;
	uint32_t id;

	for (int i = 0; i < 2; i++) {
		id = t->recent[i] - 1;
		if (t->recent[i] && t->v[id].kind == kind && !strncmp(t->v[id].s, s, len) &&
		    !t->v[id].s[len])
			return id;
	}
	k.len = 1 + len;
	k.b[0] = (char)kind;
	memcpy(k.b + 1, s, len);
	h = bt_hash(k.b, k.len);
	id = bt_hmap_get(&t->tab, h, name_eq, t->v, &k);
	if (id != BT_HMAP_NONE)
		return names_recent(t, id);
	if (bt_chains_grow((void **)&t->v, &t->cap, t->n, sizeof(*t->v)))
		return NONE;
	n = &t->v[t->n];
	n->s = strndup(s, len);
	if (!n->s)
		return NONE;
	n->kind = kind;
	if (bt_hmap_put(&t->tab, h, (uint32_t)t->n)) {
		free(n->s);
		return NONE;
	}
	return names_recent(t, (uint32_t)t->n++);
}

void bt_names_free(struct bt_names *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].s);
	free(t->v);
	bt_hmap_free(&t->tab);
	memset(t, 0, sizeof(*t));
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

void bt_chains_tab_free(struct ctx *x)
{
	bt_names_free(&x->names);
	bt_hmap_free(&x->trietab);
	free(x->tn);
	free(x->stamp);
	free(x->slot_of);
	free(x->chain_of);
}
