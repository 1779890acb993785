/* BERT sentence encoders and the WordPiece tokenizer, against references made with
 * transformers / sentence-transformers / tokenizers (fixtures). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format/safetensors.h"
#include "kernels/kernels.h"
#include "model/bert.h"
#include "model/model.h"
#include "seam.h"
#include "seam_encoder.h"
#include "test.h"
#include "tokenizer/wordpiece.h"
#include "util/error.h"
#include "util/json.h"

/* ------------------------------------------------------------------ WordPiece */

/* Every golden line through t: identical ids, and (when check_decode) the decoded text. */
static void check_golden(const wp_tokenizer *t, int check_decode, const char *what) {
    char *text = NULL;
    size_t len = 0;
    seam_error err = {0};
    CHECKF(seam_read_file(fixture("tokenizer-golden/bert-uncased-shared.jsonl"), 64u << 20, &text, &len, &err) == SEAM_OK,
           "%s", err.message);
    int lines = 0, bad = 0;
    int32_t *ids = malloc(65536 * sizeof *ids);
    char *dec = malloc(1 << 20);
    for (char *p = text, *nl; p < text + len; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(text + len - p));
        if (!nl) nl = text + len;
        if (nl == p) continue;
        char jerr[128];
        json_value *v = json_parse(p, (size_t)(nl - p), jerr, sizeof jerr);
        const json_value *tx = v ? json_get(v, "text") : NULL, *want = v ? json_get(v, "ids") : NULL;
        const char *want_dec = v ? json_get_string(v, "decoded") : NULL;
        lines++;
        if (!tx || !want || want->type != JSON_ARRAY) { bad++; test_fail(__FILE__, __LINE__, "line %d unreadable", lines); json_free(v); continue; }
        size_t n = 0;
        seam_status s = wp_encode(t, tx->str, tx->len, 1, 0, ids, 65536, &n, NULL, &err);
        int same = s == SEAM_OK && n == want->len;
        for (size_t i = 0; same && i < n; i++) same = ids[i] == want->items[i].integer;
        if (!same && bad++ < 5) {
            char got[256] = "";
            size_t k = 0;
            for (size_t i = 0; i < n && k < 200; i++) k += (size_t)snprintf(got + k, sizeof got - k, "%d,", (int)ids[i]);
            test_fail(__FILE__, __LINE__, "%s line %d %.60s: got [%s] (%zu ids, want %zu)", what, lines, tx->str, got, n, want->len);
        }
        if (same && check_decode && want_dec) {
            wp_decode(t, ids, n, 0, dec, 1 << 20);
            if (strcmp(dec, want_dec) != 0 && bad++ < 5)
                test_fail(__FILE__, __LINE__, "%s line %d decoded '%.80s', want '%.80s'", what, lines, dec, want_dec);
        }
        json_free(v);
    }
    free(ids);
    free(dec);
    free(text);
    CHECKF(lines == 400, "%d golden lines", lines);
    CHECKF(bad == 0, "%s: %d of %d lines differ", what, bad, lines);
}

TEST(test_bert_wordpiece_golden_tokenizer_json) {
    seam_error err = {0};
    wp_tokenizer *t = NULL;
    CHECKF(wp_open_json(fixture("tok/bert-base-uncased/tokenizer.json"), &t, &err) == SEAM_OK, "%s", err.message);
    CHECK(wp_vocab_size(t) == 30522);
    check_golden(t, 1, "tokenizer.json");
    wp_close(t);
}

static int copy_file(const char *from, const char *to) {
    char *buf = NULL;
    size_t n = 0;
    seam_error err = {0};
    if (seam_read_file(from, 1u << 30, &buf, &n, &err)) return 0;
    FILE *f = fopen(to, "wb");
    int ok = f && fwrite(buf, 1, n, f) == n;
    if (f) ok &= fclose(f) == 0;
    free(buf);
    return ok;
}

TEST(test_bert_wordpiece_golden_vocab_txt) {
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab.txt", test_tmpdir());
    CHECK(copy_file(fixture("tok/bert-base-uncased/vocab.txt"), path));
    seam_error err = {0};
    wp_tokenizer *t = NULL;
    CHECKF(wp_open_vocab(path, NULL, &t, &err) == SEAM_OK, "%s", err.message);
    check_golden(t, 1, "vocab.txt");
    wp_close(t);
    /* the folder form finds vocab.txt when there is no tokenizer.json */
    char *dir = strdup(path);
    *strrchr(dir, '/') = 0;
    CHECKF(wp_open_dir(dir, &t, &err) == SEAM_OK, "%s", err.message);
    free(dir);
    check_golden(t, 0, "vocab.txt folder");
    wp_close(t);
}

