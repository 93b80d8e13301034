// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * chanstorm: many channels owned by processes that exit together, the
 * case that makes a tracer's exit harvest expensive. Each of --procs P
 * children ("storm-N") makes --pairs N unix socketpairs, sends one byte
 * on one end of each and reads it on the other, then all exit at once.
 *
 * Usage: chanstorm [--procs P] [--pairs N] [--hold-ms MS] [--out FILE]
 * Prints (to --out) each child's pid and its exact calls: N sends and N
 * receives of one byte, one row each; the file appears once every child
 * has exited. --hold-ms: the parent stays that long after it.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_PROCS 64

static void __attribute__((noreturn)) die(const char *what)
{
	fprintf(stderr, "chanstorm: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void child(int idx, unsigned long pairs, volatile int *ready, volatile int *go)
{
	char name[16], c = 'x';
	int (*sv)[2] = calloc(pairs, sizeof(*sv));

	snprintf(name, sizeof(name), "storm-%d", idx);
	prctl(PR_SET_NAME, name);
	if (!sv)
		die("calloc");
	for (unsigned long i = 0; i < pairs; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]))
			die("socketpair");
		if (write(sv[i][0], &c, 1) != 1 || read(sv[i][1], &c, 1) != 1)
			die("send/recv");
	}
	__sync_fetch_and_add(ready, 1);
	while (!*go)
		usleep(1000);
	_exit(0);	/* every channel closes with the process */
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "procs", required_argument, NULL, 'p' },
		{ "pairs", required_argument, NULL, 'n' },
		{ "out", required_argument, NULL, 'o' },
		{ "hold-ms", required_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned long pairs = 1000, hold_ms = 0;
	int procs = 2, opt, status;
	pid_t pids[MAX_PROCS];
	const char *out = NULL;
	volatile int *shared;
	struct rlimit rl;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == 'p')
			procs = atoi(optarg);
		else if (opt == 'n')
			pairs = strtoul(optarg, NULL, 10);
		else if (opt == 'o')
			out = optarg;
		else if (opt == 'h')
			hold_ms = strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (procs < 1 || procs > MAX_PROCS)
		return 2;
	/* Two fds per pair, all open until the exit. */
	rl.rlim_cur = rl.rlim_max = 2 * pairs + 64;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		die("setrlimit RLIMIT_NOFILE");
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap");
	for (int i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork");
		if (pids[i] == 0)
			child(i, pairs, &shared[0], &shared[1]);
	}
	while (shared[0] < procs)
		usleep(1000);
	shared[1] = 1;
	for (int i = 0; i < procs; i++)
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			die("child failed");
	f = out ? fopen(out, "w") : stdout;
	if (!f)
		die(out);
	fprintf(f, "{\"pairs\":%lu,\"pids\":[", pairs);
	for (int i = 0; i < procs; i++)
		fprintf(f, "%s%d", i ? "," : "", pids[i]);
	fprintf(f, "]}\n");
	if (fclose(f))
		return 1;
	usleep(hold_ms * 1000);
	return 0;
}
