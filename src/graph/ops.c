#include "graph/ops.h"

#include <math.h>
#include <string.h>

typedef struct {
    const seam_kernels *k;
    const float *x;
    int T;
    const seam_mat *W;  /* f32/f16/bf16 weights, or NULL when Q is used */
    const seam_qmat *Q; /* quantised weights (qf_worker) */
    const float *b;
    float *y;
    int claim;           /* nonzero: threads claim columns from cols (all T rows each) */
    seam_pool_queue cols;
} matmul_job;

/* How nth threads share a product of T rows and N columns: a grid of row groups x column
 * groups. Decode-sized products (T < 4) split the columns only, so W is streamed from
 * memory once in all. Larger ones pick the grid that minimises, per thread, the padded
 * tile work (rows in register tiles of 12, columns in panels of 32: a column split of
 * GPT-2's 768 outputs over 16 threads would leave every thread a partial panel) plus the
 * cost of packing its share of W (every row group packs W again). */
static int row_groups(int T, int N, int nth) {
    if (nth <= 1 || T < 4) return 1;
    int best = 1;
    double best_cost = 0;
    for (int rg = 1; rg <= nth; rg++) {
        if (nth % rg || rg > T) continue;
        int cg = nth / rg;
        double rows = (double)(((T + rg - 1) / rg + 11) / 12 * 12);
        double cols = (double)(((N + cg - 1) / cg + 31) / 32 * 32);
        double cost = rows * cols + 8.0 * cols;
        if (rg == 1 || cost < best_cost) { best = rg; best_cost = cost; }
    }
    return best;
}

/* Thread ith's rows [t0, t1) and columns [lo, hi) of a grid of rg row groups, columns in
 * multiples of align; an empty share has lo == hi. */
static void grid_range(int T, int N, int rg, int row_align, int align, int ith, int nth, int *t0, int *t1, int *lo,
                       int *hi) {
    int cg = nth / rg;
    seam_pool_chunk(T, row_align, ith / cg, rg, t0, t1);
    seam_pool_chunk(N, align, ith % cg, cg, lo, hi);
    if (*t0 >= *t1) *hi = *lo;
}

static void worker_range(int T, int N, int ith, int nth, int *t0, int *t1, int *lo, int *hi) {
    grid_range(T, N, row_groups(T, N, nth), 1, T < 4 ? 16 : 32, ith, nth, t0, t1, lo, hi);
}

/* Prefill-sized products whose grid is a column split (row_groups 1: up to a few threads)
 * go by claims of whole 32-column panels, as the quantised ones do (q_worker says why). */
static void claim_columns(matmul_job *j, int N, int nth) {
    if (nth < 2 || j->T < OP_CLAIM_MIN_T || row_groups(j->T, N, nth) != 1) return;
    j->claim = 1;
    seam_pool_queue_init(&j->cols, N, nth, 32);
}

static void kn_worker(void *arg, int ith, int nth) {
    matmul_job *j = arg;
    int t0, t1, lo, hi, K = j->W->rows, N = j->W->cols;
    if (j->claim) {
        while (seam_pool_claim(&j->cols, &lo, &hi)) j->k->matmul_kn(j->x, j->T, j->W, j->b, j->y, lo, hi);
        return;
    }
    worker_range(j->T, N, ith, nth, &t0, &t1, &lo, &hi);
    if (lo < hi) j->k->matmul_kn(j->x + (size_t)t0 * K, t1 - t0, j->W, j->b, j->y + (size_t)t0 * N, lo, hi);
}

static void nk_block(const matmul_job *j, int t0, int t1, int lo, int hi) {
    int K = j->W->cols, N = j->W->rows;
    j->k->matmul_nk(j->x + (size_t)t0 * K, t1 - t0, j->W, j->y + (size_t)t0 * N, lo, hi);
    if (j->b)
        for (int t = t0; t < t1; t++) j->k->axpy(1.0f, j->b + lo, j->y + (size_t)t * N + lo, hi - lo);
}

static void nk_worker(void *arg, int ith, int nth) {
    matmul_job *j = arg;
    int t0, t1, lo, hi;
    if (j->claim) {
        while (seam_pool_claim(&j->cols, &lo, &hi)) nk_block(j, 0, j->T, lo, hi);
        return;
    }
    worker_range(j->T, j->W->rows, ith, nth, &t0, &t1, &lo, &hi);
    if (lo < hi) nk_block(j, t0, t1, lo, hi);
}

