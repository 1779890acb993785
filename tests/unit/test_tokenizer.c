/* GPT-2 byte-level BPE tokenizer: golden ids from the reference, both file layouts,
 * special tokens, decoding repair, malformed files, the word cache and threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seam.h"
#include "test.h"
#include "util/error.h"
#include "util/json.h"

static int write_text(const char *dir, const char *name, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    size_t n = strlen(text);
    int ok = fwrite(text, 1, n, f) == n;
    return (fclose(f) == 0) && ok;
}

static int copy_file(const char *src, const char *dir, const char *name) {
    char *buf;
    size_t len;
    if (seam_read_file(src, (size_t)1 << 30, &buf, &len, NULL) != SEAM_OK) return 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(buf, 1, len, f) == len;
    if (f) ok = (fclose(f) == 0) && ok;
    free(buf);
    return ok;
}

/* Runs every golden line through t; returns 1 when all match, printing the first failure. */
static int check_golden(const seam_tokenizer *t, const char *label) {
    char *data;
    size_t len;
    seam_error err;
    if (seam_read_file(fixture("tokenizer-golden/gpt2-shared.jsonl"), (size_t)1 << 26, &data, &len, &err) != SEAM_OK)
        return test_fail(__FILE__, __LINE__, "%s", err.message);
    int ok = 1, lines = 0;
    size_t cap = 1 << 16;
    int32_t *ids = malloc(cap * sizeof *ids);
    char *dec = malloc(1 << 20);
    for (char *line = data; ok && line < data + len;) {
        char *nl = memchr(line, '\n', (size_t)(data + len - line));
        size_t ll = nl ? (size_t)(nl - line) : (size_t)(data + len - line);
        char msg[256];
        json_value *v = ll ? json_parse(line, ll, msg, sizeof msg) : NULL;
        line += ll + 1;
        if (!ll) continue;
        lines++;
        if (!v) {
            ok = test_fail(__FILE__, __LINE__, "%s: golden line %d: %s", label, lines, msg);
            break;
        }
        const json_value *text = json_get(v, "text"), *want = json_get(v, "ids"), *decoded = json_get(v, "decoded");
        size_t n = 0;
        seam_status st = seam_tokenize(t, text->str, text->len, ids, cap, &n, &err);
        int same = st == SEAM_OK && n == want->len;
        for (size_t i = 0; same && i < n; i++) same = want->items[i].integer == ids[i];
        if (!same) {
            printf("\n    %s: golden line %d: ", label, lines);
            json_write_string(stdout, text->str, text->len);
            printf("\n      want:");
            for (size_t i = 0; i < want->len; i++) printf(" %lld", (long long)want->items[i].integer);
            printf("\n      got: ");
            for (size_t i = 0; i < n && i < cap; i++) printf(" %d", (int)ids[i]);
            printf("\n");
            ok = test_fail(__FILE__, __LINE__, "%s: ids differ on golden line %d (status %d)", label, lines, (int)st);
        } else {
            size_t dn = seam_detokenize(t, ids, n, dec, 1 << 20);
            if (dn != decoded->len || memcmp(dec, decoded->str, dn) != 0)
                ok = test_fail(__FILE__, __LINE__, "%s: detokenize differs on golden line %d", label, lines);
        }
        json_free(v);
    }
    if (ok && lines != 400) ok = test_fail(__FILE__, __LINE__, "%s: %d golden lines, expected 400", label, lines);
    free(ids);
    free(dec);
    free(data);
    return ok;
}

static seam_tokenizer *open_ok(const char *dir) {
    seam_tokenizer *t = NULL;
    seam_error err;
    if (seam_tokenizer_open(dir, &t, &err) != SEAM_OK) {
        test_fail(__FILE__, __LINE__, "open %s: %s", dir, err.message);
        return NULL;
    }
    return t;
}

TEST(test_tokenizer_golden_tokenizer_json) {
    seam_tokenizer *t = open_ok(fixture("tok/gpt2"));
    CHECK(t);
    CHECK(seam_tokenizer_vocab_size(t) == 50257);
    int ok = check_golden(t, "tok/gpt2 tokenizer.json");
    seam_tokenizer_close(t);
    CHECK(ok);
    t = open_ok(fixture("gpt2-tiny"));
    CHECK(t);
    ok = check_golden(t, "gpt2-tiny");
    seam_tokenizer_close(t);
    CHECK(ok);
}

