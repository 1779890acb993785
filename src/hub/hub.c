/* Hugging Face hub downloads with libcurl. See include/seam_hub.h for the contract, the
 * environment variables and the cache layout.
 *
 * Per file: a HEAD request (redirects not followed, except same-origin ones such as a
 * renamed repo) reads the hub's metadata — X-Linked-Size / X-Linked-Etag on the LFS redirect,
 * Content-Length otherwise; then a GET (redirects followed, to the CDN) writes NAME.part,
 * resuming with "Range: bytes=N-" when a .part exists (206 appends, 200 restarts from zero);
 * then size and sha256 are checked and the .part is renamed into place. The folder carries
 * `.pulling` from before the first byte until after the last file, then `.complete`. Ids, the
 * cache layout and seam_hub_resolve, which need no network, are in hub_paths.c. */
#include "seam_hub.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hub/hub_internal.h"
#include "util/sha256.h"
#include "util/error.h"
#include "util/json.h"

#define DEFAULT_ENDPOINT "https://huggingface.co"
#define DEFAULT_RETRIES 2
#define DEFAULT_TIMEOUT_S 30
#define INDEX_NAME "model.safetensors.index.json"
#define INDEX_LIMIT (64u << 20)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(int s) {
    struct timespec ts = {s, 0};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* ------------------------------------------------------------------ libcurl setup */

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc = CURLE_FAILED_INIT;

static void global_cleanup(void) { curl_global_cleanup(); }

static void global_init(void) {
    g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (g_init_rc == CURLE_OK) atexit(global_cleanup);
}

typedef struct {
    seam_hub_options opt;
    const char *repo, *rev;
    char *base;   /* endpoint without trailing '/' */
    char *origin; /* scheme://host[:port] of base */
    char *rev_enc;
    char *dir;
    struct curl_slist *headers;
    int has_token;
    CURL *curl;
    char curl_err[CURL_ERROR_SIZE];
    int bar;      /* draw the progress bar */
    int bar_open; /* a bar line is on screen without its newline */
    double last_draw, file_t0;
    uint64_t file_b0;
    int cancelled;
    char commit[48];
} puller;

/* Per-response header state; `status`, sizes and error headers describe the latest response
 * of a redirect chain, the X-Linked-* and commit fields the first that carried them. */
typedef struct {
    long status;
    int64_t content_length;
    int64_t cr_start, cr_total; /* Content-Range */
    char error_code[64];
    char error_msg[160];
    int64_t linked_size;
    char linked_sha[SEAM_SHA256_HEX_SIZE];
    char commit[48];
} hdr_state;

static void hdr_init(hdr_state *h) {
    memset(h, 0, sizeof *h);
    h->content_length = h->cr_start = h->cr_total = h->linked_size = -1;
}

static void copy_value(char *dst, size_t cap, const char *v) {
    size_t n = strlen(v);
    if (n >= cap) n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

static int64_t parse_i64(const char *s) {
    if (*s < '0' || *s > '9') return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || v < 0) return -1;
    return (int64_t)v;
}

static size_t header_cb(char *buf, size_t size, size_t n, void *ud) {
    hdr_state *h = ud;
    size_t len = size * n;
    char line[1024];
    size_t l = len < sizeof line - 1 ? len : sizeof line - 1;
    memcpy(line, buf, l);
    line[l] = 0;
    while (l && (line[l - 1] == '\r' || line[l - 1] == '\n' || line[l - 1] == ' ')) line[--l] = 0;
    if (strncmp(line, "HTTP/", 5) == 0) {
        const char *sp = strchr(line, ' ');
        h->status = sp ? strtol(sp + 1, NULL, 10) : 0;
        h->content_length = h->cr_start = h->cr_total = -1;
        h->error_code[0] = h->error_msg[0] = 0;
        return len;
    }
    char *colon = strchr(line, ':');
    if (!colon) return len;
    *colon = 0;
    const char *name = line, *v = colon + 1;
    while (*v == ' ' || *v == '\t') v++;
    if (strcasecmp(name, "content-length") == 0) {
        h->content_length = parse_i64(v);
    } else if (strcasecmp(name, "content-range") == 0) {
        /* bytes START-END/TOTAL, or bytes * /TOTAL on 416 */
        if (strncasecmp(v, "bytes ", 6) == 0) {
            v += 6;
            h->cr_start = parse_i64(v);
            const char *slash = strchr(v, '/');
            h->cr_total = slash ? parse_i64(slash + 1) : -1;
        }
    } else if (strcasecmp(name, "x-error-code") == 0) {
        copy_value(h->error_code, sizeof h->error_code, v);
    } else if (strcasecmp(name, "x-error-message") == 0) {
        copy_value(h->error_msg, sizeof h->error_msg, v);
    } else if (strcasecmp(name, "x-linked-size") == 0) {
        if (h->linked_size < 0) h->linked_size = parse_i64(v);
    } else if (strcasecmp(name, "x-linked-etag") == 0) {
        if (!h->linked_sha[0]) {
            if (strncmp(v, "W/", 2) == 0) v += 2;
            if (*v == '"') v++;
            size_t k = 0;
            char hex[SEAM_SHA256_HEX_SIZE];
            while (k < 64 && ((v[k] >= '0' && v[k] <= '9') || (v[k] >= 'a' && v[k] <= 'f') ||
                              (v[k] >= 'A' && v[k] <= 'F'))) {
                hex[k] = (char)(v[k] >= 'A' && v[k] <= 'F' ? v[k] - 'A' + 'a' : v[k]);
                k++;
            }
            hex[k] = 0;
            if (k == 64 && (v[64] == 0 || v[64] == '"')) memcpy(h->linked_sha, hex, sizeof hex);
        }
    } else if (strcasecmp(name, "x-repo-commit") == 0) {
        if (!h->commit[0]) copy_value(h->commit, sizeof h->commit, v);
    }
    return len;
}

