/*
 * Flame graphs as self-contained interactive SVG: one rectangle per frame,
 * as wide as its samples, callers below callees; a tooltip per frame; click
 * to zoom, a Search button (or Ctrl-F / F3) that highlights matching frames
 * and prints the share they cover. The script is inline and uses only the
 * SVG DOM; no fonts or files are referenced, so the file works offline.
 *
 * A differential graph takes its widths from the second profile (B) and its
 * colors from how each frame's share of all samples changed from the
 * first (A): red grew, blue shrank, white unchanged. Frames that exist only
 * in A are not drawn (render the diff the other way round to see them).
 */
#ifndef NETPROF_FLAMEGRAPH_H
#define NETPROF_FLAMEGRAPH_H

#include <stddef.h>
#include <stdio.h>

#include "profile/folded.h"

#define FLAME_DEFAULT_WIDTH 1200
#define FLAME_MIN_WIDTH_PX 200
#define FLAME_MAX_WIDTH_PX 100000
/* Frames narrower than this (in pixels, unzoomed) are left out with
 * everything they call: a profile of many thin stacks would otherwise
 * weigh megabytes of rectangles nobody can see. 0 keeps every frame. */
#define FLAME_DEFAULT_MIN_FRAME_PX 0.1

enum flame_palette {
	FLAME_PALETTE_WARM,	/* reds and oranges by a hash of the name: same name, same color */
	FLAME_PALETTE_DIFF,	/* red grew, blue shrank (differential graphs only) */
};

struct flame_options {
	const char *title;
	const char *subtitle;	/* NULL: none; a line per '\n' */
	unsigned width;		/* pixels */
	double min_frame_px;
	enum flame_palette palette;
};

struct flame_stats {
	size_t frames_drawn;	/* the root included */
	size_t frames_left_out;	/* narrower than min_frame_px */
	unsigned depth;		/* deepest drawn frame, root 0 */
};

void flame_options_init(struct flame_options *o);

/*
 * Writes the SVG of profile to f. With base non-NULL the graph is
 * differential: widths from profile (B), colors and tooltips from the
 * change against base (A). Both profiles must be sorted (folded_parse does
 * it) and hold samples. Returns 0, -EINVAL (empty profile, diff palette
 * without base), -ENOMEM or -EIO; stats may be NULL.
 */
int flame_write_svg(FILE *f, const struct folded_profile *profile,
		    const struct folded_profile *base, const struct flame_options *o,
		    struct flame_stats *stats);

/* The color of a frame in the warm palette, "rgb(r,g,b)" into buf. */
void flame_warm_color(const char *name, char *buf, size_t len);

#endif
