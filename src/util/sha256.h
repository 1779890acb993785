/* SHA-256 (FIPS 180-4): streaming init/update/final, one-shot helpers and file hashing.
 * No dependencies beyond libc, so it can be reused outside the hub (shard manifests). */
#ifndef SEAM_SHA256_H
#define SEAM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "seam.h"

#define SEAM_SHA256_SIZE 32     /* digest bytes */
#define SEAM_SHA256_HEX_SIZE 65 /* 64 lowercase hex digits + NUL */

typedef struct {
    uint32_t h[8];
    uint64_t total;      /* bytes hashed so far */
    uint8_t block[64];
    size_t used;         /* bytes waiting in block */
} seam_sha256_ctx;

void seam_sha256_init(seam_sha256_ctx *c);
void seam_sha256_update(seam_sha256_ctx *c, const void *data, size_t len);
/* Writes the digest and leaves c in an undefined state (init again to reuse). */
void seam_sha256_final(seam_sha256_ctx *c, uint8_t out[SEAM_SHA256_SIZE]);

/* One-shot digest of data[0..len). */
void seam_sha256(const void *data, size_t len, uint8_t out[SEAM_SHA256_SIZE]);

/* Lowercase hex of a digest, NUL-terminated. */
void seam_sha256_hex(const uint8_t digest[SEAM_SHA256_SIZE], char out[SEAM_SHA256_HEX_SIZE]);

/* Hashes a whole file; *size (if non-NULL) receives its length in bytes. */
seam_status seam_sha256_file(const char *path, uint8_t out[SEAM_SHA256_SIZE], uint64_t *size,
                             seam_error *err);

#endif
