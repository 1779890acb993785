#!/usr/bin/env python3
"""Generates src/tokenizer/bert_unicode_tables.c: the Unicode data the BERT WordPiece
normaliser and pre-tokenizer need (src/tokenizer/wordpiece.c).

Usage:
    python3 tools/gen_bert_tables.py [--age DerivedAge.txt] > src/tokenizer/bert_unicode_tables.c

The data comes from Python's unicodedata. The reference (Hugging Face tokenizers) does not
use one Unicode version throughout: its BertNormalizer / BertPreTokenizer take the general
categories (Cc Cf Co for clean_text, Mn for strip_accents, P* for the punctuation split)
from the unicode_categories crate, whose tables are Unicode 8.0, and NFD from
unicode-normalization-alignments, which is Unicode 9.0; lowercase and White_Space come from
Rust's std (current Unicode). With --age (DerivedAge.txt, e.g. /usr/share/unicode/ from
Debian's unicode-data package) the category classes are limited to code points assigned by
8.0 and the decompositions / combining classes to those assigned by 9.0, so characters
added later behave as they do in the reference (kept as letters, not split or removed), and
the few code points whose category changed after 8.0 take their 8.0 one (CATEGORY_8_0).
Without --age every class follows the local Python's Unicode version.

Tables:
  classes   sorted ranges with flag bits: REMOVE (clean_text drops it: Cc Cf Co except
            \\t \\n \\r, plus U+0000 and U+FFFD), SPACE (White_Space or \\t \\n \\r: mapped to
            ' ' by clean_text, split on by the pre-tokenizer), PUNCT (ASCII punctuation or
            P*: isolated by the pre-tokenizer), MN (Mn: dropped by strip_accents)
  ccc       canonical combining classes != 0 (canonical ordering after NFD)
  nfd       full canonical decompositions (Hangul syllables are algorithmic, not listed)
  lower     full lowercase mappings, as str.lower() / Rust char::to_lowercase give them
"""

import sys
import unicodedata

