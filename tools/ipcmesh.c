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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIZE	(1u << 20)
#define MAX_COUNT	1000000000ul
#define MAX_ROWS	8
#define CHAN_LEN	128
#define POLL_NS		1000000L	/* set-up handshake poll interval */

/* ---- configuration -------------------------------------------------- */

static struct {
	unsigned long count;
	size_t size, reply;
	unsigned long delay_ms, hold_ms, timeout_s;
	const char *out;
} cfg = {
	.count = 100, .size = 64, .reply = 16, .timeout_s = 300,
};

enum kind { K_PIPE, K_USTREAM, K_TCP, K_FUTEX };

static const char *const kind_names[] = { "pipe", "unix_stream", "tcp", "futex" };

enum dir { D_SEND, D_RECV, D_WAIT, D_WAKE };

static const char *const dir_names[] = { "send", "recv", "wait", "wake" };

enum role { P_A, P_B, P_C, P_NR };

static const char *const role_names[P_NR] = { "a", "b", "c" };
static const char *const role_comms[P_NR] = { "mesh-a", "mesh-b", "mesh-c" };

/* ---- shared state (MAP_SHARED, written before fork or by its owner) ---- */

struct row {
	int kind, dir;
	char chan[CHAN_LEN];
	/* wakes: wake calls that woke at least one waiter (futex only) */
	uint64_t calls, bytes, errors, woken, wakes;
};

struct proc {
	pid_t pid;
	int nrows;
	struct row rows[MAX_ROWS];
};

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
static struct proc *me;
static enum role my_role;

static pid_t pid_a, pid_b, pid_c;	/* pid_b/pid_c: known in A only until reported */

/* ---- failing ------------------------------------------------------------ */

static void say(const char *msg)
{
	if (write(STDERR_FILENO, msg, strlen(msg)) < 0) {
		/* nothing left to tell anyone */
	}
}

/* A kills the children and exits 1; a child tells A, which does the same. */
static void __attribute__((noreturn)) abort_all(void)
{
	if (sh)
		__atomic_store_n(&sh->failed, 1, __ATOMIC_RELEASE);
	if (getpid() != pid_a) {
		kill(pid_a, SIGUSR2);
		_exit(1);
	}
	if (pid_b > 0)
		kill(pid_b, SIGKILL);
	if (pid_c > 0)
		kill(pid_c, SIGKILL);
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

	/* One write, no stdio lock: C has two threads. */
	n = snprintf(msg, sizeof(msg), "ipcmesh[%d]: ", (int)getpid());
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

/* SIGALRM: our own watchdog; SIGUSR2: a child failed (A only). */
static void on_abort(int sig)
{
	if (sig == SIGALRM)
		say("ipcmesh: timed out (see --timeout)\n");
	else
		say("ipcmesh: a child process failed, stopping\n");
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

static void set_name(const char *name)
{
	if (prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0))
		fail("prctl(PR_SET_NAME):");
}

static char *alloc_buf(size_t len)
{
	char *p = malloc(len ? len : 1);

	if (!p)
		fail("out of memory");
	memset(p, 'x', len);
	return p;
}

/* A: a child that died during set-up never sets its flag; notice that. */
static void check_children(void)
{
	pid_t kids[2] = { pid_b, pid_c };
	int i, st;

	for (i = 0; i < 2; i++) {
		if (kids[i] <= 0)
			continue;
		if (waitpid(kids[i], &st, WNOHANG) == kids[i])
			fail("child %d died during set-up (status 0x%x)", (int)kids[i], st);
	}
}

/* Poll a shared flag with nanosleep(): no fd, no futex, nothing traced. */
static void wait_flag(int *flag)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = POLL_NS };

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&sh->failed, __ATOMIC_ACQUIRE))
			abort_all();
		if (my_role == P_A)
			check_children();
		nanosleep(&ts, NULL);
	}
}

static void set_flag(int *flag)
{
	__atomic_store_n(flag, 1, __ATOMIC_RELEASE);
}

/* ---- rows ---------------------------------------------------------------- */

static struct row *row_new(int kind, int dir, const char *chan)
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

