/* The hidden-state wire format (layout and rules in include/seam_net.h). Plain libc: no
 * network code here, so the same encoder/decoder can be compiled into a browser edge. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "model/model.h"
#include "seam_net.h"
#include "util/error.h"

/* Bounds that keep T * row bytes far from overflow; a message this big is refused before any
 * allocation the caller would make for it. */
#define WIRE_MAX_T (1 << 20)
#define WIRE_MAX_C (1 << 16)

static const uint32_t crc_table[256] = {
    0x00000000u, 0x77073096u, 0xee0e612cu, 0x990951bau, 0x076dc419u, 0x706af48fu,
    0xe963a535u, 0x9e6495a3u, 0x0edb8832u, 0x79dcb8a4u, 0xe0d5e91eu, 0x97d2d988u,
    0x09b64c2bu, 0x7eb17cbdu, 0xe7b82d07u, 0x90bf1d91u, 0x1db71064u, 0x6ab020f2u,
    0xf3b97148u, 0x84be41deu, 0x1adad47du, 0x6ddde4ebu, 0xf4d4b551u, 0x83d385c7u,
    0x136c9856u, 0x646ba8c0u, 0xfd62f97au, 0x8a65c9ecu, 0x14015c4fu, 0x63066cd9u,
    0xfa0f3d63u, 0x8d080df5u, 0x3b6e20c8u, 0x4c69105eu, 0xd56041e4u, 0xa2677172u,
    0x3c03e4d1u, 0x4b04d447u, 0xd20d85fdu, 0xa50ab56bu, 0x35b5a8fau, 0x42b2986cu,
    0xdbbbc9d6u, 0xacbcf940u, 0x32d86ce3u, 0x45df5c75u, 0xdcd60dcfu, 0xabd13d59u,
    0x26d930acu, 0x51de003au, 0xc8d75180u, 0xbfd06116u, 0x21b4f4b5u, 0x56b3c423u,
    0xcfba9599u, 0xb8bda50fu, 0x2802b89eu, 0x5f058808u, 0xc60cd9b2u, 0xb10be924u,
    0x2f6f7c87u, 0x58684c11u, 0xc1611dabu, 0xb6662d3du, 0x76dc4190u, 0x01db7106u,
    0x98d220bcu, 0xefd5102au, 0x71b18589u, 0x06b6b51fu, 0x9fbfe4a5u, 0xe8b8d433u,
    0x7807c9a2u, 0x0f00f934u, 0x9609a88eu, 0xe10e9818u, 0x7f6a0dbbu, 0x086d3d2du,
    0x91646c97u, 0xe6635c01u, 0x6b6b51f4u, 0x1c6c6162u, 0x856530d8u, 0xf262004eu,
    0x6c0695edu, 0x1b01a57bu, 0x8208f4c1u, 0xf50fc457u, 0x65b0d9c6u, 0x12b7e950u,
    0x8bbeb8eau, 0xfcb9887cu, 0x62dd1ddfu, 0x15da2d49u, 0x8cd37cf3u, 0xfbd44c65u,
    0x4db26158u, 0x3ab551ceu, 0xa3bc0074u, 0xd4bb30e2u, 0x4adfa541u, 0x3dd895d7u,
    0xa4d1c46du, 0xd3d6f4fbu, 0x4369e96au, 0x346ed9fcu, 0xad678846u, 0xda60b8d0u,
    0x44042d73u, 0x33031de5u, 0xaa0a4c5fu, 0xdd0d7cc9u, 0x5005713cu, 0x270241aau,
    0xbe0b1010u, 0xc90c2086u, 0x5768b525u, 0x206f85b3u, 0xb966d409u, 0xce61e49fu,
    0x5edef90eu, 0x29d9c998u, 0xb0d09822u, 0xc7d7a8b4u, 0x59b33d17u, 0x2eb40d81u,
    0xb7bd5c3bu, 0xc0ba6cadu, 0xedb88320u, 0x9abfb3b6u, 0x03b6e20cu, 0x74b1d29au,
    0xead54739u, 0x9dd277afu, 0x04db2615u, 0x73dc1683u, 0xe3630b12u, 0x94643b84u,
    0x0d6d6a3eu, 0x7a6a5aa8u, 0xe40ecf0bu, 0x9309ff9du, 0x0a00ae27u, 0x7d079eb1u,
    0xf00f9344u, 0x8708a3d2u, 0x1e01f268u, 0x6906c2feu, 0xf762575du, 0x806567cbu,
    0x196c3671u, 0x6e6b06e7u, 0xfed41b76u, 0x89d32be0u, 0x10da7a5au, 0x67dd4accu,
    0xf9b9df6fu, 0x8ebeeff9u, 0x17b7be43u, 0x60b08ed5u, 0xd6d6a3e8u, 0xa1d1937eu,
    0x38d8c2c4u, 0x4fdff252u, 0xd1bb67f1u, 0xa6bc5767u, 0x3fb506ddu, 0x48b2364bu,
    0xd80d2bdau, 0xaf0a1b4cu, 0x36034af6u, 0x41047a60u, 0xdf60efc3u, 0xa867df55u,
    0x316e8eefu, 0x4669be79u, 0xcb61b38cu, 0xbc66831au, 0x256fd2a0u, 0x5268e236u,
    0xcc0c7795u, 0xbb0b4703u, 0x220216b9u, 0x5505262fu, 0xc5ba3bbeu, 0xb2bd0b28u,
    0x2bb45a92u, 0x5cb36a04u, 0xc2d7ffa7u, 0xb5d0cf31u, 0x2cd99e8bu, 0x5bdeae1du,
    0x9b64c2b0u, 0xec63f226u, 0x756aa39cu, 0x026d930au, 0x9c0906a9u, 0xeb0e363fu,
    0x72076785u, 0x05005713u, 0x95bf4a82u, 0xe2b87a14u, 0x7bb12baeu, 0x0cb61b38u,
    0x92d28e9bu, 0xe5d5be0du, 0x7cdcefb7u, 0x0bdbdf21u, 0x86d3d2d4u, 0xf1d4e242u,
    0x68ddb3f8u, 0x1fda836eu, 0x81be16cdu, 0xf6b9265bu, 0x6fb077e1u, 0x18b74777u,
    0x88085ae6u, 0xff0f6a70u, 0x66063bcau, 0x11010b5cu, 0x8f659effu, 0xf862ae69u,
    0x616bffd3u, 0x166ccf45u, 0xa00ae278u, 0xd70dd2eeu, 0x4e048354u, 0x3903b3c2u,
    0xa7672661u, 0xd06016f7u, 0x4969474du, 0x3e6e77dbu, 0xaed16a4au, 0xd9d65adcu,
    0x40df0b66u, 0x37d83bf0u, 0xa9bcae53u, 0xdebb9ec5u, 0x47b2cf7fu, 0x30b5ffe9u,
    0xbdbdf21cu, 0xcabac28au, 0x53b39330u, 0x24b4a3a6u, 0xbad03605u, 0xcdd70693u,
    0x54de5729u, 0x23d967bfu, 0xb3667a2eu, 0xc4614ab8u, 0x5d681b02u, 0x2a6f2b94u,
    0xb40bbe37u, 0xc30c8ea1u, 0x5a05df1bu, 0x2d02ef8du,
};

