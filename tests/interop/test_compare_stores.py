#!/usr/bin/python3
"""Tests of compare_stores.py (no Python secbench needed).

    test_compare_stores.py CASE

CASE:
  fixtures   every store of tests/data/python-secbench reads, with the h5py
             rules, exactly as the real Python secbench read it when the
             fixture was made, and is the very file that dump was made of
             (its sha256)
  exports    Python's export_dataset results in exported.h5 compare equal to
             their sources' dumps with --dataset SRC=DST and --capacity size
  value      a copy with one changed value fails, naming field, row and item
  dtype      a copy with one field rewritten as another dtype (same values) fails
  order      a copy with two _sb_priority swapped fails on the field order
  asset      a copy with one byte of a JSON asset changed fails
  size       a copy with a smaller _sb_size fails
  names      a copy with one more dataset fails (passes with --extra-ok)
"""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "python-secbench")
CHECKER = os.path.join(HERE, "compare_stores.py")
FIXTURES = ["dtypes", "assets", "layout", "exported"]


def run(store, expected, *extra):
    p = subprocess.run([sys.executable, CHECKER, store, expected, *extra],
                       capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def fail(msg):
    raise SystemExit(f"FAIL: {msg}")


def expect_pass(store, expected, *extra):
    code, out = run(store, expected, *extra)
    if code != 0:
        fail(f"{os.path.basename(store)} vs {os.path.basename(expected)} {extra}: exit {code}\n{out}")
    print(out.strip())


def expect_mismatch(store, expected, needles, count=None, *extra):
    code, out = run(store, expected, *extra)
    print(out.strip())
    if code != 1:
        fail(f"checker exit {code} on an altered store, expected 1")
    for needle in needles:
        if needle not in out:
            fail(f"checker output lacks {needle!r}")
    if count is not None and f"{count} mismatch(es)" not in out:
        fail(f"expected exactly {count} mismatch(es)")


def copy(tmp, name):
    dst = os.path.join(tmp, f"{name}.h5")
    shutil.copyfile(os.path.join(DATA, f"{name}.h5"), dst)
    return dst


def exp(name):
    return os.path.join(DATA, f"{name}.expected.json")


def case_fixtures(tmp):
    for name in FIXTURES:
        path = os.path.join(DATA, f"{name}.h5")
        with open(exp(name), encoding="utf-8") as f:
            doc = json.load(f)
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if doc["sha256"] != digest:
            fail(f"{name}.h5 is not the file {name}.expected.json was made from "
                 "(regenerate both with make_python_secbench_fixtures.py)")
        if doc["fixture"] != f"{name}.h5":
            fail(f"{name}.expected.json describes {doc['fixture']}")
        expect_pass(path, exp(name))


def case_exports(tmp):
    exported = os.path.join(DATA, "exported.h5")
    # shrink=True: capacity became the size
    expect_pass(exported, exp("layout"), "--dataset", "aes/traces", "--dataset", "reset",
                "--dataset", "order=order_renamed", "--capacity", "size", "--extra-ok")
    # shrink=False: the capacity stays
    expect_pass(exported, exp("layout"), "--dataset", "aes/traces=copies/traces_full",
                "--dataset", "spare", "--extra-ok")
    expect_pass(exported, exp("assets"), "--dataset", "with_assets", "--capacity", "size",
                "--extra-ok")
    # and --capacity exact notices the shrink
    expect_mismatch(exported, exp("layout"), ["capacity 5, expected 6"], 1,
                    "--dataset", "aes/traces", "--extra-ok")


def case_value(tmp):
    path = copy(tmp, "dtypes")
    with h5py.File(path, "r+") as f:
        d = f["scalar/int32"]
        d[3] = d[3] + 1
    expect_mismatch(path, exp("dtypes"),
                    ["dataset 'scalar' field 'int32' value[row 3, item 0]: got \"2\", expected \"1\""],
                    1)


def case_dtype(tmp):
    path = copy(tmp, "layout")
    with h5py.File(path, "r+") as f:
        g = f["spare"]
        old = g["label"]
        data, prio = old[()], old.attrs["_sb_priority"]
        del g["label"]
        new = g.create_dataset("label", data=data.astype(np.uint16))
        new.attrs["_sb_priority"] = prio
    expect_mismatch(path, exp("layout"),
                    ["field 'label': dtype \"<u2\", expected \"|u1\"",
                     "field 'label': dtype_name \"uint16\", expected \"uint8\""], 2)


def case_order(tmp):
    path = copy(tmp, "layout")
    with h5py.File(path, "r+") as f:
        g = f["order"]
        g["zeta"].attrs["_sb_priority"] = 1
        g["alpha"].attrs["_sb_priority"] = 0
    expect_mismatch(path, exp("layout"),
                    ["fields (in Python's order) ['alpha', 'zeta', 'mid', 'beta'], "
                     "expected ['zeta', 'alpha', 'mid', 'beta']"], 1)


def case_asset(tmp):
    path = copy(tmp, "assets")
    with h5py.File(path, "r+") as f:
        d = f["with_assets/doc.json"]
        text = d[()].tobytes()
        pos = text.index(b"1712345678901234567") + 18
        d[pos] = ord("8")  # ...4567 -> ...4568: beyond double precision
    expect_mismatch(path, exp("assets"),
                    ["asset 'doc.json': json $.big_int: got {\"t\": \"int\", \"v\": "
                     "\"1712345678901234568\"}, expected {\"t\": \"int\", \"v\": \"1712345678901234567\"}",
                     "asset 'doc.json': raw_hex differs at character ",
                     "asset 'doc.json': json_text differs at character ",
                     "asset 'doc.json' value[row 69, item 0]: got \"56\", expected \"55\""], 4)


def case_size(tmp):
    path = copy(tmp, "layout")
    with h5py.File(path, "r+") as f:
        f["full"].attrs["_sb_size"] = np.int64(3)
    expect_mismatch(path, exp("layout"), ["dataset 'full': size 3, expected 4",
                                          "field 'a' value: 3 values, expected 4"], 3)


def case_names(tmp):
    path = copy(tmp, "layout")
    with h5py.File(path, "r+") as f:
        g = f.create_group("extra/one")
        g.attrs["_sb_is_dataset"] = True
    expect_mismatch(path, exp("layout"), ["dataset_names [", "'extra/one'"], 1)
    expect_pass(path, exp("layout"), "--extra-ok")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main(argv):
    if len(argv) != 2 or argv[1] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sb-compare-") as tmp:
        CASES[argv[1]](tmp)
    print(f"compare_stores {argv[1]}: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
