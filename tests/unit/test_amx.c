/* The AMX GEMM (kernels/gemm_amx.h) on a plain-C emulation of the tile unit, so that machines
 * without AMX (CI among them) test its packing, blocking and edges; and on the hardware,
 * through seam_kernels_amx(), where the CPU has it. Its precision is "high" (three bf16
 * products), so it is held to a bound relative to sum |x_k w_k| rather than to scalar f32. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "graph/ops.h"
#include "kernels/kernels.h"
#include "test.h"
#include "util/pool.h"

/* ---------------------------------------------------------------- emulated tile unit */

typedef struct {
    int rows, colsb;
    unsigned char d[16][64];
} emu_tile;
static _Thread_local emu_tile emu[8]; /* per thread, as the hardware's */

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} emu_cfg;

static void emu_config(const void *p) {
    const emu_cfg *c = p;
    for (int t = 0; t < 8; t++) {
        emu[t].rows = c->rows[t];
        emu[t].colsb = c->colsb[t];
        memset(emu[t].d, 0, sizeof emu[t].d);
    }
}

static void emu_load(int t, const void *p, size_t stride) {
    memset(emu[t].d, 0, sizeof emu[t].d);
    for (int r = 0; r < emu[t].rows; r++) memcpy(emu[t].d[r], (const char *)p + (size_t)r * stride, (size_t)emu[t].colsb);
}

static void emu_store(int t, void *p, size_t stride) {
    for (int r = 0; r < emu[t].rows; r++) memcpy((char *)p + (size_t)r * stride, emu[t].d[r], (size_t)emu[t].colsb);
}

static float emu_bf16(const emu_tile *t, int r, int i) {
    uint16_t h;
    memcpy(&h, t->d[r] + 2 * i, 2);
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* TDPBF16PS: c[m][n] += sum over row k of b of a[m][2k] b[k][2n] + a[m][2k+1] b[k][2n+1]. */
static void emu_dp(int c, int a, int b) {
    for (int m = 0; m < emu[c].rows; m++)
        for (int n = 0; n < emu[c].colsb / 4; n++) {
            float acc;
            memcpy(&acc, emu[c].d[m] + 4 * n, 4);
            for (int k = 0; k < emu[b].rows; k++) {
                acc = fmaf(emu_bf16(&emu[a], m, 2 * k), emu_bf16(&emu[b], k, 2 * n), acc);
                acc = fmaf(emu_bf16(&emu[a], m, 2 * k + 1), emu_bf16(&emu[b], k, 2 * n + 1), acc);
            }
            memcpy(emu[c].d[m] + 4 * n, &acc, 4);
        }
}

#define AMX_CONFIG(cfg) emu_config(cfg)
#define AMX_ZERO(t) memset(emu[t].d, 0, sizeof emu[t].d)
#define AMX_LOAD(t, p, stride) emu_load(t, p, stride)
#define AMX_STORE(t, p, stride) emu_store(t, p, stride)
#define AMX_DP(c, a, b) emu_dp(c, a, b)
#define AMX_RELEASE() ((void)0)
#define AMX_PREFETCH_L2(p) ((void)(p))
#define amx_split amx_split_scalar
#include "kernels/gemm_amx.h"

static void emu_matmul_packed(const float *x, int T, const float *packed, int K, int N, const float *b, float *y, int n0,
                              int n1) {
    amx_gemm(x, T, packed, K, N, b, y, n0, n1);
}

static const seam_kernels emu_table = {
    .name = "amx-emulated", .pack_nr = AMX_NR, .pack_kr = AMX_KR, .packed_mr = AMX_MR, .pack_mr = AMX_MR,
    .pack_nk = amx_pack_nk, .matmul_packed = emu_matmul_packed,
};

/* ---------------------------------------------------------------- checks */

static uint64_t rs = 7;
static float frand(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rs >> 40) / (double)(1 << 24)) * 2.0f - 1.0f;
}

