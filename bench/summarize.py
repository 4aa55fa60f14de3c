#!/usr/bin/python3
"""Summary of benchmark runs: per MPI, workload and rank count, median and min
of the library and of each baseline measured in the same run, their ratio, and
a verdict against the target where the baseline is the like-with-like one
(same bytes, same sync points). Other baselines are shown beside, as
information, never judged.

Writes summary.csv, summary.md (targets first), summary_pivot.md and the
plot_*.dat files plot.gnuplot reads: only those of the workloads measured.
With --check, also fails (exit 1) when a row does not parse, a judged line
lacks its baseline or the environment record lacks a field: what the CI smoke
test asserts.

Runs: --csv FILE [--env FILE] (one run), or --run DIR, repeatable (DIR/bench.csv
and DIR/env.txt), e.g. an Open MPI build and an MPICH build of the same
commit. Standard library only.
"""
import argparse
import csv
import os
import re
import statistics
import sys

COLUMNS = ["workload", "ranks", "bytes", "rep", "impl", "seconds", "MBps", "peak_rss_kib"]

FAMILIES = ["extend", "append", "read", "export", "meta", "secbench"]

# The plot files summarize.py may write; those of workloads not measured are
# removed, so that plot.gnuplot draws only what was measured.
PLOT_FILES = ["plot_bw_extend.dat", "plot_bw_read.dat", "plot_bw_export.dat",
              "plot_ratio.dat", "plot_ratio_targets.dat", "plot_append.dat", "plot_meta.dat"]


class Rule:
    """One comparison of a library line with a baseline.

    target: the throughput ratio library/baseline to reach, or None (shown,
    never judged: the baseline is not like-with-like, or no target is set).
    libs: the library sides the target is set for (others are shown only).
    ranks: the rank counts the target is set for (None: every count that does
    not oversubscribe the cores)."""

    def __init__(self, baseline, target=None, libs=("sb",), ranks=None, why=""):
        self.baseline = baseline
        self.target = target
        self.libs = libs
        self.ranks = ranks
        self.why = why


EXTEND_RE = re.compile(r"^extend-(observed|raw)-r(\d+)(-sync)?(?:-k(\d+))?$")
READ_RE = re.compile(r"^read-(observed|raw)-r(\d+)(-cold)?$")
APPEND_RE = re.compile(r"^append-s(\d+)(-sync)?$")
META_RE = re.compile(r"^meta-(create|open|list|load)-n(\d+)$")
SECBENCH_RE = re.compile(r"^secbench-(write|read)_(\d+)$")


def rules(workload):
    """The comparisons of a workload's library lines, like-with-like first.

    These encode what the library does at the commit they were written for
    (bench/README.md, "Targets"): a flush syncs only when the store's fsync
    option is set, and then at commits only (a -sync line commits once, at
    close; a -sync-k<K> line every K batches and at close), where mpiio-sync
    syncs too; export ends with a flush, which does not sync."""
    m = EXTEND_RE.match(workload)
    if m:
        sync, k = m.group(3), m.group(4)
        if sync and k:
            return [Rule("mpiio-sync", 0.90, ranks=(1, 2),
                         why="fsync on, a commit every %s batches and at close; "
                             "MPI_File_sync at the same points" % k),
                    Rule("mpiio", why="baseline never syncs: not like-with-like")]
        if sync:
            return [Rule("mpiio-sync", 0.90, ranks=(1, 2),
                         why="fsync on, one commit at close; MPI_File_sync at close"),
                    Rule("mpiio", why="baseline never syncs: not like-with-like")]
        return [Rule("mpiio", 0.90, why="neither side syncs"),
                Rule("mpiio-sync", why="baseline syncs at close, the library does not: "
                                       "not like-with-like")]
    if READ_RE.match(workload):
        return [Rule("mpiio", 0.90, why="same bytes, same page-cache state")]
    if workload == "export":
        return [Rule("mpiio-copy", 0.80, why="same chunks; neither side syncs"),
                Rule("mpiio-copy-sync", why="baseline syncs at the end, the library does not: "
                                            "not like-with-like")]
    m = APPEND_RE.match(workload)
    if m:
        if m.group(1) == "1000":
            return [Rule("fwrite", 0.5, why="the same bytes through stdio, one trace per call"),
                    Rule("h5py", 100.0, why="Python secbench's Dataset.append loop in h5py")]
        return [Rule("fwrite"), Rule("h5py")]
    m = META_RE.match(workload)
    if m:
        if m.group(1) == "create":
            return [Rule("h5py", 1.0, why="Python secbench's create_dataset steps in h5py")]
        return [Rule("h5py")]
    if SECBENCH_RE.match(workload):
        return [Rule("h5py", 1.0, why="the same benchmark work through h5py")]
    return []


