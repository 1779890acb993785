/* BERT WordPiece: loading (tokenizer.json or vocab.txt), the BertNormalizer, the
 * BertPreTokenizer, the WordPiece model and its decoder. The behaviour follows Hugging Face
 * tokenizers step by step, including its choice of Unicode tables (see
 * tools/gen_bert_tables.py). */
#include "tokenizer/wordpiece.h"

#include <stdlib.h>
#include <string.h>

#include "util/error.h"

#define WP_MAX_FILE ((size_t)256 << 20)
#define WP_MAX_ID ((1 << 24) - 1)
#define WP_MAX_SPECIAL 8

typedef struct {
    char *text;
    size_t len;
    char *match; /* what is looked for: text, or for a normalized token its normalised form */
    size_t match_len;
    int32_t id;
    unsigned char special, lstrip, rstrip, single_word, normalized;
} wp_added;

struct wp_tokenizer {
    wp_settings set;
    /* vocabulary: texts in one arena, open addressing on FNV-1a */
    char *arena;
    size_t arena_len, arena_cap;
    uint32_t *e_off, *e_len;
    int32_t *e_id;
    size_t n_entries, entries_cap;
    uint32_t *slots; /* entry + 1; 0 = empty */
    size_t mask;
    int32_t n_ids;       /* largest id + 1 */
    int32_t *id_entry;   /* [n_ids] entry of each id, -1 when none; added tokens win */
    int32_t unk_id, pad_id;
    char prefix[16];     /* continuing_subword_prefix */
    size_t prefix_len;
    wp_added *added;
    size_t n_added;
    int32_t pre[WP_MAX_SPECIAL], post[WP_MAX_SPECIAL];
    size_t n_pre, n_post;
    int decode_cleanup;
    char decode_prefix[16];
    int decode_wordpiece; /* 0: tokens joined by spaces, as with no decoder */
};

/* Per-call scratch of an encoding; wp_encode allocates it, so calls may run in parallel. */
typedef struct {
    uint32_t *a, *b;         /* code point stages */
    size_t cap_a, cap_b;
    char *text;              /* normalised UTF-8 */
    size_t cap_text;
    char *key;               /* prefix + piece, for vocabulary look-ups */
    size_t cap_key;
    int32_t *ids;            /* the text's ids before specials and truncation */
    size_t n_ids, cap_ids;
    int oom;
} wp_work;

static size_t normalize(const wp_tokenizer *t, wp_work *w, const char *s, size_t n);

/* ------------------------------------------------------------------ vocabulary */

static uint32_t fnv1a(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int32_t find_entry(const wp_tokenizer *t, const char *s, size_t n) {
    if (!t->slots) return -1;
    for (size_t i = fnv1a(s, n) & t->mask;; i = (i + 1) & t->mask) {
        uint32_t e = t->slots[i];
        if (!e) return -1;
        e--;
        if (t->e_len[e] == n && memcmp(t->arena + t->e_off[e], s, n) == 0) return (int32_t)e;
    }
}

int32_t wp_token_id(const wp_tokenizer *t, const char *text, size_t len) {
    int32_t e = find_entry(t, text, len);
    return e < 0 ? -1 : t->e_id[e];
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    size_t nc = *cap ? *cap : 64;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np) return 0;
    *p = np;
    *cap = nc;
    return 1;
}

/* Adds or (like a Python dict / Rust HashMap insert) re-points a token text at id. */
static seam_status vocab_put(wp_tokenizer *t, const char *s, size_t n, int64_t id, seam_error *err) {
    if (id < 0 || id > WP_MAX_ID) return seam_fail(err, SEAM_ERR_FORMAT, "token id %lld is outside [0, %d]", (long long)id, WP_MAX_ID);
    if (n > 1024) return seam_fail(err, SEAM_ERR_FORMAT, "a vocabulary entry is %zu bytes long", n);
    int32_t e = find_entry(t, s, n);
    if (e >= 0) { t->e_id[e] = (int32_t)id; return SEAM_OK; }
    if ((t->n_entries + 1) * 2 > t->mask + 1 || !t->slots) {
        size_t ns = t->slots ? (t->mask + 1) * 2 : 1024;
        uint32_t *slots = calloc(ns, sizeof *slots);
        if (!slots) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
        for (size_t k = 0; k < t->n_entries; k++) {
            size_t i = fnv1a(t->arena + t->e_off[k], t->e_len[k]) & (ns - 1);
            while (slots[i]) i = (i + 1) & (ns - 1);
            slots[i] = (uint32_t)k + 1;
        }
        free(t->slots);
        t->slots = slots;
        t->mask = ns - 1;
    }
    if (t->n_entries == t->entries_cap) {
        size_t nc = t->entries_cap ? t->entries_cap * 2 : 1024;
        uint32_t *no = realloc(t->e_off, nc * sizeof *no);
        if (no) t->e_off = no;
        uint32_t *nl = realloc(t->e_len, nc * sizeof *nl);
        if (nl) t->e_len = nl;
        int32_t *ni = realloc(t->e_id, nc * sizeof *ni);
        if (ni) t->e_id = ni;
        if (!no || !nl || !ni) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
        t->entries_cap = nc;
    }
    if (!grow((void **)&t->arena, &t->arena_cap, t->arena_len + n + 1, 1))
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    memcpy(t->arena + t->arena_len, s, n);
    t->arena[t->arena_len + n] = 0;
    size_t k = t->n_entries++;
    t->e_off[k] = (uint32_t)t->arena_len;
    t->e_len[k] = (uint32_t)n;
    t->e_id[k] = (int32_t)id;
    t->arena_len += n + 1;
    size_t i = fnv1a(s, n) & t->mask;
    while (t->slots[i]) i = (i + 1) & t->mask;
    t->slots[i] = (uint32_t)k + 1;
    return SEAM_OK;
}

