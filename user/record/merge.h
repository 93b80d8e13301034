/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * `boundtrace report A.btrec B.btrec …`: the recordings of several hosts
 * as one model. Each host's pids and pipe/socket inodes are moved apart
 * (model.h: BT_HOST_PID_STRIDE, BT_HOST_INO_SHIFT), its processes named
 * "host:comm"; the rest is the model as every report reads it, so TCP and
 * UDP rows whose tuples mirror each other across hosts pair like two ends
 * on one machine (analyze/peers.c), and analyze/clocks.c puts the hosts'
 * episode times on one timeline.
 */
#ifndef BT_REC_MERGE_H
#define BT_REC_MERGE_H

#include <stddef.h>
#include "model/model.h"

#define BT_MERGE_MAX_HOSTS	64

/*
 * Reads paths[0..n) into m (initialized, empty), one host each, in that
 * order. A recording that cannot be read, holds no complete snapshot,
 * comes from a host already given, or has another format version is a
 * one-line error: -1 with the message in err. Cut-short recordings are
 * merged from their last snapshot, and said in warn (may be "").
 */
int bt_rec_merge(const char *const *paths, int n, struct bt_model *m, char *warn,
		 size_t warnlen, char *err, size_t errlen);

#endif
