// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Flame-style exports of the --stacks aggregates, printed from the folded
 * lines of analyze/folded.c: `-f folded` writes them as they are (the
 * format flamegraph.pl, inferno and speedscope read), `-f svg` renders
 * them as a self-contained interactive flame graph, `-f wakers` writes
 * each blocked crossing folded with the stack of the thread that woke it.
 */
#include <stdint.h>
#include <stdlib.h>
#include "analyze/flame.h"
#include "export/report.h"
#include "lib/escape.h"

static void print_lines(FILE *f, const struct bt_folded *ls)
{
	/* Frames hold other processes' bytes (comm, paths, symbols): escaped for a terminal. */
	for (size_t i = 0; i < ls->n; i++) {
		bt_fputs_escaped(f, ls->v[i].text);
		fprintf(f, " %llu\n", (unsigned long long)ls->v[i].weight);
	}
}

static int no_stacks(FILE *f, const struct bt_model *m)
{
	if (m->stack_mode)
		return 0;
	fprintf(stderr, "boundtrace: no stacks were taken (run with --stacks)\n");
	return ferror(f) ? -1 : 1;
}

int bt_report_folded(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	int rc = no_stacks(f, m);

	if (rc)
		return rc < 0 ? -1 : 0;
	print_lines(f, &v->folded);
	return ferror(f) ? -1 : 0;
}

int bt_report_wakers(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	int rc = no_stacks(f, m);

	if (rc)
		return rc < 0 ? -1 : 0;
	print_lines(f, &v->folded);
	return ferror(f) ? -1 : 0;
}

/*
 * The flame graph sums weights up the tree. Weights read from a crafted
 * recording could overflow that sum: they are scaled down (halved until
 * the total fits), so the picture keeps its proportions.
 */
static unsigned int weight_shift(const struct bt_folded *ls)
{
	unsigned int shift;

	for (shift = 0; shift < 63; shift++) {
		uint64_t total = 0;
		size_t i;

		for (i = 0; i < ls->n; i++) {
			uint64_t w = ls->v[i].weight >> shift;

			if (w > UINT64_MAX - total)
				break;
			total += w;
		}
		if (i == ls->n)
			break;
	}
	return shift;
}

int bt_report_svg(FILE *f, const struct bt_model *m, const struct bt_views *v)
{
	struct bt_flame_svg_opts opts = { .title = "boundtrace: boundary crossings by stack",
					  .unit = bt_folded_unit(m), .width = 1200 };
	const struct bt_folded *ls = &v->folded;
	unsigned int shift;
	struct bt_flame *fl;
	char *buf;
	int rc = no_stacks(f, m);

	if (rc)
		return rc < 0 ? -1 : 0;
	shift = weight_shift(ls);
	fl = bt_flame_new();
	buf = malloc(BT_FOLDED_LINE_MAX + 32);
	rc = fl && buf ? 0 : -1;
	for (size_t i = 0; !rc && i < ls->n; i++) {
		uint64_t w = ls->v[i].weight >> shift;

		if (!w)
			continue;
		snprintf(buf, BT_FOLDED_LINE_MAX + 32, "%s %llu", ls->v[i].text,
			 (unsigned long long)w);
		rc = bt_flame_add_folded_line(fl, buf);
	}
	if (!rc)
		rc = bt_flame_write_svg(fl, &opts, f);
	free(buf);
	bt_flame_free(fl);
	return rc || ferror(f) ? -1 : 0;
}
