/* The profile as a self-contained HTML page (inline SVG, no scripts, no external files):
 * cross-layer recall heatmap at one k, per-layer own-set recall and out_err with std bars
 * (sensitive layers in red), the head-pair recall heatmap of one layer, temporal recall per
 * stride. Used by `hylra report`. */
#ifndef HY_REPORT_H
#define HY_REPORT_H

#include "hy_profile.h"

typedef struct {
    int32_t k;           /* the k of the pictures (nearest grid value); 0 = 256 or nearest */
    int32_t layer;       /* layer of the head-pair heatmap; -1 = the most sensitive one */
    float sensitive_err; /* own-set out_err above which a layer is marked sensitive */
} hy_report_opts;

/* Writes the page to path (via "<path>.tmp" and rename). */
hy_status hy_report_write_html(const hy_profile *p, const hy_report_opts *o, const char *path);

#endif
