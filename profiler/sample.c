/* One calibration sample through the runtime with the capture attached as observer. */
#include "hy_profiler.h"

hy_status hy_profile_sample(hy_ctx *c, hy_capture *cap, const int32_t *tokens, int32_t ctx,
                            hy_profile *p, const hy_fold_opts *o, double *seconds) {
    if (ctx < cap->n_queries || ctx > cap->key_stride)
        return hy_fail(HY_ERANGE, "profile sample: ctx %d, expected %d..%lld (queries..capacity)",
                       ctx, cap->n_queries, (long long)cap->key_stride);
    hy_status st = hy_capture_reset(cap, (int64_t)ctx - cap->n_queries);
    if (st) return st;
    hy_observer ob = {hy_capture_observe, cap, cap->pos0, ctx};
    const double t0 = hy_now();
    hy_ctx_seq_reset(c, 0);
    st = hy_ctx_set_observer(c, &ob);
    if (!st) st = hy_forward(c, 0, tokens, ctx, NULL, 0);
    hy_ctx_set_observer(c, NULL);
    if (st) return hy_fail_ctx(st, "profile sample: forward of %d tokens", ctx);
    const double t1 = hy_now();
    st = hy_profile_fold(p, cap, o);
    if (seconds) seconds[0] = t1 - t0, seconds[1] = hy_now() - t1;
    return st;
}