static int is_loopback_url(const char *origin) {
    const char *h = strstr(origin, "://");
    if (!h) return 0;
    h += 3;
    static const char *names[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (strncasecmp(h, names[i], n) == 0 && (h[n] == 0 || h[n] == ':')) return 1;
    }
    return 0;
}

static void set_common(puller *p, const char *url, hdr_state *h) {
    CURL *c = p->curl;
    curl_easy_reset(c);
    long timeout = p->opt.timeout_s;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "seam/" SEAM_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, p->headers);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout < 10 ? timeout : 10L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, timeout);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, p->curl_err);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
    int https = strncasecmp(p->base, "https://", 8) == 0;
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, https ? "https" : "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, https ? CURLPROTO_HTTPS : (CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, https ? CURLPROTO_HTTPS : (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    p->curl_err[0] = 0;
    hdr_init(h);
}

static const char *curl_msg(puller *p, CURLcode rc) {
    return p->curl_err[0] ? p->curl_err : curl_easy_strerror(rc);
}

/* Errors worth another attempt (resuming where the file stopped). */
static int transient_curl(CURLcode rc) {
    switch (rc) {
    case CURLE_PARTIAL_FILE:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

static int transient_http(long status) {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

static char *file_url(puller *p, const char *name) {
    return hub_cat(p->base, "/", p->repo, "/resolve/", p->rev_enc, "/", name, NULL);
}

/* ------------------------------------------------------------------ progress */

static void human(uint64_t b, char *out, size_t cap) {
    if (b < 1024) snprintf(out, cap, "%u B", (unsigned)b);
    else if (b < (1u << 20)) snprintf(out, cap, "%.1f KiB", (double)b / 1024.0);
    else if (b < (1ull << 30)) snprintf(out, cap, "%.1f MiB", (double)b / (1024.0 * 1024.0));
    else snprintf(out, cap, "%.2f GiB", (double)b / (1024.0 * 1024.0 * 1024.0));
}

static void bar_end(puller *p) {
    if (p->bar_open) {
        fputc('\n', stderr);
        fflush(stderr);
        p->bar_open = 0;
    }
}

static void draw_bar(puller *p, const char *name, uint64_t done, uint64_t total, int final) {
    double t = now_s();
    if (!final && t - p->last_draw < 0.1) return;
    p->last_draw = t;
    char a[32], b[32], rate[40] = "";
    human(done, a, sizeof a);
    human(total, b, sizeof b);
    double dt = t - p->file_t0;
    if (dt > 0.5 && done > p->file_b0) {
        char r[32];
        human((uint64_t)((double)(done - p->file_b0) / dt), r, sizeof r);
        snprintf(rate, sizeof rate, "  %s/s", r);
    }
    int shown = (int)strlen(name) > 36 ? 36 : (int)strlen(name);
    if (total) {
        if (done > total) done = total;
        int pct = (int)(done * 100 / total), fill = (int)(done * 24 / total);
        char bar[25];
        for (int i = 0; i < 24; i++) bar[i] = i < fill ? '#' : '.';
        bar[24] = 0;
        fprintf(stderr, "\r\033[K%-36.*s [%s] %s / %s %3d%%%s", shown, name, bar, a, b, pct, rate);
    } else {
        fprintf(stderr, "\r\033[K%-36.*s %s%s", shown, name, a, rate);
    }
    p->bar_open = 1;
    if (final) bar_end(p);
    else fflush(stderr);
}

/* Reports progress; returns non-zero when the caller cancelled. */
static int report(puller *p, const char *name, uint64_t done, uint64_t total, int final) {
    if (p->bar) draw_bar(p, name, done, total, final);
    if (p->opt.progress && p->opt.progress(p->opt.progress_user, name, done, total)) p->cancelled = 1;
    return p->cancelled;
}

/* ------------------------------------------------------------------ HTTP errors */

static seam_status http_error(puller *p, const char *name, long status, const hdr_state *h, seam_error *err) {
    char *url = file_url(p, name);
    const char *u = url ? url : name;
    const char *code = h->error_code;
    seam_status s;
    if ((status == 401 || status == 403) && strcmp(code, "GatedRepo") == 0) {
        s = seam_fail(err, SEAM_ERR_NET,
                      "%s is a gated model (HTTP %ld): accept its terms at %s/%s and set HF_TOKEN to a "
                      "token of that account%s",
                      p->repo, status, p->base, p->repo, p->has_token ? " (the token sent was refused)" : "");
    } else if ((status == 401 || status == 404) && strcmp(code, "RepoNotFound") == 0) {
        s = seam_fail(err, SEAM_ERR_NET,
                      "repo not found or not a model: %s (HTTP %ld at %s; if it is private or gated, set "
                      "HF_TOKEN to a token that can read it)",
                      p->repo, status, u);
    } else if (status == 404 && strcmp(code, "RevisionNotFound") == 0) {
        s = seam_fail(err, SEAM_ERR_NET, "revision '%s' not found in %s (HTTP 404 at %s)", p->rev, p->repo, u);
    } else if (status == 401 || status == 403) {
        s = seam_fail(err, SEAM_ERR_NET,
                      "access denied to %s (HTTP %ld at %s): private or gated models need HF_TOKEN set to a "
                      "token with access%s",
                      p->repo, status, u, p->has_token ? " (the token sent was refused)" : "");
    } else if (status == 404 && strcmp(name, "config.json") == 0) {
        s = seam_fail(err, SEAM_ERR_NET, "repo not found or not a model: %s (no config.json at %s)", p->repo, u);
    } else if (status == 404 && strcmp(name, "model.safetensors") == 0) {
        s = seam_fail(err, SEAM_ERR_NET,
                      "%s has no model.safetensors or model.safetensors.index.json (seam reads safetensors "
                      "weights only) at %s",
                      p->repo, u);
    } else if (status == 404) {
        s = seam_fail(err, SEAM_ERR_NET, "%s not found in %s (HTTP 404 at %s)", name, p->repo, u);
    } else {
        s = seam_fail(err, SEAM_ERR_NET, "HTTP %ld downloading %s from %s%s%s", status, name, u,
                      h->error_msg[0] ? ": " : "", h->error_msg);
    }
    free(url);
    return s;
}

static seam_status curl_error(puller *p, CURLcode rc, const char *what, const char *name, seam_error *err) {
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY)
        return seam_fail(err, SEAM_ERR_NET,
                         "cannot reach the hub at %s (%s); check the network, proxy or SEAM_HUB_URL", p->base,
                         curl_msg(p, rc));
    if (rc == CURLE_OPERATION_TIMEDOUT)
        return seam_fail(err, SEAM_ERR_NET, "%s %s timed out (%s); check the network or SEAM_HUB_URL", what,
                         name, curl_msg(p, rc));
    return seam_fail(err, SEAM_ERR_NET, "%s %s failed: %s", what, name, curl_msg(p, rc));
}

/* ------------------------------------------------------------------ HEAD */

/* Reads the metadata of one file into *h. Same-origin redirects (renamed repos) are followed;
 * the first cross-origin redirect (the CDN) ends the walk, as its metadata came with it. */
static seam_status head_file(puller *p, const char *name, hdr_state *h, int *transient, seam_error *err) {
    *transient = 0;
    char *url = file_url(p, name);
    if (!url) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    hdr_state keep;
    hdr_init(&keep);
    seam_status s = SEAM_OK;
    for (int hop = 0;; hop++) {
        set_common(p, url, h);
        curl_easy_setopt(p->curl, CURLOPT_NOBODY, 1L);
        curl_easy_setopt(p->curl, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(p->curl, CURLOPT_TIMEOUT, (long)p->opt.timeout_s);
        CURLcode rc = curl_easy_perform(p->curl);
        /* carry X-Linked-* / commit seen on earlier hops */
        if (h->linked_size < 0) h->linked_size = keep.linked_size;
        if (!h->linked_sha[0]) memcpy(h->linked_sha, keep.linked_sha, sizeof keep.linked_sha);
        if (!h->commit[0]) memcpy(h->commit, keep.commit, sizeof keep.commit);
        if (rc != CURLE_OK) {
            *transient = transient_curl(rc);
            s = curl_error(p, rc, "looking up", name, err);
            break;
        }
        long st = h->status;
        if (st < 300 || st >= 400 || h->linked_size >= 0 || h->linked_sha[0]) break;
        char *next = NULL;
        if (curl_easy_getinfo(p->curl, CURLINFO_REDIRECT_URL, &next) != CURLE_OK || !next) break;
        size_t ol = strlen(p->origin);
        if (strncmp(next, p->origin, ol) != 0 || next[ol] != '/' || hop >= 5) break;
        char *copy = hub_strdup(next);
        if (!copy) {
            s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
            break;
        }
        free(url);
        url = copy;
        keep = *h;
    }
    free(url);
    return s;
}

/* ------------------------------------------------------------------ GET */

typedef struct {
    puller *p;
    const char *name;
    const char *part;
    hdr_state h;
    FILE *f;
    uint64_t offset;   /* bytes already in .part, asked for with Range */
    uint64_t base;     /* where the body starts in the file (offset on 206, 0 on 200) */
    int64_t expected;  /* full size, -1 unknown */
    int started, bad_status, range_mismatch, io_errno;
} xfer;

static size_t write_cb(char *ptr, size_t size, size_t n, void *ud) {
    xfer *x = ud;
    size_t len = size * n;
    if (!x->started) {
        long st = x->h.status;
        if (st >= 300 && st < 400) return len; /* body of a redirect being followed */
        x->started = 1;
        if (st == 206) {
            if (x->h.cr_start < 0 || (uint64_t)x->h.cr_start != x->offset) {
                x->range_mismatch = 1;
                return 0;
            }
            x->base = x->offset;
            x->f = fopen(x->part, "ab");
        } else if (st == 200) {
            x->base = 0; /* server ignored Range (or none was sent): start over */
            x->f = fopen(x->part, "wb");
        } else {
            x->bad_status = 1;
            return 0;
        }
        if (!x->f) {
            x->io_errno = errno ? errno : EIO;
            return 0;
        }
    }
    if (len && fwrite(ptr, 1, len, x->f) != len) {
        x->io_errno = errno ? errno : EIO;
        return 0;
    }
    return len;
}

static int xferinfo_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)ultotal;
    (void)ulnow;
    xfer *x = ud;
    uint64_t start = x->started ? x->base : x->offset;
    uint64_t done = start + (uint64_t)(dlnow > 0 ? dlnow : 0);
    uint64_t total = x->expected >= 0 ? (uint64_t)x->expected : (dltotal > 0 ? start + (uint64_t)dltotal : 0);
    return report(x->p, x->name, done, total, 0);
}

static int close_part(xfer *x) {
    if (!x->f) return 0;
    int bad = fflush(x->f) != 0 || fsync(fileno(x->f)) != 0;
    if (bad && !x->io_errno) x->io_errno = errno ? errno : EIO;
    bad |= fclose(x->f) != 0;
    if (bad && !x->io_errno) x->io_errno = errno ? errno : EIO;
    x->f = NULL;
    return bad;
}

/* One GET of name into part starting at byte offset. *transient says whether another
 * attempt may help; *restart that the .part was discarded and should start at zero. */
static seam_status get_file(puller *p, const char *name, const char *part, uint64_t offset, int64_t expected,
                            int *transient, int *restart, seam_error *err) {
    *transient = 0;
    *restart = 0;
    char *url = file_url(p, name);
    if (!url) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    xfer x;
    memset(&x, 0, sizeof x);
    x.p = p;
    x.name = name;
    x.part = part;
    x.offset = offset;
    x.expected = expected;
    set_common(p, url, &x.h);
    curl_easy_setopt(p->curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(p->curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, &x);
    curl_easy_setopt(p->curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(p->curl, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
    curl_easy_setopt(p->curl, CURLOPT_XFERINFODATA, &x);
    char range[48];
    if (offset > 0) {
        snprintf(range, sizeof range, "%llu-", (unsigned long long)offset);
        curl_easy_setopt(p->curl, CURLOPT_RANGE, range);
    }
    p->file_t0 = now_s();
    p->file_b0 = offset;
    CURLcode rc = curl_easy_perform(p->curl);
    free(url);
    close_part(&x);
    long st = x.h.status;
    if (x.io_errno)
        return seam_fail(err, SEAM_ERR_IO, "cannot write %s: %s", part, strerror(x.io_errno));
    if (x.range_mismatch) {
        unlink(part);
        *transient = *restart = 1;
        return seam_fail(err, SEAM_ERR_NET, "the server answered the resume request for %s with the wrong range",
                         name);
    }
    if (p->cancelled) return seam_fail(err, SEAM_ERR_NET, "download of %s cancelled", name);
    if (st == 416 && offset > 0) {
        if (x.h.cr_total >= 0 && (uint64_t)x.h.cr_total == offset) return SEAM_OK; /* .part was whole */
        unlink(part); /* our .part does not fit the remote file: start over */
        *transient = *restart = 1;
        return seam_fail(err, SEAM_ERR_NET, "the server refused to resume %s (HTTP 416)", name);
    }
    if (x.bad_status || (rc == CURLE_OK && st != 200 && st != 206)) {
        *transient = transient_http(st);
        return http_error(p, name, st, &x.h, err);
    }
    if (rc != CURLE_OK) {
        *transient = transient_curl(rc);
        int64_t have = hub_file_size(part);
        if (rc == CURLE_PARTIAL_FILE || rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_RECV_ERROR)
            return seam_fail(err, SEAM_ERR_NET,
                             "download of %s interrupted after %lld bytes (%s); run `seam pull %s` again to resume",
                             name, (long long)(have > 0 ? have : 0), curl_msg(p, rc), p->repo);
        return curl_error(p, rc, "downloading", name, err);
    }
    if (!x.started && st == 200) { /* empty body: an empty file */
        FILE *f = fopen(part, "wb");
        if (!f || fclose(f) != 0)
            return seam_fail(err, SEAM_ERR_IO, "cannot write %s: %s", part, strerror(errno));
    }
    return SEAM_OK;
}

/* ------------------------------------------------------------------ one file */

/* Downloads name into p->dir. When !required and the hub has no such file, sets *missing
 * and succeeds. */
static seam_status fetch_file(puller *p, const char *name, int required, int *missing, seam_error *err) {
    *missing = 0;
    seam_status s = SEAM_OK;
    char *final = seam_path_join(p->dir, name);
    char *part = final ? hub_cat(final, ".part", NULL) : NULL;
    if (!final || !part) {
        free(final);
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    }
    int retries = p->opt.retries, transient = 0;

    hdr_state meta;
    for (int attempt = 0;; attempt++) {
        s = head_file(p, name, &meta, &transient, err);
        if (!s && transient_http(meta.status)) {
            transient = 1;
            s = http_error(p, name, meta.status, &meta, err);
        }
        if (!s || !transient || attempt >= retries) break;
        sleep_s(1 << (attempt < 3 ? attempt : 3));
    }
    if (s) goto out;
    long st = meta.status;
    if (st == 404 && !required && strcmp(meta.error_code, "RepoNotFound") != 0 &&
        strcmp(meta.error_code, "RevisionNotFound") != 0) {
        *missing = 1;
        unlink(final); /* a stale copy from an earlier pull */
        unlink(part);
        goto out;
    }
    if (st < 200 || st >= 400) {
        s = http_error(p, name, st, &meta, err);
        goto out;
    }
    if (!p->commit[0] && meta.commit[0]) copy_value(p->commit, sizeof p->commit, meta.commit);
    int64_t expected = meta.linked_size >= 0 ? meta.linked_size
                       : (st >= 200 && st < 300) ? meta.content_length
                                                 : -1;
    const char *sha = meta.linked_sha[0] ? meta.linked_sha : NULL;

    const char *slash = strrchr(name, '/');
    if (slash) {
        char *sub = seam_path_join(p->dir, name);
        if (!sub) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto out; }
        sub[strlen(sub) - strlen(slash)] = 0;
        s = hub_mkdir_p(sub, err);
        free(sub);
        if (s) goto out;
    }

    if (p->opt.force) {
        unlink(final);
        unlink(part);
    } else if (seam_file_exists(final)) {
        /* Finished in an earlier, interrupted pull: it was verified before being renamed. */
        int64_t have = hub_file_size(final);
        if (expected < 0 || have == expected) {
            report(p, name, (uint64_t)have, (uint64_t)have, 1);
            goto out;
        }
        unlink(final);
    }

    for (int attempt = 0, restarted = 0;; attempt++) {
        int64_t have = hub_file_size(part);
        uint64_t offset = have > 0 ? (uint64_t)have : 0;
        if (expected >= 0 && (int64_t)offset > expected) {
            unlink(part);
            offset = 0;
        }
        if (have < 0 || expected < 0 || (int64_t)offset < expected) {
            report(p, name, offset, expected >= 0 ? (uint64_t)expected : 0, 0);
            int restart;
            s = get_file(p, name, part, offset, expected, &transient, &restart, err);
            if (!s) {
                int64_t got = hub_file_size(part);
                if (expected >= 0 && got < expected) {
                    transient = 1;
                    s = seam_fail(err, SEAM_ERR_NET,
                                  "download of %s ended after %lld of %lld bytes; run `seam pull %s` again to resume",
                                  name, (long long)got, (long long)expected, p->repo);
                }
            }
            if (s && restart && !restarted) { /* once, for free: start the file over */
                restarted = 1;
                attempt--;
                continue;
            }
            if (s) {
                if (p->cancelled || !transient || attempt >= retries) goto out;
                sleep_s(1 << (attempt < 3 ? attempt : 3));
                continue;
            }
        }
        break;
    }

    /* Verify. */
    int64_t got = hub_file_size(part);
    if (expected >= 0 && got != expected) {
        unlink(part);
        s = seam_fail(err, SEAM_ERR_FORMAT, "size mismatch for %s: expected %lld bytes, got %lld (download deleted)",
                      name, (long long)expected, (long long)got);
        goto out;
    }
    if (sha) {
        if (p->bar) {
            fprintf(stderr, "\r\033[K%s: checking sha256...", name);
            fflush(stderr);
            p->bar_open = 1;
        }
        uint8_t d[SEAM_SHA256_SIZE];
        char hex[SEAM_SHA256_HEX_SIZE];
        if ((s = seam_sha256_file(part, d, NULL, err))) goto out;
        seam_sha256_hex(d, hex);
        if (strcmp(hex, sha) != 0) {
            unlink(part);
            s = seam_fail(err, SEAM_ERR_FORMAT,
                          "sha256 checksum mismatch for %s: expected %s, got %s (download deleted; run `seam "
                          "pull %s` to try again)",
                          name, sha, hex, p->repo);
            goto out;
        }
    }
    if (rename(part, final) != 0) {
        s = seam_fail(err, SEAM_ERR_IO, "cannot rename %s: %s", part, strerror(errno));
        goto out;
    }
    report(p, name, (uint64_t)got, (uint64_t)got, 1);
out:
    free(final);
    free(part);
    return s;
}

/* ------------------------------------------------------------------ index */

static void free_names(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* The distinct shard file names of the downloaded index, in first-seen order. */
static seam_status read_index(puller *p, char ***out, size_t *n_out, seam_error *err) {
    *out = NULL;
    *n_out = 0;
    char *path = seam_path_join(p->dir, INDEX_NAME);
    if (!path) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    char *text;
    size_t len;
    seam_status s = seam_read_file(path, INDEX_LIMIT, &text, &len, err);
    free(path);
    if (s) return s;
    char jerr[200];
    json_value *root = json_parse(text, len, jerr, sizeof jerr);
    free(text);
    if (!root) return seam_fail(err, SEAM_ERR_FORMAT, "%s of %s: %s", INDEX_NAME, p->repo, jerr);
    const json_value *wm = json_get(root, "weight_map");
    char **names = NULL;
    size_t n = 0;
    if (!wm || wm->type != JSON_OBJECT) {
        s = seam_fail(err, SEAM_ERR_FORMAT, "%s of %s has no weight_map object", INDEX_NAME, p->repo);
        goto done;
    }
    for (size_t i = 0; i < wm->len; i++) {
        const json_value *v = &wm->members[i].value;
        if (v->type != JSON_STRING || !hub_valid_shard_name(v->str, v->len)) {
            s = seam_fail(err, SEAM_ERR_FORMAT,
                          "%s of %s: weight_map entry '%.100s' does not name a plain .safetensors file",
                          INDEX_NAME, p->repo, v->type == JSON_STRING ? v->str : "(not a string)");
            goto done;
        }
        size_t k = 0;
        while (k < n && strcmp(names[k], v->str) != 0) k++;
        if (k < n) continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (!grown) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto done; }
        names = grown;
        if (!(names[n] = hub_strdup(v->str))) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); goto done; }
        n++;
    }
    if (n == 0) s = seam_fail(err, SEAM_ERR_FORMAT, "%s of %s lists no weight files", INDEX_NAME, p->repo);
done:
    json_free(root);
    if (s) {
        free_names(names, n);
        return s;
    }
    *out = names;
    *n_out = n;
    return SEAM_OK;
}

/* ------------------------------------------------------------------ pull */

static const char *const k_optional_first[] = {
    "tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json",
    "generation_config.json", "special_tokens_map.json", "vocab.txt",
};
static const char *const k_optional_last[] = {
    "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
    "1_Pooling/config.json", "2_Normalize/config.json",
};

static seam_status write_marker(puller *p, seam_error *err) {
    char *path = seam_path_join(p->dir, ".complete");
    if (!path) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "repo: %s\nrevision: %s\ncommit: %s\nendpoint: %.600s\n", p->repo, p->rev,
                     p->commit[0] ? p->commit : "unknown", p->base);
    if (n < 0 || (size_t)n >= sizeof buf) n = (int)strlen(buf);
    seam_status s = seam_write_file_atomic(path, buf, (size_t)n, err);
    free(path);
    return s;
}

