/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One end of an inet conversation (address and port) as one number, the
 * one way every program names it: the remote end in a row key
 * (bt_key.peer, also in episodes and exchange records) and both ends of a
 * connection in an exchange record (end_a, end_b). The port, host order,
 * is the top 16 bits, xored over the address: an IPv4 address as it is
 * (network order, the low 32 bits), an IPv6 one folded to 64 bits.
 * Userspace never decodes it, only compares; the kernel side reads a
 * port of 0 (no remote named yet: an unconnected UDP socket) from the
 * top bits.
 */
#ifndef BOUNDTRACE_INET_END_BPF_H
#define BOUNDTRACE_INET_END_BPF_H

static __always_inline __u64 inet_end(__u64 addr, __u16 port)
{
	return (__u64)port << 48 ^ addr;
}

/* An IPv6 address (four 32-bit words) folded to 64 bits. */
static __always_inline __u64 in6_fold(const __u32 *a)
{
	return (__u64)(a[0] ^ a[1]) << 32 | (a[2] ^ a[3]);
}

#endif /* BOUNDTRACE_INET_END_BPF_H */
