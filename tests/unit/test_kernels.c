/* Every SIMD kernel against the scalar reference, on sizes that leave tails. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/ops.h"
#include "kernels/kernels.h"
#include "test.h"
#include "util/pool.h"

static uint64_t rs = 42;
static float frand(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rs >> 40) / (double)(1 << 24)) * 2.0f - 1.0f;
}

static void *make_weights(seam_dtype dt, int rows, int cols) {
    size_t n = (size_t)rows * cols;
    if (dt == SEAM_DTYPE_F32) {
        float *w = malloc(n * 4);
        for (size_t i = 0; i < n; i++) w[i] = frand();
        return w;
    }
    uint16_t *w = malloc(n * 2);
    for (size_t i = 0; i < n; i++) {
        float f = frand();
        if (dt == SEAM_DTYPE_F16) w[i] = seam_f32_to_f16(f);
        else { uint32_t b; memcpy(&b, &f, 4); w[i] = (uint16_t)(b >> 16); }
    }
    return w;
}

static double max_rel(const float *a, const float *b, size_t n) {
    double m = 0, scale = 1e-6;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(b[i]));
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - b[i]) / scale);
    return m;
}

static const seam_kernels *simd_tables[8];
static int n_simd(void) {
    int n = 0;
    const char *names[] = {"avx2", "avx512", "neon", "wasm"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const seam_kernels *k = seam_kernels_by_name(names[i]);
        if (k) simd_tables[n++] = k;
    }
    return n;
}

/* k's pre-packed GEMM on the Linear weight nk (x[T, K], bias b) against ref, the scalar
 * x @ nk^T without bias; then the columns from the second panel on (a worker's share),
 * which must leave the others alone. Returns 1 after a failure. */
static int check_packed(const seam_kernels *k, const float *x, int T, const seam_mat *nk, const float *b, const float *ref) {
    int N = nk->rows, K = nk->cols, bad = 0;
    float *P = aligned_alloc(64, (seam_packed_floats(k, N, K) * 4 + 63) / 64 * 64), *got = malloc((size_t)T * N * 4);
    k->pack_nk(nk, P);
    for (int pass = 0; pass < 2 && !bad; pass++) {
        int n0 = pass ? k->pack_nr : 0, n1 = pass ? N - 1 : N;
        if (n0 >= n1) break;
        for (int i = 0; i < T * N; i++) got[i] = 12345.0f;
        k->matmul_packed(x, T, P, K, N, b, got, n0, n1);
        for (int t = 0; t < T && !bad; t++)
            for (int n = 0; n < N; n++) {
                float g = got[t * N + n], want = ref[t * N + n] + b[n];
                if (n >= n0 && n < n1 ? fabsf(g - want) > 1e-4f * (1 + fabsf(want)) : g != 12345.0f) {
                    bad = test_fail(__FILE__, __LINE__, "%s packed dtype %d T%d K%d N%d cols [%d,%d) col %d: %g vs %g", k->name,
                                    nk->dtype, T, K, N, n0, n1, n, g, want) + 1;
                    break;
                }
            }
    }
    free(P);
    free(got);
    return bad;
}

/* Every SIMD table's matmul_kn and matmul_nk against the scalar ones on one shape, and
 * (range_check) a column sub-range writing only its columns. Returns 1 after a failure. */
