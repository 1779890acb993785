#include "model/config.h"

#include <math.h>
#include <string.h>

#include "util/error.h"
#include "util/json.h"

/* Limits that no real GPT-2 family model comes near; they keep allocation sizes sane. */
#define MAX_EMBD 65536
#define MAX_LAYER 1024
#define MAX_HEAD 1024
#define MAX_VOCAB 10000000
#define MAX_POSITIONS 1048576
#define MAX_INNER 1048576

static seam_status get_dim(const json_value *root, const char *key, const char *alt, int64_t lo, int64_t hi,
                           int required, int64_t dflt, int *out, seam_error *err) {
    const json_value *v = json_get(root, key);
    if (!v && alt) v = json_get(root, alt);
    if (!v || v->type == JSON_NULL) {
        if (required) return seam_fail(err, SEAM_ERR_FORMAT, "config.json: missing '%s'", key);
        *out = (int)dflt;
        return SEAM_OK;
    }
    if (v->type != JSON_NUMBER || !v->is_int)
        return seam_fail(err, SEAM_ERR_FORMAT, "config.json: '%s' must be an integer", key);
    if (v->integer < lo || v->integer > hi)
        return seam_fail(err, SEAM_ERR_FORMAT, "config.json: '%s' = %lld is outside [%lld, %lld]", key,
                         (long long)v->integer, (long long)lo, (long long)hi);
    *out = (int)v->integer;
    return SEAM_OK;
}

static seam_status get_flag(const json_value *root, const char *key, int dflt, int *out, seam_error *err) {
    const json_value *v = json_get(root, key);
    if (!v || v->type == JSON_NULL) { *out = dflt; return SEAM_OK; }
    if (v->type != JSON_BOOL) return seam_fail(err, SEAM_ERR_FORMAT, "config.json: '%s' must be true or false", key);
    *out = v->boolean;
    return SEAM_OK;
}

/* eos/bos may be an integer, null or (in newer configs) a list; the first entry is used. */
static seam_status get_token_id(const json_value *root, const char *key, int vocab, int *out, seam_error *err) {
    const json_value *v = json_get(root, key);
    *out = -1;
    if (v && v->type == JSON_ARRAY && v->len > 0) v = &v->items[0];
    if (!v || v->type == JSON_NULL || (v->type == JSON_ARRAY && v->len == 0)) return SEAM_OK;
    if (v->type != JSON_NUMBER || !v->is_int || v->integer < 0)
        return seam_fail(err, SEAM_ERR_FORMAT, "config.json: '%s' must be a non-negative token id", key);
    /* transformers accepts ids past the vocabulary (such a token is simply never produced),
     * so they load here too and are treated as absent. */
    *out = v->integer < vocab ? (int)v->integer : -1;
    return SEAM_OK;
}

/* "seam_shard": {"format": 1, "layer_begin": A, "layer_end": B, "has_embed": bool,
 * "has_head": bool, "parent_fingerprint": "64 hex", "quant": null | "q8" | "q4"}, written by
 * `seam split`. Embeddings only make sense in front of layer 0 and the head only after the
 * last layer, so a shard that holds them elsewhere is refused rather than loaded unusable. */
static seam_status parse_shard(const json_value *sh, seam_config *cfg, seam_error *err) {
    seam_model_info *in = &cfg->info;
    if (sh->type != JSON_OBJECT) return seam_fail(err, SEAM_ERR_FORMAT, "config.json: 'seam_shard' must be an object");
    int64_t fmt = 0;
    if (!json_get_int(sh, "format", &fmt) || fmt != 1)
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "config.json: seam_shard.format must be 1 (written by an unknown seam version?)");
    seam_status s;
    if ((s = get_dim(sh, "layer_begin", NULL, 0, in->n_layer, 1, 0, &in->layer_begin, err)) ||
        (s = get_dim(sh, "layer_end", NULL, 0, in->n_layer, 1, 0, &in->layer_end, err))) {
        if (err) seam_fail_wrap(err, "seam_shard");
        return s;
    }
    if (in->layer_begin > in->layer_end)
        return seam_fail(err, SEAM_ERR_FORMAT, "config.json: seam_shard layer range [%d, %d) is reversed", in->layer_begin,
                         in->layer_end);
    if (!json_get_bool(sh, "has_embed", &in->has_embed) || !json_get_bool(sh, "has_head", &in->has_head))
        return seam_fail(err, SEAM_ERR_FORMAT, "config.json: seam_shard.has_embed and has_head must be true or false");
    if (in->has_embed && in->layer_begin != 0)
        return seam_fail(err, SEAM_ERR_FORMAT, "config.json: seam_shard holds the embeddings but starts at layer %d, not 0",
                         in->layer_begin);
    if (in->has_head && in->layer_end != in->n_layer)
        return seam_fail(err, SEAM_ERR_FORMAT, "config.json: seam_shard holds the head but ends at layer %d, not %d",
                         in->layer_end, in->n_layer);
    if (in->layer_begin == in->layer_end && !in->has_embed && !in->has_head)
        return seam_fail(err, SEAM_ERR_FORMAT, "config.json: seam_shard holds no layers, embeddings or head");
    const char *fp = json_get_string(sh, "parent_fingerprint");
    size_t n = fp ? strlen(fp) : 0;
    int hex = n == 64;
    for (size_t i = 0; hex && i < n; i++) hex = (fp[i] >= '0' && fp[i] <= '9') || (fp[i] >= 'a' && fp[i] <= 'f');
    if (!hex)
        return seam_fail(err, SEAM_ERR_FORMAT, "config.json: seam_shard.parent_fingerprint must be 64 lowercase hex digits");
    memcpy(cfg->shard_parent, fp, 65);
    const json_value *q = json_get(sh, "quant");
    if (q && q->type != JSON_NULL) {
        const char *qs = q->type == JSON_STRING ? q->str : "";
        if (strcmp(qs, "q8") != 0 && strcmp(qs, "q4") != 0)
            return seam_fail(err, SEAM_ERR_FORMAT, "config.json: seam_shard.quant must be null, \"q8\" or \"q4\"");
        memcpy(cfg->shard_quant, qs, 3);
    }
    cfg->is_shard = 1;
    return SEAM_OK;
}

