/* The BERT encoder forward pass (post-LN blocks) and the sentence-embedding API on top:
 * tokenisation, length bucketing with dynamic padding, pooling, normalisation.
 * Shapes: B sequences of T tokens, R = B*T rows, C hidden, H heads of D = C/H, I the
 * intermediate width. Every buffer is sized once in bert_ctx_new for max_batch * max_seq
 * rows; a forward pass allocates nothing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/ops.h"
#include "kernels/kernels.h"
#include "model/bert.h"
#include "tokenizer/wordpiece.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/pool.h"

/* The Linear layers after attention, in bert_linear's numbering. */
enum { LIN_AO, LIN_IN, LIN_OUT, LIN_PER_LAYER };
#define PACKED_PER_LAYER (1 + LIN_PER_LAYER)

/* A kernel table for the Linear layers, with every layer's weights packed for its GEMM
 * (k->pack_nk): slot PACKED_PER_LAYER l holds Q, K and V as one [3C, C] matrix, slot
 * PACKED_PER_LAYER l + 1 + i linear i; packed is NULL where the table has no packing. */
typedef struct {
    const seam_kernels *k;
    float **packed;
    int n_packed;
} bert_linears;

/* Products of fewer rows than this (one AMX row tile) run on the context's `few` table where
 * it has one. AMX's tiles lose to AVX-512's stream at few rows: on the device's Xeon, batch
 * 1 x 12 ran at 391-457 sentences/s on AVX-512 against 154-212 on AMX (1 thread; 16
 * threads: 1,660-1,741 against 1,416-1,663), while 1 x 128 ran at 82 on AMX against 43
 * (1 thread). At 16 threads AVX-512 also won 1 x 128 (293-300 against 205-254: 8 rows a
 * thread), but a choice by rows alone keeps a batch's bits the same for every thread count.
 * Measured again after 5cb22ba had made one row tile's AMX product 2.6x faster: alone
 * (seam_bench gemm -t 1) MiniLM's four products of 12 rows took 0.88-1.29 times AVX-512's
 * time on AMX, and batch 1 x 12 with AMX below 16 rows ran at 459 against 472 sentences/s
 * (1 thread) and 1,222-1,410 against 1,572-1,710 (16 threads): AVX-512 stays. */
#define BERT_WIDE_MIN_ROWS 16

struct bert_ctx {
    const bert_model *m;
    const seam_kernels *k; /* every op but the Linear layers, and those of many rows */
    bert_linears wide;     /* the Linear layers (wide.k == k) */
    bert_linears few;      /* products of fewer than BERT_WIDE_MIN_ROWS rows, or k NULL */
    seam_pool *pool;
    int n_threads, max_batch, max_seq;
    float *h;      /* [R, C] hidden state */
    float *qkv;    /* [R, 3C]: Q, K and V of a row side by side */
    float *qkv_b;  /* [n_layer][3C]: the three biases side by side */
    float *att;    /* [R, C] attention output before its projection */
    float *tmp;    /* [R, C] sublayer output before residual + norm */
    float *mid;    /* [R, I] */
    float *scores; /* [threads][bert_scores_per_thread(max_seq)] attention scratch */
    float *cls;    /* [max_batch, 2C] pooler input and output */
    float *emb;    /* [threads][2C] position and token type rows */
    unsigned char *padded; /* [max_batch] of the batch being run: sequence has masked positions */
};

static const seam_mat *layer_linear(const bert_layer *L, int i) {
    const seam_mat *w[LIN_PER_LAYER] = {&L->ao_w, &L->in_w, &L->out_w};
    return w[i];
}

/* Q, K and V of one layer as a single [3C, C] f32 matrix in tmp, for packing: one product
 * instead of three per layer (two wakes of the pool fewer, and one share of 3C columns per
 * thread balances better than three of C). */
static seam_mat fused_qkv(const seam_kernels *k, const bert_layer *L, int C, float *tmp) {
    const seam_mat *w[3] = {&L->q_w, &L->k_w, &L->v_w};
    for (int i = 0; i < 3; i++)
        for (int r = 0; r < C; r++) k->row_to_f32(w[i], r, tmp + ((size_t)i * C + (size_t)r) * (size_t)C);
    return (seam_mat){tmp, SEAM_DTYPE_F32, 3 * C, C};
}

/* Scratch floats one thread's attention tiles need (seam_attend_tile's scores). */
static size_t bert_scores_per_thread(int max_seq) {
    return (size_t)SEAM_ATTEND_ROWS * (size_t)(max_seq + SEAM_ATTEND_ROWS);
}

