// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "lib/safeopen.h"

int bt_openat2(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)flags, .resolve = resolve };

	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}
