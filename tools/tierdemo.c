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
 * Server modes (chain's traffic, --clients connections at once, the way
 * real servers are written; "blocking" is another name for chain):
 *   epoll   the frontend's threads "frontend-I" each hold one connection
 *           and make --requests requests on it; the middle is one thread,
 *           an epoll loop on non-blocking sockets with one backend
 *           connection per client connection: it reads a request, sends
 *           the first call and goes back to the loop, so requests of
 *           different clients interleave on one thread (nginx, redis)
 *   pool    the middle's main thread reads the requests (epoll) and hands
 *           each, as an 8-byte job on a pipe, to one of --workers threads
 *           "middle-w-I", which makes the calls on the request's backend
 *           connection and writes the reply (php-fpm-like thread pools)
 *   The backend has a thread "backend-I" per connection. Non-blocking
 *   reads that find nothing (EAGAIN) are counted as errors, as boundtrace
 *   counts them.
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
#include <sched.h>

#define WL_PROG		"tierdemo"
#define MAX_CLIENTS	8
#define MAX_WORKERS	4
#define MAX_ROWS	(6 * MAX_CLIENTS + 2)
#include <sys/epoll.h>
#include "workload.h"

#define REQ_SIZE	64	/* frontend <-> middle, both ways */
#define CALL_SIZE	32	/* middle <-> backend, both ways */
#define FEED_SIZE	16	/* feeder -> lockholder */
#define MAX_COUNT	1000000000ul
#define MAX_CALLS	1000000ul
#define MAX_WORK_US	60000000ul
#define MAX_THREADS	(MAX_CLIENTS + 2)
#define PATH_LEN	sizeof(((struct sockaddr_un *)0)->sun_path)

/* ---- configuration (and wl: --delay-ms, --hold-ms, --timeout, --out) ---- */

enum mode { M_CHAIN, M_CACHE, M_ASYNC, M_FUTEX, M_EPOLL, M_POOL, M_NR };

static const char *const mode_names[M_NR] = {
	"chain", "cache", "async", "futex-chain", "epoll", "pool",
};

static struct {
	enum mode mode;
	unsigned long requests, calls, work_us, clients, workers;
	const char *sock;
} cfg = {
	.mode = M_CHAIN, .requests = 200, .calls = 3, .work_us = 200, .clients = 1,
	.workers = 2,
};

/* epoll and pool: several connections at once, each with its own backend one. */
static bool multi(void)
{
	return cfg.mode == M_EPOLL || cfg.mode == M_POOL;
}

enum role { R_FRONTEND, R_MIDDLE, R_BACKEND, R_LOCKHOLDER, R_FEEDER, R_NR };

/* The comm of each process is its role's name. */
static const char *const role_names[R_NR] = {
	"frontend", "middle", "backend", "lockholder", "feeder",
};

/* ---- shared state (MAP_SHARED, written before fork or by its owner) ---- */

struct thr {
	pid_t tid;
	char comm[16];
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
	/* epoll, pool: the i-th connection's unix ends, made one at a time */
	unsigned long fe_inos[MAX_CLIENTS], mid_inos[MAX_CLIENTS];
	int fe_conn[MAX_CLIENTS], mid_conn[MAX_CLIENTS];
	pid_t client_tids[MAX_CLIENTS];
	uint64_t eagain;		/* middle: reads that found nothing */
	struct proc procs[R_NR];
	int nthreads[R_NR];
	struct thr threads[R_NR][MAX_THREADS];
};

static struct shared *sh;
static enum role my_role;

static char sock_path[PATH_LEN];

/* ---- helpers ------------------------------------------------------------ */

