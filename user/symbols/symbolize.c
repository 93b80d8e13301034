// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <unistd.h>
#include "symbols/elfsym.h"
#include "symbols/kallsyms.h"
#include "discover/proc.h"
#include "symbols/procmaps.h"
#include "symbols/symbolize.h"
#include "lib/safeopen.h"
#include "lib/vec.h"

/* 64- and 32-bit processes have different vDSOs; a few more are odd. */
#define MAX_VDSO 8
#define KERNEL_MODULE "[kernel]"
/* A path swapped for a FIFO since it was mapped must not block us. */
#define OPEN_FLAGS (O_RDONLY | O_CLOEXEC | O_NONBLOCK)

/* One executable file, shared by every mapping of the same (dev, ino). */
struct file {
	uint64_t dev, ino;
	int fd;			/* open from registration until parsed */
	bool parsed;
	struct bt_elf *elf;	/* NULL once parsed if it is no usable ELF */
};

struct vdso {
	void *img;		/* kept to recognize the same image in other processes */
	size_t len;
	struct file file;
};

struct umap {
	uint64_t start, end, pgoff;
	const char *module;	/* interned basename; NULL when anonymous */
	struct file *file;	/* NULL when there is nothing to symbolize with */
};

struct proc {
	uint32_t pid;
	bool live;		/* maps came from /proc, so they may be re-read */
	unsigned int refreshes;
	uint64_t start_ns;	/* tells a reused pid from the registered process */
	const char *root;	/* interned; NULL means /proc/PID/root */
	struct umap *maps;	/* sorted by start */
	size_t n;
};

/* A sorted array of pointers; a type of its own keeps the casts in one place. */
struct ptrvec {
	void **v;
	size_t n, cap;
};

struct bt_sym {
	struct ptrvec procs;	/* struct proc *, sorted by pid */
	struct ptrvec files;	/* struct file *, sorted by (dev, ino) */
	size_t open_fds;
	struct vdso *vdsos[MAX_VDSO];
	size_t nvdso;
	struct ptrvec strs;	/* interned char *, sorted */
	/*
	 * Kernel symbols: the tables read so far, each with the symbols that
	 * answer the addresses it was read for (kaddr names which), and the
	 * whole table once the reads reached BT_SYM_KSYMS_READS. Frames
	 * point into them: every one stays until bt_sym_free().
	 */
	struct bt_ksyms **ktabs;
	size_t nktabs, capktabs;
	struct kaddr *kaddr;	/* by address */
	size_t nkaddr, capkaddr;
	struct bt_ksyms *kall;
	struct bt_ksyms *knamed;	/* bt_sym_kernel_preload's, NULL */
	char *kpath;		/* NULL: /proc/kallsyms */
	unsigned int kreads;
	bool kfailed;		/* the file could not be read: not tried again */
	bool krestricted;
};

/* A kernel address looked up, and the table (in ktabs) that answers it. */
struct kaddr {
	uint64_t addr;
	uint32_t tab;
};

/* ---- small containers ---------------------------------------------- */

static int insert_at(struct ptrvec *a, size_t pos, void *item)
{
	if (!bt_grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v)))
		return -ENOMEM;
	memmove(a->v + pos + 1, a->v + pos, (a->n - pos) * sizeof(*a->v));
	a->v[pos] = item;
	a->n++;
	return 0;
}

static struct proc *proc_at(const struct bt_sym *s, size_t i)
{
	return s->procs.v[i];
}

static struct file *file_at(const struct bt_sym *s, size_t i)
{
	return s->files.v[i];
}

/* Module names and roots repeat across processes: keep each once. */
static const char *intern(struct bt_sym *s, const char *str)
{
	size_t lo = 0, hi = s->strs.n;
	char *copy;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *cur = s->strs.v[mid];
		int c = strcmp(cur, str);

		if (!c)
			return cur;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	copy = strdup(str);
	if (!copy || insert_at(&s->strs, lo, copy)) {
		free(copy);
		return NULL;
	}
	return copy;
}

