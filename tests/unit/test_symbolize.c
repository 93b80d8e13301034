// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The symbolizer: maps parsing, ELF symbols of PIE, non-PIE, shared and
 * stripped files and of the vDSO, live and exited processes, kallsyms,
 * formatting, and corrupt ELF files. Fixtures are built by symbolize.mk.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <setjmp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "symbols/elfsym.h"
#include "symbols/kallsyms.h"
#include "symbols/procmaps.h"
#include "symbols/symbolize.h"
#include "lib/vec.h"

#define FIX "../../build/fixtures"
#define SRC_FIX "fixtures"
/* Above any pid_max: never a live process. */
#define FAKE_PID 0x7ffffff0u
#define LIB_BASE 0x7f3000000000ull
#define MAX_FX_SYMS 8
#define PAGE_DOWN (~(uint64_t)0xfff)

/* ---- helpers -------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0, n = 0, r;
	char *buf = NULL;

	assert_non_null(f);
	do {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, 4096, f);
		n += r;
	} while (r);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* st_value of name in the file's .symtab (an independent nm). */
static uint64_t nm_value(const char *path, const char *name)
{
	int fd = open(path, O_RDONLY);
	Elf_Scn *scn = NULL;
	uint64_t val = 0;
	Elf *elf;

	assert_true(fd >= 0);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	while (!val && (scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *n;

			if (!gelf_getsym(d, (int)i, &sym))
				break;
			n = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name)) {
				val = sym.st_value;
				break;
			}
		}
	}
	elf_end(elf);
	close(fd);
	assert_int_not_equal(val, 0);
	return val;
}

/*
 * Appends the maps lines the kernel would show for file's PT_LOAD
 * segments loaded at base (0 for a non-PIE executable).
 */
static void maps_for(char *buf, size_t len, const char *file, const char *shown,
		     uint64_t base)
{
	int fd = open(file, O_RDONLY);
	size_t n, i;
	Elf *elf;

	assert_true(fd >= 0);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	assert_non_null(elf);
	assert_int_equal(elf_getphdrnum(elf, &n), 0);
	for (i = 0; i < n; i++) {
		size_t used = strlen(buf);
		uint64_t start, end, off;
		GElf_Phdr ph;

		assert_non_null(gelf_getphdr(elf, (int)i, &ph));
		if (ph.p_type != PT_LOAD)
			continue;
		start = base + (ph.p_vaddr & PAGE_DOWN);
		end = base + ((ph.p_vaddr + ph.p_memsz + 0xfff) & PAGE_DOWN);
		off = ph.p_offset & PAGE_DOWN;
		snprintf(buf + used, len - used,
			 "%" PRIx64 "-%" PRIx64 " %c%c%cp %08" PRIx64 " fe:00 4242   %s\n",
			 start, end, ph.p_flags & PF_R ? 'r' : '-', ph.p_flags & PF_W ? 'w' : '-',
			 ph.p_flags & PF_X ? 'x' : '-', off, shown);
	}
	elf_end(elf);
	close(fd);
}

static const char *fmt(const struct bt_frame *f, bool with_offset)
{
	static char buf[256];

	return bt_sym_format(f, with_offset, buf, sizeof(buf));
}

/* name NULL: expect an unresolved frame with that module (NULL: none). */
static void expect_user(struct bt_sym *s, uint32_t pid, uint64_t addr, const char *name,
			uint64_t off, const char *module)
{
	struct bt_frame f;
	int rc = bt_sym_user(s, pid, addr, &f);

	if (name) {
		assert_int_equal(rc, 0);
		assert_true(f.resolved);
		assert_string_equal(f.name, name);
	} else {
		assert_int_equal(rc, -ENOENT);
		assert_false(f.resolved);
		assert_null(f.name);
	}
	assert_int_equal(f.offset, off);
	if (module)
		assert_string_equal(f.module, module);
	else
		assert_null(f.module);
}

static void expect_kernel(struct bt_sym *s, uint64_t addr, const char *text)
{
	struct bt_frame f;
	int rc = bt_sym_kernel(s, addr, &f);

	assert_int_equal(rc, f.resolved ? 0 : -ENOENT);
	assert_string_equal(fmt(&f, true), text);
}

/* ---- a live fixture process ------------------------------------------ */

struct child {
	pid_t pid;
	int in;			/* its stdin: closing it makes it exit */
	size_t n;
	char name[MAX_FX_SYMS][256];
	uint64_t addr[MAX_FX_SYMS];
};

