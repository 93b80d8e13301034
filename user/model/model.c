// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "model/channel.h"
#include "model/kinds.h"
#include "model/model.h"

/* ---- the indexes ------------------------------------------------------ */

/*
 * Each indexed list: its element's hash, and whether element e of the
 * array (ctx) has a key. The key of a wake, stack row or waker stack is
 * its whole key struct, compared as bytes (the kernel hands them zeroed
 * between fields); the others are the fields that say "the same one".
 */
static uint64_t pid_hash(uint32_t pid)
{
	return bt_hash(&pid, sizeof(pid));
}

static bool proc_eq(const void *ctx, uint32_t e, const void *key)
{
	return ((const struct bt_proc *)ctx)[e].pid == *(const uint32_t *)key;
}

/* A process's rows differ by kind, direction, channel and peer (bt_model_add). */
static uint64_t row_hash(const struct bt_key *k)
{
	uint64_t v[3] = { k->chan, k->peer, (uint64_t)k->kind << 8 | k->dir };

	return bt_hash(v, sizeof(v));
}

static bool row_eq(const void *ctx, uint32_t e, const void *key)
{
	const struct bt_key *a = &((const struct bt_row *)ctx)[e].key, *b = key;

	return a->kind == b->kind && a->dir == b->dir && a->chan == b->chan &&
	       a->peer == b->peer;
}

static uint64_t wake_hash(const void *e)
{
	return bt_hash(&((const struct bt_wake *)e)->key, sizeof(struct bt_wake_key));
}

static bool wake_eq(const void *ctx, uint32_t e, const void *key)
{
	return !memcmp(&((const struct bt_wake *)ctx)[e].key, key, sizeof(struct bt_wake_key));
}

static uint64_t stackrow_hash(const void *e)
{
	return bt_hash(&((const struct bt_stackrow *)e)->key, sizeof(struct bt_key));
}

static bool stackrow_eq(const void *ctx, uint32_t e, const void *key)
{
	return !memcmp(&((const struct bt_stackrow *)ctx)[e].key, key, sizeof(struct bt_key));
}

static uint64_t wakestack_hash(const struct bt_wakestack_key *k)
{
	return bt_hash(k, sizeof(*k));
}

static uint64_t wakestack_elem_hash(const void *e)
{
	return wakestack_hash(&((const struct bt_wakestack *)e)->key);
}

static bool wakestack_eq(const void *ctx, uint32_t e, const void *key)
{
	return !memcmp(&((const struct bt_wakestack *)ctx)[e].key, key,
		       sizeof(struct bt_wakestack_key));
}

/* A stack is (pid, id, caller): the same id in two processes is two stacks. */
static uint64_t stack_hash(const struct bt_stack *s)
{
	uint64_t v[2] = { (uint64_t)s->pid << 32 | (uint32_t)s->id, s->caller };

	return bt_hash(v, sizeof(v));
}

static bool stack_eq(const void *ctx, uint32_t e, const void *key)
{
	const struct bt_stack *a = &((const struct bt_stack *)ctx)[e], *b = key;

	return a->pid == b->pid && a->id == b->id && a->caller == b->caller;
}

/* A holder is (inode, pid, fd type); its modes merge. */
static uint64_t holder_hash(const struct bt_holder *h)
{
	uint64_t v[2] = { h->ino, (uint64_t)h->pid << 8 | h->type };

	return bt_hash(v, sizeof(v));
}

static bool holder_eq(const void *ctx, uint32_t e, const void *key)
{
	const struct bt_holder *a = &((const struct bt_holder *)ctx)[e], *b = key;

	return a->ino == b->ino && a->pid == b->pid && a->type == b->type;
}

static uint64_t onehop_hash(const struct bt_onehop_key *k)
{
	return bt_hash(k, sizeof(*k));
}

static bool onehop_eq(const void *ctx, uint32_t e, const void *key)
{
	return !memcmp(&((const struct bt_onehop_row *)ctx)[e].key, key,
		       sizeof(struct bt_onehop_key));
}

