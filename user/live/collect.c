// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/membarrier.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "analyze/chain_input.h"
#include "discover/proc.h"
#include "discover/procscan.h"
#include "live/collect.h"
#include "lib/vec.h"

#define ALL_TGIDS 0

/* A wake into the model: final when it is folded out of the kernel. */
static int add_wake(struct bt_model *m, const struct bt_wake_key *key, __u64 n, bool final)
{
	return final ? bt_model_fold_wake(m, key, n) : bt_model_add_wake(m, key, n);
}

static int add_row_wakes(struct bt_model *m, const struct bt_key *key, const struct bt_stats *s,
			 bool final)
{
	struct bt_wake_key wk = { .waker = key->tgid, .kind = key->kind, .dir = key->dir,
				  .chan = key->chan, .peer = key->peer };

	for (int i = 0; i < BT_ROW_WAKEES; i++) {
		if (!s->wakee[i] || !s->wakee_n[i])
			continue;
		wk.wakee = s->wakee[i];
		if (add_wake(m, &wk, s->wakee_n[i], final))
			return -1;
	}
	return 0;
}

/* A channel its process no longer holds: its rows are final (a fold). */
struct closed_chan {
	__u64 tgid;
	__u64 chan;
};

/* The order of two-u64 keys (struct closed_chan, struct bt_chan_key): first, then second. */
static int cmp_u64_pair(const void *a, const void *b)
{
	const __u64 *x = a, *y = b;
	int c = bt_cmp_u64(&x[0], &y[0]);

	return c ? c : bt_cmp_u64(&x[1], &y[1]);
}

_Static_assert(sizeof(struct closed_chan) == 2 * sizeof(__u64), "two u64");
_Static_assert(sizeof(struct bt_chan_key) == 2 * sizeof(__u64), "two u64");

/* The channels a fold takes: pipes and sockets, whose channel is an inode a process holds. */
static bool fd_kind(unsigned int kind)
{
	return kind == BT_KIND_PIPE || kind == BT_KIND_UNIX_STREAM ||
	       kind == BT_KIND_UNIX_DGRAM || kind == BT_KIND_TCP || kind == BT_KIND_UDP;
}

/*
 * The rows a walk takes: all, those of a sorted tgid set (an exit
 * harvest), or those of channels their process closed (a fold: the rows
 * become final).
 */
struct row_filter {
	const __u32 *tgids;	/* NULL: every process */
	size_t n;
	const struct closed_chan *closed;	/* sorted; NULL: every channel */
	size_t nclosed;
};

