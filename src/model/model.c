#include "model/model.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/quant.h"
#include "quant/quant.h"
#include "util/error.h"
#include "util/json.h"

#define CONFIG_MAX_BYTES (16u << 20)
#define INDEX_MAX_BYTES (64u << 20)
#define MAX_SHARDS 4096

float seam_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1F, man = h & 0x3FF, bits;
    if (exp == 0) {
        if (man == 0) bits = sign;
        else { /* subnormal: renormalise */
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3FF) << 13);
        }
    } else if (exp == 31) bits = sign | 0x7F800000u | (man << 13);
    else bits = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float seam_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

uint16_t seam_f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, e = (x >> 23) & 0xFF, m = x & 0x7FFFFF;
    if (e == 0xFF) return (uint16_t)(sign | 0x7C00 | (m ? 0x200 : 0));
    int exp = (int)e - 127 + 15;
    if (exp >= 31) return (uint16_t)(sign | 0x7C00);
    if (exp <= 0) {
        if (exp < -10) return (uint16_t)sign;
        m |= 0x800000;
        int shift = 14 - exp;
        uint32_t half = m >> shift, rem = m & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = sign | ((uint32_t)exp << 10) | (m >> 13), rem = m & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
    return (uint16_t)half;
}

static int keep_owned(seam_model *m, void *p) {
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

typedef struct {
    const st_tensor *t;
    const char *file;
    const st_file *st;
} found_tensor;

/* Looks a tensor up under both key namings: save_pretrained's "transformer.X" and the
 * hub's original bare "X". */
static found_tensor find_tensor(const seam_model *m, const char *name) {
    char prefixed[256];
    snprintf(prefixed, sizeof prefixed, "transformer.%s", name);
    for (size_t i = 0; i < m->n_files; i++) {
        const st_tensor *t = st_find(&m->files[i], prefixed);
        if (!t) t = st_find(&m->files[i], name);
        if (t) return (found_tensor){t, m->file_names[i], &m->files[i]};
    }
    return (found_tensor){NULL, NULL, NULL};
}

static seam_status dtype_of(const st_tensor *t, const char *name, seam_dtype *out, seam_error *err) {
    switch (t->dtype) {
    case ST_F32: *out = SEAM_DTYPE_F32; return SEAM_OK;
    case ST_F16: *out = SEAM_DTYPE_F16; return SEAM_OK;
    case ST_BF16: *out = SEAM_DTYPE_BF16; return SEAM_OK;
    default:
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "tensor '%s' has dtype %s; supported: F32, F16, BF16", name,
                         st_dtype_name(t->dtype));
    }
}

static seam_status check_shape(const st_tensor *t, const char *name, int n_dims, int64_t d0, int64_t d1,
                               seam_error *err) {
    int ok = t->n_dims == n_dims && t->shape[0] == d0 && (n_dims == 1 || t->shape[1] == d1);
    if (ok) return SEAM_OK;
    char got[128] = "", want[64];
    size_t n = 0;
    for (int i = 0; i < t->n_dims && n < sizeof got - 24; i++)
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (n_dims == 1) snprintf(want, sizeof want, "%lld", (long long)d0);
    else snprintf(want, sizeof want, "%lld, %lld", (long long)d0, (long long)d1);
    return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' has shape [%s], the config needs [%s]", name, got, want);
}

/* Kernels load elements directly, so an oddly aligned tensor gets an aligned copy. */
static seam_status aligned_data(seam_model *m, const st_tensor *t, const void **out, seam_error *err) {
    size_t esz = st_dtype_size(t->dtype);
    if ((uintptr_t)t->data % esz != 0) {
        size_t bytes = (size_t)(t->end - t->begin);
        void *copy = aligned_alloc(64, (bytes + 63) / 64 * 64);
        if (!copy || !keep_owned(m, copy)) { free(copy); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
        memcpy(copy, t->data, bytes);
        *out = copy;
    } else {
        *out = t->data;
    }
    return SEAM_OK;
}

/* One array of a quantised matrix: NAME<suffix> with the given dtype and shape [d0, d1]. */
static seam_status load_quant_part(seam_model *m, const char *name, const char *suffix, const char *needed_by,
                                   st_dtype dtype, int64_t d0, int64_t d1, const void **out, seam_error *err) {
    char full[192];
    snprintf(full, sizeof full, "%s%s", name, suffix);
    found_tensor f = find_tensor(m, full);
    if (!f.t) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' is missing (needed by '%s')", full, needed_by);
    if (f.t->dtype != dtype)
        return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' has dtype %s; a quantised matrix needs %s", full,
                         st_dtype_name(f.t->dtype), st_dtype_name(dtype));
    if (f.t->n_dims != 2 || f.t->shape[0] != d0 || f.t->shape[1] != d1) {
        char got[128] = "";
        size_t n = 0;
        for (int i = 0; i < f.t->n_dims && n < sizeof got - 24; i++)
            n += (size_t)snprintf(got + n, sizeof got - n, "%s%lld", i ? ", " : "", (long long)f.t->shape[i]);
        return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' has shape [%s], '%s' needs [%lld, %lld]", full, got,
                         needed_by, (long long)d0, (long long)d1);
    }
    if (!st_meta(f.st, "seam_quant"))
        return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' is quantised but %s has no seam_quant __metadata__", full,
                         f.file);
    return aligned_data(m, f.t, out, err);
}

