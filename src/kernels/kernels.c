#include "kernels/kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

static void scalar_row_to_f32(const seam_mat *W, int r, float *out) {
    size_t base = (size_t)r * (size_t)W->cols;
    for (int c = 0; c < W->cols; c++) out[c] = seam_elem_f32(W->data, base + (size_t)c, W->dtype);
}

static void scalar_matmul_kn(const float *x, int T, const seam_mat *W, const float *b, float *y, int n0, int n1) {
    int K = W->rows, N = W->cols;
    for (int t = 0; t < T; t++) {
        float *yr = y + (size_t)t * N;
        const float *xr = x + (size_t)t * K;
        for (int n = n0; n < n1; n++) yr[n] = b ? b[n] : 0.0f;
        for (int k = 0; k < K; k++) {
            float xv = xr[k];
            size_t base = (size_t)k * N;
            for (int n = n0; n < n1; n++) yr[n] += xv * seam_elem_f32(W->data, base + (size_t)n, W->dtype);
        }
    }
}

static void scalar_matmul_nk(const float *x, int T, const seam_mat *W, float *y, int n0, int n1) {
    int K = W->cols, N = W->rows;
    for (int t = 0; t < T; t++) {
        const float *xr = x + (size_t)t * K;
        for (int n = n0; n < n1; n++) {
            size_t base = (size_t)n * K;
            float acc = 0.0f;
            for (int k = 0; k < K; k++) acc += xr[k] * seam_elem_f32(W->data, base + (size_t)k, W->dtype);
            y[(size_t)t * N + n] = acc;
        }
    }
}

static float scalar_dot(const float *a, const float *b, int n) {
    float acc = 0.0f;
    for (int i = 0; i < n; i++) acc += a[i] * b[i];
    return acc;
}

static void scalar_axpy(float a, const float *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

static void scalar_scale(float *y, float a, int n) {
    for (int i = 0; i < n; i++) y[i] *= a;
}

const seam_kernels seam_kernels_scalar = {
    "scalar", scalar_matmul_kn, scalar_matmul_nk, scalar_dot, scalar_axpy, scalar_scale, scalar_row_to_f32,
    seam_activation_scalar, seam_softmax, seam_layernorm_scalar, NULL, NULL, 0, NULL, NULL, 0, 1, 0, seam_transpose_generic, 0,
};

#if defined(__x86_64__) || defined(__i386__)
int seam_cpu_has_avx2(void) {
    /* F16C is read from cpuid directly: clang 14's __builtin_cpu_supports lacks it. */
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_F16C)) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

int seam_cpu_has_avx512(void) {
    __builtin_cpu_init();
    return seam_cpu_has_avx2() && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
#endif

#if defined(__x86_64__) && defined(__linux__)
/* kernels_amx.c: the table, or NULL where the compiler had no AMX. */
const seam_kernels *seam_kernels_amx_table(void);

static int amx_ok;
static pthread_once_t amx_probe_once = PTHREAD_ONCE_INIT;

static void amx_probe(void) {
    unsigned a, b, c, d;
    if (!seam_cpu_has_avx512() || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    if (!(d & (1u << 22)) || !(d & (1u << 24))) return; /* AMX-BF16, AMX-TILE */
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d) || !(a & (1u << 5))) return; /* AVX512-BF16 */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & (3u << 17)) != (3u << 17)) return; /* XTILECFG and XTILEDATA state enabled */
    /* Linux hands out the 8 KiB of tile state per process on request (ARCH_REQ_XCOMP_PERM
     * for XFEATURE_XTILEDATA); without it the first tile instruction raises SIGILL. */
    amx_ok = syscall(SYS_arch_prctl, 0x1023, 18) == 0;
}

int seam_cpu_has_amx(void) {
    pthread_once(&amx_probe_once, amx_probe);
    return amx_ok;
}

const seam_kernels *seam_kernels_amx(void) {
    return seam_cpu_has_amx() ? seam_kernels_amx_table() : NULL;
}
#else
int seam_cpu_has_amx(void) { return 0; }
const seam_kernels *seam_kernels_amx(void) { return NULL; }
#endif

const seam_kernels *seam_kernels_by_name(const char *name) {
    if (!strcmp(name, "amx")) return seam_kernels_amx();
    if (!strcmp(name, "scalar")) return &seam_kernels_scalar;
#if defined(__x86_64__) || defined(__i386__)
    if (!strcmp(name, "avx2") && seam_cpu_has_avx2()) return &seam_kernels_avx2;
#endif
#if defined(__x86_64__)
    if (!strcmp(name, "avx512") && seam_cpu_has_avx512()) return &seam_kernels_avx512;
#endif
#if defined(__aarch64__)
    if (!strcmp(name, "neon")) return &seam_kernels_neon;
#endif
#if defined(__wasm_simd128__)
    if (!strcmp(name, "wasm")) return &seam_kernels_wasm;
#endif
    return NULL;
}

