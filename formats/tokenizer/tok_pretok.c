/* The pre-tokenizer: tokenizer.ggml.pre names a list of regexes (llama.cpp, src/llama-vocab.cpp,
 * llm_tokenizer_bpe) that split text into pieces before BPE. Each regex refines the pieces
 * of the previous one: inside a piece, every match and every gap between matches becomes a
 * piece, and lookaheads see only the piece. Compiled with PCRE2 in UTF + UCP mode;
 * PCRE2_MATCH_INVALID_UTF lets invalid UTF-8 through as unmatched gaps (kept byte-exact). */
#include "tok_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Regex texts from llama.cpp (see docs/tokenizer.md), written here as C strings. */
#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define RE_CONTRACTIONS_CI "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"

static const char *const re_default[] = {"[\\p{P}\\$\\+<=>\\^~\\|]+", RE_GPT2, "\\p{N}+",
                                         "[0-9][0-9][0-9]"};
static const char *const re_gpt2[] = {RE_GPT2};
static const char *const re_starcoder[] = {"\\p{N}", RE_GPT2};
static const char *const re_falcon[] = {"[\\p{P}\\$\\+<=>\\^~\\|`]+", RE_GPT2, "[0-9][0-9][0-9]"};
static const char *const re_llama3[] = {
    RE_CONTRACTIONS_CI "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                       "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};
static const char *const re_qwen2[] = {
    RE_CONTRACTIONS_CI "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                       "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"};

#define PRE(name, re)                                                                              \
    { name, re, (int)(sizeof re / sizeof re[0]) }
/* Names as llama.cpp's vocabulary loader maps them (tokenizer_pre == "..."). The e2e test
 * checks smollm, gpt-2, default, falcon, llama-bpe and qwen2 against llama.cpp. */
static const hy_tok_pre pres[] = {
    PRE("default", re_default),     PRE("smollm", re_starcoder),
    PRE("starcoder", re_starcoder), PRE("refact", re_starcoder),
    PRE("command-r", re_starcoder), PRE("codeshell", re_starcoder),
    PRE("exaone", re_starcoder),    PRE("minerva-7b", re_starcoder),
    PRE("gpt-2", re_gpt2),          PRE("mpt", re_gpt2),
    PRE("olmo", re_gpt2),           PRE("jais", re_gpt2),
    PRE("phi-2", re_gpt2),          PRE("falcon", re_falcon),
    PRE("llama-bpe", re_llama3),    PRE("llama3", re_llama3),
    PRE("qwen2", re_qwen2),         PRE("stablelm2", re_qwen2),
};
static const size_t n_pres = sizeof pres / sizeof pres[0];

const hy_tok_pre *hy_tok_pre_find(const char *name) {
    for (size_t i = 0; i < n_pres; i++)
        if (!strcmp(pres[i].name, name)) return &pres[i];
    return NULL;
}

void hy_tok_pre_names(char *buf, size_t cap) {
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n_pres && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? ", " : "", pres[i].name);
}

const char *hy_tok_pre_for_regex(const char *re) {
    static const char hf_ci[] = "(?i:'s|'t|'re|'ve|'m|'ll|'d)";
    char buf[1024];
    const char *p = strstr(re, hf_ci);
    if (p && strlen(re) + sizeof RE_CONTRACTIONS_CI < sizeof buf) {
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(p - re), re, RE_CONTRACTIONS_CI,
                 p + sizeof hf_ci - 1);
        re = buf;
    }
    for (size_t i = 0; i < sizeof pres / sizeof pres[0]; i++)
        if (pres[i].n_regex == 1 && !strcmp(pres[i].regexes[0], re)) return pres[i].name;
    return NULL;
}

hy_status hy_tok_pre_compile(hy_tokenizer *t) {
    for (int i = 0; i < t->pre->n_regex; i++) {
        int err;
        PCRE2_SIZE at;
        t->re[i] = pcre2_compile((PCRE2_SPTR)t->pre->regexes[i], PCRE2_ZERO_TERMINATED,
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &err, &at, NULL);
        if (!t->re[i]) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            return hy_fail(HY_EUNSUPPORTED,
                           "pre-tokenizer '%s': regex %d does not compile at offset %zu: %s",
                           t->pre->name, i, (size_t)at, (const char *)msg);
        }
        pcre2_jit_compile(t->re[i],
                          PCRE2_JIT_COMPLETE); /* optional: falls back to the interpreter */
    }
    return HY_OK;
}

