// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * -f hist: every row's and every edge's size and blocked-time histograms
 * as text, the way bpftrace prints hist(): one line per log2 bucket from
 * the first non-empty to the last, "[low, high)", the count, a bar of 52
 * columns scaled to the fullest bucket. And the same buckets as JSON.
 */
#include <inttypes.h>
#include <string.h>
#include "analyze/peers.h"
#include "export/report.h"
#include "export/report_hist.h"
#include "lib/escape.h"
#include "model/hist.h"
#include "model/kinds.h"

#define BAR_WIDTH	52

void bt_json_hist(struct jw *w, const char *key, const __u64 hist[BT_HIST_SLOTS])
{
	jw_key(w, key);
	jw_arr_begin(w);
	for (int i = 0; i < BT_HIST_SLOTS; i++) {
		if (!hist[i])
			continue;
		jw_obj_begin(w);
		jw_ku64(w, "low", bt_hist_slot_low(i));
		if (i < BT_HIST_SLOTS - 1)
			jw_ku64(w, "high", bt_hist_slot_high(i));
		jw_ku64(w, "count", hist[i]);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

/* 2^shift as bpftrace writes it: 512, 1K, 2M, 1G (powers of 1024). */
static void power_label(int shift, char *buf, size_t len)
{
	static const char suffix[] = { 0, 'K', 'M', 'G' };
	int s = shift / 10;

	if (s > 3)
		s = 3;
	if (s)
		snprintf(buf, len, "%llu%c", 1ull << (shift - 10 * s), suffix[s]);
	else
		snprintf(buf, len, "%llu", 1ull << shift);
}

static void bucket_label(int i, char *buf, size_t len)
{
	char lo[24], hi[24];

	if (i == 0) {
		snprintf(buf, len, "[0, 2)");
		return;
	}
	power_label(i, lo, sizeof(lo));
	if (i == BT_HIST_SLOTS - 1) {
		snprintf(buf, len, "[%s, ...)", lo);
		return;
	}
	power_label(i + 1, hi, sizeof(hi));
	snprintf(buf, len, "[%s, %s)", lo, hi);
}

/* title: already escaped. Prints nothing for an empty histogram. */
static void write_hist(FILE *f, const char *title, const __u64 hist[BT_HIST_SLOTS])
{
	int first = -1, last = -1;
	uint64_t top = 0;

	for (int i = 0; i < BT_HIST_SLOTS; i++) {
		if (!hist[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (hist[i] > top)
			top = hist[i];
	}
	if (first < 0)
		return;
	fprintf(f, "\n%s\n", title);
	for (int i = first; i <= last; i++) {
		char label[64], bar[BAR_WIDTH + 1];
		int n = (int)((unsigned __int128)hist[i] * BAR_WIDTH / top);

		bucket_label(i, label, sizeof(label));
		memset(bar, '@', n);
		memset(bar + n, ' ', BAR_WIDTH - n);
		bar[BAR_WIDTH] = 0;
		fprintf(f, "%-16s %8" PRIu64 " |%s|\n", label, (uint64_t)hist[i], bar);
	}
}

static void proc_name(const struct bt_model *m, uint32_t pid, char *buf, size_t len)
{
	const struct bt_proc *p = bt_model_find((struct bt_model *)m, pid);
	char comm[4 * BT_PROC_NAME_LEN + 1];

	bt_escape_term(p && p->comm[0] ? p->comm : "?", comm, sizeof(comm));
	snprintf(buf, len, "%s[%u]", comm, pid);
}

static void write_rows(FILE *f, const struct bt_model *m, const struct bt_proc *p)
{
	char who[4 * BT_PROC_NAME_LEN + 16], chan[4 * BT_CHANNEL_LEN + 1], title[4096];

	proc_name(m, p->pid, who, sizeof(who));
	for (size_t i = 0; i < p->nrows; i++) {
		const struct bt_row *r = &p->rows[i];
		const char *dir = bt_dir_name(r->key.dir);

		bt_escape_term(r->channel, chan, sizeof(chan));
		snprintf(title, sizeof(title), "%s %s %s: size (bytes), %" PRIu64 " calls", who,
			 chan, dir, bt_hist_count(r->st.size_hist));
		write_hist(f, title, r->st.size_hist);
		if (m->sockets_only)
			continue;
		snprintf(title, sizeof(title), "%s %s %s: blocked (ns), %" PRIu64 " calls", who,
			 chan, dir, bt_hist_count(r->st.blocked_hist));
		write_hist(f, title, r->st.blocked_hist);
	}
}

static void write_edge(FILE *f, const struct bt_model *m, const struct bt_edge *e)
{
	char from[4 * BT_PROC_NAME_LEN + 16], to[4 * BT_PROC_NAME_LEN + 16], chan[4 * BT_CHANNEL_LEN + 1], title[4096];

	proc_name(m, e->from, from, sizeof(from));
	proc_name(m, e->to, to, sizeof(to));
	bt_escape_term(e->service, chan, sizeof(chan));
	snprintf(title, sizeof(title), "%s \u2192 %s via %s: size (bytes), %" PRIu64 " sends",
		 from, to, chan, bt_hist_count(e->size_hist));
	write_hist(f, title, e->size_hist);
	if (m->sockets_only)
		return;
	snprintf(title, sizeof(title), "%s \u2192 %s via %s: receiver blocked (ns), %" PRIu64
		 " %s", from, to, chan, bt_hist_count(e->blocked_hist),
		 e->kind == BT_KIND_FUTEX ? "waits" : "receives");
	write_hist(f, title, e->blocked_hist);
}

int bt_report_hist(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	/* --sockets-only timed no call: its blocked times would be a bucket of zeros. */
	fprintf(f, m->sockets_only ?
		"boundtrace: per-call sizes, log2 buckets [low, high) (sockets only: no blocked "
		"times were measured)\n" :
		"boundtrace: per-call sizes and blocked times, log2 buckets [low, high)\n");
	for (size_t i = 0; i < m->nprocs; i++)
		write_rows(f, m, &m->procs[i]);
	for (size_t i = 0; i < v->edges.n; i++)
		write_edge(f, m, &v->edges.v[i]);
	bt_report_losses_text(f, m);
	bt_report_self_text(f, m);
	return ferror(f) ? -1 : 0;
}
