/* Shard downloads from `seam serve`: GET /v1/models/{id}/shards?layers=A:B[&embed=1][&head=1]
 * answers the manifest, GET .../shards/{file}?... one file of it. A shard is built with
 * seam_shard_write on first request into a temporary folder, then renamed into the cache, so
 * a crash mid-build never leaves a folder that looks complete. Files are sent from their
 * file descriptor (no copy), with single-range Range support (206 / 416), ETag = the file's
 * sha256 from the manifest, and If-None-Match (304). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/shard.h"
#include "net/net.h"
#include "util/error.h"
#include "util/sha256.h"

struct shard_cache {
    char *model_dir, *root; /* root = cache_dir/FINGERPRINT */
    char fingerprint[SEAM_FINGERPRINT_HEX_SIZE];
    int n_layer;
    pthread_mutex_t lock;   /* serialises lookups and builds */
    unsigned builds;
};

seam_status shard_cache_new(const char *model_dir, const char *fingerprint, const char *cache_dir, shard_cache **out,
                            seam_error *err) {
    *out = NULL;
    char *base = NULL;
    const char *v;
    if (cache_dir && *cache_dir) base = strdup(cache_dir);
    else if ((v = getenv("SEAM_HOME")) && *v) base = seam_path_join(v, "serve-cache");
    else if ((v = getenv("HOME")) && *v) base = seam_path_join(v, ".cache/seam/serve-cache");
    else return seam_fail(err, SEAM_ERR_IO, "no cache folder for shards: pass --cache-dir or set SEAM_HOME");
    shard_cache *c = calloc(1, sizeof *c);
    if (!c || !base) { free(c); free(base); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    c->model_dir = strdup(model_dir);
    c->root = seam_path_join(base, fingerprint);
    free(base);
    memcpy(c->fingerprint, fingerprint, SEAM_FINGERPRINT_HEX_SIZE);
    pthread_mutex_init(&c->lock, NULL);
    seam_model *m = NULL;
    seam_status s = !c->model_dir || !c->root ? seam_fail(err, SEAM_ERR_NOMEM, "out of memory")
                                              : seam_model_open(model_dir, &m, err);
    if (!s) c->n_layer = seam_model_get_info(m)->n_layer;
    seam_model_close(m);
    if (!s) s = seam_mkdirs(c->root, err);
    if (s) { shard_cache_free(c); return s; }
    *out = c;
    return SEAM_OK;
}

void shard_cache_free(shard_cache *c) {
    if (!c) return;
    pthread_mutex_destroy(&c->lock);
    free(c->model_dir);
    free(c->root);
    free(c);
}

/* "1"/"true" or "0"/"false"/absent; -1 for anything else. */
static int flag_arg(struct MHD_Connection *conn, const char *key) {
    const char *v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
    if (!v || !strcmp(v, "0") || !strcmp(v, "false")) return 0;
    if (!strcmp(v, "1") || !strcmp(v, "true") || !*v) return 1;
    return -1;
}

static int parse_range_arg(struct MHD_Connection *conn, int n_layer, seam_shard_range *r, http_answer *a) {
    const char *l = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "layers");
    const char *q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "quant");
    memset(r, 0, sizeof *r);
    if (q && *q && strcmp(q, "none") != 0 && strcmp(q, "q8") != 0 && strcmp(q, "q4") != 0) {
        answer_error(a, 400, "invalid_quant", "quant must be q8, q4 or none");
        return 0;
    }
    char *end;
    if (!l || *l < '0' || *l > '9') goto bad;
    long x = strtol(l, &end, 10);
    if (*end != ':' || end[1] < '0' || end[1] > '9') goto bad;
    long y = strtol(end + 1, &end, 10);
    if (*end || x > y || y > n_layer) goto bad;
    r->layer_begin = (int)x;
    r->layer_end = (int)y;
    r->quant = q && !strcmp(q, "q8") ? 8 : q && !strcmp(q, "q4") ? 4 : 0;
    r->embed = flag_arg(conn, "embed");
    r->head = flag_arg(conn, "head");
    if (r->embed < 0 || r->head < 0) {
        answer_error(a, 400, "invalid_shard", "embed and head take 1 or 0");
        return 0;
    }
    if ((r->embed && r->layer_begin != 0) || (r->head && r->layer_end != n_layer) ||
        (r->layer_begin == r->layer_end && !r->embed && !r->head)) {
        answer_error(a, 400, "invalid_shard", "embed=1 needs layers starting at 0, head=1 layers ending at %d, and the "
                     "shard must hold something", n_layer);
        return 0;
    }
    return 1;
