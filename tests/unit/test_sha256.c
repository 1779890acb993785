/* SHA-256 against FIPS 180-4 / NIST example vectors and hashlib-computed values, one-shot
 * and streamed in awkward chunk sizes, plus the file helper. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/sha256.h"
#include "test.h"

static int digest_is(const void *data, size_t len, const char *hex) {
    uint8_t d[SEAM_SHA256_SIZE];
    char h[SEAM_SHA256_HEX_SIZE];
    seam_sha256(data, len, d);
    seam_sha256_hex(d, h);
    if (strcmp(h, hex) != 0) {
        printf("\n    got %s\n    want %s\n", h, hex);
        return 0;
    }
    return 1;
}

TEST(test_sha256_vectors) {
    CHECK(digest_is("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    CHECK(digest_is("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    CHECK(digest_is(m448, strlen(m448), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopq"
                       "klmnopqrlmnopqrsmnopqrstnopqrstu";
    CHECK(digest_is(m896, strlen(m896), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"));
    const char *fox = "The quick brown fox jumps over the lazy dog";
    CHECK(digest_is(fox, strlen(fox), "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"));
}

TEST(test_sha256_million_a_streamed) {
    /* One million 'a' fed in chunks of 1, 3, 64, 1000 ... bytes must give the NIST digest. */
    static const size_t chunks[] = {1, 3, 63, 64, 65, 1000, 4096};
    char buf[4096];
    memset(buf, 'a', sizeof buf);
    for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
        seam_sha256_ctx c;
        seam_sha256_init(&c);
        size_t left = 1000000;
        while (left) {
            size_t n = left < chunks[k] ? left : chunks[k];
            seam_sha256_update(&c, buf, n);
            left -= n;
        }
        uint8_t d[SEAM_SHA256_SIZE];
        char h[SEAM_SHA256_HEX_SIZE];
        seam_sha256_final(&c, d);
        seam_sha256_hex(d, h);
        CHECKF(strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
               "chunk %zu: %s", chunks[k], h);
    }
}

TEST(test_sha256_padding_boundaries) {
    /* Lengths around the 55/56/64-byte padding edges; data[i] = (7i + 3) mod 256 (hashlib). */
    static const struct { size_t n; const char *hex; } v[] = {
        {55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b"},
        {56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27"},
        {57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73"},
        {63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055"},
        {64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241"},
        {65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e"},
        {119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e"},
        {120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5"},
        {127, "a8d23e75d936f303d248888d9b165ee543f4cbafcad3c9dd2a79bd84faa11d07"},
        {128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6"},
        {1000, "1e9bc38cbf860b9ec31918b065f9b52476c549a782e0e7990bed8ce3868d2371"},
    };
    uint8_t data[1000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)((i * 7 + 3) & 255);
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
        CHECKF(digest_is(data, v[k].n, v[k].hex), "length %zu", v[k].n);
        /* Same bytes in two uneven pieces. */
        for (size_t split = 0; split <= v[k].n; split += 13) {
            seam_sha256_ctx c;
            seam_sha256_init(&c);
            seam_sha256_update(&c, data, split);
            seam_sha256_update(&c, data + split, v[k].n - split);
            uint8_t d[SEAM_SHA256_SIZE];
            char h[SEAM_SHA256_HEX_SIZE];
            seam_sha256_final(&c, d);
            seam_sha256_hex(d, h);
            CHECKF(strcmp(h, v[k].hex) == 0, "length %zu split %zu", v[k].n, split);
        }
    }
}

TEST(test_sha256_file) {
    char path[600];
    snprintf(path, sizeof path, "%s/data.bin", test_tmpdir());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    for (int i = 0; i < 1000000; i++) fputc('a', f);
    CHECK(fclose(f) == 0);
    uint8_t d[SEAM_SHA256_SIZE];
    char h[SEAM_SHA256_HEX_SIZE];
    uint64_t size = 0;
    seam_error err = {0};
    CHECK(seam_sha256_file(path, d, &size, &err) == SEAM_OK);
    CHECK(size == 1000000);
    seam_sha256_hex(d, h);
    CHECK(strcmp(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);

    snprintf(path, sizeof path, "%s/missing.bin", test_tmpdir());
    CHECK(seam_sha256_file(path, d, NULL, &err) == SEAM_ERR_IO);
    CHECK(strstr(err.message, "missing.bin") != NULL);
}