/* A matrix stored quantised (see README "Quantised format"): NAME.q8 + NAME.q8_scale, or
 * NAME.q4 + NAME.q4_scale + NAME.q4_min, all in the Linear layout [N, K]. */
static seam_status load_quant(seam_model *m, const char *name, int N, int K, seam_qmat *out, seam_error *err) {
    char q8[192], q4[192];
    snprintf(q8, sizeof q8, "%s.q8", name);
    snprintf(q4, sizeof q4, "%s.q4", name);
    int has8 = find_tensor(m, q8).t != NULL, has4 = find_tensor(m, q4).t != NULL;
    if (!has8 && !has4) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' is missing (the config needs it)", name);
    if (has8 && has4) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' is stored both as q8 and as q4", name);
    if (K % SEAM_QBLOCK != 0)
        return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' is quantised but its reduction size %d is not a multiple of %d",
                         name, K, SEAM_QBLOCK);
    seam_status s;
    const void *scale = NULL, *min = NULL;
    memset(out, 0, sizeof *out);
    if (has8) {
        out->type = SEAM_QUANT_Q8;
        if ((s = load_quant_part(m, name, ".q8", q8, ST_I8, N, K, &out->data, err)) ||
            (s = load_quant_part(m, name, ".q8_scale", q8, ST_F16, N, K / SEAM_QBLOCK, &scale, err)))
            return s;
    } else {
        out->type = SEAM_QUANT_Q4;
        if ((s = load_quant_part(m, name, ".q4", q4, ST_U8, N, K / 2, &out->data, err)) ||
            (s = load_quant_part(m, name, ".q4_scale", q4, ST_F16, N, K / SEAM_QBLOCK, &scale, err)) ||
            (s = load_quant_part(m, name, ".q4_min", q4, ST_F16, N, K / SEAM_QBLOCK, &min, err)))
            return s;
    }
    out->scale = scale;
    out->min = min;
    out->rows = N;
    out->cols = K;
    /* 4 more bytes per block of 32 (12.5% of the q8 bytes), only where the kernels gain */
    if (has8 && seam_qkernels_best()->f32_scales) {
        size_t n = (size_t)N * (size_t)(K / SEAM_QBLOCK);
        float *f = malloc(n * sizeof *f);
        if (!f || !keep_owned(m, f)) { free(f); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
        for (size_t i = 0; i < n; i++) f[i] = seam_f16_to_f32(((const uint16_t *)scale)[i]);
        out->scale_f32 = f;
    }
    if (K > m->quant_max_k) m->quant_max_k = K;
    return SEAM_OK;
}

/* A weight [rows, cols], plain into out, or quantised into qout (out then keeps only the
 * shape, data NULL). conv1d: the plain matrix is a Conv1D weight [rows = K, cols = N], so
 * its quantised form is [cols, rows]; otherwise it is Linear [rows = N, cols = K]. */
