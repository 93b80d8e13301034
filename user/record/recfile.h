/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The recording container: framing, compression and bounded reads. It
 * knows blocks, not what is in them (schema.h, writer.c and reader.c do).
 *
 * Layout; every integer is little-endian, whatever the host:
 *
 *   file header, 16 bytes, not compressed
 *     u8  magic[8]   "BTREC\0\1\0"
 *     u32 version    major format version, 2 (1 is still read; record.h
 *                    says how they differ). A reader refuses a newer one.
 *     u32 flags      bits 0-15: compatible features, ignored when unknown;
 *                    bits 16-31: incompatible ones, refused when unknown.
 *                    Version 1 defines none.
 *   blocks, until the end of the file
 *     u32 type       bit 31 (BT_RECF_CRITICAL): a reader that does not know
 *                    the type must refuse the file instead of skipping it
 *     u32 clen       compressed length, <= compressBound(BT_RECF_MAX_BLOCK)
 *     u32 ulen       uncompressed length, <= BT_RECF_MAX_BLOCK (64 MiB)
 *     u32 crc        CRC-32 of the 12 bytes above, then of the payload:
 *                    a flipped type or length is caught, not misread
 *     u8  data[clen] the payload as one zlib stream
 *
 * Each block is complete on its own, so a file cut by a crash or kill -9
 * is readable up to its last whole block; the reader tells an end inside
 * a block (cut) from an end between blocks.
 *
 * A reader checks every length against the caps before allocating, and
 * buffers compressed bytes only as they arrive: a block costs at most
 * its compressed and uncompressed caps (about 2 x 64 MiB), however its
 * frame lies. Inflating stops at ulen, which may not exceed what deflate
 * can make of clen bytes (1032:1): a decompression bomb goes nowhere.
 *
 * Growing the format without breaking version 1 readers: add a block
 * type (readers skip what they do not know), add fields at the end of a
 * payload or record (readers ignore bytes past the fields they know), or
 * set a compatible flag. Only a change old readers would misread needs a
 * critical block type, an incompatible flag, or a new major version.
 */
#ifndef BT_RECFILE_H
#define BT_RECFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BT_RECF_MAGIC		"BTREC\0\1\0"
#define BT_RECF_MAGIC_LEN	8
#define BT_RECF_VERSION		2u
/* Format 1 snapshots held every record so far; 2 only the new ones (record.h). */
#define BT_RECF_VERSION_LOGS	2u
#define BT_RECF_HDR_LEN		16
#define BT_RECF_FRAME_LEN	16
#define BT_RECF_MAX_BLOCK	(64u << 20)
#define BT_RECF_CRITICAL	0x80000000u
#define BT_RECF_FLAGS_INCOMPAT	0xffff0000u
/* Incompatible flags this reader understands: none yet. */
#define BT_RECF_FLAGS_KNOWN	0u

/* ---- writing -------------------------------------------------------- */

/* Both return 0, or -1 with errno set (EFBIG: payload over the cap). */
int bt_recf_write_header(FILE *f, uint32_t flags);
int bt_recf_write_block(FILE *f, uint32_t type, const void *data, size_t len);

/* A growing payload; an allocation failure is sticky and checked once. */
struct bt_recf_buf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

void bt_recf_buf_free(struct bt_recf_buf *b);
void bt_recf_put_u8(struct bt_recf_buf *b, uint8_t v);
void bt_recf_put_u16(struct bt_recf_buf *b, uint16_t v);
void bt_recf_put_u32(struct bt_recf_buf *b, uint32_t v);
void bt_recf_put_u64(struct bt_recf_buf *b, uint64_t v);
/* The low n bytes of v (n at most 8), little-endian. */
void bt_recf_put_le(struct bt_recf_buf *b, uint64_t v, int n);
void bt_recf_put_bytes(struct bt_recf_buf *b, const void *p, size_t n);
/* u32 length, then the bytes up to the NUL (at most max). */
void bt_recf_put_str(struct bt_recf_buf *b, const char *s, size_t max);
/* Overwrites a u32 written earlier at off (counts known only at the end). */
void bt_recf_patch_u32(struct bt_recf_buf *b, size_t off, uint32_t v);

/* ---- reading -------------------------------------------------------- */

enum bt_recf_next {
	BT_RECF_BLOCK,		/* a block is in blk */
	BT_RECF_EOF,		/* the input ends at a block boundary */
	BT_RECF_CUT,		/* the input ends inside a block */
	BT_RECF_ERROR,		/* corrupt or unreadable: message in err */
};

struct bt_recf_block {
	uint32_t type;
	unsigned int index;	/* 0 for the first block */
	uint64_t offset;	/* of its frame in the file */
	const uint8_t *data;	/* valid until the next call */
	size_t len;
};

struct bt_recf_reader {
	const char *name;	/* for messages */
	int fd;			/* -1: reading mem */
	const uint8_t *mem;
	size_t memlen;
	uint64_t off;		/* bytes consumed */
	unsigned int nblocks;
	uint8_t *cbuf, *ubuf;	/* compressed and uncompressed block */
	size_t ccap, ucap;
};

void bt_recf_reader_fd(struct bt_recf_reader *r, int fd, const char *name);
void bt_recf_reader_mem(struct bt_recf_reader *r, const void *buf, size_t len,
			const char *name);
void bt_recf_reader_free(struct bt_recf_reader *r);
/* Checks the file header: 0, or -1 with a message naming the file. */
int bt_recf_read_header(struct bt_recf_reader *r, uint32_t *version, uint32_t *flags,
			char *err, size_t errlen);
enum bt_recf_next bt_recf_next(struct bt_recf_reader *r, struct bt_recf_block *blk,
			       char *err, size_t errlen);
/*
 * How many blocks of type come before the first block of type stop (or
 * the end), from the frames alone: nothing is inflated or checked, and
 * the reader's position does not move (a file is read with pread). A
 * frame with impossible sizes, or one the input cuts, ends the count:
 * bt_recf_next reports those when it gets there. -1 on a read error.
 */
long bt_recf_count_blocks(const struct bt_recf_reader *r, uint32_t type, uint32_t stop);

/*
 * A bounded cursor over a payload. Reading past the end yields zeros and
 * sets bad, so a parser reads its fields and checks bad once.
 */
struct bt_recf_cur {
	const uint8_t *p;
	size_t len, off;
	bool bad;
};

void bt_recf_cur_init(struct bt_recf_cur *c, const void *p, size_t len);
size_t bt_recf_left(const struct bt_recf_cur *c);
uint8_t bt_recf_get_u8(struct bt_recf_cur *c);
uint16_t bt_recf_get_u16(struct bt_recf_cur *c);
uint32_t bt_recf_get_u32(struct bt_recf_cur *c);
uint64_t bt_recf_get_u64(struct bt_recf_cur *c);
/* A little-endian integer of n bytes (n at most 8). */
uint64_t bt_recf_get_le(struct bt_recf_cur *c, int n);
/* n bytes into dst (NULL: skip them). */
void bt_recf_get_bytes(struct bt_recf_cur *c, void *dst, size_t n);
/* A string put by bt_recf_put_str, cut to fit size with its NUL. */
void bt_recf_get_str(struct bt_recf_cur *c, char *buf, size_t size);

#endif
