// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "discover/discover.h"
#include "discover/netdiag.h"
#include "discover/proc.h"
#include "discover/procscan.h"
#include "lib/hmap.h"
#include "lib/vec.h"

/*
 * What one round reads, once. Every table is sorted by inode (the inet
 * tables also indexed by local port), so a round is O(n log n) in the
 * machine's fds and sockets: a server holding thousands of connections
 * on a machine of tens of thousands of fds made every scan of it
 * quadratic, each of its fds searched for in every table in turn.
 */
struct world {
	struct bt_fdref *own;		/* the targets' fds */
	size_t nown, capown;
	struct bt_fdref *all;		/* every process's pipe and socket fds, by inode */
	size_t nall, capall;
	struct bt_unix_sock *unx;	/* by inode */
	size_t nunx, capunx;
	const struct bt_inet_sock *inet;	/* struct bt_discovery's, by inode */
	const uint32_t *by_lport;	/* and their indexes by local port */
	size_t ninet;
};

static void world_free(struct world *w)
{
	free(w->own);
	free(w->all);
	free(w->unx);
}

/* Orders by inode, then as the scan found them (pid, fd): a holder's place is its pid's. */
static int cmp_fdref(const void *pa, const void *pb)
{
	const struct bt_fdref *a = pa, *b = pb;

	if (a->ino != b->ino)
		return a->ino < b->ino ? -1 : 1;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->fd < b->fd ? -1 : a->fd > b->fd;
}

static int cmp_unix(const void *pa, const void *pb)
{
	return bt_cmp_u64(&((const struct bt_unix_sock *)pa)->ino,
			  &((const struct bt_unix_sock *)pb)->ino);
}

static int cmp_inet(const void *pa, const void *pb)
{
	return bt_cmp_u64(&((const struct bt_inet_sock *)pa)->ino,
			  &((const struct bt_inet_sock *)pb)->ino);
}

static int cmp_lport(const void *pa, const void *pb, void *ctx)
{
	const struct bt_inet_sock *in = ctx;
	uint32_t i = *(const uint32_t *)pa, j = *(const uint32_t *)pb;

	if (in[i].lport != in[j].lport)
		return in[i].lport < in[j].lport ? -1 : 1;
	return (i > j) - (i < j);	/* a port's sockets by inode */
}

/* The inet tables just read, sorted and indexed as struct world wants them. */
static void index_inet(struct bt_discovery *d)
{
	qsort(d->inet, d->ninet, sizeof(*d->inet), cmp_inet);
	if (d->ninet && !bt_grow((void **)&d->by_lport, &d->capby, d->ninet,
				 sizeof(*d->by_lport))) {
		d->ninet = 0;	/* no index: as if the tables said nothing */
		return;
	}
	for (size_t i = 0; i < d->ninet; i++)
		d->by_lport[i] = (uint32_t)i;
	qsort_r(d->by_lport, d->ninet, sizeof(*d->by_lport), cmp_lport, d->inet);
}

static const struct bt_unix_sock *find_unix(const struct world *w, uint64_t ino)
{
	size_t i = bt_lower_bound_u64(w->unx, w->nunx, sizeof(*w->unx),
				      offsetof(struct bt_unix_sock, ino), ino);

	return i < w->nunx && w->unx[i].ino == ino ? &w->unx[i] : NULL;
}

static const struct bt_inet_sock *find_inet(const struct world *w, uint64_t ino)
{
	size_t i = bt_lower_bound_u64(w->inet, w->ninet, sizeof(*w->inet),
				      offsetof(struct bt_inet_sock, ino), ino);

	return i < w->ninet && w->inet[i].ino == ino ? &w->inet[i] : NULL;
}