def family(workload):
    return workload.split("-")[0]


def is_library(impl):
    return impl == "sb" or impl.startswith("sb-")


def mpi_label(env):
    """'Open MPI v4.1.4/ompio', 'MPICH 4.0.2/ROMIO' from a run's env.txt."""
    mpi = env.get("mpi", "")
    name = " ".join(mpi.split(";")[0].replace("Version:", " ").split()) or "MPI?"
    io = (env.get("mpi_io_component", "").split() or [""])[0]
    return name + ("/" + io if io else "")


def read_rows(path, errors, run=0, mpi=""):
    rows = []
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header != COLUMNS:
            errors.append("%s: header %r, expected %r" % (path, header, COLUMNS))
            return rows
        for lineno, rec in enumerate(reader, start=2):
            if len(rec) != len(COLUMNS):
                errors.append("%s:%d: %d fields, expected %d" % (path, lineno, len(rec),
                                                                 len(COLUMNS)))
                continue
            try:
                r = {"workload": rec[0], "ranks": int(rec[1]), "bytes": int(rec[2]),
                     "rep": int(rec[3]), "impl": rec[4], "seconds": float(rec[5]),
                     "MBps": float(rec[6]), "rss": int(rec[7]) if rec[7] else None,
                     "run": run, "mpi": mpi}
            except ValueError as e:
                errors.append("%s:%d: %s" % (path, lineno, e))
                continue
            if not r["workload"] or not r["impl"] or r["ranks"] < 1 or r["rep"] < 1 \
                    or not r["seconds"] > 0 or r["MBps"] < 0:
                errors.append("%s:%d: out of range: %s" % (path, lineno, ",".join(rec)))
                continue
            rows.append(r)
    return rows


def read_env(path):
    env = {}
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                if "=" in line:
                    k, v = line.rstrip("\n").split("=", 1)
                    env[k] = v
    return env


def stats(rows):
    secs = [r["seconds"] for r in rows]
    return statistics.median(secs), min(secs), len(secs)


def notes_for(workload, ranks, nbytes, env):
    notes = []
    cores = int(env.get("cores", "0") or 0)
    if cores and ranks > cores:
        notes.append("oversubscribed (%d ranks on %d cores): contention" % (ranks, cores))
    limit = int(env.get("dirty_limit_bytes", "0") or 0)
    fam = family(workload)
    if fam in ("extend", "append", "export", "read", "secbench"):
        if workload.endswith("-cold"):
            notes.append("page cache dropped before each read: disk")
        elif fam == "read":
            notes.append("reads from the page cache")
        elif "-sync" in workload:
            notes.append("fsync'd: disk")
        elif limit and nbytes < limit:
            notes.append("fits the dirty-page limit: memory speed")
    return notes


def verdict(rule, lib, ranks, cores, ratio):
    """(status, reason) of one line."""
    if rule.target is None or lib not in rule.libs:
        return "info", ""
    if cores and ranks > cores:
        return "not judged", ""  # the notes say oversubscribed
    if rule.ranks is not None and ranks not in rule.ranks:
        return "not judged", "target set at %s ranks" % ", ".join(str(n) for n in rule.ranks)
    if ratio is None:
        return "no baseline", ""
    return ("met" if ratio >= rule.target else "MISSED"), ""


