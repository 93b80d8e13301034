// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * procscan: fd link and fdinfo parsing, then live scans of a child that
 * holds one end of a pipe and of a socketpair, named FIFOs, gone processes,
 * each from /proc and again from the task_file iterator (root only), and
 * the two sources compared record for record.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "discover/procscan.h"
#include "testutil.h"

struct fds {
	struct bt_fdref *arr;
	size_t n, cap;
};

static uint64_t ino_of(int fd)
{
	struct stat st;

	assert_int_equal(fstat(fd, &st), 0);
	return st.st_ino;
}

static size_t count_ino(const struct fds *f, uint64_t ino, uint8_t type)
{
	size_t i, c = 0;

	for (i = 0; i < f->n; i++)
		c += f->arr[i].ino == ino && f->arr[i].type == type;
	return c;
}

/* The one entry of pid with this inode and type; fails if none or several. */
static const struct bt_fdref *find_one(const struct fds *f, uint32_t pid, uint64_t ino,
				       uint8_t type)
{
	const struct bt_fdref *hit = NULL;
	size_t i;

	for (i = 0; i < f->n; i++) {
		const struct bt_fdref *r = &f->arr[i];

		if (r->pid != pid || r->ino != ino || r->type != type)
			continue;
		if (hit)
			fail_msg("pid %u has inode %llu twice (fds %u and %u)", pid,
				 (unsigned long long)ino, hit->fd, r->fd);
		hit = r;
	}
	if (!hit)
		fail_msg("pid %u: inode %llu type %u not found among %zu fds", pid,
			 (unsigned long long)ino, type, f->n);
	return hit;
}

/* ---- parse helpers ------------------------------------------------- */

static void expect_link(const char *link, uint8_t want_type, uint64_t want_ino)
{
	uint8_t type = 0;
	uint64_t ino = 0;

	assert_int_equal(bt_parse_fd_link(link, &type, &ino), 0);
	assert_int_equal(type, want_type);
	assert_int_equal(ino, want_ino);
}

static void expect_bad_link(const char *link)
{
	uint8_t type = 0xaa;
	uint64_t ino = 0xdeadbeef;

	if (bt_parse_fd_link(link, &type, &ino) != -1)
		fail_msg("accepted link '%s'", link);
	/* Outputs are left alone on failure. */
	assert_int_equal(type, 0xaa);
	assert_int_equal(ino, 0xdeadbeef);
}

static void test_parse_fd_link(void **state)
{
	(void)state;
	expect_link("pipe:[123]", BT_FD_PIPE, 123);
	expect_link("socket:[9]", BT_FD_SOCKET, 9);
	expect_link("pipe:[0]", BT_FD_PIPE, 0);
	expect_link("socket:[4026532008]", BT_FD_SOCKET, 4026532008ULL);
	expect_link("pipe:[18446744073709551615]", BT_FD_PIPE, UINT64_MAX);

	expect_bad_link("");
	expect_bad_link("pipe:[]");
	expect_bad_link("pipe:[12");
	expect_bad_link("pipe:[12]x");
	expect_bad_link("pipe:[12]]");
	expect_bad_link("pipe:[-1]");
	expect_bad_link("pipe:[+1]");
	expect_bad_link("pipe:[ 1]");
	expect_bad_link("pipe:[1a]");
	expect_bad_link("pipe:[18446744073709551616]");
	expect_bad_link("pipe:[99999999999999999999]");
	expect_bad_link("Pipe:[1]");
	expect_bad_link("pipe[1]");
	expect_bad_link("socket:[]");
	expect_bad_link("socket:9");
	expect_bad_link("anon_inode:[eventfd]");
	expect_bad_link("net:[4026531840]");
	expect_bad_link("/tmp/fifo");
	expect_bad_link("/dev/null");
	expect_bad_link(NULL);
}

static void expect_flags(const char *text, unsigned int want)
{
	unsigned int flags = 0x5a5a;

	if (bt_parse_fdinfo_flags(text, &flags))
		fail_msg("rejected fdinfo '%s'", text);
	assert_int_equal(flags, want);
}

static void expect_bad_flags(const char *text)
{
	unsigned int flags = 0x5a5a;

	if (bt_parse_fdinfo_flags(text, &flags) != -1)
		fail_msg("accepted fdinfo '%s' (flags 0%o)", text, flags);
	assert_int_equal(flags, 0x5a5a);
}

