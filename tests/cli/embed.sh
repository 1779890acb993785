#!/usr/bin/env bash
# seam embed reproduces the sentence-transformers embeddings of minibert-st, in both the
# argument and the JSON Lines form, and fails cleanly.
set -euo pipefail
S=${SEAM_BIN:?} F=${SEAM_FIXTURES:?}
M="$F/minibert-st"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# compare.py OUT [jsonl]: every line's vector against the reference sentence_embedding
cat > "$T/compare.py" <<'EOF'
import array, json, math, struct, sys

def reference(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        t = header["sentence_embedding"]
        b, e = t["data_offsets"]
        f.seek(8 + n + b)
        a = array.array("f")
        a.frombytes(f.read(e - b))
        rows, cols = t["shape"]
        return [a[i * cols:(i + 1) * cols] for i in range(rows)], json.loads(header["__metadata__"]["sentences"])

def cosine(x, y):
    return sum(a * b for a, b in zip(x, y)) / math.sqrt(sum(a * a for a in x) * sum(b * b for b in y))

cmd = sys.argv[1]
ref, sentences = reference(sys.argv[2])
if cmd == "texts":          # NUL-separated, for the argument form
    sys.stdout.write("".join(s + "\0" for s in sentences))
elif cmd == "jsonl":
    for s in sentences:
        print(json.dumps({"text": s}))
else:                       # check OUT MODE
    lines = open(sys.argv[3], encoding="utf-8").read().splitlines()
    assert len(lines) == len(ref), "%d lines, want %d" % (len(lines), len(ref))
    for i, (line, want) in enumerate(zip(lines, ref)):
        v = json.loads(line)
        if sys.argv[4] == "jsonl":
            assert list(v) == ["embedding"], line[:80]
            v = v["embedding"]
        assert len(v) == len(want), "line %d: %d values" % (i, len(v))
        c = cosine(v, want)
        assert c >= 0.99999, "sentence %d: cosine %.8f" % (i, c)
    print("%d embeddings, cosine >= 0.99999" % len(lines))
EOF
ref="$M/reference.safetensors"

mapfile -d '' sentences < <(python3 "$T/compare.py" texts "$ref")
[ "${#sentences[@]}" -eq 6 ] || { echo "expected 6 reference sentences"; exit 1; }
"$S" embed -m "$M" -- "${sentences[@]}" > "$T/args.out"
python3 "$T/compare.py" check "$ref" "$T/args.out" args

python3 "$T/compare.py" jsonl "$ref" > "$T/in.jsonl"
"$S" embed -m "$M" --jsonl < "$T/in.jsonl" > "$T/jsonl.out"
python3 "$T/compare.py" check "$ref" "$T/jsonl.out" jsonl
# small batches and one thread give the same numbers
"$S" embed -m "$M" --jsonl --batch 2 --threads 1 < "$T/in.jsonl" > "$T/jsonl2.out"
python3 "$T/compare.py" check "$ref" "$T/jsonl2.out" jsonl
# blank lines are skipped; the round trip keeps order
{ echo; cat "$T/in.jsonl"; echo; } | "$S" embed -m "$M" --jsonl > "$T/jsonl3.out"
python3 "$T/compare.py" check "$ref" "$T/jsonl3.out" jsonl

# --verbose: a plain BertModel folder says what it assumed; truncation is reported
P="$T/plain"
mkdir "$P"
for f in config.json model.safetensors tokenizer.json; do ln -s "$(cd "$M" && pwd)/$f" "$P/$f"; done
"$S" embed -m "$P" --verbose "hello there" > /dev/null 2> "$T/err"
grep -q "plain BertModel" "$T/err" || { echo "--verbose did not mention the plain folder:"; cat "$T/err"; exit 1; }
"$S" embed -m "$M" "hello there" > /dev/null 2> "$T/err"
[ ! -s "$T/err" ] || { echo "stderr without --verbose:"; cat "$T/err"; exit 1; }
long=$(printf 'word %.0s' $(seq 1 300))
"$S" embed -m "$M" --verbose "short" "$long" > /dev/null 2> "$T/err"
grep -q "1 of 2 inputs .* truncated" "$T/err" || { echo "truncation not reported:"; cat "$T/err"; exit 1; }

expect_fail() { # expect_fail "substring of the error" cmd...
  local want=$1; shift
  if "$@" > /dev/null 2> "$T/err" < "$T/stdin"; then echo "should have failed: $*"; exit 1; fi
  [ "$(wc -l < "$T/err")" -eq 1 ] || { echo "error is not one line: $(cat "$T/err")"; exit 1; }
  grep -qF -- "$want" "$T/err" || { echo "error for '$*' lacks '$want': $(cat "$T/err")"; exit 1; }
}
: > "$T/stdin"
expect_fail "-m MODEL" "$S" embed "text"
expect_fail "unknown option" "$S" embed -m "$M" --bogus "text"
expect_fail "--batch" "$S" embed -m "$M" --batch 0 "text"
expect_fail "not both" "$S" embed -m "$M" --jsonl "text"
expect_fail "not both" "$S" embed -m "$M"
expect_fail "needs a value" "$S" embed -m
expect_fail "gpt2" "$S" embed -m "$F/gpt2-tiny" "text"
printf '{"text": "fine"}\n{"txt": 1}\n' > "$T/stdin"
expect_fail "line 2" "$S" embed -m "$M" --jsonl
printf 'not json\n' > "$T/stdin"
expect_fail "line 1" "$S" embed -m "$M" --jsonl
: > "$T/stdin"
"$S" embed --help | grep -q "usage: seam embed"
echo ok
