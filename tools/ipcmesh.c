// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ipcmesh - a three-process IPC mesh for the boundtrace integration tests.
 *
 * Where tools/ipcload drives one channel kind, ipcmesh wires three
 * processes together with every kind at once, so a tracer attached to the
 * first process alone can be checked on finding the others through the
 * channels it holds. It counts every syscall it makes on those channels
 * and reports them, with the process-to-process edges they add up to, as
 * JSON: the ground truth the tests compare boundtrace against.
 *
 *   A "mesh-a"  initial process; forks B, then C
 *   B "mesh-b"
 *   C "mesh-c"  plus a helper thread "mesh-c-helper"
 *
 *   A -> B      anonymous pipe (A writes, B reads)
 *   B <-> C     unix stream socketpair (B requests, C replies)
 *   A <-> C     loopback TCP, C listens on 127.0.0.1:0, A connects
 *   C <-> C     a futex word, C's main thread and helper hand off on it
 *
 * Every channel is set up, and every process has closed each descriptor
 * it does not use (inherited ones above 2 go first thing), before any
 * measured call: the only holders of a channel are its two real ends.
 * Then A prints "ready PID" on stderr and every process sleeps --delay-ms
 * before its first measured call (time for a tracer attached to A to find
 * B and C through /proc/A/fd). Set-up handshakes and the children's
 * reports go through a MAP_SHARED anonymous mapping polled with
 * nanosleep(), failures through signals: never through a measured channel,
 * nor a futex (the helper is not joined; it exits first, see helper_main).
 *
 * Descriptors, given only 0-2 at start: A creates pipe 3 (read) / 4
 * (write) and socketpair 5 (B's end) / 6 (C's end), forks B, then C.
 *   A keeps 4 (pipe write end), connects tcp on 3
 *   B keeps 3 (pipe read end) and 5 (unix)
 *   C keeps 6 (unix); listens on 3, accepts 4, closes 3: keeps 4 (tcp)
 *
 * One round (--count of them):
 *   A  write S -> pipe
 *   B  read S <- pipe; write S -> unix; read R <- unix
 *   C  read S <- unix; futex handoff to the helper and back; write R -> unix
 *   A  write S -> tcp; read R <- tcp
 *   C  read S <- tcp; write R -> tcp
 * C serves B's request before A's, so the order never depends on timing.
 * Reads ask only for what is left of the current message, so a read can
 * never take part of the next one. Afterwards A closes the pipe's write end
 * and B reads EOF (one more pipe receive, 0 bytes), B closes the socketpair,
 * A shuts the connection down, C stops after N rounds (it reads no EOF).
 */
#define WL_PROG		"ipcmesh"
#include "workload.h"

#define MAX_SIZE	(1u << 20)
#define MAX_COUNT	1000000000ul

/* ---- configuration (and wl: --delay-ms, --hold-ms, --timeout, --out) ---- */

static struct {
	unsigned long count;
	size_t size, reply;
} cfg = {
	.count = 100, .size = 64, .reply = 16,
};

enum role { P_A, P_B, P_C, P_NR };

static const char *const role_names[P_NR] = { "a", "b", "c" };
static const char *const role_comms[P_NR] = { "mesh-a", "mesh-b", "mesh-c" };

/* ---- shared state (MAP_SHARED, written before fork or by its owner) ---- */

struct shared {
	int failed;		/* someone called fail() */
	int port_ready;		/* C listens on port */
	unsigned short port;	/* host order */
	int b_ready, c_ready;	/* set up, unused fds closed */
	int go;			/* A saw everyone ready: start the delay */
	int b_done, c_done;	/* rows final */
	struct proc procs[P_NR];
};

static struct shared *sh;

/* ---- channels ------------------------------------------------------------- */

static int pipe_fd[2] = { -1, -1 };	/* [0]: B reads, [1]: A writes */
static int sp_fd[2] = { -1, -1 };	/* [0]: B's end, [1]: C's end */
static int tcp_fd = -1;			/* A: connected; C: accepted */
static char pipe_chan[CHAN_LEN];
static char unix_chan_b[CHAN_LEN], unix_chan_c[CHAN_LEN];
static char tcp_chan[CHAN_LEN];		/* this process's view */

/* A, before forking: the pipe and the socketpair, both ends known here. */
static void setup_shared_channels(void)
{
	unsigned long b_ino, c_ino;

	if (pipe(pipe_fd))
		fail("pipe:");
	pipe_channel(pipe_chan, pipe_fd[0]);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp_fd))
		fail("socketpair:");
	b_ino = fd_ino(sp_fd[0]);
	c_ino = fd_ino(sp_fd[1]);
	unix_channel(unix_chan_b, b_ino, c_ino);
	unix_channel(unix_chan_c, c_ino, b_ino);
}

