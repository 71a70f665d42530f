/* The device half of the runtime API on any machine (suite unit; no GPU needed): device
 * names, synthetic shapes, what a CPU context refuses, greedy decoding on the CPU against
 * hy_forward_batch + argmax, the per-step weight bytes, and a CUDA context on a machine
 * without a GPU failing with a named error instead of crashing. */
#include "cuda_takes.h"
#include "hy_test.h"
#include "runtime_test_util.h"

#include <string.h>

HY_TEST(device_names) {
    hy_device d = HY_DEVICE_CUDA;
    HY_CHECK(hy_device_parse("cpu", &d) == HY_OK && d == HY_DEVICE_CPU);
    HY_CHECK(hy_device_parse("cuda", &d) == HY_OK && d == HY_DEVICE_CUDA);
    HY_CHECK(hy_device_parse("gpu", &d) == HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "expected cpu or cuda") != NULL);
    HY_CHECK(!strcmp(hy_device_name(HY_DEVICE_CUDA), "cuda"));
}

HY_TEST(synthetic_shapes) {
    hy_model *m = (hy_model *)1;
    HY_CHECK(hy_model_synthetic("llama4-400b", 1, &m) == HY_EINVAL && m == NULL);
    HY_CHECK(strstr(hy_last_error(), "llama3-8b") != NULL);
    int n = 0;
    for (const char *const *s = hy_model_shapes; *s; s++)
        n++;
    HY_CHECK_EQ_INT(n, 4);
}

HY_TEST(cpu_refusals_and_greedy) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    hy_model *m = NULL;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    const hy_model_info *mi = hy_model_info_borrow(m);
    hy_ctx *a = NULL, *b = NULL;
    HY_OK_OR_FAIL(hy_ctx_create_on(m, HY_DEVICE_CPU, 64, 2, &a));
    HY_OK_OR_FAIL(hy_ctx_create(m, 64, 2, &b));
    HY_CHECK(hy_ctx_device(a) == HY_DEVICE_CPU);
    HY_CHECK(hy_ctx_seq_fill_random(a, 0, 10, 1) == HY_EUNSUPPORTED);
    double t = 0;
    HY_CHECK(hy_ctx_time_attention(a, 1, 1, &t) == HY_EUNSUPPORTED);
    int32_t *tok = rt_tokens(40, mi->n_vocab, 9u);
    for (int s = 0; s < 2; s++) {
        HY_OK_OR_FAIL(hy_forward(a, s, tok + 5 * s, 12 + s, NULL, 0));
        HY_OK_OR_FAIL(hy_forward(b, s, tok + 5 * s, 12 + s, NULL, 0));
    }
    int32_t start[2] = {3, 4}, got[6 * 2], cur[2] = {3, 4};
    HY_CHECK(hy_decode_greedy(a, 2, (int32_t[]){3, mi->n_vocab}, 1, NULL) == HY_ERANGE);
    HY_OK_OR_FAIL(hy_decode_greedy(a, 2, start, 6, got));
    float *lg = malloc((size_t)2 * mi->n_vocab * sizeof *lg);
    const int seqs[2] = {0, 1};
    for (int i = 0; i < 6; i++) {
        HY_OK_OR_FAIL(hy_forward_batch(b, seqs, cur, 2, lg));
        for (int s = 0; s < 2; s++) {
            int best = 0;
            for (int v = 1; v < mi->n_vocab; v++)
                if (lg[s * mi->n_vocab + v] > lg[s * mi->n_vocab + best]) best = v;
            cur[s] = best;
            HY_CHECK_EQ_INT(got[i * 2 + s], best);
        }
    }
    HY_CHECK_EQ_INT(hy_ctx_seq_len(a, 1), 13 + 6);
    /* sampling in lockstep = one host sampler per sequence, seeded seed + s */
    const hy_sampler_params sp = {0.8f, 20, 0.9f, 77};
    HY_CHECK_EQ_INT(rt_sample_mismatch(a, b, mi->n_vocab, 2, start, 5, &sp), -1);
    const hy_sampler_params bad_p = {0.8f, 20, 1.5f, 77};
    HY_CHECK(hy_decode_sample(a, 2, start, 1, &bad_p, NULL) == HY_EINVAL);
    /* bf16 bytes of every projection and the output matrix, fp32 norms */
    const double d = mi->d_model, hd = mi->head_dim, ff = mi->d_ff;
    const double want = mi->n_layers * (2 * ((mi->n_heads + 2.0 * mi->n_kv_heads) * hd * d +
                                             d * mi->n_heads * hd + 3 * ff * d) +
                                        8 * d) +
                        2.0 * mi->n_vocab * d + 4 * d;
    HY_CHECK_NEAR(hy_model_step_weight_bytes(m), want, 0.5);
    free(lg), free(tok);
    hy_ctx_free(a), hy_ctx_free(b);
    hy_model_free(m);
}

/* With CUDA compiled in but no GPU (CI), a CUDA context is a named HY_EDEVICE; with a GPU it
 * works; without CUDA compiled in, HY_EUNSUPPORTED naming the build. */
HY_TEST(cuda_context_without_gpu) {
    tiny_cfg cfg;
    tiny_default(&cfg);
    cfg.d_model = 256; /* head_dim 64: a shape the CUDA kernels take */
    hy_model *m = NULL;
    HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
    hy_ctx *c = NULL;
    hy_status st = hy_ctx_create_on(m, HY_DEVICE_CUDA, 64, 1, &c);
    if (st == HY_OK) {
        HY_CHECK(hy_ctx_device(c) == HY_DEVICE_CUDA);
        hy_ctx_free(c);
    } else {
        HY_CHECK(st == HY_EDEVICE || st == HY_EUNSUPPORTED);
        HY_CHECK(c == NULL);
        HY_CHECK(strstr(hy_last_error(), "cuda") != NULL ||
                 strstr(hy_last_error(), "CUDA") != NULL);
    }
    hy_model_free(m);
}

/* The Qwen rows pass the CUDA backend's checks (test_gpu_runtime runs them on a GPU): without
 * a GPU the context fails at the device, not on the architecture; with one it runs; without
 * CUDA compiled in the build is named. */
HY_TEST(cuda_takes_qwen_rows) {
    const char *arches[2] = {"qwen2", "qwen3"};
    for (int a = 0; a < 2; a++) {
        tiny_cfg cfg;
        tiny_default(&cfg);
        cfg.d_model = 256;
        cfg.arch = arches[a];
        hy_model *m = NULL;
        HY_OK_OR_FAIL(rt_load(&cfg, NULL, &m));
        if (!rt_cuda_takes(m, 64)) HY_FAILF("%s on CUDA: %s", arches[a], hy_last_error());
        hy_model_free(m);
    }
}

HY_TEST_MAIN()
