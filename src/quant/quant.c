#include "quant/quant.h"

#include <math.h>
#include <string.h>

const char *seam_quant_name(seam_quant q) {
    switch (q) {
    case SEAM_QUANT_Q8: return "q8";
    case SEAM_QUANT_Q4: return "q4";
    default: return NULL;
    }
}

int seam_quant_parse(const char *s, seam_quant *out) {
    if (!strcmp(s, "q8")) { *out = SEAM_QUANT_Q8; return 1; }
    if (!strcmp(s, "q4")) { *out = SEAM_QUANT_Q4; return 1; }
    return 0;
}

size_t seam_quant_row_bytes(seam_quant q, int K) {
    return q == SEAM_QUANT_Q4 ? (size_t)K / 2 : (size_t)K;
}

static int all_finite(const float *w, int K) {
    for (int i = 0; i < K; i++)
        if (!isfinite(w[i])) return 0;
    return 1;
}

int seam_q8_quantize_row(const float *w, int K, int8_t *q, uint16_t *d) {
    if (!all_finite(w, K)) return 0;
    for (int b = 0; b < K / SEAM_QBLOCK; b++) {
        const float *x = w + b * SEAM_QBLOCK;
        float amax = 0.0f;
        for (int i = 0; i < SEAM_QBLOCK; i++) amax = fmaxf(amax, fabsf(x[i]));
        /* The scale is rounded to f16 first and the quants computed against the rounded
         * value, so dequantisation sees exactly the scale they were made for. */
        uint16_t dh = seam_f32_to_f16(amax / 127.0f);
        float dd = seam_f16_to_f32(dh);
        if (!isfinite(dd)) { dh = 0x7BFF; dd = 65504.0f; } /* beyond f16: saturate the quants */
        d[b] = dh;
        float id = dd > 0.0f ? 1.0f / dd : 0.0f;
        for (int i = 0; i < SEAM_QBLOCK; i++) {
            float v = seam_round_even(x[i] * id);
            q[b * SEAM_QBLOCK + i] = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : (int)v);
        }
    }
    return 1;
}

void seam_q8_dequantize_row(const int8_t *q, const uint16_t *d, int K, float *out) {
    for (int b = 0; b < K / SEAM_QBLOCK; b++) {
        float dd = seam_f16_to_f32(d[b]);
        for (int i = 0; i < SEAM_QBLOCK; i++) out[b * SEAM_QBLOCK + i] = dd * (float)q[b * SEAM_QBLOCK + i];
    }
}

/* Quantises one block against a given (f16-rounded) scale and offset; returns the squared
 * error and fills l[32] with the 4-bit values. */
static float q4_try(const float *x, float d, float m, uint8_t *l) {
    float id = d > 0.0f ? 1.0f / d : 0.0f, e = 0.0f;
    for (int i = 0; i < SEAM_QBLOCK; i++) {
        float v = seam_round_even((x[i] - m) * id);
        int qi = v < 0.0f ? 0 : v > 15.0f ? 15 : (int)v;
        l[i] = (uint8_t)qi;
        float r = d * (float)qi + m - x[i];
        e += r * r;
    }
    return e;
}

/* Rounds (d, m) to f16 and tries the block with them, keeping it when it beats *best. */
static void q4_candidate(const float *x, float d, float m, float *best, uint16_t *bd, uint16_t *bm, uint8_t *bl) {
    uint8_t l[SEAM_QBLOCK];
    uint16_t dh = seam_f32_to_f16(d > 0.0f ? d : 0.0f), mh = seam_f32_to_f16(m);
    float dd = seam_f16_to_f32(dh), mm = seam_f16_to_f32(mh);
    if (!isfinite(dd) || !isfinite(mm)) return;
    float e = q4_try(x, dd, mm, l);
    if (e < *best) {
        *best = e;
        *bd = dh;
        *bm = mh;
        memcpy(bl, l, sizeof l);
    }
}

