// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Recordings: round trips through a file and memory (every field of the
 * model, and every exporter's output byte for byte), snapshots, files cut
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
#include "discover/procscan.h"
#include "record/recfile.h"
#include "record/record.h"
#include "export/report.h"
#include "testutil.h"

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
	struct bt_proc *p = bt_model_new_proc(m, pid);

	assert_non_null(p);
	p->start_ns = start_ns;
	p->target = true;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return p;
}

static void add(struct bt_model *m, uint32_t pid, unsigned int kind, unsigned int dir,
		uint64_t chan, uint64_t peer, const struct bt_stats *st,
		const struct bt_chan_info *info)
{
	/* As a trace without --stacks keys its rows. */
	struct bt_key k = { .tgid = pid, .kind = kind, .dir = dir, .chan = chan, .peer = peer,
			    .ustack = BT_STACK_NONE, .kstack = BT_STACK_NONE };

	assert_non_null(bt_model_add(m, &k, st, info));
}

/* The row (pid's newest process, kind, dir, chan) as --stacks keyed it, and its stack row. */
static void stack_row(struct bt_model *m, uint32_t pid, unsigned int kind, unsigned int dir,
		      uint64_t chan, int32_t ustack, int32_t kstack, uint64_t ucaller,
		      uint64_t calls)
{
	struct bt_proc *p = bt_model_find(m, pid);
	struct bt_stats st = { .calls = calls, .bytes = calls * 100, .errors = calls / 3,
			       .blocked_ns = calls * 1000 };

	assert_non_null(p);
	for (size_t i = 0; i < p->nrows; i++) {
		struct bt_key *k = &p->rows[i].key;

		if (k->kind == kind && k->dir == dir && k->chan == chan) {
			struct bt_key sk = *k;

			/* The row keeps the first stack's key, as bt_model_add does. */
			if (k->ustack == BT_STACK_NONE) {
				k->ustack = ustack;
				k->kstack = kstack;
				k->ucaller = ucaller;
			}
			sk.ustack = ustack;
			sk.kstack = kstack;
			sk.ucaller = ucaller;
			assert_int_equal(bt_model_add_stackrow(m, &sk, &st), 0);
			return;
		}
	}
	fail_msg("no row %u/%u/%llu of pid %u", kind, dir, (unsigned long long)chan, pid);
}

/* wakee, blocked in kind/dir on chan at stack wus, woken by waker at stack rus. */
static void wakestack(struct bt_model *m, uint32_t wakee, uint32_t waker, unsigned int kind,
		      unsigned int dir, uint64_t chan, int32_t wus, uint64_t wcaller, int32_t rus,
		      uint64_t rcaller, uint64_t count)
{
	struct bt_wakestack_key k = {
		.wakee = wakee, .waker = waker, .kind = kind, .dir = dir, .chan = chan,
		.wakee_ustack = wus, .wakee_ucaller = wcaller, .waker_ustack = rus,
		.waker_ucaller = rcaller,
	};
	struct bt_wakestack_val v = { .count = count, .blocked_ns = count * 1500 };

	assert_int_equal(bt_model_add_wakestack(m, &k, &v), 0);
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

/* Every kind of row, a dead process, an unnamed one, and a reused pid. */
static void build_full(struct bt_model *m)
{
	struct bt_chan_info tcp4 = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000,
					"10.1.2.3", 5000);
	struct bt_chan_info tcp6 = tu_inet(BT_KIND_TCP, AF_INET6, "::1", 40001, "2001:db8::1", 443);
	struct bt_chan_info udp4a = tu_inet(BT_KIND_UDP, AF_INET, "0.0.0.0", 5353,
					 "224.0.0.251", 5353);
	struct bt_chan_info udp4b = tu_inet(BT_KIND_UDP, AF_INET, "0.0.0.0", 5353,
					 "192.168.1.9", 9999);
	struct bt_chan_info udp6 = tu_inet(BT_KIND_UDP, AF_INET6, "fe80::1", 546, "ff02::1:2", 547);
	struct bt_chan_info us = tu_unix(BT_KIND_UNIX_STREAM, 7002, "/run/app.sock");
	struct bt_chan_info ud = tu_unix(BT_KIND_UNIX_DGRAM, 0, "@journal");
	struct bt_chan_info longpath;
	struct bt_stats wake = stats(3, 1), big = stats(5, 2);
	struct bt_proc *p;

	/* A path that fills the field, cut as the kernel cuts it. */
	longpath = tu_unix(BT_KIND_UNIX_STREAM, 8002, "");
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

/* Small, but with one of everything the format carries. */
static void build_small(struct bt_model *m, uint64_t calls)
{
	struct bt_chan_info us = tu_unix(BT_KIND_UNIX_STREAM, 42, "/tmp/s");
	struct bt_stats pipe = { .calls = calls, .bytes = 10 };
	struct bt_proc *p;

	bt_model_init(m);
	p = new_proc(m, 7, "a", 1);
	snprintf(p->exe, sizeof(p->exe), "/bin/a");
	add(m, 7, BT_KIND_PIPE, BT_DIR_SEND, 1, 0, &pipe, NULL);
	stack_row(m, 7, BT_KIND_PIPE, BT_DIR_SEND, 1, 3, 4, 0x401000 + calls, calls);
	p = new_proc(m, 8, "b", 2);
	p->exited = true;
	p->harvested = true;
	p->hop = 1;
	add(m, 8, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 41, 0, CALLS(calls), &us);
	p = new_proc(m, 9, "c", 3);
	p->target = false;
	p->hop = 2;
	snprintf(p->exe, sizeof(p->exe), "/usr/bin/c");
	tu_wake(m, 7, 8, BT_KIND_PIPE, BT_DIR_SEND, 1, calls);
	tu_holder(m, 1, 9, BT_FD_PIPE, BT_END_READ);
	tu_sock_unix(m, 41, 42);
	tu_episode(m, 8, 8, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 41, 100, 150, 200 + calls, 7, 7);
	m->chain_mode = true;
	assert_int_equal(bt_model_add_stack(m, 7, 3, 0x401000 + calls, "main;write"), 0);
	assert_int_equal(bt_model_add_stack(m, 0, 4, 0, "entry_SYSCALL_64;ksys_write"), 0);
	wakestack(m, 8, 7, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 41, 5, 0, 3, 0x401000 + calls, calls);
	assert_int_equal(bt_model_add_stack(m, 8, 5, 0, "main;read"), 0);
	m->stack_mode = true;
	m->episodes_over = calls;
	m->duration_ns = calls * 1000;
	m->lost[0] = calls;
	m->lost[BT_LOSS_MAX - 1] = calls;
}

#define US 1000ull
#define MS 1000000ull

/*
 * build_full, and everything version 1 first lacked: exe, target, hop,
 * harvested, stack keys, wakes, /proc and sock_diag facts, a three-tier
 * chain of episodes, stack rows with their resolved stacks, every loss.
 */
static void build_all(struct bt_model *m)
{
	struct bt_chan_info fe = tu_unix(BT_KIND_UNIX_STREAM, 12, "/tmp/mid.sock");
	struct bt_chan_info mid = tu_unix(BT_KIND_UNIX_STREAM, 11, "/tmp/mid.sock");
	struct bt_chan_info mt = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 40000,
					 "127.0.0.1", 7000);
	struct bt_chan_info bet = tu_inet(BT_KIND_TCP, AF_INET, "127.0.0.1", 7000,
					  "127.0.0.1", 40000);
	struct bt_stats req = tu_stats(1, 100, 0), fe_wait = tu_stats(1, 10, 8500 * US);
	struct bt_stats mid_wait = tu_stats(2, 20, 5600 * US);
	char *big = malloc(6000);
	struct bt_proc *p;

	build_full(m);
	/* The first pid 1000 (sorted by start time) lived on; the second exited and was harvested. */
	snprintf(m->procs[0].exe, sizeof(m->procs[0].exe), "/usr/sbin/server");
	p = bt_model_find(m, 1000);
	p->harvested = true;
	snprintf(p->exe, sizeof(p->exe), "/usr/sbin/server2");
	p = bt_model_find(m, 1002);
	p->hop = 1;
	p->untimed = true;	/* counted before it was followed */
	/* A far end known only from /proc: not traced, no rows. */
	p = new_proc(m, 1003, "far", 333);
	p->target = false;
	p->hop = 2;
	memset(p->exe, 'e', sizeof(p->exe) - 1);
	p->exe[0] = '/';

	/* frontend -> middle (unix) -> backend (tcp), as test_chains_report builds it. */
	new_proc(m, 100, "frontend", 10);
	add(m, 100, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 11, 0, &req, &fe);
	add(m, 100, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 11, 0, &fe_wait, &fe);
	new_proc(m, 200, "middle", 20);
	add(m, 200, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 12, 0, &req, &mid);
	add(m, 200, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 12, 0, &req, &mid);
	add(m, 200, BT_KIND_TCP, BT_DIR_SEND, 21, 0, &req, &mt);
	add(m, 200, BT_KIND_TCP, BT_DIR_RECV, 21, 0, &mid_wait, &mt);
	new_proc(m, 300, "backend", 30);
	/* The kernel's view of the connection: roles, and the far end it named. */
	mt.role = BT_ROLE_CLIENT;
	mt.peer_tgid = 300;
	/* The censuses: opened during the trace and still open at its end. */
	mt.conn = BT_CONN_NEW | BT_CONN_ALIVE;
	mt.netns = 4026531840u;
	bet.role = BT_ROLE_SERVER;
	add(m, 200, BT_KIND_TCP, BT_DIR_SEND, 22, 0, &req, &mt);
	bt_model_find(m, 300)->ppid = 1;
	bt_model_find(m, 300)->child = true;
	add(m, 300, BT_KIND_TCP, BT_DIR_RECV, 31, 0, &req, &bet);
	add(m, 300, BT_KIND_TCP, BT_DIR_SEND, 31, 0, &req, &bet);
	tu_episode(m, 100, 100, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 11, 1 * MS, 9 * MS, 9500 * US,
		200, 200);
	tu_episode(m, 200, 200, BT_KIND_TCP, BT_DIR_RECV, 21, 2 * MS, 4500 * US, 4800 * US,
		   300, 301);
	tu_episode(m, 200, 200, BT_KIND_TCP, BT_DIR_RECV, 21, 5 * MS, 7500 * US, 7800 * US, 0, 0);
	tu_episode(m, 1001, 1005, BT_KIND_FUTEX, BT_DIR_WAIT, FUTEX_ADDR, 12 * MS, 0, 15 * MS,
		   0, 0);
	m->chain_mode = true;
	m->episodes_over = 3;

	tu_wake(m, 200, 100, BT_KIND_UNIX_STREAM, BT_DIR_SEND, 12, 1);
	tu_wake(m, 300, 200, BT_KIND_TCP, BT_DIR_SEND, 31, 2);
	tu_wake(m, 1001, 1000, BT_KIND_FUTEX, BT_DIR_WAKE, FUTEX_ADDR, 7);
	{
		/* The wake on FUTEX_ADDR ended 1000's wait on its own mapping of the word. */
		struct bt_futex_link l = { .key = { .waker = 1001, .wakee = 1000,
						    .waker_addr = FUTEX_ADDR,
						    .wakee_addr = FUTEX_ADDR + 0x1000 },
					   .count = 7 };

		assert_int_equal(bt_model_add_futex_link(m, &l), 0);
	}
	tu_holder(m, 9001, 1000, BT_FD_PIPE, BT_END_WRITE);
	tu_holder(m, 9001, 1003, BT_FD_PIPE, BT_END_READ);
	tu_holder(m, 7002, 1003, BT_FD_SOCKET, 0);
	tu_holder(m, 12, 200, BT_FD_SOCKET, 0);
	tu_sock_unix(m, 7001, 7002);
	tu_sock_unix(m, 7002, 7001);
	tu_sock_inet(m, 5001, IPPROTO_TCP, AF_INET, "127.0.0.1", 40000, "10.1.2.3", 5000);
	tu_sock_inet(m, 6001, IPPROTO_UDP, AF_INET6, "fe80::1", 546, "::", 0);

	/* Two user stacks into one row, a lost one, a stack nobody resolved. */
	stack_row(m, 1000, BT_KIND_PIPE, BT_DIR_SEND, 9100, 5, 6, 0x55550000abcdull, 4);
	stack_row(m, 1000, BT_KIND_PIPE, BT_DIR_SEND, 9100, 7, 6, 0, 1);
	stack_row(m, 200, BT_KIND_TCP, BT_DIR_SEND, 21, BT_STACK_LOST, 8, 0, 1);
	stack_row(m, 100, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 11, 9, 99, 0x401234, 1);
	assert_non_null(big);
	/* 37 frames of 159 bytes: a deep stack of long C++ names. */
	for (size_t i = 0; i < 5999; i++)
		big[i] = i % 160 == 159 ? ';' : 'a' + i % 26;
	big[5999] = 0;
	assert_int_equal(bt_model_add_stack(m, 1000, 5, 0x55550000abcdull,
					    "main;serve;write_all"), 0);
	assert_int_equal(bt_model_add_stack(m, 1000, 7, 0, big), 0);
	assert_int_equal(bt_model_add_stack(m, 0, 6, 0,
					    "entry_SYSCALL_64;do_syscall_64;ksys_write"), 0);
	assert_int_equal(bt_model_add_stack(m, 200, BT_STACK_LOST, 0, "[lost]"), 0);
	assert_int_equal(bt_model_add_stack(m, 0, 8, 0, ""), 0);
	assert_int_equal(bt_model_add_stack(m, 100, 9, 0x401234,
					    "main;client_call;recv_reply"), 0);
	/* Who woke the blocked receives, by stack; one waker stack nobody resolved. */
	wakestack(m, 100, 200, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 11, 9, 0x401234, 10, 0, 1);
	wakestack(m, 200, 300, BT_KIND_TCP, BT_DIR_RECV, 21, BT_STACK_LOST, 0, 11, 0x7000, 2);
	wakestack(m, 200, 300, BT_KIND_TCP, BT_DIR_RECV, 21, BT_STACK_LOST, 0, 12, 0, 3);
	assert_int_equal(bt_model_add_stack(m, 200, 10, 0, "main;handle;reply"), 0);
	assert_int_equal(bt_model_add_stack(m, 300, 11, 0x7000, "main;serve;send_answer"), 0);
	m->stack_mode = true;
	for (unsigned int l = 0; l < BT_LOSS_MAX; l++)
		m->lost[l] = l * 13 + 2;
	m->duration_ns = 17 * MS;
	/* A live trace's own cost: every value its own. */
	m->self = (struct bt_self_cost){
		.measured = true, .load_cpu_ns = 1, .cpu_ns = 2, .max_rss_kib = 3,
		.records = { 4, 5, 6, 7 }, .record_bytes = 8, .bpf_stats = true, .bpf_ns = 10,
		.bpf_runs = 11, .chain_cpu_ns = 12,
	};
	free(big);
	bt_model_sort(m);
}

