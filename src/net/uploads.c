/* Resumable model uploads (`seam serve --allow-uploads`), after the canister seed's chunked
 * upload. A model folder is sent file by file, in chunks:
 *
 *   PUT    /v1/uploads/{name}/{file}?offset=N   appends the body at byte N, which must be the
 *                                               file's current length (else 409 with it)
 *   GET    /v1/uploads/{name}                   {"name", "files": [{"name", "length"}]}: where
 *                                               to resume after an interruption
 *   POST   /v1/uploads/{name}/commit            {"sha256": {"config.json": "hex", ...}}: every
 *                                               file must be listed and match; the folder must
 *                                               open as a model; then it is renamed into the
 *                                               models folder in one step
 *   DELETE /v1/uploads/{name}                   drops an upload
 *
 * Until a commit succeeds the files live only in the uploads folder, so an interrupted or
 * corrupted upload never becomes a model. */
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
#include "util/json.h"
#include "util/sha256.h"

#define MAX_UPLOAD_FILES 64

struct uploads {
    char *root, *models;  /* uploads in progress, installed models */
    pthread_mutex_t lock; /* one writer at a time: offsets are checked and written atomically */
};

static char *env_dir(const char *given, const char *sub) {
    const char *v;
    if (given && *given) return strdup(given);
    if ((v = getenv("SEAM_HOME")) && *v) return seam_path_join(v, sub);
    if ((v = getenv("HOME")) && *v) {
        char *base = seam_path_join(v, ".cache/seam"), *p = base ? seam_path_join(base, sub) : NULL;
        free(base);
        return p;
    }
    return NULL;
}

seam_status uploads_new(const char *upload_dir, const char *models_dir, uploads **out, seam_error *err) {
    uploads *u = calloc(1, sizeof *u);
    if (!u) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    u->root = env_dir(upload_dir, "uploads");
    u->models = env_dir(models_dir, "models-uploaded");
    pthread_mutex_init(&u->lock, NULL);
    seam_status s = !u->root || !u->models ? seam_fail(err, SEAM_ERR_IO, "no folder for uploads: set SEAM_HOME")
                                           : SEAM_OK;
    if (!s) s = seam_mkdirs(u->root, err);
    if (!s) s = seam_mkdirs(u->models, err);
    if (s) { uploads_free(u); return s; }
    *out = u;
    return SEAM_OK;
}

void uploads_free(uploads *u) {
    if (!u) return;
    pthread_mutex_destroy(&u->lock);
    free(u->root);
    free(u->models);
    free(u);
}

/* Upload and model names: [A-Za-z0-9._-], not starting with '.'. Files also need a '.'
 * (config.json, model.safetensors...), which keeps "commit" free as a route. */
static int good_name(const char *s, int file) {
    return seam_shard_plain_name(s) && (!file || (strchr(s, '.') && strcmp(s, "commit") != 0));
}

static int64_t size_of(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    return (int64_t)st.st_size;
}

void uploads_put(uploads *u, const char *name, const char *file, const char *offset, const uint8_t *body, size_t len,
                 http_answer *a) {
    if (!good_name(name, 0) || !good_name(file, 1)) {
        answer_error(a, 400, "invalid_name", "upload and file names are [A-Za-z0-9._-] (files need an extension)");
        return;
    }
    char *end = NULL;
    unsigned long long off = offset && *offset >= '0' && *offset <= '9' ? strtoull(offset, &end, 10) : 0;
    if (!offset || !end || *end) { answer_error(a, 400, "invalid_offset", "?offset=N (the bytes already sent) is required"); return; }
    char *dir = seam_path_join(u->root, name), *path = dir ? seam_path_join(dir, file) : NULL;
    if (!dir || !path) { free(dir); answer_error(a, 500, "out_of_memory", "out of memory"); return; }
    seam_error err = {0};
    pthread_mutex_lock(&u->lock);
    DIR *d = opendir(dir);
    int n_files = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) n_files += e->d_name[0] != '.';
        closedir(d);
    }
    int64_t have = size_of(path);
    if (have < 0 && n_files >= MAX_UPLOAD_FILES) answer_error(a, 400, "too_many_files", "an upload holds at most %d files", MAX_UPLOAD_FILES);
    else if ((uint64_t)(have < 0 ? 0 : have) != off) {
        answer_error(a, 409, "wrong_offset", "%s has %lld bytes: send from offset %lld", file, (long long)(have < 0 ? 0 : have),
                     (long long)(have < 0 ? 0 : have));
        snprintf(a->header_name, sizeof a->header_name, "X-Upload-Length");
        snprintf(a->header_value, sizeof a->header_value, "%lld", (long long)(have < 0 ? 0 : have));
    } else if (seam_mkdirs(dir, &err)) {
        answer_error(a, 500, "io_error", "%s", err.message);
    } else {
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ssize_t w = 0;
        size_t done = 0;
        while (fd >= 0 && done < len && (w = pwrite(fd, body + done, len - done, (off_t)(off + done))) > 0) done += (size_t)w;
        int ok = fd >= 0 && done == len && fsync(fd) == 0;
        if (fd >= 0) ok = close(fd) == 0 && ok;
        if (!ok) {
            if (fd >= 0 && truncate(path, (off_t)off) != 0) unlink(path); /* never leave a torn chunk behind */
            answer_error(a, 500, "io_error", "cannot write %s: %s", file, strerror(errno));
        } else {
            sbuf b = {0};
            sb_printf(&b, "{\"name\":\"%s\",\"file\":\"%s\",\"length\":%llu}", name, file, off + (unsigned long long)len);
            answer_json(a, 200, &b);
        }
    }
    pthread_mutex_unlock(&u->lock);
    free(path);
    free(dir);
}

