/* Tokenizer front end: finds and validates the files of a model folder, keeps the model
 * vocabulary and the added (special) tokens, splits added tokens out of the text before the
 * model runs, and turns ids back into text. The model itself sits behind tok_model_ops; the
 * one place that picks it is load_tokenizer_json(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "tokenizer/wordpiece.h"
#include "util/error.h"

/* ------------------------------------------------------------------ helpers */

const char *tok_quote(char *buf, size_t cap, const char *s, size_t len) {
    size_t o = 0;
    if (cap < 8) return "";
    buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o + 8 >= cap) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        if (c < 0x20 || c == 0x7F || c == '"' || c == '\\')
            o += (size_t)snprintf(buf + o, cap - o, "\\x%02X", c);
        else
            buf[o++] = (char)c;
    }
    buf[o++] = '"';
    buf[o] = 0;
    return buf;
}

static uint32_t str_hash(const char *s, size_t n) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001B3ull;
    return (uint32_t)(h ^ (h >> 32));
}

/* ------------------------------------------------------------------ vocabulary map */

static int vocab_rehash(tok_vocab *v, size_t n_slots) {
    uint32_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots) return 0;
    for (size_t i = 0; i < v->n; i++) {
        size_t j = v->entries[i].hash & (n_slots - 1);
        while (slots[j]) j = (j + 1) & (n_slots - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(v->slots);
    v->slots = slots;
    v->mask = n_slots - 1;
    return 1;
}

int32_t tok_vocab_find(const tok_vocab *v, const char *s, size_t len) {
    if (!v->slots) return -1;
    uint32_t h = str_hash(s, len);
    for (size_t j = h & v->mask; v->slots[j]; j = (j + 1) & v->mask) {
        const tok_vocab_entry *e = &v->entries[v->slots[j] - 1];
        if (e->hash == h && e->len == len && memcmp(v->arena + e->off, s, len) == 0) return e->id;
    }
    return -1;
}

int tok_vocab_add(tok_vocab *v, const char *s, size_t len, int32_t id, int32_t *old_id) {
    if ((v->n + 1) * 2 > (v->slots ? v->mask + 1 : 0)) {
        size_t n_slots = v->slots ? 2 * (v->mask + 1) : 1024;
        if (!vocab_rehash(v, n_slots)) return -1;
    }
    uint32_t h = str_hash(s, len);
    size_t j = h & v->mask;
    for (; v->slots[j]; j = (j + 1) & v->mask) {
        const tok_vocab_entry *e = &v->entries[v->slots[j] - 1];
        if (e->hash == h && e->len == len && memcmp(v->arena + e->off, s, len) == 0) {
            *old_id = e->id;
            return 0;
        }
    }
    if (v->n == v->entries_cap) {
        size_t cap = v->entries_cap ? 2 * v->entries_cap : 1024;
        tok_vocab_entry *e = realloc(v->entries, cap * sizeof *e);
        if (!e) return -1;
        v->entries = e;
        v->entries_cap = cap;
    }
    if (v->arena_len + len + 1 > v->arena_cap) {
        size_t cap = v->arena_cap ? v->arena_cap : 65536;
        while (cap < v->arena_len + len + 1) cap *= 2;
        if (cap > UINT32_MAX) return -1;
        char *a = realloc(v->arena, cap);
        if (!a) return -1;
        v->arena = a;
        v->arena_cap = cap;
    }
    memcpy(v->arena + v->arena_len, s, len);
    v->arena[v->arena_len + len] = 0;
    v->entries[v->n] = (tok_vocab_entry){(uint32_t)v->arena_len, (uint32_t)len, id, h};
    v->arena_len += len + 1;
    v->slots[j] = (uint32_t)++v->n;
    if (id > v->max_id) v->max_id = id;
    return 1;
}

void tok_vocab_free(tok_vocab *v) {
    free(v->arena);
    free(v->entries);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

/* Fills t->vocab from a {"token": id, ...} object. */
static seam_status vocab_from_json(seam_tokenizer *t, const json_value *obj, const char *path, const char *what,
                                   seam_error *err) {
    char q[64];
    if (!obj || obj->type != JSON_OBJECT)
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s is missing or not an object", path, what);
    for (size_t i = 0; i < obj->len; i++) {
        const json_member *mb = &obj->members[i];
        const json_value *v = &mb->value;
        if (v->type != JSON_NUMBER || !v->is_int || v->integer < 0 || v->integer > TOK_MAX_ID)
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s entry %s has an id that is not an integer in [0, %d]", path,
                             what, tok_quote(q, sizeof q, mb->key, mb->key_len), TOK_MAX_ID);
        int32_t old;
        int rc = tok_vocab_add(&t->vocab, mb->key, mb->key_len, (int32_t)v->integer, &old);
        if (rc < 0) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory reading %s", path);
        if (rc == 0)
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s has token %s twice", path, what,
                             tok_quote(q, sizeof q, mb->key, mb->key_len));
    }
    return SEAM_OK;
}

