// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Flame graphs: the frame tree, folded lines, and the SVG they become. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "analyze/flame.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static const char type_chars[BT_FT_MAX] = {
	[BT_FT_PROCESS] = 'P', [BT_FT_USER] = 'U', [BT_FT_KERNEL] = 'K',
	[BT_FT_BOUNDARY] = 'B', [BT_FT_WAKER] = 'W', [BT_FT_SEPARATOR] = 'S',
};

struct dump {
	char buf[4096];
	size_t len;
};

/* One line per frame: "depth type name total self". */
static int dump_frame(const struct bt_flame_frame *fr, void *ctx)
{
	struct dump *d = ctx;
	int n = snprintf(d->buf + d->len, sizeof(d->buf) - d->len, "%u %c %s %llu %llu\n",
			 fr->depth, type_chars[fr->type], fr->name,
			 (unsigned long long)fr->total, (unsigned long long)fr->self);

	assert_true(n > 0 && (size_t)n < sizeof(d->buf) - d->len);
	d->len += (size_t)n;
	return 0;
}

static const char *dump(const struct bt_flame *f, struct dump *d)
{
	d->len = 0;
	d->buf[0] = '\0';
	assert_int_equal(bt_flame_walk(f, dump_frame, d), 0);
	return d->buf;
}

/* The SVG in memory, NUL-terminated. */
static char *render(const struct bt_flame *f, const struct bt_flame_svg_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	assert_int_equal(bt_flame_write_svg(f, o, m), 0);
	assert_int_equal(fclose(m), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("SVG lacks: %s", needle);
}

/* The fill of the frame whose tooltip starts with title. */
static void fill_of(const char *svg, const char *title, unsigned int rgb[3])
{
	const char *p = strstr(svg, title);

	assert_non_null(p);
	p = strstr(p, "fill=\"rgb(");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "fill=\"rgb(%u,%u,%u)", &rgb[0], &rgb[1], &rgb[2]), 3);
}

/* check_xml.py on the SVG of f (tu_check_xml). frames < 0: any number of frames. */
static void check_well_formed(const struct bt_flame *f, const struct bt_flame_svg_opts *o,
			      long frames)
{
	char *svg = render(f, o);

	tu_check_xml(svg, frames);
	free(svg);
}

static void add3(struct bt_flame *f, const char *a, enum bt_frame_type ta,
		 const char *b, enum bt_frame_type tb, const char *c,
		 enum bt_frame_type tc, uint64_t w)
{
	const char *frames[] = { a, b, c };
	const enum bt_frame_type types[] = { ta, tb, tc };

	assert_int_equal(bt_flame_add(f, frames, types, c ? 3 : 2, w), 0);
}

/* ---- tree --------------------------------------------------------------- */

static void test_tree_merges_prefixes(void **state)
{
	struct bt_flame *f = bt_flame_new();
	struct dump d;

	(void)state;
	add3(f, "a[1]", BT_FT_PROCESS, "main", BT_FT_USER, "f", BT_FT_USER, 2);
	add3(f, "a[1]", BT_FT_PROCESS, "main", BT_FT_USER, "g", BT_FT_USER, 3);
	add3(f, "a[1]", BT_FT_PROCESS, "main", BT_FT_USER, NULL, 0, 1);
	add3(f, "a[1]", BT_FT_PROCESS, "main", BT_FT_USER, "f", BT_FT_USER, 4);
	/* Same name, other type: its own frame. */
	add3(f, "a[1]", BT_FT_PROCESS, "main", BT_FT_USER, "f", BT_FT_KERNEL, 5);
	add3(f, "b[2]", BT_FT_PROCESS, "main", BT_FT_USER, NULL, 0, 7);

	assert_string_equal(dump(f, &d),
			    "0 P a[1] 15 0\n"
			    "1 U main 15 1\n"
			    "2 U f 6 6\n"
			    "2 K f 5 5\n"
			    "2 U g 3 3\n"
			    "0 P b[2] 7 0\n"
			    "1 U main 7 7\n");
	assert_int_equal(bt_flame_total(f), 22);
	bt_flame_free(f);
}

