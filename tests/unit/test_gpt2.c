/* The forward pass against float64 references made with transformers (fixtures). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "format/safetensors.h"
#include "quant/quantize.h"
#include "seam.h"
#include "test.h"

static double rel_l2(const float *a, const float *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

/* case<i>.<what>, or case<i>.hidden.<k> when k >= 0 */
static const st_tensor *ref_tensor(const st_file *f, int i, const char *what, int k) {
    char name[64];
    if (k >= 0) snprintf(name, sizeof name, "case%d.%s.%d", i, what, k);
    else snprintf(name, sizeof name, "case%d.%s", i, what);
    return st_find(f, name);
}

/* Checks every hidden.K and the logits of every case in a reference file. */
static void check_reference(const char *model_dir, const char *ref_path, int *n_checked) {
    seam_error err = {0};
    seam_model *m = NULL;
    st_file ref;
    CHECKF(seam_model_open(model_dir, &m, &err) == SEAM_OK, "open %s: %s", model_dir, err.message);
    CHECKF(st_open(ref_path, &ref, &err) == SEAM_OK, "%s", err.message);
    const seam_model_info *in = seam_model_get_info(m);
    int C = in->n_embd, V = in->vocab_size, N = in->n_layer;
    for (int ci = 0;; ci++) {
        const st_tensor *ids_t = ref_tensor(&ref, ci, "input_ids", -1);
        if (!ids_t) break;
        int T = (int)ids_t->shape[0];
        int32_t *ids = malloc((size_t)T * sizeof *ids);
        memcpy(ids, ids_t->data, (size_t)T * 4);
        float *h = malloc((size_t)T * C * sizeof *h);
        float *logits = malloc((size_t)8 * V * sizeof *logits);
        seam_context *c = NULL;
        int ok = seam_context_new(m, 0, 0, &c, &err) == SEAM_OK && seam_embed(c, ids, T, 0, h, &err) == SEAM_OK;
        for (int k = 0; ok && k <= N; k++) {
            if (k > 0 && k < N) ok = seam_run_layers(c, k - 1, k, h, T, 0, &err) == SEAM_OK;
            if (k == N) ok = seam_run_layers(c, N - 1, N, h, T, 0, &err) == SEAM_OK && seam_final_norm(c, h, T, &err) == SEAM_OK;
            const st_tensor *hr = ref_tensor(&ref, ci, "hidden", k);
            double e = hr ? rel_l2(h, (const float *)hr->data, (size_t)T * C) : 1;
            if (!ok || e > 1e-4) {
                test_fail(__FILE__, __LINE__, "%s case %d hidden.%d rel L2 %.3g (%s)", model_dir, ci, k, e, err.message);
                ok = 0;
            }
            (*n_checked)++;
        }
        const st_tensor *lr = ref_tensor(&ref, ci, "logits", -1);
        int rows = (int)lr->shape[0];
        if (ok) ok = seam_lm_head(c, h + (size_t)(T - rows) * C, rows, logits, &err) == SEAM_OK;
        double e = ok ? rel_l2(logits, (const float *)lr->data, (size_t)rows * V) : 1;
        if (!ok || e > 1e-4) test_fail(__FILE__, __LINE__, "%s case %d logits rel L2 %.3g", model_dir, ci, e);
        (*n_checked)++;
        seam_context_free(c);
        free(ids); free(h); free(logits);
    }
    st_close(&ref);
    seam_model_close(m);
}

TEST(test_gpt2_tiny_matches_reference) {
    int n = 0;
    check_reference(fixture("gpt2-tiny"), fixture("gpt2-tiny-ref/reference.safetensors"), &n);
    CHECKF(n == 5 * 6, "checked %d tensors", n);
}

TEST(test_gpt2_wide_f16_matches_reference) {
    int n = 0;
    check_reference(fixture("gpt2-wide-f16"), fixture("gpt2-wide-f16-ref/reference.safetensors"), &n);
    CHECKF(n == 4 * 4, "checked %d tensors", n);
}

/* Prefill then one token at a time must give the logits of one full pass, and so must a
 * split at every k across two contexts. */
