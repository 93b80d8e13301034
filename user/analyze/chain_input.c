// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The chain analysis' input from the model: each episode as the kernel
 * sent it, its channel named as its row prints it, and the waker
 * inferred for a receive woken from softirq; each exchange record with
 * its service. analyze/chains.c and exchains.c do the rest, window by
 * window as the trace goes; this is the only place that knows both.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/chain_input.h"
#include "analyze/chains_priv.h"
#include "analyze/exchains.h"
#include "analyze/onehop_pairs.h"
#include "analyze/peers.h"
#include "analyze/services.h"
#include "lib/clock.h"
#include "lib/vec.h"
#include "model/channel.h"

_Static_assert(sizeof(((struct bt_chain_end *)0)->comm) == BT_PROC_NAME_LEN,
	       "a chain end names a process as the model does");

/* What names a chain's ends: the processes, and the map's far ends (may be NULL). */
struct chain_names {
	const struct bt_model *m;
	const struct bt_edges *e;
};

static const char *comm_of(uint32_t pid, void *ctx)
{
	const struct bt_proc *p = bt_model_find(((const struct chain_names *)ctx)->m, pid);

	return p ? p->comm : NULL;
}

/* The one process the edges give for service channel of kind from pid, else 0. */
static uint32_t far_end_of(const struct bt_edges *e, uint32_t from, uint8_t kind,
			   const char *channel)
{
	uint32_t to = 0;

	for (size_t i = 0; i < e->n; i++) {
		const struct bt_edge *g = &e->v[i];

		if (g->from != from || g->kind != kind || !g->to || strcmp(g->service, channel))
			continue;
		if (to && g->to != to)
			return 0;
		to = g->to;
	}
	return to;
}

/* bt_chain_opts.node: a pool is one node (--group exe), as in the map. */
static uint32_t node_of(uint32_t pid, uint32_t from, uint8_t kind, const char *channel,
			void *ctx)
{
	const struct chain_names *n = ctx;

	if (pid)
		return bt_node_of(n->m, pid);
	return n->e && from ? far_end_of(n->e, from, kind, channel) : 0;
}

static size_t members_of(uint32_t node, uint32_t *out, size_t max, void *ctx)
{
	return bt_node_members(((const struct chain_names *)ctx)->m, node, out, max);
}

/* The row an episode was counted in (it holds the channel facts), or NULL. */
static const struct bt_row *episode_row(const struct bt_model *m, const struct bt_proc *p,
					const struct bt_episode_ev *e)
{
	struct bt_key k = { .kind = e->kind, .dir = e->dir, .chan = e->chan, .peer = e->peer };

	(void)m;
	return p ? bt_proc_find_row(p, &k) : NULL;
}

/* The channel's name as its row prints it; longer names are cut (display only). */
static void episode_channel(const struct bt_row *r, const struct bt_episode_ev *e,
			    char *buf, size_t len)
{
	struct bt_key key = { .tgid = e->pid, .kind = e->kind, .dir = e->dir,
			      .chan = e->chan, .peer = e->peer };
	size_t n;

	if (!r) {
		bt_channel_format(&key, NULL, buf, len);
		return;
	}
	n = strnlen(r->channel, len - 1);
	memcpy(buf, r->channel, n);
	buf[n] = 0;
}

/* Folded episodes of one process: their waits by class, and the thread(s). */
struct ep_sum {
	uint32_t pid, tid;	/* tid 0: several */
	uint64_t n[BT_WAIT_MAX], ns[BT_WAIT_MAX];
};

/* A pipe read the kernel followed byte for byte (a hand-off record). */
struct pipe_read {
	uint32_t pid, tid;
	uint64_t chan, end_ns;
};

/* What names a record's service (its row's key), for a record added before its naming. */
struct later_key {
	uint64_t chan, peer;
	uint32_t pid;
	uint8_t kind, role;
};

struct bt_chain_fold {
	struct bt_xagg *xagg;
	/*
	 * The check mode's (m->onehop_check): every record, those the kernel
	 * also counted included, folded as if nothing were counted.
	 */
	struct bt_xagg *xcheck;
	/* Of the model's one-hop counts (same index), what the window took so far. */
	struct bt_onehop_val *merged;
	size_t capmerged;
	uint64_t onehop_calls;	/* exchanges the kernel counted, taken */
	/* Connections' one-hop trees paired as their records came (onehop_pairs.h). */
	struct bt_pairs *pairs;
	uint64_t paired_calls;	/* of those, taken into the chains (the check's figure) */
	/* The check (onehop_check): made, its verdict, the first difference. */
	bool checked, check_differs;
	char check_why[256];
	struct bt_eagg *eagg;	/* the blocking chains (futexes, other pipes, datagrams) */
	bool exchanges;		/* an exchange or hand-off record was seen */
	bool busy;		/* the windows are folding: records that come wait in the model */
	uint64_t *conv;		/* pipes of pipe conversations, sorted up to conv_sorted */
	size_t nconv, capconv, conv_sorted;
	/*
	 * Hand-off records' pipe reads of this fold and the one before (since
	 * then), sorted up to reads_new; those after came since the last fold
	 * (the first of them at reads_first).
	 */
	struct pipe_read *reads;
	size_t nreads, capreads, reads_new;
	uint64_t reads_since, reads_first;
	/* The services of the records the window took as they came, named at the next fold. */
	struct later_key *keys;
	size_t nkeys, capkeys;
	struct bt_hmap keytab;	/* keys by value */
	uint32_t last_tag[2];	/* + 1: bt_hmap_intern's */
	struct ep_sum *sums;
	size_t nsums, capsums;
	struct bt_hmap sumtab;	/* sums by pid */
	size_t neps;		/* the model's episodes this fold takes: the first ones */
	/*
	 * single_thread's last answer in this fold (valid: one was given):
	 * its scan reads every episode of the fold, and the receives of a
	 * run without a waker ask it for the same peer again and again.
	 */
	bool single_valid;
	uint32_t single_pid, single_from, single_tid;
	/*
	 * The last two episodes' processes and rows (valid: found for that
	 * key; next: the one replaced next), and the last two sums' pids and
	 * places (+ 1; 0: none): a process's episodes come in runs on one
	 * channel, or two processes' take turns (a ping-pong). Good while
	 * the model does not change: within one fold, between the window
	 * folds in it.
	 */
	struct {
		bool valid;
		struct bt_key key;
		const struct bt_proc *proc;
		const struct bt_row *row;
	} last[2];
	unsigned int last_next;
	uint32_t sum_pid[2], sum_at[2];
	unsigned int sum_next;
	size_t budget;		/* of each window (bt_xagg_set_budget, bt_eagg_set_budget) */
	/* For -v: folds, the largest windows a fold took (records, episodes). */
	uint64_t folds, window_max, ep_window_max;
	uint64_t cpu_ns;	/* the folds' own CPU (bt_fold_stats) */
};