void bert_ctx_free(bert_ctx *c) {
    if (!c) return;
    float *bufs[] = {c->h, c->qkv, c->qkv_b, c->att, c->tmp, c->mid, c->scores, c->cls, c->emb};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) seam_free_floats(bufs[i]);
    free(c->padded);
    bert_linears *sets[2] = {&c->wide, &c->few};
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < sets[s]->n_packed; i++) seam_free_floats(sets[s]->packed[i]);
        free(sets[s]->packed);
    }
    seam_pool_free(c->pool);
    free(c);
}

/* Every layer's weights packed for L->k (nothing where it has no packing); nonzero when out
 * of memory (what was packed stays in L for bert_ctx_free). */
static int pack_linears(const bert_model *m, bert_linears *L) {
    if (!L->k->pack_nk) return 0;
    const bert_config *cf = &m->cfg;
    size_t C = (size_t)cf->hidden;
    L->packed = calloc((size_t)cf->n_layer * PACKED_PER_LAYER, sizeof *L->packed);
    float *qkv_w = seam_alloc_floats(3 * C * C);
    int bad = !L->packed || !qkv_w;
    for (int l = 0; l < cf->n_layer && !bad; l++)
        for (int i = -1; i < LIN_PER_LAYER && !bad; i++) {
            seam_mat W = i < 0 ? fused_qkv(L->k, &m->layers[l], (int)C, qkv_w) : *layer_linear(&m->layers[l], i);
            float *p = seam_alloc_floats(seam_packed_floats(L->k, W.rows, W.cols));
            if (!(bad = !p)) {
                L->k->pack_nk(&W, p);
                L->packed[L->n_packed++] = p;
            }
        }
    seam_free_floats(qkv_w);
    return bad;
}

seam_status bert_ctx_new(const bert_model *m, int max_batch, int max_seq, int n_threads, seam_precision precision, bert_ctx **out,
                         seam_error *err) {
    const seam_kernels *k = seam_kernels_best();
    /* Only the AVX-512 table has an AMX twin; a forced SEAM_ISA=avx2 or scalar stays as is.
     * AVX-512 keeps the products of few rows (BERT_WIDE_MIN_ROWS). */
    if (precision == SEAM_PRECISION_HIGH && seam_kernels_amx() && k == seam_kernels_by_name("avx512"))
        return bert_ctx_new_tables(m, max_batch, max_seq, n_threads, seam_kernels_amx(), k, out, err);
    return bert_ctx_new_tables(m, max_batch, max_seq, n_threads, k, NULL, out, err);
}

seam_status bert_ctx_new_tables(const bert_model *m, int max_batch, int max_seq, int n_threads, const seam_kernels *k,
                                const seam_kernels *few, bert_ctx **out, seam_error *err) {
    *out = NULL;
    if (!k) return seam_fail(err, SEAM_ERR_ARG, "no kernel table for the encoder");
    const bert_config *cf = &m->cfg;
    if (max_batch < 1 || max_batch > 65536) return seam_fail(err, SEAM_ERR_ARG, "batch size %d is outside [1, 65536]", max_batch);
    if (max_seq < 1 || max_seq > cf->max_positions)
        return seam_fail(err, SEAM_ERR_ARG, "sequence length %d is outside [1, %d] (max_position_embeddings)", max_seq, cf->max_positions);
    if (n_threads < 0 || n_threads > 1024) return seam_fail(err, SEAM_ERR_ARG, "thread count %d is outside [0, 1024]", n_threads);
    if (n_threads == 0) n_threads = seam_physical_cores();
    bert_ctx *c = calloc(1, sizeof *c);
    if (!c) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    c->m = m;
    c->k = k;
    c->n_threads = n_threads;
    c->max_batch = max_batch;
    c->max_seq = max_seq;
    size_t R = (size_t)max_batch * (size_t)max_seq, C = (size_t)cf->hidden;
    c->h = seam_alloc_floats(R * C);
    c->qkv = seam_alloc_floats(R * 3 * C);
    c->qkv_b = seam_alloc_floats((size_t)cf->n_layer * 3 * C);
    c->att = seam_alloc_floats(R * C);
    c->tmp = seam_alloc_floats(R * C);
    c->mid = seam_alloc_floats(R * (size_t)cf->intermediate);
    c->scores = seam_alloc_floats((size_t)n_threads * bert_scores_per_thread(max_seq));
    c->cls = seam_alloc_floats((size_t)max_batch * C * 2);
    c->emb = seam_alloc_floats(2 * C * (size_t)n_threads);
    c->padded = calloc((size_t)max_batch, 1);
    if (!c->h || !c->qkv || !c->qkv_b || !c->att || !c->tmp || !c->mid || !c->scores || !c->cls || !c->emb || !c->padded) {
        bert_ctx_free(c);
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory for %d sequences of %d tokens", max_batch, max_seq);
    }
    /* Packed once here, since every call of an encoder has many rows: per-call packing
     * would cost as much as the multiply on each thread's few rows (x86, WebAssembly). */
    for (int l = 0; l < cf->n_layer; l++) {
        const bert_layer *L = &m->layers[l];
        float *b = c->qkv_b + (size_t)l * 3 * C;
        memcpy(b, L->q_b, C * sizeof(float));
        memcpy(b + C, L->k_b, C * sizeof(float));
        memcpy(b + 2 * C, L->v_b, C * sizeof(float));
    }
    c->wide.k = k;
    if (few && few != k) c->few.k = few;
    if (pack_linears(m, &c->wide) || (c->few.k && pack_linears(m, &c->few))) {
        bert_ctx_free(c);
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory for the packed weights");
    }
    if (n_threads > 1) {
        seam_status s = seam_pool_new(n_threads, &c->pool, err);
        if (s) { bert_ctx_free(c); return s; }
    }
    *out = c;
    return SEAM_OK;
}

