/* config.json → seam_model_info, honouring or refusing every field that changes the math. */
#ifndef SEAM_CONFIG_H
#define SEAM_CONFIG_H

#include <stddef.h>
#include "seam.h"

typedef enum { ACT_GELU_TANH, ACT_GELU_ERF, ACT_RELU, ACT_GELU_QUICK } seam_activation;

/* A config.json with a "seam_shard" section describes a shard written by `seam split`
 * (src/model/shard.h): its layer range and parts go into info, the rest here. */
typedef struct {
    seam_model_info info;
    seam_activation activation;
    int is_shard;
    char shard_parent[65]; /* parent model's fingerprint, 64 lowercase hex digits */
    char shard_quant[8];   /* "q8", "q4", or "" when the shard keeps the parent's dtypes */
} seam_config;

/* Parses and validates a GPT-2 family config.json held in text[0..len). */
seam_status seam_config_parse(const char *text, size_t len, seam_config *out, seam_error *err);

#endif
