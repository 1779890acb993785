/* The C side of seam.mjs: a handful of flat functions over the public API that JavaScript
 * calls through the WebAssembly exports. Only ints, doubles and pointers cross the
 * boundary (no structs), and each session keeps its own generation state so a token can be
 * produced per call: the page gets control back between tokens to stream them.
 *
 * Errors: a function that fails returns 0/NULL/-1 and sw_last_error() says why. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam.h"
#include "seam_net.h"

#if defined(__EMSCRIPTEN__) && defined(__wasm_simd128__)
#include "kernels/quant.h"
#include "kernels/quant_wasm_relaxed.h"
#include "model/model.h"
#define SW_RX 1
#endif

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#define SW_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define SW_EXPORT
#endif

typedef struct {
    seam_model *m;
    seam_tokenizer *tok; /* NULL when the folder has none: ids in, ids out */
    seam_context *ctx;
    seam_sampler *smp;
    const seam_model_info *in;
    float *logits;   /* [V]: the last forward pass's last row */
    int32_t *window; /* every token in the context */
    int n_win, n_ctx;
    int produced, max_new, ignore_eos, done;
    /* A split session's side (sw_split_open): the shard's blocks, where the split is, what
     * the messages carry. The tokenizer functions above work on it unchanged. */
    int split_mode; /* 0: whole model; 1: this side runs the tail [k, N) + head; 2: embed + [0, k) */
    int split;
    seam_wire_dtype act;
    uint8_t fp[32];
    float *hidden; /* [n_ctx, C] */
    uint8_t *msg;  /* the last hidden-state message built (head mode) */
    size_t msg_len;
} sw_session;

static seam_error last_err;

SW_EXPORT const char *sw_last_error(void) { return last_err.message; }

static void set_error(const char *msg) {
    last_err.code = SEAM_ERR_ARG;
    strncpy(last_err.message, msg, sizeof last_err.message - 1);
    last_err.message[sizeof last_err.message - 1] = '\0';
}

/* 1 when this build's kernels are SIMD128, so the page can say what it runs. */
SW_EXPORT int sw_simd(void) {
#if defined(__wasm_simd128__)
    return 1;
#else
    return 0;
#endif
}

/* The relaxed-SIMD kernels (src/kernels/quant_wasm_relaxed.c: q8 prefill, q4 prefill and
 * decode). allow ≥ 0 sets whether they may run (1, the default) or every thread keeps the
 * SIMD128 ones (0), for A/B runs; returns 1 when the calling thread runs them now (q8 and
 * q4 alike: quant_wasm_relaxed.c's seam_rx_mode says why). */
SW_EXPORT int sw_rx(int allow) {
#ifdef SW_RX
    if (allow >= 0) seam_wasm_rx_allowed = allow != 0;
    return seam_wasm_rx_active();
#else
    (void)allow;
    return 0;
#endif
}

#ifdef SW_RX
static uint32_t rx_rand(uint32_t *st) {
    *st = *st * 1664525u + 1013904223u;
    return *st >> 8;
}

static uint16_t rx_half(uint32_t *st) { return (uint16_t)(0x1000 + rx_rand(st) % 0x1800); }

/* Outputs of one shape whose bits differ between the relaxed and the SIMD128 tiles (the
 * whole y, so writes outside [n0, n1) count too), for q8 or q4 weights; -1 when out of
 * memory. */
