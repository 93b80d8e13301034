// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdlib.h>
#include <string.h>
#include "model/model.h"
#include "model/channel.h"

void bt_model_init(struct bt_model *m)
{
	memset(m, 0, sizeof(*m));
}

void bt_model_free(struct bt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		free(m->procs[i].rows);
	free(m->procs);
	free(m->wakes);
	free(m->episodes);
	free(m->stackrows);
	free(m->wakestacks);
	for (size_t i = 0; i < m->nstacks; i++)
		free(m->stacks[i].folded);
	free(m->stacks);
	free(m->holders);
	free(m->socks);
	free(m->futexlinks);
	memset(m, 0, sizeof(*m));
}

void bt_model_clear_rows(struct bt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (!m->procs[i].harvested)
			m->procs[i].nrows = 0;
	/* Wakes counted in harvested rows are final like the rows. */
	for (size_t i = 0; i < m->nwakes;) {
		const struct bt_proc *p = bt_model_find(m, m->wakes[i].key.waker);

		if (p && p->harvested)
			i++;
		else
			m->wakes[i] = m->wakes[--m->nwakes];
	}
	m->nwakestacks = 0;
	/* Harvested processes' stack rows are final like their rows: keep them. */
	for (size_t i = 0; i < m->nprocs; i++)
		if (!m->procs[i].harvested)
			bt_model_drop_stackrows(m, m->procs[i].pid);
}

struct bt_proc *bt_model_find(struct bt_model *m, uint32_t pid)
{
	/* Newest first: after pid reuse the live process is the last one. */
	for (size_t i = m->nprocs; i-- > 0;)
		if (m->procs[i].pid == pid)
			return &m->procs[i];
	return NULL;
}

struct bt_proc *bt_model_new_proc(struct bt_model *m, uint32_t pid)
{
	struct bt_proc *p;