def summarize(rows, envs):
    """One record per (MPI, workload, ranks, library side, baseline).

    envs: run index -> env dict."""
    groups = {}
    for r in rows:
        groups.setdefault((r["mpi"], r["workload"], r["ranks"]), []).append(r)
    out = []
    for (mpi, wl, ranks), grp in sorted(groups.items(),
                                        key=lambda kv: (kv[0][0], family(kv[0][1]), kv[0][1:])):
        env = envs.get(grp[0]["run"], {})
        cores = int(env.get("cores", "0") or 0)
        by_impl = {}
        for r in grp:
            by_impl.setdefault(r["impl"], []).append(r)
        nbytes = max(r["bytes"] for r in grp)
        wl_rules = rules(wl)
        if not wl_rules:  # unknown workload: every other side, shown only
            wl_rules = [Rule(i) for i in sorted(by_impl) if not is_library(i)]
        for lib in sorted(i for i in by_impl if is_library(i)):
            lmed, lmin, n = stats(by_impl[lib])
            rss = max((r["rss"] for r in by_impl[lib] if r["rss"] is not None), default=None)
            for rule in wl_rules or [Rule(None)]:
                present = rule.baseline in by_impl
                status, reason = verdict(rule, lib, ranks, cores, None)
                if not present and status != "no baseline" and rule.baseline is not None:
                    continue  # a side shown only for information and not run
                rec = {"mpi": mpi, "workload": wl, "ranks": ranks, "bytes": nbytes, "impl": lib,
                       "baseline": rule.baseline or "", "reps": n, "median_s": lmed,
                       "min_s": lmin, "rss_kib": rss, "target": rule.target,
                       "judged": rule.target is not None and lib in rule.libs,
                       "target_ranks": rule.ranks, "why": rule.why}
                if present:
                    bmed, bmin, _ = stats(by_impl[rule.baseline])
                    brss = max((r["rss"] for r in by_impl[rule.baseline]
                                if r["rss"] is not None), default=None)
                    rec.update(base_median_s=bmed, base_min_s=bmin, base_rss_kib=brss,
                               ratio_median=bmed / lmed, ratio_min=bmin / lmin)
                    status, reason = verdict(rule, lib, ranks, cores, rec["ratio_median"])
                elif rule.baseline is None:
                    status = "no baseline"
                rec["status"] = status
                notes = notes_for(wl, ranks, nbytes, env)
                if rule.why and (rec["judged"] or "not like-with-like" in rule.why):
                    notes.insert(0, rule.why)
                if reason:
                    notes.append(reason)
                rec["notes"] = "; ".join(notes)
                out.append(rec)
    return out


def coll_vs_indep(recs, rows):
    """Collective against independent row writes, per MPI, workload, ranks:
    the lines where both sb-collective and sb-independent were measured."""
    groups = {}
    for r in rows:
        if r["impl"] in ("sb", "sb-collective", "sb-independent"):
            groups.setdefault((r["mpi"], r["workload"], r["ranks"]), {}).setdefault(
                r["impl"], []).append(r)
    out = []
    for (mpi, wl, ranks), by in sorted(groups.items()):
        if "sb-collective" not in by or "sb-independent" not in by:
            continue
        c = stats(by["sb-collective"])[0]
        i = stats(by["sb-independent"])[0]
        d = stats(by["sb"])[0] if "sb" in by else None
        nbytes = max(r["bytes"] for r in by["sb-collective"])
        out.append({"mpi": mpi, "workload": wl, "ranks": ranks, "bytes": nbytes,
                    "collective_s": c, "independent_s": i, "default_s": d,
                    "ratio": i / c})
    return out


def fmt(v, spec):
    return "" if v is None else format(v, spec)


CSV_COLS = ["mpi", "workload", "ranks", "bytes", "impl", "baseline", "reps", "median_s", "min_s",
            "base_median_s", "base_min_s", "ratio_median", "ratio_min", "target", "status",
            "rss_kib", "base_rss_kib", "notes"]


def write_csv(path, recs):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_COLS)
        for r in recs:
            w.writerow(["" if r.get(c) is None else r.get(c) for c in CSV_COLS])


def mbps(nbytes, secs):
    return nbytes / secs / 1e6 if secs and nbytes else None


def several_mpis(recs):
    return len({r["mpi"] for r in recs}) > 1


