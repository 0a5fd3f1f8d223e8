#include <errno.h>
#include <stdlib.h>

#include "profile/flamegraph.h"
#include "profile/folded.h"
#include "test.h"

static int load(struct folded_profile *p, const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int rc;

	folded_profile_init(p, 20);
	rc = folded_parse(p, f, "t.folded");
	fclose(f);
	return rc;
}

/* The SVG of profile (diff against base when non-NULL), as a string. */
static char *render(const struct folded_profile *p, const struct folded_profile *base,
		    const struct flame_options *o, struct flame_stats *st)
{
	char *svg = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&svg, &len);
	int rc = flame_write_svg(f, p, base, o, st);

	fclose(f);
	if (rc) {
		free(svg);
		return NULL;
	}
	return svg;
}

static size_t count(const char *haystack, const char *needle)
{
	size_t n = 0;

	for (const char *s = haystack; (s = strstr(s, needle)); s += strlen(needle))
		n++;
	return n;
}

/* The fill of the frame whose tooltip starts with tip, or "". */
static const char *fill_of(const char *svg, const char *tip, char *buf, size_t len)
{
	const char *s = strstr(svg, tip), *fill;

	buf[0] = '\0';
	if (!s || !(fill = strstr(s, "fill=\"")))
		return buf;
	fill += 6;
	snprintf(buf, len, "%.*s", (int)(strchr(fill, '"') - fill), fill);
	return buf;
}

TEST(flamegraph_one_rect_per_frame_with_tooltips)
{
	struct folded_profile p;
	struct flame_options o;
	struct flame_stats st;
	char *svg;

	if (!ASSERT_EQ(load(&p, "a;b;c 3\na;b 1\na;d 2\ne 4\n"), 0, "parse"))
		return;
	flame_options_init(&o);
	svg = render(&p, NULL, &o, &st);
	if (!ASSERT_TRUE(svg != NULL, "rendered"))
		goto out;
	ASSERT_EQ(st.frames_drawn, 6, "root + a, a;b, a;b;c, a;d, e");
	ASSERT_EQ(st.frames_left_out, 0, "none too narrow");
	ASSERT_EQ(st.depth, 3, "depth");
	ASSERT_EQ(count(svg, "<rect"), 6 + 1, "frames + background");
	ASSERT_EQ(count(svg, "<title>"), 6, "a tooltip each");
	ASSERT_TRUE(strstr(svg, "<title>all (10 samples, 100.00%)</title>") != NULL, "root tooltip");
	ASSERT_TRUE(strstr(svg, "<title>b (4 samples, 40.00%)</title>") != NULL, "b tooltip");
	ASSERT_TRUE(strstr(svg, "<title>e (4 samples, 40.00%)</title>") != NULL, "e tooltip");
	/* Width 1200 minus 10 px each side: 1180 px for 10 samples. */
	ASSERT_TRUE(strstr(svg, "<g data-s=\"0\" data-n=\"10\" data-d=\"0\">") != NULL, "root geometry");
	ASSERT_TRUE(strstr(svg, "<g data-s=\"6\" data-n=\"4\" data-d=\"1\"><title>e ") != NULL,
		    "e after a's 6 samples");
	ASSERT_TRUE(strstr(svg, "x=\"718.00\" y=\"") != NULL, "e at 10 + 6 * 118 px");
	ASSERT_TRUE(strstr(svg, "<script type=\"text/ecmascript\"><![CDATA[") != NULL, "inline script");
	ASSERT_TRUE(strstr(svg, "xlink") == NULL && strstr(svg, "http://") ==
		    strstr(svg, "http://www.w3.org/2000/svg"), "nothing external");
	free(svg);
out:
	folded_profile_free(&p);
}

