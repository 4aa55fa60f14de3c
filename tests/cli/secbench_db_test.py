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


def explain_hang(pid):
    """What the processes of a command that does not end are doing: their
    tree, kernel wait channels and (gdb being there) every thread's stack."""
    print("--- %d does not end; its processes:" % pid, file=sys.stderr)
    tree = subprocess.run(["ps", "-e", "--forest", "-o", "pid,ppid,stat,wchan:24,etime,args"],
                          stdout=subprocess.PIPE, text=True).stdout
    # Not the kernel's threads (children of kthreadd, pid 2).
    print("\n".join(l[:200] for l in tree.splitlines() if l.split()[1:2] != ["2"]
                    and l.split()[0:1] != ["2"]), file=sys.stderr)
    if shutil.which("gdb"):
        for line in tree.splitlines()[1:]:
            fields = line.split()
            if fields and fields[0].isdigit() and ("secbench-db" in line or "orted" in line):
                bt = subprocess.run(["gdb", "-batch", "-p", fields[0], "-ex",
                                     "thread apply all bt 20"], stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, timeout=60).stdout
                print("--- stacks of %s:\n%s" % (fields[0], bt[-6000:]), file=sys.stderr)


def run_or_explain(cmd, timeout=240):
    """subprocess.run that, on a timeout, says where the command hangs first."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=ENV) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            explain_hang(proc.pid)
            proc.kill()
            proc.communicate()
            raise
        return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def run(args, ranks=None, expect=None):
    """Run secbench-db with `args`; returns (code, stdout bytes, stderr text)."""
    ranks = ARGS.ranks if ranks is None else ranks
    cmd = [ARGS.db] + list(args)
    if ranks > 0:
        cmd = ([ARGS.mpiexec, ARGS.np_flag, str(ranks)] + shlex.split(ARGS.mpiexec_args)
               + cmd)
    p = run_or_explain(cmd)
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
                                          "asset", "rm", "list"]:
        check(f"\n  {cmd} ".encode() in out, f"--help lists {cmd}")
        code, out2, _ = run([cmd, "--help"], expect=0)
        check(out2.startswith(f"Usage: secbench-db {cmd}".encode()), f"{cmd} --help")
        code, out3, _ = run(["help", cmd], expect=0)
        check(out3 == out2, f"help {cmd} == {cmd} --help")
    for args in (["help"], ["help", "help"]):
        code, out2, _ = run(args, expect=0)
        check(out2 == out, f"{args} prints the main help")
    code, out, err = run(["--version"], expect=0)
    text = out.decode()
    check("\nMPI " in text and "secbench-storage " in text, f"--version names MPI: {text!r}")
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
        (["help", "status", "ls"], "help takes one COMMAND"),
        (["benchmark", "b.h5", "--chunk-size", "0"], "--chunk-size must be at least 1"),
        (["rm", "a.h5"], "missing argument DATASET"),
        (["asset", "a.h5", "d", "n", "--json", "--raw"], "exclude each other"),
        (["export", "-o", "a.h5", "a.h5", "ds"], "same file"),
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
    check(len(lines) == 1 and f"store '{missing}'" in lines[0] and "does not exist" in lines[0],
          f"status of a missing file: {err!r}")
    check(lines and lines[0].count(missing) == 1, f"the path is named once: {err!r}")


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
        check(len(lines) == 1 and f"store '{path}'" in lines[0] and lines[0].count(path) == 1,
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
        # A chunk far larger than the data: memory is sized by the data.
        (store, "traces", "huge_chunk", True, 1 << 60),
        (ARGS.reference, "aes/traces", "ref", True, 9),
    ]
    for src, name, new_name, shrink, chunk in jobs:
        # Python's short option -c as well as --chunk-size.
        args = ["export", "-o", out, src, name, "-c" if chunk % 2 else "--chunk-size",
                str(chunk), "--progress"]
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
    code, o, err = run(["export", "-o", store, store, "traces"], expect=2)
    lines = error_lines(err)
    check(len(lines) == 1 and "same file" in lines[0], f"export into itself: {err!r}")


def case_benchmark(tmp):
    store = os.path.join(tmp, "bench.h5")
    for attempt in range(2):  # a second run replaces the first store, as asked
        code, out, err = run(["benchmark", store, "--max-size", "10000", "--chunk-size", "333",
                              "--progress"] + (["--force"] if attempt else []), expect=0)
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
    # A chunk far larger than the data: memory for the data only.
    huge = os.path.join(tmp, "huge_chunk.h5")
    code, out, err = run(["benchmark", huge, "--max-size", "1000", "--chunk-size",
                          str(1 << 60)], expect=0)
    check(out.decode().count("\n") == 2, f"benchmark with a huge chunk: {out!r} {err!r}")
    with h5py.File(store, "r") as f:
        check(sorted(f.keys()) == ["bench_1000", "bench_10000"], f"datasets {list(f.keys())}")
        for size in [1000, 10000]:
            g = f[f"bench_{size}"]
            check(int(g.attrs["_sb_size"]) == size, f"bench_{size} size")
            check(g["data"].shape == (size, 1000) and g["data"].dtype == np.int8, "data")
            check(g["plaintext"].shape == (size, 16) and g["plaintext"].dtype == np.uint8,
                  "plaintext")
            check(np.count_nonzero(g["data"][:]) > size * 900, "traces hold data")


# ------------------------------------------------ defects of the issue list

def sha(path):
    import hashlib
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def run_plain(args, **kw):
    """secbench-db as one process, with subprocess keywords (stdout, preexec_fn)."""
    p = subprocess.run([ARGS.db] + list(args), stderr=subprocess.PIPE, timeout=120, env=ENV,
                       **kw)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def mark_incomplete(path, name):
    with h5py.File(path, "r+") as f:
        f[name].attrs["_sb_incomplete"] = np.bool_(True)


def make_odd_store(path, ext_path):
    """Names a listing must get right, and datasets check must not call sound."""
    with h5py.File(ext_path, "w") as f:
        g = sb_group(f, "remote", 3, 3)
        sb_field(g, "x", np.arange(3, dtype=np.int32), 0)
    with h5py.File(path, "w") as f:
        g = sb_group(f, "outer", 4, 2)
        sb_field(g, "x", np.arange(4, dtype=np.int16), 0)
        inner = sb_group(g, "inner", 2, 1)  # a dataset inside another dataset's group
        sb_field(inner, "y", np.arange(2, dtype=np.uint8), 0)
        f["ext"] = h5py.ExternalLink(ext_path, "/remote")
        f["plain/soft"] = h5py.SoftLink("/outer/inner")
        sb_group(f, "new\nline", 1, 0)
        sb_group(f, "back\\slash", 1, 0)
        g = sb_group(f, "strings", 3, 3)
        sb_field(g, "n", np.arange(3, dtype=np.int64), 0)
        d = g.create_dataset("s", data=np.array(["a", "bb", "ccc"], dtype=object),
                             dtype=h5py.string_dtype())
        d.attrs["_sb_priority"] = np.int64(1)
        g = sb_group(f, "damaged", 2, 0)
        g.attrs["_sb_size"] = "two"
        g = sb_group(f, "unfinished", 5, 2)
        sb_field(g, "x", np.arange(5, dtype=np.uint8), 0)
        g.attrs["_sb_incomplete"] = np.bool_(True)


def case_listing(tmp):
    """ls, status and check name the same datasets (nested, linked, odd names);
    a name never breaks a line; check reports damaged, unsupported and
    unfinished datasets; status shows an unsupported field by its type."""
    store, ext = os.path.join(tmp, "odd.h5"), os.path.join(tmp, "ext.h5")
    make_odd_store(store, ext)
    code, out, err = run(["ls", store], expect=0)
    listed = out.decode().splitlines()
    for name in ["outer", "outer/inner", "ext", "new\\nline", "back\\\\slash", "strings",
                 "unfinished"]:
        check(name in listed, f"ls lists {name!r}: {listed}")
    check("new" not in listed and "line" not in listed, f"a newline splits no name: {listed}")
    code, out, err = run(["status", "--json", store], expect=1)  # 'damaged' fails to load
    try:
        doc = json.loads(out)
    except ValueError as e:
        check(False, f"status --json is JSON: {e}: {out!r}")
        return
    shown = [d["name"].replace("\\", "\\\\").replace("\n", "\\n") for d in doc["datasets"]]
    check(shown == listed, f"status lists what ls lists: {shown} vs {listed}")
    by_name = {d["name"]: d for d in doc["datasets"]}
    strings = by_name.get("strings", {})
    fields = {f["name"]: f for f in strings.get("fields", [])}
    check("error" not in strings and fields.get("s", {}).get("supported") is False
          and "string" in (fields.get("s", {}).get("dtype") or ""),
          f"status shows the unsupported field by its type: {strings}")
    check(by_name.get("unfinished", {}).get("incomplete") is True, "status: incomplete")
    code, out, err = run(["status", store], expect=1)
    check(b"field s: variable-length string (unsupported)" in out,
          f"status text names the unsupported type: {out!r}")
    code, out, err = run(["check", store], expect=1)
    lines = out.decode().splitlines()
    check(lines[-1].startswith(f"{store}: ") and f"in {len(listed)} datasets" in lines[-1],
          f"check walks what ls lists ({len(listed)}): {lines[-1]!r}")
    for name, word in [("strings", "variable-length string"), ("damaged", "_sb_size"),
                       ("unfinished", "_sb_incomplete")]:
        check(any(l.startswith(name + ": ") and word in l for l in lines),
              f"check reports {name} ({word}): {lines}")
    check(not any(l.startswith(("outer", "ext", "new", "back")) for l in lines[:-1]),
          f"check calls the others sound: {lines}")


def case_json(tmp):
    """JSON output: exact integers, valid UTF-8 whatever the names, and a
    document even when the store cannot be opened."""
    store = os.path.join(tmp, "big.h5")
    big = 2 ** 53 + 1
    with h5py.File(store, "w") as f:
        sb_group(f, "huge", big, 0)
        g = sb_group(f, b"caf\xe9", 2, 1)  # Latin-1, not UTF-8
        sb_field(g, "x", np.arange(2, dtype=np.uint8), 0)
        sb_asset(g, "n.json", np.frombuffer(b'{"n": 9007199254740993, "m": [18446744073709551615]}',
                                            np.uint8))
    code, out, err = run(["status", "--json", store], expect=0)
    try:
        doc = json.loads(out.decode("utf-8"))  # strict UTF-8
    except ValueError as e:
        check(False, f"status --json with a Latin-1 name is valid UTF-8 JSON: {e}: {out!r}")
        return
    caps = {d["name"]: d.get("capacity") for d in doc["datasets"]}
    check(caps.get("huge") == big, f"capacity {big} exact: {caps} {out!r}")
    check(b"9007199254740993" in out, f"printed as an integer: {out!r}")
    odd = [d for d in doc["datasets"] if d["name"] != "huge"]
    check(len(odd) == 1 and odd[0].get("name_hex") == b"caf\xe9".hex()
          and "\ufffd" in odd[0]["name"], f"a non-UTF-8 name: {odd}")
    missing = os.path.join(tmp, "none.h5")
    code, out, err = run(["status", "--json", missing], expect=1)
    try:
        doc = json.loads(out)
        check(doc.get("store") == missing and "does not exist" in doc.get("error", "")
              and doc.get("datasets") == [], f"status --json of a missing store: {doc}")
    except ValueError as e:
        check(False, f"status --json of a missing store prints JSON: {e}: {out!r}")
    check(len(error_lines(err)) == 1, f"and one error line: {err!r}")


def case_asset_json(tmp):
    store = os.path.join(tmp, "a.h5")
    text = b'{"n": 9007199254740993, "m": [18446744073709551615, 0.1, -3]}'
    with h5py.File(store, "w") as f:
        g = sb_group(f, "d", 1, 0)
        sb_asset(g, "n.json", np.frombuffer(text, np.uint8))
    code, out, err = run(["asset", store, "d", "n.json", "--json"], expect=0)
    check(json.loads(out) == json.loads(text), f"asset --json keeps every number: {out!r}")
    check(b"9007199254740993" in out and b"18446744073709551615" in out,
          f"integers printed exactly: {out!r}")


def case_asset_tty(tmp):
    """Binary bytes are not written to a terminal unless --raw."""
    import pty
    store = os.path.join(tmp, "made.h5")
    make_store(store)

    def on_tty(args):
        master, slave = pty.openpty()
        p = subprocess.Popen([ARGS.db] + args, stdout=slave, stderr=subprocess.PIPE, env=ENV)
        os.close(slave)
        got = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            got += chunk
        os.close(master)
        p.stderr.read()
        return p.wait(timeout=60), got

    code, got = on_tty(["asset", store, "traces", "window"])
    check(code == 0, f"asset to a terminal exits 0: {code}")
    check(b"\x00\x00\x80?" not in got and b"float32 (2, 3)" in got and b"24 bytes" in got
          and b"--raw" in got, f"a summary instead of binary: {got!r}")
    code, got = on_tty(["asset", store, "traces", "raw"])
    check(b"{binary" not in got and b"bytes of binary data" in got, f"raw bytes held back: {got!r}")
    code, got = on_tty(["asset", store, "traces", "window", "--raw"])
    check(code == 0 and b"\x80?" in got, f"--raw writes them: {got!r}")
    code, got = on_tty(["asset", store, "traces", "settings.json"])
    check(code == 0 and b'"scope"' in got, f"text goes to the terminal as is: {got!r}")


def case_stdout(tmp):
    """A failed write to stdout is a failure, for every command."""
    store = os.path.join(tmp, "made.h5")
    make_store(store)
    commands = [["status", store], ["status", "--json", store], ["ls", store],
                ["check", store], ["asset", store, "traces", "raw"],
                ["asset", store, "traces", "settings.json", "--json"], ["--help"],
                ["--version"], ["help", "export"], ["status", "--help"],
                ["benchmark", os.path.join(tmp, "b.h5"), "--max-size", "1000"]]
    scratch = os.path.join(tmp, "b.h5")
    for args in commands:
        for how in ("/dev/full", "closed"):
            if os.path.exists(scratch):
                os.unlink(scratch)
            if how == "closed":
                code, err = run_plain(args, stdout=subprocess.DEVNULL,
                                      preexec_fn=lambda: os.close(1))
            else:
                with open("/dev/full", "w") as full:
                    code, err = run_plain(args, stdout=full)
            check(code == 1 and "cannot write to standard output" in err,
                  f"{args} with stdout {how}: exit {code}, stderr {err!r}")


def case_fifo(tmp):
    """A FIFO given for any path is refused at once, on every rank alike."""
    store = os.path.join(tmp, "made.h5")
    make_store(store)
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    for args in [["status", fifo], ["status", "--json", fifo], ["ls", fifo], ["check", fifo],
                 ["asset", fifo, "traces", "raw"], ["export", "-o", os.path.join(tmp, "o.h5"),
                                                     fifo, "traces"],
                 ["export", "-o", fifo, store, "traces"], ["benchmark", fifo],
                 ["rm", fifo, "traces"], ["rm", "--force", fifo, "traces"]]:
        try:
            code, out, err = run(args)
        except subprocess.TimeoutExpired:
            check(False, f"{args}: hangs on a FIFO")
            continue
        lines = error_lines(err)
        check(code in (1, 2) and len(lines) == 1 and "not a regular file" in lines[0],
              f"{args}: one clear error: exit {code}, {err!r}")
    check(not os.path.exists(os.path.join(tmp, "o.h5")), "no output made from a FIFO")


def case_destroy(tmp):
    """Nothing the user did not ask to destroy is destroyed: every refusal
    leaves the file's bytes as they were."""
    store = os.path.join(tmp, "made.h5")
    make_store(store)
    before = sha(store)
    code, out, err = run(["benchmark", store, "--max-size", "1000"], expect=1)
    lines = error_lines(err)
    check(len(lines) == 1 and "--force" in lines[0] and "exists" in lines[0],
          f"benchmark refuses an existing store: {err!r}")
    check(sha(store) == before, "benchmark left the existing store's bytes unchanged")
    check(h5_model(store).keys() >= {"traces", "declared"}, "the datasets are still there")
    # export onto a name that exists
    out_store = os.path.join(tmp, "out.h5")
    run(["export", "-o", out_store, store, "traces"], expect=0)
    before_out = sha(out_store)
    code, out, err = run(["export", "-o", out_store, store, "traces"], expect=1)
    check("--rename" in err and "already exists" in err, f"export onto a name: {err!r}")
    check(sha(out_store) == before_out, "export onto an existing name changed no byte")
    # rm of a finished dataset without --force
    code, out, err = run(["rm", out_store, "traces"], expect=1)
    check("--force" in err, f"rm refuses a finished dataset: {err!r}")
    check(sha(out_store) == before_out, "a refused rm changed no byte")
    # --force does what it says
    scratch = os.path.join(tmp, "scratch.h5")
    shutil.copy(store, scratch)
    run(["benchmark", scratch, "--max-size", "1000", "--force"], expect=0)
    check(sorted(h5_model(scratch)) == ["bench_1000"], "--force overwrote the scratch store")


