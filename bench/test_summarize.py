#!/usr/bin/python3
"""Unit tests of summarize.py: synthetic CSV rows in, verdicts out.

Each line must be judged against its like-with-like baseline only (the stale
cases of the issue: no-sync extend judged against mpiio-sync and "met" at
2.70; since commits alone sync, -sync lines against mpiio-sync), with
the targets of the next library work; the plot data holds only what was
measured. Standard library only; run directly or through ctest
(bench_summarize_unit).
"""
import contextlib
import io
import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import summarize  # noqa: E402

OMPI = {"cores": "2", "mpi": "Open MPI v4.1.4; package: Debian OpenMPI", "git": "abc1234",
        "mpi_io_component": "ompio (io_base_verbose: selected by Open MPI)",
        "mem_total_bytes": "1", "fs_type": "ext4", "hdf5": "1.10.8",
        "dirty_limit_bytes": "1000"}
MPICH = dict(OMPI, mpi="MPICH Version:\t4.0.2", mpi_io_component="ROMIO")


def rows_of(spec, run=0, env=OMPI, nbytes=10**6):
    """spec: (workload, ranks, impl, seconds) tuples -> rows as read_rows makes them."""
    label = summarize.mpi_label(env)
    return [{"workload": w, "ranks": n, "bytes": nbytes, "rep": 1, "impl": i, "seconds": s,
             "MBps": nbytes / s / 1e6, "rss": None, "run": run, "mpi": label}
            for (w, n, i, s) in spec]


def summarize_spec(spec, env=OMPI):
    return summarize.summarize(rows_of(spec, env=env), {0: env})


def line(recs, workload, ranks, impl, baseline):
    found = [r for r in recs if (r["workload"], r["ranks"], r["impl"], r["baseline"]) ==
             (workload, ranks, impl, baseline)]
    if len(found) != 1:
        raise AssertionError("%d lines for %s %d %s vs %s" % (len(found), workload, ranks, impl,
                                                              baseline))
    return found[0]


