/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A line of text built piece by piece in the caller's buffer: snprintf
 * that keeps going past a full buffer, counting what it skipped, so the
 * caller learns the whole line's length; a cut line stays valid UTF-8.
 */
#ifndef BT_LINEBUF_H
#define BT_LINEBUF_H

#include <stddef.h>

struct bt_linebuf {
	char *buf;
	size_t len, pos;	/* pos: the whole line's length so far, past len if cut */
};

/* An empty line in buf (len bytes, "" if there is room for it). */
void bt_linebuf_init(struct bt_linebuf *o, char *buf, size_t len);
/* Appends what fmt says. */
__attribute__((format(printf, 2, 3)))
void bt_linebuf_put(struct bt_linebuf *o, const char *fmt, ...);

#endif