TEST(test_tokenizer_golden_vocab_merges) {
    const char *dir = test_tmpdir();
    CHECK(copy_file(fixture("tok/gpt2/vocab.json"), dir, "vocab.json"));
    CHECK(copy_file(fixture("tok/gpt2/merges.txt"), dir, "merges.txt"));
    seam_tokenizer *t = open_ok(dir);
    CHECK(t);
    int ok = check_golden(t, "vocab.json + merges.txt");
    CHECK(seam_tokenizer_vocab_size(t) == 50257);
    CHECK(seam_tokenizer_special(t, "<|endoftext|>") == 50256);
    seam_tokenizer_close(t);
    CHECK(ok);
}

/* Both layouts must agree token for token, including every id's bytes. */
TEST(test_tokenizer_layouts_agree) {
    const char *dir = test_tmpdir();
    CHECK(copy_file(fixture("tok/gpt2/vocab.json"), dir, "vocab.json"));
    CHECK(copy_file(fixture("tok/gpt2/merges.txt"), dir, "merges.txt"));
    seam_tokenizer *a = open_ok(dir), *b = open_ok(fixture("tok/gpt2"));
    CHECK(a && b);
    int same = seam_tokenizer_vocab_size(a) == seam_tokenizer_vocab_size(b);
    for (int32_t id = 0; same && id < seam_tokenizer_vocab_size(a); id++) {
        size_t la, lb;
        const char *pa = seam_token_bytes(a, id, &la), *pb = seam_token_bytes(b, id, &lb);
        same = pa && pb && la == lb && memcmp(pa, pb, la) == 0;
    }
    seam_tokenizer_close(a);
    seam_tokenizer_close(b);
    CHECK(same);
}

TEST(test_tokenizer_special_tokens) {
    seam_tokenizer *t = open_ok(fixture("tok/gpt2"));
    CHECK(t);
    int32_t ids[64];
    size_t n;
    seam_error err;
    const char *text = "Hello<|endoftext|> world<|endoftext|><|endoftext|>";
    CHECK(seam_tokenize(t, text, strlen(text), ids, 64, &n, &err) == SEAM_OK);
    int32_t want[] = {15496, 50256, 995, 50256, 50256};
    CHECK(n == 5 && memcmp(ids, want, sizeof want) == 0);
    char out[128];
    CHECK(seam_detokenize(t, ids, n, out, sizeof out) == strlen(text) && strcmp(out, text) == 0);
    CHECK(seam_tokenizer_special(t, "<|endoftext|>") == 50256);
    CHECK(seam_tokenizer_special(t, "hello") == -1);
    size_t len;
    const char *b = seam_token_bytes(t, 50256, &len);
    CHECK(b && len == 13 && memcmp(b, "<|endoftext|>", 13) == 0);
    /* An incomplete marker is ordinary text. */
    CHECK(seam_tokenize(t, "<|endoftext", 11, ids, 64, &n, &err) == SEAM_OK);
    for (size_t i = 0; i < n; i++) CHECK(ids[i] != 50256);
    seam_tokenizer_close(t);
}

/* The pre-tokenizer's letters are Unicode 16.0's, as the reference's Oniguruma has them:
 * U+321DA (CJK Extension H, Unicode 15.0) is a letter, so it and U+9E43 make one pre-token
 * whose bytes merge across the two (ids from Hugging Face tokenizers 0.22). */
TEST(test_tokenizer_unicode_16_letters) {
    seam_tokenizer *t = open_ok(fixture("tok/gpt2"));
    CHECK(t);
    int32_t ids[16];
    size_t n;
    seam_error err;
    const char *text = "\xf0\xb2\x87\x9a\xe9\xb9\x83";
    CHECK(seam_tokenize(t, text, strlen(text), ids, 16, &n, &err) == SEAM_OK);
    int32_t want[] = {172, 110, 229, 21253, 117, 225};
    CHECKF(n == 6 && memcmp(ids, want, sizeof want) == 0, "%zu ids, the fourth %d", n, n > 3 ? ids[3] : -1);
    seam_tokenizer_close(t);
}

