"""sb-acquire: rows independent of the rank count, commits, --verify, resume.

  ranks       1, 2, 3, 4 ranks (and a plain process) write byte-identical
              fields; 'committed N' lines grow to --traces; the ciphertexts are
              AES-128 of the plaintexts (checked with the test's own AES); each
              store verifies at another rank count.
  corrupt     one flipped byte makes --verify (at --ranks ranks) fail with
              exactly 1 mismatch, a second one with 2.
  resume      --max-rows stops early, a rerun at another rank count resumes at
              the size and ends identical to an uninterrupted run; a rerun
              with other settings is refused; a job killed after a commit
              resumes and verifies.
  rows        --verify --rows START:END checks only those rows: a corrupt row
              outside the range passes, inside it fails; a bad range is a
              usage error naming --rows.
  badargs     bad options and bad stores fail with one clear error line.
"""
import os
import re
import subprocess
import time

import h5py
import numpy as np

from jobs_common import (Jobs, aes128_encrypt, check, committed_lines, expect_one_error, fail,
                         incomplete, json_asset, kill_session, parse_args, read_dataset)

FIELDS = ["data", "plaintext", "ciphertext", "key"]


def same_fields(a, b, what):
    for f in FIELDS:
        check(a[f].dtype == b[f].dtype and a[f].shape == b[f].shape,
              "%s: field %s is %s%s vs %s%s" % (what, f, a[f].dtype, a[f].shape,
                                                   b[f].dtype, b[f].shape))
        if not np.array_equal(a[f], b[f]):
            rows = np.nonzero((a[f] != b[f]).reshape(len(a[f]), -1).any(axis=1))[0]
            fail("%s: field %s differs in %d rows, first %s" % (what, f, len(rows), rows[:5]))


def verify(jobs, nranks, store, rows, mismatches=0, dataset=None):
    argv = [jobs.acquire, store, "--verify", "--chunk", "170"]
    if dataset:
        argv += ["--dataset", dataset]
    p = jobs.run(nranks, argv, expect=0 if mismatches == 0 else 1)
    want = "verified %d rows, %d mismatches" % (rows, mismatches)
    check(want in p.stdout, "verify at %d ranks of %s: want '%s', got stdout %r stderr %r"
          % (nranks, store, want, p.stdout, p.stderr))
    return p


def mode_ranks(jobs):
    traces, samples = 2000, 500
    ref = None
    for n in (1, 2, 3, 4, 0):
        store = jobs.path("acq_np%d.h5" % n)
        p = jobs.run(n, [jobs.acquire, store, "--traces", str(traces), "--samples",
                         str(samples), "--batch", "300", "--commit-every", "500",
                         "--seed", "11", "--progress"])
        commits = committed_lines(p.stdout)
        check(commits == [500, 1000, 1500, 2000],
              "%d ranks: committed lines %s, want 500, 1000, 1500, 2000" % (n, commits))
        check("rows/s" in p.stderr, "%d ranks: --progress printed no rate: %r" % (n, p.stderr))
        fields, size, cap, assets = read_dataset(store, "acquisition")
        check(size == traces and cap == traces, "%d ranks: size %d capacity %d" % (n, size, cap))
        check(fields["data"].dtype == np.int8 and fields["data"].shape == (traces, samples),
              "%d ranks: data is %s %s" % (n, fields["data"].dtype, fields["data"].shape))
        s = json_asset(assets, "acquisition.json")
        check(s["seed"] == 11 and s["traces"] == traces and s["samples"] == samples and
              s["dtype"] == "int8" and s["batch"] == 300 and s["ranks"] == max(n, 1),
              "%d ranks: settings asset %r" % (n, s))
        check(s["leakage_points"] == [125, 250, 375], "leakage points %r" % s["leakage_points"])
        if ref is None:
            ref = fields
            key = bytes.fromhex(s["key"])
            check((fields["key"] == np.frombuffer(key, np.uint8)).all(),
                  "key field is not the settings' key")
            for i in (0, 1, 777, traces - 1):
                ct = aes128_encrypt(key, bytes(fields["plaintext"][i]))
                check(ct == bytes(fields["ciphertext"][i]),
                      "row %d: ciphertext %s is not AES(key, plaintext) = %s"
                      % (i, bytes(fields["ciphertext"][i]).hex(), ct.hex()))
            check(len({bytes(r) for r in fields["plaintext"]}) == traces,
                  "plaintexts repeat")
        else:
            same_fields(ref, fields, "%d ranks vs 1 rank" % n)
        verify(jobs, n % 4 + 1, store, traces)

    # Rounds smaller than the rank count: some ranks write nothing, and a
    # verify of 2 rows at 4 ranks leaves two ranks without rows.
    tiny = {}
    for n in (1, 4):
        store = jobs.path("tiny_np%d.h5" % n)
        p = jobs.run(n, [jobs.acquire, store, "--traces", "10", "--samples", "16", "--batch",
                         "3", "--commit-every", "5"])
        check(committed_lines(p.stdout) == [5, 10], "tiny at %d ranks: %r" % (n, p.stdout))
        tiny[n] = read_dataset(store, "acquisition")[0]
    same_fields(tiny[1], tiny[4], "batch 3 at 4 ranks vs 1 rank")
    store = jobs.path("two_rows.h5")
    jobs.run(4, [jobs.acquire, store, "--traces", "10", "--samples", "16", "--max-rows", "2"])
    verify(jobs, 4, store, 2)

    # int16, another seed, a batch that does not divide among ranks
    ref = None
    for n in (3, 2):
        store = jobs.path("acq16_np%d.h5" % n)
        p = jobs.run(n, [jobs.acquire, store, "--dataset", "bench/aes", "--traces", "301",
                         "--samples", "64", "--dtype", "int16", "--batch", "7",
                         "--commit-every", "0", "--seed", "5"])
        check(committed_lines(p.stdout) == [301], "int16: commits %r" % p.stdout)
        fields, size, cap, assets = read_dataset(store, "bench/aes")
        check(fields["data"].dtype == np.int16, "int16 run stored %s" % fields["data"].dtype)
        check(int(np.abs(fields["data"].astype(np.int32)).max()) > 255,
              "int16 samples do not use the int16 range")
        if ref is None:
            ref = fields
        else:
            same_fields(ref, fields, "int16 at %d ranks vs 3" % n)
        verify(jobs, 4, store, 301, dataset="bench/aes")


