// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "collect.h"

int bt_collect(struct bt_model *m, int stats_fd, int chans_fd, const __u64 *losses)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bt_key key, next, *prev = NULL;
	struct bt_stats *percpu, sum;
	struct bt_chan_info info;
	struct bt_chan_key ck;
	int err = 0;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	percpu = calloc(ncpu, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	while (bpf_map_get_next_key(stats_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(stats_fd, &key, percpu))
			continue;	/* deleted meanwhile */
		memset(&sum, 0, sizeof(sum));
		for (int c = 0; c < ncpu; c++)
			bt_stats_add(&sum, &percpu[c]);
		ck.chan = key.chan;
		ck.peer = key.peer;
		if (!bt_model_add(m, &key, &sum,
				  bpf_map_lookup_elem(chans_fd, &ck, &info) ? NULL : &info)) {
			err = -ENOMEM;
			break;
		}
	}
	for (int l = 0; l < BT_LOSS_MAX; l++)
		m->lost[l] = losses[l];
	free(percpu);
	return err;
}
