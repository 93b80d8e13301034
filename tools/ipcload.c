// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * ipcload - IPC workload generator for the boundtrace integration tests.
 *
 * It drives one kind of IPC channel with a known pattern and reports, as
 * JSON, every syscall it made on that channel (calls, bytes, errors) per
 * process, channel and direction. That report is the ground truth the
 * tests compare boundtrace against, so every call is counted where it
 * returns, success or error, and nothing else touches the channel.
 *
 * Process layout (every mode but futex), fixed so tests can rely on it:
 *
 *   initial process  "ipc-client"  client 0: sleeps --delay-ms, creates every
 *                                  channel, forks, sends, waits, reports
 *   clients 1..C-1   "ipc-client"  forked first, in index order
 *   server           "ipc-server"  forked last, so it knows every client pid
 *
 * All channels are made by the initial process after the delay and before
 * it forks (listen/connect/accept included), so a tracer attached with -p
 * during the delay sees every process born and every channel created. Each
 * process then closes the ends it does not use. The server makes its
 * --eagain probes, then starts the clients with SIGUSR1 (a signal, so no
 * extra channel shows up in a trace). Children report through a MAP_SHARED
 * mapping and their exit status, never through the measured channel.
 *
 * Which sockets exist:
 *   pipe         one data pipe written by every client; with replies (one
 *                client only) a second pipe carries them back
 *   unix-*       a socketpair per client, or with --path one connection per
 *                client (stream) / one server socket bound to PATH that every
 *                client connects to (dgram; the server end is unconnected)
 *   tcp          one connection per client, accepted from a loopback listener
 *   udp          --api send/msg: one unconnected server socket for all
 *                clients, unconnected clients naming it in every call (one
 *                server row per client address); rw/vec/mmsg: a connected
 *                server socket per client, all on the same port
 * A server with one socket per client serves them one after the other.
 *
 * futex mode runs in the initial process alone ("ipcload"): T/2 pairs of
 * threads "futex-ping"/"futex-pong", each pair ping-ponging on its own word.
 */
#include <sys/sendfile.h>
#include <sys/uio.h>

#define MAX_CLIENTS	64
#define MAX_THREADS	64
#define MAX_BATCH	1024		/* UIO_MAXIOV, the kernel's vlen limit */
#define MAX_SIZE	(1u << 20)
#define MAX_READ	(16u << 20)
#define MAX_COUNT	1000000000ul
#define MAX_ROWS	(2 * MAX_CLIENTS + 8)	/* udp server: 2 per client + eagain */
#define MAX_KIDS	MAX_CLIENTS		/* clients 1..C-1 and the server */

#define WL_PROG		"ipcload"
#include "workload.h"

/* ---- configuration (and wl: --delay-ms, --hold-ms, --timeout, --out) ---- */

/* One mode per boundary kind, which is the mode's kind. */
enum mode {
	M_PIPE = K_PIPE, M_USTREAM = K_USTREAM, M_UDGRAM = K_UDGRAM, M_TCP = K_TCP,
	M_UDP = K_UDP, M_FUTEX = K_FUTEX, M_NR = K_NR,
};

static const char *const mode_names[M_NR] = {
	"pipe", "unix-stream", "unix-dgram", "tcp", "udp", "futex",
};

enum api { A_RW, A_VEC, A_SEND, A_MSG, A_MMSG, A_SPLICE, A_SENDFILE, A_NR };

static const char *const api_names[A_NR] = {
	"rw", "vec", "send", "msg", "mmsg", "splice", "sendfile",
};

/* Syscall names per api and side, for error messages. */
static const char *const send_names[A_NR] = {
	"write", "writev", "sendto", "sendmsg", "sendmmsg", "vmsplice", "sendfile",
};
static const char *const recv_names[A_NR] = {
	"read", "readv", "recvfrom", "recvmsg", "recvmmsg", "tee", "read",
};

#define B(a)	(1u << (a))
static const unsigned api_ok[M_NR] = {
	[M_PIPE]	= B(A_RW) | B(A_VEC) | B(A_SPLICE),
	[M_USTREAM]	= B(A_RW) | B(A_VEC) | B(A_SEND) | B(A_MSG) | B(A_MMSG) | B(A_SENDFILE),
	[M_UDGRAM]	= B(A_RW) | B(A_VEC) | B(A_SEND) | B(A_MSG) | B(A_MMSG),
	[M_TCP]		= B(A_RW) | B(A_VEC) | B(A_SEND) | B(A_MSG) | B(A_MMSG) | B(A_SENDFILE),
	[M_UDP]		= B(A_RW) | B(A_VEC) | B(A_SEND) | B(A_MSG) | B(A_MMSG),
	[M_FUTEX]	= B(A_RW),
};
#undef B

enum role { R_CLIENT, R_SERVER, R_FUTEX };

static const char *const role_names[] = { "client", "server", "futex" };
static const char *const role_comms[] = { "ipc-client", "ipc-server", "ipcload" };

static struct {
	enum mode mode;
	enum api api;
	unsigned long count;
	size_t size, reply, rsize;
	unsigned batch, eagain, threads, clients, port;
	unsigned long rate;	/* messages per second per client, 0: as fast as it can */
	bool ipv6;
	const char *path;
} cfg = {
	.count = 1000, .size = 100, .batch = 8, .threads = 2, .clients = 1,
};

/* ---- processes and their rows -------------------------------------------- */

static struct proc *procs;	/* MAP_SHARED: clients 0..C-1, then the server */
static pid_t client_pids[MAX_CLIENTS];

/*
 * SIGUSR1 is the start signal. Blocked everywhere, it is only ever taken
 * by sigwait(), so it can never interrupt (and restart) a measured call.
 */