def flip(store, dataset, field, row, col):
    with h5py.File(store, "r+") as f:
        d = f[dataset][field]
        v = d[row]
        v[col] ^= 0x5A if d.dtype == np.uint8 else 1
        d[row] = v


def mode_corrupt(jobs, nranks):
    store = jobs.path("corrupt.h5")
    jobs.run(2, [jobs.acquire, store, "--traces", "600", "--samples", "200", "--batch", "128"])
    verify(jobs, nranks, store, 600)
    flip(store, "acquisition", "data", 123, 17)
    p = verify(jobs, nranks, store, 600, mismatches=1)
    check(re.search(r"row 123: data differs", p.stderr),
          "the mismatch report does not name row 123: %r" % p.stderr)
    flip(store, "acquisition", "ciphertext", 599, 0)
    p = verify(jobs, nranks, store, 600, mismatches=2)
    check("row 599: ciphertext differs" in p.stderr, "row 599 not named: %r" % p.stderr)


def mode_rows(jobs, nranks):
    store = jobs.path("rows.h5")
    jobs.run(2, [jobs.acquire, store, "--traces", "600", "--samples", "64", "--batch", "100"])
    flip(store, "acquisition", "data", 123, 5)
    flip(store, "acquisition", "key", 500, 0)

    def rows(spec, checked, mismatches):
        p = jobs.run(nranks, [jobs.acquire, store, "--verify", "--chunk", "37", "--rows", spec],
                     expect=0 if mismatches == 0 else 1)
        lo, hi = spec.split(":")
        hi = hi or "600"
        want = "verified %d rows, %d mismatches in rows %s:%s of 600" % (checked, mismatches,
                                                                        lo, hi)
        check(want in p.stdout, "--rows %s at %d ranks: want '%s', got stdout %r stderr %r"
              % (spec, nranks, want, p.stdout, p.stderr))
        return p

    # The two damaged rows lie outside these ranges (the ends are exclusive).
    rows("124:500", 376, 0)
    rows("501:", 99, 0)
    rows("0:123", 123, 0)
    rows("600:", 0, 0)
    p = rows("123:124", 1, 1)
    check("row 123: data differs" in p.stderr, "row 123 not named: %r" % p.stderr)
    p = rows("400:", 200, 1)
    check("row 500: key differs" in p.stderr, "row 500 not named: %r" % p.stderr)
    # The whole store, with or without --rows, sees both.
    rows("0:", 600, 2)
    verify(jobs, nranks, store, 600, mismatches=2)
    a = jobs.acquire
    expect_error(jobs, nranks, [a, store, "--verify", "--rows", "50:10"], r"--rows 50:10", code=2)
    expect_error(jobs, nranks, [a, store, "--verify", "--rows", "10:601"], r"--rows 10:601.*600",
                 code=2)
    for bad in ("10", ":10", "x:5", "5:x", "-1:5", "1:2:3"):
        expect_error(jobs, nranks, [a, store, "--verify", "--rows", bad], r"--rows", code=2)
    expect_error(jobs, nranks, [a, store, "--rows", "0:10"], r"--rows.*--verify", code=2)


