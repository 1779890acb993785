/* Byte-level BPE, as GPT-2 and Hugging Face tokenizers' ByteLevel + BPE pipeline do it.
 *
 * Text is cut into pre-tokens (pretok.c); each pre-token's bytes become symbols (the ids of
 * the one-character tokens of GPT-2's byte alphabet) and adjacent pairs are merged, lowest
 * merge rank first, leftmost first on ties, until no pair has a merge. Merges are looked up
 * by (left id, right id) in a flat hash table; the merge loop keeps a binary heap of
 * candidate pairs over a linked list of symbols (O(n log n), so a 1 MB word without spaces
 * is no problem). Words already seen hit a fixed-size cache first. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"
#include "util/error.h"

/* ------------------------------------------------------------------ byte alphabet */

/* GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves and the other
 * 68 bytes are moved, in byte order, to U+0100..U+0143, so that every token is printable. */
static uint32_t byte_to_cp(unsigned b) {
    if ((b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174) return b;
    if (b <= 32) return 256 + b;
    if (b <= 160) return 256 + 33 + (b - 127);
    return 256 + 67; /* 173, the soft hyphen */
}

static int cp_to_byte(uint32_t cp) {
    if ((cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 172) || (cp >= 174 && cp <= 255)) return (int)cp;
    if (cp >= 256 && cp <= 288) return (int)(cp - 256);
    if (cp >= 289 && cp <= 322) return (int)(cp - 289 + 127);
    if (cp == 323) return 173;
    return -1;
}

long bpe_unmap_bytes(const char *s, size_t len, char *out) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, o = 0;
    while (i < len) {
        uint32_t cp;
        i += utf8_step(u + i, len - i, &cp);
        int b = cp == UTF8_INVALID ? -1 : cp_to_byte(cp);
        if (b < 0) return -1;
        out[o++] = (char)b;
    }
    return (long)o;
}

/* ------------------------------------------------------------------ model */

typedef struct {
    uint64_t key; /* left id << 32 | right id */
    uint32_t rank;
    int32_t id;   /* the merged token */
} merge_slot;
#define MERGE_EMPTY UINT64_MAX

typedef struct {
    int32_t id; /* -1 once merged into its left neighbour */
    int32_t prev, next;
} bpe_sym;

typedef struct {
    uint32_t rank;
    int32_t pos; /* left symbol of the pair */
    int32_t id;  /* what the pair merges into, to recognise stale entries */
} bpe_item;

/* Word cache: direct-mapped, so its size is fixed whatever the input. Words longer than
 * the key or splitting into more ids than fit are simply recomputed each time. */
#define CACHE_SLOTS (1u << 14)
#define CACHE_KEY_MAX 26
#define CACHE_IDS_MAX 8
typedef struct {
    uint32_t hash;
    uint8_t klen, nids;
    char key[CACHE_KEY_MAX];
    int32_t ids[CACHE_IDS_MAX];
} cache_slot;
_Static_assert(sizeof(cache_slot) == 64, "a cache slot should fill one cache line");

/* Everything an encode call writes. One lives in the model and is taken with an atomic
 * flag; a thread that finds it taken makes a temporary one (without cache), so a shared
 * tokenizer stays thread-safe without a lock on the fast path. */
typedef struct {
    atomic_flag busy;
    bpe_sym *syms;
    size_t syms_cap;
    bpe_item *heap;
    size_t heap_cap;
    char *pre; /* the text with a prefix space (add_prefix_space) */
    size_t pre_cap;
    char *word; /* byte-level spelling of a word (ignore_merges, building merges) */
    size_t word_cap;
    cache_slot *cache;
} bpe_scratch;

typedef struct {
    const tok_vocab *vocab;
    int32_t byte_id[256]; /* id of each byte's one-character token, -1 if absent */
    merge_slot *merges;
    size_t merge_mask;
    unsigned merge_shift;
    int add_prefix_space;
    int ignore_merges;
    int fuse_unk;
    int32_t unk_id; /* -1: bytes without a token are dropped, as the reference does */
    bpe_scratch *shared;
} bpe_model;

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 1;
    if (need > SIZE_MAX / 2 / elem) return 0; /* keeps n * elem below from wrapping (wasm32) */
    size_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q) return 0;
    *p = q;
    *cap = n;
    return 1;
}