class ExtendTest(unittest.TestCase):
    def test_no_sync_line_is_judged_against_mpiio_not_mpiio_sync(self):
        # The stale case: 2.70 against mpiio-sync (which syncs, the library
        # does not) used to read "met"; the like-with-like mpiio says 0.50.
        recs = summarize_spec([("extend-observed-r1024", 1, "sb", 1.0),
                               ("extend-observed-r1024", 1, "mpiio", 0.5),
                               ("extend-observed-r1024", 1, "mpiio-sync", 2.7)])
        lw = line(recs, "extend-observed-r1024", 1, "sb", "mpiio")
        self.assertEqual(lw["status"], "MISSED")
        self.assertAlmostEqual(lw["ratio_median"], 0.5)
        self.assertEqual(lw["target"], 0.9)
        other = line(recs, "extend-observed-r1024", 1, "sb", "mpiio-sync")
        self.assertAlmostEqual(other["ratio_median"], 2.7)
        self.assertEqual(other["status"], "info")
        self.assertFalse(other["judged"])
        self.assertIn("not like-with-like", other["notes"])

    def test_no_sync_line_met(self):
        recs = summarize_spec([("extend-raw-r65536", 2, "sb", 1.0),
                               ("extend-raw-r65536", 2, "mpiio", 0.95)])
        self.assertEqual(line(recs, "extend-raw-r65536", 2, "sb", "mpiio")["status"], "met")

    def test_sync_line_is_judged_against_mpiio_sync(self):
        # Both sides sync at the same point (the commit at close), so a -sync
        # line is like-with-like with mpiio-sync; it used to be shown only,
        # when the library synced at every extend call.
        recs = summarize_spec([("extend-raw-r1024-sync", 1, "sb", 1.0),
                               ("extend-raw-r1024-sync", 1, "mpiio-sync", 0.3),
                               ("extend-raw-r1024-sync", 1, "mpiio", 0.2)])
        r = line(recs, "extend-raw-r1024-sync", 1, "sb", "mpiio-sync")
        self.assertTrue(r["judged"])
        self.assertEqual(r["status"], "MISSED")
        self.assertEqual(line(recs, "extend-raw-r1024-sync", 1, "sb", "mpiio")["status"], "info")

    def test_commit_every_k_is_judged_at_1_and_2_ranks(self):
        wl = "extend-observed-r65536-sync-k16"
        env = dict(OMPI, cores="8")
        recs = summarize_spec([(wl, 1, "sb", 1.0), (wl, 1, "mpiio-sync", 0.95),
                               (wl, 1, "mpiio", 0.2),
                               (wl, 2, "sb", 1.0), (wl, 2, "mpiio-sync", 0.85),
                               (wl, 4, "sb", 1.0), (wl, 4, "mpiio-sync", 0.5)], env=env)
        self.assertEqual(line(recs, wl, 1, "sb", "mpiio-sync")["status"], "met")
        self.assertEqual(line(recs, wl, 2, "sb", "mpiio-sync")["status"], "MISSED")
        four = line(recs, wl, 4, "sb", "mpiio-sync")
        self.assertEqual(four["status"], "not judged")
        self.assertIn("target set at 1, 2 ranks", four["notes"])
        self.assertEqual(line(recs, wl, 1, "sb", "mpiio")["status"], "info")

    def test_oversubscribed_lines_are_not_judged(self):
        recs = summarize_spec([("read-raw-r1024", 4, "sb", 1.0),
                               ("read-raw-r1024", 4, "mpiio", 0.1)])
        r = line(recs, "read-raw-r1024", 4, "sb", "mpiio")
        self.assertEqual(r["status"], "not judged")
        self.assertIn("oversubscribed", r["notes"])

    def test_only_the_default_path_is_judged(self):
        wl = "extend-raw-r1024"
        recs = summarize_spec([(wl, 1, "sb", 1.0), (wl, 1, "sb-collective", 2.0),
                               (wl, 1, "sb-independent", 1.0), (wl, 1, "mpiio", 0.95)])
        self.assertEqual(line(recs, wl, 1, "sb", "mpiio")["status"], "met")
        self.assertEqual(line(recs, wl, 1, "sb-collective", "mpiio")["status"], "info")
        self.assertEqual(line(recs, wl, 1, "sb-independent", "mpiio")["status"], "info")


class OtherWorkloadsTest(unittest.TestCase):
    def test_append_default_path_against_fwrite_and_h5py(self):
        recs = summarize_spec([("append-s1000", 1, "sb", 1.0), ("append-s1000", 1, "fwrite", 0.4),
                               ("append-s1000", 1, "h5py", 120.0),
                               ("append-s1000", 1, "sb-buffered", 0.1)])
        fw = line(recs, "append-s1000", 1, "sb", "fwrite")
        self.assertEqual((fw["target"], fw["status"]), (0.5, "MISSED"))
        py = line(recs, "append-s1000", 1, "sb", "h5py")
        self.assertEqual((py["target"], py["status"]), (100.0, "met"))
        buf = line(recs, "append-s1000", 1, "sb-buffered", "fwrite")
        self.assertAlmostEqual(buf["ratio_median"], 4.0)
        self.assertEqual(buf["status"], "info")

    def test_append_of_another_trace_size_is_shown_only(self):
        recs = summarize_spec([("append-s500", 1, "sb", 1.0), ("append-s500", 1, "fwrite", 0.9)])
        self.assertEqual(line(recs, "append-s500", 1, "sb", "fwrite")["status"], "info")

    def test_meta_create_must_beat_h5py_at_every_size(self):
        recs = summarize_spec([("meta-create-n10", 1, "sb", 1.0),
                               ("meta-create-n10", 1, "h5py", 1.3),
                               ("meta-create-n10000", 1, "sb", 1.0),
                               ("meta-create-n10000", 1, "h5py", 0.57),
                               ("meta-list-n10000", 1, "sb", 1.0),
                               ("meta-list-n10000", 1, "h5py", 0.5)])
        self.assertEqual(line(recs, "meta-create-n10", 1, "sb", "h5py")["status"], "met")
        big = line(recs, "meta-create-n10000", 1, "sb", "h5py")
        self.assertEqual((big["status"], big["target"]), ("MISSED", 1.0))
        self.assertEqual(line(recs, "meta-list-n10000", 1, "sb", "h5py")["status"], "info")

    def test_export_against_the_copy_that_does_not_sync(self):
        recs = summarize_spec([("export", 1, "sb", 1.0), ("export", 1, "mpiio-copy", 0.7),
                               ("export", 1, "mpiio-copy-sync", 1.5)])
        self.assertEqual(line(recs, "export", 1, "sb", "mpiio-copy")["status"], "MISSED")
        self.assertEqual(line(recs, "export", 1, "sb", "mpiio-copy-sync")["status"], "info")

    def test_unknown_workload_is_shown_not_judged(self):
        recs = summarize_spec([("frobnicate", 1, "sb", 1.0), ("frobnicate", 1, "posix", 0.5)])
        self.assertEqual(line(recs, "frobnicate", 1, "sb", "posix")["status"], "info")


