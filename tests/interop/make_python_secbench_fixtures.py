#!/usr/bin/python3
"""Regenerate tests/data/python-secbench/: stores written by the real Python
secbench (secbench.storage 3.7.1) and, for each, the dump of what it reads.

    make_python_secbench_fixtures.py SECBENCH_STORAGE_SRC [--out DIR] [--commit SHA]

SECBENCH_STORAGE_SRC is the folder holding secbench/storage/ (the
src/secbench-storage folder of the secbench repository); it is imported
from there, never installed. The exact command, with the mirror commit, is in
tests/data/python-secbench/README.md. Deterministic: fixed values and seeds,
no timestamps; the HDF5 files come out byte-identical from one run to the
next with the same h5py/HDF5 (the script checks this itself by writing every
store twice).

The expected dumps are made by compare_stores.dump() run on the real
secbench.storage.Store: compare_stores.py re-reads the same stores with
plain h5py and must find the same thing (ctest compare_stores_fixtures).
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_stores  # noqa: E402

SEED = 20240501
FIELD_DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                "uint64", "float16", "float32", "float64", "complex64", "complex128",
                "S1", "S8", "S16"]


# ---------------------------------------------------------------------------
# Deterministic values: the edge values of each dtype first, then random ones

def edges(dt):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return [True, False, False, True]
    if dt.kind in "iu":
        info = np.iinfo(dt)
        v = [int(info.min), int(info.max), 0, 1, int(info.max) - 1]
        if dt.kind == "i":
            v += [-1, int(info.min) + 1]
        if dt.itemsize == 8:
            v += [2**53 + 1, 2**53 - 1] + ([-(2**53 + 1)] if dt.kind == "i" else [2**63, 2**63 + 1])
        return v
    if dt.kind == "f":
        fi = np.finfo(dt)
        return [0.0, -0.0, np.inf, -np.inf, np.nan, float(fi.max), -float(fi.max),
                float(fi.tiny), float(fi.smallest_subnormal), 0.1, 1 / 3, -2.5, 1.0]
    if dt.kind == "c":
        fi = np.finfo(dt)
        return [complex(1, 2), complex(-0.0, np.inf), complex(np.nan, -1.0),
                complex(float(fi.max), float(fi.tiny)), complex(0.1, -1 / 3), complex(0, 0)]
    if dt.kind == "S":
        n = dt.itemsize
        # The first value is full length: Python secbench takes a field's
        # dtype from its first row, and a numpy bytes scalar drops its trailing
        # NULs (see "short_first" in make_dtypes).
        return [b"abcdefghijklmnopqrstuvwxyz"[:n], b"", b"A", b"\xff" * n,
                b"a\x00b"[:n], b"\x00" * n, (b"x" * (n - 1) + b"\x00")[:n]]
    raise ValueError(dt)


def random_values(dt, k, rng):
    dt = np.dtype(dt)
    if dt.kind == "b":
        return list(rng.random(k) < 0.5)
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return [int(x) for x in rng.integers(info.min, info.max, size=k, endpoint=True, dtype=dt)]
    if dt.kind == "f":
        return [float(x) for x in (rng.standard_normal(k) * 100).astype(dt)]
    if dt.kind == "c":
        re_, im = rng.standard_normal(k) * 10, rng.standard_normal(k) * 10
        return [complex(a, b) for a, b in zip(re_, im)]
    if dt.kind == "S":
        return [bytes(rng.integers(0, 256, size=dt.itemsize, dtype=np.uint8)) for _ in range(k)]
    raise ValueError(dt)


def column(dt, rows, row_shape, rng):
    """rows x row_shape values of dtype dt: edge values first, then random."""
    dt = np.dtype(dt)
    n = rows * int(np.prod(row_shape, dtype=np.int64))
    v = edges(dt)[:n]
    v += random_values(dt, n - len(v), rng)
    return np.array(v, dtype=dt).reshape((rows,) + tuple(row_shape))


# ---------------------------------------------------------------------------
# The stores, written with the real secbench.storage

def make_dtypes(Store, path, rng):
    s = Store(path, "w")
    for name, capacity, size, row_shape in (("scalar", 16, 13, ()), ("vector", 4, 4, (4,)),
                                            ("matrix", 5, 3, (2, 3))):
        ds = s.create_dataset(name, capacity, *FIELD_DTYPES)
        ds.extend(*[column(dt, size, row_shape, rng) for dt in FIELD_DTYPES])
    # Scalar S8 rows whose first value is shorter than 8 bytes: Python creates
    # the field from the first row (np.bytes_(b"ab"), dtype S2), and h5py then
    # truncates the longer rows to 2 bytes.
    ds = s.create_dataset("short_first", 4, "s8", "u")
    ds.extend(np.array([b"ab", b"abcdefgh", b"", b"xyz\x00"], dtype="S8"),
              np.arange(4, dtype=np.uint8))
    s.close()


DOC = {
    "zeta_first": "keys keep their order",
    "big_int": 1712345678901234567,
    "above_2_53": 9007199254740993,
    "int64_min": -9223372036854775808,
    "uint64_max": 18446744073709551615,
    "beyond_64_bits": 123456789012345678901234567890,
    "sum": 0.1 + 0.2,
    "three": 3.0,
    "int_zero": 0,
    "neg_zero": -0.0,
    "tiny": 5e-324,
    "huge": 1.7976931348623157e308,
    "exp": 1e-7,
    "true": True,
    "false": False,
    "null": None,
    "text": "\u00b5s \u2014 \u6d4b\u8bd5 \U0001f642 \"quoted\" \\ / \n\t",
    "nested": {"a": {"b": [1, [2, {"c": []}], {}]}, "empty": {}, "deep": [[[[-1]]]]},
    "list": [1, 2.5, "x", None, True, -0.5e-3],
    "alpha_last": "z",
}


def make_assets(Store, path, rng):
    s = Store(path, "w")
    ds = s.create_dataset("with_assets", 3, "x", "y")
    ds.extend(column("uint8", 2, (4,), rng), column("float32", 2, (), rng))
    for dt in FIELD_DTYPES:
        ds.add_asset(f"array_{dt}", column(dt, 5, (), rng))
    ds.add_asset("array_int16_2x3", column("int16", 2, (3,), rng))
    ds.add_asset("array_float64_2x2x2", column("float64", 2, (2, 2), rng))
    ds.add_asset("array_S8_2x2", column("S8", 2, (2,), rng))
    ds.add_asset("array_float32_empty", np.zeros(0, dtype=np.float32))
    ds.add_asset("bytes", b"\x00\x01secbench\xff\xfe\n")
    ds.add_asset("bytes_empty", b"")
    ds.add_json_asset("doc.json", DOC)
    ds.add_json_asset("list.json", [1, "two", 3.5, None, [], {}])
    ds.add_json_asset("number.json", 9007199254740993)
    ds.add_json_asset("string.json", "only a string")
    ds.add_json_asset("nul.json", {"s": "a\u0000b"})  # text "a\\u0000b": a NUL inside a string
    ds.add_json_asset("nonfinite.json", {"nan": float("nan"), "inf": float("inf"),
                                         "minus_inf": float("-inf")})
    ds.add_json_asset("replaced.json", {"version": 1})
    ds.add_json_asset("replaced.json", {"version": 2, "replaced": True}, replace=True)
    ds.add_asset("not_json", b'{"a": 1}')  # JSON text, but its name does not say so

    ds = s.create_dataset("scalar_asset", 2, "x", "y")
    ds.extend(np.array([5, 6], dtype=np.int32), np.array([1.5, -1.5], dtype=np.float64))
    ds.add_asset("zero_d", np.array(7, dtype=np.int32))  # a scalar dataspace
    s.close()


def make_layout(Store, path, rng):
    s = Store(path, "w")
    ds = s.create_dataset("spare", 10, "data", "label")
    ds.extend(column("int8", 3, (5,), rng), column("uint8", 3, (), rng))

    s.create_dataset("never", 4, "a", "b")  # no row: Python creates no field dataset

    ds = s.create_dataset("aes/traces", 6, "samples", "plaintext", "key")
    ds.extend(column("int16", 5, (8,), rng), column("uint8", 5, (16,), rng),
              column("uint8", 5, (16,), rng))
    ds.add_json_asset("acquisition.json", {"samples": 8, "rate": 2.5e9, "scope": "sim"})

    ds = s.create_dataset("campaign/2024/aes/traces", 2, "x", "n")
    ds.extend(column("float32", 2, (2,), rng), column("int64", 2, (), rng))

    ds = s.create_dataset("outer", 3, "a", "c")
    ds.extend(column("int32", 2, (), rng), column("uint16", 2, (), rng))
    ds = s.create_dataset("outer/inner", 2, "b", "d")  # a dataset inside a dataset's group
    ds.extend(column("int64", 1, (), rng), column("bool", 1, (), rng))

    # Fields created in an order unlike name order: _sb_priority decides.
    ds = s.create_dataset("order", 3, "zeta", "alpha", "mid", "beta")
    ds.extend(column("uint16", 3, (), rng), column("int8", 3, (2,), rng),
              column("float64", 3, (), rng), column("bool", 3, (), rng))

    # reset() then a smaller extend: rows 2..4 of the first extend stay in the
    # file beyond the size.
    ds = s.create_dataset("reset", 6, "t", "k")
    ds.extend(column("int16", 5, (3,), rng), column("uint8", 5, (), rng))
    ds.reset()
    ds.extend(column("int16", 2, (3,), rng), column("uint8", 2, (), rng))

    # append(), one row at a time, with numpy scalars and arrays.
    ds = s.create_dataset("appended", 4, "i", "v", "flag")
    for r in range(3):
        ds.append(np.int32(100 * r - 7), np.array([r, 0.5 * r, -r], dtype=np.float64),
                  np.bool_(r % 2))

    ds = s.create_dataset("full", 4, "a", "b")
    ds.extend(column("uint32", 4, (), rng), column("float32", 4, (3,), rng))
    s.close()


def make_exported(Store, path, layout, assets):
    src = Store(layout, "r")
    src_assets = Store(assets, "r")
    dst = Store(path, "w")
    src.export_dataset("aes/traces", dst)  # shrink=True (default)
    src.export_dataset("aes/traces", dst, new_name="copies/traces_full", shrink=False)
    src.export_dataset("reset", dst, chunk_size=1)
    src.export_dataset("order", dst, new_name="order_renamed", chunk_size=2)
    src.export_dataset("spare", dst, shrink=False)
    src_assets.export_dataset("with_assets", dst)
    dst.close()
    src.close()
    src_assets.close()


FIXTURES = [
    ("dtypes.h5", "fields of every dtype Python secbench maps to HDF5: scalar, (4,) "
                  "and (2,3) rows"),
    ("assets.h5", "add_asset of arrays of every dtype, raw bytes, empty, 0-d; "
                  "add_json_asset with big integers, floats, unicode, NaN"),
    ("layout.h5", "capacity > size, never written, nested names, a dataset in a "
                  "dataset, priority order unlike name order, reset, append, full"),
    ("exported.h5", "Store.export_dataset of layout.h5 and assets.h5: shrink, "
                    "no shrink, new_name, chunk_size"),
]


def write_all(Store, outdir):
    rng = np.random.default_rng(SEED)
    p = lambda name: os.path.join(outdir, name)  # noqa: E731
    make_dtypes(Store, p("dtypes.h5"), rng)
    make_assets(Store, p("assets.h5"), rng)
    make_layout(Store, p("layout.h5"), rng)
    make_exported(Store, p("exported.h5"), p("layout.h5"), p("assets.h5"))


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def secbench_version(src):
    with open(os.path.join(src, "pyproject.toml"), encoding="utf-8") as f:
        m = re.search(r'^version\s*=\s*"([^"]+)"', f.read(), re.M)
    return m.group(1) if m else "?"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("secbench_src", help="folder holding secbench/storage (src/secbench-storage)")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "data", "python-secbench"))
    ap.add_argument("--commit", default="unknown", help="secbench repository commit (recorded)")
    args = ap.parse_args(argv[1:])

    src = os.path.abspath(args.secbench_src)
    sys.path.insert(0, src)
    import secbench.storage as sbs
    if not os.path.abspath(sbs.__file__).startswith(src + os.sep):
        raise SystemExit(f"secbench.storage imported from {sbs.__file__}, not from {src}")
    Store = sbs.Store

    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sb-fixtures-") as tmp:
        runs = [os.path.join(tmp, "a"), os.path.join(tmp, "b")]
        for d in runs:
            os.makedirs(d)
            write_all(Store, d)
        reproducible = {name: sha256(os.path.join(runs[0], name)) == sha256(os.path.join(runs[1], name))
                        for name, _ in FIXTURES}
        for name, _ in FIXTURES:
            shutil.copyfile(os.path.join(runs[0], name), os.path.join(out, name))

    made_by = {
        "generator": "tests/interop/make_python_secbench_fixtures.py",
        "secbench_storage": secbench_version(src),
        "secbench_commit": args.commit,
        "secbench_license": "CeCILL-2.1",
        "h5py": h5py.version.version,
        "hdf5": h5py.version.hdf5_version,
        "numpy": np.__version__,
        "python": sys.version.split()[0],
        "seed": SEED,
    }
    for name, what in FIXTURES:
        path = os.path.join(out, name)
        store = Store(path, "r")
        try:
            names = list(store.dataset_names())
            if len(names) != len(set(names)):
                raise SystemExit(f"{name}: Python listed a dataset twice: {sorted(names)}")
            doc = compare_stores.dump(store)
        finally:
            store.close()
        doc = {"format": doc.pop("format"), "fixture": name, "what": what,
               "sha256": sha256(path), "byte_reproducible": reproducible[name],
               "made_by": made_by, **doc}
        exp = os.path.join(out, name.replace(".h5", ".expected.json"))
        compare_stores.write_json(doc, exp)
        with open(exp, encoding="utf-8") as f:
            assert json.load(f) == json.loads(json.dumps(doc))
        print(f"{name}: {os.path.getsize(path)} bytes, {len(doc['datasets'])} datasets, "
              f"byte-reproducible: {reproducible[name]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
