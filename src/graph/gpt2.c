/* The GPT-2 forward pass, written as the stages split inference needs: embed, run layers
 * [a, b) on a hidden state, final norm, head. Shapes: T tokens, C = n_embd, H heads of
 * D = C / H, I = n_inner, V = vocab. All buffers live in the context, sized once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/ops.h"
#include "kernels/kernels.h"
#include "kernels/quant.h"
#include "model/model.h"
#include "quant/quant.h"
#include "util/error.h"
#include "util/mem.h"
#include "util/pool.h"

struct seam_context {
    const seam_model *m;
    const seam_kernels *k;
    const seam_qkernels *qk;
    seam_qx qx;      /* activations of a quantised matmul, [max_batch, model quant_max_k] */
    seam_pool *pool; /* NULL when single-threaded */
    int n_threads;
    int n_ctx, max_batch;
    int layer_begin, layer_end; /* the layers this context caches and may run */
    size_t kv_ld;           /* floats per cache row: n_ctx, padded when a multiple of 1024 */
    float *kcache, *vcache; /* [layer - layer_begin][C][kv_ld]: transposed per head (graph/ops.h) */
    float *xn;     /* [Tm, C] normed input of a sublayer */
    float *qkv;    /* [Tm, 3C] */
    float *att;    /* [Tm, C] attention output before projection */
    float *tmp;    /* [Tm, C] sublayer output before the residual add */
    float *mlp;    /* [Tm, I] */
    float *scores; /* [threads][scores_per_thread(n_ctx)] attention scratch */
    float *split;  /* partial sums of a one-row matmul split along K (op_matmul_kn), or NULL */
    float *hidden; /* [Tm, C] for seam_forward */
};

/* Scratch floats one thread's attention tiles need (seam_attend_tile's scores). */
static size_t scores_per_thread(int n_ctx) { return (size_t)SEAM_ATTEND_ROWS * (size_t)(n_ctx + SEAM_ATTEND_ROWS); }

void seam_context_free(seam_context *c) {
    if (!c) return;
    float *bufs[] = {c->kcache, c->vcache, c->xn, c->qkv, c->att, c->tmp, c->mlp, c->scores, c->split, c->hidden,
                     c->qx.d, c->qx.s, c->qx.tile_d, c->qx.tile_s};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) seam_free_floats(bufs[i]);
    free(c->qx.q);
    free(c->qx.tile_x);
    seam_pool_free(c->pool);
    free(c);
}

seam_status seam_context_new(const seam_model *m, int n_ctx, int max_batch, seam_context **out, seam_error *err) {
    return seam_context_new_layers(m, m->cfg.info.layer_begin, m->cfg.info.layer_end, n_ctx, max_batch, out, err);
}

/* The KV cache is most of a context's memory (GPT-2 small, 1024 positions: 6 MiB per
 * layer), so a split session on a whole model caches only the layers it runs. */