static bool in_set(const struct row_filter *set, __u32 tgid)
{
	size_t lo = 0, hi = set->n;

	if (!set->tgids)
		return true;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->tgids[mid] == tgid)
			return true;
		if (set->tgids[mid] < tgid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool wanted(const struct row_filter *f, __u32 tgid, unsigned int kind, __u64 chan)
{
	struct closed_chan k = { tgid, chan };

	if (!in_set(f, tgid))
		return false;
	return !f->closed || (fd_kind(kind) && f->nclosed &&
			      bsearch(&k, f->closed, f->nclosed, sizeof(k), cmp_u64_pair));
}

/* Keys taken by a harvest walk, deleted after it: a delete mid-walk restarts it. */
struct keylist {
	unsigned char *keys;
	size_t n, cap, size;	/* size: bytes of one key */
};

static int keep_key(struct keylist *kl, const void *key)
{
	if (!bt_grow((void **)&kl->keys, &kl->cap, kl->n + 1, kl->size))
		return -ENOMEM;
	memcpy(kl->keys + kl->n++ * kl->size, key, kl->size);
	return 0;
}

static void delete_keys(const struct bt_maps *maps, int fd, struct keylist *kl)
{
	/*
	 * One syscall for many keys (a fold deletes thousands); it stops at
	 * a key that is gone (-ENOENT), which is skipped.
	 */
	for (size_t i = 0; i < kl->n;) {
		__u32 count = kl->n - i > UINT32_MAX ? UINT32_MAX : (__u32)(kl->n - i);
		int err = bpf_map_delete_batch(fd, kl->keys + i * kl->size, &count, NULL);

		maps->counters->map_ops++;
		i += count;
		if (err && i < kl->n) {
			if (errno != ENOENT)
				bpf_map_delete_elem(fd, kl->keys + i * kl->size);
			i++;
		}
	}
	free(kl->keys);
	kl->keys = NULL;
	kl->n = kl->cap = 0;
}

static bool stopped(const struct bt_maps *maps)
{
	return maps->stop && *maps->stop;
}

/*
 * A far end the kernel named is in the model (untraced, without rows) so
 * every report names it; comm from the kernel when it has it, else from
 * /proc while the process lives. NULL only when out of memory.
 */
static struct bt_proc *named_far_end(struct bt_model *m, uint32_t pid,
					      const char *comm)
{
	struct bt_proc *p = bt_model_find(m, pid);

	if (p)
		return p;
	p = bt_model_proc(m, pid);
	if (!p)
		return NULL;
	if (bt_proc_read_image(p) && comm)
		snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return p;
}

/*
 * The process that accepted the connection of socket ino (a worker
 * behind a listener) names its far end better than anything known at
 * the first crossing; it is in the model, with the kernel's comm if it is
 * gone. 0, or -ENOMEM.
 */
static int accepted_by(struct bt_model *m, const struct bt_maps *maps, uint64_t ino,
		       struct bt_chan_info *info)
{
	struct bt_sk_owner o;

	if (maps->accepted_fd < 0 || bpf_map_lookup_elem(maps->accepted_fd, &ino, &o))
		return 0;
	info->peer_tgid = o.tgid;
	return named_far_end(m, o.tgid, o.comm) ? 0 : -ENOMEM;
}

/*
 * One row into the model, with its channel facts if the kernel kept them;
 * final: folded (its kernel row is being taken for good).
 */
static struct bt_row *add_row(struct bt_model *m, const struct bt_maps *maps,
			      const struct bt_key *key, const struct bt_stats *sum, bool final)
{
	struct bt_chan_key ck = { .chan = key->chan, .peer = key->peer };
	struct bt_chan_info info;
	int miss = bpf_map_lookup_elem(maps->chans_fd, &ck, &info);

	maps->counters->map_ops++;
	if (!miss && (key->kind == BT_KIND_UNIX_STREAM || key->kind == BT_KIND_TCP) &&
	    accepted_by(m, maps, key->chan, &info))
		return NULL;
	return (final ? bt_model_fold_row : bt_model_add)(m, key, sum, miss ? NULL : &info);
}

/* What one entry of a walked map is handed to. */
typedef int (*entry_fn)(void *ctx, const void *key, const void *val);

/* Entries a batch walk reads per syscall. */
#define WALK_BATCH 256

/* A kernel without batch lookups: one key, then its value, at a time. */
static int walk_by_key(const struct bt_maps *maps, int fd, void *keys, void *vals, size_t ksize,
		       __u64 flags, entry_fn each, void *ctx)
{
	void *key = keys, *next = (char *)keys + ksize;
	bool first = true;
	int err = 0;

	while (!err && bpf_map_get_next_key(fd, first ? NULL : key, next) == 0) {
		maps->counters->map_ops += 2;
		memcpy(key, next, ksize);
		first = false;
		if (bpf_map_lookup_elem_flags(fd, key, vals, flags))
			continue;	/* deleted meanwhile */
		err = each(ctx, key, vals);
	}
	return err;
}

/*
 * Every entry of map fd to each(ctx, key, value), many to a syscall
 * (a walk of 16,384 rows one key and one value at a time was most of a
 * fold's and a collection's cost). An entry there from the walk's start
 * to its end is seen once (the cursor is a bucket of the hash, not a
 * key: deletes meanwhile restart nothing). vsize: a value's bytes as the
 * kernel copies them out (per-CPU: one 8-byte-aligned value per possible
 * CPU). A stoppable walk (a harvest) ends with -EINTR on a signal.
 * flags: BPF_F_LOCK for values with a spin lock (each read whole), else 0.
 */
static int walk_map_flags(const struct bt_maps *maps, int fd, size_t ksize, size_t vsize,
			  __u64 flags, entry_fn each, void *ctx, bool stoppable)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = flags);
	void *keys = malloc(WALK_BATCH * ksize), *vals = malloc(WALK_BATCH * vsize);
	__u64 token = 0;
	bool first = true, done = false;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!done && !err) {
		__u32 count = WALK_BATCH;

		if (stoppable && stopped(maps)) {
			err = -EINTR;
			break;
		}
		maps->counters->map_ops++;
		if (bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count,
					 &opts)) {
			if (errno != ENOENT) {
				if (first && (errno == EINVAL || errno == ENOTSUP || errno == 524))
					err = walk_by_key(maps, fd, keys, vals, ksize, flags, each,
							  ctx);
				else
					err = -errno;
				break;
			}
			done = true;	/* the last batch, maybe empty */
		}
		first = false;
		for (__u32 i = 0; i < count && !err; i++)
			err = each(ctx, (char *)keys + i * ksize, (char *)vals + i * vsize);
	}
