/* The profiler on the real model (SmolLM2-135M) at small size: the observer's probabilities
 * are a distribution whose weighted values reproduce the dense kernel's output, a 2-sample
 * profile at ctx 256 with 8 queries has sane statistics (recall in [0, 1], growing with k,
 * 1 when the set holds every key), and it survives an HDF5 round trip. */
#include "hy_gguf.h"
#include "hy_profiler.h"
#include "hy_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { CTX = 256, Q = 8 };

static hy_model *model;

/* Loads the model once for every case (freed at exit by the OS: a test program). */
__attribute__((constructor)) static void load_model(void) {
    if (hy_model_load(hy_test_model_path(), &model))
        fprintf(stderr, "test_profiler_model: %s\n", hy_last_error());
}

static int32_t *tokens(int64_t n, uint32_t seed) {
    int32_t *t = malloc((size_t)n * sizeof *t);
    const hy_model_info *mi = hy_model_info_borrow(model);
    for (int64_t i = 0; t && i < n; i++) { /* ordinary-range ids: no specials */
        seed = seed * 1664525u + 1013904223u;
        t[i] = 100 + (int32_t)((seed >> 8) % (uint32_t)(mi->n_vocab - 200));
    }
    return t;
}

typedef struct {
    int calls;
    double worst_sum, worst_out;
} check_obs;

static void check_observation(void *user, const hy_observation *o) {
    check_obs *c = user;
    __atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
    for (int h = 0; h < o->n_heads; h++) {
        double z = 0.0, err = 0.0, nrm = 0.0;
        for (int64_t j = 0; j < o->n_keys; j++)
            z += o->probs[h * o->n_keys + j];
        for (int d = 0; d < o->head_dim; d++) {
            double x = 0.0;
            for (int64_t j = 0; j < o->n_keys; j++)
                x += o->probs[h * o->n_keys + j] * o->v[j * o->head_dim + d];
            const double y = o->out[h * o->head_dim + d];
            err += (x - y) * (x - y), nrm += y * y;
        }
        const double es = fabs(z - 1.0), eo = sqrt(err / (nrm > 0 ? nrm : 1));
        /* single writer per field is not guaranteed across threads; races only lose a max */
        if (es > c->worst_sum) c->worst_sum = es;
        if (eo > c->worst_out) c->worst_out = eo;
    }
}

HY_TEST(observer_sees_a_distribution_that_reproduces_the_output) {
    HY_REQUIRE(model);
    const hy_model_info *mi = hy_model_info_borrow(model);
    hy_ctx *c = NULL;
    HY_OK_OR_FAIL(hy_ctx_create(model, 64, 1, &c));
    int32_t *t = tokens(40, 1);
    check_obs co = {0};
    hy_observer ob = {check_observation, &co, 30, 40};
    HY_OK_OR_FAIL(hy_ctx_set_observer(c, &ob));
    HY_OK_OR_FAIL(hy_forward(c, 0, t, 36, NULL, 0));     /* prefill: positions 30..35 */
    HY_OK_OR_FAIL(hy_forward(c, 0, t + 36, 1, NULL, 0)); /* decode: position 36 */
    HY_CHECK_EQ_INT(co.calls, 7 * mi->n_layers * mi->n_kv_heads);
    HY_CHECK(co.worst_sum < 1e-5);
    HY_CHECK(co.worst_out < 1e-3);
    HY_OK_OR_FAIL(hy_ctx_set_observer(c, NULL));
    HY_OK_OR_FAIL(hy_forward(c, 0, t + 37, 1, NULL, 0)); /* detached: no more calls */
    HY_CHECK_EQ_INT(co.calls, 7 * mi->n_layers * mi->n_kv_heads);
    hy_observer bad = {NULL, NULL, 0, 1};
    HY_CHECK_EQ_INT(hy_ctx_set_observer(c, &bad), HY_EINVAL);
    free(t);
    hy_ctx_free(c);
}