static int check_matmul_shape(int T, int K, int N, seam_dtype d, int range_check) {
    seam_mat kn = {make_weights(d, K, N), d, K, N};
    seam_mat nk = {make_weights(d, N, K), d, N, K};
    float *x = malloc((size_t)T * K * 4), *b = malloc((size_t)N * 4);
    float *ref = malloc((size_t)T * N * 4), *got = malloc((size_t)T * N * 4);
    for (int i = 0; i < T * K; i++) x[i] = frand();
    for (int i = 0; i < N; i++) b[i] = frand();
    int bad = 0, ns = n_simd();
    for (int s = 0; s < ns && !bad; s++) {
        seam_kernels_scalar.matmul_kn(x, T, &kn, b, ref, 0, N);
        simd_tables[s]->matmul_kn(x, T, &kn, b, got, 0, N);
        double e = max_rel(got, ref, (size_t)T * N);
        if (e > 1e-5) bad = test_fail(__FILE__, __LINE__, "%s kn dtype %d T%d K%d N%d: %g", simd_tables[s]->name, d, T, K, N, e) + 1;
        seam_kernels_scalar.matmul_nk(x, T, &nk, ref, 0, N);
        simd_tables[s]->matmul_nk(x, T, &nk, got, 0, N);
        e = max_rel(got, ref, (size_t)T * N);
        if (e > 1e-5) bad = test_fail(__FILE__, __LINE__, "%s nk dtype %d T%d K%d N%d: %g", simd_tables[s]->name, d, T, K, N, e) + 1;
        if (simd_tables[s]->pack_nk && !bad) bad = check_packed(simd_tables[s], x, T, &nk, b, ref);
        if (range_check && N >= 5) {
            for (int i = 0; i < T * N; i++) got[i] = 12345.0f;
            simd_tables[s]->matmul_kn(x, T, &kn, b, got, 1, N - 2);
            seam_kernels_scalar.matmul_kn(x, T, &kn, b, ref, 0, N);
            for (int t = 0; t < T && !bad; t++)
                for (int n = 0; n < N; n++) {
                    int inside = n >= 1 && n < N - 2;
                    float g = got[t * N + n];
                    if (inside ? fabsf(g - ref[t * N + n]) > 1e-4f * (1 + fabsf(ref[t * N + n])) : g != 12345.0f) {
                        bad = test_fail(__FILE__, __LINE__, "%s kn range T%d N%d col %d", simd_tables[s]->name, T, N, n) + 1;
                        break;
                    }
                }
        }
    }
    free((void *)kn.data); free((void *)nk.data); free(x); free(b); free(ref); free(got);
    return bad;
}

TEST(test_kernels_matmul_matches_scalar) {
    /* T up to 25 and K past 256 reach every register-tile height and several packed
     * k-blocks of the GEMM paths. */
    const int Ts[] = {1, 2, 3, 4, 5, 7, 9, 12, 13, 25};
    const int Ks[] = {1, 7, 16, 33, 64, 300};
    const int Ns[] = {1, 5, 15, 16, 17, 40, 300};
    for (int d = 0; d < 3; d++)
        for (size_t ti = 0; ti < sizeof Ts / sizeof *Ts; ti++)
            for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++)
                for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++)
                    if (check_matmul_shape(Ts[ti], Ks[ki], Ns[ni], (seam_dtype)d, 1)) return;
}

/* Products of many rows take other loops than a few rows' (kernels_avx2.c and
 * kernels_wasm.c: by panels over blocks of 48 rows, 40 on WebAssembly, and 384 inputs;
 * rows that alias in L1, K = 1024 here, go back to gemm_run): several row blocks, k-blocks
 * with a short last one, and column tails, against the scalar GEMM; and the bits must not
 * depend on how rows are grouped (bert.c's batch of one and padded batch give the same
 * rows the same bits), so all rows at once must equal 5 rows at a time, with a bias and
 * without (then also against the scalar GEMM, as check_packed does with one). */
