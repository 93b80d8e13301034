/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One record of the fd iterator (fdscan.bpf.c): a pipe, FIFO or socket
 * a process holds, as user/discover/fditer.c reads it back.
 */
#ifndef BT_FDSCAN_H
#define BT_FDSCAN_H

#ifndef __VMLINUX_H__
#include <linux/types.h>	/* userspace; BPF gets the types from vmlinux.h */
#endif

#define BT_FDREC_PIPE	1	/* BT_FD_PIPE */
#define BT_FDREC_SOCKET	2	/* BT_FD_SOCKET */

struct bt_fdrec {
	__u64 ino;
	__u32 pid;	/* the holder's tgid */
	__u32 fd;
	__u32 flags;	/* the open file's f_flags: fdinfo's "flags:" */
	__u8 type;	/* BT_FDREC_* */
	__u8 named;	/* a FIFO outside pipefs: its inode numbers its filesystem */
	__u8 pad[2];
};

#endif