static seam_status load_matrix(seam_model *m, const char *name, int rows, int cols, int conv1d, seam_mat *out,
                               seam_qmat *qout, seam_error *err) {
    found_tensor f = find_tensor(m, name);
    memset(out, 0, sizeof *out);
    memset(qout, 0, sizeof *qout);
    if (!f.t) {
        out->rows = rows;
        out->cols = cols;
        return load_quant(m, name, conv1d ? cols : rows, conv1d ? rows : cols, qout, err);
    }
    char qn[192];
    snprintf(qn, sizeof qn, "%s.q8", name);
    int also = find_tensor(m, qn).t != NULL;
    snprintf(qn, sizeof qn, "%s.q4", name);
    also |= find_tensor(m, qn).t != NULL;
    if (also) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' is stored both plain and quantised", name);
    seam_status s;
    if ((s = check_shape(f.t, name, 2, rows, cols, err)) || (s = dtype_of(f.t, name, &out->dtype, err))) return s;
    out->rows = rows;
    out->cols = cols;
    return aligned_data(m, f.t, &out->data, err);
}

/* __metadata__ of a quantised file: seam_quant names the type ("q8" or "q4"; individual
 * tensors say theirs by their suffix) and seam_quant_block, when given, must be 32. */
static seam_status check_quant_metadata(const seam_model *m, seam_error *err) {
    for (size_t i = 0; i < m->n_files; i++) {
        const char *q = st_meta(&m->files[i], "seam_quant"), *b = st_meta(&m->files[i], "seam_quant_block");
        if (q && strcmp(q, "q8") != 0 && strcmp(q, "q4") != 0)
            return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: __metadata__ seam_quant is '%s'; supported: q8, q4",
                             m->file_names[i], q);
        if (b && strcmp(b, "32") != 0)
            return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: __metadata__ seam_quant_block is '%s'; supported: 32",
                             m->file_names[i], b);
        if (b && !q)
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: __metadata__ has seam_quant_block but no seam_quant",
                             m->file_names[i]);
    }
    return SEAM_OK;
}

static seam_status load_vector(seam_model *m, const char *name, int n, const float **out, seam_error *err) {
    found_tensor f = find_tensor(m, name);
    if (!f.t) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' is missing (the config needs it)", name);
    seam_status s;
    seam_dtype dt = SEAM_DTYPE_F32;
    if ((s = check_shape(f.t, name, 1, n, 0, err)) || (s = dtype_of(f.t, name, &dt, err))) return s;
    float *v = malloc((size_t)n * sizeof *v + 1);
    if (!v || !keep_owned(m, v)) { free(v); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    const uint8_t *p = f.t->data;
    for (int i = 0; i < n; i++) {
        if (dt == SEAM_DTYPE_F32) memcpy(&v[i], p + 4 * (size_t)i, 4);
        else {
            uint16_t h;
            memcpy(&h, p + 2 * (size_t)i, 2);
            v[i] = dt == SEAM_DTYPE_F16 ? seam_f16_to_f32(h) : seam_bf16_to_f32(h);
        }
    }
    *out = v;
    return SEAM_OK;
}

/* Shard file names come from the index; they must be plain names inside the folder. */
static int plain_file_name(const char *s) {
    if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) return 0;
    for (const char *p = s; *p; p++)
        if (*p == '/' || *p == '\\') return 0;
    return 1;
}

