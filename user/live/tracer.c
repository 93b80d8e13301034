// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "boundtrace.skel.h"
#include "analyze/chain_input.h"
#include "live/collect.h"
#include "discover/discover.h"
#include "symbols/stacks.h"
#include "live/events.h"
#include "discover/proc.h"
#include "live/tracer.h"
#include "lib/clock.h"
#include "lib/escape.h"
#include "lib/vec.h"

static bool verbose;

/* --stacks: the most per-CPU row memory preallocated (see bt_tracer_open). */
#define STACKS_PREALLOC_MAX	(64ull << 20)

/*
 * Chain mode's record rings (episodes, exchanges; each mapped once, so
 * this much in RSS: live/ringread.c). They are drained every
 * DRAIN_MS while the loop waits, and between the steps of a chain fold
 * and a discovery round's scan; what comes faster is counted lost.
 */
#define RECORD_RING_BYTES	(2u << 20)
/*
 * One-hop keys the kernel may count (a key: client and server threads,
 * service, latency slot); past them the exchanges go as records.
 */
#define ONEHOP_KEYS		16384
/* Connections whose two ends may meet at once (struct bt_meet); past them the records go. */
#define MEET_CONNS		16384
#define DRAIN_MS		20

/* Row keys the lostcalls map holds at least (see bt_tracer_open). */
#define LOSTCALLS_MIN	65536

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/*
	 * Failures are reported by the caller in one line; -v adds libbpf's
	 * warnings (the verifier log among them), BT_LIBBPF_DEBUG everything.
	 */
	if (!verbose || (level == LIBBPF_DEBUG && !getenv("BT_LIBBPF_DEBUG")))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool live_has(struct bt_tracer *t, uint32_t pid)
{
	for (size_t i = 0; i < t->nlive; i++)
		if (t->live[i] == pid)
			return true;
	return false;
}

static bool live_add(struct bt_tracer *t, uint32_t pid)
{
	for (size_t i = 0; i < t->nlive; i++)
		if (t->live[i] == pid)
			return true;
	if (!bt_grow((void **)&t->live, &t->caplive, t->nlive + 1, sizeof(*t->live)))
		return false;
	t->live[t->nlive++] = pid;
	return true;
}

static void live_remove(struct bt_tracer *t, uint32_t pid)
{
	for (size_t i = 0; i < t->nlive; i++) {
		if (t->live[i] == pid) {
			t->live[i] = t->live[--t->nlive];
			return;
		}
	}
}

static struct bt_maps tracer_maps(struct bt_tracer *t)
{
	struct bt_maps maps = {
		.stats_fd = bpf_map__fd(t->skel->maps.stats),
		.spill_fd = bpf_map__fd(t->skel->maps.stats_spill),
		.chans_fd = bpf_map__fd(t->skel->maps.chans),
		.wakes_fd = bpf_map__fd(t->skel->maps.wakes),
		.wakestacks_fd = t->sym ? bpf_map__fd(t->skel->maps.wakestacks) : -1,
		.accepted_fd = bpf_map__fd(t->skel->maps.accepted_by),
		.seen_fd = bpf_map__fd(t->skel->maps.seen),
		.futex_links_fd = bpf_map__fd(t->skel->maps.futex_links),
		.lostcalls_fd = bpf_map__fd(t->skel->maps.lostcalls),
		.onehops_fd = t->skel->rodata->onehop ? bpf_map__fd(t->skel->maps.onehops) : -1,
		.meets_fd = t->skel->rodata->onehop_sockets ? bpf_map__fd(t->skel->maps.meets) : -1,
		.losses = t->skel->bss->losses,
		.pending_fd = t->pending_fd,
		.pending_dirty = t->skel->bss->pending_dirty,
		.rows_collecting = &t->skel->bss->rows_collecting,
		.counters = &t->counters,
		.stop = t->stop,
	};

	return maps;
}

/* Harvest every process that exited since the last harvest, in one walk. */
static int harvest_exited(struct bt_tracer *t)
{
	struct bt_maps maps = tracer_maps(t);
	int err;

	if (!t->nexited)
		return 0;
	err = bt_collect_harvest(t->model, &maps, t->exited, t->nexited);
	t->nexited = 0;
	return err;
}

static bool exit_pending(const struct bt_tracer *t, uint32_t pid)
{
	for (size_t i = 0; i < t->nexited; i++)
		if (t->exited[i] == pid)
			return true;
	return false;
}

/*
 * The next fold is due when the kernel has made half as many rows as the
 * map has room left for, or a quarter of the spill map's rows (at least 1/64 of --map-size, so a map full of
 * open connections is not walked at every new row): a burst of short
 * connections is folded long before it fills the map, and a map that
 * cannot be emptied is not walked over and over.
 */