static void test_tree_siblings_sorted(void **state)
{
	struct bt_flame *f = bt_flame_new();
	static const char *const names[] = { "zeta", "alpha", "mu", "beta", "alpha", "omega" };
	struct dump d;

	(void)state;
	for (size_t i = 0; i < 6; i++)
		add3(f, "p[1]", BT_FT_PROCESS, names[i], BT_FT_USER, NULL, 0, i + 1);
	assert_string_equal(dump(f, &d),
			    "0 P p[1] 21 0\n"
			    "1 U alpha 7 7\n"
			    "1 U beta 4 4\n"
			    "1 U mu 3 3\n"
			    "1 U omega 6 6\n"
			    "1 U zeta 1 1\n");
	bt_flame_free(f);
}

static void test_add_errors(void **state)
{
	struct bt_flame *f = bt_flame_new();
	const char *frames[] = { "p[1]", "a" };
	const char *holes[] = { "p[1]", NULL };
	enum bt_frame_type bad[] = { BT_FT_PROCESS, BT_FT_MAX };
	struct dump d;

	(void)state;
	assert_int_equal(bt_flame_add(NULL, frames, NULL, 2, 1), -EINVAL);
	assert_int_equal(bt_flame_add(f, frames, NULL, 0, 1), -EINVAL);
	assert_int_equal(bt_flame_add(f, NULL, NULL, 2, 1), -EINVAL);
	assert_int_equal(bt_flame_add(f, holes, NULL, 2, 1), -EINVAL);
	assert_int_equal(bt_flame_add(f, frames, bad, 2, 1), -EINVAL);
	/* Nothing to weigh: nothing added. */
	assert_int_equal(bt_flame_add(f, frames, NULL, 2, 0), 0);
	assert_string_equal(dump(f, &d), "");

	assert_int_equal(bt_flame_add(f, frames, NULL, 2, UINT64_MAX - 1), 0);
	assert_int_equal(bt_flame_add(f, frames, NULL, 1, 1), 0);
	assert_int_equal(bt_flame_total(f), UINT64_MAX);
	assert_int_equal(bt_flame_add(f, frames, NULL, 2, 1), -EOVERFLOW);
	assert_int_equal(bt_flame_total(f), UINT64_MAX);
	assert_string_equal(dump(f, &d),
			    "0 P p[1] 18446744073709551615 1\n"
			    "1 U a 18446744073709551614 18446744073709551614\n");
	bt_flame_free(f);
	bt_flame_free(NULL);
	assert_int_equal(bt_flame_total(NULL), 0);
}

static void test_depth_limit(void **state)
{
	static const char *frames[BT_FLAME_MAX_DEPTH + 1];
	struct bt_flame *f = bt_flame_new();

	(void)state;
	for (size_t i = 0; i <= BT_FLAME_MAX_DEPTH; i++)
		frames[i] = i % 2 ? "odd" : "even";
	assert_int_equal(bt_flame_add(f, frames, NULL, BT_FLAME_MAX_DEPTH + 1, 1), -E2BIG);
	assert_int_equal(bt_flame_total(f), 0);
	assert_int_equal(bt_flame_add(f, frames, NULL, BT_FLAME_MAX_DEPTH, 1), 0);
	/* The deepest stack still renders: one level per frame plus "all". */
	check_well_formed(f, NULL, BT_FLAME_MAX_DEPTH + 1);
	bt_flame_free(f);
}

/* ---- folded lines ------------------------------------------------------- */

