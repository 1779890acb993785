/* Shard writing (`seam split`) and checking. See src/model/shard.h for the folder layout and
 * include/seam_net.h for the fingerprint definition. */
#include "model/shard.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/safetensors.h"
#include "model/model.h"
#include "quant/quantize.h"
#include "util/error.h"
#include "util/json.h"
#include "util/sha256.h"

#define CONFIG_LIMIT (16u << 20)
#define MANIFEST_LIMIT (1u << 20)

/* Copied next to the weights when the shard tokenizes (embed) or detokenizes (head). */
static const char *const k_tokenizer_files[] = {
    "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json",
    "generation_config.json",
};
#define N_TOKENIZER_FILES (sizeof k_tokenizer_files / sizeof k_tokenizer_files[0])

/* ------------------------------------------------------------------ small helpers */

int seam_shard_plain_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof ((seam_shard_file *)0)->name || s[0] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

seam_status seam_mkdirs(const char *path, seam_error *err) {
    size_t n = strlen(path);
    char *p = malloc(n + 1);
    if (!p) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char c = p[i];
        p[i] = 0;
        struct stat st;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            seam_status s = seam_fail(err, SEAM_ERR_IO, "cannot create folder %s: %s", p, strerror(errno));
            free(p);
            return s;
        }
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) {
            seam_status s = seam_fail(err, SEAM_ERR_IO, "%s exists and is not a folder", p);
            free(p);
            return s;
        }
        p[i] = c;
    }
    free(p);
    return SEAM_OK;
}

static void hex_of(const uint8_t d[SEAM_SHA256_SIZE], char out[65]) { seam_sha256_hex(d, out); }

