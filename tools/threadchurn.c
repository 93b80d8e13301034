// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * threadchurn: short-lived threads in two processes on one CPU, so the
 * kernel hands the stack of one process's dead thread to the other's next
 * thread (it keeps a few freed stacks per CPU for the next one). A tracer
 * that knows a task by anything tied to its stack must forget it at exit,
 * or the next owner's calls are taken for the dead one's.
 *
 * The initial process ("churn-traced") forks "churn-other" before it says
 * `ready` (so a tracer given the initial pid does not follow it), pins both
 * to CPU 0 and lets them take turns: each makes --threads threads, one at a
 * time, each thread writes --writes bytes, one write(2) each, into its own
 * process's pipe (nobody reads it: the bytes fit its buffer) and leaves
 * with a bare exit(2); the process waits for it without a futex.
 *
 * Usage: threadchurn [--threads T] [--writes K] [--delay-ms MS] [--out FILE]
 * Prints (to --out) both pids, the traced one's pipe inode and the exact writes:
 * T * K one-byte writes per process, one pipe send row each.
 */
#define WL_PROG "threadchurn"
#include "workload.h"

#include <sched.h>
#include <sys/stat.h>

static struct {
	unsigned long threads, writes;
} cfg = { .threads = 100, .writes = 10 };

/* The shared turn: which process makes its next thread (0 traced, 1 other). */
struct shared {
	int turn;
	int done[2];
};

static struct shared *sh;
static int pipe_w;
static int thread_done;
static pid_t thread_tid;
static unsigned long writes_made;

static void *writer(void *arg)
{
	char c = 'x';

	(void)arg;
	__atomic_store_n(&thread_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	for (unsigned long i = 0; i < cfg.writes; i++) {
		if (write(pipe_w, &c, 1) != 1)
			fail("write:");
		writes_made++;
	}
	thread_exit(&thread_done);
}

static void churn(int me_idx)
{
	pthread_attr_t attr;

	if (pthread_attr_init(&attr) || pthread_attr_setstacksize(&attr, 64 * 1024))
		fail("pthread_attr:");
	for (unsigned long i = 0; i < cfg.threads; i++) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 20000 };
		pthread_t t;
		int err;

		while (__atomic_load_n(&sh->turn, __ATOMIC_ACQUIRE) != me_idx &&
		       !__atomic_load_n(&sh->done[!me_idx], __ATOMIC_ACQUIRE))
			nanosleep(&ts, NULL);
		__atomic_store_n(&thread_done, 0, __ATOMIC_RELEASE);
		err = pthread_create(&t, &attr, writer, NULL);
		if (err) {
			errno = err;
			fail("pthread_create:");
		}
		/* Gone from the kernel, not only done: its stack is free for the next thread. */
		wait_flag(&thread_done);
		wait_thread_gone(&thread_done, __atomic_load_n(&thread_tid, __ATOMIC_ACQUIRE));
		__atomic_store_n(&sh->turn, !me_idx, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&sh->done[me_idx], 1, __ATOMIC_RELEASE);
}

static unsigned long pipe_ino(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		fail("fstat:");
	return st.st_ino;
}

static const char usage_text[] =
"usage: threadchurn [options]\n"
"Two processes on CPU 0 take turns making short-lived threads that write\n"
"one byte at a time into their own process's pipe.\n"
"\n"
"  --threads T         threads each process makes, one after another [100]\n"
"  --writes K          one-byte writes of each thread, T*K <= 60000 [10]\n"
"  --delay-ms MS       print \"ready PID\" on stderr and sleep first [0]\n"
"  --hold-ms MS        sleep after the traffic [0]\n"
"  --timeout S         fail if it takes longer, 0 = never [300]\n"
"  --out FILE          write the report to FILE instead of stdout\n"
"  -h, --help          this text\n";

enum { OPT_THREADS = 1, OPT_WRITES };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads",	required_argument, NULL, OPT_THREADS },
		{ "writes",	required_argument, NULL, OPT_WRITES },
		COMMON_LONG_OPTS,
	};
	unsigned long ino;
	pid_t pids[2];
	cpu_set_t cpu0;
	int c, p[2];
	struct sbuf b;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_THREADS:	cfg.threads = num(optarg, "threads", 1, 100000); break;
		case OPT_WRITES:	cfg.writes = num(optarg, "writes", 1, 60000); break;
		default:	common_opt(c, usage_text);
		}
	}
	if (optind != argc)
		usage_error("no arguments expected");
	if (cfg.threads * cfg.writes > 60000)
		usage_error("--threads times --writes must fit a pipe's buffer (60000)");
	wl.initial = getpid();
	signals_init();
	set_name("churn-traced");
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0))
		fail("sched_setaffinity:");
	sh = map_shared(sizeof(*sh));
	pids[0] = getpid();
	pids[1] = fork_kid();
	if (pids[1] == 0) {
		die_with_parent();
		set_name("churn-other");
		if (pipe(p))
			fail("pipe:");
		pipe_w = p[1];
		start_traffic();
		churn(1);
		if (writes_made != cfg.threads * cfg.writes)
			fail("churn-other made %lu writes", writes_made);
		child_done(NULL);
	}
	if (pipe(p))
		fail("pipe:");
	pipe_w = p[1];
	ino = pipe_ino(p[0]);
	if (wl.delay_ms)
		fprintf(stderr, "ready %d\n", (int)pids[0]);
	start_traffic();
	churn(0);
	initial_done();
	if (writes_made != cfg.threads * cfg.writes)
		fail("churn-traced made %lu writes", writes_made);
	/* churn-other checked its own count: it exits 0 only with T * K writes. */
	sb_init(&b);
	sb_printf(&b, "{\"traced\":{\"pid\":%d,\"pipe\":%lu,\"writes\":%lu},"
		  "\"other\":{\"pid\":%d,\"writes\":%lu},\"threads\":%lu}\n",
		  (int)pids[0], ino, writes_made, (int)pids[1], cfg.threads * cfg.writes,
		  cfg.threads);
	sb_flush(&b);
	return 0;
}