/* ------------------------------------------------------------------ added tokens */

static seam_status add_added(seam_tokenizer *t, const char *text, size_t len, int32_t id, const tok_added *flags,
                             const char *path, seam_error *err) {
    char q[64], q2[64];
    for (size_t i = 0; i < t->n_added; i++) {
        const tok_added *a = &t->added[i];
        int same_text = a->len == len && memcmp(a->text, text, len) == 0;
        if (same_text && a->id == id) return SEAM_OK; /* listed twice (config + defaults) */
        if (same_text || a->id == id)
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: added token %s (id %d) clashes with %s (id %d)", path,
                             tok_quote(q, sizeof q, text, len), (int)id, tok_quote(q2, sizeof q2, a->text, a->len),
                             (int)a->id);
    }
    if (t->n_added == t->added_cap) {
        size_t cap = t->added_cap ? 2 * t->added_cap : 8;
        tok_added *n = realloc(t->added, cap * sizeof *n);
        if (!n) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory reading %s", path);
        t->added = n;
        t->added_cap = cap;
    }
    tok_added *a = &t->added[t->n_added];
    *a = *flags;
    a->text = malloc(len + 1);
    if (!a->text) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory reading %s", path);
    memcpy(a->text, text, len);
    a->text[len] = 0;
    a->len = len;
    a->id = id;
    t->n_added++;
    return SEAM_OK;
}

/* One added-token object: {"id", "content", "special", "lstrip", "rstrip", "single_word",
 * "normalized"}. The id comes from the object or, for added_tokens_decoder, from its key. */
static seam_status added_from_json(seam_tokenizer *t, const json_value *o, int64_t id, const char *path,
                                   const char *where, seam_error *err) {
    if (!o || o->type != JSON_OBJECT) return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s is not an object", path, where);
    const json_value *c = json_get(o, "content");
    if (!c || c->type != JSON_STRING || c->len == 0)
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s has no non-empty \"content\" string", path, where);
    if (id < 0 && !json_get_int(o, "id", &id))
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s has no integer \"id\"", path, where);
    if (id < 0 || id > TOK_MAX_ID)
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s has id %lld outside [0, %d]", path, where, (long long)id,
                         TOK_MAX_ID);
    static const char *const keys[5] = {"special", "lstrip", "rstrip", "single_word", "normalized"};
    int vals[5] = {0, 0, 0, 0, 0};
    for (int k = 0; k < 5; k++) {
        const json_value *v = json_get(o, keys[k]);
        if (!v || v->type == JSON_NULL) continue;
        if (v->type != JSON_BOOL)
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s \"%s\" is not a boolean", path, where, keys[k]);
        vals[k] = v->boolean;
    }
    tok_added flags = {NULL, 0, 0, (unsigned char)vals[0], (unsigned char)vals[1], (unsigned char)vals[2],
                       (unsigned char)vals[3]};
    return add_added(t, c->str, c->len, (int32_t)id, &flags, path, err);
}

static seam_status added_tokens_from_json(seam_tokenizer *t, const json_value *arr, const char *path,
                                          seam_error *err) {
    if (!arr || arr->type == JSON_NULL) return SEAM_OK;
    if (arr->type != JSON_ARRAY) return seam_fail(err, SEAM_ERR_FORMAT, "%s: added_tokens is not an array", path);
    for (size_t i = 0; i < arr->len; i++) {
        char where[48];
        snprintf(where, sizeof where, "added_tokens[%zu]", i);
        seam_status st = added_from_json(t, &arr->items[i], -1, path, where, err);
        if (st != SEAM_OK) return st;
    }
    return SEAM_OK;
}

