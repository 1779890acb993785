#include "format/safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/error.h"
#include "util/json.h"

static const struct { const char *name; size_t size; } dtype_table[ST_DTYPE_COUNT] = {
    [ST_BOOL] = {"BOOL", 1}, [ST_U8] = {"U8", 1},     [ST_I8] = {"I8", 1},
    [ST_I16] = {"I16", 2},   [ST_U16] = {"U16", 2},   [ST_F16] = {"F16", 2},
    [ST_BF16] = {"BF16", 2}, [ST_I32] = {"I32", 4},   [ST_U32] = {"U32", 4},
    [ST_F32] = {"F32", 4},   [ST_I64] = {"I64", 8},   [ST_U64] = {"U64", 8},
    [ST_F64] = {"F64", 8},   [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
};

const char *st_dtype_name(st_dtype d) { return d < ST_DTYPE_COUNT ? dtype_table[d].name : "?"; }
size_t st_dtype_size(st_dtype d) { return d < ST_DTYPE_COUNT ? dtype_table[d].size : 0; }

static int dtype_from_name(const char *s, st_dtype *out) {
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (strcmp(s, dtype_table[i].name) == 0) { *out = (st_dtype)i; return 1; }
    return 0;
}

static int cmp_tensor_name(const void *a, const void *b) {
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

static int cmp_tensor_begin(const void *a, const void *b) {
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

void st_close(st_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->n_tensors; i++) free(f->tensors[i].name);
    free(f->tensors);
    for (size_t i = 0; i < f->n_meta; i++) { free(f->meta_keys[i]); free(f->meta_values[i]); }
    free(f->meta_keys);
    free(f->meta_values);
    if (f->map) munmap(f->map, f->map_len);
    free(f->path);
    memset(f, 0, sizeof *f);
}

static seam_status parse_metadata(const json_value *m, st_file *f, seam_error *err) {
    if (m->type != JSON_OBJECT) return seam_fail(err, SEAM_ERR_FORMAT, "__metadata__ is not an object");
    f->meta_keys = calloc(m->len + 1, sizeof(char *));
    f->meta_values = calloc(m->len + 1, sizeof(char *));
    if (!f->meta_keys || !f->meta_values) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < m->len; i++) {
        const json_member *mm = &m->members[i];
        if (mm->value.type != JSON_STRING || strlen(mm->value.str) != mm->value.len)
            return seam_fail(err, SEAM_ERR_FORMAT, "__metadata__ value for '%s' is not a string", mm->key);
        f->meta_keys[i] = strdup(mm->key);
        f->meta_values[i] = strdup(mm->value.str);
        f->n_meta = i + 1;
        if (!f->meta_keys[i] || !f->meta_values[i]) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    }
    return SEAM_OK;
}

static seam_status parse_tensor(const json_member *mm, uint64_t data_len, st_tensor *t, seam_error *err) {
    const json_value *v = &mm->value;
    const char *name = mm->key;
    if (v->type != JSON_OBJECT) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': entry is not an object", name);
    const char *dt = json_get_string(v, "dtype");
    if (!dt) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': missing dtype", name);
    if (!dtype_from_name(dt, &t->dtype)) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': unknown dtype '%s'", name, dt);
    const json_value *shape = json_get(v, "shape");
    if (!shape || shape->type != JSON_ARRAY) return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': missing shape", name);
    if (shape->len > ST_MAX_DIMS)
        return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': %zu dimensions (at most %d)", name, shape->len, ST_MAX_DIMS);
    uint64_t n = 1;
    t->n_dims = (int)shape->len;
    for (size_t i = 0; i < shape->len; i++) {
        const json_value *d = &shape->items[i];
        if (d->type != JSON_NUMBER || !d->is_int || d->integer < 0)
            return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': shape entries must be non-negative integers", name);
        t->shape[i] = d->integer;
        /* Bound the product so the byte count below cannot overflow. */
        if (d->integer != 0 && n > (UINT64_MAX / 16) / (uint64_t)d->integer)
            return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': shape is absurdly large", name);
        n *= (uint64_t)d->integer;
    }
    t->n_elems = n;
    const json_value *off = json_get(v, "data_offsets");
    if (!off || off->type != JSON_ARRAY || off->len != 2 || off->items[0].type != JSON_NUMBER ||
        off->items[1].type != JSON_NUMBER || !off->items[0].is_int || !off->items[1].is_int ||
        off->items[0].integer < 0 || off->items[1].integer < 0)
        return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': data_offsets must be [begin, end] integers", name);
    t->begin = (uint64_t)off->items[0].integer;
    t->end = (uint64_t)off->items[1].integer;
    if (t->begin > t->end)
        return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': data_offsets begin %llu > end %llu", name,
                         (unsigned long long)t->begin, (unsigned long long)t->end);
    if (t->end > data_len)
        return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': data_offsets end %llu is past the data (%llu bytes; file truncated?)",
                         name, (unsigned long long)t->end, (unsigned long long)data_len);
    uint64_t want = n * st_dtype_size(t->dtype);
    if (t->end - t->begin != want)
        return seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s': %llu bytes stored but shape and dtype %s need %llu", name,
                         (unsigned long long)(t->end - t->begin), dt, (unsigned long long)want);
    t->name = strdup(name);
    if (!t->name) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    return SEAM_OK;
}

