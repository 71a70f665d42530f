/* Private to profiler/: SVG pictures for the HTML report (report.c): heatmap, bar chart
 * with error bars, line chart. Each writes one <svg> element to f; NaN cells are grey. */
#ifndef HY_PROFILER_REPORT_SVG_H
#define HY_PROFILER_REPORT_SVG_H

#include <stdint.h>
#include <stdio.h>

/* m[r * cols + c], values mapped linearly from [lo, hi] onto a blue-yellow scale. */
void hy_svg_heatmap(FILE *f, const float *m, int rows, int cols, float lo, float hi,
                    const char *row_label, const char *col_label);
/* Bars v[i] +- e[i] (e may be NULL), mark[i] != 0 drawn red, on [0, hi]. */
void hy_svg_bars(FILE *f, const float *v, const float *e, const uint8_t *mark, int n, float hi,
                 const char *x_label, const char *y_label);
/* n_series lines over x[0..n): y[s * n + i]; legend names[s]. */
void hy_svg_lines(FILE *f, const float *x, const float *y, int n, int n_series,
                  const char *const *names, float lo, float hi, const char *x_label,
                  const char *y_label);

#endif
