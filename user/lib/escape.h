/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bytes from other processes (comm, paths, channel names) made safe to
 * print: a name must not move the cursor, clear a terminal or break a
 * line-based format.
 */
#ifndef BT_ESCAPE_H
#define BT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one. */
int bt_utf8_len(const unsigned char *p);

/*
 * s for a terminal: printable ASCII and valid UTF-8 pass, except what a
 * terminal acts on: control bytes, DEL, C1 controls (U+009B is CSI), line
 * and paragraph separators and bidi overrides (they reorder the rest of
 * the line) become \xNN per byte, as do bytes that are not UTF-8; the
 * backslash is \\. Truncated at a whole character to fit len (len >= 1);
 * returns buf. The one escaper for everything that reaches a terminal
 * (table, folded, chains, hist, stderr); JSON, DOT and SVG escape their way.
 */
char *bt_escape_term(const char *s, char *buf, size_t len);

/* Largest output bt_escape_term makes from n input bytes (without the NUL). */
#define BT_ESCAPED_MAX(n)	(4 * (n))

/* Print s escaped as bt_escape_term does, at any length. */
void bt_fputs_escaped(FILE *f, const char *s);

#endif
