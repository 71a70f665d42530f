/* `hylra plan export`: a plan in the forms serving engines and the peers' code read.
 *   tidal  TidalDecode's layer list: full-attention layers, token-selection layers, top-k;
 *          every other layer reuses the latest selection layer. Expressible only for plans
 *          of that shape (whole layers; dense layers before the first selection; reuse of the
 *          latest selection layer, same head); anything else is refused naming the layer.
 *   duo    DuoAttention's per-(layer, KV head) mask, TSV: 1 = full attention (retrieval
 *          head), 0 = sink + recent window (streaming head). Units attending to a chosen set
 *          (select/reuse/bounds/score/sketch) have no column value of their own: they export
 *          as 1 (full), which keeps the accuracy and gives up their savings; counted on stderr.
 *   ucm    a per-layer index-reuse configuration in the field names of UCM's sparse
 *          attention config (top_k_index_reuse: -1 = the layer chooses its own top-k, else the
 *          layer whose indices it reuses; rollback layers = full attention; top-k). Whole
 *          layers only; window units and refresh strides have no field and are refused.
 * docs/plan-export.md says what each loses. Every file is written atomically. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hy_plan.h"

/* The layer's mode when all its heads share it (reuse: also the same source layer and the
 * same head index as the user), else -1 with *why set. */
static int layer_mode(const hy_plan *p, int l, int *src_layer, const char **why) {
    const int H = p->n_kv_heads;
    const hy_plan_unit *u0 = &p->units[l * H];
    *src_layer = u0->mode == HY_MODE_REUSE ? u0->src / H : -1;
    for (int h = 0; h < H; h++) {
        const hy_plan_unit *u = &p->units[l * H + h];
        if (u->mode != u0->mode) {
            *why = "its KV heads have different modes";
            return -1;
        }
        if (u->mode == HY_MODE_REUSE && (u->src / H != *src_layer || u->src % H != h)) {
            *why = "its heads reuse different layers or other heads";
            return -1;
        }
    }
    return u0->mode;
}

static hy_status write_json(json_t *root, const char *path) {
    char *text = json_dumps(root, JSON_INDENT(1));
    json_decref(root);
    if (!text) return hy_fail(HY_ENOMEM, "JSON text");
    hy_status st = hy_write_text_atomic(path, text);
    free(text);
    return st;
}

static hy_status export_tidal(const hy_plan *p, const char *path) {
    json_t *full = json_array(), *sel = json_array();
    int last_sel = -1;
    for (int l = 0; l < p->n_layers; l++) {
        int src;
        const char *why = "";
        const int m = layer_mode(p, l, &src, &why);
        if (m < 0) {
            json_decref(full), json_decref(sel);
            return hy_fail(HY_EUNSUPPORTED, "tidal: layer %d: %s", l, why);
        }
        const hy_plan_unit *u = &p->units[l * p->n_kv_heads];
        if (m == HY_MODE_DENSE && last_sel < 0) {
            json_array_append_new(full, json_integer(l));
        } else if (m == HY_MODE_SELECT && u->refresh == 1) {
            json_array_append_new(sel, json_integer(l));
            last_sel = l;
        } else if (!(m == HY_MODE_REUSE && src == last_sel)) {
            json_decref(full), json_decref(sel);
            return hy_fail(HY_EUNSUPPORTED,
                           "tidal: layer %d is %s%s; TidalDecode runs full layers "
                           "first, then selection layers (every step) each reused by the layers "
                           "after it",
                           l, hy_unit_mode_name((hy_unit_mode)m),
                           m == HY_MODE_REUSE ? " of a layer other than the latest selection" : "");
        }
    }
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string("hylra-export-tidal"));
    json_object_set_new(root, "full_attention_layers", full);
    json_object_set_new(root, "token_selection_layers", sel);
    json_object_set_new(root, "top_k", json_integer(p->k));
    json_object_set_new(root, "sink", json_integer(p->sink));
    json_object_set_new(root, "window", json_integer(p->window));
    json_object_set_new(root, "model", json_string(p->model_name));
    return write_json(root, path);
}

