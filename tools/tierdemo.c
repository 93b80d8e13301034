// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tierdemo - a "hidden synchronous chain" for boundtrace to find.
 *
 * Three tiers answer requests; run it under `boundtrace --chains` and the
 * frontend's waiting turns out to be the backend's work:
 *
 *   frontend ⇢ unix:PATH ⇢ middle ⇢ tcp:127.0.0.1 ⇢ backend
 *
 * It is also the ground truth of the integration tests: it counts every
 * syscall it makes on its channels and reports them, with the chain it
 * built on purpose, as JSON.
 *
 * Processes (chain, cache, async):
 *   "frontend"  the initial process; forks middle, then backend
 *   "middle"    listens on the unix stream socket PATH (--sock), accepts
 *               the frontend; connects once to the backend over TCP
 *               (async: plus a thread "middle-async" making the calls)
 *   "backend"   listens on 127.0.0.1:0, accepts the middle, closes the
 *               listener
 * Every process creates its own sockets after the forks, so each holds
 * exactly its channel ends (plus 0-2; inherited descriptors are closed
 * first thing): frontend 1 unix, middle 1 unix + 1 tcp, backend 1 tcp.
 *
 * One request (--requests of them, no think time in between):
 *   frontend  write 64 bytes -> unix; read the 64-byte reply
 *   middle    read the request, then per --mode:
 *     chain   --calls sequential round trips to the backend (write 32
 *             bytes, read 32), then the reply: the backend's work is inside
 *             the frontend's wait
 *     cache   the reply at once; the backend is never called
 *     async   the reply at once, then the calls are made by a second
 *             thread of the middle while the main thread already serves
 *             the next request: the backend's work is outside the wait
 *   backend   per call --work-us of CPU (a clock_gettime spin, not a
 *             sleep), then the 32-byte reply
 * Afterwards the frontend closes its socket (the middle reads EOF: one
 * more unix receive, 0 bytes), the middle closes its connection (the
 * backend reads EOF: one more tcp receive, 0 bytes).
 *
 * In chain mode the middle makes its first backend call of a request only
 * once the frontend is asleep in its read (/proc/PID/stat says 'S'), so
 * every call nests inside the frontend's wait even on one CPU.
 *
 * futex-chain:
 *   "lockholder"  the initial process: an idle main thread, plus
 *                 "waiter" (T1) and "holder" (T2)
 *   "feeder"      forked by it; writes the pipe (lockholder reads it)
 * One round: T2 takes the lock (a futex word, 0 free / 1 locked / 2
 * contended, FUTEX_WAIT_PRIVATE / FUTEX_WAKE_PRIVATE); T1 tries it and
 * sleeps in FUTEX_WAIT; once T1 sleeps, T2 lets the feeder go and reads 16
 * bytes from the pipe, which the feeder writes after --work-us of CPU; T2
 * unlocks, waking T1; T1 unlocks (one more wake call, nobody to wake). So
 *   waiter ⇢ futex ⇢ holder ⇢ pipe ⇢ feeder
 * Then the feeder closes the pipe and T2 reads EOF (one more receive).
 *
 * Nothing but the measured traffic uses a measured channel or a futex:
 * set-up handshakes, the children's reports, the turns between T1 and T2,
 * the feeder's go and the async middle's job count go through memory (a
 * MAP_SHARED mapping between processes), polled with nanosleep() while
 * idle and with sched_yield() during the traffic; failures through
 * signals. Threads leave with a bare exit(2) and are waited for with
 * tgkill(tid, 0), not pthread_join() (glibc's futex).
 */
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
#include <sched.h>
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

#define REQ_SIZE	64	/* frontend <-> middle, both ways */
#define CALL_SIZE	32	/* middle <-> backend, both ways */
#define FEED_SIZE	16	/* feeder -> lockholder */
#define MAX_COUNT	1000000000ul
#define MAX_CALLS	1000000ul
#define MAX_WORK_US	60000000ul
#define MAX_ROWS	8
#define MAX_THREADS	3
#define CHAN_LEN	128
#define PATH_LEN	sizeof(((struct sockaddr_un *)0)->sun_path)
#define POLL_NS		1000000L	/* idle handshake poll interval */

/* ---- configuration -------------------------------------------------- */

enum mode { M_CHAIN, M_CACHE, M_ASYNC, M_FUTEX, M_NR };

static const char *const mode_names[M_NR] = { "chain", "cache", "async", "futex-chain" };

static struct {
	enum mode mode;
	unsigned long requests, calls, work_us;
	unsigned long delay_ms, hold_ms, timeout_s;
	const char *out, *sock;
} cfg = {
	.mode = M_CHAIN, .requests = 200, .calls = 3, .work_us = 200, .timeout_s = 300,
};

enum kind { K_PIPE, K_USTREAM, K_TCP, K_FUTEX };

static const char *const kind_names[] = { "pipe", "unix_stream", "tcp", "futex" };

enum dir { D_SEND, D_RECV, D_WAIT, D_WAKE };

static const char *const dir_names[] = { "send", "recv", "wait", "wake" };

enum role { R_FRONTEND, R_MIDDLE, R_BACKEND, R_LOCKHOLDER, R_FEEDER, R_NR };

/* The comm of each process is its role's name. */
static const char *const role_names[R_NR] = {
	"frontend", "middle", "backend", "lockholder", "feeder",
};

/* ---- shared state (MAP_SHARED, written before fork or by its owner) ---- */

struct row {
	int kind, dir;
	char chan[CHAN_LEN];
	bool path;		/* unix: report the socket path */
	uint64_t calls, bytes, errors, woken;	/* woken: futex wake only */
};

struct thr {
	pid_t tid;
	char comm[16];
};

struct proc {
	pid_t pid;
	int nrows, nthreads;
	struct row rows[MAX_ROWS];
	struct thr threads[MAX_THREADS];
};

struct shared {
	int failed;			/* someone called fail() */
	/* set-up */
	int unix_listening;		/* middle listens on cfg.sock */
	int port_ready;			/* backend listens on port */
	unsigned short port;		/* host order */
	unsigned long fe_ino, mid_ino;	/* the unix ends' inodes ... */
	int fe_ino_ready, mid_ino_ready;	/* ... are known */
	int ready[R_NR];		/* set up, rows made */
	int go;				/* everyone ready: start the delay */
	int started[R_NR];		/* slept --delay-ms, traffic next */
	int done[R_NR];			/* rows final */
	/* traffic */
	uint64_t feed_go;		/* futex-chain: rounds the feeder may serve */
	uint64_t work_ns;		/* backend / feeder: CPU spin time, measured */
	uint64_t round_trips;		/* middle: completed calls to the backend */
	uint64_t blocked_rounds;	/* waiter: lock waits that slept and were woken */
	uint64_t elapsed_ns;		/* first request to last reply (first to last round) */
	struct proc procs[R_NR];
};

static struct shared *sh;
static struct proc *me;
static enum role my_role;

static pid_t pid_init;			/* the initial process */
static pid_t kids[2];			/* its children, known in it only */
static char sock_path[PATH_LEN];

/* ---- failing ------------------------------------------------------------ */

static void say(const char *msg)
{
	if (write(STDERR_FILENO, msg, strlen(msg)) < 0) {
		/* nothing left to tell anyone */
	}
}

/* The initial process removes the path, once the middle has bound it. */
static void unlink_sock(void)
{
	if (getpid() == pid_init && sh && __atomic_load_n(&sh->unix_listening, __ATOMIC_ACQUIRE) &&
	    sock_path[0] && sock_path[0] != '@')
		unlink(sock_path);
}

/* The initial process kills the children and exits 1; a child tells it. */
static void __attribute__((noreturn)) abort_all(void)
{
	int i;

	if (sh)
		__atomic_store_n(&sh->failed, 1, __ATOMIC_RELEASE);
	if (getpid() != pid_init) {
		kill(pid_init, SIGUSR2);
		_exit(1);
	}
	for (i = 0; i < 2; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGKILL);
	unlink_sock();
	_exit(1);
}

/* Print a message (": strerror" appended when fmt ends with ':') and abort. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	int err = errno;
	size_t len = strlen(fmt);
	char msg[512];
	int n;
	va_list ap;

	/* One write, no stdio lock: some processes have threads. */
	n = snprintf(msg, sizeof(msg), "tierdemo[%d]: ", (int)getpid());
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
static void on_abort(int sig)
{
	if (sig == SIGALRM)
		say("tierdemo: timed out (see --timeout)\n");
	else
		say("tierdemo: a child process failed, stopping\n");
	abort_all();
}

static void signals_init(void)
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

static void arm_watchdog(void)
{
	alarm(cfg.timeout_s > UINT_MAX ? UINT_MAX : (unsigned)cfg.timeout_s);
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU work, not blocking: spin on the clock for us microseconds. */
static uint64_t busy_work(unsigned long us)
{
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)us * 1000u, t;

	do
		t = now_ns();
	while (t < end);
	return t - t0;
}

static void set_name(const char *name)
{
	if (prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0))
		fail("prctl(PR_SET_NAME):");
}

