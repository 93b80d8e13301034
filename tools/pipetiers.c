// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * pipetiers: three tiers that talk through pairs of pipes, the way a
 * program talks to a coprocess: a request down one pipe, the response
 * back up the other.
 *
 *   "frontend"  the initial process: --requests requests, one at a time:
 *               writes 64 bytes on pipe fm, reads the 64-byte reply on mf
 *   "middle"    per request: reads it from fm, makes --calls sequential
 *               round trips to the backend (writes 32 bytes on mb, reads
 *               the 32-byte reply on bm), then writes the reply on mf
 *   "backend"   per call: reads it from mb, --work-us of CPU (a clock
 *               spin), writes the reply on bm
 * The frontend makes the four pipes before it forks; each process closes
 * every end but its own two or four. After the last request the frontend
 * closes fm (the middle reads end of file: one more receive, 0 bytes),
 * the middle closes mb (the backend reads end of file).
 *
 * Usage: pipetiers [--requests N] [--calls K] [--work-us US] [--delay-ms MS]
 *                  [--out FILE]
 * Prints (to --out) the requests and calls made and each process's rows
 * as boundtrace writes its "boundaries". With --delay-ms the frontend
 * prints "ready PID" on stderr once everyone is set up, then sleeps.
 */
#define WL_PROG		"pipetiers"
#include "workload.h"

#define REQ_SIZE	64
#define CALL_SIZE	32

enum role { R_FRONTEND, R_MIDDLE, R_BACKEND, R_NR };

static const char *const role_names[R_NR] = { "frontend", "middle", "backend" };

static struct {
	unsigned long requests, calls, work_us;
} cfg = { .requests = 100, .calls = 3, .work_us = 100 };

struct shared {
	int failed;
	int ready[R_NR], go, started[R_NR], done[R_NR];
	uint64_t round_trips;
	struct proc procs[R_NR];
};

static struct shared *sh;

/* The four pipes: [0] read end, [1] write end. */
static int fm[2], mf[2], mb[2], bm[2];

static void become(enum role r)
{
	me = &sh->procs[r];
	me->pid = getpid();
	me->role = r;
	set_name(role_names[r]);
}

/* Keep the ends in keep (-1 terminated), close every other end of the four pipes. */
static void keep_ends(const int *keep)
{
	int *all[] = { &fm[0], &fm[1], &mf[0], &mf[1], &mb[0], &mb[1], &bm[0], &bm[1] };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		bool kept = false;

		for (const int *k = keep; *k >= 0; k++)
			kept |= *k == *all[i];
		if (!kept)
			close_fd(all[i]);
	}
}

static struct row *pipe_row(int dir, int fd)
{
	char chan[CHAN_LEN];

	pipe_channel(chan, fd);
	return row_new(K_PIPE, dir, chan);
}

static void child_start(enum role r)
{
	set_flag(&sh->ready[r]);
	wait_flag(&sh->go);
	start_traffic();
	set_flag(&sh->started[r]);
}

static void busy_work(unsigned long us)
{
	uint64_t end = now_ns() + (uint64_t)us * 1000u;

	while (now_ns() < end)
		;
}

static void run_backend(void)
{
	const int keep[] = { mb[0], bm[1], -1 };
	char call[CALL_SIZE], reply[CALL_SIZE];
	struct row *rx, *tx;

	become(R_BACKEND);
	die_with_parent();
	keep_ends(keep);
	rx = pipe_row(D_RECV, mb[0]);
	tx = pipe_row(D_SEND, bm[1]);
	memset(reply, 'b', sizeof(reply));
	child_start(R_BACKEND);
	for (uint64_t i = 0; i < (uint64_t)cfg.requests * cfg.calls; i++) {
		read_all(mb[0], rx, call, sizeof(call), "call");
		busy_work(cfg.work_us);
		write_all(bm[1], tx, reply, sizeof(reply), "call reply");
	}
	read_eof(mb[0], rx, call, sizeof(call), "after the last call");
	child_done(&sh->done[R_BACKEND]);
}