typedef struct {
    const seam_kernels *k;
    const float *x;
    const seam_mat *W;
    const float *b;
    float *y, *part;
} split_k_job;

/* Thread ith's rows of W, whole rows and so one contiguous stretch of memory, times its
 * slice of x, into its own partial sums part[ith]. */
static void split_k_worker(void *arg, int ith, int nth) {
    const split_k_job *j = arg;
    int K = j->W->rows, N = j->W->cols, k0, k1;
    float *p = j->part + (size_t)ith * (size_t)N;
    seam_pool_chunk(K, 1, ith, nth, &k0, &k1);
    if (k0 >= k1) {
        memset(p, 0, (size_t)N * sizeof(float));
        return;
    }
    seam_mat rows = *j->W;
    size_t esz = j->W->dtype == SEAM_DTYPE_F32 ? 4 : 2;
    rows.data = (const char *)j->W->data + (size_t)k0 * (size_t)N * esz;
    rows.rows = k1 - k0;
    j->k->matmul_kn(j->x + k0, 1, &rows, NULL, p, 0, N);
}

/* y = b + the partial sums, added in thread order, over this thread's columns. */
static void split_k_sum(void *arg, int ith, int nth) {
    const split_k_job *j = arg;
    int N = j->W->cols, lo, hi;
    seam_pool_chunk(N, 16, ith, nth, &lo, &hi);
    for (int n = lo; n < hi; n++) {
        float acc = j->b ? j->b[n] : 0.0f;
        for (int t = 0; t < nth; t++) acc += j->part[(size_t)t * (size_t)N + n];
        j->y[n] = acc;
    }
}

void op_matmul_kn(seam_pool *pool, const seam_kernels *k, const float *x, int T, const seam_mat *W, const float *b,
                  float *y, float *part) {
    if (T == 1 && part && k->decode_split_k && pool && seam_pool_size(pool) > 1) {
        split_k_job s = {k, x, W, b, y, part};
        seam_pool_run(pool, split_k_worker, &s);
        seam_pool_run(pool, split_k_sum, &s);
        return;
    }
    matmul_job j = {k, x, T, W, NULL, b, y, 0, {0}};
    claim_columns(&j, W->cols, seam_pool_size(pool));
    seam_pool_run(pool, kn_worker, &j);
}

void op_matmul_nk(seam_pool *pool, const seam_kernels *k, const float *x, int T, const seam_mat *W, const float *b,
                  float *y) {
    matmul_job j = {k, x, T, W, NULL, b, y, 0, {0}};
    claim_columns(&j, W->rows, seam_pool_size(pool));
    seam_pool_run(pool, nk_worker, &j);
}

typedef struct {
    const seam_kernels *k;
    const float *x;
    int T;
    const float *packed;
    int K, N;
    const float *b;
    float *y;
    int claim; /* nonzero: threads claim whole groups of panels from cols */
    int act;   /* applied to y after the product, or OP_NO_ACTIVATION */
    int rg;    /* row groups of the grid, where there are no claims */
    int row_claim; /* nonzero: threads claim blocks of rows (from rows), all columns each */
    seam_pool_queue cols, rows;
} packed_job;

/* Column tiles a tile GEMM works per pass (kernels/gemm_amx.h: AMX_GROUP): the unit of
 * column claims, which tile_row_groups must model as op_matmul_packed hands them out. */
#define OP_TILE_GROUP 4

/* Units of tile work (see tile_row_groups) that reading one column tile's W for one step (2
 * KiB: 32 inputs of 16 columns, hi and lo) from L3 takes: at ~16 bytes a cycle against ~12
 * cycles a unit. MiniLM at batch 1 x 128 on the device's 16 threads: 0 (the old grid) ran
 * 234-244 sentences/s, 10 ran 276-329, 20 296-299 (device-xeon16-2026-12-07-ab-cfd6d7d.md). */
#ifndef OP_TILE_W_COST
#define OP_TILE_W_COST 10.0
#endif

