// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Stack rows to folded lines (analyze/folded.h). */
#include <stdlib.h>
#include <string.h>
#include "analyze/flame.h"
#include "analyze/folded.h"
#include "analyze/views.h"
#include "lib/vec.h"
#include "model/kinds.h"

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

const char *bt_folded_unit(const struct bt_model *m)
{
	return m->weight == BT_WEIGHT_BYTES ? "bytes" :
	       m->weight == BT_WEIGHT_BLOCKED ? "us blocked" : "calls";
}

/* The boundary frame: kind, the channel without its own prefix, arrow, peer. */
static void boundary_frame(const struct bt_model *m, const struct bt_views *v, uint32_t pid,
			   unsigned int kind, unsigned int dir, uint64_t chan, uint64_t peer_id,
			   char *buf, size_t len)
{
	const struct bt_proc *p = bt_model_find((struct bt_model *)m, pid);
	bool out = dir == BT_DIR_SEND || dir == BT_DIR_WAKE;
	struct bt_row_peers peers = { 0 };
	const char *channel = "?", *body, *peer = "?";
	char addr[64];

	for (size_t i = 0; p && i < p->nrows; i++) {
		const struct bt_row *r = &p->rows[i];

		if (r->key.kind == kind && r->key.dir == dir && r->key.chan == chan &&
		    r->key.peer == peer_id) {
			channel = r->channel;
			peers = bt_views_peers(v, m, p, r);
			break;
		}
	}
	if (peers.n && peers.v[0].pid) {
		peer = peers.v[0].proc && peers.v[0].proc->comm[0] ? peers.v[0].proc->comm : "?";
	} else if (peers.n) {
		snprintf(addr, sizeof(addr), "%s", peers.v[0].addr);
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

static int for_each_line(const struct bt_model *m, const struct bt_views *v, line_fn fn,
			 void *ctx)
{
	size_t cap = BT_FOLDED_LINE_MAX;
	char *line = malloc(cap);
	char comm[BT_PROC_NAME_LEN + 16], boundary[BT_CHANNEL_LEN + 96];
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
		boundary_frame(m, v, sr->key.tgid, sr->key.kind, sr->key.dir, sr->key.chan,
			       sr->key.peer, boundary, sizeof(boundary));
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
static int for_each_wake_line(const struct bt_model *m, const struct bt_views *v, line_fn fn,
			      void *ctx)
{
	size_t cap = 2 * BT_FOLDED_LINE_MAX;
	char *line = malloc(cap), *rev = malloc(cap / 2);
	char wakee[BT_PROC_NAME_LEN + 16], waker[BT_PROC_NAME_LEN + 16], boundary[BT_CHANNEL_LEN + 96];
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
		boundary_frame(m, v, k->wakee, k->kind, k->dir, k->chan, k->peer, boundary,
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

static int collect_line(const char *line, uint64_t weight, void *ctx)
{
	struct bt_folded *ls = ctx;
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
	return strcmp(((const struct bt_folded_line *)a)->text,
		      ((const struct bt_folded_line *)b)->text);
}

/* Sorted, equal lines summed into the first (weights saturate: a crafted recording). */
static void merge(struct bt_folded *ls)
{
	size_t keep = 0;

	if (ls->n)
		qsort(ls->v, ls->n, sizeof(*ls->v), cmp_line);
	for (size_t i = 0; i < ls->n; i++) {
		if (keep && !strcmp(ls->v[keep - 1].text, ls->v[i].text)) {
			uint64_t *w = &ls->v[keep - 1].weight;

			*w = ls->v[i].weight > UINT64_MAX - *w ? UINT64_MAX : *w + ls->v[i].weight;
			free(ls->v[i].text);
			continue;
		}
		ls->v[keep++] = ls->v[i];
	}
	ls->n = keep;
}

typedef int (*lines_fn)(const struct bt_model *m, const struct bt_views *v, line_fn fn,
			void *ctx);

static int build(const struct bt_model *m, const struct bt_views *v, lines_fn lines,
		 struct bt_folded *out)
{
	memset(out, 0, sizeof(*out));
	if (lines(m, v, collect_line, out)) {
		bt_folded_free(out);
		return -1;
	}
	merge(out);
	return 0;
}

int bt_folded_crossings(const struct bt_model *m, const struct bt_views *v, struct bt_folded *out)
{
	return build(m, v, for_each_line, out);
}

int bt_folded_wakers(const struct bt_model *m, const struct bt_views *v, struct bt_folded *out)
{
	return build(m, v, for_each_wake_line, out);
}

void bt_folded_free(struct bt_folded *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->v[i].text);
	free(f->v);
	memset(f, 0, sizeof(*f));
}
