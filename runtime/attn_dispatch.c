/* Attention dispatch (attn_mode.h): builds the work items of one layer and runs each through
 * its unit's mode (the sequence's plan in decode steps, dense otherwise); reuse items run in
 * a second phase after every unit that may publish a set. Long runs are cut into query slices of
 * equal causal work (a slice late in the prompt sees more keys) so two threads finish together;
 * while items run in parallel, OpenBLAS is held to one thread per call so the two levels of
 * threading do not fight. */
#include "attention_prefill.h"
#include "attn_mode.h"
#include "matmul.h"
#include "plan_exec.h"

#include <math.h>
#include <stdlib.h>

const hy_attn_fn hy_attn_modes[HY_MODE_COUNT] = {
    [HY_MODE_DENSE] = hy_attn_dense,    [HY_MODE_SELECT] = hy_attn_select,
    [HY_MODE_REUSE] = hy_attn_reuse,    [HY_MODE_WINDOW] = hy_attn_window,
    [HY_MODE_BOUNDS] = hy_attn_bounds,  [HY_MODE_SCORE] = hy_attn_select,
    [HY_MODE_SKETCH8] = hy_attn_select, [HY_MODE_SKETCH4] = hy_attn_select,
};

/* The mode a unit runs in for this run: its plan's in a decode step, else dense. */
static hy_unit_mode item_mode(const hy_ctx *c, const hy_run *r, int layer, int kv_head) {
    const hy_seq_plan *sp = c->plans[r->seq];
    if (!sp || !r->decode) return HY_MODE_DENSE;
    return sp->plan->units[layer * c->m->info.n_kv_heads + kv_head].mode;
}

typedef struct {
    int run, kv_head;
    int64_t i0, n_q;
    int part, n_parts; /* split-KV decode: key range part of n_parts (n_parts 1: whole item) */
    int64_t base;      /* split-KV: offset in attn_job.pieces of this (run, KV head)'s block */
} attn_slice;

typedef struct {
    hy_ctx *c;
    int layer;
    const hy_run *runs;
    attn_slice *slices;
    float *pieces; /* split-KV: per (run, KV head) o[parts][g][d], m[parts][g], l[parts][g] */
} attn_job;

/* A decode step of a sequence without a plan or observer is cut into key ranges when its KV
 * heads are too few to keep every thread busy (SmolLM2: 3 heads on 2 threads) and the cache
 * is long enough for the pieces to pay for their merge. Only a step of one sequence: in a
 * batch every sequence attends unsplit, so an unplanned sequence and a planned one's dense
 * and select units compute with the same arithmetic. `hylra eval` decodes its dense
 * reference beside the methods in one batch; when the reference alone was split, the
 * different summation order (1e-6) flipped roundings of the int8 activations on native
 * weights and grew to KL 0.003 between dense and an all-dense plan (SmolLM2, 2K). */
#define SPLIT_MIN_KEYS 512

/* The keys a decode query of layer `layer` at position pos0 attends to: [first, pos0] (a
 * sliding-window layer sees its last W positions, as attn_mode_dense.c). */
static int64_t first_key(const hy_model_info *mi, int layer, int64_t pos0) {
    const int64_t W = hy_model_layer_window(mi, layer);
    return W && W < pos0 + 1 ? pos0 + 1 - W : 0;
}

static int split_parts(const hy_ctx *c, const hy_run *r, int n_runs, int layer, int n_threads) {
    const hy_model_info *mi = hy_model_info_borrow(c->m);
    const int g = mi->n_heads / mi->n_kv_heads;
    const int64_t n_keys = r->pos0 + 1 - first_key(mi, layer, r->pos0);
    if (r->n_q != 1 || n_runs != 1 || n_threads < 2 || c->observer || c->plans[r->seq] || g > 8 ||
        mi->head_dim > 256 || n_keys < SPLIT_MIN_KEYS || mi->n_kv_heads >= 2 * n_threads)
        return 1;
    int parts = (2 * n_threads + mi->n_kv_heads - 1) / mi->n_kv_heads;
    while (parts > 1 && n_keys / parts < SPLIT_MIN_KEYS / 2)
        parts--;
    return parts;
}

