/* SVG drawing for the HTML report (report_svg.h): plain elements, no scripts or external
 * resources, so the page stays one self-contained file. */
#include "report_svg.h"

#include <math.h>

static void colour(float t, char out[8]) {
    /* dark blue -> teal -> yellow, three stops, enough to read a recall heatmap */
    static const float st[3][3] = {{0x1f, 0x2a, 0x6b}, {0x1f, 0x9e, 0x89}, {0xfd, 0xe7, 0x25}};
    if (t < 0) t = 0;
    if (t > 1) t = 1;
    const int i = t < 0.5f ? 0 : 1;
    const float u = t < 0.5f ? t * 2 : (t - 0.5f) * 2;
    int rgb[3];
    for (int c = 0; c < 3; c++)
        rgb[c] = (int)lrintf(st[i][c] + (st[i + 1][c] - st[i][c]) * u);
    snprintf(out, 8, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

void hy_svg_heatmap(FILE *f, const float *m, int rows, int cols, float lo, float hi,
                    const char *row_label, const char *col_label) {
    int cell = 480 / (cols > 0 ? cols : 1), x0 = 50, y0 = 10;
    if (cell > 40) cell = 40;
    if (cell < 8) cell = 8;
    const int w = x0 + cols * cell + 90, h = y0 + rows * cell + 40;
    fprintf(f,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
            "font-family='sans-serif' font-size='11'>\n",
            w, h);
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            const float v = m[r * cols + c];
            char col[8] = "#dddddd";
            if (!isnan(v)) colour((v - lo) / (hi - lo), col);
            fprintf(f,
                    "<rect x='%d' y='%d' width='%d' height='%d' fill='%s'><title>%s %d, %s %d: "
                    "%.4f</title></rect>\n",
                    x0 + c * cell, y0 + r * cell, cell, cell, col, row_label, r, col_label, c, v);
        }
    for (int r = 0; r<rows; r += rows> 12 ? 5 : 1)
        fprintf(f, "<text x='%d' y='%d' text-anchor='end'>%d</text>\n", x0 - 4,
                y0 + r * cell + cell - 1, r);
    for (int c = 0; c<cols; c += cols> 12 ? 5 : 1)
        fprintf(f, "<text x='%d' y='%d' text-anchor='middle'>%d</text>\n", x0 + c * cell + cell / 2,
                y0 + rows * cell + 12, c);
    fprintf(f, "<text x='%d' y='%d' text-anchor='middle'>%s</text>\n", x0 + cols * cell / 2,
            y0 + rows * cell + 28, col_label);
    fprintf(f, "<text x='12' y='%d' transform='rotate(-90 12 %d)' text-anchor='middle'>%s</text>\n",
            y0 + rows * cell / 2, y0 + rows * cell / 2, row_label);
    for (int i = 0; i <= 10; i++) { /* legend */
        char col[8];
        colour(1.0f - i / 10.0f, col);
        fprintf(f, "<rect x='%d' y='%d' width='14' height='10' fill='%s'/>\n",
                x0 + cols * cell + 15, y0 + i * 10, col);
    }
    fprintf(f, "<text x='%d' y='%d'>%.2f</text><text x='%d' y='%d'>%.2f</text>\n",
            x0 + cols * cell + 33, y0 + 9, hi, x0 + cols * cell + 33, y0 + 109, lo);
    fprintf(f, "</svg>\n");
}

void hy_svg_bars(FILE *f, const float *v, const float *e, const uint8_t *mark, int n, float hi,
                 const char *x_label, const char *y_label) {
    const int bw = 16, x0 = 50, y0 = 10, ph = 200, w = x0 + n * bw + 20, h = y0 + ph + 40;
    fprintf(f,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
            "font-family='sans-serif' font-size='11'>\n",
            w, h);
    fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='black'/>\n", x0, y0 + ph, x0 + n * bw,
            y0 + ph);
    for (int t = 0; t <= 4; t++)
        fprintf(f, "<text x='%d' y='%d' text-anchor='end'>%.3g</text>\n", x0 - 4,
                y0 + ph - t * ph / 4 + 4, hi * t / 4);
    for (int i = 0; i < n; i++) {
        if (isnan(v[i])) continue;
        float bh = v[i] / hi * ph;
        if (bh > ph) bh = ph;
        fprintf(f,
                "<rect x='%d' y='%.1f' width='%d' height='%.1f' fill='%s'><title>%s %d: %.4f"
                " +- %.4f</title></rect>\n",
                x0 + i * bw + 2, y0 + ph - bh, bw - 4, bh, mark && mark[i] ? "#c0392b" : "#2e86c1",
                x_label, i, v[i], e ? e[i] : 0.0f);
        if (e && !isnan(e[i])) {
            const float a = (v[i] - e[i]) / hi * ph, b = (v[i] + e[i]) / hi * ph;
            fprintf(f, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='black'/>\n",
                    x0 + i * bw + bw / 2, x0 + i * bw + bw / 2, y0 + ph - (a < 0 ? 0 : a),
                    y0 + ph - (b > ph ? ph : b));
        }
        if (n <= 40 && (i % 5 == 0))
            fprintf(f, "<text x='%d' y='%d' text-anchor='middle'>%d</text>\n", x0 + i * bw + bw / 2,
                    y0 + ph + 12, i);
    }
    fprintf(f, "<text x='%d' y='%d' text-anchor='middle'>%s</text>\n", x0 + n * bw / 2,
            y0 + ph + 28, x_label);
    fprintf(f, "<text x='12' y='%d' transform='rotate(-90 12 %d)' text-anchor='middle'>%s</text>\n",
            y0 + ph / 2, y0 + ph / 2, y_label);
    fprintf(f, "</svg>\n");
}

