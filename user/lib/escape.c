// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdint.h>
#include <string.h>
#include "lib/escape.h"

/* One byte's escape into out (at most 4 bytes and a NUL); next is the byte after. */
static size_t escape_byte(unsigned char c, unsigned char next, char out[5])
{
	static const char named[] = { ['\t'] = 't', ['\n'] = 'n', ['\v'] = 'v',
				      ['\f'] = 'f', ['\r'] = 'r' };

	if (c == '\\') {
		memcpy(out, "\\\\", 3);
		return 2;
	}
	if (c >= 0x20 && c < 0x7f) {
		out[0] = (char)c;
		out[1] = 0;
		return 1;
	}
	if (c < sizeof(named) && named[c]) {
		out[0] = '\\';
		out[1] = named[c];
		out[2] = 0;
		return 2;
	}
	/* Octal as strace: shortest form, unless a digit follows and would join it. */
	if (next >= '0' && next <= '9')
		return (size_t)snprintf(out, 5, "\\%03o", c);
	return (size_t)snprintf(out, 5, "\\%o", c);
}

/*
 * Length of the well-formed UTF-8 character at p that a terminal only
 * draws, or 0: C1 controls (U+0080..U+009F: CSI is U+009B), line and
 * paragraph separators, bidi overrides and isolates (they reorder what
 * follows on the line), overlong forms and surrogates are not.
 */
static size_t drawable_utf8(const unsigned char *p)
{
	uint32_t cp;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;	/* also stops at the NUL */
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0 || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
		return 0;
	return n;
}

/* The escape of the character at p into out (at most 4 bytes and a NUL); its input length. */
static size_t escape_char(const unsigned char *p, char out[5], size_t *outlen)
{
	size_t n = drawable_utf8(p);

	if (n) {
		memcpy(out, p, n);
		out[n] = 0;
		*outlen = n;
		return n;
	}
	*outlen = escape_byte(p[0], p[1], out);
	return 1;
}

char *bt_escape(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t off = 0, in, n;
	char e[5];

	if (!len)
		return buf;
	for (; *p; p += in) {
		in = escape_char(p, e, &n);
		if (off + n >= len)
			break;
		memcpy(buf + off, e, n);
		off += n;
	}
	buf[off] = 0;
	return buf;
}

void bt_fputs_escaped(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t in, n;
	char e[5];

	for (; *p; p += in) {
		in = escape_char(p, e, &n);
		fputs(e, f);
	}
}