class CheckTest(unittest.TestCase):
    def test_judged_line_without_its_baseline_fails_the_check(self):
        rows = rows_of([("extend-raw-r1024", 1, "sb", 1.0),
                        ("extend-raw-r1024", 1, "mpiio-sync", 0.5)])
        recs = summarize.summarize(rows, {0: OMPI})
        self.assertEqual(line(recs, "extend-raw-r1024", 1, "sb", "mpiio")["status"],
                         "no baseline")
        errors = summarize.check(rows, recs, {0: OMPI}, "extend")
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("no mpiio measurement", errors[0])

    def test_missing_information_side_is_not_an_error(self):
        rows = rows_of([("extend-raw-r1024-sync", 1, "sb", 1.0),
                        ("extend-raw-r1024-sync", 1, "mpiio-sync", 0.5),
                        ("export", 1, "sb", 1.0), ("export", 1, "mpiio-copy", 1.0)])
        recs = summarize.summarize(rows, {0: OMPI})
        self.assertEqual(summarize.check(rows, recs, {0: OMPI}, "extend,export"), [])
        self.assertEqual(len(recs), 2)

    def test_expected_family_absent_and_environment_incomplete(self):
        rows = rows_of([("export", 1, "sb", 1.0), ("export", 1, "mpiio-copy", 1.0)])
        env = dict(OMPI)
        del env["git"]
        recs = summarize.summarize(rows, {0: env})
        errors = summarize.check(rows, recs, {0: env}, "export,append")
        self.assertEqual(sorted(errors), ["environment record lacks git", "no append measurement"])


class MpiTest(unittest.TestCase):
    def test_mpi_labels(self):
        self.assertEqual(summarize.mpi_label(OMPI), "Open MPI v4.1.4/ompio")
        self.assertEqual(summarize.mpi_label(MPICH), "MPICH 4.0.2/ROMIO")

    def test_collective_against_independent_on_both_mpis(self):
        wl = "extend-raw-r1024"
        rows = rows_of([(wl, 2, "sb", 1.0), (wl, 2, "sb-independent", 1.0),
                        (wl, 2, "sb-collective", 2.0), (wl, 2, "mpiio", 1.0)], run=0, env=OMPI) \
            + rows_of([(wl, 2, "sb", 1.0), (wl, 2, "sb-independent", 1.0),
                       (wl, 2, "sb-collective", 0.5), (wl, 2, "mpiio", 0.5)], run=1, env=MPICH)
        envs = {0: OMPI, 1: MPICH}
        recs = summarize.summarize(rows, envs)
        cvi = summarize.coll_vs_indep(recs, rows)
        by_mpi = {c["mpi"]: c["ratio"] for c in cvi}
        self.assertEqual(by_mpi, {"Open MPI v4.1.4/ompio": 0.5, "MPICH 4.0.2/ROMIO": 2.0})
        # Each MPI's lines are judged against its own baseline.
        judged = {r["mpi"]: r["status"] for r in recs
                  if r["impl"] == "sb" and r["baseline"] == "mpiio"}
        self.assertEqual(judged, {"Open MPI v4.1.4/ompio": "met", "MPICH 4.0.2/ROMIO": "MISSED"})