TEST(test_kernels_packed_gemm_many_rows) {
    const int shapes[][3] = {{100, 1000, 40}, {49, 385, 17}, {130, 64, 300}, {25, 768, 33}, {60, 1024, 40}}; /* T, K, N */
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        int T = shapes[si][0], K = shapes[si][1], N = shapes[si][2];
        if (check_matmul_shape(T, K, N, SEAM_DTYPE_F32, 0)) return;
        seam_mat nk = {make_weights(SEAM_DTYPE_F32, N, K), SEAM_DTYPE_F32, N, K};
        float *x = malloc((size_t)T * K * 4), *b = malloc((size_t)N * 4);
        float *all = malloc((size_t)T * N * 4), *by5 = malloc((size_t)T * N * 4), *ref = malloc((size_t)T * N * 4);
        for (int i = 0; i < T * K; i++) x[i] = frand();
        for (int i = 0; i < N; i++) b[i] = frand();
        seam_kernels_scalar.matmul_nk(x, T, &nk, ref, 0, N); /* x @ nk^T, no bias */
        int bad = 0;
        for (int s = 0; s < n_simd() && !bad; s++) {
            const seam_kernels *k = simd_tables[s];
            if (!k->pack_nk) continue;
            float *P = aligned_alloc(64, (seam_packed_floats(k, N, K) * 4 + 63) / 64 * 64);
            k->pack_nk(&nk, P);
            for (int with_bias = 1; with_bias >= 0 && !bad; with_bias--) {
                const float *bias = with_bias ? b : NULL;
                k->matmul_packed(x, T, P, K, N, bias, all, 0, N);
                for (int t = 0; t < T; t += 5)
                    k->matmul_packed(x + (size_t)t * K, T - t < 5 ? T - t : 5, P, K, N, bias, by5 + (size_t)t * N, 0, N);
                if (memcmp(all, by5, (size_t)T * N * 4))
                    bad = test_fail(__FILE__, __LINE__, "%s packed T%d K%d N%d bias %d: other bits 5 rows at a time", k->name, T, K,
                                    N, with_bias);
                for (int i = 0; i < T * N && !bad && !with_bias; i++)
                    if (fabsf(all[i] - ref[i]) > 1e-4f * (1 + fabsf(ref[i])))
                        bad = test_fail(__FILE__, __LINE__, "%s packed T%d K%d N%d without bias: [%d, %d] %g vs %g", k->name, T, K,
                                        N, i / N, i % N, all[i], ref[i]);
            }
            free(P);
        }
        free((void *)nk.data); free(x); free(b); free(all); free(by5); free(ref);
        if (bad) return;
    }
}

/* Weights mapped from a file start wherever its header ends: at every element offset within
 * a cache line, so each table's head before its first aligned vector (decode's matvec, from
 * 256 columns) runs at every length, on rows that share an alignment (N = 64, 320) and rows
 * that do not; and the results must not depend on the offset (a shard maps its weights
 * elsewhere than the whole model, and must compute the same bits). */
TEST(test_kernels_matmul_weights_at_any_offset) {
    const int shapes[][2] = {{40, 70}, {64, 64}, {33, 17}, {9, 300}, {20, 320}}; /* K, N */
    for (int d = 0; d < 3; d++)
        for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
            int K = shapes[si][0], N = shapes[si][1], T = 1 + (int)si % 2;
            size_t es = d == SEAM_DTYPE_F32 ? 4 : 2, bytes = (size_t)K * N * es;
            void *src_kn = make_weights((seam_dtype)d, K, N), *src_nk = make_weights((seam_dtype)d, N, K);
            char *buf_kn = aligned_alloc(64, (bytes + 64 + 63) / 64 * 64), *buf_nk = aligned_alloc(64, (bytes + 64 + 63) / 64 * 64);
            float *x = malloc((size_t)T * K * 4), *ref = malloc((size_t)T * N * 4), *got = malloc((size_t)T * N * 4);
            float *at0 = malloc((size_t)n_simd() * 2 * T * N * 4); /* each table's kn and nk results at offset 0 */
            for (int i = 0; i < T * K; i++) x[i] = frand();
            int bad = 0;
            for (size_t off = 0; off < 64 / es && !bad; off++) {
                memcpy(buf_kn + off * es, src_kn, bytes);
                memcpy(buf_nk + off * es, src_nk, bytes);
                seam_mat kn = {buf_kn + off * es, (seam_dtype)d, K, N}, nk = {buf_nk + off * es, (seam_dtype)d, N, K};
                for (int s = 0; s < n_simd() && !bad; s++) {
                    seam_kernels_scalar.matmul_kn(x, T, &kn, NULL, ref, 0, N);
                    simd_tables[s]->matmul_kn(x, T, &kn, NULL, got, 0, N);
                    double e = max_rel(got, ref, (size_t)T * N);
                    if (e > 1e-5)
                        bad = test_fail(__FILE__, __LINE__, "%s kn dtype %d K%d N%d at +%zu: %g", simd_tables[s]->name, d, K, N, off, e);
                    float *first = at0 + (size_t)s * 2 * T * N;
                    if (!off) memcpy(first, got, (size_t)T * N * 4);
                    else if (!bad && memcmp(first, got, (size_t)T * N * 4))
                        bad = test_fail(__FILE__, __LINE__, "%s kn dtype %d K%d N%d: other bits at +%zu", simd_tables[s]->name, d, K, N, off);
                    seam_kernels_scalar.matmul_nk(x, T, &nk, ref, 0, N);
                    simd_tables[s]->matmul_nk(x, T, &nk, got, 0, N);
                    e = max_rel(got, ref, (size_t)T * N);
                    if (!bad && e > 1e-5)
                        bad = test_fail(__FILE__, __LINE__, "%s nk dtype %d K%d N%d at +%zu: %g", simd_tables[s]->name, d, K, N, off, e);
                    if (!off) memcpy(first + (size_t)T * N, got, (size_t)T * N * 4);
                    else if (!bad && memcmp(first + (size_t)T * N, got, (size_t)T * N * 4))
                        bad = test_fail(__FILE__, __LINE__, "%s nk dtype %d K%d N%d: other bits at +%zu", simd_tables[s]->name, d, K, N, off);
                }
            }
            free(src_kn); free(src_nk); free(buf_kn); free(buf_nk); free(x); free(ref); free(got); free(at0);
            if (bad) return;
        }
}

