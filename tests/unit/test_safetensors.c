/* st_parse / st_open: a good image, every kind of malformed image, the fixture file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/safetensors.h"
#include "test.h"

/* A safetensors image: 8-byte little-endian header length, the header, the data. */
typedef struct {
    uint8_t *buf;
    size_t len;
} st_image;

static st_image make_image_hlen(uint64_t hlen_field, const char *header, size_t header_len, const void *data,
                                size_t data_len) {
    st_image im;
    im.len = 8 + header_len + data_len;
    im.buf = malloc(im.len ? im.len : 1);
    if (!im.buf) { im.len = 0; return im; }
    for (int i = 0; i < 8; i++) im.buf[i] = (uint8_t)(hlen_field >> (8 * i));
    memcpy(im.buf + 8, header, header_len);
    if (data_len) {
        if (data) memcpy(im.buf + 8 + header_len, data, data_len);
        else for (size_t i = 0; i < data_len; i++) im.buf[8 + header_len + i] = (uint8_t)i;
    }
    return im;
}

/* header is a NUL-terminated JSON string; data NULL means data_len bytes 0, 1, 2, ... */
static st_image make_image(const char *header, const void *data, size_t data_len) {
    size_t hl = strlen(header);
    return make_image_hlen(hl, header, hl, data, data_len);
}

/* Parses the image and expects SEAM_ERR_FORMAT with a message containing each of the
 * '|'-separated words in want (case-sensitive). Frees the image. */
static int expect_format_error(st_image im, const char *want, int line) {
    if (!im.buf) return test_fail(__FILE__, line, "out of memory building the image");
    st_file f;
    seam_error err;
    memset(&err, 0, sizeof err);
    seam_status s = st_parse(im.buf, im.len, &f, &err);
    int ok = 1;
    if (s != SEAM_ERR_FORMAT) {
        ok = test_fail(__FILE__, line, "st_parse returned %d (%s), want SEAM_ERR_FORMAT; message: %s", (int)s,
                       seam_status_name(s), err.message);
        if (s == SEAM_OK) st_close(&f);
    } else {
        if (err.code != SEAM_ERR_FORMAT) ok = test_fail(__FILE__, line, "err.code %d not set", (int)err.code);
        char words[256];
        snprintf(words, sizeof words, "%s", want);
        for (char *w = strtok(words, "|"); ok && w; w = strtok(NULL, "|"))
            if (!strstr(err.message, w))
                ok = test_fail(__FILE__, line, "message \"%s\" does not mention \"%s\"", err.message, w);
        /* On failure nothing is left allocated or exposed. */
        if (ok && (f.tensors || f.n_tensors || f.meta_keys || f.n_meta || f.map))
            ok = test_fail(__FILE__, line, "st_file not cleared after failure");
    }
    free(im.buf);
    return ok;
}
#define EXPECT_FORMAT(im, want) CHECK(expect_format_error((im), (want), __LINE__))

static const char good_header[] =
    "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"caf\xC3\xA9\"},"
    "\"b.scalar\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[32,36]},"
    "\"a.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
    "\"c.half\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[24,32]},"
    "\"d.empty\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[36,36]},"
    "\"e.u8\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,4],\"data_offsets\":[36,40]}}   ";

