/* seam — small transformer inference on CPUs, split across the network.
 *
 * Public C API. Conventions:
 *  - Every call that can fail returns a seam_status and, when `err` is non-NULL, fills it
 *    with a one-line message naming the problem. Nothing is printed from inside the library.
 *  - Objects come in open/close (or new/free) pairs; close/free accept NULL.
 *  - Shapes are written as [T, C]: T tokens (rows), C channels, row-major float32.
 *  - A model is immutable after open and may be shared by threads; a seam_context (KV cache
 *    and scratch) belongs to one thread at a time.
 *  - Forward passes run part of their work on the calling thread, in kernels that keep their
 *    tiles on the stack (up to ~160 KiB per frame on x86-64): call them from threads with at
 *    least 512 KiB of stack (glibc's default is 8 MiB; musl's 128 KiB is too small).
 */
#ifndef SEAM_H
#define SEAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SEAM_VERSION "0.1.0"

typedef enum {
    SEAM_OK = 0,
    SEAM_ERR_IO,          /* file missing or unreadable */
    SEAM_ERR_FORMAT,      /* malformed model, JSON, tokenizer or message */
    SEAM_ERR_UNSUPPORTED, /* well-formed but uses a feature seam does not implement */
    SEAM_ERR_NOMEM,
    SEAM_ERR_ARG,         /* bad argument from the caller */
    SEAM_ERR_RANGE,       /* context overflow, id out of vocabulary, layer out of range */
    SEAM_ERR_NET          /* network failure (hub download, split server) */
} seam_status;

typedef struct {
    seam_status code;
    char message[512];
} seam_error;

/* A short constant name for a status ("format error", ...). */
const char *seam_status_name(seam_status s);
const char *seam_version(void);

/* ------------------------------------------------------------------ model */

typedef struct seam_model seam_model;

typedef enum { SEAM_ARCH_GPT2 = 1 } seam_arch;

typedef enum { SEAM_DTYPE_F32 = 0, SEAM_DTYPE_F16, SEAM_DTYPE_BF16 } seam_dtype;

typedef struct {
    seam_arch arch;
    int n_layer;      /* layers of the full model */
    int n_embd;       /* C */
    int n_head;
    int n_inner;      /* MLP width (4*C when config says null) */
    int n_positions;  /* maximum context */
    int vocab_size;
    float layer_norm_epsilon;
    int scale_attn_weights;              /* divide scores by sqrt(head_dim) */
    int scale_attn_by_inverse_layer_idx; /* also divide by (layer index + 1) */
    int eos_token_id;                    /* -1 when none */
    int bos_token_id;                    /* -1 when none */
    /* Which parts this folder holds. A full model has [0, n_layer) with embed and head;
     * a shard (see `seam split`) may hold fewer. */
    int layer_begin, layer_end;
    int has_embed; /* wte + wpe */
    int has_head;  /* ln_f + lm_head (lm_head may be tied to wte) */
    seam_dtype weight_dtype; /* dtype of the block weights as stored (plain ones: see weight_quant) */
    size_t weight_bytes;     /* bytes of tensor data mapped */
    /* How the block weights are stored: plain in weight_dtype, or quantised by `seam quantize`
     * (README "Quantised format"), when weight_dtype only names the dtype of the rest. */
    enum { SEAM_WEIGHTS_PLAIN = 0, SEAM_WEIGHTS_Q8, SEAM_WEIGHTS_Q4 } weight_quant;
} seam_model_info;

/* Opens a Hugging Face model folder (config.json + model.safetensors, or sharded
 * model-0000N-of-0000M.safetensors + model.safetensors.index.json). Weights are
 * memory-mapped; F16/BF16 are read as stored and computed in f32. */
seam_status seam_model_open(const char *dir, seam_model **out, seam_error *err);
void seam_model_close(seam_model *m);
const seam_model_info *seam_model_get_info(const seam_model *m);

/* Tensor table, for `seam inspect`. Index i in [0, seam_model_tensor_count). */
typedef struct {
    const char *name;   /* as stored in the file */
    const char *dtype;  /* "F32", "F16", "BF16", ... */
    int n_dims;
    int64_t shape[8];
    size_t bytes;
    const char *file;   /* safetensors file name within the folder */
} seam_tensor_info;
size_t seam_model_tensor_count(const seam_model *m);
int seam_model_tensor(const seam_model *m, size_t i, seam_tensor_info *out);

/* ------------------------------------------------------------------ tokenizer */

typedef struct seam_tokenizer seam_tokenizer;

/* Loads tokenizer.json, or vocab.json + merges.txt, from a model folder. */
seam_status seam_tokenizer_open(const char *dir, seam_tokenizer **out, seam_error *err);
void seam_tokenizer_close(seam_tokenizer *t);

/* Encodes text[0..len) (UTF-8; invalid bytes are encoded byte-wise, as the reference does
 * for lossy input) into ids. If cap is too small, returns SEAM_ERR_RANGE with *n_ids set
 * to the number needed. Special tokens such as <|endoftext|> in the text are recognised. */
seam_status seam_tokenize(const seam_tokenizer *t, const char *text, size_t len,
                          int32_t *ids, size_t cap, size_t *n_ids, seam_error *err);

