/* BERT config.json, weights and the sentence-transformers folder layout. */
#include "model/bert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"
#include "util/json.h"

#define CONFIG_MAX_BYTES (16u << 20)
#define MAX_SHARDS 4096

/* ------------------------------------------------------------------ config.json */

static seam_status get_int(const json_value *root, const char *file, const char *key, int64_t lo, int64_t hi, int required,
                           int dflt, int *out, seam_error *err) {
    const json_value *v = json_get(root, key);
    if (!v || v->type == JSON_NULL) {
        if (required) return seam_fail(err, SEAM_ERR_FORMAT, "%s: missing '%s'", file, key);
        *out = dflt;
        return SEAM_OK;
    }
    if (v->type != JSON_NUMBER || !v->is_int) return seam_fail(err, SEAM_ERR_FORMAT, "%s: '%s' must be an integer", file, key);
    if (v->integer < lo || v->integer > hi)
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: '%s' = %lld is outside [%lld, %lld]", file, key, (long long)v->integer,
                         (long long)lo, (long long)hi);
    *out = (int)v->integer;
    return SEAM_OK;
}

static seam_status get_bool(const json_value *o, const char *file, const char *key, int dflt, int *out, seam_error *err) {
    const json_value *v = json_get(o, key);
    if (!v || v->type == JSON_NULL) { *out = dflt; return SEAM_OK; }
    if (v->type != JSON_BOOL) return seam_fail(err, SEAM_ERR_FORMAT, "%s: '%s' must be true or false", file, key);
    *out = v->boolean;
    return SEAM_OK;
}

static seam_status parse_config(const json_value *root, bert_config *c, seam_error *err) {
    const char *F = "config.json";
    if (root->type != JSON_OBJECT) return seam_fail(err, SEAM_ERR_FORMAT, "%s: not a JSON object", F);
    const char *mt = json_get_string(root, "model_type");
    if (!mt) return seam_fail(err, SEAM_ERR_FORMAT, "%s: missing 'model_type'", F);
    if (strcmp(mt, "bert") != 0)
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: model_type '%s' is not supported by the encoder (supported: bert)", F, mt);
    seam_status s;
    if ((s = get_int(root, F, "hidden_size", 1, 65536, 1, 0, &c->hidden, err)) ||
        (s = get_int(root, F, "num_hidden_layers", 1, 1024, 1, 0, &c->n_layer, err)) ||
        (s = get_int(root, F, "num_attention_heads", 1, 1024, 1, 0, &c->n_head, err)) ||
        (s = get_int(root, F, "intermediate_size", 1, 1 << 20, 1, 0, &c->intermediate, err)) ||
        (s = get_int(root, F, "max_position_embeddings", 1, 1 << 20, 1, 0, &c->max_positions, err)) ||
        (s = get_int(root, F, "vocab_size", 1, 10000000, 1, 0, &c->vocab_size, err)) ||
        (s = get_int(root, F, "type_vocab_size", 1, 1 << 16, 0, 2, &c->type_vocab_size, err)) ||
        (s = get_int(root, F, "pad_token_id", 0, 10000000, 0, 0, &c->pad_token_id, err)))
        return s;
    if (c->hidden % c->n_head != 0)
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: hidden_size %d is not divisible by num_attention_heads %d", F, c->hidden, c->n_head);
    const json_value *ev = json_get(root, "layer_norm_eps");
    double eps = 1e-12;
    if (ev && ev->type != JSON_NULL) {
        if (ev->type != JSON_NUMBER || !(ev->number > 0) || ev->number > 1)
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: layer_norm_eps must be a number in (0, 1]", F);
        eps = ev->number;
    }
    c->layer_norm_eps = (float)eps;
    const char *act = json_get_string(root, "hidden_act");
    if (!act && json_get(root, "hidden_act")) return seam_fail(err, SEAM_ERR_FORMAT, "%s: 'hidden_act' must be a string", F);
    if (!act || !strcmp(act, "gelu")) c->activation = ACT_GELU_ERF;
    else if (!strcmp(act, "gelu_new") || !strcmp(act, "gelu_pytorch_tanh")) c->activation = ACT_GELU_TANH;
    else if (!strcmp(act, "relu")) c->activation = ACT_RELU;
    else return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: hidden_act '%s' is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)", F, act);
    const char *pet = json_get_string(root, "position_embedding_type");
    if (pet && strcmp(pet, "absolute") != 0)
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: position_embedding_type '%s' is not supported (absolute)", F, pet);
    int dec = 0, cross = 0;
    if ((s = get_bool(root, F, "is_decoder", 0, &dec, err)) || (s = get_bool(root, F, "add_cross_attention", 0, &cross, err)))
        return s;
    if (dec || cross) return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: decoder / cross-attention BERT is not supported", F);
    return SEAM_OK;
}