static const struct row *row_find(const struct proc *p, int kind, int dir)
{
	int i;

	for (i = 0; i < p->nrows; i++)
		if (p->rows[i].kind == kind && p->rows[i].dir == dir)
			return &p->rows[i];
	return NULL;
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

/* ---- channels ------------------------------------------------------------- */

static int pipe_fd[2] = { -1, -1 };	/* [0]: B reads, [1]: A writes */
static int sp_fd[2] = { -1, -1 };	/* [0]: B's end, [1]: C's end */
static int tcp_fd = -1;			/* A: connected; C: accepted */
static char pipe_chan[CHAN_LEN];
static char unix_chan_b[CHAN_LEN], unix_chan_c[CHAN_LEN];
static char tcp_chan[CHAN_LEN];		/* this process's view */

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

/* A, before forking: the pipe and the socketpair, both ends known here. */
static void setup_shared_channels(void)
{
	unsigned long b_ino, c_ino;

	if (pipe(pipe_fd))
		fail("pipe:");
	snprintf(pipe_chan, sizeof(pipe_chan), "pipe:[%lu]", fd_ino(pipe_fd[0]));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp_fd))
		fail("socketpair:");
	b_ino = fd_ino(sp_fd[0]);
	c_ino = fd_ino(sp_fd[1]);
	snprintf(unix_chan_b, sizeof(unix_chan_b), "unix:[%lu->%lu]", b_ino, c_ino);
	snprintf(unix_chan_c, sizeof(unix_chan_c), "unix:[%lu->%lu]", c_ino, b_ino);
}

/* C: listen on loopback, tell A the port, take A's connection, drop the listener. */
static void setup_tcp_server(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int l;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
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
	tcp_fd = accept(l, NULL, NULL);
	if (tcp_fd < 0)
		fail("accept:");
	close_fd(&l);
	nodelay(tcp_fd);
	tcp_channel(tcp_fd, tcp_chan);
}

/* A: connect to C once it listens. */
static void setup_tcp_client(void)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };

	wait_flag(&sh->port_ready);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons(sh->port);
	tcp_fd = socket(AF_INET, SOCK_STREAM, 0);
	if (tcp_fd < 0)
		fail("socket:");
	if (connect(tcp_fd, (struct sockaddr *)&addr, sizeof(addr)))
		fail("connect 127.0.0.1:%u:", sh->port);
	nodelay(tcp_fd);
	tcp_channel(tcp_fd, tcp_chan);
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

/* ---- futex handoff in C ------------------------------------------------------ */

struct fword {
	_Alignas(64) uint32_t word;
};

static struct fword fword;	/* C's private futex word, 0 = idle, 1 = request */

struct fthread {
	/* Per thread, summed into C's rows once the helper is done. */
	uint64_t wait_calls, wait_errors, wake_calls, wake_errors, woken, wakes;
};

static struct fthread f_main, f_helper;
static int helper_named, helper_go, helper_done;	/* C-local handshakes */
static pid_t helper_tid;

/*
 * Wait until the word is want. The expected value is the one just seen, so
 * a change in between makes FUTEX_WAIT fail with EAGAIN instead of sleeping
 * through the wake: no lost wakeups. Every wait call is counted.
 */
static void fwait_for(struct fthread *t, uint32_t want)
{
	uint32_t cur;
	long r;

	while ((cur = __atomic_load_n(&fword.word, __ATOMIC_ACQUIRE)) != want) {
		r = syscall(SYS_futex, &fword.word, FUTEX_WAIT_PRIVATE, cur, NULL, NULL, 0);
		t->wait_calls++;
		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				fail("futex wait:");
			t->wait_errors++;
		}
	}
}

static void fset_wake(struct fthread *t, uint32_t val)
{
	long r;

	__atomic_store_n(&fword.word, val, __ATOMIC_RELEASE);
	r = syscall(SYS_futex, &fword.word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	t->wake_calls++;
	if (r < 0) {
		t->wake_errors++;
		fail("futex wake:");
	}
	t->woken += r;
	if (r > 0)
		t->wakes++;
}

static void local_wait(int *flag)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = POLL_NS };

	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
		nanosleep(&ts, NULL);
}