def mode_resume(jobs):
    base = ["--traces", "1000", "--samples", "100", "--commit-every", "100", "--batch", "64",
            "--seed", "3"]
    whole = jobs.path("whole.h5")
    jobs.run(1, [jobs.acquire, whole] + base)

    part = jobs.path("part.h5")
    p = jobs.run(3, [jobs.acquire, part] + base + ["--max-rows", "350"])
    check(committed_lines(p.stdout) == [100, 200, 300, 350],
          "--max-rows 350: commits %s" % committed_lines(p.stdout))
    _, size, _, _ = read_dataset(part, "acquisition")
    check(size == 350, "after --max-rows 350 the size is %d" % size)
    verify(jobs, 2, part, 350)

    p = jobs.run(2, [jobs.acquire, part, "--seed", "4"], expect=1)
    check("seed" in p.stderr and p.stderr.count(": error:") == 1,
          "a rerun with another seed is not refused clearly: %r" % p.stderr)

    p = jobs.run(2, [jobs.acquire, part, "--batch", "50"])
    check("resuming" in p.stderr, "no resume message: %r" % p.stderr)
    check(committed_lines(p.stdout) == [400, 500, 600, 700, 800, 900, 1000],
          "resumed commits %s" % committed_lines(p.stdout))
    a, _, _, assets = read_dataset(part, "acquisition")
    b, _, _, _ = read_dataset(whole, "acquisition")
    same_fields(b, a, "resumed vs uninterrupted")
    runs = json_asset(assets, "acquisition.json")["runs"]
    check([(r["start"], r["ranks"]) for r in runs] == [(0, 3), (350, 2)],
          "runs recorded: %r" % runs)

    p = jobs.run(4, [jobs.acquire, part])
    check(committed_lines(p.stdout) == [1000], "complete dataset rerun: %r" % p.stdout)

    # A job killed for real: SIGKILL to the whole launcher group after its
    # first commit; what was committed must survive and the rerun finishes.
    killed = jobs.path("killed.h5")
    cmd = jobs.command(4, [jobs.acquire, killed, "--traces", "4000", "--samples", "100",
                           "--batch", "50", "--commit-every", "200", "--rate", "2000"])
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    first = None
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("committed"):
            first = int(line.split()[1])
            break
    kill_session(proc.pid)
    proc.communicate()
    check(first is not None, "the killed job never committed")
    _, size, _, _ = read_dataset(killed, "acquisition")
    check(first <= size < 4000, "killed after 'committed %d' the store holds %d rows"
          % (first, size))
    p = jobs.run(3, [jobs.acquire, killed])
    check(committed_lines(p.stdout)[-1] == 4000, "rerun after kill: %r" % p.stdout)
    verify(jobs, 2, killed, 4000)


def expect_error(jobs, n, argv, pattern, code=None):
    p = jobs.run(n, argv, expect=1)
    if code is not None:
        check(p.returncode == code, "%s: exit %d, want %d" % (argv, p.returncode, code))
    lines = [l for l in p.stderr.splitlines() if ": error:" in l]
    check(len(lines) == 1 and re.search(pattern, lines[0]),
          "%s: want one error line matching %r, got %r" % (argv[1:], pattern, p.stderr))