/* The initial process removes the path, once the middle has bound it. */
static void unlink_sock(void)
{
	if (getpid() == wl.initial && sh &&
	    __atomic_load_n(&sh->unix_listening, __ATOMIC_ACQUIRE) &&
	    sock_path[0] && sock_path[0] != '@')
		unlink(sock_path);
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

/* ---- rows and measured calls ------------------------------------------------ */

/* A row of a unix socket's end, which the report names by its path too. */
static struct row *path_row(int kind, int dir, const char *chan)
{
	struct row *r = row_new(kind, dir, chan);

	r->path = true;
	return r;
}

/* This thread, by the name it has now. */
static void add_thread(void)
{
	struct thr *t;

	if (sh->nthreads[my_role] == MAX_THREADS)
		fail("too many threads");
	t = &sh->threads[my_role][sh->nthreads[my_role]++];
	t->tid = (pid_t)syscall(SYS_gettid);
	if (prctl(PR_GET_NAME, (unsigned long)t->comm, 0, 0, 0))
		fail("prctl(PR_GET_NAME):");
}

/* A new thread's start: its name, its tid in *tid and the report, then *named. */
static void thread_named(const char *name, pid_t *tid, int *named)
{
	set_name(name);
	*tid = (pid_t)syscall(SYS_gettid);
	add_thread();
	set_flag(named);
}

/* After the last message: one read, counted, that must see EOF. */
static void recv_eof(int fd, struct row *r, const char *what)
{
	char buf[REQ_SIZE];

	read_eof(fd, r, buf, sizeof(buf), what);
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
	die_with_parent();
}

/* A child is set up, its rows made: wait for the others, sleep --delay-ms, go. */
static void child_start(void)
{
	set_flag(&sh->ready[my_role]);
	wait_flag(&sh->go);
	start_traffic();
	set_flag(&sh->started[my_role]);
}

/*
 * The initial process, set up: once its children (roles a, and b unless
 * R_NR) are, let everyone go, and sleep --delay-ms with them. Its traffic
 * must not wait out the others' delay: it starts when they have.
 */
static void initial_start(enum role a, enum role b)
{
	wait_flag(&sh->ready[a]);
	if (b != R_NR)
		wait_flag(&sh->ready[b]);
	set_flag(&sh->ready[my_role]);
	set_flag(&sh->go);
	fprintf(stderr, "ready %d\n", (int)wl.initial);
	start_traffic();
	wait_flag(&sh->started[a]);
	if (b != R_NR)
		wait_flag(&sh->started[b]);
}

/* ---- backend ------------------------------------------------------------------- */

static void __attribute__((noreturn)) run_backend(void)
{
	char req[CALL_SIZE], reply[CALL_SIZE];
	char chan[CHAN_LEN];
	struct row *rx, *tx;
	uint64_t i, n, work = 0;
	int fd;

	child_init(R_BACKEND);
	memset(reply, 'b', sizeof(reply));
	fd = tcp_accept_one(SOCK_CLOEXEC, &sh->port, &sh->port_ready);
	tcp_channel(fd, chan);
	rx = row_new(K_TCP, D_RECV, chan);
	tx = row_new(K_TCP, D_SEND, chan);
	child_start();

	n = cfg.mode == M_CACHE ? 0 : (uint64_t)cfg.requests * cfg.calls;
	for (i = 0; i < n; i++) {
		read_all(fd, rx, req, sizeof(req), "tcp");
		work += busy_work(cfg.work_us);
		write_all(fd, tx, reply, sizeof(reply), "tcp");
	}
	/* The middle closes its end after its last call. */
	recv_eof(fd, rx, "tcp");
	close_fd(&fd);
	sh->work_ns = work;
	child_done(&sh->done[my_role]);
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
		write_all(mid_tcp, mid_tcp_tx, call, sizeof(call), "tcp");
		read_all(mid_tcp, mid_tcp_rx, reply, sizeof(reply), "tcp");
		__atomic_add_fetch(&sh->round_trips, 1, __ATOMIC_RELAXED);
	}
}

