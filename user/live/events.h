/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Applies process lifecycle events from the kernel to the model. */
#ifndef BT_EVENTS_H
#define BT_EVENTS_H

#include "boundtrace.h"
#include "model/model.h"

/* Returns the process the event concerns (NULL if out of memory). */
struct bt_proc *bt_apply_event(struct bt_model *m, const struct bt_event *e);

/*
 * What /proc says now of the process under m->procs[i]'s pid: its comm
 * and start (0 unknown). traced: whether the kernel traces that pid now.
 */
void bt_apply_identity(struct bt_model *m, size_t i, const char *comm, uint64_t start_ns,
		       bool traced);

#endif
