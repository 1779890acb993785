/* The AVX-512 table with the encoders' pre-packed GEMM on AMX tiles (gemm_amx.h: three
 * bf16 products per f32 product). Only bert.c asks for it (seam_kernels_amx), and only at
 * "high" matmul precision; every other entry is AVX-512's. */
#include "kernels/kernels.h"

#if defined(__x86_64__) && defined(__AMX_TILE__) && defined(__AMX_BF16__) && defined(__AVX512BF16__)
#include <immintrin.h>
#include <pthread.h>

#define AMX_CONFIG(cfg) _tile_loadconfig(cfg)
#define AMX_ZERO(t) _tile_zero(t)
#define AMX_LOAD(t, p, stride) _tile_loadd(t, p, stride)
#define AMX_STORE(t, p, stride) _tile_stored(t, p, stride)
#define AMX_DP(c, a, b) _tile_dpbf16ps(c, a, b)
#define AMX_RELEASE() _tile_release()
#define AMX_PREFETCH_L2(p) _mm_prefetch((const char *)(p), _MM_HINT_T1)

/* 32 floats (n valid) as bf16 hi and lo parts: VCVTNE2PS2BF16 rounds to nearest even, as
 * amx_bf16 does (it also flushes denormal inputs, which only moves values below 2^-126). */
static inline void amx_split(const float *src, int n, uint16_t *hi, uint16_t *lo) {
    __mmask16 m0 = n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u);
    __mmask16 m1 = n >= 32 ? (__mmask16)0xffff : n > 16 ? (__mmask16)((1u << (n - 16)) - 1u) : (__mmask16)0;
    __m512 a = _mm512_maskz_loadu_ps(m0, src), c = _mm512_maskz_loadu_ps(m1, src + 16);
    __m512i h = (__m512i)_mm512_cvtne2ps_pbh(c, a);
    __m512 ah = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), 16));
    __m512 ch = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), 16));
    __m512i l = (__m512i)_mm512_cvtne2ps_pbh(_mm512_sub_ps(c, ch), _mm512_sub_ps(a, ah));
    _mm512_storeu_si512(hi, h);
    _mm512_storeu_si512(lo, l);
}

#include "kernels/gemm_amx.h"

static void amx_matmul_packed(const float *x, int T, const float *packed, int K, int N, const float *b, float *y, int n0,
                              int n1) {
    amx_gemm(x, T, packed, K, N, b, y, n0, n1);
}

static seam_kernels amx_table;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;

static void amx_init(void) {
    amx_table = seam_kernels_avx512;
    amx_table.name = "amx";
    amx_table.pack_nr = AMX_NR;
    amx_table.pack_kr = AMX_KR;
    amx_table.packed_mr = AMX_MR;
    amx_table.pack_mr = AMX_MR;
    amx_table.pack_nk = amx_pack_nk;
    amx_table.matmul_packed = amx_matmul_packed;
}

const seam_kernels *seam_kernels_amx_table(void) {
    pthread_once(&amx_once, amx_init);
    return &amx_table;
}
#elif defined(__x86_64__)
const seam_kernels *seam_kernels_amx_table(void) { return NULL; }
#endif