static char *export(const struct bt_exporter *e, const struct bt_model *m, int *ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	*ret = bt_report_write(f, e, m);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/*
 * Every exporter prints the two models alike, byte for byte. stderr is
 * silenced meanwhile: folded and svg say there on a model without stacks.
 */
static void assert_exports_equal(const struct bt_model *a, const struct bt_model *b)
{
	char names[256], *save = NULL, *out[16][2];
	const char *name[16];
	int ret[16][2], n = 0, err;

	snprintf(names, sizeof(names), "%s", bt_report_format_names());
	for (char *s = strtok_r(names, "|", &save); s; s = strtok_r(NULL, "|", &save)) {
		assert_true(n < 16);
		assert_non_null(bt_report_find(s));
		name[n++] = s;
	}
	assert_true(n >= 6);
	fflush(stderr);
	err = dup(2);
	assert_true(err >= 0);
	assert_true(freopen("/dev/null", "w", stderr) != NULL);
	for (int i = 0; i < n; i++) {
		out[i][0] = export(bt_report_find(name[i]), a, &ret[i][0]);
		out[i][1] = export(bt_report_find(name[i]), b, &ret[i][1]);
	}
	fflush(stderr);
	assert_int_equal(dup2(err, 2), 2);
	close(err);
	for (int i = 0; i < n; i++) {
		if (ret[i][0] || ret[i][1])
			fail_msg("the %s export failed", name[i]);
		if (strcmp(out[i][0], out[i][1]))
			fail_msg("the %s export differs:\n%s\n---\n%s", name[i], out[i][0],
				 out[i][1]);
		free(out[i][0]);
		free(out[i][1]);
	}
}

static void assert_json_equal(const struct bt_model *a, const struct bt_model *b)
{
	char *ja = tu_render(bt_report_json, a), *jb = tu_render(bt_report_json, b);

	assert_string_equal(ja, jb);
	free(ja);
	free(jb);
}

/*
 * A field two models must agree on: its bytes (an integer or an array),
 * or (str) the string the char * there points to.
 */
struct field {
	const char *name;
	size_t off, len;
	bool str;
};

#define FIELD(type, f)	{ #f, offsetof(type, f), sizeof(((type *)0)->f), false }
#define STR(type, f)	{ #f, offsetof(type, f), sizeof(((type *)0)->f), true }

#define F(f)	FIELD(struct bt_key, f)
static const struct field key_fields[] = {
	F(tgid), F(kind), F(dir), F(chan), F(peer), F(ustack), F(kstack), F(ucaller), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_chan_info, f)
static const struct field info_fields[] = {
	F(kind), F(family), F(lport), F(rport), F(role), F(laddr), F(raddr), F(peer_ino), F(path),
	F(peer_tgid), F(conn), F(netns), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_wake, f)
static const struct field wake_fields[] = {
	F(key.waker), F(key.wakee), F(key.kind), F(key.dir), F(key.chan), F(key.peer), F(count),
	{ 0 },
};
#undef F

#define F(f)	FIELD(struct bt_holder, f)
static const struct field holder_fields[] = { F(ino), F(pid), F(type), F(mode), { 0 } };
#undef F

#define F(f)	FIELD(struct bt_sockfact, f)
static const struct field sock_fields[] = {
	F(ino), F(peer_ino), F(proto), F(family), F(lport), F(rport), F(laddr), F(raddr), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_episode_ev, f)
static const struct field episode_fields[] = {
	F(pid), F(tid), F(kind), F(dir), F(waker_pid), F(chan), F(peer), F(start_ns), F(end_ns),
	F(wake_ns), F(waker_tid), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_stackrow, f)
static const struct field stackrow_fields[] = {
	F(key.tgid), F(key.kind), F(key.dir), F(key.chan), F(key.peer), F(key.ustack),
	F(key.kstack), F(key.ucaller), F(calls), F(bytes), F(errors), F(blocked_ns), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_wakestack, f)
static const struct field wakestack_fields[] = {
	F(key.wakee), F(key.waker), F(key.kind), F(key.dir), F(key.wakee_ustack), F(key.chan),
	F(key.peer), F(key.wakee_ucaller), F(key.waker_ustack), F(key.waker_ucaller),
	F(val.count), F(val.blocked_ns), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_futex_link, f)
static const struct field futexlink_fields[] = {
	F(key.waker), F(key.wakee), F(key.waker_addr), F(key.wakee_addr), F(count), { 0 },
};
#undef F

#define F(f)	FIELD(struct bt_stack, f)
static const struct field stack_fields[] = {
	F(pid), F(id), F(caller), STR(struct bt_stack, folded), { 0 },
};
#undef F

/* The fields of a and b agree; what and i say where, when not. */
static void assert_elem_equal(const char *what, size_t i, const struct field *f, const void *a,
			      const void *b)
{
	for (; f->name; f++) {
		const char *x = (const char *)a + f->off, *y = (const char *)b + f->off;
		const char *sx, *sy;

		if (!f->str) {
			if (memcmp(x, y, f->len))
				fail_msg("%s %zu: the %s differs", what, i, f->name);
			continue;
		}
		memcpy(&sx, x, sizeof(sx));
		memcpy(&sy, y, sizeof(sy));
		assert_non_null(sx);
		assert_non_null(sy);
		if (strcmp(sx, sy))
			fail_msg("%s %zu: the %s \"%s\" != \"%s\"", what, i, f->name, sx, sy);
	}
}

/* A list of a model: its name, where the model keeps it, its fields. */
struct list {
	const char *what;
	size_t arr, n, size;
	const struct field *fields;
};

#define LIST(arr_, fields_) \
	{ #arr_, offsetof(struct bt_model, arr_), offsetof(struct bt_model, n##arr_), \
	  sizeof(*((struct bt_model *)0)->arr_), fields_ }

static const struct list lists[] = {
	LIST(wakes, wake_fields), LIST(holders, holder_fields), LIST(socks, sock_fields),
	LIST(episodes, episode_fields), LIST(stackrows, stackrow_fields),
	LIST(wakestacks, wakestack_fields), LIST(stacks, stack_fields),
	LIST(futexlinks, futexlink_fields),
};

static void assert_lists_equal(const struct bt_model *a, const struct bt_model *b)
{
	assert_int_equal(a->chain_mode, b->chain_mode);
	assert_int_equal(a->episodes_over, b->episodes_over);
	assert_int_equal(a->stack_mode, b->stack_mode);
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		const struct list *li = &lists[l];
		const char *x, *y;
		size_t n, nb;

		memcpy(&n, (const char *)a + li->n, sizeof(n));
		memcpy(&nb, (const char *)b + li->n, sizeof(nb));
		assert_int_equal(n, nb);
		memcpy(&x, (const char *)a + li->arr, sizeof(x));
		memcpy(&y, (const char *)b + li->arr, sizeof(y));
		for (size_t i = 0; i < n; i++)
			assert_elem_equal(li->what, i, li->fields, x + i * li->size,
					  y + i * li->size);
	}
}

/* Everything the format carries, field by field: more than any exporter prints. */
static void assert_fields_equal(const struct bt_model *a, const struct bt_model *b)
{
	assert_int_equal(a->nprocs, b->nprocs);
	assert_int_equal(a->duration_ns, b->duration_ns);
	assert_memory_equal(a->lost, b->lost, sizeof(a->lost));
	assert_int_equal(a->self.measured, b->self.measured);
	assert_int_equal(a->self.load_cpu_ns, b->self.load_cpu_ns);
	assert_int_equal(a->self.cpu_ns, b->self.cpu_ns);
	assert_int_equal(a->self.max_rss_kib, b->self.max_rss_kib);
	assert_memory_equal(a->self.records, b->self.records, sizeof(a->self.records));
	assert_int_equal(a->self.record_bytes, b->self.record_bytes);
	assert_int_equal(a->self.bpf_stats, b->self.bpf_stats);
	assert_int_equal(a->self.bpf_ns, b->self.bpf_ns);
	assert_int_equal(a->self.bpf_runs, b->self.bpf_runs);
	assert_int_equal(a->self.chain_cpu_ns, b->self.chain_cpu_ns);
	for (size_t i = 0; i < a->nprocs; i++) {
		const struct bt_proc *p = &a->procs[i], *q = &b->procs[i];

		assert_int_equal(p->pid, q->pid);
		assert_int_equal(p->start_ns, q->start_ns);
		assert_string_equal(p->comm, q->comm);
		assert_string_equal(p->exe, q->exe);
		assert_int_equal(p->exited, q->exited);
		assert_int_equal(p->harvested, q->harvested);
		assert_int_equal(p->untimed, q->untimed);
		assert_int_equal(p->target, q->target);
		assert_int_equal(p->hop, q->hop);
		assert_int_equal(p->ppid, q->ppid);
		assert_int_equal(p->child, q->child);
		assert_int_equal(p->exit_code, q->exit_code);
		assert_int_equal(p->nrows, q->nrows);
		for (size_t j = 0; j < p->nrows; j++) {
			const struct bt_row *r = &p->rows[j], *s = &q->rows[j];

			assert_elem_equal("row key", j, key_fields, &r->key, &s->key);
			assert_memory_equal(&r->st, &s->st, sizeof(r->st));
			assert_int_equal(r->has_info, s->has_info);
			assert_elem_equal("row channel", j, info_fields, &r->info, &s->info);
			assert_string_equal(r->channel, s->channel);
		}
	}
	assert_lists_equal(a, b);
}