/* Row groups for a packed GEMM of tile products (k->packed_mr rows x pack_nr columns, 4
 * column tiles per pass: kernels/gemm_amx.h), rows in whole tiles. Per 32 inputs a thread
 * pays ~4 units per (row tile, column tile) (three products and two W tile loads) and 1 per
 * (row tile, group of 4 column tiles) (x's tile loads), and it reads W's tiles of its
 * columns once per block of 8 row tiles, which it waits for where that takes longer
 * (OP_TILE_W_COST): 16 threads that each took 16 of 128 rows and half of the columns read
 * 8 times the weights between them, for one row tile of work each. Splitting x into bf16
 * parts costs a quarter unit a row, which every column group repeats: each thread splits
 * the rows it works on as it goes, into its own L2. Splitting x once between the threads
 * in a pass of its own cost more than the repeats saved: the threads then read the split
 * from each other's caches, and the pass wrote lines that the last product's threads all
 * held (device, 16 threads, MiniLM at batch 1 x 128: 4% faster without it, 11% at 8
 * threads; batch 32 x 12: 6%; device-xeon16-2026-12-07-split.md). With one row group and
 * at least OP_PACKED_CLAIM_MIN_T rows, columns go by claims (op_matmul_packed). */
static int tile_row_groups(int T, int N, int mr, int nr, int nth) {
    int best = 1, tiles = (T + mr - 1) / mr, col_tiles = (N + nr - 1) / nr;
    double best_cost = 0;
    for (int rg = 1; rg <= nth; rg++) {
        if (nth % rg || rg > tiles) continue;
        int cg = nth / rg, rt = (tiles + rg - 1) / rg, ct = (col_tiles + cg - 1) / cg;
        if (rg == 1 && nth > 1 && T >= OP_PACKED_CLAIM_MIN_T) {
            int step = seam_pool_queue_step(N, nth, OP_TILE_GROUP * nr), claims = (N + step - 1) / step;
            ct = (claims + nth - 1) / nth * (step / nr);
        }
        double work = (double)rt * (4.0 * ct + (ct + OP_TILE_GROUP - 1) / OP_TILE_GROUP), wait = OP_TILE_W_COST * ct * ((rt + 7) / 8);
        double cost = (work > wait ? work : wait) + 0.25 * rt * mr;
        if (rg == 1 || cost < best_cost) { best = rg; best_cost = cost; }
    }
    return best;
}

/* Tile GEMMs of at least 2 * OP_TILE_CLAIM_ROWS rows a thread go by claims of whole rows,
 * at least this many (2 to 4 claims a thread; whole row tiles), rather than by
 * tile_row_groups' fixed grid: a thread reads all of W once per claim of up to 8 row tiles,
 * which at this size its tile work far outweighs, and the threads of a machine whose cores
 * run at different speeds end together. On the device's 16 vCPUs, AMX ran 2.3 times slower
 * on some threads than on others while all were busy, and a fixed share waits for the
 * slowest: MiniLM at batch 32 x 128 (4096 rows) ran 1.20 times as fast with these claims
 * at 16 threads (middle half of 55 interleaved rounds 1.09-1.30) and 1.44 times at 8
 * (device-xeon16-2026-12-07-split.md). */
#define OP_TILE_CLAIM_ROWS 64

/* A block with an activation to follow is cut into calls of about OP_ACT_ROWS rows (a
 * multiple of the table's register tile) when its outputs pass OP_ACT_WHOLE_BYTES, so that
 * the activation reads outputs the GEMM wrote moments ago, from L2: a claim's whole block of
 * a batch of 32 x 128 tokens (4096 rows x 192 columns) is 3 MiB, and reading it back from L3
 * made GELU 8% of that batch's time on two threads. Smaller blocks stay one call: each call
 * streams the block's packed panels again, and one thread's batch of 1 x 128 on AMX (all
 * 1536 FFN columns, 768 KiB of outputs) ran at 96-109 sentences/s in two calls against
 * 113-115 in one. Whole tiles, so that only the last call has a partial one: AMX reloads its
 * tile configuration for it, and even shares of ~95 rows made 16-thread batches of 32 x 128
 * slower on the device. Not many more rows: 240 of one thread's 1536 columns (1.4 MiB) ran
 * the VM's batch of 32 x 128 at 654-676 ms instead of 578-581 with 96 (its L2: 1 MiB). A
 * row's outputs do not depend on how rows are grouped. */
