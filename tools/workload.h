/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * workload.h - what the workload generators in tools/ have in common.
 *
 * Header only: the Makefile builds every tools/X.c alone, so everything
 * here is static inline (or marked unused), and what a tool does not call
 * costs it nothing. Before including it a tool defines WL_PROG, its name
 * for messages, and may define MAX_ROWS (report rows per process, 8) and
 * MAX_KIDS (children of the initial process, 2).
 *
 * The model the tools share:
 *   - One initial process, the one that reports, forks the others
 *     (fork_kid, spawn). A failure anywhere ends the run with exit status
 *     1: fail() prints one line and a child tells the initial process with
 *     SIGUSR2, which kills the others (abort_all). SIGALRM is the --timeout
 *     watchdog.
 *   - Set-up handshakes go through flags in a MAP_SHARED mapping, polled
 *     with nanosleep() (wait_flag), never through a measured channel or a
 *     futex.
 *   - Every syscall on a measured channel is counted where it returns, in
 *     a row per channel and direction (struct row), which the report
 *     writes as boundtrace writes its "boundaries".
 *   - --delay-ms, --hold-ms, --timeout, --out and --help are the same
 *     options everywhere (struct wl, common_opt).
 *   - The delay is a start gate (wl_delay): with WL_GO_FILE in the
 *     environment it ends as soon as that file exists.
 */
#ifndef WORKLOAD_H
#define WORKLOAD_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef WL_PROG
#error "define WL_PROG (the tool's name) before including workload.h"
#endif
#ifndef MAX_ROWS
#define MAX_ROWS	8
#endif
#ifndef MAX_KIDS
#define MAX_KIDS	2
#endif

#define WL_UNUSED	__attribute__((unused))
#define CHAN_LEN	128
#define POLL_NS		1000000L	/* idle handshake poll interval */

/* ---- common options and process bookkeeping ---------------------------- */

static struct {
	unsigned long delay_ms, hold_ms, timeout_s;	/* --delay-ms, --hold-ms, --timeout */
	const char *out;				/* --out, NULL: stdout */
	pid_t initial;			/* the initial process */
	pid_t kids[MAX_KIDS];		/* its children: none in a child */
	int nkids;
	int *failed;			/* shared: someone called fail(); NULL: none */
	void (*cleanup)(void);		/* the initial process, before it exits 1 */
} wl WL_UNUSED = { .timeout_s = 300 };

/* ---- failing ------------------------------------------------------------ */

static inline void say(const char *msg)
{
	if (write(STDERR_FILENO, msg, strlen(msg)) < 0) {
		/* nothing left to tell anyone */
	}
}

/* The initial process kills its children and exits 1; a child tells it. */
static inline void __attribute__((noreturn)) abort_all(void)
{
	int i;

	if (wl.failed)
		__atomic_store_n(wl.failed, 1, __ATOMIC_RELEASE);
	if (getpid() != wl.initial) {
		kill(wl.initial, SIGUSR2);
		_exit(1);
	}
	for (i = 0; i < wl.nkids; i++)
		if (wl.kids[i] > 0)
			kill(wl.kids[i], SIGKILL);
	if (wl.cleanup)
		wl.cleanup();
	_exit(1);
}

/* Print a message (": strerror" appended when fmt ends with ':') and abort. */
static inline void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	int err = errno;
	size_t len = strlen(fmt);
	char msg[512];
	int n;
	va_list ap;

	/* One write, no stdio lock: some processes have threads. */
	n = snprintf(msg, sizeof(msg), WL_PROG "[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	if (n < (int)sizeof(msg) && len && fmt[len - 1] == ':')
		n += snprintf(msg + n, sizeof(msg) - n, " %s", strerror(err));
	if (n > (int)sizeof(msg) - 2)
		n = sizeof(msg) - 2;
	msg[n++] = '\n';
	msg[n] = 0;
	say(msg);
	abort_all();
}

/* SIGALRM: our own watchdog; SIGUSR2: a child failed (initial process only). */
static inline void on_abort(int sig)
{
	if (sig == SIGALRM)
		say(WL_PROG ": timed out (see --timeout)\n");
	else
		say(WL_PROG ": a child process failed, stopping\n");
	abort_all();
}

