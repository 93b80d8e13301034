// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * -f openmetrics / -f prometheus and the pages --serve hands out: the
 * model as counters and histograms. Rows are summed into label sets
 * (process, peer, kind, service, direction); docs/METRICS.md is the
 * contract.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "export/metrics.h"
#include "export/report.h"
#include "lib/escape.h"
#include "lib/vec.h"
#include "model/hist.h"
#include "model/kinds.h"

#define LABELS_LEN	8192

struct series {
	char *labels;		/* as printed, also the identity of the set */
	uint64_t calls, bytes, errors, woken, blocked_ns, connections;
	/* Sockets: opened, closed, alive at the end, and of how many each is known. */
	uint64_t opened, closed, alive, start_known, end_known;
	bool socket_kind;
	__u64 blocked_hist[BT_HIST_SLOTS];
	__u64 size_hist[BT_HIST_SLOTS];
	bool bytes_kind;	/* pipe and sockets: bytes and sizes apply */
	bool futex_wake;	/* woken applies */
	bool admitted;
};

struct entry {
	char *labels;
	const struct bt_row *row;
};

const char *bt_metrics_content_type(enum bt_metrics_flavor flavor)
{
	return flavor == BT_METRICS_OPENMETRICS ?
		"application/openmetrics-text; version=1.0.0; charset=utf-8" :
		"text/plain; version=0.0.4; charset=utf-8";
}

/*
 * A label value: escaped for a terminal first (control bytes and bytes
 * that are not UTF-8 as \xNN: the exposition formats want UTF-8), then
 * for the exposition format (backslash and double quote).
 */
static void label_value(const char *raw, char *buf, size_t len)
{
	char term[4 * BT_CHANNEL_LEN + 4];
	size_t o = 0;

	bt_escape_term(raw, term, sizeof(term));
	for (const char *p = term; *p && o + 2 < len; p++) {
		if (*p == '\\' || *p == '"')
			buf[o++] = '\\';
		buf[o++] = *p;
	}
	buf[o] = 0;
}

/* An address off this machine, without the port: one label per host, not per connection. */
static void addr_host(const char *addr, char *buf, size_t len)
{
	const char *colon = strrchr(addr, ':');
	size_t n = colon ? (size_t)(colon - addr) : strlen(addr);

	if (n >= len)
		n = len - 1;
	memcpy(buf, addr, n);
	buf[n] = 0;
}

static bool is_socket(unsigned int kind)
{
	return kind == BT_KIND_UNIX_STREAM || kind == BT_KIND_UNIX_DGRAM ||
	       kind == BT_KIND_TCP || kind == BT_KIND_UDP;
}

/*
 * What a connection is a connection to, as the service map names it (a
 * unix path or socketpair, a TCP/UDP server's address and port). A pipe
 * and a futex word are their own service there; here they are "": an
 * inode or an address per label set would make a series per pipe.
 */
