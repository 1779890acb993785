#include "util/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

/* Busy-wait this many rounds before yielding the CPU, and yield this many times before
 * sleeping: short enough that an oversubscribed machine (more runnable threads than cores)
 * still makes progress, long enough that back-to-back dispatches never sleep. */
#define SPIN_ROUNDS 2000
#define YIELD_ROUNDS 2000

struct seam_pool {
    int n;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint generation;
    atomic_int pending;
    atomic_int sleepers;
    atomic_int quit;
    seam_pool_fn fn;
    void *arg;
};

typedef struct {
    seam_pool *p;
    int ith;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *raw) {
    worker_arg wa = *(worker_arg *)raw;
    free(raw);
    seam_pool *p = wa.p;
    /* Generation 0 is the pool's start: a run dispatched before this thread got scheduled
     * has already moved past it and must still be picked up. */
    unsigned seen = 0;
    for (;;) {
        unsigned g = seen;
        for (int i = 0; i < SPIN_ROUNDS + YIELD_ROUNDS; i++) {
            g = atomic_load(&p->generation);
            if (g != seen || atomic_load(&p->quit)) break;
            if (i < SPIN_ROUNDS) cpu_relax();
            else sched_yield();
        }
        if (g == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = g;
        p->fn(p->arg, wa.ith, p->n);
        atomic_fetch_sub(&p->pending, 1);
    }
}

seam_status seam_pool_new(int n, seam_pool **out, seam_error *err) {
    *out = NULL;
    if (n < 1 || n > 1024) return seam_fail(err, SEAM_ERR_ARG, "thread count %d is outside [1, 1024]", n);
    seam_pool *p = calloc(1, sizeof *p);
    if (!p) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    p->n = n;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->threads = calloc((size_t)n, sizeof *p->threads);
    if (!p->threads) { seam_pool_free(p); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    /* Kernels keep their blocks of packed operands on the stack (up to 256 KiB: the AMX
     * GEMM's split x), so workers get at least 1 MiB whatever the default is (glibc takes
     * it from RLIMIT_STACK, which a small `ulimit -s` shrinks). */
    const size_t min_stack = (size_t)1 << 20;
    pthread_attr_t attr;
    size_t stack = 0;
    int have_attr = pthread_attr_init(&attr) == 0;
    if (have_attr && pthread_attr_getstacksize(&attr, &stack) == 0 && stack < min_stack)
        pthread_attr_setstacksize(&attr, min_stack);
    for (int i = 1; i < n; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (wa) {
            wa->p = p;
            wa->ith = i;
        }
        int started = wa && pthread_create(&p->threads[i], have_attr ? &attr : NULL, worker_main, wa) == 0;
        if (!started) {
            int no_memory = !wa;
            free(wa);
            p->n = i;
            if (have_attr) pthread_attr_destroy(&attr);
            seam_pool_free(p);
            return no_memory ? seam_fail(err, SEAM_ERR_NOMEM, "out of memory")
                             : seam_fail(err, SEAM_ERR_NOMEM, "cannot start worker thread %d", i);
        }
    }
    if (have_attr) pthread_attr_destroy(&attr);
    *out = p;
    return SEAM_OK;
}

void seam_pool_free(seam_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++)
        if (p->threads && p->threads[i]) pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p->threads);
    free(p);
}

int seam_pool_size(const seam_pool *p) { return p ? p->n : 1; }

void seam_pool_run(seam_pool *p, seam_pool_fn fn, void *arg) {
    if (!p || p->n == 1) { fn(arg, 0, 1); return; }
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->pending, p->n - 1);
    atomic_fetch_add(&p->generation, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    fn(arg, 0, p->n);
    for (int i = 0; atomic_load(&p->pending) > 0; i++) {
        if (i < SPIN_ROUNDS) cpu_relax();
        else sched_yield();
    }
}

void seam_pool_chunk(int n, int align, int ith, int nth, int *lo, int *hi) {
    int blocks = (n + align - 1) / align;
    int per = blocks / nth, extra = blocks % nth;
    int b0 = ith * per + (ith < extra ? ith : extra);
    int b1 = b0 + per + (ith < extra);
    *lo = b0 * align < n ? b0 * align : n;
    *hi = b1 * align < n ? b1 * align : n;
}

int seam_pool_queue_step(int n, int nth, int align) {
    int parts = 4 * (nth > 1 ? nth : 1), a = align > 1 ? align : 1, step = (n + parts - 1) / parts;
    return step < a ? a : (step + a - 1) / a * a;
}

void seam_pool_queue_init(seam_pool_queue *q, int n, int nth, int align) {
    atomic_init(&q->next, 0);
    q->n = n;
    q->step = seam_pool_queue_step(n, nth, align);
}

int seam_pool_claim(seam_pool_queue *q, int *lo, int *hi) {
    int c = atomic_fetch_add(&q->next, 1);
    if (c >= (q->n + q->step - 1) / q->step) return 0;
    *lo = c * q->step;
    *hi = q->n - *lo < q->step ? q->n : *lo + q->step;
    return 1;
}

void seam_pool_share(seam_pool_queue *q, int n, int align, int ith, int nth, void (*fn)(void *arg, int lo, int hi), void *arg) {
    int lo, hi;
    if (q) {
        while (seam_pool_claim(q, &lo, &hi)) fn(arg, lo, hi);
        return;
    }
    seam_pool_chunk(n, align, ith, nth, &lo, &hi);
    if (lo < hi) fn(arg, lo, hi);
}

int seam_physical_cores(void) {
    /* Count distinct (physical id, core id) pairs; hyperthreads share a core and only
     * slow each other down on bandwidth-bound kernels. */
    FILE *f = fopen("/proc/cpuinfo", "r");
    int pairs[4096][2], n = 0, phys = 0;
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            int v;
            if (sscanf(line, "physical id : %d", &v) == 1) phys = v;
            else if (sscanf(line, "core id : %d", &v) == 1) {
                int known = 0;
                for (int i = 0; i < n && !known; i++) known = pairs[i][0] == phys && pairs[i][1] == v;
                if (!known && n < 4096) { pairs[n][0] = phys; pairs[n][1] = v; n++; }
            }
        }
        fclose(f);
    }
    if (n > 0) return n;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (int)c : 1;
}