static inline void signals_init(void)
{
	struct sigaction sa = { .sa_handler = on_abort };

	/*
	 * No SA_RESTART, but neither handler returns, and no handled signal
	 * is sent in a run that works: a measured call is never interrupted.
	 */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) || sigaction(SIGUSR2, &sa, NULL))
		fail("sigaction:");
	/* A dead peer must show up as EPIPE and a message, not a silent kill. */
	signal(SIGPIPE, SIG_IGN);
}

static inline void arm_watchdog(void)
{
	alarm(wl.timeout_s > UINT_MAX ? UINT_MAX : (unsigned)wl.timeout_s);
}

/* The monotonic clock in nanoseconds. */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Sleep ms, resumed after a signal; a negative ms is one failing call. */
static inline void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static inline void set_name(const char *name)
{
	if (prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0))
		fail("prctl(PR_SET_NAME):");
}

/* A message buffer of 'x's, page aligned: a small vmsplice()d one sits in one page. */
static inline char *alloc_buf(size_t len)
{
	size_t n = (len + 4095) & ~(size_t)4095;
	char *p = aligned_alloc(4096, n ? n : 4096);

	if (!p)
		fail("out of memory");
	memset(p, 'x', n);
	return p;
}

static inline void *map_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fail("mmap:");
	return p;
}

/*
 * Inherited descriptors (a harness's pipes, say) would be held by every
 * process and blur who holds which channel: keep only 0, 1 and 2.
 */
static inline void close_inherited(void)
{
	long max;
	int fd;

#ifdef SYS_close_range
	if (!syscall(SYS_close_range, 3U, ~0U, 0U))
		return;
#endif
	max = sysconf(_SC_OPEN_MAX);
	for (fd = 3; fd < (max > 0 && max < INT_MAX ? max : 65536); fd++)
		close(fd);
}

/* ---- handshakes through shared memory ----------------------------------- */

static inline void set_flag(int *flag)
{
	__atomic_store_n(flag, 1, __ATOMIC_RELEASE);
}

static inline void check_failed(void)
{
	if (wl.failed && __atomic_load_n(wl.failed, __ATOMIC_ACQUIRE))
		abort_all();
}

/*
 * The initial process: a child that died never sets the flag waited for.
 * Only peek (WNOWAIT): one that exited 0 is reaped and checked at the end.
 */
static inline void check_children(void)
{
	siginfo_t si;
	int i;

	for (i = 0; i < wl.nkids; i++) {
		if (wl.kids[i] <= 0)
			continue;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, wl.kids[i], &si, WEXITED | WNOHANG | WNOWAIT) ||
		    si.si_pid != wl.kids[i])
			continue;
		if (si.si_code != CLD_EXITED || si.si_status)
			fail("child %d died (%s %d)", (int)wl.kids[i],
			     si.si_code == CLD_EXITED ? "exit status" : "signal", si.si_status);
	}
}

/* Idle: poll a flag with nanosleep(): no fd, no futex, nothing traced. */
/* Until *count is at least want (a flag: 1). */
static inline void wait_count(int *count, int want)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = POLL_NS };

	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < want) {
		check_failed();
		check_children();	/* none but in the initial process */
		nanosleep(&ts, NULL);
	}
}

static inline void wait_flag(int *flag)
{
	wait_count(flag, 1);
}

/* ---- processes and threads ---------------------------------------------- */

/* fork() a child of the initial process: 0 in the child, which has none. */
static inline pid_t fork_kid(void)
{
	pid_t pid;

	if (wl.nkids == MAX_KIDS)
		fail("too many child processes");
	pid = fork();
	if (pid < 0)
		fail("fork:");
	if (pid == 0)
		wl.nkids = 0;	/* a child kills nobody */
	else
		wl.kids[wl.nkids++] = pid;
	return pid;
}

static inline pid_t spawn(void (*child)(void))
{
	pid_t pid = fork_kid();

	if (pid == 0) {
		child();
		_exit(0);
	}
	return pid;
}

