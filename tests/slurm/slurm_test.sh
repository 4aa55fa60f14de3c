#!/usr/bin/env bash
# Slurm tests: the batch scripts of slurm/ submitted to a real cluster started by
# scripts/slurm-local.sh (one node, or three nodes in network namespaces), and what
# they produced checked independently (h5py, secbench-db check, sb-acquire --verify).
#
# Single node:
#   slurm_test.sh start | stop                 the ctest fixture around the others
#   slurm_test.sh acquire srun|mpirun          acquire.sbatch with either launcher
#   slurm_test.sh resume                       a stopped acquisition resubmitted
#   slurm_test.sh preprocess | pipeline | bench
# Three nodes (SB_SLURM_NODES=3, its own scratch folder and ports):
#   slurm_test.sh cluster-start | cluster-stop the fixture; stop also proves that no
#                                              daemon, namespace or link is left
#   slurm_test.sh cluster-where                ranks on 3 hosts, no shared memory between them
#   slurm_test.sh cluster-acquire              time slices at 2 and 1 tasks per node,
#                                              each verifying only its own rows
#   slurm_test.sh cluster-preprocess | cluster-pipeline | cluster-multinode
# No Slurm needed:
#   slurm_test.sh errors                       bad settings fail with a clear line
#   slurm_test.sh scripts                      resources stated, launcher detection, the
#                                              README's no-Slurm example as written
#
# Environment (set by CMake): SB_SOURCE_DIR, SB_BIN (build mpi/), SB_BENCH_DIR (build
# bench/), SB_PYTHON, SB_TEST_WORK (scratch folder), SB_WHERE (tests/slurm/mpi_where).
# SB_SKIP_SLURM=1 skips (exit 77); otherwise a Slurm that cannot be installed or
# started is a failure.
set -euo pipefail

SRC=${SB_SOURCE_DIR:?}
WORK=${SB_TEST_WORK:?}
PY=${SB_PYTHON:-/usr/bin/python3}
LOCAL="$SRC/scripts/slurm-local.sh"
SUBMIT_TIMEOUT=${SB_SLURM_SUBMIT_TIMEOUT:-300}
MARK="$WORK/slurm-started-by-test"

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*"; }

if [[ ${SB_SKIP_SLURM:-0} == 1 && ${1:-} != errors && ${1:-} != scripts ]]; then
  echo "SB_SKIP_SLURM=1: Slurm test skipped"
  exit 77
fi
mkdir -p "$WORK"
# Settings of the caller's shell (SB_VERIFY=0, SB_LAUNCHER=...) would reach the jobs
# through sbatch --export=ALL: each test sets exactly what it means.
for v in $(compgen -e); do
  case $v in
    SB_SOURCE_DIR | SB_BIN | SB_BENCH_DIR | SB_PYTHON | SB_TEST_WORK | SB_WHERE | SB_SLURM_*) ;;
    SB_*) unset "$v" ;;
  esac
done
# The three-node cluster has its own scratch folder and ports, so that it and the
# single-node one may run at the same time.
CLUSTER_NODES=3
case ${1:-} in
  cluster-*)
    export SB_SLURM_NODES=$CLUSTER_NODES SB_SLURM_DIR=${SB_SLURM_CLUSTER_DIR:-/tmp/sb-slurm-cluster}
    unset SB_SLURM_PORT SB_SLURM_CPUS SB_SLURM_MEM_MB
    MARK="$WORK/slurm-cluster-started-by-test" ;;
  *) unset SB_SLURM_NODES ;;
esac
eval "$("$LOCAL" env)"
# The jobs inherit this environment (sbatch --export=ALL): root may run Open MPI.
if [[ $(id -u) -eq 0 ]]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi

need_programs() {
  local p
  for p in "$@"; do [[ -x $p ]] || fail "$p is not built"; done
}

