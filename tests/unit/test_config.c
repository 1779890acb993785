/* seam_config_parse: the fixture configs, and each way a config can be wrong. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/config.h"
#include "test.h"
#include "util/error.h"

/* A small valid GPT-2 config as (key, JSON value) pairs. */
static const char *const base_fields[][2] = {
    {"model_type", "\"gpt2\""},
    {"n_embd", "64"},
    {"n_layer", "2"},
    {"n_head", "4"},
    {"n_inner", "null"},
    {"n_positions", "128"},
    {"vocab_size", "1000"},
    {"layer_norm_epsilon", "1e-05"},
    {"activation_function", "\"gelu_new\""},
    {"add_cross_attention", "false"},
    {"scale_attn_weights", "true"},
    {"eos_token_id", "999"},
    {"bos_token_id", "999"},
};
#define N_BASE (sizeof base_fields / sizeof base_fields[0])

/* Builds a config from base_fields with changes: "key=value" replaces (or adds) a field,
 * "-key" removes it. The list ends with NULL. Returns a malloc'd string. */
static char *make_config(const char *const *changes) {
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    if (!s) return NULL;
    n += (size_t)snprintf(s + n, cap - n, "{");
    int first = 1;
    for (size_t i = 0; i < N_BASE; i++) {
        const char *key = base_fields[i][0], *val = base_fields[i][1];
        size_t kl = strlen(key);
        for (const char *const *c = changes; c && *c; c++) {
            if ((*c)[0] == '-' && strcmp(*c + 1, key) == 0) val = NULL;
            else if (strncmp(*c, key, kl) == 0 && (*c)[kl] == '=') val = *c + kl + 1;
        }
        if (!val) continue;
        n += (size_t)snprintf(s + n, cap - n, "%s\n  \"%s\": %s", first ? "" : ",", key, val);
        first = 0;
    }
    /* Additions: keys not in base_fields. */
    for (const char *const *c = changes; c && *c; c++) {
        if ((*c)[0] == '-') continue;
        const char *eq = strchr(*c, '=');
        if (!eq) continue;
        int known = 0;
        for (size_t i = 0; i < N_BASE; i++)
            if (strlen(base_fields[i][0]) == (size_t)(eq - *c) && strncmp(*c, base_fields[i][0], (size_t)(eq - *c)) == 0)
                known = 1;
        if (known) continue;
        n += (size_t)snprintf(s + n, cap - n, "%s\n  \"%.*s\": %s", first ? "" : ",", (int)(eq - *c), *c, eq + 1);
        first = 0;
    }
    snprintf(s + n, cap - n, "\n}\n");
    return s;
}

/* Parses the base config with the given changes and checks the status and that the
 * message mentions every '|'-separated word of want. */
static int expect_config(seam_status want_status, const char *want, int line, const char *const *changes) {
    char *text = make_config(changes);
    if (!text) return test_fail(__FILE__, line, "out of memory");
    seam_config cfg;
    seam_error err;
    memset(&err, 0, sizeof err);
    seam_status s = seam_config_parse(text, strlen(text), &cfg, &err);
    int ok = 1;
    if (s != want_status) {
        ok = test_fail(__FILE__, line, "status %d (%s), want %d (%s); message: %s\nconfig: %s", (int)s,
                       seam_status_name(s), (int)want_status, seam_status_name(want_status), err.message, text);
    } else if (s != SEAM_OK) {
        if (err.code != s) ok = test_fail(__FILE__, line, "err.code %d, returned %d", (int)err.code, (int)s);
        char words[256];
        snprintf(words, sizeof words, "%s", want ? want : "");
        for (char *w = strtok(words, "|"); ok && w; w = strtok(NULL, "|"))
            if (!strstr(err.message, w))
                ok = test_fail(__FILE__, line, "message \"%s\" does not mention \"%s\"", err.message, w);
    }
    free(text);
    return ok;
}
#define EXPECT_CONFIG(status, want, ...) \
    CHECK(expect_config((status), (want), __LINE__, (const char *const[]){__VA_ARGS__, NULL}))