/* Sort key of the added-token index: by first byte, longer first, so the first hit in a
 * bucket is the longest match. */
typedef struct {
    uint32_t first, idx;
    size_t len;
} added_key;

static int cmp_added(const void *pa, const void *pb) {
    const added_key *a = pa, *b = pb;
    if (a->first != b->first) return a->first < b->first ? -1 : 1;
    if (a->len != b->len) return a->len > b->len ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* ------------------------------------------------------------------ id table */

/* Builds id -> bytes for every id, and the added-token index. */
static seam_status finish(seam_tokenizer *t, const char *path, seam_error *err) {
    tok_vocab *v = &t->vocab;
    int32_t max_id = v->n ? v->max_id : -1;
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].id > max_id) max_id = t->added[i].id;
    if (max_id < 0) return seam_fail(err, SEAM_ERR_FORMAT, "%s: the vocabulary is empty", path);
    t->n_ids = max_id + 1;
    t->tok_off = malloc((size_t)t->n_ids * sizeof *t->tok_off);
    t->tok_len = malloc((size_t)t->n_ids * sizeof *t->tok_len);
    size_t total = v->arena_len;
    for (size_t i = 0; i < t->n_added; i++) total += t->added[i].len;
    t->tok_bytes = malloc(total + 1);
    t->added_order = malloc((t->n_added + 1) * sizeof *t->added_order);
    if (!t->tok_off || !t->tok_len || !t->tok_bytes || !t->added_order)
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory building the token table of %s", path);
    for (int32_t i = 0; i < t->n_ids; i++) t->tok_len[i] = UINT32_MAX;

    size_t o = 0;
    char q[64], q2[64];
    for (size_t i = 0; i < v->n; i++) {
        const tok_vocab_entry *e = &v->entries[i];
        if (t->tok_len[e->id] != UINT32_MAX) {
            /* Rare, so the first owner is found by a scan rather than kept in a table. */
            const tok_vocab_entry *f = v->entries;
            while (f->id != e->id) f++;
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: id %d is given to both %s and %s", path, (int)e->id,
                             tok_quote(q, sizeof q, v->arena + f->off, f->len),
                             tok_quote(q2, sizeof q2, v->arena + e->off, e->len));
        }
        long n = -1;
        if (t->decoder == TOK_DECODE_BYTE_LEVEL) n = bpe_unmap_bytes(v->arena + e->off, e->len, t->tok_bytes + o);
        if (n < 0) {
            memcpy(t->tok_bytes + o, v->arena + e->off, e->len);
            n = (long)e->len;
        }
        t->tok_off[e->id] = (uint32_t)o;
        t->tok_len[e->id] = (uint32_t)n;
        o += (size_t)n;
    }
    /* Added tokens decode to their text as written, and win over a vocabulary entry with
     * the same id, as in the reference. */
    for (size_t i = 0; i < t->n_added; i++) {
        const tok_added *a = &t->added[i];
        memcpy(t->tok_bytes + o, a->text, a->len);
        t->tok_off[a->id] = (uint32_t)o;
        t->tok_len[a->id] = (uint32_t)a->len;
        o += a->len;
    }
    added_key *keys = malloc((t->n_added + 1) * sizeof *keys);
    if (!keys) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory building the token table of %s", path);
    for (size_t i = 0; i < t->n_added; i++)
        keys[i] = (added_key){(unsigned char)t->added[i].text[0], (uint32_t)i, t->added[i].len};
    qsort(keys, t->n_added, sizeof *keys, cmp_added);
    for (size_t i = 0; i < t->n_added; i++) t->added_order[i] = keys[i].idx;
    free(keys);
    size_t k = 0;
    for (unsigned b = 0; b < 256; b++) {
        t->added_first[b] = (uint32_t)k;
        while (k < t->n_added && (unsigned char)t->added[t->added_order[k]].text[0] == b) k++;
    }
    t->added_first[256] = (uint32_t)k;
    return SEAM_OK;
}

/* ------------------------------------------------------------------ loading */

