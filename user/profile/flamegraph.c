/* Flame graphs as interactive SVG, plain and differential. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile/flamegraph.h"

/* Layout, in pixels. The font is monospace so that the label widths the C
 * side and the script compute match what the viewer draws. */
#define X_PAD 10
#define FRAME_HEIGHT 16		/* rectangle 15 + 1 gap */
#define TITLE_PAD 30		/* title and buttons */
#define SUBTITLE_LINE 16	/* per line of subtitle */
#define GAP_ABOVE_FRAMES 10
#define BOTTOM_PAD 32		/* frame details, search result */
#define FONT_PX 12
#define CHAR_WIDTH (FONT_PX * 0.6)	/* advance of a monospace glyph */
#define LABEL_PAD 3

#define NEUTRAL_CHANNEL 250	/* an unchanged frame in a diff: near white */
#define DIFF_MIN_SHADE 5	/* any change is visibly tinted */
#define DIFF_MAX_SHADE 160	/* black labels stay readable on the deepest shade */

void flame_options_init(struct flame_options *o)
{
	memset(o, 0, sizeof(*o));
	o->title = "Flame graph";
	o->width = FLAME_DEFAULT_WIDTH;
	o->min_frame_px = FLAME_DEFAULT_MIN_FRAME_PX;
	o->palette = FLAME_PALETTE_WARM;
}

/* ---- XML text ---------------------------------------------------------- */

/*
 * One code point of s: its length in bytes and the code point, or U+FFFD
 * for a byte that does not start valid UTF-8 (overlong, surrogate, beyond
 * U+10FFFF, truncated). Frames come from symbol tables and may hold
 * anything; the SVG must stay well-formed XML whatever they hold.
 */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	uint32_t v, min;
	size_t len;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2, v = s[0] & 0x1f, min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3, v = s[0] & 0x0f, min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4, v = s[0] & 0x07, min = 0x10000;
	} else {
		*cp = 0xfffd;
		return 1;
	}
	/* A NUL fails the continuation test, so this never reads past the end. */
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*cp = 0xfffd;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
		*cp = 0xfffd;
		return 1;
	}
	*cp = v;
	return len;
}

/* Characters XML 1.0 does not allow (controls, U+FFFE/FFFF) and the
 * whitespace controls a label should not hold are shown as U+FFFD. */
static bool shown_as_is(uint32_t cp)
{
	return cp >= 0x20 && cp != 0xfffe && cp != 0xffff;
}

static size_t utf8_length(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0;
	uint32_t cp;

	while (*u) {
		u += utf8_decode(u, &cp);
		n++;
	}
	return n;
}

/* Writes the first max_chars code points of s as XML character data. */
static void xml_put(FILE *f, const char *s, size_t max_chars)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;

	for (size_t n = 0; *u && n < max_chars; n++) {
		size_t len = utf8_decode(u, &cp);

		switch (cp) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if (shown_as_is(cp) && cp != 0xfffd)
				fwrite(u, 1, len, f);
			else
				fputs("\xef\xbf\xbd", f);
		}
		u += len;
	}
}

/* The label that fits a frame w pixels wide: the whole name, or its start
 * and "..", or nothing below three characters. The script does the same. */
static void put_label(FILE *f, const char *name, double w)
{
	double fit = floor((w - 2 * LABEL_PAD) / CHAR_WIDTH);
	size_t chars = fit > 0 ? (size_t)fit : 0, len;

	if (chars < 3)
		return;
	len = utf8_length(name);
	if (len <= chars) {
		xml_put(f, name, len);
	} else {
		xml_put(f, name, chars - 2);
		fputs("..", f);
	}
}

/* ---- colors ------------------------------------------------------------ */

