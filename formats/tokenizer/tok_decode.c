/* Decoding: a token's bytes are precomputed at load (tok_vocab.c), so decoding is copying.
 * The stream decoder holds back only the bytes of a UTF-8 character that is still
 * incomplete and could become valid, so a consumer printing as tokens arrive never sees a
 * split character, and the bytes seen in total equal the whole decode. */
#include "tok_internal.h"

#include <stdlib.h>
#include <string.h>

hy_status hy_tokenizer_decode(const hy_tokenizer *t, const hy_token *ids, int64_t n, unsigned flags,
                              char **out, size_t *out_len) {
    if (!t || (!ids && n) || n < 0 || !out || !out_len)
        return hy_fail(HY_EINVAL, "hy_tokenizer_decode: bad argument");
    *out = NULL, *out_len = 0;
    size_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->n_vocab)
            return hy_fail(
                HY_ERANGE,
                "hy_tokenizer_decode: ids[%lld] = %d is outside the vocabulary of %lld tokens",
                (long long)i, (int)ids[i], (long long)t->n_vocab);
        size_t l;
        hy_tokenizer_token_bytes(t, ids[i], flags, &l);
        total += l;
    }
    char *buf = hy_malloc(total + 1, "decoded text");
    if (!buf) return HY_ENOMEM;
    size_t off = 0;
    for (int64_t i = 0; i < n; i++) {
        size_t l;
        const char *p = hy_tokenizer_token_bytes(t, ids[i], flags, &l);
        memcpy(buf + off, p, l);
        off += l;
    }
    buf[off] = '\0';
    *out = buf, *out_len = off;
    return HY_OK;
}

struct hy_tok_stream {
    const hy_tokenizer *t;
    unsigned flags;
    unsigned char pending[4];
    size_t n_pending;
    char *buf;
    size_t cap;
};

hy_status hy_tok_stream_create(const hy_tokenizer *t, unsigned flags, hy_tok_stream **out) {
    if (!t || !out) return hy_fail(HY_EINVAL, "hy_tok_stream_create: NULL argument");
    hy_tok_stream *s = hy_calloc(1, sizeof *s, "token stream");
    if (!s) return HY_ENOMEM;
    s->t = t, s->flags = flags;
    *out = s;
    return HY_OK;
}

void hy_tok_stream_free(hy_tok_stream *s) {
    if (!s) return;
    free(s->buf);
    free(s);
}

/* Length of the UTF-8 sequence a lead byte announces; 0 for bytes that cannot lead. */
static size_t lead_len(unsigned char c) {
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if (c >= 0xF0 && c <= 0xF4) return 4;
    return 0;
}

/* Whether p[0..n) (n < lead_len) can still be completed into a valid character. */
static bool valid_prefix(const unsigned char *p, size_t n) {
    size_t need = lead_len(p[0]);
    if (need < 2 || n >= need) return false;
    for (size_t i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80) return false;
    if (n >= 2) { /* second-byte limits that rule out overlongs, surrogates, > U+10FFFF */
        if (p[0] == 0xE0 && p[1] < 0xA0) return false;
        if (p[0] == 0xED && p[1] > 0x9F) return false;
        if (p[0] == 0xF0 && p[1] < 0x90) return false;
        if (p[0] == 0xF4 && p[1] > 0x8F) return false;
    }
    return true;
}

hy_status hy_tok_stream_push(hy_tok_stream *s, hy_token id, const char **text, size_t *len) {
    *text = "", *len = 0;
    if (!s) return hy_fail(HY_EINVAL, "hy_tok_stream_push: NULL stream");
    if (id < 0 || id >= s->t->n_vocab)
        return hy_fail(HY_ERANGE,
                       "hy_tok_stream_push: token %d is outside the vocabulary of %lld tokens",
                       (int)id, (long long)s->t->n_vocab);
    size_t l;
    const char *p = hy_tokenizer_token_bytes(s->t, id, s->flags, &l);
    size_t total = s->n_pending + l;
    if (total + 1 > s->cap) {
        char *nb = realloc(s->buf, total + 1);
        if (!nb)
            return hy_fail(HY_ENOMEM, "hy_tok_stream_push: out of memory (%zu bytes)", total + 1);
        s->buf = nb, s->cap = total + 1;
    }
    memcpy(s->buf, s->pending, s->n_pending);
    memcpy(s->buf + s->n_pending, p, l);
    /* hold back a trailing incomplete character that may still complete (at most 3 bytes) */
    size_t keep = 0;
    for (size_t k = 1; k <= 3 && k <= total; k++) {
        const unsigned char *tail = (const unsigned char *)s->buf + total - k;
        if (lead_len(tail[0]) >= 2) {
            if (valid_prefix(tail, k)) keep = k;
            break;
        }
        if ((tail[0] & 0xC0) != 0x80) break;
    }
    memcpy(s->pending, s->buf + total - keep, keep);
    s->n_pending = keep;
    s->buf[total - keep] = '\0';
    *text = s->buf, *len = total - keep;
    return HY_OK;
}

void hy_tok_stream_flush(hy_tok_stream *s, const char **text, size_t *len) {
    *text = "", *len = 0;
    if (!s || !s->n_pending) return;
    if (s->cap < s->n_pending + 1) {
        char *nb = realloc(s->buf, 8);
        if (!nb) return; /* cannot happen in practice: 8 bytes */
        s->buf = nb, s->cap = 8;
    }
    memcpy(s->buf, s->pending, s->n_pending);
    s->buf[s->n_pending] = '\0';
    *text = s->buf, *len = s->n_pending;
    s->n_pending = 0;
}