TEST(test_st_good_image) {
    st_image im = make_image(good_header, NULL, 40);
    CHECK(im.buf != NULL);
    st_file f;
    seam_error err = {0};
    seam_status s = st_parse(im.buf, im.len, &f, &err);
    CHECKF(s == SEAM_OK, "st_parse: %s", err.message);
    const uint8_t *data = im.buf + 8 + strlen(good_header);
    int ok = f.n_tensors == 5;
    /* sorted by name */
    for (size_t i = 1; ok && i < f.n_tensors; i++) ok = strcmp(f.tensors[i - 1].name, f.tensors[i].name) < 0;
    const st_tensor *a = st_find(&f, "a.weight"), *b = st_find(&f, "b.scalar"), *c = st_find(&f, "c.half"),
                    *d = st_find(&f, "d.empty"), *e = st_find(&f, "e.u8");
    ok = ok && a && b && c && d && e && !st_find(&f, "zzz") && !st_find(&f, "__metadata__") && !st_find(&f, "");
    ok = ok && a->dtype == ST_F32 && a->n_dims == 2 && a->shape[0] == 2 && a->shape[1] == 3 && a->n_elems == 6 &&
         a->begin == 0 && a->end == 24 && a->data == data;
    ok = ok && b->dtype == ST_I32 && b->n_dims == 0 && b->n_elems == 1 && b->data == data + 32;
    ok = ok && c->dtype == ST_F16 && c->n_dims == 1 && c->shape[0] == 4 && c->data == data + 24;
    ok = ok && d->n_elems == 0 && d->begin == 36 && d->end == 36;
    ok = ok && e->dtype == ST_U8 && e->n_dims == 8 && e->shape[7] == 4 && e->data == data + 36 && e->data[3] == 39;
    ok = ok && a->data[0] == 0 && a->data[23] == 23;
    ok = ok && f.n_meta == 2 && st_meta(&f, "format") && strcmp(st_meta(&f, "format"), "pt") == 0 &&
         st_meta(&f, "note") && strcmp(st_meta(&f, "note"), "caf\xC3\xA9") == 0 && st_meta(&f, "none") == NULL;
    ok = ok && f.map == NULL;
    st_close(&f);
    st_close(&f); /* idempotent after close */
    st_close(NULL);
    free(im.buf);
    CHECK(ok);
}

TEST(test_st_dtype_table) {
    static const struct { const char *name; size_t size; } want[] = {
        {"BOOL", 1}, {"U8", 1}, {"I8", 1}, {"I16", 2}, {"U16", 2}, {"F16", 2}, {"BF16", 2}, {"I32", 4},
        {"U32", 4}, {"F32", 4}, {"I64", 8}, {"U64", 8}, {"F64", 8}, {"F8_E4M3", 1}, {"F8_E5M2", 1},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char header[160];
        snprintf(header, sizeof header, "{\"t\":{\"dtype\":\"%s\",\"shape\":[3],\"data_offsets\":[0,%zu]}}", want[i].name,
                 3 * want[i].size);
        st_image im = make_image(header, NULL, 3 * want[i].size);
        CHECK(im.buf != NULL);
        st_file f;
        seam_error err = {0};
        seam_status s = st_parse(im.buf, im.len, &f, &err);
        free(im.buf);
        CHECKF(s == SEAM_OK, "dtype %s: %s", want[i].name, err.message);
        int ok = f.n_tensors == 1 && strcmp(st_dtype_name(f.tensors[0].dtype), want[i].name) == 0 &&
                 st_dtype_size(f.tensors[0].dtype) == want[i].size;
        st_close(&f);
        CHECKF(ok, "dtype %s", want[i].name);
    }
    CHECK(st_dtype_size(ST_DTYPE_COUNT) == 0);
}

TEST(test_st_empty_header_and_padding) {
    st_image im = make_image("{}", NULL, 0);
    CHECK(im.buf != NULL);
    st_file f;
    seam_error err = {0};
    seam_status s = st_parse(im.buf, im.len, &f, &err);
    free(im.buf);
    CHECKF(s == SEAM_OK && f.n_tensors == 0, "empty header: %s", err.message);
    st_close(&f);
    /* Trailing spaces pad the header (the reference aligns the data to 8 bytes). */
    im = make_image("{\"x\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}      ", NULL, 2);
    CHECK(im.buf != NULL);
    s = st_parse(im.buf, im.len, &f, &err);
    free(im.buf);
    CHECKF(s == SEAM_OK && f.n_tensors == 1, "padded header: %s", err.message);
    st_close(&f);
}

TEST(test_st_truncated_file) {
    for (size_t n = 0; n < 8; n++) {
        uint8_t *b = malloc(8);
        CHECK(b != NULL);
        memset(b, 0, 8);
        st_image im = {b, n};
        CHECKF(expect_format_error(im, "too short", __LINE__), "%zu-byte file", n);
    }
    /* A good image cut anywhere must fail cleanly (never read past the end). */
    st_image good = make_image(good_header, NULL, 40);
    CHECK(good.buf != NULL);
    for (size_t cut = 0; cut < good.len; cut++) {
        uint8_t *b = malloc(cut ? cut : 1); /* exact size so ASan sees any over-read */
        CHECK(b != NULL);
        memcpy(b, good.buf, cut);
        st_file f;
        seam_error err = {0};
        seam_status s = st_parse(b, cut, &f, &err);
        free(b);
        if (s == SEAM_OK) st_close(&f);
        if (s != SEAM_ERR_FORMAT) { free(good.buf); CHECKF(0, "image cut at %zu: status %d", cut, (int)s); }
    }
    free(good.buf);
}