TEST(test_bert_wordpiece_details) {
    seam_error err = {0};
    wp_tokenizer *t = NULL;
    CHECKF(wp_open_json(fixture("tok/bert-base-uncased/tokenizer.json"), &t, &err) == SEAM_OK, "%s", err.message);
    int32_t ids[256];
    size_t n = 0;
    int tr = 0;
    /* special tokens in the text are recognised; truncation keeps [SEP] last */
    CHECK(wp_encode(t, "a [MASK] b", 10, 1, 0, ids, 256, &n, &tr, &err) == SEAM_OK);
    CHECK(n == 5 && ids[0] == 101 && ids[2] == 103 && ids[4] == 102 && !tr);
    CHECK(wp_encode(t, "one two three four five", 23, 1, 4, ids, 256, &n, &tr, &err) == SEAM_OK);
    CHECK(n == 4 && tr && ids[0] == 101 && ids[3] == 102);
    CHECK(wp_encode(t, "one", 3, 1, 1, ids, 256, &n, &tr, &err) == SEAM_ERR_ARG);
    /* a small buffer reports the size needed */
    CHECK(wp_encode(t, "hello world", 11, 1, 0, ids, 2, &n, NULL, &err) == SEAM_ERR_RANGE && n == 4);
    /* a 101-character word is [UNK]; 100 is not */
    char word[102];
    memset(word, 'a', 101);
    CHECK(wp_encode(t, word, 101, 0, 0, ids, 256, &n, NULL, &err) == SEAM_OK && n == 1 && ids[0] == wp_unk_id(t));
    CHECK(wp_encode(t, word, 100, 0, 0, ids, 256, &n, NULL, &err) == SEAM_OK && ids[0] != wp_unk_id(t));
    /* ill-formed UTF-8 is dropped like U+FFFD, not a crash */
    CHECK(wp_encode(t, "a\xff\xc3 b", 5, 0, 0, ids, 256, &n, NULL, &err) == SEAM_OK && n == 2);
    /* Hangul decomposes into jamo under strip_accents (NFD), as the reference does */
    CHECK(wp_encode(t, "\xed\x95\x9c", 3, 0, 0, ids, 256, &n, NULL, &err) == SEAM_OK && n >= 1);
    /* The six code points whose general category changed after Unicode 8.0 act on their 8.0
     * category, as in Hugging Face tokenizers (ids from it): U+166D punctuation, U+1734 an
     * accent, U+1885, U+1886 and U+A9BD kept (here [UNK]), U+111C9 punctuation. */
    static const struct { const char *text; int n; int32_t ids[4]; } v8[] = {
        {"a\xe1\x99\xad", 4, {101, 1037, 100, 102}}, {"\xe1\x9c\xb4", 2, {101, 102}},
        {"\xe1\xa2\x85", 3, {101, 100, 102}}, {"\xe1\xa2\x86", 3, {101, 100, 102}},
        {"\xea\xa6\xbd", 3, {101, 100, 102}}, {"\xf0\x91\x87\x89", 3, {101, 100, 102}}};
    for (size_t i = 0; i < sizeof v8 / sizeof *v8; i++) {
        CHECK(wp_encode(t, v8[i].text, strlen(v8[i].text), 1, 0, ids, 256, &n, NULL, &err) == SEAM_OK);
        CHECKF(n == (size_t)v8[i].n && !memcmp(ids, v8[i].ids, n * sizeof *ids), "case %zu: %zu ids, first %d %d", i, n, ids[0],
               n > 1 ? ids[1] : -1);
    }
    wp_close(t);
}

TEST(test_bert_wordpiece_bad_files) {
    const char *dir = test_tmpdir();
    char path[1024];
    seam_error err = {0};
    wp_tokenizer *t = NULL;
    static const char *const bad[] = {
        "{",
        "[]",
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}",
        "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}}}",
        "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": -4}}}",
        "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}}, \"normalizer\": {\"type\": \"NFKC\"}}",
        "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}}, \"post_processor\": {\"type\": \"BertProcessing\"}}",
        "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}}, \"added_tokens\": [{\"id\": 1}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(path, sizeof path, "%s/tok%zu.json", dir, i);
        FILE *f = fopen(path, "w");
        CHECK(f);
        fputs(bad[i], f);
        fclose(f);
        err.message[0] = 0;
        seam_status s = wp_open_json(path, &t, &err);
        CHECKF(s != SEAM_OK && t == NULL && err.message[0], "case %zu accepted", i);
    }
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    FILE *f = fopen(path, "w");
    CHECK(f);
    fputs("a\nb\n", f);
    fclose(f);
    CHECK(wp_open_vocab(path, NULL, &t, &err) == SEAM_ERR_FORMAT && strstr(err.message, "[UNK]"));
    CHECK(wp_open_dir("/nonexistent-seam-dir", &t, &err) == SEAM_ERR_IO);
}

/* ------------------------------------------------------------------ the encoder */

