/* The edge client (libcurl): split-session requests. Shard downloads are in
 * client_shard.c. Every answer is treated as untrusted: bodies are size-capped before they
 * are buffered, JSON is checked field by field, hidden states are decoded with the session's
 * expectations (model fingerprint, split point, position, shape). */
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/client.h"
#include "util/error.h"
#include "util/json.h"

#define JSON_LIMIT (1u << 20)

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc = CURLE_FAILED_INIT;
static void global_init(void) { g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ------------------------------------------------------------------ HTTP plumbing */

size_t membuf_write(char *ptr, size_t size, size_t n, void *ud) {
    membuf *m = ud;
    size_t len = size * n;
    if (m->len + len > m->limit) { m->overflow = 1; return 0; }
    if (m->len + len + 1 > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + len + 1) cap *= 2;
        if (cap > m->limit + 1) cap = m->limit + 1;
        uint8_t *d = realloc(m->data, cap);
        if (!d) return 0;
        m->data = d;
        m->cap = cap;
    }
    memcpy(m->data + m->len, ptr, len);
    m->len += len;
    m->data[m->len] = 0;
    return len;
}

static size_t header_cb(char *buf, size_t size, size_t n, void *ud) {
    double *server_ms = ud;
    size_t len = size * n;
    static const char name[] = "x-seam-server-ms:";
    if (len > sizeof name && len < 64 && strncasecmp(buf, name, sizeof name - 1) == 0) {
        char v[64];
        memcpy(v, buf + sizeof name - 1, len - (sizeof name - 1));
        v[len - (sizeof name - 1)] = 0;
        char *end;
        double ms = strtod(v, &end);
        if (end != v && ms >= 0 && ms < 1e9) *server_ms = ms;
    }
    return len;
}

void membuf_free(membuf *m) {
    free(m->data);
    memset(m, 0, sizeof *m);
}

/* The server's {"error": {"message": ...}} when there is one, else a generic line. */
seam_status client_server_error(const char *what, long status, const membuf *body, seam_error *err) {
    char jerr[64];
    json_value *root = body->data ? json_parse((const char *)body->data, body->len, jerr, sizeof jerr) : NULL;
    const json_value *e = root ? json_get(root, "error") : NULL;
    const char *msg = e ? json_get_string(e, "message") : NULL;
    seam_status s = msg ? seam_fail(err, SEAM_ERR_NET, "%s: the server answered HTTP %ld: %s", what, status, msg)
                        : seam_fail(err, SEAM_ERR_NET, "%s: the server answered HTTP %ld", what, status);
    json_free(root);
    return s;
}

void client_reset(seam_client *c, const char *url) {
    CURL *h = c->curl;
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "seam-edge/" SEAM_VERSION);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_err);
    /* A split server is addressed directly: redirects would move hidden states elsewhere. */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    c->curl_err[0] = 0;
}

seam_status client_curl_error(seam_client *c, const char *what, int rc, seam_error *err) {
    const char *msg = c->curl_err[0] ? c->curl_err : curl_easy_strerror((CURLcode)rc);
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
        return seam_fail(err, SEAM_ERR_NET, "%s: cannot reach the server at %s (%s)", what, c->base, msg);
    return seam_fail(err, SEAM_ERR_NET, "%s: %s", what, msg);
}

/* One request/response. The answer body (at most limit bytes) goes to out; *status gets the
 * HTTP status. Counts into the session stats when count is set. */
