#!/usr/bin/python3
"""Write a store with h5py the way Python secbench (and files in the wild) do,
then run the C checker on it.

    write_python_stores.py INTEROP_CHECK_PYTHON_EXE

Content (interop_check_python.c checks every value with the same rules):
  "py/traces"  capacity np.int32(10) (an int32 attribute), size 6
       trace  int16 (8)     prio 0   100r - 3j
       label  bool          prio 1   r odd           (h5py's enum for numpy bool)
       energy float32       prio 2   0.5r - 1
       ids    uint64 (2,2)  prio 3   1000r + k + 2**40
     assets blob (bytes b"\\x00py\\xffblob"), grid int16 (3,4) i - 6,
            conf (JSON CONF as UTF-8 bytes)
     a sub-group "extra" holding a plain HDF5 dataset (ignored by secbench)
  "py/legacy"  capacity np.int32(5), size 3, field "only" float64 without
               _sb_priority: r*r + 0.125
  "py/notes"   a plain group (not a dataset) with a plain HDF5 dataset inside
  "top"        capacity 2, size 2, fields created as "z" (prio 0) then "a"
               (prio 1), int8: z = -r - 1, a = r + 1; order must follow prio
  "empty_py"   capacity 4, size 0, no field (Python never created one)
"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

CONF = {"device": "cw308", "rate": 1.5e9, "list": [1, 2, 3], "\u00b5": "ok"}


def mark(group, capacity, size):
    # Python secbench: plain Python ints become int64, a bool becomes the enum.
    group.attrs["_sb_size"] = size
    group.attrs["_sb_is_dataset"] = True
    group.attrs["_sb_capacity"] = capacity


def field(group, name, capacity, dtype, row_shape, rows, priority):
    d = group.create_dataset(name, shape=(capacity,) + row_shape, dtype=dtype)
    if len(rows):
        d[: len(rows)] = np.asarray(rows, dtype=dtype)
    if priority is not None:
        d.attrs["_sb_priority"] = priority
    return d


def asset(group, name, array):
    d = group.create_dataset(name, data=array)
    d.attrs["_sb_is_asset"] = True


def write(path):
    with h5py.File(path, "w") as f:
        g = f.create_group("py/traces")
        mark(g, np.int32(10), 6)
        rows = range(6)
        field(g, "trace", 10, "int16", (8,), [[100 * r - 3 * j for j in range(8)] for r in rows], 0)
        field(g, "label", 10, np.bool_, (), [r % 2 == 1 for r in rows], 1)
        field(g, "energy", 10, "float32", (), [0.5 * r - 1 for r in rows], 2)
        field(g, "ids", 10, "uint64", (2, 2),
              [[[1000 * r + 2 * a + b + 2**40 for b in range(2)] for a in range(2)] for r in rows], 3)
        asset(g, "blob", np.frombuffer(b"\x00py\xffblob", dtype=np.uint8))
        asset(g, "grid", (np.arange(12, dtype=np.int16) - 6).reshape(3, 4))
        asset(g, "conf", np.frombuffer(json.dumps(CONF).encode("utf-8"), dtype=np.uint8))
        extra = g.create_group("extra")
        extra.create_dataset("junk", data=np.arange(3, dtype=np.int32))

        g = f.create_group("py/legacy")
        mark(g, np.int32(5), 3)
        field(g, "only", 5, "float64", (), [r * r + 0.125 for r in range(3)], None)

        notes = f.create_group("py/notes")
        notes.create_dataset("readme", data=np.frombuffer(b"not a dataset", dtype=np.uint8))

        g = f.create_group("top")
        mark(g, 2, 2)
        field(g, "z", 2, "int8", (), [-r - 1 for r in range(2)], 0)
        field(g, "a", 2, "int8", (), [r + 1 for r in range(2)], 1)

        mark(f.create_group("empty_py"), 4, 0)
    # the file really has what the rules say
    with h5py.File(path, "r") as f:
        assert f["py/traces"].attrs["_sb_capacity"].dtype == np.int32
        assert f["py/traces/label"].dtype == np.bool_
        assert "_sb_priority" not in f["py/legacy/only"].attrs


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sb-py-written-") as tmp:
        path = os.path.join(tmp, "python-written.h5")
        write(path)
        return subprocess.run([argv[1], path]).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