static void block_start_signal(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		fail("sigprocmask:");
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ---- channel ends ------------------------------------------------------- */

#define OWN_SERVER	(-1)
#define OWN_CLIENTS	(-2)	/* every client: the data pipe's write end */

struct end {
	int fd;
	int owner;		/* client index, OWN_SERVER or OWN_CLIENTS */
	int kind;
	bool stream;		/* byte stream: pipe, unix_stream, tcp */
	bool unconnected;	/* datagram socket with no peer of its own */
	bool per_remote;	/* unconnected udp: one row per remote address */
	socklen_t dstlen;
	struct sockaddr_storage local;	/* per_remote: own address */
	struct sockaddr_storage dst;	/* unconnected client: the server */
	char chan[CHAN_LEN];		/* the channel, unless per_remote */
	struct row *row[2];		/* cached send/recv rows, this process */
};

static struct end ends[3 * MAX_CLIENTS + 8];
static int nends;

/* What one process uses to talk on one channel. */
struct link {
	struct end *tx, *rx;
};

static struct link clink[MAX_CLIENTS];	/* client i's ends */
static struct link slink[MAX_CLIENTS];	/* server ends, one link per socket */
static int nslink;
static int tmp_fd = -1;			/* sendfile source, clients only */

static struct end *new_end(int fd, int owner, bool stream)
{
	struct end *e;

	if (nends == (int)(sizeof(ends) / sizeof(ends[0])))
		fail("too many channel ends");
	e = &ends[nends++];
	e->fd = fd;
	e->owner = owner;
	e->kind = cfg.mode;
	e->stream = stream;
	return e;
}

/* A pipe: its read end for rd_owner, its write end for wr_owner. */
static void new_pipe(struct end **rd, struct end **wr, int rd_owner, int wr_owner)
{
	int p[2];

	if (pipe(p))
		fail("pipe:");
	*rd = new_end(p[0], rd_owner, true);
	*wr = new_end(p[1], wr_owner, true);
	pipe_channel((*rd)->chan, p[0]);
	pipe_channel((*wr)->chan, p[1]);
}

static void unix_chan(struct end *e, unsigned long peer_ino)
{
	unix_channel(e->chan, fd_ino(e->fd), peer_ino);
}

/* "tcp:LADDR:LPORT->RADDR:RPORT"; no peer means the unspecified address. */
static void inet_chan(char *buf, const struct end *e, const struct sockaddr_storage *peer)
{
	struct sockaddr_storage none = { .ss_family = e->local.ss_family };

	inet_channel(buf, kind_names[e->kind], &e->local, peer ? peer : &none);
}

static void get_local(int fd, struct sockaddr_storage *ss)
{
	socklen_t len = sizeof(*ss);

	if (getsockname(fd, (struct sockaddr *)ss, &len))
		fail("getsockname:");
}

static void inet_end_chan(struct end *e)
{
	struct sockaddr_storage peer;

	sock_ends(e->fd, &e->local, &peer, sizeof(peer));
	inet_chan(e->chan, e, &peer);
}

/*
 * The row a call on e is counted in. An unconnected udp socket has one
 * per remote address: the receiver of a send, the sender of a receive,
 * or none (0.0.0.0:0) when a receive failed and so named nobody.
 */
static struct row *end_row(struct end *e, int dir, const struct sockaddr_storage *peer)
{
	char chan[CHAN_LEN];

	if (!e->per_remote) {
		if (!e->row[dir])
			e->row[dir] = row_get(e->kind, e->chan, dir);
		return e->row[dir];
	}
	inet_chan(chan, e, peer);
	return row_get(e->kind, chan, dir);
}

static void account_end(struct end *e, int dir, const struct sockaddr_storage *peer, long ret)
{
	int err = errno;

	account(end_row(e, dir, peer), ret);
	errno = err;
}

/* ---- channel setup (initial process, before fork) ---------------------- */

static void setup_pipe(void)
{
	struct end *rd, *wr;
	unsigned i;

	new_pipe(&rd, &wr, OWN_SERVER, OWN_CLIENTS);
	slink[0].rx = rd;
	nslink = 1;
	for (i = 0; i < cfg.clients; i++)
		clink[i].tx = wr;
	if (!cfg.reply)
		return;
	/* Replies go back on a second pipe (one client only, see parse). */
	new_pipe(&clink[0].rx, &slink[0].tx, 0, OWN_SERVER);
}

/* A unix datagram longer than the sender's buffer fails with EMSGSIZE. */
static void unix_dgram_room(int fd)
{
	size_t big = cfg.size > cfg.reply ? cfg.size : cfg.reply;
	int want = (int)(2 * big + 65536), cur;
	socklen_t len = sizeof(cur);

	if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &cur, &len))
		fail("getsockopt(SO_SNDBUF):");
	if (cur >= want)
		return;
	/* FORCE needs CAP_NET_ADMIN; otherwise take what wmem_max allows. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &want, sizeof(want)) &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof(want)))
		fail("setsockopt(SO_SNDBUF):");
}

static void link_both(struct link *l, struct end *e)
{
	l->tx = e;
	l->rx = e;
}

static void setup_socketpair(int type)
{
	struct end *c, *s;
	unsigned i;
	int sv[2];

	for (i = 0; i < cfg.clients; i++) {
		if (socketpair(AF_UNIX, type, 0, sv))
			fail("socketpair:");
		c = new_end(sv[0], i, type == SOCK_STREAM);
		s = new_end(sv[1], OWN_SERVER, type == SOCK_STREAM);
		unix_chan(c, fd_ino(sv[1]));
		unix_chan(s, fd_ino(sv[0]));
		if (type == SOCK_DGRAM) {
			unix_dgram_room(sv[0]);
			unix_dgram_room(sv[1]);
		}
		link_both(&clink[i], c);
		link_both(&slink[i], s);
	}
	nslink = cfg.clients;
}

/* The sockets keep their address once connected; the name can go. */
static void unlink_path(void)
{
	if (cfg.path[0] != '@')
		unlink(cfg.path);
}

static void setup_ustream_path(void)
{
	struct sockaddr_un sun;
	socklen_t len = unix_addr(&sun, cfg.path);
	struct end *c, *s;
	int l, cfd, sfd;
	unsigned i;

	l = unix_bound(SOCK_STREAM, cfg.path, &sun, len);
	if (listen(l, cfg.clients))
		fail("listen:");
	for (i = 0; i < cfg.clients; i++) {
		cfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (cfd < 0 || connect(cfd, (struct sockaddr *)&sun, len))
			fail("connect %s:", cfg.path);
		/* Accepting right after each connect pairs them for sure. */
		sfd = accept(l, NULL, NULL);
		if (sfd < 0)
			fail("accept:");
		c = new_end(cfd, i, true);
		s = new_end(sfd, OWN_SERVER, true);
		unix_chan(c, fd_ino(sfd));
		unix_chan(s, fd_ino(cfd));
		link_both(&clink[i], c);
		link_both(&slink[i], s);
	}
	close(l);
	unlink_path();
	nslink = cfg.clients;
}

static void setup_udgram_path(void)
{
	struct sockaddr_un sun;
	socklen_t len = unix_addr(&sun, cfg.path);
	sa_family_t fam = AF_UNIX;
	struct end *c, *s;
	unsigned i;
	int fd;

	fd = unix_bound(SOCK_DGRAM, cfg.path, &sun, len);
	unix_dgram_room(fd);
	s = new_end(fd, OWN_SERVER, false);
	s->unconnected = true;
	unix_channel(s->chan, fd_ino(fd), 0);
	link_both(&slink[0], s);
	nslink = 1;
	for (i = 0; i < cfg.clients; i++) {
		fd = socket(AF_UNIX, SOCK_DGRAM, 0);
		if (fd < 0)
			fail("socket:");
		/* Replies need an address to go to: autobind an abstract one. */
		if (cfg.reply && bind(fd, (struct sockaddr *)&fam, sizeof(fam)))
			fail("bind (autobind):");
		if (connect(fd, (struct sockaddr *)&sun, len))
			fail("connect %s:", cfg.path);
		unix_dgram_room(fd);
		c = new_end(fd, i, false);
		unix_chan(c, fd_ino(s->fd));
		link_both(&clink[i], c);
	}
	unlink_path();
}

