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
#include "model/channel.h"
#include "analyze/flame.h"
#include "lib/outfile.h"
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
/* EPISODES and STACKS flags. */
#define MODE_ON		0x1

static uint64_t row_min_len(uint32_t hist_slots, uint32_t path_len)
{
	return 4 + KEY_LEN + 6 * 8 + 16ull * hist_slots + 1 + INFO_LEN + path_len;
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

/* ---- the lists ------------------------------------------------------ */

/*
 * The lists of a model besides its processes and rows, in the order they
 * are written: blocks of records of fixed fields (a stack adds its string).
 */
enum { L_WAKES, L_HOLDERS, L_SOCKS, L_EPISODES, L_STACKROWS, L_WAKESTACKS, L_STACKS,
       L_FUTEXLINKS, L_MAX };

#define LIST_KEY_MAX	64
#define LIST_KEY_PARTS	3

/* A field of an element: in a record a little-endian integer of len bytes, or raw bytes. */
struct field {
	uint16_t off, len;
	bool raw;
};

#define FIELD(type, f)	{ offsetof(type, f), sizeof(((type *)0)->f), false }
#define RAW(type, f)	{ offsetof(type, f), sizeof(((type *)0)->f), true }

struct list_kind {
	uint32_t type;		/* of its blocks */
	const char *what, *one;	/* for messages: the list, one of its records */
	size_t size;		/* of an element */
	uint32_t max;		/* elements in a snapshot */
	size_t arr, n, cap;	/* where the model keeps the list: offsets in it */
	const struct field *rec;	/* a record's fields, in order, up to one of length 0 */
	/* Its identity: these fields, in order (at most LIST_KEY_MAX bytes); none: a log. */
	struct field key[LIST_KEY_PARTS];
	/* Folds e into have, the element with its key, as the model's adder does. */
	void (*merge)(void *have, const void *e);
};

#define F(f)	FIELD(struct bt_wake, f)
static const struct field wake_rec[] = {
	F(key.waker), F(key.wakee), F(key.kind), F(key.dir), F(key.chan), F(key.peer), F(count),
	{ 0 },
};
#undef F

#define F(f)	FIELD(struct bt_holder, f)
static const struct field holder_rec[] = { F(ino), F(pid), F(type), F(mode), { 0 } };
#undef F

#define F(f)	FIELD(struct bt_sockfact, f)
static const struct field sock_rec[] = {
	F(ino), F(peer_ino), F(proto), F(family), F(lport), F(rport),
	RAW(struct bt_sockfact, laddr), RAW(struct bt_sockfact, raddr), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_futex_link, f)
static const struct field futexlink_rec[] = {
	F(key.waker), F(key.wakee), F(key.waker_addr), F(key.wakee_addr), F(count), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_episode_ev, f)
static const struct field episode_rec[] = {
	F(pid), F(tid), F(kind), F(dir), F(waker_pid), F(chan), F(peer), F(start_ns), F(end_ns),
	F(wake_ns), F(waker_tid), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_stackrow, f)
static const struct field stackrow_rec[] = {
	F(key.tgid), F(key.kind), F(key.dir), F(key.chan), F(key.peer), F(key.ustack),
	F(key.kstack), F(key.ucaller), F(calls), F(bytes), F(errors), F(blocked_ns), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_wakestack, f)
static const struct field wakestack_rec[] = {
	F(key.wakee), F(key.waker), F(key.kind), F(key.dir), F(key.wakee_ustack), F(key.chan),
	F(key.peer), F(key.wakee_ucaller), F(key.waker_ustack), F(key.waker_ucaller),
	F(val.count), F(val.blocked_ns), { 0 },
};
#undef F

/* Then the folded string, a u32 length and its bytes. */
#define F(f)	FIELD(struct bt_stack, f)
static const struct field stack_rec[] = { F(pid), F(id), F(caller), { 0 } };
#undef F

static void merge_futexlink(void *have, const void *e)
{
	/* Cumulative counts from the kernel, as bt_model_add_futex_link. */
	((struct bt_futex_link *)have)->count = ((const struct bt_futex_link *)e)->count;
}

static void merge_wake(void *have, const void *e)
{
	/* As bt_model_add_wake. */
	((struct bt_wake *)have)->count += ((const struct bt_wake *)e)->count;
}

static void merge_holder(void *have, const void *e)
{
	/* As bt_model_add_holder. */
	((struct bt_holder *)have)->mode |= ((const struct bt_holder *)e)->mode;
}

static void merge_sock(void *have, const void *e)
{
	/* The newest facts win, as bt_model_add_sockfact. */
	*(struct bt_sockfact *)have = *(const struct bt_sockfact *)e;
}

static void merge_stackrow(void *have, const void *e)
{
	struct bt_stackrow *h = have;
	const struct bt_stackrow *r = e;

	/* As bt_model_add_stackrow. */
	h->calls += r->calls;
	h->bytes += r->bytes;
	h->errors += r->errors;
	h->blocked_ns += r->blocked_ns;
}

static void merge_wakestack(void *have, const void *e)
{
	struct bt_wakestack *h = have;
	const struct bt_wakestack *w = e;

	/* As bt_model_add_wakestack. */
	h->val.count += w->val.count;
	h->val.blocked_ns += w->val.blocked_ns;
}

_Static_assert(sizeof(struct bt_key) <= LIST_KEY_MAX, "stack row key");
_Static_assert(sizeof(struct bt_wakestack_key) <= LIST_KEY_MAX, "waker stack key");
_Static_assert(sizeof(struct bt_wake_key) <= LIST_KEY_MAX, "wake key");

#define LIST(type_, what_, one_, elem, max_, arr_, rec_) \
	.type = type_, .what = what_, .one = one_, .size = sizeof(elem), .max = max_, \
	.arr = offsetof(struct bt_model, arr_), .n = offsetof(struct bt_model, n##arr_), \
	.cap = offsetof(struct bt_model, cap##arr_), .rec = rec_

/*
 * A repeated stack keeps its first string (read_stack); an episode log
 * keeps repeats.
 */
static const struct list_kind list_kinds[L_MAX] = {
	[L_WAKES] = { LIST(BT_REC_WAKES, "wakes", "wake", struct bt_wake, BT_REC_MAX_WAKES,
			   wakes, wake_rec),
		      .key = { FIELD(struct bt_wake, key) }, .merge = merge_wake },
	[L_HOLDERS] = { LIST(BT_REC_HOLDERS, "holders", "holder", struct bt_holder,
			     BT_REC_MAX_HOLDERS, holders, holder_rec),
			.key = { FIELD(struct bt_holder, ino), FIELD(struct bt_holder, pid),
				 FIELD(struct bt_holder, type) },
			.merge = merge_holder },
	[L_SOCKS] = { LIST(BT_REC_SOCKFACTS, "socket facts", "socket fact", struct bt_sockfact,
			   BT_REC_MAX_SOCKS, socks, sock_rec),
		      .key = { FIELD(struct bt_sockfact, ino) }, .merge = merge_sock },
	[L_EPISODES] = { LIST(BT_REC_EPISODES, "episodes", "episode", struct bt_episode_ev,
			      BT_REC_MAX_EPISODES, episodes, episode_rec) },
	[L_STACKROWS] = { LIST(BT_REC_STACKROWS, "stack rows", "stack row", struct bt_stackrow,
			       BT_REC_MAX_STACKROWS, stackrows, stackrow_rec),
			  .key = { FIELD(struct bt_stackrow, key) }, .merge = merge_stackrow },
	[L_WAKESTACKS] = { LIST(BT_REC_WAKESTACKS, "waker stacks", "waker stack",
				struct bt_wakestack, BT_REC_MAX_WAKESTACKS, wakestacks,
				wakestack_rec),
			   .key = { FIELD(struct bt_wakestack, key) }, .merge = merge_wakestack },
	[L_STACKS] = { LIST(BT_REC_STACKS, "stacks", "stack", struct bt_stack, BT_REC_MAX_STACKS,
			    stacks, stack_rec),
		       .key = { FIELD(struct bt_stack, pid), FIELD(struct bt_stack, id),
				FIELD(struct bt_stack, caller) } },
	[L_FUTEXLINKS] = { LIST(BT_REC_FUTEXLINKS, "futex links", "futex link",
				struct bt_futex_link, BT_REC_MAX_FUTEXLINKS, futexlinks,
				futexlink_rec),
			   .key = { FIELD(struct bt_futex_link, key) },
			   .merge = merge_futexlink },
};

/* The bytes of the fields f in a record. */
static uint64_t fields_len(const struct field *f)
{
	uint64_t n = 0;

	for (; f->len; f++)
		n += f->len;
	return n;
}

/* An integer field as the host holds it: 1, 2, 4 or 8 bytes. */
union uint_field {
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
};

static void put_fields(struct bt_recf_buf *b, const struct field *f, const void *e)
{
	for (; f->len; f++) {
		const char *p = (const char *)e + f->off;
		union uint_field v;

		if (f->raw) {
			bt_recf_put_bytes(b, p, f->len);
			continue;
		}
		memcpy(&v, p, f->len);
		bt_recf_put_le(b, f->len == 1 ? v.u8 : f->len == 2 ? v.u16 :
				  f->len == 4 ? v.u32 : v.u64, f->len);
	}
}

static void get_fields(struct bt_recf_cur *c, const struct field *f, void *e)
{
	for (; f->len; f++) {
		char *p = (char *)e + f->off;
		union uint_field v;
		uint64_t x;

		if (f->raw) {
			bt_recf_get_bytes(c, p, f->len);
			continue;
		}
		x = bt_recf_get_le(c, f->len);
		if (f->len == 1)
			v.u8 = x;
		else if (f->len == 2)
			v.u16 = x;
		else if (f->len == 4)
			v.u32 = x;
		else
			v.u64 = x;
		memcpy(p, &v, f->len);
	}
}

/* Writes e's identity to buf; its length. */
static size_t key_of(const struct list_kind *lk, const void *e, uint8_t *buf)
{
	size_t n = 0;

	for (int i = 0; i < LIST_KEY_PARTS && lk->key[i].len; i++) {
		memcpy(buf + n, (const char *)e + lk->key[i].off, lk->key[i].len);
		n += lk->key[i].len;
	}
	return n;
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
	bt_recf_put_str(b, p->exe, sizeof(p->exe));
	bt_recf_put_u8(b, (p->harvested ? PROC_HARVESTED : 0) | (p->target ? PROC_TARGET : 0));
	bt_recf_put_u32(b, (uint32_t)p->hop);
	bt_recf_put_u32(b, p->ppid);
	bt_recf_put_u8(b, p->child ? 1 : 0);
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
	bt_recf_put_u32(b, (uint32_t)r->key.ustack);
	bt_recf_put_u32(b, (uint32_t)r->key.kstack);
	bt_recf_put_u64(b, r->key.ucaller);
	/* The far end as the kernel named it (after the fields older readers know). */
	bt_recf_put_u8(b, r->has_info ? r->info.role : 0);
	bt_recf_put_u32(b, r->has_info ? r->info.peer_tgid : 0);
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

/* EPISODES and STACKS carry their mode in each block, EPISODES also how many were lost. */
static void put_list_head(struct bt_recf_buf *b, const struct bt_model *m, int list)
{
	if (list == L_EPISODES) {
		bt_recf_put_u8(b, m->chain_mode ? MODE_ON : 0);
		bt_recf_put_u64(b, m->episodes_over);
	} else if (list == L_STACKS) {
		bt_recf_put_u8(b, m->stack_mode ? MODE_ON : 0);
	}
}

/*
 * A list as blocks of about REC_CHUNK, at least one: u32 count, the
 * head (the same in each block), then count records of a u32 length and
 * the element's fields.
 */
static void put_list(struct bt_rec_writer *w, const struct bt_model *m, int list)
{
	const struct list_kind *lk = &list_kinds[list];
	const char *arr = *(const void *const *)((const char *)m + lk->arr);
	size_t n = *(const size_t *)((const char *)m + lk->n), i = 0;

	do {
		uint32_t count = 0;

		bt_recf_put_u32(&w->buf, 0);
		put_list_head(&w->buf, m, list);
		for (; i < n && w->buf.len < REC_CHUNK; i++, count++) {
			const char *e = arr + i * lk->size;
			size_t at = w->buf.len;

			bt_recf_put_u32(&w->buf, 0);
			put_fields(&w->buf, lk->rec, e);
			if (list == L_STACKS)
				bt_recf_put_str(&w->buf, ((const struct bt_stack *)e)->folded,
						BT_REC_MAX_STACK_LEN);
			bt_recf_patch_u32(&w->buf, at, w->buf.len - at - 4);
		}
		bt_recf_patch_u32(&w->buf, 0, count);
		put_block(w, lk->type);
	} while (i < n && !w->error);
}

/* The lists a model without them leaves out; EPISODES and STACKS also carry a mode. */
static void put_lists(struct bt_rec_writer *w, const struct bt_model *m)
{
	for (int l = 0; l < L_MAX; l++) {
		size_t n = *(const size_t *)((const char *)m + list_kinds[l].n);

		if (n || (l == L_EPISODES && (m->chain_mode || m->episodes_over)) ||
		    (l == L_STACKS && m->stack_mode))
			put_list(w, m, l);
	}
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
	put_lists(w, m);
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

/*
 * The same for the other lists of a snapshot, by the key the model
 * keeps each of them under once (key_of).
 */
struct key_index {
	uint32_t *slot;		/* element + 1; 0 empty */
	size_t size, used;
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
	struct key_index lists[L_MAX];
	uint32_t *legacy;		/* processes read without their flags */
	size_t nlegacy, caplegacy;
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
	case BT_REC_WAKES:
		return "wakes";
	case BT_REC_HOLDERS:
		return "holders";
	case BT_REC_SOCKFACTS:
		return "sockfacts";
	case BT_REC_EPISODES:
		return "episodes";
	case BT_REC_STACKROWS:
		return "stackrows";
	case BT_REC_STACKS:
		return "stacks";
	case BT_REC_WAKESTACKS:
		return "wakestacks";
	case BT_REC_FUTEXLINKS:
		return "futexlinks";
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

/*
 * A full hash table (the indexes are kept at most half full) is dropped
 * for an empty one of twice the size, 1024 slots at first, for the caller
 * to fill again. False when out of memory.
 */
static bool table_double(void **slot, size_t *size, size_t elem)
{
	size_t nsize = *size ? *size * 2 : 1024;

	free(*slot);
	*slot = calloc(nsize, elem);
	*size = *slot ? nsize : 0;
	return *slot;
}

/* Keeps the table at most half full, rebuilding it from the rows. */
static bool idx_room(struct rd *rd)
{
	struct row_index *x = &rd->idx;

	if ((x->used + 1) * 2 <= x->size)
		return true;
	if (!table_double((void **)&x->slot, &x->size, sizeof(*x->slot)))
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
	if (!bt_grow((void **)&p->rows, &p->cap, p->nrows + 1, sizeof(*p->rows)))
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
		/* Not bt_model_proc: after pid reuse one pid is two processes with their rows. */
		p = bt_model_new_proc(&rd->snap, pid);
		if (!p)
			return no_memory(rd);
		p->start_ns = bt_recf_get_u64(&rec);
		p->exited = bt_recf_get_u8(&rec) & 1;
		p->exit_code = (int32_t)bt_recf_get_u32(&rec);
		bt_recf_get_str(&rec, p->comm, sizeof(p->comm));
		/* Later fields: the record may end before any of them, not inside one. */
		if (bt_recf_left(&rec))
			bt_recf_get_str(&rec, p->exe, sizeof(p->exe));
		if (bt_recf_left(&rec)) {
			uint8_t flags = bt_recf_get_u8(&rec);

			p->harvested = flags & PROC_HARVESTED;
			p->target = flags & PROC_TARGET;
		} else if (!rec.bad) {
			if (!bt_grow((void **)&rd->legacy, &rd->caplegacy, rd->nlegacy + 1,
				  sizeof(*rd->legacy)))
				return no_memory(rd);
			rd->legacy[rd->nlegacy++] = rd->snap.nprocs - 1;
		}
		if (bt_recf_left(&rec))
			p->hop = (int32_t)bt_recf_get_u32(&rec);
		if (bt_recf_left(&rec))
			p->ppid = bt_recf_get_u32(&rec);
		if (bt_recf_left(&rec))
			p->child = bt_recf_get_u8(&rec) & 1;
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
	k.ustack = BT_STACK_NONE;
	k.kstack = BT_STACK_NONE;
	proc = bt_recf_get_u32(rec);
	k.tgid = bt_recf_get_u32(rec);
	k.kind = bt_recf_get_u8(rec);
	k.dir = bt_recf_get_u8(rec);
	k.chan = bt_recf_get_u64(rec);
	k.peer = bt_recf_get_u64(rec);
	get_stats(rec, &s, slots);
	has_info = bt_recf_get_u8(rec) & 1;
	get_chan_info(rec, &ci, path_len);
	if (bt_recf_left(rec))
		k.ustack = (int32_t)bt_recf_get_u32(rec);
	if (bt_recf_left(rec))
		k.kstack = (int32_t)bt_recf_get_u32(rec);
	if (bt_recf_left(rec))
		k.ucaller = bt_recf_get_u64(rec);
	if (bt_recf_left(rec))
		ci.role = bt_recf_get_u8(rec);
	if (bt_recf_left(rec))
		ci.peer_tgid = bt_recf_get_u32(rec);
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

/* ---- the other lists ------------------------------------------------- */

static uint64_t key_hash(uint64_t seed, const uint8_t *k, size_t n)
{
	uint64_t h = mix64(seed ^ n);

	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = 0;

		memcpy(&v, k + i, n - i < 8 ? n - i : 8);
		h = mix64(h ^ v);
	}
	return h;
}

/* The slot of the element with e's key, or the empty one where it belongs. */
static uint32_t *key_slot(const struct rd *rd, const struct key_index *x,
			  const struct list_kind *lk, const void *arr, const void *e)
{
	uint8_t k[LIST_KEY_MAX], o[LIST_KEY_MAX];
	size_t n = key_of(lk, e, k), mask = x->size - 1;

	for (size_t i = key_hash(rd->idx.seed, k, n) & mask;; i = (i + 1) & mask) {
		uint32_t v = x->slot[i];

		if (!v || (key_of(lk, (const char *)arr + (size_t)(v - 1) * lk->size, o) == n &&
			   !memcmp(k, o, n)))
			return &x->slot[i];
	}
}

/* At most half full, as idx_room: rebuilt from the n elements of arr. */
static bool key_room(const struct rd *rd, struct key_index *x, const struct list_kind *lk,
		     const void *arr, size_t n)
{
	if ((x->used + 1) * 2 <= x->size)
		return true;
	x->used = 0;
	if (!table_double((void **)&x->slot, &x->size, sizeof(*x->slot)))
		return false;
	for (size_t i = 0; i < n; i++) {
		*key_slot(rd, x, lk, arr, (const char *)arr + i * lk->size) = i + 1;
		x->used++;
	}
	return true;
}

static int short_record(struct rd *rd, const char *what)
{
	return bad(rd, "%s record shorter than its fields", what);
}

/*
 * Stages e, read from rec, in one of the snapshot's lists: *out is the
 * element already there with its key (*fresh false: the caller merges),
 * or e's copy at the end (always, in a list without a key). 0, or -1
 * with the message set.
 */
static int stage_elem(struct rd *rd, int list, const struct bt_recf_cur *rec, const void *e,
		      void **out, bool *fresh)
{
	const struct list_kind *lk = &list_kinds[list];
	struct key_index *x = &rd->lists[list];
	void **arr = (void **)((char *)&rd->snap + lk->arr);
	size_t *n = (size_t *)((char *)&rd->snap + lk->n);
	size_t *cap = (size_t *)((char *)&rd->snap + lk->cap);
	uint32_t *slot = NULL;

	*fresh = true;
	if (rec->bad)
		return short_record(rd, lk->one);
	if (lk->key[0].len) {
		if (!key_room(rd, x, lk, *arr, *n))
			return no_memory(rd);
		slot = key_slot(rd, x, lk, *arr, e);
		if (*slot) {
			*fresh = false;
			*out = (char *)*arr + (size_t)(*slot - 1) * lk->size;
			return 0;
		}
	}
	if (*n >= lk->max)
		return bad(rd, "more than %u %s in a snapshot", lk->max, lk->what);
	if (!bt_grow(arr, cap, *n + 1, lk->size))
		return no_memory(rd);
	*out = (char *)*arr + *n * lk->size;
	memcpy(*out, e, lk->size);
	++*n;
	if (slot) {
		*slot = *n;
		x->used++;
	}
	return 0;
}

/* A folded line has two stacks and at most four frames of its own (-f wakers). */
_Static_assert(2 * BT_REC_MAX_STACK_FRAMES + 4 <= BT_FLAME_MAX_DEPTH,
	       "a flame graph line must hold two stacks");

/* The frames of a folded stack, up to a NUL (where the string will end). */
static size_t stack_frames(const uint8_t *s, size_t len)
{
	size_t n = 1;

	for (size_t i = 0; i < len && s[i]; i++)
		n += s[i] == ';';
	return n;
}

/* The rest of a stack record after s's fields: its string. */
static int read_stack(struct rd *rd, struct bt_recf_cur *rec, const struct bt_stack *s)
{
	uint32_t len = bt_recf_get_u32(rec);
	struct bt_stack *have;
	bool fresh;

	if (rec->bad || len > bt_recf_left(rec))
		return short_record(rd, list_kinds[L_STACKS].one);
	if (len > BT_REC_MAX_STACK_LEN)
		return bad(rd, "stack of %u bytes, over the %u KiB limit", len,
			   BT_REC_MAX_STACK_LEN >> 10);
	if (stack_frames(rec->p + rec->off, len) > BT_REC_MAX_STACK_FRAMES)
		return bad(rd, "stack of more than %u frames", BT_REC_MAX_STACK_FRAMES);
	if (stage_elem(rd, L_STACKS, rec, s, (void **)&have, &fresh))
		return -1;
	/* A repeat keeps the first string, as bt_model_add_stack. */
	if (fresh) {
		have->folded = malloc(len + 1);
		if (!have->folded)
			return no_memory(rd);
		/* A NUL inside ends the string, as it would have live. */
		memcpy(have->folded, rec->p + rec->off, len);
		have->folded[len] = 0;
	}
	bt_recf_get_bytes(rec, NULL, len);
	return 0;
}

/* One record of a list: staged, or folded into the element with its key. */
static int read_elem(struct rd *rd, struct bt_recf_cur *rec, int list)
{
	const struct list_kind *lk = &list_kinds[list];
	union {
		struct bt_wake wake;
		struct bt_holder holder;
		struct bt_sockfact sock;
		struct bt_episode_ev episode;
		struct bt_stackrow stackrow;
		struct bt_wakestack wakestack;
		struct bt_stack stack;
		struct bt_futex_link futexlink;
	} e;
	void *have;
	bool fresh;

	/* Read into a zeroed element: the padding of a key takes part as zeros. */
	memset(&e, 0, sizeof(e));
	get_fields(rec, lk->rec, &e);
	if (list == L_STACKS)
		return read_stack(rd, rec, &e.stack);
	if (stage_elem(rd, list, rec, &e, &have, &fresh))
		return -1;
	if (!fresh)
		lk->merge(have, &e);
	return 0;
}

/* count records of a list, of at least min bytes each, after its header. */
static int read_records(struct rd *rd, struct bt_recf_cur *c, uint32_t count, uint64_t min,
			int list)
{
	if (c->bad)
		return bad(rd, "shorter than its fields");
	if (count > bt_recf_left(c) / (4 + min))
		return bad(rd, "count %u larger than the payload", count);
	for (uint32_t i = 0; i < count; i++) {
		struct bt_recf_cur rec;

		if (next_record(rd, c, &rec, min) || read_elem(rd, &rec, list))
			return -1;
	}
	return 0;
}

static int read_list_block(struct rd *rd, struct bt_recf_cur *c, uint32_t type)
{
	uint32_t count = bt_recf_get_u32(c);
	uint64_t min;
	uint8_t flags;
	int l = 0;

	/* read_block passes only list types here: the last one is the rest. */
	while (l < L_MAX - 1 && list_kinds[l].type != type)
		l++;
	min = fields_len(list_kinds[l].rec);
	if (l == L_EPISODES) {
		flags = bt_recf_get_u8(c);
		rd->snap.episodes_over = bt_recf_get_u64(c);
		rd->snap.chain_mode |= flags & MODE_ON;
	} else if (l == L_STACKS) {
		flags = bt_recf_get_u8(c);
		rd->snap.stack_mode |= flags & MODE_ON;
		min += 4;	/* the string's length */
	}
	return read_records(rd, c, count, min, l);
}

static void free_indexes(struct rd *rd)
{
	free(rd->idx.slot);
	rd->idx.slot = NULL;
	rd->idx.size = 0;
	rd->idx.used = 0;
	for (int l = 0; l < L_MAX; l++) {
		free(rd->lists[l].slot);
		memset(&rd->lists[l], 0, sizeof(rd->lists[l]));
	}
}

static void reset_snapshot(struct rd *rd)
{
	bt_model_init(&rd->snap);
	/*
	 * Dropped, not cleared: clearing a table sized for a big snapshot at
	 * every one of a thousand tiny ones after it would cost more than
	 * reading them. It regrows with the rows, amortized.
	 */
	free_indexes(rd);
	rd->nlegacy = 0;
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
	/*
	 * Written before processes said whether they were traced: the kernel
	 * gave rows only to traced ones.
	 */
	for (size_t i = 0; i < rd->nlegacy; i++)
		rd->snap.procs[rd->legacy[i]].target = rd->snap.procs[rd->legacy[i]].nrows > 0;
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
	if (type == BT_REC_LOST)
		return read_lost(rd, c);
	return read_list_block(rd, c, type);
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
	case BT_REC_WAKES:
	case BT_REC_HOLDERS:
	case BT_REC_SOCKFACTS:
	case BT_REC_EPISODES:
	case BT_REC_STACKROWS:
	case BT_REC_STACKS:
	case BT_REC_WAKESTACKS:
	case BT_REC_FUTEXLINKS:
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
	free_indexes(rd);
	free(rd->legacy);
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
