/* AMX half of bf16_gemm.h (and the packing both halves share). Every AMX or AVX-512 function
 * carries a target attribute, so the file builds without -mamx flags and such code runs only
 * after hy_bf16_gemm_usable() said yes.
 * Blocking: 8 tile registers hold a 32 x 32 fp32 block of y (4 tiles), two 16-row slices of
 * activations and two 16-row weight panels; each 32-element step of n_in is 4 tdpbf16ps over
 * 4 tile loads. Token blocks are the outer loop, so one block's activations (32 x n_in bf16,
 * 96 KiB at n_in 1536) stay in L2 while the weight panels of the call stream past them. */
#include "bf16_gemm.h"
#include "hy_bf16.h"

#include <stdlib.h>
#include <string.h>

/* --- packing and the scalar reference (portable) --------------------------------------- */

int64_t hy_bf16_kpad(int64_t n_in) {
    return (n_in + 31) / 32 * 32;
}

static int64_t tpad(int64_t n_tok) {
    return (n_tok + 31) / 32 * 32;
}

size_t hy_bf16_act_elems(int64_t n_tok, int64_t n_in) {
    return (size_t)(tpad(n_tok) * hy_bf16_kpad(n_in));
}

size_t hy_bf16_w_elems(int64_t n_rows, int64_t n_in) {
    return (size_t)((n_rows + 15) / 16 * 16 * hy_bf16_kpad(n_in));
}

static void rows_scalar(const float *x, int64_t ldx, int64_t n, int64_t width, int64_t t0,
                        int64_t t1, uint16_t *dst) {
    for (int64_t t = t0; t < t1; t++) {
        uint16_t *d = dst + t * width;
        for (int64_t i = 0; i < n; i++)
            d[i] = hy_bf16_from_f32(x[t * ldx + i]);
        for (int64_t i = n; i < width; i++)
            d[i] = 0;
    }
}

static void rows_avx512(const float *x, int64_t ldx, int64_t n, int64_t width, int64_t t0,
                        int64_t t1, uint16_t *dst);

static int usable_cached = -1, forced_off = -1;

void hy_bf16_rows_pack(const float *x, int64_t ldx, int64_t n_tok, int64_t n, int64_t width,
                       int64_t t0, int64_t t1, uint16_t *dst) {
    if (hy_bf16_gemm_usable())
        rows_avx512(x, ldx, n, width, t0, t1, dst);
    else
        rows_scalar(x, ldx, n, width, t0, t1, dst);
    if (t1 == n_tok)
        memset(dst + n_tok * width, 0, (size_t)((tpad(n_tok) - n_tok) * width) * sizeof *dst);
}

void hy_bf16_act_pack(const float *x, int64_t ldx, int64_t n_tok, int64_t n_in, int64_t t0,
                      int64_t t1, uint16_t *dst) {
    hy_bf16_rows_pack(x, ldx, n_tok, n_in, hy_bf16_kpad(n_in), t0, t1, dst);
}

static int w_pack_avx512(const float *w, int64_t n_rows, int64_t n_in, uint16_t *dst);
static int wt_pack_avx512(const float *x, int64_t ldx, int64_t n_in, int64_t n_rows, int64_t width,
                          uint16_t *dst);

/* Panel g, step s: 16 pairs p of 16 rows n, element (p, n, e) = w[16g + n][32s + 2p + e]. */
void hy_bf16_w_pack(const float *w, int64_t n_rows, int64_t n_in, uint16_t *dst) {
    if (w_pack_avx512(w, n_rows, n_in, dst)) return;
    const int64_t kp = hy_bf16_kpad(n_in), steps = kp / 32, panels = (n_rows + 15) / 16;
    for (int64_t g = 0; g < panels; g++)
        for (int64_t n = 0; n < 16; n++) {
            const int64_t o = g * 16 + n;
            const float *row = o < n_rows ? w + o * n_in : NULL;
            for (int64_t s = 0; s < steps; s++) {
                uint16_t *tile = dst + (g * steps + s) * 512 + n * 2;
                for (int64_t p = 0; p < 16; p++)
                    for (int e = 0; e < 2; e++) {
                        const int64_t i = s * 32 + 2 * p + e;
                        tile[p * 32 + e] = row && i < n_in ? hy_bf16_from_f32(row[i]) : 0;
                    }
            }
        }
}

void hy_bf16_wt_pack(const float *x, int64_t ldx, int64_t n_in, int64_t n_rows, int64_t width,
                     uint16_t *dst) {
    if (wt_pack_avx512(x, ldx, n_in, n_rows, width, dst)) return;
    const int64_t steps = width / 32, panels = (n_rows + 15) / 16;
    for (int64_t g = 0; g < panels; g++)
        for (int64_t s = 0; s < steps; s++) {
            uint16_t *tile = dst + (g * steps + s) * 512;
            for (int64_t p = 0; p < 16; p++)
                for (int e = 0; e < 2; e++) {
                    const int64_t i = s * 32 + 2 * p + e;
                    for (int64_t n = 0; n < 16; n++) {
                        const int64_t o = g * 16 + n;
                        tile[p * 32 + n * 2 + e] =
                            i < n_in && o < n_rows ? hy_bf16_from_f32(x[i * ldx + o]) : 0;
                    }
                }
        }
}