static const char *row_service(const struct bt_model *m, const struct bt_views *v,
			       const struct bt_proc *p, const struct bt_row *r)
{
	return is_socket(r->key.kind) ? bt_views_service(v, m, p, r) : "";
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The far ends' names, distinct, sorted, comma-separated; with pids likewise. */
static void peer_labels(struct bt_row_peers peers, char *names, size_t nlen, char *pids,
			size_t plen)
{
	char *v[BT_PEERS_MAX], *pv[BT_PEERS_MAX];
	char buf[BT_PEERS_MAX][BT_PROC_NAME_LEN], pbuf[BT_PEERS_MAX][16];
	size_t n = 0, pn = 0, o = 0, po = 0;

	for (size_t i = 0; i < peers.n && i < BT_PEERS_MAX; i++) {
		const struct bt_peer *p = &peers.v[i];

		if (p->pid) {
			snprintf(buf[n], sizeof(buf[n]), "%s",
				 p->proc && p->proc->comm[0] ? p->proc->comm : "?");
			snprintf(pbuf[pn], sizeof(pbuf[pn]), "%u", p->pid);
			pv[pn] = pbuf[pn];
			pn++;
		} else {
			addr_host(p->addr, buf[n], sizeof(buf[n]));
		}
		v[n] = buf[n];
		n++;
	}
	qsort(v, n, sizeof(*v), cmp_str);
	names[0] = pids[0] = 0;
	/* Cut at the buffer's end: a label, not a list anyone reads to the last name. */
	for (size_t i = 0; i < n && o < nlen; i++)
		if (!i || strcmp(v[i], v[i - 1]))
			o += snprintf(names + o, nlen - o, "%s%s", o ? "," : "", v[i]);
	for (size_t i = 0; i < pn && po < plen; i++)
		po += snprintf(pids + po, plen - po, "%s%s", po ? "," : "", pv[i]);
}

static char *row_labels(const struct bt_model *m, const struct bt_views *v,
			const struct bt_proc *p, const struct bt_row *r)
{
	char raw[BT_CHANNEL_LEN + 1], peer_pid[256], out[LABELS_LEN];
	char comm[8 * BT_PROC_NAME_LEN], peer[8 * sizeof(raw)], service[8 * sizeof(raw)];

	label_value(p->comm[0] ? p->comm : "?", comm, sizeof(comm));
	peer_labels(bt_views_peers(v, m, p, r), raw, sizeof(raw), peer_pid, sizeof(peer_pid));
	label_value(raw, peer, sizeof(peer));
	label_value(row_service(m, v, p, r), service, sizeof(service));
	if (m->metrics_pid)
		snprintf(out, sizeof(out),
			 "process=\"%s\",pid=\"%u\",peer=\"%s\",peer_pid=\"%s\",kind=\"%s\","
			 "service=\"%s\",direction=\"%s\"", comm, p->pid, peer, peer_pid,
			 bt_kind_name(r->key.kind), service, bt_dir_name(r->key.dir));
	else
		snprintf(out, sizeof(out),
			 "process=\"%s\",peer=\"%s\",kind=\"%s\",service=\"%s\",direction=\"%s\"",
			 comm, peer, bt_kind_name(r->key.kind), service, bt_dir_name(r->key.dir));
	return strdup(out);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return strcmp(x->labels, y->labels);
}

static void series_add_row(struct series *s, const struct bt_row *r)
{
	s->calls += r->st.calls;
	s->bytes += r->st.bytes;
	s->errors += r->st.errors;
	s->blocked_ns += r->st.blocked_ns;
	s->connections++;
	if (is_socket(r->key.kind)) {
		uint8_t c = r->has_info ? r->info.conn : 0;

		s->socket_kind = true;
		s->start_known += !!(c & (BT_CONN_NEW | BT_CONN_OLD));
		s->end_known += !!(c & (BT_CONN_ALIVE | BT_CONN_GONE));
		s->opened += !!(c & BT_CONN_NEW);
		s->closed += !!(c & BT_CONN_GONE);
		s->alive += !!(c & BT_CONN_ALIVE);
	}
	bt_hist_add(s->blocked_hist, r->st.blocked_hist);
	bt_hist_add(s->size_hist, r->st.size_hist);
	s->bytes_kind = bt_kind_has_bytes(r->key.kind);
	if (r->key.kind == BT_KIND_FUTEX && r->key.dir == BT_DIR_WAKE) {
		s->woken += r->st.woken;
		s->futex_wake = true;
	}
}

static void series_sum(struct series *into, const struct series *s)
{
	into->calls += s->calls;
	into->bytes += s->bytes;
	into->errors += s->errors;
	into->woken += s->woken;
	into->blocked_ns += s->blocked_ns;
	into->connections += s->connections;
	into->opened += s->opened;
	into->closed += s->closed;
	into->alive += s->alive;
	into->start_known += s->start_known;
	into->end_known += s->end_known;
	into->socket_kind |= s->socket_kind;
	bt_hist_add(into->blocked_hist, s->blocked_hist);
	bt_hist_add(into->size_hist, s->size_hist);
	into->bytes_kind |= s->bytes_kind;
	into->futex_wake |= s->futex_wake;
}

/* Rows into label sets, sorted by labels. */
static int build_series(const struct bt_model *m, const struct bt_views *v,
			struct series **out, size_t *nout)
{
	struct entry *e = NULL;
	struct series *s = NULL;
	size_t n = 0, cap = 0, ns = 0, scap = 0;
	int err = -1;

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];

		for (size_t j = 0; j < p->nrows; j++) {
			if (!bt_grow((void **)&e, &cap, n + 1, sizeof(*e)))
				goto out;
			e[n].row = &p->rows[j];
			e[n].labels = row_labels(m, v, p, &p->rows[j]);
			if (!e[n++].labels)
				goto out;
		}
	}
	if (n)
		qsort(e, n, sizeof(*e), cmp_entry);
	for (size_t i = 0; i < n; i++) {
		if (!ns || strcmp(s[ns - 1].labels, e[i].labels)) {
			if (!bt_grow((void **)&s, &scap, ns + 1, sizeof(*s)))
				goto out;
			s[ns++].labels = e[i].labels;
			e[i].labels = NULL;
		}
		series_add_row(&s[ns - 1], e[i].row);
	}
	err = 0;