static void test_parse_fdinfo_flags(void **state)
{
	(void)state;
	/* A pipe's write end as the kernel shows it: O_WRONLY | O_LARGEFILE. */
	expect_flags("pos:\t0\nflags:\t0100001\nmnt_id:\t15\nino:\t4711\n", 0100001);
	expect_flags("pos:\t0\nflags:\t02000000\nmnt_id:\t15\nino:\t4711\n", 02000000);
	expect_flags("pos:\t0\nflags:\t02\n", 02);
	expect_flags("flags:\t0100000\n", 0100000);
	expect_flags("pos:\t0\nflags:\t0", 0);
	expect_flags("pos:\t0\nflags: 0700\n", 0700);
	expect_flags("pos:\t0\nflags:\t37777777777\n", 0xffffffffu);
	/* "mnt_flags:" or the like must not be taken for "flags:". */
	expect_flags("pos:\t0\nmnt_flags:\t01\nflags:\t02\n", 02);

	expect_bad_flags("");
	expect_bad_flags("pos:\t0\nmnt_id:\t15\n");
	expect_bad_flags("pos:\t0\nmnt_flags:\t01\n");
	expect_bad_flags("pos:\t0\nflags:\t\nmnt_id:\t15\n");
	expect_bad_flags("pos:\t0\nflags:\t0109\n");
	expect_bad_flags("pos:\t0\nflags:\t08\n");
	expect_bad_flags("pos:\t0\nflags:\tx1\n");
	expect_bad_flags("pos:\t0\nflags:\t-1\n");
	expect_bad_flags("pos:\t0\nflags:\t01 02\n");
	expect_bad_flags("pos:\t0\nflags:\t40000000000\n");
	expect_bad_flags("pos:\t0\nflags:\t777777777777777\n");
	expect_bad_flags(NULL);
}

static void test_pipe_end_of_flags(void **state)
{
	(void)state;
	assert_int_equal(bt_pipe_end_of_flags(0100000), BT_END_READ);
	assert_int_equal(bt_pipe_end_of_flags(0100001), BT_END_WRITE);
	assert_int_equal(bt_pipe_end_of_flags(0100002), BT_END_BOTH);
	assert_int_equal(bt_pipe_end_of_flags(O_RDONLY | O_NONBLOCK), BT_END_READ);
	assert_int_equal(bt_pipe_end_of_flags(O_WRONLY | O_CLOEXEC), BT_END_WRITE);
	assert_int_equal(bt_pipe_end_of_flags(3), 0);
	assert_int_equal(bt_pipe_end_of_flags(O_PATH), 0);
	assert_int_equal(bt_pipe_end_of_flags(O_PATH | O_CLOEXEC), 0);
}

/* ---- live scans ---------------------------------------------------- */

/*
 * A child holding the read end of a pipe and one end of a socketpair;
 * the parent keeps the pipe's write end and the other socket.
 */
struct child {
	pid_t pid;
	int pipe_rd, pipe_wr;		/* fd numbers: rd in the child, wr here */
	int sock_child, sock_parent;
	uint64_t pipe_ino, sock_child_ino, sock_parent_ino;
};

static void start_child(struct child *c)
{
	int p[2], sp[2], ready[2];
	char b = 0;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	assert_int_equal(pipe(ready), 0);
	c->pipe_rd = p[0];
	c->pipe_wr = p[1];
	c->sock_child = sp[0];
	c->sock_parent = sp[1];
	c->pipe_ino = ino_of(p[0]);
	c->sock_child_ino = ino_of(sp[0]);
	c->sock_parent_ino = ino_of(sp[1]);
	assert_int_equal(ino_of(p[1]), c->pipe_ino);
	assert_int_not_equal(c->sock_child_ino, c->sock_parent_ino);

	c->pid = fork();
	assert_true(c->pid >= 0);
	if (!c->pid) {
		/* Gone with us even if an assertion cuts the test short. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Only the ends this child is meant to hold stay open. */
		close(p[1]);
		close(sp[1]);
		close(ready[0]);
		if (write(ready[1], &b, 1) != 1)
			_exit(1);
		close(ready[1]);
		for (;;)
			pause();
	}
	close(p[0]);
	close(sp[0]);
	close(ready[1]);
	/* The child has closed its copies of our ends once this byte comes. */
	assert_int_equal(read(ready[0], &b, 1), 1);
	close(ready[0]);
}