static int inet_socket(int type)
{
	int fd = socket(cfg.ipv6 ? AF_INET6 : AF_INET, type, 0);

	if (fd < 0)
		fail("socket:");
	return fd;
}

static void setup_tcp(void)
{
	struct sockaddr_storage addr;
	socklen_t len = loopback(&addr, cfg.port, cfg.ipv6);
	struct end *c, *s;
	int l, cfd, sfd;
	unsigned i;

	l = inet_socket(SOCK_STREAM);
	setopt_one(l, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
	if (bind(l, (struct sockaddr *)&addr, len))
		fail("bind port %u:", cfg.port);
	if (listen(l, cfg.clients))
		fail("listen:");
	get_local(l, &addr);
	for (i = 0; i < cfg.clients; i++) {
		cfd = inet_socket(SOCK_STREAM);
		if (connect(cfd, (struct sockaddr *)&addr, len))
			fail("connect:");
		sfd = accept(l, NULL, NULL);
		if (sfd < 0)
			fail("accept:");
		nodelay(cfd);
		nodelay(sfd);
		c = new_end(cfd, i, true);
		s = new_end(sfd, OWN_SERVER, true);
		inet_end_chan(c);
		inet_end_chan(s);
		link_both(&clink[i], c);
		link_both(&slink[i], s);
	}
	close(l);
	nslink = cfg.clients;
}

/*
 * Loopback UDP only drops a datagram when the receive buffer is full.
 * Make room for all that can be in flight at once (the exchange never has
 * more), or refuse to run rather than hang on a lost datagram.
 */
static void udp_room(int fd, unsigned inflight, size_t dsize)
{
	/* An skb's truesize stays below twice the payload plus headers. */
	uint64_t need = (uint64_t)inflight * (2 * (uint64_t)dsize + 2048);
	int cur, want;
	socklen_t len = sizeof(cur);

	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, &len))
		fail("getsockopt(SO_RCVBUF):");
	if ((uint64_t)cur >= need)
		return;
	want = need > INT_MAX / 2 ? INT_MAX / 2 : (int)need;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
	len = sizeof(cur);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &cur, &len))
		fail("getsockopt(SO_RCVBUF):");
	if ((uint64_t)cur < need)
		fail("udp: a %d byte receive buffer cannot hold %u datagrams of %zu bytes; "
		     "lower --batch, --clients or --size, or run as root", cur, inflight, dsize);
}

static int udp_bound(const struct sockaddr_storage *addr, socklen_t len, bool reuse)
{
	int fd = inet_socket(SOCK_DGRAM);

	if (reuse)
		setopt_one(fd, SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT");
	if (bind(fd, (const struct sockaddr *)addr, len))
		fail("bind udp:");
	return fd;
}

/* --api send/msg: one unconnected server socket, unconnected clients. */
static void setup_udp_unconnected(void)
{
	struct sockaddr_storage saddr, any;
	socklen_t slen = loopback(&saddr, cfg.port, cfg.ipv6);
	socklen_t alen = loopback(&any, 0, cfg.ipv6);
	struct end *c, *s;
	unsigned i;
	int fd;

	fd = udp_bound(&saddr, slen, false);
	udp_room(fd, cfg.clients, cfg.size);	/* one message per client */
	s = new_end(fd, OWN_SERVER, false);
	s->unconnected = s->per_remote = true;
	get_local(fd, &s->local);
	link_both(&slink[0], s);
	nslink = 1;
	for (i = 0; i < cfg.clients; i++) {
		/* Bound to loopback so its address is the same on every path. */
		fd = udp_bound(&any, alen, false);
		udp_room(fd, 1, cfg.reply);
		c = new_end(fd, i, false);
		c->unconnected = c->per_remote = true;
		get_local(fd, &c->local);
		c->dst = s->local;
		c->dstlen = slen;
		link_both(&clink[i], c);
	}
}

/* rw/vec/mmsg: a connected server socket per client, sharing one port. */
static void setup_udp_connected(void)
{
	struct sockaddr_storage saddr, any, caddr;
	socklen_t slen = loopback(&saddr, cfg.port, cfg.ipv6);
	socklen_t alen = loopback(&any, 0, cfg.ipv6);
	unsigned i, inflight = cfg.api == A_MMSG ? cfg.batch : 1;
	struct end *c, *s;
	int sfd, cfd;

	for (i = 0; i < cfg.clients; i++) {
		/* The first bind picks the port, the others join it. */
		sfd = udp_bound(&saddr, slen, cfg.clients > 1);
		if (i == 0)
			get_local(sfd, &saddr);
		cfd = udp_bound(&any, alen, false);
		if (connect(cfd, (struct sockaddr *)&saddr, slen))
			fail("connect udp:");
		get_local(cfd, &caddr);
		if (connect(sfd, (struct sockaddr *)&caddr, alen))
			fail("connect udp:");
		udp_room(sfd, inflight, cfg.size);
		udp_room(cfd, inflight, cfg.reply);
		c = new_end(cfd, i, false);
		s = new_end(sfd, OWN_SERVER, false);
		inet_end_chan(c);
		inet_end_chan(s);
		link_both(&clink[i], c);
		link_both(&slink[i], s);
	}
	nslink = cfg.clients;
}

/* sendfile source: size bytes in an unlinked temporary file. */
static void setup_tmpfile(void)
{
	const char *dir = getenv("TMPDIR");
	char name[PATH_MAX], *buf = alloc_buf(cfg.size);
	size_t done = 0;
	ssize_t n;

	snprintf(name, sizeof(name), "%s/ipcload.XXXXXX", dir && *dir ? dir : "/tmp");
	tmp_fd = mkstemp(name);
	if (tmp_fd < 0)
		fail("mkstemp %s:", name);
	unlink(name);
	for (; done < cfg.size; done += n) {
		n = write(tmp_fd, buf + done, cfg.size - done);
		if (n <= 0)
			fail("write %s:", name);
	}
	free(buf);
}

static void setup(void)
{
	switch (cfg.mode) {
	case M_PIPE:
		setup_pipe();
		break;
	case M_USTREAM:
		if (cfg.path)
			setup_ustream_path();
		else
			setup_socketpair(SOCK_STREAM);
		break;
	case M_UDGRAM:
		if (cfg.path)
			setup_udgram_path();
		else
			setup_socketpair(SOCK_DGRAM);
		break;
	case M_TCP:
		setup_tcp();
		break;
	case M_UDP:
		if (cfg.api == A_SEND || cfg.api == A_MSG)
			setup_udp_unconnected();
		else
			setup_udp_connected();
		break;
	default:
		break;
	}
	if (cfg.api == A_SENDFILE)
		setup_tmpfile();
}

static bool owns(const struct end *e, int who)
{
	return e->owner == who || (e->owner == OWN_CLIENTS && who >= 0);
}

/* After fork: close every end that belongs to another process. */
static void keep_own(int who)
{
	int i;

	for (i = 0; i < nends; i++) {
		if (ends[i].fd >= 0 && !owns(&ends[i], who)) {
			close(ends[i].fd);
			ends[i].fd = -1;
		}
	}
	if (who == OWN_SERVER && tmp_fd >= 0) {
		close(tmp_fd);
		tmp_fd = -1;
	}
}

static void close_link(struct link *l)
{
	if (l->tx && l->tx->fd >= 0) {
		close(l->tx->fd);
		l->tx->fd = -1;
	}
	if (l->rx && l->rx->fd >= 0) {
		close(l->rx->fd);
		l->rx->fd = -1;
	}
}

/* ---- one measured call ---------------------------------------------------- */

/* Which api carries this process's sends and receives (see pick_ops). */
static enum api send_op, recv_op;

static void pick_ops(enum role role)
{
	enum api a = cfg.api;

	if (role == R_CLIENT) {
		send_op = a;
		/* Replies of splice/sendfile runs are plain reads. */
		recv_op = (a == A_SPLICE || a == A_SENDFILE) ? A_RW : a;
	} else {
		/* sendfile: read()s, write()n replies; splice: vmsplice()d replies. */
		recv_op = a == A_SENDFILE ? A_RW : a;
		send_op = a == A_SENDFILE ? A_RW : a;
	}
}

/* Two halves, so a vectored call really spans two iovecs. */
static void split_iov(struct iovec iov[2], char *buf, size_t len)
{
	iov[0].iov_base = buf;
	iov[0].iov_len = len / 2;
	iov[1].iov_base = buf + len / 2;
	iov[1].iov_len = len - len / 2;
}

/*
 * One send-side syscall of len bytes from buf on e, counted. to names the
 * receiver on an unconnected socket, NULL otherwise.
 */
static ssize_t send_call(struct end *e, const char *buf, size_t len,
			 const struct sockaddr_storage *to, socklen_t tolen)
{
	struct iovec iov[2], one = { .iov_base = (char *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &one, .msg_iovlen = 1 };
	off_t off;
	ssize_t n;

	switch (send_op) {
	case A_RW:
		n = write(e->fd, buf, len);
		break;
	case A_VEC:
		split_iov(iov, (char *)buf, len);
		n = writev(e->fd, iov, 2);
		break;
	case A_SEND:
		n = sendto(e->fd, buf, len, 0, (const struct sockaddr *)to, to ? tolen : 0);
		break;
	case A_MSG:
		mh.msg_name = (void *)to;
		mh.msg_namelen = to ? tolen : 0;
		n = sendmsg(e->fd, &mh, 0);
		break;
	case A_SPLICE:
		n = vmsplice(e->fd, &one, 1, 0);
		break;
	case A_SENDFILE:
		/* The file holds one message; the unsent tail starts at size - len. */
		off = (off_t)(cfg.size - len);
		n = sendfile(e->fd, tmp_fd, &off, len);
		break;
	default:
		errno = EINVAL;
		n = -1;
		break;
	}
	account_end(e, D_SEND, to, n);
	return n;
}

/* Send all of buf: a stream may take it in several calls, a datagram not. */
static void send_all(struct end *e, const char *buf, size_t len,
		     const struct sockaddr_storage *to, socklen_t tolen)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = send_call(e, buf + done, len - done, to, tolen);
		if (n < 0)
			fail("%s:", send_names[send_op]);
		if (n == 0)
			fail("%s sent nothing", send_names[send_op]);
		if (!e->stream && (size_t)n != len)
			fail("%s: datagram cut to %zd of %zu bytes", send_names[send_op], n, len);
		done += n;
	}
}

