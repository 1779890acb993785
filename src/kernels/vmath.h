/* Vector exp and the GELU forms built on it, for the AVX2, AVX-512 and WebAssembly kernel files.
 * exp: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 polynomial (relative error
 * about 2e-7 over the float range), times 2^n. GELU(tanh form) uses tanh(u) =
 * 1 - 2 / (e^{2u} + 1), which saturates cleanly at ±1. GELU(erf form) uses the
 * Abramowitz-Stegun 7.1.26 erfc, |error| <= 1.5e-7, on |x|/sqrt2, and evaluates
 * 1 + erf(x/sqrt2) as erfc(|x|/sqrt2) for x < 0 so the tail suffers no cancellation. */
#ifndef SEAM_VMATH_H
#define SEAM_VMATH_H

#define VM_LOG2E 1.44269504088896341f
#define VM_LN2_HI 0.693359375f
#define VM_LN2_LO -2.12194440e-4f
#define VM_P0 1.9875691500e-4f
#define VM_P1 1.3981999507e-3f
#define VM_P2 8.3334519073e-3f
#define VM_P3 4.1665795894e-2f
#define VM_P4 1.6666665459e-1f
#define VM_P5 5.0000001201e-1f
#define AS_P 0.3275911f
#define AS_A1 0.254829592f
#define AS_A2 -0.284496736f
#define AS_A3 1.421413741f
#define AS_A4 -1.453152027f
#define AS_A5 1.061405429f

#endif
