#!/usr/bin/python3
"""Write the bad-input corpus: broken secbench stores, one defect per file,
and manifest.json saying what the C library must answer for each of them.

usage: make_corpus.py OUTDIR

The manifest lists, per file, the accepted outcome codes ("OK" or an
SB_ERR_* name) of opening it read-only, of listing its datasets and of
loading each dataset named in it, with words the error message must contain.
Where the design leaves two answers open (a mistyped _sb_is_dataset may make
a group "not a dataset" or a "malformed dataset") both are accepted; every
other outcome fails the test. Datasets that load must also read back exactly
(a FNV-1a hash of each field's rows [0, size)), so the odd names and the
well-formed neighbours of broken datasets are checked for content too.
"""
import json
import os
import sys

import h5py
import numpy as np

FORMAT = "SB_ERR_FORMAT"
NOT_FOUND = "SB_ERR_NOT_FOUND"
TYPE = "SB_ERR_TYPE"
IO = "SB_ERR_IO"
OK = "OK"

DTYPE_NAMES = {np.dtype("int8"): "int8", np.dtype("uint8"): "uint8",
               np.dtype("int16"): "int16", np.dtype("uint16"): "uint16",
               np.dtype("int32"): "int32", np.dtype("uint32"): "uint32",
               np.dtype("int64"): "int64", np.dtype("uint64"): "uint64",
               np.dtype("float32"): "float32", np.dtype("float64"): "float64",
               np.dtype("bool"): "bool", np.dtype("float16"): "float16",
               np.dtype("complex64"): "complex64", np.dtype("complex128"): "complex128"}

DEFAULT_FIELDS = (("data", "int8", (5,)), ("key", "uint8", (16,)), ("count", "int32", ()))


def fnv1a(raw):
    h = 0xcbf29ce484222325
    for b in raw:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def rows(dtype, capacity, shape, salt):
    """Deterministic rows, different for every field (salt)."""
    n = capacity * int(np.prod(shape, dtype=np.int64))
    base = (np.arange(n, dtype=np.int64) * 7 + salt * 131) % 251
    if np.dtype(dtype) == np.dtype("bool"):
        return (base % 2 == 1).reshape((capacity,) + tuple(shape))
    return (base - 100).astype(dtype).reshape((capacity,) + tuple(shape))


class Corpus:
    def __init__(self, outdir):
        self.outdir = outdir
        self.entries = []

    def path(self, name):
        return os.path.join(self.outdir, name)

    def add(self, name, what, open_codes, **kw):
        entry = {"file": name, "what": what, "open": open_codes}
        if open_codes != [OK]:
            entry["open_message"] = kw.pop("open_message", [])
        entry.update(kw)
        self.entries.append(entry)

    def write_manifest(self):
        with open(self.path("manifest.json"), "w") as f:
            json.dump({"version": 1, "files": self.entries}, f, indent=1, ensure_ascii=False)


def make_dataset(f, name, capacity=10, size=4, fields=DEFAULT_FIELDS, json_asset=True,
                 priorities=True):
    """A dataset laid out as Python secbench writes it. Returns its manifest
    expectation (fields in priority order with the hash of rows [0, size))."""
    g = f.create_group(name)
    g.attrs["_sb_size"] = np.int64(size)
    g.attrs["_sb_capacity"] = np.int64(capacity)
    g.attrs["_sb_is_dataset"] = np.bool_(True)
    expect_fields = []
    for i, (fname, dtype, shape) in enumerate(fields):
        data = rows(dtype, capacity, shape, i + 1)
        d = g.create_dataset(fname, data=data)
        if priorities:
            d.attrs["_sb_priority"] = np.int64(i)
        expect_fields.append({"name": fname, "dtype": dtype, "row_shape": list(shape),
                              "hash": fnv1a(data[:size].astype(data.dtype.newbyteorder("<")).tobytes())})
    assets = {}
    if json_asset:
        text = json.dumps({"scope": "x", "rate": 1e9, "name": name}).encode()
        a = g.create_dataset("meta", data=np.frombuffer(text, dtype=np.uint8))
        a.attrs["_sb_is_asset"] = np.bool_(True)
        assets["meta"] = {"bytes": [OK], "json": [OK], "length": len(text)}
    return {"load": [OK], "size": size, "capacity": capacity, "fields": expect_fields,
            "assets": assets}


