/* seam_context_new_layers: a context caches only the layers it was made for (a split
 * session on a whole model runs [0, k) or [k, N)), computes exactly what a whole-model
 * context computes for them, and refuses to run any other layer. */
#include <stdlib.h>
#include <string.h>

#include "seam.h"
#include "seam_net.h"
#include "test.h"

TEST(context_layers_cache_size) {
    seam_error err = {0};
    seam_model *m = NULL;
    CHECKF(seam_model_open(fixture("gpt2-tiny"), &m, &err) == SEAM_OK, "%s", err.message);
    const seam_model_info *in = seam_model_get_info(m);
    size_t C = (size_t)in->n_embd, row = 2 * C * sizeof(float); /* K and V of one position of one layer */
    seam_context *c = NULL;
    /* The plain constructor still caches every layer the model holds. */
    CHECK(seam_context_new(m, 16, 0, &c, &err) == SEAM_OK);
    CHECK(seam_context_kv_bytes(c) == (size_t)in->n_layer * 16 * row);
    seam_context_free(c);
    for (int a = 0; a <= in->n_layer; a++)
        for (int b = a; b <= in->n_layer; b++) {
            c = NULL;
            CHECKF(seam_context_new_layers(m, a, b, 16, 0, &c, &err) == SEAM_OK, "[%d, %d): %s", a, b, err.message);
            CHECKF(seam_context_kv_bytes(c) == (size_t)(b - a) * 16 * row, "[%d, %d): %zu bytes", a, b,
                   seam_context_kv_bytes(c));
            seam_context_free(c);
        }
    /* Ranges the model does not hold, or reversed ones, are refused with a message. */
    c = NULL;
    CHECK(seam_context_new_layers(m, 2, in->n_layer + 1, 16, 0, &c, &err) == SEAM_ERR_RANGE && !c);
    CHECK(strstr(err.message, "outside") != NULL);
    CHECK(seam_context_new_layers(m, -1, 2, 16, 0, &c, &err) == SEAM_ERR_RANGE && !c);
    CHECK(seam_context_new_layers(m, 3, 2, 16, 0, &c, &err) == SEAM_ERR_RANGE && !c);
    CHECK(seam_context_new_layers(m, 0, 2, in->n_positions + 1, 0, &c, &err) == SEAM_ERR_RANGE && !c);
    seam_model_close(m);
}

/* Two range contexts [0, k) and [k, N) chained give the whole model's logits bit for bit,
 * over a prompt and then single-token steps (so the cache rows written are the ones read),
 * when the one that runs layer N - 1 runs it as seam_forward does, for the last row only. */
TEST(context_layers_split_matches_whole) {
    seam_error err = {0};
    seam_model *m = NULL;
    CHECKF(seam_model_open(fixture("gpt2-tiny"), &m, &err) == SEAM_OK, "%s", err.message);
    const seam_model_info *in = seam_model_get_info(m);
    int C = in->n_embd, V = in->vocab_size, N = in->n_layer;
    float *h = malloc((size_t)8 * C * sizeof *h), *la = malloc((size_t)V * sizeof *la), *lb = malloc((size_t)V * sizeof *lb);
    CHECK(h && la && lb);
    for (int k = 0; k <= N; k++) {
        seam_context *whole = NULL, *lo = NULL, *hi = NULL;
        int ok = seam_context_new(m, 16, 0, &whole, &err) == SEAM_OK &&
                 seam_context_new_layers(m, 0, k, 16, 0, &lo, &err) == SEAM_OK &&
                 seam_context_new_layers(m, k, N, 16, 0, &hi, &err) == SEAM_OK;
        int32_t ids[8] = {464, 2068, 7586, 21831, 18045, 625, 262, 16931};
        int pos = 0, T = 5;
        for (int step = 0; ok && step < 4; step++) {
            const int32_t *x = step == 0 ? ids : &ids[4 + step];
            ok = seam_forward(whole, x, T, pos, la, &err) == SEAM_OK && seam_embed(lo, x, T, pos, h, &err) == SEAM_OK &&
                 (k < N ? seam_run_layers(lo, 0, k, h, T, pos, &err) : seam_run_layers_last_row(lo, 0, k, h, T, pos, &err)) == SEAM_OK &&
                 seam_run_layers_last_row(hi, k, N, h, T, pos, &err) == SEAM_OK;
            float *last = h + (size_t)(T - 1) * C;
            ok = ok && seam_final_norm(hi, last, 1, &err) == SEAM_OK && seam_lm_head(hi, last, 1, lb, &err) == SEAM_OK;
            if (ok && memcmp(la, lb, (size_t)V * sizeof *la) != 0) {
                test_fail(__FILE__, __LINE__, "k=%d step %d: range contexts differ from the whole model", k, step);
                ok = 0;
            }
            pos += T;
            T = 1;
        }
        if (!ok && err.message[0]) test_fail(__FILE__, __LINE__, "k=%d: %s", k, err.message);
        seam_context_free(whole);
        seam_context_free(lo);
        seam_context_free(hi);
        if (!ok) break;
    }
    free(h);
    free(la);
    free(lb);
    seam_model_close(m);
}

