// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Writing a model into a recording, snapshot after snapshot; see record.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "lib/outfile.h"
#include "record/schema.h"
#include "lib/shellquote.h"

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
	/* The kernel stamps episodes with bpf_ktime_get_ns(): CLOCK_MONOTONIC. */
	if (!clock_gettime(CLOCK_MONOTONIC, &ts))
		info->mono_ns = ts.tv_sec * 1000000000ull + ts.tv_nsec;
	bt_shell_join(info->options, sizeof(info->options), argc, argv);
}

struct bt_rec_writer {
	FILE *f;
	char *path;
	struct bt_recf_buf buf;
	int error;		/* first errno; nothing is written after it */
	/* Called after each block of a snapshot (bt_rec_write_model_tick). */
	void (*tick)(void *ctx);
	void *ctx;
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
	if (w->tick)
		w->tick(w->ctx);
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
	bt_recf_put_u64(b, info->mono_ns);
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
	bt_recf_put_u8(b, (p->harvested ? PROC_HARVESTED : 0) | (p->target ? PROC_TARGET : 0) |
			  (p->untimed ? PROC_UNTIMED : 0));
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
	bt_recf_put_u64(b, r->lost_calls);
	bt_recf_put_u8(b, (uint8_t)r->st.role);
	bt_recf_put_u64(b, r->st.exchanges);
	bt_recf_put_u64(b, r->st.exch_ns);
	bt_recf_put_u64(b, r->st.max_exch_ns);
	for (int i = 0; i < BT_HIST_SLOTS; i++)
		bt_recf_put_u64(b, r->st.exch_hist[i]);
	/* The far end as the kernel named it (after the fields older readers know). */
	bt_recf_put_u8(b, r->has_info ? r->info.role : 0);
	bt_recf_put_u32(b, r->has_info ? r->info.peer_tgid : 0);
	/* The socket censuses' word on the connection, and its namespace (later still). */
	bt_recf_put_u8(b, r->has_info ? r->info.conn : 0);
	bt_recf_put_u32(b, r->has_info ? r->info.netns : 0);
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
		bt_recf_put_u8(b, (m->chain_mode ? MODE_ON : 0) |
				  (m->sockets_only ? MODE_SOCKETS_ONLY : 0));
		bt_recf_put_u64(b, m->episodes_over);
	} else if (list == L_STACKS) {
		bt_recf_put_u8(b, m->stack_mode ? MODE_ON : 0);
	}
}

/*
 * A list's first n elements as blocks of about REC_CHUNK, at least one:
 * u32 count, the head (the same in each block), then count records of a
 * u32 length and the element's fields.
 */
static void put_list(struct bt_rec_writer *w, const struct bt_model *m, int list, size_t n)
{
	const struct list_kind *lk = &bt_rec_lists[list];
	size_t i = 0;

	do {
		/* A tick may have grown a log (moved its array) since the last block. */
		const char *arr = *(const void *const *)((const char *)m + lk->arr);
		uint32_t count = 0;

		bt_recf_put_u32(&w->buf, 0);
		put_list_head(&w->buf, m, list);
		for (; i < n && w->buf.len < REC_CHUNK; i++, count++) {
			const char *e = arr + i * lk->size;
			size_t at = w->buf.len;

			bt_recf_put_u32(&w->buf, 0);
			bt_rec_put_fields(&w->buf, lk->rec, e);
			if (list == L_STACKS)
				bt_recf_put_str(&w->buf, ((const struct bt_stack *)e)->folded,
						BT_REC_MAX_STACK_LEN);
			bt_recf_patch_u32(&w->buf, at, w->buf.len - at - 4);
		}
		bt_recf_patch_u32(&w->buf, 0, count);
		put_block(w, lk->type);
	} while (i < n && !w->error);
}

/*
 * The lists, n[l] elements of each (a model without them leaves them
 * out); EPISODES and STACKS also carry a mode.
 */
static void put_lists(struct bt_rec_writer *w, const struct bt_model *m, const size_t *n)
{
	for (int l = 0; l < L_MAX; l++)
		if (n[l] || (l == L_EPISODES && (m->chain_mode || m->episodes_over || m->sockets_only)) ||
		    (l == L_STACKS && m->stack_mode))
			put_list(w, m, l, n[l]);
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

	/* In place: every snapshot is complete, so a kill -9 keeps all but the last second. */
	f = bt_open_output_in_place(path, force, err, errlen);
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

/* SELF: a count, then the values in record.h's order. */
static void put_self(struct bt_rec_writer *w, const struct bt_self_cost *s)
{
	bt_recf_put_u32(&w->buf, SELF_VALUES);
	for (unsigned int i = 0; i < SELF_VALUES; i++)
		bt_recf_put_u64(&w->buf, bt_rec_self_get(s, i));
	put_block(w, BT_REC_SELF);
}

int bt_rec_write_model_tick(struct bt_rec_writer *w, const struct bt_model *m,
			    void (*tick)(void *ctx), void *ctx, char *err, size_t errlen)
{
	size_t n[L_MAX];

	if (w->error)
		return writer_error(w, err, errlen);
	/* What is there now: a tick adds records to the logs, for the next snapshot. */
	for (int l = 0; l < L_MAX; l++)
		n[l] = *(const size_t *)((const char *)m + bt_rec_lists[l].n);
	w->tick = tick;
	w->ctx = ctx;
	put_procs(w, m);
	put_rows(w, m);
	put_lists(w, m, n);
	w->tick = NULL;
	bt_recf_put_u32(&w->buf, BT_LOSS_MAX);
	for (int l = 0; l < BT_LOSS_MAX; l++)
		bt_recf_put_u64(&w->buf, m->lost[l]);
	put_block(w, BT_REC_LOST);
	if (m->self.measured)
		put_self(w, &m->self);
	bt_recf_put_u64(&w->buf, m->duration_ns);
	put_block(w, BT_REC_DURATION);
	/* In the kernel's hands, the snapshot outlives a kill -9 of this process. */
	if (!w->error && fflush(w->f))
		w->error = errno;
	return w->error ? writer_error(w, err, errlen) : 0;
}

int bt_rec_write_model(struct bt_rec_writer *w, const struct bt_model *m,
		       char *err, size_t errlen)
{
	return bt_rec_write_model_tick(w, m, NULL, NULL, err, errlen);
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