static size_t proc_pos(const struct bt_sym *s, uint32_t pid)
{
	size_t lo = 0, hi = s->procs.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (proc_at(s, mid)->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct proc *find_proc(const struct bt_sym *s, uint32_t pid)
{
	size_t pos = proc_pos(s, pid);

	return pos < s->procs.n && proc_at(s, pos)->pid == pid ? proc_at(s, pos) : NULL;
}

static bool file_less(const struct file *f, uint64_t dev, uint64_t ino)
{
	return f->dev < dev || (f->dev == dev && f->ino < ino);
}

static size_t file_pos(const struct bt_sym *s, uint64_t dev, uint64_t ino)
{
	size_t lo = 0, hi = s->files.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (file_less(file_at(s, mid), dev, ino))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---- files ---------------------------------------------------------- */

static void parse_file(struct bt_sym *s, struct file *f)
{
	if (f->parsed)
		return;
	f->elf = bt_elf_open_fd(f->fd);
	close(f->fd);
	f->fd = -1;
	f->parsed = true;
	s->open_fds--;
}

/*
 * Opens path for reading only if it is a regular file: it is looked at
 * through an O_PATH descriptor first, so a device node or a FIFO planted
 * under a mapped name is never opened (an open alone can act on a device).
 */
static int open_regular(int dirfd, const char *path, uint64_t resolve)
{
	struct stat a, b;
	char self[64];
	int opath, fd;

	opath = resolve ? bt_openat2(dirfd, path, O_PATH | O_CLOEXEC, resolve) :
			  openat(dirfd, path, O_PATH | O_CLOEXEC);
	if (opath < 0)
		return -1;
	if (fstat(opath, &a) || !S_ISREG(a.st_mode)) {
		close(opath);
		return -1;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", opath);
	fd = open(self, OPEN_FLAGS);
	close(opath);
	if (fd >= 0 && (fstat(fd, &b) || b.st_dev != a.st_dev || b.st_ino != a.st_ino)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int open_map_files(uint32_t pid, const struct bt_map *e)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%u/map_files/%" PRIx64 "-%" PRIx64, pid, e->start,
		 e->end);
	return open_regular(AT_FDCWD, path, 0);
}

/* The file the mapping names, by device and inode as /proc/PID/maps says. */
static bool is_mapped_file(int fd, const struct bt_map *e)
{
	struct stat st;

	return !e->inode || (!fstat(fd, &st) && st.st_ino == e->inode &&
			     major(st.st_dev) == e->dev_major && minor(st.st_dev) == e->dev_minor);
}

/*
 * A path from the process's maps, resolved inside root: symlinks in a
 * container point into the container (RESOLVE_IN_ROOT), never at the
 * host's files. root "" is the host's own root.
 */
static int open_in_root(const char *root, const char *path)
{
	int rootfd, fd;

	if (!*root)
		return open_regular(AT_FDCWD, path, RESOLVE_NO_MAGICLINKS);
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -1;
	fd = open_regular(rootfd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	close(rootfd);
	return fd;
}

/*
 * A live process: /proc/PID/map_files first, the very file mapped (no
 * path is resolved at all); else the path inside the process's root,
 * accepted only if device and inode match the mapping. Maps text with a
 * root (tests, maps captured elsewhere): the path inside that root.
 */
static int open_mapped(const struct proc *p, const struct bt_map *e, const char *path)
{
	char root[64];
	int fd;

	if (p->root)
		return (e->flags & BT_MAP_DELETED) ? open_map_files(p->pid, e) :
		       open_in_root(p->root, path);
	fd = open_map_files(p->pid, e);
	if (fd >= 0 || (e->flags & BT_MAP_DELETED))
		return fd;
	snprintf(root, sizeof(root), "/proc/%u/root", p->pid);
	fd = open_in_root(root, path);
	if (fd >= 0 && !is_mapped_file(fd, e)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* NULL (no symbols for this mapping) on any failure: lookups degrade, never fail. */
static struct file *get_file(struct bt_sym *s, const struct proc *p, const struct bt_map *e,
			     const char *path)
{
	int fd = open_mapped(p, e, path);
	struct file *f;
	struct stat st;
	size_t pos;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	pos = file_pos(s, st.st_dev, st.st_ino);
	f = pos < s->files.n ? file_at(s, pos) : NULL;
	if (f && f->dev == st.st_dev && f->ino == st.st_ino) {
		close(fd);
		return f;
	}
	f = calloc(1, sizeof(*f));
	if (!f || insert_at(&s->files, pos, f)) {
		free(f);
		close(fd);
		return NULL;
	}
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->fd = fd;
	s->open_fds++;
	if (s->open_fds > BT_SYM_MAX_OPEN_FDS)
		parse_file(s, f);
	return f;
}

/* ---- vDSO ----------------------------------------------------------- */

static int read_mem(uint32_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	char path[64];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = pread(fd, buf, len, (off_t)addr);
		close(fd);
	}
	if (n == (ssize_t)len)
		return 0;
	return process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0) == (ssize_t)len ? 0 : -1;
}

static struct file *get_vdso(struct bt_sym *s, uint32_t pid, const struct bt_map *e)
{
	size_t len = e->end - e->start, i;
	struct vdso *v;
	void *img;

	if (len > BT_SYM_MAX_VDSO_SIZE)
		return NULL;
	img = malloc(len);
	if (!img || read_mem(pid, e->start, img, len)) {
		free(img);
		return NULL;
	}
	for (i = 0; i < s->nvdso; i++) {
		if (s->vdsos[i]->len == len && !memcmp(s->vdsos[i]->img, img, len)) {
			free(img);
			return &s->vdsos[i]->file;
		}
	}
	v = s->nvdso < MAX_VDSO ? calloc(1, sizeof(*v)) : NULL;
	if (!v) {
		free(img);
		return NULL;
	}
	v->img = img;
	v->len = len;
	/* The image in memory is laid out as its file: offsets are addr - start. */
	v->file.fd = -1;
	v->file.parsed = true;
	v->file.elf = bt_elf_open_mem(img, len);
	s->vdsos[s->nvdso++] = v;
	return &v->file;
}

/* ---- processes ------------------------------------------------------ */

static const char *basename_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

static int fill_maps(struct bt_sym *s, struct proc *p, const struct bt_maps *m)
{
	size_t i;

	p->maps = calloc(m->n ? m->n : 1, sizeof(*p->maps));
	if (!p->maps)
		return -ENOMEM;
	p->n = m->n;
	for (i = 0; i < m->n; i++) {
		const struct bt_map *e = &m->v[i];
		const char *path = bt_maps_path(m, e);
		struct umap *u = &p->maps[i];

		u->start = e->start;
		u->end = e->end;
		u->pgoff = e->pgoff;
		if (!*path)
			continue;
		u->module = intern(s, basename_of(path));
		if (!u->module)
			return -ENOMEM;
		if (!strcmp(path, "[vdso]"))
			u->file = get_vdso(s, p->pid, e);
		/* Stacks only hold code addresses: only executable files are opened. */
		else if (path[0] == '/' && (e->flags & BT_MAP_X))
			u->file = get_file(s, p, e, path);
	}
	return 0;
}

static void free_proc(struct proc *p)
{
	if (!p)
		return;
	free(p->maps);
	free(p);
}

static int read_maps(uint32_t pid, struct bt_maps *m)
{
	char path[64];
	FILE *f;
	int err;

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = bt_maps_read(m, f);
	fclose(f);
	return err;
}

static uint64_t start_time(uint32_t pid)
{
	uint64_t start_ns = 0;
	char comm[32];

	if (bt_proc_read_identity(pid, comm, sizeof(comm), &start_ns))
		return 0;
	return start_ns;
}

/* Installs (or replaces) the layout of pid. */
static int add_proc(struct bt_sym *s, uint32_t pid, const struct bt_maps *m, const char *root,
		    bool live)
{
	struct proc *p = calloc(1, sizeof(*p));
	size_t pos = proc_pos(s, pid);
	int err;

	if (!p)
		return -ENOMEM;
	p->pid = pid;
	p->live = live;
	p->start_ns = live ? start_time(pid) : 0;
	p->root = root ? intern(s, root) : NULL;
	err = root && !p->root ? -ENOMEM : fill_maps(s, p, m);
	if (err) {
		free_proc(p);
		return err;
	}
	if (pos < s->procs.n && proc_at(s, pos)->pid == pid) {
		free_proc(proc_at(s, pos));
		s->procs.v[pos] = p;
		return 0;
	}
	err = insert_at(&s->procs, pos, p);
	if (err)
		free_proc(p);
	return err;
}

int bt_sym_add_process(struct bt_sym *s, uint32_t pid)
{
	struct bt_maps m;
	int err;

	bt_maps_init(&m);
	err = read_maps(pid, &m);
	if (!err)
		err = add_proc(s, pid, &m, NULL, true);
	bt_maps_free(&m);
	return err;
}

int bt_sym_add_process_maps(struct bt_sym *s, uint32_t pid, const char *maps_text,
			    const char *root)
{
	struct bt_maps m;
	int err;

	bt_maps_init(&m);
	err = bt_maps_parse(&m, maps_text, strlen(maps_text));
	if (!err)
		err = add_proc(s, pid, &m, root, false);
	bt_maps_free(&m);
	return err;
}

/*
 * An address outside the registered maps may be in a library dlopen()ed
 * since: re-read the maps of the same (not a pid-reusing) process, a few
 * times at most so that garbage addresses cost little.
 */
static struct proc *refresh(struct bt_sym *s, struct proc *p)
{
	uint32_t pid = p->pid;
	struct bt_maps m;
	int err;

	if (!p->live || p->refreshes >= BT_SYM_MAX_REFRESH)
		return NULL;
	p->refreshes++;
	if (start_time(pid) != p->start_ns) {
		p->live = false;
		return NULL;
	}
	bt_maps_init(&m);
	err = read_maps(pid, &m);
	if (!err && m.n) {
		unsigned int refreshes = p->refreshes;

		/* Replaces p; the count carries over so the bound holds. */
		err = add_proc(s, pid, &m, NULL, true);
		if (!err) {
			p = find_proc(s, pid);
			p->refreshes = refreshes;
		}
	} else {
		p->live = false;
		err = -ESRCH;
	}
	bt_maps_free(&m);
	return err ? NULL : p;
}

static const struct umap *find_umap(const struct proc *p, uint64_t addr)
{
	size_t lo = bt_upper_bound_u64(p->maps, p->n, sizeof(*p->maps),
				       offsetof(struct umap, start), addr);

	return lo && addr < p->maps[lo - 1].end ? &p->maps[lo - 1] : NULL;
}

static int resolve(struct bt_sym *s, const struct umap *u, uint64_t addr, struct bt_frame *out)
{
	uint64_t off = addr - u->start + u->pgoff, vaddr, symoff;
	const char *name;

	out->module = u->module;
	out->offset = off;
	if (!u->file)
		return -ENOENT;
	parse_file(s, u->file);
	if (!u->file->elf || bt_elf_off_to_vaddr(u->file->elf, off, &vaddr))
		return -ENOENT;
	out->offset = vaddr;
	name = bt_elf_lookup(u->file->elf, vaddr, &symoff);
	if (!name)
		return -ENOENT;
	out->name = name;
	out->offset = symoff;
	out->resolved = true;
	return 0;
}

int bt_sym_user(struct bt_sym *s, uint32_t pid, uint64_t addr, struct bt_frame *out)
{
	const struct umap *u;
	struct proc *p;

	memset(out, 0, sizeof(*out));
	p = find_proc(s, pid);
	if (!p)
		return -ESRCH;
	u = find_umap(p, addr);
	if (!u) {
		p = refresh(s, p);
		u = p ? find_umap(p, addr) : NULL;
	}
	return u ? resolve(s, u, addr, out) : -ENOENT;
}

/* ---- kernel --------------------------------------------------------- */

/*
 * The whole of kallsyms is ~120,000 symbols and 3 MiB of names (about 6
 * MiB in a table), of which a trace's kernel stacks use a few hundred.
 * So the file is read for the addresses stacks bring (one read for all a
 * collection brings, bt_sym_kernel_prefetch), keeping only the symbols
 * that answer them. A read costs ~50 ms of CPU (the kernel formats the
 * file): past BT_SYM_KSYMS_READS of them, the whole table is read once
 * and answers from then on.
 */
static FILE *open_kallsyms(struct bt_sym *s, int *err)
{
	FILE *f = fopen(s->kpath ? s->kpath : "/proc/kallsyms", "re");

	*err = f ? 0 : -errno;
	if (!f)
		s->kfailed = true;
	return f;
}

/* Keeps table k (frames will point into it): its index, or -ENOMEM (k freed). */
static int keep_table(struct bt_sym *s, struct bt_ksyms *k)
{
	if (!bt_grow((void **)&s->ktabs, &s->capktabs, s->nktabs + 1, sizeof(*s->ktabs))) {
		bt_ksyms_free(k);
		return -ENOMEM;
	}
	s->ktabs[s->nktabs] = k;
	return (int)s->nktabs++;
}

int bt_sym_load_kallsyms(struct bt_sym *s, const char *path)
{
	static const uint64_t none[1];
	struct bt_ksyms *k;
	char *copy = strdup(path);
	FILE *f;
	int err;

	if (!copy)
		return -ENOMEM;
	/* What the earlier file answered is forgotten; its tables stay for the frames. */
	free(s->kpath);
	s->kpath = copy;
	s->nkaddr = 0;
	s->kreads = 0;
	s->kfailed = s->krestricted = false;
	if (s->kall && (err = keep_table(s, s->kall)) < 0)
		return err;
	s->kall = NULL;
	if (s->knamed && (err = keep_table(s, s->knamed)) < 0)
		return err;
	s->knamed = NULL;
	/* Read once for nothing: whether it can be read, and whether it hides its addresses. */
	f = open_kallsyms(s, &err);
	if (!f)
		return err;
	k = bt_ksyms_read_for(f, none, 0);
	fclose(f);
	if (!k)
		return -ENOMEM;
	s->krestricted = bt_ksyms_restricted(k);
	bt_ksyms_free(k);
	return s->krestricted ? -EPERM : 0;
}

bool bt_sym_kernel_restricted(const struct bt_sym *s)
{
	return s->krestricted;
}

/* The table that answers addr, or NULL when it was not looked up yet. */
static const struct bt_ksyms *table_for(const struct bt_sym *s, uint64_t addr)
{
	const char *module, *name;
	uint64_t off;
	size_t i;

	if (s->kall)
		return s->kall;
	i = bt_upper_bound_u64(s->kaddr, s->nkaddr, sizeof(*s->kaddr),
			       offsetof(struct kaddr, addr), addr);
	if (i && s->kaddr[i - 1].addr == addr)
		return s->ktabs[s->kaddr[i - 1].tab];
	/* Inside a function preloaded by name: it answers (elsewhere "" or NULL). */
	name = s->knamed ? bt_ksyms_lookup(s->knamed, addr, &off, &module) : NULL;
	return name && *name ? s->knamed : NULL;
}

/* The addresses of want[0 .. n) not looked up yet, sorted and distinct, in *out. */
static size_t new_addrs(const struct bt_sym *s, const uint64_t *want, size_t n, uint64_t *out)
{
	size_t m = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		if (want[i] && !table_for(s, want[i]))
			out[m++] = want[i];
	qsort(out, m, sizeof(*out), bt_cmp_u64);
	for (size_t i = 0; i < m; i++)
		if (!k || out[k - 1] != out[i])
			out[k++] = out[i];
	return k;
}

/* The table read for addrs[0 .. n) answers them: merged into kaddr (both sorted). */
static int file_addrs(struct bt_sym *s, const uint64_t *addrs, size_t n, uint32_t tab)
{
	size_t i = s->nkaddr, j = n, w = s->nkaddr + n;

	if (!bt_grow((void **)&s->kaddr, &s->capkaddr, w, sizeof(*s->kaddr)))
		return -ENOMEM;
	while (j > 0) {
		if (i > 0 && s->kaddr[i - 1].addr > addrs[j - 1])
			s->kaddr[--w] = s->kaddr[--i];
		else
			s->kaddr[--w] = (struct kaddr){ addrs[--j], tab };
	}
	s->nkaddr += n;
	return 0;
}

int bt_sym_kernel_preload(struct bt_sym *s, const char *const *prefixes, size_t n)
{
	struct bt_ksyms *k;
	FILE *f;
	int err;

	if (s->kall || s->knamed || s->kfailed || s->krestricted)
		return 0;
	f = open_kallsyms(s, &err);
	if (!f)
		return err;
	k = bt_ksyms_read_named(f, prefixes, n);
	fclose(f);
	if (!k)
		return -ENOMEM;
	s->krestricted = bt_ksyms_restricted(k);
	s->knamed = k;
	return 0;
}

int bt_sym_kernel_prefetch(struct bt_sym *s, const uint64_t *addrs, size_t n)
{
	struct bt_ksyms *k;
	bool whole;
	uint64_t *want;
	size_t m;
	FILE *f;
	int err;

	if (s->kall || s->kfailed || s->krestricted || !n)
		return 0;
	want = malloc(n * sizeof(*want));
	if (!want)
		return -ENOMEM;
	m = new_addrs(s, addrs, n, want);
	if (!m) {
		free(want);
		return 0;
	}
	f = open_kallsyms(s, &err);
	if (!f) {
		free(want);
		return err;
	}
	whole = ++s->kreads > BT_SYM_KSYMS_READS;
	k = whole ? bt_ksyms_read(f) : bt_ksyms_read_for(f, want, m);
	fclose(f);
	if (!k) {
		free(want);
		return -ENOMEM;
	}
	s->krestricted = bt_ksyms_restricted(k);
	if (whole) {
		s->kall = k;
		free(want);
		return 0;
	}
	err = keep_table(s, k);
	if (err >= 0)
		err = file_addrs(s, want, m, (uint32_t)err);
	free(want);
	return err < 0 ? err : 0;
}

void bt_sym_kernel_stats(const struct bt_sym *s, bool *named, unsigned int *reads, size_t *addrs,
			 bool *whole)
{
	*named = s->knamed != NULL;
	*reads = s->kreads;
	*addrs = s->nkaddr;
	*whole = s->kall != NULL;
}

int bt_sym_kernel(struct bt_sym *s, uint64_t addr, struct bt_frame *out)
{
	const struct bt_ksyms *k;
	const char *name, *module;
	uint64_t off;

	memset(out, 0, sizeof(*out));
	out->offset = addr;
	k = table_for(s, addr);
	if (!k) {
		bt_sym_kernel_prefetch(s, &addr, 1);
		k = table_for(s, addr);
	}
	if (!k)
		return -ENOENT;
	name = bt_ksyms_lookup(k, addr, &off, &module);
	if (!name)
		return -ENOENT;
	out->name = name;
	out->offset = off;
	out->module = module ? module : KERNEL_MODULE;
	out->resolved = true;
	return 0;
}

/* ---- the rest ------------------------------------------------------- */

char *bt_sym_format(const struct bt_frame *f, bool with_offset, char *buf, size_t len)
{
	if (!buf || !len)
		return NULL;
	if (f->resolved && f->name) {
		if (with_offset)
			snprintf(buf, len, "%s+0x%" PRIx64, f->name, f->offset);
		else
			snprintf(buf, len, "%s", f->name);
	} else if (f->module) {
		snprintf(buf, len, "%s+0x%" PRIx64, f->module, f->offset);
	} else {
		snprintf(buf, len, "[unknown]");
	}
	return buf;
}

struct bt_sym *bt_sym_new(void)
{
	return calloc(1, sizeof(struct bt_sym));
}

void bt_sym_free(struct bt_sym *s)
{
	size_t i;

	if (!s)
		return;
	for (i = 0; i < s->procs.n; i++)
		free_proc(proc_at(s, i));
	for (i = 0; i < s->files.n; i++) {
		struct file *f = file_at(s, i);

		if (!f->parsed)
			close(f->fd);
		bt_elf_free(f->elf);
		free(f);
	}
	for (i = 0; i < s->nvdso; i++) {
		bt_elf_free(s->vdsos[i]->file.elf);
		free(s->vdsos[i]->img);
		free(s->vdsos[i]);
	}
	for (i = 0; i < s->strs.n; i++)
		free(s->strs.v[i]);
	for (i = 0; i < s->nktabs; i++)
		bt_ksyms_free(s->ktabs[i]);
	bt_ksyms_free(s->kall);
	bt_ksyms_free(s->knamed);
	free(s->ktabs);
	free(s->kaddr);
	free(s->kpath);
	free(s->strs.v);
	free(s->procs.v);
	free(s->files.v);
	free(s);
}
