#include <stdatomic.h>

#include "test.h"
#include "util/pool.h"

static void count_worker(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    atomic_fetch_add((atomic_int *)arg, 1);
}

TEST(test_pool_runs_every_thread_every_time) {
    for (int n = 1; n <= 5; n++) {
        seam_pool *p = NULL;
        CHECK(seam_pool_new(n, &p, NULL) == SEAM_OK);
        atomic_int count = 0;
        /* Dispatch at once, before the workers are even scheduled, then many times over. */
        for (int r = 0; r < 2000; r++) seam_pool_run(p, count_worker, &count);
        CHECKF(atomic_load(&count) == 2000 * n, "n=%d count %d", n, atomic_load(&count));
        seam_pool_free(p);
    }
}

TEST(test_pool_chunks_cover_the_range) {
    for (int n = 0; n < 100; n += 7)
        for (int nth = 1; nth <= 6; nth++) {
            int next = 0;
            for (int i = 0; i < nth; i++) {
                int lo, hi;
                seam_pool_chunk(n, 16, i, nth, &lo, &hi);
                CHECK(lo == next && hi >= lo && (lo % 16 == 0 || lo == n));
                next = hi;
            }
            CHECK(next == n);
        }
}

typedef struct {
    seam_pool_queue q;
    atomic_int hits[300];
} claim_job;

static void claim_worker(void *arg, int ith, int nth) {
    (void)ith;
    (void)nth;
    claim_job *j = arg;
    int lo, hi;
    while (seam_pool_claim(&j->q, &lo, &hi))
        for (int i = lo; i < hi; i++) atomic_fetch_add(&j->hits[i], 1);
}

/* Whichever thread claims what, every item is handed out exactly once. */
TEST(test_pool_claims_hand_out_every_item_once) {
    for (int nth = 1; nth <= 4; nth++) {
        seam_pool *p = NULL;
        CHECK(seam_pool_new(nth, &p, NULL) == SEAM_OK);
        for (int n = 0; n <= 300; n += 37)
            for (int qth = 1; qth <= 5; qth += 2)
                for (int align = 1; align <= 64; align = align * 3 + 1) {
                    static claim_job j;
                    for (int i = 0; i < 300; i++) atomic_init(&j.hits[i], 0);
                    seam_pool_queue_init(&j.q, n, qth, align);
                    CHECK(j.q.step >= 1 && j.q.step % align == 0);
                    seam_pool_run(p, claim_worker, &j);
                    for (int i = 0; i < 300; i++)
                        CHECKF(atomic_load(&j.hits[i]) == (i < n), "nth %d n %d align %d: item %d handed out %d times", nth, n,
                               align, i, atomic_load(&j.hits[i]));
                }
        seam_pool_free(p);
    }
}
