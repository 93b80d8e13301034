/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The frame tree behind flame.h, shared by flame.c and flame_svg.c only. */
#ifndef BT_FLAME_PRIV_H
#define BT_FLAME_PRIV_H

#include "analyze/flame.h"

struct bt_flame_node {
	char *name;
	enum bt_frame_type type;
	uint64_t total;			/* this frame and everything above it */
	uint64_t self;			/* stacks ending here */
	struct bt_flame_node **kids;	/* sorted by name, then type */
	size_t nkids;
	size_t cap;
};

struct bt_flame {
	struct bt_flame_node root;	/* "all": no name, total of every stack */
};

#endif
