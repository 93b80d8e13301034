// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Reading a recording back into the model; see record.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "analyze/flame.h"
#include "record/schema.h"


struct rd {
	const char *name;
	char *err;
	size_t errlen;
	const struct bt_recf_block *blk;
	struct bt_rec_info info;
	struct bt_rec_status st;
	struct bt_model snap;		/* being read */
	struct bt_model last;		/* last complete snapshot */
	uint32_t *legacy;		/* processes read without their flags */
	size_t nlegacy, caplegacy;
	uint64_t snap_bytes;
	size_t snap_rows;		/* distinct rows staged */
	uint64_t snap_model;		/* model bytes the staged records make, roughly */
	uint64_t max_model;		/* what the file's size can honestly describe */
	bool snap_open;			/* blocks staged since the last commit */
	bool have_info;
	/*
	 * Snapshots the file holds, counted from its frames before reading:
	 * only the last is kept, so the ones before it are checked and freed
	 * at their commit instead of held while the next one is read (two
	 * models at once). A file that grows meanwhile keeps its newer ones.
	 */
	long expect;
	bool kept;			/* last holds a snapshot */
	/*
	 * Format 2's logs (episodes, exchange records) hold each snapshot's
	 * new records: given to take after each snapshot, with what take
	 * keeps from one to the next (the chains it folds them into); without
	 * take, added up in carry for the last snapshot's model.
	 */
	bt_rec_take_fn take;
	void *take_ctx;
	struct bt_chain_fold *fold;
	void (*fold_free)(struct bt_chain_fold *f);
	uint64_t episodes_folded;
	struct bt_model carry;
	uint64_t carry_model;		/* what the carried records cost, as snap_model counts */
	uint64_t snap_log_model;	/* the staged snapshot's share of it */
	size_t snap_log[L_MAX];		/* records of each log in the staged snapshot */
	uint64_t dropped[L_MAX];	/* carried records over the model's cap */
};

/* Whether the file's logs hold each snapshot's new records (format 2). */
static bool logs_are_deltas(const struct rd *rd)
{
	return rd->st.version >= BT_RECF_VERSION_LOGS;
}

static int bad(struct rd *rd, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->errlen, "%s: corrupt %s block %u at offset %llu: %s", rd->name,
		 bt_rec_block_name(rd->blk->type), rd->blk->index,
		 (unsigned long long)rd->blk->offset, why);
	return -1;
}

static int no_memory(struct rd *rd)
{
	snprintf(rd->err, rd->errlen, "%s: out of memory", rd->name);
	return -1;
}

/*
 * A row of process #proc of the snapshot, summed into the row with its
 * key by the model's own adder, as the live trace did.
 */
static int add_row(struct rd *rd, uint32_t proc, const struct bt_key *k,
		   const struct bt_stats *s, const struct bt_chan_info *ci, uint64_t lost_calls)
{
	struct bt_proc *p = &rd->snap.procs[proc];
	size_t had = p->nrows;
	struct bt_row *r = bt_proc_add_row(p, k, s, ci);

	if (!r)
		return no_memory(rd);
	r->lost_calls += lost_calls;
	if (p->nrows > had && ++rd->snap_rows > BT_REC_MAX_ROWS)
		return bad(rd, "more than %u rows in a snapshot", BT_REC_MAX_ROWS);
	return 0;
}

/* What one record of a block makes in the model, roughly: at least its own bytes. */
static uint64_t record_cost(uint32_t type, uint32_t len)
{
	uint64_t made = 64;	/* a list entry, an episode */

	if (type == BT_REC_PROCESS)
		made = sizeof(struct bt_proc);
	else if (type == BT_REC_ROWS)
		made = sizeof(struct bt_row);
	return made > len ? made : len;
}