static void arm_fold(struct bt_tracer *t)
{
	uint64_t made = t->skel->bss->rows_made;
	uint64_t left = made > t->counters.rows_deleted ? made - t->counters.rows_deleted : 0;
	uint64_t room = t->map_size > left ? t->map_size - left : 0;
	uint64_t gap = room / 2 > t->map_size / 64 ? room / 2 : t->map_size / 64;

	t->fold_mark = made + (gap ? gap : 1);
	/* A quarter of the spill map, which a burst can fill faster than stats. */
	t->spill_mark = t->skel->bss->spill_made + bpf_map__max_entries(t->skel->maps.stats_spill) / 4;
	t->fold_due = false;
	t->skel->bss->fold_at = t->fold_mark;
	t->skel->bss->spill_fold_at = t->spill_mark;
}

/* Rows of closed channels out of the kernel's maps, when the kernel has made enough. */
static void fold_if_due(struct bt_tracer *t)
{
	struct bt_maps maps;
	uint64_t ops, t0;

	if (!t->fold_due && t->skel->bss->rows_made < t->fold_mark &&
	    t->skel->bss->spill_made < t->spill_mark)
		return;
	maps = tracer_maps(t);
	ops = t->counters.map_ops;
	t0 = bt_thread_cpu_ns();
	if (bt_collect_fold(t->model, &maps) && verbose)
		fprintf(stderr, "boundtrace: a fold failed (out of memory): the rows stay in "
				"the kernel's maps\n");
	t->fold_cpu_ns += bt_thread_cpu_ns() - t0;
	t->fold_map_ops += t->counters.map_ops - ops;
	arm_fold(t);
}

/*
 * --stacks: an exec'd process's maps are read again this long after its
 * exec, when its loader has mapped its libraries (a few milliseconds),
 * so its stacks resolve though it exits before the report. A library it
 * dlopen()s later is found by the symbolizer's own refresh while it lives.
 */
#define REMAP_AFTER_NS	(20 * 1000000ull)

static void remap_execed(struct bt_tracer *t)
{
	uint64_t now = bt_mono_ns();
	size_t keep = 0;

	for (size_t i = 0; i < t->nremap; i++) {
		if (t->remap[i].due_ns > now)
			t->remap[keep++] = t->remap[i];
		else
			bt_sym_add_process(t->sym, t->remap[i].pid);	/* gone: nothing to read */
	}
	t->nremap = keep;
}

/* Exits waiting for their harvest; more than this and the harvest runs mid-poll. */
#define HARVEST_BATCH 4096

/* A record the kernel sent, accounted for in the report's cost line. */
static void took_record(struct bt_tracer *t, enum bt_self_record kind, size_t size)
{
	t->model->self.records[kind]++;
	t->model->self.record_bytes += size;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct bt_tracer *t = ctx;
	const struct bt_event *e = data;
	struct bt_proc *p;

	if (t->stop && *t->stop)
		return -EINTR;	/* stop consuming: the trace ends now */
	took_record(t, BT_SELF_EVENTS, size);
	if (size < sizeof(*e))
		return 0;
	if (e->type == BT_EV_FOLD) {
		t->fold_due = true;
		return 0;
	}
	/* A fork that reuses an exited pid: the old process's rows are taken first. */
	if (e->type == BT_EV_FORK && exit_pending(t, e->pid))
		harvest_exited(t);
	p = bt_apply_event(t->model, e);
	/* Symbolize from the maps of the moment: the process may be gone at the report. */
	if (t->sym && (e->type == BT_EV_FORK || e->type == BT_EV_EXEC))
		bt_sym_add_process(t->sym, e->pid);
	/* Just exec'd: its libraries are not mapped yet; read its maps again soon. */
	if (t->sym && e->type == BT_EV_EXEC &&
	    bt_grow((void **)&t->remap, &t->capremap, t->nremap + 1, sizeof(*t->remap)))
		t->remap[t->nremap++] = (struct bt_remap){ e->pid, bt_mono_ns() + REMAP_AFTER_NS };
	if (p && e->type == BT_EV_FORK) {
		struct bt_proc *parent = bt_model_find(t->model, e->ppid);

		/* A followed child stands where its parent stands. */
		p->target = true;
		p->hop = parent ? parent->hop : 0;
		p->ppid = e->ppid;
		p->child = true;
		bt_proc_read_exe(e->pid, p->exe, sizeof(p->exe));
	} else if (p && e->type == BT_EV_EXEC) {
		bt_proc_read_exe(e->pid, p->exe, sizeof(p->exe));
	}
	/* Its rows become final at the end of this poll (or before its pid is reused). */
	if (e->type == BT_EV_EXIT) {
		if (bt_grow((void **)&t->exited, &t->capexited, t->nexited + 1,
			    sizeof(*t->exited)))
			t->exited[t->nexited++] = e->pid;
		if (t->nexited >= HARVEST_BATCH)
			harvest_exited(t);
	}
	if (t->all)
		return 0;
	/* Only the named targets and their children keep the trace running. */
	if (e->type == BT_EV_FORK && live_has(t, e->ppid))
		live_add(t, e->pid);
	else if (e->type == BT_EV_EXIT)
		live_remove(t, e->pid);
	return 0;
}

