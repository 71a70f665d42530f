/* hy_svg: a small, dependency-free SVG line/point plot writer for the pictures hylra emits
 * (eval sweeps): a grid of panels, each with axes and ticks, named series of points with
 * optional error whiskers, a legend and an optional horizontal reference line. Output is
 * plain SVG 1.1 (no scripts, no external resources); every text is XML-escaped. */
#ifndef HY_SVG_H
#define HY_SVG_H

#include "hy_common.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *name;      /* legend label */
    const double *x, *y;   /* n points; non-finite points are skipped */
    const double *lo, *hi; /* optional whisker ends (both or neither), NULL = none */
    int32_t n;
    int32_t color; /* palette index, so a family keeps its colour across panels */
    bool line;     /* join the points in order of x */
    bool hollow;   /* open markers (e.g. x is measured rather than predicted) */
} hy_svg_series;

typedef struct {
    const char *title; /* panel title, may be NULL */
    const char *xlabel, *ylabel;
    const hy_svg_series *series;
    int32_t n_series;
    double ref_y;          /* horizontal reference line; NaN = none */
    const char *ref_label; /* its legend label */
    double x0, x1, y0, y1; /* axis range; NaN = fitted to the data */
} hy_svg_panel;

/* Writes n_panels panels, `cols` per row, under `title` (may be NULL), with `note` (may be
 * NULL) as a footnote line. HY_EINVAL for a NULL/empty panel list or a series with NULL
 * coordinates; HY_EIO when the stream fails. */
hy_status hy_svg_plot(FILE *f, const char *title, const char *note, const hy_svg_panel *panels,
                      int32_t n_panels, int32_t cols);
/* Same into a new file at path. */
hy_status hy_svg_plot_file(const char *path, const char *title, const char *note,
                           const hy_svg_panel *panels, int32_t n_panels, int32_t cols);

/* Writes s with &, <, >, ' and " escaped (control characters other than tab/newline are
 * dropped: XML 1.0 cannot carry them). */
void hy_svg_text(FILE *f, const char *s);
/* The palette colour for index i ("#rrggbb"), cycling. */
const char *hy_svg_color(int32_t i);

#endif
