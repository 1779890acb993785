/* Split sessions of `seam serve`: each holds a seam_context whose KV cache covers only the
 * server's side of the split (seam_context_new_layers: [0, k) or [k, N), not the whole
 * model), and advances one step per request.
 *
 *   mode "tail" (the edge runs the tail): a step carries token ids; the server embeds them,
 *                runs blocks [0, k) and answers the hidden state entering block k.
 *   mode "head" (the edge runs the head; raw tokens never leave it): a step carries the
 *                hidden state entering block k; the server runs [k, N), the final norm and
 *                the LM head on the last row, samples, and answers the token id.
 *
 * Positions: a step at position p writes the KV cache at p..p+T-1 and attends to 0..p+T-1.
 * A step may start at the session's position or earlier (the edge re-sends a step whose
 * answer it lost; later cache rows are simply overwritten), never later.
 *
 * Locking: one mutex guards the table. A step marks its session busy (a second concurrent
 * step on it gets 409) and runs the forward pass without the table lock; a DELETE or the
 * idle reaper never frees a busy session: DELETE marks it dead and the step frees it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/net.h"
#include "util/error.h"
#include "util/json.h"

#define EXPIRED_RING 1024

typedef enum { MODE_TAIL = 0, MODE_HEAD = 1 } split_mode;

typedef struct {
    char id[33];
    split_mode mode;
    int split;
    seam_wire_dtype act;
    int n_ctx, pos;
    seam_context *ctx;
    seam_sampler *smp;
    seam_sampler_params sp;
    float *hidden; /* [n_ctx, C] */
    float *logits; /* [V], head mode */
    int busy, dead;
    double last_used;
    uint64_t steps;
} session;

struct session_table {
    session_config cfg;
    pthread_mutex_t lock;
    session **slots; /* max_sessions entries, NULL when free */
    int active;
    char expired[EXPIRED_RING][33];
    int expired_next;
    pthread_t reaper;
    pthread_cond_t wake;
    int stopping, reaper_started;
};

static void session_free(session *s) {
    if (!s) return;
    seam_context_free(s->ctx);
    seam_sampler_free(s->smp);
    free(s->hidden);
    free(s->logits);
    free(s);
}

/* 128 random bits as 32 hex digits: unguessable, so one client cannot drive another's session. */
static int random_id(char out[33]) {
    uint8_t r[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, r, sizeof r);
    close(fd);
    if (n != (ssize_t)sizeof r) return 0;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[32] = 0;
    return 1;
}

