/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A BPF ring buffer's reader that maps the ring's data once. libbpf's
 * ring_buffer maps it twice in a row, so that a record that wraps reads
 * as one piece; every page of both mappings counts in our RSS (a 2 MiB
 * ring: 4 MiB). Here a record that wraps (at most one per pass round
 * the ring) is copied whole into a buffer of our own instead.
 */
#ifndef BT_RINGREAD_H
#define BT_RINGREAD_H

#include <stddef.h>
#include <stdint.h>

/* One record: 0 to go on, negative to stop the pass (that is its result). */
typedef int (*bt_ring_fn)(void *ctx, void *data, size_t size);

struct bt_ring {
	int fd;
	size_t size;			/* the data's bytes, a power of two */
	size_t page;
	unsigned long *consumer;	/* our position, the one page we may write */
	const unsigned long *producer;	/* the kernel's page, the data right after it */
	const uint8_t *data;
	uint8_t *wrapped;		/* a record that wraps, made whole */
	size_t wrapcap;
	bt_ring_fn fn;
	void *ctx;
};

/* 0, or -errno (r is then closed). */
int bt_ring_open(struct bt_ring *r, int map_fd, bt_ring_fn fn, void *ctx);
/* Every record the kernel has committed, in order: how many, or fn's negative result. */
int bt_ring_consume(struct bt_ring *r);
/*
 * Waits up to timeout_ms for the kernel to wake the ring (a record
 * submitted with a wakeup), then consumes: as bt_ring_consume, -EINTR
 * when a signal came, or -errno.
 */
int bt_ring_poll(struct bt_ring *r, int timeout_ms);
void bt_ring_close(struct bt_ring *r);

#endif