/* async: the middle's second thread, making the calls owed. */
static void *worker_main(void *arg)
{
	uint64_t i;

	(void)arg;
	thread_named("middle-async", &worker_tid, &worker_named);
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
	struct sockaddr_un sun;
	socklen_t slen = unix_addr(&sun, sock_path);
	struct row *urx, *utx;
	unsigned long i;
	int l, ufd;

	child_init(R_MIDDLE);
	memset(reply, 'm', sizeof(reply));
	snprintf(fe_stat, sizeof(fe_stat), "/proc/%d/stat", (int)wl.initial);

	l = unix_bound(SOCK_STREAM | SOCK_CLOEXEC, sock_path, &sun, slen);
	if (listen(l, 1))
		fail("listen:");
	set_flag(&sh->unix_listening);

	wait_flag(&sh->port_ready);
	mid_tcp = tcp_connect(SOCK_CLOEXEC, sh->port);
	tcp_channel(mid_tcp, chan);
	mid_tcp_tx = row_new(K_TCP, D_SEND, chan);
	mid_tcp_rx = row_new(K_TCP, D_RECV, chan);

	ufd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (ufd < 0)
		fail("accept:");
	close_fd(&l);
	sh->mid_ino = fd_ino(ufd);
	set_flag(&sh->mid_ino_ready);
	wait_flag(&sh->fe_ino_ready);
	unix_channel(chan, sh->mid_ino, sh->fe_ino);
	urx = path_row(K_USTREAM, D_RECV, chan);
	utx = path_row(K_USTREAM, D_SEND, chan);
	if (cfg.mode == M_ASYNC)
		start_thread(worker_main, &worker_named);
	child_start();

	for (i = 0; i < cfg.requests; i++) {
		read_all(ufd, urx, req, sizeof(req), "unix");
		switch (cfg.mode) {
		case M_CHAIN:
			/* The first call starts only inside the frontend's wait. */
			if (cfg.calls)
				wait_asleep(fe_stat);
			backend_calls();
			write_all(ufd, utx, reply, sizeof(reply), "unix");
			break;
		case M_CACHE:
			write_all(ufd, utx, reply, sizeof(reply), "unix");
			break;
		case M_ASYNC:
			write_all(ufd, utx, reply, sizeof(reply), "unix");
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
	child_done(&sh->done[my_role]);
}

/* ---- frontend ------------------------------------------------------------------ */

static void run_frontend(void)
{
	char req[REQ_SIZE], reply[REQ_SIZE], chan[CHAN_LEN];
	struct sockaddr_un sun;
	socklen_t slen = unix_addr(&sun, sock_path);
	struct row *tx, *rx;
	unsigned long i;
	uint64_t t0;
	int fd;

	become(R_FRONTEND);
	memset(req, 'f', sizeof(req));
	spawn(run_middle);		/* wl.kids[0] */
	spawn(run_backend);		/* wl.kids[1] */

	wait_flag(&sh->unix_listening);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail("socket:");
	if (connect(fd, (struct sockaddr *)&sun, slen))
		fail("connect %s:", sock_path);
	sh->fe_ino = fd_ino(fd);
	set_flag(&sh->fe_ino_ready);
	wait_flag(&sh->mid_ino_ready);
	unix_channel(chan, sh->fe_ino, sh->mid_ino);
	tx = path_row(K_USTREAM, D_SEND, chan);
	rx = path_row(K_USTREAM, D_RECV, chan);
	initial_start(R_MIDDLE, R_BACKEND);

	t0 = now_ns();
	for (i = 0; i < cfg.requests; i++) {
		write_all(fd, tx, req, sizeof(req), "unix");
		read_all(fd, rx, reply, sizeof(reply), "unix");
	}
	sh->elapsed_ns = now_ns() - t0;
	close_fd(&fd);			/* the middle reads EOF */
	initial_done();
	if (!sh->done[R_MIDDLE] || !sh->done[R_BACKEND])
		fail("a child exited without its report");
}

/* ---- server modes: epoll and pool ------------------------------------------------ */

struct conn {
	int ufd, bfd;			/* to the frontend's thread, to the backend */
	struct row *urx, *utx, *btx, *brx;
	char stat[64];			/* the client thread's /proc stat */
	char req[REQ_SIZE], call[CALL_SIZE];
	size_t got, bgot;		/* bytes of the request / the call's reply so far */
	unsigned long calls_done;
	bool open;
};

static struct conn conns[MAX_CLIENTS];
static int thread_index;		/* the index a starting thread takes */
static int index_taken;
static int threads_done[MAX_CLIENTS];
static pid_t thread_tids[MAX_CLIENTS];
static int clients_go;

/* A new thread's index and name NAME-I: it must be named before the next starts. */
static int take_index(const char *name)
{
	int i = __atomic_load_n(&thread_index, __ATOMIC_ACQUIRE);
	char comm[16];

	snprintf(comm, sizeof(comm), "%s-%d", name, i);
	thread_named(comm, &thread_tids[i], &index_taken);
	return i;
}

/* Start n threads running fn, one at a time so each takes its own index. */
static void start_indexed(void *(*fn)(void *), unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		__atomic_store_n(&index_taken, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&thread_index, (int)i, __ATOMIC_RELEASE);
		start_thread(fn, &index_taken);
	}
}

static void wait_indexed_gone(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		wait_thread_gone(&threads_done[i], thread_tids[i]);
}

/* Backend: one thread per connection, --calls per request of its client. */
static int backend_fds[MAX_CLIENTS];
static struct row *backend_rx[MAX_CLIENTS], *backend_tx[MAX_CLIENTS];

static void *backend_conn_main(void *arg)
{
	char req[CALL_SIZE], reply[CALL_SIZE];
	uint64_t k, work = 0;
	int i;

	(void)arg;
	i = take_index("backend");
	memset(reply, 'b', sizeof(reply));
	wait_flag(&sh->started[R_BACKEND]);
	for (k = 0; k < (uint64_t)cfg.requests * cfg.calls; k++) {
		read_all(backend_fds[i], backend_rx[i], req, sizeof(req), "tcp");
		work += busy_work(cfg.work_us);
		write_all(backend_fds[i], backend_tx[i], reply, sizeof(reply), "tcp");
	}
	recv_eof(backend_fds[i], backend_rx[i], "tcp");
	close_fd(&backend_fds[i]);
	__atomic_add_fetch(&sh->work_ns, work, __ATOMIC_RELAXED);
	thread_exit(&threads_done[i]);
	return NULL;
}

static void __attribute__((noreturn)) run_backend_multi(void)
{
	struct sockaddr_storage addr;
	socklen_t len = loopback(&addr, 0, false);
	char chan[CHAN_LEN];
	unsigned long i;
	int l;

	child_init(R_BACKEND);
	l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0)
		fail("socket:");
	if (bind(l, (struct sockaddr *)&addr, len) || listen(l, MAX_CLIENTS))
		fail("bind/listen 127.0.0.1:0:");
	if (getsockname(l, (struct sockaddr *)&addr, &len))
		fail("getsockname:");
	sh->port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
	set_flag(&sh->port_ready);
	for (i = 0; i < cfg.clients; i++) {
		backend_fds[i] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (backend_fds[i] < 0)
			fail("accept:");
		nodelay(backend_fds[i]);
		tcp_channel(backend_fds[i], chan);
		backend_rx[i] = row_new(K_TCP, D_RECV, chan);
		backend_tx[i] = row_new(K_TCP, D_SEND, chan);
	}
	close_fd(&l);
	start_indexed(backend_conn_main, cfg.clients);
	child_start();
	wait_indexed_gone(cfg.clients);
	child_done(&sh->done[my_role]);
}

/* Frontend: one thread per connection, --requests requests each. */
static int client_fds[MAX_CLIENTS];
static struct row *client_tx[MAX_CLIENTS], *client_rx[MAX_CLIENTS];