def bad(codes, *words):
    return {"load": codes, "message": list(words)}


def valid_store(c, name="valid.h5"):
    with h5py.File(c.path(name), "w") as f:
        dsets = {"traces": make_dataset(f, "traces"),
                 "aes/traces": make_dataset(f, "aes/traces", capacity=6, size=6,
                                            fields=(("samples", "int16", (3, 4)),
                                                    ("flag", "bool", ()),
                                                    ("x", "float64", (2,)),
                                                    ("y", "float32", ()),
                                                    ("u", "uint64", ()))),
                 "empty": make_dataset(f, "empty", size=0, fields=(), json_asset=False)}
    c.add(name, "well-formed control store (Python layout)", [OK], list=[OK],
          listed=sorted(dsets), datasets=dsets)


def raw_files(c):
    with open(c.path("not_hdf5.h5"), "wb") as f:
        f.write(b"this is not an HDF5 file, only text\n" * 20)
    c.add("not_hdf5.h5", "a text file", [FORMAT], open_message=["not_hdf5.h5"])
    open(c.path("empty.h5"), "wb").close()
    c.add("empty.h5", "an empty file", [FORMAT], open_message=["empty.h5"])
    rnd = np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    with open(c.path("signature_then_garbage.h5"), "wb") as f:
        f.write(b"\x89HDF\r\n\x1a\n" + rnd)
    c.add("signature_then_garbage.h5", "HDF5 signature followed by random bytes",
          [FORMAT, IO], open_message=["signature_then_garbage.h5"])

    valid_store(c, "to_truncate.h5")
    c.entries.pop()  # only the source of the truncated copies
    with open(c.path("to_truncate.h5"), "rb") as f:
        full = f.read()
    os.remove(c.path("to_truncate.h5"))
    for cut in sorted({8, 100, 512, 2048, len(full) // 2, len(full) - 100, len(full) - 1}):
        name = "truncated_%d_of_%d.h5" % (cut, len(full))
        with open(c.path(name), "wb") as f:
            f.write(full[:cut])
        # HDF5 compares the end-of-file with the end-of-allocation it stored:
        # every cut is refused at open.
        c.add(name, "a valid store cut to %d of %d bytes" % (cut, len(full)),
              [FORMAT, IO], open_message=[name])


def plain_hdf5(c):
    name = "plain_hdf5.h5"
    with h5py.File(c.path(name), "w") as f:
        f.create_group("group").attrs["note"] = "no secbench here"
        f.create_dataset("array", data=np.arange(10))
        f.create_group("a/b/c")
        f["dangling"] = h5py.SoftLink("/nowhere")
        f["external"] = h5py.ExternalLink("missing_file.h5", "/x")
    c.add(name, "HDF5 without secbench datasets, with dangling soft and external links",
          [OK], list=[OK], listed=[],
          datasets={"group": bad([NOT_FOUND], "group"), "array": bad([NOT_FOUND], "array"),
                    "a/b": bad([NOT_FOUND], "a/b"), "missing": bad([NOT_FOUND], "missing"),
                    "dangling": bad([NOT_FOUND], "dangling"),
                    "external": bad([NOT_FOUND, IO], "external")})


def with_defect(c, name, what, mutate, expect, good_neighbour=True, listed=None):
    """A store with a dataset "bad" broken by `mutate` and a sound neighbour
    "good" that must still list and load."""
    with h5py.File(c.path(name), "w") as f:
        dsets = {}
        if good_neighbour:
            dsets["good"] = make_dataset(f, "good")
        sound = make_dataset(f, "bad")
        mutate(f["bad"])
    if expect.get("fields", "") is None:
        # Only an asset is broken: the fields still read back exactly.
        sound.update({k: v for k, v in expect.items() if k != "fields"})
        expect = sound
    dsets["bad"] = expect
    entry = {"list": [OK], "datasets": dsets}
    if listed is not None:
        entry["listed"] = listed
    elif expect["load"] == [OK]:
        entry["listed"] = sorted(dsets)
    else:
        # A malformed dataset may be listed (its group says it is one) or
        # skipped; its sound neighbour must be listed either way.
        entry["listed_must_include"] = ["good"] if good_neighbour else []
    c.add(name, what, [OK], **entry)


def set_attr(attr, value):
    def mutate(g):
        if attr in g.attrs:
            del g.attrs[attr]
        if value is not None:
            g.attrs[attr] = value
    return mutate


WRONG_TYPES = {"string": "12", "float": np.float64(4.0), "array": np.array([4, 4, 4], dtype=np.int64),
               "shape2d": np.array([[4]], dtype=np.int64)}
# What Python secbench makes of them: a number (a float holding an integer,
# or a one-element array) is that number; a string or several values are no
# number. As a flag, anything has Python's truth value (a non-empty string
# is true) but several values, which have none.
NUMBER_KINDS = ("float", "shape2d")
FLAG_KINDS = ("string", "float", "shape2d")


def sound_with(**kw):
    """The sound dataset's expectation (rows, assets), with changes."""
    e = {"load": [OK], "fields": None}
    e.update(kw)
    return e


def group_attrs(c):
    for attr in ("_sb_size", "_sb_capacity"):
        c_ = attr[4:]
        with_defect(c, "attr%s_missing.h5" % attr, attr + " missing", set_attr(attr, None),
                    bad([FORMAT], "bad", attr))
        for kind, value in WRONG_TYPES.items():
            # A size of 4.0 is the size 4; a capacity of 4.0 is 4, which the
            # fields' 10 rows contradict.
            ok = attr == "_sb_size" and kind in NUMBER_KINDS
            with_defect(c, "attr%s_%s.h5" % (attr, kind), "%s is a %s" % (attr, kind),
                        set_attr(attr, value), sound_with() if ok else bad([FORMAT], "bad", attr))
        del c_
    absurd = [
        ("size_above_capacity", "_sb_size", np.int64(11), bad([FORMAT], "bad", "_sb_size")),
        ("size_negative", "_sb_size", np.int64(-1), bad([FORMAT], "bad", "_sb_size")),
        ("size_uint64_huge", "_sb_size", np.uint64(2**63 + 5), bad([FORMAT], "bad", "_sb_size")),
        ("capacity_negative", "_sb_capacity", np.int64(-5), bad([FORMAT], "bad", "_sb_capacity")),
        ("capacity_zero", "_sb_capacity", np.int64(0), bad([FORMAT], "bad")),
        # Fields keep their 10 rows: the capacity no longer matches them.
        ("capacity_2p62", "_sb_capacity", np.int64(2**62), bad([FORMAT], "bad")),
    ]
    for tag, attr, value, expect in absurd:
        with_defect(c, "absurd_%s.h5" % tag, "%s = %s" % (attr, value), set_attr(attr, value), expect)

    # 2^62 capacity and no field yet: nothing contradicts it, and loading must
    # not allocate anything proportional to the capacity.
    name = "absurd_capacity_2p62_no_fields.h5"
    with h5py.File(c.path(name), "w") as f:
        g = f.create_group("huge")
        g.attrs["_sb_size"] = np.int64(0)
        g.attrs["_sb_capacity"] = np.int64(2**62)
        g.attrs["_sb_is_dataset"] = np.bool_(True)
    c.add(name, "capacity 2^62 with no field", [OK], list=[OK], listed=["huge"],
          datasets={"huge": {"load": [OK, FORMAT], "message": ["huge"], "size": 0,
                             "capacity": 2**62, "fields": [], "assets": {}}})

    # Python writes numpy int32 attributes in the wild: they must load.
    def int32_attrs(g):
        g.attrs["_sb_size"] = np.int32(4)
        g.attrs["_sb_capacity"] = np.int32(10)
    with h5py.File(c.path("int32_attrs.h5"), "w") as f:
        e = make_dataset(f, "ds")
        int32_attrs(f["ds"])
    c.add("int32_attrs.h5", "int32 _sb_size and _sb_capacity (accepted)", [OK], list=[OK],
          listed=["ds"], datasets={"ds": e})

    # _sb_is_dataset: absent or FALSE means "not a dataset"; a mistyped one
    # may be read as either "not a dataset" or "malformed dataset".
    with_defect(c, "attr_sb_is_dataset_missing.h5", "_sb_is_dataset missing",
                set_attr("_sb_is_dataset", None), bad([NOT_FOUND], "bad"), listed=["good"])
    with_defect(c, "attr_sb_is_dataset_false.h5", "_sb_is_dataset = FALSE",
                set_attr("_sb_is_dataset", np.bool_(False)), bad([NOT_FOUND], "bad"),
                listed=["good"])
    for kind, value in WRONG_TYPES.items():
        ok = kind in FLAG_KINDS
        with_defect(c, "attr_sb_is_dataset_%s.h5" % kind, "_sb_is_dataset is a %s" % kind,
                    set_attr("_sb_is_dataset", value),
                    sound_with() if ok else bad([FORMAT], "bad", "_sb_is_dataset"),
                    listed=["bad", "good"])


def field_defects(c):
    def on_field(field, fn):
        def mutate(g):
            fn(g, field)
        return mutate

    def prio(value):
        def fn(g, field):
            del g[field].attrs["_sb_priority"]
            if value is not None:
                g[field].attrs["_sb_priority"] = value
        return fn

    for kind, value in WRONG_TYPES.items():
        # A priority of 4.0 sorts key after count (2).
        expect = bad([FORMAT], "bad", "key")
        if kind in NUMBER_KINDS:
            with h5py.File(c.path("scratch.h5"), "w") as f:
                expect = make_dataset(f, "bad")
            os.remove(c.path("scratch.h5"))
            by_name = {x["name"]: x for x in expect["fields"]}
            expect["fields"] = [by_name["data"], by_name["count"], by_name["key"]]
        with_defect(c, "attr_sb_priority_%s.h5" % kind, "_sb_priority of field key is a " + kind,
                    on_field("key", prio(value)), expect)

    # No _sb_priority at all is what old Python files have: accepted, any order.
    with h5py.File(c.path("attr_sb_priority_missing.h5"), "w") as f:
        e = make_dataset(f, "ds", priorities=False)
    e["fields_any_order"] = True
    c.add("attr_sb_priority_missing.h5", "fields without _sb_priority (accepted)", [OK],
          list=[OK], listed=["ds"], datasets={"ds": e})

    # Absurd but integer priorities only order the fields.
    with h5py.File(c.path("attr_sb_priority_absurd.h5"), "w") as f:
        e = make_dataset(f, "ds")
        f["ds/data"].attrs["_sb_priority"] = np.int64(2**62)
        f["ds/key"].attrs["_sb_priority"] = np.int64(-7)
        f["ds/count"].attrs["_sb_priority"] = np.int32(3)
    by_name = {x["name"]: x for x in e["fields"]}
    e["fields"] = [by_name["key"], by_name["count"], by_name["data"]]
    c.add("attr_sb_priority_absurd.h5", "priorities -7, 3 (int32) and 2^62 (accepted, sorted)",
          [OK], list=[OK], listed=["ds"], datasets={"ds": e})

    def replace_field(builder):
        def fn(g, field):
            del g[field]
            builder(g, field)
        return fn

    def first_dim(g, field):
        d = g.create_dataset(field, data=rows("uint8", 12, (16,), 2))
        d.attrs["_sb_priority"] = np.int64(1)
    with_defect(c, "field_first_dim_differs.h5", "field key has 12 rows, capacity 10",
                on_field("key", replace_field(first_dim)), bad([FORMAT], "bad", "key"))

    def scalar(g, field):
        d = g.create_dataset(field, data=np.int32(3))
        d.attrs["_sb_priority"] = np.int64(2)
    with_defect(c, "field_scalar.h5", "field count is a scalar HDF5 dataset",
                on_field("count", replace_field(scalar)), bad([FORMAT], "bad", "count"))

    def group_with_prio(g, field):
        g.create_group(field).attrs["_sb_priority"] = np.int64(1)
    # DESIGN: sub-groups inside a dataset are ignored, even one that carries
    # _sb_priority; refusing it as a malformed field is as good.
    with_defect(c, "field_is_group_with_priority.h5",
                "field key is a group carrying _sb_priority",
                on_field("key", replace_field(group_with_prio)), bad([FORMAT, OK], "bad", "key"))

    # A plain sub-group inside a dataset is ignored (DESIGN: readers accept it).
    with h5py.File(c.path("field_subgroup_ignored.h5"), "w") as f:
        e = make_dataset(f, "ds")
        f["ds"].create_group("notes").attrs["who"] = "someone"
    c.add("field_subgroup_ignored.h5", "a plain sub-group inside a dataset (ignored)", [OK],
          list=[OK], listed=["ds"], datasets={"ds": e})

    # numpy dtypes h5py writes that the library reads (issue: every Python
    # store opens): the field reads back exactly.
    supported = {
        "string_fixed": (np.array([b"ab\0d", b"abcd", b"x", b""] * 2 + [b"zz", b"q"], dtype="S4"),
                         "S4"),
        "float16": (((np.arange(30) - 7) / 4).astype("<f2").reshape(10, 3), "float16"),
        "complex64": ((np.arange(10) + 1j * np.arange(10, 0, -1)).astype("<c8"), "complex64"),
        "complex128": ((np.arange(10) * 0.1 - 1j / 3).astype("<c16"), "complex128"),
    }
    for tag, (data, dtype_name) in supported.items():
        def fn(g, field, data=data):
            del g[field]
            g.create_dataset(field, data=data).attrs["_sb_priority"] = np.int64(1)
        with h5py.File(c.path("scratch.h5"), "w") as f:
            expect = make_dataset(f, "bad")
        os.remove(c.path("scratch.h5"))
        expect["fields"][1] = {"name": "key", "dtype": dtype_name, "row_shape": list(data.shape[1:]),
                               "hash": fnv1a(data[:expect["size"]].tobytes())}
        with_defect(c, "dtype_%s.h5" % tag, "field key of dtype " + tag, on_field("key", fn),
                    expect)

    # Types with no dtype in the library: the dataset loads (its other
    # fields read back), reading that field fails naming it.
    unsupported = {
        "string_vlen": lambda g, n: g.create_dataset(n, data=np.array(["x" * i for i in range(10)],
                                                                       dtype=h5py.string_dtype())),
        "compound": lambda g, n: g.create_dataset(
            n, data=np.zeros(10, dtype=[("a", "<i4"), ("b", "<f8")])),
        "opaque": lambda g, n: g.create_dataset(n, data=np.zeros(10, dtype="V4")),
    }
    for tag, build in unsupported.items():
        def fn(g, field, build=build):
            del g[field]
            build(g, field).attrs["_sb_priority"] = np.int64(1)
        expect = bad([OK], "bad", "key")
        expect["field_reads"] = {"key": [TYPE]}
        with_defect(c, "dtype_%s.h5" % tag, "field key of unsupported dtype " + tag,
                    on_field("key", fn), expect)


def asset_defects(c):
    def bad_asset(value, attr=np.bool_(True)):
        def mutate(g):
            del g["meta"]
            d = g.create_dataset("meta", data=value)
            if attr is not None:
                d.attrs["_sb_is_asset"] = attr
        return mutate

    def u8(b):
        return np.frombuffer(b, dtype=np.uint8) if b else np.zeros(0, dtype=np.uint8)

    cases = {
        "not_json": b"{not json",
        "truncated": b'{"a": [1, 2',
        "binary": bytes(range(256)),
        "empty": b"",
        "trailing_garbage": b'{"a": 1} xyz',
    }
    for tag, payload in cases.items():
        expect = {"load": [OK], "size": 4, "capacity": 10, "fields": None,
                  "assets": {"meta": {"bytes": [OK], "json": [FORMAT], "length": len(payload),
                                      "message": ["meta"]}}}
        with_defect(c, "json_asset_%s.h5" % tag, "JSON asset meta: %r" % payload[:20],
                    bad_asset(u8(payload)), expect)

    expect = {"load": [OK], "size": 4, "capacity": 10, "fields": None,
              "assets": {"meta": {"bytes": [FORMAT, TYPE], "json": [FORMAT, TYPE],
                                  "array": [FORMAT, TYPE], "message": ["meta"]}}}
    with_defect(c, "asset_string_dtype.h5", "asset meta holds variable-length strings",
                bad_asset(np.array(["a", "bc"], dtype=h5py.string_dtype())), expect)

    # A child without _sb_is_asset is a field: 70 rows against a capacity of 10.
    text = u8(b'{"scope": "x", "rate": 1000000000.0, "name": "bad", "pad": "0123456789"}')
    with_defect(c, "attr_sb_is_asset_missing.h5", "asset meta lost _sb_is_asset",
                bad_asset(text, None), bad([FORMAT], "bad", "meta"))
    with_defect(c, "attr_sb_is_asset_false.h5", "asset meta has _sb_is_asset = FALSE",
                bad_asset(text, np.bool_(False)), bad([FORMAT], "bad", "meta"))
    for kind, value in WRONG_TYPES.items():
        meta = {"meta": {"bytes": [OK], "json": [OK], "length": len(text)}}
        with_defect(c, "attr_sb_is_asset_%s.h5" % kind, "_sb_is_asset of meta is a " + kind,
                    bad_asset(text, value),
                    sound_with(assets=meta) if kind in FLAG_KINDS else bad([FORMAT], "bad", "meta"))


def odd_names(c):
    names = ["with space", "tab\there", "ünïcødé/データ", "dots.in.name", "..leading", "x" * 1000,
             "deep/er/still/ds", "semi;colon,comma", "quote\"s'"]
    with h5py.File(c.path("odd_names.h5"), "w") as f:
        dsets = {n: make_dataset(f, n, size=3) for n in names}
        # An intermediate group that is not a dataset holds one.
        dsets["aes/traces"] = make_dataset(f, "aes/traces", size=2)
    c.add("odd_names.h5", "datasets with spaces, unicode, 1000-char, dotted names", [OK],
          list=[OK], listed=sorted(dsets), datasets=dsets)

    name = "odd_field_names.h5"
    with h5py.File(c.path(name), "w") as f:
        e = make_dataset(f, "ds", fields=(("with space", "int8", (2,)), ("ünï", "uint16", ()),
                                          ("f" * 500, "float32", (1,)), ("a.b", "int64", ())))
    c.add(name, "fields with odd names", [OK], list=[OK], listed=["ds"], datasets={"ds": e})


def damaged_names(c):
    """docs/reliability.md finding 10: a symbol-table entry whose name never
    reached the group's local heap. "acq1" becomes "\x01cq1" in the heap, which
    sends HDF5's name lookup for "acq0" astray (h5py no longer finds it), while
    acq0's rows are intact. The library finds it by walking the group; check
    must report it and say how to get it out. acq1 is now called "\x01cq1",
    which HDF5 does find."""
    name = "damaged_names.h5"
    with h5py.File(c.path(name), "w") as f:
        dsets = {"acq0": make_dataset(f, "acq0"), "\x01cq1": make_dataset(f, "acq1")}
    with open(c.path(name), "rb") as f:
        raw = f.read()
    assert raw.count(b"acq1\0") == 1, "the name acq1 is not stored once"
    with open(c.path(name), "wb") as f:
        f.write(raw.replace(b"acq1\0", b"\x01cq1\0"))
    with h5py.File(c.path(name), "r") as f:
        assert "acq0" not in f, "h5py still finds acq0: the damage is not the one meant"
    c.add(name, "a damaged name in the root group hides an intact dataset from name lookups",
          [OK], list=[OK], listed=sorted(dsets), datasets=dsets, check="fail",
          check_message=["acq0", "damaged", "export"])


def group_cycle(c):
    """Hard links back up the tree (legal HDF5): a listing that recursed into
    every group would never end (a fuzzed file overflowed the stack so)."""
    name = "group_cycle.h5"
    with h5py.File(c.path(name), "w") as f:
        dsets = {"traces": make_dataset(f, "traces"), "g/inner": make_dataset(f, "g/inner")}
        f["g/up"] = f["/"]
        f["g/self"] = f["g"]
    c.add(name, "groups with hard links to themselves and to the root", [OK], list=[OK],
          listed=sorted(dsets), datasets=dsets)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_corpus.py OUTDIR")
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    c = Corpus(outdir)
    valid_store(c)
    raw_files(c)
    plain_hdf5(c)
    group_attrs(c)
    field_defects(c)
    asset_defects(c)
    odd_names(c)
    damaged_names(c)
    group_cycle(c)
    c.write_manifest()
    print("%d corpus files in %s" % (len(c.entries), outdir))


if __name__ == "__main__":
    main()
