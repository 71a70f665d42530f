/* qmatmul.h's dispatch: picks the AVX2 or the portable dot product once per process (CPU
 * features read at the first call) and runs it over the output rows. */
#include "qmatmul.h"
#include "qdot_internal.h"

#include <stdatomic.h>

/* Read by every pool thread: atomics, so a first call on two threads at once is well defined
 * (both compute the same answer). */
static atomic_int force_scalar;
static atomic_int avx2_state = -1; /* -1: not asked yet */

static int use_avx2(void) {
    int s = atomic_load_explicit(&avx2_state, memory_order_relaxed);
    if (s < 0) {
        s = hy_qdot_avx2_usable();
        atomic_store_explicit(&avx2_state, s, memory_order_relaxed);
    }
    return s && !atomic_load_explicit(&force_scalar, memory_order_relaxed);
}

const char *hy_qmatmul_impl(void) {
    return use_avx2() ? "avx2" : "scalar";
}

int hy_qmatmul_force_scalar(int on) {
    return atomic_exchange(&force_scalar, on);
}

float hy_qdot_with(const hy_qdot_impl *impl, hy_qtype t, const void *wv, const void *xq,
                   int64_t n) {
    const uint8_t *w = wv;
    switch (t) {
    case HY_QT_Q4_0:
        return impl->q4_0(w, xq, n / 32);
    case HY_QT_Q4_1:
        return impl->q4_1(w, xq, n / 32);
    case HY_QT_Q8_0:
        return impl->q8_0(w, xq, n / 32);
    case HY_QT_Q4_K:
        return impl->q4_k(w, xq, n / 256);
    case HY_QT_Q6_K:
        return impl->q6_k(w, xq, n / 256);
    case HY_QT_F16:
    case HY_QT_BF16:
    case HY_QT_F32:
        return impl->fp(t, w, xq, n);
    }
    return 0.0f;
}

void hy_qmatvec(hy_qtype t, const void *w, int64_t n_in, int64_t n_out, const void *xq, float *y,
                float beta) {
    float (*dot)(hy_qtype, const void *, const void *, int64_t) =
        use_avx2() ? hy_qdot_avx2 : hy_qdot_scalar;
    const size_t row_bytes = (size_t)(n_in / hy_qtype_block_elems(t)) * hy_qtype_block_bytes(t);
    const uint8_t *wr = w;
    for (int64_t o = 0; o < n_out; o++, wr += row_bytes) {
        const float v = dot(t, wr, xq, n_in);
        y[o] = beta == 0.0f ? v : beta * y[o] + v;
    }
}
