// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "discover/proc.h"
#include "live/collect.h"

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

/* Rows of one tgid (or all), summed over CPUs; deleted from the map if asked. */
static int collect_rows(struct bt_model *m, const struct bt_maps *maps, __u32 tgid,
			bool delete)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bt_key key, next, *prev = NULL;
	struct bt_stats *percpu, sum;
	struct bt_chan_info info;
	struct bt_chan_key ck;
	bool has_info;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	while (bpf_map_get_next_key(maps->stats_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (tgid != ALL_TGIDS && key.tgid != tgid)
			continue;
		if (bpf_map_lookup_elem(maps->stats_fd, &key, percpu))
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
		ck.chan = key.chan;
		ck.peer = key.peer;
		has_info = !bpf_map_lookup_elem(maps->chans_fd, &ck, &info);
		if (has_info && (key.kind == BT_KIND_UNIX_STREAM || key.kind == BT_KIND_TCP) &&
		    accepted_by(m, maps, key.chan, &info)) {
			err = -ENOMEM;
			goto out;
		}
		if (!bt_model_add(m, &key, &sum, has_info ? &info : NULL) ||
		    (key.ustack != BT_STACK_NONE && bt_model_add_stackrow(m, &key, &sum))) {
			err = -ENOMEM;
			break;
		}
		/*
		 * Deleting the current key restarts the walk at the map's
		 * first key; rows already taken are gone, so it ends.
		 */
		if (delete && !bpf_map_delete_elem(maps->stats_fd, &key))
			prev = NULL;
	}
out:
	free(percpu);
	return err;
}

/*
 * The wakes map holds what a row's own wakee slots had no room for: of one
 * waker (or all), deleted from the map if asked, as collect_rows does.
 */
static int collect_wakes(struct bt_model *m, const struct bt_maps *maps, __u32 waker,
			 bool delete)
{
	struct bt_wake_key key, next, *prev = NULL;
	__u64 count;

	while (bpf_map_get_next_key(maps->wakes_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (waker != ALL_TGIDS && key.waker != waker)
			continue;
		if (bpf_map_lookup_elem(maps->wakes_fd, &key, &count))
			continue;
		if (bt_model_add_wake(m, &key, count))
			return -ENOMEM;
		if (delete && !bpf_map_delete_elem(maps->wakes_fd, &key))
			prev = NULL;
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

		/*
		 * Counted on a marked channel before anyone named it: name it
		 * now, from the kernel if it is gone already.
		 */
		if (!p->comm[0] && (p->exited || bt_proc_read_image(&m->procs[i]))) {
			struct bt_seen s;

			if (maps->seen_fd >= 0 &&
			    !bpf_map_lookup_elem(maps->seen_fd, &m->procs[i].pid, &s)) {
				snprintf(m->procs[i].comm, sizeof(m->procs[i].comm), "%.*s",
					 (int)sizeof(s.comm), s.comm);
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
	int err = collect_rows(m, maps, ALL_TGIDS, false);

	if (!err)
		err = name_far_ends(m, maps);
	if (!err)
		err = collect_futex_links(m, maps);
	if (!err)
		err = collect_wakes(m, maps, ALL_TGIDS, false);
	if (!err)
		err = collect_wakestacks(m, maps);
	for (int l = 0; l < BT_LOSS_MAX; l++)
		m->lost[l] = maps->losses[l];
	/* Episodes userspace had no room for are lost like the kernel's. */
	m->lost[BT_LOSS_EPISODES] += m->episodes_over;
	return err;
}

int bt_collect_harvest(struct bt_model *m, const struct bt_maps *maps, __u32 tgid)
{
	struct bt_proc *p = bt_model_find(m, tgid);
	int err;

	if (!p || p->harvested)
		return 0;
	/*
	 * What an earlier snapshot took of it is taken again now, for good,
	 * and leaves the kernel's maps: the model keeps it from here on, and
	 * a process that reuses the pid starts from nothing.
	 */
	bt_proc_clear_rows(p);
	bt_model_drop_stackrows(m, tgid);
	bt_model_drop_wakes(m, tgid);
	err = collect_rows(m, maps, tgid, true);
	if (!err)
		err = collect_wakes(m, maps, tgid, true);
	if (!err)
		err = name_far_ends(m, maps);
	/* name_far_ends may have moved the processes. */
	p = bt_model_find(m, tgid);
	if (!err && p)
		p->harvested = true;
	return err;
}
