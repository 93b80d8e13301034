// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Recordings: round trips through a file and memory, snapshots, files cut
 * at every length, bit flips, hostile headers and payloads, forward
 * compatibility, output file safety, and the committed version 1 fixture.
 *
 * BT_REC_WRITE_FIXTURES=1 (from tests/unit) rewrites fixtures/rec-v1.json
 * and the fuzz seeds. fixtures/rec-v1.btrec is written only when missing:
 * it is the format's memory, never regenerate it to make a test pass.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>
#include "recfile.h"
#include "record.h"
#include "report.h"

#define ERRLEN		512
#define FIXTURE		"fixtures/rec-v1.btrec"
#define FIXTURE_JSON	"fixtures/rec-v1.json"
#define CORPUS_DIR	"../fuzz/corpus/record"
#define FUTEX_ADDR	0x7f00deadbeefull
#define CALLS(n)	(&(struct bt_stats){ .calls = (n) })

/* ---- models --------------------------------------------------------- */

/* A process even when the pid is taken: after pid reuse the model holds both. */
static struct bt_proc *new_proc(struct bt_model *m, uint32_t pid, const char *comm,
				uint64_t start_ns)
{
	struct bt_proc *p;

	if (m->nprocs == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->procs = realloc(m->procs, m->cap * sizeof(*m->procs));
		assert_non_null(m->procs);
	}
	p = &m->procs[m->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->start_ns = start_ns;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return p;
}

static void add(struct bt_model *m, uint32_t pid, unsigned int kind, unsigned int dir,
		uint64_t chan, uint64_t peer, const struct bt_stats *st,
		const struct bt_chan_info *info)
{
	struct bt_key k = { .tgid = pid, .kind = kind, .dir = dir, .chan = chan, .peer = peer };

	assert_non_null(bt_model_add(m, &k, st, info));
}

static struct bt_stats stats(uint64_t calls, uint64_t seed)
{
	struct bt_stats s = { .calls = calls, .bytes = calls * 4096 + seed,
			      .errors = seed % 3, .blocked_ns = 1000 * calls + seed,
			      .max_blocked_ns = 900 + seed };

	for (int i = 0; i < BT_HIST_SLOTS; i++) {
		s.size_hist[i] = (i * 7 + seed) % 5 ? 0 : i + seed;
		s.blocked_hist[i] = (i + seed) % 4 ? 0 : 1000 + i;
	}
	return s;
}

static struct bt_chan_info inet(unsigned int kind, int family, const char *l, unsigned int lport,
				const char *r, unsigned int rport)
{
	struct bt_chan_info ci = { .kind = kind, .family = family, .lport = lport,
				   .rport = rport };

	assert_int_equal(inet_pton(family, l, ci.laddr), 1);
	assert_int_equal(inet_pton(family, r, ci.raddr), 1);
	return ci;
}

static struct bt_chan_info unix_info(unsigned int kind, const char *path, uint64_t peer)
{
	struct bt_chan_info ci = { .kind = kind, .family = AF_UNIX, .peer_ino = peer };

	snprintf(ci.path, sizeof(ci.path), "%s", path);
	return ci;
}

/* Every kind of row, a dead process, an unnamed one, and a reused pid. */
static void build_full(struct bt_model *m)
{
	struct bt_chan_info tcp4 = inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000,
					"10.1.2.3", 5000);
	struct bt_chan_info tcp6 = inet(BT_KIND_TCP, AF_INET6, "::1", 40001, "2001:db8::1", 443);
	struct bt_chan_info udp4a = inet(BT_KIND_UDP, AF_INET, "0.0.0.0", 5353,
					 "224.0.0.251", 5353);
	struct bt_chan_info udp4b = inet(BT_KIND_UDP, AF_INET, "0.0.0.0", 5353,
					 "192.168.1.9", 9999);
	struct bt_chan_info udp6 = inet(BT_KIND_UDP, AF_INET6, "fe80::1", 546, "ff02::1:2", 547);
	struct bt_chan_info us = unix_info(BT_KIND_UNIX_STREAM, "/run/app.sock", 7002);
	struct bt_chan_info ud = unix_info(BT_KIND_UNIX_DGRAM, "@journal", 0);
	struct bt_chan_info longpath;
	struct bt_stats wake = stats(3, 1), big = stats(5, 2);
	struct bt_proc *p;

	/* A path that fills the field, cut as the kernel cuts it. */
	longpath = unix_info(BT_KIND_UNIX_STREAM, "", 8002);
	memset(longpath.path, 'p', sizeof(longpath.path) - 1);
	wake.woken = 7;
	big.max_blocked_ns = UINT64_MAX;
	big.size_hist[BT_HIST_SLOTS - 1] = UINT64_MAX - 1;

	bt_model_init(m);
	new_proc(m, 1000, "server", 111);
	add(m, 1000, BT_KIND_PIPE, BT_DIR_SEND, 9001, 0, &big, NULL);
	add(m, 1000, BT_KIND_PIPE, BT_DIR_RECV, 9002, 0, CALLS(1), NULL);
	add(m, 1000, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 7001, 0, CALLS(2), &us);
	add(m, 1000, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 8001, 0, CALLS(4),
	    &longpath);
	add(m, 1000, BT_KIND_UNIX_DGRAM, BT_DIR_RECV, 7003, 0, CALLS(9), &ud);
	add(m, 1000, BT_KIND_TCP, BT_DIR_SEND, 5001, 5000ull << 48 ^ 0x0a010203, &big, &tcp4);
	add(m, 1000, BT_KIND_TCP, BT_DIR_RECV, 5002, 443ull << 48 ^ 0x20010db8, &big, &tcp6);
	add(m, 1000, BT_KIND_UDP, BT_DIR_SEND, 5003, 5353ull << 48 ^ 0xe00000fb, &big, &udp4a);
	add(m, 1000, BT_KIND_UDP, BT_DIR_SEND, 5003, 9999ull << 48 ^ 0xc0a80109, &big, &udp4b);
	/* Channel facts lost (a full map): printed by inode. */
	add(m, 1000, BT_KIND_TCP, BT_DIR_RECV, 5555, 1, CALLS(1), NULL);

	p = new_proc(m, 1001, "worker-thread-1", 222);
	p->exited = true;
	p->exit_code = 256;
	add(m, 1001, BT_KIND_FUTEX, BT_DIR_WAKE, FUTEX_ADDR, 0, &wake, NULL);
	add(m, 1001, BT_KIND_FUTEX, BT_DIR_WAIT, FUTEX_ADDR, 0, &big, NULL);

	new_proc(m, 1002, "", 0);
	add(m, 1002, BT_KIND_UDP, BT_DIR_RECV, 6001, 547ull << 48 ^ 1, CALLS(8),
	    &udp6);

	/* pid 1000 again: bt_model_add files its rows under the newest. */
	p = new_proc(m, 1000, "server2", 999);
	p->exited = true;
	p->exit_code = 9;
	add(m, 1000, BT_KIND_PIPE, BT_DIR_SEND, 9100, 0, CALLS(5), NULL);
	m->duration_ns = 2500000000ull;
	/* Only the counters of version 1: the fixture must not change when one is added. */
	for (unsigned int l = 0; l <= BT_LOSS_TARGETS_FULL; l++)
		m->lost[l] = l * 11 + 1;
	bt_model_sort(m);
}