uint32_t seam_crc32(uint32_t crc, const void *data, size_t len) {
    const uint8_t *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) crc = crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

/* ------------------------------------------------------------------ little-endian fields */

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t get64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
    return v;
}
static void putf(uint8_t *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put32(p, u);
}
static float getf(const uint8_t *p) {
    uint32_t u = get32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ------------------------------------------------------------------ names and sizes */

const char *seam_wire_dtype_name(seam_wire_dtype d) {
    switch (d) {
    case SEAM_WIRE_F32: return "f32";
    case SEAM_WIRE_F16: return "f16";
    case SEAM_WIRE_Q8: return "q8";
    }
    return "?";
}

int seam_wire_dtype_parse(const char *s, seam_wire_dtype *out) {
    if (!s) return 0;
    if (!strcmp(s, "f32")) *out = SEAM_WIRE_F32;
    else if (!strcmp(s, "f16")) *out = SEAM_WIRE_F16;
    else if (!strcmp(s, "q8")) *out = SEAM_WIRE_Q8;
    else return 0;
    return 1;
}

static size_t row_bytes(seam_wire_dtype d, int C) {
    switch (d) {
    case SEAM_WIRE_F32: return 4 * (size_t)C;
    case SEAM_WIRE_F16: return 2 * (size_t)C;
    case SEAM_WIRE_Q8: return 4 + (size_t)C;
    }
    return 0;
}

size_t seam_wire_size(seam_wire_dtype d, int T, int C) {
    if (T < 1 || T > WIRE_MAX_T || C < 1 || C > WIRE_MAX_C || !row_bytes(d, C)) return 0;
    return SEAM_WIRE_HEADER_SIZE + (size_t)T * row_bytes(d, C) + SEAM_WIRE_TRAILER_SIZE;
}

int seam_fingerprint_to_bytes(const char *hex, uint8_t out[32]) {
    if (!hex || strlen(hex) != 64) return 0;
    for (int i = 0; i < 64; i++) {
        char c = hex[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (v < 0) return 0;
        if (i % 2 == 0) out[i / 2] = (uint8_t)(v << 4);
        else out[i / 2] |= (uint8_t)v;
    }
    return 1;
}

void seam_fingerprint_to_hex(const uint8_t in[32], char out[SEAM_FINGERPRINT_HEX_SIZE]) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[64] = 0;
}

/* ------------------------------------------------------------------ encode */

seam_status seam_wire_encode(const seam_wire_header *h, const float *hidden, void *out, size_t cap, size_t *written,
                             seam_error *err) {
    size_t need = seam_wire_size(h->dtype, h->T, h->C);
    if (!need) return seam_fail(err, SEAM_ERR_ARG, "cannot encode a hidden state of %d x %d as %s", h->T, h->C,
                                seam_wire_dtype_name(h->dtype));
    if (h->layer < 0 || h->pos0 < 0) return seam_fail(err, SEAM_ERR_ARG, "layer and pos0 must not be negative");
    if (cap < need) return seam_fail(err, SEAM_ERR_ARG, "wire buffer of %zu bytes is too small for %zu", cap, need);
    uint8_t *p = out;
    memcpy(p, SEAM_WIRE_MAGIC, 4);
    put16(p + 4, SEAM_WIRE_VERSION);
    p[6] = (uint8_t)h->dtype;
    p[7] = 0;
    memcpy(p + 8, h->fingerprint, 32);
    put32(p + 40, (uint32_t)h->layer);
    put32(p + 44, (uint32_t)h->pos0);
    put32(p + 48, (uint32_t)h->T);
    put32(p + 52, (uint32_t)h->C);
    size_t rb = row_bytes(h->dtype, h->C), C = (size_t)h->C;
    put64(p + 56, (uint64_t)h->T * rb);
    uint8_t *q = p + SEAM_WIRE_HEADER_SIZE;
    for (size_t t = 0; t < (size_t)h->T; t++, q += rb) {
        const float *x = hidden + t * C;
        float amax = 0;
        for (size_t i = 0; i < C; i++) {
            if (!isfinite(x[i]))
                return seam_fail(err, SEAM_ERR_RANGE, "hidden state row %zu holds a non-finite value", t);
            float a = fabsf(x[i]);
            if (a > amax) amax = a;
        }
        if (h->dtype == SEAM_WIRE_F32) {
            for (size_t i = 0; i < C; i++) putf(q + 4 * i, x[i]);
        } else if (h->dtype == SEAM_WIRE_F16) {
            if (amax > 65504.0f)
                return seam_fail(err, SEAM_ERR_RANGE, "hidden state value %g does not fit f16: use f32 activations", amax);
            for (size_t i = 0; i < C; i++) put16(q + 2 * i, seam_f32_to_f16(x[i]));
        } else {
            float s = amax / 127.0f, inv = s > 0 ? 1.0f / s : 0.0f;
            putf(q, s);
            for (size_t i = 0; i < C; i++) {
                long v = lrintf(x[i] * inv);
                if (v > 127) v = 127;
                if (v < -127) v = -127;
                q[4 + i] = (uint8_t)(int8_t)v;
            }
        }
    }
    put32(q, seam_crc32(0, p, (size_t)(q - p)));
    *written = need;
    return SEAM_OK;
}

/* ------------------------------------------------------------------ decode */

seam_status seam_wire_peek(const void *msg, size_t len, const seam_wire_expect *expect, seam_wire_header *h,
                           seam_error *err) {
    const uint8_t *p = msg;
    memset(h, 0, sizeof *h);
    if (len < SEAM_WIRE_HEADER_SIZE + SEAM_WIRE_TRAILER_SIZE)
        return seam_fail(err, SEAM_ERR_FORMAT, "hidden-state message truncated: %zu bytes, the header alone is %d", len,
                         SEAM_WIRE_HEADER_SIZE + SEAM_WIRE_TRAILER_SIZE);
    if (memcmp(p, SEAM_WIRE_MAGIC, 4) != 0) return seam_fail(err, SEAM_ERR_FORMAT, "not a hidden-state message (bad magic)");
    uint32_t ver = get16(p + 4);
    if (ver != SEAM_WIRE_VERSION)
        return seam_fail(err, SEAM_ERR_UNSUPPORTED, "hidden-state message version %u is not supported (this is version %d)",
                         ver, SEAM_WIRE_VERSION);
    if (p[6] > SEAM_WIRE_Q8) return seam_fail(err, SEAM_ERR_FORMAT, "hidden-state message has unknown dtype %u", p[6]);
    if (p[7] != 0) return seam_fail(err, SEAM_ERR_FORMAT, "hidden-state message has unknown flags 0x%02x", p[7]);
    uint32_t layer = get32(p + 40), pos0 = get32(p + 44), T = get32(p + 48), C = get32(p + 52);
    uint64_t payload = get64(p + 56);
    seam_wire_dtype d = (seam_wire_dtype)p[6];
    if (T < 1 || T > WIRE_MAX_T || C < 1 || C > WIRE_MAX_C || layer > 100000 || pos0 > (1u << 30))
        return seam_fail(err, SEAM_ERR_FORMAT, "hidden-state message has impossible shape: layer %u, pos0 %u, T %u, C %u",
                         layer, pos0, T, C);
    size_t want = seam_wire_size(d, (int)T, (int)C);
    if (payload != (uint64_t)(want - SEAM_WIRE_HEADER_SIZE - SEAM_WIRE_TRAILER_SIZE))
        return seam_fail(err, SEAM_ERR_FORMAT, "hidden-state message says %llu payload bytes; %u x %u %s needs %zu",
                         (unsigned long long)payload, T, C, seam_wire_dtype_name(d),
                         want - SEAM_WIRE_HEADER_SIZE - SEAM_WIRE_TRAILER_SIZE);
    if (len != want)
        return seam_fail(err, SEAM_ERR_FORMAT, "hidden-state message is %zu bytes; its header describes %zu (%s)", len,
                         want, len < want ? "truncated" : "trailing bytes");
    if (seam_crc32(0, p, len - 4) != get32(p + len - 4))
        return seam_fail(err, SEAM_ERR_FORMAT, "hidden-state message fails its CRC-32 check (corrupted in transit)");
    h->dtype = d;
    memcpy(h->fingerprint, p + 8, 32);
    h->layer = (int)layer;
    h->pos0 = (int)pos0;
    h->T = (int)T;
    h->C = (int)C;
    if (!expect) return SEAM_OK;
    if (expect->fingerprint && memcmp(expect->fingerprint, h->fingerprint, 32) != 0) {
        char a[65], b[65];
        seam_fingerprint_to_hex(h->fingerprint, a);
        seam_fingerprint_to_hex(expect->fingerprint, b);
        return seam_fail(err, SEAM_ERR_RANGE, "hidden state comes from model %.16s…, this session runs %.16s…", a, b);
    }
    if (expect->C >= 0 && h->C != expect->C)
        return seam_fail(err, SEAM_ERR_RANGE, "hidden state has %d channels, the model has %d", h->C, expect->C);
    if (expect->layer >= 0 && h->layer != expect->layer)
        return seam_fail(err, SEAM_ERR_RANGE, "hidden state enters layer %d, this session splits at %d", h->layer,
                         expect->layer);
    if (expect->pos0 >= 0 && h->pos0 != expect->pos0)
        return seam_fail(err, SEAM_ERR_RANGE, "hidden state starts at position %d, the session is at %d", h->pos0,
                         expect->pos0);
    if (expect->max_T >= 0 && h->T > expect->max_T)
        return seam_fail(err, SEAM_ERR_RANGE, "hidden state has %d rows, at most %d fit", h->T, expect->max_T);
    return SEAM_OK;
}

seam_status seam_wire_decode(const void *msg, size_t len, const seam_wire_expect *expect, seam_wire_header *h,
                             float *out, size_t cap, seam_error *err) {
    seam_status s = seam_wire_peek(msg, len, expect, h, err);
    if (s) return s;
    size_t C = (size_t)h->C, rb = row_bytes(h->dtype, h->C);
    if ((size_t)h->T * C > cap)
        return seam_fail(err, SEAM_ERR_RANGE, "hidden state of %d x %d does not fit a buffer of %zu values", h->T, h->C, cap);
    const uint8_t *q = (const uint8_t *)msg + SEAM_WIRE_HEADER_SIZE;
    for (size_t t = 0; t < (size_t)h->T; t++, q += rb) {
        float *x = out + t * C;
        if (h->dtype == SEAM_WIRE_F32) {
            for (size_t i = 0; i < C; i++) x[i] = getf(q + 4 * i);
        } else if (h->dtype == SEAM_WIRE_F16) {
            for (size_t i = 0; i < C; i++) x[i] = seam_f16_to_f32((uint16_t)get16(q + 2 * i));
        } else {
            float sc = getf(q);
            if (!isfinite(sc) || sc < 0)
                return seam_fail(err, SEAM_ERR_FORMAT, "hidden-state message row %zu has a bad q8 scale", t);
            for (size_t i = 0; i < C; i++) {
                int8_t v = (int8_t)q[4 + i];
                if (v == -128) return seam_fail(err, SEAM_ERR_FORMAT, "hidden-state message row %zu holds q8 value -128", t);
                x[i] = sc * (float)v;
            }
        }
        for (size_t i = 0; i < C; i++)
            if (!isfinite(x[i]))
                return seam_fail(err, SEAM_ERR_FORMAT, "hidden-state message row %zu holds a non-finite value", t);
    }
    return SEAM_OK;
}

seam_wire_header seam_wire_header_make(seam_wire_dtype d, const uint8_t *fp, int layer, int pos0, int T, int C) {
    seam_wire_header h;
    memset(&h, 0, sizeof h);
    h.dtype = d;
    memcpy(h.fingerprint, fp, 32);
    h.layer = layer;
    h.pos0 = pos0;
    h.T = T;
    h.C = C;
    return h;
}