static seam_status build_id_table(wp_tokenizer *t, seam_error *err) {
    int32_t n = 0;
    for (size_t k = 0; k < t->n_entries; k++) n = t->e_id[k] + 1 > n ? t->e_id[k] + 1 : n;
    t->n_ids = n;
    t->id_entry = malloc((size_t)(n ? n : 1) * sizeof *t->id_entry);
    if (!t->id_entry) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < n; i++) t->id_entry[i] = -1;
    for (size_t k = 0; k < t->n_entries; k++)
        if (t->id_entry[t->e_id[k]] < 0) t->id_entry[t->e_id[k]] = (int32_t)k;
    for (size_t a = 0; a < t->n_added; a++) {
        int32_t e = find_entry(t, t->added[a].text, t->added[a].len);
        if (e >= 0) t->id_entry[t->added[a].id] = e;
    }
    return SEAM_OK;
}

void wp_close(wp_tokenizer *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n_added; i++) {
        if (t->added[i].match != t->added[i].text) free(t->added[i].match);
        free(t->added[i].text);
    }
    free(t->added);
    free(t->arena); free(t->e_off); free(t->e_len); free(t->e_id); free(t->slots); free(t->id_entry);
    free(t);
}

static wp_tokenizer *wp_new(void) {
    wp_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->set = (wp_settings){1, 1, 1, 1, 1, 100};
    memcpy(t->prefix, "##", 3);
    t->prefix_len = 2;
    memcpy(t->decode_prefix, "##", 3);
    t->decode_cleanup = 1;
    t->decode_wordpiece = 1;
    t->unk_id = t->pad_id = -1;
    return t;
}

static seam_status add_added(wp_tokenizer *t, const char *s, size_t n, int32_t id, int special, int normalized,
                             seam_error *err) {
    if (n == 0) return seam_fail(err, SEAM_ERR_FORMAT, "an added token has empty content");
    wp_added *na = realloc(t->added, (t->n_added + 1) * sizeof *na);
    if (!na) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    t->added = na;
    wp_added *a = &t->added[t->n_added];
    memset(a, 0, sizeof *a);
    if (!(a->text = malloc(n + 1))) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    memcpy(a->text, s, n);
    a->text[n] = 0;
    a->len = n;
    a->match = a->text;
    a->match_len = n;
    a->id = id;
    a->special = (unsigned char)special;
    a->normalized = (unsigned char)normalized;
    t->n_added++;
    return vocab_put(t, s, n, id, err);
}

/* ------------------------------------------------------------------ tokenizer.json */

static seam_status json_flag(const json_value *o, const char *key, int dflt, int *out, const char *path, seam_error *err) {
    const json_value *v = json_get(o, key);
    if (!v || v->type == JSON_NULL) { *out = dflt; return SEAM_OK; }
    if (v->type != JSON_BOOL) return seam_fail(err, SEAM_ERR_FORMAT, "%s: '%s' must be true, false or null", path, key);
    *out = v->boolean;
    return SEAM_OK;
}

static seam_status load_normalizer(wp_tokenizer *t, const json_value *n, const char *path, seam_error *err) {
    if (!n || n->type == JSON_NULL) { t->set.clean_text = t->set.handle_chinese_chars = t->set.strip_accents = t->set.lowercase = 0; return SEAM_OK; }
    const char *type = json_get_string(n, "type");
    if (type && !strcmp(type, "Sequence")) {
        const json_value *list = json_get(n, "normalizers");
        if (list && list->type == JSON_ARRAY && list->len == 1) return load_normalizer(t, &list->items[0], path, err);
    }
    if (!type || strcmp(type, "BertNormalizer") != 0)
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: normalizer '%s' is not supported with WordPiece (BertNormalizer or none)",
                         path, type ? type : "?");
    seam_status s;
    int strip = -1;
    if ((s = json_flag(n, "clean_text", 1, &t->set.clean_text, path, err)) ||
        (s = json_flag(n, "handle_chinese_chars", 1, &t->set.handle_chinese_chars, path, err)) ||
        (s = json_flag(n, "lowercase", 1, &t->set.lowercase, path, err)) ||
        (s = json_flag(n, "strip_accents", -1, &strip, path, err)))
        return s;
    t->set.strip_accents = strip < 0 ? t->set.lowercase : strip;
    return SEAM_OK;
}

