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
 * *lat_ns; its request's start and thread are in done_req_ns and
 * done_req_tid.
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
		if (cn->owed && cn->role == BT_ROLE_CLIENT) {
			/* The request bt_exchange_owe_request counted: its send's step, late. */
			cn->owed = 0;
			return false;
		}
		if (cn->phase != BT_PHASE_REQUEST) {
			cn->phase = BT_PHASE_REQUEST;
			cn->req_ns = now;
			cn->req_tid = tid;
		}
		return false;
	}
	if (cn->owed && cn->role == BT_ROLE_SERVER) {
		/* The response bt_exchange_owe found queued: its send's step, late. */
		cn->owed = 0;
		cn->exchanges++;
		cn->resp_ns = now;
		*lat_ns = now - cn->done_req_ns;
		return true;
	}
	/* More of a response, or a server speaking first (a greeting). */
	if (cn->phase != BT_PHASE_REQUEST)
		return false;
	cn->phase = BT_PHASE_RESPONSE;
	cn->exchanges++;
	cn->resp_ns = now;
	cn->done_req_ns = cn->req_ns;
	cn->done_req_tid = cn->req_tid;
	*lat_ns = now - cn->req_ns;
	return true;
}

/*
 * A server whose response is sent by one thread while another reads the
 * next request (a pool: the main thread reads, a worker answers). The
 * send's step runs once sock_sendmsg returns; before that the client may
 * have read the response and sent its next request, and the reading
 * thread received it: request bytes while the state still waits for the
 * response, and the two would be one exchange. Whether a receive should
 * look for a response sent and not stepped yet: request bytes on a
 * server's connection while a request moves and no response is owed
 * already. Rare otherwise (a request read in several calls).
 */
BT_STEP_INLINE bool bt_exchange_asks_sent(const struct bt_conn *cn, __u8 dir)
{
	return dir == BT_DIR_RECV && cn->role == BT_ROLE_SERVER &&
	       cn->phase == BT_PHASE_REQUEST && !cn->owed;
}

/*
 * The mirror: a client whose request is sent by one thread while another
 * reads the responses. The server may answer, and the reading thread
 * read the answer, before the send's step: response bytes while the state
 * still holds the last response, and the request would be lost in it.
 * Whether a receive should look for a request sent and not stepped yet:
 * response bytes on a client's connection while a response moves and no
 * request is owed already. Otherwise a response read in several calls.
 */
BT_STEP_INLINE bool bt_exchange_asks_asked(const struct bt_conn *cn, __u8 dir)
{
	return dir == BT_DIR_RECV && cn->role == BT_ROLE_CLIENT &&
	       cn->phase == BT_PHASE_RESPONSE && !cn->owed;
}

/* Whether a receive looks for a send of this end's not stepped yet: either race. */
BT_STEP_INLINE bool bt_exchange_asks(const struct bt_conn *cn, __u8 dir)
{
	return bt_exchange_asks_sent(cn, dir) || bt_exchange_asks_asked(cn, dir);
}

/*
 * TCP's answer: the socket's own send sequence (tcp_sock.write_seq,
 * advanced as sendmsg queues the bytes) moved since the last step (wseq,
 * left by every step).
 */
BT_STEP_INLINE bool bt_exchange_seq_moved(const struct bt_conn *cn, __u32 write_seq)
{
	return write_seq != cn->wseq;
}

/*
 * A unix socket's answer: a send from this end that the far end was told
 * of (queued_ns, the far end's bt_conn.queued, stamped by sk_data_ready
 * in the sender's context with the send's entry) began after the phase
 * did: a server's request (req_ns, its first read), a client's response
 * (resp_ns, its first read). Any send stepped in that time left the
 * phase, so this one was not; a client's pipelined request, sent before
 * the response began, is no such send. A protocol that reads the end of
 * its request after answering it (php-fpm) is not asked: its answer was
 * stepped, the state does not wait for one. 0: the far end's state could
 * not be read.
 */
BT_STEP_INLINE bool bt_exchange_queued_since(const struct bt_conn *cn, __u64 queued_ns)
{
	return queued_ns > (cn->phase == BT_PHASE_REQUEST ? cn->req_ns : cn->resp_ns);
}

/*
 * The pool's: bytes were queued whose send has not been stepped yet, the
 * response. It is owed (counted, with this request's start and thread, at its
 * send's late step, on the thread that sent it) and the bytes being read
 * begin the next request. Called before the receive's step.
 */
BT_STEP_INLINE void bt_exchange_owe(struct bt_conn *cn)
{
	cn->owed = 1;
	cn->done_req_ns = cn->req_ns;
	cn->done_req_tid = cn->req_tid;
	cn->phase = BT_PHASE_IDLE;
}

/*
 * TCP's time for a client's request sent and not stepped: the socket's
 * last transmission (tcp_sock.tcp_wstamp_ns, the same clock) when it
 * falls after the response began and by now, else the response's start,
 * the earliest it can have been sent.
 */
BT_STEP_INLINE __u64 bt_exchange_sent_within(const struct bt_conn *cn, __u64 wstamp, __u64 now)
{
	return wstamp > cn->resp_ns && wstamp <= now ? wstamp : cn->resp_ns;
}

/*
 * The mirror's: bytes were queued whose send has not been stepped yet, a
 * request, sent at req_ns by thread req_tid as far as the kind knows
 * (bt_exchange_queued_since's stamp and its sender on a unix socket). It
 * is counted now: the bytes being read complete it, and its send's late
 * step is owed, it begins nothing. Called before the receive's step.
 */
BT_STEP_INLINE void bt_exchange_owe_request(struct bt_conn *cn, __u64 req_ns, __u32 req_tid)
{
	cn->owed = 1;
	cn->phase = BT_PHASE_REQUEST;
	cn->req_ns = req_ns;
	cn->req_tid = req_tid;
}

/*
 * A send of this end's found queued and not stepped yet, when
 * bt_exchange_asks: a server's response owed, a client's request counted
 * (sent as *sent says, as far as the kind knows).
 */
BT_STEP_INLINE void bt_exchange_unstepped(struct bt_conn *cn, const struct bt_send_stamp *sent)
{
	if (cn->role == BT_ROLE_SERVER)
		bt_exchange_owe(cn);
	else
		bt_exchange_owe_request(cn, sent->ns, sent->tid);
}

#endif /* BOUNDTRACE_EXCHANGE_STEP_H */
