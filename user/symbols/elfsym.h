/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Function symbols and load segments of one ELF image, read with libelf
 * and copied out so that nothing refers to the file afterwards: a parsed
 * image costs its symbols and names only, and a file that changes or
 * shrinks later cannot fault us. Every size and offset is checked against
 * the image, so corrupt files give fewer (or no) symbols, never a crash.
 */
#ifndef BT_ELFSYM_H
#define BT_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

/* Memory bounds for one image. */
#define BT_ELF_MAX_SYMS (4u << 20)	/* per table (.symtab, .dynsym) */
#define BT_ELF_MAX_POOL (256u << 20)	/* bytes of names */
#define BT_ELF_MAX_NAME 4096		/* longer names are cut */
#define BT_ELF_MAX_SECTION (256ull << 20)	/* larger symbol/string sections are ignored */
#define BT_ELF_MAX_LOADS 64
/* A symbol without a size (hand-written assembly) covers this much at most. */
#define BT_ELF_ZERO_SIZE_SPAN 4096

struct bt_elf;

/* Parses the file behind fd (not closed, position unused); NULL if it is no usable ELF. */
struct bt_elf *bt_elf_open_fd(int fd);
/* Same from an image in memory (such as the vDSO); buf is not kept. */
struct bt_elf *bt_elf_open_mem(const void *buf, size_t len);
void bt_elf_free(struct bt_elf *e);

/*
 * Translates a file offset into the ELF virtual address that the PT_LOAD
 * segment covering it gives; 0 on success, -1 if no segment covers it.
 */
int bt_elf_off_to_vaddr(const struct bt_elf *e, uint64_t off, uint64_t *vaddr);
/*
 * The function containing vaddr, looked up in .symtab and then .dynsym;
 * *offset is vaddr minus the symbol's value. NULL when none contains it.
 * The name lives as long as e.
 */
const char *bt_elf_lookup(const struct bt_elf *e, uint64_t vaddr, uint64_t *offset);
/* Number of function symbols kept from .symtab and from .dynsym. */
void bt_elf_counts(const struct bt_elf *e, size_t *symtab, size_t *dynsym);

#endif
