/* Shared by the tokenizer fuzz targets: a private folder for the files, and the work done
 * with a tokenizer that opened. Header-only so each target stays one translation unit. */
#ifndef SEAM_FUZZ_TOK_COMMON_H
#define SEAM_FUZZ_TOK_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seam.h"

static char fz_dir[64];
static const char *const *fz_names; /* files written into fz_dir, NULL-terminated */

static void fz_cleanup(void) {
    if (!fz_dir[0]) return;
    for (const char *const *n = fz_names; n && *n; n++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", fz_dir, *n);
        unlink(p);
    }
    rmdir(fz_dir);
}

/* Creates the private folder once; names lists the files that will be written there. */
static const char *fz_folder(const char *const *names) {
    if (fz_dir[0]) return fz_dir;
    const char *tmp = getenv("TMPDIR");
    snprintf(fz_dir, sizeof fz_dir, "%s/seam-fuzz-XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
    if (!mkdtemp(fz_dir)) {
        perror("mkdtemp");
        abort();
    }
    fz_names = names;
    atexit(fz_cleanup);
    return fz_dir;
}

static void fz_write(const char *name, const uint8_t *data, size_t size) {
    char p[128];
    snprintf(p, sizeof p, "%s/%s", fz_dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) {
        perror(p);
        abort();
    }
    if (size && fwrite(data, 1, size, f) != size) abort();
    if (fclose(f) != 0) abort();
}

/* Encodes text, checking the RANGE protocol for a short buffer, then decodes the ids. */
static void fz_round(const seam_tokenizer *t, const char *text, size_t len) {
    int32_t small[4];
    size_t need = 0;
    seam_error err;
    seam_status s = seam_tokenize(t, text, len, small, sizeof small / sizeof small[0], &need, &err);
    if (s != SEAM_OK && s != SEAM_ERR_RANGE) return; /* e.g. a token the vocabulary cannot spell */
    if (s == SEAM_ERR_RANGE && need <= sizeof small / sizeof small[0]) abort();
    size_t cap = need ? need : 1;
    int32_t *ids = malloc(cap * sizeof *ids);
    if (!ids) return;
    size_t n = 0;
    s = seam_tokenize(t, text, len, ids, cap, &n, &err);
    if (s == SEAM_OK) {
        if (n != need) abort(); /* deterministic */
        for (size_t i = 0; i < n; i++) {
            size_t bl = 0;
            const char *b = seam_token_bytes(t, ids[i], &bl);
            if (!b || ids[i] < 0) abort(); /* every id produced must be decodable */
            if (bl) (void)(volatile char)b[bl - 1];
        }
        (void)seam_tokenizer_vocab_size(t);
        size_t want = seam_detokenize(t, ids, n, NULL, 0);
        char *out = malloc(want + 1);
        if (out) {
            size_t got = seam_detokenize(t, ids, n, out, want + 1);
            if (got != want || out[want] != 0) abort();
            /* A short buffer is filled and NUL-terminated, never overrun. */
            char tiny[3];
            (void)seam_detokenize(t, ids, n, tiny, sizeof tiny);
            if (memchr(tiny, 0, sizeof tiny) == NULL) abort();
            free(out);
        }
    }
    free(ids);
}

static void fz_exercise(const seam_tokenizer *t, const uint8_t *data, size_t size) {
    static const char *const texts[] = {
        "Hello world! It's a test, isn't it?  Numbers 12345 and   spaces\t\n\n",
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xE4\xB8\xAD\xE6\x96\x87 <|endoftext|> after",
        "\xFF\xFE\xC0\x80 broken \xE2\x82 utf8 \xED\xA0\x80",
        "",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) fz_round(t, texts[i], strlen(texts[i]));
    /* Also the first bytes of the input itself, as text. */
    fz_round(t, (const char *)data, size < 512 ? size : 512);
    /* Ids that may be unknown. */
    static const int32_t odd[] = {-1, 0, 1, 255, 256, 50256, 1 << 24, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        size_t bl = 0;
        const char *b = seam_token_bytes(t, odd[i], &bl);
        if (b && bl) (void)(volatile char)b[bl - 1];
    }
    char out[64];
    (void)seam_detokenize(t, odd, sizeof odd / sizeof odd[0], out, sizeof out);
    (void)seam_tokenizer_special(t, "<|endoftext|>");
    (void)seam_tokenizer_special(t, "");
    (void)seam_tokenizer_vocab_size(t);
}

#endif