TEST(test_st_header_length_past_eof) {
    const char *h = "{}";
    EXPECT_FORMAT(make_image_hlen(100, h, 2, NULL, 10), "past the end");
    EXPECT_FORMAT(make_image_hlen(3, h, 2, NULL, 0), "past the end");
    EXPECT_FORMAT(make_image_hlen(ST_MAX_HEADER, h, 2, NULL, 0), "past the end");
}

TEST(test_st_header_length_over_limit) {
    const char *h = "{}";
    EXPECT_FORMAT(make_image_hlen((uint64_t)ST_MAX_HEADER + 1, h, 2, NULL, 0), "limit");
    EXPECT_FORMAT(make_image_hlen(UINT64_MAX, h, 2, NULL, 0), "limit");
    EXPECT_FORMAT(make_image_hlen(UINT64_MAX - 7, h, 2, NULL, 0), "limit"); /* 8 + hlen would wrap */
    EXPECT_FORMAT(make_image_hlen((uint64_t)1 << 63, h, 2, NULL, 0), "limit");
}

TEST(test_st_header_not_json) {
    EXPECT_FORMAT(make_image("{garbage}", NULL, 0), "header|invalid JSON");
    EXPECT_FORMAT(make_image("{\"a\":", NULL, 0), "header|invalid JSON");
    EXPECT_FORMAT(make_image("{\"a\":{}}x", NULL, 0), "header|invalid JSON");
    EXPECT_FORMAT(make_image_hlen(0, "", 0, NULL, 4), "header");
    EXPECT_FORMAT(make_image_hlen(1, "{", 1, NULL, 0), "header");
    /* A NUL inside the header: the header length, not strlen, is the bound. */
    EXPECT_FORMAT(make_image_hlen(4, "{}\0\0", 4, NULL, 0), "header|invalid JSON");
}

TEST(test_st_header_not_object) {
    EXPECT_FORMAT(make_image("[1,2]", NULL, 0), "header|object");
    EXPECT_FORMAT(make_image("\"str\"", NULL, 0), "header|object");
    EXPECT_FORMAT(make_image("  {}", NULL, 0), "header|object");
    EXPECT_FORMAT(make_image("null", NULL, 0), "header|object");
    EXPECT_FORMAT(make_image("{\"t\":[1]}", NULL, 0), "'t'|not an object");
    EXPECT_FORMAT(make_image("{\"t\":\"F32\"}", NULL, 0), "'t'|not an object");
}

TEST(test_st_header_non_utf8) {
    EXPECT_FORMAT(make_image("{\"t\xff\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", NULL, 1),
                  "header|UTF-8");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\xC0\x80\",\"shape\":[1],\"data_offsets\":[0,1]}}", NULL, 1),
                  "header|UTF-8");
    EXPECT_FORMAT(make_image("{\"__metadata__\":{\"k\":\"\xED\xA0\x80\"}}", NULL, 0), "header|UTF-8");
    EXPECT_FORMAT(make_image("{\xFF}", NULL, 0), "header|invalid JSON");
}

TEST(test_st_unknown_dtype) {
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", NULL, 4),
                  "'t'|unknown dtype|F33");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", NULL, 4),
                  "unknown dtype");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"\",\"shape\":[1],\"data_offsets\":[0,4]}}", NULL, 4), "unknown dtype");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32 \",\"shape\":[1],\"data_offsets\":[0,4]}}", NULL, 4),
                  "unknown dtype");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", NULL, 4), "'t'|dtype");
}

TEST(test_st_missing_fields) {
    EXPECT_FORMAT(make_image("{\"t\":{\"shape\":[1],\"data_offsets\":[0,4]}}", NULL, 4), "'t'|missing dtype");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", NULL, 4), "'t'|shape");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}}", NULL, 4), "'t'|shape");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", NULL, 4), "'t'|data_offsets");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", NULL, 4), "data_offsets");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", NULL, 8),
                  "data_offsets");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"0\":4}}}", NULL, 4),
                  "data_offsets");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}", NULL, 4),
                  "data_offsets");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.0,4.0]}}", NULL, 4),
                  "data_offsets");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", NULL, 4),
                  "data_offsets");
    EXPECT_FORMAT(make_image("{\"t\":{}}", NULL, 0), "'t'|missing");
}

