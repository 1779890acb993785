#!/usr/bin/python3
"""The bytes an edge downloads for a `seam split` shard, computed from the file formats alone
(no weights needed), so the report can list shards of models that are not on this machine
(GPT-2 XL). Standard library only.

It mirrors, rule for rule, what src/model/shard.c and src/quant/quantize.c write:
- model.safetensors of a plain shard: 8-byte length, a JSON header (the parent's merged
  __metadata__, then the kept tensors, wide elements first and otherwise in the parent's data
  order) padded with spaces so that, with the 8-byte length, it fills a multiple of 64 bytes,
  then the tensors' bytes as stored;
- of a quantised shard (--quant q8|q4): the plain shard requantised as `seam quantize --head
  tied`: each block matrix (c_attn, c_proj, c_fc, mlp.c_proj; K a multiple of 32) becomes
  quants [N, K] I8 (q8) or [N, K/2] U8 (q4) plus F16 scales [N, K/32] (and F16 mins for q4),
  the tied wte (or an lm_head) becomes q8; copies first (8-, 4-, 2-byte elements), then each
  quantised group (scale, min, quants), then 1-byte copies; tensors in name order within each
  class; the header (8-byte length included) padded with spaces to a multiple of 64;
- config.json: the parent's config with a "seam_shard" section before its closing brace;
- the tokenizer files, copied as they are when the shard has the embeddings or the head.
The manifest itself is not counted (seam_shard_download_bytes does not count it either).

usage: shard_size.py check PARENT_DIR SHARD_DIR [--synthetic]   compares with a written shard's manifest
       shard_size.py table [--tokenizer FILE]... [--verify SEAM_BIN F32_DIR [F16_DIR]] [--verify-quant]
                                                        JSON table for GPT-2 small and XL shapes"""
import json
import os
import struct
import subprocess
import sys

DTYPE_SIZE = {"F64": 8, "I64": 8, "U64": 8, "F32": 4, "I32": 4, "U32": 4, "F16": 2, "BF16": 2, "I16": 2,
              "U16": 2, "I8": 1, "U8": 1, "BOOL": 1}
TOKENIZER_FILES = ["tokenizer.json", "vocab.json", "merges.txt", "tokenizer_config.json",
                   "special_tokens_map.json", "generation_config.json"]
QBLOCK = 32
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def json_str(s):
    """A JSON string as json_write_string (src/util/json.c) writes it."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        esc = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
        if ch in esc:
            out.append(esc[ch])
        elif c < 0x20 or c == 0x7F:
            out.append(f"\\u{c:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def nbytes(dtype, shape):
    n = DTYPE_SIZE[dtype]
    for d in shape:
        n *= d
    return n


def classify(name):
    """('layer', l) | 'wte' | 'wpe' | 'head' | 'drop', as classify() in src/model/shard.c."""
    n = name[12:] if name.startswith("transformer.") else name
    if n.startswith("h."):
        p = n[2:]
        digits = ""
        while p and p[0].isdigit():
            digits, p = digits + p[0], p[1:]
        if not digits or not p.startswith("."):
            return "drop"
        if p[1:] in ("attn.bias", "attn.masked_bias"):
            return "drop"
        return ("layer", int(digits))
    if n.startswith("wte."):
        return "wte"
    if n.startswith("wpe."):
        return "wpe"
    if n.startswith("ln_f.") or name.startswith("lm_head."):
        return "head"
    return "drop"


# ------------------------------------------------------------------ parents

def read_safetensors_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n))


def read_parent(model_dir):
    """A model folder as the computation needs it: tensors (name, dtype, shape, file index,
    begin offset), merged metadata, config.json bytes and the tokenizer files' sizes."""
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        files = []
        for f in json.load(open(index))["weight_map"].values():  # first appearance, as the loader
            if f not in files:
                files.append(f)
    else:
        files = ["model.safetensors"]
    tensors, meta = [], {}
    for fi, fname in enumerate(files):
        h = read_safetensors_header(os.path.join(model_dir, fname))
        for k, v in h.items():
            if k == "__metadata__":
                for mk, mv in v.items():
                    meta.setdefault(mk, mv)
                continue
            tensors.append({"name": k, "dtype": v["dtype"], "shape": v["shape"], "file": fi,
                            "begin": v["data_offsets"][0]})
    with open(os.path.join(model_dir, "config.json"), "rb") as f:
        config = f.read()
    tok = {n: os.path.getsize(os.path.join(model_dir, n)) for n in TOKENIZER_FILES
           if os.path.isfile(os.path.join(model_dir, n))}
    return {"tensors": tensors, "meta": meta, "config": config, "tokenizer": tok,
            "n_layer": json.loads(config)["n_layer"]}


