#!/usr/bin/python3
"""End-to-end tests of the secbench-db program.

Stores are written here with h5py in the secbench format (as Python secbench
writes them), so that what secbench-db prints can be compared with what h5py
sees in the file. One case per run; see tests/cli/CMakeLists.txt.

    secbench_db_test.py --db PATH [--ranks N --mpiexec EXE --np-flag=-n
                        --mpiexec-args "..."] [--reference FILE] CASE

--ranks 0 (the default) runs secbench-db as a plain process, N > 0 under
mpiexec with N ranks.
"""

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

ARGS = None
FAILURES = []
ENV = None


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


def run(args, ranks=None, expect=None):
    """Run secbench-db with `args`; returns (code, stdout bytes, stderr text)."""
    ranks = ARGS.ranks if ranks is None else ranks
    cmd = [ARGS.db] + list(args)
    if ranks > 0:
        cmd = ([ARGS.mpiexec, ARGS.np_flag, str(ranks)] + shlex.split(ARGS.mpiexec_args)
               + cmd)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=240,
                       env=ENV)
    err = p.stderr.decode("utf-8", "replace")
    shown = " ".join(cmd)
    if expect is not None:
        check(p.returncode == expect,
              f"{shown}: exit {p.returncode}, expected {expect}\nstderr: {err}")
    return p.returncode, p.stdout, err


def run_stderr_tty(args):
    """Run secbench-db plainly with stderr on a pseudo-terminal; returns
    (code, what the terminal received)."""
    import pty
    master, slave = pty.openpty()
    p = subprocess.Popen([ARGS.db] + list(args), stdout=subprocess.DEVNULL, stderr=slave,
                         env=ENV)
    os.close(slave)
    received = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the program closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(master)
    return p.wait(timeout=240), received.decode("utf-8", "replace")


def error_lines(err):
    return [l for l in err.splitlines() if l.startswith("secbench-db") and ": error: " in l]


# ---------------------------------------------------------------- stores

def sb_group(f, name, capacity, size):
    g = f.create_group(name)
    g.attrs["_sb_size"] = np.int64(size)
    g.attrs["_sb_is_dataset"] = np.bool_(True)
    g.attrs["_sb_capacity"] = np.int64(capacity)
    return g


def sb_field(g, name, full, priority):
    d = g.create_dataset(name, data=full)
    d.attrs["_sb_priority"] = np.int64(priority)


def sb_asset(g, name, value):
    d = g.create_dataset(name, data=value)
    d.attrs["_sb_is_asset"] = np.bool_(True)


def make_store(path):
    """A store with rows, nested names, an empty dataset, a group that is not a
    dataset, and assets of the three kinds (JSON, raw bytes, typed array)."""
    rng = np.random.default_rng(5)
    with h5py.File(path, "w") as f:
        g = sb_group(f, "traces", 50, 30)
        data = np.zeros((50, 200), np.int16)
        data[:30] = rng.integers(-3000, 3000, (30, 200))
        pts = np.zeros((50, 16), np.uint8)
        pts[:30] = rng.integers(0, 256, (30, 16))
        labels = np.zeros(50, np.uint32)
        labels[:30] = np.arange(30) * 7
        sb_field(g, "data", data, 0)
        sb_field(g, "plaintext", pts, 1)
        sb_field(g, "label", labels, 2)
        settings = {"scope": "demo", "rate": 2.5e9, "channels": [1, 2]}
        sb_asset(g, "settings.json", np.frombuffer(json.dumps(settings).encode(), np.uint8))
        sb_asset(g, "raw", np.frombuffer(b"\x00\x01{binary\xff\n", np.uint8))
        sb_asset(g, "window", np.arange(6, dtype=np.float32).reshape(2, 3))

        g = sb_group(f, "nested/group/ds", 10, 10)
        sb_field(g, "x", rng.normal(size=(10, 2, 3)), 0)

        sb_group(f, "never_written", 7, 0)
        # This library's extension (docs/format.md): the field list of a
        # dataset created and never written.
        g = sb_group(f, "declared", 4, 0)
        g.attrs["_sb_fields"] = np.array([b"samples", b"label"], dtype="S8")
        other = f.create_group("plain_group")
        other.create_dataset("junk", data=np.arange(3))