int bert_ctx_threads(const bert_ctx *c) { return c->n_threads; }
const seam_kernels *bert_ctx_kernels(const bert_ctx *c) { return c->k; }
const float *bert_ctx_hidden(const bert_ctx *c) { return c->h; }

/* The table (and packing) for a product of R rows. */
static const bert_linears *linears_for(const bert_ctx *c, int R) {
    return c->few.k && R < BERT_WIDE_MIN_ROWS ? &c->few : &c->wide;
}

/* Slot s of layer l's packed panels for a product of R rows, and in *k the table that runs
 * the product; NULL where there is no packing or too few rows to fill the GEMM's register
 * tiles (below 4), which then go through the per-call kernels of *k. */
static const float *packed_for(const bert_ctx *c, int R, int l, int s, const seam_kernels **k) {
    const bert_linears *L = linears_for(c, R);
    *k = L->k;
    return L->packed && R >= 4 ? L->packed[l * PACKED_PER_LAYER + s] : NULL;
}

/* y[R, N] = act(x @ W^T + b) for linear i of layer l (act may be OP_NO_ACTIVATION). */
static void bert_linear(bert_ctx *c, int l, int i, const float *x, int R, const float *b, float *y, int act) {
    const seam_mat *W = layer_linear(&c->m->layers[l], i);
    const seam_kernels *k;
    const float *P = packed_for(c, R, l, 1 + i, &k);
    if (P) {
        op_matmul_packed(c->pool, k, x, R, P, W->cols, W->rows, b, y, act);
        return;
    }
    op_matmul_nk(c->pool, k, x, R, W, b, y);
    if (act != OP_NO_ACTIVATION) op_activation(c->pool, k, act, y, (size_t)R * (size_t)W->rows);
}

/* qkv = h @ [Wq; Wk; Wv]^T + [bq; bk; bv] for layer l: one product from the fused panels,
 * or (no packing, or too few rows: packed_for) three, each through att and copied into its
 * third of qkv's rows. */
static void bert_qkv(bert_ctx *c, int l, int R) {
    const bert_layer *L = &c->m->layers[l];
    size_t C = (size_t)c->m->cfg.hidden;
    const float *b = c->qkv_b + (size_t)l * 3 * C;
    const seam_kernels *k;
    const float *P = packed_for(c, R, l, 0, &k);
    if (P) {
        op_matmul_packed(c->pool, k, c->h, R, P, (int)C, 3 * (int)C, b, c->qkv, OP_NO_ACTIVATION);
        return;
    }
    const seam_mat *w[3] = {&L->q_w, &L->k_w, &L->v_w};
    for (int i = 0; i < 3; i++) {
        op_matmul_nk(c->pool, k, c->h, R, w[i], b + (size_t)i * C, c->att);
        for (int r = 0; r < R; r++) memcpy(c->qkv + (size_t)r * 3 * C + (size_t)i * C, c->att + (size_t)r * C, C * sizeof(float));
    }
}

/* ------------------------------------------------------------------ row jobs */

/* fn on the pool, or on this thread when its rows hold fewer than ~16K floats: waking the
 * pool then costs more than the work. */
static void run_rows(bert_ctx *c, seam_pool_fn fn, void *job, int rows) {
    if ((size_t)rows * (size_t)c->m->cfg.hidden < 16384) fn(job, 0, 1);
    else seam_pool_run(c->pool, fn, job);
}