def mode_badargs(jobs):
    store = jobs.path("bad.h5")
    a = jobs.acquire
    expect_error(jobs, 2, [a, store, "--dtype", "float32"], r"--dtype", code=2)
    expect_error(jobs, 2, [a, store, "--traces", "0"], r"--traces", code=2)
    expect_error(jobs, 2, [a, store, "--samples", "3"], r"--samples", code=2)
    expect_error(jobs, 2, [a, store, "--batch", "x"], r"--batch", code=2)
    expect_error(jobs, 2, [a, store, "--bogus"], r"--bogus", code=2)
    expect_error(jobs, 2, [a], r"STORE", code=2)
    check(not os.path.exists(store), "a refused command created the store")
    expect_error(jobs, 3, [a, jobs.path("missing.h5"), "--verify"], r"missing\.h5", code=1)
    jobs.run(2, [a, store, "--traces", "10", "--samples", "16"])
    expect_error(jobs, 3, [a, store, "--verify", "--dataset", "nope"], r"nope", code=1)
    expect_error(jobs, 2, [a, store, "--samples", "32"], r"samples", code=1)
    with h5py.File(store, "r+") as f:
        del f["acquisition"]["acquisition.json"]
    expect_error(jobs, 2, [a, store, "--verify"], r"acquisition\.json", code=1)
    expect_error(jobs, 2, [a, store], r"acquisition\.json", code=1)
    p = jobs.run(1, [a, "--help"])
    check("--commit-every" in p.stdout and "acquisition.json" in p.stdout, "help: %r" % p.stdout)


# ------------------------------------------------ defects of the issue list

BIG = 2 ** 64 - 1


def settings_of(store, dataset="acquisition"):
    return json_asset(read_dataset(store, dataset)[3], "acquisition.json")


def raw_settings(store, dataset="acquisition"):
    return bytes(read_dataset(store, dataset)[3]["acquisition.json"]).decode()


def mode_exact(jobs):
    """Seeds and settings above 2^53 are stored exactly, and a resume with
    the same seed is accepted."""
    a = jobs.acquire
    store = jobs.path("seed.h5")
    seed = 9000000000000001
    p = jobs.run(2, [a, store, "--traces", "40", "--samples", "16", "--seed", str(seed),
                     "--max-rows", "15"])
    text = raw_settings(store)
    check('"seed":%d' % seed in text.replace(" ", ""), "seed not stored exactly: %s" % text)
    check(settings_of(store)["seed"] == seed, "seed read back: %r" % settings_of(store)["seed"])
    # A resume naming the same seed is accepted, and one without it too.
    jobs.run(3, [a, store, "--seed", str(seed), "--max-rows", "10"])
    jobs.run(1, [a, store])
    verify(jobs, 2, store, 40)
    p = jobs.run(2, [a, store, "--seed", str(seed + 1)], expect=1)
    expect_one_error(p, r"seed", code=1, what="another seed")
    # The whole range: 2^64-1 is a seed like any other.
    top = jobs.path("seed_top.h5")
    jobs.run(2, [a, top, "--traces", "9", "--samples", "8", "--seed", str(BIG)])
    check(settings_of(top)["seed"] == BIG, "seed 2^64-1: %s" % raw_settings(top))
    verify(jobs, 3, top, 9)
    other = jobs.path("seed_one.h5")
    jobs.run(1, [a, other, "--traces", "9", "--samples", "8"])
    check(read_dataset(other, "acquisition")[0]["data"].tobytes()
          != read_dataset(top, "acquisition")[0]["data"].tobytes(),
          "seed 2^64-1 made the default seed's traces")
    s = settings_of(top)
    for k in ("traces", "batch", "commit_every", "ranks", "samples"):
        check(isinstance(s[k], int), "settings member %s is not an integer: %r" % (k, s[k]))


def mode_sentinel(jobs):
    """2^64-1 is a value, not 'the default', for every option."""
    a = jobs.acquire
    store = jobs.path("s.h5")
    for opt in ("--traces", "--samples"):
        p = jobs.run(2, [a, store, opt, str(BIG)], expect=2)
        expect_one_error(p, opt, code=2, what="%s 2^64-1" % opt)
    check(not os.path.exists(store), "a refused command created the store")
    # --batch 2^64-1: one round of everything, memory for the traces only.
    p = jobs.run(2, [a, store, "--traces", "300", "--samples", "8", "--batch", str(BIG),
                     "--commit-every", "0"])
    check(committed_lines(p.stdout) == [300], "batch 2^64-1: %r" % p.stdout)
    check(settings_of(store)["batch"] == BIG, "batch stored as %r" % settings_of(store)["batch"])
    verify(jobs, 2, store, 300)
    # --commit-every 2^64-1: past the default 10000, one commit at the end.
    store2 = jobs.path("s2.h5")
    p = jobs.run(2, [a, store2, "--traces", "12000", "--samples", "8", "--batch", "4000",
                     "--commit-every", str(BIG)])
    check(committed_lines(p.stdout) == [12000], "commit-every 2^64-1: %r" % p.stdout)
    # --max-rows: 2^64-1 is everything, 0 is nothing.
    store3 = jobs.path("s3.h5")
    p = jobs.run(2, [a, store3, "--traces", "50", "--samples", "8", "--max-rows", "0"])
    check(committed_lines(p.stdout) == [0], "--max-rows 0: %r" % p.stdout)
    check(read_dataset(store3, "acquisition")[1] == 0, "--max-rows 0 wrote rows")
    p = jobs.run(3, [a, store3, "--max-rows", str(BIG)])
    check(committed_lines(p.stdout) == [50], "--max-rows 2^64-1: %r" % p.stdout)
    verify(jobs, 1, store3, 50)
    # --rate 2^64-1: as fast as it goes.
    store4 = jobs.path("s4.h5")
    p = jobs.run(1, [a, store4, "--traces", "20", "--samples", "8", "--rate", str(BIG)])
    check(committed_lines(p.stdout) == [20], "--rate 2^64-1: %r" % p.stdout)


