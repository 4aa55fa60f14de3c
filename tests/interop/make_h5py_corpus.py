#!/usr/bin/python3
"""The h5py corpus: stores written with plain h5py, the way users write them
without secbench, and what the real Python secbench makes of each.

    make_h5py_corpus.py OUTDIR
        write the corpus (the files listed in CASES) into OUTDIR
    make_h5py_corpus.py --record SECBENCH_STORAGE_SRC EXPECTED.json [--commit SHA]
        write it in a temporary folder, read it with the real Python secbench
        (imported from SECBENCH_STORAGE_SRC, three separate processes that
        must agree) and write EXPECTED.json (tests/data/h5py-corpus-expected.json)
    make_h5py_corpus.py --check EXPECTED.json
        write it again (no Python secbench needed) and fail unless
        1. its structure hash is the one EXPECTED.json was computed from
           (so the committed expectations cannot drift from this generator);
        2. compare_stores.RulesStore (Python's rules on plain h5py, used to
           check the C library's exports) reads every file as Python did.

EXPECTED.json, per corpus file: "dataset_names" (sorted; Python's
datasets() is a walk over a set, its order is undefined), "datasets" (each
listed name: load outcome, capacity, size and their Python types, fields()
order with dtypes and row values, assets()), "probes" (names that are not
listed, or listed by another name, and what load_dataset says of them), in
compare_stores' dump format (tests/data/python-secbench/README.md).
The structure hash covers every link (hard, soft, external), group
(link-creation-order tracking), dataset (shape, dtype, chunks, filters,
values) and attribute (name, dtype, shape, value) of every file.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import compare_stores  # noqa: E402

FORMAT = "secbench-h5py-corpus/1"


def dataset_group(parent, name, capacity=4, size=2, track_order=None, **attrs):
    g = parent.create_group(name, track_order=track_order)
    g.attrs["_sb_size"] = size
    g.attrs["_sb_is_dataset"] = True
    g.attrs["_sb_capacity"] = capacity
    for k, v in attrs.items():
        g.attrs[k] = v
    return g


def field(g, name, priority=None, dtype="int16", capacity=4, row_shape=(), seed=0, **kw):
    n = capacity * int(np.prod(row_shape, dtype=np.int64))
    data = ((np.arange(n) * 7 + seed * 13) % 100 - 50).astype(dtype).reshape((capacity,) + row_shape)
    d = g.create_dataset(name, data=data, **kw)
    if priority is not None:
        d.attrs["_sb_priority"] = priority
    return d


def asset(g, name, data, flag=True):
    d = g.create_dataset(name, data=data)
    d.attrs["_sb_is_asset"] = flag
    return d


# --- (a) field order -------------------------------------------------------

def make_order(path):
    with h5py.File(path, "w") as f:
        g = dataset_group(f, "mixed")
        # created c, a, b, d, e; iterated (name order) a, b, c, d, e
        field(g, "c", 1, seed=1)
        field(g, "a", None, seed=2)
        field(g, "b", 0, seed=3)
        field(g, "d", None, seed=4)
        field(g, "e", -1, seed=5)
        g = dataset_group(f, "ties")
        for i, name in enumerate(["z", "y", "x", "w"]):
            field(g, name, 5 if name != "w" else 6, seed=i)
        g = dataset_group(f, "tracked", track_order=True)
        for i, name in enumerate(["z", "y", "x"]):
            field(g, name, 0, seed=i)
        asset(g, "zz_asset", np.frombuffer(b"first", dtype=np.uint8))
        asset(g, "aa_asset", np.frombuffer(b"second", dtype=np.uint8))
        g = dataset_group(f, "tracked_mixed", track_order=True)
        field(g, "b", 1, seed=1)
        field(g, "c", None, seed=2)
        field(g, "a", 0, seed=3)
        g = dataset_group(f, "untracked_assets")
        field(g, "x", 0)
        asset(g, "zz_asset", np.frombuffer(b"first", dtype=np.uint8))
        asset(g, "aa_asset", np.frombuffer(b"second", dtype=np.uint8))
        g = dataset_group(f, "float_priority")
        field(g, "b", np.float64(1.0), seed=1)
        field(g, "a", np.float64(1.5), seed=2)
        field(g, "c", np.int64(1), seed=3)
        field(g, "d", np.int32(0), seed=4)


# --- (b) nesting and links -------------------------------------------------

def make_links(path, target):
    with h5py.File(target, "w") as t:
        g = dataset_group(t.create_group("elsewhere"), "ds", capacity=3, size=1)
        field(g, "v", 0, capacity=3)
    with h5py.File(path, "w") as f:
        outer = dataset_group(f, "outer")
        field(outer, "x", 0)
        inner = dataset_group(outer, "inner", capacity=2, size=1)
        field(inner, "y", 0, capacity=2)
        plain = outer.create_group("plain_subgroup")  # not a dataset: ignored
        plain.create_dataset("junk", data=np.arange(3))
        f["ext"] = h5py.ExternalLink(os.path.basename(target), "/elsewhere/ds")
        g = dataset_group(f, "real")
        field(g, "x", 0)
        f["soft"] = h5py.SoftLink("/real")  # iterated after "real"
        g = dataset_group(f, "b_real")
        field(g, "x", 0)
        f["a_alias"] = h5py.SoftLink("/b_real")  # iterated before "b_real"
        f["dangling"] = h5py.SoftLink("/nowhere")


# --- (c) attribute types ---------------------------------------------------

def make_attrs(path):
    with h5py.File(path, "w") as f:
        cases = {
            "isds_float_1": {"_sb_is_dataset": np.float64(1.0)},
            "isds_float_0": {"_sb_is_dataset": np.float64(0.0)},
            "isds_str_yes": {"_sb_is_dataset": "yes"},
            "isds_str_empty": {"_sb_is_dataset": ""},
            "isds_str_false": {"_sb_is_dataset": "false"},
            "isds_bytes_0": {"_sb_is_dataset": np.bytes_(b"0")},
            "isds_int_2": {"_sb_is_dataset": np.int64(2)},
            "isds_npbool_true": {"_sb_is_dataset": np.bool_(True)},
            "isds_npbool_false": {"_sb_is_dataset": np.bool_(False)},
            "cap_int32": {"_sb_capacity": np.int32(4)},
            "cap_float": {"_sb_capacity": np.float64(4.0)},
            "size_uint8": {"_sb_size": np.uint8(2)},
            "size_over_capacity": {"_sb_size": np.int64(5)},
        }
        for name, attrs in cases.items():
            g = dataset_group(f, name)
            for k, v in attrs.items():
                g.attrs[k] = v
            field(g, "x", 0)
        g = dataset_group(f, "no_capacity")
        del g.attrs["_sb_capacity"]
        field(g, "x", 0)
        g = dataset_group(f, "asset_flags")
        field(g, "x", 0)
        asset(g, "flag_int_1", np.arange(3, dtype=np.uint8), np.int64(1))
        asset(g, "flag_str_yes", np.arange(3, dtype=np.uint8), "yes")
        asset(g, "flag_false", np.arange(4, dtype=np.int16), False)  # then a field
        asset(g, "flag_int_0", np.arange(4, dtype=np.int16), np.int64(0))  # a field too
        sub = g.create_group("flagged_group")
        sub.attrs["_sb_is_asset"] = True


# --- (d) compressed fields -------------------------------------------------

def make_filters(path):
    with h5py.File(path, "w") as f:
        g = dataset_group(f, "compressed", capacity=6, size=5)
        field(g, "gzip_shuffle", 0, "int32", 6, (8,), seed=1, chunks=(2, 8),
              compression="gzip", compression_opts=4, shuffle=True)
        if h5py.h5z.filter_avail(h5py.h5z.FILTER_LZF):
            # h5py registers LZF as optional: a chunk it cannot shrink is
            # stored raw, readable without the filter. These chunks (768
            # bytes, period 400) do shrink, so a reader needs LZF.
            field(g, "lzf", 1, "float32", 6, (64,), seed=2, chunks=(3, 64), compression="lzf")
        field(g, "fletcher", 2, "uint16", 6, (), seed=3, chunks=(6,), fletcher32=True)
        field(g, "plain", 3, "int8", 6, (3,), seed=4)
        for name in ("gzip_shuffle", "lzf"):
            if name in g:
                d = g[name]
                for i in range(d.id.get_num_chunks()):
                    info = d.id.get_chunk_info(i)
                    assert info.filter_mask == 0 and info.size < d.chunks[0] * d.chunks[1] * 4, \
                        f"{name}: chunk {i} stored uncompressed"
        g = dataset_group(f, "growable", capacity=4, size=3)
        field(g, "x", 0, "float64", 4, (2,), chunks=(2, 2), maxshape=(None, 2))


# --- (e) variable-length strings and references ------------------------------

def make_special(path):
    with h5py.File(path, "w") as f:
        g = dataset_group(f, "mixed_kinds", capacity=3, size=3)
        field(g, "n", 0, "int32", 3)
        s = g.create_dataset("text", shape=(3,), dtype=h5py.string_dtype("utf-8"))
        s[:] = ["alpha", "\u00b5s", ""]
        s.attrs["_sb_priority"] = 1
        r = g.create_dataset("refs", shape=(3,), dtype=h5py.ref_dtype)
        r[0] = g["n"].ref
        r[1] = g.ref
        s.attrs["_sb_priority"] = 1
        r.attrs["_sb_priority"] = 2
        b = g.create_dataset("vbytes", shape=(3,), dtype=h5py.string_dtype("ascii"))
        b[:] = [b"x", b"yz", b""]
        b.attrs["_sb_priority"] = 3


# --- (f) shapes ------------------------------------------------------------

def make_shapes(path):
    with h5py.File(path, "w") as f:
        g = dataset_group(f, "short_field", capacity=4, size=2)
        field(g, "ok", 0, capacity=4)
        field(g, "short", 1, capacity=3)
        g = dataset_group(f, "long_field", capacity=4, size=2)
        field(g, "long", 0, capacity=5)
        g = dataset_group(f, "scalar_field", capacity=4, size=2)
        d = g.create_dataset("s", data=np.int32(3))
        d.attrs["_sb_priority"] = 0
        dataset_group(f, "no_field", capacity=4, size=0)


CASES = [
    ("order.h5", "(a) field order: missing _sb_priority, ties, track_order groups, float priority",
     make_order, ["not_a_name"]),
    ("links.h5", "(b) a dataset in a dataset's group, external link, soft links (both name orders), "
                 "dangling link", lambda p: make_links(p, os.path.join(os.path.dirname(p),
                                                                         "links_target.h5")),
     ["soft", "ext", "a_alias", "b_real", "dangling", "outer/plain_subgroup"]),
    ("attrs.h5", "(c) attribute types: _sb_is_dataset float/str/bytes/int/bool, int32/float "
                 "capacity, uint8 size, _sb_is_asset int/str/false, missing capacity",
     make_attrs, ["isds_float_0", "isds_str_empty", "isds_npbool_false"]),
    ("filters.h5", "(d) chunked gzip+shuffle, lzf, fletcher32 fields; a growable (maxshape) field",
     make_filters, []),
    ("special.h5", "(e) variable-length string fields and an object-reference field",
     make_special, []),
    ("shapes.h5", "(f) a field shorter/longer than the capacity, a scalar field, no field",
     make_shapes, []),
]
EXTRA_FILES = ["links_target.h5"]


def write_corpus(outdir):
    os.makedirs(outdir, exist_ok=True)
    for name, _, make, _ in CASES:
        make(os.path.join(outdir, name))


# --- structure hash ----------------------------------------------------------

def _value(v):
    a = np.asarray(v)
    if a.dtype.kind == "O":
        return compare_stores.encode_values(a)
    return {"raw": np.ascontiguousarray(a).tobytes().hex()}


def _attrs(obj):
    out = []
    for k in sorted(obj.attrs.keys()):
        v = obj.attrs[k]
        a = np.asarray(v)
        out.append([k, a.dtype.str, list(a.shape), _value(v) if a.dtype.kind != "U" else str(v)])
    return out


def describe_file(path):
    """Every link and object of one file, canonically (links are not followed:
    a link is described by its kind and target)."""
    out = []
    with h5py.File(path, "r") as f:
        def group(g, prefix):
            gcpl = g.id.get_create_plist()
            out.append(["group", prefix or "/", gcpl.get_link_creation_order(), _attrs(g)])
            for name in sorted(g.keys()):
                path_ = f"{prefix}/{name}"
                link = g.get(name, getlink=True)
                if isinstance(link, h5py.SoftLink):
                    out.append(["soft", path_, link.path])
                elif isinstance(link, h5py.ExternalLink):
                    out.append(["external", path_, link.filename, link.path])
                else:
                    node = g[name]
                    if isinstance(node, h5py.Group):
                        group(node, path_)
                    else:
                        out.append(["dataset", path_, list(node.shape), node.dtype.str,
                                    str(h5py.check_dtype(vlen=node.dtype)),
                                    str(h5py.check_dtype(ref=node.dtype)),
                                    list(node.chunks or []), list(node.maxshape),
                                    node.compression, node.compression_opts, node.shuffle,
                                    node.fletcher32, _attrs(node), _value(node[()])])
        group(f, "")
    return out


def structure_hash(outdir):
    per_file = {}
    for name in sorted([c[0] for c in CASES] + EXTRA_FILES):
        text = json.dumps(describe_file(os.path.join(outdir, name)), sort_keys=True)
        per_file[name] = hashlib.sha256(text.encode()).hexdigest()
    total = hashlib.sha256(json.dumps(per_file, sort_keys=True).encode()).hexdigest()
    return total, per_file


# --- reading -------------------------------------------------------------------

def read_corpus(store_cls, outdir):
    """compare_stores' dump of each file, plus the probes."""
    out = {}
    for name, _, _, probes in CASES:
        store = store_cls(os.path.join(outdir, name))
        try:
            doc = compare_stores.dump(store)
            doc["probes"] = [compare_stores.dump_dataset(store, p) for p in probes]
        finally:
            store.close()
        out[name] = json.loads(json.dumps(doc))
    return out