def random_gpt2_config(L, C, H, P, V):
    """config.json exactly as tools/make_random_gpt2.c writes it."""
    return ("{\n  \"model_type\": \"gpt2\",\n  \"architectures\": [\"GPT2LMHeadModel\"],\n  \"activation_function\": \"gelu_new\",\n"
            f"  \"n_layer\": {L},\n  \"n_embd\": {C},\n  \"n_head\": {H},\n  \"n_inner\": null,\n  \"n_positions\": {P},\n"
            f"  \"n_ctx\": {P},\n  \"vocab_size\": {V},\n  \"layer_norm_epsilon\": 1e-05,\n  \"bos_token_id\": 50256,\n"
            "  \"eos_token_id\": 50256,\n  \"scale_attn_weights\": true,\n  \"tie_word_embeddings\": true\n}\n").encode()


def random_gpt2_parent(L, C, H, P, V, dtype="F32", tokenizer=None):
    """The checkpoint tools/make_random_gpt2.c would write for this shape (hub key names, one
    file, no metadata, lm_head tied to wte), without writing it."""
    shapes = [("wte.weight", [V, C]), ("wpe.weight", [P, C])]
    for l in range(L):
        for part, shape in [("ln_1.weight", [C]), ("ln_1.bias", [C]), ("attn.c_attn.weight", [C, 3 * C]),
                            ("attn.c_attn.bias", [3 * C]), ("attn.c_proj.weight", [C, C]), ("attn.c_proj.bias", [C]),
                            ("ln_2.weight", [C]), ("ln_2.bias", [C]), ("mlp.c_fc.weight", [C, 4 * C]),
                            ("mlp.c_fc.bias", [4 * C]), ("mlp.c_proj.weight", [4 * C, C]), ("mlp.c_proj.bias", [C])]:
            shapes.append((f"h.{l}.{part}", shape))
    shapes += [("ln_f.weight", [C]), ("ln_f.bias", [C])]
    tensors, off = [], 0
    for name, shape in shapes:
        tensors.append({"name": name, "dtype": dtype, "shape": shape, "file": 0, "begin": off})
        off += nbytes(dtype, shape)
    return {"tensors": tensors, "meta": {}, "config": random_gpt2_config(L, C, H, P, V),
            "tokenizer": dict(tokenizer or {}), "n_layer": L}


# ------------------------------------------------------------------ shard files

def plain_tensors(parent, a, b, embed, head):
    """The tensors a plain shard keeps, in its data order (cmp_pick in src/model/shard.c)."""
    untied = any(t["name"].startswith("lm_head.") for t in parent["tensors"])
    keep = []
    for t in parent["tensors"]:
        c = classify(t["name"])
        if isinstance(c, tuple):
            ok = a <= c[1] < b
        else:
            ok = {"wte": embed or (head and not untied), "wpe": embed, "head": head, "drop": False}[c]
        if ok:
            keep.append(t)
    keep.sort(key=lambda t: (-DTYPE_SIZE[t["dtype"]], t["file"], t["begin"], t["name"].encode()))
    return keep


def plain_weights_size(parent, tensors):
    parts = []
    if parent["meta"]:
        parts.append('"__metadata__":{' + ",".join(json_str(k) + ":" + json_str(v) for k, v in parent["meta"].items()) + "},")
    off, items = 0, []
    for t in tensors:
        n = nbytes(t["dtype"], t["shape"])
        items.append(json_str(t["name"]) + ':{"dtype":"' + t["dtype"] + '","shape":[' + ",".join(map(str, t["shape"]))
                     + f'],"data_offsets":[{off},{off + n}]}}')
        off += n
    header = ("{" + "".join(parts) + ",".join(items) + "}").encode()
    return (8 + len(header) + 63) // 64 * 64 + off