out:
	free(keys);
	free(vals);
	return err;
}

static int walk_map(const struct bt_maps *maps, int fd, size_t ksize, size_t vsize,
		    entry_fn each, void *ctx, bool stoppable)
{
	return walk_map_flags(maps, fd, ksize, vsize, 0, each, ctx, stoppable);
}

/* A walk of rows: into m, those set wants, their keys kept in del if asked. */
struct row_walk {
	struct bt_model *m;
	const struct bt_maps *maps;
	const struct row_filter *set;
	struct keylist *del;
	int ncpu;		/* values a row: per-CPU stats, or 1 (the spill map) */
};

/* One row, summed over its CPUs into the model's row of the same key. */
static int take_row(void *ctx, const void *k, const void *v)
{
	struct row_walk *w = ctx;
	const struct bt_key *key = k;
	const struct bt_stats *percpu = v;
	struct bt_stats sum;

	if (!wanted(w->set, key->tgid, key->kind, key->chan))
		return 0;
	memset(&sum, 0, sizeof(sum));
	for (int c = 0; c < w->ncpu; c++) {
		bt_stats_add(&sum, &percpu[c]);
		/* Each CPU's row has its own wakee slots: into the model's wakes. */
		if (add_row_wakes(w->m, key, &percpu[c], w->set->closed))
			return -ENOMEM;
	}
	if (!add_row(w->m, w->maps, key, &sum, w->set->closed) ||
	    (key->ustack != BT_STACK_NONE &&
	     (w->set->closed ? bt_model_fold_stackrow : bt_model_add_stackrow)(w->m, key, &sum)) ||
	    (w->del && keep_key(w->del, key)))
		return -ENOMEM;
	return 0;
}

/* ---- the row cache: rows the kernel holds per thread (struct bt_pending) ---- */

bool bt_collect_can_hold(void)
{
	long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	return cmds > 0 && (cmds & MEMBARRIER_CMD_GLOBAL);
}

/*
 * Keeps the kernel off the pending rows until let_go(): no crossing
 * counts in them or flushes them from now on (they count in the stats
 * map), and MEMBARRIER_CMD_GLOBAL waits for an RCU grace period, so
 * every program that read the flag clear has returned (a tracepoint's
 * program runs inside an RCU read-side section). Then the pending rows
 * and the maps agree: each crossing is in one of them, once. About 15 ms
 * here, once per collection, harvest or fold.
 */
static int hold_pending(const struct bt_maps *maps)
{
	if (maps->pending_fd < 0)
		return 0;
	*maps->rows_collecting = 1;
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0)) {
		int err = -errno;

		*maps->rows_collecting = 0;
		return err;
	}
	return 0;
}

static void let_go(const struct bt_maps *maps)
{
	if (maps->pending_fd >= 0)
		__atomic_store_n(maps->rows_collecting, 0, __ATOMIC_SEQ_CST);
}

/* A pending row as a stats row (one CPU's value). */
static void pending_as_stats(const struct bt_pending_row *r, struct bt_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->calls = r->calls;
	s->errors = r->errors;
	s->bytes = r->bytes;
	s->woken = r->woken;
	s->blocked_ns = r->blocked_ns;
	s->max_blocked_ns = r->max_blocked_ns;
	for (int i = 0; i < BT_HIST_SLOTS; i++) {
		s->size_hist[i] = r->size_hist[i];
		s->blocked_hist[i] = r->blocked_hist[i];
	}
	for (int i = 0; i < BT_ROW_WAKEES; i++) {
		s->wakee[i] = r->wakee[i];
		s->wakee_n[i] = r->wakee_n[i];
	}
	memcpy(&s->role, &r->exch, sizeof(r->exch));
}

/*
 * What each pending row of the slots in use (slot number idx) is handed
 * to; stops at an error.
 */
typedef int (*pending_fn)(void *ctx, struct bt_pending *slot, size_t idx,
			  struct bt_pending_row *r);