static double rel_l2(const float *a, const float *ref, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - ref[i];
        num += d * d;
        den += (double)ref[i] * ref[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

static double cosine(const float *a, const float *b, int n) {
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++) { ab += (double)a[i] * b[i]; aa += (double)a[i] * a[i]; bb += (double)b[i] * b[i]; }
    return ab / sqrt(aa * bb + 1e-300);
}

/* The reference tensors of minibert-st. */
typedef struct {
    st_file f;
    const int32_t *ids, *mask;
    const float *hidden, *pooler, *emb;
    int B, T, C;
    json_value *sentences;
} minibert_ref;

static int ref_open(minibert_ref *r) {
    seam_error err = {0};
    memset(r, 0, sizeof *r);
    if (st_open(fixture("minibert-st/reference.safetensors"), &r->f, &err)) return test_fail(__FILE__, __LINE__, "%s", err.message);
    const st_tensor *ids = st_find(&r->f, "input_ids"), *mask = st_find(&r->f, "attention_mask");
    const st_tensor *h = st_find(&r->f, "last_hidden_state"), *p = st_find(&r->f, "pooler_output");
    const st_tensor *e = st_find(&r->f, "sentence_embedding");
    const char *meta = st_meta(&r->f, "sentences");
    if (!ids || !mask || !h || !p || !e || !meta) return test_fail(__FILE__, __LINE__, "reference tensors missing");
    r->ids = (const int32_t *)ids->data;
    r->mask = (const int32_t *)mask->data;
    r->hidden = (const float *)h->data;
    r->pooler = (const float *)p->data;
    r->emb = (const float *)e->data;
    r->B = (int)ids->shape[0];
    r->T = (int)ids->shape[1];
    r->C = (int)h->shape[2];
    char jerr[128];
    r->sentences = json_parse(meta, strlen(meta), jerr, sizeof jerr);
    if (!r->sentences || r->sentences->type != JSON_ARRAY || (int)r->sentences->len != r->B)
        return test_fail(__FILE__, __LINE__, "reference sentences unreadable");
    return 1;
}

static void ref_close(minibert_ref *r) {
    json_free(r->sentences);
    st_close(&r->f);
}

static int ref_len(const minibert_ref *r, int b) {
    int n = 0;
    for (int t = 0; t < r->T; t++) n += r->mask[b * r->T + t];
    return n;
}

static seam_encoder *open_encoder(const char *dir, int max_batch) {
    seam_error err = {0};
    seam_encoder *e = NULL;
    seam_encoder_params p = {max_batch, 0, 1, SEAM_PRECISION_DEFAULT};
    if (seam_encoder_open(dir, &p, &e, &err) != SEAM_OK) test_fail(__FILE__, __LINE__, "open %s: %s", dir, err.message);
    return e;
}

TEST(test_bert_forward_padded_batch) {
    minibert_ref r;
    if (!ref_open(&r)) return;
    seam_encoder *e = open_encoder(fixture("minibert-st"), 4); /* 6 sequences: two passes */
    CHECK(e);
    const seam_encoder_info *in = seam_encoder_get_info(e);
    CHECK(in->hidden == r.C && in->n_layer == 3 && in->n_head == 4 && in->max_seq_length == 128);
    CHECK(in->pooling == SEAM_POOL_MEAN && in->normalize && in->has_pooler && !in->is_plain);
    int B = r.B, T = r.T, C = r.C;
    float *h = malloc((size_t)B * T * C * sizeof *h), *p = malloc((size_t)B * C * sizeof *p), *emb = malloc((size_t)B * C * 4);
    seam_error err = {0};
    CHECKF(seam_encoder_forward_ids(e, r.ids, r.mask, B, T, h, p, &err) == SEAM_OK, "%s", err.message);
    for (int b = 0; b < B; b++) {
        int L = ref_len(&r, b);
        double d = rel_l2(h + (size_t)b * T * C, r.hidden + (size_t)b * T * C, (size_t)L * C);
        CHECKF(d < 1e-4, "sequence %d: last_hidden_state rel L2 %.3g over its %d tokens", b, d, L);
    }
    double all = rel_l2(h, r.hidden, (size_t)B * T * C), pe = rel_l2(p, r.pooler, (size_t)B * C);
    CHECKF(all < 1e-4, "whole padded batch rel L2 %.3g", all);
    CHECKF(pe < 1e-4, "pooler_output rel L2 %.3g", pe);
    CHECK(seam_encoder_pool(SEAM_POOL_MEAN, 1, h, r.mask, B, T, C, emb, &err) == SEAM_OK);
    for (int b = 0; b < B; b++) {
        double cs = cosine(emb + (size_t)b * C, r.emb + (size_t)b * C, C);
        CHECKF(cs >= 0.99999, "sentence %d cosine %.8f", b, cs);
    }
    free(h); free(p); free(emb);
    seam_encoder_close(e);
    ref_close(&r);
}

TEST(test_bert_forward_one_at_a_time) {
    minibert_ref r;
    if (!ref_open(&r)) return;
    seam_encoder *e = open_encoder(fixture("minibert-st"), 1);
    CHECK(e);
    int T = r.T, C = r.C;
    float *h = malloc((size_t)T * C * sizeof *h), p[64], emb[64];
    seam_error err = {0};
    for (int b = 0; b < r.B; b++) {
        int L = ref_len(&r, b);
        CHECKF(seam_encoder_forward_ids(e, r.ids + b * T, r.mask + b * T, 1, L, h, p, &err) == SEAM_OK, "%s", err.message);
        double d = rel_l2(h, r.hidden + (size_t)b * T * C, (size_t)L * C), pe = rel_l2(p, r.pooler + b * C, (size_t)C);
        CHECKF(d < 1e-4 && pe < 1e-4, "sequence %d alone: hidden rel L2 %.3g, pooler %.3g", b, d, pe);
        CHECK(seam_encoder_pool(SEAM_POOL_MEAN, 1, h, r.mask + b * T, 1, L, C, emb, &err) == SEAM_OK);
        double cs = cosine(emb, r.emb + (size_t)b * C, C);
        CHECKF(cs >= 0.99999, "sentence %d alone: cosine %.8f", b, cs);
    }
    free(h);
    seam_encoder_close(e);
    ref_close(&r);
}

/* Embeds the reference sentences through the text path and checks ids and embeddings. */
static void check_text_path(const char *dir, minibert_ref *r, int max_batch) {
    seam_encoder *e = open_encoder(dir, max_batch);
    CHECK(e);
    int B = r->B, C = r->C;
    const char *texts[16];
    size_t lens[16];
    int32_t ids[256];
    seam_error err = {0};
    for (int b = 0; b < B; b++) {
        texts[b] = r->sentences->items[b].str;
        lens[b] = r->sentences->items[b].len;
        size_t n = 0;
        int tr = 1;
        CHECKF(seam_encoder_tokenize(e, texts[b], lens[b], ids, 256, &n, &tr, &err) == SEAM_OK, "%s", err.message);
        CHECKF((int)n == ref_len(r, b) && !tr, "sentence %d: %zu ids, want %d", b, n, ref_len(r, b));
        for (size_t i = 0; i < n; i++) CHECKF(ids[i] == r->ids[b * r->T + (int)i], "sentence %d id %zu", b, i);
    }
    float *out = malloc((size_t)B * C * sizeof *out);
    seam_embed_stats st;
    CHECKF(seam_encoder_embed(e, texts, lens, (size_t)B, out, 0, &st, &err) == SEAM_OK, "%s", err.message);
    CHECK(st.n_truncated == 0);
    for (int b = 0; b < B; b++) {
        double cs = cosine(out + (size_t)b * C, r->emb + (size_t)b * C, C);
        CHECKF(cs >= 0.99999, "%s batch %d: sentence %d cosine %.8f", dir, max_batch, b, cs);
    }
    for (int b = 0; b < B; b++) { /* one at a time, NUL-terminated */
        CHECK(seam_encoder_embed(e, &texts[b], NULL, 1, out, 0, NULL, &err) == SEAM_OK);
        double cs = cosine(out, r->emb + (size_t)b * C, C);
        CHECKF(cs >= 0.99999, "%s alone: sentence %d cosine %.8f", dir, b, cs);
    }
    free(out);
    seam_encoder_close(e);
}

TEST(test_bert_text_path_matches_reference) {
    minibert_ref r;
    if (!ref_open(&r)) return;
    check_text_path(fixture("minibert-st"), &r, 32);
    check_text_path(fixture("minibert-st"), &r, 4);
    check_text_path(fixture("minibert-st"), &r, 1);
    ref_close(&r);
}

TEST(test_bert_embed_truncation) {
    seam_encoder *e = open_encoder(fixture("minibert-st"), 8);
    CHECK(e);
    size_t n = 5000;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i += 2) { big[i] = 'a' + (char)(i / 2 % 26); big[i + 1] = ' '; }
    big[n] = 0;
    const char *texts[3] = {"short", big, "another short one"};
    float out[3 * 64], alone[64];
    seam_embed_stats st;
    seam_error err = {0};
    CHECK(seam_encoder_embed(e, texts, NULL, 3, out, 0, &st, &err) == SEAM_OK);
    CHECK(st.n_truncated == 1 && st.n_tokens == 3 + 128 + 5 && st.n_padded > 0);
    CHECK(seam_encoder_embed(e, &texts[2], NULL, 1, alone, 0, NULL, &err) == SEAM_OK);
    CHECK(cosine(alone, out + 128, 64) > 0.999999);
    CHECK(seam_encoder_embed(e, texts, NULL, 3, out, SEAM_EMBED_NO_TRUNCATE, NULL, &err) == SEAM_ERR_RANGE);
    CHECK(strstr(err.message, "text 1") != NULL);
    /* normalisation flags */
    CHECK(seam_encoder_embed(e, texts, NULL, 1, out, SEAM_EMBED_NO_NORMALIZE, NULL, &err) == SEAM_OK);
    double nn = 0;
    for (int i = 0; i < 64; i++) nn += (double)out[i] * out[i];
    CHECK(fabs(nn - 1) > 1e-3);
    CHECK(seam_encoder_embed(e, texts, NULL, 1, out, 0, NULL, &err) == SEAM_OK);
    nn = 0;
    for (int i = 0; i < 64; i++) nn += (double)out[i] * out[i];
    CHECK(fabs(nn - 1) < 1e-5);
    free(big);
    seam_encoder_close(e);
}