static void test_folded_types(void **state)
{
	struct bt_flame *f = bt_flame_new();
	struct dump d;

	(void)state;
	assert_int_equal(bt_flame_add_folded_line(f,
		"cat[12];main;write;-;ksys_write;pipe:[1234]\xe2\x86\x92" "cat 5\n"), 0);
	assert_int_equal(bt_flame_add_folded_line(f, "w[3];wait;--;wake_up;sched_[k] 2"), 0);
	assert_int_equal(bt_flame_add_folded_line(f, "x[1];futex:0x7f00 3"), 0);
	/* Only the leaf can be the boundary, and only with a known kind. */
	assert_int_equal(bt_flame_add_folded_line(f, "y[1];unix_stream:[9];f 1"), 0);
	assert_int_equal(bt_flame_add_folded_line(f, "z[1];nokind:[1] 1"), 0);
	assert_int_equal(bt_flame_add_folded_line(f, "solo[4] 4"), 0);
	assert_string_equal(dump(f, &d),
			    "0 P cat[12] 5 0\n"
			    "1 U main 5 0\n"
			    "2 U write 5 0\n"
			    "3 S - 5 0\n"
			    "4 K ksys_write 5 0\n"
			    "5 B pipe:[1234]\xe2\x86\x92" "cat 5 5\n"
			    "0 P solo[4] 4 4\n"
			    "0 P w[3] 2 0\n"
			    "1 U wait 2 0\n"
			    "2 S -- 2 0\n"
			    "3 W wake_up 2 0\n"
			    "4 K sched_[k] 2 2\n"
			    "0 P x[1] 3 0\n"
			    "1 B futex:0x7f00 3 3\n"
			    "0 P y[1] 1 0\n"
			    "1 U unix_stream:[9] 1 0\n"
			    "2 U f 1 1\n"
			    "0 P z[1] 1 0\n"
			    "1 U nokind:[1] 1 1\n");
	bt_flame_free(f);
}

static void test_folded_parsing(void **state)
{
	struct bt_flame *f = bt_flame_new();
	struct dump d;

	(void)state;
	assert_int_equal(bt_flame_add_folded_line(f, ""), 0);
	assert_int_equal(bt_flame_add_folded_line(f, " \t\r\n"), 0);
	assert_int_equal(bt_flame_add_folded_line(f, "a;b"), -EINVAL);
	assert_int_equal(bt_flame_add_folded_line(f, "a;b 12x"), -EINVAL);
	assert_int_equal(bt_flame_add_folded_line(f, "a;b 1.5"), -EINVAL);
	assert_int_equal(bt_flame_add_folded_line(f, "a;b12"), -EINVAL);
	assert_int_equal(bt_flame_add_folded_line(f, "   12"), -EINVAL);
	assert_int_equal(bt_flame_add_folded_line(f, "12"), -EINVAL);
	assert_int_equal(bt_flame_add_folded_line(f, "a 18446744073709551616"), -EOVERFLOW);
	assert_int_equal(bt_flame_add_folded_line(NULL, "a 1"), -EINVAL);
	assert_int_equal(bt_flame_add_folded_line(f, NULL), -EINVAL);
	assert_int_equal(bt_flame_total(f), 0);

	/* The weight is the last word; spaces before it belong to the stack. */
	assert_int_equal(bt_flame_add_folded_line(f, "a b;c  7\r\n"), 0);
	assert_int_equal(bt_flame_add_folded_line(f, "a b;c\t3"), 0);
	assert_int_equal(bt_flame_add_folded_line(f, "a b;;c 1"), 0);
	assert_string_equal(dump(f, &d),
			    "0 P a b 11 0\n"
			    "1 U  1 0\n"
			    "2 U c 1 1\n"
			    "1 U c 10 10\n");
	assert_int_equal(bt_flame_add_folded_line(f, "q 18446744073709551604"), 0);
	assert_int_equal(bt_flame_total(f), UINT64_MAX);
	assert_int_equal(bt_flame_add_folded_line(f, "q 1"), -EOVERFLOW);
	bt_flame_free(f);
}

