// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The flame graph as one SVG file: the look of flamegraph.pl (root at the
 * bottom, siblings by name, width by weight) with inline CSS and script
 * for hover details, click-to-zoom and regex search. No external files,
 * so a report can be mailed or attached as is.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>
#include "analyze/flame_priv.h"
#include "lib/units.h"

#define FONT_SIZE	12
#define FONT_WIDTH	0.59	/* mean Verdana glyph width per pixel of font size */
#define FRAME_H		16	/* one level, 1 px of it the gap between levels */
#define XPAD		10
#define YPAD_TOP	(FONT_SIZE * 3)		/* title and buttons */
#define YPAD_SUB	(FONT_SIZE * 2)		/* subtitle, when there is one */
#define YPAD_BOTTOM	(FONT_SIZE * 2 + 10)	/* details line */
/* Narrower frames are left out: invisible, and they would bloat the file. */
#define MIN_PX		0.5
#define DEFAULT_WIDTH	1200
#define MIN_WIDTH	100
#define MAX_WIDTH	100000

struct svg {
	FILE *out;
	const char *unit;
	uint64_t total;
	double scale;		/* pixels per unit of weight */
	unsigned int height;
};

/* ---- text --------------------------------------------------------------- */

/*
 * Decodes one UTF-8 sequence at s into *cp and returns its length (>= 1).
 * Invalid sequences, and code points XML 1.0 forbids (raw comm bytes can
 * be anything), come out as U+FFFD so the file stays well-formed.
 */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	uint32_t v, min;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0] < 0x20 ? 0xfffd : s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		min = 0x10000;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	v = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		/* Also stops at the terminating NUL. */
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return i;
		}
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ||
	    v == 0xfffe || v == 0xffff)
		v = 0xfffd;
	*cp = v;
	return len;
}

/*
 * Length in code points, as the label fitting counts them, or (utf16)
 * as JavaScript counts it once written: UTF-16 code units.
 */
static size_t text_len(const char *s, bool utf16)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;
	uint32_t cp;

	while (*p) {
		p += utf8_next(p, &cp);
		n += utf16 && cp >= 0x10000 ? 2 : 1;
	}
	return n;
}

/* Writes at most max code points of s as XML character data. */
static void put_xml_n(FILE *out, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t n = 0; *p && n < max; n++) {
		uint32_t cp;
		size_t len = utf8_next(p, &cp);

		switch (cp) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		case 0xfffd: fputs("\xef\xbf\xbd", out); break;
		default: fwrite(p, 1, len, out); break;
		}
		p += len;
	}
}

static void put_xml(FILE *out, const char *s)
{
	put_xml_n(out, s, SIZE_MAX);
}

/* The label that fits w pixels: whole, cut with "..", or none at all. */
static void put_label(FILE *out, const char *name, double w)
{
	size_t fit = (size_t)(w / (FONT_SIZE * FONT_WIDTH));

	if (fit < 3)
		return;
	if (text_len(name, false) <= fit) {
		put_xml(out, name);
		return;
	}
	put_xml_n(out, name, fit - 2);
	fputs("..", out);
}

/* ---- colours ------------------------------------------------------------ */

/* FNV-1a: stable across runs and platforms, so colours are too. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* [base, base + span) in each channel, picked by three slices of a hash. */
struct palette {
	unsigned char base[3];
	unsigned char span[3];
	unsigned char slice[3];	/* which hash slice drives the channel */
};

