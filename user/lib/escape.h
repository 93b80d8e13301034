/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bytes from other processes (comm, paths, channel names) made safe to
 * print: a name must not move the cursor, clear a terminal or break a
 * line-based format.
 */
#ifndef BT_ESCAPE_H
#define BT_ESCAPE_H

#include <stddef.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one. */
int bt_utf8_len(const unsigned char *p);

/*
 * s for a terminal: printable ASCII and valid UTF-8 other than C1
 * controls pass; control bytes, DEL, C1 controls and bytes that are not
 * UTF-8 become \xNN, the backslash \\. Truncated at a whole character to
 * fit len (len >= 1); returns buf.
 */
char *bt_escape_term(const char *s, char *buf, size_t len);

#endif