/* The first of the inet tables' port index whose socket's local port is port or more. */
static size_t first_lport(const struct world *w, uint16_t port)
{
	size_t lo = 0, hi = w->ninet;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->inet[w->by_lport[mid]].lport < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The socket at the other end of a connected inet socket, on this machine. */
static const struct bt_inet_sock *inet_mirror(const struct world *w,
					      const struct bt_inet_sock *s)
{
	if (!s->rport)
		return NULL;	/* listening or unconnected */
	for (size_t i = first_lport(w, s->rport); i < w->ninet; i++) {
		const struct bt_inet_sock *o = &w->inet[w->by_lport[i]];

		if (o->lport != s->rport)
			break;
		if (o->ino && o->proto == s->proto &&
		    o->rport == s->lport &&
		    bt_inet_addr_equal(o->family, o->laddr, s->family, s->raddr) &&
		    bt_inet_addr_equal(o->family, o->raddr, s->family, s->laddr))
			return o;
	}
	return NULL;
}

static void record_sock(struct bt_model *m, uint64_t ino, uint64_t peer_ino,
			const struct bt_inet_sock *in)
{
	struct bt_sockfact f = { .ino = ino, .peer_ino = peer_ino };

	if (in) {
		f.proto = in->proto;
		f.family = in->family;
		f.lport = in->lport;
		f.rport = in->rport;
		memcpy(f.laddr, in->laddr, 16);
		memcpy(f.raddr, in->raddr, 16);
	}
	bt_model_add_sockfact(m, &f);
}

/*
 * Every holder of inode ino (of type) goes into the model; the ones other
 * than pid that hold the wanted end are far processes.
 */
static int far_holders(struct bt_model *m, const struct world *w, uint64_t ino, uint8_t type,
		       uint8_t want_end, uint32_t pid, int hop, int max_hops,
		       bt_add_target_fn add, void *ctx)
{
	int added = 0;

	for (size_t i = bt_lower_bound_u64(w->all, w->nall, sizeof(*w->all),
					   offsetof(struct bt_fdref, ino), ino);
	     i < w->nall && w->all[i].ino == ino; i++) {
		const struct bt_fdref *r = &w->all[i];
		struct bt_holder h = { .ino = r->ino, .pid = r->pid, .type = r->type,
				       .mode = r->mode };
		struct bt_proc *q;

		if (r->type != type)
			continue;
		bt_model_add_holder(m, &h);
		/* Name it now: it may exit before the report. */
		if (!bt_model_find(m, r->pid)) {
			q = bt_model_proc(m, r->pid);
			if (q)
				bt_proc_read_image(q);
		}
		/* Never follow into boundtrace itself. */
		if (r->pid == pid || r->pid == (uint32_t)getpid() ||
		    (want_end && !(r->mode & want_end)) || hop >= max_hops)
			continue;
		q = bt_model_find(m, r->pid);
		if (q && q->target && !q->exited)
			continue;
		if (add(ctx, r->pid, hop + 1) == 0)
			added++;
	}
	return added;
}

/* Whether pid has a row on pipe ino: it read or wrote it while traced. */
static bool crossed_pipe(const struct bt_model *m, uint32_t pid, uint64_t ino)
{
	const struct bt_proc *p = bt_model_find((struct bt_model *)m, pid);

	for (size_t j = 0; p && j < p->nrows; j++)
		if (p->rows[j].key.kind == BT_KIND_PIPE && p->rows[j].key.chan == ino)
			return true;
	return false;
}

static int follow_fd(struct bt_model *m, const struct world *w, const struct bt_fdref *r,
		     int hop, int max_hops, bt_add_target_fn add, void *ctx)
{
	const struct bt_unix_sock *u;
	const struct bt_inet_sock *s, *o;
	uint8_t want;

	if (r->type == BT_FD_PIPE) {
		/* A writer's far end reads, a reader's writes; both ends: either. */
		want = r->mode == BT_END_WRITE ? BT_END_READ :
		       r->mode == BT_END_READ ? BT_END_WRITE : 0;
		/*
		 * A target's writers are followed at once (their first write
		 * comes before the target's read); its readers once it wrote:
		 * an inherited stderr pipe to a supervisor, never written,
		 * leads nowhere. Holders are named either way. (The reader
		 * counts from the first byte: the target's write marked it.)
		 */
		return far_holders(m, w, r->ino, BT_FD_PIPE, want, r->pid, hop,
				   (r->mode & BT_END_READ) || crossed_pipe(m, r->pid, r->ino) ?
				   max_hops : hop, add, ctx);
	}
	u = find_unix(w, r->ino);
	if (u) {
		record_sock(m, u->ino, u->peer_ino, NULL);
		if (!u->peer_ino)
			return 0;
		record_sock(m, u->peer_ino, u->ino, NULL);
		return far_holders(m, w, u->peer_ino, BT_FD_SOCKET, 0, r->pid, hop, max_hops,
				   add, ctx);
	}
	s = find_inet(w, r->ino);
	if (!s)
		return 0;
	record_sock(m, s->ino, 0, s);
	o = inet_mirror(w, s);
	if (!o)
		return 0;
	record_sock(m, o->ino, 0, o);
	return far_holders(m, w, o->ino, BT_FD_SOCKET, 0, r->pid, hop, max_hops, add, ctx);
}

/*
 * boundtrace's own stdio (the terminal plumbing a -c command inherits,
 * `boundtrace ... | less`) is not part of the traced system: its far ends
 * are not followed.
 */
static bool own_stdio(uint64_t ino)
{
	static uint64_t inos[3];
	static bool read_them;
	struct stat st;

	if (!read_them) {
		for (int fd = 0; fd < 3; fd++)
			inos[fd] = fstat(fd, &st) ? 0 : st.st_ino;
		read_them = true;
	}
	return ino && (ino == inos[0] || ino == inos[1] || ino == inos[2]);
}

/*
 * The far ends the kernel named at the targets' crossings (a connection
 * that lived between two scans): followed like the ones /proc shows.
 */
static int follow_named(struct bt_model *m, int max_hops, bt_add_target_fn add, void *ctx)
{
	int added = 0;

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];
		int hop = p->hop;
		uint32_t self = p->pid;

		if (!p->target || p->exited || hop >= max_hops)
			continue;
		for (size_t j = 0; j < m->procs[i].nrows; j++) {
			const struct bt_row *r = &m->procs[i].rows[j];
			uint32_t pid = r->has_info ? r->info.peer_tgid : 0;
			const struct bt_proc *q;

			if (!pid || pid == self || pid == (uint32_t)getpid())
				continue;
			q = bt_model_find(m, pid);
			if (q && q->target && !q->exited)
				continue;
			if (add(ctx, pid, hop + 1) == 0)
				added++;
		}
	}
	return added;
}