static uint32_t fnv1a(const char *s, uint32_t seed)
{
	uint32_t h = 2166136261u ^ seed;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

void flame_warm_color(const char *name, char *buf, size_t len)
{
	uint32_t h = fnv1a(name, 0);
	/* Red stays high, green sweeps yellow to red, a little blue: the
	 * hash only picks a shade, so names stay apart but all look warm. */
	unsigned r = 205 + (h & 0xff) * 50 / 255;
	unsigned g = 50 + ((h >> 8) & 0xff) * 150 / 255;
	unsigned b = ((h >> 16) & 0xff) * 60 / 255;

	snprintf(buf, len, "rgb(%u,%u,%u)", r, g, b);
}

/* Red for a frame whose share grew, blue for one that shrank, scaled by
 * how far the change is from the biggest change in the graph. */
static void diff_color(int sign, double delta_pp, double max_abs_pp, char *buf, size_t len)
{
	unsigned shade, low;

	if (!sign || max_abs_pp <= 0) {
		snprintf(buf, len, "rgb(%u,%u,%u)", NEUTRAL_CHANNEL, NEUTRAL_CHANNEL, NEUTRAL_CHANNEL);
		return;
	}
	shade = (unsigned)lround(fabs(delta_pp) / max_abs_pp * DIFF_MAX_SHADE);
	if (shade < DIFF_MIN_SHADE)
		shade = DIFF_MIN_SHADE;
	if (shade > DIFF_MAX_SHADE)
		shade = DIFF_MAX_SHADE;
	low = NEUTRAL_CHANNEL - shade;
	if (sign > 0)
		snprintf(buf, len, "rgb(255,%u,%u)", low, low);
	else
		snprintf(buf, len, "rgb(%u,%u,255)", low, low);
}

/* ---- layout -------------------------------------------------------------- */

struct walk {
	const struct folded_profile *profile, *base;
	const struct flame_options *o;
	double scale;			/* pixels per sample */
	uint64_t *next_offset;		/* per depth: first free sample slot */
	const struct folded_node **base_path;	/* per depth: the same frame path in base */
	/* first pass */
	size_t drawn;
	unsigned depth;
	double max_abs_pp;
	/* second pass */
	FILE *f;
	int height;
	int subtitle_lines;
};

/*
 * The share change of a frame, in percentage points of each profile's
 * total. The sign is computed exactly (a frame whose share did not change
 * must stay white whatever the rounding of the doubles).
 */
static int share_change(const struct walk *w, const struct folded_node *n,
			const struct folded_node *in_base, double *delta_pp)
{
	uint64_t a = in_base ? in_base->total : 0;
	unsigned __int128 grown = (unsigned __int128)n->total * w->base->root.total;
	unsigned __int128 before = (unsigned __int128)a * w->profile->root.total;

	*delta_pp = 100.0 * n->total / w->profile->root.total -
		    100.0 * a / w->base->root.total;
	return grown > before ? 1 : grown < before ? -1 : 0;
}

static void emit_frame(struct walk *w, const struct folded_node *n,
		       const struct folded_node *in_base, uint64_t offset)
{
	const struct folded_profile *p = w->profile;
	double x = X_PAD + offset * w->scale, width = n->total * w->scale;
	double y = w->height - BOTTOM_PAD - (double)(n->depth + 1) * FRAME_HEIGHT;
	char color[32];
	FILE *f = w->f;

	fprintf(f, "<g data-s=\"%llu\" data-n=\"%llu\" data-d=\"%u\"><title>",
		(unsigned long long)offset, (unsigned long long)n->total, n->depth);
	xml_put(f, n->name, SIZE_MAX);
	if (w->base) {
		uint64_t a = in_base ? in_base->total : 0;
		double delta;
		int sign = share_change(w, n, in_base, &delta);

		fprintf(f, " (A %llu samples %.2f%%, B %llu samples %.2f%%, %+.2f pp)</title>",
			(unsigned long long)a, 100.0 * a / w->base->root.total,
			(unsigned long long)n->total, 100.0 * n->total / p->root.total, delta);
		if (w->o->palette == FLAME_PALETTE_DIFF)
			diff_color(sign, delta, w->max_abs_pp, color, sizeof(color));
		else
			flame_warm_color(n->name, color, sizeof(color));
	} else {
		fprintf(f, " (%llu samples, %.2f%%)</title>", (unsigned long long)n->total,
			100.0 * n->total / p->root.total);
		flame_warm_color(n->name, color, sizeof(color));
	}
	fprintf(f, "<rect x=\"%.2f\" y=\"%.0f\" width=\"%.2f\" height=\"%d\" fill=\"%s\"/>"
		   "<text x=\"%.2f\" y=\"%.0f\">",
		x, y, width, FRAME_HEIGHT - 1, color, x + LABEL_PAD, y + FRAME_HEIGHT - 5);
	put_label(f, n->name, width);
	fputs("</text></g>\n", f);
}

/*
 * Walks the tree in pre-order, children from the left edge of their
 * parent (self samples take the right end), skipping frames narrower than
 * the minimum with all they call. The first pass (w->f NULL) measures;
 * the second writes.
 */
static void walk_frames(struct walk *w)
{
	const struct folded_node *n = &w->profile->root;

	w->next_offset[0] = 0;
	w->base_path[0] = w->base ? &w->base->root : NULL;
	while (n) {
		uint64_t offset = w->next_offset[n->depth];
		const struct folded_node *in_base = NULL;
		bool visible = n->total * w->scale >= w->o->min_frame_px;

		w->next_offset[n->depth] += n->total;
		if (visible) {
			w->next_offset[n->depth + 1] = offset;
			if (w->base) {
				in_base = n->depth ? folded_child(w->base_path[n->depth - 1], n->name)
						   : &w->base->root;
				w->base_path[n->depth] = in_base;
			}
			if (!w->f) {
				w->drawn++;
				if (n->depth > w->depth)
					w->depth = n->depth;
				if (w->base) {
					double delta;

					share_change(w, n, in_base, &delta);
					if (fabs(delta) > w->max_abs_pp)
						w->max_abs_pp = fabs(delta);
				}
			} else {
				emit_frame(w, n, in_base, offset);
			}
		}
		n = folded_next(n, visible);
	}
}

/* ---- the document --------------------------------------------------------- */

static const char style[] =
	"<style type=\"text/css\">\n"
	"text { font-family: monospace; font-size: 12px; fill: rgb(0,0,0); }\n"
	"#title { font-size: 17px; }\n"
	"#frames rect { rx: 2px; ry: 2px; }\n"
	"#frames g { cursor: pointer; }\n"
	"#frames g:hover rect { stroke: rgb(0,0,0); stroke-width: 0.5; }\n"
	"#frames text { pointer-events: none; }\n"
	"#frames .parent rect { fill-opacity: 0.5; }\n"
	".button { cursor: pointer; fill: rgb(0,0,160); }\n"
	".button:hover { text-decoration: underline; }\n"
	"</style>\n";

/*
 * Zoom, search and details. Frame geometry lives in data-s (first sample),
 * data-n (samples) and data-d (depth); the name is the tooltip up to its
 * last " (", which the tooltip's own suffix never contains.
 */
static const char script[] =
	"(function () {\n"
	"'use strict';\n"
	"var frames = document.getElementById('frames');\n"
	"var all = frames.getElementsByTagName('g');\n"
	"var details = document.getElementById('details');\n"
	"var matched = document.getElementById('matched');\n"
	"var resetButton = document.getElementById('reset');\n"
	"var searchButton = document.getElementById('search');\n"
	"var hint = details.textContent;\n"
	"var searching = false;\n"
	"function num(g, a) { return Number(g.getAttribute(a)); }\n"
	"function part(g, tag) { return g.getElementsByTagName(tag)[0]; }\n"
	"function tip(g) { return part(g, 'title').textContent; }\n"
	"function nameOf(g) {\n"
	"  var t = tip(g), i = t.lastIndexOf(' (');\n"
	"  return i < 0 ? t : t.substring(0, i);\n"
	"}\n"
	"function label(name, w) {\n"
	"  var chars = Math.floor((w - 2 * LABEL_PAD) / CHAR_WIDTH);\n"
	"  if (chars < 3) return '';\n"
	"  if (name.length <= chars) return name;\n"
	"  return name.substring(0, chars - 2) + '..';\n"
	"}\n"
	"function place(g, x, w) {\n"
	"  var r = part(g, 'rect'), t = part(g, 'text');\n"
	"  r.setAttribute('x', x.toFixed(2));\n"
	"  r.setAttribute('width', w.toFixed(2));\n"
	"  t.setAttribute('x', (x + LABEL_PAD).toFixed(2));\n"
	"  t.textContent = label(nameOf(g), w);\n"
	"  g.removeAttribute('display');\n"
	"}\n"
	"function zoom(target) {\n"
	"  var ts = num(target, 'data-s'), tn = num(target, 'data-n'), td = num(target, 'data-d');\n"
	"  for (var i = 0; i < all.length; i++) {\n"
	"    var g = all[i], s = num(g, 'data-s'), n = num(g, 'data-n'), d = num(g, 'data-d');\n"
	"    if (d < td && s <= ts && s + n >= ts + tn) {\n"
	"      place(g, X_PAD, WIDTH);\n"
	"      g.setAttribute('class', 'parent');\n"
	"    } else if (d >= td && s >= ts && s + n <= ts + tn) {\n"
	"      place(g, X_PAD + (s - ts) * WIDTH / tn, n * WIDTH / tn);\n"
	"      g.removeAttribute('class');\n"
	"    } else {\n"
	"      g.setAttribute('display', 'none');\n"
	"    }\n"
	"  }\n"
	"  resetButton.removeAttribute('display');\n"
	"}\n"
	"function unzoom() {\n"
	"  for (var i = 0; i < all.length; i++) {\n"
	"    var g = all[i];\n"
	"    place(g, X_PAD + num(g, 'data-s') * WIDTH / TOTAL, num(g, 'data-n') * WIDTH / TOTAL);\n"
	"    g.removeAttribute('class');\n"
	"  }\n"
	"  resetButton.setAttribute('display', 'none');\n"
	"}\n"
	"function clearSearch() {\n"
	"  for (var i = 0; i < all.length; i++) {\n"
	"    var r = part(all[i], 'rect');\n"
	"    if (r.hasAttribute('data-fill')) {\n"
	"      r.setAttribute('fill', r.getAttribute('data-fill'));\n"
	"      r.removeAttribute('data-fill');\n"
	"    }\n"
	"  }\n"
	"  searching = false;\n"
	"  searchButton.textContent = 'Search';\n"
	"  matched.textContent = ' ';\n"
	"}\n"
	"function search() {\n"
	"  var term = window.prompt('Search frames (a regular expression or plain text)', '');\n"
	"  var re = null, hits = [], covered = 0, end = -1, i;\n"
	"  if (term === null || term === '') return;\n"
	"  try { re = new RegExp(term); } catch (err) { re = null; }\n"
	"  clearSearch();\n"
	"  for (i = 0; i < all.length; i++) {\n"
	"    var g = all[i], name = nameOf(g), r = part(g, 'rect');\n"
	"    if (re ? !re.test(name) : name.indexOf(term) < 0) continue;\n"
	"    r.setAttribute('data-fill', r.getAttribute('fill'));\n"
	"    r.setAttribute('fill', 'rgb(230,0,230)');\n"
	"    hits.push([num(g, 'data-s'), num(g, 'data-n')]);\n"
	"  }\n"
	"  /* Callers come before what they call, so nested hits count once. */\n"
	"  hits.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });\n"
	"  for (i = 0; i < hits.length; i++) {\n"
	"    if (hits[i][0] >= end) { covered += hits[i][1]; end = hits[i][0] + hits[i][1]; }\n"
	"  }\n"
	"  searching = true;\n"
	"  searchButton.textContent = 'Reset Search';\n"
	"  matched.textContent = 'Matched: ' + (100 * covered / TOTAL).toFixed(2) + '% in ' +\n"
	"    hits.length + ' frames';\n"
	"}\n"
	"function frameOf(el) {\n"
	"  for (; el && el !== frames; el = el.parentNode)\n"
	"    if (el.hasAttribute && el.hasAttribute('data-n')) return el;\n"
	"  return null;\n"
	"}\n"
	"frames.addEventListener('click', function (e) {\n"
	"  var g = frameOf(e.target);\n"
	"  if (g) zoom(g);\n"
	"});\n"
	"frames.addEventListener('mouseover', function (e) {\n"
	"  var g = frameOf(e.target);\n"
	"  if (g) details.textContent = tip(g);\n"
	"});\n"
	"frames.addEventListener('mouseout', function () { details.textContent = hint; });\n"
	"resetButton.addEventListener('click', unzoom);\n"
	"searchButton.addEventListener('click', function () {\n"
	"  if (searching) clearSearch(); else search();\n"
	"});\n"
	"window.addEventListener('keydown', function (e) {\n"
	"  if (e.keyCode === 114 || ((e.ctrlKey || e.metaKey) && e.keyCode === 70)) {\n"
	"    e.preventDefault();\n"
	"    search();\n"
	"  } else if (e.keyCode === 27) {\n"
	"    clearSearch();\n"
	"    unzoom();\n"
	"  }\n"
	"});\n"
	"})();\n";

static void write_document(struct walk *w)
{
	const struct flame_options *o = w->o;
	const char *subtitle = o->subtitle;
	unsigned width = o->width;
	FILE *f = w->f;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		   "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%u\" "
		   "height=\"%d\" viewBox=\"0 0 %u %d\">\n",
		width, w->height, width, w->height);
	fputs(style, f);
	fprintf(f, "<defs><linearGradient id=\"background-gradient\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
		   "<stop offset=\"5%%\" stop-color=\"rgb(238,238,238)\"/>"
		   "<stop offset=\"95%%\" stop-color=\"rgb(224,224,236)\"/>"
		   "</linearGradient></defs>\n"
		   "<rect id=\"background\" x=\"0\" y=\"0\" width=\"%u\" height=\"%d\" "
		   "fill=\"url(#background-gradient)\"/>\n",
		width, w->height);
	fprintf(f, "<text id=\"title\" x=\"%.1f\" y=\"24\" text-anchor=\"middle\">", width / 2.0);
	xml_put(f, o->title, SIZE_MAX);
	fputs("</text>\n", f);
	/* One <text> per line of subtitle: SVG 1.1 text does not wrap. */
	for (int i = 0; i < w->subtitle_lines; i++) {
		size_t len = strcspn(subtitle, "\n");
		char *line = strndup(subtitle, len);

		fprintf(f, "<text class=\"subtitle\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
			width / 2.0, TITLE_PAD + 12 + SUBTITLE_LINE * i);
		xml_put(f, line ? line : "", SIZE_MAX);
		fputs("</text>\n", f);
		free(line);
		subtitle += len + (subtitle[len] == '\n');
	}
	fprintf(f, "<text id=\"reset\" class=\"button\" x=\"%d\" y=\"24\" display=\"none\">Reset Zoom</text>\n"
		   "<text id=\"search\" class=\"button\" x=\"%d\" y=\"24\" text-anchor=\"end\">Search</text>\n"
		   "<text id=\"details\" x=\"%d\" y=\"%d\">Click a frame to zoom in, Search or Ctrl-F to highlight frames, Esc to reset</text>\n"
		   "<text id=\"matched\" x=\"%d\" y=\"%d\" text-anchor=\"end\"> </text>\n",
		X_PAD, width - X_PAD, X_PAD, w->height - 12, width - X_PAD, w->height - 12);
	fprintf(f, "<g id=\"frames\">\n");
	walk_frames(w);
	fputs("</g>\n<script type=\"text/ecmascript\"><![CDATA[\n", f);
	fprintf(f, "var X_PAD = %d, WIDTH = %d, TOTAL = %llu, CHAR_WIDTH = %.2f, LABEL_PAD = %d;\n",
		X_PAD, width - 2 * X_PAD, (unsigned long long)w->profile->root.total, CHAR_WIDTH,
		LABEL_PAD);
	fputs(script, f);
	fputs("]]></script>\n</svg>\n", f);
}

