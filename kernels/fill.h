/* Buffer fills for the CUDA runtime: a constant, and a counter-based random fill for bf16
 * weights of synthetic models and benchmarks. Element i of the random fill depends only on
 * (seed, offset + i), so any slice can be regenerated on its own and the CPU reference
 * (fill.c) equals the CUDA version (fill.cu) bit for bit. */
#ifndef HY_KERNELS_FILL_H
#define HY_KERNELS_FILL_H
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
#include "hy_common.h"

/* out[i] = bf16_rne(scale * (2u - 1)), u = (splitmix64(seed + (offset + i + 1) *
 * 0x9e3779b97f4a7c15)
 * >> 40) / 2^24, where splitmix64(z) is the generator's output mix (z ^= z >> 30,
 * z *= 0xbf58476d1ce4e5b9, z ^= z >> 27, z *= 0x94d049bb133111eb, z ^= z >> 31): element i is
 * output number offset + i + 1 of a splitmix64 generator seeded with seed. u takes the 24-bit
 * values in [0, 1) exactly, 2u - 1 is exact in float, and scale * (2u - 1) is one rounded
 * float product. The uint64 arithmetic wraps. */
hy_status hy_fill_uniform_bf16(uint16_t *out, int64_t n, uint64_t seed, uint64_t offset,
                               float scale);
/* out[i] = value, i < n. */
hy_status hy_fill_f32(float *out, int64_t n, float value);

/* CUDA: out in device memory, stream a cudaStream_t; the same bits as the CPU versions. */
hy_status hy_cuda_fill_uniform_bf16(uint16_t *out, int64_t n, uint64_t seed, uint64_t offset,
                                    float scale, void *stream);
hy_status hy_cuda_fill_f32(float *out, int64_t n, float value, void *stream);

#ifdef __cplusplus
}
#endif
#endif
