/* Rotary position embedding contract (CPU reference in rope.c, CUDA in rope.cu).
 * For token t, head h, pair p < head_dim/2: angle = pos[t] * theta^(-2p/head_dim), and the
 * pair (a, b) becomes (a cos - b sin, a sin + b cos). The pair's elements are
 *   HY_ROPE_NORM: (2p, 2p+1)        -- llama.cpp's layout for LLAMA GGUFs (Q/K rows permuted)
 *   HY_ROPE_NEOX: (p, p + head_dim/2) -- Hugging Face Llama/Qwen checkpoints, GPT-NeoX.
 * x is [n_tok] rows of tok_stride floats, each holding n_heads * head_dim values; in place. */
#ifndef HY_KERNELS_ROPE_H
#define HY_KERNELS_ROPE_H
#include <stdint.h>
typedef enum { HY_ROPE_NORM = 0, HY_ROPE_NEOX = 1 } hy_rope_layout;
void hy_rope_f32(float *x, int64_t n_tok, int n_heads, int head_dim, int64_t tok_stride,
                 const int32_t *pos, float theta, hy_rope_layout layout);
#endif