static void check_failed(void)
{
	if (__atomic_load_n(&sh->failed, __ATOMIC_ACQUIRE))
		abort_all();
}

/*
 * The initial process: a child that died never sets the flag waited for.
 * Only peek (WNOWAIT): one that exited 0 is reaped and checked at the end.
 */
static void check_children(void)
{
	siginfo_t si;
	int i;

	for (i = 0; i < 2; i++) {
		if (kids[i] <= 0)
			continue;
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, kids[i], &si, WEXITED | WNOHANG | WNOWAIT) || si.si_pid != kids[i])
			continue;
		if (si.si_code != CLD_EXITED || si.si_status)
			fail("child %d died (%s %d)", (int)kids[i],
			     si.si_code == CLD_EXITED ? "exit status" : "signal", si.si_status);
	}
}

/* Idle: poll a flag with nanosleep(): no fd, no futex, nothing traced. */
static void wait_flag(int *flag)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = POLL_NS };

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		check_failed();
		if (getpid() == pid_init)
			check_children();
		nanosleep(&ts, NULL);
	}
}

static void set_flag(int *flag)
{
	__atomic_store_n(flag, 1, __ATOMIC_RELEASE);
}

/*
 * During the traffic: spin until cond, yielding the CPU each time (no
 * sleep: a sleep here would add its latency to the chain being shown).
 */
#define SPIN_UNTIL(cond)				\
	do {						\
		while (!(cond)) {			\
			check_failed();			\
			sched_yield();			\
		}					\
	} while (0)

