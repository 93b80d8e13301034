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
#include "export/report.h"
#include "export/report_hosts.h"
#include "lib/escape.h"
#include "lib/units.h"

#define ROW_FMT "    %-11s %-44s %-4s %10s %10s %8s %9s %9s %9s"

static void peer_name(struct bt_row_peers peers, char *buf, size_t len)
{
	size_t off = 0;
	size_t n = peers.n;

	if (!n) {
		snprintf(buf, len, "(other end unknown)");
		return;
	}
	buf[0] = 0;
	for (size_t i = 0; i < n && off < len; i++) {
		const struct bt_peer *p = &peers.v[i];

		char esc[BT_ESCAPED_MAX(BT_CHANNEL_LEN) + 1];

		if (p->pid)
			off += snprintf(buf + off, len - off, "%s%s[%u]", i ? ", " : "",
					p->proc && p->proc->comm[0] ?
					bt_escape_term(p->proc->comm, esc, sizeof(esc)) : "?", p->pid);
		else
			off += snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
					bt_escape_term(p->addr, esc, sizeof(esc)));
	}
}

static void write_row(FILE *f, const struct bt_row *r)
{
	char calls[32], bytes[32], mean[32], blocked[32], maxb[32], p99[32], p50[32];
	char channel[BT_ESCAPED_MAX(BT_CHANNEL_LEN) + 1];
	const struct bt_stats *s = &r->st;
	uint64_t ok = s->calls - s->errors;

	fmt_count(s->calls, calls, sizeof(calls));
	if (bt_kind_has_bytes(r->key.kind)) {
		fmt_bytes(s->bytes, bytes, sizeof(bytes));
		fmt_bytes(ok ? s->bytes / ok : 0, mean, sizeof(mean));
	} else if (r->key.dir == BT_DIR_WAKE) {
		snprintf(bytes, sizeof(bytes), "%llu woken", (unsigned long long)s->woken);
		snprintf(mean, sizeof(mean), "-");
	} else {
		snprintf(bytes, sizeof(bytes), "-");
		snprintf(mean, sizeof(mean), "-");
	}
	fmt_ns(s->blocked_ns, blocked, sizeof(blocked));
	/* log2 buckets: the p99 is stated as the top of its bucket, a true bound. */
	fmt_ns(bt_hist_percentile_bound(s->blocked_hist, 0.99, s->max_blocked_ns), p99, sizeof(p99));
	fmt_ns(s->max_blocked_ns, maxb, sizeof(maxb));
	fprintf(f, ROW_FMT, bt_kind_name(r->key.kind),
		bt_escape_term(r->channel, channel, sizeof(channel)), bt_dir_name(r->key.dir),
		calls, bytes, mean, blocked, p99, maxb);
	if (s->errors)
		fprintf(f, "  %llu errors", (unsigned long long)s->errors);
	if (r->lost_calls)
		fprintf(f, "  PARTIAL: %llu calls not counted (map full)",
			(unsigned long long)r->lost_calls);
	if (s->exchanges) {
		fmt_ns(bt_hist_percentile_max(s->exch_hist, 0.50, s->max_exch_ns), p50, sizeof(p50));
		fmt_ns(bt_hist_percentile_max(s->exch_hist, 0.99, s->max_exch_ns), p99, sizeof(p99));
		fprintf(f, "  %s: %llu exchanges, %s p50 %s p99 %s", bt_role_name(s->role),
			(unsigned long long)s->exchanges,
			s->role == BT_ROLE_SERVER ? "service" : "latency", p50, p99);
	}
	fputc('\n', f);
}

static void write_proc(FILE *f, const struct bt_model *m, const struct bt_views *v,
		       const struct bt_proc *p)
{
	char (*names)[256] = calloc(p->nrows ? p->nrows : 1, sizeof(*names));
	bool *done = calloc(p->nrows ? p->nrows : 1, sizeof(*done));

	char comm[BT_ESCAPED_MAX(BT_PROC_NAME_LEN) + 1];

	fprintf(f, "\n%s[%u]%s\n", p->comm[0] ? bt_escape_term(p->comm, comm, sizeof(comm)) : "?",
		p->pid, p->exited ? " (exited)" : "");
	if (!p->nrows || !names || !done) {
		fprintf(f, "  no boundary crossings\n");
		goto out;
	}
	for (size_t i = 0; i < p->nrows; i++)
		peer_name(bt_views_peers(v, m, p, &p->rows[i]), names[i], sizeof(names[i]));
	/* Rows are sorted; emit each peer's group in order of its first row. */
	for (size_t i = 0; i < p->nrows; i++) {
		if (done[i])
			continue;
		fprintf(f, "  \u21c4 %s\n", names[i]);
		fprintf(f, ROW_FMT "\n", "KIND", "CHANNEL", "DIR", "CALLS", "BYTES", "MEAN",
			"BLOCKED", "P99<=", "MAX");
		for (size_t j = i; j < p->nrows; j++) {
			if (done[j] || strcmp(names[i], names[j]))
				continue;
			write_row(f, &p->rows[j]);
			done[j] = true;
		}
	}
out:
	free(names);
	free(done);
}

