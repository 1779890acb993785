/* seam quantize: a model folder in, a folder with quantised weights out. */
#include "quant/quantize.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "quant/quant.h"
#include "util/error.h"
#include "util/pool.h"

/* ------------------------------------------------------------------ header writing */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 4096;
        while (nc < b->len + n + 1) nc *= 2;
        char *np = realloc(b->p, nc);
        if (!np) { b->oom = 1; return; }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_printf(sbuf *b, const char *fmt, ...) SEAM_PRINTF(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) { b->oom = 1; return; }
    sb_put(b, tmp, (size_t)n);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void sb_str(sbuf *b, const char *s) {
    sb_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') { sb_put(b, "\\", 1); sb_put(b, (const char *)p, 1); }
        else if (*p < 0x20) sb_printf(b, "\\u%04x", *p);
        else sb_put(b, (const char *)p, 1);
    }
    sb_put(b, "\"", 1);
}

static uint64_t tensor_bytes(const stw_tensor *t) {
    uint64_t n = st_dtype_size(t->dtype);
    for (int d = 0; d < t->n_dims; d++) n *= (uint64_t)t->shape[d];
    return n;
}

seam_status stw_header(stw_tensor *t, size_t n, const char *const *meta, size_t n_meta, uint8_t **out, size_t *len,
                       seam_error *err) {
    sbuf b = {0};
    sb_put(&b, "\0\0\0\0\0\0\0\0{", 9);
    int first = 1;
    if (n_meta) {
        sb_put(&b, "\"__metadata__\":{", 16);
        for (size_t i = 0; i < n_meta; i++) {
            if (i) sb_put(&b, ",", 1);
            sb_str(&b, meta[2 * i]);
            sb_put(&b, ":", 1);
            sb_str(&b, meta[2 * i + 1]);
        }
        sb_put(&b, "}", 1);
        first = 0;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (!first) sb_put(&b, ",", 1);
        first = 0;
        sb_str(&b, t[i].name);
        sb_printf(&b, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype_name(t[i].dtype));
        for (int d = 0; d < t[i].n_dims; d++) sb_printf(&b, "%s%" PRId64, d ? "," : "", t[i].shape[d]);
        t[i].begin = off;
        t[i].end = off + tensor_bytes(&t[i]);
        off = t[i].end;
        sb_printf(&b, "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", t[i].begin, t[i].end);
    }
    sb_put(&b, "}", 1);
    while (!b.oom && b.len % 64 != 0) sb_put(&b, " ", 1);
    if (b.oom) { free(b.p); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory writing a safetensors header"); }
    uint64_t hl = b.len - 8;
    for (int i = 0; i < 8; i++) b.p[i] = (char)(hl >> (8 * i));
    *out = (uint8_t *)b.p;
    *len = b.len;
    return SEAM_OK;
}

/* ------------------------------------------------------------------ the plan */

enum { ROLE_OTHER, ROLE_DROP, ROLE_CONV1D, ROLE_WTE, ROLE_LM_HEAD };

/* What a tensor is to GPT-2, by name (either key naming). */
static int role_of(const char *name) {
    if (!strncmp(name, "transformer.", 12)) name += 12;
    if (!strcmp(name, "wte.weight")) return ROLE_WTE;
    if (!strcmp(name, "lm_head.weight")) return ROLE_LM_HEAD;
    if (name[0] == 'h' && name[1] == '.' && isdigit((unsigned char)name[2])) {
        const char *p = name + 2;
        while (isdigit((unsigned char)*p)) p++;
        if (*p++ != '.') return ROLE_OTHER;
        if (!strcmp(p, "attn.c_attn.weight") || !strcmp(p, "attn.c_proj.weight") || !strcmp(p, "mlp.c_fc.weight") ||
            !strcmp(p, "mlp.c_proj.weight"))
            return ROLE_CONV1D;
        /* causal-mask buffers of the hub's checkpoints; the loader ignores them */
        if (!strcmp(p, "attn.bias") || !strcmp(p, "attn.masked_bias")) return ROLE_DROP;
    }
    return ROLE_OTHER;
}

typedef struct {
    const st_tensor *src;
    seam_quant type; /* SEAM_QUANT_NONE: copied as stored */
    int conv1d;      /* the source is [K, N] (Conv1D), else [N, K] */
    int N, K;
    int out[3];      /* output tensors: copy; or quants, scales, mins */
    char *names[3];
} qjob;

typedef struct {
    qjob *jobs;
    size_t n_jobs;
    stw_tensor *outs;
    size_t n_outs;
    int *out_job; /* job of each output */
} qplan;

static void plan_free(qplan *p) {
    for (size_t i = 0; i < p->n_jobs; i++)
        for (int k = 0; k < 3; k++) free(p->jobs[i].names[k]);
    free(p->jobs);
    free(p->outs);
    free(p->out_job);
}

static int is_float(st_dtype d) { return d == ST_F32 || d == ST_F16 || d == ST_BF16; }

static char *concat(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s) { memcpy(s, a, la); memcpy(s + la, b, lb + 1); }
    return s;
}

