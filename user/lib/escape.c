// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "lib/escape.h"

int bt_utf8_len(const unsigned char *p)
{
	int n, i;
	unsigned int cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not text. */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * U+2028/2029 end a line; U+202A..202E and U+2066..2069 reorder what
 * follows on it: a name could make the rest of a line read backwards.
 */
static bool acts_on_line(const unsigned char *p, int u)
{
	return u == 3 && p[0] == 0xe2 &&
	       ((p[1] == 0x80 && p[2] >= 0xa8 && p[2] <= 0xae) ||
		(p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9));
}

/* The escape of the character at p into piece; returns its input length. */
static int escape_char(const unsigned char *p, char piece[8])
{
	int u = bt_utf8_len(p);

	/* C1 controls (U+0080..U+009F) act on terminals like ESC sequences. */
	if ((u == 2 && p[0] == 0xc2 && p[1] < 0xa0) || acts_on_line(p, u))
		u = 0;
	if (u == 1 && *p == '\\') {
		memcpy(piece, "\\\\", 3);
	} else if (u == 1 && (*p < 0x20 || *p == 0x7f)) {
		snprintf(piece, 8, "\\x%02x", *p);
	} else if (u >= 1) {
		memcpy(piece, p, u);
		piece[u] = 0;
	} else {
		snprintf(piece, 8, "\\x%02x", *p);
		u = 1;
	}
	return u;
}

char *bt_escape_term(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t o = 0;

	while (*p) {
		char piece[8];
		int u = escape_char(p, piece);
		size_t n = strlen(piece);

		if (o + n >= len)
			break;
		memcpy(buf + o, piece, n);
		o += n;
		p += u;
	}
	buf[o] = 0;
	return buf;
}

void bt_fputs_escaped(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char piece[8];

	while (*p) {
		p += escape_char(p, piece);
		fputs(piece, f);
	}
}