TEST(test_st_bad_shape) {
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", NULL, 4),
                  "'t'|non-negative integers");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[2,-2],\"data_offsets\":[0,16]}}", NULL, 16),
                  "non-negative integers");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", NULL, 4),
                  "non-negative integers");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[1e0],\"data_offsets\":[0,4]}}", NULL, 4),
                  "non-negative integers");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[\"1\"],\"data_offsets\":[0,4]}}", NULL, 4),
                  "non-negative integers");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[null],\"data_offsets\":[0,4]}}", NULL, 4),
                  "non-negative integers");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[[1]],\"data_offsets\":[0,4]}}", NULL, 4),
                  "non-negative integers");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}",
                             NULL, 4),
                  "non-negative integers");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", NULL, 1),
                  "'t'|dimensions");
}

TEST(test_st_shape_overflow) {
    /* 2^32 * 2^32 elements: the element count wraps a uint64 to 0 if unchecked. */
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}",
                             NULL, 0),
                  "'t'|absurdly large");
    /* 2^62 elements * 4 bytes wraps to 0 bytes if the byte count is unchecked. */
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}", NULL,
                             0),
                  "'t'");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F64\",\"shape\":[2305843009213693952,8],\"data_offsets\":[0,0]}}", NULL,
                             0),
                  "'t'");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[9223372036854775807,9223372036854775807,"
                             "9223372036854775807],\"data_offsets\":[0,0]}}",
                             NULL, 0),
                  "'t'|absurdly large");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[65536,65536,65536,65536,65536],"
                             "\"data_offsets\":[0,0]}}",
                             NULL, 0),
                  "'t'|absurdly large");
    /* A zero dimension makes the count 0 whatever the others are: that is a valid empty tensor. */
    st_image im = make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[0,9223372036854775807],\"data_offsets\":[0,0]}}",
                             NULL, 0);
    CHECK(im.buf != NULL);
    st_file f;
    seam_error err = {0};
    seam_status s = st_parse(im.buf, im.len, &f, &err);
    free(im.buf);
    CHECKF(s == SEAM_OK || s == SEAM_ERR_FORMAT, "status %d", (int)s);
    if (s == SEAM_OK) {
        int ok = f.n_tensors == 1 && f.tensors[0].n_elems == 0;
        st_close(&f);
        CHECK(ok);
    }
}

TEST(test_st_offsets_begin_after_end) {
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[8,4]}}", NULL, 8),
                  "'t'|begin 8 > end 4");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[1,0]}}", NULL, 8), "begin");
}

TEST(test_st_offsets_past_data) {
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", NULL, 15),
                  "'t'|past the data");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[17,17]}}", NULL, 16),
                  "past the data");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[9223372036854775806,"
                             "9223372036854775807]}}",
                             NULL, 16),
                  "past the data");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,18446744073709551615]}}",
                             NULL, 16),
                  "data_offsets");
}

TEST(test_st_byte_count_mismatch) {
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", NULL, 8),
                  "'t'|4 bytes stored|need 8");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", NULL, 16),
                  "need 8");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,0]}}", NULL, 8), "need 4");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,4]}}", NULL, 8), "need 0");
}