/*
 * One receive-side syscall asking for len bytes on e, counted. nowait
 * makes a socket call non-blocking (read/readv rely on O_NONBLOCK set by
 * the caller). On an unconnected socket the sender lands in *from.
 */
static ssize_t recv_call(struct end *e, char *buf, size_t len, bool nowait,
			 struct sockaddr_storage *from, socklen_t *fromlen)
{
	struct iovec iov[2], one = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &one, .msg_iovlen = 1 };
	struct sockaddr_storage *name = e->unconnected ? from : NULL;
	socklen_t nlen = sizeof(*from);
	int flags = nowait ? MSG_DONTWAIT : 0;
	ssize_t n;

	switch (recv_op) {
	case A_RW:
		n = read(e->fd, buf, len);
		break;
	case A_VEC:
		split_iov(iov, buf, len);
		n = readv(e->fd, iov, 2);
		break;
	case A_SEND:
		n = recvfrom(e->fd, buf, len, flags, (struct sockaddr *)name,
			     name ? &nlen : NULL);
		break;
	case A_MSG:
		mh.msg_name = name;
		mh.msg_namelen = name ? nlen : 0;
		n = recvmsg(e->fd, &mh, flags);
		nlen = mh.msg_namelen;
		break;
	default:
		errno = EINVAL;
		n = -1;
		break;
	}
	*fromlen = name && n >= 0 ? nlen : 0;
	account_end(e, D_RECV, *fromlen ? from : NULL, n);
	return n;
}

/* ---- sendmmsg / recvmmsg ------------------------------------------------- */

static struct mmsghdr mmv[MAX_BATCH];
static struct iovec mmiov[MAX_BATCH];
static struct sockaddr_storage mmname[MAX_BATCH];	/* senders, last receive */
static socklen_t mmnamelen[MAX_BATCH];

/* One *mmsg call is one call; its bytes are the msg_len sum of what it did. */
static void account_mmsg(struct end *e, int dir, int r)
{
	struct row *row = end_row(e, dir, NULL);
	int i, err = errno;

	row->calls++;
	if (r < 0)
		row->errors++;
	for (i = 0; i < r; i++)
		row->bytes += mmv[i].msg_len;
	errno = err;
}

/*
 * Send k (<= MAX_BATCH) messages of len bytes with sendmmsg. to[i] names
 * message i's receiver on an unconnected socket. A stream socket may take
 * part of an entry: what is left goes out with the next call, so every
 * byte is sent and every call counted.
 */
static void mmsg_send(struct end *e, const char *buf, size_t len, unsigned k,
		      const struct sockaddr_storage *to, const socklen_t *tolen)
{
	size_t left[MAX_BATCH];
	unsigned idx[MAX_BATCH], pending = k, i, j, keep;
	int r;

	for (i = 0; i < k; i++) {
		left[i] = len;
		idx[i] = i;
	}
	while (pending) {
		for (j = 0; j < pending; j++) {
			i = idx[j];
			mmiov[j].iov_base = (char *)buf + (len - left[i]);
			mmiov[j].iov_len = left[i];
			mmv[j].msg_hdr = (struct msghdr){
				.msg_iov = &mmiov[j], .msg_iovlen = 1,
				.msg_name = to ? (void *)&to[i] : NULL,
				.msg_namelen = to ? tolen[i] : 0,
			};
			mmv[j].msg_len = 0;
		}
		r = sendmmsg(e->fd, mmv, pending, 0);
		account_mmsg(e, D_SEND, r);
		if (r < 0)
			fail("sendmmsg:");
		if (r == 0)
			fail("sendmmsg sent nothing");
		for (j = 0; j < (unsigned)r; j++) {
			i = idx[j];
			if (!e->stream && mmv[j].msg_len != left[i])
				fail("sendmmsg: datagram cut to %u of %zu bytes",
				     mmv[j].msg_len, left[i]);
			left[i] -= mmv[j].msg_len;
		}
		for (j = keep = 0; j < pending; j++)
			if (left[idx[j]])
				idx[keep++] = idx[j];
		pending = keep;
	}
}