def md_targets(recs, envs):
    """Every judged line: the targets, each against its like-with-like baseline."""
    sel = [r for r in recs if r["judged"] and r["status"] != "not judged"]
    skipped = [r for r in recs if r["status"] == "not judged"]
    if not sel and not skipped:
        return []
    multi = several_mpis(recs)
    lines = ["Each target is a throughput ratio library / baseline, the baseline doing the "
             "same work with the same sync points in the same run (median of the "
             "repetitions; min in brackets).", ""]
    if any(e.get("smoke") == "1" for e in envs.values()):
        lines += ["**Smoke run** (tiny sizes, one repetition): these verdicts check the "
                  "harness, they are not performance figures.", ""]
    head = ("| MPI " if multi else "") + "| workload | ranks | lib | vs | like-with-like | target " \
                                         "| ratio | verdict |"
    lines += [head, "|" + "---|" * (head.count("|") - 1)]
    for r in sel:
        cell = "%s (%s)" % (fmt(r.get("ratio_median"), ".2f"), fmt(r.get("ratio_min"), ".2f")) \
            if r.get("ratio_median") is not None else ""
        verdict_s = r["status"]
        lines.append(("| %s " % r["mpi"] if multi else "") + "| %s | %d | %s | %s | %s | >= %g "
                     "| %s | %s |" % (r["workload"], r["ranks"], r["impl"], r["baseline"],
                                      r["why"], r["target"], cell, verdict_s))
    counts = {}
    for r in sel:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    lines += ["", "Verdicts: " + (", ".join("%s %d" % kv for kv in sorted(counts.items()))
                                  or "none")]
    if skipped:
        over = sum("oversubscribed" in r["notes"] for r in skipped)
        lines.append("Not judged: %d lines at more ranks than cores (contention, not scaling), "
                     "%d at rank counts the target is not set for (see the tables below)."
                     % (over, len(skipped) - over))
    return lines


def md_table(recs, fam, env):
    lines = []
    sel = [r for r in recs if family(r["workload"]) == fam]
    if not sel:
        return lines
    multi = several_mpis(recs)
    mcol = lambda r: ("| %s " % r["mpi"]) if multi else ""  # noqa: E731
    mhead = "| MPI " if multi else ""
    if fam == "meta":
        lines.append(mhead + "| step, datasets | impl | vs | median s | min s | baseline median s "
                     "| ratio (median) | ratio (min) | target | status |")
        lines.append("|" + "---|" * (10 + multi))
        for r in sel:
            lines.append(mcol(r) + "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["workload"], r["impl"], r["baseline"], fmt(r["median_s"], ".6f"),
                fmt(r["min_s"], ".6f"), fmt(r.get("base_median_s"), ".6f"),
                fmt(r.get("ratio_median"), ".2f"), fmt(r.get("ratio_min"), ".2f"),
                fmt(r["target"] if r["judged"] else None, "g"), r["status"]))
        return lines
    lines.append(mhead + "| workload | ranks | MB | impl | vs | lib MB/s (median) "
                 "| base MB/s (median) | ratio median | ratio min | target | status | notes |")
    lines.append("|" + "---|" * (12 + multi))
    for r in sel:
        extra = ""
        if r.get("rss_kib") is not None and r["baseline"]:
            extra = "; peak RSS/rank lib %.0f MiB, base %.0f MiB" % (
                r["rss_kib"] / 1024, (r.get("base_rss_kib") or 0) / 1024)
            chunk = int(env.get("export_chunk_bytes", "0") or 0)
            if chunk:
                ok = r["rss_kib"] * 1024 <= chunk + (64 << 20)
                extra += " (target <= chunk %.0f MiB + 64 MiB: %s)" % (chunk / 2**20,
                                                                      "met" if ok else "MISSED")
        if fam == "append":
            m = APPEND_RE.match(r["workload"])
            per = int(m.group(1)) + 48 if m else 1048
            rate = lambda s: r["bytes"] / (per * s) if s else None  # noqa: E731
            extra += "; appends/s lib %.0f, base %s" % (
                rate(r["median_s"]), fmt(rate(r.get("base_median_s")), ".0f"))
        lines.append(mcol(r) + "| %s | %d | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["workload"], r["ranks"], r["bytes"] / 1e6, r["impl"], r["baseline"],
            fmt(mbps(r["bytes"], r["median_s"]), ".0f"),
            fmt(mbps(r["bytes"], r.get("base_median_s")), ".0f"),
            fmt(r.get("ratio_median"), ".3f"), fmt(r.get("ratio_min"), ".3f"),
            fmt(r["target"] if r["judged"] else None, "g"), r["status"],
            (r["notes"] + extra).strip("; ")))
    return lines


