// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "symbols/kallsyms.h"
#include "lib/vec.h"

struct ksym {
	uint64_t addr;
	uint32_t name;		/* offset in pool */
	uint32_t module;	/* offset in pool, 0 for the kernel image */
	uint8_t prio;		/* which of several names at one address wins */
};

struct bt_ksyms {
	struct ksym *v;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
	uint32_t last_module;	/* modules come in runs: reuse the last name */
	bool restricted;
};

static int pool_add(struct bt_ksyms *k, const char *s, uint32_t *off)
{
	size_t len = strlen(s);

	if (k->pool_len + len + 1 > BT_KSYMS_MAX_POOL)
		return -E2BIG;
	/* Raw, and fitted once read: the doubled room would be 1 MiB or so, written. */
	if (!bt_grow_raw((void **)&k->pool, &k->pool_cap, k->pool_len + len + 1, 1))
		return -ENOMEM;
	memcpy(k->pool + k->pool_len, s, len + 1);
	*off = (uint32_t)k->pool_len;
	k->pool_len += len + 1;
	return 0;
}

/* "ffffffff81000000 T name" with an optional "\t[module]"; edits line. */
static int parse_line(char *line, uint64_t *addr, char *type, char **name, char **module)
{
	char *p = line, *end;

	errno = 0;
	*addr = strtoull(p, &end, 16);
	if (end == p || *end != ' ' || errno)
		return -1;
	p = end + 1;
	if (!p[0] || p[1] != ' ')
		return -1;
	*type = p[0];
	p += 2;
	*name = p;
	p += strcspn(p, " \t\r\n");
	*module = NULL;
	if (*p && *p != '\n' && *p != '\r') {
		*p++ = 0;
		p += strspn(p, " \t");
		if (*p == '[') {
			*module = ++p;
			p[strcspn(p, "]\r\n")] = 0;
		}
	} else {
		*p = 0;
	}
	if (*module && !**module)
		*module = NULL;
	return **name ? 0 : -1;
}

/* Above PRIO_BOUNDARY: a bt_ksyms_read_named boundary never wins over a symbol. */
#define PRIO_BOUNDARY	0

static int type_prio(char type)
{
	switch (type) {
	case 'T':
		return 4;
	case 'W':
		return 3;
	case 't':
		return 2;
	case 'w':
		return 1;
	default:
		return -1;	/* data, absolute, ...: never a frame */
	}
}

static int add_sym(struct bt_ksyms *k, uint64_t addr, int prio, const char *name,
		   const char *module)
{
	struct ksym *s;
	uint32_t name_off, mod_off = 0;
	int err;

	if (k->n >= BT_KSYMS_MAX)
		return -E2BIG;
	if (module) {
		if (k->last_module && !strcmp(k->pool + k->last_module, module)) {
			mod_off = k->last_module;
		} else {
			err = pool_add(k, module, &mod_off);
			if (err)
				return err;
			k->last_module = mod_off;
		}
	}
	err = pool_add(k, name, &name_off);
	if (err || !bt_grow_raw((void **)&k->v, &k->cap, k->n + 1, sizeof(*k->v)))
		return err ? err : -ENOMEM;
	s = &k->v[k->n++];
	s->addr = addr;
	s->name = name_off;
	s->module = mod_off;
	s->prio = (uint8_t)prio;
	return 0;
}

static int cmp_ksym(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name;
}

/*
 * Reads f's text symbols (an address, a frame's type), each into take
 * with its order among them; k's pool starts with "" (offset 0: "no
 * module"), and k->restricted says whether every address read as 0.
 */
typedef int (*take_fn)(void *ctx, struct bt_ksyms *k, uint64_t addr, int prio, uint32_t order,
		       const char *name, const char *module);

static int read_text(FILE *f, struct bt_ksyms *k, take_fn take, void *ctx)
{
	size_t parsed = 0, nonzero = 0, cap = 0;
	uint32_t order = 0;
	char *line = NULL;
	int err = pool_add(k, "", &k->last_module);

	while (!err && getline(&line, &cap, f) > 0) {
		char type, *name, *module;
		uint64_t addr;
		int prio;

		if (parse_line(line, &addr, &type, &name, &module))
			continue;
		parsed++;
		if (addr)
			nonzero++;
		prio = type_prio(type);
		if (addr && prio >= 0)
			err = take(ctx, k, addr, prio, order++, name, module);
	}
	free(line);
	k->restricted = parsed && !nonzero;
	return err;
}