static uint16_t to_half(float f, seam_dtype dt) {
    if (dt == SEAM_DTYPE_F16) return seam_f32_to_f16(f);
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)(u >> 16);
}

/* k's packed GEMM on x [T, K] @ W [N, K]^T (+ b) over columns [n0, n1) against a double
 * reference: each output within 2^-14 of sum |x_k w_k| (three bf16 products keep ~16 bits),
 * the whole within 3e-5 relative L2 (one bf16 product alone gives ~2e-3), and the columns
 * outside [n0, n1) untouched. Returns 1 after a failure. */
static int check_amx(const seam_kernels *k, int T, int K, int N, seam_dtype dt, int bias, int n0, int n1) {
    size_t nw = (size_t)N * K;
    float *w = malloc(nw * 4), *x = malloc((size_t)T * K * 4), *b = malloc((size_t)N * 4), *y = malloc((size_t)T * N * 4);
    void *wd = dt == SEAM_DTYPE_F32 ? (void *)w : malloc(nw * 2);
    float *P = aligned_alloc(64, (seam_packed_floats(k, N, K) * 4 + 63) / 64 * 64);
    for (size_t i = 0; i < nw; i++) {
        w[i] = frand();
        if (dt != SEAM_DTYPE_F32) {
            ((uint16_t *)wd)[i] = to_half(w[i], dt);
            w[i] = dt == SEAM_DTYPE_F16 ? seam_f16_to_f32(((uint16_t *)wd)[i]) : seam_bf16_to_f32(((uint16_t *)wd)[i]);
        }
    }
    /* x spans several binades, as hidden states do */
    for (int i = 0; i < T * K; i++) x[i] = frand() * (i % 3 == 0 ? 8.0f : i % 3 == 1 ? 1.0f : 0.05f);
    for (int i = 0; i < N; i++) b[i] = frand();
    for (int i = 0; i < T * N; i++) y[i] = 12345.0f;
    seam_mat W = {wd, dt, N, K};
    k->pack_nk(&W, P);
    k->matmul_packed(x, T, P, K, N, bias ? b : NULL, y, n0, n1);
    int bad = 0;
    double e2 = 0, r2 = 0;
    for (int t = 0; t < T && !bad; t++)
        for (int n = 0; n < N; n++) {
            float g = y[(size_t)t * N + n];
            if (n < n0 || n >= n1) {
                if (g != 12345.0f) {
                    bad = test_fail(__FILE__, __LINE__, "%s T%d K%d N%d [%d,%d): column %d outside was written", k->name, T, K,
                                    N, n0, n1, n) + 1;
                    break;
                }
                continue;
            }
            double ref = bias ? b[n] : 0.0, mag = 0;
            for (int i = 0; i < K; i++) {
                double p = (double)x[(size_t)t * K + i] * w[(size_t)n * K + i];
                ref += p;
                mag += fabs(p);
            }
            e2 += (g - ref) * (g - ref);
            r2 += ref * ref;
            if (!(fabs(g - ref) <= mag / 16384.0 + 1e-6)) {
                bad = test_fail(__FILE__, __LINE__, "%s dtype %d T%d K%d N%d [%d,%d) bias %d: y[%d][%d] = %.9g, want %.9g", k->name,
                                dt, T, K, N, n0, n1, bias, t, n, g, ref) + 1;
                break;
            }
        }
    if (!bad && r2 > 0 && sqrt(e2 / r2) > 3e-5)
        bad = test_fail(__FILE__, __LINE__, "%s dtype %d T%d K%d N%d: relative L2 error %.3g", k->name, dt, T, K, N,
                        sqrt(e2 / r2)) + 1;
    if (wd != w) free(wd);
    free(w); free(x); free(b); free(y); free(P);
    return bad;
}

/* Rows past one row tile and one block of 8 (128 rows), inputs past one k-chunk (512; one
 * row tile's chunk is 4096) and off the 32-input steps, columns past a group of 4 tiles (64) and off the 16-column tiles. */