static uint64_t futexlink_hash(const void *e)
{
	return bt_hash(&((const struct bt_futex_link *)e)->key, sizeof(struct bt_futex_link_key));
}

static bool futexlink_eq(const void *ctx, uint32_t e, const void *key)
{
	return !memcmp(&((const struct bt_futex_link *)ctx)[e].key, key,
		       sizeof(struct bt_futex_link_key));
}

static uint64_t sock_hash(uint64_t ino)
{
	return bt_hash(&ino, sizeof(ino));
}

static bool sock_eq(const void *ctx, uint32_t e, const void *key)
{
	return ((const struct bt_sockfact *)ctx)[e].ino == *(const uint64_t *)key;
}

/*
 * The element of *arr with key, or a zeroed one appended and indexed
 * (*fresh). NULL when out of memory.
 */
static void *upsert(void **arr, size_t *n, size_t *cap, size_t size, struct bt_hmap *idx,
		    uint64_t h, bt_hmap_eq eq, const void *key, bool *fresh)
{
	uint32_t e = bt_hmap_get(idx, h, eq, *arr, key);
	char *x;

	*fresh = e == BT_HMAP_NONE;
	if (!*fresh)
		return (char *)*arr + (size_t)e * size;
	if (*n > BT_HMAP_MAX_ELEM || !bt_grow(arr, cap, *n + 1, size) || bt_hmap_put(idx, h, *n))
		return NULL;
	x = (char *)*arr + *n * size;
	memset(x, 0, size);
	++*n;
	return x;
}

/* Removes element i of an indexed list: the last one takes its place. */
static void remove_at(void *arr, size_t *n, size_t size, size_t i, struct bt_hmap *idx,
		      uint64_t (*hash)(const void *e))
{
	char *a = arr;
	size_t last = *n - 1;

	bt_hmap_del(idx, hash(a + i * size), i);
	if (i != last) {
		bt_hmap_move(idx, hash(a + last * size), last, i);
		memcpy(a + i * size, a + last * size, size);
	}
	--*n;
}

/* After the rows of p moved (sorted, filtered): filed again where they are now. */
static void reindex_rows(struct bt_proc *p)
{
	bt_hmap_clear(&p->row_idx);
	for (size_t i = 0; i < p->nrows; i++)
		bt_hmap_put(&p->row_idx, row_hash(&p->rows[i].key), i);
}

/* The same for the processes: the last with a pid is the newest. */
static void reindex_procs(struct bt_model *m)
{
	bt_hmap_clear(&m->proc_idx);
	for (size_t i = 0; i < m->nprocs; i++) {
		uint64_t h = pid_hash(m->procs[i].pid);
		uint32_t e = bt_hmap_get(&m->proc_idx, h, proc_eq, m->procs, &m->procs[i].pid);

		if (e == BT_HMAP_NONE)
			bt_hmap_put(&m->proc_idx, h, i);
		else
			bt_hmap_move(&m->proc_idx, h, e, i);
	}
}

/* ---- the model -------------------------------------------------------- */

/* What a row holds besides itself, before it is dropped. */
static void row_free(struct bt_row *r)
{
	free(r->fin);
	free(r->channel);
	r->fin = NULL;
	r->channel = NULL;
}

void bt_model_init(struct bt_model *m)
{
	memset(m, 0, sizeof(*m));
}

