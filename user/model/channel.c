// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include "model/channel.h"
#include "model/kinds.h"

void bt_inet_format(int family, const unsigned char addr[16], unsigned int port,
		    char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (family == AF_INET6) {
		inet_ntop(AF_INET6, addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, port);
	} else {
		inet_ntop(AF_INET, addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, port);
	}
}

void bt_channel_format(const struct bt_key *key, const struct bt_chan_info *info,
		       char *buf, size_t len)
{
	const char *kind = bt_kind_name(key->kind);
	char l[64], r[64];

	switch (key->kind) {
	case BT_KIND_PIPE:
		snprintf(buf, len, "pipe:[%llu]", (unsigned long long)key->chan);
		return;
	case BT_KIND_UNIX_STREAM:
	case BT_KIND_UNIX_DGRAM:
		/*
		 * Without the kernel's facts (its map was full) the far end is
		 * unknown, not 0. So is a stream's whose facts were read after
		 * its peer closed (an orphaned socket has no inode): a stream
		 * that carried data had a peer. A datagram socket's 0 is "not
		 * connected".
		 */
		if (!info || (key->kind == BT_KIND_UNIX_STREAM && !info->peer_ino)) {
			snprintf(buf, len, "unix:[%llu->?]", (unsigned long long)key->chan);
			return;
		}
		snprintf(buf, len, "unix:%.*s[%llu->%llu]", (int)sizeof(info->path), info->path,
			 (unsigned long long)key->chan, (unsigned long long)info->peer_ino);
		return;
	case BT_KIND_TCP:
	case BT_KIND_UDP:
		if (!info) {
			snprintf(buf, len, "%s:[%llu]", kind, (unsigned long long)key->chan);
			return;
		}
		bt_inet_format(info->family, info->laddr, info->lport, l, sizeof(l));
		bt_inet_format(info->family, info->raddr, info->rport, r, sizeof(r));
		snprintf(buf, len, "%s:%s->%s", kind, l, r);
		return;
	case BT_KIND_FUTEX:
		snprintf(buf, len, "futex:0x%llx", (unsigned long long)key->chan);
		return;
	default:
		snprintf(buf, len, "%s:[%llu]", kind, (unsigned long long)key->chan);
	}
}
