/* Not a test: prints one generated sample (prompt, answer prefix, answers) and the time it
 * took, for docs/eval.md and for looking at prompts by eye. Run from the source root:
 *   task_print KIND TARGET_TOKENS [SEED [INDEX [DEPTH [REPEATS]]]] */
#include "hy_tasks.h"

#include <stdio.h>
#include <stdlib.h>

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *t = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (t && fread(t, 1, (size_t)n, f) != (size_t)n) free(t), t = NULL;
    if (t) t[n] = 0;
    fclose(f);
    return t;
}

int main(int argc, char **argv) {
    hy_task_kind kind;
    if (argc < 3 || hy_task_parse(argv[1], &kind)) {
        fprintf(stderr, "usage: task_print KIND TARGET [SEED [INDEX [DEPTH [REPEATS]]]]\n%s\n",
                argc < 2 ? "" : hy_last_error());
        return 2;
    }
    const char *model =
        getenv("HY_MODEL") ? getenv("HY_MODEL") : "data/models/SmolLM2-135M-Instruct.Q4_1.gguf";
    const char *text = ".cache/evaltext/devil.txt";
    hy_gguf *g = NULL;
    hy_tokenizer *tok = NULL;
    char *hay = read_text(text);
    if (!hay) {
        fprintf(stderr, "cannot read %s: run scripts/fetch-evaltext\n", text);
        return 1;
    }
    if (hy_gguf_open(model, &g) || hy_tokenizer_from_gguf(g, &tok)) {
        fprintf(stderr, "loading %s: %s\n", model, hy_last_error());
        return 1;
    }
    hy_task_params p = {.target_tokens = atoll(argv[2]),
                        .depth = argc > 5 ? atof(argv[5]) : 0.5,
                        .seed = argc > 3 ? strtoull(argv[3], NULL, 10) : 1,
                        .index = argc > 4 ? atoll(argv[4]) : 0,
                        .haystack = hay,
                        .tok = tok};
    int reps = argc > 6 ? atoi(argv[6]) : 1;
    hy_task_sample s = {0};
    double t0 = hy_now();
    for (int r = 0; r < (reps > 0 ? reps : 1); r++) {
        hy_task_sample_free(&s);
        if (hy_task_generate(kind, &p, &s)) {
            fprintf(stderr, "%s\n", hy_last_error());
            return 1;
        }
    }
    double ms = (hy_now() - t0) * 1e3 / (reps > 0 ? reps : 1);
    printf("%s\n[answer prefix] %s\n[answers]", s.prompt, s.answer_prefix);
    for (int i = 0; i < s.n_answers; i++)
        printf(" %s", s.answers[i]);
    printf("\n[prompt tokens] %lld of %lld, max_new_tokens %d, %.2f ms per sample\n",
           (long long)s.prompt_tokens, (long long)p.target_tokens, s.max_new_tokens, ms);
    hy_task_sample_free(&s);
    hy_tokenizer_free(tok);
    hy_gguf_close(g);
    free(hay);
    return 0;
}
