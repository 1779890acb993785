/* Shard download for the edge: manifest first, then each file into NAME.part, resumed with
 * "Range: bytes=N-" after an interruption (206 appends; 200 means the server ignored the
 * range, so the part restarts), checked against the manifest's size and sha256, renamed into
 * place; the manifest is written last, so a folder with a manifest is always complete. Same
 * approach as the hub download (src/hub/hub.c), for the server's shard routes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/shard.h"
#include "net/client.h"
#include "util/error.h"
#include "util/sha256.h"

#define MANIFEST_LIMIT (1u << 20)
#define ATTEMPTS 3

typedef struct {
    const char *part;
    FILE *f;
    uint64_t offset;   /* bytes already in the part, asked for with Range */
    uint64_t remain;   /* most bytes the answer may carry */
    long status;
    int64_t cr_start;  /* Content-Range start of the current answer, -1 if none */
    int started, bad_status, range_mismatch, too_long, io_errno;
    uint64_t got;
} xfer;

static size_t part_header(char *buf, size_t size, size_t n, void *ud) {
    xfer *x = ud;
    size_t len = size * n;
    char line[256];
    size_t l = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, buf, l);
    line[l] = 0;
    if (!strncmp(line, "HTTP/", 5)) {
        const char *sp = strchr(line, ' ');
        x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        x->cr_start = -1;
    } else if (!strncasecmp(line, "content-range: bytes ", 21)) {
        char *end;
        unsigned long long v = strtoull(line + 21, &end, 10);
        x->cr_start = end != line + 21 ? (int64_t)v : -1;
    }
    return len;
}

static size_t part_write(char *ptr, size_t size, size_t n, void *ud) {
    xfer *x = ud;
    size_t len = size * n;
    if (!x->started) {
        x->started = 1;
        if (x->status == 206) {
            if (x->cr_start < 0 || (uint64_t)x->cr_start != x->offset) { x->range_mismatch = 1; return 0; }
            x->f = fopen(x->part, "ab");
        } else if (x->status == 200) {
            x->remain += x->offset; /* the whole file again */
            x->offset = 0;
            x->f = fopen(x->part, "wb");
        } else {
            x->bad_status = 1;
            return 0;
        }
        if (!x->f) { x->io_errno = errno ? errno : EIO; return 0; }
    }
    if (x->got + len > x->remain) { x->too_long = 1; return 0; }
    if (len && fwrite(ptr, 1, len, x->f) != len) { x->io_errno = errno ? errno : EIO; return 0; }
    x->got += len;
    return len;
}

static int64_t file_size(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    return (int64_t)st.st_size;
}

static int file_has_hash(const char *path, const char *sha, uint64_t size) {
    uint8_t d[SEAM_SHA256_SIZE];
    char hex[SEAM_SHA256_HEX_SIZE];
    uint64_t got = 0;
    if (seam_sha256_file(path, d, &got, NULL) != SEAM_OK || got != size) return 0;
    seam_sha256_hex(d, hex);
    return strcmp(hex, sha) == 0;
}

