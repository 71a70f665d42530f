/* tests/dpsolver: from files to plans: the solver refuses a profile of another format
 * version; problems refuse a k outside the profile's grid or above the context; solved plans
 * validate, carry the model identity and profile hash, and round-trip through JSON; a cost
 * table measured for another shape is refused. */
#include "hy_dpsolver.h"
#include "hy_test.h"

#include <hdf5.h>
#include <math.h>
#include <unistd.h>

static const char *synth_file(const char *tag, int32_t L, int32_t H) {
    static char path[128];
    snprintf(path, sizeof path, "/tmp/hy_test_session_%d_%s.h5", (int)getpid(), tag);
    hy_profile *p = NULL;
    if (hy_synth_profile(L, H, 3, &p) || hy_profile_write(p, path)) path[0] = 0;
    hy_profile_free(p);
    return path;
}

static hy_problem_opts popts(hy_solve_granularity g) {
    hy_problem_opts o;
    hy_problem_opts_default(&o);
    o.granularity = g, o.context = 32768;
    return o;
}

HY_TEST(solver_refuses_other_profile_version) {
    const char *path = synth_file("ver", 6, 2);
    HY_REQUIRE(path[0]);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    HY_REQUIRE(f >= 0);
    H5Adelete(f, "version");
    int32_t v = 3;
    hid_t sp = H5Screate(H5S_SCALAR),
          a = H5Acreate2(f, "version", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT32, &v);
    H5Aclose(a), H5Sclose(sp), H5Fclose(f);
    hy_problem_opts o = popts(HY_SOLVE_LAYER);
    hy_session *s = NULL;
    HY_CHECK_EQ_INT(hy_session_open(path, NULL, -1, &o, &s), HY_EUNSUPPORTED);
    HY_CHECK(strstr(hy_last_error(), "version is 3, expected 1..2"));
    HY_CHECK(s == NULL);
    remove(path);
}

HY_TEST(k_outside_grid_or_context_refused) {
    const char *path = synth_file("k", 4, 2);
    HY_REQUIRE(path[0]);
    hy_problem_opts o = popts(HY_SOLVE_LAYER);
    hy_session *s = NULL;
    o.k = 2000;
    HY_CHECK_EQ_INT(hy_session_open(path, NULL, -1, &o, &s), HY_ENOTFOUND);
    HY_CHECK(
        strstr(hy_last_error(), "k 2000 is outside the profile's k grid [64,128,256,512,1024]"));
    o.k = 32;
    HY_CHECK_EQ_INT(hy_session_open(path, NULL, -1, &o, &s), HY_ENOTFOUND);
    o.k = 1024, o.context = 512;
    HY_CHECK_EQ_INT(hy_session_open(path, NULL, -1, &o, &s), HY_ERANGE);
    HY_CHECK(strstr(hy_last_error(), "k 1024 is larger than the context 512"));
    remove(path);
}

/* A k between two grid points: every reuse loss and own-output loss is the neighbours'
 * mixed linearly in log k (k 362 sits half way between 256 and 512 in log k); a grid k is
 * the grid point itself. */
HY_TEST(k_between_grid_points_interpolates_losses) {
    const char *path = synth_file("kmix", 6, 2);
    HY_REQUIRE(path[0]);
    hy_problem_opts o = popts(HY_SOLVE_HEAD);
    hy_session *lo = NULL, *hi = NULL, *mid = NULL;
    o.k = 256;
    HY_OK_OR_FAIL(hy_session_open(path, NULL, -1, &o, &lo));
    o.k = 512;
    HY_OK_OR_FAIL(hy_session_open(path, NULL, -1, &o, &hi));
    o.k = 362;
    HY_OK_OR_FAIL(hy_session_open(path, NULL, -1, &o, &mid));
    const double t = log(362.0 / 256.0) / log(2.0);
    const hy_problem *a = lo->problem, *b = hi->problem, *m = mid->problem;
    const int32_t U = m->n_units;
    int checked = 0, moved = 0;
    for (int32_t i = 0; i < U * U; i++) {
        if (isnan(a->loss[i])) {
            HY_CHECK(isnan(m->loss[i]));
            continue;
        }
        const double want = (1 - t) * a->loss[i] + t * b->loss[i];
        if (!(fabs(m->loss[i] - want) <= 1e-6 * (1 + fabs(want))))
            HY_FAILF("loss[%d] at k 362: %g, expected %g (k 256: %g, k 512: %g)", i,
                     (double)m->loss[i], want, (double)a->loss[i], (double)b->loss[i]);
        checked++, moved += a->loss[i] != b->loss[i];
    }
    for (int32_t i = 0; i < U * m->n_strides; i++) {
        const double want = (1 - t) * a->own_pen[i] + t * b->own_pen[i];
        if (!(fabs(m->own_pen[i] - want) <= 1e-6 * (1 + fabs(want))))
            HY_FAILF("own_pen[%d] at k 362: %g, expected %g", i, (double)m->own_pen[i], want);
    }
    HY_CHECK(checked > 0 && moved > 0); /* the synthetic profile's losses depend on k */
    hy_session_close(lo), hy_session_close(hi), hy_session_close(mid);
    remove(path);
}

