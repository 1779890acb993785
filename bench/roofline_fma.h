/* FMA throughput kernels for bench/roofline.c. Each ISA lives in its own file compiled with
 * that ISA's -m flags (see bench/run.sh), so the rest of the program stays baseline x86-64
 * and the right kernel is picked from cpuid at run time. */
#ifndef ROOFLINE_FMA_H
#define ROOFLINE_FMA_H

#include <stdint.h>

/* Runs `iters` rounds of independent FMA chains and returns a value derived from every
 * accumulator (so the compiler cannot drop any chain). FLOPs done: iters * roofline_fma_*_flops_per_iter. */
float roofline_fma_avx2(int64_t iters);
float roofline_fma_avx512(int64_t iters);

/* 12 chains of 8 lanes, 2 FLOPs per lane: 12 accumulators + 2 operands fit the 16 ymm
 * registers without spills and cover latency 4 x 2 pipes (8 in flight) with room to spare. */
#define ROOFLINE_AVX2_CHAINS 12
#define ROOFLINE_AVX2_FLOPS_PER_ITER (ROOFLINE_AVX2_CHAINS * 8 * 2)
/* 24 chains of 16 lanes: 32 zmm registers leave room for more chains than any current core
 * needs in flight. */
#define ROOFLINE_AVX512_CHAINS 24
#define ROOFLINE_AVX512_FLOPS_PER_ITER (ROOFLINE_AVX512_CHAINS * 16 * 2)

#endif