/*
 * The slots in use, mapped from the first to the last only while they
 * are read: the whole array (7.2 MiB) stayed in boundtrace's RSS for the
 * length of the trace (the kernel maps every page of it at mmap), though
 * a trace of a few threads uses a few slots.
 */
static int walk_pending(const struct bt_maps *maps, pending_fn each, void *ctx)
{
	size_t first = SIZE_MAX, last = 0, off, len, page = (size_t)getpagesize();
	char *base;
	int err = 0;

	for (__u32 w = 0; maps->pending_fd >= 0 && w < BT_PENDING_SLOTS / 64; w++) {
		__u64 bits = maps->pending_dirty[w];

		if (!bits)
			continue;
		if (first == SIZE_MAX)
			first = w * 64 + (size_t)__builtin_ctzll(bits);
		last = w * 64 + 63 - (size_t)__builtin_clzll(bits);
	}
	if (first == SIZE_MAX)
		return 0;
	off = first * sizeof(struct bt_pending) / page * page;
	len = (last + 1) * sizeof(struct bt_pending) - off;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, maps->pending_fd, (off_t)off);
	if (base == MAP_FAILED)
		return -errno;
	for (size_t w = first / 64; w <= last / 64 && !err; w++) {
		for (__u64 bits = maps->pending_dirty[w]; bits && !err; bits &= bits - 1) {
			size_t idx = w * 64 + (size_t)__builtin_ctzll(bits);
			struct bt_pending *slot;

			/* A slot taken since the range was read holds nothing yet: held off. */
			if (idx < first || idx > last)
				continue;
			slot = (struct bt_pending *)(void *)(base + idx * sizeof(*slot) - off);
			for (int i = 0; i < 2 && !err; i++)
				err = each(ctx, slot, idx, &slot->row[i]);
		}
	}
	munmap(base, len);
	return err;
}

static int take_pending_row(void *ctx, struct bt_pending *slot, size_t idx,
			    struct bt_pending_row *r)
{
	struct row_walk *w = ctx;
	struct bt_stats s;

	(void)slot;
	(void)idx;
	if (!r->calls)
		return 0;
	pending_as_stats(r, &s);
	return take_row(w, &r->key, &s);
}

/* Pending rows a harvest or a fold takes for good. */
struct pending_take {
	const struct bt_maps *maps;
	const struct row_filter *set;
};

/* Empties the pending rows set wants, and forgets a slot left with none and no thread. */
static int empty_pending_row(void *ctx, struct bt_pending *slot, size_t idx,
			     struct bt_pending_row *r)
{
	const struct pending_take *t = ctx;

	if (r->key.tgid && wanted(t->set, r->key.tgid, r->key.kind, r->key.chan))
		memset(r, 0, sizeof(*r));
	if (r == &slot->row[1] && !slot->tid && !slot->row[0].key.tgid && !slot->row[1].key.tgid)
		t->maps->pending_dirty[idx / 64] &= ~(1ULL << (idx % 64));
	return 0;
}

/* Rows of the processes in set, from the stats map and its spill; keys kept in del if asked. */
static int collect_rows(struct bt_model *m, const struct bt_maps *maps,
			const struct row_filter *set, struct keylist *del, struct keylist *del_spill)
{
	struct row_walk w = { m, maps, set, del, libbpf_num_possible_cpus() };
	/* A fold is short and must finish: its rows are final already. */
	bool stoppable = del && !set->closed;
	int err;

	if (w.ncpu <= 0)
		return w.ncpu ? w.ncpu : -EINVAL;
	/* struct bt_stats is a multiple of 8 bytes: one per CPU, as the kernel copies them. */
	_Static_assert(sizeof(struct bt_stats) % 8 == 0, "per-CPU values are 8-byte aligned");
	err = walk_map(maps, maps->stats_fd, sizeof(struct bt_key),
		       w.ncpu * sizeof(struct bt_stats), take_row, &w, stoppable);
	if (!err && maps->spill_fd >= 0) {
		w.del = del_spill;
		w.ncpu = 1;
		err = walk_map(maps, maps->spill_fd, sizeof(struct bt_key),
			       sizeof(struct bt_stats), take_row, &w, stoppable);
	}
	/* The rows threads hold: the caller holds them still (hold_pending); emptied by take_rows. */
	if (!err) {
		w.del = NULL;
		w.ncpu = 1;
		err = walk_pending(maps, take_pending_row, &w);
	}
	return err;
}

/*
 * Calls the kernel could not count because the stats map was full, per
 * row key: the row is marked partial (made, with no counts, if it never
 * got a slot), so the loss shows where it happened.
 */