static int rx_compare(seam_quant type, int T, int K, int N, int n0, int n1, int with_bias, uint32_t *st) {
    int nb = K / 32, bad = -1, q4 = type == SEAM_QUANT_Q4;
    float *x = malloc(sizeof(float) * (size_t)T * K), *xd = malloc(sizeof(float) * (size_t)T * nb),
          *xs = malloc(sizeof(float) * (size_t)T * nb), *ws = malloc(sizeof(float) * (size_t)N * nb),
          *bias = malloc(sizeof(float) * (size_t)N), *y[2] = {malloc(sizeof(float) * (size_t)T * N),
                                                                   malloc(sizeof(float) * (size_t)T * N)};
    int8_t *xq = malloc((size_t)T * K), *wq = malloc((size_t)N * K);
    uint16_t *wh = malloc(sizeof(uint16_t) * (size_t)N * nb), *wm = malloc(sizeof(uint16_t) * (size_t)N * nb);
    if (x && xd && xs && ws && bias && y[0] && y[1] && xq && wq && wh && wm) {
        for (size_t i = 0; i < (size_t)T * K; i++) x[i] = (float)((int)(rx_rand(st) % 2001) - 1000) * 1e-3f;
        for (int t = 0; t < T; t++)
            seam_qkernels_wasm.quantize_x(x + (size_t)t * K, K, xq + (size_t)t * K, xd + (size_t)t * nb, xs + (size_t)t * nb);
        /* every q8 weight byte, -127 and 127 included; every pair of q4 values */
        for (size_t i = 0; i < (size_t)N * K; i++)
            wq[i] = (int8_t)(q4 ? (int)(rx_rand(st) % 256) - 128 : (int)(rx_rand(st) % 255) - 127);
        for (size_t i = 0; i < (size_t)N * nb; i++) {
            wh[i] = rx_half(st);
            ws[i] = seam_f16_to_f32(wh[i]);
            wm[i] = (uint16_t)(rx_half(st) | (rx_rand(st) & 0x8000)); /* offsets of either sign */
        }
        for (int n = 0; n < N; n++) bias[n] = (float)((int)(rx_rand(st) % 2001) - 1000) * 1e-3f;
        seam_qx qx = {.q = xq, .d = xd, .s = xs, .K = K};
        seam_qmat W = {type, wq, wh, q4 ? wm : NULL, N, K, q4 ? NULL : ws};
        for (int pass = 0; pass < 2; pass++) {
            for (size_t i = 0; i < (size_t)T * N; i++) y[pass][i] = -7.0f; /* outside [n0, n1): untouched */
            seam_wasm_rx_allowed = pass;
            (q4 ? seam_qkernels_wasm.matmul_q4 : seam_qkernels_wasm.matmul_q8)(&qx, T, &W, with_bias ? bias : NULL,
                                                                               y[pass], n0, n1);
        }
        seam_wasm_rx_allowed = 1;
        bad = 0;
        for (size_t i = 0; i < (size_t)T * N; i++) bad += memcmp(&y[0][i], &y[1][i], sizeof(float)) != 0;
    }
    free(x), free(xd), free(xs), free(ws), free(bias), free(y[0]), free(y[1]), free(xq), free(wq), free(wh), free(wm);
    return bad;
}
#endif

/* The relaxed kernels against the SIMD128 ones, bit for bit, on shapes with every kind of
 * tail (rows past a pass of RX_MR and a block of 128, columns past a tile of 8, a K past a
 * chunk of 32 blocks, a column range not starting at 0; one row with a tail of blocks and a
 * K past a decode chunk), for each weight type they run for on this engine. Returns the
 * outputs that differ, -1 when they run for neither or memory ran out. */
SW_EXPORT int sw_rx_selftest(void) {
#ifdef SW_RX
    static const int shapes[][6] = {
        {2, 32, 1, 0, 1, 1},   {3, 1056, 13, 0, 13, 1}, {7, 64, 29, 5, 29, 0}, {130, 96, 9, 0, 9, 1},
        {5, 2080, 16, 8, 16, 1}, {13, 128, 40, 3, 37, 0}, {257, 64, 8, 0, 8, 1},
        /* one row (decode): blocks in fours and a tail, a K past a 4096-value chunk */
        {1, 224, 5, 0, 5, 1},  {1, 4192, 3, 1, 3, 0},
    };
    int runs[2] = {seam_wasm_rx_active(), seam_wasm_rx_q4_active()}, bad = 0;
    if (!runs[0] && !runs[1]) return -1;
    uint32_t st = 2024;
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; runs[k] && i < sizeof shapes / sizeof shapes[0]; i++) {
            const int *s = shapes[i];
            int r = rx_compare(k ? SEAM_QUANT_Q4 : SEAM_QUANT_Q8, s[0], s[1], s[2], s[3], s[4], s[5], &st);
            if (r < 0) return -1;
            bad += r;
        }
    return bad;
#else
    return -1;
#endif
}

SW_EXPORT void sw_close(sw_session *s) {
    if (!s) return;
    seam_sampler_free(s->smp);
    seam_context_free(s->ctx);
    seam_tokenizer_close(s->tok);
    seam_model_close(s->m);
    free(s->logits);
    free(s->window);
    free(s->hidden);
    free(s->msg);
    free(s);
}