/* A child outlives a killed initial process by no more than this. */
static inline void die_with_parent(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		fail("prctl(PR_SET_PDEATHSIG):");
	if (getppid() != wl.initial)
		_exit(1);
}

/*
 * --delay-ms: the time a tracer has to attach before the traffic. With
 * WL_GO_FILE set (the integration tests create that file once boundtrace
 * says it is tracing), the delay ends as soon as the file exists and
 * --delay-ms is only the longest wait: a loaded machine that takes longer
 * to load and attach the tracer does not cost the first crossings. Every
 * process of a workload waits at the same gate.
 */
static inline void wl_delay(void)
{
	const char *go = getenv("WL_GO_FILE");
	unsigned long waited;

	if (!go || !*go) {
		sleep_ms(wl.delay_ms);
		return;
	}
	for (waited = 0; waited < wl.delay_ms && access(go, F_OK); waited += 5)
		sleep_ms(5);
}

/* Everything is set up: wait at the start gate, then watch the traffic. */
static inline void start_traffic(void)
{
	alarm(0);
	wl_delay();
	arm_watchdog();
}

/* A child's end: its rows are final (done, if any, says so), hold, leave. */
static inline void __attribute__((noreturn)) child_done(int *done)
{
	alarm(0);
	if (done)
		set_flag(done);
	sleep_ms(wl.hold_ms);
	_exit(0);
}

/* The initial process: wait for child i, which must have exited 0. */
static inline void reap(int i)
{
	pid_t pid = wl.kids[i];
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			fail("waitpid %d:", (int)pid);
	wl.kids[i] = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail("child %d failed (status 0x%x)", (int)pid, st);
}

/* The initial process's end of the traffic: hold, then reap every child. */
static inline void initial_done(void)
{
	int i;

	alarm(0);
	sleep_ms(wl.hold_ms);
	for (i = 0; i < wl.nkids; i++)
		reap(i);
}

/* Start fn in a thread and wait until it says (*named) it has its name. */
static inline pthread_t start_thread(void *(*fn)(void *), int *named)
{
	pthread_t tid;
	int err;

	err = pthread_create(&tid, NULL, fn, NULL);
	if (err) {
		errno = err;
		fail("pthread_create:");
	}
	wait_flag(named);
	return tid;
}

/*
 * A thread leaves with a bare exit(2): glibc's thread exit and
 * pthread_join() may make futex calls of their own. Every thread is gone
 * before its process exits: a tracer takes the process name at exit from
 * the thread that exits last, and that must be the main thread.
 */
static inline void __attribute__((noreturn)) thread_exit(int *done)
{
	set_flag(done);
	for (;;)
		syscall(SYS_exit, 0);
}

/* Wait (without a futex) until the thread tid no longer exists. */
static inline void wait_thread_gone(int *done, pid_t tid)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = POLL_NS / 10 };

	wait_flag(done);
	while (!syscall(SYS_tgkill, getpid(), tid, 0))
		nanosleep(&ts, NULL);
	if (errno != ESRCH)
		fail("tgkill:");
}

/* ---- report rows ---------------------------------------------------------- */

enum kind { K_PIPE, K_USTREAM, K_UDGRAM, K_TCP, K_UDP, K_FUTEX, K_NR };

/* Boundary kinds as boundtrace spells them. */
static const char *const kind_names[K_NR] WL_UNUSED = {
	"pipe", "unix_stream", "unix_dgram", "tcp", "udp", "futex",
};

enum dir { D_SEND, D_RECV, D_WAIT, D_WAKE, D_NR };

static const char *const dir_names[D_NR] WL_UNUSED = { "send", "recv", "wait", "wake" };

/* One channel and direction of one process (in shared memory). */
struct row {
	int kind, dir;
	char chan[CHAN_LEN];
	bool path;		/* unix: the report names the socket path */
	/* futex: woken, threads woken; wakes, wake calls that woke any */
	uint64_t calls, bytes, errors, woken, wakes;
};

struct proc {
	pid_t pid;
	int role;
	int nrows;
	struct row rows[MAX_ROWS];
};