# submit NAME SCRIPT [sbatch options...]: run the job in a fresh folder
# $WORK/NAME, wait for it, and leave JOBID, JOBDIR and JOBOUT set. The job must
# succeed, or fail when SUBMIT_FAILS=1.
submit() {
  local name=$1 script=$2
  shift 2
  JOBDIR="$WORK/$name"
  rm -rf "$JOBDIR"
  mkdir -p "$JOBDIR"
  note "sbatch --wait $* $script (in $JOBDIR)"
  local rc=0
  (cd "$JOBDIR" && timeout "$SUBMIT_TIMEOUT" sbatch --wait "$@" "$script") >"$JOBDIR/sbatch.log" 2>&1 || rc=$?
  cat "$JOBDIR/sbatch.log"
  JOBID=$(sed -n 's/^Submitted batch job \([0-9]*\).*/\1/p' "$JOBDIR/sbatch.log")
  [[ -n $JOBID ]] || fail "sbatch did not submit $script"
  if [[ $rc -eq 124 ]]; then
    squeue -a 2>/dev/null || true
    scancel "$JOBID" 2>/dev/null || true
    fail "job $JOBID ($script) did not finish within ${SUBMIT_TIMEOUT}s"
  fi
  JOBOUT=$(compgen -G "$JOBDIR/*-$JOBID.out" | head -n1 || true)
  [[ -n $JOBOUT && -s $JOBOUT ]] || fail "job $JOBID wrote no output file *-$JOBID.out in $JOBDIR"
  echo "---- $JOBOUT"
  cat "$JOBOUT"
  echo "----"
  if [[ ${SUBMIT_FAILS:-0} == 1 ]]; then
    [[ $rc -ne 0 ]] || fail "job $JOBID ($script) succeeded where it should have failed"
  else
    [[ $rc -eq 0 ]] || fail "job $JOBID ($script) exited with $rc"
  fi
}

# job_is ID STATE EXITCODE [field=value...]: what the cluster recorded of a job
# after it ended (slurm-local.sh job: the job completion log, no sacct here).
job_is() {
  local id=$1 state=$2 code=$3 rec want
  shift 3
  rec=$("$LOCAL" job "$id") || fail "slurm-local.sh job $id: no record"
  note "job $id: $rec"
  for want in "JobState=$state" "ExitCode=$code" "$@"; do
    [[ " $rec " == *[\ ,=]"$want"[\ ,]* ]] || fail "job $id: no '$want' in its record: $rec"
  done
}

out_has() { grep -qF -- "$1" "$JOBOUT" || fail "job output $JOBOUT lacks '$1'"; }
db_check() { "$SB_BIN/secbench-db" check "$1" || fail "secbench-db check $1 failed"; }
verify() { "$SB_BIN/sb-acquire" "$1" --verify --dataset "$2" || fail "sb-acquire $1 --verify --dataset $2 failed"; }
store_is() { "$PY" "$SRC/tests/slurm/check_store.py" "$@" || fail "check_store.py $*"; }

cmd_start() {
  if "$LOCAL" status; then
    note "a local Slurm is already running; reusing it"
    rm -f "$MARK"
  else
    "$LOCAL" start || fail "could not start a local Slurm (set SB_SKIP_SLURM=1 to skip on purpose)"
    touch "$MARK"
  fi
  sinfo
}

cmd_stop() {
  [[ -e $MARK ]] || { note "Slurm was running before the tests: left running"; return 0; }
  local nodes=${SB_SLURM_NODES:-1} pids=() pid i left
  mapfile -t pids < <("$LOCAL" pids)
  # slurmctld, one slurmd a node, munged
  ((${#pids[@]} >= nodes + 1)) || fail "only ${#pids[@]} live daemons before stop (${pids[*]}), expected $((nodes + 2))"
  "$LOCAL" stop
  rm -f "$MARK"
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then fail "daemon pid $pid still alive after stop"; fi
  done
  if ((nodes > 1)); then
    left=$(ip netns list | grep -E '^sbnode[0-9]+' || true)
    [[ -z $left ]] || fail "network namespaces left after stop: $left"
    left=$(ip -o link show | grep -E 'sbslurm0|sbnode[0-9]+-v' || true)
    [[ -z $left ]] || fail "links left after stop: $left"
  fi
  # Stopping what is already stopped is no error, and finds nothing to do.
  left=$("$LOCAL" stop 2>&1) || fail "a second stop failed: $left"
  [[ -z $left ]] || fail "a second stop still found something to stop: $left"
  note "stopped ${#pids[@]} daemons${nodes:+ of $nodes node(s)}"
}

# The same small acquisition under the default launcher (srun --mpi=pmix) and
# under the site override (mpirun reading the allocation from Slurm).
cmd_acquire() {
  local launcher=$1 traces=203 samples=48
  need_programs "$SB_BIN/sb-acquire" "$SB_BIN/secbench-db"
  case $launcher in
    srun) unset SB_LAUNCHER ;;
    mpirun) export SB_LAUNCHER=mpirun ;;
    *) fail "unknown launcher $launcher" ;;
  esac
  local store="$WORK/acquire-$launcher/traces.h5"
  export SB_BIN SB_STORE=$store SB_TRACES=$traces SB_SAMPLES=$samples SB_DATASET=run \
    SB_DTYPE=int16 SB_BATCH=7 SB_COMMIT_EVERY=50 SB_SEED=11
  submit "acquire-$launcher" "$SRC/slurm/acquire.sbatch" -n 4 -t 5
  out_has "+ ${SB_LAUNCHER:-srun --mpi=pmix} "
  if [[ $launcher == srun ]]; then
    # The plugin the script chose is one this cluster offers (MpiDefault is none here).
    local chosen offered
    chosen=$(sed -n 's/.*launcher: srun --mpi=\([^ ]*\) (srun --mpi=list.*/\1/p' "$JOBOUT" | head -n1)
    offered=$(srun --mpi=list 2>&1) || fail "srun --mpi=list failed: $offered"
    if [[ -z $chosen ]] || ! grep -qw -- "$chosen" <<<"$offered"; then
      fail "the job chose --mpi='$chosen', not in: $offered"
    fi
  fi
  # More tasks than cores (the local cluster declares 8 CPUs): the script lets
  # waiting ranks yield and says so (slurm/README.md).
  if ((4 > $(nproc))); then
    out_has "4 CPUs allocated on $(nproc) cores: OMPI_MCA_mpi_yield_when_idle=1"
  fi
  # 4 tasks of 512M each, as the script states (-n 4 on the command line).
  job_is "$JOBID" COMPLETED 0:0 NodeCnt=1 ProcCnt=4 mem=2G
  out_has "committed $traces"
  out_has "verified $traces rows, 0 mismatches"
  # The acquisition records its rank count: proof that the launcher gave 4 ranks.
  store_is "$store" run --size $traces --field data:$samples --field plaintext:16 \
    --field ciphertext:16 --field key:16 --asset-json acquisition.json:ranks=4 \
    --asset-json acquisition.json:dtype=int16 --asset-json acquisition.json:seed=11
  db_check "$store"
  verify "$store" run
}