static int take_lost_calls(void *ctx, const void *k, const void *v)
{
	static const struct bt_stats zero;
	struct row_walk *w = ctx;
	const struct bt_key *key = k;
	struct bt_row *r;

	if (!wanted(w->set, key->tgid, key->kind, key->chan))
		return 0;
	r = add_row(w->m, w->maps, key, &zero, w->set->closed);
	if (!r || (w->del && keep_key(w->del, key)))
		return -ENOMEM;
	r->lost_calls += *(const __u64 *)v;
	return 0;
}

static int collect_lost_calls(struct bt_model *m, const struct bt_maps *maps,
			      const struct row_filter *set, struct keylist *del)
{
	struct row_walk w = { m, maps, set, del, 1 };

	if (maps->lostcalls_fd < 0)
		return 0;
	return walk_map(maps, maps->lostcalls_fd, sizeof(struct bt_key), sizeof(__u64),
			take_lost_calls, &w, false);
}

/*
 * The wakes map holds what a row's own wakee slots had no room for: of
 * the wakers in set, their keys kept in del if asked, as collect_rows does.
 */
static int take_wake(void *ctx, const void *k, const void *v)
{
	struct row_walk *w = ctx;
	const struct bt_wake_key *key = k;

	if (!wanted(w->set, key->waker, key->kind, key->chan))
		return 0;
	if (add_wake(w->m, key, *(const __u64 *)v, w->set->closed) ||
	    (w->del && keep_key(w->del, key)))
		return -ENOMEM;
	return 0;
}

static int collect_wakes(struct bt_model *m, const struct bt_maps *maps,
			 const struct row_filter *set, struct keylist *del)
{
	struct row_walk w = { m, maps, set, del, 1 };

	return walk_map(maps, maps->wakes_fd, sizeof(struct bt_wake_key), sizeof(__u64),
			take_wake, &w, false);
}

/*
 * --stacks: who woke the blocked crossings, by stack: of the wakees in
 * set (a fold: on the channels they closed, final), their keys kept in
 * del if asked, as collect_rows does.
 */
static int take_wakestack(void *ctx, const void *k, const void *v)
{
	struct row_walk *w = ctx;
	const struct bt_wakestack_key *key = k;

	if (!wanted(w->set, key->wakee, key->kind, key->chan))
		return 0;
	if ((w->set->closed ? bt_model_fold_wakestack : bt_model_add_wakestack)(w->m, key, v) ||
	    (w->del && keep_key(w->del, key)))
		return -ENOMEM;
	return 0;
}

static int collect_wakestacks(struct bt_model *m, const struct bt_maps *maps,
			      const struct row_filter *set, struct keylist *del)
{
	struct row_walk w = { m, maps, set, del, 1 };

	if (maps->wakestacks_fd < 0)
		return 0;
	return walk_map(maps, maps->wakestacks_fd, sizeof(struct bt_wakestack_key),
			sizeof(struct bt_wakestack_val), take_wakestack, &w, false);
}

/* The processes the kernel named at the rows' first crossings are in the model. */
static int name_far_ends(struct bt_model *m, const struct bt_maps *maps)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];
		struct bt_seen seen;

		/* Counted on a marked channel before it was followed: untimed calls. */
		if (!p->untimed && p->nrows && maps->seen_fd >= 0 &&
		    !bpf_map_lookup_elem(maps->seen_fd, &m->procs[i].pid, &seen))
			m->procs[i].untimed = true;

		/*
		 * Counted on a marked channel before anyone named it: name it
		 * now, from the kernel if it is gone already.
		 */
		if ((!p->comm[0] && (p->exited || bt_proc_read_image(&m->procs[i]))) ||
		    !p->ppid) {
			struct bt_seen s;

			if (maps->seen_fd >= 0 &&
			    !bpf_map_lookup_elem(maps->seen_fd, &m->procs[i].pid, &s)) {
				if (!p->comm[0])
					snprintf(m->procs[i].comm, sizeof(m->procs[i].comm),
						 "%.*s", (int)sizeof(s.comm), s.comm);
				if (!p->ppid)
					m->procs[i].ppid = s.ppid;
			}
		}
		for (size_t j = 0; j < p->nrows; j++) {
			const struct bt_row *r = &p->rows[j];

			if (!r->has_info)
				continue;
			if (r->info.peer_tgid && !named_far_end(m, r->info.peer_tgid, NULL))
				return -ENOMEM;
			/* named_far_end may have moved the rows. */
			p = &m->procs[i];
		}
	}
	return 0;
}

