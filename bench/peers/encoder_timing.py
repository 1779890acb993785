"""What the encoder peers (torch_bert.py, ort_bert.py) share with seam_bench's encoder mode:
the ids ([CLS] ... [SEP] of (1000 + 997 (t + b)) mod vocab, every row full length) and the
timing (a warm-up run that sizes the repetitions to ~2 s, 3 to 1000, then the median)."""
import statistics
import sys
import time


def bench_ids(B, T, vocab):
    """B rows of T ids, as lists."""
    rows = []
    for b in range(B):
        row = []
        for t in range(T):
            i = (1000 + 997 * (t + b)) % vocab
            i = i + 1000 if i < 1000 else i
            row.append(101 if t == 0 else 102 if t == T - 1 else i)
        rows.append(row)
    return rows


def sentences_per_s(make_run, label):
    """{"b1_short", "b1_long", "b32_short", "b32_long"} -> sentences/s, where make_run(B, T)
    returns the call that embeds one batch."""
    out = {}
    for B in (1, 32):
        for T in (12, 128):
            run = make_run(B, T)
            ts, reps, r = [], 0, -1
            while r < reps:
                t0 = time.perf_counter()
                run()
                dt = time.perf_counter() - t0
                if r < 0:
                    reps = min(1000, max(3, int(2.0 / max(dt, 1e-6))))
                else:
                    ts.append(dt)
                r += 1
            key = f"b{B}_{'short' if T == 12 else 'long'}"
            out[key] = B / statistics.median(ts)
            print(f"  {label} encoder B={B} T={T}: {out[key]:.1f} sentences/s", file=sys.stderr)
    return out