static uint64_t load64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store64(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* The scheduler state of a task: 'S' while it sleeps in a syscall. */
static char task_state(const char *path)
{
	char buf[512], *p;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail("open %s:", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		fail("read %s:", path);
	close(fd);
	buf[n] = 0;
	/* "PID (COMM) S ...": the comm may hold anything but ends at the last ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		fail("%s: cannot parse '%s'", path, buf);
	return p[2];
}

/* Wait until the task at path sleeps (it is inside the wait we expect). */
static void wait_asleep(const char *path)
{
	while (task_state(path) != 'S') {
		check_failed();
		sched_yield();
	}
}

/* ---- rows ---------------------------------------------------------------- */

static struct row *row_new(int kind, int dir, const char *chan, bool path)
{
	struct row *r;

	if (me->nrows == MAX_ROWS)
		fail("too many report rows");
	r = &me->rows[me->nrows++];
	r->kind = kind;
	r->dir = dir;
	r->path = path;
	snprintf(r->chan, sizeof(r->chan), "%s", chan);
	return r;
}

static const struct row *row_find(const struct proc *p, int kind, int dir)
{
	int i;

	for (i = 0; i < p->nrows; i++)
		if (p->rows[i].kind == kind && p->rows[i].dir == dir)
			return &p->rows[i];
	return NULL;
}

/* This thread, by the name it has now. */
static void add_thread(void)
{
	struct thr *t;

	if (me->nthreads == MAX_THREADS)
		fail("too many threads");
	t = &me->threads[me->nthreads++];
	t->tid = (pid_t)syscall(SYS_gettid);
	if (prctl(PR_GET_NAME, (unsigned long)t->comm, 0, 0, 0))
		fail("prctl(PR_GET_NAME):");
}

/* Count one returned syscall: an error, or that many bytes. */
static void account(struct row *r, ssize_t ret)
{
	r->calls++;
	if (ret < 0)
		r->errors++;
	else
		r->bytes += ret;
}

/* ---- measured calls -------------------------------------------------------- */

/* Write all of len bytes with write(), each call counted. */
static void send_all(int fd, struct row *r, const char *buf, size_t len, const char *what)
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
static void recv_all(int fd, struct row *r, char *buf, size_t len, const char *what)
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

/* After the last message: one read, counted, that must see EOF. */
static void recv_eof(int fd, struct row *r, const char *what)
{
	char buf[REQ_SIZE];
	ssize_t n;

	n = read(fd, buf, sizeof(buf));
	account(r, n);
	if (n < 0)
		fail("read %s:", what);
	if (n > 0)
		fail("read %s: %zd bytes more than expected", what, n);
}

/* ---- channels ------------------------------------------------------------- */

static unsigned long fd_ino(int fd)
{
	struct stat st;

	if (fstat(fd, &st))
		fail("fstat:");
	return st.st_ino;
}

static void close_fd(int *fd)
{
	if (*fd >= 0 && close(*fd))
		fail("close:");
	*fd = -1;
}

static void fmt_sin(char *buf, size_t n, const struct sockaddr_in *s)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a));
	snprintf(buf, n, "%s:%u", a, ntohs(s->sin_port));
}

/* "tcp:LADDR:LPORT->RADDR:RPORT", seen from this end. */
static void tcp_channel(int fd, char *buf)
{
	struct sockaddr_in l, r;
	socklen_t ll = sizeof(l), rl = sizeof(r);
	char ls[32], rs[32];

	if (getsockname(fd, (struct sockaddr *)&l, &ll))
		fail("getsockname:");
	if (getpeername(fd, (struct sockaddr *)&r, &rl))
		fail("getpeername:");
	fmt_sin(ls, sizeof(ls), &l);
	fmt_sin(rs, sizeof(rs), &r);
	snprintf(buf, CHAN_LEN, "tcp:%s->%s", ls, rs);
}

static void nodelay(int fd)
{
	int one = 1;

	/* Small ping-pong messages must not wait for delayed ACKs. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)))
		fail("setsockopt(TCP_NODELAY):");
}

static socklen_t unix_addr(struct sockaddr_un *sun)
{
	size_t len = strlen(sock_path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (sock_path[0] == '@') {
		/* Abstract: a leading NUL, then the name, no terminator. */
		memcpy(sun->sun_path + 1, sock_path + 1, len - 1);
		return offsetof(struct sockaddr_un, sun_path) + len;
	}
	memcpy(sun->sun_path, sock_path, len);
	return offsetof(struct sockaddr_un, sun_path) + len + 1;
}

/* ---- threads ---------------------------------------------------------------- */

static pthread_t start_thread(void *(*fn)(void *), int *named)
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
static void __attribute__((noreturn)) thread_exit(int *done)
{
	set_flag(done);
	for (;;)
		syscall(SYS_exit, 0);
}

/* Wait (without a futex) until the thread tid no longer exists. */
static void wait_thread_gone(int *done, pid_t tid)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = POLL_NS / 10 };

	wait_flag(done);
	while (!syscall(SYS_tgkill, getpid(), tid, 0))
		nanosleep(&ts, NULL);
	if (errno != ESRCH)
		fail("tgkill:");
}

/* ---- processes ------------------------------------------------------------------ */

static void become(enum role role)
{
	my_role = role;
	me = &sh->procs[role];
	me->pid = getpid();
	set_name(role_names[role]);
	add_thread();
}

static void child_init(enum role role)
{
	become(role);
	/* A child outlives a killed initial process by no more than this. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		fail("prctl(PR_SET_PDEATHSIG):");
	if (getppid() != pid_init)
		_exit(1);
}

/* Everything is set up: sleep --delay-ms, then watch the traffic. */
static void start_traffic(void)
{
	alarm(0);
	sleep_ms(cfg.delay_ms);
	arm_watchdog();
}

/* A child's end: rows final, hold, leave. */
static void __attribute__((noreturn)) child_done(void)
{
	alarm(0);
	set_flag(&sh->done[my_role]);
	sleep_ms(cfg.hold_ms);
	_exit(0);
}

static pid_t spawn(void (*child)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		fail("fork:");
	if (pid == 0) {
		kids[0] = kids[1] = 0;	/* a child kills nobody */
		child();
		_exit(0);
	}
	return pid;
}

static void wait_child(int i)
{
	int st;

	while (waitpid(kids[i], &st, 0) < 0)
		if (errno != EINTR)
			fail("waitpid %d:", (int)kids[i]);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		kids[i] = 0;
		fail("child failed (status 0x%x)", st);
	}
	kids[i] = 0;
}

/* ---- backend ------------------------------------------------------------------- */

static void __attribute__((noreturn)) run_backend(void)
{
	char req[CALL_SIZE], reply[CALL_SIZE];
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	char chan[CHAN_LEN];
	struct row *rx, *tx;
	uint64_t i, n, work = 0;
	int l, fd;

	child_init(R_BACKEND);
	memset(reply, 'b', sizeof(reply));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		fail("socket:");
	if (bind(l, (struct sockaddr *)&addr, sizeof(addr)))
		fail("bind 127.0.0.1:0:");
	if (listen(l, 1))
		fail("listen:");
	if (getsockname(l, (struct sockaddr *)&addr, &len))
		fail("getsockname:");
	sh->port = ntohs(addr.sin_port);
	set_flag(&sh->port_ready);
	fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		fail("accept:");
	close_fd(&l);
	nodelay(fd);
	tcp_channel(fd, chan);
	rx = row_new(K_TCP, D_RECV, chan, false);
	tx = row_new(K_TCP, D_SEND, chan, false);
	set_flag(&sh->ready[R_BACKEND]);
	wait_flag(&sh->go);
	start_traffic();
	set_flag(&sh->started[R_BACKEND]);

	n = cfg.mode == M_CACHE ? 0 : (uint64_t)cfg.requests * cfg.calls;
	for (i = 0; i < n; i++) {
		recv_all(fd, rx, req, sizeof(req), "tcp");
		work += busy_work(cfg.work_us);
		send_all(fd, tx, reply, sizeof(reply), "tcp");
	}
	/* The middle closes its end after its last call. */
	recv_eof(fd, rx, "tcp");
	close_fd(&fd);
	sh->work_ns = work;
	child_done();
}

