/* BERT WordPiece tokenizer, as Hugging Face tokenizers runs it: BertNormalizer (clean text,
 * CJK ideographs split, strip accents, lowercase), BertPreTokenizer (whitespace and
 * punctuation split), greedy longest-match-first WordPiece with a "##" continuation
 * prefix, and the post-processor's [CLS] ... [SEP].
 *
 * A wp_tokenizer is immutable after open; wp_encode may run on many threads at once. */
#ifndef SEAM_WORDPIECE_H
#define SEAM_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

#include "seam.h"
#include "util/json.h"

typedef struct wp_tokenizer wp_tokenizer;

/* Normaliser and pre-tokenizer settings. vocab.txt alone means bert-base-uncased's. */
typedef struct {
    int clean_text, handle_chinese_chars, strip_accents, lowercase;
    int split_words; /* BertPreTokenizer; 0 when tokenizer.json has no pre-tokenizer */
    int max_input_chars_per_word;
} wp_settings;

/* tokenizer.json whose model.type is "WordPiece". */
seam_status wp_open_json(const char *path, wp_tokenizer **out, seam_error *err);
/* The same from an already parsed tokenizer.json (path only names it in messages). */
seam_status wp_from_json(const json_value *root, const char *path, wp_tokenizer **out, seam_error *err);
/* vocab.txt (one token a line, id = line number) with BERT uncased defaults; settings,
 * when non-NULL, replaces those defaults. [PAD] [UNK] [CLS] [SEP] [MASK] present in the
 * vocabulary are special tokens, and the sequence is wrapped in [CLS] ... [SEP]. */
seam_status wp_open_vocab(const char *path, const wp_settings *settings, wp_tokenizer **out, seam_error *err);
/* A model folder: tokenizer.json when present, else vocab.txt (honouring do_lower_case,
 * strip_accents and tokenize_chinese_chars of tokenizer_config.json when it has them). */
seam_status wp_open_dir(const char *dir, wp_tokenizer **out, seam_error *err);
void wp_close(wp_tokenizer *t);

/* Encodes text[0..len) (UTF-8; ill-formed bytes count as U+FFFD, which clean_text drops).
 * With add_special the post-processor's tokens wrap the result. max_len > 0 truncates the
 * text's tokens so the whole result holds at most max_len ids (Hugging Face's
 * truncation=True, max_length=max_len); *truncated (may be NULL) says whether it did.
 * ids[0..cap) are filled and *n_ids counts all ids produced: SEAM_ERR_RANGE when cap was
 * too small, *n_ids then being the size needed. */
seam_status wp_encode(const wp_tokenizer *t, const char *text, size_t len, int add_special, size_t max_len,
                      int32_t *ids, size_t cap, size_t *n_ids, int *truncated, seam_error *err);

/* Ids that add_special puts before and after the text. */
size_t wp_special_prefix(const wp_tokenizer *t, const int32_t **ids);
size_t wp_special_suffix(const wp_tokenizer *t, const int32_t **ids);

int wp_vocab_size(const wp_tokenizer *t); /* largest id + 1 */
/* The text of an id (vocabulary or added token), NULL when no token has that id. */
const char *wp_token_text(const wp_tokenizer *t, int32_t id, size_t *len);
/* Id of an exact token text, or -1. */
int32_t wp_token_id(const wp_tokenizer *t, const char *text, size_t len);
int32_t wp_unk_id(const wp_tokenizer *t);
int32_t wp_pad_id(const wp_tokenizer *t); /* [PAD] or -1 */
const wp_settings *wp_get_settings(const wp_tokenizer *t);

/* The WordPiece decoder: tokens joined by spaces, "##" pieces glued to the one before,
 * with the reference's per-token cleanup (" ." -> "." ...) when the file asks for it.
 * skip_special leaves special tokens out. Returns the bytes needed (no NUL); writes at
 * most cap bytes, NUL-terminated when cap > 0. Unknown ids are skipped. */
size_t wp_decode(const wp_tokenizer *t, const int32_t *ids, size_t n, int skip_special, char *out, size_t cap);

/* ---- generated Unicode tables (bert_unicode_tables.c, tools/gen_bert_tables.py) */

enum { WPU_REMOVE = 1, WPU_SPACE = 2, WPU_PUNCT = 4, WPU_MN = 8 };

typedef struct {
    uint32_t lo, hi;
    uint8_t v;
} wpu_range;

typedef struct {
    uint32_t cp;
    uint16_t off;
    uint8_t len;
} wpu_map;

extern const char wpu_unicode_version[];
extern const wpu_range wpu_classes[]; /* v: WPU_* flags */
extern const size_t wpu_n_classes;
extern const wpu_range wpu_ccc[]; /* v: canonical combining class */
extern const size_t wpu_n_ccc;
extern const wpu_map wpu_nfd[];
extern const size_t wpu_n_nfd;
extern const uint32_t wpu_nfd_pool[];
extern const wpu_map wpu_lower[];
extern const size_t wpu_n_lower;
extern const uint32_t wpu_lower_pool[];

#endif