/* Opens the model folder dir (in the module's filesystem) for generation with n_threads
 * threads (1: none). n_ctx 0 takes the model's n_positions. */
SW_EXPORT sw_session *sw_open(const char *dir, int n_threads, int n_ctx) {
    sw_session *s = calloc(1, sizeof *s);
    if (!s) { set_error("out of memory"); return NULL; }
    if (seam_model_open(dir, &s->m, &last_err)) goto fail;
    s->in = seam_model_get_info(s->m);
    if (s->in->layer_begin != 0 || s->in->layer_end != s->in->n_layer || !s->in->has_embed || !s->in->has_head) {
        set_error("this folder is a shard of a model; generation needs a whole model");
        goto fail;
    }
    /* A folder without tokenizer files still generates from ids. */
    if (seam_tokenizer_open(dir, &s->tok, &last_err)) s->tok = NULL;
    if (n_ctx <= 0 || n_ctx > s->in->n_positions) n_ctx = s->in->n_positions;
    s->n_ctx = n_ctx;
    if (n_threads < 1) n_threads = 1;
    /* The context starts with a pool sized from the core count; seam.mjs makes that count
     * the thread count wanted, so no second pool (and no second set of workers) is made. */
    if (seam_context_new(s->m, n_ctx, 0, &s->ctx, &last_err)) goto fail;
    if (seam_context_threads(s->ctx) != n_threads && seam_context_set_threads(s->ctx, n_threads, &last_err)) goto fail;
    s->logits = malloc((size_t)s->in->vocab_size * sizeof *s->logits);
    s->window = malloc(((size_t)n_ctx + 1) * sizeof *s->window);
    if (!s->logits || !s->window) { set_error("out of memory"); goto fail; }
    s->done = 1;
    return s;
fail:
    sw_close(s);
    return NULL;
}

/* Model facts by index, so no struct layout crosses into JavaScript. */
SW_EXPORT int sw_info(const sw_session *s, int what) {
    const seam_model_info *in = s->in;
    switch (what) {
    case 0: return in->n_layer;
    case 1: return in->n_embd;
    case 2: return in->n_head;
    case 3: return in->n_positions;
    case 4: return in->vocab_size;
    case 5: return in->eos_token_id;
    case 6: return in->bos_token_id;
    case 7: return seam_context_threads(s->ctx);
    case 8: return s->n_ctx;
    case 9: return s->tok != NULL;
    case 10: return (int)in->weight_dtype;
    case 11: return (int)in->weight_quant;
    default: return -1;
    }
}

/* size_t may be 32-bit here; a double carries any byte count exactly. */
SW_EXPORT double sw_weight_bytes(const sw_session *s) { return (double)s->in->weight_bytes; }

/* Encodes text[0..len) into ids[0..cap). Returns the number of ids (more than cap when the
 * buffer is too small: nothing useful is written then), or -1. */
SW_EXPORT int sw_tokenize(const sw_session *s, const char *text, int len, int32_t *ids, int cap) {
    if (!s->tok) { set_error("this model folder has no tokenizer (tokenizer.json or vocab.json + merges.txt)"); return -1; }
    size_t n = 0;
    seam_status st = seam_tokenize(s->tok, text, (size_t)len, ids, (size_t)cap, &n, &last_err);
    if (st == SEAM_ERR_RANGE && n > (size_t)cap) return (int)n;
    return st ? -1 : (int)n;
}

/* The raw bytes of one token (maybe part of a UTF-8 sequence); *len set, NULL if unknown. */
SW_EXPORT const char *sw_token_bytes(const sw_session *s, int id, int *len) {
    size_t n = 0;
    const char *b = s->tok ? seam_token_bytes(s->tok, id, &n) : NULL;
    *len = (int)n;
    return b;
}

/* ids → text into out[0..cap); returns the bytes needed (excluding the NUL). */
SW_EXPORT int sw_detokenize(const sw_session *s, const int32_t *ids, int n, char *out, int cap) {
    if (!s->tok) return 0;
    return (int)seam_detokenize(s->tok, ids, (size_t)n, out, (size_t)cap);
}

/* A fresh sampler for the next generation (temperature <= 0: greedy; seed 0: the default).
 * Returns 0 or -1 with the error set. */
