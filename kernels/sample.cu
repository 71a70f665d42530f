/* Sampling on the device (sample.h): a block per row ranks the row's top-k candidates by a
 * bitonic sort in shared memory (the host sampler's order: larger logit, then lower id, NaN
 * last), then one thread runs the shared choice of sample.h in double precision. The k <=
 * 1024 candidates make this a few microseconds, beside the top-k over the vocabulary. */
#include "cuda_check.h"
#include "sample.h"

#define SAMPLE_THREADS 512

/* a ranks before b */
__device__ __forceinline__ bool ranks_before(float va, int32_t ia, float vb, int32_t ib) {
    if (va != va) return false;
    if (vb != vb) return true;
    return va > vb || (va == vb && ia < ib);
}

__global__ void __launch_bounds__(SAMPLE_THREADS)
    sample_kernel(int32_t *tokens, const float *logits, int64_t ld, int V, const int32_t *cand,
                  const int32_t *count, int64_t cand_stride, int k, float temperature, float top_p,
                  uint64_t seed, uint64_t *counters) {
    __shared__ float val[HY_SAMPLE_MAX_K];
    __shared__ int32_t id[HY_SAMPLE_MAX_K];
    const int64_t r = blockIdx.x;
    const float *row = logits + r * ld;
    int n = count[r];
    n = n < 0 ? 0 : (n > k ? k : n);
    int P = 1;
    while (P < n)
        P <<= 1;
    for (int i = threadIdx.x; i < P; i += blockDim.x) {
        const int32_t c = i < n ? cand[r * cand_stride + i] : -1;
        const bool ok = c >= 0 && c < V;
        id[i] = ok ? c : 0x7fffffff;
        val[i] = ok ? row[c] : __int_as_float(0x7fc00000); /* padding ranks last */
    }
    __syncthreads();
    for (int size = 2; size <= P; size <<= 1)
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            for (int i = threadIdx.x; i < P; i += blockDim.x) {
                const int j = i ^ stride;
                if (j <= i) continue;
                const bool up = (i & size) == 0; /* this run sorts best first */
                const bool swap = up ? ranks_before(val[j], id[j], val[i], id[i])
                                     : ranks_before(val[i], id[i], val[j], id[j]);
                if (swap) {
                    const float tv = val[i];
                    val[i] = val[j], val[j] = tv;
                    const int32_t ti = id[i];
                    id[i] = id[j], id[j] = ti;
                }
            }
            __syncthreads();
        }
    if (threadIdx.x != 0) return;
    const uint64_t draw = counters[r];
    counters[r] = draw + 1;
    if (n == 0) {
        tokens[r] = 0;
        return;
    }
    const int i = hy_sample_ranked(row, id, n, temperature, top_p, hy_rng_uniform(seed + r, draw));
    tokens[r] = i < 0 ? 0 : id[i];
}

extern "C" hy_status hy_cuda_sample_rows(int32_t *tokens, const float *logits, int64_t ld,
                                         int64_t rows, int V, const int32_t *cand,
                                         const int32_t *count, int64_t cand_stride, int k,
                                         float temperature, float top_p, uint64_t seed,
                                         uint64_t *counters, void *stream) {
    if (!tokens || !logits || !cand || !count || !counters || rows < 1 || rows > 65535 || V < 1 ||
        ld < V)
        return hy_fail(HY_EINVAL,
                       "sample CUDA: NULL buffer, rows %lld (1..65535), V %d or row stride %lld "
                       "(>= V)",
                       (long long)rows, V, (long long)ld);
    if (k < 1 || k > HY_SAMPLE_MAX_K || cand_stride < k)
        return hy_fail(HY_EUNSUPPORTED,
                       "sample CUDA: top_k %d, expected 1..%d (candidate stride %lld); sample "
                       "from more candidates on the host",
                       k, HY_SAMPLE_MAX_K, (long long)cand_stride);
    if (!(temperature > 0.0f) || isinf(temperature) || !(top_p > 0.0f && top_p <= 1.0f))
        return hy_fail(HY_EINVAL,
                       "sample CUDA: temperature %g (expected > 0, finite), top_p %g (expected "
                       "in (0, 1])",
                       (double)temperature, (double)top_p);
    sample_kernel<<<(unsigned)rows, SAMPLE_THREADS, 0, (cudaStream_t)stream>>>(
        tokens, logits, ld, V, cand, count, cand_stride, k, temperature, top_p, seed, counters);
    HY_CUDA_LAUNCH("sample_kernel");
    return HY_OK;
}
