/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Readable, stable channel names:
 *   pipe:[INODE]
 *   unix:[INODE->PEER]            unix:/path[INODE->PEER] when either end is bound
 *   tcp:127.0.0.1:40000->127.0.0.1:5000     tcp:[::1]:40000->[::1]:5000
 *   futex:0xADDR
 */
#ifndef BT_CHANNEL_H
#define BT_CHANNEL_H

#include <stddef.h>
#include "boundtrace.h"

/* info may be NULL (channel facts lost): inet channels then print by inode. */
void bt_channel_format(const struct bt_key *key, const struct bt_chan_info *info,
		       char *buf, size_t len);
/* "ADDR:PORT" with IPv6 in brackets, from a chan_info side. */
void bt_inet_format(int family, const unsigned char addr[16], unsigned int port,
		    char *buf, size_t len);

#endif
