/* Tiny random Llama models for the runtime tests (tiny_llama.h): the writer side and the
 * double-precision reference forward pass. */
#include "tiny_llama.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void tiny_default(tiny_cfg *c) {
    memset(c, 0, sizeof *c);
    c->n_layers = 2;
    c->d_model = 32;
    c->n_heads = 4;
    c->n_kv_heads = 2;
    c->d_ff = 48;
    c->n_vocab = 61;
    c->n_ctx_train = 1024;
    c->rope_theta = 10000.0f;
    c->rms_eps = 1e-5f;
    c->wtype = HY_GGML_F32;
    c->seed = 1;
}

static uint64_t rng_state;
static float rnd(float lo, float hi) {
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((rng_state >> 40) * (1.0 / 16777216.0));
}

/* Random [rows][cols] weights ~ U(-a, a), a = gain / sqrt(cols), written as `name` with
 * type t (1-D when rows == 0); *keep receives the values as the file will hold them. */
static hy_status add(hy_gguf_writer *w, const tiny_cfg *c, const char *name, int64_t rows,
                     int64_t cols, float center, float gain, hy_ggml_type t, float **keep) {
    const int64_t n = cols * (rows ? rows : 1);
    float *v = malloc((size_t)n * sizeof(float));
    const float a = gain / sqrtf((float)cols);
    for (int64_t i = 0; i < n; i++)
        v[i] = center + rnd(-a, a);
    if (rows == 0) t = HY_GGML_F32;
    /* what the file will hold: quantise and dequantise once */
    if (t != HY_GGML_F32) {
        size_t bytes = (size_t)(n / hy_ggml_block_elems(t)) * hy_ggml_block_bytes(t);
        void *q = malloc(bytes);
        hy_status st = hy_ggml_quantize(t, v, q, n);
        if (st == HY_OK) st = hy_ggml_dequantize(t, q, v, n);
        free(q);
        if (st != HY_OK) {
            free(v);
            return st;
        }
    }
    *keep = v;
    if (c->skip_tensor && !strcmp(c->skip_tensor, name)) return HY_OK;
    int64_t ne[2] = {cols, rows};
    if (c->bad_tensor && !strcmp(c->bad_tensor, name)) {
        /* one extra row (or element for 1-D): same data plus a zero tail */
        int64_t n2 = rows ? cols * (rows + 1) : cols + 1;
        float *v2 = calloc((size_t)n2 + 32, sizeof(float));
        memcpy(v2, v, (size_t)n * sizeof(float));
        if (rows)
            ne[1] = rows + 1;
        else
            ne[0] = cols + 1, t = HY_GGML_F32;
        hy_status st = hy_gguf_writer_add_tensor_f32(w, name, t, rows ? 2 : 1, ne, v2);
        free(v2);
        return st;
    }
    return hy_gguf_writer_add_tensor_f32(w, name, t, rows ? 2 : 1, ne, v);
}

static const char *arch_of(const tiny_cfg *c) {
    return c->arch ? c->arch : "llama";
}
static int has_bias(const tiny_cfg *c) {
    return !strcmp(arch_of(c), "qwen2");
}
static int has_qk_norm(const tiny_cfg *c) {
    return !strcmp(arch_of(c), "qwen3");
}

static hy_status set_u32(hy_gguf_writer *w, const tiny_cfg *c, const char *field, uint32_t v) {
    if (c->skip_key && !strcmp(c->skip_key, field)) return HY_OK;
    char key[96];
    snprintf(key, sizeof key, "%s.%s", arch_of(c), field);
    return hy_gguf_writer_set_u32(w, key, v);
}

static hy_status set_f32(hy_gguf_writer *w, const tiny_cfg *c, const char *field, float v) {
    char key[96];
    snprintf(key, sizeof key, "%s.%s", arch_of(c), field);
    return hy_gguf_writer_set_f32(w, key, v);
}

