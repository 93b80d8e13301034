// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Chains from exchanges (definitions in exchains.h). The plan:
 *   1. every thread's read events sorted by (thread, time);
 *   2. client exchanges in request order: each one's parent from its
 *      thread's last read event before the request (memoized, so a
 *      response read inherits its call's parent in O(1));
 *   3. server exchanges sorted by connection and time: each client
 *      exchange finds its far end by one binary search;
 *   4. each root's tree walked (depth capped), summed per hop sequence;
 *      the sequences with nothing below them in a root are its chains.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/chains_priv.h"
#include "analyze/exchains.h"
#include "lib/vec.h"

enum { EV_SREQ, EV_CRESP, EV_HAND };
#define MAX_HANDOFFS	4

struct xev {
	uint32_t tid;
	uint8_t type;
	uint32_t idx;
	uint64_t t;
};

struct hop {
	uint32_t from, to, kind;
	const char *channel;
};

/* The distinct threads seen at one end of a hop (up to BT_CHAIN_THREADS). */
struct threads {
	uint32_t tid[BT_CHAIN_THREADS];
	unsigned int n;
	char first[BT_COMM_LEN];
};

static void threads_add(struct threads *t, uint32_t tid, const char *name)
{
	for (unsigned int i = 0; i < t->n; i++)
		if (t->tid[i] == tid)
			return;
	if (t->n == BT_CHAIN_THREADS)
		return;
	if (!t->n)
		memcpy(t->first, name, sizeof(t->first));
	t->tid[t->n++] = tid;
}

static void threads_set(const struct threads *t, struct bt_chain_end *end)
{
	end->threads = t->n;
	end->tid = t->n == 1 ? t->tid[0] : 0;
	if (t->n == 1)
		memcpy(end->thread, t->first, sizeof(end->thread));
	end->thread[sizeof(end->thread) - 1] = 0;
}

/* A hop sequence: its last hop and the sequence before it. */
struct path {
	struct threads from_thr, to_thr;	/* over the whole trace */
	uint32_t parent, hop, depth;
	/* this root's sums */
	uint32_t stamp, done, count;
	uint64_t lat, queue, svc, kids;
	uint64_t fan_calls, fan_save;
	uint32_t fan_peers;
	bool has_child;
	uint32_t chain;		/* chain index + 1 when a chain ends here */
};

struct u64v {
	uint64_t *v;
	size_t n, cap;
};

struct hsum {
	uint64_t calls, lat, queue, svc, kids;
	uint64_t fan_calls, fan_save;
	uint32_t fan_peers;
	struct u64v per_root, each;
};

struct csum {
	uint32_t leaf;
	unsigned int nhops;
	uint64_t roots, lat;
	uint32_t threads, last_tid;
	struct u64v root_lat;
	struct hsum h[BT_CHAINS_MAX_DEPTH];
};

/* One node of the current root's tree: a call and its far end. */
struct node {
	uint32_t path;
	uint64_t lat;
};

struct xa {
	const struct bt_xchg *x;
	size_t n;
	const struct bt_handoff *h;
	size_t nh;
	const struct bt_chain_opts *o;
	struct bt_xchg_counts *cnt;
	struct xev *ev;
	size_t nev;
	uint32_t *parent;	/* client exchange -> server exchange, NONE */
	uint64_t *handq;	/* server exchange: time its request waited in a hand-off */
	uint32_t *match;	/* client exchange -> its far end, NONE */
	bool *served;		/* server exchange has a traced client */
	uint32_t *srv;		/* server exchanges by (end_a, end_b, req_ns) */
	size_t nsrv;
	uint32_t *kid_lo, *kids;	/* children of server exchange s: kids[kid_lo[s] .. kid_lo[s+1]) */
	struct hop *hops;
	size_t nhops, hopcap;
	struct path *paths;
	size_t npaths, pathcap;
	struct csum *ch;
	size_t nch, chcap;
	struct node *nodes;
	size_t nnodes, nodecap;
	uint32_t serial;
};

static int push(struct u64v *v, uint64_t x)
{
	if (!bt_grow((void **)&v->v, &v->cap, v->n + 1, sizeof(*v->v)))
		return -ENOMEM;
	v->v[v->n++] = x;
	return 0;
}

