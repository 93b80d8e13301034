// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The recording's record tables; see schema.h and record.h. */
#include <string.h>
#include "record/schema.h"

#define F(f)	FIELD(struct bt_wake, f)
static const struct field wake_rec[] = {
	F(key.waker), F(key.wakee), F(key.kind), F(key.dir), F(key.chan), F(key.peer), F(count),
	{ 0 },
};
#undef F

#define F(f)	FIELD(struct bt_holder, f)
static const struct field holder_rec[] = { F(ino), F(pid), F(type), F(mode), { 0 } };
#undef F

#define F(f)	FIELD(struct bt_sockfact, f)
static const struct field sock_rec[] = {
	F(ino), F(peer_ino), F(proto), F(family), F(lport), F(rport),
	RAW(struct bt_sockfact, laddr), RAW(struct bt_sockfact, raddr), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_episode_ev, f)
static const struct field episode_rec[] = {
	F(pid), F(tid), F(kind), F(dir), F(waker_pid), F(chan), F(peer), F(start_ns), F(end_ns),
	F(wake_ns), F(waker_tid), LATER(struct bt_episode_ev, wait),
	LATER(struct bt_episode_ev, ret), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_exchange_ev, f)
static const struct field exchange_rec[] = {
	F(pid), F(tid), F(req_tid), F(role), F(kind), F(type), F(chan), F(peer), F(end_a), F(end_b),
	F(req_ns), F(resp_ns), RAW(struct bt_exchange_ev, comm), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_stackrow, f)
static const struct field stackrow_rec[] = {
	F(key.tgid), F(key.kind), F(key.dir), F(key.chan), F(key.peer), F(key.ustack),
	F(key.kstack), F(key.ucaller), F(calls), F(bytes), F(errors), F(blocked_ns), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_wakestack, f)
static const struct field wakestack_rec[] = {
	F(key.wakee), F(key.waker), F(key.kind), F(key.dir), F(key.wakee_ustack), F(key.chan),
	F(key.peer), F(key.wakee_ucaller), F(key.waker_ustack), F(key.waker_ucaller),
	F(val.count), F(val.blocked_ns), { 0 },
};
#undef F

/* Then the folded string, a u32 length and its bytes. */
#define F(f)	FIELD(struct bt_stack, f)
static const struct field stack_rec[] = { F(pid), F(id), F(caller), { 0 } };
#undef F

#define F(f)	FIELD(struct bt_futex_link, f)
static const struct field futexlink_rec[] = {
	F(key.waker), F(key.wakee), F(key.waker_addr), F(key.wakee_addr), F(count), { 0 },
};
#undef F