out:
	for (size_t i = 0; i < n; i++)
		free(e[i].labels);
	free(e);
	if (err) {
		for (size_t i = 0; i < ns; i++)
			free(s[i].labels);
		free(s);
		s = NULL;
		ns = 0;
	}
	*out = s;
	*nout = ns;
	return err;
}

static const struct series *by_volume_base;

/* Busiest first (calls, then bytes), then by labels: a stable choice. */
static int cmp_volume(const void *a, const void *b)
{
	const struct series *x = &by_volume_base[*(const size_t *)a];
	const struct series *y = &by_volume_base[*(const size_t *)b];

	if (x->calls != y->calls)
		return x->calls > y->calls ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->labels, y->labels);
}

static bool kept(const struct bt_metrics_keep *k, const char *labels)
{
	return k && k->n && bsearch(&labels, k->keys, k->n, sizeof(*k->keys), cmp_str);
}

/*
 * Marks the admitted sets: those admitted before, then the busiest, up
 * to max; the count of the rest. -1 out of memory.
 */
static long admit(struct series *s, size_t n, uint32_t max, struct bt_metrics_keep *keep)
{
	size_t admitted = 0, nidx = 0, added = 0;
	size_t *idx;

	for (size_t i = 0; i < n; i++) {
		s[i].admitted = kept(keep, s[i].labels);
		admitted += s[i].admitted;
	}
	idx = calloc(n ? n : 1, sizeof(*idx));
	if (!idx)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!s[i].admitted)
			idx[nidx++] = i;
	/* qsort has no context argument; the exporters run on one thread. */
	by_volume_base = s;
	qsort(idx, nidx, sizeof(*idx), cmp_volume);
	for (size_t i = 0; i < nidx && admitted < max; i++, admitted++) {
		s[idx[i]].admitted = true;
		if (keep) {
			char *dup = strdup(s[idx[i]].labels);

			if (!dup || !bt_grow((void **)&keep->keys, &keep->cap, keep->n + 1,
					     sizeof(*keep->keys))) {
				free(dup);
				free(idx);
				return -1;
			}
			keep->keys[keep->n++] = dup;
			added++;
		}
	}
	if (added)
		qsort(keep->keys, keep->n, sizeof(*keep->keys), cmp_str);
	free(idx);
	return (long)(n - admitted);
}

void bt_metrics_keep_free(struct bt_metrics_keep *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->keys[i]);
	free(k->keys);
	memset(k, 0, sizeof(*k));
}

/* ---- printing ----------------------------------------------------------- */

struct out {
	FILE *f;
	enum bt_metrics_flavor flavor;
};

/*
 * A family's header. Prometheus text names a counter by its sample name
 * (…_total); OpenMetrics by the family name, without the suffix.
 */
static void family(const struct out *o, const char *name, const char *type, const char *help)
{
	bool om = o->flavor == BT_METRICS_OPENMETRICS;
	bool counter = !strcmp(type, "counter");

	fprintf(o->f, "# HELP %s%s %s\n", name, counter && !om ? "_total" : "", help);
	fprintf(o->f, "# TYPE %s%s %s\n", name, counter && !om ? "_total" : "", type);
}

enum field { F_CALLS, F_BYTES, F_ERRORS, F_WOKEN, F_CONNECTIONS, F_OPENED, F_CLOSED, F_ALIVE };

static uint64_t field_of(const struct series *s, enum field f)
{
	switch (f) {
	case F_CALLS: return s->calls;
	case F_BYTES: return s->bytes;
	case F_ERRORS: return s->errors;
	case F_WOKEN: return s->woken;
	case F_CONNECTIONS: return s->connections;
	case F_OPENED: return s->opened;
	case F_CLOSED: return s->closed;
	case F_ALIVE: return s->alive;
	}
	return 0;
}

static bool field_applies(const struct series *s, enum field f)
{
	if (f == F_BYTES)
		return s->bytes_kind;
	if (f == F_WOKEN)
		return s->futex_wake;
	/* Only when known for every connection of the set: never a silent 0. */
	if (f == F_OPENED)
		return s->socket_kind && s->start_known == s->connections;
	if (f == F_CLOSED || f == F_ALIVE)
		return s->socket_kind && s->end_known == s->connections;
	return true;
}