/* h = LayerNorm(h + add), row by row (add may be NULL). */
static void add_norm(bert_ctx *c, const float *add, const float *w, const float *b, int rows) {
    op_add_norm(c->pool, c->k, c->h, add, w, b, c->m->cfg.layer_norm_eps, c->h, rows, c->m->cfg.hidden);
}

typedef struct {
    bert_ctx *c;
    const int32_t *mask;
    const unsigned char *padded; /* [B]: sequence b has masked positions */
    int B, T;
    float scale;
    seam_pool_queue units; /* attn_worker's, claimed as the threads go (util/pool.h) */
} attn_job;

/* Each sequence's K, transposed per head (graph/ops.h) into tmp, idle during attention;
 * V is read in rows as its projection wrote it (seam_attend_tile's v). */
static void transpose_worker(void *arg, int ith, int nth) {
    const attn_job *j = arg;
    bert_ctx *c = j->c;
    int C = c->m->cfg.hidden, T = j->T, lo, hi;
    /* Units of (sequence, 32 components): a single sequence still spreads over
     * every thread. */
    int cb = (C + 31) / 32;
    seam_pool_chunk(j->B * cb, 1, ith, nth, &lo, &hi);
    for (int u = lo; u < hi; u++) {
        int b = u / cb, c0 = (u % cb) * 32, cc = C - c0 < 32 ? C - c0 : 32;
        op_transpose_heads(c->k, c->qkv + (size_t)b * T * 3 * C + C + c0, 3 * (size_t)C, T, cc, c->tmp + (size_t)b * C * T + (size_t)c0 * T,
                           (size_t)T, 0);
    }
}

/* Claims of (sequence, head, tile of query rows) units; consecutive units share a head,
 * whose K and V then stay in cache. Padded keys are left out, which is what adding
 * finfo.min to their scores gives after the softmax. */
static void attn_worker(void *arg, int ith, int nth) {
    (void)nth;
    attn_job *j = arg;
    bert_ctx *c = j->c;
    int C = c->m->cfg.hidden, H = c->m->cfg.n_head, D = C / H, T = j->T, lo, hi;
    int tiles = (T + SEAM_ATTEND_ROWS - 1) / SEAM_ATTEND_ROWS;
    seam_attend_tile a = {0};
    a.ldq = 3 * (size_t)C;
    a.ldo = (size_t)C;
    a.ld = (size_t)T;
    a.n = T;
    a.D = D;
    a.scale = j->scale;
    a.scores = c->scores + (size_t)ith * bert_scores_per_thread(c->max_seq);
    while (seam_pool_claim(&j->units, &lo, &hi))
        for (int u = lo; u < hi; u++) {
            int b = u / (H * tiles), h = (u / tiles) % H, t0 = (u % tiles) * SEAM_ATTEND_ROWS;
            size_t row0 = (size_t)b * T, head = (size_t)b * C * T + (size_t)h * D * T;
            a.R = T - t0 < SEAM_ATTEND_ROWS ? T - t0 : SEAM_ATTEND_ROWS;
            a.q = c->qkv + (row0 + (size_t)t0) * 3 * C + (size_t)h * D;
            a.kt = c->tmp + head;
            a.v = c->qkv + row0 * 3 * C + 2 * (size_t)C + (size_t)h * D;
            a.ldv = 3 * (size_t)C;
            a.mask = j->padded[b] ? j->mask + row0 : NULL; /* no per-key mask pass where nothing is masked */
            a.out = c->att + (row0 + (size_t)t0) * C + (size_t)h * D;
            op_attend(c->k, &a);
        }
}

typedef struct {
    bert_ctx *c;
    const int32_t *ids;
    int T, rows;
} embed_job;

/* h = word[id] + position[t] + token_type[0], row by row; tmp holds a thread's two rows. */
static void embed_worker(void *arg, int ith, int nth) {
    const embed_job *j = arg;
    const bert_model *m = j->c->m;
    int C = m->cfg.hidden, lo, hi;
    float *tmp = j->c->emb + (size_t)ith * 2 * (size_t)C;
    seam_pool_chunk(j->rows, 1, ith, nth, &lo, &hi);
    for (int r = lo; r < hi; r++) {
        float *h = j->c->h + (size_t)r * C;
        j->c->k->row_to_f32(&m->word, j->ids[r], h);
        j->c->k->row_to_f32(&m->pos, r % j->T, tmp);
        j->c->k->row_to_f32(&m->type, 0, tmp + C);
        for (int i = 0; i < C; i++) h[i] += tmp[i] + tmp[C + i];
    }
}

