/* The machine's own limits, measured in the same run as the engines, so every tok/s figure
 * in the report can be read as a fraction of what the hardware allows:
 *  - memory bandwidth: STREAM-style triad a = b + s*c (and a read-only sum, which is what
 *    decode does to its weights) over arrays several times the last-level cache, 1 thread
 *    and N threads; best of several passes, as STREAM reports.
 *  - FP32 FMA peak: independent FMA chains (AVX-512 or AVX2, picked from cpuid), 1 thread
 *    and N threads.
 *
 * usage: roofline [--threads N] [--quick]      JSON on stdout */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roofline_fma.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ------------------------------------------------------------------ bandwidth */

typedef enum { K_INIT, K_TRIAD, K_READ } bw_kind;

typedef struct {
    double *a, *b, *c;
    size_t n;
    int nth;
    pthread_barrier_t start, stop;
    bw_kind kind;
    int reps;
    double best_s;
    double sink[256]; /* per-thread read sums, so the read loop has a visible result */
} bw_state;

typedef struct {
    bw_state *st;
    int ith;
} bw_arg;

static void bw_chunk(const bw_state *st, int ith, size_t *lo, size_t *hi) {
    size_t per = (st->n + (size_t)st->nth - 1) / (size_t)st->nth;
    *lo = per * (size_t)ith;
    *hi = *lo + per < st->n ? *lo + per : st->n;
    if (*lo > st->n) *lo = st->n;
}

static void *bw_worker(void *raw) {
    bw_arg *arg = raw;
    bw_state *st = arg->st;
    size_t lo, hi;
    bw_chunk(st, arg->ith, &lo, &hi);
    double *restrict a = st->a, *restrict b = st->b, *restrict c = st->c;
    for (int r = 0; r < st->reps; r++) {
        pthread_barrier_wait(&st->start);
        double t0 = now_s(), acc = 0.0;
        switch (st->kind) {
        case K_INIT: /* first touch from the thread that will use the pages (NUMA placement) */
            for (size_t i = lo; i < hi; i++) { a[i] = 0.0; b[i] = 1.0; c[i] = 2.0; }
            break;
        case K_TRIAD:
            for (size_t i = lo; i < hi; i++) a[i] = b[i] + 3.0 * c[i];
            break;
        case K_READ: {
            /* Four vector partial sums of 4 doubles (GCC vector extension: SIMD on any target
             * without ISA flags). Scalar or single-chain sums are bound by instruction rate or
             * add latency, not memory, and would understate what a core can stream. */
            typedef double v4d __attribute__((vector_size(32)));
            v4d s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
            size_t i = lo;
            for (; i < hi && (i & 3); i++) acc += b[i];
            for (; i + 16 <= hi; i += 16) {
                s0 += *(const v4d *)(b + i);
                s1 += *(const v4d *)(b + i + 4);
                s2 += *(const v4d *)(b + i + 8);
                s3 += *(const v4d *)(b + i + 12);
            }
            for (; i < hi; i++) acc += b[i];
            v4d s = (s0 + s1) + (s2 + s3);
            acc += (s[0] + s[1]) + (s[2] + s[3]);
            break;
        }
        }
        st->sink[arg->ith] += acc;
        pthread_barrier_wait(&st->stop);
        if (arg->ith == 0) {
            double dt = now_s() - t0;
            if (dt < st->best_s) st->best_s = dt;
        }
    }
    return NULL;
}

/* Best time of `reps` passes of `kind` over the arrays with nth threads. Thread 0 times from
 * its own start to the closing barrier, which every thread must reach. */
static double bw_run(bw_state *st, int nth, bw_kind kind, int reps) {
    st->nth = nth;
    st->kind = kind;
    st->reps = reps;
    st->best_s = 1e30;
    pthread_barrier_init(&st->start, NULL, (unsigned)nth);
    pthread_barrier_init(&st->stop, NULL, (unsigned)nth);
    pthread_t th[256];
    bw_arg args[256];
    for (int i = 0; i < nth; i++) {
        args[i].st = st;
        args[i].ith = i;
        if (i > 0) pthread_create(&th[i], NULL, bw_worker, &args[i]);
    }
    bw_worker(&args[0]);
    for (int i = 1; i < nth; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&st->start);
    pthread_barrier_destroy(&st->stop);
    return st->best_s;
}

