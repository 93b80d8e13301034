// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * netdiag: /proc/net/{tcp,tcp6,udp} lines from hand-made fixtures and
 * malformed ones, v4-mapped address equality, then live sockets: unix
 * pairs and a bound listener through sock_diag, loopback TCP and UDP
 * through /proc/net, each matched by the inode fstat() gives.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>
#include <linux/unix_diag.h>
#include "discover/netdiag.h"
#include "testutil.h"

/* TCP states as /proc/net and sock_diag number them (include/net/tcp_states.h). */
enum { ST_ESTABLISHED = 1, ST_TIME_WAIT = 6, ST_CLOSE = 7, ST_CLOSING = 8, ST_LISTEN = 10 };

static uint64_t ino_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

/* ---- /proc/net lines ----------------------------------------------- */

struct want {
	const char *laddr;
	uint16_t lport;
	const char *raddr;
	uint16_t rport;
	uint8_t state;
	uint64_t ino;
};

static void expect_sock(const struct bt_inet_sock *s, int family, uint8_t proto,
			const struct want *w)
{
	uint8_t l[16] = { 0 }, r[16] = { 0 };

	assert_int_equal(inet_pton(family, w->laddr, l), 1);
	assert_int_equal(inet_pton(family, w->raddr, r), 1);
	assert_int_equal(s->family, family);
	assert_int_equal(s->proto, proto);
	assert_memory_equal(s->laddr, l, 16);
	assert_memory_equal(s->raddr, r, 16);
	assert_int_equal(s->lport, w->lport);
	assert_int_equal(s->rport, w->rport);
	assert_int_equal(s->state, w->state);
	assert_int_equal(s->ino, w->ino);
}

/*
 * The fixtures hold what a little-endian kernel prints: addresses are
 * 32-bit words in host order, so a big-endian one prints other digits.
 */
static void skip_unless_little_endian(void)
{
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	skip();
#endif
}

static void check_fixture(const char *path, int family, uint8_t proto,
			  const struct want *want, size_t nwant)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, i = 0;
	struct bt_inet_sock s;

	skip_unless_little_endian();
	assert_non_null(f);
	/* The header is no socket. */
	assert_true(getline(&line, &cap, f) > 0);
	assert_int_equal(bt_parse_proc_net_line(line, family, proto, &s), -1);
	while (getline(&line, &cap, f) > 0) {
		assert_true(i < nwant);
		memset(&s, 0xee, sizeof(s));
		if (bt_parse_proc_net_line(line, family, proto, &s))
			fail_msg("%s: rejected line %zu: %s", path, i + 1, line);
		expect_sock(&s, family, proto, &want[i]);
		i++;
	}
	assert_int_equal(i, nwant);
	free(line);
	fclose(f);
}

static void test_fixture_tcp(void **state)
{
	static const struct want want[] = {
		{ "0.0.0.0", 8080, "0.0.0.0", 0, ST_LISTEN, 12345 },
		{ "127.0.0.1", 8080, "127.0.0.1", 54321, ST_ESTABLISHED, 23456 },
		/* TIME_WAIT: no file, inode 0. */
		{ "127.0.0.1", 51698, "127.0.0.1", 60035, ST_TIME_WAIT, 0 },
		/* An inode past 32 bits. */
		{ "192.168.1.10", 443, "10.0.0.5", 50000, ST_ESTABLISHED, 98765432101ULL },
	};

	(void)state;
	check_fixture("fixtures/net_tcp.txt", AF_INET, IPPROTO_TCP, want, 4);
}

static void test_fixture_tcp6(void **state)
{
	static const struct want want[] = {
		{ "::", 22, "::", 0, ST_LISTEN, 2001 },
		{ "::1", 8080, "::1", 40000, ST_ESTABLISHED, 2002 },
		{ "::ffff:127.0.0.1", 5000, "::ffff:127.0.0.1", 6000, ST_ESTABLISHED, 2003 },
		{ "2001:db8::1", 443, "2001:db8::abcd:1234", 58020, ST_CLOSING, 2004 },
	};

	(void)state;
	check_fixture("fixtures/net_tcp6.txt", AF_INET6, IPPROTO_TCP, want, 4);
}

static void test_fixture_udp(void **state)
{
	static const struct want want[] = {
		{ "0.0.0.0", 68, "0.0.0.0", 0, ST_CLOSE, 3001 },
		{ "127.0.0.1", 12345, "127.0.0.1", 55555, ST_ESTABLISHED, 3002 },
	};

	(void)state;
	check_fixture("fixtures/net_udp.txt", AF_INET, IPPROTO_UDP, want, 2);
}

/* Fields after the remote address, as the kernel prints them. */
#define MID " 00000000:00000000 00:00000000 00000000  1000        0 "
#define V6Z "00000000000000000000000000000000"