/* ------------------------------------------------------------------ forward */

seam_status bert_forward(bert_ctx *c, const int32_t *ids, const int32_t *mask, int B, int T, float *hidden, float *pooler,
                         seam_error *err) {
    const bert_model *m = c->m;
    const bert_config *cf = &m->cfg;
    const seam_kernels *k = c->k;
    if (B < 1 || B > c->max_batch) return seam_fail(err, SEAM_ERR_ARG, "batch of %d sequences is outside [1, %d]", B, c->max_batch);
    if (T < 1 || T > c->max_seq) return seam_fail(err, SEAM_ERR_RANGE, "sequence of %d tokens is outside [1, %d]", T, c->max_seq);
    if (pooler && !m->pool_w.data) return seam_fail(err, SEAM_ERR_ARG, "this model has no pooler (pooler.dense)");
    int C = cf->hidden, R = B * T;
    unsigned char *padded = c->padded;
    for (int b = 0; b < B; b++) {
        int any = 0, all = 1;
        for (int t = 0; t < T; t++) {
            int32_t id = ids[(size_t)b * T + t], mk = mask[(size_t)b * T + t];
            if (id < 0 || id >= cf->vocab_size)
                return seam_fail(err, SEAM_ERR_RANGE, "token id %d at [%d, %d] is outside the vocabulary of %d", (int)id, b, t, cf->vocab_size);
            if (mk != 0 && mk != 1) return seam_fail(err, SEAM_ERR_ARG, "attention mask value %d at [%d, %d] is not 0 or 1", (int)mk, b, t);
            any |= mk;
            all &= mk;
        }
        if (!any) return seam_fail(err, SEAM_ERR_ARG, "sequence %d has an all-zero attention mask", b);
        padded[b] = !all;
    }
    /* embeddings: word + position + token type 0, then LayerNorm */
    embed_job ej = {c, ids, T, R};
    run_rows(c, embed_worker, &ej, R);
    add_norm(c, NULL, m->emb_ln_w, m->emb_ln_b, R);
    attn_job aj = {c, mask, padded, B, T, 1.0f / sqrtf((float)(C / cf->n_head)), {0}};
    for (int l = 0; l < cf->n_layer; l++) {
        const bert_layer *L = &m->layers[l];
        bert_qkv(c, l, R);
        run_rows(c, transpose_worker, &aj, R);
        int units = B * cf->n_head * ((T + SEAM_ATTEND_ROWS - 1) / SEAM_ATTEND_ROWS);
        seam_pool_queue_init(&aj.units, units, seam_pool_size(c->pool), 1);
        seam_pool_run(c->pool, attn_worker, &aj);
        bert_linear(c, l, LIN_AO, c->att, R, L->ao_b, c->tmp, OP_NO_ACTIVATION);
        add_norm(c, c->tmp, L->ln1_w, L->ln1_b, R);
        bert_linear(c, l, LIN_IN, c->h, R, L->in_b, c->mid, cf->activation);
        bert_linear(c, l, LIN_OUT, c->mid, R, L->out_b, c->tmp, OP_NO_ACTIVATION);
        add_norm(c, c->tmp, L->ln2_w, L->ln2_b, R);
    }
    if (hidden) memcpy(hidden, c->h, (size_t)R * C * sizeof(float));
    if (pooler) {
        for (int b = 0; b < B; b++) memcpy(c->cls + (size_t)b * C, c->h + (size_t)b * T * C, (size_t)C * sizeof(float));
        float *po = c->cls + (size_t)c->max_batch * C;
        op_matmul_nk(c->pool, k, c->cls, B, &m->pool_w, m->pool_b, po);
        for (size_t i = 0; i < (size_t)B * C; i++) pooler[i] = tanhf(po[i]);
    }
    return SEAM_OK;
}

/* ------------------------------------------------------------------ pooling */