/* ------------------------------------------------------------------ pooling and folders */

static void ref_pool(const minibert_ref *r, seam_pooling mode, int normalize, float *out) {
    int T = r->T, C = r->C;
    for (int b = 0; b < r->B; b++) {
        const float *h = r->hidden + (size_t)b * T * C;
        float *o = out + (size_t)b * C;
        int L = ref_len(r, b);
        for (int i = 0; i < C; i++) {
            double v = mode == SEAM_POOL_MAX ? -1e30 : 0;
            for (int t = 0; t < L; t++) {
                if (mode == SEAM_POOL_MAX) v = h[t * C + i] > v ? h[t * C + i] : v;
                else v += h[t * C + i];
            }
            o[i] = mode == SEAM_POOL_CLS ? h[i] : mode == SEAM_POOL_LASTTOKEN ? h[(L - 1) * C + i] : mode == SEAM_POOL_MAX ? (float)v : (float)(v / L);
        }
        double n = 0;
        for (int i = 0; i < C; i++) n += (double)o[i] * o[i];
        for (int i = 0; normalize && i < C; i++) o[i] = (float)(o[i] / sqrt(n));
    }
}

TEST(test_bert_pool_modes_on_reference) {
    minibert_ref r;
    if (!ref_open(&r)) return;
    float got[6 * 64], want[6 * 64];
    seam_error err = {0};
    static const seam_pooling modes[] = {SEAM_POOL_MEAN, SEAM_POOL_CLS, SEAM_POOL_MAX, SEAM_POOL_LASTTOKEN};
    for (int k = 0; k < 4; k++)
        for (int norm = 0; norm < 2; norm++) {
            CHECK(seam_encoder_pool(modes[k], norm, r.hidden, r.mask, r.B, r.T, r.C, got, &err) == SEAM_OK);
            ref_pool(&r, modes[k], norm, want);
            double d = rel_l2(got, want, (size_t)r.B * r.C);
            CHECKF(d < 1e-6, "%s normalize=%d rel L2 %.3g", seam_pooling_name(modes[k]), norm, d);
        }
    CHECK(!strcmp(seam_pooling_name(SEAM_POOL_MAX), "max"));
    /* mean pooling of the reference hidden state is the reference embedding */
    CHECK(seam_encoder_pool(SEAM_POOL_MEAN, 1, r.hidden, r.mask, r.B, r.T, r.C, got, &err) == SEAM_OK);
    for (int b = 0; b < r.B; b++) CHECK(cosine(got + b * 64, r.emb + b * 64, 64) >= 0.99999);
    int32_t zero[4] = {0, 0, 0, 0};
    CHECK(seam_encoder_pool(SEAM_POOL_MEAN, 1, r.hidden, zero, 1, 4, r.C, got, &err) == SEAM_OK && got[0] == 0);
    CHECK(seam_encoder_pool(SEAM_POOL_MAX, 0, r.hidden, zero, 1, 4, r.C, got, &err) == SEAM_OK && got[0] == -1e9f);
    CHECK(seam_encoder_pool((seam_pooling)9, 0, r.hidden, r.mask, 1, 4, r.C, got, &err) == SEAM_ERR_ARG);
    ref_close(&r);
}