static hy_status export_duo(const hy_plan *p, const char *path) {
    const int H = p->n_kv_heads;
    size_t cap = (size_t)p->n_layers * (size_t)H * 2 + 1, n = 0;
    char *text = malloc(cap);
    if (!text) return hy_fail(HY_ENOMEM, "duo mask");
    int kept_full = 0;
    for (int l = 0; l < p->n_layers; l++)
        for (int h = 0; h < H; h++) {
            const hy_unit_mode m = p->units[l * H + h].mode;
            kept_full += m != HY_MODE_DENSE && m != HY_MODE_WINDOW;
            text[n++] = m == HY_MODE_WINDOW ? '0' : '1';
            text[n++] = h + 1 < H ? '\t' : '\n';
        }
    text[n] = 0;
    if (kept_full)
        fprintf(stderr,
                "hylra plan export: duo: %d of %d units attend to a chosen set, which a "
                "retrieval/streaming mask cannot say: exported as full attention (1)\n",
                kept_full, p->n_layers * H);
    hy_status st = hy_write_text_atomic(path, text);
    free(text);
    return st;
}

static hy_status export_ucm(const hy_plan *p, const char *path) {
    json_t *reuse = json_array(), *rollback = json_array();
    for (int l = 0; l < p->n_layers; l++) {
        int src;
        const char *why = "";
        const int m = layer_mode(p, l, &src, &why);
        const hy_plan_unit *u = &p->units[l * p->n_kv_heads];
        const char *bad = m < 0                 ? why
                          : m == HY_MODE_WINDOW ? "a window layer"
                          : hy_mode_publishes((hy_unit_mode)m) && u->refresh != 1
                              ? "a set refreshed less often than every step"
                              : NULL;
        if (bad) {
            json_decref(reuse), json_decref(rollback);
            return hy_fail(HY_EUNSUPPORTED, "ucm: layer %d: %s has no field there", l, bad);
        }
        if (m == HY_MODE_DENSE) json_array_append_new(rollback, json_integer(l));
        json_array_append_new(reuse, json_integer(m == HY_MODE_REUSE ? src : -1));
    }
    json_t *root = json_object();
    json_object_set_new(root, "format", json_string("hylra-export-ucm"));
    json_object_set_new(root, "top_k_index_reuse", reuse);
    json_object_set_new(root, "rollback_layers", rollback);
    json_object_set_new(root, "top_k", json_integer(p->k));
    json_object_set_new(root, "model", json_string(p->model_name));
    return write_json(root, path);
}

int hy_cli_plan_export(int argc, char **argv) {
    const char *fmt = NULL, *out = NULL, *in = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--format") && i + 1 < argc)
            fmt = argv[++i];
        else if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (argv[i][0] != '-' && !in)
            in = argv[i];
        else {
            fprintf(stderr, "hylra plan export: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!in || !fmt || !out) {
        fprintf(stderr,
                "hylra plan export: missing %s\nusage: hylra plan export PLAN.json "
                "--format tidal|duo|ucm -o FILE\n",
                !in    ? "PLAN.json"
                : !fmt ? "--format"
                       : "-o FILE");
        return 2;
    }
    if (strcmp(fmt, "tidal") && strcmp(fmt, "duo") && strcmp(fmt, "ucm")) {
        fprintf(stderr, "hylra plan export: --format %s: expected tidal, duo or ucm\n", fmt);
        return 2;
    }
    if (hy_cli_check_output("plan export", "-o", out)) return 2;
    hy_plan *p = NULL;
    if (hy_plan_read(in, &p)) return hy_cli_die("plan export");
    if (p->granularity == HY_GRAN_PAGE && strcmp(fmt, "duo")) {
        fprintf(stderr,
                "hylra plan export: %s: granularity is page (%d tokens); --format %s selects "
                "tokens: expected a token-granular plan\n",
                in, p->page_size, fmt);
        hy_plan_free(p);
        return 1;
    }
    hy_status st = !strcmp(fmt, "tidal") ? export_tidal(p, out)
                   : !strcmp(fmt, "duo") ? export_duo(p, out)
                                         : export_ucm(p, out);
    hy_plan_free(p);
    if (st) return hy_cli_die("plan export");
    fprintf(stderr, "hylra plan export: wrote %s (%s)\n", out, fmt);
    return 0;
}
