/* eval/report_internal: what the report files (report.c, report_table.c, report_json.c,
 * report_svg.c) share and nothing outside eval/ needs: the three kinds of task a cell can
 * summarise, and the bootstrap settings every report uses. */
#ifndef HY_REPORT_INTERNAL_H
#define HY_REPORT_INTERNAL_H

#include "hy_eval.h"

typedef enum {
    HY_EVAL_KIND_AGREE, /* score = top-1 agreement per doc, kl set */
    HY_EVAL_KIND_PPL,   /* score = mean NLL per doc */
    HY_EVAL_KIND_GEN,   /* score = generated-task score in [0, 1] */
} hy_eval_kind;

hy_eval_kind hy_eval_task_kind(const char *task);

/* Resamples per interval. Every method of one task is resampled with the same seed, i.e. the
 * same bootstrap draws of documents, so their intervals differ only by their own numbers. */
#define HY_EVAL_REPORT_B HY_BOOTSTRAP_DEFAULT
uint64_t hy_eval_task_seed(const hy_eval_result *r, int32_t task);

#endif