static seam_status load_pretok(wp_tokenizer *t, const json_value *p, const char *path, seam_error *err) {
    if (!p || p->type == JSON_NULL) { t->set.split_words = 0; return SEAM_OK; }
    const char *type = json_get_string(p, "type");
    if (type && !strcmp(type, "Sequence")) {
        const json_value *list = json_get(p, "pretokenizers");
        if (list && list->type == JSON_ARRAY && list->len == 1) return load_pretok(t, &list->items[0], path, err);
    }
    if (!type || strcmp(type, "BertPreTokenizer") != 0)
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: pre_tokenizer '%s' is not supported with WordPiece (BertPreTokenizer or none)",
                         path, type ? type : "?");
    t->set.split_words = 1;
    return SEAM_OK;
}

static seam_status special_pair(const json_value *v, const char *what, int32_t *out, const char *path, seam_error *err) {
    if (!v || v->type != JSON_ARRAY || v->len != 2 || v->items[1].type != JSON_NUMBER || !v->items[1].is_int ||
        v->items[1].integer < 0 || v->items[1].integer > WP_MAX_ID)
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: post_processor '%s' must be [token, id]", path, what);
    *out = (int32_t)v->items[1].integer;
    return SEAM_OK;
}

static seam_status load_template(wp_tokenizer *t, const json_value *p, const char *path, seam_error *err) {
    const json_value *single = json_get(p, "single"), *specials = json_get(p, "special_tokens");
    if (!single || single->type != JSON_ARRAY)
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: TemplateProcessing needs a 'single' list", path);
    int seen_seq = 0;
    for (size_t i = 0; i < single->len; i++) {
        const json_value *it = &single->items[i], *sp = json_get(it, "SpecialToken");
        if (json_get(it, "Sequence")) { seen_seq = 1; continue; }
        const char *name = sp ? json_get_string(sp, "id") : NULL;
        const json_value *def = name ? json_get(specials, name) : NULL, *ids = def ? json_get(def, "ids") : NULL;
        if (!ids || ids->type != JSON_ARRAY)
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: TemplateProcessing item %zu names no known special token", path, i);
        for (size_t k = 0; k < ids->len; k++) {
            const json_value *x = &ids->items[k];
            size_t *n = seen_seq ? &t->n_post : &t->n_pre;
            if (x->type != JSON_NUMBER || !x->is_int || x->integer < 0 || x->integer > WP_MAX_ID || *n == WP_MAX_SPECIAL)
                return seam_fail(err, SEAM_ERR_FORMAT, "%s: bad TemplateProcessing special token ids", path);
            (seen_seq ? t->post : t->pre)[(*n)++] = (int32_t)x->integer;
        }
    }
    if (!seen_seq) return seam_fail(err, SEAM_ERR_FORMAT, "%s: TemplateProcessing 'single' has no Sequence", path);
    return SEAM_OK;
}

static seam_status load_post(wp_tokenizer *t, const json_value *p, const char *path, seam_error *err) {
    if (!p || p->type == JSON_NULL) return SEAM_OK;
    const char *type = json_get_string(p, "type");
    if (type && !strcmp(type, "BertProcessing")) {
        t->n_pre = t->n_post = 1;
        seam_status s = special_pair(json_get(p, "cls"), "cls", &t->pre[0], path, err);
        return s ? s : special_pair(json_get(p, "sep"), "sep", &t->post[0], path, err);
    }
    if (type && !strcmp(type, "TemplateProcessing")) return load_template(t, p, path, err);
    return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: post_processor '%s' is not supported (BertProcessing, TemplateProcessing)",
                     path, type ? type : "?");
}

