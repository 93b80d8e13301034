// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The model in and out of a recording; the payloads are described in record.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "channel.h"
#include "outfile.h"
#include "recfile.h"
#include "record.h"

/* Blocks are cut near here: big enough to compress well, small to hold. */
#define REC_CHUNK	(1u << 20)
/* What a reader accepts for the row layout: log2 slots of a u64, a path. */
#define REC_MAX_HIST	64
#define REC_MAX_PATH	4096

#define PROC_MIN_LEN	(4 + 8 + 1 + 4 + 4)
#define KEY_LEN		(4 + 1 + 1 + 8 + 8)
#define INFO_LEN	(1 + 1 + 2 + 2 + 16 + 16 + 8)

static uint64_t row_min_len(uint32_t hist_slots, uint32_t path_len)
{
	return 4 + KEY_LEN + 6 * 8 + 16ull * hist_slots + 1 + INFO_LEN + path_len;
}

static bool grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return true;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	if (ncap > SIZE_MAX / elem)
		return false;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

/* ---- info ----------------------------------------------------------- */

static bool plain_arg(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("@%+=:,./_-", *s))
			return false;
	return true;
}

static void append(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	if (*len + 1 >= size)
		return;
	if (n > size - 1 - *len)
		n = size - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = 0;
}

/* The arguments as a shell would need them typed again. */
static void join_args(char *buf, size_t size, int argc, char *const argv[])
{
	size_t len = 0;

	buf[0] = 0;
	for (int i = 0; argv && i < argc && argv[i]; i++) {
		const char *a = argv[i];

		if (i)
			append(buf, size, &len, " ", 1);
		if (plain_arg(a)) {
			append(buf, size, &len, a, strlen(a));
			continue;
		}
		append(buf, size, &len, "'", 1);
		for (; *a; a++) {
			if (*a == '\'')
				append(buf, size, &len, "'\\''", 4);
			else
				append(buf, size, &len, a, 1);
		}
		append(buf, size, &len, "'", 1);
	}
}

void bt_rec_info_init(struct bt_rec_info *info, const char *version, int argc,
		      char *const argv[])
{
	struct timespec ts;
	struct utsname u;

	memset(info, 0, sizeof(*info));
	snprintf(info->version, sizeof(info->version), "%s", version ? version : "");
	if (!uname(&u))
		snprintf(info->kernel, sizeof(info->kernel), "%s", u.release);
	/* gethostname() need not terminate a name it cut. */
	if (gethostname(info->host, sizeof(info->host) - 1))
		info->host[0] = 0;
	if (!clock_gettime(CLOCK_REALTIME, &ts))
		info->start_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	join_args(info->options, sizeof(info->options), argc, argv);
}

/* ---- writing -------------------------------------------------------- */

struct bt_rec_writer {
	FILE *f;
	char *path;
	struct bt_recf_buf buf;
	int error;		/* first errno; nothing is written after it */
};

static int writer_error(const struct bt_rec_writer *w, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: write failed: %s", w->path, strerror(w->error));
	return -1;
}

/* Writes the buffer as one block and empties it. */
static void put_block(struct bt_rec_writer *w, uint32_t type)
{
	if (!w->error && w->buf.oom)
		w->error = ENOMEM;
	if (!w->error) {
		errno = 0;
		if (bt_recf_write_block(w->f, type, w->buf.p, w->buf.len))
			w->error = errno ? errno : EIO;
	}
	w->buf.len = 0;
}

static void put_info(struct bt_recf_buf *b, const struct bt_rec_info *info)
{
	static const struct bt_rec_info none;

	if (!info)
		info = &none;
	bt_recf_put_str(b, info->version, sizeof(info->version));
	bt_recf_put_str(b, info->kernel, sizeof(info->kernel));
	bt_recf_put_str(b, info->host, sizeof(info->host));
	bt_recf_put_u64(b, info->start_ns);
	bt_recf_put_str(b, info->options, sizeof(info->options));
}

