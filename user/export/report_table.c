// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The human table: one block per process, grouped by the process (or
 * address) at the other end, one line per channel and direction.
 */
#include <stdlib.h>
#include <string.h>
#include "model/hist.h"
#include "model/kinds.h"
#include "analyze/peers.h"
#include "lib/vec.h"
#include "export/report.h"
#include "export/report_hosts.h"
#include "lib/escape.h"
#include "lib/units.h"

#define ROW_FMT "    %-11s %-44s %-4s %6s %10s %10s %8s %9s %9s %9s"
#define CONN_FMT "      %-53s      %10s %10s %8s %9s %9s %9s"

/* "comm[pid]", or for a pool "comm[pid,pid,...]" (+N beyond four). */
static void node_label(const struct bt_model *m, uint32_t node, char *buf, size_t len)
{
	const struct bt_proc *p = bt_model_find((struct bt_model *)m, node);
	uint32_t pids[4];
	size_t n = bt_node_members(m, node, pids, 4), off;

	char comm[BT_ESCAPED_MAX(BT_PROC_NAME_LEN) + 1];

	off = snprintf(buf, len, "%s[", p && p->comm[0] ?
		       bt_escape_term(p->comm, comm, sizeof(comm)) : "?");
	for (size_t i = 0; i < n && i < 4 && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%u", i ? "," : "", pids[i]);
	if (off < len)
		snprintf(buf + off, len - off, n > 4 ? ",+%zu]" : "]", n - 4);
}

static void peer_name(const struct bt_model *m, struct bt_row_peers peers, char *buf,
		      size_t len)
{
	uint32_t seen[BT_PEERS_MAX];
	size_t off = 0, nseen = 0;
	char one[128];

	if (!peers.n) {
		snprintf(buf, len, "(other end unknown)");
		return;
	}
	buf[0] = 0;
	for (size_t i = 0; i < peers.n && off < len; i++) {
		const struct bt_peer *p = &peers.v[i];
		uint32_t node = p->pid ? bt_node_of(m, p->pid) : 0;
		bool dup = false;

		for (size_t k = 0; node && k < nseen; k++)
			dup |= seen[k] == node;
		if (dup)
			continue;
		if (node) {
			seen[nseen++] = node;
			node_label(m, node, one, sizeof(one));
		} else {
			bt_escape_term(p->addr, one, sizeof(one));
		}
		off += snprintf(buf + off, len - off, "%s%s", off ? ", " : "", one);
	}
}

/* The figures of a row or a sum of rows, after KIND SERVICE DIR CONNS. */
static void stats_cols(const struct bt_stats *s, unsigned int kind, unsigned int dir,
		       char cols[6][32])
{
	uint64_t ok = s->calls - s->errors;

	fmt_count(s->calls, cols[0], 32);
	if (bt_kind_has_bytes(kind)) {
		fmt_bytes(s->bytes, cols[1], 32);
		fmt_bytes(ok ? s->bytes / ok : 0, cols[2], 32);
	} else if (dir == BT_DIR_WAKE) {
		snprintf(cols[1], 32, "%llu woken", (unsigned long long)s->woken);
		snprintf(cols[2], 32, "-");
	} else {
		snprintf(cols[1], 32, "-");
		snprintf(cols[2], 32, "-");
	}
	if (!s->max_blocked_ns) {
		/* No call was timed (counted before it was followed): nothing to state. */
		for (int i = 3; i < 6; i++)
			snprintf(cols[i], 32, "-");
		return;
	}
	fmt_ns(s->blocked_ns, cols[3], 32);
	/* log2 buckets: the p99 is stated as the top of its bucket, a true bound. */
	fmt_ns(bt_hist_percentile_bound(s->blocked_hist, 0.99, s->max_blocked_ns), cols[4], 32);
	fmt_ns(s->max_blocked_ns, cols[5], 32);
}

static void write_errors(FILE *f, const struct bt_stats *s, uint64_t lost_calls)
{
	if (s->errors)
		fprintf(f, "  %llu errors", (unsigned long long)s->errors);
	if (lost_calls)
		fprintf(f, "  PARTIAL: %llu calls not counted (map full)",
			(unsigned long long)lost_calls);
	if (s->exchanges) {
		char p50[32], p99[32];

		fmt_ns(bt_hist_percentile_max(s->exch_hist, 0.50, s->max_exch_ns), p50, sizeof(p50));
		fmt_ns(bt_hist_percentile_max(s->exch_hist, 0.99, s->max_exch_ns), p99, sizeof(p99));
		fprintf(f, "  %s: %llu exchanges, %s p50 %s p99 %s", bt_role_name(s->role),
			(unsigned long long)s->exchanges,
			s->role == BT_ROLE_SERVER ? "service" : "latency", p50, p99);
	}
	fputc('\n', f);
}

/* One row of the node's processes, with what the table groups it by. */
struct trow {
	const struct bt_proc *p;
	const struct bt_row *r;
	char peer[256];
	const char *service;
	bool done;
};

static bool same_line(const struct trow *a, const struct trow *b)
{
	return a->r->key.kind == b->r->key.kind && a->r->key.dir == b->r->key.dir &&
	       !strcmp(a->service, b->service);
}

/* One line per (kind, service, direction) of a peer group; --connections: its rows. */
static void write_line(FILE *f, const struct bt_model *m, struct trow *t, size_t n, size_t i)
{
	struct bt_stats sum = t[i].r->st;
	uint64_t lost_calls = t[i].r->lost_calls;
	char cols[6][32], conns[32], esc[BT_ESCAPED_MAX(BT_CHANNEL_LEN) + 1];
	size_t nconn = 1;

	for (size_t j = i + 1; j < n; j++) {
		if (t[j].done || strcmp(t[i].peer, t[j].peer) || !same_line(&t[i], &t[j]))
			continue;
		bt_stats_add(&sum, &t[j].r->st);
		bt_hist_add(sum.blocked_hist, t[j].r->st.blocked_hist);
		lost_calls += t[j].r->lost_calls;
		nconn++;
	}
	stats_cols(&sum, t[i].r->key.kind, t[i].r->key.dir, cols);
	snprintf(conns, sizeof(conns), "%zu", nconn);
	fprintf(f, ROW_FMT, bt_kind_name(t[i].r->key.kind),
		bt_escape_term(t[i].service, esc, sizeof(esc)),
		bt_dir_name(t[i].r->key.dir), conns, cols[0], cols[1], cols[2], cols[3], cols[4],
		cols[5]);
	write_errors(f, &sum, lost_calls);
	for (size_t j = i; j < n; j++) {
		char chan[sizeof(esc) + 16];

		if (t[j].done || strcmp(t[i].peer, t[j].peer) || !same_line(&t[i], &t[j]))
			continue;
		t[j].done = true;
		if (!m->connections)
			continue;
		stats_cols(&t[j].r->st, t[j].r->key.kind, t[j].r->key.dir, cols);
		bt_escape_term(t[j].r->channel, esc, sizeof(esc));
		if (m->group_exe && t[j].p->pid != t[i].p->pid)
			snprintf(chan, sizeof(chan), "%s (%u)", esc, t[j].p->pid);
		else
			snprintf(chan, sizeof(chan), "%s", esc);
		fprintf(f, CONN_FMT, chan, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]);
		write_errors(f, &t[j].r->st, t[j].r->lost_calls);
	}
}