/* ------------------------------------------------------------------ FMA peak */

typedef float (*fma_fn)(int64_t);

typedef struct {
    fma_fn fn;
    int64_t iters;
    int nth;
    pthread_barrier_t start;
    double t_end[256];
    double t_start;
    float sink[256];
} fma_state;

typedef struct {
    fma_state *st;
    int ith;
} fma_arg;

static void *fma_worker(void *raw) {
    fma_arg *arg = raw;
    fma_state *st = arg->st;
    pthread_barrier_wait(&st->start);
    if (arg->ith == 0) st->t_start = now_s();
    st->sink[arg->ith] = st->fn(st->iters);
    st->t_end[arg->ith] = now_s();
    return NULL;
}

/* Seconds for every thread to finish `iters` rounds (the slowest thread decides). */
static double fma_run(fma_fn fn, int64_t iters, int nth) {
    fma_state *st = calloc(1, sizeof *st);
    st->fn = fn;
    st->iters = iters;
    st->nth = nth;
    pthread_barrier_init(&st->start, NULL, (unsigned)nth);
    pthread_t th[256];
    fma_arg args[256];
    for (int i = 0; i < nth; i++) {
        args[i].st = st;
        args[i].ith = i;
        if (i > 0) pthread_create(&th[i], NULL, fma_worker, &args[i]);
    }
    fma_worker(&args[0]);
    for (int i = 1; i < nth; i++) pthread_join(th[i], NULL);
    double end = 0.0;
    for (int i = 0; i < nth; i++) end = st->t_end[i] > end ? st->t_end[i] : end;
    double dt = end - st->t_start;
    pthread_barrier_destroy(&st->start);
    free(st);
    return dt;
}

/* GFLOP/s of fn with nth threads: iterations sized for ~target_s, best of 3. */
static double fma_gflops(fma_fn fn, int flops_per_iter, int nth, double target_s) {
    int64_t iters = 1 << 16;
    double dt;
    while ((dt = fma_run(fn, iters, 1)) < 0.05) iters *= 4; /* also warms the core up */
    iters = (int64_t)((double)iters * target_s / dt) + 1;
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        dt = fma_run(fn, iters, nth);
        if (dt < best) best = dt;
    }
    return (double)iters * flops_per_iter * nth / best / 1e9;
}

/* The FMA kernels exist for x86-64 only (bench/run.sh builds them there); elsewhere the
 * peak is reported as 0 ("not measured") rather than guessed. */