static seam_status read_json(const char *path, json_value **out, seam_error *err) {
    char *text;
    size_t len;
    seam_status st = seam_read_file(path, TOK_MAX_FILE, &text, &len, err);
    if (st != SEAM_OK) return st;
    char msg[256];
    *out = json_parse(text, len, msg, sizeof msg);
    free(text);
    if (!*out) return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s", path, msg);
    if ((*out)->type != JSON_OBJECT) {
        json_free(*out);
        *out = NULL;
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: the top level is not an object", path);
    }
    return SEAM_OK;
}

static seam_status load_tokenizer_json(seam_tokenizer *t, const char *path, seam_error *err) {
    json_value *root;
    seam_status st = read_json(path, &root, err);
    if (st != SEAM_OK) return st;
    const json_value *model = json_get(root, "model");
    const char *type = json_get_string(model, "type");
    if (!model || model->type != JSON_OBJECT) {
        st = seam_fail(err, SEAM_ERR_FORMAT, "%s: \"model\" is missing or not an object", path);
    } else if (!type && json_get(model, "merges")) {
        type = "BPE"; /* files written before models were tagged */
    } else if (!type) {
        st = seam_fail(err, SEAM_ERR_FORMAT, "%s: model has no \"type\"", path);
    }
    /* The one place a model kind is chosen. */
    if (st == SEAM_OK && strcmp(type, "BPE") == 0) {
        st = vocab_from_json(t, json_get(model, "vocab"), path, "model.vocab", err);
        if (st == SEAM_OK) st = bpe_load_json(t, root, path, err);
    } else if (st == SEAM_OK && strcmp(type, "WordPiece") == 0) {
        st = wp_from_json(root, path, &t->wp, err);
        json_free(root);
        return st;
    } else if (st == SEAM_OK) {
        st = seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: tokenizer model type \"%s\" is not supported (BPE, WordPiece)",
                       path, type);
    }
    if (st == SEAM_OK) st = added_tokens_from_json(t, json_get(root, "added_tokens"), path, err);
    if (st == SEAM_OK) st = finish(t, path, err);
    json_free(root);
    return st;
}

/* A special-token field of tokenizer_config.json: "text" or {"content": "text", ...}. */
static const json_value *config_token_text(const json_value *v) {
    if (v && v->type == JSON_OBJECT) v = json_get(v, "content");
    return v && v->type == JSON_STRING && v->len > 0 ? v : NULL;
}

/* vocab.json + merges.txt carry no added tokens; the slow GPT-2 tokenizer takes them from
 * tokenizer_config.json when present and treats <|endoftext|> as special by default. */
static seam_status load_config_specials(seam_tokenizer *t, const char *dir, seam_error *err) {
    char *path = seam_path_join(dir, "tokenizer_config.json");
    if (!path) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    seam_status st = SEAM_OK;
    tok_added special = {NULL, 0, 0, 1, 0, 0, 0};
    if (seam_file_exists(path)) {
        json_value *root;
        st = read_json(path, &root, err);
        if (st == SEAM_OK) {
            const json_value *dec = json_get(root, "added_tokens_decoder");
            if (dec && dec->type != JSON_OBJECT && dec->type != JSON_NULL)
                st = seam_fail(err, SEAM_ERR_FORMAT, "%s: added_tokens_decoder is not an object", path);
            for (size_t i = 0; st == SEAM_OK && dec && dec->type == JSON_OBJECT && i < dec->len; i++) {
                char *end;
                const char *key = dec->members[i].key;
                long long id = strtoll(key, &end, 10);
                char where[64];
                snprintf(where, sizeof where, "added_tokens_decoder entry %.20s", key);
                if (end == key || *end || id < 0)
                    st = seam_fail(err, SEAM_ERR_FORMAT, "%s: %s: the key is not an id", path, where);
                else
                    st = added_from_json(t, &dec->members[i].value, id, path, where, err);
            }
            static const char *const fields[] = {"bos_token", "eos_token", "unk_token", "pad_token",
                                                 "sep_token", "cls_token", "mask_token"};
            for (size_t k = 0; st == SEAM_OK && k < sizeof fields / sizeof fields[0]; k++) {
                const json_value *c = config_token_text(json_get(root, fields[k]));
                int32_t id = c ? tok_vocab_find(&t->vocab, c->str, c->len) : -1;
                int known = 0;
                for (size_t i = 0; c && i < t->n_added; i++)
                    known |= t->added[i].len == c->len && memcmp(t->added[i].text, c->str, c->len) == 0;
                if (id >= 0 && !known) st = add_added(t, c->str, c->len, id, &special, path, err);
            }
            json_free(root);
        }
    }
    int32_t eot = tok_vocab_find(&t->vocab, "<|endoftext|>", 13);
    if (st == SEAM_OK && eot >= 0 && seam_tokenizer_special(t, "<|endoftext|>") < 0)
        st = add_added(t, "<|endoftext|>", 13, eot, &special, path, err);
    free(path);
    return st;
}

