// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The frame tree of a flame graph: stacks that share a prefix share its
 * nodes, and every node holds the summed weight of the stacks through it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/flame_priv.h"
#include "model/kinds.h"
#include "lib/vec.h"

struct bt_flame *bt_flame_new(void)
{
	return calloc(1, sizeof(struct bt_flame));
}

/* Frees what n owns, not n itself: the root is embedded in bt_flame. */
static void node_release(struct bt_flame_node *n)
{
	for (size_t i = 0; i < n->nkids; i++) {
		node_release(n->kids[i]);
		free(n->kids[i]);
	}
	free(n->kids);
	free(n->name);
}

void bt_flame_free(struct bt_flame *f)
{
	if (!f)
		return;
	node_release(&f->root);
	free(f);
}

uint64_t bt_flame_total(const struct bt_flame *f)
{
	return f ? f->root.total : 0;
}

static int node_cmp(const char *name, enum bt_frame_type type,
		    const struct bt_flame_node *n)
{
	int c = strcmp(name, n->name);

	if (c)
		return c;
	return (int)type - (int)n->type;
}

/* The child (name, type) of p, or NULL with *pos where it would go. */
static struct bt_flame_node *kid_find(const struct bt_flame_node *p, const char *name,
				      enum bt_frame_type type, size_t *pos)
{
	size_t lo = 0, hi = p->nkids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = node_cmp(name, type, p->kids[mid]);

		if (!c)
			return p->kids[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	*pos = lo;
	return NULL;
}

static struct bt_flame_node *kid_insert(struct bt_flame_node *p, size_t pos,
					const char *name, enum bt_frame_type type)
{
	struct bt_flame_node *n;

	if (!bt_grow((void **)&p->kids, &p->cap, p->nkids + 1, sizeof(*p->kids)))
		return NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->name = strdup(name);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->type = type;
	memmove(&p->kids[pos + 1], &p->kids[pos], (p->nkids - pos) * sizeof(*p->kids));
	p->kids[pos] = n;
	p->nkids++;
	return n;
}

/* Undoes a kid_insert(): the node and whatever was built above it. */
static void kid_remove(struct bt_flame_node *p, size_t pos)
{
	node_release(p->kids[pos]);
	free(p->kids[pos]);
	memmove(&p->kids[pos], &p->kids[pos + 1], (p->nkids - pos - 1) * sizeof(*p->kids));
	p->nkids--;
}

/* "pipe:[12]→cat", "futex:0x7f..": a kind name, then ':'. */
static bool is_boundary_name(const char *s)
{
	const char *colon = strchr(s, ':');

	if (!colon)
		return false;
	for (unsigned int k = 0; k < BT_KIND_MAX; k++) {
		const char *kn = bt_kind_name(k);
		size_t len = strlen(kn);

		if ((size_t)(colon - s) == len && !strncmp(s, kn, len))
			return true;
	}
	return false;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && !strcmp(s + ls - lx, suffix);
}

/* The folded-format conventions of stackcollapse and bcc, see flame.h. */
static void guess_types(const char *const *frames, size_t n, enum bt_frame_type *t)
{
	enum bt_frame_type mode = BT_FT_USER;

	for (size_t i = 0; i < n; i++) {
		const char *s = frames[i];

		if (i == 0) {
			t[i] = BT_FT_PROCESS;
		} else if (!strcmp(s, "-") || !strcmp(s, "--")) {
			t[i] = BT_FT_SEPARATOR;
			mode = s[1] ? BT_FT_WAKER : BT_FT_KERNEL;
		} else if (i == n - 1 && is_boundary_name(s)) {
			t[i] = BT_FT_BOUNDARY;
		} else if (has_suffix(s, "_[k]")) {
			t[i] = BT_FT_KERNEL;
		} else if (has_suffix(s, "_[w]")) {
			t[i] = BT_FT_WAKER;
		} else {
			t[i] = mode;
		}
	}
}

static int check_stack(const char *const *frames, const enum bt_frame_type *types,
		       size_t n)
{
	if (!frames || !n)
		return -EINVAL;
	if (n > BT_FLAME_MAX_DEPTH)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if (!frames[i])
			return -EINVAL;
		if (types && (unsigned int)types[i] >= BT_FT_MAX)
			return -EINVAL;
	}
	return 0;
}