static void scratch_free(bpe_scratch *s) {
    if (!s) return;
    free(s->syms);
    free(s->heap);
    free(s->pre);
    free(s->word);
    free(s->cache);
    free(s);
}

static void bpe_free(void *p) {
    bpe_model *m = p;
    if (!m) return;
    free(m->merges);
    scratch_free(m->shared);
    free(m);
}

static inline size_t merge_hash(const bpe_model *m, uint64_t key) {
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> m->merge_shift);
}

static inline const merge_slot *merge_find(const bpe_model *m, int32_t a, int32_t b) {
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    for (size_t i = merge_hash(m, key);; i = (i + 1) & m->merge_mask) {
        const merge_slot *s = &m->merges[i];
        if (s->key == key) return s;
        if (s->key == MERGE_EMPTY) return NULL;
    }
}

static seam_status bpe_create(seam_tokenizer *t, size_t n_merges, bpe_model **out, seam_error *err) {
    bpe_model *m = calloc(1, sizeof *m);
    if (!m) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory for the BPE model");
    m->vocab = &t->vocab;
    m->unk_id = -1;
    unsigned bits = 4;
    while (((size_t)1 << bits) < 2 * n_merges + 16) bits++;
    m->merge_mask = ((size_t)1 << bits) - 1;
    m->merge_shift = 64 - bits;
    m->merges = malloc((m->merge_mask + 1) * sizeof *m->merges);
    m->shared = calloc(1, sizeof *m->shared);
    if (m->shared) {
        /* Line-aligned, so a lookup touches one cache line: this doubles throughput. */
        m->shared->cache = aligned_alloc(64, CACHE_SLOTS * sizeof(cache_slot));
        if (m->shared->cache) memset(m->shared->cache, 0, CACHE_SLOTS * sizeof(cache_slot));
    }
    if (!m->merges || !m->shared || !m->shared->cache) {
        bpe_free(m);
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory for the BPE model");
    }
    atomic_flag_clear(&m->shared->busy);
    for (size_t i = 0; i <= m->merge_mask; i++) m->merges[i].key = MERGE_EMPTY;
    for (unsigned b = 0; b < 256; b++) {
        char u[4];
        size_t n = utf8_put(byte_to_cp(b), u);
        m->byte_id[b] = tok_vocab_find(&t->vocab, u, n);
    }
    *out = m;
    return SEAM_OK;
}

/* Adds merge "a b" with the given rank. Returns 0, -1 when out of memory, or 1 with
 * *missing naming the token (a, b or their concatenation) absent from the vocabulary. */
static int bpe_add_merge(bpe_model *m, const char *a, size_t la, const char *b, size_t lb, uint32_t rank,
                         const char **missing, size_t *missing_len) {
    int32_t ia = tok_vocab_find(m->vocab, a, la), ib = tok_vocab_find(m->vocab, b, lb);
    bpe_scratch *sc = m->shared;
    if (ia < 0 || ib < 0) {
        *missing = ia < 0 ? a : b;
        *missing_len = ia < 0 ? la : lb;
        return 1;
    }
    if (!grow((void **)&sc->word, &sc->word_cap, la + lb, 1)) return -1;
    memcpy(sc->word, a, la);
    memcpy(sc->word + la, b, lb);
    int32_t ij = tok_vocab_find(m->vocab, sc->word, la + lb);
    if (ij < 0) {
        *missing = sc->word;
        *missing_len = la + lb;
        return 1;
    }
    uint64_t key = ((uint64_t)(uint32_t)ia << 32) | (uint32_t)ib;
    size_t i = merge_hash(m, key);
    while (m->merges[i].key != MERGE_EMPTY && m->merges[i].key != key) i = (i + 1) & m->merge_mask;
    /* A pair listed twice keeps its later rank, as the reference's hash map does. */
    m->merges[i] = (merge_slot){key, rank, ij};
    return 0;
}