static int on_episode(void *ctx, void *data, size_t size)
{
	struct bt_tracer *t = ctx;

	took_record(t, BT_SELF_EPISODES, size);
	if (size >= sizeof(struct bt_episode_ev))
		bt_model_add_episode(t->model, data);
	return 0;
}

/* A sample holds one record, or two (a pipe conversation's two ends). */
static int on_exchange(void *ctx, void *data, size_t size)
{
	struct bt_tracer *t = ctx;

	for (size_t off = 0; off + sizeof(struct bt_exchange_ev) <= size;
	     off += sizeof(struct bt_exchange_ev)) {
		const struct bt_exchange_ev *e = (const void *)((char *)data + off);

		took_record(t, e->type == BT_XREC_HANDOFF ? BT_SELF_HANDOFFS : BT_SELF_EXCHANGES,
			    sizeof(*e));
		bt_model_take_exchange(t->model, e);
	}
	return 0;
}

/*
 * What the kernel offers, probed in its BTF before load: the tracepoints
 * the core needs are required (a clear error names the missing one); an
 * optional one is switched off, and stderr says once what that costs.
 */
static int probe_tracepoints(struct bt_tracer *t, bool sockets_only, char *err, size_t errlen)
{
	/* --sockets-only counts at the socket layer: its two tracepoints instead of the syscalls'. */
	static const char *const required[][5] = {
		{ "sched_process_fork", "sched_process_exec", "sched_process_exit",
		  "sys_enter", "sys_exit" },
		{ "sched_process_fork", "sched_process_exec", "sched_process_exit",
		  "sock_send_length", "sock_recv_length" },
	};
	const char *const *need = required[sockets_only];
	struct btf *btf = btf__load_vmlinux_btf();
	char name[64];

	if (!btf) {
		snprintf(err, errlen, "cannot read the kernel's BTF: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < sizeof(required[0]) / sizeof(required[0][0]); i++) {
		snprintf(name, sizeof(name), "btf_trace_%s", need[i]);
		if (btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) < 0) {
			snprintf(err, errlen, "this kernel has no %s tracepoint (BTF); boundtrace%s "
				 "needs it", need[i], sockets_only ? " --sockets-only" : "");
			btf__free(btf);
			return -1;
		}
	}
	if (sockets_only) {
		/* Nothing else on every syscall or every wakeup of the machine. */
		bpf_program__set_autoload(t->skel->progs.sys_enter, false);
		bpf_program__set_autoload(t->skel->progs.sys_exit, false);
		bpf_program__set_autoload(t->skel->progs.sched_waking, false);
		bpf_program__set_autoload(t->skel->progs.signal_deliver, false);
		bpf_program__set_autoload(t->skel->progs.sock_send_length, false);
		bpf_program__set_autoload(t->skel->progs.sock_recv_length, false);
	} else {
		bpf_program__set_autoload(t->skel->progs.sock_send_count, false);
		bpf_program__set_autoload(t->skel->progs.sock_recv_count, false);
	}
	if (!sockets_only &&
	    btf__find_by_name_kind(btf, "btf_trace_sched_waking", BTF_KIND_TYPEDEF) < 0) {
		bpf_program__set_autoload(t->skel->progs.sched_waking, false);
		fprintf(stderr, "boundtrace: this kernel has no sched_waking tracepoint: wakeups "
				"and chains are not recorded\n");
	}
	/* Exchanges need the socket tracepoints (6.3+); the handshake one helps with roles. */
	if (btf__find_by_name_kind(btf, "btf_trace_sock_send_length", BTF_KIND_TYPEDEF) < 0 ||
	    btf__find_by_name_kind(btf, "btf_trace_sock_recv_length", BTF_KIND_TYPEDEF) < 0) {
		bpf_program__set_autoload(t->skel->progs.sock_send_length, false);
		bpf_program__set_autoload(t->skel->progs.sock_recv_length, false);
		fprintf(stderr, "boundtrace: this kernel has no sock_send_length/sock_recv_length "
				"tracepoints: requests and responses are not counted\n");
		bpf_program__set_autoload(t->skel->progs.sk_data_ready, false);
	} else if (btf__find_by_name_kind(btf, "btf_trace_sk_data_ready", BTF_KIND_TYPEDEF) < 0) {
		/* 6.6+: a unix connection's sends as its far end is told of them. */
		bpf_program__set_autoload(t->skel->progs.sk_data_ready, false);
		fprintf(stderr, "boundtrace: this kernel has no sk_data_ready tracepoint: a unix "
				"server's response sent by one thread while another reads the next "
				"request may be counted with it as one exchange\n");
	}
	if (btf__find_by_name_kind(btf, "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF) < 0)
		bpf_program__set_autoload(t->skel->progs.inet_state, false);
	if (!sockets_only &&
	    btf__find_by_name_kind(btf, "btf_trace_signal_deliver", BTF_KIND_TYPEDEF) < 0) {
		bpf_program__set_autoload(t->skel->progs.signal_deliver, false);
		fprintf(stderr, "boundtrace: this kernel has no signal_deliver tracepoint: a call "
				"a signal handler ends with EINTR is not counted\n");
	}
	btf__free(btf);
	return 0;
}

int bt_tracer_open(struct bt_tracer *t, const struct bt_tracer_config *cfg,
		   struct bt_model *model, char *err, size_t errlen)
{
	const char *onehop, *slots;
	int rc;

	memset(t, 0, sizeof(*t));
	t->pending_fd = -1;
	t->model = model;
	t->all = cfg->all;
	t->max_hops = cfg->max_hops;
	verbose = cfg->verbose;
	libbpf_set_print(libbpf_print);

	t->skel = boundtrace_bpf__open();
	if (!t->skel) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		return -1;
	}
	if (probe_tracepoints(t, cfg->sockets_only, err, errlen))
		goto fail;
	t->skel->rodata->trace_all = cfg->all;
	/* -a: every bit set, so the hooks' target test stays one load and a branch. */
	if (cfg->all)
		memset(t->skel->bss->targets, 0xff, sizeof(t->skel->bss->targets));
	t->skel->rodata->follow_forks = cfg->follow;
	bpf_map__set_max_entries(t->skel->maps.stats, cfg->map_size);
	t->map_size = cfg->map_size;
	/* The spill map takes bursts, at most as many rows as stats: --map-size stays the limit. */
	if (cfg->map_size < bpf_map__max_entries(t->skel->maps.stats_spill))
		bpf_map__set_max_entries(t->skel->maps.stats_spill, cfg->map_size);
	/*
	 * --stacks has no spill map (see stats_spill): a burst of new rows
	 * that finds no per-CPU memory at hand loses its calls (unix
	 * connections unpaced: 48 to 9,814 of 10,000 calls, whatever
	 * --map-size). Its rows are preallocated instead when they fit.
	 */
	if (cfg->stacks && (uint64_t)cfg->map_size * libbpf_num_possible_cpus() *
			   sizeof(struct bt_stats) <= STACKS_PREALLOC_MAX)
		bpf_map__set_map_flags(t->skel->maps.stats,
				       bpf_map__map_flags(t->skel->maps.stats) & ~BPF_F_NO_PREALLOC);
	bpf_map__set_max_entries(t->skel->maps.chans, cfg->map_size);
	/*
	 * Lost calls are counted under their row key in a map of their own,
	 * larger than stats (an entry is small, made only when stats is
	 * full, and not preallocated), so a small --map-size still says
	 * where every lost call belongs.
	 */
	bpf_map__set_max_entries(t->skel->maps.lostcalls,
				 cfg->map_size > LOSTCALLS_MIN ? cfg->map_size : LOSTCALLS_MIN);
	bpf_map__set_max_entries(t->skel->maps.wakes, cfg->map_size);
	bpf_map__set_max_entries(t->skel->maps.futex_links, cfg->map_size);
	bpf_map__set_max_entries(t->skel->maps.marked, cfg->map_size);
	/* --peers: a far end counts from its first byte on a target's channel. */
	t->skel->rodata->count_marked = cfg->max_hops > 0 && !cfg->all;
	/* --sockets-only: the socket tracepoints count a far end by its mark. */
	t->skel->rodata->sockets_only = cfg->sockets_only;
	model->sockets_only = cfg->sockets_only;
	bpf_program__set_autoload(t->skel->progs.sys_exit_marked,
				  t->skel->rodata->count_marked && !cfg->sockets_only);
	/* Not attached: sys_exit tail-calls it (the marked_exit program array, filled after load). */
	bpf_program__set_autoattach(t->skel->progs.sys_exit_marked, false);
	t->skel->rodata->with_stacks = cfg->stacks;
	/*
	 * The row cache (struct bt_pending): not with --stacks (a row per
	 * stack), and only where a collection can wait out the programs
	 * that write it.
	 */
	t->skel->rodata->cache_rows = !cfg->stacks && bt_collect_can_hold();
	if (!t->skel->rodata->cache_rows)
		bpf_map__set_max_entries(t->skel->maps.pending, 1);
	model->stack_mode = cfg->stacks;
	bpf_map__set_max_entries(t->skel->maps.stacks, cfg->stacks ? cfg->stack_map_size : 1);
	bpf_map__set_max_entries(t->skel->maps.wakestacks, cfg->stacks ? cfg->map_size : 1);
	if (cfg->stacks) {
		t->sym = bt_sym_new();
		if (!t->sym) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	/* Episodes cost a ring buffer only in chain mode. */
	t->skel->rodata->min_block_ns = cfg->min_block_ns;
	model->chain_mode = cfg->min_block_ns > 0;
	bpf_map__set_max_entries(t->skel->maps.episodes,
				 cfg->min_block_ns ? RECORD_RING_BYTES : (__u32)getpagesize());
	/* Exchange records too: one per request and response, not per crossing. */
	t->skel->rodata->exchange_records = cfg->min_block_ns > 0;
	/*
	 * Pipes' states only in chain mode: their slots' 950 KiB too.
	 * BOUNDTRACE_PIPE_SLOTS (tests): a power of two up to 2048, fewer
	 * slots, so that pipes sharing one have their states in the hash.
	 */
	slots = getenv("BOUNDTRACE_PIPE_SLOTS");
	if (slots) {
		char *end;
		unsigned long n = strtoul(slots, &end, 10);

		if (*end || !n || n > t->skel->rodata->pipe_slot_mask + 1UL || (n & (n - 1))) {
			snprintf(err, errlen, "BOUNDTRACE_PIPE_SLOTS: a power of two from 1 to %u",
				 t->skel->rodata->pipe_slot_mask + 1);
			goto fail;
		}
		t->skel->rodata->pipe_slot_mask = n - 1;
	}
	bpf_map__set_max_entries(t->skel->maps.pipe_slots,
				 cfg->min_block_ns ? t->skel->rodata->pipe_slot_mask + 1 : 1);
	bpf_map__set_max_entries(t->skel->maps.exchanges,
				 cfg->min_block_ns ? RECORD_RING_BYTES : (__u32)getpagesize());
	/*
	 * One-hop exchanges counted in the kernel, not sent: in chain mode,
	 * pipe conversations', unless a recording wants every record.
	 * Connections' are marked instead (BT_XREC_ROOT, BT_XREC_LEAF) and
	 * paired by userspace as they come. BOUNDTRACE_ONEHOP: "0" sends
	 * them all, unmarked; "sockets" counts the connections' in the
	 * kernel too (exchange.bpf.h's meets: boundtrace's CPU for the
	 * traced threads'); "check" (tests) sends the counted ones too,
	 * marked, and the report compares (bt_model_onehop_check);
	 * "check-sockets" the same with the kernel counting connections.
	 */
	onehop = getenv("BOUNDTRACE_ONEHOP");
	t->skel->rodata->onehop = cfg->min_block_ns > 0 && cfg->onehop &&
				  !(onehop && !strcmp(onehop, "0"));
	t->skel->rodata->onehop_check = t->skel->rodata->onehop && onehop &&
					(!strcmp(onehop, "check") ||
					 !strcmp(onehop, "check-sockets"));
	t->skel->rodata->onehop_sockets = t->skel->rodata->onehop && onehop &&
					  (!strcmp(onehop, "sockets") ||
					   !strcmp(onehop, "check-sockets"));
	model->onehop_check = t->skel->rodata->onehop_check;
	bpf_map__set_max_entries(t->skel->maps.onehops,
				 t->skel->rodata->onehop ? ONEHOP_KEYS : 1);
	bpf_map__set_max_entries(t->skel->maps.meets,
				 t->skel->rodata->onehop_sockets ? MEET_CONNS : 1);

	rc = boundtrace_bpf__load(t->skel);
	if (rc) {
		snprintf(err, errlen, "cannot load the BPF programs: %s%s", strerror(-rc),
			 verbose ? "" : " (run with -v for the verifier log)");
		goto fail;
	}
	if (t->skel->rodata->cache_rows) {
		/* Mapped while a collection reads it (collect.c); here only whether it can be. */
		void *p;

		_Static_assert(sizeof(struct bt_pending) % 8 == 0, "array values are 8-byte aligned");
		p = mmap(NULL, sizeof(struct bt_pending), PROT_READ | PROT_WRITE, MAP_SHARED,
			 bpf_map__fd(t->skel->maps.pending), 0);
		if (p == MAP_FAILED) {
			snprintf(err, errlen, "cannot map the pending rows: %s", strerror(errno));
			goto fail;
		}
		munmap(p, sizeof(struct bt_pending));
		t->pending_fd = bpf_map__fd(t->skel->maps.pending);
	}
	/*
	 * Discovery's fd scans from the kernel's task_file iterator: a
	 * target holding 8,000 fds is read in 1.4-3.9 ms, not 54-83 ms of
	 * readlinks. Without it (a kernel without BPF iterators) they read
	 * /proc.
	 */
	rc = bt_scan_use_iterator(true);
	if (rc && verbose)
		fprintf(stderr, "boundtrace: no fd iterator (%s): discovery reads /proc/PID/fd\n",
			strerror(-rc));
	/*
	 * The sockets that exist before the first crossing can be seen: a
	 * connection whose socket is not among them was opened during the
	 * trace. A census that fails leaves every connection's start unknown.
	 */
	if (bt_census_take(&t->census_start) && verbose)
		fprintf(stderr, "boundtrace: cannot read the socket tables: "
			"connections opened during the trace are not told apart\n");
	if (bpf_program__autoload(t->skel->progs.sys_exit_marked)) {
		__u32 zero = 0;
		int fd = bpf_program__fd(t->skel->progs.sys_exit_marked);

		if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.marked_exit), &zero, &fd, BPF_ANY)) {
			snprintf(err, errlen, "cannot install the marked-channel program: %s",
				 strerror(errno));
			goto fail;
		}
	}
	/*
	 * tp_btf programs attach through BTF: no tracefs mount is needed.
	 * proc_exit and proc_exec go first: they empty a task's slot in the
	 * syscall hooks' tgid and tid caches (tgid_cache, tid_cache) before
	 * the task's kernel stack can be reused or its tid change, so they
	 * must see every exit and exec from the first fill on. The skeleton
	 * attach then skips the links already made.
	 */
	t->skel->links.proc_exit = bpf_program__attach(t->skel->progs.proc_exit);
	if (t->skel->links.proc_exit)
		t->skel->links.proc_exec = bpf_program__attach(t->skel->progs.proc_exec);
	rc = t->skel->links.proc_exit && t->skel->links.proc_exec ?
	     boundtrace_bpf__attach(t->skel) : -errno;
	if (rc) {
		snprintf(err, errlen, "cannot attach to the kernel tracepoints: %s", strerror(-rc));
		goto fail;
	}
	/*
	 * --stacks: the kernel's syscall path named now, before the targets
	 * run (our programs are in kallsyms by now): their stacks then seldom
	 * need kallsyms read again. Not reading it is no error: kernel frames
	 * stay unresolved, as at any later read.
	 */
	if (t->sym)
		bt_stacks_preload(t->sym);
	/*
	 * Rows of closed channels are folded out of the maps while tracing
	 * (with --stacks, their per-stack rows and waker stacks too).
	 */
	arm_fold(t);
	rc = bt_ring_open(&t->events, bpf_map__fd(t->skel->maps.events), on_event, t);
	if (!rc && cfg->min_block_ns)
		rc = bt_ring_open(&t->episodes, bpf_map__fd(t->skel->maps.episodes), on_episode, t);
	if (!rc && cfg->min_block_ns)
		rc = bt_ring_open(&t->exchanges, bpf_map__fd(t->skel->maps.exchanges),
				  on_exchange, t);
	if (rc) {
		snprintf(err, errlen, "cannot open the event ring buffers: %s", strerror(-rc));
		goto fail;
	}
	bt_self_start(&t->self, t->skel->obj);
	return 0;
