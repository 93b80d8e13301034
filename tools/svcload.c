// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * svcload - a client and a server that know exactly what they did, for
 * the service map: many short connections (each opened, used once and
 * closed well within a millisecond), to a server that is not traced.
 *
 * The initial process is the server; it forks the client, which prints
 * "ready PID" (its own pid, to trace with -p) and, after --delay-ms,
 * makes --conns connections: each sends --size bytes, reads --size bytes
 * back, and closes. The server answers each connection the same way.
 * Modes:
 *   tcp        a TCP listener on 127.0.0.1 (ephemeral client ports)
 *   unix       a unix stream listener bound to a path
 *   abstract   a unix stream listener with an abstract name
 *   socketpair one socketpair made by the server before the fork; the
 *              client sends --conns messages over it
 *   udp        a UDP server bound to 127.0.0.1; the client uses --conns
 *              sockets (each connect()ed), one datagram each way
 * With --greet (tcp, unix, abstract) the server writes --size bytes first,
 * right after accept(), and the client reads them before its request:
 * a server-first protocol (SMTP, MySQL).
 * With --rate R the client starts at most R connections a second (a
 * service's steady load, not a burst).
 * With --keep K the client leaves its last K connections open (tcp,
 * unix, abstract, udp), says "holding" on stderr and holds them until it
 * gets SIGUSR1: a trace ended meanwhile sees K connections alive.
 * The report (--out) names both pids, the service as boundtrace should
 * spell it, and the client's exact sends and bytes both ways.
 */
#define WL_PROG "svcload"
#define MAX_KIDS 1
#include "workload.h"

enum mode { M_TCP, M_UNIX, M_ABSTRACT, M_SOCKETPAIR, M_UDP, M_NR };

static const char *const mode_names[M_NR] = { "tcp", "unix", "abstract", "socketpair", "udp" };

static const char usage_text[] =
"usage: " WL_PROG " MODE [--conns N] [--size BYTES] [--keep K] [--greet] [--rate R]\n"
"       [--delay-ms MS]\n"
"       [--out FILE]\n"
"Many short connections from a client to a server that is not traced.\n"
"MODE: tcp, unix, abstract, socketpair, udp. The client prints \"ready PID\" on stderr\n"
"(its own pid), waits --delay-ms, then makes --conns connections (default 100),\n"
"each sending and receiving --size bytes (default 64) and closed at once;\n"
"--keep K leaves the last K open until SIGUSR1; --greet: the server writes first;\n"
"--rate R: at most R connections a second.\n";

static struct {
	enum mode mode;
	unsigned long conns, size;
	unsigned long keep;		/* connections left open at the end */
	bool greet;			/* the server writes first */
	unsigned long rate;		/* connections a second at most, 0: no limit */
	struct sockaddr_storage addr;	/* where the server listens */
	socklen_t addrlen;
	char service[128];		/* as boundtrace names it */
	int pair[2];			/* socketpair mode */
} cfg = { .conns = 100, .size = 64 };

/* What the client did, in shared memory for the server's report. */
struct tally {
	uint64_t sends, sent, recvs, received;
	int client;
	int done;
};

static void full_write(int fd, const char *buf, size_t len, struct tally *t)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0)
			fail("write:");
		if (t) {
			t->sends++;
			t->sent += n;
		}
		buf += n;
		len -= n;
	}
}

static void full_read(int fd, char *buf, size_t len, struct tally *t)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n <= 0)
			fail("read (%zd):", n);
		if (t) {
			t->recvs++;
			t->received += n;
		}
		buf += n;
		len -= n;
	}
}

static int listener(void)
{
	int type = cfg.mode == M_UDP ? SOCK_DGRAM : SOCK_STREAM;
	int fd = socket(cfg.addr.ss_family, type, 0);

	if (fd < 0)
		fail("socket:");
	if (bind(fd, (struct sockaddr *)&cfg.addr, cfg.addrlen))
		fail("bind:");
	if (type == SOCK_STREAM && listen(fd, 128))
		fail("listen:");
	if (cfg.mode == M_TCP || cfg.mode == M_UDP) {
		struct sockaddr_in *in = (struct sockaddr_in *)&cfg.addr;

		cfg.addrlen = sizeof(*in);
		if (getsockname(fd, (struct sockaddr *)in, &cfg.addrlen))
			fail("getsockname:");
		snprintf(cfg.service, sizeof(cfg.service), "%s:127.0.0.1:%u",
			 cfg.mode == M_TCP ? "tcp" : "udp", ntohs(in->sin_port));
	}
	return fd;
}

static void set_addr(void)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&cfg.addr;
	struct sockaddr_in *in = (struct sockaddr_in *)&cfg.addr;

	memset(&cfg.addr, 0, sizeof(cfg.addr));
	switch (cfg.mode) {
	case M_TCP:
	case M_UDP:
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		cfg.addrlen = sizeof(*in);
		break;
	case M_UNIX:
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "/tmp/svcload-%d.sock", (int)getpid());
		unlink(un->sun_path);
		cfg.addrlen = sizeof(*un);
		snprintf(cfg.service, sizeof(cfg.service), "unix:%.100s", un->sun_path);
		break;
	case M_ABSTRACT:
		un->sun_family = AF_UNIX;
		/* A leading NUL: the abstract namespace; boundtrace writes it '@'. */
		snprintf(un->sun_path + 1, sizeof(un->sun_path) - 1, "svcload-%d", (int)getpid());
		cfg.addrlen = offsetof(struct sockaddr_un, sun_path) + 1 +
			      strlen(un->sun_path + 1);
		snprintf(cfg.service, sizeof(cfg.service), "unix:@%.100s", un->sun_path + 1);
		break;
	case M_SOCKETPAIR:
		snprintf(cfg.service, sizeof(cfg.service), "unix:socketpair");
		break;
	default:
		break;
	}
}