static void mmsg_prep_recv(unsigned i, char *buf, size_t len, bool name)
{
	mmiov[i].iov_base = buf;
	mmiov[i].iov_len = len;
	mmv[i].msg_hdr = (struct msghdr){
		.msg_iov = &mmiov[i], .msg_iovlen = 1,
		.msg_name = name ? &mmname[i] : NULL,
		.msg_namelen = name ? sizeof(mmname[i]) : 0,
	};
	mmv[i].msg_len = 0;
}

/* One counted recvmmsg of vlen prepared entries; *bytes gets the sum. */
static int mmsg_recv_call(struct end *e, unsigned vlen, int flags, uint64_t *bytes)
{
	int r = recvmmsg(e->fd, mmv, vlen, flags, NULL), i;

	account_mmsg(e, D_RECV, r);
	*bytes = 0;
	for (i = 0; i < r; i++) {
		*bytes += mmv[i].msg_len;
		mmnamelen[i] = mmv[i].msg_hdr.msg_namelen;
	}
	return r;
}

/* ---- splice (pipe mode, server side) ------------------------------------- */

static struct end *priv_rd, *priv_wr;	/* the server's private pipe */
static int devnull = -1;

static void setup_splice_sink(void)
{
	new_pipe(&priv_rd, &priv_wr, OWN_SERVER, OWN_SERVER);
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		fail("open /dev/null:");
}

/* Move exactly n bytes from pipe end e to /dev/null: receives on e. */
static void splice_drain(struct end *e, size_t n)
{
	ssize_t m;

	while (n) {
		m = splice(e->fd, NULL, devnull, NULL, n, 0);
		account_end(e, D_RECV, NULL, m);
		if (m < 0)
			fail("splice:");
		if (m == 0)
			fail("splice moved nothing");
		n -= m;
	}
}

/*
 * tee() up to len bytes from the data pipe into the private pipe (a
 * receive on the one, a send on the other, the same call), then drain both
 * into /dev/null. Returns the bytes taken from the data pipe, 0 at EOF.
 */
static uint64_t splice_recv(struct end *e, size_t len)
{
	ssize_t n = tee(e->fd, priv_wr->fd, len, 0);

	account_end(e, D_RECV, NULL, n);
	account_end(priv_wr, D_SEND, NULL, n);
	if (n < 0)
		fail("tee:");
	if (n == 0)
		return 0;
	splice_drain(e, n);
	splice_drain(priv_rd, n);
	return n;
}

/* ---- receiving ------------------------------------------------------------- */

/*
 * One receive on a byte stream for at most rem bytes, chunk bytes a read
 * (a recvmmsg entry). Returns the bytes it got, 0 at EOF.
 */
static uint64_t stream_recv(struct end *e, char *buf, size_t chunk, uint64_t rem)
{
	struct sockaddr_storage from;
	uint64_t bytes, left;
	socklen_t fromlen;
	unsigned vlen;
	ssize_t n;
	int r;

	if (recv_op == A_MMSG) {
		for (vlen = 0, left = rem; vlen < cfg.batch && left; vlen++) {
			mmsg_prep_recv(vlen, buf, min_sz(chunk, left), false);
			left -= min_sz(chunk, left);
		}
		/*
		 * WAITFORONE: only the first entry blocks. A later one must
		 * not wait for bytes the peer sends after our reply.
		 */
		r = mmsg_recv_call(e, vlen, MSG_WAITFORONE, &bytes);
		if (r < 0)
			fail("recvmmsg:");
		return bytes;
	}
	if (recv_op == A_SPLICE)
		return splice_recv(e, min_sz(chunk, rem));
	n = recv_call(e, buf, min_sz(chunk, rem), false, &from, &fromlen);
	if (n < 0)
		fail("%s:", recv_names[recv_op]);
	return n;
}

/*
 * Receive up to max datagrams of exactly want bytes into buf (cap bytes
 * asked per datagram) with one call; recvmmsg may take several. Senders
 * land in mmname[] on an unconnected socket. Returns how many came.
 */
static unsigned dgram_recv(struct end *e, char *buf, size_t cap, size_t want,
			   unsigned max, int mflags)
{
	uint64_t bytes;
	unsigned i;
	ssize_t n;
	int r;

	if (recv_op == A_MMSG) {
		for (i = 0; i < max; i++)
			mmsg_prep_recv(i, buf, cap, e->unconnected);
		r = mmsg_recv_call(e, max, mflags, &bytes);
		if (r <= 0)
			fail("recvmmsg:");
		for (i = 0; i < (unsigned)r; i++)
			if (mmv[i].msg_len != want)
				fail("recvmmsg: datagram of %u bytes, expected %zu",
				     mmv[i].msg_len, want);
		return r;
	}
	n = recv_call(e, buf, cap, false, &mmname[0], &mmnamelen[0]);
	if (n < 0)
		fail("%s:", recv_names[recv_op]);
	if ((size_t)n != want)
		fail("%s: datagram of %zd bytes, expected %zu", recv_names[recv_op], n, want);
	return 1;
}

/* ---- server ------------------------------------------------------------------ */

/* k replies on e, to the senders in to[] when e is unconnected. */
static void send_replies(struct end *e, const char *buf, unsigned k,
			 const struct sockaddr_storage *to, const socklen_t *tolen)
{
	unsigned i, n;

	if (send_op == A_MMSG) {
		for (i = 0; i < k; i += n) {
			n = min_sz(k - i, cfg.batch);
			mmsg_send(e, buf, cfg.reply, n, to ? to + i : NULL,
				  tolen ? tolen + i : NULL);
		}
		return;
	}
	for (i = 0; i < k; i++)
		send_all(e, buf, cfg.reply, to ? &to[i] : NULL, to ? tolen[i] : 0);
}

/*
 * Byte streams: a socket carries one client and is read until count*size
 * bytes came; the shared pipe is read until EOF, and that last read (0
 * bytes) is counted like any other. Replies go out per completed message;
 * the client sends no more before it has them, so a read can never run
 * into the next message even when it asks for more.
 */
static void serve_stream(struct link *l, char *rbuf, const char *sbuf)
{
	bool is_pipe = cfg.mode == M_PIPE;
	uint64_t total = (uint64_t)cfg.count * cfg.size * (is_pipe ? cfg.clients : 1);
	uint64_t got = 0, n, partial = 0;

	for (;;) {
		if (!is_pipe && got == total)
			break;
		n = stream_recv(l->rx, rbuf, cfg.rsize, is_pipe ? cfg.rsize : total - got);
		if (n == 0) {
			if (is_pipe)
				break;
			fail("unexpected EOF after %" PRIu64 " of %" PRIu64 " bytes", got, total);
		}
		got += n;
		if (got > total)
			fail("received %" PRIu64 " bytes, more than the %" PRIu64 " sent", got, total);
		if (!cfg.reply)
			continue;
		partial += n;
		send_replies(l->tx, sbuf, partial / cfg.size, NULL, NULL);
		partial %= cfg.size;
	}
	if (got != total)
		fail("received %" PRIu64 " of %" PRIu64 " bytes", got, total);
}

