/* seam net — split inference across the network: layer shards, the hidden-state wire
 * format, the `seam serve` HTTP server (libmicrohttpd) and the edge client (libcurl).
 *
 * Conventions are those of seam.h: calls return a seam_status and fill `err` (when non-NULL)
 * with a one-line message; nothing is printed.
 *
 * Which part needs what:
 *   Shards       core library (libc only; compiles to WebAssembly)
 *   Wire format  src/net/wire.c, libc only (a browser edge can compile it alone)
 *   Server       src/net/server*.c, libmicrohttpd
 *   Edge client  src/net/client.c, libcurl
 */
#ifndef SEAM_NET_H
#define SEAM_NET_H

#include <stddef.h>
#include <stdint.h>

#include "seam.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ shards
 *
 * A shard is a model folder holding blocks [layer_begin, layer_end) of a parent model, plus
 * the embeddings (wte, wpe) and/or the final norm and head (ln_f, lm_head or the tied wte)
 * when asked. seam_model_open() loads it like any model; the stage calls then accept only
 * the layers it holds. Embeddings only come with layer_begin 0 and the head only with
 * layer_end n_layer. See src/model/shard.h for the folder layout.
 *
 * Fingerprint of a model: the lowercase hex SHA-256 of
 *     "seam-fingerprint-v1\n"
 *     then for config.json and each weight file (sorted by name, model.safetensors or the
 *     files an index names):  NAME "\n" SIZE-IN-DECIMAL "\n" HEX-SHA256-OF-ALL-ITS-BYTES "\n"
 * i.e. it covers every byte of the config and of the weights (not just the safetensors
 * headers: two fine-tunes of one architecture have identical headers). Tokenizer files are
 * not covered: they do not change the numbers that cross the split. A shard's fingerprint is
 * the one of its parent, recorded in its config. */

#define SEAM_FINGERPRINT_HEX_SIZE 65 /* 64 hex digits + NUL */

typedef struct {
    int layer_begin, layer_end; /* blocks [layer_begin, layer_end) */
    int embed;                  /* wte + wpe */
    int head;                   /* ln_f + lm_head (the tied wte when there is none) */
    int quant;                  /* 0: weights as stored; 8 or 4: block-quantised q8 / q4 (as
                                 * `seam quantize --head tied`: the blocks' matrices and wte) */
} seam_shard_range;

/* Fingerprint of the model in folder dir (computed for a whole model, read for a shard). */
seam_status seam_model_fingerprint(const char *dir, char out[SEAM_FINGERPRINT_HEX_SIZE], seam_error *err);
/* The same for an opened model. */
seam_status seam_model_get_fingerprint(const seam_model *m, char out[SEAM_FINGERPRINT_HEX_SIZE], seam_error *err);

/* Writes the shard of model_dir (a whole model) holding r into out_dir (created if needed;
 * files written under temporary names and renamed; manifest.json last). A quantised shard
 * keeps the parent's fingerprint (it talks to the same server) and records "quant" in its
 * config and manifest; it is made by quantising the plain shard. When fingerprint is
 * non-NULL it is used as the parent's instead of being computed (the server knows it).
 * Errors: SEAM_ERR_ARG for a range the model cannot give (B > n_layer, embed without A = 0,
 * head without B = n_layer, nothing selected, a shard as parent). */
seam_status seam_shard_write(const char *model_dir, const seam_shard_range *r, const char *fingerprint,
                             const char *out_dir, seam_error *err);

/* Bytes an edge downloads for the shard of model_dir holding r: the model.safetensors it
 * would write, its config.json and the tokenizer files (exact; computed without writing,
 * except that a quantised shard is written to a temporary folder and measured). */
seam_status seam_shard_size(const char *model_dir, const seam_shard_range *r, uint64_t *bytes, seam_error *err);

/* Checks a shard folder before use: manifest.json readable and consistent with config.json;
 * every listed file present with the listed size and, when check_hashes, sha256; the folder
 * holds at least `want` (when non-NULL) and its parent fingerprint is `fingerprint` (when
 * non-NULL). A wrong range or parent is SEAM_ERR_RANGE, a damaged file SEAM_ERR_FORMAT. */
seam_status seam_shard_verify(const char *dir, const seam_shard_range *want, const char *fingerprint,
                              int check_hashes, seam_error *err);

/* Checks an opened model (whole or shard) holds `want` and, when fingerprint is non-NULL,
 * descends from that model. Refusals are SEAM_ERR_RANGE with a message naming both sides. */
seam_status seam_model_check_shard(const seam_model *m, const seam_shard_range *want, const char *fingerprint,
                                   seam_error *err);

