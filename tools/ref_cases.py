#!/usr/bin/env python3
"""Prints `input_ids greedy` (comma-separated) for each case of a fixture reference.safetensors.

Used by tests/cli/generate.sh; stdlib only so it runs on a bare Debian python3."""
import array
import json
import struct
import sys


def main(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        i = 0
        while f"case{i}.input_ids" in header:
            row = []
            for key in ("input_ids", "greedy"):
                t = header[f"case{i}.{key}"]
                b, e = t["data_offsets"]
                f.seek(base + b)
                a = array.array("i")
                a.frombytes(f.read(e - b))
                row.append(",".join(map(str, a)))
            print(" ".join(row))
            i += 1


if __name__ == "__main__":
    main(sys.argv[1])
