// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bt_open_output: symlinks (the file and its directories), existing files,
 * modes, non-regular files, stdout, replace-at-close, same-file checks; a
 * recording that is a FIFO.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "lib/outfile.h"
#include "model/model.h"
#include "record/record.h"
#include "testutil.h"

#define ERRLEN 512

static int setup(void **state)
{
	return tu_tmp_setup(state, "/tmp/bt-outfile-XXXXXX");
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void check_content(const char *path, const char *expected)
{
	char buf[256] = { 0 };
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	assert_string_equal(buf, expected);
}

/* Opening must fail, with a message naming the path and saying why. */
static void expect_refused(const char *path, bool overwrite, const char *why)
{
	char err[ERRLEN] = "";

	assert_null(bt_open_output(path, overwrite, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	if (!strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
}

static void test_create_mode_0600(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "out.txt");
	char err[ERRLEN] = "";
	struct stat st;
	FILE *f;

	f = bt_open_output(path, false, err, sizeof(err));
	assert_non_null(f);
	assert_string_equal(err, "");
	fputs("hello\n", f);
	assert_true(bt_close_output(f, err, sizeof(err)));
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* umask 022 would leave 0644 from a plain fopen. */
	assert_int_equal(st.st_mode & 07777, 0600);
	check_content(path, "hello\n");
}

static void test_exists_without_overwrite(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "existing.txt");

	write_file(path, "precious");
	expect_refused(path, false, "exists");
	check_content(path, "precious");
}

static void test_overwrite_truncates(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "existing.txt");
	char err[ERRLEN] = "";
	FILE *f;

	write_file(path, "a long old content");
	f = bt_open_output(path, true, err, sizeof(err));
	assert_non_null(f);
	fputs("new", f);
	assert_true(bt_close_output(f, err, sizeof(err)));
	check_content(path, "new");
}

static void test_symlink_refused(void **state)
{
	struct tu_tmp *t = *state;
	char target[128], link[128];

	snprintf(target, sizeof(target), "%s", tu_in_dir(t, "target.txt"));
	snprintf(link, sizeof(link), "%s", tu_in_dir(t, "link.txt"));
	write_file(target, "victim");
	assert_int_equal(symlink(target, link), 0);
	expect_refused(link, true, "symbolic link");
	expect_refused(link, false, "symbolic link");
	check_content(target, "victim");
}

static void test_dangling_symlink_refused(void **state)
{
	struct tu_tmp *t = *state;
	char target[128], link[128];
	struct stat st;

	snprintf(target, sizeof(target), "%s", tu_in_dir(t, "nowhere.txt"));
	snprintf(link, sizeof(link), "%s", tu_in_dir(t, "dangling"));
	assert_int_equal(symlink(target, link), 0);
	expect_refused(link, false, "symbolic link");
	expect_refused(link, true, "symbolic link");
	/* Nothing was created at the far end. */
	assert_int_equal(lstat(target, &st), -1);
}

static void test_directory_refused(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "subdir");

	assert_int_equal(mkdir(path, 0700), 0);
	expect_refused(path, true, "not a regular file");
	expect_refused(path, false, "not a regular file");
}

static void test_fifo_refused(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "fifo");

	assert_int_equal(mkfifo(path, 0600), 0);
	/* No reader: a blocking open would hang here forever. */
	alarm(10);
	expect_refused(path, true, "not a regular file");
	expect_refused(path, false, "not a regular file");
	alarm(0);
}

static void test_fifo_with_reader_refused(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "fifo2");
	int rd;

	assert_int_equal(mkfifo(path, 0600), 0);
	/* With a reader the open itself succeeds: the type check must catch it. */
	rd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	alarm(10);
	expect_refused(path, true, "not a regular file");
	alarm(0);
	close(rd);
}

static void test_dash_is_stdout(void **state)
{
	char err[ERRLEN] = "";
	FILE *f;

	(void)state;
	f = bt_open_output("-", false, err, sizeof(err));
	assert_ptr_equal(f, stdout);
	/* Closing flushes stdout but leaves it open. */
	assert_true(bt_close_output(f, err, sizeof(err)));
	assert_true(fcntl(STDOUT_FILENO, F_GETFD) >= 0);
}

static void test_char_device(void **state)
{
	char err[ERRLEN] = "";
	FILE *f;

	(void)state;
	f = bt_open_output("/dev/null", true, err, sizeof(err));
	assert_non_null(f);
	fputs("discarded", f);
	assert_true(bt_close_output(f, err, sizeof(err)));
}

static void test_write_error_reported(void **state)
{
	char err[ERRLEN] = "";
	FILE *f;

	(void)state;
	if (access("/dev/full", W_OK))
		skip();
	f = bt_open_output("/dev/full", true, err, sizeof(err));
	assert_non_null(f);
	fputs("no room", f);
	assert_false(bt_close_output(f, err, sizeof(err)));
	assert_non_null(strstr(err, "write failed"));
}

static void test_missing_directory(void **state)
{
	struct tu_tmp *t = *state;

	expect_refused(tu_in_dir(t, "no/such/dir/out"), false, "No such file or directory");
}