static void *client_main(void *arg)
{
	char req[REQ_SIZE], reply[REQ_SIZE];
	unsigned long k;
	int i;

	(void)arg;
	i = take_index("frontend");
	sh->client_tids[i] = thread_tids[i];
	memset(req, 'f', sizeof(req));
	wait_flag(&clients_go);
	for (k = 0; k < cfg.requests; k++) {
		write_all(client_fds[i], client_tx[i], req, sizeof(req), "unix");
		read_all(client_fds[i], client_rx[i], reply, sizeof(reply), "unix");
	}
	close_fd(&client_fds[i]);	/* the middle reads EOF */
	thread_exit(&threads_done[i]);
	return NULL;
}

static void run_frontend_multi(void (*middle)(void))
{
	struct sockaddr_un sun;
	socklen_t slen = unix_addr(&sun, sock_path);
	char chan[CHAN_LEN];
	unsigned long i;
	uint64_t t0;

	become(R_FRONTEND);
	spawn(middle);			/* wl.kids[0] */
	spawn(run_backend_multi);	/* wl.kids[1] */
	wait_flag(&sh->unix_listening);
	/* One connection at a time, so the middle's i-th accept is our i-th. */
	for (i = 0; i < cfg.clients; i++) {
		client_fds[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (client_fds[i] < 0)
			fail("socket:");
		if (connect(client_fds[i], (struct sockaddr *)&sun, slen))
			fail("connect %s:", sock_path);
		sh->fe_inos[i] = fd_ino(client_fds[i]);
		set_flag(&sh->fe_conn[i]);
		wait_flag(&sh->mid_conn[i]);
		unix_channel(chan, sh->fe_inos[i], sh->mid_inos[i]);
		client_tx[i] = path_row(K_USTREAM, D_SEND, chan);
		client_rx[i] = path_row(K_USTREAM, D_RECV, chan);
	}
	start_indexed(client_main, cfg.clients);
	initial_start(R_MIDDLE, R_BACKEND);
	t0 = now_ns();
	set_flag(&clients_go);
	wait_indexed_gone(cfg.clients);
	sh->elapsed_ns = now_ns() - t0;
	initial_done();
	if (!sh->done[R_MIDDLE] || !sh->done[R_BACKEND])
		fail("a child exited without its report");
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK))
		fail("fcntl O_NONBLOCK:");
}

/* The middle's set-up: the listener, the i-th accept per client, its backend connection. */
static void middle_conns(void)
{
	struct sockaddr_un sun;
	socklen_t slen = unix_addr(&sun, sock_path);
	char chan[CHAN_LEN];
	unsigned long i;
	int l;

	l = unix_bound(SOCK_STREAM | SOCK_CLOEXEC, sock_path, &sun, slen);
	if (listen(l, MAX_CLIENTS))
		fail("listen:");
	set_flag(&sh->unix_listening);
	wait_flag(&sh->port_ready);
	for (i = 0; i < cfg.clients; i++) {
		struct conn *c = &conns[i];

		c->bfd = tcp_connect(SOCK_CLOEXEC, sh->port);
		tcp_channel(c->bfd, chan);
		c->btx = row_new(K_TCP, D_SEND, chan);
		c->brx = row_new(K_TCP, D_RECV, chan);
		wait_flag(&sh->fe_conn[i]);
		c->ufd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (c->ufd < 0)
			fail("accept:");
		sh->mid_inos[i] = fd_ino(c->ufd);
		set_flag(&sh->mid_conn[i]);
		unix_channel(chan, sh->mid_inos[i], sh->fe_inos[i]);
		c->urx = path_row(K_USTREAM, D_RECV, chan);
		c->utx = path_row(K_USTREAM, D_SEND, chan);
		memset(c->call, 'c', sizeof(c->call));
		c->open = true;
	}
	close_fd(&l);
}

/* An epoll set on the client connections (and, for epoll, the backend ones). */
static int middle_epoll(bool backends)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		fail("epoll_create1:");
	for (unsigned long i = 0; i < cfg.clients; i++) {
		set_nonblock(conns[i].ufd);
		ev.data.u32 = (uint32_t)(2 * i);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].ufd, &ev))
			fail("epoll_ctl:");
		if (!backends)
			continue;
		set_nonblock(conns[i].bfd);
		ev.data.u32 = (uint32_t)(2 * i + 1);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].bfd, &ev))
			fail("epoll_ctl:");
	}
	return ep;
}

/* Wait for readiness; a failure elsewhere is noticed within 100 ms. */
static int middle_wait(int ep, struct epoll_event *evs, int n)
{
	int got;

	do {
		check_failed();
		got = epoll_wait(ep, evs, n, 100);
	} while (got == 0 || (got < 0 && errno == EINTR));
	if (got < 0)
		fail("epoll_wait:");
	return got;
}

/* One non-blocking read into buf+*got; -1: nothing there yet, 0: EOF. */
static ssize_t read_some(int fd, struct row *r, char *buf, size_t *got, size_t len)
{
	ssize_t n = read(fd, buf + *got, len - *got);

	account(r, n);
	if (n < 0 && errno == EAGAIN) {
		__atomic_add_fetch(&sh->eagain, 1, __ATOMIC_RELAXED);
		return -1;
	}
	if (n < 0)
		fail("read:");
	*got += (size_t)n;
	return n;
}

/* A client closed its connection (a read saw EOF): one less open. */
static void conn_closed(struct conn *c, int ep, unsigned long *open)
{
	if (c->got)
		fail("EOF in the middle of a request");
	if (epoll_ctl(ep, EPOLL_CTL_DEL, c->ufd, NULL))
		fail("epoll_ctl:");
	close_fd(&c->ufd);
	c->open = false;
	(*open)--;
}

