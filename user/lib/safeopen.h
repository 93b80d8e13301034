/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * openat2(2) (glibc has no wrapper before 2.38): resolution that refuses
 * symbolic links, or stays inside a root. Used for output files and for
 * reading the files of a process in a container.
 */
#ifndef BT_SAFEOPEN_H
#define BT_SAFEOPEN_H

#include <stdint.h>

/* openat2(dirfd, path, {flags, mode 0, resolve}); -1 and errno on failure. */
int bt_openat2(int dirfd, const char *path, int flags, uint64_t resolve);

#endif