static void test_folded_depth_limit(void **state)
{
	size_t len = 2 * (BT_FLAME_MAX_DEPTH + 1) + 8;
	char *line = malloc(len);
	struct bt_flame *f = bt_flame_new();
	size_t o = 0;

	(void)state;
	for (size_t i = 0; i <= BT_FLAME_MAX_DEPTH; i++)
		o += (size_t)snprintf(line + o, len - o, "%sx", i ? ";" : "");
	snprintf(line + o, len - o, " 1");
	assert_int_equal(bt_flame_add_folded_line(f, line), -E2BIG);
	/* One frame fewer fits. */
	assert_int_equal(bt_flame_add_folded_line(f, line + 2), 0);
	assert_int_equal(bt_flame_total(f), 1);
	free(line);
	bt_flame_free(f);
}

static void test_sanitize(void **state)
{
	char a[] = "a;b c\td\ne\r;";
	char b[] = "pipe:[1234]\xe2\x86\x92" "cat \xe2\x87\xa2 x";
	char c[] = "";

	(void)state;
	bt_flame_sanitize(a);
	assert_string_equal(a, "a_b_c_d_e__");
	/* UTF-8 passes untouched; only the ASCII space goes. */
	bt_flame_sanitize(b);
	assert_string_equal(b, "pipe:[1234]\xe2\x86\x92" "cat_\xe2\x87\xa2_x");
	bt_flame_sanitize(c);
	assert_string_equal(c, "");
	bt_flame_sanitize(NULL);
}

/* ---- SVG ---------------------------------------------------------------- */

/* total 8, width 1200: 1180 px / 8 = 147.5 px per call */
static struct bt_flame *small_flame(void)
{
	struct bt_flame *f = bt_flame_new();

	add3(f, "bash[1]", BT_FT_PROCESS, "main", BT_FT_USER, "read", BT_FT_USER, 3);
	add3(f, "bash[1]", BT_FT_PROCESS, "main", BT_FT_USER, "write", BT_FT_USER, 1);
	add3(f, "cat[2]", BT_FT_PROCESS, "vfs_read", BT_FT_KERNEL,
	     "pipe:[7]\xe2\x86\x92" "bash", BT_FT_BOUNDARY, 4);
	return f;
}

static void test_svg_small_exact(void **state)
{
	struct bt_flame *f = small_flame();
	struct bt_flame_svg_opts o = { .title = "IPC calls", .unit = "calls", .width = 1200 };
	char *svg = render(f, &o);
	unsigned int rgb[3];

	(void)state;
	/* 4 levels: height = 36 title + 4 * 16 + 34 details = 134 */
	assert_contains(svg, "<svg version=\"1.1\" width=\"1200\" height=\"134\"");
	assert_contains(svg, "<text id=\"title\" x=\"600.0\" y=\"24\">IPC calls</text>");
	assert_int_equal(count(svg, "<g class=\"f\""), 8);
	/* level l sits at y = 134 - 34 - 16 (l + 1) + 1 */
	assert_contains(svg, "<g class=\"f\" data-w=\"8\"><title>all (8 calls, 100.00%)</title>"
			"<rect x=\"10.00\" y=\"85\" width=\"1180.00\" height=\"15\"");
	assert_contains(svg, "<g class=\"f\" data-w=\"4\"><title>bash[1] (4 calls, 50.00%)</title>"
			"<rect x=\"10.00\" y=\"69\" width=\"590.00\" height=\"15\"");
	assert_contains(svg, "<g class=\"f\" data-w=\"3\"><title>read (3 calls, 37.50%)</title>"
			"<rect x=\"10.00\" y=\"37\" width=\"442.50\" height=\"15\"");
	assert_contains(svg, "<g class=\"f\" data-w=\"1\"><title>write (1 calls, 12.50%)</title>"
			"<rect x=\"452.50\" y=\"37\" width=\"147.50\" height=\"15\"");
	assert_contains(svg, "<g class=\"f\" data-w=\"4\"><title>cat[2] (4 calls, 50.00%)</title>"
			"<rect x=\"600.00\" y=\"69\" width=\"590.00\" height=\"15\"");
	assert_contains(svg, "<title>pipe:[7]\xe2\x86\x92" "bash (4 calls, 50.00%)</title>"
			"<rect x=\"600.00\" y=\"37\" width=\"590.00\" height=\"15\"");
	assert_contains(svg, "<text x=\"13.00\" y=\"47.5\">read</text>");
	assert_contains(svg, "<text x=\"455.50\" y=\"47.5\">write</text>");
	assert_contains(svg, "<text x=\"603.00\" y=\"47.5\">pipe:[7]\xe2\x86\x92" "bash</text>");

	/* Colours by type. */
	fill_of(svg, "<title>bash[1] ", rgb);
	assert_true(rgb[0] == rgb[1] && rgb[1] == rgb[2]);
	fill_of(svg, "<title>read ", rgb);
	assert_true(rgb[0] >= 205 && rgb[2] < 55);
	fill_of(svg, "<title>vfs_read ", rgb);
	assert_true(rgb[0] >= 165 && rgb[0] < 205 && rgb[1] >= 105 && rgb[1] < 135 &&
		    rgb[2] >= 55 && rgb[2] < 80);
	fill_of(svg, "<title>pipe:", rgb);
	assert_true(rgb[2] >= 205 && rgb[0] < 100);

	/* Self-contained: no links, no other files, the script inline. */
	assert_null(strstr(svg, "href"));
	assert_int_equal(count(svg, "http://"), 1);
	assert_contains(svg, "<script type=\"text/ecmascript\"><![CDATA[");
	assert_contains(svg, "function zoom(");
	assert_contains(svg, ">Reset Zoom</text>");
	assert_contains(svg, ">Search</text>");
	assert_contains(svg, "<text id=\"details\"");
	free(svg);
	check_well_formed(f, &o, 8);
	bt_flame_free(f);
}

