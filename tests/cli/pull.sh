#!/usr/bin/env bash
# `seam pull` against tools/hub_server.py (a local stand-in for the hub): download and
# byte-identical files, cache hits without network, resume after a cut connection (206 and
# 200-restart paths), sha256 mismatch, unknown/gated/private repos, server down, offline
# mode, invalid ids, and a sharded model (split from gpt2-tiny at test time).
# Env: SEAM_BIN (seam binary), SEAM_FIXTURES (fixtures folder). Exit 0 = pass.
set -u
: "${SEAM_BIN:?set SEAM_BIN to the seam binary}"
: "${SEAM_FIXTURES:?set SEAM_FIXTURES to the fixtures folder}"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=${SEAM_PYTHON:-python3}
FX=$SEAM_FIXTURES
TMP=$(mktemp -d "${TMPDIR:-/tmp}/seam-pull-test.XXXXXX")
SERVER_PID=""
LOG=$TMP/server.log
unset HF_TOKEN HUGGING_FACE_HUB_TOKEN HF_ENDPOINT SEAM_OFFLINE HF_HUB_OFFLINE SEAM_HUB_RETRIES SEAM_HUB_TIMEOUT

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
    SERVER_PID=""
  fi
}
cleanup() { stop_server; [ -n "${KEEP_TMP:-}" ] && { cp "$LOG" "$KEEP_TMP"; }; rm -rf "$TMP"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

fails=0
ok() { echo "ok   - $1"; }
bad() { echo "FAIL - $1"; fails=$((fails + 1)); }
check() { # check DESCRIPTION 'SHELL EXPRESSION' (evaluated now)
  if eval "$2"; then ok "$1"; else bad "$1"; fi
}

# ------------------------------------------------------------------ fixtures made here

# A sharded copy of gpt2-tiny: two safetensors shards + model.safetensors.index.json.
mkdir -p "$TMP/repos"
"$PY" - "$FX/gpt2-tiny" "$TMP/repos/sharded" <<'EOF' || { echo "FAIL - could not build the sharded fixture"; exit 1; }
import json, os, shutil, struct, sys
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst)
for n in os.listdir(src):
    if n != "model.safetensors":
        shutil.copy(os.path.join(src, n), os.path.join(dst, n))
