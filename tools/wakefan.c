// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * wakefan - one process wakes several others through one futex word, and
 * exits while they live on: the integration test of wakeups counted past
 * a row's own wakee slots, and of a waker that exits mid-trace.
 *
 *   "fan-main"   the initial process: forks the waker and the wakees, waits
 *                for them all, reports; it outlives them, so a tracer running
 *                it with -c keeps collecting after the waker is gone
 *   "fan-waker"  FUTEX_WAKE, one waiter at a time, until it has woken every
 *                wakee --count times; then it exits
 *   "fan-wakee"  --wakees of them: FUTEX_WAIT --count times on the shared
 *                word, then stay --linger-ms more before exiting
 *
 * With --words N the shared words are N: a wakee's k-th wait is on word
 * k % N, and the waker tries the words in turn, so one waker thread wakes
 * the same wakee on each word (N futex links from one thread to one
 * process, which a tracer must each keep).
 *
 * The words never change, so a wait ends only when the waker wakes it; a
 * wake that found no waiter (it returns 0) is tried again after 100 us.
 * Every process reports through a MAP_SHARED mapping, never through a
 * futex or a channel. The report (--out) names the waker, each wakee and
 * the wakeups it received: the edges waker -> wakee a tracer must show;
 * each word's address (the same in every process: mapped before the
 * forks), the waker's calls on it and the wakeups it made;
 * and each one's start time as its own /proc/self/stat says (field 22,
 * clock ticks since boot), which a tracer's start_ns must equal.
 */
#include <errno.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WAKEES	32
#define MAX_WORDS	8

struct shared {
	int word[MAX_WORDS];		/* the futexes: always 0 */
	int failed;
	long woken[MAX_WAKEES];		/* wakeups each wakee received */
	unsigned long long start[MAX_WAKEES + 1];	/* wakees', then the waker's */
	long wakes;			/* the waker's wakes that woke one */
	long wake_calls;		/* its FUTEX_WAKE calls, those included */
	long word_calls[MAX_WORDS];	/* its FUTEX_WAKE calls on each word */
	long word_woken[MAX_WORDS];	/* the wakeups on each word */
};

static struct shared *sh;
static long nwords = 1;

static void die(const char *what)
{
	fprintf(stderr, "wakefan: %s: %s\n", what, strerror(errno));
	if (sh)
		sh->failed = 1;
	_exit(1);
}

static long futex(long w, int op, int val)
{
	return syscall(SYS_futex, &sh->word[w % nwords], op, val, NULL, NULL, 0);
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, us % 1000000 * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* This process's start, in clock ticks since boot (/proc/self/stat field 22). */
static unsigned long long own_start(void)
{
	char buf[1024], *p;
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;

	if (!f)
		die("/proc/self/stat");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* Fields resume after the comm's last ')': field 3 is the first. */
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &v) != 1)
		die("/proc/self/stat field 22");
	return v;
}

static void wakee(int i, long count, long linger_ms)
{
	prctl(PR_SET_NAME, "fan-wakee");
	sh->start[i] = own_start();
	while (sh->woken[i] < count) {
		/* Not FUTEX_PRIVATE: the word is shared between processes. */
		if (futex(sh->woken[i], FUTEX_WAIT, 0) == 0)
			__atomic_add_fetch(&sh->word_woken[sh->woken[i]++ % nwords], 1, __ATOMIC_RELAXED);
		else if (errno != EINTR && errno != EAGAIN)
			die("FUTEX_WAIT");
	}
	sleep_us(linger_ms * 1000);
	_exit(0);
}

static void waker(int i, long total)
{
	prctl(PR_SET_NAME, "fan-waker");
	sh->start[i] = own_start();
	for (long w = 0; sh->wakes < total && !sh->failed; w++) {
		long r = futex(w, FUTEX_WAKE, 1);

		sh->wake_calls++;
		sh->word_calls[w % nwords]++;
		if (r < 0)
			die("FUTEX_WAKE");
		if (r == 1)
			sh->wakes++;
		else
			sleep_us(100);
	}
	_exit(0);
}

static long num_opt(const char *name, const char *v, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || end == v || n < min || n > max) {
		fprintf(stderr, "wakefan: %s: %ld..%ld\n", name, min, max);
		exit(2);
	}
	return n;
}

int main(int argc, char **argv)
{
	long wakees = 3, count = 5, linger_ms = 1000;
	pid_t waker_pid, wakee_pid[MAX_WAKEES];
	const char *out = NULL;
	int status, ok = 1;
	FILE *f;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--wakees"))
			wakees = num_opt("--wakees", argv[i + 1], 1, MAX_WAKEES);
		else if (!strcmp(argv[i], "--count"))
			count = num_opt("--count", argv[i + 1], 1, 1000000);
		else if (!strcmp(argv[i], "--words"))
			nwords = num_opt("--words", argv[i + 1], 1, MAX_WORDS);
		else if (!strcmp(argv[i], "--linger-ms"))
			linger_ms = num_opt("--linger-ms", argv[i + 1], 0, 600000);
		else if (!strcmp(argv[i], "--out"))
			out = argv[i + 1];
		else
			break;
	}
	if (!out || argc % 2 == 0) {
		fprintf(stderr, "usage: wakefan [--wakees N] [--count N] [--words N] [--linger-ms MS] "
				"--out FILE\n");
		return 2;
	}
	prctl(PR_SET_NAME, "fan-main");
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		die("mmap");
	for (long i = 0; i < wakees; i++) {
		wakee_pid[i] = fork();
		if (wakee_pid[i] < 0)
			die("fork");
		if (!wakee_pid[i])
			wakee(i, count, linger_ms);
	}
	waker_pid = fork();
	if (waker_pid < 0)
		die("fork");
	if (!waker_pid)
		waker(wakees, wakees * count);
	if (waitpid(waker_pid, &status, 0) != waker_pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		ok = 0;
	for (long i = 0; i < wakees; i++)
		if (!ok)
			kill(wakee_pid[i], SIGKILL);
	for (long i = 0; i < wakees; i++)
		if (waitpid(wakee_pid[i], &status, 0) != wakee_pid[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			ok = 0;
	if (!ok || sh->failed)
		return 1;
	f = fopen(out, "w");
	if (!f)
		die(out);
	fprintf(f, "{\"clk_tck\":%ld,\"waker\":%d,\"waker_start\":%llu,\"wakes\":%ld,"
		"\"wake_calls\":%ld,\"wakees\":[", sysconf(_SC_CLK_TCK), waker_pid,
		sh->start[wakees], sh->wakes, sh->wake_calls);
	for (long i = 0; i < wakees; i++)
		fprintf(f, "%s{\"pid\":%d,\"woken\":%ld,\"start\":%llu}", i ? "," : "",
			wakee_pid[i], sh->woken[i], sh->start[i]);
	fprintf(f, "],\"words\":[");
	for (long w = 0; w < nwords; w++)
		fprintf(f, "%s{\"addr\":\"%p\",\"wake_calls\":%ld,\"woken\":%ld}", w ? "," : "",
			(void *)&sh->word[w], sh->word_calls[w], sh->word_woken[w]);
	fprintf(f, "]}\n");
	return fclose(f) ? 1 : 0;
}