static void stop_child(struct child *c)
{
	int status;

	kill(c->pid, SIGKILL);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	close(c->pipe_wr);
	close(c->sock_parent);
}

static void test_scan_child(void **state)
{
	struct fds f = { 0 };
	struct child c;
	const struct bt_fdref *r;

	(void)state;
	start_child(&c);
	assert_int_equal(bt_scan_process_fds(c.pid, &f.arr, &f.n, &f.cap), 0);

	r = find_one(&f, c.pid, c.pipe_ino, BT_FD_PIPE);
	assert_int_equal(r->mode, BT_END_READ);
	assert_int_equal(r->fd, c.pipe_rd);
	assert_int_equal(r->named, 0);
	r = find_one(&f, c.pid, c.sock_child_ino, BT_FD_SOCKET);
	assert_int_equal(r->mode, 0);
	assert_int_equal(r->fd, c.sock_child);
	/* Our ends were closed in the child: it must not report them. */
	assert_int_equal(count_ino(&f, c.sock_parent_ino, BT_FD_SOCKET), 0);
	assert_int_equal(count_ino(&f, c.pipe_ino, BT_FD_PIPE), 1);
	for (size_t i = 0; i < f.n; i++)
		assert_int_equal(f.arr[i].pid, c.pid);

	stop_child(&c);
	free(f.arr);
}

static void test_scan_all(void **state)
{
	struct fds f = { 0 };
	struct child c;
	const struct bt_fdref *r;
	uint32_t self = getpid();

	(void)state;
	start_child(&c);
	assert_int_equal(bt_scan_all_fds(&f.arr, &f.n, &f.cap, NULL, NULL), 0);

	/* Exactly both ends of the pipe, each with its holder and direction. */
	assert_int_equal(count_ino(&f, c.pipe_ino, BT_FD_PIPE), 2);
	r = find_one(&f, c.pid, c.pipe_ino, BT_FD_PIPE);
	assert_int_equal(r->mode, BT_END_READ);
	assert_int_equal(r->fd, c.pipe_rd);
	r = find_one(&f, self, c.pipe_ino, BT_FD_PIPE);
	assert_int_equal(r->mode, BT_END_WRITE);
	assert_int_equal(r->fd, c.pipe_wr);

	assert_int_equal(count_ino(&f, c.sock_child_ino, BT_FD_SOCKET), 1);
	assert_int_equal(count_ino(&f, c.sock_parent_ino, BT_FD_SOCKET), 1);
	r = find_one(&f, c.pid, c.sock_child_ino, BT_FD_SOCKET);
	assert_int_equal(r->fd, c.sock_child);
	r = find_one(&f, self, c.sock_parent_ino, BT_FD_SOCKET);
	assert_int_equal(r->fd, c.sock_parent);
	assert_int_equal(r->mode, 0);

	stop_child(&c);
	free(f.arr);
}

/*
 * Named FIFOs: found by stat() through the fd, even once unlinked. An
 * O_PATH fd on one, or on a pipe, is no end and must not be listed.
 */
static void test_named_fifo(void **state)
{
	char dir[] = "/tmp/bt-procscan-XXXXXX", path[64];
	struct fds f = { 0 };
	const struct bt_fdref *r;
	uint32_t self = getpid();
	struct stat st;
	int rw, rd, wr, opath, pipe_opath, p[2];
	char proc_path[64];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	/* O_RDWR first so the one-way opens do not block. */
	rw = open(path, O_RDWR | O_CLOEXEC);
	rd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	wr = open(path, O_WRONLY | O_CLOEXEC);
	opath = open(path, O_PATH | O_CLOEXEC);
	assert_true(rw >= 0 && rd >= 0 && wr >= 0 && opath >= 0);
	assert_int_equal(pipe(p), 0);
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", p[0]);
	pipe_opath = open(proc_path, O_PATH | O_CLOEXEC);
	assert_true(pipe_opath >= 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);

	assert_int_equal(bt_scan_process_fds(self, &f.arr, &f.n, &f.cap), 0);
	assert_int_equal(count_ino(&f, st.st_ino, BT_FD_PIPE), 3);
	assert_int_equal(count_ino(&f, ino_of(p[0]), BT_FD_PIPE), 2);
	for (size_t i = 0; i < f.n; i++) {
		if ((int)f.arr[i].fd == opath || (int)f.arr[i].fd == pipe_opath)
			fail_msg("O_PATH fd %u listed", f.arr[i].fd);
	}
	for (size_t i = 0; i < f.n; i++) {
		r = &f.arr[i];
		if (r->ino != st.st_ino || r->type != BT_FD_PIPE)
			continue;
		assert_int_equal(r->named, 1);
		assert_int_equal(r->pid, self);
		if ((int)r->fd == rw)
			assert_int_equal(r->mode, BT_END_BOTH);
		else if ((int)r->fd == rd)
			assert_int_equal(r->mode, BT_END_READ);
		else if ((int)r->fd == wr)
			assert_int_equal(r->mode, BT_END_WRITE);
		else
			fail_msg("FIFO on unexpected fd %u", r->fd);
	}
	close(rw);
	close(rd);
	close(wr);
	close(opath);
	close(pipe_opath);
	close(p[0]);
	close(p[1]);
	free(f.arr);
}