/* A UDP row whose server the kernel could not name (it bound before the trace). */
static bool udp_server_unknown(const struct bt_row *r)
{
	return r->key.kind == BT_KIND_UDP && r->has_info && r->info.rport && !r->info.peer_tgid;
}

/*
 * A UDP server bound before the trace began is in no kernel map: the
 * targets' unnamed UDP far ends are looked up among the sockets bound
 * without a peer (sock_diag), and their holders (/proc) are the far ends.
 */
static int name_udp_servers(struct bt_model *m, const struct world *w, int max_hops,
			    bt_add_target_fn add, void *ctx)
{
	int added = 0;

	for (size_t i = 0; i < m->nprocs; i++) {
		for (size_t j = 0; j < m->procs[i].nrows; j++) {
			struct bt_row r = m->procs[i].rows[j];
			uint32_t pid = m->procs[i].pid;
			int hop = m->procs[i].target ? m->procs[i].hop : max_hops;

			if (!udp_server_unknown(&r))
				continue;
			for (size_t k = first_lport(w, r.info.rport); k < w->ninet; k++) {
				const struct bt_inet_sock *in = &w->inet[w->by_lport[k]];
				static const uint8_t any[16];

				if (in->lport != r.info.rport)
					break;
				if (!in->ino || in->proto != IPPROTO_UDP || in->rport ||
				    (memcmp(in->laddr, any, in->family == AF_INET ? 4 : 16) &&
				     !bt_inet_addr_equal(in->family, in->laddr, r.info.family,
							 r.info.raddr)))
					continue;
				record_sock(m, in->ino, 0, in);
				added += far_holders(m, w, in->ino, BT_FD_SOCKET, 0, pid, hop,
						     max_hops, add, ctx);
			}
		}
	}
	return added;
}