static int reset_sampler(sw_session *s, double temperature, int top_k, double top_p, double seed) {
    seam_sampler_params p = seam_sampler_default_params();
    p.temperature = (float)temperature;
    p.top_k = top_k;
    p.top_p = (float)top_p;
    p.seed = seed > 0 ? (uint64_t)seed : 0;
    seam_sampler_free(s->smp);
    s->smp = NULL;
    return seam_sampler_new(&p, s->in->vocab_size, &s->smp, &last_err) ? -1 : 0;
}

/* Starts a generation: checks the prompt ids, builds the sampler (temperature <= 0:
 * greedy) and runs the prefill. The seed is a double so every value up to 2^53 passes
 * from JavaScript unchanged. Returns 0 or -1. */
SW_EXPORT int sw_gen_begin(sw_session *s, const int32_t *ids, int n, int max_new, double temperature, int top_k,
                           double top_p, double seed, int ignore_eos) {
    s->done = 1;
    if (n < 1) { set_error("the prompt is empty"); return -1; }
    if (n > s->n_ctx) {
        char msg[160];
        snprintf(msg, sizeof msg, "the prompt (%d tokens) does not fit the context of %d tokens", n, s->n_ctx);
        set_error(msg);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= s->in->vocab_size) {
            char msg[160];
            snprintf(msg, sizeof msg, "token id %d is outside the vocabulary of %d", (int)ids[i], s->in->vocab_size);
            set_error(msg);
            return -1;
        }
    if (reset_sampler(s, temperature, top_k, top_p, seed)) return -1;
    memcpy(s->window, ids, (size_t)n * sizeof *ids);
    s->n_win = n;
    s->produced = 0;
    s->max_new = max_new;
    s->ignore_eos = ignore_eos;
    if (seam_forward(s->ctx, s->window, n, 0, s->logits, &last_err)) return -1;
    s->done = max_new <= 0;
    return 0;
}

/* The next token: sampled from the last logits, then fed forward unless it is the last
 * one asked for. Returns the id, -1 when the generation is over (end-of-text, max_new
 * tokens produced, or the context is full), -2 on an error. */
SW_EXPORT int sw_gen_next(sw_session *s) {
    if (s->done) return -1;
    int32_t next = seam_sample(s->smp, s->logits);
    if (!s->ignore_eos && next == s->in->eos_token_id) { s->done = 1; return -1; }
    s->produced++;
    if (s->produced >= s->max_new || s->n_win >= s->n_ctx) { s->done = 1; return next; }
    s->window[s->n_win++] = next;
    if (seam_forward(s->ctx, &next, 1, s->n_win - 1, s->logits, &last_err)) { s->done = 1; return -2; }
    return next;
}

/* A fresh forward pass over ids from position 0 (the cache is overwritten); the last
 * row's logits are then at sw_logits(). For tests that compare against references. */
SW_EXPORT int sw_forward(sw_session *s, const int32_t *ids, int n) {
    s->done = 1;
    if (n < 1 || n > s->n_ctx) { set_error("bad number of ids"); return -1; }
    return seam_forward(s->ctx, ids, n, 0, s->logits, &last_err) ? -1 : 0;
}

SW_EXPORT const float *sw_logits(const sw_session *s) { return s->logits; }

/* ------------------------------------------------------------------ encoders */

/* A sentence-transformers (or plain BERT) folder for embeddings, n_threads threads. */
SW_EXPORT seam_encoder *sw_enc_open(const char *dir, int n_threads) {
    seam_encoder_params p = {0, 0, n_threads < 1 ? 1 : n_threads, SEAM_PRECISION_DEFAULT};
    seam_encoder *e = NULL;
    if (seam_encoder_open(dir, &p, &e, &last_err)) return NULL;
    return e;
}

SW_EXPORT void sw_enc_close(seam_encoder *e) { seam_encoder_close(e); }

SW_EXPORT int sw_enc_info(const seam_encoder *e, int what) {
    const seam_encoder_info *in = seam_encoder_get_info(e);
    switch (what) {
    case 0: return in->hidden;
    case 1: return in->n_layer;
    case 2: return in->n_head;
    case 3: return in->vocab_size;
    case 4: return in->max_seq_length;
    case 5: return in->n_threads;
    case 6: return (int)in->pooling;
    case 7: return in->normalize;
    case 8: return (int)in->weight_dtype;
    default: return -1;
    }
}

SW_EXPORT double sw_enc_weight_bytes(const seam_encoder *e) { return (double)seam_encoder_get_info(e)->weight_bytes; }