HY_TEST(small_profile_of_the_real_model) {
    HY_REQUIRE(model);
    const hy_model_info *mi = hy_model_info_borrow(model);
    const int32_t kg[] = {32, 64, 128, 256}, strides[] = {1, 2, 4, 8, 16, 32};
    hy_profile *p = NULL;
    hy_ctx *c = NULL;
    hy_capture *cap = NULL;
    HY_OK_OR_FAIL(hy_profile_create(mi->n_layers, mi->n_heads, mi->n_kv_heads, mi->head_dim, 4, kg,
                                    6, strides, 20, NULL, &p));
    p->sink = 4, p->window = 16, p->ctx = CTX, p->n_queries = Q;
    snprintf(p->model_sha256, sizeof p->model_sha256, "%s", mi->sha256);
    HY_OK_OR_FAIL(hy_ctx_create(model, CTX, 1, &c));
    HY_OK_OR_FAIL(hy_capture_create(mi->n_layers, mi->n_kv_heads, mi->n_heads / mi->n_kv_heads,
                                    mi->head_dim, Q, CTX - Q, &cap));
    const hy_fold_opts fo = {64, 2, 2};
    for (int s = 0; s < 2; s++) {
        int32_t *t = tokens(CTX, 7 + s);
        HY_OK_OR_FAIL(hy_profile_sample(c, cap, t, CTX, p, &fo, NULL));
        free(t);
    }
    HY_CHECK_EQ_INT(p->n_samples, 2);
    const int32_t L = mi->n_layers, H = mi->n_kv_heads, U = L * H;
    int bad = 0;
    for (int32_t u = 0; u < U; u++) {
        float prev = 0.0f;
        for (int32_t ki = 0; ki < 4; ki++) {
            const size_t i = hy_profile_idx_unit(p, u / H, u % H, ki);
            const float r = p->layer_recall.mean[i], e = p->layer_out_err.mean[i];
            bad += !(r >= prev - 1e-6f && r <= 1.0f + 1e-5f && e >= 0.0f);
            bad += p->layer_recall.count[i] != 2;
            prev = r;
        }
        /* k = 256 >= ctx: the set is every key */
        bad += fabsf(p->layer_recall.mean[hy_profile_idx_unit(p, u / H, u % H, 3)] - 1.0f) > 1e-4f;
        bad += p->layer_out_err.mean[hy_profile_idx_unit(p, u / H, u % H, 3)] > 1e-4f;
    }
    HY_CHECK_EQ_INT(bad, 0);
    /* cross: defined for earlier layers and other heads of the same layer only */
    HY_CHECK(!isnan(p->cross_recall.mean[hy_profile_idx_cross(p, 0, U - 1, 0)]));
    HY_CHECK(!isnan(p->cross_recall.mean[hy_profile_idx_cross(p, 0, 1, 0)]));
    HY_CHECK(isnan(p->cross_recall.mean[hy_profile_idx_cross(p, U - 1, 0, 0)]));
    HY_CHECK(isnan(p->cross_recall.mean[hy_profile_idx_cross(p, 5, 5, 0)]));
    HY_CHECK_EQ_INT(p->cl_recall.count[hy_profile_idx_cl(p, 0, 1, 0)], 2);
    double qs = 0.0;
    for (int b = 0; b < 20; b++)
        qs += p->temporal_qsim[b];
    HY_CHECK_NEAR(qs, 1.0, 1e-5);
    /* round trip through the file keeps the accumulators */
    char path[64];
    snprintf(path, sizeof path, "/tmp/hylra-test-prof-%d.h5", (int)getpid());
    HY_OK_OR_FAIL(hy_profile_write(p, path));
    hy_profile *r = NULL;
    HY_OK_OR_FAIL(hy_profile_read(path, &r));
    HY_CHECK_EQ_INT(r->n_samples, 2);
    HY_CHECK(memcmp(r->cl_recall.mean, p->cl_recall.mean, (size_t)L * L * 4 * sizeof(float)) == 0);
    remove(path);
    hy_profile_free(r);
    hy_capture_free(cap);
    hy_ctx_free(c);
    hy_profile_free(p);
}

HY_TEST_MAIN()