/* The lower percentile q of v (sorted in place), no interpolation. */
static uint64_t pct(struct u64v *v, double q)
{
	if (!v->n)
		return 0;
	qsort(v->v, v->n, sizeof(*v->v), bt_cmp_u64);
	return v->v[(size_t)((double)(v->n - 1) * q)];
}

static int cmp_ev(const void *pa, const void *pb)
{
	const struct xev *a = pa, *b = pb;

	if (a->tid != b->tid)
		return a->tid < b->tid ? -1 : 1;
	if (a->t != b->t)
		return a->t < b->t ? -1 : 1;
	return a->type < b->type ? -1 : a->type > b->type;
}

static bool valid(const struct bt_xchg *e)
{
	return e->tid && e->req_tid && e->resp_ns >= e->req_ns &&
	       (e->role == BT_ROLE_CLIENT || e->role == BT_ROLE_SERVER);
}

static int build_events(struct xa *a)
{
	a->ev = malloc((a->n + a->nh + 1) * sizeof(*a->ev));
	if (!a->ev)
		return -ENOMEM;
	for (size_t i = 0; i < a->n; i++) {
		const struct bt_xchg *e = &a->x[i];

		if (!valid(e))
			continue;
		if (e->role == BT_ROLE_SERVER)
			a->ev[a->nev++] = (struct xev){ e->req_tid, EV_SREQ, (uint32_t)i, e->req_ns };
		else
			a->ev[a->nev++] = (struct xev){ e->tid, EV_CRESP, (uint32_t)i, e->resp_ns };
	}
	for (size_t i = 0; i < a->nh; i++)
		a->ev[a->nev++] = (struct xev){ a->h[i].tid, EV_HAND, (uint32_t)i, a->h[i].end_ns };
	qsort(a->ev, a->nev, sizeof(*a->ev), cmp_ev);
	return 0;
}

/* The last read event of tid strictly before t, or NULL. */
static const struct xev *last_before(const struct xa *a, uint32_t tid, uint64_t t)
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

/* The request a read event stands for, NONE if it stands for none. */
static uint32_t cause(const struct xa *a, const struct xev *e, uint64_t *handoff_ns)
{
	*handoff_ns = 0;
	for (int hand = 0; e && hand <= MAX_HANDOFFS; hand++) {
		const struct bt_handoff *h;

		if (e->type == EV_SREQ)
			return e->idx;
		if (e->type == EV_CRESP)
			return a->parent[e->idx];
		/* The job waited from its hand-off to its pick-up: queueing. */
		h = &a->h[e->idx];
		*handoff_ns += h->end_ns > h->wake_ns ? h->end_ns - h->wake_ns : 0;
		e = last_before(a, h->waker_tid, h->wake_ns);
	}
	return NONE;
}

static int cmp_req(const void *pa, const void *pb, void *ctx)
{
	const struct bt_xchg *x = ctx, *a = &x[*(const uint32_t *)pa], *b = &x[*(const uint32_t *)pb];

	if (a->req_ns != b->req_ns)
		return a->req_ns < b->req_ns ? -1 : 1;
	return *(const uint32_t *)pa < *(const uint32_t *)pb ? -1 : 1;
}

static int link_parents(struct xa *a)
{
	uint32_t *order = malloc((a->n + 1) * sizeof(*order));
	size_t m = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < a->n; i++)
		if (valid(&a->x[i]) && a->x[i].role == BT_ROLE_CLIENT)
			order[m++] = (uint32_t)i;
	qsort_r(order, m, sizeof(*order), cmp_req, (void *)a->x);
	for (size_t k = 0; k < m; k++) {
		const struct bt_xchg *c = &a->x[order[k]];
		uint64_t handoff_ns;
		uint32_t s = cause(a, last_before(a, c->req_tid, c->req_ns), &handoff_ns);

		if (s != NONE && (a->x[s].pid != c->pid || a->x[s].req_ns > c->req_ns ||
				  a->x[s].resp_ns < c->resp_ns)) {
			a->cnt->rejected++;
			s = NONE;
		}
		a->parent[order[k]] = s;
		if (s != NONE) {
			a->cnt->nested++;
			/* The request's first call tells how long it waited for a worker. */
			if (!a->handq[s])
				a->handq[s] = handoff_ns;
		}
	}
	free(order);
	return 0;
}