TEST(test_tokenizer_capacity_and_args) {
    seam_tokenizer *t = open_ok(fixture("tok/gpt2"));
    CHECK(t);
    int32_t ids[4];
    size_t n = 0;
    seam_error err;
    const char *text = "The quick brown fox jumps over the lazy dog.";
    CHECK(seam_tokenize(t, text, strlen(text), ids, 4, &n, &err) == SEAM_ERR_RANGE);
    CHECK(n == 10);
    CHECK(ids[0] == 464 && ids[3] == 21831);
    CHECK(seam_tokenize(t, text, strlen(text), NULL, 0, &n, &err) == SEAM_ERR_RANGE && n == 10);
    CHECK(seam_tokenize(t, "", 0, ids, 4, &n, &err) == SEAM_OK && n == 0);
    CHECK(seam_tokenize(t, NULL, 0, NULL, 0, &n, &err) == SEAM_OK && n == 0);
    CHECK(seam_tokenize(NULL, "a", 1, ids, 4, &n, &err) == SEAM_ERR_ARG);
    CHECK(seam_tokenize(t, NULL, 3, ids, 4, &n, &err) == SEAM_ERR_ARG);
    CHECK(seam_token_bytes(t, -1, NULL) == NULL);
    CHECK(seam_token_bytes(t, 50257, NULL) == NULL);
    /* snprintf-style truncation of the decoded text. */
    int32_t hello[] = {15496, 11, 995, 0};
    char small[6];
    CHECK(seam_detokenize(t, hello, 4, small, sizeof small) == 13 && strcmp(small, "Hello") == 0);
    CHECK(seam_detokenize(t, hello, 4, NULL, 0) == 13);
    int32_t bad[] = {15496, -5, 99999999, 0};
    char out[32];
    CHECK(seam_detokenize(t, bad, 4, out, sizeof out) == 6 && strcmp(out, "Hello!") == 0);
    seam_tokenizer_close(t);
}

/* The id of the one-byte token for byte b. */
static int32_t byte_token(const seam_tokenizer *t, unsigned char b) {
    for (int32_t id = 0; id < seam_tokenizer_vocab_size(t); id++) {
        size_t len;
        const char *p = seam_token_bytes(t, id, &len);
        if (p && len == 1 && (unsigned char)p[0] == b) return id;
    }
    return -1;
}

static int decodes_to(const seam_tokenizer *t, const char *bytes, size_t n, const char *want) {
    int32_t ids[16];
    for (size_t i = 0; i < n; i++) ids[i] = byte_token(t, (unsigned char)bytes[i]);
    char out[64];
    size_t got = seam_detokenize(t, ids, n, out, sizeof out);
    return got == strlen(want) && strcmp(out, want) == 0;
}

TEST(test_tokenizer_decode_replacement) {
    seam_tokenizer *t = open_ok(fixture("tok/gpt2"));
    CHECK(t);
#define FFFD "\xEF\xBF\xBD"
    /* Expected strings are Python's bytes.decode('utf-8', errors='replace'). */
    CHECK(decodes_to(t, "\xE4\xB8\xAD", 3, "\xE4\xB8\xAD"));
    CHECK(decodes_to(t, "\xE4", 1, FFFD));
    CHECK(decodes_to(t, "\xE4\xB8", 2, FFFD));
    CHECK(decodes_to(t, "\xE4\xB8" "a", 3, FFFD "a"));
    CHECK(decodes_to(t, "\xF0\x9F\x98" "a", 4, FFFD "a"));
    CHECK(decodes_to(t, "\xC0\xAF", 2, FFFD FFFD));
    CHECK(decodes_to(t, "\xED\xA0\x80", 3, FFFD FFFD FFFD));
    CHECK(decodes_to(t, "\xF4\x90\x80\x80", 4, FFFD FFFD FFFD FFFD));
    CHECK(decodes_to(t, "\xE0\x80", 2, FFFD FFFD));
    CHECK(decodes_to(t, "\xFF" "b\x80", 3, FFFD "b" FFFD));
    CHECK(decodes_to(t, "\xF0\x9F\x98\x80", 4, "\xF0\x9F\x98\x80"));
    CHECK(decodes_to(t, "\xE4\xE4\xB8\xAD", 4, FFFD "\xE4\xB8\xAD"));
#undef FFFD
    seam_tokenizer_close(t);
}

TEST(test_tokenizer_invalid_utf8_input) {
    seam_tokenizer *t = open_ok(fixture("tok/gpt2"));
    CHECK(t);
    const char text[] = "ab\xFF\xFE cd \xE4\xB8 x\xC3";
    int32_t ids[64];
    size_t n;
    seam_error err;
    CHECK(seam_tokenize(t, text, sizeof text - 1, ids, 64, &n, &err) == SEAM_OK);
    /* Every byte comes back through the byte-level map. */
    char raw[64];
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *b = seam_token_bytes(t, ids[i], &len);
        CHECK(b && o + len <= sizeof raw);
        memcpy(raw + o, b, len);
        o += len;
    }
    CHECK(o == sizeof text - 1 && memcmp(raw, text, o) == 0);
    seam_tokenizer_close(t);
}