/* HEAD of config.json: fails on an unreachable hub, unknown/gated/private repo or a repo
 * without config.json, with the same messages as the download itself. */
static seam_status preflight(puller *p, seam_error *err) {
    hdr_state h;
    int transient;
    seam_status s = SEAM_OK;
    for (int attempt = 0;; attempt++) {
        /* Only busy-server answers are retried here: a hub that is down or silent fails at once. */
        s = head_file(p, "config.json", &h, &transient, err);
        if (s || !transient_http(h.status) || attempt >= p->opt.retries) break;
        sleep_s(1 << (attempt < 3 ? attempt : 3));
    }
    if (!s && (h.status < 200 || h.status >= 400)) s = http_error(p, "config.json", h.status, &h, err);
    return s;
}

static seam_status run_pull(puller *p, seam_error *err) {
    int missing;
    seam_status s = fetch_file(p, "config.json", 1, &missing, err);
    if (s) return s;
    for (size_t i = 0; i < sizeof k_optional_first / sizeof k_optional_first[0]; i++)
        if ((s = fetch_file(p, k_optional_first[i], 0, &missing, err))) return s;
    if ((s = fetch_file(p, INDEX_NAME, 0, &missing, err))) return s;
    if (missing) {
        if ((s = fetch_file(p, "model.safetensors", 1, &missing, err))) return s;
    } else {
        char **shards;
        size_t n;
        if ((s = read_index(p, &shards, &n, err))) return s;
        for (size_t i = 0; i < n && !s; i++) s = fetch_file(p, shards[i], 1, &missing, err);
        free_names(shards, n);
        if (s) return s;
    }
    for (size_t i = 0; i < sizeof k_optional_last / sizeof k_optional_last[0]; i++)
        if ((s = fetch_file(p, k_optional_last[i], 0, &missing, err))) return s;
    return SEAM_OK;
}

