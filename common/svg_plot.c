/* common/svg_plot: the generic plot writer of hy_svg.h. Each panel is a cell of a grid: the
 * plot area on the left (axes, "nice" 1-2-5 ticks, a light grid, clipped data) and its legend
 * on the right, so the legend never hides a point. Markers carry a <title> with the exact
 * numbers, which browsers show on hover. */
#include "hy_svg.h"

#include <math.h>
#include <stdlib.h>

/* Cell geometry (pixels): plot area [ML, CW - LW - MR] x [MT, CH - MB], legend in LW. */
enum { CW = 640, CH = 360, ML = 66, MR = 14, MT = 34, MB = 50, LW = 170, HEAD = 40, FOOT = 26 };

typedef struct {
    double x0, x1, y0, y1;
    int ox, oy; /* cell origin */
} frame;

static const char *palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"};

const char *hy_svg_color(int32_t i) {
    int32_t n = (int32_t)(sizeof palette / sizeof *palette);
    return palette[((i % n) + n) % n];
}

void hy_svg_text(FILE *f, const char *s) {
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        switch (*c) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            if (*c >= 0x20 || *c == '\t' || *c == '\n') fputc(*c, f);
        }
    }
}

static double sx(const frame *b, double x) {
    return b->ox + ML + (x - b->x0) / (b->x1 - b->x0) * (CW - LW - ML - MR);
}
static double sy(const frame *b, double y) {
    return b->oy + CH - MB - (y - b->y0) / (b->y1 - b->y0) * (CH - MT - MB);
}