/* ------------------------------------------------------------------ encoding */

static inline int item_less(bpe_item a, bpe_item b) {
    return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos);
}

static void heap_push(bpe_item *h, size_t *n, bpe_item it) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!item_less(it, h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = it;
}

static bpe_item heap_pop(bpe_item *h, size_t *n) {
    bpe_item top = h[0], last = h[--*n];
    size_t i = 0, m = *n;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m) break;
        if (c + 1 < m && item_less(h[c + 1], h[c])) c++;
        if (!item_less(h[c], last)) break;
        h[i] = h[c];
        i = c;
    }
    if (m) h[i] = last;
    return top;
}

static inline void push_pair(const bpe_model *m, bpe_scratch *sc, size_t *hn, int32_t pos) {
    const bpe_sym *a = &sc->syms[pos];
    const merge_slot *ms = merge_find(m, a->id, sc->syms[a->next].id);
    if (ms) heap_push(sc->heap, hn, (bpe_item){ms->rank, pos, ms->id});
}

static inline uint32_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001B3ull;
    return (uint32_t)(h ^ (h >> 32));
}

static seam_status encode_word(const bpe_model *m, bpe_scratch *sc, const char *w, size_t n, tok_sink *out,
                               seam_error *err) {
    cache_slot *slot = NULL;
    uint32_t h = 0;
    if (sc->cache && n <= CACHE_KEY_MAX) {
        h = hash_bytes(w, n);
        slot = &sc->cache[h & (CACHE_SLOTS - 1)];
        if (slot->klen == n && slot->hash == h && memcmp(slot->key, w, n) == 0) {
            for (unsigned k = 0; k < slot->nids; k++) tok_sink_push(out, slot->ids[k]);
            return SEAM_OK;
        }
    }
    if (n > INT32_MAX / 4) return seam_fail(err, SEAM_ERR_RANGE, "a single word of %zu bytes is too long", n);
    if (!grow((void **)&sc->syms, &sc->syms_cap, n, sizeof *sc->syms) ||
        !grow((void **)&sc->heap, &sc->heap_cap, 3 * n, sizeof *sc->heap))
        return seam_fail(err, SEAM_ERR_NOMEM, "out of memory encoding a word of %zu bytes", n);

    bpe_sym *sy = sc->syms;
    int32_t ns = 0;
    if (m->ignore_merges) {
        /* The whole word as one vocabulary entry wins over merging. */
        if (!grow((void **)&sc->word, &sc->word_cap, 2 * n, 1))
            return seam_fail(err, SEAM_ERR_NOMEM, "out of memory encoding a word of %zu bytes", n);
        size_t len = 0;
        for (size_t i = 0; i < n; i++) len += utf8_put(byte_to_cp((unsigned char)w[i]), sc->word + len);
        int32_t id = tok_vocab_find(m->vocab, sc->word, len);
        if (id >= 0) {
            sy[ns++] = (bpe_sym){id, -1, -1};
            goto emit;
        }
    }
    int last_unk = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = m->byte_id[(unsigned char)w[i]];
        if (id < 0) {
            if (m->unk_id < 0 || (m->fuse_unk && last_unk)) continue;
            id = m->unk_id;
            last_unk = 1;
        } else {
            last_unk = 0;
        }
        sy[ns] = (bpe_sym){id, ns - 1, ns + 1};
        ns++;
    }
    if (ns == 0) goto emit;
    sy[ns - 1].next = -1;

    size_t hn = 0;
    for (int32_t i = 0; i + 1 < ns; i++) push_pair(m, sc, &hn, i);
    while (hn > 0) {
        bpe_item top = heap_pop(sc->heap, &hn);
        bpe_sym *a = &sy[top.pos];
        if (a->id < 0 || a->next < 0) continue;
        bpe_sym *b = &sy[a->next];
        const merge_slot *ms = merge_find(m, a->id, b->id);
        if (!ms || ms->id != top.id) continue; /* the pair changed since it was queued */
        a->id = top.id;
        b->id = -1;
        a->next = b->next;
        if (a->next >= 0) sy[a->next].prev = top.pos;
        if (a->prev >= 0) push_pair(m, sc, &hn, a->prev);
        if (a->next >= 0) push_pair(m, sc, &hn, top.pos);
    }