/* The architecture's extra tensors of layer l (Qwen2 biases, Qwen3 head norms). */
static hy_status add_extras(hy_gguf_writer *w, const tiny_cfg *c, int l, tiny_layer *L) {
    const int hd = c->d_model / c->n_heads;
    const int64_t nq = (int64_t)c->n_heads * hd, nkv = (int64_t)c->n_kv_heads * hd;
    char n[64];
    hy_status st = HY_OK;
    if (has_bias(c)) {
        snprintf(n, sizeof n, "blk.%d.attn_q.bias", l);
        if (!st) st = add(w, c, n, 0, nq, 0, 0.5f * sqrtf((float)nq), HY_GGML_F32, &L->bq);
        snprintf(n, sizeof n, "blk.%d.attn_k.bias", l);
        if (!st) st = add(w, c, n, 0, nkv, 0, 0.5f * sqrtf((float)nkv), HY_GGML_F32, &L->bk);
        snprintf(n, sizeof n, "blk.%d.attn_v.bias", l);
        if (!st) st = add(w, c, n, 0, nkv, 0, 0.5f * sqrtf((float)nkv), HY_GGML_F32, &L->bv);
    }
    if (has_qk_norm(c)) {
        snprintf(n, sizeof n, "blk.%d.attn_q_norm.weight", l);
        if (!st) st = add(w, c, n, 0, hd, 1, 0.5f * sqrtf((float)hd), HY_GGML_F32, &L->qn);
        snprintf(n, sizeof n, "blk.%d.attn_k_norm.weight", l);
        if (!st) st = add(w, c, n, 0, hd, 1, 0.5f * sqrtf((float)hd), HY_GGML_F32, &L->kn);
    }
    return st;
}

static hy_status build(hy_gguf_writer *w, const tiny_cfg *c, tiny_model *m) {
    const int hd = c->d_model / c->n_heads;
    hy_status st;
    if ((st = hy_gguf_writer_set_str(w, "general.architecture", arch_of(c))) ||
        (st = hy_gguf_writer_set_str(w, "general.name", "tiny-llama-test")) ||
        (st = set_u32(w, c, "block_count", (uint32_t)c->n_layers)) ||
        (st = set_u32(w, c, "embedding_length", (uint32_t)c->d_model)) ||
        (st = set_u32(w, c, "feed_forward_length", (uint32_t)c->d_ff)) ||
        (st = set_u32(w, c, "attention.head_count", (uint32_t)c->n_heads)) ||
        (st = set_u32(w, c, "attention.head_count_kv", (uint32_t)c->n_kv_heads)) ||
        (st = set_u32(w, c, "context_length", (uint32_t)c->n_ctx_train)) ||
        (st = set_u32(w, c, "rope.dimension_count", (uint32_t)hd)) ||
        (st = set_f32(w, c, "rope.freq_base", c->rope_theta)))
        return st;
    if (!(c->skip_key && !strcmp(c->skip_key, "attention.layer_norm_rms_epsilon")) &&
        (st = set_f32(w, c, "attention.layer_norm_rms_epsilon", c->rms_eps)))
        return st;
    if (c->rope_scaling &&
        (st = hy_gguf_writer_set_str(w, "llama.rope.scaling.type", c->rope_scaling)))
        return st;
    const hy_ggml_type t = c->wtype;
    const int64_t d = c->d_model, nq = (int64_t)c->n_heads * hd, nkv = (int64_t)c->n_kv_heads * hd;
    if ((st = add(w, c, "token_embd.weight", c->n_vocab, d, 0, 6.0f, t, &m->tok_embd)) ||
        (st = add(w, c, "output_norm.weight", 0, d, 1, 1.0f, t, &m->output_norm)))
        return st;
    if (c->tied)
        m->output = m->tok_embd;
    else if ((st = add(w, c, "output.weight", c->n_vocab, d, 0, 2.0f, t, &m->output)))
        return st;
    m->layers = calloc((size_t)c->n_layers, sizeof *m->layers);
    for (int l = 0; l < c->n_layers; l++) {
        tiny_layer *L = &m->layers[l];
        char n[9][64];
        const char *sfx[9] = {"attn_norm", "attn_q",   "attn_k", "attn_v",  "attn_output",
                              "ffn_norm",  "ffn_gate", "ffn_up", "ffn_down"};
        for (int i = 0; i < 9; i++)
            snprintf(n[i], sizeof n[i], "blk.%d.%s.weight", l, sfx[i]);
        if ((st = add(w, c, n[0], 0, d, 1, 1.0f, t, &L->attn_norm)) ||
            (st = add(w, c, n[1], nq, d, 0, 3.0f, t, &L->wq)) ||
            (st = add(w, c, n[2], nkv, d, 0, 3.0f, t, &L->wk)) ||
            (st = add(w, c, n[3], nkv, d, 0, 1.7f, t, &L->wv)) ||
            (st = add(w, c, n[4], d, nq, 0, 1.7f, t, &L->wo)) ||
            (st = add(w, c, n[5], 0, d, 1, 1.0f, t, &L->ffn_norm)) ||
            (st = add(w, c, n[6], c->d_ff, d, 0, 1.7f, t, &L->wg)) ||
            (st = add(w, c, n[7], c->d_ff, d, 0, 1.7f, t, &L->wu)) ||
            (st = add(w, c, n[8], d, c->d_ff, 0, 1.7f, t, &L->wd)) || (st = add_extras(w, c, l, L)))
            return st;
    }
    return HY_OK;
}

