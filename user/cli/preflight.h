/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* What must hold before loading: privileges and kernel BTF, each with a clear message. */
#ifndef BT_PREFLIGHT_H
#define BT_PREFLIGHT_H

#include <stddef.h>

/* 0 when the caller may load BPF tracing programs; -1 with a message. */
int bt_check_privileges(char *err, size_t errlen);
/* 0 when /sys/kernel/btf/vmlinux is there; -1 with a message. */
int bt_check_btf(char *err, size_t errlen);

#endif
