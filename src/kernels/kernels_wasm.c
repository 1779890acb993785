/* WebAssembly SIMD128 kernels: 4-float vectors. SIMD128 has no FMA (relaxed SIMD is not in
 * the toolchain Debian ships), so products and sums are separate instructions. Browsers run
 * this on x86 (16 xmm registers) and ARM (32): tiles are sized for the smaller file so the
 * engines keep accumulators in registers. A SIMD128 build only instantiates on engines that
 * support SIMD128, so the dispatcher picks this table unconditionally. */
#if defined(__wasm_simd128__)
#include <math.h>
#include <wasm_simd128.h>

#include "kernels/kernels.h"
#include "kernels/simd_wasm.h"
#include "kernels/vmath.h"

#define AI static inline __attribute__((always_inline))

/* Four consecutive weights from element i, widened to f32. */
AI v128_t ld4(const void *base, size_t i, seam_dtype dt) {
    if (dt == SEAM_DTYPE_F32) return wasm_v128_load((const float *)base + i);
    v128_t h = wasm_u32x4_load16x4((const uint16_t *)base + i);
    if (dt == SEAM_DTYPE_F16) return half4_to_f32(h);
    return wasm_i32x4_shl(h, 16);
}

AI float hsum4(v128_t v) {
    v128_t s = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    s = wasm_f32x4_add(s, wasm_i32x4_shuffle(s, s, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(s, 0);
}

AI v128_t madd(v128_t acc, v128_t a, v128_t b) { return wasm_f32x4_add(acc, wasm_f32x4_mul(a, b)); }

/* Prefill and batches (T >= 4): the packed GEMM of gemm_wasm.h. */
#include "kernels/gemm_wasm.h"
WG_TILE(1) WG_TILE(2) WG_TILE(3) WG_TILE(4)
#if WG_MR > 4
WG_TILE(5)
#endif
#if WG_MR > 5
WG_TILE(6)
#endif
static const gemm_tile_fn wg_tiles[] = {wg_tile_1, wg_tile_2, wg_tile_3, wg_tile_4,
#if WG_MR > 4
                                      wg_tile_5,
#endif
#if WG_MR > 5
                                      wg_tile_6,
#endif
};
_Static_assert(sizeof wg_tiles / sizeof wg_tiles[0] == WG_MR, "one tile per height");
#define WG_MIN_T 4

/* Below WG_MIN_T rows (decode, short batches) packing W would not pay. W is read row by row
 * while y[n0:n1] stays in L1, one row of W per pass: the matrix is then one sequential
 * stream, which is what the prefetchers follow from WebAssembly on AMD Zen (node, GPT-2's
 * c_fc and c_proj beyond cache: 12 and 9 GB/s with four rows per pass, 18 and 20 with one,
 * 8 with two). Intel's Xeon of the device machine prefers four (7.7 and 5.6 GB/s, against
 * 5.2 and 4.2 with one); no choice is best on both, and the browser cannot tell them apart.
 * Each y element still gets its products in k order, as the scalar loop. */
AI void kn_stream(const float *x, int T, const seam_mat *Wm, const float *b, float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->rows;
    size_t N = (size_t)Wm->cols;
    const void *W = Wm->data;
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * K;
        float *yr = y + (size_t)t * N;
        for (int n = n0; n < n1; n++) yr[n] = b ? b[n] : 0.0f;
        for (int k = 0; k < K; k++) {
            size_t r0 = (size_t)k * N;
            v128_t xk = wasm_f32x4_splat(xr[k]);
            int n = n0;
            for (; n + 4 <= n1; n += 4) wasm_v128_store(yr + n, madd(wasm_v128_load(yr + n), xk, ld4(W, r0 + n, dt)));
            for (; n < n1; n++) yr[n] += xr[k] * seam_elem_f32(W, r0 + n, dt);
        }
    }
}

AI void kn_dtype(const float *x, int T, const seam_mat *Wm, const float *b, float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->rows;
    size_t N = (size_t)Wm->cols;
    if (T >= WG_MIN_T) { gemm_run(wg_tiles, x, T, Wm->data, dt, GEMM_KN, K, N, b, y, n0, n1); return; }
    kn_stream(x, T, Wm, b, y, n0, n1, dt);
}

static void wasm_matmul_kn(const float *x, int T, const seam_mat *W, const float *b, float *y, int n0, int n1) {
    switch (W->dtype) {
    case SEAM_DTYPE_F32: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_F32); break;
    case SEAM_DTYPE_F16: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_F16); break;
    case SEAM_DTYPE_BF16: kn_dtype(x, T, W, b, y, n0, n1, SEAM_DTYPE_BF16); break;
    }
}