hy_status tiny_write(const tiny_cfg *c, char *path, tiny_model *m) {
    tiny_model local = {0};
    tiny_model *mm = m ? m : &local;
    memset(mm, 0, sizeof *mm);
    mm->cfg = *c;
    mm->head_dim = c->d_model / c->n_heads;
    rng_state = c->seed * 0x9e3779b97f4a7c15ull + 7;
    const char *tmp = getenv("TMPDIR");
    snprintf(path, 64, "%.40s/hy_tiny_XXXXXX", tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return hy_fail(HY_EIO, "tiny_write: mkstemp(%s) failed", path);
    close(fd);
    hy_gguf_writer *w;
    hy_status st = hy_gguf_writer_create(&w);
    if (st == HY_OK) st = build(w, c, mm);
    if (st == HY_OK) st = hy_gguf_writer_write(w, path, 32);
    hy_gguf_writer_free(w);
    if (!m || st != HY_OK) tiny_free(mm);
    return st;
}

void tiny_free(tiny_model *m) {
    if (!m) return;
    if (m->layers)
        for (int l = 0; l < m->cfg.n_layers; l++) {
            tiny_layer *L = &m->layers[l];
            free(L->attn_norm), free(L->wq), free(L->wk), free(L->wv), free(L->wo);
            free(L->ffn_norm), free(L->wg), free(L->wu), free(L->wd);
            free(L->bq), free(L->bk), free(L->bv), free(L->qn), free(L->kn);
        }
    free(m->layers);
    if (m->output != m->tok_embd) free(m->output);
    free(m->tok_embd);
    free(m->output_norm);
    memset(m, 0, sizeof *m);
}

/* ---- reference forward pass, double precision, whole sequence at once ---- */

static void rmsnorm(double *y, const double *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++)
        ss += x[i] * x[i];
    const double inv = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++)
        y[i] = x[i] * inv * w[i];
}

/* y[o] = sum_i W[o][i] x[i] */
static void matvec(double *y, const float *W, const double *x, int n_out, int n_in) {
    for (int o = 0; o < n_out; o++) {
        double acc = 0;
        for (int i = 0; i < n_in; i++)
            acc += (double)W[(int64_t)o * n_in + i] * x[i];
        y[o] = acc;
    }
}

/* llama.cpp's "normal" RoPE for LLAMA GGUFs rotates adjacent pairs (2p, 2p + 1); NEOX
 * (Qwen) rotates the halves' pairs (p, p + hd/2). */
static void rope(double *v, int hd, int pos, double theta, int neox) {
    for (int p = 0; p < hd / 2; p++) {
        const double ang = pos * pow(theta, -2.0 * p / hd);
        const int i0 = neox ? p : 2 * p, i1 = neox ? p + hd / 2 : 2 * p + 1;
        const double a = v[i0], b = v[i1];
        v[i0] = a * cos(ang) - b * sin(ang);
        v[i1] = a * sin(ang) + b * cos(ang);
    }
}

/* Bias and head norms of the Qwen rows, on one token's q, k and v. */
static void extras(const tiny_cfg *c, const tiny_layer *L, int hd, double *q, double *k,
                   double *v) {
    const int nq = c->n_heads * hd, nkv = c->n_kv_heads * hd;
    for (int i = 0; L->bq && i < nq; i++)
        q[i] += L->bq[i];
    for (int i = 0; L->bk && i < nkv; i++)
        k[i] += L->bk[i], v[i] += L->bv[i];
    for (int h = 0; L->qn && h < c->n_heads; h++)
        rmsnorm(q + h * hd, q + h * hd, L->qn, hd, c->rms_eps);
    for (int h = 0; L->kn && h < c->n_kv_heads; h++)
        rmsnorm(k + h * hd, k + h * hd, L->kn, hd, c->rms_eps);
}