static void conn_reply(struct conn *c)
{
	char reply[REQ_SIZE];

	memset(reply, 'm', sizeof(reply));
	write_all(c->ufd, c->utx, reply, sizeof(reply), "unix");
}

static void conn_call(struct conn *c)
{
	write_all(c->bfd, c->btx, c->call, sizeof(c->call), "tcp");
}

static void __attribute__((noreturn)) run_middle_epoll(void)
{
	struct epoll_event evs[2 * MAX_CLIENTS];
	char reply[CALL_SIZE];
	unsigned long open = cfg.clients, i;
	int ep, n, e;

	child_init(R_MIDDLE);
	middle_conns();
	ep = middle_epoll(true);
	child_start();
	for (i = 0; i < cfg.clients; i++)
		snprintf(conns[i].stat, sizeof(conns[i].stat), "/proc/%d/task/%d/stat",
			 (int)wl.initial, (int)sh->client_tids[i]);
	while (open) {
		n = middle_wait(ep, evs, 2 * MAX_CLIENTS);
		for (e = 0; e < n; e++) {
			struct conn *c = &conns[evs[e].data.u32 / 2];
			ssize_t r;

			if (!(evs[e].data.u32 & 1)) {		/* a request, or EOF */
				if (!c->open)
					continue;
				r = read_some(c->ufd, c->urx, c->req, &c->got, sizeof(c->req));
				if (r == 0)
					conn_closed(c, ep, &open);
				if (r <= 0 || c->got < sizeof(c->req))
					continue;
				c->got = 0;
				c->calls_done = 0;
				if (!cfg.calls) {
					conn_reply(c);
					continue;
				}
				/* The first call starts only inside the client's wait. */
				wait_asleep(c->stat);
				conn_call(c);
				continue;
			}
			r = read_some(c->bfd, c->brx, reply, &c->bgot, sizeof(reply));
			if (r == 0)
				fail("the backend closed a connection");
			if (r < 0 || c->bgot < sizeof(reply))
				continue;
			c->bgot = 0;
			__atomic_add_fetch(&sh->round_trips, 1, __ATOMIC_RELAXED);
			if (++c->calls_done < cfg.calls)
				conn_call(c);
			else
				conn_reply(c);
		}
	}
	close_fd(&ep);
	for (i = 0; i < cfg.clients; i++)
		close_fd(&conns[i].bfd);	/* the backend reads EOF */
	child_done(&sh->done[my_role]);
}

/* pool: the job pipe from the main thread to the workers. */
#define JOB_STOP	UINT64_MAX
static int job_pipe[2] = { -1, -1 };
static struct row *job_tx, *job_rx;
static struct row worker_rx[MAX_WORKERS];	/* summed into job_rx at the end */
static int workers_go;

static void *worker_pool_main(void *arg)
{
	uint64_t job;
	int w;

	(void)arg;
	w = take_index("middle-w");
	wait_flag(&workers_go);
	for (;;) {
		read_all(job_pipe[0], &worker_rx[w], (char *)&job, sizeof(job), "pipe");
		if (job == JOB_STOP)
			break;
		if (job >= cfg.clients)
			fail("bad job %" PRIu64, job);
		struct conn *c = &conns[job];
		char reply[CALL_SIZE];

		if (cfg.calls)
			wait_asleep(c->stat);
		for (unsigned long k = 0; k < cfg.calls; k++) {
			conn_call(c);
			read_all(c->bfd, c->brx, reply, sizeof(reply), "tcp");
			__atomic_add_fetch(&sh->round_trips, 1, __ATOMIC_RELAXED);
		}
		conn_reply(c);
	}
	thread_exit(&threads_done[w]);
	return NULL;
}

static void __attribute__((noreturn)) run_middle_pool(void)
{
	struct epoll_event evs[MAX_CLIENTS];
	unsigned long open = cfg.clients, i;
	char chan[CHAN_LEN];
	uint64_t job;
	int ep, n, e;

	child_init(R_MIDDLE);
	middle_conns();
	if (pipe2(job_pipe, O_CLOEXEC))
		fail("pipe:");
	pipe_channel(chan, job_pipe[0]);
	job_tx = row_new(K_PIPE, D_SEND, chan);
	job_rx = row_new(K_PIPE, D_RECV, chan);
	ep = middle_epoll(false);
	start_indexed(worker_pool_main, cfg.workers);
	child_start();
	for (i = 0; i < cfg.clients; i++)
		snprintf(conns[i].stat, sizeof(conns[i].stat), "/proc/%d/task/%d/stat",
			 (int)wl.initial, (int)sh->client_tids[i]);
	set_flag(&workers_go);
	while (open) {
		n = middle_wait(ep, evs, MAX_CLIENTS);
		for (e = 0; e < n; e++) {
			struct conn *c = &conns[evs[e].data.u32 / 2];
			ssize_t r;

			if (!c->open)
				continue;
			r = read_some(c->ufd, c->urx, c->req, &c->got, sizeof(c->req));
			if (r == 0)
				conn_closed(c, ep, &open);
			if (r <= 0 || c->got < sizeof(c->req))
				continue;
			c->got = 0;
			job = (uint64_t)(c - conns);
			write_all(job_pipe[1], job_tx, (char *)&job, sizeof(job), "pipe");
		}
	}
	job = JOB_STOP;
	for (i = 0; i < cfg.workers; i++)
		write_all(job_pipe[1], job_tx, (char *)&job, sizeof(job), "pipe");
	wait_indexed_gone(cfg.workers);
	for (i = 0; i < cfg.workers; i++) {
		job_rx->calls += worker_rx[i].calls;
		job_rx->bytes += worker_rx[i].bytes;
		job_rx->errors += worker_rx[i].errors;
	}
	close_fd(&ep);
	close_fd(&job_pipe[0]);
	close_fd(&job_pipe[1]);
	for (i = 0; i < cfg.clients; i++)
		close_fd(&conns[i].bfd);	/* the backend reads EOF */
	child_done(&sh->done[my_role]);
}

