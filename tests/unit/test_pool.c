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