seam_status seam_config_parse(const char *text, size_t len, seam_config *cfg, seam_error *err) {
    memset(cfg, 0, sizeof *cfg);
    char jerr[256];
    json_value *root = json_parse(text, len, jerr, sizeof jerr);
    if (!root) return seam_fail(err, SEAM_ERR_FORMAT, "config.json: %s", jerr);
    seam_status s = SEAM_OK;
    seam_model_info *in = &cfg->info;
    if (root->type != JSON_OBJECT) { s = seam_fail(err, SEAM_ERR_FORMAT, "config.json: not a JSON object"); goto out; }

    const char *mt = json_get_string(root, "model_type");
    if (!mt) { s = seam_fail(err, SEAM_ERR_FORMAT, "config.json: missing 'model_type'"); goto out; }
    if (strcmp(mt, "gpt2") != 0) {
        s = seam_fail(err, SEAM_ERR_UNSUPPORTED, "config.json: model_type '%s' is not supported (supported: gpt2)", mt);
        goto out;
    }
    in->arch = SEAM_ARCH_GPT2;
    if ((s = get_dim(root, "n_embd", "hidden_size", 1, MAX_EMBD, 1, 0, &in->n_embd, err)) ||
        (s = get_dim(root, "n_layer", "num_hidden_layers", 1, MAX_LAYER, 1, 0, &in->n_layer, err)) ||
        (s = get_dim(root, "n_head", "num_attention_heads", 1, MAX_HEAD, 1, 0, &in->n_head, err)) ||
        (s = get_dim(root, "vocab_size", NULL, 1, MAX_VOCAB, 1, 0, &in->vocab_size, err)) ||
        (s = get_dim(root, "n_positions", "max_position_embeddings", 1, MAX_POSITIONS, 1, 0, &in->n_positions, err)) ||
        (s = get_dim(root, "n_inner", NULL, 1, MAX_INNER, 0, 0, &in->n_inner, err)))
        goto out;
    if (in->n_inner == 0) in->n_inner = 4 * in->n_embd;
    if (in->n_embd % in->n_head != 0) {
        s = seam_fail(err, SEAM_ERR_FORMAT, "config.json: n_embd %d is not divisible by n_head %d", in->n_embd, in->n_head);
        goto out;
    }

    double eps = 1e-5;
    const json_value *ev = json_get(root, "layer_norm_epsilon");
    if (ev && ev->type != JSON_NULL) {
        if (ev->type != JSON_NUMBER || !(ev->number >= 1e-30) || ev->number > 1) {
            /* the bound keeps it non-zero once stored as a float */
            s = seam_fail(err, SEAM_ERR_FORMAT, "config.json: layer_norm_epsilon must be a number in [1e-30, 1]");
            goto out;
        }
        eps = ev->number;
    }
    in->layer_norm_epsilon = (float)eps;

    const char *act = json_get_string(root, "activation_function");
    if (!act) act = "gelu_new";
    if (!strcmp(act, "gelu_new") || !strcmp(act, "gelu_pytorch_tanh") || !strcmp(act, "gelu_fast"))
        cfg->activation = ACT_GELU_TANH;
    else if (!strcmp(act, "gelu")) cfg->activation = ACT_GELU_ERF;
    else if (!strcmp(act, "relu")) cfg->activation = ACT_RELU;
    else if (!strcmp(act, "quick_gelu")) cfg->activation = ACT_GELU_QUICK;
    else {
        s = seam_fail(err, SEAM_ERR_UNSUPPORTED,
                      "config.json: activation_function '%s' is not supported (gelu_new, gelu_pytorch_tanh, gelu_fast, gelu, quick_gelu, relu)",
                      act);
        goto out;
    }

    int reorder = 0, cross = 0;
    if ((s = get_flag(root, "scale_attn_weights", 1, &in->scale_attn_weights, err)) ||
        (s = get_flag(root, "scale_attn_by_inverse_layer_idx", 0, &in->scale_attn_by_inverse_layer_idx, err)) ||
        /* reorder_and_upcast_attn only changes the precision of the score computation in
         * half-precision runs; seam always accumulates in f32, which is what it asks for. */
        (s = get_flag(root, "reorder_and_upcast_attn", 0, &reorder, err)) ||
        (s = get_flag(root, "add_cross_attention", 0, &cross, err)))
        goto out;
    if (cross) { s = seam_fail(err, SEAM_ERR_UNSUPPORTED, "config.json: add_cross_attention is not supported"); goto out; }
    int tie = 1;
    if ((s = get_flag(root, "tie_word_embeddings", 1, &tie, err))) goto out;
    (void)tie; /* an lm_head tensor, when present, is used; otherwise wte is */

    if ((s = get_token_id(root, "eos_token_id", in->vocab_size, &in->eos_token_id, err)) ||
        (s = get_token_id(root, "bos_token_id", in->vocab_size, &in->bos_token_id, err)))
        goto out;

    in->layer_begin = 0;
    in->layer_end = in->n_layer;
    in->has_embed = 1;
    in->has_head = 1;
    const json_value *sh = json_get(root, "seam_shard");
    if (sh && sh->type != JSON_NULL) s = parse_shard(sh, cfg, err);
out:
    json_free(root);
    return s;
}