static void test_parse_line_edges(void **state)
{
	struct bt_inet_sock s;
	struct want w = { "127.0.0.1", 0xabcd, "127.0.0.1", 0xff, ST_ESTABLISHED, 7 };

	(void)state;
	skip_unless_little_endian();
	/* Lowercase hex, no trailing fields, no newline. */
	assert_int_equal(bt_parse_proc_net_line("0: 0100007f:abcd 0100007f:00ff 01" MID "7",
						AF_INET, IPPROTO_TCP, &s), 0);
	expect_sock(&s, AF_INET, IPPROTO_TCP, &w);
	/* Tabs do as well as spaces; a newline right after the inode. */
	assert_int_equal(bt_parse_proc_net_line("\t0:\t0100007F:ABCD\t0100007F:00FF\t01" MID "7\n",
						AF_INET, IPPROTO_UDP, &s), 0);
	expect_sock(&s, AF_INET, IPPROTO_UDP, &w);
	/* The largest inode. */
	assert_int_equal(bt_parse_proc_net_line("0: 0100007F:ABCD 0100007F:00FF 01" MID
						"18446744073709551615 1 0",
						AF_INET, IPPROTO_TCP, &s), 0);
	assert_int_equal(s.ino, UINT64_MAX);
	/* Ports at the ends of their range, state as printed. */
	assert_int_equal(bt_parse_proc_net_line("99: " V6Z ":FFFF " V6Z ":0000 0C" MID "5",
						AF_INET6, IPPROTO_TCP, &s), 0);
	assert_int_equal(s.lport, 65535);
	assert_int_equal(s.rport, 0);
	assert_int_equal(s.state, 12);
	assert_int_equal(s.family, AF_INET6);
	assert_int_equal(s.ino, 5);
}

static void expect_bad_line(const char *line, int family)
{
	struct bt_inet_sock s, before;

	memset(&s, 0x5a, sizeof(s));
	before = s;
	if (bt_parse_proc_net_line(line, family, IPPROTO_TCP, &s) != -1)
		fail_msg("accepted line '%s'", line ? line : "(null)");
	/* *out is only written on success. */
	assert_memory_equal(&s, &before, sizeof(s));
}

static void test_parse_line_malformed(void **state)
{
	struct bt_inet_sock s;

	(void)state;
	expect_bad_line(NULL, AF_INET);
	expect_bad_line("", AF_INET);
	expect_bad_line("\n", AF_INET);
	expect_bad_line("  sl  local_address rem_address   st tx_queue rx_queue tr", AF_INET);
	/* Cut short: at the local address, before the inode, after timeout. */
	expect_bad_line("   0: 0100007F:1F90", AF_INET);
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 01", AF_INET);
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 01" MID, AF_INET);
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000", AF_INET);
	/* Slot number. */
	expect_bad_line("   0 0100007F:1F90 0100007F:D431 01" MID "5", AF_INET);
	expect_bad_line("   x: 0100007F:1F90 0100007F:D431 01" MID "5", AF_INET);
	expect_bad_line("   0:0100007F:1F90 0100007F:D431 01" MID "5", AF_INET);
	/* Address and port widths and digits. */
	expect_bad_line("   0: 100007F:1F90 0100007F:D431 01" MID "5", AF_INET);
	expect_bad_line("   0: 00100007F:1F90 0100007F:D431 01" MID "5", AF_INET);
	expect_bad_line("   0: 0100007G:1F90 0100007F:D431 01" MID "5", AF_INET);
	expect_bad_line("   0: 0100007F:1F9 0100007F:D431 01" MID "5", AF_INET);
	expect_bad_line("   0: 0100007F:01F90 0100007F:D431 01" MID "5", AF_INET);
	expect_bad_line("   0: 0100007F-1F90 0100007F:D431 01" MID "5", AF_INET);
	expect_bad_line("   0: 0100007F:1F90 0100007F:D43 01" MID "5", AF_INET);
	expect_bad_line("   0: 0100007F:1F90 0100007F D431 01" MID "5", AF_INET);
	/* State. */
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 1" MID "5", AF_INET);
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 001" MID "5", AF_INET);
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 0Z" MID "5", AF_INET);
	/* Inode. */
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 01" MID "12x45 1", AF_INET);
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 01" MID "-5 1", AF_INET);
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 01" MID "18446744073709551616", AF_INET);
	/* A v6 line read as v4 and the other way round. */
	expect_bad_line("   0: " V6Z ":0016 " V6Z ":0000 0A" MID "5", AF_INET);
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 01" MID "5", AF_INET6);
	expect_bad_line("   0: 0000000000000000000000000100000:0016 " V6Z ":0000 0A" MID "5", AF_INET6);
	/* Only AF_INET and AF_INET6. */
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 01" MID "5", AF_UNIX);
	expect_bad_line("   0: 0100007F:1F90 0100007F:D431 01" MID "5", 0);
	assert_int_equal(bt_parse_proc_net_line("0: 0100007F:1F90 0100007F:D431 01" MID "5",
						AF_INET, IPPROTO_TCP, NULL), -1);
	/* And the good line those were made from. */
	assert_int_equal(bt_parse_proc_net_line("   0: 0100007F:1F90 0100007F:D431 01" MID "5",
						AF_INET, IPPROTO_TCP, &s), 0);
	assert_int_equal(s.ino, 5);
}