emit:;
    unsigned nids = 0;
    for (int32_t i = ns ? 0 : -1; i >= 0; i = sy[i].next) {
        tok_sink_push(out, sy[i].id);
        if (slot && nids < CACHE_IDS_MAX) slot->ids[nids] = sy[i].id;
        nids++;
    }
    if (slot && nids <= CACHE_IDS_MAX) {
        slot->hash = h;
        slot->klen = (uint8_t)n;
        slot->nids = (uint8_t)nids;
        memcpy(slot->key, w, n);
    } else if (slot) {
        slot->klen = 0; /* its ids were overwritten above */
    }
    return SEAM_OK;
}

static seam_status encode_text(const bpe_model *m, bpe_scratch *sc, const char *text, size_t len, tok_sink *out,
                               seam_error *err) {
    if (m->add_prefix_space && len > 0 && text[0] != ' ') {
        if (len == SIZE_MAX || !grow((void **)&sc->pre, &sc->pre_cap, len + 1, 1))
            return seam_fail(err, SEAM_ERR_NOMEM, "out of memory for %zu bytes of text", len);
        sc->pre[0] = ' ';
        memcpy(sc->pre + 1, text, len);
        text = sc->pre;
        len++;
    }
    for (size_t pos = 0; pos < len;) {
        size_t end = gpt2_pretok_next(text, len, pos);
        seam_status st = encode_word(m, sc, text + pos, end - pos, out, err);
        if (st != SEAM_OK) return st;
        pos = end;
    }
    return SEAM_OK;
}

static seam_status bpe_encode(const void *model, const char *text, size_t len, tok_sink *out, seam_error *err) {
    const bpe_model *m = model;
    bpe_scratch *sc = m->shared;
    int own = atomic_flag_test_and_set_explicit(&sc->busy, memory_order_acquire);
    if (own) {
        sc = calloc(1, sizeof *sc);
        if (!sc) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory for tokenizer scratch");
    }
    seam_status st = encode_text(m, sc, text, len, out, err);
    if (own) scratch_free(sc);
    else atomic_flag_clear_explicit(&sc->busy, memory_order_release);
    return st;
}

static const tok_model_ops bpe_ops = {TOK_MODEL_BPE, "BPE", bpe_encode, bpe_free, NULL};

static void bpe_install(seam_tokenizer *t, bpe_model *m) {
    t->ops = &bpe_ops;
    t->model = m;
    t->decoder = TOK_DECODE_BYTE_LEVEL;
}

/* ------------------------------------------------------------------ tokenizer.json */

static int absent(const json_value *v) { return !v || v->type == JSON_NULL; }

/* The "type" of a pipeline component, or NULL when it has none. */
static const char *component_type(const json_value *v) {
    return v && v->type == JSON_OBJECT ? json_get_string(v, "type") : NULL;
}

/* Reads an optional boolean member: 1 on success (default kept when absent or null). */
static int opt_bool(const json_value *obj, const char *key, int *out) {
    const json_value *v = json_get(obj, key);
    if (absent(v)) return 1;
    if (v->type != JSON_BOOL) return 0;
    *out = v->boolean;
    return 1;
}