/* Embeds n texts held back to back in buf, text i at buf[off[i]..off[i+1]), into
 * out [n, hidden]. flags as seam_encoder_embed's. Returns 0 or -1. */
SW_EXPORT int sw_enc_embed(seam_encoder *e, const char *buf, const int *off, int n, float *out, int flags) {
    if (n < 0) { set_error("bad number of texts"); return -1; }
    if (n == 0) return 0;
    const char **texts = malloc((size_t)n * sizeof *texts);
    size_t *lens = malloc((size_t)n * sizeof *lens);
    int rc = -1;
    if (!texts || !lens) { set_error("out of memory"); goto out; }
    for (int i = 0; i < n; i++) {
        texts[i] = buf + off[i];
        lens[i] = (size_t)(off[i + 1] - off[i]);
    }
    rc = seam_encoder_embed(e, texts, lens, (size_t)n, out, (unsigned)flags, NULL, &last_err) ? -1 : 0;
out:
    free(texts);
    free(lens);
    return rc;
}

/* The ids the encoder feeds for text ([CLS] ... [SEP], truncated): count, or -1. */
SW_EXPORT int sw_enc_tokenize(const seam_encoder *e, const char *text, int len, int32_t *ids, int cap) {
    size_t n = 0;
    seam_status st = seam_encoder_tokenize(e, text, (size_t)len, ids, (size_t)cap, &n, NULL, &last_err);
    if (st == SEAM_ERR_RANGE && n > (size_t)cap) return (int)n;
    return st ? -1 : (int)n;
}

/* ------------------------------------------------------------------ split sessions
 *
 * The browser's side of `seam serve`'s split sessions, the same steps as cmd_edge.c:
 *   tail mode: the server's hidden state (a wire message) runs through [k, N), the final
 *              norm and the head here, and the token is sampled here (sw_split_tail);
 *   head mode: ids are embedded and run through [0, k) here, and the hidden state goes out
 *              as a wire message (sw_split_head); the server samples.
 * Both sides keep KV caches, so each step after the prompt carries one row. */

static void set_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_errorf(const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    set_error(msg);
}

/* Opens the shard folder dir for split mode (1 tail, 2 head) at split point k of the model
 * whose fingerprint is fp_hex, messages in act (0 f32, 1 f16, 2 q8). The folder must hold
 * exactly what that side runs and descend from that model: a stale or wrong shard is
 * refused here rather than producing wrong tokens. */
SW_EXPORT sw_session *sw_split_open(const char *dir, int n_threads, int n_ctx, int mode, int k, const char *fp_hex,
                                    int act) {
    if (mode != 1 && mode != 2) { set_error("split mode must be 1 (tail) or 2 (head)"); return NULL; }
    if (act < SEAM_WIRE_F32 || act > SEAM_WIRE_Q8) { set_error("activation must be f32, f16 or q8"); return NULL; }
    sw_session *s = calloc(1, sizeof *s);
    if (!s) { set_error("out of memory"); return NULL; }
    if (!seam_fingerprint_to_bytes(fp_hex, s->fp)) { set_error("the model fingerprint is not 64 hex digits"); goto fail; }
    /* Every file against the manifest's size and sha256, before the loader reads any. */
    if (seam_shard_verify(dir, NULL, fp_hex, 1, &last_err)) goto fail;
    if (seam_model_open(dir, &s->m, &last_err)) goto fail;
    s->in = seam_model_get_info(s->m);
    int N = s->in->n_layer;
    if (k < 0 || k > N) { set_errorf("split %d is outside [0, %d]", k, N); goto fail; }
    seam_shard_range want = mode == 1 ? (seam_shard_range){k, N, 0, 1, 0} : (seam_shard_range){0, k, 1, 0, 0};
    if (seam_model_check_shard(s->m, &want, fp_hex, &last_err)) goto fail;
    if (seam_tokenizer_open(dir, &s->tok, &last_err)) s->tok = NULL;
    if (n_ctx <= 0 || n_ctx > s->in->n_positions) n_ctx = s->in->n_positions;
    s->n_ctx = n_ctx;
    s->split_mode = mode;
    s->split = k;
    s->act = (seam_wire_dtype)act;
    if (n_threads < 1) n_threads = 1;
    if (seam_context_new(s->m, n_ctx, 0, &s->ctx, &last_err)) goto fail;
    if (seam_context_threads(s->ctx) != n_threads && seam_context_set_threads(s->ctx, n_threads, &last_err)) goto fail;
    s->hidden = malloc((size_t)n_ctx * (size_t)s->in->n_embd * sizeof *s->hidden);
    s->logits = malloc((size_t)s->in->vocab_size * sizeof *s->logits);
    if (!s->hidden || !s->logits) { set_error("out of memory"); goto fail; }
    s->done = 1;
    return s;
fail:
    sw_close(s);
    return NULL;
}