static hy_status run_piece(attn_job *j, const attn_slice *s, const hy_attn_item *it) {
    const int64_t kf = first_key(hy_model_info_borrow(j->c->m), j->layer, it->pos0);
    const int64_t n_keys = it->pos0 + 1 - kf, k0 = kf + n_keys * s->part / s->n_parts,
                  k1 = kf + n_keys * (s->part + 1) / s->n_parts;
    const int g = it->n_heads, d = it->head_dim, np = s->n_parts;
    float *o = j->pieces + s->base, *m = o + (int64_t)np * g * d, *l = m + np * g;
    hy_attn_decode_part_f32(o + (int64_t)s->part * g * d, m + s->part * g, l + s->part * g, it->q,
                            it->k + k0 * d, it->v + k0 * d, k1 - k0, g, d, it->scale);
    return HY_OK;
}

static hy_status run_item(void *arg, int64_t idx) {
    attn_job *j = arg;
    hy_ctx *c = j->c;
    const hy_model_info *mi = hy_model_info_borrow(c->m);
    const attn_slice *s = &j->slices[idx];
    const hy_run *r = &j->runs[s->run];
    const int g = mi->n_heads / mi->n_kv_heads, hd = mi->head_dim;
    const int64_t qkv_w = (int64_t)(mi->n_heads + 2 * mi->n_kv_heads) * hd;
    const int64_t att_w = (int64_t)mi->n_heads * hd;
    const int64_t t = r->t0 + s->i0;
    hy_attn_item it = {
        .layer = j->layer,
        .kv_head = s->kv_head,
        .seq = r->seq,
        .n_heads = g,
        .head_dim = hd,
        .q = c->qkv + t * qkv_w + (int64_t)s->kv_head * g * hd,
        .q_stride = qkv_w,
        .k = hy_ctx_k(c, r->seq, j->layer) + (int64_t)s->kv_head * c->n_ctx * hd,
        .v = hy_ctx_v(c, r->seq, j->layer) + (int64_t)s->kv_head * c->n_ctx * hd,
        .kv_cap = c->n_ctx,
        .out = c->att + t * att_w + (int64_t)s->kv_head * g * hd,
        .out_stride = att_w,
        .n_q = s->n_q,
        .pos0 = r->pos0 + s->i0,
        .scale = mi->attn_scale,
    };
    if (s->n_parts > 1) return run_piece(j, s, &it);
    const hy_unit_mode mode = item_mode(c, r, j->layer, s->kv_head);
    const hy_status st = hy_attn_modes[mode](c, &it);
    if (st != HY_OK) return st;
    if (mode == HY_MODE_DENSE && r->decode && c->plans[r->seq]) {
        /* a planned sequence's dense units read everything: counted like the other modes */
        struct hy_seq_plan *sp = c->plans[r->seq];
        const int32_t u = j->layer * mi->n_kv_heads + s->kv_head;
        const int64_t W = hy_model_layer_window(mi, j->layer); /* a window layer's dense */
        const double rows = (double)(W && W < it.pos0 + 1 ? W : it.pos0 + 1);
        sp->kv_tokens[u] += rows;
        sp->kv_dense[u] += rows;
    }
    if (c->observer) /* profiler hook (hy_observer.h): sees what the mode attended to */
        hy_observer_run(c, it.layer, it.kv_head, it.seq, it.q, it.q_stride, it.out, it.out_stride,
                        it.n_q, it.pos0);
    return HY_OK;
}

/* Splits a run of n_q queries starting at pos0 into up to `parts` slices of about equal
 * causal work sum_i (pos0 + i + 1). Returns the number of slices written. */
static int split_run(int64_t n_q, int64_t pos0, int parts, int64_t *bounds) {
    const double total = (double)n_q * (double)pos0 + (double)n_q * (double)(n_q + 1) / 2.0;
    int n = 0;
    int64_t i = 0;
    bounds[0] = 0;
    for (int p = 1; p < parts; p++) {
        const double target = total * p / parts;
        /* smallest i with work(0..i) >= target: solve i^2/2 + (pos0 + 1/2) i = target */
        const double b = (double)pos0 + 0.5;
        int64_t e = (int64_t)ceil(-b + sqrt(b * b + 2.0 * target));
        if (e <= i) continue;
        if (e >= n_q) break;
        bounds[++n] = i = e;
    }
    bounds[++n] = n_q;
    return n;
}