/* Refuses pipeline parts that would change the ids or text and that seam does not run. */
static seam_status check_pipeline(const json_value *root, const char *path, int *add_prefix_space,
                                  seam_error *err) {
    const json_value *norm = json_get(root, "normalizer");
    if (!absent(norm))
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: normalizer \"%s\" is not supported with BPE", path,
                         component_type(norm) ? component_type(norm) : "?");

    const json_value *pre = json_get(root, "pre_tokenizer");
    const char *pt = component_type(pre);
    if (absent(pre) || !pt || strcmp(pt, "ByteLevel") != 0)
        return seam_fail(err, SEAM_ERR_UNSUPPORTED,
                         "%s: pre_tokenizer %s is not supported (only ByteLevel, as in GPT-2)", path,
                         absent(pre) ? "null" : pt ? pt : "without a type");
    int use_regex = 1;
    *add_prefix_space = 1; /* the reference's default when the field is missing */
    if (!opt_bool(pre, "use_regex", &use_regex) || !opt_bool(pre, "add_prefix_space", add_prefix_space))
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: pre_tokenizer use_regex/add_prefix_space must be booleans",
                         path);
    if (!use_regex)
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: ByteLevel pre_tokenizer with use_regex=false is not supported",
                         path);

    static const char *const parts[2] = {"decoder", "post_processor"};
    for (int i = 0; i < 2; i++) {
        const json_value *v = json_get(root, parts[i]);
        const char *ty = component_type(v);
        if (!absent(v) && (!ty || strcmp(ty, "ByteLevel") != 0))
            return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: %s %s is not supported (only ByteLevel)", path, parts[i],
                             ty ? ty : "without a type");
    }
    return SEAM_OK;
}

/* Refuses BPE options that change the result and are not implemented. */
static seam_status check_model_options(bpe_model *m, const json_value *model, const seam_tokenizer *t,
                                       const char *path, seam_error *err) {
    const json_value *v = json_get(model, "dropout");
    if (!absent(v) && (v->type != JSON_NUMBER || v->number != 0.0))
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: BPE dropout is not supported", path);
    static const char *const affixes[2] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        v = json_get(model, affixes[i]);
        if (!absent(v) && (v->type != JSON_STRING || v->len != 0))
            return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: BPE %s is not supported", path, affixes[i]);
    }
    int byte_fallback = 0;
    if (!opt_bool(model, "byte_fallback", &byte_fallback) || !opt_bool(model, "fuse_unk", &m->fuse_unk) ||
        !opt_bool(model, "ignore_merges", &m->ignore_merges))
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: BPE byte_fallback/fuse_unk/ignore_merges must be booleans", path);
    if (byte_fallback) return seam_fail(err, SEAM_ERR_UNSUPPORTED, "%s: BPE byte_fallback is not supported", path);
    v = json_get(model, "unk_token");
    if (!absent(v)) {
        if (v->type != JSON_STRING) return seam_fail(err, SEAM_ERR_FORMAT, "%s: model.unk_token must be a string", path);
        m->unk_id = tok_vocab_find(&t->vocab, v->str, v->len);
        if (m->unk_id < 0) {
            char q[64];
            return seam_fail(err, SEAM_ERR_FORMAT, "%s: model.unk_token %s is not in the vocabulary", path,
                             tok_quote(q, sizeof q, v->str, v->len));
        }
    }
    return SEAM_OK;
}

static seam_status merge_error(int rc, const char *path, const char *what, size_t index, const char *missing,
                               size_t missing_len, seam_error *err) {
    if (rc < 0) return seam_fail(err, SEAM_ERR_NOMEM, "out of memory reading the merges of %s", path);
    char q[64];
    return seam_fail(err, SEAM_ERR_FORMAT, "%s: %s %zu uses %s, which is not in the vocabulary", path, what, index,
                     tok_quote(q, sizeof q, missing, missing_len));
}

/* Splits "a b" at its one space; 0 when it does not have exactly one, between two tokens. */
static int split_merge(const char *s, size_t len, size_t *sp) {
    const char *p = memchr(s, ' ', len);
    if (!p || p == s || p == s + len - 1 || memchr(p + 1, ' ', len - (size_t)(p - s) - 1)) return 0;
    *sp = (size_t)(p - s);
    return 1;
}

