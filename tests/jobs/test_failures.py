"""How the three programs fail: one error line, the same status on every
rank, and the store file a failed run created taken away.

  fullfs      a small tmpfs fills up under sb-acquire, sb-preprocess,
              secbench-db export (while copying, and when the create itself
              fails), benchmark and rm, plainly and at --ranks ranks: exit 1
              and exactly one error line (no follow-on "takes no more writes"
              from the flushes and closes on the way out), naming the full
              disk; the store file the run created is gone, except what
              sb-acquire reported committed (kept, marked unfinished, to
              resume). Exit 77 (skipped) where a tmpfs cannot be mounted.
  stdout      stdout is /dev/full or closed: sb-acquire, sb-preprocess and
              benchmark exit 1 with one line "cannot write to standard
              output: REASON" (No space left on device for /dev/full, as
              secbench-db says), and what the run created is removed (the
              store file, or the output dataset in an existing store), so
              that a rerun is not refused; a resumed acquisition keeps its
              committed rows.
"""
import contextlib
import os
import subprocess
import sys
import time

from jobs_common import (Jobs, check, committed_lines, error_lines, expect_one_error, fail,
                         incomplete, parse_args, read_dataset)

SKIP = 77
FULL = r"No space left on device"


@contextlib.contextmanager
def tmpfs(path, size):
    """A fresh tmpfs of `size` bytes at path, unmounted afterwards."""
    os.makedirs(path, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d" % size, "tmpfs", path],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print("SKIP: cannot mount a tmpfs at %s (%s): the full-disk cases need one"
              % (path, p.stderr.strip() or "exit %d" % p.returncode))
        sys.exit(SKIP)
    try:
        yield path
    finally:
        # The ranks of the last job may hold it a moment longer.
        for _ in range(50):
            if subprocess.run(["umount", path], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        else:
            fail("cannot unmount the tmpfs at %s" % path)


def fill(directory):
    """Take every free byte of the file system at directory."""
    with open(os.path.join(directory, "filler"), "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def one_error(p, pattern, what):
    expect_one_error(p, pattern, code=1, what=what)
    check("takes no more writes" not in p.stderr,
          "%s: a follow-on failure was reported: %r" % (what, p.stderr))


def stores(directory):
    """The store files in directory (lock files and the filler aside)."""
    return sorted(n for n in os.listdir(directory) if n.endswith(".h5"))


def mode_fullfs(jobs, nranks):
    # The sources live outside the small file system.
    src = jobs.path("src.h5")
    jobs.run(1, [jobs.acquire, src, "--traces", "20000", "--samples", "100"])
    small = jobs.path("src_small.h5")
    jobs.run(1, [jobs.acquire, small, "--traces", "200", "--samples", "64"])
    disk = jobs.path("full")
    for n in (0, nranks):
        what = "%d ranks" % n
        # Through MPI-IO the library's message says only that the write
        # failed, not why.
        full = FULL if n == 0 else FULL + r"|write failed"
        with tmpfs(disk, 1 << 20):
            # sb-acquire: the write fails after a few commits; the flushes and
            # closes that follow print nothing more. What it reported
            # committed stays, marked unfinished, for a rerun to resume.
            a = os.path.join(disk, "a.h5")
            p = jobs.run(n, [jobs.acquire, a, "--traces", "20000", "--samples", "100",
                             "--commit-every", "1000"], expect=1)
            one_error(p, full, "sb-acquire on a full disk at %s" % what)
            commits = committed_lines(p.stdout)
            check(commits and os.path.exists(a),
                  "sb-acquire at %s: commits %r, stores %r" % (what, commits, stores(disk)))
            check(incomplete(a, "acquisition") and
                  read_dataset(a, "acquisition")[1] >= commits[-1],
                  "sb-acquire at %s: the committed rows are not kept marked unfinished" % what)
            os.unlink(a)

            # The same before any commit (--commit-every 0): the store goes.
            p = jobs.run(n, [jobs.acquire, a, "--traces", "20000", "--samples", "100",
                             "--commit-every", "0"], expect=1)
            one_error(p, full, "sb-acquire, no commit, at %s" % what)
            check(stores(disk) == [], "sb-acquire at %s left %r" % (what, stores(disk)))

            # export: the copy fails half-way; the store it created goes.
            b = os.path.join(disk, "b.h5")
            p = jobs.run(n, [jobs.db, "export", "-o", b, src, "acquisition"], expect=1)
            one_error(p, full, "export on a full disk at %s" % what)
            check(stores(disk) == [], "export at %s left %r" % (what, stores(disk)))

            # sb-preprocess into a new store, and into the source's own store.
            out = os.path.join(disk, "p.h5")
            p = jobs.run(n, [jobs.preprocess, src, out], expect=1)
            one_error(p, full, "sb-preprocess on a full disk at %s" % what)
            check(stores(disk) == [], "sb-preprocess at %s left %r" % (what, stores(disk)))

            # benchmark: a new store of its own.
            p = jobs.run(n, [jobs.db, "benchmark", os.path.join(disk, "bench.h5"),
                             "--max-size", "10000"], expect=1)
            one_error(p, full, "benchmark on a full disk at %s" % what)
            check(stores(disk) == [], "benchmark at %s left %r" % (what, stores(disk)))

            # A store in place, then a disk with no byte left: the create of
            # a new store fails, and the file it began goes too.
            keep = os.path.join(disk, "keep.h5")
            jobs.run(n, [jobs.db, "export", "-o", keep, small, "acquisition"])
            jobs.run(n, [jobs.acquire, keep, "--dataset", "part", "--traces", "100",
                         "--samples", "16", "--max-rows", "10"])
            fill(disk)
            p = jobs.run(n, [jobs.db, "export", "-o", b, small, "acquisition"], expect=1)
            one_error(p, r"b\.h5", "export creating a store on a full disk at %s" % what)
            check(stores(disk) == ["keep.h5"], "export at %s left %r" % (what, stores(disk)))
            check("b.h5.lock" not in os.listdir(disk),
                  "export at %s left an empty lock file b.h5.lock" % what)
            p = jobs.run(n, [jobs.db, "export", "-o", keep, small, "acquisition", "--rename",
                             "copy"], expect=1)
            check(len(error_lines(p.stderr)) == 1,
                  "export into a full store at %s: %r" % (what, p.stderr))
            check(stores(disk) == ["keep.h5"], "export into keep.h5 at %s" % what)
            p = jobs.run(n, [jobs.preprocess, small, keep], expect=1)
            check(len(error_lines(p.stderr)) == 1,
                  "sb-preprocess into a full store at %s: %r" % (what, p.stderr))
            # rm on a full disk succeeds or fails with one line.
            p = jobs.run(n, [jobs.db, "rm", keep, "part"], expect=None)
            check(p.returncode == 0 or (p.returncode == 1 and len(error_lines(p.stderr)) == 1),
                  "rm on a full disk at %s: exit %d %r" % (what, p.returncode, p.stderr))
            check(stores(disk) == ["keep.h5"], "the store in place is kept at %s" % what)


def run_stdout(argv, how):
    """argv as one process with stdout /dev/full or closed."""
    if how == "closed":
        return subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True, timeout=240, preexec_fn=lambda: os.close(1))
    with open("/dev/full", "w") as full:
        return subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, text=True,
                              timeout=240)


