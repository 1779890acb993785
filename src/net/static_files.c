/* `seam serve --web DIR`: the demo page (build/web) from the same origin as the API.
 *
 * Same origin matters: the page must be cross-origin isolated (COOP same-origin + COEP
 * require-corp) for SharedArrayBuffer and so the pthreads build, and an isolated page may
 * only fetch what carries CORP (or CORS). Serving page, shards and sessions from one server
 * gives all three headers on every answer without any CORS setup.
 *
 * The URL path (already percent-decoded by libmicrohttpd, so %2e%2e arrives as "..") is
 * checked segment by segment before it touches the filesystem: no empty, "." or ".."
 * segment, no dot files (.git and the like are never meant for the web), no backslash or
 * control character. The joined path is then resolved with realpath() and must stay inside
 * DIR's own real path, which refuses symlinks that lead out; what is opened is that resolved
 * path, with O_NOFOLLOW, and it must be a regular file. (DIR is the operator's folder; this
 * guards against URLs, not against someone swapping files inside DIR while it is served.)
 * Files are sent from their descriptor (sendfile), never read into memory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net.h"
#include "util/error.h"

#define MAX_URL 1024

struct static_site {
    char *root; /* realpath of DIR, no trailing slash */
    size_t root_len;
};

void add_isolation_headers(struct MHD_Response *r) {
    MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(r, "Cross-Origin-Embedder-Policy", "require-corp");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

seam_status static_site_new(const char *dir, static_site **out, seam_error *err) {
    *out = NULL;
    char real[PATH_MAX];
    if (!realpath(dir, real)) return seam_fail(err, SEAM_ERR_IO, "--web %s: %s", dir, strerror(errno));
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) return seam_fail(err, SEAM_ERR_ARG, "--web %s is not a folder", dir);
    static_site *s = calloc(1, sizeof *s);
    if (!s || !(s->root = strdup(real))) {
        free(s);
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    }
    s->root_len = strlen(s->root);
    /* "/" itself: every file path is then root + "/" + something. */
    if (s->root_len == 1) s->root_len = 0;
    *out = s;
    return SEAM_OK;
}

void static_site_free(static_site *s) {
    if (!s) return;
    free(s->root);
    free(s);
}

/* Types for what build/web holds, and the usual web files; anything else is bytes. */
static const char *content_type(const char *path) {
    static const struct { const char *ext, *type; } types[] = {
        {".d.ts", "application/typescript; charset=utf-8"},
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".wasm", "application/wasm"},
        {".json", "application/json"},
        {".css", "text/css; charset=utf-8"},
        {".png", "image/png"},
        {".svg", "image/svg+xml"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".md", "text/plain; charset=utf-8"},
        {".ts", "application/typescript; charset=utf-8"},
    };
    size_t n = strlen(path);
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t e = strlen(types[i].ext);
        if (n > e && !strcasecmp(path + n - e, types[i].ext)) return types[i].type;
    }
    return "application/octet-stream";
}

/* url -> the relative path it names in rel (index.html for "/" and a trailing slash).
 * 0: the URL is refused. */
static int url_to_rel(const char *url, char *rel, size_t cap) {
    size_t n = strlen(url);
    if (n == 0 || url[0] != '/' || n >= MAX_URL) return 0;
    const char *p = url + 1;
    size_t k = 0;
    while (*p) {
        size_t seg = strcspn(p, "/");
        if (seg == 0 || p[0] == '.') return 0; /* "//", ".", "..", dot files */
        for (size_t i = 0; i < seg; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c < 0x20 || c == 0x7f || c == '\\') return 0;
        }
        if (k + seg + 2 >= cap) return 0;
        memcpy(rel + k, p, seg);
        k += seg;
        p += seg;
        if (*p == '/') {
            rel[k++] = '/';
            p++;
        }
    }
    const char *index = "index.html";
    if (k == 0 || rel[k - 1] == '/') {
        if (k + strlen(index) + 1 >= cap) return 0;
        memcpy(rel + k, index, strlen(index));
        k += strlen(index);
    }
    rel[k] = 0;
    return 1;
}

static enum MHD_Result refuse(struct MHD_Connection *conn, int code, const char *what, const char *url, int *status,
                              uint64_t *bytes_out) {
    http_answer a;
    memset(&a, 0, sizeof a);
    if (code == 403) answer_error(&a, 403, "forbidden", "%s: %.200s", what, url);
    else answer_error(&a, 404, "not_found", "%s: %.200s", what, url);
    return queue_answer(conn, &a, status, bytes_out);
}

enum MHD_Result static_site_serve(static_site *s, struct MHD_Connection *conn, const char *url, int head, int *status,
                                  uint64_t *bytes_out) {
    char rel[MAX_URL + 16];
    if (!url_to_rel(url, rel, sizeof rel)) return refuse(conn, 404, "no such file", url, status, bytes_out);
    size_t full_len = s->root_len + 1 + strlen(rel) + 1;
    char *full = malloc(full_len);
    if (!full) return MHD_NO;
    snprintf(full, full_len, "%.*s/%s", (int)s->root_len, s->root, rel);
    char real[PATH_MAX];
    char *ok = realpath(full, real);
    int e = errno;
    free(full);
    if (!ok) {
        if (e == ENOENT || e == ENOTDIR) return refuse(conn, 404, "no such file", url, status, bytes_out);
        return refuse(conn, 403, "cannot read", url, status, bytes_out);
    }
    if (strncmp(real, s->root, s->root_len) != 0 || real[s->root_len] != '/')
        return refuse(conn, 403, "outside the served folder", url, status, bytes_out);
    /* O_NONBLOCK: opening a FIFO must not hang the worker; it is refused just below. */
    int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (fd < 0) return refuse(conn, 403, "cannot read", url, status, bytes_out);
    if (fstat(fd, &st) != 0) st.st_mode = 0;
    if (!S_ISREG(st.st_mode)) {
        int dir = S_ISDIR(st.st_mode);
        close(fd);
        if (dir && url[strlen(url) - 1] != '/') {
            /* A folder named without its slash: its page's relative links need the slash. */
            http_answer a;
            memset(&a, 0, sizeof a);
            sbuf b = {0};
            sb_puts(&b, "{\"moved\":true}");
            answer_json(&a, 301, &b);
            snprintf(a.header_name, sizeof a.header_name, "Location");
            if (snprintf(a.header_value, sizeof a.header_value, "%s/", url) >= (int)sizeof a.header_value) {
                free(a.body);
                return refuse(conn, 404, "no such file", url, status, bytes_out);
            }
            return queue_answer(conn, &a, status, bytes_out);
        }
        return refuse(conn, 403, "not a regular file", url, status, bytes_out);
    }
    struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(real));
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    /* Revalidate every time: a rebuilt page must not mix with a cached seam.wasm. (Model
     * files are kept by seam.mjs in the Cache API, not by the HTTP cache.) */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    add_isolation_headers(resp);
    enum MHD_Result res = MHD_queue_response(conn, 200, resp);
    MHD_destroy_response(resp);
    *status = 200;
    if (!head) *bytes_out += (uint64_t)st.st_size; /* libmicrohttpd sends no body for HEAD */
    return res;
}