static void check_incremental_and_split(const char *dir) {
    seam_error err = {0};
    seam_model *m = NULL;
    CHECKF(seam_model_open(dir, &m, &err) == SEAM_OK, "%s", err.message);
    const seam_model_info *in = seam_model_get_info(m);
    int C = in->n_embd, V = in->vocab_size, N = in->n_layer, T = 20;
    int32_t ids[20];
    for (int i = 0; i < T; i++) ids[i] = (i * 7919 + 13) % V;
    float *full = malloc((size_t)V * 4), *inc = malloc((size_t)V * 4), *h = malloc((size_t)T * C * 4);
    seam_context *a = NULL, *b = NULL;
    CHECK(seam_context_new(m, 64, 0, &a, &err) == SEAM_OK);
    CHECK(seam_forward(a, ids, T, 0, full, &err) == SEAM_OK);
    seam_context_free(a);
    CHECK(seam_context_new(m, 64, 0, &a, &err) == SEAM_OK);
    CHECK(seam_forward(a, ids, 12, 0, inc, &err) == SEAM_OK);
    for (int p = 12; p < T; p++) CHECK(seam_forward(a, ids + p, 1, p, inc, &err) == SEAM_OK);
    double e = 0;
    for (int v = 0; v < V; v++) e = fmax(e, fabs(full[v] - inc[v]));
    CHECKF(e < 1e-4, "incremental logits differ by %g", e);
    seam_context_free(a);
    for (int k = 0; k <= N; k++) {
        CHECK(seam_context_new(m, 64, 0, &a, &err) == SEAM_OK && seam_context_new(m, 64, 0, &b, &err) == SEAM_OK);
        /* prefill 15 tokens then 5 single steps, passing the hidden state between halves */
        int ok = 1;
        for (int p = 0; p < T && ok;) {
            int n = p == 0 ? 15 : 1;
            ok = seam_embed(a, ids + p, n, p, h, &err) == SEAM_OK && seam_run_layers(a, 0, k, h, n, p, &err) == SEAM_OK &&
                 seam_run_layers(b, k, N, h, n, p, &err) == SEAM_OK && seam_final_norm(b, h + (size_t)(n - 1) * C, 1, &err) == SEAM_OK &&
                 seam_lm_head(b, h + (size_t)(n - 1) * C, 1, inc, &err) == SEAM_OK;
            p += n;
        }
        CHECKF(ok, "split at %d: %s", k, err.message);
        e = 0;
        for (int v = 0; v < V; v++) e = fmax(e, fabs(full[v] - inc[v]));
        CHECKF(e < 1e-4, "split at %d: logits differ by %g", k, e);
        seam_context_free(a);
        seam_context_free(b);
    }
    free(full); free(inc); free(h);
    seam_model_close(m);
}

TEST(test_gpt2_incremental_and_split_tiny) { check_incremental_and_split(fixture("gpt2-tiny")); }
TEST(test_gpt2_incremental_and_split_wide) { check_incremental_and_split(fixture("gpt2-wide-f16")); }