/* Shapes past the size switches inside the SIMD tables (the Linear layout takes the packed
 * GEMM once T * K reaches 2^16; several k-blocks and column groups), with tails everywhere. */
TEST(test_kernels_large_matmul_matches_scalar) {
    /* 203 rows: several row blocks of the pre-packed GEMM (GEMM_MB) with a short last one */
    const int shapes[][3] = {{37, 1777, 45}, {70, 1025, 300}, {13, 5000, 33}, {203, 260, 70}};
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
        for (int d = 0; d < 3; d++)
            if (check_matmul_shape(shapes[si][0], shapes[si][1], shapes[si][2], (seam_dtype)d, 0)) return;
}

TEST(test_kernels_vector_ops_match_scalar) {
    int ns = n_simd();
    for (int n = 0; n < 70; n++) {
        float a[70], b[70], y1[70], y2[70], row1[70], row2[70];
        for (int i = 0; i < n; i++) { a[i] = frand(); b[i] = frand(); y1[i] = y2[i] = frand(); }
        for (int s = 0; s < ns; s++) {
            const seam_kernels *k = simd_tables[s];
            float d0 = seam_kernels_scalar.dot(a, b, n), d1 = k->dot(a, b, n);
            CHECKF(fabsf(d0 - d1) <= 1e-5f * (1 + fabsf(d0)), "%s dot n=%d %g vs %g", k->name, n, d1, d0);
            memcpy(y2, y1, sizeof y1);
            float y3[70];
            memcpy(y3, y1, sizeof y1);
            seam_kernels_scalar.axpy(0.7f, a, y3, n);
            k->axpy(0.7f, a, y2, n);
            CHECKF(n == 0 || max_rel(y2, y3, (size_t)n) < 1e-6, "%s axpy n=%d", k->name, n);
            seam_kernels_scalar.scale(y3, 1.3f, n);
            k->scale(y2, 1.3f, n);
            CHECKF(n == 0 || max_rel(y2, y3, (size_t)n) < 1e-6, "%s scale n=%d", k->name, n);
            for (int d = 0; d < 3 && n > 0; d++) {
                seam_mat W = {make_weights((seam_dtype)d, 2, n), (seam_dtype)d, 2, n};
                seam_kernels_scalar.row_to_f32(&W, 1, row1);
                k->row_to_f32(&W, 1, row2);
                int same = memcmp(row1, row2, (size_t)n * 4) == 0;
                free((void *)W.data);
                CHECKF(same, "%s row_to_f32 dtype %d n=%d", k->name, d, n);
            }
        }
    }
}