static void widen(double *lo, double *hi, double v) {
    if (!isfinite(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

/* Fits [x0,x1] x [y0,y1] to points, whiskers and the reference line, padded 5% so markers
 * at the edge stay whole; an explicit (finite) bound in the panel wins. */
static frame fit(const hy_svg_panel *p) {
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    for (int32_t s = 0; s < p->n_series; s++) {
        const hy_svg_series *q = &p->series[s];
        for (int32_t i = 0; i < q->n; i++) {
            if (!isfinite(q->x[i]) || !isfinite(q->y[i])) continue;
            widen(&xl, &xh, q->x[i]), widen(&yl, &yh, q->y[i]);
            if (q->lo && q->hi) widen(&yl, &yh, q->lo[i]), widen(&yl, &yh, q->hi[i]);
        }
    }
    widen(&yl, &yh, p->ref_y);
    if (!(xl <= xh)) xl = 0, xh = 1;
    if (!(yl <= yh)) yl = 0, yh = 1;
    double pads[2][2] = {{xl, xh}, {yl, yh}};
    for (int a = 0; a < 2; a++) {
        double lo = pads[a][0], hi = pads[a][1], d = hi - lo;
        if (d <= 1e-12 * fmax(1, fabs(hi))) d = fabs(hi) > 0 ? fabs(hi) * 0.2 : 1;
        pads[a][0] = lo - 0.05 * d, pads[a][1] = hi + 0.05 * d;
    }
    frame b = {pads[0][0], pads[0][1], pads[1][0], pads[1][1], 0, 0};
    if (isfinite(p->x0)) b.x0 = p->x0;
    if (isfinite(p->x1)) b.x1 = p->x1;
    if (isfinite(p->y0)) b.y0 = p->y0;
    if (isfinite(p->y1)) b.y1 = p->y1;
    if (!(b.x1 > b.x0)) b.x1 = b.x0 + 1;
    if (!(b.y1 > b.y0)) b.y1 = b.y0 + 1;
    return b;
}

/* Tick spacing: 1, 2 or 5 times a power of ten, about five ticks over the range. */
static double tick_step(double range) {
    double raw = range / 5, mag = pow(10, floor(log10(raw))), r = raw / mag;
    return (r < 1.5 ? 1 : r < 3 ? 2 : r < 7 ? 5 : 10) * mag;
}

static void ticks(FILE *f, const frame *b, int vertical) {
    double lo = vertical ? b->y0 : b->x0, hi = vertical ? b->y1 : b->x1;
    double step = tick_step(hi - lo);
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 8) dec = 8;
    if (!(step > 0) || !isfinite(lo / step) || !isfinite(hi / step)) return;
    double k0 = ceil(lo / step - 1e-9), k1 = floor(hi / step + 1e-9);
    for (int i = 0; i <= (int)(k1 - k0) && i < 50; i++) {              /* integer steps: no drift */
        double t = (k0 + i) * step, v = fabs(t) < step * 1e-9 ? 0 : t; /* no "-0.00" */
        if (vertical) {
            double y = sy(b, v), xa = b->ox + ML, xb = b->ox + CW - LW - MR;
            fprintf(f,
                    "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#e4e4e4'/>"
                    "<text x='%d' y='%.1f' text-anchor='end'>%.*f</text>\n",
                    (int)xa, y, (int)xb, y, (int)xa - 6, y + 4, dec, v);
        } else {
            double x = sx(b, v), ya = b->oy + MT, yb = b->oy + CH - MB;
            fprintf(f,
                    "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#e4e4e4'/>"
                    "<text x='%.1f' y='%d' text-anchor='middle'>%.*f</text>\n",
                    x, (int)ya, x, (int)yb, x, (int)yb + 16, dec, v);
        }
    }
}

static void axes(FILE *f, const frame *b, const hy_svg_panel *p) {
    int l = b->ox + ML, r = b->ox + CW - LW - MR, t = b->oy + MT, bot = b->oy + CH - MB;
    ticks(f, b, 0), ticks(f, b, 1);
    fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' stroke='#444'/>\n", l, t,
            r - l, bot - t);
    if (p->title) {
        fprintf(f, "<text x='%d' y='%d' font-size='13' font-weight='bold'>", l, t - 10);
        hy_svg_text(f, p->title);
        fputs("</text>\n", f);
    }
    fprintf(f, "<text x='%d' y='%d' font-size='12' text-anchor='middle'>", (l + r) / 2, bot + 36);
    hy_svg_text(f, p->xlabel);
    fputs("</text>\n", f);
    fprintf(f,
            "<text transform='translate(%d,%d) rotate(-90)' font-size='12' "
            "text-anchor='middle'>",
            b->ox + 16, (t + bot) / 2);
    hy_svg_text(f, p->ylabel);
    fputs("</text>\n", f);
}

static hy_status series(FILE *f, const frame *b, const hy_svg_series *q) {
    const char *col = hy_svg_color(q->color);
    int32_t *ord = hy_malloc((size_t)(q->n > 0 ? q->n : 1) * sizeof *ord, "plot point order");
    if (!ord) return HY_ENOMEM;
    int32_t m = 0;
    for (int32_t i = 0; i < q->n; i++)
        if (isfinite(q->x[i]) && isfinite(q->y[i])) ord[m++] = i;
    for (int32_t j = 1; j < m; j++) /* insertion sort by x: series are short */
        for (int32_t k = j; k > 0 && q->x[ord[k - 1]] > q->x[ord[k]]; k--) {
            int32_t t = ord[k];
            ord[k] = ord[k - 1], ord[k - 1] = t;
        }
    if (q->line && m > 1) {
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='1.8' points='", col);
        for (int32_t j = 0; j < m; j++)
            fprintf(f, "%s%.1f,%.1f", j ? " " : "", sx(b, q->x[ord[j]]), sy(b, q->y[ord[j]]));
        fputs("'/>\n", f);
    }
    for (int32_t j = 0; j < m; j++) {
        int32_t i = ord[j];
        double x = sx(b, q->x[i]), y = sy(b, q->y[i]);
        int wh = q->lo && q->hi && isfinite(q->lo[i]) && isfinite(q->hi[i]);
        if (wh) {
            double a = sy(b, q->lo[i]), c = sy(b, q->hi[i]);
            fprintf(f,
                    "<path stroke='%s' stroke-width='1.2' fill='none' d='M%.1f,%.1fV%.1f"
                    "M%.1f,%.1fh7M%.1f,%.1fh7'/>\n",
                    col, x, a, c, x - 3.5, a, x - 3.5, c);
        }
        fprintf(f, "<circle cx='%.1f' cy='%.1f' r='4' fill='%s' stroke='%s' stroke-width='1.5'>", x,
                y, q->hollow ? "white" : col, col);
        fputs("<title>", f);
        hy_svg_text(f, q->name);
        fprintf(f, ": x %.4g, y %.4g", q->x[i], q->y[i]);
        if (wh) fprintf(f, " [%.4g, %.4g]", q->lo[i], q->hi[i]);
        fputs("</title></circle>\n", f);
    }
    free(ord);
    return HY_OK;
}

static void legend_row(FILE *f, const frame *b, int row, const char *col, const char *label,
                       int kind /* 0 marker, 1 hollow marker, 2 dashed line */, int line) {
    int x = b->ox + CW - LW + 4, y = b->oy + MT + 10 + 18 * row;
    if (line || kind == 2)
        fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='1.8'%s/>", x, y,
                x + 22, y, col, kind == 2 ? " stroke-dasharray='5,3'" : "");
    if (kind != 2)
        fprintf(f, "<circle cx='%d' cy='%d' r='4' fill='%s' stroke='%s' stroke-width='1.5'/>",
                x + 11, y, kind == 1 ? "white" : col, col);
    fprintf(f, "<text x='%d' y='%d'>", x + 28, y + 4);
    hy_svg_text(f, label);
    fputs("</text>\n", f);
}

