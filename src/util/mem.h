/* Zeroed, 64-byte aligned buffers for the forward passes' contexts (KV cache, scratch). */
#ifndef SEAM_MEM_H
#define SEAM_MEM_H

#include <stddef.h>

/* n floats (rounded up to whole 64-byte lines, so 512-bit loads of a row stay aligned),
 * all 0.0f, or NULL when out of memory. The memory comes from calloc: large blocks are fresh
 * pages the kernel hands out zeroed, so creating a context writes nothing (aligned_alloc +
 * memset took 0.2-0.3 s for a GPT-2-small context of 1024 positions on a 2-core VM, paging
 * in its whole KV cache); on Linux, blocks of 4 MiB and more ask for huge pages, which make
 * the first touch cheap too (mem.c). Free it with seam_free_floats. */
float *seam_alloc_floats(size_t n);
void seam_free_floats(float *p);

#endif
