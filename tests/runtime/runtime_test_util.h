/* Helpers shared by the runtime tests: load a tiny model written by tiny_llama.c and compare
 * logits rows. Test-only. */
#ifndef RUNTIME_TEST_UTIL_H
#define RUNTIME_TEST_UTIL_H

#include "hy_runtime.h"
#include "tiny_llama.h"

#include <stdio.h>
#include <stdlib.h>

/* Writes cfg to a temp file, loads it; keeps the reference weights in *tm when not NULL. */
static inline hy_status rt_load(const tiny_cfg *cfg, tiny_model *tm, hy_model **out) {
    char path[64];
    hy_status st = tiny_write(cfg, path, tm);
    if (st != HY_OK) return st;
    st = hy_model_load(path, out);
    remove(path);
    return st;
}

/* max |a - b| over n floats vs doubles, relative to max |b| (at least 1) */
static inline double rt_err_fd(const float *a, const double *b, int64_t n) {
    double worst = 0, scale = 1;
    for (int64_t i = 0; i < n; i++)
        scale = fabs(b[i]) > scale ? fabs(b[i]) : scale;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= worst)) worst = e;
    }
    return worst / scale;
}
static inline double rt_err_ff(const float *a, const float *b, int64_t n) {
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= worst)) worst = e;
    }
    return worst;
}
static inline int32_t *rt_tokens(int n, int vocab, unsigned seed) {
    int32_t *t = malloc((size_t)n * sizeof(int32_t));
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        t[i] = (int32_t)((seed >> 8) % (unsigned)vocab);
    }
    return t;
}

/* A plan for m with every unit dense (refresh 1) and the given set parameters. */
static inline hy_plan *rt_new_plan(const hy_model *m, int k, int sink, int window) {
    const hy_model_info *mi = hy_model_info_borrow(m);
    hy_plan *p = NULL;
    if (hy_plan_create(mi->n_layers, mi->n_heads, mi->n_kv_heads, mi->head_dim, &p)) return NULL;
    p->k = k, p->sink = sink, p->window = window;
    return p;
}
/* Sets unit (layer, head): its mode, its reuse source (src_layer, src_head) and refresh. */
static inline void rt_set_unit(hy_plan *p, int layer, int head, hy_unit_mode mode, int src_layer,
                               int src_head, int refresh) {
    hy_plan_unit *u = &p->units[layer * p->n_kv_heads + head];
    u->mode = mode;
    u->src = mode == HY_MODE_REUSE ? src_layer * p->n_kv_heads + src_head : -1;
    u->refresh = refresh;
}

/* hy_decode_sample on context a against the host loop it promises on context b (both holding
 * the same sequences 0..n-1): hy_forward_batch, then a fresh sampler seeded p->seed + s per
 * sequence. Returns the first step * n + s that differs, or -1; -2 if a call failed. */
static inline int rt_sample_mismatch(hy_ctx *a, hy_ctx *b, int V, int n, const int32_t *start,
                                     int steps, const hy_sampler_params *p) {
    int32_t *got = (int32_t *)malloc((size_t)steps * n * 4), cur[16];
    float *lg = (float *)malloc((size_t)n * V * sizeof *lg);
    hy_sampler *smp[16] = {0};
    int seqs[16], bad = -1;
    if (!got || !lg || n > 16 || hy_decode_sample(a, n, start, steps, p, got)) bad = -2;
    for (int s = 0; bad == -1 && s < n; s++) {
        hy_sampler_params ps = *p;
        ps.seed = p->seed + (uint64_t)s;
        seqs[s] = s, cur[s] = start[s];
        if (hy_sampler_create(&ps, V, &smp[s])) bad = -2;
    }
    for (int i = 0; bad == -1 && i < steps; i++) {
        if (hy_forward_batch(b, seqs, cur, n, lg)) {
            bad = -2;
            break;
        }
        for (int s = 0; s < n; s++) {
            cur[s] = hy_sampler_sample(smp[s], lg + (size_t)s * V);
            if (bad == -1 && cur[s] != got[i * n + s]) bad = i * n + s;
        }
    }
    for (int s = 0; s < 16; s++)
        hy_sampler_free(smp[s]);
    free(got), free(lg);
    return bad;
}

#endif