// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Channel names for every kind, with and without the address facts. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "model/channel.h"

static struct bt_key key_of(unsigned int kind, uint64_t chan, uint64_t peer)
{
	struct bt_key k = { .tgid = 100, .kind = kind, .dir = BT_DIR_SEND,
			    .chan = chan, .peer = peer };

	return k;
}

static void check(const struct bt_key *k, const struct bt_chan_info *info, const char *expected)
{
	char buf[BT_PATH_LEN + 128];

	memset(buf, 'X', sizeof(buf));
	bt_channel_format(k, info, buf, sizeof(buf));
	assert_string_equal(buf, expected);
}

static struct bt_chan_info inet_info(int family, const char *laddr, unsigned int lport,
				     const char *raddr, unsigned int rport)
{
	struct bt_chan_info i = { .family = family, .lport = lport, .rport = rport };

	assert_int_equal(inet_pton(family, laddr, i.laddr), 1);
	assert_int_equal(inet_pton(family, raddr, i.raddr), 1);
	return i;
}

static void test_pipe(void **state)
{
	struct bt_key k = key_of(BT_KIND_PIPE, 12345, 0);
	struct bt_chan_info info = { .kind = BT_KIND_PIPE };

	(void)state;
	check(&k, NULL, "pipe:[12345]");
	/* A pipe has no address: the facts change nothing. */
	check(&k, &info, "pipe:[12345]");
	k.chan = UINT64_MAX;
	check(&k, NULL, "pipe:[18446744073709551615]");
}

static void test_unix_without_path(void **state)
{
	/* Unix rows are keyed by the own inode; the peer comes from the channel facts. */
	struct bt_key k = key_of(BT_KIND_UNIX_STREAM, 4001, 0);
	struct bt_chan_info info = { .kind = BT_KIND_UNIX_STREAM, .family = AF_UNIX,
				     .peer_ino = 4002 };

	(void)state;
	check(&k, &info, "unix:[4001->4002]");
	k.kind = BT_KIND_UNIX_DGRAM;
	check(&k, &info, "unix:[4001->4002]");
	/* Facts lost (map full): the peer is unknown, not a made-up 0. */
	check(&k, NULL, "unix:[4001->?]");
	/* Unconnected: no peer. */
	info.peer_ino = 0;
	check(&k, &info, "unix:[4001->0]");
	/* A stream always had one: read after it closed, it is unknown. */
	k.kind = BT_KIND_UNIX_STREAM;
	check(&k, &info, "unix:[4001->?]");
}

static void test_unix_with_path(void **state)
{
	struct bt_key k = key_of(BT_KIND_UNIX_STREAM, 4001, 0);
	struct bt_chan_info info = { .kind = BT_KIND_UNIX_STREAM, .family = AF_UNIX,
				     .peer_ino = 4002, .path = "/run/app.sock" };

	(void)state;
	check(&k, &info, "unix:/run/app.sock[4001->4002]");
	k.kind = BT_KIND_UNIX_DGRAM;
	strcpy(info.path, "@abstract");
	check(&k, &info, "unix:@abstract[4001->4002]");
}

static void test_unix_path_full_length(void **state)
{
	struct bt_key k = key_of(BT_KIND_UNIX_STREAM, 1, 0);
	struct bt_chan_info info = { .kind = BT_KIND_UNIX_STREAM, .family = AF_UNIX,
				     .peer_ino = 2 };
	char expected[BT_PATH_LEN + 64];

	(void)state;
	/* The kernel cuts paths at BT_PATH_LEN with no terminator: read no further. */
	memset(info.path, 'p', sizeof(info.path));
	memcpy(expected, "unix:", 5);
	memset(expected + 5, 'p', BT_PATH_LEN);
	strcpy(expected + 5 + BT_PATH_LEN, "[1->2]");
	check(&k, &info, expected);
}

static void test_tcp_ipv4(void **state)
{
	struct bt_key k = key_of(BT_KIND_TCP, 9000, 1);
	struct bt_chan_info info = inet_info(AF_INET, "127.0.0.1", 40000, "127.0.0.1", 5000);

	(void)state;
	check(&k, &info, "tcp:127.0.0.1:40000->127.0.0.1:5000");
}