static void test_addr_equal(void **state)
{
	uint8_t v4[16] = { 0 }, v4b[16] = { 0 }, mapped[16], mappedb[16], v6[16], compat[16];

	(void)state;
	assert_int_equal(inet_pton(AF_INET, "127.0.0.1", v4), 1);
	assert_int_equal(inet_pton(AF_INET, "127.0.0.2", v4b), 1);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", mapped), 1);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.2", mappedb), 1);
	assert_int_equal(inet_pton(AF_INET6, "::1", v6), 1);
	/* ::127.0.0.1, the deprecated v4-compatible form: not the same. */
	assert_int_equal(inet_pton(AF_INET6, "::7f00:1", compat), 1);

	assert_true(bt_inet_addr_equal(AF_INET, v4, AF_INET, v4));
	assert_true(bt_inet_addr_equal(AF_INET6, v6, AF_INET6, v6));
	assert_true(bt_inet_addr_equal(AF_INET6, mapped, AF_INET, v4));
	assert_true(bt_inet_addr_equal(AF_INET, v4, AF_INET6, mapped));
	assert_true(bt_inet_addr_equal(AF_INET6, mapped, AF_INET6, mapped));

	assert_false(bt_inet_addr_equal(AF_INET, v4, AF_INET, v4b));
	assert_false(bt_inet_addr_equal(AF_INET6, mappedb, AF_INET, v4));
	assert_false(bt_inet_addr_equal(AF_INET6, mapped, AF_INET6, mappedb));
	assert_false(bt_inet_addr_equal(AF_INET6, v6, AF_INET, v4));
	assert_false(bt_inet_addr_equal(AF_INET6, compat, AF_INET, v4));
	assert_false(bt_inet_addr_equal(AF_INET6, v6, AF_INET6, mapped));
	/* Only the first 4 bytes of a v4 address count. */
	v4b[0] = 127, v4b[1] = 0, v4b[2] = 0, v4b[3] = 1, v4b[8] = 0x55;
	assert_true(bt_inet_addr_equal(AF_INET, v4, AF_INET, v4b));
	assert_false(bt_inet_addr_equal(AF_UNIX, v4, AF_UNIX, v4));
	assert_false(bt_inet_addr_equal(AF_INET, v4, AF_INET, NULL));
	assert_false(bt_inet_addr_equal(AF_INET, NULL, AF_INET, v4));
}

/* ---- sock_diag replies, hand-built --------------------------------- */

struct usocks {
	struct bt_unix_sock *arr;
	size_t n, cap;
};

/* A recv() buffer of netlink messages, built up like the kernel would. */
struct nlbuf {
	uint32_t w[2048];	/* netlink's 4-byte alignment */
	size_t len;
	struct nlmsghdr *last;
};

static void *nl_tail(struct nlbuf *b)
{
	return (char *)b->w + b->len;
}

static struct nlmsghdr *nl_msg(struct nlbuf *b, uint16_t type, uint16_t flags, uint32_t seq,
			       const void *payload, size_t plen)
{
	struct nlmsghdr *h = nl_tail(b);

	assert_true(b->len + NLMSG_SPACE(plen) <= sizeof(b->w));
	memset(h, 0, NLMSG_SPACE(plen));
	h->nlmsg_len = NLMSG_LENGTH(plen);
	h->nlmsg_type = type;
	h->nlmsg_flags = flags;
	h->nlmsg_seq = seq;
	if (plen)
		memcpy(NLMSG_DATA(h), payload, plen);
	b->len += NLMSG_ALIGN(h->nlmsg_len);
	b->last = h;
	return h;
}

static void nl_diag(struct nlbuf *b, uint32_t seq, uint32_t ino, uint8_t type, uint8_t state)
{
	struct unix_diag_msg m = {
		.udiag_family = AF_UNIX, .udiag_type = type, .udiag_state = state, .udiag_ino = ino,
	};

	nl_msg(b, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, &m, sizeof(m));
}

/* An attribute on the last message. */
static void nl_attr(struct nlbuf *b, uint16_t type, const void *data, size_t dlen)
{
	struct rtattr *rta = nl_tail(b);

	assert_true(b->len + RTA_SPACE(dlen) <= sizeof(b->w));
	memset(rta, 0, RTA_SPACE(dlen));
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(dlen);
	memcpy(RTA_DATA(rta), data, dlen);
	b->last->nlmsg_len = NLMSG_ALIGN(b->last->nlmsg_len) + RTA_LENGTH(dlen);
	b->len += RTA_SPACE(dlen);
}

static void nl_peer(struct nlbuf *b, uint32_t peer)
{
	nl_attr(b, UNIX_DIAG_PEER, &peer, sizeof(peer));
}

static void nl_done(struct nlbuf *b, uint32_t seq, int err)
{
	nl_msg(b, NLMSG_DONE, NLM_F_MULTI, seq, &err, sizeof(err));
}

static int diag_parse(const struct nlbuf *b, uint32_t seq, bool *intr, struct usocks *u)
{
	return bt_unix_diag_parse(b->w, b->len, seq, intr, &u->arr, &u->n, &u->cap);
}

static void expect_entry(const struct bt_unix_sock *s, uint64_t ino, uint64_t peer,
			 uint8_t type, uint8_t state, const char *path)
{
	assert_int_equal(s->ino, ino);
	assert_int_equal(s->peer_ino, peer);
	assert_int_equal(s->type, type);
	assert_int_equal(s->state, state);
	assert_string_equal(s->path, path);
}

/* A dump over two reads, ending with NLMSG_DONE. */
static void test_diag_multipart(void **state)
{
	struct nlbuf b1 = { 0 }, b2 = { 0 };
	struct usocks u = { 0 };
	bool intr = false;

	(void)state;
	nl_diag(&b1, 7, 100, SOCK_STREAM, ST_LISTEN);
	/* Pathnames come with their NUL. */
	nl_attr(&b1, UNIX_DIAG_NAME, "/run/x.sock", 12);
	nl_diag(&b1, 7, 101, SOCK_STREAM, ST_ESTABLISHED);
	nl_peer(&b1, 102);
	nl_diag(&b2, 7, 102, SOCK_SEQPACKET, ST_ESTABLISHED);
	nl_peer(&b2, 101);
	nl_attr(&b2, UNIX_DIAG_NAME, "\0name\0x", 7);
	nl_done(&b2, 7, 0);

	assert_int_equal(diag_parse(&b1, 7, &intr, &u), 0);
	assert_int_equal(u.n, 2);
	assert_int_equal(diag_parse(&b2, 7, &intr, &u), 1);
	assert_int_equal(u.n, 3);
	assert_false(intr);
	expect_entry(&u.arr[0], 100, 0, SOCK_STREAM, ST_LISTEN, "/run/x.sock");
	expect_entry(&u.arr[1], 101, 102, SOCK_STREAM, ST_ESTABLISHED, "");
	expect_entry(&u.arr[2], 102, 101, SOCK_SEQPACKET, ST_ESTABLISHED, "@name@x");
	free(u.arr);
}