# A time-sliced acquisition: the first job stops after 120 of 203 rows, the second
# resumes the same store with another launcher and rank count; every row of the
# result must verify, since trace i never depends on the rank count.
cmd_resume() {
  need_programs "$SB_BIN/sb-acquire" "$SB_BIN/secbench-db"
  local store="$WORK/resume/traces.h5" traces=203
  rm -rf "$WORK/resume"
  mkdir -p "$WORK/resume"
  unset SB_LAUNCHER SB_DATASET SB_BATCH SB_SEED
  export SB_BIN SB_STORE=$store SB_TRACES=$traces SB_SAMPLES=32 SB_COMMIT_EVERY=40 \
    SB_MAX_ROWS=120 SB_VERIFY=0
  submit resume-1 "$SRC/slurm/acquire.sbatch" -n 4 -t 5
  out_has "committed 120"
  store_is "$store" acquisition --size 120 --field data:32
  # The stored settings carry the resumed run: no SB_TRACES, SB_SAMPLES.
  unset SB_MAX_ROWS SB_TRACES SB_SAMPLES SB_COMMIT_EVERY
  export SB_VERIFY=1 SB_LAUNCHER=mpirun
  # Without SB_BIN the programs come from PATH, as after an install.
  (export PATH="$SB_BIN:$PATH"; unset SB_BIN; submit resume-2 "$SRC/slurm/acquire.sbatch" -n 3 -t 5)
  JOBOUT=$(compgen -G "$WORK/resume-2/*.out")
  out_has "committed $traces"
  out_has "verified $traces rows, 0 mismatches"
  store_is "$store" acquisition --size $traces --field data:32
  db_check "$store"
  verify "$store" acquisition
}

cmd_preprocess() {
  need_programs "$SB_BIN/sb-acquire" "$SB_BIN/sb-preprocess" "$SB_BIN/secbench-db"
  local dir="$WORK/preprocess-input" traces=150
  rm -rf "$dir"
  mkdir -p "$dir"
  # The input is written outside Slurm, as one plain process.
  "$SB_BIN/sb-acquire" "$dir/in.h5" --dataset raw --traces $traces --samples 60 --seed 5 \
    || fail "sb-acquire could not write the preprocessing input"
  export SB_BIN SB_IN="$dir/in.h5" SB_OUT="$WORK/preprocess/out.h5" SB_DATASET=raw \
    SB_OUTPUT=filtered SB_WINDOW=10:50
  unset SB_LAUNCHER
  # SB_OUT is inside the job's folder, which submit() creates afresh.
  submit preprocess "$SRC/slurm/preprocess.sbatch" -n 4 -t 5
  out_has "--window 10:50"
  store_is "$SB_OUT" filtered --size $traces --field data:40 --field plaintext:16 \
    --asset snr:40 --asset mean:40 --asset variance:40
  db_check "$SB_OUT"
}