/* Datagrams: msgs messages, each answered to its sender when replying. */
static void serve_dgram(struct link *l, unsigned long msgs, char *rbuf, const char *sbuf)
{
	/*
	 * Blocking for a whole batch is deterministic, but when clients share
	 * the socket and wait for replies, the batch may never fill up.
	 */
	int mflags = nslink < (int)cfg.clients && cfg.reply ? MSG_WAITFORONE : 0;
	unsigned long got = 0;
	unsigned n;

	while (got < msgs) {
		n = dgram_recv(l->rx, rbuf, cfg.rsize, cfg.size,
			       min_sz(cfg.batch, msgs - got), mflags);
		got += n;
		if (cfg.reply)
			send_replies(l->tx, sbuf, n, l->tx->unconnected ? mmname : NULL,
				     mmnamelen);
	}
}

static void set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK))
		fail("fcntl:");
}

/*
 * --eagain: K non-blocking receives on each still-empty server socket,
 * with the receive syscall of the api. No client has been told to start,
 * so nothing can have arrived: each must fail with EAGAIN.
 */
static void probe_eagain(char *buf)
{
	bool by_flag = recv_op == A_RW || recv_op == A_VEC;	/* O_NONBLOCK */
	struct sockaddr_storage from;
	socklen_t fromlen;
	uint64_t bytes;
	unsigned k;
	ssize_t r;
	int i;

	for (i = 0; i < nslink && cfg.eagain; i++) {
		struct end *e = slink[i].rx;

		if (by_flag)
			set_nonblock(e->fd, true);
		for (k = 0; k < cfg.eagain; k++) {
			if (recv_op == A_MMSG) {
				mmsg_prep_recv(0, buf, cfg.rsize, false);
				r = mmsg_recv_call(e, 1, MSG_DONTWAIT, &bytes);
			} else {
				r = recv_call(e, buf, cfg.rsize, true, &from, &fromlen);
			}
			if (r != -1 || errno != EAGAIN)
				fail("--eagain probe %u: %s returned %zd (%s), expected EAGAIN",
				     k + 1, recv_names[recv_op], r, r < 0 ? strerror(errno) : "data");
		}
		if (by_flag)
			set_nonblock(e->fd, false);
	}
}

static void run_server(void)
{
	char *rbuf = alloc_buf(cfg.rsize), *sbuf = alloc_buf(cfg.reply);
	/* A shared socket or pipe carries every client's messages. */
	unsigned long msgs = cfg.count * (nslink == 1 ? cfg.clients : 1);
	unsigned i;
	int j;

	if (cfg.api == A_SPLICE)
		setup_splice_sink();
	probe_eagain(rbuf);
	for (i = 0; i < cfg.clients; i++)
		if (kill(client_pids[i], SIGUSR1))
			fail("kill client %d:", (int)client_pids[i]);
	for (j = 0; j < nslink; j++) {
		if (slink[j].rx->stream)
			serve_stream(&slink[j], rbuf, sbuf);
		else
			serve_dgram(&slink[j], msgs, rbuf, sbuf);
		close_link(&slink[j]);
	}
	if (priv_rd) {
		close(priv_rd->fd);
		close(priv_wr->fd);
		close(devnull);
	}
	free(rbuf);
	free(sbuf);
}

/* ---- client ------------------------------------------------------------------- */

static void wait_go(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigwait(&set, &sig))
		fail("sigwait failed");
}

static void recv_replies(struct end *e, char *buf, unsigned n)
{
	uint64_t rem, got;
	unsigned done;

	if (e->stream) {
		for (rem = (uint64_t)n * cfg.reply; rem; rem -= got) {
			got = stream_recv(e, buf, cfg.reply, rem);
			if (got == 0)
				fail("unexpected EOF while reading replies");
			if (got > rem)
				fail("got more reply bytes than asked for");
		}
		return;
	}
	/* No WAITFORONE: the call blocks for all n, deterministically. */
	for (done = 0; done < n; )
		done += dgram_recv(e, buf, cfg.reply, cfg.reply, n - done, 0);
}

/*
 * --rate: before message `sent`, sleep until its time on an absolute
 * schedule from the first message (a late message is not made up for by
 * a burst beyond one pacing step). Pacing checks the clock every
 * millisecond's worth of messages, not per message: a sleep per message
 * at tens of thousands a second would measure the timer, not the channel.
 */
static void pace(unsigned long sent, const struct timespec *t0)
{
	unsigned long step = cfg.rate >= 1000 ? cfg.rate / 1000 : 1;
	unsigned long long due;
	struct timespec at;

	if (!cfg.rate || (sent % step && send_op != A_MMSG))	/* batches: every one */
		return;
	due = (unsigned long long)t0->tv_nsec + sent * 1000000000ull / cfg.rate;
	at.tv_sec = t0->tv_sec + due / 1000000000ull;
	at.tv_nsec = due % 1000000000ull;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
}

static void run_client(int idx)
{
	struct link *l = &clink[idx];
	char *sbuf = alloc_buf(cfg.size), *rbuf = alloc_buf(cfg.reply);
	const struct sockaddr_storage *dst = l->tx->unconnected ? &l->tx->dst : NULL;
	unsigned long sent;
	struct timespec t0;
	unsigned n;

	wait_go();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (sent = 0; sent < cfg.count; sent += n) {
		pace(sent, &t0);
		if (send_op == A_MMSG) {
			n = min_sz(cfg.batch, cfg.count - sent);
			mmsg_send(l->tx, sbuf, cfg.size, n, NULL, NULL);
		} else {
			n = 1;
			send_all(l->tx, sbuf, cfg.size, dst, l->tx->dstlen);
		}
		if (cfg.reply)
			recv_replies(l->rx, rbuf, n);
	}
	close_link(l);
	if (tmp_fd >= 0)
		close(tmp_fd);
	free(sbuf);
	free(rbuf);
}

/* ---- futex mode ---------------------------------------------------------------- */

static struct fword fwords[MAX_THREADS / 2];

struct fthread {
	pthread_t tid;
	uint32_t *word;
	bool ping;
	struct fstats st;	/* both threads of a pair count on the same rows */
};

static struct fthread fthreads[MAX_THREADS];

static void *fthread_main(void *arg)
{
	struct fthread *t = arg;
	unsigned long i;

	set_name(t->ping ? "futex-ping" : "futex-pong");
	for (i = 0; i < cfg.count; i++) {
		if (t->ping) {
			fset_wake(t->word, 1, &t->st);
			fwait_for(t->word, 0, &t->st);
		} else {
			fwait_for(t->word, 1, &t->st);
			fset_wake(t->word, 0, &t->st);
		}
	}
	return NULL;
}

