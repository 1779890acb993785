/* Internals shared by the server files (server.c, session.c, shard_http.c, metrics.c) and
 * the client: a growable string buffer with JSON escaping, and the server's state. */
#ifndef SEAM_NET_INTERNAL_H
#define SEAM_NET_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "seam.h"
#include "seam_net.h"

/* ------------------------------------------------------------------ string buffer */

typedef struct {
    char *s;
    size_t len, cap;
    int oom; /* set once an append failed; the buffer then stays as it was */
} sbuf;

void sb_free(sbuf *b);
void sb_putn(sbuf *b, const char *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal, quotes included; control characters and invalid UTF-8 are
 * escaped / replaced so the output is always valid JSON. */
void sb_json_str(sbuf *b, const char *s);
void sb_json_strn(sbuf *b, const char *s, size_t len); /* NULs included, as \u0000 */

double seam_now_s(void); /* monotonic seconds */

/* ------------------------------------------------------------------ metrics (metrics.c) */

typedef enum {
    ROUTE_HEALTHZ, ROUTE_METRICS, ROUTE_MODELS, ROUTE_MODEL, ROUTE_SHARD_MANIFEST, ROUTE_SHARD_FILE,
    ROUTE_SESSIONS, ROUTE_SESSION, ROUTE_STEP, ROUTE_COMPLETIONS, ROUTE_EMBEDDINGS, ROUTE_UPLOAD, ROUTE_UPLOAD_FILE,
    ROUTE_UPLOAD_COMMIT, ROUTE_STATIC, ROUTE_OTHER, ROUTE_COUNT
} route_id;

const char *seam_route_name(route_id r);

typedef struct metrics metrics;
metrics *metrics_new(void);
void metrics_free(metrics *m);
void metrics_request(metrics *m, route_id r, int status, double seconds, uint64_t bytes_in, uint64_t bytes_out);
void metrics_session_event(metrics *m, int created, int expired, int deleted);
/* Bytes sent outside a request's own accounting (streamed answers). */
void metrics_bytes(metrics *m, uint64_t bytes_in, uint64_t bytes_out);
/* Prometheus text exposition into b; active_sessions is read by the caller. */
void metrics_render(metrics *m, sbuf *b, int active_sessions, int max_sessions);

/* ------------------------------------------------------------------ sessions (session.c) */

typedef struct session_table session_table;

typedef struct {
    const seam_model *model;
    const char *model_name;
    const char *fingerprint;  /* hex */
    uint8_t fp_bytes[32];
    int max_sessions, ttl_s, max_context, compute_threads;
    metrics *metrics;
} session_config;

seam_status sessions_new(const session_config *cfg, session_table **out, seam_error *err);
void sessions_free(session_table *t);
int sessions_active(session_table *t);

/* An HTTP answer built by the session and shard code; server.c sends it. */
typedef struct {
    int status;
    const char *content_type;
    uint8_t *body; /* malloc'd */
    size_t len;
    char header_name[32], header_value[96]; /* one optional extra header */
} http_answer;

void answer_json(http_answer *a, int status, sbuf *b);
void answer_error(http_answer *a, int status, const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

void sessions_create(session_table *t, const char *body, size_t len, http_answer *a);
void sessions_step(session_table *t, const char *id, const char *content_type, const uint8_t *body, size_t len,
                   http_answer *a);
void sessions_get(session_table *t, const char *id, http_answer *a);
void sessions_delete(session_table *t, const char *id, http_answer *a);

/* ------------------------------------------------------------------ shards (shard_http.c) */

typedef struct shard_cache shard_cache;

/* Shards of model_dir are built on first request into cache_dir/FINGERPRINT/RANGE/ (NULL:
 * $SEAM_HOME/serve-cache, else ~/.cache/seam/serve-cache). */
seam_status shard_cache_new(const char *model_dir, const char *fingerprint, const char *cache_dir, shard_cache **out,
                            seam_error *err);
void shard_cache_free(shard_cache *c);
/* Answers GET/HEAD .../shards (file NULL: the manifest) or .../shards/FILE, reading the
 * range from the query (?layers=A:B&embed=1&head=1). Sets *status and *bytes_out. */
enum MHD_Result shard_http_serve(shard_cache *c, struct MHD_Connection *conn, const char *file, int *status,
                                 uint64_t *bytes_out);

/* ------------------------------------------------------------------ OpenAI shapes (openai.c) */

typedef struct openai openai;

/* For a decoder server: model + tokenizer (NULL when the folder has none: ids only). For an
 * encoder server: encoders, one per HTTP worker. Either side may be absent. */
typedef struct {
    const seam_model *model;
    const seam_tokenizer *tok;
    seam_encoder **encoders;
    int n_encoders;
    const char *model_name;
    int max_context, compute_threads, max_running;
    metrics *metrics;
} openai_config;

seam_status openai_new(const openai_config *cfg, openai **out, seam_error *err);
void openai_free(openai *o);
/* POST /v1/completions and POST /v1/embeddings; queue their answer (SSE for stream). */
enum MHD_Result openai_completions(openai *o, struct MHD_Connection *conn, const char *body, size_t len, int *status,
                                   uint64_t *bytes_out);
enum MHD_Result openai_embeddings(openai *o, struct MHD_Connection *conn, const char *body, size_t len, int *status,
                                  uint64_t *bytes_out);
/* ------------------------------------------------------------------ uploads (uploads.c) */

typedef struct uploads uploads;
/* NULL folders: $SEAM_HOME/uploads and $SEAM_HOME/models-uploaded. */
seam_status uploads_new(const char *upload_dir, const char *models_dir, uploads **out, seam_error *err);
void uploads_free(uploads *u);
void uploads_put(uploads *u, const char *name, const char *file, const char *offset, const uint8_t *body, size_t len,
                 http_answer *a);
void uploads_get(uploads *u, const char *name, int remove, http_answer *a);
void uploads_commit(uploads *u, const char *name, const char *body, size_t len, http_answer *a);

/* ------------------------------------------------------------------ static files (static_files.c) */

typedef struct static_site static_site;
/* The folder `seam serve --web DIR` serves (resolved once: its real path bounds every file). */
seam_status static_site_new(const char *dir, static_site **out, seam_error *err);
void static_site_free(static_site *s);
/* GET (head 0) or HEAD (head 1) of url: the file, 404 for a refused or missing path, 403 for
 * a symlink out of the folder or something that is not a regular file. */
enum MHD_Result static_site_serve(static_site *s, struct MHD_Connection *conn, const char *url, int head, int *status,
                                  uint64_t *bytes_out);
/* COOP same-origin, COEP require-corp and CORP same-origin: on every answer, so a page from
 * --web is cross-origin isolated and may still fetch the API's answers. */
void add_isolation_headers(struct MHD_Response *r);

/* Queues a buffered http_answer (shared by the files that answer through MHD directly). */
enum MHD_Result queue_answer(struct MHD_Connection *conn, http_answer *a, int *status, uint64_t *bytes_out);

#endif
