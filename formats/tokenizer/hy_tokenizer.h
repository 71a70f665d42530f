/* formats/tokenizer: the byte-level BPE tokenizer stored in a GGUF file (tokenizer.ggml.*),
 * with llama.cpp's pre-tokenizer regexes (PCRE2), special-token splitting, byte-exact
 * decoding (whole or streamed a token at a time) and chat-template rendering for the
 * template families we recognise. Algorithm and sources: docs/tokenizer.md. */
#ifndef HY_TOKENIZER_H
#define HY_TOKENIZER_H

#include "hy_common.h"
#include "hy_gguf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int32_t hy_token;
#define HY_TOKEN_NONE ((hy_token)-1)

/* Token types as stored in tokenizer.ggml.token_type (llama.cpp's values). */
typedef enum {
    HY_TOKTYPE_UNDEFINED = 0,
    HY_TOKTYPE_NORMAL = 1,
    HY_TOKTYPE_UNKNOWN = 2,
    HY_TOKTYPE_CONTROL = 3,
    HY_TOKTYPE_USER_DEFINED = 4,
    HY_TOKTYPE_UNUSED = 5,
    HY_TOKTYPE_BYTE = 6,
} hy_token_type;

/* A borrowed byte string (need not be NUL-terminated). */
typedef struct {
    const char *ptr;
    size_t len;
} hy_tok_text;

/* Everything the tokenizer is built from; hy_tokenizer_create copies what it keeps, so the
 * spec (and whatever it points into, e.g. a GGUF mapping) may go away afterwards. */
typedef struct {
    const char *source;        /* names the origin in error messages (file path); may be NULL */
    const char *model;         /* tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama"
                                  (SentencePiece-style: scores, '▁' spaces, <0xNN> byte fallback) */
    const char *pre;           /* tokenizer.ggml.pre; NULL means "default" */
    const hy_tok_text *tokens; /* token texts, in the byte-to-unicode encoded form */
    int64_t n_tokens;
    const int32_t *token_types; /* NULL: every token NORMAL */
    int64_t n_token_types;      /* must equal n_tokens when token_types is set */
    const hy_tok_text *merges;  /* "left right", rank = index (gpt2 only) */
    int64_t n_merges;
    const float *scores;   /* llama: merge priority per token (higher first); NULL = all 0 */
    int64_t n_scores;      /* must equal n_tokens when scores is set */
    bool add_space_prefix; /* llama: '▁' before the text and after each special token */
    hy_token bos_id, eos_id, eot_id, eom_id, unk_id, pad_id; /* HY_TOKEN_NONE when absent */
    bool add_bos, add_eos;
    const char *chat_template; /* may be NULL */
    size_t chat_template_len;
} hy_tokenizer_spec;

/* A spec with every id HY_TOKEN_NONE and everything else zero. */
hy_tokenizer_spec hy_tokenizer_spec_init(void);

typedef struct hy_tokenizer hy_tokenizer;

/* Builds and validates: token types in range, merges "a b" naming existing tokens whose
 * concatenation is a token, special ids inside the vocabulary, a known pre type. */
hy_status hy_tokenizer_create(const hy_tokenizer_spec *spec, hy_tokenizer **out);
/* Reads tokenizer.ggml.* and tokenizer.chat_template from an open GGUF file. */
hy_status hy_tokenizer_from_gguf(const hy_gguf *g, hy_tokenizer **out);
/* Same with another pre-tokenizer than the file names (NULL: the file's); for experiments
 * and for the tests that check each pre type against llama.cpp on one vocabulary. */
hy_status hy_tokenizer_from_gguf_pre(const hy_gguf *g, const char *pre, hy_tokenizer **out);
/* Reads dir/tokenizer.json (and dir/tokenizer_config.json: BOS/EOS, add_bos_token, chat
 * template) of a Hugging Face checkpoint: byte-level BPE models only (docs/tokenizer.md). */
hy_status hy_tokenizer_from_hf_json(const char *dir, hy_tokenizer **out);
/* The tokenizer of a model path: a GGUF file's, or a checkpoint directory's tokenizer.json. */
hy_status hy_tokenizer_open(const char *model_path, hy_tokenizer **out);
void hy_tokenizer_free(hy_tokenizer *t);

/* Encoding flags. */
enum {
    HY_TOK_ADD_SPECIAL = 1u << 0,   /* BOS/EOS where the file asks for them (add_bos_token) */
    HY_TOK_PARSE_SPECIAL = 1u << 1, /* control tokens written in the text become their ids */
};
/* Decoding flags. */
enum {
    HY_TOK_DECODE_SPECIAL = 1u << 0, /* render control tokens' text (else they print nothing) */
};

