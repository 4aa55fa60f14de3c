#!/usr/bin/python3
"""Summary of a benchmark CSV: per workload and rank count, median and min of
the library and of each baseline, their ratio, the issue's target and whether
it is met, with the notes that qualify a figure (page cache, oversubscribed
ranks). Writes summary.csv, summary.md and the plot_*.dat files plot.gnuplot
reads. With --check, also fails (exit 1) when a row does not parse or a
workload lacks a side: what the CI smoke test asserts. Standard library only.
"""
import argparse
import csv
import os
import statistics
import sys

COLUMNS = ["workload", "ranks", "bytes", "rep", "impl", "seconds", "MBps", "peak_rss_kib"]


def baselines(workload):
    """(baseline impl, target ratio or None) pairs, the first is the primary."""
    if workload.startswith("extend-"):
        if workload.endswith("-sync"):
            return [("mpiio-sync", 0.90)]
        return [("mpiio-sync", 0.90), ("mpiio", None)]
    if workload.startswith("read-"):
        return [("mpiio", 0.90)]
    if workload == "export":
        return [("mpiio-copy-sync", 0.80), ("mpiio-copy", None)]
    if workload.startswith("append-"):
        return [("fwrite", 0.5), ("h5py", 100.0)]
    if workload.startswith("meta-"):
        return [("h5py", None)]
    if workload.startswith("secbench-"):
        return [("h5py", 1.0)]
    return []


def family(workload):
    return workload.split("-")[0]


def read_rows(path, errors):
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
                     "MBps": float(rec[6]), "rss": int(rec[7]) if rec[7] else None}
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
        elif workload.endswith("-sync"):
            notes.append("fsync'd: disk")
        elif limit and nbytes < limit:
            notes.append("fits the dirty-page limit: memory speed")
    return "; ".join(notes)


def summarize(rows, env):
    groups = {}
    for r in rows:
        groups.setdefault((r["workload"], r["ranks"]), []).append(r)
    out = []
    for (wl, ranks), grp in sorted(groups.items(), key=lambda kv: (family(kv[0][0]), kv[0])):
        by_impl = {}
        for r in grp:
            by_impl.setdefault(r["impl"], []).append(r)
        nbytes = max(r["bytes"] for r in grp)
        libs = sorted(i for i in by_impl if i.startswith("sb"))
        for lib in libs:
            lmed, lmin, n = stats(by_impl[lib])
            rss = max((r["rss"] for r in by_impl[lib] if r["rss"] is not None), default=None)
            for base, target in baselines(wl) or [(None, None)]:
                rec = {"workload": wl, "ranks": ranks, "bytes": nbytes, "impl": lib,
                       "baseline": base or "", "reps": n, "median_s": lmed, "min_s": lmin,
                       "rss_kib": rss, "target": target}
                if base in by_impl:
                    bmed, bmin, _ = stats(by_impl[base])
                    brss = max((r["rss"] for r in by_impl[base] if r["rss"] is not None),
                               default=None)
                    rec.update(base_median_s=bmed, base_min_s=bmin, base_rss_kib=brss,
                               ratio_median=bmed / lmed, ratio_min=bmin / lmin)
                    if target is None:
                        rec["status"] = "-"
                    else:
                        rec["status"] = "met" if rec["ratio_median"] >= target else "MISSED"
                else:
                    rec["status"] = "no baseline"
                rec["notes"] = notes_for(wl, ranks, nbytes, env)
                out.append(rec)
    return out


def fmt(v, spec):
    return "" if v is None else format(v, spec)


def write_csv(path, recs):
    cols = ["workload", "ranks", "bytes", "impl", "baseline", "reps", "median_s", "min_s",
            "base_median_s", "base_min_s", "ratio_median", "ratio_min", "target", "status",
            "rss_kib", "base_rss_kib", "notes"]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        for r in recs:
            w.writerow([r.get(c, "") if r.get(c) is not None else "" for c in cols])


def mbps(nbytes, secs):
    return nbytes / secs / 1e6 if secs and nbytes else None