def case_rm(tmp):
    store = os.path.join(tmp, "made.h5")
    make_store(store)
    mark_incomplete(store, "nested/group/ds")
    run(["rm", store, "nested/group/ds"], expect=0)
    check("nested/group/ds" not in h5_model(store), "rm removed the unfinished dataset")
    run(["rm", store, "traces"], expect=1)
    run(["rm", "--force", store, "traces"], expect=0)
    model = h5_model(store)
    check("traces" not in model and "never_written" in model, f"rm --force: {sorted(model)}")
    code, out, err = run(["rm", store, "traces"], expect=1)
    check(len(error_lines(err)) == 1 and "traces" in err, f"rm of a missing dataset: {err!r}")
    run(["check", store], ranks=0, expect=0)


def make_spoilt(path, name):
    """A dataset of 100 rows whose field's 6th compressed chunk (rows 50..59)
    is garbage: reading it fails, the rows before it read fine."""
    with h5py.File(path, "w") as f:
        g = sb_group(f, name, 100, 100)
        d = g.create_dataset("x", data=np.arange(100 * 50, dtype=np.int32).reshape(100, 50),
                             compression="gzip", chunks=(10, 50))
        d.attrs["_sb_priority"] = np.int64(0)
    with h5py.File(path, "r") as f:
        info = f[name]["x"].id.get_chunk_info(5)
    with open(path, "r+b") as fh:
        fh.seek(info.byte_offset)
        fh.write(b"\xff" * info.size)