class H5pyRulesStore(compare_stores.RulesStore):
    def __init__(self, path):
        self._h5 = h5py.File(path, "r")
        super().__init__(self._h5)

    def close(self):
        self._h5.close()


def record_child(src, outdir):
    sys.path.insert(0, src)
    import secbench.storage as sbs
    assert os.path.abspath(sbs.__file__).startswith(os.path.abspath(src) + os.sep), sbs.__file__
    print(json.dumps(read_corpus(lambda p: sbs.Store(p, "r"), outdir)))


def record(src, expected_path, commit):
    with tempfile.TemporaryDirectory(prefix="sb-h5py-corpus-") as tmp:
        write_corpus(tmp)
        total, per_file = structure_hash(tmp)
        runs = []
        for seed in ("0", "1", "2"):
            env = dict(os.environ, PYTHONHASHSEED=seed)
            p = subprocess.run([sys.executable, __file__, "--record-child", src, tmp],
                               env=env, capture_output=True, text=True, check=True)
            runs.append(json.loads(p.stdout))
        if any(r != runs[0] for r in runs[1:]):
            raise SystemExit("Python secbench read the corpus differently from run to run")
    with open(os.path.join(src, "pyproject.toml"), encoding="utf-8") as f:
        version = next((line.split('"')[1] for line in f if line.startswith("version")), "?")
    doc = {
        "format": FORMAT,
        "made_by": {"generator": "tests/interop/make_h5py_corpus.py --record",
                    "secbench_storage": version, "secbench_commit": commit,
                    "h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version,
                    "numpy": np.__version__, "python": sys.version.split()[0]},
        "structure_sha256": total,
        "file_sha256": per_file,
        "files": [{"file": name, "what": what, **runs[0][name]} for name, what, _, _ in CASES],
    }
    compare_stores.write_json(doc, expected_path)
    print(f"{expected_path}: {len(CASES)} files, structure {total[:16]}")