/* Dot-product layout below WG_MIN_T rows: four W rows at a time share each load of x. */
AI void nk_dtype(const float *x, int T, const seam_mat *Wm, float *y, int n0, int n1, seam_dtype dt) {
    int K = Wm->cols;
    size_t N = (size_t)Wm->rows;
    const void *W = Wm->data;
    if (T >= WG_MIN_T) { gemm_run(wg_tiles, x, T, W, dt, GEMM_NK, K, N, NULL, y, n0, n1); return; }
    /* One row of W at a time (one sequential stream, as kn_stream), with four partial sums
     * so the adds do not wait on each other. */
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * K;
        float *yr = y + (size_t)t * N;
        for (int n = n0; n < n1; n++) {
            size_t r0 = (size_t)n * K;
            v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
            int k = 0;
            for (; k + 16 <= K; k += 16) {
                a0 = madd(a0, wasm_v128_load(xr + k), ld4(W, r0 + k, dt));
                a1 = madd(a1, wasm_v128_load(xr + k + 4), ld4(W, r0 + k + 4, dt));
                a2 = madd(a2, wasm_v128_load(xr + k + 8), ld4(W, r0 + k + 8, dt));
                a3 = madd(a3, wasm_v128_load(xr + k + 12), ld4(W, r0 + k + 12, dt));
            }
            for (; k + 4 <= K; k += 4) a0 = madd(a0, wasm_v128_load(xr + k), ld4(W, r0 + k, dt));
            float s0 = hsum4(wasm_f32x4_add(wasm_f32x4_add(a0, a1), wasm_f32x4_add(a2, a3)));
            for (; k < K; k++) s0 += xr[k] * seam_elem_f32(W, r0 + k, dt);
            yr[n] = s0;
        }
    }
}

static void wasm_matmul_nk(const float *x, int T, const seam_mat *W, float *y, int n0, int n1) {
    switch (W->dtype) {
    case SEAM_DTYPE_F32: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_F32); break;
    case SEAM_DTYPE_F16: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_F16); break;
    case SEAM_DTYPE_BF16: nk_dtype(x, T, W, y, n0, n1, SEAM_DTYPE_BF16); break;
    }
}

static float wasm_dot(const float *a, const float *b, int n) {
    /* Two accumulators hide the add latency that FMA would have folded away. */
    v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        s0 = madd(s0, wasm_v128_load(a + i), wasm_v128_load(b + i));
        s1 = madd(s1, wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4));
    }
    for (; i + 4 <= n; i += 4) s0 = madd(s0, wasm_v128_load(a + i), wasm_v128_load(b + i));
    float s = hsum4(wasm_f32x4_add(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void wasm_axpy(float a, const float *x, float *y, int n) {
    v128_t av = wasm_f32x4_splat(a);
    int i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, madd(wasm_v128_load(y + i), av, wasm_v128_load(x + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static void wasm_scale(float *y, float a, int n) {
    v128_t av = wasm_f32x4_splat(a);
    int i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(y + i), av));
    for (; i < n; i++) y[i] *= a;
}

static void wasm_row_to_f32(const seam_mat *W, int r, float *out) {
    size_t base = (size_t)r * (size_t)W->cols;
    int c = 0;
    for (; c + 4 <= W->cols; c += 4) wasm_v128_store(out + c, ld4(W->data, base + (size_t)c, W->dtype));
    for (; c < W->cols; c++) out[c] = seam_elem_f32(W->data, base + (size_t)c, W->dtype);
}

/* vmath.h's exp without FMA or scalef: the reduction's n * ln2_hi is exact (ln2_hi has 9
 * bits), and 2^n is applied as two halves so n down to -149 needs no subnormal exponent.
 * V8 spends a handful of x86 instructions on each f32x4.min / max (NaN and -0 rules), one
 * on pmin / pmax, so the clamp uses those (a NaN still comes through as NaN); n is rounded
 * by round_biased (simd_wasm.h), the same n that nearest + trunc_sat gave. With the GELU
 * form below, GELU went from 7.4-7.7% to 4.4-4.6% of a q8 prefill in Chromium. */
AI v128_t exp4(v128_t x) {
    x = wasm_f32x4_pmin(wasm_f32x4_pmax(x, wasm_f32x4_splat(-103.0f)), wasm_f32x4_splat(88.7f));
    v128_t big = round_biased(wasm_f32x4_mul(x, wasm_f32x4_splat(VM_LOG2E)));
    v128_t n = wasm_f32x4_sub(big, wasm_f32x4_splat(SW_ROUND_BIAS));
    v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(VM_LN2_HI)));
    r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(VM_LN2_LO)));
    /* the polynomial by Estrin's scheme (Horner's on r^2, r^4): without FMA every Horner step
     * is a multiply then an add, and a chain that long kept the CPU waiting, not working */
    v128_t r2 = wasm_f32x4_mul(r, r), r4 = wasm_f32x4_mul(r2, r2);
    v128_t p01 = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(VM_P0), r), wasm_f32x4_splat(VM_P1));
    v128_t p23 = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(VM_P2), r), wasm_f32x4_splat(VM_P3));
    v128_t p45 = wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(VM_P4), r), wasm_f32x4_splat(VM_P5));
    v128_t p = wasm_f32x4_add(wasm_f32x4_mul(p01, r4), wasm_f32x4_add(wasm_f32x4_mul(p23, r2), p45));
    p = wasm_f32x4_add(wasm_f32x4_mul(p, r2), wasm_f32x4_add(r, wasm_f32x4_splat(1.0f)));
    v128_t ni = biased_to_i32(big), n1 = wasm_i32x4_shr(ni, 1), n2 = wasm_i32x4_sub(ni, n1);
    v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(n1, wasm_i32x4_splat(127)), 23);
    v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(n2, wasm_i32x4_splat(127)), 23);
    return wasm_f32x4_mul(wasm_f32x4_mul(p, s1), s2);
}