static int valid_id(const char *id) {
    if (strlen(id) != 32) return 0;
    for (int i = 0; i < 32; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return 0;
    return 1;
}

/* ------------------------------------------------------------------ idle expiry */

static void remember_expired(session_table *t, const char *id) {
    memcpy(t->expired[t->expired_next], id, 33);
    t->expired_next = (t->expired_next + 1) % EXPIRED_RING;
}

static int was_expired(session_table *t, const char *id) {
    for (int i = 0; i < EXPIRED_RING; i++)
        if (t->expired[i][0] && !strcmp(t->expired[i], id)) return 1;
    return 0;
}

/* Frees sessions idle for longer than the TTL, once a second. */
static void *reaper_main(void *arg) {
    session_table *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&t->wake, &t->lock, &ts);
        double now = seam_now_s();
        for (int i = 0; i < t->cfg.max_sessions; i++) {
            session *s = t->slots[i];
            if (!s || s->busy || now - s->last_used < t->cfg.ttl_s) continue;
            t->slots[i] = NULL;
            t->active--;
            remember_expired(t, s->id);
            metrics_session_event(t->cfg.metrics, 0, 1, 0);
            session_free(s);
        }
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

seam_status sessions_new(const session_config *cfg, session_table **out, seam_error *err) {
    session_table *t = calloc(1, sizeof *t);
    if (!t) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    t->cfg = *cfg;
    t->slots = calloc((size_t)cfg->max_sessions, sizeof *t->slots);
    if (!t->slots) { free(t); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    if (pthread_create(&t->reaper, NULL, reaper_main, t) != 0) {
        sessions_free(t);
        return seam_fail(err, SEAM_ERR_NOMEM, "cannot start the session reaper thread");
    }
    t->reaper_started = 1;
    *out = t;
    return SEAM_OK;
}

void sessions_free(session_table *t) {
    if (!t) return;
    pthread_mutex_lock(&t->lock);
    t->stopping = 1;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    if (t->reaper_started) pthread_join(t->reaper, NULL);
    for (int i = 0; i < t->cfg.max_sessions; i++) session_free(t->slots[i]);
    free(t->slots);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int sessions_active(session_table *t) {
    pthread_mutex_lock(&t->lock);
    int n = t->active;
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* ------------------------------------------------------------------ create */

/* Reads the optional sampling fields; returns 0 after filling a with the error. */
static int read_sampling(const json_value *root, seam_sampler_params *sp, http_answer *a) {
    const json_value *v;
    *sp = seam_sampler_default_params();
    sp->temperature = 0; /* greedy unless asked */
    if ((v = json_get(root, "temperature"))) {
        if (v->type != JSON_NUMBER || !(v->number >= 0 && v->number <= 100))
            return answer_error(a, 400, "invalid_temperature", "'temperature' must be a number in [0, 100]"), 0;
        sp->temperature = (float)v->number;
    }
    if ((v = json_get(root, "top_k"))) {
        if (v->type != JSON_NUMBER || !v->is_int || v->integer < 0 || v->integer > 100000000)
            return answer_error(a, 400, "invalid_top_k", "'top_k' must be an integer >= 0"), 0;
        sp->top_k = (int)v->integer;
    }
    if ((v = json_get(root, "top_p"))) {
        if (v->type != JSON_NUMBER || !(v->number > 0 && v->number <= 1))
            return answer_error(a, 400, "invalid_top_p", "'top_p' must be a number in (0, 1]"), 0;
        sp->top_p = (float)v->number;
    }
    if ((v = json_get(root, "seed"))) {
        if (v->type != JSON_NUMBER || !v->is_int || v->integer < 0)
            return answer_error(a, 400, "invalid_seed", "'seed' must be a non-negative integer"), 0;
        sp->seed = (uint64_t)v->integer;
    }
    return 1;
}

static void session_json(session_table *t, const session *s, sbuf *b) {
    const seam_model_info *in = seam_model_get_info(t->cfg.model);
    sb_puts(b, "{\"id\":");
    sb_json_str(b, s->id);
    sb_puts(b, ",\"object\":\"session\",\"model\":");
    sb_json_str(b, t->cfg.model_name);
    sb_printf(b,
              ",\"fingerprint\":\"%s\",\"split\":%d,\"mode\":\"%s\",\"activation\":\"%s\",\"max_context\":%d,"
              "\"pos\":%d,\"n_layer\":%d,\"n_embd\":%d,\"vocab_size\":%d,\"eos_token_id\":%d,\"ttl_s\":%d,"
              "\"server_layers\":[%d,%d],\"kv_cache_bytes\":%zu,\"temperature\":%g,\"top_k\":%d,\"top_p\":%g,"
              "\"seed\":%llu}",
              t->cfg.fingerprint, s->split, s->mode == MODE_TAIL ? "tail" : "head", seam_wire_dtype_name(s->act),
              s->n_ctx, s->pos, in->n_layer, in->n_embd, in->vocab_size, in->eos_token_id, t->cfg.ttl_s,
              s->mode == MODE_TAIL ? 0 : s->split, s->mode == MODE_TAIL ? s->split : in->n_layer, seam_context_kv_bytes(s->ctx),
              (double)s->sp.temperature, s->sp.top_k, (double)s->sp.top_p, (unsigned long long)s->sp.seed);
}

void sessions_create(session_table *t, const char *body, size_t len, http_answer *a) {
    static const char *const known[] = {"model", "split", "mode", "activation", "max_context",
                                        "temperature", "top_k", "top_p", "seed"};
    const seam_model_info *in = seam_model_get_info(t->cfg.model);
    char jerr[200];
    json_value *root = json_parse(body, len, jerr, sizeof jerr);
    session *s = NULL;
    if (!root) { answer_error(a, 400, "bad_json", "request body is not valid JSON: %s", jerr); return; }
    if (root->type != JSON_OBJECT) { answer_error(a, 400, "bad_json", "request body must be a JSON object"); goto out; }
    for (size_t i = 0; i < root->len; i++) {
        size_t k = 0;
        while (k < sizeof known / sizeof known[0] && strcmp(known[k], root->members[i].key) != 0) k++;
        if (k == sizeof known / sizeof known[0]) {
            answer_error(a, 400, "unknown_field", "unknown field '%.64s' (known: model, split, mode, activation, "
                         "max_context, temperature, top_k, top_p, seed)", root->members[i].key);
            goto out;
        }
    }
    const char *model = json_get_string(root, "model"), *mode = json_get_string(root, "mode");
    const char *act = json_get_string(root, "activation");
    int64_t split = -1, max_ctx = t->cfg.max_context;
    if (json_get(root, "model") && (!model || strcmp(model, t->cfg.model_name) != 0)) {
        answer_error(a, 404, "model_not_found", "model '%.100s' is not served here (GET /v1/models)", model ? model : "?");
        goto out;
    }
    if (!json_get_int(root, "split", &split) || split < 0 || split > in->n_layer) {
        answer_error(a, 400, "invalid_split", "'split' must be an integer in [0, %d]", in->n_layer);
        goto out;
    }
    if (!mode || (strcmp(mode, "tail") != 0 && strcmp(mode, "head") != 0)) {
        answer_error(a, 400, "invalid_mode", "'mode' must be \"tail\" (the edge runs the tail) or \"head\"");
        goto out;
    }
    seam_wire_dtype dt = SEAM_WIRE_F32;
    if (json_get(root, "activation") && !seam_wire_dtype_parse(act, &dt)) {
        answer_error(a, 400, "invalid_activation", "'activation' must be \"f32\", \"f16\" or \"q8\"");
        goto out;
    }
    if (json_get(root, "max_context") && (!json_get_int(root, "max_context", &max_ctx) || max_ctx < 1)) {
        answer_error(a, 400, "invalid_max_context", "'max_context' must be a positive integer");
        goto out;
    }
    if (max_ctx > t->cfg.max_context) {
        answer_error(a, 400, "context_too_large", "max_context %lld exceeds this server's limit of %d",
                     (long long)max_ctx, t->cfg.max_context);
        goto out;
    }
    s = calloc(1, sizeof *s);
    if (!s) { answer_error(a, 500, "out_of_memory", "out of memory"); goto out; }
    if (!read_sampling(root, &s->sp, a)) goto out;
    s->mode = strcmp(mode, "tail") == 0 ? MODE_TAIL : MODE_HEAD;
    s->split = (int)split;
    s->act = dt;
    s->n_ctx = (int)max_ctx;
    if (!random_id(s->id)) { answer_error(a, 500, "no_entropy", "cannot read /dev/urandom"); goto out; }
    /* Cheap refusal before the allocation below; checked again under the lock. */
    if (sessions_active(t) >= t->cfg.max_sessions) {
        answer_error(a, 503, "too_many_sessions", "the server holds its maximum of %d sessions; retry later",
                     t->cfg.max_sessions);
        snprintf(a->header_name, sizeof a->header_name, "Retry-After");
        snprintf(a->header_value, sizeof a->header_value, "1");
        goto out;
    }
    seam_error err = {0};
    s->hidden = malloc((size_t)s->n_ctx * (size_t)in->n_embd * sizeof *s->hidden);
    if (s->mode == MODE_HEAD) s->logits = malloc((size_t)in->vocab_size * sizeof *s->logits);
    if (!s->hidden || (s->mode == MODE_HEAD && !s->logits) ||
        seam_context_new_layers(t->cfg.model, s->mode == MODE_TAIL ? 0 : s->split,
                                s->mode == MODE_TAIL ? s->split : in->n_layer, s->n_ctx, 0, &s->ctx, &err) ||
        seam_context_set_threads(s->ctx, t->cfg.compute_threads, &err) ||
        (s->mode == MODE_HEAD && seam_sampler_new(&s->sp, in->vocab_size, &s->smp, &err))) {
        answer_error(a, 503, "no_memory", "cannot allocate the session: %s", err.message[0] ? err.message : "out of memory");
        goto out;
    }
    s->last_used = seam_now_s();
    /* The answer is built before the session becomes visible to DELETE and the reaper. */
    sbuf b = {0};
    session_json(t, s, &b);
    pthread_mutex_lock(&t->lock);
    int slot = -1;
    for (int i = 0; i < t->cfg.max_sessions && slot < 0; i++)
        if (!t->slots[i]) slot = i;
    if (slot >= 0) {
        t->slots[slot] = s;
        t->active++;
    }
    pthread_mutex_unlock(&t->lock);
    if (slot < 0) {
        sb_free(&b);
        answer_error(a, 503, "too_many_sessions", "the server holds its maximum of %d sessions; retry later",
                     t->cfg.max_sessions);
        snprintf(a->header_name, sizeof a->header_name, "Retry-After");
        snprintf(a->header_value, sizeof a->header_value, "1");
        goto out;
    }
    metrics_session_event(t->cfg.metrics, 1, 0, 0);
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/sessions/%s", s->id);
    s = NULL; /* owned by the table now */
    answer_json(a, 201, &b);
    snprintf(a->header_name, sizeof a->header_name, "Location");
    snprintf(a->header_value, sizeof a->header_value, "%s", loc);
out:
    session_free(s);
    json_free(root);
}

/* ------------------------------------------------------------------ lookup */

/* Finds id and marks it busy; on failure fills a (404, 410 or 409) and returns NULL. */
static session *acquire(session_table *t, const char *id, http_answer *a) {
    if (!valid_id(id)) { answer_error(a, 404, "session_not_found", "no session '%.40s'", id); return NULL; }
    pthread_mutex_lock(&t->lock);
    session *s = NULL;
    for (int i = 0; i < t->cfg.max_sessions && !s; i++)
        if (t->slots[i] && !strcmp(t->slots[i]->id, id)) s = t->slots[i];
    if (!s) {
        if (was_expired(t, id)) answer_error(a, 410, "session_expired", "session %s expired after %d s idle", id, t->cfg.ttl_s);
        else answer_error(a, 404, "session_not_found", "no session '%s'", id);
    } else if (s->busy) {
        answer_error(a, 409, "session_busy", "session %s is running another step", id);
        s = NULL;
    } else {
        s->busy = 1;
    }
    pthread_mutex_unlock(&t->lock);
    return s;
}

static void release(session_table *t, session *s) {
    pthread_mutex_lock(&t->lock);
    s->busy = 0;
    s->last_used = seam_now_s();
    int dead = s->dead;
    pthread_mutex_unlock(&t->lock);
    if (dead) session_free(s);
}

void sessions_get(session_table *t, const char *id, http_answer *a) {
    session *s = acquire(t, id, a);
    if (!s) return;
    sbuf b = {0};
    session_json(t, s, &b);
    answer_json(a, 200, &b);
    release(t, s);
}

void sessions_delete(session_table *t, const char *id, http_answer *a) {
    if (!valid_id(id)) { answer_error(a, 404, "session_not_found", "no session '%.40s'", id); return; }
    pthread_mutex_lock(&t->lock);
    session *s = NULL;
    for (int i = 0; i < t->cfg.max_sessions && !s; i++)
        if (t->slots[i] && !strcmp(t->slots[i]->id, id)) {
            s = t->slots[i];
            t->slots[i] = NULL;
            t->active--;
        }
    int busy = s && s->busy;
    if (busy) s->dead = 1;
    int expired = !s && was_expired(t, id);
    pthread_mutex_unlock(&t->lock);
    if (!s) {
        if (expired) answer_error(a, 410, "session_expired", "session %s already expired", id);
        else answer_error(a, 404, "session_not_found", "no session '%s'", id);
        return;
    }
    if (!busy) session_free(s);
    metrics_session_event(t->cfg.metrics, 0, 0, 1);
    sbuf b = {0};
    sb_printf(&b, "{\"id\":\"%s\",\"object\":\"session\",\"deleted\":true}", id);
    answer_json(a, 200, &b);
}

/* ------------------------------------------------------------------ steps */

/* mode tail: {"ids": [..], "pos": P} -> hidden state entering block k. */
static void step_tail(session_table *t, session *s, const char *body, size_t len, http_answer *a) {
    const seam_model_info *in = seam_model_get_info(t->cfg.model);
    char jerr[200];
    json_value *root = json_parse(body, len, jerr, sizeof jerr);
    int32_t *ids = NULL;
    uint8_t *msg = NULL;
    if (!root) { answer_error(a, 400, "bad_json", "request body is not valid JSON: %s", jerr); return; }
    const json_value *v = json_get(root, "ids");
    int64_t pos = s->pos;
    if (root->type != JSON_OBJECT || !v || v->type != JSON_ARRAY || v->len == 0) {
        answer_error(a, 400, "invalid_ids", "body must be {\"ids\": [token ids...], \"pos\": position}");
        goto out;
    }
    if (json_get(root, "pos") && (!json_get_int(root, "pos", &pos) || pos < 0)) {
        answer_error(a, 400, "invalid_pos", "'pos' must be a non-negative integer");
        goto out;
    }
    if (pos > s->pos) {
        answer_error(a, 409, "position_ahead", "step at position %lld, but the session has only %d tokens", (long long)pos, s->pos);
        goto out;
    }
    if ((int64_t)v->len > s->n_ctx - pos) {
        answer_error(a, 400, "context_exceeded", "%zu tokens at position %lld exceed the session's context of %d",
                     v->len, (long long)pos, s->n_ctx);
        goto out;
    }
    int T = (int)v->len;
    ids = malloc((size_t)T * sizeof *ids);
    if (!ids) { answer_error(a, 500, "out_of_memory", "out of memory"); goto out; }
    for (int i = 0; i < T; i++) {
        const json_value *x = &v->items[i];
        if (x->type != JSON_NUMBER || !x->is_int || x->integer < 0 || x->integer >= in->vocab_size) {
            answer_error(a, 400, "invalid_ids", "ids[%d] is not a token id in [0, %d)", i, in->vocab_size);
            goto out;
        }
        ids[i] = (int32_t)x->integer;
    }
    seam_error err = {0};
    seam_wire_header h = seam_wire_header_make(s->act, t->cfg.fp_bytes, s->split, (int)pos, T, in->n_embd);
    size_t n = seam_wire_size(h.dtype, T, h.C), w = 0;
    msg = malloc(n);
    if (!msg) { answer_error(a, 500, "out_of_memory", "out of memory"); goto out; }
    double t0 = seam_now_s();
    if (seam_embed(s->ctx, ids, T, (int)pos, s->hidden, &err) ||
        seam_run_layers(s->ctx, 0, s->split, s->hidden, T, (int)pos, &err) ||
        seam_wire_encode(&h, s->hidden, msg, n, &w, &err)) {
        answer_error(a, 500, "forward_failed", "%s", err.message);
        goto out;
    }
    s->pos = (int)pos + T;
    s->steps++;
    a->status = 200;
    a->content_type = SEAM_WIRE_CONTENT_TYPE;
    a->body = msg;
    a->len = w;
    msg = NULL;
    snprintf(a->header_name, sizeof a->header_name, "X-Seam-Server-Ms");
    snprintf(a->header_value, sizeof a->header_value, "%.3f", (seam_now_s() - t0) * 1e3);
out:
    free(msg);
    free(ids);
    json_free(root);
}

/* mode head: hidden state entering block k -> {"token": id, "pos": P}. */
static void step_head(session_table *t, session *s, const uint8_t *body, size_t len, http_answer *a) {
    const seam_model_info *in = seam_model_get_info(t->cfg.model);
    seam_error err = {0};
    seam_wire_header h;
    seam_wire_expect ex = {t->cfg.fp_bytes, s->split, -1, in->n_embd, s->n_ctx};
    seam_status st = seam_wire_peek(body, len, &ex, &h, &err);
    if (st == SEAM_ERR_RANGE) { answer_error(a, 422, "hidden_state_mismatch", "%s", err.message); return; }
    if (st) { answer_error(a, 400, "bad_hidden_state", "%s", err.message); return; }
    if (h.pos0 > s->pos) {
        answer_error(a, 409, "position_ahead", "hidden state at position %d, but the session has only %d tokens", h.pos0, s->pos);
        return;
    }
    if (h.T > s->n_ctx - h.pos0) {
        answer_error(a, 400, "context_exceeded", "%d rows at position %d exceed the session's context of %d", h.T, h.pos0,
                     s->n_ctx);
        return;
    }
    if ((st = seam_wire_decode(body, len, &ex, &h, s->hidden, (size_t)s->n_ctx * in->n_embd, &err))) {
        answer_error(a, 400, "bad_hidden_state", "%s", err.message);
        return;
    }
    double t0 = seam_now_s();
    float *last = s->hidden + (size_t)(h.T - 1) * in->n_embd;
    if (seam_run_layers_last_row(s->ctx, s->split, in->n_layer, s->hidden, h.T, h.pos0, &err) ||
        seam_final_norm(s->ctx, last, 1, &err) || seam_lm_head(s->ctx, last, 1, s->logits, &err)) {
        answer_error(a, 500, "forward_failed", "%s", err.message);
        return;
    }
    int32_t tok = seam_sample(s->smp, s->logits);
    s->pos = h.pos0 + h.T;
    s->steps++;
    sbuf b = {0};
    sb_printf(&b, "{\"token\":%d,\"pos\":%d,\"logit\":%.9g}", (int)tok, s->pos, (double)s->logits[tok]);
    answer_json(a, 200, &b);
    snprintf(a->header_name, sizeof a->header_name, "X-Seam-Server-Ms");
    snprintf(a->header_value, sizeof a->header_value, "%.3f", (seam_now_s() - t0) * 1e3);
}

void sessions_step(session_table *t, const char *id, const char *content_type, const uint8_t *body, size_t len,
                   http_answer *a) {
    session *s = acquire(t, id, a);
    if (!s) return;
    /* Media types are compared up to their parameters ("; charset=..."). */
    size_t ctl = content_type ? strcspn(content_type, "; ") : 0;
    int is_json = content_type && ctl == 16 && !strncmp(content_type, "application/json", 16);
    int is_bin = content_type && ((ctl == strlen(SEAM_WIRE_CONTENT_TYPE) && !strncmp(content_type, SEAM_WIRE_CONTENT_TYPE, ctl)) ||
                                  (ctl == 24 && !strncmp(content_type, "application/octet-stream", 24)));
    if (s->mode == MODE_TAIL) {
        if (content_type && !is_json)
            answer_error(a, 415, "unsupported_media_type", "a tail-mode step takes application/json token ids");
        else step_tail(t, s, (const char *)body, len, a);
    } else {
        if (!is_bin)
            answer_error(a, 415, "unsupported_media_type", "a head-mode step takes a hidden-state message (%s)",
                         SEAM_WIRE_CONTENT_TYPE);
        else step_head(t, s, body, len, a);
    }
    release(t, s);
}
