/* seam's side of `make bench`: measures one model folder with one thread count and prints
 * JSON on stdout (progress and errors on stderr). The peers in bench/peers/ measure the same
 * figures the same way, so bench/report.py can put them side by side:
 *  - prompt ids are (1000 + 997*i) mod vocab for every engine, so first tokens can be compared;
 *  - prefill time is the whole forward over T ids plus picking the next token (logits of the
 *    last row only, as every engine computes them), median of --reps runs (at most 2 at
 *    T = 512);
 *  - decode tok/s is 1 / median of single-token step times (forward + argmax) after a
 *    prefill to the context length: a median shrugs off a neighbour's burst on a shared box;
 *  - time to first token includes what a new request costs the engine: here a new context.
 *
 * usage:
 *   seam_bench gpt2    -m DIR [-t N] [--reps R] [--decode-steps N] [--tok-file FILE]
 *   seam_bench ops     -m DIR [-t N]        per-layer table (the Kaoken seed's ops)
 *   seam_bench encoder -m DIR [-t N] [--reps R]   BERT sentences/s (needs seam_encoder.h)
 *   seam_bench gemm    [-t N] [--reps R]    the encoders' packed GEMM alone, per table
 *
 * The ops and gemm modes include internal headers on purpose: they time seam's kernels for
 * single ops, which the public API does not expose. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "graph/ops.h"
#include "kernels/kernels.h"
#include "model/model.h"
#include "seam.h"
#include "util/pool.h"

#if defined(__has_include)
#if __has_include("seam_encoder.h") && !defined(SEAM_BENCH_NO_ENCODER)
#include "seam_encoder.h"
#define HAVE_ENCODER 1
#endif
#endif

/* ------------------------------------------------------------------ helpers */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v). */
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

static void die(const char *what, const seam_error *err) {
    fprintf(stderr, "seam_bench: %s: %s\n", what, err ? err->message : "failed");
    exit(1);
}

/* The prompt every engine uses (bench/peers mirror this formula). */
static void prompt_ids(int32_t *ids, int n, int vocab) {
    for (int i = 0; i < n; i++) ids[i] = (int32_t)((1000 + 997L * i) % vocab);
}

typedef struct {
    const char *mode, *model, *tok_file;
    int threads, reps, decode_steps;
    const char *precision; /* encoder: "high" (default) or "highest" */
    int ids_only;          /* encoder: skip the from-text figures */
} opts;

/* ------------------------------------------------------------------ gpt2: prefill, decode, TTFT */

/* Seconds for one prefill of T ids from position 0 plus the pick of the next token. */
static double time_prefill(seam_context *c, const int32_t *ids, int T, float *logits, int vocab, int32_t *next) {
    seam_error err;
    double t0 = now_s();
    if (seam_forward(c, ids, T, 0, logits, &err)) die("forward", &err);
    *next = seam_argmax(logits, vocab);
    return now_s() - t0;
}

static seam_context *new_context(const seam_model *m, int threads) {
    seam_context *c;
    seam_error err;
    if (seam_context_new(m, 0, 0, &c, &err)) die("context", &err);
    if (seam_context_set_threads(c, threads, &err)) die("threads", &err);
    return c;
}

static double tokenizer_mb_s(const char *dir, const char *file, size_t *n_tokens, size_t *n_bytes) {
    seam_tokenizer *tk;
    seam_error err;
    *n_tokens = *n_bytes = 0;
    if (!file) return 0.0;
    if (seam_tokenizer_open(dir, &tk, &err)) {
        fprintf(stderr, "seam_bench: tokenizer: %s\n", err.message);
        return 0.0;
    }
    FILE *f = fopen(file, "rb");
    if (!f) { perror(file); seam_tokenizer_close(tk); return 0.0; }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)len + 1);
    if (fread(text, 1, (size_t)len, f) != (size_t)len) { fclose(f); free(text); seam_tokenizer_close(tk); return 0.0; }
    fclose(f);
    /* A byte-level BPE never makes more tokens than bytes. */
    size_t cap = (size_t)len + 16, n = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double t0 = now_s();
        if (seam_tokenize(tk, text, (size_t)len, ids, cap, &n, &err)) {
            fprintf(stderr, "seam_bench: tokenize: %s\n", err.message);
            best = 0;
            break;
        }
        double dt = now_s() - t0;
        if (dt < best) best = dt;
    }
    *n_tokens = n;
    *n_bytes = (size_t)len;
    free(ids);
    free(text);
    seam_tokenizer_close(tk);
    return best > 0 && best < 1e30 ? (double)len / best / 1e6 : 0.0;
}