static void test_diag_names(void **state)
{
	char longpath[108], longabs[108], want[108];
	struct nlbuf b = { 0 };
	struct usocks u = { 0 };
	bool intr = false;

	(void)state;
	/* A full sun_path without NUL, path or abstract: cut to fit with the NUL. */
	memset(longpath, 'p', sizeof(longpath));
	longpath[0] = '/';
	memset(longabs, 'a', sizeof(longabs));
	longabs[0] = 0;
	nl_diag(&b, 1, 1, SOCK_STREAM, ST_LISTEN);
	nl_attr(&b, UNIX_DIAG_NAME, longpath, sizeof(longpath));
	nl_diag(&b, 1, 2, SOCK_DGRAM, ST_CLOSE);
	nl_attr(&b, UNIX_DIAG_NAME, longabs, sizeof(longabs));
	/* What follows a path's NUL is not part of it. */
	nl_diag(&b, 1, 3, SOCK_DGRAM, ST_CLOSE);
	nl_attr(&b, UNIX_DIAG_NAME, "/a\0junk", 7);
	nl_diag(&b, 1, 4, SOCK_DGRAM, ST_CLOSE);
	nl_attr(&b, UNIX_DIAG_NAME, "", 0);
	/* Autobind: a NUL and five hex digits. */
	nl_diag(&b, 1, 5, SOCK_DGRAM, ST_CLOSE);
	nl_attr(&b, UNIX_DIAG_NAME, "\0" "0001f", 6);
	nl_done(&b, 1, 0);

	assert_int_equal(diag_parse(&b, 1, &intr, &u), 1);
	assert_int_equal(u.n, 5);
	memcpy(want, longpath, 107);
	want[107] = 0;
	expect_entry(&u.arr[0], 1, 0, SOCK_STREAM, ST_LISTEN, want);
	memset(want, 'a', 107);
	want[0] = '@';
	expect_entry(&u.arr[1], 2, 0, SOCK_DGRAM, ST_CLOSE, want);
	expect_entry(&u.arr[2], 3, 0, SOCK_DGRAM, ST_CLOSE, "/a");
	expect_entry(&u.arr[3], 4, 0, SOCK_DGRAM, ST_CLOSE, "");
	expect_entry(&u.arr[4], 5, 0, SOCK_DGRAM, ST_CLOSE, "@0001f");
	free(u.arr);
}

/* What is skipped: stale replies, other families, acks, unknown types and attributes. */
static void test_diag_skipped(void **state)
{
	struct unix_diag_msg inet = { .udiag_family = AF_INET, .udiag_ino = 50 };
	struct nlmsgerr ack = { .error = 0 };
	struct nlbuf b = { 0 };
	struct usocks u = { 0 };
	uint16_t short_peer = 9;
	bool intr = false;

	(void)state;
	nl_diag(&b, 3, 40, SOCK_STREAM, ST_ESTABLISHED);	/* an older request's */
	nl_done(&b, 3, 0);
	nl_msg(&b, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 4, &inet, sizeof(inet));
	nl_msg(&b, NLMSG_ERROR, 0, 4, &ack, sizeof(ack));
	nl_msg(&b, NLMSG_NOOP, 0, 4, NULL, 0);
	nl_diag(&b, 4, 41, SOCK_DGRAM, ST_CLOSE);
	nl_attr(&b, UNIX_DIAG_RQLEN, "\1\0\0\0\2\0\0\0", 8);
	nl_attr(&b, UNIX_DIAG_PEER, &short_peer, sizeof(short_peer));
	nl_attr(&b, 99, "x", 1);

	assert_int_equal(diag_parse(&b, 4, &intr, &u), 0);
	assert_int_equal(u.n, 1);
	expect_entry(&u.arr[0], 41, 0, SOCK_DGRAM, ST_CLOSE, "");
	assert_false(intr);

	/* A torn dump is flagged, its sockets still taken. */
	memset(&b, 0, sizeof(b));
	nl_diag(&b, 5, 42, SOCK_STREAM, ST_ESTABLISHED);
	b.last->nlmsg_flags |= NLM_F_DUMP_INTR;
	assert_int_equal(diag_parse(&b, 5, &intr, &u), 0);
	assert_true(intr);
	assert_int_equal(u.n, 2);
	free(u.arr);
}

/* An inet reply: what /proc/net/tcp would show, read from the message. */
static void nl_inet(struct nlbuf *b, uint32_t seq, uint8_t family, uint8_t state, uint32_t ino,
		    const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct inet_diag_msg m = {
		.idiag_family = family, .idiag_state = state, .idiag_inode = ino,
		.id = { .idiag_sport = htons(sport), .idiag_dport = htons(dport) },
	};

	assert_int_equal(inet_pton(family, src, m.id.idiag_src), 1);
	assert_int_equal(inet_pton(family, dst, m.id.idiag_dst), 1);
	nl_msg(b, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, seq, &m, sizeof(m));
}