def md_table(recs, fam, env):
    lines = []
    sel = [r for r in recs if family(r["workload"]) == fam]
    if not sel:
        return lines
    if fam == "meta":
        lines.append("| step, datasets | impl | vs | median s | min s | baseline median s "
                     "| ratio (median) | ratio (min) |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for r in sel:
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["workload"], r["impl"], r["baseline"], fmt(r["median_s"], ".6f"),
                fmt(r["min_s"], ".6f"), fmt(r.get("base_median_s"), ".6f"),
                fmt(r.get("ratio_median"), ".2f"), fmt(r.get("ratio_min"), ".2f")))
        return lines
    lines.append("| workload | ranks | MB | impl | vs | lib MB/s (median) | base MB/s (median) "
                 "| ratio median | ratio min | target | status | notes |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in sel:
        extra = ""
        if r.get("rss_kib") is not None:
            extra = "; peak RSS/rank lib %.0f MiB, base %.0f MiB" % (
                r["rss_kib"] / 1024, (r.get("base_rss_kib") or 0) / 1024)
            chunk = int(env.get("export_chunk_bytes", "0") or 0)
            if chunk:
                ok = r["rss_kib"] * 1024 <= chunk + (64 << 20)
                extra += " (target <= chunk %.0f MiB + 64 MiB: %s)" % (chunk / 2**20,
                                                                      "met" if ok else "MISSED")
        if fam == "append":
            rate = lambda s: r["bytes"] / (1048 * s) if s else None  # noqa: E731
            extra += "; appends/s lib %.0f, base %s" % (
                rate(r["median_s"]), fmt(rate(r.get("base_median_s")), ".0f"))
        lines.append("| %s | %d | %.1f | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["workload"], r["ranks"], r["bytes"] / 1e6, r["impl"], r["baseline"],
            fmt(mbps(r["bytes"], r["median_s"]), ".0f"),
            fmt(mbps(r["bytes"], r.get("base_median_s")), ".0f"),
            fmt(r.get("ratio_median"), ".3f"), fmt(r.get("ratio_min"), ".3f"),
            fmt(r["target"], "g"), r["status"], (r["notes"] + extra).strip("; ")))
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