static void *helper_main(void *arg)
{
	unsigned long i;

	(void)arg;
	set_name("mesh-c-helper");
	helper_tid = (pid_t)syscall(SYS_gettid);
	set_flag(&helper_named);
	local_wait(&helper_go);	/* C's main thread slept --delay-ms */
	for (i = 0; i < cfg.count; i++) {
		fwait_for(&f_helper, 1);
		fset_wake(&f_helper, 0);
	}
	set_flag(&helper_done);
	/*
	 * Leave with a bare exit(2): glibc's thread exit and pthread_join()
	 * may make futex calls of their own. The helper must be gone before
	 * C exits: a tracer takes the process name at exit from the thread
	 * that exits last, and that must be the main thread ("mesh-c").
	 */
	syscall(SYS_exit, 0);
	return NULL;
}

/* Wait (without a futex) until the helper thread no longer exists. */
static void wait_helper_gone(void)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = POLL_NS / 10 };

	local_wait(&helper_done);
	while (!syscall(SYS_tgkill, getpid(), helper_tid, 0))
		nanosleep(&ts, NULL);
	if (errno != ESRCH)
		fail("tgkill helper:");
}

static void start_helper(void)
{
	pthread_t tid;
	int err;

	err = pthread_create(&tid, NULL, helper_main, NULL);
	if (err) {
		errno = err;
		fail("pthread_create:");
	}
	local_wait(&helper_named);
}

/* ---- processes ------------------------------------------------------------------ */

static void become(enum role role)
{
	my_role = role;
	me = &sh->procs[role];
	me->pid = getpid();
	set_name(role_comms[role]);
}

