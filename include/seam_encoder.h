/* seam — sentence embeddings with BERT-family encoders (all-MiniLM-L6-v2, bge-small,
 * e5-small ...), matching sentence-transformers.
 *
 * Conventions are those of seam.h: calls return a seam_status and fill an optional
 * seam_error; open/close pairs; row-major float32 arrays written with their shapes, here
 * [B, T, C] for B sequences of T tokens of C channels.
 *
 * An encoder holds the model (memory-mapped), its WordPiece tokenizer and every scratch
 * buffer a forward pass needs, sized once at open for max_batch sequences of
 * max_seq_length tokens. One encoder is used by one thread at a time; open one per thread
 * to embed in parallel (the weights are mapped, so they are shared by the OS). */
#ifndef SEAM_ENCODER_H
#define SEAM_ENCODER_H

#include <stddef.h>
#include <stdint.h>

#include "seam.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct seam_encoder seam_encoder;

typedef enum {
    SEAM_POOL_MEAN = 1, /* mean of the token vectors where attention_mask is 1 */
    SEAM_POOL_CLS,      /* the first token's vector ([CLS]) */
    SEAM_POOL_MAX,      /* per-channel maximum over the unmasked tokens */
    SEAM_POOL_LASTTOKEN /* the last unmasked token's vector */
} seam_pooling;

/* "mean", "cls", "max", "lasttoken" (the sentence-transformers names). */
const char *seam_pooling_name(seam_pooling p);

/* How the encoder's Linear layers may compute an f32 matrix product (PyTorch's
 * set_float32_matmul_precision names). */
typedef enum {
    SEAM_PRECISION_DEFAULT = 0, /* HIGH, unless SEAM_PRECISION=highest is in the environment */
    SEAM_PRECISION_HIGH,        /* where the CPU has AMX-BF16 tiles (Intel Sapphire Rapids and
                                 * later): each product of 16 rows or more as three bf16
                                 * products with f32 sums,
                                 * ~16 significant bits, relative error ~1e-5 (the Linear
                                 * layers 2-3x faster); elsewhere the same as HIGHEST */
    SEAM_PRECISION_HIGHEST      /* IEEE f32 multiply-adds everywhere */
} seam_precision;

/* "high", "highest". */
const char *seam_precision_name(seam_precision p);

typedef struct {
    int max_batch;            /* sequences per forward pass; 0: 32 */
    int max_seq_length;       /* 0: the model's (see seam_encoder_info); may only lower it */
    int n_threads;            /* 0: the machine's physical cores; 1: no worker threads */
    seam_precision precision; /* 0: SEAM_PRECISION_DEFAULT */
} seam_encoder_params;

/* Opens a model folder:
 *  - a sentence-transformers folder (modules.json): a Transformer module (config.json +
 *    model.safetensors of a BertModel, tokenizer.json or vocab.txt, optional
 *    sentence_bert_config.json), a Pooling module (its config.json in the newer
 *    "pooling_mode": "mean" | "cls" | "max" | "lasttoken" form or the older
 *    "pooling_mode_mean_tokens": true ... form) and an optional Normalize module;
 *  - a plain BertModel folder (no modules.json): mean pooling and L2 normalisation are
 *    assumed, and seam_encoder_info's is_plain says so.
 * Weight keys are read with and without the "bert." prefix; F32, F16 and BF16 weights.
 * params may be NULL for the defaults. */
seam_status seam_encoder_open(const char *dir, const seam_encoder_params *params, seam_encoder **out, seam_error *err);
void seam_encoder_close(seam_encoder *e);

typedef struct {
    int hidden;                  /* C: width of the hidden states and of an embedding */
    int n_layer, n_head, intermediate, vocab_size;
    int max_position_embeddings;
    int max_seq_length;          /* longest input in tokens, [CLS] and [SEP] included:
                                  * sentence_bert_config.json's max_seq_length, else the
                                  * smaller of max_position_embeddings and the tokenizer's
                                  * model_max_length, as sentence-transformers decides */
    int max_batch, n_threads;
    seam_pooling pooling;
    int normalize;               /* embeddings are L2-normalised */
    int has_pooler;              /* pooler.dense is present (seam_encoder_forward_ids) */
    int is_plain;                /* no modules.json: mean + normalise were assumed */
    seam_dtype weight_dtype;
    size_t weight_bytes;
    seam_precision precision;    /* HIGH or HIGHEST, as the Linear layers really run: HIGH only
                                 * where it differs from HIGHEST (the CPU has AMX); products of
                                 * fewer than 16 rows then still run in f32 (AVX-512 streams
                                 * the weights faster than the tiles for so few rows) */
    const char *kernels;         /* the kernel table: "amx", "avx512", "avx2", "neon", ... */
} seam_encoder_info;

const seam_encoder_info *seam_encoder_get_info(const seam_encoder *e);

enum {
    SEAM_EMBED_DEFAULT = 0,
    SEAM_EMBED_NO_NORMALIZE = 1, /* skip L2 normalisation even when the model has it */
    SEAM_EMBED_NORMALIZE = 2,    /* L2-normalise even when the model does not */
    SEAM_EMBED_NO_TRUNCATE = 4   /* an input longer than max_seq_length is an error (RANGE) */
};

typedef struct {
    size_t n_truncated; /* inputs cut to max_seq_length tokens */
    size_t n_tokens;    /* tokens embedded, specials included */
    size_t n_padded;    /* padding positions computed (cost of batching) */
} seam_embed_stats;

/* Embeds n texts into out [n, hidden], in the order given: tokenisation, truncation to
 * max_seq_length, batches of similar length (sorted by token count, padded to the longest
 * in the batch), the forward pass, pooling and (unless flags say otherwise) the model's
 * normalisation. texts[i] is UTF-8; lens[i] its length in bytes, or lens NULL for
 * NUL-terminated texts. stats may be NULL. */
seam_status seam_encoder_embed(seam_encoder *e, const char *const *texts, const size_t *lens, size_t n, float *out,
                               unsigned flags, seam_embed_stats *stats, seam_error *err);

/* Token ids of one text as the encoder feeds them: [CLS] ... [SEP], cut to max_seq_length
 * (*truncated, may be NULL, says whether it was). Fills ids[0..cap); SEAM_ERR_RANGE when cap
 * is too small, *n_ids then being the count needed. */
seam_status seam_encoder_tokenize(const seam_encoder *e, const char *text, size_t len, int32_t *ids, size_t cap,
                                  size_t *n_ids, int *truncated, seam_error *err);

/* The transformer alone, on B sequences of T ids (token_type_ids all 0). mask [B, T] is the
 * attention mask (1: token, 0: padding; padded keys get no attention weight, padded rows are
 * still computed, as transformers does). last_hidden [B, T, C] may be NULL; pooler [B, C]
 * (tanh(dense(hidden of token 0)), BertModel's pooler_output) may be NULL and needs
 * has_pooler. Any B; T at most max_seq_length. */
seam_status seam_encoder_forward_ids(seam_encoder *e, const int32_t *ids, const int32_t *mask, int B, int T,
                                     float *last_hidden, float *pooler, seam_error *err);

/* Pooling as sentence-transformers computes it, from hidden [B, T, C] and mask [B, T]
 * into out [B, C]; normalize L2-normalises each row (x / max(|x|, 1e-12)). Mean over an
 * all-zero mask gives zeros, max gives -1e9, as the reference does. */
seam_status seam_encoder_pool(seam_pooling mode, int normalize, const float *hidden, const int32_t *mask, int B, int T,
                              int C, float *out, seam_error *err);

#ifdef __cplusplus
}
#endif
#endif