static void build_small(struct bt_model *m, uint64_t calls)
{
	struct bt_chan_info us = unix_info(BT_KIND_UNIX_STREAM, "/tmp/s", 42);
	struct bt_stats pipe = { .calls = calls, .bytes = 10 };

	bt_model_init(m);
	new_proc(m, 7, "a", 1);
	add(m, 7, BT_KIND_PIPE, BT_DIR_SEND, 1, 0, &pipe, NULL);
	new_proc(m, 8, "b", 2);
	add(m, 8, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 41, 0, CALLS(calls), &us);
	m->duration_ns = calls * 1000;
	m->lost[0] = calls;
}

static char *render(const struct bt_model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(bt_report_json(f, m), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void assert_json_equal(const struct bt_model *a, const struct bt_model *b)
{
	char *ja = render(a), *jb = render(b);

	assert_string_equal(ja, jb);
	free(ja);
	free(jb);
}

static void assert_info_equal(const struct bt_chan_info *a, const struct bt_chan_info *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->family, b->family);
	assert_int_equal(a->lport, b->lport);
	assert_int_equal(a->rport, b->rport);
	assert_memory_equal(a->laddr, b->laddr, sizeof(a->laddr));
	assert_memory_equal(a->raddr, b->raddr, sizeof(a->raddr));
	assert_int_equal(a->peer_ino, b->peer_ino);
	assert_memory_equal(a->path, b->path, sizeof(a->path));
}

/* Everything the format carries, field by field: more than any exporter prints. */
static void assert_models_equal(const struct bt_model *a, const struct bt_model *b)
{
	assert_int_equal(a->nprocs, b->nprocs);
	assert_int_equal(a->duration_ns, b->duration_ns);
	assert_memory_equal(a->lost, b->lost, sizeof(a->lost));
	for (size_t i = 0; i < a->nprocs; i++) {
		const struct bt_proc *p = &a->procs[i], *q = &b->procs[i];

		assert_int_equal(p->pid, q->pid);
		assert_int_equal(p->start_ns, q->start_ns);
		assert_string_equal(p->comm, q->comm);
		assert_int_equal(p->exited, q->exited);
		assert_int_equal(p->exit_code, q->exit_code);
		assert_int_equal(p->nrows, q->nrows);
		for (size_t j = 0; j < p->nrows; j++) {
			const struct bt_row *r = &p->rows[j], *s = &q->rows[j];

			assert_int_equal(r->key.tgid, s->key.tgid);
			assert_int_equal(r->key.kind, s->key.kind);
			assert_int_equal(r->key.dir, s->key.dir);
			assert_int_equal(r->key.chan, s->key.chan);
			assert_int_equal(r->key.peer, s->key.peer);
			assert_memory_equal(&r->st, &s->st, sizeof(r->st));
			assert_int_equal(r->has_info, s->has_info);
			assert_info_equal(&r->info, &s->info);
			assert_string_equal(r->channel, s->channel);
		}
	}
	assert_json_equal(a, b);
}

/* ---- files ---------------------------------------------------------- */

struct tmp {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	static struct tmp t;

	umask(022);
	strcpy(t.dir, "/tmp/bt-record-XXXXXX");
	if (!mkdtemp(t.dir))
		return -1;
	*state = &t;
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct tmp *t = *state;

	return nftw(t->dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

static const char *in_dir(struct tmp *t, const char *name)
{
	snprintf(t->path, sizeof(t->path), "%s/%s", t->dir, name);
	return t->path;
}

static const struct bt_rec_info test_info = {
	.version = "0.1.0",
	.kernel = "6.1.0-test",
	.host = "buildhost",
	.start_ns = 1700000000123456789ull,
	.options = "boundtrace record -o out.btrec -- ./server --port 5000",
};

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void write_models(const char *path, const struct bt_model *const *ms, int n,
			 off_t *sizes)
{
	char err[ERRLEN] = "";
	struct bt_rec_writer *w = bt_rec_open(path, true, &test_info, err, sizeof(err));

	if (!w)
		fail_msg("%s", err);
	for (int i = 0; i < n; i++) {
		assert_int_equal(bt_rec_write_model(w, ms[i], err, sizeof(err)), 0);
		/* Written through to the kernel at once: a kill -9 keeps it. */
		if (sizes)
			sizes[i] = file_size(path);
	}
	assert_int_equal(bt_rec_close(w, err, sizeof(err)), 0);
}

static void write_model(const char *path, const struct bt_model *m)
{
	write_models(path, &m, 1, NULL);
}

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc(n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, n, f), n);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static void spill(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Reading must fail with exactly this message. */
static void expect_error_mem(const void *buf, size_t len, const char *msg)
{
	struct bt_model m;
	char err[ERRLEN] = "";

	bt_model_init(&m);
	assert_int_equal(bt_rec_read_mem(buf, len, "rec", &m, NULL, NULL, err, sizeof(err)), -1);
	assert_string_equal(err, msg);
	assert_int_equal(m.nprocs, 0);
}

/* A recording built by hand, block by block, in memory. */
struct raw {
	char *buf;
	size_t len;
	FILE *f;
};

static void raw_open(struct raw *r, uint32_t version, uint32_t flags)
{
	uint8_t h[BT_RECF_HDR_LEN];

	r->f = open_memstream(&r->buf, &r->len);
	assert_non_null(r->f);
	memcpy(h, BT_RECF_MAGIC, BT_RECF_MAGIC_LEN);
	for (int i = 0; i < 4; i++) {
		h[8 + i] = version >> (8 * i);
		h[12 + i] = flags >> (8 * i);
	}
	assert_int_equal(fwrite(h, 1, sizeof(h), r->f), sizeof(h));
}

static size_t raw_off(struct raw *r)
{
	assert_int_equal(fflush(r->f), 0);
	return r->len;
}

static void raw_block(struct raw *r, uint32_t type, const struct bt_recf_buf *b)
{
	assert_false(b->oom);
	assert_int_equal(bt_recf_write_block(r->f, type, b->p, b->len), 0);
}

static void raw_info(struct raw *r)
{
	struct bt_recf_buf b = { 0 };

	for (int i = 0; i < 3; i++)
		bt_recf_put_str(&b, "x", 1);
	bt_recf_put_u64(&b, 0);
	bt_recf_put_str(&b, "", 0);
	raw_block(r, BT_REC_HEADER_INFO, &b);
	bt_recf_buf_free(&b);
}

static void raw_u64_block(struct raw *r, uint32_t type, uint64_t v)
{
	struct bt_recf_buf b = { 0 };

	bt_recf_put_u64(&b, v);
	raw_block(r, type, &b);
	bt_recf_buf_free(&b);
}

static void raw_close(struct raw *r)
{
	assert_int_equal(fclose(r->f), 0);
}

static int read_raw(struct raw *r, struct bt_model *m, struct bt_rec_status *st, char *err)
{
	bt_model_init(m);
	return bt_rec_read_mem(r->buf, r->len, "rec", m, NULL, st, err, ERRLEN);
}

/* ---- round trips ---------------------------------------------------- */

static void test_roundtrip_file(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "full.btrec");
	struct bt_rec_status st;
	struct bt_rec_info info;
	struct bt_model a, b;
	char err[ERRLEN] = "";

	build_full(&a);
	write_model(path, &a);
	bt_model_init(&b);
	if (bt_rec_read(path, &b, &info, &st, err, sizeof(err)))
		fail_msg("%s", err);
	assert_models_equal(&a, &b);
	assert_false(st.truncated);
	assert_false(st.partial);
	assert_int_equal(st.snapshots, 1);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.version, 1);
	assert_int_equal(st.bytes, file_size(path));
	assert_memory_equal(&info, &test_info, sizeof(info));
	bt_model_free(&a);
	bt_model_free(&b);
}

static void test_roundtrip_mem(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "full.btrec");
	struct bt_rec_status st;
	struct bt_model a, b;
	char err[ERRLEN] = "";
	size_t len;
	void *buf;

	build_full(&a);
	write_model(path, &a);
	buf = slurp(path, &len);
	bt_model_init(&b);
	/* The old content of the model is replaced, not added to. */
	build_small(&b, 99);
	if (bt_rec_read_mem(buf, len, "mem", &b, NULL, &st, err, sizeof(err)))
		fail_msg("%s", err);
	assert_models_equal(&a, &b);
	assert_false(st.truncated);
	free(buf);
	bt_model_free(&a);
	bt_model_free(&b);
}

