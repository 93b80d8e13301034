// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "symbols/elfsym.h"
#include "lib/vec.h"

/* A crafted header may claim millions of sections or segments. */
#define MAX_SECTIONS 65536
#define MAX_PHDRS 65536
/* How many earlier symbols may enclose an address (nested or aliased code). */
#define ENCLOSING_LOOKBACK 4
#define PAGE_MASK_4K (~(uint64_t)0xfff)

struct load {
	uint64_t offset, vaddr, filesz;
};

struct sym {
	uint64_t addr;
	uint32_t size;		/* clamped; no function is 4 GiB */
	uint32_t name;		/* offset in bt_elf.pool */
	uint8_t prio;		/* which of several symbols at one address wins, */
	uint8_t unders;		/* then fewer leading '_' (printf over _IO_printf) */
};

struct table {
	struct sym *v;
	size_t n, cap;
};

struct bt_elf {
	struct load loads[BT_ELF_MAX_LOADS];
	size_t nloads;
	struct table symtab, dynsym;
	char *pool;
	size_t pool_len, pool_cap;
	bool arm;		/* bit 0 of a function address marks Thumb code */
};

static void collect_loads(struct bt_elf *e, Elf *elf)
{
	size_t n, i;

	if (elf_getphdrnum(elf, &n))
		return;
	for (i = 0; i < n && i < MAX_PHDRS && e->nloads < BT_ELF_MAX_LOADS; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (ph.p_offset + ph.p_filesz < ph.p_offset)
			continue;
		e->loads[e->nloads].offset = ph.p_offset;
		e->loads[e->nloads].vaddr = ph.p_vaddr;
		e->loads[e->nloads].filesz = ph.p_filesz;
		e->nloads++;
	}
}

/* Section contents must lie inside the image, whatever the header says. */
static bool section_ok(const GElf_Shdr *sh, uint64_t size)
{
	return sh->sh_type != SHT_NOBITS && sh->sh_size <= BT_ELF_MAX_SECTION &&
	       sh->sh_offset <= size && sh->sh_size <= size - sh->sh_offset;
}

static uint8_t sym_prio(const GElf_Sym *s)
{
	int bind = GELF_ST_BIND(s->st_info);
	uint8_t rank = bind == STB_GLOBAL ? 2 : bind == STB_WEAK ? 1 : 0;

	/* A sized global symbol describes the code best; local aliases lose. */
	return (uint8_t)((s->st_size ? 4 : 0) + rank);
}

static bool is_func(const GElf_Sym *s)
{
	int type = GELF_ST_TYPE(s->st_info);

	return (type == STT_FUNC || type == STT_GNU_IFUNC) && s->st_shndx != SHN_UNDEF &&
	       s->st_value != 0;
}

static int add_sym(struct bt_elf *e, struct table *t, const GElf_Sym *s, const char *name)
{
	size_t len = strnlen(name, BT_ELF_MAX_NAME - 1);
	struct sym *d;

	if (t->n >= BT_ELF_MAX_SYMS || e->pool_len + len + 1 > BT_ELF_MAX_POOL)
		return -E2BIG;
	if (!bt_grow((void **)&e->pool, &e->pool_cap, e->pool_len + len + 1, 1) ||
	    !bt_grow((void **)&t->v, &t->cap, t->n + 1, sizeof(*t->v)))
		return -ENOMEM;
	d = &t->v[t->n++];
	d->addr = e->arm ? s->st_value & ~(GElf_Addr)1 : s->st_value;
	d->size = s->st_size > UINT32_MAX ? UINT32_MAX : (uint32_t)s->st_size;
	d->name = (uint32_t)e->pool_len;
	d->prio = sym_prio(s);
	d->unders = (uint8_t)strspn(name, "_");
	memcpy(e->pool + e->pool_len, name, len);
	e->pool[e->pool_len + len] = 0;
	e->pool_len += len + 1;
	return 0;
}

static void load_table(struct bt_elf *e, Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
		       size_t shnum, uint64_t size, struct table *t)
{
	size_t entsz = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
	GElf_Shdr strsh;
	Elf_Scn *strscn;
	Elf_Data *data;
	size_t i;

	if (!entsz || sh->sh_entsize != entsz || !section_ok(sh, size))
		return;
	if (!sh->sh_link || sh->sh_link >= shnum)
		return;
	strscn = elf_getscn(elf, sh->sh_link);
	if (!strscn || !gelf_getshdr(strscn, &strsh) || strsh.sh_type != SHT_STRTAB ||
	    !section_ok(&strsh, size))
		return;
	data = elf_getdata(scn, NULL);
	if (!data || !data->d_buf)
		return;
	/* gelf_getsym() checks the index against the data it was given. */
	for (i = 1; i < sh->sh_size / entsz; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(data, (int)i, &s))
			break;
		if (!is_func(&s))
			continue;
		/* elf_strptr() checks the offset and the terminating NUL. */
		name = elf_strptr(elf, sh->sh_link, s.st_name);
		if (!name || !*name)
			continue;
		if (add_sym(e, t, &s, name))
			break;
	}
}

