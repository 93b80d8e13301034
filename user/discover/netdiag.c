// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unix sockets come from NETLINK_SOCK_DIAG because only it tells a
 * socket's peer (/proc/net/unix does not). TCP and UDP of boundtrace's
 * own namespace come from it too: a dump walks the kernel's connection
 * hash once, where reading /proc/net/tcp walks it twice (the read that
 * finds the end is a second walk) and formats every socket as text:
 * 1.4 ms against 3.4 ms a table on a machine with a 262,144-bucket hash,
 * read whenever a target has a connection not settled yet. /proc/PID/net
 * stays for another process's namespace (no setns()) and for a kernel
 * without inet_diag.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include "discover/netdiag.h"
#include "lib/vec.h"

/*
 * The kernel sizes dump skbs after the reader's buffer but never beyond
 * 32 KiB, so a reply always fits; MSG_TRUNC still fails cleanly.
 */
#define NL_BUFSZ 32768
/* A dump that raced with socket changes is retried this often. */
#define NL_DUMP_TRIES 4

/* Appends the el bytes at item to *arr, of *n used and room for *cap; -ENOMEM. */
static int push(void **arr, size_t *n, size_t *cap, const void *item, size_t el)
{
	if (!bt_grow(arr, cap, *n + 1, el))
		return -ENOMEM;
	memcpy((char *)*arr + *n * el, item, el);
	(*n)++;
	return 0;
}

/* ---- unix sockets: sock_diag ---------------------------------------- */

/*
 * UNIX_DIAG_NAME is the raw sun_path: a path (with its NUL when the
 * kernel kept one) or, abstract, a NUL then bytes that may hold more
 * NULs. Shown the way ss shows them.
 */
static void unix_name(char *dst, size_t dstsz, const char *src, size_t len)
{
	bool abstract = len && !src[0];
	size_t i;

	if (!abstract)
		len = strnlen(src, len);
	if (len > dstsz - 1)
		len = dstsz - 1;
	memcpy(dst, src, len);
	dst[len] = 0;
	if (abstract) {
		for (i = 0; i < len; i++) {
			if (!dst[i])
				dst[i] = '@';
		}
	}
}

/* One SOCK_DIAG_BY_FAMILY reply; 1 if *out was filled, 0 to skip, -EIO. */
static int parse_unix_msg(const struct nlmsghdr *h, void *o)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	struct bt_unix_sock *out = o;
	const char *attr = (const char *)m + NLMSG_ALIGN(sizeof(*m));
	size_t rem;

	if (h->nlmsg_len < NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m))))
		return -EIO;
	if (m->udiag_family != AF_UNIX)
		return 0;
	memset(out, 0, sizeof(*out));
	out->ino = m->udiag_ino;
	out->type = m->udiag_type;
	out->state = m->udiag_state;

	rem = h->nlmsg_len - NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m)));
	while (rem >= sizeof(struct rtattr)) {
		const struct rtattr *rta = (const void *)attr;
		size_t step = RTA_ALIGN(rta->rta_len);
		size_t plen;

		if (rta->rta_len < sizeof(*rta) || rta->rta_len > rem)
			return -EIO;
		plen = rta->rta_len - RTA_LENGTH(0);
		switch (rta->rta_type & NLA_TYPE_MASK) {
		case UNIX_DIAG_NAME:
			unix_name(out->path, sizeof(out->path), RTA_DATA(rta), plen);
			break;
		case UNIX_DIAG_PEER:
			if (plen >= sizeof(uint32_t)) {
				uint32_t peer;

				memcpy(&peer, RTA_DATA(rta), sizeof(peer));
				out->peer_ino = peer;
			}
			break;
		}
		/* The last attribute need not be padded out. */
		if (step >= rem)
			break;
		attr += step;
		rem -= step;
	}
	return 1;
}