static seam_status puller_init(puller *p, const char *repo, const char *rev, const seam_hub_options *opt,
                               char *dir, seam_error *err) {
    memset(p, 0, sizeof *p);
    p->opt = *opt;
    p->repo = repo;
    p->rev = rev;
    p->dir = dir;
    if (p->opt.retries < 0) p->opt.retries = hub_env_int("SEAM_HUB_RETRIES", DEFAULT_RETRIES);
    if (p->opt.retries > 100) p->opt.retries = 100;
    if (p->opt.timeout_s <= 0) p->opt.timeout_s = hub_env_int("SEAM_HUB_TIMEOUT", DEFAULT_TIMEOUT_S);
    if (p->opt.timeout_s <= 0) p->opt.timeout_s = DEFAULT_TIMEOUT_S;
    p->bar = opt->progress_bar && isatty(STDERR_FILENO);

    const char *ep = opt->endpoint && *opt->endpoint ? opt->endpoint : hub_env_str("SEAM_HUB_URL");
    if (!ep) ep = hub_env_str("HF_ENDPOINT");
    if (!ep) ep = DEFAULT_ENDPOINT;
    if (strncasecmp(ep, "http://", 7) != 0 && strncasecmp(ep, "https://", 8) != 0)
        return seam_fail(err, SEAM_ERR_ARG, "hub endpoint '%s' (SEAM_HUB_URL) must start with http:// or https://", ep);
    if (!(p->base = hub_strdup(ep))) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    size_t bl = strlen(p->base);
    while (bl > 8 && p->base[bl - 1] == '/') p->base[--bl] = 0;
    const char *host = strstr(p->base, "://") + 3;
    const char *path = strchr(host, '/');
    size_t ol = path ? (size_t)(path - p->base) : bl;
    if (!(p->origin = malloc(ol + 1))) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    memcpy(p->origin, p->base, ol);
    p->origin[ol] = 0;

    /* revision: '/' -> %2F */
    size_t rl = strlen(rev), k = 0;
    if (!(p->rev_enc = malloc(3 * rl + 1))) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < rl; i++) {
        if (rev[i] == '/') { memcpy(p->rev_enc + k, "%2F", 3); k += 3; }
        else p->rev_enc[k++] = rev[i];
    }
    p->rev_enc[k] = 0;

    pthread_once(&g_once, global_init);
    if (g_init_rc != CURLE_OK)
        return seam_fail(err, SEAM_ERR_NET, "cannot initialise libcurl: %s", curl_easy_strerror(g_init_rc));
    if (!(p->curl = curl_easy_init())) return seam_fail(err, SEAM_ERR_NET, "cannot initialise libcurl");

    struct curl_slist *h = curl_slist_append(NULL, "Accept-Encoding: identity");
    if (!h) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    p->headers = h;
    const char *token = opt->token;
    if (!token) token = hub_env_str("HF_TOKEN");
    if (!token) token = hub_env_str("HUGGING_FACE_HUB_TOKEN");
    if (token && *token && (strncasecmp(p->base, "https://", 8) == 0 || is_loopback_url(p->origin))) {
        if (strchr(token, '\n') || strchr(token, '\r'))
            return seam_fail(err, SEAM_ERR_ARG, "HF_TOKEN contains a line break");
        char *line = hub_cat("Authorization: Bearer ", token, NULL);
        if (!line) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
        h = curl_slist_append(p->headers, line);
        free(line);
        if (!h) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
        p->headers = h;
        p->has_token = 1;
    }
    return SEAM_OK;
}

