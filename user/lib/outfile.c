// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/outfile.h"

/*
 * O_EXCL fails with EEXIST on any name, a symlink or a directory too, and
 * O_NONBLOCK with ENXIO on a FIFO nobody reads: say what is really there.
 */
static void open_error(const char *path, char *err, size_t errlen)
{
	int e = errno;
	struct stat st;

	if (e == ELOOP || (e == EEXIST && !lstat(path, &st) && S_ISLNK(st.st_mode)))
		snprintf(err, errlen, "%s: is a symbolic link; refusing to write through it", path);
	else if (e == EISDIR || ((e == EEXIST || e == ENXIO) && !lstat(path, &st) &&
				 !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode)))
		snprintf(err, errlen, "%s: not a regular file", path);
	else if (e == EEXIST)
		snprintf(err, errlen, "%s: exists (use --force to overwrite)", path);
	else
		snprintf(err, errlen, "%s: %s", path, strerror(e));
}

FILE *bt_open_output(const char *path, bool overwrite, char *err, size_t errlen)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	struct stat st;
	FILE *f;
	int fd;

	if (!strcmp(path, "-"))
		return stdout;
	/* Truncation waits until we know what the file is and whose. */
	if (!overwrite)
		flags |= O_EXCL;
	fd = open(path, flags, 0600);
	/* A character device (/dev/null, a tty) is never "overwritten". */
	if (fd < 0 && errno == EEXIST && !lstat(path, &st) && S_ISCHR(st.st_mode))
		fd = open(path, flags & ~O_EXCL);
	if (fd < 0) {
		open_error(path, err, errlen);
		return NULL;
	}
	if (fstat(fd, &st) || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (S_ISREG(st.st_mode) && st.st_uid != geteuid()) {
		/* A file planted by another user (a hard link, say) is not ours to truncate. */
		snprintf(err, errlen, "%s: owned by another user; refusing to overwrite", path);
		close(fd);
		return NULL;
	}
	if (S_ISREG(st.st_mode) && (ftruncate(fd, 0) || fchmod(fd, 0600))) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	/* O_NONBLOCK was only there so opening a FIFO cannot hang. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

bool bt_close_output(FILE *f, char *err, size_t errlen)
{
	bool ok;

	if (f == stdout) {
		ok = fflush(f) == 0 && !ferror(f);
	} else {
		ok = !ferror(f);
		ok = (fclose(f) == 0) && ok;
	}
	if (!ok)
		snprintf(err, errlen, "write failed: %s", strerror(errno));
	return ok;
}