data = open(os.path.join(src, "model.safetensors"), "rb").read()
hl = struct.unpack("<Q", data[:8])[0]
hdr = json.loads(data[8:8 + hl])
meta = hdr.pop("__metadata__", None)
body = data[8 + hl:]
names = sorted(hdr, key=lambda k: hdr[k]["data_offsets"][0])
groups = [names[:len(names) // 2], names[len(names) // 2:]]
weight_map, total = {}, 0
for i, group in enumerate(groups):
    fname = "model-%05d-of-%05d.safetensors" % (i + 1, len(groups))
    h, chunks, off = {}, [], 0
    if meta:
        h["__metadata__"] = meta
    for k in group:
        b, e = hdr[k]["data_offsets"]
        h[k] = {"dtype": hdr[k]["dtype"], "shape": hdr[k]["shape"], "data_offsets": [off, off + e - b]}
        chunks.append(body[b:e])
        off += e - b
        weight_map[k] = fname
    hj = json.dumps(h, separators=(",", ":")).encode()
    hj += b" " * (-len(hj) % 8)
    with open(os.path.join(dst, fname), "wb") as f:
        f.write(struct.pack("<Q", len(hj)) + hj + b"".join(chunks))
    total += off
with open(os.path.join(dst, "model.safetensors.index.json"), "w") as f:
    json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
# self-check: every tensor's bytes are found again in its shard
for k, fname in weight_map.items():
    d = open(os.path.join(dst, fname), "rb").read()
    n = struct.unpack("<Q", d[:8])[0]
    b, e = json.loads(d[8:8 + n])[k]["data_offsets"]
    ob, oe = hdr[k]["data_offsets"]
    assert d[8 + n + b:8 + n + e] == body[ob:oe], k
EOF

# A repo whose index names a file outside the folder.
mkdir -p "$TMP/repos/evil"
cp "$FX/gpt2-tiny/config.json" "$TMP/repos/evil/"
printf '{"metadata":{},"weight_map":{"a":"../../evil.safetensors"}}\n' > "$TMP/repos/evil/model.safetensors.index.json"

start_server() { # start_server [hub_server.py options...]
  stop_server
  rm -f "$TMP/port"
  "$PY" "$ROOT/tools/hub_server.py" \
    --repo gpt2="$FX/gpt2-tiny" --repo test-org/wide-f16="$FX/gpt2-wide-f16" \
    --repo test-org/sharded="$TMP/repos/sharded" --repo test-org/evil="$TMP/repos/evil" \
    --port 0 --port-file "$TMP/port" --log "$LOG" --max-seconds 240 "$@" > /dev/null 2>> "$TMP/server.err" &
  SERVER_PID=$!
  for _ in $(seq 200); do [ -s "$TMP/port" ] && break; sleep 0.05; done
  if [ ! -s "$TMP/port" ]; then echo "FAIL - hub_server.py did not start"; cat "$TMP/server.err"; exit 1; fi
  PORT=$(cat "$TMP/port")
  export SEAM_HUB_URL="http://127.0.0.1:$PORT"
}

# run_pull HOME ARGS... : runs seam pull with SEAM_HOME=HOME; sets RC, OUT, ERR
run_pull() {
  local home=$1; shift
  SEAM_HOME="$home" "$SEAM_BIN" pull "$@" > "$TMP/out" 2> "$TMP/err"
  RC=$?
  OUT=$(cat "$TMP/out")
  ERR=$(cat "$TMP/err")
  [ -z "$ERR" ] || printf '     (exit %s) %s\n' "$RC" "$ERR"
}

same_files() { # same_files SRC_DIR DST_DIR: every file of SRC is byte-identical in DST
  local f rel
  while IFS= read -r f; do
    rel=${f#"$1"/}
    cmp -s "$f" "$2/$rel" || { echo "  differs or missing: $rel"; return 1; }
  done < <(find "$1" -type f)
}

one_error_line() { # stderr is exactly one "seam: error: ..." line
  [ "$(printf '%s\n' "$ERR" | wc -l)" -eq 1 ] && [[ $ERR == "seam: error: "* ]]
}

log_lines() { wc -l < "$LOG" 2>/dev/null || echo 0; }

# ------------------------------------------------------------------ plain download

start_server
H1=$TMP/home1
run_pull "$H1" gpt2
check "pull gpt2 exits 0" '[ "$RC" -eq 0 ]'
check "pull prints the folder" '[ "$OUT" = "$H1/models/gpt2/main" ]'
check "nothing on stderr when it is not a terminal" '[ -z "$ERR" ]'
check "gpt2 files byte-identical" 'same_files "$FX/gpt2-tiny" "$H1/models/gpt2/main"'
D1=$H1/models/gpt2/main
check "marked complete, no leftovers" '[ -f "$D1/.complete" ] && [ ! -e "$D1/.pulling" ] && [ -z "$(find "$D1" -name "*.part")" ]'
check "optional files absent on the hub are not created" '[ ! -e "$H1/models/gpt2/main/vocab.json" ]'
check "server saw the LFS redirect and followed it" 'grep -q "GET /_lfs/gpt2/main/model.safetensors range=- status=200" "$LOG"'

n0=$(log_lines)
run_pull "$H1" gpt2
check "second pull of a cached model succeeds" '[ "$RC" -eq 0 ] && [ "$OUT" = "$H1/models/gpt2/main" ]'
check "second pull makes no request" '[ "$(log_lines)" -eq "$n0" ]'

run_pull "$H1" test-org/wide-f16 --revision main
check "pull org/name exits 0" '[ "$RC" -eq 0 ]'
check "org/name maps to ORG--NAME/REV" '[ "$OUT" = "$H1/models/test-org--wide-f16/main" ]'
check "wide-f16 files byte-identical" 'same_files "$FX/gpt2-wide-f16" "$H1/models/test-org--wide-f16/main"'

run_pull "$H1" gpt2 --revision v1.0
check "--revision picks the folder" '[ "$RC" -eq 0 ] && [ "$OUT" = "$H1/models/gpt2/v1.0" ]'
check "revision is used in the URL" 'grep -q "HEAD /gpt2/resolve/v1.0/config.json" "$LOG"'

# ------------------------------------------------------------------ sharded

run_pull "$H1" test-org/sharded
check "pull sharded exits 0" '[ "$RC" -eq 0 ]'
check "sharded files byte-identical (index + both shards)" 'same_files "$TMP/repos/sharded" "$H1/models/test-org--sharded/main"'
check "both shards were downloaded" 'grep -q "GET /_lfs/test-org/sharded/main/model-00001-of-00002.safetensors" "$LOG" &&
  grep -q "GET /_lfs/test-org/sharded/main/model-00002-of-00002.safetensors" "$LOG"'
check "no model.safetensors fetched for a sharded repo" '[ ! -e "$H1/models/test-org--sharded/main/model.safetensors" ]'
read -r REF_IDS REF_GREEDY < <(python3 tools/ref_cases.py "$FX/gpt2-tiny-ref/reference.safetensors")
check "the sharded model loads and reproduces the reference greedy ids" \
  '[ "$("$SEAM_BIN" generate -m "$H1/models/test-org--sharded/main" --ids "$REF_IDS" -n 24 --greedy --print-ids -t 1)" = "$REF_GREEDY" ]'

run_pull "$H1" test-org/evil
check "index naming ../ files is refused" '[ "$RC" -ne 0 ] && one_error_line && [[ $ERR == *"plain .safetensors"* ]]'
check "nothing written outside the cache" '[ ! -e "$H1/models/evil.safetensors" ] && [ ! -e "$H1/evil.safetensors" ]'

# ------------------------------------------------------------------ resume

# The first GET of model.safetensors is cut after 4 MB; no retries in-process.
start_server --cut-after 4000000
H2=$TMP/home2
SEAM_HUB_RETRIES=0 run_pull "$H2" gpt2
D2=$H2/models/gpt2/main
check "cut transfer fails" '[ "$RC" -ne 0 ] && one_error_line'
check "cut error says how to resume" '[[ $ERR == *interrupted* && $ERR == *"seam pull gpt2"* ]]'
check "cut transfer leaves a .part" '[ -s "$D2/model.safetensors.part" ]'
check "half-pulled folder is not complete" '[ -e "$D2/.pulling" ] && [ ! -e "$D2/.complete" ] && [ ! -e "$D2/model.safetensors" ]'
part_size=$(stat -c %s "$D2/model.safetensors.part" 2>/dev/null || echo 0)
run_pull "$H2" gpt2
check "rerun succeeds" '[ "$RC" -eq 0 ] && [ -z "$ERR" ]'
check "rerun resumed with a Range request (206)" 'grep -q "GET /_lfs/gpt2/main/model.safetensors range=bytes=$part_size- status=206" "$LOG"'
check "resumed download byte-identical" 'same_files "$FX/gpt2-tiny" "$D2"'
check "resumed folder complete" '[ -f "$D2/.complete" ] && [ ! -e "$D2/.pulling" ] && [ ! -e "$D2/model.safetensors.part" ]'

# Default retries: one run survives the cut (tokenizer.json and the weights are both cut).
start_server --cut-after 1000000
H3=$TMP/home3
run_pull "$H3" gpt2
check "in-run retry resumes a cut transfer" '[ "$RC" -eq 0 ] && same_files "$FX/gpt2-tiny" "$H3/models/gpt2/main"'
check "in-run retry used Range" 'grep -q "GET /_lfs/gpt2/main/model.safetensors range=bytes=1000000- status=206" "$LOG"'

# A server that ignores Range answers 200: the download must restart from zero.
start_server --cut-after 3000000 --ignore-range
H4=$TMP/home4
run_pull "$H4" gpt2
check "200 answer to a Range request restarts the file" '[ "$RC" -eq 0 ] && same_files "$FX/gpt2-tiny" "$H4/models/gpt2/main"'
check "the server did ignore the Range" 'grep -q "GET /_lfs/gpt2/main/model.safetensors range=bytes=3000000- status=200" "$LOG"'

# Leftover .part files: a whole one is verified without a GET, an oversized one is dropped.
start_server
H11=$TMP/home11
D11=$H11/models/gpt2/main
mkdir -p "$D11"
cp "$FX/gpt2-tiny/config.json" "$D11/config.json.part"
{ cat "$FX/gpt2-tiny/model.safetensors"; echo extra; } > "$D11/model.safetensors.part"
n0=$(log_lines)
run_pull "$H11" gpt2
check "leftover .part files: pull succeeds" '[ "$RC" -eq 0 ] && same_files "$FX/gpt2-tiny" "$D11"'
check "a whole .part is not downloaded again" '! tail -n +$((n0 + 1)) "$LOG" | grep -q "GET /gpt2/resolve/main/config.json"'
check "an oversized .part is downloaded from zero" 'tail -n +$((n0 + 1)) "$LOG" | grep -q "GET /_lfs/gpt2/main/model.safetensors range=- status=200"'

# Without sizes from HEAD: a whole .part gets 416 (and is kept), a longer one 416 then a restart.
start_server --hide-sizes
H12=$TMP/home12
D12=$H12/models/gpt2/main
mkdir -p "$D12"
cp "$FX/gpt2-tiny/model.safetensors" "$D12/model.safetensors.part"
{ cat "$FX/gpt2-tiny/tokenizer.json"; echo extra; } > "$D12/tokenizer.json.part"
n0=$(log_lines)
SEAM_HUB_RETRIES=0 run_pull "$H12" gpt2
check "416 paths: pull succeeds" '[ "$RC" -eq 0 ] && same_files "$FX/gpt2-tiny" "$D12"'
check "416 on a whole .part keeps it" 'tail -n +$((n0 + 1)) "$LOG" | grep -q "GET /_lfs/gpt2/main/model.safetensors range=bytes=13703720- status=416" &&
  ! tail -n +$((n0 + 1)) "$LOG" | grep -q "GET /_lfs/gpt2/main/model.safetensors range=- "'
check "416 on an oversized .part restarts it" 'tail -n +$((n0 + 1)) "$LOG" | grep -q "GET /gpt2/resolve/main/tokenizer.json range=- status=200"'

# ------------------------------------------------------------------ checksum

start_server --corrupt
H5=$TMP/home5
run_pull "$H5" gpt2
D5=$H5/models/gpt2/main
check "corrupted download fails" '[ "$RC" -ne 0 ] && one_error_line'
check "error names sha256 and the file" '[[ $ERR == *sha256* && $ERR == *model.safetensors* ]]'
check "no complete model after a checksum error" '[ ! -e "$D5/.complete" ] && [ ! -e "$D5/model.safetensors" ] && [ ! -e "$D5/model.safetensors.part" ]'
start_server
run_pull "$H5" gpt2
check "pull after a checksum error recovers" '[ "$RC" -eq 0 ] && same_files "$FX/gpt2-tiny" "$D5"'

# ------------------------------------------------------------------ hub errors

run_pull "$H1" test-org/no-such-model
check "unknown repo fails" '[ "$RC" -ne 0 ] && one_error_line'
check "unknown repo message" '[[ $ERR == *"repo not found or not a model: test-org/no-such-model"* ]]'
check "unknown repo leaves no folder" '[ ! -e "$H1/models/test-org--no-such-model" ]'

# Two pulls of the same model at once: one waits for the other, the weights are fetched once.
H10=$TMP/home10
n_get=$(grep -c "GET /_lfs/gpt2/main/model.safetensors" "$LOG")
SEAM_HOME="$H10" "$SEAM_BIN" pull gpt2 > "$TMP/c1.out" 2> "$TMP/c1.err" & c1=$!
SEAM_HOME="$H10" "$SEAM_BIN" pull gpt2 > "$TMP/c2.out" 2> "$TMP/c2.err" & c2=$!
wait $c1; rc1=$?
wait $c2; rc2=$?
check "concurrent pulls both succeed" '[ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && [ ! -s "$TMP/c1.err" ] && [ ! -s "$TMP/c2.err" ]'
check "concurrent pulls print the same folder" '[ "$(cat "$TMP/c1.out")" = "$H10/models/gpt2/main" ] && cmp -s "$TMP/c1.out" "$TMP/c2.out"'
check "concurrent pulls fetched the weights once" '[ "$(grep -c "GET /_lfs/gpt2/main/model.safetensors" "$LOG")" -eq $((n_get + 1)) ]'
check "concurrent pulls: files byte-identical" 'same_files "$FX/gpt2-tiny" "$H10/models/gpt2/main"'

start_server --require-token s3cret
run_pull "$TMP/home6" gpt2
check "private repo without token mentions HF_TOKEN" '[ "$RC" -ne 0 ] && [[ $ERR == *HF_TOKEN* ]]'
HF_TOKEN=s3cret run_pull "$TMP/home6" gpt2
check "HF_TOKEN is sent as a bearer token" '[ "$RC" -eq 0 ] && same_files "$FX/gpt2-tiny" "$TMP/home6/models/gpt2/main"'

start_server --gated test-org/wide-f16
run_pull "$TMP/home7" test-org/wide-f16
check "gated repo message" '[ "$RC" -ne 0 ] && [[ $ERR == *gated* && $ERR == *HF_TOKEN* ]]'
check "gated repo leaves no folder" '[ ! -e "$TMP/home7/models/test-org--wide-f16" ]'

# ------------------------------------------------------------------ offline / server down

stop_server
start=$(date +%s)
run_pull "$TMP/home8" gpt2
elapsed=$(( $(date +%s) - start ))
check "server down: fails" '[ "$RC" -ne 0 ] && one_error_line'
check "server down: fails fast (${elapsed}s)" '[ "$elapsed" -lt 15 ]'
check "server down: clear message" '[[ $ERR == *"cannot reach the hub"* && $ERR == *"$SEAM_HUB_URL"* ]]'
check "server down: no folder left behind" '[ ! -e "$TMP/home8/models/gpt2" ]'
run_pull "$H1" gpt2
check "server down: cached model still resolves" '[ "$RC" -eq 0 ] && [ "$OUT" = "$H1/models/gpt2/main" ]'
SEAM_OFFLINE=1 run_pull "$TMP/home8" gpt2
check "offline mode refuses to download" '[ "$RC" -ne 0 ] && [[ $ERR == *offline* ]]'

# ------------------------------------------------------------------ arguments

for id in "../x" "/abs" "a/b/c" "a..b" "x/../y" "-rf" "org/" "a--b" "name with space"; do
  run_pull "$TMP/home9" "$id"
  if [ "$id" = "-rf" ]; then want="unknown option"; else want="invalid hub model id"; fi
  check "refuses id '$id'" '[ "$RC" -eq 1 ] && one_error_line && [[ $ERR == *"$want"* ]]'
done
run_pull "$TMP/home9" gpt2 --revision ../../x
check "refuses revision ../../x" '[ "$RC" -eq 1 ] && [[ $ERR == *"invalid revision"* ]]'
check "refused ids created nothing" '[ ! -e "$TMP/home9" ] && [ ! -e "$TMP/x" ]'
run_pull "$TMP/home9"
check "missing REPO_ID" '[ "$RC" -eq 1 ] && one_error_line'
run_pull "$TMP/home9" --help
check "pull --help" '[ "$RC" -eq 0 ] && [[ $OUT == *"usage: seam pull"* ]]'

echo "pull.sh: $fails failed"
[ "$fails" -eq 0 ]
