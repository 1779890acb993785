/* Native reference for the browser bench (bench/web/web_bench.sh): the loop that the
 * WebAssembly build's generate() runs (web/seam_wasm.c sw_gen_begin / sw_gen_next, the same
 * as `seam generate`), with the same clocks as bench/web/page.mjs, through the public API:
 *   prefill = one forward over the P prompt ids;
 *   decode  = (N - 1) / (time for N greedy picks and the N - 1 single-token forwards between).
 * A short warm-up generation first (which also faults the mapped weights in), then the best
 * of --reps runs. JSON on stdout.
 *
 * --serve keeps the model loaded for browser_bench.mjs, which runs it in its rounds beside
 * the browser engines (so each ratio compares runs of the same moment): after the warm-up
 * it prints {"ready": true, ...}, then answers each line "run" on stdin with one run's JSON
 * on one line, until "quit" or the end of its input.
 *
 * usage: native_gen -m DIR [-t 1] [--prompt 128] [--tokens 32] [--reps 2 | --serve]
 * Prompt ids: (1000 + 997 i) mod vocab, as every engine in make bench. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seam.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void die(const char *what, const seam_error *err) {
    fprintf(stderr, "native_gen: %s: %s\n", what, err ? err->message : "failed");
    exit(1);
}

/* Greedy generation of n tokens after ids[0..P); out[] gets them; times in seconds. */
static void generate(seam_context *c, int32_t *win, int P, int n, int V, float *logits, int32_t *out,
                     double *t_prefill, double *t_decode) {
    seam_error err;
    double t0 = now_s();
    if (seam_forward(c, win, P, 0, logits, &err)) die("prefill", &err);
    double t1 = now_s();
    for (int k = 0; k < n; k++) {
        int32_t next = seam_argmax(logits, V);
        out[k] = next;
        if (k + 1 == n) break;
        win[P + k] = next;
        if (seam_forward(c, &next, 1, P + k, logits, &err)) die("decode", &err);
    }
    *t_prefill = t1 - t0;
    *t_decode = now_s() - t1;
}

/* One run as JSON (no newline). */
static void print_run(double tp, double td, int P, int N, const int32_t *ids) {
    printf("{\"prefill_ms\": %.3f, \"decode_ms\": %.3f, \"prefill_tok_s\": %.3f, \"decode_tok_s\": %.3f, \"ids\": [", tp * 1e3,
           td * 1e3, P / tp, (N - 1) / td);
    for (int k = 0; k < N; k++) printf("%s%d", k ? ", " : "", (int)ids[k]);
    printf("]}");
}

/* --serve: one run per "run" line on stdin, each answered on one line of stdout. */
static void serve_runs(seam_context *c, int32_t *win, int P, int N, int V, float *logits, int32_t *out) {
    char line[64];
    double tp, td;
    while (fgets(line, sizeof line, stdin) && strncmp(line, "quit", 4)) {
        if (strncmp(line, "run", 3)) {
            printf("{\"error\": \"unknown command (want run or quit)\"}\n");
        } else {
            generate(c, win, P, N, V, logits, out, &tp, &td);
            print_run(tp, td, P, N, out);
            printf("\n");
        }
        fflush(stdout);
    }
}

int main(int argc, char **argv) {
    const char *dir = NULL;
    int threads = 1, P = 128, N = 32, reps = 2, serve = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--serve")) { serve = 1; continue; }
        if (!v) { fprintf(stderr, "native_gen: %s needs a value\n", a); return 2; }
        if (!strcmp(a, "-m")) dir = v;
        else if (!strcmp(a, "-t")) threads = atoi(v);
        else if (!strcmp(a, "--prompt")) P = atoi(v);
        else if (!strcmp(a, "--tokens")) N = atoi(v);
        else if (!strcmp(a, "--reps")) reps = atoi(v);
        else { fprintf(stderr, "native_gen: unknown option %s\n", a); return 2; }
        i++;
    }
    if (!dir || P < 16 || N < 2 || reps < 1 || threads < 1) {
        fprintf(stderr, "usage: native_gen -m DIR [-t 1] [--prompt 128 (>= 16)] [--tokens 32 (>= 2)] [--reps 2 | --serve]\n");
        return 2;
    }
    seam_model *m;
    seam_context *c;
    seam_error err;
    if (seam_model_open(dir, &m, &err)) die("open", &err);
    int V = seam_model_get_info(m)->vocab_size;
    if (seam_context_new(m, P + N, 0, &c, &err)) die("context", &err);
    if (seam_context_set_threads(c, threads, &err)) die("threads", &err);
    int32_t *win = malloc(sizeof(int32_t) * (size_t)(P + N)), *out = malloc(sizeof(int32_t) * (size_t)N);
    int32_t *first = malloc(sizeof(int32_t) * (size_t)N);
    float *logits = malloc(sizeof(float) * (size_t)V);
    if (!win || !out || !first || !logits) die("memory", NULL);
    for (int i = 0; i < P; i++) win[i] = (int32_t)((1000 + 997L * i) % V);
    double tp, td, best_p = 0, best_d = 0;
    int32_t warm[20];
    memcpy(warm, win, sizeof(int32_t) * 16);
    generate(c, warm, 16, 4, V, logits, out, &tp, &td); /* warm-up, as page.mjs does */
    if (serve) {
        printf("{\"ready\": true, \"engine\": \"seam-native\", \"threads\": %d}\n", threads);
        fflush(stdout);
        serve_runs(c, win, P, N, V, logits, out);
    } else {
        int same = 1;
        printf("{\n \"engine\": \"seam-native\", \"threads\": %d, \"prompt_tokens\": %d, \"new_tokens\": %d,\n \"runs\": [", threads,
               P, N);
        for (int r = 0; r < reps; r++) {
            generate(c, win, P, N, V, logits, out, &tp, &td);
            if (r == 0) memcpy(first, out, sizeof(int32_t) * (size_t)N);
            else same &= !memcmp(first, out, sizeof(int32_t) * (size_t)N);
            double pt = P / tp, dt = (N - 1) / td;
            if (pt > best_p) best_p = pt;
            if (dt > best_d) best_d = dt;
            printf("%s", r ? ", " : "");
            print_run(tp, td, P, N, out);
            fprintf(stderr, "  native t%d: prefill %.1f tok/s, decode %.2f tok/s\n", threads, pt, dt);
        }
        printf("],\n \"prefill_tok_s\": %.3f, \"decode_tok_s\": %.3f, \"first_token\": %d, \"ids_equal_across_runs\": %s,\n \"ids\": [",
               best_p, best_d, (int)first[0], same ? "true" : "false");
        for (int k = 0; k < N; k++) printf("%s%d", k ? ", " : "", (int)first[k]);
        printf("]\n}\n");
    }
    free(win); free(out); free(first); free(logits);
    seam_context_free(c);
    seam_model_close(m);
    return 0;
}