static seam_status parse_text(const char *text, seam_config *cfg, seam_error *err) {
    memset(err, 0, sizeof *err);
    return seam_config_parse(text, strlen(text), cfg, err);
}

static seam_status parse_file(const char *path, seam_config *cfg, seam_error *err) {
    char *text = NULL;
    size_t len = 0;
    seam_status s = seam_read_file(path, 1 << 20, &text, &len, err);
    if (s != SEAM_OK) return s;
    s = seam_config_parse(text, len, cfg, err);
    free(text);
    return s;
}

TEST(test_config_fixture_gpt2_tiny) {
    seam_config cfg;
    seam_error err = {0};
    seam_status s = parse_file(fixture("gpt2-tiny/config.json"), &cfg, &err);
    CHECKF(s == SEAM_OK, "%s", err.message);
    const seam_model_info *in = &cfg.info;
    CHECK(in->arch == SEAM_ARCH_GPT2);
    CHECK(in->n_layer == 4 && in->n_embd == 64 && in->n_head == 4);
    CHECK(in->n_inner == 256); /* null → 4 * n_embd */
    CHECK(in->n_positions == 128 && in->vocab_size == 50257);
    CHECK(in->layer_norm_epsilon > 0.99e-5f && in->layer_norm_epsilon < 1.01e-5f);
    CHECK(in->scale_attn_weights == 1 && in->scale_attn_by_inverse_layer_idx == 0);
    CHECK(in->eos_token_id == 50256 && in->bos_token_id == 50256);
    CHECK(in->layer_begin == 0 && in->layer_end == 4 && in->has_embed && in->has_head);
    CHECK(cfg.activation == ACT_GELU_TANH);
}

TEST(test_config_fixture_gpt2_wide_f16) {
    seam_config cfg;
    seam_error err = {0};
    seam_status s = parse_file(fixture("gpt2-wide-f16/config.json"), &cfg, &err);
    CHECKF(s == SEAM_OK, "%s", err.message);
    const seam_model_info *in = &cfg.info;
    CHECK(in->arch == SEAM_ARCH_GPT2);
    CHECK(in->n_layer == 2 && in->n_embd == 512 && in->n_head == 8);
    CHECK(in->n_inner == 2048);
    CHECK(in->n_positions == 128 && in->vocab_size == 1024);
    CHECK(in->layer_begin == 0 && in->layer_end == 2);
    CHECK(cfg.activation == ACT_GELU_TANH);
    /* This config (as saved by transformers) names eos/bos 50256, outside its 1024-token
     * vocabulary: no out-of-vocabulary id may come out of the parser. */
    CHECKF(in->eos_token_id < in->vocab_size && in->bos_token_id < in->vocab_size, "eos %d bos %d",
           in->eos_token_id, in->bos_token_id);
}

TEST(test_config_base_is_valid) {
    EXPECT_CONFIG(SEAM_OK, NULL, "n_inner=null");
    seam_config cfg;
    seam_error err;
    char *text = make_config(NULL);
    CHECK(text != NULL);
    seam_status s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF(s == SEAM_OK, "%s", err.message);
    CHECK(cfg.info.n_inner == 256 && cfg.info.eos_token_id == 999);
}

TEST(test_config_n_inner) {
    seam_config cfg;
    seam_error err;
    char *text = make_config((const char *const[]){"n_inner=100", NULL});
    CHECK(text != NULL);
    seam_status s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF(s == SEAM_OK && cfg.info.n_inner == 100, "explicit n_inner: %s", err.message);
    text = make_config((const char *const[]){"-n_inner", NULL});
    CHECK(text != NULL);
    s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF(s == SEAM_OK && cfg.info.n_inner == 256, "absent n_inner: %s", err.message);
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_inner", "n_inner=0");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_inner", "n_inner=-4");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_inner", "n_inner=\"256\"");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_inner", "n_inner=1000000000000");
}