static int write_text(const char *dir, const char *name, const char *text) {
    char path[1200];
    snprintf(path, sizeof path, "%.1000s/%.100s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

/* A copy of minibert-st in a fresh folder: links to its files except those in `skip`
 * (a space-separated list, each name surrounded by spaces). */
static const char *make_folder(const char *skip) {
    static const char *const names[] = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                                        "sentence_bert_config.json", "modules.json", "2_Normalize", "1_Pooling"};
    const char *dir = test_tmpdir();
    char link[1024], key[64];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(key, sizeof key, " %s ", names[i]);
        if (skip && strstr(skip, key)) continue;
        snprintf(link, sizeof link, "%s/%s", dir, names[i]);
        char target[1024];
        snprintf(target, sizeof target, "%s", fixture("minibert-st"));
        char *abs = realpath(target, NULL);
        if (!abs) return dir;
        snprintf(target, sizeof target, "%s/%s", abs, names[i]);
        free(abs);
        if (symlink(target, link) != 0) test_fail(__FILE__, __LINE__, "symlink %s", link);
    }
    return dir;
}

static const char *pooling_folder(const char *pool_json) {
    const char *dir = make_folder(" 1_Pooling ");
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/1_Pooling", dir);
    if (mkdir(sub, 0755) != 0 || !write_text(sub, "config.json", pool_json)) test_fail(__FILE__, __LINE__, "cannot write %s", sub);
    return dir;
}

/* Embeds the reference sentences from dir and compares with want [6, 64]. */
static void check_folder_embeddings(const char *dir, minibert_ref *r, const float *want, const char *what) {
    seam_encoder *e = open_encoder(dir, 32);
    CHECKF(e, "%s", what);
    const char *texts[6];
    size_t lens[6];
    for (int b = 0; b < 6; b++) { texts[b] = r->sentences->items[b].str; lens[b] = r->sentences->items[b].len; }
    float out[6 * 64];
    seam_error err = {0};
    CHECKF(seam_encoder_embed(e, texts, lens, 6, out, 0, NULL, &err) == SEAM_OK, "%s: %s", what, err.message);
    for (int b = 0; b < 6; b++) {
        double cs = cosine(out + b * 64, want + b * 64, 64), d = rel_l2(out + b * 64, want + b * 64, 64);
        CHECKF(cs >= 0.99999 && d < 1e-4, "%s: sentence %d cosine %.8f rel L2 %.3g", what, b, cs, d);
    }
    seam_encoder_close(e);
}

TEST(test_bert_pooling_config_forms) {
    minibert_ref r;
    if (!ref_open(&r)) return;
    float want[6 * 64];
    static const char old_fmt[] =
        "{\"word_embedding_dimension\": 64, \"pooling_mode_cls_token\": %s, \"pooling_mode_mean_tokens\": %s, "
        "\"pooling_mode_max_tokens\": %s, \"pooling_mode_mean_sqrt_len_tokens\": false}";
    char cfg[512];
    snprintf(cfg, sizeof cfg, old_fmt, "false", "true", "false");
    check_folder_embeddings(pooling_folder(cfg), &r, r.emb, "old form mean");
    ref_pool(&r, SEAM_POOL_CLS, 1, want);
    snprintf(cfg, sizeof cfg, old_fmt, "true", "false", "false");
    check_folder_embeddings(pooling_folder(cfg), &r, want, "old form cls");
    check_folder_embeddings(pooling_folder("{\"embedding_dimension\": 64, \"pooling_mode\": \"cls\"}"), &r, want, "new form cls");
    ref_pool(&r, SEAM_POOL_MAX, 1, want);
    snprintf(cfg, sizeof cfg, old_fmt, "false", "false", "true");
    check_folder_embeddings(pooling_folder(cfg), &r, want, "old form max");
    check_folder_embeddings(pooling_folder("{\"pooling_mode\": [\"max\"]}"), &r, want, "new form max");
    /* without the Normalize module the raw mean comes out */
    const char *dir = make_folder(" modules.json ");
    CHECK(write_text(dir, "modules.json",
                     "[{\"idx\": 0, \"name\": \"0\", \"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
                     " {\"idx\": 1, \"name\": \"1\", \"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"}]"));
    ref_pool(&r, SEAM_POOL_MEAN, 0, want);
    check_folder_embeddings(dir, &r, want, "no Normalize");
    ref_close(&r);
}

TEST(test_bert_plain_folder) {
    minibert_ref r;
    if (!ref_open(&r)) return;
    const char *dir = make_folder(" modules.json 1_Pooling 2_Normalize sentence_bert_config.json ");
    seam_encoder *e = open_encoder(dir, 32);
    CHECK(e);
    const seam_encoder_info *in = seam_encoder_get_info(e);
    CHECK(in->is_plain && in->pooling == SEAM_POOL_MEAN && in->normalize);
    seam_encoder_close(e);
    check_folder_embeddings(dir, &r, r.emb, "plain BertModel folder");
    /* vocab.txt instead of tokenizer.json */
    dir = make_folder(" modules.json 1_Pooling 2_Normalize tokenizer.json ");
    char path[1024];
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    CHECK(copy_file(fixture("tok/bert-base-uncased/vocab.txt"), path));
    check_folder_embeddings(dir, &r, r.emb, "vocab.txt folder");
    ref_close(&r);
}