def mode_verifyopts(jobs, nranks):
    """--verify refuses the options it would ignore; --rows START:END."""
    a = jobs.acquire
    store = jobs.path("v.h5")
    jobs.run(2, [a, store, "--traces", "60", "--samples", "16", "--seed", "4"])
    # The refusals are the same at any rank count: once, at the default 2.
    refused = [["--verify", "--traces", "60"], ["--verify", "--seed", "4"],
               ["--verify", "--batch", "7"], ["--verify", "--max-rows", "3"],
               ["--verify", "--dtype", "int8"], ["--verify", "--commit-every", "5"],
               ["--verify", "--samples", "16"], ["--verify", "--rate", "9"],
               ["--rows", "0:5"], ["--chunk", "5"]]
    for extra in refused if nranks == 2 else refused[:1]:
        p = jobs.run(nranks, [a, store] + extra, expect=2)
        expect_one_error(p, extra[-2], code=2, what="%s" % extra)
    flip(store, "acquisition", "data", 40, 3)
    p = verify_rows(jobs, nranks, store, "10:40", 30, 0)
    p = verify_rows(jobs, nranks, store, "10:41", 31, 1)
    p = verify_rows(jobs, nranks, store, "41:", 19, 0)
    p = verify_rows(jobs, nranks, store, "0:2", 2, 0)
    p = verify_rows(jobs, nranks, store, "60:60", 0, 0)
    p = verify_rows(jobs, nranks, store, "59:60", 1, 0)
    for bad in ("5:3", "0:61", "x:3", "3", "1:2:3", ":2") if nranks == 2 else ("5:3", "0:61"):
        p = jobs.run(nranks, [a, store, "--verify", "--rows", bad], expect=2)
        expect_one_error(p, r"--rows", code=2, what="--rows %s" % bad)
    # A chunk far larger than the data: memory sized by the rows.
    p = jobs.run(nranks, [a, store, "--verify", "--chunk", str(10 ** 15), "--rows", "0:40"])
    check("verified 40 rows, 0 mismatches" in p.stdout, "--chunk 10^15: %r %r" % (p.stdout,
                                                                                 p.stderr))


def verify_rows(jobs, nranks, store, rows, count, mismatches):
    p = jobs.run(nranks, [jobs.acquire, store, "--verify", "--rows", rows, "--chunk", "7"],
                 expect=0 if mismatches == 0 else 1)
    lo, hi = rows.split(":")
    want = "verified %d rows, %d mismatches in rows %s:%s of 60" % (count, mismatches, lo,
                                                                   hi or "60")
    check(want in p.stdout, "--rows %s at %d ranks: want %r, got %r %r" % (rows, nranks, want,
                                                                           p.stdout, p.stderr))
    return p


def mode_unfinished(jobs):
    """An acquisition is marked unfinished until its last trace; check and
    --verify say so; a killed job's dataset says so too."""
    a, db = jobs.acquire, jobs.db
    store = jobs.path("u.h5")
    jobs.run(2, [a, store, "--traces", "100", "--samples", "16", "--max-rows", "30"])
    check(incomplete(store, "acquisition"), "a partial acquisition is not marked unfinished")
    p = jobs.run(0, [db, "check", store], expect=1)
    check(re.search(r"^acquisition: unfinished \(_sb_incomplete\)", p.stdout, re.M),
          "check does not report the partial acquisition: %r" % p.stdout)
    p = verify(jobs, 3, store, 30)
    check("note:" in p.stderr and "unfinished" in p.stderr,
          "--verify does not note the unfinished dataset: %r" % p.stderr)
    jobs.run(3, [a, store])
    check(not incomplete(store, "acquisition"), "a complete acquisition is still marked")
    jobs.run(0, [db, "check", store], expect=0)
    p = verify(jobs, 2, store, 100)
    check("note:" not in p.stderr, "a note for a complete dataset: %r" % p.stderr)
    # A batch larger than what remains: memory for what remains.
    big = jobs.path("u2.h5")
    jobs.run(2, [a, big, "--traces", "20", "--samples", "8", "--batch", str(10 ** 15)])
    verify(jobs, 2, big, 20)