static void write_scalar(const struct out *o, const struct series *s, size_t n,
			 const struct series *other, const char *name, const char *suffix,
			 enum field f)
{
	for (size_t i = 0; i < n; i++)
		if (s[i].admitted && field_applies(&s[i], f))
			fprintf(o->f, "%s%s{%s} %" PRIu64 "\n", name, suffix, s[i].labels,
				field_of(&s[i], f));
	if (other && field_applies(other, f))
		fprintf(o->f, "%s%s{%s} %" PRIu64 "\n", name, suffix, other->labels,
			field_of(other, f));
}

/*
 * A log2 histogram as cumulative "le" buckets: slot i holds integers up
 * to 2^(i+1) - 1, so that is its le (exactly: no sample of the next slot
 * is at or below it). The last slot has no top: it is +Inf alone.
 * scale: 1e-9 for nanoseconds as seconds, 1 for bytes.
 */
static void write_hist(const struct out *o, const char *name, const char *labels,
		       const __u64 hist[BT_HIST_SLOTS], double sum, double scale)
{
	uint64_t cum = 0;

	for (int i = 0; i < BT_HIST_SLOTS - 1; i++) {
		cum += hist[i];
		fprintf(o->f, "%s_bucket{%s,le=\"%.10g\"} %" PRIu64 "\n", name, labels,
			(double)bt_hist_slot_high(i) * scale, cum);
	}
	cum += hist[BT_HIST_SLOTS - 1];
	fprintf(o->f, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name, labels, cum);
	fprintf(o->f, "%s_sum{%s} %.10g\n", name, labels, sum);
	fprintf(o->f, "%s_count{%s} %" PRIu64 "\n", name, labels, cum);
}

static void write_hists(const struct out *o, const struct series *s, size_t n,
			const struct series *other, bool blocked)
{
	const char *name = blocked ? "boundtrace_blocked_seconds" : "boundtrace_message_size_bytes";

	for (size_t i = 0; i <= n; i++) {
		const struct series *x = i < n ? &s[i] : other;

		if (!x || (i < n && !x->admitted) || (!blocked && !x->bytes_kind))
			continue;
		if (blocked)
			write_hist(o, name, x->labels, x->blocked_hist, x->blocked_ns * 1e-9, 1e-9);
		else
			write_hist(o, name, x->labels, x->size_hist, (double)x->bytes, 1);
	}
}

/* The per-set counters and gauges, in the order printed (histograms before connections). */
static const struct scalar {
	const char *name, *type, *help;
	enum field field;
} scalars[] = {
	{ "boundtrace_calls", "counter", "Completed syscalls crossing the boundary, errors included.",
	  F_CALLS },
	{ "boundtrace_bytes", "counter", "Bytes moved by the successful calls.", F_BYTES },
	{ "boundtrace_errors", "counter", "Calls that returned an error (EAGAIN included).",
	  F_ERRORS },
	{ "boundtrace_futex_woken", "counter",
	  "Futex wake calls: waiters woken (their return values).", F_WOKEN },
	{ "boundtrace_connections", "gauge",
	  "Channels (connections, pipes, sockets, futex words) summed into the label set.",
	  F_CONNECTIONS },
	{ "boundtrace_connections_opened", "gauge",
	  "Sockets: of those, connections opened during the trace.", F_OPENED },
	{ "boundtrace_connections_closed", "gauge",
	  "Sockets: of those, connections closed during the trace (known once it ended).",
	  F_CLOSED },
	{ "boundtrace_connections_alive", "gauge",
	  "Sockets: of those, connections still open when the trace ended.", F_ALIVE },
};

int bt_metrics_write(FILE *f, const struct bt_model *m, const struct bt_views *v,
		     enum bt_metrics_flavor flavor, struct bt_metrics_keep *keep)
{
	static const char other_plain[] =
		"process=\"other\",peer=\"other\",kind=\"other\",service=\"other\",direction=\"other\"";
	static const char other_pid[] =
		"process=\"other\",pid=\"other\",peer=\"other\",peer_pid=\"other\",kind=\"other\","
		"service=\"other\",direction=\"other\"";
	struct out o = { f, flavor };
	struct series *s = NULL, other = { 0 };
	uint32_t max = m->max_series ? m->max_series : BT_MAX_SERIES_DEFAULT;
	size_t n = 0, shown = 0;
	long folded;
	int err = -1;

	if (build_series(m, v, &s, &n))
		return -1;
	folded = admit(s, n, max, keep);
	if (folded < 0)
		goto out;
	other.labels = (char *)(m->metrics_pid ? other_pid : other_plain);
	for (size_t i = 0; i < n; i++)
		if (!s[i].admitted)
			series_sum(&other, &s[i]);
	for (size_t i = 0; i < m->nprocs; i++)
		shown += m->procs[i].target || m->procs[i].nrows;

	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		const struct scalar *x = &scalars[i];