#define OP_ACT_ROWS 96
#define OP_ACT_WHOLE_BYTES (1u << 20)

/* y[t0:t1, lo:hi] = x @ W^T (+ b), then the job's activation on that block. */
static void packed_block(const packed_job *j, int t0, int t1, int lo, int hi) {
    int mr = j->k->pack_mr > 1 ? j->k->pack_mr : 1, step = t1 - t0;
    if (j->act != OP_NO_ACTIVATION && (size_t)(t1 - t0) * (size_t)(hi - lo) * sizeof(float) > OP_ACT_WHOLE_BYTES)
        step = (OP_ACT_ROWS / mr > 0 ? OP_ACT_ROWS / mr : 1) * mr;
    for (int a = t0; a < t1; a += step) {
        int e = t1 - a < step ? t1 : a + step;
        j->k->matmul_packed(j->x + (size_t)a * j->K, e - a, j->packed, j->K, j->N, j->b, j->y + (size_t)a * j->N, lo, hi);
        if (j->act != OP_NO_ACTIVATION)
            for (int t = a; t < e; t++) j->k->activation(j->act, j->y + (size_t)t * j->N + lo, hi - lo);
    }
}

static void packed_worker(void *arg, int ith, int nth) {
    packed_job *j = arg;
    int t0, t1, lo, hi;
    if (j->claim) {
        while (seam_pool_claim(&j->cols, &lo, &hi)) packed_block(j, 0, j->T, lo, hi);
        return;
    }
    if (j->row_claim) {
        while (seam_pool_claim(&j->rows, &t0, &t1)) packed_block(j, t0, t1, 0, j->N);
        return;
    }
    /* tile tables: row groups of whole tiles, so that only the last row tile is partial */
    grid_range(j->T, j->N, j->rg, j->k->packed_mr ? j->k->packed_mr : 1, j->k->pack_nr, ith, nth, &t0, &t1, &lo, &hi);
    if (lo < hi) packed_block(j, t0, t1, lo, hi);
}

void op_matmul_packed(seam_pool *pool, const seam_kernels *k, const float *x, int T, const float *packed, int K, int N,
                      const float *b, float *y, int activation) {
    packed_job j = {k, x, T, packed, K, N, b, y, 0, activation, 1, 0, {0}, {0}};
    int nth = seam_pool_size(pool), mr = k->packed_mr;
    int claim_rows = mr ? (OP_TILE_CLAIM_ROWS + mr - 1) / mr * mr : 0;
    if (claim_rows && nth > 1 && T >= 2 * nth * claim_rows) {
        j.row_claim = 1;
        seam_pool_queue_init(&j.rows, T, nth, claim_rows);
        seam_pool_run(pool, packed_worker, &j);
        return;
    }
    j.rg = mr ? tile_row_groups(T, N, mr, k->pack_nr, nth) : row_groups(T, N, nth);
    if (nth > 1 && T >= OP_PACKED_CLAIM_MIN_T && j.rg == 1) {
        /* claims of whole panels (of 4 column tiles where the GEMM works in those) */
        j.claim = 1;
        seam_pool_queue_init(&j.cols, N, nth, k->pack_nr * (mr ? OP_TILE_GROUP : 1));
    }
    seam_pool_run(pool, packed_worker, &j);
}

typedef struct {
    const seam_qkernels *qk;
    seam_qx *xq;
    const float *x;
    int T;
    const seam_qmat *W;
    const float *b;
    float *y;
    int claim;                /* nonzero: threads claim rows and columns; else fixed shares */
    int panels;               /* nonzero: x is also laid out in this many panels of qk's tiles */
    seam_pool_queue rows, q;  /* x's rows to quantise, the product's columns */
} qmatmul_job;

static void qx_rows(void *arg, int lo, int hi) {
    const qmatmul_job *j = arg;
    int K = j->W->cols, nb = K / 32;
    for (int t = lo; t < hi; t++)
        j->qk->quantize_x(j->x + (size_t)t * K, K, j->xq->q + (size_t)t * K, j->xq->d + (size_t)t * nb,
                          j->xq->s + (size_t)t * nb);
}