/* ---- middle -------------------------------------------------------------------- */

static int mid_tcp = -1;
static struct row *mid_tcp_tx, *mid_tcp_rx;
static uint64_t jobs_posted;		/* async: requests answered, calls owed */
static int worker_named, worker_done;
static pid_t worker_tid;

/* One request's --calls sequential round trips to the backend. */
static void backend_calls(void)
{
	char call[CALL_SIZE], reply[CALL_SIZE];
	unsigned long j;

	memset(call, 'c', sizeof(call));
	for (j = 0; j < cfg.calls; j++) {
		send_all(mid_tcp, mid_tcp_tx, call, sizeof(call), "tcp");
		recv_all(mid_tcp, mid_tcp_rx, reply, sizeof(reply), "tcp");
		__atomic_add_fetch(&sh->round_trips, 1, __ATOMIC_RELAXED);
	}
}

/* async: the middle's second thread, making the calls owed. */
static void *worker_main(void *arg)
{
	uint64_t i;

	(void)arg;
	set_name("middle-async");
	worker_tid = (pid_t)syscall(SYS_gettid);
	add_thread();
	set_flag(&worker_named);
	wait_flag(&sh->started[R_MIDDLE]);
	for (i = 0; i < cfg.requests; i++) {
		SPIN_UNTIL(load64(&jobs_posted) > i);
		backend_calls();
	}
	thread_exit(&worker_done);
	return NULL;
}

static void __attribute__((noreturn)) run_middle(void)
{
	char req[REQ_SIZE], reply[REQ_SIZE], chan[CHAN_LEN], fe_stat[64];
	struct sockaddr_in in = { .sin_family = AF_INET };
	struct sockaddr_un sun;
	socklen_t slen;
	struct row *urx, *utx;
	struct stat st;
	unsigned long i;
	int l, ufd;

	child_init(R_MIDDLE);
	memset(reply, 'm', sizeof(reply));
	snprintf(fe_stat, sizeof(fe_stat), "/proc/%d/stat", (int)pid_init);

	/* Only a leftover socket is ours to remove; anything else stays. */
	if (sock_path[0] != '@' && !stat(sock_path, &st) && S_ISSOCK(st.st_mode))
		unlink(sock_path);
	slen = unix_addr(&sun);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		fail("socket:");
	if (bind(l, (struct sockaddr *)&sun, slen))
		fail("bind %s:", sock_path);
	if (listen(l, 1))
		fail("listen:");
	set_flag(&sh->unix_listening);

	wait_flag(&sh->port_ready);
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in.sin_port = htons(sh->port);
	mid_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (mid_tcp < 0)
		fail("socket:");
	if (connect(mid_tcp, (struct sockaddr *)&in, sizeof(in)))
		fail("connect 127.0.0.1:%u:", sh->port);
	nodelay(mid_tcp);
	tcp_channel(mid_tcp, chan);
	mid_tcp_tx = row_new(K_TCP, D_SEND, chan, false);
	mid_tcp_rx = row_new(K_TCP, D_RECV, chan, false);

	ufd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (ufd < 0)
		fail("accept:");
	close_fd(&l);
	sh->mid_ino = fd_ino(ufd);
	set_flag(&sh->mid_ino_ready);
	wait_flag(&sh->fe_ino_ready);
	snprintf(chan, sizeof(chan), "unix:[%lu->%lu]", sh->mid_ino, sh->fe_ino);
	urx = row_new(K_USTREAM, D_RECV, chan, true);
	utx = row_new(K_USTREAM, D_SEND, chan, true);
	if (cfg.mode == M_ASYNC)
		start_thread(worker_main, &worker_named);
	set_flag(&sh->ready[R_MIDDLE]);
	wait_flag(&sh->go);
	start_traffic();
	set_flag(&sh->started[R_MIDDLE]);

	for (i = 0; i < cfg.requests; i++) {
		recv_all(ufd, urx, req, sizeof(req), "unix");
		switch (cfg.mode) {
		case M_CHAIN:
			/* The first call starts only inside the frontend's wait. */
			if (cfg.calls)
				wait_asleep(fe_stat);
			backend_calls();
			send_all(ufd, utx, reply, sizeof(reply), "unix");
			break;
		case M_CACHE:
			send_all(ufd, utx, reply, sizeof(reply), "unix");
			break;
		case M_ASYNC:
			send_all(ufd, utx, reply, sizeof(reply), "unix");
			store64(&jobs_posted, i + 1);
			break;
		default:
			fail("bad mode");
		}
	}
	/* The frontend closes its end after its last reply. */
	recv_eof(ufd, urx, "unix");
	close_fd(&ufd);
	if (cfg.mode == M_ASYNC)
		wait_thread_gone(&worker_done, worker_tid);
	close_fd(&mid_tcp);		/* the backend reads EOF */
	child_done();
}

/* ---- frontend ------------------------------------------------------------------ */