/* Adds a job; quantised when type is set and the shape allows it. */
static seam_status add_job(qplan *p, const st_tensor *src, const char *name, seam_quant type, int conv1d,
                           seam_error *err) {
    qjob *j = &p->jobs[p->n_jobs];
    memset(j, 0, sizeof *j);
    j->src = src;
    if (type && src->n_dims == 2 && is_float(src->dtype) && src->shape[0] > 0 && src->shape[1] > 0 &&
        src->shape[0] <= INT32_MAX && src->shape[1] <= INT32_MAX) {
        int K = (int)(conv1d ? src->shape[0] : src->shape[1]), N = (int)(conv1d ? src->shape[1] : src->shape[0]);
        if (K % SEAM_QBLOCK == 0) {
            j->type = type;
            j->conv1d = conv1d;
            j->N = N;
            j->K = K;
        }
    }
    const char *suffix[3] = {"", NULL, NULL};
    if (j->type == SEAM_QUANT_Q8) { suffix[0] = ".q8"; suffix[1] = ".q8_scale"; }
    if (j->type == SEAM_QUANT_Q4) { suffix[0] = ".q4"; suffix[1] = ".q4_scale"; suffix[2] = ".q4_min"; }
    for (int k = 0; k < 3; k++) {
        j->out[k] = -1;
        if (!suffix[k]) continue;
        if (!(j->names[k] = concat(name, suffix[k]))) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    }
    p->n_jobs++;
    return SEAM_OK;
}

static void add_out(qplan *p, size_t job, int k) {
    qjob *j = &p->jobs[job];
    stw_tensor *o = &p->outs[p->n_outs];
    memset(o, 0, sizeof *o);
    o->name = j->names[k];
    if (!j->type) {
        o->dtype = j->src->dtype;
        o->n_dims = j->src->n_dims;
        for (int d = 0; d < o->n_dims; d++) o->shape[d] = j->src->shape[d];
    } else {
        o->n_dims = 2;
        o->shape[0] = j->N;
        if (k == 0) {
            o->dtype = j->type == SEAM_QUANT_Q8 ? ST_I8 : ST_U8;
            o->shape[1] = (int64_t)seam_quant_row_bytes(j->type, j->K);
        } else {
            o->dtype = ST_F16;
            o->shape[1] = j->K / SEAM_QBLOCK;
        }
    }
    j->out[k] = (int)p->n_outs;
    p->out_job[p->n_outs++] = (int)job;
}

static seam_status make_plan(const seam_model *m, const seam_quantize_params *qp, qplan *p, seam_error *err) {
    size_t n_src = 0;
    for (size_t f = 0; f < m->n_files; f++) n_src += m->files[f].n_tensors;
    memset(p, 0, sizeof *p);
    p->jobs = calloc(n_src + 1, sizeof *p->jobs);
    p->outs = calloc(3 * (n_src + 1), sizeof *p->outs);
    p->out_job = calloc(3 * (n_src + 1), sizeof *p->out_job);
    if (!p->jobs || !p->outs || !p->out_job) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    seam_quant head_type = qp->head_type ? qp->head_type : SEAM_QUANT_Q8;
    const st_tensor *wte = NULL;
    int has_lm_head = 0;
    seam_status s;
    for (size_t f = 0; f < m->n_files; f++)
        for (size_t i = 0; i < m->files[f].n_tensors; i++) {
            const st_tensor *t = &m->files[f].tensors[i];
            int dup = 0;
            for (size_t j = 0; j < p->n_jobs && !dup; j++) dup = !strcmp(p->jobs[j].src->name, t->name);
            int role = role_of(t->name);
            if (dup || role == ROLE_DROP) continue;
            seam_quant type = SEAM_QUANT_NONE;
            if (role == ROLE_CONV1D) type = qp->type;
            if (role == ROLE_WTE) { wte = t; type = qp->head == SEAM_QHEAD_TIED ? head_type : SEAM_QUANT_NONE; }
            if (role == ROLE_LM_HEAD) { has_lm_head = 1; type = qp->head != SEAM_QHEAD_KEEP ? head_type : SEAM_QUANT_NONE; }
            if ((s = add_job(p, t, t->name, type, role == ROLE_CONV1D, err))) return s;
        }
    /* A tied head written separately is quantised from wte. */
    if (qp->head == SEAM_QHEAD_SEPARATE && !has_lm_head && wte)
        if ((s = add_job(p, wte, "lm_head.weight", head_type, 0, err))) return s;
    /* Layout: wide elements first so every tensor starts aligned to its element size
     * (quantised groups have even sizes), single bytes of odd length last. */
    for (size_t esz = 8; esz >= 2; esz /= 2)
        for (size_t j = 0; j < p->n_jobs; j++)
            if (!p->jobs[j].type && st_dtype_size(p->jobs[j].src->dtype) == esz) add_out(p, j, 0);
    for (size_t j = 0; j < p->n_jobs; j++)
        if (p->jobs[j].type) {
            add_out(p, j, 1);
            if (p->jobs[j].type == SEAM_QUANT_Q4) add_out(p, j, 2);
            add_out(p, j, 0);
        }
    for (size_t j = 0; j < p->n_jobs; j++)
        if (!p->jobs[j].type && st_dtype_size(p->jobs[j].src->dtype) < 2) add_out(p, j, 0);
    return SEAM_OK;
}