# cmd_pipeline NAME [sbatch options]: pipeline.sbatch under the launcher the caller chose.
cmd_pipeline() {
  local name=$1
  shift
  need_programs "$SB_BIN/sb-acquire" "$SB_BIN/sb-preprocess" "$SB_BIN/secbench-db"
  local traces=97 samples=40 out="$WORK/$name/stores"
  unset SB_DATASET
  # 97 rows in chunks of 10 over 3 or 4 ranks: uneven shares, a short last chunk.
  export SB_BIN SB_OUTDIR=$out SB_TRACES=$traces SB_SAMPLES=$samples SB_CHUNK_SIZE=10 \
    SB_SEED=3 SB_AVERAGE=4 SB_DECIMATE=2
  submit "$name" "$SRC/slurm/pipeline.sbatch" "$@"
  out_has "step 5/5"
  local ds
  ds=$("$SB_BIN/secbench-db" ls "$out/raw.h5") || fail "secbench-db ls $out/raw.h5 failed"
  ds=${ds%%$'\n'*}
  [[ -n $ds ]] || fail "no dataset in $out/raw.h5"
  store_is "$out/raw.h5" "$ds" --size $traces --field data:$samples
  store_is "$out/export.h5" "$ds" --size $traces --field data:$samples
  local pre
  pre=$("$SB_BIN/secbench-db" ls "$out/preprocessed.h5") || fail "secbench-db ls $out/preprocessed.h5 failed"
  pre=${pre%%$'\n'*}
  # 40 samples, average 4, keep one in 2: windows [2j, 2j+4) inside 40 -> 19.
  store_is "$out/preprocessed.h5" "$pre" --size $traces --field data:19 --asset snr:19
  for s in raw preprocessed export; do db_check "$out/$s.h5"; done
  verify "$out/raw.h5" "$ds"
  verify "$out/export.h5" "$ds"
}

cmd_bench() {
  local w
  for w in env extend read export; do need_programs "$SB_BENCH_DIR/bench_$w"; done
  local out="$WORK/bench/results"
  unset SB_LAUNCHER SB_BUILD_DIR
  # 8 ranks do not fit in the 4 tasks: the sweep must skip them, not fail.
  export SB_BIN SB_BENCH_RUN="$SRC/bench/run.sh" SB_RANKS="1 2 4 8" SB_OUTDIR=$out \
    SB_BENCH_ARGS="--bytes 256K --row-sizes 1K --reps 1 --chunk-rows 100 --warm-only --no-plot"
  submit bench "$SRC/slurm/bench-scaling.sbatch" -n 4 -t 10
  out_has "skip 8 ranks"
  out_has "SB_MPIEXEC=srun --mpi=pmix"
  "$PY" - "$out/bench.csv" <<'PY' || fail "$out/bench.csv does not hold the sweep"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ranks = sorted({int(r["ranks"]) for r in rows})
assert ranks == [1, 2, 4], f"rank counts in the CSV: {ranks}, expected [1, 2, 4]"
for n in ranks:
    for want in ("extend", "read", "export"):
        impls = {r["impl"] for r in rows if int(r["ranks"]) == n and r["workload"].startswith(want)}
        # The library and its baseline, side by side at every rank count.
        assert "sb" in impls and len(impls) >= 2, f"{n} ranks, {want}: impls {sorted(impls)}"
print(f"{len(rows)} rows, ranks {ranks}")
PY
  [[ -s $out/summary.md ]] || fail "no summary $out/summary.md"
  [[ ! -e $out/data ]] || fail "the benchmark files in $out/data were not removed"
}

# --- the three-node cluster ---
# The jobs below launch their MPI steps with SB_LAUNCHER=mpirun (Open MPI's daemons,
# started across the nodes by srun): srun --mpi=pmix, which cluster-where covers,
# loses about one launch in 100 to a start-up race here (slurm/README.md), and a
# test suite that runs some twenty launches must not depend on luck.
if [[ ${SB_SLURM_NODES:-1} -gt 1 ]]; then
  # Three "nodes" share this machine's cores: let waiting ranks yield (the scripts
  # only see one node's allocation against the machine's cores).
  export OMPI_MCA_mpi_yield_when_idle=1
fi

# flip_row STORE ROW: damage (or, done twice, repair) one sample of row ROW with h5py.
flip_row() {
  "$PY" - "$1" "$2" <<'PY' || fail "could not flip a sample of row $2 in $1"
import sys
import h5py
with h5py.File(sys.argv[1], "r+") as f:
    d = f["acquisition"]["data"]
    row = int(sys.argv[2])
    v = d[row]
    v[3] ^= 1
    d[row] = v
PY
}