static void test_svg_deterministic(void **state)
{
	struct bt_flame *f = small_flame(), *g = bt_flame_new();
	char *a, *b, *c;

	(void)state;
	/* The same stacks in another order make the same tree. */
	add3(g, "cat[2]", BT_FT_PROCESS, "vfs_read", BT_FT_KERNEL,
	     "pipe:[7]\xe2\x86\x92" "bash", BT_FT_BOUNDARY, 4);
	add3(g, "bash[1]", BT_FT_PROCESS, "main", BT_FT_USER, "write", BT_FT_USER, 1);
	add3(g, "bash[1]", BT_FT_PROCESS, "main", BT_FT_USER, "read", BT_FT_USER, 1);
	add3(g, "bash[1]", BT_FT_PROCESS, "main", BT_FT_USER, "read", BT_FT_USER, 2);
	a = render(f, NULL);
	b = render(f, NULL);
	c = render(g, NULL);
	assert_string_equal(a, b);
	assert_string_equal(a, c);
	/* Defaults: 1200 px, "Flame Graph", samples. */
	assert_contains(a, "width=\"1200\"");
	assert_contains(a, ">Flame Graph</text>");
	assert_contains(a, "<title>all (8 samples, 100.00%)</title>");
	free(a);
	free(b);
	free(c);
	bt_flame_free(f);
	bt_flame_free(g);
}

static void test_svg_narrow_frames(void **state)
{
	struct bt_flame *f = bt_flame_new();
	struct bt_flame_svg_opts o = { .unit = "bytes" };
	char *svg;

	(void)state;
	/* 1180 px / 10,000 = 0.118 px a byte: "tiny" is too narrow to draw. */
	assert_int_equal(bt_flame_add_folded_line(f, "p[1];big 8999"), 0);
	assert_int_equal(bt_flame_add_folded_line(f, "p[1];tiny 1"), 0);
	assert_int_equal(bt_flame_add_folded_line(f, "p[1];tiny;deeper;still 0"), 0);
	assert_int_equal(bt_flame_add_folded_line(f,
		"p[1];zz\xe2\x86\x92" "abcdefghijklmnopqrstuvwxyz 1000"), 0);
	svg = render(f, &o);
	assert_null(strstr(svg, "tiny"));
	assert_int_equal(count(svg, "<g class=\"f\""), 4);
	/* The parent still counts it... */
	assert_contains(svg, "<title>p[1] (10,000 bytes, 100.00%)</title>");
	/* ...and the siblings after it still make room for it. */
	assert_contains(svg, "(1,000 bytes, 10.00%)</title><rect x=\"1072.00\" y=\"37\" "
			"width=\"118.00\"");
	/* 118 px hold 16 characters at 7.08 px: 14 code points and "..". */
	assert_contains(svg, ">zz\xe2\x86\x92" "abcdefghijk..</text>");
	/* Levels of left-out frames take no height: 3 levels, 36 + 48 + 34. */
	assert_contains(svg, "height=\"118\"");
	free(svg);
	check_well_formed(f, &o, 4);
	bt_flame_free(f);
}

