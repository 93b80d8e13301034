/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The exchange state machine's step on one connection (struct bt_conn in
 * boundtrace.h), as pure functions: no BPF helper, no kernel type, so the
 * unit tests run the very code the kernel runs (tests/unit/
 * test_exchange_step.c). exchange.bpf.h finds the socket's storage, sets
 * the role from the handshake or the bound address, reads the clock and
 * calls these; what they decide goes to the thread's in-flight slot and,
 * in chain mode, to an exchange record.
 */
#ifndef BOUNDTRACE_EXCHANGE_STEP_H
#define BOUNDTRACE_EXCHANGE_STEP_H

#include "boundtrace.h"
#ifndef __VMLINUX_H__
#include <stdbool.h>	/* userspace; BPF gets bool from vmlinux.h */
#endif

/* Inlined on both sides: in BPF a call per crossing would cost. */
#define BT_STEP_INLINE	static inline __attribute__((always_inline))

/*
 * A call the state machine does not see: an error, or a peek (it
 * consumes nothing: the read that takes the bytes is what counts).
 * Checked before the socket's storage is looked up, so neither makes one.
 */
BT_STEP_INLINE bool bt_exchange_ignored(int ret, int flags, __u8 dir)
{
	return ret < 0 || (dir == BT_DIR_RECV && (flags & BT_MSG_PEEK));
}

/*
 * One send or receive of `bytes` (>= 0) on connection cn, by thread tid,
 * at now. Bytes in the request direction (client send, server receive)
 * start a request unless one is already moving (so pipelined requests are
 * one exchange); the first bytes the other way while a request moves
 * complete the exchange, and more of them are more of that response. A
 * receive of 0 bytes is the end of file: a request moving is abandoned.
 * Bytes from the server with nothing moving (a greeting) are no exchange.
 * With no role known, the first to move data is the client (last resort:
 * server-first protocols exist). Returns true when this call completed an
 * exchange, its latency (client: request's first send -> response's first
 * receive; server: request's first receive -> response's first send) in
 * *lat_ns.
 */
BT_STEP_INLINE bool bt_exchange_step(struct bt_conn *cn, __u8 dir, __u64 bytes, __u32 tid,
				     __u64 now, __u64 *lat_ns)
{
	bool request;

	if (!bytes) {
		if (dir == BT_DIR_RECV)
			cn->phase = BT_PHASE_IDLE;	/* end of file */
		return false;
	}
	if (cn->role == BT_ROLE_UNKNOWN) {
		cn->role = dir == BT_DIR_SEND ? BT_ROLE_CLIENT : BT_ROLE_SERVER;
		cn->role_src = BT_ROLE_SRC_FIRST;
	}
	if (dir == BT_DIR_SEND)
		cn->sent += bytes;
	else
		cn->rcvd += bytes;
	request = (cn->role == BT_ROLE_CLIENT) == (dir == BT_DIR_SEND);
	if (request) {
		if (cn->phase != BT_PHASE_REQUEST) {
			cn->phase = BT_PHASE_REQUEST;
			cn->req_ns = now;
			cn->req_tid = tid;
		}
		return false;
	}
	/* More of a response, or a server speaking first (a greeting). */
	if (cn->phase != BT_PHASE_REQUEST)
		return false;
	cn->phase = BT_PHASE_RESPONSE;
	cn->exchanges++;
	*lat_ns = now - cn->req_ns;
	return true;
}

#endif /* BOUNDTRACE_EXCHANGE_STEP_H */