/* Rewrites model.safetensors with every key prefixed by "bert.", LayerNorm's weight and bias
 * named gamma and beta (as in bert-base-uncased, converted from TensorFlow), matrices as F16
 * and vectors as BF16, to exercise both conversions and both kinds of names. */
static int write_f16_prefixed(const char *path) {
    st_file f;
    seam_error err = {0};
    if (st_open(fixture("minibert-st/model.safetensors"), &f, &err)) return 0;
    size_t cap = 1 << 16, hl = 0, data = 0;
    char *hdr = malloc(cap);
    hl += (size_t)snprintf(hdr + hl, cap - hl, "{");
    for (size_t i = 0; i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        size_t bytes = (size_t)t->n_elems * 2, len = strlen(t->name);
        const char *ln = strstr(t->name, "LayerNorm."), *legacy = NULL;
        if (ln) legacy = !strcmp(ln, "LayerNorm.weight") ? "gamma" : !strcmp(ln, "LayerNorm.bias") ? "beta" : NULL;
        if (legacy) len = (size_t)(ln - t->name) + strlen("LayerNorm.");
        hl += (size_t)snprintf(hdr + hl, cap - hl, "%s\"bert.%.*s%s\": {\"dtype\": \"%s\", \"shape\": [", i ? ", " : "", (int)len,
                               t->name, legacy ? legacy : "", t->n_dims == 1 ? "BF16" : "F16");
        for (int d = 0; d < t->n_dims; d++) hl += (size_t)snprintf(hdr + hl, cap - hl, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
        hl += (size_t)snprintf(hdr + hl, cap - hl, "], \"data_offsets\": [%zu, %zu]}", data, data + bytes);
        data += bytes;
    }
    hl += (size_t)snprintf(hdr + hl, cap - hl, "}");
    while (hl % 8) hdr[hl++] = ' ';
    FILE *o = fopen(path, "wb");
    uint64_t n = hl;
    int ok = o && fwrite(&n, 8, 1, o) == 1 && fwrite(hdr, 1, hl, o) == hl;
    for (size_t i = 0; ok && i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        for (uint64_t k = 0; k < t->n_elems && ok; k++) {
            float x;
            memcpy(&x, t->data + 4 * k, 4);
            uint32_t bits;
            memcpy(&bits, &x, 4);
            uint16_t h = t->n_dims == 1 ? (uint16_t)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) : seam_f32_to_f16(x);
            ok = fwrite(&h, 2, 1, o) == 1;
        }
    }
    if (o) ok &= fclose(o) == 0;
    free(hdr);
    st_close(&f);
    return ok;
}

TEST(test_bert_half_precision_prefixed_weights) {
    minibert_ref r;
    if (!ref_open(&r)) return;
    const char *dir = make_folder(" model.safetensors ");
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(write_f16_prefixed(path));
    seam_encoder *e = open_encoder(dir, 8);
    CHECK(e);
    CHECK(seam_encoder_get_info(e)->weight_dtype == SEAM_DTYPE_F16);
    float *h = malloc((size_t)r.B * r.T * r.C * sizeof *h), p[6 * 64];
    seam_error err = {0};
    CHECKF(seam_encoder_forward_ids(e, r.ids, r.mask, r.B, r.T, h, p, &err) == SEAM_OK, "%s", err.message);
    /* half-precision weights move the result a little, a wrong conversion a lot */
    double d = rel_l2(h, r.hidden, (size_t)r.B * r.T * r.C), pe = rel_l2(p, r.pooler, (size_t)r.B * r.C);
    CHECKF(d < 1e-2 && pe < 1e-2, "F16 weights: hidden rel L2 %.3g, pooler %.3g", d, pe);
    free(h);
    seam_encoder_close(e);
    ref_close(&r);
}

/* Opening dir must fail with a message containing want. */
static void expect_open_error(const char *dir, const char *want, const char *what) {
    seam_error err = {0};
    seam_encoder *e = NULL;
    seam_status s = seam_encoder_open(dir, NULL, &e, &err);
    CHECKF(s != SEAM_OK && e == NULL, "%s: accepted", what);
    CHECKF(strstr(err.message, want) != NULL, "%s: error '%s' lacks '%s'", what, err.message, want);
}

static const char *config_folder(const char *from, const char *to) {
    char *text = NULL;
    size_t len;
    seam_error err = {0};
    const char *dir = make_folder(" config.json ");
    if (seam_read_file(fixture("minibert-st/config.json"), 1 << 20, &text, &len, &err)) return dir;
    char *at = strstr(text, from), out[4096];
    if (!at) { test_fail(__FILE__, __LINE__, "'%s' not in config.json", from); free(text); return dir; }
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    write_text(dir, "config.json", out);
    free(text);
    return dir;
}