static seam_status request(seam_client *c, const char *what, const char *method, const char *path,
                           const char *content_type, const void *body, size_t len, size_t limit, int count, long *status,
                           membuf *out, seam_error *err) {
    char *url = malloc(strlen(c->base) + strlen(path) + 1);
    if (!url) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    strcpy(url, c->base);
    strcat(url, path);
    client_reset(c, url);
    free(url);
    struct curl_slist *hdrs = NULL;
    char ct[128];
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, ct);
    }
    if (c->auth) hdrs = curl_slist_append(hdrs, c->auth);
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip before a step */
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)c->timeout_s);
    memset(out, 0, sizeof *out);
    out->limit = limit;
    double server_ms = -1;
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, membuf_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &server_ms);
    double t0 = seam_now_s();
    CURLcode rc = curl_easy_perform(h);
    double dt = seam_now_s() - t0;
    curl_slist_free_all(hdrs);
    *status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    if (count) {
        c->st.round_trips++;
        c->st.bytes_sent += len;
        c->st.bytes_received += out->len;
        c->st.seconds += dt;
        if (server_ms >= 0) c->st.server_seconds += server_ms * 1e-3;
    }
    if (out->overflow) {
        membuf_free(out);
        return seam_fail(err, SEAM_ERR_NET, "%s: the server's answer is larger than the %zu bytes expected", what, limit);
    }
    if (rc != CURLE_OK) {
        membuf_free(out);
        return client_curl_error(c, what, (int)rc, err);
    }
    if (*status >= 400) {
        seam_status s = client_server_error(what, *status, out, err);
        membuf_free(out);
        return s;
    }
    return SEAM_OK;
}

/* ------------------------------------------------------------------ client */

seam_status seam_client_new(const char *base_url, const char *api_key, int timeout_s, seam_client **out,
                            seam_error *err) {
    *out = NULL;
    if (!base_url || (strncasecmp(base_url, "http://", 7) != 0 && strncasecmp(base_url, "https://", 8) != 0))
        return seam_fail(err, SEAM_ERR_ARG, "server URL '%s' must start with http:// or https://", base_url ? base_url : "");
    pthread_once(&g_once, global_init);
    if (g_init_rc != CURLE_OK) return seam_fail(err, SEAM_ERR_NET, "libcurl failed to initialise");
    seam_client *c = calloc(1, sizeof *c);
    if (!c) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    c->base = strdup(base_url);
    if (c->base) {
        size_t n = strlen(c->base);
        while (n > 8 && c->base[n - 1] == '/') c->base[--n] = 0;
    }
    if (api_key && *api_key) {
        size_t n = strlen(api_key) + 32;
        if ((c->auth = malloc(n))) snprintf(c->auth, n, "Authorization: Bearer %s", api_key);
    }
    c->timeout_s = timeout_s > 0 ? timeout_s : 300;
    c->curl = curl_easy_init();
    if (!c->base || (api_key && *api_key && !c->auth) || !c->curl) {
        seam_client_free(c);
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    }
    *out = c;
    return SEAM_OK;
}

void seam_client_free(seam_client *c) {
    if (!c) return;
    if (c->curl) curl_easy_cleanup(c->curl);
    free(c->base);
    free(c->auth);
    free(c);
}

const seam_client_stats *seam_client_get_stats(const seam_client *c) { return &c->st; }
void seam_client_set_rate_limit(seam_client *c, uint64_t bytes_per_s) { c->rate = bytes_per_s; }

/* ------------------------------------------------------------------ sessions */

static int get_int_in(const json_value *o, const char *key, int64_t lo, int64_t hi, int *out) {
    int64_t v;
    if (!json_get_int(o, key, &v) || v < lo || v > hi) return 0;
    *out = (int)v;
    return 1;
}

seam_status seam_client_model(seam_client *c, const char *name, seam_remote_model *out, seam_error *err) {
    memset(out, 0, sizeof *out);
    long status;
    membuf resp;
    seam_status s = request(c, "listing the server's models", "GET", "/v1/models", NULL, NULL, 0, JSON_LIMIT, 0, &status,
                            &resp, err);
    if (s) return s;
    char jerr[128];
    json_value *root = json_parse((const char *)resp.data, resp.len, jerr, sizeof jerr);
    membuf_free(&resp);
    const json_value *data = root ? json_get(root, "data") : NULL;
    int found = 0, bad = !data || data->type != JSON_ARRAY;
    for (size_t i = 0; !bad && i < data->len; i++) {
        const json_value *m = &data->items[i];
        const char *id = json_get_string(m, "id");
        if (!id || (name && strcmp(id, name) != 0)) continue;
        if (!name && data->len != 1) break;
        const char *fp = json_get_string(m, "fingerprint");
        uint8_t fb[32];
        bad = strlen(id) >= sizeof out->id || !seam_fingerprint_to_bytes(fp, fb) ||
              !get_int_in(m, "n_layer", 1, 100000, &out->n_layer) || !get_int_in(m, "n_embd", 1, 1 << 16, &out->n_embd) ||
              !get_int_in(m, "vocab_size", 1, 100000000, &out->vocab_size) ||
              !get_int_in(m, "n_positions", 1, 1 << 30, &out->n_positions) ||
              !get_int_in(m, "max_context", 1, 1 << 30, &out->max_context);
        if (!bad) {
            snprintf(out->id, sizeof out->id, "%s", id);
            seam_fingerprint_to_hex(fb, out->fingerprint);
            found = 1;
        }
        break;
    }
    int n = data && data->type == JSON_ARRAY ? (int)data->len : 0;
    json_free(root);
    if (bad) return seam_fail(err, SEAM_ERR_NET, "listing the server's models: the answer is not a valid model list");
    if (!found && !name) return seam_fail(err, SEAM_ERR_ARG, "the server has %d models: pick one with --model", n);
    if (!found) return seam_fail(err, SEAM_ERR_ARG, "the server has no model '%s' (GET /v1/models)", name);
    return SEAM_OK;
}