static void solve_and_round_trip(hy_solve_granularity g, const char *method) {
    const char *path = synth_file(method, 8, 2);
    HY_REQUIRE(path[0]);
    hy_problem_opts o = popts(g);
    hy_session *s = NULL;
    HY_OK_OR_FAIL(hy_session_open(path, NULL, -1, &o, &s));
    hy_ilp_opts io;
    hy_ilp_opts_default(&io);
    io.time_limit_s = 20;
    hy_plan *pl = NULL, *back = NULL;
    hy_solve_info info;
    HY_OK_OR_FAIL(hy_session_solve(s, method, 0.75, false, 1000, &io, &pl, &info));
    HY_CHECK(hy_plan_validate(pl) == HY_OK);
    HY_CHECK(pl->cost_s <= 0.75 * pl->dense_cost_s * (1 + 1e-9));
    HY_CHECK_NEAR(pl->budget_seconds, 0.75 * s->problem->dense_total, 1e-15);
    HY_CHECK(!strcmp(pl->profile_sha256, s->profile_sha256) && strlen(pl->profile_sha256) == 64);
    HY_CHECK(!strcmp(pl->model_name, s->profile->model_name));
    HY_CHECK_EQ_INT(pl->n_layers, 8);
    HY_CHECK_EQ_INT(pl->n_kv_heads, 2);
    char jpath[160];
    snprintf(jpath, sizeof jpath, "%s.plan.json", path);
    HY_OK_OR_FAIL(hy_plan_write(pl, jpath));
    HY_OK_OR_FAIL(hy_plan_read(jpath, &back));
    for (int32_t u = 0; u < hy_plan_n_units(pl); u++) {
        HY_CHECK(pl->units[u].mode == back->units[u].mode);
        if (pl->units[u].mode == HY_MODE_REUSE) HY_CHECK(pl->units[u].src == back->units[u].src);
    }
    HY_CHECK_NEAR(back->loss, pl->loss, 1e-9 * fabs(pl->loss) + 1e-12);
    /* layer plans: every head of a layer has the layer's mode, reusing its own head */
    if (g == HY_SOLVE_LAYER)
        for (int32_t l = 0; l < 8; l++) {
            HY_CHECK(pl->units[2 * l].mode == pl->units[2 * l + 1].mode);
            if (pl->units[2 * l].mode == HY_MODE_REUSE)
                HY_CHECK(pl->units[2 * l + 1].src == pl->units[2 * l].src + 1);
        }
    remove(jpath);
    remove(path);
    hy_plan_free(pl);
    hy_plan_free(back);
    hy_session_close(s);
}

HY_TEST(layer_dp_plan_round_trips) {
    solve_and_round_trip(HY_SOLVE_LAYER, "dp");
}
HY_TEST(head_ilp_plan_round_trips) {
    solve_and_round_trip(HY_SOLVE_HEAD, "ilp");
}
HY_TEST(head_dp_plan_round_trips) {
    solve_and_round_trip(HY_SOLVE_HEAD, "dp");
}

/* Loss = 1 - recall reads the recall datasets: on the synthetic profile recall loss is 0.7x
 * the out_err loss per reuse, so the same plan structure costs less loss. */
HY_TEST(recall_loss_mode) {
    const char *path = synth_file("rec", 6, 2);
    HY_REQUIRE(path[0]);
    hy_problem_opts o = popts(HY_SOLVE_LAYER);
    o.loss = HY_LOSS_RECALL;
    o.sensitive_threshold = 1.0;
    hy_session *s = NULL;
    HY_OK_OR_FAIL(hy_session_open(path, NULL, -1, &o, &s));
    HY_CHECK_NEAR(s->problem->loss[0 * 6 + 3],
                  1.0 - s->profile->cl_recall.mean[hy_profile_idx_cl(s->profile, 0, 3, 2)], 1e-6);
    hy_ilp_opts io;
    hy_ilp_opts_default(&io);
    hy_plan *pl = NULL;
    HY_OK_OR_FAIL(hy_session_solve(s, "dp", 0.8, false, 1000, &io, &pl, NULL));
    HY_CHECK(!strcmp(pl->loss_kind, "recall"));
    hy_plan_free(pl);
    hy_session_close(s);
    remove(path);
}

HY_TEST(unknown_method_and_bad_budget) {
    const char *path = synth_file("m", 4, 2);
    HY_REQUIRE(path[0]);
    hy_problem_opts o = popts(HY_SOLVE_LAYER);
    hy_session *s = NULL;
    HY_OK_OR_FAIL(hy_session_open(path, NULL, -1, &o, &s));
    hy_ilp_opts io;
    hy_ilp_opts_default(&io);
    hy_plan *pl = NULL;
    HY_CHECK_EQ_INT(hy_session_solve(s, "greedy", 0.5, false, 100, &io, &pl, NULL), HY_EINVAL);
    HY_CHECK(strstr(hy_last_error(), "expected dp|ilp"));
    HY_CHECK_EQ_INT(hy_session_solve(s, "dp", -1, false, 100, &io, &pl, NULL), HY_EINVAL);
    HY_CHECK_EQ_INT(hy_session_solve(s, "dp", 0.01, false, 100, &io, &pl, NULL), HY_ESOLVER);
    HY_CHECK(strstr(hy_last_error(), "cheapest feasible plan costs"));
    hy_session_close(s);
    remove(path);
}

HY_TEST(cost_table_for_another_shape_refused) {
    const char *path = synth_file("shape", 4, 2);
    HY_REQUIRE(path[0]);
    hy_cost_model m;
    hy_cost_model_init(&m, 128, 32, 8, NULL);
    hy_costs *c = NULL;
    HY_OK_OR_FAIL(hy_cost_analytic_table(&m, &c));
    char cpath[160];
    snprintf(cpath, sizeof cpath, "%s.costs.json", path);
    HY_OK_OR_FAIL(hy_costs_write(c, cpath));
    hy_problem_opts o = popts(HY_SOLVE_LAYER);
    hy_session *s = NULL;
    HY_CHECK_EQ_INT(hy_session_open(path, cpath, -1, &o, &s), HY_EMISMATCH);
    HY_CHECK(strstr(hy_last_error(), "n_kv_heads 8 head_dim 128"));
    hy_costs_free(c);
    remove(cpath);
    remove(path);
}

HY_TEST_MAIN()
