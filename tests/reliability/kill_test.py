#!/usr/bin/python3
"""Killed-job harness: SIGKILL an `mpiexec -n 4 sb-acquire` at random moments
and check that no committed row is lost; then kill `secbench-db export`
mid-way and check that the source is untouched and the copy either sound or
reported incomplete.

After every acquisition kill (all processes of the job dead):
  - if the job printed `committed N` (N > 0): the store opens
    (`secbench-db status`), `secbench-db check` passes or reports the
    dataset unfinished (`_sb_incomplete`, which sb-acquire keeps until its
    last trace) and nothing else, the dataset's size
    (read back through h5py from `_sb_size`, the on-disk contract) is >= N,
    and `sb-acquire STORE --verify` passes;
  - if it printed nothing yet, the store may not exist or not open (nothing
    was promised), but if `check` passes then `--verify` must pass too.
After every export kill: the source's SHA-256 is unchanged and it still
checks; the destination is
  - absent (no file; a file HDF5 never committed, which `check` cannot open
    (exit 2); or a store without the dataset), or
  - reported incomplete: `check` exits 1 and names `_sb_incomplete` (the
    marker the export sets until the copy is finished; h5py must read it
    as TRUE), or
  - finished: `check` passes, the copy holds every row of the source and
    `sb-acquire --verify` passes.
A copy that checks but holds fewer rows than the source (in particular the
size 0 that a cut copy had before `_sb_incomplete`) is a failure: nobody
could tell it was cut short.

Trials: --trials or env SB_KILL_TRIALS (default 5); export kills: env
SB_KILL_EXPORT_TRIALS (default trials // 5, at least 2). Exit 0 iff every
trial passed. A summary line `SUMMARY {...}` gives the numbers for the report.
"""
import argparse
import ctypes
import hashlib
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import threading
import time

DATASET = "traces"