/* C: listen on loopback, tell A the port, take A's connection, drop the listener. */
static void setup_tcp_server(void)
{
	tcp_fd = tcp_accept_one(0, &sh->port, &sh->port_ready);
	tcp_channel(tcp_fd, tcp_chan);
}

/* A: connect to C once it listens. */
static void setup_tcp_client(void)
{
	wait_flag(&sh->port_ready);
	tcp_fd = tcp_connect(0, sh->port);
	tcp_channel(tcp_fd, tcp_chan);
}

/* ---- futex handoff in C ------------------------------------------------------ */

static struct fword fword;	/* C's private futex word, 0 = idle, 1 = request */
static struct fstats f_main, f_helper;	/* summed into C's rows once the helper is done */
static int helper_named, helper_go, helper_done;	/* C-local handshakes */
static pid_t helper_tid;

static void *helper_main(void *arg)
{
	unsigned long i;

	(void)arg;
	set_name("mesh-c-helper");
	helper_tid = (pid_t)syscall(SYS_gettid);
	set_flag(&helper_named);
	wait_flag(&helper_go);	/* C's main thread slept --delay-ms */
	for (i = 0; i < cfg.count; i++) {
		fwait_for(&fword.word, 1, &f_helper);
		fset_wake(&fword.word, 0, &f_helper);
	}
	/* Gone before C exits, so that C's name at exit is "mesh-c". */
	thread_exit(&helper_done);
	return NULL;
}

/* ---- processes ------------------------------------------------------------------ */

static void become(enum role role)
{
	me = &sh->procs[role];
	me->pid = getpid();
	set_name(role_comms[role]);
}

static void __attribute__((noreturn)) run_b(void)
{
	char *rbuf = alloc_buf(cfg.size), *sbuf = alloc_buf(cfg.size), *reply = alloc_buf(cfg.reply);
	struct row *pipe_rx, *unix_tx, *unix_rx;
	unsigned long i;

	become(P_B);
	die_with_parent();
	close_fd(&pipe_fd[1]);
	close_fd(&sp_fd[1]);
	pipe_rx = row_new(K_PIPE, D_RECV, pipe_chan);
	unix_tx = row_new(K_USTREAM, D_SEND, unix_chan_b);
	unix_rx = row_new(K_USTREAM, D_RECV, unix_chan_b);
	set_flag(&sh->b_ready);
	wait_flag(&sh->go);
	start_traffic();

	for (i = 0; i < cfg.count; i++) {
		read_all(pipe_fd[0], pipe_rx, rbuf, cfg.size, "pipe");
		write_all(sp_fd[0], unix_tx, sbuf, cfg.size, "unix");
		if (cfg.reply)
			read_all(sp_fd[0], unix_rx, reply, cfg.reply, "unix");
	}
	/* A closes its end after the last round: one more read, 0 bytes. */
	read_eof(pipe_fd[0], pipe_rx, rbuf, cfg.size, "pipe");
	close_fd(&pipe_fd[0]);
	close_fd(&sp_fd[0]);
	child_done(&sh->b_done);
}

static void __attribute__((noreturn)) run_c(void)
{
	char *rbuf = alloc_buf(cfg.size), *reply = alloc_buf(cfg.reply);
	struct row *unix_rx, *unix_tx, *tcp_rx, *tcp_tx;
	unsigned long i;

	become(P_C);
	die_with_parent();
	close_fd(&pipe_fd[0]);
	close_fd(&pipe_fd[1]);
	close_fd(&sp_fd[0]);
	setup_tcp_server();
	unix_rx = row_new(K_USTREAM, D_RECV, unix_chan_c);
	unix_tx = row_new(K_USTREAM, D_SEND, unix_chan_c);
	tcp_rx = row_new(K_TCP, D_RECV, tcp_chan);
	tcp_tx = row_new(K_TCP, D_SEND, tcp_chan);
	start_thread(helper_main, &helper_named);
	set_flag(&sh->c_ready);
	wait_flag(&sh->go);
	start_traffic();
	set_flag(&helper_go);

	for (i = 0; i < cfg.count; i++) {
		read_all(sp_fd[1], unix_rx, rbuf, cfg.size, "unix");
		/* Hand the request to the helper and wait until it hands it back. */
		fset_wake(&fword.word, 1, &f_main);
		fwait_for(&fword.word, 0, &f_main);
		if (cfg.reply)
			write_all(sp_fd[1], unix_tx, reply, cfg.reply, "unix");
		read_all(tcp_fd, tcp_rx, rbuf, cfg.size, "tcp");
		if (cfg.reply)
			write_all(tcp_fd, tcp_tx, reply, cfg.reply, "tcp");
	}
	/* The helper's last counts land after its last wake: wait for them. */
	wait_thread_gone(&helper_done, helper_tid);
	futex_rows(&fword.word, &f_main, &f_helper);
	close_fd(&sp_fd[1]);
	close_fd(&tcp_fd);
	child_done(&sh->c_done);
}

