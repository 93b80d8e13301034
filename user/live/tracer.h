/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The live tracer: open -> configure -> load -> attach the BPF side, keep
 * the target set, drain lifecycle events into the model, and collect the
 * aggregates. One cleanup path (bt_tracer_close).
 */
#ifndef BT_TRACER_H
#define BT_TRACER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "discover/census.h"
#include "discover/discover.h"
#include "live/collect.h"
#include "live/ringread.h"
#include "live/selfcost.h"
#include "model/model.h"

struct boundtrace_bpf;
struct bt_sym;

struct bt_tracer_config {
	bool all;
	bool follow;
	uint32_t map_size;
	int max_hops;		/* --peers: follow far ends this many hops */
	uint64_t min_block_ns;	/* chain mode: episodes at least this long (0: off) */
	bool stacks;		/* --stacks */
	bool sockets_only;	/* --sockets-only: no syscall hooks, no chains or stacks */
	bool onehop;		/* chain mode may count one-hop exchanges in the kernel (not recording) */
	uint32_t stack_map_size;
	bool verbose;
};

struct bt_tracer {
	struct boundtrace_bpf *skel;
	struct bt_ring events;		/* lifecycle events: they wake the poll */
	/* Chain mode: episodes and exchanges, drained (no wakeups); data NULL otherwise. */
	struct bt_ring episodes, exchanges;
	struct bt_model *model;
	/* Targets we were asked to watch and that have not exited yet. */
	uint32_t *live;
	size_t nlive, caplive;
	bool all;
	int max_hops;
	struct bt_sym *sym;	/* --stacks: the one symbolizer */
	/*
	 * --stacks: processes that exec'd, whose maps are read again once
	 * the loader has mapped their libraries (due: CLOCK_MONOTONIC ns).
	 */
	struct bt_remap { uint32_t pid; uint64_t due_ns; } *remap;
	size_t nremap, capremap;
	/* Exited processes whose rows are taken in one walk after the poll. */
	uint32_t *exited;
	size_t nexited, capexited;
	struct bt_collect_counters counters;
	/*
	 * Folds (bt_collect_fold): due when the kernel's count of rows made
	 * reaches fold_mark (its event sets fold_due; the poll checks too).
	 */
	bool fold_due;
	uint32_t map_size;
	uint64_t fold_mark, spill_mark;
	uint64_t fold_map_ops;	/* of counters.map_ops, those of folds */
	uint64_t fold_cpu_ns;
	/* What discovery's rounds asked last (a scan of every process waits while it is the same). */
	struct bt_discovery disc;
	/*
	 * The last bt_tracer_discover's own CPU: its rounds', not the
	 * collection before them nor what their ticks drained and folded
	 * (tick_cpu_ns, summed over the trace).
	 */
	uint64_t discover_cpu_ns, tick_cpu_ns;
	/* The sockets when the programs attached, and when the trace ended. */
	struct bt_census census_start, census_end;
	const volatile sig_atomic_t *stop;	/* the caller's stop flag, or NULL */
	int pending_fd;		/* the row cache's slots (struct bt_maps), -1: off */
	struct bt_self_probe self;	/* its own cost's baseline, at the attach */
};

int bt_tracer_open(struct bt_tracer *t, const struct bt_tracer_config *cfg,
		   struct bt_model *model, char *err, size_t errlen);
/* Adds a process to the target set (records comm/start from /proc). */
int bt_tracer_add_target(struct bt_tracer *t, uint32_t pid);
/* A target finished an exec we held it at: read its new image now. */
void bt_tracer_exec_seen(struct bt_tracer *t, uint32_t pid);
/*
 * Finds the processes at the far end of the targets' channels (recording
 * them for the report) and follows them up to max_hops. Returns how many
 * targets it added, or -errno. Its scan of every process waits while
 * nothing the targets hold or do has changed (struct bt_discovery);
 * force scans anyway (the first round, the last). Its own CPU goes to
 * discover_cpu_ns.
 */
int bt_tracer_discover(struct bt_tracer *t, bool force);
/*
 * Empties the ring buffers into the model (tracer is a struct bt_tracer):
 * for the tick of a long fold (bt_model_fold_chains_tick); the poll and a
 * discovery round's scan do it too.
 */
void bt_tracer_drain(void *tracer);
/*
 * The episode and exchange rings only: their records are appended to the
 * model's logs, and nothing else in the model changes (a recording's
 * snapshot is being written).
 */
void bt_tracer_drain_records(void *tracer);
/* Waits up to timeout_ms for events and applies them. Returns events or -errno. */
int bt_tracer_poll(struct bt_tracer *t, int timeout_ms);
/* Number of targets still alive (meaningless with -a). */
size_t bt_tracer_live_targets(struct bt_tracer *t);
/* Rebuilds the model's rows from the kernel maps. */
int bt_tracer_collect(struct bt_tracer *t);
/*
 * The trace is over: the programs stop (the maps stay), so the last
 * collection reads a state that moves no more; what only an end may
 * take (the answers no client took: bt_collect_unmet) goes into the
 * model now, before that collection names its records. 0 or -errno.
 */
int bt_tracer_detach(struct bt_tracer *t);
/* What the trace has cost boundtrace itself so far, into the model (model->self). */
void bt_tracer_self_cost(struct bt_tracer *t);
/*
 * The trace ends: the socket census that says which connections are
 * still alive (the next collection marks them). Once, after the last
 * discovery round.
 */
void bt_tracer_census_end(struct bt_tracer *t);
void bt_tracer_close(struct bt_tracer *t);

#endif
