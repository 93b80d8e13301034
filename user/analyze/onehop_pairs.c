// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "analyze/onehop_pairs.h"
#include "onehop.h"
#include "lib/hmap.h"

/*
 * Rows a connection remembers, by slot: a run of 64 slots is a factor of
 * two in latency (bpf/lat_slot.h), what a connection's jitter spans. With
 * 8, the lookups of missed hints took 4% of boundtrace's CPU on a
 * loopback TCP ping-pong; with 64, under 1%.
 */
#define CONN_ROWS	64

/* A connection as its client names it, and the leaf held for its client. */
struct conn {
	uint64_t client_end, server_end;	/* the key: the first 16 bytes */
	uint64_t prev_resp_ns;	/* the client's last response (a root's) */
	bool held;		/* srv waits for the client's next root */
	bool named;		/* a record named it since the last flush */
	/* Its pairs' last rows (+ 1, of rows_gen), by slot % CONN_ROWS: found without a hash. */
	uint32_t row[CONN_ROWS];
	uint32_t rows_gen;
	struct bt_exchange_ev srv;
};

#define CONN_KEY_LEN	(2 * sizeof(uint64_t))
/*
 * A row's hash: of its key's threads and slot only, which tell rows apart
 * but for the rare keys alike in them (row_eq compares the whole key).
 * The whole key was a third of the pairing's time.
 */
#define ROW_HASH_LEN	(offsetof(struct bt_onehop_key, slot) + sizeof(uint32_t))

struct bt_pairs {
	struct conn *conns;
	size_t nconns, capconns;
	struct bt_hmap conn_idx;
	uint32_t conn_recent[2];
	struct bt_onehop_row *rows;
	size_t nrows, caprows;
	struct bt_hmap row_idx;
	uint32_t row_recent[2];
	uint32_t rows_gen;	/* bt_pairs_taken's: a connection's rows of another are stale */
	uint32_t last;		/* the connection found last, + 1 */
	uint64_t paired;
};

static bool conn_eq(const void *ctx, uint32_t e, const void *key)
{
	return !memcmp(&((const struct conn *)ctx)[e], key, CONN_KEY_LEN);
}

static bool row_eq(const void *ctx, uint32_t e, const void *key)
{
	return !memcmp(&((const struct bt_onehop_row *)ctx)[e].key, key,
		       sizeof(struct bt_onehop_key));
}

struct bt_pairs *bt_pairs_new(void)
{
	return calloc(1, sizeof(struct bt_pairs));
}

void bt_pairs_free(struct bt_pairs *p)
{
	if (!p)
		return;
	free(p->conns);
	bt_hmap_free(&p->conn_idx);
	free(p->rows);
	bt_hmap_free(&p->row_idx);
	free(p);
}

static struct conn *conn_of(struct bt_pairs *p, uint64_t client_end, uint64_t server_end)
{
	struct conn *c = p->last ? &p->conns[p->last - 1] : NULL;
	uint64_t ends[2] = { client_end, server_end };
	uint32_t i;

	/* A connection's records come in runs (a ping-pong's two ends): no key built for those. */
	if (c && c->client_end == client_end && c->server_end == server_end)
		return c;
	i = bt_hmap_get(&p->conn_idx, bt_hash(ends, CONN_KEY_LEN), conn_eq, p->conns, ends);
	if (i == BT_HMAP_NONE) {
		struct conn key = { .client_end = client_end, .server_end = server_end };

		i = bt_hmap_intern(&p->conn_idx, (void **)&p->conns, &p->nconns, &p->capconns,
				   sizeof(key), BT_HMAP_MAX_ELEM, conn_eq, &key, CONN_KEY_LEN,
				   p->conn_recent);
		if (i == BT_HMAP_NONE)
			return NULL;
	}
	p->last = i + 1;
	return &p->conns[i];
}

/* A record's end of its tree. */
static struct bt_onehop_end end_of(const struct bt_exchange_ev *e)
{
	return (struct bt_onehop_end){ e->pid, e->tid, e->req_tid, e->req_ns, e->resp_ns, e->comm };
}

/*
 * The tree of client end cl (its record c) and server end sv summed
 * under its key (bpf/onehop.h, as the kernel sums its counts): 1, or 0
 * when the window would not take the records as they are, -1 out of
 * memory.
 */