seam_status seam_encoder_pool(seam_pooling mode, int normalize, const float *hidden, const int32_t *mask, int B, int T,
                              int C, float *out, seam_error *err) {
    if (B < 0 || T < 1 || C < 1 || !hidden || !mask || !out) return seam_fail(err, SEAM_ERR_ARG, "bad pooling arguments");
    if (mode < SEAM_POOL_MEAN || mode > SEAM_POOL_LASTTOKEN) return seam_fail(err, SEAM_ERR_ARG, "unknown pooling mode %d", (int)mode);
    for (int b = 0; b < B; b++) {
        const float *hb = hidden + (size_t)b * T * C;
        const int32_t *mk = mask + (size_t)b * T;
        float *o = out + (size_t)b * C;
        if (mode == SEAM_POOL_CLS) memcpy(o, hb, (size_t)C * sizeof(float));
        else if (mode == SEAM_POOL_LASTTOKEN) {
            int last = -1;
            for (int t = 0; t < T; t++) if (mk[t]) last = t;
            if (last < 0) memset(o, 0, (size_t)C * sizeof(float));
            else memcpy(o, hb + (size_t)last * C, (size_t)C * sizeof(float));
        } else if (mode == SEAM_POOL_MAX) {
            /* masked positions count as -1e9, as in sentence-transformers */
            for (int i = 0; i < C; i++) o[i] = -1e9f;
            for (int t = 0; t < T; t++)
                for (int i = 0; mk[t] && i < C; i++) o[i] = hb[(size_t)t * C + i] > o[i] ? hb[(size_t)t * C + i] : o[i];
        } else {
            /* sums in double: long inputs would otherwise lose low bits in f32 */
            double n = 0;
            for (int t = 0; t < T; t++) n += mk[t] != 0;
            for (int i = 0; i < C; i++) {
                double s = 0;
                for (int t = 0; t < T; t++) if (mk[t]) s += hb[(size_t)t * C + i];
                o[i] = (float)(s / (n > 1e-9 ? n : 1e-9));
            }
        }
        if (normalize) {
            double ss = 0;
            for (int i = 0; i < C; i++) ss += (double)o[i] * o[i];
            double nrm = sqrt(ss);
            float inv = (float)(1.0 / (nrm > 1e-12 ? nrm : 1e-12));
            for (int i = 0; i < C; i++) o[i] *= inv;
        }
    }
    return SEAM_OK;
}

/* ------------------------------------------------------------------ the encoder API */

struct seam_encoder {
    bert_model *m;
    wp_tokenizer *tok;
    bert_ctx *ctx;
    seam_encoder_info info;
    int32_t pad_id;
    int32_t *ids, *mask; /* [max_batch, max_seq] of the batch being run */
    float *pooled;       /* [max_batch, C] */
};

void seam_encoder_close(seam_encoder *e) {
    if (!e) return;
    bert_ctx_free(e->ctx);
    wp_close(e->tok);
    bert_model_close(e->m);
    free(e->ids);
    free(e->mask);
    free(e->pooled);
    free(e);
}

const seam_encoder_info *seam_encoder_get_info(const seam_encoder *e) { return &e->info; }

const char *seam_precision_name(seam_precision p) {
    return p == SEAM_PRECISION_HIGHEST ? "highest" : "high";
}

/* sentence-transformers' choice: its config's max_seq_length, else the smaller of the
 * position table and the tokenizer's model_max_length. */
static int pick_max_seq(const bert_st_config *st, const bert_config *cf) {
    int n = st->max_seq_length;
    if (n <= 0) n = st->tok_max_length > 0 && st->tok_max_length < cf->max_positions ? st->tok_max_length : cf->max_positions;
    return n < cf->max_positions ? n : cf->max_positions;
}

