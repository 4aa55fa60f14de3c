#!/usr/bin/python3
"""Workload 2, h5py side: the append loop Python secbench runs, on its layout.

Per append, Python secbench's Dataset.append writes each field's row into the
field's h5py dataset (creating the fields on the first row, contiguous,
(capacity, *row_shape), with _sb_priority) and stores the new size in the
group's _sb_size attribute. This is that loop without secbench's own Python
overhead, so it is a lower bound of what secbench costs.
"""
import argparse
import os
import sys
import time

import h5py
import numpy as np

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_csv  # noqa: E402

POOL = 64


def run(path, traces, samples, sync):
    rng = np.random.default_rng(1)
    pool_s = rng.integers(-128, 128, size=(POOL, samples), dtype=np.int8)
    pool_f = rng.integers(0, 256, size=(POOL, 3, 16), dtype=np.uint8)
    names = ["data", "plaintext", "ciphertext", "key"]
    if os.path.exists(path):
        os.remove(path)
    t0 = time.perf_counter()
    f = h5py.File(path, "w")
    g = f.create_group("traces")
    g.attrs["_sb_size"] = np.int64(0)
    g.attrs["_sb_is_dataset"] = np.bool_(True)
    g.attrs["_sb_capacity"] = np.int64(traces)
    fields = None
    for i in range(traces):
        p = i % POOL
        row = (pool_s[p], pool_f[p, 0], pool_f[p, 1], pool_f[p, 2])
        if fields is None:
            fields = []
            for prio, (name, value) in enumerate(zip(names, row)):
                d = g.create_dataset(name, shape=(traces,) + value.shape, dtype=value.dtype)
                d.attrs["_sb_priority"] = np.int64(prio)
                fields.append(d)
        for d, value in zip(fields, row):
            d[i] = value
        g.attrs["_sb_size"] = np.int64(i + 1)
    f.flush()
    if sync:
        os.fsync(f.id.get_vfd_handle())
    f.close()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--traces", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--rep-base", type=int, default=1)
    ap.add_argument("--sync", action="store_true")
    ap.add_argument("--dir", default=".")
    ap.add_argument("--csv")
    a = ap.parse_args()
    path = os.path.join(a.dir, "append-h5py.h5")
    wl = "append-s%d%s" % (a.samples, "-sync" if a.sync else "")
    nbytes = a.traces * (a.samples + 48)
    for r in range(a.reps):
        t = run(path, a.traces, a.samples, a.sync)
        bench_csv.row(a.csv, wl, 1, nbytes, a.rep_base + r, "h5py", t)
        print("%s h5py rep %d: %.3f s, %.0f appends/s" % (wl, a.rep_base + r, t, a.traces / t))
    os.remove(path)


if __name__ == "__main__":
    main()
