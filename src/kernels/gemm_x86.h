/* Packed matrix-matrix product for prefill and batched encoders, shared by the AVX2 and
 * AVX-512 tables (BLIS's loop structure, cut down to what transformer shapes need).
 *
 *   y[T, n0:n1] = x[T, K] @ B[K, n0:n1] (+ b)      B = W (Conv1D layout, W is [K, N])
 *                                                  or W^T (Linear layout, W is [N, K])
 *
 * For every block of GEMM_NC output columns and GEMM_KC inputs, W's slice is converted to
 * f32 and packed k-major into panels of GEMM_NR columns (into L2), and each GEMM_MR-row
 * tile of x, held in L1, runs against every panel of the block in turn (gemm_driver.h's
 * gemm_run; for weights packed in advance and many rows, gemm_run_panel_outer turns that
 * round). A register tile of GEMM_MR x GEMM_NR accumulators takes GEMM_MR broadcasts and 2
 * vector loads per 2 * GEMM_MR FMAs. Packing transposes the Linear layout, so one
 * micro-kernel serves both layouts and every dtype.
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

#define GEMM_NR (2 * GW)
#define GAI static inline __attribute__((always_inline))

GAI __m256 gemm_ld8(const void *base, size_t i, seam_dtype dt) {
    if (dt == SEAM_DTYPE_F32) return _mm256_loadu_ps((const float *)base + i);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)base + i));
    if (dt == SEAM_DTYPE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
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
            for (; j < nvalid; j++) p[j] = seam_elem_f32(W, off + (size_t)j, dt);
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
                p[j] = j < rows ? seam_elem_f32(W, (size_t)(n + j0 + j) * K + (size_t)(k0 + k), dt) : 0.0f;
        }
    }
}

/* How far ahead of the tile the stream tiles prefetch a pre-packed panel, in bytes. A
 * panel of pre-packed weights comes from DRAM for few rows (encoder batch 1: 42 MB of
 * weights for 12 rows of work); the hardware prefetcher alone kept 17-23 GB/s in flight on
 * the Zen 5 VM, where one core reads 30 GB/s. Latency x bandwidth is ~3 KB; 8 KB ahead
 * measured best (4 KB: 1.62 ms, 8 KB: 1.45-1.8, 16 KB: 1.49-1.68 against 2.1-2.6 without,
 * MiniLM-shaped batch 1 x 12, one thread). Panels follow one another in memory, so within
 * a thread's share the lines past a panel's end are the next panel's first (at the end of
 * the share they are another thread's, fetched for nothing). */
#define GEMM_STREAM_AHEAD 8192

/* One register tile: RB rows of x (row stride ldx) times the packed panel, over kc inputs.
 * The first k-block starts from the bias (or zero), later ones from y; ncols < GEMM_NR masks
 * the column tail of the last panel. gemm_tile_RB reads a panel packed into L1/L2 by the
 * driver; gemm_stream_tile_RB, for panels read from memory (GEMM_PACKED), also prefetches
 * GEMM_STREAM_AHEAD bytes ahead (on panels in cache, the prefetches only cost load slots). */
#define GEMM_TILE(RB)                                                                                          \
    GAI void gemm_tile_body_##RB(const float *x, size_t ldx, int kc, const float *pack, float *y, size_t ldy,  \
                                 int first, const float *b, int ncols, const int stream) {                     \
        GV a0[RB], a1[RB];                                                                                     \
        int c0 = ncols < GW ? ncols : GW, c1 = ncols - GW;                                                     \
        _Pragma("GCC unroll 16") for (int r = 0; r < RB; r++) {                                                \
            const float *src = first ? b : y + (size_t)r * ldy;                                                \
            if (first && !b) { a0[r] = gv_zero(); a1[r] = gv_zero(); }                                         \
            else if (ncols == GEMM_NR) { a0[r] = gv_load(src); a1[r] = gv_load(src + GW); }                    \
            else {                                                                                             \
                a0[r] = gv_load_n(src, c0);                                                                    \
                a1[r] = c1 > 0 ? gv_load_n(src + GW, c1) : gv_zero();                                          \
            }                                                                                                  \
        }                                                                                                      \
        for (int k = 0; k < kc; k++) {                                                                         \
            const float *wk = pack + (size_t)k * GEMM_NR;                                                      \
            GV w0 = gv_load(wk), w1 = gv_load(wk + GW);                                                        \
            if (stream)                                                                                        \
                for (int line = 0; line < GEMM_NR * 4; line += 64)                                             \
                    __builtin_prefetch((const char *)wk + GEMM_STREAM_AHEAD + line);                           \
            _Pragma("GCC unroll 16") for (int r = 0; r < RB; r++) {                                            \
                GV xv = gv_bcast(x + (size_t)r * ldx + (size_t)k);                                             \
                a0[r] = gv_fma(xv, w0, a0[r]);                                                                 \
                a1[r] = gv_fma(xv, w1, a1[r]);                                                                 \
            }                                                                                                  \
        }                                                                                                      \
        _Pragma("GCC unroll 16") for (int r = 0; r < RB; r++) {                                                \
            float *dst = y + (size_t)r * ldy;                                                                  \
            if (ncols == GEMM_NR) { gv_store(dst, a0[r]); gv_store(dst + GW, a1[r]); }                         \
            else {                                                                                             \
                gv_store_n(dst, a0[r], c0);                                                                    \
                if (c1 > 0) gv_store_n(dst + GW, a1[r], c1);                                                   \
            }                                                                                                  \
        }                                                                                                      \
    }                                                                                                          \
    static void gemm_tile_##RB(const float *x, size_t ldx, int kc, const float *pack, float *y, size_t ldy,    \
                               int first, const float *b, int ncols) {                                         \
        gemm_tile_body_##RB(x, ldx, kc, pack, y, ldy, first, b, ncols, 0);                                     \
    }                                                                                                          \
    static void gemm_stream_tile_##RB(const float *x, size_t ldx, int kc, const float *pack, float *y,         \
                                      size_t ldy, int first, const float *b, int ncols) {                      \
        gemm_tile_body_##RB(x, ldx, kc, pack, y, ldy, first, b, ncols, 1);                                     \
    }


#include "kernels/gemm_driver.h"

#endif