static bool any_udp_server_unknown(const struct bt_model *m)
{
	for (size_t i = 0; i < m->nprocs; i++)
		for (size_t j = 0; j < m->procs[i].nrows; j++)
			if (udp_server_unknown(&m->procs[i].rows[j]))
				return true;
	return false;
}

#define SOCK_STATE_LISTEN	10	/* TCP_LISTEN, for unix sockets too */

/* Whether addr is this machine's: loopback, or an address of one of its interfaces. */
static bool addr_local(int family, const uint8_t *addr, struct ifaddrs **ifs, bool *read)
{
	if (bt_inet_addr_loopback(family, addr))
		return true;
	if (!*read) {
		*read = true;
		if (getifaddrs(ifs))
			*ifs = NULL;
	}
	/* Unknown (getifaddrs failed): local, so the tables are read. */
	if (!*ifs)
		return true;
	for (const struct ifaddrs *i = *ifs; i; i = i->ifa_next) {
		const struct sockaddr *sa = i->ifa_addr;

		if (sa && sa->sa_family == AF_INET &&
		    bt_inet_addr_equal(AF_INET, (const uint8_t *)
				       &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				       family, addr))
			return true;
		if (sa && sa->sa_family == AF_INET6 &&
		    bt_inet_addr_equal(AF_INET6, ((const struct sockaddr_in6 *)
						  (const void *)sa)->sin6_addr.s6_addr,
				       family, addr))
			return true;
	}
	return false;
}

/*
 * Whether what the inet tables w holds say of a target's socket s is all
 * they will ever say for its far end: a listener; a connection whose far
 * socket is there with its file (inet_mirror), or whose far end is
 * another host; an unconnected UDP socket (its far ends are the kernel's
 * rows: name_udp_servers). A socket not in them, one not connected yet,
 * or a local connection whose far end has no file yet (not accepted) is
 * not settled: the tables are read again.
 */
static bool inet_settled(const struct world *w, const struct bt_inet_sock *s,
			 struct ifaddrs **ifs, bool *read)
{
	if (!s)
		return false;
	if (s->proto == IPPROTO_TCP && s->state == SOCK_STATE_LISTEN)
		return true;
	if (!s->rport)
		return s->proto == IPPROTO_UDP;
	return inet_mirror(w, s) || !addr_local(s->family, s->raddr, ifs, read);
}

/*
 * Whether a round must read the inet tables (by far its dearest read:
 * the kernel walks its whole TCP hash for /proc/net/tcp, 3 ms or more
 * for each of tcp and tcp6 on a machine with a large one): when a target
 * holds an inet socket the last tables do not settle, or a UDP far end
 * is still to be named.
 */
static bool inet_tables_wanted(const struct bt_model *m, const struct world *w)
{
	struct ifaddrs *ifs = NULL;
	bool read = false, want = any_udp_server_unknown(m);

	for (size_t i = 0; i < w->nown && !want; i++)
		if (w->own[i].type == BT_FD_SOCKET && !find_unix(w, w->own[i].ino))
			want = !inet_settled(w, find_inet(w, w->own[i].ino), &ifs, &read);
	if (ifs)
		freeifaddrs(ifs);
	return want;
}

/* boundtrace's network namespace (its inode number), the one netdiag reads. */
static uint32_t own_netns(void)
{
	static uint32_t inum;
	struct stat st;

	if (!inum && !stat("/proc/self/ns/net", &st))
		inum = (uint32_t)st.st_ino;
	return inum;
}

/* The targets' listening sockets, to the kernel (bt_listener_fn). */
static void report_listeners(const struct world *w, bt_listener_fn listener, void *ctx)
{
	for (size_t i = 0; i < w->nown; i++) {
		const struct bt_unix_sock *u;
		const struct bt_inet_sock *s;

		if (w->own[i].type != BT_FD_SOCKET)
			continue;
		u = find_unix(w, w->own[i].ino);
		if (u) {
			if (u->state == SOCK_STATE_LISTEN && u->type == SOCK_STREAM)
				listener(ctx, BT_MARK_UNIX_LISTENER(u->ino));
			continue;
		}
		s = find_inet(w, w->own[i].ino);
		if (s && s->proto == IPPROTO_TCP && s->state == SOCK_STATE_LISTEN && own_netns())
			listener(ctx, BT_MARK_TCP_LISTENER(own_netns(), s->lport));
	}
}

