#!/usr/bin/python3
"""Read a store with plain h5py the way Python secbench 3.7.1 reads it, and
compare it, value by value, with an expected dump (secbench-expected/1).

    compare_stores.py STORE EXPECTED.json [options]
    compare_stores.py STORE --dump OUT.json       (write what was read)

Options:
  --dataset SRC[=DST]   compare only the expected dataset SRC, found in STORE
                        as DST (default: the same name); repeatable. STORE
                        must then list exactly the DST names (see --extra-ok).
  --capacity MODE       exact (default): capacity as expected;
                        size: capacity equals the expected size (an export
                        with shrink); any: capacity not compared.
  --extra-ok            STORE may list datasets beyond those compared.

Exit status: 0 all equal, 1 at least one mismatch (every one is printed),
2 usage error or unreadable file.

The expected dumps in tests/data/python-secbench/*.expected.json were made by
the real Python secbench (tests/interop/make_python_secbench_fixtures.py) with
the same dump() below, run on secbench.storage.Store instead of RulesStore;
the format is documented in tests/data/python-secbench/README.md. No Python
secbench is needed here: RulesStore re-implements its reading rules on h5py
(see docs/format.md, "What Python secbench does"):

- datasets: a walk over every group reachable from the root (through
  Group.values(), so soft and external links are followed), entering
  dataset groups too; a group is a dataset when
  `bool(group.attrs.get("_sb_is_dataset", False))` (Python truthiness);
  its name is h5py's `group.name` without the leading "/" (for an object
  reached through an external link, its path in the other file). A group
  reached twice (same file number and address, h5py's equality) is entered
  once, under the first name met (Python's set walk may, rarely, list it twice).
- load_dataset(name): KeyError 'dataset not found: "name"' unless the walk
  listed name; ValueError unless _sb_is_dataset is truthy; capacity and size
  are the raw attribute values (AssertionError unless size <= capacity);
  fields: the child HDF5 datasets (not groups) whose `_sb_is_asset` is not
  truthy, in h5py's iteration order, then stably sorted by
  `attrs.get("_sb_priority", 0)`; ValueError "dataset has no field" without
  any; ValueError "field F has an invalid shape." if F.shape[0] != capacity.
- assets(): children (groups included) with a truthy `_sb_is_asset`, in
  h5py's iteration order; get_asset(raw=True) is `node[:].tobytes()`;
  get_json_asset is json.loads of those bytes.
"""
import argparse
import json
import math
import sys

import h5py
import numpy as np

FORMAT = "secbench-expected/1"
ATTR_IS_DATASET = "_sb_is_dataset"
ATTR_CAPACITY = "_sb_capacity"
ATTR_SIZE = "_sb_size"
ATTR_IS_ASSET = "_sb_is_asset"
ATTR_PRIORITY = "_sb_priority"

# Exceptions Python secbench lets through from load_dataset and friends.
CAUGHT = (KeyError, ValueError, AssertionError, TypeError, IndexError, OSError)


# ---------------------------------------------------------------------------
# Encoding (exact, JSON-safe, easy to read from C)

def fhex(x):
    """A float as float.hex (C's strtod reads it back); 'inf', '-inf', 'nan'."""
    return float(x).hex()


def encode_values(array, file=None):
    """Flatten in C order and encode each element by dtype kind."""
    a = np.asarray(array)
    flat = a.reshape(-1)
    kind = a.dtype.kind
    if kind == "b":
        return [bool(v) for v in flat]
    if kind in "iu":
        return [str(int(v)) for v in flat]
    if kind == "f":
        return [fhex(v) for v in flat]
    if kind == "c":
        return [[fhex(v.real), fhex(v.imag)] for v in flat]
    if kind == "S":
        # The whole fixed-size item, padding included (numpy strips trailing NULs).
        raw = np.ascontiguousarray(flat).tobytes()
        n = a.dtype.itemsize
        return [raw[i * n:(i + 1) * n].hex() for i in range(flat.size)]
    if kind == "O":
        out = []
        for v in flat:
            if isinstance(v, bytes):
                out.append({"bytes": v.hex()})
            elif isinstance(v, str):
                out.append({"str": v})
            elif isinstance(v, h5py.Reference):
                name = None
                if v and file is not None:
                    try:
                        name = file[v].name
                    except CAUGHT:
                        name = "?"
                out.append({"ref": name})
            else:
                out.append({"repr": repr(v)})
        return out
    return [{"repr": repr(v)} for v in flat]