static int check_shapes(const seam_kernels *k) {
    const int Ts[] = {1, 12, 16, 17, 131};
    const int Ks[] = {1, 31, 64, 300, 600, 2100, 4200};
    const int Ns[] = {1, 15, 16, 17, 70, 130};
    for (size_t ti = 0; ti < sizeof Ts / sizeof *Ts; ti++)
        for (size_t ki = 0; ki < sizeof Ks / sizeof *Ks; ki++)
            for (size_t ni = 0; ni < sizeof Ns / sizeof *Ns; ni++) {
                int T = Ts[ti], K = Ks[ki], N = Ns[ni];
                if (T * K * N > 4000000 && !(T == 131 && K == 300)) continue; /* the emulation is slow */
                seam_dtype dt = (seam_dtype)((ti + ki + ni) % 3);
                if (check_amx(k, T, K, N, dt, (int)((ti + ni) & 1), 0, N)) return 1;
                /* a worker's share: from the second column tile, short of the last column */
                if (N > 17 && check_amx(k, T, K, N, SEAM_DTYPE_F32, 1, 16, N - 1)) return 1;
            }
    return 0;
}

TEST(test_amx_emulated_gemm_high_precision) {
    CHECK(!check_shapes(&emu_table));
}

TEST(test_amx_hardware_gemm_high_precision) {
    const seam_kernels *k = seam_kernels_amx();
    if (!k) return; /* no AMX here: the emulated test above covers the loops */
    CHECK(!check_shapes(k));
    /* the encoder shapes, where the hardware is fast enough to check them whole */
    CHECK(!check_amx(k, 384, 384, 1536, SEAM_DTYPE_F32, 1, 0, 1536));
    CHECK(!check_amx(k, 200, 1536, 384, SEAM_DTYPE_F32, 1, 0, 384));
}

/* Threads share the product by graph/ops.c's tile grid, or by its claims of rows (700 rows
 * on 5 threads): every output once, none twice. */
TEST(test_amx_emulated_gemm_on_threads) {
    const int shapes[][3] = {{100, 70, 200}, {12, 64, 384}, {384, 40, 48}, {5, 33, 1000}, {128, 96, 1152}, {40, 300, 130}, {700, 40, 100}};
    seam_pool *pool = NULL;
    seam_error err = {0};
    /* 5: the caller and 4 workers, as many as the WebAssembly test build pre-spawns */
    CHECKF(seam_pool_new(5, &pool, &err) == SEAM_OK, "%s", err.message);
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
        int T = shapes[si][0], K = shapes[si][1], N = shapes[si][2];
        float *w = malloc((size_t)N * K * 4), *x = malloc((size_t)T * K * 4), *b = malloc((size_t)N * 4);
        float *y1 = malloc((size_t)T * N * 4), *y2 = malloc((size_t)T * N * 4);
        float *P = aligned_alloc(64, (seam_packed_floats(&emu_table, N, K) * 4 + 63) / 64 * 64);
        for (int i = 0; i < N * K; i++) w[i] = frand();
        for (int i = 0; i < T * K; i++) x[i] = frand();
        for (int i = 0; i < N; i++) b[i] = frand();
        seam_mat W = {w, SEAM_DTYPE_F32, N, K};
        emu_table.pack_nk(&W, P);
        emu_table.matmul_packed(x, T, P, K, N, b, y1, 0, N);
        for (int i = 0; i < T * N; i++) y2[i] = NAN;
        op_matmul_packed(pool, &emu_table, x, T, P, K, N, b, y2, OP_NO_ACTIVATION);
        CHECKF(memcmp(y1, y2, (size_t)T * N * 4) == 0, "T%d K%d N%d: the threaded product differs from one thread's", T, K, N);
        free(w); free(x); free(b); free(y1); free(y2); free(P);
    }
    seam_pool_free(pool);
}
