// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON export; every field is documented in docs/SCHEMA.md. */
#include "model/hist.h"
#include "lib/json.h"
#include "model/kinds.h"
#include "analyze/peers.h"
#include "export/report.h"
#include "export/report_chains.h"
#include "export/report_hist.h"
#include "export/report_hosts.h"

static void write_peer(struct jw *w, const struct bt_peer *p)
{
	jw_obj_begin(w);
	if (p->pid) {
		jw_ku64(w, "pid", p->pid);
		jw_kstr(w, "comm", p->proc && p->proc->comm[0] ? p->proc->comm : "?");
	} else {
		jw_kstr(w, "addr", p->addr);
	}
	jw_obj_end(w);
}

static void write_percentiles(struct jw *w, const __u64 hist[BT_HIST_SLOTS], uint64_t max)
{
	jw_ku64(w, "p50_ns", bt_hist_percentile_max(hist, 0.50, max));
	jw_ku64(w, "p90_ns", bt_hist_percentile_max(hist, 0.90, max));
	jw_ku64(w, "p99_ns", bt_hist_percentile_max(hist, 0.99, max));
}

/* "exchanges": {count, total_ns, max_ns, p50/p90/p99 from the log2 buckets}. */
static void write_exchanges(struct jw *w, uint64_t n, uint64_t total_ns, uint64_t max_ns,
			    const __u64 *hist)
{
	jw_key(w, "exchanges");
	jw_obj_begin(w);
	jw_ku64(w, "count", n);
	jw_ku64(w, "total_ns", total_ns);
	jw_ku64(w, "max_ns", max_ns);
	write_percentiles(w, hist, max_ns);
	jw_obj_end(w);
}

static void write_row(struct jw *w, const struct bt_model *m, const struct bt_views *v,
		      const struct bt_proc *p, const struct bt_row *r)
{
	struct bt_row_peers peers = bt_views_peers(v, m, p, r);
	size_t npeers = peers.n;

	jw_obj_begin(w);
	jw_kstr(w, "kind", bt_kind_name(r->key.kind));
	jw_kstr(w, "channel", r->channel);
	jw_kstr(w, "direction", bt_dir_name(r->key.dir));
	jw_ku64(w, "calls", r->st.calls);
	jw_ku64(w, "bytes", r->st.bytes);
	jw_ku64(w, "errors", r->st.errors);
	/* Not measured is absent, not 0 (--sockets-only). */
	if (!m->sockets_only) {
		jw_ku64(w, "blocked_ns", r->st.blocked_ns);
		jw_ku64(w, "max_blocked_ns", r->st.max_blocked_ns);
		write_percentiles(w, r->st.blocked_hist, r->st.max_blocked_ns);
		bt_json_hist(w, "blocked_hist", r->st.blocked_hist);
	}
	if (bt_kind_has_bytes(r->key.kind))
		bt_json_hist(w, "size_hist", r->st.size_hist);
	if (r->key.kind == BT_KIND_FUTEX && r->key.dir == BT_DIR_WAKE)
		jw_ku64(w, "woken", r->st.woken);
	if (r->st.role)
		jw_kstr(w, "role", bt_role_name(r->st.role));
	if (r->st.exchanges)
		write_exchanges(w, r->st.exchanges, r->st.exch_ns, r->st.max_exch_ns,
				r->st.exch_hist);
	if (r->has_info && r->info.path[0])
		jw_kstr(w, "path", r->info.path);
	/* Only on a row the kernel could not count in full (its map was full). */
	if (r->lost_calls) {
		jw_kbool(w, "partial", true);
		jw_ku64(w, "lost_calls", r->lost_calls);
	}
	if (npeers) {
		jw_key(w, "peer");
		write_peer(w, &peers.v[0]);
	}
	if (npeers > 1) {
		jw_key(w, "peers");
		jw_arr_begin(w);
		for (size_t i = 0; i < npeers; i++)
			write_peer(w, &peers.v[i]);
		jw_arr_end(w);
	}
	jw_obj_end(w);
}

