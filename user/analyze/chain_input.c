// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The chain analysis' input from the model: each episode as the kernel
 * sent it, its channel named as its row prints it, and the waker
 * inferred for a receive woken from softirq. analyze/chains.c does the
 * rest; this is the only place that knows both.
 */
#include <stdlib.h>
#include <string.h>
#include "analyze/chain_input.h"
#include "analyze/peers.h"
#include "model/channel.h"

_Static_assert(sizeof(((struct bt_chain_end *)0)->comm) == BT_PROC_NAME_LEN,
	       "a chain end names a process as the model does");

static const char *comm_of(uint32_t pid, void *ctx)
{
	const struct bt_proc *p = bt_model_find(ctx, pid);

	return p ? p->comm : NULL;
}

/* The row an episode was counted in (it holds the channel facts), or NULL. */
static const struct bt_row *episode_row(const struct bt_model *m, const struct bt_proc *p,
					const struct bt_episode_ev *e)
{
	for (size_t i = 0; p && i < p->nrows; i++) {
		const struct bt_key *k = &p->rows[i].key;

		if (k->kind == e->kind && k->chan == e->chan && k->peer == e->peer &&
		    k->dir == e->dir)
			return &p->rows[i];
	}
	(void)m;
	return NULL;
}

/* The channel's name as its row prints it; longer names are cut (display only). */
static void episode_channel(const struct bt_row *r, const struct bt_episode_ev *e,
			    char *buf, size_t len)
{
	struct bt_key key = { .tgid = e->pid, .kind = e->kind, .dir = e->dir,
			      .chan = e->chan, .peer = e->peer };
	size_t n;

	if (!r) {
		bt_channel_format(&key, NULL, buf, len);
		return;
	}
	n = strnlen(r->channel, len - 1);
	memcpy(buf, r->channel, n);
	buf[n] = 0;
}

/* The only thread a process was seen blocking in, or 0 if several (or none). */
static uint32_t single_thread(const struct bt_model *m, uint32_t pid)
{
	uint32_t tid = 0;

	for (size_t i = 0; i < m->nepisodes; i++) {
		if (m->episodes[i].pid != pid)
			continue;
		if (tid && m->episodes[i].tid != tid)
			return 0;
		tid = m->episodes[i].tid;
	}
	return tid ? tid : pid;
}

/*
 * A receive that blocked but whose wakeup came from softirq or an idle
 * CPU (loopback TCP under load) has no waker of its own. Its data came
 * from the far end of the channel: when that is one traced,
 * single-threaded process, it is the waker.
 */
static void infer_waker(const struct bt_model *m, const struct bt_proc *p,
			const struct bt_row *r, struct bt_episode *ep)
{
	struct bt_peer peers[BT_PEERS_MAX];
	const struct bt_proc *q;
	size_t n;

	if (!r || !p || r->key.dir != BT_DIR_RECV)
		return;
	q = ep->waker_pid ? bt_model_find((struct bt_model *)m, ep->waker_pid) : NULL;
	if (q && q->target)
		return;	/* a traced process woke it: that is the answer */
	n = bt_row_peers(m, p, r, peers, BT_PEERS_MAX);
	if (n != 1 || !peers[0].proc || !peers[0].proc->target || peers[0].pid == p->pid)
		return;
	ep->waker_pid = peers[0].pid;
	ep->waker_tid = single_thread(m, peers[0].pid);
	if (!ep->waker_tid)
		ep->waker_pid = 0;
}

struct bt_chains *bt_model_chains(const struct bt_model *m)
{
	struct bt_chain_opts opts = {
		.duration_ns = m->duration_ns,
		.nested_roots = true,
		.comm = comm_of,
		.ctx = (void *)m,
	};
	struct bt_episode *eps = calloc(m->nepisodes ? m->nepisodes : 1, sizeof(*eps));
	struct bt_chains *c;

	if (!eps)
		return NULL;
	for (size_t i = 0; i < m->nepisodes; i++) {
		const struct bt_episode_ev *e = &m->episodes[i];
		const struct bt_proc *p = bt_model_find((struct bt_model *)m, e->pid);
		const struct bt_row *row = episode_row(m, p, e);

		eps[i].pid = e->pid;
		eps[i].tid = e->tid;
		eps[i].kind = e->kind;
		eps[i].dir = e->dir;
		eps[i].waker_pid = e->waker_pid;
		eps[i].waker_tid = e->waker_tid;
		eps[i].chan = e->chan;
		eps[i].start_ns = e->start_ns;
		eps[i].end_ns = e->end_ns;
		eps[i].wake_ns = e->wake_ns;
		episode_channel(row, e, eps[i].channel, sizeof(eps[i].channel));
		infer_waker(m, p, row, &eps[i]);
	}
	c = bt_chains_analyze(eps, m->nepisodes, &opts);
	free(eps);
	return c;
}