static int bench_gpt2(const opts *o) {
    seam_model *m;
    seam_error err;
    if (seam_model_open(o->model, &m, &err)) die("open", &err);
    const seam_model_info *in = seam_model_get_info(m);
    int V = in->vocab_size;
    int32_t *ids = malloc(sizeof(int32_t) * 1024);
    prompt_ids(ids, 1024, V);
    float *logits = malloc(sizeof(float) * (size_t)V);
    int32_t next = 0, first16 = -1;

    /* Warm-up: the first forward faults the mapped weights in from the page cache. */
    seam_context *c = new_context(m, o->threads);
    time_prefill(c, ids, 16, logits, V, &next);
    seam_context_free(c);

    static const int prefill_T[3] = {16, 128, 512};
    double prefill_s[3];
    for (int i = 0; i < 3; i++) {
        int T = prefill_T[i];
        /* Long prompts cost seconds on one core: two runs there keep the run short. */
        int reps = T >= 512 && o->reps > 2 ? 2 : o->reps;
        double *ts = calloc((size_t)reps, sizeof *ts);
        c = new_context(m, o->threads);
        for (int r = 0; r < reps; r++) ts[r] = time_prefill(c, ids, T, logits, V, &next);
        if (T == 16) first16 = next;
        seam_context_free(c);
        prefill_s[i] = median(ts, reps);
        free(ts);
        fprintf(stderr, "  seam prefill T=%d: %.1f tok/s\n", T, T / prefill_s[i]);
    }

    static const int decode_L[2] = {128, 512};
    double decode_s[2];
    double *steps = calloc((size_t)o->decode_steps, sizeof *steps);
    for (int i = 0; i < 2; i++) {
        int L = decode_L[i];
        c = new_context(m, o->threads);
        time_prefill(c, ids, L, logits, V, &next);
        for (int s = 0; s < o->decode_steps; s++) {
            double t0 = now_s();
            if (seam_forward(c, &next, 1, L + s, logits, &err)) die("decode", &err);
            next = seam_argmax(logits, V);
            steps[s] = now_s() - t0;
        }
        seam_context_free(c);
        decode_s[i] = median(steps, o->decode_steps);
        fprintf(stderr, "  seam decode ctx=%d: %.1f tok/s\n", L, 1.0 / decode_s[i]);
    }
    free(steps);

    double *tt = calloc((size_t)o->reps, sizeof *tt), *tc = calloc((size_t)o->reps, sizeof *tc);
    for (int r = 0; r < o->reps; r++) {
        double t0 = now_s();
        c = new_context(m, o->threads);
        tc[r] = now_s() - t0; /* reported apart: it is most of the gap to the prefill figure */
        time_prefill(c, ids, 128, logits, V, &next);
        tt[r] = now_s() - t0;
        seam_context_free(c);
    }
    double ttft = median(tt, o->reps), ctx_new = median(tc, o->reps);
    free(tt);
    free(tc);
    double rss = peak_rss_mb(); /* before the tokenizer, which is not part of inference */

    size_t tok_n = 0, tok_bytes = 0;
    double tok = tokenizer_mb_s(o->model, o->tok_file, &tok_n, &tok_bytes);

    printf("{\n  \"engine\": \"seam\",\n  \"version\": \"%s\",\n  \"isa\": \"%s\",\n  \"threads\": %d,\n",
           seam_version(), seam_kernels_best()->name, o->threads);
    /* Quantised dtypes may join the enum: anything past BF16 is printed by number. */
    static const char *dt_names[] = {"F32", "F16", "BF16"};
    char dt[32];
    if ((unsigned)in->weight_dtype < 3) snprintf(dt, sizeof dt, "%s", dt_names[in->weight_dtype]);
    else snprintf(dt, sizeof dt, "dtype%d", (int)in->weight_dtype);
    printf("  \"dtype\": \"%s\",\n  \"weight_bytes\": %zu,\n  \"kv_bytes_per_elem\": 4,\n", dt, in->weight_bytes);
    printf("  \"prefill_tok_s\": {\"16\": %.2f, \"128\": %.2f, \"512\": %.2f},\n", 16 / prefill_s[0], 128 / prefill_s[1],
           512 / prefill_s[2]);
    printf("  \"decode_tok_s\": {\"128\": %.2f, \"512\": %.2f},\n", 1.0 / decode_s[0], 1.0 / decode_s[1]);
    printf("  \"ttft_ms\": %.2f,\n  \"ttft_note\": \"new context (KV cache for n_positions) + prefill 128 + argmax\",\n",
           ttft * 1e3);
    printf("  \"context_new_ms\": %.2f,\n", ctx_new * 1e3);
    printf("  \"peak_rss_mb\": %.1f,\n", rss);
    if (o->tok_file)
        printf("  \"tokenizer_mb_s\": %.3f,\n  \"tokenizer_tokens\": %zu,\n  \"tokenizer_bytes\": %zu,\n", tok, tok_n,
               tok_bytes);
    printf("  \"first_token_16\": %d,\n  \"reps\": %d,\n  \"decode_steps\": %d\n}\n", (int)first16, o->reps,
           o->decode_steps);
    free(ids);
    free(logits);
    seam_model_close(m);
    return 0;
}