TEST(test_kernels_f16_conversion_round_trips) {
    for (uint32_t h = 0; h < 65536; h++) {
        uint16_t x = (uint16_t)h;
        if ((x & 0x7C00) == 0x7C00 && (x & 0x3FF)) continue; /* NaN payloads need not survive */
        CHECKF(seam_f32_to_f16(seam_f16_to_f32(x)) == x, "f16 0x%04x", h);
    }
    CHECK(seam_f32_to_f16(65520.0f) == 0x7C00);  /* rounds to infinity */
    CHECK(seam_f32_to_f16(1.0f + 1.0f / 4096) == 0x3C00); /* ties to even */
}

TEST(test_kernels_activation_matches_libm) {
    int ns = n_simd();
    float x[203], ref[203], got[203];
    for (int i = 0; i < 203; i++) x[i] = (i - 101) * 0.09f + (i % 7) * 0.001f; /* [-9.1, 9.1] */
    for (int act = 0; act < 4; act++)
        for (int s = 0; s < ns; s++)
            for (int n = 0; n <= 203; n += (n < 40 ? 1 : 37)) {
                memcpy(ref, x, sizeof x);
                memcpy(got, x, sizeof x);
                seam_activation_scalar(act, ref, n);
                simd_tables[s]->activation(act, got, n);
                for (int i = 0; i < 203; i++) {
                    float tol = 2e-6f * (1.0f + fabsf(ref[i]));
                    if (i >= n) CHECKF(got[i] == x[i], "%s act %d n %d wrote past the end", simd_tables[s]->name, act, n);
                    else CHECKF(fabsf(got[i] - ref[i]) <= tol, "%s act %d x=%g: %g vs %g", simd_tables[s]->name, act, x[i], got[i], ref[i]);
                }
            }
}

TEST(test_kernels_layernorm_and_softmax) {
    float x[5] = {1, 2, 3, 4, 100}, w[5] = {1, 1, 1, 1, 1}, b[5] = {0}, y[5];
    seam_layernorm_scalar(x, w, b, 1e-5f, y, 5);
    double mean = 0;
    for (int i = 0; i < 5; i++) mean += y[i];
    CHECK(fabs(mean) < 1e-5);
    float s[4] = {1000, 1000, -1000, 0};
    seam_softmax(s, 4);
    CHECK(fabsf(s[0] - 0.5f) < 1e-6f && s[2] == 0.0f);
}

TEST(test_kernels_softmax_matches_scalar) {
    int ns = n_simd();
    float x[301], ref[301], got[301];
    for (int n = 1; n <= 301; n += (n < 40 ? 1 : 29)) {
        for (int i = 0; i < n; i++) x[i] = frand() * 30.0f;
        if (n > 3) x[n / 2] = x[n - 1] = -INFINITY; /* masked keys */
        for (int s = 0; s < ns; s++) {
            memcpy(ref, x, sizeof x);
            memcpy(got, x, sizeof x);
            seam_kernels_scalar.softmax(ref, n);
            simd_tables[s]->softmax(got, n);
            for (int i = 0; i < n; i++) {
                if (x[i] == -INFINITY) CHECKF(got[i] == 0.0f, "%s softmax n %d: masked key %d is %g", simd_tables[s]->name, n, i, got[i]);
                else CHECKF(fabsf(got[i] - ref[i]) <= 2e-6f * (1.0f + ref[i]), "%s softmax n %d [%d]: %g vs %g", simd_tables[s]->name, n, i, got[i], ref[i]);
            }
        }
    }
}