def write_md(path, recs, env):
    keys = ["date", "git", "host", "cores", "loadavg_start", "loadavg_end", "cpu", "mem_total_bytes", "fs_type",
            "fs_mount_type", "fs_mount", "data_dir", "dirty_limit_bytes", "dirty_limit_source",
            "secbench_storage", "hdf5", "mpi", "mpi_io_component",
            "OMPI_MCA_io", "launcher", "python", "sync", "smoke", "bytes", "row_sizes",
            "reps", "ranks", "hints", "export_chunk_bytes", "secbench_db"]
    lines = ["# Benchmark summary", "", "Ratios are throughput ratios, library / baseline "
             "(baseline seconds / library seconds): above 1 the library is faster. MB = 10^6 "
             "bytes.", "", "## Environment", ""]
    for k in keys:
        if k in env:
            lines.append("- %s: %s" % (k, env[k]))
    titles = [("extend", "1. Collective extend"), ("append", "2. Serial append"),
              ("read", "3. Collective read"), ("export", "4. Parallel export"),
              ("meta", "5. Metadata"), ("secbench", "6. secbench-db benchmark vs h5py")]
    for fam, title in titles:
        t = md_table(recs, fam, env)
        if t:
            lines += ["", "## " + title, ""] + t
            if fam == "meta":
                lines += [""] + meta_flatness(recs)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_pivot(path, recs, env):
    """Compact tables for bench/README.md: one line per workload and side, one
    column per rank count, cells "ratio (library MB/s vs baseline MB/s)"."""
    cores = int(env.get("cores", "0") or 0)
    ranks = sorted({r["ranks"] for r in recs})
    lines = ["Cells: median ratio, and in brackets median MB/s library / baseline; "
             "* = more ranks than the %d cores (contention)." % cores, ""]
    head = "| workload | lib | vs | target | " + " | ".join(
        "%d rank%s%s" % (n, "s" if n > 1 else "", "*" if cores and n > cores else "")
        for n in ranks) + " |"
    lines += [head, "|" + "---|" * (4 + len(ranks))]
    keyed = {}
    for r in recs:
        if family(r["workload"]) in ("meta",) or not r.get("ratio_median"):
            continue
        keyed.setdefault((r["workload"], r["impl"], r["baseline"]), {})[r["ranks"]] = r
    for (wl, lib, base), by_n in sorted(keyed.items(), key=lambda kv: (
            ["extend", "append", "read", "export", "secbench"].index(family(kv[0][0]))
            if family(kv[0][0]) in ("extend", "append", "read", "export", "secbench") else 9,
            kv[0])):
        cells = []
        target = None
        for n in ranks:
            r = by_n.get(n)
            if not r:
                cells.append("")
                continue
            target = r["target"]
            mark = "" if r["status"] != "MISSED" else " (miss)"
            cells.append("%.2f%s [%s / %s]" % (
                r["ratio_median"], mark, fmt(mbps(r["bytes"], r["median_s"]), ".0f"),
                fmt(mbps(r["bytes"], r.get("base_median_s")), ".0f")))
        lines.append("| %s | %s | %s | %s | %s |" % (wl, lib, base, fmt(target, "g"),
                                                     " | ".join(cells)))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_plot_data(outdir, rows, recs):
    """plot_bw_<family>.dat, plot_ratio.dat, plot_append.dat for plot.gnuplot."""
    def largest_row(prefix):
        sizes = set()
        for r in rows:
            if r["workload"].startswith(prefix):
                part = [p for p in r["workload"].split("-") if p.startswith("r") and p[1:].isdigit()]
                if part:
                    sizes.add(int(part[0][1:]))
        return max(sizes) if sizes else None

    series = {}
    for r in rows:
        series.setdefault((r["workload"], r["impl"]), {}).setdefault(r["ranks"], []).append(
            r["MBps"])
    for fam, prefix in (("extend", "extend-observed"), ("read", "read-observed"),
                        ("export", "export")):
        rb = largest_row(prefix)
        keep = sorted(k for k in series if k[0].startswith(prefix) and
                      (rb is None or "-r%d" % rb in k[0]))
        with open(os.path.join(outdir, "plot_bw_%s.dat" % fam), "w") as f:
            for wl, impl in keep:
                f.write('ranks "%s %s"\n' % (wl, impl))
                for n, v in sorted(series[(wl, impl)].items()):
                    f.write("%d %.3f\n" % (n, statistics.median(v)))
                f.write("\n\n")
            if not keep:
                f.write('ranks "none"\n1 0\n')
    ratio = {}
    for r in recs:
        wl = r["workload"]
        if r.get("ratio_median") is None or r["impl"] != "sb":
            continue
        if (wl.startswith("extend-observed") or wl.startswith("read-observed") or
                wl == "export") and r["baseline"] == baselines(wl)[0][0]:
            ratio.setdefault("%s vs %s" % (wl, r["baseline"]), {})[r["ranks"]] = r["ratio_median"]
    with open(os.path.join(outdir, "plot_ratio.dat"), "w") as f:
        for label, by_n in sorted(ratio.items()):
            f.write('ranks "%s"\n' % label)
            for n, v in sorted(by_n.items()):
                f.write("%d %.4f\n" % (n, v))
            f.write("\n\n")
        if not ratio:
            f.write('ranks "none"\n1 0\n')
    with open(os.path.join(outdir, "plot_append.dat"), "w") as f:
        done = set()
        for r in recs:
            if family(r["workload"]) != "append":
                continue
            per = lambda s: r["bytes"] / 1048 / s  # noqa: E731
            if (r["workload"], r["impl"]) not in done:
                done.add((r["workload"], r["impl"]))
                f.write('"%s %s" %.1f\n' % (r["workload"], r["impl"], per(r["median_s"])))
            if r.get("base_median_s") and (r["workload"], r["baseline"]) not in done:
                done.add((r["workload"], r["baseline"]))
                f.write('"%s %s" %.1f\n' % (r["workload"], r["baseline"], per(r["base_median_s"])))
        if not done:
            f.write('"none" 1\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--csv", required=True)
    ap.add_argument("--env")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check", action="store_true",
                    help="exit 1 if a row does not parse or a workload lacks a side")
    ap.add_argument("--expect", default="",
                    help="comma list of workload families that must be present (with --check)")
    a = ap.parse_args()
    errors = []
    rows = read_rows(a.csv, errors) if os.path.exists(a.csv) else []
    if not os.path.exists(a.csv):
        errors.append("%s: no such file" % a.csv)
    env = read_env(a.env)
    recs = summarize(rows, env)
    os.makedirs(a.out, exist_ok=True)
    write_csv(os.path.join(a.out, "summary.csv"), recs)
    write_md(os.path.join(a.out, "summary.md"), recs, env)
    write_pivot(os.path.join(a.out, "summary_pivot.md"), recs, env)
    write_plot_data(a.out, rows, recs)
    if a.check:
        fams = {family(r["workload"]) for r in rows}
        for fam in filter(None, a.expect.split(",")):
            if fam == "secbench" and env.get("secbench_db") == "absent":
                continue
            if fam not in fams:
                errors.append("no %s measurement in %s" % (fam, a.csv))
        for r in recs:
            if r["status"] == "no baseline" and not (r["baseline"] == "h5py" and
                                                      env.get("python", "").endswith("absent")):
                errors.append("%s at %d ranks: %s has no %s measurement" % (
                    r["workload"], r["ranks"], r["impl"], r["baseline"]))
        for k in ("cores", "mem_total_bytes", "fs_type", "hdf5", "mpi", "dirty_limit_bytes"):
            if not env.get(k):
                errors.append("environment record lacks %s" % k)
    for e in errors:
        print("summarize.py: " + e, file=sys.stderr)
    print("summarize.py: %d measurements, %d summary lines -> %s" % (
        len(rows), len(recs), os.path.join(a.out, "summary.md")))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