	if (!bt_grow((void **)&m->procs, &m->cap, m->nprocs + 1, sizeof(*m->procs)))
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

int bt_model_add_wake(struct bt_model *m, const struct bt_wake_key *key, uint64_t count)
{
	for (size_t i = 0; i < m->nwakes; i++) {
		if (!memcmp(&m->wakes[i].key, key, sizeof(*key))) {
			m->wakes[i].count += count;
			return 0;
		}
	}
	if (!bt_grow((void **)&m->wakes, &m->capwakes, m->nwakes + 1, sizeof(*m->wakes)))
		return -1;
	m->wakes[m->nwakes].key = *key;
	m->wakes[m->nwakes++].count = count;
	return 0;
}

int bt_model_add_stackrow(struct bt_model *m, const struct bt_key *key, const struct bt_stats *st)
{
	struct bt_stackrow *r = NULL;

	for (size_t i = 0; i < m->nstackrows; i++)
		if (!memcmp(&m->stackrows[i].key, key, sizeof(*key)))
			r = &m->stackrows[i];
	if (!r) {
		if (!bt_grow((void **)&m->stackrows, &m->capstackrows, m->nstackrows + 1,
			     sizeof(*r)))
			return -1;
		r = &m->stackrows[m->nstackrows++];
		memset(r, 0, sizeof(*r));
		r->key = *key;
	}
	r->calls += st->calls;
	r->bytes += st->bytes;
	r->errors += st->errors;
	r->blocked_ns += st->blocked_ns;
	return 0;
}

int bt_model_add_wakestack(struct bt_model *m, const struct bt_wakestack_key *key,
			   const struct bt_wakestack_val *val)
{
	struct bt_wakestack *w;

	for (size_t i = 0; i < m->nwakestacks; i++) {
		w = &m->wakestacks[i];
		if (!memcmp(&w->key, key, sizeof(*key))) {
			w->val.count += val->count;
			w->val.blocked_ns += val->blocked_ns;
			return 0;
		}
	}
	if (!bt_grow((void **)&m->wakestacks, &m->capwakestacks, m->nwakestacks + 1,
		     sizeof(*w)))
		return -1;
	w = &m->wakestacks[m->nwakestacks++];
	w->key = *key;
	w->val = *val;
	return 0;
}

void bt_model_drop_wakes(struct bt_model *m, uint32_t waker)
{
	for (size_t i = 0; i < m->nwakes;) {
		if (m->wakes[i].key.waker == waker)
			m->wakes[i] = m->wakes[--m->nwakes];
		else
			i++;
	}
}

void bt_model_drop_stackrows(struct bt_model *m, uint32_t tgid)
{
	for (size_t i = 0; i < m->nstackrows;) {
		if (m->stackrows[i].key.tgid == tgid)
			m->stackrows[i] = m->stackrows[--m->nstackrows];
		else
			i++;
	}
}

const char *bt_model_stack(const struct bt_model *m, uint32_t pid, int32_t id, uint64_t caller)
{
	for (size_t i = 0; i < m->nstacks; i++)
		if (m->stacks[i].pid == pid && m->stacks[i].id == id &&
		    m->stacks[i].caller == caller)
			return m->stacks[i].folded;
	return NULL;
}

int bt_model_add_stack(struct bt_model *m, uint32_t pid, int32_t id, uint64_t caller,
		       const char *folded)
{
	char *copy;

	if (bt_model_stack(m, pid, id, caller))
		return 0;
	copy = strdup(folded);
	if (!copy || !bt_grow((void **)&m->stacks, &m->capstacks, m->nstacks + 1,
			      sizeof(*m->stacks))) {
		free(copy);
		return -1;
	}
	m->stacks[m->nstacks].pid = pid;
	m->stacks[m->nstacks].id = id;
	m->stacks[m->nstacks].caller = caller;
	m->stacks[m->nstacks++].folded = copy;
	return 0;
}

int bt_model_add_episode(struct bt_model *m, const struct bt_episode_ev *e)
{
	if (m->nepisodes >= BT_EPISODES_MAX) {
		m->episodes_over++;
		return -1;
	}
	if (!bt_grow((void **)&m->episodes, &m->capepisodes, m->nepisodes + 1, sizeof(*e)))
		return -1;
	m->episodes[m->nepisodes++] = *e;
	return 0;
}

int bt_model_add_holder(struct bt_model *m, const struct bt_holder *h)
{
	for (size_t i = 0; i < m->nholders; i++) {
		struct bt_holder *o = &m->holders[i];

		if (o->ino == h->ino && o->pid == h->pid && o->type == h->type) {
			o->mode |= h->mode;
			return 0;
		}
	}
	if (!bt_grow((void **)&m->holders, &m->capholders, m->nholders + 1, sizeof(*h)))
		return -1;
	m->holders[m->nholders++] = *h;
	return 0;
}

int bt_model_add_sockfact(struct bt_model *m, const struct bt_sockfact *s)
{
	for (size_t i = 0; i < m->nsocks; i++) {
		if (m->socks[i].ino == s->ino) {
			m->socks[i] = *s;	/* newest facts win */
			return 0;
		}
	}
	if (!bt_grow((void **)&m->socks, &m->capsocks, m->nsocks + 1, sizeof(*s)))
		return -1;
	m->socks[m->nsocks++] = *s;
	return 0;
}

int bt_model_add_futex_link(struct bt_model *m, const struct bt_futex_link *l)
{
	for (size_t i = 0; i < m->nfutexlinks; i++) {
		struct bt_futex_link *o = &m->futexlinks[i];

		if (!memcmp(&o->key, &l->key, sizeof(o->key))) {
			o->count = l->count;	/* the kernel's count is cumulative */
			return 0;
		}
	}
	if (!bt_grow((void **)&m->futexlinks, &m->capfutexlinks, m->nfutexlinks + 1,
		     sizeof(*l)))
		return -1;
	m->futexlinks[m->nfutexlinks++] = *l;
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
	}
}

static bool same_row(const struct bt_key *a, const struct bt_key *b)
{
	return a->kind == b->kind && a->dir == b->dir && a->chan == b->chan &&
	       a->peer == b->peer;
}

struct bt_row *bt_model_add(struct bt_model *m, const struct bt_key *key,
			    const struct bt_stats *st, const struct bt_chan_info *info)
{
	struct bt_proc *p = bt_model_proc(m, key->tgid);
	struct bt_row *r;

	if (!p)
		return NULL;
	for (size_t i = 0; i < p->nrows; i++) {
		if (same_row(&p->rows[i].key, key)) {
			bt_stats_add(&p->rows[i].st, st);
			return &p->rows[i];
		}
	}
	if (!bt_grow((void **)&p->rows, &p->cap, p->nrows + 1, sizeof(*p->rows)))
		return NULL;
	r = &p->rows[p->nrows++];
	memset(r, 0, sizeof(*r));
	r->key = *key;
	r->st = *st;
	if (info) {
		r->info = *info;
		r->has_info = true;
	}
	bt_channel_format(key, info, r->channel, sizeof(r->channel));
	return r;
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
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].nrows)
			qsort(m->procs[i].rows, m->procs[i].nrows, sizeof(struct bt_row), cmp_row);
}
