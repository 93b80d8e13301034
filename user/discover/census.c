// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Socket censuses (discover/census.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "discover/census.h"
#include "discover/netdiag.h"
#include "lib/vec.h"

static int add_ino(struct bt_census *c, uint64_t ino)
{
	if (!ino)
		return 0;	/* a TCP socket without a file (TIME_WAIT): closed */
	if (!bt_grow((void **)&c->ino, &c->cap, c->n + 1, sizeof(*c->ino)))
		return -ENOMEM;
	c->ino[c->n++] = ino;
	return 0;
}

int bt_census_take(struct bt_census *c)
{
	struct bt_unix_sock *us = NULL;
	struct bt_inet_sock *is = NULL;
	size_t nu = 0, capu = 0, ni = 0, capi = 0;
	struct stat st;
	int err;

	c->n = 0;
	c->taken = false;
	if (stat("/proc/self/ns/net", &st))
		return -errno;
	c->netns = (uint32_t)st.st_ino;
	err = bt_unix_socks(&us, &nu, &capu);
	if (!err)
		err = bt_inet_socks(0, &is, &ni, &capi);
	for (size_t i = 0; !err && i < nu; i++)
		err = add_ino(c, us[i].ino);
	for (size_t i = 0; !err && i < ni; i++)
		err = add_ino(c, is[i].ino);
	free(us);
	free(is);
	if (err)
		return err;
	if (c->n)
		c->n = bt_sort_unique_u64(c->ino, c->n, sizeof(*c->ino), 0, bt_cmp_u64);
	c->taken = true;
	return 0;
}

void bt_census_free(struct bt_census *c)
{
	free(c->ino);
	memset(c, 0, sizeof(*c));
}

bool bt_census_has(const struct bt_census *c, uint64_t ino)
{
	return bt_sorted_has_u64(c->ino, c->n, ino);
}

static bool socket_kind(unsigned int kind)
{
	return kind == BT_KIND_UNIX_STREAM || kind == BT_KIND_UNIX_DGRAM ||
	       kind == BT_KIND_TCP || kind == BT_KIND_UDP;
}

void bt_census_mark(struct bt_model *m, const struct bt_census *start,
		    const struct bt_census *end)
{
	for (size_t i = 0; i < m->nprocs; i++) {
		struct bt_proc *p = &m->procs[i];

		for (size_t j = 0; j < p->nrows; j++) {
			struct bt_row *r = &p->rows[j];
			uint8_t conn = 0;

			/* A channel is the socket's own inode (bpf: classify). */
			if (!r->has_info || !socket_kind(r->key.kind) || !start->taken ||
			    !r->info.netns || r->info.netns != start->netns)
				continue;
			conn = bt_census_has(start, r->key.chan) ? BT_CONN_OLD : BT_CONN_NEW;
			/*
			 * A process that exited closed its ends, though its exit
			 * event comes before the kernel closes its files: the
			 * census may still list them.
			 */
			if (end && end->taken && end->netns == start->netns)
				conn |= !p->exited && bt_census_has(end, r->key.chan) ?
					BT_CONN_ALIVE : BT_CONN_GONE;
			r->info.conn = conn;
		}
	}
}
