// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Chains from exchanges (definitions in exchains.h), aggregated as the
 * trace goes: records wait in a window until the tree they belong to is
 * complete, are folded into the aggregates (hop sequences, chains, exact
 * counts, histograms) and, once no later record looks back at them,
 * freed. One pass over the window:
 *   1. every thread's read events sorted by (thread, time), with each
 *      thread's last event among the freed records (its tail);
 *   2. client exchanges in request order: each one's parent from its
 *      thread's last read event before the request (memoized, so a
 *      response read inherits its call's parent in O(1));
 *   3. server exchanges sorted by connection and time: each client
 *      exchange finds its far end by one binary search;
 *   4. the trees whose root completed at or before the cutoff walked
 *      (depth capped), summed per hop sequence and marked folded; folded
 *      records older than the cutoff by more than a quarter of the
 *      horizon freed.
 * A pass looks at the records that requested by its cutoff only (and at
 * the read events a hand-off's wake reaches, events_until): a later one
 * is in no tree complete by the cutoff, and waits for the pass whose
 * cutoff passes its request; but a connection's first client to request
 * after it is paired, for the server it may take (pair_ends).
 * A tree is complete at its root's response: every record in it completed
 * earlier, and a record reaches us within a poll of completing. What a
 * window cannot see is a request longer than the horizon enclosing calls
 * (they were folded as roots before it arrived), or a record delayed by
 * more than the horizon: those are counted in xcounts.late.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/chains_priv.h"
#include "analyze/exchains.h"
#include "analyze/exchist.h"
#include "lat_slot.h"
#include "lib/hmap.h"
#include "lib/strtab.h"
#include "lib/vec.h"

enum { EV_SREQ, EV_CRESP, EV_HAND, EV_TAIL };
/* Records (and hand-offs) a window holds at most: an event numbers them in 30 bits. */
#define WINDOW_MAX	((1u << 30) - 1)
#define MAX_HANDOFFS	4
/* A record's channel that is a tag (bt_xagg_add_later) until it is named. */
#define LATER		(1u << 31)
/* A record's class in a pass (bt_xagg.cls): a byte per record, not the record, read in request order. */
enum { R_CLIENT = 1, R_FOLDED = 2, R_DUE = 4 /* completed by the cutoff */ };
/* A cause folded in an earlier pass: a nesting into it is contradicted. */
#define GONE		(NONE - 1)

/* How a client exchange's parent was found (bt_xagg.nesting). */
enum {
	NEST_AGREED,	/* the thread rule's request, the only one the trace allows */
	NEST_REJECTED,	/* the trace contradicts every request of the thread: a root */
	NEST_AMBIGUOUS,	/* several requests of the thread were open around it */
};

/* A read event, in 16 bytes: the pass sorts and searches arrays of them. */
struct xev {
	uint32_t tid;
	uint32_t type : 2;	/* EV_* */
	uint32_t idx : 30;	/* its record, hand-off or tail */
	uint64_t t;
};

/* A thread's last read event among the freed records: did it stand for a request. */
struct tail {
	uint64_t tid;	/* 64 bits: found with bt_upper_bound_u64 */
	bool some;
	uint64_t t;
};

/*
 * A record in the window: what the passes read, in 40 bytes (the sorts
 * and searches touch it at random); its names apart, read by the walk.
 */
struct xrec {
	uint32_t pid, tid, req_tid;
	uint32_t conn;		/* its connection (end_a, end_b) in bt_xagg.conns, NONE without */
	uint8_t role, kind;
	uint64_t req_ns, resp_ns;
};

/* A record's names, interned: the thread's and the service's. */
struct xname {
	uint32_t thread, channel;
};

/* What a record keeps from one pass to the next. */
struct xst {
	bool folded;
	bool some;	/* a folded client had a parent */
};

struct hop {
	uint32_t from, to, kind;
	uint32_t channel;	/* in bt_xagg.chans */
};

/* A connection as one end names it, and how many records in the window name it. */
struct conn {
	uint64_t end_a, end_b;
	uint32_t refs;
};
/* A connection's key: its ends (what is hashed). */
#define CONN_KEY	offsetof(struct conn, refs)

/* The distinct threads seen at one end of a hop (up to BT_CHAIN_THREADS). */
struct threads {
	uint32_t tid[BT_CHAIN_THREADS];
	unsigned int n;
	uint32_t first;		/* the first one's name, in bt_xagg.threads */
};

static void threads_add(struct threads *t, uint32_t tid, uint32_t name)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (t->tid[i] == tid)
			return;
	if (t->n == BT_CHAIN_THREADS)
		return;
	if (!t->n)
		t->first = name;
	t->tid[t->n++] = tid;
}

static void threads_set(const struct threads *t, const struct bt_strtab *names,
			struct bt_chain_end *end)
{
	end->threads = t->n;
	end->tid = t->n == 1 ? t->tid[0] : 0;
	if (t->n == 1)
		strncpy(end->thread, bt_strtab_str(names, t->first), sizeof(end->thread));
	end->thread[sizeof(end->thread) - 1] = 0;
}

/*
 * A hop's calls summed: in one root's tree (struct path), over a chain's
 * roots (struct hsum), over chains alike once named (fill).
 */
struct xsum {
	uint64_t calls;
	uint64_t ambiguous;	/* calls nested by a guess among open requests */
	uint64_t lat, queue, svc, kids;
	uint64_t fan_calls, fan_save;
	uint32_t fan_peers;
};

static void xsum_add(struct xsum *d, const struct xsum *s)
{
	d->calls += s->calls;
	d->ambiguous += s->ambiguous;
	d->lat += s->lat;
	d->queue += s->queue;
	d->svc += s->svc;
	d->kids += s->kids;
	d->fan_calls += s->fan_calls;
	d->fan_save += s->fan_save;
	if (s->fan_peers > d->fan_peers)
		d->fan_peers = s->fan_peers;
}

/* A hop sequence: its last hop and the sequence before it. */
struct path {
	struct threads from_thr, to_thr;	/* over the whole trace */
	uint32_t parent, hop, depth;
	uint32_t stamp, done;
	struct xsum sum;	/* this root's */
	bool has_child;
	uint32_t chain;		/* chain index + 1 when a chain ends here */
};

struct hsum {
	struct xsum sum;
	struct bt_calls_hist per_root;
	struct bt_lat_hist each;
};

struct csum {
	uint32_t leaf;
	unsigned int nhops;
	uint64_t roots, lat;
	struct bt_tidset threads;
	struct bt_lat_hist root_lat;
	struct hsum h[BT_CHAINS_MAX_DEPTH];
};

/* One node of the current root's tree: a call and its far end. */
struct node {
	uint32_t path;
	uint64_t lat;
};

struct bt_xagg {
	/* The window: records not folded yet, and folded ones kept for looking back. */
	struct xrec *x;
	struct xname *nm;
	struct xst *st;
	size_t n, cap, nmcap, stcap;
	struct bt_handoff *h;
	size_t nh, hcap;
	struct tail *tails;	/* by tid */
	size_t ntails, tailcap;
	/*
	 * A drop's new tails: each thread's at most once (by tid in
	 * tail_idx), and the run of freed events of the thread freed last.
	 */
	struct bt_hmap tail_idx;
	struct tail run;
	bool run_open;
	uint64_t cutoff, newest, lo, hi;
	/* The budget (bt_xagg_set_budget): a record that starts before its keep came too late. */
	struct bt_budget bud;
	bool folded_once;
	/*
	 * Hand-offs without a record in the window fold by themselves
	 * (fold_handoffs): their own budget, oldest and newest end, cutoff.
	 */
	struct bt_budget hbud;
	uint64_t hlo, hhi, hcutoff;
	bool hfolded;
	uint32_t later;		/* the first record whose service is to be named, NONE */
	/* The names records carry, interned (they repeat: a window would hold them many times). */
	struct bt_strtab chans, threads;
	/*
	 * The last two thread names interned, as the records carry them, and
	 * their ids + 1 (0: none): a conversation's records alternate between
	 * its two ends, and 16 bytes compared cost less than a name measured,
	 * hashed and compared as a string.
	 */
	char thr_name[2][BT_COMM_LEN];
	uint32_t thr_id[2];
	unsigned int thr_next;
	void (*tick)(void *ctx);
	void *tick_ctx;
	/*
	 * One pass over the window. The arrays stay from pass to pass (each
	 * with its room in passcap[]): a pass twice a second over the same
	 * amount of records would otherwise map, fault in and unmap them.
	 */
	struct xev *ev;
	size_t nev;
	/*
	 * Kept from pass to pass (evok): ev[0 .. nevkept) holds, in order,
	 * the read events of records 0 .. evn that requested by evcut (the
	 * last pass's events_until), and no other record's.
	 */
	size_t nevkept, evn;
	uint64_t evcut;
	bool evok;
	uint32_t *parent;	/* client exchange -> server exchange, NONE */
	uint8_t *nesting;	/* client exchange: NEST_* */
	uint32_t *open;		/* link_parents' server exchanges still open, by request time */
	size_t nopen, opencap;
	uint64_t *handq;	/* server exchange: time its request waited in a hand-off (with hand-offs) */
	uint32_t *match;	/* client exchange -> its far end, NONE */
	bool *served;		/* server exchange has a traced client */
	uint8_t *cls;		/* a record's R_* at the pass's start: what the steps' filters read */
	/*
	 * Two arrays of a record each that steps take in turn (what one
	 * leaves, the next step overwrites): each record's event in ev
	 * (lane 0) from sort_events to link_parents; the server exchanges
	 * (lane 1) in pair_ends; the children (lanes 0, 1) from link_kids to
	 * the walk. Four arrays' room in two, at the largest window.
	 */
	uint32_t *lane[2];
	uint32_t *srv;		/* unfolded server exchanges by (conn, req_ns) */
	size_t nsrv;
	uint32_t *kid_lo, *kids;	/* children of server exchange s: kids[kid_lo[s] .. kid_lo[s+1]) */
	uint32_t *order;	/* a step's own list of records */
	struct rkey *rk, *rktmp;	/* sort_keys' (the sorted new events go in rktmp after) */
	uint32_t *byreq;	/* the records by request time (then index) */
	size_t nsorted;		/* byreq holds records 0 .. nsorted in that order (kept from pass to pass) */
	/*
	 * The records a pass looks at (due_records): byreq[0 .. early), those
	 * that requested by its cutoff, every one's index below early_end.
	 */
	size_t early, early_end;
	uint64_t cutoff_at;	/* the pass's cutoff */
	/* The records whose read events it looks at: those that requested by evuntil, below ev_end. */
	uint64_t evuntil;
	size_t ev_end;
	/*
	 * The connections the window's records name, each once (a record
	 * holds its number); renumbered when a drop frees the last record
	 * of one. The last two found need no hash: records of a conversation
	 * come in runs, alternating between its two ends' names of it.
	 */
	struct conn *conns;
	uint32_t conn_last[2];	/* + 1: bt_hmap_intern's */
	uint32_t *evpos;	/* record -> where its read event is in ev (lane 0) */
	uint32_t *connpos;	/* pair_ends': where each connection's clients, servers go */
	/*
	 * Hand-off i's waker's last read event before the wake, as a place
	 * in ev (NONE: none): searched once a pass (link_handoffs), not at
	 * every step of every cause() that walks through the hand-off.
	 */
	uint32_t *hpred;
	size_t passcap[15];	/* PASS_ARRAYS */
	size_t nconns, conncap;
	struct bt_hmap conn_idx;	/* conns by (end_a, end_b) */
	/* The aggregates, over the whole trace. */
	struct bt_xchg_counts cnt;
	struct hop *hops;
	size_t nhops, hopcap;
	struct bt_hmap hop_idx;		/* hops by (from, to, kind, channel) */
	struct path *paths;
	size_t npaths, pathcap;
	struct bt_hmap path_idx;	/* paths by (parent, hop) */
	/* The hop and the path found last (+ 1; 0 none): a run of like trees needs no hash. */
	uint32_t last_hop, last_path;
	struct csum *ch;
	size_t nch, chcap;
	struct node *nodes;
	size_t nnodes, nodecap;
	uint32_t serial;
};