seam_status bert_config_parse(const char *text, size_t len, bert_config *out, seam_error *err) {
    memset(out, 0, sizeof *out);
    char jerr[256];
    json_value *root = json_parse(text, len, jerr, sizeof jerr);
    if (!root) return seam_fail(err, SEAM_ERR_FORMAT, "config.json: %s", jerr);
    seam_status s = parse_config(root, out, err);
    json_free(root);
    return s;
}

/* ------------------------------------------------------------------ weights */

static int keep_owned(bert_model *m, void *p) {
    if (m->n_owned == m->cap_owned) {
        size_t nc = m->cap_owned ? m->cap_owned * 2 : 64;
        void **no = realloc(m->owned, nc * sizeof *no);
        if (!no) return 0;
        m->owned = no;
        m->cap_owned = nc;
    }
    m->owned[m->n_owned++] = p;
    return 1;
}

static const st_tensor *find_named(const bert_model *m, const char *name) {
    char prefixed[256];
    snprintf(prefixed, sizeof prefixed, "bert.%s", name);
    for (size_t i = 0; i < m->n_files; i++) {
        const st_tensor *t = st_find(&m->files[i], name);
        if (!t) t = st_find(&m->files[i], prefixed);
        if (t) return t;
    }
    return NULL;
}

/* BertModel.save_pretrained writes bare names; checkpoints of BertFor* heads and some
 * hub uploads carry the "bert." prefix. Checkpoints converted from the original
 * TensorFlow BERT (bert-base-uncased's among them) name LayerNorm's parameters gamma and
 * beta, which transformers renames to weight and bias when it loads them. */
static const st_tensor *find_tensor(const bert_model *m, const char *name) {
    const st_tensor *t = find_named(m, name);
    const char *ln = strstr(name, "LayerNorm.");
    if (t || !ln) return t;
    const char *param = ln + strlen("LayerNorm."), *alias = !strcmp(param, "weight") ? "gamma" : !strcmp(param, "bias") ? "beta" : NULL;
    if (!alias) return NULL;
    char legacy[256];
    snprintf(legacy, sizeof legacy, "%.*s%s", (int)(param - name), name, alias);
    return find_named(m, legacy);
}

static seam_status check_tensor(const st_tensor *t, const char *name, int n_dims, int64_t d0, int64_t d1, seam_dtype *dt,
                                seam_error *err) {
    if (!t) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' (or 'bert.%s') is missing", name, name);
    switch (t->dtype) {
    case ST_F32: *dt = SEAM_DTYPE_F32; break;
    case ST_F16: *dt = SEAM_DTYPE_F16; break;
    case ST_BF16: *dt = SEAM_DTYPE_BF16; break;
    default:
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "tensor '%s' has dtype %s; supported: F32, F16, BF16", name, st_dtype_name(t->dtype));
    }
    if (t->n_dims == n_dims && t->shape[0] == d0 && (n_dims == 1 || t->shape[1] == d1)) return SEAM_OK;
    char got[128] = "";
    size_t n = 0;
    for (int i = 0; i < t->n_dims && n < sizeof got - 24; i++)
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (n_dims == 1) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' has shape [%s], the config needs [%lld]", name, got, (long long)d0);
    return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' has shape [%s], the config needs [%lld, %lld]", name, got, (long long)d0,
                     (long long)d1);
}