static void run_frontend(void)
{
	char req[REQ_SIZE], reply[REQ_SIZE], chan[CHAN_LEN];
	struct sockaddr_un sun;
	socklen_t slen = unix_addr(&sun);
	struct row *tx, *rx;
	unsigned long i;
	uint64_t t0;
	int fd;

	become(R_FRONTEND);
	memset(req, 'f', sizeof(req));
	kids[0] = spawn(run_middle);
	kids[1] = spawn(run_backend);

	wait_flag(&sh->unix_listening);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket:");
	if (connect(fd, (struct sockaddr *)&sun, slen))
		fail("connect %s:", sock_path);
	sh->fe_ino = fd_ino(fd);
	set_flag(&sh->fe_ino_ready);
	wait_flag(&sh->mid_ino_ready);
	snprintf(chan, sizeof(chan), "unix:[%lu->%lu]", sh->fe_ino, sh->mid_ino);
	tx = row_new(K_USTREAM, D_SEND, chan, true);
	rx = row_new(K_USTREAM, D_RECV, chan, true);
	wait_flag(&sh->ready[R_MIDDLE]);
	wait_flag(&sh->ready[R_BACKEND]);
	set_flag(&sh->ready[R_FRONTEND]);
	set_flag(&sh->go);
	fprintf(stderr, "ready %d\n", (int)pid_init);
	start_traffic();
	/* The first request must not wait out the others' delay. */
	wait_flag(&sh->started[R_MIDDLE]);
	wait_flag(&sh->started[R_BACKEND]);

	t0 = now_ns();
	for (i = 0; i < cfg.requests; i++) {
		send_all(fd, tx, req, sizeof(req), "unix");
		recv_all(fd, rx, reply, sizeof(reply), "unix");
	}
	sh->elapsed_ns = now_ns() - t0;
	close_fd(&fd);			/* the middle reads EOF */
	alarm(0);
	sleep_ms(cfg.hold_ms);
	wait_child(0);
	wait_child(1);
	if (!sh->done[R_MIDDLE] || !sh->done[R_BACKEND])
		fail("a child exited without its report");
}

/* ---- futex-chain ----------------------------------------------------------------- */

struct fword {
	_Alignas(64) uint32_t word;
};

static struct fword lock_word;		/* 0 free, 1 locked, 2 locked and contended */
static int pipe_fd[2] = { -1, -1 };	/* [0]: lockholder reads, [1]: feeder writes */
static char pipe_chan[CHAN_LEN];

/* Per thread, summed into the lockholder's rows once both are gone. */
struct fstats {
	uint64_t wait_calls, wait_errors, wake_calls, wake_errors, woken, slept;
};

static struct fstats st_waiter, st_holder;
static uint64_t turn;			/* rounds the waiter may try the lock in */
static uint64_t waiter_rounds;		/* rounds the waiter has finished */
static struct row *holder_rx;
static int waiter_named, holder_named, threads_go, waiter_done, holder_done;
static pid_t waiter_tid, holder_tid;

static uint32_t cmpxchg(uint32_t *p, uint32_t old, uint32_t new)
{
	__atomic_compare_exchange_n(p, &old, new, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
	return old;
}

/* A contended lock: sleep in FUTEX_WAIT while the word says 2. */
static void futex_wait(struct fstats *s)
{
	long r = syscall(SYS_futex, &lock_word.word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);

	s->wait_calls++;
	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			fail("futex wait:");
		s->wait_errors++;
	} else {
		s->slept++;
	}
}

static void futex_wake(struct fstats *s)
{
	long r = syscall(SYS_futex, &lock_word.word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);

	s->wake_calls++;
	if (r < 0) {
		s->wake_errors++;
		fail("futex wake:");
	}
	s->woken += r;
}

/* Drepper's mutex ("Futexes Are Tricky", mutex 2), the shape of glibc's. */
static void lock(struct fstats *s)
{
	uint32_t c = cmpxchg(&lock_word.word, 0, 1);

	if (!c)
		return;
	if (c != 2)
		c = __atomic_exchange_n(&lock_word.word, 2, __ATOMIC_ACQUIRE);
	while (c) {
		futex_wait(s);
		c = __atomic_exchange_n(&lock_word.word, 2, __ATOMIC_ACQUIRE);
	}
}