/* ---- futex-chain ----------------------------------------------------------------- */

static struct fword lock_word;		/* 0 free, 1 locked, 2 locked and contended */
static int pipe_fd[2] = { -1, -1 };	/* [0]: lockholder reads, [1]: feeder writes */
static char pipe_chan[CHAN_LEN];
static struct fstats st_waiter, st_holder;	/* summed into the rows once both are gone */
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

/* Drepper's mutex ("Futexes Are Tricky", mutex 2), the shape of glibc's. */
static void lock(struct fstats *s)
{
	uint32_t c = cmpxchg(&lock_word.word, 0, 1);

	if (!c)
		return;
	if (c != 2)
		c = __atomic_exchange_n(&lock_word.word, 2, __ATOMIC_ACQUIRE);
	while (c) {
		/* A contended lock: sleep in FUTEX_WAIT while the word says 2. */
		futex_wait(&lock_word.word, 2, s);
		c = __atomic_exchange_n(&lock_word.word, 2, __ATOMIC_ACQUIRE);
	}
}

static void unlock(struct fstats *s)
{
	if (__atomic_fetch_sub(&lock_word.word, 1, __ATOMIC_RELEASE) != 1) {
		__atomic_store_n(&lock_word.word, 0, __ATOMIC_RELEASE);
		futex_wake(&lock_word.word, s);
	}
}

/* T1: each round, try the lock while the holder has it, sleep, get it, drop it. */
static void *waiter_main(void *arg)
{
	uint64_t i;

	(void)arg;
	thread_named("waiter", &waiter_tid, &waiter_named);
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
	thread_named("holder", &holder_tid, &holder_named);
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
		read_all(pipe_fd[0], holder_rx, buf, sizeof(buf), "pipe");
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
	tx = row_new(K_PIPE, D_SEND, pipe_chan);
	child_start();

	for (i = 0; i < cfg.requests; i++) {
		SPIN_UNTIL(load64(&sh->feed_go) > i);
		work += busy_work(cfg.work_us);
		write_all(pipe_fd[1], tx, buf, sizeof(buf), "pipe");
	}
	close_fd(&pipe_fd[1]);		/* the holder reads EOF */
	sh->work_ns = work;
	child_done(&sh->done[my_role]);
}

static void run_lockholder(void)
{
	become(R_LOCKHOLDER);
	if (pipe2(pipe_fd, O_CLOEXEC))
		fail("pipe:");
	pipe_channel(pipe_chan, pipe_fd[0]);
	spawn(run_feeder);		/* wl.kids[0] */
	close_fd(&pipe_fd[1]);
	holder_rx = row_new(K_PIPE, D_RECV, pipe_chan);
	start_thread(waiter_main, &waiter_named);
	start_thread(holder_main, &holder_named);
	initial_start(R_FEEDER, R_NR);
	set_flag(&threads_go);

	/* The main thread idles: it only waits for both threads to be gone. */
	wait_thread_gone(&waiter_done, waiter_tid);
	wait_thread_gone(&holder_done, holder_tid);
	futex_rows(&lock_word.word, &st_waiter, &st_holder);
	sh->blocked_rounds = st_waiter.slept;
	close_fd(&pipe_fd[0]);
	initial_done();
	if (!sh->done[R_FEEDER])
		fail("the feeder exited without its report");
}

/* ---- checks and report --------------------------------------------------------- */

static void expect(enum role p, int kind, int dir, uint64_t calls_min, uint64_t bytes)
{
	expect_row(&sh->procs[p], role_names[p], kind, dir, calls_min, bytes);
}

/*
 * Cross-check the rows against what the traffic must have moved, so a
 * counting slip fails the run instead of silently becoming ground truth.
 */
/* The sum of a process's rows of one kind and direction. */
static struct row row_sum(enum role p, int kind, int dir)
{
	const struct proc *pr = &sh->procs[p];
	struct row sum = { .kind = kind, .dir = dir };

	for (int i = 0; i < pr->nrows; i++) {
		if (pr->rows[i].kind != kind || pr->rows[i].dir != dir)
			continue;
		sum.calls += pr->rows[i].calls;
		sum.bytes += pr->rows[i].bytes;
		sum.errors += pr->rows[i].errors;
	}
	return sum;
}