/* A dump request of reqlen bytes (a family's sock_diag request) as seq. */
static int diag_request(int fd, uint32_t seq, const void *req, size_t reqlen)
{
	struct {
		struct nlmsghdr nlh;
		union {
			struct unix_diag_req unx;
			struct inet_diag_req_v2 inet;
		} req;
	} msg = {
		.nlh = {
			.nlmsg_len = (uint32_t)(NLMSG_HDRLEN + reqlen),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			.nlmsg_seq = seq,
		},
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t len;

	if (reqlen > sizeof(msg.req))
		return -EINVAL;
	memcpy(&msg.req, req, reqlen);
	do {
		len = sendto(fd, &msg, msg.nlh.nlmsg_len, 0, (struct sockaddr *)&kernel,
			     sizeof(kernel));
	} while (len < 0 && errno == EINTR);
	if (len < 0)
		return -errno;
	return (size_t)len == msg.nlh.nlmsg_len ? 0 : -EIO;
}

/* How one family's replies become elements of el bytes: 1 filled, 0 skipped, -EIO. */
typedef int (*diag_msg_fn)(const struct nlmsghdr *h, void *out);

/* One recv() worth of replies to dump request seq (bt_unix_diag_parse). */
static int diag_parse(const void *data, size_t len, uint32_t seq, bool *intr,
		      diag_msg_fn parse, size_t el, void **arr, size_t *n, size_t *cap)
{
	const char *buf = data;
	char item[sizeof(struct bt_unix_sock) > sizeof(struct bt_inet_sock) ?
		  sizeof(struct bt_unix_sock) : sizeof(struct bt_inet_sock)];

	if (el > sizeof(item))
		return -EINVAL;
	while (len) {
		const struct nlmsghdr *h = (const void *)buf;
		size_t step, plen;
		int err;

		if (len < sizeof(*h) || h->nlmsg_len < NLMSG_HDRLEN || h->nlmsg_len > len)
			return -EIO;
		step = NLMSG_ALIGN(h->nlmsg_len);
		plen = h->nlmsg_len - NLMSG_HDRLEN;
		if (h->nlmsg_seq != seq)
			goto next;	/* stale, from an earlier request */
		if (h->nlmsg_flags & NLM_F_DUMP_INTR)
			*intr = true;
		switch (h->nlmsg_type) {
		case NLMSG_DONE:
			/* An error found mid-dump comes as DONE carrying it. */
			if (plen >= sizeof(int)) {
				memcpy(&err, NLMSG_DATA(h), sizeof(err));
				if (err < 0)
					return err;
			}
			return 1;
		case NLMSG_ERROR:
			if (plen < sizeof(struct nlmsgerr))
				return -EIO;
			memcpy(&err, NLMSG_DATA(h), sizeof(err));
			if (err < 0)
				return err;
			break;	/* an ack, not asked for */
		case SOCK_DIAG_BY_FAMILY:
			err = parse(h, item);
			if (err < 0)
				return err;
			if (err) {
				err = push(arr, n, cap, item, el);
				if (err)
					return err;
			}
			break;
		}
next:
		if (step >= len)
			break;
		buf += step;
		len -= step;
	}
	return 0;
}

int bt_unix_diag_parse(const void *data, size_t len, uint32_t seq, bool *intr,
		       struct bt_unix_sock **arr, size_t *n, size_t *cap)
{
	return diag_parse(data, len, seq, intr, parse_unix_msg, sizeof(**arr), (void **)arr, n, cap);
}

/* What one dump asks and how its replies are read. */
struct diag_dump {
	const void *req;	/* the family's sock_diag request */
	size_t reqlen;
	diag_msg_fn parse;
	size_t el;		/* bytes of an element */
};

static int diag_dump_once(int fd, char *buf, const struct diag_dump *d, uint32_t seq,
			  bool *intr, void **arr, size_t *n, size_t *cap)
{
	int err = diag_request(fd, seq, d->req, d->reqlen);

	while (!err) {
		struct sockaddr_nl from;
		struct iovec iov = { .iov_base = buf, .iov_len = NL_BUFSZ };
		struct msghdr mh = {
			.msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t len = recvmsg(fd, &mh, 0);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (len == 0)
			return -EIO;
		if (from.nl_pid != 0)
			continue;	/* only the kernel answers a dump */
		err = diag_parse(buf, len, seq, intr, d->parse, d->el, arr, n, cap);
	}
	return err < 0 ? err : 0;
}

/*
 * One dump appended to *arr, again while the kernel says sockets came
 * and went mid-dump (the table may be torn); *seq counts requests on fd.
 * On error *n is as it was.
 */
static int diag_dump(int fd, char *buf, const struct diag_dump *d, uint32_t *seq,
		     void **arr, size_t *n, size_t *cap)
{
	size_t n0 = *n;
	int try, err = -EAGAIN;

	for (try = 1; try <= NL_DUMP_TRIES; try++) {
		bool intr = false;

		err = diag_dump_once(fd, buf, d, ++*seq, &intr, arr, n, cap);
		if (err || !intr)
			break;
		*n = n0;
		err = -EAGAIN;
	}
	if (err)
		*n = n0;
	return err;
}

/* A sock_diag socket and its receive buffer (diag_close frees them). */
static int diag_open(char **buf)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (fd < 0)
		return -errno;
	*buf = malloc(NL_BUFSZ);
	if (!*buf) {
		close(fd);
		return -ENOMEM;
	}
	return fd;
}

static void diag_close(int fd, char *buf)
{
	free(buf);
	close(fd);
}

int bt_unix_socks(struct bt_unix_sock **arr, size_t *n, size_t *cap)
{
	const struct unix_diag_req req = {
		.sdiag_family = AF_UNIX,
		.udiag_states = ~0u,
		.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER,
	};
	const struct diag_dump d = { &req, sizeof(req), parse_unix_msg, sizeof(**arr) };
	uint32_t seq = 0;
	char *buf;
	int fd, err;

	if (!arr || !n || !cap || *n > *cap || (!*arr && *cap))
		return -EINVAL;
	fd = diag_open(&buf);
	if (fd < 0)
		return fd;
	err = diag_dump(fd, buf, &d, &seq, (void **)arr, n, cap);
	diag_close(fd, buf);
	return err;
}

/* ---- TCP and UDP: /proc/PID/net -------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * ndigits hex digits (the kernel pads with %0NX); the caller checks the
 * separator after them, which also rejects longer fields.
 */
static int parse_hex_n(const char **pp, int ndigits, uint32_t *out)
{
	const char *p = *pp;
	uint32_t v = 0;
	int i, d;

	for (i = 0; i < ndigits; i++) {
		d = hexval(p[i]);
		if (d < 0)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	*pp = p + ndigits;
	*out = v;
	return 0;
}

/*
 * "0100007F:1F90": the kernel prints each 32-bit word of the address as
 * it sits in memory, read as a host-order integer (IPv6: four such words
 * run together). Storing the parsed word back in host order gives the
 * network-order bytes on either endianness.
 */
static int parse_endpoint(const char **pp, int family, uint8_t addr[16], uint16_t *port)
{
	int words = family == AF_INET ? 1 : 4;
	uint32_t w;
	int i;

	memset(addr, 0, 16);
	for (i = 0; i < words; i++) {
		if (parse_hex_n(pp, 8, &w))
			return -1;
		memcpy(addr + 4 * i, &w, 4);
	}
	if (**pp != ':')
		return -1;
	(*pp)++;
	if (parse_hex_n(pp, 4, &w))
		return -1;
	*port = (uint16_t)w;
	return 0;
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Past one blank-separated field; NULL if the line ends first. */
static const char *skip_field(const char *p)
{
	p = skip_blanks(p);
	if (!*p || *p == '\n')
		return NULL;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	return p;
}

/* Fields end in a blank; checking for one also rejects overlong fields. */
static bool blank(const char *p)
{
	return *p == ' ' || *p == '\t';
}

int bt_parse_proc_net_line(const char *line, int family, uint8_t proto, struct bt_inet_sock *out)
{
	struct bt_inet_sock s = { .proto = proto, .family = (uint8_t)family };
	const char *p;
	uint64_t ino = 0;
	uint32_t st;
	int i;

	if (!line || !out || (family != AF_INET && family != AF_INET6))
		return -1;
	/* "  12: " - the slot number. */
	p = skip_blanks(line);
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != ':' || !blank(p))
		return -1;
	p = skip_blanks(p);
	if (parse_endpoint(&p, family, s.laddr, &s.lport) || !blank(p))
		return -1;
	p = skip_blanks(p);
	if (parse_endpoint(&p, family, s.raddr, &s.rport) || !blank(p))
		return -1;
	p = skip_blanks(p);
	if (parse_hex_n(&p, 2, &st) || !blank(p))
		return -1;
	s.state = (uint8_t)st;
	/* tx:rx queues, timer, retransmits, uid, timeout: not needed. */
	for (i = 0; i < 5; i++) {
		p = skip_field(p);
		if (!p || !blank(p))
			return -1;
	}
	p = skip_blanks(p);
	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned int d = *p - '0';

		if (ino > (UINT64_MAX - d) / 10)
			return -1;
		ino = ino * 10 + d;
	}
	if (*p && !blank(p) && *p != '\n')
		return -1;
	s.ino = ino;
	*out = s;
	return 0;
}

/*
 * One table into the array. Lines the parser does not take are skipped:
 * one odd line should not hide every other socket.
 */
static int read_net_table(FILE *f, int family, uint8_t proto,
			  struct bt_inet_sock **arr, size_t *n, size_t *cap)
{
	char *line = NULL;
	size_t linecap = 0;
	bool header = true;
	int err = 0;

	errno = 0;
	while (getline(&line, &linecap, f) >= 0) {
		struct bt_inet_sock s;

		if (header) {
			header = false;
			continue;
		}
		if (bt_parse_proc_net_line(line, family, proto, &s))
			continue;
		err = push((void **)arr, n, cap, &s, sizeof(s));
		if (err)
			break;
	}
	if (!err && ferror(f))
		err = errno ? -errno : -EIO;
	free(line);
	return err;
}

/* The tables of /proc/PID/net (pid 0: /proc/net), checked arguments. */
static int proc_inet_socks(uint32_t pid, struct bt_inet_sock **arr, size_t *n, size_t *cap)
{
	static const struct {
		const char *name;
		uint8_t family;
		uint8_t proto;
		bool v6;
	} tables[] = {
		{ "tcp", AF_INET, IPPROTO_TCP, false },
		{ "udp", AF_INET, IPPROTO_UDP, false },
		{ "tcp6", AF_INET6, IPPROTO_TCP, true },
		{ "udp6", AF_INET6, IPPROTO_UDP, true },
	};
	char path[32];
	size_t i, n0 = *n;
	int dir, err = 0;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%u/net", pid);
	else
		snprintf(path, sizeof(path), "/proc/net");
	dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]) && !err; i++) {
		int fd = openat(dir, tables[i].name, O_RDONLY | O_CLOEXEC);
		FILE *f;

		if (fd < 0) {
			/* No tcp6/udp6 without IPv6; no tcp once the process is gone. */
			if (errno == ENOENT && tables[i].v6)
				continue;
			err = errno == ENOENT ? -ESRCH : -errno;
			break;
		}
		f = fdopen(fd, "r");
		if (!f) {
			err = -errno;
			close(fd);
			break;
		}
		err = read_net_table(f, tables[i].family, tables[i].proto, arr, n, cap);
		fclose(f);
	}
	close(dir);
	if (err)
		*n = n0;
	return err;
}