/* Sorted, one symbol per address, and no spare room: the table grows no more. */
static struct bt_ksyms *finish(struct bt_ksyms *k, int err)
{
	if (err == -ENOMEM) {
		bt_ksyms_free(k);
		return NULL;
	}
	k->n = bt_sort_unique_u64(k->v, k->n, sizeof(*k->v), offsetof(struct ksym, addr), cmp_ksym);
	bt_fit((void **)&k->v, &k->cap, k->n, sizeof(*k->v));
	bt_fit((void **)&k->pool, &k->pool_cap, k->pool_len, 1);
	return k;
}

static int take_all(void *ctx, struct bt_ksyms *k, uint64_t addr, int prio, uint32_t order,
		    const char *name, const char *module)
{
	(void)ctx;
	(void)order;
	return add_sym(k, addr, prio, name, module);
}

/*
 * bt_ksyms_read_for's candidate for the wanted addresses from one slot
 * on: the best symbol so far whose address is above the wanted address
 * before the slot (so it is at or below every one from the slot on).
 * Its names are copied: the line they came from is read over.
 */
struct best {
	uint64_t addr;
	int prio;		/* -1: none yet */
	bool has_module;
	char *name, *module;
	size_t name_cap, module_cap;
};

static int copy_str(char **buf, size_t *cap, const char *s)
{
	size_t len = strlen(s) + 1;

	if (!bt_grow_raw((void **)buf, cap, len, 1))
		return -ENOMEM;
	memcpy(*buf, s, len);
	return 0;
}

/*
 * Whether the symbol at addr with prio wins over b: the higher address
 * (the nearer one below what it answers), then the higher type; on a
 * full tie the first read stays, as cmp_ksym keeps it in the whole table.
 */
static bool beats(const struct best *b, uint64_t addr, int prio)
{
	return b->prio < 0 || addr > b->addr || (addr == b->addr && prio > b->prio);
}

static int keep_best(struct best *best, const uint64_t *want, size_t nwant, uint64_t addr,
		     int prio, const char *name, const char *module)
{
	/* The first wanted address at or above addr: those from it on may be answered by it. */
	size_t p = bt_upper_bound_u64(want, nwant, sizeof(*want), 0, addr - 1);
	struct best *b = &best[p];

	if (p == nwant || !beats(b, addr, prio))
		return 0;
	b->addr = addr;
	b->prio = prio;
	b->has_module = module != NULL;
	if (copy_str(&b->name, &b->name_cap, name) ||
	    (module && copy_str(&b->module, &b->module_cap, module)))
		return -ENOMEM;
	return 0;
}

/* bt_ksyms_read_for's: the wanted addresses and each slot's candidate. */
struct wanted {
	const uint64_t *want;
	size_t n;
	struct best *best;
};

static int take_wanted(void *ctx, struct bt_ksyms *k, uint64_t addr, int prio, uint32_t order,
		       const char *name, const char *module)
{
	const struct wanted *w = ctx;

	(void)k;
	(void)order;
	return keep_best(w->best, w->want, w->n, addr, prio, name, module);
}

struct bt_ksyms *bt_ksyms_read_for(FILE *f, const uint64_t *want, size_t nwant)
{
	struct bt_ksyms *k = calloc(1, sizeof(*k));
	struct wanted w = { want, nwant, calloc(nwant + 1, sizeof(struct best)) };
	int err;

	if (!k || !w.best) {
		free(k);
		free(w.best);
		return NULL;
	}
	for (size_t i = 0; i < nwant; i++)
		w.best[i].prio = -1;
	err = read_text(f, k, take_wanted, &w);
	/*
	 * Each wanted address's answer in the whole table is the best of the
	 * candidates of its slot and the slots before: those go in the table.
	 */
	for (size_t i = 0; i < nwant; i++) {
		if (!err && w.best[i].prio >= 0)
			err = add_sym(k, w.best[i].addr, w.best[i].prio, w.best[i].name,
				      w.best[i].has_module ? w.best[i].module : NULL);
		free(w.best[i].name);
		free(w.best[i].module);
	}
	free(w.best);
	return finish(k, err);
}

/* A text symbol as bt_ksyms_read_named sees each: where it is, and how it ranks there. */
struct seen {
	uint64_t addr;
	uint32_t order;		/* in the file */
	uint8_t prio;
};

static int cmp_seen(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->prio != y->prio)
		return x->prio > y->prio ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