# where NAME RANKS EXPECT [srun/env...] -- [mpi_where options]: run the check
# program on RANKS ranks, show what it says, and require EXPECT in it.
# One retry, said aloud, only for a launch in which some rank died or hung inside
# MPI_Init: Open MPI 4.1 under srun --mpi=pmix does that about once in 100
# launches on this cluster (slurm/README.md); any failure after MPI_Init fails.
where() {
  local name=$1 ranks=$2 expect=$3 rc out try past
  shift 3
  local cmd=()
  while [[ $1 != -- ]]; do cmd+=("$1"); shift; done
  shift
  for try in 1 2; do
    note "$name: ${cmd[*]} $SB_WHERE $*"
    rc=0
    out=$(timeout 120 "${cmd[@]}" "$SB_WHERE" "$@" 2>&1) || rc=$?
    echo "$out"
    [[ $rc -ne 0 ]] || break
    past=$(grep -c "past MPI_Init" <<<"$out" || true)
    if ((try == 1 && past < ranks)) && { ((rc == 124)) || grep -q "Segmentation fault" <<<"$out"; }; then
      note "$name: only $past of $ranks ranks got past MPI_Init (the start-up race of slurm/README.md): retrying once"
      continue
    fi
    fail "$name: exit $rc"
  done
  grep -qF -- "$expect" <<<"$out" || fail "$name: no '$expect' in the output"
}

# The ranks really are on 3 hosts, shared memory never joins two of them, and
# their messages cross the bridge.
cmd_cluster_where() {
  need_programs "$SB_WHERE"
  local plugin
  plugin=$(srun --mpi=list | grep -oE '\bpmix\b' | head -n1) || fail "srun --mpi=list offers no pmix"
  where "srun, 1 task per node" 3 "hosts 3 ranks 3 max_shared 1" \
    srun --mpi="$plugin" -N 3 --ntasks-per-node=1 -t 2 -- --hosts 3 --shared 1 --net
  where "srun, 2 tasks per node" 6 "hosts 3 ranks 6 max_shared 2" \
    srun --mpi="$plugin" -N 3 --ntasks-per-node=2 -t 2 -- --hosts 3 --shared 2 --net
  # Pinned to TCP, the same ring still crosses the nodes.
  where "srun, btl self,tcp" 6 "btl self,tcp" \
    env OMPI_MCA_btl=self,tcp srun --mpi="$plugin" -N 3 --ntasks-per-node=2 -t 2 -- --hosts 3 --shared 2 --net
  # Without TCP, only shared memory is left: it cannot reach a rank on another
  # node, so Open MPI must refuse.
  local out rc=0
  note "srun, btl self,vader (must fail): 1 task per node"
  out=$(OMPI_MCA_btl=self,vader timeout 120 srun --mpi="$plugin" -N 3 --ntasks-per-node=1 -t 2 "$SB_WHERE" 2>&1) || rc=$?
  echo "$out" | head -n 20
  [[ $rc -ne 0 ]] || fail "with OMPI_MCA_btl=self,vader the ranks on 3 nodes still talked"
  # The rank's own line can be lost when the step is aborted (srun stops relaying
  # its output, seen once in CI); srun's report of exit code 3, the code
  # mpi_where aborts with only there, says the same.
  grep -qE "cannot reach the other ranks|task [0-9]+: Exited with exit code 3" <<<"$out" ||
    fail "btl self,vader failed, but not because the ranks cannot reach each other"
  # mpirun inside a batch allocation reads the nodes from Slurm.
  mkdir -p "$WORK/cluster-where"
  printf '#!/bin/bash\nset -e\nmpirun %q --hosts 3 --shared 2 --net\n' "$SB_WHERE" >"$WORK/cluster-where/mpirun.sh"
  submit cluster-where-mpirun "$WORK/cluster-where/mpirun.sh" -N 3 --ntasks-per-node=2 -t 2 -o where-%j.out
  out_has "hosts 3 ranks 6 max_shared 2"
}

