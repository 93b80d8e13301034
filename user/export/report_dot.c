// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Graphviz export: processes as nodes, one labelled edge per direction of
 * traffic, pen width by bytes (futex edges by wakeups), so the heavy
 * conversations stand out. Renders with `dot -Tsvg`.
 */
#include <math.h>
#include "model/kinds.h"
#include "analyze/services.h"
#include "export/report.h"
#include "lib/escape.h"
#include "lib/units.h"

/*
 * A DOT double-quoted string: '"' and '\\' escaped, newlines as DOT line
 * breaks; other control bytes and bytes that are not UTF-8 (a process's
 * name is any bytes) as the text \xNN, so dot(1) gets valid UTF-8 and
 * nothing a terminal would act on.
 */
static void dot_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		int u = bt_utf8_len(p);

		if (*p == '\n') {
			fputs("\\n", f);
		} else if (*p == '"' || *p == '\\') {
			fputc('\\', f);
			fputc(*p, f);
		} else if (u == 1 && *p >= 0x20 && *p != 0x7f) {
			fputc(*p, f);
		} else if (u > 1 && !(p[0] == 0xc2 && p[1] < 0xa0)) {
			fwrite(p, 1, u, f);
			p += u;
			continue;
		} else {
			fprintf(f, "\\\\x%02x", *p);
		}
		p++;
	}
	fputc('"', f);
}

static double pen_width(uint64_t weight, uint64_t max)
{
	if (!max || !weight)
		return 1.0;
	/* 1..5 on a log scale: a thousandfold difference still shows. */
	return 1.0 + 4.0 * log1p((double)weight) / log1p((double)max);
}

static uint64_t edge_weight(const struct bt_edge *e)
{
	return e->kind == BT_KIND_FUTEX ? e->wakeups : e->bytes;
}

int bt_report_dot(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	const struct bt_edges *edges = &v->edges;
	uint64_t max = 0;
	char label[512], calls[32], bytes[32];

	fprintf(f, "digraph boundtrace {\n"
		   "  rankdir=LR;\n"
		   "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", "
		   "fontname=\"Helvetica\"];\n"
		   "  edge [fontname=\"Helvetica\", fontsize=10, arrowsize=0.7];\n");
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];
		uint32_t pids[8];
		size_t n, off;

		/* A pool is one node, under its lowest pid. */
		if (!bt_proc_listed(m, edges, p) ||
		    (m->group_exe && (bt_node_of(m, p->pid) != p->pid ||
				      (i + 1 < m->nprocs && m->procs[i + 1].pid == p->pid))))
			continue;
		n = bt_node_members(m, p->pid, pids, 8);
		off = snprintf(label, sizeof(label), "%s\n[", p->comm[0] ? p->comm : "?");
		for (size_t k = 0; k < n && k < 8 && off < sizeof(label); k++)
			off += snprintf(label + off, sizeof(label) - off, "%s%u", k ? "," : "",
					pids[k]);
		if (off < sizeof(label))
			snprintf(label + off, sizeof(label) - off, "%s]%s",
				 n > 8 ? ",..." : "", p->exited && n == 1 ? " exited" : "");
		fprintf(f, "  p%u_%zu [label=", p->pid, i);
		dot_str(f, label);
		fprintf(f, "];\n");
	}
	for (size_t i = 0; i < edges->n; i++)
		if (edge_weight(&edges->v[i]) > max)
			max = edge_weight(&edges->v[i]);
	for (size_t i = 0; i < edges->n; i++) {
		const struct bt_edge *e = &edges->v[i];
		const struct bt_proc *from = bt_model_find((struct bt_model *)m, e->from);
		const struct bt_proc *to = bt_model_find((struct bt_model *)m, e->to);

		if (!from || !to)
			continue;
		fmt_count(e->calls, calls, sizeof(calls));
		if (e->kind == BT_KIND_FUTEX)
			snprintf(label, sizeof(label), "%s\n%s wakes, %llu woken", e->service, calls,
				 (unsigned long long)e->wakeups);
		else if (e->nconns > 1)
			snprintf(label, sizeof(label), "%s\n%zu conns, %s calls, %s", e->service,
				 e->nconns, calls, fmt_bytes(e->bytes, bytes, sizeof(bytes)));
		else
			snprintf(label, sizeof(label), "%s\n%s calls, %s", e->service, calls,
				 fmt_bytes(e->bytes, bytes, sizeof(bytes)));
		fprintf(f, "  p%u_%td -> p%u_%td [label=", e->from, from - m->procs, e->to,
			to - m->procs);
		dot_str(f, label);
		fprintf(f, ", penwidth=%.2f%s];\n", pen_width(edge_weight(e), max),
			e->kind == BT_KIND_FUTEX ? ", style=dashed" : "");
	}
	fprintf(f, "}\n");
	return ferror(f) ? -1 : 0;
}