static void run_a(void)
{
	char *sbuf = alloc_buf(cfg.size), *reply = alloc_buf(cfg.reply);
	struct row *pipe_tx, *tcp_tx, *tcp_rx;
	unsigned long i;

	become(P_A);
	setup_shared_channels();
	spawn(run_b);		/* wl.kids[0] */
	spawn(run_c);		/* wl.kids[1] */
	close_fd(&pipe_fd[0]);
	close_fd(&sp_fd[0]);
	close_fd(&sp_fd[1]);
	setup_tcp_client();
	pipe_tx = row_new(K_PIPE, D_SEND, pipe_chan);
	tcp_tx = row_new(K_TCP, D_SEND, tcp_chan);
	tcp_rx = row_new(K_TCP, D_RECV, tcp_chan);
	wait_flag(&sh->b_ready);
	wait_flag(&sh->c_ready);
	set_flag(&sh->go);
	fprintf(stderr, "ready %d\n", (int)wl.initial);
	start_traffic();

	for (i = 0; i < cfg.count; i++) {
		write_all(pipe_fd[1], pipe_tx, sbuf, cfg.size, "pipe");
		write_all(tcp_fd, tcp_tx, sbuf, cfg.size, "tcp");
		if (cfg.reply)
			read_all(tcp_fd, tcp_rx, reply, cfg.reply, "tcp");
	}
	close_fd(&pipe_fd[1]);		/* B reads EOF */
	if (shutdown(tcp_fd, SHUT_RDWR))
		fail("shutdown tcp:");
	close_fd(&tcp_fd);
	initial_done();
	if (!sh->b_done || !sh->c_done)
		fail("a child exited without its report");
	free(sbuf);
	free(reply);
}

/* ---- checks and report --------------------------------------------------------- */

static void expect(enum role p, int kind, int dir, uint64_t calls_min, uint64_t bytes)
{
	expect_row(&sh->procs[p], role_comms[p], kind, dir, calls_min, bytes);
}

/*
 * Cross-check the rows against what the exchange must have moved, so a
 * counting slip fails the run instead of silently becoming ground truth.
 */
static void self_check(void)
{
	uint64_t n = cfg.count, ns = n * cfg.size, nr = n * cfg.reply;
	uint64_t cr = cfg.reply ? n : 0;
	const struct row *wake = row_find(&sh->procs[P_C], K_FUTEX, D_WAKE);
	const struct row *wait = row_find(&sh->procs[P_C], K_FUTEX, D_WAIT);

	expect(P_A, K_PIPE, D_SEND, n, ns);
	expect(P_B, K_PIPE, D_RECV, n + 1, ns);	/* + the EOF read */
	expect(P_B, K_USTREAM, D_SEND, n, ns);
	expect(P_C, K_USTREAM, D_RECV, n, ns);
	expect(P_C, K_USTREAM, D_SEND, cr, nr);
	expect(P_B, K_USTREAM, D_RECV, cr, nr);
	expect(P_A, K_TCP, D_SEND, n, ns);
	expect(P_C, K_TCP, D_RECV, n, ns);
	expect(P_C, K_TCP, D_SEND, cr, nr);
	expect(P_A, K_TCP, D_RECV, cr, nr);
	if (!wake || wake->calls != 2 * n || wake->errors || wake->wakes > wake->calls ||
	    wake->woken != wake->wakes)
		fail("self-check: futex wake calls/wakes/woken wrong");
	if (!wait || wait->errors > wait->calls)
		fail("self-check: futex wait errors wrong");
}

static void report_proc(struct sbuf *b, enum role role, bool last)
{
	sb_proc(b, &sh->procs[role], role_comms[role], role_names[role]);
	sb_boundaries(b, &sh->procs[role], NULL, true, last);
}

