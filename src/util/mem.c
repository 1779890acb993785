#include "util/mem.h"

#include <stdint.h>
#include <stdlib.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

/* Buffers from this size up ask for transparent huge pages. */
#define HUGE_FROM ((size_t)4 << 20)
#define HUGE_PAGE ((uintptr_t)2 << 20)

float *seam_alloc_floats(size_t n) {
    if (n > (SIZE_MAX - 256) / sizeof(float)) return NULL; /* bytes below, padded, must fit */
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    /* room to align up, and to keep calloc's pointer just below the aligned one */
    unsigned char *raw = calloc(1, bytes + 64 + sizeof(void *));
    if (!raw) return NULL;
    uintptr_t at = ((uintptr_t)(raw + sizeof(void *)) + 63) & ~(uintptr_t)63;
    ((void **)at)[-1] = raw;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* The transposed K and V caches put every position of a channel in one row n_ctx long,
     * so even a short prompt writes to every 4 KiB page of them: GPT-2-small's 1024-position
     * context took about 18,000 page faults in its first prefill, which made the time to
     * first token of a 128-id prompt 0.42 s instead of the prefill's 0.22 s on a 2-core VM;
     * with 2 MiB pages, 0.24 s. Kernels whose THP setting is "madvise" (a common default)
     * need the advice; it changes nothing else, and a failure leaves 4 KiB pages. */
    if (bytes >= HUGE_FROM) {
        uintptr_t lo = (at + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1), hi = (at + bytes) & ~(HUGE_PAGE - 1);
        if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#endif
    return (float *)at;
}

void seam_free_floats(float *p) {
    if (p) free(((void **)p)[-1]);
}
