// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "export/report.h"
#include "lib/linebuf.h"
#include "lib/units.h"

static const struct bt_exporter exporters[] = {
	{ "table", BT_VIEW_PEERS | BT_VIEW_EDGES | BT_VIEW_CHAINS, bt_report_table },
	{ "json", BT_VIEW_PEERS | BT_VIEW_EDGES | BT_VIEW_CHAINS, bt_report_json },
	{ "dot", BT_VIEW_EDGES, bt_report_dot },
	{ "chains", BT_VIEW_CHAINS, bt_report_chains, BT_NEED_EPISODES },
	{ "folded", BT_VIEW_FOLDED, bt_report_folded, BT_NEED_STACKS },
	{ "svg", BT_VIEW_FOLDED, bt_report_svg, BT_NEED_STACKS },
	{ "wakers", BT_VIEW_WAKERS, bt_report_wakers, BT_NEED_STACKS },
	{ "hist", BT_VIEW_EDGES, bt_report_hist },
	{ "openmetrics", BT_VIEW_PEERS, bt_report_openmetrics },
	{ "prometheus", BT_VIEW_PEERS, bt_report_prometheus },
};

#define N_EXPORTERS (sizeof(exporters) / sizeof(exporters[0]))

const struct bt_exporter *bt_report_find(const char *name)
{
	for (size_t i = 0; i < N_EXPORTERS; i++)
		if (!strcmp(exporters[i].name, name))
			return &exporters[i];
	return NULL;
}

int bt_report_write(FILE *f, const struct bt_exporter *e, const struct bt_model *m)
{
	struct bt_views v;
	int err;

	if (bt_views_build(m, e->views, &v))
		return -1;
	err = e->write(f, m, &v);
	bt_views_free(&v);
	return err;
}

const char *bt_report_format_names(void)
{
	static char names[128];

	if (!names[0]) {
		for (size_t i = 0; i < N_EXPORTERS; i++) {
			if (i)
				strncat(names, "|", sizeof(names) - strlen(names) - 1);
			strncat(names, exporters[i].name, sizeof(names) - strlen(names) - 1);
		}
	}
	return names;
}

void bt_report_losses_text(FILE *f, const struct bt_model *m)
{
	bool any = false;

	for (unsigned int l = 0; l < BT_LOSS_MAX; l++) {
		if (!m->lost[l])
			continue;
		fprintf(f, "%s lost %s: %llu", any ? "," : "\n", bt_loss_name(l),
			(unsigned long long)m->lost[l]);
		any = true;
	}
	if (any)
		fputc('\n', f);
}

const char *bt_loss_name(unsigned int loss)
{
	static const char *const names[BT_LOSS_MAX] = {
		[BT_LOSS_MAP_FULL] = "map_full",
		[BT_LOSS_EVENTS] = "events",
		[BT_LOSS_NO_ENTRY] = "no_entry",
		[BT_LOSS_MMSG_TRUNC] = "mmsg_truncated",
		[BT_LOSS_TARGETS_FULL] = "pid_out_of_range",
		[BT_LOSS_WAKEES] = "wakees_overflow",
		[BT_LOSS_EPISODES] = "episodes",
		[BT_LOSS_STACKS] = "stacks",
		[BT_LOSS_CALLS] = "calls",
		[BT_LOSS_CALLS_UNPLACED] = "calls_unplaced",
		[BT_LOSS_EXCHANGES] = "exchanges",
	};

	return loss < BT_LOSS_MAX ? names[loss] : "?";
}

int bt_weight_parse(const char *name)
{
	static const char *const names[] = {
		[BT_WEIGHT_CALLS] = "calls",
		[BT_WEIGHT_BYTES] = "bytes",
		[BT_WEIGHT_BLOCKED] = "blocked",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

const char *bt_self_record_name(unsigned int kind)
{
	static const char *const names[BT_SELF_RECORDS_MAX] = {
		[BT_SELF_EVENTS] = "events",
		[BT_SELF_EPISODES] = "episodes",
		[BT_SELF_EXCHANGES] = "exchanges",
		[BT_SELF_HANDOFFS] = "handoffs",
	};

	return kind < BT_SELF_RECORDS_MAX ? names[kind] : "?";
}

char *bt_self_format(const struct bt_self_cost *s, uint64_t duration_ns, char *buf, size_t len)
{
	char a[32], b[32], c[32];
	struct bt_linebuf o;
	uint64_t total = 0;

	bt_linebuf_init(&o, buf, len);
	if (!s->measured)
		return buf;
	for (unsigned int k = 0; k < BT_SELF_RECORDS_MAX; k++)
		total += s->records[k];
	bt_linebuf_put(&o, "boundtrace's own cost: %s CPU while tracing",
	    fmt_ns(s->cpu_ns, a, sizeof(a)));
	if (duration_ns)
		bt_linebuf_put(&o, " (%.2f%% of a core)",
		    100.0 * (double)s->cpu_ns / (double)duration_ns);
	if (s->chain_cpu_ns)
		bt_linebuf_put(&o, ", %s of it folding chains", fmt_ns(s->chain_cpu_ns, b, sizeof(b)));
	bt_linebuf_put(&o, ", %s to load; peak RSS %s; %s records from the kernel (",
	    fmt_ns(s->load_cpu_ns, b, sizeof(b)), fmt_bytes(s->max_rss_kib * 1024, c, sizeof(c)),
	    fmt_count(total, a, sizeof(a)));
	for (unsigned int k = 0; k < BT_SELF_RECORDS_MAX; k++)
		bt_linebuf_put(&o, "%s%s %s", k ? ", " : "", bt_self_record_name(k),
		    fmt_count(s->records[k], a, sizeof(a)));
	bt_linebuf_put(&o, "), %s; ", fmt_bytes(s->record_bytes, a, sizeof(a)));
	if (s->exchanges_counted)
		bt_linebuf_put(&o, "%s one-hop exchanges counted in the kernel instead; ",
		    fmt_count(s->exchanges_counted, a, sizeof(a)));
	if (s->exchanges_paired)
		bt_linebuf_put(&o, "%s one-hop exchanges paired as they came, not folded; ",
		    fmt_count(s->exchanges_paired, a, sizeof(a)));
	if (s->bpf_runs)
		bt_linebuf_put(&o, "BPF programs %s over %s runs (%llu ns a run)",
		    fmt_ns(s->bpf_ns, a, sizeof(a)), fmt_count(s->bpf_runs, b, sizeof(b)),
		    (unsigned long long)(s->bpf_ns / s->bpf_runs));
	else
		bt_linebuf_put(&o, "BPF programs not timed (kernel.bpf_stats_enabled %s)",
		    s->bpf_stats ? "is on, but counted no run" : "is 0");
	return buf;
}

void bt_report_self_text(FILE *f, const struct bt_model *m)
{
	char line[512];

	if (m->self.measured)
		fprintf(f, "%s\n", bt_self_format(&m->self, m->duration_ns, line, sizeof(line)));
}
