/* libFuzzer target: st_parse on arbitrary bytes; on success every tensor must lie inside
 * the buffer, match its shape and dtype, and not overlap another. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "format/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* An exact-size copy so ASan catches any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    if (size) memcpy(buf, data, size);
    st_file f;
    seam_error err;
    memset(&err, 0, sizeof err);
    seam_status s = st_parse(buf, size, &f, &err);
    if (s == SEAM_OK) {
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < f.n_tensors; i++) {
            const st_tensor *t = &f.tensors[i];
            size_t nb = (size_t)(t->end - t->begin);
            if (t->data < buf || t->data + nb > buf + size) abort();
            if (nb != t->n_elems * st_dtype_size(t->dtype)) abort();
            if (t->n_dims < 0 || t->n_dims > ST_MAX_DIMS) abort();
            if (nb) sink ^= t->data[0] ^ t->data[nb - 1];
            if (st_find(&f, t->name) != t) abort();
            if (i && strcmp(f.tensors[i - 1].name, t->name) >= 0) abort();
            for (size_t j = 0; j < i && i < 64; j++) { /* quadratic: only for small files */
                const st_tensor *u = &f.tensors[j];
                if (u->begin < u->end && t->begin < t->end && u->begin < t->end && t->begin < u->end) abort();
            }
        }
        for (size_t i = 0; i < f.n_meta; i++)
            if (!st_meta(&f, f.meta_keys[i])) abort();
        (void)sink;
        st_close(&f);
    } else {
        if (s != SEAM_ERR_FORMAT && s != SEAM_ERR_NOMEM) abort();
        if (err.code != s || err.message[0] == 0 || memchr(err.message, 0, sizeof err.message) == NULL) abort();
        if (f.tensors || f.n_tensors || f.meta_keys) abort();
    }
    free(buf);
    return 0;
}