fail:
	bt_tracer_close(t);
	return -1;
}

/* Whether the kernel traces pid now (its bit in the targets the programs read). */
static bool is_target(const struct bt_tracer *t, uint32_t pid)
{
	return pid < BT_PID_MAX &&
	       (__atomic_load_n(&t->skel->bss->targets[pid / 64], __ATOMIC_RELAXED) &
		1ULL << (pid % 64));
}

/* Marks pid a target at the given peer distance; the kernel sees it at once. */
static int add_target(struct bt_tracer *t, uint32_t pid, int hop)
{
	struct bt_proc *p;

	if (pid >= BT_PID_MAX)
		return -ERANGE;
	p = bt_model_proc(t->model, pid);
	if (!p)
		return -ENOMEM;
	if (bt_proc_read_image(p))
		return -ESRCH;
	p->target = true;
	p->hop = hop;
	if (t->sym)
		bt_sym_add_process(t->sym, pid);
	__sync_fetch_and_or(&t->skel->bss->targets[pid / 64], 1ULL << (pid % 64));
	return 0;
}

int bt_tracer_add_target(struct bt_tracer *t, uint32_t pid)
{
	int err = add_target(t, pid, 0);

	if (err)
		return err;
	return live_add(t, pid) ? 0 : -ENOMEM;
}

