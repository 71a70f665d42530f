/* The device-facing half of hy_runtime.h that both builds share: device names, contexts on
 * a device, greedy decoding and attention timing. With CUDA the calls go to gpu_*.c; built
 * without it, CUDA contexts are refused with a message that says so. */
#include "argmax.h"
#include "runtime_internal.h"
#ifdef HY_HAVE_CUDA
#include "arch.h"
#include "gpu_internal.h"
#endif

#include <stdlib.h>
#include <string.h>

hy_status hy_device_parse(const char *name, hy_device *out) {
    if (name && !strcmp(name, "cpu")) return *out = HY_DEVICE_CPU, HY_OK;
    if (name && !strcmp(name, "cuda")) return *out = HY_DEVICE_CUDA, HY_OK;
    return hy_fail(HY_EINVAL, "--device %s: expected cpu or cuda", name ? name : "(none)");
}

const char *hy_device_name(hy_device d) {
    return d == HY_DEVICE_CUDA ? "cuda" : "cpu";
}

hy_device hy_ctx_device(const hy_ctx *c) {
    return c && c->gpu ? HY_DEVICE_CUDA : HY_DEVICE_CPU;
}

hy_status hy_ctx_create_on(const hy_model *m, hy_device dev, int64_t n_ctx, int n_seq,
                           hy_ctx **out) {
    if (dev == HY_DEVICE_CPU) {
        if (m && m->synthetic)
            return hy_fail(HY_EUNSUPPORTED,
                           "%s has its weights on the GPU only (a synthetic shape); use "
                           "--device cuda",
                           m->info.name);
        return hy_ctx_create(m, n_ctx, n_seq, out);
    }
    if (dev != HY_DEVICE_CUDA) return hy_fail(HY_EINVAL, "hy_ctx_create_on: device %d", (int)dev);
#ifndef HY_HAVE_CUDA
    (void)n_ctx, (void)n_seq;
    if (out) *out = NULL;
    return hy_fail(HY_EUNSUPPORTED, "--device cuda: this hylra was built without CUDA "
                                    "(configure with meson setup -Dcuda=enabled)");
#else
    HY_TRY(hy_ctx_check_args("hy_ctx_create_on", m, n_ctx, n_seq, out));
    const hy_model_info *mi = &m->info;
    if (mi->n_kv_heads > 64 || mi->n_heads / mi->n_kv_heads > 8 ||
        (mi->head_dim != 64 && mi->head_dim != 128 && mi->head_dim != 256))
        return hy_fail(HY_EUNSUPPORTED,
                       "%s: the CUDA kernels take head_dim 64, 128 or 256, GQA groups of at most "
                       "8 and at most 64 KV heads (this model: head_dim %d, %d/%d heads); use "
                       "--device cpu",
                       mi->name, mi->head_dim, mi->n_heads, mi->n_kv_heads);
    hy_ctx *c = hy_calloc(1, sizeof *c, "context");
    if (!c) return HY_ENOMEM;
    c->m = m;
    c->n_ctx = n_ctx;
    c->n_seq = n_seq;
    c->seq_len = hy_calloc((size_t)n_seq, sizeof *c->seq_len, "sequence lengths");
    /* the CUDA upload converts fp32 host weights to bf16 */
    hy_status st = c->seq_len ? hy_model_need_f32((hy_model *)m) : HY_ENOMEM;
    if (st == HY_OK) st = hy_gpu_ctx_create(c);
    if (st) {
        hy_ctx_free(c);
        return st;
    }
    *out = c;
    return HY_OK;
#endif
}

static hy_status check_lockstep(const hy_ctx *c, int n_seq, int n_steps, const char *fn) {
    if (!c) return hy_fail(HY_EINVAL, "%s: NULL context", fn);
    if (n_seq < 1 || n_seq > c->n_seq)
        return hy_fail(HY_ERANGE, "%s: n_seq = %d, expected 1..%d", fn, n_seq, c->n_seq);
    if (n_steps < 0) return hy_fail(HY_ERANGE, "%s: n_steps = %d, expected >= 0", fn, n_steps);
    return HY_OK;
}

/* The host loop of both lockstep decodes: hy_forward_batch, then the argmax (p NULL) or one
 * sampler per sequence seeded p->seed + s. */
