// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "discover/proc.h"
#include "live/collect.h"
#include "lib/vec.h"

#define ALL_TGIDS 0

static int add_row_wakes(struct bt_model *m, const struct bt_key *key, const struct bt_stats *s)
{
	struct bt_wake_key wk = { .waker = key->tgid, .kind = key->kind, .dir = key->dir,
				  .chan = key->chan, .peer = key->peer };

	for (int i = 0; i < BT_ROW_WAKEES; i++) {
		if (!s->wakee[i] || !s->wakee_n[i])
			continue;
		wk.wakee = s->wakee[i];
		if (bt_model_add_wake(m, &wk, s->wakee_n[i]))
			return -1;
	}
	return 0;
}

/* The processes a walk takes rows of: all, or a sorted set (an exit harvest). */
struct tgid_set {
	const __u32 *tgids;	/* NULL: every process */
	size_t n;
};

static bool in_set(const struct tgid_set *set, __u32 tgid)
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
	for (size_t i = 0; i < kl->n; i++) {
		bpf_map_delete_elem(fd, kl->keys + i * kl->size);
		maps->counters->map_ops++;
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

/* One row into the model, with its channel facts if the kernel kept them. */
static struct bt_row *add_row(struct bt_model *m, const struct bt_maps *maps,
			      const struct bt_key *key, const struct bt_stats *sum)
{
	struct bt_chan_key ck = { .chan = key->chan, .peer = key->peer };
	struct bt_chan_info info;
	int miss = bpf_map_lookup_elem(maps->chans_fd, &ck, &info);

	maps->counters->map_ops++;
	if (!miss && (key->kind == BT_KIND_UNIX_STREAM || key->kind == BT_KIND_TCP) &&
	    accepted_by(m, maps, key->chan, &info))
		return NULL;
	return bt_model_add(m, key, sum, miss ? NULL : &info);
}

/*
 * Rows of the processes in set from map fd (ncpu values a row: the
 * per-CPU stats map, or 1: the shared spill map), summed over CPUs into
 * the model's row of the same key; their keys kept in del if asked.
 */
static int collect_rows_of(struct bt_model *m, const struct bt_maps *maps, int fd, int ncpu,
			   const struct tgid_set *set, struct keylist *del)
{
	struct bt_key key, next, *prev = NULL;
	struct bt_stats *percpu, sum;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		maps->counters->map_ops++;
		if (del && stopped(maps)) {
			err = -EINTR;
			break;
		}
		key = next;
		prev = &key;
		if (!in_set(set, key.tgid))
			continue;
		maps->counters->map_ops++;
		if (bpf_map_lookup_elem(fd, &key, percpu))
			continue;	/* deleted meanwhile */
		memset(&sum, 0, sizeof(sum));
		for (int c = 0; c < ncpu; c++) {
			bt_stats_add(&sum, &percpu[c]);
			/* Each CPU's row has its own wakee slots: into the model's wakes. */
			if (add_row_wakes(m, &key, &percpu[c])) {
				err = -ENOMEM;
				goto out;
			}
		}
		if (!add_row(m, maps, &key, &sum) ||
		    (key.ustack != BT_STACK_NONE && bt_model_add_stackrow(m, &key, &sum)) ||
		    (del && keep_key(del, &key))) {
			err = -ENOMEM;
			break;
		}
	}
out:
	free(percpu);
	return err;
}

/* Rows of the processes in set, from the stats map and its spill; keys kept in del if asked. */
static int collect_rows(struct bt_model *m, const struct bt_maps *maps,
			const struct tgid_set *set, struct keylist *del, struct keylist *del_spill)
{
	int err = collect_rows_of(m, maps, maps->stats_fd, libbpf_num_possible_cpus(), set, del);

	if (!err && maps->spill_fd >= 0)
		err = collect_rows_of(m, maps, maps->spill_fd, 1, set, del_spill);
	return err;
}

/*
 * Calls the kernel could not count because the stats map was full, per
 * row key: the row is marked partial (made, with no counts, if it never
 * got a slot), so the loss shows where it happened.
 */