static void spawn(const char *exe, struct child *c)
{
	int in[2], out[2];
	char line[256];
	FILE *f;

	memset(c, 0, sizeof(*c));
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (!c->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(exe, exe, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = in[1];
	f = fdopen(out[0], "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) && strcmp(line, "ready\n")) {
		char *sp = strchr(line, ' ');

		assert_non_null(sp);
		assert_true(c->n < MAX_FX_SYMS);
		*sp = 0;
		snprintf(c->name[c->n], sizeof(c->name[0]), "%s", line);
		c->addr[c->n++] = strtoull(sp + 1, NULL, 16);
	}
	fclose(f);
	assert_true(c->n >= 5);
}

static void reap(struct child *c)
{
	int st;

	close(c->in);
	assert_int_equal(waitpid(c->pid, &st, 0), c->pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static const char *module_of(const char *name, const char *exe)
{
	if (!strncmp(name, "bt_fx_exe", 9))
		return exe;
	if (!strncmp(name, "bt_fx_lib", 9))
		return "libbtsym.so";
	return "[vdso]";
}

/* Every printed function, at its start and 3 bytes in. */
static void check_child(struct bt_sym *s, uint32_t pid, const struct child *c, const char *exe)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		const char *mod = module_of(c->name[i], exe);

		expect_user(s, pid, c->addr[i], c->name[i], 0, mod);
		expect_user(s, pid, c->addr[i] + 3, c->name[i], 3, mod);
	}
	expect_user(s, pid, 8, NULL, 0, NULL);
}

/* ---- maps parsing ----------------------------------------------------- */

static const char maps_text[] =
	"7f0000001000-7f0000002000 r-xp 00001000 fe:01 1234    /usr/lib/libfoo.so\n"
	"00400000-00401000 r--p 00000000 08:02 99    /opt/my app/bin (x)\n"
	"7f0000000000-7f0000001000 r--p 00000000 fe:01 1234    /usr/lib/libfoo.so\n"
	"7f0000003000-7f0000004000 rw-s 00000000 00:05 777    /memfd:jit (deleted)\n"
	"7f0000004000-7f0000005000 rw-p 00000000 00:00 0 \n"
	"not a maps line\n"
	"7f0000006000-7f0000005000 r-xp 00000000 00:00 0    [backwards]\n"
	"\n"
	"7ffc00000000-7ffc00002000 r-xp 00000000 00:00 0                          [vdso]";

static void check_parsed(const struct bt_maps *m)
{
	const struct bt_map *e;

	assert_int_equal(m->n, 6);
	assert_int_equal(m->skipped, 2);
	e = &m->v[0];
	assert_int_equal(e->start, 0x400000);
	assert_int_equal(e->flags, BT_MAP_R);
	assert_int_equal(e->dev_major, 8);
	assert_int_equal(e->dev_minor, 2);
	assert_int_equal(e->inode, 99);
	assert_string_equal(bt_maps_path(m, e), "/opt/my app/bin (x)");
	e = &m->v[2];
	assert_int_equal(e->pgoff, 0x1000);
	assert_int_equal(e->flags, BT_MAP_R | BT_MAP_X);
	assert_int_equal(e->dev_major, 0xfe);
	assert_string_equal(bt_maps_path(m, e), "/usr/lib/libfoo.so");
	e = &m->v[3];
	assert_int_equal(e->flags, BT_MAP_R | BT_MAP_W | BT_MAP_SHARED | BT_MAP_DELETED);
	assert_string_equal(bt_maps_path(m, e), "/memfd:jit");
	assert_string_equal(bt_maps_path(m, &m->v[4]), "");
	assert_string_equal(bt_maps_path(m, &m->v[5]), "[vdso]");
}

static void test_maps_parse_text(void **state)
{
	struct bt_maps m;

	(void)state;
	bt_maps_init(&m);
	assert_int_equal(bt_maps_parse(&m, maps_text, strlen(maps_text)), 0);
	check_parsed(&m);
	bt_maps_free(&m);
}

static void test_maps_read_file(void **state)
{
	struct bt_maps m;
	FILE *f = fmemopen((void *)maps_text, strlen(maps_text), "r");

	(void)state;
	assert_non_null(f);
	bt_maps_init(&m);
	assert_int_equal(bt_maps_read(&m, f), 0);
	fclose(f);
	check_parsed(&m);
	bt_maps_free(&m);
}

static void test_maps_find(void **state)
{
	struct bt_maps m;

	(void)state;
	bt_maps_init(&m);
	assert_int_equal(bt_maps_parse(&m, maps_text, strlen(maps_text)), 0);
	assert_null(bt_maps_find(&m, 0));
	assert_null(bt_maps_find(&m, 0x3fffff));
	assert_ptr_equal(bt_maps_find(&m, 0x400000), &m.v[0]);
	assert_ptr_equal(bt_maps_find(&m, 0x400fff), &m.v[0]);
	assert_null(bt_maps_find(&m, 0x401000));
	assert_ptr_equal(bt_maps_find(&m, 0x7f0000001fff), &m.v[2]);
	assert_null(bt_maps_find(&m, 0x7f0000002000));
	assert_ptr_equal(bt_maps_find(&m, 0x7ffc00001000), &m.v[5]);
	assert_null(bt_maps_find(&m, UINT64_MAX));
	bt_maps_free(&m);
}

static int parse_line(const char *line, size_t len, const char **path, size_t *plen)
{
	struct bt_map e;

	return bt_maps_parse_line(line, len, &e, path, plen);
}

#define PARSE_LINE(l, path, plen) parse_line(l, strlen(l), path, plen)

static void test_maps_line(void **state)
{
	const char *path;
	size_t plen;

	(void)state;
	assert_int_equal(PARSE_LINE("1000-2000 r-xp 0 fe:01 5 /x\n", &path, &plen), 0);
	assert_int_equal(plen, 2);
	assert_memory_equal(path, "/x", 2);
	/* Stops at len, not at a NUL. */
	assert_int_equal(parse_line("1000-2000 r-xp 0 fe:01 5 /xyz",
				    strlen("1000-2000 r-xp 0 fe:01 5 /x"), &path, &plen), 0);
	assert_int_equal(plen, 2);
	assert_int_equal(PARSE_LINE("1000-2000 r-xp 0 fe:01", &path, &plen), -1);
	assert_int_equal(PARSE_LINE("1000-2000 r-xp 0 fe:01 5x /x", &path, &plen), -1);
	assert_int_equal(PARSE_LINE("11111111111111111-2 r-xp 0 0:0 0", &path, &plen), -1);
	assert_int_equal(PARSE_LINE("2000-1000 r-xp 0 0:0 0", &path, &plen), -1);
	assert_int_equal(PARSE_LINE("", &path, &plen), -1);
}

/* ---- formatting ----------------------------------------------------- */

static void test_format(void **state)
{
	struct bt_frame f = {
		.name = "do_work", .offset = 0x1a, .module = "app", .resolved = true,
	};
	char small[6];

	(void)state;
	assert_string_equal(fmt(&f, true), "do_work+0x1a");
	assert_string_equal(fmt(&f, false), "do_work");
	f.offset = 0;
	assert_string_equal(fmt(&f, true), "do_work+0x0");
	f = (struct bt_frame){ .offset = 0x1234, .module = "libfoo.so" };
	assert_string_equal(fmt(&f, true), "libfoo.so+0x1234");
	assert_string_equal(fmt(&f, false), "libfoo.so+0x1234");
	f = (struct bt_frame){ .offset = 0x1234 };
	assert_string_equal(fmt(&f, true), "[unknown]");
	assert_string_equal(fmt(&f, false), "[unknown]");
	assert_ptr_equal(bt_sym_format(&f, true, small, sizeof(small)), small);
	assert_string_equal(small, "[unkn");
	assert_null(bt_sym_format(&f, true, small, 0));
}

/* ---- kallsyms ------------------------------------------------------- */

static void test_kallsyms_fixture(void **state)
{
	struct bt_sym *s = bt_sym_new();
	struct bt_frame f;

	(void)state;
	assert_int_equal(bt_sym_load_kallsyms(s, SRC_FIX "/sym_kallsyms.txt"), 0);
	assert_false(bt_sym_kernel_restricted(s));
	/* Aliases: the first of equal types wins, T over W over t. */
	expect_kernel(s, 0xffffffff81000000ull, "_stext+0x0");
	expect_kernel(s, 0xffffffff81000150ull, "helper_local+0x50");
	/* Data symbols are no frames: the text before keeps the address. */
	expect_kernel(s, 0xffffffff81000310ull, "do_syscall_64+0x110");
	expect_kernel(s, 0xffffffff81000404ull, "weak_func+0x4");
	expect_kernel(s, 0xffffffff81000500ull, "__x64_sys_read+0x0");
	expect_kernel(s, 0xffffffffc0001010ull, "ext4_init+0x10");
	expect_kernel(s, 0xffffffffc0002008ull, "ext4_mod_func+0x8");
	expect_kernel(s, 0xffffffff80000000ull, "[unknown]");
	expect_kernel(s, 0xffffffffc0003000ull + (2u << 20), "[unknown]");
	assert_int_equal(bt_sym_kernel(s, 0xffffffff81000210ull, &f), 0);
	assert_string_equal(f.module, "[kernel]");
	assert_string_equal(fmt(&f, false), "do_syscall_64");
	assert_int_equal(bt_sym_kernel(s, 0xffffffffc0003004ull, &f), 0);
	assert_string_equal(f.name, "bpf_prog_6deef7357e7b4530_handler");
	assert_string_equal(f.module, "bpf");
	assert_int_equal(bt_sym_kernel(s, 0xffffffffc0002000ull, &f), 0);
	assert_string_equal(f.module, "ext4");
	bt_sym_free(s);
}

static void test_kallsyms_count(void **state)
{
	FILE *f = fopen(SRC_FIX "/sym_kallsyms.txt", "r");
	struct bt_ksyms *k;

	(void)state;
	assert_non_null(f);
	k = bt_ksyms_read(f);
	fclose(f);
	assert_non_null(k);
	/* 8 distinct text addresses; data, garbage and the absolute symbol dropped. */
	assert_int_equal(bt_ksyms_count(k), 8);
	assert_false(bt_ksyms_restricted(k));
	bt_ksyms_free(k);
}

static void test_kallsyms_restricted(void **state)
{
	struct bt_sym *s = bt_sym_new();
	struct bt_frame f;

	(void)state;
	assert_false(bt_sym_kernel_restricted(s));
	assert_int_equal(bt_sym_load_kallsyms(s, SRC_FIX "/sym_kallsyms_restricted.txt"), -EPERM);
	assert_true(bt_sym_kernel_restricted(s));
	assert_int_equal(bt_sym_kernel(s, 0xffffffff81000000ull, &f), -ENOENT);
	assert_false(f.resolved);
	assert_string_equal(fmt(&f, true), "[unknown]");
	/* A good table loaded later replaces it. */
	assert_int_equal(bt_sym_load_kallsyms(s, SRC_FIX "/sym_kallsyms.txt"), 0);
	assert_false(bt_sym_kernel_restricted(s));
	expect_kernel(s, 0xffffffff81000001ull, "_stext+0x1");
	bt_sym_free(s);
}

static void test_kallsyms_missing(void **state)
{
	struct bt_sym *s = bt_sym_new();
	struct bt_frame f;

	(void)state;
	assert_int_equal(bt_sym_load_kallsyms(s, SRC_FIX "/no_such_kallsyms"), -ENOENT);
	/* A failed explicit load is not retried with /proc/kallsyms. */
	assert_int_equal(bt_sym_kernel(s, 0xffffffff81000000ull, &f), -ENOENT);
	assert_string_equal(fmt(&f, false), "[unknown]");
	bt_sym_free(s);
}

/* The whole table of path, and the one read from it by want or, if given, by prefixes. */
static void read_both(const char *path, struct bt_ksyms **all, struct bt_ksyms **some,
		      const uint64_t *want, size_t n, const char *const *prefixes, size_t np)
{
	FILE *f = fopen(path, "r"), *g = fopen(path, "r");

	assert_non_null(f);
	assert_non_null(g);
	*all = bt_ksyms_read(f);
	*some = prefixes ? bt_ksyms_read_named(g, prefixes, np) : bt_ksyms_read_for(g, want, n);
	fclose(f);
	fclose(g);
	assert_non_null(*all);
	assert_non_null(*some);
}

/*
 * Whether the table read from path for want[0 .. n) (sorted, distinct),
 * or by prefixes[0 .. np) if given, answers at each of want what the
 * whole table does: same name, offset and module. A table read by names
 * may instead not know (NULL or ""); *known counts the answers given.
 */
static void expect_answers(const char *path, const uint64_t *want, size_t n,
			   const char *const *prefixes, size_t np, size_t *known)
{
	struct bt_ksyms *all, *some;

	read_both(path, &all, &some, want, n, prefixes, np);
	if (!prefixes)
		assert_true(bt_ksyms_count(some) <= n);
	*known = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t off_a = 0, off_s = 0;
		const char *mod_a = NULL, *mod_s = NULL;
		const char *a = bt_ksyms_lookup(all, want[i], &off_a, &mod_a);
		const char *b = bt_ksyms_lookup(some, want[i], &off_s, &mod_s);

		if (!b || !*b) {
			if (!prefixes)
				assert_null(a);
			continue;
		}
		(*known)++;
		assert_non_null(a);
		assert_string_equal(a, b);
		assert_int_equal(off_a, off_s);
		if (mod_a)
			assert_string_equal(mod_a, mod_s);
		else
			assert_null(mod_s);
	}
	bt_ksyms_free(all);
	bt_ksyms_free(some);
}

static void expect_same_answers(const char *path, const uint64_t *want, size_t n)
{
	size_t known;

	expect_answers(path, want, n, NULL, 0, &known);
}

/* Every address around every fixture symbol, aliases and modules out of order included. */
static void test_kallsyms_read_for_fixture(void **state)
{
	static const uint64_t bases[] = {
		0xffffffff80000000ull, 0xffffffff81000000ull, 0xffffffff81000100ull,
		0xffffffff81000200ull, 0xffffffff81000300ull, 0xffffffff81000400ull,
		0xffffffff81000500ull, 0xffffffffc0001000ull, 0xffffffffc0002000ull,
		0xffffffffc0003000ull,
	};
	uint64_t want[64];
	size_t n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		want[n++] = bases[i] - 1;
		want[n++] = bases[i];
		want[n++] = bases[i] + 0x10;
	}
	want[n++] = 0xffffffffc0003000ull + (2u << 20);
	qsort(want, n, sizeof(*want), bt_cmp_u64);
	expect_same_answers(SRC_FIX "/sym_kallsyms.txt", want, n);
	/* One address alone, and each one of a pair, as a stack's lookups come. */
	for (size_t i = 0; i + 1 < n; i++) {
		expect_same_answers(SRC_FIX "/sym_kallsyms.txt", &want[i], 1);
		expect_same_answers(SRC_FIX "/sym_kallsyms.txt", &want[i], 2);
	}
}