/* Field by field, and what every exporter makes of them, byte for byte. */
static void assert_models_equal(const struct bt_model *a, const struct bt_model *b)
{
	assert_fields_equal(a, b);
	assert_exports_equal(a, b);
}

/* ---- files ---------------------------------------------------------- */

static int setup(void **state)
{
	return tu_tmp_setup(state, "/tmp/bt-record-XXXXXX");
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

/* A writer of path for the tests, or the test fails. */
static struct bt_rec_writer *open_writer(const char *path)
{
	char err[ERRLEN] = "";
	struct bt_rec_writer *w = bt_rec_open(path, true, &test_info, err, sizeof(err));

	if (!w)
		fail_msg("%s", err);
	return w;
}

/* path read into r (initialized here), or the test fails. */
static void read_into(const char *path, struct bt_model *r, struct bt_rec_status *st)
{
	char err[ERRLEN] = "";

	bt_model_init(r);
	if (bt_rec_read(path, r, NULL, st, err, sizeof(err)))
		fail_msg("%s", err);
}

static void write_models(const char *path, const struct bt_model *const *ms, int n,
			 off_t *sizes)
{
	char err[ERRLEN] = "";
	struct bt_rec_writer *w = open_writer(path);

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

/* Reading the file at path must fail with "path: why". */
static void expect_error_file(const char *path, const char *why)
{
	struct bt_model m;
	char err[ERRLEN], want[ERRLEN];

	bt_model_init(&m);
	assert_int_equal(bt_rec_read(path, &m, NULL, NULL, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: %s", path, why);
	assert_string_equal(err, want);
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

/* Writes b as a block and empties it. */
static void raw_take(struct raw *r, uint32_t type, struct bt_recf_buf *b)
{
	raw_block(r, type, b);
	bt_recf_buf_free(b);
}

static void raw_info(struct raw *r)
{
	struct bt_recf_buf b = { 0 };

	for (int i = 0; i < 3; i++)
		bt_recf_put_str(&b, "x", 1);
	bt_recf_put_u64(&b, 0);
	bt_recf_put_str(&b, "", 0);
	raw_take(r, BT_REC_HEADER_INFO, &b);
}

/* A version 1 recording and its header block. */
static void raw_start(struct raw *r)
{
	raw_open(r, 1, 0);
	raw_info(r);
}

static void raw_u64_block(struct raw *r, uint32_t type, uint64_t v)
{
	struct bt_recf_buf b = { 0 };

	bt_recf_put_u64(&b, v);
	raw_take(r, type, &b);
}

/* A record of a list: its u32 length, patched by rec_end. */
static size_t rec_begin(struct bt_recf_buf *b)
{
	size_t at = b->len;

	bt_recf_put_u32(b, 0);
	return at;
}

static void rec_end(struct bt_recf_buf *b, size_t at)
{
	bt_recf_patch_u32(b, at, b->len - at - 4);
}

/* The fields of a process record as version 1 first wrote them: no exe, flags or hop. */
static void put_v1_proc_fields(struct bt_recf_buf *b, uint32_t pid, const char *comm)
{
	bt_recf_put_u32(b, pid);
	bt_recf_put_u64(b, 0);
	bt_recf_put_u8(b, 0);
	bt_recf_put_u32(b, 0);
	bt_recf_put_str(b, comm, 16);
}

static void put_v1_proc(struct bt_recf_buf *b, uint32_t pid, const char *comm)
{
	size_t at = rec_begin(b);

	put_v1_proc_fields(b, pid, comm);
	rec_end(b, at);
}

/* A PROCESS block of that one process. */
static void raw_v1_proc(struct raw *r, uint32_t pid, const char *comm)
{
	struct bt_recf_buf b = { 0 };

	bt_recf_put_u32(&b, 1);
	put_v1_proc(&b, pid, comm);
	raw_take(r, BT_REC_PROCESS, &b);
}

static void raw_close(struct raw *r)
{
	assert_int_equal(fclose(r->f), 0);
}

/* Ends r and reads it into m: it must read cleanly. */
static void read_raw(struct raw *r, struct bt_model *m, struct bt_rec_status *st)
{
	char err[ERRLEN] = "";

	raw_close(r);
	bt_model_init(m);
	if (bt_rec_read_mem(r->buf, r->len, "rec", m, NULL, st, err, sizeof(err)))
		fail_msg("%s", err);
}

/* Ends r, which must fail to read with exactly msg, and frees it. */
static void raw_expect_error(struct raw *r, const char *msg)
{
	raw_close(r);
	expect_error_mem(r->buf, r->len, msg);
	free(r->buf);
}

/* ---- round trips ---------------------------------------------------- */

static void test_roundtrip_file(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "full.btrec");
	struct bt_rec_status st;
	struct bt_rec_info info;
	struct bt_model a, b;
	char err[ERRLEN] = "";

	build_all(&a);
	/* A choice of the report, not of the trace: not recorded. */
	a.weight = BT_WEIGHT_BYTES;
	write_model(path, &a);
	bt_model_init(&b);
	if (bt_rec_read(path, &b, &info, &st, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(b.weight, BT_WEIGHT_CALLS);
	b.weight = a.weight;
	assert_models_equal(&a, &b);
	assert_false(st.truncated);
	assert_false(st.partial);
	assert_int_equal(st.snapshots, 1);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.version, BT_RECF_VERSION);
	assert_int_equal(st.bytes, file_size(path));
	assert_memory_equal(&info, &test_info, sizeof(info));
	bt_model_free(&a);
	bt_model_free(&b);
}

static void test_roundtrip_mem(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "full.btrec");
	struct bt_rec_status st;
	struct bt_model a, b;
	char err[ERRLEN] = "";
	size_t len;
	void *buf;

	build_all(&a);
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
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "empty-model.btrec");
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
#define PUSH(m, arr, n, cap) \
	(assert_true(bt_grow((void **)&(m)->arr, &(m)->cap, (m)->n + 1, sizeof(*(m)->arr))), \
	 &(m)->arr[(m)->n++])

/*
 * n distinct entries in each list, straight into the arrays (the model's
 * adders search linearly): a reader that did too would take hours.
 */
static void big_lists(struct bt_model *m, uint32_t n)
{
	char folded[64];

	for (uint32_t i = 0; i < n; i++) {
		struct bt_wake *w = PUSH(m, wakes, nwakes, capwakes);
		struct bt_holder *h = PUSH(m, holders, nholders, capholders);
		struct bt_sockfact *s = PUSH(m, socks, nsocks, capsocks);
		struct bt_episode_ev *e = PUSH(m, episodes, nepisodes, capepisodes);
		struct bt_stackrow *r = PUSH(m, stackrows, nstackrows, capstackrows);
		struct bt_stack *st = PUSH(m, stacks, nstacks, capstacks);
		struct bt_wakestack *ws = PUSH(m, wakestacks, nwakestacks, capwakestacks);

		memset(w, 0, sizeof(*w));
		w->key.waker = 1 + i % 3;
		w->key.wakee = i;
		w->key.kind = BT_KIND_FUTEX;
		w->key.chan = 0x1000 + 8 * i;
		w->count = i + 1;
		*h = (struct bt_holder){ .ino = i / 2, .pid = i, .type = BT_FD_PIPE,
					 .mode = 1 + i % 3 };
		*s = (struct bt_sockfact){ .ino = 1000000 + i, .peer_ino = i, .family = AF_UNIX };
		*e = (struct bt_episode_ev){ .pid = 1 + i % 3, .tid = i, .kind = BT_KIND_FUTEX,
					     .dir = BT_DIR_WAIT, .chan = 0x1000,
					     .start_ns = 10ull * i, .end_ns = 10ull * i + 5 };
		memset(r, 0, sizeof(*r));
		r->key.tgid = 1 + i % 3;
		r->key.kind = BT_KIND_FUTEX;
		r->key.dir = BT_DIR_WAIT;
		r->key.chan = 0x1000;
		r->key.ustack = i;
		r->key.kstack = i % 7;
		r->key.ucaller = i * 16ull;
		r->calls = i;
		snprintf(folded, sizeof(folded), "main;f%u;g%u", i, i % 100);
		*st = (struct bt_stack){ .pid = 1 + i % 3, .id = i, .caller = i * 16ull,
					 .folded = strdup(folded) };
		assert_non_null(st->folded);
		memset(ws, 0, sizeof(*ws));
		ws->key.wakee = 1 + i % 3;
		ws->key.waker = i;
		ws->key.wakee_ustack = i;
		ws->key.waker_ustack = i / 2;
		ws->val.count = i;
	}
}

static void test_big_model_spans_blocks(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "big.btrec");
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
	big_lists(&a, 100000);
	write_model(path, &a);
	bt_model_init(&b);
	assert_int_equal(bt_rec_read(path, &b, NULL, NULL, err, sizeof(err)), 0);
	/* The exporters' own cost on this many is not the format's business: JSON only. */
	assert_fields_equal(&a, &b);
	assert_json_equal(&a, &b);
	bt_model_free(&a);
	bt_model_free(&b);
}

/*
 * A small file whose one compressed block claims a million processes: it
 * is refused at the records its size can honestly hold (before: read in
 * full, hundreds of bytes of model per record).
 */
static void test_crafted_million_records(void **state)
{
	enum { CLAIMED = 1000000 };
	struct bt_recf_buf b = { 0 };
	struct raw r;
	char msg[ERRLEN];
	size_t at;

	(void)state;
	raw_start(&r);
	bt_recf_put_u32(&b, CLAIMED);
	for (uint32_t i = 0; i < CLAIMED; i++)
		put_v1_proc(&b, 7, "same");
	at = raw_off(&r);
	raw_take(&r, BT_REC_PROCESS, &b);
	raw_close(&r);
	/* About 200 KB: compression did it. 256 times that is below the 64 MiB floor. */
	assert_true(r.len * BT_REC_MODEL_PER_BYTE < (size_t)BT_REC_MIN_MODEL_MIB << 20);
	snprintf(msg, sizeof(msg), "rec: corrupt process block 1 at offset %zu: more records "
		 "than a file of its size can hold (over %u MiB of model: %u times the file, "
		 "%u MiB at least)", at, BT_REC_MIN_MODEL_MIB, BT_REC_MODEL_PER_BYTE,
		 BT_REC_MIN_MODEL_MIB);
	expect_error_mem(r.buf, r.len, msg);
	free(r.buf);
}

/*
 * want's logs (episodes, exchange records) with before's first: what a
 * recording of before then want reads as, each snapshot's records being
 * those that came since the one before.
 */
static void join_logs(struct bt_model *want, const struct bt_model *before)
{
	struct bt_episode_ev *e = calloc(want->nepisodes + before->nepisodes + 1, sizeof(*e));
	struct bt_exchange_ev *x = calloc(want->nexchanges + before->nexchanges + 1, sizeof(*x));

	assert_non_null(e);
	assert_non_null(x);
	if (before->nepisodes)
		memcpy(e, before->episodes, before->nepisodes * sizeof(*e));
	if (want->nepisodes)
		memcpy(e + before->nepisodes, want->episodes, want->nepisodes * sizeof(*e));
	if (before->nexchanges)
		memcpy(x, before->exchanges, before->nexchanges * sizeof(*x));
	if (want->nexchanges)
		memcpy(x + before->nexchanges, want->exchanges, want->nexchanges * sizeof(*x));
	free(want->episodes);
	free(want->exchanges);
	want->episodes = e;
	want->nepisodes += before->nepisodes;
	want->capepisodes = want->nepisodes + 1;
	want->exchanges = x;
	want->nexchanges += before->nexchanges;
	want->capexchanges = want->nexchanges + 1;
}

/* The sets (rows, wakes, ...) are the last snapshot's; the logs add up. */
static void test_second_snapshot_wins(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "two.btrec");
	struct bt_model a, b, r, want;
	const struct bt_model *ms[] = { &a, &b };
	struct bt_rec_status st;
	char err[ERRLEN] = "";

	build_small(&a, 1);
	build_all(&b);
	write_models(path, ms, 2, NULL);
	bt_model_init(&r);
	assert_int_equal(bt_rec_read(path, &r, NULL, &st, err, sizeof(err)), 0);
	build_all(&want);
	join_logs(&want, &a);
	assert_true(want.nepisodes > b.nepisodes);
	assert_models_equal(&want, &r);
	assert_int_equal(st.snapshots, 2);
	bt_model_free(&want);
	/* And the other way round: a smaller last snapshot leaves nothing of a bigger one. */
	ms[0] = &b;
	ms[1] = &a;
	write_models(path, ms, 2, NULL);
	assert_int_equal(bt_rec_read(path, &r, NULL, &st, err, sizeof(err)), 0);
	build_small(&want, 1);
	join_logs(&want, &b);
	assert_models_equal(&want, &r);
	bt_model_free(&want);
	bt_model_free(&a);
	bt_model_free(&b);
	bt_model_free(&r);
}

/* An exchange record, told apart by its request time. */
static void exchange(struct bt_model *m, uint64_t req_ns)
{
	struct bt_exchange_ev x = {
		.pid = 7, .tid = 7, .req_tid = 7, .role = BT_ROLE_CLIENT, .kind = BT_KIND_PIPE,
		.type = BT_XREC_EXCHANGE, .chan = 1, .end_a = 1, .end_b = 2,
		.req_ns = req_ns, .resp_ns = req_ns + 5, .comm = "a",
	};

	assert_int_equal(bt_model_add_exchange(m, &x), 0);
}

static void episode_at(struct bt_model *m, uint64_t start)
{
	tu_episode(m, 8, 8, BT_KIND_UNIX_STREAM, BT_DIR_RECV, 41, start, start + 1, start + 2, 7, 7);
}

/* What take saw of each snapshot, and what it keeps from one to the next. */
struct taken {
	unsigned int calls;
	size_t episodes[4], exchanges[4];
	uint64_t first_episode[4], first_exchange[4], folded_before[4];
};

static void free_counter(struct bt_chain_fold *f)
{
	free(f);
}

static int take_count(struct bt_model *m, void *ctx)
{
	struct taken *t = ctx;
	unsigned int i = t->calls++;

	assert_true(i < 4);
	t->episodes[i] = m->nepisodes;
	t->exchanges[i] = m->nexchanges;
	t->first_episode[i] = m->nepisodes ? m->episodes[0].start_ns : 0;
	t->first_exchange[i] = m->nexchanges ? m->exchanges[0].req_ns : 0;
	t->folded_before[i] = m->episodes_folded;
	/* What a fold keeps (here a count of the snapshots it took) comes back each time. */
	if (!m->fold) {
		m->fold = calloc(1, sizeof(unsigned int));
		assert_non_null(m->fold);
		m->fold_free = free_counter;
	}
	(*(unsigned int *)m->fold)++;
	/* Taken but one of each: the reader drops what take leaves. */
	m->episodes_folded += m->nepisodes ? m->nepisodes - 1 : 0;
	m->nepisodes = m->nepisodes ? 1 : 0;
	return 0;
}

/*
 * Three snapshots as a trace writes them (format 2): each holds the
 * records that came since the one before, and the writer's model lets
 * them go after each. bt_rec_read gives them all, in order, with the
 * last snapshot's sets; bt_rec_read_each gives take each snapshot's own
 * and keeps what take keeps, never holding the recording's records.
 */
static void test_logs_each_snapshot(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "logs.btrec");
	char err[ERRLEN] = "";
	struct bt_rec_writer *w = open_writer(path);
	/* What take sees of the three snapshots (the fourth slot unused). */
	const size_t want_episodes[4] = { 1, 2, 0 }, want_exchanges[4] = { 2, 1, 0 };
	const uint64_t want_first_episode[4] = { 100, 300 }, want_first_exchange[4] = { 1000, 3000 };
	const uint64_t want_folded[4] = { 0, 1, 3 };
	struct taken seen = { 0 };
	struct bt_rec_status st;
	struct bt_model m, r;

	build_small(&m, 1);		/* one episode, at 100 */
	exchange(&m, 1000);
	exchange(&m, 2000);
	assert_int_equal(bt_rec_write_model(w, &m, err, sizeof(err)), 0);
	bt_model_drop_records(&m);
	assert_int_equal(m.nepisodes + m.nexchanges, 0);
	assert_int_equal(m.episodes_folded, 1);
	episode_at(&m, 300);
	episode_at(&m, 400);
	exchange(&m, 3000);
	assert_int_equal(bt_rec_write_model(w, &m, err, sizeof(err)), 0);
	bt_model_drop_records(&m);
	assert_int_equal(bt_rec_write_model(w, &m, err, sizeof(err)), 0);
	assert_int_equal(bt_rec_close(w, err, sizeof(err)), 0);

	read_into(path, &r, &st);
	assert_int_equal(st.version, 2);
	assert_int_equal(st.snapshots, 3);
	assert_int_equal(r.nepisodes, 3);
	assert_int_equal(r.episodes[0].start_ns, 100);
	assert_int_equal(r.episodes[1].start_ns, 300);
	assert_int_equal(r.episodes[2].start_ns, 400);
	assert_int_equal(r.nexchanges, 3);
	assert_int_equal(r.exchanges[0].req_ns, 1000);
	assert_int_equal(r.exchanges[1].req_ns, 2000);
	assert_int_equal(r.exchanges[2].req_ns, 3000);
	assert_int_equal(r.nprocs, m.nprocs);

	if (bt_rec_read_each(path, take_count, &seen, &r, NULL, &st, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(seen.calls, 3);
	assert_memory_equal(seen.episodes, want_episodes, sizeof(want_episodes));
	assert_memory_equal(seen.exchanges, want_exchanges, sizeof(want_exchanges));
	assert_memory_equal(seen.first_episode, want_first_episode, sizeof(want_first_episode));
	assert_memory_equal(seen.first_exchange, want_first_exchange,
			    sizeof(want_first_exchange));
	assert_memory_equal(seen.folded_before, want_folded, sizeof(want_folded));
	/* The last snapshot, with what take kept, and no records. */
	assert_int_equal(r.nepisodes + r.nexchanges, 0);
	assert_int_equal(r.episodes_folded, 3);
	assert_non_null(r.fold);
	assert_int_equal(*(unsigned int *)r.fold, 3);
	assert_int_equal(r.nprocs, m.nprocs);
	bt_model_free(&m);
	bt_model_free(&r);
}

/*
 * A format 1 file's snapshots each held every record so far: read, it
 * gives the last snapshot's, not their sum, and take is not called. The
 * same bytes as format 2 add up.
 */
static void test_v1_logs_are_whole(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "v1-logs.btrec");
	struct bt_model a, b, r;
	const struct bt_model *ms[] = { &a, &b };
	const uint8_t v1[4] = { 1, 0, 0, 0 };
	struct taken seen = { 0 };
	struct bt_rec_status st;
	char err[ERRLEN] = "";
	int fd;

	bt_model_init(&a);
	episode_at(&a, 100);
	exchange(&a, 1000);
	a.chain_mode = true;
	bt_model_init(&b);
	episode_at(&b, 100);
	episode_at(&b, 200);
	exchange(&b, 1000);
	exchange(&b, 2000);
	b.chain_mode = true;
	write_models(path, ms, 2, NULL);
	bt_model_init(&r);
	assert_int_equal(bt_rec_read(path, &r, NULL, &st, err, sizeof(err)), 0);
	assert_int_equal(r.nepisodes, 3);
	assert_int_equal(r.nexchanges, 3);

	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, v1, sizeof(v1), 8), sizeof(v1));
	close(fd);
	assert_int_equal(bt_rec_read(path, &r, NULL, &st, err, sizeof(err)), 0);
	assert_int_equal(st.version, 1);
	assert_int_equal(st.snapshots, 2);
	assert_models_equal(&b, &r);
	assert_int_equal(r.nexchanges, 2);
	assert_int_equal(r.exchanges[1].req_ns, 2000);
	if (bt_rec_read_each(path, take_count, &seen, &r, NULL, &st, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(seen.calls, 0);
	assert_models_equal(&b, &r);
	assert_null(r.fold);
	bt_model_free(&a);
	bt_model_free(&b);
	bt_model_free(&r);
}

/* A tick that brings records, as a tracer's drain does while a snapshot is written. */
static void add_records(void *ctx)
{
	struct bt_model *m = ctx;

	episode_at(m, 900000 + m->nepisodes);
	exchange(m, 900000 + m->nexchanges);
}

/*
 * Records that come while a snapshot is written (its tick) wait for the
 * next: the snapshot holds those there when it began, however the logs
 * moved meanwhile (ASan checks that in make unit-san).
 */
static void test_write_tick(void **state)
{
	enum { N = 30000 };	/* exchanges of a few blocks */
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "tick.btrec");
	char err[ERRLEN] = "";
	struct bt_rec_writer *w = open_writer(path);
	struct bt_rec_status st;
	struct bt_model m, r;

	bt_model_init(&m);
	m.chain_mode = true;
	for (uint64_t i = 0; i < N; i++) {
		exchange(&m, i);
		episode_at(&m, i);
	}
	assert_int_equal(bt_rec_write_model_tick(w, &m, add_records, &m, err, sizeof(err)), 0);
	assert_int_equal(bt_rec_close(w, err, sizeof(err)), 0);
	/* At least a block each for the episodes and the exchanges, a tick after each. */
	assert_true(m.nexchanges >= N + 2);
	assert_int_equal(m.nepisodes, m.nexchanges);
	read_into(path, &r, &st);
	assert_int_equal(r.nexchanges, N);
	assert_int_equal(r.nepisodes, N);
	for (size_t i = 0; i < N; i++) {
		assert_int_equal(r.exchanges[i].req_ns, i);
		assert_int_equal(r.episodes[i].start_ns, i);
	}
	bt_model_free(&m);
	bt_model_free(&r);
}

/*
 * Added up without take, the logs keep the model's cap: what goes over
 * it is counted lost, never silently gone (each snapshot stays within
 * the cap a writer's model has).
 */
static void test_logs_over_cap_lost(void **state)
{
	enum { HALF = BT_EPISODES_MAX / 2 + 1 };
	const char *path = tu_in_dir(*state, "cap.btrec");
	struct bt_rec_writer *w = open_writer(path);
	char err[ERRLEN] = "";
	struct bt_model m = { .chain_mode = true }, r;

	for (int snap = 0; snap < 2; snap++) {
		for (uint64_t i = 0; i < HALF; i++)
			episode_at(&m, snap * HALF + i);
		assert_int_equal(bt_rec_write_model(w, &m, err, sizeof(err)), 0);
		bt_model_drop_records(&m);
	}
	assert_int_equal(bt_rec_close(w, err, sizeof(err)), 0);
	read_into(path, &r, NULL);
	assert_int_equal(r.nepisodes, BT_EPISODES_MAX);
	assert_int_equal(r.episodes[BT_EPISODES_MAX - 1].start_ns, BT_EPISODES_MAX - 1);
	assert_int_equal(r.lost[BT_LOSS_EPISODES], 2 * HALF - BT_EPISODES_MAX);
	bt_model_free(&m);
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
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "cut.btrec");
	struct bt_model a, b, empty, r, ab;
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
	/* The second snapshot read: b with a's records before its own. */
	build_small(&ab, 2);
	join_logs(&ab, &a);
	buf = slurp(path, &len);
	expect_error_mem(buf, 0, "rec: empty file, not a boundtrace recording");
	for (size_t n = 1; n < BT_RECF_HDR_LEN; n++)
		expect_error_mem(buf, n, "rec: truncated file header");
	for (size_t n = BT_RECF_HDR_LEN; n <= len; n++) {
		const struct bt_model *want = n < (size_t)sizes[0] ? &empty :
					      n < (size_t)sizes[1] ? &a : &ab;

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
	bt_model_free(&ab);
	bt_model_free(&r);
}

/*
 * Every bit of a small recording flipped in turn: caught (an error),
 * harmless (a compatible header flag), or a cut that loses the snapshot.
 * Never a different model.
 */
static void test_bit_flips(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "flip.btrec");
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
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "killed.btrec");
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
	struct tu_tmp *t = *state;

	expect_error_file(tu_in_dir(t, "nothing.btrec"), "No such file or directory");
}