static int collect_futex_links(struct bt_model *m, const struct bt_maps *maps)
{
	struct bt_futex_link l, *prev = NULL;
	struct bt_futex_link_key next;

	if (maps->futex_links_fd < 0)
		return 0;
	while (bpf_map_get_next_key(maps->futex_links_fd, prev ? &prev->key : NULL, &next) == 0) {
		l.key = next;
		prev = &l;
		if (bpf_map_lookup_elem(maps->futex_links_fd, &l.key, &l.count))
			continue;
		if (bt_model_add_futex_link(m, &l))
			return -ENOMEM;
	}
	return 0;
}

static int take_onehop(void *ctx, const void *k, const void *v)
{
	return bt_model_set_onehop(ctx, k, v) ? -ENOMEM : 0;
}

/* The kernel's one-hop counts: cumulative, each replaces the model's. */
static int collect_onehops(struct bt_model *m, const struct bt_maps *maps)
{
	if (maps->onehops_fd < 0)
		return 0;
	return walk_map(maps, maps->onehops_fd, sizeof(struct bt_onehop_key),
			sizeof(struct bt_onehop_val), take_onehop, m, false);
}

struct unmet_walk {
	struct bt_model *m;
	size_t n;
};

static int take_unmet(void *ctx, const void *k, const void *v)
{
	struct unmet_walk *w = ctx;
	const struct bt_meet *meet = v;

	(void)k;
	if (meet->state != BT_MEET_READY)
		return 0;
	w->n++;
	return bt_model_take_exchange(w->m, &meet->srv) ? -ENOMEM : 0;
}

int bt_collect_unmet(struct bt_model *m, const struct bt_maps *maps, size_t *n)
{
	struct unmet_walk w = { m, 0 };
	int err = 0;

	if (maps->meets_fd >= 0)
		err = walk_map_flags(maps, maps->meets_fd, sizeof(struct bt_meet_key),
				     sizeof(struct bt_meet), BPF_F_LOCK, take_unmet, &w, false);
	*n = w.n;
	return err;
}

int bt_collect(struct bt_model *m, const struct bt_maps *maps)
{
	struct row_filter all = { 0 };
	int err = hold_pending(maps);

	if (!err)
		err = collect_rows(m, maps, &all, NULL, NULL);

	if (!err)
		err = name_far_ends(m, maps);
	if (!err)
		err = collect_futex_links(m, maps);
	if (!err)
		err = collect_lost_calls(m, maps, &all, NULL);
	if (!err)
		err = collect_wakes(m, maps, &all, NULL);
	if (!err)
		err = collect_wakestacks(m, maps, &all, NULL);
	if (!err)
		err = collect_onehops(m, maps);

	/* A pending row's wakees go to the wakes map when it is flushed: read both first. */
	let_go(maps);
	for (int l = 0; l < BT_LOSS_MAX; l++)
		m->lost[l] = maps->losses[l];
	/* Episodes userspace had no room for are lost like the kernel's. */
	m->lost[BT_LOSS_EPISODES] += m->episodes_over;
	m->lost[BT_LOSS_EXCHANGES] += m->exchanges_over;
	return err;
}

static int cmp_tgid(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return (x > y) - (x < y);
}

/*
 * Takes the rows set names out of the kernel's maps for good: read into
 * the model (summed into the rows it keeps), then their keys deleted
 * after the walks (a delete mid-walk restarts one). The one way rows
 * leave the kernel, for exit harvests and folds. A harvest that fails
 * leaves its rows in the maps for the final collect; a fold deletes what
 * it took whatever happens (those rows are final in the model already).
 * *taken: the stats and spill rows deleted.
 */
