// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * netpeer - one end of a TCP conversation between two hosts (or two
 * network namespaces), for the merged-recordings test: the server listens
 * on an address it is given, the client connects to it, and each reports,
 * as JSON, every call it made on the connection (calls, bytes, errors),
 * as ipcload does. One connection, --count messages of --size bytes from
 * the client, each answered with --reply-size bytes, then the client
 * closes and the server reads the EOF.
 *
 *   netpeer server --listen ADDR:PORT [options]   comm "net-server"
 *   netpeer client --connect ADDR:PORT [options]  comm "net-client"
 *
 * The client retries its connect until the server listens (up to
 * --timeout); connect() moves no bytes, so the retries are not rows.
 */
#define WL_PROG		"netpeer"
#include "workload.h"

static struct {
	bool server;
	const char *addr;
	unsigned long count, size, reply;
} cfg = { .count = 100, .size = 100, .reply = 10 };

static socklen_t parse_addr(const char *s, struct sockaddr_in *sin)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		usage_error("want IPV4:PORT, got '%s'", s);
	memcpy(host, s, colon - s);
	host[colon - s] = 0;
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(num(colon + 1, "port", 1, 65535));
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
		usage_error("'%s' is not an IPv4 address", host);
	return sizeof(*sin);
}

static int serve_one(const struct sockaddr_in *sin)
{
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fd;

	if (l < 0)
		fail("socket:");
	setopt_one(l, SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR");
	if (bind(l, (const struct sockaddr *)sin, sizeof(*sin)))
		fail("bind %s:", cfg.addr);
	if (listen(l, 1))
		fail("listen:");
	fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		fail("accept:");
	close_fd(&l);
	return fd;
}

static int connect_one(const struct sockaddr_in *sin)
{
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			fail("socket:");
		if (!connect(fd, (const struct sockaddr *)sin, sizeof(*sin)))
			return fd;
		if (errno != ECONNREFUSED)
			fail("connect %s:", cfg.addr);
		close_fd(&fd);
		sleep_ms(20);	/* the server is not listening yet; the watchdog bounds this */
	}
}

static const char usage_text[] =
"usage: netpeer server --listen ADDR:PORT [options]\n"
"       netpeer client --connect ADDR:PORT [options]\n"
"One end of a TCP conversation; reports its calls as JSON.\n"
"\n"
"  --count N           client messages [100]\n"
"  --size BYTES        client message size, 1..1048576 [100]\n"
"  --reply-size BYTES  server reply per message, 0 = none [10]\n"
"  --delay-ms MS       print \"ready PID\" on stderr and sleep first [0]\n"
"  --hold-ms MS        sleep after the conversation [0]\n"
"  --timeout S         fail if it takes longer, 0 = never [300]\n"
"  --out FILE          write the report to FILE instead of stdout\n"
"  -h, --help          this text\n";

enum { OPT_LISTEN = 1, OPT_CONNECT, OPT_COUNT, OPT_SIZE, OPT_REPLY };

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen",	required_argument, NULL, OPT_LISTEN },
		{ "connect",	required_argument, NULL, OPT_CONNECT },
		{ "count",	required_argument, NULL, OPT_COUNT },
		{ "size",	required_argument, NULL, OPT_SIZE },
		{ "reply-size",	required_argument, NULL, OPT_REPLY },
		COMMON_LONG_OPTS,
	};
	static struct proc self;
	struct sockaddr_in sin;
	struct row *tx, *rx;
	char chan[CHAN_LEN], *buf;
	struct sbuf b;
	int c, fd;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:	cfg.addr = optarg; cfg.server = true; break;
		case OPT_CONNECT:	cfg.addr = optarg; cfg.server = false; break;
		case OPT_COUNT:	cfg.count = num(optarg, "count", 1, 100000000ul); break;
		case OPT_SIZE:	cfg.size = num(optarg, "size", 1, 1u << 20); break;
		case OPT_REPLY:	cfg.reply = num(optarg, "reply-size", 0, 1u << 20); break;
		default:	common_opt(c, usage_text);
		}
	}
	if (optind + 1 != argc || (strcmp(argv[optind], "server") && strcmp(argv[optind], "client")))
		usage_error("want exactly one role: server or client");
	if (!cfg.addr || cfg.server != !strcmp(argv[optind], "server"))
		usage_error("server takes --listen, client --connect");
	parse_addr(cfg.addr, &sin);
	me = &self;
	self.pid = getpid();
	self.role = cfg.server;
	wl.initial = self.pid;
	signals_init();
	set_name(cfg.server ? "net-server" : "net-client");
	if (wl.delay_ms)
		fprintf(stderr, "ready %d\n", (int)self.pid);
	start_traffic();
	buf = alloc_buf(cfg.size > cfg.reply ? cfg.size : cfg.reply);
	fd = cfg.server ? serve_one(&sin) : connect_one(&sin);
	nodelay(fd);
	tcp_channel(fd, chan);
	tx = row_new(K_TCP, D_SEND, chan);
	rx = row_new(K_TCP, D_RECV, chan);
	for (unsigned long i = 0; i < cfg.count; i++) {
		if (cfg.server) {
			read_all(fd, rx, buf, cfg.size, "request");
			if (cfg.reply)
				write_all(fd, tx, buf, cfg.reply, "reply");
		} else {
			write_all(fd, tx, buf, cfg.size, "request");
			if (cfg.reply)
				read_all(fd, rx, buf, cfg.reply, "reply");
		}
	}
	if (cfg.server)
		read_eof(fd, rx, buf, cfg.size, "after the last request");
	close_fd(&fd);
	alarm(0);
	sleep_ms(wl.hold_ms);
	sb_init(&b);
	sb_printf(&b, "{\"processes\":[\n");
	sb_proc(&b, &self, cfg.server ? "net-server" : "net-client",
		cfg.server ? "server" : "client");
	sb_boundaries(&b, &self, "", false, true);
	sb_printf(&b, "]}\n");
	sb_flush(&b);
	free(buf);
	return 0;
}