/* ------------------------------------------------------------------ ops: the Kaoken per-layer table */

/* What attention_worker in src/graph/gpt2.c does for one query row: op_attend per head
 * over the transposed K/V cache of n_ctx positions. */
typedef struct {
    const seam_kernels *k;
    const float *q, *kc, *vc;
    float *out, *scores;
    int C, H, n_keys, n_ctx;
    float scale;
} att_job;

static void att_worker(void *arg, int ith, int nth) {
    const att_job *j = arg;
    int D = j->C / j->H, lo, hi;
    size_t head = (size_t)D * (size_t)j->n_ctx;
    seam_pool_chunk(j->H, 1, ith, nth, &lo, &hi);
    for (int h = lo; h < hi; h++) {
        seam_attend_tile a = {j->q + (size_t)h * D, (size_t)j->C, j->kc + (size_t)h * head, j->vc + (size_t)h * head,
                              (size_t)j->n_ctx, 1, j->n_keys, 1, D, j->scale, NULL,
                              j->scores + (size_t)ith * (size_t)(j->n_ctx + 1), j->out + (size_t)h * D, (size_t)j->C, NULL, 0};
        op_attend(j->k, &a);
    }
}

typedef struct {
    const seam_model *m;
    const seam_kernels *k;
    seam_pool *pool;
    float *x, *y, *xn, *qkv, *att, *mlp, *logits, *kc, *vc, *scores;
    int ctx, threads;
} ops_state;

typedef void (*op_fn)(ops_state *s);

static void op_layernorm(ops_state *s) {
    const gpt2_layer *L = &s->m->layers[0];
    s->k->layernorm(s->x, L->ln1_w, L->ln1_b, s->m->cfg.info.layer_norm_epsilon, s->y, s->m->cfg.info.n_embd);
}

static void op_gelu(ops_state *s) {
    /* Out of place like torch's F.gelu: the copy keeps the input from drifting across calls. */
    int C = s->m->cfg.info.n_embd;
    memcpy(s->y, s->x, (size_t)C * sizeof(float));
    op_activation(s->pool, s->k, s->m->cfg.activation, s->y, (size_t)C);
}

static void op_linear(ops_state *s) { op_matmul_nk(s->pool, s->k, s->x, 1, &s->m->lm_head, NULL, s->logits); }

static void op_attention(ops_state *s) {
    const seam_model_info *in = &s->m->cfg.info;
    const gpt2_layer *L = &s->m->layers[0];
    int C = in->n_embd, D = C / in->n_head;
    op_matmul_kn(s->pool, s->k, s->x, 1, &L->attn_w, L->attn_b, s->qkv, NULL);
    /* The new row's k and v join the cache at position ctx-1, as the forward pass does. */
    op_transpose_heads(s->k, s->qkv + C, (size_t)3 * C, 1, C, s->kc, (size_t)s->ctx, s->ctx - 1);
    op_transpose_heads(s->k, s->qkv + 2 * C, (size_t)3 * C, 1, C, s->vc, (size_t)s->ctx, s->ctx - 1);
    att_job j = {s->k, s->qkv, s->kc, s->vc, s->att, s->scores, C, in->n_head, s->ctx, s->ctx, 1.0f / sqrtf((float)D)};
    seam_pool_run(s->pool, att_worker, &j);
    op_matmul_kn(s->pool, s->k, s->att, 1, &L->attn_proj_w, L->attn_proj_b, s->y, NULL);
}

