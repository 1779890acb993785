/* `seam serve`: the HTTP side (libmicrohttpd). Routes are listed in include/seam_net.h.
 *
 * A request's life: the first callback (headers only) allocates a req, checks the API key
 * and the declared Content-Length (so an oversized body is refused before it is read);
 * later callbacks append body bytes up to max_body; the last one dispatches to the session,
 * shard or metrics code, which fills an http_answer that is sent from here. The completion
 * callback records metrics and frees the req whether the client stayed or not, so a client
 * that disconnects mid-request leaves nothing behind. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model/model.h"
#include "net/net.h"
#include "util/error.h"

#define DEFAULT_THREADS 4
#define DEFAULT_MAX_SESSIONS 64
#define DEFAULT_TTL_S 300
#define DEFAULT_MAX_BODY (64u << 20)

struct seam_server {
    seam_server_options opt;
    char *model_name, *api_key;
    seam_model *model;        /* a decoder, or NULL for an encoder server */
    seam_tokenizer *tok;      /* the decoder's, when its folder has one */
    seam_encoder **encoders;  /* an encoder server: one per HTTP worker */
    int n_encoders;
    openai *openai;
    uploads *uploads;         /* NULL unless allow_uploads */
    char fingerprint[SEAM_FINGERPRINT_HEX_SIZE];
    metrics *metrics;
    session_table *sessions;
    shard_cache *shards;
    static_site *web;         /* --web DIR, or NULL */
    struct MHD_Daemon *daemon;
    int port;
};

typedef struct {
    route_id route;
    char method[8];
    char *body;
    size_t len, cap;
    int too_large, answered;
    int status;
    uint64_t bytes_in, bytes_out;
    double t0;
} req;

seam_server_options seam_server_default_options(void) {
    seam_server_options o;
    memset(&o, 0, sizeof o);
    return o;
}

int seam_server_port(const seam_server *s) { return s->port; }
const char *seam_server_fingerprint(const seam_server *s) { return s->fingerprint; }
const char *seam_server_model_name(const seam_server *s) { return s->model_name; }

/* ------------------------------------------------------------------ responses */

static enum MHD_Result send_answer(struct MHD_Connection *c, req *r, http_answer *a) {
    struct MHD_Response *resp;
    if (a->body) resp = MHD_create_response_from_buffer(a->len, a->body, MHD_RESPMEM_MUST_FREE);
    else resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(a->body);
        return MHD_NO;
    }
    a->body = NULL;
    if (a->content_type) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
    if (a->header_name[0]) MHD_add_response_header(resp, a->header_name, a->header_value);
    if (a->status == 401) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (a->status == 405) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, a->header_value);
    add_isolation_headers(resp);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)a->status, resp);
    MHD_destroy_response(resp);
    r->answered = 1;
    r->status = a->status;
    r->bytes_out += a->len;
    return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *c, req *r, int status, const char *code, const char *msg) {
    http_answer a;
    answer_error(&a, status, code, "%s", msg);
    return send_answer(c, r, &a);
}

/* ------------------------------------------------------------------ routing */