# A time-sliced acquisition over 3 nodes at 2 and then 1 task per node. Each slice
# verifies only its own rows: a row of the first slice damaged behind its back goes
# unnoticed by the second, and is found by the whole-store check of the slice that
# fills the dataset, which then fails.
cmd_cluster_acquire() {
  need_programs "$SB_BIN/sb-acquire" "$SB_BIN/secbench-db"
  local store="$WORK/cluster-acquire/traces.h5" traces=300
  rm -rf "$WORK/cluster-acquire"
  mkdir -p "$WORK/cluster-acquire"
  unset SB_DATASET SB_SEED SB_VERIFY
  export SB_LAUNCHER=mpirun SB_BIN SB_STORE=$store SB_TRACES=$traces SB_SAMPLES=64 SB_BATCH=30 SB_COMMIT_EVERY=40 \
    SB_MAX_ROWS=120
  submit cluster-acquire-1 "$SRC/slurm/acquire.sbatch" -N 3 --ntasks-per-node=2 -t 5
  out_has "6 tasks on 3 node(s)"
  out_has "+ mpirun "
  out_has "verified 120 rows, 0 mismatches in rows 0:120 of 120"
  job_is "$JOBID" COMPLETED 0:0 NodeCnt=3 ProcCnt=6 mem=3G
  store_is "$store" acquisition --size 120 --field data:64 --asset-json acquisition.json:ranks=6
  flip_row "$store" 50
  unset SB_TRACES SB_SAMPLES SB_BATCH SB_COMMIT_EVERY
  submit cluster-acquire-2 "$SRC/slurm/acquire.sbatch" -N 3 --ntasks-per-node=1 -t 5
  out_has "3 tasks on 3 node(s)"
  out_has "rows 120:240 written by this job"
  out_has "verified 120 rows, 0 mismatches in rows 120:240 of 240"
  unset SB_MAX_ROWS
  SUBMIT_FAILS=1 submit cluster-acquire-3 "$SRC/slurm/acquire.sbatch" -N 3 --ntasks-per-node=2 -t 5
  out_has "committed $traces"
  out_has "the dataset is full: verifying all of it once"
  out_has "row 50: data differs"
  out_has "verified $traces rows, 1 mismatches"
  job_is "$JOBID" FAILED 1:0
  # Repaired, the store passes the whole check, which a resubmission repeats.
  flip_row "$store" 50
  submit cluster-acquire-4 "$SRC/slurm/acquire.sbatch" -N 3 --ntasks-per-node=1 -t 5
  out_has "rows $traces:$traces written by this job"
  out_has "verified $traces rows, 0 mismatches"
  store_is "$store" acquisition --size $traces --field data:64
  db_check "$store"
  verify "$store" acquisition
}

cmd_cluster_preprocess() {
  need_programs "$SB_BIN/sb-acquire" "$SB_BIN/sb-preprocess" "$SB_BIN/secbench-db"
  local dir="$WORK/cluster-preprocess-input" traces=130
  rm -rf "$dir"
  mkdir -p "$dir"
  "$SB_BIN/sb-acquire" "$dir/in.h5" --traces $traces --samples 50 --seed 9 >/dev/null \
    || fail "sb-acquire could not write the preprocessing input"
  unset SB_DATASET
  export SB_LAUNCHER=mpirun SB_BIN SB_IN="$dir/in.h5" SB_OUT="$WORK/cluster-preprocess/out.h5" SB_OUTPUT=filtered \
    SB_WINDOW=5:45 SB_AVERAGE=2
  submit cluster-preprocess "$SRC/slurm/preprocess.sbatch" -N 3 --ntasks-per-node=2 -t 5
  out_has "6 tasks on 3 node(s)"
  job_is "$JOBID" COMPLETED 0:0 NodeCnt=3 ProcCnt=6
  # window of 40, moving average of 2: 39 samples
  store_is "$SB_OUT" filtered --size $traces --field data:39 --field plaintext:16 --asset snr:39
  db_check "$SB_OUT"
}

# multinode.sbatch with its own resources: no resource option on the command line.
cmd_cluster_multinode() {
  need_programs "$SB_BIN/sb-acquire" "$SB_BIN/sb-preprocess" "$SB_BIN/secbench-db"
  local out="$WORK/cluster-multinode/stores" traces=400
  unset SB_DATASET
  export SB_LAUNCHER=mpirun SB_BIN SB_OUTDIR=$out SB_TRACES=$traces SB_SAMPLES=48 SB_BATCH=64 SB_CHUNK_SIZE=37 \
    SB_STRIPE_COUNT=2
  submit cluster-multinode "$SRC/slurm/multinode.sbatch"
  out_has "8 tasks on 2 node(s)"
  out_has "launcher: mpirun (SB_LAUNCHER)"
  out_has "tasks per host: sbnode1: 4 task(s), sbnode2: 4 task(s)"
  out_has "SB_STRIPE_COUNT and SB_STRIPE_SIZE ignored"
  out_has "step 5/5"
  [[ $(grep -c "verified $traces rows, 0 mismatches" "$JOBOUT") == 2 ]] || fail "raw.h5 and export.h5 were not both verified"
  job_is "$JOBID" COMPLETED 0:0 NodeCnt=2 ProcCnt=8 mem=8G
  store_is "$out/raw.h5" acquisition --size $traces --field data:48 --asset-json acquisition.json:ranks=8
  store_is "$out/export.h5" acquisition --size $traces --field data:48
  store_is "$out/preprocessed.h5" preprocessed --size $traces --field data:48
  for s in raw preprocessed export; do db_check "$out/$s.h5"; done
  verify "$out/export.h5" acquisition
}