def mode_stdout(jobs):
    src = jobs.path("src.h5")
    jobs.run(1, [jobs.acquire, src, "--traces", "100", "--samples", "32"])
    for how, reason in (("/dev/full", FULL), ("closed", r"Bad file descriptor")):
        pattern = r"cannot write to standard output: " + reason
        what = "stdout %s" % how
        # sb-acquire: the first 'committed N' cannot be printed.
        v = jobs.path("v.h5")
        p = run_stdout([jobs.acquire, v, "--traces", "10", "--samples", "10"], how)
        one_error(p, pattern, "sb-acquire, " + what)
        check(not os.path.exists(v), "sb-acquire, %s: the store it created is left" % what)
        jobs.run(0, [jobs.acquire, v, "--traces", "10", "--samples", "10"])
        os.unlink(v)
        # A resumed acquisition: the store was there, its rows stay.
        r = jobs.path("r.h5")
        jobs.run(0, [jobs.acquire, r, "--traces", "30", "--samples", "16", "--commit-every",
                     "10", "--max-rows", "10"])
        p = run_stdout([jobs.acquire, r], how)
        one_error(p, pattern, "sb-acquire resuming, " + what)
        check(os.path.exists(r) and read_dataset(r, "acquisition")[1] >= 10,
              "sb-acquire resuming, %s: the user's store lost its rows" % what)
        p = jobs.run(0, [jobs.acquire, r])
        check(committed_lines(p.stdout)[-1] == 30, "resume after %s: %r" % (what, p.stdout))
        os.unlink(r)

        # sb-preprocess into a new store: the store goes, a rerun works.
        out = jobs.path("p.h5")
        p = run_stdout([jobs.preprocess, src, out, "--window", "0:10"], how)
        one_error(p, pattern, "sb-preprocess, " + what)
        check(not os.path.exists(out), "sb-preprocess, %s: the store it created is left" % what)
        # Into an existing store: the output dataset goes.
        jobs.run(0, [jobs.acquire, out, "--dataset", "other", "--traces", "5", "--samples",
                     "8"])
        p = run_stdout([jobs.preprocess, src, out, "--window", "0:10"], how)
        one_error(p, pattern, "sb-preprocess into a store, " + what)
        p = jobs.run(0, [jobs.db, "ls", out])
        check(p.stdout.split() == ["other"],
              "sb-preprocess, %s: datasets left %r" % (what, p.stdout))
        p = jobs.run(0, [jobs.preprocess, src, out, "--window", "0:10"])
        check("preprocessed 100 rows" in p.stdout, "the rerun after %s: %r" % (what, p.stdout))
        os.unlink(out)

        # benchmark: its new store goes.
        bench = jobs.path("bench.h5")
        p = run_stdout([jobs.db, "benchmark", bench, "--max-size", "1000"], how)
        one_error(p, pattern, "benchmark, " + what)
        check(not os.path.exists(bench), "benchmark, %s: the store it created is left" % what)
        # A command that creates nothing: one line, the same reason.
        p = run_stdout([jobs.db, "ls", src], how)
        one_error(p, pattern, "ls, " + what)
        p = run_stdout([jobs.acquire, src, "--verify"], how)
        one_error(p, pattern, "--verify, " + what)


def main():
    args = parse_args(["fullfs", "stdout"])
    if not args.preprocess or not args.db:
        fail("--preprocess and --db are required")
    jobs = Jobs(args)
    if args.mode == "fullfs":
        mode_fullfs(jobs, args.ranks)
    else:
        mode_stdout(jobs)
    print("ok: failures %s" % args.mode)


if __name__ == "__main__":
    main()