static seam_status load_model(wp_tokenizer *t, const json_value *m, const char *path, seam_error *err) {
    const char *type = json_get_string(m, "type");
    if (!type || strcmp(type, "WordPiece") != 0)
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: model type '%s' is not WordPiece", path, type ? type : "?");
    const json_value *vocab = json_get(m, "vocab");
    if (!vocab || vocab->type != JSON_OBJECT) return seam_fail(err, SEAM_ERR_FORMAT, "%s: model.vocab must be an object", path);
    seam_status s;
    for (size_t i = 0; i < vocab->len; i++) {
        const json_member *mb = &vocab->members[i];
        if (mb->value.type != JSON_NUMBER || !mb->value.is_int)
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: vocab entry %zu has a non-integer id", path, i);
        if ((s = vocab_put(t, mb->key, mb->key_len, mb->value.integer, err))) return seam_fail_wrap(err, "%s", path);
    }
    const char *pfx = json_get_string(m, "continuing_subword_prefix");
    if (pfx) {
        if (strlen(pfx) >= sizeof t->prefix) return seam_fail(err, SEAM_ERR_FORMAT, "%s: continuing_subword_prefix is too long", path);
        strcpy(t->prefix, pfx);
        t->prefix_len = strlen(pfx);
    }
    int64_t mx;
    if (json_get_int(m, "max_input_chars_per_word", &mx)) {
        if (mx < 0 || mx > 1000000) return seam_fail(err, SEAM_ERR_FORMAT, "%s: bad max_input_chars_per_word", path);
        t->set.max_input_chars_per_word = (int)mx;
    }
    const char *unk = json_get_string(m, "unk_token");
    t->unk_id = wp_token_id(t, unk ? unk : "[UNK]", strlen(unk ? unk : "[UNK]"));
    if (t->unk_id < 0) return seam_fail(err, SEAM_ERR_FORMAT, "%s: unk_token '%s' is not in the vocabulary", path, unk ? unk : "[UNK]");
    return SEAM_OK;
}

static seam_status load_added(wp_tokenizer *t, const json_value *list, const char *path, seam_error *err) {
    if (!list || list->type == JSON_NULL) return SEAM_OK;
    if (list->type != JSON_ARRAY) return seam_fail(err, SEAM_ERR_FORMAT, "%s: added_tokens must be a list", path);
    for (size_t i = 0; i < list->len; i++) {
        const json_value *a = &list->items[i], *c = json_get(a, "content");
        int64_t id;
        int flags[5] = {0, 0, 0, 0, 0};
        seam_status s;
        if (!c || c->type != JSON_STRING || !json_get_int(a, "id", &id))
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: added_tokens[%zu] needs 'id' and 'content'", path, i);
        if ((s = json_flag(a, "special", 0, &flags[0], path, err)) || (s = json_flag(a, "normalized", !flags[0], &flags[1], path, err)) ||
            (s = json_flag(a, "lstrip", 0, &flags[2], path, err)) || (s = json_flag(a, "rstrip", 0, &flags[3], path, err)) ||
            (s = json_flag(a, "single_word", 0, &flags[4], path, err)) ||
            (s = add_added(t, c->str, c->len, (int32_t)(id < 0 || id > WP_MAX_ID ? -1 : id), flags[0], flags[1], err)))
            return s;
        wp_added *ad = &t->added[t->n_added - 1];
        ad->lstrip = (unsigned char)flags[2];
        ad->rstrip = (unsigned char)flags[3];
        ad->single_word = (unsigned char)flags[4];
    }
    return SEAM_OK;
}

static seam_status load_decoder(wp_tokenizer *t, const json_value *d, const char *path, seam_error *err) {
    if (!d || d->type == JSON_NULL) { t->decode_wordpiece = 0; return SEAM_OK; }
    const char *type = json_get_string(d, "type");
    if (!type || strcmp(type, "WordPiece") != 0) { t->decode_wordpiece = 0; return SEAM_OK; } /* decoding is best effort */
    const char *pfx = json_get_string(d, "prefix");
    if (pfx && strlen(pfx) < sizeof t->decode_prefix) strcpy(t->decode_prefix, pfx);
    return json_flag(d, "cleanup", 1, &t->decode_cleanup, path, err);
}

static void find_pad(wp_tokenizer *t) { t->pad_id = wp_token_id(t, "[PAD]", 5); }

/* Added tokens marked normalized are looked for in the normalised text, so their own
 * text is normalised the same way first (as the reference builds its second trie). */
static seam_status normalize_added(wp_tokenizer *t, seam_error *err) {
    seam_status s = SEAM_OK;
    wp_work w;
    memset(&w, 0, sizeof w);
    for (size_t i = 0; i < t->n_added && !s; i++) {
        wp_added *a = &t->added[i];
        if (!a->normalized) continue;
        size_t n = normalize(t, &w, a->text, a->len);
        char *m = w.oom ? NULL : malloc(n + 1);
        if (!m) { s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); break; }
        memcpy(m, w.text, n);
        m[n] = 0;
        a->match = m;
        a->match_len = n;
    }
    free(w.a); free(w.b); free(w.text); free(w.key); free(w.ids);
    return s;
}

