// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Flame-style exports of the --stacks aggregates. `-f folded` writes one
 * line per unique stack, root first, in the format flamegraph.pl, inferno
 * and speedscope read:
 *   comm;user frames...;-;kernel frames...;kind:channel→peer WEIGHT
 * (→ for a send or wake, ← for a receive or wait); `-f svg` renders the
 * same lines as a self-contained interactive flame graph. `-f wakers`
 * folds each blocked crossing with the stack of the thread that woke it:
 *   wakee;its frames...;kind:channel←peer;--;waker frames (leaf first);waker WEIGHT
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/flame.h"
#include "model/kinds.h"
#include "analyze/peers.h"
#include "export/report.h"

typedef int (*line_fn)(const char *line, uint64_t weight, void *ctx);

static uint64_t weight_of(const struct bt_model *m, const struct bt_stackrow *r)
{
	switch (m->weight) {
	case BT_WEIGHT_BYTES:
		return r->bytes;
	case BT_WEIGHT_BLOCKED:
		return r->blocked_ns / 1000;	/* microseconds */
	default:
		return r->calls;
	}
}

static const char *unit_of(const struct bt_model *m)
{
	return m->weight == BT_WEIGHT_BYTES ? "bytes" :
	       m->weight == BT_WEIGHT_BLOCKED ? "us blocked" : "calls";
}

/* The boundary frame: kind, the channel without its own prefix, arrow, peer. */
static void boundary_frame(const struct bt_model *m, uint32_t pid, unsigned int kind,
			   unsigned int dir, uint64_t chan, uint64_t peer_id, char *buf, size_t len)
{
	const struct bt_proc *p = bt_model_find((struct bt_model *)m, pid);
	bool out = dir == BT_DIR_SEND || dir == BT_DIR_WAKE;
	struct bt_peer peers[BT_PEERS_MAX];
	const char *channel = "?", *body, *peer = "?";
	char addr[64];
	size_t n = 0;

	for (size_t i = 0; p && i < p->nrows; i++) {
		const struct bt_row *r = &p->rows[i];

		if (r->key.kind == kind && r->key.dir == dir && r->key.chan == chan &&
		    r->key.peer == peer_id) {
			channel = r->channel;
			n = bt_row_peers(m, p, r, peers, BT_PEERS_MAX);
			break;
		}
	}
	if (n && peers[0].pid) {
		peer = peers[0].proc && peers[0].proc->comm[0] ? peers[0].proc->comm : "?";
	} else if (n) {
		snprintf(addr, sizeof(addr), "%s", peers[0].addr);
		peer = addr;
	}
	body = strchr(channel, ':');
	snprintf(buf, len, "%s:%s%s%s", bt_kind_name(kind), body ? body + 1 : channel,
		 out ? "\u2192" : "\u2190", peer);
	bt_flame_sanitize(buf);
}

static void comm_frame(const struct bt_model *m, uint32_t pid, char *buf, size_t len)
{
	const struct bt_proc *p = bt_model_find((struct bt_model *)m, pid);

	snprintf(buf, len, "%s", p && p->comm[0] ? p->comm : "?");
	bt_flame_sanitize(buf);
}

static int for_each_line(const struct bt_model *m, line_fn fn, void *ctx)
{
	size_t cap = 64 * 1024;
	char *line = malloc(cap);
	char comm[BT_COMM_LEN + 16], boundary[BT_CHANNEL_LEN + 96];
	int err = 0;

	if (!line)
		return -1;
	for (size_t i = 0; i < m->nstackrows && !err; i++) {
		const struct bt_stackrow *sr = &m->stackrows[i];
		const char *u = bt_model_stack(m, sr->key.tgid, sr->key.ustack, sr->key.ucaller);
		const char *k = bt_model_stack(m, 0, sr->key.kstack, 0);
		uint64_t w = weight_of(m, sr);

		if (!w)
			continue;
		comm_frame(m, sr->key.tgid, comm, sizeof(comm));
		boundary_frame(m, sr->key.tgid, sr->key.kind, sr->key.dir, sr->key.chan, sr->key.peer,
			       boundary, sizeof(boundary));
		snprintf(line, cap, "%s;%s;-;%s;%s", comm, u && *u ? u : "[lost]",
			 k && *k ? k : "[lost]", boundary);
		err = fn(line, w, ctx);
	}
	free(line);
	return err;
}

/* The waker's frames leaf first, so its root ends the line (offwaketime's way). */
static void reverse_frames(const char *folded, char *buf, size_t len)
{
	size_t n = strlen(folded), off = 0;

	buf[0] = 0;
	while (n > 0 && off + 1 < len) {
		size_t start = n;

		while (start > 0 && folded[start - 1] != ';')
			start--;
		off += snprintf(buf + off, len - off, "%s%.*s", off ? ";" : "",
				(int)(n - start), folded + start);
		n = start ? start - 1 : 0;
	}
}