/* ------------------------------------------------------------------ writing */

static seam_status write_at(int fd, const void *buf, size_t len, uint64_t off, const char *path, seam_error *err) {
    const uint8_t *p = buf;
    while (len > 0) {
        size_t chunk = len < (1u << 30) ? len : (1u << 30);
        ssize_t w = pwrite(fd, p, chunk, (off_t)off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return seam_fail(err, SEAM_ERR_IO, "cannot write %s: %s", path, w < 0 ? strerror(errno) : "short write");
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return SEAM_OK;
}

static float src_elem(const st_tensor *t, size_t i) {
    if (t->dtype == ST_F32) {
        float f;
        memcpy(&f, t->data + 4 * i, 4);
        return f;
    }
    uint16_t h;
    memcpy(&h, t->data + 2 * i, 2);
    return t->dtype == ST_F16 ? seam_f16_to_f32(h) : seam_bf16_to_f32(h);
}

typedef struct {
    int fd;
    const char *path;
    uint64_t data_start, done, total, last_report;
    const seam_quantize_params *qp;
    seam_pool *pool;
} writer;

/* Bytes written so far are now done. */
static void progress_at(writer *w, uint64_t done) {
    w->done = done;
    if (w->qp->progress && (w->done - w->last_report >= (8u << 20) || (w->done == w->total && w->last_report != w->total))) {
        w->last_report = w->done;
        w->qp->progress(w->qp->user, w->done, w->total);
    }
}

static void progress(writer *w, uint64_t bytes) { progress_at(w, w->done + bytes); }

#define PANEL 32

/* One matrix, quantised by every thread of the pool: thread i takes panels of PANEL output
 * rows i, i + n, ... and writes their quants, scales and offsets in place (pwrite). */
typedef struct {
    writer *w;
    const qjob *j;
    uint64_t off_q, off_d, off_m, base;
    atomic_int failed;   /* 0, or the seam_status of the first failure */
    atomic_uint_fast64_t bytes_done;
    seam_error err;      /* written by the thread that set failed */
} quant_task;

static void quant_worker(void *arg, int ith, int nth) {
    quant_task *qt = arg;
    const qjob *j = qt->j;
    int K = j->K, N = j->N, nb = K / SEAM_QBLOCK;
    size_t rb = seam_quant_row_bytes(j->type, K), sb = (size_t)nb * sizeof(uint16_t);
    float *rows = malloc((size_t)PANEL * K * sizeof *rows);
    uint8_t *q = malloc((size_t)PANEL * rb);
    uint16_t *d = malloc((size_t)PANEL * sb), *mn = malloc((size_t)PANEL * sb);
    seam_error err = {0};
    seam_status s = SEAM_OK;
    if (!rows || !q || !d || !mn) s = seam_fail(&err, SEAM_ERR_NOMEM, "out of memory");
    size_t srcN = (size_t)(j->conv1d ? N : K);
    for (int n0 = ith * PANEL; !s && n0 < N && !atomic_load(&qt->failed); n0 += nth * PANEL) {
        int P = N - n0 < PANEL ? N - n0 : PANEL;
        if (j->conv1d) {
            for (int k = 0; k < K; k++)
                for (int r = 0; r < P; r++) rows[(size_t)r * K + k] = src_elem(j->src, (size_t)k * srcN + (size_t)(n0 + r));
        } else {
            for (int r = 0; r < P; r++)
                for (int k = 0; k < K; k++) rows[(size_t)r * K + k] = src_elem(j->src, (size_t)(n0 + r) * srcN + (size_t)k);
        }
        for (int r = 0; r < P && !s; r++) {
            int ok = j->type == SEAM_QUANT_Q8
                         ? seam_q8_quantize_row(rows + (size_t)r * K, K, (int8_t *)q + (size_t)r * rb, d + (size_t)r * nb)
                         : seam_q4_quantize_row(rows + (size_t)r * K, K, q + (size_t)r * rb, d + (size_t)r * nb,
                                                mn + (size_t)r * nb);
            if (!ok) s = seam_fail(&err, SEAM_ERR_FORMAT, "tensor '%s' holds a NaN or infinite value", j->src->name);
        }
        if (!s) s = write_at(qt->w->fd, q, (size_t)P * rb, qt->off_q + (uint64_t)n0 * rb, qt->w->path, &err);
        if (!s) s = write_at(qt->w->fd, d, (size_t)P * sb, qt->off_d + (uint64_t)n0 * sb, qt->w->path, &err);
        if (!s && j->type == SEAM_QUANT_Q4)
            s = write_at(qt->w->fd, mn, (size_t)P * sb, qt->off_m + (uint64_t)n0 * sb, qt->w->path, &err);
        atomic_fetch_add(&qt->bytes_done, (uint64_t)P * (rb + sb * (j->type == SEAM_QUANT_Q4 ? 2 : 1)));
        if (ith == 0) progress_at(qt->w, qt->base + atomic_load(&qt->bytes_done)); /* the calling thread */
    }
    if (s) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&qt->failed, &expected, (int)s)) qt->err = err;
    }
    free(rows);
    free(q);
    free(d);
    free(mn);
}