static void test_inet_diag_replies(void **state)
{
	struct unix_diag_msg unx = { .udiag_family = AF_UNIX, .udiag_ino = 9 };
	struct bt_inet_sock *arr = NULL, want = { 0 };
	size_t n = 0, cap = 0;
	struct nlbuf b = { 0 };
	bool intr = false;
	int bad;

	(void)state;
	nl_inet(&b, 2, AF_INET, ST_ESTABLISHED, 300, "127.0.0.1", 8080, "127.0.0.2", 40000);
	nl_inet(&b, 1, AF_INET, ST_LISTEN, 301, "0.0.0.0", 1, "0.0.0.0", 0);	/* stale */
	nl_msg(&b, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 2, &unx, sizeof(unx));	/* not inet */
	nl_inet(&b, 2, AF_INET6, ST_LISTEN, 302, "::1", 443, "::", 0);
	nl_done(&b, 2, 0);
	assert_int_equal(bt_inet_diag_parse(b.w, b.len, 2, IPPROTO_TCP, &intr, &arr, &n, &cap), 1);
	assert_false(intr);
	assert_int_equal(n, 2);

	want.ino = 300, want.proto = IPPROTO_TCP, want.family = AF_INET;
	want.state = ST_ESTABLISHED, want.lport = 8080, want.rport = 40000;
	memcpy(want.laddr, (uint8_t[]){ 127, 0, 0, 1 }, 4);
	memcpy(want.raddr, (uint8_t[]){ 127, 0, 0, 2 }, 4);
	assert_memory_equal(&arr[0], &want, sizeof(want));
	memset(&want, 0, sizeof(want));
	want.ino = 302, want.proto = IPPROTO_TCP, want.family = AF_INET6;
	want.state = ST_LISTEN, want.lport = 443;
	want.laddr[15] = 1;
	assert_memory_equal(&arr[1], &want, sizeof(want));

	/* A reply shorter than its message: the dump is refused, nothing added. */
	memset(&b, 0, sizeof(b));
	bad = AF_INET;	/* the family byte, then nothing */
	nl_msg(&b, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 3, &bad, sizeof(bad));
	assert_int_equal(bt_inet_diag_parse(b.w, b.len, 3, IPPROTO_UDP, &intr, &arr, &n, &cap),
			 -EIO);
	assert_int_equal(n, 2);
	free(arr);
}

static int parse_alone(struct nlbuf *b, uint32_t seq)
{
	struct usocks u = { 0 };
	bool intr = false;
	int ret = diag_parse(b, seq, &intr, &u);

	free(u.arr);
	return ret;
}

static void test_diag_errors(void **state)
{
	struct nlmsgerr e = { .error = -EPERM };
	struct nlbuf b = { 0 };
	struct rtattr *rta;
	int short_err = -ENOBUFS;

	(void)state;
	nl_msg(&b, NLMSG_ERROR, 0, 1, &e, sizeof(e));
	assert_int_equal(parse_alone(&b, 1), -EPERM);

	memset(&b, 0, sizeof(b));
	nl_done(&b, 1, -ENOBUFS);
	assert_int_equal(parse_alone(&b, 1), -ENOBUFS);

	/* An error message too short for its struct. */
	memset(&b, 0, sizeof(b));
	nl_msg(&b, NLMSG_ERROR, 0, 1, &short_err, sizeof(short_err));
	assert_int_equal(parse_alone(&b, 1), -EIO);

	/* A DONE without payload still ends the dump. */
	memset(&b, 0, sizeof(b));
	nl_msg(&b, NLMSG_DONE, NLM_F_MULTI, 1, NULL, 0);
	assert_int_equal(parse_alone(&b, 1), 1);

	/* Lengths past the buffer, under a header, and a torn header at the end. */
	memset(&b, 0, sizeof(b));
	nl_diag(&b, 1, 1, SOCK_STREAM, ST_CLOSE);
	b.last->nlmsg_len += 4;
	assert_int_equal(parse_alone(&b, 1), -EIO);
	b.last->nlmsg_len = 8;
	assert_int_equal(parse_alone(&b, 1), -EIO);
	b.last->nlmsg_len = NLMSG_LENGTH(sizeof(struct unix_diag_msg));
	assert_int_equal(parse_alone(&b, 1), 0);
	b.len += 8;
	assert_int_equal(parse_alone(&b, 1), -EIO);

	/* A diag message shorter than struct unix_diag_msg. */
	memset(&b, 0, sizeof(b));
	nl_msg(&b, SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 1, "\1\1\1\1", 4);
	assert_int_equal(parse_alone(&b, 1), -EIO);

	/* Attributes running past their message, or shorter than their header. */
	memset(&b, 0, sizeof(b));
	nl_diag(&b, 1, 1, SOCK_STREAM, ST_CLOSE);
	nl_peer(&b, 2);
	rta = (struct rtattr *)((char *)b.last + NLMSG_LENGTH(sizeof(struct unix_diag_msg)));
	rta->rta_len = 12;
	assert_int_equal(parse_alone(&b, 1), -EIO);
	rta->rta_len = 2;
	assert_int_equal(parse_alone(&b, 1), -EIO);
	rta->rta_len = 8;
	assert_int_equal(parse_alone(&b, 1), 0);
}

/* ---- unix sockets, live -------------------------------------------- */