/* The raw bytes of one token (may be a partial UTF-8 sequence); NULL for an unknown id. */
const char *seam_token_bytes(const seam_tokenizer *t, int32_t id, size_t *len);

/* Decodes ids into out (NUL-terminated, bytes as produced; partial UTF-8 is replaced with
 * U+FFFD like the reference). Returns the number of bytes needed excluding the NUL; writes
 * at most cap bytes. */
size_t seam_detokenize(const seam_tokenizer *t, const int32_t *ids, size_t n, char *out, size_t cap);

int seam_tokenizer_vocab_size(const seam_tokenizer *t);
/* Id of a special/added token by its text, or -1. */
int32_t seam_tokenizer_special(const seam_tokenizer *t, const char *text);

/* ------------------------------------------------------------------ context and stages */

typedef struct seam_context seam_context;

/* A context holds the KV cache for layers [model layer_begin, layer_end) sized for n_ctx
 * positions (0: the model's n_positions), plus every scratch buffer a forward pass needs;
 * nothing is allocated after this call. max_batch is the most tokens one call may carry
 * (0: n_ctx). */
seam_status seam_context_new(const seam_model *m, int n_ctx, int max_batch,
                             seam_context **out, seam_error *err);
/* Like seam_context_new, but the KV cache covers only layers [layer_a, layer_b), which must
 * lie within the model's [layer_begin, layer_end): the part of a whole model one side of a
 * split runs (a server in tail mode runs [0, k), in head mode [k, n_layer)). An empty range
 * is allowed (embeddings and head only). seam_run_layers on a non-empty range outside it,
 * and so seam_forward unless the range is the whole model, fail with SEAM_ERR_RANGE. */
seam_status seam_context_new_layers(const seam_model *m, int layer_a, int layer_b, int n_ctx, int max_batch,
                                    seam_context **out, seam_error *err);
void seam_context_free(seam_context *c);
int seam_context_n_ctx(const seam_context *c);
/* Bytes of KV cache (keys and values of every cached layer) the context holds. */
size_t seam_context_kv_bytes(const seam_context *c);
/* Threads used by this context's forward passes, the caller included (0: the machine's
 * physical cores, the default a new context starts with; 1: no worker threads). */
seam_status seam_context_set_threads(seam_context *c, int n_threads, seam_error *err);
int seam_context_threads(const seam_context *c);

/* Stage API: split inference is built on exactly these calls.
 * hidden is [T, C] float32, updated in place. pos0 is the position of the first row;
 * the KV caches of the layers run are written at pos0..pos0+T-1 and attention sees
 * positions 0..pos0+T-1 (the caller keeps pos consistent across calls). */
seam_status seam_embed(seam_context *c, const int32_t *ids, int T, int pos0, float *hidden, seam_error *err);
seam_status seam_run_layers(seam_context *c, int layer_a, int layer_b, float *hidden, int T, int pos0,
                            seam_error *err);
/* As seam_run_layers, for a caller that then needs only the last row (the final norm and
 * head of row T - 1, to sample the next token): layer layer_b - 1 still writes every row's
 * keys and values to its cache but computes its attention and MLP for row T - 1 alone, so on
 * return only that row of hidden holds the layers' output; the rows before it are left as
 * scratch. On a 128-token prompt through GPT-2 small's 12 layers this skips ~6% of the work. */
seam_status seam_run_layers_last_row(seam_context *c, int layer_a, int layer_b, float *hidden, int T, int pos0,
                                     seam_error *err);
/* Final layer norm, in place on [T, C]. */
seam_status seam_final_norm(seam_context *c, float *hidden, int T, seam_error *err);
/* Logits for each row of normed [T, C] into logits [T, V]. */
seam_status seam_lm_head(seam_context *c, const float *normed, int T, float *logits, seam_error *err);

/* Convenience: embed + all layers + norm + head for ids at positions pos0..; writes the
 * logits of the LAST row only into logits[V]. The model must hold all layers. */
seam_status seam_forward(seam_context *c, const int32_t *ids, int T, int pos0, float *logits, seam_error *err);

/* ------------------------------------------------------------------ sampling */

typedef struct {
    float temperature; /* <= 0 means greedy */
    int top_k;         /* 0: off */
    float top_p;       /* 1.0: off */
    uint64_t seed;
} seam_sampler_params;

typedef struct seam_sampler seam_sampler;

/* Defaults: temperature 1, top_k 0, top_p 1, seed 0. */
seam_sampler_params seam_sampler_default_params(void);
/* Allocates the sampler's scratch for a vocabulary of n_vocab (nothing per token). */
seam_status seam_sampler_new(const seam_sampler_params *p, int n_vocab, seam_sampler **out, seam_error *err);
void seam_sampler_free(seam_sampler *s);
/* Picks a token from logits[n_vocab] (not modified). Deterministic for a given seed. */
int32_t seam_sample(seam_sampler *s, const float *logits);
/* Index of the largest logit (first on ties, as torch.argmax). */
int32_t seam_argmax(const float *logits, int n);

#ifdef __cplusplus
}
#endif

#include "seam_encoder.h"

#endif