static bool ep_sum_eq(const void *ctx, uint32_t i, const void *key)
{
	return ((const struct ep_sum *)ctx)[i].pid == *(const uint32_t *)key;
}

static struct ep_sum *ep_sum_of(struct bt_chain_fold *f, uint32_t pid)
{
	uint32_t i;

	if (!f)
		return NULL;
	/* Sums are never removed: a place found stays the pid's. */
	for (int k = 0; k < 2; k++)
		if (f->sum_at[k] && f->sum_pid[k] == pid)
			return &f->sums[f->sum_at[k] - 1];
	i = bt_hmap_get(&f->sumtab, bt_hash(&pid, sizeof(pid)), ep_sum_eq, f->sums, &pid);
	if (i == BT_HMAP_NONE)
		return NULL;
	f->sum_pid[f->sum_next] = pid;
	f->sum_at[f->sum_next] = i + 1;
	f->sum_next ^= 1;
	return &f->sums[i];
}

/* As single_thread, from tid (the sum's, 0 if none): the scan of the fold's episodes. */
static uint32_t scan_single(const struct bt_model *m, const struct bt_chain_fold *f,
			    uint32_t pid, uint32_t tid)
{
	for (size_t i = 0; i < f->neps; i++) {
		if (m->episodes[i].pid != pid)
			continue;
		if (tid && m->episodes[i].tid != tid)
			return 0;
		tid = m->episodes[i].tid;
	}
	return tid ? tid : pid;
}

/* The only thread a process was seen blocking in by now, or 0 if several (or none). */
static uint32_t single_thread(const struct bt_model *m, struct bt_chain_fold *f, uint32_t pid)
{
	const struct ep_sum *sum = ep_sum_of(f, pid);
	uint32_t tid = sum ? sum->tid : 0;

	if (sum && !tid)
		return 0;
	/* The fold's episodes do not change while it runs: the same question, the same answer. */
	if (!f->single_valid || f->single_pid != pid || f->single_from != tid) {
		f->single_valid = true;
		f->single_pid = pid;
		f->single_from = tid;
		f->single_tid = scan_single(m, f, pid, tid);
	}
	return f->single_tid;
}

/*
 * A receive that blocked but whose wakeup came from softirq or an idle
 * CPU (loopback TCP under load) has no waker of its own. Its data came
 * from the far end of the channel: when that is one traced,
 * single-threaded process, it is the waker.
 */
static void infer_waker(const struct bt_model *m, struct bt_chain_fold *f,
			const struct bt_proc *p, const struct bt_row *r, struct bt_episode *ep)
{
	struct bt_peer peers[BT_PEERS_MAX];
	const struct bt_proc *q;
	size_t n;

	if (!r || !p || r->key.dir != BT_DIR_RECV)
		return;
	q = ep->waker_pid ? bt_model_find((struct bt_model *)m, ep->waker_pid) : NULL;
	if (q && q->target)
		return;	/* a traced process woke it: that is the answer */
	n = bt_row_peers(m, p, r, peers, BT_PEERS_MAX);
	if (n != 1 || !peers[0].proc || !peers[0].proc->target || peers[0].pid == p->pid)
		return;
	ep->waker_pid = peers[0].pid;
	ep->waker_tid = single_thread(m, f, peers[0].pid);
	if (!ep->waker_tid)
		ep->waker_pid = 0;
}

/* The row of an exchange's completing crossing: client receive, server send. */
static const struct bt_row *exchange_row(const struct bt_proc *p, const struct bt_exchange_ev *e)
{
	struct bt_key k = {
		.kind = e->kind, .dir = e->role == BT_ROLE_CLIENT ? BT_DIR_RECV : BT_DIR_SEND,
		.chan = e->chan, .peer = e->peer,
	};

	return p ? bt_proc_find_row(p, &k) : NULL;
}

/*
 * The service an exchange went to, the same from both ends: a unix
 * socket's bound path, a TCP server's address; else the channel itself.
 */
static void exchange_service(const struct bt_row *r, const struct bt_exchange_ev *e,
			     char *buf, size_t len)
{
	char addr[96];

	if (r && r->has_info && e->kind == BT_KIND_UNIX_STREAM && r->info.path[0]) {
		snprintf(buf, len, "unix:%s", r->info.path);
		return;
	}
	if (r && r->has_info && e->kind == BT_KIND_TCP) {
		if (e->role == BT_ROLE_CLIENT)
			bt_inet_format(r->info.family, r->info.raddr, r->info.rport, addr,
				       sizeof(addr));
		else
			bt_inet_format(r->info.family, r->info.laddr, r->info.lport, addr,
				       sizeof(addr));
		snprintf(buf, len, "tcp:%s", addr);
		return;
	}
	if (r) {
		size_t n = strnlen(r->channel, len - 1);	/* display only: cut */

		memcpy(buf, r->channel, n);
		buf[n] = 0;
		return;
	}
	snprintf(buf, len, "%s:[%llu]", e->kind == BT_KIND_TCP ? "tcp" :
		 e->kind == BT_KIND_PIPE ? "pipe" : "unix", (unsigned long long)e->chan);
}

/* Whether a chain waits on a connection: exchanges describe those better. */
static bool has_stream_hop(const struct bt_chain *c)
{
	for (unsigned int i = 0; i < c->nhops; i++)
		if (c->hops[i].kind == BT_KIND_TCP || c->hops[i].kind == BT_KIND_UNIX_STREAM)
			return true;
	return false;
}

/*
 * The chains of a trace with exchanges: those built from exchanges, then
 * the blocking chains that go through no connection (futexes, pipes,
 * datagrams), which only episodes see. The episode result stays alive
 * inside the exchange result (its hops are shared).
 */
static struct bt_chains *merge(struct bt_chains *x, struct bt_chains *ep)
{
	size_t keep = 0;
	struct bt_chain *v;