seam_status seam_context_new_layers(const seam_model *m, int layer_a, int layer_b, int n_ctx, int max_batch,
                                    seam_context **out, seam_error *err) {
    *out = NULL;
    const seam_model_info *in = &m->cfg.info;
    if (n_ctx < 0 || max_batch < 0) return seam_fail(err, SEAM_ERR_ARG, "context size and batch must not be negative");
    if (layer_a < in->layer_begin || layer_b > in->layer_end || layer_a > layer_b)
        return seam_fail(err, SEAM_ERR_RANGE, "context layers [%d, %d) are outside the [%d, %d) this model holds", layer_a,
                         layer_b, in->layer_begin, in->layer_end);
    if (n_ctx == 0) n_ctx = in->n_positions;
    if (n_ctx > in->n_positions)
        return seam_fail(err, SEAM_ERR_RANGE, "context of %d positions exceeds the model's n_positions %d", n_ctx,
                         in->n_positions);
    if (max_batch == 0 || max_batch > n_ctx) max_batch = n_ctx;
    seam_context *c = calloc(1, sizeof *c);
    if (!c) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    c->m = m;
    c->k = seam_kernels_best();
    c->n_ctx = n_ctx;
    c->max_batch = max_batch;
    c->layer_begin = layer_a;
    c->layer_end = layer_b;
    size_t C = (size_t)in->n_embd, I = (size_t)in->n_inner, Tm = (size_t)max_batch;
    size_t layers = (size_t)(layer_b - layer_a);
    /* Rows 4 KiB apart would put the D rows one attention block reads into the same L1
     * sets (GPT-2's 1024 positions are exactly that), so the stride is padded off it. */
    c->kv_ld = (size_t)n_ctx + (n_ctx % 1024 == 0 ? 16 : 0);
    c->kcache = seam_alloc_floats(layers * c->kv_ld * C);
    c->vcache = seam_alloc_floats(layers * c->kv_ld * C);
    c->xn = seam_alloc_floats(Tm * C);
    c->qkv = seam_alloc_floats(Tm * 3 * C);
    c->att = seam_alloc_floats(Tm * C);
    c->tmp = seam_alloc_floats(Tm * C);
    c->mlp = seam_alloc_floats(Tm * I);
    c->scores = NULL; /* sized with the thread count below */
    c->hidden = seam_alloc_floats(Tm * C);
    int qx_ok = 1;
    if (m->quant_max_k > 0) {
        size_t qk_max = (size_t)m->quant_max_k;
        c->qk = seam_qkernels_best();
        c->qx.q = aligned_alloc(64, (Tm * qk_max + 63) / 64 * 64);
        c->qx.d = seam_alloc_floats(Tm * qk_max / SEAM_QBLOCK);
        c->qx.s = seam_alloc_floats(Tm * qk_max / SEAM_QBLOCK);
        qx_ok = c->qx.q && c->qx.d && c->qx.s;
        size_t tw = seam_qx_tile_words(c->qk, (int)Tm, (int)qk_max), tf = seam_qx_tile_floats(c->qk, (int)Tm, (int)qk_max);
        if (tw && Tm >= (size_t)c->qk->tile_min_t) { /* the tiles' panels, shared by the threads of a product */
            c->qx.tile_x = aligned_alloc(64, (tw * sizeof(uint32_t) + 63) / 64 * 64);
            c->qx.tile_d = seam_alloc_floats(tf);
            c->qx.tile_s = seam_alloc_floats(tf);
            qx_ok = qx_ok && c->qx.tile_x && c->qx.tile_d && c->qx.tile_s;
        }
    }
    if (!c->kcache || !c->vcache || !c->xn || !c->qkv || !c->att || !c->tmp || !c->mlp || !c->hidden || !qx_ok) {
        seam_context_free(c);
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory allocating a context of %d positions", n_ctx);
    }
    seam_status s = seam_context_set_threads(c, 0, err);
    if (s) { seam_context_free(c); return s; }
    *out = c;
    return SEAM_OK;
}

seam_status seam_context_set_threads(seam_context *c, int n_threads, seam_error *err) {
    if (n_threads < 0 || n_threads > 1024) return seam_fail(err, SEAM_ERR_ARG, "thread count %d is outside [0, 1024]", n_threads);
    if (n_threads == 0) n_threads = seam_physical_cores();
    float *scores = seam_alloc_floats((size_t)n_threads * scores_per_thread(c->n_ctx)), *split = NULL;
    if (!scores) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    if (n_threads > 1 && c->k->decode_split_k) {
        /* the widest Conv1D output: c_attn's 3C or c_fc's I */
        const seam_model_info *in = &c->m->cfg.info;
        int widest = 3 * in->n_embd > in->n_inner ? 3 * in->n_embd : in->n_inner;
        if (!(split = seam_alloc_floats(OP_SPLIT_K_FLOATS(n_threads, widest)))) {
            seam_free_floats(scores);
            return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
        }
    }
    seam_pool *pool = NULL;
    if (n_threads > 1) {
        seam_status s = seam_pool_new(n_threads, &pool, err);
        if (s) { seam_free_floats(scores); seam_free_floats(split); return s; }
    }
    seam_pool_free(c->pool);
    seam_free_floats(c->scores);
    seam_free_floats(c->split);
    c->pool = pool;
    c->scores = scores;
    c->split = split;
    c->n_threads = n_threads;
    return SEAM_OK;
}

int seam_context_threads(const seam_context *c) { return c->n_threads; }

int seam_context_n_ctx(const seam_context *c) { return c->n_ctx; }

size_t seam_context_kv_bytes(const seam_context *c) {
    return 2 * (size_t)(c->layer_end - c->layer_begin) * c->kv_ld * (size_t)c->m->cfg.info.n_embd * sizeof(float);
}