TEST(test_kernels_layernorm_matches_scalar) {
    int ns = n_simd();
    float x[203], w[203], b[203], ref[203], got[203];
    for (int i = 0; i < 203; i++) { x[i] = frand() * 4.0f + 3.0f; w[i] = frand(); b[i] = frand(); }
    for (int n = 1; n <= 203; n += (n < 40 ? 1 : 27))
        for (int s = 0; s < ns; s++) {
            got[n - 1 < 202 ? n : 202] = 777.0f;
            seam_layernorm_scalar(x, w, b, 1e-5f, ref, n);
            simd_tables[s]->layernorm(x, w, b, 1e-5f, got, n);
            CHECKF(max_rel(got, ref, (size_t)n) < 1e-6, "%s layernorm n %d: %g", simd_tables[s]->name, n, max_rel(got, ref, (size_t)n));
            if (n < 203) CHECKF(got[n] == 777.0f || n == 202, "%s layernorm n %d wrote past the end", simd_tables[s]->name, n);
        }
}

/* The fused attention tiles against the composition of scalar axpy, softmax and dot, over
 * tile heights, causal and not, key counts and head sizes with tails, a padded row stride
 * and masked keys. */
TEST(test_kernels_attend_matches_generic) {
    enum { LD = 150, DMAX = 67, QLD = 70 };
    static float kt[DMAX * LD], vt[DMAX * LD], vrows[LD * QLD], q[SEAM_ATTEND_ROWS * QLD];
    float ref[SEAM_ATTEND_ROWS * QLD], got[SEAM_ATTEND_ROWS * QLD], sc[SEAM_ATTEND_ROWS * (LD + SEAM_ATTEND_ROWS)];
    int32_t mask[LD];
    for (int i = 0; i < DMAX * LD; i++) { kt[i] = frand(); vt[i] = frand(); }
    /* the same V in rows (row stride QLD), for tiles given v instead of vt */
    for (int d = 0; d < DMAX; d++)
        for (int i = 0; i < LD; i++) vrows[i * QLD + d] = vt[d * LD + i];
    for (int i = 0; i < SEAM_ATTEND_ROWS * QLD; i++) q[i] = frand();
    for (int i = 0; i < LD; i++) mask[i] = i % 5 != 3;
    const int Ds[] = {1, 3, 8, 13, 16, 24, 45, 64, 67}, ns_keys[] = {1, 2, 7, 15, 16, 17, 31, 33, 64, 65, 129, 146};
    int ns = n_simd();
    for (size_t di = 0; di < sizeof Ds / sizeof *Ds; di++)
        for (size_t ni = 0; ni < sizeof ns_keys / sizeof *ns_keys; ni++)
            for (int R = 1; R <= SEAM_ATTEND_ROWS; R++)
                for (int variant = 0; variant < 6; variant++) /* causal, plain, masked; V in columns, then rows */
                    for (int s = 0; s < ns; s++) {
                        const seam_kernels *k = simd_tables[s];
                        if (!k->attend) continue;
                        int D = Ds[di], n = ns_keys[ni];
                        int shape = variant % 3, rows = variant >= 3;
                        seam_attend_tile a = {q, QLD, kt, rows ? NULL : vt, LD, R, n, shape == 0, D, 0.3f,
                                              shape == 2 && n > 1 ? mask : NULL, sc, ref, QLD, rows ? vrows : NULL, QLD};
                        seam_attend_generic(&seam_kernels_scalar, &a);
                        a.out = got;
                        k->attend(&a);
                        /* Outputs are convex combinations of V's entries (in [-1, 1]), so the
                         * error is measured against that scale: a relative measure would blow
                         * up on outputs that cancel to near zero. */
                        double e = 0;
                        for (int r = 0; r < R; r++)
                            for (int d = 0; d < D; d++) e = fmax(e, fabs((double)got[r * QLD + d] - ref[r * QLD + d]));
                        CHECKF(e < 1e-5, "%s attend R %d D %d n %d variant %d: %g", k->name, R, D, n, variant, e);
                    }
}

/* One-row Conv1D products split along K across threads (decode_split_k): the partial sums
 * of every thread add up to the one-thread product, for every dtype, with more threads
 * than rows too (a thread with no rows contributes zeros). Runs each compiled table, with
 * the split switched on in a copy where the table itself leaves it off. */