static int add_peer(void *ctx, uint32_t pid, int hop)
{
	struct bt_tracer *t = ctx;
	int err = add_target(t, pid, hop);

	if (!err && verbose) {
		struct bt_proc *p = bt_model_find(t->model, pid);

		char comm[BT_ESCAPED_MAX(BT_PROC_NAME_LEN) + 1];

		fprintf(stderr, "boundtrace: following peer %s[%u] (hop %d)\n",
			p ? bt_escape_term(p->comm, comm, sizeof(comm)) : "?", pid, hop);
	}
	return err;
}

/* --peers: a target's listener, marked in the kernel (discover's bt_listener_fn). */
static void mark_listener(void *ctx, uint64_t key)
{
	struct bt_tracer *t = ctx;
	uint8_t one = 1;

	if (bpf_map_update_elem(bpf_map__fd(t->skel->maps.marked), &key, &one, BPF_NOEXIST) &&
	    errno == E2BIG)
		__sync_fetch_and_add(&t->skel->bss->losses[BT_LOSS_MAP_FULL], 1);
}

/*
 * A discovery round's scan of every process takes hundreds of
 * milliseconds on a busy machine; a burst of new rows fills the map
 * meanwhile (unix connections unpaced: 30 rows a millisecond), so the
 * fold runs inside it when due.
 */