/* Splits url into a route and up to two path parameters (copied into p1, p2). */
static route_id route_of(const char *url, char *p1, size_t n1, char *p2, size_t n2) {
    p1[0] = p2[0] = 0;
    if (!strcmp(url, "/healthz")) return ROUTE_HEALTHZ;
    if (!strcmp(url, "/metrics")) return ROUTE_METRICS;
    if (!strcmp(url, "/v1/models")) return ROUTE_MODELS;
    if (!strcmp(url, "/v1/sessions")) return ROUTE_SESSIONS;
    if (!strcmp(url, "/v1/completions")) return ROUTE_COMPLETIONS;
    if (!strcmp(url, "/v1/embeddings")) return ROUTE_EMBEDDINGS;
    const char *rest;
    int sessions = 0, up = 0;
    if (!strncmp(url, "/v1/models/", 11)) rest = url + 11;
    else if (!strncmp(url, "/v1/sessions/", 13)) { rest = url + 13; sessions = 1; }
    else if (!strncmp(url, "/v1/uploads/", 12)) { rest = url + 12; up = 1; }
    else return ROUTE_OTHER;
    size_t n = strcspn(rest, "/");
    if (n == 0 || n >= n1) return ROUTE_OTHER;
    memcpy(p1, rest, n);
    p1[n] = 0;
    rest += n;
    if (up) {
        if (!*rest) return ROUTE_UPLOAD;
        if (!strcmp(rest, "/commit")) return ROUTE_UPLOAD_COMMIT;
        rest++;
        n = strlen(rest);
        if (n == 0 || n >= n2 || strchr(rest, '/')) return ROUTE_OTHER;
        memcpy(p2, rest, n + 1);
        return ROUTE_UPLOAD_FILE;
    }
    if (!*rest) return sessions ? ROUTE_SESSION : ROUTE_MODEL;
    if (sessions) return !strcmp(rest, "/step") ? ROUTE_STEP : ROUTE_OTHER;
    if (!strcmp(rest, "/shards")) return ROUTE_SHARD_MANIFEST;
    if (strncmp(rest, "/shards/", 8) != 0) return ROUTE_OTHER;
    rest += 8;
    n = strlen(rest);
    if (n == 0 || n >= n2 || strchr(rest, '/')) return ROUTE_OTHER;
    memcpy(p2, rest, n + 1);
    return ROUTE_SHARD_FILE;
}

/* The methods each route takes, for 405 and its Allow header. */
static const char *allowed(route_id r) {
    switch (r) {
    case ROUTE_SESSIONS:
    case ROUTE_COMPLETIONS:
    case ROUTE_UPLOAD_COMMIT:
    case ROUTE_EMBEDDINGS: return "POST";
    case ROUTE_UPLOAD: return "GET, DELETE";
    case ROUTE_UPLOAD_FILE: return "PUT";
    case ROUTE_SESSION: return "GET, DELETE";
    case ROUTE_STEP: return "POST";
    case ROUTE_SHARD_FILE:
    case ROUTE_STATIC: return "GET, HEAD";
    default: return "GET";
    }
}

static int method_ok(route_id r, const char *m) {
    const char *a = allowed(r);
    if (!strcmp(m, "HEAD") && r == ROUTE_SHARD_FILE) return 1;
    size_t n = strlen(m);
    for (const char *p = a; (p = strstr(p, m)); p += n)
        if ((p == a || p[-1] == ' ') && (p[n] == 0 || p[n] == ',')) return 1;
    return 0;
}

/* Compares every byte whatever the first difference, so timing does not leak the key. */
static int key_matches(const char *given, const char *key) {
    size_t a = strlen(given), b = strlen(key);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < b; i++) diff |= (unsigned)(unsigned char)key[i] ^ (unsigned)(unsigned char)(i < a ? given[i] : 0);
    return diff == 0;
}

static int authorised(seam_server *sv, struct MHD_Connection *c) {
    if (!sv->api_key) return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncmp(h, "Bearer ", 7) != 0) return 0;
    return key_matches(h + 7, sv->api_key);
}

static void model_json(seam_server *sv, sbuf *b) {
    if (!sv->model) {
        const seam_encoder_info *ei = seam_encoder_get_info(sv->encoders[0]);
        sb_puts(b, "{\"id\":");
        sb_json_str(b, sv->model_name);
        sb_printf(b, ",\"object\":\"model\",\"owned_by\":\"seam\",\"architecture\":\"bert\",\"n_layer\":%d,"
                  "\"hidden\":%d,\"max_seq_length\":%d,\"pooling\":\"%s\",\"normalize\":%s}",
                  ei->n_layer, ei->hidden, ei->max_seq_length, seam_pooling_name(ei->pooling), ei->normalize ? "true" : "false");
        return;
    }
    const seam_model_info *in = seam_model_get_info(sv->model);
    sb_puts(b, "{\"id\":");
    sb_json_str(b, sv->model_name);
    sb_printf(b,
              ",\"object\":\"model\",\"owned_by\":\"seam\",\"architecture\":\"gpt2\",\"fingerprint\":\"%s\","
              "\"n_layer\":%d,\"n_embd\":%d,\"n_head\":%d,\"n_positions\":%d,\"vocab_size\":%d,\"eos_token_id\":%d,"
              "\"max_context\":%d,\"weight_bytes\":%llu,\"activations\":[\"f32\",\"f16\",\"q8\"],"
              "\"modes\":[\"tail\",\"head\"]}",
              sv->fingerprint, in->n_layer, in->n_embd, in->n_head, in->n_positions, in->vocab_size, in->eos_token_id,
              sv->opt.max_context, (unsigned long long)in->weight_bytes);
}

