/* `hylra bench decode`: end-to-end decode throughput of the CUDA runtime on a model (GGUF or
 * a synthetic shape) at each (context, batch) point, for dense attention and for each plan and
 * peer policy, beside what bounds it: the bytes a step must move (weights, the K/V rows the
 * plan attended as counted by the runtime, the new K/V rows) over the copy bandwidth measured
 * in the same run; the attention share of the step (attention-only graphs of the same step);
 * the step time the cost table predicts; and, when given, transformers' tokens/s on the same
 * GPU (scripts/bench-torch-e2e). Contexts are filled with seeded random K/V, not prefilled:
 * a step costs the same whatever the values, and a 128K prefill per point would cost minutes. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_decode.h"
#include "commands.h"
#include "eval_common.h"
#include "hy_costs.h"
#include "hy_json_file.h"
#include "hy_runtime.h"
#ifdef HY_HAVE_CUDA
#include "cuda_bench.h"
#include "cuda_check.h"
#endif

#define HY_TRY_CLI(call)                                                                           \
    do {                                                                                           \
        hy_status s_ = (call);                                                                     \
        if (s_) return s_;                                                                         \
    } while (0)

#ifdef HY_HAVE_CUDA /* the helpers of the measurement, which needs the CUDA build */
typedef struct {
    double step_s, attn_s, kv_rows, kv_rows_dense;
} measured;

/* One method at one point: fill, warm up (captures the graphs), fill again, time, count. */
static hy_status run_method(hy_ctx *c, const hy_plan *plan, int B, int64_t n, int steps,
                            measured *out) {
    int32_t *tok = hy_malloc((size_t)B * sizeof *tok, "tokens");
    if (!tok) return HY_ENOMEM;
    for (int s = 0; s < B; s++)
        tok[s] = 1 + s;
    hy_status st = HY_OK;
    for (int s = 0; !st && s < B; s++)
        st = hy_ctx_set_plan(c, s, plan);
    for (int pass = 0; !st && pass < 3; pass++) {
        for (int s = 0; !st && s < B; s++)
            st = hy_ctx_seq_fill_random(c, s, n, 0x5eed + (uint64_t)s);
        if (st) break;
        if (pass == 0) st = hy_decode_greedy(c, B, tok, steps, NULL); /* captures */
        if (pass == 1) {
            const double t0 = hy_now();
            st = hy_decode_greedy(c, B, tok, steps, NULL);
            out->step_s = (hy_now() - t0) / steps;
            out->kv_rows = out->kv_rows_dense = 0;
            for (int s = 0; !st && s < B; s++) {
                hy_attn_counters ac;
                st = hy_ctx_attn_counters(c, s, &ac);
                out->kv_rows += ac.kv_tokens, out->kv_rows_dense += ac.kv_tokens_dense;
            }
        }
        if (pass == 2) st = hy_ctx_time_attention(c, B, steps, &out->attn_s);
    }
    free(tok);
    return st;
}

static double torch_tps(json_t *torch, int B, int64_t n) {
    json_t *pts = torch ? json_object_get(torch, "points") : NULL;
    size_t i;
    json_t *p;
    json_array_foreach(pts, i, p) {
        if (json_integer_value(json_object_get(p, "batch")) == B &&
            json_integer_value(json_object_get(p, "ctx")) == n &&
            json_is_number(json_object_get(p, "tokens_per_s")))
            return json_number_value(json_object_get(p, "tokens_per_s"));
    }
    return NAN;
}