/* Scans append; a failed one leaves the array as it was. */
static void test_append_and_errors(void **state)
{
	struct fds f = { 0 };
	struct bt_fdref *null_arr = NULL;
	size_t n1, zero = 0, one = 1;
	pid_t gone;
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(bt_scan_process_fds(getpid(), &f.arr, &f.n, &f.cap), 0);
	n1 = f.n;
	assert_true(n1 >= 2);
	assert_int_equal(bt_scan_process_fds(getpid(), &f.arr, &f.n, &f.cap), 0);
	assert_int_equal(f.n, 2 * n1);
	assert_true(f.cap >= f.n);
	assert_int_equal(count_ino(&f, ino_of(p[0]), BT_FD_PIPE), 4);

	gone = tu_gone_pid();
	assert_int_equal(bt_scan_process_fds(gone, &f.arr, &f.n, &f.cap), -ESRCH);
	assert_int_equal(f.n, 2 * n1);
	assert_int_equal(bt_scan_process_fds(0, &f.arr, &f.n, &f.cap), -ESRCH);
	assert_int_equal(f.n, 2 * n1);

	assert_int_equal(bt_scan_process_fds(getpid(), NULL, &f.n, &f.cap), -EINVAL);
	assert_int_equal(bt_scan_all_fds(&f.arr, NULL, &f.cap, NULL, NULL), -EINVAL);
	/* More used than allocated, or a capacity without an array. */
	assert_int_equal(bt_scan_process_fds(getpid(), &null_arr, &one, &zero), -EINVAL);
	assert_int_equal(bt_scan_process_fds(getpid(), &null_arr, &zero, &one), -EINVAL);
	assert_null(null_arr);

	close(p[0]);
	close(p[1]);
	free(f.arr);
}

/* ---- the same from the task_file iterator --------------------------- */

static int iterator_off(void **state)
{
	(void)state;
	bt_scan_use_iterator(false);
	return 0;
}

/* The iterator loads as root on a kernel with BPF iterators; else skipped, said why. */
static void iterator_on(void)
{
	int err = bt_scan_use_iterator(true);

	if (err) {
		print_message("no task_file iterator here (%s): skipped\n", strerror(-err));
		skip();
	}
}

#define VIA_ITERATOR(test)						\
	static void test##_iterator(void **state)			\
	{								\
		iterator_on();						\
		test(state);						\
	}
VIA_ITERATOR(test_scan_child)
VIA_ITERATOR(test_scan_all)
VIA_ITERATOR(test_named_fifo)
VIA_ITERATOR(test_append_and_errors)

/* The records of f whose fd is one of fds[0..nfds). */
static size_t count_ours(const struct fds *f, const int *fds, int nfds)
{
	size_t c = 0;

	for (size_t i = 0; i < f->n; i++)
		for (int j = 0; j < nfds; j++)
			c += (int)f->arr[i].fd == fds[j];
	return c;
}

