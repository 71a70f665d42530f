/* hy_report_write_html: picks the numbers a reader needs from a profile (means over KV heads,
 * std bars, the layer with the largest own-set error) and lays out the SVG pictures of
 * report_svg.c in one HTML page. */
#include "hy_report.h"
#include "report_svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int32_t pick_k(const hy_profile *p, int32_t want) {
    if (want <= 0) want = 256;
    int32_t best = 0;
    for (int32_t i = 1; i < p->n_k; i++)
        if (fabs(log2((double)p->k_grid[i] / want)) < fabs(log2((double)p->k_grid[best] / want)))
            best = i;
    return best;
}

/* mean over the KV heads of a [L, Hkv, X] statistic at column x */
static float head_mean(const hy_profile *p, const float *a, int32_t l, int32_t x, int32_t nx) {
    double s = 0.0;
    for (int32_t h = 0; h < p->n_kv_heads; h++)
        s += a[((size_t)l * p->n_kv_heads + h) * nx + x];
    return (float)(s / p->n_kv_heads);
}

static hy_status body(FILE *f, const hy_profile *p, const hy_report_opts *o) {
    const int32_t L = p->n_layers, H = p->n_kv_heads, U = L * H, ki = pick_k(p, o->k);
    const int32_t k = p->k_grid[ki];
    float *cl = malloc((size_t)L * L * sizeof *cl), *v = malloc((size_t)L * 4 * sizeof *v);
    float *hp = malloc((size_t)H * H * sizeof *hp);
    float *t = malloc((size_t)L * p->n_strides * sizeof *t),
          *sx = malloc(p->n_strides * sizeof *sx);
    uint8_t *mark = calloc((size_t)L, 1);
    char(*names)[24] = malloc((size_t)L * sizeof *names);
    const char **np = malloc((size_t)L * sizeof *np);
    if (!cl || !v || !hp || !t || !sx || !mark || !names || !np) {
        free(cl), free(v), free(hp), free(t), free(sx), free(mark), free(names), free(np);
        return hy_fail(HY_ENOMEM, "report: buffers for %d layers", L);
    }
    for (int32_t a = 0; a < L; a++)
        for (int32_t b = 0; b < L; b++)
            cl[a * L + b] = p->cl_recall.mean[hy_profile_idx_cl(p, a, b, ki)];
    int32_t worst = 0;
    for (int32_t l = 0; l < L; l++) {
        v[l] = head_mean(p, p->layer_recall.mean, l, ki, p->n_k);
        v[L + l] = head_mean(p, p->layer_recall.std, l, ki, p->n_k);
        v[2 * L + l] = head_mean(p, p->layer_out_err.mean, l, ki, p->n_k);
        v[3 * L + l] = head_mean(p, p->layer_out_err.std, l, ki, p->n_k);
        mark[l] = v[2 * L + l] > o->sensitive_err;
        if (v[2 * L + l] > v[2 * L + worst]) worst = l;
        for (int32_t s = 0; s < p->n_strides; s++)
            t[l * p->n_strides + s] = head_mean(p, p->temporal_recall.mean, l, s, p->n_strides);
        snprintf(names[l], sizeof names[l], "layer %d", l);
        np[l] = names[l];
    }
    const int32_t hl = o->layer >= 0 && o->layer < L ? o->layer : worst;
    for (int32_t a = 0; a < H; a++)
        for (int32_t b = 0; b < H; b++)
            hp[a * H + b] =
                a == b ? p->layer_recall.mean[hy_profile_idx_unit(p, hl, a, ki)]
                       : p->cross_recall.mean[hy_profile_idx_cross(p, hl * H + a, hl * H + b, ki)];
    for (int32_t s = 0; s < p->n_strides; s++)
        sx[s] = (float)p->strides[s];
    fprintf(f,
            "<h1>hylra profile: %s</h1>\n<p>%s, %d layers x %d KV heads (%d units), head_dim "
            "%d; %d samples x %d queries at ctx %d from <code>%s</code>; sink %d, window %d, "
            "seed %llu; %s.</p>\n",
            p->model_name, p->arch, L, H, U, p->head_dim, p->n_samples, p->n_queries, p->ctx,
            p->calib_source, p->sink, p->window, (unsigned long long)p->seed, p->tool_version);
    fprintf(f,
            "<h2>Cross-layer recall at k = %d</h2><p>Row a, column b: layer b attending to "
            "the top-k of layer a (head h to head h, mean over h). Grey: not allowed.</p>\n",
            k);
    hy_svg_heatmap(f, cl, L, L, 0.0f, 1.0f, "source layer a", "reusing layer b");
    fprintf(f,
            "<h2>Own-set recall per layer at k = %d</h2><p>Mean over KV heads; bars: std "
            "across samples. Red: sensitive (own-set out_err &gt; %.3g).</p>\n",
            k, o->sensitive_err);
    hy_svg_bars(f, v, v + L, mark, L, 1.0f, "layer", "recall");
    float emax = 0.0f;
    for (int32_t l = 0; l < L; l++)
        if (v[2 * L + l] + v[3 * L + l] > emax) emax = v[2 * L + l] + v[3 * L + l];
    fprintf(f, "<h2>Own-set output error per layer at k = %d</h2>\n", k);
    hy_svg_bars(f, v + 2 * L, v + 3 * L, mark, L, emax > 0 ? emax : 1.0f, "layer",
                "||o_S - o|| / ||o||");
    fprintf(f,
            "<h2>Head pairs of layer %d at k = %d</h2><p>Row: the head whose top-k is used; "
            "column: the head using it (diagonal: own set).</p>\n",
            hl, k);
    hy_svg_heatmap(f, hp, H, H, 0.0f, 1.0f, "source head", "reusing head");
    fprintf(f, "<h2>Temporal recall</h2><p>The unit's own top-k set (k = the profile run's "
               "--temporal-k) chosen s decode steps ago, used now (the window follows the current "
               "step); mean over KV heads, one line per layer.</p>\n");
    hy_svg_lines(f, sx, t, p->n_strides, L, np, 0.0f, 1.0f, "stride s (steps)", "recall");
    free(cl), free(v), free(hp), free(t), free(sx), free(mark), free(names), free(np);
    return HY_OK;
}

hy_status hy_report_write_html(const hy_profile *p, const hy_report_opts *o, const char *path) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return hy_fail(HY_EINVAL, "report: path of %zu bytes is too long", sizeof tmp);
    FILE *f = fopen(tmp, "w");
    if (!f) return hy_fail(HY_EIO, "%s: cannot create", tmp);
    fprintf(f,
            "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>hylra profile %s</title>"
            "<style>body{font-family:sans-serif;max-width:1100px;margin:1em auto}"
            "svg{display:block;margin:0.5em 0}</style></head><body>\n",
            p->model_name);
    hy_status st = body(f, p, o);
    fprintf(f, "</body></html>\n");
    if (fclose(f) != 0 && !st) st = hy_fail(HY_EIO, "%s: write failed", tmp);
    if (!st && rename(tmp, path) != 0) st = hy_fail(HY_EIO, "%s: cannot rename to %s", tmp, path);
    if (st) remove(tmp);
    return st;
}