static void test_udp_ipv4(void **state)
{
	struct bt_key k = key_of(BT_KIND_UDP, 9001, 2);
	struct bt_chan_info info = inet_info(AF_INET, "10.1.2.3", 53124, "8.8.8.8", 53);

	(void)state;
	check(&k, &info, "udp:10.1.2.3:53124->8.8.8.8:53");
	/* Unconnected and unbound: zeros print as such. */
	info = inet_info(AF_INET, "0.0.0.0", 0, "0.0.0.0", 0);
	check(&k, &info, "udp:0.0.0.0:0->0.0.0.0:0");
}

static void test_tcp_ipv6(void **state)
{
	struct bt_key k = key_of(BT_KIND_TCP, 9002, 3);
	struct bt_chan_info info = inet_info(AF_INET6, "::1", 40000, "::1", 5000);

	(void)state;
	check(&k, &info, "tcp:[::1]:40000->[::1]:5000");
	info = inet_info(AF_INET6, "::ffff:127.0.0.1", 65535, "2001:db8::42", 443);
	check(&k, &info, "tcp:[::ffff:127.0.0.1]:65535->[2001:db8::42]:443");
}

static void test_udp_ipv6(void **state)
{
	struct bt_key k = key_of(BT_KIND_UDP, 9003, 4);
	struct bt_chan_info info = inet_info(AF_INET6, "fe80::1", 5353,
					     "ff02::fb", 5353);

	(void)state;
	check(&k, &info, "udp:[fe80::1]:5353->[ff02::fb]:5353");
}

static void test_inet_missing_info(void **state)
{
	struct bt_key k = key_of(BT_KIND_TCP, 777, 5);

	(void)state;
	check(&k, NULL, "tcp:[777]");
	k.kind = BT_KIND_UDP;
	k.chan = 778;
	check(&k, NULL, "udp:[778]");
}

static void test_futex(void **state)
{
	struct bt_key k = key_of(BT_KIND_FUTEX, 0x7ffd1234abcdull, 0);

	(void)state;
	check(&k, NULL, "futex:0x7ffd1234abcd");
	k.chan = 0;
	check(&k, NULL, "futex:0x0");
}

static void test_other_kinds(void **state)
{
	struct bt_key k = key_of(BT_KIND_NONE, 5, 0);

	(void)state;
	check(&k, NULL, "other:[5]");
	k.kind = BT_KIND_MAX;
	check(&k, NULL, "other:[5]");
	k.kind = 200;
	check(&k, NULL, "other:[5]");
}

static void test_truncation(void **state)
{
	struct bt_key k = key_of(BT_KIND_TCP, 1, 1);
	struct bt_chan_info info = inet_info(AF_INET6, "2001:db8::1", 1, "2001:db8::2", 2);
	char buf[12];

	(void)state;
	bt_channel_format(&k, &info, buf, sizeof(buf));
	assert_string_equal(buf, "tcp:[2001:d");
}

static void test_inet_format(void **state)
{
	unsigned char a[16] = { 192, 168, 0, 1 };
	char buf[64];

	(void)state;
	bt_inet_format(AF_INET, a, 8080, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.0.1:8080");
	/* Unknown family: read as IPv4, never past the 16 bytes. */
	bt_inet_format(0, a, 1, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.0.1:1");
	memset(a, 0, sizeof(a));
	a[15] = 1;
	bt_inet_format(AF_INET6, a, 22, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:22");
	memset(a, 0xff, sizeof(a));
	bt_inet_format(AF_INET6, a, 65535, buf, sizeof(buf));
	assert_string_equal(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_unix_without_path),
		cmocka_unit_test(test_unix_with_path),
		cmocka_unit_test(test_unix_path_full_length),
		cmocka_unit_test(test_tcp_ipv4),
		cmocka_unit_test(test_udp_ipv4),
		cmocka_unit_test(test_tcp_ipv6),
		cmocka_unit_test(test_udp_ipv6),
		cmocka_unit_test(test_inet_missing_info),
		cmocka_unit_test(test_futex),
		cmocka_unit_test(test_other_kinds),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_inet_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