seam_status wp_from_json(const json_value *root, const char *path, wp_tokenizer **out, seam_error *err) {
    *out = NULL;
    if (!root || root->type != JSON_OBJECT) return seam_fail(err, SEAM_ERR_FORMAT, "%s: not a JSON object", path);
    wp_tokenizer *t = wp_new();
    if (!t) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    const json_value *model = json_get(root, "model");
    seam_status s;
    if (!model || model->type != JSON_OBJECT) s = seam_fail(err, SEAM_ERR_FORMAT, "%s: missing 'model'", path);
    else if (!(s = load_model(t, model, path, err)) && !(s = load_added(t, json_get(root, "added_tokens"), path, err)) &&
             !(s = load_normalizer(t, json_get(root, "normalizer"), path, err)) &&
             !(s = load_pretok(t, json_get(root, "pre_tokenizer"), path, err)) &&
             !(s = load_post(t, json_get(root, "post_processor"), path, err)) &&
             !(s = load_decoder(t, json_get(root, "decoder"), path, err)) && !(s = normalize_added(t, err)))
        s = build_id_table(t, err);
    if (s) { wp_close(t); return s; }
    find_pad(t);
    *out = t;
    return SEAM_OK;
}

seam_status wp_open_json(const char *path, wp_tokenizer **out, seam_error *err) {
    *out = NULL;
    char *text = NULL, jerr[256];
    size_t len;
    seam_status s = seam_read_file(path, WP_MAX_FILE, &text, &len, err);
    if (s) return s;
    json_value *root = json_parse(text, len, jerr, sizeof jerr);
    free(text);
    if (!root) return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s", path, jerr);
    s = wp_from_json(root, path, out, err);
    json_free(root);
    return s;
}

seam_status wp_open_vocab(const char *path, const wp_settings *settings, wp_tokenizer **out, seam_error *err) {
    *out = NULL;
    char *text = NULL;
    size_t len;
    seam_status s = seam_read_file(path, WP_MAX_FILE, &text, &len, err);
    if (s) return s;
    wp_tokenizer *t = wp_new();
    if (!t) { free(text); return seam_fail(err, SEAM_ERR_NOMEM, "out of memory"); }
    if (settings) t->set = *settings;
    int64_t id = 0;
    for (size_t p = 0; p < len && !s; id++) {
        size_t e = p;
        while (e < len && text[e] != '\n') e++;
        size_t n = e - p;
        /* The reference trims trailing whitespace of each line (CRLF files included). */
        while (n && (text[p + n - 1] == '\r' || text[p + n - 1] == ' ' || text[p + n - 1] == '\t')) n--;
        s = vocab_put(t, text + p, n, id, err);
        p = e + 1;
    }
    free(text);
    static const char *const specials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (int i = 0; i < 5 && !s; i++) {
        int32_t sid = wp_token_id(t, specials[i], strlen(specials[i]));
        if (sid >= 0) s = add_added(t, specials[i], strlen(specials[i]), sid, 1, 0, err);
    }
    if (!s) {
        t->unk_id = wp_token_id(t, "[UNK]", 5);
        t->pre[0] = wp_token_id(t, "[CLS]", 5);
        t->post[0] = wp_token_id(t, "[SEP]", 5);
        t->n_pre = t->n_post = 1;
        if (t->unk_id < 0 || t->pre[0] < 0 || t->post[0] < 0)
            s = seam_fail(err, SEAM_ERR_FORMAT, "%s: the vocabulary lacks [UNK], [CLS] or [SEP]", path);
    }
    if (!s) s = build_id_table(t, err);
    if (s) { wp_close(t); return s; }
    find_pad(t);
    *out = t;
    return SEAM_OK;
}

seam_status wp_open_dir(const char *dir, wp_tokenizer **out, seam_error *err) {
    *out = NULL;
    char *json = seam_path_join(dir, "tokenizer.json"), *vocab = seam_path_join(dir, "vocab.txt");
    char *cfg = seam_path_join(dir, "tokenizer_config.json");
    seam_status s;
    if (!json || !vocab || !cfg) s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory");
    else if (seam_file_exists(json)) s = wp_open_json(json, out, err);
    else if (!seam_file_exists(vocab)) s = seam_fail(err, SEAM_ERR_IO, "%s has neither tokenizer.json nor vocab.txt", dir);
    else {
        wp_settings set = {1, 1, 1, 1, 1, 100};
        char *text = NULL, jerr[256];
        size_t len;
        s = SEAM_OK;
        if (seam_file_exists(cfg) && !(s = seam_read_file(cfg, 16u << 20, &text, &len, err))) {
            json_value *root = json_parse(text, len, jerr, sizeof jerr);
            int strip = -1;
            if (!root) s = seam_fail(err, SEAM_ERR_FORMAT, "%s: %s", cfg, jerr);
            else if (!(s = json_flag(root, "do_lower_case", 1, &set.lowercase, cfg, err)) &&
                     !(s = json_flag(root, "tokenize_chinese_chars", 1, &set.handle_chinese_chars, cfg, err)) &&
                     !(s = json_flag(root, "strip_accents", -1, &strip, cfg, err)))
                set.strip_accents = strip < 0 ? set.lowercase : strip;
            json_free(root);
            free(text);
        }
        if (!s) s = wp_open_vocab(vocab, &set, out, err);
    }
    free(json); free(vocab); free(cfg);
    return s;
}