static void put_proc(struct bt_recf_buf *b, const struct bt_proc *p)
{
	size_t at = b->len;

	bt_recf_put_u32(b, 0);		/* record length, known at the end */
	bt_recf_put_u32(b, p->pid);
	bt_recf_put_u64(b, p->start_ns);
	bt_recf_put_u8(b, p->exited ? 1 : 0);
	bt_recf_put_u32(b, (uint32_t)p->exit_code);
	bt_recf_put_str(b, p->comm, sizeof(p->comm));
	bt_recf_patch_u32(b, at, b->len - at - 4);
}

static void put_stats(struct bt_recf_buf *b, const struct bt_stats *s)
{
	bt_recf_put_u64(b, s->calls);
	bt_recf_put_u64(b, s->bytes);
	bt_recf_put_u64(b, s->errors);
	bt_recf_put_u64(b, s->woken);
	bt_recf_put_u64(b, s->blocked_ns);
	bt_recf_put_u64(b, s->max_blocked_ns);
	for (int i = 0; i < BT_HIST_SLOTS; i++)
		bt_recf_put_u64(b, s->size_hist[i]);
	for (int i = 0; i < BT_HIST_SLOTS; i++)
		bt_recf_put_u64(b, s->blocked_hist[i]);
}

static void put_chan_info(struct bt_recf_buf *b, const struct bt_chan_info *ci)
{
	bt_recf_put_u8(b, ci->kind);
	bt_recf_put_u8(b, ci->family);
	bt_recf_put_u16(b, ci->lport);
	bt_recf_put_u16(b, ci->rport);
	bt_recf_put_bytes(b, ci->laddr, sizeof(ci->laddr));
	bt_recf_put_bytes(b, ci->raddr, sizeof(ci->raddr));
	bt_recf_put_u64(b, ci->peer_ino);
	bt_recf_put_bytes(b, ci->path, sizeof(ci->path));
}

static void put_row(struct bt_recf_buf *b, uint32_t proc, const struct bt_row *r)
{
	static const struct bt_chan_info no_info;
	size_t at = b->len;

	bt_recf_put_u32(b, 0);
	bt_recf_put_u32(b, proc);
	bt_recf_put_u32(b, r->key.tgid);
	bt_recf_put_u8(b, r->key.kind);
	bt_recf_put_u8(b, r->key.dir);
	bt_recf_put_u64(b, r->key.chan);
	bt_recf_put_u64(b, r->key.peer);
	put_stats(b, &r->st);
	bt_recf_put_u8(b, r->has_info ? 1 : 0);
	put_chan_info(b, r->has_info ? &r->info : &no_info);
	bt_recf_patch_u32(b, at, b->len - at - 4);
}

static void put_procs(struct bt_rec_writer *w, const struct bt_model *m)
{
	size_t i = 0;

	do {
		uint32_t n = 0;

		bt_recf_put_u32(&w->buf, 0);
		for (; i < m->nprocs && w->buf.len < REC_CHUNK; i++, n++)
			put_proc(&w->buf, &m->procs[i]);
		bt_recf_patch_u32(&w->buf, 0, n);
		put_block(w, BT_REC_PROCESS);
	} while (i < m->nprocs && !w->error);
}

static void put_rows(struct bt_rec_writer *w, const struct bt_model *m)
{
	size_t pi = 0, ri = 0;

	do {
		uint32_t n = 0;

		bt_recf_put_u32(&w->buf, 0);
		bt_recf_put_u32(&w->buf, BT_HIST_SLOTS);
		bt_recf_put_u32(&w->buf, BT_PATH_LEN);
		while (pi < m->nprocs && w->buf.len < REC_CHUNK) {
			if (ri == m->procs[pi].nrows) {
				pi++;
				ri = 0;
				continue;
			}
			put_row(&w->buf, pi, &m->procs[pi].rows[ri++]);
			n++;
		}
		bt_recf_patch_u32(&w->buf, 0, n);
		put_block(w, BT_REC_ROWS);
	} while (pi < m->nprocs && !w->error);
}

static void close_file(struct bt_rec_writer *w, char *err, size_t errlen)
{
	char cerr[256];

	if (!bt_close_output(w->f, cerr, sizeof(cerr)) && !w->error) {
		w->error = EIO;
		snprintf(err, errlen, "%s: %s", w->path, cerr);
	}
}

