// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `-f chains`: for each chain, the hops (who waits on whom, through which
 * channel), how often per root wait, and where the root's blocked time
 * went. The numbers come from user/chains.c; this file only prints them.
 */
#include <stdlib.h>
#include <string.h>
#include "model/channel.h"
#include "model/kinds.h"
#include "analyze/peers.h"
#include "export/report.h"
#include "export/report_chains.h"
#include "lib/units.h"

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

static void json_end(struct jw *w, const char *key, const struct bt_chain_end *e)
{
	jw_key(w, key);
	jw_obj_begin(w);
	jw_ku64(w, "pid", e->pid);
	jw_kstr(w, "comm", e->comm[0] ? e->comm : "?");
	jw_obj_end(w);
}

void bt_json_chains(struct jw *w, const struct bt_chains *c)
{
	jw_key(w, "chains");
	jw_arr_begin(w);
	for (size_t i = 0; c && i < c->nchains; i++) {
		const struct bt_chain *ch = &c->chains[i];

		jw_obj_begin(w);
		jw_key(w, "hops");
		jw_arr_begin(w);
		for (unsigned int h = 0; h < ch->nhops; h++) {
			const struct bt_chain_hop *hp = &ch->hops[h];

			jw_obj_begin(w);
			json_end(w, "from", &hp->from);
			json_end(w, "to", &hp->to);
			jw_kstr(w, "kind", bt_kind_name(hp->kind));
			jw_kstr(w, "channel", hp->channel);
			jw_ku64(w, "calls", hp->calls);
			jw_kdouble(w, "calls_per_episode", hp->calls_per_episode);
			jw_ku64(w, "calls_min", hp->calls_min);
			jw_ku64(w, "calls_p50", hp->calls_p50);
			jw_ku64(w, "calls_max", hp->calls_max);
			jw_ku64(w, "blocked_ns", hp->blocked_ns);
			jw_ku64(w, "p50_ns", hp->p50_ns);
			jw_ku64(w, "self_ns", hp->self_ns);
			jw_ku64(w, "wait_ns", hp->wait_ns);
			jw_ku64(w, "other_ns", hp->other_ns);
			jw_ku64(w, "queue_ns", hp->queue_ns);
			jw_ku64(w, "fanout_calls", hp->fanout_calls);
			jw_ku64(w, "fanout_save_ns", hp->fanout_save_ns);
			jw_obj_end(w);
		}
		jw_arr_end(w);
		jw_ku64(w, "episodes", ch->episodes);
		jw_ku64(w, "blocked_ns", ch->blocked_ns);
		jw_kdouble(w, "share", ch->share);
		jw_kbool(w, "cycle", ch->cycle);
		jw_kbool(w, "cut", ch->cut);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

int bt_report_chains(FILE *f, const struct bt_model *m)
{
	struct bt_chains *c;
	char line[2048], dur[32];

	if (!m->chain_mode) {
		fprintf(f, "no chains: episodes were not recorded (run with --chains)\n");
		return ferror(f) ? -1 : 0;
	}
	c = bt_model_chains(m);
	if (!c)
		return -1;
	fmt_ns(m->duration_ns, dur, sizeof(dur));
	fprintf(f, "boundtrace: %zu blocking episodes in %s; %zu synchronous chain%s\n",
		m->nepisodes, dur, c->nchains, c->nchains == 1 ? "" : "s");
	for (size_t i = 0; i < c->nchains; i++) {
		bt_chains_format_line(&c->chains[i], line, sizeof(line));
		fprintf(f, "\n%s\n", line);
	}
	if (!c->nchains)
		fprintf(f, "\nno thread waited on another that was itself waiting: "
			   "no hidden synchronous chain\n");
	if (c->counts.no_waker || c->counts.truncated)
		fprintf(f, "\n(%llu episodes with no known waker, %llu cut by the trace's edges)\n",
			(unsigned long long)c->counts.no_waker,
			(unsigned long long)c->counts.truncated);
	if (m->lost[BT_LOSS_EPISODES])
		fprintf(f, "lost episodes: %llu\n", (unsigned long long)m->lost[BT_LOSS_EPISODES]);
	bt_chains_free(c);
	return ferror(f) ? -1 : 0;
}
