/* Profiler statistics on hand-built captures whose top-k sets are known by construction:
 * recall, out_err, Jaccard, temporal reuse and the qsim histogram must come out exactly as
 * computed here from the definitions (docs/profiler.md). Also the nested-level sets against
 * the kernels' top-k, the fold's refusals, and the seeded sample choice. */
#include "hy_profiler.h"
#include "hy_test.h"
#include "topk.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* n keys; value rows are one-hot (v_j = e_j, head_dim = n) so o = p and o_S = p|S / P_S. */
enum { N = 16 };
static float onehot[N * N];

static void init_onehot(void) {
    memset(onehot, 0, sizeof onehot);
    for (int j = 0; j < N; j++)
        onehot[j * N + j] = 1.0f;
}

/* probs over the first n_vis keys with the given ranking: top[0] gets the most mass, then
 * top[1], ...; the rest share a small equal mass (ties broken by lower index, kernels/topk.h);
 * keys the query cannot see yet get 0. */
static void make_probs(float *p, const int *top, int n_top, int n_vis) {
    double w[N], z = 0.0;
    for (int j = 0; j < N; j++)
        w[j] = j < n_vis ? 0.01 : 0.0;
    for (int r = 0; r < n_top; r++)
        w[top[r]] = 1.0 - 0.1 * r;
    for (int j = 0; j < N; j++)
        z += w[j];
    for (int j = 0; j < N; j++)
        p[j] = (float)(w[j] / z);
}

static hy_status fold(hy_profile *p, const hy_capture *c, int32_t temporal_k, int threads) {
    const hy_fold_opts o = {temporal_k, 1, threads};
    return hy_profile_fold(p, c, &o);
}

static double set_recall(const float *p, const int *set, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++)
        s += p[set[i]];
    return s;
}

static double set_err(const float *p, const int *set, int n) {
    double ps = set_recall(p, set, n), e = 0.0, o2 = 0.0;
    char in[N] = {0};
    for (int i = 0; i < n; i++)
        in[set[i]] = 1;
    for (int j = 0; j < N; j++) {
        const double os = in[j] ? p[j] / ps : 0.0, d = os - p[j];
        e += d * d, o2 = o2 + (double)p[j] * p[j];
    }
    return sqrt(e / o2);
}

/* 2 layers x 1 KV head, group 1, one query at position N-1 (sees all N keys). */
static hy_profile *two_layer_profile(const int32_t *kg, int32_t nk) {
    static const int32_t strides[] = {1, 2};
    hy_profile *p = NULL;
    if (hy_profile_create(2, 1, 1, N, nk, kg, 2, strides, 4, NULL, &p)) return NULL;
    p->sink = 0, p->window = 0;
    return p;
}

static hy_capture *two_layer_capture(int32_t Q, const int tops[][4]) {
    hy_capture *c = NULL;
    if (hy_capture_create(2, 1, 1, N, Q, N - Q, &c)) return NULL;
    c->key_stride = N; /* every query's row is N floats; query i sees N-Q+i+1 keys */
    for (int u = 0; u < 2; u++) {
        c->v[u] = onehot;
        for (int i = 0; i < Q; i++) {
            make_probs(c->probs + ((size_t)u * Q + i) * N, tops[u * Q + i], 4, N - Q + i + 1);
            for (int d = 0; d < N; d++)
                c->q[((size_t)u * Q + i) * N + d] = (float)(d == u);
            c->seen[u * Q + i] = 1;
        }
    }
    return c;
}