class OutputTest(unittest.TestCase):
    def test_plot_data_only_for_what_was_measured(self):
        with tempfile.TemporaryDirectory() as d:
            stale = os.path.join(d, "plot_bw_extend.dat")
            with open(stale, "w") as f:
                f.write('ranks "old"\n1 1\n')
            rows = rows_of([("append-s1000", 1, "sb", 1.0), ("append-s1000", 1, "fwrite", 0.4)])
            recs = summarize.summarize(rows, {0: OMPI})
            written = summarize.write_plot_data(d, rows, recs)
            self.assertEqual(written, ["plot_append.dat"])
            self.assertEqual(sorted(f for f in os.listdir(d) if f.startswith("plot_")),
                             ["plot_append.dat"])

    def test_ratio_plot_holds_judged_lines_and_their_targets(self):
        with tempfile.TemporaryDirectory() as d:
            rows = rows_of([("extend-observed-r1024", n, i, s) for n in (1, 2)
                            for i, s in (("sb", 1.0), ("mpiio", 0.9), ("mpiio-sync", 2.0))])
            recs = summarize.summarize(rows, {0: OMPI})
            written = summarize.write_plot_data(d, rows, recs)
            self.assertEqual(sorted(written), ["plot_bw_extend.dat", "plot_ratio.dat",
                                               "plot_ratio_targets.dat"])
            with open(os.path.join(d, "plot_ratio.dat")) as f:
                text = f.read()
            self.assertIn("vs mpiio\"", text)
            self.assertNotIn("mpiio-sync", text)
            with open(os.path.join(d, "plot_ratio_targets.dat")) as f:
                self.assertIn("target 0.9 (extend)", f.read())

    def test_command_line_end_to_end(self):
        with tempfile.TemporaryDirectory() as d:
            runs = []
            for k, env in enumerate((OMPI, MPICH)):
                run = os.path.join(d, "run%d" % k)
                os.makedirs(run)
                with open(os.path.join(run, "env.txt"), "w") as f:
                    f.write("".join("%s=%s\n" % kv for kv in env.items()))
                with open(os.path.join(run, "bench.csv"), "w") as f:
                    f.write(",".join(summarize.COLUMNS) + "\n")
                    f.write("extend-observed-r1024,1,1000000,1,sb,1.0,1.0,\n")
                    f.write("extend-observed-r1024,1,1000000,1,mpiio,0.5,2.0,\n")
                    f.write("extend-observed-r1024,1,1000000,1,mpiio-sync,2.7,0.37,\n")
                runs += ["--run", run]
            out = os.path.join(d, "out")
            with contextlib.redirect_stdout(io.StringIO()):
                rc = summarize.main(runs + ["--out", out, "--check", "--expect", "extend"])
            self.assertEqual(rc, 0)
            with open(os.path.join(out, "summary.md")) as f:
                md = f.read()
            targets = md.split("## Targets", 1)[1].split("## ", 1)[0]
            self.assertIn("Verdicts: MISSED 2", targets)
            self.assertNotIn("mpiio-sync", targets)
            self.assertIn("MPICH 4.0.2/ROMIO", md)
            # A row that does not parse fails the check.
            with open(os.path.join(d, "run0", "bench.csv"), "a") as f:
                f.write("extend-observed-r1024,1,1000000,1,sb,not-a-number,1.0,\n")
            with contextlib.redirect_stdout(io.StringIO()), \
                    contextlib.redirect_stderr(io.StringIO()) as err:
                rc = summarize.main(runs + ["--out", out, "--check"])
            self.assertEqual(rc, 1)
            self.assertIn("could not convert", err.getvalue())


if __name__ == "__main__":
    unittest.main(verbosity=2)