static void free_writer(struct bt_rec_writer *w)
{
	bt_recf_buf_free(&w->buf);
	free(w->path);
	free(w);
}

struct bt_rec_writer *bt_rec_open(const char *path, bool force, const struct bt_rec_info *info,
				  char *err, size_t errlen)
{
	struct bt_rec_writer *w;
	FILE *f;

	f = bt_open_output(path, force, err, errlen);
	if (!f)
		return NULL;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path))) {
		snprintf(err, errlen, "%s: out of memory", path);
		bt_close_output(f, err, 0);
		free(w);
		return NULL;
	}
	w->f = f;
	errno = 0;
	if (bt_recf_write_header(f, 0))
		w->error = errno ? errno : EIO;
	put_info(&w->buf, info);
	put_block(w, BT_REC_HEADER_INFO);
	if (!w->error && fflush(f))
		w->error = errno;
	if (w->error) {
		writer_error(w, err, errlen);
		bt_close_output(f, NULL, 0);
		free_writer(w);
		return NULL;
	}
	return w;
}

int bt_rec_write_model(struct bt_rec_writer *w, const struct bt_model *m,
		       char *err, size_t errlen)
{
	if (w->error)
		return writer_error(w, err, errlen);
	put_procs(w, m);
	put_rows(w, m);
	bt_recf_put_u32(&w->buf, BT_LOSS_MAX);
	for (int l = 0; l < BT_LOSS_MAX; l++)
		bt_recf_put_u64(&w->buf, m->lost[l]);
	put_block(w, BT_REC_LOST);
	bt_recf_put_u64(&w->buf, m->duration_ns);
	put_block(w, BT_REC_DURATION);
	/* In the kernel's hands, the snapshot outlives a kill -9 of this process. */
	if (!w->error && fflush(w->f))
		w->error = errno;
	return w->error ? writer_error(w, err, errlen) : 0;
}

int bt_rec_close(struct bt_rec_writer *w, char *err, size_t errlen)
{
	struct stat st;
	int ret = 0;

	put_block(w, BT_REC_END);
	if (!w->error && fflush(w->f))
		w->error = errno;
	/* Only a regular file can be synced; a pipe or /dev/null has nothing to keep. */
	if (!w->error && !fstat(fileno(w->f), &st) && S_ISREG(st.st_mode) &&
	    fsync(fileno(w->f)))
		w->error = errno;
	if (w->error)
		ret = writer_error(w, err, errlen);
	close_file(w, err, errlen);
	if (w->error)
		ret = -1;
	free_writer(w);
	return ret;
}

/* ---- reading -------------------------------------------------------- */

/* The rows of the snapshot being read, by (process, key): repeats are summed. */
struct row_index {
	uint64_t *slot;		/* (process + 1) << 32 | row; 0 empty */
	size_t size, used;
	uint64_t seed;		/* random: a file cannot aim its keys at one slot */
};

struct rd {
	const char *name;
	char *err;
	size_t errlen;
	const struct bt_recf_block *blk;
	struct bt_rec_info info;
	struct bt_rec_status st;
	struct bt_model snap;		/* being read */
	struct bt_model last;		/* last complete snapshot */
	struct row_index idx;
	uint64_t snap_bytes;
	size_t snap_rows;
	bool snap_open;			/* blocks staged since the last commit */
	bool have_info;
};

static const char *block_name(uint32_t type)
{
	switch (type) {
	case BT_REC_HEADER_INFO:
		return "header info";
	case BT_REC_PROCESS:
		return "process";
	case BT_REC_ROWS:
		return "rows";
	case BT_REC_LOST:
		return "lost";
	case BT_REC_DURATION:
		return "duration";
	case BT_REC_END:
		return "end";
	}
	return "unknown";
}

static int bad(struct rd *rd, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->errlen, "%s: corrupt %s block %u at offset %llu: %s", rd->name,
		 block_name(rd->blk->type), rd->blk->index,
		 (unsigned long long)rd->blk->offset, why);
	return -1;
}

