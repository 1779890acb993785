/* util/mem.h: the contexts' zeroed, aligned buffers. */
#include <stdint.h>

#include "test.h"
#include "util/mem.h"

TEST(test_alloc_floats_are_aligned_and_zero) {
    /* 1: small, from the heap; 3 << 20 floats: 12 MiB, a fresh mapping with huge pages asked */
    const size_t sizes[] = {0, 1, 17, 1000, (size_t)3 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        float *p = seam_alloc_floats(sizes[i]);
        CHECKF(p != NULL, "%zu floats", sizes[i]);
        CHECKF(((uintptr_t)p & 63) == 0, "%zu floats at %p", sizes[i], (void *)p);
        for (size_t k = 0; k < sizes[i]; k += 1 + k / 8) CHECKF(p[k] == 0.0f, "%zu floats: [%zu] = %g", sizes[i], k, p[k]);
        if (sizes[i]) p[sizes[i] - 1] = 1.0f; /* the whole size is writable (sanitizers check it) */
        seam_free_floats(p);
    }
    CHECK(seam_alloc_floats(SIZE_MAX / 2) == NULL);
    seam_free_floats(NULL);
}
