/* libFuzzer target: the bytes split at the first NUL into vocab.json and merges.txt in a
 * private folder (no NUL: all vocab.json, empty merges.txt), opened with
 * seam_tokenizer_open; a tokenizer that opens must encode and decode without faults. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tok_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const names[] = {"vocab.json", "merges.txt", NULL};
    const char *dir = fz_folder(names);
    const uint8_t *nul = size ? memchr(data, 0, size) : NULL;
    size_t vlen = nul ? (size_t)(nul - data) : size;
    fz_write("vocab.json", data, vlen);
    fz_write("merges.txt", nul ? nul + 1 : data, nul ? size - vlen - 1 : 0);
    seam_tokenizer *t = NULL;
    seam_error err;
    memset(&err, 0, sizeof err);
    seam_status s = seam_tokenizer_open(dir, &t, &err);
    if (s == SEAM_OK) {
        if (!t) abort();
        fz_exercise(t, data, size);
        seam_tokenizer_close(t);
    } else {
        if (err.code != s || err.message[0] == 0) abort();
    }
    return 0;
}
