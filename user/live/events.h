/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Applies process lifecycle events from the kernel to the model. */
#ifndef BT_EVENTS_H
#define BT_EVENTS_H

#include "boundtrace.h"
#include "model/model.h"

/* Returns the process the event concerns (NULL if out of memory). */
struct bt_proc *bt_apply_event(struct bt_model *m, const struct bt_event *e);

#endif
