/* libFuzzer target: seam_config_parse on arbitrary bytes; an accepted config must satisfy
 * the invariants the model loader relies on. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    seam_config cfg;
    seam_error err;
    memset(&err, 0, sizeof err);
    seam_status s = seam_config_parse((const char *)data, size, &cfg, &err);
    if (s == SEAM_OK) {
        const seam_model_info *in = &cfg.info;
        if (in->arch != SEAM_ARCH_GPT2) abort();
        if (in->n_embd <= 0 || in->n_head <= 0 || in->n_layer <= 0 || in->n_inner <= 0 || in->vocab_size <= 0 ||
            in->n_positions <= 0)
            abort();
        if (in->n_embd % in->n_head != 0) abort();
        if (!(in->layer_norm_epsilon > 0)) abort();
        if (in->eos_token_id < -1 || in->eos_token_id >= in->vocab_size) abort();
        if (in->bos_token_id < -1 || in->bos_token_id >= in->vocab_size) abort();
        if (in->layer_begin != 0 || in->layer_end != in->n_layer) abort();
    } else {
        if (s != SEAM_ERR_FORMAT && s != SEAM_ERR_UNSUPPORTED && s != SEAM_ERR_NOMEM) abort();
        if (err.code != s || err.message[0] == 0) abort();
    }
    return 0;
}