static const struct palette palettes[BT_FT_MAX] = {
	/* grey: one slice for all channels keeps it grey */
	[BT_FT_PROCESS]		= { { 170, 170, 170 }, { 45, 45, 45 }, { 0, 0, 0 } },
	/* flamegraph.pl's "hot": red through orange to yellow */
	[BT_FT_USER]		= { { 205, 0, 0 }, { 50, 230, 55 }, { 2, 0, 1 } },
	/* muted brown to tan: apart from the saturated user frames at a glance */
	[BT_FT_KERNEL]		= { { 165, 105, 55 }, { 40, 30, 25 }, { 0, 0, 1 } },
	[BT_FT_BOUNDARY]	= { { 50, 130, 205 }, { 50, 90, 50 }, { 0, 1, 2 } },
	[BT_FT_WAKER]		= { { 150, 90, 200 }, { 50, 40, 55 }, { 0, 0, 1 } },
	[BT_FT_SEPARATOR]	= { { 215, 215, 215 }, { 0, 0, 0 }, { 0, 0, 0 } },
};

static void put_fill(FILE *out, enum bt_frame_type type, const char *name)
{
	const struct palette *p = &palettes[type];
	uint64_t h = name_hash(name);
	unsigned int c[3];

	for (int i = 0; i < 3; i++) {
		double v = (double)((h >> (16 * p->slice[i])) & 0xffff) / 65536.0;

		c[i] = p->base[i] + (unsigned int)(p->span[i] * v);
	}
	fprintf(out, "rgb(%u,%u,%u)", c[0], c[1], c[2]);
}

/* ---- frames ------------------------------------------------------------- */

static bool visible(const struct svg *s, const struct bt_flame_node *n)
{
	return (double)n->total * s->scale >= MIN_PX;
}

/* Levels of visible frames above n. */
static unsigned int levels_above(const struct svg *s, const struct bt_flame_node *n)
{
	unsigned int best = 0;

	for (size_t i = 0; i < n->nkids; i++) {
		unsigned int l;

		if (!visible(s, n->kids[i]))
			continue;
		l = 1 + levels_above(s, n->kids[i]);
		if (l > best)
			best = l;
	}
	return best;
}

/*
 * One frame: <title> for the hover tooltip, data-w for the search total
 * (widths are rounded), an always-present <text> the zoom can refill.
 */
static void put_frame(const struct svg *s, const struct bt_flame_node *n,
		      unsigned int level, uint64_t start)
{
	double x = XPAD + (double)start * s->scale;
	double w = (double)n->total * s->scale;
	unsigned int y = s->height - YPAD_BOTTOM - (level + 1) * FRAME_H + 1;
	const char *name = level ? n->name : "all";
	char count[48];

	fmt_count(n->total, count, sizeof(count));
	fprintf(s->out, "<g class=\"f\" data-w=\"%" PRIu64 "\"><title>", n->total);
	put_xml(s->out, name);
	fprintf(s->out, " (%s ", count);
	put_xml(s->out, s->unit);
	fprintf(s->out, ", %.2f%%)</title><rect x=\"%.2f\" y=\"%u\" width=\"%.2f\" height=\"%u\" fill=\"",
		100.0 * (double)n->total / (double)s->total, x, y, w, FRAME_H - 1);
	if (level)
		put_fill(s->out, n->type, n->name);
	else
		fputs("rgb(200,200,200)", s->out);
	fprintf(s->out, "\" rx=\"2\" ry=\"2\"/><text x=\"%.2f\" y=\"%.1f\">", x + 3, y + 10.5);
	put_label(s->out, name, w);
	fputs("</text></g>\n", s->out);
}

static void put_subtree(const struct svg *s, const struct bt_flame_node *n,
			unsigned int level, uint64_t start)
{
	uint64_t at = start;

	put_frame(s, n, level, start);
	for (size_t i = 0; i < n->nkids; i++) {
		const struct bt_flame_node *k = n->kids[i];

		/* Left out, but its weight still moves the siblings after it. */
		if (visible(s, k))
			put_subtree(s, k, level + 1, at);
		at += k->total;
	}
}

/* ---- document ----------------------------------------------------------- */