static int cmp_fd(const void *a, const void *b)
{
	const struct bt_fdref *x = a, *y = b;

	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

/*
 * Both sources list this process's fds alike, memcmp-equal once sorted:
 * the ends of a pipe and of a named FIFO, O_PATH fds on both (left out),
 * a socketpair, a unix listener bound to a path and an O_PATH fd on that
 * path (a socket inode on disk, no socket: left out), TCP and UDP
 * sockets, a regular file (left out).
 */
static void test_iterator_agrees_with_proc(void **state)
{
	char dir[] = "/tmp/bt-procscan-XXXXXX", fifo[64], proc_path[64];
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct fds viaproc = { 0 }, viaiter = { 0 };
	int fds[16], nfds = 0, p[2], sp[2];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/sock", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	fds[nfds++] = p[0];
	fds[nfds++] = p[1];
	fds[nfds++] = sp[0];
	fds[nfds++] = sp[1];
	fds[nfds++] = open(fifo, O_RDWR | O_CLOEXEC);
	fds[nfds++] = open(fifo, O_WRONLY | O_CLOEXEC);
	fds[nfds++] = open(fifo, O_PATH | O_CLOEXEC);
	snprintf(proc_path, sizeof(proc_path), "/proc/self/fd/%d", p[1]);
	fds[nfds++] = open(proc_path, O_PATH | O_CLOEXEC);
	fds[nfds] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fds[nfds], (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(fds[nfds++], 1), 0);
	fds[nfds++] = open(sun.sun_path, O_PATH | O_CLOEXEC);
	fds[nfds++] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fds[nfds++] = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	fds[nfds++] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int i = 0; i < nfds; i++)
		assert_true(fds[i] >= 0);

	assert_int_equal(bt_scan_process_fds(getpid(), &viaproc.arr, &viaproc.n, &viaproc.cap), 0);
	iterator_on();
	assert_int_equal(bt_scan_process_fds(getpid(), &viaiter.arr, &viaiter.n, &viaiter.cap), 0);
	qsort(viaproc.arr, viaproc.n, sizeof(*viaproc.arr), cmp_fd);
	qsort(viaiter.arr, viaiter.n, sizeof(*viaiter.arr), cmp_fd);
	/*
	 * Of ours, exactly the pipe's 2, the socketpair's 2, the FIFO's 2,
	 * the listener and the 2 inet sockets (the O_PATH fds and the
	 * directory are left out); cmocka's own stdio may add pipes.
	 */
	assert_int_equal(count_ours(&viaproc, fds, nfds), 9);
	assert_int_equal(viaiter.n, viaproc.n);
	for (size_t i = 0; i < viaproc.n; i++)
		if (memcmp(&viaproc.arr[i], &viaiter.arr[i], sizeof(viaproc.arr[i])))
			fail_msg("fd %u: /proc says pid %u ino %llu type %u mode %u named %u, "
				 "the iterator fd %u pid %u ino %llu type %u mode %u named %u",
				 viaproc.arr[i].fd, viaproc.arr[i].pid,
				 (unsigned long long)viaproc.arr[i].ino, viaproc.arr[i].type,
				 viaproc.arr[i].mode, viaproc.arr[i].named, viaiter.arr[i].fd,
				 viaiter.arr[i].pid, (unsigned long long)viaiter.arr[i].ino,
				 viaiter.arr[i].type, viaiter.arr[i].mode, viaiter.arr[i].named);

	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	unlink(sun.sun_path);
	unlink(fifo);
	rmdir(dir);
	free(viaproc.arr);
	free(viaiter.arr);
}

/* Not a check, a measurement: what one full scan costs here. */
static void test_scan_all_timing(void **state)
{
	struct fds f = { 0 };
	struct timespec t0, t1;
	double best = 1e9;
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		double ms;

		f.n = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		assert_int_equal(bt_scan_all_fds(&f.arr, &f.n, &f.cap, NULL, NULL), 0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (ms < best)
			best = ms;
	}
	print_message("full fd scan: %.3f ms (best of 5), %zu pipe/socket fds\n", best, f.n);
	free(f.arr);
}

VIA_ITERATOR(test_scan_all_timing)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fd_link),
		cmocka_unit_test(test_parse_fdinfo_flags),
		cmocka_unit_test(test_pipe_end_of_flags),
		cmocka_unit_test(test_scan_child),
		cmocka_unit_test(test_scan_all),
		cmocka_unit_test(test_named_fifo),
		cmocka_unit_test(test_append_and_errors),
		cmocka_unit_test(test_scan_all_timing),
		cmocka_unit_test_teardown(test_scan_child_iterator, iterator_off),
		cmocka_unit_test_teardown(test_scan_all_iterator, iterator_off),
		cmocka_unit_test_teardown(test_named_fifo_iterator, iterator_off),
		cmocka_unit_test_teardown(test_append_and_errors_iterator, iterator_off),
		cmocka_unit_test_teardown(test_iterator_agrees_with_proc, iterator_off),
		cmocka_unit_test_teardown(test_scan_all_timing_iterator, iterator_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
