/* Sampling: greedy is the argmax with ties to the lowest index; seeded sampling is a pure
 * function of (seed, draw number, logits); top_k and top_p restrict the candidates; the
 * empirical distribution follows the softmax at the temperature; bad parameters are refused. */
#include "hy_runtime.h"
#include "hy_test.h"

static hy_sampler *make(float temp, int top_k, float top_p, uint64_t seed, int n) {
    hy_sampler_params p = {temp, top_k, top_p, seed};
    hy_sampler *s = NULL;
    if (hy_sampler_create(&p, n, &s) != HY_OK) return NULL;
    return s;
}

HY_TEST(greedy_is_argmax_lowest_on_ties) {
    float x[6] = {0.5f, 2.0f, -1.0f, 2.0f, 1.9f, NAN};
    hy_sampler *s = make(0.0f, 0, 1.0f, 1, 6);
    HY_REQUIRE(s);
    HY_CHECK_EQ_INT(hy_sampler_sample(s, x), 1);
    hy_sampler_free(s);
}

HY_TEST(same_seed_same_tokens_other_seed_other_tokens) {
    enum { N = 50, T = 64 };
    float x[N];
    for (int i = 0; i < N; i++)
        x[i] = (float)((i * 37) % 11) * 0.3f;
    hy_sampler *a = make(1.0f, 0, 1.0f, 42, N), *b = make(1.0f, 0, 1.0f, 42, N),
               *c = make(1.0f, 0, 1.0f, 43, N);
    HY_REQUIRE(a && b && c);
    int32_t ta[T], same = 0;
    for (int t = 0; t < T; t++) {
        ta[t] = hy_sampler_sample(a, x);
        HY_CHECK_EQ_INT(hy_sampler_sample(b, x), ta[t]);
        same += hy_sampler_sample(c, x) == ta[t];
    }
    HY_CHECK(same < T / 2);
    hy_sampler_reset(a);
    for (int t = 0; t < T; t++)
        HY_CHECK_EQ_INT(hy_sampler_sample(a, x), ta[t]);
    hy_sampler_free(a), hy_sampler_free(b), hy_sampler_free(c);
}

HY_TEST(rng_is_counter_based_and_uniform) {
    HY_CHECK(hy_sampler_uniform(7, 3) == hy_sampler_uniform(7, 3));
    HY_CHECK(hy_sampler_uniform(7, 3) != hy_sampler_uniform(7, 4));
    HY_CHECK(hy_sampler_uniform(7, 3) != hy_sampler_uniform(8, 3));
    double mean = 0;
    int buckets[10] = {0};
    for (int i = 0; i < 100000; i++) {
        double u = hy_sampler_uniform(99, (uint64_t)i);
        HY_REQUIRE(u >= 0.0 && u < 1.0);
        mean += u;
        buckets[(int)(u * 10)]++;
    }
    HY_CHECK_NEAR(mean / 100000, 0.5, 0.005);
    for (int i = 0; i < 10; i++)
        HY_CHECK(buckets[i] > 9500 && buckets[i] < 10500);
}

HY_TEST(top_k_one_is_greedy) {
    float x[5] = {0.1f, 0.2f, 3.0f, 0.3f, 2.9f};
    hy_sampler *s = make(5.0f, 1, 1.0f, 3, 5);
    HY_REQUIRE(s);
    for (int i = 0; i < 100; i++)
        HY_CHECK_EQ_INT(hy_sampler_sample(s, x), 2);
    hy_sampler_free(s);
}

HY_TEST(top_k_restricts_candidates) {
    float x[8] = {1, 5, 2, 4, 3, 0, -1, 4.5f};
    hy_sampler *s = make(100.0f, 3, 1.0f, 5, 8); /* nearly uniform over the best 3 */
    HY_REQUIRE(s);
    int seen[8] = {0};
    for (int i = 0; i < 3000; i++)
        seen[hy_sampler_sample(s, x)]++;
    HY_CHECK(seen[1] > 800 && seen[7] > 800 && seen[3] > 800);
    HY_CHECK_EQ_INT(seen[0] + seen[2] + seen[4] + seen[5] + seen[6], 0);
    hy_sampler_free(s);
}

HY_TEST(top_p_keeps_the_nucleus) {
    /* probabilities at T = 1: ~0.665, 0.245, 0.090 -> top_p 0.8 keeps the first two */
    float x[3] = {2.0f, 1.0f, 0.0f};
    hy_sampler *s = make(1.0f, 0, 0.8f, 9, 3);
    HY_REQUIRE(s);
    int seen[3] = {0};
    for (int i = 0; i < 20000; i++)
        seen[hy_sampler_sample(s, x)]++;
    HY_CHECK_EQ_INT(seen[2], 0);
    HY_CHECK_NEAR(seen[0] / 20000.0, 0.665 / (0.665 + 0.245), 0.015);
    hy_sampler_free(s);
}

HY_TEST(frequencies_follow_the_softmax) {
    float x[4] = {0.0f, 1.0f, 2.0f, 0.5f};
    const float temp = 0.7f;
    hy_sampler *s = make(temp, 0, 1.0f, 11, 4);
    HY_REQUIRE(s);
    int seen[4] = {0};
    const int n = 40000;
    for (int i = 0; i < n; i++)
        seen[hy_sampler_sample(s, x)]++;
    double z = 0;
    for (int i = 0; i < 4; i++)
        z += exp(x[i] / temp);
    for (int i = 0; i < 4; i++)
        HY_CHECK_NEAR(seen[i] / (double)n, exp(x[i] / temp) / z, 0.01);
    hy_sampler_free(s);
}

HY_TEST(bad_parameters_are_refused) {
    HY_CHECK(make(-1.0f, 0, 1.0f, 1, 10) == NULL);
    HY_CHECK(make(NAN, 0, 1.0f, 1, 10) == NULL);
    HY_CHECK(make(1.0f, -2, 1.0f, 1, 10) == NULL);
    HY_CHECK(make(1.0f, 0, 0.0f, 1, 10) == NULL);
    HY_CHECK(make(1.0f, 0, 1.5f, 1, 10) == NULL);
    HY_CHECK(make(1.0f, 0, 1.0f, 1, 0) == NULL);
    hy_sampler *s = make(1.0f, 100, 1.0f, 1, 10); /* top_k above n_vocab means all */
    HY_CHECK(s != NULL);
    hy_sampler_free(s);
}

HY_TEST_MAIN()