TEST(test_bert_malformed_inputs_are_errors) {
    expect_open_error(config_folder("{", "["), "config.json", "config not an object");
    expect_open_error(config_folder("\"model_type\": \"bert\"", "\"model_type\": \"roberta\""), "roberta", "roberta");
    expect_open_error(config_folder("\"hidden_act\": \"gelu\"", "\"hidden_act\": \"swish\""), "swish", "activation");
    expect_open_error(config_folder("\"hidden_act\": \"gelu\"", "\"position_embedding_type\": \"relative_key\""), "relative_key",
                      "relative positions");
    expect_open_error(config_folder("\"num_attention_heads\": 4", "\"num_attention_heads\": 5"), "divisible", "heads");
    expect_open_error(config_folder("\"num_hidden_layers\": 3", "\"num_hidden_layers\": 4"), "encoder.layer.3", "missing tensor");
    expect_open_error(config_folder("\"intermediate_size\": 256", "\"intermediate_size\": 128"), "shape", "shape");
    expect_open_error(config_folder("\"hidden_size\": 64,", ""), "hidden_size", "no hidden_size");
    expect_open_error(config_folder("\"vocab_size\": 30522", "\"vocab_size\": 1000"), "word_embeddings", "vocab too small");
    expect_open_error(make_folder(" model.safetensors "), "model.safetensors", "no weights");
    expect_open_error(pooling_folder("{\"pooling_mode\": \"weightedmean\"}"), "weightedmean", "pooling mode");
    expect_open_error(pooling_folder("{\"embedding_dimension\": 64}"), "no pooling mode", "no mode");
    expect_open_error(pooling_folder("{\"pooling_mode_cls_token\": true, \"pooling_mode_mean_tokens\": true}"), "several", "two modes");
    expect_open_error(pooling_folder("{\"pooling_mode_mean_tokens\": \"yes\"}"), "true or false", "not a bool");
    expect_open_error(pooling_folder("{\"pooling_mode\": \"mean\", \"embedding_dimension\": 32}"), "32", "dimension");
    expect_open_error(pooling_folder("{\"pooling_mode\": "), "1_Pooling", "bad JSON");
    const char *dir = make_folder(" modules.json ");
    write_text(dir, "modules.json", "[{\"path\": \"\", \"type\": \"sentence_transformers.models.Transformer\"},"
                                    " {\"path\": \"1_Pooling\", \"type\": \"sentence_transformers.models.Pooling\"},"
                                    " {\"path\": \"2_Dense\", \"type\": \"sentence_transformers.models.Dense\"}]");
    expect_open_error(dir, "Dense", "Dense module");
    dir = make_folder(" modules.json ");
    write_text(dir, "modules.json", "[{\"path\": \"../x\", \"type\": \"sentence_transformers.models.Transformer\"}]");
    expect_open_error(dir, "path", "path outside");
    expect_open_error("/nonexistent-seam-model", "config.json", "no folder");

    seam_encoder *e = open_encoder(fixture("minibert-st"), 2);
    CHECK(e);
    int32_t ids[4] = {101, 2000, 102, 0}, mask[4] = {1, 1, 1, 0}, bad[4] = {101, 40000, 102, 0};
    float h[4 * 64], p[64];
    seam_error err = {0};
    CHECK(seam_encoder_forward_ids(e, ids, mask, 1, 4, h, p, &err) == SEAM_OK);
    CHECK(seam_encoder_forward_ids(e, bad, mask, 1, 4, h, p, &err) == SEAM_ERR_RANGE && strstr(err.message, "vocabulary"));
    int32_t m2[4] = {1, 2, 1, 0}, m0[4] = {0, 0, 0, 0};
    CHECK(seam_encoder_forward_ids(e, ids, m2, 1, 4, h, p, &err) == SEAM_ERR_ARG);
    CHECK(seam_encoder_forward_ids(e, ids, m0, 1, 4, h, p, &err) == SEAM_ERR_ARG);
    CHECK(seam_encoder_forward_ids(e, ids, mask, 1, 129, h, p, &err) == SEAM_ERR_RANGE);
    CHECK(seam_encoder_forward_ids(e, NULL, mask, 1, 4, h, p, &err) == SEAM_ERR_ARG);
    const char *texts[2] = {"fine", NULL};
    CHECK(seam_encoder_embed(e, texts, NULL, 2, h, 0, NULL, &err) == SEAM_ERR_ARG);
    CHECK(seam_encoder_embed(e, texts, NULL, 0, h, 0, NULL, &err) == SEAM_OK);
    seam_encoder_close(e);
    seam_encoder_params bad_params = {0, 1000, 1, SEAM_PRECISION_DEFAULT};
    CHECK(seam_encoder_open(fixture("minibert-st"), &bad_params, &e, &err) == SEAM_ERR_ARG && e == NULL);
}

TEST(test_bert_threads_match_single_thread) {
    minibert_ref r;
    if (!ref_open(&r)) return;
    seam_error err = {0};
    seam_encoder *e = NULL;
    seam_encoder_params p = {3, 0, 2, SEAM_PRECISION_DEFAULT};
    CHECKF(seam_encoder_open(fixture("minibert-st"), &p, &e, &err) == SEAM_OK, "%s", err.message);
    float *h = malloc((size_t)r.B * r.T * r.C * sizeof *h), pl[6 * 64];
    CHECKF(seam_encoder_forward_ids(e, r.ids, r.mask, r.B, r.T, h, pl, &err) == SEAM_OK, "%s", err.message);
    double d = rel_l2(h, r.hidden, (size_t)r.B * r.T * r.C);
    CHECKF(d < 1e-4, "2 threads: rel L2 %.3g", d);
    seam_encoder_close(e);
    /* Threads claim columns and attention tiles as they go (util/pool.h), but each output
     * is computed whole by one of them: 1, 2 and 3 threads give the same bits. */
    size_t n = (size_t)r.B * r.T * r.C;
    float *h1 = malloc(n * sizeof *h1), *hn = malloc(n * sizeof *hn);
    for (int threads = 1; threads <= 3; threads++) {
        seam_encoder_params pt = {6, 0, threads, SEAM_PRECISION_DEFAULT};
        CHECKF(seam_encoder_open(fixture("minibert-st"), &pt, &e, &err) == SEAM_OK, "%s", err.message);
        CHECKF(seam_encoder_forward_ids(e, r.ids, r.mask, r.B, r.T, threads == 1 ? h1 : hn, pl, &err) == SEAM_OK, "%s",
               err.message);
        if (threads > 1) CHECKF(!memcmp(h1, hn, n * sizeof *hn), "%d threads: hidden states differ from 1 thread's", threads);
        seam_encoder_close(e);
    }
    free(h1);
    free(hn);
    free(h);
    ref_close(&r);
}