void hy_svg_lines(FILE *f, const float *x, const float *y, int n, int n_series,
                  const char *const *names, float lo, float hi, const char *x_label,
                  const char *y_label) {
    const int x0 = 50, y0 = 10, pw = 420, ph = 220, w = x0 + pw + 140, h = y0 + ph + 40;
    const float lx0 = log2f(x[0]), lx1 = log2f(x[n - 1]) > lx0 ? log2f(x[n - 1]) : lx0 + 1;
    fprintf(f,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
            "font-family='sans-serif' font-size='11'>\n",
            w, h);
    fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='black'/>\n", x0, y0,
            pw, ph);
    for (int t = 0; t <= 4; t++)
        fprintf(f, "<text x='%d' y='%d' text-anchor='end'>%.3g</text>\n", x0 - 4,
                y0 + ph - t * ph / 4 + 4, lo + (hi - lo) * t / 4);
    for (int i = 0; i < n; i++)
        fprintf(f, "<text x='%.1f' y='%d' text-anchor='middle'>%g</text>\n",
                x0 + (log2f(x[i]) - lx0) / (lx1 - lx0) * pw, y0 + ph + 12, x[i]);
    for (int s = 0; s < n_series; s++) {
        char col[8];
        colour(n_series > 1 ? (float)s / (n_series - 1) : 0.5f, col);
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.5' points='", col);
        for (int i = 0; i < n; i++) {
            const float v = y[s * n + i];
            if (isnan(v)) continue;
            fprintf(f, "%.1f,%.1f ", x0 + (log2f(x[i]) - lx0) / (lx1 - lx0) * pw,
                    y0 + ph - (v - lo) / (hi - lo) * ph);
        }
        fprintf(f, "'><title>%s</title></polyline>\n", names[s]);
        if (n_series <= 16 || s % (n_series / 8 + 1) == 0)
            fprintf(f, "<text x='%d' y='%d' fill='%s'>%s</text>\n", x0 + pw + 8,
                    y0 + 10 + s * 12 % ph, col, names[s]);
    }
    fprintf(f, "<text x='%d' y='%d' text-anchor='middle'>%s</text>\n", x0 + pw / 2, y0 + ph + 28,
            x_label);
    fprintf(f, "<text x='12' y='%d' transform='rotate(-90 12 %d)' text-anchor='middle'>%s</text>\n",
            y0 + ph / 2, y0 + ph / 2, y_label);
    fprintf(f, "</svg>\n");
}