static seam_status load_matrix(bert_model *m, const char *name, int rows, int cols, seam_mat *out, seam_error *err) {
    const st_tensor *t = find_tensor(m, name);
    seam_status s = check_tensor(t, name, 2, rows, cols, &out->dtype, err);
    if (s) return s;
    out->rows = rows;
    out->cols = cols;
    size_t esz = st_dtype_size(t->dtype);
    out->data = t->data;
    /* Kernels load elements directly, so an oddly aligned tensor gets an aligned copy. */
    if ((uintptr_t)t->data % esz != 0) {
        size_t bytes = (size_t)(t->end - t->begin);
        void *copy = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!copy || !keep_owned(m, copy)) { free(copy); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
        memcpy(copy, t->data, bytes);
        out->data = copy;
    }
    return SEAM_OK;
}

static seam_status load_vector(bert_model *m, const char *name, int n, const float **out, seam_error *err) {
    const st_tensor *t = find_tensor(m, name);
    seam_dtype dt;
    seam_status s = check_tensor(t, name, 1, n, 0, &dt, err);
    if (s) return s;
    float *v = malloc((size_t)n * sizeof *v);
    if (!v || !keep_owned(m, v)) { free(v); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    for (int i = 0; i < n; i++) {
        uint16_t h;
        if (dt == SEAM_DTYPE_F32) { memcpy(&v[i], t->data + 4 * (size_t)i, 4); continue; }
        memcpy(&h, t->data + 2 * (size_t)i, 2);
        v[i] = dt == SEAM_DTYPE_F16 ? seam_f16_to_f32(h) : seam_bf16_to_f32(h);
    }
    *out = v;
    return SEAM_OK;
}

static int plain_name(const char *s) {
    if (!*s || !strcmp(s, ".") || !strcmp(s, "..")) return 0;
    return strchr(s, '/') == NULL && strchr(s, '\\') == NULL;
}

static seam_status open_files(bert_model *m, const char *dir, seam_error *err) {
    char *single = seam_path_join(dir, "model.safetensors"), *index = seam_path_join(dir, "model.safetensors.index.json");
    char *text = NULL, **names = NULL, jerr[256];
    json_value *root = NULL;
    size_t len, n_names = 0;
    seam_status s = SEAM_OK;
    if (!single || !index) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    if (seam_file_exists(single)) {
        if (!(m->files = calloc(1, sizeof *m->files))) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
        if (!(s = st_open(single, &m->files[0], err))) m->n_files = 1;
        goto out;
    }
    if (!seam_file_exists(index)) {
        s = seam_fail(err, SEAM_ERR_IO, "%s has neither model.safetensors nor model.safetensors.index.json", dir);
        goto out;
    }
    if ((s = seam_read_file(index, 64u << 20, &text, &len, err))) goto out;
    root = json_parse(text, len, jerr, sizeof jerr);
    const json_value *map = root ? json_get(root, "weight_map") : NULL;
    if (!map || map->type != JSON_OBJECT || map->len == 0) {
        s = seam_fail(err, SEAM_ERR_FORMAT, "model.safetensors.index.json: %s", root ? "missing or empty 'weight_map'" : jerr);
        goto out;
    }
    names = calloc(map->len, sizeof *names);
    m->files = calloc(map->len < MAX_SHARDS ? map->len : MAX_SHARDS, sizeof *m->files);
    if (!names || !m->files) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < map->len; i++) {
        const json_value *v = &map->members[i].value;
        if (v->type != JSON_STRING || !plain_name(v->str)) {
            s = seam_fail(err, SEAM_ERR_FORMAT, "model.safetensors.index.json: entry for '%s' is not a plain file name", map->members[i].key);
            goto out;
        }
        int known = 0;
        for (size_t j = 0; j < n_names && !known; j++) known = !strcmp(names[j], v->str);
        if (known) continue;
        if (n_names == MAX_SHARDS) { s = seam_fail(err, SEAM_ERR_FORMAT, "more than %d shards", MAX_SHARDS); goto out; }
        names[n_names++] = v->str;
        char *p = seam_path_join(dir, v->str);
        if (!p) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
        s = st_open(p, &m->files[m->n_files], err);
        free(p);
        if (s) goto out;
        m->n_files++;
    }
out:
    free(names);
    json_free(root);
    free(text);
    free(single);
    free(index);
    return s;
}

void bert_model_close(bert_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_files; i++) st_close(&m->files[i]);
    free(m->files);
    for (size_t i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->layers);
    free(m);
}