#define LIST(type_, what_, one_, elem, max_, arr_, rec_) \
	.type = type_, .what = what_, .one = one_, .size = sizeof(elem), .max = max_, \
	.arr = offsetof(struct bt_model, arr_), .n = offsetof(struct bt_model, n##arr_), \
	.cap = offsetof(struct bt_model, cap##arr_), .rec = rec_

const struct list_kind bt_rec_lists[L_MAX] = {
	[L_WAKES] = { LIST(BT_REC_WAKES, "wakes", "wake", struct bt_wake, BT_REC_MAX_WAKES,
			   wakes, wake_rec) },
	[L_HOLDERS] = { LIST(BT_REC_HOLDERS, "holders", "holder", struct bt_holder,
			     BT_REC_MAX_HOLDERS, holders, holder_rec) },
	[L_SOCKS] = { LIST(BT_REC_SOCKFACTS, "socket facts", "socket fact", struct bt_sockfact,
			   BT_REC_MAX_SOCKS, socks, sock_rec) },
	[L_EPISODES] = { LIST(BT_REC_EPISODES, "episodes", "episode", struct bt_episode_ev,
			      BT_REC_MAX_EPISODES, episodes, episode_rec), .log = true },
	[L_STACKROWS] = { LIST(BT_REC_STACKROWS, "stack rows", "stack row", struct bt_stackrow,
			       BT_REC_MAX_STACKROWS, stackrows, stackrow_rec) },
	[L_WAKESTACKS] = { LIST(BT_REC_WAKESTACKS, "waker stacks", "waker stack",
				struct bt_wakestack, BT_REC_MAX_WAKESTACKS, wakestacks,
				wakestack_rec) },
	[L_EXCHANGES] = { LIST(BT_REC_EXCHANGES, "exchanges", "exchange", struct bt_exchange_ev,
			       BT_REC_MAX_EPISODES, exchanges, exchange_rec), .log = true },
	[L_STACKS] = { LIST(BT_REC_STACKS, "stacks", "stack", struct bt_stack, BT_REC_MAX_STACKS,
			    stacks, stack_rec) },
	[L_FUTEXLINKS] = { LIST(BT_REC_FUTEXLINKS, "futex links", "futex link",
				struct bt_futex_link, BT_REC_MAX_FUTEXLINKS, futexlinks,
				futexlink_rec) },
};

/* The bytes of the fields f in a record. */
uint64_t bt_rec_fields_len(const struct field *f)
{
	uint64_t n = 0;

	for (; f->len && !f->opt; f++)
		n += f->len;
	return n;
}

/* An integer field as the host holds it: 1, 2, 4 or 8 bytes. */
union uint_field {
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;
};

void bt_rec_put_fields(struct bt_recf_buf *b, const struct field *f, const void *e)
{
	for (; f->len; f++) {
		const char *p = (const char *)e + f->off;
		union uint_field v;

		if (f->raw) {
			bt_recf_put_bytes(b, p, f->len);
			continue;
		}
		memcpy(&v, p, f->len);
		bt_recf_put_le(b, f->len == 1 ? v.u8 : f->len == 2 ? v.u16 :
				  f->len == 4 ? v.u32 : v.u64, f->len);
	}
}

void bt_rec_get_fields(struct bt_recf_cur *c, const struct field *f, void *e)
{
	for (; f->len; f++) {
		char *p = (char *)e + f->off;
		union uint_field v;
		uint64_t x;

		if (f->opt && !bt_recf_left(c))
			break;
		if (f->raw) {
			bt_recf_get_bytes(c, p, f->len);
			continue;
		}
		x = bt_recf_get_le(c, f->len);
		if (f->len == 1)
			v.u8 = x;
		else if (f->len == 2)
			v.u16 = x;
		else if (f->len == 4)
			v.u32 = x;
		else
			v.u64 = x;
		memcpy(p, &v, f->len);
	}
}

const char *bt_rec_block_name(uint32_t type)
{
	switch (type) {
	case BT_REC_HEADER_INFO:
		return "header info";
	case BT_REC_PROCESS:
		return "process";
	case BT_REC_ROWS:
		return "rows";
	case BT_REC_LOST:
		return "lost";
	case BT_REC_DURATION:
		return "duration";
	case BT_REC_END:
		return "end";
	case BT_REC_WAKES:
		return "wakes";
	case BT_REC_HOLDERS:
		return "holders";
	case BT_REC_SOCKFACTS:
		return "sockfacts";
	case BT_REC_EPISODES:
		return "episodes";
	case BT_REC_STACKROWS:
		return "stackrows";
	case BT_REC_STACKS:
		return "stacks";
	case BT_REC_FUTEXLINKS:
		return "futexlinks";
	case BT_REC_WAKESTACKS:
		return "wakestacks";
	case BT_REC_SELF:
		return "self";
	case BT_REC_EXCHANGES:
		return "exchanges";
	}
	return "unknown";
}

/* The place of SELF value i in s (NULL: bpf_stats, a bool, or past the known ones). */
static uint64_t *self_value(struct bt_self_cost *s, unsigned int i)
{
	if (i >= SELF_RECORDS && i < SELF_RECORD_BYTES)
		return &s->records[i - SELF_RECORDS];
	switch (i) {
	case SELF_LOAD_CPU:
		return &s->load_cpu_ns;
	case SELF_CPU:
		return &s->cpu_ns;
	case SELF_MAX_RSS:
		return &s->max_rss_kib;
	case SELF_RECORD_BYTES:
		return &s->record_bytes;
	case SELF_BPF_NS:
		return &s->bpf_ns;
	case SELF_BPF_RUNS:
		return &s->bpf_runs;
	case SELF_CHAIN_CPU:
		return &s->chain_cpu_ns;
	}
	return NULL;
}

uint64_t bt_rec_self_get(const struct bt_self_cost *s, unsigned int i)
{
	const uint64_t *v = self_value((struct bt_self_cost *)s, i);

	return i == SELF_BPF_STATS ? s->bpf_stats : v ? *v : 0;
}

void bt_rec_self_set(struct bt_self_cost *s, unsigned int i, uint64_t v)
{
	uint64_t *at = self_value(s, i);

	if (i == SELF_BPF_STATS)
		s->bpf_stats = v != 0;
	else if (at)
		*at = v;
}
