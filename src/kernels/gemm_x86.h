/* Packed matrix-matrix product for prefill and batched encoders, shared by the AVX2 and
 * AVX-512 tables (BLIS's loop structure, cut down to what transformer shapes need).
 *
 *   y[T, n0:n1] = x[T, K] @ B[K, n0:n1] (+ b)      B = W (Conv1D layout, W is [K, N])
 *                                                  or W^T (Linear layout, W is [N, K])
 *
 * For every panel of GEMM_NR output columns and every block of GEMM_KC inputs, the slice of
 * W is converted to f32 and packed k-major into a small buffer that stays in L1 while every
 * GEMM_MR-row tile of x streams past it; a register tile of GEMM_MR x GEMM_NR accumulators
 * takes GEMM_MR broadcasts and 2 vector loads per 2 * GEMM_MR FMAs. Packing transposes the
 * Linear layout, so one micro-kernel serves both layouts and every dtype.
 *
 * The including file defines, before including this header:
 *   GV, GW          the f32 vector type and its lane count
 *   GEMM_MR         rows of x in a register tile (2 * GEMM_MR + 3 vector registers are used)
 *   GEMM_KC         inputs per packed block (GEMM_KC * 2 * GW floats must fit L1 comfortably)
 *   GEMM_NC         columns per packed block, a multiple of 2 * GW (GEMM_KC * GEMM_NC floats sit in L2)
 *   gv_zero(), gv_load(p), gv_store(p, v), gv_bcast(p), gv_fma(a, b, acc)
 *   gv_load_n(p, n), gv_store_n(p, v, n)   the first n lanes (0 < n <= GW), others zero / kept
 * Both users are compiled with at least AVX2 + FMA + F16C, so packing uses 256-bit code. */
#ifndef SEAM_GEMM_X86_H
#define SEAM_GEMM_X86_H

#include <immintrin.h>

#include "kernels/kernels.h"
#include "kernels/quant.h"

/* What W is: [K, N] (Conv1D), [N, K] (Linear), or a quantised seam_qmat [N, K]. */
enum { GEMM_KN, GEMM_NK, GEMM_Q };

#define GEMM_NR (2 * GW)
#define GAI static inline __attribute__((always_inline))

GAI __m256 gemm_ld8(const void *base, size_t i, seam_dtype dt) {
    if (dt == SEAM_DTYPE_F32) return _mm256_loadu_ps((const float *)base + i);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)base + i));
    if (dt == SEAM_DTYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

GAI float gemm_ld1(const void *base, size_t i, seam_dtype dt) {
    if (dt == SEAM_DTYPE_F32) return ((const float *)base)[i];
    if (dt == SEAM_DTYPE_F16) return seam_f16_to_f32(((const uint16_t *)base)[i]);
    return seam_bf16_to_f32(((const uint16_t *)base)[i]);
}

/* Conv1D layout: pack[k][j] = W[k0 + k][n + j] for j < nvalid, zero beyond (so the
 * micro-kernel never branches on the column tail). */
GAI void gemm_pack_kn(const void *W, seam_dtype dt, size_t N, int k0, int kc, int n, int nvalid, float *pack) {
    for (int k = 0; k < kc; k++) {
        size_t off = (size_t)(k0 + k) * N + (size_t)n;
        float *p = pack + (size_t)k * GEMM_NR;
        if (nvalid == GEMM_NR) {
            for (int j = 0; j < GEMM_NR; j += 8) _mm256_store_ps(p + j, gemm_ld8(W, off + (size_t)j, dt));
        } else {
            int j = 0;
            for (; j + 8 <= nvalid; j += 8) _mm256_store_ps(p + j, gemm_ld8(W, off + (size_t)j, dt));
            for (; j < nvalid; j++) p[j] = gemm_ld1(W, off + (size_t)j, dt);
            for (; j < GEMM_NR; j++) p[j] = 0.0f;
        }
    }
}

/* 8 x 8 transpose: rows r[0..8) in, columns out (the classic unpack / shuffle / permute). */
GAI void gemm_transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    r[0] = _mm256_permute2f128_ps(s0, s4, 0x20);
    r[1] = _mm256_permute2f128_ps(s1, s5, 0x20);
    r[2] = _mm256_permute2f128_ps(s2, s6, 0x20);
    r[3] = _mm256_permute2f128_ps(s3, s7, 0x20);
    r[4] = _mm256_permute2f128_ps(s0, s4, 0x31);
    r[5] = _mm256_permute2f128_ps(s1, s5, 0x31);
    r[6] = _mm256_permute2f128_ps(s2, s6, 0x31);
    r[7] = _mm256_permute2f128_ps(s3, s7, 0x31);
}

