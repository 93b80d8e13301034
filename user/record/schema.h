/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The schema of a recording's payloads (documented in record.h), shared
 * by its writer (writer.c) and its reader (reader.c): the sizes and flags
 * of the hand-coded PROCESS and ROWS records, and the other lists of a
 * model as tables of fields, so one description serves both directions.
 */
#ifndef BT_REC_SCHEMA_H
#define BT_REC_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "record/recfile.h"
#include "record/record.h"

/* Blocks are cut near here: big enough to compress well, small to hold. */
#define REC_CHUNK	(1u << 20)
/* What a reader accepts for the row layout: log2 slots of a u64, a path. */
#define REC_MAX_HIST	64
#define REC_MAX_PATH	4096

#define PROC_MIN_LEN	(4 + 8 + 1 + 4 + 4)
#define KEY_LEN		(4 + 1 + 1 + 8 + 8)
#define INFO_LEN	(1 + 1 + 2 + 2 + 16 + 16 + 8)

/* PROCESS flags after exe. */
#define PROC_HARVESTED	0x1
#define PROC_TARGET	0x2
#define PROC_UNTIMED	0x4	/* struct bt_proc.untimed */
/* EPISODES and STACKS flags. */
#define MODE_ON		0x1
#define MODE_SOCKETS_ONLY	0x2	/* EPISODES: struct bt_model.sockets_only */

static inline uint64_t row_min_len(uint32_t hist_slots, uint32_t path_len)
{
	return 4 + KEY_LEN + 6 * 8 + 16ull * hist_slots + 1 + INFO_LEN + path_len;
}

/*
 * The lists of a model besides its processes and rows, in the order they
 * are written: blocks of records of fixed fields (a stack adds its string).
 */
enum {
	L_WAKES, L_HOLDERS, L_SOCKS, L_EPISODES, L_STACKROWS, L_WAKESTACKS, L_EXCHANGES,
	L_FUTEXLINKS,
	L_STACKS,	/* last: its records carry a string after the fields */
	L_MAX
};


/* A field of an element: in a record a little-endian integer of len bytes, or raw bytes. */
struct field {
	uint16_t off, len;
	bool raw;
	bool opt;	/* came later: an older writer's record ends before it (zero) */
};

#define FIELD(type, f)	{ offsetof(type, f), sizeof(((type *)0)->f), false, false }
#define RAW(type, f)	{ offsetof(type, f), sizeof(((type *)0)->f), true, false }
#define LATER(type, f)	{ offsetof(type, f), sizeof(((type *)0)->f), false, true }

struct list_kind {
	uint32_t type;		/* of its blocks */
	const char *what, *one;	/* for messages: the list, one of its records */
	size_t size;		/* of an element */
	uint32_t max;		/* elements in a snapshot */
	/*
	 * A log of records, not a set of keys: from format 2 on, each
	 * snapshot holds the records that came since the one before (see
	 * record.h), and the model holds them only until then.
	 */
	bool log;
	size_t arr, n, cap;	/* where the model keeps the list: offsets in it */
	const struct field *rec;	/* a record's fields, in order, up to one of length 0 */
};

extern const struct list_kind bt_rec_lists[L_MAX];

/* The bytes of the fields f in a record. */
uint64_t bt_rec_fields_len(const struct field *f);
/* Appends e's fields f to b, and reads them from c into e. */
void bt_rec_put_fields(struct bt_recf_buf *b, const struct field *f, const void *e);
void bt_rec_get_fields(struct bt_recf_cur *c, const struct field *f, void *e);
/* A block type's name, for messages. */
const char *bt_rec_block_name(uint32_t type);

/* SELF's values, in record.h's order: the writer's and the reader's one list. */
enum {
	SELF_LOAD_CPU, SELF_CPU, SELF_MAX_RSS, SELF_RECORDS,
	SELF_RECORD_BYTES = SELF_RECORDS + BT_SELF_RECORDS_MAX,
	SELF_BPF_STATS, SELF_BPF_NS, SELF_BPF_RUNS, SELF_CHAIN_CPU, SELF_VALUES
};
/* Value i (below SELF_VALUES) of s. */
uint64_t bt_rec_self_get(const struct bt_self_cost *s, unsigned int i);
/* Sets value i of s; one a newer writer added (i >= SELF_VALUES) is ignored. */
void bt_rec_self_set(struct bt_self_cost *s, unsigned int i, uint64_t v);

#endif