TEST(test_config_invalid_json) {
    seam_config cfg;
    seam_error err;
    static const char *bad[] = {"", "{", "{\"model_type\": \"gpt2\",}", "{\"model_type\": gpt2}", "not json",
                                "{\"n_embd\": 64} trailing", "{\"model_type\": \"gpt2\xff\"}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        seam_status s = parse_text(bad[i], &cfg, &err);
        CHECKF(s == SEAM_ERR_FORMAT, "\"%s\": status %d", bad[i], (int)s);
        CHECKF(strstr(err.message, "config.json") && strstr(err.message, "invalid JSON"), "\"%s\": message %s", bad[i],
               err.message);
    }
    /* Valid JSON but not an object. */
    static const char *not_obj[] = {"[]", "null", "\"gpt2\"", "42"};
    for (size_t i = 0; i < sizeof not_obj / sizeof not_obj[0]; i++) {
        seam_status s = parse_text(not_obj[i], &cfg, &err);
        CHECKF(s == SEAM_ERR_FORMAT && strstr(err.message, "object"), "\"%s\": status %d, message %s", not_obj[i],
               (int)s, err.message);
    }
    /* A config nested deeper than the JSON limit is refused, not a crash. */
    size_t depth = 100000;
    char *deep = malloc(depth + 32);
    CHECK(deep != NULL);
    int n = snprintf(deep, 32, "{\"model_type\":\"gpt2\",\"x\":");
    memset(deep + n, '[', depth - (size_t)n);
    seam_status s = seam_config_parse(deep, depth, &cfg, &err);
    free(deep);
    CHECK(s == SEAM_ERR_FORMAT);
}

TEST(test_config_model_type) {
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "model_type", "-model_type");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "model_type", "model_type=null");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "model_type", "model_type=2");
    EXPECT_CONFIG(SEAM_ERR_UNSUPPORTED, "model_type|llama", "model_type=\"llama\"");
    EXPECT_CONFIG(SEAM_ERR_UNSUPPORTED, "model_type|gpt_neox", "model_type=\"gpt_neox\"");
    EXPECT_CONFIG(SEAM_ERR_UNSUPPORTED, "model_type", "model_type=\"GPT2\"");
    EXPECT_CONFIG(SEAM_ERR_UNSUPPORTED, "model_type", "model_type=\"\"");
    EXPECT_CONFIG(SEAM_ERR_UNSUPPORTED, "model_type", "model_type=\"gpt2 \"");
}

TEST(test_config_heads_divide_embd) {
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_embd 64|divisible|n_head 3", "n_head=3");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "divisible", "n_embd=100", "n_head=8");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "divisible", "n_embd=4", "n_head=8"); /* more heads than channels */
    EXPECT_CONFIG(SEAM_OK, NULL, "n_embd=768", "n_head=12");
}

TEST(test_config_absurd_dims) {
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_embd|1000000000", "n_embd=1000000000");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_embd", "n_embd=9223372036854775807");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_embd", "n_embd=99999999999999999999999"); /* not an int64 */
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_embd", "n_embd=0");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_embd", "n_embd=64.0");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_embd", "n_embd=6.4e1");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_embd", "n_embd=\"64\"");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_embd", "-n_embd");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_layer|-1", "n_layer=-1");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_layer", "n_layer=0");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_layer", "n_layer=-9223372036854775808");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_layer", "n_layer=1000000");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_layer", "n_layer=true");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_head", "n_head=0");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_head", "n_head=-4");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "vocab_size", "vocab_size=0");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "vocab_size", "vocab_size=4294967296");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "vocab_size", "-vocab_size");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_positions", "n_positions=0");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_positions", "n_positions=2147483648");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "n_positions", "-n_positions");
    /* Every accepted configuration keeps n_inner = 4 * n_embd inside an int. */
    EXPECT_CONFIG(SEAM_OK, NULL, "n_embd=65536", "n_head=1");
}