static seam_status encoder_setup(seam_encoder *e, const bert_st_config *st, const seam_encoder_params *p, seam_error *err) {
    const bert_config *cf = &e->m->cfg;
    seam_status s;
    if (st->pool_dim && st->pool_dim != cf->hidden)
        return seam_fail(err, SEAM_ERR_FORMAT, "1_Pooling/config.json: embedding dimension %d differs from hidden_size %d", st->pool_dim,
                         cf->hidden);
    if ((s = wp_open_dir(st->model_dir, &e->tok, err))) return s;
    if (st->do_lower_case && !wp_get_settings(e->tok)->lowercase)
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "sentence_bert_config.json: do_lower_case with a cased tokenizer is not supported");
    if (wp_vocab_size(e->tok) > cf->vocab_size)
        return seam_fail(err, SEAM_ERR_FORMAT, "the tokenizer has %d ids, more than the model's vocab_size %d", wp_vocab_size(e->tok),
                         cf->vocab_size);
    int max_seq = pick_max_seq(st, cf), max_batch = p->max_batch ? p->max_batch : 32;
    if (p->max_seq_length < 0 || p->max_seq_length > max_seq)
        return seam_fail(err, SEAM_ERR_ARG, "max_seq_length %d is outside [1, %d]", p->max_seq_length, max_seq);
    if (p->max_seq_length) max_seq = p->max_seq_length;
    const int32_t *sp;
    if ((size_t)max_seq < wp_special_prefix(e->tok, &sp) + wp_special_suffix(e->tok, &sp) + 1)
        return seam_fail(err, SEAM_ERR_ARG, "max_seq_length %d leaves no room for text", max_seq);
    seam_precision precision = p->precision;
    if (precision == SEAM_PRECISION_DEFAULT) {
        const char *env = getenv("SEAM_PRECISION");
        precision = SEAM_PRECISION_HIGH;
        if (env && *env && !strcmp(env, "highest")) precision = SEAM_PRECISION_HIGHEST;
        else if (env && *env && strcmp(env, "high"))
            return seam_fail(err, SEAM_ERR_ARG, "SEAM_PRECISION=%s in the environment: expected high or highest", env);
    }
    if ((s = bert_ctx_new(e->m, max_batch, max_seq, p->n_threads, precision, &e->ctx, err))) return s;
    size_t cells = (size_t)max_batch * (size_t)max_seq;
    e->ids = malloc(cells * sizeof *e->ids);
    e->mask = malloc(cells * sizeof *e->mask);
    e->pooled = malloc((size_t)max_batch * (size_t)cf->hidden * sizeof *e->pooled);
    if (!e->ids || !e->mask || !e->pooled) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    e->pad_id = wp_pad_id(e->tok) >= 0 ? wp_pad_id(e->tok) : cf->pad_token_id;
    if (e->pad_id >= cf->vocab_size) e->pad_id = 0;
    seam_encoder_info *in = &e->info;
    in->hidden = cf->hidden;
    in->n_layer = cf->n_layer;
    in->n_head = cf->n_head;
    in->intermediate = cf->intermediate;
    in->vocab_size = cf->vocab_size;
    in->max_position_embeddings = cf->max_positions;
    in->max_seq_length = max_seq;
    in->max_batch = max_batch;
    in->n_threads = bert_ctx_threads(e->ctx);
    in->pooling = st->pooling;
    in->normalize = st->normalize;
    in->has_pooler = e->m->pool_w.data != NULL;
    in->is_plain = st->is_plain;
    in->weight_dtype = e->m->weight_dtype;
    in->weight_bytes = e->m->weight_bytes;
    in->kernels = bert_ctx_kernels(e->ctx)->name;
    in->precision = bert_ctx_kernels(e->ctx) == seam_kernels_amx() ? SEAM_PRECISION_HIGH : SEAM_PRECISION_HIGHEST;
    return SEAM_OK;
}

seam_status seam_encoder_open(const char *dir, const seam_encoder_params *params, seam_encoder **out, seam_error *err) {
    *out = NULL;
    seam_encoder_params p = {0, 0, 0, SEAM_PRECISION_DEFAULT};
    if (params) p = *params;
    if (!dir) return seam_fail(err, SEAM_ERR_ARG, "no model folder given");
    if (p.precision < SEAM_PRECISION_DEFAULT || p.precision > SEAM_PRECISION_HIGHEST)
        return seam_fail(err, SEAM_ERR_ARG, "unknown matmul precision %d", (int)p.precision);
    if (p.max_batch < 0 || p.max_batch > 65536) return seam_fail(err, SEAM_ERR_ARG, "max_batch %d is outside [0, 65536]", p.max_batch);
    seam_encoder *e = calloc(1, sizeof *e);
    if (!e) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    bert_st_config st;
    seam_status s = bert_st_parse(dir, &st, err);
    if (s) { free(e); return s; }
    if (!(s = bert_model_open(st.model_dir, &e->m, err)) && (s = encoder_setup(e, &st, &p, err))) seam_fail_wrap(err, "%s", dir);
    bert_st_free(&st);
    if (s) { seam_encoder_close(e); return s; }
    *out = e;
    return SEAM_OK;
}

seam_status seam_encoder_tokenize(const seam_encoder *e, const char *text, size_t len, int32_t *ids, size_t cap, size_t *n_ids,
                                  int *truncated, seam_error *err) {
    return wp_encode(e->tok, text, len, 1, (size_t)e->info.max_seq_length, ids, cap, n_ids, truncated, err);
}

