/* safetensors reader: an 8-byte little-endian header length N, N bytes of JSON
 * {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the
 * data buffer. Files are memory-mapped; tensors point into the mapping. Every field is
 * validated before any tensor is exposed. */
#ifndef SEAM_SAFETENSORS_H
#define SEAM_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include "seam.h"

typedef enum {
    ST_BOOL, ST_U8, ST_I8, ST_I16, ST_U16, ST_F16, ST_BF16, ST_I32, ST_U32, ST_F32,
    ST_I64, ST_U64, ST_F64, ST_F8_E4M3, ST_F8_E5M2, ST_DTYPE_COUNT
} st_dtype;

#define ST_MAX_DIMS 8
#define ST_MAX_HEADER (100u << 20) /* same bound as the reference implementation */

typedef struct {
    char *name;
    st_dtype dtype;
    int n_dims;
    int64_t shape[ST_MAX_DIMS];
    uint64_t n_elems;
    uint64_t begin, end; /* byte offsets within the data buffer */
    const uint8_t *data; /* points into the mapping (or the caller's buffer) */
} st_tensor;

typedef struct {
    char *path;
    void *map;        /* mmap of the whole file, NULL when parsed from memory */
    size_t map_len;
    st_tensor *tensors; /* sorted by name */
    size_t n_tensors;
    char **meta_keys, **meta_values; /* __metadata__ */
    size_t n_meta;
} st_file;

const char *st_dtype_name(st_dtype d);
size_t st_dtype_size(st_dtype d); /* bytes per element */

/* Validates and indexes a safetensors image held in buf[0..len). Tensors point into buf,
 * which must outlive the st_file. */
seam_status st_parse(const uint8_t *buf, size_t len, st_file *out, seam_error *err);
/* Maps path read-only and parses it. */
seam_status st_open(const char *path, st_file *out, seam_error *err);
void st_close(st_file *f);

const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta(const st_file *f, const char *key);

#endif