TEST(test_config_hf_alias_names) {
    seam_config cfg;
    seam_error err;
    char *text = make_config((const char *const[]){"-n_embd", "-n_layer", "-n_head", "-n_positions",
                                                   "hidden_size=128", "num_hidden_layers=3",
                                                   "num_attention_heads=2", "max_position_embeddings=64", NULL});
    CHECK(text != NULL);
    seam_status s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF(s == SEAM_OK, "%s", err.message);
    CHECK(cfg.info.n_embd == 128 && cfg.info.n_layer == 3 && cfg.info.n_head == 2 && cfg.info.n_positions == 64);
}

TEST(test_config_activation) {
    static const struct { const char *name; seam_activation act; } ok[] = {
        {"\"gelu_new\"", ACT_GELU_TANH}, {"\"gelu_pytorch_tanh\"", ACT_GELU_TANH}, {"\"gelu_fast\"", ACT_GELU_TANH},
        {"\"gelu\"", ACT_GELU_ERF},      {"\"relu\"", ACT_RELU},                   {"\"quick_gelu\"", ACT_GELU_QUICK},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char field[64];
        snprintf(field, sizeof field, "activation_function=%s", ok[i].name);
        char *text = make_config((const char *const[]){field, NULL});
        CHECK(text != NULL);
        seam_config cfg;
        seam_error err;
        seam_status s = parse_text(text, &cfg, &err);
        free(text);
        CHECKF(s == SEAM_OK && cfg.activation == ok[i].act, "%s: status %d act %d: %s", ok[i].name, (int)s,
               (int)cfg.activation, err.message);
    }
    EXPECT_CONFIG(SEAM_ERR_UNSUPPORTED, "activation_function|swish", "activation_function=\"swish\"");
    EXPECT_CONFIG(SEAM_ERR_UNSUPPORTED, "activation_function|silu", "activation_function=\"silu\"");
    EXPECT_CONFIG(SEAM_ERR_UNSUPPORTED, "activation_function", "activation_function=\"GELU\"");
    EXPECT_CONFIG(SEAM_ERR_UNSUPPORTED, "activation_function", "activation_function=\"\"");
    /* Absent means the GPT-2 default, gelu_new. */
    EXPECT_CONFIG(SEAM_OK, NULL, "-activation_function");
}

TEST(test_config_cross_attention) {
    EXPECT_CONFIG(SEAM_ERR_UNSUPPORTED, "add_cross_attention", "add_cross_attention=true");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "add_cross_attention", "add_cross_attention=1");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "add_cross_attention", "add_cross_attention=\"false\"");
    EXPECT_CONFIG(SEAM_OK, NULL, "add_cross_attention=null");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "scale_attn_weights", "scale_attn_weights=0");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "scale_attn_by_inverse_layer_idx", "scale_attn_by_inverse_layer_idx=\"yes\"");
}

TEST(test_config_flags) {
    seam_config cfg;
    seam_error err;
    char *text = make_config((const char *const[]){"scale_attn_weights=false", "scale_attn_by_inverse_layer_idx=true",
                                                   NULL});
    CHECK(text != NULL);
    seam_status s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF(s == SEAM_OK, "%s", err.message);
    CHECK(cfg.info.scale_attn_weights == 0 && cfg.info.scale_attn_by_inverse_layer_idx == 1);
}