void bt_model_free(struct bt_model *m)
{
	free(m->hosts);
	for (size_t i = 0; i < m->nprocs; i++) {
		for (size_t j = 0; j < m->procs[i].nrows; j++)
			row_free(&m->procs[i].rows[j]);
		free(m->procs[i].rows);
		bt_hmap_free(&m->procs[i].row_idx);
	}
	free(m->procs);
	free(m->wakes);
	free(m->episodes);
	free(m->exchanges);
	if (m->fold_free)
		m->fold_free(m->fold);
	free(m->stackrows);
	free(m->wakestacks);
	for (size_t i = 0; i < m->nstacks; i++)
		free(m->stacks[i].folded);
	free(m->stacks);
	free(m->holders);
	free(m->socks);
	free(m->futexlinks);
	free(m->onehops);
	bt_hmap_free(&m->proc_idx);
	bt_hmap_free(&m->wake_idx);
	bt_hmap_free(&m->stackrow_idx);
	bt_hmap_free(&m->wakestack_idx);
	bt_hmap_free(&m->stack_idx);
	bt_hmap_free(&m->holder_idx);
	bt_hmap_free(&m->sock_idx);
	bt_hmap_free(&m->futexlink_idx);
	bt_hmap_free(&m->onehop_idx);
	memset(m, 0, sizeof(*m));
}

void bt_model_fit(struct bt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		bt_fit((void **)&m->procs[i].rows, &m->procs[i].cap, m->procs[i].nrows,
		       sizeof(*m->procs[i].rows));
	bt_fit((void **)&m->procs, &m->cap, m->nprocs, sizeof(*m->procs));
	bt_fit((void **)&m->wakes, &m->capwakes, m->nwakes, sizeof(*m->wakes));
	bt_fit((void **)&m->episodes, &m->capepisodes, m->nepisodes, sizeof(*m->episodes));
	bt_fit((void **)&m->exchanges, &m->capexchanges, m->nexchanges, sizeof(*m->exchanges));
	bt_fit((void **)&m->holders, &m->capholders, m->nholders, sizeof(*m->holders));
	bt_fit((void **)&m->socks, &m->capsocks, m->nsocks, sizeof(*m->socks));
	bt_fit((void **)&m->futexlinks, &m->capfutexlinks, m->nfutexlinks,
	       sizeof(*m->futexlinks));
	bt_fit((void **)&m->stackrows, &m->capstackrows, m->nstackrows, sizeof(*m->stackrows));
	bt_fit((void **)&m->stacks, &m->capstacks, m->nstacks, sizeof(*m->stacks));
	bt_fit((void **)&m->wakestacks, &m->capwakestacks, m->nwakestacks,
	       sizeof(*m->wakestacks));
}

/* Whether what pid counted is final: its (newest) process was harvested at exit. */
static bool harvested(const struct bt_model *m, uint32_t pid)
{
	const struct bt_proc *p = bt_model_find(m, pid);

	return p && p->harvested;
}

/* A stack row's counts back to its folded part. */
static void stackrow_to_fin(struct bt_stackrow *r)
{
	r->calls = r->fin.calls;
	r->bytes = r->fin.bytes;
	r->errors = r->fin.errors;
	r->blocked_ns = r->fin.blocked_ns;
}

/*
 * Which wakes, stack rows and waker stacks the next collection reads again: all (pid 0) but a harvested process's, or one
 * process's (its harvest). Those folded while tracing stay, back to
 * their folded part (the kernel has that part no more); the rest go.
 */
static bool refilled(const struct bt_model *m, uint32_t who, uint32_t pid)
{
	return pid ? who == pid : !harvested(m, who);
}

static void refill_wakes(struct bt_model *m, uint32_t pid)
{
	for (size_t i = 0; i < m->nwakes;) {
		struct bt_wake *w = &m->wakes[i];

		if (refilled(m, w->key.waker, pid) && !w->final) {
			remove_at(m->wakes, &m->nwakes, sizeof(*m->wakes), i, &m->wake_idx,
				  wake_hash);
			continue;
		}
		if (refilled(m, w->key.waker, pid))
			w->count = w->fin;
		i++;
	}
}