/* A long scan's tick: the records' intake and the rows' folds, not the scan's own work. */
static void fold_tick(void *ctx)
{
	struct bt_tracer *t = ctx;
	uint64_t t0 = bt_thread_cpu_ns();

	fold_if_due(t);
	bt_tracer_drain(t);
	t->tick_cpu_ns += bt_thread_cpu_ns() - t0;
}

int bt_tracer_discover(struct bt_tracer *t, bool force)
{
	uint64_t t0, ticks;
	int total = 0, n;

	t->discover_cpu_ns = 0;
	if (t->all)
		return 0;
	/* The rows name the far ends the kernel saw (connections no scan catches). */
	if (bt_tracer_collect(t))
		return -ENOMEM;
	t0 = bt_thread_cpu_ns();
	ticks = t->tick_cpu_ns;
	/* New targets have channels of their own: go on until nothing new (hops bound it). */
	do {
		n = bt_discover_round(t->model, &t->disc, force, t->max_hops, add_peer,
				      t->skel->rodata->count_marked ? mark_listener : NULL,
				      fold_tick, t);
		if (n > 0)
			total += n;
	} while (n > 0);
	t->discover_cpu_ns = bt_thread_cpu_ns() - t0 - (t->tick_cpu_ns - ticks);
	return n < 0 ? n : total;
}