static int take_rows(struct bt_model *m, const struct bt_maps *maps,
		     const struct row_filter *set, uint64_t *taken)
{
	struct keylist rows = { .size = sizeof(struct bt_key) };
	struct keylist spilled = { .size = sizeof(struct bt_key) };
	struct keylist lost = { .size = sizeof(struct bt_key) };
	struct keylist wakes = { .size = sizeof(struct bt_wake_key) };
	struct keylist wakestacks = { .size = sizeof(struct bt_wakestack_key) };
	struct pending_take pt = { maps, set };
	int err;

	err = hold_pending(maps);
	if (!err)
		err = collect_rows(m, maps, set, &rows, &spilled);
	/*
	 * A harvested process's far ends are named while the kernel still
	 * knows them; a fold's are named by the next collection, which every
	 * report starts with (a walk of all the model's rows, not per fold).
	 */
	if (!err && !set->closed)
		err = name_far_ends(m, maps);
	if (!err)
		err = collect_lost_calls(m, maps, set, &lost);
	if (!err)
		err = collect_wakes(m, maps, set, &wakes);
	if (!err)
		err = collect_wakestacks(m, maps, set, &wakestacks);
	*taken = 0;
	if (!err || set->closed) {
		/*
		 * Out of the kernel's maps: the model keeps them from here on,
		 * and a process that reuses the pid starts from nothing.
		 */
		*taken = rows.n + spilled.n;
		maps->counters->rows_deleted += *taken;
		delete_keys(maps, maps->stats_fd, &rows);
		if (maps->spill_fd >= 0)
			delete_keys(maps, maps->spill_fd, &spilled);
		delete_keys(maps, maps->lostcalls_fd, &lost);
		delete_keys(maps, maps->wakes_fd, &wakes);
		if (maps->wakestacks_fd >= 0)
			delete_keys(maps, maps->wakestacks_fd, &wakestacks);
		walk_pending(maps, empty_pending_row, &pt);
	}
	let_go(maps);
	free(rows.keys);
	free(spilled.keys);
	free(lost.keys);
	free(wakes.keys);
	free(wakestacks.keys);
	return err;
}

int bt_collect_harvest(struct bt_model *m, const struct bt_maps *maps, __u32 *tgids, size_t n)
{
	struct row_filter set = { .tgids = tgids };
	uint64_t taken;
	int err;

	/* Only processes not harvested yet; what a snapshot took is taken again, for good. */
	for (size_t i = 0; i < n; i++) {
		struct bt_proc *p = bt_model_find(m, tgids[i]);

		if (!p || p->harvested)
			continue;
		bt_proc_clear_rows(p);
		bt_model_drop_stackrows(m, tgids[i]);
		bt_model_drop_wakes(m, tgids[i]);
		tgids[set.n++] = tgids[i];
	}
	if (!set.n)
		return 0;
	qsort(tgids, set.n, sizeof(*tgids), cmp_tgid);
	/* One walk for every process that exited since the last: cost is the map, once. */
	maps->counters->harvest_walks++;
	err = take_rows(m, maps, &set, &taken);
	if (!err) {
		for (size_t i = 0; i < set.n; i++) {
			struct bt_proc *p = bt_model_find(m, tgids[i]);

			if (p)
				p->harvested = true;
		}
		maps->counters->harvested += set.n;
		maps->counters->harvested_rows += taken;
	} else {
		/* Stopped or out of memory: the rows stay in the map for the final collect. */
		for (size_t i = 0; i < set.n; i++) {
			struct bt_proc *p = bt_model_find(m, tgids[i]);

			if (p)
				bt_proc_clear_rows(p);
		}
	}
	return err;
}

/* ---- folds: rows of closed channels taken out while tracing ------------ */

/* What a fold's first walk found: the channels rows use, and the fold's candidates. */
struct fold_walk {
	struct keylist used;	/* struct bt_chan_key of every row */
	struct keylist cand;	/* struct closed_chan: pipe and socket rows */
};

/* A row of a row map (stats, spill or lostcalls) seen by a fold's first walk. */
static int see_row(void *ctx, const void *k, const void *v)
{
	struct fold_walk *w = ctx;
	const struct bt_key *key = k;
	struct bt_chan_key ck = { .chan = key->chan, .peer = key->peer };
	struct closed_chan c = { key->tgid, key->chan };

	(void)v;
	if (keep_key(&w->used, &ck) || (fd_kind(key->kind) && keep_key(&w->cand, &c)))
		return -ENOMEM;
	return 0;
}

static int walk_row_keys(const struct bt_maps *maps, int fd, size_t vsize, struct fold_walk *w)
{
	return fd < 0 ? 0 : walk_map(maps, fd, sizeof(struct bt_key), vsize, see_row, w, false);
}

static int see_chan(void *ctx, const void *k, const void *v)
{
	(void)v;
	return keep_key(ctx, k) ? -ENOMEM : 0;
}