/* The stack rows and waker stacks (by wakee) of --stacks. */
static void refill_stackrows(struct bt_model *m, uint32_t pid)
{
	for (size_t i = 0; i < m->nwakestacks;) {
		struct bt_wakestack *w = &m->wakestacks[i];

		if (refilled(m, w->key.wakee, pid) && !w->final) {
			remove_at(m->wakestacks, &m->nwakestacks, sizeof(*m->wakestacks), i,
				  &m->wakestack_idx, wakestack_elem_hash);
			continue;
		}
		if (refilled(m, w->key.wakee, pid))
			w->val = w->fin;
		i++;
	}
	for (size_t i = 0; i < m->nstackrows;) {
		struct bt_stackrow *r = &m->stackrows[i];

		if (refilled(m, r->key.tgid, pid) && !r->final) {
			remove_at(m->stackrows, &m->nstackrows, sizeof(*m->stackrows), i,
				  &m->stackrow_idx, stackrow_hash);
			continue;
		}
		if (refilled(m, r->key.tgid, pid))
			stackrow_to_fin(r);
		i++;
	}
}

void bt_model_clear_rows(struct bt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (!m->procs[i].harvested)
			bt_proc_clear_rows(&m->procs[i]);
	/*
	 * Wakes, stack rows and waker stacks counted by harvested processes
	 * are final like their rows; so are those folded with their rows (as
	 * they were then).
	 */
	refill_wakes(m, 0);
	refill_stackrows(m, 0);
}

struct bt_proc *bt_model_find(const struct bt_model *m, uint32_t pid)
{
	uint32_t e = bt_hmap_get(&m->proc_idx, pid_hash(pid), proc_eq, m->procs, &pid);

	return e == BT_HMAP_NONE ? NULL : &m->procs[e];
}

const struct bt_sockfact *bt_model_find_sock(const struct bt_model *m, uint64_t ino)
{
	uint32_t e = bt_hmap_get(&m->sock_idx, sock_hash(ino), sock_eq, m->socks, &ino);

	return e == BT_HMAP_NONE ? NULL : &m->socks[e];
}

struct bt_proc *bt_model_new_proc(struct bt_model *m, uint32_t pid)
{
	uint64_t h = pid_hash(pid);
	uint32_t old = bt_hmap_get(&m->proc_idx, h, proc_eq, m->procs, &pid);
	struct bt_proc *p;

	if (m->nprocs > BT_HMAP_MAX_ELEM ||
	    !bt_grow((void **)&m->procs, &m->cap, m->nprocs + 1, sizeof(*m->procs)))
		return NULL;
	/* After pid reuse the new process is the one the pid finds. */
	if (old != BT_HMAP_NONE)
		bt_hmap_move(&m->proc_idx, h, old, m->nprocs);
	else if (bt_hmap_put(&m->proc_idx, h, m->nprocs))
		return NULL;
	p = &m->procs[m->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	return p;
}

struct bt_proc *bt_model_proc(struct bt_model *m, uint32_t pid)
{
	struct bt_proc *p = bt_model_find(m, pid);

	return p ? p : bt_model_new_proc(m, pid);
}

static struct bt_wake *add_wake(struct bt_model *m, const struct bt_wake_key *key,
				uint64_t count)
{
	struct bt_wake k = { .key = *key }, *w;
	bool fresh;

	w = upsert((void **)&m->wakes, &m->nwakes, &m->capwakes, sizeof(*w), &m->wake_idx,
		   wake_hash(&k), wake_eq, key, &fresh);
	if (!w)
		return NULL;
	if (fresh)
		w->key = *key;
	w->count += count;
	return w;
}

int bt_model_add_wake(struct bt_model *m, const struct bt_wake_key *key, uint64_t count)
{
	return add_wake(m, key, count) ? 0 : -1;
}

int bt_model_fold_wake(struct bt_model *m, const struct bt_wake_key *key, uint64_t count)
{
	struct bt_wake *w = add_wake(m, key, 0);

	if (!w)
		return -1;
	/* What the last collection read here is in count: the folded part is what counts. */
	w->fin = (w->final ? w->fin : 0) + count;
	w->count = w->fin;
	w->final = true;
	return 0;
}

static struct bt_stackrow *stackrow_of(struct bt_model *m, const struct bt_key *key)
{
	struct bt_stackrow k = { .key = *key }, *r;
	bool fresh;

