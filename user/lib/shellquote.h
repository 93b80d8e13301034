/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A command line as a shell would need it typed again: a recording keeps
 * boundtrace's own, and `-c CMD ARGS...` hands its arguments to /bin/sh.
 */
#ifndef BT_SHELLQUOTE_H
#define BT_SHELLQUOTE_H

#include <stddef.h>

/*
 * Joins argv[0..argc) (stopping at a NULL) into buf with spaces, each
 * argument single-quoted unless it is plain; cut to fit size (buf may be
 * NULL when size is 0). Returns the length of the whole line, as
 * snprintf: size must exceed it for nothing to be cut.
 */
size_t bt_shell_join(char *buf, size_t size, int argc, char *const argv[]);

#endif