static int is_hex64(const char *s) {
    if (!s || strlen(s) != 64) return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

static const char *range_text(const seam_shard_range *r, char *buf, size_t cap) {
    snprintf(buf, cap, "[%d, %d)%s%s%s", r->layer_begin, r->layer_end, r->embed ? " + embeddings" : "",
             r->head ? " + head" : "", r->quant == 8 ? " (q8)" : r->quant == 4 ? " (q4)" : "");
    return buf;
}

static const char *quant_json(int q) { return q == 8 ? "\"q8\"" : q == 4 ? "\"q4\"" : "null"; }

void seam_remove_flat_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            char *p = seam_path_join(dir, e->d_name);
            if (p) unlink(p);
            free(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

/* ------------------------------------------------------------------ fingerprint */

static void fp_add(seam_sha256_ctx *c, const char *name, uint64_t size, const uint8_t d[SEAM_SHA256_SIZE]) {
    char line[200], hex[65];
    hex_of(d, hex);
    int n = snprintf(line, sizeof line, "%s\n%llu\n%s\n", name, (unsigned long long)size, hex);
    seam_sha256_update(c, line, (size_t)n);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Hashes the mapped weight files of an opened whole model (no second read from disk). */
static seam_status fingerprint_of(const seam_model *m, char out[65], seam_error *err) {
    if (m->cfg.is_shard) {
        memcpy(out, m->cfg.shard_parent, 65);
        return SEAM_OK;
    }
    char *cfg_path = seam_path_join(m->dir, "config.json");
    if (!cfg_path) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    uint8_t d[SEAM_SHA256_SIZE];
    uint64_t size = 0;
    seam_status s = seam_sha256_file(cfg_path, d, &size, err);
    free(cfg_path);
    if (s) return s;
    seam_sha256_ctx c;
    seam_sha256_init(&c);
    seam_sha256_update(&c, "seam-fingerprint-v1\n", 20);
    fp_add(&c, "config.json", size, d);
    char **names = malloc((m->n_files + 1) * sizeof *names);
    if (!names) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n_files; i++) names[i] = m->file_names[i];
    qsort(names, m->n_files, sizeof *names, cmp_str);
    for (size_t i = 0; i < m->n_files; i++) {
        const st_file *f = NULL;
        for (size_t j = 0; j < m->n_files; j++)
            if (m->file_names[j] == names[i]) f = &m->files[j];
        seam_sha256(f->map, f->map_len, d);
        fp_add(&c, names[i], (uint64_t)f->map_len, d);
    }
    free(names);
    seam_sha256_final(&c, d);
    hex_of(d, out);
    return SEAM_OK;
}

seam_status seam_model_get_fingerprint(const seam_model *m, char out[SEAM_FINGERPRINT_HEX_SIZE], seam_error *err) {
    return fingerprint_of(m, out, err);
}

seam_status seam_model_fingerprint(const char *dir, char out[SEAM_FINGERPRINT_HEX_SIZE], seam_error *err) {
    seam_model *m = NULL;
    seam_status s = seam_model_open(dir, &m, err);
    if (s) return s;
    s = fingerprint_of(m, out, err);
    seam_model_close(m);
    return s;
}

/* ------------------------------------------------------------------ the plan: which tensors */

typedef enum { PART_DROP, PART_LAYER, PART_WTE, PART_WPE, PART_HEAD } part_kind;

/* Sorts a tensor name into the part of the model it belongs to. The h.N.attn.bias and
 * masked_bias buffers are constant causal masks the loader ignores: a shard leaves them out
 * (in GPT-2 small they are 4 MiB per layer). */
static part_kind classify(const char *name, int *layer) {
    const char *n = strncmp(name, "transformer.", 12) == 0 ? name + 12 : name;
    if (strncmp(n, "h.", 2) == 0) {
        const char *p = n + 2;
        long l = 0;
        if (*p < '0' || *p > '9') return PART_DROP;
        while (*p >= '0' && *p <= '9' && l < 100000) l = l * 10 + (*p++ - '0');
        if (*p != '.') return PART_DROP;
        p++;
        if (strcmp(p, "attn.bias") == 0 || strcmp(p, "attn.masked_bias") == 0) return PART_DROP;
        *layer = (int)l;
        return PART_LAYER;
    }
    if (strncmp(n, "wte.", 4) == 0) return PART_WTE;
    if (strncmp(n, "wpe.", 4) == 0) return PART_WPE;
    if (strncmp(n, "ln_f.", 5) == 0 || strncmp(name, "lm_head.", 8) == 0) return PART_HEAD;
    return PART_DROP;
}

typedef struct {
    const st_tensor *t;
    size_t file, index; /* position in the parent, for a stable order */
    size_t esize;
    uint64_t begin;     /* offset in the shard's data buffer */
} pick;

typedef struct {
    seam_model *m;
    pick *picks;
    size_t n;
    char *header;       /* JSON header padded with spaces so the data starts 64-aligned */
    size_t header_len;
    uint64_t data_bytes;
} plan;

static void plan_free(plan *p) {
    free(p->picks);
    free(p->header);
    memset(p, 0, sizeof *p);
}

/* Larger elements first so each tensor starts at a multiple of its element size. */
static int cmp_pick(const void *a, const void *b) {
    const pick *x = a, *y = b;
    if (x->esize != y->esize) return x->esize > y->esize ? -1 : 1;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    if (x->t->begin != y->t->begin) return x->t->begin < y->t->begin ? -1 : 1;
    return strcmp(x->t->name, y->t->name);
}

static seam_status check_range(const seam_model_info *in, const seam_shard_range *r, seam_error *err) {
    if (r->layer_begin < 0 || r->layer_end < r->layer_begin || r->layer_end > in->n_layer)
        return seam_fail(err, SEAM_ERR_ARG, "layer range %d:%d is not within 0:%d (0 <= A <= B <= n_layer)",
                         r->layer_begin, r->layer_end, in->n_layer);
    if (r->embed && r->layer_begin != 0)
        return seam_fail(err, SEAM_ERR_ARG, "the embeddings feed layer 0: --embed needs a range starting at 0, not %d",
                         r->layer_begin);
    if (r->head && r->layer_end != in->n_layer)
        return seam_fail(err, SEAM_ERR_ARG, "the head follows the last layer: --head needs a range ending at %d, not %d",
                         in->n_layer, r->layer_end);
    if (r->layer_begin == r->layer_end && !r->embed && !r->head)
        return seam_fail(err, SEAM_ERR_ARG, "the shard would be empty: give a non-empty range, --embed or --head");
    if (r->quant != 0 && r->quant != 8 && r->quant != 4)
        return seam_fail(err, SEAM_ERR_ARG, "shard quantisation must be none, q8 or q4");
    return SEAM_OK;
}

/* Merges the parents' __metadata__ (conflicting values for one key are an error). */
static seam_status write_metadata(const seam_model *m, FILE *f, seam_error *err) {
    int first = 1;
    for (size_t i = 0; i < m->n_files; i++)
        for (size_t k = 0; k < m->files[i].n_meta; k++) {
            const char *key = m->files[i].meta_keys[k], *val = m->files[i].meta_values[k];
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++) {
                const char *other = st_meta(&m->files[j], key);
                if (other && strcmp(other, val) != 0)
                    return seam_fail(err, SEAM_ERR_FORMAT, "the weight files disagree on __metadata__ '%s'", key);
                seen = other != NULL;
            }
            if (seen) continue;
            fputs(first ? "\"__metadata__\":{" : ",", f);
            first = 0;
            json_write_string(f, key, strlen(key));
            fputc(':', f);
            json_write_string(f, val, strlen(val));
        }
    if (!first) fputs("},", f);
    return SEAM_OK;
}

static seam_status plan_make(const char *model_dir, const seam_shard_range *r, plan *p, seam_error *err) {
    memset(p, 0, sizeof *p);
    seam_status s = seam_model_open(model_dir, &p->m, err);
    if (s) return s;
    const seam_model *m = p->m;
    if (m->cfg.is_shard) {
        s = seam_fail(err, SEAM_ERR_ARG, "%s is itself a shard: split the whole model", model_dir);
        goto fail;
    }
    if ((s = check_range(&m->cfg.info, r, err))) goto fail;
    size_t total = 0;
    int untied = 0;
    for (size_t i = 0; i < m->n_files; i++) {
        total += m->files[i].n_tensors;
        for (size_t j = 0; j < m->files[i].n_tensors; j++)
            untied |= strncmp(m->files[i].tensors[j].name, "lm_head.", 8) == 0;
    }
    p->picks = calloc(total + 1, sizeof *p->picks);
    if (!p->picks) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto fail; }
    for (size_t i = 0; i < m->n_files; i++)
        for (size_t j = 0; j < m->files[i].n_tensors; j++) {
            const st_tensor *t = &m->files[i].tensors[j];
            int layer = -1, keep = 0;
            switch (classify(t->name, &layer)) {
            case PART_LAYER: keep = layer >= r->layer_begin && layer < r->layer_end; break;
            case PART_WTE: keep = r->embed || (r->head && !untied); break;
            case PART_WPE: keep = r->embed; break;
            case PART_HEAD: keep = r->head; break;
            case PART_DROP: keep = 0; break;
            }
            if (keep) p->picks[p->n++] = (pick){t, i, j, st_dtype_size(t->dtype), 0};
        }
    qsort(p->picks, p->n, sizeof *p->picks, cmp_pick);
    /* Header: metadata, then the tensors in data order. */
    char *hbuf = NULL;
    size_t hlen = 0;
    FILE *f = open_memstream(&hbuf, &hlen);
    if (!f) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto fail; }
    fputc('{', f);
    if ((s = write_metadata(m, f, err))) { fclose(f); free(hbuf); goto fail; }
    uint64_t off = 0;
    for (size_t i = 0; i < p->n; i++) {
        const st_tensor *t = p->picks[i].t;
        uint64_t bytes = t->end - t->begin;
        p->picks[i].begin = off;
        if (i) fputc(',', f);
        json_write_string(f, t->name, strlen(t->name));
        fprintf(f, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype_name(t->dtype));
        for (int d = 0; d < t->n_dims; d++) fprintf(f, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        fprintf(f, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)off, (unsigned long long)(off + bytes));
        off += bytes;
    }
    fputc('}', f);
    if (fclose(f) != 0 || !hbuf) { free(hbuf); s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto fail; }
    /* Pad the header with spaces (the format allows it) so the data buffer, length prefix
     * included, starts on a 64-byte line as `seam quantize` writes it: the kernels' vector
     * loads of mapped weights then do not straddle cache lines. */
    size_t padded = (8 + hlen + 63) / 64 * 64 - 8;
    char *h = realloc(hbuf, padded + 1);
    if (!h) { free(hbuf); s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto fail; }
    memset(h + hlen, ' ', padded - hlen);
    h[padded] = 0;
    p->header = h;
    p->header_len = padded;
    p->data_bytes = off;
    return SEAM_OK;