TEST(flamegraph_escapes_names_and_replaces_bad_bytes)
{
	struct folded_profile p;
	struct flame_options o;
	char *svg;

	if (!ASSERT_EQ(load(&p, "a<b>&\"c\"';bad\xff\x01utf8 5\n"), 0, "parse"))
		return;
	flame_options_init(&o);
	o.title = "x < y & z";
	svg = render(&p, NULL, &o, NULL);
	if (!ASSERT_TRUE(svg != NULL, "rendered"))
		goto out;
	ASSERT_TRUE(strstr(svg, "<title>a&lt;b&gt;&amp;&quot;c&quot;&apos; (5 samples") != NULL,
		    "XML special characters escaped");
	ASSERT_TRUE(strstr(svg, "<title>bad\xef\xbf\xbd\xef\xbf\xbdutf8 (") != NULL,
		    "invalid UTF-8 and control bytes shown as U+FFFD");
	ASSERT_TRUE(strstr(svg, ">x &lt; y &amp; z</text>") != NULL, "title escaped");
	free(svg);
out:
	folded_profile_free(&p);
}

TEST(flamegraph_labels_fit_their_frames)
{
	struct folded_profile p;
	struct flame_options o;
	char *svg;

	/* 1180 px for 100 samples: the long name gets 59 px, 7 characters
	 * at 7.2 px less the padding; the short one 2.36 px, no label. */
	if (!ASSERT_EQ(load(&p, "a_very_long_function_name 5\nb 2\nc 93\n"), 0, "parse"))
		return;
	flame_options_init(&o);
	svg = render(&p, NULL, &o, NULL);
	if (!ASSERT_TRUE(svg != NULL, "rendered"))
		goto out;
	ASSERT_TRUE(strstr(svg, ">a_ver..</text>") != NULL, "truncated with ..");
	ASSERT_TRUE(strstr(svg, "<title>b (2 samples, 2.00%)</title>") != NULL, "b drawn");
	ASSERT_TRUE(strstr(svg, "\"></text></g>") != NULL, "b without a label");
	ASSERT_TRUE(strstr(svg, ">c</text>") != NULL, "short name whole");
	free(svg);
out:
	folded_profile_free(&p);
}

TEST(flamegraph_leaves_out_frames_below_min_width)
{
	struct folded_profile p;
	struct flame_options o;
	struct flame_stats st;
	char *svg;

	/* 1180 px for 10000 samples: 1 sample is 0.118 px, 0.5 px needs 5. */
	if (!ASSERT_EQ(load(&p, "big;x 9990\nthin;deep;deeper 4\nwide 6\n"), 0, "parse"))
		return;
	flame_options_init(&o);
	o.min_frame_px = 0.5;
	svg = render(&p, NULL, &o, &st);
	if (ASSERT_TRUE(svg != NULL, "rendered")) {
		ASSERT_EQ(st.frames_drawn, 4, "root, big, big;x, wide");
		ASSERT_EQ(st.frames_left_out, 3, "thin and what it calls");
		ASSERT_TRUE(strstr(svg, "deep") == NULL, "callees of a left-out frame are left out");
		ASSERT_EQ(st.depth, 2, "depth of what is drawn");
	}
	free(svg);
	o.min_frame_px = 0;
	svg = render(&p, NULL, &o, &st);
	if (ASSERT_TRUE(svg != NULL, "rendered"))
		ASSERT_EQ(st.frames_drawn, 7, "0 keeps every frame");
	free(svg);
	folded_profile_free(&p);
}

TEST(flamegraph_warm_colors_are_deterministic)
{
	char x[32], y[32], z[32];
	unsigned r, g, b;

	flame_warm_color("tcp_sendmsg", x, sizeof(x));
	flame_warm_color("tcp_sendmsg", y, sizeof(y));
	flame_warm_color("tcp_recvmsg", z, sizeof(z));
	ASSERT_STREQ(x, y, "same name, same color");
	ASSERT_TRUE(strcmp(x, z) != 0, "different names, different colors");
	if (ASSERT_EQ(sscanf(x, "rgb(%u,%u,%u)", &r, &g, &b), 3, "rgb()"))
		ASSERT_TRUE(r >= 205 && r > g && r > b, "warm: red dominates");
}

