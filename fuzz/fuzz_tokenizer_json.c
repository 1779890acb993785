/* libFuzzer target: the bytes as tokenizer.json in a private folder, opened with
 * seam_tokenizer_open; a tokenizer that opens must encode and decode without faults. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tok_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const names[] = {"tokenizer.json", NULL};
    const char *dir = fz_folder(names);
    fz_write("tokenizer.json", data, size);
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