HY_TEST(known_overlap_gives_exact_recall_err_jaccard) {
    init_onehot();
    const int32_t kg[] = {2, 4};
    const int tops[2][4] = {{4, 5, 6, 7}, {6, 7, 8, 9}};
    hy_profile *p = two_layer_profile(kg, 2);
    hy_capture *c = two_layer_capture(1, tops);
    HY_REQUIRE(p && c);
    HY_OK_OR_FAIL(fold(p, c, 4, 2));
    const float *p0 = c->probs, *p1 = c->probs + N;
    const int own0_2[] = {4, 5}, own1_2[] = {6, 7}, own1_4[] = {6, 7, 8, 9},
              src0_4[] = {4, 5, 6, 7};
    HY_CHECK_NEAR(p->layer_recall.mean[hy_profile_idx_unit(p, 0, 0, 0)], set_recall(p0, own0_2, 2),
                  1e-6);
    HY_CHECK_NEAR(p->layer_recall.mean[hy_profile_idx_unit(p, 1, 0, 1)], set_recall(p1, own1_4, 4),
                  1e-6);
    HY_CHECK_NEAR(p->layer_out_err.mean[hy_profile_idx_unit(p, 1, 0, 0)], set_err(p1, own1_2, 2),
                  1e-5);
    /* layer 1 reusing layer 0's sets: k=2 {4,5} holds none of layer 1's top keys */
    HY_CHECK_NEAR(p->cross_recall.mean[hy_profile_idx_cross(p, 0, 1, 0)], set_recall(p1, own0_2, 2),
                  1e-6);
    HY_CHECK_NEAR(p->cross_recall.mean[hy_profile_idx_cross(p, 0, 1, 1)], set_recall(p1, src0_4, 4),
                  1e-6);
    HY_CHECK_NEAR(p->cross_out_err.mean[hy_profile_idx_cross(p, 0, 1, 1)], set_err(p1, src0_4, 4),
                  1e-5);
    HY_CHECK_NEAR(p->cross_jaccard.mean[hy_profile_idx_cross(p, 0, 1, 0)], 0.0, 0.0);
    HY_CHECK_NEAR(p->cross_jaccard.mean[hy_profile_idx_cross(p, 0, 1, 1)], 2.0 / 6.0, 1e-6);
    /* reuse of a later layer is not defined; the layer aggregate equals the single head */
    HY_CHECK(isnan(p->cross_recall.mean[hy_profile_idx_cross(p, 1, 0, 0)]));
    HY_CHECK_EQ_INT(p->cross_recall.count[hy_profile_idx_cross(p, 1, 0, 0)], 0);
    HY_CHECK_NEAR(p->cl_jaccard.mean[hy_profile_idx_cl(p, 0, 1, 1)], 2.0 / 6.0, 1e-6);
    HY_CHECK(isnan(p->cl_recall.mean[hy_profile_idx_cl(p, 1, 0, 0)]));
    HY_CHECK_EQ_INT(p->n_samples, 1);
    HY_CHECK_EQ_INT(p->layer_recall.count[0], 1);
    hy_capture_free(c);
    hy_profile_free(p);
}

HY_TEST(sink_and_window_are_always_in_the_set) {
    init_onehot();
    const int32_t kg[] = {2};
    const int tops[2][4] = {{4, 5, 6, 7}, {4, 5, 6, 7}};
    hy_profile *p = two_layer_profile(kg, 1);
    hy_capture *c = two_layer_capture(1, tops);
    HY_REQUIRE(p && c);
    p->sink = 1, p->window = 2; /* set = {0} + {14, 15} + top-2 of keys 1..13 = {4, 5} */
    HY_OK_OR_FAIL(fold(p, c, 2, 1));
    const int set[] = {0, 4, 5, 14, 15};
    HY_CHECK_NEAR(p->layer_recall.mean[0], set_recall(c->probs, set, 5), 1e-6);
    HY_CHECK_NEAR(p->layer_out_err.mean[0], set_err(c->probs, set, 5), 1e-5);
    hy_capture_free(c);
    hy_profile_free(p);
}

HY_TEST(temporal_reuse_uses_the_set_of_s_steps_ago) {
    init_onehot();
    const int32_t kg[] = {2, 4};
    /* queries at positions 13, 14, 15 (see 14, 15, 16 keys); layer 0's top set moves */
    const int tops[6][4] = {{1, 2, 3, 4}, {3, 4, 5, 6}, {5, 6, 7, 8},
                            {1, 2, 3, 4}, {1, 2, 3, 4}, {1, 2, 3, 4}};
    hy_profile *p = two_layer_profile(kg, 2);
    hy_capture *c = two_layer_capture(3, tops);
    HY_REQUIRE(p && c);
    HY_OK_OR_FAIL(fold(p, c, 2, 2)); /* temporal k = 2 */
    const float *q1 = c->probs + 1 * N, *q2 = c->probs + 2 * N;
    const int s_q0[] = {1, 2}, s_q1[] = {3, 4};
    /* stride 1: q1 uses {1,2}, q2 uses {3,4}; stride 2: q2 uses {1,2} */
    const double r1 = (set_recall(q1, s_q0, 2) + set_recall(q2, s_q1, 2)) / 2;
    const double e1 = (set_err(q1, s_q0, 2) + set_err(q2, s_q1, 2)) / 2;
    HY_CHECK_NEAR(p->temporal_recall.mean[hy_profile_idx_temporal(p, 0, 0, 0)], r1, 1e-6);
    HY_CHECK_NEAR(p->temporal_out_err.mean[hy_profile_idx_temporal(p, 0, 0, 0)], e1, 1e-5);
    HY_CHECK_NEAR(p->temporal_recall.mean[hy_profile_idx_temporal(p, 0, 0, 1)],
                  set_recall(q2, s_q0, 2), 1e-6);
    /* a unit whose ranking never moves keeps all its mass at every stride */
    const float *l1q2 = c->probs + 5 * N;
    HY_CHECK_NEAR(p->temporal_recall.mean[hy_profile_idx_temporal(p, 1, 0, 1)],
                  set_recall(l1q2, s_q0, 2), 1e-6);
    /* qsim: identical consecutive queries have cosine 1 -> last bin, all mass */
    HY_CHECK_NEAR(p->temporal_qsim[0 * 4 + 3], 1.0, 1e-6);
    HY_CHECK_NEAR(p->temporal_qsim[0 * 4 + 0], 0.0, 0.0);
    hy_capture_free(c);
    hy_profile_free(p);
}

