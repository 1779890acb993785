/* BERT encoders: config.json, the weights (pointers into mapped safetensors, like
 * seam_model), the sentence-transformers folder layout, and the forward pass
 * (src/graph/bert.c). */
#ifndef SEAM_BERT_H
#define SEAM_BERT_H

#include "format/safetensors.h"
#include "kernels/kernels.h"
#include "model/config.h"
#include "model/model.h"
#include "seam.h"
#include "seam_encoder.h"
#include "util/pool.h"

typedef struct {
    int hidden, n_layer, n_head, intermediate;
    int max_positions, vocab_size, type_vocab_size;
    int pad_token_id;
    float layer_norm_eps;
    seam_activation activation;
} bert_config;

typedef struct {
    seam_mat q_w, k_w, v_w;     /* Linear [C, C] */
    const float *q_b, *k_b, *v_b;
    seam_mat ao_w;              /* attention.output.dense [C, C] */
    const float *ao_b, *ln1_w, *ln1_b;
    seam_mat in_w;              /* intermediate.dense [I, C] */
    const float *in_b;
    seam_mat out_w;             /* output.dense [C, I] */
    const float *out_b, *ln2_w, *ln2_b;
} bert_layer;

typedef struct {
    bert_config cfg;
    st_file *files;
    size_t n_files;
    seam_mat word, pos, type;   /* [V, C], [P, C], [TV, C] */
    const float *emb_ln_w, *emb_ln_b;
    bert_layer *layers;
    seam_mat pool_w;            /* pooler.dense [C, C]; data NULL when absent */
    const float *pool_b;
    seam_dtype weight_dtype;
    size_t weight_bytes;
    void **owned;               /* f32 vectors and aligned copies made at open */
    size_t n_owned, cap_owned;
} bert_model;

/* Parses and validates a BERT config.json held in text[0..len). */
seam_status bert_config_parse(const char *text, size_t len, bert_config *out, seam_error *err);
/* config.json + model.safetensors (or a sharded index) of a BertModel folder. */
seam_status bert_model_open(const char *dir, bert_model **out, seam_error *err);
void bert_model_close(bert_model *m);

/* What a sentence-transformers folder asks for around the transformer. */
typedef struct {
    char *model_dir;        /* folder of the Transformer module (malloc'd) */
    seam_pooling pooling;
    int normalize;
    int is_plain;           /* no modules.json */
    int max_seq_length;     /* sentence_bert_config.json; 0 when absent */
    int tok_max_length;     /* tokenizer_config.json model_max_length; 0 when absent */
    int do_lower_case;      /* sentence_bert_config.json asks to lowercase the text */
    int pool_dim;           /* Pooling's embedding dimension; 0 when absent */
} bert_st_config;

seam_status bert_st_parse(const char *dir, bert_st_config *out, seam_error *err);
void bert_st_free(bert_st_config *c);
/* The 1_Pooling/config.json part alone, from text[0..len). */
seam_status bert_pooling_parse(const char *text, size_t len, seam_pooling *mode, int *dim, seam_error *err);

/* ---- src/graph/bert.c: the forward pass */

typedef struct bert_ctx bert_ctx;

/* Buffers for max_batch sequences of max_seq tokens, and a thread pool of n_threads
 * (0: physical cores). */
seam_status bert_ctx_new(const bert_model *m, int max_batch, int max_seq, int n_threads, seam_precision precision, bert_ctx **out,
                         seam_error *err);
/* The same with the kernel tables given: k for every op, and few (when non-NULL and not k)
 * for the Linear layers' products of fewer than 16 rows, with its own packed copy of the
 * weights. bert_ctx_new passes AMX's table and AVX-512's at "high" precision on AMX CPUs. */
seam_status bert_ctx_new_tables(const bert_model *m, int max_batch, int max_seq, int n_threads, const seam_kernels *k,
                                const seam_kernels *few, bert_ctx **out, seam_error *err);
/* The kernel table the context runs on: every op, and the Linear products of 16 rows or more
 * (its name says whether those use AMX; fewer rows run on the context's `few` table). */
const seam_kernels *bert_ctx_kernels(const bert_ctx *c);
void bert_ctx_free(bert_ctx *c);
int bert_ctx_threads(const bert_ctx *c);

/* ids, mask [B, T] with B <= max_batch, T <= max_seq. hidden [B, T, C] receives the last
 * hidden state (may be NULL: the context's own buffer is used, see bert_ctx_hidden);
 * pooler [B, C] may be NULL. */
seam_status bert_forward(bert_ctx *c, const int32_t *ids, const int32_t *mask, int B, int T, float *hidden, float *pooler,
                         seam_error *err);
/* The last hidden state of the latest bert_forward that was given hidden == NULL. */
const float *bert_ctx_hidden(const bert_ctx *c);

#endif