static const char css[] =
	"text { font-family: Verdana, sans-serif; font-size: 12px; fill: rgb(0,0,0); }\n"
	"#title { text-anchor: middle; font-size: 17px; }\n"
	"#subtitle { text-anchor: middle; fill: rgb(160,160,160); }\n"
	"#search, #matched { text-anchor: end; }\n"
	"#search, #unzoom { cursor: pointer; opacity: 0.6; }\n"
	"#search:hover, #unzoom:hover { opacity: 1; }\n"
	"#frames > g { cursor: pointer; }\n"
	"#frames > g:hover > rect { stroke: rgb(0,0,0); stroke-width: 0.5; }\n"
	"#frames text { pointer-events: none; }\n"
	".hide { display: none; }\n"
	".parent { opacity: 0.5; }\n";

/*
 * Zoom and search keep each frame's original geometry from the file and
 * recompute from it, so repeated zooms do not accumulate rounding.
 */
static const char script[] =
	"'use strict';\n"
	"var frames = [], zoomed = null, searching = null;\n"
	"var details, matched, searchbtn, unzoombtn;\n"
	"function $(id) { return document.getElementById(id); }\n"
	"function init() {\n"
	"\tdetails = $('details'); matched = $('matched');\n"
	"\tsearchbtn = $('search'); unzoombtn = $('unzoom');\n"
	"\tvar gs = document.querySelectorAll('#frames > g');\n"
	"\tfor (var i = 0; i < gs.length; i++) {\n"
	"\t\tvar g = gs[i], r = g.querySelector('rect'), t = g.querySelector('text');\n"
	"\t\tvar s = g.querySelector('title').textContent;\n"
	"\t\tg.btIndex = i;\n"
	"\t\tframes.push({ g: g, r: r, t: t, tip: s, name: name_of(s),\n"
	"\t\t\tx: +r.getAttribute('x'), w: +r.getAttribute('width'), y: +r.getAttribute('y'),\n"
	"\t\t\tweight: +g.getAttribute('data-w'), fill: r.getAttribute('fill'), label: t.textContent });\n"
	"\t}\n"
	"\tvar fg = $('frames');\n"
	"\tfg.addEventListener('click', function (e) { var f = frame_of(e.target); if (f) zoom(f); });\n"
	"\tfg.addEventListener('mouseover', function (e) {\n"
	"\t\tvar f = frame_of(e.target); if (f) details.textContent = 'Frame: ' + f.tip; });\n"
	"\tfg.addEventListener('mouseout', function () { details.textContent = ' '; });\n"
	"\tsearchbtn.addEventListener('click', search_prompt);\n"
	"\tunzoombtn.addEventListener('click', unzoom);\n"
	"\tdocument.addEventListener('keydown', function (e) {\n"
	"\t\tif (e.key === 'F3' || ((e.ctrlKey || e.metaKey) && e.key === 'f')) {\n"
	"\t\t\te.preventDefault(); search_prompt();\n"
	"\t\t} else if (e.key === 'Escape') { reset_search(); unzoom(); }\n"
	"\t});\n"
	"}\n"
	/* The tooltip is "name (N unit, P%)"; unit may hold anything, so cut by its length. */
	"function name_of(s) {\n"
	"\tvar i = s.lastIndexOf(', ') - cfg.unitlen - 1;\n"
	"\twhile (i > 0 && '0123456789,'.indexOf(s.charAt(i - 1)) >= 0) i--;\n"
	"\treturn s.substring(0, i - 2);\n"
	"}\n"
	"function frame_of(n) {\n"
	"\tfor (; n && n.id !== 'frames'; n = n.parentNode)\n"
	"\t\tif (n.btIndex !== undefined) return frames[n.btIndex];\n"
	"\treturn null;\n"
	"}\n"
	"function fit(f, w) {\n"
	"\tvar room = Math.floor(w / cfg.charw), cps = Array.from(f.name);\n"
	"\tif (room < 3) return '';\n"
	"\treturn cps.length <= room ? f.name : cps.slice(0, room - 2).join('') + '..';\n"
	"}\n"
	"function place(f, x, w) {\n"
	"\tf.r.setAttribute('x', x.toFixed(2)); f.r.setAttribute('width', w.toFixed(2));\n"
	"\tf.t.setAttribute('x', (x + 3).toFixed(2)); f.t.textContent = fit(f, w);\n"
	"\tf.g.classList.remove('hide');\n"
	"}\n"
	/* Rounding slack: x and width are each printed to 0.01 px. */
	"var SLACK = 0.02;\n"
	"function zoom(z) {\n"
	"\tif (z.y === frames[0].y) { unzoom(); return; }\n"
	"\tzoomed = z; unzoombtn.classList.remove('hide');\n"
	"\tvar scale = cfg.plotw / z.w;\n"
	"\tframes.forEach(function (f) {\n"
	"\t\tif (f.y > z.y) {\n"
	"\t\t\tif (f.x <= z.x + SLACK && f.x + f.w >= z.x + z.w - SLACK) {\n"
	"\t\t\t\tplace(f, cfg.xpad, cfg.plotw); f.g.classList.add('parent');\n"
	"\t\t\t} else f.g.classList.add('hide');\n"
	"\t\t} else if (f.x >= z.x - SLACK && f.x + f.w <= z.x + z.w + SLACK) {\n"
	"\t\t\tplace(f, cfg.xpad + (f.x - z.x) * scale, f.w * scale);\n"
	"\t\t\tf.g.classList.remove('parent');\n"
	"\t\t} else f.g.classList.add('hide');\n"
	"\t});\n"
	"}\n"
	"function unzoom() {\n"
	"\tif (!zoomed) return;\n"
	"\tzoomed = null; unzoombtn.classList.add('hide');\n"
	"\tframes.forEach(function (f) {\n"
	"\t\tplace(f, f.x, f.w); f.t.textContent = f.label; f.g.classList.remove('parent');\n"
	"\t});\n"
	"}\n"
	"function search_prompt() {\n"
	"\tif (searching !== null) { reset_search(); return; }\n"
	"\tvar term = prompt('Search frames (regular expression, e.g. ^pipe:)', '');\n"
	"\tif (term) search(term);\n"
	"}\n"
	"function search(term) {\n"
	"\tvar re;\n"
	"\ttry { re = new RegExp(term); } catch (err) { matched.textContent = 'Bad regex: ' + err.message; return; }\n"
	"\treset_search(); searching = term;\n"
	"\tvar hits = frames.filter(function (f) { return re.test(f.name); });\n"
	"\thits.forEach(function (f) { f.r.setAttribute('fill', 'rgb(230,0,230)'); });\n"
	/* Count matches inside a matched frame once: by x, outermost first. */
	"\thits.sort(function (a, b) { return a.x - b.x || b.y - a.y; });\n"
	"\tvar sum = 0, end = -1;\n"
	"\thits.forEach(function (f) {\n"
	"\t\tif (f.x + f.w <= end + SLACK) return;\n"
	"\t\tsum += f.weight; end = f.x + f.w;\n"
	"\t});\n"
	"\tvar pct = cfg.total ? 100 * sum / cfg.total : 0;\n"
	"\tmatched.textContent = 'Matched: ' + pct.toFixed(2) + '% (' + hits.length + ' frames)';\n"
	"\tsearchbtn.textContent = 'Reset Search';\n"
	"}\n"
	"function reset_search() {\n"
	"\tif (searching === null) return;\n"
	"\tsearching = null;\n"
	"\tframes.forEach(function (f) { f.r.setAttribute('fill', f.fill); });\n"
	"\tmatched.textContent = ' '; searchbtn.textContent = 'Search';\n"
	"}\n";

