"""sb-preprocess: the filter, the statistics and the SNR, at 1..4 ranks.

  ranks    one acquisition, preprocessed at 1, 2, 3, 4 ranks and as a plain
           process: the samples equal a numpy moving average + decimation of
           the input (and are identical across rank counts), the other fields
           are copied, mean / variance / SNR equal numpy's from the output
           rows (and agree across rank counts), the SNR argmax maps back to the
           strongest leakage point of the settings asset, every byte-0 point
           stands out, and IN == OUT works.
  badargs  bad windows, widths, names and an existing output fail clearly.
"""
import os
import re
import subprocess
import time

import h5py
import numpy as np

from jobs_common import (SBOX, Jobs, check, error_lines, expect_one_error, fail, incomplete,
                         json_asset, kill_session, parse_args, read_dataset, sha)

START, END, W, D = 40, 480, 4, 2


def moving_average(x, start, end, w, d):
    x = x[:, start:end].astype(np.float64)
    c = np.cumsum(np.pad(x, ((0, 0), (1, 0))), axis=1)
    y = (c[:, w:] - c[:, :-w]) / w
    return y[:, ::d].astype(np.float32)


def numpy_stats(y, labels):
    y = y.astype(np.float64)
    mean = y.mean(axis=0)
    var = y.var(axis=0)
    n = len(y)
    signal = np.zeros(y.shape[1])
    noise = np.zeros(y.shape[1])
    for c in range(256):
        rows = y[labels == c]
        if len(rows) == 0:
            continue
        signal += len(rows) * (rows.mean(axis=0) - mean) ** 2
        noise += len(rows) * rows.var(axis=0)
    # Undefined (NaN) where no class varies, as the job stores it.
    return mean, var, np.where(noise > 0, signal / np.where(noise > 0, noise, 1), np.nan)


def covering(points, m):
    """Output samples whose averaging window holds an input sample of points."""
    j = np.arange(m)
    lo = START + j * D
    return {p: j[(lo <= p) & (p < lo + W)] for p in points}


