// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Pipe and socket fds from the task_file iterator (fditer.c) once
 * bt_scan_use_iterator loaded it, else from /proc/PID/fd. A full scan of
 * /proc touches every fd of every process, so it stays on *at() calls
 * relative to directory fds (no path walks from /), reads fdinfo only for
 * pipes and stats only links that look like paths.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "discover/fditer.h"
#include "discover/procscan.h"
#include "lib/vec.h"

/* The iterator the scans read, NULL: /proc. */
static struct bt_fditer *iter;

int bt_scan_use_iterator(bool on)
{
	if (!on) {
		bt_fditer_close(iter);
		iter = NULL;
		return 0;
	}
	return iter ? 0 : bt_fditer_open(&iter);
}

/*
 * What the iterator answered stands: the fds, a process gone, no memory.
 * Any other failure (a kernel that cannot iterate one process alone, a
 * link or read refused) leaves that scan to /proc.
 */
static bool iterator_answered(int err)
{
	return !err || err == -ESRCH || err == -ENOMEM;
}

/* Where one process's scan appends, and what it needs on the way. */
struct fdscan {
	struct bt_fdref **arr;
	size_t *n;
	size_t *cap;
	uint32_t pid;
	int fddir;	/* /proc/PID/fd */
	int pidfd;	/* /proc/PID, to open fdinfo only once a pipe shows up */
	int infodir;	/* /proc/PID/fdinfo or -1 */
};

static int fdref_push(struct fdscan *s, const struct bt_fdref *r)
{
	if (!bt_grow((void **)s->arr, s->cap, *s->n + 1, sizeof(**s->arr)))
		return -ENOMEM;
	(*s->arr)[(*s->n)++] = *r;
	return 0;
}

/* A process that exited shows as a missing /proc entry: report it as gone. */
static int proc_errno(int err)
{
	return err == ENOENT ? -ESRCH : -err;
}

/* Decimal digits only, no sign, no overflow; *end is left after them. */
static int parse_dec(const char *s, const char **end, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned int d = *s - '0';

		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*end = s;
	*out = v;
	return 0;
}

/* A whole string that is a decimal number up to max (pids, fd numbers). */
static int parse_name_num(const char *name, uint64_t max, uint64_t *out)
{
	const char *end;

	return parse_dec(name, &end, max, out) || *end ? -1 : 0;
}

int bt_parse_fd_link(const char *link, uint8_t *type, uint64_t *ino)
{
	static const struct {
		const char *prefix;
		uint8_t type;
	} kinds[] = {
		{ "pipe:[", BT_FD_PIPE },
		{ "socket:[", BT_FD_SOCKET },
	};
	const char *end;
	uint64_t v;
	size_t i;

	if (!link)
		return -1;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t len = strlen(kinds[i].prefix);

		if (strncmp(link, kinds[i].prefix, len))
			continue;
		if (parse_dec(link + len, &end, UINT64_MAX, &v) || strcmp(end, "]"))
			return -1;
		*type = kinds[i].type;
		*ino = v;
		return 0;
	}
	return -1;
}

int bt_parse_fdinfo_flags(const char *text, unsigned int *flags)
{
	const char *p = text;
	unsigned int v = 0;

	if (!text)
		return -1;
	/* The field must start a line: "mnt_flags:" or the like must not match. */
	while (strncmp(p, "flags:", 6)) {
		p = strchr(p, '\n');
		if (!p)
			return -1;
		p++;
	}
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '7')
		return -1;
	for (; *p >= '0' && *p <= '7'; p++) {
		if (v > (UINT32_MAX >> 3))
			return -1;
		v = v << 3 | (unsigned int)(*p - '0');
	}
	if (*p && *p != '\n')
		return -1;
	*flags = v;
	return 0;
}

uint8_t bt_pipe_end_of_flags(unsigned int flags)
{
	/* O_PATH shows as O_RDONLY but can neither read nor keep a writer going. */
	if (flags & O_PATH)
		return 0;
	switch (flags & O_ACCMODE) {
	case O_RDONLY:
		return BT_END_READ;
	case O_WRONLY:
		return BT_END_WRITE;
	case O_RDWR:
		return BT_END_BOTH;
	}
	return 0;
}

/*
 * The pipe end an fd holds, from its fdinfo: 0 with *mode set, 1 for an
 * O_PATH fd (no end at all), -ENOENT when the fd was closed since its
 * link was read, other -errno. Unparsable flags leave *mode 0, unknown.
 */