static bool valid(const struct bt_xchg *e)
{
	return e->tid && e->req_tid && e->resp_ns >= e->req_ns &&
	       (e->role == BT_ROLE_CLIENT || e->role == BT_ROLE_SERVER);
}

/*
 * Room for need elements in a window array, a quarter to spare: the new
 * room is not zeroed (every element is written before it is read), so
 * the memory the window holds is what it used, not its room.
 */
static bool reserve(void **p, size_t *cap, size_t need, size_t elem)
{
	return need <= *cap || bt_resize_raw(p, cap, bt_window_room(need), elem);
}

/* The arrays of a pass (in the order of passcap), and their elements' sizes. */
#define PASS_ARRAYS	15
static void pass_arrays(struct bt_xagg *a, void **arrays[PASS_ARRAYS])
{
	void **v[] = {
		(void **)&a->ev, (void **)&a->parent,
		(void **)&a->nesting, (void **)&a->handq, (void **)&a->match,
		(void **)&a->served, (void **)&a->lane[0], (void **)&a->lane[1],
		(void **)&a->order, (void **)&a->rk, (void **)&a->rktmp,
		(void **)&a->byreq, (void **)&a->cls, (void **)&a->connpos,
		(void **)&a->hpred,
	};

	_Static_assert(sizeof(v) / sizeof(v[0]) == PASS_ARRAYS, "every pass array");
	_Static_assert(sizeof(a->passcap) / sizeof(a->passcap[0]) == PASS_ARRAYS,
		       "one room per pass array");
	memcpy(arrays, v, sizeof(v));
}

static const size_t pass_elem[PASS_ARRAYS] = {
	sizeof(struct xev), sizeof(uint32_t), sizeof(uint8_t),
	sizeof(uint64_t), sizeof(uint32_t), sizeof(bool), sizeof(uint32_t),
	sizeof(uint32_t), sizeof(uint32_t), sizeof(struct rkey), sizeof(struct rkey),
	sizeof(uint32_t), sizeof(uint8_t), sizeof(uint32_t),
	sizeof(uint32_t),
};

/*
 * Room for n elements of elem bytes in the pass array *p (one of
 * pass_arrays), kept for the next pass; NULL when out of memory. Its
 * content is what the last pass left.
 */
static void *scratch(struct bt_xagg *a, void **p, size_t n, size_t elem)
{
	void **arrays[PASS_ARRAYS];
	size_t i = 0;

	pass_arrays(a, arrays);
	while (arrays[i] != p)
		i++;
	if (a->passcap[i] >= n && *p)
		return *p;
	/* A window of hand-offs alone has no records: room for one, not NULL. */
	return reserve(p, &a->passcap[i], n ? n : 1, elem) ? *p : NULL;
}

/* A pass's arrays given back down to what a window of n records and events needs. */
static void scratch_trim(struct bt_xagg *a, size_t n)
{
	void **arrays[PASS_ARRAYS];

	pass_arrays(a, arrays);
	for (size_t i = 0; i < PASS_ARRAYS; i++)
		bt_window_trim(arrays[i], &a->passcap[i], n, pass_elem[i]);
}

/* Element moves an insertion sort of m keys may take before the radix sort takes over. */
#define INSERT_MOVES(m)	(4 * (m) + 64)

/*
 * Sorts v[0 .. m) by key, ties in their order, by insertion while that
 * takes at most INSERT_MOVES(m) moves: keys nearly in order cost a
 * compare each, not the radix sort's passes over memory. false when it
 * gave up: v is then partly sorted, ties still in their order, so the
 * stable radix sort that follows orders it as it would have v at first.
 */
static bool insertion_sort(struct rkey *v, size_t m)
{
	size_t moves = 0, limit = INSERT_MOVES(m);

	for (size_t i = 1; i < m; i++) {
		struct rkey x = v[i];
		size_t j = i;

		if (v[j - 1].k <= x.k)
			continue;
		while (j > 0 && v[j - 1].k > x.k) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
		moves += i - j;
		if (moves > limit)
			return false;
	}
	return true;
}

/*
 * Sorts the keys a caller built in a->rk[0 .. m), ties in their order:
 * by insertion when they come nearly in order (times of records that
 * arrive as they complete: a record is out of place by what completed
 * while it ran, not threads) and that takes few moves, else by stable
 * LSD radix passes (bt_chains_radix), which skip the bytes the keys
 * share. The keys are built by their callers, not through a function
 * per key: a pass sorts each record's request and read event once.
 */
static int sort_keys(struct bt_xagg *a, size_t m, bool nearly)
{
	struct rkey *tmp;

	if (m < 2)
		return 0;
	tmp = scratch(a, (void **)&a->rktmp, m, sizeof(*tmp));
	if (!tmp)
		return -ENOMEM;
	if (!nearly || !insertion_sort(a->rk, m))
		bt_chains_radix(a->rk, tmp, m);
	return 0;
}

/* The thread a root ran on: a client's sender, a server's responder. */
static uint32_t root_tid(const struct xrec *e)
{
	return e->role == BT_ROLE_CLIENT ? e->req_tid : e->tid;
}

/* The time of a record's read event: the server read the request, the client the response. */
static uint64_t event_ns(const struct xrec *e)
{
	return e->role == BT_ROLE_SERVER ? e->req_ns : e->resp_ns;
}

/* The sorted new events go where the sort keys were. */
_Static_assert(sizeof(struct xev) == sizeof(struct rkey) &&
	       _Alignof(struct xev) <= _Alignof(struct rkey), "an event in a sort key's room");

/* Whether event x comes after event y: by thread, time, type, then what it numbers. */
static bool ev_after(const struct xev *x, const struct xev *y)
{
	return x->tid != y->tid ? x->tid > y->tid :
	       x->t != y->t ? x->t > y->t :
	       x->type != y->type ? x->type > y->type : x->idx > y->idx;
}

/*
 * The events by thread, time, type, then as built (records by index,
 * hand-offs, tails). The last pass left the events of the records it
 * kept in that order at ev[0 .. kept); the new ones, ev[kept .. nev)
 * (records by index, then hand-offs and tails), are sorted alone and
 * merged in from the back, a tie between two records' by their indexes
 * (ev_after; a kept record may be older or newer than a new one): the
 * order a full stable sort gives, for the sort of the records added
 * since.
 */
static int sort_events(struct bt_xagg *a, size_t kept)
{
	size_t m = a->nev - kept;
	struct rkey *v = scratch(a, (void **)&a->rk, m, sizeof(*v));
	struct xev *fresh;
	int err;

	if (!v)
		return -ENOMEM;
	/* By time then type (nearly in order), then by thread: stable, so by all three. */
	for (size_t j = 0; j < m; j++) {
		const struct xev *e = &a->ev[kept + j];

		v[j] = (struct rkey){ e->t << 2 | e->type, (uint32_t)(kept + j), 0 };
	}
	err = sort_keys(a, m, true);
	for (size_t j = 0; j < m && !err; j++)
		v[j].k = a->ev[v[j].idx].tid;
	if (!err)
		err = sort_keys(a, m, false);
	if (!err && !(a->evpos = scratch(a, (void **)&a->lane[0], a->n, sizeof(*a->evpos))))
		err = -ENOMEM;
	if (err)
		return err;
	/* The radix sort's room is spent: the sorted new events go there. */
	fresh = scratch(a, (void **)&a->rktmp, m, sizeof(struct rkey));
	if (!fresh)
		return -ENOMEM;
	for (size_t j = 0; j < m; j++)
		fresh[j] = a->ev[v[j].idx];
	for (size_t i = kept, j = m, w = a->nev; j > 0;)
		a->ev[--w] = i > 0 && ev_after(&a->ev[i - 1], &fresh[j - 1]) ? a->ev[--i] : fresh[--j];
	for (size_t i = 0; i < a->nev; i++)
		if (a->ev[i].type == EV_SREQ || a->ev[i].type == EV_CRESP)
			a->evpos[a->ev[i].idx] = (uint32_t)i;
	return 0;
}

/*
 * The read events of the records that requested by until (events_until):
 * those ev kept from the last pass, and the others'.
 */
static int build_events(struct bt_xagg *a, uint64_t until)
{
	/* A pass that needs fewer than the last kept (an earlier cutoff): all anew. */
	bool ok = a->evok && a->evcut <= until && a->evn <= a->n;
	size_t kept = ok ? a->nevkept : 0, old = ok ? a->evn : 0;

	a->evok = false;	/* until drop has kept them again */
	if (!scratch(a, (void **)&a->ev, a->n + a->nh + a->ntails, sizeof(*a->ev)))
		return -ENOMEM;
	a->nev = kept;
	for (size_t i = 0; i < a->ev_end; i++) {
		const struct xrec *e = &a->x[i];

		if (e->req_ns > until || (i < old && e->req_ns <= a->evcut))
			continue;
		if (e->role == BT_ROLE_SERVER)
			a->ev[a->nev++] = (struct xev){ e->req_tid, EV_SREQ, (uint32_t)i, e->req_ns };
		else
			a->ev[a->nev++] = (struct xev){ e->tid, EV_CRESP, (uint32_t)i, e->resp_ns };
	}
	for (size_t i = 0; i < a->nh; i++)
		a->ev[a->nev++] = (struct xev){ a->h[i].tid, EV_HAND, (uint32_t)i, a->h[i].end_ns };
	for (size_t i = 0; i < a->ntails; i++)
		a->ev[a->nev++] = (struct xev){ (uint32_t)a->tails[i].tid, EV_TAIL, (uint32_t)i,
						a->tails[i].t };
	return sort_events(a, kept);
}

/* Whether event e comes before time t of thread tid. */
static bool ev_less(const struct xev *e, uint32_t tid, uint64_t t)
{
	return e->tid < tid || (e->tid == tid && e->t < t);
}

/*
 * The first event not before (tid, t). from: a guess; when every event
 * before it is before (tid, t) (a thread's later wake than the last one
 * asked), the search gallops on from there, else it searches them all.
 */