/* The real table: 4,000 addresses spread over the kernel's text, and each symbol's own. */
static void test_kallsyms_read_for_proc(void **state)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	uint64_t lo = UINT64_MAX, hi = 0, x = 0x9e3779b97f4a7c15ull, *want;
	struct bt_ksyms *k;
	char line[512];
	size_t n = 0;

	(void)state;
	if (!f)
		skip();
	k = bt_ksyms_read(f);
	assert_non_null(k);
	if (bt_ksyms_restricted(k)) {
		bt_ksyms_free(k);
		fclose(f);
		skip();
	}
	bt_ksyms_free(k);
	rewind(f);
	want = calloc(8000, sizeof(*want));
	assert_non_null(want);
	while (fgets(line, sizeof(line), f) && n < 4000) {
		unsigned long long a;
		char type;

		if (sscanf(line, "%llx %c", &a, &type) != 2 || !a)
			continue;
		if (a < lo)
			lo = a;
		if (a > hi)
			hi = a;
		if (n % 2 == 0 || type == 'T')
			want[n++] = a;
	}
	fclose(f);
	for (size_t i = 0; i < 4000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		want[n++] = lo + x % (hi - lo + (2u << 20));
	}
	qsort(want, n, sizeof(*want), bt_cmp_u64);
	{
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (!m || want[m - 1] != want[i])
				want[m++] = want[i];
		n = m;
	}
	expect_same_answers("/proc/kallsyms", want, n);
	free(want);
}

