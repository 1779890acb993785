/* In-memory model: a struct of pointers into the mapped safetensors files (llama2.c's
 * memory_map_weights idea). Big matrices stay mapped in their stored dtype; the small
 * per-channel vectors (norms, biases) are converted to f32 once at open. */
#ifndef SEAM_MODEL_H
#define SEAM_MODEL_H

#include "format/safetensors.h"
#include "model/config.h"
#include "seam.h"

/* A row-major matrix [rows, cols] of stored weights. */
typedef struct {
    const void *data;
    seam_dtype dtype;
    int rows, cols;
} seam_mat;

/* A block-quantised weight matrix (src/quant/quant.h; README "Quantised format"), always
 * in the Linear layout [rows = N outputs, cols = K inputs], K a multiple of 32, whatever
 * layout the original had (a Conv1D [K, N] weight is stored transposed), so blocks of 32
 * run along the reduction dimension. data holds the quants (q8: int8 [N, K]; q4: [N, K/2]
 * bytes, two 4-bit values per byte), scale the f16 block scales [N, K/32] and, for q4, min
 * the f16 block offsets [N, K/32]. type SEAM_QUANT_NONE: the weight is not quantised. */
typedef enum { SEAM_QUANT_NONE = 0, SEAM_QUANT_Q8, SEAM_QUANT_Q4 } seam_quant;
typedef struct {
    seam_quant type;
    const void *data;
    const uint16_t *scale;
    const uint16_t *min;
    int rows, cols;
    /* q8 only, or NULL: the scales again as f32, made at load where the quantised kernels
     * ask for them (seam_qkernels.f32_scales) */
    const float *scale_f32;
} seam_qmat;

/* Each weight matrix is a seam_mat plus a seam_qmat: when the file stores it quantised,
 * the *_q field holds it and the seam_mat keeps only its shape (data NULL). */
typedef struct {
    const float *ln1_w, *ln1_b;   /* [C] */
    seam_mat attn_w;              /* Conv1D [C, 3C] */
    const float *attn_b;          /* [3C] */
    seam_mat attn_proj_w;         /* Conv1D [C, C] */
    const float *attn_proj_b;     /* [C] */
    const float *ln2_w, *ln2_b;   /* [C] */
    seam_mat fc_w;                /* Conv1D [C, I] */
    const float *fc_b;            /* [I] */
    seam_mat fc_proj_w;           /* Conv1D [I, C] */
    const float *fc_proj_b;       /* [C] */
    seam_qmat attn_w_q, attn_proj_w_q, fc_w_q, fc_proj_w_q; /* [N, K] when quantised */
} gpt2_layer;

struct seam_model {
    seam_config cfg;
    char *dir;
    st_file *files;
    char **file_names;
    size_t n_files;
    seam_mat wte;      /* [V, C] */
    seam_mat wpe;      /* [P, C] */
    seam_mat lm_head;  /* [V, C]; equals wte when tied */
    seam_qmat wte_q, wpe_q, lm_head_q; /* the same when quantised ([V, C], [P, C], [V, C]) */
    const float *lnf_w, *lnf_b;
    gpt2_layer *layers; /* indexed by absolute layer; valid in [layer_begin, layer_end) */
    void **owned;       /* f32 conversions and aligned copies made at open */
    size_t n_owned, cap_owned;
    int quant_max_k;    /* largest K of a quantised matrix (0: none); sizes the context's scratch */
};

/* f16/bf16 → f32 scalar conversions shared by the loader and the scalar kernels. */
float seam_f16_to_f32(uint16_t h);
float seam_bf16_to_f32(uint16_t h);
uint16_t seam_f32_to_f16(float f);

#endif
