/* dpsolver/svg: the Pareto picture as a small self-contained SVG (no library): axes with
 * ticks, the DP frontier as a step line, Lagrangian hull points, ILP points, a legend.
 * x = predicted cost as a fraction of dense attention, y = predicted loss. */
#include "hy_dpsolver.h"

#include <math.h>
#include <stdio.h>

enum { W = 720, HGT = 460, ML = 70, MR = 20, MT = 40, MB = 60 };

typedef struct {
    double x0, x1, y0, y1;
} box;

static double px(const box *b, double x) {
    return ML + (x - b->x0) / (b->x1 - b->x0) * (W - ML - MR);
}
static double py(const box *b, double y) {
    return HGT - MB - (y - b->y0) / (b->y1 - b->y0) * (HGT - MT - MB);
}

static void grow(box *b, const hy_pareto_point *p, int32_t n, double dense) {
    for (int32_t i = 0; i < n; i++) {
        double x = p[i].cost_s / dense, y = p[i].loss;
        if (!isfinite(x) || !isfinite(y)) continue;
        b->x0 = fmin(b->x0, x), b->x1 = fmax(b->x1, x), b->y1 = fmax(b->y1, y);
    }
}

static void axes(FILE *f, const box *b, const char *title) {
    fprintf(f, "<rect width='%d' height='%d' fill='white'/>\n", W, HGT);
    fprintf(f, "<text x='%d' y='24' font-size='15' font-family='sans-serif'>", ML);
    for (const char *c = title; *c; c++) /* escape for XML */
        *c == '<' ? fputs("&lt;", f) : *c == '&' ? fputs("&amp;", f) : fputc(*c, f);
    fputs("</text>\n", f);
    fprintf(f,
            "<g stroke='#444' fill='none'><line x1='%d' y1='%d' x2='%d' y2='%d'/>"
            "<line x1='%d' y1='%d' x2='%d' y2='%d'/></g>\n",
            ML, HGT - MB, W - MR, HGT - MB, ML, MT, ML, HGT - MB);
    for (int i = 0; i <= 5; i++) {
        double x = b->x0 + (b->x1 - b->x0) * i / 5, y = b->y0 + (b->y1 - b->y0) * i / 5;
        fprintf(f,
                "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' stroke='#444'/>"
                "<text x='%.1f' y='%d' font-size='11' text-anchor='middle' "
                "font-family='sans-serif'>%.2f</text>\n",
                px(b, x), HGT - MB, px(b, x), HGT - MB + 5, px(b, x), HGT - MB + 18, x);
        fprintf(f,
                "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' stroke='#ddd'/>"
                "<text x='%d' y='%.1f' font-size='11' text-anchor='end' "
                "font-family='sans-serif'>%.3g</text>\n",
                ML, py(b, y), W - MR, py(b, y), ML - 6, py(b, y) + 4, y);
    }
    fprintf(f,
            "<text x='%d' y='%d' font-size='12' text-anchor='middle' font-family='sans-serif'>"
            "predicted attention cost (fraction of dense)</text>\n",
            (ML + W - MR) / 2, HGT - 18);
    fprintf(f,
            "<text transform='translate(18,%d) rotate(-90)' font-size='12' text-anchor='middle' "
            "font-family='sans-serif'>predicted loss (sum over layers)</text>\n",
            (MT + HGT - MB) / 2);
}

static void legend(FILE *f, int i, const char *color, const char *label, int line) {
    double y = MT + 8 + 18 * i;
    if (line)
        fprintf(f, "<line x1='%d' y1='%.0f' x2='%d' y2='%.0f' stroke='%s' stroke-width='2'/>",
                W - MR - 170, y, W - MR - 150, y, color);
    else
        fprintf(f, "<circle cx='%d' cy='%.0f' r='4' fill='%s'/>", W - MR - 160, y, color);
    fprintf(f, "<text x='%d' y='%.0f' font-size='12' font-family='sans-serif'>%s</text>\n",
            W - MR - 144, y + 4, label);
}

hy_status hy_pareto_write_svg(const hy_pareto *p, const char *title, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return hy_fail(HY_EIO, "%s: cannot create", path);
    double d = p->dense_cost_s;
    box b = {INFINITY, -INFINITY, 0, 0};
    grow(&b, p->dp, p->n_dp, d), grow(&b, p->lagrange, p->n_lagrange, d),
        grow(&b, p->ilp, p->n_ilp, d);
    if (!isfinite(b.x0)) b.x0 = 0, b.x1 = 1;
    b.x0 = fmax(0, b.x0 - 0.02), b.x1 += 0.02;
    if (b.y1 <= 0) b.y1 = 1;
    b.y1 *= 1.05;
    fprintf(f,
            "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d'>\n",
            W, HGT, W, HGT);
    axes(f, &b, title);
    if (p->n_dp) { /* step line: the best loss holds until the next improvement */
        fputs("<path fill='none' stroke='#1f77b4' stroke-width='2' d='", f);
        for (int32_t i = 0; i < p->n_dp; i++) {
            double x = px(&b, p->dp[i].cost_s / d), y = py(&b, p->dp[i].loss);
            if (i)
                fprintf(f, " H%.1f V%.1f", x, y);
            else
                fprintf(f, "M%.1f,%.1f", x, y);
        }
        fprintf(f, " H%.1f'/>\n", px(&b, b.x1));
    }
    for (int32_t i = 0; i < p->n_lagrange; i++)
        fprintf(f, "<circle cx='%.1f' cy='%.1f' r='3' fill='none' stroke='#2ca02c'/>\n",
                px(&b, p->lagrange[i].cost_s / d), py(&b, p->lagrange[i].loss));
    for (int32_t i = 0; i < p->n_ilp; i++)
        fprintf(f,
                "<circle cx='%.1f' cy='%.1f' r='4' fill='#d62728'><title>budget %.3f loss %.4g gap "
                "%.2g</title></circle>\n",
                px(&b, p->ilp[i].cost_s / d), py(&b, p->ilp[i].loss), p->ilp[i].budget_s / d,
                p->ilp[i].loss, p->ilp[i].gap);
    legend(f, 0, "#1f77b4", "DP (exact for chains)", 1);
    legend(f, 1, "#2ca02c", "DP Lagrangian hull", 0);
    legend(f, 2, "#d62728", "ILP (GLPK, unit level)", 0);
    fputs("</svg>\n", f);
    return fclose(f) ? hy_fail(HY_EIO, "%s: write failed", path) : HY_OK;
}