static int pipe_mode(struct fdscan *s, const char *name, uint8_t *mode)
{
	char buf[512];
	unsigned int flags;
	ssize_t len;
	int fd;

	if (s->infodir < 0) {
		s->infodir = openat(s->pidfd, "fdinfo", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (s->infodir < 0)
			return proc_errno(errno);
	}
	fd = openat(s->infodir, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* "flags:" is the second line; a pipe's fdinfo is far shorter than buf. */
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len < 0)
		return -errno;
	buf[len] = 0;
	if (bt_parse_fdinfo_flags(buf, &flags)) {
		*mode = 0;
		return 0;
	}
	*mode = bt_pipe_end_of_flags(flags);
	return flags & O_PATH ? 1 : 0;
}

/*
 * One /proc/PID/fd entry: appended if it is a pipe, FIFO or socket. An fd
 * closed while we look is no error, it simply is not there any more.
 */
static int scan_one_fd(struct fdscan *s, const char *name, uint32_t fdnum)
{
	struct bt_fdref r = { .pid = s->pid, .fd = fdnum };
	char link[256];
	struct statx stx;
	ssize_t len;
	int err;

	len = readlinkat(s->fddir, name, link, sizeof(link) - 1);
	if (len < 0)
		return errno == ENOENT ? 0 : -errno;
	link[len] = 0;

	if (bt_parse_fd_link(link, &r.type, &r.ino)) {
		/*
		 * Named FIFOs show as their path. stat() through the magic link
		 * reaches the open file even if the path was since unlinked or
		 * lives in another mount namespace. Type and inode number are
		 * cached in the inode: DONT_SYNC keeps a hung NFS or FUSE mount
		 * from stalling the scan, and a file that cannot be stat'ed at
		 * all (a dead FUSE server) is skipped rather than failing it.
		 */
		if (link[0] != '/')
			return 0;
		if (statx(s->fddir, name, AT_STATX_DONT_SYNC, STATX_TYPE | STATX_INO, &stx))
			return 0;
		if (!S_ISFIFO(stx.stx_mode))
			return 0;
		r.type = BT_FD_PIPE;
		r.ino = stx.stx_ino;
		r.named = 1;
	}
	if (r.type == BT_FD_PIPE) {
		err = pipe_mode(s, name, &r.mode);
		if (err)
			return err == -ENOENT || err == 1 ? 0 : err;
	}
	return fdref_push(s, &r);
}

static int scan_fd_dir(struct fdscan *s)
{
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = fdopendir(s->fddir);
	if (!d)
		return -errno;
	for (;;) {
		uint64_t fdnum;

		errno = 0;
		de = readdir(d);
		if (!de) {
			err = errno ? proc_errno(errno) : 0;
			break;
		}
		if (parse_name_num(de->d_name, INT32_MAX, &fdnum))
			continue;	/* "." and ".." */
		err = scan_one_fd(s, de->d_name, (uint32_t)fdnum);
		if (err)
			break;
	}
	/* closedir() closes s->fddir too. */
	closedir(d);
	s->fddir = -1;
	return err;
}

static int scan_pid_at(int procdir, const char *pidname, uint32_t pid,
		       struct bt_fdref **arr, size_t *n, size_t *cap)
{
	struct fdscan s = {
		.arr = arr, .n = n, .cap = cap, .pid = pid,
		.fddir = -1, .pidfd = -1, .infodir = -1,
	};
	size_t n0 = *n;
	int err;

	s.pidfd = openat(procdir, pidname, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s.pidfd < 0)
		return proc_errno(errno);
	s.fddir = openat(s.pidfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.fddir < 0)
		err = proc_errno(errno);
	else
		err = scan_fd_dir(&s);
	if (s.fddir >= 0)
		close(s.fddir);
	if (s.infodir >= 0)
		close(s.infodir);
	close(s.pidfd);
	if (err)
		*n = n0;
	return err;
}

static int check_array(struct bt_fdref **arr, size_t *n, size_t *cap)
{
	if (!arr || !n || !cap || *n > *cap || (!*arr && *cap))
		return -EINVAL;
	return 0;
}

int bt_scan_process_fds(uint32_t pid, struct bt_fdref **arr, size_t *n, size_t *cap)
{
	char name[24];

	if (check_array(arr, n, cap))
		return -EINVAL;
	if (!pid)
		return -ESRCH;
	if (iter) {
		int err = bt_fditer_scan(iter, pid, arr, n, cap, NULL, NULL);

		if (iterator_answered(err))
			return err;
	}
	snprintf(name, sizeof(name), "/proc/%u", pid);
	return scan_pid_at(AT_FDCWD, name, pid, arr, n, cap);
}

int bt_scan_all_fds(struct bt_fdref **arr, size_t *n, size_t *cap, bt_tick_fn tick, void *ctx)
{
	struct dirent *de;
	size_t n0;
	DIR *d;
	int err = 0;

	if (check_array(arr, n, cap))
		return -EINVAL;
	if (iter) {
		err = bt_fditer_scan(iter, 0, arr, n, cap, tick, ctx);
		if (iterator_answered(err))
			return err;
		err = 0;
	}
	n0 = *n;
	d = opendir("/proc");
	if (!d)
		return -errno;
	for (;;) {
		uint64_t pid;

		errno = 0;
		de = readdir(d);
		if (!de) {
			err = errno ? -errno : 0;
			break;
		}
		if (parse_name_num(de->d_name, UINT32_MAX, &pid) || !pid)
			continue;	/* self, net, sys, ... */
		err = scan_pid_at(dirfd(d), de->d_name, (uint32_t)pid, arr, n, cap);
		/* Exited, or ours to see only with more privilege: not an error here. */
		if (err == -ESRCH || err == -EACCES || err == -EPERM)
			err = 0;
		if (err)
			break;
		if (tick)
			tick(ctx);
	}
	closedir(d);
	if (err)
		*n = n0;
	return err;
}