def md_coll(cvi):
    if not cvi:
        return []
    lines = ["Library only, rows written collectively (`sb-collective`) against independently "
             "(`sb-independent`), same run; ratio = collective / independent throughput "
             "(above 1 collective is faster). `sb` is the default path.", "",
             "| MPI | workload | ranks | independent MB/s | collective MB/s | default MB/s "
             "| collective / independent |", "|---|---|---|---|---|---|---|"]
    for c in cvi:
        lines.append("| %s | %s | %d | %s | %s | %s | %.2f |" % (
            c["mpi"], c["workload"], c["ranks"], fmt(mbps(c["bytes"], c["independent_s"]), ".0f"),
            fmt(mbps(c["bytes"], c["collective_s"]), ".0f"),
            fmt(mbps(c["bytes"], c["default_s"]), ".0f"), c["ratio"]))
    mpis = sorted({c["mpi"] for c in cvi})
    lines += ["", "Measured on: " + ", ".join(mpis) +
              ("" if len(mpis) > 1 else " (one MPI only: add the run of the other build, "
               "summarize.py --run A --run B)")]
    return lines


def meta_flatness(recs):
    lines = []
    loads = {}
    for r in recs:
        if r["workload"].startswith("meta-load-n"):
            n = int(r["workload"].rsplit("n", 1)[1])
            loads.setdefault(r["impl"], {})[n] = r["median_s"]
            if r.get("base_median_s") is not None:
                loads.setdefault(r["baseline"], {})[n] = r["base_median_s"]
    for impl, by_n in sorted(loads.items()):
        if len(by_n) >= 2:
            lo, hi = min(by_n), max(by_n)
            lines.append("- load one dataset, %s: %.1f us at %d datasets, %.1f us at %d "
                         "(x%.2f): %s" % (impl, by_n[lo] * 1e6, lo, by_n[hi] * 1e6, hi,
                                          by_n[hi] / by_n[lo],
                                          "flat" if by_n[hi] / by_n[lo] < 2 else "NOT flat"))
    return lines


ENV_KEYS = ["date", "git", "host", "cores", "loadavg_start", "loadavg_end", "cpu",
            "mem_total_bytes", "fs_type", "fs_mount_type", "fs_mount", "data_dir",
            "dirty_limit_bytes", "dirty_limit_source", "secbench_storage", "hdf5", "mpi",
            "mpi_io_component", "OMPI_MCA_io", "launcher", "python", "sync", "smoke", "bytes",
            "row_sizes", "reps", "ranks", "hints", "export_chunk_bytes", "commit_every",
            "write_modes", "secbench_db"]


def write_md(path, recs, envs, rows):
    lines = ["# Benchmark summary", "", "Ratios are throughput ratios, library / baseline "
             "(baseline seconds / library seconds): above 1 the library is faster. MB = 10^6 "
             "bytes. Only the like-with-like baseline of a line is judged against a target; "
             "the others are shown as information (status `info`).", ""]
    t = md_targets(recs, envs)
    if t:
        lines += ["## Targets", ""] + t + [""]
    for run, env in sorted(envs.items()):
        lines += ["## Environment" + (" (run %d: %s)" % (run + 1, mpi_label(env))
                                      if len(envs) > 1 else ""), ""]
        for k in ENV_KEYS:
            if k in env:
                lines.append("- %s: %s" % (k, env[k]))
        lines.append("")
    env0 = envs.get(0, {})
    titles = [("extend", "1. Collective extend"), ("append", "2. Serial append"),
              ("read", "3. Collective read"), ("export", "4. Parallel export"),
              ("meta", "5. Metadata"), ("secbench", "6. secbench-db benchmark vs h5py")]
    for fam, title in titles:
        t = md_table(recs, fam, env0)
        if t:
            lines += ["## " + title, ""] + t
            if fam == "meta":
                lines += [""] + meta_flatness(recs)
            lines.append("")
    c = md_coll(coll_vs_indep(recs, rows))
    if c:
        lines += ["## Collective vs independent row writes", ""] + c + [""]
    with open(path, "w") as f:
        f.write("\n".join(lines).rstrip("\n") + "\n")


