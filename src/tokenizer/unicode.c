#include "tokenizer/unicode.h"

int ucd_class(uint32_t cp) {
    if (cp == UTF8_INVALID) return UCD_OTHER;
    size_t lo = 0, hi = ucd_n_ranges;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < ucd_ranges[mid].lo) hi = mid;
        else if (cp > ucd_ranges[mid].hi) lo = mid + 1;
        else return ucd_ranges[mid].cls;
    }
    return UCD_OTHER;
}

/* Table 3-7 of the Unicode standard: the lead byte fixes the length and the accepted range
 * of the second byte (which is how overlongs, surrogates and > U+10FFFF are excluded);
 * later bytes are always 80..BF. */
static int utf8_lead(unsigned char b, unsigned char *lo, unsigned char *hi) {
    *lo = 0x80;
    *hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) return 1;
    if (b == 0xE0) { *lo = 0xA0; return 2; }
    if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return 2;
    if (b == 0xED) { *hi = 0x9F; return 2; }
    if (b == 0xF0) { *lo = 0x90; return 3; }
    if (b >= 0xF1 && b <= 0xF3) return 3;
    if (b == 0xF4) { *hi = 0x8F; return 3; }
    return -1;
}

size_t utf8_step(const unsigned char *s, size_t n, uint32_t *cp) {
    unsigned char b = s[0], lo, hi;
    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    int more = utf8_lead(b, &lo, &hi);
    if (more < 0) {
        *cp = UTF8_INVALID;
        return 1;
    }
    uint32_t v = b & (0x3F >> more);
    size_t i = 1;
    for (int k = 0; k < more; k++, i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *cp = UTF8_INVALID;
            return i;
        }
        v = (v << 6) | (s[i] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return i;
}

size_t utf8_prev(const unsigned char *s, size_t i) {
    size_t j = i - 1;
    while (j > 0 && i - j < 4 && (s[j] & 0xC0) == 0x80) j--;
    return j;
}

size_t utf8_put(uint32_t cp, char *out) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

static void fixer_emit(utf8_fixer *f, const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n; i++, f->need++)
        if (f->need < f->cap) f->out[f->need] = (char)s[i];
}

static void fixer_replacement(utf8_fixer *f) {
    static const unsigned char fffd[3] = {0xEF, 0xBF, 0xBD};
    fixer_emit(f, fffd, 3);
}

void utf8_fixer_init(utf8_fixer *f, char *out, size_t cap) {
    f->out = out;
    f->cap = out ? cap : 0;
    f->need = 0;
    f->n_pending = 0;
    f->n_left = 0;
    f->lo = 0x80;
    f->hi = 0xBF;
}

void utf8_fixer_feed(utf8_fixer *f, const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char b = s[i];
        if (f->n_left > 0) {
            if (b >= f->lo && b <= f->hi) {
                f->pending[f->n_pending++] = b;
                f->lo = 0x80;
                f->hi = 0xBF;
                if (--f->n_left == 0) {
                    fixer_emit(f, f->pending, (size_t)f->n_pending);
                    f->n_pending = 0;
                }
                continue;
            }
            /* The subpart so far is one error; b itself starts afresh. */
            fixer_replacement(f);
            f->n_pending = 0;
            f->n_left = 0;
        }
        if (b < 0x80) {
            fixer_emit(f, &b, 1);
            continue;
        }
        int more = utf8_lead(b, &f->lo, &f->hi);
        if (more < 0) {
            fixer_replacement(f);
            continue;
        }
        f->pending[0] = b;
        f->n_pending = 1;
        f->n_left = more;
    }
}

void utf8_fixer_finish(utf8_fixer *f) {
    if (f->n_left > 0) fixer_replacement(f);
    f->n_pending = 0;
    f->n_left = 0;
}