/* Panels [lo, hi) of the tiles: their rows quantised, then laid out as the tiles read them. */
static void qx_panels(void *arg, int lo, int hi) {
    const qmatmul_job *j = arg;
    int R = j->qk->tile_lanes - 1, t1 = hi * R < j->T ? hi * R : j->T;
    qx_rows(arg, lo * R, t1);
    seam_qx_tile_pack(j->qk, j->xq, j->T, lo, hi);
}

static void qx_worker(void *arg, int ith, int nth) {
    qmatmul_job *j = arg;
    if (j->panels) seam_pool_share(j->claim ? &j->rows : NULL, j->panels, 1, ith, nth, qx_panels, j);
    else seam_pool_share(j->claim ? &j->rows : NULL, j->T, 1, ith, nth, qx_rows, j);
}

static void q_columns(void *arg, int lo, int hi) {
    const qmatmul_job *j = arg;
    if (j->W->type == SEAM_QUANT_Q8) j->qk->matmul_q8(j->xq, j->T, j->W, j->b, j->y, lo, hi);
    else j->qk->matmul_q4(j->xq, j->T, j->W, j->b, j->y, lo, hi);
}

/* Prefill-sized products go by claims (seam_pool_queue): with fixed shares, 2-thread q8
 * prefill in Chromium on a 2-vCPU VM took either ~95-115 or ~145-165 ms per 128 tokens,
 * by how the host treated the vCPUs, while onnxruntime-web's stayed put. Each column is
 * still summed by one thread, the same way whichever it is, so the bits do not change. */
static void q_worker(void *arg, int ith, int nth) {
    qmatmul_job *j = arg;
    seam_pool_share(j->claim ? &j->q : NULL, j->W->rows, j->panels ? 48 : 16, ith, nth, q_columns, j);
}

static void qf_worker(void *arg, int ith, int nth) {
    matmul_job *j = arg;
    int t0, t1, lo, hi, K = j->Q->cols, N = j->Q->rows;
    if (j->claim) {
        while (seam_pool_claim(&j->cols, &lo, &hi)) j->k->matmul_qf(j->x, j->T, j->Q, j->b, j->y, lo, hi);
        return;
    }
    worker_range(j->T, N, ith, nth, &t0, &t1, &lo, &hi);
    if (lo < hi) j->k->matmul_qf(j->x + (size_t)t0 * K, t1 - t0, j->Q, j->b, j->y + (size_t)t0 * N, lo, hi);
}

void op_matmul_q(seam_pool *pool, const seam_kernels *k, const seam_qkernels *qk, seam_qx *xq, const float *x, int T,
                 const seam_qmat *W, const float *b, float *y) {
    int int_tiles = W->cols <= qk->tiles_max_k;
    if (k && k->matmul_qf && T >= OP_QF_MIN_T && !int_tiles) {
        matmul_job f = {k, x, T, NULL, W, b, y, 0, {0}};
        claim_columns(&f, W->rows, seam_pool_size(pool));
        seam_pool_run(pool, qf_worker, &f);
        return;
    }
    qmatmul_job j = {qk, xq, x, T, W, b, y, 0, 0, {0}, {0}};
    int nth = seam_pool_size(pool);
    xq->K = W->cols;
    xq->tile_T = 0;
    /* Tiles read x in panels; laid out once here, every thread's columns share them. */
    if (int_tiles && xq->tile_x && qk->tile_lanes && T >= qk->tile_min_t) j.panels = seam_qx_tile_panels(qk, T);
    if (nth > 1 && T >= OP_CLAIM_MIN_T) {
        j.claim = 1;
        seam_pool_queue_init(&j.rows, j.panels ? j.panels : T, nth, 1);
        /* 48: whole column tiles (12 or 6 columns) in every claim */
        seam_pool_queue_init(&j.q, W->rows, nth, j.panels ? 48 : 16);
    }
    /* A few rows are quantised faster than the pool wakes up. */
    if (T < 8) qx_worker(&j, 0, 1);
    else seam_pool_run(pool, qx_worker, &j);
    if (j.panels) xq->tile_T = T;
    seam_pool_run(pool, q_worker, &j);
}