static void put_head(const struct svg *s, const struct bt_flame_svg_opts *o,
		     unsigned int width)
{
	FILE *out = s->out;

	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
		"<svg version=\"1.1\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" "
		"onload=\"init()\" xmlns=\"http://www.w3.org/2000/svg\">\n",
		width, s->height, width, s->height);
	fprintf(out, "<!-- written by boundtrace -->\n<defs><linearGradient id=\"bg\" "
		"x1=\"0\" x2=\"0\" y1=\"0\" y2=\"1\"><stop stop-color=\"#eeeeee\" offset=\"5%%\"/>"
		"<stop stop-color=\"#eeeeb0\" offset=\"95%%\"/></linearGradient></defs>\n");
	fprintf(out, "<style type=\"text/css\"><![CDATA[\n%s]]></style>\n", css);
	fprintf(out, "<script type=\"text/ecmascript\"><![CDATA[\n"
		"var cfg = { xpad: %d, plotw: %u, charw: %.2f, total: %" PRIu64 ", unitlen: %zu };\n"
		"%s]]></script>\n",
		XPAD, width - 2 * XPAD, FONT_SIZE * FONT_WIDTH, s->total, text_len(s->unit, true),
		script);
	fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%u\" fill=\"url(#bg)\"/>\n",
		width, s->height);

	fprintf(out, "<text id=\"title\" x=\"%.1f\" y=\"%d\">", width / 2.0, FONT_SIZE * 2);
	put_xml(out, o->title ? o->title : "Flame Graph");
	fputs("</text>\n", out);
	if (o->subtitle) {
		fprintf(out, "<text id=\"subtitle\" x=\"%.1f\" y=\"%d\">", width / 2.0, FONT_SIZE * 4);
		put_xml(out, o->subtitle);
		fputs("</text>\n", out);
	}
	fprintf(out, "<text id=\"unzoom\" class=\"hide\" x=\"%d\" y=\"%d\">Reset Zoom</text>\n",
		XPAD, FONT_SIZE * 2);
	fprintf(out, "<text id=\"search\" x=\"%u\" y=\"%d\">Search</text>\n",
		width - XPAD, FONT_SIZE * 2);
	fprintf(out, "<text id=\"details\" x=\"%d\" y=\"%u\"> </text>\n",
		XPAD, s->height - YPAD_BOTTOM / 2);
	fprintf(out, "<text id=\"matched\" x=\"%u\" y=\"%u\"> </text>\n",
		width - XPAD, s->height - YPAD_BOTTOM / 2);
}

