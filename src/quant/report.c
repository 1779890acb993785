/* Accuracy of a (quantised) model against a reference: logits at every position. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "quant/quantize.h"
#include "util/error.h"

/* Hidden states after ln_f of ids[0..T), into h [T, C]. */
static seam_status run_hidden(seam_context *c, const seam_model_info *in, const int32_t *ids, int T, float *h,
                              seam_error *err) {
    seam_status s;
    if ((s = seam_embed(c, ids, T, 0, h, err)) || (s = seam_run_layers(c, 0, in->n_layer, h, T, 0, err)) ||
        (s = seam_final_norm(c, h, T, err)))
        return s;
    return SEAM_OK;
}

/* log-softmax of x[0..n) into out, in double. */
static void log_softmax(const float *x, int n, double *out) {
    double mx = x[0], sum = 0;
    for (int i = 1; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < n; i++) sum += exp((double)x[i] - mx);
    double lse = mx + log(sum);
    for (int i = 0; i < n; i++) out[i] = (double)x[i] - lse;
}

seam_status seam_quant_compare(const seam_model *ref, const seam_model *test, const int32_t *ids, int T, int n_threads,
                               seam_qreport *acc, seam_error *err) {
    const seam_model_info *a = seam_model_get_info(ref), *b = seam_model_get_info(test);
    if (a->n_embd != b->n_embd || a->vocab_size != b->vocab_size || a->n_layer != b->n_layer)
        return seam_fail(err, SEAM_ERR_ARG, "the models to compare differ in shape");
    if (T < 1 || T > a->n_positions || T > b->n_positions)
        return seam_fail(err, SEAM_ERR_RANGE, "%d positions do not fit the models' context", T);
    int C = a->n_embd, V = a->vocab_size;
    enum { ROWS = 8 };
    seam_context *ca = NULL, *cb = NULL;
    float *ha = malloc((size_t)T * C * sizeof *ha), *hb = malloc((size_t)T * C * sizeof *hb);
    float *la = malloc((size_t)ROWS * V * sizeof *la), *lb = malloc((size_t)ROWS * V * sizeof *lb);
    double *pa = malloc((size_t)V * sizeof *pa), *pb = malloc((size_t)V * sizeof *pb);
    seam_status s = SEAM_OK;
    if (!ha || !hb || !la || !lb || !pa || !pb) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    if ((s = seam_context_new(ref, T, T, &ca, err)) || (s = seam_context_new(test, T, T, &cb, err)) ||
        (s = seam_context_set_threads(ca, n_threads, err)) || (s = seam_context_set_threads(cb, n_threads, err)) ||
        (s = run_hidden(ca, a, ids, T, ha, err)) || (s = run_hidden(cb, b, ids, T, hb, err)))
        goto out;
    for (int t0 = 0; t0 < T; t0 += ROWS) {
        int n = T - t0 < ROWS ? T - t0 : ROWS;
        if ((s = seam_lm_head(ca, ha + (size_t)t0 * C, n, la, err)) || (s = seam_lm_head(cb, hb + (size_t)t0 * C, n, lb, err)))
            goto out;
        for (int r = 0; r < n; r++) {
            const float *x = la + (size_t)r * V, *y = lb + (size_t)r * V;
            log_softmax(x, V, pa);
            log_softmax(y, V, pb);
            double kl = 0;
            for (int v = 0; v < V; v++) {
                kl += exp(pa[v]) * (pa[v] - pb[v]);
                double d = (double)y[v] - x[v];
                acc->err2 += d * d;
                acc->ref2 += (double)x[v] * x[v];
            }
            kl = kl > 0 ? kl : 0; /* rounding can leave a tiny negative */
            acc->kl_sum += kl;
            acc->kl_max = kl > acc->kl_max ? kl : acc->kl_max;
            acc->agree += seam_argmax(x, V) == seam_argmax(y, V);
            acc->positions++;
        }
    }
out:
    seam_context_free(ca);
    seam_context_free(cb);
    free(ha); free(hb); free(la); free(lb); free(pa); free(pb);
    return s;
}