static const struct bt_unix_sock *find_unix(const struct usocks *u, uint64_t ino)
{
	const struct bt_unix_sock *hit = NULL;
	size_t i;

	for (i = 0; i < u->n; i++) {
		if (u->arr[i].ino != ino)
			continue;
		if (hit)
			fail_msg("unix socket %llu listed twice", (unsigned long long)ino);
		hit = &u->arr[i];
	}
	if (!hit)
		fail_msg("unix socket %llu not among %zu", (unsigned long long)ino, u->n);
	return hit;
}

static void expect_unix(const struct usocks *u, int fd, int peer_fd, int type, int state,
			const char *path)
{
	const struct bt_unix_sock *s = find_unix(u, ino_of(fd));

	assert_int_equal(s->peer_ino, peer_fd >= 0 ? ino_of(peer_fd) : 0);
	assert_int_equal(s->type, type);
	assert_int_equal(s->state, state);
	assert_string_equal(s->path, path);
}

static void test_unix_socketpairs(void **state)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	int sp[3][2];
	struct usocks u = { 0 };
	size_t i, n1;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(socketpair(AF_UNIX, types[i] | SOCK_CLOEXEC, 0, sp[i]), 0);
	assert_int_equal(bt_unix_socks(&u.arr, &u.n, &u.cap), 0);
	for (i = 0; i < 3; i++) {
		expect_unix(&u, sp[i][0], sp[i][1], types[i], ST_ESTABLISHED, "");
		expect_unix(&u, sp[i][1], sp[i][0], types[i], ST_ESTABLISHED, "");
	}
	/* A second dump appends a second copy. */
	n1 = u.n;
	assert_int_equal(bt_unix_socks(&u.arr, &u.n, &u.cap), 0);
	assert_true(u.n > n1);
	assert_true(u.cap >= u.n);
	for (i = 0; i < 3; i++) {
		close(sp[i][0]);
		close(sp[i][1]);
	}
	free(u.arr);
}

static void test_unix_bound(void **state)
{
	char dir[] = "/tmp/bt-netdiag-XXXXXX", abs_name[64], want_abs[64];
	struct sockaddr_un sa = { .sun_family = AF_UNIX }, da = { .sun_family = AF_UNIX };
	struct usocks u = { 0 };
	int l, c, a, d, len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0 && c >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0);
	a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(a >= 0);

	/* Abstract, with a NUL inside the name too. */
	d = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(d >= 0);
	len = snprintf(abs_name, sizeof(abs_name), "%cbt-netdiag-%d%cx", 0, (int)getpid(), 0);
	snprintf(want_abs, sizeof(want_abs), "@bt-netdiag-%d@x", (int)getpid());
	memcpy(da.sun_path, abs_name, len);
	assert_int_equal(bind(d, (struct sockaddr *)&da, offsetof(struct sockaddr_un, sun_path) + len), 0);

	assert_int_equal(bt_unix_socks(&u.arr, &u.n, &u.cap), 0);
	expect_unix(&u, l, -1, SOCK_STREAM, ST_LISTEN, sa.sun_path);
	/* The accepted socket carries the listener's name, the client none. */
	expect_unix(&u, a, c, SOCK_STREAM, ST_ESTABLISHED, sa.sun_path);
	expect_unix(&u, c, a, SOCK_STREAM, ST_ESTABLISHED, "");
	expect_unix(&u, d, -1, SOCK_DGRAM, ST_CLOSE, want_abs);

	close(a);
	close(c);
	close(l);
	close(d);
	unlink(sa.sun_path);
	rmdir(dir);
	free(u.arr);
}

static void test_unix_errors(void **state)
{
	struct bt_unix_sock *arr = NULL;
	size_t zero = 0, one = 1;

	(void)state;
	assert_int_equal(bt_unix_socks(NULL, &zero, &zero), -EINVAL);
	assert_int_equal(bt_unix_socks(&arr, &one, &zero), -EINVAL);
	assert_int_equal(bt_unix_socks(&arr, &zero, &one), -EINVAL);
	assert_null(arr);
}

/* ---- TCP and UDP, live --------------------------------------------- */

struct isocks {
	struct bt_inet_sock *arr;
	size_t n, cap;
};

static const struct bt_inet_sock *find_inet(const struct isocks *s, int fd)
{
	const struct bt_inet_sock *hit = NULL;
	uint64_t ino = ino_of(fd);
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (s->arr[i].ino != ino)
			continue;
		if (hit)
			fail_msg("socket %llu listed twice", (unsigned long long)ino);
		hit = &s->arr[i];
	}
	if (!hit)
		fail_msg("socket %llu (fd %d) not among %zu", (unsigned long long)ino, fd, s->n);
	return hit;
}

/* Address and port of a socket's own or remote end, as the kernel has them. */
static void sock_name(int fd, bool peer, int *family, uint8_t addr[16], uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	memset(addr, 0, 16);
	assert_int_equal((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&ss, &len), 0);
	*family = ss.ss_family;
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		memcpy(addr, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		assert_int_equal(ss.ss_family, AF_INET6);
		memcpy(addr, &in6->sin6_addr, 16);
		*port = ntohs(in6->sin6_port);
	}
}

/* The entry of fd matches getsockname() and, if connected, getpeername(). */
static const struct bt_inet_sock *expect_inet(const struct isocks *s, int fd, uint8_t proto,
					      bool connected, uint8_t state)
{
	const struct bt_inet_sock *e = find_inet(s, fd);
	uint8_t addr[16], zero[16] = { 0 };
	uint16_t port;
	int family;

	sock_name(fd, false, &family, addr, &port);
	assert_int_equal(e->family, family);
	assert_int_equal(e->proto, proto);
	assert_memory_equal(e->laddr, addr, 16);
	assert_int_equal(e->lport, port);
	if (connected) {
		sock_name(fd, true, &family, addr, &port);
		assert_memory_equal(e->raddr, addr, 16);
		assert_int_equal(e->rport, port);
	} else {
		assert_memory_equal(e->raddr, zero, 16);
		assert_int_equal(e->rport, 0);
	}
	assert_int_equal(e->state, state);
	return e;
}