static int no_memory(struct rd *rd)
{
	snprintf(rd->err, rd->errlen, "%s: out of memory", rd->name);
	return -1;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t row_hash(const struct row_index *x, uint32_t proc, const struct bt_key *k)
{
	uint64_t h = mix64(x->seed ^ ((uint64_t)proc << 16 | k->kind << 8 | k->dir));

	h = mix64(h ^ k->chan);
	return mix64(h ^ k->peer);
}

/* As bt_model_add compares rows within a process. */
static bool same_key(const struct bt_key *a, const struct bt_key *b)
{
	return a->kind == b->kind && a->dir == b->dir && a->chan == b->chan &&
	       a->peer == b->peer;
}

static struct bt_row *entry_row(struct rd *rd, uint64_t v)
{
	return &rd->snap.procs[(v >> 32) - 1].rows[(uint32_t)v];
}

/* The slot holding (proc, k), or the empty one where it belongs. */
static uint64_t *idx_slot(struct rd *rd, uint32_t proc, const struct bt_key *k)
{
	struct row_index *x = &rd->idx;
	size_t mask = x->size - 1;

	for (size_t i = row_hash(x, proc, k) & mask;; i = (i + 1) & mask) {
		uint64_t v = x->slot[i];

		if (!v || ((v >> 32) - 1 == proc && same_key(&entry_row(rd, v)->key, k)))
			return &x->slot[i];
	}
}

/* Keeps the table at most half full, rebuilding it from the rows. */
static bool idx_room(struct rd *rd)
{
	struct row_index *x = &rd->idx;
	size_t nsize = x->size ? x->size * 2 : 1024;

	if ((x->used + 1) * 2 <= x->size)
		return true;
	free(x->slot);
	x->slot = calloc(nsize, sizeof(*x->slot));
	x->size = x->slot ? nsize : 0;
	if (!x->slot)
		return false;
	for (size_t p = 0; p < rd->snap.nprocs; p++) {
		for (size_t r = 0; r < rd->snap.procs[p].nrows; r++)
			*idx_slot(rd, p, &rd->snap.procs[p].rows[r].key) =
				(uint64_t)(p + 1) << 32 | r;
	}
	return true;
}

static int add_row(struct rd *rd, uint32_t proc, const struct bt_key *k,
		   const struct bt_stats *s, const struct bt_chan_info *ci)
{
	struct bt_proc *p = &rd->snap.procs[proc];
	uint64_t *slot;
	struct bt_row *r;

	if (!idx_room(rd))
		return no_memory(rd);
	slot = idx_slot(rd, proc, k);
	if (*slot) {
		/* As bt_model_add does: a model never holds one key twice. */
		bt_stats_add(&entry_row(rd, *slot)->st, s);
		return 0;
	}
	if (rd->snap_rows >= BT_REC_MAX_ROWS)
		return bad(rd, "more than %u rows in a snapshot", BT_REC_MAX_ROWS);
	if (!grow((void **)&p->rows, &p->cap, p->nrows + 1, sizeof(*p->rows)))
		return no_memory(rd);
	r = &p->rows[p->nrows];
	memset(r, 0, sizeof(*r));
	r->key = *k;
	r->st = *s;
	if (ci) {
		r->info = *ci;
		r->has_info = true;
	}
	/* The channel is named by the code bt_model_add uses, so it reads as it did live. */
	bt_channel_format(&r->key, ci ? &r->info : NULL, r->channel, sizeof(r->channel));
	*slot = (uint64_t)(proc + 1) << 32 | p->nrows;
	p->nrows++;
	rd->idx.used++;
	rd->snap_rows++;
	return 0;
}

/*
 * Opens the next record of a list: its length must fit what is left,
 * and hold at least min bytes of fields.
 */
static int next_record(struct rd *rd, struct bt_recf_cur *c, struct bt_recf_cur *rec,
		       uint64_t min)
{
	uint32_t len = bt_recf_get_u32(c);

	if (c->bad || len > bt_recf_left(c))
		return bad(rd, "record longer than the payload");
	if (len < min)
		return bad(rd, "record shorter than its fields");
	bt_recf_cur_init(rec, c->p + c->off, len);
	bt_recf_get_bytes(c, NULL, len);
	return 0;
}

static int read_info(struct rd *rd, struct bt_recf_cur *c)
{
	struct bt_rec_info *in = &rd->info;

	if (rd->have_info)
		return bad(rd, "a second header");
	bt_recf_get_str(c, in->version, sizeof(in->version));
	bt_recf_get_str(c, in->kernel, sizeof(in->kernel));
	bt_recf_get_str(c, in->host, sizeof(in->host));
	in->start_ns = bt_recf_get_u64(c);
	bt_recf_get_str(c, in->options, sizeof(in->options));
	if (c->bad)
		return bad(rd, "shorter than its fields");
	rd->have_info = true;
	return 0;
}

/* Not bt_model_proc: after pid reuse one pid is two processes, each with its rows. */
static struct bt_proc *append_proc(struct bt_model *m, uint32_t pid)
{
	struct bt_proc *p;

	if (!grow((void **)&m->procs, &m->cap, m->nprocs + 1, sizeof(*m->procs)))
		return NULL;
	p = &m->procs[m->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	return p;
}

static int read_procs(struct rd *rd, struct bt_recf_cur *c)
{
	uint32_t n = bt_recf_get_u32(c);

	if (c->bad || n > bt_recf_left(c) / (4 + PROC_MIN_LEN))
		return bad(rd, "count %u larger than the payload", n);
	for (uint32_t i = 0; i < n; i++) {
		struct bt_recf_cur rec;
		struct bt_proc *p;
		uint32_t pid;

		if (next_record(rd, c, &rec, PROC_MIN_LEN))
			return -1;
		if (rd->snap.nprocs >= BT_REC_MAX_PROCS)
			return bad(rd, "more than %u processes in a snapshot", BT_REC_MAX_PROCS);
		pid = bt_recf_get_u32(&rec);
		p = append_proc(&rd->snap, pid);
		if (!p)
			return no_memory(rd);
		p->start_ns = bt_recf_get_u64(&rec);
		p->exited = bt_recf_get_u8(&rec) & 1;
		p->exit_code = (int32_t)bt_recf_get_u32(&rec);
		bt_recf_get_str(&rec, p->comm, sizeof(p->comm));
		if (rec.bad)
			return bad(rd, "process record shorter than its fields");
	}
	return 0;
}

/* A newer writer's extra slots hold bigger values: they go to the top slot. */
static void get_hist(struct bt_recf_cur *c, __u64 *hist, uint32_t slots)
{
	for (uint32_t i = 0; i < slots; i++)
		hist[i < BT_HIST_SLOTS ? i : BT_HIST_SLOTS - 1] += bt_recf_get_u64(c);
}

static void get_stats(struct bt_recf_cur *c, struct bt_stats *s, uint32_t slots)
{
	memset(s, 0, sizeof(*s));
	s->calls = bt_recf_get_u64(c);
	s->bytes = bt_recf_get_u64(c);
	s->errors = bt_recf_get_u64(c);
	s->woken = bt_recf_get_u64(c);
	s->blocked_ns = bt_recf_get_u64(c);
	s->max_blocked_ns = bt_recf_get_u64(c);
	get_hist(c, s->size_hist, slots);
	get_hist(c, s->blocked_hist, slots);
}

static void get_chan_info(struct bt_recf_cur *c, struct bt_chan_info *ci, uint32_t path_len)
{
	size_t keep = path_len < BT_PATH_LEN ? path_len : BT_PATH_LEN - 1;

	memset(ci, 0, sizeof(*ci));
	ci->kind = bt_recf_get_u8(c);
	ci->family = bt_recf_get_u8(c);
	ci->lport = bt_recf_get_u16(c);
	ci->rport = bt_recf_get_u16(c);
	bt_recf_get_bytes(c, ci->laddr, sizeof(ci->laddr));
	bt_recf_get_bytes(c, ci->raddr, sizeof(ci->raddr));
	ci->peer_ino = bt_recf_get_u64(c);
	/* Always terminated, as the kernel leaves it: exporters print it as a string. */
	bt_recf_get_bytes(c, ci->path, keep);
	bt_recf_get_bytes(c, NULL, path_len - keep);
}

static int read_row(struct rd *rd, struct bt_recf_cur *rec, uint32_t slots, uint32_t path_len)
{
	struct bt_chan_info ci;
	struct bt_stats s;
	struct bt_key k;
	uint32_t proc;
	bool has_info;

	memset(&k, 0, sizeof(k));
	proc = bt_recf_get_u32(rec);
	k.tgid = bt_recf_get_u32(rec);
	k.kind = bt_recf_get_u8(rec);
	k.dir = bt_recf_get_u8(rec);
	k.chan = bt_recf_get_u64(rec);
	k.peer = bt_recf_get_u64(rec);
	get_stats(rec, &s, slots);
	has_info = bt_recf_get_u8(rec) & 1;
	get_chan_info(rec, &ci, path_len);
	if (rec->bad)
		return bad(rd, "row record shorter than its fields");
	if (proc >= rd->snap.nprocs)
		return bad(rd, "row of process #%u, but the snapshot has %zu", proc,
			   rd->snap.nprocs);
	if (k.tgid != rd->snap.procs[proc].pid)
		return bad(rd, "row of pid %u filed under pid %u", k.tgid,
			   rd->snap.procs[proc].pid);
	return add_row(rd, proc, &k, &s, has_info ? &ci : NULL);
}

static int read_rows(struct rd *rd, struct bt_recf_cur *c)
{
	uint32_t n = bt_recf_get_u32(c);
	uint32_t slots = bt_recf_get_u32(c);
	uint32_t path_len = bt_recf_get_u32(c);
	uint64_t min;

	if (c->bad)
		return bad(rd, "shorter than its fields");
	if (slots > REC_MAX_HIST || path_len > REC_MAX_PATH)
		return bad(rd, "row layout of %u slots and %u path bytes", slots, path_len);
	min = row_min_len(slots, path_len);
	if (n > bt_recf_left(c) / (4 + min))
		return bad(rd, "count %u larger than the payload", n);
	for (uint32_t i = 0; i < n; i++) {
		struct bt_recf_cur rec;

		if (next_record(rd, c, &rec, min) || read_row(rd, &rec, slots, path_len))
			return -1;
	}
	return 0;
}

static int read_lost(struct rd *rd, struct bt_recf_cur *c)
{
	uint32_t n = bt_recf_get_u32(c);

	if (c->bad || n > bt_recf_left(c) / 8)
		return bad(rd, "count %u larger than the payload", n);
	/* Counters a newer boundtrace added have no name here. */
	for (uint32_t i = 0; i < n; i++) {
		uint64_t v = bt_recf_get_u64(c);

		if (i < BT_LOSS_MAX)
			rd->snap.lost[i] = v;
	}
	return 0;
}

static void reset_snapshot(struct rd *rd)
{
	bt_model_init(&rd->snap);
	/*
	 * Dropped, not cleared: clearing a table sized for a big snapshot at
	 * every one of a thousand tiny ones after it would cost more than
	 * reading them. It regrows with the rows, amortized.
	 */
	free(rd->idx.slot);
	rd->idx.slot = NULL;
	rd->idx.size = 0;
	rd->idx.used = 0;
	rd->snap_rows = 0;
	rd->snap_bytes = 0;
	rd->snap_open = false;
}

/* DURATION: the staged snapshot becomes the model. */
static int commit(struct rd *rd, struct bt_recf_cur *c)
{
	uint64_t d = bt_recf_get_u64(c);

	if (c->bad)
		return bad(rd, "shorter than its fields");
	rd->snap.duration_ns = d;
	bt_model_free(&rd->last);
	rd->last = rd->snap;
	reset_snapshot(rd);
	rd->st.snapshots++;
	return 0;
}

static int stage(struct rd *rd, struct bt_recf_cur *c, uint32_t type)
{
	rd->snap_open = true;
	rd->snap_bytes += c->len;
	if (rd->snap_bytes > BT_REC_MAX_SNAPSHOT)
		return bad(rd, "snapshot over %llu GiB", BT_REC_MAX_SNAPSHOT >> 30);
	if (type == BT_REC_PROCESS)
		return read_procs(rd, c);
	if (type == BT_REC_ROWS)
		return read_rows(rd, c);
	return read_lost(rd, c);
}

/* One block: 1 at END, 0 to go on, -1 on error. */
static int read_block(struct rd *rd, const struct bt_recf_block *blk)
{
	struct bt_recf_cur c;

	rd->blk = blk;
	bt_recf_cur_init(&c, blk->data, blk->len);
	if (blk->index == 0 && blk->type != BT_REC_HEADER_INFO) {
		snprintf(rd->err, rd->errlen, "%s: corrupt: the first block is not the header",
			 rd->name);
		return -1;
	}
	switch (blk->type) {
	case BT_REC_HEADER_INFO:
		return read_info(rd, &c);
	case BT_REC_PROCESS:
	case BT_REC_ROWS:
	case BT_REC_LOST:
		return stage(rd, &c, blk->type);
	case BT_REC_DURATION:
		return commit(rd, &c);
	case BT_REC_END:
		return 1;
	}
	if (blk->type & BT_RECF_CRITICAL) {
		snprintf(rd->err, rd->errlen,
			 "%s: block %u at offset %llu has type 0x%08x, which this boundtrace cannot skip; upgrade boundtrace",
			 rd->name, blk->index, (unsigned long long)blk->offset, blk->type);
		return -1;
	}
	rd->st.skipped++;
	return 0;
}

static int read_recording(struct bt_recf_reader *r, struct rd *rd)
{
	struct bt_recf_block blk;
	uint32_t version, flags;

	if (bt_recf_read_header(r, &version, &flags, rd->err, rd->errlen))
		return -1;
	rd->st.version = version;
	rd->st.flags = flags;
	for (;;) {
		enum bt_recf_next nx = bt_recf_next(r, &blk, rd->err, rd->errlen);
		int ret;

		if (nx == BT_RECF_ERROR)
			return -1;
		if (nx != BT_RECF_BLOCK) {
			rd->st.truncated = true;
			return 0;
		}
		ret = read_block(rd, &blk);
		if (ret)
			return ret < 0 ? -1 : 0;
	}
}

static int read_common(struct bt_recf_reader *r, struct bt_model *m, struct bt_rec_info *info,
		       struct bt_rec_status *st, char *err, size_t errlen)
{
	struct rd *rd = calloc(1, sizeof(*rd));
	int ret;

	if (!rd) {
		snprintf(err, errlen, "%s: out of memory", r->name);
		return -1;
	}
	rd->name = r->name;
	rd->err = err;
	rd->errlen = errlen;
	bt_model_init(&rd->snap);
	bt_model_init(&rd->last);
	if (getrandom(&rd->idx.seed, sizeof(rd->idx.seed), GRND_NONBLOCK) != sizeof(rd->idx.seed))
		rd->idx.seed = (uintptr_t)rd ^ (uint64_t)time(NULL);
	ret = read_recording(r, rd);
	rd->st.partial = rd->snap_open;
	rd->st.bytes = r->off;
	bt_model_free(&rd->snap);
	free(rd->idx.slot);
	if (ret == 0) {
		bt_model_free(m);
		*m = rd->last;
		if (info)
			*info = rd->info;
		if (st)
			*st = rd->st;
	} else {
		bt_model_free(&rd->last);
	}
	free(rd);
	return ret;
}

int bt_rec_read_mem(const void *buf, size_t len, const char *name, struct bt_model *m,
		    struct bt_rec_info *info, struct bt_rec_status *st,
		    char *err, size_t errlen)
{
	struct bt_recf_reader r;
	int ret;

	bt_recf_reader_mem(&r, buf, len, name);
	ret = read_common(&r, m, info, st, err, errlen);
	bt_recf_reader_free(&r);
	return ret;
}

int bt_rec_read(const char *path, struct bt_model *m, struct bt_rec_info *info,
		struct bt_rec_status *st, char *err, size_t errlen)
{
	struct bt_recf_reader r;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	bt_recf_reader_fd(&r, fd, path);
	ret = read_common(&r, m, info, st, err, errlen);
	bt_recf_reader_free(&r);
	close(fd);
	return ret;
}