static void run_futex(void)
{
	unsigned i;
	int err;

	arm_watchdog();
	for (i = 0; i < cfg.threads; i++) {
		fthreads[i].word = &fwords[i / 2].word;
		fthreads[i].ping = !(i & 1);
	}
	for (i = 0; i < cfg.threads; i++) {
		err = pthread_create(&fthreads[i].tid, NULL, fthread_main, &fthreads[i]);
		if (err) {
			errno = err;
			fail("pthread_create:");
		}
	}
	for (i = 0; i < cfg.threads; i++)
		pthread_join(fthreads[i].tid, NULL);
	alarm(0);
	for (i = 0; i < cfg.threads / 2; i++)
		futex_rows(&fwords[i].word, &fthreads[2 * i].st, &fthreads[2 * i + 1].st);
}

/* ---- checks and report --------------------------------------------------------- */

static uint64_t sum(const struct proc *p, int dir, int what)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < p->nrows; i++) {
		const struct row *r = &p->rows[i];

		if (r->dir != dir)
			continue;
		s += what == 0 ? r->calls : what == 1 ? r->bytes : r->errors;
	}
	return s;
}

static void expect(const struct proc *p, int dir, int what, uint64_t want)
{
	static const char *const whats[] = { "calls", "bytes", "errors" };
	uint64_t got = sum(p, dir, what);

	if (got != want)
		fail("self-check: %s pid %d %s %s = %" PRIu64 ", expected %" PRIu64,
		     role_names[p->role], (int)p->pid, dir_names[dir], whats[what], got, want);
}

/*
 * Cross-check the rows against what the exchange must have moved, so a
 * counting slip fails the run instead of silently becoming ground truth.
 */
static void self_check(void)
{
	uint64_t n = cfg.count, c = cfg.clients;
	/* splice: tee and splice both receive from the data pipe, and the
	 * private pipe gets and gives the same bytes again. */
	uint64_t spl = cfg.api == A_SPLICE;
	const struct proc *s = &procs[cfg.clients];
	unsigned i;

	if (cfg.mode == M_FUTEX) {
		for (i = 0; i < (unsigned)procs[0].nrows; i++) {
			const struct row *r = &procs[0].rows[i];

			if (r->dir == D_WAKE && (r->calls != 2 * n || r->errors))
				fail("self-check: %s wake calls %" PRIu64, r->chan, r->calls);
		}
		return;
	}
	for (i = 0; i < cfg.clients; i++) {
		expect(&procs[i], D_SEND, 1, n * cfg.size);
		expect(&procs[i], D_SEND, 2, 0);
		expect(&procs[i], D_RECV, 1, n * cfg.reply);
		expect(&procs[i], D_RECV, 2, 0);
	}
	expect(s, D_RECV, 1, c * n * cfg.size * (spl ? 3 : 1));
	expect(s, D_RECV, 2, (uint64_t)cfg.eagain * nslink);
	expect(s, D_SEND, 1, c * n * cfg.reply + (spl ? c * n * cfg.size : 0));
	expect(s, D_SEND, 2, 0);
}

static void write_report(void)
{
	int nprocs = cfg.mode == M_FUTEX ? 1 : (int)cfg.clients + 1, i;
	struct sbuf b;

	sb_init(&b);
	sb_printf(&b, "{\"mode\":\"%s\",\"count\":%lu,\"size\":%zu,\"reply_size\":%zu,"
		  "\"read_size\":%zu,\"api\":\"%s\",\"batch\":%u,\"clients\":%u,"
		  "\"eagain\":%u,\"threads\":%u,\n \"processes\":[\n",
		  mode_names[cfg.mode], cfg.count, cfg.size, cfg.reply, cfg.rsize,
		  api_names[cfg.api], cfg.batch, cfg.clients, cfg.eagain,
		  cfg.mode == M_FUTEX ? cfg.threads : 0);
	for (i = 0; i < nprocs; i++) {
		sb_proc(&b, &procs[i], role_comms[procs[i].role], role_names[procs[i].role]);
		sb_boundaries(&b, &procs[i], NULL, true, i == nprocs - 1);
	}
	sb_printf(&b, " ]}\n");
	sb_flush(&b);
}

/* ---- processes ------------------------------------------------------------------- */

static void become(int slot, enum role role)
{
	me = &procs[slot];
	me->pid = getpid();
	me->role = role;
}

/* This process's part of the exchange: client who, or the server (OWN_SERVER). */
static void run_as(int who)
{
	bool server = who == OWN_SERVER;

	become(server ? (int)cfg.clients : who, server ? R_SERVER : R_CLIENT);
	keep_own(who);
	pick_ops(server ? R_SERVER : R_CLIENT);
	arm_watchdog();
	if (server)
		run_server();
	else
		run_client(who);
}

/* Clients 1..C-1, then the server (client -1). */
static pid_t spawn_part(int client)
{
	pid_t pid = fork_kid();

	if (pid == 0) {
		if (client < 0)
			set_name("ipc-server");
		run_as(client < 0 ? OWN_SERVER : client);
		child_done(NULL);
	}
	return pid;
}

static void run_processes(void)
{
	unsigned i;

	setup();
	client_pids[0] = wl.initial;
	for (i = 1; i < cfg.clients; i++)
		client_pids[i] = spawn_part(i);
	spawn_part(-1);
	run_as(0);
	initial_done();
}

/* ---- command line ------------------------------------------------------------------ */

static const char usage_text[] =
"usage: ipcload MODE [options]\n"
"Drive one IPC channel and report, as JSON, every syscall made on it.\n"
"\n"
"MODE: pipe | unix-stream | unix-dgram | tcp | udp | futex\n"
"\n"
"  --count N           messages per client; futex: round trips per pair [1000]\n"
"  --size BYTES        client message size, 1..1048576 [100]\n"
"  --reply-size BYTES  server reply per message, 0 = none [0; udp: 1, min 1]\n"
"  --read-size BYTES   server receive request size [--size]\n"
"  --api API           rw | vec | send | msg | mmsg | splice | sendfile [rw]\n"
"                      pipe: rw vec splice; sockets: rw vec send msg mmsg;\n"
"                      unix-stream, tcp: also sendfile\n"
"  --batch B           messages per sendmmsg/recvmmsg, 1..1024 [8]\n"
"  --rate R            messages per second per client, paced against the clock\n"
"                      (long runs at a fixed rate; not futex) [0: no pacing]\n"
"  --path PATH         unix modes: server binds PATH (@NAME: abstract), clients\n"
"                      connect, instead of socketpair()\n"
"  --port P            tcp/udp: server port on loopback [0: ephemeral]\n"
"  --ipv6              tcp/udp: ::1 instead of 127.0.0.1\n"
"  --eagain K          sockets: K non-blocking receives on each empty server\n"
"                      socket first, each must fail with EAGAIN [0]\n"
"  --threads T         futex: even thread count, T/2 ping-pong pairs [2]\n"
"  --clients C         client processes, 1..64 [1]\n"
"  --delay-ms MS       print \"ready PID\" on stderr and sleep before creating\n"
"                      any channel or process (time to attach a tracer) [0]\n"
"  --hold-ms MS        every process sleeps this long after the exchange [0]\n"
"  --timeout S         fail if an exchange takes longer, 0 = never [300]\n"
"  --out FILE          write the report to FILE instead of stdout\n"
"  -h, --help          this text\n"
"\n"
"Exit status: 0 done and self-consistent, 1 failure (message on stderr),\n"
"2 bad usage.\n";