/* Whether a process of the node has calls counted before it was followed (untimed). */
static bool node_untimed(const struct bt_model *m, uint32_t node)
{
	for (size_t i = 0; i < m->nprocs; i++)
		if (m->procs[i].untimed && bt_node_of(m, m->procs[i].pid) == node)
			return true;
	return false;
}

/* The block of one process, or with --group exe of its pool (head: lowest pid). */
static void write_node(FILE *f, const struct bt_model *m, const struct bt_views *v,
		       const struct bt_proc *head)
{
	uint32_t node = head->pid;
	struct trow *t = NULL;
	size_t n = 0, cap = 0;
	char label[160];

	node_label(m, node, label, sizeof(label));
	fprintf(f, "\n%s%s%s\n", label, head->exited ? " (exited)" : "",
		!m->sockets_only && node_untimed(m, node) ?
		" (blocked time partial: calls counted before it was followed are not timed)" : "");
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];

		if (m->group_exe ? bt_node_of(m, p->pid) != node : p != head)
			continue;
		for (size_t j = 0; j < p->nrows; j++) {
			if (!bt_grow((void **)&t, &cap, n + 1, sizeof(*t)))
				goto out;
			memset(&t[n], 0, sizeof(t[n]));
			t[n].p = p;
			t[n].r = &p->rows[j];
			t[n].service = bt_views_service(v, m, p, &p->rows[j]);
			peer_name(m, bt_views_peers(v, m, p, &p->rows[j]), t[n].peer,
				  sizeof(t[n].peer));
			n++;
		}
	}
	if (!n) {
		fprintf(f, "  no boundary crossings\n");
		goto out;
	}
	/* Rows are sorted; emit each peer's group in order of its first row. */
	for (size_t i = 0; i < n; i++) {
		if (t[i].done)
			continue;
		fprintf(f, "  \u21c4 %s\n", t[i].peer);
		fprintf(f, ROW_FMT "\n", "KIND", "SERVICE", "DIR", "CONNS", "CALLS", "BYTES", "MEAN",
			"BLOCKED", "P99<=", "MAX");
		for (size_t j = i; j < n; j++)
			if (!t[j].done && !strcmp(t[i].peer, t[j].peer))
				write_line(f, m, t, n, j);
	}