def h5_model(path):
    """What a secbench reader must see in `path`, read with h5py alone."""
    model = {}
    with h5py.File(path, "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Group) and bool(obj.attrs.get("_sb_is_dataset", False)):
                fields, assets = [], []
                for child_name, child in obj.items():
                    if not isinstance(child, h5py.Dataset):
                        continue
                    if bool(child.attrs.get("_sb_is_asset", False)):
                        assets.append((child_name, str(child.dtype), tuple(child.shape),
                                       child[()].tobytes()))
                    else:
                        fields.append((int(child.attrs.get("_sb_priority", 1 << 40)),
                                       child_name, str(child.dtype), tuple(child.shape[1:])))
                declared = [n.decode() for n in obj.attrs.get("_sb_fields", [])]
                defined = {n: (d, s) for _, n, d, s in fields}
                ordered = [(n,) + defined.get(n, (None, None)) for n in declared]
                ordered += [(n, d, s) for _, n, d, s in sorted(fields) if n not in declared]
                model[name] = {
                    "capacity": int(obj.attrs["_sb_capacity"]),
                    "size": int(obj.attrs["_sb_size"]),
                    "fields": ordered,
                    "assets": sorted(assets),
                }
        f.visititems(visit)
    return model


def expected_status_text(path, model):
    n = len(model)
    lines = [f"{path}: {n} dataset{'' if n == 1 else 's'}"]
    for name in sorted(model):
        d = model[name]
        lines.append(f"{name}: size {d['size']}, capacity {d['capacity']}")
        for fname, dtype, shape in d["fields"]:
            if dtype is None:
                lines.append(f"  field {fname}: undefined (no row written yet)")
            else:
                lines.append(f"  field {fname}: {dtype} {shape}")
        if not d["fields"]:
            lines.append("  (no fields)")
        for aname, dtype, shape, _ in d["assets"]:
            lines.append(f"  asset {aname}: {dtype} {shape}")
    return "\n".join(lines) + "\n"


def workdir():
    return tempfile.mkdtemp(prefix=f"db-{ARGS.case}-", dir=ARGS.workdir)


# ---------------------------------------------------------------- cases

def case_usage(tmp):
    # Under mpiexec (each launch costs a second) a sample is enough to show
    # that every rank agrees and the error is printed once.
    sample = ARGS.ranks > 0
    code, out, err = run(["--help"], expect=0)
    check(out.startswith(b"Usage: secbench-db"), "--help prints the usage")
    for cmd in ["export"] if sample else ["status", "ls", "export", "benchmark", "check",
                                          "asset"]:
        check(f"\n  {cmd} ".encode() in out, f"--help lists {cmd}")
        code, out2, _ = run([cmd, "--help"], expect=0)
        check(out2.startswith(f"Usage: secbench-db {cmd}".encode()), f"{cmd} --help")
        code, out3, _ = run(["help", cmd], expect=0)
        check(out3 == out2, f"help {cmd} == {cmd} --help")
    code, out, err = run(["--version"], expect=0)
    text = out.decode()
    check(text.startswith("secbench-db "), f"--version names the program: {text!r}")
    check("\nHDF5 1." in text, f"--version names HDF5: {text!r}")

    bad = [
        ([], "no command given"),
        (["frobnicate"], "unknown command 'frobnicate'"),
        (["--frob"], "unknown option '--frob'"),
        (["status"], "missing argument STORE"),
        (["status", "a.h5", "extra"], "unexpected argument 'extra'"),
        (["status", "a.h5", "--colour"], "unknown option '--colour'"),
        (["export", "a.h5", "ds"], "missing the destination store"),
        (["export", "-o", "b.h5", "a.h5", "ds", "--chunk-size", "ten"],
         "option --chunk-size expects a non-negative integer, got 'ten'"),
        (["export", "-o", "b.h5", "a.h5", "ds", "--chunk-size", "-3"],
         "option --chunk-size expects a non-negative integer"),
        (["export", "-o", "b.h5", "a.h5", "ds", "--chunk-size", "0"],
         "--chunk-size must be at least 1"),
        (["export", "-o"], "option -o needs a value"),
        (["export", "--progress=yes", "-o", "b.h5", "a.h5", "ds"], "takes no value"),
        (["benchmark", "b.h5", "--max-size", "999"], "--max-size must be at least 1000"),
        (["asset", "a.h5", "ds"], "missing argument NAME"),
        (["help", "frob"], "unknown command 'frob'"),
    ]
    if sample:
        bad = [bad[1], bad[3], bad[7]]
    for args, message in bad:
        code, out, err = run(args, expect=2)
        lines = error_lines(err)
        check(len(lines) == 1, f"{args}: one error line, got {err!r}")
        check(lines and message in lines[0], f"{args}: error says {message!r}: {err!r}")
        check("--help" in err, f"{args}: a usage hint: {err!r}")
        check(out == b"", f"{args}: nothing on stdout")


def case_status(tmp):
    store = os.path.join(tmp, "made.h5")
    make_store(store)
    for path in [store, ARGS.reference]:
        model = h5_model(path)
        code, out, err = run(["status", path], expect=0)
        want = expected_status_text(path, model)
        check(out.decode() == want, f"status {path}:\n{out.decode()}--- expected:\n{want}")

        code, out, err = run(["status", "--json", path], expect=0)
        try:
            doc = json.loads(out)
        except ValueError as e:
            check(False, f"status --json is JSON: {e}: {out!r}")
            continue
        check(doc.get("store") == path, "json store path")
        names = [d["name"] for d in doc["datasets"]]
        check(names == sorted(model), f"json dataset names {names}")
        for d in doc["datasets"]:
            m = model.get(d["name"])
            if not m:
                continue
            check(d["capacity"] == m["capacity"] and d["size"] == m["size"],
                  f"json capacity/size of {d['name']}")
            got = [(f["name"], f["dtype"],
                    None if f["row_shape"] is None else tuple(f["row_shape"]), f["defined"])
                   for f in d["fields"]]
            check(got == [(n, t, s, t is not None) for n, t, s in m["fields"]],
                  f"json fields of {d['name']}: {got}")
            got = [(a["name"], a["dtype"], tuple(a["shape"])) for a in d["assets"]]
            check(got == [(n, t, s) for n, t, s, _ in m["assets"]],
                  f"json assets of {d['name']}: {got}")

    missing = os.path.join(tmp, "missing.h5")
    code, out, err = run(["status", missing], expect=1)
    lines = error_lines(err)
    check(len(lines) == 1 and "cannot open " + missing in lines[0],
          f"status of a missing file: {err!r}")


def case_ls(tmp):
    store = os.path.join(tmp, "made.h5")
    make_store(store)
    for path in [store, ARGS.reference]:
        code, out, err = run(["ls", path], expect=0)
        check(out.decode().splitlines() == sorted(h5_model(path)), f"ls {path}: {out!r}")
    code, out, err = run(["ls", os.path.join(tmp, "nope.h5")], expect=1)
    check(len(error_lines(err)) == 1, f"ls of a missing file: one error line: {err!r}")


def case_asset(tmp):
    store = os.path.join(tmp, "made.h5")
    make_store(store)
    for path in [store, ARGS.reference]:
        for name, d in h5_model(path).items():
            for aname, _, _, raw in d["assets"]:
                code, out, err = run(["asset", path, name, aname], expect=0)
                check(out == raw, f"asset {name} {aname}: {out!r} != {raw!r}")
                try:
                    doc = json.loads(raw)
                except ValueError:
                    doc = None
                code, out, err = run(["asset", path, name, aname, "--json"],
                                     expect=0 if doc is not None else 1)
                if doc is not None:
                    check(json.loads(out) == doc, f"asset --json {aname}: {out!r}")
                    check(out.count(b"\n") > 2, f"asset --json pretty-prints: {out!r}")
                else:
                    lines = error_lines(err)
                    check(len(lines) == 1 and "not valid JSON" in lines[0],
                          f"asset --json on {aname}: {err!r}")
                    check(out == b"", "nothing on stdout for a non-JSON asset with --json")
    code, out, err = run(["asset", store, "traces", "nothing"], expect=1)
    lines = error_lines(err)
    check(len(lines) == 1 and "nothing" in lines[0], f"missing asset named: {err!r}")
    code, out, err = run(["asset", store, "no/such", "raw"], expect=1)
    lines = error_lines(err)
    check(len(lines) == 1 and "no/such" in lines[0], f"missing dataset named: {err!r}")


def break_store(src, dst, how):
    shutil.copy(src, dst)
    with h5py.File(dst, "r+") as f:
        if how == "size_above_capacity":
            f["traces"].attrs["_sb_size"] = np.int64(60)
            return "traces", "capacity"
        if how == "missing_capacity":
            del f["traces"].attrs["_sb_capacity"]
            return "traces", "_sb_capacity"
        if how == "missing_size":
            del f["nested/group/ds"].attrs["_sb_size"]
            return "nested/group/ds", "_sb_size"
        if how == "field_shape":
            x = f["nested/group/ds/x"][:9]
            del f["nested/group/ds/x"]
            f["nested/group/ds"].create_dataset("x", data=x)
            f["nested/group/ds/x"].attrs["_sb_priority"] = np.int64(0)
            return "nested/group/ds", "x"
        if how == "asset_flag_not_bool":
            # Two values have no truth value (a string would be true, as in Python).
            del f["traces/raw"].attrs["_sb_is_asset"]
            f["traces/raw"].attrs["_sb_is_asset"] = np.array([1, 1], dtype=np.int8)
            return "traces", "_sb_is_asset"
        if how == "asset_flag_false":
            # Then it reads as a field, of the wrong length.
            f["traces/window"].attrs["_sb_is_asset"] = np.bool_(False)
            return "traces", "window"
        if how == "bad_json_asset":
            del f["traces/settings.json"]
            sb_asset(f["traces"], "settings.json", np.frombuffer(b"{not json", np.uint8))
            return "traces", "settings.json"
    raise ValueError(how)


def case_check(tmp):
    store = os.path.join(tmp, "made.h5")
    make_store(store)
    for path, n in [(store, 4), (ARGS.reference, len(h5_model(ARGS.reference)))]:
        code, out, err = run(["check", path], expect=0)
        check(out.decode() == f"{path}: {n} datasets, all sound\n", f"check {path}: {out!r}")

    for how in ["size_above_capacity", "missing_capacity", "missing_size", "field_shape",
                "asset_flag_not_bool", "asset_flag_false", "bad_json_asset"]:
        broken = os.path.join(tmp, how + ".h5")
        dataset, word = break_store(store, broken, how)
        code, out, err = run(["check", broken], expect=1)
        lines = out.decode().splitlines()
        problems, summary = lines[:-1], lines[-1] if lines else ""
        check(len(problems) >= 1, f"check {how}: problems listed: {out!r}")
        check(all(p.startswith(dataset + ": ") for p in problems),
              f"check {how}: every problem names {dataset}: {problems}")
        check(any(word in p for p in problems), f"check {how}: a problem names {word}: "
              f"{problems}")
        check(summary.startswith(f"{broken}: {len(problems)} problem"),
              f"check {how}: summary {summary!r}")
        # status still shows the sound datasets, and fails when one cannot be
        # loaded (it does not judge asset contents).
        code, out, err = run(["status", broken], expect=0 if how == "bad_json_asset" else 1)
        check(b"\nnever_written: size 0, capacity 7\n" in out,
              f"status {how} still lists the other datasets: {out!r}")

    not_hdf5 = os.path.join(tmp, "text.h5")
    with open(not_hdf5, "w") as fh:
        fh.write("not an HDF5 file\n")
    for path in [not_hdf5, os.path.join(tmp, "absent.h5")]:
        code, out, err = run(["check", path], expect=2)
        lines = error_lines(err)
        check(len(lines) == 1 and f"cannot open {path}" in lines[0],
              f"check of an unopenable store: {err!r}")


def case_read(tmp):
    """status, ls, check and asset under mpiexec print exactly what one plain
    process prints, once."""
    store = os.path.join(tmp, "made.h5")
    make_store(store)
    broken = os.path.join(tmp, "broken.h5")
    break_store(store, broken, "size_above_capacity")
    commands = [["status", store], ["status", "--json", store], ["ls", store],
                ["check", store], ["check", broken], ["asset", store, "traces", "raw"],
                ["asset", store, "traces", "settings.json", "--json"],
                ["status", ARGS.reference], ["check", os.path.join(tmp, "absent.h5")],
                ["asset", store, "traces", "raw", "--json"]]
    for args in commands:
        pcode, pout, perr = run(args, ranks=0)
        code, out, err = run(args)
        check(code == pcode, f"{args}: exit {code} under mpiexec, {pcode} plain\n{err}")
        check(out == pout, f"{args}: same stdout under mpiexec: {out!r} vs {pout!r}")
        check(error_lines(err) == error_lines(perr),
              f"{args}: same error lines under mpiexec: {err!r} vs {perr!r}")


def compare_export(src, name, dst, new_name, shrink):
    with h5py.File(src, "r") as fs, h5py.File(dst, "r") as fd:
        check(new_name in fd, f"{new_name} exported into {dst}")
        if new_name not in fd:
            return
        gs, gd = fs[name], fd[new_name]
        size, capacity = int(gs.attrs["_sb_size"]), int(gs.attrs["_sb_capacity"])
        want_cap = size if shrink else capacity
        check(int(gd.attrs["_sb_size"]) == size, f"{new_name}: size {gd.attrs['_sb_size']}")
        check(int(gd.attrs["_sb_capacity"]) == want_cap,
              f"{new_name}: capacity {gd.attrs['_sb_capacity']} (want {want_cap})")
        check(bool(gd.attrs["_sb_is_dataset"]), f"{new_name}: _sb_is_dataset")
        for child, obj in gs.items():
            if not isinstance(obj, h5py.Dataset):
                continue
            check(child in gd, f"{new_name}/{child} exported")
            if child not in gd:
                continue
            d = gd[child]
            check(d.dtype == obj.dtype, f"{new_name}/{child}: dtype {d.dtype} vs {obj.dtype}")
            if bool(obj.attrs.get("_sb_is_asset", False)):
                check(bool(d.attrs.get("_sb_is_asset", False)), f"{child}: asset flag")
                check(d.shape == obj.shape and np.array_equal(d[()], obj[()]),
                      f"{new_name}/{child}: asset content")
            else:
                check(d.shape == (want_cap,) + obj.shape[1:],
                      f"{new_name}/{child}: shape {d.shape}")
                check(np.array_equal(d[:size], obj[:size]), f"{new_name}/{child}: rows")
                if "_sb_priority" in obj.attrs:
                    check(int(d.attrs.get("_sb_priority", -1)) == int(obj.attrs["_sb_priority"]),
                          f"{new_name}/{child}: priority")


def case_export(tmp):
    store = os.path.join(tmp, "made.h5")
    make_store(store)
    out = os.path.join(tmp, "out.h5")
    jobs = [
        # (source, dataset, new name, shrink, chunk): chunks smaller than a
        # share, one chunk for all (ranks > 0 get nothing), uneven deals.
        (store, "traces", None, True, 7),
        (store, "traces", "copy/of/traces", False, 100),
        (store, "nested/group/ds", None, True, 3),
        (ARGS.reference, "aes/traces", "ref", True, 9),
    ]
    for src, name, new_name, shrink, chunk in jobs:
        args = ["export", "-o", out, src, name, "--chunk-size", str(chunk), "--progress"]
        if new_name:
            args += ["--rename", new_name]
        if not shrink:
            args += ["--no-shrink"]
        code, o, err = run(args, expect=0)
        check(o == b"", f"export prints nothing on stdout: {o!r}")
        check("rows/s" in err and "MB/s" in err, f"--progress shows a rate: {err!r}")
        compare_export(src, name, out, new_name or name, shrink)
    # Without --progress, and stderr not a terminal: no meter.
    quiet = os.path.join(tmp, "quiet.h5")
    code, o, err = run(["export", "-o", quiet, store, "traces", "--chunk-size", "4"], expect=0)
    check("rows/s" not in err, f"no progress unless asked or on a terminal: {err!r}")
    compare_export(store, "traces", quiet, "traces", True)
    if ARGS.ranks == 0:
        # On a terminal the meter runs without being asked.
        tty_out = os.path.join(tmp, "tty.h5")
        code, seen = run_stderr_tty(["export", "-o", tty_out, store, "traces"])
        check(code == 0, f"export with stderr on a terminal: exit {code}: {seen!r}")
        check("rows/s" in seen and "MB/s" in seen, f"a meter on the terminal: {seen!r}")
        compare_export(store, "traces", tty_out, "traces", True)
    # The copy is a sound store as secbench-db sees it.
    run(["check", out], ranks=0, expect=0)

    code, o, err = run(["export", "-o", out, store, "traces"], expect=1)
    lines = error_lines(err)
    check(len(lines) == 1 and "traces" in lines[0], f"export onto an existing name: {err!r}")
    code, o, err = run(["export", "-o", out, store, "no_such"], expect=1)
    lines = error_lines(err)
    check(len(lines) == 1 and "no_such" in lines[0], f"export of a missing dataset: {err!r}")
    code, o, err = run(["export", "-o", store, store, "traces"], expect=1)
    lines = error_lines(err)
    check(len(lines) == 1 and "same file" in lines[0], f"export into itself: {err!r}")


def case_benchmark(tmp):
    store = os.path.join(tmp, "bench.h5")
    for attempt in range(2):  # a second run replaces the first store
        code, out, err = run(["benchmark", store, "--max-size", "10000", "--chunk-size", "333",
                              "--progress"], expect=0)
        lines = out.decode().splitlines()
        labels = [l.split(",")[0] for l in lines]
        check(labels == ["write_1000", "read_1000", "write_10000", "read_10000"],
              f"benchmark labels: {lines}")
        for line in lines:
            parts = line.split(",")
            if not check(len(parts) == 3, f"label,seconds,MB/s: {line!r}"):
                continue
            seconds, rate = float(parts[1]), float(parts[2])
            size = int(parts[0].split("_")[1])
            check(seconds > 0 and rate >= 0, f"positive timings: {line!r}")
            if seconds >= 1e-3:
                expect = size * 1016 / 1e6 / seconds
                check(abs(expect - rate) <= 0.06 + 0.01 * expect,
                      f"MB/s matches seconds: {line!r} (expect {expect:.1f})")
        check("rows/s" in err, f"--progress shows a rate: {err!r}")
    with h5py.File(store, "r") as f:
        check(sorted(f.keys()) == ["bench_1000", "bench_10000"], f"datasets {list(f.keys())}")
        for size in [1000, 10000]:
            g = f[f"bench_{size}"]
            check(int(g.attrs["_sb_size"]) == size, f"bench_{size} size")
            check(g["data"].shape == (size, 1000) and g["data"].dtype == np.int8, "data")
            check(g["plaintext"].shape == (size, 16) and g["plaintext"].dtype == np.uint8,
                  "plaintext")
            check(np.count_nonzero(g["data"][:]) > size * 900, "traces hold data")


CASES = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--ranks", type=int, default=0)
    ap.add_argument("--mpiexec", default="mpiexec")
    ap.add_argument("--np-flag", default="-n")
    ap.add_argument("--mpiexec-args", default="")
    ap.add_argument("--reference", required=True)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("case", choices=sorted(CASES))
    ARGS = ap.parse_args()
    if ARGS.workdir:
        os.makedirs(ARGS.workdir, exist_ok=True)
    if not os.path.exists(ARGS.reference):
        print(f"reference store {ARGS.reference} is missing", file=sys.stderr)
        return 1
    tmp = workdir()
    # Open MPI's session directory of our own: other jobs cleaning theirs
    # under /tmp at the same time made mpiexec fail at start-up. Kept short,
    # as it holds Unix sockets.
    global ENV
    session = tempfile.mkdtemp(prefix="sbdb-")
    ENV = dict(os.environ, OMPI_MCA_orte_tmpdir_base=session)
    try:
        CASES[ARGS.case](tmp)
    finally:
        shutil.rmtree(session, ignore_errors=True)
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed; files kept in {tmp}", file=sys.stderr)
        return 1
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"{ARGS.case}: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
