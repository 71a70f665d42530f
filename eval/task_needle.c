/* eval/task_needle: the needle-in-a-haystack family (after RULER's NIAH tasks, Hsieh et al.
 * 2024, arXiv 2404.06654): passkey, niah, multikey, multivalue, multiquery. A needle is one
 * sentence tying a key ("adjective-noun" from the lists below) to a number; the asked
 * needle sits at params.depth, the other needles at random places. Everything the answer
 * depends on is drawn before the length is fitted, so a smaller target keeps the answers. */
#include "task_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const adjectives[] = {
    "amber",  "ancient", "bitter", "blue",   "bold",    "brave",   "bright",  "broad",  "busy",
    "calm",   "clever",  "cold",   "cosy",   "crisp",   "curious", "dark",    "deep",   "distant",
    "dry",    "dusty",   "eager",  "early",  "empty",   "faint",   "fancy",   "fierce", "flat",
    "fresh",  "gentle",  "giant",  "golden", "grand",   "green",   "grey",    "happy",  "heavy",
    "hidden", "hollow",  "humble", "icy",    "idle",    "jolly",   "kind",    "large",  "late",
    "lazy",   "little",  "lively", "lonely", "loud",    "lucky",   "mellow",  "mighty", "misty",
    "modern", "narrow",  "noble",  "odd",    "orange",  "pale",    "patient", "plain",  "polite",
    "proud",  "purple",  "quick",  "quiet",  "rapid",   "rare",    "red",     "rich",   "rough",
    "round",  "royal",   "rusty",  "salty",  "scarlet", "sharp",   "shiny",   "silent", "silver",
    "simple", "sleepy",  "slow",   "small",  "smooth",  "soft",    "sour",    "steady", "strong",
    "sunny",  "sweet",   "swift",  "tall",   "tiny",    "wild",    "warm",    "wise",   "yellow",
    "young"};
static const char *const nouns[] = {
    "anchor",  "apple",   "arrow",  "badger",  "basket",   "beacon",  "bell",    "blanket",
    "bottle",  "bridge",  "bucket", "button",  "cabin",    "candle",  "canyon",  "castle",
    "cellar",  "chair",   "cherry", "cloud",   "comet",    "compass", "copper",  "cottage",
    "crane",   "crystal", "desert", "dolphin", "dragon",   "drum",    "eagle",   "engine",
    "falcon",  "feather", "fiddle", "forest",  "fountain", "garden",  "glacier", "hammer",
    "harbor",  "helmet",  "island", "jacket",  "kettle",   "ladder",  "lantern", "lemon",
    "lagoon",  "meadow",  "mirror", "monkey",  "needle",   "oak",     "ocean",   "orchard",
    "otter",   "paddle",  "parrot", "pebble",  "pepper",   "pillow",  "planet",  "pocket",
    "pond",    "rabbit",  "ribbon", "river",   "rocket",   "saddle",  "sailor",  "shadow",
    "shell",   "signal",  "spider", "spoon",   "stone",    "storm",   "summit",  "teapot",
    "thunder", "tiger",   "timber", "tower",   "tractor",  "trumpet", "tulip",   "tunnel",
    "valley",  "violin",  "wagon",  "walnut",  "whistle",  "willow",  "window",  "wizard",
    "wolf",    "zebra",   "marble", "puzzle"};
#define N_ADJ ((int)(sizeof adjectives / sizeof *adjectives))
#define N_NOUN ((int)(sizeof nouns / sizeof *nouns))

/* n distinct keys. */
static void draw_keys(hy_trng *r, int32_t n, char (*keys)[40]) {
    for (int32_t i = 0; i < n; i++) {
        int dup;
        do {
            snprintf(keys[i], sizeof keys[i], "%s-%s", adjectives[hy_trng_below(r, N_ADJ)],
                     nouns[hy_trng_below(r, N_NOUN)]);
            dup = 0;
            for (int32_t j = 0; j < i; j++)
                dup |= strcmp(keys[i], keys[j]) == 0;
        } while (dup);
    }
}

/* n distinct numbers of `digits` digits (no leading zero). */
static void draw_numbers(hy_trng *r, int32_t n, int digits, char (*nums)[16]) {
    uint64_t lo = 1;
    for (int d = 1; d < digits; d++)
        lo *= 10;
    for (int32_t i = 0; i < n; i++) {
        int dup;
        do {
            snprintf(nums[i], sizeof nums[i], "%llu",
                     (unsigned long long)(lo + hy_trng_below(r, 9 * lo)));
            dup = 0;
            for (int32_t j = 0; j < i; j++)
                dup |= strcmp(nums[i], nums[j]) == 0;
        } while (dup);
    }
}

static const char *const head_passkey =
    "A pass key is hidden in the long text below. Find it and remember it. You will be asked "
    "for it at the end.\n\n";
static const char *const head_numbers =
    "Special numbers are hidden in the long text below, each one given for a key. Remember "
    "them. You will be asked about them at the end.\n\n";

