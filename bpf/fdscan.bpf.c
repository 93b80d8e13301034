// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Every pipe, FIFO and socket fd of every process (or of one, by the
 * link's pid), from a task_file iterator: what /proc/PID/fd tells with a
 * readlink per fd (and an fdinfo read per pipe), in one read() per page
 * of records. Only those three kinds of file are written; user/discover/
 * fditer.c reads them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "fdscan.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define S_IFMT		00170000
#define S_IFSOCK	0140000
#define S_IFIFO		0010000
#define O_PATH		010000000
#define PIPEFS_MAGIC	0x50495045
#define SOCKFS_MAGIC	0x534F434B

SEC("iter/task_file")
int fdscan(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct bt_fdrec r = {};
	struct inode *inode;
	unsigned long magic;
	umode_t mode;

	if (!task || !file)
		return 0;
	/*
	 * Plain loads, not BPF_CORE_READ: the iterator hands trusted
	 * pointers, and a load walked through them is an inline instruction
	 * where a probe read is a helper call: 8,000 fds in 1.4 ms, 2.5 ms
	 * with BPF_CORE_READ (means of 50 scans).
	 */
	inode = file->f_inode;
	if (!inode)
		return 0;
	mode = inode->i_mode & S_IFMT;
	if (mode != S_IFIFO && mode != S_IFSOCK)
		return 0;
	r.flags = file->f_flags;
	/* An O_PATH fd holds no end of a pipe and no socket. */
	if (r.flags & O_PATH)
		return 0;
	magic = inode->i_sb->s_magic;
	if (mode == S_IFSOCK) {
		/* A socket inode on disk (only O_PATH opens one): no socket. */
		if (magic != SOCKFS_MAGIC)
			return 0;
		r.type = BT_FDREC_SOCKET;
	} else {
		r.type = BT_FDREC_PIPE;
		r.named = magic != PIPEFS_MAGIC;
	}
	r.ino = inode->i_ino;
	r.pid = task->tgid;
	r.fd = ctx->fd;
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}
