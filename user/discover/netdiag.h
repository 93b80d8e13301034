/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Socket tables of a network namespace: unix sockets with their peers
 * from NETLINK_SOCK_DIAG, TCP and UDP sockets from it too, or from
 * /proc/PID/net for another namespace or a kernel without inet_diag. With
 * procscan's inodes they tie an untraced process to the socket on the
 * other end of a traced one.
 */
#ifndef BT_NETDIAG_H
#define BT_NETDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bt_unix_sock {
	uint64_t ino;
	uint64_t peer_ino;	/* 0: no peer */
	uint8_t type;		/* SOCK_STREAM / SOCK_DGRAM / SOCK_SEQPACKET */
	uint8_t state;		/* TCP_ESTABLISHED, TCP_LISTEN, TCP_CLOSE, ... */
	/*
	 * Bound name: a path, '@' then the name for the abstract namespace
	 * (embedded NULs shown as '@' too, as ss does), "" when unbound.
	 */
	char path[108];
};

/*
 * Appends every unix socket of boundtrace's network namespace, in all
 * states, to the growable array *arr (*n used, *cap allocated; the
 * caller frees *arr). 0 or -errno (*n as it was on error).
 */
int bt_unix_socks(struct bt_unix_sock **arr, size_t *n, size_t *cap);

/*
 * One recv() worth of sock_diag replies to dump request seq (exposed for
 * tests): sockets are appended, *intr set if the kernel flagged the dump
 * as torn. 1 once NLMSG_DONE came, 0 when more is due, -errno for an
 * NLMSG_ERROR or a DONE carrying one, -EIO for malformed messages (the
 * caller drops what was appended then).
 */
int bt_unix_diag_parse(const void *buf, size_t len, uint32_t seq, bool *intr,
		       struct bt_unix_sock **arr, size_t *n, size_t *cap);

struct bt_inet_sock {
	uint64_t ino;		/* 0 for TIME_WAIT and other sockets without a file */
	uint8_t proto;		/* IPPROTO_TCP / IPPROTO_UDP */
	uint8_t family;		/* AF_INET / AF_INET6 */
	uint8_t laddr[16];	/* network order; IPv4 in the first 4 bytes */
	uint8_t raddr[16];
	uint16_t lport;		/* host order */
	uint16_t rport;
	uint8_t state;		/* TCP_* as in the kernel; UDP: 7 unconnected, 1 connected */
};

/*
 * Appends every TCP and UDP socket, IPv4 and IPv6, of the network
 * namespace of process pid: pid 0, boundtrace's own, from sock_diag
 * (from /proc/net when the kernel does not answer it); another from
 * /proc/PID/net/{tcp,tcp6,udp,udp6}. 0 or -errno: -ESRCH when the
 * process is gone (*n as it was on error). A missing tcp6/udp6 (IPv6
 * disabled) is no error.
 */
int bt_inet_socks(uint32_t pid, struct bt_inet_sock **arr, size_t *n, size_t *cap);

/*
 * One recv() worth of inet sock_diag replies to dump request seq, asked
 * for protocol proto (exposed for tests), as bt_unix_diag_parse.
 */
int bt_inet_diag_parse(const void *buf, size_t len, uint32_t seq, uint8_t proto, bool *intr,
		       struct bt_inet_sock **arr, size_t *n, size_t *cap);

/*
 * One line of /proc/net/{tcp,tcp6,udp,udp6} after the header, family
 * AF_INET or AF_INET6 saying which; 0 or -1 if malformed.
 */
int bt_parse_proc_net_line(const char *line, int family, uint8_t proto, struct bt_inet_sock *out);

/* A loopback address: 127.0.0.0/8 (mapped in AF_INET6 too) or ::1. */
bool bt_inet_addr_loopback(int family, const uint8_t *a);

/* Equal addresses, ::ffff:a.b.c.d (AF_INET6) being the same as a.b.c.d. */
bool bt_inet_addr_equal(int fam_a, const uint8_t *a, int fam_b, const uint8_t *b);

#endif