static seam_status add_file(seam_model *m, const char *name, seam_error *err) {
    for (size_t i = 0; i < m->n_files; i++)
        if (strcmp(m->file_names[i], name) == 0) return SEAM_OK;
    char *path = seam_path_join(m->dir, name);
    char *copy = strdup(name);
    if (!path || !copy) { free(path); free(copy); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    seam_status s = st_open(path, &m->files[m->n_files], err);
    free(path);
    if (s) { free(copy); return s; }
    m->file_names[m->n_files++] = copy;
    return SEAM_OK;
}

static seam_status open_weight_files(seam_model *m, seam_error *err) {
    char *index_path = seam_path_join(m->dir, "model.safetensors.index.json");
    char *single_path = seam_path_join(m->dir, "model.safetensors");
    seam_status s = SEAM_OK;
    char *text = NULL;
    json_value *root = NULL;
    if (!index_path || !single_path) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    if (seam_file_exists(single_path)) {
        m->files = calloc(1, sizeof *m->files);
        m->file_names = calloc(1, sizeof *m->file_names);
        if (!m->files || !m->file_names) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
        s = add_file(m, "model.safetensors", err);
        goto out;
    }
    if (!seam_file_exists(index_path)) {
        s = seam_fail(err, SEAM_ERR_IO, "%s has neither model.safetensors nor model.safetensors.index.json", m->dir);
        goto out;
    }
    size_t len;
    if ((s = seam_read_file(index_path, INDEX_MAX_BYTES, &text, &len, err))) goto out;
    char jerr[256];
    root = json_parse(text, len, jerr, sizeof jerr);
    if (!root) { s = seam_fail(err, SEAM_ERR_FORMAT, "model.safetensors.index.json: %s", jerr); goto out; }
    const json_value *map = json_get(root, "weight_map");
    if (!map || map->type != JSON_OBJECT || map->len == 0) {
        s = seam_fail(err, SEAM_ERR_FORMAT, "model.safetensors.index.json: missing or empty 'weight_map' object");
        goto out;
    }
    m->files = calloc(MAX_SHARDS, sizeof *m->files);
    m->file_names = calloc(MAX_SHARDS, sizeof *m->file_names);
    if (!m->files || !m->file_names) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < map->len; i++) {
        const json_value *v = &map->members[i].value;
        if (v->type != JSON_STRING || !plain_file_name(v->str)) {
            s = seam_fail(err, SEAM_ERR_FORMAT, "model.safetensors.index.json: weight_map entry for '%s' is not a plain file name",
                          map->members[i].key);
            goto out;
        }
        if (m->n_files == MAX_SHARDS) {
            int known = 0;
            for (size_t j = 0; j < m->n_files; j++) known |= !strcmp(m->file_names[j], v->str);
            if (!known) { s = seam_fail(err, SEAM_ERR_FORMAT, "model.safetensors.index.json: more than %d shards", MAX_SHARDS); goto out; }
        }
        if ((s = add_file(m, v->str, err))) goto out;
    }
    /* Every mapped name must be found in the shard the index names. */
    for (size_t i = 0; i < map->len; i++) {
        const char *file = map->members[i].value.str;
        for (size_t j = 0; j < m->n_files; j++)
            if (!strcmp(m->file_names[j], file) && !st_find(&m->files[j], map->members[i].key)) {
                s = seam_fail(err, SEAM_ERR_FORMAT, "index maps '%s' to %s, which does not contain it", map->members[i].key, file);
                goto out;
            }
    }
out:
    json_free(root);
    free(text);
    free(index_path);
    free(single_path);
    return s;
}

void seam_model_close(seam_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_files; i++) { st_close(&m->files[i]); free(m->file_names[i]); }
    free(m->files);
    free(m->file_names);
    for (size_t i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->layers);
    free(m->dir);
    free(m);
}

/* seam_model_info's weight_quant for a matrix as loaded. */
static int weights_quant(const seam_qmat *q) {
    return q->type == SEAM_QUANT_Q8 ? SEAM_WEIGHTS_Q8 : q->type == SEAM_QUANT_Q4 ? SEAM_WEIGHTS_Q4 : SEAM_WEIGHTS_PLAIN;
}

