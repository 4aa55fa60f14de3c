#!/usr/bin/python3
"""Tests of the benchmark driver bench/run.sh as users run it (ctest runs them).

  test_run.py smoke --build-dir B --work W
      run.sh --smoke --out W/out: every program, the summary (--check) and the
      charts; the results are where told, the source tree is left as it was
      (git status --porcelain unchanged: nothing written into bench/results),
      env.txt records the commit and "+dirty" as git sees the tree.
  test_run.py one-workload --build-dir B --work W
      run.sh --smoke --workloads append with no --out: a new timestamped
      directory under $SB_BENCH_RESULTS holds the run, with the append chart
      and no other chart.
  test_run.py update-reference --build-dir B --work W
      --update-reference on a scratch reference ($SB_BENCH_REFERENCE): refused
      with --smoke or --out; a failed run leaves the reference as it was; a
      successful one replaces the run's files, keeps the others (rerun-*), and
      leaves no staging directory behind.

Standard library only. Exit 0 when every assertion holds.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
RUN = os.path.join(HERE, "run.sh")
HAVE_GNUPLOT = shutil.which("gnuplot") is not None
RUN_FILES = {"bench.csv", "env.txt", "summary.md", "summary.csv", "summary_pivot.md", "logs"}


class Failed(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failed(what)
    print("ok: " + what)


def git(*args):
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
    try:
        p = subprocess.run(["git", "-C", SRC] + list(args), capture_output=True, text=True,
                           env=env, check=False)
    except FileNotFoundError:
        return None
    return p.stdout if p.returncode == 0 else None


def tree_state():
    """git status --porcelain of the source tree (None: not a git checkout)."""
    return git("status", "--porcelain")


def expected_rev():
    sha = git("rev-parse", "--short", "HEAD")
    if sha is None:
        return None
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return sha.strip() + ("+dirty" if dirty else "")


def run(args, env_extra=None, check=True):
    env = dict(os.environ)
    env.update(env_extra or {})
    p = subprocess.run(["bash", RUN] + args, capture_output=True, text=True, env=env, check=False)
    if check and p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        raise Failed("run.sh %s exited %d" % (" ".join(args), p.returncode))
    return p


def read_env(path):
    with open(path) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def check_tree_unchanged(before, what):
    if before is None:
        print("note: %s is not a git checkout: the source-tree check is skipped" % SRC)
        return
    after = tree_state()
    expect(after == before, "%s leaves the source tree as it was (git status --porcelain: "
           "%r before, %r after)" % (what, before, after))


def pngs(d):
    return sorted(f for f in os.listdir(d) if f.endswith(".png"))


def no_gnuplot_warning(out):
    log = os.path.join(out, "logs", "gnuplot.log")
    text = open(log).read() if os.path.exists(log) else ""
    expect("warning" not in text.lower(), "gnuplot drew the charts without a warning: %r"
           % text[:300])


def test_smoke(a):
    before = tree_state()
    rev = expected_rev()
    out = os.path.join(a.work, "out")
    shutil.rmtree(out, ignore_errors=True)
    p = run(["--smoke", "--build-dir", a.build_dir, "--out", out,
             "--data-dir", os.path.join(a.work, "data")])
    expect(("results: " + out) in p.stderr, "run.sh says where its results go")
    expect(RUN_FILES <= set(os.listdir(out)), "the results are in --out %s: %s"
           % (out, sorted(os.listdir(out))))
    env = read_env(os.path.join(out, "env.txt"))
    expect(env.get("results_dir") == out, "env.txt records the results directory")
    if rev is not None:
        expect(env.get("git") == rev, "env.txt records the commit as git sees the tree: "
               "%s (expected %s)" % (env.get("git"), rev))
    # Every variant the programs offer was measured: commits every K batches
    # with fsync, and each write mode.
    csv = open(os.path.join(out, "bench.csv")).read()
    expect(re.search(r"^extend-\w+-r\d+-sync-k\d+,", csv, re.M) is not None,
           "the -sync-k<K> extend lines were measured")
    for impl in ("sb-independent", "sb-collective"):
        expect(",%s," % impl in csv, "the %s extend side was measured" % impl)
    want = ["append_rate.png", "bandwidth_vs_ranks.png", "meta_vs_datasets.png",
            "ratio_vs_ranks.png"] if HAVE_GNUPLOT else []
    expect(pngs(out) == want, "the charts of every workload: %s" % pngs(out))
    if HAVE_GNUPLOT:
        no_gnuplot_warning(out)
    check_tree_unchanged(before, "a smoke run")


def test_one_workload(a):
    before = tree_state()
    base = os.path.join(a.work, "results-base")
    shutil.rmtree(base, ignore_errors=True)
    p = run(["--smoke", "--workloads", "append", "--build-dir", a.build_dir],
            {"SB_BENCH_RESULTS": base})
    made = os.listdir(base) if os.path.isdir(base) else []
    expect(len(made) == 1, "one new results directory under SB_BENCH_RESULTS: %s" % made)
    expect(re.match(r"^\d{8}T\d{6}Z-([0-9a-f]+|unknown)(-\d+)?$", made[0]) is not None,
           "named by date and commit: %s" % made[0])
    out = os.path.join(base, made[0])
    expect(("results: " + out) in p.stderr and ("done: " + out) in p.stderr,
           "run.sh says where the results are at the start and at the end")
    expect(RUN_FILES <= set(os.listdir(out)), "the run's files are there")
    plots = sorted(f for f in os.listdir(out) if f.startswith("plot_"))
    expect(plots == ["plot_append.dat"], "plot data of append only: %s" % plots)
    expect(pngs(out) == (["append_rate.png"] if HAVE_GNUPLOT else []),
           "only the append chart: %s" % pngs(out))
    if HAVE_GNUPLOT:
        no_gnuplot_warning(out)
    md = open(os.path.join(out, "summary.md")).read()
    expect("## 2. Serial append" in md and "## 1. Collective extend" not in md,
           "the summary has the append table only")
    check_tree_unchanged(before, "a run without --out")
    # Results inside the source tree only where git ignores them.
    tracked = os.path.join(SRC, "bench", "results-of-a-test")
    p = run(["--smoke", "--workloads", "append", "--build-dir", a.build_dir],
            {"SB_BENCH_RESULTS": tracked}, check=False)
    expect(p.returncode == 2 and "inside the source tree" in p.stderr
           and not os.path.exists(tracked),
           "results under bench/ are refused: %s" % p.stderr.strip()[-200:])
    check_tree_unchanged(before, "a refused run")


def snapshot(d):
    snap = {}
    for root, _, files in os.walk(d):
        for f in files:
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                snap[os.path.relpath(path, d)] = fh.read()
    return snap


def leftovers(parent):
    return [f for f in os.listdir(parent) if f.startswith(".ref.")]


def test_update_reference(a):
    before = tree_state()
    ref = os.path.join(a.work, "ref")
    base = os.path.join(a.work, "ref-runs")
    for d in (ref, base):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(ref, "logs"))
    old = {"bench.csv": "old csv\n", "summary.md": "old summary\n", "append_rate.png": "old png",
           "plot_append.dat": "old dat\n", "logs/append.log": "old log\n",
           "rerun-latch.csv": "kept\n", "notes.md": "kept too\n"}
    for name, text in old.items():
        with open(os.path.join(ref, name), "w") as f:
            f.write(text)
    env = {"SB_BENCH_REFERENCE": ref, "SB_BENCH_RESULTS": base}
    small = ["--update-reference", "--workloads", "meta", "--meta-counts", "10", "--reps", "1",
             "--build-dir", a.build_dir]
    snap = snapshot(ref)

    for bad, why in (([*small, "--smoke"], "--smoke"),
                     ([*small, "--out", os.path.join(a.work, "x")], "--out")):
        p = run(bad, env, check=False)
        expect(p.returncode == 2 and "--update-reference" in p.stderr,
               "--update-reference with %s is refused: %s" % (why, p.stderr.strip()[-200:]))
    p = run(["--out", ref, "--workloads", "meta", "--build-dir", a.build_dir], env, check=False)
    expect(p.returncode == 2 and "use --update-reference" in p.stderr,
           "--out into the reference is refused")
    expect(snapshot(ref) == snap, "the refused runs left the reference as it was")

    # A run that fails half-way (the launcher fails once the results
    # directory exists) leaves the reference as it was.
    p = run(small, dict(env, SB_MPIEXEC="false"), check=False)
    expect(p.returncode != 0, "the run with a failing launcher fails")
    expect(snapshot(ref) == snap, "a failed run leaves the reference as it was")
    expect(leftovers(a.work) == [], "and no staging directory")

    p = run(small, env)
    now = snapshot(ref)
    expect(b"meta-create-n10," in now.get("bench.csv", b""), "the new bench.csv is in the reference")
    expect(now.get("rerun-latch.csv") == b"kept\n" and now.get("notes.md") == b"kept too\n",
           "files a run does not write are kept")
    expect("append_rate.png" not in now and "plot_append.dat" not in now
           and "logs/append.log" not in now,
           "the old run's files are gone (no append chart without append)")
    if HAVE_GNUPLOT:
        expect("meta_vs_datasets.png" in now, "the new chart is there")
    expect(leftovers(a.work) == [], "no staging or old directory is left: %s" % leftovers(a.work))
    runs = os.listdir(base) if os.path.isdir(base) else []
    expect(len(runs) == 2 and any(snapshot(os.path.join(base, r)).get("bench.csv") ==
                                  now["bench.csv"] for r in runs),
           "the run also kept its own results directory")
    check_tree_unchanged(before, "--update-reference of a scratch reference")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("test", choices=["smoke", "one-workload", "update-reference"])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--work", required=True, help="scratch directory of this test")
    a = ap.parse_args()
    a.build_dir = os.path.abspath(a.build_dir)
    a.work = os.path.abspath(a.work)
    os.makedirs(a.work, exist_ok=True)
    try:
        {"smoke": test_smoke, "one-workload": test_one_workload,
         "update-reference": test_update_reference}[a.test](a)
    except Failed as e:
        print("FAILED: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
