// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The human table: one block per process, one line per boundary row. */
#include "kinds.h"
#include "report.h"
#include "units.h"

static void write_row(FILE *f, const struct bt_row *r)
{
	char calls[32], bytes[32], mean[32], blocked[32], maxb[32];
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
	fmt_ns(s->max_blocked_ns, maxb, sizeof(maxb));
	fprintf(f, "  %-11s %-44s %-4s %10s %10s %8s %9s %9s", bt_kind_name(r->key.kind),
		r->channel, bt_dir_name(r->key.dir), calls, bytes, mean, blocked, maxb);
	if (s->errors)
		fprintf(f, "  %llu errors", (unsigned long long)s->errors);
	fputc('\n', f);
}

int bt_report_table(FILE *f, const struct bt_model *m)
{
	char dur[32];
	bool any_loss = false;

	fmt_ns(m->duration_ns, dur, sizeof(dur));
	fprintf(f, "boundtrace: %zu process%s, %s traced\n", m->nprocs,
		m->nprocs == 1 ? "" : "es", dur);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];

		fprintf(f, "\n%s[%u]%s\n", p->comm[0] ? p->comm : "?", p->pid,
			p->exited ? " (exited)" : "");
		if (!p->nrows) {
			fprintf(f, "  no boundary crossings\n");
			continue;
		}
		fprintf(f, "  %-11s %-44s %-4s %10s %10s %8s %9s %9s\n", "KIND", "CHANNEL",
			"DIR", "CALLS", "BYTES", "MEAN", "BLOCKED", "MAX");
		for (size_t j = 0; j < p->nrows; j++)
			write_row(f, &p->rows[j]);
	}
	for (unsigned int l = 0; l < BT_LOSS_MAX; l++) {
		if (!m->lost[l])
			continue;
		fprintf(f, "%s lost %s: %llu", any_loss ? "," : "\n", bt_loss_name(l),
			(unsigned long long)m->lost[l]);
		any_loss = true;
	}
	if (any_loss)
		fputc('\n', f);
	return ferror(f) ? -1 : 0;
}
