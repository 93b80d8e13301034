// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lib/outfile.h"
#include "lib/safeopen.h"
#include "lib/vec.h"

/* An output written under a temporary name, renamed over its own at close. */
struct pending {
	FILE *f;
	int dirfd;
	bool noreplace;		/* without --force: a file made meanwhile is not replaced */
	char *tmp, *base;
};

static struct pending *pendings;
static size_t npendings, cappendings;

/* PATH split into its directory and last name; the directory resolved without symlinks. */
struct where {
	int dirfd;
	char *copy;
	const char *base;
};

static void where_free(struct where *w)
{
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->copy);
	w->dirfd = -1;
	w->copy = NULL;
}

static int locate(const char *path, struct where *w, char *err, size_t errlen)
{
	const char *dir = ".";
	char *slash;

	w->dirfd = -1;
	w->copy = strdup(path);
	if (!w->copy) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		return -1;
	}
	slash = strrchr(w->copy, '/');
	w->base = w->copy;
	if (slash) {
		*slash = 0;
		w->base = slash + 1;
		dir = slash == w->copy ? "/" : w->copy;
	}
	if (!*w->base || !strcmp(w->base, ".") || !strcmp(w->base, "..")) {
		snprintf(err, errlen, "%s: not a regular file", path);
		return -1;
	}
	/*
	 * Every directory on the way, not only the last name: a symlinked
	 * parent would send root's output wherever its owner points it.
	 */
	w->dirfd = bt_openat2(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC,
			      RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (w->dirfd < 0 && errno == ENOSYS)	/* before Linux 5.6: the last name only */
		w->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		if (errno == ELOOP)
			snprintf(err, errlen, "%s: a directory on its path is a symbolic link; "
				 "refusing to write through it (give the real path)", path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static FILE *fd_stream(int fd, const char *path, char *err, size_t errlen)
{
	FILE *f;

	/* O_NONBLOCK was only there so opening a FIFO or a device cannot hang. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	f = fdopen(fd, "w");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

/* A character device (/dev/null, a tty) is written as it is, never replaced. */
static FILE *open_device(struct where *w, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = openat(w->dirfd, w->base, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISCHR(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	return fd_stream(fd, path, err, errlen);
}

/* The recording's way: written under its name from the first snapshot on. */
static FILE *open_in_place(struct where *w, const char *path, bool overwrite, char *err,
			   size_t errlen)
{
	int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK;
	struct stat st;
	int fd;

	if (!overwrite)
		flags |= O_EXCL;
	fd = openat(w->dirfd, w->base, flags, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    ftruncate(fd, 0) || fchmod(fd, 0600)) {
		snprintf(err, errlen, "%s: %s", path, S_ISREG(st.st_mode) && st.st_uid != geteuid() ?
			 "owned by another user; refusing to overwrite" : "not a regular file");
		close(fd);
		return NULL;
	}
	return fd_stream(fd, path, err, errlen);
}

/* The report's way: a temporary name beside it, renamed over it when complete. */
static FILE *open_replace(struct where *w, const char *path, bool overwrite, char *err,
			  size_t errlen)
{
	static unsigned int serial;
	struct pending *p;
	char tmp[300];
	FILE *f;
	int fd = -1;

	for (int tries = 0; fd < 0 && tries < 100; tries++) {
		snprintf(tmp, sizeof(tmp), ".%.200s.%d.%u.tmp", w->base, (int)getpid(), serial++);
		fd = openat(w->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (!bt_grow((void **)&pendings, &cappendings, npendings + 1, sizeof(*pendings)))
		goto fail;
	p = &pendings[npendings];
	p->tmp = strdup(tmp);
	p->base = strdup(w->base);
	p->dirfd = dup(w->dirfd);
	if (!p->tmp || !p->base || p->dirfd < 0) {
		free(p->tmp);
		free(p->base);
		if (p->dirfd >= 0)
			close(p->dirfd);
		goto fail;
	}
	f = fd_stream(fd, path, err, errlen);
	if (!f) {
		unlinkat(w->dirfd, tmp, 0);
		free(p->tmp);
		free(p->base);
		close(p->dirfd);
		return NULL;
	}
	p->f = f;
	p->noreplace = !overwrite;
	npendings++;
	return f;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOMEM));
	close(fd);
	unlinkat(w->dirfd, tmp, 0);
	return NULL;
}

static FILE *open_output(const char *path, bool overwrite, bool in_place, char *err,
			 size_t errlen)
{
	struct where w;
	struct stat st;
	FILE *f = NULL;

	if (!strcmp(path, "-"))
		return stdout;
	if (locate(path, &w, err, errlen))
		goto out;
	if (fstatat(w.dirfd, w.base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			snprintf(err, errlen, "%s: is a symbolic link; refusing to write through it",
				 path);
		else if (S_ISCHR(st.st_mode))
			f = open_device(&w, path, err, errlen);
		else if (!S_ISREG(st.st_mode))
			snprintf(err, errlen, "%s: not a regular file", path);
		else if (!overwrite)
			snprintf(err, errlen, "%s: exists (use --force to overwrite)", path);
		else if (st.st_uid != geteuid())
			/* A file planted by another user (a hard link, say) is not ours to replace. */
			snprintf(err, errlen, "%s: owned by another user; refusing to overwrite",
				 path);
		else
			f = in_place ? open_in_place(&w, path, overwrite, err, errlen) :
				       open_replace(&w, path, overwrite, err, errlen);
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	} else {
		f = in_place ? open_in_place(&w, path, overwrite, err, errlen) :
			       open_replace(&w, path, overwrite, err, errlen);
	}
out:
	where_free(&w);
	return f;
}

FILE *bt_open_output(const char *path, bool overwrite, char *err, size_t errlen)
{
	return open_output(path, overwrite, false, err, errlen);
}

FILE *bt_open_output_in_place(const char *path, bool overwrite, char *err, size_t errlen)
{
	return open_output(path, overwrite, true, err, errlen);
}

static struct pending *pending_of(FILE *f)
{
	for (size_t i = 0; i < npendings; i++)
		if (pendings[i].f == f)
			return &pendings[i];
	return NULL;
}

static void pending_drop(struct pending *p)
{
	close(p->dirfd);
	free(p->tmp);
	free(p->base);
	*p = pendings[--npendings];
}

/* The temporary file becomes the output; RENAME_NOREPLACE without --force. */
static int commit(struct pending *p)
{
	if (!p->noreplace)
		return renameat(p->dirfd, p->tmp, p->dirfd, p->base);
	if (!renameat2(p->dirfd, p->tmp, p->dirfd, p->base, RENAME_NOREPLACE))
		return 0;
	if (errno != EINVAL)
		return -1;
	/* A filesystem without RENAME_NOREPLACE: link(2) does not replace either. */
	if (linkat(p->dirfd, p->tmp, p->dirfd, p->base, 0))
		return -1;
	unlinkat(p->dirfd, p->tmp, 0);
	return 0;
}

bool bt_close_output(FILE *f, char *err, size_t errlen)
{
	struct pending *p = pending_of(f);
	char *p_base = NULL;
	bool ok;
	int e = 0;

	if (f == stdout) {
		ok = fflush(f) == 0 && !ferror(f);
		e = errno;
	} else {
		/* A full disk may only show at the flush or the sync: both count. */
		ok = fflush(f) == 0 && !ferror(f) && (!p || fsync(fileno(f)) == 0);
		e = errno;
		ok = (fclose(f) == 0) && ok;
		if (!e)
			e = errno;
	}
	if (ok && p && commit(p)) {
		ok = false;
		e = errno;
	}
	if (p) {
		if (!ok)	/* the old file (or nothing) stays, never a cut one */
			unlinkat(p->dirfd, p->tmp, 0);
		p_base = strdup(p->base);
		pending_drop(p);
	}
	if (!ok && err && errlen) {
		if (e == EEXIST)	/* made by someone else while we wrote */
			snprintf(err, errlen, "%s: exists (use --force to overwrite)", p_base);
		else
			snprintf(err, errlen, "write failed: %s", strerror(e));
	}
	free(p_base);
	return ok;
}

void bt_abort_output(FILE *f)
{
	struct pending *p = pending_of(f);

	if (!f || f == stdout)
		return;
	fclose(f);
	if (p) {
		unlinkat(p->dirfd, p->tmp, 0);
		pending_drop(p);
	}
}

/* dev+ino of the directory PATH is in, and its last name. */
static int dir_identity(const char *path, struct stat *dir, char *base, size_t len)
{
	char err[16];
	struct where w;
	int rc = -1;

	if (!locate(path, &w, err, sizeof(err)) && !fstat(w.dirfd, dir)) {
		snprintf(base, len, "%s", w.base);
		rc = 0;
	}
	where_free(&w);
	return rc;
}

bool bt_same_output(const char *a, const char *b)
{
	struct stat sa, sb;
	char ba[256], bb[256];

	if (!a || !b || !strcmp(a, "-") || !strcmp(b, "-"))
		return false;
	/* Both exist: the same inode, through any name (a hard link too); devices may be shared. */
	if (!stat(a, &sa) && !stat(b, &sb))
		return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && !S_ISCHR(sa.st_mode);
	if (!strcmp(a, b))
		return true;
	/* Not made yet: the same name in the same directory. */
	return !dir_identity(a, &sa, ba, sizeof(ba)) && !dir_identity(b, &sb, bb, sizeof(bb)) &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino && !strcmp(ba, bb);
}