/*
 * Addresses looked up one at a time: each a read of the file, until the
 * whole table is read instead; every answer stays right, and a frame
 * handed out earlier still names its function.
 */
static void test_kallsyms_reads_then_whole(void **state)
{
	static const struct { uint64_t addr; const char *text; } cases[] = {
		{ 0xffffffff81000000ull, "_stext+0x0" },
		{ 0xffffffff81000150ull, "helper_local+0x50" },
		{ 0xffffffff81000310ull, "do_syscall_64+0x110" },
		{ 0xffffffff81000404ull, "weak_func+0x4" },
		{ 0xffffffff81000500ull, "__x64_sys_read+0x0" },
		{ 0xffffffffc0001010ull, "ext4_init+0x10" },
		{ 0xffffffffc0002008ull, "ext4_mod_func+0x8" },
		{ 0xffffffff80000000ull, "[unknown]" },
		{ 0xffffffff81000001ull, "_stext+0x1" },
		{ 0xffffffff81000101ull, "helper_local+0x1" },
		{ 0xffffffff81000201ull, "do_syscall_64+0x1" },
		{ 0xffffffffc0003004ull, "bpf_prog_6deef7357e7b4530_handler+0x4" },
	};
	struct bt_sym *s = bt_sym_new();
	struct bt_frame first;
	uint64_t batch[3] = { 0xffffffff81000210ull, 0, 0xffffffff81000210ull };

	(void)state;
	assert_int_equal(bt_sym_load_kallsyms(s, SRC_FIX "/sym_kallsyms.txt"), 0);
	assert_int_equal(bt_sym_kernel(s, 0xffffffff81000200ull, &first), 0);
	_Static_assert(sizeof(cases) / sizeof(cases[0]) > BT_SYM_KSYMS_READS + 1, "past the reads");
	for (int round = 0; round < 2; round++)
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			expect_kernel(s, cases[i].addr, cases[i].text);
	/* A batch with zeros and repeats, after the whole table took over. */
	assert_int_equal(bt_sym_kernel_prefetch(s, batch, 3), 0);
	expect_kernel(s, 0xffffffff81000210ull, "do_syscall_64+0x10");
	assert_string_equal(first.name, "do_syscall_64");
	assert_string_equal(first.module, "[kernel]");
	bt_sym_free(s);
}

/* A batch answers each of its addresses, and a later batch what it adds. */
static void test_kallsyms_prefetch_batches(void **state)
{
	uint64_t one[] = { 0xffffffffc0002008ull, 0, 0xffffffff81000150ull, 0xffffffffc0002008ull };
	uint64_t two[] = { 0xffffffff81000150ull, 0xffffffff81000404ull };
	struct bt_sym *s = bt_sym_new();

	(void)state;
	assert_int_equal(bt_sym_load_kallsyms(s, SRC_FIX "/sym_kallsyms.txt"), 0);
	assert_int_equal(bt_sym_kernel_prefetch(s, one, 4), 0);
	assert_int_equal(bt_sym_kernel_prefetch(s, two, 2), 0);
	expect_kernel(s, 0xffffffffc0002008ull, "ext4_mod_func+0x8");
	expect_kernel(s, 0xffffffff81000150ull, "helper_local+0x50");
	expect_kernel(s, 0xffffffff81000404ull, "weak_func+0x4");
	bt_sym_free(s);
}

/* By name: a function answers up to the next symbol; an alias that loses answers nothing. */
static void test_kallsyms_named_fixture(void **state)
{
	static const char *const helpers[] = { "helper_", "ext4_mod" };
	static const char *const loser[] = { "_text" };
	static const char *const winner[] = { "_st" };
	static const uint64_t want[] = {
		0xffffffff81000000ull, 0xffffffff810000ffull, 0xffffffff81000100ull,
		0xffffffff81000150ull, 0xffffffff810001ffull, 0xffffffff81000200ull,
		0xffffffffc0001010ull, 0xffffffffc0002000ull, 0xffffffffc0002fffull,
		0xffffffffc0003000ull,
	};
	const size_t n = sizeof(want) / sizeof(want[0]);
	size_t known;

	(void)state;
	/* helper_local: 0x100 .. 0x1ff; ext4_mod_func: up to the bpf program at 0xc0003000. */
	expect_answers(SRC_FIX "/sym_kallsyms.txt", want, n, helpers, 2, &known);
	assert_int_equal(known, 5);
	/* _stext and _text share an address; the whole table names it _stext (read first). */
	expect_answers(SRC_FIX "/sym_kallsyms.txt", want, n, loser, 1, &known);
	assert_int_equal(known, 0);
	expect_answers(SRC_FIX "/sym_kallsyms.txt", want, n, winner, 1, &known);
	assert_int_equal(known, 2);
}

/* The real table by the syscall path's names: every answer the whole table's. */
static void test_kallsyms_named_proc(void **state)
{
	static const char *const prefixes[] = { "entry_SYSCALL_64", "do_syscall_64",
						"syscall_exit_", "vfs_", "bpf_prog_" };
	uint64_t x = 0x9e3779b97f4a7c15ull, *want = calloc(20000, sizeof(*want));
	FILE *f = fopen("/proc/kallsyms", "r");
	size_t n = 0, known;
	char line[512];

	(void)state;
	assert_non_null(want);
	if (!f) {
		free(want);
		skip();
	}
	while (fgets(line, sizeof(line), f) && n < 20000) {
		unsigned long long a;
		char type, name[256];

		if (sscanf(line, "%llx %c %255s", &a, &type, name) != 3 || !a)
			continue;
		/* Each named function's start, a few places inside, and its neighbours'. */
		if (!strncmp(name, "vfs_", 4) || !strncmp(name, "do_syscall_64", 13) ||
		    !strncmp(name, "entry_SYSCALL_64", 16) || !strncmp(name, "syscall_exit_", 13) ||
		    (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x % 64 == 0)) {
			want[n++] = a;
			want[n++] = a + 1 + x % 64;
			want[n++] = a - 1;
		}
	}
	fclose(f);
	if (!n) {
		free(want);
		skip();		/* addresses hidden (kptr_restrict) */
	}
	expect_answers("/proc/kallsyms", want, n, prefixes, 5, &known);
	assert_true(known > 0);
	free(want);
}

