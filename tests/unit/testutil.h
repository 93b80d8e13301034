/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Helpers shared by the unit tests: hand-built models (processes, rows,
 * address facts, /proc holders, wakeups, episodes), a model fixture,
 * running an exporter into memory or into a full disk, checking an SVG
 * with check_xml.py, name tables, a scratch directory and a pid that is
 * gone. Header-only; static inline so a test that uses a part does not
 * warn about the rest. Include after <cmocka.h>.
 */
#ifndef BT_TESTUTIL_H
#define BT_TESTUTIL_H

#include <arpa/inet.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "export/report.h"
#include "model/model.h"

/* Fixture: *state is an empty model, freed after the test. */
static inline int tu_model_setup(void **state)
{
	static struct bt_model m;

	bt_model_init(&m);
	*state = &m;
	return 0;
}

static inline int tu_model_teardown(void **state)
{
	bt_model_free(*state);
	return 0;
}

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

/* The kernel linked waker's wakes on waker_addr to wakee's wait on wakee_addr. */
static inline void tu_futex_link(struct bt_model *m, uint32_t waker, uint64_t waker_addr,
				 uint32_t wakee, uint64_t wakee_addr)
{
	struct bt_futex_link l = { .key = { .waker = waker, .wakee = wakee,
					    .waker_addr = waker_addr, .wakee_addr = wakee_addr },
				   .count = 1 };

	assert_int_equal(bt_model_add_futex_link(m, &l), 0);
}

/* An episode: pid/tid blocked in kind/dir on chan from start to end, woken at wake. */
static inline void tu_episode(struct bt_model *m, uint32_t pid, uint32_t tid, unsigned int kind,
			      unsigned int dir, uint64_t chan, uint64_t start, uint64_t wake,
			      uint64_t end, uint32_t waker_pid, uint32_t waker_tid)
{
	struct bt_episode_ev e = {
		.pid = pid, .tid = tid, .kind = kind, .dir = dir, .chan = chan,
		.start_ns = start, .wake_ns = wake, .end_ns = end,
		.waker_pid = waker_pid, .waker_tid = waker_tid,
	};

	assert_int_equal(bt_model_add_episode(m, &e), 0);
}

typedef int (*tu_writer_fn)(FILE *f, const struct bt_model *m, const struct bt_views *v);

/*
 * Runs the registered exporter whose write() is fn the way a report
 * does (bt_report_write: views built, printed, freed).
 */
static inline int tu_write(tu_writer_fn fn, FILE *f, const struct bt_model *m)
{
	char names[256], *save = NULL;

	snprintf(names, sizeof(names), "%s", bt_report_format_names());
	for (char *s = strtok_r(names, "|", &save); s; s = strtok_r(NULL, "|", &save)) {
		const struct bt_exporter *e = bt_report_find(s);

		if (e && e->write == fn)
			return bt_report_write(f, e, m);
	}
	fail_msg("exporter not registered");
	return -1;
}

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
	assert_int_equal(tu_write(write, f, m), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

/*
 * /dev/full, unbuffered so a failure shows before the exporter returns;
 * the test is skipped without it.
 */
static inline FILE *tu_dev_full(void)
{
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	return f;
}

/* Each of the n exporters fails on f (tu_dev_full), which is closed. */
static inline void tu_expect_write_errors(FILE *f, const struct bt_model *m,
					  const tu_writer_fn *writers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(tu_write(writers[i], f, m), -1);
		clearerr(f);
	}
	fclose(f);
}

/*
 * check_xml.py (run from tests/unit) on svg: well-formed, and frames
 * frame groups (frames < 0: any number). Skipped without python3.
 */
static inline void tu_check_xml(const char *svg, long frames)
{
	char path[] = "/tmp/bt_svg_XXXXXX.svg", cmd[256];
	FILE *out;
	int fd;

	if (system("python3 -c '' >/dev/null 2>&1") != 0) {
		print_message("python3 missing: XML well-formedness not checked\n");
		return;
	}
	fd = mkstemps(path, 4);
	assert_true(fd >= 0);
	out = fdopen(fd, "w");
	assert_non_null(out);
	assert_true(fputs(svg, out) >= 0);
	assert_int_equal(fclose(out), 0);
	if (frames >= 0)
		snprintf(cmd, sizeof(cmd), "python3 check_xml.py %s %ld", path, frames);
	else
		snprintf(cmd, sizeof(cmd), "python3 check_xml.py %s", path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
}

/* A value and the name a table gives it. */
struct tu_name {
	unsigned int value;
	const char *name;
};

/* name_of names each of the n values of want as want says. */
static inline void tu_expect_names(const char *(*name_of)(unsigned int),
				   const struct tu_name *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_string_equal(name_of(want[i].value), want[i].name);
}

/* A scratch directory made fresh for each test (tu_tmp_setup) and removed after it. */
struct tu_tmp {
	char dir[64];
	char path[128];
};

/* *state: a new directory from a mkdtemp template, e.g. "/tmp/bt-x-XXXXXX". */
static inline int tu_tmp_setup(void **state, const char *template)
{
	static struct tu_tmp t;

	umask(022);
	snprintf(t.dir, sizeof(t.dir), "%s", template);
	if (!mkdtemp(t.dir))
		return -1;
	*state = &t;
	return 0;
}

static inline int tu_tmp_remove_one(const char *path, const struct stat *st, int type,
				    struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static inline int tu_tmp_teardown(void **state)
{
	struct tu_tmp *t = *state;

	/* Everything the tests made is inside the mkdtemp directory; links are not followed. */
	return nftw(t->dir, tu_tmp_remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* name inside the scratch directory (valid until the next call). */
static inline const char *tu_in_dir(struct tu_tmp *t, const char *name)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
	return t->path;
}

/* The pid of a child that has exited and been reaped: a process that is gone. */
static inline pid_t tu_gone_pid(void)
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (!pid)
		_exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return pid;
}

#endif