hy_status hy_tok_offsets_push(hy_tok_offsets *a, size_t x) {
    if (a->n == a->cap) {
        int64_t cap = a->cap ? a->cap * 2 : 64;
        size_t *v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v)
            return hy_fail(HY_ENOMEM, "out of memory growing the piece list to %lld",
                           (long long)cap);
        a->v = v, a->cap = cap;
    }
    a->v[a->n++] = x;
    return HY_OK;
}

hy_status hy_tok_ids_push(hy_tok_ids *a, hy_token x) {
    if (a->n == a->cap) {
        int64_t cap = a->cap ? a->cap * 2 : 64;
        hy_token *v = realloc(a->v, (size_t)cap * sizeof *v);
        if (!v)
            return hy_fail(HY_ENOMEM, "out of memory growing the token list to %lld",
                           (long long)cap);
        a->v = v, a->cap = cap;
    }
    a->v[a->n++] = x;
    return HY_OK;
}

/* Splits text[start..end) with one regex, appending piece ends to out. */
static hy_status split_one(const pcre2_code *re, pcre2_match_data *md, const char *text,
                           size_t start, size_t end, hy_tok_offsets *out) {
    const PCRE2_SPTR subj = (PCRE2_SPTR)(text + start);
    const size_t n = end - start;
    size_t last = 0, pos = 0;
    hy_status st = HY_OK;
    while (pos < n && st == HY_OK) {
        int rc = pcre2_match(re, subj, n, pos, 0, md, NULL);
        if (rc < 0) {
            if (rc == PCRE2_ERROR_NOMATCH) break;
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(rc, msg, sizeof msg);
            return hy_fail(HY_EFORMAT, "pre-tokenizer: regex match failed at byte %zu: %s",
                           start + pos, (const char *)msg);
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t m0 = ov[0], m1 = ov[1];
        if (m1 == m0) { /* an empty match splits nothing: step over one character */
            uint32_t c;
            int k = hy_tok_utf8_next(subj + m0, n - m0, &c);
            pos = m0 + (k ? (size_t)k : 1);
            continue;
        }
        if (m0 > last) st = hy_tok_offsets_push(out, start + m0);
        if (st == HY_OK) st = hy_tok_offsets_push(out, start + m1);
        last = pos = m1;
    }
    if (st == HY_OK && last < n) st = hy_tok_offsets_push(out, end);
    return st;
}

hy_status hy_tok_pretokenize(const hy_tokenizer *t, const char *text, size_t len,
                             hy_tok_offsets *out) {
    if (len == 0) return HY_OK;
    hy_tok_offsets cur = {0}, next = {0};
    hy_status st = hy_tok_offsets_push(&cur, len);
    pcre2_match_data *md = NULL;
    for (int r = 0; r < t->pre->n_regex && st == HY_OK; r++) {
        pcre2_match_data_free(md);
        md = pcre2_match_data_create_from_pattern(t->re[r], NULL);
        if (!md) {
            st = hy_fail(HY_ENOMEM, "pre-tokenizer: out of memory for match data");
            break;
        }
        next.n = 0;
        size_t start = 0;
        for (int64_t i = 0; i < cur.n && st == HY_OK; i++) {
            st = split_one(t->re[r], md, text, start, cur.v[i], &next);
            start = cur.v[i];
        }
        hy_tok_offsets tmp = cur;
        cur = next, next = tmp;
    }
    pcre2_match_data_free(md);
    for (int64_t i = 0; i < cur.n && st == HY_OK; i++)
        st = hy_tok_offsets_push(out, cur.v[i]);
    free(cur.v), free(next.v);
    return st;
}

hy_status hy_tokenizer_split(const hy_tokenizer *t, const char *text, size_t len, size_t **ends,
                             int64_t *n_pieces) {
    if (!t || (!text && len) || !ends || !n_pieces)
        return hy_fail(HY_EINVAL, "hy_tokenizer_split: NULL argument");
    hy_tok_offsets out = {0};
    hy_status st = hy_tok_pretokenize(t, text, len, &out);
    if (st) {
        free(out.v);
        return st;
    }
    if (!out.v) out.v = malloc(sizeof(size_t));
    if (!out.v) return hy_fail(HY_ENOMEM, "hy_tokenizer_split: out of memory");
    *ends = out.v;
    *n_pieces = out.n;
    return HY_OK;
}
