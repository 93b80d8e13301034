// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * timeoutload: waits that only their timeout ends, and receives that miss
 * without waiting, so a tracer can tell a timeout from everything else.
 *
 * One process ("timeouts") holds a unix socketpair nobody writes. On its
 * read end it makes, --waits N times each, with a --wait-ms timeout:
 *   poll, ppoll, select, pselect6, epoll_wait, epoll_pwait, epoll_pwait2
 *     (each one returns 0: nothing became ready),
 *   recv on the blocking socket with SO_RCVTIMEO (-EAGAIN after waiting);
 * then, N times each, the same readiness waits interrupted once by a
 * signal, which must not hide their timeout:
 *   by a handler (SIGUSR1, no SA_RESTART): the call fails with EINTR and
 *     is made again for the time left, which times out;
 *   by SIGSTOP then SIGCONT (no handler): the kernel restarts the call
 *     itself (poll through restart_syscall), which times out;
 * each one timeout, one timed-out call as the program sees it;
 * and, N times each, two misses that wait for nothing:
 *   recv with MSG_DONTWAIT on the same blocking socket,
 *   recv on the read end of a second pair set O_NONBLOCK.
 * Each syscall is made directly, so the call the kernel saw is the one
 * named; a call this architecture lacks (poll, select, epoll_wait on
 * arm64) is reported as 0 calls.
 *
 * Usage: timeoutload [--waits N] [--wait-ms MS] [--out FILE]
 * Prints (to --out) the pid, the timed-out waits per call, their total,
 * the misses, and the receive rows as boundtrace writes its "boundaries".
 */
#define WL_PROG		"timeoutload"
#include "workload.h"

#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

enum call { C_POLL, C_PPOLL, C_SELECT, C_PSELECT6, C_EPOLL_WAIT, C_EPOLL_PWAIT,
	    C_EPOLL_PWAIT2, C_RCVTIMEO, C_NR };

static const char *const call_names[C_NR] = {
	"poll", "ppoll", "select", "pselect6", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "rcvtimeo",
};

static struct {
	unsigned long waits, wait_ms;
} cfg = { .waits = 5, .wait_ms = 20 };

/* One wait of ms on fd (ep: an epoll set holding it): its return. */
static long wait_once(enum call c, int fd, int ep, unsigned long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct epoll_event ev;
	fd_set rd;
	char byte;

	FD_ZERO(&rd);
	FD_SET(fd, &rd);
	switch (c) {
#ifdef SYS_poll
	case C_POLL:
		return syscall(SYS_poll, &pfd, 1, (int)ms);
#endif
#ifdef SYS_select
	case C_SELECT: {
		struct timeval tv = { .tv_sec = ts.tv_sec, .tv_usec = ts.tv_nsec / 1000 };

		return syscall(SYS_select, fd + 1, &rd, NULL, NULL, &tv);
	}
#endif
#ifdef SYS_epoll_wait
	case C_EPOLL_WAIT:
		return syscall(SYS_epoll_wait, ep, &ev, 1, (int)ms);
#endif
	case C_PPOLL:
		return syscall(SYS_ppoll, &pfd, 1, &ts, NULL, 0);
	case C_PSELECT6:
		return syscall(SYS_pselect6, fd + 1, &rd, NULL, NULL, &ts, NULL);
	case C_EPOLL_PWAIT:
		return syscall(SYS_epoll_pwait, ep, &ev, 1, (int)ms, NULL, 0);
#ifdef SYS_epoll_pwait2
	case C_EPOLL_PWAIT2:
		return syscall(SYS_epoll_pwait2, ep, &ev, 1, &ts, NULL, 0);
#endif
	case C_RCVTIMEO:
		return syscall(SYS_recvfrom, fd, &byte, 1, 0, NULL, NULL);
	default:
		errno = ENOSYS;
		return -1;
	}
}

static void on_usr1(int sig)
{
	(void)sig;
}

/* A one-shot timer sending sig to this process after us microseconds. */
static timer_t signal_timer(int sig)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = sig };
	timer_t t;

	if (timer_create(CLOCK_MONOTONIC, &sev, &t))
		fail("timer_create:");
	return t;
}