void tiny_reference(const tiny_model *m, const int32_t *tok, int n, double *logits) {
    const tiny_cfg *c = &m->cfg;
    const int d = c->d_model, hd = m->head_dim, nh = c->n_heads, nkv = c->n_kv_heads;
    const int ff = c->d_ff, g = nh / nkv;
    double *x = calloc((size_t)n * d, sizeof(double)), *h = malloc((size_t)d * sizeof(double));
    double *q = malloc((size_t)n * nh * hd * sizeof(double));
    double *k = malloc((size_t)n * nkv * hd * sizeof(double));
    double *v = malloc((size_t)n * nkv * hd * sizeof(double));
    double *att = malloc((size_t)nh * hd * sizeof(double)),
           *tmp = malloc((size_t)d * sizeof(double));
    double *gt = malloc((size_t)ff * sizeof(double)), *up = malloc((size_t)ff * sizeof(double));
    double *s = malloc((size_t)n * sizeof(double));
    for (int t = 0; t < n; t++)
        for (int i = 0; i < d; i++)
            x[t * d + i] = m->tok_embd[(int64_t)tok[t] * d + i];
    for (int l = 0; l < c->n_layers; l++) {
        const tiny_layer *L = &m->layers[l];
        for (int t = 0; t < n; t++) {
            rmsnorm(h, x + t * d, L->attn_norm, d, c->rms_eps);
            matvec(q + (int64_t)t * nh * hd, L->wq, h, nh * hd, d);
            matvec(k + (int64_t)t * nkv * hd, L->wk, h, nkv * hd, d);
            matvec(v + (int64_t)t * nkv * hd, L->wv, h, nkv * hd, d);
            extras(c, L, hd, q + (int64_t)t * nh * hd, k + (int64_t)t * nkv * hd,
                   v + (int64_t)t * nkv * hd);
            const int neox = has_bias(c) || has_qk_norm(c);
            for (int hh = 0; hh < nh; hh++)
                rope(q + ((int64_t)t * nh + hh) * hd, hd, t, c->rope_theta, neox);
            for (int hh = 0; hh < nkv; hh++)
                rope(k + ((int64_t)t * nkv + hh) * hd, hd, t, c->rope_theta, neox);
        }
        for (int t = 0; t < n; t++) {
            for (int hh = 0; hh < nh; hh++) {
                const int kv = hh / g;
                const double *qi = q + ((int64_t)t * nh + hh) * hd;
                double mx = -1e300, sum = 0;
                for (int j = 0; j <= t; j++) {
                    double dot = 0;
                    for (int e = 0; e < hd; e++)
                        dot += qi[e] * k[((int64_t)j * nkv + kv) * hd + e];
                    s[j] = dot / sqrt((double)hd);
                    mx = s[j] > mx ? s[j] : mx;
                }
                for (int j = 0; j <= t; j++)
                    sum += (s[j] = exp(s[j] - mx));
                for (int e = 0; e < hd; e++) {
                    double acc = 0;
                    for (int j = 0; j <= t; j++)
                        acc += s[j] * v[((int64_t)j * nkv + kv) * hd + e];
                    att[hh * hd + e] = acc / sum;
                }
            }
            matvec(tmp, L->wo, att, d, nh * hd);
            for (int i = 0; i < d; i++)
                x[t * d + i] += tmp[i];
            rmsnorm(h, x + t * d, L->ffn_norm, d, c->rms_eps);
            matvec(gt, L->wg, h, ff, d);
            matvec(up, L->wu, h, ff, d);
            for (int i = 0; i < ff; i++)
                gt[i] = gt[i] / (1.0 + exp(-gt[i])) * up[i];
            matvec(tmp, L->wd, gt, d, ff);
            for (int i = 0; i < d; i++)
                x[t * d + i] += tmp[i];
        }
    }
    for (int t = 0; t < n; t++) {
        rmsnorm(h, x + t * d, m->output_norm, d, c->rms_eps);
        matvec(logits + (int64_t)t * c->n_vocab, m->output, h, c->n_vocab, d);
    }
    free(x), free(h), free(q), free(k), free(v), free(att), free(tmp), free(gt), free(up), free(s);
}