HY_TEST(second_sample_gives_count_two_and_std) {
    init_onehot();
    const int32_t kg[] = {2, 4};
    const int a[2][4] = {{4, 5, 6, 7}, {6, 7, 8, 9}}, b[2][4] = {{4, 5, 6, 7}, {4, 5, 8, 9}};
    hy_profile *p = two_layer_profile(kg, 2);
    hy_capture *c1 = two_layer_capture(1, a), *c2 = two_layer_capture(1, b);
    HY_REQUIRE(p && c1 && c2);
    HY_OK_OR_FAIL(fold(p, c1, 4, 1));
    HY_OK_OR_FAIL(fold(p, c2, 4, 1));
    const size_t i = hy_profile_idx_cross(p, 0, 1, 0); /* jaccard at k=2: 0 then 1 */
    HY_CHECK_EQ_INT(p->cross_jaccard.count[i], 2);
    HY_CHECK_NEAR(p->cross_jaccard.mean[i], 0.5, 1e-6);
    HY_CHECK_NEAR(p->cross_jaccard.std[i], sqrt(0.5), 1e-6);
    HY_CHECK_EQ_INT(p->n_samples, 2);
    hy_capture_free(c1);
    hy_capture_free(c2);
    hy_profile_free(p);
}

HY_TEST(levels_equal_the_kernel_topk_for_every_k) {
    enum { n = 300 };
    const int32_t kg[] = {1, 8, 32, 64, 250};
    float x[n];
    uint8_t lv[n];
    int32_t idx[512], cnt;
    uint64_t s = 7;
    for (int trial = 0; trial < 20; trial++) {
        for (int j = 0; j < n; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            x[j] = (float)((s >> 40) % 13); /* many ties */
        }
        if (trial % 3 == 0) x[trial] = NAN;
        const int sink = trial % 5, window = (trial * 7) % 40;
        const int32_t len = n - trial; /* rows shorter than the buffer too */
        HY_OK_OR_FAIL(hy_profiler_levels(x, len, kg, 5, sink, window, lv));
        for (int ki = 0; ki < 5; ki++) {
            HY_OK_OR_FAIL(hy_topk_rows_f32(idx, &cnt, 512, x, n, 1, &len, 1, kg[ki], sink, window));
            int32_t c = 0, mismatch = 0;
            for (int j = 0; j < len; j++)
                if (lv[j] <= ki) {
                    if (c >= cnt || idx[c] != j) mismatch++;
                    c++;
                }
            HY_CHECK_EQ_INT(c, cnt);
            HY_CHECK_EQ_INT(mismatch, 0);
        }
    }
}

HY_TEST(fold_refuses_unseen_queries_and_other_shapes) {
    init_onehot();
    const int32_t kg[] = {2};
    const int tops[2][4] = {{4, 5, 6, 7}, {6, 7, 8, 9}};
    hy_profile *p = two_layer_profile(kg, 1);
    hy_capture *c = two_layer_capture(1, tops);
    HY_REQUIRE(p && c);
    c->seen[1] = 0;
    HY_CHECK_EQ_INT(fold(p, c, 2, 1), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "never observed") != NULL);
    c->seen[1] = 1;
    c->head_dim = 8;
    HY_CHECK_EQ_INT(fold(p, c, 2, 1), HY_EMISMATCH);
    HY_CHECK_EQ_INT(p->n_samples, 0);
    hy_capture_free(c);
    hy_profile_free(p);
    HY_CHECK_EQ_INT(hy_capture_create(0, 1, 1, 4, 1, 0, &c), HY_EINVAL);
    const int32_t bad[] = {4, 2};
    uint8_t lv[8];
    float x[8] = {0};
    HY_CHECK_EQ_INT(hy_profiler_levels(x, 8, bad, 2, 0, 0, lv), HY_EINVAL);
}

