/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef BT_OUTFILE_H
#define BT_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Opens an output file the way a root tool must: never through a symlink
 * (O_NOFOLLOW), mode 0600 (it holds other processes' data), only regular
 * files or character devices, exclusive create unless overwrite, and
 * never truncating a file another user owns.
 * "-" is stdout. On failure returns NULL and leaves a message in err.
 */
FILE *bt_open_output(const char *path, bool overwrite, char *err, size_t errlen);
/* Closes what bt_open_output gave (not stdout); false on a write error. */
bool bt_close_output(FILE *f, char *err, size_t errlen);

#endif