/* Tail mode samples here: a fresh sampler per generation (temperature <= 0: greedy). */
SW_EXPORT int sw_split_sampler(sw_session *s, double temperature, int top_k, double top_p, double seed) {
    if (s->split_mode != 1) { set_error("only a tail-mode session samples in the browser"); return -1; }
    return reset_sampler(s, temperature, top_k, top_p, seed);
}

static int rows_fit(const sw_session *s, int T, int pos) {
    if (T < 1 || pos < 0 || T > s->n_ctx - pos) {
        set_errorf("a step of %d rows at position %d does not fit the context", T, pos);
        return 0;
    }
    return 1;
}

/* Tail mode: the server's answer msg[0..len) for T ids sent at pos -> the sampled token,
 * or -2 (sw_last_error says why). The message is checked against this session (model,
 * split point, position, width, rows, dtype) before any number of it is used. */
SW_EXPORT int sw_split_tail(sw_session *s, const uint8_t *msg, int len, int pos, int T) {
    if (s->split_mode != 1 || !s->smp) { set_error("not a tail-mode session with a sampler"); return -2; }
    if (len < 0 || !rows_fit(s, T, pos)) return -2;
    int C = s->in->n_embd;
    seam_wire_expect ex = {s->fp, s->split, pos, C, T};
    seam_wire_header h;
    if (seam_wire_decode(msg, (size_t)len, &ex, &h, s->hidden, (size_t)T * (size_t)C, &last_err)) {
        char m[sizeof last_err.message];
        snprintf(m, sizeof m, "the server's hidden state: %.200s", last_err.message);
        set_error(m);
        return -2;
    }
    if (h.T != T || h.dtype != s->act) {
        set_errorf("the server answered %d rows (dtype %d) for the step", h.T, (int)h.dtype);
        return -2;
    }
    float *last = s->hidden + (size_t)(T - 1) * (size_t)C;
    if (seam_run_layers_last_row(s->ctx, s->split, s->in->n_layer, s->hidden, T, pos, &last_err) ||
        seam_final_norm(s->ctx, last, 1, &last_err) || seam_lm_head(s->ctx, last, 1, s->logits, &last_err))
        return -2;
    return seam_sample(s->smp, s->logits);
}

/* Head mode: ids[0..T) at pos through the embeddings and [0, k) -> the hidden-state
 * message for the server (at sw_split_msg(), sw_split_msg_len() bytes), or NULL. */
SW_EXPORT const uint8_t *sw_split_head(sw_session *s, const int32_t *ids, int T, int pos) {
    if (s->split_mode != 2) { set_error("not a head-mode session"); return NULL; }
    if (!rows_fit(s, T, pos)) return NULL;
    for (int i = 0; i < T; i++)
        if (ids[i] < 0 || ids[i] >= s->in->vocab_size) {
            set_errorf("token id %d is outside the vocabulary of %d", (int)ids[i], s->in->vocab_size);
            return NULL;
        }
    if (seam_embed(s->ctx, ids, T, pos, s->hidden, &last_err) ||
        seam_run_layers(s->ctx, 0, s->split, s->hidden, T, pos, &last_err))
        return NULL;
    seam_wire_header h = seam_wire_header_make(s->act, s->fp, s->split, pos, T, s->in->n_embd);
    size_t n = seam_wire_size(h.dtype, T, h.C), w = 0;
    if (!n) { set_error("the hidden state is too large for a message"); return NULL; }
    free(s->msg);
    s->msg = malloc(n);
    s->msg_len = 0;
    if (!s->msg) { set_error("out of memory"); return NULL; }
    if (seam_wire_encode(&h, s->hidden, s->msg, n, &w, &last_err)) return NULL;
    s->msg_len = w;
    return s->msg;
}

SW_EXPORT int sw_split_msg_len(const sw_session *s) { return (int)s->msg_len; }
