// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Shell quoting of a command line; see shellquote.h. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include "lib/shellquote.h"

static bool plain_arg(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("@%+=:,./_-", *s))
			return false;
	return true;
}

/* Appends what fits (keeping buf terminated); *len counts it all, as snprintf. */
static void append(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	size_t room = *len + 1 < size ? size - 1 - *len : 0;

	if (room) {
		memcpy(buf + *len, s, n < room ? n : room);
		buf[*len + (n < room ? n : room)] = 0;
	}
	*len += n;
}

size_t bt_shell_join(char *buf, size_t size, int argc, char *const argv[])
{
	size_t len = 0;

	if (size)
		buf[0] = 0;
	for (int i = 0; argv && i < argc && argv[i]; i++) {
		const char *a = argv[i];

		if (i)
			append(buf, size, &len, " ", 1);
		if (plain_arg(a)) {
			append(buf, size, &len, a, strlen(a));
			continue;
		}
		append(buf, size, &len, "'", 1);
		for (; *a; a++) {
			if (*a == '\'')
				append(buf, size, &len, "'\\''", 4);
			else
				append(buf, size, &len, a, 1);
		}
		append(buf, size, &len, "'", 1);
	}
	return len;
}