static int collect_lost_calls(struct bt_model *m, const struct bt_maps *maps,
			      const struct tgid_set *set, struct keylist *del)
{
	struct bt_key key, next, *prev = NULL;
	struct bt_stats zero = { 0 };
	struct bt_row *r;
	__u64 n;

	if (maps->lostcalls_fd < 0)
		return 0;
	while (bpf_map_get_next_key(maps->lostcalls_fd, prev, &next) == 0) {
		maps->counters->map_ops++;
		key = next;
		prev = &key;
		if (!in_set(set, key.tgid))
			continue;
		maps->counters->map_ops++;
		if (bpf_map_lookup_elem(maps->lostcalls_fd, &key, &n))
			continue;
		r = add_row(m, maps, &key, &zero);
		if (!r || (del && keep_key(del, &key)))
			return -ENOMEM;
		r->lost_calls += n;
	}
	return 0;
}

/*
 * The wakes map holds what a row's own wakee slots had no room for: of
 * the wakers in set, their keys kept in del if asked, as collect_rows does.
 */
static int collect_wakes(struct bt_model *m, const struct bt_maps *maps,
			 const struct tgid_set *set, struct keylist *del)
{
	struct bt_wake_key key, next, *prev = NULL;
	__u64 count;

	while (bpf_map_get_next_key(maps->wakes_fd, prev, &next) == 0) {
		maps->counters->map_ops++;
		key = next;
		prev = &key;
		if (!in_set(set, key.waker))
			continue;
		maps->counters->map_ops++;
		if (bpf_map_lookup_elem(maps->wakes_fd, &key, &count))
			continue;
		if (bt_model_add_wake(m, &key, count) || (del && keep_key(del, &key)))
			return -ENOMEM;
	}
	return 0;
}

static int collect_wakestacks(struct bt_model *m, const struct bt_maps *maps)
{
	struct bt_wakestack_key key, next, *prev = NULL;
	struct bt_wakestack_val val;

	if (maps->wakestacks_fd < 0)
		return 0;
	while (bpf_map_get_next_key(maps->wakestacks_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(maps->wakestacks_fd, &key, &val))
			continue;
		if (bt_model_add_wakestack(m, &key, &val))
			return -ENOMEM;
	}
	return 0;
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

int bt_collect(struct bt_model *m, const struct bt_maps *maps)
{
	struct tgid_set all = { NULL, 0 };
	int err = collect_rows(m, maps, &all, NULL, NULL);

	if (!err)
		err = name_far_ends(m, maps);
	if (!err)
		err = collect_futex_links(m, maps);
	if (!err)
		err = collect_lost_calls(m, maps, &all, NULL);
	if (!err)
		err = collect_wakes(m, maps, &all, NULL);
	if (!err)
		err = collect_wakestacks(m, maps);
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

int bt_collect_harvest(struct bt_model *m, const struct bt_maps *maps, __u32 *tgids, size_t n)
{
	struct keylist rows = { .size = sizeof(struct bt_key) };
	struct keylist spilled = { .size = sizeof(struct bt_key) };
	struct keylist lost = { .size = sizeof(struct bt_key) };
	struct keylist wakes = { .size = sizeof(struct bt_wake_key) };
	struct tgid_set set = { tgids, 0 };
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
	err = collect_rows(m, maps, &set, &rows, &spilled);
	if (!err)
		err = name_far_ends(m, maps);
	if (!err)
		err = collect_lost_calls(m, maps, &set, &lost);
	if (!err)
		err = collect_wakes(m, maps, &set, &wakes);
	if (!err) {
		/*
		 * Out of the kernel's maps: the model keeps them from here on,
		 * and a process that reuses the pid starts from nothing.
		 */
		delete_keys(maps, maps->stats_fd, &rows);
		if (maps->spill_fd >= 0)
			delete_keys(maps, maps->spill_fd, &spilled);
		delete_keys(maps, maps->lostcalls_fd, &lost);
		delete_keys(maps, maps->wakes_fd, &wakes);
		for (size_t i = 0; i < set.n; i++) {
			struct bt_proc *p = bt_model_find(m, tgids[i]);

			if (p)
				p->harvested = true;
		}
		maps->counters->harvested += set.n;
	} else {
		/* Stopped or out of memory: the rows stay in the map for the final collect. */
		for (size_t i = 0; i < set.n; i++) {
			struct bt_proc *p = bt_model_find(m, tgids[i]);

			if (p)
				bt_proc_clear_rows(p);
		}
	}
	free(rows.keys);
	free(spilled.keys);
	free(lost.keys);
	free(wakes.keys);
	return err;
}