/* Sum of the file sizes listed in dir/manifest.json (the bytes an edge downloads for it). */
seam_status seam_shard_download_bytes(const char *dir, uint64_t *bytes, int *n_files, seam_error *err);

/* ------------------------------------------------------------------ wire format
 *
 * A hidden state [T, C] crossing the split travels as one binary message (HTTP body,
 * Content-Type application/vnd.seam.hidden). Version 1, every integer little-endian:
 *
 *   offset size  field
 *      0     4   magic "SMHS"
 *      4     2   version = 1
 *      6     1   dtype: 0 f32, 1 f16 (IEEE binary16, round to nearest even),
 *                       2 q8 (per row: f32 scale s, then C int8 q in [-127, 127]; x = s * q)
 *      7     1   flags = 0 (reserved)
 *      8    32   model fingerprint (the 32 bytes of the SHA-256 behind the hex fingerprint)
 *     40     4   layer: the block this state enters next (the split point k, 0..n_layer)
 *     44     4   pos0: position of the first row
 *     48     4   T: rows (>= 1)
 *     52     4   C: channels (>= 1)
 *     56     8   payload bytes = T * row bytes (f32: 4C, f16: 2C, q8: 4 + C)
 *     64     P   payload, row after row
 *   64+P     4   CRC-32 (IEEE 802.3 polynomial, as zlib's crc32) of bytes [0, 64+P)
 *
 * The CRC catches corruption and truncation, not tampering: authenticity comes from the
 * transport (the API key, TLS in front of the server). Decoding validates every byte: magic,
 * version, dtype, flags, sizes (no overflow, exact length), checksum, finite values (NaN and
 * infinity are refused, as are q8 values of -128 and negative scales), then the caller's
 * expectations (fingerprint, layer, pos0, C, the most rows it can take). */

#define SEAM_WIRE_MAGIC "SMHS"
#define SEAM_WIRE_VERSION 1
#define SEAM_WIRE_HEADER_SIZE 64
#define SEAM_WIRE_TRAILER_SIZE 4
#define SEAM_WIRE_CONTENT_TYPE "application/vnd.seam.hidden"

typedef enum { SEAM_WIRE_F32 = 0, SEAM_WIRE_F16 = 1, SEAM_WIRE_Q8 = 2 } seam_wire_dtype;

typedef struct {
    seam_wire_dtype dtype;
    uint8_t fingerprint[32];
    int layer, pos0, T, C;
} seam_wire_header;

/* What the receiver requires; a field of -1 (or NULL) is not checked. */
typedef struct {
    const uint8_t *fingerprint; /* 32 bytes */
    int layer, pos0, C;
    int max_T;
} seam_wire_expect;

/* "f32", "f16", "q8"; parse returns 0 for anything else. */
const char *seam_wire_dtype_name(seam_wire_dtype d);
int seam_wire_dtype_parse(const char *s, seam_wire_dtype *out);

/* The header of a message carrying T rows of C values entering block `layer` at pos0, for
 * the model whose fingerprint is fp (32 bytes). */
seam_wire_header seam_wire_header_make(seam_wire_dtype d, const uint8_t *fp, int layer, int pos0, int T, int C);

/* Bytes of a whole message (header + payload + CRC); 0 if T or C is out of range. */
size_t seam_wire_size(seam_wire_dtype d, int T, int C);

/* Encodes hidden [h->T, h->C] into out[0..cap); *written gets the message size. Fails with
 * SEAM_ERR_RANGE when a value is not finite or (f16) does not fit binary16. */
seam_status seam_wire_encode(const seam_wire_header *h, const float *hidden, void *out, size_t cap, size_t *written,
                             seam_error *err);

/* Validates a whole message (structure, length, checksum, then `expect` when non-NULL) and
 * fills *h. SEAM_ERR_FORMAT: malformed, truncated or corrupt; SEAM_ERR_UNSUPPORTED: another
 * version; SEAM_ERR_RANGE: well-formed but not what `expect` asks for. */
seam_status seam_wire_peek(const void *msg, size_t len, const seam_wire_expect *expect, seam_wire_header *h,
                           seam_error *err);

/* seam_wire_peek, then decodes the payload into out (cap floats; needs T * C). */
seam_status seam_wire_decode(const void *msg, size_t len, const seam_wire_expect *expect, seam_wire_header *h,
                             float *out, size_t cap, seam_error *err);

