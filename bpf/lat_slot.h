/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A latency's log-linear slot: below 2^BT_LAT_BITS ns one slot per
 * nanosecond, above that 2^BT_LAT_BITS slots per power of two (each
 * within 1/64 of its value). The chains' distributions use these slots
 * (user/analyze/exchist.h), and the kernel counts one-hop exchanges into
 * the same slots (struct bt_onehop_key), so its counts merge into them
 * exactly: one definition for both sides.
 */
#ifndef BOUNDTRACE_LAT_SLOT_H
#define BOUNDTRACE_LAT_SLOT_H

#include "boundtrace.h"

#define BT_LAT_BITS	6
#define BT_LAT_SUB	(1u << BT_LAT_BITS)
#define BT_LAT_SLOTS	((64 - BT_LAT_BITS + 1) * BT_LAT_SUB)

/* BPF has no count-leading-zeros instruction: log2 by halving. */
static inline __attribute__((always_inline)) __u32 bt_lat_slot(__u64 v)
{
	__u64 t = v;
	__u32 o = 0, s;

	if (v < BT_LAT_SUB)
		return (__u32)v;
	s = (t > 0xFFFFFFFFULL) << 5; t >>= s; o |= s;
	s = (t > 0xFFFF) << 4; t >>= s; o |= s;
	s = (t > 0xFF) << 3; t >>= s; o |= s;
	s = (t > 0xF) << 2; t >>= s; o |= s;
	s = (t > 0x3) << 1; t >>= s; o |= s;
	o |= (__u32)(t >> 1);
	return (o - BT_LAT_BITS + 1) * BT_LAT_SUB +
	       (__u32)((v >> (o - BT_LAT_BITS)) & (BT_LAT_SUB - 1));
}

#endif