		if (x->field == F_CONNECTIONS) {
			/*
			 * Exchanges (request/response pairs) and their latency
			 * histogram would go here, per label set (the rows carry
			 * them): boundtrace_exchanges_total,
			 * boundtrace_exchange_latency_seconds. Not yet.
			 */
			/* --sockets-only measures none: no series rather than zeros. */
			if (!m->sockets_only) {
				family(&o, "boundtrace_blocked_seconds", "histogram",
				       "Per call: time from syscall entry to exit (log2 buckets).");
				write_hists(&o, s, n, folded ? &other : NULL, true);
			}
			family(&o, "boundtrace_message_size_bytes", "histogram",
			       "Per successful call: bytes moved (log2 buckets).");
			write_hists(&o, s, n, folded ? &other : NULL, false);
		}
		family(&o, x->name, x->type, x->help);
		write_scalar(&o, s, n, folded ? &other : NULL, x->name,
			     strcmp(x->type, "counter") ? "" : "_total", x->field);
	}
	family(&o, "boundtrace_lost", "counter",
	       "Events the tracer could not record, by reason (see the JSON lost object).");
	for (unsigned int l = 0; l < BT_LOSS_MAX; l++)
		fprintf(f, "boundtrace_lost_total{reason=\"%s\"} %" PRIu64 "\n", bt_loss_name(l),
			(uint64_t)m->lost[l]);
	if (m->self.measured) {
		family(&o, "boundtrace_tracer_cpu_seconds", "counter",
		       "boundtrace's own CPU since its programs attached (user + system).");
		fprintf(f, "boundtrace_tracer_cpu_seconds_total %.9f\n", m->self.cpu_ns * 1e-9);
		family(&o, "boundtrace_tracer_chain_cpu_seconds", "counter",
		       "Of that CPU, what folding records into chains took.");
		fprintf(f, "boundtrace_tracer_chain_cpu_seconds_total %.9f\n",
			m->self.chain_cpu_ns * 1e-9);
		family(&o, "boundtrace_tracer_records", "counter",
		       "Records the kernel sent boundtrace through its ring buffers, by kind.");
		for (unsigned int k = 0; k < BT_SELF_RECORDS_MAX; k++)
			fprintf(f, "boundtrace_tracer_records_total{kind=\"%s\"} %" PRIu64 "\n",
				bt_self_record_name(k), m->self.records[k]);
		family(&o, "boundtrace_tracer_exchanges_counted", "counter",
		       "Exchanges the kernel counted as one-hop trees instead of sending records.");
		fprintf(f, "boundtrace_tracer_exchanges_counted_total %" PRIu64 "\n",
			m->self.exchanges_counted);
		family(&o, "boundtrace_tracer_exchanges_paired", "counter",
		       "Exchanges whose two records boundtrace paired as one-hop trees as they came.");
		fprintf(f, "boundtrace_tracer_exchanges_paired_total %" PRIu64 "\n",
			m->self.exchanges_paired);
		family(&o, "boundtrace_tracer_max_rss_bytes", "gauge",
		       "boundtrace's peak resident memory.");
		fprintf(f, "boundtrace_tracer_max_rss_bytes %" PRIu64 "\n",
			m->self.max_rss_kib * 1024);
	}
	family(&o, "boundtrace_series_folded", "gauge",
	       "Label sets beyond --max-series, summed into the \"other\" set.");
	fprintf(f, "boundtrace_series_folded %ld\n", folded);
	family(&o, "boundtrace_series_max", "gauge", "The --max-series cap.");
	fprintf(f, "boundtrace_series_max %" PRIu32 "\n", max);
	family(&o, "boundtrace_processes", "gauge", "Processes in the trace (traced or talking).");
	fprintf(f, "boundtrace_processes %zu\n", shown);
	family(&o, "boundtrace_trace_seconds", "gauge", "How long the trace has run.");
	fprintf(f, "boundtrace_trace_seconds %.9f\n", m->duration_ns * 1e-9);
	if (flavor == BT_METRICS_OPENMETRICS)
		fputs("# EOF\n", f);
	err = ferror(f) ? -1 : 0;
out:
	for (size_t i = 0; i < n; i++)
		free(s[i].labels);
	free(s);
	return err;
}

int bt_report_openmetrics(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	return bt_metrics_write(f, m, v, BT_METRICS_OPENMETRICS, NULL);
}

int bt_report_prometheus(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	return bt_metrics_write(f, m, v, BT_METRICS_PROMETHEUS, NULL);
}