bad:
    answer_error(a, 400, "invalid_shard", "?layers=A:B with 0 <= A <= B <= %d is required", n_layer);
    return 0;
}

/* The cached folder of r (built now if missing or damaged) into dir; fills a on failure. */
static int ensure_built(shard_cache *c, const seam_shard_range *r, char *dir, size_t cap, http_answer *a) {
    snprintf(dir, cap, "%s/L%d-%d%s%s%s", c->root, r->layer_begin, r->layer_end, r->embed ? "-embed" : "",
             r->head ? "-head" : "", r->quant == 8 ? "-q8" : r->quant == 4 ? "-q4" : "");
    pthread_mutex_lock(&c->lock);
    seam_error err = {0};
    int ok = 1;
    /* Sizes only: hashing every file on every request would cost more than serving it. */
    if (seam_shard_verify(dir, r, c->fingerprint, 0, &err) != SEAM_OK) {
        char tmp[1200];
        snprintf(tmp, sizeof tmp, "%s.build.%ld.%u", dir, (long)getpid(), c->builds++);
        seam_remove_flat_dir(tmp);
        if (seam_shard_write(c->model_dir, r, c->fingerprint, tmp, &err) != SEAM_OK) {
            answer_error(a, 500, "shard_build_failed", "%s", err.message);
            seam_remove_flat_dir(tmp);
            ok = 0;
        } else {
            seam_remove_flat_dir(dir);
            if (rename(tmp, dir) != 0) {
                answer_error(a, 500, "shard_build_failed", "cannot move the shard into the cache: %s", strerror(errno));
                seam_remove_flat_dir(tmp);
                ok = 0;
            }
        }
    }
    pthread_mutex_unlock(&c->lock);
    return ok;
}

enum MHD_Result queue_answer(struct MHD_Connection *conn, http_answer *a, int *status, uint64_t *bytes_out) {
    struct MHD_Response *resp = MHD_create_response_from_buffer(a->len, a->body ? (void *)a->body : (void *)"",
                                                               a->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) { free(a->body); return MHD_NO; }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type ? a->content_type : "application/json");
    if (a->header_name[0]) MHD_add_response_header(resp, a->header_name, a->header_value);
    add_isolation_headers(resp);
    enum MHD_Result res = MHD_queue_response(conn, (unsigned)a->status, resp);
    MHD_destroy_response(resp);
    *status = a->status;
    *bytes_out += a->len;
    return res;
}

/* If-None-Match holds etag (or "*")? The header may list several, comma-separated. */
static int etag_matches(struct MHD_Connection *conn, const char *etag) {
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    if (!h) return 0;
    if (!strcmp(h, "*")) return 1;
    size_t n = strlen(etag);
    for (const char *p = h; (p = strstr(p, etag)); p += n) {
        char after = p[n];
        if (after == 0 || after == ',' || after == ' ') return 1;
    }
    return 0;
}

/* Range: bytes=S-E | bytes=S- | bytes=-N (one range). 1: *off and *len set; 0: no usable Range
 * header (send everything); -1: unsatisfiable (416). */
static int parse_range(struct MHD_Connection *conn, uint64_t size, uint64_t *off, uint64_t *len) {
    const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    if (!h || strncmp(h, "bytes=", 6) != 0) return 0;
    const char *p = h + 6;
    if (strchr(p, ',')) return 0; /* multiple ranges: answer the whole file, which RFC 9110 allows */
    char *end;
    if (*p == '-') {
        if (p[1] < '0' || p[1] > '9') return 0;
        unsigned long long n = strtoull(p + 1, &end, 10);
        if (*end) return 0;
        if (n == 0 || size == 0) return -1;
        if (n > size) n = size;
        *off = size - n;
        *len = n;
        return 1;
    }
    if (*p < '0' || *p > '9') return 0;
    unsigned long long s = strtoull(p, &end, 10), e = size ? size - 1 : 0;
    if (*end != '-') return 0;
    if (end[1]) {
        if (end[1] < '0' || end[1] > '9') return 0;
        e = strtoull(end + 1, &end, 10);
        if (*end || e < s) return 0;
        if (e >= size) e = size - 1;
    }
    if (s >= size) return -1;
    *off = s;
    *len = e - s + 1;
    return 1;
}