def case_export_unfinished(tmp):
    """Export of an unfinished dataset: the copy keeps the mark, with a
    warning; unsupported fields are left out with a warning; a failed export
    leaves no store behind."""
    store, ext = os.path.join(tmp, "odd.h5"), os.path.join(tmp, "ext.h5")
    make_odd_store(store, ext)
    out = os.path.join(tmp, "out.h5")
    code, o, err = run(["export", "-o", out, store, "unfinished"], expect=0)
    check("warning" in err and "unfinished" in err, f"a warning for an unfinished source: {err!r}")
    with h5py.File(out, "r") as f:
        check(bool(f["unfinished"].attrs.get("_sb_incomplete", False)),
              "the copy of an unfinished dataset keeps _sb_incomplete")
    code, o, err = run(["export", "-o", out, store, "strings"], expect=0)
    warn = [l for l in err.splitlines() if "warning" in l]
    check(len(warn) == 1 and "'s'" in warn[0] and "variable-length string" in warn[0],
          f"one warning names the field left out: {err!r}")
    with h5py.File(out, "r") as f:
        check("n" in f["strings"] and "s" not in f["strings"], "the supported field is copied")
    # A compressed chunk spoilt in the middle of a field: the export fails half-way.
    bad = os.path.join(tmp, "spoilt.h5")
    make_spoilt(bad, "z")
    fresh = os.path.join(tmp, "fresh.h5")
    code, o, err = run(["export", "-o", fresh, bad, "z", "--chunk-size", "10"], expect=1)
    check(len(error_lines(err)) == 1, f"one error line for a failed export: {err!r}")
    check(not os.path.exists(fresh), "a failed export leaves no store it created")
    run(["export", "-o", out, bad, "z"], expect=1)
    with h5py.File(out, "r") as f:
        check("z" not in f, "a failed export leaves no partial copy in an existing store")