def quant_weights_size(parent, tensors, q):
    """model.safetensors after seam_quantize_model(type q, head tied) of the plain shard."""
    jobs = []
    for t in sorted(tensors, key=lambda t: t["name"].encode()):  # the reader sorts tensors by name
        n = t["name"][12:] if t["name"].startswith("transformer.") else t["name"]
        conv1d = n.startswith("h.") and n[2:3].isdigit() and n.split(".", 2)[-1] in CONV1D
        role_q = q if conv1d else (8 if n in ("wte.weight", "lm_head.weight") else 0)
        s = t["shape"]
        qt = 0
        if role_q and len(s) == 2 and t["dtype"] in ("F32", "F16", "BF16") and s[0] > 0 and s[1] > 0:
            K, N = (s[0], s[1]) if conv1d else (s[1], s[0])
            if K % QBLOCK == 0:
                qt = role_q
        if qt:
            sfx = (".q8", ".q8_scale", None) if qt == 8 else (".q4", ".q4_scale", ".q4_min")
            quants = (t["name"] + sfx[0], "I8" if qt == 8 else "U8", [N, K if qt == 8 else K // 2])
            scale = (t["name"] + sfx[1], "F16", [N, K // QBLOCK])
            mins = (t["name"] + sfx[2], "F16", [N, K // QBLOCK]) if qt == 4 else None
            jobs.append({"q": True, "outs": [scale] + ([mins] if mins else []) + [quants]})
        else:
            jobs.append({"q": False, "outs": [(t["name"], t["dtype"], t["shape"])], "esz": DTYPE_SIZE[t["dtype"]]})
    outs = []
    for esz in (8, 4, 2):
        outs += [j["outs"][0] for j in jobs if not j["q"] and j["esz"] == esz]
    for j in jobs:
        if j["q"]:
            outs += j["outs"]
    outs += [j["outs"][0] for j in jobs if not j["q"] and j["esz"] < 2]
    meta = [(k, v) for k, v in parent["meta"].items() if not k.startswith("seam_quant")]
    meta += [("seam_quant", f"q{q}"), ("seam_quant_block", "32")]
    hdr = '"__metadata__":{' + ",".join(json_str(k) + ":" + json_str(v) for k, v in meta) + "}"
    off = 0
    for name, dtype, shape in outs:
        n = nbytes(dtype, shape)
        hdr += "," + json_str(name) + ':{"dtype":"' + dtype + '","shape":[' + ",".join(map(str, shape)) + \
               f'],"data_offsets":[{off},{off + n}]}}'
        off += n
    total = 8 + len(("{" + hdr + "}").encode())
    return (total + 63) // 64 * 64 + off


def shard_config_size(config, a, b, embed, head, quant):
    """Bytes of the shard's config.json (shard_config() in src/model/shard.c)."""
    text = config
    close = text.rindex(b"}")
    open_ = text.index(b"{")
    empty = not text[open_ + 1:close].strip(b" \n\r\t")
    section = ("" if empty else ",") + ('\n  "seam_shard": {\n    "format": 1,\n'
                                        f'    "layer_begin": {a},\n    "layer_end": {b},\n'
                                        f'    "has_embed": {"true" if embed else "false"},\n'
                                        f'    "has_head": {"true" if head else "false"},\n'
                                        f'    "parent_fingerprint": "{"0" * 64}",\n'
                                        f'    "quant": {json.dumps("q%d" % quant) if quant else "null"}\n  }}\n')
    keep = close
    while keep > open_ + 1 and text[keep - 1:keep] in (b" ", b"\n", b"\r", b"\t"):
        keep -= 1
    return keep + len(section.encode()) + 2


def shard_files(parent, a, b, embed=False, head=False, quant=0):
    """{file name: bytes} of the shard `seam split --layers a:b [--embed] [--head] [--quant]`."""
    L = parent["n_layer"]
    if not (0 <= a <= b <= L) or (embed and a != 0) or (head and b != L) or (a == b and not embed and not head):
        raise ValueError(f"not a valid shard of a {L}-layer model: {a}:{b} embed={embed} head={head}")
    tensors = plain_tensors(parent, a, b, embed, head)
    files = {"config.json": shard_config_size(parent["config"], a, b, embed, head, quant),
             "model.safetensors": quant_weights_size(parent, tensors, quant) if quant else plain_weights_size(parent, tensors)}
    if embed or head:
        files.update(parent["tokenizer"])
    return files


def shard_bytes(parent, a, b, embed=False, head=False, quant=0):
    return sum(shard_files(parent, a, b, embed, head, quant).values())


# ------------------------------------------------------------------ commands

def synthetic_parent(parent_dir):
    """random_gpt2_parent for the shape in parent_dir's config.json, dtype of its wte."""
    actual = read_parent(parent_dir)
    info = json.loads(actual["config"])
    dtype = next(t["dtype"] for t in actual["tensors"] if t["name"] == "wte.weight")
    return random_gpt2_parent(info["n_layer"], info["n_embd"], info["n_head"], info["n_positions"], info["vocab_size"],
                              dtype, actual["tokenizer"])


def check(parent_dir, shard_dir, synthetic=False):
    """Compares the computed sizes with a real shard's manifest; returns a list of problems.
    synthetic: describe the parent by shape alone (as the table does for GPT-2 XL), not by
    reading its header, which checks random_gpt2_parent against make_random_gpt2."""
    man = json.load(open(os.path.join(shard_dir, "manifest.json")))
    q = int(man["quant"][1]) if man.get("quant") else 0
    parent = synthetic_parent(parent_dir) if synthetic else read_parent(parent_dir)
    want = shard_files(parent, man["layer_begin"], man["layer_end"], man["has_embed"], man["has_head"], q)
    got = {f["name"]: f["size"] for f in man["files"]}
    return [f"{n}: computed {want.get(n)}, written {got.get(n)}" for n in sorted(set(want) | set(got)) if want.get(n) != got.get(n)]


SHAPES = [("GPT-2 small", 12, 768, 12), ("GPT-2 XL", 48, 1600, 25)]
TYPES = ["f32", "f16", "q8", "q4"]


def table(tokenizer_paths, verify=None, verify_quant=False):
    tok = {os.path.basename(p): os.path.getsize(p) for p in tokenizer_paths}
    rows, checks = [], []
    for shape, L, C, H in SHAPES:
        parents = {"F32": random_gpt2_parent(L, C, H, 1024, 50257, "F32", tok),
                   "F16": random_gpt2_parent(L, C, H, 1024, 50257, "F16", tok)}
        for last in (1, 2):
            for head in (False, True):
                cells = {}
                for ty in TYPES:
                    p = parents["F16" if ty == "f16" else "F32"]
                    cells[ty] = shard_bytes(p, L - last, L, False, head, {"q8": 8, "q4": 4}.get(ty, 0))
                rows.append({"shape": shape, "n_layer": L, "n_embd": C, "layers": [L - last, L], "head": head,
                             "bytes": cells})
    if verify:
        seam, dirs = verify[0], {"f32": verify[1], "f16": verify[2] if len(verify) > 2 else None}
        for r in rows:
            if r["shape"] != "GPT-2 small":
                continue
            for ty in TYPES:
                d = dirs["f16" if ty == "f16" else "f32"]
                if not d or (ty in ("q8", "q4") and not verify_quant):
                    continue
                # The folder must be the checkpoint assumed above (tensors, config, tokenizer).
                assumed = parents_for_check(d) and read_parent(d)["tokenizer"] == tok
                cmd = [seam, "split", "-m", d, "--layers", f"{r['layers'][0]}:{r['layers'][1]}", "--size"]
                if r["head"]:
                    cmd.append("--head")
                if ty in ("q8", "q4"):
                    cmd += ["--quant", ty]
                try:
                    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
                    real = int(out.stdout.strip()) if out.returncode == 0 else None
                    why = None if out.returncode == 0 else (out.stderr.strip().splitlines() or ["failed"])[-1]
                except (OSError, ValueError, subprocess.TimeoutExpired) as e:
                    real, why = None, str(e)
                checks.append({"layers": r["layers"], "head": r["head"], "type": ty, "computed": r["bytes"][ty],
                               "seam_split_size": real, "same_parent": assumed, "ok": real == r["bytes"][ty],
                               "error": why})
    return {"rows": rows, "tokenizer_files": tok, "checks": checks}


def parents_for_check(d):
    """True when folder d is what random_gpt2_parent assumes (same tensors, config, tokenizer)."""
    actual, want = read_parent(d), synthetic_parent(d)
    strip = lambda ts: [(t["name"], t["dtype"], t["shape"], t["begin"]) for t in ts]  # noqa: E731
    return strip(want["tensors"]) == strip(actual["tensors"]) and want["config"] == actual["config"] and not actual["meta"]


def main():
    a = sys.argv[1:]
    if len(a) in (3, 4) and a[0] == "check" and a[3:] in ([], ["--synthetic"]):
        bad = check(a[1], a[2], a[3:] == ["--synthetic"])
        for b in bad:
            print(b)
        sys.exit(1 if bad else 0)
    if a and a[0] == "table":
        tok, verify, vq, i = [], None, False, 1
        while i < len(a):
            if a[i] == "--tokenizer":
                tok.append(a[i + 1])
                i += 2
            elif a[i] == "--verify":
                verify = [x for x in a[i + 1:i + 4] if not x.startswith("--")]
                i += 1 + len(verify)
            elif a[i] == "--verify-quant":
                vq, i = True, i + 1
            else:
                sys.exit(__doc__)
        json.dump(table(tok, verify, vq), sys.stdout, indent=1)
        print()
        return
    sys.exit(__doc__)


if __name__ == "__main__":
    main()