	r = upsert((void **)&m->stackrows, &m->nstackrows, &m->capstackrows, sizeof(*r),
		   &m->stackrow_idx, stackrow_hash(&k), stackrow_eq, key, &fresh);
	if (r && fresh)
		r->key = *key;
	return r;
}

int bt_model_add_stackrow(struct bt_model *m, const struct bt_key *key, const struct bt_stats *st)
{
	struct bt_stackrow *r = stackrow_of(m, key);

	if (!r)
		return -1;
	r->calls += st->calls;
	r->bytes += st->bytes;
	r->errors += st->errors;
	r->blocked_ns += st->blocked_ns;
	return 0;
}

int bt_model_fold_stackrow(struct bt_model *m, const struct bt_key *key,
			   const struct bt_stats *st)
{
	struct bt_stackrow *r = stackrow_of(m, key);

	if (!r)
		return -1;
	/* What the last collection read here is dropped: the folded part is what counts. */
	if (!r->final)
		memset(&r->fin, 0, sizeof(r->fin));
	r->fin.calls += st->calls;
	r->fin.bytes += st->bytes;
	r->fin.errors += st->errors;
	r->fin.blocked_ns += st->blocked_ns;
	r->final = true;
	stackrow_to_fin(r);
	return 0;
}

static struct bt_wakestack *wakestack_of(struct bt_model *m, const struct bt_wakestack_key *key)
{
	struct bt_wakestack *w;
	bool fresh;