TEST(context_layers_refuses_other_layers) {
    seam_error err = {0};
    seam_model *m = NULL;
    CHECKF(seam_model_open(fixture("gpt2-tiny"), &m, &err) == SEAM_OK, "%s", err.message);
    const seam_model_info *in = seam_model_get_info(m);
    int C = in->n_embd, V = in->vocab_size, N = in->n_layer;
    float *h = calloc((size_t)4 * C, sizeof *h), *logits = malloc((size_t)V * sizeof *logits);
    int32_t ids[2] = {1, 2};
    seam_context *c = NULL;
    CHECK(h && logits);
    CHECK(seam_context_new_layers(m, 1, 3, 8, 0, &c, &err) == SEAM_OK);
    CHECK(seam_run_layers(c, 1, 3, h, 1, 0, &err) == SEAM_OK);
    CHECK(seam_run_layers(c, 2, 3, h, 1, 0, &err) == SEAM_OK); /* a sub-range is fine */
    CHECK(seam_run_layers(c, 0, 2, h, 1, 0, &err) == SEAM_ERR_RANGE);
    CHECKF(strstr(err.message, "[0, 2) are outside the [1, 3) this context caches") != NULL, "%s", err.message);
    CHECK(seam_run_layers(c, 2, 4, h, 1, 0, &err) == SEAM_ERR_RANGE);
    CHECK(seam_run_layers(c, 3, 3, h, 1, 0, &err) == SEAM_OK); /* nothing to run */
    /* seam_forward needs every layer: a range context cannot run it. */
    CHECK(seam_forward(c, ids, 2, 0, logits, &err) == SEAM_ERR_RANGE);
    seam_context_free(c);
    /* An empty range (tail mode with k = 0: the server only embeds) has no cache at all. */
    CHECK(seam_context_new_layers(m, 0, 0, 8, 0, &c, &err) == SEAM_OK);
    CHECK(seam_context_kv_bytes(c) == 0);
    CHECK(seam_embed(c, ids, 2, 0, h, &err) == SEAM_OK && seam_run_layers(c, 0, 0, h, 2, 0, &err) == SEAM_OK);
    CHECK(seam_run_layers(c, 0, 1, h, 2, 0, &err) == SEAM_ERR_RANGE);
    seam_context_free(c);
    seam_model_close(m);
    m = NULL;
    /* On a shard the range must lie inside what the shard holds. */
    const char *dir = test_tmpdir();
    seam_shard_range r = {2, N, 0, 1, 0};
    CHECKF(seam_shard_write(fixture("gpt2-tiny"), &r, NULL, dir, &err) == SEAM_OK, "%s", err.message);
    CHECKF(seam_model_open(dir, &m, &err) == SEAM_OK, "%s", err.message);
    c = NULL;
    CHECK(seam_context_new_layers(m, 1, N, 8, 0, &c, &err) == SEAM_ERR_RANGE && !c);
    CHECK(seam_context_new_layers(m, 3, N, 8, 0, &c, &err) == SEAM_OK);
    CHECK(seam_context_kv_bytes(c) == (size_t)(N - 3) * 8 * 2 * C * sizeof(float));
    CHECK(seam_run_layers(c, 2, N, h, 1, 0, &err) == SEAM_ERR_RANGE);
    seam_context_free(c);
    seam_model_close(m);
    free(h);
    free(logits);
}
