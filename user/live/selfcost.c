// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * boundtrace's own cost. For the process, its CPU clock (lib/clock.h)
 * and getrusage's peak RSS; for the programs, the kernel's run_time_ns
 * and run_cnt (struct bpf_prog_info), which it keeps only while
 * kernel.bpf_stats_enabled is on: read, never set (on, it adds two clock
 * reads to every BPF program run on the machine).
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include "lib/clock.h"
#include "live/selfcost.h"

/* The process's peak RSS, KiB (0 if it cannot be read). */
static uint64_t max_rss_kib(void)
{
	struct rusage ru;

	return getrusage(RUSAGE_SELF, &ru) ? 0 : (uint64_t)ru.ru_maxrss;
}

/* The sums of every loaded program's counters (the tail-called one too). */
static void prog_counters(const struct bpf_object *obj, uint64_t *ns, uint64_t *runs)
{
	struct bpf_program *prog;

	*ns = *runs = 0;
	if (!obj)
		return;
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		*ns += info.run_time_ns;
		*runs += info.run_cnt;
	}
}

static int bpf_stats_on(void)
{
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");
	int on = 0;

	if (!f)
		return 0;
	if (fscanf(f, "%d", &on) != 1)
		on = 0;
	fclose(f);
	return on > 0;
}

void bt_self_start(struct bt_self_probe *p, const struct bpf_object *obj)
{
	p->cpu_ns = bt_process_cpu_ns();
	prog_counters(obj, &p->bpf_ns, &p->bpf_runs);
}

void bt_self_take(const struct bt_self_probe *p, const struct bpf_object *obj,
		  struct bt_self_cost *s)
{
	uint64_t cpu = bt_process_cpu_ns(), ns, runs;

	s->measured = true;
	s->max_rss_kib = max_rss_kib();
	s->load_cpu_ns = p->cpu_ns;
	s->cpu_ns = cpu > p->cpu_ns ? cpu - p->cpu_ns : 0;
	s->bpf_stats = bpf_stats_on();
	prog_counters(obj, &ns, &runs);
	/* Counters only grow; stats turned off meanwhile leave them where they were. */
	s->bpf_ns = ns > p->bpf_ns ? ns - p->bpf_ns : 0;
	s->bpf_runs = runs > p->bpf_runs ? runs - p->bpf_runs : 0;
}
