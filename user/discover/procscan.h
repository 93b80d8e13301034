/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Pipe and socket fds of processes, read from a BPF task_file iterator
 * or from /proc/PID/fd. This is how boundtrace finds the process on the
 * other end of a channel when that process is not traced: the kernel side
 * only knows the inode.
 */
#ifndef BT_PROCSCAN_H
#define BT_PROCSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum bt_fd_type { BT_FD_PIPE = 1, BT_FD_SOCKET = 2 };
enum bt_pipe_end { BT_END_READ = 1, BT_END_WRITE = 2, BT_END_BOTH = 3 };

struct bt_fdref {
	uint32_t pid;
	uint64_t ino;
	uint8_t type;	/* enum bt_fd_type */
	/* Pipes: enum bt_pipe_end from the fdinfo flags; 0 for sockets. */
	uint8_t mode;
	/*
	 * 1 for a named FIFO: its inode numbers the filesystem it lives on,
	 * not pipefs, so it may collide with an anonymous pipe's inode.
	 */
	uint8_t named;
	uint32_t fd;
};

/*
 * The scans below read from a BPF task_file iterator (discover/fditer.h)
 * from now on: one read() for a page of records where /proc takes a
 * readlink per fd and an fdinfo read per pipe (8,000 fds: 1.4-3.9 ms
 * against 54-83 ms). 0, or -errno when the kernel refuses to load it,
 * and the scans stay on /proc;
 * a scan it fails later (but for a process gone or no memory) reads /proc
 * too. Off (false) goes back to /proc and unloads it.
 */
int bt_scan_use_iterator(bool on);

/*
 * Appends every pipe and socket fd of one process (O_PATH fds on pipes
 * hold no end and are left out) to the growable array
 * *arr (*n used, *cap allocated; both 0 and *arr NULL to start). The
 * caller frees *arr. 0 or -errno: -ESRCH when the process is gone,
 * -EACCES when its fds may not be read; *n is left as it was on error.
 */
int bt_scan_process_fds(uint32_t pid, struct bt_fdref **arr, size_t *n, size_t *cap);
/*
 * Called between two processes of a long scan (bt_scan_all_fds: every
 * process of the machine, hundreds of milliseconds on a busy one), so
 * the caller's own work that cannot wait (a fold of the kernel's rows
 * before its map fills) runs meanwhile. NULL: none.
 */
typedef void (*bt_tick_fn)(void *ctx);

/*
 * The same for every process in /proc, skipping those that vanish or
 * deny access meanwhile, tick(ctx) between processes. 0 or -errno (*n as
 * it was on error).
 */
int bt_scan_all_fds(struct bt_fdref **arr, size_t *n, size_t *cap, bt_tick_fn tick, void *ctx);

/* "pipe:[123]" -> BT_FD_PIPE, 123; "socket:[9]" -> BT_FD_SOCKET, 9; else -1. */
int bt_parse_fd_link(const char *link, uint8_t *type, uint64_t *ino);
/* The octal "flags:" field of /proc/PID/fdinfo/N text; 0 or -1. */
int bt_parse_fdinfo_flags(const char *fdinfo_text, unsigned int *flags);
/* O_RDONLY/O_WRONLY/O_RDWR of open flags -> enum bt_pipe_end; 0 for O_PATH or junk. */
uint8_t bt_pipe_end_of_flags(unsigned int flags);

#endif