static void unlock(struct fstats *s)
{
	if (__atomic_fetch_sub(&lock_word.word, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(&lock_word.word, 0, __ATOMIC_RELEASE);
		futex_wake(s);
	}
}

/* T1: each round, try the lock while the holder has it, sleep, get it, drop it. */
static void *waiter_main(void *arg)
{
	uint64_t i;

	(void)arg;
	set_name("waiter");
	waiter_tid = (pid_t)syscall(SYS_gettid);
	add_thread();
	set_flag(&waiter_named);
	wait_flag(&threads_go);
	for (i = 0; i < cfg.requests; i++) {
		SPIN_UNTIL(load64(&turn) > i);
		lock(&st_waiter);
		unlock(&st_waiter);	/* the word says 2: one wake, nobody woken */
		store64(&waiter_rounds, i + 1);
	}
	thread_exit(&waiter_done);
	return NULL;
}

/* T2: each round, take the lock first, read the feeder's pipe under it. */
static void *holder_main(void *arg)
{
	char buf[FEED_SIZE], wstat[64];
	uint64_t i, t0 = 0;

	(void)arg;
	set_name("holder");
	holder_tid = (pid_t)syscall(SYS_gettid);
	add_thread();
	set_flag(&holder_named);
	wait_flag(&waiter_named);
	snprintf(wstat, sizeof(wstat), "/proc/%d/task/%d/stat", (int)getpid(), (int)waiter_tid);
	wait_flag(&threads_go);
	for (i = 0; i < cfg.requests; i++) {
		SPIN_UNTIL(load64(&waiter_rounds) == i);
		if (i == 0)
			t0 = now_ns();
		if (cmpxchg(&lock_word.word, 0, 1))
			fail("holder: the lock is not free at round %" PRIu64, i);
		store64(&turn, i + 1);
		/* The waiter has marked the lock contended and sleeps on it. */
		SPIN_UNTIL(__atomic_load_n(&lock_word.word, __ATOMIC_ACQUIRE) == 2);
		wait_asleep(wstat);
		store64(&sh->feed_go, i + 1);
		recv_all(pipe_fd[0], holder_rx, buf, sizeof(buf), "pipe");
		unlock(&st_holder);
	}
	SPIN_UNTIL(load64(&waiter_rounds) == cfg.requests);
	sh->elapsed_ns = cfg.requests ? now_ns() - t0 : 0;
	/* The feeder closes its end after its last write. */
	recv_eof(pipe_fd[0], holder_rx, "pipe");
	thread_exit(&holder_done);
	return NULL;
}

static void __attribute__((noreturn)) run_feeder(void)
{
	char buf[FEED_SIZE];
	struct row *tx;
	uint64_t i, work = 0;

	child_init(R_FEEDER);
	memset(buf, 'p', sizeof(buf));
	close_fd(&pipe_fd[0]);
	tx = row_new(K_PIPE, D_SEND, pipe_chan, false);
	set_flag(&sh->ready[R_FEEDER]);
	wait_flag(&sh->go);
	start_traffic();
	set_flag(&sh->started[R_FEEDER]);

	for (i = 0; i < cfg.requests; i++) {
		SPIN_UNTIL(load64(&sh->feed_go) > i);
		work += busy_work(cfg.work_us);
		send_all(pipe_fd[1], tx, buf, sizeof(buf), "pipe");
	}
	close_fd(&pipe_fd[1]);		/* the holder reads EOF */
	sh->work_ns = work;
	child_done();
}

static void lockholder_futex_rows(void)
{
	char chan[CHAN_LEN];
	struct row *r;

	snprintf(chan, sizeof(chan), "futex:0x%lx", (unsigned long)(uintptr_t)&lock_word.word);
	r = row_new(K_FUTEX, D_WAIT, chan, false);
	r->calls = st_waiter.wait_calls + st_holder.wait_calls;
	r->errors = st_waiter.wait_errors + st_holder.wait_errors;
	r = row_new(K_FUTEX, D_WAKE, chan, false);
	r->calls = st_waiter.wake_calls + st_holder.wake_calls;
	r->errors = st_waiter.wake_errors + st_holder.wake_errors;
	r->woken = st_waiter.woken + st_holder.woken;
	sh->blocked_rounds = st_waiter.slept;
}

static void run_lockholder(void)
{
	become(R_LOCKHOLDER);
	if (pipe2(pipe_fd, O_CLOEXEC))
		fail("pipe:");
	snprintf(pipe_chan, sizeof(pipe_chan), "pipe:[%lu]", fd_ino(pipe_fd[0]));
	kids[0] = spawn(run_feeder);
	close_fd(&pipe_fd[1]);
	holder_rx = row_new(K_PIPE, D_RECV, pipe_chan, false);
	start_thread(waiter_main, &waiter_named);
	start_thread(holder_main, &holder_named);
	wait_flag(&sh->ready[R_FEEDER]);
	set_flag(&sh->ready[R_LOCKHOLDER]);
	set_flag(&sh->go);
	fprintf(stderr, "ready %d\n", (int)pid_init);
	start_traffic();
	wait_flag(&sh->started[R_FEEDER]);
	set_flag(&threads_go);

	/* The main thread idles: it only waits for both threads to be gone. */
	wait_thread_gone(&waiter_done, waiter_tid);
	wait_thread_gone(&holder_done, holder_tid);
	lockholder_futex_rows();
	close_fd(&pipe_fd[0]);
	alarm(0);
	sleep_ms(cfg.hold_ms);
	wait_child(0);
	if (!sh->done[R_FEEDER])
		fail("the feeder exited without its report");
}

/* ---- checks and report --------------------------------------------------------- */

/* calls at least calls_min (exactly, in practice), bytes exact, no errors. */
static void expect_row(enum role p, int kind, int dir, uint64_t calls_min, uint64_t bytes)
{
	const struct row *r = row_find(&sh->procs[p], kind, dir);
	uint64_t calls = r ? r->calls : 0, got = r ? r->bytes : 0, errs = r ? r->errors : 0;

	if (calls < calls_min || got != bytes || errs || (!calls_min && calls))
		fail("self-check: %s %s %s: calls %" PRIu64 " bytes %" PRIu64 " errors %" PRIu64
		     ", expected >= %" PRIu64 " calls, %" PRIu64 " bytes, no errors",
		     role_names[p], kind_names[kind], dir_names[dir], calls, got, errs,
		     calls_min, bytes);
}

/*
 * Cross-check the rows against what the traffic must have moved, so a
 * counting slip fails the run instead of silently becoming ground truth.
 */
static void self_check(void)
{
	uint64_t n = cfg.requests, nk = cfg.mode == M_CACHE ? 0 : n * cfg.calls;
	const struct row *r;

	if (cfg.mode == M_FUTEX) {
		expect_row(R_FEEDER, K_PIPE, D_SEND, n, n * FEED_SIZE);
		expect_row(R_LOCKHOLDER, K_PIPE, D_RECV, n + 1, n * FEED_SIZE);
		r = row_find(&sh->procs[R_LOCKHOLDER], K_FUTEX, D_WAIT);
		if (!r || r->calls < n || r->errors || sh->blocked_rounds != n)
			fail("self-check: futex waits: calls %" PRIu64 ", %" PRIu64 " slept, "
			     "expected %" PRIu64, r ? r->calls : 0, sh->blocked_rounds, n);
		r = row_find(&sh->procs[R_LOCKHOLDER], K_FUTEX, D_WAKE);
		if (!r || r->calls != 2 * n || r->errors || r->woken != n)
			fail("self-check: futex wakes: calls %" PRIu64 " woken %" PRIu64
			     ", expected %" PRIu64 " and %" PRIu64,
			     r ? r->calls : 0, r ? r->woken : 0, 2 * n, n);
		return;
	}
	expect_row(R_FRONTEND, K_USTREAM, D_SEND, n, n * REQ_SIZE);
	expect_row(R_FRONTEND, K_USTREAM, D_RECV, n, n * REQ_SIZE);
	expect_row(R_MIDDLE, K_USTREAM, D_RECV, n + 1, n * REQ_SIZE);	/* + the EOF read */
	expect_row(R_MIDDLE, K_USTREAM, D_SEND, n, n * REQ_SIZE);
	expect_row(R_MIDDLE, K_TCP, D_SEND, nk, nk * CALL_SIZE);
	expect_row(R_MIDDLE, K_TCP, D_RECV, nk, nk * CALL_SIZE);
	expect_row(R_BACKEND, K_TCP, D_RECV, nk + 1, nk * CALL_SIZE);	/* + the EOF read */
	expect_row(R_BACKEND, K_TCP, D_SEND, nk, nk * CALL_SIZE);
	if (sh->round_trips != nk)
		fail("self-check: %" PRIu64 " calls to the backend, expected %" PRIu64,
		     sh->round_trips, nk);
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...)
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
static void sb_str(struct sbuf *b, const char *s)
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

static void report_proc(struct sbuf *b, enum role role, bool last)
{
	const struct proc *p = &sh->procs[role];
	const char *sep = "";
	int i;

	sb_printf(b, "  {\"pid\":%d,\"comm\":\"%s\",\"role\":\"%s\",\"threads\":[",
		  (int)p->pid, role_names[role], role_names[role]);
	for (i = 0; i < p->nthreads; i++)
		sb_printf(b, "%s{\"tid\":%d,\"comm\":\"%s\"}", i ? "," : "",
			  (int)p->threads[i].tid, p->threads[i].comm);
	sb_printf(b, "],\"boundaries\":[");
	for (i = 0; i < p->nrows; i++) {
		const struct row *r = &p->rows[i];

		/* Like boundtrace: no row for a channel direction never used. */
		if (!r->calls)
			continue;
		sb_printf(b, "%s\n    {\"kind\":\"%s\",\"channel\":\"%s\",\"direction\":\"%s\","
			  "\"calls\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64,
			  sep, kind_names[r->kind], r->chan, dir_names[r->dir],
			  r->calls, r->bytes, r->errors);
		if (r->path) {
			sb_printf(b, ",\"path\":");
			sb_str(b, sock_path);
		}
		if (r->kind == K_FUTEX && r->dir == D_WAKE)
			sb_printf(b, ",\"woken\":%" PRIu64, r->woken);
		sb_printf(b, "}");
		sep = ",";
	}
	sb_printf(b, "]}%s\n", last ? "" : ",");
}

/* One hop: from waits on its recv (wait) end of channel, to ends the wait. */
static void report_hop(struct sbuf *b, enum role from, pid_t from_tid, enum role to,
		       pid_t to_tid, int kind, int dir, bool last)
{
	const struct row *r = row_find(&sh->procs[from], kind, dir);

	if (!r)
		fail("no %s %s row for %s", kind_names[kind], dir_names[dir], role_names[from]);
	sb_printf(b, "  {\"from\":\"%s\",\"to\":\"%s\",\"kind\":\"%s\",\"calls_per_request\":%lu,"
		  "\"from_pid\":%d,\"from_tid\":%d,\"to_pid\":%d,\"to_tid\":%d,\"channel\":\"%s\"",
		  role_names[from], role_names[to], kind_names[kind],
		  kind == K_TCP ? cfg.calls : 1ul,
		  (int)sh->procs[from].pid, (int)from_tid, (int)sh->procs[to].pid, (int)to_tid,
		  r->chan);
	if (r->path) {
		sb_printf(b, ",\"path\":");
		sb_str(b, sock_path);
	}
	sb_printf(b, "}%s\n", last ? "" : ",");
}

static void write_report(void)
{
	struct sbuf b = { .p = malloc(4096), .cap = 4096 };
	int fd = STDOUT_FILENO;
	bool backend_hop = cfg.mode == M_CHAIN && cfg.calls;
	pid_t fe = sh->procs[R_FRONTEND].pid, mid = sh->procs[R_MIDDLE].pid;
	size_t done;
	ssize_t n;

	if (!b.p)
		fail("out of memory");
	sb_printf(&b, "{\"mode\":\"%s\",\"requests\":%lu,\"calls\":%lu,\"work_us\":%lu,",
		  mode_names[cfg.mode], cfg.requests, cfg.calls, cfg.work_us);
	if (cfg.mode != M_FUTEX) {
		sb_printf(&b, "\"sock\":");
		sb_str(&b, sock_path);
		sb_printf(&b, ",");
	}
	sb_printf(&b, "\n \"elapsed_ns\":%" PRIu64 ",\"work_ns\":%" PRIu64 ","
		  "\"backend_calls\":%" PRIu64 ",\"blocked_rounds\":%" PRIu64 ",\n \"processes\":[\n",
		  sh->elapsed_ns, sh->work_ns, sh->round_trips, sh->blocked_rounds);
	if (cfg.mode == M_FUTEX) {
		report_proc(&b, R_LOCKHOLDER, false);
		report_proc(&b, R_FEEDER, true);
	} else {
		report_proc(&b, R_FRONTEND, false);
		report_proc(&b, R_MIDDLE, false);
		report_proc(&b, R_BACKEND, true);
	}
	sb_printf(&b, " ],\n \"expected_chain\":[\n");
	if (!cfg.requests) {
		/* Nothing happened: no chain. */
	} else if (cfg.mode == M_FUTEX) {
		report_hop(&b, R_LOCKHOLDER, waiter_tid, R_LOCKHOLDER, holder_tid,
			   K_FUTEX, D_WAIT, false);
		report_hop(&b, R_LOCKHOLDER, holder_tid, R_FEEDER, sh->procs[R_FEEDER].pid,
			   K_PIPE, D_RECV, true);
	} else {
		report_hop(&b, R_FRONTEND, fe, R_MIDDLE, mid, K_USTREAM, D_RECV, !backend_hop);
		if (backend_hop)
			report_hop(&b, R_MIDDLE, mid, R_BACKEND, sh->procs[R_BACKEND].pid,
				   K_TCP, D_RECV, true);
	}
	sb_printf(&b, " ]}\n");

	if (cfg.out) {
		fd = open(cfg.out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0)
			fail("open %s:", cfg.out);
	}
	for (done = 0; done < b.len; done += n) {
		n = write(fd, b.p + done, b.len - done);
		if (n <= 0)
			fail("write report:");
	}
	if (cfg.out && close(fd))
		fail("close %s:", cfg.out);
	free(b.p);
}

static void summary(void)
{
	double ms = sh->elapsed_ns / 1e6, work = sh->work_ns / 1e6;

	if (cfg.mode == M_FUTEX)
		fprintf(stderr, "tierdemo: futex-chain, %lu rounds in %.1f ms, waiter blocked on "
			"the lock %" PRIu64 " times, feeder worked %.1f ms\n",
			cfg.requests, ms, sh->blocked_rounds, work);
	else
		fprintf(stderr, "tierdemo: %s, %lu requests in %.1f ms, middle made %" PRIu64
			" calls to backend, backend worked %.1f ms\n",
			mode_names[cfg.mode], cfg.requests, ms, sh->round_trips, work);
}

/* ---- command line ------------------------------------------------------------------ */

static const char usage_text[] =
"usage: tierdemo [options]\n"
"A hidden synchronous chain to trace: the frontend's every request waits on\n"
"the middle, which waits on the backend, which works. Counts every syscall\n"
"made on its channels and reports them, and the chain, as JSON.\n"
"\n"
"  \"frontend\" --unix stream PATH--> \"middle\" --tcp 127.0.0.1--> \"backend\"\n"
"  futex-chain: \"lockholder\" threads \"waiter\" --futex--> \"holder\" --pipe--> \"feeder\"\n"
"\n"
"  --mode MODE         chain    middle calls the backend --calls times, one\n"
"                               after the other, before it replies [default]\n"
"                      cache    middle replies at once, never calls the backend\n"
"                      async    middle replies first; its thread \"middle-async\"\n"
"                               makes the calls outside the frontend's wait\n"
"                      futex-chain  waiter sleeps on a lock the holder keeps\n"
"                               while it reads a pipe the feeder writes\n"
"  --requests N        requests (futex-chain: rounds) [200]\n"
"  --calls K           backend calls per request (chain, async) [3]\n"
"  --work-us US        CPU spin per backend call / per feeder write [200]\n"
"  --sock PATH         the middle's unix socket (@NAME: abstract)\n"
"                      [/tmp/tierdemo-PID.sock, removed at exit]\n"
"  --delay-ms MS       after set-up, print \"ready PID\" (the initial process) on\n"
"                      stderr and sleep MS before any traffic (time to attach) [0]\n"
"  --hold-ms MS        every process sleeps MS after its traffic [0]\n"
"  --timeout S         fail if set-up or traffic takes longer, 0 = never [300]\n"
"  --out FILE          write the JSON report to FILE instead of stdout\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 done and self-consistent, 1 failure (message on stderr),\n"
"2 bad usage.\n";

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tierdemo: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\ntry 'tierdemo --help'\n", stderr);
	exit(2);
}

