// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "lib/vec.h"
#include "live/ringread.h"

/* A record's header (struct bpf_ringbuf_hdr in the kernel): its length and flags, then 4 bytes. */
#define HDR_BYTES	8

int bt_ring_open(struct bt_ring *r, int map_fd, bt_ring_fn fn, void *ctx)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	void *p;

	memset(r, 0, sizeof(*r));
	r->fd = map_fd;
	r->fn = fn;
	r->ctx = ctx;
	r->page = (size_t)getpagesize();
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || !info.max_entries ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	r->size = info.max_entries;
	p = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->consumer = p;
	/* The producer's page and the data, once: the kernel maps what we ask of its double view. */
	p = mmap(NULL, r->page + r->size, PROT_READ, MAP_SHARED, map_fd, (off_t)r->page);
	if (p == MAP_FAILED) {
		int err = -errno;

		bt_ring_close(r);
		return err;
	}
	r->producer = p;
	r->data = (const uint8_t *)p + r->page;
	return 0;
}

/* The sample at offset off of the data, len bytes, in one piece (NULL: out of memory). */
static void *sample_at(struct bt_ring *r, size_t off, size_t len)
{
	size_t first = r->size - off;

	if (len <= first)
		return (void *)(r->data + off);
	if (!bt_grow((void **)&r->wrapped, &r->wrapcap, len, 1))
		return NULL;
	memcpy(r->wrapped, r->data + off, first);
	memcpy(r->wrapped + first, r->data, len - first);
	return r->wrapped;
}

int bt_ring_consume(struct bt_ring *r)
{
	unsigned long cons;
	int count = 0;
	bool more;

	if (!r->data)
		return 0;	/* not opened: --no-chains has no record rings to read */
	cons = __atomic_load_n(r->consumer, __ATOMIC_ACQUIRE);
	do {
		unsigned long prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);

		more = false;
		while (cons < prod) {
			/* A header is 8 bytes at an 8-byte offset: it never wraps. */
			const uint32_t *hdr = (const uint32_t *)(r->data + (cons & (r->size - 1)));
			uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
			size_t size = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
			size_t off = (cons + HDR_BYTES) & (r->size - 1);

			if (len & BPF_RINGBUF_BUSY_BIT)
				return count;	/* still being written: the next pass takes it */
			more = true;
			cons += (HDR_BYTES + size + 7) & ~7ul;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
				void *sample = sample_at(r, off, size);
				int err = sample ? r->fn(r->ctx, sample, size) : -ENOMEM;

				if (err < 0) {
					__atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
					return err;
				}
				count++;
			}
			__atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
		}
	} while (more);
	return count;
}

int bt_ring_poll(struct bt_ring *r, int timeout_ms)
{
	struct pollfd pfd = { .fd = r->fd, .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) < 0)
		return -errno;
	return bt_ring_consume(r);
}

void bt_ring_close(struct bt_ring *r)
{
	if (r->consumer)
		munmap(r->consumer, r->page);
	if (r->producer)
		munmap((void *)r->producer, r->page + r->size);
	free(r->wrapped);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}
