// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * stackload: a workload with known call stacks for boundtrace's flame
 * output. A parent answers "requests" by writing replies to a pipe that
 * its child reads; the reply is written by handle_request -> send_reply ->
 * write, reached from two different call sites:
 *   main -> serve_fast -> handle_request -> send_reply -> write   (--fast N)
 *   main -> serve_slow -> handle_request -> send_reply -> write   (--slow M)
 * Built with frame pointers and no inlining (see the Makefile), so the
 * kernel's frame-pointer unwinder sees exactly these frames.
 *
 * Usage: stackload [--fast N] [--slow M] [--size BYTES] [--hold-ms MS] [--out FILE]
 * Prints (to --out) the exact number of writes and bytes per call site.
 */
#define WL_PROG		"stackload"
#include "workload.h"	/* sleep_ms() */

static int reply_fd;
static size_t reply_size = 64;
static char reply[65536];

/* Each write counts; a short write is finished by another (counted) write. */
static __attribute__((noinline)) long send_reply(unsigned long *calls)
{
	size_t done = 0;

	while (done < reply_size) {
		ssize_t n = write(reply_fd, reply + done, reply_size - done);

		(*calls)++;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += n;
	}
	return done;
}

static __attribute__((noinline)) long handle_request(unsigned long *calls)
{
	return send_reply(calls);
}

static __attribute__((noinline)) int serve_fast(unsigned long n, unsigned long *calls,
						 unsigned long *bytes)
{
	for (unsigned long i = 0; i < n; i++) {
		long r = handle_request(calls);

		if (r < 0)
			return -1;
		*bytes += r;
	}
	return 0;
}

static __attribute__((noinline)) int serve_slow(unsigned long n, unsigned long *calls,
						 unsigned long *bytes)
{
	for (unsigned long i = 0; i < n; i++) {
		long r = handle_request(calls);

		if (r < 0)
			return -1;
		*bytes += r;
	}
	return 0;
}

static void drain(int fd)
{
	char buf[65536];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	_exit(0);
}

int main(int argc, char **argv)
{
	unsigned long fast = 100, slow = 50, fc = 0, fb = 0, sc = 0, sb = 0;
	const char *out = NULL;
	long hold_ms = 0;
	int fds[2], status;
	pid_t child;
	FILE *f;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--fast") && v)
			fast = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--slow") && v)
			slow = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--size") && v)
			reply_size = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--hold-ms") && v)
			hold_ms = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--out") && v)
			out = argv[++i];
		else {
			fprintf(stderr, "usage: stackload [--fast N] [--slow M] [--size BYTES] "
					"[--hold-ms MS] [--out FILE]\n");
			return 2;
		}
	}
	if (!reply_size || reply_size > sizeof(reply)) {
		fprintf(stderr, "stackload: --size must be 1..%zu\n", sizeof(reply));
		return 2;
	}
	memset(reply, 'r', sizeof(reply));
	if (pipe(fds))
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		prctl(PR_SET_NAME, "stack-reader");
		close(fds[1]);
		drain(fds[0]);
	}
	prctl(PR_SET_NAME, "stack-server");
	close(fds[0]);
	reply_fd = fds[1];
	if (serve_fast(fast, &fc, &fb) || serve_slow(slow, &sc, &sb)) {
		perror("stackload: write");
		return 1;
	}
	/* Live a little so a tracer can read our maps for the stacks. */
	sleep_ms(hold_ms);
	close(reply_fd);
	waitpid(child, &status, 0);
	f = out ? fopen(out, "w") : stdout;
	if (!f)
		return 1;
	fprintf(f, "{\"server\":%d,\"reader\":%d,\"fast\":{\"calls\":%lu,\"bytes\":%lu},"
		   "\"slow\":{\"calls\":%lu,\"bytes\":%lu}}\n", getpid(), child, fc, fb, sc, sb);
	return fclose(f) ? 1 : 0;
}