/* The symbolizer: a frame inside a preloaded function needs no read; another one does. */
static void test_kallsyms_preload(void **state)
{
	static const char *const prefixes[] = { "do_syscall" };
	struct bt_sym *s = bt_sym_new();
	unsigned int reads;
	size_t addrs;
	bool named, whole;

	(void)state;
	assert_int_equal(bt_sym_load_kallsyms(s, SRC_FIX "/sym_kallsyms.txt"), 0);
	assert_int_equal(bt_sym_kernel_preload(s, prefixes, 1), 0);
	expect_kernel(s, 0xffffffff81000210ull, "do_syscall_64+0x10");
	expect_kernel(s, 0xffffffff810002ffull, "do_syscall_64+0xff");
	bt_sym_kernel_stats(s, &named, &reads, &addrs, &whole);
	assert_true(named);
	assert_int_equal(reads, 0);
	/* Past its end (a data symbol between is no end: the next text symbol is). */
	expect_kernel(s, 0xffffffff81000404ull, "weak_func+0x4");
	expect_kernel(s, 0xffffffff81000150ull, "helper_local+0x50");
	bt_sym_kernel_stats(s, &named, &reads, &addrs, &whole);
	assert_int_equal(reads, 2);
	assert_int_equal(addrs, 2);
	bt_sym_free(s);
}

/* The real table: whatever kptr_restrict says, lookups must be sane. */
static void test_kallsyms_proc(void **state)
{
	struct bt_sym *s = bt_sym_new();
	unsigned long long addr = 0;
	char line[512], name[256];
	struct bt_frame f;
	FILE *k;
	int rc;

	(void)state;
	rc = bt_sym_kernel(s, 0xffffffff81000000ull, &f);
	assert_true(rc == 0 || rc == -ENOENT);
	k = fopen("/proc/kallsyms", "r");
	while (k && !addr && fgets(line, sizeof(line), k)) {
		char type;

		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 || type != 'T')
			addr = 0;
	}
	if (k)
		fclose(k);
	if (addr && !bt_sym_kernel_restricted(s)) {
		assert_int_equal(bt_sym_kernel(s, addr, &f), 0);
		assert_int_equal(f.offset, 0);
	}
	bt_sym_free(s);
}

/* ---- ELF files directly ---------------------------------------------- */

static struct bt_elf *open_elf(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct bt_elf *e;

	assert_true(fd >= 0);
	e = bt_elf_open_fd(fd);
	close(fd);
	return e;
}

static void expect_elf(const struct bt_elf *e, uint64_t va, const char *name, uint64_t off)
{
	uint64_t got = ~0ull;
	const char *n = bt_elf_lookup(e, va, &got);

	if (!name) {
		assert_null(n);
		return;
	}
	assert_non_null(n);
	assert_string_equal(n, name);
	assert_int_equal(got, off);
}

static void test_elf_shared_lib(void **state)
{
	const char *lib = FIX "/libbtsym.so";
	uint64_t st = nm_value(lib, "bt_fx_lib_static");
	uint64_t ex = nm_value(lib, "bt_fx_lib_exported");
	struct bt_elf *e = open_elf(lib);
	size_t nsym, ndyn;

	(void)state;
	assert_non_null(e);
	bt_elf_counts(e, &nsym, &ndyn);
	assert_true(nsym >= 4);
	assert_true(ndyn >= 3);
	expect_elf(e, st, "bt_fx_lib_static", 0);
	expect_elf(e, st + 5, "bt_fx_lib_static", 5);
	expect_elf(e, ex + 7, "bt_fx_lib_exported", 7);
	expect_elf(e, 0x10, NULL, 0);
	expect_elf(e, 0x100000, NULL, 0);
	bt_elf_free(e);

	e = open_elf(FIX "/libbtsym_stripped.so");
	assert_non_null(e);
	bt_elf_counts(e, &nsym, &ndyn);
	assert_int_equal(nsym, 0);
	assert_int_equal(ndyn, 3);
	expect_elf(e, ex + 7, "bt_fx_lib_exported", 7);
	/* Static functions are gone with .symtab. */
	expect_elf(e, st + 5, NULL, 0);
	bt_elf_free(e);
}

static void test_elf_segments(void **state)
{
	const char *exe = FIX "/sym_nopie";
	uint64_t st = nm_value(exe, "bt_fx_exe_static"), va;
	struct bt_elf *e = open_elf(exe);

	(void)state;
	assert_non_null(e);
	/* Non-PIE: the text segment's file offsets sit 0x400000 below its addresses. */
	assert_true(st > 0x400000);
	assert_int_equal(bt_elf_off_to_vaddr(e, st - 0x400000, &va), 0);
	assert_int_equal(va, st);
	expect_elf(e, va + 2, "bt_fx_exe_static", 2);
	assert_int_equal(bt_elf_off_to_vaddr(e, 1ull << 40, &va), -1);
	bt_elf_free(e);

	e = open_elf(SRC_FIX "/sym_prog.c");
	assert_null(e);
}

/* ---- live processes ------------------------------------------------- */

static void test_live_pie(void **state)
{
	struct bt_sym *s = bt_sym_new();
	struct child c;

	(void)state;
	spawn(FIX "/sym_pie", &c);
	assert_int_equal(bt_sym_add_process(s, (uint32_t)c.pid), 0);
	check_child(s, (uint32_t)c.pid, &c, "sym_pie");
	reap(&c);
	/* Gone now: the maps and files kept at registration still answer. */
	check_child(s, (uint32_t)c.pid, &c, "sym_pie");
	bt_sym_free(s);
}

static void test_live_nopie_exit_first(void **state)
{
	struct bt_sym *s = bt_sym_new();
	struct child c;

	(void)state;
	spawn(FIX "/sym_nopie", &c);
	assert_true(c.addr[0] < 0x1000000);
	assert_int_equal(bt_sym_add_process(s, (uint32_t)c.pid), 0);
	/* Nothing was parsed yet: the fds kept at registration are used. */
	reap(&c);
	check_child(s, (uint32_t)c.pid, &c, "sym_nopie");
	bt_sym_free(s);
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	char *buf = slurp(from, &len);
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	free(buf);
}

