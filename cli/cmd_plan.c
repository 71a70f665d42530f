/* hylra plan show: a plan as a per-layer table a person can read: one row per layer, one
 * column per KV head, each cell the unit's mode (select with its refresh, reuse with its
 * source as layer.head). */
#include "commands.h"
#include "hy_plan.h"

#include <stdio.h>
#include <string.h>

static void cell(const hy_plan *p, int32_t u, char *buf, size_t n) {
    const hy_plan_unit *x = &p->units[u];
    int32_t H = p->n_kv_heads;
    switch (x->mode) {
    case HY_MODE_DENSE:
        snprintf(buf, n, "dense");
        break;
    case HY_MODE_SELECT:
        if (x->refresh == 1)
            snprintf(buf, n, "SELECT");
        else if (x->refresh > 1)
            snprintf(buf, n, "SELECT/%d", x->refresh);
        else
            snprintf(buf, n, "SELECT q<%.2f", (double)x->qsim);
        break;
    case HY_MODE_REUSE:
        snprintf(buf, n, "<- %d.%d", x->src / H, x->src % H);
        break;
    }
}

static void show(const char *path, const hy_plan *p) {
    int n[3] = {0, 0, 0};
    for (int32_t u = 0; u < hy_plan_n_units(p); u++)
        n[p->units[u].mode]++;
    printf("%s: %s v%d\n", path, HY_PLAN_FORMAT, HY_PLAN_VERSION);
    printf("model     %s  (%d layers, %d heads, %d kv heads, head_dim %d)\n", p->model_name,
           p->n_layers, p->n_heads, p->n_kv_heads, p->head_dim);
    printf("sha256    model %.16s..  profile %.16s..\n", p->model_sha256, p->profile_sha256);
    printf("sets      k %d, sink %d, window %d, context %d, granularity %s", p->k, p->sink,
           p->window, p->context, p->granularity == HY_GRAN_PAGE ? "page" : "token");
    if (p->granularity == HY_GRAN_PAGE) printf(" (page %d)", p->page_size);
    printf("\nbudget    %g (%s) = %.4g s\n", p->budget_value, p->budget_kind, p->budget_seconds);
    printf("solver    %s, %s, gap %.3g, %.3f s, loss = %s\n", p->solver, p->status, p->gap,
           p->solve_seconds, p->loss_kind);
    printf("predicted cost %.4g s (%.3f of dense %.4g s, speedup %.2fx), loss %.5g\n", p->cost_s,
           p->cost_s / p->dense_cost_s, p->dense_cost_s, p->dense_cost_s / p->cost_s, p->loss);
    printf("units     %d dense, %d select, %d reuse\n\n", n[0], n[1], n[2]);
    printf("layer");
    for (int32_t h = 0; h < p->n_kv_heads; h++)
        printf("  kv%-10d", h);
    printf("\n");
    char buf[32];
    for (int32_t l = 0; l < p->n_layers; l++) {
        printf("%5d", l);
        for (int32_t h = 0; h < p->n_kv_heads; h++) {
            cell(p, l * p->n_kv_heads + h, buf, sizeof buf);
            printf("  %-12s", buf);
        }
        printf("\n");
    }
    printf("\nSELECT = full attention, publishes its top-k (/s: refreshed every s steps);\n"
           "<- L.H = attends only to the set published by layer L, kv head H.\n");
}

int hy_cmd_plan(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: hylra plan show PLAN.json\n");
        return 0;
    }
    if (argc != 3 || strcmp(argv[1], "show")) {
        fprintf(stderr, "usage: hylra plan show PLAN.json\n");
        return 2;
    }
    hy_plan *p = NULL;
    if (hy_plan_read(argv[2], &p)) return hy_cli_die("plan show");
    show(argv[2], p);
    hy_plan_free(p);
    return 0;
}