def write_pivot(path, recs, envs):
    """Compact tables for bench/README.md: one line per workload and side, one
    column per rank count, cells "ratio (library MB/s vs baseline MB/s)"."""
    cores = int(envs.get(0, {}).get("cores", "0") or 0)
    ranks = sorted({r["ranks"] for r in recs})
    multi = several_mpis(recs)
    lines = ["Cells: median ratio, and in brackets median MB/s library / baseline; "
             "(miss) = target missed, (info) = not the like-with-like baseline, never judged; "
             "* = more ranks than the %d cores (contention)." % cores, ""]
    head = ("| MPI " if multi else "") + "| workload | lib | vs | target | " + " | ".join(
        "%d rank%s%s" % (n, "s" if n > 1 else "", "*" if cores and n > cores else "")
        for n in ranks) + " |"
    lines += [head, "|" + "---|" * (4 + multi + len(ranks))]
    keyed = {}
    for r in recs:
        if family(r["workload"]) == "meta" or not r.get("ratio_median"):
            continue
        keyed.setdefault((r["mpi"], r["workload"], r["impl"], r["baseline"]), {})[r["ranks"]] = r
    order = ["extend", "append", "read", "export", "secbench"]
    for (mpi, wl, lib, base), by_n in sorted(keyed.items(), key=lambda kv: (
            kv[0][0], order.index(family(kv[0][1])) if family(kv[0][1]) in order else 9,
            kv[0][1:])):
        cells = []
        target = None
        for n in ranks:
            r = by_n.get(n)
            if not r:
                cells.append("")
                continue
            target = r["target"] if r["judged"] else None
            mark = {"MISSED": " (miss)", "info": " (info)"}.get(r["status"], "")
            cells.append("%.2f%s [%s / %s]" % (
                r["ratio_median"], mark, fmt(mbps(r["bytes"], r["median_s"]), ".0f"),
                fmt(mbps(r["bytes"], r.get("base_median_s")), ".0f")))
        lines.append(("| %s " % mpi if multi else "") + "| %s | %s | %s | %s | %s |" % (
            wl, lib, base, fmt(target, "g"), " | ".join(cells)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_plot_data(outdir, rows, recs):
    """The plot_*.dat files of the workloads measured, and only those (a file
    of a workload not measured is removed). Returns the names written."""
    written = []
    multi = len({r["mpi"] for r in rows}) > 1
    tag = lambda mpi: (" [%s]" % mpi) if multi else ""  # noqa: E731

    def largest_row(prefix):
        sizes = set()
        for r in rows:
            m = EXTEND_RE.match(r["workload"]) or READ_RE.match(r["workload"])
            if r["workload"].startswith(prefix) and m:
                sizes.add(int(m.group(2)))
        return max(sizes) if sizes else None

    def emit(name, text):
        with open(os.path.join(outdir, name), "w") as f:
            f.write(text)
        written.append(name)

    series = {}
    for r in rows:
        series.setdefault((r["mpi"], r["workload"], r["impl"]), {}).setdefault(
            r["ranks"], []).append(r["MBps"])
    for fam, prefix in (("extend", "extend-observed"), ("read", "read-observed"),
                        ("export", "export")):
        rb = largest_row(prefix)
        keep = sorted(k for k in series if k[1].startswith(prefix) and
                      (rb is None or re.search(r"-r%d(-|$)" % rb, k[1])))
        if keep:
            text = ""
            for mpi, wl, impl in keep:
                text += 'ranks "%s %s%s"\n' % (wl, impl, tag(mpi))
                for n, v in sorted(series[(mpi, wl, impl)].items()):
                    text += "%d %.3f\n" % (n, statistics.median(v))
                text += "\n\n"
            emit("plot_bw_%s.dat" % fam, text)
    ratio, targets = {}, {}
    for r in recs:
        wl = r["workload"]
        if r.get("ratio_median") is None or r["impl"] != "sb" or not r["judged"]:
            continue
        if wl.startswith("extend-observed") or wl.startswith("read-observed") or wl == "export":
            label = "%s vs %s%s" % (wl, r["baseline"], tag(r["mpi"]))
            ratio.setdefault(label, {})[r["ranks"]] = r["ratio_median"]
            targets.setdefault(r["target"], []).append(family(wl))
    if ratio:
        text = ""
        for label, by_n in sorted(ratio.items()):
            text += 'ranks "%s"\n' % label
            for n, v in sorted(by_n.items()):
                text += "%d %.4f\n" % (n, v)
            text += "\n\n"
        emit("plot_ratio.dat", text)
        lo = min(n for by_n in ratio.values() for n in by_n)
        hi = max(n for by_n in ratio.values() for n in by_n)
        text = ""
        for t, fams in sorted(targets.items()):
            text += 'ranks "target %g (%s)"\n%d %g\n%d %g\n\n\n' % (
                t, ", ".join(sorted(set(fams))), lo, t, hi, t)
        emit("plot_ratio_targets.dat", text)
    text, done = "", set()
    for r in recs:
        m = APPEND_RE.match(r["workload"])
        if not m:
            continue
        per = int(m.group(1)) + 48
        for impl, secs in ((r["impl"], r["median_s"]), (r["baseline"], r.get("base_median_s"))):
            key = (r["mpi"], r["workload"], impl)
            if secs and key not in done:
                done.add(key)
                text += '"%s %s%s" %.1f\n' % (r["workload"], impl, tag(r["mpi"]),
                                              r["bytes"] / per / secs)
    if text:
        emit("plot_append.dat", text)
    meta = {}
    for r in rows:
        m = META_RE.match(r["workload"])
        if m and m.group(1) in ("create", "list"):
            meta.setdefault((r["mpi"], m.group(1), r["impl"]), {}).setdefault(
                int(m.group(2)), []).append(r["seconds"])
    if meta:
        text = ""
        for (mpi, step, impl), by_n in sorted(meta.items()):
            text += 'datasets "%s %s%s"\n' % (step, impl, tag(mpi))
            for n, v in sorted(by_n.items()):
                text += "%d %.6f\n" % (n, statistics.median(v))
            text += "\n\n"
        emit("plot_meta.dat", text)
    for name in PLOT_FILES:
        if name not in written and os.path.exists(os.path.join(outdir, name)):
            os.remove(os.path.join(outdir, name))
    return written


def check(rows, recs, envs, expect):
    errors = []
    fams = {family(r["workload"]) for r in rows}
    for fam in filter(None, expect.split(",")):
        if fam == "secbench" and any(e.get("secbench_db") == "absent" for e in envs.values()):
            continue
        if fam not in fams:
            errors.append("no %s measurement" % fam)
    no_h5py = any(e.get("python", "").endswith("absent") for e in envs.values())
    for r in recs:
        if r["status"] == "no baseline" and not (r["baseline"] == "h5py" and no_h5py):
            errors.append("%s at %d ranks: %s has no %s measurement" % (
                r["workload"], r["ranks"], r["impl"], r["baseline"] or "baseline"))
    for run, env in sorted(envs.items()):
        for k in ("cores", "mem_total_bytes", "fs_type", "hdf5", "mpi", "dirty_limit_bytes", "git"):
            if not env.get(k):
                errors.append("environment record%s lacks %s" % (
                    " of run %d" % (run + 1) if len(envs) > 1 else "", k))
    return errors


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--csv", help="bench.csv of one run")
    ap.add_argument("--env", help="env.txt of that run")
    ap.add_argument("--run", action="append", default=[], metavar="DIR",
                    help="a run's results directory (bench.csv, env.txt); repeatable")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if a row does not parse or a judged line lacks its baseline")
    ap.add_argument("--expect", default="",
                    help="comma list of workload families that must be present (with --check)")
    a = ap.parse_args(argv)
    runs = ([(a.csv, a.env)] if a.csv else []) + [
        (os.path.join(d, "bench.csv"), os.path.join(d, "env.txt")) for d in a.run]
    if not runs:
        ap.error("give --csv FILE or --run DIR")
    errors, rows, envs = [], [], {}
    for i, (csv_path, env_path) in enumerate(runs):
        envs[i] = read_env(env_path)
        if not os.path.exists(csv_path):
            errors.append("%s: no such file" % csv_path)
            continue
        rows += read_rows(csv_path, errors, run=i, mpi=mpi_label(envs[i]))
    recs = summarize(rows, envs)
    os.makedirs(a.out, exist_ok=True)
    write_csv(os.path.join(a.out, "summary.csv"), recs)
    write_md(os.path.join(a.out, "summary.md"), recs, envs, rows)
    write_pivot(os.path.join(a.out, "summary_pivot.md"), recs, envs)
    write_plot_data(a.out, rows, recs)
    if a.check:
        errors += check(rows, recs, envs, a.expect)
    for e in errors:
        print("summarize.py: " + e, file=sys.stderr)
    judged = [r for r in recs if r["status"] in ("met", "MISSED")]
    print("summarize.py: %d measurements, %d summary lines, targets met %d of %d -> %s" % (
        len(rows), len(recs), sum(r["status"] == "met" for r in judged), len(judged),
        os.path.join(a.out, "summary.md")))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
