/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What tracing costs boundtrace itself (struct bt_self_cost): its CPU and
 * RSS, and its BPF programs' time where the kernel times them. A baseline
 * at the attach, read again at each report.
 */
#ifndef BT_SELFCOST_H
#define BT_SELFCOST_H

#include <stdint.h>
#include "model/model.h"

struct bpf_object;

struct bt_self_probe {
	uint64_t cpu_ns;		/* the process's CPU at the attach */
	uint64_t bpf_ns, bpf_runs;	/* its programs' counters then */
};

/* The baseline, taken once the programs are attached. */
void bt_self_start(struct bt_self_probe *p, const struct bpf_object *obj);
/*
 * Fills everything in s but its records (the ring readers count those as
 * they come): CPU and peak RSS now, the programs' time since the baseline.
 */
void bt_self_take(const struct bt_self_probe *p, const struct bpf_object *obj,
		  struct bt_self_cost *s);

#endif