static seam_status check_rows(const seam_context *c, int T, int pos0, seam_error *err) {
    if (T < 1) return seam_fail(err, SEAM_ERR_ARG, "need at least one token (got %d)", T);
    if (T > c->max_batch)
        return seam_fail(err, SEAM_ERR_ARG, "%d tokens in one call exceed the context's batch of %d", T, c->max_batch);
    if (pos0 < 0 || pos0 > c->n_ctx - T)
        return seam_fail(err, SEAM_ERR_RANGE, "context overflow: positions %d..%d do not fit in a context of %d", pos0,
                         pos0 + T - 1, c->n_ctx);
    return SEAM_OK;
}

/* Row r of an embedding matrix (plain W, or quantised Q) as f32. */
static void mat_row(const seam_context *c, const seam_mat *W, const seam_qmat *Q, int r, float *out) {
    if (Q->type) seam_qmat_row_to_f32(Q, r, out);
    else c->k->row_to_f32(W, r, out);
}

/* y[T, N] = x[T, K] @ W (+ b): the integer path when the weight is quantised (Q, [N, K]),
 * else W in the Conv1D layout (conv1d) or the Linear one. T must not exceed max_batch. */
static void matmul(seam_context *c, const float *x, int T, const seam_mat *W, const seam_qmat *Q, const float *b,
                   float *y, int conv1d) {
    if (Q->type) op_matmul_q(c->pool, c->k, c->qk, &c->qx, x, T, Q, b, y);
    else if (conv1d) op_matmul_kn(c->pool, c->k, x, T, W, b, y, c->split);
    else op_matmul_nk(c->pool, c->k, x, T, W, b, y);
}

seam_status seam_embed(seam_context *c, const int32_t *ids, int T, int pos0, float *hidden, seam_error *err) {
    const seam_model *m = c->m;
    const seam_model_info *in = &m->cfg.info;
    seam_status s = check_rows(c, T, pos0, err);
    if (s) return s;
    if (!in->has_embed) return seam_fail(err, SEAM_ERR_ARG, "this model shard holds no embeddings");
    int C = in->n_embd;
    for (int t = 0; t < T; t++)
        if (ids[t] < 0 || ids[t] >= in->vocab_size)
            return seam_fail(err, SEAM_ERR_RANGE, "token id %d at index %d is outside the vocabulary of %d", (int)ids[t], t,
                             in->vocab_size);
    for (int t = 0; t < T; t++) {
        float *h = hidden + (size_t)t * C;
        mat_row(c, &m->wte, &m->wte_q, ids[t], h);
        mat_row(c, &m->wpe, &m->wpe_q, pos0 + t, c->tmp);
        for (int i = 0; i < C; i++) h[i] += c->tmp[i];
    }
    return SEAM_OK;
}

typedef struct {
    seam_context *c;
    const float *kc, *vc;
    int T, pos0, r0; /* query rows [r0, T) */
    float scale;
    seam_pool_queue units; /* claimed as the threads go (util/pool.h says why) */
} attention_job;

/* Maps work unit u of H * tiles to (head, first row) so that a claim of consecutive units
 * stays on one or two heads (their K and V stay in L2 while a thread works on it) and
 * alternates early tiles (few keys) with late ones (many), which evens out the causal
 * triangle. */
static void attention_unit(int u, int tiles, int *h, int *t0) {
    int k = u % tiles;
    *h = u / tiles;
    *t0 = SEAM_ATTEND_ROWS * (k % 2 == 0 ? k / 2 : tiles - 1 - k / 2);
}