seam_status bpe_load_json(seam_tokenizer *t, const json_value *root, const char *path, seam_error *err) {
    int add_prefix_space = 1;
    seam_status st = check_pipeline(root, path, &add_prefix_space, err);
    if (st != SEAM_OK) return st;
    const json_value *model = json_get(root, "model");
    const json_value *merges = json_get(model, "merges");
    if (!merges || merges->type != JSON_ARRAY)
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: model.merges is missing or not an array", path);
    if (merges->len > UINT32_MAX / 2)
        return seam_fail(err, SEAM_ERR_FORMAT, "%s: too many merges (%zu)", path, merges->len);

    bpe_model *m;
    st = bpe_create(t, merges->len, &m, err);
    if (st != SEAM_OK) return st;
    m->add_prefix_space = add_prefix_space;
    st = check_model_options(m, model, t, path, err);
    for (size_t i = 0; st == SEAM_OK && i < merges->len; i++) {
        const json_value *e = &merges->items[i];
        const char *a = NULL, *b = NULL;
        size_t la = 0, lb = 0, sp;
        if (e->type == JSON_STRING && split_merge(e->str, e->len, &sp)) {
            a = e->str, la = sp, b = e->str + sp + 1, lb = e->len - sp - 1;
        } else if (e->type == JSON_ARRAY && e->len == 2 && e->items[0].type == JSON_STRING &&
                   e->items[1].type == JSON_STRING) {
            a = e->items[0].str, la = e->items[0].len, b = e->items[1].str, lb = e->items[1].len;
        } else {
            st = seam_fail(err, SEAM_ERR_FORMAT, "%s: model.merges[%zu] is not \"a b\" or [\"a\", \"b\"]", path, i);
            break;
        }
        const char *missing;
        size_t missing_len;
        int rc = bpe_add_merge(m, a, la, b, lb, (uint32_t)i, &missing, &missing_len);
        if (rc != 0) st = merge_error(rc, path, "model.merges entry", i, missing, missing_len, err);
    }
    if (st != SEAM_OK) {
        bpe_free(m);
        return st;
    }
    bpe_install(t, m);
    return SEAM_OK;
}

/* ------------------------------------------------------------------ merges.txt */

seam_status bpe_load_merges_txt(seam_tokenizer *t, const char *text, size_t len, const char *path,
                                seam_error *err) {
    size_t n_lines = 1;
    for (const char *p = text; (p = memchr(p, '\n', len - (size_t)(p - text))) != NULL; p++) n_lines++;
    bpe_model *m;
    seam_status st = bpe_create(t, n_lines, &m, err);
    if (st != SEAM_OK) return st;
    /* GPT-2's own settings; the folder has no file that could say otherwise. */
    m->add_prefix_space = 0;

    size_t pos = 0, line_no = 0;
    uint32_t rank = 0;
    while (st == SEAM_OK && pos < len) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - line) : len - pos;
        pos += ll + (nl ? 1 : 0);
        line_no++;
        if (ll > 0 && line[ll - 1] == '\r') ll--;
        if (ll >= 8 && memcmp(line, "#version", 8) == 0) continue;
        if (ll == 0) {
            /* Blank lines are tolerated only at the very end. */
            size_t k = pos;
            while (k < len && (text[k] == '\n' || text[k] == '\r')) k++;
            if (k == len) break;
            st = seam_fail(err, SEAM_ERR_FORMAT, "%s: line %zu is empty", path, line_no);
            break;
        }
        size_t sp;
        if (!split_merge(line, ll, &sp)) {
            st = seam_fail(err, SEAM_ERR_FORMAT, "%s: line %zu is not two tokens separated by one space", path,
                           line_no);
            break;
        }
        const char *missing;
        size_t missing_len;
        int rc = bpe_add_merge(m, line, sp, line + sp + 1, ll - sp - 1, rank++, &missing, &missing_len);
        if (rc != 0) st = merge_error(rc, path, "line", line_no, missing, missing_len, err);
    }
    if (st != SEAM_OK) {
        bpe_free(m);
        return st;
    }
    bpe_install(t, m);
    return SEAM_OK;
}
