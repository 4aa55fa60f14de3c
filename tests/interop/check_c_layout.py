#!/usr/bin/python3
"""Run interop_write (C) and check with h5py that the store is laid out
exactly as Python secbench lays stores out, value by value.

    check_c_layout.py INTEROP_WRITE_EXE

The values follow the rules documented in interop_write.c.
"""
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, file=sys.stderr)


def attr_type(obj, name):
    return h5py.h5a.open(obj.id, name.encode()).get_type()


def attr_is_scalar(obj, name):
    space = h5py.h5a.open(obj.id, name.encode()).get_space()
    return space.get_simple_extent_type() == h5py.h5s.SCALAR


def check_int64_attr(obj, name, value):
    where = f"{obj.name}@{name}"
    check(name in obj.attrs, f"{where} missing")
    if name not in obj.attrs:
        return
    t = attr_type(obj, name)
    check(isinstance(t, h5py.h5t.TypeIntegerID) and t.get_size() == 8
          and t.get_sign() == h5py.h5t.SGN_2 and t.get_order() == h5py.h5t.ORDER_LE,
          f"{where} is not int64 LE")
    check(attr_is_scalar(obj, name), f"{where} is not scalar")
    check(int(obj.attrs[name]) == value, f"{where} = {obj.attrs[name]}, expected {value}")


def check_bool_enum(t, where):
    ok = isinstance(t, h5py.h5t.TypeEnumID) and t.get_nmembers() == 2
    if ok:
        members = {t.get_member_name(i): t.get_member_value(i) for i in range(2)}
        base = t.get_super()
        ok = (members == {b"FALSE": 0, b"TRUE": 1} and base.get_size() == 1
              and base.get_sign() == h5py.h5t.SGN_2)
    check(ok, f"{where} is not h5py's bool enum (int8 FALSE=0 TRUE=1)")


def check_true_attr(obj, name):
    where = f"{obj.name}@{name}"
    check(name in obj.attrs, f"{where} missing")
    if name not in obj.attrs:
        return
    check_bool_enum(attr_type(obj, name), where)
    check(attr_is_scalar(obj, name), f"{where} is not scalar")
    check(obj.attrs[name] is np.True_ or obj.attrs[name] == True, f"{where} is not TRUE")


def check_dataset_group(f, name, capacity, size, fields):
    check(name in f and isinstance(f[name], h5py.Group), f"{name} is not a group")
    g = f[name]
    check_int64_attr(g, "_sb_size", size)
    check_int64_attr(g, "_sb_capacity", capacity)
    check_true_attr(g, "_sb_is_dataset")
    extra = set(g.attrs) - {"_sb_size", "_sb_capacity", "_sb_is_dataset"}
    # The one documented extension: the field list, for never-written datasets.
    check(extra <= {"_sb_fields"}, f"{name}: unexpected attributes {sorted(extra)}")
    if "_sb_fields" in g.attrs:
        listed = [x.decode() if isinstance(x, bytes) else str(x) for x in g.attrs["_sb_fields"]]
        check(listed == fields, f"{name}@_sb_fields = {listed}, expected {fields}")
    return g


def check_field(g, name, priority, capacity, dtype, row_shape, values):
    where = f"{g.name}/{name}"
    check(name in g and isinstance(g[name], h5py.Dataset), f"{where} missing")
    if name not in g:
        return
    d = g[name]
    check(d.shape == (capacity,) + tuple(row_shape),
          f"{where} shape {d.shape}, expected {(capacity,) + tuple(row_shape)}")
    check(d.dtype == np.dtype(dtype), f"{where} dtype {d.dtype}, expected {dtype}")
    if np.dtype(dtype) == np.bool_:
        check_bool_enum(d.id.get_type(), where)
    elif np.dtype(dtype).kind in "iuf":
        check(d.id.get_type().get_order() == h5py.h5t.ORDER_LE, f"{where} is not LE")
    check(d.id.get_create_plist().get_layout() == h5py.h5d.CONTIGUOUS,
          f"{where} is not contiguous")
    check(d.chunks is None and d.compression is None, f"{where} chunked/compressed")
    check(set(d.attrs) == {"_sb_priority"}, f"{where} attributes {sorted(d.attrs)}")
    check_int64_attr(d, "_sb_priority", priority)
    got = d[: len(values)]
    want = np.asarray(values, dtype=dtype).reshape((len(values),) + tuple(row_shape))
    check(got.dtype == want.dtype and np.array_equal(got, want), f"{where} values differ")


def check_asset(g, name, dtype, shape, values):
    where = f"{g.name}/{name}"
    check(name in g and isinstance(g[name], h5py.Dataset), f"{where} missing")
    if name not in g:
        return None
    d = g[name]
    check(set(d.attrs) == {"_sb_is_asset"}, f"{where} attributes {sorted(d.attrs)}")
    check_true_attr(d, "_sb_is_asset")
    check(d.dtype == np.dtype(dtype), f"{where} dtype {d.dtype}, expected {dtype}")
    check(d.shape == tuple(shape), f"{where} shape {d.shape}, expected {tuple(shape)}")
    got = d[()]
    if values is not None:
        want = np.asarray(values, dtype=dtype).reshape(shape)
        check(np.array_equal(got, want), f"{where} values differ")
    return got