hy_status hy_attn_run(hy_ctx *c, int layer, const hy_run *runs, int n_runs) {
    const hy_model_info *mi = hy_model_info_borrow(c->m);
    const int n_threads = hy_pool_threads(c->pool);
    const int g = mi->n_heads / mi->n_kv_heads, hd = mi->head_dim;
    int64_t n_items = 0, n_pieces = 0;
    for (int r = 0; r < n_runs; r++) {
        int parts = runs[r].n_q >= 64 && n_threads > 1 ? 2 * n_threads : 1;
        const int kv_parts = split_parts(c, &runs[r], n_runs, layer, n_threads);
        n_items += (int64_t)(parts > kv_parts ? parts : kv_parts) * mi->n_kv_heads;
        n_pieces += kv_parts > 1 ? (int64_t)kv_parts * mi->n_kv_heads : 0;
    }
    attn_slice *slices = hy_malloc((size_t)n_items * sizeof *slices, "attention work items");
    float *pieces =
        n_pieces ? hy_malloc((size_t)(n_pieces * g * (hd + 2)) * sizeof(float), "split-KV pieces")
                 : NULL;
    if (!slices || (n_pieces && !pieces)) {
        free(slices), free(pieces);
        return HY_ENOMEM;
    }
    int64_t k = 0, base = 0;
    int64_t bounds[65];
    for (int r = 0; r < n_runs; r++) {
        const int kv_parts = split_parts(c, &runs[r], n_runs, layer, n_threads);
        if (kv_parts > 1) { /* one decode query, its keys cut into kv_parts ranges */
            const int64_t block = (int64_t)kv_parts * g * (hd + 2);
            for (int p = 0; p < kv_parts; p++)
                for (int h = 0; h < mi->n_kv_heads; h++)
                    slices[k++] = (attn_slice){r, h, 0, 1, p, kv_parts, base + h * block};
            base += mi->n_kv_heads * block;
            continue;
        }
        int parts = runs[r].n_q >= 64 && n_threads > 1 ? 2 * n_threads : 1;
        if (parts > 64) parts = 64;
        int ns = split_run(runs[r].n_q, runs[r].pos0, parts, bounds);
        for (int s = ns - 1; s >= 0; s--) /* late slices carry the most keys: hand out first */
            for (int h = 0; h < mi->n_kv_heads; h++)
                slices[k++] = (attn_slice){r, h, bounds[s], bounds[s + 1] - bounds[s], 0, 1, 0};
    }
    /* reuse items last (stable), so their sources of the same layer have published */
    int64_t n_first = 0;
    for (int64_t i = 0; i < k; i++)
        if (item_mode(c, &runs[slices[i].run], layer, slices[i].kv_head) != HY_MODE_REUSE) {
            attn_slice t = slices[i];
            for (int64_t j = i; j > n_first; j--)
                slices[j] = slices[j - 1];
            slices[n_first++] = t;
        }
    const int flip = n_threads > 1 && !c->own_gemm_threads;
    const int prev = flip ? hy_matmul_set_threads(1) : 0;
    /* errors raised on a worker come back with their message (threads.h) */
    attn_job job = {c, layer, runs, slices, pieces};
    hy_status st = hy_pool_run(c->pool, n_first, run_item, &job);
    if (st == HY_OK && n_first < k) {
        attn_job second = {c, layer, runs, slices + n_first, pieces};
        st = hy_pool_run(c->pool, k - n_first, run_item, &second);
    }
    /* split-KV: each (run, KV head)'s pieces merged into its attention output */
    for (int64_t i = 0; st == HY_OK && i < k; i++) {
        const attn_slice *s = &slices[i];
        if (s->n_parts == 1 || s->part != 0) continue;
        const float *o = pieces + s->base, *m = o + (int64_t)s->n_parts * g * hd;
        const hy_run *r = &runs[s->run];
        hy_attn_decode_merge_f32(c->att + r->t0 * (int64_t)mi->n_heads * hd +
                                     (int64_t)s->kv_head * g * hd,
                                 o, m, m + s->n_parts * g, s->n_parts, g, hd);
    }
    if (flip) hy_matmul_set_threads(prev);
    free(slices), free(pieces);
    return st;
}