def become_subreaper():
    """Orphaned ranks (their mpiexec killed) are re-parented to us, so we can
    reap them and know they are gone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def children_of(pid):
    out = []
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            out = [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def descendants(pid):
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        for c in children_of(p):
            if c not in seen:
                seen.append(c)
                todo.append(c)
    return seen


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except OSError:
        return False


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_tree(proc):
    """SIGKILL mpiexec's process group and every descendant (Open MPI puts
    ranks in groups of their own), then wait until none is left alive."""
    victims = [proc.pid] + descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    for p in victims:
        try:
            g = os.getpgid(p)
            if g != os.getpgrp():
                os.killpg(g, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(p, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.time() + 30
    while time.time() < deadline:
        proc.poll()
        reap()
        if not any(alive(p) for p in victims):
            return True
        time.sleep(0.02)
    return False


class Job:
    """A launched command whose stdout lines are collected as they come."""

    def __init__(self, cmd, log):
        self.lines = []
        self.log = open(log, "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     text=True, errors="replace")
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def committed(self):
        n = 0
        for line in list(self.lines):
            parts = line.split()
            if len(parts) == 2 and parts[0] == "committed" and parts[1].isdigit():
                n = max(n, int(parts[1]))
        return n

    def finish(self, timeout):
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_tree(self.proc)
            rc = None
        self.reader.join(5)
        self.log.close()
        return rc

    def kill(self):
        ok = kill_tree(self.proc)
        self.reader.join(5)
        self.log.close()
        return ok


def run(cmd, timeout=120):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, errors="replace")
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return None, "timed out after %d s" % timeout


def crashed(rc, out):
    return rc is None or rc < 0 or rc >= 126 or "Sanitizer" in out or "runtime error:" in out


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def stored_size(path):
    import h5py  # Debian's, for /usr/bin/python3
    with h5py.File(path, "r") as f:
        return int(f[DATASET].attrs["_sb_size"])


def stored_marker(path):
    """(has the dataset, its _sb_incomplete as h5py reads it, or None)."""
    import h5py
    with h5py.File(path, "r") as f:
        if DATASET not in f:
            return False, None
        g = f[DATASET]
        return True, (bool(g.attrs["_sb_incomplete"]) if "_sb_incomplete" in g.attrs else None)


class Harness:
    def __init__(self, a):
        self.a = a
        self.failures = []
        self.stats = {"acquire_trials": 0, "killed_mid_run": 0, "finished_before_kill": 0,
                      "killed_before_first_commit": 0, "reported_unfinished": 0,
                      "rows_committed_max": 0,
                      "rows_lost": 0, "export_trials": 0, "export_killed": 0,
                      "export_dest_sound": 0, "export_dest_reported_incomplete": 0,
                      "export_dest_absent": 0, "export_dest_unopenable": 0,
                      "export_dest_unmarked_partial": 0}

    def mpi(self, np_):
        return [self.a.mpiexec, self.a.np_flag, str(np_)] + shlex.split(self.a.mpiexec_extra)

    def acquire_cmd(self, store, traces=None, rate=True, batch=None, commit_every=None):
        return self.mpi(self.a.np) + [self.a.acquire, store, "--dataset", DATASET,
                                      "--traces", str(traces or self.a.traces),
                                      "--samples", str(self.a.samples),
                                      "--batch", str(batch or self.a.batch),
                                      "--commit-every", str(commit_every or self.a.commit_every),
                                      "--seed", str(self.a.seed)] + \
            (["--rate", str(self.a.rate)] if self.a.rate and rate else [])

    def fail(self, trial, msg):
        self.failures.append("%s: %s" % (trial, msg))
        print("FAIL %s: %s" % (trial, msg), flush=True)

    def db(self, *args):
        return run([self.a.db] + list(args))

    def verify(self, store):
        return run([self.a.acquire, store, "--verify", "--dataset", DATASET], timeout=300)

    def check_store(self, trial, store, committed):
        """Returns True when the store passed every check."""
        if committed == 0 and not os.path.exists(store):
            self.stats["killed_before_first_commit"] += 1
            return True
        rc, out = self.db("check", store)
        if crashed(rc, out):
            self.fail(trial, "secbench-db check crashed (rc %s): %s" % (rc, out[-500:]))
            return False
        # sb-acquire marks its dataset unfinished (_sb_incomplete) until its
        # last trace: a killed acquisition is reported as that, and as
        # nothing else.
        problems = [l for l in out.splitlines() if l.startswith(DATASET + ": ")]
        if rc == 1 and problems and all(l.startswith(DATASET + ": unfinished (_sb_incomplete)")
                                        for l in problems):
            self.stats["reported_unfinished"] += 1
        elif rc != 0:
            if committed == 0:
                self.stats["killed_before_first_commit"] += 1
                return True
            self.fail(trial, "check fails after %d rows were committed: %s" % (committed, out[-500:]))
            return False
        rc, out = self.db("status", store)
        if rc != 0:
            self.fail(trial, "status fails on a store that checks: %s" % out[-300:])
        try:
            size = stored_size(store)
        except Exception as e:  # noqa: BLE001 - any failure to read is the finding
            self.fail(trial, "cannot read the size: %s" % e)
            return False
        if size < committed:
            self.stats["rows_lost"] += committed - size
            self.fail(trial, "size %d < %d committed: %d committed rows lost" %
                      (size, committed, committed - size))
        rc, out = self.verify(store)
        if rc != 0:
            self.fail(trial, "sb-acquire --verify fails (rc %s, size %d, committed %d): %s" %
                      (rc, size, committed, out[-500:]))
            return False
        return size >= committed

    def calibrate(self):
        store = os.path.join(self.a.workdir, "full.h5")
        if os.path.exists(store):
            os.remove(store)
        t0 = time.time()
        job = Job(self.acquire_cmd(store), os.path.join(self.a.workdir, "full.log"))
        rc = job.finish(timeout=600)
        took = time.time() - t0
        if rc != 0:
            with open(os.path.join(self.a.workdir, "full.log")) as f:
                err = f.read()[-1000:]
            self.fail("calibration", "the unkilled acquisition failed (rc %s): %s" % (rc, err))
            return None, None
        if job.committed() != self.a.traces:
            self.fail("calibration", "last `committed` is %d, expected %d" %
                      (job.committed(), self.a.traces))
        self.check_store("calibration", store, job.committed())
        print("calibration: %d traces in %.2f s, %d commit lines" %
              (self.a.traces, took, sum(1 for x in job.lines if x.startswith("committed"))),
              flush=True)
        return store, took

    def acquire_trial(self, k, duration, rng):
        trial = "acquire#%d" % k
        store = os.path.join(self.a.workdir, "kill%d.h5" % k)
        if os.path.exists(store):
            os.remove(store)
        delay = rng.uniform(0.0, duration)
        job = Job(self.acquire_cmd(store), os.path.join(self.a.workdir, "kill%d.log" % k))
        time.sleep(delay)
        finished = job.proc.poll() is not None
        if not job.kill():
            self.fail(trial, "processes survive SIGKILL")
        committed = job.committed()
        self.stats["acquire_trials"] += 1
        self.stats["rows_committed_max"] = max(self.stats["rows_committed_max"], committed)
        self.stats["finished_before_kill" if finished else "killed_mid_run"] += 1
        ok = self.check_store(trial, store, committed)
        print("%s %s: killed at %.2f s%s, last committed %d" %
              ("ok  " if ok else "FAIL", trial, delay, " (had finished)" if finished else "",
               committed), flush=True)
        if ok and not self.a.keep and os.path.exists(store):
            os.remove(store)

    def export_trial(self, k, source, window, rng):
        source_rows = stored_size(source)
        trial = "export#%d" % k
        dest = os.path.join(self.a.workdir, "export%d.h5" % k)
        if os.path.exists(dest):
            os.remove(dest)
        before = sha256(source)
        failed_before = len(self.failures)
        cmd = self.mpi(self.a.np) + [self.a.db, "export", "-o", dest, source, DATASET,
                                     "--chunk-size", str(self.a.export_chunk)]
        delay = rng.uniform(window[0], window[1] * 1.05)
        job = Job(cmd, os.path.join(self.a.workdir, "export%d.log" % k))
        time.sleep(delay)
        finished = job.proc.poll() is not None
        if not job.kill():
            self.fail(trial, "processes survive SIGKILL")
        self.stats["export_trials"] += 1
        self.stats["export_killed"] += 0 if finished else 1
        if sha256(source) != before:
            self.fail(trial, "the source changed")
        rc, out = self.db("check", source)
        if rc != 0:
            self.fail(trial, "the source no longer checks: %s" % out[-300:])
        outcome = "absent"
        if os.path.exists(dest):
            rc, out = self.db("check", dest)
            if crashed(rc, out):
                self.fail(trial, "check crashed on the partial copy (rc %s): %s" % (rc, out[-500:]))
                outcome = "crash"
            elif rc == 2:
                # Killed before HDF5 first wrote the file: no copy was ever
                # committed, as good as absent.
                outcome = "unopenable"
                if not out.strip():
                    self.fail(trial, "check cannot open the copy and does not say why")
            elif rc != 0:
                outcome = "reported incomplete"
                if "incomplete" not in out.lower():
                    outcome = "refused"
                    self.fail(trial, "check refuses the copy but does not report it incomplete "
                              "(rc %s): %s" % (rc, out[-500:]))
                else:
                    try:
                        has, marker = stored_marker(dest)
                        if not has or marker is not True:
                            self.fail(trial, "check says incomplete but h5py reads "
                                      "_sb_incomplete = %r" % (marker,))
                    except Exception as e:  # noqa: BLE001 - any failure to read is the finding
                        self.fail(trial, "h5py cannot read the incomplete copy: %s" % e)
            else:
                outcome = "sound"
                try:
                    has, marker = stored_marker(dest)
                    copied = stored_size(dest) if has else None
                except Exception as e:  # noqa: BLE001 - any failure to read is the finding
                    has, marker, copied = True, None, None
                    self.fail(trial, "the copy checks but cannot be read with h5py: %s" % e)
                if not has:
                    outcome = "absent"  # the store, not yet the dataset
                elif marker is not None:
                    self.fail(trial, "check passes on a copy with _sb_incomplete = %r" % marker)
                elif copied is not None and copied != source_rows:
                    # The bug of finding 8: a cut copy that looks finished.
                    outcome = "unmarked partial"
                    self.fail(trial, "the copy checks with %d of %d rows and no _sb_incomplete: "
                              "a cut copy that looks finished" % (copied, source_rows))
                elif copied is not None:
                    rc, out = self.verify(dest)
                    if rc != 0:
                        self.fail(trial, "the copy checks (size %d) but does not verify: %s" %
                                  (copied, out[-500:]))
        key = {"absent": "export_dest_absent", "sound": "export_dest_sound",
               "unopenable": "export_dest_unopenable",
               "unmarked partial": "export_dest_unmarked_partial",
               "reported incomplete": "export_dest_reported_incomplete"}.get(outcome)
        if key:
            self.stats[key] += 1
        print("%s: killed at %.2f s%s, destination %s" %
              (trial, delay, " (had finished)" if finished else "", outcome), flush=True)
        if not self.a.keep and len(self.failures) == failed_before and os.path.exists(dest):
            os.remove(dest)

    def export_source(self):
        """A larger store than the kill trials', written at full speed, so that
        an export takes long enough to be killed in the middle."""
        store = os.path.join(self.a.workdir, "export_src.h5")
        if os.path.exists(store):
            os.remove(store)
        # Batches of 5000: its rows are what matters, not how they came
        # (1500 small collective batches take minutes on MPICH, 2 cores).
        rc, out = run(self.acquire_cmd(store, self.a.export_traces, rate=False, batch=5000,
                                       commit_every=50000), timeout=600)
        if rc != 0:
            self.fail("export source", "sb-acquire failed: %s" % out[-500:])
            return None
        return store

    def export_duration(self, source):
        """Times an unkilled export: when the destination appears and when
        the export ends, so that kills land between the two (mpiexec's start
        is not what this test is about)."""
        dest = os.path.join(self.a.workdir, "export_full.h5")
        if os.path.exists(dest):
            os.remove(dest)
        cmd = self.mpi(self.a.np) + [self.a.db, "export", "-o", dest, source, DATASET,
                                     "--chunk-size", str(self.a.export_chunk)]
        t0 = time.time()
        job = Job(cmd, os.path.join(self.a.workdir, "export_full.log"))
        appeared = None
        while job.proc.poll() is None and time.time() - t0 < 600:
            if appeared is None and os.path.exists(dest):
                appeared = time.time() - t0
            time.sleep(0.005)
        rc = job.finish(timeout=5)
        took = time.time() - t0
        if rc != 0:
            self.fail("export calibration", "the unkilled export failed (rc %s)" % rc)
            return None
        rc, out = self.verify(dest)
        if rc != 0:
            self.fail("export calibration", "the exported copy does not verify: %s" % out[-500:])
        print("export calibration: destination after %.2f s, done after %.2f s" %
              (appeared or 0.0, took), flush=True)
        return (appeared or 0.0, took)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--acquire", required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--mpiexec", default="mpiexec")
    p.add_argument("--np-flag", default="-n")
    p.add_argument("--mpiexec-extra", default="--oversubscribe --allow-run-as-root")
    p.add_argument("--np", type=int, default=4)
    p.add_argument("--workdir", required=True)
    p.add_argument("--traces", type=int, default=4000)
    p.add_argument("--samples", type=int, default=200)
    p.add_argument("--batch", type=int, default=100)
    p.add_argument("--commit-every", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rate", type=int, default=0,
                   help="traces/s limit of sb-acquire, to stretch a run over the kill window")
    p.add_argument("--export-chunk", type=int, default=1000)
    p.add_argument("--export-traces", type=int, default=150000)
    p.add_argument("--trials", type=int, default=int(os.environ.get("SB_KILL_TRIALS", "5")))
    p.add_argument("--random-seed", type=int,
                   default=int(os.environ.get("SB_KILL_SEED", str(int(time.time())))))
    p.add_argument("--keep", action="store_true", help="keep the stores of passed trials")
    a = p.parse_args()
    os.makedirs(a.workdir, exist_ok=True)
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    become_subreaper()
    rng = random.Random(a.random_seed)
    print("kill test: %d trials, random seed %d (SB_KILL_SEED reproduces)" %
          (a.trials, a.random_seed), flush=True)
    h = Harness(a)
    source, duration = h.calibrate()
    if source is None:
        print("SUMMARY " + json.dumps(h.stats))
        return 1
    # Kill anywhere from launch to a bit past the usual end.
    for k in range(a.trials):
        h.acquire_trial(k, duration * 1.05, rng)
    export_trials = int(os.environ.get("SB_KILL_EXPORT_TRIALS", str(max(2, a.trials // 5))))
    source = h.export_source()
    took = h.export_duration(source) if source else None
    if took is not None:
        for k in range(export_trials):
            h.export_trial(k, source, took, rng)
    print("SUMMARY " + json.dumps(h.stats))
    if h.failures:
        print("%d failures:" % len(h.failures))
        for f in h.failures:
            print("  " + f)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