fail:
    seam_model_close(p->m);
    p->m = NULL;
    plan_free(p);
    return s;
}

/* The parent's config.json with a "seam_shard" section added before its closing brace. */
static seam_status shard_config(const char *model_dir, const seam_shard_range *r, const char *fp, char **out,
                                size_t *out_len, seam_error *err) {
    char *path = seam_path_join(model_dir, "config.json"), *text = NULL;
    size_t len = 0;
    if (!path) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    seam_status s = seam_read_file(path, CONFIG_LIMIT, &text, &len, err);
    free(path);
    if (s) return s;
    /* The config was parsed by seam_model_open already: it is one object, '{' first. */
    size_t close = len;
    while (close > 0 && text[close - 1] != '}') close--;
    size_t open = 0;
    while (open < len && text[open] != '{') open++;
    if (close == 0 || open >= close - 1) {
        free(text);
        return seam_fail(err, SEAM_ERR_FORMAT, "%s/config.json is not a JSON object", model_dir);
    }
    close--; /* index of the final '}' */
    int empty = 1;
    for (size_t i = open + 1; i < close; i++)
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') empty = 0;
    char section[512];
    int n = snprintf(section, sizeof section,
                     "%s\n  \"seam_shard\": {\n    \"format\": 1,\n    \"layer_begin\": %d,\n    \"layer_end\": %d,\n"
                     "    \"has_embed\": %s,\n    \"has_head\": %s,\n    \"parent_fingerprint\": \"%s\",\n"
                     "    \"quant\": %s\n  }\n",
                     empty ? "" : ",", r->layer_begin, r->layer_end, r->embed ? "true" : "false",
                     r->head ? "true" : "false", fp, quant_json(r->quant));
    /* Trim the whitespace before the brace so the section follows the last member. */
    size_t keep = close;
    while (keep > open + 1 && (text[keep - 1] == ' ' || text[keep - 1] == '\n' || text[keep - 1] == '\r' ||
                               text[keep - 1] == '\t'))
        keep--;
    size_t total = keep + (size_t)n + 2;
    char *o = malloc(total + 1);
    if (!o) { free(text); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    memcpy(o, text, keep);
    memcpy(o + keep, section, (size_t)n);
    memcpy(o + keep + n, "}\n", 3);
    free(text);
    *out = o;
    *out_len = total;
    return SEAM_OK;
}

static int64_t file_size_of(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    return (int64_t)st.st_size;
}

static seam_status quant_shard_size(const char *model_dir, const seam_shard_range *r, uint64_t *bytes, seam_error *err) {
    const char *t = getenv("TMPDIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/seam-shard-size-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) return seam_fail(err, SEAM_ERR_IO, "cannot create a temporary folder: %s", strerror(errno));
    char out[600];
    snprintf(out, sizeof out, "%s/shard", dir);
    seam_status s = seam_shard_write(model_dir, r, NULL, out, err);
    if (!s) s = seam_shard_download_bytes(out, bytes, NULL, err);
    seam_remove_flat_dir(out);
    rmdir(dir);
    return s;
}

seam_status seam_shard_size(const char *model_dir, const seam_shard_range *r, uint64_t *bytes, seam_error *err) {
    if (r->quant) return quant_shard_size(model_dir, r, bytes, err);
    plan p;
    seam_status s = plan_make(model_dir, r, &p, err);
    if (s) return s;
    char *cfg = NULL;
    size_t cfg_len = 0;
    static const char zeros[65] = "0000000000000000000000000000000000000000000000000000000000000000";
    s = shard_config(model_dir, r, zeros, &cfg, &cfg_len, err);
    uint64_t total = 8 + p.header_len + p.data_bytes + cfg_len;
    free(cfg);
    for (size_t i = 0; !s && (r->embed || r->head) && i < N_TOKENIZER_FILES; i++) {
        char *path = seam_path_join(model_dir, k_tokenizer_files[i]);
        int64_t n = path ? file_size_of(path) : -1;
        if (n > 0) total += (uint64_t)n;
        free(path);
    }
    seam_model_close(p.m);
    plan_free(&p);
    if (!s) *bytes = total;
    return s;
}

/* ------------------------------------------------------------------ writing */

/* Writes path via a temporary file + fsync + rename, hashing what it writes. */
static seam_status write_weights(const plan *p, const char *path, seam_shard_file *rec, seam_error *err) {
    size_t n = strlen(path);
    char *tmp = malloc(n + 40);
    if (!tmp) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    snprintf(tmp, n + 40, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        seam_status s = seam_fail(err, SEAM_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        return s;
    }
    seam_sha256_ctx c;
    seam_sha256_init(&c);
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)p->header_len >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(p->header, 1, p->header_len, f) == p->header_len;
    seam_sha256_update(&c, len8, 8);
    seam_sha256_update(&c, p->header, p->header_len);
    for (size_t i = 0; ok && i < p->n; i++) {
        const st_tensor *t = p->picks[i].t;
        size_t bytes = (size_t)(t->end - t->begin);
        ok = bytes == 0 || fwrite(t->data, 1, bytes, f) == bytes;
        seam_sha256_update(&c, t->data, bytes);
    }
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        seam_status s = seam_fail(err, SEAM_ERR_IO, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        free(tmp);
        return s;
    }
    free(tmp);
    uint8_t d[SEAM_SHA256_SIZE];
    seam_sha256_final(&c, d);
    snprintf(rec->name, sizeof rec->name, "model.safetensors");
    rec->size = 8 + p->header_len + p->data_bytes;
    hex_of(d, rec->sha256);
    return SEAM_OK;
}

static seam_status write_blob(const char *dir, const char *name, const void *data, size_t len, seam_shard_file *rec,
                              seam_error *err) {
    char *path = seam_path_join(dir, name);
    if (!path) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    seam_status s = seam_write_file_atomic(path, data, len, err);
    free(path);
    if (s) return s;
    uint8_t d[SEAM_SHA256_SIZE];
    seam_sha256(data, len, d);
    snprintf(rec->name, sizeof rec->name, "%s", name);
    rec->size = len;
    hex_of(d, rec->sha256);
    return SEAM_OK;
}

static seam_status write_manifest(const char *dir, const seam_shard_range *r, int n_layer, const char *fp,
                                  const seam_shard_file *files, int n, seam_error *err) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    fprintf(f,
            "{\n  \"seam_shard_manifest\": 1,\n  \"parent_fingerprint\": \"%s\",\n  \"n_layer\": %d,\n"
            "  \"layer_begin\": %d,\n  \"layer_end\": %d,\n  \"has_embed\": %s,\n  \"has_head\": %s,\n"
            "  \"quant\": %s,\n  \"files\": [\n",
            fp, n_layer, r->layer_begin, r->layer_end, r->embed ? "true" : "false", r->head ? "true" : "false",
            quant_json(r->quant));
    for (int i = 0; i < n; i++)
        fprintf(f, "    {\"name\": \"%s\", \"size\": %llu, \"sha256\": \"%s\"}%s\n", files[i].name,
                (unsigned long long)files[i].size, files[i].sha256, i + 1 < n ? "," : "");
    fputs("  ]\n}\n", f);
    if (fclose(f) != 0 || !buf) { free(buf); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    char *path = seam_path_join(dir, SEAM_SHARD_MANIFEST);
    seam_status s = path ? seam_write_file_atomic(path, buf, len, err) : seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    free(path);
    free(buf);
    return s;
}

/* A quantised shard's weights: renamed into place and hashed. */
static seam_status move_weights(const char *from, const char *to, seam_shard_file *rec, seam_error *err) {
    if (rename(from, to) != 0) return seam_fail(err, SEAM_ERR_IO, "cannot move %s to %s: %s", from, to, strerror(errno));
    uint8_t d[SEAM_SHA256_SIZE];
    seam_status s = seam_sha256_file(to, d, &rec->size, err);
    if (s) return s;
    snprintf(rec->name, sizeof rec->name, "model.safetensors");
    hex_of(d, rec->sha256);
    return SEAM_OK;
}

/* Writes the shard; its weights come from the plan, or (quantised shards) are the finished
 * file `weights`, moved into place. */
static seam_status write_shard(const char *model_dir, const seam_shard_range *r, const char *fingerprint,
                               const char *out_dir, const char *weights, seam_error *err) {
    plan p;
    seam_status s = plan_make(model_dir, r, &p, err);
    if (s) return s;
    char fp[65], *cfg = NULL, *mpath = NULL, *wpath = NULL;
    size_t cfg_len = 0;
    seam_shard_file files[2 + N_TOKENIZER_FILES];
    int nf = 0;
    if (fingerprint) memcpy(fp, fingerprint, 65);
    else if ((s = fingerprint_of(p.m, fp, err))) goto out;
    if ((s = seam_mkdirs(out_dir, err))) goto out;
    /* A folder without its manifest is not a shard: drop any old one before touching files. */
    mpath = seam_path_join(out_dir, SEAM_SHARD_MANIFEST);
    wpath = seam_path_join(out_dir, "model.safetensors");
    if (!mpath || !wpath) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    if (unlink(mpath) != 0 && errno != ENOENT) { s = seam_fail(err, SEAM_ERR_IO, "cannot remove %s: %s", mpath, strerror(errno)); goto out; }
    if ((s = shard_config(model_dir, r, fp, &cfg, &cfg_len, err)) ||
        (s = write_blob(out_dir, "config.json", cfg, cfg_len, &files[nf++], err)) ||
        (s = weights ? move_weights(weights, wpath, &files[nf++], err) : write_weights(&p, wpath, &files[nf++], err)))
        goto out;
    for (size_t i = 0; (r->embed || r->head) && i < N_TOKENIZER_FILES; i++) {
        char *src = seam_path_join(model_dir, k_tokenizer_files[i]), *text = NULL;
        size_t len = 0;
        if (!src) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
        if (!seam_file_exists(src)) { free(src); continue; }
        s = seam_read_file(src, 256u << 20, &text, &len, err);
        free(src);
        if (!s) s = write_blob(out_dir, k_tokenizer_files[i], text, len, &files[nf++], err);
        free(text);
        if (s) goto out;
    }
    s = write_manifest(out_dir, r, p.m->cfg.info.n_layer, fp, files, nf, err);
out:
    free(cfg);
    free(mpath);
    free(wpath);
    seam_model_close(p.m);
    plan_free(&p);
    return s;
}


/* Quantised shards: the plain shard is written to a temporary folder next to out_dir,
 * quantised there (seam_quantize_model works on any loadable folder, so only the shard's
 * tensors are quantised, not the whole parent), and its weights moved into out_dir. */
seam_status seam_shard_write(const char *model_dir, const seam_shard_range *r, const char *fingerprint,
                             const char *out_dir, seam_error *err) {
    if (fingerprint && !is_hex64(fingerprint))
        return seam_fail(err, SEAM_ERR_ARG, "fingerprint must be 64 lowercase hex digits");
    if (!r->quant) return write_shard(model_dir, r, fingerprint, out_dir, NULL, err);
    if (r->quant != 8 && r->quant != 4) return seam_fail(err, SEAM_ERR_ARG, "shard quantisation must be none, q8 or q4");
    char fp[65];
    seam_status s = fingerprint ? SEAM_OK : seam_model_fingerprint(model_dir, fp, err);
    if (s) return s;
    if (fingerprint) memcpy(fp, fingerprint, 65);
    size_t n = strlen(out_dir) + 48;
    char *tmp = malloc(n), *plain = NULL, *q = NULL, *w = NULL;
    if (!tmp) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    snprintf(tmp, n, "%s.quant.%ld", out_dir, (long)getpid());
    plain = seam_path_join(tmp, "plain");
    q = seam_path_join(tmp, "q");
    w = q ? seam_path_join(q, "model.safetensors") : NULL;
    if (!plain || !q || !w) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    seam_shard_range pr = *r;
    pr.quant = 0;
    seam_quantize_params qp;
    memset(&qp, 0, sizeof qp);
    qp.type = r->quant == 8 ? SEAM_QUANT_Q8 : SEAM_QUANT_Q4;
    qp.head = SEAM_QHEAD_TIED; /* the tied wte is the shard's embedding and/or head: quantised once */
    if ((s = seam_mkdirs(tmp, err)) || (s = write_shard(model_dir, &pr, fp, plain, NULL, err)) ||
        (s = seam_quantize_model(plain, q, &qp, err)) || (s = write_shard(model_dir, r, fp, out_dir, w, err)))
        goto out;
out:
    if (plain) seam_remove_flat_dir(plain);
    if (q) seam_remove_flat_dir(q);
    rmdir(tmp);
    free(tmp);
    free(plain);
    free(q);
    free(w);
    return s;
}

/* ------------------------------------------------------------------ manifests and checks */

seam_status seam_shard_manifest_parse(const char *text, size_t len, seam_shard_manifest *out, seam_error *err) {
    memset(out, 0, sizeof *out);
    char jerr[200];
    json_value *root = json_parse(text, len, jerr, sizeof jerr);
    if (!root) return seam_fail(err, SEAM_ERR_FORMAT, "manifest.json: %s", jerr);
    seam_status s = SEAM_OK;
    int64_t ver = 0, nl = 0, a = 0, b = 0;
    const char *fp = json_get_string(root, "parent_fingerprint");
    const json_value *files = json_get(root, "files"), *q = json_get(root, "quant");
    if (!json_get_int(root, "seam_shard_manifest", &ver) || ver != 1) {
        s = seam_fail(err, SEAM_ERR_FORMAT, "manifest.json: not a version 1 seam shard manifest");
        goto out;
    }
    if (!json_get_int(root, "n_layer", &nl) || !json_get_int(root, "layer_begin", &a) ||
        !json_get_int(root, "layer_end", &b) || nl < 1 || nl > 100000 || a < 0 || b < a || b > nl ||
        !json_get_bool(root, "has_embed", &out->range.embed) || !json_get_bool(root, "has_head", &out->range.head)) {
        s = seam_fail(err, SEAM_ERR_FORMAT, "manifest.json: bad or missing n_layer, layer range, has_embed or has_head");
        goto out;
    }
    out->n_layer = (int)nl;
    out->range.layer_begin = (int)a;
    out->range.layer_end = (int)b;
    if (!is_hex64(fp)) { s = seam_fail(err, SEAM_ERR_FORMAT, "manifest.json: parent_fingerprint is not 64 hex digits"); goto out; }
    memcpy(out->parent_fingerprint, fp, 65);
    if (q && q->type == JSON_STRING && (!strcmp(q->str, "q8") || !strcmp(q->str, "q4"))) {
        memcpy(out->quant, q->str, 3);
        out->range.quant = q->str[1] - '0';
    }
    else if (q && q->type != JSON_NULL) { s = seam_fail(err, SEAM_ERR_FORMAT, "manifest.json: quant must be null, q8 or q4"); goto out; }
    if (!files || files->type != JSON_ARRAY || files->len == 0 || files->len > SEAM_SHARD_MAX_FILES) {
        s = seam_fail(err, SEAM_ERR_FORMAT, "manifest.json: 'files' must list 1 to %d files", SEAM_SHARD_MAX_FILES);
        goto out;
    }
    for (size_t i = 0; i < files->len; i++) {
        const json_value *e = &files->items[i];
        const char *name = json_get_string(e, "name"), *sha = json_get_string(e, "sha256");
        int64_t size = -1;
        if (!name || !seam_shard_plain_name(name) || !strcmp(name, SEAM_SHARD_MANIFEST) || !is_hex64(sha) ||
            !json_get_int(e, "size", &size) || size < 0) {
            s = seam_fail(err, SEAM_ERR_FORMAT, "manifest.json: files[%zu] needs a plain name, a size and a sha256", i);
            goto out;
        }
        for (int j = 0; j < out->n_files; j++)
            if (!strcmp(out->files[j].name, name)) {
                s = seam_fail(err, SEAM_ERR_FORMAT, "manifest.json: '%s' is listed twice", name);
                goto out;
            }
        seam_shard_file *f = &out->files[out->n_files++];
        snprintf(f->name, sizeof f->name, "%s", name);
        f->size = (uint64_t)size;
        memcpy(f->sha256, sha, 65);
    }
out:
    json_free(root);
    return s;
}

seam_status seam_shard_manifest_read(const char *dir, seam_shard_manifest *out, seam_error *err) {
    char *path = seam_path_join(dir, SEAM_SHARD_MANIFEST), *text = NULL;
    size_t len = 0;
    if (!path) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    seam_status s = seam_file_exists(path) ? seam_read_file(path, MANIFEST_LIMIT, &text, &len, err)
                                           : seam_fail(err, SEAM_ERR_IO, "%s has no manifest.json: not a seam shard (or a half-written one)", dir);
    free(path);
    if (!s) s = seam_shard_manifest_parse(text, len, out, err);
    free(text);
    return s;
}

seam_status seam_shard_download_bytes(const char *dir, uint64_t *bytes, int *n_files, seam_error *err) {
    seam_shard_manifest man;
    seam_status s = seam_shard_manifest_read(dir, &man, err);
    if (s) return s;
    uint64_t t = 0;
    for (int i = 0; i < man.n_files; i++) t += man.files[i].size;
    *bytes = t;
    if (n_files) *n_files = man.n_files;
    return SEAM_OK;
}

static int holds(const seam_shard_range *have, const seam_shard_range *want) {
    return have->layer_begin <= want->layer_begin && want->layer_end <= have->layer_end &&
           (!want->embed || have->embed) && (!want->head || have->head);
}

static seam_status refuse_range(const char *what, const seam_shard_range *have, const seam_shard_range *want,
                                seam_error *err) {
    char a[96], b[96];
    return seam_fail(err, SEAM_ERR_RANGE, "%s holds layers %s but %s is needed", what, range_text(have, a, sizeof a),
                     range_text(want, b, sizeof b));
}

seam_status seam_model_check_shard(const seam_model *m, const seam_shard_range *want, const char *fingerprint,
                                   seam_error *err) {
    const seam_model_info *in = &m->cfg.info;
    int q = m->cfg.shard_quant[0] ? m->cfg.shard_quant[1] - '0' : 0;
    seam_shard_range have = {in->layer_begin, in->layer_end, in->has_embed, in->has_head, q};
    if (fingerprint) {
        char fp[65];
        seam_status s = fingerprint_of(m, fp, err);
        if (s) return s;
        if (strcmp(fp, fingerprint) != 0)
            return seam_fail(err, SEAM_ERR_RANGE, "%s belongs to model %.16s…, not to %.16s… (a shard of another model)",
                             m->dir, fp, fingerprint);
    }
    if (want && !holds(&have, want)) return refuse_range(m->dir, &have, want, err);
    return SEAM_OK;
}

seam_status seam_shard_verify(const char *dir, const seam_shard_range *want, const char *fingerprint,
                              int check_hashes, seam_error *err) {
    seam_shard_manifest man;
    seam_status s = seam_shard_manifest_read(dir, &man, err);
    if (s) return s;
    if (fingerprint && strcmp(fingerprint, man.parent_fingerprint) != 0)
        return seam_fail(err, SEAM_ERR_RANGE, "%s is a shard of model %.16s…, not of %.16s…", dir,
                         man.parent_fingerprint, fingerprint);
    if (want && !holds(&man.range, want)) return refuse_range(dir, &man.range, want, err);
    int has_config = 0;
    for (int i = 0; i < man.n_files; i++) {
        const seam_shard_file *f = &man.files[i];
        char *path = seam_path_join(dir, f->name);
        if (!path) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
        int64_t size = file_size_of(path);
        if (size < 0) s = seam_fail(err, SEAM_ERR_FORMAT, "%s: %s is missing", dir, f->name);
        else if ((uint64_t)size != f->size)
            s = seam_fail(err, SEAM_ERR_FORMAT, "%s: %s has %lld bytes, the manifest says %llu", dir, f->name,
                          (long long)size, (unsigned long long)f->size);
        else if (check_hashes) {
            uint8_t d[SEAM_SHA256_SIZE];
            char hex[65];
            if (!(s = seam_sha256_file(path, d, NULL, err))) {
                hex_of(d, hex);
                if (strcmp(hex, f->sha256) != 0)
                    s = seam_fail(err, SEAM_ERR_FORMAT, "%s: %s fails its sha256 check (damaged or changed)", dir, f->name);
            }
        }
        free(path);
        if (s) return s;
        has_config |= !strcmp(f->name, "config.json");
    }
    if (!has_config) return seam_fail(err, SEAM_ERR_FORMAT, "%s: manifest.json does not list config.json", dir);
    /* The config must say what the manifest says (it is what the loader will believe). */
    char *path = seam_path_join(dir, "config.json"), *text = NULL;
    size_t len = 0;
    if (!path) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    s = seam_read_file(path, CONFIG_LIMIT, &text, &len, err);
    free(path);
    if (s) return s;
    seam_config cfg;
    s = seam_config_parse(text, len, &cfg, err);
    free(text);
    if (s) {
        if (err) seam_fail_wrap(err, "%s", dir);
        return s;
    }
    const seam_model_info *in = &cfg.info;
    if (!cfg.is_shard || in->layer_begin != man.range.layer_begin || in->layer_end != man.range.layer_end ||
        in->has_embed != man.range.embed || in->has_head != man.range.head || in->n_layer != man.n_layer ||
        strcmp(cfg.shard_parent, man.parent_fingerprint) != 0 || strcmp(cfg.shard_quant, man.quant) != 0)
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: config.json and manifest.json describe different shards", dir);
    return SEAM_OK;
}
