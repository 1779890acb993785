/* Block quantisation of weight rows (the format side; the integer kernels are in
 * src/kernels/quant.h). A row of K weights (K a multiple of SEAM_QBLOCK) is cut into blocks
 * of 32 consecutive values:
 *
 *   q8: w ≈ d * q,      q int8 in [-127, 127], d f16 = max|w| / 127           (ggml Q8_0)
 *   q4: w ≈ d * q + m,  q 4-bit in [0, 15],   d, m f16 (scale and offset)     (ggml Q4_1)
 *
 * q4 packs the 32 values of a block into 16 bytes: byte j holds value j in its low nibble
 * and value j + 16 in its high nibble. The README section "Quantised format" documents how
 * these arrays are stored in safetensors files. */
#ifndef SEAM_QUANT_H
#define SEAM_QUANT_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

#define SEAM_QBLOCK 32

/* "q8" / "q4" (NULL for SEAM_QUANT_NONE), and back (0 when unknown). */
const char *seam_quant_name(seam_quant q);
int seam_quant_parse(const char *s, seam_quant *out);

/* Quantises w[0..K) into q8: q[K], d[K/32]. Returns 0 when w holds a NaN or infinity. */
int seam_q8_quantize_row(const float *w, int K, int8_t *q, uint16_t *d);
void seam_q8_dequantize_row(const int8_t *q, const uint16_t *d, int K, float *out);

/* Quantises w[0..K) into q4: q[K/2] packed, d[K/32], m[K/32]. For each block the scale
 * and offset are chosen by a small search that minimises the squared error (min/max is
 * one of the candidates). Returns 0 when w holds a NaN or infinity. */
int seam_q4_quantize_row(const float *w, int K, uint8_t *q, uint16_t *d, uint16_t *m);
void seam_q4_dequantize_row(const uint8_t *q, const uint16_t *d, const uint16_t *m, int K, float *out);

/* Row r of a quantised matrix ([N, K]) as f32, out[0..K); block b of row r, out[0..32). */
void seam_qmat_row_to_f32(const seam_qmat *W, int r, float *out);
void seam_qmat_block_to_f32(const seam_qmat *W, int r, int b, float *out);

/* Round to nearest, ties to even, for |v| < 2^22 (what cvtps2dq does under the default
 * MXCSR, so SIMD code can match it bit for bit) without a libm call. */
static inline float seam_round_even(float v) {
    const float magic = 12582912.0f; /* 1.5 * 2^23 */
    float t = v + magic; /* C11: the assignment rounds to float even with excess precision */
    return t - magic;
}

/* Bytes of the quants of one row of K values. */
size_t seam_quant_row_bytes(seam_quant q, int K);

#endif