def check_traces(f):
    fields = ["samples", "plaintext", "key", "valid", "temp"]
    g = check_dataset_group(f, "aes/traces", 20, 13, fields)
    rows = range(13)
    check_field(g, "samples", 0, 20, "int16", (50,),
                [[(37 * r + 11 * j) % 2000 - 1000 for j in range(50)] for r in rows])
    check_field(g, "plaintext", 1, 20, "uint8", (16,),
                [[(16 * r + j) % 256 for j in range(16)] for r in rows])
    check_field(g, "key", 2, 20, "uint8", (), [7 * r % 256 for r in rows])
    check_field(g, "valid", 3, 20, np.bool_, (), [r % 3 == 0 for r in rows])
    check_field(g, "temp", 4, 20, "float64", (2, 3),
                [[[r + 0.5 * a + 0.25 * b for b in range(3)] for a in range(2)] for r in rows])
    check_asset(g, "raw", "uint8", (256,), list(range(256)))
    check_asset(g, "window", "int32", (2, 5), [i * i - 7 for i in range(10)])
    check_asset(g, "coeffs", "float32", (4,), [0.5, -0.25, 3.0, 0.001])
    text = check_asset(g, "config", "uint8", (len(g["config"]),) if "config" in g else (0,), None)
    if text is not None:
        doc = json.loads(text.tobytes().decode("utf-8"))
        check(doc == {"scope": "picoscope 6404", "samples": 50, "gain": 1.25,
                      "channels": ["A", "B"], "unit": "\u00b5s", "enabled": True, "none": None},
              f"config JSON is {doc}")
    check(set(g.keys()) == set(fields) | {"raw", "window", "coeffs", "config"},
          f"aes/traces children {sorted(g.keys())}")


def check_dtypes(f):
    names = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
             "uint64", "float32", "float64"]
    g = check_dataset_group(f, "all/dtypes", 6, 4, names)
    for prio, name in enumerate(names):
        dt = np.dtype(np.bool_) if name == "bool" else np.dtype(name)
        if name == "bool":
            values = [r % 2 == 1 for r in range(4)]
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            values = [int(info.min), int(info.max), 0, 42]
        elif name == "float32":
            values = [1.5 * r - 2.0 for r in range(4)]
        else:
            values = [r / 3.0 for r in range(4)]
        check_field(g, name, prio, 6, dt, (), values)
    check(set(g.keys()) == set(names), f"all/dtypes children {sorted(g.keys())}")


def check_new_dtypes(f):
    """float16, complex64/128 and S8, as h5py reads its own."""
    names = ["half", "c64", "c128", "s8"]
    g = check_dataset_group(f, "all/more", 5, 4, names)
    halves = [1.0, -2.5, 0.5, 65504.0]
    check_field(g, "half", 0, 5, "float16", (), halves)
    check_field(g, "c64", 1, 5, "complex64", (), [complex(r, -r / 2) for r in range(4)])
    check_field(g, "c128", 2, 5, "complex128", (), [complex(r / 3, 1e300) for r in range(4)])
    raw = [b"abcdefgh", b"a\0b\0\0\0\0\0", b"\0" * 8, b"\xff\x01zzzzzz"]
    d = g["s8"]
    check(d.dtype == np.dtype("S8"), f"s8 dtype {d.dtype}")
    check(d[:4].tobytes() == b"".join(raw), f"s8 bytes {d[:4].tobytes()!r}")
    t = d.id.get_type()
    check(t.get_strpad() == h5py.h5t.STR_NULLPAD and t.get_cset() == h5py.h5t.CSET_ASCII,
          "s8 is not h5py's null-padded ASCII string")
    check_asset(g, "half_asset", "float16", (4,), halves)
    check(g["bytes_asset"].dtype == np.dtype("S8") and
          g["bytes_asset"][()].tobytes() == b"".join(raw), "bytes_asset differs")
    check_asset(g, "complex_asset", "complex128", (2,), [1 + 2j, 3 + 4j])


def check_cut_export(path):
    """The store of a killed export, as h5py sees it: the copy was never
    committed, so the file is the empty store it was right after its creation
    (h5py opens it; no group, no half copy)."""
    with h5py.File(path, "r") as f:
        check(sorted(f.keys()) == [], f"cut export: top level {sorted(f.keys())}")


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="sb-c-layout-") as tmp:
        path = os.path.join(tmp, "c-written.h5")
        subprocess.run([argv[1], path], check=True)
        with h5py.File(path, "r") as f:
            check(len(f.attrs) == 0, f"root attributes {list(f.attrs)}")
            groups, datasets = [], []
            f.visititems(lambda n, o: (groups if isinstance(o, h5py.Group) else datasets).append(n))
            check(sorted(groups) == ["aes", "aes/traces", "all", "all/dtypes", "all/more", "deep",
                                     "deep/er", "deep/er/nest", "never"], f"groups {sorted(groups)}")
            for inter in ["aes", "all", "deep", "deep/er"]:
                check(len(f[inter].attrs) == 0, f"{inter} (not a dataset) has attributes")
            check_traces(f)
            check_dtypes(f)
            check_new_dtypes(f)
            g = check_dataset_group(f, "deep/er/nest", 3, 3, ["x"])
            check_field(g, "x", 0, 3, "uint16", (2, 2),
                        [[4 * r + k for k in range(4)] for r in range(3)])
            g = check_dataset_group(f, "never", 7, 0, ["a", "b", "c"])
            # Python would create a field on its first row only.
            check(len(g.keys()) == 0, f"never has children {list(g.keys())}")
        check_cut_export(path + ".cut.h5")
    if FAILURES:
        print(f"{len(FAILURES)} layout check(s) failed", file=sys.stderr)
        return 1
    print("C-written store has Python secbench's layout")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