const seam_kernels *seam_kernels_best(void) {
    const char *force = getenv("SEAM_ISA");
    if (force && *force) {
        const seam_kernels *k = seam_kernels_by_name(force);
        /* avxvnni names a quantised table (kernels/quant.h); its f32 kernels are AVX2's */
        if (!k && !strcmp(force, "avxvnni")) k = seam_kernels_by_name("avx2");
        if (k) return k;
    }
#if defined(__x86_64__)
    if (seam_cpu_has_avx512()) return &seam_kernels_avx512;
#endif
#if defined(__x86_64__) || defined(__i386__)
    if (seam_cpu_has_avx2()) return &seam_kernels_avx2;
#endif
#if defined(__aarch64__)
    return &seam_kernels_neon; /* Advanced SIMD is mandatory on AArch64 */
#endif
#if defined(__wasm_simd128__)
    return &seam_kernels_wasm; /* a SIMD build only loads where SIMD128 is supported */
#endif
    return &seam_kernels_scalar;
}

void seam_layernorm_scalar(const float *x, const float *w, const float *b, float eps, float *y, int n) {
    /* Two passes in double: the mean is subtracted before squaring, as torch does, so
     * large offsets do not cancel catastrophically. */
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++) { double d = x[i] - mean; var += d * d; }
    var /= n;
    float inv = (float)(1.0 / sqrt(var + eps)), mu = (float)mean;
    for (int i = 0; i < n; i++) y[i] = (x[i] - mu) * inv * w[i] + b[i];
}

void seam_activation_scalar(int activation, float *x, int n) {
    switch ((seam_activation)activation) {
    case ACT_GELU_TANH:
        for (int i = 0; i < n; i++) {
            float v = x[i];
            x[i] = 0.5f * v * (1.0f + tanhf(0.7978845608028654f * (v + 0.044715f * v * v * v)));
        }
        break;
    case ACT_GELU_ERF:
        for (int i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.7071067811865476f));
        break;
    case ACT_GELU_QUICK:
        for (int i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-1.702f * x[i]));
        break;
    case ACT_RELU:
        for (int i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
        break;
    }
}

void seam_softmax(float *x, int n) {
    float mx = x[0];
    for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    float sum = 0.0f;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) x[i] *= inv;
}

void seam_attend_generic(const seam_kernels *k, const seam_attend_tile *a) {
    for (int r = 0; r < a->R; r++) {
        int n = a->n + (a->causal ? r : 0);
        const float *q = a->q + (size_t)r * a->ldq;
        float *scores = a->scores + (size_t)r * (size_t)(a->n + a->R), *out = a->out + (size_t)r * a->ldo;
        memset(scores, 0, (size_t)n * sizeof(float));
        for (int d = 0; d < a->D; d++) k->axpy(q[d] * a->scale, a->kt + (size_t)d * a->ld, scores, n);
        if (a->mask)
            for (int i = 0; i < n; i++)
                if (!a->mask[i]) scores[i] = -INFINITY;
        k->softmax(scores, n);
        if (a->v) {
            memset(out, 0, (size_t)a->D * sizeof(float));
            for (int i = 0; i < n; i++) k->axpy(scores[i], a->v + (size_t)i * a->ldv, out, a->D);
        } else {
            for (int d = 0; d < a->D; d++) out[d] = k->dot(scores, a->vt + (size_t)d * a->ld, n);
        }
    }
}

/* Blocks of 64 rows keep their cache lines in L1 while every component is written; within
 * them, 4 x 4 blocks of four 4-float loads and stores, which GCC turns into a register
 * transpose (SSE2 unpck, NEON zip) instead of a strided load and store per value. */
void seam_transpose_generic(const float *src, size_t lds, int rows, int cols, float *dst, size_t ldd) {
    for (int r0 = 0; r0 < rows; r0 += 64) {
        int r1 = rows - r0 < 64 ? rows : r0 + 64, rb = r0 + (r1 - r0) / 4 * 4, c = 0;
        for (; c + 4 <= cols; c += 4) {
            float *d = dst + (size_t)c * ldd;
            for (int r = r0; r < rb; r += 4) {
                const float *s0 = src + (size_t)r * lds + (size_t)c, *s1 = s0 + lds, *s2 = s1 + lds, *s3 = s2 + lds;
                float b[4][4];
                for (int i = 0; i < 4; i++) {
                    b[i][0] = s0[i];
                    b[i][1] = s1[i];
                    b[i][2] = s2[i];
                    b[i][3] = s3[i];
                }
                for (int i = 0; i < 4; i++) memcpy(d + (size_t)i * ldd + (size_t)r, b[i], sizeof b[i]);
            }
            for (int i = 0; i < 4; i++)
                for (int r = rb; r < r1; r++) d[(size_t)i * ldd + (size_t)r] = src[(size_t)r * lds + (size_t)c + (size_t)i];
        }
        for (; c < cols; c++)
            for (int r = r0; r < r1; r++) dst[(size_t)c * ldd + (size_t)r] = src[(size_t)r * lds + (size_t)c];
    }
}