static seam_status load_vocab_merges(seam_tokenizer *t, const char *dir, const char *vocab_path,
                                     const char *merges_path, seam_error *err) {
    json_value *root;
    seam_status st = read_json(vocab_path, &root, err);
    if (st != SEAM_OK) return st;
    st = vocab_from_json(t, root, vocab_path, "the vocabulary", err);
    json_free(root);
    if (st != SEAM_OK) return st;
    char *text;
    size_t len;
    st = seam_read_file(merges_path, TOK_MAX_FILE, &text, &len, err);
    if (st != SEAM_OK) return st;
    st = bpe_load_merges_txt(t, text, len, merges_path, err);
    free(text);
    if (st == SEAM_OK) st = load_config_specials(t, dir, err);
    if (st == SEAM_OK) st = finish(t, vocab_path, err);
    return st;
}

seam_status seam_tokenizer_open(const char *dir, seam_tokenizer **out, seam_error *err) {
    if (!out) return seam_fail(err, SEAM_ERR_ARG, "seam_tokenizer_open: out is NULL");
    *out = NULL;
    if (!dir) return seam_fail(err, SEAM_ERR_ARG, "seam_tokenizer_open: dir is NULL");
    seam_tokenizer *t = calloc(1, sizeof *t);
    char *tj = seam_path_join(dir, "tokenizer.json");
    char *vj = seam_path_join(dir, "vocab.json");
    char *mt = seam_path_join(dir, "merges.txt");
    char *vt = seam_path_join(dir, "vocab.txt");
    seam_status st;
    if (!t || !tj || !vj || !mt || !vt) {
        st = seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    } else if (seam_file_exists(tj)) {
        st = load_tokenizer_json(t, tj, err);
    } else if (seam_file_exists(vj) && seam_file_exists(mt)) {
        st = load_vocab_merges(t, dir, vj, mt, err);
    } else if (seam_file_exists(vt)) {
        st = wp_open_dir(dir, &t->wp, err);
    } else {
        st = seam_fail(err, SEAM_ERR_IO,
                       "no tokenizer in %s: looked for tokenizer.json, vocab.json with merges.txt, and vocab.txt", dir);
    }
    free(vt);
    free(tj);
    free(vj);
    free(mt);
    if (st != SEAM_OK) {
        seam_tokenizer_close(t);
        return st;
    }
    *out = t;
    return SEAM_OK;
}

void seam_tokenizer_close(seam_tokenizer *t) {
    if (!t) return;
    wp_close(t->wp);
    if (t->ops && t->model) t->ops->free(t->model);
    tok_vocab_free(&t->vocab);
    for (size_t i = 0; i < t->n_added; i++) free(t->added[i].text);
    free(t->added);
    free(t->added_order);
    free(t->tok_off);
    free(t->tok_len);
    free(t->tok_bytes);
    free(t);
}

/* ------------------------------------------------------------------ encoding */

/* Whether an added token found at text[s..e) may be used there: single_word tokens must
 * not touch a word character on either side. */
static int single_word_ok(const char *text, size_t len, size_t s, size_t e) {
    if (s > 0 && tok_is_word_at(text, len, utf8_prev((const unsigned char *)text, s))) return 0;
    if (e < len && tok_is_word_at(text, len, e)) return 0;
    return 1;
}