AI v128_t gelu_tanh4(v128_t x) {
    v128_t x3 = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(0.044715f), x), wasm_f32x4_mul(x, x));
    /* 0.5 x (1 + tanh u) = x / (1 + e^{-2u}): fewer operations than going through tanh, and
     * no cancellation in 1 + tanh u where x is negative. -2u in one product: scaling by 2
     * commutes with rounding, so the bits are those of u = 0.79788456 (x^3 c + x), then -2u. */
    v128_t e = exp4(wasm_f32x4_mul(wasm_f32x4_splat(-2.0f * 0.7978845608028654f), wasm_f32x4_add(x3, x)));
    return wasm_f32x4_div(x, wasm_f32x4_add(e, wasm_f32x4_splat(1.0f)));
}

AI v128_t gelu_erf4(v128_t x) {
    v128_t z = wasm_f32x4_mul(wasm_f32x4_abs(x), wasm_f32x4_splat(0.7071067811865476f));
    v128_t t = wasm_f32x4_div(wasm_f32x4_splat(1.0f),
                              wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(AS_P), z), wasm_f32x4_splat(1.0f)));
    v128_t q = wasm_f32x4_splat(AS_A5);
    q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(AS_A4));
    q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(AS_A3));
    q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(AS_A2));
    q = wasm_f32x4_add(wasm_f32x4_mul(q, t), wasm_f32x4_splat(AS_A1));
    v128_t erfc = wasm_f32x4_mul(wasm_f32x4_mul(q, t), exp4(wasm_f32x4_neg(wasm_f32x4_mul(z, z))));
    v128_t neg = wasm_f32x4_lt(x, wasm_f32x4_splat(0.0f));
    v128_t one_plus_erf = wasm_v128_bitselect(erfc, wasm_f32x4_sub(wasm_f32x4_splat(2.0f), erfc), neg);
    return wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_splat(0.5f), x), one_plus_erf);
}

