/* Products with weights in their file's block format (hy_ctx_qmatmul, runtime_internal.h):
 * decode-sized batches through the quantized kernels (kernels/qmatmul.h) threaded over
 * row chunks, longer batches as tiles of dequantised rows, one contiguous slice of rows per
 * pool thread: on AMX tiles in bf16 where the CPU has them (kernels/bf16_gemm.h), else fp32
 * through sgemm. */
#include "bf16_gemm.h"
#include "matmul.h"
#include "qmatmul.h"
#include "runtime_internal.h"

/* Rows per work item of the quantized path: small enough to balance two threads on a
 * 576-row matrix, large enough that the item hand-out costs nothing. */
#define QROWS 32

typedef struct {
    hy_ctx *c;
    float *y;
    int64_t ldy;
    const float *x;
    int64_t ldx;
    const hy_qmat *w;
    int64_t n_tok, n_in, n_out;
    float beta;
    uint16_t *xa;                             /* bf16 path: the activation pack, else NULL */
    int64_t chunk;                            /* tile paths: rows per thread */
    int64_t part_item[HY_QMAT_MAX_PARTS + 1]; /* quantized path: first item of each part */
    size_t act_bytes[HY_QMAT_MAX_PARTS];      /* prepared activation row per part */
} qjob;

static size_t row_bytes(int type, int64_t n_in) {
    return (size_t)(n_in / hy_qtype_block_elems((hy_qtype)type)) *
           hy_qtype_block_bytes((hy_qtype)type);
}

/* Item i: QROWS rows of one part, for every token. The activations of each part were
 * prepared by the caller, one block of n_tok rows after another (c->xq). */
static hy_status qitem(void *arg, int64_t i) {
    const qjob *j = arg;
    int p = 0;
    while (i >= j->part_item[p + 1])
        p++;
    const hy_qpart *part = &j->w->part[p];
    int64_t row0 = 0; /* the part's first output row */
    const uint8_t *xq = j->c->xq;
    for (int k = 0; k < p; k++) {
        row0 += j->w->part[k].rows;
        xq += j->act_bytes[k] * (size_t)j->n_tok;
    }
    const int64_t r = (i - j->part_item[p]) * QROWS;
    const int64_t n = part->rows - r < QROWS ? part->rows - r : QROWS;
    const uint8_t *wr = part->data + (size_t)r * row_bytes(part->type, j->n_in);
    for (int64_t t = 0; t < j->n_tok; t++)
        hy_qmatvec((hy_qtype)part->type, wr, j->n_in, n, xq + j->act_bytes[p] * (size_t)t,
                   j->y + t * j->ldy + row0 + r, j->beta);
    return HY_OK;
}

/* Item i: the slice of rows [i chunk, (i + 1) chunk), HY_QGEMM_TILE rows at a time
 * dequantised into this item's tile and multiplied by sgemm. */
static hy_status titem(void *arg, int64_t i) {
    const qjob *j = arg;
    float *tile = j->c->wtile + i * j->c->wtile_floats;
    const int64_t end = j->n_out < (i + 1) * j->chunk ? j->n_out : (i + 1) * j->chunk;
    for (int64_t o = i * j->chunk; o < end; o += HY_QGEMM_TILE) {
        const int64_t n = end - o < HY_QGEMM_TILE ? end - o : HY_QGEMM_TILE;
        hy_qmat_rows_f32(j->w, j->n_in, o, n, tile);
        if (j->xa) {
            uint16_t *wp = j->c->wtile_bf16 + i * j->c->wtile_bf16_elems;
            hy_bf16_w_pack(tile, n, j->n_in, wp);
            hy_bf16_gemm(j->y + o, j->ldy, j->xa, wp, j->n_tok, j->n_in, n, j->beta);
        } else {
            hy_matmul_f32(j->y + o, j->ldy, j->x, j->ldx, tile, j->n_tok, j->n_in, n, j->beta);
        }
    }
    return HY_OK;
}

/* Item i: tokens [i ACT_ROWS, (i + 1) ACT_ROWS) of the bf16 activation pack. */
#define ACT_ROWS 64
static hy_status aitem(void *arg, int64_t i) {
    const qjob *j = arg;
    const int64_t t1 = j->n_tok < (i + 1) * ACT_ROWS ? j->n_tok : (i + 1) * ACT_ROWS;
    hy_bf16_act_pack(j->x, j->ldx, j->n_tok, j->n_in, i * ACT_ROWS, t1, j->xa);
    return HY_OK;
}

void hy_ctx_qmatmul(hy_ctx *c, float *y, int64_t ldy, const float *x, int64_t ldx, const hy_qmat *w,
                    int64_t n_tok, int64_t n_in, int64_t n_out, float beta) {
    qjob j = {c, y, ldy, x, ldx, w, n_tok, n_in, n_out, beta, NULL, 0, {0}, {0}};
    if (n_tok <= HY_QGEMV_MAX_TOK) {
        uint8_t *xq = c->xq;
        for (int p = 0; p < w->n_parts; p++) {
            const hy_qtype t = (hy_qtype)w->part[p].type;
            j.act_bytes[p] = hy_qact_bytes(t, n_in);
            for (int64_t k = 0; k < n_tok; k++, xq += j.act_bytes[p])
                hy_qact_quantize(t, x + k * ldx, n_in, xq);
            j.part_item[p + 1] = j.part_item[p] + (w->part[p].rows + QROWS - 1) / QROWS;
        }
        (void)hy_pool_run(c->pool, j.part_item[w->n_parts], qitem, &j); /* cannot fail */
        return;
    }
    /* with $HY_OPENBLAS_THREADING=1 sgemm threads itself: one slice, on this thread */
    const int nt = c->own_gemm_threads ? hy_pool_threads(c->pool) : 1;
    j.chunk = (n_out + nt - 1) / nt;
    j.chunk = (j.chunk + 15) / 16 * 16; /* whole 16-row groups: sgemm's micro-kernel width, and
                                           the bf16 path's weight panel */
    if (c->wtile_bf16 && n_tok <= c->n_batch) {
        j.xa = c->xbf16;
        (void)hy_pool_run(c->pool, (n_tok + ACT_ROWS - 1) / ACT_ROWS, aitem, &j);
    }
    (void)hy_pool_run(c->pool, (n_out + j.chunk - 1) / j.chunk, titem, &j);
}
