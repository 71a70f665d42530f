/* CPU references of the fills (fill.h): the splitmix64 output mix of a counter, its top 24
 * bits as a float in [0, 1), scaled to [-scale, scale) and rounded to bf16. */
#include "fill.h"

#include "bf16_ops.h"

static uint64_t splitmix64_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

hy_status hy_fill_uniform_bf16(uint16_t *out, int64_t n, uint64_t seed, uint64_t offset,
                               float scale) {
    if (!out || n < 0)
        return hy_fail(HY_EINVAL, "fill_uniform_bf16: out %p, n %lld: expected a buffer, n >= 0",
                       (void *)out, (long long)n);
    for (int64_t i = 0; i < n; i++) {
        const uint64_t z = seed + (offset + (uint64_t)i + 1u) * 0x9e3779b97f4a7c15ull;
        const float u = (float)(splitmix64_mix(z) >> 40) / 16777216.0f;
        out[i] = hy_bf16_from_f32(scale * (2.0f * u - 1.0f));
    }
    return HY_OK;
}

hy_status hy_fill_f32(float *out, int64_t n, float value) {
    if (!out || n < 0)
        return hy_fail(HY_EINVAL, "fill_f32: out %p, n %lld: expected a buffer, n >= 0",
                       (void *)out, (long long)n);
    for (int64_t i = 0; i < n; i++)
        out[i] = value;
    return HY_OK;
}