seam_status seam_client_session_open(seam_client *c, const seam_session_request *rq, seam_remote_session *out,
                                     seam_error *err) {
    memset(out, 0, sizeof *out);
    sbuf b = {0};
    sb_puts(&b, "{");
    if (rq->model) { sb_puts(&b, "\"model\":"); sb_json_str(&b, rq->model); sb_puts(&b, ","); }
    sb_printf(&b, "\"split\":%d,\"mode\":\"%s\",\"activation\":\"%s\"", rq->split,
              rq->mode == SEAM_SPLIT_TAIL ? "tail" : "head", seam_wire_dtype_name(rq->activation));
    if (rq->max_context > 0) sb_printf(&b, ",\"max_context\":%d", rq->max_context);
    if (rq->sampling)
        sb_printf(&b, ",\"temperature\":%.9g,\"top_k\":%d,\"top_p\":%.9g,\"seed\":%llu", (double)rq->sampling->temperature,
                  rq->sampling->top_k, (double)rq->sampling->top_p, (unsigned long long)rq->sampling->seed);
    sb_puts(&b, "}");
    if (b.oom) { sb_free(&b); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    long status;
    membuf resp;
    seam_status s = request(c, "opening a split session", "POST", "/v1/sessions", "application/json", b.s, b.len,
                            JSON_LIMIT, 0, &status, &resp, err);
    sb_free(&b);
    if (s) return s;
    char jerr[128];
    json_value *root = json_parse((const char *)resp.data, resp.len, jerr, sizeof jerr);
    membuf_free(&resp);
    const char *id = root ? json_get_string(root, "id") : NULL, *fp = root ? json_get_string(root, "fingerprint") : NULL;
    const char *model = root ? json_get_string(root, "model") : NULL, *act = root ? json_get_string(root, "activation") : NULL;
    const char *mode = root ? json_get_string(root, "mode") : NULL;
    seam_wire_dtype dt;
    int ok = root && status == 201 && id && strlen(id) < sizeof out->id && model && strlen(model) < sizeof out->model &&
             seam_fingerprint_to_bytes(fp, out->fp_bytes) && act && seam_wire_dtype_parse(act, &dt) &&
             dt == rq->activation && mode && !strcmp(mode, rq->mode == SEAM_SPLIT_TAIL ? "tail" : "head") &&
             get_int_in(root, "n_layer", 1, 100000, &out->n_layer) && get_int_in(root, "split", 0, out->n_layer, &out->split) &&
             out->split == rq->split && get_int_in(root, "n_embd", 1, 1 << 16, &out->n_embd) &&
             get_int_in(root, "vocab_size", 1, 100000000, &out->vocab_size) &&
             get_int_in(root, "max_context", 1, 1 << 30, &out->max_context) &&
             get_int_in(root, "eos_token_id", -1, 100000000, &out->eos_token_id);
    if (ok) {
        snprintf(out->id, sizeof out->id, "%s", id);
        snprintf(out->model, sizeof out->model, "%s", model);
        seam_fingerprint_to_hex(out->fp_bytes, out->fingerprint);
        out->mode = rq->mode;
        out->activation = dt;
        for (const char *p = out->id; *p && ok; p++) ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
    }
    json_free(root);
    if (!ok) return seam_fail(err, SEAM_ERR_NET, "opening a split session: the server's answer is not a valid session");
    return SEAM_OK;
}

seam_status seam_client_session_close(seam_client *c, const seam_remote_session *s, seam_error *err) {
    char path[96];
    snprintf(path, sizeof path, "/v1/sessions/%s", s->id);
    long status;
    membuf resp;
    seam_status st = request(c, "closing the split session", "DELETE", path, NULL, NULL, 0, JSON_LIMIT, 0, &status, &resp, err);
    membuf_free(&resp);
    return st;
}

seam_status seam_client_step_ids(seam_client *c, const seam_remote_session *s, const int32_t *ids, int T, int pos,
                                 float *hidden, seam_error *err) {
    if (s->mode != SEAM_SPLIT_TAIL) return seam_fail(err, SEAM_ERR_ARG, "token ids go to tail-mode sessions only");
    sbuf b = {0};
    sb_puts(&b, "{\"ids\":[");
    for (int i = 0; i < T; i++) sb_printf(&b, "%s%d", i ? "," : "", (int)ids[i]);
    sb_printf(&b, "],\"pos\":%d}", pos);
    if (b.oom) { sb_free(&b); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    char path[96];
    snprintf(path, sizeof path, "/v1/sessions/%s/step", s->id);
    size_t want = seam_wire_size(s->activation, T, s->n_embd);
    long status;
    membuf resp;
    seam_status st = request(c, "split step", "POST", path, "application/json", b.s, b.len, want ? want : 1, 1, &status,
                             &resp, err);
    sb_free(&b);
    if (st) return st;
    seam_wire_expect ex = {s->fp_bytes, s->split, pos, s->n_embd, T};
    seam_wire_header h;
    st = seam_wire_decode(resp.data, resp.len, &ex, &h, hidden, (size_t)T * (size_t)s->n_embd, err);
    membuf_free(&resp);
    if (st) {
        if (err) {
            seam_fail_wrap(err, "split step: the server's hidden state");
            err->code = SEAM_ERR_NET;
        }
        return SEAM_ERR_NET;
    }
    if (h.T != T || h.dtype != s->activation)
        return seam_fail(err, SEAM_ERR_NET, "split step: the server answered %d %s rows for %d tokens sent", h.T,
                         seam_wire_dtype_name(h.dtype), T);
    return SEAM_OK;
}

seam_status seam_client_step_hidden(seam_client *c, const seam_remote_session *s, const float *hidden, int T, int pos,
                                    int32_t *token, seam_error *err) {
    if (s->mode != SEAM_SPLIT_HEAD) return seam_fail(err, SEAM_ERR_ARG, "hidden states go to head-mode sessions only");
    seam_wire_header h = seam_wire_header_make(s->activation, s->fp_bytes, s->split, pos, T, s->n_embd);
    size_t n = seam_wire_size(h.dtype, T, h.C), w = 0;
    uint8_t *msg = n ? malloc(n) : NULL;
    if (!msg) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory for a hidden state of %d rows", T);
    seam_status st = seam_wire_encode(&h, hidden, msg, n, &w, err);
    if (st) { free(msg); return st; }
    char path[96];
    snprintf(path, sizeof path, "/v1/sessions/%s/step", s->id);
    long status;
    membuf resp;
    st = request(c, "split step", "POST", path, SEAM_WIRE_CONTENT_TYPE, msg, w, JSON_LIMIT, 1, &status, &resp, err);
    free(msg);
    if (st) return st;
    char jerr[64];
    json_value *root = json_parse((const char *)resp.data, resp.len, jerr, sizeof jerr);
    membuf_free(&resp);
    int tok = -1, npos = -1;
    int ok = root && get_int_in(root, "token", 0, s->vocab_size - 1, &tok) && get_int_in(root, "pos", 0, 1 << 30, &npos) &&
             npos == pos + T;
    json_free(root);
    if (!ok) return seam_fail(err, SEAM_ERR_NET, "split step: the server's answer is not a token for position %d", pos + T);
    *token = tok;
    return SEAM_OK;
}