static void test_svg_escaping(void **state)
{
	struct bt_flame *f = bt_flame_new();
	struct bt_flame_svg_opts o = {
		.title = "T & <b>", .subtitle = "'s' \"q\"", .unit = "u<s>",
	};
	const char *frames[] = {
		"a&b<c>[1]", "\"q\" 'x'", "bad\xff\x01|\xc0\xaf|\xed\xa0\x80|\xe2\x86",
	};
	char *svg;

	(void)state;
	assert_int_equal(bt_flame_add(f, frames, NULL, 3, 5), 0);
	svg = render(f, &o);
	assert_contains(svg, ">T &amp; &lt;b&gt;</text>");
	assert_contains(svg, "<text id=\"subtitle\" x=\"600.0\" y=\"48\">&apos;s&apos; &quot;q&quot;</text>");
	assert_contains(svg, "<title>a&amp;b&lt;c&gt;[1] (5 u&lt;s&gt;, 100.00%)</title>");
	assert_contains(svg, "<title>&quot;q&quot; &apos;x&apos; (5 u&lt;s&gt;");
	assert_contains(svg, ">a&amp;b&lt;c&gt;[1]</text>");
	/* Bad bytes, overlongs, surrogates, cut sequences, controls: U+FFFD. */
	assert_contains(svg, "<title>bad\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
			"\xef\xbf\xbd|\xef\xbf\xbd (5 u&lt;s&gt;");
	assert_null(strstr(svg, "\xff"));
	assert_null(strstr(svg, "\x01"));
	/* The subtitle takes 24 px more at the top: 36 + 24 + 4 * 16 + 34. */
	assert_contains(svg, "height=\"158\"");
	free(svg);
	check_well_formed(f, &o, 4);
	bt_flame_free(f);
}

static void test_svg_empty_and_errors(void **state)
{
	struct bt_flame *f = bt_flame_new();
	struct bt_flame_svg_opts narrow = { .width = 99 }, huge = { .width = 100001 };
	char *svg;
	FILE *ro;

	(void)state;
	svg = render(f, NULL);
	assert_contains(svg, "no stacks recorded");
	assert_int_equal(count(svg, "<g class=\"f\""), 0);
	free(svg);
	check_well_formed(f, NULL, 0);

	assert_int_equal(bt_flame_write_svg(f, &narrow, stdout), -EINVAL);
	assert_int_equal(bt_flame_write_svg(f, &huge, stdout), -EINVAL);
	assert_int_equal(bt_flame_write_svg(NULL, NULL, stdout), -EINVAL);
	assert_int_equal(bt_flame_write_svg(f, NULL, NULL), -EINVAL);
	/* A stream that cannot be written: the error is reported. */
	ro = fopen("check_xml.py", "r");
	assert_non_null(ro);
	assert_int_equal(bt_flame_write_svg(f, NULL, ro), -EIO);
	fclose(ro);
	bt_flame_free(f);
}