/* The scalar libm GELU costs 5% of a GPT-2 decode step in the browser (expm1f per value). */
static void wasm_activation(int activation, float *x, int n) {
    if (activation != ACT_GELU_TANH && activation != ACT_GELU_ERF) { seam_activation_scalar(activation, x, n); return; }
    int i = 0;
    /* four independent vectors per pass: each GELU is one long dependency chain */
    if (activation == ACT_GELU_TANH)
        for (; i + 16 <= n; i += 16) {
            v128_t v0 = wasm_v128_load(x + i), v1 = wasm_v128_load(x + i + 4);
            v128_t v2 = wasm_v128_load(x + i + 8), v3 = wasm_v128_load(x + i + 12);
            v0 = gelu_tanh4(v0); v1 = gelu_tanh4(v1); v2 = gelu_tanh4(v2); v3 = gelu_tanh4(v3);
            wasm_v128_store(x + i, v0); wasm_v128_store(x + i + 4, v1);
            wasm_v128_store(x + i + 8, v2); wasm_v128_store(x + i + 12, v3);
        }
    for (; i + 4 <= n; i += 4) {
        v128_t v = wasm_v128_load(x + i);
        wasm_v128_store(x + i, activation == ACT_GELU_TANH ? gelu_tanh4(v) : gelu_erf4(v));
    }
    if (i < n) {
        float tail[4] = {0, 0, 0, 0};
        for (int j = i; j < n; j++) tail[j - i] = x[j];
        v128_t v = wasm_v128_load(tail);
        wasm_v128_store(tail, activation == ACT_GELU_TANH ? gelu_tanh4(v) : gelu_erf4(v));
        for (int j = i; j < n; j++) x[j] = tail[j - i];
    }
}

/* As avx2_layernorm: the scalar reference's two passes in double (f64x2, two lanes per
 * promoted half of a vector) and its float expression for y, so results agree to the last
 * bit or one ulp. In scalar code it took 1.5% of a q8 prefill in Chromium. */
static void wasm_layernorm(const float *x, const float *w, const float *b, float eps, float *y, int n) {
    int body = n / 4 * 4;
    v128_t s0 = wasm_f64x2_splat(0.0), s1 = s0;
    for (int i = 0; i < body; i += 4) {
        v128_t v = wasm_v128_load(x + i);
        s0 = wasm_f64x2_add(s0, wasm_f64x2_promote_low_f32x4(v));
        s1 = wasm_f64x2_add(s1, wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(v, v, 1, 0)));
    }
    v128_t s = wasm_f64x2_add(s0, s1);
    double sum = wasm_f64x2_extract_lane(s, 0) + wasm_f64x2_extract_lane(s, 1), var = 0.0;
    for (int i = body; i < n; i++) sum += x[i];
    double mean = sum / n;
    v128_t mu = wasm_f64x2_splat(mean), v0 = wasm_f64x2_splat(0.0), v1 = v0;
    for (int i = 0; i < body; i += 4) {
        v128_t v = wasm_v128_load(x + i);
        v128_t d0 = wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(v), mu);
        v128_t d1 = wasm_f64x2_sub(wasm_f64x2_promote_low_f32x4(wasm_i64x2_shuffle(v, v, 1, 0)), mu);
        v0 = wasm_f64x2_add(v0, wasm_f64x2_mul(d0, d0));
        v1 = wasm_f64x2_add(v1, wasm_f64x2_mul(d1, d1));
    }
    v128_t vs = wasm_f64x2_add(v0, v1);
    var = wasm_f64x2_extract_lane(vs, 0) + wasm_f64x2_extract_lane(vs, 1);
    for (int i = body; i < n; i++) { double d = x[i] - mean; var += d * d; }
    var /= n;
    float invf = (float)(1.0 / sqrt(var + eps)), muf = (float)mean;
    v128_t inv = wasm_f32x4_splat(invf), muv = wasm_f32x4_splat(muf);
    for (int i = 0; i < body; i += 4) {
        v128_t v = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + i), muv), inv), wasm_v128_load(w + i));
        wasm_v128_store(y + i, wasm_f32x4_add(v, wasm_v128_load(b + i)));
    }
    for (int i = body; i < n; i++) y[i] = (x[i] - muf) * invf * w[i] + b[i];
}

/* As the scalar softmax, with exp4; lanes whose x - max falls below -103 (expf is already
 * subnormal there) are exactly 0, so masked (-INFINITY) keys drop out as in the scalar one. */
static void wasm_softmax(float *x, int n) {
    float mx = x[0];
    for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    v128_t top = wasm_f32x4_splat(mx), floor = wasm_f32x4_splat(-103.0f), sum = wasm_f32x4_splat(0.0f);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(x + i), top);
        v128_t e = wasm_v128_and(exp4(d), wasm_f32x4_ge(d, floor));
        sum = wasm_f32x4_add(sum, e);
        wasm_v128_store(x + i, e);
    }
    float total = hsum4(sum);
    for (; i < n; i++) {
        float d = x[i] - mx;
        x[i] = d >= -103.0f ? expf(d) : 0.0f;
        total += x[i];
    }
    v128_t inv = wasm_f32x4_splat(1.0f / total);
    i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(x + i, wasm_f32x4_mul(wasm_v128_load(x + i), inv));
    for (; i < n; i++) x[i] *= 1.0f / total;
}