TEST(flamegraph_diff_colors_and_tooltips)
{
	struct folded_profile a, b;
	struct flame_options o;
	char fill[32], *svg = NULL;
	unsigned r, g, bl;

	folded_profile_init(&a, 20);
	folded_profile_init(&b, 20);
	/* A: 100 samples, B: 200. iptables shrinks from 40% to 10%, bpf
	 * appears in B only (25%), same keeps its 60% -> 120/200. */
	if (!ASSERT_EQ(load(&a, "rx;iptables 40\nrx;same 60\n"), 0, "parse A") ||
	    !ASSERT_EQ(load(&b, "rx;iptables 20\nrx;same 120\nrx;bpf 50\ntx 10\n"), 0, "parse B"))
		goto out;
	flame_options_init(&o);
	o.palette = FLAME_PALETTE_DIFF;
	svg = render(&b, &a, &o, NULL);
	if (!ASSERT_TRUE(svg != NULL, "rendered"))
		goto out;
	ASSERT_TRUE(strstr(svg, "<title>bpf (A 0 samples 0.00%, B 50 samples 25.00%, +25.00 pp)</title>") != NULL,
		    "new frame tooltip");
	ASSERT_TRUE(strstr(svg, "<title>iptables (A 40 samples 40.00%, B 20 samples 10.00%, -30.00 pp)</title>") != NULL,
		    "shrunk frame tooltip");
	ASSERT_TRUE(strstr(svg, "<title>same (A 60 samples 60.00%, B 120 samples 60.00%, +0.00 pp)</title>") != NULL,
		    "unchanged frame tooltip");
	if (ASSERT_EQ(sscanf(fill_of(svg, "<title>bpf ", fill, sizeof(fill)), "rgb(%u,%u,%u)", &r, &g, &bl), 3, "bpf fill"))
		ASSERT_TRUE(r == 255 && g < 250 && g == bl, "grew: red");
	if (ASSERT_EQ(sscanf(fill_of(svg, "<title>iptables ", fill, sizeof(fill)), "rgb(%u,%u,%u)", &r, &g, &bl), 3, "iptables fill"))
		ASSERT_TRUE(bl == 255 && r < 250 && r == g, "shrank: blue");
	/* The biggest change (30 pp) gets the deepest shade. */
	ASSERT_STREQ(fill_of(svg, "<title>iptables ", fill, sizeof(fill)), "rgb(90,90,255)", "deepest blue");
	ASSERT_STREQ(fill_of(svg, "<title>same ", fill, sizeof(fill)), "rgb(250,250,250)", "unchanged: white");
	ASSERT_STREQ(fill_of(svg, "<title>all ", fill, sizeof(fill)), "rgb(250,250,250)", "root unchanged");
	free(svg);

	/* Without the diff palette the widths stay B's, the colors are warm. */
	o.palette = FLAME_PALETTE_WARM;
	svg = render(&b, &a, &o, NULL);
	if (ASSERT_TRUE(svg != NULL, "rendered warm")) {
		char warm[32];

		flame_warm_color("bpf", warm, sizeof(warm));
		ASSERT_STREQ(fill_of(svg, "<title>bpf ", fill, sizeof(fill)), warm, "warm color");
	}
out:
	free(svg);
	folded_profile_free(&a);
	folded_profile_free(&b);
}

TEST(flamegraph_refuses_empty_profiles_and_diff_without_base)
{
	struct folded_profile empty, p;
	struct flame_options o;
	FILE *f = fopen("/dev/null", "w");

	folded_profile_init(&empty, 20);
	flame_options_init(&o);
	if (!ASSERT_EQ(load(&p, "a 1\n"), 0, "parse"))
		goto out;
	ASSERT_EQ(flame_write_svg(f, &empty, NULL, &o, NULL), -EINVAL, "no samples");
	ASSERT_EQ(flame_write_svg(f, &p, &empty, &o, NULL), -EINVAL, "empty base");
	o.palette = FLAME_PALETTE_DIFF;
	ASSERT_EQ(flame_write_svg(f, &p, NULL, &o, NULL), -EINVAL, "diff colors need a base");
out:
	fclose(f);
	folded_profile_free(&p);
	folded_profile_free(&empty);
}
