// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * `-f chains`: for each chain, the hops (who waits on whom, through which
 * channel), how often per root wait, and where the root's blocked time
 * went. The numbers come from analyze/chains.c; this file only prints them.
 */
#include "model/kinds.h"
#include "export/report.h"
#include "export/report_chains.h"
#include "lib/escape.h"
#include "lib/units.h"

static void json_end(struct jw *w, const char *key, const struct bt_chain_end *e)
{
	jw_key(w, key);
	jw_obj_begin(w);
	jw_ku64(w, "pid", e->pid);
	jw_kstr(w, "comm", e->comm[0] ? e->comm : "?");
	/* A pool, or the one member of it seen when that is not its lowest pid. */
	if (e->procs > 1 || (e->procs == 1 && e->pids[0] != e->pid)) {
		jw_ku64(w, "processes", e->procs);
		jw_key(w, "pids");
		jw_arr_begin(w);
		for (uint32_t i = 0; i < e->procs && i < BT_CHAIN_PIDS; i++)
			jw_u64(w, e->pids[i]);
		jw_arr_end(w);
	}
	if (e->threads)
		jw_ku64(w, "threads", e->threads);
	if (e->threads == 1) {
		jw_ku64(w, "tid", e->tid);
		jw_kstr(w, "thread", e->thread);
	}
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
			if (ch->exchanges)
				jw_ku64(w, "ambiguous", hp->ambiguous);
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
		if (ch->exchanges) {
			jw_kstr(w, "source", "exchanges");
			jw_ku64(w, "requests", ch->requests);
			jw_ku64(w, "latency_p50_ns", ch->p50_ns);
			jw_ku64(w, "latency_p99_ns", ch->p99_ns);
			if (ch->in_flight > 0)
				jw_kdouble(w, "in_flight", ch->in_flight);
		} else {
			jw_kstr(w, "source", "episodes");
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

void bt_json_waits(struct jw *w, const struct bt_chains *c)
{
	jw_key(w, "waits");
	jw_arr_begin(w);
	for (size_t i = 0; c && i < c->nwaits; i++) {
		const struct bt_proc_waits *pw = &c->waits[i];

		jw_obj_begin(w);
		jw_ku64(w, "pid", pw->pid);
		for (unsigned int k = 0; k < BT_WAIT_MAX; k++) {
			jw_key(w, bt_wait_name(k));
			jw_obj_begin(w);
			jw_ku64(w, "count", pw->n[k]);
			jw_ku64(w, "blocked_ns", pw->ns[k]);
			jw_obj_end(w);
		}
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* What the blocking episodes waited for, per process. */
static void write_waits(FILE *f, const struct bt_model *m, const struct bt_chains *c)
{
	char ns[32];

	if (c->nwaits)
		fprintf(f, "\nwaits (blocking episodes by what they waited for):\n");
	for (size_t i = 0; i < c->nwaits; i++) {
		const struct bt_proc_waits *pw = &c->waits[i];
		const struct bt_proc *p = bt_model_find((struct bt_model *)m, pw->pid);

		fputs("  ", f);
		if (p && p->comm[0])
			bt_fputs_escaped(f, p->comm);	/* another process's bytes */
		else
			fputs("?", f);
		fprintf(f, "[%u]:", pw->pid);
		for (unsigned int k = 0; k < BT_WAIT_MAX; k++) {
			if (!pw->n[k])
				continue;
			fmt_ns(pw->ns[k], ns, sizeof(ns));
			fprintf(f, " %s %llu (%s)", bt_wait_name(k), (unsigned long long)pw->n[k], ns);
		}
		fputc('\n', f);
	}
}

int bt_report_chains(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	const struct bt_chains *c = v->chains;
	char line[2048], dur[32];

	if (!m->chain_mode) {
		fprintf(f, "no chains: traced with --no-chains\n");
		return ferror(f) ? -1 : 0;
	}
	fmt_ns(m->duration_ns, dur, sizeof(dur));
	fprintf(f, "boundtrace: %llu blocking episodes in %s; %zu synchronous chain%s\n",
		(unsigned long long)(m->nepisodes + m->episodes_folded), dur, c->nchains,
		c->nchains == 1 ? "" : "s");
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
	write_waits(f, m, c);
	if (c->xcounts.exchanges)
		fprintf(f, "(%llu exchanges: %llu calls nested in a request, %llu roots, %llu nestings "
			   "the trace contradicted, %llu calls paired with their server's end)\n",
			(unsigned long long)c->xcounts.exchanges,
			(unsigned long long)c->xcounts.nested, (unsigned long long)c->xcounts.roots,
			(unsigned long long)c->xcounts.rejected,
			(unsigned long long)c->xcounts.paired);
	if (c->xcounts.ambiguous)
		fprintf(f, "(%llu calls nested among several requests open on their thread, none "
			   "contradicted: calls per request are the thread rule's guess)\n",
			(unsigned long long)c->xcounts.ambiguous);
	if (c->xcounts.late)
		fprintf(f, "(%llu exchanges longer than the chain window's horizon (%.0f ms at the "
			   "trace's highest rate), or later than it: their nesting may be partial)\n",
			(unsigned long long)c->xcounts.late, c->horizon_ns / 1e6);
	if (c->counts.late)
		fprintf(f, "(%llu episodes longer than the chain window's horizon (%.0f ms at the "
			   "trace's highest rate), or later than it: their nesting may be partial)\n",
			(unsigned long long)c->counts.late, c->episodes_horizon_ns / 1e6);
	if (m->lost[BT_LOSS_EPISODES])
		fprintf(f, "lost episodes: %llu\n", (unsigned long long)m->lost[BT_LOSS_EPISODES]);
	/* Calls the kernel could not count are crossings no chain can contain. */
	if (m->lost[BT_LOSS_CALLS])
		fprintf(f, "lost calls: %llu (map full)\n", (unsigned long long)m->lost[BT_LOSS_CALLS]);
	return ferror(f) ? -1 : 0;
}
