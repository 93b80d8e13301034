// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "record/merge.h"
#include "record/record.h"

/* The host part of a merged pid or inode; see model.h. */
static uint32_t pid_of(uint32_t h, uint32_t pid)
{
	return pid ? h * BT_HOST_PID_STRIDE + pid : 0;
}

static uint64_t ino_of(uint32_t h, uint64_t ino)
{
	return ino ? (uint64_t)h << BT_HOST_INO_SHIFT | ino : 0;
}

/* chan is an inode for pipes and sockets (a futex's is an address in one process). */
static uint64_t chan_of(uint32_t h, unsigned int kind, uint64_t chan)
{
	return kind == BT_KIND_FUTEX ? chan : ino_of(h, chan);
}

/* peer: the unix peer's inode; for inet the remote port and address, for the rest 0. */
static uint64_t peer_of(uint32_t h, unsigned int kind, uint64_t peer)
{
	return kind == BT_KIND_UNIX_STREAM || kind == BT_KIND_UNIX_DGRAM ? ino_of(h, peer) : peer;
}

static void move_key(uint32_t h, struct bt_key *k)
{
	k->tgid = pid_of(h, k->tgid);
	k->chan = chan_of(h, k->kind, k->chan);
	k->peer = peer_of(h, k->kind, k->peer);
}

/* Moves one host's model into m, renumbered. */
static int add_host(struct bt_model *m, const struct bt_model *one, uint32_t h, const char *host)
{
	for (size_t i = 0; i < one->nprocs; i++) {
		const struct bt_proc *op = &one->procs[i];
		struct bt_proc *p = bt_model_new_proc(m, pid_of(h, op->pid));

		if (!p)
			return -1;
		p->start_ns = op->start_ns;
		snprintf(p->comm, sizeof(p->comm), "%.63s:%.15s", host, op->comm[0] ? op->comm : "?");
		memcpy(p->exe, op->exe, sizeof(p->exe));
		p->exited = op->exited;
		p->harvested = op->harvested;
		p->untimed = op->untimed;
		p->target = op->target;
		p->hop = op->hop;
		p->ppid = pid_of(h, op->ppid);
		p->child = op->child;
		p->exit_code = op->exit_code;
		for (size_t j = 0; j < op->nrows; j++) {
			const struct bt_row *o = &op->rows[j];
			struct bt_chan_info info = o->info;
			struct bt_key key = o->key;
			struct bt_row *r;

			move_key(h, &key);
			info.peer_ino = ino_of(h, info.peer_ino);
			info.peer_tgid = pid_of(h, info.peer_tgid);
			r = bt_proc_add_row(p, &key, &o->st, o->has_info ? &info : NULL);
			if (!r)
				return -1;
			/* Named as the host wrote it, not by the renumbered inode. */
			if (bt_row_set_channel(r, o->channel))
				return -1;
		}
	}
	for (size_t i = 0; i < one->nwakes; i++) {
		struct bt_wake_key k = one->wakes[i].key;

		k.waker = pid_of(h, k.waker);
		k.wakee = pid_of(h, k.wakee);
		k.chan = chan_of(h, k.kind, k.chan);
		k.peer = peer_of(h, k.kind, k.peer);
		if (bt_model_add_wake(m, &k, one->wakes[i].count))
			return -1;
	}
	for (size_t i = 0; i < one->nholders; i++) {
		struct bt_holder x = one->holders[i];

		x.ino = ino_of(h, x.ino);
		x.pid = pid_of(h, x.pid);
		if (bt_model_add_holder(m, &x))
			return -1;
	}
	for (size_t i = 0; i < one->nsocks; i++) {
		struct bt_sockfact x = one->socks[i];

		x.ino = ino_of(h, x.ino);
		x.peer_ino = ino_of(h, x.peer_ino);
		if (bt_model_add_sockfact(m, &x))
			return -1;
	}
	for (size_t i = 0; i < one->nepisodes; i++) {
		struct bt_episode_ev e = one->episodes[i];

		e.pid = pid_of(h, e.pid);
		e.tid = pid_of(h, e.tid);
		e.waker_pid = pid_of(h, e.waker_pid);
		e.waker_tid = pid_of(h, e.waker_tid);
		e.chan = chan_of(h, e.kind, e.chan);
		e.peer = peer_of(h, e.kind, e.peer);
		if (bt_model_add_episode(m, &e))
			return -1;
	}
	m->episodes_over += one->episodes_over;
	for (size_t i = 0; i < one->nstackrows; i++) {
		struct bt_stackrow x = one->stackrows[i];
		struct bt_stats st = { .calls = x.calls, .bytes = x.bytes, .errors = x.errors,
				       .blocked_ns = x.blocked_ns };

		move_key(h, &x.key);
		if (bt_model_add_stackrow(m, &x.key, &st))
			return -1;
	}
	for (size_t i = 0; i < one->nstacks; i++) {
		const struct bt_stack *x = &one->stacks[i];

		if (bt_model_add_stack(m, pid_of(h, x->pid), x->id, x->caller, x->folded))
			return -1;
	}
	for (size_t i = 0; i < one->nwakestacks; i++) {
		struct bt_wakestack x = one->wakestacks[i];

		x.key.wakee = pid_of(h, x.key.wakee);
		x.key.waker = pid_of(h, x.key.waker);
		x.key.chan = chan_of(h, x.key.kind, x.key.chan);
		x.key.peer = peer_of(h, x.key.kind, x.key.peer);
		if (bt_model_add_wakestack(m, &x.key, &x.val))
			return -1;
	}
	for (size_t i = 0; i < one->nfutexlinks; i++) {
		struct bt_futex_link x = one->futexlinks[i];

		x.key.waker = pid_of(h, x.key.waker);
		x.key.wakee = pid_of(h, x.key.wakee);
		if (bt_model_add_futex_link(m, &x))
			return -1;
	}
	for (unsigned int l = 0; l < BT_LOSS_MAX; l++)
		m->lost[l] += one->lost[l];
	if (one->duration_ns > m->duration_ns)
		m->duration_ns = one->duration_ns;
	m->chain_mode |= one->chain_mode;
	/* Blocked time is left out only when no host measured it. */
	m->sockets_only = (!h || m->sockets_only) && one->sockets_only;
	m->stack_mode |= one->stack_mode;
	return 0;
}