static struct proc *me WL_UNUSED;	/* this process's slot */

static inline struct row *row_new(int kind, int dir, const char *chan)
{
	struct row *r;

	if (me->nrows == MAX_ROWS)
		fail("too many report rows");
	r = &me->rows[me->nrows++];
	r->kind = kind;
	r->dir = dir;
	snprintf(r->chan, sizeof(r->chan), "%s", chan);
	return r;
}

static inline const struct row *row_find(const struct proc *p, int kind, int dir)
{
	int i;

	for (i = 0; i < p->nrows; i++)
		if (p->rows[i].kind == kind && p->rows[i].dir == dir)
			return &p->rows[i];
	return NULL;
}

/* This process's row for chan and dir, made on first use. */
static inline struct row *row_get(int kind, const char *chan, int dir)
{
	struct row *r;
	int i;

	for (i = 0; i < me->nrows; i++) {
		r = &me->rows[i];
		if (r->kind == kind && r->dir == dir && !strcmp(r->chan, chan))
			return r;
	}
	return row_new(kind, dir, chan);
}

/* Count one returned syscall: an error, or that many bytes. */
static inline void account(struct row *r, long ret)
{
	r->calls++;
	if (ret < 0)
		r->errors++;
	else
		r->bytes += ret;
}

/*
 * Check a row against what the traffic must have moved, so a counting
 * slip fails the run instead of silently becoming ground truth: calls at
 * least calls_min (none if 0; exactly, in practice), bytes exact, no errors.
 */
static inline void expect_row(const struct proc *p, const char *who, int kind, int dir,
			      uint64_t calls_min, uint64_t bytes)
{
	const struct row *r = row_find(p, kind, dir);
	uint64_t calls = r ? r->calls : 0, got = r ? r->bytes : 0, errs = r ? r->errors : 0;

	if (calls < calls_min || got != bytes || errs || (!calls_min && calls))
		fail("self-check: %s %s %s: calls %" PRIu64 " bytes %" PRIu64 " errors %" PRIu64
		     ", expected >= %" PRIu64 " calls, %" PRIu64 " bytes, no errors",
		     who, kind_names[kind], dir_names[dir], calls, got, errs, calls_min, bytes);
}

/* ---- measured calls on byte streams ----------------------------------------- */

/* Write all of len bytes with write(), each call counted. */
static inline void write_all(int fd, struct row *r, const char *buf, size_t len,
			     const char *what)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, buf + done, len - done);
		account(r, n);
		if (n < 0)
			fail("write %s:", what);
		if (n == 0)
			fail("write %s wrote nothing", what);
		done += n;
	}
}

/* Read exactly len bytes with read(), each call counted; EOF fails. */
static inline void read_all(int fd, struct row *r, char *buf, size_t len, const char *what)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, buf + done, len - done);
		account(r, n);
		if (n < 0)
			fail("read %s:", what);
		if (n == 0)
			fail("read %s: unexpected EOF after %zu of %zu bytes", what, done, len);
		done += n;
	}
}

/* After the last message: one read of up to len bytes, counted, that must see EOF. */
static inline void read_eof(int fd, struct row *r, char *buf, size_t len, const char *what)
{
	ssize_t n = read(fd, buf, len);

	account(r, n);
	if (n < 0)
		fail("read %s:", what);
	if (n > 0)
		fail("read %s: %zd bytes more than expected", what, n);
}

/* ---- futexes ---------------------------------------------------------------- */

struct fword {
	_Alignas(64) uint32_t word;	/* a cache line each */
};

/* Per thread, summed into the rows once the thread is done. */
struct fstats {
	uint64_t wait_calls, wait_errors, wake_calls, wake_errors, woken, wakes;
	uint64_t slept;		/* waits that slept and were woken */
};

/* One FUTEX_WAIT while *word is val, counted; a changed word is EAGAIN. */
static inline void futex_wait(uint32_t *word, uint32_t val, struct fstats *s)
{
	long r = syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);

	s->wait_calls++;
	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fail("futex wait:");
		s->wait_errors++;
	} else {
		s->slept++;
	}
}