typedef struct {
    const seam_kernels *k;
    int activation;
    float *x;
    size_t n;
    seam_pool_queue blocks; /* of ACT_BLOCK floats, claimed as the threads go */
} act_job;

#define ACT_BLOCK 4096

static void act_worker(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    act_job *j = arg;
    int b0, b1;
    while (seam_pool_claim(&j->blocks, &b0, &b1)) {
        size_t lo = (size_t)b0 * ACT_BLOCK, hi = (size_t)b1 * ACT_BLOCK < j->n ? (size_t)b1 * ACT_BLOCK : j->n;
        j->k->activation(j->activation, j->x + lo, (int)(hi - lo));
    }
}

void op_activation(seam_pool *pool, const seam_kernels *k, int activation, float *x, size_t n) {
    /* Small vectors are not worth waking the pool for. */
    if (n < 8192) { k->activation(activation, x, (int)n); return; }
    act_job j = {k, activation, x, n, {0}};
    seam_pool_queue_init(&j.blocks, (int)((n + ACT_BLOCK - 1) / ACT_BLOCK), seam_pool_size(pool), 1);
    seam_pool_run(pool, act_worker, &j);
}

void op_transpose_heads(const seam_kernels *k, const float *rows, size_t ldr, int T, int C, float *dst, size_t ld,
                        int pos0) {
    k->transpose(rows, ldr, T, C, dst + pos0, ld);
}

/* Rows or components below this many floats are done on the calling thread: waking the
 * pool costs more than the work (decode's single rows). */
#define OP_POOL_MIN_FLOATS 16384

typedef struct {
    const seam_kernels *k;
    float *h, *y;
    const float *add, *w, *b;
    float eps;
    int T, C;
} add_norm_job;

static void add_norm_worker(void *arg, int ith, int nth) {
    const add_norm_job *j = arg;
    int lo, hi;
    seam_pool_chunk(j->T, 1, ith, nth, &lo, &hi);
    for (int t = lo; t < hi; t++) {
        float *h = j->h + (size_t)t * j->C;
        if (j->add) {
            const float *a = j->add + (size_t)t * j->C;
            for (int i = 0; i < j->C; i++) h[i] += a[i];
        }
        if (j->w) j->k->layernorm(h, j->w, j->b, j->eps, j->y + (size_t)t * j->C, j->C);
    }
}

void op_add_norm(seam_pool *pool, const seam_kernels *k, float *h, const float *add, const float *w, const float *b,
                 float eps, float *y, int T, int C) {
    add_norm_job j = {k, h, y, add, w, b, eps, T, C};
    if ((size_t)T * (size_t)C < OP_POOL_MIN_FLOATS) add_norm_worker(&j, 0, 1);
    else seam_pool_run(pool, add_norm_worker, &j);
}

typedef struct {
    const seam_kernels *k;
    const float *krows, *vrows;
    size_t ldr, ld;
    int T, C, pos0;
    float *kdst, *vdst;
} transpose_kv_job;

static void transpose_kv_worker(void *arg, int ith, int nth) {
    const transpose_kv_job *j = arg;
    int lo, hi;
    /* 16 components per share: a cache line of each destination row stays with one thread */
    seam_pool_chunk(j->C, 16, ith, nth, &lo, &hi);
    if (lo >= hi) return;
    op_transpose_heads(j->k, j->krows + lo, j->ldr, j->T, hi - lo, j->kdst + (size_t)lo * j->ld, j->ld, j->pos0);
    op_transpose_heads(j->k, j->vrows + lo, j->ldr, j->T, hi - lo, j->vdst + (size_t)lo * j->ld, j->ld, j->pos0);
}

void op_transpose_kv(seam_pool *pool, const seam_kernels *k, const float *krows, const float *vrows, size_t ldr, int T,
                     int C, float *kdst, float *vdst, size_t ld, int pos0) {
    transpose_kv_job j = {k, krows, vrows, ldr, ld, T, C, pos0, kdst, vdst};
    if ((size_t)T * (size_t)C < OP_POOL_MIN_FLOATS) transpose_kv_worker(&j, 0, 1);
    else seam_pool_run(pool, transpose_kv_worker, &j);
}

void op_attend(const seam_kernels *k, const seam_attend_tile *a) {
    if (k->attend) k->attend(a);
    else seam_attend_generic(k, a);
}