out:
	free(t);
}

/* " (N opened, N closed, N alive)" of a socket edge; "?" where the censuses could not tell. */
static const char *lives(const struct bt_edge *e, char *buf, size_t len)
{
	char o[24] = "?", c[24] = "?", a[24] = "?";

	if (!e->opened_known && !e->ended_known) {
		buf[0] = 0;
		return buf;
	}
	if (e->opened_known)
		snprintf(o, sizeof(o), "%llu", (unsigned long long)e->opened);
	if (e->ended_known) {
		snprintf(c, sizeof(c), "%llu", (unsigned long long)e->closed);
		snprintf(a, sizeof(a), "%llu", (unsigned long long)e->alive);
	}
	snprintf(buf, len, " (%s opened, %s closed, %s alive)", o, c, a);
	return buf;
}

/* ", N exchanges, latency p50 X p99 Y" (a server's end: its service time). */
static const char *exchanges(const struct bt_edge *e, char *buf, size_t len)
{
	char p50[32], p99[32];

	buf[0] = 0;
	if (!e->exchanges)
		return buf;
	fmt_ns(bt_hist_percentile_max(e->exch_hist, 0.50, e->max_exch_ns), p50, sizeof(p50));
	fmt_ns(bt_hist_percentile_max(e->exch_hist, 0.99, e->max_exch_ns), p99, sizeof(p99));
	snprintf(buf, len, ", %llu exchanges, %s p50 %s p99 %s",
		 (unsigned long long)e->exchanges,
		 e->role == BT_ROLE_SERVER ? "service" : "latency", p50, p99);
	return buf;
}

