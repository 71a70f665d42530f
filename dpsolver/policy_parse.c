/* dpsolver/policy_parse: the --policy spec language (dense, window:W, quest:P,k,
 * tidal:L1,L2,k, recycled:s,k, plan:FILE) and its canonical spelling. Strict: plain decimal
 * integers only, no signs, spaces or trailing text, so a typo never becomes another policy.
 * Specs: docs/policies.md. */
#include "hy_policy.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* Expected forms, quoted in every error of their kind. */
static const char *const FORMS[] = {
    [HY_POLICY_DENSE] = "dense",
    [HY_POLICY_WINDOW] = "window:W (W >= 0 tokens after the sink)",
    [HY_POLICY_QUEST] = "quest:P,k (page size P >= 1, tokens kept k >= 1)",
    [HY_POLICY_TIDAL] = ("tidal:L1,L2,k (layers before L1 >= 0 dense, select layers L1 and "
                         "L2 > L1, tokens kept k >= 1)"),
    [HY_POLICY_RECYCLED] = "recycled:s,k (refresh stride s >= 1, tokens kept k >= 1)",
    [HY_POLICY_PLAN] = "plan:FILE (a hylra plan JSON file)",
};

static const char *const NAMES[] = {"dense", "window", "quest", "tidal", "recycled", "plan"};

#define ALL_FORMS "dense|window:W|quest:P,k|tidal:L1,L2,k|recycled:s,k|plan:FILE"

/* Reads `n` comma-separated decimal integers from s into v; 0 on any deviation. */
static int read_ints(const char *s, int n, int64_t *v) {
    for (int i = 0; i < n; i++) {
        if (*s < '0' || *s > '9') return 0;
        int64_t x = 0;
        while (*s >= '0' && *s <= '9') {
            x = x * 10 + (*s++ - '0');
            if (x > INT32_MAX) return 0;
        }
        v[i] = x;
        if (i + 1 < n && *s++ != ',') return 0;
    }
    return *s == 0;
}

static hy_status bad(const char *spec, hy_policy_kind kind, const char *what) {
    return hy_fail(HY_EINVAL, "policy \"%s\": %s; expected %s", spec, what, FORMS[kind]);
}

hy_status hy_policy_parse(const char *spec, hy_policy *out) {
    *out = (hy_policy){.kind = HY_POLICY_DENSE};
    if (!spec) return hy_fail(HY_EINVAL, "policy: no spec, expected " ALL_FORMS);
    if (!strcmp(spec, "dense")) return HY_OK;
    const char *colon = strchr(spec, ':');
    size_t nl = colon ? (size_t)(colon - spec) : 0;
    int kind = -1;
    for (int i = HY_POLICY_WINDOW; colon && i <= HY_POLICY_PLAN; i++)
        if (strlen(NAMES[i]) == nl && !strncmp(spec, NAMES[i], nl)) kind = i;
    if (kind < 0) return hy_fail(HY_EINVAL, "policy \"%s\": unknown, expected " ALL_FORMS, spec);
    const char *arg = colon + 1;
    out->kind = (hy_policy_kind)kind;
    if (kind == HY_POLICY_PLAN) {
        if (!*arg) return bad(spec, out->kind, "no file name");
        if (strlen(arg) >= sizeof out->path) return bad(spec, out->kind, "file name too long");
        snprintf(out->path, sizeof out->path, "%s", arg);
        return HY_OK;
    }
    static const int nargs[] = {[HY_POLICY_WINDOW] = 1,
                                [HY_POLICY_QUEST] = 2,
                                [HY_POLICY_TIDAL] = 3,
                                [HY_POLICY_RECYCLED] = 2};
    int64_t v[3] = {0, 0, 0};
    if (!read_ints(arg, nargs[kind], v))
        return bad(spec, out->kind,
                   nargs[kind] == 1 ? "not one non-negative integer"
                                    : "not the right count of non-negative integers");
    switch (out->kind) {
    case HY_POLICY_WINDOW:
        out->window = (int32_t)v[0];
        return HY_OK;
    case HY_POLICY_QUEST:
        out->page_size = (int32_t)v[0], out->k = (int32_t)v[1];
        if (out->page_size < 1) return bad(spec, out->kind, "P is 0");
        break;
    case HY_POLICY_TIDAL:
        out->dense_layers = (int32_t)v[0], out->reselect = (int32_t)v[1], out->k = (int32_t)v[2];
        if (out->reselect <= out->dense_layers) return bad(spec, out->kind, "L2 is not > L1");
        break;
    case HY_POLICY_RECYCLED:
        out->stride = (int32_t)v[0], out->k = (int32_t)v[1];
        if (out->stride < 1) return bad(spec, out->kind, "s is 0");
        break;
    default:
        break;
    }
    if (out->k < 1) return bad(spec, out->kind, "k is 0");
    return HY_OK;
}

void hy_policy_format(const hy_policy *p, char *buf, size_t len) {
    if (!len) return;
    switch (p->kind) {
    case HY_POLICY_DENSE:
        snprintf(buf, len, "dense");
        break;
    case HY_POLICY_WINDOW:
        snprintf(buf, len, "window:%d", p->window);
        break;
    case HY_POLICY_QUEST:
        snprintf(buf, len, "quest:%d,%d", p->page_size, p->k);
        break;
    case HY_POLICY_TIDAL:
        snprintf(buf, len, "tidal:%d,%d,%d", p->dense_layers, p->reselect, p->k);
        break;
    case HY_POLICY_RECYCLED:
        snprintf(buf, len, "recycled:%d,%d", p->stride, p->k);
        break;
    case HY_POLICY_PLAN:
        snprintf(buf, len, "plan:%s", p->path);
        break;
    default:
        snprintf(buf, len, "unknown");
        break;
    }
}
