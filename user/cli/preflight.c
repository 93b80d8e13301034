// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "cli/preflight.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has_cap(const struct __user_cap_data_struct d[2], int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int bt_check_privileges(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d)) {
		snprintf(err, errlen, "cannot read capabilities: %s", strerror(errno));
		return -1;
	}
	if (has_cap(d, CAP_SYS_ADMIN))
		return 0;
	if (has_cap(d, CAP_BPF) && has_cap(d, CAP_PERFMON))
		return 0;
	snprintf(err, errlen,
		 "permission denied: boundtrace loads BPF tracing programs and needs "
		 "CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN); run it as root, e.g. with sudo");
	return -1;
}

int bt_check_btf(char *err, size_t errlen)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return 0;
	snprintf(err, errlen,
		 "this kernel exposes no BTF (/sys/kernel/btf/vmlinux: %s); boundtrace "
		 "needs a kernel built with CONFIG_DEBUG_INFO_BTF=y", strerror(errno));
	return -1;
}