static void collect_syms(struct bt_elf *e, Elf *elf, uint64_t size)
{
	Elf_Scn *scn = NULL;
	size_t shnum, i = 0;

	if (elf_getshdrnum(elf, &shnum))
		return;
	while ((scn = elf_nextscn(elf, scn)) && i++ < MAX_SECTIONS) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			load_table(e, elf, scn, &sh, shnum, size, &e->symtab);
		else if (sh.sh_type == SHT_DYNSYM)
			load_table(e, elf, scn, &sh, shnum, size, &e->dynsym);
	}
}

static int cmp_sym(const void *a, const void *b)
{
	const struct sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	if (x->unders != y->unders)
		return x->unders < y->unders ? -1 : 1;
	/* Table order breaks the last ties, so results do not depend on qsort. */
	return x->name < y->name ? -1 : x->name > y->name;
}

/* Sort, keep one symbol per address, give back the spare memory. */
static void finish_table(struct table *t)
{
	struct sym *v;

	if (!t->n)
		return;
	t->n = bt_sort_unique_u64(t->v, t->n, sizeof(*t->v), offsetof(struct sym, addr), cmp_sym);
	v = realloc(t->v, t->n * sizeof(*v));
	if (v) {
		t->v = v;
		t->cap = t->n;
	}
}

static struct bt_elf *parse(Elf *elf, uint64_t size)
{
	struct bt_elf *e;
	GElf_Ehdr eh;
	char *pool;

	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return NULL;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->arm = eh.e_machine == EM_ARM;
	collect_loads(e, elf);
	if (!e->nloads) {
		/* Without segments no address can be placed in the file. */
		bt_elf_free(e);
		return NULL;
	}
	collect_syms(e, elf, size);
	finish_table(&e->symtab);
	finish_table(&e->dynsym);
	pool = e->pool_len ? realloc(e->pool, e->pool_len) : NULL;
	if (pool) {
		e->pool = pool;
		e->pool_cap = e->pool_len;
	}
	return e;
}

struct bt_elf *bt_elf_open_fd(int fd)
{
	struct bt_elf *e;
	struct stat st;
	Elf *elf;

	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode))
		return NULL;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	/* ELF_C_READ reads with pread(): a file truncated meanwhile cannot SIGBUS us. */
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return NULL;
	e = parse(elf, (uint64_t)st.st_size);
	elf_end(elf);
	return e;
}

struct bt_elf *bt_elf_open_mem(const void *buf, size_t len)
{
	struct bt_elf *e = NULL;
	char *copy;
	Elf *elf;

	if (!buf || !len || elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	/* libelf may convert data in place, and buf may be read-only. */
	copy = malloc(len);
	if (!copy)
		return NULL;
	memcpy(copy, buf, len);
	elf = elf_memory(copy, len);
	if (elf) {
		e = parse(elf, len);
		elf_end(elf);
	}
	free(copy);
	return e;
}

void bt_elf_free(struct bt_elf *e)
{
	if (!e)
		return;
	free(e->symtab.v);
	free(e->dynsym.v);
	free(e->pool);
	free(e);
}

int bt_elf_off_to_vaddr(const struct bt_elf *e, uint64_t off, uint64_t *vaddr)
{
	size_t i;

	for (i = 0; i < e->nloads; i++) {
		const struct load *l = &e->loads[i];

		if (off >= l->offset && off - l->offset < l->filesz) {
			*vaddr = off - l->offset + l->vaddr;
			return 0;
		}
	}
	/* A mapping starts at the page boundary below p_offset. */
	for (i = 0; i < e->nloads; i++) {
		const struct load *l = &e->loads[i];

		if (off >= (l->offset & PAGE_MASK_4K) && off < l->offset + l->filesz) {
			*vaddr = l->vaddr - (l->offset - off);
			return 0;
		}
	}
	return -1;
}

static const struct sym *table_find(const struct table *t, uint64_t va)
{
	size_t lo = bt_upper_bound_u64(t->v, t->n, sizeof(*t->v), offsetof(struct sym, addr), va);
	size_t k;

	/* lo symbols start at or below va; the nearest usually holds it. */
	for (k = 0; k < ENCLOSING_LOOKBACK && k < lo; k++) {
		const struct sym *s = &t->v[lo - 1 - k];
		uint64_t d = va - s->addr;

		if (s->size ? d < s->size : (k == 0 && d < BT_ELF_ZERO_SIZE_SPAN))
			return s;
	}
	return NULL;
}

const char *bt_elf_lookup(const struct bt_elf *e, uint64_t vaddr, uint64_t *offset)
{
	const struct sym *s = table_find(&e->symtab, vaddr);

	if (!s)
		s = table_find(&e->dynsym, vaddr);
	if (!s)
		return NULL;
	*offset = vaddr - s->addr;
	return e->pool + s->name;
}

void bt_elf_counts(const struct bt_elf *e, size_t *symtab, size_t *dynsym)
{
	*symtab = e->symtab.n;
	*dynsym = e->dynsym.n;
}