def raw_hex(array):
    a = np.asarray(array)
    if a.dtype.kind == "O":
        return None
    return np.ascontiguousarray(a).tobytes().hex()


def tag_json(doc):
    """A parsed JSON document as a typed tree: integers stay exact (decimal
    strings), floats are float.hex, objects keep their key order."""
    if doc is None:
        return {"t": "null"}
    if isinstance(doc, bool):
        return {"t": "bool", "v": doc}
    if isinstance(doc, int):
        return {"t": "int", "v": str(doc)}
    if isinstance(doc, float):
        return {"t": "float", "v": fhex(doc)}
    if isinstance(doc, str):
        return {"t": "str", "v": doc}
    if isinstance(doc, list):
        return {"t": "list", "v": [tag_json(x) for x in doc]}
    if isinstance(doc, dict):
        return {"t": "object", "v": [[k, tag_json(v)] for k, v in doc.items()]}
    return {"t": "repr", "v": repr(doc)}


def number(x):
    """An attribute value Python exposes (capacity, size) as JSON."""
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(float(x)) else repr(float(x))
    return repr(x)


def write_json(doc, path):
    """Indented JSON whose arrays of numbers, strings and pairs stay on one
    line (plain json.load / cJSON read it like any JSON)."""
    def flat(x):
        return not isinstance(x, (list, dict)) or (
            isinstance(x, list) and all(not isinstance(y, (list, dict)) for y in x))

    def emit(x, depth):
        pad = " " * depth
        compact = json.dumps(x, ensure_ascii=False, separators=(", ", ": "))
        if len(compact) <= 100:
            return compact
        if isinstance(x, dict) and x:
            items = [f'{pad} {json.dumps(k, ensure_ascii=False)}: {emit(v, depth + 1)}'
                     for k, v in x.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(x, list) and x and not all(flat(y) for y in x):
            items = [f"{pad} {emit(v, depth + 1)}" for v in x]
            return "[\n" + ",\n".join(items) + "\n" + pad + "]"
        return json.dumps(x, ensure_ascii=False, separators=(", ", ": "))

    with open(path, "w", encoding="utf-8") as f:
        f.write(emit(doc, 0) + "\n")


def error(exc):
    return {"error": type(exc).__name__, "message": str(exc)}


def dtype_info(dtype):
    return {"dtype": dtype.str, "dtype_name": dtype.name}


def dump_dataset(store, name):
    entry = {"name": name}
    try:
        ds = store.load_dataset(name)
    except CAUGHT as exc:
        entry["load"] = error(exc)
        return entry
    entry["load"] = "ok"
    entry["capacity"] = number(ds.capacity)
    entry["capacity_type"] = type(ds.capacity).__name__
    entry["size"] = number(ds.size)
    entry["size_type"] = type(ds.size).__name__
    fields = []
    for fname in ds.fields():
        node = ds.get(fname)
        fe = {"name": fname}
        fe.update(dtype_info(node.dtype))
        fe["row_shape"] = list(node.shape[1:])
        try:
            rows = node[:ds.size]
            fe["values"] = encode_values(rows, node.file)
            rh = raw_hex(rows)
            if rh is not None:
                fe["raw_hex"] = rh
        except CAUGHT as exc:
            fe["read"] = error(exc)
        fields.append(fe)
    entry["fields"] = fields
    assets = []
    try:
        names = ds.assets()
    except CAUGHT as exc:
        entry["assets_error"] = error(exc)
        names = []
    for aname in names:
        ae = {"name": aname}
        try:
            node = ds.get_asset(aname)
            ae.update(dtype_info(node.dtype))
            ae["shape"] = list(node.shape)
            ae["values"] = encode_values(node[()], node.file)
        except (CAUGHT + (AttributeError,)) as exc:
            ae["get"] = error(exc)
        try:
            raw = ds.get_asset(aname, raw=True)
            ae["raw_hex"] = raw.hex()
        except (CAUGHT + (AttributeError,)) as exc:
            ae["raw_error"] = error(exc)
            raw = None
        if aname.endswith(".json"):
            if raw is not None:
                try:
                    ae["json_text"] = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    ae["json_text_error"] = error(exc)
            try:
                ae["json"] = tag_json(ds.get_json_asset(aname))
            except (CAUGHT + (AttributeError,)) as exc:
                ae["json_error"] = error(exc)
        assets.append(ae)
    entry["assets"] = assets
    return entry


def dump(store):
    """What a Store-like object (secbench.storage.Store or RulesStore) reads."""
    names = list(store.dataset_names())
    out = {"format": FORMAT, "dataset_names": sorted(set(names))}
    dups = sorted(n for n in set(names) if names.count(n) > 1)
    if dups:
        out["dataset_names_listed_twice"] = dups
    out["datasets"] = [dump_dataset(store, n) for n in sorted(set(names))]
    return out


# ---------------------------------------------------------------------------
# Python secbench's reading rules on plain h5py

class RulesDataset:
    def __init__(self, group, name, capacity, size, fields):
        self._group = group
        self.name = name
        self.capacity = capacity
        self.size = size
        self._fields = fields

    def fields(self):
        return [name for name, _ in self._fields]

    def get(self, field):
        for name, node in self._fields:
            if name == field:
                return node
        raise KeyError(f'invalid field "{field}"')

    def assets(self):
        return [name for name, node in self._group.items() if node.attrs.get(ATTR_IS_ASSET)]

    def get_asset(self, name, raw=False):
        if name not in self._group.keys():
            raise KeyError(f"asset {name} is does not exists")
        node = self._group[name]
        if not node.attrs.get(ATTR_IS_ASSET):
            raise KeyError(f"asset {name} is a dataset (not an asset)")
        return node[:].tobytes() if raw else node

    def get_json_asset(self, name):
        return json.loads(self.get_asset(name, raw=True))


class RulesStore:
    def __init__(self, h5file):
        self._file = h5file

    def _walk(self):
        """Every group reachable from the root, each object once, breadth
        first in h5py's iteration order."""
        seen = {self._file}
        queue = [self._file]
        while queue:
            group = queue.pop(0)
            yield group
            for child in group.values():
                if isinstance(child, h5py.Group) and child not in seen:
                    seen.add(child)
                    queue.append(child)

    def dataset_names(self):
        return [g.name.lstrip("/") for g in self._walk() if g.attrs.get(ATTR_IS_DATASET, False)]

    def load_dataset(self, name):
        name = name.lstrip("/")
        if name not in set(self.dataset_names()):
            raise KeyError(f'dataset not found: "{name}"')
        group = self._file[name]
        if not group.attrs.get(ATTR_IS_DATASET, False):
            raise ValueError(f"group {name} is not a valid dataset")
        capacity = group.attrs[ATTR_CAPACITY]
        size = group.attrs[ATTR_SIZE]
        if not size <= capacity:
            raise AssertionError()
        found = []
        for fname, node in group.items():
            if isinstance(node, h5py.Dataset) and not node.attrs.get(ATTR_IS_ASSET):
                found.append((node.attrs.get(ATTR_PRIORITY, 0), fname, node))
        found.sort(key=lambda t: t[0])  # stable: ties keep h5py's order
        if not found:
            raise ValueError("dataset has no field")
        for _, fname, node in found:
            if node.shape[0] != capacity:
                raise ValueError(f"field {fname} has an invalid shape.")
        return RulesDataset(group, name, capacity, size, [(n, d) for _, n, d in found])


def read_store(path):
    with h5py.File(path, "r") as f:
        return json.loads(json.dumps(dump(RulesStore(f))))


# ---------------------------------------------------------------------------
# Comparison

def _show(v):
    return json.dumps(v, ensure_ascii=False)


def _excerpt(text, pos, width=24):
    lo = max(0, pos - width // 2)
    return ("..." if lo else "") + text[lo:lo + width] + ("..." if lo + width < len(text) else "")


def compare_text(where, exp, got, out):
    """Long strings (hex, JSON text): where they first differ, not both whole."""
    if exp == got:
        return
    if not (isinstance(exp, str) and isinstance(got, str)) or max(len(exp), len(got)) <= 80:
        out.append(f"{where} {_show(got)}, expected {_show(exp)}")
        return
    pos = next((i for i, (a, b) in enumerate(zip(exp, got)) if a != b), min(len(exp), len(got)))
    out.append(f"{where} differs at character {pos} (lengths {len(got)}, expected {len(exp)}): "
               f"got {_show(_excerpt(got, pos))}, expected {_show(_excerpt(exp, pos))}")


def compare_json(where, exp, got, out, path="$"):
    """Tagged JSON trees (tag_json): one line per differing leaf, with its path."""
    if exp == got:
        return
    if (isinstance(exp, dict) and isinstance(got, dict) and exp.get("t") == got.get("t")
            and exp.get("t") in ("list", "object")):
        ev, gv = exp["v"], got["v"]
        if exp["t"] == "object":
            ekeys, gkeys = [k for k, _ in ev], [k for k, _ in gv]
            if ekeys != gkeys:
                out.append(f"{where} {path}: keys {gkeys}, expected {ekeys}")
                return
            for (k, e), (_, g) in zip(ev, gv):
                compare_json(where, e, g, out, f"{path}.{k}")
            return
        if len(ev) != len(gv):
            out.append(f"{where} {path}: {len(gv)} items, expected {len(ev)}")
            return
        for i, (e, g) in enumerate(zip(ev, gv)):
            compare_json(where, e, g, out, f"{path}[{i}]")
        return
    out.append(f"{where} {path}: got {_show(got)}, expected {_show(exp)}")


def compare_values(where, exp, got, row_items, out):
    if len(exp) != len(got):
        out.append(f"{where}: {len(got)} values, expected {len(exp)}")
    for i, (e, g) in enumerate(zip(exp, got)):
        if e != g:
            row, col = divmod(i, row_items) if row_items else (i, 0)
            out.append(f"{where}[row {row}, item {col}]: got {_show(g)}, expected {_show(e)}")


def compare_dataset(exp, got, where, capacity_mode, out):
    if exp.get("load") != got.get("load"):
        out.append(f"{where}: load gives {_show(got.get('load'))}, expected {_show(exp.get('load'))}")
        return
    if exp["load"] != "ok":
        return
    want_capacity = exp["capacity"]
    if capacity_mode == "size":
        want_capacity = exp["size"]
    if capacity_mode != "any" and got["capacity"] != want_capacity:
        out.append(f"{where}: capacity {got['capacity']}, expected {want_capacity}")
    for key in ("capacity_type", "size", "size_type"):
        if got.get(key) != exp.get(key):
            out.append(f"{where}: {key} {_show(got.get(key))}, expected {_show(exp.get(key))}")
    exp_names = [fe["name"] for fe in exp["fields"]]
    got_names = [fe["name"] for fe in got["fields"]]
    if exp_names != got_names:
        out.append(f"{where}: fields (in Python's order) {got_names}, expected {exp_names}")
    got_fields = {fe["name"]: fe for fe in got["fields"]}
    for fe in exp["fields"]:
        g = got_fields.get(fe["name"])
        fwhere = f"{where} field {fe['name']!r}"
        if g is None:
            out.append(f"{fwhere}: missing")
            continue
        for key in ("dtype", "dtype_name", "row_shape", "read"):
            if fe.get(key) != g.get(key):
                out.append(f"{fwhere}: {key} {_show(g.get(key))}, expected {_show(fe.get(key))}")
        items = 1
        for d in fe.get("row_shape", []):
            items *= d
        before = len(out)
        compare_values(f"{fwhere} value", fe.get("values", []), g.get("values", []), items, out)
        if (len(out) == before and fe.get("dtype") == g.get("dtype")
                and fe.get("raw_hex") != g.get("raw_hex")):
            out.append(f"{fwhere}: raw bytes differ (same decoded values: NaN payload or padding?)")
    compare_assets(exp.get("assets", []), got.get("assets", []), where, out)
    for key in ("assets_error",):
        if exp.get(key) != got.get(key):
            out.append(f"{where}: {key} {_show(got.get(key))}, expected {_show(exp.get(key))}")


def compare_assets(exp_list, got_list, where, out):
    exp_names = [a["name"] for a in exp_list]
    got_names = [a["name"] for a in got_list]
    if exp_names != got_names:
        out.append(f"{where}: assets {got_names}, expected {exp_names}")
    got_by = {a["name"]: a for a in got_list}
    for ae in exp_list:
        g = got_by.get(ae["name"])
        awhere = f"{where} asset {ae['name']!r}"
        if g is None:
            continue
        for key in sorted(set(ae) | set(g)):
            if key in ("name", "values"):
                continue
            if key == "json":
                compare_json(f"{awhere}: json", ae.get(key), g.get(key), out)
            elif key in ("raw_hex", "json_text"):
                compare_text(f"{awhere}: {key}", ae.get(key), g.get(key), out)
            elif ae.get(key) != g.get(key):
                out.append(f"{awhere}: {key} {_show(g.get(key))}, expected {_show(ae.get(key))}")
        items = 1
        for d in ae.get("shape", [])[1:]:
            items *= d
        compare_values(f"{awhere} value", ae.get("values", []), g.get("values", []), items, out)


def compare(expected, got, pairs=None, capacity_mode="exact", extra_ok=False):
    """Every difference between two dumps, as sentences."""
    out = []
    by_name = {d["name"]: d for d in got["datasets"]}
    exp_by_name = {d["name"]: d for d in expected["datasets"]}
    if pairs is None:
        pairs = [(n, n) for n in expected["dataset_names"]]
    for src, _ in pairs:
        if src not in exp_by_name:
            out.append(f"expected dump has no dataset {src!r}")
    wanted = sorted(dst for _, dst in pairs)
    listed = got["dataset_names"]
    missing = [n for n in wanted if n not in listed]
    extra = [n for n in listed if n not in wanted]
    if missing or (extra and not extra_ok):
        out.append(f"dataset_names {listed}, expected {wanted}")
    if got.get("dataset_names_listed_twice"):
        out.append(f"datasets listed twice: {got['dataset_names_listed_twice']}")
    for src, dst in pairs:
        if src in exp_by_name and dst in by_name:
            where = f"dataset {dst!r}" + (f" (expected {src!r})" if src != dst else "")
            compare_dataset(exp_by_name[src], by_name[dst], where, capacity_mode, out)
    return out


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("store")
    p.add_argument("expected", nargs="?")
    p.add_argument("--dataset", action="append", default=None, metavar="SRC[=DST]")
    p.add_argument("--capacity", choices=("exact", "size", "any"), default="exact")
    p.add_argument("--extra-ok", action="store_true")
    p.add_argument("--dump", metavar="OUT.json")
    args = p.parse_args(argv[1:])
    if (args.expected is None) == (args.dump is None):
        p.error("give EXPECTED.json or --dump OUT.json")
    try:
        got = read_store(args.store)
    except OSError as exc:
        print(f"{args.store}: cannot read: {exc}", file=sys.stderr)
        return 2
    if args.dump:
        write_json(got, args.dump)
        return 0
    with open(args.expected, encoding="utf-8") as f:
        expected = json.load(f)
    if expected.get("format") != FORMAT:
        print(f"{args.expected}: format {expected.get('format')!r}, expected {FORMAT!r}",
              file=sys.stderr)
        return 2
    pairs = None
    if args.dataset:
        pairs = [tuple(d.split("=", 1)) if "=" in d else (d, d) for d in args.dataset]
    problems = compare(expected, got, pairs, args.capacity, args.extra_ok)
    for line in problems:
        print(f"{args.store}: {line}")
    if problems:
        print(f"{args.store}: {len(problems)} mismatch(es) against {args.expected}",
              file=sys.stderr)
        return 1
    n = len(pairs) if pairs else len(expected["datasets"])
    print(f"{args.store}: {n} dataset(s) read as Python secbench read {args.expected}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