/* ---- scale -------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: the same "random" stacks on every run. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static const char *const vocab[] = {
	"main", "read", "write", "ksys_write", "vfs_read", "pipe_write", "__schedule",
	"-", "--", "futex_wait", "do_syscall_64", "entry_SYSCALL_64", "a<b>&c",
	"\"quoted\"", "it's", "\xe2\x87\xa2" "waker", "pipe:[1]\xe2\x86\x92" "cat",
	"unix_stream:[42]\xe2\x86\x92" "sshd", "futex:0x7ffd", "std::vector<int>::push_back",
	"a_very_long_function_name_that_will_surely_be_truncated_somewhere_in_the_graph",
};
#define NVOCAB (sizeof(vocab) / sizeof(vocab[0]))

struct check {
	uint64_t total[BT_FLAME_MAX_DEPTH + 1];
	uint64_t self[BT_FLAME_MAX_DEPTH + 1];
	uint64_t kids[BT_FLAME_MAX_DEPTH + 1];
	unsigned int n;		/* open frames */
	uint64_t top;		/* sum of the depth-0 frames */
	size_t frames;
};

static void check_close(struct check *c, unsigned int depth)
{
	while (c->n > depth) {
		c->n--;
		assert_true(c->self[c->n] + c->kids[c->n] == c->total[c->n]);
	}
}

/* Every frame weighs exactly its own stacks plus its children. */
static int check_frame(const struct bt_flame_frame *fr, void *ctx)
{
	struct check *c = ctx;

	check_close(c, fr->depth);
	assert_int_equal(c->n, fr->depth);
	if (fr->depth)
		c->kids[fr->depth - 1] += fr->total;
	else
		c->top += fr->total;
	c->total[c->n] = fr->total;
	c->self[c->n] = fr->self;
	c->kids[c->n] = 0;
	c->n++;
	c->frames++;
	return 0;
}

static void test_large_random(void **state)
{
	struct bt_flame *f = bt_flame_new();
	struct bt_flame_svg_opts o = { .title = "random", .unit = "us", .width = 1900 };
	static struct check c;
	uint64_t sum = 0;
	char *svg;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		const char *frames[40];
		char proc[32], line[2048];
		size_t n = 1 + rnd() % 39, o2;
		uint64_t w = 1 + rnd() % 1000000;

		snprintf(proc, sizeof(proc), "proc%u[%u]", (unsigned int)(rnd() % 8),
			 (unsigned int)(rnd() % 4));
		frames[0] = proc;
		for (size_t j = 1; j < n; j++)
			frames[j] = vocab[rnd() % (j < 4 ? 3 : NVOCAB)];
		if (i % 2) {
			assert_int_equal(bt_flame_add(f, frames, NULL, n, w), 0);
		} else {
			/* The same through the folded format. */
			o2 = 0;
			for (size_t j = 0; j < n; j++)
				o2 += (size_t)snprintf(line + o2, sizeof(line) - o2, "%s%s",
						       j ? ";" : "", frames[j]);
			snprintf(line + o2, sizeof(line) - o2, " %llu", (unsigned long long)w);
			assert_int_equal(bt_flame_add_folded_line(f, line), 0);
		}
		sum += w;
	}
	assert_int_equal(bt_flame_total(f), sum);
	assert_int_equal(bt_flame_walk(f, check_frame, &c), 0);
	check_close(&c, 0);
	assert_int_equal(c.top, sum);
	assert_true(c.frames > 10000);

	svg = render(f, &o);
	assert_contains(svg, "width=\"1900\"");
	assert_true(count(svg, "<g class=\"f\"") < c.frames + 1);
	free(svg);
	check_well_formed(f, &o, -1);
	bt_flame_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_merges_prefixes),
		cmocka_unit_test(test_tree_siblings_sorted),
		cmocka_unit_test(test_add_errors),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_folded_types),
		cmocka_unit_test(test_folded_parsing),
		cmocka_unit_test(test_folded_depth_limit),
		cmocka_unit_test(test_sanitize),
		cmocka_unit_test(test_svg_small_exact),
		cmocka_unit_test(test_svg_deterministic),
		cmocka_unit_test(test_svg_narrow_frames),
		cmocka_unit_test(test_svg_escaping),
		cmocka_unit_test(test_svg_empty_and_errors),
		cmocka_unit_test(test_large_random),
	};

	return cmocka_run_group_tests_name("flame", tests, NULL, NULL);
}