int seam_q4_quantize_row(const float *w, int K, uint8_t *q, uint16_t *d, uint16_t *m) {
    if (!all_finite(w, K)) return 0;
    for (int b = 0; b < K / SEAM_QBLOCK; b++) {
        const float *x = w + b * SEAM_QBLOCK;
        float lo = x[0], hi = x[0];
        for (int i = 1; i < SEAM_QBLOCK; i++) { lo = fminf(lo, x[i]); hi = fmaxf(hi, x[i]); }
        float best = INFINITY;
        uint16_t bd = 0, bm = seam_f32_to_f16(lo);
        uint8_t bl[SEAM_QBLOCK] = {0};
        /* Candidates: min/max, then scales around it, each followed by the least-squares
         * (d, m) for the quants it gives (the idea of ggml's make_qkx2_quants). */
        q4_candidate(x, (hi - lo) / 15.0f, lo, &best, &bd, &bm, bl);
        if (hi > lo) {
            for (int step = -4; step <= 6; step++) {
                float iscale = (15.0f + 0.25f * (float)step) / (hi - lo);
                uint8_t l[SEAM_QBLOCK];
                double sl = 0, sll = 0, sx = 0, slx = 0;
                for (int i = 0; i < SEAM_QBLOCK; i++) {
                    float v = seam_round_even((x[i] - lo) * iscale);
                    l[i] = (uint8_t)(v < 0.0f ? 0 : v > 15.0f ? 15 : (int)v);
                    sl += l[i]; sll += (double)l[i] * l[i]; sx += x[i]; slx += (double)l[i] * x[i];
                }
                double det = SEAM_QBLOCK * sll - sl * sl;
                if (det <= 0) continue;
                double dd = (SEAM_QBLOCK * slx - sl * sx) / det, mm = (sll * sx - sl * slx) / det;
                if (dd <= 0) continue;
                q4_candidate(x, (float)dd, (float)mm, &best, &bd, &bm, bl);
            }
        }
        d[b] = bd;
        m[b] = bm;
        uint8_t *o = q + b * (SEAM_QBLOCK / 2);
        for (int j = 0; j < SEAM_QBLOCK / 2; j++) o[j] = (uint8_t)(bl[j] | (bl[j + SEAM_QBLOCK / 2] << 4));
    }
    return 1;
}

void seam_q4_dequantize_row(const uint8_t *q, const uint16_t *d, const uint16_t *m, int K, float *out) {
    for (int b = 0; b < K / SEAM_QBLOCK; b++) {
        float dd = seam_f16_to_f32(d[b]), mm = seam_f16_to_f32(m[b]);
        const uint8_t *p = q + b * (SEAM_QBLOCK / 2);
        float *o = out + b * SEAM_QBLOCK;
        for (int j = 0; j < SEAM_QBLOCK / 2; j++) {
            o[j] = dd * (float)(p[j] & 0x0F) + mm;
            o[j + SEAM_QBLOCK / 2] = dd * (float)(p[j] >> 4) + mm;
        }
    }
}

void seam_qmat_row_to_f32(const seam_qmat *W, int r, float *out) {
    int K = W->cols, nb = K / SEAM_QBLOCK;
    if (W->type == SEAM_QUANT_Q8)
        seam_q8_dequantize_row((const int8_t *)W->data + (size_t)r * K, W->scale + (size_t)r * nb, K, out);
    else
        seam_q4_dequantize_row((const uint8_t *)W->data + (size_t)r * (K / 2), W->scale + (size_t)r * nb,
                               W->min + (size_t)r * nb, K, out);
}

void seam_qmat_block_to_f32(const seam_qmat *W, int r, int b, float *out) {
    size_t K = (size_t)W->cols, i = (size_t)r * (K / SEAM_QBLOCK) + (size_t)b;
    if (W->type == SEAM_QUANT_Q8)
        seam_q8_dequantize_row((const int8_t *)W->data + (size_t)r * K + (size_t)b * SEAM_QBLOCK, W->scale + i,
                               SEAM_QBLOCK, out);
    else
        seam_q4_dequantize_row((const uint8_t *)W->data + (size_t)r * (K / 2) + (size_t)b * (SEAM_QBLOCK / 2),
                               W->scale + i, W->min + i, SEAM_QBLOCK, out);
}