void bt_tracer_exec_seen(struct bt_tracer *t, uint32_t pid)
{
	struct bt_proc *p = bt_model_find(t->model, pid);

	if (t->sym)
		bt_sym_add_process(t->sym, pid);
	if (p)
		bt_proc_read_image(p);
}

void bt_tracer_drain_records(void *tracer)
{
	struct bt_tracer *t = tracer;

	bt_ring_consume(&t->episodes);
	bt_ring_consume(&t->exchanges);
}

void bt_tracer_drain(void *tracer)
{
	struct bt_tracer *t = tracer;

	bt_ring_consume(&t->events);
	bt_tracer_drain_records(t);
}

int bt_tracer_poll(struct bt_tracer *t, int timeout_ms)
{
	uint64_t end = bt_mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	int n;

	/*
	 * Episodes and exchanges are submitted without a wakeup (one per
	 * record would cost an irq_work each): epoll does not see them, so
	 * the poll drains their rings every DRAIN_MS while it waits for
	 * events; the rings only hold what comes in that long.
	 */
	for (;;) {
		uint64_t now = bt_mono_ns();
		/* Rounded up: a poll that ends early would spin out the last millisecond. */
		int slice = now >= end ? 0 : (int)((end - now + 999999ull) / 1000000ull);

		n = bt_ring_poll(&t->events, slice < DRAIN_MS ? slice : DRAIN_MS);
		bt_tracer_drain(t);
		/* The chain window's budget came: its fold is due now (run_trace). */
		if (n || bt_mono_ns() >= end || bt_model_fold_due(t->model))
			break;
	}
	harvest_exited(t);
	fold_if_due(t);
	if (t->nremap)
		remap_execed(t);
	if (n == -EINTR)
		n = 0;
	if (n >= 0) {
		int m = bt_ring_consume(&t->events);

		n = m < 0 ? m : n + m;
	}
	bt_tracer_drain(t);
	return n;
}

size_t bt_tracer_live_targets(struct bt_tracer *t)
{
	/* An exit event lost to a full ring buffer must not keep us waiting. */
	for (size_t i = 0; i < t->nlive;) {
		char state = 0;
		unsigned long flags;
		bool zombie = !bt_proc_read_state(t->live[i], &state, &flags) &&
			      (state == 'Z' || state == 'X');

		/* A zombie has exited: only its parent has not reaped it yet. */
		if (zombie)
			fprintf(stderr, "boundtrace: pid %u has exited (a zombie its parent has "
					"not reaped)\n", t->live[i]);
		if (zombie || (kill(t->live[i], 0) && errno == ESRCH)) {
			struct bt_proc *p = bt_model_find(t->model, t->live[i]);

			if (p)
				p->exited = true;
			t->live[i] = t->live[--t->nlive];
		} else {
			i++;
		}
	}
	return t->nlive;
}