static void op_mlp(ops_state *s) {
    const gpt2_layer *L = &s->m->layers[0];
    int I = s->m->cfg.info.n_inner;
    op_matmul_kn(s->pool, s->k, s->x, 1, &L->fc_w, L->fc_b, s->mlp, NULL);
    op_activation(s->pool, s->k, s->m->cfg.activation, s->mlp, (size_t)I);
    op_matmul_kn(s->pool, s->k, s->mlp, 1, &L->fc_proj_w, L->fc_proj_b, s->y, NULL);
}

/* Milliseconds per call: batches of calls sized to ~50 ms, median of 7 batches. */
static double time_op(op_fn fn, ops_state *s) {
    for (int i = 0; i < 3; i++) fn(s);
    long n = 1;
    for (;;) {
        double t0 = now_s();
        for (long i = 0; i < n; i++) fn(s);
        double dt = now_s() - t0;
        if (dt > 0.05 || n > (1L << 24)) break;
        n *= dt < 0.005 ? 8 : 2;
    }
    double v[7];
    for (int b = 0; b < 7; b++) {
        double t0 = now_s();
        for (long i = 0; i < n; i++) fn(s);
        v[b] = (now_s() - t0) / (double)n;
    }
    return median(v, 7) * 1e3;
}

static float *floats(size_t n, uint64_t seed) {
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (float)((int)(seed >> 40) % 2001 - 1000) * 1e-3f;
    }
    return p;
}

static int bench_ops(const opts *o) {
    seam_model *m;
    seam_error err;
    if (seam_model_open(o->model, &m, &err)) die("open", &err);
    const seam_model_info *in = &m->cfg.info;
    int C = in->n_embd, V = in->vocab_size, I = in->n_inner;
    ops_state s = {0};
    s.m = m;
    s.k = seam_kernels_best();
    s.threads = o->threads;
    s.ctx = 128;
    if (o->threads > 1 && seam_pool_new(o->threads, &s.pool, &err)) die("pool", &err);
    s.x = floats((size_t)C, 1);
    s.y = floats((size_t)C, 2);
    s.xn = floats((size_t)C, 3);
    s.qkv = floats(3 * (size_t)C, 4);
    s.att = floats((size_t)C, 5);
    s.mlp = floats((size_t)I, 6);
    s.logits = floats((size_t)V, 7);
    s.kc = floats((size_t)s.ctx * C, 8);
    s.vc = floats((size_t)s.ctx * C, 9);
    s.scores = floats((size_t)o->threads * (size_t)(s.ctx + 1), 10);

    struct { const char *name, *shape; op_fn fn; } rows[] = {
        {"layer_norm", "[1,768]", op_layernorm},
        {"gelu", "[1,768]", op_gelu},
        {"linear_768x50257", "[1,768] x [768,50257]", op_linear},
        {"attention_ctx128", "[1,768], 128 keys (c_attn + softmax(QK^T)V + c_proj)", op_attention},
        {"mlp", "[1,768] (c_fc + GELU + c_proj)", op_mlp},
    };
    printf("{\n  \"engine\": \"seam\",\n  \"isa\": \"%s\",\n  \"threads\": %d,\n  \"ops_ms\": {\n", s.k->name, o->threads);
    int nrows = (int)(sizeof rows / sizeof rows[0]);
    for (int i = 0; i < nrows; i++) {
        double ms = time_op(rows[i].fn, &s);
        fprintf(stderr, "  seam op %s: %.4f ms\n", rows[i].name, ms);
        printf("    \"%s\": %.5f%s\n", rows[i].name, ms, i + 1 < nrows ? "," : "");
    }
    printf("  },\n  \"ops_shapes\": {");
    for (int i = 0; i < nrows; i++) printf("%s\"%s\": \"%s\"", i ? ", " : "", rows[i].name, rows[i].shape);
    printf("}\n}\n");
    free(s.x); free(s.y); free(s.xn); free(s.qkv); free(s.att); free(s.mlp); free(s.logits); free(s.kc); free(s.vc);
    free(s.scores);
    seam_pool_free(s.pool);
    seam_model_close(m);
    return 0;
}

/* ------------------------------------------------------------------ encoder: sentences/s */

