/* dpsolver/synth: seeded synthetic profiles for tests and benchmarks while no real profile
 * exists. The structure follows what layer-reuse papers report: own-set error falls with
 * k, reuse error grows with layer distance, a few layers are sensitive, some heads select
 * well for others (retrieval heads), temporal recall decays with stride. Numbers are made
 * up; only their shape matters to the solver. */
#include "hy_dpsolver.h"

#include <math.h>
#include <stdio.h>

typedef struct {
    uint64_t s;
} rng_t;

static double urand(rng_t *r) {
    r->s ^= r->s << 13, r->s ^= r->s >> 7, r->s ^= r->s << 17;
    return (double)(r->s >> 11) * (1.0 / 9007199254740992.0);
}

static void put(hy_profile_stat *st, size_t i, double v) {
    if (v < 0) v = 0;
    hy_profile_stat_set(st, i, (float)v, (float)(0.1 * v), 16);
}

hy_status hy_synth_profile(int32_t L, int32_t H, uint64_t seed, hy_profile **out) {
    static const int32_t kg[] = {64, 128, 256, 512, 1024};
    static const int32_t sg[] = {1, 2, 4, 8, 16, 32};
    hy_status st = hy_profile_create(L, H * 3, H, 64, 5, kg, 6, sg, 20, NULL, out);
    if (st) return st;
    hy_profile *p = *out;
    rng_t r = {seed * 2654435761u + 0x9e3779b97f4a7c15ull};
    for (int i = 0; i < 4; i++)
        urand(&r);
    snprintf(p->model_name, sizeof p->model_name, "synthetic-L%d-H%d-seed%llu", L, H,
             (unsigned long long)seed);
    snprintf(p->arch, sizeof p->arch, "synthetic");
    snprintf(p->calib_source, sizeof p->calib_source, "synthetic (hy_synth_profile)");
    p->seed = seed, p->ctx = 4096, p->n_queries = 64, p->n_samples = 16, p->sink = 4,
    p->window = 64;
    p->model_ctx_train = 32768; /* as if trained to 32K: tests solve beyond it to see the warning */
    int32_t U = L * H;
    double own[4096], srcq[4096], drift[4096];
    int sens = 0;
    for (int32_t u = 0; u < U && u < 4096; u++) {
        if (u % H == 0) sens = u / H < 2 || urand(&r) < 0.08; /* early layers and a few others */
        own[u] = sens ? 0.15 + 0.2 * urand(&r) : 0.01 + 0.04 * urand(&r);
        srcq[u] = urand(&r) < 0.25 ? 0.5 : 1.0 + urand(&r); /* retrieval heads select for others */
        drift[u] = 0.02 + 0.06 * urand(&r);
    }
    if (U > 4096) U = 4096;
    for (int32_t ki = 0; ki < 5; ki++) {
        double ks = sqrt(256.0 / kg[ki]); /* error shrinks as k grows */
        for (int32_t u = 0; u < U; u++) {
            size_t i = hy_profile_idx_unit(p, u / H, u % H, ki);
            put(&p->layer_out_err, i, own[u] * ks);
            put(&p->layer_recall, i, 1.0 - 0.7 * own[u] * ks);
        }
        for (int32_t a = 0; a < U; a++)
            for (int32_t b = 0; b < U; b++) {
                int32_t la = a / H, lb = b / H;
                if (a == b || la > lb) continue;
                double d = lb - la, hp = (a % H == b % H) ? 0.0 : 0.04;
                double e = own[b] + srcq[a] * (la == lb ? 0.05 : 0.03 * pow(d, 0.7)) + hp;
                e = (e * (0.9 + 0.2 * urand(&r))) * ks;
                size_t i = hy_profile_idx_cross(p, a, b, ki);
                put(&p->cross_out_err, i, e);
                put(&p->cross_recall, i, 1.0 - 0.7 * e);
                put(&p->cross_jaccard, i, exp(-d / 6.0) * (1.0 - hp));
            }
        /* layer aggregate: head h of layer b reuses head h of layer a */
        for (int32_t la = 0; la < L; la++)
            for (int32_t lb = la + 1; lb < L; lb++) {
                double e = 0, rc = 0, j = 0;
                for (int32_t h = 0; h < H; h++) {
                    size_t i = hy_profile_idx_cross(p, la * H + h, lb * H + h, ki);
                    e += p->cross_out_err.mean[i] / H, rc += p->cross_recall.mean[i] / H;
                    j += p->cross_jaccard.mean[i] / H;
                }
                size_t i = hy_profile_idx_cl(p, la, lb, ki);
                put(&p->cl_out_err, i, e), put(&p->cl_recall, i, rc), put(&p->cl_jaccard, i, j);
            }
    }
    for (int32_t u = 0; u < U; u++)
        for (int32_t s = 0; s < 6; s++) {
            size_t i = hy_profile_idx_temporal(p, u / H, u % H, s);
            double loss = s == 0 ? 0.0 : drift[u] * log2((double)sg[s]);
            put(&p->temporal_recall, i, 1.0 - loss);
            put(&p->temporal_out_err, i, 0.8 * loss);
            if (s) continue;
            double tot = 0;
            float *hist = p->temporal_qsim + (size_t)u * 20;
            for (int32_t q = 0; q < 20; q++) {
                double c = -0.95 + 0.1 * q, m = 0.9 - drift[u];
                hist[q] = (float)exp(-(c - m) * (c - m) / 0.01);
                tot += hist[q];
            }
            for (int32_t q = 0; q < 20; q++)
                hist[q] = (float)(hist[q] / tot);
        }
    return HY_OK;
}