static void test_empty_file(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "empty.btrec");

	spill(path, "", 0);
	expect_error_file(path, "empty file, not a boundtrace recording");
}

static void test_directory(void **state)
{
	struct tu_tmp *t = *state;

	expect_error_file(t->dir, "Is a directory");
}

static void test_wrong_magic(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "text.json");
	const char text[] = "{\"version\":1,\"duration_ns\":0}\n";

	spill(path, text, sizeof(text) - 1);
	expect_error_file(path, "not a boundtrace recording");
	/* A short file that is not even a prefix of the magic. */
	expect_error_mem("BTX", 3, "rec: not a boundtrace recording");
}

static void test_newer_version(void **state)
{
	struct raw r;

	(void)state;
	raw_open(&r, 3, 0);
	raw_info(&r);
	raw_expect_error(&r,
			 "rec: recording format version 3 is newer than this boundtrace reads (2); upgrade boundtrace");
	raw_open(&r, 0, 0);
	raw_expect_error(&r, "rec: bad recording format version 0");
}

static void test_flags(void **state)
{
	struct bt_rec_status st;
	struct bt_model m;
	struct raw r;

	(void)state;
	raw_open(&r, 1, 0x00010000);
	raw_expect_error(&r,
			 "rec: recording uses format features this boundtrace does not know (flags 0x00010000); upgrade boundtrace");
	/* A compatible feature is no reason to refuse. */
	raw_open(&r, 1, 0x00000004);
	raw_info(&r);
	raw_u64_block(&r, BT_REC_DURATION, 5);
	read_raw(&r, &m, &st);
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
	raw_expect_error(&r, "rec: corrupt: the first block is not the header");
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
	raw_start(&r);
	off = raw_off(&r);
	raw_frame(&r, 0x77, zlen, sizeof(payload), crc ^ 1, z, zlen);
	snprintf(want, sizeof(want), "rec: corrupt block 1 at offset %zu: checksum mismatch", off);
	raw_expect_error(&r, want);
}

