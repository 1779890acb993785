/* The GPT-2 pre-tokenizer: a hand-written equivalent of the regex
 *
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *
 * with leftmost-first alternation (Oniguruma, as Hugging Face tokenizers runs it). Working on
 * classes of code points instead of a regex engine keeps it allocation-free and fast. */
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

/* Classes of the ASCII range, so plain English never reaches the binary search. */
#define L_ UCD_LETTER
#define N_ UCD_NUMBER
#define S_ UCD_SPACE
#define O_ UCD_OTHER
static const unsigned char ascii_class[128] = {
    O_, O_, O_, O_, O_, O_, O_, O_, O_, S_, S_, S_, S_, S_, O_, O_, /* 0x00 \t\n\v\f\r */
    O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* 0x1C-0x1F: not \s */
    S_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, O_, /* space ! " # ... */
    N_, N_, N_, N_, N_, N_, N_, N_, N_, N_, O_, O_, O_, O_, O_, O_, /* 0-9 */
    O_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, /* @ A-O */
    L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, O_, O_, O_, O_, O_, /* P-Z */
    O_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, /* ` a-o */
    L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, L_, O_, O_, O_, O_, O_, /* p-z, DEL */
};
#undef L_
#undef N_
#undef S_
#undef O_

/* Class of the code point at s[i] (i < n) and its length in bytes. Malformed bytes are
 * "other" characters, so they group with punctuation and still reach the byte-level map. */
static inline int class_at(const unsigned char *s, size_t n, size_t i, size_t *clen) {
    if (s[i] < 0x80) {
        *clen = 1;
        return ascii_class[s[i]];
    }
    uint32_t cp;
    *clen = utf8_step(s + i, n - i, &cp);
    return ucd_class(cp);
}

int tok_is_space_at(const char *text, size_t n, size_t i, size_t *clen) {
    return class_at((const unsigned char *)text, n, i, clen) == UCD_SPACE;
}

int tok_is_word_at(const char *text, size_t n, size_t i) {
    size_t clen;
    int c = class_at((const unsigned char *)text, n, i, &clen);
    return c == UCD_LETTER || c == UCD_NUMBER || text[i] == '_';
}

size_t gpt2_pretok_next(const char *text, size_t n, size_t pos) {
    const unsigned char *s = (const unsigned char *)text;
    unsigned char c = s[pos];

    /* 's|'t|'re|'ve|'m|'ll|'d — case-sensitive, tried before everything else. */
    if (c == '\'' && pos + 1 < n) {
        unsigned char d = s[pos + 1];
        if (d == 's' || d == 't' || d == 'm' || d == 'd') return pos + 2;
        if (pos + 2 < n) {
            unsigned char e = s[pos + 2];
            if ((d == 'r' && e == 'e') || (d == 'v' && e == 'e') || (d == 'l' && e == 'l')) return pos + 3;
        }
    }

    size_t clen;
    int cls = class_at(s, n, pos, &clen);
    size_t i = pos;
    /* " ?X+": a single U+0020 joins the run that follows it, whatever its class, unless
     * that is more whitespace. */
    if (c == ' ' && pos + 1 < n) {
        size_t l2;
        int c2 = class_at(s, n, pos + 1, &l2);
        if (c2 != UCD_SPACE) {
            cls = c2;
            i = pos + 1;
            clen = l2;
        }
    }
    if (cls != UCD_SPACE) {
        i += clen;
        while (i < n) {
            size_t l;
            if (class_at(s, n, i, &l) != cls) break;
            i += l;
        }
        return i;
    }

    /* \s+(?!\S) backtracks to leave the last whitespace character for the " ?X+" of the
     * next word; at the end of the text it takes the whole run. A lone whitespace
     * character before a non-space falls through to the final \s+. */
    size_t last = pos;
    i = pos + clen;
    while (i < n) {
        size_t l;
        if (class_at(s, n, i, &l) != UCD_SPACE) break;
        last = i;
        i += l;
    }
    if (i == n) return n;
    return last > pos ? last : i;
}