static seam_status load_gpt2(seam_model *m, seam_error *err) {
    seam_model_info *in = &m->cfg.info;
    int C = in->n_embd, I = in->n_inner, V = in->vocab_size, P = in->n_positions;
    seam_status s;
    if (in->has_embed) {
        if ((s = load_matrix(m, "wte.weight", V, C, 0, &m->wte, &m->wte_q, err)) ||
            (s = load_matrix(m, "wpe.weight", P, C, 0, &m->wpe, &m->wpe_q, err)))
            return s;
    }
    m->layers = calloc((size_t)in->n_layer, sizeof *m->layers);
    if (!m->layers) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    for (int l = in->layer_begin; l < in->layer_end; l++) {
        gpt2_layer *L = &m->layers[l];
        char n[14][96];
        const char *parts[14] = {"ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                                 "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias",
                                 "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"};
        for (int i = 0; i < 12; i++) snprintf(n[i], sizeof n[i], "h.%d.%s", l, parts[i]);
        if ((s = load_vector(m, n[0], C, &L->ln1_w, err)) || (s = load_vector(m, n[1], C, &L->ln1_b, err)) ||
            (s = load_matrix(m, n[2], C, 3 * C, 1, &L->attn_w, &L->attn_w_q, err)) || (s = load_vector(m, n[3], 3 * C, &L->attn_b, err)) ||
            (s = load_matrix(m, n[4], C, C, 1, &L->attn_proj_w, &L->attn_proj_w_q, err)) || (s = load_vector(m, n[5], C, &L->attn_proj_b, err)) ||
            (s = load_vector(m, n[6], C, &L->ln2_w, err)) || (s = load_vector(m, n[7], C, &L->ln2_b, err)) ||
            (s = load_matrix(m, n[8], C, I, 1, &L->fc_w, &L->fc_w_q, err)) || (s = load_vector(m, n[9], I, &L->fc_b, err)) ||
            (s = load_matrix(m, n[10], I, C, 1, &L->fc_proj_w, &L->fc_proj_w_q, err)) || (s = load_vector(m, n[11], C, &L->fc_proj_b, err)))
            return s;
        if (l == in->layer_begin) {
            in->weight_dtype = L->attn_w.dtype;
            in->weight_quant = weights_quant(&L->attn_w_q);
        }
    }
    if (in->has_head) {
        if ((s = load_vector(m, "ln_f.weight", C, &m->lnf_w, err)) || (s = load_vector(m, "ln_f.bias", C, &m->lnf_b, err)))
            return s;
        /* lm_head is stored at top level (no "transformer." prefix) when untied. */
        int has_lm_head = 0;
        for (size_t i = 0; i < m->n_files; i++)
            has_lm_head |= st_find(&m->files[i], "lm_head.weight") || st_find(&m->files[i], "lm_head.weight.q8") ||
                           st_find(&m->files[i], "lm_head.weight.q4");
        if (has_lm_head) {
            if ((s = load_matrix(m, "lm_head.weight", V, C, 0, &m->lm_head, &m->lm_head_q, err))) return s;
        } else if (in->has_embed) {
            m->lm_head = m->wte;
            m->lm_head_q = m->wte_q;
        } else if ((s = load_matrix(m, "wte.weight", V, C, 0, &m->lm_head, &m->lm_head_q, err))) {
            return s;
        }
    }
    if (in->layer_begin == in->layer_end && in->has_embed) {
        in->weight_dtype = m->wte.dtype;
        in->weight_quant = weights_quant(&m->wte_q);
    }
    return SEAM_OK;
}

seam_status seam_model_open(const char *dir, seam_model **out, seam_error *err) {
    *out = NULL;
    if (!dir) return seam_fail(err, SEAM_ERR_ARG, "no model folder given");
    seam_model *m = calloc(1, sizeof *m);
    if (!m) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    m->dir = strdup(dir);
    char *cfg_path = seam_path_join(dir, "config.json");
    char *text = NULL;
    size_t len = 0;
    seam_status s;
    if (!m->dir || !cfg_path) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto fail; }
    if ((s = seam_read_file(cfg_path, CONFIG_MAX_BYTES, &text, &len, err))) goto fail;
    if ((s = seam_config_parse(text, len, &m->cfg, err))) goto fail;
    if ((s = open_weight_files(m, err))) goto fail;
    if ((s = check_quant_metadata(m, err))) goto fail;
    if ((s = load_gpt2(m, err))) goto fail;
    for (size_t i = 0; i < m->n_files; i++)
        for (size_t j = 0; j < m->files[i].n_tensors; j++) {
            const st_tensor *t = &m->files[i].tensors[j];
            m->cfg.info.weight_bytes += (size_t)(t->end - t->begin);
        }
    free(text);
    free(cfg_path);
    *out = m;
    return SEAM_OK;
fail:
    free(text);
    free(cfg_path);
    if (err) seam_fail_wrap(err, "%s", dir);
    seam_model_close(m);
    return s;
}

const seam_model_info *seam_model_get_info(const seam_model *m) { return &m->cfg.info; }

size_t seam_model_tensor_count(const seam_model *m) {
    size_t n = 0;
    for (size_t i = 0; i < m->n_files; i++) n += m->files[i].n_tensors;
    return n;
}

int seam_model_tensor(const seam_model *m, size_t i, seam_tensor_info *out) {
    for (size_t f = 0; f < m->n_files; f++) {
        if (i >= m->files[f].n_tensors) { i -= m->files[f].n_tensors; continue; }
        const st_tensor *t = &m->files[f].tensors[i];
        memset(out, 0, sizeof *out);
        out->name = t->name;
        out->dtype = st_dtype_name(t->dtype);
        out->n_dims = t->n_dims;
        for (int d = 0; d < t->n_dims; d++) out->shape[d] = t->shape[d];
        out->bytes = (size_t)(t->end - t->begin);
        out->file = m->file_names[f];
        return 1;
    }
    return 0;
}