/* Each end's local address and port are the other's remote ones. */
static void expect_mirrored(const struct bt_inet_sock *x, const struct bt_inet_sock *y)
{
	assert_true(bt_inet_addr_equal(x->family, x->laddr, y->family, y->raddr));
	assert_true(bt_inet_addr_equal(x->family, x->raddr, y->family, y->laddr));
	assert_int_equal(x->lport, y->rport);
	assert_int_equal(x->rport, y->lport);
}

/* A listener on addr, a client connected to it and the accepted end. */
struct tcp_trio {
	int l, c, a;
};

static int tcp_trio(struct tcp_trio *t, int lfam, const char *laddr, int cfam, const char *caddr)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	uint16_t port;
	int one = 1, zero = 0;

	t->l = socket(lfam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->l < 0)
		return -1;
	if (lfam == AF_INET6)
		setsockopt(t->l, IPPROTO_IPV6, IPV6_V6ONLY, cfam == AF_INET6 ? &one : &zero,
			   sizeof(int));
	ss.ss_family = lfam;
	if (lfam == AF_INET) {
		assert_int_equal(inet_pton(AF_INET, laddr, &((struct sockaddr_in *)&ss)->sin_addr), 1);
		len = sizeof(struct sockaddr_in);
	} else {
		assert_int_equal(inet_pton(AF_INET6, laddr, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
		len = sizeof(struct sockaddr_in6);
	}
	if (bind(t->l, (struct sockaddr *)&ss, len)) {
		close(t->l);
		return -1;
	}
	assert_int_equal(listen(t->l, 4), 0);
	assert_int_equal(getsockname(t->l, (struct sockaddr *)&ss, &len), 0);
	port = lfam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
			       : ((struct sockaddr_in6 *)&ss)->sin6_port;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = cfam;
	if (cfam == AF_INET) {
		assert_int_equal(inet_pton(AF_INET, caddr, &((struct sockaddr_in *)&ss)->sin_addr), 1);
		((struct sockaddr_in *)&ss)->sin_port = port;
		len = sizeof(struct sockaddr_in);
	} else {
		assert_int_equal(inet_pton(AF_INET6, caddr, &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
		((struct sockaddr_in6 *)&ss)->sin6_port = port;
		len = sizeof(struct sockaddr_in6);
	}
	t->c = socket(cfam, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(t->c >= 0);
	assert_int_equal(connect(t->c, (struct sockaddr *)&ss, len), 0);
	t->a = accept4(t->l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(t->a >= 0);
	return 0;
}

static void tcp_trio_close(struct tcp_trio *t)
{
	close(t->a);
	close(t->c);
	close(t->l);
}

static void check_trio(const struct tcp_trio *t, const struct isocks *s)
{
	const struct bt_inet_sock *l, *c, *a;

	l = expect_inet(s, t->l, IPPROTO_TCP, false, ST_LISTEN);
	c = expect_inet(s, t->c, IPPROTO_TCP, true, ST_ESTABLISHED);
	a = expect_inet(s, t->a, IPPROTO_TCP, true, ST_ESTABLISHED);
	expect_mirrored(c, a);
	assert_int_equal(a->lport, l->lport);
	assert_int_not_equal(c->ino, a->ino);
}

static void test_inet_tcp4(void **state)
{
	struct isocks own = { 0 }, bypid = { 0 };
	struct tcp_trio t;
	const struct bt_inet_sock *c;
	uint8_t lo[4] = { 127, 0, 0, 1 };

	(void)state;
	assert_int_equal(tcp_trio(&t, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1"), 0);
	assert_int_equal(bt_inet_socks(0, &own.arr, &own.n, &own.cap), 0);
	check_trio(&t, &own);
	c = find_inet(&own, t.c);
	assert_int_equal(c->family, AF_INET);
	assert_memory_equal(c->laddr, lo, 4);
	assert_memory_equal(c->raddr, lo, 4);
	/* Through our own pid: the same namespace, the same sockets. */
	assert_int_equal(bt_inet_socks(getpid(), &bypid.arr, &bypid.n, &bypid.cap), 0);
	check_trio(&t, &bypid);
	tcp_trio_close(&t);
	free(own.arr);
	free(bypid.arr);
}

static void test_inet_tcp6(void **state)
{
	struct isocks s = { 0 };
	struct tcp_trio t;

	(void)state;
	if (tcp_trio(&t, AF_INET6, "::1", AF_INET6, "::1"))
		skip();	/* no IPv6 here */
	assert_int_equal(bt_inet_socks(0, &s.arr, &s.n, &s.cap), 0);
	check_trio(&t, &s);
	assert_int_equal(find_inet(&s, t.a)->family, AF_INET6);
	tcp_trio_close(&t);
	free(s.arr);
}

/* A dual-stack listener: its accepted end is v6 (::ffff:127.0.0.1), the client v4. */
static void test_inet_v4_mapped(void **state)
{
	struct isocks s = { 0 };
	struct tcp_trio t;
	const struct bt_inet_sock *c, *a;
	uint8_t mapped[16];

	(void)state;
	if (tcp_trio(&t, AF_INET6, "::", AF_INET, "127.0.0.1"))
		skip();
	assert_int_equal(bt_inet_socks(0, &s.arr, &s.n, &s.cap), 0);
	check_trio(&t, &s);
	c = find_inet(&s, t.c);
	a = find_inet(&s, t.a);
	assert_int_equal(c->family, AF_INET);
	assert_int_equal(a->family, AF_INET6);
	assert_int_equal(inet_pton(AF_INET6, "::ffff:127.0.0.1", mapped), 1);
	assert_memory_equal(a->laddr, mapped, 16);
	assert_memory_equal(a->raddr, mapped, 16);
	tcp_trio_close(&t);
	free(s.arr);
}

/* *x bound to a loopback port (its address in *sa), *y connected to it. */
static void udp_pair(int *x, int *y, struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);

	*sa = (struct sockaddr_in){ .sin_family = AF_INET };
	*x = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	*y = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(*x >= 0 && *y >= 0);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(*x, (struct sockaddr *)sa, sizeof(*sa)), 0);
	assert_int_equal(getsockname(*x, (struct sockaddr *)sa, &len), 0);
	assert_int_equal(connect(*y, (struct sockaddr *)sa, sizeof(*sa)), 0);
}

static void test_inet_udp(void **state)
{
	struct sockaddr_in sa;
	struct isocks s = { 0 };
	int x, y;

	(void)state;
	udp_pair(&x, &y, &sa);

	assert_int_equal(bt_inet_socks(0, &s.arr, &s.n, &s.cap), 0);
	expect_inet(&s, x, IPPROTO_UDP, false, ST_CLOSE);
	assert_int_equal(find_inet(&s, x)->lport, ntohs(sa.sin_port));
	expect_inet(&s, y, IPPROTO_UDP, true, ST_ESTABLISHED);
	assert_int_equal(find_inet(&s, y)->rport, ntohs(sa.sin_port));
	close(x);
	close(y);
	free(s.arr);
}

/* sock_diag (pid 0) and /proc/PID/net list this process's sockets alike, field by field. */
static void expect_same_entry(const struct isocks *a, const struct isocks *b, int fd)
{
	assert_memory_equal(find_inet(a, fd), find_inet(b, fd), sizeof(struct bt_inet_sock));
}

static void test_inet_diag_agrees_with_proc(void **state)
{
	struct sockaddr_in sa;
	struct isocks diag = { 0 }, proc = { 0 };
	struct tcp_trio t4, t6;
	bool v6;
	int x, y;

	(void)state;
	assert_int_equal(tcp_trio(&t4, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1"), 0);
	v6 = !tcp_trio(&t6, AF_INET6, "::", AF_INET, "127.0.0.1");
	udp_pair(&x, &y, &sa);

	assert_int_equal(bt_inet_socks(0, &diag.arr, &diag.n, &diag.cap), 0);
	assert_int_equal(bt_inet_socks(getpid(), &proc.arr, &proc.n, &proc.cap), 0);
	expect_same_entry(&diag, &proc, t4.l);
	expect_same_entry(&diag, &proc, t4.c);
	expect_same_entry(&diag, &proc, t4.a);
	if (v6) {
		expect_same_entry(&diag, &proc, t6.l);
		expect_same_entry(&diag, &proc, t6.a);
		tcp_trio_close(&t6);
	}
	expect_same_entry(&diag, &proc, x);
	expect_same_entry(&diag, &proc, y);
	tcp_trio_close(&t4);
	close(x);
	close(y);
	free(diag.arr);
	free(proc.arr);
}

static void test_inet_errors(void **state)
{
	struct isocks s = { 0 };
	struct bt_inet_sock *arr = NULL;
	size_t n1, zero = 0, one = 1;
	pid_t gone;

	(void)state;
	assert_int_equal(bt_inet_socks(0, &s.arr, &s.n, &s.cap), 0);
	n1 = s.n;
	gone = tu_gone_pid();
	assert_int_equal(bt_inet_socks(gone, &s.arr, &s.n, &s.cap), -ESRCH);
	assert_int_equal(s.n, n1);
	assert_int_equal(bt_inet_socks(0, NULL, &zero, &zero), -EINVAL);
	assert_int_equal(bt_inet_socks(0, &arr, &one, &zero), -EINVAL);
	assert_int_equal(bt_inet_socks(0, &arr, &zero, &one), -EINVAL);
	assert_null(arr);
	free(s.arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_tcp),
		cmocka_unit_test(test_fixture_tcp6),
		cmocka_unit_test(test_fixture_udp),
		cmocka_unit_test(test_parse_line_edges),
		cmocka_unit_test(test_parse_line_malformed),
		cmocka_unit_test(test_addr_equal),
		cmocka_unit_test(test_diag_multipart),
		cmocka_unit_test(test_diag_names),
		cmocka_unit_test(test_diag_skipped),
		cmocka_unit_test(test_diag_errors),
		cmocka_unit_test(test_inet_diag_replies),
		cmocka_unit_test(test_unix_socketpairs),
		cmocka_unit_test(test_unix_bound),
		cmocka_unit_test(test_unix_errors),
		cmocka_unit_test(test_inet_tcp4),
		cmocka_unit_test(test_inet_tcp6),
		cmocka_unit_test(test_inet_v4_mapped),
		cmocka_unit_test(test_inet_udp),
		cmocka_unit_test(test_inet_diag_agrees_with_proc),
		cmocka_unit_test(test_inet_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