static int sum_pair(struct bt_pairs *p, struct conn *cn, const struct bt_onehop_end *cl,
		    const struct bt_onehop_end *sv, const struct bt_exchange_ev *c)
{
	struct bt_onehop_row r;
	uint32_t i, *hint;
	__u64 lat, svc;

	if (!bt_onehop_key(&r.key, &lat, &svc, cl, sv, c->kind, c->chan, c->peer))
		return 0;
	r.val = (struct bt_onehop_val){ 0 };
	if (cn->rows_gen != p->rows_gen) {
		memset(cn->row, 0, sizeof(cn->row));
		cn->rows_gen = p->rows_gen;
	}
	hint = &cn->row[r.key.slot % CONN_ROWS];
	if (*hint && row_eq(p->rows, *hint - 1, &r.key)) {
		i = *hint - 1;
	} else {
		i = bt_hmap_intern(&p->row_idx, (void **)&p->rows, &p->nrows, &p->caprows,
				   sizeof(r), BT_HMAP_MAX_ELEM, row_eq, &r, ROW_HASH_LEN,
				   p->row_recent);
		if (i == BT_HMAP_NONE)
			return -1;
		*hint = i + 1;
	}
	bt_onehop_add(&p->rows[i].val, lat, svc);
	p->paired++;
	return 1;
}

int bt_pairs_offer(struct bt_pairs *p, const struct bt_exchange_ev *e,
		   struct bt_exchange_ev *spill, bool *spilled)
{
	bool client = e->role == BT_ROLE_CLIENT && (e->flags & BT_XREC_ROOT);
	struct bt_onehop_end cl, sv;
	struct conn *c;
	int r;

	*spilled = false;
	if (e->type != BT_XREC_EXCHANGE || !e->end_a || !e->end_b ||
	    (!client && !(e->role == BT_ROLE_SERVER && (e->flags & BT_XREC_LEAF))))
		return 0;
	c = client ? conn_of(p, e->end_a, e->end_b) : conn_of(p, e->end_b, e->end_a);
	if (!c)
		return -1;
	c->named = true;
	if (!client) {
		if (c->held) {
			*spill = c->srv;
			*spilled = true;
		}
		c->srv = *e;
		c->held = true;
		return 1;
	}
	r = 0;
	if (c->held) {
		c->held = false;
		cl = end_of(e);
		sv = end_of(&c->srv);
		r = bt_onehop_answered(&cl, &sv, c->prev_resp_ns) ? sum_pair(p, c, &cl, &sv, e) : 0;
		if (r < 0) {
			c->held = true;	/* as it was: this record is not taken */
			return -1;
		}
		if (!r) {
			*spill = c->srv;
			*spilled = true;
		}
	}
	c->prev_resp_ns = e->resp_ns;
	return r;
}

int bt_pairs_flush(struct bt_pairs *p, int (*fn)(void *ctx, const struct bt_exchange_ev *e),
		   void *ctx)
{
	size_t kept = 0;
	int err = 0;

	for (size_t i = 0; i < p->nconns; i++) {
		struct conn *c = &p->conns[i];

		if (c->held && !err) {
			c->held = false;
			err = fn(ctx, &c->srv);
		}
		if (!c->named)
			continue;
		c->named = false;
		p->conns[kept++] = *c;
	}
	if (kept == p->nconns)
		return err;
	/* Forgotten ones: the index is made again over those kept. */
	p->nconns = kept;
	bt_hmap_clear(&p->conn_idx);
	p->conn_recent[0] = p->conn_recent[1] = 0;
	p->last = 0;
	for (size_t i = 0; i < kept && !err; i++)
		if (bt_hmap_put(&p->conn_idx, bt_hash(&p->conns[i], CONN_KEY_LEN), (uint32_t)i))
			err = -1;
	if (err) {
		/* Unindexed, a connection would be made twice: forget them all. */
		p->nconns = 0;
		bt_hmap_clear(&p->conn_idx);
		p->conn_recent[0] = p->conn_recent[1] = 0;
	}
	return err;
}

const struct bt_onehop_row *bt_pairs_rows(const struct bt_pairs *p, size_t *n)
{
	*n = p->nrows;
	return p->rows;
}

void bt_pairs_taken(struct bt_pairs *p)
{
	p->nrows = 0;
	bt_hmap_clear(&p->row_idx);
	p->row_recent[0] = p->row_recent[1] = 0;
	p->rows_gen++;
}

uint64_t bt_pairs_count(const struct bt_pairs *p)
{
	return p->paired;
}