/* Claims of (head, tile of up to SEAM_ATTEND_ROWS query rows) units until none are left. */
static void attention_worker(void *arg, int ith, int nth) {
    (void)nth;
    attention_job *j = arg;
    seam_context *c = j->c;
    const seam_model_info *in = &c->m->cfg.info;
    int C = in->n_embd, H = in->n_head, D = C / H, lo, hi;
    int tiles = (j->T - j->r0 + SEAM_ATTEND_ROWS - 1) / SEAM_ATTEND_ROWS;
    size_t head = (size_t)D * c->kv_ld;
    seam_attend_tile a = {0};
    a.ldq = (size_t)3 * C;
    a.ld = c->kv_ld;
    a.causal = 1;
    a.D = D;
    a.scale = j->scale;
    a.scores = c->scores + (size_t)ith * scores_per_thread(c->n_ctx);
    a.ldo = (size_t)C;
    while (seam_pool_claim(&j->units, &lo, &hi))
        for (int u = lo; u < hi; u++) {
            int h, t0;
            attention_unit(u, tiles, &h, &t0);
            t0 += j->r0;
            a.R = j->T - t0 < SEAM_ATTEND_ROWS ? j->T - t0 : SEAM_ATTEND_ROWS;
            a.n = j->pos0 + t0 + 1;
            a.q = c->qkv + (size_t)t0 * 3 * C + (size_t)h * D;
            a.kt = j->kc + (size_t)h * head;
            a.vt = j->vc + (size_t)h * head;
            a.out = c->att + (size_t)t0 * C + (size_t)h * D;
            op_attend(c->k, &a);
        }
}

/* Causal self-attention for T new rows at pos0.. against the cache of one layer: all T
 * rows' keys and values go into the cache, the output is computed for rows [r0, T). */
static void attention(seam_context *c, int local_layer, int abs_layer, int T, int pos0, int r0) {
    const seam_model_info *in = &c->m->cfg.info;
    int C = in->n_embd, D = C / in->n_head;
    float *kc = c->kcache + (size_t)local_layer * c->kv_ld * C;
    float *vc = c->vcache + (size_t)local_layer * c->kv_ld * C;
    op_transpose_kv(c->pool, c->k, c->qkv + C, c->qkv + 2 * C, (size_t)3 * C, T, C, kc, vc, c->kv_ld, pos0);
    float scale = in->scale_attn_weights ? 1.0f / sqrtf((float)D) : 1.0f;
    if (in->scale_attn_by_inverse_layer_idx) scale /= (float)(abs_layer + 1);
    if (r0 >= T) return;
    attention_job j = {c, kc, vc, T, pos0, r0, scale, {0}};
    /* units in pairs: an early tile and a late one (attention_unit) */
    int units = in->n_head * ((T - r0 + SEAM_ATTEND_ROWS - 1) / SEAM_ATTEND_ROWS);
    seam_pool_queue_init(&j.units, units, seam_pool_size(c->pool), 2);
    seam_pool_run(c->pool, attention_worker, &j);
}

/* One block on T rows at pos0. Rows [r0, T) of hidden get the block's output; rows before
 * r0 only put their keys and values into the cache (their attention and MLP are skipped). */
static void layer_forward(seam_context *c, int l, float *hidden, int T, int pos0, int r0) {
    const seam_model *m = c->m;
    const seam_model_info *in = &m->cfg.info;
    const gpt2_layer *L = &m->layers[l];
    int C = in->n_embd, I = in->n_inner, R = T - r0;
    float eps = in->layer_norm_epsilon;
    float *h = hidden + (size_t)r0 * C, *xn = c->xn + (size_t)r0 * C, *tmp = c->tmp + (size_t)r0 * C;
    float *mlp = c->mlp + (size_t)r0 * I;

    op_add_norm(c->pool, c->k, hidden, NULL, L->ln1_w, L->ln1_b, eps, c->xn, T, C);
    matmul(c, c->xn, T, &L->attn_w, &L->attn_w_q, L->attn_b, c->qkv, 1);
    attention(c, l - c->layer_begin, l, T, pos0, r0);
    if (R == 0) return;
    matmul(c, c->att + (size_t)r0 * C, R, &L->attn_proj_w, &L->attn_proj_w_q, L->attn_proj_b, tmp, 1);
    op_add_norm(c->pool, c->k, h, tmp, L->ln2_w, L->ln2_b, eps, xn, R, C);
    matmul(c, xn, R, &L->fc_w, &L->fc_w_q, L->fc_b, mlp, 1);
    op_activation(c->pool, c->k, m->cfg.activation, mlp, (size_t)R * I);
    matmul(c, mlp, R, &L->fc_proj_w, &L->fc_proj_w_q, L->fc_proj_b, tmp, 1);
    op_add_norm(c->pool, c->k, h, tmp, NULL, NULL, 0.0f, NULL, R, C);
}