int bt_rec_merge(const char *const *paths, int n, struct bt_model *m, char *warn,
		 size_t warnlen, char *err, size_t errlen)
{
	uint32_t version = 0;
	size_t wo = 0;

	warn[0] = 0;
	if (n > BT_MERGE_MAX_HOSTS) {
		snprintf(err, errlen, "at most %d recordings can be merged", BT_MERGE_MAX_HOSTS);
		return -1;
	}
	m->hosts = calloc(n, sizeof(*m->hosts));
	if (!m->hosts) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct bt_host *host = &m->hosts[i];
		struct bt_rec_status st;
		struct bt_rec_info info;
		struct bt_model one;
		int rc;

		bt_model_init(&one);
		if (bt_rec_read(paths[i], &one, &info, &st, err, errlen))
			return -1;
		rc = -1;
		if (!st.snapshots) {
			snprintf(err, errlen, "%s: holds no complete snapshot", paths[i]);
		} else if (!info.host[0]) {
			snprintf(err, errlen, "%s: names no host: cannot be merged", paths[i]);
		} else if (i && st.version != version) {
			snprintf(err, errlen, "%s is recording format version %u, %s version %u: "
				 "cannot merge them", paths[0], version, paths[i], st.version);
		} else {
			rc = 0;
			for (int j = 0; j < i; j++) {
				if (strcmp(m->hosts[j].name, info.host))
					continue;
				snprintf(err, errlen, "%s and %s were both recorded on host %s: "
					 "merge recordings of different hosts", paths[j], paths[i],
					 info.host);
				rc = -1;
				break;
			}
		}
		if (!rc) {
			version = st.version;
			snprintf(host->name, sizeof(host->name), "%.63s", info.host);
			host->wall_minus_mono_ns = info.mono_ns ?
				(int64_t)(info.start_ns - info.mono_ns) : 0;
			host->clock_from = i ? BT_CLOCK_UNKNOWN : BT_CLOCK_REFERENCE;
			m->nhosts = i + 1;
			if (add_host(m, &one, i, host->name)) {
				snprintf(err, errlen, "out of memory merging %s", paths[i]);
				rc = -1;
			}
		}
		if (!rc && st.truncated && wo < warnlen)
			wo += snprintf(warn + wo, warnlen - wo, "%s%s: cut short, merged from its "
				       "last complete snapshot", wo ? "; " : "", paths[i]);
		bt_model_free(&one);
		if (rc)
			return -1;
	}
	return 0;
}