/* Whether blocks of type hold a log (schema.c's table says which). */
static bool block_is_log(uint32_t type)
{
	for (int l = 0; l < L_MAX; l++)
		if (bt_rec_lists[l].type == type)
			return bt_rec_lists[l].log;
	return false;
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
	/*
	 * Compression lets a small file claim millions of identical records,
	 * and each costs the model more than its bytes (a process or a row
	 * hundreds): what a snapshot may make is bounded by the file's size,
	 * so memory follows the input (a real recording's model is a few
	 * dozen times its file).
	 */
	rd->snap_model += record_cost(rd->blk->type, len);
	if (block_is_log(rd->blk->type))
		rd->snap_log_model += record_cost(rd->blk->type, len);
	/* Carried records stay: they count against the file's size too. */
	if (rd->snap_model + rd->carry_model > rd->max_model)
		return bad(rd, "more records than a file of its size can hold (over %llu MiB "
			   "of model: %u times the file, %u MiB at least)",
			   (unsigned long long)(rd->max_model >> 20), BT_REC_MODEL_PER_BYTE,
			   BT_REC_MIN_MODEL_MIB);
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
	/* Added later in version 1: an older file's header ends before it. */
	if (!c->bad && bt_recf_left(c) >= 8)
		in->mono_ns = bt_recf_get_u64(c);
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
			p->untimed = flags & PROC_UNTIMED;
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
	uint64_t lost_calls = 0;
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
		lost_calls = bt_recf_get_u64(rec);
	if (bt_recf_left(rec)) {
		s.role = bt_recf_get_u8(rec);
		s.exchanges = bt_recf_get_u64(rec);
		s.exch_ns = bt_recf_get_u64(rec);
		s.max_exch_ns = bt_recf_get_u64(rec);
		get_hist(rec, s.exch_hist, slots);
	}
	if (bt_recf_left(rec))
		ci.role = bt_recf_get_u8(rec);
	if (bt_recf_left(rec))
		ci.peer_tgid = bt_recf_get_u32(rec);
	if (bt_recf_left(rec))
		ci.conn = bt_recf_get_u8(rec) & (BT_CONN_NEW | BT_CONN_OLD | BT_CONN_ALIVE |
						 BT_CONN_GONE);
	if (bt_recf_left(rec))
		ci.netns = bt_recf_get_u32(rec);
	if (rec->bad)
		return bad(rd, "row record shorter than its fields");
	if (proc >= rd->snap.nprocs)
		return bad(rd, "row of process #%u, but the snapshot has %zu", proc,
			   rd->snap.nprocs);
	if (k.tgid != rd->snap.procs[proc].pid)
		return bad(rd, "row of pid %u filed under pid %u", k.tgid,
			   rd->snap.procs[proc].pid);
	return add_row(rd, proc, &k, &s, has_info ? &ci : NULL, lost_calls);
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

/* SELF: values in record.h's order; a newer writer's extra ones ignored. */
static int read_self(struct rd *rd, struct bt_recf_cur *c)
{
	uint32_t n = bt_recf_get_u32(c);

	if (c->bad || n > bt_recf_left(c) / 8)
		return bad(rd, "count %u larger than the payload", n);
	rd->snap.self = (struct bt_self_cost){ .measured = true };
	for (uint32_t i = 0; i < n; i++)
		bt_rec_self_set(&rd->snap.self, i, bt_recf_get_u64(c));
	return 0;
}

/* ---- the other lists ------------------------------------------------- */

static int short_record(struct rd *rd, const char *what)
{
	return bad(rd, "%s record shorter than its fields", what);
}

/* Each list's element goes in through the model's adder, which merges repeats. */
static int add_wake(struct bt_model *m, const void *e)
{
	const struct bt_wake *w = e;

	return bt_model_add_wake(m, &w->key, w->count);
}

static int add_holder(struct bt_model *m, const void *e)
{
	return bt_model_add_holder(m, e);
}

static int add_sock(struct bt_model *m, const void *e)
{
	return bt_model_add_sockfact(m, e);
}

static int add_episode(struct bt_model *m, const void *e)
{
	return bt_model_add_episode(m, e);
}

static int add_stackrow(struct bt_model *m, const void *e)
{
	const struct bt_stackrow *r = e;
	struct bt_stats st = { .calls = r->calls, .bytes = r->bytes, .errors = r->errors,
			       .blocked_ns = r->blocked_ns };

	return bt_model_add_stackrow(m, &r->key, &st);
}

static int add_wakestack(struct bt_model *m, const void *e)
{
	const struct bt_wakestack *w = e;

	return bt_model_add_wakestack(m, &w->key, &w->val);
}

static int add_futexlink(struct bt_model *m, const void *e)
{
	return bt_model_add_futex_link(m, e);
}

static int add_exchange(struct bt_model *m, const void *e)
{
	return bt_model_add_exchange(m, e);
}

static int (*const list_add[L_MAX])(struct bt_model *m, const void *e) = {
	[L_WAKES] = add_wake,
	[L_HOLDERS] = add_holder,
	[L_SOCKS] = add_sock,
	[L_EPISODES] = add_episode,
	[L_STACKROWS] = add_stackrow,
	[L_WAKESTACKS] = add_wakestack,
	[L_FUTEXLINKS] = add_futexlink,
	[L_EXCHANGES] = add_exchange,
};

/* Where a model keeps a list: its array, length and room. */
static void **list_arr(struct bt_model *m, int list)
{
	return (void **)((char *)m + bt_rec_lists[list].arr);
}

static size_t *list_n(struct bt_model *m, int list)
{
	return (size_t *)((char *)m + bt_rec_lists[list].n);
}

static size_t *list_cap(struct bt_model *m, int list)
{
	return (size_t *)((char *)m + bt_rec_lists[list].cap);
}

/* How many elements the snapshot's list holds. */
static size_t list_len(const struct rd *rd, int list)
{
	return *list_n((struct bt_model *)&rd->snap, list);
}

/* After an element went in: a list may not grow past its limit. */
static int check_len(struct rd *rd, int list)
{
	const struct list_kind *lk = &bt_rec_lists[list];

	if (list_len(rd, list) > lk->max)
		return bad(rd, "more than %u %s in a snapshot", lk->max, lk->what);
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
	char *folded;
	int err;

	if (rec->bad || len > bt_recf_left(rec))
		return short_record(rd, bt_rec_lists[L_STACKS].one);
	if (len > BT_REC_MAX_STACK_LEN)
		return bad(rd, "stack of %u bytes, over the %u KiB limit", len,
			   BT_REC_MAX_STACK_LEN >> 10);
	if (stack_frames(rec->p + rec->off, len) > BT_REC_MAX_STACK_FRAMES)
		return bad(rd, "stack of more than %u frames", BT_REC_MAX_STACK_FRAMES);
	folded = malloc(len + 1);
	if (!folded)
		return no_memory(rd);
	/* A NUL inside ends the string, as it would have live. */
	memcpy(folded, rec->p + rec->off, len);
	folded[len] = 0;
	/* A repeat keeps the first string: the model's adder says so. */
	err = bt_model_add_stack(&rd->snap, s->pid, s->id, s->caller, folded);
	free(folded);
	if (err)
		return no_memory(rd);
	bt_recf_get_bytes(rec, NULL, len);
	return check_len(rd, L_STACKS);
}

/* One record of a list, into the snapshot's model. */
static int read_elem(struct rd *rd, struct bt_recf_cur *rec, int list)
{
	const struct list_kind *lk = &bt_rec_lists[list];
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

	/* Read into a zeroed element: the padding of a key takes part as zeros. */
	memset(&e, 0, sizeof(e));
	bt_rec_get_fields(rec, lk->rec, &e);
	if (rec->bad)
		return short_record(rd, lk->one);
	if (list == L_STACKS)
		return read_stack(rd, rec, &e.stack);
	/* A log is not a set: a snapshot's stops at the cap a writer's model has. */
	if (lk->log && rd->snap_log[list]++ >= lk->max)
		return bad(rd, "more than %u %s in a snapshot", lk->max, lk->what);
	/* Added up over the snapshots (no take), the model's cap holds: the rest is lost. */
	if (lk->log && list_len(rd, list) + *list_n(&rd->carry, list) >= BT_EPISODES_MAX) {
		rd->dropped[list]++;
		return 0;
	}
	if (list_add[list](&rd->snap, &e))
		return no_memory(rd);
	return check_len(rd, list);
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
	while (l < L_MAX - 1 && bt_rec_lists[l].type != type)
		l++;
	min = bt_rec_fields_len(bt_rec_lists[l].rec);
	if (l == L_EPISODES) {
		flags = bt_recf_get_u8(c);
		rd->snap.episodes_over = bt_recf_get_u64(c);
		rd->snap.chain_mode |= flags & MODE_ON;
		rd->snap.sockets_only |= !!(flags & MODE_SOCKETS_ONLY);
	} else if (l == L_STACKS) {
		flags = bt_recf_get_u8(c);
		rd->snap.stack_mode |= flags & MODE_ON;
		min += 4;	/* the string's length */
	}
	return read_records(rd, c, count, min, l);
}

static void reset_snapshot(struct rd *rd)
{
	bt_model_init(&rd->snap);
	rd->nlegacy = 0;
	rd->snap_rows = 0;
	rd->snap_model = 0;
	rd->snap_log_model = 0;
	memset(rd->snap_log, 0, sizeof(rd->snap_log));
	rd->snap_bytes = 0;
	rd->snap_open = false;
}

/*
 * Format 2: the snapshot's new records go to take, with what it kept
 * from the snapshots before (the chains folded so far); what take leaves
 * goes. 0, or -1 when take fails (out of memory).
 */
static int take_logs(struct rd *rd)
{
	struct bt_model *m = &rd->snap;
	int err;

	m->fold = rd->fold;
	m->fold_free = rd->fold_free;
	m->episodes_folded = rd->episodes_folded;
	err = rd->take(m, rd->take_ctx);
	bt_model_drop_records(m);
	rd->fold = m->fold;
	rd->fold_free = m->fold_free;
	rd->episodes_folded = m->episodes_folded;
	m->fold = NULL;
	m->fold_free = NULL;
	if (err)
		snprintf(rd->err, rd->errlen, "%s: out of memory taking the records of snapshot %u",
			 rd->name, rd->st.snapshots + 1);
	return err ? -1 : 0;
}

/* Format 2 without take: the snapshot's new records join those before, in order. */
static int carry_logs(struct rd *rd)
{
	for (int l = 0; l < L_MAX; l++) {
		const struct list_kind *lk = &bt_rec_lists[l];
		size_t n = list_len(rd, l), had = *list_n(&rd->carry, l);

		if (!lk->log || !n)
			continue;
		if (!bt_grow(list_arr(&rd->carry, l), list_cap(&rd->carry, l), had + n, lk->size))
			return no_memory(rd);
		memcpy((char *)*list_arr(&rd->carry, l) + had * lk->size, *list_arr(&rd->snap, l),
		       n * lk->size);
		*list_n(&rd->carry, l) = had + n;
		*list_n(&rd->snap, l) = 0;
	}
	rd->carry_model += rd->snap_log_model;
	return 0;
}

/* The carried records (format 2 without take) into the last snapshot's model. */
static void settle_logs(struct rd *rd)
{
	for (int l = 0; l < L_MAX; l++) {
		if (!bt_rec_lists[l].log)
			continue;
		free(*list_arr(&rd->last, l));	/* emptied at its commit */
		*list_arr(&rd->last, l) = *list_arr(&rd->carry, l);
		*list_n(&rd->last, l) = *list_n(&rd->carry, l);
		*list_cap(&rd->last, l) = *list_cap(&rd->carry, l);
		*list_arr(&rd->carry, l) = NULL;
		*list_n(&rd->carry, l) = 0;
		*list_cap(&rd->carry, l) = 0;
	}
	rd->last.lost[BT_LOSS_EPISODES] += rd->dropped[L_EPISODES];
	rd->last.lost[BT_LOSS_EXCHANGES] += rd->dropped[L_EXCHANGES];
	rd->last.fold = rd->fold;
	rd->last.fold_free = rd->fold_free;
	rd->last.episodes_folded = rd->episodes_folded;
	rd->fold = NULL;
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
	if (logs_are_deltas(rd) && (rd->take ? take_logs(rd) : carry_logs(rd)))
		return -1;
	bt_model_free(&rd->last);
	if (rd->st.snapshots + 1 < rd->expect) {
		bt_model_free(&rd->snap);	/* a later one replaces it */
		rd->kept = false;
	} else {
		bt_model_fit(&rd->snap);
		rd->last = rd->snap;
		rd->kept = true;
	}
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
	if (type == BT_REC_SELF)
		return read_self(rd, c);
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
	case BT_REC_EXCHANGES:
	case BT_REC_SELF:
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
	rd->expect = bt_recf_count_blocks(r, BT_REC_DURATION, BT_REC_END);
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

static int read_common(struct bt_recf_reader *r, uint64_t file_size, bt_rec_take_fn take,
		       void *ctx, struct bt_model *m, struct bt_rec_info *info,
		       struct bt_rec_status *st, char *err, size_t errlen)
{
	struct rd *rd = calloc(1, sizeof(*rd));
	int ret;

	if (!rd) {
		snprintf(err, errlen, "%s: out of memory", r->name);
		return -1;
	}
	rd->max_model = file_size * BT_REC_MODEL_PER_BYTE;
	if (rd->max_model < (uint64_t)BT_REC_MIN_MODEL_MIB << 20)
		rd->max_model = (uint64_t)BT_REC_MIN_MODEL_MIB << 20;
	rd->name = r->name;
	rd->err = err;
	rd->errlen = errlen;
	rd->take = take;
	rd->take_ctx = ctx;
	bt_model_init(&rd->snap);
	bt_model_init(&rd->last);
	bt_model_init(&rd->carry);
	ret = read_recording(r, rd);
	if (ret == 0 && rd->st.snapshots && !rd->kept) {
		/* Fewer snapshots than its frames promised: it changed while read. */
		snprintf(err, errlen, "%s: changed while it was read", r->name);
		ret = -1;
	}
	rd->st.partial = rd->snap_open;
	rd->st.bytes = r->off;
	bt_model_free(&rd->snap);
	free(rd->legacy);
	if (ret == 0 && logs_are_deltas(rd))
		settle_logs(rd);
	bt_model_free(&rd->carry);
	if (rd->fold)
		rd->fold_free(rd->fold);
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
	ret = read_common(&r, len, NULL, NULL, m, info, st, err, errlen);
	bt_recf_reader_free(&r);
	return ret;
}

int bt_rec_read(const char *path, struct bt_model *m, struct bt_rec_info *info,
		struct bt_rec_status *st, char *err, size_t errlen)
{
	return bt_rec_read_each(path, NULL, NULL, m, info, st, err, errlen);
}

int bt_rec_read_each(const char *path, bt_rec_take_fn take, void *ctx, struct bt_model *m,
		     struct bt_rec_info *info, struct bt_rec_status *st, char *err, size_t errlen)
{
	struct bt_recf_reader r;
	struct stat sb;
	int fd, ret;

	/* O_NONBLOCK: opening a FIFO nobody writes would wait forever. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: %s", path,
			 S_ISDIR(sb.st_mode) ? strerror(EISDIR) : "not a regular file");
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	bt_recf_reader_fd(&r, fd, path);
	ret = read_common(&r, (uint64_t)sb.st_size, take, ctx, m, info, st, err, errlen);
	bt_recf_reader_free(&r);
	close(fd);
	return ret;
}