/* A context with a second table for products of few rows (on AMX CPUs, AVX-512 takes those
 * from AMX) runs each product on the table its row count picks: each sequence alone (fewer
 * than 16 rows) still matches the reference, and the batch gets the bits of a context
 * without the second table. */
TEST(test_bert_few_rows_run_on_their_own_table) {
    minibert_ref r;
    if (!ref_open(&r)) return;
    seam_error err = {0};
    bert_st_config st;
    bert_model *m = NULL;
    bert_ctx *two = NULL, *one = NULL;
    CHECKF(bert_st_parse(fixture("minibert-st"), &st, &err) == SEAM_OK, "%s", err.message);
    CHECKF(bert_model_open(st.model_dir, &m, &err) == SEAM_OK, "%s", err.message);
    /* a second table that packs, in its own panel width, where this CPU has one */
    const seam_kernels *k = seam_kernels_best(), *few = seam_kernels_by_name("avx2");
    if (!few || few == k) few = seam_kernels_by_name("scalar");
    CHECKF(bert_ctx_new_tables(m, r.B, r.T, 2, k, few, &two, &err) == SEAM_OK, "%s", err.message);
    CHECKF(bert_ctx_new_tables(m, r.B, r.T, 2, k, NULL, &one, &err) == SEAM_OK, "%s", err.message);
    size_t n = (size_t)r.B * r.T * r.C;
    float *h2 = malloc(n * sizeof *h2), *h1 = malloc(n * sizeof *h1);
    CHECK(r.B * r.T >= 16);
    CHECKF(bert_forward(two, r.ids, r.mask, r.B, r.T, h2, NULL, &err) == SEAM_OK, "%s", err.message);
    CHECKF(bert_forward(one, r.ids, r.mask, r.B, r.T, h1, NULL, &err) == SEAM_OK, "%s", err.message);
    CHECK(!memcmp(h1, h2, n * sizeof *h1));
    int alone = 0;
    for (int b = 0; b < r.B; b++) {
        int L = ref_len(&r, b);
        if (L >= 16) continue;
        alone++;
        CHECKF(bert_forward(two, r.ids + b * r.T, r.mask + b * r.T, 1, L, h2, NULL, &err) == SEAM_OK, "%s", err.message);
        double d = rel_l2(h2, r.hidden + (size_t)b * r.T * r.C, (size_t)L * r.C);
        CHECKF(d < 1e-4, "sequence %d alone on the second table: hidden rel L2 %.3g", b, d);
    }
    CHECKF(alone > 0, "no reference sequence is shorter than 16 tokens");
    free(h1);
    free(h2);
    bert_ctx_free(one);
    bert_ctx_free(two);
    bert_model_close(m);
    bert_st_free(&st);
    ref_close(&r);
}

TEST(test_bert_wordpiece_added_tokens) {
    const char *dir = test_tmpdir();
    CHECK(write_text(dir, "tokenizer.json",
                     "{\"added_tokens\": [{\"id\": 5, \"content\": \"HeLLo WoRLD\", \"normalized\": true},"
                     " {\"id\": 6, \"content\": \"<Raw>\", \"normalized\": false, \"special\": true}],"
                     " \"normalizer\": {\"type\": \"BertNormalizer\", \"lowercase\": true},"
                     " \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},"
                     " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"[CLS]\"}},"
                     " {\"Sequence\": {\"id\": \"A\"}}, {\"SpecialToken\": {\"id\": \"[SEP]\"}}], \"special_tokens\":"
                     " {\"[CLS]\": {\"id\": \"[CLS]\", \"ids\": [1]}, \"[SEP]\": {\"id\": \"[SEP]\", \"ids\": [2]}}},"
                     " \"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0, \"[CLS]\": 1, \"[SEP]\": 2, \"hello\": 3,"
                     " \"##lo\": 4, \"hel\": 7}}, \"decoder\": {\"type\": \"WordPiece\", \"prefix\": \"##\"}}"));
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    seam_error err = {0};
    wp_tokenizer *t = NULL;
    CHECKF(wp_open_json(path, &t, &err) == SEAM_OK, "%s", err.message);
    int32_t ids[32];
    size_t n = 0;
    /* the normalized token matches after lowercasing; the raw one only as written */
    const char *text = "HELLO WORLD! <Raw> <raw> hello";
    CHECK(wp_encode(t, text, strlen(text), 1, 0, ids, 32, &n, NULL, &err) == SEAM_OK);
    static const int32_t want[] = {1, 5, 0, 6, 0, 0, 0, 3, 2};
    CHECKF(n == sizeof want / sizeof want[0], "%zu ids", n);
    for (size_t i = 0; i < n; i++) CHECKF(ids[i] == want[i], "id %zu is %d, want %d", i, (int)ids[i], (int)want[i]);
    /* greedy longest match with the continuation prefix */
    CHECK(wp_encode(t, "hello hello", 11, 0, 0, ids, 32, &n, NULL, &err) == SEAM_OK && n == 2 && ids[0] == 3);
    CHECK(wp_token_text(t, 4, &n) && n == 4);
    char out[64];
    int32_t dec[] = {1, 7, 4, 6, 2};
    wp_decode(t, dec, 5, 1, out, sizeof out);
    CHECKF(!strcmp(out, "[CLS] hello [SEP]"), "decoded '%s'", out); /* [CLS] is no added token here */
    wp_close(t);
}