static void test_empty_model(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "empty-model.btrec");
	struct bt_rec_status st;
	struct bt_model a, b;
	char err[ERRLEN] = "";

	bt_model_init(&a);
	write_model(path, &a);
	bt_model_init(&b);
	assert_int_equal(bt_rec_read(path, &b, NULL, &st, err, sizeof(err)), 0);
	assert_models_equal(&a, &b);
	assert_int_equal(st.snapshots, 1);
	bt_model_free(&b);
}

/* Thousands of processes and rows: several blocks of each kind per snapshot. */
static void test_big_model_spans_blocks(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "big.btrec");
	struct bt_model a, b;
	char err[ERRLEN] = "";
	char comm[16];

	bt_model_init(&a);
	for (uint32_t pid = 1; pid <= 40000; pid++) {
		snprintf(comm, sizeof(comm), "p%u", pid);
		new_proc(&a, pid, comm, pid);
		if (pid > 3)
			continue;
		/* Rows before the next process: bt_model_add looks up from the newest. */
		for (uint64_t i = 0; i < 1000; i++) {
			struct bt_stats s = stats(i + 1, i);

			add(&a, pid, BT_KIND_FUTEX, BT_DIR_WAIT, 0x1000 + 8 * i, 0, &s, NULL);
		}
	}
	write_model(path, &a);
	bt_model_init(&b);
	assert_int_equal(bt_rec_read(path, &b, NULL, NULL, err, sizeof(err)), 0);
	assert_models_equal(&a, &b);
	bt_model_free(&a);
	bt_model_free(&b);
}

static void test_second_snapshot_wins(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "two.btrec");
	struct bt_model a, b, r;
	const struct bt_model *ms[] = { &a, &b };
	struct bt_rec_status st;
	char err[ERRLEN] = "";

	build_small(&a, 1);
	build_full(&b);
	write_models(path, ms, 2, NULL);
	bt_model_init(&r);
	assert_int_equal(bt_rec_read(path, &r, NULL, &st, err, sizeof(err)), 0);
	assert_models_equal(&b, &r);
	assert_int_equal(st.snapshots, 2);
	/* And the other way round: a smaller last snapshot leaves nothing of a bigger one. */
	ms[0] = &b;
	ms[1] = &a;
	write_models(path, ms, 2, NULL);
	assert_int_equal(bt_rec_read(path, &r, NULL, &st, err, sizeof(err)), 0);
	assert_models_equal(&a, &r);
	bt_model_free(&a);
	bt_model_free(&b);
	bt_model_free(&r);
}

static void test_info_init(void **state)
{
	char *argv[] = { "boundtrace", "record", "-o", "a b.btrec", "--", "sh", "-c",
			 "echo 'x'", "", NULL };
	struct bt_rec_info info;

	(void)state;
	bt_rec_info_init(&info, "9.9", 9, argv);
	assert_string_equal(info.version, "9.9");
	assert_string_equal(info.options,
			    "boundtrace record -o 'a b.btrec' -- sh -c 'echo '\\''x'\\''' ''");
	assert_true(info.kernel[0]);
	assert_true(info.start_ns > 1600000000ull * 1000000000ull);
}

/* ---- damage --------------------------------------------------------- */

/*
 * Cut at every length: inside the file header an exact error, after it
 * always a read marked truncated, holding the last snapshot completed
 * before the cut.
 */