static void arm(timer_t t, unsigned long us)
{
	struct itimerspec it = { .it_value = { .tv_sec = us / 1000000,
					       .tv_nsec = (long)(us % 1000000) * 1000 } };

	if (timer_settime(t, 0, &it, NULL))
		fail("timer_settime:");
}

/*
 * One readiness wait of cfg.wait_ms that a signal interrupts a quarter of
 * the way: stop then continue (the kernel restarts the call), or a
 * handler (EINTR: made again for the time left, at least 1 ms). Returns
 * the last call's return; *eintr counts the EINTRs seen.
 */
static long wait_interrupted(enum call c, int fd, int ep, bool stop, timer_t t1, timer_t t2,
			     unsigned long *eintr)
{
	unsigned long quarter = cfg.wait_ms * 250, left = cfg.wait_ms, start = now_ns() / 1000;
	long ret;

	arm(t1, quarter);
	if (stop)
		arm(t2, quarter + 1000);
	for (;;) {
		ret = wait_once(c, fd, ep, left);
		if (ret != -1 || errno != EINTR)
			break;
		++*eintr;
		left = (now_ns() / 1000 - start) / 1000;
		left = left + 1 < cfg.wait_ms ? cfg.wait_ms - left : 1;
	}
	/* Wait out a timer the call outran (a loaded machine), so none hits the next. */
	while (now_ns() / 1000 - start < quarter + 2000)
		sleep_ms(1);
	return ret;
}

/* A receive that must fail with EAGAIN at once, counted in r. */
static void miss(int fd, int flags, struct row *r)
{
	char byte;
	long ret = syscall(SYS_recvfrom, fd, &byte, 1, flags, NULL, NULL);

	if (ret != -1 || (errno != EAGAIN && errno != EWOULDBLOCK))
		fail("a receive nobody sent to returned %ld:", ret);
	account(r, -errno);
}

static void sock_row_chan(int fd, int peer, char *chan)
{
	unix_channel(chan, fd_ino(fd), fd_ino(peer));
}

static const char usage_text[] =
"usage: timeoutload [options]\n"
"Waits that time out (poll, ppoll, select, pselect6, epoll_wait, epoll_pwait,\n"
"epoll_pwait2, a recv with SO_RCVTIMEO), the readiness waits interrupted by a\n"
"signal (a handler: EINTR; a stop: the kernel restarts them) and timing out,\n"
"and receives that miss without waiting.\n"
"\n"
"  --waits N           timed-out waits of each call, interrupted ones of each\n"
"                      readiness call and signal, misses of each kind [5]\n"
"  --wait-ms MS        each wait's timeout, 1..10000 [20]\n"
"  --delay-ms MS       print \"ready PID\" on stderr and sleep first [0]\n"
"  --hold-ms MS        sleep after the waits [0]\n"
"  --timeout S         fail if it takes longer, 0 = never [300]\n"
"  --out FILE          write the report to FILE instead of stdout\n"
"  -h, --help          this text\n";