static void dispatch(seam_server *sv, struct MHD_Connection *c, req *r, const char *method, const char *p1,
                     const char *p2, http_answer *a) {
    sbuf b = {0};
    switch (r->route) {
    case ROUTE_HEALTHZ:
        sb_puts(&b, "{\"status\":\"ok\"}");
        answer_json(a, 200, &b);
        return;
    case ROUTE_METRICS:
        metrics_render(sv->metrics, &b, sv->sessions ? sessions_active(sv->sessions) : 0, sv->opt.max_sessions);
        answer_json(a, 200, &b);
        a->content_type = "text/plain; version=0.0.4";
        return;
    case ROUTE_MODELS:
        sb_puts(&b, "{\"object\":\"list\",\"data\":[");
        model_json(sv, &b);
        sb_puts(&b, "]}");
        answer_json(a, 200, &b);
        return;
    case ROUTE_MODEL:
        if (strcmp(p1, sv->model_name) != 0) break;
        model_json(sv, &b);
        answer_json(a, 200, &b);
        return;
    case ROUTE_SESSIONS: sessions_create(sv->sessions, r->body ? r->body : "", r->len, a); return;
    case ROUTE_SESSION:
        if (!strcmp(method, "DELETE")) sessions_delete(sv->sessions, p1, a);
        else sessions_get(sv->sessions, p1, a);
        return;
    case ROUTE_STEP: {
        const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        sessions_step(sv->sessions, p1, ct, (const uint8_t *)(r->body ? r->body : ""), r->len, a);
        return;
    }
    case ROUTE_SHARD_MANIFEST:
    case ROUTE_SHARD_FILE:
    case ROUTE_UPLOAD:
        uploads_get(sv->uploads, p1, !strcmp(method, "DELETE"), a);
        return;
    case ROUTE_UPLOAD_FILE: {
        const char *off = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "offset");
        uploads_put(sv->uploads, p1, p2, off, (const uint8_t *)(r->body ? r->body : ""), r->len, a);
        return;
    }
    case ROUTE_UPLOAD_COMMIT: uploads_commit(sv->uploads, p1, r->body ? r->body : "", r->len, a); return;
    case ROUTE_COMPLETIONS:
    case ROUTE_EMBEDDINGS:
    case ROUTE_STATIC:
    case ROUTE_OTHER:
    case ROUTE_COUNT:
        break;
    }
    (void)p2;
    answer_error(a, 404, "model_not_found", "model '%.100s' is not served here (GET /v1/models)", p1);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)version;
    seam_server *sv = cls;
    req *r = *con_cls;
    char p1[160], p2[160];
    route_id route = route_of(url, p1, sizeof p1, p2, sizeof p2);
    /* API routes first; with --web, any other path outside /v1/ is a file of the page. */
    if (route == ROUTE_OTHER && sv->web && strncmp(url, "/v1/", 4) != 0 && strcmp(url, "/v1") != 0) route = ROUTE_STATIC;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        r->t0 = seam_now_s();
        r->route = route;
        snprintf(r->method, sizeof r->method, "%s", method);
        *con_cls = r;
        /* The page needs no API key: a browser navigating to it cannot send one, and what
         * --web serves is public by the operator's choice. */
        if (route == ROUTE_STATIC) {
            if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
                http_answer a;
                answer_error(&a, 405, "method_not_allowed", "%s is not allowed on static files (allowed: GET, HEAD)", method);
                snprintf(a.header_value, sizeof a.header_value, "GET, HEAD");
                return send_answer(c, r, &a);
            }
            enum MHD_Result res = static_site_serve(sv->web, c, url, !strcmp(method, "HEAD"), &r->status, &r->bytes_out);
            r->answered = 1;
            return res;
        }
        if (!authorised(sv, c)) return send_error(c, r, 401, "unauthorized", "missing or wrong API key (Authorization: Bearer KEY)");
        if (route == ROUTE_OTHER) {
            http_answer a;
            answer_error(&a, 404, "not_found", "no route %.200s (see the README, section seam serve)", url);
            return send_answer(c, r, &a);
        }
        if (!method_ok(route, method)) {
            http_answer a;
            answer_error(&a, 405, "method_not_allowed", "%s is not allowed on %s (allowed: %s)", method,
                         seam_route_name(route), allowed(route));
            snprintf(a.header_value, sizeof a.header_value, "%s", allowed(route));
            return send_answer(c, r, &a);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            unsigned long long n = strtoull(cl, &end, 10);
            if (*end || end == cl || n > sv->opt.max_body) {
                http_answer a;
                answer_error(&a, 413, "body_too_large", "request body of %s bytes exceeds the limit of %zu", cl, sv->opt.max_body);
                return send_answer(c, r, &a);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        r->bytes_in += n;
        if (r->answered || r->too_large) return MHD_YES;
        if (r->len + n > sv->opt.max_body) { /* chunked bodies have no Content-Length to check first */
            r->too_large = 1;
            free(r->body);
            r->body = NULL;
            r->len = r->cap = 0;
            return MHD_YES;
        }
        if (r->len + n + 1 > r->cap) {
            size_t cap = r->cap ? r->cap : 4096;
            while (cap < r->len + n + 1) cap *= 2;
            char *nb = realloc(r->body, cap);
            if (!nb) return MHD_NO;
            r->body = nb;
            r->cap = cap;
        }
        memcpy(r->body + r->len, upload, n);
        r->len += n;
        r->body[r->len] = 0;
        return MHD_YES;
    }
    if (r->answered) return MHD_YES;
    if (r->too_large) {
        http_answer a;
        answer_error(&a, 413, "body_too_large", "request body exceeds the limit of %zu bytes", sv->opt.max_body);
        return send_answer(c, r, &a);
    }
    if (route == ROUTE_COMPLETIONS || route == ROUTE_EMBEDDINGS) {
        enum MHD_Result res = route == ROUTE_COMPLETIONS
                                  ? openai_completions(sv->openai, c, r->body ? r->body : "", r->len, &r->status, &r->bytes_out)
                                  : openai_embeddings(sv->openai, c, r->body ? r->body : "", r->len, &r->status, &r->bytes_out);
        r->answered = 1;
        return res;
    }
    int is_upload = route == ROUTE_UPLOAD || route == ROUTE_UPLOAD_FILE || route == ROUTE_UPLOAD_COMMIT;
    if (is_upload && !sv->uploads)
        return send_error(c, r, 403, "uploads_disabled", "uploads are off: start seam serve with --allow-uploads");
    if (!sv->model && !is_upload && route != ROUTE_HEALTHZ && route != ROUTE_METRICS && route != ROUTE_MODELS && route != ROUTE_MODEL)
        return send_error(c, r, 400, "not_a_decoder", "this server runs an encoder: only POST /v1/embeddings computes here");
    if (route == ROUTE_SHARD_MANIFEST || route == ROUTE_SHARD_FILE) {
        if (strcmp(p1, sv->model_name) != 0)
            return send_error(c, r, 404, "model_not_found", "no such model here (GET /v1/models)");
        enum MHD_Result res = shard_http_serve(sv->shards, c, route == ROUTE_SHARD_FILE ? p2 : NULL, &r->status, &r->bytes_out);
        r->answered = 1;
        return res;
    }
    http_answer a;
    memset(&a, 0, sizeof a);
    dispatch(sv, c, r, method, p1, p2, &a);
    return send_answer(c, r, &a);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode why) {
    (void)c;
    seam_server *sv = cls;
    req *r = *con_cls;
    if (!r) return;
    /* 499: the client went away before an answer was queued (nginx's convention). */
    int status = r->answered ? r->status : 499;
    if (why != MHD_REQUEST_TERMINATED_COMPLETED_OK && r->answered && status < 400) status = 499;
    metrics_request(sv->metrics, r->route, status, seam_now_s() - r->t0, r->bytes_in, r->bytes_out);
    if (sv->opt.log_requests)
        fprintf(stderr, "seam serve: %s %s %d %.1f ms in %llu out %llu\n", r->method, seam_route_name(r->route), status,
                (seam_now_s() - r->t0) * 1e3, (unsigned long long)r->bytes_in, (unsigned long long)r->bytes_out);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

static int hexval(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* libmicrohttpd's percent-decoding, except that %00 stays as it is: decoded, it would cut
 * the C string short and "/index.html%00.png" would name index.html. Used for the path
 * and the query arguments. */
static size_t unescape_no_nul(void *cls, struct MHD_Connection *c, char *s) {
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *r = s; *r;) {
        int hi = r[0] == '%' && r[1] ? hexval(r[1]) : -1, lo = hi >= 0 && r[2] ? hexval(r[2]) : -1;
        if (hi >= 0 && lo >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi << 4 | lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = 0;
    return (size_t)(w - s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    const seam_server *sv = cls;
    if (!sv->opt.log_requests) return;
    fputs("seam serve: libmicrohttpd: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* ------------------------------------------------------------------ start / stop */

/* Folder name, made safe for a URL path segment. */
static char *default_name(const char *dir) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/') b--;
    char *s = malloc(n - b + 1);
    if (!s) return NULL;
    size_t k = 0;
    for (size_t i = b; i < n; i++) {
        char ch = dir[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                 ch == '_' || ch == '-';
        s[k++] = ok ? ch : '-';
    }
    s[k] = 0;
    if (k == 0 || s[0] == '.') { free(s); return strdup("model"); }
    return s;
}

static int valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 128 || s[0] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

/* A GPT-2 decoder (split sessions, shards, completions), or else a BERT-family encoder
 * (embeddings only), one per HTTP worker since an encoder serves one thread at a time. */
static seam_status open_model(seam_server *sv, seam_error *err) {
    seam_server_options *o = &sv->opt;
    seam_error first = {0};
    seam_status s = seam_model_open(o->model_dir, &sv->model, &first);
    if (!s) {
        const seam_model_info *in = seam_model_get_info(sv->model);
        if (in->layer_begin != 0 || in->layer_end != in->n_layer || !in->has_embed || !in->has_head)
            return seam_fail(err, SEAM_ERR_ARG, "%s is a shard; seam serve needs the whole model", o->model_dir);
        if (o->max_context <= 0 || o->max_context > in->n_positions) o->max_context = in->n_positions;
        seam_error terr = {0};
        seam_tokenizer_open(o->model_dir, &sv->tok, &terr); /* none: completions take ids only */
        return SEAM_OK;
    }
    if (s != SEAM_ERR_UNSUPPORTED) {
        if (err) *err = first;
        return s;
    }
    sv->encoders = calloc((size_t)o->threads, sizeof *sv->encoders);
    if (!sv->encoders) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    seam_encoder_params ep = {0, 0, o->compute_threads, SEAM_PRECISION_DEFAULT};
    for (int i = 0; i < o->threads; i++) {
        seam_error eerr = {0};
        if (seam_encoder_open(o->model_dir, &ep, &sv->encoders[i], &eerr)) {
            /* neither: report both readings of the folder */
            return seam_fail(err, s, "%s; as an encoder: %s", first.message, eerr.message);
        }
        sv->n_encoders++;
    }
    if (o->max_context <= 0) o->max_context = seam_encoder_get_info(sv->encoders[0])->max_seq_length;
    return SEAM_OK;
}

void seam_server_stop(seam_server *sv) {
    if (!sv) return;
    if (sv->daemon) MHD_stop_daemon(sv->daemon);
    sessions_free(sv->sessions);
    shard_cache_free(sv->shards);
    static_site_free(sv->web);
    openai_free(sv->openai);
    uploads_free(sv->uploads);
    for (int i = 0; i < sv->n_encoders; i++) seam_encoder_close(sv->encoders[i]);
    free(sv->encoders);
    seam_tokenizer_close(sv->tok);
    metrics_free(sv->metrics);
    seam_model_close(sv->model);
    free(sv->model_name);
    free(sv->api_key);
    free(sv);
}

seam_status seam_server_start(const seam_server_options *opt, seam_server **out, seam_error *err) {
    *out = NULL;
    if (!opt->model_dir) return seam_fail(err, SEAM_ERR_ARG, "no model folder given");
    if (opt->threads < 0 || opt->threads > 1024) return seam_fail(err, SEAM_ERR_ARG, "threads must be in [1, 1024]");
    if (opt->port < 0 || opt->port > 65535) return seam_fail(err, SEAM_ERR_ARG, "port %d is outside [0, 65535]", opt->port);
    if (opt->model_name && !valid_name(opt->model_name))
        return seam_fail(err, SEAM_ERR_ARG, "model name '%s' must be 1-128 characters of [A-Za-z0-9._-]", opt->model_name);
    seam_server *sv = calloc(1, sizeof *sv);
    if (!sv) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    sv->opt = *opt;
    seam_server_options *o = &sv->opt;
    if (!o->host) o->host = "127.0.0.1";
    if (o->threads <= 0) o->threads = DEFAULT_THREADS;
    if (o->compute_threads <= 0) o->compute_threads = 1;
    if (o->max_sessions <= 0) o->max_sessions = DEFAULT_MAX_SESSIONS;
    if (o->session_ttl_s <= 0) o->session_ttl_s = DEFAULT_TTL_S;
    if (o->max_body == 0) o->max_body = DEFAULT_MAX_BODY;
    seam_status s;
    if ((s = open_model(sv, err))) goto fail;
    if (o->web_dir && (s = static_site_new(o->web_dir, &sv->web, err))) goto fail;
    sv->model_name = o->model_name ? strdup(o->model_name) : default_name(o->model_dir);
    sv->api_key = o->api_key && *o->api_key ? strdup(o->api_key) : NULL;
    sv->metrics = metrics_new();
    if (!sv->model_name || (o->api_key && *o->api_key && !sv->api_key) || !sv->metrics) {
        s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
        goto fail;
    }
    o->model_name = sv->model_name;
    o->api_key = sv->api_key;
    openai_config oc = {sv->model, sv->tok, sv->encoders, sv->n_encoders, sv->model_name, o->max_context,
                        o->compute_threads, o->max_sessions, sv->metrics};
    if ((s = openai_new(&oc, &sv->openai, err))) goto fail;
    if (o->allow_uploads && (s = uploads_new(o->upload_dir, o->models_dir, &sv->uploads, err))) goto fail;
    if (sv->model) {
        if ((s = seam_model_get_fingerprint(sv->model, sv->fingerprint, err))) goto fail;
        session_config sc = {sv->model, sv->model_name, sv->fingerprint, {0}, o->max_sessions, o->session_ttl_s,
                             o->max_context, o->compute_threads, sv->metrics};
        seam_fingerprint_to_bytes(sv->fingerprint, sc.fp_bytes);
        if ((s = sessions_new(&sc, &sv->sessions, err)) ||
            (s = shard_cache_new(o->model_dir, sv->fingerprint, o->cache_dir, &sv->shards, err)))
            goto fail;
    }

    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    char port[16];
    snprintf(port, sizeof port, "%d", o->port);
    int gai = getaddrinfo(o->host, port, &hints, &ai);
    if (gai != 0 || !ai) {
        s = seam_fail(err, SEAM_ERR_ARG, "cannot use host '%s': %s", o->host, gai_strerror(gai));
        goto fail;
    }
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    sv->daemon = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, handle, sv,
                                  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, sv,
                                  MHD_OPTION_UNESCAPE_CALLBACK, unescape_no_nul, NULL,
                                  MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                  MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->threads,
                                  MHD_OPTION_NOTIFY_COMPLETED, completed, sv,
                                  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
                                  MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!sv->daemon) {
        s = seam_fail(err, SEAM_ERR_NET, "cannot listen on %s:%d (address in use, or not an address of this machine?)",
                      o->host, o->port);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(sv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    sv->port = di ? di->port : o->port;
    *out = sv;
    return SEAM_OK;
fail:
    seam_server_stop(sv);
    return s;
}