/* Repetitions that fit a ~2 s budget given one run of dt seconds, within [lo, hi]: short
 * inputs get many runs, a batch of 32 long ones on one slow core only a few. The cap used to
 * be 64, which cut a batch of one 12-token sentence (~2 ms) to 0.13 s of timing: on the
 * device machines, whose speed settles over a second or so, 1-thread batch 1 x 12 then read
 * 290-330 sentences/s against ~480 over 2 s. The peers share the cap (encoder_timing.py,
 * ort_gpt2.mjs). */
#define ENCODER_MAX_REPS 1000
static int budget_reps(double dt, int lo, int hi) {
    double n = 2.0 / (dt > 1e-6 ? dt : 1e-6);
    return n < lo ? lo : n > hi ? hi : (int)n;
}

#ifdef HAVE_ENCODER
/* ~12 and ~128 token inputs as ids: [CLS] ids [SEP], every row full length (no padding),
 * the same ids for every engine ((1000 + 997*i) mod vocab for the middle). */
static void encoder_ids(int32_t *ids, int32_t *mask, int B, int T, int vocab) {
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            int32_t id = (int32_t)((1000 + 997L * (t + b)) % vocab);
            if (id < 1000) id += 1000; /* stay clear of [PAD]/[CLS]/[SEP]/[MASK] and unused slots */
            ids[b * T + t] = t == 0 ? 101 : t == T - 1 ? 102 : id;
            mask[b * T + t] = 1;
        }
}

static int bench_encoder(const opts *o) {
    seam_encoder *e;
    seam_error err;
    seam_encoder_params p = {32, 0, o->threads,
                             o->precision && !strcmp(o->precision, "highest") ? SEAM_PRECISION_HIGHEST : SEAM_PRECISION_HIGH};
    if (seam_encoder_open(o->model, &p, &e, &err)) die("encoder open", &err);
    const seam_encoder_info *in = seam_encoder_get_info(e);
    int C = in->hidden;
    static const int Bs[2] = {1, 32}, Ts[2] = {12, 128};
    int32_t *ids = malloc(sizeof(int32_t) * 32 * 128), *mask = malloc(sizeof(int32_t) * 32 * 128);
    float *hidden = malloc(sizeof(float) * 32 * 128 * (size_t)C), *out = malloc(sizeof(float) * 32 * (size_t)C);
    double sps[2][2];
    for (int bi = 0; bi < 2; bi++)
        for (int ti = 0; ti < 2; ti++) {
            int B = Bs[bi], T = Ts[ti];
            encoder_ids(ids, mask, B, T, in->vocab_size);
            double ts[ENCODER_MAX_REPS];
            int reps = 0;
            for (int r = -1; r < reps; r++) {
                double t0 = now_s();
                if (seam_encoder_forward_ids(e, ids, mask, B, T, hidden, NULL, &err) ||
                    seam_encoder_pool(in->pooling, in->normalize, hidden, mask, B, T, C, out, &err))
                    die("encoder forward", &err);
                double dt = now_s() - t0;
                if (r < 0) reps = budget_reps(dt, 3, ENCODER_MAX_REPS); /* the warm-up sizes the run */
                else ts[r] = dt;
            }
            sps[bi][ti] = B / median(ts, reps);
            fprintf(stderr, "  seam encoder B=%d T=%d: %.1f sentences/s\n", B, T, sps[bi][ti]);
        }

    /* The whole user path (text in, WordPiece, bucketing, forward, pooling) on sentences of
     * roughly the same token counts, as an extra line. */
    static const char *words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "runs",
                                  "far", "away", "from", "home", "today", "again"};
    char *short_txt = malloc(256), *long_txt = malloc(2048);
    short_txt[0] = long_txt[0] = 0;
    for (int w = 0; w < 10; w++) { strcat(short_txt, words[w % 16]); strcat(short_txt, " "); }
    for (int w = 0; w < 126; w++) { strcat(long_txt, words[(w * 7) % 16]); strcat(long_txt, " "); }
    const char *texts[32];
    double text_sps[2][2];
    for (int bi = 0; bi < 2; bi++)
        for (int ti = 0; ti < 2; ti++) {
            int B = Bs[bi];
            text_sps[bi][ti] = 0;
            if (o->ids_only) continue;
            for (int b = 0; b < B; b++) texts[b] = ti ? long_txt : short_txt;
            double ts[ENCODER_MAX_REPS];
            int reps = 0;
            for (int r = -1; r < reps; r++) {
                double t0 = now_s();
                if (seam_encoder_embed(e, texts, NULL, (size_t)B, out, SEAM_EMBED_DEFAULT, NULL, &err))
                    die("encoder embed", &err);
                double dt = now_s() - t0;
                if (r < 0) reps = budget_reps(dt, 2, ENCODER_MAX_REPS);
                else ts[r] = dt;
            }
            text_sps[bi][ti] = B / median(ts, reps);
        }
    size_t n_short = 0, n_long = 0;
    int32_t tmp[512];
    seam_encoder_tokenize(e, short_txt, strlen(short_txt), tmp, 512, &n_short, NULL, &err);
    seam_encoder_tokenize(e, long_txt, strlen(long_txt), tmp, 512, &n_long, NULL, &err);

    printf("{\n  \"engine\": \"seam\",\n  \"threads\": %d,\n  \"isa\": \"%s\",\n  \"precision\": \"%s\",\n  \"weight_bytes\": %zu,\n",
           o->threads, in->kernels, seam_precision_name(in->precision), in->weight_bytes);
    printf("  \"sentences_s\": {\"b1_short\": %.2f, \"b1_long\": %.2f, \"b32_short\": %.2f, \"b32_long\": %.2f},\n",
           sps[0][0], sps[0][1], sps[1][0], sps[1][1]);
    printf("  \"text_sentences_s\": {\"b1_short\": %.2f, \"b1_long\": %.2f, \"b32_short\": %.2f, \"b32_long\": %.2f},\n",
           text_sps[0][0], text_sps[0][1], text_sps[1][0], text_sps[1][1]);
    printf("  \"text_tokens\": {\"short\": %zu, \"long\": %zu},\n", n_short, n_long);
    printf("  \"shape\": {\"n_layer\": %d, \"hidden\": %d, \"intermediate\": %d},\n", in->n_layer, in->hidden,
           in->intermediate);
    printf("  \"lengths\": {\"short\": 12, \"long\": 128},\n  \"peak_rss_mb\": %.1f\n}\n", peak_rss_mb());
    free(ids); free(mask); free(hidden); free(out); free(short_txt); free(long_txt);
    seam_encoder_close(e);
    return 0;
}
#endif