/* wakee;its frames;its boundary;--;waker frames (leaf first);waker WEIGHT */
static int for_each_wake_line(const struct bt_model *m, line_fn fn, void *ctx)
{
	size_t cap = 128 * 1024;
	char *line = malloc(cap), *rev = malloc(cap / 2);
	char wakee[BT_COMM_LEN + 16], waker[BT_COMM_LEN + 16], boundary[BT_CHANNEL_LEN + 96];
	int err = 0;

	if (!line || !rev) {
		free(line);
		free(rev);
		return -1;
	}
	for (size_t i = 0; i < m->nwakestacks && !err; i++) {
		const struct bt_wakestack *w = &m->wakestacks[i];
		const struct bt_wakestack_key *k = &w->key;
		const char *e = bt_model_stack(m, k->wakee, k->wakee_ustack, k->wakee_ucaller);
		const char *r = bt_model_stack(m, k->waker, k->waker_ustack, k->waker_ucaller);
		uint64_t weight = m->weight == BT_WEIGHT_BLOCKED ? w->val.blocked_ns / 1000 :
				  w->val.count;

		if (!weight)
			continue;
		comm_frame(m, k->wakee, wakee, sizeof(wakee));
		comm_frame(m, k->waker, waker, sizeof(waker));
		boundary_frame(m, k->wakee, k->kind, k->dir, k->chan, k->peer, boundary,
			       sizeof(boundary));
		reverse_frames(r && *r ? r : "[lost]", rev, cap / 2);
		snprintf(line, cap, "%s;%s;%s;--;%s;%s", wakee, e && *e ? e : "[lost]", boundary,
			 rev, waker);
		err = fn(line, weight, ctx);
	}
	free(line);
	free(rev);
	return err;
}

struct folded_line {
	char *text;
	uint64_t weight;
};

struct folded_lines {
	struct folded_line *v;
	size_t n, cap;
};

static int collect_line(const char *line, uint64_t weight, void *ctx)
{
	struct folded_lines *ls = ctx;
	char *copy = strdup(line);

	if (!copy || !bt_grow((void **)&ls->v, &ls->cap, ls->n + 1, sizeof(*ls->v))) {
		free(copy);
		return -1;
	}
	ls->v[ls->n].text = copy;
	ls->v[ls->n++].weight = weight;
	return 0;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(((const struct folded_line *)a)->text, ((const struct folded_line *)b)->text);
}

/*
 * Rows that differ only in what the output does not show (return
 * addresses inside one function, say) fold to the same line: merge them,
 * sorted, so each stack is one line.
 */
typedef int (*lines_fn)(const struct bt_model *m, line_fn fn, void *ctx);

static int for_each_merged(const struct bt_model *m, lines_fn lines, line_fn fn, void *ctx)
{
	struct folded_lines ls = {};
	int err = lines(m, collect_line, &ls);

	if (!err && ls.n)
		qsort(ls.v, ls.n, sizeof(*ls.v), cmp_line);
	for (size_t i = 0; !err && i < ls.n;) {
		uint64_t w = 0;
		size_t j = i;

		while (j < ls.n && !strcmp(ls.v[j].text, ls.v[i].text))
			w += ls.v[j++].weight;
		err = fn(ls.v[i].text, w, ctx);
		i = j;
	}
	for (size_t i = 0; i < ls.n; i++)
		free(ls.v[i].text);
	free(ls.v);
	return err;
}

static int print_line(const char *line, uint64_t weight, void *ctx)
{
	fprintf(ctx, "%s %llu\n", line, (unsigned long long)weight);
	return 0;
}

static int no_stacks(FILE *f, const struct bt_model *m)
{
	if (m->stack_mode)
		return 0;
	fprintf(stderr, "boundtrace: no stacks were taken (run with --stacks)\n");
	return ferror(f) ? -1 : 1;
}

int bt_report_folded(FILE *f, const struct bt_model *m)
{
	int rc = no_stacks(f, m);

	if (rc)
		return rc < 0 ? -1 : 0;
	if (for_each_merged(m, for_each_line, print_line, f))
		return -1;
	return ferror(f) ? -1 : 0;
}

/*
 * The flame graph sums weights up the tree. Weights read from a crafted
 * recording could overflow that sum: they are scaled down (halved until
 * the total fits), so the picture keeps its proportions.
 */
struct svg_lines {
	struct bt_flame *fl;
	unsigned int shift;
	uint64_t total;
	bool overflow;
};

static int sum_line(const char *line, uint64_t weight, void *ctx)
{
	struct svg_lines *s = ctx;

	(void)line;
	weight >>= s->shift;
	if (weight > UINT64_MAX - s->total)
		s->overflow = true;
	else
		s->total += weight;
	return 0;
}

static int add_line(const char *line, uint64_t weight, void *ctx)
{
	struct svg_lines *s = ctx;
	char buf[64 * 1024 + 32];

	weight >>= s->shift;
	if (!weight)
		return 0;
	snprintf(buf, sizeof(buf), "%s %llu", line, (unsigned long long)weight);
	return bt_flame_add_folded_line(s->fl, buf);
}

int bt_report_wakers(FILE *f, const struct bt_model *m)
{
	int rc = no_stacks(f, m);

	if (rc)
		return rc < 0 ? -1 : 0;
	if (for_each_merged(m, for_each_wake_line, print_line, f))
		return -1;
	return ferror(f) ? -1 : 0;
}

int bt_report_svg(FILE *f, const struct bt_model *m)
{
	struct bt_flame_svg_opts opts = { .title = "boundtrace: boundary crossings by stack",
					  .unit = unit_of(m), .width = 1200 };
	struct svg_lines s = {};
	int rc = no_stacks(f, m);

	if (rc)
		return rc < 0 ? -1 : 0;
	do {
		s.total = 0;
		s.overflow = false;
		if (for_each_merged(m, for_each_line, sum_line, &s))
			return -1;
	} while (s.overflow && ++s.shift < 64);
	s.fl = bt_flame_new();
	if (!s.fl)
		return -1;
	rc = for_each_merged(m, for_each_line, add_line, &s);
	if (!rc)
		rc = bt_flame_write_svg(s.fl, &opts, f);
	bt_flame_free(s.fl);
	return rc || ferror(f) ? -1 : 0;
}
