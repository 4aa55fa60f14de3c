#!/usr/bin/python3
"""Dump every value of a secbench store, as h5py reads it, to JSON.

The C reference suite (tests/unit/test_reference.c) checks the library's view
of tests/data/secbench-reference.h5 against this dump, so its expectations
come from h5py and not from numbers typed by hand:

    dump_reference.py STORE.h5 OUT.json       write the dump
    dump_reference.py STORE.h5 --check EXP    fail if the dump differs from EXP

tests/data/reference-expected.json was made with the first form; the ctest
`reference_expected_up_to_date` runs the second so that the committed file can
never drift from what h5py reads.

Rules (those of Python secbench 3.7): a dataset is a group whose
`_sb_is_dataset` attribute is true; its fields are the child HDF5 datasets
without `_sb_is_asset`, sorted by `_sb_priority`; its assets are the children
with `_sb_is_asset` true, sorted by name. Only rows [0, _sb_size) of a field
are dumped. Values are flattened in C order; a uint8 1-D asset that decodes as
UTF-8 JSON also gets its parsed document under "json".
"""
import json
import sys

import h5py
import numpy as np

DTYPES = {
    np.dtype(np.bool_): "bool", np.dtype("int8"): "int8", np.dtype("uint8"): "uint8",
    np.dtype("int16"): "int16", np.dtype("uint16"): "uint16",
    np.dtype("int32"): "int32", np.dtype("uint32"): "uint32",
    np.dtype("int64"): "int64", np.dtype("uint64"): "uint64",
    np.dtype("float32"): "float32", np.dtype("float64"): "float64",
}


def values(array):
    flat = np.ascontiguousarray(array).reshape(-1)
    if flat.dtype == np.bool_:
        return [bool(v) for v in flat]
    if flat.dtype.kind == "f":
        # repr of the double holding a float32 is exact, so C gets the same bits.
        return [float(v) for v in flat]
    return [int(v) for v in flat]


def describe_asset(node):
    arr = node[()]
    out = {"dtype": DTYPES[arr.dtype], "shape": list(arr.shape), "values": values(arr)}
    if arr.dtype == np.uint8 and arr.ndim == 1:
        try:
            out["json"] = json.loads(arr.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            pass
    return out


def describe_dataset(group):
    size = int(group.attrs["_sb_size"])
    fields = []
    assets = {}
    for name, node in group.items():
        if not isinstance(node, h5py.Dataset):
            continue
        if bool(node.attrs.get("_sb_is_asset", False)):
            assets[name] = describe_asset(node)
            continue
        prio = int(node.attrs.get("_sb_priority", 0))
        fields.append((prio, name, node))
    fields.sort(key=lambda t: (t[0], t[1]))
    return {
        "capacity": int(group.attrs["_sb_capacity"]),
        "size": size,
        "fields": [{"name": name, "dtype": DTYPES[node.dtype],
                    "row_shape": list(node.shape[1:]),
                    "values": values(node[:size])} for _, name, node in fields],
        "assets": assets,
    }


def dump(path):
    datasets = {}
    other_groups = []
    with h5py.File(path, "r") as f:
        root_attrs = sorted(f.attrs.keys())

        def visit(name, node):
            if not isinstance(node, h5py.Group):
                return
            if bool(node.attrs.get("_sb_is_dataset", False)):
                datasets[name] = describe_dataset(node)
            elif not any(name.startswith(d + "/") for d in datasets):
                other_groups.append(name)
        f.visititems(visit)
    return {"root_attributes": root_attrs, "datasets": datasets,
            "groups_not_datasets": sorted(other_groups)}


def main(argv):
    if len(argv) == 3:
        with open(argv[2], "w", encoding="utf-8") as out:
            json.dump(dump(argv[1]), out, sort_keys=True, separators=(",", ":"))
            out.write("\n")
        return 0
    if len(argv) == 4 and argv[2] == "--check":
        with open(argv[3], encoding="utf-8") as f:
            expected = json.load(f)
        got = json.loads(json.dumps(dump(argv[1])))
        if got != expected:
            for name in sorted(set(got["datasets"]) | set(expected["datasets"])):
                if got["datasets"].get(name) != expected["datasets"].get(name):
                    print(f"dataset {name!r} differs from {argv[3]}", file=sys.stderr)
            print(f"{argv[1]}: h5py dump differs from {argv[3]}", file=sys.stderr)
            return 1
        print(f"{argv[1]}: h5py dump equals {argv[3]}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