/* Scaled scores of keys i .. i + 4·NV - 1 for the tile's R rows: NV vectors of keys per row,
 * so each load of K serves R rows. */
AI void attend_scores(const seam_attend_tile *a, const int R, const int NV, int i, size_t lds, v128_t sc) {
    v128_t s[SEAM_ATTEND_ROWS][2];
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) s[r][0] = s[r][1] = wasm_f32x4_splat(0.0f);
    for (int d = 0; d < a->D; d++) {
        const float *row = a->kt + (size_t)d * a->ld + i;
        v128_t k[2];
        for (int v = 0; v < NV; v++) k[v] = wasm_v128_load(row + 4 * v);
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
            v128_t qd = wasm_f32x4_splat(a->q[(size_t)r * a->ldq + (size_t)d]);
            for (int v = 0; v < NV; v++) s[r][v] = wasm_f32x4_add(s[r][v], wasm_f32x4_mul(qd, k[v]));
        }
    }
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) wasm_v128_store(a->scores + (size_t)r * lds + i + 4 * v, wasm_f32x4_mul(s[r][v], sc));
}

/* An attention tile with its row count fixed at compile time, as in kernels_avx2.c: scores
 * for 8 keys x R rows (2R accumulators: each load of K serves R rows), softmax per row, then
 * the output, from V in rows (8 components x R rows per pass, no horizontal sums) or from
 * transposed V (2 components x R rows per pass, summed across lanes at the end). Tails of
 * keys and components go element by element. Without it the browser composed axpy and dot
 * per query row and component: 12% of a GPT-2 decode step. */
AI void attend_rows(const seam_attend_tile *a, const int R) {
    int D = a->D, nmax = a->n + (a->causal ? R - 1 : 0), body = nmax / 8 * 8;
    size_t lds = (size_t)(a->n + a->R), ld = a->ld;
    v128_t sc = wasm_f32x4_splat(a->scale);
    for (int i = 0; i < body; i += 8) attend_scores(a, R, 2, i, lds, sc);
    /* a causal prompt tile of 4 rows ends on a multiple of 4 keys, so half of them leave 4
     * past the last 8: one vector per row rather than the scalar loop below */
    if (nmax - body >= 4) {
        attend_scores(a, R, 1, body, lds, sc);
        body += 4;
    }
    _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
        for (int i = body; i < nmax; i++) {
            float sum = 0.0f;
            for (int d = 0; d < D; d++) sum += a->q[(size_t)r * a->ldq + (size_t)d] * a->kt[(size_t)d * ld + (size_t)i];
            a->scores[(size_t)r * lds + (size_t)i] = sum * a->scale;
        }
    seam_attend_probs(a, nmax, lds, wasm_softmax);
    if (a->v) {
        int d0 = 0;
        for (; d0 + 8 <= D; d0 += 8) {
            v128_t o0[SEAM_ATTEND_ROWS], o1[SEAM_ATTEND_ROWS];
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) o0[r] = o1[r] = wasm_f32x4_splat(0.0f);
            for (int i = 0; i < nmax; i++) {
                const float *vr = a->v + (size_t)i * a->ldv + d0;
                v128_t v0 = wasm_v128_load(vr), v1 = wasm_v128_load(vr + 4);
                _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
                    v128_t p = wasm_f32x4_splat(a->scores[(size_t)r * lds + (size_t)i]);
                    o0[r] = wasm_f32x4_add(o0[r], wasm_f32x4_mul(p, v0));
                    o1[r] = wasm_f32x4_add(o1[r], wasm_f32x4_mul(p, v1));
                }
            }
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
                wasm_v128_store(a->out + (size_t)r * a->ldo + (size_t)d0, o0[r]);
                wasm_v128_store(a->out + (size_t)r * a->ldo + (size_t)d0 + 4, o1[r]);
            }
        }
        for (; d0 < D; d0++)
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
                float sum = 0.0f;
                for (int i = 0; i < nmax; i++) sum += a->scores[(size_t)r * lds + (size_t)i] * a->v[(size_t)i * a->ldv + (size_t)d0];
                a->out[(size_t)r * a->ldo + (size_t)d0] = sum;
            }
        return;
    }
    int d = 0, vb = nmax / 4 * 4;
    for (; d + 2 <= D; d += 2) {
        const float *v0 = a->vt + (size_t)d * ld, *v1 = v0 + ld;
        v128_t acc0[SEAM_ATTEND_ROWS], acc1[SEAM_ATTEND_ROWS];
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) acc0[r] = acc1[r] = wasm_f32x4_splat(0.0f);
        for (int i = 0; i < vb; i += 4) {
            v128_t w0 = wasm_v128_load(v0 + i), w1 = wasm_v128_load(v1 + i);
            _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
                v128_t p = wasm_v128_load(a->scores + (size_t)r * lds + i);
                acc0[r] = wasm_f32x4_add(acc0[r], wasm_f32x4_mul(p, w0));
                acc1[r] = wasm_f32x4_add(acc1[r], wasm_f32x4_mul(p, w1));
            }
        }
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++) {
            const float *p = a->scores + (size_t)r * lds;
            float s0 = hsum4(acc0[r]), s1 = hsum4(acc1[r]);
            for (int i = vb; i < nmax; i++) { s0 += p[i] * v0[i]; s1 += p[i] * v1[i]; }
            a->out[(size_t)r * a->ldo + (size_t)d] = s0;
            a->out[(size_t)r * a->ldo + (size_t)d + 1] = s1;
        }
    }
    for (; d < D; d++)
        _Pragma("GCC unroll 4") for (int r = 0; r < R; r++)
            a->out[(size_t)r * a->ldo + (size_t)d] = wasm_dot(a->scores + (size_t)r * lds, a->vt + (size_t)d * ld, nmax);
}