/* Hex fingerprint (64 digits) <-> the 32 bytes in messages; returns 0 on a malformed string. */
int seam_fingerprint_to_bytes(const char *hex, uint8_t out[32]);
void seam_fingerprint_to_hex(const uint8_t in[32], char out[SEAM_FINGERPRINT_HEX_SIZE]);

/* CRC-32 (IEEE) of data[0..len), continuing from crc (0 to start). */
uint32_t seam_crc32(uint32_t crc, const void *data, size_t len);

/* ------------------------------------------------------------------ server
 *
 * `seam serve`: one model over HTTP/1.1 (libmicrohttpd, a pool of worker threads; a
 * forward pass runs on the worker that received the request). JSON everywhere except
 * hidden states (the wire format above) and shard files. Every error is a 4xx/5xx with
 * {"error": {"code": "...", "message": "...", "status": N}}. Routes (README "seam serve"):
 *
 *   GET    /healthz                               {"status": "ok"}
 *   GET    /metrics                               Prometheus text
 *   GET    /v1/models                             {"object": "list", "data": [model]}
 *   GET    /v1/models/{id}                        model: id, fingerprint, n_layer, n_embd, ...
 *   GET    /v1/models/{id}/shards?layers=A:B[&embed=1][&head=1]
 *                                                 the shard's manifest (built on first request)
 *   GET    /v1/models/{id}/shards/{file}?layers=A:B[&embed=1][&head=1]
 *                                                 one shard file; Range, ETag = its sha256,
 *                                                 If-None-Match -> 304
 *   POST   /v1/sessions                           {"split": k, "mode": "tail"|"head", ...} -> 201
 *   GET    /v1/sessions/{id}                      the session, with its position
 *   POST   /v1/sessions/{id}/step                 tail: {"ids": [...], "pos": p} -> hidden state
 *                                                 head: hidden state -> {"token": t, "pos": p}
 *   DELETE /v1/sessions/{id}
 *   POST   /v1/completions                        OpenAI's shape; "stream": true -> SSE
 *   POST   /v1/embeddings                         OpenAI's shape (encoder models)
 *   PUT    /v1/uploads/{name}/{file}?offset=N     resumable upload (with allow_uploads; see
 *   GET    /v1/uploads/{name}                     src/net/uploads.c): chunks at an offset, the
 *   DELETE /v1/uploads/{name}                     lengths so far, and a commit that checks
 *   POST   /v1/uploads/{name}/commit              sha256s and installs the folder atomically
 *
 *   GET    /, /FILE                              with web_dir: the folder's files (index.html for
 *                                                 "/"); API routes take precedence
 *
 * Every answer carries Cross-Origin-Opener-Policy same-origin, Cross-Origin-Embedder-Policy
 * require-corp and Cross-Origin-Resource-Policy same-origin.
 * With an API key, every API route needs "Authorization: Bearer KEY" (401 otherwise); static
 * files need none. */

typedef struct seam_server seam_server;

typedef struct {
    const char *model_dir;    /* whole model folder (required) */
    const char *model_name;   /* id in /v1/models; NULL: the folder's name */
    const char *host;         /* address to bind; NULL: 127.0.0.1 */
    int port;                 /* 0: any free port (see seam_server_port) */
    const char *api_key;      /* NULL or "": no authentication */
    int threads;              /* HTTP worker threads; 0: 4 */
    int compute_threads;      /* threads per forward pass; 0: 1 (sessions run side by side) */
    int max_sessions;         /* 0: 64 */
    int session_ttl_s;        /* idle seconds before a session is freed; 0: 300 */
    int max_context;          /* largest max_context a session may ask; 0: the model's n_positions */
    size_t max_body;          /* largest request body; 0: 64 MiB */
    const char *cache_dir;    /* where built shards are kept; NULL: $SEAM_HOME/serve-cache */
    int log_requests;         /* one line per request on stderr */
    int allow_uploads;        /* enable PUT/GET/DELETE /v1/uploads/{name}[/{file}], POST .../commit */
    const char *upload_dir;   /* uploads in progress; NULL: $SEAM_HOME/uploads */
    const char *models_dir;   /* committed uploads; NULL: $SEAM_HOME/models-uploaded */
    const char *web_dir;      /* static files (the demo page) for GET/HEAD outside /v1/, with
                               * COOP/COEP so the page is cross-origin isolated; NULL: none */
} seam_server_options;

seam_server_options seam_server_default_options(void);
/* Opens the model (and computes its fingerprint), binds and starts serving in background
 * threads. Returns once the socket listens. */