static void test_cut_at_every_length(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "cut.btrec");
	struct bt_model a, b, empty, r;
	const struct bt_model *ms[] = { &a, &b };
	struct bt_rec_status st;
	char err[ERRLEN];
	off_t sizes[2];
	size_t len;
	char *buf;

	build_small(&a, 1);
	build_small(&b, 2);
	bt_model_init(&empty);
	write_models(path, ms, 2, sizes);
	buf = slurp(path, &len);
	expect_error_mem(buf, 0, "rec: empty file, not a boundtrace recording");
	for (size_t n = 1; n < BT_RECF_HDR_LEN; n++)
		expect_error_mem(buf, n, "rec: truncated file header");
	for (size_t n = BT_RECF_HDR_LEN; n <= len; n++) {
		const struct bt_model *want = n < (size_t)sizes[0] ? &empty :
					      n < (size_t)sizes[1] ? &a : &b;

		bt_model_init(&r);
		if (bt_rec_read_mem(buf, n, "rec", &r, NULL, &st, err, sizeof(err)))
			fail_msg("cut at %zu: %s", n, err);
		assert_int_equal(st.truncated, n < len);
		assert_int_equal(st.snapshots, want == &empty ? 0 : want == &a ? 1 : 2);
		assert_int_equal(st.bytes, n);
		assert_models_equal(want, &r);
		bt_model_free(&r);
	}
	/* The file reader agrees, on a cut inside the second snapshot. */
	assert_int_equal(truncate(path, sizes[1] - 3), 0);
	bt_model_init(&r);
	assert_int_equal(bt_rec_read(path, &r, NULL, &st, err, sizeof(err)), 0);
	assert_true(st.truncated);
	assert_true(st.partial);
	assert_models_equal(&a, &r);
	free(buf);
	bt_model_free(&a);
	bt_model_free(&b);
	bt_model_free(&r);
}

/*
 * Every bit of a small recording flipped in turn: caught (an error),
 * harmless (a compatible header flag), or a cut that loses the snapshot.
 * Never a different model.
 */
static void test_bit_flips(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "flip.btrec");
	unsigned int caught = 0, same = 0, cut = 0;
	struct bt_rec_status st;
	struct bt_model a, r;
	char err[ERRLEN];
	size_t len;
	char *buf;

	build_small(&a, 3);
	write_model(path, &a);
	buf = slurp(path, &len);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			buf[i] ^= 1 << bit;
			bt_model_init(&r);
			if (bt_rec_read_mem(buf, len, "rec", &r, NULL, &st, err, sizeof(err))) {
				assert_true(!strncmp(err, "rec: ", 5));
				assert_null(strchr(err, '\n'));
				caught++;
			} else if (r.nprocs == 0) {
				/* A length grown past the end: a cut before the snapshot. */
				assert_true(st.truncated);
				cut++;
			} else {
				assert_models_equal(&a, &r);
				same++;
			}
			bt_model_free(&r);
			buf[i] ^= 1 << bit;
		}
	}
	/* Compatible flag bits, END's length grown past the end; all else is caught or cut. */
	assert_true(same >= 16);
	assert_true(caught > len * 8 * 3 / 4);
	assert_int_equal(caught + same + cut, len * 8);
	free(buf);
	bt_model_free(&a);
}

static void test_kill9_keeps_snapshot(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "killed.btrec");
	struct bt_rec_status st;
	struct bt_model a, r;
	char err[ERRLEN];
	int ready[2], status;
	char c;
	pid_t pid;

	build_small(&a, 5);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct bt_rec_writer *w = bt_rec_open(path, false, &test_info, err, sizeof(err));

		if (!w || bt_rec_write_model(w, &a, err, sizeof(err)))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	close(ready[0]);
	close(ready[1]);
	bt_model_init(&r);
	assert_int_equal(bt_rec_read(path, &r, NULL, &st, err, sizeof(err)), 0);
	assert_true(st.truncated);
	assert_false(st.partial);
	assert_models_equal(&a, &r);
	bt_model_free(&a);
	bt_model_free(&r);
}

