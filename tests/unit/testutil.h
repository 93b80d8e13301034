/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers shared by the unit tests: hand-built models (processes, rows,
 * address facts, /proc holders, wakeups) and running an exporter into
 * memory. Header-only; static inline so a test that uses a part does not
 * warn about the rest. Include after <cmocka.h>.
 */
#ifndef BT_TESTUTIL_H
#define BT_TESTUTIL_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "model.h"

static inline struct bt_key tu_key(uint32_t pid, unsigned int kind, unsigned int dir,
				   uint64_t chan)
{
	struct bt_key k = { .tgid = pid, .kind = kind, .dir = dir, .chan = chan };

	return k;
}

static inline struct bt_stats tu_stats(uint64_t calls, uint64_t bytes, uint64_t blocked_ns)
{
	struct bt_stats s = { .calls = calls, .bytes = bytes, .blocked_ns = blocked_ns,
			      .max_blocked_ns = blocked_ns };

	return s;
}

/* The process pid, named comm (found or added). */
static inline struct bt_proc *tu_proc(struct bt_model *m, uint32_t pid, const char *comm)
{
	struct bt_proc *p = bt_model_proc(m, pid);

	assert_non_null(p);
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return p;
}

/* Adds a row; info may be NULL. */
static inline struct bt_row *tu_row(struct bt_model *m, uint32_t pid, unsigned int kind,
				    unsigned int dir, uint64_t chan, const struct bt_stats *st,
				    const struct bt_chan_info *info)
{
	struct bt_key k = tu_key(pid, kind, dir, chan);
	struct bt_row *r = bt_model_add(m, &k, st, info);

	assert_non_null(r);
	return r;
}

/* An address of family AF_INET or AF_INET6 from text, into 16 bytes. */
static inline void tu_addr(int family, const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(family, text, out), 1);
}

/* Channel facts of an inet socket: local laddr:lport, remote raddr:rport. */
static inline struct bt_chan_info tu_inet(unsigned int kind, int family, const char *laddr,
					  unsigned int lport, const char *raddr,
					  unsigned int rport)
{
	struct bt_chan_info i = { .kind = kind, .family = family, .lport = lport,
				  .rport = rport };

	tu_addr(family, laddr, i.laddr);
	tu_addr(family, raddr, i.raddr);
	return i;
}

static inline struct bt_chan_info tu_unix(unsigned int kind, uint64_t peer_ino,
					  const char *path)
{
	struct bt_chan_info i = { .kind = kind, .family = AF_UNIX, .peer_ino = peer_ino };

	snprintf(i.path, sizeof(i.path), "%s", path);
	return i;
}

/* /proc said: pid holds inode ino of type (BT_FD_*), pipes in mode (BT_END_*). */
static inline void tu_holder(struct bt_model *m, uint64_t ino, uint32_t pid, uint8_t type,
			     uint8_t mode)
{
	struct bt_holder h = { .ino = ino, .pid = pid, .type = type, .mode = mode };

	assert_int_equal(bt_model_add_holder(m, &h), 0);
}

/* sock_diag said: inet socket ino is laddr:lport -> raddr:rport ("::" / 0 unconnected). */
static inline void tu_sock_inet(struct bt_model *m, uint64_t ino, uint8_t proto, int family,
				const char *laddr, unsigned int lport, const char *raddr,
				unsigned int rport)
{
	struct bt_sockfact s = { .ino = ino, .proto = proto, .family = family,
				 .lport = lport, .rport = rport };

	tu_addr(family, laddr, s.laddr);
	tu_addr(family, raddr, s.raddr);
	assert_int_equal(bt_model_add_sockfact(m, &s), 0);
}

static inline void tu_sock_unix(struct bt_model *m, uint64_t ino, uint64_t peer_ino)
{
	struct bt_sockfact s = { .ino = ino, .peer_ino = peer_ino, .family = AF_UNIX };

	assert_int_equal(bt_model_add_sockfact(m, &s), 0);
}

/* waker, inside a crossing of kind/dir on chan, woke wakee count times. */
static inline void tu_wake(struct bt_model *m, uint32_t waker, uint32_t wakee,
			   unsigned int kind, unsigned int dir, uint64_t chan, uint64_t count)
{
	struct bt_wake_key k = { .waker = waker, .wakee = wakee, .kind = kind, .dir = dir,
				 .chan = chan };

	assert_int_equal(bt_model_add_wake(m, &k, count), 0);
}

typedef int (*tu_writer_fn)(FILE *f, const struct bt_model *m);

/*
 * Runs an exporter into memory, which must succeed; the caller frees.
 * Not inlined: gcc's -Wdangling-pointer then mistakes the result for a
 * pointer to the local that open_memstream filled.
 */
static __attribute__((unused, noinline)) char *tu_render(tu_writer_fn write,
							 const struct bt_model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(write(f, m), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

#endif