def mode_ranks(jobs):
    src = jobs.path("acq.h5")
    jobs.run(2, [jobs.acquire, src, "--traces", "2000", "--samples", "500", "--seed", "7",
                 "--batch", "500"])
    inp, size, _, in_assets = read_dataset(src, "acquisition")
    settings = json_asset(in_assets, "acquisition.json")
    key = bytes.fromhex(settings["key"])
    labels = np.array([SBOX[p ^ key[0]] for p in inp["plaintext"][:, 0]])
    want_y = moving_average(inp["data"], START, END, W, D)
    m = want_y.shape[1]
    check(m == (END - START - W) // D + 1, "test's own filter length %d" % m)
    want_mean, want_var, want_snr = numpy_stats(want_y, labels)

    ref = None
    for n in (1, 2, 3, 4, 0):
        out = jobs.path("pre_np%d.h5" % n)
        p = jobs.run(n, [jobs.preprocess, src, out, "--window", "%d:%d" % (START, END),
                         "--average", str(W), "--decimate", str(D), "--chunk", "130",
                         "--top", "3"])
        f, osize, cap, assets = read_dataset(out, "preprocessed")
        check(osize == size and cap == size, "%d ranks: output size %d capacity %d"
              % (n, osize, cap))
        y = f["data"]
        check(y.dtype == np.float32 and y.shape == (size, m),
              "%d ranks: output data %s %s, want float32 (%d, %d)" % (n, y.dtype, y.shape,
                                                                      size, m))
        err = np.abs(y - want_y).max()
        check(err <= 1e-5, "%d ranks: output differs from numpy's filter by %g" % (n, err))
        for k in ("plaintext", "ciphertext", "key"):
            check(np.array_equal(f[k], inp[k]), "%d ranks: field %s not carried over" % (n, k))
        mean, var, snr = assets["mean"], assets["variance"], assets["snr"]
        check(mean.dtype == np.float64 and mean.shape == (m,) and snr.shape == (m,),
              "%d ranks: stats assets %s %s" % (n, mean.dtype, mean.shape))
        for name, got, want in (("mean", mean, want_mean), ("variance", var, want_var),
                                ("snr", snr, want_snr)):
            check(np.allclose(got, want, rtol=1e-7, atol=1e-9),
                  "%d ranks: %s differs from numpy by %g" % (n, name,
                                                            np.abs(got - want).max()))
        s = json_asset(assets, "acquisition.json")
        pre = s.get("preprocess", {})
        check(s["seed"] == 7 and pre.get("window") == [START, END] and pre.get("average") == W
              and pre.get("decimate") == D and pre.get("output_samples") == m,
              "%d ranks: settings asset %r" % (n, s))
        if ref is None:
            ref = (y, mean, var, snr)
            # The SNR must stand where the acquisition put the leakage of byte 0.
            points = s["leakage_points"]
            cover = covering(points, m)
            best = int(np.argmax(snr))
            check(best in cover[points[0]],
                  "SNR argmax at output %d (input %d..%d), not over the strongest leakage "
                  "point %d" % (best, START + best * D, START + best * D + W - 1, points[0]))
            leak = np.zeros(m, bool)
            for p_ in points:
                leak[cover[p_]] = True
            quiet = snr[~leak].max()
            for p_ in points:
                peak = snr[cover[p_]].max()
                check(peak > 2 * quiet, "leakage point %d: SNR %.3f vs %.3f elsewhere"
                      % (p_, peak, quiet))
            top = [int(t) for t in re.findall(r"^\s+sample (\d+) ", p.stdout, re.M)]
            check(len(top) == 3 and top[0] == best,
                  "printed top SNR samples %s, argmax %d: %r" % (top, best, p.stdout))
        else:
            check(np.array_equal(y, ref[0]), "%d ranks: samples differ from 1 rank" % n)
            for a, b, name in ((mean, ref[1], "mean"), (var, ref[2], "variance"),
                               (snr, ref[3], "snr")):
                check(np.allclose(a, b, rtol=1e-9, atol=1e-12),
                      "%d ranks: %s differs from 1 rank by %g" % (n, name, np.abs(a - b).max()))

    # Rounds of 8 rows at 4 ranks over 10 rows: the last leaves 2 ranks idle.
    small = jobs.path("small.h5")
    jobs.run(1, [jobs.acquire, small, "--traces", "10", "--samples", "32", "--seed", "9"])
    for n in (4, 3):
        out = jobs.path("small_pre_np%d.h5" % n)
        jobs.run(n, [jobs.preprocess, small, out, "--average", "3", "--chunk", "2"])
        si, _, _, _ = read_dataset(small, "acquisition")
        so, osize, _, sa = read_dataset(out, "preprocessed")
        y = moving_average(si["data"], 0, 32, 3, 1)
        check(osize == 10 and np.abs(so["data"] - y).max() <= 1e-5,
              "10 rows at %d ranks, chunk 2: output differs from numpy" % n)
        check(np.array_equal(so["plaintext"], si["plaintext"]),
              "10 rows at %d ranks: plaintexts out of order" % n)
        k0 = bytes.fromhex(json_asset(sa, "acquisition.json")["key"])[0]
        lab = np.array([SBOX[p ^ k0] for p in si["plaintext"][:, 0]])
        check(np.allclose(sa["snr"], numpy_stats(y, lab)[2], rtol=1e-7, atol=1e-9,
                          equal_nan=True),
              "10 rows at %d ranks: SNR differs from numpy" % n)

    # IN == OUT: a second dataset in the acquisition's own store.
    jobs.run(3, [jobs.preprocess, src, src, "--output", "acq/smooth", "--average", "8",
                 "--decimate", "8", "--chunk", "333"])
    f, osize, _, assets = read_dataset(src, "acq/smooth")
    y = moving_average(inp["data"], 0, 500, 8, 8)
    check(f["data"].shape == y.shape and np.abs(f["data"] - y).max() <= 1e-5,
          "IN == OUT output differs from numpy")
    snr2 = assets["snr"]
    best = int(np.argmax(snr2))
    check(best * 8 <= settings["leakage_points"][0] < best * 8 + 8,
          "IN == OUT: SNR argmax %d does not cover input %d" % (best,
                                                                settings["leakage_points"][0]))


def expect_error(jobs, n, argv, pattern):
    p = jobs.run(n, argv, expect=1)
    lines = [l for l in p.stderr.splitlines() if ": error:" in l]
    check(len(lines) == 1 and re.search(pattern, lines[0]),
          "%s: want one error line matching %r, got %r" % (argv[1:], pattern, p.stderr))


def mode_badargs(jobs):
    src = jobs.path("acq.h5")
    out = jobs.path("out.h5")
    jobs.run(2, [jobs.acquire, src, "--traces", "50", "--samples", "64"])
    pp = jobs.preprocess
    expect_error(jobs, 2, [pp, src, out, "--window", "50:10"], r"--window 50:10")
    expect_error(jobs, 2, [pp, src, out, "--window", "0:65"], r"--window 0:65")
    expect_error(jobs, 2, [pp, src, out, "--window", "10-20"], r"START:END")
    expect_error(jobs, 2, [pp, src, out, "--average", "0"], r"--average")
    expect_error(jobs, 2, [pp, src, out, "--window", "0:8", "--average", "9"], r"--average 9")
    expect_error(jobs, 2, [pp, src, out, "--dataset", "nope"], r"nope")
    expect_error(jobs, 2, [pp, src, out, "--field", "samples"], r"no field 'samples'")
    expect_error(jobs, 2, [pp, src], r"OUT")
    expect_error(jobs, 2, [pp, src, src, "--output", "acquisition"], r"--output")
    jobs.run(2, [pp, src, out])
    expect_error(jobs, 3, [pp, src, out], r"preprocessed")


# ------------------------------------------------ defects of the issue list

def spoilt_input(path, rows=100, samples=64):
    """An input whose samples field has a garbage compressed chunk at rows
    50..59: a job reading it fails half-way, after its first rows."""
    rng = np.random.default_rng(3)
    with h5py.File(path, "w") as f:
        g = f.create_group("acquisition")
        g.attrs["_sb_size"] = np.int64(rows)
        g.attrs["_sb_is_dataset"] = np.bool_(True)
        g.attrs["_sb_capacity"] = np.int64(rows)
        d = g.create_dataset("data", data=rng.integers(-100, 100, (rows, samples), np.int8),
                             compression="gzip", chunks=(10, samples))
        d.attrs["_sb_priority"] = np.int64(0)
        for k, name in enumerate(("plaintext", "key"), 1):
            d = g.create_dataset(name, data=rng.integers(0, 256, (rows, 16), np.uint8))
            d.attrs["_sb_priority"] = np.int64(k)
    with h5py.File(path, "r") as f:
        info = f["acquisition/data"].id.get_chunk_info(5)
    with open(path, "r+b") as fh:
        fh.seek(info.byte_offset)
        fh.write(b"\xff" * info.size)


def names_in(path):
    with h5py.File(path, "r") as f:
        out = []
        f.visititems(lambda n, o: out.append(n) if isinstance(o, h5py.Group)
                     and "_sb_is_dataset" in o.attrs else None)
        return out


def mode_unfinished(jobs, nranks):
    """A failed job removes its output (and the store it created); a killed
    one leaves it marked unfinished, which check reports, the rerun names,
    and 'secbench-db rm' removes without --force."""
    pp, db = jobs.preprocess, jobs.db
    bad = jobs.path("spoilt.h5")
    spoilt_input(bad)
    out = jobs.path("out.h5")
    p = jobs.run(nranks, [pp, bad, out, "--chunk", "5"], expect=1)
    check(len(error_lines(p.stderr)) == 1, "one error line: %r" % p.stderr)
    check(not os.path.exists(out), "a failed job left the store it created")
    # Into an existing store: the store stays, without the output.
    src = jobs.path("acq.h5")
    jobs.run(2, [jobs.acquire, src, "--traces", "50", "--samples", "64"])
    jobs.run(nranks, [pp, src, out, "--output", "first"])
    p = jobs.run(nranks, [pp, bad, out, "--chunk", "5"], expect=1)
    check(names_in(out) == ["first"], "a failed job left its output: %r" % names_in(out))
    # IN == OUT
    p = jobs.run(nranks, [pp, bad, bad, "--output", "again", "--chunk", "5"], expect=1)
    check(names_in(bad) == ["acquisition"], "a failed job left its output in IN: %r"
          % names_in(bad))
    # An existing finished output: refused, no byte changed.
    before = sha(out)
    p = jobs.run(nranks, [pp, src, out, "--output", "first"], expect=1)
    expect_one_error(p, r"already exists.*rm --force", code=1, what="an existing output")
    check(sha(out) == before, "a refused job changed the output store")

    # Killed half-way: the output says it is unfinished.
    big = jobs.path("big.h5")
    # Big enough that a row at a time outlasts the first progress line (2 s).
    jobs.run(2, [jobs.acquire, big, "--traces", "200000", "--samples", "200", "--batch", "20000"])
    killed = jobs.path("killed.h5")
    proc = subprocess.Popen(jobs.command(nranks, [pp, big, killed, "--chunk", "1",
                                                  "--progress"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    seen = ""
    deadline = time.time() + 120
    while time.time() < deadline:
        line = proc.stderr.readline()
        seen += line
        # A progress line while it runs ("12.3% 24600/200000 rows, ..."), not
        # the final one ("200000 rows in ...", then it is no kill mid-job).
        if not line or ("rows/s" in line and "%" in line):
            break
    kill_session(proc.pid)
    proc.communicate()
    check("rows/s" in seen and "rows in" not in seen,
          "the job showed progress and had not finished before the kill: %r" % seen)
    check(incomplete(killed, "preprocessed"), "a killed job's output is not marked unfinished")
    p = jobs.run(0, [db, "check", killed], expect=1)
    check(re.search(r"^preprocessed: unfinished", p.stdout, re.M),
          "check does not report the killed output: %r" % p.stdout)
    p = jobs.run(nranks, [pp, big, killed], expect=1)
    expect_one_error(p, r"unfinished.*secbench-db rm %s preprocessed" % re.escape(killed),
                     code=1, what="a rerun over an unfinished output")
    jobs.run(0, [db, "rm", killed, "preprocessed"])
    jobs.run(nranks, [pp, big, killed, "--chunk", "3000"])
    check(not incomplete(killed, "preprocessed"), "a finished output is still marked")
    jobs.run(0, [db, "check", killed])


def mode_snr(jobs):
    """SNR where it is undefined: NaN and a warning, not zeros."""
    src = jobs.path("ten.h5")
    jobs.run(1, [jobs.acquire, src, "--traces", "10", "--samples", "32", "--seed", "9"])
    out = jobs.path("ten_pre.h5")
    p = jobs.run(2, [jobs.preprocess, src, out])
    _, _, _, assets = read_dataset(out, "preprocessed")
    inp = read_dataset(src, "acquisition")[0]
    key0 = bytes.fromhex(json_asset(assets, "acquisition.json")["key"])[0]
    classes = {SBOX[b ^ key0] for b in inp["plaintext"][:, 0]}
    check(len(classes) == 10, "the test wants 10 traces in 10 classes, got %d" % len(classes))
    check(np.isnan(assets["snr"]).all(), "SNR of 10 traces in 10 classes: %r" % assets["snr"])
    warn = [l for l in p.stderr.splitlines() if "warning" in l]
    check(len(warn) == 1 and "undefined" in warn[0] and "10 traces in 10 classes" in warn[0],
          "one warning says why: %r" % p.stderr)
    check("undefined at every sample" in p.stdout, "top SNR: %r" % p.stdout)
    # Enough traces per class: no warning.
    src2 = jobs.path("many.h5")
    jobs.run(2, [jobs.acquire, src2, "--traces", "3000", "--samples", "32", "--seed", "9"])
    p = jobs.run(2, [jobs.preprocess, src2, jobs.path("many_pre.h5")])
    check("warning" not in p.stderr, "a warning with 3000 traces: %r" % p.stderr)


def mode_misc(jobs):
    """Exit status 2 for every command-line mistake, memory sized by the
    data, an unfinished input, FIFOs, a full stdout, --version."""
    pp = jobs.preprocess
    src = jobs.path("acq.h5")
    jobs.run(2, [jobs.acquire, src, "--traces", "50", "--samples", "64"])
    out = jobs.path("out.h5")
    for argv, pattern in (([src, out, "--window", "0:65"], r"--window 0:65"),
                          ([src, out, "--window", "50:10"], r"--window"),
                          ([src, out, "--window", "0:8", "--average", "9"], r"--average 9"),
                          ([src, out, "--average", "0"], r"--average"),
                          ([src], r"OUT"), ([src, src, "--output", "acquisition"], r"--output")):
        p = jobs.run(2, [pp] + argv, expect=2)
        expect_one_error(p, pattern, code=2, what=" ".join(argv[2:]))
    check(not os.path.exists(out), "a refused job created OUT")
    p = jobs.run(3, [pp, src, out, "--chunk", str(10 ** 15)])
    check(read_dataset(out, "preprocessed")[1] == 50, "--chunk 10^15")
    # An unfinished input: a warning, and the output keeps the mark.
    part = jobs.path("part.h5")
    jobs.run(2, [jobs.acquire, part, "--traces", "80", "--samples", "32", "--max-rows", "40"])
    p = jobs.run(2, [pp, part, jobs.path("part_pre.h5")])
    check(re.search(r"warning: .*unfinished", p.stderr), "no warning: %r" % p.stderr)
    check(incomplete(jobs.path("part_pre.h5"), "preprocessed"),
          "the output of an unfinished input is not marked")
    fifo = jobs.path("fifo")
    os.mkfifo(fifo)
    for n in (0, 2):
        for argv in ([pp, fifo, out], [pp, src, fifo]):
            p = jobs.run(n, argv, expect=1, timeout=60)
            expect_one_error(p, r"not a regular file", code=1, what="%s at %d" % (argv[1:], n))
    with open("/dev/full", "w") as full:
        p = subprocess.run([pp, src, jobs.path("full.h5")], stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=120)
    check(p.returncode == 1 and "cannot write to standard output" in p.stderr,
          "stdout on a full disk: %d %r" % (p.returncode, p.stderr))
    p = jobs.run(2, [pp, "--version"])
    check(re.match(r"sb-preprocess \S+ \(secbench-storage \S+\)\nHDF5 1\.\S+\nMPI .+\n$",
                   p.stdout), "--version: %r" % p.stdout)


def main():
    args = parse_args(["ranks", "badargs", "unfinished", "snr", "misc"])
    if not args.preprocess:
        fail("--preprocess is required")
    jobs = Jobs(args)
    if args.mode == "ranks":
        mode_ranks(jobs)
    elif args.mode == "unfinished":
        mode_unfinished(jobs, args.ranks)
    elif args.mode in ("snr", "misc"):
        globals()["mode_" + args.mode](jobs)
    else:
        mode_badargs(jobs)
    print("ok: sb-preprocess %s" % args.mode)


if __name__ == "__main__":
    main()