TEST(test_st_overlapping_offsets) {
    /* Adjacent neighbours overlap. */
    EXPECT_FORMAT(make_image("{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},"
                             "\"b\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[4,12]}}",
                             NULL, 12),
                  "overlapping|'a'|'b'");
    /* Same range twice. */
    EXPECT_FORMAT(make_image("{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},"
                             "\"b\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]}}",
                             NULL, 8),
                  "overlapping");
    /* One inside another; listed in reverse order of begin. */
    EXPECT_FORMAT(make_image("{\"in\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[10,12]},"
                             "\"out\":{\"dtype\":\"U8\",\"shape\":[16],\"data_offsets\":[0,16]}}",
                             NULL, 16),
                  "overlapping");
    /* Sorted by begin: wide [0,32), empty [8,8), c [16,20). c's immediate predecessor (the
     * empty one) ends before it, but the earlier, wider tensor covers it. */
    EXPECT_FORMAT(make_image("{\"c\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[16,20]},"
                             "\"e\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,8]},"
                             "\"wide\":{\"dtype\":\"U8\",\"shape\":[32],\"data_offsets\":[0,32]}}",
                             NULL, 32),
                  "overlapping|'wide'|'c'");
    /* Several empties in between, and tensors after the wide one that do not overlap. */
    EXPECT_FORMAT(make_image("{\"w\":{\"dtype\":\"F32\",\"shape\":[16],\"data_offsets\":[0,64]},"
                             "\"e1\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]},"
                             "\"e2\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[5,5]},"
                             "\"e3\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[60,60]},"
                             "\"x\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[63,64]},"
                             "\"y\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[64,68]}}",
                             NULL, 68),
                  "overlapping|'w'|'x'");
    /* Touching ranges and empty tensors anywhere are fine. */
    st_image im = make_image("{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},"
                             "\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[4,4]},"
                             "\"b\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[8,16]},"
                             "\"c\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[8,8]}}",
                             NULL, 16);
    CHECK(im.buf != NULL);
    st_file f;
    seam_error err = {0};
    seam_status s = st_parse(im.buf, im.len, &f, &err);
    free(im.buf);
    CHECKF(s == SEAM_OK, "touching ranges rejected: %s", err.message);
    st_close(&f);
}

TEST(test_st_duplicate_names) {
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                             "\"u\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]},"
                             "\"t\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[8,12]}}",
                             NULL, 12),
                  "'t'|twice");
    /* The same name spelled with an escape is still the same name. */
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                             "\"\\u0074\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}",
                             NULL, 8),
                  "twice");
    EXPECT_FORMAT(make_image("{\"__metadata__\":{},\"__metadata__\":{}}", NULL, 0), "__metadata__");
}

TEST(test_st_metadata) {
    EXPECT_FORMAT(make_image("{\"__metadata__\":{\"format\":1}}", NULL, 0), "__metadata__|'format'|not a string");
    EXPECT_FORMAT(make_image("{\"__metadata__\":{\"a\":\"b\",\"c\":null}}", NULL, 0), "__metadata__|'c'");
    EXPECT_FORMAT(make_image("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", NULL, 0), "__metadata__");
    EXPECT_FORMAT(make_image("{\"__metadata__\":{\"a\":[\"b\"]}}", NULL, 0), "__metadata__");
    EXPECT_FORMAT(make_image("{\"__metadata__\":\"pt\"}", NULL, 0), "__metadata__|not an object");
    EXPECT_FORMAT(make_image("{\"__metadata__\":[]}", NULL, 0), "__metadata__");
    /* Error after metadata was partly read: nothing leaks (ASan build checks). */
    EXPECT_FORMAT(make_image("{\"__metadata__\":{\"a\":\"b\"},\"t\":{\"dtype\":\"F33\",\"shape\":[],"
                             "\"data_offsets\":[0,0]}}",
                             NULL, 0),
                  "F33");
    EXPECT_FORMAT(make_image("{\"t\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                             "\"__metadata__\":{\"a\":\"b\",\"n\":2}}",
                             NULL, 1),
                  "'n'");
}

TEST(test_st_open_missing_file) {
    st_file f;
    seam_error err = {0};
    char path[600];
    snprintf(path, sizeof path, "%s/does-not-exist.safetensors", test_tmpdir());
    seam_status s = st_open(path, &f, &err);
    CHECKF(s == SEAM_ERR_IO, "status %d: %s", (int)s, err.message);
    CHECKF(strstr(err.message, "does-not-exist.safetensors") != NULL, "message: %s", err.message);
    /* A folder is not a file. */
    s = st_open(test_tmpdir(), &f, &err);
    CHECKF(s == SEAM_ERR_IO, "folder: status %d: %s", (int)s, err.message);
}

static int write_bytes(const char *path, const void *p, size_t n) {
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    int ok = fwrite(p, 1, n, fp) == n;
    return (fclose(fp) == 0) && ok;
}