/* calls at least calls_min, bytes exact, errors only where reads may find nothing. */
static void expect_sum(enum role p, int kind, int dir, uint64_t calls_min, uint64_t bytes,
		       bool eagain_ok)
{
	struct row r = row_sum(p, kind, dir);

	if (r.calls < calls_min || r.bytes != bytes || (r.errors && !eagain_ok))
		fail("self-check: %s %s %s: calls %" PRIu64 " bytes %" PRIu64 " errors %" PRIu64
		     ", expected >= %" PRIu64 " calls, %" PRIu64 " bytes",
		     role_names[p], kind_names[kind], dir_names[dir], r.calls, r.bytes,
		     r.errors, calls_min, bytes);
}

static void self_check_multi(void)
{
	uint64_t c = cfg.clients, n = cfg.requests * c, nk = n * cfg.calls;
	uint64_t jobs = n + cfg.workers;

	expect_sum(R_FRONTEND, K_USTREAM, D_SEND, n, n * REQ_SIZE, false);
	expect_sum(R_FRONTEND, K_USTREAM, D_RECV, n, n * REQ_SIZE, false);
	expect_sum(R_MIDDLE, K_USTREAM, D_RECV, n + c, n * REQ_SIZE, true);
	expect_sum(R_MIDDLE, K_USTREAM, D_SEND, n, n * REQ_SIZE, false);
	expect_sum(R_MIDDLE, K_TCP, D_SEND, nk, nk * CALL_SIZE, false);
	expect_sum(R_MIDDLE, K_TCP, D_RECV, nk, nk * CALL_SIZE, cfg.mode == M_EPOLL);
	expect_sum(R_BACKEND, K_TCP, D_RECV, nk + c, nk * CALL_SIZE, false);
	expect_sum(R_BACKEND, K_TCP, D_SEND, nk, nk * CALL_SIZE, false);
	if (cfg.mode == M_POOL) {
		expect_sum(R_MIDDLE, K_PIPE, D_SEND, jobs, jobs * sizeof(uint64_t), false);
		expect_sum(R_MIDDLE, K_PIPE, D_RECV, jobs, jobs * sizeof(uint64_t), false);
	}
	if (sh->round_trips != nk)
		fail("self-check: %" PRIu64 " calls to the backend, expected %" PRIu64,
		     sh->round_trips, nk);
}