/* Layers [a, b); the last of them computes its output for rows [last_r0, T) only. */
static seam_status run_layers(seam_context *c, int a, int b, float *hidden, int T, int pos0, int last_r0,
                              seam_error *err) {
    const seam_model_info *in = &c->m->cfg.info;
    seam_status s = check_rows(c, T, pos0, err);
    if (s) return s;
    if (a < in->layer_begin || b > in->layer_end || a > b)
        return seam_fail(err, SEAM_ERR_RANGE, "layers [%d, %d) are outside the [%d, %d) this model holds", a, b,
                         in->layer_begin, in->layer_end);
    if (a < b && (a < c->layer_begin || b > c->layer_end))
        return seam_fail(err, SEAM_ERR_RANGE, "layers [%d, %d) are outside the [%d, %d) this context caches", a, b,
                         c->layer_begin, c->layer_end);
    for (int l = a; l < b; l++) layer_forward(c, l, hidden, T, pos0, l == b - 1 ? last_r0 : 0);
    return SEAM_OK;
}

seam_status seam_run_layers(seam_context *c, int a, int b, float *hidden, int T, int pos0, seam_error *err) {
    return run_layers(c, a, b, hidden, T, pos0, 0, err);
}

seam_status seam_run_layers_last_row(seam_context *c, int a, int b, float *hidden, int T, int pos0, seam_error *err) {
    return run_layers(c, a, b, hidden, T, pos0, T > 0 ? T - 1 : 0, err);
}

seam_status seam_final_norm(seam_context *c, float *hidden, int T, seam_error *err) {
    const seam_model_info *in = &c->m->cfg.info;
    if (!in->has_head) return seam_fail(err, SEAM_ERR_ARG, "this model shard holds no final norm / head");
    if (T < 1) return seam_fail(err, SEAM_ERR_ARG, "need at least one row");
    int C = in->n_embd;
    for (int t = 0; t < T; t++) {
        float *h = hidden + (size_t)t * C;
        c->k->layernorm(h, c->m->lnf_w, c->m->lnf_b, in->layer_norm_epsilon, h, C);
    }
    return SEAM_OK;
}

seam_status seam_lm_head(seam_context *c, const float *normed, int T, float *logits, seam_error *err) {
    const seam_model_info *in = &c->m->cfg.info;
    if (!in->has_head) return seam_fail(err, SEAM_ERR_ARG, "this model shard holds no head");
    if (T < 1) return seam_fail(err, SEAM_ERR_ARG, "need at least one row");
    int V = in->vocab_size, C = in->n_embd;
    /* The quantised path's scratch holds max_batch rows; the f32 path takes any T. */
    int step = c->m->lm_head_q.type ? c->max_batch : T;
    for (int t = 0; t < T; t += step) {
        int n = T - t < step ? T - t : step;
        matmul(c, normed + (size_t)t * C, n, &c->m->lm_head, &c->m->lm_head_q, NULL, logits + (size_t)t * V, 0);
    }
    return SEAM_OK;
}

seam_status seam_forward(seam_context *c, const int32_t *ids, int T, int pos0, float *logits, seam_error *err) {
    const seam_model_info *in = &c->m->cfg.info;
    if (!in->has_embed || !in->has_head || in->layer_begin != 0 || in->layer_end != in->n_layer)
        return seam_fail(err, SEAM_ERR_ARG, "seam_forward needs a whole model; this one holds layers [%d, %d)",
                         in->layer_begin, in->layer_end);
    if (T < 1) return seam_fail(err, SEAM_ERR_ARG, "need at least one token");
    if (pos0 < 0 || pos0 > c->n_ctx - T)
        return seam_fail(err, SEAM_ERR_RANGE, "context overflow: %d tokens at position %d exceed the context of %d", T,
                         pos0, c->n_ctx);
    int C = in->n_embd;
    seam_status s;
    for (int done = 0; done < T;) {
        int n = T - done < c->max_batch ? T - done : c->max_batch;
        if ((s = seam_embed(c, ids + done, n, pos0 + done, c->hidden, err)) ||
            /* only the last row of the last chunk leaves the last layer: the head reads it */
            (s = run_layers(c, 0, in->n_layer, c->hidden, n, pos0 + done, done + n == T ? n - 1 : n, err)))
            return s;
        done += n;
        if (done == T) {
            float *last = c->hidden + (size_t)(n - 1) * C;
            if ((s = seam_final_norm(c, last, 1, err)) || (s = seam_lm_head(c, last, 1, logits, err))) return s;
        }
    }
    return SEAM_OK;
}