TEST(test_ops_matmul_kn_split_k_matches_one_thread) {
    const int Ks[] = {2, 37, 768}, Ns[] = {5, 21, 64};
    const char *names[] = {"scalar", "avx2", "avx512", "neon", "wasm"};
    seam_pool *pool = NULL;
    CHECK(seam_pool_new(3, &pool, NULL) == SEAM_OK);
    for (size_t ti = 0; ti < sizeof names / sizeof *names; ti++) {
        const seam_kernels *base = seam_kernels_by_name(names[ti]);
        if (!base) continue;
        seam_kernels k = *base;
        k.decode_split_k = 1;
        for (int dt = SEAM_DTYPE_F32; dt <= SEAM_DTYPE_BF16; dt++)
            for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++)
                for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++) {
                    int K = Ks[ki], N = Ns[ni];
                    seam_mat W = {make_weights((seam_dtype)dt, K, N), (seam_dtype)dt, K, N};
                    float *x = malloc((size_t)K * 4), *b = malloc((size_t)N * 4), *y0 = malloc((size_t)N * 4);
                    float *y1 = malloc((size_t)N * 4), *part = malloc(OP_SPLIT_K_FLOATS(3, N) * 4);
                    double mag = 0;
                    for (int i = 0; i < K; i++) x[i] = frand();
                    for (int n = 0; n < N; n++) b[n] = frand();
                    for (int i = 0; i < K; i++) mag += fabs(x[i]);
                    base->matmul_kn(x, 1, &W, b, y0, 0, N);
                    for (int n = 0; n < N; n++) y1[n] = -7.0f;
                    op_matmul_kn(pool, &k, x, 1, &W, b, y1, part);
                    for (int n = 0; n < N; n++)
                        CHECKF(fabs((double)y1[n] - y0[n]) <= 1e-5 * (mag + 1), "%s dtype %d K %d N %d col %d: split %.9g, "
                               "one thread %.9g", names[ti], dt, K, N, n, y1[n], y0[n]);
                    free((void *)W.data); free(x); free(b); free(y0); free(y1); free(part);
                }
    }
    seam_pool_free(pool);
}

/* Every table's transpose against the definition, bit for bit, on sizes with row and column
 * tails and past a 64-row block, and without touching the padding of either stride. */
TEST(test_kernels_transpose_matches_definition) {
    const char *names[] = {"scalar", "avx2", "avx512", "neon", "wasm"};
    const int shapes[][2] = {{1, 1}, {3, 5}, {4, 4}, {7, 9}, {64, 12}, {70, 13}, {131, 37}};
    for (size_t ti = 0; ti < sizeof names / sizeof *names; ti++) {
        const seam_kernels *k = seam_kernels_by_name(names[ti]);
        if (!k) continue;
        CHECKF(k->transpose != NULL, "%s has no transpose", names[ti]);
        for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
            int R = shapes[si][0], C = shapes[si][1];
            size_t lds = (size_t)C + 3, ldd = (size_t)R + 5;
            float *src = malloc((size_t)R * lds * 4), *dst = malloc((size_t)C * ldd * 4);
            for (size_t i = 0; i < (size_t)R * lds; i++) src[i] = frand();
            for (size_t i = 0; i < (size_t)C * ldd; i++) dst[i] = -9.0f;
            k->transpose(src, lds, R, C, dst, ldd);
            int bad = 0;
            for (int c = 0; c < C && !bad; c++)
                for (size_t r = 0; r < ldd && !bad; r++) {
                    float want = r < (size_t)R ? src[r * lds + (size_t)c] : -9.0f;
                    if (memcmp(&dst[(size_t)c * ldd + r], &want, 4))
                        bad = test_fail(__FILE__, __LINE__, "%s transpose %dx%d: dst[%d][%zu]", names[ti], R, C, c, r) + 1;
                }
            free(src); free(dst);
        }
    }
}