int bt_tracer_detach(struct bt_tracer *t)
{
	struct bt_maps maps;
	size_t n;
	int err;

	boundtrace_bpf__detach(t->skel);
	maps = tracer_maps(t);
	err = bt_collect_unmet(t->model, &maps, &n);
	/* Records the kernel kept for a while, sent all the same. */
	for (size_t i = 0; i < n; i++)
		took_record(t, BT_SELF_EXCHANGES, sizeof(struct bt_exchange_ev));
	return err;
}

int bt_tracer_collect(struct bt_tracer *t)
{
	struct bt_maps maps;
	int err;

	/* Events first, so every row finds its process named. */
	bt_tracer_drain(t);
	/* The records that came by now are named from the rows read below. */
	bt_model_collected(t->model);
	harvest_exited(t);
	/* Live processes may have renamed themselves (prctl) since we saw them. */
	for (size_t i = 0; i < t->model->nprocs; i++) {
		uint32_t pid = t->model->procs[i].pid;
		uint64_t start = 0;
		char comm[BT_COMM_LEN];

		if (!t->model->procs[i].exited &&
		    !bt_proc_read_identity(pid, comm, sizeof(comm), &start))
			bt_apply_identity(t->model, i, comm, start,
					  t->all || is_target(t, pid));
	}
	bt_model_clear_rows(t->model);
	maps = tracer_maps(t);
	err = bt_collect(t->model, &maps);
	if (!err)
		bt_census_mark(t->model, &t->census_start, &t->census_end);
	if (!err && t->sym)
		err = bt_stacks_resolve(t->model, bpf_map__fd(t->skel->maps.stacks), t->sym);
	return err;
}

void bt_tracer_self_cost(struct bt_tracer *t)
{
	struct bt_fold_stats fs;

	bt_self_take(&t->self, t->skel->obj, &t->model->self);
	bt_model_fold_stats(t->model, &fs);
	t->model->self.chain_cpu_ns = fs.cpu_ns;
	/* The kernel's counts as last collected, whether or not a fold took them yet. */
	t->model->self.exchanges_counted = 0;
	for (size_t i = 0; i < t->model->nonehops; i++)
		t->model->self.exchanges_counted += t->model->onehops[i].val.calls;
	t->model->self.exchanges_paired = fs.paired_calls;
}

void bt_tracer_census_end(struct bt_tracer *t)
{
	/* Not taken (an error): alive and closed stay unknown. */
	bt_census_take(&t->census_end);
}

void bt_tracer_close(struct bt_tracer *t)
{
	bt_discovery_free(&t->disc);
	bt_scan_use_iterator(false);
	bt_census_free(&t->census_start);
	bt_census_free(&t->census_end);
	bt_ring_close(&t->events);
	bt_ring_close(&t->episodes);
	bt_ring_close(&t->exchanges);
	t->pending_fd = -1;
	boundtrace_bpf__destroy(t->skel);
	if (verbose && t->sym) {
		unsigned int reads;
		size_t addrs;
		bool named, whole;

		bt_sym_kernel_stats(t->sym, &named, &reads, &addrs, &whole);
		fprintf(stderr, "boundtrace: kernel symbols: %s, then %u reads of kallsyms for "
			"%zu addresses%s\n", named ? "the syscall path's read at the start" :
			"the syscall path not read at the start", reads, addrs,
			whole ? ", then the whole table" : "");
	}
	bt_sym_free(t->sym);
	t->sym = NULL;
	free(t->live);
	free(t->exited);
	t->exited = NULL;
	free(t->remap);
	t->remap = NULL;
	t->nremap = t->capremap = 0;
	t->nexited = t->capexited = 0;
	if (verbose) {
		fprintf(stderr, "boundtrace: exit harvests: %llu processes in %llu walks, "
			"%llu map operations, %llu rows\n", (unsigned long long)t->counters.harvested,
			(unsigned long long)t->counters.harvest_walks,
			(unsigned long long)t->counters.map_ops,
			(unsigned long long)t->counters.harvested_rows);
		fprintf(stderr, "boundtrace: folds: %llu rows of closed channels in %llu folds, "
			"%llu channel facts deleted, %llu map operations, %.1f ms CPU\n",
			(unsigned long long)t->counters.folded_rows,
			(unsigned long long)t->counters.folds,
			(unsigned long long)t->counters.fold_chans,
			(unsigned long long)t->fold_map_ops, t->fold_cpu_ns / 1e6);
	}
	t->skel = NULL;
	t->live = NULL;
	t->nlive = t->caplive = 0;
}
