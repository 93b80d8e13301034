// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/flame.h"
#include "lib/vec.h"
#include "symbols/kallsyms.h"
#include "symbols/stacks.h"

#define FOLDED_MAX	(BT_STACK_DEPTH * 96)

/*
 * Kernel stacks are taken in the sys_exit hook: their leaf end is the
 * tracing machinery itself (syscall_exit_work, the tracepoint, the BPF
 * program), which says nothing about the crossing. Those frames go.
 */
static const char *const tracing_prefixes[] = {
	"syscall_exit_work", "syscall_exit_to_user_mode", "__traceiter_",
	"__bpf_trace_", "bpf_trace_run", "bpf_prog_", "trace_call_bpf",
};

static bool tracing_frame(const char *name)
{
	return bt_ksyms_prefixed(name, tracing_prefixes,
				 sizeof(tracing_prefixes) / sizeof(tracing_prefixes[0]));
}

/*
 * A kernel stack taken at a syscall's exit is, root first, the syscall
 * entry, its dispatcher and the exit work, where the fold stops (the rest
 * is the hook): those functions read once at the start, the stacks of a
 * trace seldom need kallsyms again (a read of it costs ~50 ms of CPU).
 */
int bt_stacks_preload(struct bt_sym *sym)
{
	static const char *const syscall_path[] = {
		"entry_SYSCALL_64", "do_syscall_64", "el0_svc", "el0t_64_sync",
		"do_el0_svc", "invoke_syscall",
	};
	const char *prefixes[sizeof(syscall_path) / sizeof(syscall_path[0]) +
			     sizeof(tracing_prefixes) / sizeof(tracing_prefixes[0])];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(syscall_path) / sizeof(syscall_path[0]); i++)
		prefixes[n++] = syscall_path[i];
	for (size_t i = 0; i < sizeof(tracing_prefixes) / sizeof(tracing_prefixes[0]); i++)
		prefixes[n++] = tracing_prefixes[i];
	return bt_sym_kernel_preload(sym, prefixes, n);
}

static void frame_name(struct bt_sym *sym, uint32_t pid, bool kernel, __u64 ip,
		       char *name, size_t len)
{
	struct bt_frame fr;

	if (kernel)
		bt_sym_kernel(sym, ip, &fr);
	else
		bt_sym_user(sym, pid, ip, &fr);
	bt_sym_format(&fr, false, name, len);
}

void bt_stacks_fold(struct bt_sym *sym, uint32_t pid, bool kernel, const __u64 *ips,
		    size_t n, __u64 caller, char *buf, size_t len)
{
	char name[256], callee[256] = "";
	size_t off = 0;

	buf[0] = 0;
	/*
	 * The wrapper's caller goes between the leaf and the frame-pointer
	 * walk's next frame, unless that frame is it already.
	 */
	if (caller && n >= 1) {
		frame_name(sym, pid, kernel, caller - 1, callee, sizeof(callee));
		if (n >= 2) {
			frame_name(sym, pid, kernel, ips[1], name, sizeof(name));
			if (!strcmp(name, callee))
				callee[0] = 0;
		}
		bt_flame_sanitize(callee);
	}
	/* The kernel gives the leaf first; folded stacks start at the root. */
	for (size_t i = n; i-- > 0 && off < len;) {
		frame_name(sym, pid, kernel, ips[i], name, sizeof(name));
		if (kernel && tracing_frame(name))
			break;	/* everything leafward of it is the hook */
		bt_flame_sanitize(name);
		if (i == 0 && callee[0])
			off += snprintf(buf + off, len - off, "%s%s", off ? ";" : "", callee);
		if (off < len)
			off += snprintf(buf + off, len - off, "%s%s", off ? ";" : "", name);
	}
	if (off >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
}

static int resolve_one(struct bt_model *m, int fd, struct bt_sym *sym, uint32_t pid,
		       int32_t id, bool kernel, __u64 caller)
{
	static __u64 ips[BT_STACK_DEPTH];
	static char folded[FOLDED_MAX];
	size_t n = 0;
	uint32_t owner = kernel ? 0 : pid;

	if (kernel)
		caller = 0;
	if (id == BT_STACK_NONE || bt_model_stack(m, owner, id, caller))
		return 0;
	if (id == BT_STACK_LOST || bpf_map_lookup_elem(fd, &id, ips)) {
		snprintf(folded, sizeof(folded), "[lost]");
	} else {
		while (n < BT_STACK_DEPTH && ips[n])
			n++;
		bt_stacks_fold(sym, pid, kernel, ips, n, caller, folded, sizeof(folded));
	}
	return bt_model_add_stack(m, owner, id, caller, folded) ? -ENOMEM : 0;
}

/*
 * The addresses of the kernel stacks not named yet, looked up in kallsyms
 * in one read (each read of it costs ~50 ms): what resolve_one folds next.
 * Each stack once: rows of many channels share one kernel stack (a few
 * thousand connections' rows, one syscall path).
 */
static int prefetch_kernel(struct bt_model *m, int fd, struct bt_sym *sym)
{
	uint64_t *ids = NULL, *ips = NULL;
	size_t nids = 0, idcap = 0, n = 0, cap = 0;
	int err = -ENOMEM;

	for (size_t i = 0; i < m->nstackrows; i++) {
		int32_t id = m->stackrows[i].key.kstack;

		if (id == BT_STACK_NONE || id == BT_STACK_LOST || bt_model_stack(m, 0, id, 0))
			continue;
		if (!bt_grow((void **)&ids, &idcap, nids + 1, sizeof(*ids)))
			goto out;
		ids[nids++] = (uint64_t)id;
	}
	nids = bt_sort_unique_u64(ids, nids, sizeof(*ids), 0, bt_cmp_u64);
	for (size_t i = 0; i < nids; i++) {
		int32_t id = (int32_t)ids[i];

		if (!bt_grow((void **)&ips, &cap, n + BT_STACK_DEPTH, sizeof(*ips)))
			goto out;
		_Static_assert(sizeof(__u64) == sizeof(*ips), "an address");
		if (!bpf_map_lookup_elem(fd, &id, ips + n))
			n += BT_STACK_DEPTH;	/* zeros past the stack's end are skipped */
	}
	err = bt_sym_kernel_prefetch(sym, ips, n) == -ENOMEM ? -ENOMEM : 0;
out:
	free(ids);
	free(ips);
	return err;
}

int bt_stacks_resolve(struct bt_model *m, int stacks_fd, struct bt_sym *sym)
{
	if (prefetch_kernel(m, stacks_fd, sym))
		return -ENOMEM;
	for (size_t i = 0; i < m->nwakestacks; i++) {
		const struct bt_wakestack_key *k = &m->wakestacks[i].key;

		if (resolve_one(m, stacks_fd, sym, k->wakee, k->wakee_ustack, false,
				k->wakee_ucaller) ||
		    resolve_one(m, stacks_fd, sym, k->waker, k->waker_ustack, false,
				k->waker_ucaller))
			return -ENOMEM;
	}
	for (size_t i = 0; i < m->nstackrows; i++) {
		const struct bt_key *k = &m->stackrows[i].key;

		if (resolve_one(m, stacks_fd, sym, k->tgid, k->ustack, false, k->ucaller) ||
		    resolve_one(m, stacks_fd, sym, k->tgid, k->kstack, true, 0))
			return -ENOMEM;
	}
	return 0;
}