int bt_flame_add(struct bt_flame *f, const char *const *frames,
		 const enum bt_frame_type *types, size_t n, uint64_t weight)
{
	enum bt_frame_type guessed[BT_FLAME_MAX_DEPTH];
	struct bt_flame_node *path[BT_FLAME_MAX_DEPTH];
	struct bt_flame_node *p, *undo = NULL;
	size_t undo_pos = 0;
	int err;

	if (!f)
		return -EINVAL;
	err = check_stack(frames, types, n);
	if (err)
		return err;
	if (weight > UINT64_MAX - f->root.total)
		return -EOVERFLOW;
	/* A stack that weighs nothing would only add invisible frames. */
	if (!weight)
		return 0;
	if (!types) {
		guess_types(frames, n, guessed);
		types = guessed;
	}

	p = &f->root;
	for (size_t i = 0; i < n; i++) {
		size_t pos;
		struct bt_flame_node *k = kid_find(p, frames[i], types[i], &pos);

		if (!k) {
			k = kid_insert(p, pos, frames[i], types[i]);
			if (!k) {
				/* Leave the tree as it was: no weightless frames. */
				if (undo)
					kid_remove(undo, undo_pos);
				return -ENOMEM;
			}
			if (!undo) {
				undo = p;
				undo_pos = pos;
			}
		}
		path[i] = k;
		p = k;
	}

	f->root.total += weight;
	for (size_t i = 0; i < n; i++)
		path[i]->total += weight;
	path[n - 1]->self += weight;
	return 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Parses the digits of s[0..len) into *v; -EOVERFLOW past 2^64 - 1. */
static int parse_weight(const char *s, size_t len, uint64_t *v)
{
	uint64_t w = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned int d = (unsigned int)(s[i] - '0');

		if (w > (UINT64_MAX - d) / 10)
			return -EOVERFLOW;
		w = w * 10 + d;
	}
	*v = w;
	return 0;
}

/* Splits buf at every ';' in place and adds the frames. */
static int add_split(struct bt_flame *f, char *buf, uint64_t weight)
{
	const char **frames;
	size_t n = 1, i = 0;
	int err;

	for (const char *c = buf; *c; c++)
		n += *c == ';';
	if (n > BT_FLAME_MAX_DEPTH)
		return -E2BIG;
	frames = malloc(n * sizeof(*frames));
	if (!frames)
		return -ENOMEM;
	frames[i++] = buf;
	for (char *c = buf; *c; c++) {
		if (*c == ';') {
			*c = '\0';
			frames[i++] = c + 1;
		}
	}
	err = bt_flame_add(f, frames, NULL, n, weight);
	free(frames);
	return err;
}

int bt_flame_add_folded_line(struct bt_flame *f, const char *line)
{
	size_t end, digits, stack;
	uint64_t weight;
	char *buf;
	int err;

	if (!f || !line)
		return -EINVAL;
	end = strlen(line);
	while (end && is_space(line[end - 1]))
		end--;
	if (!end)
		return 0;
	/* The weight is the last word; the stack is all before it. */
	digits = end;
	while (digits && line[digits - 1] >= '0' && line[digits - 1] <= '9')
		digits--;
	if (digits == end || !digits || !is_space(line[digits - 1]))
		return -EINVAL;
	err = parse_weight(line + digits, end - digits, &weight);
	if (err)
		return err;
	stack = digits;
	while (stack && is_space(line[stack - 1]))
		stack--;
	if (!stack)
		return -EINVAL;

	buf = strndup(line, stack);
	if (!buf)
		return -ENOMEM;
	err = add_split(f, buf, weight);
	free(buf);
	return err;
}

static int walk(const struct bt_flame_node *n, unsigned int depth,
		int (*fn)(const struct bt_flame_frame *fr, void *ctx), void *ctx)
{
	for (size_t i = 0; i < n->nkids; i++) {
		const struct bt_flame_node *k = n->kids[i];
		struct bt_flame_frame fr = {
			.name = k->name,
			.type = k->type,
			.depth = depth,
			.total = k->total,
			.self = k->self,
		};
		int r = fn(&fr, ctx);

		if (r)
			return r;
		r = walk(k, depth + 1, fn, ctx);
		if (r)
			return r;
	}
	return 0;
}

int bt_flame_walk(const struct bt_flame *f,
		  int (*fn)(const struct bt_flame_frame *fr, void *ctx), void *ctx)
{
	if (!f || !fn)
		return -EINVAL;
	return walk(&f->root, 0, fn, ctx);
}

void bt_flame_sanitize(char *frame)
{
	if (!frame)
		return;
	for (; *frame; frame++)
		if (*frame == ';' || is_space(*frame))
			*frame = '_';
}