static int cmp_conn(const void *pa, const void *pb, void *ctx)
{
	const struct bt_xchg *x = ctx, *a = &x[*(const uint32_t *)pa], *b = &x[*(const uint32_t *)pb];

	if (a->end_a != b->end_a)
		return a->end_a < b->end_a ? -1 : 1;
	if (a->end_b != b->end_b)
		return a->end_b < b->end_b ? -1 : 1;
	if (a->req_ns != b->req_ns)
		return a->req_ns < b->req_ns ? -1 : 1;
	return 0;
}

/* How many server exchanges on (ea, eb) read their request at or before t, plus those before. */
static size_t srv_upper(const struct xa *a, uint64_t ea, uint64_t eb, uint64_t t)
{
	size_t lo = 0, hi = a->nsrv;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bt_xchg *s = &a->x[a->srv[mid]];

		if (s->end_a < ea || (s->end_a == ea && (s->end_b < eb ||
							 (s->end_b == eb && s->req_ns <= t))))
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
 * request times alone do not order them; the work between does.
 */
static int pair_ends(struct xa *a)
{
	uint32_t *cl = malloc((a->n + 1) * sizeof(*cl));
	size_t ncl = 0;

	if (!cl)
		return -ENOMEM;
	for (size_t i = 0; i < a->n; i++) {
		const struct bt_xchg *e = &a->x[i];

		if (!valid(e) || !e->end_a || !e->end_b)
			continue;
		if (e->role == BT_ROLE_SERVER)
			a->srv[a->nsrv++] = (uint32_t)i;
		else
			cl[ncl++] = (uint32_t)i;
	}
	qsort_r(a->srv, a->nsrv, sizeof(*a->srv), cmp_conn, (void *)a->x);
	qsort_r(cl, ncl, sizeof(*cl), cmp_conn, (void *)a->x);
	for (size_t k = 0; k < ncl; k++) {
		const struct bt_xchg *c = &a->x[cl[k]], *prev = k ? &a->x[cl[k - 1]] : NULL;
		uint64_t after = prev && prev->end_a == c->end_a && prev->end_b == c->end_b ?
				 prev->resp_ns : 0;
		size_t j = srv_upper(a, c->end_b, c->end_a, c->resp_ns);
		uint64_t best_gap = UINT64_MAX;
		uint32_t best = NONE;

		/* Of those, the one that answered closest to when the client read. */
		for (; j > 0; j--) {
			const struct bt_xchg *s = &a->x[a->srv[j - 1]];
			uint64_t gap;

			if (s->end_a != c->end_b || s->end_b != c->end_a || s->resp_ns <= after)
				break;
			gap = s->resp_ns > c->resp_ns ? s->resp_ns - c->resp_ns :
							c->resp_ns - s->resp_ns;
			if (!a->served[a->srv[j - 1]] && gap < best_gap) {
				best_gap = gap;
				best = a->srv[j - 1];
			}
		}
		if (best == NONE)
			continue;
		a->match[cl[k]] = best;
		a->served[best] = true;
		a->cnt->paired++;
	}
	free(cl);
	return 0;
}

/* Children of every server exchange, in request order (CSR arrays). */
static int link_kids(struct xa *a)
{
	uint32_t *fill;

	a->kid_lo = calloc(a->n + 2, sizeof(*a->kid_lo));
	a->kids = malloc((a->n + 1) * sizeof(*a->kids));
	fill = calloc(a->n + 1, sizeof(*fill));
	if (!a->kid_lo || !a->kids || !fill) {
		free(fill);
		return -ENOMEM;
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->parent[i] != NONE)
			a->kid_lo[a->parent[i] + 1]++;
	for (size_t i = 0; i < a->n; i++)
		a->kid_lo[i + 1] += a->kid_lo[i];
	for (size_t i = 0; i < a->n; i++) {
		uint32_t p = a->parent[i];

		if (p != NONE)
			a->kids[a->kid_lo[p] + fill[p]++] = (uint32_t)i;
	}
	free(fill);
	return 0;
}

static uint32_t hop_id(struct xa *a, uint32_t from, uint32_t to, uint8_t kind, const char *ch)
{
	for (size_t i = a->nhops; i-- > 0;) {
		const struct hop *h = &a->hops[i];

		if (h->from == from && h->to == to && h->kind == kind && !strcmp(h->channel, ch))
			return (uint32_t)i;
	}
	if (!bt_grow((void **)&a->hops, &a->hopcap, a->nhops + 1, sizeof(*a->hops)))
		return NONE;
	a->hops[a->nhops] = (struct hop){ from, to, kind, ch };
	return (uint32_t)a->nhops++;
}

static uint32_t path_id(struct xa *a, uint32_t parent, uint32_t hop)
{
	for (size_t i = 0; i < a->npaths; i++)
		if (a->paths[i].parent == parent && a->paths[i].hop == hop)
			return (uint32_t)i;
	if (!bt_grow((void **)&a->paths, &a->pathcap, a->npaths + 1, sizeof(*a->paths)))
		return NONE;
	a->paths[a->npaths] = (struct path){
		.parent = parent, .hop = hop,
		.depth = parent == NONE ? 0 : a->paths[parent].depth + 1,
	};
	return (uint32_t)a->npaths++;
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
	pp->fan_calls++;
	pp->fan_save += total - max;
	if (f->n > pp->fan_peers)
		pp->fan_peers = f->n;
}

/*
 * One call at path p: client exchange c (NONE for a server root s), its
 * far end s (NONE when not traced). Adds it and its calls, depth first.
 */
static int visit(struct xa *a, uint32_t c, uint32_t s, uint32_t parent_path, uint64_t *lat_out,
		 uint32_t *path_out)
{
	struct fan fan = { .n = 0 };
	const struct bt_xchg *e = c != NONE ? &a->x[c] : &a->x[s];
	uint64_t lat = e->resp_ns - e->req_ns, svc = lat, kids = 0;
	uint32_t from = c != NONE ? e->pid : 0, to = s != NONE ? a->x[s].pid : 0;
	uint32_t h = hop_id(a, from, to, e->kind, e->channel), p;
	struct path *pp;

	if (h == NONE || (p = path_id(a, parent_path, h)) == NONE)
		return -ENOMEM;
	pp = &a->paths[p];
	if (pp->stamp != a->serial) {
		pp->stamp = a->serial;
		pp->count = 0;
		pp->lat = pp->queue = pp->svc = pp->kids = 0;
		pp->fan_calls = pp->fan_save = 0;
		pp->fan_peers = 0;
		pp->has_child = false;
	}
	if (s != NONE) {
		svc = a->x[s].resp_ns - a->x[s].req_ns;
		svc -= a->handq[s] < svc ? a->handq[s] : svc;	/* waiting for a worker */
		if (svc > lat)
			svc = lat;
		if (a->paths[p].depth + 1 < BT_CHAINS_MAX_DEPTH) {
			for (uint32_t k = a->kid_lo[s]; k < a->kid_lo[s + 1]; k++) {
				uint64_t kl = 0;
				uint32_t kp = NONE;
				int err = visit(a, a->kids[k], a->match[a->kids[k]], p, &kl, &kp);

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
		threads_add(&pp->from_thr, e->tid, e->thread);
	if (s != NONE)
		threads_add(&pp->to_thr, a->x[s].tid, a->x[s].thread);
	pp->count++;
	pp->lat += lat;
	pp->queue += lat - svc;
	pp->svc += svc;
	pp->kids += kids;
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
static int add_root(struct xa *a, uint32_t tid, uint64_t lat)
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
		if (c->last_tid != tid) {
			c->threads++;
			c->last_tid = tid;
		}
		if (push(&c->root_lat, lat))
			return -ENOMEM;
		for (uint32_t q = leaf; q != NONE; q = a->paths[q].parent) {
			const struct path *qp = &a->paths[q];
			struct hsum *h = &c->h[qp->depth];
			uint32_t count = qp->count;

			h->calls += count;
			h->lat += qp->lat;
			h->queue += qp->queue;
			h->svc += qp->svc;
			h->kids += qp->kids;
			h->fan_calls += qp->fan_calls;
			h->fan_save += qp->fan_save;
			if (qp->fan_peers > h->fan_peers)
				h->fan_peers = qp->fan_peers;
			if (qp->depth && push(&h->per_root, count))
				return -ENOMEM;
			for (size_t k = 0; k < a->nnodes; k++)
				if (a->nodes[k].path == q && push(&h->each, a->nodes[k].lat))
					return -ENOMEM;
		}
	}
	return 0;
}

static int walk(struct xa *a, uint32_t c, uint32_t s)
{
	const struct bt_xchg *e = c != NONE ? &a->x[c] : &a->x[s];
	uint64_t lat = 0;
	uint32_t path;
	int err;

	a->serial++;
	a->nnodes = 0;
	a->cnt->roots++;
	err = visit(a, c, s, NONE, &lat, &path);
	return err ? err : add_root(a, c != NONE ? e->req_tid : e->tid, lat);
}

static int cmp_root(const void *pa, const void *pb, void *ctx)
{
	const struct bt_xchg *x = ctx, *a = &x[*(const uint32_t *)pa], *b = &x[*(const uint32_t *)pb];
	uint32_t ta = a->role == BT_ROLE_CLIENT ? a->req_tid : a->tid;
	uint32_t tb = b->role == BT_ROLE_CLIENT ? b->req_tid : b->tid;

	if (ta != tb)
		return ta < tb ? -1 : 1;
	return cmp_req(pa, pb, ctx);
}

/* Roots thread by thread (root_threads counts a new tid as a new thread). */
static int walk_roots(struct xa *a)
{
	uint32_t *roots = malloc((a->n + 1) * sizeof(*roots));
	size_t m = 0;
	int err = 0;

	if (!roots)
		return -ENOMEM;
	for (size_t i = 0; i < a->n; i++) {
		const struct bt_xchg *e = &a->x[i];

		if (!valid(e))
			continue;
		if ((e->role == BT_ROLE_CLIENT && a->parent[i] == NONE) ||
		    (e->role == BT_ROLE_SERVER && !a->served[i]))
			roots[m++] = (uint32_t)i;
	}
	qsort_r(roots, m, sizeof(*roots), cmp_root, (void *)a->x);
	for (size_t k = 0; k < m && !err; k++) {
		uint32_t i = roots[k];

		if (a->x[i].role == BT_ROLE_CLIENT)
			err = walk(a, i, a->match[i]);
		else
			err = walk(a, NONE, i);
	}
	free(roots);
	return err;
}

static int fill(struct xa *a, struct bt_chains *r, uint64_t duration)
{
	size_t nh = 0, at = 0;
	char **names;

	for (size_t i = 0; i < a->nch; i++)
		nh += a->ch[i].nhops;
	r->chains = calloc(a->nch ? a->nch : 1, sizeof(*r->chains));
	r->mem->hops = calloc(nh ? nh : 1, sizeof(*r->mem->hops));
	names = calloc(a->nhops ? a->nhops : 1, sizeof(*names));
	if (!r->chains || !r->mem->hops || !names) {
		free(names);
		return -ENOMEM;
	}
	r->mem->names = names;
	for (size_t i = 0; i < a->nhops; i++) {
		names[i] = strdup(a->hops[i].channel);
		if (!names[i])
			return -ENOMEM;
		r->mem->nnames = i + 1;
	}
	for (size_t i = 0; i < a->nch; i++) {
		struct csum *c = &a->ch[i];
		struct bt_chain *out = &r->chains[i];
		double wall = (double)duration * c->threads;
		uint32_t q = c->leaf;

		out->hops = r->mem->hops + at;
		at += c->nhops;
		out->nhops = c->nhops;
		for (unsigned int d = c->nhops; d-- > 0; q = a->paths[q].parent) {
			struct bt_chain_hop *hp = &out->hops[d];
			struct hsum *h = &c->h[d];
			const struct hop *hop = &a->hops[a->paths[q].hop];
			uint64_t wait = d + 1 < c->nhops ? c->h[d + 1].lat : 0;

			bt_chain_end_set(a->o, &hp->from, hop->from);
			bt_chain_end_set(a->o, &hp->to, hop->to);
			threads_set(&a->paths[q].from_thr, &hp->from);
			threads_set(&a->paths[q].to_thr, &hp->to);
			hp->kind = (uint8_t)hop->kind;
			hp->channel = names[a->paths[q].hop];
			hp->calls = h->calls;
			hp->calls_per_episode = c->roots ? (double)h->calls / (double)c->roots : 0;
			hp->calls_min = hp->calls_p50 = hp->calls_max = 1;
			if (d) {
				hp->calls_p50 = (uint32_t)pct(&h->per_root, 0.5);
				hp->calls_min = (uint32_t)h->per_root.v[0];
				hp->calls_max = (uint32_t)h->per_root.v[h->per_root.n - 1];
			}
			hp->blocked_ns = h->lat;
			hp->p50_ns = pct(&h->each, 0.5);
			hp->queue_ns = h->queue;
			hp->wait_ns = wait < h->kids ? wait : h->kids;
			hp->other_ns = h->kids - hp->wait_ns;
			hp->self_ns = h->svc > h->kids ? h->svc - h->kids : 0;
			hp->fanout_calls = h->fan_calls;
			hp->fanout_max_peers = h->fan_peers;
			hp->fanout_save_ns = h->fan_save;
		}
		out->episodes = out->requests = c->roots;
		out->blocked_ns = c->lat;
		out->root_threads = c->threads;
		out->share = wall > 0 ? (double)c->lat / wall : 0;
		if (out->share > 1)
			out->share = 1;
		out->exchanges = true;
		out->p50_ns = pct(&c->root_lat, 0.5);
		out->p99_ns = pct(&c->root_lat, 0.99);
	}
	r->nchains = a->nch;
	return 0;
}

static int cmp_chain(const void *pa, const void *pb)
{
	const struct bt_chain *a = pa, *b = pb;

	if (a->blocked_ns != b->blocked_ns)
		return a->blocked_ns > b->blocked_ns ? -1 : 1;
	if (a->episodes != b->episodes)
		return a->episodes > b->episodes ? -1 : 1;
	return a->nhops < b->nhops ? -1 : a->nhops > b->nhops;
}

static void xa_free(struct xa *a)
{
	for (size_t i = 0; i < a->nch; i++) {
		free(a->ch[i].root_lat.v);
		for (unsigned int d = 0; d < BT_CHAINS_MAX_DEPTH; d++) {
			free(a->ch[i].h[d].per_root.v);
			free(a->ch[i].h[d].each.v);
		}
	}
	free(a->ch);
	free(a->nodes);
	free(a->paths);
	free(a->hops);
	free(a->kid_lo);
	free(a->kids);
	free(a->srv);
	free(a->served);
	free(a->handq);
	free(a->match);
	free(a->parent);
	free(a->ev);
}

struct bt_chains *bt_exchains_analyze(const struct bt_xchg *x, size_t n,
				      const struct bt_handoff *h, size_t nh,
				      const struct bt_chain_opts *opts)
{
	struct xa a = { .x = x, .n = n, .h = h, .nh = nh, .o = opts };
	struct bt_chains *r;
	uint64_t lo = UINT64_MAX, hi = 0;
	int err = -ENOMEM;

	if ((!x && n) || (!h && nh) || n >= UINT32_MAX - 2 || nh >= UINT32_MAX) {
		errno = EINVAL;
		return NULL;
	}
	r = bt_chains_new();
	if (!r)
		return NULL;
	a.cnt = &r->xcounts;
	a.cnt->exchanges = n;
	for (size_t i = 0; i < n; i++) {
		if (!valid(&x[i])) {
			a.cnt->invalid++;
			continue;
		}
		if (x[i].req_ns < lo)
			lo = x[i].req_ns;
		if (x[i].resp_ns > hi)
			hi = x[i].resp_ns;
	}
	r->duration_ns = opts && opts->duration_ns ? opts->duration_ns : hi > lo ? hi - lo : 0;
	a.parent = malloc((n + 1) * sizeof(*a.parent));
	a.match = malloc((n + 1) * sizeof(*a.match));
	a.served = calloc(n + 1, sizeof(*a.served));
	a.handq = calloc(n + 1, sizeof(*a.handq));
	a.srv = malloc((n + 1) * sizeof(*a.srv));
	if (!a.parent || !a.match || !a.served || !a.srv || !a.handq)
		goto out;
	for (size_t i = 0; i < n; i++)
		a.parent[i] = a.match[i] = NONE;
	err = build_events(&a);
	if (!err)
		err = link_parents(&a);
	if (!err)
		err = pair_ends(&a);
	if (!err)
		err = link_kids(&a);
	if (!err)
		err = walk_roots(&a);
	if (!err)
		err = fill(&a, r, r->duration_ns);
	if (!err)
		qsort(r->chains, r->nchains, sizeof(*r->chains), cmp_chain);
out:
	xa_free(&a);
	if (err) {
		bt_chains_free(r);
		errno = -err;
		return NULL;
	}
	return r;
}
