/* AVX2+FMA chains; compiled with -mavx2 -mfma only (bench/run.sh). */
#include <immintrin.h>

#include "roofline_fma.h"

float roofline_fma_avx2(int64_t iters) {
    __m256 acc[ROOFLINE_AVX2_CHAINS];
    for (int i = 0; i < ROOFLINE_AVX2_CHAINS; i++) acc[i] = _mm256_set1_ps(0.001f * (float)i);
    /* a slightly below 1 and a small b keep every chain finite however long it runs. */
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < ROOFLINE_AVX2_CHAINS; i++) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    __m256 s = acc[0];
    for (int i = 1; i < ROOFLINE_AVX2_CHAINS; i++) s = _mm256_add_ps(s, acc[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}