static size_t ev_lower_bound(const struct bt_xagg *a, uint32_t tid, uint64_t t, size_t from)
{
	size_t lo = 0, hi = a->nev, step = 1;

	if (from && from <= a->nev && ev_less(&a->ev[from - 1], tid, t)) {
		lo = from;
		while (lo < a->nev) {
			size_t p = a->nev - lo > step ? lo + step - 1 : a->nev - 1;

			if (!ev_less(&a->ev[p], tid, t)) {
				hi = p;
				break;
			}
			lo = p + 1;
			step *= 2;
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ev_less(&a->ev[mid], tid, t))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The last read event of tid strictly before t, or NULL. */
static const struct xev *last_before(const struct bt_xagg *a, uint32_t tid, uint64_t t)
{
	size_t lo = 0, hi = a->nev;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct xev *e = &a->ev[mid];

		if (e->tid < tid || (e->tid == tid && e->t < t))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || a->ev[lo - 1].tid != tid)
		return NULL;
	return &a->ev[lo - 1];
}

/* Events walked back before last_before searches instead. */
#define WALK_BACK	16

/*
 * The last read event of client c's sending thread before its request:
 * when it read the response itself, walked back from that read (the
 * events of its call are few), else searched. As last_before.
 */
static const struct xev *before_call(const struct bt_xagg *a, uint32_t c)
{
	const struct xrec *e = &a->x[c];
	size_t j = a->evpos[c];

	if (e->tid != e->req_tid)
		return last_before(a, e->req_tid, e->req_ns);
	/* Every event of the thread after the read is later than the request. */
	for (int step = 0; step < WALK_BACK; step++, j--) {
		if (!j || a->ev[j - 1].tid != e->tid)
			return NULL;
		if (a->ev[j - 1].t < e->req_ns)
			return &a->ev[j - 1];
	}
	return last_before(a, e->req_tid, e->req_ns);
}

/* The request a read event stands for: NONE if none, GONE if it was folded. */
static uint32_t cause(const struct bt_xagg *a, const struct xev *e, uint64_t *handoff_ns)
{
	*handoff_ns = 0;
	for (int hand = 0; e && hand <= MAX_HANDOFFS; hand++) {
		const struct bt_handoff *h;

		switch (e->type) {
		case EV_SREQ:
			return a->st[e->idx].folded ? GONE : e->idx;
		case EV_CRESP:
			if (a->st[e->idx].folded)
				return a->st[e->idx].some ? GONE : NONE;
			return a->parent[e->idx];
		case EV_TAIL:
			return a->tails[e->idx].some ? GONE : NONE;
		}
		/* The job waited from its hand-off to its pick-up: queueing. */
		h = &a->h[e->idx];
		*handoff_ns += h->end_ns > h->wake_ns ? h->end_ns - h->wake_ns : 0;
		e = a->hpred[e->idx] == NONE ? NULL : &a->ev[a->hpred[e->idx]];
	}
	return NONE;
}

/*
 * Each hand-off's waker's last read event before the wake (hpred), for
 * cause(): a window of hand-offs alone (a futex ping-pong) walks each
 * through MAX_HANDOFFS others, a search each, at every drop.
 */
static int link_handoffs(struct bt_xagg *a)
{
	/* The last two wakers' places: a ping-pong's turns alternate between two. */
	struct { uint32_t tid; size_t at; } seen[2] = { { 0, 0 }, { 0, 0 } };
	unsigned int next = 0;

	if (!scratch(a, (void **)&a->hpred, a->nh, sizeof(*a->hpred)))
		return -ENOMEM;
	for (size_t i = 0; i < a->nh; i++) {
		uint32_t tid = a->h[i].waker_tid;
		unsigned int k = seen[0].tid == tid ? 0 : seen[1].tid == tid ? 1 : 2;
		size_t at = ev_lower_bound(a, tid, a->h[i].wake_ns, k < 2 ? seen[k].at : 0);

		a->hpred[i] = at && a->ev[at - 1].tid == tid ? (uint32_t)(at - 1) : NONE;
		if (k == 2) {
			k = next;
			next ^= 1;
		}
		seen[k].tid = tid;
		seen[k].at = at;
	}
	return 0;
}

/*
 * Whether the trace allows client exchange c (of thread req_tid) to be a
 * call of server exchange s: s is of c's process, read its request on c's
 * sending thread before c went out and answered after c came back.
 */
static bool may_nest(const struct bt_xagg *a, uint32_t s, const struct xrec *c)
{
	const struct xrec *r = &a->x[s];

	return !a->st[s].folded && r->pid == c->pid && r->req_tid == c->req_tid &&
	       r->req_ns <= c->req_ns && r->resp_ns >= c->resp_ns;
}

/*
 * An event loop's thread with several requests open: the thread rule's
 * request s (NONE: contradicted) checked against the others open around
 * client exchange c (a->open holds every server exchange read before c
 * went out, less those answered before an earlier call). One the trace
 * allows is the parent; with several, the thread rule's if it is one of
 * them, else the one read last, and c is ambiguous: the loop reads
 * sockets in batches and runs their callbacks after, and a connection
 * pool hands a freed connection to another request, so the thread's
 * last read does not say which request a write serves.
 */
static uint32_t open_parent(struct bt_xagg *a, uint32_t ci, uint32_t s)
{
	const struct xrec *c = &a->x[ci];
	uint32_t pick = s, allowed = s != NONE;
	size_t keep = 0;

	for (size_t k = 0; k < a->nopen; k++) {
		uint32_t j = a->open[k];

		/* Answered before this call went out: before every later one too. */
		if (a->x[j].resp_ns < c->req_ns)
			continue;
		a->open[keep++] = j;
		if (j != s && may_nest(a, j, c)) {
			allowed++;
			if (s == NONE)
				pick = j;	/* the open list is in request order */
		}
	}
	a->nopen = keep;
	a->nesting[ci] = allowed > 1 ? NEST_AMBIGUOUS : pick == NONE ? NEST_REJECTED : NEST_AGREED;
	return pick;
}

/*
 * The parent of every client exchange that completed by the cutoff (R_DUE). A later
 * one is neither walked nor anyone's child in this pass (a child ends
 * before its parent, inside a tree that ends by the cutoff), and no
 * cause() of one that is looks at it: a read event before a request
 * ended before it. It stays NONE; the next pass links it. The server
 * exchanges not folded come in the same order, into the open list.
 */
static int link_parents(struct bt_xagg *a)
{
	uint32_t *order = scratch(a, (void **)&a->order, a->n, sizeof(*order));
	size_t m = 0;

	if (!order)
		return -ENOMEM;
	/* A server that requested after the cutoff comes after every due client: no parent. */
	for (size_t k = 0; k < a->early; k++) {
		uint32_t i = a->byreq[k];

		if ((a->cls[i] & (R_CLIENT | R_FOLDED | R_DUE)) == (R_CLIENT | R_DUE) ||
		    !(a->cls[i] & (R_CLIENT | R_FOLDED)))
			order[m++] = i;
	}
	a->nopen = 0;
	for (size_t k = 0; k < m; k++) {
		const struct xrec *c = &a->x[order[k]];
		uint64_t handoff_ns;
		uint32_t s;

		if (c->role == BT_ROLE_SERVER) {
			if (!bt_grow((void **)&a->open, &a->opencap, a->nopen + 1, sizeof(*a->open)))
				return -ENOMEM;
			a->open[a->nopen++] = order[k];
			continue;
		}
		s = cause(a, before_call(a, order[k]), &handoff_ns);
		if (s == GONE || (s != NONE && (a->x[s].pid != c->pid || a->x[s].req_ns > c->req_ns ||
						a->x[s].resp_ns < c->resp_ns))) {
			/* Another request open on the thread may be the one. */
			s = s == GONE || a->x[s].req_tid == c->req_tid ?
				open_parent(a, order[k], NONE) : NONE;
			if (s == NONE)
				a->nesting[order[k]] = NEST_REJECTED;
		} else if (s != NONE && a->x[s].req_tid == c->req_tid) {
			s = open_parent(a, order[k], s);
		}
		if (s != NONE && a->x[s].req_tid == c->req_tid)
			handoff_ns = 0;	/* read by the sending thread itself */
		a->parent[order[k]] = s;
		/* The request's first call tells how long it waited for a worker. */
		if (s != NONE && a->nh && !a->handq[s])
			a->handq[s] = handoff_ns;
	}
	return 0;
}

/* As bt_hmap_intern hashes a connection. */
static uint64_t conn_hash(uint64_t ea, uint64_t eb)
{
	struct conn key = { ea, eb, 0 };

	return bt_hash(&key, CONN_KEY);
}

static bool conn_eq(const void *ctx, uint32_t e, const void *key)
{
	const struct conn *c = &((const struct conn *)ctx)[e], *k = key;

	return c->end_a == k->end_a && c->end_b == k->end_b;
}

/* The number of connection (ea, eb); NONE if no record in the window names it. */
static uint32_t conn_find(const struct bt_xagg *a, uint64_t ea, uint64_t eb)
{
	struct conn key = { ea, eb, 0 };

	return bt_hmap_get(&a->conn_idx, conn_hash(ea, eb), conn_eq, a->conns, &key);
}

/* The number of connection (ea, eb), interned; NONE without both ends, or out of memory. */
static uint32_t conn_intern(struct bt_xagg *a, uint64_t ea, uint64_t eb, int *err)
{
	struct conn key = { ea, eb, 0 };
	uint32_t id;

	if (!ea || !eb)
		return NONE;
	id = bt_hmap_intern(&a->conn_idx, (void **)&a->conns, &a->nconns, &a->conncap,
			    sizeof(*a->conns), WINDOW_MAX, conn_eq, &key, CONN_KEY, a->conn_last);
	if (id == BT_HMAP_NONE) {
		*err = -ENOMEM;
		return NONE;
	}
	a->conns[id].refs++;
	return id;
}

/*
 * The connections the records left after a drop name (those some record
 * still refers to), renumbered in their order (map: room for one number
 * each). The index is filed anew in the memory it kept: it cannot fail.
 */
static int prune_conns(struct bt_xagg *a, uint32_t *map)
{
	size_t k = 0;

	for (size_t c = 0; c < a->nconns; c++) {
		if (!a->conns[c].refs) {
			map[c] = NONE;
			continue;
		}
		map[c] = (uint32_t)k;
		a->conns[k++] = a->conns[c];
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->x[i].conn != NONE)
			a->x[i].conn = map[a->x[i].conn];
	a->nconns = k;
	a->conn_last[0] = a->conn_last[1] = 0;
	bt_hmap_clear(&a->conn_idx);
	for (size_t c = 0; c < k; c++)
		if (bt_hmap_put(&a->conn_idx, conn_hash(a->conns[c].end_a, a->conns[c].end_b),
				(uint32_t)c))
			return -ENOMEM;
	return 0;
}

/* Whether server exchange srv[j] comes at or before (id, t) in srv's order. */
static bool srv_le(const struct bt_xagg *a, size_t j, uint32_t id, uint64_t t)
{
	uint32_t s = a->srv[j];

	return a->x[s].conn < id || (a->x[s].conn == id && a->x[s].req_ns <= t);
}

/*
 * How many server exchanges on connection id read their request at or
 * before t, plus those before; near is where the answer likely is (the
 * last one's, for the same connection's next client): searched outward
 * from there, so a client costs the log of how far its answer moved.
 */
static size_t srv_upper(const struct bt_xagg *a, uint32_t id, uint64_t t, size_t near)
{
	size_t lo = 0, hi = a->nsrv, step = 1;

	if (near > a->nsrv)
		near = a->nsrv;
	if (near < a->nsrv && srv_le(a, near, id, t)) {
		/* The answer is above near: widen until it is bracketed. */
		lo = near + 1;
		while (lo + step <= a->nsrv && srv_le(a, lo + step - 1, id, t)) {
			lo += step;
			step *= 2;
		}
		if (lo + step <= a->nsrv)
			hi = lo + step - 1;
	} else {
		hi = near;
		while (hi >= step && !srv_le(a, hi - step, id, t)) {
			hi -= step;
			step *= 2;
		}
		if (hi >= step)
			lo = hi - step + 1;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (srv_le(a, mid, id, t))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * A client's call k and the server's exchange k on one connection: the
 * server read the request before the client had this response, and
 * answered after the client had the previous one (one request at a time).
 * Both ends' clocks are taken after the data moved, so the server may read
 * before the client's send returns, and a server that reads the tail of
 * request k-1 after it began to answer starts exchange k then: the
 * request times alone do not order them; the work between does. Folded
 * pairs are settled: their clients only say when the previous call ended.
 */
static int pair_ends(struct bt_xagg *a, uint64_t cutoff)
{
	uint32_t *cl = scratch(a, (void **)&a->order, a->n, sizeof(*cl));
	uint32_t *cpos = scratch(a, (void **)&a->connpos, 2 * (a->nconns + 1), sizeof(*cpos));
	uint32_t *spos = cpos + a->nconns + 1;
	size_t ncl = 0, near = 0;
	uint32_t far = NONE, far_of = NONE;	/* the reverse of connection far_of */

	a->srv = scratch(a, (void **)&a->lane[1], a->n, sizeof(*a->srv));
	if (!cl || !cpos || !a->srv)
		return -ENOMEM;
	/*
	 * Both lists by connection, then request time: the order of the
	 * connections does not matter (a client's far end is on its own
	 * reverse), only the order within one. A counting sort of the
	 * records in request order on their connection's number (the
	 * numbers are dense: below nconns), not a sort of keys.
	 */
	memset(cpos, 0, 2 * (a->nconns + 1) * sizeof(*cpos));
	for (size_t i = 0; i < a->n; i++) {
		if (a->x[i].conn == NONE)
			continue;
		if (a->x[i].role == BT_ROLE_CLIENT)
			cpos[a->x[i].conn + 1]++;
		else if (!a->st[i].folded)
			spos[a->x[i].conn + 1]++;
	}
	for (size_t c = 0; c < a->nconns; c++) {
		cpos[c + 1] += cpos[c];
		spos[c + 1] += spos[c];
	}
	ncl = cpos[a->nconns];
	a->nsrv = spos[a->nconns];
	for (size_t k = 0; k < a->n; k++) {
		uint32_t i = a->byreq[k];

		if (a->x[i].conn == NONE)
			continue;
		if (a->x[i].role == BT_ROLE_CLIENT)
			cl[cpos[a->x[i].conn]++] = i;
		else if (!a->st[i].folded)
			a->srv[spos[a->x[i].conn]++] = i;
	}
	for (size_t k = 0; k < ncl; k++) {
		const struct xrec *c = &a->x[cl[k]];
		uint64_t after = k && a->x[cl[k - 1]].conn == c->conn ?
				 a->x[cl[k - 1]].resp_ns : 0;
		size_t j, at;
		uint64_t best_gap = UINT64_MAX;
		uint32_t best = NONE, before = NONE;

		if (a->st[cl[k]].folded)
			continue;
		/*
		 * A client that requested after the cutoff, as its
		 * connection's previous one did: a server it may take answered
		 * after that one's response, after the cutoff, and neither it
		 * nor a later one of its connection is due. The rest of the
		 * connection's clients (the fill left cpos at its end) wait
		 * for a later pass: the first to request after the cutoff is
		 * paired, which may take a due server (the clocks race).
		 */
		if (c->req_ns > cutoff && k && a->x[cl[k - 1]].conn == c->conn &&
		    a->x[cl[k - 1]].req_ns > cutoff) {
			k = cpos[c->conn] - 1;
			continue;
		}
		/* The clients are by connection: its reverse is looked up once per run. */
		if (far_of != c->conn) {
			far = conn_find(a, a->conns[c->conn].end_b, a->conns[c->conn].end_a);
			far_of = c->conn;
		}
		if (far == NONE)
			continue;
		/*
		 * Of those, the last that answered before the client read (a
		 * client slow to read would otherwise take the next exchange,
		 * begun early by a tail read, that answered nearer its read);
		 * if none did (the clocks race: the sender's clock is taken
		 * after the reader may have run), the one that answered closest.
		 */
		at = srv_upper(a, far, c->resp_ns, near);
		near = at;
		for (j = at; j > 0; j--) {
			const struct xrec *s = &a->x[a->srv[j - 1]];
			uint64_t gap;

			if (s->conn != far || s->resp_ns <= after)
				break;
			if (a->served[a->srv[j - 1]])
				continue;
			if (s->resp_ns <= c->resp_ns && (before == NONE ||
							 s->resp_ns > a->x[before].resp_ns))
				before = a->srv[j - 1];
			gap = s->resp_ns > c->resp_ns ? s->resp_ns - c->resp_ns :
							c->resp_ns - s->resp_ns;
			if (gap < best_gap) {
				best_gap = gap;
				best = a->srv[j - 1];
			}
		}
		if (before != NONE)
			best = before;
		if (best == NONE)
			continue;
		a->match[cl[k]] = best;
		a->served[best] = true;
	}
	return 0;
}

/* Children of every server exchange, in request order (CSR arrays). */
static int link_kids(struct bt_xagg *a)
{
	/* Only due clients have a parent, due servers children: all below early_end. */
	size_t n = a->early_end;
	uint32_t *fill = scratch(a, (void **)&a->order, n, sizeof(*fill));

	a->kid_lo = scratch(a, (void **)&a->lane[0], n + 2, sizeof(*a->kid_lo));
	a->kids = scratch(a, (void **)&a->lane[1], n, sizeof(*a->kids));
	if (!fill || !a->kid_lo || !a->kids)
		return -ENOMEM;
	memset(a->kid_lo, 0, (n + 2) * sizeof(*a->kid_lo));
	memset(fill, 0, n * sizeof(*fill));
	for (size_t i = 0; i < n; i++)
		if (a->parent[i] != NONE)
			a->kid_lo[a->parent[i] + 1]++;
	for (size_t i = 0; i < n; i++)
		a->kid_lo[i + 1] += a->kid_lo[i];
	for (size_t i = 0; i < n; i++) {
		uint32_t p = a->parent[i];

		if (p != NONE)
			a->kids[a->kid_lo[p] + fill[p]++] = (uint32_t)i;
	}
	return 0;
}

static uint64_t hop_hash(const struct hop *h)
{
	uint64_t v[2] = { h->from | (uint64_t)h->to << 32, h->kind | (uint64_t)h->channel << 32 };

	return bt_hash(v, sizeof(v));
}

static bool hop_eq(const void *ctx, uint32_t e, const void *key)
{
	const struct hop *h = &((const struct hop *)ctx)[e], *k = key;

	return h->from == k->from && h->to == k->to && h->kind == k->kind &&
	       h->channel == k->channel;
}

/* Hops and paths are only ever added: each is looked up by its key, once per exchange. */
static uint32_t hop_id(struct bt_xagg *a, uint32_t from, uint32_t to, uint8_t kind, uint32_t ch)
{
	struct hop key = { from, to, kind, ch };
	uint64_t h;
	uint32_t e;

	if (a->last_hop && hop_eq(a->hops, a->last_hop - 1, &key))
		return a->last_hop - 1;
	h = hop_hash(&key);
	e = bt_hmap_get(&a->hop_idx, h, hop_eq, a->hops, &key);
	if (e == BT_HMAP_NONE) {
		if (!bt_grow((void **)&a->hops, &a->hopcap, a->nhops + 1, sizeof(*a->hops)) ||
		    bt_hmap_put(&a->hop_idx, h, (uint32_t)a->nhops))
			return NONE;
		a->hops[a->nhops] = key;
		e = (uint32_t)a->nhops++;
	}
	a->last_hop = e + 1;
	return e;
}

static uint64_t path_hash(uint32_t parent, uint32_t hop)
{
	uint64_t v = parent | (uint64_t)hop << 32;

	return bt_hash(&v, sizeof(v));
}

static bool path_eq(const void *ctx, uint32_t e, const void *key)
{
	const struct path *p = &((const struct path *)ctx)[e];
	const uint32_t *k = key;

	return p->parent == k[0] && p->hop == k[1];
}

static uint32_t path_id(struct bt_xagg *a, uint32_t parent, uint32_t hop)
{
	uint32_t key[2] = { parent, hop };
	uint64_t h;
	uint32_t e;

	if (a->last_path && path_eq(a->paths, a->last_path - 1, key))
		return a->last_path - 1;
	h = path_hash(parent, hop);
	e = bt_hmap_get(&a->path_idx, h, path_eq, a->paths, key);
	if (e == BT_HMAP_NONE) {
		if (!bt_grow((void **)&a->paths, &a->pathcap, a->npaths + 1, sizeof(*a->paths)) ||
		    bt_hmap_put(&a->path_idx, h, (uint32_t)a->npaths))
			return NONE;
		a->paths[a->npaths] = (struct path){
			.parent = parent, .hop = hop,
			.depth = parent == NONE ? 0 : a->paths[parent].depth + 1,
		};
		e = (uint32_t)a->npaths++;
	}
	a->last_path = e + 1;
	return e;
}

/* Distinct next hops one request's calls went to, with their summed latency. */
#define FAN_MAX	8
struct fan {
	uint32_t path[FAN_MAX];
	uint64_t ns[FAN_MAX];
	unsigned int n;
};

static void fan_add(struct fan *f, uint32_t path, uint64_t ns)
{
	for (unsigned int i = 0; i < f->n; i++) {
		if (f->path[i] == path) {
			f->ns[i] += ns;
			return;
		}
	}
	if (f->n < FAN_MAX) {
		f->path[f->n] = path;
		f->ns[f->n++] = ns;
	}
}

/*
 * A request whose calls went to two next hops or more, one after the
 * other (a request's calls are serial: one thread, one connection each):
 * in parallel they would have taken the longest hop's total.
 */
static void fan_count(struct path *pp, const struct fan *f)
{
	uint64_t total = 0, max = 0;

	if (f->n < 2)
		return;
	for (unsigned int i = 0; i < f->n; i++) {
		total += f->ns[i];
		if (f->ns[i] > max)
			max = f->ns[i];
	}
	pp->sum.fan_calls++;
	pp->sum.fan_save += total - max;
	if (f->n > pp->sum.fan_peers)
		pp->sum.fan_peers = f->n;
}

/*
 * The server of another call of server exchange s's request to the same
 * service as its unpaired call kc (at most SIBLINGS looked at), else 0: a
 * server followed in the middle of a request answered its later calls, and
 * the request's calls are one hop, not two.
 */
#define SIBLINGS	64

static uint32_t sibling_server(const struct bt_xagg *a, uint32_t s, uint32_t kc)
{
	uint32_t lo = a->kid_lo[s], hi = a->kid_lo[s + 1];

	if (hi - lo > SIBLINGS)
		hi = lo + SIBLINGS;
	for (uint32_t k = lo; k < hi; k++) {
		uint32_t o = a->kids[k];

		if (o != kc && a->match[o] != NONE && a->x[o].kind == a->x[kc].kind &&
		    a->nm[o].channel == a->nm[kc].channel)
			return a->x[a->match[o]].pid;
	}
	return 0;
}

/*
 * One call at path p: client exchange c (NONE for a server root s), its
 * far end s (NONE when not traced: then to_hint, sibling_server's, or 0).
 * Adds it and its calls, depth first.
 */
static int visit(struct bt_xagg *a, uint32_t c, uint32_t s, uint32_t parent_path,
		 uint32_t to_hint, uint64_t *lat_out, uint32_t *path_out)
{
	struct fan fan;	/* only fan.n is read before it is written: not 100 bytes zeroed per call */
	const struct xrec *e = c != NONE ? &a->x[c] : &a->x[s];
	uint64_t lat = e->resp_ns - e->req_ns, svc = lat, kids = 0;
	uint32_t from = c != NONE ? e->pid : 0, to = s != NONE ? a->x[s].pid : to_hint;
	uint32_t h = hop_id(a, from, to, e->kind, a->nm[c != NONE ? c : s].channel), p;
	struct path *pp;

	fan.n = 0;
	if (h == NONE || (p = path_id(a, parent_path, h)) == NONE)
		return -ENOMEM;
	pp = &a->paths[p];
	if (pp->stamp != a->serial) {
		pp->stamp = a->serial;
		pp->sum = (struct xsum){ 0 };
		pp->has_child = false;
	}
	if (s != NONE) {
		svc = a->x[s].resp_ns - a->x[s].req_ns;
		if (a->nh)	/* waiting for a worker */
			svc -= a->handq[s] < svc ? a->handq[s] : svc;
		if (svc > lat)
			svc = lat;
		if (a->paths[p].depth + 1 < BT_CHAINS_MAX_DEPTH) {
			for (uint32_t k = a->kid_lo[s]; k < a->kid_lo[s + 1]; k++) {
				uint32_t kc = a->kids[k], kp = NONE;
				uint32_t hint = a->match[kc] == NONE ? sibling_server(a, s, kc) : 0;
				uint64_t kl = 0;
				int err = visit(a, kc, a->match[kc], p, hint, &kl, &kp);

				if (err)
					return err;
				kids += kl;
				fan_add(&fan, kp, kl);
			}
		}
	}
	pp = &a->paths[p];	/* the walk below may have moved the array */
	fan_count(pp, &fan);
	if (c != NONE)
		threads_add(&pp->from_thr, e->tid, a->nm[c].thread);
	if (s != NONE)
		threads_add(&pp->to_thr, a->x[s].tid, a->nm[s].thread);
	pp->sum.calls++;
	pp->sum.ambiguous += c != NONE && a->nesting[c] == NEST_AMBIGUOUS;
	pp->sum.lat += lat;
	pp->sum.queue += lat - svc;
	pp->sum.svc += svc;
	pp->sum.kids += kids;
	if (parent_path != NONE)
		a->paths[parent_path].has_child = true;
	if (!bt_grow((void **)&a->nodes, &a->nodecap, a->nnodes + 1, sizeof(*a->nodes)))
		return -ENOMEM;
	a->nodes[a->nnodes++] = (struct node){ p, lat };
	*lat_out = lat;
	*path_out = p;
	return 0;
}

/* Adds the current root's tree to the chains it ends. */
static int add_root(struct bt_xagg *a, uint32_t tid, uint64_t lat)
{
	for (size_t n = 0; n < a->nnodes; n++) {
		uint32_t leaf = a->nodes[n].path;
		struct path *lp = &a->paths[leaf];
		struct csum *c;

		/* A path with nothing below it in this root ends a chain, once. */
		if (lp->has_child || lp->done == a->serial)
			continue;
		lp->done = a->serial;
		if (!lp->chain) {
			if (!bt_grow((void **)&a->ch, &a->chcap, a->nch + 1, sizeof(*a->ch)))
				return -ENOMEM;
			a->ch[a->nch] = (struct csum){ .leaf = leaf, .nhops = lp->depth + 1 };
			lp = &a->paths[leaf];
			lp->chain = (uint32_t)++a->nch;
		}
		c = &a->ch[lp->chain - 1];
		c->roots++;
		c->lat += lat;
		if (bt_tidset_add(&c->threads, tid) || bt_lat_add(&c->root_lat, lat))
			return -ENOMEM;
		for (uint32_t q = leaf; q != NONE; q = a->paths[q].parent) {
			const struct path *qp = &a->paths[q];
			struct hsum *h = &c->h[qp->depth];

			xsum_add(&h->sum, &qp->sum);
			if (qp->depth && bt_calls_add(&h->per_root, (uint32_t)qp->sum.calls))
				return -ENOMEM;
			for (size_t k = 0; k < a->nnodes; k++)
				if (a->nodes[k].path == q && bt_lat_add(&h->each, a->nodes[k].lat))
					return -ENOMEM;
		}
	}
	return 0;
}

/* Marks a walked tree folded (all of it: the walk stops at the depth cap) and counts it. */
static void mark(struct bt_xagg *a, uint32_t c, uint32_t s)
{
	if (c != NONE && !a->st[c].folded) {
		a->st[c].folded = true;
		a->st[c].some = a->parent[c] != NONE;
		a->cnt.nested += a->st[c].some;
		a->cnt.rejected += a->nesting[c] == NEST_REJECTED;
		a->cnt.ambiguous += a->nesting[c] == NEST_AMBIGUOUS;
		a->cnt.paired += a->match[c] != NONE;
	}
	if (s == NONE || a->st[s].folded)
		return;
	a->st[s].folded = true;
	for (uint32_t k = a->kid_lo[s]; k < a->kid_lo[s + 1]; k++)
		if (!a->st[a->kids[k]].folded)
			mark(a, a->kids[k], a->match[a->kids[k]]);
}

static int walk(struct bt_xagg *a, uint32_t c, uint32_t s)
{
	const struct xrec *e = c != NONE ? &a->x[c] : &a->x[s];
	uint64_t lat = 0;
	uint32_t path;
	int err;

	a->serial++;
	a->nnodes = 0;
	a->cnt.roots++;
	err = visit(a, c, s, NONE, 0, &lat, &path);
	if (!err)
		err = add_root(a, c != NONE ? e->req_tid : e->tid, lat);
	mark(a, c, s);
	return err;
}

/* The roots whose tree is complete by cutoff, thread by thread. */
static int walk_roots(struct bt_xagg *a)
{
	uint32_t *roots = scratch(a, (void **)&a->order, a->n, sizeof(*roots));
	struct rkey *v;
	size_t m = 0;
	int err = 0;

	if (!roots)
		return -ENOMEM;
	for (size_t k = 0; k < a->early; k++) {
		uint32_t i = a->byreq[k];

		/* Nothing is folded before the walks: the classes still hold. */
		if ((a->cls[i] & (R_FOLDED | R_DUE)) != R_DUE)
			continue;
		if (a->cls[i] & R_CLIENT ? a->parent[i] == NONE : !a->served[i])
			roots[m++] = i;
	}
	/* Thread by thread, in request order on each. */
	v = scratch(a, (void **)&a->rk, m, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t k = 0; k < m; k++)
		v[k] = (struct rkey){ root_tid(&a->x[roots[k]]), roots[k], 0 };
	err = sort_keys(a, m, false);
	for (size_t k = 0; k < m && !err; k++) {
		uint32_t i = a->rk[k].idx;

		if (a->x[i].role == BT_ROLE_CLIENT)
			err = walk(a, i, a->match[i]);
		else
			err = walk(a, NONE, i);
	}
	return err;
}

static int cmp_tail(const void *pa, const void *pb)
{
	const struct tail *a = pa, *b = pb;

	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	return a->t > b->t ? -1 : a->t < b->t;	/* the latest first */
}

static bool tail_eq(const void *ctx, uint32_t i, const void *key)
{
	return ((const struct tail *)ctx)[i].tid == *(const uint64_t *)key;
}

/*
 * The run of the thread freed last ends: its tail is its thread's new
 * tail if later than the runs before it (the first of equal ones stays).
 */
static int close_run(struct bt_xagg *a)
{
	uint64_t h = bt_hash(&a->run.tid, sizeof(a->run.tid));
	uint32_t i;

	if (!a->run_open)
		return 0;
	a->run_open = false;
	i = bt_hmap_get(&a->tail_idx, h, tail_eq, a->tails, &a->run.tid);
	if (i != BT_HMAP_NONE) {
		if (a->run.t > a->tails[i].t)
			a->tails[i] = a->run;
		return 0;
	}
	if (!bt_grow((void **)&a->tails, &a->tailcap, a->ntails + 1, sizeof(*a->tails)) ||
	    bt_hmap_put(&a->tail_idx, h, (uint32_t)a->ntails))
		return -ENOMEM;
	a->tails[a->ntails++] = a->run;
	return 0;
}

/*
 * A freed read event: its thread's tail if the latest (tails[0 .. sorted)
 * are by tid). A thread without a tail yet gets one per drop, not one per
 * run of its events (threads that take turns, a ping-pong's two ends,
 * would make one per freed record): the latest of its runs, the first on
 * a tie, a run being the latest of its events, the last on a tie.
 */
static int add_tail(struct bt_xagg *a, size_t sorted, uint32_t tid, uint64_t t, bool some)
{
	size_t at = bt_upper_bound_u64(a->tails, sorted, sizeof(*a->tails),
				       offsetof(struct tail, tid), tid);
	int err;

	if (at && a->tails[at - 1].tid == tid) {
		if (t >= a->tails[at - 1].t)
			a->tails[at - 1] = (struct tail){ tid, some, t };
		return 0;
	}
	if (a->run_open && a->run.tid == tid) {
		if (t >= a->run.t)
			a->run = (struct tail){ tid, some, t };
		return 0;
	}
	err = close_run(a);
	a->run = (struct tail){ tid, some, t };
	a->run_open = true;
	return err;
}

/*
 * Frees what no later record looks back at: folded records and settled
 * hand-offs whose read event is older than keep_ns (a later record that
 * looks further back is longer than the horizon: counted late). Each
 * thread keeps its latest freed event as its tail.
 */
static int drop(struct bt_xagg *a, uint64_t keep_ns)
{
	size_t n = 0, first_new = a->ntails, shift;
	/*
	 * A record freed is folded and read before keep_ns, at or before
	 * the cutoff (a pass's keep is before its cutoff): it requested by
	 * then, below early_end.
	 */
	size_t end = keep_ns <= a->cutoff_at ? a->early_end : a->n;
	uint32_t *remap;
	bool gone = false;	/* a connection no record names any more */
	int err = 0;

	bt_hmap_clear(&a->tail_idx);
	a->run_open = false;

	for (size_t i = 0; i < a->nh && !err; i++) {
		const struct bt_handoff *h = &a->h[i];
		struct xev ev = { h->tid, EV_HAND, (uint32_t)i, h->end_ns };
		uint64_t q;
		uint32_t s;

		if (h->end_ns >= keep_ns) {
			a->hpred[n] = a->hpred[i];
			a->h[n++] = *h;
			continue;
		}
		/*
		 * One whose request is still open stays: the worker's calls
		 * are that request's. Its place in ev goes with it: a later
		 * cause() that reaches slot n reads the hand-off moved there.
		 */
		s = cause(a, &ev, &q);
		if (s != NONE && s != GONE && !a->st[s].folded) {
			a->hpred[n] = a->hpred[i];
			a->h[n++] = *h;
		} else {
			err = add_tail(a, first_new, h->tid, h->end_ns, s != NONE);
		}
	}
	a->nh = n;
	n = 0;
	/*
	 * Where each record goes (NONE: freed), for byreq; walk_roots is
	 * done with order. Those from end on stay, moved down as one block.
	 */
	remap = a->order;
	for (size_t i = 0; i < end && !err; i++) {
		const struct xrec *e = &a->x[i];

		if (!a->st[i].folded || event_ns(e) >= keep_ns) {
			remap[i] = (uint32_t)n;
			a->st[n] = a->st[i];
			a->nm[n] = a->nm[i];
			a->x[n++] = *e;
			continue;
		}
		remap[i] = NONE;
		if (e->conn != NONE && !--a->conns[e->conn].refs)
			gone = true;
		if (e->role == BT_ROLE_SERVER)
			err = add_tail(a, first_new, e->req_tid, e->req_ns, true);
		else
			err = add_tail(a, first_new, e->tid, e->resp_ns, a->st[i].some);
	}
	if (!err)
		err = close_run(a);
	if (err) {
		a->nsorted = 0;	/* the next pass sorts every record, builds every event */
		return err;
	}
	shift = end - n;
	if (shift) {
		memmove(&a->x[n], &a->x[end], (a->n - end) * sizeof(*a->x));
		memmove(&a->nm[n], &a->nm[end], (a->n - end) * sizeof(*a->nm));
		memmove(&a->st[n], &a->st[end], (a->n - end) * sizeof(*a->st));
	}
	a->n = n + (a->n - end);
	/* The records kept stay in request order: the next pass sorts only the new ones. */
	n = 0;
	for (size_t k = 0; k < a->nsorted; k++) {
		uint32_t i = a->byreq[k];

		if (i >= end)
			a->byreq[n++] = i - (uint32_t)shift;
		else if (remap[i] != NONE)
			a->byreq[n++] = remap[i];
	}
	a->nsorted = n;
	/* And their events stay in order, the hand-offs' and tails' made anew. */
	n = 0;
	for (size_t k = 0; k < a->nev; k++) {
		const struct xev *e = &a->ev[k];
		uint32_t to;

		if (e->type != EV_SREQ && e->type != EV_CRESP)
			continue;
		to = e->idx >= end ? e->idx - (uint32_t)shift : remap[e->idx];
		if (to != NONE)
			a->ev[n++] = (struct xev){ e->tid, e->type, to, e->t };
	}
	a->nevkept = n;
	a->evn = a->n;
	a->evcut = a->evuntil;
	a->evok = true;
	/* remap is spent: it numbers the connections the kept records name. */
	if (gone) {
		remap = scratch(a, (void **)&a->order, a->nconns, sizeof(*remap));
		if (!remap || prune_conns(a, remap))
			return -ENOMEM;
	}
	if (a->ntails > first_new) {
		qsort(a->tails, a->ntails, sizeof(*a->tails), cmp_tail);
		n = 0;
		for (size_t i = 0; i < a->ntails; i++)
			if (!n || a->tails[n - 1].tid != a->tails[i].tid)
				a->tails[n++] = a->tails[i];
		a->ntails = n;
	}
	return 0;
}

static void tick(struct bt_xagg *a)
{
	if (a->tick)
		a->tick(a->tick_ctx);
}

/*
 * The records by request time, ties by index (byreq). The last pass left
 * the records it kept in that order and nothing reorders them; only those
 * added since are sorted, then merged in from the back (the older run
 * first on a tie: its indexes are lower).
 */
static int order_by_req(struct bt_xagg *a)
{
	size_t old = a->nsorted <= a->n ? a->nsorted : 0, m = a->n - old;
	struct rkey *v = scratch(a, (void **)&a->rk, m, sizeof(*v));
	int err;

	if (!v)
		return -ENOMEM;
	for (size_t r = 0; r < m; r++)
		v[r] = (struct rkey){ a->x[old + r].req_ns, (uint32_t)(old + r), 0 };
	err = sort_keys(a, m, true);
	if (err)
		return err;
	for (size_t i = old, j = m, w = a->n; j > 0;)
		a->byreq[--w] = i > 0 && a->x[a->byreq[i - 1]].req_ns > v[j - 1].k ?
				a->byreq[--i] : v[--j].idx;
	a->nsorted = a->n;
	return 0;
}

/*
 * The records a pass with this cutoff looks at, and their classes: those
 * that requested by it (byreq[0 .. early)). One that requested later
 * completed later: no tree that completed by the cutoff holds it, no read
 * event it stands for precedes a due request, and a server of it comes
 * after every due client in request order (no parent of one).
 */
/* How many records requested by t: a prefix of byreq. */
static size_t requested_by(const struct bt_xagg *a, uint64_t t)
{
	size_t lo = 0, hi = a->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->x[a->byreq[mid]].req_ns <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * How far the read events a pass looks at must go (by request time):
 * cause() looks back from a due request (at or before the cutoff) and
 * from each hand-off drop may free (older than keep_ns) to the waker's
 * events before its wake, which may come after the pick-up, then on
 * from each hand-off found before, MAX_HANDOFFS at most. An event found
 * before t is of a record that requested before t.
 */
static uint64_t events_until(const struct bt_xagg *a, uint64_t cutoff, uint64_t keep_ns)
{
	uint64_t d = cutoff;

	for (size_t i = 0; i < a->nh; i++)
		if (a->h[i].end_ns < keep_ns && a->h[i].wake_ns > d)
			d = a->h[i].wake_ns;
	for (int round = 0; round <= MAX_HANDOFFS && a->nh; round++) {
		uint64_t next = d;

		for (size_t i = 0; i < a->nh; i++)
			if (a->h[i].end_ns < d && a->h[i].wake_ns > next)
				next = a->h[i].wake_ns;
		if (next == d)
			break;
		d = next;
	}
	return d;
}

static void due_records(struct bt_xagg *a, uint64_t cutoff, uint64_t keep_ns)
{
	size_t end = 0, evn;

	a->cutoff_at = cutoff;
	a->early = requested_by(a, cutoff);
	a->evuntil = events_until(a, cutoff, keep_ns);
	evn = a->evuntil > cutoff ? requested_by(a, a->evuntil) : a->early;
	for (size_t k = 0; k < evn; k++) {
		if (k == a->early)
			a->early_end = end;
		if (a->byreq[k] >= end)
			end = a->byreq[k] + 1;
	}
	if (evn == a->early)
		a->early_end = end;
	a->ev_end = end;
	end = a->early_end;
	for (size_t i = 0; i < end; i++)
		a->cls[i] = (a->x[i].role == BT_ROLE_CLIENT ? R_CLIENT : 0) |
			    (a->st[i].folded ? R_FOLDED : 0) |
			    (a->x[i].resp_ns <= cutoff ? R_DUE : 0);
}

/* One pass: folds the trees complete by cutoff, frees what is older than keep_ns. */
static int pass(struct bt_xagg *a, uint64_t cutoff, uint64_t keep_ns)
{
	size_t n = a->n;
	int err = -ENOMEM;

	if (scratch(a, (void **)&a->parent, n, sizeof(*a->parent)) &&
	    scratch(a, (void **)&a->match, n, sizeof(*a->match)) &&
	    scratch(a, (void **)&a->nesting, n, sizeof(*a->nesting)) &&
	    scratch(a, (void **)&a->served, n, sizeof(*a->served)) &&
	    /* Only a hand-off makes a wait for a worker: without, no array. */
	    (!a->nh || scratch(a, (void **)&a->handq, n, sizeof(*a->handq))) &&
	    scratch(a, (void **)&a->byreq, n, sizeof(*a->byreq)) &&
	    scratch(a, (void **)&a->cls, n, sizeof(*a->cls))) {
		/* Every byte of NONE is 0xff. */
		memset(a->parent, 0xff, n * sizeof(*a->parent));
		memset(a->match, 0xff, n * sizeof(*a->match));
		memset(a->nesting, NEST_AGREED, n * sizeof(*a->nesting));
		memset(a->served, 0, n * sizeof(*a->served));
		if (a->nh)
			memset(a->handq, 0, n * sizeof(*a->handq));
		/* Each step below takes its records in this order, ties by index. */
		err = order_by_req(a);
	}
	if (!err)
		due_records(a, cutoff, keep_ns);
	/* A tick between the longer steps: the tracer's rings hold 100 ms or so. */
	tick(a);
	if (!err)
		err = build_events(a, a->evuntil);
	if (!err)
		err = link_handoffs(a);
	tick(a);
	if (!err)
		err = link_parents(a);
	tick(a);
	if (!err)
		err = pair_ends(a, cutoff);
	tick(a);
	if (!err)
		err = link_kids(a);
	tick(a);
	if (!err)
		err = walk_roots(a);
	tick(a);
	if (!err)
		err = drop(a, keep_ns);
	/* What a burst grew is given back once the window it came in has passed. */
	scratch_trim(a, n + a->nh + a->ntails);
	bt_window_trim((void **)&a->h, &a->hcap, a->nh, sizeof(*a->h));
	bt_window_trim((void **)&a->x, &a->cap, n, sizeof(*a->x));
	bt_window_trim((void **)&a->nm, &a->nmcap, n, sizeof(*a->nm));
	bt_window_trim((void **)&a->st, &a->stcap, n, sizeof(*a->st));
	return err;
}

struct bt_xagg *bt_xagg_new(uint64_t horizon_ns)
{
	struct bt_xagg *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	bt_budget_init(&a->bud, horizon_ns);
	bt_budget_init(&a->hbud, horizon_ns);
	a->hlo = UINT64_MAX;
	a->lo = UINT64_MAX;
	a->later = NONE;
	return a;
}

/* The id of a record's thread name in a->threads; NONE when out of memory. */
static uint32_t thread_id(struct bt_xagg *a, const char name[BT_COMM_LEN])
{
	uint32_t id;

	for (int i = 0; i < 2; i++)
		if (a->thr_id[i] && !memcmp(a->thr_name[i], name, BT_COMM_LEN))
			return a->thr_id[i] - 1;
	id = bt_strtab_kind_id(&a->threads, 0, name, BT_COMM_LEN);
	if (id == NONE)
		return NONE;
	memcpy(a->thr_name[a->thr_next], name, BT_COMM_LEN);
	a->thr_id[a->thr_next] = id + 1;
	a->thr_next ^= 1;
	return id;
}

/* Adds x with its service's name channel (an id in a->chans, or LATER | a tag). */
static int add(struct bt_xagg *a, const struct bt_xchg *x, uint32_t channel)
{
	uint32_t conn;
	int err = 0;

	a->cnt.exchanges++;
	if (!valid(x)) {
		a->cnt.invalid++;
		return 0;
	}
	/*
	 * Past a fold: a request that began at or before its cutoff may have
	 * had calls folded as roots; a record that ended before it, or
	 * began before what the window still holds, came too late for it.
	 */
	if ((a->folded_once && ((x->role == BT_ROLE_SERVER && x->req_ns <= a->cutoff) ||
				x->resp_ns <= a->cutoff)) || x->req_ns < a->bud.keep)
		a->cnt.late++;
	if (a->n + a->ntails >= WINDOW_MAX)
		return -ENOMEM;
	if (x->req_ns < a->lo)
		a->lo = x->req_ns;
	if (x->resp_ns > a->hi)
		a->hi = x->resp_ns;
	if (!reserve((void **)&a->x, &a->cap, a->n + 1, sizeof(*a->x)) ||
	    !reserve((void **)&a->nm, &a->nmcap, a->n + 1, sizeof(*a->nm)) ||
	    !reserve((void **)&a->st, &a->stcap, a->n + 1, sizeof(*a->st)))
		return -ENOMEM;
	_Static_assert(sizeof(x->thread) == BT_COMM_LEN, "a thread's name");
	a->nm[a->n] = (struct xname){ thread_id(a, x->thread), channel };
	if (a->nm[a->n].thread == NONE || channel == NONE)
		return -ENOMEM;
	conn = conn_intern(a, x->end_a, x->end_b, &err);
	if (err)
		return err;
	if ((channel & LATER) && a->later == NONE)
		a->later = (uint32_t)a->n;
	a->x[a->n] = (struct xrec){ x->pid, x->tid, x->req_tid, conn, x->role, x->kind,
				    x->req_ns, x->resp_ns };
	a->st[a->n++] = (struct xst){ false, false };
	return 0;
}

int bt_xagg_add(struct bt_xagg *a, const struct bt_xchg *x)
{
	/* A service is one name whatever its kind says: the hop tells kinds apart. */
	uint32_t id = valid(x) ? bt_strtab_kind_id(&a->chans, 0, x->channel,
						   sizeof(x->channel)) : 0;

	return add(a, x, id & LATER ? NONE : id);
}

int bt_xagg_add_later(struct bt_xagg *a, const struct bt_xchg *x, uint32_t tag)
{
	return tag < BT_XAGG_TAGS ? add(a, x, LATER | tag) : -EINVAL;
}

int bt_xagg_name_later(struct bt_xagg *a, uint32_t ntags,
		       void (*name)(void *ctx, uint32_t tag, char *buf), void *ctx)
{
	char buf[BT_EPISODE_CHANNEL_LEN];
	uint32_t *ids;

	if (a->later == NONE)
		return 0;
	ids = malloc((ntags ? ntags : 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	for (uint32_t t = 0; t < ntags; t++)
		ids[t] = NONE;
	for (size_t i = a->later; i < a->n; i++) {
		uint32_t tag = a->nm[i].channel & ~LATER;

		if (!(a->nm[i].channel & LATER))
			continue;
		if (tag >= ntags) {
			free(ids);
			return -EINVAL;
		}
		if (ids[tag] == NONE) {
			memset(buf, 0, sizeof(buf));
			name(ctx, tag, buf);
			ids[tag] = bt_strtab_kind_id(&a->chans, 0, buf, sizeof(buf));
			if (ids[tag] == NONE || (ids[tag] & LATER)) {
				free(ids);
				return -ENOMEM;
			}
		}
		a->nm[i].channel = ids[tag];
	}
	free(ids);
	a->later = NONE;
	return 0;
}

int bt_xagg_add_handoff(struct bt_xagg *a, const struct bt_handoff *h)
{
	/* Raw: written whole; the doubled room not yet used costs nothing. */
	if (a->nh >= WINDOW_MAX || !bt_grow_raw((void **)&a->h, &a->hcap, a->nh + 1, sizeof(*a->h)))
		return -ENOMEM;
	a->h[a->nh++] = *h;
	if (h->end_ns < a->hlo)
		a->hlo = h->end_ns;
	if (h->end_ns > a->hhi)
		a->hhi = h->end_ns;
	return 0;
}

size_t bt_xagg_added(const struct bt_xagg *a)
{
	return bt_budget_added(&a->bud, a->n);
}

/*
 * Whether calls latencies in slot, between min and max, could sum to lat:
 * calls * min <= lat <= calls * max, exactly (a product past 64 bits is
 * above any sum).
 */
static bool onehop_sums(const struct bt_onehop *o)
{
	uint64_t lo, hi;

	if (o->slot >= BT_LAT_SLOTS || o->min_ns > o->max_ns ||
	    bt_lat_slot(o->min_ns) != o->slot || bt_lat_slot(o->max_ns) != o->slot)
		return false;
	if (__builtin_mul_overflow(o->min_ns, o->calls, &lo) || o->lat_ns < lo)
		return false;
	return __builtin_mul_overflow(o->max_ns, o->calls, &hi) || o->lat_ns <= hi;
}

/*
 * Every check before anything is added: counts refused leave the chains
 * as they were (a chain made for them would be a chain of no requests).
 */
int bt_xagg_add_onehop(struct bt_xagg *a, const struct bt_onehop *o)
{
	uint32_t ch, from, to, h, p;
	struct path *pp;
	struct csum *c;
	int err;

	if (!o->calls)
		return 0;
	/* The records' own checks (valid()): a thread of each, a pid of each end. */
	if (o->svc_ns > o->lat_ns || !onehop_sums(o) || !o->from_pid || !o->to_pid ||
	    !o->from_tid || !o->root_tid || !o->to_tid)
		return -EINVAL;
	ch = bt_strtab_kind_id(&a->chans, 0, o->channel, sizeof(o->channel));
	from = thread_id(a, o->from_thread);
	to = thread_id(a, o->to_thread);
	if (ch == NONE || (ch & LATER) || from == NONE || to == NONE)
		return -ENOMEM;
	h = hop_id(a, o->from_pid, o->to_pid, o->kind, ch);
	if (h == NONE || (p = path_id(a, NONE, h)) == NONE)
		return -ENOMEM;
	pp = &a->paths[p];
	threads_add(&pp->from_thr, o->from_tid, from);
	threads_add(&pp->to_thr, o->to_tid, to);
	/* As add_root: a one-hop tree's only path ends a chain. */
	if (!pp->chain) {
		if (!bt_grow((void **)&a->ch, &a->chcap, a->nch + 1, sizeof(*a->ch)))
			return -ENOMEM;
		a->ch[a->nch] = (struct csum){ .leaf = p, .nhops = 1 };
		a->paths[p].chain = (uint32_t)++a->nch;
	}
	c = &a->ch[a->paths[p].chain - 1];
	err = bt_lat_add_slot(&c->root_lat, o->slot, o->calls, o->min_ns, o->max_ns);
	if (!err)
		err = bt_lat_add_slot(&c->h[0].each, o->slot, o->calls, o->min_ns, o->max_ns);
	if (!err && bt_tidset_add(&c->threads, o->root_tid))
		err = -ENOMEM;
	if (err)
		return err;
	c->roots += o->calls;
	c->lat += o->lat_ns;
	c->h[0].sum.calls += o->calls;
	c->h[0].sum.lat += o->lat_ns;
	c->h[0].sum.svc += o->svc_ns;
	c->h[0].sum.queue += o->lat_ns - o->svc_ns;
	/* Each tree was two records, a root and a paired client exchange. */
	a->cnt.exchanges += 2 * o->calls;
	a->cnt.roots += o->calls;
	a->cnt.paired += o->calls;
	return 0;
}

/*
 * Hand-offs alone (a thread pool's futex wakes, and no exchange record in
 * the window): no record folds them, yet a record that comes later looks
 * back at its thread's latest events only. Those older than a horizon of
 * their own (by their own rate and the budget, as records') go as a
 * fold's do, their threads' tails kept; a record that starts before them
 * came too late (counted).
 */
static int fold_handoffs(struct bt_xagg *a)
{
	struct bt_fold_at at = bt_budget_next(&a->hbud, a->nh, a->hlo, a->hhi, a->hcutoff,
					      a->hfolded);
	int err;

	if (!at.cutoff) {
		bt_budget_done(&a->hbud, a->nh, a->hhi, NULL);
		return 0;
	}
	if (at.keep < a->bud.keep)
		at.keep = a->bud.keep;
	err = pass(a, at.cutoff, at.keep);
	a->hcutoff = at.cutoff;
	a->hfolded = true;
	bt_budget_done(&a->hbud, a->nh, a->hhi, &at);
	a->bud.keep = at.keep;
	return err;
}

int bt_xagg_fold(struct bt_xagg *a)
{
	struct bt_fold_at at = bt_budget_next(&a->bud, a->n, a->lo, a->hi, a->cutoff,
					      a->folded_once);
	int err;

	if (a->later != NONE)
		return -EINVAL;	/* a hop needs its service's name */
	if (!at.cutoff) {
		bt_budget_done(&a->bud, a->n, a->hi, NULL);
		return a->n || !a->nh ? 0 : fold_handoffs(a);
	}
	err = pass(a, at.cutoff, at.keep);
	a->cutoff = at.cutoff;
	bt_budget_done(&a->bud, a->n, a->hi, &at);
	a->folded_once = true;
	return err;
}

void bt_xagg_set_budget(struct bt_xagg *a, size_t records)
{
	a->bud.budget = a->hbud.budget = records;
}

uint64_t bt_xagg_horizon(const struct bt_xagg *a, uint64_t *shortest)
{
	return bt_budget_horizon(&a->bud, shortest);
}

void bt_xagg_set_tick(struct bt_xagg *a, void (*fn)(void *ctx), void *ctx)
{
	a->tick = fn;
	a->tick_ctx = ctx;
}

size_t bt_xagg_window(const struct bt_xagg *a)
{
	return a->n + a->nh;
}

/* ---- the chains as the report names them --------------------------------- */

/* A hop as the report names its ends (bt_chain_opts.node). */
struct named {
	uint32_t from, to, kind, channel;
};

/* A chain of the aggregate with its hops so named: alike ones are one chain. */
struct alike {
	const struct named *h;
	unsigned int nhops;
	uint32_t ch;
};

static bool alike_eq(const struct alike *a, const struct alike *b)
{
	return a->nhops == b->nhops && !memcmp(a->h, b->h, a->nhops * sizeof(*a->h));
}

static int cmp_alike(const void *pa, const void *pb)
{
	const struct alike *a = pa, *b = pb;
	int d;

	if (a->nhops != b->nhops)
		return a->nhops < b->nhops ? -1 : 1;
	d = memcmp(a->h, b->h, a->nhops * sizeof(*a->h));
	if (d)
		return d;
	return a->ch < b->ch ? -1 : a->ch > b->ch;
}

static int cmp_u32(const void *pa, const void *pb)
{
	uint32_t x = *(const uint32_t *)pa, y = *(const uint32_t *)pb;

	return x < y ? -1 : x > y;
}

/* Chain c's hop at depth d. */
static const struct hop *hop_at(const struct bt_xagg *a, const struct csum *c, unsigned int d)
{
	uint32_t q = c->leaf;

	for (unsigned int k = c->nhops - 1; k > d; k--)
		q = a->paths[q].parent;
	return &a->hops[a->paths[q].hop];
}

/*
 * Names the ends as opts->node does, except the pools a hop shows to be
 * two tiers (a hop between two of its processes: a front and its back,
 * one program under one parent): their processes keep their pids.
 */
struct namer {
	const struct bt_chain_opts *o;
	uint32_t *split;	/* such pools' nodes */
	size_t nsplit;
};

static uint32_t node_of(const struct namer *nm, uint32_t pid)
{
	uint32_t node;

	if (!pid || !nm->o || !nm->o->node)
		return pid;
	node = nm->o->node(pid, 0, 0, NULL, nm->o->ctx);
	for (size_t i = 0; i < nm->nsplit; i++)
		if (nm->split[i] == node)
			return pid;
	return node;
}

/* The pools some hop runs inside of, into nm->split (room for every chain's hops). */
static void find_split(const struct bt_xagg *a, struct namer *nm)
{
	for (size_t i = 0; i < a->nch; i++) {
		for (unsigned int d = 0; d < a->ch[i].nhops; d++) {
			const struct hop *hop = hop_at(a, &a->ch[i], d);
			uint32_t node = node_of(nm, hop->from);

			if (hop->from && hop->to && hop->from != hop->to &&
			    node == node_of(nm, hop->to))
				nm->split[nm->nsplit++] = node;
		}
	}
}

static void name_hops(const struct bt_xagg *a, const struct namer *nm, const struct csum *c,
		      struct named *out)
{
	for (unsigned int d = 0; d < c->nhops; d++) {
		const struct hop *hop = hop_at(a, c, d);
		const struct bt_chain_opts *o = nm->o;
		const char *ch = bt_strtab_str(&a->chans, hop->channel);
		bool far = o && o->node;
		struct named *n = &out[d];

		n->from = node_of(nm, hop->from);
		n->to = hop->to ? node_of(nm, hop->to) :
			far && n->from ? o->node(0, n->from, (uint8_t)hop->kind, ch, o->ctx) : 0;
		/*
		 * A server root's clients were not traced: the map's far end of
		 * the service from the server, when it names one (a client
		 * followed later: its chain and this one become one).
		 */
		if (!hop->from && far && n->to)
			n->from = o->node(0, n->to, (uint8_t)hop->kind, ch, o->ctx);
		n->kind = hop->kind;
		n->channel = hop->channel;
	}
}

static void threads_merge(struct threads *dst, const struct threads *src)
{
	for (unsigned int i = 0; i < src->n; i++)
		threads_add(dst, src->tid[i], src->first);
}

static void csum_free(struct csum *c)
{
	bt_lat_free(&c->root_lat);
	bt_tidset_free(&c->threads);
	for (unsigned int d = 0; d < BT_CHAINS_MAX_DEPTH; d++) {
		bt_calls_free(&c->h[d].per_root);
		bt_lat_free(&c->h[d].each);
	}
}

/*
 * Adds chain c to m, and its hops' threads to thr (from, to per depth).
 * The root threads are the traced clients' when any chain of the group
 * has them (clients): a server's threads stand in for its clients only
 * when none was traced.
 */
static int merge_chain(const struct bt_xagg *a, struct csum *m, struct threads *thr,
		       const struct csum *c, bool clients)
{
	uint32_t q = c->leaf;

	m->nhops = c->nhops;
	m->roots += c->roots;
	m->lat += c->lat;
	for (size_t i = 0; i < c->threads.n && (!clients || hop_at(a, c, 0)->from); i++)
		if (bt_tidset_add(&m->threads, c->threads.v[i]))
			return -ENOMEM;
	if (bt_lat_merge(&m->root_lat, &c->root_lat))
		return -ENOMEM;
	for (unsigned int d = c->nhops; d-- > 0; q = a->paths[q].parent) {
		const struct hsum *h = &c->h[d];
		struct hsum *s = &m->h[d];

		xsum_add(&s->sum, &h->sum);
		if (bt_calls_merge(&s->per_root, &h->per_root) || bt_lat_merge(&s->each, &h->each))
			return -ENOMEM;
		threads_merge(&thr[2 * d], &a->paths[q].from_thr);
		threads_merge(&thr[2 * d + 1], &a->paths[q].to_thr);
	}
	return 0;
}

/*
 * The distinct traced processes at one end of hop d over a group's chains
 * g[0 .. n); none traced: the members the map gives its node.
 */
static void end_pids(const struct bt_xagg *a, const struct bt_chain_opts *o,
		     const struct alike *g, size_t n, unsigned int d, bool to, uint32_t *tmp,
		     struct bt_chain_end *end)
{
	size_t k = 0, m = 0;

	for (size_t i = 0; i < n; i++) {
		const struct hop *hop = hop_at(a, &a->ch[g[i].ch], d);
		uint32_t pid = to ? hop->to : hop->from;

		if (pid)
			tmp[k++] = pid;
	}
	qsort(tmp, k, sizeof(*tmp), cmp_u32);
	for (size_t i = 0; i < k; i++) {
		if (i && tmp[i] == tmp[i - 1])
			continue;
		if (m < BT_CHAIN_PIDS)
			end->pids[m] = tmp[i];
		m++;
	}
	end->procs = (uint32_t)m;
	if (!m && end->pid && o && o->members)
		end->procs = (uint32_t)o->members(end->pid, end->pids, BT_CHAIN_PIDS, o->ctx);
}

/* One chain of the result from the sums m of the group g[0 .. n) (alike chains). */
static int fill_one(struct bt_xagg *a, const struct bt_chain_opts *o, struct bt_chains *r,
		    const struct csum *m, const struct threads *thr, const struct alike *g,
		    size_t n, uint32_t *tmp, struct bt_chain *out, uint64_t duration)
{
	double wall = (double)duration * (double)m->threads.n;

	for (unsigned int d = 0; d < m->nhops; d++) {
		struct bt_chain_hop *hp = &out->hops[d];
		const struct xsum *h = &m->h[d].sum;
		const struct named *nm = &g[0].h[d];
		uint64_t wait = d + 1 < m->nhops ? m->h[d + 1].sum.lat : 0;
		/* The result's own copy: it outlives the window. */
		uint32_t channel = bt_strtab_id(&r->mem->names,
						bt_strtab_str(&a->chans, nm->channel));

		if (channel == BT_HMAP_NONE)
			return -ENOMEM;
		bt_chain_end_set(o, &hp->from, nm->from);
		bt_chain_end_set(o, &hp->to, nm->to);
		threads_set(&thr[2 * d], &a->threads, &hp->from);
		threads_set(&thr[2 * d + 1], &a->threads, &hp->to);
		end_pids(a, o, g, n, d, false, tmp, &hp->from);
		end_pids(a, o, g, n, d, true, tmp, &hp->to);
		hp->kind = (uint8_t)nm->kind;
		hp->channel = bt_strtab_str(&r->mem->names, channel);
		hp->calls = h->calls;
		hp->ambiguous = h->ambiguous;
		hp->calls_per_episode = m->roots ? (double)h->calls / (double)m->roots : 0;
		hp->calls_min = hp->calls_p50 = hp->calls_max = 1;
		if (d) {
			hp->calls_p50 = bt_calls_pct(&m->h[d].per_root, 0.5);
			hp->calls_min = (uint32_t)m->h[d].per_root.s.min;
			hp->calls_max = (uint32_t)m->h[d].per_root.s.max;
		}
		hp->blocked_ns = h->lat;
		hp->p50_ns = bt_lat_pct(&m->h[d].each, 0.5);
		hp->queue_ns = h->queue;
		hp->wait_ns = wait < h->kids ? wait : h->kids;
		hp->other_ns = h->kids - hp->wait_ns;
		hp->self_ns = h->svc > h->kids ? h->svc - h->kids : 0;
		hp->fanout_calls = h->fan_calls;
		hp->fanout_max_peers = h->fan_peers;
		hp->fanout_save_ns = h->fan_save;
	}
	out->nhops = m->nhops;
	out->episodes = out->requests = m->roots;
	out->blocked_ns = m->lat;
	out->root_threads = (uint32_t)m->threads.n;
	out->share = wall > 0 ? (double)m->lat / wall : 0;
	if (out->nhops && out->hops[0].from.threads)
		out->in_flight = out->share;
	if (out->share > 1)
		out->share = 1;
	out->exchanges = true;
	out->p50_ns = bt_lat_pct(&m->root_lat, 0.5);
	out->p99_ns = bt_lat_pct(&m->root_lat, 0.99);
	return 0;
}

/*
 * The result's chains: the aggregate's, those alike once their ends are
 * named as the report names them (a pool's members, a far end traced
 * late) summed into one. The aggregate itself is left as it is.
 */
static int fill(struct bt_xagg *a, const struct bt_chain_opts *o, struct bt_chains *r,
		uint64_t duration)
{
	size_t nch = a->nch ? a->nch : 1, nh = 0, ng = 0, at = 0;
	struct named *names = calloc(nch * BT_CHAINS_MAX_DEPTH, sizeof(*names));
	struct alike *al = calloc(nch, sizeof(*al));
	uint32_t *tmp = calloc(nch, sizeof(*tmp));
	struct namer nm = { o, calloc(nch * BT_CHAINS_MAX_DEPTH, sizeof(uint32_t)), 0 };
	int err = -ENOMEM;

	if (!names || !al || !tmp || !nm.split)
		goto out;
	find_split(a, &nm);
	for (size_t i = 0; i < a->nch; i++) {
		name_hops(a, &nm, &a->ch[i], names + i * BT_CHAINS_MAX_DEPTH);
		al[i] = (struct alike){ names + i * BT_CHAINS_MAX_DEPTH, a->ch[i].nhops, (uint32_t)i };
	}
	qsort(al, a->nch, sizeof(*al), cmp_alike);
	for (size_t i = 0; i < a->nch; i++) {
		if (i && alike_eq(&al[i - 1], &al[i]))
			continue;
		ng++;
		nh += al[i].nhops;
	}
	r->chains = calloc(ng ? ng : 1, sizeof(*r->chains));
	r->mem->hops = calloc(nh ? nh : 1, sizeof(*r->mem->hops));
	if (!r->chains || !r->mem->hops)
		goto out;
	err = 0;
	for (size_t lo = 0, hi; lo < a->nch && !err; lo = hi) {
		struct threads thr[2 * BT_CHAINS_MAX_DEPTH] = { 0 };
		struct csum m = { 0 };
		bool clients = false;

		for (hi = lo; hi < a->nch && alike_eq(&al[lo], &al[hi]); hi++)
			clients |= hop_at(a, &a->ch[al[hi].ch], 0)->from != 0;
		for (size_t k = lo; k < hi && !err; k++)
			err = merge_chain(a, &m, thr, &a->ch[al[k].ch], clients);
		if (!err) {
			struct bt_chain *out = &r->chains[r->nchains++];

			out->hops = r->mem->hops + at;
			at += m.nhops;
			err = fill_one(a, o, r, &m, thr, al + lo, hi - lo, tmp, out, duration);
		}
		csum_free(&m);
	}
out:
	free(names);
	free(al);
	free(tmp);
	free(nm.split);
	return err;
}

/*
 * Largest blocked time first, then more requests, then the shorter, then
 * by the hops root first (from, kind, service, to): a total order (no two
 * chains have the same hops once named), so the chains come in one order
 * whatever order their records came in. fill's order is not that: it
 * follows the services' ids, numbered as the records named them.
 */
static int cmp_chain(const void *pa, const void *pb)
{
	const struct bt_chain *a = pa, *b = pb;

	if (a->blocked_ns != b->blocked_ns)
		return a->blocked_ns > b->blocked_ns ? -1 : 1;
	if (a->episodes != b->episodes)
		return a->episodes > b->episodes ? -1 : 1;
	if (a->nhops != b->nhops)
		return a->nhops < b->nhops ? -1 : 1;
	for (unsigned int d = 0; d < a->nhops; d++) {
		const struct bt_chain_hop *p = &a->hops[d], *q = &b->hops[d];
		int r;

		if (p->from.pid != q->from.pid)
			return p->from.pid < q->from.pid ? -1 : 1;
		if (p->kind != q->kind)
			return p->kind < q->kind ? -1 : 1;
		r = strcmp(p->channel, q->channel);
		if (r)
			return r;
		if (p->to.pid != q->to.pid)
			return p->to.pid < q->to.pid ? -1 : 1;
	}
	return 0;
}

/* The chains, every tree folded first (all) or only those folded already. */
static struct bt_chains *result(struct bt_xagg *a, const struct bt_chain_opts *opts, bool all)
{
	uint64_t keep = bt_budget_final_keep(&a->bud, a->hi);
	struct bt_chains *r = bt_chains_new();
	int err;

	if (!r)
		return NULL;
	/* Every tree now; the window keeps its last horizon for what may still come. */
	err = a->later != NONE ? -EINVAL : a->n && all ? pass(a, UINT64_MAX, keep) : 0;
	r->xcounts = a->cnt;
	r->horizon_ns = a->bud.eff_min;
	r->duration_ns = opts && opts->duration_ns ? opts->duration_ns :
			 a->hi > a->lo ? a->hi - a->lo : 0;
	if (!err)
		err = fill(a, opts, r, r->duration_ns);
	if (!err)
		qsort(r->chains, r->nchains, sizeof(*r->chains), cmp_chain);
	if (err) {
		bt_chains_free(r);
		errno = -err;
		return NULL;
	}
	return r;
}

struct bt_chains *bt_xagg_chains(struct bt_xagg *a, const struct bt_chain_opts *opts)
{
	return result(a, opts, true);
}

struct bt_chains *bt_xagg_folded(struct bt_xagg *a, const struct bt_chain_opts *opts)
{
	return result(a, opts, false);
}

void bt_xagg_free(struct bt_xagg *a)
{
	void **arrays[PASS_ARRAYS];

	if (!a)
		return;
	for (size_t i = 0; i < a->nch; i++)
		csum_free(&a->ch[i]);
	bt_strtab_free(&a->chans);
	bt_strtab_free(&a->threads);
	pass_arrays(a, arrays);
	for (size_t i = 0; i < PASS_ARRAYS; i++)
		free(*arrays[i]);
	bt_hmap_free(&a->conn_idx);
	free(a->conns);
	free(a->ch);
	free(a->nodes);
	free(a->paths);
	free(a->hops);
	bt_hmap_free(&a->path_idx);
	bt_hmap_free(&a->hop_idx);
	free(a->tails);
	bt_hmap_free(&a->tail_idx);
	free(a->h);
	free(a->open);
	free(a->st);
	free(a->nm);
	free(a->x);
	free(a);
}

struct bt_chains *bt_exchains_analyze(const struct bt_xchg *x, size_t n,
				      const struct bt_handoff *h, size_t nh,
				      const struct bt_chain_opts *opts)
{
	struct bt_xagg *a;
	struct bt_chains *r = NULL;
	int err = 0;

	if ((!x && n) || (!h && nh) || n >= UINT32_MAX - 2 || nh >= UINT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	a = bt_xagg_new(UINT64_MAX / 4);
	if (!a)
		return NULL;
	for (size_t i = 0; i < n && !err; i++)
		err = bt_xagg_add(a, &x[i]);
	for (size_t i = 0; i < nh && !err; i++)
		err = bt_xagg_add_handoff(a, &h[i]);
	if (!err)
		r = bt_xagg_chains(a, opts);
	else
		errno = -err;
	bt_xagg_free(a);
	return r;
}
