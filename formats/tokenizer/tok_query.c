/* Vocabulary queries on a built tokenizer: sizes, token texts, types and bytes, special ids
 * and end-of-generation. Out-of-range ids answer NULL / HY_TOKEN_NONE / false, never fault. */
#include "tok_internal.h"

static bool in_range(const hy_tokenizer *t, hy_token id) {
    return t && id >= 0 && id < t->n_vocab;
}

int64_t hy_tokenizer_n_vocab(const hy_tokenizer *t) {
    return t ? t->n_vocab : 0;
}

const char *hy_tokenizer_token_text(const hy_tokenizer *t, hy_token id) {
    return in_range(t, id) ? t->text_arena + t->text_off[id] : NULL;
}

const char *hy_tokenizer_token_bytes(const hy_tokenizer *t, hy_token id, unsigned flags,
                                     size_t *len) {
    *len = 0;
    if (!in_range(t, id)) return NULL;
    uint8_t ty = t->type[id];
    if (!(flags & HY_TOK_DECODE_SPECIAL) && (ty == HY_TOKTYPE_CONTROL || ty == HY_TOKTYPE_UNKNOWN))
        return t->bytes_arena + t->bytes_off[id];
    *len = t->bytes_len[id];
    return t->bytes_arena + t->bytes_off[id];
}

hy_token_type hy_tokenizer_token_type(const hy_tokenizer *t, hy_token id) {
    return in_range(t, id) ? (hy_token_type)t->type[id] : HY_TOKTYPE_UNDEFINED;
}

hy_token hy_tokenizer_find(const hy_tokenizer *t, const char *text, size_t len) {
    return t && text ? hy_tok_lookup(t, text, len) : HY_TOKEN_NONE;
}

hy_token hy_tokenizer_bos(const hy_tokenizer *t) {
    return t ? t->bos : HY_TOKEN_NONE;
}
hy_token hy_tokenizer_eos(const hy_tokenizer *t) {
    return t ? t->eos : HY_TOKEN_NONE;
}
hy_token hy_tokenizer_eot(const hy_tokenizer *t) {
    return t ? t->eot : HY_TOKEN_NONE;
}
bool hy_tokenizer_is_eog(const hy_tokenizer *t, hy_token id) {
    return in_range(t, id) && t->eog[id];
}
bool hy_tokenizer_add_bos(const hy_tokenizer *t) {
    return t && t->add_bos;
}
const char *hy_tokenizer_pre(const hy_tokenizer *t) {
    return t ? t->pre->name : NULL;
}
