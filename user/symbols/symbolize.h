/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The symbolizer every stack exporter uses: user addresses through the
 * process's maps and its ELF files (and vDSO), kernel addresses through
 * kallsyms, and one formatter so all outputs name frames alike.
 *
 * Lifetime: a process's maps are read when it is registered, and each
 * executable file it maps is opened then (through /proc/PID/map_files,
 * else by its path resolved inside /proc/PID/root with RESOLVE_IN_ROOT and
 * accepted only if its device and inode match the mapping; only regular
 * files, looked at through O_PATH first) and kept open, but parsed only when a lookup first
 * needs it; the fd is closed after parsing. So a process that exits before
 * the report still symbolizes, and files that no sample hits cost one fd
 * and no parsing. Past BT_SYM_MAX_OPEN_FDS unparsed files, new ones are
 * parsed at registration instead, which bounds the fds held. The vDSO is
 * copied out of the process at registration.
 *
 * Parsed files are shared by (st_dev, st_ino), whatever path led to them.
 * Strings in a bt_frame stay valid until bt_sym_free(), even if the process
 * is registered again. Not thread-safe: callers serialize.
 */
#ifndef BT_SYMBOLIZE_H
#define BT_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BT_SYM_MAX_OPEN_FDS 128
/* A process missing an address re-reads its maps (dlopen) at most this often. */
#define BT_SYM_MAX_REFRESH 4
#define BT_SYM_MAX_VDSO_SIZE (1u << 20)

struct bt_sym;

struct bt_frame {
	const char *name;	/* function, NULL when unresolved */
	/*
	 * Resolved: from the function's start. Unresolved in a file: the ELF
	 * virtual address when the file's segments place it (what addr2line
	 * -e takes), else the file offset.
	 */
	uint64_t offset;
	/* File basename, "[vdso]", "[kernel]" or a kernel module; NULL if none. */
	const char *module;
	bool resolved;
};

struct bt_sym *bt_sym_new(void);
void bt_sym_free(struct bt_sym *s);

/*
 * Reads /proc/PID/maps now and opens the files it maps. Registering a pid
 * again replaces its maps (after exec). 0, or -errno if the process is gone.
 */
int bt_sym_add_process(struct bt_sym *s, uint32_t pid);
/*
 * Same from maps text; files are opened by path resolved inside root
 * (RESOLVE_IN_ROOT: an absolute symlink stays inside; "" is the host's
 * root; NULL means the live process, as bt_sym_add_process). For tests,
 * and for maps captured elsewhere.
 */
int bt_sym_add_process_maps(struct bt_sym *s, uint32_t pid, const char *maps_text,
			    const char *root);

/*
 * out is always filled. 0 when a symbol was found; -ENOENT when not
 * (out names the module and offset, or nothing); -ESRCH for a pid never
 * registered.
 */
int bt_sym_user(struct bt_sym *s, uint32_t pid, uint64_t addr, struct bt_frame *out);

/*
 * Kernel symbols come from path from now on (else from /proc/kallsyms);
 * it is read once now to check it. 0; -EPERM if every address read as 0
 * (kptr_restrict: kernel frames then stay unresolved and
 * bt_sym_kernel_restricted() is true); -errno if the file cannot be read
 * (then kernel frames stay unresolved, /proc/kallsyms is not tried).
 */
int bt_sym_load_kallsyms(struct bt_sym *s, const char *path);
bool bt_sym_kernel_restricted(const struct bt_sym *s);
/*
 * Kernel addresses are looked up by reading kallsyms for them, keeping
 * only the symbols that answer them (the whole table is ~6 MiB, a trace
 * uses a few hundred symbols). Prefetch reads it once for all of
 * addrs[0 .. n) not looked up yet (0 entries are skipped); past
 * BT_SYM_KSYMS_READS reads the whole table is read once and answers
 * every address after. 0, or -errno.
 */
#define BT_SYM_KSYMS_READS 8
/*
 * Reads kallsyms once now for the functions whose names start with one
 * of prefixes[0 .. n): addresses inside them need no read later (a
 * tracer's kernel stacks are mostly the syscall path's few functions).
 */
int bt_sym_kernel_preload(struct bt_sym *s, const char *const *prefixes, size_t n);
int bt_sym_kernel_prefetch(struct bt_sym *s, const uint64_t *addrs, size_t n);
/*
 * For -v: whether the preload's read was made, the reads for addresses
 * since, the addresses they answered, whether the whole table is in.
 */
void bt_sym_kernel_stats(const struct bt_sym *s, bool *named, unsigned int *reads, size_t *addrs,
			 bool *whole);
/*
 * As bt_sym_user(); unresolved kernel frames have no module. An address
 * not prefetched is read for alone.
 */
int bt_sym_kernel(struct bt_sym *s, uint64_t addr, struct bt_frame *out);

/*
 * "func" or "func+0x1a" (with_offset), "libfoo.so+0x1234" when the module
 * is known but not the function, "[unknown]" otherwise. Truncates to len;
 * returns buf (NULL if len is 0).
 */
char *bt_sym_format(const struct bt_frame *f, bool with_offset, char *buf, size_t len);

#endif
