// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "live/events.h"

static void set_comm(struct bt_proc *p, const char *comm)
{
	memcpy(p->comm, comm, BT_COMM_LEN);
	p->comm[BT_COMM_LEN - 1] = 0;
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
		p->start_ns = e->start_ns;
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
		/* The name at exit is the latest one (prctl renames included). */
		if (e->comm[0])
			set_comm(p, e->comm);
		break;
	}
	return p;
}