static void child_init(void)
{
	/* A child outlives a killed A by no more than this. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0))
		fail("prctl(PR_SET_PDEATHSIG):");
	if (getppid() != pid_a)
		_exit(1);
}

/* Everything is set up: sleep --delay-ms, then watch the traffic. */
static void start_traffic(void)
{
	alarm(0);
	sleep_ms(cfg.delay_ms);
	arm_watchdog();
}

static void __attribute__((noreturn)) run_b(void)
{
	char *rbuf = alloc_buf(cfg.size), *sbuf = alloc_buf(cfg.size), *reply = alloc_buf(cfg.reply);
	struct row *pipe_rx, *unix_tx, *unix_rx;
	unsigned long i;
	ssize_t n;

	become(P_B);
	child_init();
	close_fd(&pipe_fd[1]);
	close_fd(&sp_fd[1]);
	pipe_rx = row_new(K_PIPE, D_RECV, pipe_chan);
	unix_tx = row_new(K_USTREAM, D_SEND, unix_chan_b);
	unix_rx = row_new(K_USTREAM, D_RECV, unix_chan_b);
	set_flag(&sh->b_ready);
	wait_flag(&sh->go);
	start_traffic();

	for (i = 0; i < cfg.count; i++) {
		recv_all(pipe_fd[0], pipe_rx, rbuf, cfg.size, "pipe");
		send_all(sp_fd[0], unix_tx, sbuf, cfg.size, "unix");
		if (cfg.reply)
			recv_all(sp_fd[0], unix_rx, reply, cfg.reply, "unix");
	}
	/* A closes its end after the last round: one more read, 0 bytes. */
	n = read(pipe_fd[0], rbuf, cfg.size);
	account(pipe_rx, n);
	if (n < 0)
		fail("read pipe:");
	if (n > 0)
		fail("read pipe: %zd bytes more than the %lu messages", n, cfg.count);
	close_fd(&pipe_fd[0]);
	close_fd(&sp_fd[0]);
	alarm(0);
	set_flag(&sh->b_done);
	sleep_ms(cfg.hold_ms);
	_exit(0);
}

static void c_futex_rows(void)
{
	char chan[CHAN_LEN];
	struct row *r;

	snprintf(chan, sizeof(chan), "futex:0x%lx", (unsigned long)(uintptr_t)&fword.word);
	r = row_new(K_FUTEX, D_WAIT, chan);
	r->calls = f_main.wait_calls + f_helper.wait_calls;
	r->errors = f_main.wait_errors + f_helper.wait_errors;
	r = row_new(K_FUTEX, D_WAKE, chan);
	r->calls = f_main.wake_calls + f_helper.wake_calls;
	r->errors = f_main.wake_errors + f_helper.wake_errors;
	r->woken = f_main.woken + f_helper.woken;
	r->wakes = f_main.wakes + f_helper.wakes;
}

static void __attribute__((noreturn)) run_c(void)
{
	char *rbuf = alloc_buf(cfg.size), *reply = alloc_buf(cfg.reply);
	struct row *unix_rx, *unix_tx, *tcp_rx, *tcp_tx;
	unsigned long i;

	become(P_C);
	child_init();
	close_fd(&pipe_fd[0]);
	close_fd(&pipe_fd[1]);
	close_fd(&sp_fd[0]);
	setup_tcp_server();
	unix_rx = row_new(K_USTREAM, D_RECV, unix_chan_c);
	unix_tx = row_new(K_USTREAM, D_SEND, unix_chan_c);
	tcp_rx = row_new(K_TCP, D_RECV, tcp_chan);
	tcp_tx = row_new(K_TCP, D_SEND, tcp_chan);
	start_helper();
	set_flag(&sh->c_ready);
	wait_flag(&sh->go);
	start_traffic();
	set_flag(&helper_go);

	for (i = 0; i < cfg.count; i++) {
		recv_all(sp_fd[1], unix_rx, rbuf, cfg.size, "unix");
		/* Hand the request to the helper and wait until it hands it back. */
		fset_wake(&f_main, 1);
		fwait_for(&f_main, 0);
		if (cfg.reply)
			send_all(sp_fd[1], unix_tx, reply, cfg.reply, "unix");
		recv_all(tcp_fd, tcp_rx, rbuf, cfg.size, "tcp");
		if (cfg.reply)
			send_all(tcp_fd, tcp_tx, reply, cfg.reply, "tcp");
	}
	/* The helper's last counts land after its last wake: wait for them. */
	wait_helper_gone();
	c_futex_rows();
	close_fd(&sp_fd[1]);
	close_fd(&tcp_fd);
	alarm(0);
	set_flag(&sh->c_done);
	sleep_ms(cfg.hold_ms);
	_exit(0);
}

static pid_t spawn(void (*child)(void))
{
	pid_t pid = fork();

	if (pid < 0)
		fail("fork:");
	if (pid == 0) {
		pid_b = pid_c = 0;	/* a child kills nobody */
		child();
	}
	return pid;
}

static void wait_child(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			fail("waitpid %d:", (int)pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail("child %d failed (status 0x%x)", (int)pid, st);
}

static void run_a(void)
{
	char *sbuf = alloc_buf(cfg.size), *reply = alloc_buf(cfg.reply);
	struct row *pipe_tx, *tcp_tx, *tcp_rx;
	unsigned long i;

	become(P_A);
	setup_shared_channels();
	pid_b = spawn(run_b);
	pid_c = spawn(run_c);
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
	fprintf(stderr, "ready %d\n", (int)pid_a);
	start_traffic();

	for (i = 0; i < cfg.count; i++) {
		send_all(pipe_fd[1], pipe_tx, sbuf, cfg.size, "pipe");
		send_all(tcp_fd, tcp_tx, sbuf, cfg.size, "tcp");
		if (cfg.reply)
			recv_all(tcp_fd, tcp_rx, reply, cfg.reply, "tcp");
	}
	close_fd(&pipe_fd[1]);		/* B reads EOF */
	if (shutdown(tcp_fd, SHUT_RDWR))
		fail("shutdown tcp:");
	close_fd(&tcp_fd);
	alarm(0);
	sleep_ms(cfg.hold_ms);
	wait_child(pid_b);
	pid_b = 0;
	wait_child(pid_c);
	pid_c = 0;
	if (!sh->b_done || !sh->c_done)
		fail("a child exited without its report");
	free(sbuf);
	free(reply);
}

/* ---- checks and report --------------------------------------------------------- */

static void expect_row(enum role p, int kind, int dir, uint64_t calls_min,
		       uint64_t bytes, bool errors_ok)
{
	const struct row *r = row_find(&sh->procs[p], kind, dir);
	uint64_t calls = r ? r->calls : 0, got = r ? r->bytes : 0, errs = r ? r->errors : 0;

	if (calls < calls_min || got != bytes || (!errors_ok && errs))
		fail("self-check: %s %s %s: calls %" PRIu64 " bytes %" PRIu64 " errors %" PRIu64
		     ", expected >= %" PRIu64 " calls, %" PRIu64 " bytes%s",
		     role_comms[p], kind_names[kind], dir_names[dir], calls, got, errs,
		     calls_min, bytes, errors_ok ? "" : ", no errors");
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

	expect_row(P_A, K_PIPE, D_SEND, n, ns, false);
	expect_row(P_B, K_PIPE, D_RECV, n + 1, ns, false);	/* + the EOF read */
	expect_row(P_B, K_USTREAM, D_SEND, n, ns, false);
	expect_row(P_C, K_USTREAM, D_RECV, n, ns, false);
	expect_row(P_C, K_USTREAM, D_SEND, cr, nr, false);
	expect_row(P_B, K_USTREAM, D_RECV, cr, nr, false);
	expect_row(P_A, K_TCP, D_SEND, n, ns, false);
	expect_row(P_C, K_TCP, D_RECV, n, ns, false);
	expect_row(P_C, K_TCP, D_SEND, cr, nr, false);
	expect_row(P_A, K_TCP, D_RECV, cr, nr, false);
	if (!wake || wake->calls != 2 * n || wake->errors || wake->wakes > wake->calls ||
	    wake->woken != wake->wakes)
		fail("self-check: futex wake calls/wakes/woken wrong");
	if (!wait || wait->errors > wait->calls)
		fail("self-check: futex wait errors wrong");
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

static void report_proc(struct sbuf *b, enum role role, bool last)
{
	const struct proc *p = &sh->procs[role];
	const char *sep = "";
	int i;

	sb_printf(b, "  {\"pid\":%d,\"comm\":\"%s\",\"role\":\"%s\",\"boundaries\":[",
		  (int)p->pid, role_comms[role], role_names[role]);
	for (i = 0; i < p->nrows; i++) {
		const struct row *r = &p->rows[i];

		/* Like boundtrace: no row for a channel direction never used. */
		if (!r->calls)
			continue;
		sb_printf(b, "%s\n    {\"kind\":\"%s\",\"channel\":\"%s\",\"direction\":\"%s\","
			  "\"calls\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"errors\":%" PRIu64,
			  sep, kind_names[r->kind], r->chan, dir_names[r->dir],
			  r->calls, r->bytes, r->errors);
		if (r->kind == K_FUTEX)
			sb_printf(b, ",\"woken\":%" PRIu64, r->woken);
		sb_printf(b, "}");
		sep = ",";
	}
	sb_printf(b, "]}%s\n", last ? "" : ",");
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
	struct sbuf b = { .p = malloc(4096), .cap = 4096 };
	const struct row *wake = row_find(&sh->procs[P_C], K_FUTEX, D_WAKE);
	int fd = STDOUT_FILENO;
	size_t done;
	ssize_t n;

	if (!b.p)
		fail("out of memory");
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

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ipcmesh: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\ntry 'ipcmesh --help'\n", stderr);
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

enum { OPT_COUNT = 256, OPT_SIZE, OPT_REPLY, OPT_DELAY, OPT_HOLD, OPT_TIMEOUT, OPT_OUT };

static const struct option long_opts[] = {
	{ "count",	required_argument, NULL, OPT_COUNT },
	{ "size",	required_argument, NULL, OPT_SIZE },
	{ "reply-size",	required_argument, NULL, OPT_REPLY },
	{ "delay-ms",	required_argument, NULL, OPT_DELAY },
	{ "hold-ms",	required_argument, NULL, OPT_HOLD },
	{ "timeout",	required_argument, NULL, OPT_TIMEOUT },
	{ "out",	required_argument, NULL, OPT_OUT },
	{ "help",	no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_COUNT:	cfg.count = num(optarg, "count", 0, MAX_COUNT); break;
		case OPT_SIZE:	cfg.size = num(optarg, "size", 1, MAX_SIZE); break;
		case OPT_REPLY:	cfg.reply = num(optarg, "reply-size", 0, MAX_SIZE); break;
		case OPT_DELAY:	cfg.delay_ms = num(optarg, "delay-ms", 0, 86400000); break;
		case OPT_HOLD:	cfg.hold_ms = num(optarg, "hold-ms", 0, 86400000); break;
		case OPT_TIMEOUT:	cfg.timeout_s = num(optarg, "timeout", 0, 86400); break;
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
}

/*
 * Inherited descriptors (a harness's pipes, say) would be held by all three
 * processes and blur who holds which channel: keep only 0, 1 and 2.
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
	pid_a = getpid();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		sh = NULL;
		fail("mmap:");
	}
	signals_init();
	arm_watchdog();		/* set-up too: a lost child must not hang A */
	run_a();
	self_check();
	write_report();
	return 0;
}