/* ------------------------------------------------------------------ gemm: the encoders' packed GEMM */

/* MiniLM's four products (QKV, attention out, FFN in, FFN out) at a short sentence, a long
 * one and a batch, on every packed table this CPU runs: the f32 one seam_kernels_best()
 * picks and, where there is AMX, the three-bf16-product one (bert.c's "high"). The tables
 * take turns within each repetition, in an order that flips every time, so a machine whose
 * speed drifts hits them alike; best of --reps. bert.c gives products of fewer than 16 rows
 * to the f32 table (BERT_WIDE_MIN_ROWS): the 12-row figures say whether that still holds. */
#define GEMM_BENCH_TABLES 2
static int bench_gemm(const opts *o) {
    static const int rows[] = {12, 128, 384}, shapes[][2] = {{384, 1152}, {384, 384}, {384, 1536}, {1536, 384}};
    enum { N_ROWS = sizeof rows / sizeof *rows, N_SHAPES = sizeof shapes / sizeof *shapes };
    const seam_kernels *ks[GEMM_BENCH_TABLES] = {seam_kernels_best(), seam_kernels_amx()};
    int nk = ks[1] ? 2 : 1;
    if (!ks[0]->pack_nk) {
        fprintf(stderr, "seam_bench gemm: table %s has no packed GEMM\n", ks[0]->name);
        return 3;
    }
    seam_pool *pool = NULL;
    seam_error err;
    if (o->threads > 1 && seam_pool_new(o->threads, &pool, &err)) die("pool", &err);
    double best[GEMM_BENCH_TABLES][N_ROWS][N_SHAPES];
    for (int si = 0; si < N_SHAPES; si++) {
        int K = shapes[si][0], N = shapes[si][1], T = rows[N_ROWS - 1];
        float *w = floats((size_t)N * K, 11), *x = floats((size_t)T * K, 12), *b = floats((size_t)N, 13);
        float *y = floats((size_t)T * N, 14), *P[GEMM_BENCH_TABLES] = {NULL, NULL};
        seam_mat W = {w, SEAM_DTYPE_F32, N, K};
        for (int ki = 0; ki < nk; ki++) {
            P[ki] = floats(seam_packed_floats(ks[ki], N, K), 15);
            ks[ki]->pack_nk(&W, P[ki]);
        }
        for (int ri = 0; ri < N_ROWS; ri++) {
            for (int ki = 0; ki < nk; ki++) { /* untimed: first touches, the pool's first wake */
                best[ki][ri][si] = INFINITY;
                op_matmul_packed(pool, ks[ki], x, rows[ri], P[ki], K, N, b, y, OP_NO_ACTIVATION);
            }
            for (int r = 0; r < o->reps; r++)
                for (int j = 0; j < nk; j++) {
                    int ki = r & 1 ? nk - 1 - j : j;
                    double t0 = now_s();
                    op_matmul_packed(pool, ks[ki], x, rows[ri], P[ki], K, N, b, y, OP_NO_ACTIVATION);
                    double dt = now_s() - t0;
                    if (dt < best[ki][ri][si]) best[ki][ri][si] = dt;
                }
            fprintf(stderr, "  gemm %d x %d x %d:", rows[ri], K, N);
            for (int ki = 0; ki < nk; ki++)
                fprintf(stderr, " %s %.1f us (%.0f GFLOP/s)", ks[ki]->name, best[ki][ri][si] * 1e6,
                        2.0 * rows[ri] * K * N / best[ki][ri][si] * 1e-9);
            if (nk > 1) fprintf(stderr, ", %s / %s time %.2f", ks[1]->name, ks[0]->name, best[1][ri][si] / best[0][ri][si]);
            fprintf(stderr, "\n");
        }
        free(w); free(x); free(b); free(y);
        for (int ki = 0; ki < nk; ki++) free(P[ki]);
    }
    printf("{\n  \"engine\": \"seam\",\n  \"mode\": \"gemm\",\n  \"threads\": %d,\n  \"reps\": %d,\n  \"us\": {", o->threads, o->reps);
    for (int ki = 0; ki < nk; ki++) {
        printf("%s\n    \"%s\": {", ki ? "," : "", ks[ki]->name);
        for (int ri = 0; ri < N_ROWS; ri++)
            for (int si = 0; si < N_SHAPES; si++)
                printf("%s\"%dx%dx%d\": %.2f", ri || si ? ", " : "", rows[ri], shapes[si][0], shapes[si][1],
                       best[ki][ri][si] * 1e6);
        printf("}");
    }
    printf("\n  }\n}\n");
    seam_pool_free(pool);
    return 0;
}

