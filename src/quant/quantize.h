/* Model quantisation (`seam quantize`) and its accuracy report, plus the small safetensors
 * header writer both use. */
#ifndef SEAM_QUANTIZE_H
#define SEAM_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "format/safetensors.h"
#include "model/model.h"
#include "seam.h"

/* What happens to the token embedding wte, which GPT-2 also uses as its output head. */
typedef enum {
    SEAM_QHEAD_TIED = 0, /* wte is quantised in place: embedding lookups dequantise a row, the head reads it */
    SEAM_QHEAD_SEPARATE, /* wte stays as stored (exact embeddings); lm_head.weight is written quantised */
    SEAM_QHEAD_KEEP      /* wte and lm_head stay as stored */
} seam_qhead;

typedef struct {
    seam_quant type;      /* the blocks' matrices: SEAM_QUANT_Q8 or SEAM_QUANT_Q4 */
    seam_quant head_type; /* wte / lm_head when quantised; SEAM_QUANT_NONE: q8 (the head is the most
                           * sensitive matrix; llama.cpp's Q4 files keep theirs at 6 bits too) */
    seam_qhead head;
    int n_threads; /* quantising threads, the caller included (0: the machine's physical cores) */
    /* Called now and then, from the calling thread, with bytes written so far and the
     * total (may be NULL). */
    void (*progress)(void *user, uint64_t done, uint64_t total);
    void *user;
} seam_quantize_params;

/* Reads the model folder in_dir (anything seam_model_open accepts) and writes out_dir
 * (created if missing; not in_dir): model.safetensors with the quantised matrices (written
 * under a temporary name, renamed when complete), then the tokenizer files and config.json
 * copied. Matrices whose reduction size is not a multiple of 32 stay as stored. */
seam_status seam_quantize_model(const char *in_dir, const char *out_dir, const seam_quantize_params *p,
                                seam_error *err);

/* Accuracy of a model against a reference (top-1 agreement and KL divergence per position,
 * the reference as p): accumulated over calls of seam_quant_compare. */
typedef struct {
    long positions, agree;
    double kl_sum, kl_max;
    double err2, ref2; /* Σ (logit - ref)², Σ ref² */
} seam_qreport;

/* Runs both models (whole GPT-2 models with the same shapes) over ids[0..T) from position
 * 0 and adds every position's comparison to *acc. T must fit both models' n_positions. */
seam_status seam_quant_compare(const seam_model *ref, const seam_model *test, const int32_t *ids, int T, int n_threads,
                               seam_qreport *acc, seam_error *err);

/* ------------------------------------------------------------------ safetensors writing */

typedef struct {
    const char *name;
    st_dtype dtype;
    int n_dims;
    int64_t shape[ST_MAX_DIMS];
    uint64_t begin, end; /* filled by stw_header, in the order given */
} stw_tensor;

/* The file's first bytes: 8-byte length, then the JSON header (with __metadata__ from the
 * n_meta key/value pairs meta[2i], meta[2i+1] when n_meta > 0), padded with spaces so the
 * data starts 64-byte aligned. Tensors are laid out back to back in the order given; their
 * byte sizes come from dtype and shape. Returns a malloc'd buffer. */
seam_status stw_header(stw_tensor *t, size_t n, const char *const *meta, size_t n_meta, uint8_t **out, size_t *len,
                       seam_error *err);

#endif
