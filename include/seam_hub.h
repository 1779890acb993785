/* seam hub — downloads model folders from the Hugging Face hub (or a mirror) into a local
 * cache. This part links libcurl; the core engine (seam.h) does not need it.
 *
 * Conventions are those of seam.h: calls return a seam_status and fill `err` (when non-NULL)
 * with a one-line message; nothing is printed except the optional progress bar on stderr.
 *
 * ------------------------------------------------------------------ where things come from
 *
 *   Endpoint  opt->endpoint, else env SEAM_HUB_URL, else env HF_ENDPOINT, else
 *             https://huggingface.co (a trailing '/' is ignored).
 *   Files     {endpoint}/{repo_id}/resolve/{revision}/{file}   ('/' in revision sent as %2F)
 *   Token     opt->token, else env HF_TOKEN, else env HUGGING_FACE_HUB_TOKEN; sent as
 *             "Authorization: Bearer TOKEN" only over https or to a loopback host, and never
 *             to the hosts that redirects lead to (the CDN).
 *   Offline   opt->offline, or env SEAM_OFFLINE / HF_HUB_OFFLINE set to anything but ""/"0":
 *             never touch the network; resolve only finds what is already cached.
 *
 * ------------------------------------------------------------------ cache layout
 *
 *   Cache root  opt->cache_dir, else env SEAM_HOME, else $XDG_CACHE_HOME/seam, else
 *               $HOME/.cache/seam.
 *   Model       {root}/models/{repo_id with '/' replaced by "--"}/{revision with '/' -> "--"}/
 *               e.g. ~/.cache/seam/models/gpt2/main/
 *                    ~/.cache/seam/models/openai-community--gpt2-medium/main/
 *   Inside      the repo's files under their own names (config.json, tokenizer.json,
 *               model.safetensors or the shards + model.safetensors.index.json,
 *               1_Pooling/config.json, ...), i.e. a folder seam_model_open() reads directly.
 *   Markers     .pulling   exists while a pull is (or was, if interrupted) in progress;
 *               .complete  written last; records repo, revision and commit (informational);
 *               .lock      lock file serialising concurrent pulls of the same folder;
 *               NAME.part  a file being downloaded (resumed with an HTTP Range request).
 *   A cached model counts as complete when `.pulling` is absent and `.complete` or
 *   `config.json` is present — so a half-pulled folder is never used, while a folder copied
 *   there by hand (without markers) is.
 *
 * ------------------------------------------------------------------ what is downloaded
 *
 *   config.json (required); tokenizer.json, vocab.json, merges.txt, tokenizer_config.json,
 *   generation_config.json, special_tokens_map.json, vocab.txt (each optional); weights:
 *   model.safetensors.index.json and every shard in its weight_map when the repo has one, else
 *   model.safetensors (required); sentence-transformers files modules.json,
 *   sentence_bert_config.json, config_sentence_transformers.json, 1_Pooling/config.json,
 *   2_Normalize/config.json (optional). Files whose hub metadata gives a size
 *   (X-Linked-Size) and a sha256 (X-Linked-Etag, as for LFS files) are verified after
 *   download; a mismatch deletes the file and fails naming it.
 *
 * ------------------------------------------------------------------ hub ids
 *
 *   "name" or "org/name": one or two segments of [A-Za-z0-9._-], 1..96 characters each,
 *   starting and ending with a letter, digit or '_', with no ".." or "--" inside. Revisions:
 *   segments of [A-Za-z0-9._-] joined by '/', at most 128 characters, no "..", "--" or
 *   empty segments. Anything else is refused with SEAM_ERR_ARG.
 */
#ifndef SEAM_HUB_H
#define SEAM_HUB_H

#include <stdint.h>

#include "seam.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called while a file downloads: `file` is its name within the repo, `done` the bytes on
 * disk so far (including a resumed part), `total` the full size or 0 when not known yet.
 * Called with done == total once a file is finished. Return non-zero to cancel the pull
 * (it then fails with SEAM_ERR_NET, "cancelled"; the .part file is kept for resuming). */
typedef int (*seam_hub_progress_fn)(void *user, const char *file, uint64_t done, uint64_t total);

typedef struct {
    const char *endpoint;  /* NULL: env / default, see above */
    const char *cache_dir; /* NULL: env / default, see above */
    const char *token;     /* NULL: env HF_TOKEN / HUGGING_FACE_HUB_TOKEN; "" sends none */
    int offline;           /* 1: never use the network (env SEAM_OFFLINE/HF_HUB_OFFLINE also) */
    int force;             /* 1: download every file again even if the model is cached */
    /* Extra attempts per file after a transient failure (dropped connection, timeout,
     * HTTP 5xx/429), resuming where it stopped; < 0: env SEAM_HUB_RETRIES, else 2. */
    int retries;
    /* Seconds without progress (and connect timeout) before giving up; <= 0: env
     * SEAM_HUB_TIMEOUT, else 30. */
    int timeout_s;
    seam_hub_progress_fn progress; /* may be NULL */
    void *progress_user;
    /* 1: draw a one-line progress bar (file, bytes/total, percent) on stderr, but only when
     * stderr is a terminal. */
    int progress_bar;
} seam_hub_options;

/* Defaults: every field NULL/0 except retries = -1 and timeout_s = 0 (environment, then
 * built-in defaults). Passing opt = NULL to the calls below means exactly these. */
seam_hub_options seam_hub_default_options(void);

/* 1 if repo_id is a valid hub id as described above (e.g. "gpt2", "org/name"). */
int seam_hub_valid_repo_id(const char *repo_id);

/* The cache folder for repo_id at revision (NULL: "main"), whether or not it exists, as a
 * malloc'd string. Fails with SEAM_ERR_ARG on an invalid id or revision, SEAM_ERR_IO when
 * no cache root can be found (no SEAM_HOME and no HOME). */
seam_status seam_hub_cache_dir(const char *repo_id, const char *revision, const seam_hub_options *opt,
                               char **out_dir, seam_error *err);

/* Downloads repo_id at revision (NULL: "main") into the cache and sets *out_dir (malloc'd,
 * free() it) to the model folder. Returns at once without network access when the folder
 * is already complete (unless opt->force). Interrupted downloads resume on the next call.
 * Concurrent pulls of the same folder wait for each other. Errors: SEAM_ERR_ARG (bad id),
 * SEAM_ERR_NET (unreachable, HTTP errors: 401/403 mention gated/private repos and HF_TOKEN,
 * a missing repo says "repo not found or not a model"), SEAM_ERR_FORMAT (checksum or size
 * mismatch, bad index file), SEAM_ERR_IO (disk). */
seam_status seam_hub_pull(const char *repo_id, const char *revision, const seam_hub_options *opt,
                          char **out_dir, seam_error *err);

/* Turns a -m argument into a model folder (*out_dir, malloc'd):
 *  - an existing folder is returned as given;
 *  - otherwise model_arg must be a hub id; its cache folder (revision "main") is returned if
 *    complete, else pulled when pull_if_missing (and not offline), else an error that says
 *    to run `seam pull ID` or where to put the folder. A failed download's message also
 *    says how to get the model by hand. */
seam_status seam_hub_resolve(const char *model_arg, int pull_if_missing, const seam_hub_options *opt,
                             char **out_dir, seam_error *err);

#ifdef __cplusplus
}
#endif
#endif
