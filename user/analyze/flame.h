/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Flame graphs: a frame tree built from stacks (or folded lines), written
 * as one self-contained interactive SVG (inline CSS and JavaScript, no
 * external files), in the spirit of flamegraph.pl.
 */
#ifndef BT_FLAME_H
#define BT_FLAME_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Decides the colour of a frame; frames of different types never merge. */
enum bt_frame_type {
	BT_FT_PROCESS,		/* root frame: comm[pid] */
	BT_FT_USER,
	BT_FT_KERNEL,
	BT_FT_BOUNDARY,		/* leaf naming the IPC crossing: pipe:[1234]→cat */
	BT_FT_WAKER,		/* frames of the task that woke us */
	BT_FT_SEPARATOR,	/* "-" (user|kernel) or "--" (blocked|waker) */
	BT_FT_MAX,
};

/* Stacks deeper than this are refused (-E2BIG). */
#define BT_FLAME_MAX_DEPTH 1024

struct bt_flame;

struct bt_flame *bt_flame_new(void);
void bt_flame_free(struct bt_flame *f);

/*
 * Adds one stack, frames root-first, with its weight. types may be NULL:
 * then they are guessed as for folded lines. Returns 0 or a negative
 * errno; on error the tree is unchanged.
 */
int bt_flame_add(struct bt_flame *f, const char *const *frames,
		 const enum bt_frame_type *types, size_t n, uint64_t weight);

/*
 * Adds one folded line, "proc[1];a;b;-;k1;pipe:[7]→cat 123". Types are
 * guessed: the first frame is the process, frames after "-" are kernel,
 * after "--" waker, a name ending in _[k] is kernel and _[w] waker, and a
 * last frame starting with a boundary kind and ':' is the boundary.
 * A blank line adds nothing and returns 0; a malformed one -EINVAL.
 */
int bt_flame_add_folded_line(struct bt_flame *f, const char *line);

/* Sum of all weights added. */
uint64_t bt_flame_total(const struct bt_flame *f);

/* One frame as seen by bt_flame_walk(). */
struct bt_flame_frame {
	const char *name;
	enum bt_frame_type type;
	unsigned int depth;	/* 0 for the process frames */
	uint64_t total;		/* weight of the frame and everything above it */
	uint64_t self;		/* weight of stacks ending at this frame */
};

/*
 * Visits every frame depth-first, parents before children, siblings in
 * the SVG's order (by name, then type). A non-zero return from fn stops
 * the walk and is returned.
 */
int bt_flame_walk(const struct bt_flame *f,
		  int (*fn)(const struct bt_flame_frame *fr, void *ctx), void *ctx);

struct bt_flame_svg_opts {
	const char *title;	/* NULL: "Flame Graph" */
	const char *subtitle;	/* NULL: none */
	const char *unit;	/* "calls", "bytes", "us"; NULL: "samples" */
	unsigned int width;	/* pixels; 0: 1200; else at least 100 */
};

/* opts may be NULL. Returns 0, -EINVAL (bad width) or -EIO. */
int bt_flame_write_svg(const struct bt_flame *f,
		       const struct bt_flame_svg_opts *opts, FILE *out);

/* For the folded format: ';' and whitespace in a name become '_'. */
void bt_flame_sanitize(char *frame);

#endif
