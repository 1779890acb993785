/* The 256-bit helpers that the tile driver (quant_tiles.h) asks of its including file,
 * shared by the AVX2 and AVX-VNNI tiles: include after defining QTL_LANES (8). */
#ifndef SEAM_KERNELS_QUANT_TILES_YMM_H
#define SEAM_KERNELS_QUANT_TILES_YMM_H

#include "kernels/quant_x86.h"

/* n f16 values → f32. */
QAI void qtl_f16_row(const uint16_t *h, int n, float *f) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(f + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i))));
    for (; i < n; i++) f[i] = seam_f16_to_f32(h[i]);
}

/* nb q4 blocks → 32 bytes per block in value order. */
QAI void qtl_unpack_q4(const uint8_t *p, int nb, int8_t *out) {
    for (int b = 0; b < nb; b++)
        _mm256_storeu_si256((__m256i *)(out + b * SEAM_QBLOCK), q4_unpack32(p + b * (SEAM_QBLOCK / 2)));
}

/* The tile's sums plus bias (or, with add, plus what y holds) into rows [0, m) of y (row
 * stride N) at columns [0, nc), row by row. */
QAI void qtl_store(float (*out)[QTL_LANES], int m, int nc, const float *bias, int add, float *y, size_t N) {
    for (int l = 0; l < m; l++) {
        float *yr = y + (size_t)l * N;
        for (int c = 0; c < nc; c++) yr[c] = out[c][l] + (add ? yr[c] : bias ? bias[c] : 0.0f);
    }
}

#endif