/* An edge: the sender's successful send calls and bytes on one channel. */
static void report_edge(struct sbuf *b, enum role from, enum role to, int kind, bool last)
{
	const struct row *r = row_find(&sh->procs[from], kind, D_SEND);

	if (!r)
		fail("no %s send row for %s", kind_names[kind], role_comms[from]);
	sb_printf(b, "  {\"from\":%d,\"to\":%d,\"kind\":\"%s\",\"channel\":\"%s\","
		  "\"calls\":%" PRIu64 ",\"bytes\":%" PRIu64 "}%s\n",
		  (int)sh->procs[from].pid, (int)sh->procs[to].pid, kind_names[kind], r->chan,
		  r->calls - r->errors, r->bytes, last ? "" : ",");
}

static void write_report(void)
{
	const struct row *wake = row_find(&sh->procs[P_C], K_FUTEX, D_WAKE);
	struct sbuf b;

	sb_init(&b);
	sb_printf(&b, "{\"count\":%lu,\"size\":%zu,\"reply_size\":%zu,\n \"processes\":[\n",
		  cfg.count, cfg.size, cfg.reply);
	report_proc(&b, P_A, false);
	report_proc(&b, P_B, false);
	report_proc(&b, P_C, true);
	sb_printf(&b, " ],\n \"edges\":[\n");
	report_edge(&b, P_A, P_B, K_PIPE, false);
	report_edge(&b, P_B, P_C, K_USTREAM, false);
	report_edge(&b, P_C, P_B, K_USTREAM, false);
	report_edge(&b, P_A, P_C, K_TCP, false);
	report_edge(&b, P_C, P_A, K_TCP, false);
	sb_printf(&b, "  {\"from\":%d,\"to\":%d,\"kind\":\"futex\",\"channel\":\"%s\","
		  "\"calls\":%" PRIu64 ",\"wakes\":%" PRIu64 ",\"woken\":%" PRIu64 "}\n",
		  (int)sh->procs[P_C].pid, (int)sh->procs[P_C].pid, wake->chan,
		  wake->calls, wake->wakes, wake->woken);
	sb_printf(&b, " ]}\n");
	sb_flush(&b);
}

/* ---- command line ------------------------------------------------------------------ */

static const char usage_text[] =
"usage: ipcmesh [options]\n"
"Three processes talking over a pipe, a unix socketpair, loopback TCP and a\n"
"futex; report, as JSON, every syscall made on those channels and the\n"
"process-to-process edges they make.\n"
"\n"
"  A \"mesh-a\" (initial) --pipe--> B \"mesh-b\" --unix stream--> C \"mesh-c\"\n"
"  A <--tcp 127.0.0.1--> C;  C's main thread <--futex--> \"mesh-c-helper\"\n"
"\n"
"  --count N           rounds [100]\n"
"  --size BYTES        request size on pipe, unix and tcp, 1..1048576 [64]\n"
"  --reply-size BYTES  reply size on unix and tcp, 0 = no replies [16]\n"
"  --delay-ms MS       after every channel is set up, A prints \"ready PID\" on\n"
"                      stderr and every process sleeps MS before its first\n"
"                      measured call (time to attach a tracer to A) [0]\n"
"  --hold-ms MS        every process sleeps MS after its traffic [0]\n"
"  --timeout S         fail if the traffic takes longer, 0 = never [300]\n"
"  --out FILE          write the report to FILE instead of stdout (use it\n"
"                      when traced: stdout may be a pipe)\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 done and self-consistent, 1 failure (message on stderr),\n"
"2 bad usage.\n";

enum { OPT_COUNT = 256, OPT_SIZE, OPT_REPLY };

static const struct option long_opts[] = {
	{ "count",	required_argument, NULL, OPT_COUNT },
	{ "size",	required_argument, NULL, OPT_SIZE },
	{ "reply-size",	required_argument, NULL, OPT_REPLY },
	COMMON_LONG_OPTS,
};

static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_COUNT:	cfg.count = num(optarg, "count", 0, MAX_COUNT); break;
		case OPT_SIZE:	cfg.size = num(optarg, "size", 1, MAX_SIZE); break;
		case OPT_REPLY:	cfg.reply = num(optarg, "reply-size", 0, MAX_SIZE); break;
		default:	common_opt(c, usage_text);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	close_inherited();
	wl.initial = getpid();
	sh = map_shared(sizeof(*sh));
	wl.failed = &sh->failed;
	signals_init();
	arm_watchdog();		/* set-up too: a lost child must not hang A */
	run_a();
	self_check();
	write_report();
	return 0;
}