/* Linear layout: pack[k][j] = W[n + j][k0 + k], transposed 8 x 8 at a time; groups of
 * columns past nvalid are zero and the few leftovers go element by element. */
GAI void gemm_pack_nk(const void *W, seam_dtype dt, size_t K, int k0, int kc, int n, int nvalid, float *pack) {
    for (int j0 = 0; j0 < GEMM_NR; j0 += 8) {
        int rows = nvalid - j0 < 0 ? 0 : nvalid - j0 > 8 ? 8 : nvalid - j0;
        int k = 0;
        if (rows == 8) {
            size_t base = (size_t)(n + j0) * K + (size_t)k0;
            for (; k + 8 <= kc; k += 8) {
                __m256 r[8];
                for (int j = 0; j < 8; j++) r[j] = gemm_ld8(W, base + (size_t)j * K + (size_t)k, dt);
                gemm_transpose8(r);
                for (int i = 0; i < 8; i++) _mm256_store_ps(pack + (size_t)(k + i) * GEMM_NR + j0, r[i]);
            }
        }
        for (; k < kc; k++) {
            float *p = pack + (size_t)k * GEMM_NR + j0;
            for (int j = 0; j < 8; j++)
                p[j] = j < rows ? gemm_ld1(W, (size_t)(n + j0 + j) * K + (size_t)(k0 + k), dt) : 0.0f;
        }
    }
}

/* One register tile: RB rows of x (row stride ldx) times the packed panel, over kc inputs.
 * The first k-block starts from the bias (or zero), later ones from y; ncols < GEMM_NR masks
 * the column tail of the last panel. */
#define GEMM_TILE(RB)                                                                                          \
    static void gemm_tile_##RB(const float *x, size_t ldx, int kc, const float *pack, float *y, size_t ldy,    \
                               int first, const float *b, int ncols) {                                         \
        GV a0[RB], a1[RB];                                                                                     \
        int c0 = ncols < GW ? ncols : GW, c1 = ncols - GW;                                                     \
        for (int r = 0; r < RB; r++) {                                                                         \
            const float *src = first ? b : y + (size_t)r * ldy;                                                \
            if (first && !b) { a0[r] = gv_zero(); a1[r] = gv_zero(); }                                         \
            else if (ncols == GEMM_NR) { a0[r] = gv_load(src); a1[r] = gv_load(src + GW); }                    \
            else {                                                                                             \
                a0[r] = gv_load_n(src, c0);                                                                    \
                a1[r] = c1 > 0 ? gv_load_n(src + GW, c1) : gv_zero();                                          \
            }                                                                                                  \
        }                                                                                                      \
        for (int k = 0; k < kc; k++) {                                                                         \
            GV w0 = gv_load(pack + (size_t)k * GEMM_NR), w1 = gv_load(pack + (size_t)k * GEMM_NR + GW);        \
            _Pragma("GCC unroll 16") for (int r = 0; r < RB; r++) {                                            \
                GV xv = gv_bcast(x + (size_t)r * ldx + (size_t)k);                                             \
                a0[r] = gv_fma(xv, w0, a0[r]);                                                                 \
                a1[r] = gv_fma(xv, w1, a1[r]);                                                                 \
            }                                                                                                  \
        }                                                                                                      \
        for (int r = 0; r < RB; r++) {                                                                         \
            float *dst = y + (size_t)r * ldy;                                                                  \
            if (ncols == GEMM_NR) { gv_store(dst, a0[r]); gv_store(dst + GW, a1[r]); }                         \
            else {                                                                                             \
                gv_store_n(dst, a0[r], c0);                                                                    \
                if (c1 > 0) gv_store_n(dst + GW, a1[r], c1);                                                   \
            }                                                                                                  \
        }                                                                                                      \
    }

typedef void (*gemm_tile_fn)(const float *x, size_t ldx, int kc, const float *pack, float *y, size_t ldy, int first,
                             const float *b, int ncols);