static hy_status panel(FILE *f, const hy_svg_panel *p, int ox, int oy, int id) {
    for (int32_t s = 0; s < p->n_series; s++)
        if (p->series[s].n > 0 && (!p->series[s].x || !p->series[s].y))
            return hy_fail(HY_EINVAL, "svg plot: panel %d series %d (%s) has NULL coordinates", id,
                           (int)s, p->series[s].name ? p->series[s].name : "?");
    frame b = fit(p);
    b.ox = ox, b.oy = oy;
    axes(f, &b, p);
    int l = ox + ML, r = ox + CW - LW - MR, t = oy + MT, bot = oy + CH - MB;
    fprintf(f,
            "<clipPath id='hyclip%d'><rect x='%d' y='%d' width='%d' height='%d'/></clipPath>\n"
            "<g clip-path='url(#hyclip%d)'>\n",
            id, l, t, r - l, bot - t, id);
    if (isfinite(p->ref_y))
        fprintf(f,
                "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#333' stroke-width='1.2' "
                "stroke-dasharray='5,3'/>\n",
                l, sy(&b, p->ref_y), r, sy(&b, p->ref_y));
    hy_status st = HY_OK;
    for (int32_t s = 0; s < p->n_series && !st; s++)
        st = series(f, &b, &p->series[s]);
    fputs("</g>\n", f);
    int row = 0;
    if (isfinite(p->ref_y))
        legend_row(f, &b, row++, "#333", p->ref_label ? p->ref_label : "", 2, 0);
    for (int32_t s = 0; s < p->n_series; s++)
        legend_row(f, &b, row++, hy_svg_color(p->series[s].color), p->series[s].name,
                   p->series[s].hollow, p->series[s].line);
    return st;
}

hy_status hy_svg_plot(FILE *f, const char *title, const char *note, const hy_svg_panel *panels,
                      int32_t n_panels, int32_t cols) {
    if (!f || !panels || n_panels <= 0)
        return hy_fail(HY_EINVAL, "svg plot: %d panels (or a NULL stream), expected >= 1",
                       (int)n_panels);
    if (cols <= 0 || cols > n_panels) cols = n_panels;
    int rows = (n_panels + cols - 1) / cols, w = cols * CW, h = HEAD + rows * CH + FOOT;
    fprintf(f,
            "<?xml version='1.0' encoding='UTF-8'?>\n"
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d' "
            "font-family='sans-serif' font-size='11'>\n"
            "<rect width='%d' height='%d' fill='white'/>\n",
            w, h, w, h, w, h);
    if (title) {
        fprintf(f, "<text x='%d' y='26' font-size='16'>", ML);
        hy_svg_text(f, title);
        fputs("</text>\n", f);
    }
    hy_status st = HY_OK;
    for (int32_t i = 0; i < n_panels && !st; i++)
        st = panel(f, &panels[i], (int)(i % cols) * CW, HEAD + (int)(i / cols) * CH, (int)i);
    if (note) {
        fprintf(f, "<text x='%d' y='%d' fill='#555'>", ML, h - 9);
        hy_svg_text(f, note);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
    if (st) return st;
    return ferror(f) ? hy_fail(HY_EIO, "svg plot: write failed") : HY_OK;
}

hy_status hy_svg_plot_file(const char *path, const char *title, const char *note,
                           const hy_svg_panel *panels, int32_t n_panels, int32_t cols) {
    if (!path) return hy_fail(HY_EINVAL, "svg plot: path is NULL");
    FILE *f = fopen(path, "w");
    if (!f) return hy_fail(HY_EIO, "%s: cannot create", path);
    hy_status st = hy_svg_plot(f, title, note, panels, n_panels, cols);
    if (fclose(f) && !st) st = hy_fail(HY_EIO, "%s: write failed", path);
    if (st) hy_fail_ctx(st, "%s", path);
    return st;
}