/*
 * What a round asks, as one number: the live targets, the pipe and
 * socket fds they hold (with their ends) and how many rows the model
 * has (a target's first crossing on a channel, a far process counted on
 * a marked one: rows are only ever added). Summed, so the order the
 * processes and fds come in does not matter.
 */
static uint64_t question(const struct bt_model *m, const struct world *w)
{
	uint64_t q = 0, rows = 0;

	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];

		rows += p->nrows;
		if (p->target && !p->exited)
			q += bt_hash(&p->pid, sizeof(p->pid));
	}
	for (size_t i = 0; i < w->nown; i++) {
		const struct bt_fdref *r = &w->own[i];
		uint64_t v[2] = { r->ino, (uint64_t)r->pid << 16 | (uint64_t)r->type << 8 | r->mode };

		q += bt_hash(v, sizeof(v));
	}
	return q + bt_hash(&rows, sizeof(rows));
}

int bt_discover_round(struct bt_model *m, struct bt_discovery *d, bool force, int max_hops,
		      bt_add_target_fn add, bt_listener_fn listener, bt_tick_fn tick, void *ctx)
{
	struct world w = {};
	int added = 0, err = 0;
	uint64_t q;
	bool same;

	added = follow_named(m, max_hops, add, ctx);
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct bt_proc *p = &m->procs[i];

		if (p->target && !p->exited)
			bt_scan_process_fds(p->pid, &w.own, &w.nown, &w.capown);
	}
	/*
	 * The scan of every process (the dearest part of a round: a readlink
	 * per fd of the machine) answers the same question the same way: it
	 * waits, twice as many rounds each time it found nothing new.
	 */
	q = question(m, &w);
	same = d->span && q == d->question && !added;
	if (same && d->idle && !force) {
		d->idle--;
		goto out;
	}
	if (!w.nown && !any_udp_server_unknown(m))
		goto out;
	err = bt_scan_all_fds(&w.all, &w.nall, &w.capall, tick, ctx);
	if (err)
		goto out;
	qsort(w.all, w.nall, sizeof(*w.all), cmp_fdref);
	/* Sockets are optional facts: without them pipes still pair. */
	bt_unix_socks(&w.unx, &w.nunx, &w.capunx);
	qsort(w.unx, w.nunx, sizeof(*w.unx), cmp_unix);
	w.inet = d->inet;
	w.by_lport = d->by_lport;
	w.ninet = d->ninet;
	if (inet_tables_wanted(m, &w)) {
		d->ninet = 0;
		bt_inet_socks(0, &d->inet, &d->ninet, &d->capinet);
		index_inet(d);
		w.inet = d->inet;
		w.by_lport = d->by_lport;
		w.ninet = d->ninet;
		d->inet_reads++;
		added += name_udp_servers(m, &w, max_hops, add, ctx);
	} else if (w.ninet) {
		d->inet_reused++;
	}
	if (listener)
		report_listeners(&w, listener, ctx);
	for (size_t i = 0; i < w.nown; i++) {
		const struct bt_proc *p = bt_model_find(m, w.own[i].pid);
		int n;

		if (own_stdio(w.own[i].ino))
			continue;
		n = follow_fd(m, &w, &w.own[i], p ? p->hop : max_hops, max_hops, add, ctx);

		if (n > 0)
			added += n;
	}
	/* A scan that found nothing new to ask about waits longer next time. */
	if (!err) {
		d->span = same && !added ? (d->span * 2 > BT_DISCOVER_MAX_SPAN ?
					    BT_DISCOVER_MAX_SPAN : d->span * 2) : 1;
		d->idle = d->span - 1;
		d->question = q;
	}
out:
	world_free(&w);
	return err ? err : added;
}

void bt_discovery_free(struct bt_discovery *d)
{
	free(d->inet);
	free(d->by_lport);
	*d = (struct bt_discovery){ 0 };
}