/* One GET of url into part from its current length. *transient: another try may help. */
static seam_status get_part(seam_client *c, const char *url, const char *part, uint64_t size, int *transient,
                            seam_error *err) {
    *transient = 0;
    int64_t have = file_size(part);
    if (have < 0 || (uint64_t)have > size) { unlink(part); have = 0; }
    if ((uint64_t)have == size && size > 0) return SEAM_OK;
    xfer x;
    memset(&x, 0, sizeof x);
    x.part = part;
    x.offset = (uint64_t)have;
    x.remain = size - (uint64_t)have;
    x.cr_start = -1;
    client_reset(c, url);
    struct curl_slist *hdrs = NULL;
    if (c->auth) hdrs = curl_slist_append(hdrs, c->auth);
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, part_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, part_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
    /* Big files: give up on a stalled transfer, not on a slow but moving one. */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)c->timeout_s);
    if (c->rate) curl_easy_setopt(h, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t)c->rate);
    char range[48];
    if (have > 0) {
        snprintf(range, sizeof range, "%llu-", (unsigned long long)have);
        curl_easy_setopt(h, CURLOPT_RANGE, range);
    }
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    if (x.f) {
        int bad = fflush(x.f) != 0 || fsync(fileno(x.f)) != 0;
        bad |= fclose(x.f) != 0;
        if (bad && !x.io_errno) x.io_errno = errno ? errno : EIO;
    }
    c->st.shard_bytes += x.got;
    if (x.io_errno) return seam_fail(err, SEAM_ERR_IO, "cannot write %s: %s", part, strerror(x.io_errno));
    if (x.range_mismatch) {
        unlink(part);
        *transient = 1;
        return seam_fail(err, SEAM_ERR_NET, "the server answered the resume request for %s with the wrong range", part);
    }
    if (x.too_long) {
        unlink(part);
        return seam_fail(err, SEAM_ERR_NET, "the server sent more bytes for %s than its manifest lists", part);
    }
    if (x.status == 416 && have > 0) { /* our part does not fit the file any more: start over */
        unlink(part);
        *transient = 1;
        return seam_fail(err, SEAM_ERR_NET, "the server refused to resume %s (HTTP 416)", part);
    }
    if (x.bad_status || (rc == CURLE_OK && x.status != 200 && x.status != 206))
        return seam_fail(err, SEAM_ERR_NET, "downloading %s: the server answered HTTP %ld", url, x.status);
    if (rc != CURLE_OK) {
        *transient = rc == CURLE_PARTIAL_FILE || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR ||
                     rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR;
        return client_curl_error(c, "downloading a shard file", (int)rc, err);
    }
    if (!x.started && size == 0) { /* an empty file */
        FILE *f = fopen(part, "wb");
        if (!f || fclose(f) != 0) return seam_fail(err, SEAM_ERR_IO, "cannot write %s: %s", part, strerror(errno));
    }
    return SEAM_OK;
}

static seam_status fetch_file(seam_client *c, const char *url_base, const char *query, const char *dir,
                              const seam_shard_file *f, seam_client_note_fn note, void *user, seam_error *err) {
    char *final = seam_path_join(dir, f->name);
    size_t pl = final ? strlen(final) + 6 : 0, ul = strlen(url_base) + strlen(f->name) + strlen(query) + 4;
    char *part = final ? malloc(pl) : NULL, *url = malloc(ul), line[400];
    seam_status s = SEAM_OK;
    if (!final || !part || !url) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    snprintf(part, pl, "%s.part", final);
    snprintf(url, ul, "%s/%s?%s", url_base, f->name, query);
    if (seam_file_exists(final)) {
        if (file_has_hash(final, f->sha256, f->size)) goto out;
        if (note) {
            snprintf(line, sizeof line, "cached %s fails its sha256 check: downloading it again", f->name);
            note(user, line);
        }
        unlink(final);
    }
    if (note) {
        int64_t have = file_size(part);
        if (have > 0 && (uint64_t)have < f->size)
            snprintf(line, sizeof line, "resuming %s at byte %lld of %llu", f->name, (long long)have,
                     (unsigned long long)f->size);
        else snprintf(line, sizeof line, "downloading %s (%llu bytes)", f->name, (unsigned long long)f->size);
        note(user, line);
    }
    for (int attempt = 0;; attempt++) {
        int transient = 0;
        s = get_part(c, url, part, f->size, &transient, err);
        if (!s && file_size(part) != (int64_t)f->size) {
            transient = 1;
            s = seam_fail(err, SEAM_ERR_NET, "download of %s ended after %lld of %llu bytes", f->name,
                          (long long)file_size(part), (unsigned long long)f->size);
        }
        if (!s || !transient || attempt + 1 >= ATTEMPTS) break;
    }
    if (s) goto out;
    if (!file_has_hash(part, f->sha256, f->size)) {
        unlink(part);
        s = seam_fail(err, SEAM_ERR_FORMAT, "sha256 checksum mismatch for shard file %s from the server (download deleted)",
                      f->name);
        goto out;
    }
    if (rename(part, final) != 0) s = seam_fail(err, SEAM_ERR_IO, "cannot rename %s: %s", part, strerror(errno));
out:
    free(final);
    free(part);
    free(url);
    return s;
}

