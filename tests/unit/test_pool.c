#define _GNU_SOURCE /* pthread_getattr_np, pthread_setattr_default_np (glibc) */
#include <pthread.h>
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

#if defined(__GLIBC__)
static void stack_worker(void *arg, int ith, int nth) {
    (void)nth;
    pthread_attr_t a;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        pthread_attr_getstacksize(&a, &size);
        pthread_attr_destroy(&a);
    }
    ((size_t *)arg)[ith] = size;
}
#endif

/* Kernels keep up to 256 KiB of packed operands on the stack: workers have room for that
 * even where the default thread stack is small (a low `ulimit -s` under glibc). */
TEST(test_pool_workers_get_room_for_kernel_buffers) {
#if defined(__GLIBC__)
    pthread_attr_t saved, small;
    CHECK(pthread_getattr_default_np(&saved) == 0);
    pthread_attr_init(&small);
    pthread_attr_setstacksize(&small, (size_t)256 << 10);
    CHECK(pthread_setattr_default_np(&small) == 0);
    seam_pool *p = NULL;
    seam_status st = seam_pool_new(3, &p, NULL);
    pthread_setattr_default_np(&saved);
    pthread_attr_destroy(&small);
    pthread_attr_destroy(&saved);
    CHECK(st == SEAM_OK);
    size_t sizes[3] = {0};
    seam_pool_run(p, stack_worker, sizes);
    seam_pool_free(p);
    for (int i = 1; i < 3; i++) CHECKF(sizes[i] >= ((size_t)1 << 20), "worker %d has a stack of %zu bytes", i, sizes[i]);
#endif
}