static hy_status decode_host(hy_ctx *c, int n_seq, const int32_t *tokens, int n_steps,
                             const hy_sampler_params *p, int32_t *out) {
    const int64_t V = c->m->info.n_vocab;
    hy_sampler **smp = hy_calloc((size_t)n_seq, sizeof *smp, "samplers");
    float *logits = hy_malloc((size_t)(n_seq * V) * sizeof(float), "logits");
    int32_t *cur = hy_malloc((size_t)n_seq * 2 * sizeof(int32_t), "tokens");
    hy_status st = smp && logits && cur ? HY_OK : HY_ENOMEM;
    for (int s = 0; !st && p && s < n_seq; s++) {
        hy_sampler_params ps = *p;
        ps.seed = p->seed + (uint64_t)s;
        st = hy_sampler_create(&ps, (int)V, &smp[s]);
    }
    int *seqs = (int *)(cur ? cur + n_seq : NULL);
    if (!st) {
        memcpy(cur, tokens, (size_t)n_seq * sizeof *cur);
        for (int s = 0; s < n_seq; s++)
            seqs[s] = s;
    }
    for (int i = 0; !st && i < n_steps; i++) {
        st = hy_forward_batch(c, seqs, cur, n_seq, logits);
        if (!st && !p) hy_argmax_rows_f32(cur, logits, n_seq, V);
        for (int s = 0; !st && p && s < n_seq; s++)
            cur[s] = hy_sampler_sample(smp[s], logits + s * V);
        if (!st && out) memcpy(out + (size_t)i * n_seq, cur, (size_t)n_seq * sizeof *cur);
    }
    for (int s = 0; smp && s < n_seq; s++)
        hy_sampler_free(smp[s]);
    free(smp);
    free(logits);
    free(cur);
    return st;
}

hy_status hy_decode_greedy(hy_ctx *c, int n_seq, const int32_t *tokens, int n_steps, int32_t *out) {
    HY_TRY(check_lockstep(c, n_seq, n_steps, "hy_decode_greedy"));
    if (!tokens) return hy_fail(HY_EINVAL, "hy_decode_greedy: NULL tokens");
    for (int s = 0; s < n_seq; s++)
        if (tokens[s] < 0 || tokens[s] >= c->m->info.n_vocab)
            return hy_fail(HY_ERANGE, "hy_decode_greedy: tokens[%d] = %d, expected 0..%d", s,
                           tokens[s], c->m->info.n_vocab - 1);
#ifdef HY_HAVE_CUDA
    if (c->gpu) return hy_gpu_decode_greedy(c, n_seq, tokens, n_steps, out);
#endif
    return decode_host(c, n_seq, tokens, n_steps, NULL, out);
}

hy_status hy_decode_sample(hy_ctx *c, int n_seq, const int32_t *tokens, int n_steps,
                           const hy_sampler_params *p, int32_t *out) {
    HY_TRY(check_lockstep(c, n_seq, n_steps, "hy_decode_sample"));
    if (!tokens || !p) return hy_fail(HY_EINVAL, "hy_decode_sample: NULL tokens or parameters");
    if (p->temperature == 0.0f) return hy_decode_greedy(c, n_seq, tokens, n_steps, out);
    for (int s = 0; s < n_seq; s++)
        if (tokens[s] < 0 || tokens[s] >= c->m->info.n_vocab)
            return hy_fail(HY_ERANGE, "hy_decode_sample: tokens[%d] = %d, expected 0..%d", s,
                           tokens[s], c->m->info.n_vocab - 1);
    hy_sampler *probe = NULL; /* the sampler's checks of the parameters, for both devices */
    HY_TRY(hy_sampler_create(p, c->m->info.n_vocab, &probe));
    hy_sampler_free(probe);
#ifdef HY_HAVE_CUDA
    if (c->gpu) return hy_gpu_decode_sample(c, n_seq, tokens, n_steps, p, out);
#endif
    return decode_host(c, n_seq, tokens, n_steps, p, out);
}

hy_status hy_ctx_time_attention(hy_ctx *c, int n_seq, int n_steps, double *seconds) {
    HY_TRY(check_lockstep(c, n_seq, n_steps, "hy_ctx_time_attention"));
    if (!seconds) return hy_fail(HY_EINVAL, "hy_ctx_time_attention: NULL seconds");
#ifdef HY_HAVE_CUDA
    if (c->gpu) return hy_gpu_time_attention(c, n_seq, n_steps, seconds);
#endif
    return hy_fail(HY_EUNSUPPORTED, "hy_ctx_time_attention: CUDA contexts only");
}

#ifndef HY_HAVE_CUDA
hy_status hy_ctx_seq_fill_random(hy_ctx *c, int seq, int64_t n, uint64_t seed) {
    (void)c, (void)seq, (void)n, (void)seed;
    return hy_fail(HY_EUNSUPPORTED, "hy_ctx_seq_fill_random: CUDA contexts only (this hylra was "
                                    "built without CUDA)");
}
#endif
