/* Internals shared by the tokenizer's source files: the vocabulary layout (one text arena,
 * one decoded-bytes arena, open-addressing hash tables for text->id and (left,right)->merge),
 * the GPT-2 byte<->unicode map and the compiled pre-tokenizer regexes. Not a public header. */
#ifndef HY_TOK_INTERNAL_H
#define HY_TOK_INTERNAL_H

#include "hy_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#define HY_TOK_MAX_REGEX 4

typedef struct {
    uint64_t key; /* (left << 32) | right; UINT64_MAX marks an empty slot */
    int32_t rank;
    hy_token result;
} hy_tok_merge;

/* A candidate merge of symbols left and right (tok_heap.c): lowest prio pops first,
 * leftmost on ties; a and b are what each merge loop needs to tell a stale pair. */
typedef struct {
    double prio;
    int32_t left, right;
    int32_t a, b;
} hy_tok_pair;
void hy_tok_heap_push(hy_tok_pair *heap, int64_t *n, hy_tok_pair p);
hy_tok_pair hy_tok_heap_pop(hy_tok_pair *heap, int64_t *n);
/* Merges symbol right into its left neighbour in a list linked by prev/next (-1 ends). */
void hy_tok_list_join(int32_t *prev, int32_t *next, int32_t left, int32_t right);

typedef struct {
    const char *name;           /* canonical pre type name */
    const char *const *regexes; /* applied in order, each refining the previous pieces */
    int n_regex;
} hy_tok_pre;

struct hy_tokenizer {
    int64_t n_vocab;
    /* SentencePiece-style ('llama' model): score-ordered merges of '▁'-escaped text with
     * <0xNN> byte fallback (tok_spm.c) instead of byte-level BPE; no merges, no regexes */
    bool spm;
    bool add_space_prefix; /* spm: '▁' before the text and after each special token */
    float *scores;         /* spm: per token, NULL = all 0 */
    char *text_arena;      /* every token text, NUL-terminated */
    size_t *text_off, *text_len;
    char *bytes_arena; /* every token's decoded bytes */
    size_t *bytes_off, *bytes_len;
    uint8_t *type; /* hy_token_type per token */
    uint8_t *eog;  /* 1 for end-of-generation tokens */

    hy_token *text_hash; /* open addressing over text, HY_TOKEN_NONE = empty */
    size_t text_hash_mask;
    hy_tok_merge *merges;
    size_t merge_mask;

    hy_token byte_token[256]; /* token of the single byte b (BPE: its mapped code point;
                                 spm: <0xNN>), HY_TOKEN_NONE if none */
    hy_token *specials;       /* CONTROL / USER_DEFINED / UNKNOWN, longest text first */
    int64_t n_specials;

    hy_token bos, eos, eot, eom, unk, pad;
    bool add_bos, add_eos;
    char *chat_template;
    size_t chat_template_len;

    const hy_tok_pre *pre;
    pcre2_code *re[HY_TOK_MAX_REGEX];
};

/* GPT-2 byte-level map: byte b <-> one code point, written as UTF-8 (1 or 2 bytes). */
void hy_tok_byte_to_utf8(uint8_t b, char out[2], int *n);
/* Code point -> byte for the code points the map produces; -1 for any other. */
int hy_tok_cpt_to_byte(uint32_t cpt);
/* Decodes one UTF-8 sequence at s[0..n); returns its length (0 if invalid) and the code
 * point. Strict: no overlongs, surrogates or values above U+10FFFF. */
int hy_tok_utf8_next(const unsigned char *s, size_t n, uint32_t *cpt);

uint64_t hy_tok_hash_bytes(const char *s, size_t n);
hy_token hy_tok_lookup(const hy_tokenizer *t, const char *s, size_t n);
const hy_tok_merge *hy_tok_merge_find(const hy_tokenizer *t, hy_token left, hy_token right);

/* Pre-tokenizer table lookup by tokenizer.ggml.pre name; NULL when unknown. */
const hy_tok_pre *hy_tok_pre_find(const char *name);
/* Comma-separated list of known names, for error messages (truncated to cap). */
void hy_tok_pre_names(char *buf, size_t cap);
hy_status hy_tok_pre_compile(hy_tokenizer *t);
/* The table's name for a pre-tokenizer of one regex as Hugging Face writes it (its
 * "(?i:'s|...)" contraction group read as the table's case classes); NULL when none. */
const char *hy_tok_pre_for_regex(const char *re);

/* Growable arrays used while encoding. */
typedef struct {
    size_t *v;
    int64_t n, cap;
} hy_tok_offsets;
typedef struct {
    hy_token *v;
    int64_t n, cap;
} hy_tok_ids;
hy_status hy_tok_offsets_push(hy_tok_offsets *a, size_t x);
/* Grows the encoder's scratch buffer to at least need bytes (what names the caller). */
hy_status hy_tok_scratch(void **scratch, size_t *cap, size_t need, const char *what);
hy_status hy_tok_ids_push(hy_tok_ids *a, hy_token x);

/* Splits text[0..len) into pieces (end offsets appended to out), regex by regex. */
hy_status hy_tok_pretokenize(const hy_tokenizer *t, const char *text, size_t len,
                             hy_tok_offsets *out);
/* Byte-level BPE of one piece; ids appended to out. */
hy_status hy_tok_bpe_piece(const hy_tokenizer *t, const char *piece, size_t len, hy_tok_ids *out,
                           void **scratch, size_t *scratch_cap);

/* SentencePiece-style encoding of one stretch of raw text (no special tokens in it); ids
 * appended to out. space_prefix: prepend '▁' (add_space_prefix at the text's start or
 * after a special token). */
hy_status hy_tok_spm_fragment(const hy_tokenizer *t, const char *text, size_t len,
                              bool space_prefix, hy_tok_ids *out, void **scratch,
                              size_t *scratch_cap);

/* A growable NUL-terminated text buffer for the chat renderers; oom set (and the text kept as
 * it was) when an append cannot grow it. */
typedef struct {
    char *p;
    size_t n, cap;
    bool oom;
} hy_sbuf;
void hy_sbuf_put(hy_sbuf *b, const char *s, size_t n);

/* Gemma's turn format (chat_gemma.c), one renderer for two sources of truth:
 * HY_GEMMA_TEMPLATE renders as Gemma 3's Jinja template does (only messages[0] may be the
 * system message, kept untrimmed; roles must alternate user/assistant from there, else
 * HY_EINVAL; no messages is HY_EINVAL; contents trimmed of Python's whitespace);
 * HY_GEMMA_LLAMA_CPP as llama.cpp's built-in "gemma" template (system messages anywhere,
 * trimmed and merged into the next user turn; any order of roles; C whitespace). bos (may be
 * NULL) is written first; *out malloc'd. */
typedef enum { HY_GEMMA_TEMPLATE, HY_GEMMA_LLAMA_CPP } hy_gemma_dialect;
hy_status hy_chat_gemma_render(const hy_chat_msg *msgs, size_t n, bool add_generation_prompt,
                               const char *bos, hy_gemma_dialect d, char **out);

#endif