static void puller_free(puller *p) {
    if (p->curl) curl_easy_cleanup(p->curl);
    curl_slist_free_all(p->headers);
    free(p->base);
    free(p->origin);
    free(p->rev_enc);
}


seam_status seam_hub_pull(const char *repo_id, const char *revision, const seam_hub_options *opt, char **out_dir,
                          seam_error *err) {
    seam_hub_options dflt = seam_hub_default_options();
    if (!opt) opt = &dflt;
    if (!out_dir) return seam_fail(err, SEAM_ERR_ARG, "seam_hub_pull: out_dir is NULL");
    *out_dir = NULL;
    if (!revision) revision = "main";
    char *dir;
    seam_status s = seam_hub_cache_dir(repo_id, revision, opt, &dir, err);
    if (s) return s;
    if (!opt->force && hub_model_complete(dir)) {
        *out_dir = dir;
        return SEAM_OK;
    }
    if (opt->offline || hub_offline_env()) {
        s = seam_fail(err, SEAM_ERR_NET,
                      "%s is not in the model cache (%s) and downloads are off (offline mode: SEAM_OFFLINE or "
                      "HF_HUB_OFFLINE is set)",
                      repo_id, dir);
        free(dir);
        return s;
    }
    puller p;
    s = puller_init(&p, repo_id, revision, opt, dir, err);
    /* Before touching the disk: is the hub reachable, and does config.json exist there?
     * Unknown, gated or unreachable repos then leave no folder behind. */
    if (!s) s = preflight(&p, err);
    if (!s) s = hub_mkdir_p(dir, err);
    if (s) {
        puller_free(&p);
        free(dir);
        return s;
    }

    /* One pull per folder at a time; a second one waits, then finds the model complete. */
    char *lock_path = seam_path_join(dir, ".lock");
    int lock_fd = lock_path ? open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644) : -1;
    if (lock_fd < 0) {
        s = lock_path ? seam_fail(err, SEAM_ERR_IO, "cannot create %s: %s", lock_path, strerror(errno))
                      : seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
        free(lock_path);
        puller_free(&p);
        free(dir);
        return s;
    }
    free(lock_path);
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (opt->progress_bar && isatty(STDERR_FILENO)) {
            fprintf(stderr, "waiting for another seam pull of %s to finish...\n", repo_id);
            fflush(stderr);
        }
        while (flock(lock_fd, LOCK_EX) != 0) {
            if (errno != EINTR) {
                s = seam_fail(err, SEAM_ERR_IO, "cannot lock %s/.lock: %s", dir, strerror(errno));
                close(lock_fd);
                puller_free(&p);
                free(dir);
                return s;
            }
        }
    }
    if (!opt->force && hub_model_complete(dir)) {
        close(lock_fd);
        puller_free(&p);
        *out_dir = dir;
        return SEAM_OK;
    }

    {
        /* .pulling goes down before any file, so a crash leaves the folder marked incomplete. */
        char *pulling = seam_path_join(dir, ".pulling"), *complete = seam_path_join(dir, ".complete");
        if (!pulling || !complete) s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
        else if (!seam_file_exists(pulling)) s = seam_write_file_atomic(pulling, "", 0, err);
        if (!s && unlink(complete) != 0 && errno != ENOENT)
            s = seam_fail(err, SEAM_ERR_IO, "cannot remove %s: %s", complete, strerror(errno));
        if (!s) s = run_pull(&p, err);
        bar_end(&p);
        if (!s) s = write_marker(&p, err);
        if (!s && unlink(pulling) != 0)
            s = seam_fail(err, SEAM_ERR_IO, "cannot remove %s: %s", pulling, strerror(errno));
        if (!s) {
            int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                (void)fsync(dfd);
                close(dfd);
            }
        }
        free(pulling);
        free(complete);
    }
    puller_free(&p);
    close(lock_fd);
    if (s) {
        free(dir);
        return s;
    }
    *out_dir = dir;
    return SEAM_OK;
}