	for (size_t i = 0; i < ep->nchains; i++)
		keep += !has_stream_hop(&ep->chains[i]);
	v = realloc(x->chains, (x->nchains + keep + 1) * sizeof(*v));
	if (!v) {
		bt_chains_free(x);
		bt_chains_free(ep);
		return NULL;
	}
	x->chains = v;
	for (size_t i = 0; i < ep->nchains; i++)
		if (!has_stream_hop(&ep->chains[i]))
			x->chains[x->nchains++] = ep->chains[i];
	x->counts = ep->counts;
	x->episodes_horizon_ns = ep->episodes_horizon_ns;
	x->mem->extra = ep;
	return x;
}

static int cmp_pipe_read(const void *a, const void *b)
{
	const struct pipe_read *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->chan != y->chan)
		return x->chan < y->chan ? -1 : 1;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->end_ns < y->end_ns ? -1 : x->end_ns > y->end_ns;
}

/* The first of the n sorted reads not below key. */
static size_t pipe_read_at(const struct pipe_read *r, size_t n, const struct pipe_read *key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cmp_pipe_read(&r[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Whether a blocked pipe read woken by a thread of its own process is a
 * hand-off the wakeup can tell: not when the kernel followed this read's
 * bytes (its record names the writer), nor when the waker is itself a
 * reader of the pipe (a read that leaves bytes behind wakes the next
 * reader: that thread handed nothing over).
 */
static bool pipe_wake_is_handoff(const struct pipe_read *r, size_t n,
				 const struct bt_episode_ev *e)
{
	struct pipe_read key = { e->pid, e->tid, e->chan, e->end_ns };
	size_t i = pipe_read_at(r, n, &key);

	if (i < n && !cmp_pipe_read(&r[i], &key))
		return false;
	key.tid = e->waker_tid;
	key.end_ns = 0;
	i = pipe_read_at(r, n, &key);
	return !(i < n && r[i].pid == e->pid && r[i].chan == e->chan && r[i].tid == e->waker_tid);
}

/*
 * Hand-offs for the exchange analysis: a thread that read from a pipe
 * what another thread of its process wrote (the kernel's hand-off
 * records), or that was woken by another thread of its own process through
 * anything but a connection (a futex, a pipe, a datagram).
 */
static bool episode_is_handoff(const struct bt_chain_fold *f, const struct bt_episode_ev *e)
{
	if (e->waker_pid != e->pid || !e->waker_tid || e->waker_tid == e->tid ||
	    e->kind == BT_KIND_TCP || e->kind == BT_KIND_UNIX_STREAM || !e->wake_ns)
		return false;
	return e->kind != BT_KIND_PIPE || pipe_wake_is_handoff(f->reads, f->nreads, e);
}

static bool is_conversation_pipe(const struct bt_chain_fold *f, uint64_t chan)
{
	return bt_sorted_has_u64(f->conv, f->nconv, chan);
}

static void fold_free(struct bt_chain_fold *f)
{
	if (!f)
		return;
	bt_xagg_free(f->xagg);
	bt_xagg_free(f->xcheck);
	bt_pairs_free(f->pairs);
	free(f->merged);
	bt_eagg_free(f->eagg);
	free(f->conv);
	free(f->reads);
	free(f->keys);
	bt_hmap_free(&f->keytab);
	free(f->sums);
	bt_hmap_free(&f->sumtab);
	free(f);
}

/* The positive decimal number in environment variable name (tests), else 0. */
static unsigned long env_count(const char *name)
{
	const char *s = getenv(name);
	char *end;
	unsigned long n = s ? strtoul(s, &end, 10) : 0;

	return s && *s && !*end ? n : 0;
}

/* The horizon of the chain window: BOUNDTRACE_CHAIN_HORIZON_MS (tests), else 500 ms. */
static uint64_t horizon_ns(void)
{
	unsigned long ms = env_count("BOUNDTRACE_CHAIN_HORIZON_MS");

	return ms ? (uint64_t)ms * 1000000ull : BT_CHAIN_HORIZON_NS;
}

/* Each window's budget: BOUNDTRACE_CHAIN_BUDGET (tests), else BT_CHAIN_BUDGET. */
static size_t budget(void)
{
	unsigned long n = env_count("BOUNDTRACE_CHAIN_BUDGET");

	return n ? n : BT_CHAIN_BUDGET;
}

/* How the episode chains are walked: every wait with a known waker is a root. */
static const struct bt_chain_opts episode_opts = { .nested_roots = true };

static struct bt_chain_fold *fold_new(bool check)
{
	struct bt_chain_fold *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->xagg = bt_xagg_new(horizon_ns());
	f->xcheck = check ? bt_xagg_new(horizon_ns()) : NULL;
	f->eagg = bt_eagg_new(horizon_ns(), &episode_opts);
	f->pairs = bt_pairs_new();
	f->reads_first = UINT64_MAX;
	if (!f->xagg || !f->eagg || !f->pairs || (check && !f->xcheck)) {
		fold_free(f);
		return NULL;
	}
	f->budget = budget();
	bt_xagg_set_budget(f->xagg, f->budget);
	if (f->xcheck)
		bt_xagg_set_budget(f->xcheck, f->budget);
	bt_eagg_set_budget(f->eagg, f->budget);
	return f;
}

static struct bt_chain_fold *fold_of(struct bt_model *m)
{
	if (!m->fold && (m->fold = fold_new(m->onehop_check)))
		m->fold_free = fold_free;
	return m->fold;
}

/*
 * The services of the last records of one fold, by what names them (the
 * row's key): a conversation's records come in runs of a few rows.
 */
#define SERVICES_SEEN	4
struct service_seen {
	uint32_t pid;
	uint8_t kind, role;
	uint64_t chan, peer;
	char name[BT_EPISODE_CHANNEL_LEN];
};

struct services_seen {
	struct service_seen v[SERVICES_SEEN];
	unsigned int n, next;
};

/* The service of e into buf (BT_EPISODE_CHANNEL_LEN bytes): from seen, else from its row. */
static void service_of(const struct bt_model *m, struct services_seen *seen,
		       const struct bt_exchange_ev *e, char *buf)
{
	struct service_seen *s;

	for (unsigned int i = 0; i < seen->n; i++) {
		s = &seen->v[i];
		if (s->pid == e->pid && s->kind == e->kind && s->role == e->role &&
		    s->chan == e->chan && s->peer == e->peer) {
			memcpy(buf, s->name, sizeof(s->name));
			return;
		}
	}
	exchange_service(exchange_row(bt_model_find((struct bt_model *)m, e->pid), e), e, buf,
			 BT_EPISODE_CHANNEL_LEN);
	s = &seen->v[seen->next];
	seen->next = (seen->next + 1) % SERVICES_SEEN;
	if (seen->n < SERVICES_SEEN)
		seen->n++;
	*s = (struct service_seen){ e->pid, e->kind, e->role, e->chan, e->peer, { 0 } };
	memcpy(s->name, buf, sizeof(s->name));
}

/* An exchange record as the analysis takes it; its service named from its row when seen. */
static void to_xchg(const struct bt_model *m, struct services_seen *seen,
		    const struct bt_exchange_ev *e, struct bt_xchg *x)
{
	/*
	 * Field by field: the record as a compound literal zeroed the
	 * service's 128 bytes first, for every record (5% of boundtrace's
	 * CPU on a ping-pong), though a record named later never reads them.
	 */
	x->pid = e->pid;
	x->tid = e->tid;
	x->req_tid = e->req_tid;
	x->role = e->role;
	x->kind = e->kind;
	/* Both ends and both times: four u64 in a row in both. */
	_Static_assert(offsetof(struct bt_xchg, resp_ns) - offsetof(struct bt_xchg, end_a) ==
		       3 * sizeof(uint64_t) &&
		       offsetof(struct bt_exchange_ev, resp_ns) -
		       offsetof(struct bt_exchange_ev, end_a) == 3 * sizeof(uint64_t),
		       "end_a, end_b, req_ns, resp_ns in a row");
	memcpy(&x->end_a, &e->end_a, 4 * sizeof(uint64_t));
	memcpy(x->thread, e->comm, sizeof(x->thread));
	x->thread[sizeof(x->thread) - 1] = 0;
	_Static_assert(sizeof(x->channel) == BT_EPISODE_CHANNEL_LEN, "a service's room");
	x->channel[0] = 0;
	if (seen)
		service_of(m, seen, e, x->channel);
}

static bool later_eq(const void *ctx, uint32_t i, const void *key)
{
	const struct later_key *a = &((const struct later_key *)ctx)[i], *b = key;

	return a->chan == b->chan && a->peer == b->peer && a->pid == b->pid &&
	       a->kind == b->kind && a->role == b->role;
}

/* The tag of e's service, to be named at the next fold; NONE when out of memory. */
static uint32_t later_tag(struct bt_chain_fold *f, const struct bt_exchange_ev *e)
{
	struct later_key k = { e->chan, e->peer, e->pid, e->kind, e->role };
	uint32_t t = bt_hmap_intern(&f->keytab, (void **)&f->keys, &f->nkeys, &f->capkeys,
				    sizeof(*f->keys), BT_XAGG_TAGS, later_eq, &k,
				    offsetof(struct later_key, role) + sizeof(k.role), f->last_tag);

	return t == BT_HMAP_NONE ? NONE : t;
}

struct namer {
	const struct bt_model *m;
	const struct bt_chain_fold *f;
};

static void name_tag(void *ctx, uint32_t tag, char *buf)
{
	const struct namer *n = ctx;
	const struct later_key *k = &n->f->keys[tag];
	struct bt_exchange_ev e = { .pid = k->pid, .role = k->role, .kind = k->kind,
				    .chan = k->chan, .peer = k->peer };

	exchange_service(exchange_row(bt_model_find((struct bt_model *)n->m, k->pid), &e), &e,
			 buf, BT_EPISODE_CHANNEL_LEN);
}

/* The services of the records taken as they came, from the rows the model has now. */
static int name_later(const struct bt_model *m, struct bt_chain_fold *f)
{
	struct namer n = { m, f };
	int err = bt_xagg_name_later(f->xagg, (uint32_t)f->nkeys, name_tag, &n);

	if (!err && f->xcheck)
		err = bt_xagg_name_later(f->xcheck, (uint32_t)f->nkeys, name_tag, &n);

	f->nkeys = 0;
	f->last_tag[0] = f->last_tag[1] = 0;
	bt_hmap_clear(&f->keytab);
	return err;
}

/* A pipe of a pipe conversation (a conversation gives the same two pipes each time). */
static int note_conv(struct bt_chain_fold *f, uint64_t pipe)
{
	size_t added = f->nconv - f->conv_sorted;

	if (bt_sorted_has_u64(f->conv, f->conv_sorted, pipe) ||
	    (added >= 1 && f->conv[f->nconv - 1] == pipe) ||
	    (added >= 2 && f->conv[f->nconv - 2] == pipe))
		return 0;
	if (!bt_grow((void **)&f->conv, &f->capconv, f->nconv + 1, sizeof(*f->conv)))
		return -1;
	f->conv[f->nconv++] = pipe;
	return 0;
}

/* Which windows a record taken as it came goes to (add_later). */
#define TO_XAGG		1
#define TO_XCHECK	2

/* Exchange record e into the windows to (TO_*), its service named at the next fold. */
static int add_later(const struct bt_model *m, struct bt_chain_fold *f,
		     const struct bt_exchange_ev *e, int to)
{
	struct bt_xchg x;
	uint32_t tag;

	if (!f->xcheck)
		to &= ~TO_XCHECK;
	if (!to)
		return 0;
	to_xchg(m, NULL, e, &x);
	tag = later_tag(f, e);
	if (tag == NONE || ((to & TO_XCHECK) && bt_xagg_add_later(f->xcheck, &x, tag)))
		return -1;
	return (to & TO_XAGG) && bt_xagg_add_later(f->xagg, &x, tag) ? -1 : 0;
}

struct fold_ctx {
	const struct bt_model *m;
	struct bt_chain_fold *f;
};

/* A held half that paired with nothing: into the window (its check copy went as it came). */
static int add_unpaired(void *ctx, const struct bt_exchange_ev *e)
{
	struct fold_ctx *c = ctx;

	return add_later(c->m, c->f, e, TO_XAGG);
}

/*
 * A connection's record taken as it came, marked as a one-hop tree's half:
 * paired (onehop_pairs.h) rather than folded when it can be; 1 taken, 0
 * to be folded, -1 out of memory.
 */
static int offer_pair(const struct bt_model *m, struct bt_chain_fold *f,
		      const struct bt_exchange_ev *e)
{
	struct fold_ctx c = { m, f };
	struct bt_exchange_ev spill;
	bool spilled;
	int r = bt_pairs_offer(f->pairs, e, &spill, &spilled);

	if (r < 0 || (spilled && add_unpaired(&c, &spill)))
		return -1;
	/* The check's window takes every record, paired or not. */
	return r && add_later(m, f, e, TO_XCHECK) ? -1 : r;
}

/*
 * One exchange or hand-off record into the window: its service named
 * from its row now (seen), or at the next fold (seen NULL); its pipes
 * and pipe reads noted for the episodes. A connection's, taken as it
 * came, may pair instead (offer_pair).
 */
static int take_exchange(const struct bt_model *m, struct bt_chain_fold *f,
			 struct services_seen *seen, const struct bt_exchange_ev *e)
{
	struct bt_xchg x;
	int r;

	f->exchanges = true;
	if (e->type == BT_XREC_HANDOFF) {
		struct bt_handoff h = { e->pid, e->tid, e->req_tid, e->req_ns, e->resp_ns };

		if (!bt_grow((void **)&f->reads, &f->capreads, f->nreads + 1, sizeof(*f->reads)))
			return -1;
		f->reads[f->nreads++] = (struct pipe_read){ e->pid, e->tid, e->chan, e->resp_ns };
		if (e->resp_ns < f->reads_first)
			f->reads_first = e->resp_ns;
		return bt_xagg_add_handoff(f->xagg, &h) ||
		       (f->xcheck && bt_xagg_add_handoff(f->xcheck, &h)) ? -1 : 0;
	}
	if (e->type != BT_XREC_EXCHANGE)
		return 0;
	for (int end = 0; e->kind == BT_KIND_PIPE && end < 2; end++)
		if (note_conv(f, end ? e->end_b : e->end_a))
			return -1;
	/* The check mode's copy of what the kernel counted: for the check alone. */
	if (seen) {
		to_xchg(m, seen, e, &x);
		if (f->xcheck && bt_xagg_add(f->xcheck, &x))
			return -1;
		return !(e->flags & BT_XREC_COUNTED) && bt_xagg_add(f->xagg, &x) ? -1 : 0;
	}
	if (e->flags & BT_XREC_COUNTED)
		return add_later(m, f, e, TO_XCHECK);
	r = e->flags & (BT_XREC_ROOT | BT_XREC_LEAF) ? offer_pair(m, f, e) : 0;
	return r ? (r < 0 ? -1 : 0) : add_later(m, f, e, TO_XAGG | TO_XCHECK);
}

/*
 * The one-hop trees of key k summed in v into the chains, the service
 * named from the client's row as its record's would be: 0 added, 1 not
 * (sums no calls could have), -1 out of memory.
 */
static int add_onehops(const struct bt_model *m, struct bt_chain_fold *f,
		       struct services_seen *seen, const struct bt_onehop_key *k,
		       const struct bt_onehop_val *v)
{
	struct bt_exchange_ev e = { .pid = k->client, .role = BT_ROLE_CLIENT,
				    .kind = k->kind, .chan = k->chan, .peer = k->peer };
	struct bt_onehop o = {
		.from_pid = k->client, .from_tid = k->client_tid, .root_tid = k->req_tid,
		.to_pid = k->srv, .to_tid = k->srv_tid, .kind = k->kind, .slot = k->slot,
		.calls = v->calls, .lat_ns = v->lat_ns, .svc_ns = v->svc_ns, .min_ns = v->min_ns,
		.max_ns = v->max_ns,
	};
	int err;

	memcpy(o.from_thread, k->client_comm, sizeof(o.from_thread));
	o.from_thread[sizeof(o.from_thread) - 1] = 0;
	memcpy(o.to_thread, k->srv_comm, sizeof(o.to_thread));
	o.to_thread[sizeof(o.to_thread) - 1] = 0;
	service_of(m, seen, &e, o.channel);
	err = bt_xagg_add_onehop(f->xagg, &o);
	if (err == -ENOMEM)
		return -1;
	if (err)
		return 1;
	f->exchanges = true;
	return 0;
}

/*
 * The kernel's one-hop counts gained since the window last took them
 * (the model's are cumulative, one per key, only ever added), and the
 * pairs made as their records came since the last fold.
 */
static int merge_onehops(const struct bt_model *m, struct bt_chain_fold *f)
{
	struct services_seen seen = { .n = 0 };
	const struct bt_onehop_row *pr;
	size_t had = f->capmerged, npr;

	if (m->nonehops > had) {
		if (!bt_grow((void **)&f->merged, &f->capmerged, m->nonehops, sizeof(*f->merged)))
			return -1;
		memset(f->merged + had, 0, (f->capmerged - had) * sizeof(*f->merged));
	}
	for (size_t i = 0; i < m->nonehops; i++) {
		const struct bt_onehop_val *r = &m->onehops[i].val;
		struct bt_onehop_val *d = &f->merged[i];
		struct bt_onehop_val gain;
		int err;

		/* The kernel's counts only grow: anything else is not taken. */
		if (r->calls <= d->calls || r->lat_ns < d->lat_ns || r->svc_ns < d->svc_ns)
			continue;
		gain = (struct bt_onehop_val){ r->calls - d->calls, r->lat_ns - d->lat_ns,
					       r->svc_ns - d->svc_ns, r->min_ns, r->max_ns };
		err = add_onehops(m, f, &seen, &m->onehops[i].key, &gain);
		if (err < 0)
			return -1;
		/*
		 * Read while its thread wrote it, a key's sums may hold one call
		 * more than its count: taken at the next fold, whole.
		 */
		if (err)
			continue;
		f->onehop_calls += gain.calls;
		*d = *r;
	}
	pr = bt_pairs_rows(f->pairs, &npr);
	for (size_t i = 0; i < npr; i++) {
		/*
		 * Always taken: sum_pair summed only pairs whose records the
		 * window would take (threads, pids and times known), with the
		 * service at most the latency, so no check of
		 * bt_xagg_add_onehop refuses them.
		 */
		if (add_onehops(m, f, &seen, &pr[i].key, &pr[i].val) < 0)
			return -1;
		f->paired_calls += pr[i].val.calls;
	}
	bt_pairs_taken(f->pairs);
	return 0;
}

/*
 * The pipes and pipe reads noted since the last fold joined to those
 * before, sorted for the episodes; reads older than the first of the
 * fold before go (an episode may come a fold late, not two).
 */
static void settle_notes(struct bt_chain_fold *f)
{
	size_t kept = 0;

	if (f->nconv > f->conv_sorted)
		f->nconv = bt_sort_unique_u64(f->conv, f->nconv, sizeof(*f->conv), 0, bt_cmp_u64);
	f->conv_sorted = f->nconv;
	for (size_t i = 0; i < f->nreads; i++)
		if (i >= f->reads_new || f->reads[i].end_ns >= f->reads_since)
			f->reads[kept++] = f->reads[i];
	f->nreads = kept;
	if (f->nreads)
		qsort(f->reads, f->nreads, sizeof(*f->reads), cmp_pipe_read);
	if (f->reads_first != UINT64_MAX)
		f->reads_since = f->reads_first;
	f->reads_first = UINT64_MAX;
	f->reads_new = f->nreads;
}

/* Records between window folds when a recording's records come all at once. */
#define FOLD_BATCH	65536

/*
 * The first n pending exchange records into the window, named now; pipe
 * conversations and reads noted.
 */
static int fold_exchanges(const struct bt_model *m, struct bt_chain_fold *f, size_t n)
{
	int err = 0;
	/* The model does not change during one fold: what named a row names it again. */
	struct services_seen seen = { .n = 0 };

	for (size_t i = 0; i < n && !err; i++) {
		err = take_exchange(m, f, &seen, &m->exchanges[i]);
		if (!err && m->exchanges[i].type == BT_XREC_EXCHANGE && (i + 1) % FOLD_BATCH == 0)
			err = bt_xagg_fold(f->xagg) ||
			      (f->xcheck && bt_xagg_fold(f->xcheck));
	}
	settle_notes(f);
	return err ? -1 : 0;
}

int bt_model_take_exchange(struct bt_model *m, const struct bt_exchange_ev *e)
{
	struct bt_chain_fold *f = m->fold;

	/*
	 * Not folding as the trace goes, a recording's (it writes every
	 * record before the fold takes it), folding now, or collected since
	 * the last fold: the next fold's names come from rows read before
	 * this record came.
	 */
	if (!f || m->keep_records || f->busy || m->collected)
		return bt_model_add_exchange(m, e);
	return take_exchange(m, f, NULL, e);
}

void bt_model_collected(struct bt_model *m)
{
	m->exchanges_named = m->nexchanges;
	m->collected = true;
}

static struct ep_sum *ep_sum_add(struct bt_chain_fold *f, uint32_t pid)
{
	struct ep_sum *s = ep_sum_of(f, pid);

	if (s)
		return s;
	if (!bt_grow((void **)&f->sums, &f->capsums, f->nsums + 1, sizeof(*f->sums)) ||
	    bt_hmap_put(&f->sumtab, bt_hash(&pid, sizeof(pid)), (uint32_t)f->nsums))
		return NULL;
	s = &f->sums[f->nsums++];
	memset(s, 0, sizeof(*s));
	s->pid = pid;
	s->tid = UINT32_MAX;	/* none yet */
	return s;
}

/* Whether a chain can be made of an episode (else its waits describe it). */
static bool episode_in_chains(const struct bt_chain_fold *f, const struct bt_episode_ev *e)
{
	/* A server waiting for its next request waits on nobody. */
	if (e->wait == BT_WAIT_IDLE)
		return false;
	/* A pipe conversation's waits are its exchanges' (as a connection's). */
	return e->kind != BT_KIND_PIPE || !is_conversation_pipe(f, e->chan);
}

static void forget_last(struct bt_chain_fold *f)
{
	f->last[0].valid = f->last[1].valid = false;
}

/* An episode as the chain analysis takes it: its channel named, a softirq wake's waker inferred. */
static void to_episode(const struct bt_model *m, struct bt_chain_fold *f,
		       const struct bt_episode_ev *e, struct bt_episode *ep)
{
	const struct bt_proc *p = NULL;
	const struct bt_row *row = NULL;
	int i;

	for (i = 0; i < 2; i++) {
		const struct bt_key *k = &f->last[i].key;

		if (f->last[i].valid && k->tgid == e->pid && k->kind == e->kind &&
		    k->dir == e->dir && k->chan == e->chan && k->peer == e->peer) {
			p = f->last[i].proc;
			row = f->last[i].row;
			break;
		}
	}
	if (i == 2) {
		p = bt_model_find((struct bt_model *)m, e->pid);
		row = episode_row(m, p, e);
		i = (int)f->last_next;
		f->last_next ^= 1;
		f->last[i].valid = true;
		f->last[i].key = (struct bt_key){ .tgid = e->pid, .kind = e->kind, .dir = e->dir,
						  .chan = e->chan, .peer = e->peer };
		f->last[i].proc = p;
		f->last[i].row = row;
	}

	/*
	 * The fields before the name, zeroed; the name is written whole by
	 * episode_channel (zeroing its 128 bytes too, with rep stos, was 3%
	 * of boundtrace's CPU on a bulk pipe).
	 */
	memset(ep, 0, offsetof(struct bt_episode, channel));
	ep->pid = e->pid;
	ep->tid = e->tid;
	ep->kind = e->kind;
	ep->dir = e->dir;
	ep->waker_pid = e->waker_pid;
	ep->waker_tid = e->waker_tid;
	ep->chan = e->chan;
	ep->start_ns = e->start_ns;
	ep->end_ns = e->end_ns;
	ep->wake_ns = e->wake_ns;
	episode_channel(row, e, ep->channel, sizeof(ep->channel));
	/* A timer or a signal ended it: there is no waker to infer. */
	if (e->wait != BT_WAIT_TIMEOUT && e->wait != BT_WAIT_SIGNAL)
		infer_waker(m, f, p, row, ep);
}

/*
 * A fold of the episode window. Once exchanges describe the connections,
 * the chains keep no episode chain through one (merge): those that start
 * there are not made.
 */
static int fold_eagg(struct bt_chain_fold *f)
{
	if (f->exchanges)
		bt_eagg_skip_stream_roots(f->eagg);
	return bt_eagg_fold(f->eagg);
}

/*
 * The episodes that came since the last fold, summed by process for
 * waits[] and freed: hand-offs go to the exchange window, those a chain
 * can be made of to the episode window (one fold per FOLD_BATCH when a
 * recording's come all at once). The waker of a softirq wake is inferred
 * from the threads each process was seen blocking in by now.
 */
static int fold_episodes(const struct bt_model *m, struct bt_chain_fold *f)
{
	/* A softirq wake's waker is the far end of its row: pair by index, not by scans. */
	int index = f->neps ? bt_peer_index_begin(m) : -EBUSY;
	int err = 0;

	f->single_valid = false;	/* another fold's episodes */
	forget_last(f);			/* and a model that may have changed */

	for (size_t i = 0; i < f->neps && !err; i++) {
		const struct bt_episode_ev *e = &m->episodes[i];
		uint8_t k = e->wait < BT_WAIT_MAX ? e->wait : BT_WAIT_BLOCKED;
		bool fold = false;
		struct ep_sum *s;

		if (episode_is_handoff(f, e)) {
			struct bt_handoff h = { e->pid, e->tid, e->waker_tid, e->wake_ns, e->end_ns };

			if (bt_xagg_add_handoff(f->xagg, &h) ||
			    (f->xcheck && bt_xagg_add_handoff(f->xcheck, &h))) {
				err = -1;
				break;
			}
		}
		if (episode_in_chains(f, e)) {
			struct bt_episode ep;

			to_episode(m, f, e, &ep);
			err = bt_eagg_add(f->eagg, &ep);
			fold = (i + 1) % FOLD_BATCH == 0;
		}
		s = ep_sum_add(f, e->pid);
		if (!s) {
			err = -1;
			break;
		}
		s->n[k]++;
		s->ns[k] += e->end_ns >= e->start_ns ? e->end_ns - e->start_ns : 0;
		s->tid = s->tid == UINT32_MAX || s->tid == e->tid ? e->tid : 0;
		/* Last: a recording's tick in the fold may move the model's episodes (e). */
		if (!err && fold) {
			err = fold_eagg(f);
			forget_last(f);	/* and add processes and rows */
		}
	}
	if (!index)
		bt_peer_index_end();
	return err ? -1 : 0;
}

/*
 * A fold's tick, timed: what it drains from the rings is the records'
 * intake, not the fold, and is kept out of the fold's CPU.
 */
struct timed_tick {
	void (*tick)(void *ctx);
	void *ctx;
	uint64_t ns;
};

static void timed_tick(void *p)
{
	struct timed_tick *t = p;
	uint64_t t0 = bt_thread_cpu_ns();

	t->tick(t->ctx);
	t->ns += bt_thread_cpu_ns() - t0;
}

/* The fold that began at t0 ends now: its CPU, its ticks' apart. */
static void fold_timed(struct bt_chain_fold *f, uint64_t t0, const struct timed_tick *tt)
{
	uint64_t ns = bt_thread_cpu_ns() - t0;

	f->cpu_ns += ns > tt->ns ? ns - tt->ns : 0;
}

int bt_model_fold_chains_tick(struct bt_model *m, void (*tick)(void *ctx), void *ctx)
{
	struct timed_tick tt = { tick, ctx, 0 };
	struct bt_chain_fold *f;
	struct fold_ctx fc;
	uint64_t t0;
	size_t named;
	int err;

	if (!m->chain_mode && !m->nexchanges)
		return 0;
	f = fold_of(m);
	if (!f)
		return -1;
	fc = (struct fold_ctx){ m, f };
	t0 = bt_thread_cpu_ns();
	if (tick) {
		tick = timed_tick;
		ctx = &tt;
	}
	/*
	 * The records taken as they came are named first (they came before
	 * the collection), then those the model kept that came before it
	 * too; the others wait for the next fold, whose collection sees
	 * their rows. A recording's fold comes right after its snapshot,
	 * with the rows of the same collection: it takes the records the
	 * snapshot wrote, as a reader of the recording does
	 * (bt_rec_read_each); those that came while it was written wait for
	 * the next.
	 */
	named = m->keep_records ? m->exchanges_written :
		m->collected ? m->exchanges_named : m->nexchanges;
	f->neps = m->keep_records ? m->episodes_written : m->nepisodes;
	if (named > m->nexchanges)
		named = m->nexchanges;
	if (f->neps > m->nepisodes)
		f->neps = m->nepisodes;
	/*
	 * A recording's records that come while it folds join the model's
	 * logs, after those the fold takes (read by index, never by a
	 * pointer kept across a fold): the rings are emptied from the start.
	 */
	if (m->keep_records) {
		bt_xagg_set_tick(f->xagg, tick, ctx);
		bt_eagg_set_tick(f->eagg, tick, ctx);
	}
	/* A held half whose client's record went to the window before it: now, to be named. */
	if ((!m->keep_records && bt_pairs_flush(f->pairs, add_unpaired, &fc)) ||
	    name_later(m, f) || fold_exchanges(m, f, named) || merge_onehops(m, f) ||
	    fold_episodes(m, f)) {
		bt_xagg_set_tick(f->xagg, NULL, NULL);
		bt_eagg_set_tick(f->eagg, NULL, NULL);
		fold_timed(f, t0, &tt);
		return -1;
	}
	if (m->keep_records)
		bt_model_drop_records(m);
	else
		bt_model_drop_first(m, f->neps, named);	/* f->neps: every episode */
	/*
	 * The episodes wait here from fold to fold, about a budget of them:
	 * a burst's room (the first round's, before the first fold) goes
	 * back once it passed, not at the end of the trace.
	 */
	if (m->capepisodes > 2 * (m->nepisodes + f->budget))
		bt_fit((void **)&m->episodes, &m->capepisodes, m->nepisodes + f->budget,
		       sizeof(*m->episodes));
	/* Only now: the model's pending records and episodes are not being read any more. */
	bt_xagg_set_tick(f->xagg, tick, ctx);
	bt_eagg_set_tick(f->eagg, tick, ctx);
	f->busy = true;
	f->folds++;
	if (bt_xagg_window(f->xagg) > f->window_max)
		f->window_max = bt_xagg_window(f->xagg);
	if (bt_eagg_window(f->eagg) > f->ep_window_max)
		f->ep_window_max = bt_eagg_window(f->eagg);
	err = bt_xagg_fold(f->xagg);
	if (f->xcheck)
		err = bt_xagg_fold(f->xcheck) || err;
	if (tick)
		tick(ctx);
	err = fold_eagg(f) || err;
	f->busy = false;
	bt_xagg_set_tick(f->xagg, NULL, NULL);
	bt_eagg_set_tick(f->eagg, NULL, NULL);
	/* Not what follows: the records that came meanwhile are taken, the intake's part. */
	fold_timed(f, t0, &tt);
	/* A recording's records that came meanwhile wait for its next snapshot. */
	if (m->keep_records)
		return err ? -1 : 0;
	/*
	 * What came since the collection joins the window now, in the order
	 * it came, its services named at the next fold; and so does what
	 * comes until the next collection.
	 */
	for (size_t i = 0; i < m->nexchanges && !err; i++)
		err = take_exchange(m, f, NULL, &m->exchanges[i]);
	m->nexchanges = 0;
	m->exchanges_named = 0;
	m->collected = false;
	/* Records wait in the model only while a fold runs from now on: its room goes back. */
	bt_fit((void **)&m->exchanges, &m->capexchanges, 0, sizeof(*m->exchanges));
	return err ? -1 : 0;
}

int bt_model_fold_chains(struct bt_model *m)
{
	return bt_model_fold_chains_tick(m, NULL, NULL);
}

bool bt_model_fold_due(const struct bt_model *m)
{
	const struct bt_chain_fold *f = m->fold;

	return f && !m->keep_records && !f->busy &&
	       (bt_xagg_added(f->xagg) + m->nexchanges >= f->budget ||
		bt_eagg_added(f->eagg) + m->nepisodes >= f->budget);
}

void bt_model_fold_stats(const struct bt_model *m, struct bt_fold_stats *s)
{
	const struct bt_chain_fold *f = m->fold;

	*s = (struct bt_fold_stats){ 0 };
	if (!f)
		return;
	s->folds = f->folds;
	s->window_max = f->window_max;
	s->budget = f->budget;
	s->horizon_ns = bt_xagg_horizon(f->xagg, &s->horizon_min_ns);
	s->ep_window_max = f->ep_window_max;
	s->ep_horizon_ns = bt_eagg_horizon(f->eagg, &s->ep_horizon_min_ns);
	s->cpu_ns = f->cpu_ns;
	s->onehop_calls = f->onehop_calls;
	s->paired_calls = bt_pairs_count(f->pairs);
}

static int cmp_waits(const void *a, const void *b)
{
	uint32_t x = ((const struct bt_proc_waits *)a)->pid, y = ((const struct bt_proc_waits *)b)->pid;

	return x < y ? -1 : x > y;
}

/* Every process's episodes summed by wait class (f's sums), by pid. */
static int sum_waits(const struct bt_chain_fold *f, struct bt_chains *c)
{
	size_t nsums = f ? f->nsums : 0;

	c->waits = calloc(nsums ? nsums : 1, sizeof(*c->waits));
	if (!c->waits)
		return -1;
	for (size_t i = 0; i < nsums; i++) {
		struct bt_proc_waits *w = &c->waits[i];

		w->pid = f->sums[i].pid;
		for (int k = 0; k < BT_WAIT_MAX; k++) {
			w->n[k] = f->sums[i].n[k];
			w->ns[k] = f->sums[i].ns[k];
		}
	}
	c->nwaits = nsums;
	if (c->nwaits)
		qsort(c->waits, c->nwaits, sizeof(*c->waits), cmp_waits);
	return 0;
}

/* The check mode's verdict: x (records and counts) against the chains of every record. */
static void onehop_check(struct bt_chain_fold *f, const struct bt_chains *x,
			 const struct bt_chain_opts *opts)
{
	struct bt_chains *all = bt_xagg_chains(f->xcheck, opts);

	f->checked = true;
	if (!all) {
		f->check_differs = true;
		snprintf(f->check_why, sizeof(f->check_why), "out of memory");
		return;
	}
	/* The windows' horizons are theirs: one holding fewer records shortens less. */
	all->horizon_ns = x->horizon_ns;
	all->episodes_horizon_ns = x->episodes_horizon_ns;
	f->check_differs = bt_chains_diff(x, all, f->check_why, sizeof(f->check_why)) != 0;
	bt_chains_free(all);
}

int bt_model_onehop_check(const struct bt_model *m, uint64_t *counted, uint64_t *paired,
			  char *why, size_t len)
{
	const struct bt_chain_fold *f = m->fold;

	if (!f || !f->checked)
		return -1;
	*counted = f->onehop_calls;
	*paired = f->paired_calls;
	snprintf(why, len, "%s", f->check_why);
	return f->check_differs;
}

struct bt_chains *bt_model_chains(const struct bt_model *m, const struct bt_edges *e)
{
	struct chain_names names = { m, e };
	struct bt_chain_opts opts = episode_opts;
	struct bt_chain_fold *f = m->fold, *once = NULL;
	struct bt_chains *c;
	bool open;

	opts.duration_ns = m->duration_ns;
	opts.comm = comm_of;
	opts.node = node_of;
	opts.members = members_of;
	opts.ctx = &names;
	if (f) {
		/*
		 * The fold is the model's cache of its records: what came last
		 * joins it; but a recording's join it at its next snapshot (an
		 * interval table shows what was folded by then).
		 */
		if ((!m->keep_records || !m->chains_open) && bt_model_fold_chains((struct bt_model *)m))
			return NULL;
	} else {
		/*
		 * Never folded (a recording of the first format, read back, or an
		 * interval table before a recording's first snapshot): its records
		 * go through windows of their own, and the model stays as it is.
		 */
		once = f = fold_new(m->onehop_check);
		if (f)
			f->neps = m->nepisodes;
		if (!f || fold_exchanges(m, f, m->nexchanges) || merge_onehops(m, f) ||
		    fold_episodes(m, f)) {
			fold_free(once);
			return NULL;
		}
	}
	/* While the trace goes on, what is pending stays so: a request still open is not late. */
	open = m->chains_open && !once;
	if (f->exchanges)
		bt_eagg_skip_stream_roots(f->eagg);
	c = open ? bt_eagg_folded(f->eagg, &opts) : bt_eagg_chains(f->eagg, &opts);
	if (c && f->exchanges) {	/* exchanges, or hand-offs alone */
		struct bt_chains *x = open ? bt_xagg_folded(f->xagg, &opts) :
				      bt_xagg_chains(f->xagg, &opts);

		if (!x) {
			bt_chains_free(c);
			c = NULL;
		} else {
			if (!open && f->xcheck && !f->checked)
				onehop_check(f, x, &opts);
			c = merge(x, c);
		}
	}
	/* Without exchanges, the window's own horizon. */
	if (c && !c->horizon_ns)
		c->horizon_ns = horizon_ns();
	if (c && !c->episodes_horizon_ns)
		c->episodes_horizon_ns = horizon_ns();
	if (c && sum_waits(f, c)) {
		bt_chains_free(c);
		c = NULL;
	}
	fold_free(once);
	return c;
}

void bt_chains_name_far_ends(const struct bt_model *m, struct bt_chains *c,
			     const struct bt_edges *e)
{
	struct chain_names names = { m, e };
	struct bt_chain_opts opts = { .comm = comm_of, .ctx = &names };

	for (size_t i = 0; c && i < c->nchains; i++) {
		for (unsigned int h = 0; h < c->chains[i].nhops; h++) {
			struct bt_chain_hop *hp = &c->chains[i].hops[h];
			uint32_t to;

			if (hp->to.pid || !hp->from.pid || !hp->channel)
				continue;
			to = far_end_of(e, hp->from.pid, hp->kind, hp->channel);
			if (to)
				bt_chain_end_set(&opts, &hp->to, to);
		}
	}
}