bool bt_ksyms_prefixed(const char *name, const char *const *prefixes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* A boundary at addr: a named table knows nothing from there on (name ""). */
static int add_boundary(struct bt_ksyms *k, uint64_t addr)
{
	if (!bt_grow_raw((void **)&k->v, &k->cap, k->n + 1, sizeof(*k->v)))
		return -ENOMEM;
	k->v[k->n++] = (struct ksym){ .addr = addr, .prio = PRIO_BOUNDARY };
	return 0;
}

/* bt_ksyms_read_named's: every text symbol's place, and the named ones' file order. */
struct by_name {
	const char *const *prefixes;
	size_t nprefixes;
	struct seen *seen;
	size_t nseen, seencap;
	uint32_t *orders;	/* of each named symbol in k->v */
	size_t norder, ordercap;
};

static int take_named(void *ctx, struct bt_ksyms *k, uint64_t addr, int prio, uint32_t order,
		      const char *name, const char *module)
{
	struct by_name *b = ctx;
	int err;

	/* 16 bytes a text symbol, ~2 MiB, given back once read. */
	if (!bt_grow_raw((void **)&b->seen, &b->seencap, b->nseen + 1, sizeof(*b->seen)))
		return -ENOMEM;
	b->seen[b->nseen++] = (struct seen){ addr, order, (uint8_t)prio };
	if (!bt_ksyms_prefixed(name, b->prefixes, b->nprefixes))
		return 0;
	err = add_sym(k, addr, prio, name, module);
	if (!err && !bt_grow_raw((void **)&b->orders, &b->ordercap, b->norder + 1,
				 sizeof(*b->orders)))
		err = -ENOMEM;
	if (!err)
		b->orders[b->norder++] = order;
	return err;
}

struct bt_ksyms *bt_ksyms_read_named(FILE *f, const char *const *prefixes, size_t nprefixes)
{
	struct bt_ksyms *k = calloc(1, sizeof(*k));
	struct by_name b = { .prefixes = prefixes, .nprefixes = nprefixes };
	size_t named_n;
	int err;

	if (!k)
		return NULL;
	err = read_text(f, k, take_named, &b);
	if (!err)
		qsort(b.seen, b.nseen, sizeof(*b.seen), cmp_seen);
	/*
	 * A named symbol answers from its address up to the next address
	 * with a text symbol (a boundary there), and only if the whole table
	 * would pick it at its address: the highest type, then the first
	 * read. Otherwise its address is a boundary too.
	 */
	named_n = err ? 0 : k->n;
	for (size_t i = 0; i < named_n && !err; i++) {
		uint64_t addr = k->v[i].addr;
		size_t at = bt_upper_bound_u64(b.seen, b.nseen, sizeof(*b.seen),
					       offsetof(struct seen, addr), addr);
		size_t first = at;

		while (first > 0 && b.seen[first - 1].addr == addr)
			first--;
		if (first == at || b.seen[first].order != b.orders[i])
			k->v[i] = (struct ksym){ .addr = addr, .prio = PRIO_BOUNDARY };
		if (at < b.nseen)
			err = add_boundary(k, b.seen[at].addr);
	}
	free(b.seen);
	free(b.orders);
	/* A symbol at a boundary's address wins over it (its type ranks higher). */
	return finish(k, err);
}

struct bt_ksyms *bt_ksyms_read(FILE *f)
{
	struct bt_ksyms *k = calloc(1, sizeof(*k));

	return k ? finish(k, read_text(f, k, take_all, NULL)) : NULL;
}

void bt_ksyms_free(struct bt_ksyms *k)
{
	if (!k)
		return;
	free(k->v);
	free(k->pool);
	free(k);
}

bool bt_ksyms_restricted(const struct bt_ksyms *k)
{
	return k->restricted;
}

size_t bt_ksyms_count(const struct bt_ksyms *k)
{
	return k->n;
}

const char *bt_ksyms_lookup(const struct bt_ksyms *k, uint64_t addr, uint64_t *offset,
			    const char **module)
{
	size_t lo = bt_upper_bound_u64(k->v, k->n, sizeof(*k->v), offsetof(struct ksym, addr),
				       addr);
	const struct ksym *s;

	if (!lo)
		return NULL;
	s = &k->v[lo - 1];
	if (addr - s->addr >= BT_KSYMS_MAX_SPAN)
		return NULL;
	*offset = addr - s->addr;
	*module = s->module ? k->pool + s->module : NULL;
	return k->pool + s->name;
}
