// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdarg.h>
#include <stdio.h>
#include "lib/linebuf.h"

/* A cut line must stay valid UTF-8: drop a partial last character. */
static void trim_utf8(char *s, size_t n)
{
	size_t i = n, need;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (!i || (unsigned char)s[i - 1] < 0xc0)
		return;
	need = (unsigned char)s[i - 1] >= 0xf0 ? 4 : (unsigned char)s[i - 1] >= 0xe0 ? 3 : 2;
	if (n - (i - 1) < need)
		s[i - 1] = 0;
}

void bt_linebuf_init(struct bt_linebuf *o, char *buf, size_t len)
{
	*o = (struct bt_linebuf){ buf, len, 0 };
	if (len)
		buf[0] = 0;
}

void bt_linebuf_put(struct bt_linebuf *o, const char *fmt, ...)
{
	size_t room = o->pos < o->len ? o->len - o->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (room && (size_t)n >= room)
		trim_utf8(o->buf, o->len - 1);
	o->pos += (size_t)n;
}
