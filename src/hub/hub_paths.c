/* Hub model ids, revisions and the cache layout (include/seam_hub.h), and seam_hub_resolve:
 * everything of the hub client that needs no network. hub.c does the downloads. */
#include "seam_hub.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub/hub_internal.h"
#include "util/error.h"

/* ------------------------------------------------------------------ small helpers */

const char *hub_env_str(const char *name) {
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int env_flag(const char *name) {
    const char *v = hub_env_str(name);
    return v && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0 && strcasecmp(v, "no") != 0 &&
           strcasecmp(v, "off") != 0;
}

int hub_env_int(const char *name, int dflt) {
    const char *v = hub_env_str(name);
    if (!v) return dflt;
    char *end;
    long x = strtol(v, &end, 10);
    if (*end || x < 0 || x > 1000000) return dflt;
    return (int)x;
}

char *hub_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

char *hub_cat(const char *a, ...) {
    const char *parts[8];
    int n = 0;
    size_t len = 0;
    va_list ap;
    va_start(ap, a);
    for (const char *s = a; s && n < 8; s = va_arg(ap, const char *)) {
        parts[n++] = s;
        len += strlen(s);
    }
    va_end(ap);
    char *out = malloc(len + 1), *q = out;
    if (!out) return NULL;
    for (int i = 0; i < n; i++) {
        size_t l = strlen(parts[i]);
        memcpy(q, parts[i], l);
        q += l;
    }
    *q = 0;
    return out;
}

static int is_word_char(int c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
static int is_name_char(int c) { return is_word_char(c) || c == '.' || c == '-'; }

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int64_t hub_file_size(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    return (int64_t)st.st_size;
}

/* mkdir -p; path is modified temporarily. */
seam_status hub_mkdir_p(const char *path, seam_error *err) {
    char *p = hub_strdup(path);
    if (!p) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST) {
                seam_status r = seam_fail(err, SEAM_ERR_IO, "cannot create folder %s: %s", p, strerror(errno));
                free(p);
                return r;
            }
            if (!is_dir(p)) {
                seam_status r = seam_fail(err, SEAM_ERR_IO, "%s exists and is not a folder", p);
                free(p);
                return r;
            }
            if (c == 0) break;
            *s = c;
        }
    }
    free(p);
    return SEAM_OK;
}

/* ------------------------------------------------------------------ ids and paths */

int seam_hub_valid_repo_id(const char *id) {
    if (!id || !*id) return 0;
    if (strstr(id, "..") || strstr(id, "--")) return 0;
    const char *seg = id;
    int segs = 0;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n < 1 || n > 96 || ++segs > 2) return 0;
        for (size_t i = 0; i < n; i++)
            if (!is_name_char((unsigned char)seg[i])) return 0;
        if (!is_word_char((unsigned char)seg[0]) || !is_word_char((unsigned char)seg[n - 1])) return 0;
        if (!end) break;
        seg = end + 1;
    }
    return 1;
}

static int valid_revision(const char *r) {
    size_t n = r ? strlen(r) : 0;
    if (n < 1 || n > 128 || strstr(r, "..") || strstr(r, "--") || strstr(r, "//")) return 0;
    if (r[0] == '.' || r[0] == '-' || r[0] == '/' || r[n - 1] == '/') return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char((unsigned char)r[i]) && r[i] != '/') return 0;
    /* No "." segment. */
    for (const char *s = r; s; s = strchr(s, '/')) {
        if (*s == '/') s++;
        if (s[0] == '.' && (s[1] == '/' || s[1] == 0)) return 0;
    }
    return 1;
}

int hub_valid_shard_name(const char *s, size_t len) {
    static const char suffix[] = ".safetensors";
    size_t sl = sizeof suffix - 1;
    if (len <= sl || len > 200 || strlen(s) != len || s[0] == '.' || s[0] == '-') return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_name_char((unsigned char)s[i])) return 0;
    return memcmp(s + len - sl, suffix, sl) == 0;
}

/* s with every '/' replaced by "--" (malloc'd). */
static char *slash_to_dashes(const char *s) {
    size_t n = 0;
    for (const char *p = s; *p; p++) n += *p == '/' ? 2 : 1;
    char *out = malloc(n + 1), *q = out;
    if (!out) return NULL;
    for (const char *p = s; *p; p++) {
        if (*p == '/') { *q++ = '-'; *q++ = '-'; }
        else *q++ = *p;
    }
    *q = 0;
    return out;
}

static seam_status cache_root(const seam_hub_options *o, char **out, seam_error *err) {
    const char *v;
    *out = NULL;
    if (o->cache_dir && *o->cache_dir) *out = hub_strdup(o->cache_dir);
    else if ((v = hub_env_str("SEAM_HOME"))) *out = hub_strdup(v);
    else if ((v = hub_env_str("XDG_CACHE_HOME")) && v[0] == '/') *out = seam_path_join(v, "seam");
    else if ((v = hub_env_str("HOME"))) *out = seam_path_join(v, ".cache/seam");
    else return seam_fail(err, SEAM_ERR_IO, "no cache folder for downloaded models: set SEAM_HOME (or HOME)");
    return *out ? SEAM_OK : seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
}