int flame_write_svg(FILE *f, const struct folded_profile *profile,
		    const struct folded_profile *base, const struct flame_options *o,
		    struct flame_stats *stats)
{
	struct walk w = { .profile = profile, .base = base, .o = o };
	size_t levels = (size_t)profile->max_depth + 2;
	int rc = 0;

	if (!profile->root.total || (base && !base->root.total) ||
	    (o->palette == FLAME_PALETTE_DIFF && !base) || o->width <= 2 * X_PAD)
		return -EINVAL;
	w.next_offset = calloc(levels, sizeof(*w.next_offset));
	w.base_path = calloc(levels, sizeof(*w.base_path));
	if (!w.next_offset || !w.base_path) {
		rc = -ENOMEM;
		goto out;
	}
	w.scale = (double)(o->width - 2 * X_PAD) / profile->root.total;
	walk_frames(&w);
	for (const char *c = o->subtitle; c && *c; c++)
		w.subtitle_lines += c == o->subtitle || c[-1] == '\n';
	w.height = TITLE_PAD + SUBTITLE_LINE * w.subtitle_lines + GAP_ABOVE_FRAMES +
		   (int)(w.depth + 1) * FRAME_HEIGHT + BOTTOM_PAD;
	w.f = f;
	/* stdio keeps no error code: the errno of the failed write says why
	 * (EPIPE, ENOSPC), when nothing after it changed errno. */
	errno = 0;
	write_document(&w);
	if (fflush(f) || ferror(f))
		rc = errno ? -errno : -EIO;
	if (stats) {
		stats->frames_drawn = w.drawn;
		stats->frames_left_out = profile->nr_nodes + 1 - w.drawn;
		stats->depth = w.depth;
	}
out:
	free(w.next_offset);
	free(w.base_path);
	return rc;
}
