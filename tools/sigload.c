// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sigload: a read that is interrupted by a signal while it blocks, every
 * time. The kernel either restarts it (SA_RESTART: the program sees one
 * call) or fails it with EINTR (--no-restart: the program sees an error and
 * reads again), and a tracer must count what the program saw.
 *
 * A writer ("sig-writer") and a reader ("sig-reader") share a pipe. For
 * each of --reads N one-byte messages the writer waits until the reader is
 * blocked in read(2) (/proc/PID/syscall), sends it SIGUSR1, waits until the
 * handler ran and the reader is blocked in read again, then writes the byte.
 *
 * Usage: sigload [--reads N] [--no-restart] [--out FILE]
 * Prints (to --out) the pids, the pipe channel and exactly what the reader
 * saw: successful reads, EINTR failures and signals handled.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	volatile unsigned long signals;	/* handled by the reader */
	volatile unsigned long reads;	/* bytes read: the reader is past its last read */
	unsigned long eintr;
};

static struct shared *sh;

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "sigload: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void on_usr1(int sig)
{
	(void)sig;
	sh->signals++;
}

/* True when pid is blocked inside read(2). */
static int blocked_in_read(pid_t pid)
{
	char path[64], buf[64];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strtol(buf, NULL, 10) == SYS_read && buf[0] >= '0' && buf[0] <= '9';
}

static void wait_blocked(pid_t pid)
{
	const struct timespec nap = { 0, 20000 };

	while (!blocked_in_read(pid))
		nanosleep(&nap, NULL);
}

static void reader(int fd, unsigned long n, int restart)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = restart ? SA_RESTART : 0 };
	char c;

	prctl(PR_SET_NAME, "sig-reader");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction");
	while (sh->reads < n) {
		ssize_t r = read(fd, &c, 1);

		if (r == 1)
			sh->reads++;
		else if (r < 0 && errno == EINTR)
			sh->eintr++;
		else
			die("read");
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "reads", required_argument, NULL, 'n' },
		{ "no-restart", no_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ 0 },
	};
	unsigned long n = 1000;
	const char *out = NULL;
	int restart = 1, p[2], opt, status;
	struct stat st;
	sigset_t block;
	pid_t kid;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'n')
			n = strtoul(optarg, NULL, 10);
		else if (opt == 'r')
			restart = 0;
		else if (opt == 'o')
			out = optarg;
		else
			return 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	if (pipe(p) || fstat(p[0], &st))
		die("pipe");
	/* SIGUSR1 stays blocked in the writer: only the reader handles it. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	kid = fork();
	if (kid < 0)
		die("fork");
	if (kid == 0) {
		close(p[1]);
		reader(p[0], n, restart);
	}
	sigprocmask(SIG_BLOCK, &block, NULL);
	prctl(PR_SET_NAME, "sig-writer");
	close(p[0]);
	for (unsigned long i = 0; i < n; i++) {
		unsigned long seen = sh->signals;

		/* The previous byte is read: the next blocked read is a new one. */
		while (sh->reads < i)
			sched_yield();
		wait_blocked(kid);
		if (kill(kid, SIGUSR1))
			die("kill");
		while (sh->signals == seen)
			sched_yield();
		wait_blocked(kid);
		if (write(p[1], "x", 1) != 1)
			die("write");
	}
	if (waitpid(kid, &status, 0) != kid || !WIFEXITED(status) || WEXITSTATUS(status))
		die("reader failed");
	f = out ? fopen(out, "w") : stdout;
	if (!f)
		die(out);
	fprintf(f, "{\"writer_pid\":%d,\"reader_pid\":%d,\"channel\":\"pipe:[%lu]\","
		"\"restart\":%s,\"reads\":%lu,\"eintr\":%lu,\"signals\":%lu,\"writes\":%lu}\n",
		getpid(), kid, (unsigned long)st.st_ino, restart ? "true" : "false",
		sh->reads, sh->eintr, sh->signals, n);
	return fclose(f) ? 1 : 0;
}