def mode_lock(jobs):
    """Two jobs writing one store: the second fails with one clear line, the
    first completes and verifies. Then the same for sb-preprocess and export
    into the store being written."""
    a = jobs.acquire
    store = jobs.path("locked.h5")
    first = subprocess.Popen(jobs.command(2, [a, store, "--traces", "2000", "--samples", "64",
                                              "--batch", "50", "--commit-every", "100",
                                              "--rate", "200"]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = first.stdout.readline()
    check(line.startswith("committed"), "the first job did not start: %r" % line)
    second = jobs.run(2, [a, store, "--traces", "2000", "--samples", "64"], expect=1)
    expect_one_error(second, r"being written by another process.*pid", code=1,
                     what="a second writer")
    src = jobs.path("src.h5")
    jobs.run(1, [a, src, "--traces", "20", "--samples", "16"])
    p = jobs.run(2, [jobs.preprocess, src, store], expect=1)
    expect_one_error(p, r"being written by another process", code=1, what="preprocess into it")
    p = jobs.run(2, [jobs.db, "export", "-o", store, src, "acquisition", "--rename", "x"],
                 expect=1)
    expect_one_error(p, r"being written by another process", code=1, what="export into it")
    out, err = first.communicate(timeout=300)
    check(first.returncode == 0, "the first job failed: %r" % err)
    check(committed_lines(line + out)[-1] == 2000, "the first job's commits: %r" % out)
    verify(jobs, 2, store, 2000)


def mode_misc(jobs):
    """--version, a full stdout, FIFOs."""
    a = jobs.acquire
    p = jobs.run(0, [a, "--version"])
    check(re.match(r"sb-acquire \S+ \(secbench-storage \S+\)\nHDF5 1\.\S+\nMPI .+\n$", p.stdout),
          "--version: %r" % p.stdout)
    store = jobs.path("m.h5")
    with open("/dev/full", "w") as full:
        p = subprocess.run([a, store, "--traces", "10", "--samples", "8"], stdout=full,
                           stderr=subprocess.PIPE, text=True, timeout=120)
    check(p.returncode == 1 and "cannot write to standard output" in p.stderr,
          "stdout on a full disk: exit %d %r" % (p.returncode, p.stderr))
    # Every error says why, and names the store once.
    nodir = jobs.path("nodir/out.h5")
    for n in (0, 3):
        p = jobs.run(n, [a, nodir, "--traces", "5", "--samples", "8"], expect=1)
        expect_one_error(p, r"directory does not exist", code=1, what="a store in no folder")
        check(p.stderr.count("nodir/out.h5") == 1, "the store is named once: %r" % p.stderr)
    fifo = jobs.path("fifo")
    os.mkfifo(fifo)
    for n in (0, 2):
        for argv in ([a, fifo], [a, fifo, "--verify"]):
            p = jobs.run(n, argv, expect=1, timeout=60)
            expect_one_error(p, r"not a regular file", code=1, what="%s at %d" % (argv[1:], n))


def main():
    args = parse_args(["ranks", "corrupt", "rows", "resume", "badargs", "exact", "sentinel",
                       "verifyopts", "unfinished", "lock", "misc"])
    jobs = Jobs(args)
    if args.mode == "ranks":
        mode_ranks(jobs)
    elif args.mode == "corrupt":
        mode_corrupt(jobs, args.ranks)
    elif args.mode == "rows":
        mode_rows(jobs, args.ranks)
    elif args.mode == "verifyopts":
        mode_verifyopts(jobs, args.ranks)
    elif args.mode in ("exact", "sentinel", "unfinished", "lock", "misc"):
        globals()["mode_" + args.mode](jobs)
    elif args.mode == "resume":
        mode_resume(jobs)
    else:
        mode_badargs(jobs)
    print("ok: sb-acquire %s" % args.mode)


if __name__ == "__main__":
    main()