/* One FUTEX_WAKE of at most one waiter, counted. */
static inline void futex_wake(uint32_t *word, struct fstats *s)
{
	long r = syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);

	s->wake_calls++;
	if (r < 0) {
		s->wake_errors++;
		fail("futex wake:");
	}
	s->woken += r;
	if (r > 0)
		s->wakes++;
}

/*
 * Wait until *word is want. The expected value is the one just seen, so a
 * change in between makes FUTEX_WAIT fail with EAGAIN instead of sleeping
 * through the wake: no lost wakeups.
 */
static inline void fwait_for(uint32_t *word, uint32_t want, struct fstats *s)
{
	uint32_t cur;

	while ((cur = __atomic_load_n(word, __ATOMIC_ACQUIRE)) != want)
		futex_wait(word, cur, s);
}

static inline void fset_wake(uint32_t *word, uint32_t val, struct fstats *s)
{
	__atomic_store_n(word, val, __ATOMIC_RELEASE);
	futex_wake(word, s);
}

static inline void futex_channel(char *buf, const uint32_t *word)
{
	snprintf(buf, CHAN_LEN, "futex:0x%lx", (unsigned long)(uintptr_t)word);
}

/* This process's wait and wake rows of word: what threads a and b did on it. */
static inline void futex_rows(const uint32_t *word, const struct fstats *a,
			      const struct fstats *b)
{
	char chan[CHAN_LEN];
	struct row *r;

	futex_channel(chan, word);
	r = row_new(K_FUTEX, D_WAIT, chan);
	r->calls = a->wait_calls + b->wait_calls;
	r->errors = a->wait_errors + b->wait_errors;
	r = row_new(K_FUTEX, D_WAKE, chan);
	r->calls = a->wake_calls + b->wake_calls;
	r->errors = a->wake_errors + b->wake_errors;
	r->woken = a->woken + b->woken;
	r->wakes = a->wakes + b->wakes;
}

/* ---- channels: descriptors and names ------------------------------------------ */

static inline unsigned long fd_ino(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		fail("fstat:");
	return st.st_ino;
}

static inline void close_fd(int *fd)
{
	if (*fd >= 0 && close(*fd))
		fail("close:");
	*fd = -1;
}

/* "pipe:[INODE]" */
static inline void pipe_channel(char *buf, int fd)
{
	snprintf(buf, CHAN_LEN, "pipe:[%lu]", fd_ino(fd));
}

/* "unix:[INODE->PEER_INODE]", seen from the end with inode ino */
static inline void unix_channel(char *buf, unsigned long ino, unsigned long peer)
{
	snprintf(buf, CHAN_LEN, "unix:[%lu->%lu]", ino, peer);
}

static inline void fmt_sockaddr(char *buf, size_t n, const struct sockaddr_storage *ss)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, n, "[%s]:%u", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, n, "%s:%u", a, ntohs(s4->sin_port));
	}
}

/* "KIND:LADDR:LPORT->RADDR:RPORT" */
static inline void inet_channel(char *buf, const char *kind, const struct sockaddr_storage *l,
				const struct sockaddr_storage *r)
{
	char ls[56], rs[56];	/* "[" INET6_ADDRSTRLEN "]:65535" */

	fmt_sockaddr(ls, sizeof(ls), l);
	fmt_sockaddr(rs, sizeof(rs), r);
	snprintf(buf, CHAN_LEN, "%s:%s->%s", kind, ls, rs);
}

/* This end's address and its peer's, size bytes of room each. */
static inline void sock_ends(int fd, struct sockaddr_storage *l, struct sockaddr_storage *r,
			     socklen_t size)
{
	socklen_t ll = size, rl = size;

	if (getsockname(fd, (struct sockaddr *)l, &ll))
		fail("getsockname:");
	if (getpeername(fd, (struct sockaddr *)r, &rl))
		fail("getpeername:");
}

/* "tcp:LADDR:LPORT->RADDR:RPORT" of a connected IPv4 socket, seen from this end. */
static inline void tcp_channel(int fd, char *buf)
{
	struct sockaddr_storage l, r;

	sock_ends(fd, &l, &r, sizeof(struct sockaddr_in));
	inet_channel(buf, "tcp", &l, &r);
}

