// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Folding stacks (user/stacks.c bt_stacks_fold): kernel stacks against a
 * kallsyms fixture (the tracing hook's frames trimmed), user stacks of
 * this very process with the syscall wrapper's caller put back, names
 * sanitized, and truncation marked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbols/stacks.h"
#include "symbols/symbolize.h"

/* fixtures/stacks_kallsyms.txt */
#define K_ENTRY		0xffffffff81000100ull	/* entry_SYSCALL_64_after_hwframe */
#define K_DO_SYSCALL	0xffffffff81000200ull	/* do_syscall_64 */
#define K_EXIT_WORK	0xffffffff81000300ull	/* syscall_exit_work */
#define K_TRACEITER	0xffffffff81000400ull	/* __traceiter_sys_exit */
#define K_TRACE_RUN	0xffffffff81000500ull	/* bpf_trace_run2 */
#define K_KSYS_READ	0xffffffff81000600ull	/* ksys_read */
#define K_ODD		0xffffffff81000700ull	/* odd;name */
#define K_BPF_PROG	0xffffffffc0004000ull	/* bpf_prog_abc_sys_exit [bpf] */
#define K_NOWHERE	0xffffffff80000000ull	/* below every symbol */

#define ENTRY_DO "entry_SYSCALL_64_after_hwframe;do_syscall_64"

static struct bt_sym *kernel_sym(void)
{
	struct bt_sym *s = bt_sym_new();

	assert_non_null(s);
	assert_int_equal(bt_sym_load_kallsyms(s, "fixtures/stacks_kallsyms.txt"), 0);
	return s;
}

static void expect_fold(struct bt_sym *s, uint32_t pid, bool kernel, const __u64 *ips,
			size_t n, __u64 caller, size_t len, const char *want)
{
	char buf[512];

	assert_true(len <= sizeof(buf));
	memset(buf, 'x', sizeof(buf));
	bt_stacks_fold(s, pid, kernel, ips, n, caller, buf, len);
	assert_string_equal(buf, want);
}

/* ---- kernel --------------------------------------------------------- */

/* Taken in the sys_exit hook: the leaf end is the hook itself and goes. */
static void test_kernel_hook_trimmed(void **state)
{
	const __u64 ips[] = {
		K_BPF_PROG + 0x20, K_TRACE_RUN + 0x30, K_TRACEITER + 0x10, K_EXIT_WORK + 0x40,
		K_DO_SYSCALL + 0x50, K_ENTRY + 0x60,
	};
	struct bt_sym *s = kernel_sym();

	(void)state;
	expect_fold(s, 0, true, ips, 6, 0, 512, ENTRY_DO);
	/* Whatever is leafward of a hook frame goes with it. */
	{
		const __u64 mixed[] = { K_KSYS_READ + 8, K_EXIT_WORK + 8, K_DO_SYSCALL + 8,
					K_ENTRY + 8 };

		expect_fold(s, 0, true, mixed, 4, 0, 512, ENTRY_DO);
	}
	bt_sym_free(s);
}

static void test_kernel_plain(void **state)
{
	const __u64 ips[] = { K_KSYS_READ + 0x10, K_DO_SYSCALL + 0x50, K_ENTRY + 0x60 };
	const __u64 unknown[] = { K_NOWHERE, K_DO_SYSCALL, K_ENTRY };
	const __u64 odd[] = { K_ODD + 4, K_ENTRY + 4 };
	struct bt_sym *s = kernel_sym();

	(void)state;
	expect_fold(s, 0, true, ips, 3, 0, 512, ENTRY_DO ";ksys_read");
	expect_fold(s, 0, true, unknown, 3, 0, 512, ENTRY_DO ";[unknown]");
	/* A ';' in a name would split the frame: sanitized. */
	expect_fold(s, 0, true, odd, 2, 0, 512, "entry_SYSCALL_64_after_hwframe;odd_name");
	/* Only hook frames: nothing is left. */
	expect_fold(s, 0, true, ips, 0, 0, 512, "");
	{
		const __u64 hook[] = { K_BPF_PROG + 1, K_TRACE_RUN + 1 };

		expect_fold(s, 0, true, hook, 2, 0, 512, "");
	}
	bt_sym_free(s);
}

static void test_kernel_truncated(void **state)
{
	const __u64 ips[] = { K_KSYS_READ + 0x10, K_DO_SYSCALL + 0x50, K_ENTRY + 0x60 };
	const __u64 hook[] = {
		K_BPF_PROG + 0x20, K_TRACE_RUN + 0x30, K_TRACEITER + 0x10, K_EXIT_WORK + 0x40,
		K_DO_SYSCALL + 0x50, K_ENTRY + 0x60,
	};
	const char full[] = ENTRY_DO ";ksys_read";
	struct bt_sym *s = kernel_sym();

	(void)state;
	/* Exactly fits: no mark. */
	expect_fold(s, 0, true, ips, 3, 0, sizeof(full), full);
	/* One byte short: cut, and the cut is marked. */
	expect_fold(s, 0, true, ips, 3, 0, sizeof(full) - 1, ENTRY_DO ";ksys_...");
	expect_fold(s, 0, true, ips, 3, 0, 20, "entry_SYSCALL_64...");
	/*
	 * The first frame fills the buffer exactly: the frames that did not
	 * fit must still be marked, not dropped silently.
	 */
	expect_fold(s, 0, true, ips, 3, 0, sizeof("entry_SYSCALL_64_after_hwframe"),
		    "entry_SYSCALL_64_after_hwfr...");
	/* ... and likewise after a later frame. */
	expect_fold(s, 0, true, ips, 3, 0, sizeof(ENTRY_DO),
		    "entry_SYSCALL_64_after_hwframe;do_syscall...");
	/* Exactly full, and only hook frames left: nothing was cut. */
	expect_fold(s, 0, true, hook, 6, 0, sizeof(ENTRY_DO), ENTRY_DO);
	bt_sym_free(s);
}

/* ---- user: this process --------------------------------------------- */

static volatile int sink;

/* Bodies long enough that +1 and +5 stay inside; never inlined or cloned. */
static __attribute__((noinline, noclone, used)) void fold_leaf(void)
{
	sink++;
	sink++;
	sink++;
}

static __attribute__((noinline, noclone, used)) void fold_caller(void)
{
	sink++;
	fold_leaf();
	sink++;
}

static __attribute__((noinline, noclone, used)) void fold_mid(void)
{
	sink++;
	fold_caller();
	sink++;
}

static __attribute__((noinline, noclone, used)) void fold_top(void)
{
	sink++;
	fold_mid();
	sink++;
}

#define AT(fn, off) ((__u64)(uintptr_t)&(fn) + (off))

static struct bt_sym *self_sym(uint32_t *pid)
{
	struct bt_sym *s = bt_sym_new();

	assert_non_null(s);
	*pid = (uint32_t)getpid();
	assert_int_equal(bt_sym_add_process(s, *pid), 0);
	return s;
}

/*
 * The libc wrapper (the leaf) makes no frame: the frame-pointer walk
 * goes from it to its caller's caller. The caller's return address,
 * taken from the top of the stack, goes back in after the leaf.
 */
static void test_user_caller_inserted(void **state)
{
	const __u64 ips[] = { AT(fold_leaf, 1), AT(fold_mid, 1), AT(fold_top, 1) };
	uint32_t pid;
	struct bt_sym *s = self_sym(&pid);

	(void)state;
	fold_top();
	expect_fold(s, pid, false, ips, 3, AT(fold_caller, 1), 512,
		    "fold_top;fold_mid;fold_caller;fold_leaf");
	/* No caller: the stack as walked. */
	expect_fold(s, pid, false, ips, 3, 0, 512, "fold_top;fold_mid;fold_leaf");
	/* A one-frame stack gets its caller too. */
	expect_fold(s, pid, false, ips, 1, AT(fold_caller, 1), 512, "fold_caller;fold_leaf");
	expect_fold(s, pid, false, ips, 0, AT(fold_caller, 1), 512, "");
	bt_sym_free(s);
}

/* When the walk did find the caller (the leaf made a frame), no duplicate. */
static void test_user_caller_already_there(void **state)
{
	const __u64 ips[] = { AT(fold_leaf, 1), AT(fold_caller, 5), AT(fold_top, 1) };
	uint32_t pid;
	struct bt_sym *s = self_sym(&pid);

	(void)state;
	expect_fold(s, pid, false, ips, 3, AT(fold_caller, 1), 512,
		    "fold_top;fold_caller;fold_leaf");
	/* Only the walk's next frame counts: another function is still inserted. */
	expect_fold(s, pid, false, ips, 3, AT(fold_mid, 1), 512,
		    "fold_top;fold_caller;fold_mid;fold_leaf");
	bt_sym_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_hook_trimmed),
		cmocka_unit_test(test_kernel_plain),
		cmocka_unit_test(test_kernel_truncated),
		cmocka_unit_test(test_user_caller_inserted),
		cmocka_unit_test(test_user_caller_already_there),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