TEST(test_gpt2_context_overflow_is_an_error) {
    seam_error err = {0};
    seam_model *m = NULL;
    seam_context *c = NULL;
    CHECK(seam_model_open(fixture("gpt2-tiny"), &m, &err) == SEAM_OK);
    CHECK(seam_context_new(m, 256, 0, &c, &err) == SEAM_ERR_RANGE);
    CHECK(seam_context_new(m, 8, 0, &c, &err) == SEAM_OK);
    float *logits = malloc((size_t)50257 * 4);
    int32_t ids[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    CHECK(seam_forward(c, ids, 9, 0, logits, &err) == SEAM_ERR_RANGE);
    CHECKF(strstr(err.message, "context") != NULL, "%s", err.message);
    CHECK(seam_forward(c, ids, 8, 0, logits, &err) == SEAM_OK);
    CHECK(seam_forward(c, ids, 1, 8, logits, &err) == SEAM_ERR_RANGE);
    int32_t bad = 50257;
    CHECK(seam_forward(c, &bad, 1, 0, logits, &err) == SEAM_ERR_RANGE);
    free(logits);
    seam_context_free(c);
    seam_model_close(m);
}

/* Logits of the last of T rows, three ways: every row through every layer (seam_run_layers),
 * the last layer on the last row only (seam_run_layers_last_row), and seam_forward in
 * chunks of `batch` rows. Returns the largest difference of the other two from the first
 * and whether all three are bit for bit the same. */
static double last_row_diff(seam_model *m, int T, int threads, int batch, int *same) {
    seam_error err = {0};
    const seam_model_info *in = seam_model_get_info(m);
    int C = in->n_embd, V = in->vocab_size, N = in->n_layer;
    int32_t *ids = malloc((size_t)T * sizeof *ids);
    for (int i = 0; i < T; i++) ids[i] = (i * 7919 + 13) % V;
    float *h = malloc((size_t)T * C * 4), *logits[3];
    for (int w = 0; w < 3; w++) logits[w] = malloc((size_t)V * 4);
    int ok = 1;
    for (int w = 0; w < 3 && ok; w++) {
        seam_context *c = NULL;
        ok = seam_context_new(m, 0, w == 2 ? batch : 0, &c, &err) == SEAM_OK &&
             seam_context_set_threads(c, threads, &err) == SEAM_OK;
        float *last = h + (size_t)(T - 1) * C;
        if (ok && w < 2)
            ok = seam_embed(c, ids, T, 0, h, &err) == SEAM_OK &&
                 (w == 0 ? seam_run_layers(c, 0, N, h, T, 0, &err) : seam_run_layers_last_row(c, 0, N, h, T, 0, &err)) == SEAM_OK &&
                 seam_final_norm(c, last, 1, &err) == SEAM_OK && seam_lm_head(c, last, 1, logits[w], &err) == SEAM_OK;
        if (ok && w == 2) ok = seam_forward(c, ids, T, 0, logits[w], &err) == SEAM_OK;
        if (!ok) test_fail(__FILE__, __LINE__, "way %d: %s", w, err.message);
        seam_context_free(c);
    }
    double e = 0;
    *same = ok;
    for (int w = 1; w < 3 && ok; w++)
        for (int v = 0; v < V; v++) {
            e = fmax(e, fabs(logits[w][v] - logits[0][v]));
            if (memcmp(&logits[w][v], &logits[0][v], 4)) *same = 0;
        }
    for (int w = 0; w < 3; w++) free(logits[w]);
    free(ids); free(h);
    return ok ? e : INFINITY;
}

/* The three weight formats the tests below run: the f32 and f16 fixtures and a q8 copy of
 * gpt2-tiny written to a fresh temporary folder (q8 holds its path). */
static void three_formats(char q8[600], const char *dirs[3]) {
    seam_error err = {0};
    snprintf(q8, 600, "%s", test_tmpdir());
    seam_quantize_params p = {.type = SEAM_QUANT_Q8};
    CHECKF(seam_quantize_model(fixture("gpt2-tiny"), q8, &p, &err) == SEAM_OK, "%s", err.message);
    dirs[0] = fixture("gpt2-tiny");
    dirs[1] = fixture("gpt2-wide-f16");
    dirs[2] = q8;
}

/* Skipping the last layer's other rows must not change the last row's logits. On one thread
 * f32 and f16 keep every bit (rows are independent through every kernel); on several, a
 * one-row f32 matmul may split K among the threads (decode_split_k, the browser's) and round
 * its sums differently, hence the tolerance. Quantised products of 5 rows or more may run
 * register tiles that add the blocks' terms in another order than the one-row dot products
 * (kernels/quant_avx512vnni.c), so for q8 the last row matches to f32 rounding. */
TEST(test_gpt2_last_row_only_keeps_the_last_rows_logits) {
    seam_error err = {0};
    char q8[600];
    const char *dirs[3];
    three_formats(q8, dirs);
    for (int d = 0; d < 3; d++) {
        seam_model *m = NULL;
        CHECKF(seam_model_open(dirs[d], &m, &err) == SEAM_OK, "%s", err.message);
        for (int threads = 1; threads <= 3; threads += 2) {
            int same = 0;
            double e = last_row_diff(m, 37, threads, 8, &same);
            CHECKF(e < 1e-4, "%s, %d threads: last-row logits differ by %g", dirs[d], threads, e);
            if (threads == 1 && d < 2) CHECKF(same, "%s: one thread, last-row logits are not bit for bit the same", dirs[d]);
        }
        seam_model_close(m);
    }
}

/* Threads claim the columns of products and the attention tiles as they go (util/pool.h);
 * each output is still computed whole by one thread, so the hidden states keep every bit
 * whatever the thread count. Prompt lengths on both sides of OP_QF_MIN_T; f32, f16 and q8.
 * (Logits of one row may not: the browser's one-row f32 products split K among threads.) */
TEST(test_gpt2_hidden_states_do_not_depend_on_the_thread_count) {
    seam_error err = {0};
    char q8[600];
    const char *dirs[3];
    three_formats(q8, dirs);
    for (int d = 0; d < 3; d++) {
        seam_model *m = NULL;
        CHECKF(seam_model_open(dirs[d], &m, &err) == SEAM_OK, "%s", err.message);
        const seam_model_info *in = seam_model_get_info(m);
        CHECKF((int)in->weight_quant == (d == 2 ? SEAM_WEIGHTS_Q8 : SEAM_WEIGHTS_PLAIN), "%s: weight_quant %d", dirs[d],
               (int)in->weight_quant);
        int C = in->n_embd, lens[2] = {37, in->n_positions < 90 ? in->n_positions : 90};
        float *h[2] = {malloc((size_t)90 * C * 4), malloc((size_t)90 * C * 4)};
        int32_t ids[90];
        for (int i = 0; i < 90; i++) ids[i] = (i * 7919 + 13) % in->vocab_size;
        for (int l = 0; l < 2; l++)
            for (int w = 0; w < 2; w++) {
                seam_context *c = NULL;
                CHECKF(seam_context_new(m, 0, 0, &c, &err) == SEAM_OK && seam_context_set_threads(c, w ? 3 : 1, &err) == SEAM_OK &&
                           seam_embed(c, ids, lens[l], 0, h[w], &err) == SEAM_OK &&
                           seam_run_layers(c, 0, in->n_layer, h[w], lens[l], 0, &err) == SEAM_OK,
                       "%s", err.message);
                seam_context_free(c);
                if (w)
                    CHECKF(!memcmp(h[0], h[1], (size_t)lens[l] * C * 4), "%s, %d rows: hidden states on 3 threads differ from 1",
                           dirs[d], lens[l]);
            }
        free(h[0]);
        free(h[1]);
        seam_model_close(m);
    }
}