/* ---- channels: sockets ----------------------------------------------------------- */

static inline void setopt_one(int fd, int level, int opt, const char *what)
{
	int one = 1;

	if (setsockopt(fd, level, opt, &one, sizeof(one)))
		fail("setsockopt(%s):", what);
}

/* Small ping-pong messages must not wait for delayed ACKs. */
static inline void nodelay(int fd)
{
	setopt_one(fd, IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY");
}

/* The loopback address with port, ::1 or 127.0.0.1; returns its length. */
static inline socklen_t loopback(struct sockaddr_storage *ss, unsigned port, bool ipv6)
{
	memset(ss, 0, sizeof(*ss));
	if (ipv6) {
		struct sockaddr_in6 *s6 = (void *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = in6addr_loopback;
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (void *)ss;

	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*s4);
}

/*
 * Listen on 127.0.0.1:0, publish the port (*port, then *ready), take one
 * connection, drop the listener. flags: SOCK_CLOEXEC (the socket and the
 * connection, with accept4) or 0 (plain accept).
 */
static inline int tcp_accept_one(int flags, unsigned short *port, int *ready)
{
	struct sockaddr_storage addr;
	socklen_t len = loopback(&addr, 0, false);
	int l, fd;

	l = socket(AF_INET, SOCK_STREAM | flags, 0);
	if (l < 0)
		fail("socket:");
	if (bind(l, (struct sockaddr *)&addr, len))
		fail("bind 127.0.0.1:0:");
	if (listen(l, 1))
		fail("listen:");
	if (getsockname(l, (struct sockaddr *)&addr, &len))
		fail("getsockname:");
	*port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
	set_flag(ready);
	fd = flags ? accept4(l, NULL, NULL, flags) : accept(l, NULL, NULL);
	if (fd < 0)
		fail("accept:");
	close_fd(&l);
	nodelay(fd);
	return fd;
}

/* Connect to 127.0.0.1:port (socket type flags as for tcp_accept_one). */
static inline int tcp_connect(int flags, unsigned short port)
{
	struct sockaddr_storage addr;
	socklen_t len = loopback(&addr, port, false);
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | flags, 0);
	if (fd < 0)
		fail("socket:");
	if (connect(fd, (struct sockaddr *)&addr, len))
		fail("connect 127.0.0.1:%u:", port);
	nodelay(fd);
	return fd;
}

/* PATH, or @NAME for an abstract name; returns the address length. */
static inline socklen_t unix_addr(struct sockaddr_un *sun, const char *path)
{
	size_t len = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (path[0] == '@') {
		/* Abstract: a leading NUL, then the name, no terminator. */
		memcpy(sun->sun_path + 1, path + 1, len - 1);
		return offsetof(struct sockaddr_un, sun_path) + len;
	}
	memcpy(sun->sun_path, path, len);
	return offsetof(struct sockaddr_un, sun_path) + len + 1;
}

/* A unix socket of type (flags included) bound to path, sun of len. */
static inline int unix_bound(int type, const char *path, const struct sockaddr_un *sun,
			     socklen_t len)
{
	struct stat st;
	int fd;

	/* Only a leftover socket is ours to remove; anything else stays. */
	if (path[0] != '@' && !stat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, type, 0);
	if (fd < 0)
		fail("socket:");
	if (bind(fd, (const struct sockaddr *)sun, len))
		fail("bind %s:", path);
	return fd;
}

/* ---- the JSON report ------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
};

static inline void sb_init(struct sbuf *b)
{
	b->len = 0;
	b->cap = 4096;
	b->p = malloc(b->cap);
	if (!b->p)
		fail("out of memory");
}

static inline void __attribute__((format(printf, 2, 3)))
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			fail("vsnprintf failed");
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = 2 * b->cap + n;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			fail("out of memory");
	}
	b->len += n;
}

/* A JSON string (quotes included). */
static inline void sb_str(struct sbuf *b, const char *s)
{
	sb_printf(b, "\"");
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20)
			sb_printf(b, "\\u%04x", c);
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

/* A process object up to its boundaries: "  {"pid":..,"comm":..,"role":..,". */
static inline void sb_proc(struct sbuf *b, const struct proc *p, const char *comm,
			   const char *role)
{
	sb_printf(b, "  {\"pid\":%d,\"comm\":\"%s\",\"role\":\"%s\",", (int)p->pid, comm, role);
}

/*
 * The rest of a process object: its "boundaries", like boundtrace's (no
 * row for a channel direction never used). path: what a row with ->path
 * names; wait_woken: futex wait rows have "woken" too, not only wakes.
 */
static inline void sb_boundaries(struct sbuf *b, const struct proc *p, const char *path,
				 bool wait_woken, bool last)
{
	const char *sep = "";
	int i;

	sb_printf(b, "\"boundaries\":[");
	for (i = 0; i < p->nrows; i++) {
		const struct row *r = &p->rows[i];

		if (!r->calls)
			continue;
		sb_printf(b, "%s\n    {\"kind\":\"%s\",\"channel\":\"%s\",\"direction\":\"%s\","
			  "\"calls\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64,
			  sep, kind_names[r->kind], r->chan, dir_names[r->dir],
			  r->calls, r->bytes, r->errors);
		if (r->path) {
			sb_printf(b, ",\"path\":");
			sb_str(b, path);
		}
		if (r->kind == K_FUTEX && (r->dir == D_WAKE || wait_woken))
			sb_printf(b, ",\"woken\":%" PRIu64, r->woken);
		sb_printf(b, "}");
		sep = ",";
	}
	sb_printf(b, "]}%s\n", last ? "" : ",");
}

/* Write the report to --out, or stdout, and free it. */
static inline void sb_flush(struct sbuf *b)
{
	int fd = STDOUT_FILENO;
	size_t done;
	ssize_t n;

	if (wl.out) {
		fd = open(wl.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			fail("open %s:", wl.out);
	}
	for (done = 0; done < b->len; done += n) {
		n = write(fd, b->p + done, b->len - done);
		if (n <= 0)
			fail("write report:");
	}
	if (wl.out && close(fd))
		fail("close %s:", wl.out);
	free(b->p);
}

/* ---- command line ------------------------------------------------------------------ */

static inline void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(WL_PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\ntry '" WL_PROG " --help'\n", stderr);
	exit(2);
}

/* Strict: a whole decimal number in lo..hi, or a usage error. */
static inline unsigned long long num(const char *s, const char *opt,
				     unsigned long long lo, unsigned long long hi)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		usage_error("--%s: want an integer in %llu..%llu, got '%s'", opt, lo, hi, s);
	return v;
}

/* The index of s in names[n], -1 if none. */
static inline int name_index(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

/* getopt_long values of the common options, above any tool's own. */
enum { OPT_DELAY = 1024, OPT_HOLD, OPT_TIMEOUT, OPT_OUT };

/* The end of every tool's long options: the common ones, --help, the terminator. */
#define COMMON_LONG_OPTS							\
	{ "delay-ms",	required_argument, NULL, OPT_DELAY },			\
	{ "hold-ms",	required_argument, NULL, OPT_HOLD },			\
	{ "timeout",	required_argument, NULL, OPT_TIMEOUT },			\
	{ "out",	required_argument, NULL, OPT_OUT },			\
	{ "help",	no_argument,	   NULL, 'h' },				\
	{ NULL, 0, NULL, 0 }

/* An option getopt_long returned that is not the tool's own. */
static inline void common_opt(int c, const char *usage_text)
{
	switch (c) {
	case OPT_DELAY:	wl.delay_ms = num(optarg, "delay-ms", 0, 86400000); break;
	case OPT_HOLD:	wl.hold_ms = num(optarg, "hold-ms", 0, 86400000); break;
	case OPT_TIMEOUT:	wl.timeout_s = num(optarg, "timeout", 0, 86400); break;
	case OPT_OUT:	wl.out = optarg; break;
	case 'h':
		fputs(usage_text, stdout);
		exit(0);
	default:
		usage_error("bad option");
	}
}

#endif /* WORKLOAD_H */