static seam_status load_weights(bert_model *m, seam_error *err) {
    const bert_config *c = &m->cfg;
    int C = c->hidden, I = c->intermediate;
    seam_status s;
    if ((s = load_matrix(m, "embeddings.word_embeddings.weight", c->vocab_size, C, &m->word, err)) ||
        (s = load_matrix(m, "embeddings.position_embeddings.weight", c->max_positions, C, &m->pos, err)) ||
        (s = load_matrix(m, "embeddings.token_type_embeddings.weight", c->type_vocab_size, C, &m->type, err)) ||
        (s = load_vector(m, "embeddings.LayerNorm.weight", C, &m->emb_ln_w, err)) ||
        (s = load_vector(m, "embeddings.LayerNorm.bias", C, &m->emb_ln_b, err)))
        return s;
    if (!(m->layers = calloc((size_t)c->n_layer, sizeof *m->layers))) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    for (int l = 0; l < c->n_layer; l++) {
        bert_layer *L = &m->layers[l];
        static const char *const part[] = {
            "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
            "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm"};
        char w[8][96], b[8][96];
        for (int i = 0; i < 8; i++) {
            snprintf(w[i], sizeof w[i], "encoder.layer.%d.%s.weight", l, part[i]);
            snprintf(b[i], sizeof b[i], "encoder.layer.%d.%s.bias", l, part[i]);
        }
        if ((s = load_matrix(m, w[0], C, C, &L->q_w, err)) || (s = load_vector(m, b[0], C, &L->q_b, err)) ||
            (s = load_matrix(m, w[1], C, C, &L->k_w, err)) || (s = load_vector(m, b[1], C, &L->k_b, err)) ||
            (s = load_matrix(m, w[2], C, C, &L->v_w, err)) || (s = load_vector(m, b[2], C, &L->v_b, err)) ||
            (s = load_matrix(m, w[3], C, C, &L->ao_w, err)) || (s = load_vector(m, b[3], C, &L->ao_b, err)) ||
            (s = load_vector(m, w[4], C, &L->ln1_w, err)) || (s = load_vector(m, b[4], C, &L->ln1_b, err)) ||
            (s = load_matrix(m, w[5], I, C, &L->in_w, err)) || (s = load_vector(m, b[5], I, &L->in_b, err)) ||
            (s = load_matrix(m, w[6], C, I, &L->out_w, err)) || (s = load_vector(m, b[6], C, &L->out_b, err)) ||
            (s = load_vector(m, w[7], C, &L->ln2_w, err)) || (s = load_vector(m, b[7], C, &L->ln2_b, err)))
            return s;
    }
    m->weight_dtype = m->layers[0].q_w.dtype;
    if (find_tensor(m, "pooler.dense.weight") &&
        ((s = load_matrix(m, "pooler.dense.weight", C, C, &m->pool_w, err)) || (s = load_vector(m, "pooler.dense.bias", C, &m->pool_b, err))))
        return s;
    return SEAM_OK;
}

seam_status bert_model_open(const char *dir, bert_model **out, seam_error *err) {
    *out = NULL;
    if (!dir) return seam_fail(err, SEAM_ERR_ARG, "no model folder given");
    bert_model *m = calloc(1, sizeof *m);
    char *cfg_path = seam_path_join(dir, "config.json"), *text = NULL;
    size_t len;
    seam_status s;
    if (!m || !cfg_path) s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    else if (!(s = seam_read_file(cfg_path, CONFIG_MAX_BYTES, &text, &len, err)) && !(s = bert_config_parse(text, len, &m->cfg, err)) &&
             !(s = open_files(m, dir, err)))
        s = load_weights(m, err);
    free(text);
    free(cfg_path);
    if (s) {
        if (err && m) seam_fail_wrap(err, "%s", dir);
        bert_model_close(m);
        return s;
    }
    for (size_t i = 0; i < m->n_files; i++)
        for (size_t j = 0; j < m->files[i].n_tensors; j++) m->weight_bytes += (size_t)(m->files[i].tensors[j].end - m->files[i].tensors[j].begin);
    *out = m;
    return SEAM_OK;
}

/* ------------------------------------------------------------------ sentence-transformers */