/* The file is gone from its path: /proc/PID/map_files still opens it. */
static void test_deleted_executable(void **state)
{
	char path[128], *base;
	struct bt_sym *s;
	struct child c;

	(void)state;
	if (geteuid())
		skip();	/* map_files needs CAP_SYS_ADMIN */
	/* A name of our own: the plain and sanitizer runs may overlap. */
	snprintf(path, sizeof(path), FIX "/sym_pie_del.%d", (int)getpid());
	base = strrchr(path, '/') + 1;
	copy_file(FIX "/sym_pie", path);
	spawn(path, &c);
	assert_int_equal(unlink(path), 0);
	s = bt_sym_new();
	assert_int_equal(bt_sym_add_process(s, (uint32_t)c.pid), 0);
	reap(&c);
	check_child(s, (uint32_t)c.pid, &c, base);
	bt_sym_free(s);
}

static char *read_maps_of(pid_t pid)
{
	char path[64];
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	return slurp(path, &len);
}

static void test_live_maps_text(void **state)
{
	struct bt_sym *s = bt_sym_new(), *fake = bt_sym_new();
	struct bt_frame f;
	struct child c;
	char *maps;
	size_t i;

	(void)state;
	spawn(FIX "/sym_pie", &c);
	maps = read_maps_of(c.pid);
	/* The real pid: the vDSO can be read from it. */
	assert_int_equal(bt_sym_add_process_maps(s, (uint32_t)c.pid, maps, ""), 0);
	/* A pid that never existed: files by path only, no vDSO. */
	assert_int_equal(bt_sym_add_process_maps(fake, FAKE_PID, maps, ""), 0);
	reap(&c);
	check_child(s, (uint32_t)c.pid, &c, "sym_pie");
	for (i = 0; i < c.n; i++) {
		if (strcmp(module_of(c.name[i], "sym_pie"), "[vdso]")) {
			expect_user(fake, FAKE_PID, c.addr[i] + 1, c.name[i], 1,
				    module_of(c.name[i], "sym_pie"));
			continue;
		}
		assert_int_equal(bt_sym_user(fake, FAKE_PID, c.addr[i], &f), -ENOENT);
		assert_string_equal(f.module, "[vdso]");
		assert_true(f.offset < 0x10000);
	}
	free(maps);
	bt_sym_free(s);
	bt_sym_free(fake);
}

/* The test process itself: its vDSO, and a library dlopen()ed after registration. */
static void test_self_vdso_and_dlopen(void **state)
{
	struct bt_sym *s = bt_sym_new();
	uint32_t self = (uint32_t)getpid();
	void *vdso, *lib, *fn, *clk = NULL;
	struct bt_frame f;

	(void)state;
	assert_int_equal(bt_sym_add_process(s, self), 0);
	vdso = dlopen("linux-vdso.so.1", RTLD_LAZY | RTLD_NOLOAD);
	if (vdso)
		clk = dlsym(vdso, "__vdso_clock_gettime");
	if (clk)
		expect_user(s, self, (uintptr_t)clk + 0x10, "__vdso_clock_gettime", 0x10, "[vdso]");
	lib = dlopen(FIX "/libbtsym.so", RTLD_NOW);
	assert_non_null(lib);
	fn = dlsym(lib, "bt_fx_lib_exported2");
	assert_non_null(fn);
	/* Not in the registered maps: the miss re-reads them. */
	expect_user(s, self, (uintptr_t)fn + 4, "bt_fx_lib_exported2", 4, "libbtsym.so");
	assert_int_equal(bt_sym_user(s, self, (uintptr_t)fn, &f), 0);
	assert_string_equal(fmt(&f, false), "bt_fx_lib_exported2");
	dlclose(lib);
	if (vdso)
		dlclose(vdso);
	bt_sym_free(s);
}

/* ---- maps text against fixture files -------------------------------- */

static void test_maps_text_shared_lib(void **state)
{
	const char *lib = FIX "/libbtsym.so";
	uint64_t st = nm_value(lib, "bt_fx_lib_static");
	uint64_t ex = nm_value(lib, "bt_fx_lib_exported");
	struct bt_sym *s = bt_sym_new();
	char maps[4096] = "";
	struct bt_frame f;

	(void)state;
	maps_for(maps, sizeof(maps), lib, "/libbtsym.so", LIB_BASE);
	assert_int_equal(bt_sym_add_process_maps(s, 7, maps, FIX), 0);
	expect_user(s, 7, LIB_BASE + st, "bt_fx_lib_static", 0, "libbtsym.so");
	expect_user(s, 7, LIB_BASE + st + 9, "bt_fx_lib_static", 9, "libbtsym.so");
	expect_user(s, 7, LIB_BASE + ex + 1, "bt_fx_lib_exported", 1, "libbtsym.so");
	/* Read-only data of the file: a mapping, no function. */
	expect_user(s, 7, LIB_BASE + 0x10, NULL, 0x10, "libbtsym.so");
	assert_int_equal(bt_sym_user(s, 7, LIB_BASE + 0x10, &f), -ENOENT);
	assert_string_equal(fmt(&f, true), "libbtsym.so+0x10");
	expect_user(s, 7, LIB_BASE - 1, NULL, 0, NULL);
	assert_int_equal(bt_sym_user(s, 8, LIB_BASE + st, &f), -ESRCH);
	assert_string_equal(fmt(&f, true), "[unknown]");
	bt_sym_free(s);
}

static void test_maps_text_stripped(void **state)
{
	const char *lib = FIX "/libbtsym.so";
	uint64_t st = nm_value(lib, "bt_fx_lib_static");
	uint64_t ex = nm_value(lib, "bt_fx_lib_exported");
	uint64_t ex2 = nm_value(lib, "bt_fx_lib_exported2");
	struct bt_sym *s = bt_sym_new();
	char maps[4096] = "", want[64];
	struct bt_frame f;

	(void)state;
	maps_for(maps, sizeof(maps), FIX "/libbtsym_stripped.so", "/libbtsym_stripped.so",
		 LIB_BASE);
	assert_int_equal(bt_sym_add_process_maps(s, 7, maps, FIX), 0);
	expect_user(s, 7, LIB_BASE + ex + 2, "bt_fx_lib_exported", 2, "libbtsym_stripped.so");
	expect_user(s, 7, LIB_BASE + ex2, "bt_fx_lib_exported2", 0, "libbtsym_stripped.so");
	/* Only in .symtab, which strip removed: module and file address. */
	expect_user(s, 7, LIB_BASE + st + 2, NULL, st + 2, "libbtsym_stripped.so");
	bt_sym_user(s, 7, LIB_BASE + st + 2, &f);
	snprintf(want, sizeof(want), "libbtsym_stripped.so+0x%" PRIx64, st + 2);
	assert_string_equal(fmt(&f, false), want);
	bt_sym_free(s);
}