def python_cli_list(datasets, long):
    """What Python secbench's cli_list prints (secbench/storage/__main__.py)."""
    import textwrap
    out = []
    for key, values in datasets.items():
        out.append(f"{key}:")
        out.append(f"    Name: {values.get('name')}")
        out.append(f"    Path: {values.get('path')}")
        if long:
            desc = textwrap.indent((values.get("description") or "").strip(), " " * 8)
            out.append(f"    Description:\n{desc}")
        out.append("")
    return "".join(line + "\n" for line in out)


def case_list(tmp):
    """secbench-db list [-l] [INDEX]: Python's output, from INDEX or the
    environment variable; errors on one line."""
    os.makedirs(os.path.join(tmp, "docs"))
    with open(os.path.join(tmp, "docs", "aes.md"), "w") as fh:
        fh.write("\n  AES on the STM32 board.\n\n  Traces of 16 rounds:\n\tkey fixed.  \n\n")
    index = os.path.join(tmp, "index.toml")
    with open(index, "w") as fh:
        fh.write('[datasets.aes_hw]\nname = "AES hardware"\npath = "/data/aes_hw.h5"\n'
                 'description_file = "docs/aes.md"\n\n'
                 '[datasets."rsa.sw"]\npath = "rsa.h5"\nunknown = 3\n')
    with open(os.path.join(tmp, "docs", "aes.md")) as fh:
        desc = fh.read()
    want = {"aes_hw": {"name": "AES hardware", "path": "/data/aes_hw.h5", "description": desc},
            "rsa.sw": {"path": "rsa.h5"}}
    for long in (False, True):
        flag = ["-l"] if long else []
        code, out, err = run(["list"] + flag + [index], expect=0)
        check(out.decode() == python_cli_list(want, long),
              f"list {flag}: {out.decode()!r}\nwant {python_cli_list(want, long)!r}")
        global ENV
        saved = ENV
        ENV = dict(saved, SECBENCH_STORAGE_DATASETS_INDEX=index)
        try:
            code, out2, err = run(["list", "--long"] if long else ["list"], expect=0)
        finally:
            ENV = saved
        check(out2 == out, f"list from the environment variable: {out2!r}")
    env = {k: v for k, v in ENV.items() if k != "SECBENCH_STORAGE_DATASETS_INDEX"}
    saved, ENV = ENV, env
    try:
        code, out, err = run(["list"], expect=0)
        check(out == b"", f"no index: nothing listed: {out!r}")
    finally:
        ENV = saved
    bad = os.path.join(tmp, "bad.toml")
    with open(bad, "w") as fh:
        fh.write("[datasets.x\npath = 3\n")
    for path in (bad, os.path.join(tmp, "absent.toml")):
        code, out, err = run(["list", path], expect=1)
        lines = error_lines(err)
        check(len(lines) == 1 and os.path.basename(path) in lines[0], f"list {path}: {err!r}")
    fifo = os.path.join(tmp, "index.fifo")
    os.mkfifo(fifo)
    try:
        code, out, err = run(["list", fifo], expect=1)
        check(len(error_lines(err)) == 1, f"list of a FIFO: {err!r}")
    except subprocess.TimeoutExpired:
        check(False, "list hangs on a FIFO index")


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
