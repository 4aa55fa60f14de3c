#!/usr/bin/python3
"""C -> Python -> C -> Python round trip on one store.

    roundtrip.py INTEROP_ROUNDTRIP_EXE

1. C writes "rt" (rows 0..4, JSON asset "origin").
2. Python checks them, appends rows 5..8 as Python secbench's Dataset.extend
   does (write the rows into the fields, then set _sb_size), adds the JSON
   asset "py_note" and a new dataset "from_py".
3. C checks everything and appends row 9.
4. Python checks row 9 and that the attributes kept their types.
Row r: a = [10r, 10r+1, 10r+2] int32, b = r / 4 float64 (as in interop_roundtrip.c).
"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np


def rows(first, last):
    a = np.array([[10 * r + j for j in range(3)] for r in range(first, last)], dtype=np.int32)
    b = np.array([r / 4 for r in range(first, last)], dtype=np.float64)
    return a, b


def expect(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")


def python_extend(group, a, b):
    size = int(group.attrs["_sb_size"])
    n = len(a)
    expect(size + n <= int(group.attrs["_sb_capacity"]), "capacity")
    group["a"][size:size + n] = a
    group["b"][size:size + n] = b
    group.attrs["_sb_size"] = size + n


def python_add_json(group, name, doc):
    d = group.create_dataset(name, data=np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8))
    d.attrs["_sb_is_asset"] = True


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = argv[1]
    with tempfile.TemporaryDirectory(prefix="sb-roundtrip-") as tmp:
        path = os.path.join(tmp, "roundtrip.h5")
        subprocess.run([exe, "write", path], check=True)

        with h5py.File(path, "r+") as f:
            g = f["rt"]
            expect(int(g.attrs["_sb_size"]) == 5, "size after C write")
            a, b = rows(0, 5)
            expect(np.array_equal(g["a"][:5], a) and np.array_equal(g["b"][:5], b), "C rows")
            origin = json.loads(g["origin"][()].tobytes().decode())
            expect(origin == {"by": "c"}, f"origin = {origin}")
            python_extend(g, *rows(5, 9))
            python_add_json(g, "py_note", {"by": "python", "n": 4})
            new = f.create_group("from_py")
            new.attrs["_sb_size"] = 2
            new.attrs["_sb_is_dataset"] = True
            new.attrs["_sb_capacity"] = 3
            v = new.create_dataset("v", shape=(3, 3), dtype=np.uint8)
            v[:2] = np.array([[r + j for j in range(3)] for r in range(2)], dtype=np.uint8)
            v.attrs["_sb_priority"] = 0

        subprocess.run([exe, "verify", path], check=True)

        with h5py.File(path, "r") as f:
            g = f["rt"]
            expect(int(g.attrs["_sb_size"]) == 10, "size after C append")
            expect(g.attrs["_sb_size"].dtype == np.int64, "_sb_size stays int64")
            expect(g.attrs["_sb_capacity"].dtype == np.int64, "_sb_capacity stays int64")
            a, b = rows(0, 10)
            expect(np.array_equal(g["a"][:10], a), "a after round trip")
            expect(np.array_equal(g["b"][:10], b), "b after round trip")
            expect(g["a"].shape == (12, 3) and g["b"].shape == (12,), "field shapes")
    print("C -> Python -> C -> Python round trip ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