	w = upsert((void **)&m->wakestacks, &m->nwakestacks, &m->capwakestacks, sizeof(*w),
		   &m->wakestack_idx, wakestack_hash(key), wakestack_eq, key, &fresh);
	if (w && fresh)
		w->key = *key;
	return w;
}

int bt_model_add_wakestack(struct bt_model *m, const struct bt_wakestack_key *key,
			   const struct bt_wakestack_val *val)
{
	struct bt_wakestack *w = wakestack_of(m, key);

	if (!w)
		return -1;
	w->val.count += val->count;
	w->val.blocked_ns += val->blocked_ns;
	return 0;
}

int bt_model_fold_wakestack(struct bt_model *m, const struct bt_wakestack_key *key,
			    const struct bt_wakestack_val *val)
{
	struct bt_wakestack *w = wakestack_of(m, key);

	if (!w)
		return -1;
	if (!w->final)
		memset(&w->fin, 0, sizeof(w->fin));
	w->fin.count += val->count;
	w->fin.blocked_ns += val->blocked_ns;
	w->final = true;
	w->val = w->fin;
	return 0;
}

void bt_model_drop_wakes(struct bt_model *m, uint32_t waker)
{
	refill_wakes(m, waker);
}

void bt_model_drop_stackrows(struct bt_model *m, uint32_t tgid)
{
	refill_stackrows(m, tgid);
}

const char *bt_model_stack(const struct bt_model *m, uint32_t pid, int32_t id, uint64_t caller)
{
	struct bt_stack k = { .pid = pid, .id = id, .caller = caller };
	uint32_t e = bt_hmap_get(&m->stack_idx, stack_hash(&k), stack_eq, m->stacks, &k);

	return e == BT_HMAP_NONE ? NULL : m->stacks[e].folded;
}

int bt_model_add_stack(struct bt_model *m, uint32_t pid, int32_t id, uint64_t caller,
		       const char *folded)
{
	struct bt_stack k = { .pid = pid, .id = id, .caller = caller }, *s;
	char *copy = strdup(folded);
	bool fresh;

	if (!copy)
		return -1;
	s = upsert((void **)&m->stacks, &m->nstacks, &m->capstacks, sizeof(*s), &m->stack_idx,
		   stack_hash(&k), stack_eq, &k, &fresh);
	/* A stack seen again keeps its first string. */
	if (!s || !fresh) {
		free(copy);
		return s ? 0 : -1;
	}
	*s = k;
	s->folded = copy;
	return 0;
}

int bt_model_add_episode(struct bt_model *m, const struct bt_episode_ev *e)
{
	if (m->nepisodes >= BT_EPISODES_MAX) {
		m->episodes_over++;
		return -1;
	}
	/* Not zeroed: a burst's doubled room holds only what the burst wrote. */
	if (!bt_grow_raw((void **)&m->episodes, &m->capepisodes, m->nepisodes + 1, sizeof(*e)))
		return -1;
	m->episodes[m->nepisodes++] = *e;
	return 0;
}

void bt_model_drop_first(struct bt_model *m, size_t ne, size_t nx)
{
	m->episodes_folded += ne;
	m->nepisodes -= ne;
	if (ne && m->nepisodes)
		memmove(m->episodes, m->episodes + ne, m->nepisodes * sizeof(*m->episodes));
	m->nexchanges -= nx;
	if (nx && m->nexchanges)
		memmove(m->exchanges, m->exchanges + nx, m->nexchanges * sizeof(*m->exchanges));
}

void bt_model_drop_records(struct bt_model *m)
{
	size_t ne = m->keep_records && m->episodes_written < m->nepisodes ?
		    m->episodes_written : m->nepisodes;
	size_t nx = m->keep_records && m->exchanges_written < m->nexchanges ?
		    m->exchanges_written : m->nexchanges;

	bt_model_drop_first(m, ne, nx);
	m->episodes_written = m->exchanges_written = 0;
	m->exchanges_named = 0;
	m->collected = false;
}

int bt_model_add_exchange(struct bt_model *m, const struct bt_exchange_ev *e)
{
	if (m->nexchanges >= BT_EPISODES_MAX) {
		m->exchanges_over++;
		return -1;
	}
	if (!bt_grow_raw((void **)&m->exchanges, &m->capexchanges, m->nexchanges + 1, sizeof(*e)))
		return -1;
	m->exchanges[m->nexchanges++] = *e;
	return 0;
}

int bt_model_set_onehop(struct bt_model *m, const struct bt_onehop_key *k,
			const struct bt_onehop_val *v)
{
	struct bt_onehop_row *o;
	bool fresh;

	o = upsert((void **)&m->onehops, &m->nonehops, &m->caponehops, sizeof(*o),
		   &m->onehop_idx, onehop_hash(k), onehop_eq, k, &fresh);
	if (!o)
		return -1;
	*o = (struct bt_onehop_row){ *k, *v };
	return 0;
}

int bt_model_add_holder(struct bt_model *m, const struct bt_holder *h)
{
	struct bt_holder *o;
	bool fresh;

	o = upsert((void **)&m->holders, &m->nholders, &m->capholders, sizeof(*o),
		   &m->holder_idx, holder_hash(h), holder_eq, h, &fresh);
	if (!o)
		return -1;
	if (fresh)
		*o = *h;
	o->mode |= h->mode;
	return 0;
}

int bt_model_add_sockfact(struct bt_model *m, const struct bt_sockfact *s)
{
	struct bt_sockfact *o;
	bool fresh;

	o = upsert((void **)&m->socks, &m->nsocks, &m->capsocks, sizeof(*o), &m->sock_idx,
		   sock_hash(s->ino), sock_eq, &s->ino, &fresh);
	if (!o)
		return -1;
	*o = *s;	/* newest facts win */
	return 0;
}

int bt_model_add_futex_link(struct bt_model *m, const struct bt_futex_link *l)
{
	struct bt_futex_link *o;
	bool fresh;

	o = upsert((void **)&m->futexlinks, &m->nfutexlinks, &m->capfutexlinks, sizeof(*o),
		   &m->futexlink_idx, futexlink_hash(l), futexlink_eq, &l->key, &fresh);
	if (!o)
		return -1;
	o->key = l->key;
	o->count = l->count;	/* the kernel's value is the link's, not an increment */
	return 0;
}

void bt_stats_add(struct bt_stats *a, const struct bt_stats *b)
{
	a->calls += b->calls;
	a->bytes += b->bytes;
	a->errors += b->errors;
	a->woken += b->woken;
	a->blocked_ns += b->blocked_ns;
	if (b->max_blocked_ns > a->max_blocked_ns)
		a->max_blocked_ns = b->max_blocked_ns;
	for (int i = 0; i < BT_HIST_SLOTS; i++) {
		a->size_hist[i] += b->size_hist[i];
		a->blocked_hist[i] += b->blocked_hist[i];
		a->exch_hist[i] += b->exch_hist[i];
	}
	if (b->role)
		a->role = b->role;
	a->exchanges += b->exchanges;
	a->exch_ns += b->exch_ns;
	if (b->max_exch_ns > a->max_exch_ns)
		a->max_exch_ns = b->max_exch_ns;
}

const struct bt_row *bt_proc_find_row(const struct bt_proc *p, const struct bt_key *key)
{
	uint32_t e = bt_hmap_get(&p->row_idx, row_hash(key), row_eq, p->rows, key);

	return e == BT_HMAP_NONE ? NULL : &p->rows[e];
}

int bt_row_set_channel(struct bt_row *r, const char *name)
{
	char *c = strndup(name, BT_CHANNEL_LEN - 1);

	if (!c)
		return -1;
	free(r->channel);
	r->channel = c;
	return 0;
}

/*
 * The row's channel facts (none: info NULL) and its channel's name made
 * from them; nothing changes if the name cannot be kept. 0, or -1.
 */
static int row_set_info(struct bt_row *r, const struct bt_chan_info *info)
{
	char channel[BT_CHANNEL_LEN];

	bt_channel_format(&r->key, info, channel, sizeof(channel));
	if (bt_row_set_channel(r, channel))
		return -1;
	if (info) {
		r->info = *info;
		r->has_info = true;
	}
	return 0;
}

struct bt_row *bt_proc_add_row(struct bt_proc *p, const struct bt_key *key,
			       const struct bt_stats *st, const struct bt_chan_info *info)
{
	struct bt_row *r;
	bool fresh;

	r = upsert((void **)&p->rows, &p->nrows, &p->cap, sizeof(*r), &p->row_idx,
		   row_hash(key), row_eq, key, &fresh);
	if (!r)
		return NULL;
	if (!fresh) {
		/* A final row counted again: what it had is kept for the next clear. */
		if (r->final && !r->fin) {
			r->fin = malloc(sizeof(*r->fin));
			if (!r->fin)
				return NULL;
			r->fin->st = r->st;
			r->fin->lost_calls = r->lost_calls;
		}
		bt_stats_add(&r->st, st);
		return r;
	}
	r->key = *key;
	r->st = *st;
	if (row_set_info(r, info)) {
		/* Not kept half made: the row just appended goes again. */
		bt_hmap_del(&p->row_idx, row_hash(key), (uint32_t)(p->nrows - 1));
		p->nrows--;
		return NULL;
	}
	return r;
}

struct bt_row *bt_model_add(struct bt_model *m, const struct bt_key *key,
			    const struct bt_stats *st, const struct bt_chan_info *info)
{
	struct bt_proc *p = bt_model_proc(m, key->tgid);

	return p ? bt_proc_add_row(p, key, st, info) : NULL;
}

/*
 * The channel facts a fold read replace those a collection read while
 * the channel was open: the far end may have been named since (a worker
 * that accepted after the first crossing, accepted_by), and the fold's
 * read is the row's last. The census's word (conn) is userspace's own
 * and stays. 0, or -1 out of memory.
 */
static int row_refresh_info(struct bt_row *r, const struct bt_chan_info *info)
{
	struct bt_chan_info fresh = *info;

	if (r->has_info)
		fresh.conn = r->info.conn;
	if (r->has_info && !memcmp(&r->info, &fresh, sizeof(fresh)))
		return 0;
	return row_set_info(r, &fresh);
}

struct bt_row *bt_model_fold_row(struct bt_model *m, const struct bt_key *key,
				 const struct bt_stats *st, const struct bt_chan_info *info)
{
	static const struct bt_stats zero;
	struct bt_row *r = bt_model_add(m, key, &zero, info);

	if (!r)
		return NULL;
	/* Read by a collection before: not yet final, its facts as they were then. */
	if (!r->final && info && row_refresh_info(r, info))
		return NULL;
	/*
	 * What the last collection read from the kernel is in r->st: the
	 * folded part (r->fin when the row was counted again since) is the
	 * base, and the kernel's row being taken adds to it.
	 */
	if (!r->final) {
		memset(&r->st, 0, sizeof(r->st));
		r->lost_calls = 0;
	} else if (r->fin) {
		r->st = r->fin->st;
		r->lost_calls = r->fin->lost_calls;
		free(r->fin);
		r->fin = NULL;
	}
	bt_stats_add(&r->st, st);
	r->final = true;
	return r;
}

void bt_proc_clear_rows(struct bt_proc *p)
{
	size_t keep = 0;

	for (size_t j = 0; j < p->nrows; j++) {
		struct bt_row *r = &p->rows[j];

		if (!r->final) {
			free(r->channel);
			continue;
		}
		if (r->fin) {
			r->st = r->fin->st;
			r->lost_calls = r->fin->lost_calls;
			free(r->fin);
			r->fin = NULL;
		}
		if (keep != j)
			p->rows[keep] = *r;
		keep++;
	}
	if (keep == p->nrows)
		return;		/* all final: nothing moved, the index holds */
	p->nrows = keep;
	reindex_rows(p);
}

static bool pid_wanted(uint32_t pid, const uint32_t *pids, int npids)
{
	if (!npids)
		return true;
	for (int i = 0; i < npids; i++)
		if (pids[i] == pid)
			return true;
	return false;
}

void bt_model_filter(struct bt_model *m, const uint32_t *pids, int npids, unsigned int kind)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		struct bt_proc *p = &m->procs[i];
		size_t keep = 0;

