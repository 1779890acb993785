#include <math.h>
#include <stdlib.h>

#include "seam.h"
#include "test.h"

static float *ramp(int n) {
    float *l = malloc((size_t)n * sizeof *l);
    for (int i = 0; i < n; i++) l[i] = (float)((i * 37) % n) / 10.0f; /* argmax at 1 step before wrap */
    return l;
}

TEST(test_sampler_greedy_and_limits) {
    int n = 1000;
    float *l = ramp(n);
    int32_t best = seam_argmax(l, n);
    seam_sampler *s = NULL;
    seam_error err = {0};
    seam_sampler_params p = seam_sampler_default_params();
    p.temperature = 0;
    CHECK(seam_sampler_new(&p, n, &s, &err) == SEAM_OK);
    CHECK(seam_sample(s, l) == best);
    seam_sampler_free(s);
    p.temperature = 1.5f;
    p.top_k = 1;
    CHECK(seam_sampler_new(&p, n, &s, &err) == SEAM_OK);
    for (int i = 0; i < 20; i++) CHECK(seam_sample(s, l) == best);
    seam_sampler_free(s);
    p.top_k = 0;
    p.top_p = 1e-6f;
    CHECK(seam_sampler_new(&p, n, &s, &err) == SEAM_OK);
    for (int i = 0; i < 20; i++) CHECK(seam_sample(s, l) == best);
    seam_sampler_free(s);
    p.top_p = 1.5f;
    CHECK(seam_sampler_new(&p, n, &s, &err) == SEAM_ERR_ARG);
    p.top_p = 1;
    p.temperature = -1;
    CHECK(seam_sampler_new(&p, n, &s, &err) == SEAM_ERR_ARG);
    free(l);
}

TEST(test_sampler_reproducible_and_distributed) {
    int n = 4;
    float l[4] = {0, logf(2), logf(3), logf(4)}; /* probabilities 0.1 0.2 0.3 0.4 */
    seam_sampler_params p = seam_sampler_default_params();
    p.seed = 99;
    seam_sampler *a = NULL, *b = NULL;
    CHECK(seam_sampler_new(&p, n, &a, NULL) == SEAM_OK && seam_sampler_new(&p, n, &b, NULL) == SEAM_OK);
    int counts[4] = {0};
    for (int i = 0; i < 20000; i++) {
        int32_t x = seam_sample(a, l), y = seam_sample(b, l);
        CHECK(x == y);
        counts[x]++;
    }
    for (int i = 0; i < 4; i++) CHECKF(fabs(counts[i] / 20000.0 - (i + 1) / 10.0) < 0.02, "token %d drawn %d times", i, counts[i]);
    seam_sampler_free(a);
    seam_sampler_free(b);
    /* top-k 2 keeps only the two most likely, renormalised: 3/7 and 4/7 */
    p.top_k = 2;
    CHECK(seam_sampler_new(&p, n, &a, NULL) == SEAM_OK);
    int c3 = 0;
    for (int i = 0; i < 20000; i++) {
        int32_t x = seam_sample(a, l);
        CHECK(x >= 2);
        c3 += x == 3;
    }
    CHECKF(fabs(c3 / 20000.0 - 4.0 / 7) < 0.02, "top-k renormalisation: %d", c3);
    seam_sampler_free(a);
    /* top-p 0.65 keeps {0.4, 0.3} (0.7 >= 0.65) */
    p.top_k = 0;
    p.top_p = 0.65f;
    CHECK(seam_sampler_new(&p, n, &a, NULL) == SEAM_OK);
    for (int i = 0; i < 2000; i++) CHECK(seam_sample(a, l) >= 2);
    seam_sampler_free(a);
}

TEST(test_sampler_top_p_over_large_vocab) {
    /* A flat vocabulary forces the nucleus past the first sorted prefix. */
    int n = 50000;
    float *l = calloc((size_t)n, sizeof *l);
    seam_sampler_params p = seam_sampler_default_params();
    p.top_p = 0.9f;
    p.seed = 3;
    seam_sampler *s = NULL;
    CHECK(seam_sampler_new(&p, n, &s, NULL) == SEAM_OK);
    int hi = 0;
    for (int i = 0; i < 5000; i++) hi += seam_sample(s, l) >= 45000;
    CHECKF(hi < 1000, "drew %d from outside a 90%% nucleus-ish range", hi);
    seam_sampler_free(s);
    free(l);
}