int bt_flame_write_svg(const struct bt_flame *f,
		       const struct bt_flame_svg_opts *opts, FILE *out)
{
	static const struct bt_flame_svg_opts defaults;
	const struct bt_flame_svg_opts *o = opts ? opts : &defaults;
	unsigned int width = o->width ? o->width : DEFAULT_WIDTH;
	unsigned int top = YPAD_TOP + (o->subtitle ? YPAD_SUB : 0);
	unsigned int levels = 1;
	struct svg s = {
		.out = out,
		.unit = o->unit ? o->unit : "samples",
		.total = f ? f->root.total : 0,
	};

	if (!f || !out || width < MIN_WIDTH || width > MAX_WIDTH)
		return -EINVAL;
	if (s.total) {
		s.scale = (double)(width - 2 * XPAD) / (double)s.total;
		levels += levels_above(&s, &f->root);
	}
	s.height = top + levels * FRAME_H + YPAD_BOTTOM;

	put_head(&s, o, width);
	fputs("<g id=\"frames\">\n", out);
	if (s.total)
		put_subtree(&s, &f->root, 0, 0);
	fputs("</g>\n", out);
	if (!s.total)
		fprintf(out, "<text x=\"%.1f\" y=\"%u\" text-anchor=\"middle\">no stacks recorded</text>\n",
			width / 2.0, s.height - YPAD_BOTTOM - FRAME_H / 2);
	fputs("</svg>\n", out);
	if (fflush(out) || ferror(out))
		return -EIO;
	return 0;
}
