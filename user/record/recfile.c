// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The recording container; the layout is described in recfile.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "lib/vec.h"
#include "record/recfile.h"

/*
 * Level 1: rows are mostly zero histogram slots. On 200k rows the default
 * level saved a quarter of the bytes (1.7 MB against 2.2) for 2.5 times
 * the CPU, and the tracer may write a snapshot every interval.
 */
#define BT_RECF_LEVEL		1
/* deflate cannot expand data more than this (RFC 1951: 258 bytes from ~2 bits). */
#define BT_RECF_MAX_RATIO	1032u
/* Bytes of a block read per read(), so a lying clen costs no more than the file holds. */
#define BT_RECF_READ_STEP	(1u << 20)

static const uint8_t empty_payload[1];

static void le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static uint32_t rd32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- writing -------------------------------------------------------- */

int bt_recf_write_header(FILE *f, uint32_t flags)
{
	uint8_t h[BT_RECF_HDR_LEN];

	memcpy(h, BT_RECF_MAGIC, BT_RECF_MAGIC_LEN);
	le32(h + 8, BT_RECF_VERSION);
	le32(h + 12, flags);
	return fwrite(h, 1, sizeof(h), f) == sizeof(h) ? 0 : -1;
}

int bt_recf_write_block(FILE *f, uint32_t type, const void *data, size_t len)
{
	uint8_t frame[BT_RECF_FRAME_LEN];
	uLongf clen;
	uint8_t *z;
	uLong crc;
	int ok;

	if (len > BT_RECF_MAX_BLOCK) {
		errno = EFBIG;
		return -1;
	}
	/* zlib's crc32() treats a NULL buffer as "give the initial value". */
	if (!data)
		data = empty_payload;
	clen = compressBound(len);
	z = malloc(clen);
	if (!z) {
		errno = ENOMEM;
		return -1;
	}
	if (compress2(z, &clen, data, len, BT_RECF_LEVEL) != Z_OK) {
		free(z);
		errno = ENOMEM;	/* the only failure left with a big enough buffer */
		return -1;
	}
	le32(frame, type);
	le32(frame + 4, clen);
	le32(frame + 8, len);
	crc = crc32(0, frame, 12);
	crc = crc32(crc, data, len);
	le32(frame + 12, crc);
	ok = fwrite(frame, 1, sizeof(frame), f) == sizeof(frame) &&
	     fwrite(z, 1, clen, f) == clen;
	free(z);
	return ok ? 0 : -1;
}

static bool buf_room(struct bt_recf_buf *b, size_t n)
{
	if (!b->oom && !bt_grow((void **)&b->p, &b->cap, b->len + n, 1))
		b->oom = true;
	return !b->oom;
}