static void test_oversized_block(void **state)
{
	char want[ERRLEN];
	size_t off;
	struct raw r;

	(void)state;
	raw_start(&r);
	off = raw_off(&r);
	raw_frame(&r, BT_REC_ROWS, 1000, BT_RECF_MAX_BLOCK + 1, 0, NULL, 0);
	snprintf(want, sizeof(want),
		 "rec: corrupt block 1 at offset %zu: size 67108865 over the 64 MiB limit", off);
	raw_expect_error(&r, want);
	/* 64 MiB claimed from 10 bytes: deflate cannot do that. */
	raw_start(&r);
	raw_frame(&r, BT_REC_ROWS, 10, BT_RECF_MAX_BLOCK, 0, "0123456789", 10);
	snprintf(want, sizeof(want),
		 "rec: corrupt block 1 at offset %zu: impossible sizes 10 -> 67108864", off);
	raw_expect_error(&r, want);
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
	raw_start(&r);
	off = raw_off(&r);
	raw_frame(&r, BT_REC_ROWS, zlen, 4096, frame_crc(BT_REC_ROWS, zlen, 4096, zeros, 4096),
		  z, zlen);
	snprintf(want, sizeof(want), "rec: corrupt block 1 at offset %zu: bad compressed data",
		 off);
	raw_expect_error(&r, want);
	free(zeros);
	free(z);
}

static const char *block_name(uint32_t type)
{
	static const char *const names[] = {
		[BT_REC_HEADER_INFO] = "header info", [BT_REC_PROCESS] = "process",
		[BT_REC_ROWS] = "rows", [BT_REC_LOST] = "lost", [BT_REC_DURATION] = "duration",
		[BT_REC_END] = "end", [BT_REC_WAKES] = "wakes", [BT_REC_HOLDERS] = "holders",
		[BT_REC_SOCKFACTS] = "sockfacts", [BT_REC_EPISODES] = "episodes",
		[BT_REC_STACKROWS] = "stackrows", [BT_REC_STACKS] = "stacks",
		[BT_REC_WAKESTACKS] = "wakestacks",
	};

	assert_true(type < sizeof(names) / sizeof(names[0]) && names[type]);
	return names[type];
}

/* A payload parser error: the message names the block and what is wrong. Empties payload. */
static void expect_payload_error(uint32_t type, struct bt_recf_buf *payload, bool with_proc,
				 const char *why)
{
	char want[ERRLEN];
	size_t off;
	struct raw r;

	raw_start(&r);
	if (with_proc)
		raw_v1_proc(&r, 42, "p");
	off = raw_off(&r);
	raw_take(&r, type, payload);
	raw_u64_block(&r, BT_REC_DURATION, 1);
	snprintf(want, sizeof(want), "rec: corrupt %s block %d at offset %zu: %s",
		 block_name(type), with_proc ? 2 : 1, off, why);
	raw_expect_error(&r, want);
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

	bt_recf_put_u32(&b, 1);
	bt_recf_put_u32(&b, 1000);
	for (int i = 0; i < 30; i++)
		bt_recf_put_u8(&b, 0);
	expect_payload_error(BT_REC_PROCESS, &b, false, "record longer than the payload");

	bt_recf_put_u32(&b, 1);
	bt_recf_put_u32(&b, 22);
	bt_recf_put_u32(&b, 1);
	bt_recf_put_u64(&b, 0);
	bt_recf_put_u8(&b, 0);
	bt_recf_put_u32(&b, 0);
	bt_recf_put_u32(&b, 1000);	/* comm longer than its record */
	bt_recf_put_u8(&b, 'x');
	expect_payload_error(BT_REC_PROCESS, &b, false, "process record shorter than its fields");

	rows_header(&b, 50);
	put_row(&b, 0, 42, 0);
	expect_payload_error(BT_REC_ROWS, &b, true, "count 50 larger than the payload");

	rows_header(&b, 1);
	put_row(&b, 0, 42, 1);
	bt_recf_put_u8(&b, 0);
	expect_payload_error(BT_REC_ROWS, &b, true, "record shorter than its fields");

	rows_header(&b, 1);
	put_row(&b, 1, 42, 0);
	expect_payload_error(BT_REC_ROWS, &b, true, "row of process #1, but the snapshot has 1");

	rows_header(&b, 1);
	put_row(&b, 0, 43, 0);
	expect_payload_error(BT_REC_ROWS, &b, true, "row of pid 43 filed under pid 42");

	bt_recf_put_u32(&b, 1);
	bt_recf_put_u32(&b, 65);
	bt_recf_put_u32(&b, 64);
	expect_payload_error(BT_REC_ROWS, &b, true, "row layout of 65 slots and 64 path bytes");

	bt_recf_put_u32(&b, 3);
	bt_recf_put_u64(&b, 1);
	expect_payload_error(BT_REC_LOST, &b, false, "count 3 larger than the payload");

	bt_recf_put_u32(&b, 1);
	expect_payload_error(BT_REC_DURATION, &b, false, "shorter than its fields");
}

/* The same key twice in one process is summed, as bt_model_add would. */
static void test_repeated_row_summed(void **state)
{
	struct bt_recf_buf b = { 0 };
	struct bt_rec_status st;
	struct bt_model m;
	struct raw r;

	(void)state;
	raw_start(&r);
	raw_v1_proc(&r, 42, "");
	rows_header(&b, 2);
	put_row(&b, 0, 42, 0);
	put_row(&b, 0, 42, 0);
	raw_take(&r, BT_REC_ROWS, &b);
	raw_u64_block(&r, BT_REC_DURATION, 1);
	read_raw(&r, &m, &st);
	assert_int_equal(m.nprocs, 1);
	assert_int_equal(m.procs[0].nrows, 1);
	assert_int_equal(m.procs[0].rows[0].st.calls, 2);
	assert_string_equal(m.procs[0].rows[0].channel, "pipe:[77]");
	bt_model_free(&m);
	free(r.buf);
}

/* ---- the lists, by hand ---------------------------------------------- */

static void put_wake_rec(struct bt_recf_buf *b, uint32_t waker, uint32_t wakee, uint64_t chan,
			 uint64_t count)
{
	size_t at = rec_begin(b);

	bt_recf_put_u32(b, waker);
	bt_recf_put_u32(b, wakee);
	bt_recf_put_u8(b, BT_KIND_FUTEX);
	bt_recf_put_u8(b, BT_DIR_WAKE);
	bt_recf_put_u64(b, chan);
	bt_recf_put_u64(b, 0);
	bt_recf_put_u64(b, count);
	rec_end(b, at);
}

static void put_holder_rec(struct bt_recf_buf *b, uint64_t ino, uint32_t pid, uint8_t type,
			   uint8_t mode)
{
	size_t at = rec_begin(b);

	bt_recf_put_u64(b, ino);
	bt_recf_put_u32(b, pid);
	bt_recf_put_u8(b, type);
	bt_recf_put_u8(b, mode);
	rec_end(b, at);
}

static void put_sock_rec(struct bt_recf_buf *b, uint64_t ino, uint64_t peer_ino)
{
	size_t at = rec_begin(b);

	bt_recf_put_u64(b, ino);
	bt_recf_put_u64(b, peer_ino);
	bt_recf_put_u8(b, 0);
	bt_recf_put_u8(b, AF_UNIX);
	bt_recf_put_u16(b, 0);
	bt_recf_put_u16(b, 0);
	for (int i = 0; i < 32; i++)
		bt_recf_put_u8(b, 0);
	rec_end(b, at);
}

