#!/usr/bin/python3
"""Assert what a store written by a Slurm job holds, read with h5py (independent
of the C library):
  check_store.py STORE DATASET --size N [--field NAME:COLS]... [--asset NAME:COUNT]...
                 [--asset-json NAME:KEY=VALUE]...

--field NAME:COLS asserts the field exists with one row per capacity slot and
COLS values per row (COLS '-' only asserts that the field exists); --asset
asserts an asset of COUNT elements; --asset-json that a JSON asset has
KEY equal to VALUE (compared as JSON text, so 4 and "int8" both work)."""
import argparse
import json
import sys

import h5py


def fail(msg):
    print(f"check_store: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("store")
    ap.add_argument("dataset")
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--field", action="append", default=[])
    ap.add_argument("--asset", action="append", default=[])
    ap.add_argument("--asset-json", action="append", default=[])
    a = ap.parse_args()
    try:
        f = h5py.File(a.store, "r")
    except OSError as e:
        fail(f"{a.store}: cannot open: {e}")
    with f:
        if a.dataset not in f:
            fail(f"{a.store}: no dataset '{a.dataset}' (has: {', '.join(f.keys()) or 'nothing'})")
        g = f[a.dataset]
        if not bool(g.attrs.get("_sb_is_dataset", False)):
            fail(f"{a.store}:{a.dataset}: not marked _sb_is_dataset")
        size, cap = int(g.attrs["_sb_size"]), int(g.attrs["_sb_capacity"])
        if size != a.size:
            fail(f"{a.store}:{a.dataset}: _sb_size is {size}, expected {a.size}")
        if cap < size:
            fail(f"{a.store}:{a.dataset}: capacity {cap} < size {size}")
        for spec in a.field:
            name, _, cols = spec.partition(":")
            if name not in g:
                fail(f"{a.store}:{a.dataset}: no field '{name}' (has: {', '.join(g.keys())})")
            shape = g[name].shape
            if shape[0] != cap:
                fail(f"{a.store}:{a.dataset}/{name}: {shape[0]} rows, capacity is {cap}")
            if cols not in ("", "-"):
                per_row = 1
                for d in shape[1:]:
                    per_row *= d
                if per_row != int(cols):
                    fail(f"{a.store}:{a.dataset}/{name}: row shape {shape[1:]}, expected {cols} values")
        for spec in a.asset:
            name, _, count = spec.partition(":")
            if name not in g or not bool(g[name].attrs.get("_sb_is_asset", False)):
                fail(f"{a.store}:{a.dataset}: no asset '{name}'")
            if g[name].size != int(count):
                fail(f"{a.store}:{a.dataset}: asset '{name}' has {g[name].size} elements, expected {count}")
        for spec in a.asset_json:
            name, _, kv = spec.partition(":")
            key, _, want = kv.partition("=")
            if name not in g:
                fail(f"{a.store}:{a.dataset}: no asset '{name}'")
            try:
                doc = json.loads(bytes(g[name][()]).decode("utf-8"))
            except ValueError as e:
                fail(f"{a.store}:{a.dataset}: asset '{name}' is not JSON: {e}")
            got = json.dumps(doc.get(key))
            if got != want and got != json.dumps(want):
                fail(f"{a.store}:{a.dataset}: asset '{name}' has {key}={got}, expected {want}")
    print(f"check_store: {a.store}:{a.dataset} size {size} capacity {cap} ok")


main()
