// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <string.h>
#include "model/kinds.h"

static const struct {
	const char *name;
	bool has_bytes;
} kinds[BT_KIND_MAX] = {
	[BT_KIND_NONE]		= { "other", false },
	[BT_KIND_PIPE]		= { "pipe", true },
	[BT_KIND_UNIX_STREAM]	= { "unix_stream", true },
	[BT_KIND_UNIX_DGRAM]	= { "unix_dgram", true },
	[BT_KIND_TCP]		= { "tcp", true },
	[BT_KIND_UDP]		= { "udp", true },
	[BT_KIND_FUTEX]		= { "futex", false },
};

static const char *const dirs[BT_DIR_MAX] = {
	[BT_DIR_SEND] = "send",
	[BT_DIR_RECV] = "recv",
	[BT_DIR_WAIT] = "wait",
	[BT_DIR_WAKE] = "wake",
};

const char *bt_kind_name(unsigned int kind)
{
	return kind < BT_KIND_MAX ? kinds[kind].name : "other";
}

unsigned int bt_kind_parse(const char *name)
{
	for (unsigned int k = 1; k < BT_KIND_MAX; k++)
		if (!strcmp(kinds[k].name, name))
			return k;
	return BT_KIND_NONE;
}

bool bt_kind_has_bytes(unsigned int kind)
{
	return kind < BT_KIND_MAX && kinds[kind].has_bytes;
}

const char *bt_dir_name(unsigned int dir)
{
	return dir < BT_DIR_MAX ? dirs[dir] : "?";
}

const char *bt_role_name(unsigned int role)
{
	static const char *const roles[] = {
		[BT_ROLE_UNKNOWN] = "unknown", [BT_ROLE_CLIENT] = "client",
		[BT_ROLE_SERVER] = "server",
	};

	return role < sizeof(roles) / sizeof(roles[0]) ? roles[role] : "?";
}

const char *bt_wait_name(unsigned int wait)
{
	static const char *const waits[BT_WAIT_MAX] = {
		[BT_WAIT_BLOCKED] = "blocked", [BT_WAIT_DEPENDENCY] = "dependency",
		[BT_WAIT_IDLE] = "idle", [BT_WAIT_TIMEOUT] = "timeout", [BT_WAIT_SIGNAL] = "signal",
	};

	return wait < BT_WAIT_MAX ? waits[wait] : "?";
}