static void test_missing_file(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "nothing.btrec");
	struct bt_model m;
	char err[ERRLEN], want[ERRLEN];

	bt_model_init(&m);
	assert_int_equal(bt_rec_read(path, &m, NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
}

static void test_empty_file(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "empty.btrec");
	struct bt_model m;
	char err[ERRLEN], want[ERRLEN];

	spill(path, "", 0);
	bt_model_init(&m);
	assert_int_equal(bt_rec_read(path, &m, NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: empty file, not a boundtrace recording", path);
	assert_string_equal(err, want);
}

static void test_directory(void **state)
{
	struct tmp *t = *state;
	struct bt_model m;
	char err[ERRLEN], want[ERRLEN];

	bt_model_init(&m);
	assert_int_equal(bt_rec_read(t->dir, &m, NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: Is a directory", t->dir);
	assert_string_equal(err, want);
}

static void test_wrong_magic(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "text.json");
	const char text[] = "{\"version\":1,\"duration_ns\":0}\n";
	struct bt_model m;
	char err[ERRLEN], want[ERRLEN];

	spill(path, text, sizeof(text) - 1);
	bt_model_init(&m);
	assert_int_equal(bt_rec_read(path, &m, NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: not a boundtrace recording", path);
	assert_string_equal(err, want);
	/* A short file that is not even a prefix of the magic. */
	expect_error_mem("BTX", 3, "rec: not a boundtrace recording");
}

static void test_newer_version(void **state)
{
	struct raw r;

	(void)state;
	raw_open(&r, 2, 0);
	raw_info(&r);
	raw_close(&r);
	expect_error_mem(r.buf, r.len,
			 "rec: recording format version 2 is newer than this boundtrace reads (1); upgrade boundtrace");
	free(r.buf);
	raw_open(&r, 0, 0);
	raw_close(&r);
	expect_error_mem(r.buf, r.len, "rec: bad recording format version 0");
	free(r.buf);
}

static void test_flags(void **state)
{
	struct bt_rec_status st;
	struct bt_model m;
	char err[ERRLEN];
	struct raw r;

	(void)state;
	raw_open(&r, 1, 0x00010000);
	raw_close(&r);
	expect_error_mem(r.buf, r.len,
			 "rec: recording uses format features this boundtrace does not know (flags 0x00010000); upgrade boundtrace");
	free(r.buf);
	/* A compatible feature is no reason to refuse. */
	raw_open(&r, 1, 0x00000004);
	raw_info(&r);
	raw_u64_block(&r, BT_REC_DURATION, 5);
	raw_close(&r);
	assert_int_equal(read_raw(&r, &m, &st, err), 0);
	assert_int_equal(st.flags, 4);
	assert_int_equal(m.duration_ns, 5);
	free(r.buf);
}

static void test_header_only(void **state)
{
	struct bt_rec_status st;
	struct bt_rec_info info;
	struct bt_model m;
	char err[ERRLEN];
	struct raw r;

	(void)state;
	raw_open(&r, 1, 0);
	raw_close(&r);
	bt_model_init(&m);
	memset(&info, 'z', sizeof(info));
	assert_int_equal(bt_rec_read_mem(r.buf, r.len, "rec", &m, &info, &st, err, sizeof(err)), 0);
	assert_true(st.truncated);
	assert_int_equal(st.snapshots, 0);
	assert_int_equal(m.nprocs, 0);
	assert_string_equal(info.version, "");
	free(r.buf);
}

static void test_first_block_not_header(void **state)
{
	struct raw r;

	(void)state;
	raw_open(&r, 1, 0);
	raw_u64_block(&r, BT_REC_DURATION, 1);
	raw_close(&r);
	expect_error_mem(r.buf, r.len, "rec: corrupt: the first block is not the header");
	free(r.buf);
}

/* A frame written by hand: any type, lengths and checksum. */
static void raw_frame(struct raw *r, uint32_t type, uint32_t clen, uint32_t ulen, uint32_t crc,
		      const void *data, size_t n)
{
	uint32_t f[4] = { htole32(type), htole32(clen), htole32(ulen), htole32(crc) };

	assert_int_equal(fwrite(f, 1, sizeof(f), r->f), sizeof(f));
	if (n)
		assert_int_equal(fwrite(data, 1, n, r->f), n);
}

static uint32_t frame_crc(uint32_t type, uint32_t clen, uint32_t ulen, const void *data,
			  size_t n)
{
	uint32_t f[3] = { htole32(type), htole32(clen), htole32(ulen) };

	return crc32(crc32(0, (const Bytef *)f, sizeof(f)), data, n);
}

static void test_checksum_mismatch(void **state)
{
	const char payload[] = "some payload";
	uint8_t z[128];
	uLongf zlen = sizeof(z);
	char want[ERRLEN];
	uint32_t crc;
	size_t off;
	struct raw r;

	(void)state;
	assert_int_equal(compress(z, &zlen, (const Bytef *)payload, sizeof(payload)), Z_OK);
	crc = frame_crc(0x77, zlen, sizeof(payload), payload, sizeof(payload));
	raw_open(&r, 1, 0);
	raw_info(&r);
	off = raw_off(&r);
	raw_frame(&r, 0x77, zlen, sizeof(payload), crc ^ 1, z, zlen);
	raw_close(&r);
	snprintf(want, sizeof(want), "rec: corrupt block 1 at offset %zu: checksum mismatch", off);
	expect_error_mem(r.buf, r.len, want);
	free(r.buf);
}

static void test_oversized_block(void **state)
{
	char want[ERRLEN];
	size_t off;
	struct raw r;

	(void)state;
	raw_open(&r, 1, 0);
	raw_info(&r);
	off = raw_off(&r);
	raw_frame(&r, BT_REC_ROWS, 1000, BT_RECF_MAX_BLOCK + 1, 0, NULL, 0);
	raw_close(&r);
	snprintf(want, sizeof(want),
		 "rec: corrupt block 1 at offset %zu: size 67108865 over the 64 MiB limit", off);
	expect_error_mem(r.buf, r.len, want);
	free(r.buf);
	/* 64 MiB claimed from 10 bytes: deflate cannot do that. */
	raw_open(&r, 1, 0);
	raw_info(&r);
	raw_frame(&r, BT_REC_ROWS, 10, BT_RECF_MAX_BLOCK, 0, "0123456789", 10);
	raw_close(&r);
	snprintf(want, sizeof(want),
		 "rec: corrupt block 1 at offset %zu: impossible sizes 10 -> 67108864", off);
	expect_error_mem(r.buf, r.len, want);
	free(r.buf);
}

/* 16 MiB of zeros packed in 16 KiB, announced as 4 KiB: inflating stops at 4 KiB. */
static void test_decompression_bomb(void **state)
{
	size_t big = 16u << 20;
	uLongf zlen = compressBound(big);
	uint8_t *zeros = calloc(1, big), *z = malloc(zlen);
	char want[ERRLEN];
	size_t off;
	struct raw r;

	(void)state;
	assert_non_null(zeros);
	assert_non_null(z);
	assert_int_equal(compress2(z, &zlen, zeros, big, 9), Z_OK);
	raw_open(&r, 1, 0);
	raw_info(&r);
	off = raw_off(&r);
	raw_frame(&r, BT_REC_ROWS, zlen, 4096, frame_crc(BT_REC_ROWS, zlen, 4096, zeros, 4096),
		  z, zlen);
	raw_close(&r);
	snprintf(want, sizeof(want), "rec: corrupt block 1 at offset %zu: bad compressed data",
		 off);
	expect_error_mem(r.buf, r.len, want);
	free(r.buf);
	free(zeros);
	free(z);
}

/* A payload parser error: the message names the block and what is wrong. */
static void expect_payload_error(uint32_t type, const struct bt_recf_buf *payload,
				 bool with_proc, const char *why)
{
	char want[ERRLEN];
	size_t off;
	struct raw r;

	raw_open(&r, 1, 0);
	raw_info(&r);
	if (with_proc) {
		struct bt_recf_buf b = { 0 };

		bt_recf_put_u32(&b, 1);
		bt_recf_put_u32(&b, 4 + 8 + 1 + 4 + 4 + 1);
		bt_recf_put_u32(&b, 42);
		bt_recf_put_u64(&b, 0);
		bt_recf_put_u8(&b, 0);
		bt_recf_put_u32(&b, 0);
		bt_recf_put_str(&b, "p", 1);
		raw_block(&r, BT_REC_PROCESS, &b);
		bt_recf_buf_free(&b);
	}
	off = raw_off(&r);
	raw_block(&r, type, payload);
	raw_u64_block(&r, BT_REC_DURATION, 1);
	raw_close(&r);
	snprintf(want, sizeof(want), "rec: corrupt %s block %d at offset %zu: %s",
		 type == BT_REC_PROCESS ? "process" : type == BT_REC_ROWS ? "rows" :
		 type == BT_REC_LOST ? "lost" : type == BT_REC_HEADER_INFO ? "header info" :
		 "duration", with_proc ? 2 : 1, off, why);
	expect_error_mem(r.buf, r.len, want);
	free(r.buf);
}

/* A v1 row record, its length understated by len_delta. */
static void put_row(struct bt_recf_buf *b, uint32_t proc, uint32_t tgid, uint32_t len_delta)
{
	size_t at = b->len;

	bt_recf_put_u32(b, 0);
	bt_recf_put_u32(b, proc);
	bt_recf_put_u32(b, tgid);
	bt_recf_put_u8(b, BT_KIND_PIPE);
	bt_recf_put_u8(b, BT_DIR_SEND);
	bt_recf_put_u64(b, 77);
	bt_recf_put_u64(b, 0);
	for (int i = 0; i < 6 + 2 * BT_HIST_SLOTS; i++)
		bt_recf_put_u64(b, 1);
	bt_recf_put_u8(b, 0);
	for (int i = 0; i < 1 + 1 + 2 + 2 + 16 + 16 + 8 + BT_PATH_LEN; i++)
		bt_recf_put_u8(b, 0);
	bt_recf_patch_u32(b, at, b->len - at - 4 - len_delta);
}

static void rows_header(struct bt_recf_buf *b, uint32_t n)
{
	bt_recf_put_u32(b, n);
	bt_recf_put_u32(b, BT_HIST_SLOTS);
	bt_recf_put_u32(b, BT_PATH_LEN);
}

static void test_garbage_payloads(void **state)
{
	struct bt_recf_buf b = { 0 };

	(void)state;
	bt_recf_put_u32(&b, UINT32_MAX);
	expect_payload_error(BT_REC_PROCESS, &b, false, "count 4294967295 larger than the payload");
	bt_recf_buf_free(&b);

	bt_recf_put_u32(&b, 1);
	bt_recf_put_u32(&b, 1000);
	for (int i = 0; i < 30; i++)
		bt_recf_put_u8(&b, 0);
	expect_payload_error(BT_REC_PROCESS, &b, false, "record longer than the payload");
	bt_recf_buf_free(&b);

	bt_recf_put_u32(&b, 1);
	bt_recf_put_u32(&b, 22);
	bt_recf_put_u32(&b, 1);
	bt_recf_put_u64(&b, 0);
	bt_recf_put_u8(&b, 0);
	bt_recf_put_u32(&b, 0);
	bt_recf_put_u32(&b, 1000);	/* comm longer than its record */
	bt_recf_put_u8(&b, 'x');
	expect_payload_error(BT_REC_PROCESS, &b, false, "process record shorter than its fields");
	bt_recf_buf_free(&b);

	rows_header(&b, 50);
	put_row(&b, 0, 42, 0);
	expect_payload_error(BT_REC_ROWS, &b, true, "count 50 larger than the payload");
	bt_recf_buf_free(&b);

	rows_header(&b, 1);
	put_row(&b, 0, 42, 1);
	bt_recf_put_u8(&b, 0);
	expect_payload_error(BT_REC_ROWS, &b, true, "record shorter than its fields");
	bt_recf_buf_free(&b);

	rows_header(&b, 1);
	put_row(&b, 1, 42, 0);
	expect_payload_error(BT_REC_ROWS, &b, true, "row of process #1, but the snapshot has 1");
	bt_recf_buf_free(&b);

	rows_header(&b, 1);
	put_row(&b, 0, 43, 0);
	expect_payload_error(BT_REC_ROWS, &b, true, "row of pid 43 filed under pid 42");
	bt_recf_buf_free(&b);

	bt_recf_put_u32(&b, 1);
	bt_recf_put_u32(&b, 65);
	bt_recf_put_u32(&b, 64);
	expect_payload_error(BT_REC_ROWS, &b, true, "row layout of 65 slots and 64 path bytes");
	bt_recf_buf_free(&b);

	bt_recf_put_u32(&b, 3);
	bt_recf_put_u64(&b, 1);
	expect_payload_error(BT_REC_LOST, &b, false, "count 3 larger than the payload");
	bt_recf_buf_free(&b);

	bt_recf_put_u32(&b, 1);
	expect_payload_error(BT_REC_DURATION, &b, false, "shorter than its fields");
	bt_recf_buf_free(&b);
}

/* The same key twice in one process is summed, as bt_model_add would. */
static void test_repeated_row_summed(void **state)
{
	struct bt_recf_buf b = { 0 };
	struct bt_rec_status st;
	struct bt_model m;
	char err[ERRLEN];
	struct raw r;

	(void)state;
	raw_open(&r, 1, 0);
	raw_info(&r);
	bt_recf_put_u32(&b, 1);
	bt_recf_put_u32(&b, 21);
	bt_recf_put_u32(&b, 42);
	bt_recf_put_u64(&b, 0);
	bt_recf_put_u8(&b, 0);
	bt_recf_put_u32(&b, 0);
	bt_recf_put_u32(&b, 0);
	raw_block(&r, BT_REC_PROCESS, &b);
	bt_recf_buf_free(&b);
	rows_header(&b, 2);
	put_row(&b, 0, 42, 0);
	put_row(&b, 0, 42, 0);
	raw_block(&r, BT_REC_ROWS, &b);
	bt_recf_buf_free(&b);
	raw_u64_block(&r, BT_REC_DURATION, 1);
	raw_close(&r);
	assert_int_equal(read_raw(&r, &m, &st, err), 0);
	assert_int_equal(m.nprocs, 1);
	assert_int_equal(m.procs[0].nrows, 1);
	assert_int_equal(m.procs[0].rows[0].st.calls, 2);
	assert_string_equal(m.procs[0].rows[0].channel, "pipe:[77]");
	bt_model_free(&m);
	free(r.buf);
}

/* ---- forward compatibility ------------------------------------------ */

/*
 * What a later boundtrace may write: unknown blocks, fields after the
 * known ones, more histogram slots, longer paths, more loss counters.
 */
static void test_newer_writer_readable(void **state)
{
	struct bt_recf_buf b = { 0 };
	struct bt_rec_status st;
	struct bt_model m;
	const struct bt_row *row;
	char err[ERRLEN];
	size_t at;
	struct raw r;

	(void)state;
	raw_open(&r, 1, 0x0000ffff);
	raw_info(&r);
	bt_recf_put_str(&b, "stacks with symbols", 64);
	raw_block(&r, 0x100, &b);
	bt_recf_buf_free(&b);

	bt_recf_put_u32(&b, 1);
	at = b.len;
	bt_recf_put_u32(&b, 0);
	bt_recf_put_u32(&b, 42);
	bt_recf_put_u64(&b, 5);
	bt_recf_put_u8(&b, 0xff);	/* unknown flag bits besides exited */
	bt_recf_put_u32(&b, 3);
	bt_recf_put_str(&b, "newproc", 16);
	bt_recf_put_str(&b, "/usr/bin/newproc", 64);	/* exe, say */
	bt_recf_patch_u32(&b, at, b.len - at - 4);
	bt_recf_put_u32(&b, 0xdeadbeef);	/* a field after the records */
	raw_block(&r, BT_REC_PROCESS, &b);
	bt_recf_buf_free(&b);

	bt_recf_put_u32(&b, 1);
	bt_recf_put_u32(&b, 40);	/* hist slots */
	bt_recf_put_u32(&b, 100);	/* path bytes */
	at = b.len;
	bt_recf_put_u32(&b, 0);
	bt_recf_put_u32(&b, 0);
	bt_recf_put_u32(&b, 42);
	bt_recf_put_u8(&b, BT_KIND_UNIX_STREAM);
	bt_recf_put_u8(&b, BT_DIR_RECV);
	bt_recf_put_u64(&b, 10);
	bt_recf_put_u64(&b, 0);
	for (int i = 0; i < 6; i++)
		bt_recf_put_u64(&b, i + 1);
	for (int i = 0; i < 80; i++)
		bt_recf_put_u64(&b, 1);
	bt_recf_put_u8(&b, 0x3);
	bt_recf_put_u8(&b, BT_KIND_UNIX_STREAM);
	bt_recf_put_u8(&b, AF_UNIX);
	bt_recf_put_u16(&b, 0);
	bt_recf_put_u16(&b, 0);
	for (int i = 0; i < 32; i++)
		bt_recf_put_u8(&b, 0);
	bt_recf_put_u64(&b, 11);
	for (int i = 0; i < 100; i++)
		bt_recf_put_u8(&b, 'a' + i % 26);
	bt_recf_put_u64(&b, 12345);	/* a new row field */
	bt_recf_patch_u32(&b, at, b.len - at - 4);
	raw_block(&r, BT_REC_ROWS, &b);
	bt_recf_buf_free(&b);

	bt_recf_put_u32(&b, BT_LOSS_MAX + 3);
	for (int i = 0; i < BT_LOSS_MAX + 3; i++)
		bt_recf_put_u64(&b, i + 100);
	raw_block(&r, BT_REC_LOST, &b);
	bt_recf_buf_free(&b);
	bt_recf_put_u32(&b, 1);
	raw_block(&r, 0x101, &b);	/* unknown, inside the snapshot */
	bt_recf_buf_free(&b);
	bt_recf_put_u64(&b, 77);
	bt_recf_put_u64(&b, 88);	/* a new field of DURATION */
	raw_block(&r, BT_REC_DURATION, &b);
	bt_recf_buf_free(&b);
	raw_block(&r, BT_REC_END, &b);
	raw_close(&r);

	if (read_raw(&r, &m, &st, err))
		fail_msg("%s", err);
	assert_false(st.truncated);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(m.nprocs, 1);
	assert_string_equal(m.procs[0].comm, "newproc");
	assert_true(m.procs[0].exited);
	assert_int_equal(m.procs[0].exit_code, 3);
	assert_int_equal(m.procs[0].nrows, 1);
	row = &m.procs[0].rows[0];
	assert_int_equal(row->st.calls, 1);
	assert_int_equal(row->st.max_blocked_ns, 6);
	assert_int_equal(row->st.size_hist[0], 1);
	/* Slots past ours are counted in our top slot. */
	assert_int_equal(row->st.size_hist[BT_HIST_SLOTS - 1], 40 - BT_HIST_SLOTS + 1);
	assert_int_equal(row->st.blocked_hist[BT_HIST_SLOTS - 1], 40 - BT_HIST_SLOTS + 1);
	assert_true(row->has_info);
	assert_int_equal(row->info.peer_ino, 11);
	assert_int_equal(strlen(row->info.path), BT_PATH_LEN - 1);
	assert_string_equal(row->channel,
			    "unix:abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk[10->11]");
	for (int l = 0; l < BT_LOSS_MAX; l++)
		assert_int_equal(m.lost[l], l + 100);
	assert_int_equal(m.duration_ns, 77);
	bt_model_free(&m);
	free(r.buf);
}

static void test_critical_unknown_refused(void **state)
{
	struct bt_recf_buf b = { 0 };
	char want[ERRLEN];
	size_t off;
	struct raw r;

	(void)state;
	raw_open(&r, 1, 0);
	raw_info(&r);
	off = raw_off(&r);
	raw_block(&r, BT_RECF_CRITICAL | 0x200, &b);
	raw_close(&r);
	snprintf(want, sizeof(want),
		 "rec: block 1 at offset %zu has type 0x80000200, which this boundtrace cannot skip; upgrade boundtrace",
		 off);
	expect_error_mem(r.buf, r.len, want);
	free(r.buf);
}

/* ---- the output file ------------------------------------------------ */

static void test_create_mode_0600(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "mode.btrec");
	struct bt_model m;
	struct stat st;

	bt_model_init(&m);
	write_model(path, &m);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_exists_without_force(void **state)
{
	struct tmp *t = *state;
	const char *path = in_dir(t, "precious");
	struct bt_rec_writer *w;
	char err[ERRLEN] = "";
	size_t len;
	char *buf;

	spill(path, "precious", 8);
	assert_null(bt_rec_open(path, false, NULL, err, sizeof(err)));
	/* bt_open_output's words: the path, and that it exists. */
	assert_true(!strncmp(err, path, strlen(path)));
	assert_non_null(strstr(err, "exists"));
	buf = slurp(path, &len);
	assert_string_equal(buf, "precious");
	free(buf);
	w = bt_rec_open(path, true, NULL, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(bt_rec_close(w, err, sizeof(err)), 0);
	buf = slurp(path, &len);
	assert_memory_equal(buf, BT_RECF_MAGIC, BT_RECF_MAGIC_LEN);
	free(buf);
}

static void test_symlink_refused(void **state)
{
	struct tmp *t = *state;
	char target[128], link[128], err[ERRLEN] = "";
	size_t len;
	char *buf;

	snprintf(target, sizeof(target), "%s", in_dir(t, "victim"));
	snprintf(link, sizeof(link), "%s", in_dir(t, "link.btrec"));
	spill(target, "victim", 6);
	assert_int_equal(symlink(target, link), 0);
	assert_null(bt_rec_open(link, true, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "symbolic link"));
	assert_null(bt_rec_open(link, false, NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "symbolic link"));
	buf = slurp(target, &len);
	assert_string_equal(buf, "victim");
	free(buf);
}

static void test_write_error(void **state)
{
	char err[ERRLEN] = "";

	(void)state;
	if (access("/dev/full", W_OK))
		skip();
	assert_null(bt_rec_open("/dev/full", true, &test_info, err, sizeof(err)));
	assert_string_equal(err, "/dev/full: write failed: No space left on device");
}

static void test_to_dev_null(void **state)
{
	struct bt_rec_writer *w;
	char err[ERRLEN] = "";
	struct bt_model m;

	(void)state;
	build_small(&m, 1);
	w = bt_rec_open("/dev/null", true, NULL, err, sizeof(err));
	assert_non_null(w);
	assert_int_equal(bt_rec_write_model(w, &m, err, sizeof(err)), 0);
	/* Nothing to sync on a device: not an error. */
	assert_int_equal(bt_rec_close(w, err, sizeof(err)), 0);
	bt_model_free(&m);
}

/* ---- the committed version 1 file ----------------------------------- */

static void test_fixture_v1(void **state)
{
	struct bt_rec_status st;
	struct bt_rec_info info;
	struct bt_model want, m;
	char err[ERRLEN] = "";
	char *json, *golden;
	size_t len;

	(void)state;
	build_full(&want);
	bt_model_init(&m);
	if (bt_rec_read(FIXTURE, &m, &info, &st, err, sizeof(err)))
		fail_msg("%s", err);
	assert_false(st.truncated);
	assert_int_equal(st.version, 1);
	assert_int_equal(st.snapshots, 2);
	assert_memory_equal(&info, &test_info, sizeof(info));
	assert_models_equal(&want, &m);
	json = render(&m);
	golden = slurp(FIXTURE_JSON, &len);
	/* The format is fine (above); this is the exporter, changed on purpose or not. */
	if (strcmp(json, golden))
		fail_msg("the JSON export of %s differs from %s. If the exporter changed on "
			 "purpose: cd tests/unit && "
			 "BT_REC_WRITE_FIXTURES=1 ../../build/tests/test_record",
			 FIXTURE, FIXTURE_JSON);
	free(json);
	free(golden);
	bt_model_free(&want);
	bt_model_free(&m);
}

/* ---- fixtures and fuzz seeds ---------------------------------------- */

/* A seed of the fuzzer's second mode: 'S', then (u32 type, u32 len, payload)... */
static void write_structured_seed(const char *from, const char *to)
{
	struct bt_recf_reader r;
	struct bt_recf_block blk;
	uint32_t version, flags;
	char err[ERRLEN];
	size_t len;
	void *buf = slurp(from, &len);
	FILE *f = fopen(to, "wb");

	assert_non_null(f);
	fputc('S', f);
	bt_recf_reader_mem(&r, buf, len, from);
	assert_int_equal(bt_recf_read_header(&r, &version, &flags, err, sizeof(err)), 0);
	while (bt_recf_next(&r, &blk, err, sizeof(err)) == BT_RECF_BLOCK) {
		uint32_t h[2] = { htole32(blk.type), htole32(blk.len) };

		fwrite(h, 1, sizeof(h), f);
		fwrite(blk.data, 1, blk.len, f);
	}
	assert_int_equal(fclose(f), 0);
	bt_recf_reader_free(&r);
	free(buf);
}

static void write_fixtures(void)
{
	struct bt_model full, small, small2, empty;
	const struct bt_model *two[] = { &small, &full };
	const struct bt_model *one[] = { &small };
	const struct bt_model *none[] = { &empty };
	const struct bt_model *both[] = { &small, &small2 };
	struct stat st;
	size_t len;
	char *buf, *json;

	build_full(&full);
	build_small(&small, 1);
	build_small(&small2, 2);
	bt_model_init(&empty);
	if (stat(FIXTURE, &st))
		write_models(FIXTURE, two, 2, NULL);
	json = render(&full);
	spill(FIXTURE_JSON, json, strlen(json));
	free(json);

	mkdir("../fuzz/corpus", 0755);
	mkdir(CORPUS_DIR, 0755);
	write_models(CORPUS_DIR "/small.btrec", one, 1, NULL);
	write_models(CORPUS_DIR "/empty-model.btrec", none, 1, NULL);
	write_models(CORPUS_DIR "/two-snapshots.btrec", both, 2, NULL);
	buf = slurp(FIXTURE, &len);
	spill(CORPUS_DIR "/full.btrec", buf, len);
	/* Cut inside the last snapshot. */
	spill(CORPUS_DIR "/truncated.btrec", buf, len * 3 / 4);
	free(buf);
	write_structured_seed(CORPUS_DIR "/small.btrec", CORPUS_DIR "/small.blocks");
	write_structured_seed(FIXTURE, CORPUS_DIR "/full.blocks");
	bt_model_free(&full);
	bt_model_free(&small);
	bt_model_free(&small2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_roundtrip_file),
		T(test_roundtrip_mem),
		T(test_empty_model),
		T(test_big_model_spans_blocks),
		T(test_second_snapshot_wins),
		cmocka_unit_test(test_info_init),
		T(test_cut_at_every_length),
		T(test_bit_flips),
		T(test_kill9_keeps_snapshot),
		T(test_missing_file),
		T(test_empty_file),
		T(test_directory),
		T(test_wrong_magic),
		cmocka_unit_test(test_newer_version),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_first_block_not_header),
		cmocka_unit_test(test_checksum_mismatch),
		cmocka_unit_test(test_oversized_block),
		cmocka_unit_test(test_decompression_bomb),
		cmocka_unit_test(test_garbage_payloads),
		cmocka_unit_test(test_repeated_row_summed),
		cmocka_unit_test(test_newer_writer_readable),
		cmocka_unit_test(test_critical_unknown_refused),
		T(test_create_mode_0600),
		T(test_exists_without_force),
		T(test_symlink_refused),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_to_dev_null),
		cmocka_unit_test(test_fixture_v1),
	};

	if (getenv("BT_REC_WRITE_FIXTURES"))
		write_fixtures();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
