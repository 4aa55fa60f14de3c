#!/usr/bin/python3
"""secbench-db export of every dataset of the Python secbench fixtures reads
back in Python exactly as the original did (compare_stores.py: Python
secbench's reading rules on h5py, against the dump the real Python secbench
made of the original).

    export_fixtures.py SECBENCH_DB DATA_DIR WORKDIR [MPIEXEC ARGS...]

With MPIEXEC, secbench-db runs under it (the chunked parallel export)."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    db, data, work = sys.argv[1:4]
    launcher = sys.argv[4:]
    os.makedirs(work, exist_ok=True)
    failures = checked = 0
    for fixture in ("dtypes", "assets", "layout", "exported"):
        expected = os.path.join(data, "python-secbench", fixture + ".expected.json")
        with open(expected) as f:
            dump = json.load(f)
        for ds in dump["datasets"]:
            name = ds["name"]
            out = os.path.join(work, "%s-%s.h5" % (fixture, name.replace("/", "_")))
            if os.path.exists(out):
                os.remove(out)
            cmd = launcher + [db, "export", "-o", out, "--chunk-size", "2",
                              os.path.join(data, "python-secbench", fixture + ".h5"), name]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                print("FAIL %s %s: export exited %d: %s" % (fixture, name, r.returncode,
                                                           r.stderr.strip()))
                failures += 1
                continue
            # The copy is shrunk (capacity = size), as Python's default export.
            r = subprocess.run([sys.executable, os.path.join(HERE, "compare_stores.py"), out,
                                expected, "--dataset", name, "--capacity", "size"],
                               capture_output=True, text=True)
            checked += 1
            if r.returncode != 0:
                print("FAIL %s %s: the copy does not read as the original:\n%s" %
                      (fixture, name, r.stdout + r.stderr))
                failures += 1
    print("%d exports compared, %d failure(s)" % (checked, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