TEST(test_st_open_bad_files) {
    const char *dir = test_tmpdir();
    char path[600];
    st_file f;
    seam_error err = {0};
    /* Empty file. */
    snprintf(path, sizeof path, "%s/empty.safetensors", dir);
    CHECK(write_bytes(path, "", 0));
    seam_status s = st_open(path, &f, &err);
    CHECKF(s == SEAM_ERR_FORMAT, "empty file: status %d: %s", (int)s, err.message);
    CHECKF(strstr(err.message, "empty.safetensors") != NULL, "message should name the file: %s", err.message);
    /* Truncated data. */
    st_image im = make_image("{\"t\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", NULL, 16);
    CHECK(im.buf != NULL);
    snprintf(path, sizeof path, "%s/cut.safetensors", dir);
    int w = write_bytes(path, im.buf, im.len - 1);
    free(im.buf);
    CHECK(w);
    s = st_open(path, &f, &err);
    CHECKF(s == SEAM_ERR_FORMAT && strstr(err.message, "cut.safetensors") && strstr(err.message, "past the data"),
           "truncated file: status %d: %s", (int)s, err.message);
    /* And a good one, opened from disk: data points into the mapping. */
    im = make_image(good_header, NULL, 40);
    CHECK(im.buf != NULL);
    snprintf(path, sizeof path, "%s/good.safetensors", dir);
    w = write_bytes(path, im.buf, im.len);
    free(im.buf);
    CHECK(w);
    s = st_open(path, &f, &err);
    CHECKF(s == SEAM_OK, "good file: %s", err.message);
    const st_tensor *a = st_find(&f, "a.weight");
    int ok = f.map != NULL && f.path && strcmp(f.path, path) == 0 && a &&
             a->data == (const uint8_t *)f.map + 8 + strlen(good_header) && a->data[5] == 5;
    st_close(&f);
    CHECK(ok);
}

TEST(test_st_open_fixture) {
    st_file f;
    seam_error err = {0};
    const char *path = fixture("gpt2-tiny/model.safetensors");
    seam_status s = st_open(path, &f, &err);
    CHECKF(s == SEAM_OK, "%s: %s", path, err.message);
    int ok = 1;
    const char *fail_what = "";
    if (f.n_tensors != 52) { ok = 0; fail_what = "tensor count"; }
    static const char *names[] = {"transformer.wte.weight", "transformer.wpe.weight", "transformer.ln_f.weight",
                                  "transformer.ln_f.bias", "transformer.h.0.attn.c_attn.weight",
                                  "transformer.h.3.mlp.c_proj.bias"};
    for (size_t i = 0; ok && i < sizeof names / sizeof names[0]; i++)
        if (!st_find(&f, names[i])) { ok = 0; fail_what = names[i]; }
    const st_tensor *wte = st_find(&f, "transformer.wte.weight");
    const st_tensor *wpe = st_find(&f, "transformer.wpe.weight");
    const st_tensor *ca = st_find(&f, "transformer.h.0.attn.c_attn.weight");
    if (ok && !(wte->dtype == ST_F32 && wte->n_dims == 2 && wte->shape[0] == 50257 && wte->shape[1] == 64 &&
                wte->end - wte->begin == 50257ull * 64 * 4)) { ok = 0; fail_what = "wte"; }
    if (ok && !(wpe->n_dims == 2 && wpe->shape[0] == 128 && wpe->shape[1] == 64)) { ok = 0; fail_what = "wpe"; }
    if (ok && !(ca->n_dims == 2 && ca->shape[0] == 64 && ca->shape[1] == 192)) { ok = 0; fail_what = "c_attn"; }
    if (ok && st_find(&f, "lm_head.weight")) { ok = 0; fail_what = "lm_head should be absent (tied)"; }
    if (ok && !(st_meta(&f, "format") && strcmp(st_meta(&f, "format"), "pt") == 0)) { ok = 0; fail_what = "metadata"; }
    /* Every tensor lies inside the mapping. */
    for (size_t i = 0; ok && i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        if (t->data < (const uint8_t *)f.map || t->data + (t->end - t->begin) > (const uint8_t *)f.map + f.map_len) {
            ok = 0;
            fail_what = t->name;
        }
    }
    st_close(&f);
    CHECKF(ok, "fixture check failed: %s", fail_what);
}