static void put_episode_rec(struct bt_recf_buf *b, uint32_t pid, uint64_t start)
{
	size_t at = rec_begin(b);

	bt_recf_put_u32(b, pid);
	bt_recf_put_u32(b, pid + 1);
	bt_recf_put_u8(b, BT_KIND_PIPE);
	bt_recf_put_u8(b, BT_DIR_RECV);
	bt_recf_put_u32(b, 0);
	bt_recf_put_u64(b, 77);
	bt_recf_put_u64(b, 0);
	bt_recf_put_u64(b, start);
	bt_recf_put_u64(b, start + 10);
	bt_recf_put_u64(b, 0);
	bt_recf_put_u32(b, 0);
	rec_end(b, at);
}

static void put_stackrow_rec(struct bt_recf_buf *b, int32_t ustack, uint64_t calls)
{
	size_t at = rec_begin(b);

	bt_recf_put_u32(b, 42);
	bt_recf_put_u8(b, BT_KIND_PIPE);
	bt_recf_put_u8(b, BT_DIR_SEND);
	bt_recf_put_u64(b, 77);
	bt_recf_put_u64(b, 0);
	bt_recf_put_u32(b, (uint32_t)ustack);
	bt_recf_put_u32(b, 2);
	bt_recf_put_u64(b, 0x400000);
	bt_recf_put_u64(b, calls);
	bt_recf_put_u64(b, calls * 10);
	bt_recf_put_u64(b, 0);
	bt_recf_put_u64(b, calls * 100);
	rec_end(b, at);
}

static void put_wakestack_rec(struct bt_recf_buf *b, uint32_t waker, int32_t waker_ustack,
			      uint64_t count)
{
	size_t at = rec_begin(b);

	bt_recf_put_u32(b, 42);
	bt_recf_put_u32(b, waker);
	bt_recf_put_u8(b, BT_KIND_PIPE);
	bt_recf_put_u8(b, BT_DIR_RECV);
	bt_recf_put_u32(b, 1);
	bt_recf_put_u64(b, 77);
	bt_recf_put_u64(b, 0);
	bt_recf_put_u64(b, 0x400000);
	bt_recf_put_u32(b, (uint32_t)waker_ustack);
	bt_recf_put_u64(b, 0x500000);
	bt_recf_put_u64(b, count);
	bt_recf_put_u64(b, count * 1000);
	rec_end(b, at);
}

static void put_stack_rec(struct bt_recf_buf *b, uint32_t pid, int32_t id, uint64_t caller,
			  const char *folded)
{
	size_t at = rec_begin(b);

	bt_recf_put_u32(b, pid);
	bt_recf_put_u32(b, (uint32_t)id);
	bt_recf_put_u64(b, caller);
	bt_recf_put_str(b, folded, SIZE_MAX);
	rec_end(b, at);
}

/* A list block of one of the lists, and its header as the writer puts it. */
static void list_head(struct bt_recf_buf *b, uint32_t type, uint32_t count, uint8_t flags,
		      uint64_t over)
{
	bt_recf_put_u32(b, count);
	if (type == BT_REC_EPISODES || type == BT_REC_STACKS)
		bt_recf_put_u8(b, flags);
	if (type == BT_REC_EPISODES)
		bt_recf_put_u64(b, over);
}

/*
 * Repeats in a snapshot's lists, within a block and across blocks, fold
 * as the model's adders fold them; the mode flags of any block count.
 */
static void test_repeated_list_entries_merged(void **state)
{
	struct bt_recf_buf b = { 0 };
	struct bt_rec_status st;
	struct bt_model m;
	struct raw r;

	(void)state;
	raw_start(&r);
	raw_v1_proc(&r, 42, "p");

	list_head(&b, BT_REC_WAKES, 3, 0, 0);
	put_wake_rec(&b, 1, 2, 0x10, 2);
	put_wake_rec(&b, 1, 3, 0x10, 5);
	put_wake_rec(&b, 1, 2, 0x10, 3);
	raw_take(&r, BT_REC_WAKES, &b);
	list_head(&b, BT_REC_WAKES, 1, 0, 0);
	put_wake_rec(&b, 1, 3, 0x10, 10);
	raw_take(&r, BT_REC_WAKES, &b);

	list_head(&b, BT_REC_HOLDERS, 3, 0, 0);
	put_holder_rec(&b, 9, 1, BT_FD_PIPE, BT_END_READ);
	put_holder_rec(&b, 9, 1, BT_FD_SOCKET, 0);
	put_holder_rec(&b, 9, 1, BT_FD_PIPE, BT_END_WRITE);
	raw_take(&r, BT_REC_HOLDERS, &b);

	list_head(&b, BT_REC_SOCKFACTS, 3, 0, 0);
	put_sock_rec(&b, 5, 6);
	put_sock_rec(&b, 8, 9);
	put_sock_rec(&b, 5, 7);
	raw_take(&r, BT_REC_SOCKFACTS, &b);

	/* Episodes are a log, not a set: repeats stay. */
	list_head(&b, BT_REC_EPISODES, 2, 1, 4);
	put_episode_rec(&b, 42, 100);
	put_episode_rec(&b, 42, 100);
	raw_take(&r, BT_REC_EPISODES, &b);
	list_head(&b, BT_REC_EPISODES, 1, 0, 9);
	put_episode_rec(&b, 43, 200);
	raw_take(&r, BT_REC_EPISODES, &b);

	list_head(&b, BT_REC_STACKROWS, 3, 0, 0);
	put_stackrow_rec(&b, 1, 1);
	put_stackrow_rec(&b, 2, 5);
	put_stackrow_rec(&b, 1, 2);
	raw_take(&r, BT_REC_STACKROWS, &b);

	list_head(&b, BT_REC_WAKESTACKS, 3, 0, 0);
	put_wakestack_rec(&b, 43, 7, 1);
	put_wakestack_rec(&b, 43, 8, 4);
	put_wakestack_rec(&b, 43, 7, 2);
	raw_take(&r, BT_REC_WAKESTACKS, &b);

	list_head(&b, BT_REC_STACKS, 2, 0, 0);
	put_stack_rec(&b, 42, 1, 0x400000, "first");
	put_stack_rec(&b, 42, 1, 0x400000, "second");
	raw_take(&r, BT_REC_STACKS, &b);
	list_head(&b, BT_REC_STACKS, 2, 1, 0);
	put_stack_rec(&b, 42, 1, 0, "other caller");
	put_stack_rec(&b, 42, 1, 0x400000, "third");
	raw_take(&r, BT_REC_STACKS, &b);
	raw_u64_block(&r, BT_REC_DURATION, 1);

	read_raw(&r, &m, &st);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(m.nwakes, 2);
	assert_int_equal(m.wakes[0].key.wakee, 2);
	assert_int_equal(m.wakes[0].count, 5);
	assert_int_equal(m.wakes[1].key.wakee, 3);
	assert_int_equal(m.wakes[1].count, 15);
	assert_int_equal(m.nholders, 2);
	assert_int_equal(m.holders[0].type, BT_FD_PIPE);
	assert_int_equal(m.holders[0].mode, BT_END_BOTH);
	assert_int_equal(m.holders[1].type, BT_FD_SOCKET);
	assert_int_equal(m.nsocks, 2);
	assert_int_equal(m.socks[0].ino, 5);
	assert_int_equal(m.socks[0].peer_ino, 7);
	assert_int_equal(m.socks[1].peer_ino, 9);
	assert_int_equal(m.nepisodes, 3);
	assert_true(m.chain_mode);
	assert_int_equal(m.episodes_over, 9);
	assert_int_equal(m.episodes[2].pid, 43);
	assert_int_equal(m.episodes[2].tid, 44);
	assert_int_equal(m.episodes[2].end_ns, 210);
	assert_int_equal(m.nstackrows, 2);
	assert_int_equal(m.stackrows[0].key.ustack, 1);
	assert_int_equal(m.stackrows[0].key.kstack, 2);
	assert_int_equal(m.stackrows[0].key.ucaller, 0x400000);
	assert_int_equal(m.stackrows[0].calls, 3);
	assert_int_equal(m.stackrows[0].bytes, 30);
	assert_int_equal(m.stackrows[0].blocked_ns, 300);
	assert_int_equal(m.stackrows[1].calls, 5);
	assert_int_equal(m.nwakestacks, 2);
	assert_int_equal(m.wakestacks[0].key.wakee, 42);
	assert_int_equal(m.wakestacks[0].key.waker, 43);
	assert_int_equal(m.wakestacks[0].key.wakee_ustack, 1);
	assert_int_equal(m.wakestacks[0].key.wakee_ucaller, 0x400000);
	assert_int_equal(m.wakestacks[0].key.waker_ustack, 7);
	assert_int_equal(m.wakestacks[0].key.waker_ucaller, 0x500000);
	assert_int_equal(m.wakestacks[0].val.count, 3);
	assert_int_equal(m.wakestacks[0].val.blocked_ns, 3000);
	assert_int_equal(m.wakestacks[1].val.count, 4);
	assert_true(m.stack_mode);
	assert_int_equal(m.nstacks, 2);
	assert_string_equal(bt_model_stack(&m, 42, 1, 0x400000), "first");
	assert_string_equal(bt_model_stack(&m, 42, 1, 0), "other caller");
	bt_model_free(&m);
	free(r.buf);
}

/*
 * Process and row records as the first version 1 writers made them, or
 * ending between later fields: what is there is read, the rest defaults.
 * Only traced processes got rows from the kernel: without the flag, a
 * process with rows was a target.
 */
static void test_old_records_default(void **state)
{
	struct bt_recf_buf b = { 0 };
	struct bt_rec_status st;
	struct bt_model m;
	size_t at;
	struct raw r;

	(void)state;
	raw_start(&r);
	bt_recf_put_u32(&b, 4);
	put_v1_proc(&b, 42, "rows");
	put_v1_proc(&b, 43, "norows");
	at = rec_begin(&b);
	put_v1_proc_fields(&b, 44, "exeonly");
	bt_recf_put_str(&b, "/bin/exeonly", 64);
	rec_end(&b, at);
	at = rec_begin(&b);
	put_v1_proc_fields(&b, 45, "nohop");
	bt_recf_put_str(&b, "", 0);
	bt_recf_put_u8(&b, 0x3);
	rec_end(&b, at);
	raw_take(&r, BT_REC_PROCESS, &b);
	rows_header(&b, 1);
	put_row(&b, 0, 42, 0);
	raw_take(&r, BT_REC_ROWS, &b);
	raw_u64_block(&r, BT_REC_DURATION, 1);

	read_raw(&r, &m, &st);
	assert_int_equal(m.nprocs, 4);
	assert_true(m.procs[0].target);
	assert_false(m.procs[1].target);
	assert_false(m.procs[2].target);
	assert_string_equal(m.procs[2].exe, "/bin/exeonly");
	assert_true(m.procs[3].target);
	assert_true(m.procs[3].harvested);
	assert_int_equal(m.procs[3].hop, 0);
	assert_string_equal(m.procs[0].exe, "");
	assert_string_equal(m.procs[1].exe, "");
	for (int i = 0; i < 3; i++) {
		assert_false(m.procs[i].harvested);
		assert_int_equal(m.procs[i].hop, 0);
	}
	assert_int_equal(m.procs[0].nrows, 1);
	assert_int_equal(m.procs[0].rows[0].key.ustack, BT_STACK_NONE);
	assert_int_equal(m.procs[0].rows[0].key.kstack, BT_STACK_NONE);
	assert_int_equal(m.procs[0].rows[0].key.ucaller, 0);
	assert_int_equal(m.nwakes + m.nholders + m.nsocks + m.nepisodes + m.nstackrows +
			 m.nstacks + m.nwakestacks, 0);
	assert_false(m.chain_mode);
	assert_false(m.stack_mode);
	bt_model_free(&m);
	free(r.buf);
}