/* A stream of pseudo-random words, numbers, punctuation, whitespace and multi-byte text. */
static char *make_text(size_t target, size_t *len) {
    static const char *const pieces[] = {
        "the ", "quick ", "brown ", "fox ", "jumps ", "over ", "lazy ", "dog", ". ", ", ", "\n", "\n\n", "  ",
        "I'm ", "they'll ", "don't ", "2024 ", "3.14159 ", "naïve ", "café ", "Ünïcödé ", "日本語 ", "😀 ",
        "\t", "Supercalifragilisticexpialidocious ", "antidisestablishmentarianism", "!!!", "<|endoftext|>",
        "https://example.com/a/b?c=d ", "    return x ** 2\n", "Привет ", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz "};
    char *s = malloc(target + 64);
    size_t n = 0;
    uint64_t r = 88172645463325252ull;
    while (s && n < target) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        const char *p = pieces[r % (sizeof pieces / sizeof pieces[0])];
        size_t l = strlen(p);
        memcpy(s + n, p, l);
        n += l;
    }
    *len = n;
    return s;
}

TEST(test_tokenizer_cache_consistency) {
    seam_tokenizer *t = open_ok(fixture("tok/gpt2"));
    CHECK(t);
    size_t len;
    char *text = make_text(2u << 20, &len);
    CHECK(text);
    size_t cap = len + 16, n1 = 0, n2 = 0;
    int32_t *a = malloc(cap * sizeof *a), *b = malloc(cap * sizeof *b);
    seam_error err;
    CHECK(seam_tokenize(t, text, len, a, cap, &n1, &err) == SEAM_OK);
    CHECK(seam_tokenize(t, text, len, b, cap, &n2, &err) == SEAM_OK);
    CHECK(n1 == n2 && memcmp(a, b, n1 * sizeof *a) == 0);
    /* A fresh tokenizer on a slice sees the cache cold: same ids for the same words. */
    seam_tokenizer *t2 = open_ok(fixture("tok/gpt2"));
    CHECK(t2);
    size_t n3 = 0;
    CHECK(seam_tokenize(t2, text, len, b, cap, &n3, &err) == SEAM_OK);
    CHECK(n3 == n1 && memcmp(a, b, n1 * sizeof *a) == 0);
    /* Valid UTF-8 round-trips exactly. */
    char *dec = malloc(len + 1);
    CHECK(seam_detokenize(t, a, n1, dec, len + 1) == len && memcmp(dec, text, len) == 0);
    free(dec);
    free(a);
    free(b);
    free(text);
    seam_tokenizer_close(t);
    seam_tokenizer_close(t2);
}

typedef struct {
    const seam_tokenizer *t;
    const char *text;
    size_t len;
    int32_t *ids;
    size_t n;
    seam_status st;
} tok_job;

static void *tok_thread(void *p) {
    tok_job *j = p;
    for (int r = 0; r < 4; r++) j->st = seam_tokenize(j->t, j->text, j->len, j->ids, j->len + 16, &j->n, NULL);
    return NULL;
}

/* One tokenizer shared by threads: each gets the same ids (the loser of the scratch race
 * runs uncached). */