# What the scripts promise, checked without a cluster:
# - every script states its nodes, tasks per node, CPUs per task, memory and time;
# - every script carries the same preamble (launcher detection included);
# - the launcher: a plugin that `srun --mpi=list` offers (a stand-in srun answers the
#   list and records the launch), SB_MPI obeyed or refused, SB_LAUNCHER used as is;
# - slurm/README.md's no-Slurm examples run as written on this machine (no
#   OMPI_MCA_rmaps_base_oversubscribe from the test environment to hide a
#   "not enough slots").
cmd_scripts() {
  need_programs "$SB_BIN/sb-acquire" "$SB_BIN/secbench-db"
  local f want first="" pre
  for f in "$SRC"/slurm/*.sbatch; do
    for want in --nodes= --ntasks-per-node= --cpus-per-task= --mem-per-cpu= --time=; do
      grep -q -- "^#SBATCH ${want}[0-9]" "$f" || fail "$(basename "$f") states no '#SBATCH $want'"
    done
    pre=$(sed -n '/^# --- shared preamble/,/^# --- end of preamble ---/p' "$f")
    [[ -n $pre ]] || fail "$(basename "$f") has no shared preamble"
    if [[ -z $first ]]; then first=$pre
    elif [[ $pre != "$first" ]]; then fail "the preamble of $(basename "$f") differs from the others'"; fi
    note "$(basename "$f"): $(grep -E '^#SBATCH --(nodes|ntasks-per-node|mem-per-cpu|time)=' "$f" | sed 's/#SBATCH //' | tr '\n' ' ')"
  done

  local fake="$WORK/fake-srun" out rc
  rm -rf "$fake"
  mkdir -p "$fake"
  cat >"$fake/srun" <<'SH'
#!/bin/bash
echo "srun $*" >>"${FAKE_SRUN_LOG:?}"
if [[ $1 == --mpi=list ]]; then printf '%b' "${FAKE_MPI_LIST:?}"; exit 0; fi
exit 3
SH
  chmod +x "$fake/srun"
  # launcher_is WANT [env...]: acquire.sbatch in a make-believe job; it stops at
  # the first launch (the stand-in srun exits 3) after saying which launcher it chose.
  launcher_is() {
    local want=$1
    shift
    : >"$fake/log"
    rc=0
    out=$(cd "$WORK" && env SLURM_JOB_ID=4242 SB_BIN="$SB_BIN" SB_STORE="$fake/none.h5" \
      PATH="$fake:$PATH" FAKE_SRUN_LOG="$fake/log" "$@" bash "$SRC/slurm/acquire.sbatch" 2>&1) || rc=$?
    grep -qF -- "$want" <<<"$out" || fail "launcher with $*: no '$want' in: $out"
    note "$* -> $(grep -m1 -oE "(launcher: |error: ).*" <<<"$out")"
  }
  local v22='MPI plugin types are...\n\tpmix\n\tnone\n\tcray_shasta\n\tpmi2\nspecific pmix plugin versions available: pmix_v4\n'
  launcher_is "launcher: srun --mpi=pmix (srun --mpi=list: cray_shasta none pmi2 pmix pmix_v4)" FAKE_MPI_LIST="$v22"
  grep -qx "srun --mpi=pmix $SB_BIN/sb-acquire $fake/none.h5" "$fake/log" || fail "the acquisition was not launched with srun --mpi=pmix: $(cat "$fake/log")"
  launcher_is "launcher: srun --mpi=pmix_v3 (" FAKE_MPI_LIST='MPI plugin types are...\n\tnone\n\tpmi2\n\tpmix_v3\n'
  launcher_is "launcher: srun --mpi=pmi2 (" FAKE_MPI_LIST="$v22" SB_MPI=pmi2
  launcher_is "offers 'none pmi2', none of the PMIx plugins Open MPI needs" FAKE_MPI_LIST='MPI plugin types are...\n\tnone\n\tpmi2\n'
  [[ $rc -ne 0 ]] || fail "a cluster without PMIx was not refused"
  launcher_is "none of pmix_v9" FAKE_MPI_LIST="$v22" SB_MPI=pmix_v9
  launcher_is "launcher: srun --mpi=custom -n 2 (SB_LAUNCHER)" FAKE_MPI_LIST="$v22" SB_LAUNCHER="srun --mpi=custom -n 2"
  grep -qx "srun --mpi=custom -n 2 $SB_BIN/sb-acquire $fake/none.h5" "$fake/log" || fail "SB_LAUNCHER was not used as it is: $(cat "$fake/log")"
  ! grep -q -- --mpi=list "$fake/log" || fail "srun --mpi=list was asked although SB_LAUNCHER was set"

  # slurm/README.md, "Without Slurm": the two commands as written there.
  local dir="$WORK/noslurm"
  rm -rf "$dir"
  mkdir -p "$dir"
  noslurm() {
    local what=$1
    shift
    rc=0
    # Without Open MPI's root variables: as root the script must set them itself
    # (slurm/README.md).
    out=$(cd "$dir" && env -u SLURM_JOB_ID -u SLURM_CONF -u OMPI_MCA_rmaps_base_oversubscribe \
      -u OMPI_MCA_mpi_yield_when_idle -u OMPI_ALLOW_RUN_AS_ROOT -u OMPI_ALLOW_RUN_AS_ROOT_CONFIRM \
      "$@" bash "$SRC/slurm/acquire.sbatch" 2>&1) || rc=$?
    [[ $rc -eq 0 ]] || fail "no Slurm, $*: exit $rc: $out"
    grep -qF -- "$what" <<<"$out" || fail "no Slurm, $*: no '$what' in: $out"
    note "no Slurm, $*: $(grep -m1 'launcher:' <<<"$out")"
  }
  noslurm "verified 1000 rows, 0 mismatches" SB_BIN="$SB_BIN" SB_TRACES=1000 SB_SAMPLES=200
  noslurm "verified 1000 rows, 0 mismatches" SB_LAUNCHER="mpirun -n 4 --oversubscribe" SB_BIN="$SB_BIN" \
    SB_TRACES=1000 SB_SAMPLES=200 SB_STORE="$dir/four.h5"
  store_is "$dir/four.h5" acquisition --size 1000 --asset-json acquisition.json:ranks=4
}

# Mistakes in the settings stop a script at once with one line naming the setting;
# no Slurm is needed for that (the scripts also run under plain bash).
cmd_errors() {
  local out rc
  expect_error() {
    local what=$1 script=$2
    shift 2
    rc=0
    out=$(cd "$WORK" && env -u SLURM_JOB_ID "$@" bash "$SRC/slurm/$script" 2>&1) || rc=$?
    [[ $rc -ne 0 ]] || fail "$script with $*: exited 0"
    grep -qF -- "$what" <<<"$out" || fail "$script with $*: no '$what' in: $out"
    note "$script $*: $(tail -n1 <<<"$out")"
  }
  expect_error "SB_IN is not set" preprocess.sbatch SB_BIN="$SB_BIN" SB_IN=
  expect_error "no such file" preprocess.sbatch SB_BIN="$SB_BIN" SB_IN="$WORK/none.h5"
  expect_error "not an executable program" acquire.sbatch SB_BIN="$WORK/no-such-dir"
  expect_error "sb-acquire is not on PATH" acquire.sbatch -u SB_BIN PATH=/usr/bin:/bin
  expect_error "is not a positive rank count" bench-scaling.sbatch SB_BIN="$SB_BIN" \
    SB_BENCH_RUN="$SRC/bench/run.sh" SB_RANKS="2 x"
  mkdir -p "$WORK/errors-pipeline"
  touch "$WORK/errors-pipeline/raw.h5"
  expect_error "exists from an earlier run" pipeline.sbatch SB_BIN="$SB_BIN" SB_OUTDIR="$WORK/errors-pipeline"
  expect_error "benchmark driver" bench-scaling.sbatch SB_BENCH_RUN="$WORK/none.sh"
}

case ${1:-} in
  start) cmd_start ;;
  stop) cmd_stop ;;
  acquire) cmd_acquire "${2:-srun}" ;;
  resume) cmd_resume ;;
  preprocess) cmd_preprocess ;;
  pipeline) unset SB_LAUNCHER; cmd_pipeline pipeline -n 4 -t 10 ;;
  bench) cmd_bench ;;
  errors) cmd_errors ;;
  scripts) cmd_scripts ;;
  cluster-start) cmd_start ;;
  cluster-stop) cmd_stop ;;
  cluster-where) cmd_cluster_where ;;
  cluster-acquire) cmd_cluster_acquire ;;
  cluster-preprocess) cmd_cluster_preprocess ;;
  cluster-pipeline)
    # Open MPI's own launcher across the nodes (it starts its daemons with srun).
    export SB_LAUNCHER=mpirun
    cmd_pipeline cluster-pipeline -N 3 --ntasks-per-node=1 -t 10
    out_has "3 tasks on 3 node(s)"
    job_is "$JOBID" COMPLETED 0:0 NodeCnt=3 ProcCnt=3 mem=3G ;;
  cluster-multinode) cmd_cluster_multinode ;;
  *) echo "usage: $0 start|stop|acquire srun|mpirun|resume|preprocess|pipeline|bench|errors|scripts|cluster-start|cluster-stop|cluster-where|cluster-acquire|cluster-preprocess|cluster-pipeline|cluster-multinode" >&2; exit 2 ;;
esac
echo "PASS: $*"