void uploads_get(uploads *u, const char *name, int remove, http_answer *a) {
    if (!good_name(name, 0)) { answer_error(a, 400, "invalid_name", "upload names are [A-Za-z0-9._-]"); return; }
    char *dir = seam_path_join(u->root, name);
    if (!dir) { answer_error(a, 500, "out_of_memory", "out of memory"); return; }
    pthread_mutex_lock(&u->lock);
    DIR *d = opendir(dir);
    if (!d) answer_error(a, 404, "upload_not_found", "no upload '%s'", name);
    else {
        sbuf b = {0};
        sb_printf(&b, "{\"name\":\"%s\",\"files\":[", name);
        struct dirent *e;
        int first = 1;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char *p = seam_path_join(dir, e->d_name);
            int64_t n = p ? size_of(p) : -1;
            free(p);
            if (n < 0) continue;
            sb_printf(&b, "%s{\"name\":", first ? "" : ",");
            sb_json_str(&b, e->d_name);
            sb_printf(&b, ",\"length\":%lld}", (long long)n);
            first = 0;
        }
        closedir(d);
        sb_puts(&b, remove ? "],\"deleted\":true}" : "]}");
        if (remove) seam_remove_flat_dir(dir);
        answer_json(a, 200, &b);
    }
    pthread_mutex_unlock(&u->lock);
    free(dir);
}

/* Checks every file against its listed sha256, then that the folder opens as a model. */
static int verify_upload(const char *dir, const json_value *sums, http_answer *a) {
    DIR *d = opendir(dir);
    if (!d) { answer_error(a, 404, "upload_not_found", "no such upload"); return 0; }
    int ok = 1, n = 0;
    struct dirent *e;
    while (ok && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        n++;
        const char *want = json_get_string(sums, e->d_name);
        char *p = seam_path_join(dir, e->d_name);
        uint8_t dg[SEAM_SHA256_SIZE];
        char hex[SEAM_SHA256_HEX_SIZE];
        if (!want) { answer_error(a, 400, "missing_sha256", "%s was uploaded but has no sha256 in the commit", e->d_name); ok = 0; }
        else if (!p || seam_sha256_file(p, dg, NULL, NULL)) { answer_error(a, 500, "io_error", "cannot read %s", e->d_name); ok = 0; }
        else {
            seam_sha256_hex(dg, hex);
            if (strcasecmp(hex, want) != 0) {
                answer_error(a, 422, "sha256_mismatch", "%s does not match its sha256 (corrupted or incomplete upload)", e->d_name);
                ok = 0;
            }
        }
        free(p);
    }
    closedir(d);
    if (ok && (size_t)n != sums->len) {
        answer_error(a, 400, "missing_file", "the commit lists %zu files, the upload holds %d", sums->len, n);
        ok = 0;
    }
    if (!ok) return 0;
    seam_error err = {0};
    seam_model *m = NULL;
    seam_status s = seam_model_open(dir, &m, &err);
    seam_model_close(m);
    if (s == SEAM_ERR_UNSUPPORTED) {
        seam_encoder *enc = NULL;
        seam_encoder_params ep = {1, 0, 1, SEAM_PRECISION_DEFAULT};
        s = seam_encoder_open(dir, &ep, &enc, &err);
        seam_encoder_close(enc);
    }
    if (s) { answer_error(a, 422, "not_a_model", "the upload does not open as a model: %s", err.message); return 0; }
    return 1;
}

void uploads_commit(uploads *u, const char *name, const char *body, size_t len, http_answer *a) {
    if (!good_name(name, 0)) { answer_error(a, 400, "invalid_name", "upload names are [A-Za-z0-9._-]"); return; }
    char jerr[200];
    json_value *root = json_parse(body, len, jerr, sizeof jerr);
    const json_value *sums = root ? json_get(root, "sha256") : NULL;
    if (!sums || sums->type != JSON_OBJECT || sums->len == 0) {
        answer_error(a, 400, "bad_json", "body must be {\"sha256\": {\"FILE\": \"64 hex digits\", ...}}");
        json_free(root);
        return;
    }
    char *dir = seam_path_join(u->root, name), *target = seam_path_join(u->models, name);
    pthread_mutex_lock(&u->lock);
    struct stat st;
    if (!dir || !target) answer_error(a, 500, "out_of_memory", "out of memory");
    else if (stat(target, &st) == 0) answer_error(a, 409, "already_installed", "a model '%s' is installed already", name);
    else if (verify_upload(dir, sums, a)) {
        /* rename(2) of the folder: the model appears whole or not at all */
        if (rename(dir, target) != 0) answer_error(a, 500, "io_error", "cannot install %s: %s", name, strerror(errno));
        else {
            sbuf b = {0};
            sb_printf(&b, "{\"name\":\"%s\",\"installed\":true,\"path\":", name);
            sb_json_str(&b, target);
            sb_puts(&b, "}");
            answer_json(a, 201, &b);
        }
    }
    pthread_mutex_unlock(&u->lock);
    free(dir);
    free(target);
    json_free(root);
}