/* "a", "a and b", "a, b and c" */
static hy_status join_keys(hy_tbuf *b, char (*keys)[40], int32_t n) {
    hy_status st = HY_OK;
    for (int32_t i = 0; i < n && !st; i++)
        st = hy_tbuf_fmt(b, "%s%s", i == 0 ? "" : i == n - 1 ? " and " : ", ", keys[i]);
    return st;
}

hy_status hy_task_gen_needle(hy_task_kind kind, const hy_task_params *p, hy_task_sample *out) {
    hy_trng r = hy_trng_make(p->seed, p->index, kind);
    int32_t n_keys = 1, n_vals = 1, n_ask = 1;
    if (kind == HY_TASK_MULTIKEY) n_keys = p->n_keys, n_vals = p->n_keys;
    if (kind == HY_TASK_MULTIQUERY) n_keys = p->n_keys, n_vals = p->n_keys, n_ask = p->n_queries;
    if (kind == HY_TASK_MULTIVALUE) n_vals = p->n_values;
    char(*keys)[40] = calloc((size_t)n_keys, sizeof *keys);
    char(*nums)[16] = calloc((size_t)n_vals, sizeof *nums);
    char **ins = calloc((size_t)n_vals, sizeof *ins);
    char **ans = calloc((size_t)n_vals, sizeof *ans);
    double *at = calloc((size_t)n_vals, sizeof *at);
    hy_tbuf tail = {0}, prefix = {0};
    hy_status st = HY_OK;
    if (!keys || !nums || !ins || !ans || !at) st = hy_fail(HY_ENOMEM, "tasks: %d needles", n_vals);
    if (!st) {
        draw_keys(&r, n_keys, keys);
        draw_numbers(&r, n_vals, kind == HY_TASK_PASSKEY ? 5 : 7, nums);
    }
    /* needle i: key i (one key for multivalue); the first n_ask (or all values) are asked */
    for (int32_t i = 0; i < n_vals && !st; i++) {
        hy_tbuf b = {0};
        st = kind == HY_TASK_PASSKEY
                 ? hy_tbuf_fmt(&b, "The pass key is %s. Remember it: %s is the pass key.", nums[i],
                               nums[i])
                 : hy_tbuf_fmt(&b, "The special number for %s is %s.",
                               keys[kind == HY_TASK_MULTIVALUE ? 0 : i], nums[i]);
        ins[i] = hy_tbuf_take(&b);
        if (!st && !ins[i]) st = HY_ENOMEM;
        ans[i] = nums[i];
    }
    if (!st) {
        double depth = p->depth < 0 ? hy_trng_unit(&r) : p->depth;
        at[0] = depth;
        for (int32_t i = 1; i < n_vals; i++)
            at[i] = hy_trng_unit(&r);
    }
    const int32_t n_answers = kind == HY_TASK_MULTIVALUE ? n_vals : n_ask;
    if (!st) {
        if (kind == HY_TASK_PASSKEY) {
            st = hy_tbuf_fmt(&tail, "\n\nWhat is the pass key hidden in the text above?");
            if (!st) st = hy_tbuf_fmt(&prefix, "The pass key is");
        } else if (n_answers == 1) {
            st = hy_tbuf_fmt(&tail, "\n\nWhat is the special number for %s in the text above?",
                             keys[0]);
            if (!st) st = hy_tbuf_fmt(&prefix, "The special number for %s is", keys[0]);
        } else if (kind == HY_TASK_MULTIVALUE) {
            st = hy_tbuf_fmt(
                &tail, "\n\nWhat are all the special numbers for %s in the text above?", keys[0]);
            if (!st) st = hy_tbuf_fmt(&prefix, "The special numbers for %s are", keys[0]);
        } else {
            st = hy_tbuf_fmt(&tail, "\n\nWhat are the special numbers for ");
            if (!st) st = join_keys(&tail, keys, n_ask);
            if (!st) st = hy_tbuf_fmt(&tail, " in the text above?");
            if (!st) st = hy_tbuf_fmt(&prefix, "The special numbers for ");
            if (!st) st = join_keys(&prefix, keys, n_ask);
            if (!st) st = hy_tbuf_fmt(&prefix, " are");
        }
    }
    if (!st) st = hy_task_set_answers(p, out, n_answers, ans);
    if (!st) {
        out->answer_prefix = hy_tbuf_take(&prefix);
        if (!out->answer_prefix) st = HY_ENOMEM;
    }
    if (!st) {
        hy_task_layout L = {.head = kind == HY_TASK_PASSKEY ? head_passkey : head_numbers,
                            .tail = tail.p,
                            .n_ins = n_vals,
                            .ins = ins,
                            .at = at};
        st = hy_task_fit(p, &r, &L, out);
    }
    for (int32_t i = 0; ins && i < n_vals; i++)
        free(ins[i]);
    free(keys), free(nums), free(ins), free(ans), free(at);
    hy_tbuf_free(&tail), hy_tbuf_free(&prefix);
    return st;
}