static void self_check(void)
{
	uint64_t n = cfg.requests, nk = cfg.mode == M_CACHE ? 0 : n * cfg.calls;
	const struct row *r;

	if (multi()) {
		self_check_multi();
		return;
	}

	if (cfg.mode == M_FUTEX) {
		expect(R_FEEDER, K_PIPE, D_SEND, n, n * FEED_SIZE);
		expect(R_LOCKHOLDER, K_PIPE, D_RECV, n + 1, n * FEED_SIZE);
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
	expect(R_FRONTEND, K_USTREAM, D_SEND, n, n * REQ_SIZE);
	expect(R_FRONTEND, K_USTREAM, D_RECV, n, n * REQ_SIZE);
	expect(R_MIDDLE, K_USTREAM, D_RECV, n + 1, n * REQ_SIZE);	/* + the EOF read */
	expect(R_MIDDLE, K_USTREAM, D_SEND, n, n * REQ_SIZE);
	expect(R_MIDDLE, K_TCP, D_SEND, nk, nk * CALL_SIZE);
	expect(R_MIDDLE, K_TCP, D_RECV, nk, nk * CALL_SIZE);
	expect(R_BACKEND, K_TCP, D_RECV, nk + 1, nk * CALL_SIZE);	/* + the EOF read */
	expect(R_BACKEND, K_TCP, D_SEND, nk, nk * CALL_SIZE);
	if (sh->round_trips != nk)
		fail("self-check: %" PRIu64 " calls to the backend, expected %" PRIu64,
		     sh->round_trips, nk);
}

static void report_proc(struct sbuf *b, enum role role, bool last)
{
	int i;

	sb_proc(b, &sh->procs[role], role_names[role], role_names[role]);
	sb_printf(b, "\"threads\":[");
	for (i = 0; i < sh->nthreads[role]; i++)
		sb_printf(b, "%s{\"tid\":%d,\"comm\":\"%s\"}", i ? "," : "",
			  (int)sh->threads[role][i].tid, sh->threads[role][i].comm);
	sb_printf(b, "],");
	sb_boundaries(b, &sh->procs[role], sock_path, false, last);
}

/* One hop: from waits on its recv (wait) end of channel, to ends the wait. */
static void report_hop(struct sbuf *b, enum role from, pid_t from_tid, enum role to,
		       pid_t to_tid, int kind, int dir, bool last)
{
	/* epoll, pool: the hop is made by several threads ("threads" has them). */
	if (multi())
		from_tid = to_tid = 0;
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
	bool backend_hop = (cfg.mode == M_CHAIN || multi()) && cfg.calls;
	pid_t fe = sh->procs[R_FRONTEND].pid, mid = sh->procs[R_MIDDLE].pid;
	struct sbuf b;

	sb_init(&b);
	sb_printf(&b, "{\"mode\":\"%s\",\"requests\":%lu,\"calls\":%lu,\"work_us\":%lu,"
		  "\"clients\":%lu,\"requests_per_client\":%lu,\"workers\":%lu,\"eagain\":%" PRIu64 ",",
		  mode_names[cfg.mode], cfg.requests * cfg.clients, cfg.calls, cfg.work_us,
		  cfg.clients, cfg.requests, cfg.mode == M_POOL ? cfg.workers : 0ul, sh->eagain);
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
	sb_flush(&b);
}

static void summary(void)
{
	double ms = sh->elapsed_ns / 1e6, work = sh->work_ns / 1e6;

	if (cfg.mode == M_FUTEX)
		fprintf(stderr, "tierdemo: futex-chain, %lu rounds in %.1f ms, waiter blocked on "
			"the lock %" PRIu64 " times, feeder worked %.1f ms\n",
			cfg.requests, ms, sh->blocked_rounds, work);
	else
		fprintf(stderr, "tierdemo: %s, %lu requests from %lu client%s in %.1f ms, middle "
			"made %" PRIu64 " calls to backend (%" PRIu64 " reads found nothing), "
			"backend worked %.1f ms\n", mode_names[cfg.mode], cfg.requests * cfg.clients,
			cfg.clients, cfg.clients == 1 ? "" : "s", ms, sh->round_trips, sh->eagain, work);
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
"                      blocking the same as chain: a blocking middle, one client\n"
"                      epoll    chain's traffic from --clients threads at once; the\n"
"                               middle is one epoll loop on non-blocking sockets\n"
"                      pool     the same; the middle's main thread hands each\n"
"                               request through a pipe to --workers threads\n"
"  --requests N        requests per client (futex-chain: rounds) [200]\n"
"  --clients N         epoll, pool: frontend threads, one connection each [4]\n"
"  --workers N         pool: the middle's worker threads [2]\n"
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

enum { OPT_REQUESTS = 256, OPT_CALLS, OPT_WORK, OPT_MODE, OPT_SOCK, OPT_CLIENTS, OPT_WORKERS };

static const struct option long_opts[] = {
	{ "requests",	required_argument, NULL, OPT_REQUESTS },
	{ "calls",	required_argument, NULL, OPT_CALLS },
	{ "work-us",	required_argument, NULL, OPT_WORK },
	{ "mode",	required_argument, NULL, OPT_MODE },
	{ "sock",	required_argument, NULL, OPT_SOCK },
	{ "clients",	required_argument, NULL, OPT_CLIENTS },
	{ "workers",	required_argument, NULL, OPT_WORKERS },
	COMMON_LONG_OPTS,
};

static enum mode parse_mode(const char *s)
{
	int m = strcmp(s, "blocking") ? name_index(mode_names, M_NR, s) : M_CHAIN;

	if (m < 0)
		usage_error("--mode: want chain (blocking), cache, async, futex-chain, epoll "
			    "or pool, got '%s'", s);
	return m;
}

static void parse_args(int argc, char **argv)
{
	bool clients_set = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_REQUESTS: cfg.requests = num(optarg, "requests", 0, MAX_COUNT); break;
		case OPT_CALLS:	cfg.calls = num(optarg, "calls", 0, MAX_CALLS); break;
		case OPT_WORK:	cfg.work_us = num(optarg, "work-us", 0, MAX_WORK_US); break;
		case OPT_MODE:	cfg.mode = parse_mode(optarg); break;
		case OPT_SOCK:	cfg.sock = optarg; break;
		case OPT_CLIENTS:
			cfg.clients = num(optarg, "clients", 1, MAX_CLIENTS);
			clients_set = true;
			break;
		case OPT_WORKERS: cfg.workers = num(optarg, "workers", 1, MAX_WORKERS); break;
		default:	common_opt(c, usage_text);
		}
	}
	if (optind != argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (multi() && !clients_set)
		cfg.clients = 4;
	if (!multi() && cfg.clients != 1)
		usage_error("--clients: only epoll and pool serve several clients");
	if (cfg.sock && cfg.mode == M_FUTEX)
		usage_error("--sock: futex-chain has no socket");
	if (cfg.sock && (!cfg.sock[0] || !strcmp(cfg.sock, "@") || strlen(cfg.sock) >= PATH_LEN))
		usage_error("--sock: empty or longer than %zu bytes", PATH_LEN - 1);
	if (cfg.mode != M_FUTEX && cfg.mode != M_CACHE &&
	    cfg.requests * cfg.calls * cfg.clients > MAX_COUNT)
		usage_error("--requests times --calls: more than %lu calls", MAX_COUNT);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	close_inherited();
	wl.initial = getpid();
	if (cfg.sock)
		snprintf(sock_path, sizeof(sock_path), "%s", cfg.sock);
	else if (cfg.mode != M_FUTEX)
		snprintf(sock_path, sizeof(sock_path), "/tmp/tierdemo-%d.sock", (int)wl.initial);
	sh = map_shared(sizeof(*sh));
	wl.failed = &sh->failed;
	wl.cleanup = unlink_sock;
	signals_init();
	arm_watchdog();		/* set-up too: a lost child must not hang us */
	if (cfg.mode == M_FUTEX)
		run_lockholder();
	else if (cfg.mode == M_EPOLL)
		run_frontend_multi(run_middle_epoll);
	else if (cfg.mode == M_POOL)
		run_frontend_multi(run_middle_pool);
	else
		run_frontend();
	unlink_sock();
	self_check();
	write_report();
	summary();
	return 0;
}
