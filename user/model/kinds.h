/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The one table of boundary kinds and directions: names, for every exporter. */
#ifndef BT_KINDS_H
#define BT_KINDS_H

#include <stdbool.h>
#include "boundtrace.h"

const char *bt_kind_name(unsigned int kind);
/* Returns the kind for a name, or BT_KIND_NONE. */
unsigned int bt_kind_parse(const char *name);
/* Whether a kind carries bytes (all but futex). */
bool bt_kind_has_bytes(unsigned int kind);
const char *bt_dir_name(unsigned int dir);
/* enum bt_role: client, server, unknown. */
const char *bt_role_name(unsigned int role);
/* enum bt_wait: blocked, dependency, idle, timeout, signal. */
const char *bt_wait_name(unsigned int wait);

#endif