/* ------------------------------------------------------------------ Unicode */

static int range_find(const wpu_range *r, size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid].lo) hi = mid;
        else if (cp > r[mid].hi) lo = mid + 1;
        else return r[mid].v;
    }
    return 0;
}

static int cp_class(uint32_t cp) { return range_find(wpu_classes, wpu_n_classes, cp); }

static const wpu_map *map_find(const wpu_map *m, size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < m[mid].cp) hi = mid;
        else if (cp > m[mid].cp) lo = mid + 1;
        else return &m[mid];
    }
    return NULL;
}

/* The reference's fixed list of CJK ideograph blocks. */
static int is_cjk(uint32_t c) {
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* One code point from s[0..n); ill-formed input gives U+FFFD for its maximal subpart. */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned c = s[0];
    if (c < 0x80) { *cp = c; return 1; }
    int len;
    unsigned lo = 0x80, hi = 0xBF;
    uint32_t v;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; v = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; v = c & 0x0F; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; v = c & 0x07; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
    else { *cp = 0xFFFD; return 1; }
    for (int i = 1; i < len; i++) {
        unsigned b = (size_t)i < n ? s[i] : 0;
        if ((size_t)i >= n || b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) { *cp = 0xFFFD; return (size_t)i; }
        v = (v << 6) | (b & 0x3F);
    }
    *cp = v;
    return (size_t)len;
}

