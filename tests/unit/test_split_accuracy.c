/* Accuracy cost of f16 and q8 activations on the wire: for every fixture case and every
 * split point k, the hidden state entering block k goes through encode/decode, the rest of
 * the model runs, and the logits of every position are compared with the f32 path (which is
 * bit-identical to the whole model). Prints one line per (model, k, dtype): top-1 agreement
 * over all positions and the largest absolute logit error, relative to the largest |logit|. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/safetensors.h"
#include "seam.h"
#include "seam_net.h"
#include "test.h"

typedef struct {
    long rows, agree;
    double max_err, max_logit;
} acc_stats;

/* Logits [T, V] of ids after a trip through the wire at layer k with dtype d (f32: exact). */
static int run_split(seam_model *m, const int32_t *ids, int T, int k, seam_wire_dtype d, float *logits, seam_error *err) {
    const seam_model_info *in = seam_model_get_info(m);
    int C = in->n_embd, N = in->n_layer;
    float *h = malloc((size_t)T * C * sizeof *h);
    size_t n = seam_wire_size(d, T, C), w = 0;
    uint8_t *msg = malloc(n);
    seam_context *a = NULL, *b = NULL;
    seam_wire_header hd, got;
    memset(&hd, 0, sizeof hd);
    hd.dtype = d;
    hd.layer = k;
    hd.T = T;
    hd.C = C;
    int ok = h && msg && seam_context_new(m, 0, 0, &a, err) == SEAM_OK && seam_context_new(m, 0, 0, &b, err) == SEAM_OK &&
             seam_embed(a, ids, T, 0, h, err) == SEAM_OK && seam_run_layers(a, 0, k, h, T, 0, err) == SEAM_OK &&
             seam_wire_encode(&hd, h, msg, n, &w, err) == SEAM_OK &&
             seam_wire_decode(msg, w, NULL, &got, h, (size_t)T * C, err) == SEAM_OK &&
             seam_run_layers(b, k, N, h, T, 0, err) == SEAM_OK && seam_final_norm(b, h, T, err) == SEAM_OK &&
             seam_lm_head(b, h, T, logits, err) == SEAM_OK;
    seam_context_free(a);
    seam_context_free(b);
    free(h);
    free(msg);
    return ok;
}

static void measure(const char *model, const char *ref_name, double f16_min_agree, double q8_min_agree) {
    seam_error err = {0};
    seam_model *m = NULL;
    st_file ref;
    CHECKF(seam_model_open(fixture(model), &m, &err) == SEAM_OK, "%s", err.message);
    CHECKF(st_open(fixture(ref_name), &ref, &err) == SEAM_OK, "%s", err.message);
    const seam_model_info *in = seam_model_get_info(m);
    int V = in->vocab_size, N = in->n_layer;
    printf("\n");
    for (int k = 0; k <= N; k++) {
        acc_stats st[3];
        memset(st, 0, sizeof st);
        for (int ci = 0;; ci++) {
            char name[64];
            snprintf(name, sizeof name, "case%d.input_ids", ci);
            const st_tensor *t = st_find(&ref, name);
            if (!t) break;
            int T = (int)t->shape[0];
            int32_t *ids = malloc((size_t)T * sizeof *ids);
            memcpy(ids, t->data, (size_t)T * 4);
            float *base = malloc((size_t)T * V * sizeof *base), *q = malloc((size_t)T * V * sizeof *q);
            int ok = run_split(m, ids, T, k, SEAM_WIRE_F32, base, &err);
            for (int d = 1; ok && d < 3; d++) {
                if (!run_split(m, ids, T, k, (seam_wire_dtype)d, q, &err)) { ok = 0; break; }
                for (int r = 0; r < T; r++) {
                    const float *x = base + (size_t)r * V, *y = q + (size_t)r * V;
                    st[d].agree += seam_argmax(x, V) == seam_argmax(y, V);
                    st[d].rows++;
                    for (int v = 0; v < V; v++) {
                        double e = fabs((double)x[v] - y[v]);
                        if (e > st[d].max_err) st[d].max_err = e;
                        if (fabs(x[v]) > st[d].max_logit) st[d].max_logit = fabs(x[v]);
                    }
                }
            }
            if (!ok) test_fail(__FILE__, __LINE__, "%s k=%d case %d: %s", model, k, ci, err.message);
            free(ids);
            free(base);
            free(q);
            if (!ok) break;
        }
        for (int d = 1; d < 3; d++) {
            double agree = st[d].rows ? (double)st[d].agree / (double)st[d].rows : 0;
            printf("    accuracy %-14s k=%d %-3s top-1 %4ld/%-4ld (%6.2f%%)  max |logit err| %.3g (max |logit| %.3g, %.2g relative)\n",
                   model, k, seam_wire_dtype_name((seam_wire_dtype)d), st[d].agree, st[d].rows, 100 * agree,
                   st[d].max_err, st[d].max_logit, st[d].max_err / (st[d].max_logit > 0 ? st[d].max_logit : 1));
            double floor = d == 1 ? f16_min_agree : q8_min_agree;
            if (agree < floor)
                test_fail(__FILE__, __LINE__, "%s k=%d %s: top-1 agreement %.4f below %.4f", model, k,
                          seam_wire_dtype_name((seam_wire_dtype)d), agree, floor);
        }
    }
    st_close(&ref);
    seam_model_close(m);
}

/* Floors sit below what was measured (README "Wire format"), to catch regressions in the
 * encoders rather than to restate the numbers. */
TEST(split_accuracy_f16_q8_tiny) { measure("gpt2-tiny", "gpt2-tiny-ref/reference.safetensors", 0.99, 0.95); }
TEST(split_accuracy_f16_q8_wide) { measure("gpt2-wide-f16", "gpt2-wide-f16-ref/reference.safetensors", 0.99, 0.95); }