/* ---- TCP and UDP: sock_diag ------------------------------------------ */

/*
 * Every TCP state /proc/net/tcp lists: TCP_BOUND_INACTIVE (13; a socket
 * bound but neither listening nor connected, dumped since 6.8) is not
 * in its tables, nor wanted (no traffic).
 */
#define DIAG_TCP_STATES	0x1ffeu
#define DIAG_UDP_STATES	(1u << 1 | 1u << 7)	/* connected, unconnected */

static int parse_inet_msg(const struct nlmsghdr *h, void *o)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	struct bt_inet_sock *out = o;
	size_t alen;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(m->idiag_family)))
		return -EIO;
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return 0;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
		return -EIO;
	alen = m->idiag_family == AF_INET ? 4 : 16;
	memset(out, 0, sizeof(*out));
	out->ino = m->idiag_inode;
	out->family = m->idiag_family;
	out->state = m->idiag_state;
	memcpy(out->laddr, m->id.idiag_src, alen);
	memcpy(out->raddr, m->id.idiag_dst, alen);
	out->lport = ntohs(m->id.idiag_sport);
	out->rport = ntohs(m->id.idiag_dport);
	return 1;
}

/* The reply does not say which protocol was asked: the request does. */
static void set_proto(struct bt_inet_sock *arr, size_t from, size_t n, uint8_t proto)
{
	for (size_t i = from; i < n; i++)
		arr[i].proto = proto;
}

