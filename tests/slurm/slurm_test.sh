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
# No Slurm needed:
#   slurm_test.sh errors                       bad settings fail with a clear line
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

if [[ ${SB_SKIP_SLURM:-0} == 1 && ${1:-} != errors ]]; then
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

cmd_pipeline() {
  need_programs "$SB_BIN/sb-acquire" "$SB_BIN/sb-preprocess" "$SB_BIN/secbench-db"
  local traces=97 samples=40 out="$WORK/pipeline/stores"
  unset SB_LAUNCHER SB_DATASET
  # 97 rows in chunks of 10 over 4 ranks: uneven shares, a short last chunk.
  export SB_BIN SB_OUTDIR=$out SB_TRACES=$traces SB_SAMPLES=$samples SB_CHUNK_SIZE=10 \
    SB_SEED=3 SB_AVERAGE=4 SB_DECIMATE=2
  submit pipeline "$SRC/slurm/pipeline.sbatch" -n 4 -t 10
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
if [[ ${SB_SLURM_NODES:-1} -gt 1 ]]; then
  # Three "nodes" share this machine's cores: let waiting ranks yield (the scripts
  # only see one node's allocation against the machine's cores).
  export OMPI_MCA_mpi_yield_when_idle=1
fi

# where NAME EXPECT [srun/env...] -- [mpi_where options]: run the check program,
# show what it says, and require EXPECT in it.
where() {
  local name=$1 expect=$2 rc=0 out
  shift 2
  local cmd=()
  while [[ $1 != -- ]]; do cmd+=("$1"); shift; done
  shift
  note "$name: ${cmd[*]} $SB_WHERE $*"
  out=$(timeout 120 "${cmd[@]}" "$SB_WHERE" "$@" 2>&1) || rc=$?
  echo "$out"
  [[ $rc -eq 0 ]] || fail "$name: exit $rc"
  grep -qF -- "$expect" <<<"$out" || fail "$name: no '$expect' in the output"
}

# The ranks really are on 3 hosts, shared memory never joins two of them, and
# their messages cross the bridge.
cmd_cluster_where() {
  need_programs "$SB_WHERE"
  local plugin
  plugin=$(srun --mpi=list | grep -oE '\bpmix\b' | head -n1) || fail "srun --mpi=list offers no pmix"
  where "srun, 1 task per node" "hosts 3 ranks 3 max_shared 1" \
    srun --mpi="$plugin" -N 3 --ntasks-per-node=1 -t 2 -- --hosts 3 --shared 1 --net
  where "srun, 2 tasks per node" "hosts 3 ranks 6 max_shared 2" \
    srun --mpi="$plugin" -N 3 --ntasks-per-node=2 -t 2 -- --hosts 3 --shared 2 --net
  # Pinned to TCP, the same ring still crosses the nodes.
  where "srun, btl self,tcp" "btl self,tcp" \
    env OMPI_MCA_btl=self,tcp srun --mpi="$plugin" -N 3 --ntasks-per-node=2 -t 2 -- --hosts 3 --shared 2 --net
  # Without TCP, only shared memory is left: it cannot reach a rank on another
  # node, so Open MPI must refuse.
  local out rc=0
  note "srun, btl self,vader (must fail): 1 task per node"
  out=$(OMPI_MCA_btl=self,vader timeout 120 srun --mpi="$plugin" -N 3 --ntasks-per-node=1 -t 2 "$SB_WHERE" 2>&1) || rc=$?
  echo "$out" | head -n 20
  [[ $rc -ne 0 ]] || fail "with OMPI_MCA_btl=self,vader the ranks on 3 nodes still talked"
  grep -q "unable to reach each other" <<<"$out" || fail "btl self,vader failed, but not because the nodes cannot reach each other"
  # mpirun inside a batch allocation reads the nodes from Slurm.
  mkdir -p "$WORK/cluster-where"
  printf '#!/bin/bash\nset -e\nmpirun %q --hosts 3 --shared 2 --net\n' "$SB_WHERE" >"$WORK/cluster-where/mpirun.sh"
  submit cluster-where-mpirun "$WORK/cluster-where/mpirun.sh" -N 3 --ntasks-per-node=2 -t 2 -o where-%j.out
  out_has "hosts 3 ranks 6 max_shared 2"
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
  pipeline) cmd_pipeline ;;
  bench) cmd_bench ;;
  errors) cmd_errors ;;
  cluster-start) cmd_start ;;
  cluster-stop) cmd_stop ;;
  cluster-where) cmd_cluster_where ;;
  *) echo "usage: $0 start|stop|acquire srun|mpirun|resume|preprocess|pipeline|bench|errors|cluster-start|cluster-stop|cluster-where" >&2; exit 2 ;;
esac
echo "PASS: $*"