static int same_range(const seam_shard_range *a, const seam_shard_range *b) {
    return a->layer_begin == b->layer_begin && a->layer_end == b->layer_end && !a->embed == !b->embed &&
           !a->head == !b->head && a->quant == b->quant;
}

seam_status seam_client_fetch_shard(seam_client *c, const char *model, const seam_shard_range *r,
                                    const char *fingerprint, const char *cache_root, seam_client_note_fn note,
                                    void *note_user, char **out_dir, seam_error *err) {
    *out_dir = NULL;
    char query[96], sub[160];
    const char *q = r->quant == 8 ? "q8" : r->quant == 4 ? "q4" : NULL;
    snprintf(query, sizeof query, "layers=%d:%d%s%s%s%s", r->layer_begin, r->layer_end, r->embed ? "&embed=1" : "",
             r->head ? "&head=1" : "", q ? "&quant=" : "", q ? q : "");
    snprintf(sub, sizeof sub, "%s/L%d-%d%s%s%s%s", fingerprint, r->layer_begin, r->layer_end, r->embed ? "-embed" : "",
             r->head ? "-head" : "", q ? "-" : "", q ? q : "");
    size_t ul = strlen(c->base) + strlen(model) + 64;
    char *url_base = malloc(ul), *murl = malloc(ul + sizeof query), *dir = seam_path_join(cache_root, sub);
    char *mtext = NULL;
    seam_status s = SEAM_OK;
    if (!url_base || !murl || !dir) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    snprintf(url_base, ul, "%s/v1/models/%s/shards", c->base, model);
    snprintf(murl, ul + sizeof query, "%s?%s", url_base, query);

    /* The manifest (small: buffered). */
    membuf m;
    memset(&m, 0, sizeof m);
    m.limit = MANIFEST_LIMIT;
    client_reset(c, murl);
    struct curl_slist *hdrs = c->auth ? curl_slist_append(NULL, c->auth) : NULL;
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, (long)c->timeout_s);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, membuf_write);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &m);
    CURLcode rc = curl_easy_perform(c->curl);
    curl_slist_free_all(hdrs);
    long status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK) { membuf_free(&m); s = client_curl_error(c, "fetching the shard manifest", (int)rc, err); goto out; }
    if (status != 200 || m.overflow) {
        s = m.overflow ? seam_fail(err, SEAM_ERR_NET, "fetching the shard manifest: the answer is too large")
                       : client_server_error("fetching the shard manifest", status, &m, err);
        membuf_free(&m);
        goto out;
    }
    seam_shard_manifest man;
    s = seam_shard_manifest_parse((const char *)m.data, m.len, &man, err);
    mtext = (char *)m.data;
    size_t mlen = m.len;
    if (s) goto out;
    if (strcmp(man.parent_fingerprint, fingerprint) != 0 || !same_range(&man.range, r)) {
        s = seam_fail(err, SEAM_ERR_RANGE, "the server offered a shard of another model or range (layers %d:%d)",
                      man.range.layer_begin, man.range.layer_end);
        goto out;
    }
    if ((s = seam_mkdirs(dir, err))) goto out;
    /* Already complete and intact? Then nothing crosses the network but the manifest. */
    if (seam_shard_verify(dir, r, fingerprint, 1, NULL) == SEAM_OK) {
        seam_shard_manifest have;
        int same = seam_shard_manifest_read(dir, &have, NULL) == SEAM_OK && have.n_files == man.n_files;
        for (int i = 0; same && i < man.n_files; i++) same = !strcmp(have.files[i].sha256, man.files[i].sha256);
        if (same) goto done;
    }
    char *mpath = seam_path_join(dir, SEAM_SHARD_MANIFEST);
    if (!mpath) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
    unlink(mpath); /* incomplete until the end */
    for (int i = 0; i < man.n_files && !s; i++) s = fetch_file(c, url_base, query, dir, &man.files[i], note, note_user, err);
    if (!s) s = seam_write_file_atomic(mpath, mtext, mlen, err);
    free(mpath);
    if (s) goto out;
    if ((s = seam_shard_verify(dir, r, fingerprint, 0, err))) goto out;
done:
    *out_dir = dir;
    dir = NULL;
out:
    free(mtext);
    free(url_base);
    free(murl);
    free(dir);
    return s;
}
