/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Kernel text symbols from /proc/kallsyms, sorted for binary search. */
#ifndef BT_KALLSYMS_H
#define BT_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Memory bounds (a distribution kernel has ~200k text symbols). */
#define BT_KSYMS_MAX (4u << 20)
#define BT_KSYMS_MAX_POOL (256u << 20)
/* kallsyms has no sizes: no function reaches this far past its start. */
#define BT_KSYMS_MAX_SPAN (1u << 20)

struct bt_ksyms;

/*
 * Reads kallsyms text (text symbols only: t, T, w, W). Returns NULL on
 * allocation failure only. When every address read as 0 (kptr_restrict
 * hides them from this reader), the table stays empty and
 * bt_ksyms_restricted() says so.
 */
struct bt_ksyms *bt_ksyms_read(FILE *f);
/*
 * As bt_ksyms_read, but the table keeps only the symbols that answer the
 * addresses want[0 .. n) (sorted, distinct): bt_ksyms_lookup of one of
 * them gives what it gives on the whole table. A stack's few hundred
 * addresses need a few hundred of the kernel's ~120,000 symbols.
 */
struct bt_ksyms *bt_ksyms_read_for(FILE *f, const uint64_t *want, size_t n);
/*
 * As bt_ksyms_read, but only the symbols whose names start with one of
 * prefixes[0 .. n), each answering from its address to the next text
 * symbol's: bt_ksyms_lookup gives there what the whole table gives, and
 * elsewhere NULL or "" (not known from this table: read for it).
 */
struct bt_ksyms *bt_ksyms_read_named(FILE *f, const char *const *prefixes, size_t n);
/* Whether name starts with one of prefixes[0 .. n): how a symbol is named, and a frame known. */
bool bt_ksyms_prefixed(const char *name, const char *const *prefixes, size_t n);
void bt_ksyms_free(struct bt_ksyms *k);
bool bt_ksyms_restricted(const struct bt_ksyms *k);
size_t bt_ksyms_count(const struct bt_ksyms *k);
/*
 * The symbol at or below addr; *module is the module name, or NULL for
 * the kernel image itself. NULL when addr is outside every symbol.
 */
const char *bt_ksyms_lookup(const struct bt_ksyms *k, uint64_t addr, uint64_t *offset,
			    const char **module);

#endif