static void write_proc(struct jw *w, const struct bt_model *m, const struct bt_views *v,
		       const struct bt_proc *p)
{
	jw_obj_begin(w);
	jw_ku64(w, "pid", p->pid);
	jw_kstr(w, "comm", p->comm[0] ? p->comm : "?");
	if (p->exe[0])
		jw_kstr(w, "exe", p->exe);
	jw_ku64(w, "start_ns", p->start_ns);
	if (p->ppid)
		jw_ku64(w, "ppid", p->ppid);
	jw_kstr(w, "role", bt_proc_role(p));
	jw_kbool(w, "traced", p->target);
	if (p->untimed && !m->sockets_only)
		jw_kbool(w, "blocked_partial", true);
	if (m->group_exe)
		jw_ku64(w, "node", bt_node_of(m, p->pid));
	jw_kbool(w, "exited", p->exited);
	jw_key(w, "boundaries");
	jw_arr_begin(w);
	for (size_t i = 0; i < p->nrows; i++)
		write_row(w, m, v, p, &p->rows[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

/* A node's pids (one, or a pool's with --group exe). */
static void write_pids(struct jw *w, const struct bt_model *m, const char *key, uint32_t node)
{
	uint32_t pids[256];
	size_t n = bt_node_members(m, node, pids, 256);

	jw_key(w, key);
	jw_arr_begin(w);
	for (size_t i = 0; i < n && i < 256; i++)
		jw_u64(w, pids[i]);
	jw_arr_end(w);
}

static void write_conn(struct jw *w, const struct bt_svc_conn *c)
{
	jw_obj_begin(w);
	jw_ku64(w, "from", c->from);
	jw_kstr(w, "channel", c->channel);
	jw_ku64(w, "calls", c->calls);
	jw_ku64(w, "bytes", c->bytes);
	if (c->recv_known)
		jw_ku64(w, "received_bytes", c->recv_bytes);
	if (c->conn & (BT_CONN_NEW | BT_CONN_OLD))
		jw_kbool(w, "opened", c->conn & BT_CONN_NEW);
	if (c->conn & (BT_CONN_ALIVE | BT_CONN_GONE))
		jw_kbool(w, "alive", c->conn & BT_CONN_ALIVE);
	jw_obj_end(w);
}

static void write_edge(struct jw *w, const struct bt_model *m, const struct bt_edge *e)
{
	jw_obj_begin(w);
	jw_ku64(w, "from", e->from);
	jw_ku64(w, "to", e->to);
	if (m->group_exe) {
		write_pids(w, m, "from_pids", e->from);
		write_pids(w, m, "to_pids", e->to);
	}
	jw_kstr(w, "kind", bt_kind_name(e->kind));
	jw_kstr(w, "service", e->service);
	jw_kstr(w, "channel", e->service);
	jw_ku64(w, "connections_seen", e->nconns);
	if (e->opened_known)
		jw_ku64(w, "connections_opened", e->opened);
	if (e->ended_known) {
		jw_ku64(w, "connections_closed", e->closed);
		jw_ku64(w, "connections_alive", e->alive);
	}
	jw_ku64(w, "calls", e->calls);
	jw_ku64(w, "bytes", e->bytes);
	jw_ku64(w, "unseen_bytes", e->unseen_bytes);
	if (!m->sockets_only) {
		jw_ku64(w, "wakeups", e->wakeups);
		jw_ku64(w, "blocked_ns", e->blocked_ns);
		write_percentiles(w, e->blocked_hist, e->max_blocked_ns);
		bt_json_hist(w, "blocked_hist", e->blocked_hist);
	}
	if (bt_kind_has_bytes(e->kind))
		bt_json_hist(w, "size_hist", e->size_hist);
	if (e->role)
		jw_kstr(w, "role", bt_role_name(e->role));
	if (e->exchanges)
		write_exchanges(w, e->exchanges, e->exch_ns, e->max_exch_ns, e->exch_hist);
	jw_key(w, "connections");
	jw_arr_begin(w);
	for (size_t i = 0; i < e->nconns; i++)
		write_conn(w, &e->conns[i]);
	jw_arr_end(w);
	jw_obj_end(w);
}

int bt_report_json(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	struct jw w;

	jw_init(&w, f);
	jw_obj_begin(&w);
	jw_ku64(&w, "version", 2);
	jw_ku64(&w, "duration_ns", m->duration_ns);
	if (m->sockets_only)
		jw_kbool(&w, "sockets_only", true);
	jw_key(&w, "processes");
	jw_arr_begin(&w);
	for (size_t i = 0; i < m->nprocs; i++)
		if (bt_proc_listed(m, &v->edges, &m->procs[i]))
			write_proc(&w, m, v, &m->procs[i]);
	jw_arr_end(&w);
	jw_key(&w, "edges");
	jw_arr_begin(&w);
	for (size_t i = 0; i < v->edges.n; i++)
		write_edge(&w, m, &v->edges.v[i]);
	jw_arr_end(&w);
	if (m->chain_mode) {
		jw_ku64(&w, "episodes", m->nepisodes + m->episodes_folded);
		bt_json_chains(&w, v->chains);
		bt_json_waits(&w, v->chains);
		jw_ku64(&w, "exchanges_late", v->chains ? v->chains->xcounts.late : 0);
		jw_ku64(&w, "exchanges_horizon_ns", v->chains ? v->chains->horizon_ns : 0);
		jw_ku64(&w, "exchanges_ambiguous", v->chains ? v->chains->xcounts.ambiguous : 0);
		jw_ku64(&w, "exchanges_roots", v->chains ? v->chains->xcounts.roots : 0);
		jw_ku64(&w, "exchanges_paired", v->chains ? v->chains->xcounts.paired : 0);
		jw_ku64(&w, "episodes_late", v->chains ? v->chains->counts.late : 0);
		jw_ku64(&w, "episodes_horizon_ns", v->chains ? v->chains->episodes_horizon_ns : 0);
	}
	bt_json_hosts(&w, m);
	if (m->self.measured) {
		jw_key(&w, "tracer");
		jw_obj_begin(&w);
		jw_ku64(&w, "cpu_ns", m->self.cpu_ns);
		jw_ku64(&w, "load_cpu_ns", m->self.load_cpu_ns);
		jw_ku64(&w, "max_rss_kib", m->self.max_rss_kib);
		jw_key(&w, "records");
		jw_obj_begin(&w);
		for (unsigned int k = 0; k < BT_SELF_RECORDS_MAX; k++)
			jw_ku64(&w, bt_self_record_name(k), m->self.records[k]);
		jw_obj_end(&w);
		jw_ku64(&w, "record_bytes", m->self.record_bytes);
		jw_kbool(&w, "bpf_stats", m->self.bpf_stats);
		jw_ku64(&w, "bpf_ns", m->self.bpf_ns);
		jw_ku64(&w, "bpf_runs", m->self.bpf_runs);
		jw_ku64(&w, "chain_cpu_ns", m->self.chain_cpu_ns);
		jw_ku64(&w, "exchanges_counted", m->self.exchanges_counted);
		jw_ku64(&w, "exchanges_paired", m->self.exchanges_paired);
		jw_obj_end(&w);
	}
	jw_key(&w, "lost");
	jw_obj_begin(&w);
	for (unsigned int l = 0; l < BT_LOSS_MAX; l++)
		jw_ku64(&w, bt_loss_name(l), m->lost[l]);
	jw_ku64(&w, "unseen_bytes", v->edges.unseen_bytes);
	jw_obj_end(&w);
	jw_obj_end(&w);
	fputc('\n', f);
	return ferror(f) ? -1 : 0;
}