static enum MHD_Result serve_file(struct MHD_Connection *conn, const char *dir, const seam_shard_file *f, int *status,
                                  uint64_t *bytes_out) {
    http_answer a;
    memset(&a, 0, sizeof a);
    char etag[72];
    snprintf(etag, sizeof etag, "\"%s\"", f->sha256);
    if (etag_matches(conn, etag)) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        if (!resp) return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
        add_isolation_headers(resp);
        enum MHD_Result res = MHD_queue_response(conn, 304, resp);
        MHD_destroy_response(resp);
        *status = 304;
        return res;
    }
    char *path = seam_path_join(dir, f->name);
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
    free(path);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || (uint64_t)st.st_size != f->size) {
        if (fd >= 0) close(fd);
        answer_error(&a, 500, "shard_damaged", "the cached shard file %s is missing or changed size; retry", f->name);
        return queue_answer(conn, &a, status, bytes_out);
    }
    uint64_t off = 0, len = f->size;
    int ranged = parse_range(conn, f->size, &off, &len);
    if (ranged < 0) {
        close(fd);
        answer_error(&a, 416, "range_not_satisfiable", "%s has %llu bytes", f->name, (unsigned long long)f->size);
        snprintf(a.header_name, sizeof a.header_name, "Content-Range");
        snprintf(a.header_value, sizeof a.header_value, "bytes */%llu", (unsigned long long)f->size);
        return queue_answer(conn, &a, status, bytes_out);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd_at_offset64(len, fd, off);
    if (!resp) { close(fd); return MHD_NO; }
    size_t nl = strlen(f->name);
    int json = nl > 5 && !strcmp(f->name + nl - 5, ".json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, json ? "application/json" : "application/octet-stream");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=31536000, immutable");
    int code = 200;
    if (ranged > 0) {
        char cr[96];
        snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)off, (unsigned long long)(off + len - 1),
                 (unsigned long long)f->size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
        code = 206;
    }
    add_isolation_headers(resp);
    enum MHD_Result res = MHD_queue_response(conn, (unsigned)code, resp);
    MHD_destroy_response(resp);
    *status = code;
    *bytes_out += len;
    return res;
}

enum MHD_Result shard_http_serve(shard_cache *c, struct MHD_Connection *conn, const char *file, int *status,
                                 uint64_t *bytes_out) {
    http_answer a;
    memset(&a, 0, sizeof a);
    seam_shard_range r;
    char dir[1024];
    if (!parse_range_arg(conn, c->n_layer, &r, &a) || !ensure_built(c, &r, dir, sizeof dir, &a))
        return queue_answer(conn, &a, status, bytes_out);
    seam_shard_manifest man;
    seam_error err = {0};
    if (seam_shard_manifest_read(dir, &man, &err) != SEAM_OK) {
        answer_error(&a, 500, "shard_damaged", "%s", err.message);
        return queue_answer(conn, &a, status, bytes_out);
    }
    seam_shard_file mf;
    memset(&mf, 0, sizeof mf);
    if (!file) {
        /* The manifest itself, served like its files (its sha256 as the ETag). */
        char *path = seam_path_join(dir, SEAM_SHARD_MANIFEST);
        uint8_t d[SEAM_SHA256_SIZE];
        uint64_t size = 0;
        seam_status s = path ? seam_sha256_file(path, d, &size, &err) : seam_fail(&err, SEAM_ERR_NOMEM, "out of memory");
        free(path);
        if (s) {
            answer_error(&a, 500, "shard_damaged", "%s", err.message);
            return queue_answer(conn, &a, status, bytes_out);
        }
        seam_sha256_hex(d, mf.sha256);
        snprintf(mf.name, sizeof mf.name, "%s", SEAM_SHARD_MANIFEST);
        mf.size = size;
        return serve_file(conn, dir, &mf, status, bytes_out);
    }
    for (int i = 0; i < man.n_files; i++)
        if (!strcmp(man.files[i].name, file)) return serve_file(conn, dir, &man.files[i], status, bytes_out);
    answer_error(&a, 404, "file_not_found", "the shard has no file '%.100s' (see its manifest)", file);
    return queue_answer(conn, &a, status, bytes_out);
}