static void run_middle(void)
{
	const int keep[] = { fm[0], mf[1], mb[1], bm[0], -1 };
	char req[REQ_SIZE], reply[REQ_SIZE], call[CALL_SIZE];
	struct row *urx, *utx, *dtx, *drx;

	become(R_MIDDLE);
	die_with_parent();
	keep_ends(keep);
	urx = pipe_row(D_RECV, fm[0]);
	utx = pipe_row(D_SEND, mf[1]);
	dtx = pipe_row(D_SEND, mb[1]);
	drx = pipe_row(D_RECV, bm[0]);
	memset(reply, 'm', sizeof(reply));
	memset(call, 'c', sizeof(call));
	child_start(R_MIDDLE);
	for (unsigned long i = 0; i < cfg.requests; i++) {
		read_all(fm[0], urx, req, sizeof(req), "request");
		for (unsigned long k = 0; k < cfg.calls; k++) {
			write_all(mb[1], dtx, call, sizeof(call), "call");
			read_all(bm[0], drx, call, sizeof(call), "call reply");
			sh->round_trips++;
		}
		write_all(mf[1], utx, reply, sizeof(reply), "reply");
	}
	read_eof(fm[0], urx, req, sizeof(req), "after the last request");
	close_fd(&mb[1]);	/* the backend reads end of file */
	child_done(&sh->done[R_MIDDLE]);
}

static void report(void)
{
	struct sbuf b;

	sb_init(&b);
	sb_printf(&b, "{\"requests\":%lu,\"calls\":%lu,\"backend_calls\":%" PRIu64 ","
		  "\"processes\":[\n", cfg.requests, cfg.calls, sh->round_trips);
	for (int r = 0; r < R_NR; r++) {
		sb_proc(&b, &sh->procs[r], role_names[r], role_names[r]);
		sb_boundaries(&b, &sh->procs[r], "", false, r == R_NR - 1);
	}
	sb_printf(&b, "]}\n");
	sb_flush(&b);
}

static const char usage_text[] =
"usage: pipetiers [options]\n"
"frontend -> middle -> backend over pairs of pipes (request down one, reply up\n"
"the other); counts every call it makes and reports them as JSON.\n"
"\n"
"  --requests N        frontend requests [100]\n"
"  --calls K           middle's round trips to the backend per request [3]\n"
"  --work-us US        backend CPU per call [100]\n"
"  --delay-ms MS       print \"ready PID\" on stderr and sleep first [0]\n"
"  --hold-ms MS        sleep after the traffic [0]\n"
"  --timeout S         fail if it takes longer, 0 = never [300]\n"
"  --out FILE          write the report to FILE instead of stdout\n"
"  -h, --help          this text\n";

enum { OPT_REQUESTS = 1, OPT_CALLS, OPT_WORK };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "requests",	required_argument, NULL, OPT_REQUESTS },
		{ "calls",	required_argument, NULL, OPT_CALLS },
		{ "work-us",	required_argument, NULL, OPT_WORK },
		COMMON_LONG_OPTS,
	};
	char req[REQ_SIZE], reply[REQ_SIZE];
	struct row *tx, *rx;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_REQUESTS:	cfg.requests = num(optarg, "requests", 1, 10000000); break;
		case OPT_CALLS:	cfg.calls = num(optarg, "calls", 0, 1000); break;
		case OPT_WORK:	cfg.work_us = num(optarg, "work-us", 0, 1000000); break;
		default:	common_opt(c, usage_text);
		}
	}
	if (optind != argc)
		usage_error("no arguments expected");
	close_inherited();
	sh = map_shared(sizeof(*sh));
	wl.failed = &sh->failed;
	wl.initial = getpid();
	signals_init();
	if (pipe2(fm, O_CLOEXEC) || pipe2(mf, O_CLOEXEC) || pipe2(mb, O_CLOEXEC) ||
	    pipe2(bm, O_CLOEXEC))
		fail("pipe2:");
	become(R_FRONTEND);
	spawn(run_middle);
	spawn(run_backend);
	{
		const int keep[] = { fm[1], mf[0], -1 };

		keep_ends(keep);
	}
	tx = pipe_row(D_SEND, fm[1]);
	rx = pipe_row(D_RECV, mf[0]);
	memset(req, 'f', sizeof(req));
	wait_flag(&sh->ready[R_MIDDLE]);
	wait_flag(&sh->ready[R_BACKEND]);
	set_flag(&sh->go);
	if (wl.delay_ms)
		fprintf(stderr, "ready %d\n", (int)wl.initial);
	start_traffic();
	wait_flag(&sh->started[R_MIDDLE]);
	wait_flag(&sh->started[R_BACKEND]);
	for (unsigned long i = 0; i < cfg.requests; i++) {
		write_all(fm[1], tx, req, sizeof(req), "request");
		read_all(mf[0], rx, reply, sizeof(reply), "reply");
	}
	close_fd(&fm[1]);	/* the middle reads end of file */
	initial_done();
	if (!sh->done[R_MIDDLE] || !sh->done[R_BACKEND])
		fail("a child exited without its report");
	report();
	return 0;
}