static void test_other_owner_refused(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "theirs.txt");

	if (geteuid() != 0)
		skip();	/* only root can give a file away */
	write_file(path, "theirs");
	assert_int_equal(chown(path, 65534, 65534), 0);
	expect_refused(path, true, "owned by another user");
	check_content(path, "theirs");
}

/* Entries of the scratch directory besides the given ones: a temporary file left behind. */
static int stray_entries(struct tu_tmp *t, const char *keep)
{
	DIR *d = opendir(t->dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (!keep || !strstr(keep, e->d_name)))
			n++;
	closedir(d);
	return n;
}

static void test_symlinked_parent_refused(void **state)
{
	struct tu_tmp *t = *state;
	char real[128], link[128], through[160];
	struct stat st;

	snprintf(real, sizeof(real), "%s", tu_in_dir(t, "real"));
	snprintf(link, sizeof(link), "%s", tu_in_dir(t, "link"));
	assert_int_equal(mkdir(real, 0700), 0);
	assert_int_equal(symlink(real, link), 0);
	snprintf(through, sizeof(through), "%s/out.txt", link);
	expect_refused(through, false, "symbolic link");
	expect_refused(through, true, "symbolic link");
	snprintf(through, sizeof(through), "%s/out.txt", real);
	assert_int_equal(lstat(through, &st), -1);
}

/* A write that fails (the file size limit stands in for a full disk). */
static void test_failed_write_keeps_old_file(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "report.txt");
	char big[4096];
	int status;
	pid_t pid;

	write_file(path, "old report");
	memset(big, 'x', sizeof(big));
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 1024, 1024 };
		char err[ERRLEN] = "";
		FILE *f;

		signal(SIGXFSZ, SIG_IGN);
		f = bt_open_output(path, true, err, sizeof(err));
		if (!f || setrlimit(RLIMIT_FSIZE, &rl))
			_exit(2);
		fwrite(big, 1, sizeof(big), f);
		_exit(bt_close_output(f, err, sizeof(err)) || !strstr(err, "write failed") ? 3 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	check_content(path, "old report");
	assert_int_equal(stray_entries(t, "report.txt"), 0);
}

static void test_complete_file_only_at_close(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "late.txt");
	char err[ERRLEN] = "", keep[160];
	struct stat st;
	FILE *f;

	snprintf(keep, sizeof(keep), "%s", path);
	f = bt_open_output(keep, false, err, sizeof(err));
	assert_non_null(f);
	fputs("done", f);
	fflush(f);
	/* Not under its name while it is being written... */
	assert_int_equal(lstat(keep, &st), -1);
	assert_true(bt_close_output(f, err, sizeof(err)));
	/* ...and only it, complete, afterwards. */
	check_content(keep, "done");
	assert_int_equal(stray_entries(t, "late.txt"), 0);
	/* An aborted output leaves nothing. */
	f = bt_open_output(tu_in_dir(t, "never.txt"), false, err, sizeof(err));
	assert_non_null(f);
	fputs("half", f);
	bt_abort_output(f);
	assert_int_equal(stray_entries(t, "late.txt"), 0);
}

static void test_same_output(void **state)
{
	struct tu_tmp *t = *state;
	char a[128], b[128], dot[160];

	snprintf(a, sizeof(a), "%s", tu_in_dir(t, "a.out"));
	snprintf(b, sizeof(b), "%s", tu_in_dir(t, "b.out"));
	snprintf(dot, sizeof(dot), "%s/./a.out", t->dir);
	/* Not made yet: by directory and name. */
	assert_true(bt_same_output(a, a));
	assert_true(bt_same_output(a, dot));
	assert_false(bt_same_output(a, b));
	/* Made: by device and inode, through a hard link too. */
	write_file(a, "x");
	assert_int_equal(link(a, b), 0);
	assert_true(bt_same_output(a, b));
	assert_false(bt_same_output("-", "-"));
	assert_false(bt_same_output("/dev/null", "/dev/null"));
}

static void test_report_on_fifo_refused(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "rec.fifo");
	struct bt_rec_status st;
	struct bt_rec_info info;
	char err[ERRLEN] = "";
	struct bt_model m;

	assert_int_equal(mkfifo(path, 0600), 0);
	bt_model_init(&m);
	alarm(10);	/* a blocking open would hang here: no writer */
	assert_int_equal(bt_rec_read(path, &m, &info, &st, err, sizeof(err)), -1);
	alarm(0);
	assert_non_null(strstr(err, "not a regular file"));
	bt_model_free(&m);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, tu_tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_create_mode_0600),
		T(test_exists_without_overwrite),
		T(test_overwrite_truncates),
		T(test_symlink_refused),
		T(test_dangling_symlink_refused),
		T(test_directory_refused),
		T(test_fifo_refused),
		T(test_fifo_with_reader_refused),
		T(test_dash_is_stdout),
		T(test_char_device),
		T(test_write_error_reported),
		T(test_missing_directory),
		T(test_other_owner_refused),
		T(test_symlinked_parent_refused),
		T(test_failed_write_keeps_old_file),
		T(test_complete_file_only_at_close),
		T(test_same_output),
		T(test_report_on_fifo_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