static void test_maps_text_nopie(void **state)
{
	const char *exe = FIX "/sym_nopie";
	uint64_t st = nm_value(exe, "bt_fx_exe_static");
	uint64_t gl = nm_value(exe, "bt_fx_exe_global");
	struct bt_sym *s = bt_sym_new();
	char maps[4096] = "";

	(void)state;
	maps_for(maps, sizeof(maps), exe, "/sym_nopie", 0);
	assert_int_equal(bt_sym_add_process_maps(s, 9, maps, FIX), 0);
	expect_user(s, 9, st, "bt_fx_exe_static", 0, "sym_nopie");
	expect_user(s, 9, gl + 6, "bt_fx_exe_global", 6, "sym_nopie");
	expect_user(s, 9, nm_value(exe, "main") + 1, "main", 1, "sym_nopie");
	bt_sym_free(s);
}

/*
 * A container's root: an absolute symlink inside it means a path inside
 * it, never the host's file of that name; a FIFO under a mapped name is
 * not opened (nor waited on).
 */
static void test_root_symlinks_stay_inside(void **state)
{
	const char *lib = FIX "/libbtsym.so";
	uint64_t ex = nm_value(lib, "bt_fx_lib_exported");
	char root[] = "/tmp/bt-symroot-XXXXXX", path[PATH_MAX], host[PATH_MAX];
	char maps[8192] = "", cmd[PATH_MAX * 2 + 32];
	uint64_t b1 = LIB_BASE, b2 = LIB_BASE + 0x100000, b3 = LIB_BASE + 0x200000;
	struct bt_sym *s = bt_sym_new();
	struct bt_frame f;

	(void)state;
	assert_non_null(realpath(lib, host));
	assert_non_null(mkdtemp(root));
	/* Inside: /lib/libbtsym.so, and /ok.so -> /lib/libbtsym.so (absolute, in the container). */
	snprintf(path, sizeof(path), "%s/lib", root);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(cmd, sizeof(cmd), "cp %s %s/lib/libbtsym.so", host, root);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/ok.so", root);
	assert_int_equal(symlink("/lib/libbtsym.so", path), 0);
	/* /escape.so -> the host's copy by its absolute host path: outside the root. */
	snprintf(path, sizeof(path), "%s/escape.so", root);
	assert_int_equal(symlink(host, path), 0);
	snprintf(path, sizeof(path), "%s/fifo.so", root);
	assert_int_equal(mkfifo(path, 0600), 0);
	maps_for(maps, sizeof(maps), lib, "/ok.so", b1);
	maps_for(maps, sizeof(maps), lib, "/escape.so", b2);
	maps_for(maps, sizeof(maps), lib, "/fifo.so", b3);
	alarm(10);
	assert_int_equal(bt_sym_add_process_maps(s, FAKE_PID, maps, root), 0);
	alarm(0);
	expect_user(s, FAKE_PID, b1 + ex + 1, "bt_fx_lib_exported", 1, "ok.so");
	/* The host file is not read: the module is known, the function is not. */
	assert_int_equal(bt_sym_user(s, FAKE_PID, b2 + ex + 1, &f), -ENOENT);
	assert_string_equal(f.module, "escape.so");
	assert_int_equal(bt_sym_user(s, FAKE_PID, b3 + ex + 1, &f), -ENOENT);
	assert_string_equal(f.module, "fifo.so");
	bt_sym_free(s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void test_corrupt_files(void **state)
{
	const char *lib = FIX "/libbtsym.so";
	uint64_t ex = nm_value(lib, "bt_fx_lib_exported");
	uint64_t b1 = LIB_BASE, b2 = LIB_BASE + 0x100000, b3 = LIB_BASE + 0x200000;
	struct bt_sym *s = bt_sym_new();
	char maps[8192] = "", want[64];
	struct bt_frame f;

	(void)state;
	/* Same segments as the intact library, so file offsets equal addresses. */
	maps_for(maps, sizeof(maps), lib, "/sym_truncated.so", b1);
	maps_for(maps, sizeof(maps), lib, "/sym_garbage.so", b2);
	maps_for(maps, sizeof(maps), lib, "/no_such_file.so", b3);
	strcat(maps, "7f3000400000-7f3000401000 r-xp 00000000 00:00 0 \n");
	assert_int_equal(bt_sym_add_process_maps(s, 5, maps, FIX), 0);
	expect_user(s, 5, b1 + ex, NULL, ex, "sym_truncated.so");
	expect_user(s, 5, b2 + ex, NULL, ex, "sym_garbage.so");
	expect_user(s, 5, b3 + ex, NULL, ex, "no_such_file.so");
	bt_sym_user(s, 5, b2 + ex, &f);
	snprintf(want, sizeof(want), "sym_garbage.so+0x%" PRIx64, ex);
	assert_string_equal(fmt(&f, true), want);
	/* Anonymous executable memory (a JIT): no module to name. */
	expect_user(s, 5, 0x7f3000400010ull, NULL, 0x10, NULL);
	bt_sym_user(s, 5, 0x7f3000400010ull, &f);
	assert_string_equal(fmt(&f, true), "[unknown]");
	bt_sym_free(s);
}

/* ---- caching ---------------------------------------------------------- */

static void test_cache_by_inode(void **state)
{
	const char *lib = FIX "/libbtsym.so";
	uint64_t ex = nm_value(lib, "bt_fx_lib_exported");
	struct bt_sym *s = bt_sym_new();
	char m1[4096] = "", m2[4096] = "";
	struct bt_frame f1, f2;

	(void)state;
	maps_for(m1, sizeof(m1), lib, "/libbtsym.so", LIB_BASE);
	maps_for(m2, sizeof(m2), lib, "/fixtures/libbtsym.so", LIB_BASE + 0x10000);
	assert_int_equal(bt_sym_add_process_maps(s, 1, m1, FIX), 0);
	assert_int_equal(bt_sym_add_process_maps(s, 2, m2, "../../build"), 0);
	assert_int_equal(bt_sym_user(s, 1, LIB_BASE + ex, &f1), 0);
	assert_int_equal(bt_sym_user(s, 2, LIB_BASE + 0x10000 + ex, &f2), 0);
	/* Two paths, one file: one parsed copy. */
	assert_ptr_equal(f1.name, f2.name);
	assert_ptr_equal(f1.module, f2.module);
	bt_sym_free(s);
}

static void test_reregister(void **state)
{
	const char *lib = FIX "/libbtsym.so";
	uint64_t ex = nm_value(lib, "bt_fx_lib_exported");
	struct bt_sym *s = bt_sym_new();
	char m1[4096] = "", m2[4096] = "";
	struct bt_frame before, after;

	(void)state;
	maps_for(m1, sizeof(m1), lib, "/libbtsym.so", LIB_BASE);
	maps_for(m2, sizeof(m2), FIX "/libbtsym_stripped.so", "/libbtsym_stripped.so",
		 LIB_BASE + 0x40000);
	assert_int_equal(bt_sym_add_process_maps(s, 3, m1, FIX), 0);
	assert_int_equal(bt_sym_user(s, 3, LIB_BASE + ex, &before), 0);
	/* exec: the new layout replaces the old one. */
	assert_int_equal(bt_sym_add_process_maps(s, 3, m2, FIX), 0);
	expect_user(s, 3, LIB_BASE + ex, NULL, 0, NULL);
	assert_int_equal(bt_sym_user(s, 3, LIB_BASE + 0x40000 + ex, &after), 0);
	assert_string_equal(after.module, "libbtsym_stripped.so");
	/* Frames from before stay valid. */
	assert_string_equal(before.name, "bt_fx_lib_exported");
	assert_string_equal(before.module, "libbtsym.so");
	bt_sym_free(s);
}

static void test_missing_process(void **state)
{
	struct bt_sym *s = bt_sym_new();
	struct bt_frame f;

	(void)state;
	assert_int_equal(bt_sym_add_process(s, FAKE_PID), -ENOENT);
	assert_int_equal(bt_sym_user(s, FAKE_PID, 0x1000, &f), -ESRCH);
	assert_false(f.resolved);
	assert_null(f.module);
	/* Empty maps (a kernel thread): registered, nothing resolves. */
	assert_int_equal(bt_sym_add_process_maps(s, 4, "", NULL), 0);
	expect_user(s, 4, 0x1000, NULL, 0, NULL);
	bt_sym_free(s);
}

/* ---- corrupt images ---------------------------------------------------- */

static uint32_t rnd(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

static void poke(struct bt_elf *e)
{
	static const uint64_t vas[] = { 0, 0x10f9, 0x1128, 0x3000, ~0ull };
	uint64_t off, va;
	size_t i, a, b;

	if (!e)
		return;
	bt_elf_counts(e, &a, &b);
	for (i = 0; i < sizeof(vas) / sizeof(vas[0]); i++) {
		bt_elf_lookup(e, vas[i], &off);
		bt_elf_off_to_vaddr(e, vas[i], &va);
	}
	bt_elf_free(e);
}

/* Damage lands where it hurts: headers, section headers, anywhere. */
static void damage(unsigned char *buf, size_t len, uint32_t *seed)
{
	size_t n = 1 + rnd(seed) % 8, i, pos;
	uint64_t shoff;

	/* e_shoff of an ELF64 header. */
	memcpy(&shoff, buf + 0x28, sizeof(shoff));
	for (i = 0; i < n; i++) {
		switch (rnd(seed) % 3) {
		case 0:
			pos = rnd(seed) % 0x240;
			break;
		case 1:
			pos = shoff < len ? shoff + rnd(seed) % (len - shoff) : 0;
			break;
		default:
			pos = rnd(seed) % len;
		}
		if (rnd(seed) % 4 == 0 && pos + 8 <= len)
			memset(buf + pos, 0xff, 8);
		else
			buf[pos] = (unsigned char)rnd(seed);
	}
}

static void test_elf_fuzz_mem(void **state)
{
	size_t len, cut, i;
	unsigned char *orig = (unsigned char *)slurp(FIX "/libbtsym.so", &len);
	unsigned char *buf = malloc(len);
	uint32_t seed = 20240601;

	(void)state;
	assert_non_null(buf);
	for (cut = 0; cut < len; cut += 37)
		poke(bt_elf_open_mem(orig, cut));
	for (i = 0; i < 3000; i++) {
		memcpy(buf, orig, len);
		damage(buf, len, &seed);
		poke(bt_elf_open_mem(buf, len));
	}
	assert_null(bt_elf_open_mem(NULL, 10));
	assert_null(bt_elf_open_mem("\177ELF", 4));
	free(buf);
	free(orig);
}

static void test_elf_fuzz_fd(void **state)
{
	size_t len, i;
	unsigned char *orig = (unsigned char *)slurp(FIX "/libbtsym.so", &len);
	unsigned char *buf = malloc(len);
	uint32_t seed = 7;

	(void)state;
	assert_non_null(buf);
	for (i = 0; i < 300; i++) {
		int fd = memfd_create("bt_fuzz", MFD_CLOEXEC);
		size_t cut = i % 3 ? len : rnd(&seed) % len;

		assert_true(fd >= 0);
		memcpy(buf, orig, len);
		damage(buf, len, &seed);
		assert_int_equal(write(fd, buf, cut), (ssize_t)cut);
		poke(bt_elf_open_fd(fd));
		close(fd);
	}
	poke(open_elf(FIX "/sym_truncated.so"));
	poke(open_elf(FIX "/sym_garbage.so"));
	assert_null(bt_elf_open_fd(-1));
	free(buf);
	free(orig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_maps_parse_text),
		cmocka_unit_test(test_maps_read_file),
		cmocka_unit_test(test_maps_find),
		cmocka_unit_test(test_maps_line),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_kallsyms_fixture),
		cmocka_unit_test(test_kallsyms_count),
		cmocka_unit_test(test_kallsyms_restricted),
		cmocka_unit_test(test_kallsyms_missing),
		cmocka_unit_test(test_kallsyms_proc),
		cmocka_unit_test(test_kallsyms_read_for_fixture),
		cmocka_unit_test(test_kallsyms_read_for_proc),
		cmocka_unit_test(test_kallsyms_reads_then_whole),
		cmocka_unit_test(test_kallsyms_prefetch_batches),
		cmocka_unit_test(test_kallsyms_named_fixture),
		cmocka_unit_test(test_kallsyms_named_proc),
		cmocka_unit_test(test_kallsyms_preload),
		cmocka_unit_test(test_elf_shared_lib),
		cmocka_unit_test(test_elf_segments),
		cmocka_unit_test(test_live_pie),
		cmocka_unit_test(test_live_nopie_exit_first),
		cmocka_unit_test(test_live_maps_text),
		cmocka_unit_test(test_deleted_executable),
		cmocka_unit_test(test_self_vdso_and_dlopen),
		cmocka_unit_test(test_maps_text_shared_lib),
		cmocka_unit_test(test_maps_text_stripped),
		cmocka_unit_test(test_maps_text_nopie),
		cmocka_unit_test(test_root_symlinks_stay_inside),
		cmocka_unit_test(test_corrupt_files),
		cmocka_unit_test(test_cache_by_inode),
		cmocka_unit_test(test_reregister),
		cmocka_unit_test(test_missing_process),
		cmocka_unit_test(test_elf_fuzz_mem),
		cmocka_unit_test(test_elf_fuzz_fd),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
