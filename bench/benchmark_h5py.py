#!/usr/bin/python3
"""Workload 6, h5py side: the workload of `secbench-db benchmark` through h5py
on Python secbench's layout, printing the same `label,seconds,MB/s` lines.

For sizes 1000, 10000, ... up to --max-size: a dataset bench_SIZE of int8
traces (1000 samples) and 16-byte uint8 plaintexts, written in chunks of
--chunk-size rows the way Python secbench's Dataset.extend does (slice
assignment per field, then the _sb_size attribute), flushed, then read back
in chunks and compared with what was written.
"""
import argparse
import sys
import time

import h5py
import numpy as np

SAMPLES, PT = 1000, 16


def create(f, name, capacity, rows):
    g = f.create_group(name)
    g.attrs["_sb_size"] = np.int64(0)
    g.attrs["_sb_is_dataset"] = np.bool_(True)
    g.attrs["_sb_capacity"] = np.int64(capacity)
    return g


def run_size(f, size, chunk, traces, pts):
    g = create(f, "bench_%d" % size, size, chunk)
    fields = None
    t0 = time.perf_counter()
    done = 0
    while done < size:
        n = min(chunk, size - done)
        cols = (traces[:n], pts[:n])
        if fields is None:
            fields = []
            for prio, (name, col) in enumerate(zip(("data", "plaintext"), cols)):
                d = g.create_dataset(name, shape=(size,) + col.shape[1:], dtype=col.dtype)
                d.attrs["_sb_priority"] = np.int64(prio)
                fields.append(d)
        for d, col in zip(fields, cols):
            d[done:done + n] = col
        done += n
        g.attrs["_sb_size"] = np.int64(done)
    f.flush()
    wsec = time.perf_counter() - t0
    t0 = time.perf_counter()
    same = True
    done = 0
    data, plaintext = g["data"], g["plaintext"]
    while done < size:
        n = min(chunk, size - done)
        a = data[done:done + n]
        b = plaintext[done:done + n]
        same = same and np.array_equal(a, traces[:n]) and np.array_equal(b, pts[:n])
        done += n
    rsec = time.perf_counter() - t0
    if not same:
        sys.exit("read_%d: the rows read back differ from the rows written" % size)
    return wsec, rsec


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("store")
    ap.add_argument("--chunk-size", type=int, default=10000)
    ap.add_argument("--max-size", type=int, default=100000)
    a = ap.parse_args()
    if a.chunk_size < 1 or a.max_size < 1000:
        sys.exit("--chunk-size must be >= 1 and --max-size >= 1000")
    rows = min(a.chunk_size, a.max_size)
    rng = np.random.default_rng(1)
    traces = rng.integers(-128, 128, size=(rows, SAMPLES), dtype=np.int8)
    pts = rng.integers(0, 256, size=(rows, PT), dtype=np.uint8)
    with h5py.File(a.store, "w") as f:
        size = 1000
        while size <= a.max_size:
            wsec, rsec = run_size(f, size, a.chunk_size, traces, pts)
            mb = size * (SAMPLES + PT) / 1e6
            print("write_%d,%.6f,%.1f" % (size, wsec, mb / wsec if wsec > 0 else 0.0))
            print("read_%d,%.6f,%.1f" % (size, rsec, mb / rsec if rsec > 0 else 0.0))
            sys.stdout.flush()
            size *= 10


if __name__ == "__main__":
    main()