/* The map first: who talks to whom, one line per service and direction. */
static void write_edges(FILE *f, const struct bt_model *m, const struct bt_edges *edges)
{
	char from[BT_PROC_NAME_LEN + 96], to[BT_PROC_NAME_LEN + 96], calls[32], bytes[32];
	char blocked[32], p99[40], unseen[64], service[BT_ESCAPED_MAX(BT_CHANNEL_LEN) + 1];
	char life[128], exch[128], waits[128];
	const struct bt_proc *to_proc;

	if (!edges->n)
		return;
	fprintf(f, m->sockets_only ? "\ncommunication map (sender \u2192 receiver):\n" :
		"\ncommunication map (sender \u2192 receiver; blocked = the receiver waiting):\n");
	for (size_t i = 0; i < edges->n; i++) {
		const struct bt_edge *e = &edges->v[i];

		node_label(m, e->from, from, sizeof(from));
		node_label(m, e->to, to, sizeof(to));
		fmt_count(e->calls, calls, sizeof(calls));
		fmt_ns(e->blocked_ns, blocked, sizeof(blocked));
		/* "≤": the top of the log2 bucket holding the p99, a true bound. */
		strcpy(p99, "\u2264 ");
		fmt_ns(bt_hist_percentile_bound(e->blocked_hist, 0.99, e->max_blocked_ns),
		       p99 + strlen(p99), sizeof(p99) - strlen(p99));
		to_proc = bt_model_find((struct bt_model *)m, e->to);
		if (!to_proc || !to_proc->target) {
			/* Nobody measured the receiver's waits. */
			snprintf(blocked, sizeof(blocked), "?");
			snprintf(p99, sizeof(p99), "? (receiver not traced)");
		} else if (!e->max_blocked_ns) {
			/* No wait of the receiver was timed: nothing to state. */
			snprintf(blocked, sizeof(blocked), "-");
			snprintf(p99, sizeof(p99), "-");
		}
		bt_escape_term(e->service, service, sizeof(service));
		unseen[0] = 0;
		if (e->unseen_bytes)
			snprintf(unseen, sizeof(unseen), ", %s unseen",
				 fmt_bytes(e->unseen_bytes, bytes, sizeof(bytes)));
		if (e->kind == BT_KIND_FUTEX)
			fprintf(f, "  %s \u2192 %s via %s: %s wake calls, %llu woke a waiter, blocked %s, p99 %s\n",
				from, to, service, calls, (unsigned long long)e->wakeups, blocked,
				p99);
		else {
			/* --sockets-only measured no wakeup or wait: the line leaves them out. */
			waits[0] = 0;
			if (!m->sockets_only)
				snprintf(waits, sizeof(waits), ", %llu wakeups, blocked %s, p99 %s",
					 (unsigned long long)e->wakeups, blocked, p99);
			fprintf(f, "  %s \u2192 %s via %s: %zu conn%s%s, %s sends, %s%s%s%s\n",
				from, to, service, e->nconns, e->nconns == 1 ? "" : "s",
				lives(e, life, sizeof(life)), calls,
				fmt_bytes(e->bytes, bytes, sizeof(bytes)), waits, unseen,
				exchanges(e, exch, sizeof(exch)));
		}
		for (size_t k = 0; m->connections && e->kind != BT_KIND_FUTEX && k < e->nconns; k++) {
			const struct bt_svc_conn *c = &e->conns[k];

			fmt_count(c->calls, calls, sizeof(calls));
			fprintf(f, "      %s: %s sends, %s",
				bt_escape_term(c->channel, service, sizeof(service)), calls,
				fmt_bytes(c->bytes, bytes, sizeof(bytes)));
			if (c->recv_known)
				fprintf(f, ", received %s", fmt_bytes(c->recv_bytes, bytes, sizeof(bytes)));
			fputc('\n', f);
		}
	}
}

/* Chain mode: the heaviest synchronous chains, one line each. */
static void write_chains(FILE *f, const struct bt_chains *c)
{
	enum { TOP = 5 };
	char line[2048];

	if (!c)
		return;	/* not chain mode */
	fprintf(f, "\nsynchronous chains (A \u21e2 B: A blocked until B answered), heaviest first:\n");
	for (size_t i = 0; i < c->nchains && i < TOP; i++) {
		bt_chains_format_line(&c->chains[i], line, sizeof(line));
		fprintf(f, "  %s\n", line);
	}
	if (!c->nchains)
		fprintf(f, "  none: no traced thread waited on one that was itself waiting\n");
	else if (c->nchains > TOP)
		fprintf(f, "  ... %zu more (-f chains lists them all)\n", c->nchains - TOP);
}

/*
 * A block per process that crossed a boundary or was named; a far end
 * known only as an edge's end is named in its peers' lines.
 */
static bool shown_proc(const struct bt_proc *p)
{
	return p->nrows || !strcmp(bt_proc_role(p), "target");
}

int bt_report_table(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	size_t shown = 0;
	char dur[32];

	for (size_t i = 0; i < m->nprocs; i++)
		shown += shown_proc(&m->procs[i]);
	fmt_ns(m->duration_ns, dur, sizeof(dur));
	fprintf(f, "boundtrace: %zu process%s, %s traced\n", shown, shown == 1 ? "" : "es", dur);
	if (m->sockets_only)
		fprintf(f, "sockets only: socket calls as the socket layer saw them; pipes, futexes, "
			"blocked time and wakeups were not measured\n");
	bt_table_hosts(f, m);
	write_edges(f, m, &v->edges);
	write_chains(f, v->chains);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];

		if (!shown_proc(p))
			continue;
		/* A pool prints once, under its lowest pid (its first process). */
		if (m->group_exe && (bt_node_of(m, p->pid) != p->pid ||
				     (i + 1 < m->nprocs && m->procs[i + 1].pid == p->pid)))
			continue;
		write_node(f, m, v, p);
	}
	bt_report_losses_text(f, m);
	/* Not a kernel counter: the two ends of connections disagreed. */
	if (v->edges.unseen_bytes)
		fprintf(f, " lost unseen_bytes: %llu\n", (unsigned long long)v->edges.unseen_bytes);
	bt_report_self_text(f, m);
	return ferror(f) ? -1 : 0;
}
