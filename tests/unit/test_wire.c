/* The hidden-state wire format: round trips, and every way a message can be wrong. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "seam_net.h"
#include "test.h"

static void fill(float *x, int n, unsigned seed) {
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = ((float)((seed >> 8) & 0xFFFF) / 65535.0f - 0.5f) * 20.0f;
    }
}

static seam_wire_header hdr(seam_wire_dtype d, int T, int C) {
    seam_wire_header h;
    memset(&h, 0, sizeof h);
    h.dtype = d;
    for (int i = 0; i < 32; i++) h.fingerprint[i] = (uint8_t)(i * 7 + 1);
    h.layer = 3;
    h.pos0 = 17;
    h.T = T;
    h.C = C;
    return h;
}

/* Rewrites the trailing CRC after a deliberate edit, so a test reaches the checks behind it. */
static void reseal(uint8_t *m, size_t len) {
    uint32_t c = seam_crc32(0, m, len - 4);
    for (int i = 0; i < 4; i++) m[len - 4 + i] = (uint8_t)(c >> (8 * i));
}

TEST(wire_crc32_known_value) {
    CHECK(seam_crc32(0, "123456789", 9) == 0xCBF43926u); /* the standard check value */
    CHECK(seam_crc32(seam_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
}

TEST(wire_round_trips) {
    enum { T = 5, C = 48 };
    float x[T * C], y[T * C];
    fill(x, T * C, 1);
    x[7] = 0.0f;
    x[8] = -0.0f;
    seam_wire_dtype dts[] = {SEAM_WIRE_F32, SEAM_WIRE_F16, SEAM_WIRE_Q8};
    for (int k = 0; k < 3; k++) {
        seam_wire_header h = hdr(dts[k], T, C), g;
        size_t n = seam_wire_size(dts[k], T, C), w = 0;
        CHECK(n == (size_t)(64 + 4 + T * (k == 0 ? 4 * C : k == 1 ? 2 * C : 4 + C)));
        uint8_t *m = malloc(n);
        seam_error err = {0};
        CHECKF(seam_wire_encode(&h, x, m, n, &w, &err) == SEAM_OK && w == n, "%s", err.message);
        seam_wire_expect ex = {h.fingerprint, 3, 17, C, T};
        CHECKF(seam_wire_decode(m, n, &ex, &g, y, T * C, &err) == SEAM_OK, "%s", err.message);
        CHECK(g.dtype == dts[k] && g.layer == 3 && g.pos0 == 17 && g.T == T && g.C == C);
        CHECK(memcmp(g.fingerprint, h.fingerprint, 32) == 0);
        for (int t = 0; t < T; t++) {
            float amax = 0;
            for (int i = 0; i < C; i++) amax = fmaxf(amax, fabsf(x[t * C + i]));
            for (int i = 0; i < C; i++) {
                float a = x[t * C + i], b = y[t * C + i];
                float tol = k == 0 ? 0 : k == 1 ? fabsf(a) / 1024.0f : amax / 127.0f * 0.5001f;
                CHECKF(fabsf(a - b) <= tol, "%s row %d col %d: %g -> %g", seam_wire_dtype_name(dts[k]), t, i, a, b);
            }
        }
        /* too small a buffer on either side */
        CHECK(seam_wire_encode(&h, x, m, n - 1, &w, &err) == SEAM_ERR_ARG);
        CHECK(seam_wire_decode(m, n, NULL, &g, y, T * C - 1, &err) == SEAM_ERR_RANGE);
        free(m);
    }
    seam_wire_dtype d;
    CHECK(seam_wire_dtype_parse("q8", &d) && d == SEAM_WIRE_Q8);
    CHECK(!seam_wire_dtype_parse("q4", &d) && !seam_wire_dtype_parse("F32", &d));
}

TEST(wire_truncation_and_corruption_at_every_byte) {
    enum { T = 2, C = 8 };
    float x[T * C], y[T * C];
    fill(x, T * C, 2);
    for (int k = 0; k < 3; k++) {
        seam_wire_header h = hdr((seam_wire_dtype)k, T, C), g;
        size_t n = seam_wire_size(h.dtype, T, C), w;
        uint8_t *m = malloc(n + 1);
        seam_error err = {0};
        CHECK(seam_wire_encode(&h, x, m, n, &w, &err) == SEAM_OK);
        for (size_t len = 0; len < n; len++)
            CHECKF(seam_wire_decode(m, len, NULL, &g, y, T * C, &err) != SEAM_OK, "prefix of %zu accepted", len);
        m[n] = 0;
        CHECK(seam_wire_decode(m, n + 1, NULL, &g, y, T * C, &err) == SEAM_ERR_FORMAT); /* trailing byte */
        for (size_t i = 0; i < n; i++) {
            for (int bit = 0; bit < 8; bit++) {
                m[i] ^= (uint8_t)(1u << bit);
                seam_status s = seam_wire_decode(m, n, NULL, &g, y, T * C, &err);
                m[i] ^= (uint8_t)(1u << bit);
                CHECKF(s != SEAM_OK, "bit %d of byte %zu flipped and accepted", bit, i);
            }
        }
        CHECK(seam_wire_decode(m, n, NULL, &g, y, T * C, &err) == SEAM_OK);
        free(m);
    }
}

TEST(wire_rejects_bad_headers_and_mismatches) {
    enum { T = 3, C = 16 };
    float x[T * C], y[T * C];
    fill(x, T * C, 3);
    seam_wire_header h = hdr(SEAM_WIRE_F32, T, C), g;
    size_t n = seam_wire_size(h.dtype, T, C), w;
    uint8_t *m = malloc(n), *b = malloc(n);
    seam_error err = {0};
    CHECK(seam_wire_encode(&h, x, m, n, &w, &err) == SEAM_OK);
    struct { size_t at; uint8_t v; seam_status want; const char *msg; } edits[] = {
        {0, 'X', SEAM_ERR_FORMAT, "magic"},
        {4, 2, SEAM_ERR_UNSUPPORTED, "version"},
        {6, 3, SEAM_ERR_FORMAT, "dtype"},
        {7, 1, SEAM_ERR_FORMAT, "flags"},
        {48, 4, SEAM_ERR_FORMAT, "payload bytes"},          /* T = 4, payload field still for 3 */
        {48, 0, SEAM_ERR_FORMAT, "impossible shape"},       /* T = 0 */
        {52, 17, SEAM_ERR_FORMAT, "payload bytes"},         /* C changed, payload field not */
        {56, 1, SEAM_ERR_FORMAT, "payload bytes"},
        {51, 0x80, SEAM_ERR_FORMAT, "impossible shape"},    /* T huge */
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        memcpy(b, m, n);
        b[edits[i].at] = edits[i].v;
        reseal(b, n);
        seam_status s = seam_wire_decode(b, n, NULL, &g, y, T * C, &err);
        CHECKF(s == edits[i].want && strstr(err.message, edits[i].msg), "edit %zu: status %d, '%s'", i, (int)s, err.message);
    }
    /* a well-formed message that is not what the receiver expects */
    uint8_t other[32];
    memset(other, 0xAB, sizeof other);
    seam_wire_expect exps[] = {
        {other, -1, -1, -1, -1}, {NULL, 4, -1, -1, -1}, {NULL, -1, 16, -1, -1}, {NULL, -1, -1, 32, -1}, {NULL, -1, -1, -1, 2},
    };
    const char *why[] = {"from model", "enters layer", "position", "channels", "rows"};
    for (size_t i = 0; i < sizeof exps / sizeof exps[0]; i++) {
        seam_status s = seam_wire_decode(m, n, &exps[i], &g, y, T * C, &err);
        CHECKF(s == SEAM_ERR_RANGE && strstr(err.message, why[i]), "expectation %zu: %d '%s'", i, (int)s, err.message);
    }
    /* values the encoder never writes: NaN, infinity, q8 -128, a negative q8 scale */
    memcpy(b, m, n);
    uint32_t nan_bits = 0x7FC00000u;
    memcpy(b + 64 + 4 * 5, &nan_bits, 4);
    reseal(b, n);
    CHECK(seam_wire_decode(b, n, NULL, &g, y, T * C, &err) == SEAM_ERR_FORMAT && strstr(err.message, "non-finite"));
    free(b);
    free(m);
    h = hdr(SEAM_WIRE_Q8, T, C);
    n = seam_wire_size(h.dtype, T, C);
    m = malloc(n);
    CHECK(seam_wire_encode(&h, x, m, n, &w, &err) == SEAM_OK);
    m[64 + 4 + 2] = 0x80;
    reseal(m, n);
    CHECK(seam_wire_decode(m, n, NULL, &g, y, T * C, &err) == SEAM_ERR_FORMAT && strstr(err.message, "-128"));
    CHECK(seam_wire_encode(&h, x, m, n, &w, &err) == SEAM_OK);
    m[64 + 3] = 0x80; /* sign bit of the first row's scale */
    reseal(m, n);
    CHECK(seam_wire_decode(m, n, NULL, &g, y, T * C, &err) == SEAM_ERR_FORMAT && strstr(err.message, "scale"));
    free(m);
}

TEST(wire_encoder_refuses_what_it_cannot_carry) {
    float x[4] = {1, 2, 3, 4};
    uint8_t m[256];
    size_t w;
    seam_error err = {0};
    seam_wire_header h = hdr(SEAM_WIRE_F16, 1, 4);
    x[2] = 70000.0f;
    CHECK(seam_wire_encode(&h, x, m, sizeof m, &w, &err) == SEAM_ERR_RANGE && strstr(err.message, "f16"));
    x[2] = INFINITY;
    h.dtype = SEAM_WIRE_F32;
    CHECK(seam_wire_encode(&h, x, m, sizeof m, &w, &err) == SEAM_ERR_RANGE);
    x[2] = 3;
    h.T = 0;
    CHECK(seam_wire_encode(&h, x, m, sizeof m, &w, &err) == SEAM_ERR_ARG);
    CHECK(seam_wire_size(SEAM_WIRE_F32, 1, 0) == 0 && seam_wire_size(SEAM_WIRE_F32, (1 << 20) + 1, 8) == 0);
    /* all-zero rows quantise to scale 0 and come back as zeros */
    float z[4] = {0, 0, 0, 0}, back[4] = {1, 1, 1, 1};
    h = hdr(SEAM_WIRE_Q8, 1, 4);
    seam_wire_header g;
    CHECK(seam_wire_encode(&h, z, m, sizeof m, &w, &err) == SEAM_OK);
    CHECK(seam_wire_decode(m, w, NULL, &g, back, 4, &err) == SEAM_OK && back[0] == 0 && back[3] == 0);
    /* fingerprints as hex */
    uint8_t fp[32];
    char hex[65];
    CHECK(seam_fingerprint_to_bytes("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", fp));
    seam_fingerprint_to_hex(fp, hex);
    CHECK(strcmp(hex, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff") == 0);
    CHECK(!seam_fingerprint_to_bytes("0011", fp) && !seam_fingerprint_to_bytes(NULL, fp));
    CHECK(!seam_fingerprint_to_bytes("g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", fp));
}
