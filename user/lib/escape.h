/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Text from other processes (comm, socket paths, symbols) made safe for a
 * terminal, as strace prints it: printable ASCII stays, a backslash is
 * `\\`, tab/newline/CR and friends are `\t` `\n` `\r` `\v` `\f`, and every
 * other byte (ESC, BEL, DEL, invalid UTF-8) is octal: ESC is `\33`
 * (three digits when a digit follows: `\0331`). Well-formed UTF-8 stays
 * (a name in Cyrillic reads as one) except what a terminal acts on: C1
 * controls, line separators, bidi overrides. No byte a terminal acts on
 * ever comes out raw. JSON, DOT and SVG have escaping of their own.
 */
#ifndef BT_ESCAPE_H
#define BT_ESCAPE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Escape s into buf (always terminated when len > 0; cut only between
 * escapes, never inside one). Returns buf.
 */
char *bt_escape(const char *s, char *buf, size_t len);

/* Largest output bt_escape can make from n input bytes (without the NUL). */
#define BT_ESCAPED_MAX(n)	(4 * (n))

/* Print s escaped (no length limit). */
void bt_fputs_escaped(FILE *f, const char *s);

#endif
