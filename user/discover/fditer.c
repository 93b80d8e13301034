// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The task_file iterator (bpf/fdscan.bpf.c) read back. The kernel walks
 * every process's fd table and writes a record for each pipe, FIFO and
 * socket only; a read() returns whole records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "discover/fditer.h"
#include "fdscan.h"
#include "fdscan.skel.h"
#include "lib/vec.h"

_Static_assert(BT_FDREC_PIPE == BT_FD_PIPE && BT_FDREC_SOCKET == BT_FD_SOCKET,
	       "the record's types are procscan's");

struct bt_fditer {
	struct fdscan_bpf *skel;
	/* Every process's: one link for the whole trace, an iterator per scan. */
	struct bpf_link *all;
	/* The kernel refused a link for one process (before 6.1). */
	bool no_pid_links;
};

int bt_fditer_open(struct bt_fditer **out)
{
	struct bt_fditer *it;
	int err;

	*out = NULL;
	it = calloc(1, sizeof(*it));
	if (!it)
		return -ENOMEM;
	it->skel = fdscan_bpf__open_and_load();
	if (!it->skel)
		goto fail;
	it->all = bpf_program__attach_iter(it->skel->progs.fdscan, NULL);
	if (!it->all)
		goto fail;
	*out = it;
	return 0;
fail:
	err = errno ? -errno : -EINVAL;
	bt_fditer_close(it);
	return err;
}

void bt_fditer_close(struct bt_fditer *it)
{
	if (!it)
		return;
	bpf_link__destroy(it->all);
	fdscan_bpf__destroy(it->skel);
	free(it);
}

/* A record as procscan.c makes it from /proc. */
static int push_record(const struct bt_fdrec *r, struct bt_fdref **arr, size_t *n, size_t *cap)
{
	struct bt_fdref f = {
		.pid = r->pid, .ino = r->ino, .type = r->type, .named = r->named, .fd = r->fd,
	};

	if (r->type == BT_FD_PIPE)
		f.mode = bt_pipe_end_of_flags(r->flags);
	if (!bt_grow((void **)arr, cap, *n + 1, sizeof(**arr)))
		return -ENOMEM;
	(*arr)[(*n)++] = f;
	return 0;
}

/* Every record of one iterator, read until its end. */
static int read_records(int fd, struct bt_fdref **arr, size_t *n, size_t *cap,
			bt_tick_fn tick, void *ctx)
{
	/* A whole number of records: the kernel hands out whole ones. */
	struct bt_fdrec buf[512];

	for (;;) {
		ssize_t len = read(fd, buf, sizeof(buf));

		if (len < 0) {
			/* EAGAIN: a million files visited, none written; go on. */
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (!len)
			return 0;
		if (len % sizeof(buf[0]))
			return -EIO;
		for (size_t i = 0; i < len / sizeof(buf[0]); i++) {
			int err = push_record(&buf[i], arr, n, cap);

			if (err)
				return err;
		}
		if (tick)
			tick(ctx);
	}
}

/* A link for pid alone (BPF_TASK_ITER_TGID), or NULL with -errno in *err. */
static struct bpf_link *pid_link(struct bt_fditer *it, uint32_t pid, int *err)
{
	union bpf_iter_link_info linfo;
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	struct bpf_link *link;

	memset(&linfo, 0, sizeof(linfo));
	linfo.task.pid = pid;
	opts.link_info = &linfo;
	opts.link_info_len = sizeof(linfo);
	link = bpf_program__attach_iter(it->skel->progs.fdscan, &opts);
	if (!link)
		*err = errno ? -errno : -EINVAL;
	return link;
}

int bt_fditer_scan(struct bt_fditer *it, uint32_t pid, struct bt_fdref **arr, size_t *n,
		   size_t *cap, bt_tick_fn tick, void *ctx)
{
	struct bpf_link *link = it->all;
	size_t n0 = *n;
	int fd, err = 0;

	if (pid) {
		if (it->no_pid_links)
			return -EOPNOTSUPP;
		link = pid_link(it, pid, &err);
		if (!link) {
			/* Before 6.1 the task iterators take no pid. */
			if (err == -EINVAL || err == -E2BIG) {
				it->no_pid_links = true;
				err = -EOPNOTSUPP;
			}
			return err;
		}
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		err = -errno;
	else
		err = read_records(fd, arr, n, cap, tick, ctx);
	if (fd >= 0)
		close(fd);
	if (link != it->all)
		bpf_link__destroy(link);
	/*
	 * A process that is gone walks no fd table, and neither does one
	 * holding no pipe or socket: /proc tells the two apart.
	 */
	if (!err && pid && *n == n0) {
		char path[24];

		snprintf(path, sizeof(path), "/proc/%u", pid);
		if (access(path, F_OK))
			err = -ESRCH;
	}
	if (err)
		*n = n0;
	return err;
}