REMOVE, SPACE, PUNCT, MN = 1, 2, 4, 8
# General categories that Unicode changed after 8.0 for code points 8.0 already had, as 8.0
# had them (the local unicodedata gives the new ones). These six are the whole list that shows
# in the reference's ids: every code point, alone and between letters, was run through seam
# and Hugging Face tokenizers (0.22, through @anush008/tokenizers) and only these differed.
CATEGORY_8_0 = {
    0x1734: "Mn",   # HANUNOO SIGN PAMUDPOD, Mc since 14.0
    0x166D: "Po",   # CANADIAN SYLLABICS CHI SIGN, So since 12.0
    0x1885: "Lo",   # MONGOLIAN LETTER ALI GALI BALUDA, Mn since 9.0
    0x1886: "Lo",   # MONGOLIAN LETTER ALI GALI THREE BALUDA, Mn since 9.0
    0xA9BD: "Mc",   # JAVANESE CONSONANT SIGN KERET, Mn since 12.0
    0x111C9: "Po",  # SHARADA SANDHI MARK, Mn since 12.0
}
ASCII_PUNCT = {ord(c) for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"}
WHITE_SPACE_EXTRA = set(range(0x09, 0x0E)) | {0x85}
N = 0x110000


def read_age(path):
    """code point -> (major, minor) of the version that assigned it."""
    age = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#")[0].strip()
            if not line:
                continue
            rng, ver = [x.strip() for x in line.split(";")]
            major, minor = (int(x) for x in ver.split("."))
            a, _, b = rng.partition("..")
            for cp in range(int(a, 16), int(b or a, 16) + 1):
                age[cp] = (major, minor)
    return age


def assigned_by(age, cp, version):
    return age is None or age.get(cp, (99, 0)) <= version


def full_nfd(cp):
    """Canonical decomposition applied recursively; None when cp does not decompose."""
    d = unicodedata.decomposition(chr(cp))
    if not d or d.startswith("<"):
        return None
    out = []
    for h in d.split():
        sub = full_nfd(int(h, 16))
        out.extend(sub if sub else [int(h, 16)])
    return out


def c_map_table(name, mapping):
    entries, pool = [], []
    for cp in sorted(mapping):
        seq = mapping[cp]
        entries.append((cp, len(pool), len(seq)))
        pool.extend(seq)
    assert len(pool) < 65536 and max(len(s) for s in mapping.values()) < 256
    lines = ["const wpu_map wpu_%s[] = {" % name]
    for i in range(0, len(entries), 5):
        lines.append("    " + " ".join("{0x%05X, %d, %d}," % e for e in entries[i:i + 5]))
    lines.append("};")
    lines.append("const size_t wpu_n_%s = %d;" % (name, len(entries)))
    lines.append("const uint32_t wpu_%s_pool[] = {" % name)
    for i in range(0, len(pool), 10):
        lines.append("    " + " ".join("0x%05X," % c for c in pool[i:i + 10]))
    lines.append("};")
    return lines


def c_range_table(ctype, name, ranges):
    lines = ["const %s wpu_%s[] = {" % (ctype, name)]
    for i in range(0, len(ranges), 4):
        lines.append("    " + " ".join("{0x%05X, 0x%05X, %d}," % r for r in ranges[i:i + 4]))
    lines.append("};")
    lines.append("const size_t wpu_n_%s = %d;" % (name, len(ranges)))
    return lines


def ranges_of(values):
    """[(lo, hi, v)] for maximal runs of equal non-zero values."""
    out = []
    for cp in range(N):
        v = values[cp]
        if not v:
            continue
        if out and out[-1][1] == cp - 1 and out[-1][2] == v:
            out[-1] = (out[-1][0], cp, v)
        else:
            out.append((cp, cp, v))
    return out


def main(argv):
    age_path = None
    if len(argv) == 2 and argv[0] == "--age":
        age_path = argv[1]
    elif argv:
        sys.exit("usage: gen_bert_tables.py [--age DerivedAge.txt]")
    age = read_age(age_path) if age_path else None

    flags = [0] * N
    ccc = [0] * N
    nfd, lower = {}, {}
    for cp in range(N):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        f = 0
        if cp in WHITE_SPACE_EXTRA or cat in ("Zs", "Zl", "Zp"):
            f |= SPACE
        if assigned_by(age, cp, (8, 0)):
            if age is not None:
                cat = CATEGORY_8_0.get(cp, cat)
            if cat in ("Cc", "Cf", "Co") and cp not in (9, 10, 13):
                f |= REMOVE
            if cat.startswith("P"):
                f |= PUNCT
            if cat == "Mn":
                f |= MN
        if cp in (0, 0xFFFD):
            f |= REMOVE
        if cp in ASCII_PUNCT:
            f |= PUNCT
        flags[cp] = f
        if 0xD800 <= cp <= 0xDFFF:
            continue
        if assigned_by(age, cp, (9, 0)):
            ccc[cp] = unicodedata.combining(ch)
            d = full_nfd(cp)
            if d and not 0xAC00 <= cp <= 0xD7A3:
                nfd[cp] = d
        low = ch.lower()
        if low != ch:
            lower[cp] = [ord(c) for c in low]

    src = "python3 tools/gen_bert_tables.py%s > src/tokenizer/bert_unicode_tables.c" % (
        " --age " + age_path if age_path else "")
    pinned = ""
    if age_path:
        pinned = (" * Categories pinned to Unicode 8.0 and NFD to 9.0 with %s,\n"
                  " * as the reference tokenizers' crates have them.\n" % age_path)
    out = [
        "/* GENERATED FILE, do not edit: produced by",
        " *     %s" % src,
        " * from Python %d.%d unicodedata (Unicode %s)." % (sys.version_info[0], sys.version_info[1],
                                                          unicodedata.unidata_version),
    ]
    out += pinned.rstrip("\n").split("\n") if pinned else []
    out += [
        " * See the script's docstring for what each table holds. */",
        '#include "tokenizer/wordpiece.h"',
        "",
        'const char wpu_unicode_version[] = "%s";' % unicodedata.unidata_version,
        "",
    ]
    out += c_range_table("wpu_range", "classes", ranges_of(flags))
    out.append("")
    out += c_range_table("wpu_range", "ccc", ranges_of(ccc))
    out.append("")
    out += c_map_table("nfd", nfd)
    out.append("")
    out += c_map_table("lower", lower)
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
