/* A fixed pool of worker threads for data-parallel kernels. The caller takes part as
 * thread 0. Dispatch costs one atomic increment; idle workers spin briefly (a forward pass
 * dispatches dozens of times per token) and then sleep on a condition variable, so an idle
 * pool burns no CPU. Nothing is allocated after seam_pool_new. */
#ifndef SEAM_POOL_H
#define SEAM_POOL_H

#include <stdatomic.h>

#include "seam.h"

typedef struct seam_pool seam_pool;
typedef void (*seam_pool_fn)(void *arg, int ith, int nth);

/* n_threads >= 1 counts the caller; 1 means no worker threads at all. */
seam_status seam_pool_new(int n_threads, seam_pool **out, seam_error *err);
void seam_pool_free(seam_pool *p);
int seam_pool_size(const seam_pool *p);
/* Runs fn(arg, i, n) for i in [0, n) across the pool and returns when all are done.
 * A NULL pool runs fn(arg, 0, 1) inline. */
void seam_pool_run(seam_pool *p, seam_pool_fn fn, void *arg);

/* Splits [0, n) into nth chunks aligned to `align`; the ith gets [*lo, *hi). */
void seam_pool_chunk(int n, int align, int ith, int nth, int *lo, int *hi);

/* Work handed out by claiming rather than in fixed shares: each thread calls
 * seam_pool_claim until it returns 0 and works on [*lo, *hi) in between, so a thread on a
 * slower core (its hyperthread sibling busy, a VM's vCPU sharing a host core) ends up
 * with less of it instead of holding up the rest. One atomic increment per claim. */
typedef struct {
    atomic_int next;
    int n, step;
} seam_pool_queue;

/* [0, n) for nth threads: about 4 claims per thread (enough for the faster ones to even
 * out a slow core, few enough that per-claim setup stays small), each a multiple of align
 * items (the last one shorter). */
void seam_pool_queue_init(seam_pool_queue *q, int n, int nth, int align);
/* The items per claim that seam_pool_queue_init picks for n, nth and align. */
int seam_pool_queue_step(int n, int nth, int align);
int seam_pool_claim(seam_pool_queue *q, int *lo, int *hi);
/* Thread ith's part of [0, n) through fn(arg, lo, hi): every claim from q, or where q is
 * NULL the fixed share seam_pool_chunk gives (aligned to align; skipped when empty). */
void seam_pool_share(seam_pool_queue *q, int n, int align, int ith, int nth, void (*fn)(void *arg, int lo, int hi), void *arg);

/* Physical cores of this machine (falls back to online CPUs). */
int seam_physical_cores(void);

#endif