int bt_inet_diag_parse(const void *buf, size_t len, uint32_t seq, uint8_t proto, bool *intr,
		       struct bt_inet_sock **arr, size_t *n, size_t *cap)
{
	size_t from = *n;
	int ret = diag_parse(buf, len, seq, intr, parse_inet_msg, sizeof(**arr),
			     (void **)arr, n, cap);

	if (ret >= 0)
		set_proto(*arr, from, *n, proto);
	return ret;
}

/* The four tables of boundtrace's namespace, in /proc's order. */
static int diag_inet_socks(struct bt_inet_sock **arr, size_t *n, size_t *cap)
{
	static const struct {
		uint8_t family, proto;
		uint32_t states;
	} tables[] = {
		{ AF_INET, IPPROTO_TCP, DIAG_TCP_STATES },
		{ AF_INET, IPPROTO_UDP, DIAG_UDP_STATES },
		{ AF_INET6, IPPROTO_TCP, DIAG_TCP_STATES },
		{ AF_INET6, IPPROTO_UDP, DIAG_UDP_STATES },
	};
	uint32_t seq = 0;
	size_t n0 = *n;
	char *buf;
	int fd, err = 0;

	fd = diag_open(&buf);
	if (fd < 0)
		return fd;
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && !err; i++) {
		const struct inet_diag_req_v2 req = {
			.sdiag_family = tables[i].family,
			.sdiag_protocol = tables[i].proto,
			.idiag_states = tables[i].states,
		};
		const struct diag_dump d = { &req, sizeof(req), parse_inet_msg, sizeof(**arr) };
		size_t from = *n;

		err = diag_dump(fd, buf, &d, &seq, (void **)arr, n, cap);
		if (!err)
			set_proto(*arr, from, *n, tables[i].proto);
	}
	diag_close(fd, buf);
	if (err)
		*n = n0;
	return err;
}