TEST(test_tokenizer_threads) {
    seam_tokenizer *t = open_ok(fixture("tok/gpt2"));
    CHECK(t);
    size_t len;
    char *text = make_text(256u << 10, &len);
    CHECK(text);
    tok_job jobs[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (tok_job){t, text, len, malloc((len + 16) * sizeof(int32_t)), 0, SEAM_OK};
        CHECK(pthread_create(&th[i], NULL, tok_thread, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    int same = 1;
    for (int i = 0; i < 4; i++)
        same &= jobs[i].st == SEAM_OK && jobs[i].n == jobs[0].n &&
                memcmp(jobs[i].ids, jobs[0].ids, jobs[0].n * sizeof(int32_t)) == 0;
    for (int i = 0; i < 4; i++) free(jobs[i].ids);
    free(text);
    seam_tokenizer_close(t);
    CHECK(same);
}

/* Long words exercise the heap merge loop far past the cache. */
TEST(test_tokenizer_long_runs) {
    seam_tokenizer *t = open_ok(fixture("tok/gpt2"));
    CHECK(t);
    size_t len = 200000;
    char *text = malloc(len);
    for (size_t i = 0; i < len; i++) text[i] = (char)("ab"[i % 7 == 3]);
    int32_t *ids = malloc(len * sizeof *ids);
    size_t n;
    seam_error err;
    CHECK(seam_tokenize(t, text, len, ids, len, &n, &err) == SEAM_OK);
    char *dec = malloc(len + 1);
    CHECK(seam_detokenize(t, ids, n, dec, len + 1) == len && memcmp(dec, text, len) == 0);
    memset(text, ' ', len);
    CHECK(seam_tokenize(t, text, len, ids, len, &n, &err) == SEAM_OK);
    CHECK(seam_detokenize(t, ids, n, dec, len + 1) == len && memcmp(dec, text, len) == 0);
    free(dec);
    free(ids);
    free(text);
    seam_tokenizer_close(t);
}

/* ------------------------------------------------------------------ small and broken files */

typedef struct {
    const char *added, *normalizer, *pre, *type, *vocab, *merges, *extra, *decoder;
} small_spec;

/* Writes a tokenizer.json into a fresh folder; NULL fields take a small valid default. */
static const char *small_json(small_spec s) {
    const char *dir = test_tmpdir();
    static char buf[8192];
    snprintf(buf, sizeof buf,
             "{\"version\":\"1.0\",\"added_tokens\":%s,\"normalizer\":%s,\"pre_tokenizer\":%s,"
             "\"post_processor\":null,\"decoder\":%s,\"model\":{\"type\":\"%s\",\"vocab\":%s,\"merges\":%s%s}}",
             s.added ? s.added : "[]", s.normalizer ? s.normalizer : "null",
             s.pre ? s.pre : "{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true}",
             s.decoder ? s.decoder : "{\"type\":\"ByteLevel\"}", s.type ? s.type : "BPE",
             s.vocab ? s.vocab
                     : "{\"a\":0,\"b\":1,\"c\":2,\"ab\":3,\"abc\":4,\"\\u0120\":5,\"\\u0120ab\":6,\"<unk>\":7,\"z\":8}",
             s.merges ? s.merges : "[\"a b\",\"ab c\",\"\\u0120 ab\"]", s.extra ? s.extra : "");
    return write_text(dir, "tokenizer.json", buf) ? dir : "/nonexistent";
}

static seam_status open_status(const char *dir, seam_error *err) {
    seam_tokenizer *t = NULL;
    seam_status st = seam_tokenizer_open(dir, &t, err);
    if ((st == SEAM_OK) != (t != NULL)) return (seam_status)-1;
    seam_tokenizer_close(t);
    return st;
}

/* Tokenizes text with the tokenizer in dir into "id id id" for easy comparison. */
static const char *ids_of(const char *dir, const char *text) {
    static char out[256];
    seam_tokenizer *t = NULL;
    seam_error err;
    if (seam_tokenizer_open(dir, &t, &err) != SEAM_OK) {
        snprintf(out, sizeof out, "open failed: %.200s", err.message);
        return out;
    }
    int32_t ids[32];
    size_t n = 0, o = 0;
    out[0] = 0;
    if (seam_tokenize(t, text, strlen(text), ids, 32, &n, &err) != SEAM_OK) snprintf(out, sizeof out, "failed");
    for (size_t i = 0; i < n && i < 32; i++) o += (size_t)snprintf(out + o, sizeof out - o, i ? " %d" : "%d", (int)ids[i]);
    seam_tokenizer_close(t);
    return out;
}

TEST(test_tokenizer_small_models) {
    small_spec d = {0};
    CHECK(strcmp(ids_of(small_json(d), "abc ab cab"), "4 6 5 2 3") == 0);
    /* A byte with no token is dropped, as the reference does without unk_token. */
    CHECK(strcmp(ids_of(small_json(d), "abq"), "3") == 0);
    small_spec pairs = {.merges = "[[\"a\",\"b\"],[\"ab\",\"c\"],[\"\\u0120\",\"ab\"]]"};
    CHECK(strcmp(ids_of(small_json(pairs), "abc ab cab"), "4 6 5 2 3") == 0);
    small_spec prefix = {.pre = "{\"type\":\"ByteLevel\",\"add_prefix_space\":true}"};
    CHECK(strcmp(ids_of(small_json(prefix), "ab"), "6") == 0);
    CHECK(strcmp(ids_of(small_json(prefix), " ab"), "6") == 0);
    small_spec unk = {.extra = ",\"unk_token\":\"<unk>\""};
    CHECK(strcmp(ids_of(small_json(unk), "aqqb"), "0 7 7 1") == 0);
    small_spec fuse = {.extra = ",\"unk_token\":\"<unk>\",\"fuse_unk\":true"};
    CHECK(strcmp(ids_of(small_json(fuse), "aqqb"), "0 7 1") == 0);
    small_spec ignore = {.vocab = "{\"a\":0,\"b\":1,\"c\":2,\"ab\":3,\"bc\":4,\"abc\":5}",
                         .merges = "[\"a b\"]", .extra = ",\"ignore_merges\":true"};
    CHECK(strcmp(ids_of(small_json(ignore), "abc"), "5") == 0);
    ignore.extra = NULL;
    CHECK(strcmp(ids_of(small_json(ignore), "abc"), "3 2") == 0);
    /* Added tokens: longest match wins, lstrip/rstrip swallow whitespace, non-special too. */
    small_spec added = {.added = "[{\"id\":9,\"content\":\"<x>\",\"special\":true},"
                                 "{\"id\":10,\"content\":\"<x><y>\",\"special\":true},"
                                 "{\"id\":11,\"content\":\"[m]\",\"lstrip\":true,\"rstrip\":true},"
                                 "{\"id\":12,\"content\":\"cc\",\"single_word\":true}]"};
    const char *dir = small_json(added);
    CHECK(strcmp(ids_of(dir, "ab<x>ab"), "3 9 3") == 0);
    CHECK(strcmp(ids_of(dir, "<x><y><x>"), "10 9") == 0);
    CHECK(strcmp(ids_of(dir, "ab  [m]  ab"), "3 11 3") == 0);
    CHECK(strcmp(ids_of(dir, "cc ab"), "12 6") == 0);
    CHECK(strcmp(ids_of(dir, "acc"), "0 2 2") == 0);
    seam_tokenizer *t = NULL;
    seam_error err;
    CHECK(seam_tokenizer_open(dir, &t, &err) == SEAM_OK);
    CHECK(seam_tokenizer_vocab_size(t) == 13);
    CHECK(seam_tokenizer_special(t, "<x><y>") == 10 && seam_tokenizer_special(t, "[m]") == 11);
    int32_t ids[] = {9, 6, 11};
    char out[32];
    CHECK(seam_detokenize(t, ids, 3, out, sizeof out) == 9 && strcmp(out, "<x> ab[m]") == 0);
    seam_tokenizer_close(t);
}

TEST(test_tokenizer_malformed_json) {
    seam_error err;
    struct {
        small_spec spec;
        seam_status want;
    } cases[] = {
        {{.type = "Unigram"}, SEAM_ERR_UNSUPPORTED},
        {{.type = "Unigram"}, SEAM_ERR_UNSUPPORTED},
        {{.normalizer = "{\"type\":\"NFC\"}"}, SEAM_ERR_UNSUPPORTED},
        {{.pre = "{\"type\":\"Whitespace\"}"}, SEAM_ERR_UNSUPPORTED},
        {{.pre = "null"}, SEAM_ERR_UNSUPPORTED},
        {{.pre = "{\"type\":\"ByteLevel\",\"use_regex\":false}"}, SEAM_ERR_UNSUPPORTED},
        {{.pre = "{\"type\":\"ByteLevel\",\"add_prefix_space\":\"no\"}"}, SEAM_ERR_FORMAT},
        {{.decoder = "{\"type\":\"WordPiece\"}"}, SEAM_ERR_UNSUPPORTED},
        {{.extra = ",\"dropout\":0.1"}, SEAM_ERR_UNSUPPORTED},
        {{.extra = ",\"continuing_subword_prefix\":\"##\""}, SEAM_ERR_UNSUPPORTED},
        {{.extra = ",\"byte_fallback\":true"}, SEAM_ERR_UNSUPPORTED},
        {{.extra = ",\"unk_token\":\"<nope>\""}, SEAM_ERR_FORMAT},
        {{.extra = ",\"unk_token\":5"}, SEAM_ERR_FORMAT},
        {{.vocab = "[]"}, SEAM_ERR_FORMAT},
        {{.vocab = "{\"a\":\"0\"}", .merges = "[]"}, SEAM_ERR_FORMAT},
        {{.vocab = "{\"a\":-1}", .merges = "[]"}, SEAM_ERR_FORMAT},
        {{.vocab = "{\"a\":1.5}", .merges = "[]"}, SEAM_ERR_FORMAT},
        {{.vocab = "{\"a\":99999999999}", .merges = "[]"}, SEAM_ERR_FORMAT},
        {{.vocab = "{\"a\":0,\"b\":0}", .merges = "[]"}, SEAM_ERR_FORMAT},
        {{.vocab = "{\"a\":0,\"a\":1}", .merges = "[]"}, SEAM_ERR_FORMAT},
        {{.vocab = "{}", .merges = "[]"}, SEAM_ERR_FORMAT},
        {{.merges = "{}"}, SEAM_ERR_FORMAT},
        {{.merges = "[\"a q\"]"}, SEAM_ERR_FORMAT},
        {{.merges = "[\"b c\"]"}, SEAM_ERR_FORMAT}, /* "bc" is not in the vocabulary */
        {{.merges = "[\"ab\"]"}, SEAM_ERR_FORMAT},
        {{.merges = "[\"a b c\"]"}, SEAM_ERR_FORMAT},
        {{.merges = "[\" a\"]"}, SEAM_ERR_FORMAT},
        {{.merges = "[7]"}, SEAM_ERR_FORMAT},
        {{.merges = "[[\"a\"]]"}, SEAM_ERR_FORMAT},
        {{.merges = "[[\"a\",1]]"}, SEAM_ERR_FORMAT},
        {{.added = "{}"}, SEAM_ERR_FORMAT},
        {{.added = "[7]"}, SEAM_ERR_FORMAT},
        {{.added = "[{\"content\":\"<x>\"}]"}, SEAM_ERR_FORMAT},
        {{.added = "[{\"id\":9}]"}, SEAM_ERR_FORMAT},
        {{.added = "[{\"id\":9,\"content\":\"\"}]"}, SEAM_ERR_FORMAT},
        {{.added = "[{\"id\":-9,\"content\":\"<x>\"}]"}, SEAM_ERR_FORMAT},
        {{.added = "[{\"id\":9,\"content\":\"<x>\",\"special\":1}]"}, SEAM_ERR_FORMAT},
        {{.added = "[{\"id\":9,\"content\":\"<x>\"},{\"id\":10,\"content\":\"<x>\"}]"}, SEAM_ERR_FORMAT},
        {{.added = "[{\"id\":9,\"content\":\"<x>\"},{\"id\":9,\"content\":\"<y>\"}]"}, SEAM_ERR_FORMAT},
        {{.added = "[{\"id\":9,\"content\":\"<x>\"},{\"id\":9,\"content\":\"<x>\"}]"}, SEAM_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err.message[0] = 0;
        seam_status st = open_status(small_json(cases[i].spec), &err);
        CHECKF(st == cases[i].want, "case %zu: got status %d (%s), want %d", i, (int)st, err.message,
               (int)cases[i].want);
        CHECKF(st == SEAM_OK || strstr(err.message, "tokenizer.json"), "case %zu: message %s", i, err.message);
    }

    /* Not JSON, truncated JSON, wrong top level, no model, no model type. */
    static const char *const raw[] = {"", "{", "not json", "[1,2]", "{\"model\":3}", "{\"model\":{\"vocab\":{}}}",
                                      "{\"model\":{\"type\":\"BPE\"}}", "\xFF\xFE{}"};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        const char *dir = test_tmpdir();
        CHECK(write_text(dir, "tokenizer.json", raw[i]));
        seam_status st = open_status(dir, &err);
        CHECKF(st == SEAM_ERR_FORMAT || st == SEAM_ERR_UNSUPPORTED, "raw case %zu: status %d", i, (int)st);
    }
    /* Every prefix of a real file is malformed, never a crash (sampled). */
    char *real;
    size_t len;
    CHECK(seam_read_file(fixture("tok/gpt2/tokenizer.json"), (size_t)1 << 26, &real, &len, &err) == SEAM_OK);
    const char *dir = test_tmpdir();
    for (size_t cut = 1; cut < len; cut = cut * 3 + 7) {
        char c = real[cut];
        real[cut] = 0;
        int ok = write_text(dir, "tokenizer.json", real);
        real[cut] = c;
        CHECK(ok);
        CHECKF(open_status(dir, &err) == SEAM_ERR_FORMAT, "prefix of %zu bytes", cut);
    }
    free(real);
}

TEST(test_tokenizer_malformed_vocab_merges) {
    seam_error err;
    CHECK(open_status(test_tmpdir(), &err) == SEAM_ERR_IO && strstr(err.message, "tokenizer.json") &&
          strstr(err.message, "merges.txt"));
    CHECK(open_status("/nonexistent/seam", &err) == SEAM_ERR_IO);
    const char *vocab = "{\"a\":0,\"b\":1,\"ab\":2,\"<|endoftext|>\":3}";
    struct {
        const char *vocab, *merges;
        seam_status want;
    } cases[] = {
        {NULL, "#version: 0.2\na b\n", SEAM_OK},
        {NULL, "a b", SEAM_OK},
        {NULL, "a b\r\n\r\n\n", SEAM_OK},
        {NULL, "", SEAM_OK},
        {NULL, "a b\n\na b\n", SEAM_ERR_FORMAT},
        {NULL, "a  b\n", SEAM_ERR_FORMAT},
        {NULL, "a b c\n", SEAM_ERR_FORMAT},
        {NULL, "ab\n", SEAM_ERR_FORMAT},
        {NULL, "a q\n", SEAM_ERR_FORMAT},
        {NULL, "b a\n", SEAM_ERR_FORMAT},
        {"[\"a\"]", "a b\n", SEAM_ERR_FORMAT},
        {"{\"a\":0,", "a b\n", SEAM_ERR_FORMAT},
        {"{\"a\":0,\"b\":true}", "a b\n", SEAM_ERR_FORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *dir = test_tmpdir();
        CHECK(write_text(dir, "vocab.json", cases[i].vocab ? cases[i].vocab : vocab));
        CHECK(write_text(dir, "merges.txt", cases[i].merges));
        err.message[0] = 0;
        seam_status st = open_status(dir, &err);
        CHECKF(st == cases[i].want, "case %zu: got status %d (%s), want %d", i, (int)st, err.message,
               (int)cases[i].want);
    }
    const char *dir = test_tmpdir();
    CHECK(write_text(dir, "vocab.json", vocab));
    CHECK(write_text(dir, "merges.txt", "a b\n"));
    CHECK(strcmp(ids_of(dir, "ab<|endoftext|>ba"), "2 3 1 0") == 0);
    /* tokenizer_config.json may add tokens; a broken one is an error. */
    CHECK(write_text(dir, "tokenizer_config.json",
                     "{\"added_tokens_decoder\":{\"4\":{\"content\":\"<pad>\",\"special\":true}},"
                     "\"bos_token\":{\"content\":\"ab\"},\"eos_token\":\"<|endoftext|>\"}"));
    CHECK(strcmp(ids_of(dir, "a<pad>b"), "0 4 1") == 0);
    CHECK(strcmp(ids_of(dir, "aab"), "0 2") == 0);
    CHECK(write_text(dir, "tokenizer_config.json", "{\"added_tokens_decoder\":{\"x\":{\"content\":\"<pad>\"}}}"));
    CHECK(open_status(dir, &err) == SEAM_ERR_FORMAT);
    CHECK(write_text(dir, "tokenizer_config.json", "{"));
    CHECK(open_status(dir, &err) == SEAM_ERR_FORMAT && strstr(err.message, "tokenizer_config.json"));
}

/* seam_tokenizer routes a WordPiece tokenizer.json (and a bare vocab.txt) to the BERT
 * tokenizer: the public API gives the golden bert-base-uncased ids too. */
TEST(test_tokenizer_public_api_wordpiece_golden) {
    seam_error err = {0};
    seam_tokenizer *t = NULL;
    CHECKF(seam_tokenizer_open(fixture("tok/bert-base-uncased"), &t, &err) == SEAM_OK, "%s", err.message);
    FILE *f = fopen(fixture("tokenizer-golden/bert-uncased-shared.jsonl"), "r");
    CHECK(f != NULL);
    char *line = NULL;
    size_t cap = 0;
    int lines = 0, bad = 0;
    int32_t ids[4096];
    while (getline(&line, &cap, f) > 0 && !bad) {
        json_value *v = json_parse(line, strlen(line), NULL, 0);
        const json_value *text = json_get(v, "text"), *want = json_get(v, "ids");
        size_t n = 0;
        seam_status s = seam_tokenize(t, text->str, text->len, ids, 4096, &n, &err);
        int same = s == SEAM_OK && n == want->len;
        for (size_t i = 0; same && i < n; i++) same = ids[i] == want->items[i].integer;
        if (!same) bad = test_fail(__FILE__, __LINE__, "line %d differs (%s)", lines + 1, err.message) + 1;
        json_free(v);
        lines++;
    }
    free(line);
    fclose(f);
    CHECK(seam_tokenizer_special(t, "[CLS]") == 101);
    CHECK(seam_tokenizer_vocab_size(t) == 30522);
    seam_tokenizer_close(t);
    CHECKF(!bad && lines == 400, "%d lines", lines);
}