static unsigned long long num(const char *s, const char *opt,
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

enum {
	OPT_REQUESTS = 256, OPT_CALLS, OPT_WORK, OPT_MODE, OPT_SOCK, OPT_DELAY, OPT_HOLD,
	OPT_TIMEOUT, OPT_OUT,
};

static const struct option long_opts[] = {
	{ "requests",	required_argument, NULL, OPT_REQUESTS },
	{ "calls",	required_argument, NULL, OPT_CALLS },
	{ "work-us",	required_argument, NULL, OPT_WORK },
	{ "mode",	required_argument, NULL, OPT_MODE },
	{ "sock",	required_argument, NULL, OPT_SOCK },
	{ "delay-ms",	required_argument, NULL, OPT_DELAY },
	{ "hold-ms",	required_argument, NULL, OPT_HOLD },
	{ "timeout",	required_argument, NULL, OPT_TIMEOUT },
	{ "out",	required_argument, NULL, OPT_OUT },
	{ "help",	no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static enum mode parse_mode(const char *s)
{
	int m;

	for (m = 0; m < M_NR; m++)
		if (!strcmp(s, mode_names[m]))
			return m;
	usage_error("--mode: want chain, cache, async or futex-chain, got '%s'", s);
}

static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_REQUESTS: cfg.requests = num(optarg, "requests", 0, MAX_COUNT); break;
		case OPT_CALLS:	cfg.calls = num(optarg, "calls", 0, MAX_CALLS); break;
		case OPT_WORK:	cfg.work_us = num(optarg, "work-us", 0, MAX_WORK_US); break;
		case OPT_MODE:	cfg.mode = parse_mode(optarg); break;
		case OPT_SOCK:	cfg.sock = optarg; break;
		case OPT_DELAY:	cfg.delay_ms = num(optarg, "delay-ms", 0, 86400000); break;
		case OPT_HOLD:	cfg.hold_ms = num(optarg, "hold-ms", 0, 86400000); break;
		case OPT_TIMEOUT: cfg.timeout_s = num(optarg, "timeout", 0, 86400); break;
		case OPT_OUT:	cfg.out = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			usage_error("bad option");
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (cfg.sock && cfg.mode == M_FUTEX)
		usage_error("--sock: futex-chain has no socket");
	if (cfg.sock && (!cfg.sock[0] || !strcmp(cfg.sock, "@") || strlen(cfg.sock) >= PATH_LEN))
		usage_error("--sock: empty or longer than %zu bytes", PATH_LEN - 1);
	if (cfg.mode != M_FUTEX && cfg.mode != M_CACHE &&
	    cfg.requests * cfg.calls > MAX_COUNT)
		usage_error("--requests times --calls: more than %lu calls", MAX_COUNT);
}

/*
 * Inherited descriptors (a harness's pipes, say) would be held by every
 * process and blur who holds which channel: keep only 0, 1 and 2.
 */
static void close_inherited(void)
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

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	close_inherited();
	pid_init = getpid();
	if (cfg.sock)
		snprintf(sock_path, sizeof(sock_path), "%s", cfg.sock);
	else if (cfg.mode != M_FUTEX)
		snprintf(sock_path, sizeof(sock_path), "/tmp/tierdemo-%d.sock", (int)pid_init);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		sh = NULL;
		fail("mmap:");
	}
	signals_init();
	arm_watchdog();		/* set-up too: a lost child must not hang us */
	if (cfg.mode == M_FUTEX)
		run_lockholder();
	else
		run_frontend();
	unlink_sock();
	self_check();
	write_report();
	summary();
	return 0;
}