int bt_inet_socks(uint32_t pid, struct bt_inet_sock **arr, size_t *n, size_t *cap)
{
	if (!arr || !n || !cap || *n > *cap || (!*arr && *cap))
		return -EINVAL;
	/*
	 * A kernel without inet_diag (or a module that will not load), or
	 * one that refuses a family: the tables say the same, dearer.
	 */
	if (!pid) {
		int err = diag_inet_socks(arr, n, cap);

		if (!err || err == -ENOMEM)
			return err;
	}
	return proc_inet_socks(pid, arr, n, cap);
}

static const uint8_t *unmap_v4(int *fam, const uint8_t *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	if (*fam == AF_INET6 && !memcmp(a, mapped, sizeof(mapped))) {
		*fam = AF_INET;
		return a + 12;
	}
	return a;
}

bool bt_inet_addr_loopback(int family, const uint8_t *a)
{
	static const uint8_t one6[16] = { [15] = 1 };

	if (!a)
		return false;
	a = unmap_v4(&family, a);
	return (family == AF_INET && a[0] == 127) || (family == AF_INET6 && !memcmp(a, one6, 16));
}

bool bt_inet_addr_equal(int fam_a, const uint8_t *a, int fam_b, const uint8_t *b)
{
	if (!a || !b)
		return false;
	a = unmap_v4(&fam_a, a);
	b = unmap_v4(&fam_b, b);
	if (fam_a != fam_b)
		return false;
	if (fam_a == AF_INET)
		return !memcmp(a, b, 4);
	if (fam_a == AF_INET6)
		return !memcmp(a, b, 16);
	return false;
}
