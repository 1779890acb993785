/* AVX-512F chains; compiled with -mavx512f -mfma only (bench/run.sh). */
#include <immintrin.h>

#include "roofline_fma.h"

float roofline_fma_avx512(int64_t iters) {
    __m512 acc[ROOFLINE_AVX512_CHAINS];
    for (int i = 0; i < ROOFLINE_AVX512_CHAINS; i++) acc[i] = _mm512_set1_ps(0.001f * (float)i);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    for (int64_t it = 0; it < iters; it++) {
#pragma GCC unroll 24
        for (int i = 0; i < ROOFLINE_AVX512_CHAINS; i++) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    __m512 s = acc[0];
    for (int i = 1; i < ROOFLINE_AVX512_CHAINS; i++) s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}