static void store_block(float *y, int64_t ldy, const float *c, int64_t ldc, int64_t rows,
                        int64_t cols, float beta) {
    for (int64_t t = 0; t < rows; t++)
        for (int64_t o = 0; o < cols; o++)
            y[t * ldy + o] = beta == 0.0f ? c[t * ldc + o] : beta * y[t * ldy + o] + c[t * ldc + o];
}

void hy_bf16_gemm_ref(float *y, int64_t ldy, const uint16_t *xa, const uint16_t *wp, int64_t n_tok,
                      int64_t n_in, int64_t n_rows, float beta) {
    const int64_t kp = hy_bf16_kpad(n_in), steps = kp / 32;
    for (int64_t t = 0; t < n_tok; t++)
        for (int64_t o = 0; o < n_rows; o++) {
            const int64_t g = o / 16, n = o % 16;
            float acc = 0.0f;
            for (int64_t s = 0; s < steps; s++)
                for (int64_t p = 0; p < 16; p++)
                    for (int e = 0; e < 2; e++)
                        acc += hy_bf16_to_f32(xa[t * kp + s * 32 + 2 * p + e]) *
                               hy_bf16_to_f32(wp[(g * steps + s) * 512 + p * 32 + n * 2 + e]);
            store_block(y + t * ldy + o, ldy, &acc, 1, 1, 1, beta);
        }
}

/* --- AMX ------------------------------------------------------------------------------- */

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HY_AMX __attribute__((target("amx-tile,amx-bf16,avx512f,avx512bf16,avx512vl")))
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static int detect(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int tile = (d >> 24) & 1, bf16 = (d >> 22) & 1, avx512f = (b >> 16) & 1;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    const int avx512bf16 = (a >> 5) & 1;
    if (!(tile && bf16 && avx512f && avx512bf16)) return 0;
    /* Linux hands out the 8 KiB tile data state only on request, per process */
    return syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

HY_AMX static void rows_avx512(const float *x, int64_t ldx, int64_t n, int64_t width, int64_t t0,
                               int64_t t1, uint16_t *dst) {
    for (int64_t t = t0; t < t1; t++) {
        const float *r = x + t * ldx;
        uint16_t *d = dst + t * width;
        int64_t i = 0;
        for (; i + 16 <= n; i += 16) {
            const __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(r + i));
            _mm256_storeu_si256((__m256i *)(d + i), (__m256i)h);
        }
        for (; i < n; i++)
            d[i] = hy_bf16_from_f32(r[i]);
        for (; i < width; i++)
            d[i] = 0;
    }
}

/* Whole panels and steps only (n_in a multiple of 32 and 16 | n_rows); 0 = not taken. A row's
 * 32 elements become 16 bf16 pairs, scattered down the tile's column n. */
HY_AMX static int w_pack_avx512(const float *w, int64_t n_rows, int64_t n_in, uint16_t *dst) {
    if (!hy_bf16_gemm_usable() || n_in % 32 || n_rows % 16) return 0;
    const int64_t steps = n_in / 32;
    const __m512i down =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32(16));
    for (int64_t g = 0; g < n_rows / 16; g++)
        for (int64_t n = 0; n < 16; n++) {
            const float *row = w + (g * 16 + n) * n_in;
            for (int64_t s = 0; s < steps; s++) {
                const __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + s * 32 + 16),
                                                       _mm512_loadu_ps(row + s * 32));
                int32_t *tile = (int32_t *)(dst + (g * steps + s) * 512) + n;
                _mm512_i32scatter_epi32(tile, down, (__m512i)h, 4);
            }
        }
    return 1;
}

/* Tile row p of the transpose is the pair of input rows (2p, 2p + 1) over 16 outputs: two
 * 16-float loads, each rounded to bf16, interleaved as the low and high halves of 16 words. */
HY_AMX static int wt_pack_avx512(const float *x, int64_t ldx, int64_t n_in, int64_t n_rows,
                                 int64_t width, uint16_t *dst) {
    if (!hy_bf16_gemm_usable() || n_rows % 16) return 0;
    const int64_t steps = width / 32;
    for (int64_t g = 0; g < n_rows / 16; g++)
        for (int64_t s = 0; s < steps; s++) {
            uint16_t *tile = dst + (g * steps + s) * 512;
            for (int64_t p = 0; p < 16; p++) {
                const int64_t i = s * 32 + 2 * p;
                const __m512 lo =
                    i < n_in ? _mm512_loadu_ps(x + i * ldx + g * 16) : _mm512_setzero_ps();
                const __m512 hi = i + 1 < n_in ? _mm512_loadu_ps(x + (i + 1) * ldx + g * 16)
                                               : _mm512_setzero_ps();
                const __m512i l = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(lo));
                const __m512i h = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(hi));
                _mm512_storeu_si512(tile + p * 32, _mm512_or_si512(l, _mm512_slli_epi32(h, 16)));
            }
        }
    return 1;
}

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tilecfg;