TEST(test_config_layer_norm_epsilon) {
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "layer_norm_epsilon", "layer_norm_epsilon=\"1e-5\"");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "layer_norm_epsilon", "layer_norm_epsilon=0");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "layer_norm_epsilon", "layer_norm_epsilon=-1e-5");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "layer_norm_epsilon", "layer_norm_epsilon=2");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "layer_norm_epsilon", "layer_norm_epsilon=1e999");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "layer_norm_epsilon", "layer_norm_epsilon=[1e-5]");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "layer_norm_epsilon", "layer_norm_epsilon=true");
    seam_config cfg;
    seam_error err;
    char *text = make_config((const char *const[]){"layer_norm_epsilon=null", NULL});
    CHECK(text != NULL);
    seam_status s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF(s == SEAM_OK && cfg.info.layer_norm_epsilon > 0.99e-5f && cfg.info.layer_norm_epsilon < 1.01e-5f,
           "null epsilon: %s", err.message);
    /* Positive as a double but 0 as the float that is stored: layer norm would then divide
     * 0 by 0 on a constant row. Either refuse it or store something positive. */
    text = make_config((const char *const[]){"layer_norm_epsilon=1e-50", NULL});
    CHECK(text != NULL);
    s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF((s == SEAM_ERR_FORMAT && strstr(err.message, "layer_norm_epsilon")) ||
               (s == SEAM_OK && cfg.info.layer_norm_epsilon > 0),
           "1e-50: status %d, stored epsilon %g", (int)s, (double)cfg.info.layer_norm_epsilon);
    text = make_config((const char *const[]){"layer_norm_epsilon=1e-6", NULL});
    CHECK(text != NULL);
    s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF(s == SEAM_OK && cfg.info.layer_norm_epsilon > 0.99e-6f && cfg.info.layer_norm_epsilon < 1.01e-6f,
           "1e-6: %s", err.message);
}

TEST(test_config_token_ids) {
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "eos_token_id", "eos_token_id=-5");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "eos_token_id", "eos_token_id=\"</s>\"");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "eos_token_id", "eos_token_id=1.5");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "bos_token_id", "bos_token_id=-1");
    EXPECT_CONFIG(SEAM_ERR_FORMAT, "eos_token_id", "eos_token_id=[\"x\"]");
    seam_config cfg;
    seam_error err;
    /* At or past the vocabulary: either refused with a message naming the field, or dropped
     * (-1). An id outside [0, vocab_size) must never be handed on. */
    static const char *const past[] = {"eos_token_id=1000", "eos_token_id=50256", "eos_token_id=99999999999",
                                       "bos_token_id=1000", "eos_token_id=[1000]"};
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++) {
        char *text = make_config((const char *const[]){past[i], NULL});
        CHECK(text != NULL);
        seam_status s = parse_text(text, &cfg, &err);
        free(text);
        if (s == SEAM_OK)
            CHECKF(cfg.info.eos_token_id >= -1 && cfg.info.eos_token_id < 1000 && cfg.info.bos_token_id >= -1 &&
                       cfg.info.bos_token_id < 1000,
                   "%s: accepted with eos %d bos %d", past[i], cfg.info.eos_token_id, cfg.info.bos_token_id);
        else
            CHECKF(s == SEAM_ERR_FORMAT && strstr(err.message, "token_id"), "%s: status %d, message %s", past[i],
                   (int)s, err.message);
    }
    char *text = make_config((const char *const[]){"eos_token_id=null", "-bos_token_id", NULL});
    CHECK(text != NULL);
    seam_status s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF(s == SEAM_OK && cfg.info.eos_token_id == -1 && cfg.info.bos_token_id == -1, "none: %s", err.message);
    text = make_config((const char *const[]){"eos_token_id=[5, 7]", "bos_token_id=[]", NULL});
    CHECK(text != NULL);
    s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF(s == SEAM_OK && cfg.info.eos_token_id == 5 && cfg.info.bos_token_id == -1, "lists: %s", err.message);
    text = make_config((const char *const[]){"eos_token_id=0", NULL});
    CHECK(text != NULL);
    s = parse_text(text, &cfg, &err);
    free(text);
    CHECKF(s == SEAM_OK && cfg.info.eos_token_id == 0, "id 0: %s", err.message);
}

TEST(test_config_no_err_pointer) {
    /* err may be NULL: failures still return the right status. */
    seam_config cfg;
    CHECK(seam_config_parse("{", 1, &cfg, NULL) == SEAM_ERR_FORMAT);
    const char *llama = "{\"model_type\": \"llama\"}";
    CHECK(seam_config_parse(llama, strlen(llama), &cfg, NULL) == SEAM_ERR_UNSUPPORTED);
}