static const char *proc_label(const struct bt_model *m, uint32_t pid, char *buf, size_t len)
{
	const struct bt_proc *p = bt_model_find((struct bt_model *)m, pid);

	char comm[BT_ESCAPED_MAX(BT_PROC_NAME_LEN) + 1];

	snprintf(buf, len, "%s[%u]", p && p->comm[0] ? bt_escape_term(p->comm, comm, sizeof(comm)) : "?",
		 pid);
	return buf;
}

/* The map first: who talks to whom, in one line per direction. */
static void write_edges(FILE *f, const struct bt_model *m, const struct bt_edges *edges)
{
	char from[BT_ESCAPED_MAX(BT_PROC_NAME_LEN) + 16], to[BT_ESCAPED_MAX(BT_PROC_NAME_LEN) + 16];
	char channel[BT_ESCAPED_MAX(BT_CHANNEL_LEN) + 1];
	char calls[32], bytes[32], blocked[32], p99[40];
	const struct bt_proc *to_proc;

	if (!edges->n)
		return;
	fprintf(f, "\ncommunication map (sender \u2192 receiver; blocked = the receiver waiting):\n");
	for (size_t i = 0; i < edges->n; i++) {
		const struct bt_edge *e = &edges->v[i];

		proc_label(m, e->from, from, sizeof(from));
		proc_label(m, e->to, to, sizeof(to));
		fmt_count(e->calls, calls, sizeof(calls));
		fmt_ns(e->blocked_ns, blocked, sizeof(blocked));
		/* "≤": the top of the log2 bucket holding the p99, a true bound. */
		strcpy(p99, "\u2264 ");
		fmt_ns(bt_hist_percentile_bound(e->blocked_hist, 0.99, e->max_blocked_ns),
		       p99 + strlen(p99), sizeof(p99) - strlen(p99));
		bt_escape_term(e->channel, channel, sizeof(channel));
		to_proc = bt_model_find((struct bt_model *)m, e->to);
		if (!to_proc || !to_proc->target) {
			/* Nobody measured the receiver's waits. */
			snprintf(blocked, sizeof(blocked), "?");
			snprintf(p99, sizeof(p99), "? (receiver not traced)");
		}
		if (e->kind == BT_KIND_FUTEX)
			fprintf(f, "  %s \u2192 %s via %s: %s wake calls, %llu woke a waiter, blocked %s, p99 %s\n",
				from, to, channel, calls, (unsigned long long)e->wakeups, blocked,
				p99);
		else
			fprintf(f, "  %s \u2192 %s via %s: %s sends, %s, %llu wakeups, blocked %s, p99 %s\n",
				from, to, channel, calls, fmt_bytes(e->bytes, bytes, sizeof(bytes)),
				(unsigned long long)e->wakeups, blocked, p99);
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

/* A far end known only from /proc is named in its peers' lines, not on its own. */
static bool shown_proc(const struct bt_proc *p)
{
	return p->target || p->nrows;
}

int bt_report_table(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	size_t shown = 0;
	char dur[32];

	for (size_t i = 0; i < m->nprocs; i++)
		shown += shown_proc(&m->procs[i]);
	fmt_ns(m->duration_ns, dur, sizeof(dur));
	fprintf(f, "boundtrace: %zu process%s, %s traced\n", shown, shown == 1 ? "" : "es", dur);
	bt_table_hosts(f, m);
	write_edges(f, m, &v->edges);
	write_chains(f, v->chains);
	for (size_t i = 0; i < m->nprocs; i++)
		if (shown_proc(&m->procs[i]))
			write_proc(f, m, v, &m->procs[i]);
	bt_report_losses_text(f, m);
	return ferror(f) ? -1 : 0;
}