void bt_recf_buf_free(struct bt_recf_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void bt_recf_put_bytes(struct bt_recf_buf *b, const void *p, size_t n)
{
	if (!n || !buf_room(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void bt_recf_put_le(struct bt_recf_buf *b, uint64_t v, int n)
{
	uint8_t tmp[8];

	for (int i = 0; i < n; i++)
		tmp[i] = v >> (8 * i);
	bt_recf_put_bytes(b, tmp, n);
}

void bt_recf_put_u8(struct bt_recf_buf *b, uint8_t v)
{
	bt_recf_put_le(b, v, 1);
}

void bt_recf_put_u16(struct bt_recf_buf *b, uint16_t v)
{
	bt_recf_put_le(b, v, 2);
}

void bt_recf_put_u32(struct bt_recf_buf *b, uint32_t v)
{
	bt_recf_put_le(b, v, 4);
}

void bt_recf_put_u64(struct bt_recf_buf *b, uint64_t v)
{
	bt_recf_put_le(b, v, 8);
}

void bt_recf_put_str(struct bt_recf_buf *b, const char *s, size_t max)
{
	size_t n = s ? strnlen(s, max) : 0;

	bt_recf_put_u32(b, n);
	bt_recf_put_bytes(b, s, n);
}

void bt_recf_patch_u32(struct bt_recf_buf *b, size_t off, uint32_t v)
{
	if (!b->oom && off + 4 <= b->len)
		le32(b->p + off, v);
}

/* ---- reading -------------------------------------------------------- */

void bt_recf_reader_fd(struct bt_recf_reader *r, int fd, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->name = name;
}

void bt_recf_reader_mem(struct bt_recf_reader *r, const void *buf, size_t len,
			const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->mem = buf;
	r->memlen = buf ? len : 0;
	r->name = name;
}

void bt_recf_reader_free(struct bt_recf_reader *r)
{
	free(r->cbuf);
	free(r->ubuf);
	r->cbuf = r->ubuf = NULL;
	r->ccap = r->ucap = 0;
}

static bool room(uint8_t **buf, size_t *cap, size_t need)
{
	uint8_t *p;

	if (need <= *cap && *buf)
		return true;
	p = realloc(*buf, need ? need : 1);
	if (!p)
		return false;
	*buf = p;
	*cap = need;
	return true;
}

/* One read of up to n bytes (at off with pread, else where the file is), EINTR retried. */
static ssize_t read_once(int fd, void *buf, size_t n, int64_t off)
{
	ssize_t k;

	do
		k = off < 0 ? read(fd, buf, n) : pread(fd, buf, n, off);
	while (k < 0 && errno == EINTR);
	return k;
}

/*
 * Reads up to n bytes of the input and points *out at them: straight
 * into a memory input, else into cbuf, which grows only as data really
 * arrives. Returns the count (short at the end), or -1 with errno.
 */
static ssize_t src_take(struct bt_recf_reader *r, size_t n, const uint8_t **out)
{
	size_t got = 0;

	if (r->fd < 0) {
		size_t left = r->memlen - r->off;

		got = n < left ? n : left;
		*out = r->mem ? r->mem + r->off : empty_payload;
		r->off += got;
		return got;
	}
	while (got < n) {
		size_t step = n - got < BT_RECF_READ_STEP ? n - got : BT_RECF_READ_STEP;
		ssize_t k;

		/* Doubling, but never past n: the buffer follows the data that came. */
		if (got + step > r->ccap &&
		    !room(&r->cbuf, &r->ccap, got + step > n / 2 ? n : 2 * (got + step))) {
			errno = ENOMEM;
			return -1;
		}
		k = read_once(r->fd, r->cbuf + got, step, -1);
		if (k <= 0) {
			if (k < 0)
				return -1;
			break;
		}
		got += k;
	}
	*out = r->cbuf ? r->cbuf : empty_payload;
	r->off += got;
	return got;
}

int bt_recf_read_header(struct bt_recf_reader *r, uint32_t *version, uint32_t *flags,
			char *err, size_t errlen)
{
	const uint8_t *h;
	ssize_t n = src_take(r, BT_RECF_HDR_LEN, &h);
	uint32_t v, fl;

	if (n < 0) {
		snprintf(err, errlen, "%s: %s", r->name, strerror(errno));
		return -1;
	}
	if (n == 0) {
		snprintf(err, errlen, "%s: empty file, not a boundtrace recording", r->name);
		return -1;
	}
	if (memcmp(h, BT_RECF_MAGIC, n < BT_RECF_MAGIC_LEN ? n : BT_RECF_MAGIC_LEN)) {
		snprintf(err, errlen, "%s: not a boundtrace recording", r->name);
		return -1;
	}
	if (n < BT_RECF_HDR_LEN) {
		snprintf(err, errlen, "%s: truncated file header", r->name);
		return -1;
	}
	v = rd32(h + 8);
	fl = rd32(h + 12);
	if (v > BT_RECF_VERSION) {
		snprintf(err, errlen,
			 "%s: recording format version %u is newer than this boundtrace reads (%u); upgrade boundtrace",
			 r->name, v, BT_RECF_VERSION);
		return -1;
	}
	if (v == 0) {
		snprintf(err, errlen, "%s: bad recording format version 0", r->name);
		return -1;
	}
	if (fl & BT_RECF_FLAGS_INCOMPAT & ~BT_RECF_FLAGS_KNOWN) {
		snprintf(err, errlen,
			 "%s: recording uses format features this boundtrace does not know (flags 0x%08x); upgrade boundtrace",
			 r->name, fl);
		return -1;
	}
	*version = v;
	*flags = fl;
	return 0;
}

static enum bt_recf_next blk_error(const struct bt_recf_reader *r, uint64_t off,
				   char *err, size_t errlen, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: corrupt block %u at offset %llu: %s", r->name,
		 r->nblocks, (unsigned long long)off, why);
	return BT_RECF_ERROR;
}

/* Inflates exactly ulen bytes from clen: no more (a bomb stops), no fewer. */
static bool inflate_exact(const uint8_t *src, size_t clen, uint8_t *dst, size_t ulen)
{
	z_stream zs;
	int ret;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit(&zs) != Z_OK)
		return false;
	zs.next_in = (Bytef *)src;
	zs.avail_in = clen;
	zs.next_out = dst;
	zs.avail_out = ulen;
	ret = inflate(&zs, Z_FINISH);
	inflateEnd(&zs);
	return ret == Z_STREAM_END && zs.avail_in == 0 && zs.avail_out == 0;
}

enum bt_recf_next bt_recf_next(struct bt_recf_reader *r, struct bt_recf_block *blk,
			       char *err, size_t errlen)
{
	uint64_t off = r->off;
	uint8_t frame[BT_RECF_FRAME_LEN];
	uint32_t type, clen, ulen, crc;
	const uint8_t *p;
	ssize_t n;

	n = src_take(r, BT_RECF_FRAME_LEN, &p);
	if (n < 0)
		goto io_error;
	if (n == 0)
		return BT_RECF_EOF;
	if (n < BT_RECF_FRAME_LEN)
		return BT_RECF_CUT;
	memcpy(frame, p, sizeof(frame));
	type = rd32(frame);
	clen = rd32(frame + 4);
	ulen = rd32(frame + 8);
	crc = rd32(frame + 12);
	if (ulen > BT_RECF_MAX_BLOCK)
		return blk_error(r, off, err, errlen, "size %u over the %u MiB limit",
				 ulen, BT_RECF_MAX_BLOCK >> 20);
	if (clen > compressBound(BT_RECF_MAX_BLOCK) ||
	    ulen > (uint64_t)clen * BT_RECF_MAX_RATIO)
		return blk_error(r, off, err, errlen, "impossible sizes %u -> %u", clen, ulen);
	n = src_take(r, clen, &p);
	if (n < 0)
		goto io_error;
	if (n < clen)
		return BT_RECF_CUT;
	if (!room(&r->ubuf, &r->ucap, ulen)) {
		snprintf(err, errlen, "%s: out of memory", r->name);
		return BT_RECF_ERROR;
	}
	if (!inflate_exact(p, clen, r->ubuf, ulen))
		return blk_error(r, off, err, errlen, "bad compressed data");
	if ((uint32_t)crc32(crc32(0, frame, 12), r->ubuf, ulen) != crc)
		return blk_error(r, off, err, errlen, "checksum mismatch");
	blk->type = type;
	blk->index = r->nblocks++;
	blk->offset = off;
	blk->data = r->ubuf;
	blk->len = ulen;
	return BT_RECF_BLOCK;

io_error:
	snprintf(err, errlen, "%s: %s", r->name, strerror(errno));
	return BT_RECF_ERROR;
}

/* n bytes of the input at off, without moving the reader: n, fewer at the end, -1. */
static ssize_t src_peek(const struct bt_recf_reader *r, uint64_t off, void *buf, size_t n)
{
	size_t got = 0;

	if (r->fd < 0) {
		size_t left = off < r->memlen ? r->memlen - off : 0;

		got = n < left ? n : left;
		if (got)
			memcpy(buf, r->mem + off, got);
		return got;
	}
	while (got < n) {
		ssize_t k = read_once(r->fd, (uint8_t *)buf + got, n - got, (int64_t)(off + got));

		if (k < 0)
			return -1;
		if (!k)
			return got;
		got += k;
	}
	return got;
}

long bt_recf_count_blocks(const struct bt_recf_reader *r, uint32_t type, uint32_t stop)
{
	uint64_t off = BT_RECF_HDR_LEN;
	uint8_t frame[BT_RECF_FRAME_LEN], last;
	long n = 0;

	for (;;) {
		ssize_t k = src_peek(r, off, frame, sizeof(frame));
		uint32_t t, clen, ulen;

		if (k < 0)
			return -1;
		if (k < (ssize_t)sizeof(frame))
			return n;
		t = rd32(frame);
		clen = rd32(frame + 4);
		ulen = rd32(frame + 8);
		if (t == stop || ulen > BT_RECF_MAX_BLOCK || clen > compressBound(BT_RECF_MAX_BLOCK) ||
		    ulen > (uint64_t)clen * BT_RECF_MAX_RATIO)
			return n;
		off += sizeof(frame) + clen;
		/* The block's last byte must be there: a cut block is no block. */
		k = clen ? src_peek(r, off - 1, &last, 1) : 1;
		if (k < 0)
			return -1;
		if (k < 1)
			return n;
		n += t == type;
	}
}

/* ---- payload cursor ------------------------------------------------- */

void bt_recf_cur_init(struct bt_recf_cur *c, const void *p, size_t len)
{
	c->p = p;
	c->len = p ? len : 0;
	c->off = 0;
	c->bad = false;
}

size_t bt_recf_left(const struct bt_recf_cur *c)
{
	return c->len - c->off;
}

void bt_recf_get_bytes(struct bt_recf_cur *c, void *dst, size_t n)
{
	if (n > bt_recf_left(c)) {
		c->bad = true;
		c->off = c->len;
		if (dst)
			memset(dst, 0, n);
		return;
	}
	if (dst && n)
		memcpy(dst, c->p + c->off, n);
	c->off += n;
}

uint64_t bt_recf_get_le(struct bt_recf_cur *c, int n)
{
	uint8_t tmp[8];
	uint64_t v = 0;

	bt_recf_get_bytes(c, tmp, n);
	for (int i = n; i-- > 0;)
		v = v << 8 | tmp[i];
	return v;
}

uint8_t bt_recf_get_u8(struct bt_recf_cur *c)
{
	return bt_recf_get_le(c, 1);
}

uint16_t bt_recf_get_u16(struct bt_recf_cur *c)
{
	return bt_recf_get_le(c, 2);
}

uint32_t bt_recf_get_u32(struct bt_recf_cur *c)
{
	return bt_recf_get_le(c, 4);
}

uint64_t bt_recf_get_u64(struct bt_recf_cur *c)
{
	return bt_recf_get_le(c, 8);
}

void bt_recf_get_str(struct bt_recf_cur *c, char *buf, size_t size)
{
	uint32_t n = bt_recf_get_u32(c);
	size_t keep = size ? (n < size - 1 ? n : size - 1) : 0;

	if (n > bt_recf_left(c)) {
		c->bad = true;
		c->off = c->len;
		keep = 0;
	} else {
		bt_recf_get_bytes(c, buf, keep);
		bt_recf_get_bytes(c, NULL, n - keep);
	}
	if (size)
		buf[keep] = 0;
}