/* ------------------------------------------------------------------ main */

static int usage(void) {
    fprintf(stderr,
            "usage: seam_bench gpt2|ops|encoder -m DIR [-t THREADS] [--reps R] [--decode-steps N] [--tok-file FILE]\n"
            "                  [--precision high|highest] [--ids-only 1]   (encoder)\n"
            "       seam_bench gemm [-t THREADS] [--reps R]   (the encoders' packed GEMM, no model)\n");
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    opts o = {argv[1], NULL, NULL, 1, 3, 16, NULL, 0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) return usage();
        if (!strcmp(a, "-m")) o.model = v;
        else if (!strcmp(a, "-t")) o.threads = atoi(v);
        else if (!strcmp(a, "--reps")) o.reps = atoi(v);
        else if (!strcmp(a, "--decode-steps")) o.decode_steps = atoi(v);
        else if (!strcmp(a, "--tok-file")) o.tok_file = v;
        else if (!strcmp(a, "--precision") && (!strcmp(v, "high") || !strcmp(v, "highest"))) o.precision = v;
        else if (!strcmp(a, "--ids-only") && !strcmp(v, "1")) o.ids_only = 1;
        else return usage();
        i++;
    }
    if (o.threads < 1 || o.reps < 1 || o.decode_steps < 1) return usage();
    if (!strcmp(o.mode, "gemm")) return bench_gemm(&o);
    if (!o.model) return usage();
    if (!strcmp(o.mode, "gpt2")) return bench_gpt2(&o);
    if (!strcmp(o.mode, "ops")) return bench_ops(&o);
    if (!strcmp(o.mode, "encoder")) {
#ifdef HAVE_ENCODER
        return bench_encoder(&o);
#else
        fprintf(stderr, "seam_bench: built without seam_encoder.h\n");
        return 3;
#endif
    }
    return usage();
}
