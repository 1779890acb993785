/* Internal structure of seam_tokenizer, shared by the tokenizer front end (tokenizer.c:
 * files, added tokens, decoding) and the model behind it (bpe.c today; a WordPiece model
 * would be a second tok_model_ops next to it). */
#ifndef SEAM_TOKENIZER_INTERNAL_H
#define SEAM_TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "seam.h"
#include "util/json.h"

/* Largest tokenizer file read (tokenizer.json of big multilingual models is ~20 MB). */
#define TOK_MAX_FILE ((size_t)256 << 20)
/* Largest token id accepted; the id table is sized by the largest id, so a hostile file
 * must not be able to ask for gigabytes with one number. */
#define TOK_MAX_ID ((1 << 24) - 1)

/* Where encoding writes: ids[0..cap) are filled, n counts every id produced, so a caller
 * with too small a buffer learns the size it needs. */
typedef struct {
    int32_t *ids;
    size_t cap;
    size_t n;
} tok_sink;

static inline void tok_sink_push(tok_sink *s, int32_t id) {
    if (s->n < s->cap) s->ids[s->n] = id;
    s->n++;
}

/* The model vocabulary: token text (as stored in the file) -> id, open addressing over a
 * string arena. */
typedef struct {
    uint32_t off, len;
    int32_t id;
    uint32_t hash;
} tok_vocab_entry;

typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    tok_vocab_entry *entries;
    size_t n, entries_cap;
    uint32_t *slots; /* entry index + 1; 0 is empty */
    size_t mask;
    int32_t max_id;
} tok_vocab;

/* Returns 1 when added, 0 when the text was already there (*old_id = its id), -1 when out
 * of memory. */
int tok_vocab_add(tok_vocab *v, const char *s, size_t len, int32_t id, int32_t *old_id);
int32_t tok_vocab_find(const tok_vocab *v, const char *s, size_t len);
void tok_vocab_free(tok_vocab *v);

/* An entry of added_tokens: matched in the raw text before the model runs. */
typedef struct {
    char *text;
    size_t len;
    int32_t id;
    unsigned char special, lstrip, rstrip, single_word;
} tok_added;

typedef enum { TOK_MODEL_BPE = 1 } tok_model_kind;

/* How ids turn back into bytes. Byte-level maps each character of a vocabulary entry back
 * to the byte it stands for. */
typedef enum { TOK_DECODE_BYTE_LEVEL = 1 } tok_decoder_kind;

typedef struct {
    tok_model_kind kind;
    const char *name;
    /* Encodes a stretch of text that holds no added token, appending to out. Must be safe
     * to call from several threads on one model. */
    seam_status (*encode)(const void *model, const char *text, size_t len, tok_sink *out,
                          seam_error *err);
    void (*free)(void *model);
    /* Optional decoder for models whose text is not the plain concatenation of token bytes
     * (WordPiece joins words with spaces and glues "##" pieces); NULL for byte-level. Same
     * contract as seam_detokenize. */
    size_t (*decode)(const void *model, const int32_t *ids, size_t n, char *out, size_t cap);
} tok_model_ops;

struct wp_tokenizer;

struct seam_tokenizer {
    /* A WordPiece (BERT) tokenizer carries its own normaliser, pre-tokenizer and
     * templates, so it is delegated to whole rather than plugged in as a model. */
    struct wp_tokenizer *wp;
    const tok_model_ops *ops;
    void *model;
    tok_decoder_kind decoder;
    tok_vocab vocab;

    int32_t n_ids;        /* largest id + 1 */
    uint32_t *tok_off;    /* [n_ids] offset of each id's bytes in tok_bytes */
    uint32_t *tok_len;    /* [n_ids] byte length; UINT32_MAX for an id nothing uses */
    char *tok_bytes;

    tok_added *added;
    size_t n_added, added_cap;
    /* Added tokens grouped by first byte, longest first, for the leftmost-longest match:
     * added[added_order[k]] for k in [added_first[b], added_first[b + 1]). */
    uint32_t *added_order;
    uint32_t added_first[257];
};

/* Short printable rendering of token text for error messages. */
const char *tok_quote(char *buf, size_t cap, const char *s, size_t len);

/* ---- bpe.c */

/* Builds the BPE model from a parsed tokenizer.json (vocabulary already in t->vocab). */
seam_status bpe_load_json(seam_tokenizer *t, const json_value *root, const char *path, seam_error *err);
/* Builds the BPE model from merges.txt text, with GPT-2's defaults for everything else. */
seam_status bpe_load_merges_txt(seam_tokenizer *t, const char *text, size_t len, const char *path,
                                seam_error *err);
/* Byte-level decoding of one vocabulary entry into out (room for len bytes). Returns the
 * byte count, or -1 when some character is outside the byte-level alphabet (the reference
 * then keeps the text as it is). */
long bpe_unmap_bytes(const char *s, size_t len, char *out);

/* ---- pretok.c */

/* End of the GPT-2 pre-token that starts at text[pos] (pos < n). */
size_t gpt2_pretok_next(const char *text, size_t n, size_t pos);
/* Whether the code point at text[i] is White_Space (*clen: its length in bytes). */
int tok_is_space_at(const char *text, size_t n, size_t i, size_t *clen);
/* Whether the code point at text[i] is a word character (letter, number or '_'). */
int tok_is_word_at(const char *text, size_t n, size_t i);

#endif
