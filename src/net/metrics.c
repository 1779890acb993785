/* Prometheus counters of `seam serve` (text exposition format 0.0.4). Requests are counted
 * by route template (never by raw path: session ids would make every series unique) and
 * status; latency is one histogram per route. */
#include <stdlib.h>
#include <string.h>

#include "net/net.h"

#define N_STATUS 600
static const double k_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_BUCKETS (sizeof k_buckets / sizeof k_buckets[0])

struct metrics {
    pthread_mutex_t lock;
    uint64_t requests[ROUTE_COUNT][N_STATUS];
    uint64_t hist[ROUTE_COUNT][N_BUCKETS + 1]; /* last: +Inf */
    double sum[ROUTE_COUNT];
    uint64_t count[ROUTE_COUNT];
    uint64_t bytes_in, bytes_out;
    uint64_t created, expired, deleted;
};

static const char *const k_route_names[ROUTE_COUNT] = {
    [ROUTE_HEALTHZ] = "/healthz",
    [ROUTE_METRICS] = "/metrics",
    [ROUTE_MODELS] = "/v1/models",
    [ROUTE_MODEL] = "/v1/models/{id}",
    [ROUTE_SHARD_MANIFEST] = "/v1/models/{id}/shards",
    [ROUTE_SHARD_FILE] = "/v1/models/{id}/shards/{file}",
    [ROUTE_SESSIONS] = "/v1/sessions",
    [ROUTE_SESSION] = "/v1/sessions/{id}",
    [ROUTE_STEP] = "/v1/sessions/{id}/step",
    [ROUTE_COMPLETIONS] = "/v1/completions",
    [ROUTE_EMBEDDINGS] = "/v1/embeddings",
    [ROUTE_UPLOAD] = "/v1/uploads/{name}",
    [ROUTE_UPLOAD_FILE] = "/v1/uploads/{name}/{file}",
    [ROUTE_UPLOAD_COMMIT] = "/v1/uploads/{name}/commit",
    [ROUTE_STATIC] = "static",
    [ROUTE_OTHER] = "other",
};

const char *seam_route_name(route_id r) { return r < ROUTE_COUNT ? k_route_names[r] : "other"; }

metrics *metrics_new(void) {
    metrics *m = calloc(1, sizeof *m);
    if (m) pthread_mutex_init(&m->lock, NULL);
    return m;
}

void metrics_free(metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void metrics_request(metrics *m, route_id r, int status, double seconds, uint64_t bytes_in, uint64_t bytes_out) {
    if (!m) return;
    if (r >= ROUTE_COUNT) r = ROUTE_OTHER;
    if (status < 0 || status >= N_STATUS) status = 0;
    pthread_mutex_lock(&m->lock);
    m->requests[r][status]++;
    size_t b = 0;
    while (b < N_BUCKETS && seconds > k_buckets[b]) b++;
    m->hist[r][b]++;
    m->sum[r] += seconds;
    m->count[r]++;
    m->bytes_in += bytes_in;
    m->bytes_out += bytes_out;
    pthread_mutex_unlock(&m->lock);
}

void metrics_session_event(metrics *m, int created, int expired, int deleted) {
    if (!m) return;
    pthread_mutex_lock(&m->lock);
    m->created += (uint64_t)created;
    m->expired += (uint64_t)expired;
    m->deleted += (uint64_t)deleted;
    pthread_mutex_unlock(&m->lock);
}

void metrics_bytes(metrics *m, uint64_t bytes_in, uint64_t bytes_out) {
    if (!m) return;
    pthread_mutex_lock(&m->lock);
    m->bytes_in += bytes_in;
    m->bytes_out += bytes_out;
    pthread_mutex_unlock(&m->lock);
}

void metrics_render(metrics *m, sbuf *b, int active_sessions, int max_sessions) {
    pthread_mutex_lock(&m->lock);
    sb_puts(b, "# HELP seam_http_requests_total HTTP requests answered, by route and status.\n"
               "# TYPE seam_http_requests_total counter\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (int s = 0; s < N_STATUS; s++)
            if (m->requests[r][s])
                sb_printf(b, "seam_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", k_route_names[r], s,
                          (unsigned long long)m->requests[r][s]);
    sb_puts(b, "# HELP seam_http_request_duration_seconds Time from the request's first byte to its answer.\n"
               "# TYPE seam_http_request_duration_seconds histogram\n");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        if (!m->count[r]) continue;
        uint64_t cum = 0;
        for (size_t i = 0; i <= N_BUCKETS; i++) {
            cum += m->hist[r][i];
            if (i < N_BUCKETS)
                sb_printf(b, "seam_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", k_route_names[r],
                          k_buckets[i], (unsigned long long)cum);
            else
                sb_printf(b, "seam_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                          k_route_names[r], (unsigned long long)cum);
        }
        sb_printf(b, "seam_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", k_route_names[r], m->sum[r]);
        sb_printf(b, "seam_http_request_duration_seconds_count{route=\"%s\"} %llu\n", k_route_names[r],
                  (unsigned long long)m->count[r]);
    }
    sb_printf(b,
              "# HELP seam_http_request_bytes_total Request body bytes received.\n"
              "# TYPE seam_http_request_bytes_total counter\nseam_http_request_bytes_total %llu\n"
              "# HELP seam_http_response_bytes_total Response body bytes sent.\n"
              "# TYPE seam_http_response_bytes_total counter\nseam_http_response_bytes_total %llu\n"
              "# HELP seam_sessions_active Split sessions held now.\n"
              "# TYPE seam_sessions_active gauge\nseam_sessions_active %d\n"
              "# HELP seam_sessions_max The --max-sessions cap.\n"
              "# TYPE seam_sessions_max gauge\nseam_sessions_max %d\n"
              "# HELP seam_sessions_created_total Split sessions created.\n"
              "# TYPE seam_sessions_created_total counter\nseam_sessions_created_total %llu\n"
              "# HELP seam_sessions_expired_total Split sessions freed after their idle TTL.\n"
              "# TYPE seam_sessions_expired_total counter\nseam_sessions_expired_total %llu\n"
              "# HELP seam_sessions_deleted_total Split sessions deleted by their client.\n"
              "# TYPE seam_sessions_deleted_total counter\nseam_sessions_deleted_total %llu\n",
              (unsigned long long)m->bytes_in, (unsigned long long)m->bytes_out, active_sessions, max_sessions,
              (unsigned long long)m->created, (unsigned long long)m->expired, (unsigned long long)m->deleted);
    pthread_mutex_unlock(&m->lock);
}