/* Rows of one tile (inputs k0 .. k0 + kc) copied to a contiguous block. Used only when x's
 * row stride of K floats would put more than 4 rows of a tile in the same L1 sets (4 KiB
 * apart: K a multiple of 512 with 12-row tiles, e.g. GPT-2's c_proj with K = 3072); other
 * strides stream straight from x, since the copy would cost ~10% of the tile's time. */
GAI void gemm_copy_rows(const float *x, size_t K, int rows, int k0, int kc, float *dst) {
    for (int r = 0; r < rows; r++) {
        const float *src = x + (size_t)r * K + (size_t)k0;
        float *d = dst + (size_t)r * (size_t)kc;
        int k = 0;
        for (; k + 8 <= kc; k += 8) _mm256_storeu_ps(d + k, _mm256_loadu_ps(src + k));
        for (; k < kc; k++) d[k] = src[k];
    }
}

/* The driver, given the table of tiles for 1..GEMM_MR rows (tiles[RB - 1]). W is [K, N]
 * (GEMM_KN), [N, K] (GEMM_NK) or a quantised seam_qmat [N, K] (GEMM_Q, dt unused); y has
 * row stride N.
 *
 * Columns go GEMM_NC at a time: for each k-block, the GEMM_NC / GEMM_NR panels of W are
 * packed once (into L2), then every row tile of x is loaded once and run against all of
 * them, so x is read ceil(N / GEMM_NC) times in all (it is 6 MiB for GPT-2's c_proj at
 * T = 512 and would not stay cached between panels) and W exactly once. */
#define GEMM_PANELS (GEMM_NC / GEMM_NR)
GAI void gemm_run(const gemm_tile_fn *tiles, const float *x, int T, const void *W, seam_dtype dt, int layout, int K,
                  size_t N, const float *b, float *y, int n0, int n1) {
    /* 128 KiB: on the stack, as every caller is a pool thread or the caller's own thread. */
    float bpack[GEMM_PANELS * GEMM_KC * GEMM_NR] __attribute__((aligned(64)));
    float atile[GEMM_MR * GEMM_KC] __attribute__((aligned(64)));
    size_t stride = (size_t)K * sizeof(float), low = stride & (~stride + 1);
    int sets = low >= 4096 ? 1 : (int)(4096 / low); /* distinct L1 set offsets of the rows */
    int copy = GEMM_MR > 4 * sets;
    for (int nc0 = n0; nc0 < n1; nc0 += GEMM_NC) {
        int nc1 = n1 - nc0 < GEMM_NC ? n1 : nc0 + GEMM_NC;
        for (int k0 = 0; k0 < K; k0 += GEMM_KC) {
            int kc = K - k0 < GEMM_KC ? K - k0 : GEMM_KC;
            for (int n = nc0, g = 0; n < nc1; n += GEMM_NR, g++) {
                int nv = nc1 - n < GEMM_NR ? nc1 - n : GEMM_NR;
                float *panel = bpack + (size_t)g * GEMM_KC * GEMM_NR;
                if (layout == GEMM_Q) seam_qmat_pack_panel((const seam_qmat *)W, k0, kc, n, nv, GEMM_NR, panel);
                else if (layout == GEMM_NK) gemm_pack_nk(W, dt, (size_t)K, k0, kc, n, nv, panel);
                else gemm_pack_kn(W, dt, N, k0, kc, n, nv, panel);
            }
            for (int t = 0; t < T; t += GEMM_MR) {
                int rb = T - t < GEMM_MR ? T - t : GEMM_MR;
                const float *xt = x + (size_t)t * K + k0;
                size_t ldx = (size_t)K;
                if (copy) {
                    gemm_copy_rows(x + (size_t)t * K, (size_t)K, rb, k0, kc, atile);
                    xt = atile;
                    ldx = (size_t)kc;
                }
                for (int n = nc0, g = 0; n < nc1; n += GEMM_NR, g++) {
                    int nv = nc1 - n < GEMM_NR ? nc1 - n : GEMM_NR;
                    tiles[rb - 1](xt, ldx, kc, bpack + (size_t)g * GEMM_KC * GEMM_NR, y + (size_t)t * N + n, N,
                                  k0 == 0, b ? b + n : NULL, nv);
                }
            }
        }
    }
}

#endif
