#!/usr/bin/python3
"""Writes a sentence-transformers folder shaped like all-MiniLM-L6-v2 (6 layers, hidden 384,
12 heads, intermediate 1536, vocab 30522) with deterministic random weights, for the
encoder benchmark: real weights cannot be downloaded here, and speed does not depend on the
values. Python standard library only, so it runs whether or not torch installed.

usage: make_random_bert.py OUT_DIR TOKENIZER_DIR [--seed S]
TOKENIZER_DIR holds the bert-base-uncased tokenizer.json (and vocab.txt, copied if present).

Layout as the hub's all-MiniLM-L6-v2: config.json (BertModel), model.safetensors with the
bare BertModel keys (embeddings.*, encoder.layer.N.*, pooler.dense.*), modules.json,
1_Pooling/config.json in the older pooling_mode_mean_tokens form, 2_Normalize,
sentence_bert_config.json (max_seq_length 256)."""
import hashlib
import json
import os
import shutil
import struct
import sys

LAYERS, HIDDEN, HEADS, INTER, VOCAB, POSITIONS, TYPES = 6, 384, 12, 1536, 30522, 512, 2


def tensors():
    """(name, shape, kind): kind 'w' random, 'one' ones, 'zero' zeros, 'b' small random."""
    C, I = HIDDEN, INTER
    out = [("embeddings.word_embeddings.weight", [VOCAB, C], "w"),
           ("embeddings.position_embeddings.weight", [POSITIONS, C], "w"),
           ("embeddings.token_type_embeddings.weight", [TYPES, C], "w"),
           ("embeddings.LayerNorm.weight", [C], "one"), ("embeddings.LayerNorm.bias", [C], "zero")]
    for l in range(LAYERS):
        p = f"encoder.layer.{l}."
        for n in ("query", "key", "value"):
            out += [(p + f"attention.self.{n}.weight", [C, C], "w"), (p + f"attention.self.{n}.bias", [C], "b")]
        out += [(p + "attention.output.dense.weight", [C, C], "w"), (p + "attention.output.dense.bias", [C], "b"),
                (p + "attention.output.LayerNorm.weight", [C], "one"),
                (p + "attention.output.LayerNorm.bias", [C], "zero"),
                (p + "intermediate.dense.weight", [I, C], "w"), (p + "intermediate.dense.bias", [I], "b"),
                (p + "output.dense.weight", [C, I], "w"), (p + "output.dense.bias", [C], "b"),
                (p + "output.LayerNorm.weight", [C], "one"), (p + "output.LayerNorm.bias", [C], "zero")]
    out += [("pooler.dense.weight", [C, C], "w"), ("pooler.dense.bias", [C], "b")]
    return out


def write_safetensors(path, seed):
    specs = tensors()
    header, off = {}, 0
    for name, shape, _ in specs:
        n = 1
        for d in shape:
            n *= d
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [off, off + 4 * n]}
        off += 4 * n
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((-len(hb)) % 8)
    # Random bytes from SHAKE-256 (C speed, deterministic in the seed), each byte mapped to a
    # float in [-0.05, 0.05] through a 256-entry table of packed floats.
    table_w = [struct.pack("<f", (b - 127.5) / 127.5 * 0.05) for b in range(256)]
    table_b = [struct.pack("<f", (b - 127.5) / 127.5 * 0.01) for b in range(256)]
    one, zero = struct.pack("<f", 1.0), struct.pack("<f", 0.0)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb)
        for i, (name, shape, kind) in enumerate(specs):
            n = header[name]["data_offsets"][1] // 4 - header[name]["data_offsets"][0] // 4
            if kind in ("w", "b"):
                rnd = hashlib.shake_256(f"{seed}:{i}:{name}".encode()).digest(n)
                table = table_w if kind == "w" else table_b
                f.write(b"".join(map(table.__getitem__, rnd)))
            else:
                f.write((one if kind == "one" else zero) * n)
    os.replace(tmp, path)


def main():
    args = sys.argv[1:]
    seed = 1234
    if "--seed" in args:
        i = args.index("--seed")
        seed = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    out, tokdir = args
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    os.makedirs(os.path.join(out, "2_Normalize"), exist_ok=True)
    cfg = {"architectures": ["BertModel"], "model_type": "bert", "attention_probs_dropout_prob": 0.1,
           "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": HIDDEN, "initializer_range": 0.02,
           "intermediate_size": INTER, "layer_norm_eps": 1e-12, "max_position_embeddings": POSITIONS,
           "num_attention_heads": HEADS, "num_hidden_layers": LAYERS, "pad_token_id": 0,
           "position_embedding_type": "absolute", "type_vocab_size": TYPES, "vocab_size": VOCAB}
    files = {
        "config.json": cfg,
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}],
        "sentence_bert_config.json": {"max_seq_length": 256, "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": False,
                                  "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                                  "pooling_mode_mean_sqrt_len_tokens": False},
        "tokenizer_config.json": {"do_lower_case": True, "model_max_length": 512, "cls_token": "[CLS]",
                                  "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
                                  "mask_token": "[MASK]", "tokenize_chinese_chars": True,
                                  "strip_accents": None, "tokenizer_class": "BertTokenizer"},
    }
    for name, obj in files.items():
        with open(os.path.join(out, name), "w") as f:
            json.dump(obj, f, indent=2)
    for name in ("tokenizer.json", "vocab.txt"):
        src = os.path.join(tokdir, name)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(out, name))
    write_safetensors(os.path.join(out, "model.safetensors"), seed)
    print(f"make_random_bert: wrote {out} ({LAYERS} layers, hidden {HIDDEN}, vocab {VOCAB})", file=sys.stderr)


if __name__ == "__main__":
    main()