/*
 * Channel facts no row uses any more (their rows were harvested or
 * folded) are deleted. The facts are walked before the rows: a row is
 * made before its facts, so facts seen first with no row seen after have
 * none (a process's first crossing on such a channel right between the
 * walk and the delete finds the facts gone: its row is named by inode).
 */
static int walk_chans(const struct bt_maps *maps, struct keylist *chans)
{
	return walk_map(maps, maps->chans_fd, sizeof(struct bt_chan_key),
			sizeof(struct bt_chan_info), see_chan, chans, false);
}

static void drop_unused_chans(const struct bt_maps *maps, struct keylist *chans,
			      struct keylist *used)
{
	size_t n = 0;

	if (used->n)
		qsort(used->keys, used->n, used->size, cmp_u64_pair);
	for (size_t i = 0; i < chans->n; i++) {
		const void *k = chans->keys + i * chans->size;

		if (used->n && bsearch(k, used->keys, used->n, used->size, cmp_u64_pair))
			continue;
		memmove(chans->keys + n++ * chans->size, k, chans->size);
	}
	chans->n = n;
	maps->counters->fold_chans += n;
	delete_keys(maps, maps->chans_fd, chans);
}

/*
 * Of the candidates (sorted by process), those whose process no longer
 * holds the channel: its /proc/PID/fd has no descriptor on that inode.
 * Kept in place, the rest dropped. A process that is gone (its exit
 * harvest takes its rows) or cannot be read keeps its rows.
 */
static int closed_of(struct keylist *cand)
{
	struct closed_chan *c = (struct closed_chan *)cand->keys;
	struct bt_fdref *fds = NULL;
	size_t nfds = 0, capfds = 0, out = 0;
	int err = 0;

	for (size_t i = 0; i < cand->n;) {
		size_t end = i;
		uint64_t *held;
		size_t nheld = 0;
		int rc;

		while (end < cand->n && c[end].tgid == c[i].tgid)
			end++;
		nfds = 0;
		rc = bt_scan_process_fds((uint32_t)c[i].tgid, &fds, &nfds, &capfds);
		if (rc == -ENOMEM) {
			err = rc;
			break;
		}
		/* The held inodes, sorted, in place of the fd records. */
		held = (uint64_t *)fds;
		for (size_t j = 0; !rc && j < nfds; j++)
			held[nheld++] = fds[j].ino;
		if (nheld)
			qsort(held, nheld, sizeof(*held), bt_cmp_u64);
		for (size_t j = i; !rc && j < end; j++)
			if (!bt_sorted_has_u64(held, nheld, c[j].chan))
				c[out++] = c[j];
		i = end;
	}
	free(fds);
	cand->n = err ? 0 : out;
	return err;
}

int bt_collect_fold(struct bt_model *m, const struct bt_maps *maps)
{
	struct fold_walk w = {
		.used = { .size = sizeof(struct bt_chan_key) },
		.cand = { .size = sizeof(struct closed_chan) },
	};
	struct keylist chans = { .size = sizeof(struct bt_chan_key) };
	struct row_filter set = { 0 };
	uint64_t taken = 0;
	int err;

	maps->counters->folds++;
	/*
	 * The rows first, then the processes' descriptors: a row seen in the
	 * walk was made on a channel its process held; if the process holds
	 * it no longer, it closed it, and the row is final. (The other way
	 * round, a socket opened after the scan would look closed.)
	 */
	err = walk_chans(maps, &chans);
	if (!err)
		err = walk_row_keys(maps, maps->stats_fd,
				    libbpf_num_possible_cpus() * sizeof(struct bt_stats), &w);
	if (!err)
		err = walk_row_keys(maps, maps->spill_fd, sizeof(struct bt_stats), &w);
	if (!err)
		err = walk_row_keys(maps, maps->lostcalls_fd, sizeof(__u64), &w);
	if (!err)
		drop_unused_chans(maps, &chans, &w.used);
	if (!err && w.cand.n) {
		/* By process, each scanned once (a channel's rows may repeat: harmless). */
		qsort(w.cand.keys, w.cand.n, w.cand.size, cmp_u64_pair);
		err = closed_of(&w.cand);
	}
	if (!err && w.cand.n) {
		set.closed = (const struct closed_chan *)w.cand.keys;
		set.nclosed = w.cand.n;
		err = take_rows(m, maps, &set, &taken);
		maps->counters->folded_rows += taken;
	}
	free(chans.keys);
	free(w.used.keys);
	free(w.cand.keys);
	return err;
}