/* A STACKS payload of a user and a kernel stack that reads, and draws: svg takes its line. */
static void raw_stacks_ok(const struct bt_recf_buf *payload, const char *folded)
{
	struct bt_recf_buf b = { 0 };
	struct bt_rec_status st;
	struct bt_model m;
	char *svg, *line;
	struct raw r;
	int ret;

	raw_start(&r);
	raw_v1_proc(&r, 1, "p");
	list_head(&b, BT_REC_STACKROWS, 1, 0, 0);
	put_stackrow_rec(&b, 2, 1);
	bt_recf_patch_u32(&b, 8, 1);	/* tgid 1 */
	bt_recf_patch_u32(&b, 8 + 22 + 4, 2);	/* kstack 2 */
	bt_recf_patch_u32(&b, 8 + 22 + 8, 3);	/* ucaller 3 */
	raw_take(&r, BT_REC_STACKROWS, &b);
	raw_block(&r, BT_REC_STACKS, payload);
	raw_u64_block(&r, BT_REC_DURATION, 1);
	read_raw(&r, &m, &st);
	assert_int_equal(m.nstacks, 2);
	assert_string_equal(m.stacks[0].folded, folded);
	line = export(bt_report_find("folded"), &m, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(strstr(strstr(line, folded) + 1, folded));
	free(line);
	svg = export(bt_report_find("svg"), &m, &ret);
	assert_int_equal(ret, 0);
	free(svg);
	bt_model_free(&m);
	free(r.buf);
}

static void test_garbage_lists(void **state)
{
	static const uint32_t lists[] = { BT_REC_WAKES, BT_REC_HOLDERS, BT_REC_SOCKFACTS,
					  BT_REC_EPISODES, BT_REC_STACKROWS, BT_REC_STACKS,
					  BT_REC_WAKESTACKS };
	struct bt_recf_buf b = { 0 };
	char *big;
	size_t at;

	(void)state;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		uint32_t t = lists[i];

		/* Nothing, or a header cut short. */
		expect_payload_error(t, &b, false, "shorter than its fields");
		if (t == BT_REC_EPISODES || t == BT_REC_STACKS) {
			bt_recf_put_u32(&b, 0);
			expect_payload_error(t, &b, false, "shorter than its fields");
		}
		list_head(&b, t, UINT32_MAX, 0, 0);
		expect_payload_error(t, &b, false, "count 4294967295 larger than the payload");
		/* A record too short for its fields, padded so the count fits. */
		list_head(&b, t, 1, 0, 0);
		bt_recf_put_u32(&b, 3);
		for (int j = 0; j < 100; j++)
			bt_recf_put_u8(&b, 0);
		expect_payload_error(t, &b, false, "record shorter than its fields");
		/* A record longer than what is left. */
		list_head(&b, t, 1, 0, 0);
		bt_recf_put_u32(&b, 101);
		for (int j = 0; j < 100; j++)
			bt_recf_put_u8(&b, 0);
		expect_payload_error(t, &b, false, "record longer than the payload");
	}

	/* A stack string past its record, and one over the cap. */
	list_head(&b, BT_REC_STACKS, 1, 1, 0);
	at = rec_begin(&b);
	bt_recf_put_u32(&b, 1);
	bt_recf_put_u32(&b, 2);
	bt_recf_put_u64(&b, 3);
	bt_recf_put_u32(&b, 10);
	bt_recf_put_bytes(&b, "abc", 3);
	rec_end(&b, at);
	expect_payload_error(BT_REC_STACKS, &b, false, "stack record shorter than its fields");
	big = malloc(BT_REC_MAX_STACK_LEN + 2);
	assert_non_null(big);
	memset(big, 'f', BT_REC_MAX_STACK_LEN + 1);
	big[BT_REC_MAX_STACK_LEN + 1] = 0;
	list_head(&b, BT_REC_STACKS, 1, 1, 0);
	put_stack_rec(&b, 1, 2, 3, big);
	expect_payload_error(BT_REC_STACKS, &b, false,
			     "stack of 65537 bytes, over the 64 KiB limit");
	/* Frames: as many as a flame graph line holds, and one more. */
	for (size_t i = 0; i < 2 * BT_REC_MAX_STACK_FRAMES; i += 2)
		memcpy(big + i, "f;", 2);
	big[2 * BT_REC_MAX_STACK_FRAMES - 1] = 0;
	list_head(&b, BT_REC_STACKS, 2, 1, 0);
	put_stack_rec(&b, 1, 2, 3, big);
	put_stack_rec(&b, 0, 2, 0, big);
	raw_stacks_ok(&b, big);
	bt_recf_buf_free(&b);
	big[2 * BT_REC_MAX_STACK_FRAMES - 1] = ';';
	big[2 * BT_REC_MAX_STACK_FRAMES] = 'f';
	big[2 * BT_REC_MAX_STACK_FRAMES + 1] = 0;
	list_head(&b, BT_REC_STACKS, 1, 1, 0);
	put_stack_rec(&b, 1, 2, 3, big);
	expect_payload_error(BT_REC_STACKS, &b, false, "stack of more than 510 frames");
	free(big);

	/* Later fields of a process or a row cut inside: not an older writer's record. */
	bt_recf_put_u32(&b, 1);
	at = rec_begin(&b);
	put_v1_proc_fields(&b, 42, "p");
	bt_recf_put_str(&b, "/bin/p", 64);
	bt_recf_put_u8(&b, 2);
	bt_recf_put_u16(&b, 1);
	rec_end(&b, at);
	expect_payload_error(BT_REC_PROCESS, &b, false, "process record shorter than its fields");
	bt_recf_put_u32(&b, 1);
	at = rec_begin(&b);
	put_v1_proc_fields(&b, 42, "p");
	bt_recf_put_u32(&b, 100);	/* exe longer than the record */
	bt_recf_put_bytes(&b, "/bin/p", 6);
	rec_end(&b, at);
	expect_payload_error(BT_REC_PROCESS, &b, false, "process record shorter than its fields");
	rows_header(&b, 1);
	put_row(&b, 0, 42, 0);
	bt_recf_put_u32(&b, 5);		/* ustack */
	bt_recf_put_u16(&b, 6);		/* half a kstack */
	rec_end(&b, 12);
	expect_payload_error(BT_REC_ROWS, &b, true, "row record shorter than its fields");
}

/* The model's cap on episodes is the reader's: one more is refused. */
static void test_episode_limit(void **state)
{
	struct bt_recf_buf b = { 0 };
	uint32_t first = BT_REC_MAX_EPISODES / 2;
	char want[ERRLEN];
	size_t off;
	struct raw r;

	(void)state;
	raw_start(&r);
	list_head(&b, BT_REC_EPISODES, first, 1, 0);
	for (uint32_t i = 0; i < first; i++)
		put_episode_rec(&b, 42, i);
	raw_take(&r, BT_REC_EPISODES, &b);
	off = raw_off(&r);
	list_head(&b, BT_REC_EPISODES, BT_REC_MAX_EPISODES - first + 1, 1, 0);
	for (uint32_t i = first; i <= BT_REC_MAX_EPISODES; i++)
		put_episode_rec(&b, 42, i);
	raw_take(&r, BT_REC_EPISODES, &b);
	raw_u64_block(&r, BT_REC_DURATION, 1);
	snprintf(want, sizeof(want),
		 "rec: corrupt episodes block 2 at offset %zu: more than %u episodes in a snapshot",
		 off, BT_REC_MAX_EPISODES);
	raw_expect_error(&r, want);
}