/* Token ids of text[0..len). Any bytes are accepted: invalid UTF-8 is kept byte for byte
 * (llama.cpp substitutes U+FFFD instead); a byte whose mapped code point is not in the
 * vocabulary is dropped, as llama.cpp drops it. *ids is malloc'd (caller frees; non-NULL
 * even when *n_ids is 0). */
hy_status hy_tokenizer_encode(const hy_tokenizer *t, const char *text, size_t len, unsigned flags,
                              hy_token **ids, int64_t *n_ids);
/* Bytes of ids, NUL-terminated for convenience (*out_len excludes the NUL); caller frees. */
hy_status hy_tokenizer_decode(const hy_tokenizer *t, const hy_token *ids, int64_t n, unsigned flags,
                              char **out, size_t *out_len);
/* Pre-tokenizer only: end offsets of the pieces text splits into (no special tokens). */
hy_status hy_tokenizer_split(const hy_tokenizer *t, const char *text, size_t len, size_t **ends,
                             int64_t *n_pieces);

/* Vocabulary. Getters return NULL / HY_TOKEN_NONE / false for out-of-range ids. */
int64_t hy_tokenizer_n_vocab(const hy_tokenizer *t);
const char *hy_tokenizer_token_text(const hy_tokenizer *t, hy_token id); /* as stored */
/* The bytes the token decodes to (borrowed; len 0 for control tokens without
 * HY_TOK_DECODE_SPECIAL). */
const char *hy_tokenizer_token_bytes(const hy_tokenizer *t, hy_token id, unsigned flags,
                                     size_t *len);
hy_token_type hy_tokenizer_token_type(const hy_tokenizer *t, hy_token id);
hy_token hy_tokenizer_find(const hy_tokenizer *t, const char *text, size_t len);
hy_token hy_tokenizer_bos(const hy_tokenizer *t);
hy_token hy_tokenizer_eos(const hy_tokenizer *t);
hy_token hy_tokenizer_eot(const hy_tokenizer *t);
/* End of generation: eos, eot, eom and the end-of-turn tokens llama.cpp recognises by text. */
bool hy_tokenizer_is_eog(const hy_tokenizer *t, hy_token id);
bool hy_tokenizer_add_bos(const hy_tokenizer *t);
const char *hy_tokenizer_pre(const hy_tokenizer *t);

/* Streaming decode: push one token at a time, get back the bytes that complete UTF-8
 * characters; a character split across tokens is held until its last byte arrives. Bytes
 * that can never form valid UTF-8 pass through at once, so the concatenation of every push
 * and the final flush equals hy_tokenizer_decode of the same ids. */
typedef struct hy_tok_stream hy_tok_stream;
hy_status hy_tok_stream_create(const hy_tokenizer *t, unsigned flags, hy_tok_stream **out);
/* *text is borrowed and valid until the next call on s. */
hy_status hy_tok_stream_push(hy_tok_stream *s, hy_token id, const char **text, size_t *len);
void hy_tok_stream_flush(hy_tok_stream *s, const char **text, size_t *len);
void hy_tok_stream_free(hy_tok_stream *s);

/* Chat templates: the Jinja text is recognised as one of a few known families (whitespace
 * and quoting may differ) and rendered natively; no Jinja engine. */
typedef struct {
    const char *role;
    const char *content;
} hy_chat_msg;
/* Renders with the tokenizer's tokenizer.chat_template ({{ bos_token }} is the BOS token's
 * text); *out is malloc'd, NUL-terminated. A vocabulary without a template but with Gemma's
 * <start_of_turn>/<end_of_turn> gets Gemma's format as llama.cpp's built-in "gemma" template
 * renders it (hy_chat_render_gemma) after the BOS token's text; otherwise HY_ENOTFOUND. */
hy_status hy_chat_render(const hy_tokenizer *t, const hy_chat_msg *msgs, size_t n,
                         bool add_generation_prompt, char **out);
/* Same with an explicit template text and BOS text (NULL renders as nothing, as Jinja renders
 * an undefined bos_token). A conversation the template itself refuses (Gemma 3's, whose
 * roles must alternate) is HY_EINVAL with the template's reason. */
hy_status hy_chat_render_template(const char *tmpl, size_t tmpl_len, const char *bos_token,
                                  const hy_chat_msg *msgs, size_t n, bool add_generation_prompt,
                                  char **out);
/* Gemma's turn format (chat_gemma.c) as llama.cpp's built-in "gemma" template renders it (no
 * BOS); the renderer Gemma 3's recognised template shares, in its lenient form. */
hy_status hy_chat_render_gemma(const hy_chat_msg *msgs, size_t n, bool add_generation_prompt,
                               char **out);
/* Name of the family a template is recognised as ("chatml", "chatml-default-system",
 * "gemma3"). */
hy_status hy_chat_template_family(const char *tmpl, size_t tmpl_len, const char **family);

#endif