static json_t *num(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

/* Predicted step time: the measured non-attention part of the dense step plus the plan's
 * attention as the cost model prices it. */
static double predict(const hy_bench_decode_opts *o, const hy_costs *table, double bw,
                      const hy_model_info *mi, int B, int64_t n, const hy_plan *plan,
                      double nonattn_s, const char **from) {
    hy_cost_model cm;
    hy_cost_model_init(&cm, mi->head_dim, mi->n_heads, mi->n_kv_heads, table);
    cm.batch = B;
    cm.sink = o->sink, cm.window = o->window;
    if (!table) cm.bandwidth_Bps = bw * 1e9;
    hy_plan *dense = NULL;
    if (!plan) {
        if (hy_plan_create(mi->n_layers, mi->n_heads, mi->n_kv_heads, mi->head_dim, &dense))
            return NAN;
        dense->sink = o->sink, dense->window = o->window;
        plan = dense;
    }
    double cost = NAN, dense_s = NAN;
    *from = table ? "costs.json" : "analytic";
    if (hy_plan_predict_cost(&cm, plan, n, &cost, &dense_s) != HY_OK && table) {
        hy_clear_error(); /* outside the table's grid or shape: the analytic model */
        hy_cost_model_init(&cm, mi->head_dim, mi->n_heads, mi->n_kv_heads, NULL);
        cm.batch = B, cm.sink = o->sink, cm.window = o->window, cm.bandwidth_Bps = bw * 1e9;
        *from = "analytic (outside costs.json)";
        if (hy_plan_predict_cost(&cm, plan, n, &cost, &dense_s) != HY_OK) cost = NAN;
    }
    hy_clear_error();
    hy_plan_free(dense);
    return nonattn_s + cost;
}

static hy_status load_model(const hy_bench_decode_opts *o, hy_model **m) {
    if (o->shape) return hy_model_synthetic(o->shape, o->seed, m);
    return hy_model_load(o->model, m);
}

#endif

hy_status hy_bench_decode(const hy_bench_decode_opts *o) {
#ifndef HY_HAVE_CUDA
    (void)o;
    return hy_fail(HY_EUNSUPPORTED, "bench decode: this hylra was built without CUDA "
                                    "(configure with meson setup -Dcuda=enabled)");
#else
    char dev_name[256];
    int sms = 0;
    size_t mem = 0;
    HY_TRY_CLI(hy_cuda_device_name(dev_name, sizeof dev_name, &sms, &mem));
    double bw_a = 0, bw_b = 0;
    HY_TRY_CLI(hy_cuda_copy_bandwidth(&bw_a, &bw_b));
    const double bw = bw_a > bw_b ? bw_a : bw_b;
    hy_costs *table = NULL;
    if (o->costs) HY_TRY_CLI(hy_costs_read(o->costs, &table));
    json_t *torch = NULL;
    if (o->torch) {
        hy_status js = hy_json_read_file(o->torch, &torch);
        if (js) {
            hy_costs_free(table);
            return js;
        }
    }
    hy_model *m = NULL;
    hy_status st = load_model(o, &m);
    const hy_model_info *mi = m ? hy_model_info_borrow(m) : NULL;
    FILE *f = stdout;
    if (!st) {
        fprintf(f, "device: %s (%d SMs, %.1f GiB), copy bandwidth %.1f GB/s (read+write)\n",
                dev_name, sms, mem / 1073741824.0, bw);
        fprintf(f,
                "model: %s (%d layers, %d/%d heads, head_dim %d, d_model %d, ffn %d, vocab %d): "
                "%.2f GB of weights per step\n",
                mi->name, mi->n_layers, mi->n_heads, mi->n_kv_heads, mi->head_dim, mi->d_model,
                mi->d_ff, mi->n_vocab, hy_model_step_weight_bytes(m) / 1e9);
        fprintf(f, "%-28s %3s %7s %9s %9s %6s %9s %6s %9s %7s %8s %9s %6s\n", "method", "B", "ctx",
                "ms/step", "tok/s", "attn%", "bound ms", "%bnd", "pred ms", "pred%", "x dense",
                "torch t/s", "x torch");
    }
    json_t *root = json_object(), *points = json_array(), *skipped = json_array();
    json_object_set_new(root, "tool", json_string("hylra bench decode"));
    json_object_set_new(root, "device", json_string(st ? "" : dev_name));
    json_object_set_new(root, "copy_bandwidth_GBps", json_real(bw));
    json_object_set_new(root, "model", json_string(mi ? mi->name : ""));
    json_object_set_new(root, "steps", json_integer(o->steps));
    json_object_set_new(root, "costs", o->costs ? json_string(o->costs) : json_null());
    for (int ci = 0; !st && ci < o->n_ctx; ci++)
        for (int bi = 0; !st && bi < o->n_batch; bi++) {
            const int64_t n = o->ctx[ci];
            const int B = o->batch[bi];
            const int64_t cap = n + o->steps + 1;
            char why[512] = "";
            hy_ctx *c = NULL;
            if (cap > mi->n_ctx_train)
                snprintf(why, sizeof why, "context %lld + %d steps exceeds the model's %d",
                         (long long)n, o->steps, mi->n_ctx_train);
            else {
                hy_status cs = hy_ctx_create_on(m, HY_DEVICE_CUDA, cap, B, &c);
                if (cs == HY_ENOMEM) {
                    snprintf(why, sizeof why, "does not fit in GPU memory (%s)", hy_last_error());
                    hy_clear_error();
                } else if (cs) {
                    st = cs;
                    break;
                }
            }
            if (why[0]) {
                fprintf(stderr, "hylra: bench decode: B=%d ctx=%lld skipped: %s\n", B, (long long)n,
                        why);
                json_t *sk = json_object();
                json_object_set_new(sk, "batch", json_integer(B));
                json_object_set_new(sk, "ctx", json_integer(n));
                json_object_set_new(sk, "skipped", json_string(why));
                json_array_append_new(skipped, sk);
                continue;
            }
            double dense_step = NAN, dense_attn = NAN;
            const double t_torch = torch_tps(torch, B, n);
            for (int k = -1; !st && k < o->n_methods; k++) {
                const char *spec = k < 0 ? "dense" : o->methods[k];
                hy_plan *plan = NULL;
                if (k >= 0) {
                    hy_cost_model cm;
                    hy_cost_model_init(&cm, mi->head_dim, mi->n_heads, mi->n_kv_heads, NULL);
                    hy_eval_method em;
                    st = hy_cli_method(spec, m, &cm, n, o->sink, o->window, 0.0, &em, &plan);
                    if (st) break;
                }
                measured r = {0};
                fprintf(stderr, "hylra: bench decode: %s B=%d ctx=%lld ...\n", spec, B,
                        (long long)n);
                st = run_method(c, plan, B, n, o->steps, &r);
                if (st) {
                    hy_fail_ctx(st, "%s at B=%d ctx=%lld", spec, B, (long long)n);
                    hy_plan_free(plan);
                    break;
                }
                if (k < 0) dense_step = r.step_s, dense_attn = r.attn_s;
                /* bytes a step must move: weights, the K/V rows attended (2 x head_dim bf16
                 * per row), the new K/V rows written */
                const double kv_bytes = r.kv_rows / o->steps * 4.0 * mi->head_dim;
                const double kv_dense =
                    (double)B * mi->n_layers * mi->n_kv_heads * (n + 1) * 4.0 * mi->head_dim;
                const double bytes = hy_model_step_weight_bytes(m) + (k < 0 ? kv_dense : kv_bytes) +
                                     (double)B * mi->n_layers * mi->n_kv_heads * 4.0 * mi->head_dim;
                const double bound = bytes / (bw * 1e9);
                const char *from = "";
                const double pred =
                    predict(o, table, bw, mi, B, n, plan, dense_step - dense_attn, &from);
                const double tps = B / r.step_s;
                /* a plan file shows by its name, not its directory (the JSON keeps both) */
                const char *shown = spec, *slash = strrchr(spec, '/');
                char short_name[64];
                if (!strncmp(spec, "plan:", 5) && slash) {
                    snprintf(short_name, sizeof short_name, "plan:%s", slash + 1);
                    shown = short_name;
                }
                fprintf(f,
                        "%-28.28s %3d %7lld %9.3f %9.1f %5.1f%% %9.3f %5.1f%% %9.3f %+6.1f%% "
                        "%8.2f %9.1f %6.2f\n",
                        shown, B, (long long)n, r.step_s * 1e3, tps, 100 * r.attn_s / r.step_s,
                        bound * 1e3, 100 * bound / r.step_s, pred * 1e3,
                        100 * (pred - r.step_s) / r.step_s, dense_step / r.step_s, t_torch,
                        tps / t_torch);
                fflush(f);
                json_t *p = json_object();
                json_object_set_new(p, "method", json_string(spec));
                json_object_set_new(p, "solver", json_string(plan ? plan->solver : "dense"));
                json_object_set_new(p, "batch", json_integer(B));
                json_object_set_new(p, "ctx", json_integer(n));
                json_object_set_new(p, "ms_per_step", json_real(r.step_s * 1e3));
                json_object_set_new(p, "tokens_per_s", json_real(tps));
                json_object_set_new(p, "attn_ms_per_step", num(r.attn_s * 1e3));
                json_object_set_new(p, "attn_share", num(r.attn_s / r.step_s));
                json_object_set_new(p, "bytes_per_step", json_real(bytes));
                json_object_set_new(p, "bound_ms", json_real(bound * 1e3));
                json_object_set_new(p, "bound_fraction", json_real(bound / r.step_s));
                json_object_set_new(p, "kv_fraction",
                                    num(k < 0 ? 1.0 : r.kv_rows / r.kv_rows_dense));
                json_object_set_new(p, "predicted_ms", num(pred * 1e3));
                json_object_set_new(p, "predicted_from", json_string(from));
                json_object_set_new(p, "speedup_vs_dense", num(dense_step / r.step_s));
                json_object_set_new(p, "torch_tokens_per_s", num(t_torch));
                json_object_set_new(p, "vs_torch", num(tps / t_torch));
                json_array_append_new(points, p);
                hy_plan_free(plan);
            }
            hy_ctx_free(c);
        }
    json_object_set_new(root, "points", points);
    json_object_set_new(root, "skipped", skipped);
    if (!st && o->out) {
        char *text = json_dumps(root, JSON_INDENT(1));
        st = text ? hy_write_text_atomic(o->out, text) : hy_fail(HY_ENOMEM, "bench decode JSON");
        free(text);
    }
    json_decref(root);
    json_decref(torch);
    hy_costs_free(table);
    hy_model_free(m);
    return st;
#endif
}