seam_status seam_tokenize(const seam_tokenizer *t, const char *text, size_t len, int32_t *ids, size_t cap,
                          size_t *n_ids, seam_error *err) {
    if (n_ids) *n_ids = 0;
    if (!t || !n_ids || (!text && len) || (!ids && cap))
        return seam_fail(err, SEAM_ERR_ARG, "seam_tokenize: NULL argument");
    if (t->wp) return wp_encode(t->wp, text, len, 1, 0, ids, cap, n_ids, NULL, err);
    tok_sink out = {ids, cap, 0};
    seam_status st = SEAM_OK;
    size_t seg = 0; /* start of the text not yet encoded */
    for (size_t i = 0; t->n_added && i < len;) {
        unsigned char c = (unsigned char)text[i];
        uint32_t k = t->added_first[c], kend = t->added_first[c + 1];
        const tok_added *hit = NULL;
        for (; k < kend; k++) {
            const tok_added *a = &t->added[t->added_order[k]];
            if (a->len <= len - i && memcmp(text + i, a->text, a->len) == 0) {
                hit = a;
                break;
            }
        }
        if (!hit) {
            i++;
            continue;
        }
        size_t s = i, e = i + hit->len;
        /* Like the reference's leftmost-longest automaton, a rejected longest match is
         * skipped whole rather than retried with shorter tokens. */
        if (hit->single_word && !single_word_ok(text, len, s, e)) {
            i = e;
            continue;
        }
        size_t clen;
        if (hit->lstrip)
            while (s > seg) {
                size_t p = utf8_prev((const unsigned char *)text, s);
                if (!tok_is_space_at(text, len, p, &clen)) break;
                s = p;
            }
        if (hit->rstrip)
            while (e < len && tok_is_space_at(text, len, e, &clen)) e += clen;
        if (s > seg) st = t->ops->encode(t->model, text + seg, s - seg, &out, err);
        if (st != SEAM_OK) return st;
        tok_sink_push(&out, hit->id);
        seg = i = e;
    }
    if (seg < len) st = t->ops->encode(t->model, text + seg, len - seg, &out, err);
    if (st != SEAM_OK) return st;
    *n_ids = out.n;
    if (out.n > cap)
        return seam_fail(err, SEAM_ERR_RANGE, "the text takes %zu tokens, more than the %zu given room for", out.n,
                         cap);
    return SEAM_OK;
}

/* ------------------------------------------------------------------ decoding */

const char *seam_token_bytes(const seam_tokenizer *t, int32_t id, size_t *len) {
    if (len) *len = 0;
    if (t && t->wp) return wp_token_text(t->wp, id, len);
    if (!t || id < 0 || id >= t->n_ids || t->tok_len[id] == UINT32_MAX) return NULL;
    if (len) *len = t->tok_len[id];
    return t->tok_bytes + t->tok_off[id];
}

size_t seam_detokenize(const seam_tokenizer *t, const int32_t *ids, size_t n, char *out, size_t cap) {
    if (t && t->wp) return wp_decode(t->wp, ids, n, 0, out, cap);
    if (t && t->ops && t->ops->decode) return t->ops->decode(t->model, ids, n, out, cap);
    utf8_fixer f;
    /* Leave room for the NUL, snprintf-style. */
    utf8_fixer_init(&f, out, cap ? cap - 1 : 0);
    for (size_t i = 0; t && ids && i < n; i++) {
        size_t len;
        const char *b = seam_token_bytes(t, ids[i], &len);
        /* Ids the tokenizer does not know are left out, as the reference does. */
        if (b) utf8_fixer_feed(&f, (const unsigned char *)b, len);
    }
    utf8_fixer_finish(&f);
    if (out && cap) out[f.need < cap ? f.need : cap - 1] = 0;
    return f.need;
}

int seam_tokenizer_vocab_size(const seam_tokenizer *t) { return t ? (t->wp ? wp_vocab_size(t->wp) : t->n_ids) : 0; }

int32_t seam_tokenizer_special(const seam_tokenizer *t, const char *text) {
    if (!t || !text) return -1;
    size_t len = strlen(text);
    if (t->wp) return wp_token_id(t->wp, text, len);
    for (size_t i = 0; i < t->n_added; i++)
        if (t->added[i].len == len && memcmp(t->added[i].text, text, len) == 0) return t->added[i].id;
    return -1;
}