HY_TEST(same_seed_same_samples) {
    int64_t a[16], b[16], d[16];
    HY_OK_OR_FAIL(hy_calib_starts(1000000, 4096, 16, 42, a));
    HY_OK_OR_FAIL(hy_calib_starts(1000000, 4096, 16, 42, b));
    HY_OK_OR_FAIL(hy_calib_starts(1000000, 4096, 16, 43, d));
    int same = 1, differ = 0;
    for (int i = 0; i < 16; i++) {
        same &= a[i] == b[i];
        differ |= a[i] != d[i];
        HY_CHECK(a[i] % 4096 == 0 && a[i] + 4096 <= 1000000);
        for (int j = 0; j < i; j++)
            HY_CHECK(a[i] != a[j]); /* disjoint windows */
    }
    HY_CHECK(same);
    HY_CHECK(differ);
    HY_CHECK_EQ_INT(hy_calib_starts(8000, 4096, 2, 0, a), HY_ERANGE);
}

/* The key sketches' statistics. Every key has a channel of magnitude 127 and integer others,
 * so the int8 sketch is exact: its sets are the exact ones (overlap 1, the own-set recall and
 * error). The int4 sketch rounds: its recall can only be at most the exact set's (the exact
 * top-k keeps the most mass of any set of its size), and its overlap lies in [0, 1]. */
HY_TEST(sketch_statistics) {
    init_onehot();
    const int32_t kg[] = {2, 4, 8};
    hy_profile *p = two_layer_profile(kg, 3);
    hy_capture *c = NULL;
    HY_REQUIRE(p && hy_capture_create(2, 1, 1, N, 1, N - 1, &c) == HY_OK);
    c->key_stride = N;
    static float keys[2][N * N];
    unsigned r = 12345u;
    for (int u = 0; u < 2; u++) {
        float *q = c->q + (size_t)u * N;
        for (int d = 0; d < N; d++) {
            r = r * 1103515245u + 12345u;
            q[d] = (float)((int)(r >> 16) % 200 - 100) / 100.0f;
        }
        double lg[N], mx = -1e300, z = 0;
        for (int j = 0; j < N; j++) {
            double dot = 0;
            for (int d = 0; d < N; d++) {
                r = r * 1103515245u + 12345u;
                float kv = d == j % 4 ? ((r >> 20) & 1 ? 127.0f : -127.0f)
                                      : (float)((int)(r >> 16) % 253 - 126);
                keys[u][j * N + d] = kv;
                dot += (double)q[d] * kv;
            }
            lg[j] = dot / 4.0; /* 1 / sqrt(head_dim 16) */
            mx = lg[j] > mx ? lg[j] : mx;
        }
        for (int j = 0; j < N; j++)
            z += exp(lg[j] - mx);
        for (int j = 0; j < N; j++)
            c->probs[(size_t)u * N + j] = (float)(exp(lg[j] - mx) / z);
        c->v[u] = onehot;
        c->k[u] = keys[u];
        c->seen[u] = 1;
    }
    HY_OK_OR_FAIL(fold(p, c, 4, 2));
    for (int u = 0; u < 2; u++)
        for (int ki = 0; ki < 3; ki++) {
            const size_t i = hy_profile_idx_unit(p, u, 0, ki);
            HY_CHECK_NEAR(p->sketch_overlap[0].mean[i], 1.0, 1e-12);
            HY_CHECK_NEAR(p->sketch_recall[0].mean[i], p->layer_recall.mean[i], 1e-5);
            HY_CHECK_NEAR(p->sketch_out_err[0].mean[i], p->layer_out_err.mean[i], 1e-5);
            HY_CHECK(p->sketch_overlap[1].mean[i] >= 0.0 && p->sketch_overlap[1].mean[i] <= 1.0);
            HY_CHECK(p->sketch_recall[1].mean[i] <= p->layer_recall.mean[i] + 1e-6);
            HY_CHECK_EQ_INT(p->sketch_overlap[1].count[i], 1);
        }
    hy_capture_free(c);
    hy_profile_free(p);
}

HY_TEST_MAIN()