/* The kept connections stay open until SIGUSR1 (blocked, so none is missed). */
static void hold_kept(void)
{
	sigset_t usr1;
	int sig;

	fprintf(stderr, "holding %lu\n", cfg.keep);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	while (sigwait(&usr1, &sig))
		;
}

static void client(struct tally *t, char *buf)
{
	struct timespec t0;
	sigset_t usr1;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	t->client = getpid();
	set_name("svc-client");
	fprintf(stderr, "ready %d\n", (int)getpid());
	wl_delay();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned long i = 0; i < cfg.conns; i++) {
		int fd;

		/* Connection i starts no earlier than i / rate seconds in. */
		if (cfg.rate) {
			uint64_t ns = t0.tv_nsec + (uint64_t)i * 1000000000ull / cfg.rate;
			struct timespec at = { t0.tv_sec + ns / 1000000000ull, ns % 1000000000ull };

			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
				;
		}
		if (cfg.mode == M_SOCKETPAIR) {
			full_write(cfg.pair[1], buf, cfg.size, t);
			full_read(cfg.pair[1], buf, cfg.size, t);
			continue;
		}
		fd = socket(cfg.addr.ss_family, cfg.mode == M_UDP ? SOCK_DGRAM : SOCK_STREAM, 0);
		if (fd < 0)
			fail("socket:");
		if (connect(fd, (struct sockaddr *)&cfg.addr, cfg.addrlen))
			fail("connect:");
		if (cfg.greet)
			full_read(fd, buf, cfg.size, t);
		full_write(fd, buf, cfg.size, t);
		full_read(fd, buf, cfg.size, t);
		if (i + cfg.keep < cfg.conns)
			close(fd);
	}
	set_flag(&t->done);
	if (cfg.keep)
		hold_kept();
	_exit(0);
}

static void serve(int lfd, char *buf, struct tally *t)
{
	for (unsigned long i = 0; i < cfg.conns; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		int fd;

		if (cfg.mode == M_SOCKETPAIR) {
			full_read(cfg.pair[0], buf, cfg.size, NULL);
			full_write(cfg.pair[0], buf, cfg.size, NULL);
			continue;
		}
		if (cfg.mode == M_UDP) {
			ssize_t n = recvfrom(lfd, buf, cfg.size, 0, (struct sockaddr *)&from, &fl);

			if (n != (ssize_t)cfg.size)
				fail("recvfrom (%zd):", n);
			if (sendto(lfd, buf, n, 0, (struct sockaddr *)&from, fl) != n)
				fail("sendto:");
			continue;
		}
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			fail("accept:");
		if (cfg.greet)
			full_write(fd, buf, cfg.size, NULL);
		full_read(fd, buf, cfg.size, NULL);
		full_write(fd, buf, cfg.size, NULL);
		close(fd);
	}
	wait_flag(&t->done);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "conns", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "keep", required_argument, NULL, 'k' },
		{ "greet", no_argument, NULL, 'g' },
		{ "rate", required_argument, NULL, 'r' },
		COMMON_LONG_OPTS,
	};
	struct tally *t;
	int c, lfd = -1;
	char *buf;
	FILE *out;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'n')
			cfg.conns = num(optarg, "conns", 1, 1000000);
		else if (c == 's')
			cfg.size = num(optarg, "size", 1, 65536);
		else if (c == 'k')
			cfg.keep = num(optarg, "keep", 0, 1000000);
		else if (c == 'g')
			cfg.greet = true;
		else if (c == 'r')
			cfg.rate = num(optarg, "rate", 1, 1000000);
		else
			common_opt(c, usage_text);
	}
	if (optind + 1 != argc || (int)(cfg.mode = name_index(mode_names, M_NR, argv[optind])) < 0)
		usage_error("want one MODE: tcp, unix, abstract, socketpair or udp");
	if (cfg.keep > cfg.conns || (cfg.keep && cfg.mode == M_SOCKETPAIR))
		usage_error("--keep: at most --conns, and not with socketpair");
	if (cfg.greet && (cfg.mode == M_SOCKETPAIR || cfg.mode == M_UDP))
		usage_error("--greet: tcp, unix or abstract");
	signals_init();
	wl.initial = getpid();
	set_name("svc-server");
	t = map_shared(sizeof(*t));
	buf = alloc_buf(cfg.size);
	set_addr();
	if (cfg.mode == M_SOCKETPAIR) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, cfg.pair))
			fail("socketpair:");
	} else {
		lfd = listener();
	}
	if (fork_kid() == 0) {
		if (cfg.mode == M_SOCKETPAIR)
			close(cfg.pair[0]);
		else
			close(lfd);
		client(t, buf);
	}
	if (cfg.mode == M_SOCKETPAIR)
		close(cfg.pair[1]);
	serve(lfd, buf, t);
	initial_done();
	if (cfg.mode == M_UNIX)
		unlink(((struct sockaddr_un *)&cfg.addr)->sun_path);
	out = wl.out ? fopen(wl.out, "w") : stdout;
	if (!out)
		fail("%s:", wl.out);
	fprintf(out, "{\"mode\":\"%s\",\"server\":%d,\"client\":%d,\"service\":\"%s\","
		     "\"conns\":%lu,\"sends\":%" PRIu64 ",\"sent\":%" PRIu64 ","
		     "\"recvs\":%" PRIu64 ",\"received\":%" PRIu64 "}\n",
		mode_names[cfg.mode], (int)getpid(), t->client, cfg.service, cfg.conns,
		t->sends, t->sent, t->recvs, t->received);
	if (out != stdout && fclose(out))
		fail("%s:", wl.out);
	return 0;
}
