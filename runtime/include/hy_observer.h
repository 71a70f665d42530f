/* Attention observer: lets a caller (the profiler, tests) see, for chosen query positions,
 * what each (layer, kv head) unit attended to, without the model code knowing about it.
 * The runtime calls the observer after a unit's attention mode ran; the probabilities are
 * recomputed here from the cached q/k (fp64 softmax with max subtraction), so the dense mode
 * itself is untouched. With no observer attached the runtime pays one NULL check per item. */
#ifndef HY_OBSERVER_H
#define HY_OBSERVER_H

#include "hy_runtime.h"

#include <stdint.h>

/* One observed query position of one unit. Pointers are valid only during the callback
 * (copy what you keep), except k and v, which point into the context's KV cache and stay
 * valid until the sequence is reset. */
typedef struct {
    int layer, kv_head, seq;
    int n_heads; /* query heads in the unit's GQA group */
    int head_dim;
    int64_t pos;        /* query position; keys 0..pos are visible */
    int64_t n_keys;     /* pos + 1 */
    const float *q;     /* [n_heads][head_dim], RoPE applied */
    const float *probs; /* [n_heads][n_keys] post-softmax attention of each query head */
    const float *out;   /* [n_heads][head_dim] attention output the mode wrote */
    const float *k, *v; /* [n_keys] rows of head_dim floats: the unit's cached keys/values */
} hy_observation;

/* Called on the runtime's worker threads, concurrently for different units and positions:
 * the callback must be thread-safe (e.g. write to a slot owned by (layer, kv_head, pos)). */
typedef void (*hy_observer_fn)(void *user, const hy_observation *obs);

typedef struct hy_observer {
    hy_observer_fn fn;
    void *user;
    int64_t pos_begin, pos_end; /* observe query positions in [pos_begin, pos_end) */
} hy_observer;

/* Attaches *obs to the context (replacing any), or detaches when obs is NULL. The context
 * borrows obs: keep it alive until it is detached or the context is freed. HY_EINVAL when
 * fn is NULL or the range is empty or negative. */
hy_status hy_ctx_set_observer(hy_ctx *c, const hy_observer *obs);

#endif