		for (size_t j = 0; j < p->nrows; j++) {
			if (!pid_wanted(p->pid, pids, npids) ||
			    (kind != BT_KIND_NONE && p->rows[j].key.kind != kind)) {
				row_free(&p->rows[j]);
				continue;
			}
			p->rows[keep++] = p->rows[j];
		}
		p->nrows = keep;
		reindex_rows(p);
	}
	for (size_t i = 0; i < m->nstackrows;) {
		const struct bt_key *k = &m->stackrows[i].key;

		if (!pid_wanted(k->tgid, pids, npids) || (kind != BT_KIND_NONE && k->kind != kind))
			remove_at(m->stackrows, &m->nstackrows, sizeof(*m->stackrows), i,
				  &m->stackrow_idx, stackrow_hash);
		else
			i++;
	}
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

static int cmp_proc(const void *pa, const void *pb)
{
	const struct bt_proc *a = pa, *b = pb;
	int c = cmp_u64(a->pid, b->pid);

	return c ? c : cmp_u64(a->start_ns, b->start_ns);
}

static int cmp_row(const void *pa, const void *pb)
{
	const struct bt_row *a = pa, *b = pb;
	int c = cmp_u64(a->key.kind, b->key.kind);

	if (!c)
		c = strcmp(a->channel, b->channel);
	if (!c)
		c = cmp_u64(a->key.dir, b->key.dir);
	return c;
}

void bt_model_sort(struct bt_model *m)
{
	/* qsort(NULL, 0, ...) is undefined: a model or process without rows has NULL. */
	if (m->nprocs)
		qsort(m->procs, m->nprocs, sizeof(*m->procs), cmp_proc);
	reindex_procs(m);
	for (size_t i = 0; i < m->nprocs; i++) {
		if (m->procs[i].nrows)
			qsort(m->procs[i].rows, m->procs[i].nrows, sizeof(struct bt_row), cmp_row);
		reindex_rows(&m->procs[i]);
	}
}