static int lookup(const char *const *names, int n, const char *s, const char *what)
{
	int i = name_index(names, n, s);

	if (i < 0)
		usage_error("unknown %s '%s'", what, s);
	return i;
}

enum {
	OPT_COUNT = 256, OPT_SIZE, OPT_REPLY, OPT_READ, OPT_API, OPT_BATCH, OPT_PATH, OPT_PORT,
	OPT_IPV6, OPT_EAGAIN, OPT_THREADS, OPT_RATE, OPT_CLIENTS,
};

static const struct option long_opts[] = {
	{ "count",	required_argument, NULL, OPT_COUNT },
	{ "size",	required_argument, NULL, OPT_SIZE },
	{ "reply-size",	required_argument, NULL, OPT_REPLY },
	{ "read-size",	required_argument, NULL, OPT_READ },
	{ "api",	required_argument, NULL, OPT_API },
	{ "batch",	required_argument, NULL, OPT_BATCH },
	{ "path",	required_argument, NULL, OPT_PATH },
	{ "port",	required_argument, NULL, OPT_PORT },
	{ "ipv6",	no_argument,	   NULL, OPT_IPV6 },
	{ "eagain",	required_argument, NULL, OPT_EAGAIN },
	{ "threads",	required_argument, NULL, OPT_THREADS },
	{ "rate",	required_argument, NULL, OPT_RATE },
	{ "clients",	required_argument, NULL, OPT_CLIENTS },
	COMMON_LONG_OPTS,
};

/* Options that were given, to tell "not for this mode" from a default. */
static bool given[OPT_CLIENTS + 1];

static void check_cfg(void)
{
	enum mode m = cfg.mode;
	bool inet = m == M_TCP || m == M_UDP, unx = m == M_USTREAM || m == M_UDGRAM;
	bool dgram = m == M_UDGRAM || m == M_UDP;
	size_t udp_max = cfg.ipv6 ? 65527 : 65507;

	if (!(api_ok[m] & (1u << cfg.api)))
		usage_error("--api %s does not apply to %s", api_names[cfg.api], mode_names[m]);
	if (given[OPT_PATH] && !unx)
		usage_error("--path is for the unix modes");
	if ((given[OPT_PORT] || cfg.ipv6) && !inet)
		usage_error("--port and --ipv6 are for tcp and udp");
	if (cfg.eagain && (m == M_PIPE || m == M_FUTEX))
		usage_error("--eagain is for the socket modes");
	if (given[OPT_RATE] && m == M_FUTEX)
		usage_error("--rate is for the channel modes");
	if (given[OPT_THREADS] && m != M_FUTEX)
		usage_error("--threads is for futex mode");
	if (m == M_FUTEX && (cfg.threads < 2 || cfg.threads % 2))
		usage_error("--threads must be even: T/2 ping-pong pairs");
	if (m == M_FUTEX && cfg.clients != 1)
		usage_error("futex mode has no clients");
	if (m == M_UDP && !given[OPT_REPLY])
		cfg.reply = 1;
	if (m == M_UDP && !cfg.reply)
		usage_error("udp needs --reply-size >= 1: ping-pong keeps loopback from dropping");
	if (m == M_UDP && (cfg.size > udp_max || cfg.reply > udp_max))
		usage_error("udp datagrams carry at most %zu bytes", udp_max);
	if (!given[OPT_READ])
		cfg.rsize = cfg.size;
	if (dgram && cfg.rsize < cfg.size)
		usage_error("--read-size below --size would truncate datagrams");
	if (m == M_PIPE && cfg.reply && cfg.clients > 1)
		usage_error("pipe replies cannot be routed to one of several clients: use --clients 1");
	if (m == M_UDGRAM && cfg.path && cfg.reply && (cfg.api == A_RW || cfg.api == A_VEC))
		usage_error("unix-dgram --path: the server socket is unconnected, so replies "
			    "need --api send, msg or mmsg");
	if (cfg.path && (!cfg.path[0] || !strcmp(cfg.path, "@") ||
			 strlen(cfg.path) > sizeof(((struct sockaddr_un *)0)->sun_path) - 1))
		usage_error("--path: empty or too long");
}

static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		if (c >= OPT_COUNT && c <= OPT_CLIENTS)
			given[c] = true;
		switch (c) {
		case OPT_COUNT:	cfg.count = num(optarg, "count", 0, MAX_COUNT); break;
		case OPT_SIZE:	cfg.size = num(optarg, "size", 1, MAX_SIZE); break;
		case OPT_REPLY:	cfg.reply = num(optarg, "reply-size", 0, MAX_SIZE); break;
		case OPT_READ:	cfg.rsize = num(optarg, "read-size", 1, MAX_READ); break;
		case OPT_API:	cfg.api = lookup(api_names, A_NR, optarg, "api"); break;
		case OPT_BATCH:	cfg.batch = num(optarg, "batch", 1, MAX_BATCH); break;
		case OPT_PATH:	cfg.path = optarg; break;
		case OPT_PORT:	cfg.port = num(optarg, "port", 0, 65535); break;
		case OPT_IPV6:	cfg.ipv6 = true; break;
		case OPT_EAGAIN:	cfg.eagain = num(optarg, "eagain", 0, 1000000); break;
		case OPT_THREADS:	cfg.threads = num(optarg, "threads", 2, MAX_THREADS); break;
		case OPT_CLIENTS:	cfg.clients = num(optarg, "clients", 1, MAX_CLIENTS); break;
		case OPT_RATE:	cfg.rate = num(optarg, "rate", 1, 100000000); break;
		default:	common_opt(c, usage_text);
		}
	}
	if (optind != argc - 1)
		usage_error("want exactly one MODE");
	cfg.mode = lookup(mode_names, M_NR, argv[optind], "mode");
	check_cfg();
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	wl.initial = getpid();
	signals_init();
	block_start_signal();
	procs = map_shared(sizeof(*procs) * (cfg.clients + 1));
	/* Named before the delay, so a tracer attaching then sees it already. */
	set_name(cfg.mode == M_FUTEX ? "ipcload" : "ipc-client");
	if (wl.delay_ms) {
		fprintf(stderr, "ready %d\n", (int)wl.initial);
		wl_delay();
	}
	if (cfg.mode == M_FUTEX) {
		become(0, R_FUTEX);
		run_futex();
		sleep_ms(wl.hold_ms);
	} else {
		run_processes();
	}
	self_check();
	write_report();
	return 0;
}
