/* Token sampling: temperature, then top-k, then top-p (the order transformers applies its
 * logits warpers), then a draw from a seeded generator so runs are reproducible. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seam.h"
#include "util/error.h"

typedef struct {
    float p;
    int32_t id;
} candidate;

struct seam_sampler {
    seam_sampler_params params;
    int n_vocab;
    uint64_t rng;
    candidate *cand; /* [n_vocab] */
};

seam_sampler_params seam_sampler_default_params(void) {
    seam_sampler_params p = {1.0f, 0, 1.0f, 0};
    return p;
}

/* splitmix64: tiny, fast, and good enough for drawing one uniform number per token. */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double next_unit(uint64_t *s) { return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0); }

seam_status seam_sampler_new(const seam_sampler_params *p, int n_vocab, seam_sampler **out, seam_error *err) {
    *out = NULL;
    if (n_vocab < 1) return seam_fail(err, SEAM_ERR_ARG, "vocabulary size must be positive");
    if (!(p->temperature >= 0) || !isfinite(p->temperature))
        return seam_fail(err, SEAM_ERR_ARG, "temperature must be a finite number >= 0");
    if (p->top_k < 0) return seam_fail(err, SEAM_ERR_ARG, "top-k must be >= 0");
    if (!(p->top_p > 0 && p->top_p <= 1)) return seam_fail(err, SEAM_ERR_ARG, "top-p must be in (0, 1]");
    seam_sampler *s = calloc(1, sizeof *s);
    if (!s) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    s->cand = malloc((size_t)n_vocab * sizeof *s->cand);
    if (!s->cand) { free(s); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    s->params = *p;
    s->n_vocab = n_vocab;
    s->rng = p->seed;
    *out = s;
    return SEAM_OK;
}

void seam_sampler_free(seam_sampler *s) {
    if (!s) return;
    free(s->cand);
    free(s);
}

int32_t seam_argmax(const float *logits, int n) {
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > logits[best]) best = i;
    return best;
}

static int cmp_desc(const void *a, const void *b) {
    const candidate *x = a, *y = b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id; /* stable order for equal values */
}

/* Moves the k largest candidates to the front (unordered), expected O(n). */
static void select_top(candidate *c, int n, int k) {
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        candidate pivot = c[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (cmp_desc(&c[i], &pivot) < 0) i++;
            while (cmp_desc(&c[j], &pivot) > 0) j--;
            if (i <= j) { candidate t = c[i]; c[i] = c[j]; c[j] = t; i++; j--; }
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
}

int32_t seam_sample(seam_sampler *s, const float *logits) {
    const seam_sampler_params *p = &s->params;
    int n = s->n_vocab;
    if (p->temperature <= 0) return seam_argmax(logits, n);
    float inv_t = 1.0f / p->temperature;
    float mx = logits[0];
    for (int i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
    for (int i = 0; i < n; i++) s->cand[i] = (candidate){(logits[i] - mx) * inv_t, i};

    int keep = n;
    if (p->top_k > 0 && p->top_k < n) {
        select_top(s->cand, n, p->top_k);
        keep = p->top_k;
    }
    double sum = 0;
    for (int i = 0; i < keep; i++) { s->cand[i].p = expf(s->cand[i].p); sum += s->cand[i].p; }
    if (p->top_p < 1.0f) {
        /* Sort only a prefix when it already holds the nucleus; fall back to all. */
        int sorted = keep < 256 ? keep : 256;
        for (;;) {
            if (sorted < keep) select_top(s->cand, keep, sorted);
            qsort(s->cand, (size_t)sorted, sizeof *s->cand, cmp_desc);
            double acc = 0;
            int cut = -1;
            for (int i = 0; i < sorted; i++) {
                acc += s->cand[i].p;
                if (acc >= p->top_p * sum) { cut = i + 1; break; }
            }
            if (cut > 0) { keep = cut; break; }
            if (sorted == keep) break;
            sorted = sorted * 8 < keep ? sorted * 8 : keep;
        }
        sum = 0;
        for (int i = 0; i < keep; i++) sum += s->cand[i].p;
    }
    double r = next_unit(&s->rng) * sum, acc = 0;
    for (int i = 0; i < keep; i++) {
        acc += s->cand[i].p;
        if (r < acc) return s->cand[i].id;
    }
    return s->cand[keep - 1].id;
}