static size_t utf8_put(uint32_t c, char *o) {
    if (c < 0x80) { o[0] = (char)c; return 1; }
    if (c < 0x800) { o[0] = (char)(0xC0 | (c >> 6)); o[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        o[0] = (char)(0xE0 | (c >> 12)); o[1] = (char)(0x80 | ((c >> 6) & 0x3F)); o[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (c >> 18)); o[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3F)); o[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* ------------------------------------------------------------------ encoding */

static void push_id(wp_work *w, int32_t id) {
    if (!grow((void **)&w->ids, &w->cap_ids, w->n_ids + 1, sizeof *w->ids)) { w->oom = 1; return; }
    w->ids[w->n_ids++] = id;
}

/* BertNormalizer over s[0..n) into w->text; returns its length. */
static size_t normalize(const wp_tokenizer *t, wp_work *w, const char *s, size_t n) {
    const wp_settings *st = &t->set;
    size_t na = 0;
    if (!grow((void **)&w->a, &w->cap_a, 3 * n + 1, sizeof(uint32_t))) { w->oom = 1; return 0; }
    for (size_t i = 0; i < n;) {
        uint32_t c;
        i += utf8_next((const unsigned char *)s + i, n - i, &c);
        if (st->clean_text) {
            int k = cp_class(c);
            if (k & WPU_REMOVE) continue;
            if (k & WPU_SPACE) c = ' ';
        }
        if (st->handle_chinese_chars && is_cjk(c)) { w->a[na++] = ' '; w->a[na++] = c; w->a[na++] = ' '; }
        else w->a[na++] = c;
    }
    uint32_t *cur = w->a;
    if (st->strip_accents) {
        size_t nb = 0;
        for (size_t i = 0; i < na; i++) {
            uint32_t c = w->a[i];
            if (!grow((void **)&w->b, &w->cap_b, nb + 32, sizeof(uint32_t))) { w->oom = 1; return 0; }
            const wpu_map *d;
            if (c >= 0xAC00 && c <= 0xD7A3) { /* Hangul syllables decompose arithmetically */
                uint32_t k = c - 0xAC00;
                w->b[nb++] = 0x1100 + k / 588;
                w->b[nb++] = 0x1161 + (k % 588) / 28;
                if (k % 28) w->b[nb++] = 0x11A7 + k % 28;
            } else if ((d = map_find(wpu_nfd, wpu_n_nfd, c))) {
                for (int j = 0; j < d->len; j++) w->b[nb++] = wpu_nfd_pool[d->off + j];
            } else w->b[nb++] = c;
        }
        /* Canonical ordering: a stable sort by combining class within each run of
         * non-starters (insertion sort; runs are short). Then drop the Mn marks. */
        for (size_t i = 1; i < nb; i++) {
            uint32_t c = w->b[i];
            int cc = range_find(wpu_ccc, wpu_n_ccc, c);
            if (!cc) continue;
            size_t j = i;
            while (j > 0) {
                int pc = range_find(wpu_ccc, wpu_n_ccc, w->b[j - 1]);
                if (pc <= cc) break;
                w->b[j] = w->b[j - 1];
                j--;
            }
            w->b[j] = c;
        }
        size_t k = 0;
        for (size_t i = 0; i < nb; i++)
            if (!(cp_class(w->b[i]) & WPU_MN)) w->b[k++] = w->b[i];
        na = k;
        cur = w->b;
    }
    if (!grow((void **)&w->text, &w->cap_text, 4 * 3 * na + 1, 1)) { w->oom = 1; return 0; }
    size_t len = 0;
    for (size_t i = 0; i < na; i++) {
        const wpu_map *l = st->lowercase ? map_find(wpu_lower, wpu_n_lower, cur[i]) : NULL;
        if (!l) len += utf8_put(cur[i], w->text + len);
        else
            for (int j = 0; j < l->len; j++) len += utf8_put(wpu_lower_pool[l->off + j], w->text + len);
    }
    return len;
}

/* WordPiece on one word: greedy longest match first, or [UNK] for the whole word. */
static void wordpiece(const wp_tokenizer *t, wp_work *w, const char *s, size_t n) {
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) chars += ((unsigned char)s[i] & 0xC0) != 0x80;
    if (chars > (size_t)t->set.max_input_chars_per_word) { push_id(w, t->unk_id); return; }
    if (!grow((void **)&w->key, &w->cap_key, t->prefix_len + n + 1, 1)) { w->oom = 1; return; }
    memcpy(w->key, t->prefix, t->prefix_len);
    size_t first = w->n_ids;
    for (size_t start = 0; start < n;) {
        size_t end = n;
        int32_t id = -1;
        while (start < end) {
            size_t kl = end - start;
            const char *key = s + start;
            if (start > 0) {
                memcpy(w->key + t->prefix_len, s + start, kl);
                key = w->key;
                kl += t->prefix_len;
            }
            if ((id = wp_token_id(t, key, kl)) >= 0) break;
            do end--; while (end > start && ((unsigned char)s[end] & 0xC0) == 0x80);
        }
        if (id < 0) { w->n_ids = first; push_id(w, t->unk_id); return; }
        push_id(w, id);
        start = end;
    }
}

/* BertPreTokenizer: whitespace separates words, each punctuation mark is a word. */
static void pretok_and_model(const wp_tokenizer *t, wp_work *w, const char *s, size_t n) {
    if (!t->set.split_words) { if (n) wordpiece(t, w, s, n); return; }
    size_t word = 0;
    for (size_t i = 0; i < n && !w->oom;) {
        uint32_t c;
        size_t l = utf8_next((const unsigned char *)s + i, n - i, &c);
        int k = cp_class(c);
        if (k & (WPU_SPACE | WPU_PUNCT)) {
            if (i > word) wordpiece(t, w, s + word, i - word);
            if (k & WPU_PUNCT && !(k & WPU_SPACE)) wordpiece(t, w, s + i, l);
            word = i + l;
        }
        i += l;
    }
    if (n > word && !w->oom) wordpiece(t, w, s + word, n - word);
}

static int word_byte(unsigned char c) {
    return c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z');
}
static int space_byte(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

/* Leftmost-longest match of an added token (of the given normalized flag) in s[from..n). */
static int find_added(const wp_tokenizer *t, int normalized, const char *s, size_t from, size_t n, size_t *ms, size_t *me,
                      int32_t *id) {
    for (size_t i = from; i < n; i++) {
        const wp_added *best = NULL;
        for (size_t a = 0; a < t->n_added; a++) {
            const wp_added *ad = &t->added[a];
            size_t ml = ad->match_len;
            if (ad->normalized != normalized || !ml || ml > n - i || (best && ml <= best->match_len)) continue;
            if (memcmp(s + i, ad->match, ml) != 0) continue;
            if (ad->single_word && ((i > 0 && word_byte((unsigned char)s[i - 1])) || (i + ml < n && word_byte((unsigned char)s[i + ml]))))
                continue;
            best = ad;
        }
        if (!best) continue;
        size_t a = i, b = i + best->match_len;
        if (best->lstrip) while (a > from && space_byte((unsigned char)s[a - 1])) a--;
        if (best->rstrip) while (b < n && space_byte((unsigned char)s[b])) b++;
        *ms = a;
        *me = b;
        *id = best->id;
        return 1;
    }
    return 0;
}

static void encode_normalized(const wp_tokenizer *t, wp_work *w, const char *s, size_t n) {
    size_t pos = 0, ms, me;
    int32_t id;
    while (!w->oom && find_added(t, 1, s, pos, n, &ms, &me, &id)) {
        pretok_and_model(t, w, s + pos, ms - pos);
        push_id(w, id);
        pos = me;
    }
    if (!w->oom) pretok_and_model(t, w, s + pos, n - pos);
}

static void encode_raw_piece(const wp_tokenizer *t, wp_work *w, const char *s, size_t n) {
    if (!n) return;
    size_t len = normalize(t, w, s, n);
    if (w->oom) return;
    /* encode_normalized reads w->text while wordpiece only touches w->key and w->ids */
    encode_normalized(t, w, w->text, len);
}

seam_status wp_encode(const wp_tokenizer *t, const char *text, size_t len, int add_special, size_t max_len,
                      int32_t *ids, size_t cap, size_t *n_ids, int *truncated, seam_error *err) {
    *n_ids = 0;
    if (truncated) *truncated = 0;
    if (!text && len) return seam_fail(err, SEAM_ERR_ARG, "no text given");
    size_t n_pre = add_special ? t->n_pre : 0, n_post = add_special ? t->n_post : 0;
    if (max_len && max_len < n_pre + n_post)
        return seam_fail(err, SEAM_ERR_ARG, "max length %zu cannot hold the %zu special tokens", max_len, n_pre + n_post);
    wp_work w;
    memset(&w, 0, sizeof w);
    size_t pos = 0, ms, me;
    int32_t id;
    while (!w.oom && find_added(t, 0, text, pos, len, &ms, &me, &id)) {
        encode_raw_piece(t, &w, text + pos, ms - pos);
        push_id(&w, id);
        pos = me;
    }
    if (!w.oom) encode_raw_piece(t, &w, text + pos, len - pos);
    seam_status s = SEAM_OK;
    if (w.oom) s = seam_fail(err, SEAM_ERR_NOMEM, "out of memory tokenizing %zu bytes", len);
    else {
        size_t body = w.n_ids;
        if (max_len && n_pre + body + n_post > max_len) {
            body = max_len - n_pre - n_post;
            if (truncated) *truncated = 1;
        }
        size_t k = 0;
#define PUT(x) do { if (k < cap) ids[k] = (x); k++; } while (0)
        for (size_t i = 0; i < n_pre; i++) PUT(t->pre[i]);
        for (size_t i = 0; i < body; i++) PUT(w.ids[i]);
        for (size_t i = 0; i < n_post; i++) PUT(t->post[i]);
#undef PUT
        *n_ids = k;
        if (k > cap) s = seam_fail(err, SEAM_ERR_RANGE, "%zu ids do not fit in a buffer of %zu", k, cap);
    }
    free(w.a); free(w.b); free(w.text); free(w.key); free(w.ids);
    return s;
}

/* ------------------------------------------------------------------ accessors, decoding */

size_t wp_special_prefix(const wp_tokenizer *t, const int32_t **ids) { *ids = t->pre; return t->n_pre; }
size_t wp_special_suffix(const wp_tokenizer *t, const int32_t **ids) { *ids = t->post; return t->n_post; }
int wp_vocab_size(const wp_tokenizer *t) { return t->n_ids; }
int32_t wp_unk_id(const wp_tokenizer *t) { return t->unk_id; }
int32_t wp_pad_id(const wp_tokenizer *t) { return t->pad_id; }
const wp_settings *wp_get_settings(const wp_tokenizer *t) { return &t->set; }

const char *wp_token_text(const wp_tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_ids || t->id_entry[id] < 0) return NULL;
    int32_t e = t->id_entry[id];
    if (len) *len = t->e_len[e];
    return t->arena + t->e_off[e];
}

static int is_special_id(const wp_tokenizer *t, int32_t id) {
    for (size_t a = 0; a < t->n_added; a++)
        if (t->added[a].id == id && t->added[a].special) return 1;
    return 0;
}

/* The reference's cleanup, applied to each token string after it gets its leading space. */
static size_t cleanup(char *s, size_t n) {
    static const char *const from[] = {" .", " ?", " !", " ,", " ' ", " n't", " 'm", " do not", " 's", " 've", " 're"};
    static const char *const to[] = {".", "?", "!", ",", "'", "n't", "'m", " don't", "'s", "'ve", "'re"};
    for (size_t r = 0; r < sizeof from / sizeof from[0]; r++) {
        size_t fl = strlen(from[r]), tl = strlen(to[r]), k = 0;
        for (size_t i = 0; i < n;) {
            if (i + fl <= n && memcmp(s + i, from[r], fl) == 0) { memmove(s + k, to[r], tl); k += tl; i += fl; }
            else s[k++] = s[i++];
        }
        n = k;
    }
    return n;
}

size_t wp_decode(const wp_tokenizer *t, const int32_t *ids, size_t n, int skip_special, char *out, size_t cap) {
    size_t need = 0, kept = 0, pl = strlen(t->decode_prefix);
    char buf[1100];
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *tok = wp_token_text(t, ids[i], &len);
        if (!tok || (skip_special && is_special_id(t, ids[i]))) continue;
        size_t bl = 0;
        if (kept++ > 0 && t->decode_wordpiece && len >= pl && memcmp(tok, t->decode_prefix, pl) == 0) { tok += pl; len -= pl; }
        else if (kept > 1) buf[bl++] = ' ';
        memcpy(buf + bl, tok, len);
        bl += len;
        if (t->decode_wordpiece && t->decode_cleanup) bl = cleanup(buf, bl);
        for (size_t k = 0; k < bl; k++, need++)
            if (need + 1 < cap) out[need] = buf[k];
    }
    if (cap) out[need < cap ? need : cap - 1] = 0;
    return need;
}