def check(expected_path):
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    problems = []
    with tempfile.TemporaryDirectory(prefix="sb-h5py-corpus-") as tmp:
        write_corpus(tmp)
        total, per_file = structure_hash(tmp)
        if total != expected["structure_sha256"]:
            for name in sorted(set(per_file) | set(expected["file_sha256"])):
                if per_file.get(name) != expected["file_sha256"].get(name):
                    problems.append(f"{name}: structure differs from the one {expected_path} "
                                    "was recorded from (rerun make_h5py_corpus.py --record)")
        got = read_corpus(H5pyRulesStore, tmp)
    for entry in expected["files"]:
        name = entry["file"]
        g = got[name]
        for line in compare_stores.compare(entry, g):
            problems.append(f"{name}: {line}")
        probes = {p["name"]: p for p in g["probes"]}
        for p in entry["probes"]:
            out = []
            compare_stores.compare_dataset(p, probes[p["name"]], f"probe {p['name']!r}", "exact", out)
            problems += [f"{name}: {line}" for line in out]
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"h5py corpus: structure {total[:16]} as recorded; compare_stores' rules read "
          f"{len(expected['files'])} files as Python secbench did")
    return 0


def main(argv):
    if len(argv) == 4 and argv[1] == "--record-child":
        record_child(argv[2], argv[3])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", nargs="?")
    ap.add_argument("--record", nargs=2, metavar=("SECBENCH_STORAGE_SRC", "EXPECTED.json"))
    ap.add_argument("--commit", default="unknown")
    ap.add_argument("--check", metavar="EXPECTED.json")
    args = ap.parse_args(argv[1:])
    if sum(x is not None for x in (args.outdir, args.record, args.check)) != 1:
        ap.error("give OUTDIR, --record or --check")
    if args.record:
        record(os.path.abspath(args.record[0]), args.record[1], args.commit)
        return 0
    if args.check:
        return check(args.check)
    write_corpus(args.outdir)
    total, _ = structure_hash(args.outdir)
    print(f"{args.outdir}: {len(CASES)} corpus files, structure {total[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
