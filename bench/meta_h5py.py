#!/usr/bin/python3
"""Workload 5, h5py side: the metadata steps of Python secbench on its layout.

create_dataset: a group with _sb_size, _sb_is_dataset, _sb_capacity.
dataset_names: walk the file for groups marked _sb_is_dataset.
load_dataset: open the group, check and read its attributes, list its fields
(child datasets not marked _sb_is_asset) sorted by _sb_priority.
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


def name_of(i):
    return "ds_%06d" % i


def add_row(g):
    """Python secbench's first append: create the fields, write row 0, size 1."""
    for prio, (name, value) in enumerate(
            [("data", np.zeros(1000, np.int8)), ("plaintext", np.zeros(16, np.uint8))]):
        d = g.create_dataset(name, shape=(100,) + value.shape, dtype=value.dtype)
        d.attrs["_sb_priority"] = np.int64(prio)
        d[0] = value
    g.attrs["_sb_size"] = np.int64(1)


def create_store(path, n):
    """N datasets; the middle one (the one loaded later) gets one row."""
    if os.path.exists(path):
        os.remove(path)
    t0 = time.perf_counter()
    with h5py.File(path, "w") as f:
        for i in range(n):
            g = f.create_group(name_of(i))
            g.attrs["_sb_size"] = np.int64(0)
            g.attrs["_sb_is_dataset"] = np.bool_(True)
            g.attrs["_sb_capacity"] = np.int64(100)
            if i == n // 2:
                add_row(g)
    return time.perf_counter() - t0


def dataset_names(f):
    names = []

    def visit(name, obj):
        if isinstance(obj, h5py.Group) and obj.attrs.get("_sb_is_dataset", False):
            names.append(name)
    f.visititems(visit)
    return sorted(names)


def load_dataset(f, name):
    g = f.get(name)
    if g is None or not isinstance(g, h5py.Group) or not g.attrs.get("_sb_is_dataset", False):
        raise KeyError(name)
    capacity = int(g.attrs["_sb_capacity"])
    size = int(g.attrs["_sb_size"])
    fields = []
    for key, obj in g.items():
        if isinstance(obj, h5py.Dataset) and not obj.attrs.get("_sb_is_asset", False):
            fields.append((int(obj.attrs.get("_sb_priority", 1 << 30)), key, obj.dtype,
                           obj.shape[1:]))
    fields.sort()
    return capacity, size, fields


def measure(path, n, loads):
    target = name_of(n // 2)
    t_create = create_store(path, n)
    t0 = time.perf_counter()
    f = h5py.File(path, "r")
    t_open = time.perf_counter() - t0
    t0 = time.perf_counter()
    names = dataset_names(f)
    t_list = time.perf_counter() - t0
    if len(names) != n:
        raise SystemExit("listed %d datasets, created %d" % (len(names), n))
    t0 = time.perf_counter()
    for _ in range(loads):
        _, size, _ = load_dataset(f, target)
        if size != 1:
            raise SystemExit("loaded dataset does not hold its one row")
    t_load = (time.perf_counter() - t0) / loads
    f.close()
    os.remove(path)
    return {"create": t_create, "open": t_open, "list": t_list, "load": t_load}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--counts", default="10,1000,10000")
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--rep-base", type=int, default=1)
    ap.add_argument("--loads", type=int, default=20)
    ap.add_argument("--dir", default=".")
    ap.add_argument("--csv")
    a = ap.parse_args()
    path = os.path.join(a.dir, "meta-h5py.h5")
    for r in range(a.reps):
        for n in (int(x) for x in a.counts.split(",")):
            for step, t in measure(path, n, a.loads).items():
                wl = "meta-%s-n%d" % (step, n)
                bench_csv.row(a.csv, wl, 1, n, a.rep_base + r, "h5py", t)
                print("%s h5py rep %d: %.6f s" % (wl, a.rep_base + r, t))


if __name__ == "__main__":
    main()