static seam_status write_quant(writer *w, const qplan *p, const qjob *j, seam_error *err) {
    quant_task qt = {.w = w, .j = j};
    atomic_init(&qt.failed, 0);
    atomic_init(&qt.bytes_done, 0);
    qt.off_q = w->data_start + p->outs[j->out[0]].begin;
    qt.off_d = w->data_start + p->outs[j->out[1]].begin;
    qt.off_m = j->type == SEAM_QUANT_Q4 ? w->data_start + p->outs[j->out[2]].begin : 0;
    qt.base = w->done;
    seam_pool_run(w->pool, quant_worker, &qt);
    int f = atomic_load(&qt.failed);
    if (f) {
        if (err) *err = qt.err;
        return (seam_status)f;
    }
    progress_at(w, qt.base + atomic_load(&qt.bytes_done));
    return SEAM_OK;
}

static seam_status write_weights(const seam_model *m, const qplan *p, const seam_quantize_params *qp, const char *path,
                                 seam_error *err) {
    /* __metadata__: the source's entries (but ours), then seam_quant and seam_quant_block. */
    const st_file *f0 = &m->files[0];
    const char **meta = calloc(2 * (f0->n_meta + 2), sizeof *meta);
    uint8_t *hdr = NULL;
    size_t hl = 0, n_meta = 0;
    if (!meta) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < f0->n_meta; i++) {
        if (!strncmp(f0->meta_keys[i], "seam_quant", 10)) continue;
        meta[2 * n_meta] = f0->meta_keys[i];
        meta[2 * n_meta++ + 1] = f0->meta_values[i];
    }
    meta[2 * n_meta] = "seam_quant";
    meta[2 * n_meta++ + 1] = seam_quant_name(qp->type);
    meta[2 * n_meta] = "seam_quant_block";
    meta[2 * n_meta++ + 1] = "32";
    seam_status s = stw_header(p->outs, p->n_outs, meta, n_meta, &hdr, &hl, err);
    free(meta);
    if (s) return s;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(hdr);
        return seam_fail(err, SEAM_ERR_IO, "cannot create %s: %s", path, strerror(errno));
    }
    writer w = {fd, path, hl, 0, p->n_outs ? p->outs[p->n_outs - 1].end : 0, 0, qp, NULL};
    int nth = qp->n_threads > 0 ? qp->n_threads : seam_physical_cores();
    if (nth > 1 && seam_pool_new(nth, &w.pool, err) != SEAM_OK) w.pool = NULL; /* fall back to one thread */
    s = write_at(fd, hdr, hl, 0, path, err);
    free(hdr);
    for (size_t i = 0; !s && i < p->n_outs; i++) {
        const qjob *j = &p->jobs[p->out_job[i]];
        if (!j->type) {
            uint64_t bytes = j->src->end - j->src->begin;
            s = write_at(fd, j->src->data, (size_t)bytes, hl + p->outs[i].begin, path, err);
            if (!s) progress(&w, bytes);
        } else if ((int)i == j->out[1]) { /* a quantised group is written once, at its first array */
            s = write_quant(&w, p, j, err);
        }
    }
    /* The data must reach its final size even when the last tensor is empty. */
    if (!s && ftruncate(fd, (off_t)(hl + w.total)) != 0)
        s = seam_fail(err, SEAM_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (!s && fsync(fd) != 0) s = seam_fail(err, SEAM_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    if (close(fd) != 0 && !s) s = seam_fail(err, SEAM_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    seam_pool_free(w.pool);
    return s;
}

/* ------------------------------------------------------------------ the folder */

static seam_status copy_file(const char *in_dir, const char *out_dir, const char *name, int required, seam_error *err) {
    char *src = seam_path_join(in_dir, name), *dst = seam_path_join(out_dir, name), *data = NULL;
    seam_status s = SEAM_OK;
    size_t len = 0;
    if (!src || !dst) s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    else if (!seam_file_exists(src)) {
        if (required) s = seam_fail(err, SEAM_ERR_IO, "%s is missing", src);
    } else if (!(s = seam_read_file(src, 1u << 30, &data, &len, err))) {
        s = seam_write_file_atomic(dst, data, len, err);
    }
    free(data);
    free(src);
    free(dst);
    return s;
}

seam_status seam_quantize_model(const char *in_dir, const char *out_dir, const seam_quantize_params *qp,
                                seam_error *err) {
    if (!in_dir || !out_dir || !qp) return seam_fail(err, SEAM_ERR_ARG, "quantize needs an input and an output folder");
    if (qp->type != SEAM_QUANT_Q8 && qp->type != SEAM_QUANT_Q4)
        return seam_fail(err, SEAM_ERR_ARG, "quantisation type must be q8 or q4");
    if (qp->head_type != SEAM_QUANT_NONE && qp->head_type != SEAM_QUANT_Q8 && qp->head_type != SEAM_QUANT_Q4)
        return seam_fail(err, SEAM_ERR_ARG, "head quantisation type must be q8 or q4");
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        return seam_fail(err, SEAM_ERR_IO, "cannot create %s: %s", out_dir, strerror(errno));
    struct stat si, so;
    if (stat(out_dir, &so) != 0 || !S_ISDIR(so.st_mode)) return seam_fail(err, SEAM_ERR_IO, "%s is not a folder", out_dir);
    if (stat(in_dir, &si) == 0 && si.st_dev == so.st_dev && si.st_ino == so.st_ino)
        return seam_fail(err, SEAM_ERR_ARG, "the output folder is the input folder (%s)", in_dir);

    seam_model *m = NULL;
    seam_status s = seam_model_open(in_dir, &m, err);
    if (s) return s;
    qplan plan = {0};
    char *tmp = seam_path_join(out_dir, "model.safetensors.tmp"), *final = seam_path_join(out_dir, "model.safetensors");
    if (!tmp || !final) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    if (m->quant_max_k > 0) {
        s = seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s is quantised already; quantize its f32/f16 original", in_dir);
        goto out;
    }
    if ((s = make_plan(m, qp, &plan, err))) goto out;
    static const char *const aux[] = {"tokenizer.json",        "tokenizer_config.json", "vocab.json",
                                      "merges.txt",            "special_tokens_map.json", "added_tokens.json",
                                      "generation_config.json"};
    for (size_t i = 0; i < sizeof aux / sizeof aux[0]; i++)
        if ((s = copy_file(in_dir, out_dir, aux[i], 0, err))) goto out;
    if ((s = write_weights(m, &plan, qp, tmp, err))) { unlink(tmp); goto out; }
    if (rename(tmp, final) != 0) {
        s = seam_fail(err, SEAM_ERR_IO, "cannot rename %s to %s: %s", tmp, final, strerror(errno));
        unlink(tmp);
        goto out;
    }
    /* config.json last: a folder interrupted before this point does not load as a model. */
    s = copy_file(in_dir, out_dir, "config.json", 1, err);
out:
    plan_free(&plan);
    free(tmp);
    free(final);
    seam_model_close(m);
    return s;
}