seam_status seam_server_start(const seam_server_options *opt, seam_server **out, seam_error *err);
int seam_server_port(const seam_server *s);
const char *seam_server_fingerprint(const seam_server *s);
const char *seam_server_model_name(const seam_server *s);
/* Stops accepting, finishes the requests in flight, frees every session. */
void seam_server_stop(seam_server *s);

/* ------------------------------------------------------------------ edge client
 *
 * The edge's side of the protocol over libcurl: one keep-alive connection, every answer
 * validated (status, JSON shape, hidden-state messages against the session). Server errors
 * come back as SEAM_ERR_NET with the server's message and HTTP status. */

typedef struct seam_client seam_client;

typedef struct {
    uint64_t bytes_sent, bytes_received; /* HTTP bodies of steps (not shards, not session setup) */
    uint64_t round_trips;                /* steps */
    double seconds;                      /* wall time spent in those requests */
    double server_seconds;               /* of which the server reported computing */
    uint64_t shard_bytes;                /* shard bytes downloaded (resumed parts not counted) */
} seam_client_stats;

typedef enum { SEAM_SPLIT_TAIL = 0, SEAM_SPLIT_HEAD = 1 } seam_split_mode;

typedef struct {
    const char *model;        /* NULL: the server's only model */
    int split;                /* k: the server runs [0, k) (tail) or [k, N) + head (head) */
    seam_split_mode mode;     /* TAIL: the edge runs the tail; HEAD: the edge runs the head */
    seam_wire_dtype activation;
    int max_context;          /* 0: the server's default */
    const seam_sampler_params *sampling; /* head mode: how the server samples; NULL: greedy */
} seam_session_request;

typedef struct {
    char id[40];
    char model[132];
    char fingerprint[SEAM_FINGERPRINT_HEX_SIZE];
    uint8_t fp_bytes[32];
    seam_split_mode mode;
    seam_wire_dtype activation;
    int split, n_layer, n_embd, vocab_size, max_context, eos_token_id;
} seam_remote_session;

/* base_url "http://host:port" (a trailing '/' is ignored); api_key NULL: none; timeout_s:
 * most seconds one request may take (0: 300). */
seam_status seam_client_new(const char *base_url, const char *api_key, int timeout_s, seam_client **out,
                            seam_error *err);
void seam_client_free(seam_client *c);
const seam_client_stats *seam_client_get_stats(const seam_client *c);
/* Caps shard download speed (bytes/s, 0: none): for metered links, and for tests. */
void seam_client_set_rate_limit(seam_client *c, uint64_t bytes_per_s);

typedef struct {
    char id[132];
    char fingerprint[SEAM_FINGERPRINT_HEX_SIZE];
    int n_layer, n_embd, vocab_size, n_positions, max_context;
} seam_remote_model;

/* GET /v1/models: the model called name (NULL: the server's only one). */
seam_status seam_client_model(seam_client *c, const char *name, seam_remote_model *out, seam_error *err);

seam_status seam_client_session_open(seam_client *c, const seam_session_request *rq, seam_remote_session *out,
                                     seam_error *err);
seam_status seam_client_session_close(seam_client *c, const seam_remote_session *s, seam_error *err);
/* Tail mode: token ids at pos -> the hidden state entering block k, decoded into hidden
 * ([T, C] floats) after checking it is this session's, at pos, with T rows. */
seam_status seam_client_step_ids(seam_client *c, const seam_remote_session *s, const int32_t *ids, int T, int pos,
                                 float *hidden, seam_error *err);
/* Head mode: hidden [T, C] entering block k at pos -> the token the server sampled. */
seam_status seam_client_step_hidden(seam_client *c, const seam_remote_session *s, const float *hidden, int T, int pos,
                                    int32_t *token, seam_error *err);

/* Downloads (or finds cached) the shard of `model` holding r into
 * cache_root/FINGERPRINT/L{A}-{B}[-embed][-head]/ and sets *out_dir (malloc'd). Cached files
 * are re-hashed; a damaged one is downloaded again. Partial downloads (NAME.part) resume
 * with Range requests; every file is checked against the manifest's size and sha256 before
 * it is renamed into place, and the manifest is written last. The shard must descend from
 * `fingerprint` and hold r, or the call fails with SEAM_ERR_RANGE. note (may be NULL) gets
 * one line per file fetched, for a progress display. */
typedef void (*seam_client_note_fn)(void *user, const char *line);
seam_status seam_client_fetch_shard(seam_client *c, const char *model, const seam_shard_range *r,
                                    const char *fingerprint, const char *cache_root, seam_client_note_fn note,
                                    void *note_user, char **out_dir, seam_error *err);

#ifdef __cplusplus
}
#endif
#endif