enum { OPT_WAITS = 1, OPT_WAIT_MS };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "waits",	required_argument, NULL, OPT_WAITS },
		{ "wait-ms",	required_argument, NULL, OPT_WAIT_MS },
		COMMON_LONG_OPTS,
	};
	struct timeval rcvtimeo;
	struct epoll_event ev = { .events = EPOLLIN };
	unsigned long done[C_NR] = { 0 }, total = 0, handled[C_NR] = { 0 }, stopped[C_NR] = { 0 };
	unsigned long eintr = 0;
	struct sigaction usr1 = { .sa_handler = on_usr1 };
	timer_t t_usr1, t_stop, t_cont;
	static struct proc self;
	char chan[CHAN_LEN];
	struct row *blocking, *nonblocking;
	int c, sv[2], nb[2], ep;
	struct sbuf b;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_WAITS:	cfg.waits = num(optarg, "waits", 1, 100000); break;
		case OPT_WAIT_MS:	cfg.wait_ms = num(optarg, "wait-ms", 1, 10000); break;
		default:	common_opt(c, usage_text);
		}
	}
	if (optind != argc)
		usage_error("no arguments expected");
	me = &self;
	self.pid = getpid();
	wl.initial = self.pid;
	signals_init();
	set_name("timeouts");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, nb))
		fail("socketpair:");
	rcvtimeo.tv_sec = cfg.wait_ms / 1000;
	rcvtimeo.tv_usec = (cfg.wait_ms % 1000) * 1000;
	if (setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &rcvtimeo, sizeof(rcvtimeo)))
		fail("setsockopt(SO_RCVTIMEO):");
	ep = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = sv[0];
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev))
		fail("epoll:");
	sock_row_chan(sv[0], sv[1], chan);
	blocking = row_new(K_USTREAM, D_RECV, chan);
	sock_row_chan(nb[0], nb[1], chan);
	nonblocking = row_new(K_USTREAM, D_RECV, chan);
	if (wl.delay_ms)
		fprintf(stderr, "ready %d\n", (int)self.pid);
	start_traffic();
	for (int k = 0; k < C_NR; k++) {
		for (unsigned long i = 0; i < cfg.waits; i++) {
			long ret = wait_once(k, sv[0], ep, cfg.wait_ms);

			if (ret < 0 && errno == ENOSYS && k != C_RCVTIMEO)
				break;	/* not on this architecture or kernel */
			if (k == C_RCVTIMEO) {
				if (ret != -1 || (errno != EAGAIN && errno != EWOULDBLOCK))
					fail("recv with SO_RCVTIMEO returned %ld:", ret);
				account(blocking, -errno);
			} else if (ret) {
				fail("%s returned %ld, not its timeout:", call_names[k], ret);
			}
			done[k]++;
			total++;
		}
	}
	if (sigaction(SIGUSR1, &usr1, NULL))
		fail("sigaction:");
	t_usr1 = signal_timer(SIGUSR1);
	t_stop = signal_timer(SIGSTOP);
	t_cont = signal_timer(SIGCONT);
	for (int k = 0; k < C_RCVTIMEO; k++) {
		for (unsigned long i = 0; i < 2 * cfg.waits; i++) {
			bool stop = i % 2;
			long ret = wait_interrupted(k, sv[0], ep, stop, stop ? t_stop : t_usr1, t_cont,
						    &eintr);

			if (ret < 0 && errno == ENOSYS)
				break;
			if (ret)
				fail("interrupted %s returned %ld, not its timeout:", call_names[k], ret);
			++*(stop ? &stopped[k] : &handled[k]);
			total++;
		}
	}
	for (unsigned long i = 0; i < cfg.waits; i++) {
		miss(sv[0], MSG_DONTWAIT, blocking);
		miss(nb[0], 0, nonblocking);
	}
	alarm(0);
	sleep_ms(wl.hold_ms);
	sb_init(&b);
	sb_printf(&b, "{\"wait_ms\":%lu,\"timeouts\":{", cfg.wait_ms);
	for (int k = 0; k < C_NR; k++)
		sb_printf(&b, "%s\"%s\":%lu", k ? "," : "", call_names[k], done[k]);
	sb_printf(&b, "},\"interrupted\":{\"handler\":{");
	for (int k = 0; k < C_RCVTIMEO; k++)
		sb_printf(&b, "%s\"%s\":%lu", k ? "," : "", call_names[k], handled[k]);
	sb_printf(&b, "},\"stop\":{");
	for (int k = 0; k < C_RCVTIMEO; k++)
		sb_printf(&b, "%s\"%s\":%lu", k ? "," : "", call_names[k], stopped[k]);
	sb_printf(&b, "},\"eintr\":%lu", eintr);
	sb_printf(&b, "},\"total_timeouts\":%lu,\"misses\":{\"dontwait\":%lu,\"nonblocking\":%lu},\n"
		  "\"processes\":[\n", total, cfg.waits, cfg.waits);
	sb_proc(&b, &self, "timeouts", "waiter");
	sb_boundaries(&b, &self, "", false, true);
	sb_printf(&b, "]}\n");
	sb_flush(&b);
	return 0;
}