seam_status seam_encoder_forward_ids(seam_encoder *e, const int32_t *ids, const int32_t *mask, int B, int T, float *last_hidden,
                                     float *pooler, seam_error *err) {
    if (!ids || !mask || B < 1) return seam_fail(err, SEAM_ERR_ARG, "need ids, a mask and at least one sequence");
    if (T < 1 || T > e->info.max_seq_length)
        return seam_fail(err, SEAM_ERR_RANGE, "sequences of %d tokens are outside [1, %d] (max_seq_length)", T, e->info.max_seq_length);
    size_t C = (size_t)e->info.hidden;
    for (int b0 = 0; b0 < B; b0 += e->info.max_batch) {
        int nb = B - b0 < e->info.max_batch ? B - b0 : e->info.max_batch;
        size_t at = (size_t)b0 * (size_t)T;
        seam_status s = bert_forward(e->ctx, ids + at, mask + at, nb, T, last_hidden ? last_hidden + at * C : NULL,
                                     pooler ? pooler + (size_t)b0 * C : NULL, err);
        if (s) return s;
    }
    return SEAM_OK;
}

typedef struct {
    size_t idx, off; /* text index, start of its ids in the arena */
    int len;
} by_len;

static int cmp_len(const void *a, const void *b) {
    const by_len *x = a, *y = b;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

seam_status seam_encoder_embed(seam_encoder *e, const char *const *texts, const size_t *lens, size_t n, float *out, unsigned flags,
                               seam_embed_stats *stats, seam_error *err) {
    if (stats) memset(stats, 0, sizeof *stats);
    if (n == 0) return SEAM_OK;
    if (!texts || !out) return seam_fail(err, SEAM_ERR_ARG, "no texts or no output buffer");
    int max_seq = e->info.max_seq_length, C = e->info.hidden, mb = e->info.max_batch;
    int normalize = (e->info.normalize || (flags & SEAM_EMBED_NORMALIZE)) && !(flags & SEAM_EMBED_NO_NORMALIZE);
    seam_embed_stats st = {0, 0, 0};
    /* Every text's ids first, so the batches can be formed from sequences of like length. */
    int32_t *arena = NULL;
    size_t used = 0, cap = 0;
    by_len *order = malloc(n * sizeof *order);
    seam_status s = SEAM_OK;
    if (!order) s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory for %zu texts", n);
    for (size_t i = 0; i < n && !s; i++) {
        if (!texts[i]) { s = seam_fail(err, SEAM_ERR_ARG, "text %zu is NULL", i); break; }
        if (used + (size_t)max_seq > cap) {
            size_t nc = cap ? cap * 2 : (size_t)max_seq * 64;
            while (nc < used + (size_t)max_seq) nc *= 2;
            int32_t *na = realloc(arena, nc * sizeof *na);
            if (!na) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory for %zu texts", n); break; }
            arena = na;
            cap = nc;
        }
        size_t got = 0;
        int tr = 0;
        s = wp_encode(e->tok, texts[i], lens ? lens[i] : strlen(texts[i]), 1, (size_t)max_seq, arena + used, (size_t)max_seq,
                      &got, &tr, err);
        if (s) { seam_fail_wrap(err, "text %zu", i); break; }
        if (tr && (flags & SEAM_EMBED_NO_TRUNCATE)) {
            s = seam_fail(err, SEAM_ERR_RANGE, "text %zu is longer than max_seq_length (%d tokens)", i, max_seq);
            break;
        }
        st.n_truncated += tr != 0;
        st.n_tokens += got;
        order[i] = (by_len){i, used, (int)got};
        used += got;
    }
    if (!s) qsort(order, n, sizeof *order, cmp_len);
    for (size_t i0 = 0; i0 < n && !s; i0 += (size_t)mb) {
        int nb = n - i0 < (size_t)mb ? (int)(n - i0) : mb, T = order[i0 + (size_t)nb - 1].len;
        for (int b = 0; b < nb; b++) {
            const by_len *o = &order[i0 + (size_t)b];
            int32_t *row = e->ids + (size_t)b * T, *mrow = e->mask + (size_t)b * T;
            memcpy(row, arena + o->off, (size_t)o->len * sizeof *row);
            for (int t = 0; t < T; t++) {
                mrow[t] = t < o->len;
                if (t >= o->len) row[t] = e->pad_id;
            }
        }
        st.n_padded += (size_t)nb * (size_t)T;
        if ((s = bert_forward(e->ctx, e->ids, e->mask, nb, T, NULL, NULL, err)) ||
            (s = seam_encoder_pool(e->info.pooling, normalize, bert_ctx_hidden(e->ctx), e->mask, nb, T, C, e->pooled, err)))
            break;
        for (int b = 0; b < nb; b++)
            memcpy(out + order[i0 + (size_t)b].idx * (size_t)C, e->pooled + (size_t)b * C, (size_t)C * sizeof(float));
    }
    st.n_padded -= s ? st.n_padded : st.n_tokens;
    if (stats) *stats = st;
    free(arena);
    free(order);
    return s;
}
