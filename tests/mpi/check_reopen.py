"""h5py's view of the store test_reopen.c wrote with N MPI ranks.

Usage: check_reopen.py FILE N. Recomputes every value with the formulas of
mpi_common.c (mt_fill) and checks the secbench on-disk format.
"""
import json
import sys

import h5py
import numpy as np

path, n = sys.argv[1], int(sys.argv[2])
failures = []


def expect(cond, what):
    if not cond:
        failures.append(what)


def values(seed, rows, row_elems):
    v = (np.uint64(seed) * np.uint64(100003)
         + np.arange(rows, dtype=np.uint64)[:, None] * np.uint64(131)
         + np.arange(row_elems, dtype=np.uint64)[None, :] * np.uint64(7))
    return v


def expected(dtype, seed, rows, row_shape):
    elems = int(np.prod(row_shape)) if row_shape else 1
    v = values(seed, rows, elems)
    if dtype == "int8":
        out = ((v % np.uint64(251)).astype(np.int64) - 125).astype(np.int8)
    elif dtype == "uint8":
        out = (v % np.uint64(253)).astype(np.uint8)
    elif dtype == "float64":
        out = v.astype(np.float64) * 0.125 - 12345.5
    elif dtype == "float32":
        out = (v % np.uint64(1000003)).astype(np.float32) * np.float32(0.25) - np.float32(1000.0)
    elif dtype == "bool":
        out = ((v // np.uint64(3)) & np.uint64(1)).astype(bool)
    elif dtype == "int64":
        out = (v * np.uint64(2654435761)).view(np.int64)
    else:
        raise ValueError(dtype)
    return out.reshape((rows,) + tuple(row_shape))


FIELDS = [("samples", "int8", (100,)), ("plaintext", "uint8", (16,)),
          ("key", "uint8", (16,)), ("t", "float64", ()), ("power", "float32", (2, 5)),
          ("valid", "bool", ()), ("id", "int64", ())]

rounds = [[r * 3 + 1 for r in range(n)], [0] + [1] * (n - 1), [n - r for r in range(n)]]
writers = np.concatenate([np.repeat(np.arange(n, dtype=np.int32), counts) for counts in rounds])
total = len(writers)

with h5py.File(path, "r") as f:
    expect(len(f.attrs) == 0, "the file has root attributes %s" % list(f.attrs))
    g = f["aes/traces"]
    expect(isinstance(f["aes"], h5py.Group) and "_sb_is_dataset" not in f["aes"].attrs,
           "aes is not a plain intermediate group")
    expect(int(g.attrs["_sb_size"]) == total, "_sb_size %r, wanted %d" % (g.attrs["_sb_size"], total))
    expect(int(g.attrs["_sb_capacity"]) == total + 10, "_sb_capacity %r" % g.attrs["_sb_capacity"])
    expect(g.attrs["_sb_size"].dtype == np.int64, "_sb_size dtype %s" % g.attrs["_sb_size"].dtype)
    expect(bool(g.attrs["_sb_is_dataset"]) is True, "_sb_is_dataset is not True")
    expect(g.attrs["_sb_is_dataset"].dtype == np.bool_,
           "_sb_is_dataset dtype %s (h5py reads a numpy bool enum as bool)"
           % g.attrs["_sb_is_dataset"].dtype)
    names = FIELDS + [("writer", "int32", ())]
    for prio, (name, dtype, shape) in enumerate(names):
        d = g[name]
        expect(d.dtype == np.dtype(dtype), "%s: dtype %s, wanted %s" % (name, d.dtype, dtype))
        expect(d.shape == (total + 10,) + shape, "%s: shape %s" % (name, d.shape))
        expect(int(d.attrs.get("_sb_priority", -1)) == prio, "%s: _sb_priority %r" %
               (name, d.attrs.get("_sb_priority")))
        expect(d.chunks is None, "%s is chunked, not contiguous" % name)
        if name == "writer":
            expect(np.array_equal(d[:total], writers), "writer column: %s" % d[:total])
        else:
            want = expected(dtype, prio, total, shape)
            expect(np.array_equal(d[:total], want), "%s: values differ from mt_fill" % name)
    raw = g["raw"]
    expect(bool(raw.attrs["_sb_is_asset"]), "raw is not flagged as an asset")
    expect(raw.dtype == np.uint8 and raw[()].tobytes() == b"\x00\x01\x02secbench",
           "raw asset: %r" % raw[()])
    coef = g["coef"]
    expect(coef.dtype == np.float32 and coef.shape == (3, 2), "coef asset %s %s" % (coef.dtype, coef.shape))
    expect(np.array_equal(coef[()], np.array([[0.5, -1], [2, 3], [4, 1e-3]], dtype=np.float32)),
           "coef values %s" % coef[()])
    conf = json.loads(g["conf"][()].tobytes().decode("utf-8"))
    expect(conf == {"ranks": n, "cipher": "aes128", "rounds": [1, 10]}, "conf asset %r" % conf)

for what in failures:
    print("FAIL:", what)
print("%s: %d rows from %d ranks, %d failure(s)" % (path, total, n, len(failures)))
sys.exit(1 if failures else 0)