seam_status st_parse(const uint8_t *buf, size_t len, st_file *f, seam_error *err) {
    memset(f, 0, sizeof *f);
    if (len < 8) return seam_fail(err, SEAM_ERR_FORMAT, "file is %zu bytes, too short for a safetensors header", len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | buf[i];
    if (hlen > ST_MAX_HEADER) return seam_fail(err, SEAM_ERR_FORMAT, "header length %llu exceeds the %u-byte limit",
                                               (unsigned long long)hlen, ST_MAX_HEADER);
    if (hlen > len - 8)
        return seam_fail(err, SEAM_ERR_FORMAT, "header length %llu runs past the end of the file (%zu bytes; truncated?)",
                         (unsigned long long)hlen, len);
    if (hlen < 2 || buf[8] != '{') return seam_fail(err, SEAM_ERR_FORMAT, "header does not start with a JSON object");
    char jerr[256];
    /* The reference pads headers with trailing spaces; json_parse skips whitespace. */
    json_value *root = json_parse((const char *)buf + 8, (size_t)hlen, jerr, sizeof jerr);
    if (!root) return seam_fail(err, SEAM_ERR_FORMAT, "header: %s", jerr);
    seam_status s = SEAM_OK;
    const uint8_t *data = buf + 8 + hlen;
    uint64_t data_len = len - 8 - hlen;
    if (root->type != JSON_OBJECT) { s = seam_fail(err, SEAM_ERR_FORMAT, "header is not a JSON object"); goto out; }
    f->tensors = calloc(root->len + 1, sizeof *f->tensors);
    if (!f->tensors) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < root->len; i++) {
        const json_member *mm = &root->members[i];
        if (strlen(mm->key) != mm->key_len) { s = seam_fail(err, SEAM_ERR_FORMAT, "a tensor name contains a NUL byte"); goto out; }
        if (strcmp(mm->key, "__metadata__") == 0) {
            if (f->meta_keys) { s = seam_fail(err, SEAM_ERR_FORMAT, "duplicate __metadata__"); goto out; }
            if ((s = parse_metadata(&mm->value, f, err)) != SEAM_OK) goto out;
            continue;
        }
        st_tensor *t = &f->tensors[f->n_tensors];
        if ((s = parse_tensor(mm, data_len, t, err)) != SEAM_OK) goto out;
        t->data = data + t->begin;
        f->n_tensors++;
    }
    qsort(f->tensors, f->n_tensors, sizeof *f->tensors, cmp_tensor_name);
    for (size_t i = 1; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i - 1].name, f->tensors[i].name) == 0) {
            s = seam_fail(err, SEAM_ERR_FORMAT, "tensor '%s' appears twice", f->tensors[i].name);
            goto out;
        }
    {
        /* Overlapping byte ranges would let one tensor alias another. */
        const st_tensor **by_begin = malloc((f->n_tensors + 1) * sizeof *by_begin);
        if (!by_begin) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
        for (size_t i = 0; i < f->n_tensors; i++) by_begin[i] = &f->tensors[i];
        qsort(by_begin, f->n_tensors, sizeof *by_begin, cmp_tensor_begin);
        const st_tensor *widest = NULL; /* the non-empty tensor reaching furthest so far */
        for (size_t i = 0; i < f->n_tensors; i++) {
            const st_tensor *t = by_begin[i];
            if (t->begin == t->end) continue;
            if (widest && t->begin < widest->end) {
                s = seam_fail(err, SEAM_ERR_FORMAT, "tensors '%s' and '%s' have overlapping data_offsets",
                              widest->name, t->name);
                break;
            }
            if (!widest || t->end > widest->end) widest = t;
        }
        free(by_begin);
    }
out:
    json_free(root);
    if (s != SEAM_OK) st_close(f);
    return s;
}

seam_status st_open(const char *path, st_file *f, seam_error *err) {
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return seam_fail(err, SEAM_ERR_IO, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return seam_fail(err, SEAM_ERR_IO, "%s is not a regular file", path);
    }
    size_t len = (size_t)st.st_size;
    void *map = NULL;
    if (len > 0) {
        map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
        if (map == MAP_FAILED) {
            close(fd);
            return seam_fail(err, SEAM_ERR_IO, "cannot map %s: %s", path, strerror(errno));
        }
    }
    close(fd);
    seam_status s = st_parse(map ? map : (const uint8_t *)"", len, f, err);
    if (s != SEAM_OK) {
        if (map) munmap(map, len);
        return seam_fail_wrap(err, "%s", path);
    }
    f->map = map;
    f->map_len = len;
    f->path = strdup(path);
    if (!f->path) { st_close(f); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    return SEAM_OK;
}

const st_tensor *st_find(const st_file *f, const char *name) {
    size_t lo = 0, hi = f->n_tensors;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(f->tensors[mid].name, name);
        if (c == 0) return &f->tensors[mid];
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}

const char *st_meta(const st_file *f, const char *key) {
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_values[i];
    return NULL;
}
