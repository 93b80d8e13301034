// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "discover/proc.h"
#include "live/events.h"

/* comm: the kernel's array (maybe unterminated) or a string; read up to its NUL. */
static void set_comm(struct bt_proc *p, const char *comm)
{
	size_t n = strnlen(comm, BT_COMM_LEN - 1);

	memcpy(p->comm, comm, n);
	p->comm[n] = 0;
}

struct bt_proc *bt_apply_event(struct bt_model *m, const struct bt_event *e)
{
	struct bt_proc *p = bt_model_find(m, e->pid);

	/* A fork that reuses the pid of an exited process is a new process. */
	if (!p || (e->type == BT_EV_FORK && p->exited))
		p = bt_model_new_proc(m, e->pid);
	if (!p)
		return NULL;
	switch (e->type) {
	case BT_EV_FORK:
		/* As /proc would say it, so a process read there is the same one. */
		p->start_ns = bt_proc_start_ns(e->start_ns);
		p->exited = false;
		set_comm(p, e->comm);
		break;
	case BT_EV_EXEC:
		/* A forked shell child that execs `seq` is reported as seq. */
		set_comm(p, e->comm);
		break;
	case BT_EV_EXIT:
		p->exited = true;
		p->exit_code = e->exit_code;
		if (!p->ppid)
			p->ppid = e->ppid;
		/* The name at exit is the latest one (prctl renames included). */
		if (e->comm[0])
			set_comm(p, e->comm);
		break;
	}
	return p;
}

void bt_apply_identity(struct bt_model *m, size_t i, const char *comm, uint64_t start_ns,
		       bool traced)
{
	struct bt_proc *p = &m->procs[i], *q;
	int hop;

	/* The same process (or one we cannot tell apart): it renamed itself (prctl). */
	if (!p->start_ns || !start_ns || p->start_ns == start_ns) {
		set_comm(p, comm);
		return;
	}
	/*
	 * Another process under the pid: the exit event of ours was lost (a
	 * full ring buffer). Ours keeps its name, and is gone; the new one is
	 * a process of its own if the kernel traces it (-a, or a followed
	 * fork whose event was lost too), so its rows do not land on ours.
	 */
	p->exited = true;
	if (!traced)
		return;
	hop = p->hop;
	q = bt_model_new_proc(m, p->pid);	/* p moves: not used after this */
	if (!q)
		return;
	set_comm(q, comm);
	q->start_ns = start_ns;
	q->target = true;
	q->hop = hop;
}