/* A stack string is cut at BT_REC_MAX_STACK_LEN when written; one that fits is whole. */
static void test_long_stack_cut(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "stacks.btrec");
	size_t len = BT_REC_MAX_STACK_LEN + 1000;
	char *s = malloc(len + 1), err[ERRLEN];
	struct bt_model a, b;

	assert_non_null(s);
	for (size_t i = 0; i < len; i++)
		s[i] = 'a' + i % 26;
	s[len] = 0;
	bt_model_init(&a);
	assert_int_equal(bt_model_add_stack(&a, 1, 1, 0, s), 0);
	s[BT_REC_MAX_STACK_LEN] = 0;
	assert_int_equal(bt_model_add_stack(&a, 1, 2, 0, s), 0);
	write_model(path, &a);
	bt_model_init(&b);
	if (bt_rec_read(path, &b, NULL, NULL, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(b.nstacks, 2);
	assert_false(b.stack_mode);
	assert_string_equal(b.stacks[0].folded, s);
	assert_string_equal(b.stacks[1].folded, s);
	free(s);
	bt_model_free(&a);
	bt_model_free(&b);
}

/* The longest stacks a recording may hold, everywhere at once: every exporter copes. */
static void test_longest_stacks_export(void **state)
{
	char *s = malloc(BT_REC_MAX_STACK_LEN + 1), *out;
	struct bt_model m;
	int ret;

	(void)state;
	assert_non_null(s);
	memset(s, 'x', BT_REC_MAX_STACK_LEN);
	for (size_t i = 0; i < 2 * BT_REC_MAX_STACK_FRAMES; i += 2)
		s[BT_REC_MAX_STACK_LEN - 2 * BT_REC_MAX_STACK_FRAMES + i] = ';';
	s[BT_REC_MAX_STACK_LEN] = 0;
	build_small(&m, 1);
	for (size_t i = 0; i < m.nstacks; i++) {
		free(m.stacks[i].folded);
		m.stacks[i].folded = strdup(s);
		assert_non_null(m.stacks[i].folded);
	}
	for (int w = BT_WEIGHT_CALLS; w <= BT_WEIGHT_BLOCKED; w++) {
		char names[256], *save = NULL;

		m.weight = w;
		snprintf(names, sizeof(names), "%s", bt_report_format_names());
		for (char *n = strtok_r(names, "|", &save); n; n = strtok_r(NULL, "|", &save)) {
			out = export(bt_report_find(n), &m, &ret);
			if (ret)
				fail_msg("the %s export failed", n);
			free(out);
		}
	}
	free(s);
	bt_model_free(&m);
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
	size_t at;
	struct raw r;

	(void)state;
	raw_open(&r, 1, 0x0000ffff);
	raw_info(&r);
	bt_recf_put_str(&b, "stacks with symbols", 64);
	raw_take(&r, 0x100, &b);

	bt_recf_put_u32(&b, 1);
	at = rec_begin(&b);
	bt_recf_put_u32(&b, 42);
	bt_recf_put_u64(&b, 5);
	bt_recf_put_u8(&b, 0xff);	/* unknown flag bits besides exited */
	bt_recf_put_u32(&b, 3);
	bt_recf_put_str(&b, "newproc", 16);
	bt_recf_put_str(&b, "/usr/bin/newproc", 64);
	bt_recf_put_u8(&b, 0xfe);	/* target, and unknown bits */
	bt_recf_put_u32(&b, 5);		/* hop */
	bt_recf_put_u32(&b, 41);	/* ppid */
	bt_recf_put_u8(&b, 1);		/* a followed child */
	bt_recf_put_u64(&b, 0xfeedface);	/* a new process field */
	rec_end(&b, at);
	bt_recf_put_u32(&b, 0xdeadbeef);	/* a field after the records */
	raw_take(&r, BT_REC_PROCESS, &b);

	bt_recf_put_u32(&b, 1);
	bt_recf_put_u32(&b, 40);	/* hist slots */
	bt_recf_put_u32(&b, 100);	/* path bytes */
	at = rec_begin(&b);
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
	bt_recf_put_u32(&b, 17);	/* ustack */
	bt_recf_put_u32(&b, (uint32_t)BT_STACK_LOST);
	bt_recf_put_u64(&b, 0x4000);	/* ucaller */
	bt_recf_put_u64(&b, 0);		/* lost_calls */
	bt_recf_put_u8(&b, BT_ROLE_SERVER);
	bt_recf_put_u64(&b, 7);		/* exchanges */
	bt_recf_put_u64(&b, 700);
	bt_recf_put_u64(&b, 300);
	for (int i = 0; i < 40; i++)	/* exchange latency hist, 40 slots */
		bt_recf_put_u64(&b, i == 6 || i >= 32);
	bt_recf_put_u8(&b, BT_ROLE_SERVER);	/* the far end: role */
	bt_recf_put_u32(&b, 43);	/* peer tgid */
	bt_recf_put_u64(&b, 12345);	/* a new row field */
	rec_end(&b, at);
	raw_take(&r, BT_REC_ROWS, &b);

	bt_recf_put_u32(&b, BT_LOSS_MAX + 3);
	for (int i = 0; i < BT_LOSS_MAX + 3; i++)
		bt_recf_put_u64(&b, i + 100);
	raw_take(&r, BT_REC_LOST, &b);
	/* Its own cost with a value past ours (chain_cpu_ns is the last we know). */
	bt_recf_put_u32(&b, 13);
	for (int i = 0; i < 13; i++)
		bt_recf_put_u64(&b, i + 1000);
	raw_take(&r, BT_REC_SELF, &b);
	bt_recf_put_u32(&b, 1);
	raw_take(&r, 0x101, &b);	/* unknown, inside the snapshot */
	/* More header fields are a new block type's business; more record fields are not. */
	list_head(&b, BT_REC_WAKES, 1, 0, 0);
	at = rec_begin(&b);
	bt_recf_put_u32(&b, 42);
	bt_recf_put_u32(&b, 43);
	bt_recf_put_u8(&b, BT_KIND_PIPE);
	bt_recf_put_u8(&b, BT_DIR_SEND);
	bt_recf_put_u64(&b, 10);
	bt_recf_put_u64(&b, 0);
	bt_recf_put_u64(&b, 6);
	bt_recf_put_u64(&b, 0xabad1dea);	/* a new wake field */
	rec_end(&b, at);
	raw_take(&r, BT_REC_WAKES, &b);
	list_head(&b, BT_REC_STACKS, 1, 0xff, 0);
	at = rec_begin(&b);
	bt_recf_put_u32(&b, 42);
	bt_recf_put_u32(&b, 17);
	bt_recf_put_u64(&b, 0x4000);
	bt_recf_put_str(&b, "main;newproc_loop", 64);
	bt_recf_put_u32(&b, 0xabad1dea);	/* a new stack field */
	rec_end(&b, at);
	raw_take(&r, BT_REC_STACKS, &b);
	bt_recf_put_u64(&b, 77);
	bt_recf_put_u64(&b, 88);	/* a new field of DURATION */
	raw_take(&r, BT_REC_DURATION, &b);
	raw_block(&r, BT_REC_END, &b);

	read_raw(&r, &m, &st);
	assert_false(st.truncated);
	assert_int_equal(st.skipped, 2);
	assert_int_equal(m.nprocs, 1);
	assert_string_equal(m.procs[0].comm, "newproc");
	assert_string_equal(m.procs[0].exe, "/usr/bin/newproc");
	assert_true(m.procs[0].exited);
	assert_false(m.procs[0].harvested);
	assert_true(m.procs[0].target);
	assert_int_equal(m.procs[0].hop, 5);
	assert_int_equal(m.procs[0].ppid, 41);
	assert_true(m.procs[0].child);
	assert_int_equal(m.procs[0].exit_code, 3);
	assert_int_equal(m.procs[0].nrows, 1);
	row = &m.procs[0].rows[0];
	assert_int_equal(row->st.calls, 1);
	assert_int_equal(row->st.max_blocked_ns, 6);
	assert_int_equal(row->st.size_hist[0], 1);
	/* Slots past ours are counted in our top slot. */
	assert_int_equal(row->st.size_hist[BT_HIST_SLOTS - 1], 40 - BT_HIST_SLOTS + 1);
	assert_int_equal(row->st.blocked_hist[BT_HIST_SLOTS - 1], 40 - BT_HIST_SLOTS + 1);
	assert_int_equal(row->key.ustack, 17);
	assert_int_equal(row->key.kstack, BT_STACK_LOST);
	assert_int_equal(row->key.ucaller, 0x4000);
	assert_int_equal(row->st.role, BT_ROLE_SERVER);
	assert_int_equal(row->st.exchanges, 7);
	assert_int_equal(row->st.exch_ns, 700);
	assert_int_equal(row->st.max_exch_ns, 300);
	assert_int_equal(row->st.exch_hist[6], 1);
	assert_int_equal(row->st.exch_hist[BT_HIST_SLOTS - 1], 40 - BT_HIST_SLOTS);
	assert_true(row->has_info);
	assert_int_equal(row->info.peer_ino, 11);
	assert_int_equal(row->info.role, BT_ROLE_SERVER);
	assert_int_equal(row->info.peer_tgid, 43);
	assert_int_equal(strlen(row->info.path), BT_PATH_LEN - 1);
	assert_string_equal(row->channel,
			    "unix:abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk[10->11]");
	for (int l = 0; l < BT_LOSS_MAX; l++)
		assert_int_equal(m.lost[l], l + 100);
	assert_int_equal(m.nwakes, 1);
	assert_int_equal(m.wakes[0].key.wakee, 43);
	assert_int_equal(m.wakes[0].count, 6);
	assert_true(m.stack_mode);
	assert_int_equal(m.nstacks, 1);
	assert_string_equal(bt_model_stack(&m, 42, 17, 0x4000), "main;newproc_loop");
	assert_int_equal(m.duration_ns, 77);
	assert_true(m.self.measured);
	assert_int_equal(m.self.load_cpu_ns, 1000);
	assert_int_equal(m.self.cpu_ns, 1001);
	assert_int_equal(m.self.max_rss_kib, 1002);
	for (int k = 0; k < BT_SELF_RECORDS_MAX; k++)
		assert_int_equal(m.self.records[k], 1003 + k);
	assert_int_equal(m.self.record_bytes, 1007);
	assert_true(m.self.bpf_stats);
	assert_int_equal(m.self.bpf_ns, 1009);
	assert_int_equal(m.self.bpf_runs, 1010);
	assert_int_equal(m.self.chain_cpu_ns, 1011);
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
	raw_start(&r);
	off = raw_off(&r);
	raw_block(&r, BT_RECF_CRITICAL | 0x200, &b);
	snprintf(want, sizeof(want),
		 "rec: block 1 at offset %zu has type 0x80000200, which this boundtrace cannot skip; upgrade boundtrace",
		 off);
	raw_expect_error(&r, want);
}

/* ---- the output file ------------------------------------------------ */

static void test_create_mode_0600(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "mode.btrec");
	struct bt_model m;
	struct stat st;

	bt_model_init(&m);
	write_model(path, &m);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
}

static void test_exists_without_force(void **state)
{
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "precious");
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
	struct tu_tmp *t = *state;
	char target[128], link[128], err[ERRLEN] = "";
	size_t len;
	char *buf;

	snprintf(target, sizeof(target), "%s", tu_in_dir(t, "victim"));
	snprintf(link, sizeof(link), "%s", tu_in_dir(t, "link.btrec"));
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
	struct tu_tmp *t = *state;
	const char *path = tu_in_dir(t, "upgraded.btrec");
	struct bt_rec_status st;
	struct bt_rec_info info;
	struct bt_model want, m, again;
	char err[ERRLEN] = "";
	char *json, *golden;
	size_t len;

	build_full(&want);
	bt_model_init(&m);
	if (bt_rec_read(FIXTURE, &m, &info, &st, err, sizeof(err)))
		fail_msg("%s", err);
	assert_false(st.truncated);
	assert_int_equal(st.version, 1);
	assert_int_equal(st.snapshots, 2);
	assert_memory_equal(&info, &test_info, sizeof(info));
	assert_models_equal(&want, &m);
	json = tu_render(bt_report_json, &m);
	golden = slurp(FIXTURE_JSON, &len);
	/* The format is fine (above); this is the exporter, changed on purpose or not. */
	if (strcmp(json, golden))
		fail_msg("the JSON export of %s differs from %s. If the exporter changed on "
			 "purpose: cd tests/unit && "
			 "BT_REC_WRITE_FIXTURES=1 ../../build/tests/test_record",
			 FIXTURE, FIXTURE_JSON);
	/* Written again by this writer, it reads back the same. */
	write_model(path, &m);
	bt_model_init(&again);
	if (bt_rec_read(path, &again, NULL, NULL, err, sizeof(err)))
		fail_msg("%s", err);
	assert_models_equal(&m, &again);
	free(json);
	free(golden);
	bt_model_free(&want);
	bt_model_free(&m);
	bt_model_free(&again);
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
	struct bt_model full, small, small2, empty, all;
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
	build_all(&all);
	bt_model_init(&empty);
	if (stat(FIXTURE, &st))
		write_models(FIXTURE, two, 2, NULL);
	json = tu_render(bt_report_json, &full);
	spill(FIXTURE_JSON, json, strlen(json));
	free(json);

	mkdir("../fuzz/corpus", 0755);
	mkdir(CORPUS_DIR, 0755);
	write_models(CORPUS_DIR "/small.btrec", one, 1, NULL);
	write_models(CORPUS_DIR "/empty-model.btrec", none, 1, NULL);
	write_models(CORPUS_DIR "/two-snapshots.btrec", both, 2, NULL);
	write_model(CORPUS_DIR "/all.btrec", &all);
	buf = slurp(FIXTURE, &len);
	spill(CORPUS_DIR "/full.btrec", buf, len);
	/* Cut inside the last snapshot. */
	spill(CORPUS_DIR "/truncated.btrec", buf, len * 3 / 4);
	free(buf);
	write_structured_seed(CORPUS_DIR "/small.btrec", CORPUS_DIR "/small.blocks");
	write_structured_seed(FIXTURE, CORPUS_DIR "/full.blocks");
	write_structured_seed(CORPUS_DIR "/all.btrec", CORPUS_DIR "/all.blocks");
	bt_model_free(&all);
	bt_model_free(&full);
	bt_model_free(&small);
	bt_model_free(&small2);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, tu_tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_roundtrip_file),
		T(test_roundtrip_mem),
		T(test_empty_model),
		T(test_big_model_spans_blocks),
		T(test_crafted_million_records),
		T(test_second_snapshot_wins),
		T(test_logs_each_snapshot),
		T(test_v1_logs_are_whole),
		T(test_write_tick),
		T(test_logs_over_cap_lost),
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
		cmocka_unit_test(test_repeated_list_entries_merged),
		cmocka_unit_test(test_old_records_default),
		cmocka_unit_test(test_garbage_lists),
		cmocka_unit_test(test_episode_limit),
		T(test_long_stack_cut),
		cmocka_unit_test(test_longest_stacks_export),
		cmocka_unit_test(test_newer_writer_readable),
		cmocka_unit_test(test_critical_unknown_refused),
		T(test_create_mode_0600),
		T(test_exists_without_force),
		T(test_symlink_refused),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_to_dev_null),
		T(test_fixture_v1),
	};

	if (getenv("BT_REC_WRITE_FIXTURES"))
		write_fixtures();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