HY_AMX static void load_config(void) {
    tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++)
        cfg.rows[t] = 16, cfg.colsb[t] = 64; /* 16 x 16 fp32 or 16 x 32 bf16 */
    _tile_loadconfig(&cfg);
}

/* One y block of 32 tokens x 32 rows (two panels) or 16 (one panel). c with stride ldc (in
 * floats) is where the block is read from (acc: y's old values, scaled by 1) and written to:
 * y itself for whole blocks, which saves a pass over a bounce buffer that cost as much as the
 * products at n_in 576. */
HY_AMX static void block(const uint16_t *a, int64_t kp, const uint16_t *b0, const uint16_t *b1,
                         int64_t steps, float *c, int64_t ldc, int acc) {
    const size_t sa = (size_t)kp * 2, sc = (size_t)ldc * 4;
    if (acc) {
        _tile_loadd(0, c, sc);
        _tile_loadd(2, c + 16 * ldc, sc);
        if (b1) {
            _tile_loadd(1, c + 16, sc);
            _tile_loadd(3, c + 16 * ldc + 16, sc);
        }
    } else {
        _tile_zero(0);
        _tile_zero(2);
        if (b1) {
            _tile_zero(1);
            _tile_zero(3);
        }
    }
    for (int64_t s = 0; s < steps; s++) {
        _tile_loadd(4, a + s * 32, sa);
        _tile_loadd(5, a + 16 * kp + s * 32, sa);
        _tile_loadd(6, b0 + s * 512, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(2, 5, 6);
        if (b1) {
            _tile_loadd(7, b1 + s * 512, 64);
            _tile_dpbf16ps(1, 4, 7);
            _tile_dpbf16ps(3, 5, 7);
        }
    }
    _tile_stored(0, c, sc);
    _tile_stored(2, c + 16 * ldc, sc);
    if (b1) {
        _tile_stored(1, c + 16, sc);
        _tile_stored(3, c + 16 * ldc + 16, sc);
    }
}

HY_AMX void hy_bf16_gemm(float *y, int64_t ldy, const uint16_t *xa, const uint16_t *wp,
                         int64_t n_tok, int64_t n_in, int64_t n_rows, float beta) {
    const int64_t kp = hy_bf16_kpad(n_in), steps = kp / 32, panels = (n_rows + 15) / 16;
    float c[32 * 32];
    load_config();
    for (int64_t t = 0; t < n_tok; t += 32) {
        const int64_t rows = n_tok - t < 32 ? n_tok - t : 32;
        for (int64_t g = 0; g < panels; g += 2) {
            const uint16_t *b0 = wp + g * steps * 512;
            const uint16_t *b1 = g + 1 < panels ? b0 + steps * 512 : NULL;
            const int64_t o = g * 16, cols = n_rows - o < 32 ? n_rows - o : 32;
            float *yb = y + t * ldy + o;
            if (rows == 32 && cols == (b1 ? 32 : 16) && (beta == 0.0f || beta == 1.0f)) {
                block(xa + t * kp, kp, b0, b1, steps, yb, ldy, beta == 1.0f);
            } else {
                block(xa + t * kp, kp, b0, b1, steps, c, 32, 0);
                store_block(yb, ldy, c, 32, rows, cols, beta);
            }
        }
    }
    _tile_release();
}

int hy_bf16_gemm_usable(void) {
    if (forced_off < 0) {
        const char *e = getenv("HY_AMX");
        forced_off = e && e[0] == '0';
    }
    if (forced_off) return 0;
    if (usable_cached < 0) usable_cached = detect();
    return usable_cached;
}

#else
static int w_pack_avx512(const float *w, int64_t n_rows, int64_t n_in, uint16_t *dst) {
    (void)w, (void)n_rows, (void)n_in, (void)dst;
    return 0;
}
static int wt_pack_avx512(const float *x, int64_t ldx, int64_t n_in, int64_t n_rows, int64_t width,
                          uint16_t *dst) {
    (void)x, (void)ldx, (void)n_in, (void)n_rows, (void)width, (void)dst;
    return 0;
}
static void rows_avx512(const float *x, int64_t ldx, int64_t n, int64_t width, int64_t t0,
                        int64_t t1, uint16_t *dst) {
    rows_scalar(x, ldx, n, width, t0, t1, dst);
}

void hy_bf16_gemm(float *y, int64_t ldy, const uint16_t *xa, const uint16_t *wp, int64_t n_tok,
                  int64_t n_in, int64_t n_rows, float beta) {
    hy_bf16_gemm_ref(y, ldy, xa, wp, n_tok, n_in, n_rows, beta);
}

int hy_bf16_gemm_usable(void) {
    (void)usable_cached, (void)forced_off;
    return 0;
}
#endif

int hy_bf16_gemm_force_off(int off) {
    const int prev = forced_off > 0;
    forced_off = off != 0;
    return prev;
}
