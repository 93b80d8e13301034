// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Shell quoting of a command line; see shellquote.h. */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include "record/shellquote.h"

static bool plain_arg(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("@%+=:,./_-", *s))
			return false;
	return true;
}

static void append(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	if (*len + 1 >= size)
		return;
	if (n > size - 1 - *len)
		n = size - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = 0;
}


void bt_shell_join(char *buf, size_t size, int argc, char *const argv[])
{
	size_t len = 0;

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
}