seam_hub_options seam_hub_default_options(void) {
    seam_hub_options o;
    memset(&o, 0, sizeof o);
    o.retries = -1;
    return o;
}

static seam_status check_id(const char *repo_id, const char *revision, seam_error *err) {
    if (!seam_hub_valid_repo_id(repo_id))
        return seam_fail(err, SEAM_ERR_ARG,
                         "invalid hub model id '%s': expected NAME or ORG/NAME made of letters, digits, "
                         "'.', '_' and '-' (no '..', no absolute paths)",
                         repo_id ? repo_id : "");
    if (!valid_revision(revision))
        return seam_fail(err, SEAM_ERR_ARG,
                         "invalid revision '%s': expected a branch, tag or commit made of letters, digits, "
                         "'.', '_', '-' and '/'",
                         revision ? revision : "");
    return SEAM_OK;
}

seam_status seam_hub_cache_dir(const char *repo_id, const char *revision, const seam_hub_options *opt,
                               char **out_dir, seam_error *err) {
    seam_hub_options dflt = seam_hub_default_options();
    if (!opt) opt = &dflt;
    *out_dir = NULL;
    if (!revision) revision = "main";
    seam_status s = check_id(repo_id, revision, err);
    if (s) return s;
    char *root;
    if ((s = cache_root(opt, &root, err))) return s;
    char *r = slash_to_dashes(repo_id), *v = slash_to_dashes(revision);
    char *dir = r && v ? hub_cat(root, root[strlen(root) - 1] == '/' ? "" : "/", "models/", r, "/", v, NULL) : NULL;
    free(root);
    free(r);
    free(v);
    if (!dir) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    *out_dir = dir;
    return SEAM_OK;
}

static int marker_exists(const char *dir, const char *name) {
    char *p = seam_path_join(dir, name);
    int e = p && seam_file_exists(p);
    free(p);
    return e;
}

int hub_model_complete(const char *dir) {
    return is_dir(dir) && !marker_exists(dir, ".pulling") &&
           (marker_exists(dir, ".complete") || marker_exists(dir, "config.json"));
}


int hub_offline_env(void) { return env_flag("SEAM_OFFLINE") || env_flag("HF_HUB_OFFLINE"); }

/* ------------------------------------------------------------------ resolve */

static int looks_like_path(const char *s) {
    size_t n = strlen(s);
    if (s[0] == '/' || s[0] == '.' || s[0] == '~' || strstr(s, "..") || (n && s[n - 1] == '/')) return 1;
    const char *a = strchr(s, '/');
    return a && strchr(a + 1, '/');
}

seam_status seam_hub_resolve(const char *model_arg, int pull_if_missing, const seam_hub_options *opt,
                             char **out_dir, seam_error *err) {
    seam_hub_options dflt = seam_hub_default_options();
    if (!opt) opt = &dflt;
    if (!out_dir) return seam_fail(err, SEAM_ERR_ARG, "seam_hub_resolve: out_dir is NULL");
    *out_dir = NULL;
    if (!model_arg || !*model_arg) return seam_fail(err, SEAM_ERR_ARG, "no model given");
    struct stat st;
    if (stat(model_arg, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return seam_fail(err, SEAM_ERR_ARG, "%s is a file: pass the model folder (the one holding config.json)",
                             model_arg);
        if (!(*out_dir = hub_strdup(model_arg))) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
        return SEAM_OK;
    }
    if (!seam_hub_valid_repo_id(model_arg)) {
        if (looks_like_path(model_arg)) return seam_fail(err, SEAM_ERR_IO, "no such model folder: %s", model_arg);
        return seam_fail(err, SEAM_ERR_ARG,
                         "'%s' is neither a model folder nor a hub model id (NAME or ORG/NAME, e.g. gpt2 or "
                         "openai-community/gpt2-medium)",
                         model_arg);
    }
    char *dir;
    seam_status s = seam_hub_cache_dir(model_arg, "main", opt, &dir, err);
    if (s) return s;
    if (hub_model_complete(dir)) {
        *out_dir = dir;
        return SEAM_OK;
    }
    if (!pull_if_missing || opt->offline || hub_offline_env()) {
        s = seam_fail(err, SEAM_ERR_IO,
                      "model %s is not downloaded%s: run `seam pull %s`, or put the model folder (config.json, "
                      "model.safetensors, tokenizer.json) at %s, or pass a folder path",
                      model_arg, pull_if_missing ? " and offline mode is on" : "", model_arg, dir);
        free(dir);
        return s;
    }
    seam_error e = {SEAM_OK, ""};
    s = seam_hub_pull(model_arg, "main", opt, out_dir, &e);
    if (s == SEAM_ERR_NET)
        s = seam_fail(err, s, "cannot download %s: %.300s; run `seam pull %s` once the hub is reachable, or put the "
                              "model folder at %s",
                      model_arg, e.message, model_arg, dir);
    else if (s)
        s = seam_fail(err, s, "%s", e.message);
    free(dir);
    return s;
}