#if defined(__x86_64__)
static int cpu_has_avx2_fma(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static int cpu_has_avx512f(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#else
static int cpu_has_avx2_fma(void) { return 0; }
static int cpu_has_avx512f(void) { return 0; }
float roofline_fma_avx2(int64_t iters) { return (float)iters; }
float roofline_fma_avx512(int64_t iters) { return (float)iters; }
#endif

/* ------------------------------------------------------------------ main */

static void cpu_model(char *out, size_t cap) {
    snprintf(out, cap, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *p = strchr(line, ':');
            if (p) {
                p += 2;
                p[strcspn(p, "\n")] = 0;
                for (char *q = p; *q; q++)
                    if (*q == '"' || *q == '\\') *q = ' ';
                snprintf(out, cap, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}

/* The L3 this machine's CPU 0 sees, from sysfs (what lscpu shows), else glibc's figure:
 * on AMD guests glibc reports the host's whole L3 (256 MiB on a Zen 3 VM whose guest sees
 * 32 MiB), which made the report say the encoder's 42 MB of weights fit in cache. */
static long l3_bytes(void) {
    for (int i = 0; i < 8; i++) {
        char path[96], buf[32];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        FILE *f = fopen(path, "r");
        if (!f) break;
        int level = fgets(buf, sizeof buf, f) ? atoi(buf) : 0;
        fclose(f);
        if (level != 3) continue;
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (!(f = fopen(path, "r"))) break;
        char *end = NULL;
        long v = fgets(buf, sizeof buf, f) ? strtol(buf, &end, 10) : 0;
        fclose(f);
        if (v > 0 && end && (*end == 'K' || *end == 'M'))
            return *end == 'K' ? v << 10 : v << 20;
        break;
    }
    long v = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return v > 0 ? v : 32L << 20;
}

int main(int argc, char **argv) {
    int nth = (int)sysconf(_SC_NPROCESSORS_ONLN), quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) nth = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else {
            fprintf(stderr, "usage: roofline [--threads N] [--quick]\n");
            return 2;
        }
    }
    if (nth < 1) nth = 1;
    if (nth > 256) nth = 256;

    /* Each array at least 4x the last-level cache (and 256 MiB), so no pass is served from
     * cache. Capped at 512 MiB: three 2 GiB arrays would take minutes to fault in, and
     * 3 x 512 MiB still dwarfs any single-socket L3 a guest can use. */
    long llc = l3_bytes();
    size_t bytes = (size_t)llc * 4;
    if (bytes < (256u << 20)) bytes = 256u << 20;
    if (bytes > (512u << 20)) bytes = 512u << 20;
    size_t n = bytes / sizeof(double);
    bw_state *st = calloc(1, sizeof *st);
    st->n = n;
    st->a = aligned_alloc(64, n * sizeof(double));
    st->b = aligned_alloc(64, n * sizeof(double));
    st->c = aligned_alloc(64, n * sizeof(double));
    if (!st->a || !st->b || !st->c) {
        fprintf(stderr, "roofline: cannot allocate 3 x %zu MiB\n", bytes >> 20);
        return 1;
    }
    int reps = quick ? 4 : 10;
    bw_run(st, nth, K_INIT, 1);
    double triad1 = 3.0 * (double)bytes / bw_run(st, 1, K_TRIAD, reps) / 1e9;
    double read1 = (double)bytes / bw_run(st, 1, K_READ, reps) / 1e9;
    double triadn = 3.0 * (double)bytes / bw_run(st, nth, K_TRIAD, reps) / 1e9;
    double readn = (double)bytes / bw_run(st, nth, K_READ, reps) / 1e9;

    double target = quick ? 0.15 : 0.4;
    const char *isa = "none";
    double peak1 = 0, peakn = 0, avx2_1 = 0, avx2_n = 0;
    if (cpu_has_avx2_fma()) {
        avx2_1 = fma_gflops(roofline_fma_avx2, ROOFLINE_AVX2_FLOPS_PER_ITER, 1, target);
        avx2_n = fma_gflops(roofline_fma_avx2, ROOFLINE_AVX2_FLOPS_PER_ITER, nth, target);
        isa = "avx2";
        peak1 = avx2_1;
        peakn = avx2_n;
    }
    double a512_1 = 0, a512_n = 0;
    if (cpu_has_avx512f()) {
        a512_1 = fma_gflops(roofline_fma_avx512, ROOFLINE_AVX512_FLOPS_PER_ITER, 1, target);
        a512_n = fma_gflops(roofline_fma_avx512, ROOFLINE_AVX512_FLOPS_PER_ITER, nth, target);
        /* Some cores split 512-bit FMAs into two halves: the peak is whichever ISA is faster. */
        if (a512_1 > peak1) { peak1 = a512_1; peakn = a512_n; isa = "avx512"; }
    }

    char model[256];
    cpu_model(model, sizeof model);
    printf("{\n  \"cpu\": \"%s\",\n  \"threads\": %d,\n  \"llc_bytes\": %ld,\n  \"array_bytes\": %zu,\n", model, nth, llc,
           bytes);
    printf("  \"bandwidth_gbs\": {\"triad_1t\": %.2f, \"triad\": %.2f, \"read_1t\": %.2f, \"read\": %.2f},\n", triad1,
           triadn, read1, readn);
    printf("  \"bandwidth_note\": \"triad counts 3 x 8 bytes per element (STREAM convention, no write-allocate); read is a sum over one array\",\n");
    printf("  \"fma_gflops\": {\"isa\": \"%s\", \"peak_1t\": %.2f, \"peak\": %.2f, \"avx2_1t\": %.2f, \"avx2\": %.2f, "
           "\"avx512_1t\": %.2f, \"avx512\": %.2f}\n}\n",
           isa, peak1, peakn, avx2_1, avx2_n, a512_1, a512_n);
    free(st->a); free(st->b); free(st->c); free(st);
    return 0;
}