static void wasm_attend(const seam_attend_tile *a) {
    switch (a->R) {
    case 4: attend_rows(a, 4); break;
    case 3: attend_rows(a, 3); break;
    case 2: attend_rows(a, 2); break;
    default: attend_rows(a, 1); break;
    }
}

/* As seam_transpose_generic, with each 4 x 4 block transposed in registers: emscripten's
 * clang leaves the portable block as 32 scalar loads and stores, and the K/V transposes
 * of a GPT-2 prefill took 1.8% of it in Chromium that way. The last rows and columns
 * (fewer than 4 of each) go to the portable version. */
static void wasm_transpose(const float *src, size_t lds, int rows, int cols, float *dst, size_t ldd) {
    int rb = rows / 4 * 4, cb = cols / 4 * 4;
    /* blocks of 64 rows keep their cache lines in L1 while every component is written */
    for (int r0 = 0; r0 < rb; r0 += 64) {
        int r1 = rb - r0 < 64 ? rb : r0 + 64;
        for (int c = 0; c < cb; c += 4)
            for (int r = r0; r < r1; r += 4) {
                const float *s = src + (size_t)r * lds + (size_t)c;
                v128_t out[4];
                transpose4_i32(wasm_v128_load(s), wasm_v128_load(s + lds), wasm_v128_load(s + 2 * lds),
                               wasm_v128_load(s + 3 * lds), out);
                for (int i = 0; i < 4; i++) wasm_v128_store(dst + (size_t)(c + i) * ldd + (size_t)r, out[i]);
            }
    }
    if (cb < cols) seam_transpose_generic(src + cb, lds, rows, cols - cb, dst + (size_t)cb * ldd, ldd);
    if (rb < rows) seam_transpose_generic(src + (size_t)rb * lds, lds, rows - rb, cb, dst + rb, ldd);
}

static void wasm_matmul_packed(const float *x, int T, const float *packed, int K, int N, const float *b, float *y, int n0,
                               int n1) {
    /* by panels (gemm_run_panel_outer): 1.04-1.08x at 64-384 rows under node on the Zen 3 VM */
    gemm_run_prepacked(wg_tiles, wg_tiles, x, T, packed, K, (size_t)N, b, y, n0, n1);
}

/* No matmul_qf: without FMA, the f32 GEMM on dequantised q8 panels (12.6 GMAC/s on GPT-2's
 * 2304 x 768 at T = 128 in node) loses to the integer tiles of quant_wasm.c (15.0 then, 27-29
 * since their weights are regrouped by value pairs), whose i32x4.dot_i16x8_s does eight
 * multiply-adds per instruction. */
const seam_kernels seam_kernels_wasm = {
    "wasm", wasm_matmul_kn, wasm_matmul_nk, wasm_dot, wasm_axpy, wasm_scale, wasm_row_to_f32,
    wasm_activation, wasm_softmax, wasm_layernorm, wasm_attend, NULL, GEMM_NR, gemm_prepack_nk, wasm_matmul_packed, 1, 1, 0,
    wasm_transpose, GEMM_MR,
};
#endif
