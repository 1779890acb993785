/* Layer shards: `seam split` writes a loadable model folder that holds only blocks
 * [layer_begin, layer_end) (plus the embeddings and/or the final norm and head), a config
 * whose "seam_shard" section records that range and the parent model's fingerprint, and a
 * manifest.json with every file's size and sha256. The public calls are declared in
 * include/seam_net.h (section "Shards"); this file holds what the rest of src/ shares.
 *
 * Folder layout of a shard:
 *   config.json        the parent's config.json plus "seam_shard": {format: 1, layer_begin,
 *                      layer_end, has_embed, has_head, parent_fingerprint, quant}
 *   model.safetensors  the selected tensors under their parent names, data in a fixed order
 *                      (8-byte element types first, then 4, 2, 1) so every tensor is aligned
 *                      to its element size; the parent's __metadata__ is kept
 *   tokenizer files    copied from the parent when the shard has the embeddings or the head
 *   manifest.json      written last: a folder without it is not a shard (half-written)
 *
 * Writing is deterministic: the same parent and range give byte-identical files, so their
 * sha256 serves as an HTTP ETag and as a cache key. */
#ifndef SEAM_SHARD_H
#define SEAM_SHARD_H

#include <stdint.h>

#include "seam.h"
#include "seam_net.h"

#define SEAM_SHARD_MANIFEST "manifest.json"
#define SEAM_SHARD_MAX_FILES 32

typedef struct {
    char name[128];
    uint64_t size;
    char sha256[65];
} seam_shard_file;

/* A parsed manifest.json. */
typedef struct {
    seam_shard_range range;
    int n_layer;
    char parent_fingerprint[65];
    char quant[8];
    seam_shard_file files[SEAM_SHARD_MAX_FILES];
    int n_files;
} seam_shard_manifest;

/* Parses manifest text (from a file or a server), validating every field: plain file names
 * only, sizes, 64-hex digests, a consistent range. */
seam_status seam_shard_manifest_parse(const char *text, size_t len, seam_shard_manifest *out, seam_error *err);
seam_status seam_shard_manifest_read(const char *dir, seam_shard_manifest *out, seam_error *err);

/* 1 if name is a plain file name a manifest may list ([A-Za-z0-9._-], not starting with '.'). */
int seam_shard_plain_name(const char *name);

/* Removes a folder holding only plain files (a shard folder, an abandoned build). */
void seam_remove_flat_dir(const char *dir);

/* mkdir -p */
seam_status seam_mkdirs(const char *path, seam_error *err);

#endif
