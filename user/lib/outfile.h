/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef BT_OUTFILE_H
#define BT_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>

/*
 * Opens an output file the way a root tool must: never through a
 * symlink, neither the file itself nor any directory on its path
 * (openat2 RESOLVE_NO_SYMLINKS); mode 0600 (it holds other processes'
 * data); only regular files or character devices (a FIFO or a device is
 * never opened in a way that can block); an existing file only with
 * overwrite, and never one another user owns.
 *
 * The report is written under a temporary name in the same directory
 * and renamed over PATH by bt_close_output when complete: a failed write
 * (a full disk) leaves the old file, or none, never a cut one.
 * "-" is stdout; a character device is written as it is.
 * On failure returns NULL and leaves a message in err.
 */
FILE *bt_open_output(const char *path, bool overwrite, char *err, size_t errlen);
/*
 * The same checks, but written under PATH itself from the start: for
 * recordings, whose every snapshot is complete, so a kill -9 leaves all
 * of them but the last second readable.
 */
FILE *bt_open_output_in_place(const char *path, bool overwrite, char *err, size_t errlen);
/*
 * Closes what bt_open_output gave (not stdout): flushes, syncs and puts
 * it in place. false on a write error (the temporary file is removed).
 */
bool bt_close_output(FILE *f, char *err, size_t errlen);
/* Closes without putting it in place: nothing is left behind (stdout: no-op). */
void bt_abort_output(FILE *f);
/*
 * Whether two output paths name the same file: the same inode when both
 * exist (through any name, hard links too), else the same name in the
 * same directory. "-" and character devices are never the same.
 */
bool bt_same_output(const char *a, const char *b);

#endif