static seam_status read_json(const char *dir, const char *name, json_value **out, seam_error *err) {
    *out = NULL;
    char *path = seam_path_join(dir, name), *text = NULL, jerr[256];
    size_t len;
    if (!path) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    seam_status s = seam_read_file(path, CONFIG_MAX_BYTES, &text, &len, err);
    if (!s && !(*out = json_parse(text, len, jerr, sizeof jerr))) s = seam_fail(err, SEAM_ERR_FORMAT, "%s: %s", path, jerr);
    free(text);
    free(path);
    return s;
}

static const struct { const char *name; seam_pooling mode; } pool_names[] = {
    {"mean", SEAM_POOL_MEAN}, {"cls", SEAM_POOL_CLS}, {"max", SEAM_POOL_MAX}, {"lasttoken", SEAM_POOL_LASTTOKEN},
};

const char *seam_pooling_name(seam_pooling p) {
    for (size_t i = 0; i < sizeof pool_names / sizeof pool_names[0]; i++)
        if (pool_names[i].mode == p) return pool_names[i].name;
    return "?";
}

seam_status bert_pooling_parse(const char *text, size_t len, seam_pooling *mode, int *dim, seam_error *err) {
    const char *F = "1_Pooling/config.json";
    char jerr[256];
    json_value *root = json_parse(text, len, jerr, sizeof jerr);
    if (!root) return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s", F, jerr);
    seam_status s = SEAM_OK;
    int n_modes = 0;
    *mode = 0;
    *dim = 0;
    const json_value *pm = json_get(root, "pooling_mode");
    if (root->type != JSON_OBJECT) { s = seam_fail(err, SEAM_ERR_FORMAT, "%s: not a JSON object", F); goto out; }
    if (pm && pm->type == JSON_ARRAY && pm->len == 1) pm = &pm->items[0];
    if (pm && pm->type != JSON_NULL) {
        if (pm->type != JSON_STRING) { s = seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: 'pooling_mode' must be one mode name", F); goto out; }
        for (size_t i = 0; i < sizeof pool_names / sizeof pool_names[0]; i++)
            if (!strcmp(pm->str, pool_names[i].name)) *mode = pool_names[i].mode;
        if (!*mode) {
            s = seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: pooling_mode '%s' is not supported (mean, cls, max, lasttoken)", F, pm->str);
            goto out;
        }
        n_modes = 1;
    } else {
        static const struct { const char *key; seam_pooling mode; } old[] = {
            {"pooling_mode_mean_tokens", SEAM_POOL_MEAN}, {"pooling_mode_cls_token", SEAM_POOL_CLS},
            {"pooling_mode_max_tokens", SEAM_POOL_MAX}, {"pooling_mode_lasttoken", SEAM_POOL_LASTTOKEN},
            {"pooling_mode_mean_sqrt_len_tokens", 0}, {"pooling_mode_weightedmean_tokens", 0}};
        for (size_t i = 0; i < sizeof old / sizeof old[0]; i++) {
            int on = 0;
            if ((s = get_bool(root, F, old[i].key, 0, &on, err))) goto out;
            if (!on) continue;
            if (!old[i].mode) { s = seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: %s is not supported (mean, cls, max, lasttoken)", F, old[i].key); goto out; }
            *mode = old[i].mode;
            n_modes++;
        }
    }
    if (n_modes == 0) { s = seam_fail(err, SEAM_ERR_FORMAT, "%s: no pooling mode is set", F); goto out; }
    if (n_modes > 1) { s = seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: several pooling modes at once (concatenated) are not supported", F); goto out; }
    const json_value *d = json_get(root, "embedding_dimension");
    if (!d) d = json_get(root, "word_embedding_dimension");
    if (d && d->type != JSON_NULL) {
        if (d->type != JSON_NUMBER || !d->is_int || d->integer < 1 || d->integer > 65536) {
            s = seam_fail(err, SEAM_ERR_FORMAT, "%s: bad embedding dimension", F);
            goto out;
        }
        *dim = (int)d->integer;
    }
out:
    json_free(root);
    return s;
}

/* The last component of a module type such as sentence_transformers.models.Pooling. */
static const char *type_tail(const char *t) {
    const char *dot = strrchr(t, '.');
    return dot ? dot + 1 : t;
}

static seam_status parse_modules(const char *dir, bert_st_config *c, seam_error *err) {
    json_value *mods = NULL;
    seam_status s = read_json(dir, "modules.json", &mods, err);
    if (s) return s;
    int have_tf = 0, have_pool = 0;
    if (mods->type != JSON_ARRAY || mods->len == 0) { s = seam_fail(err, SEAM_ERR_FORMAT, "modules.json: expected a non-empty list"); goto out; }
    for (size_t i = 0; i < mods->len && !s; i++) {
        const json_value *mo = &mods->items[i];
        const char *type = json_get_string(mo, "type"), *path = json_get_string(mo, "path");
        if (!type || !path || (*path && !plain_name(path))) {
            s = seam_fail(err, SEAM_ERR_FORMAT, "modules.json: module %zu needs a 'type' and a 'path' inside the folder", i);
            break;
        }
        const char *tail = type_tail(type);
        char *sub = *path ? seam_path_join(dir, path) : strdup(dir);
        if (!sub) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); break; }
        if (!strcmp(tail, "Transformer") && !have_tf && !have_pool) {
            have_tf = 1;
            c->model_dir = sub;
            sub = NULL;
        } else if (!strcmp(tail, "Pooling") && have_tf && !have_pool) {
            char *p = seam_path_join(sub, "config.json"), *text = NULL;
            size_t len;
            if (!p) s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
            else if (!(s = seam_read_file(p, CONFIG_MAX_BYTES, &text, &len, err)))
                s = bert_pooling_parse(text, len, &c->pooling, &c->pool_dim, err);
            free(p);
            free(text);
            have_pool = 1;
        } else if (!strcmp(tail, "Normalize") && have_pool && !c->normalize) {
            c->normalize = 1;
        } else {
            s = seam_fail(err, SEAM_ERR_UNSUPPORTED,
                          "modules.json: module '%s' at position %zu is not supported (Transformer, Pooling, Normalize, in that order)",
                          type, i);
        }
        free(sub);
    }
    if (!s && (!have_tf || !have_pool)) s = seam_fail(err, SEAM_ERR_FORMAT, "modules.json: needs a Transformer and a Pooling module");
out:
    json_free(mods);
    return s;
}

seam_status bert_st_parse(const char *dir, bert_st_config *c, seam_error *err) {
    memset(c, 0, sizeof *c);
    char *mpath = seam_path_join(dir, "modules.json");
    if (!mpath) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    int st = seam_file_exists(mpath);
    free(mpath);
    seam_status s = SEAM_OK;
    if (st) s = parse_modules(dir, c, err);
    else {
        c->is_plain = 1;
        c->pooling = SEAM_POOL_MEAN;
        c->normalize = 1;
        if (!(c->model_dir = strdup(dir))) s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    }
    json_value *j = NULL;
    char *p = s ? NULL : seam_path_join(c->model_dir, "sentence_bert_config.json");
    if (p && seam_file_exists(p) && !(s = read_json(c->model_dir, "sentence_bert_config.json", &j, err))) {
        if (!(s = get_int(j, "sentence_bert_config.json", "max_seq_length", 1, 1 << 20, 0, 0, &c->max_seq_length, err)))
            s = get_bool(j, "sentence_bert_config.json", "do_lower_case", 0, &c->do_lower_case, err);
    }
    json_free(j);
    free(p);
    j = NULL;
    p = s ? NULL : seam_path_join(c->model_dir, "tokenizer_config.json");
    if (p && seam_file_exists(p) && !(s = read_json(c->model_dir, "tokenizer_config.json", &j, err))) {
        /* Tokenizers without a limit store a huge float here; only a sane integer counts. */
        const json_value *v = json_get(j, "model_max_length");
        if (v && v->type == JSON_NUMBER && v->is_int && v->integer > 0 && v->integer <= (1 << 20)) c->tok_max_length = (int)v->integer;
    }
    json_free(j);
    free(p);
    if (s) {
        seam_fail_wrap(err, "%s", dir);
        bert_st_free(c);
    }
    return s;
}

void bert_st_free(bert_st_config *c) {
    free(c->model_dir);
    c->model_dir = NULL;
}
