#!/usr/bin/env bash
# Benchmark driver: sweeps rank counts and sizes over every workload, library
# against its baseline in the same run (alternating, >= 5 repetitions),
# writes one CSV, the environment it ran in, a summary with ratios and PNG
# charts. See bench/README.md for what each workload measures.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() {
  cat <<'EOF'
Usage: bench/run.sh [options]

Results go to a NEW directory outside the source tree unless told otherwise:
  $SB_BENCH_RESULTS/<UTC date>-<commit>/, by default
  ${TMPDIR:-/tmp}/secbench-bench-results/<UTC date>-<commit>/ (printed at the
  start and at the end). The committed reference results in bench/results
  change only with --update-reference.

  --smoke             every benchmark once at a tiny size (CI: the harness works
                      and its output parses; not a performance figure)
  --build-dir DIR     top-level CMake build dir (default $SB_BUILD_DIR, else ./build)
  --out DIR           results here instead: bench.csv, env.txt, summary.md/csv,
                      *.png, logs/ (an earlier run's files in DIR are replaced)
  --update-reference  after a successful run, replace the reference results in
                      bench/results by this run's (the run itself still goes to
                      its own new directory; files of bench/results that a run
                      does not write, such as rerun-*.csv, are kept). An
                      aborted or failed run leaves bench/results untouched.
  --data-dir DIR      where benchmark files are written: put it on the file
                      system to measure (default $SB_BENCH_DATA, else a new
                      directory under ${TMPDIR:-/tmp}, removed at the end)
  --ranks "1 2 4 8"   rank counts (more ranks than cores: contention, noted)
  --bytes SIZE        bytes of the extend/read/export data (default 1G; K/M/G)
  --row-sizes "1K 64K"  row sizes of the extend and read workloads
  --reps N            repetitions of every side (default 5)
  --traces N          traces per append repetition (default 20000)
  --meta-counts LIST  dataset counts of the metadata workload (default 10,1000,10000)
  --bench-max N       secbench-db benchmark --max-size (default 100000)
  --chunk-rows N      export chunk rows (default 65536)
  --commit-every "K.." extend with fsync, committing every K batches and at
                      close, against MPI_File_sync at the same points (default
                      16; needs bench_extend --commit-every, see bench/README.md)
  --write-modes LIST  library sides of extend: default,independent,collective
                      (default all three; needs bench_extend --write-modes)
  --sync              fsync on both sides of extend (only its sync variants) and
                      append (export always runs with and without a sync; read
                      uses --cold; metadata and secbench-db are unaffected)
  --large             --bytes = twice the dirty-page limit, so that writes reach
                      the disk even without --sync (needs that much free space)
  --cold              also read with the page cache dropped (default on, unless --smoke)
  --warm-only         only page-cache reads
  --workloads LIST    comma list of extend,append,read,export,meta,secbench (default all)
  --hints K=V,...     MPI-IO hints for both sides (striping_factor=8,...)
  --no-plot           skip the charts
  -h, --help

Environment:
  SB_BENCH_RESULTS  parent of the default results directories
                    (default ${TMPDIR:-/tmp}/secbench-bench-results)
  SB_BENCH_REFERENCE  the directory --update-reference replaces (default bench/results)
  SB_MPIEXEC      launcher used verbatim, e.g. "srun --mpi=pmix" (default: the
                  build's mpiexec, else mpiexec on PATH, with --oversubscribe and,
                  as root, --allow-run-as-root for Open MPI)
  SB_MPIEXEC_NP   rank-count flag of the launcher (default -n)
  SB_PYTHON       Python with h5py for the baselines (default /usr/bin/python3)
  SB_MPIEXEC_BIN  mpiexec to use when SB_MPIEXEC is unset (default: the build's,
                  MPIEXEC_EXECUTABLE in its CMakeCache.txt; ctest passes it)
  SB_BUILD_DIR, SB_BENCH_DATA   defaults of --build-dir and --data-dir
EOF
}

smoke=0; build="${SB_BUILD_DIR:-}"; out=""; data="${SB_BENCH_DATA:-}"; update_ref=0
ranks="1 2 4 8"; bytes=1G; rows="1K 64K"; reps=5; traces=20000
meta_counts="10,1000,10000"; bench_max=100000; chunk_rows=65536
sync=0; large=0; cold=1; workloads="extend,append,read,export,meta,secbench"; hints=""; plot=1
commit_every="16"; write_modes="default,independent,collective"
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) smoke=1 ;;
    --build-dir) build="$2"; shift ;;
    --out) out="$2"; shift ;;
    --update-reference) update_ref=1 ;;
    --commit-every) commit_every="$2"; shift ;;
    --write-modes) write_modes="$2"; shift ;;
    --data-dir) data="$2"; shift ;;
    --ranks) ranks="$2"; shift ;;
    --bytes) bytes="$2"; shift ;;
    --row-sizes) rows="$2"; shift ;;
    --reps) reps="$2"; shift ;;
    --traces) traces="$2"; shift ;;
    --meta-counts) meta_counts="$2"; shift ;;
    --bench-max) bench_max="$2"; shift ;;
    --chunk-rows) chunk_rows="$2"; shift ;;
    --sync) sync=1 ;;
    --large) large=1 ;;
    --cold) cold=1 ;;
    --warm-only) cold=0 ;;
    --workloads) workloads="$2"; shift ;;
    --hints) hints="$2"; shift ;;
    --no-plot) plot=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$smoke" = 1 ]; then
  ranks="1 2"; bytes=512K; rows="1K"; reps=1; traces=200; meta_counts="10,50"
  bench_max=1000; chunk_rows=100; cold=1; commit_every="2"
fi
die() { echo "run.sh: $*" >&2; exit 2; }
if [ "$update_ref" = 1 ]; then
  [ -z "$out" ] || die "--update-reference and --out: the reference is bench/results, the run goes to its own new directory"
  [ "$smoke" = 0 ] || die "--update-reference with --smoke: smoke figures are not a reference"
fi
src_top="$(cd "$here/.." && pwd)"
ref="${SB_BENCH_REFERENCE:-$here/results}"

# Writes smaller than the dirty-page limit land in memory, not on the disk.
mem_kib=$(awk '/^MemTotal/ {print $2}' /proc/meminfo)
dirty_bytes=$(cat /proc/sys/vm/dirty_bytes 2>/dev/null || echo 0)
dirty_ratio=$(cat /proc/sys/vm/dirty_ratio 2>/dev/null || echo 20)
if [ "$dirty_bytes" -gt 0 ]; then limit=$dirty_bytes; else limit=$((mem_kib * 1024 / 100 * dirty_ratio)); fi
if [ "$large" = 1 ]; then bytes="$(( (2 * limit) >> 20 ))M"; fi

[ -n "$build" ] || build="$here/../build"
bin="$build/bench"
want() { case ",$workloads," in *",$1,"*) return 0 ;; esac; return 1; }
for w in env extend append read export meta; do
  if [ "$w" = env ] || want "$w"; then
    [ -x "$bin/bench_$w" ] ||
      { echo "run.sh: $bin/bench_$w not found: build first or pass --build-dir" >&2; exit 2; }
  fi
done
py="${SB_PYTHON:-/usr/bin/python3}"
have_h5py=0
if [ -x "$py" ] && "$py" -c 'import h5py, numpy' 2>/dev/null; then have_h5py=1; fi

# The commit measured, taken before anything is written: the source tree the
# build was configured from (CMakeCache.txt), "+dirty" if tracked files differ
# from that commit. A run writes nothing into a source tree, so it never makes
# it dirty; untracked files do not count.
git_state() {
  local sha
  sha=$(GIT_OPTIONAL_LOCKS=0 git -C "$1" rev-parse --short HEAD 2>/dev/null) || { echo unknown; return; }
  if [ -n "$(GIT_OPTIONAL_LOCKS=0 git -C "$1" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    sha="$sha+dirty"
  fi
  echo "$sha"
}
cache_var() { [ -f "$build/CMakeCache.txt" ] && sed -n "s/^$1:[A-Z]*=//p" "$build/CMakeCache.txt" | head -1; }
build_src="$(cache_var CMAKE_HOME_DIRECTORY || true)"
[ -n "$build_src" ] && [ -d "$build_src" ] || build_src="$src_top"
git_rev="$(git_state "$build_src")"
harness_git=""
if [ "$(cd "$build_src" && pwd -P)" != "$(cd "$src_top" && pwd -P)" ]; then
  harness_git="$(git_state "$src_top")"
fi
inside() { # is path $1 inside directory $2?
  local p d
  p="$(realpath -m "$1")"; d="$(realpath -m "$2")"
  case "$p/" in "$d"/*) return 0 ;; esac
  return 1
}

# The launcher: verbatim from SB_MPIEXEC (Slurm: "srun --mpi=pmix"), or mpiexec.
np_flag="${SB_MPIEXEC_NP:--n}"
if [ -n "${SB_MPIEXEC:-}" ]; then
  read -r -a launcher <<<"$SB_MPIEXEC"
else
  mpx="${SB_MPIEXEC_BIN:-$(cache_var MPIEXEC_EXECUTABLE || true)}"
  [ -n "$mpx" ] && [ -x "$mpx" ] || mpx="$(command -v mpiexec || true)"
  [ -n "$mpx" ] || { echo "run.sh: no mpiexec on PATH; set SB_MPIEXEC" >&2; exit 2; }
  launcher=("$mpx")
  if "$mpx" --version 2>&1 | grep -q -E 'Open MPI|OpenRTE'; then
    launcher+=(--oversubscribe)
    [ "$(id -u)" = 0 ] && launcher+=(--allow-run-as-root)
  fi
fi
launch() { local n="$1"; shift; "${launcher[@]}" "$np_flag" "$n" "$@"; }

# Where the results go: a new directory per run unless --out; never the
# reference, which only --update-reference replaces (after the run).
if [ -n "$out" ] && inside "$out" "$ref"; then
  die "--out $out would overwrite the reference results $ref: use --update-reference"
fi
if [ -z "$out" ]; then
  base="${SB_BENCH_RESULTS:-${TMPDIR:-/tmp}/secbench-bench-results}"
  # Inside the source tree only where git ignores it (a build directory):
  # a run must never show up in git status.
  if inside "$base" "$src_top" &&
     ! git -C "$src_top" check-ignore -q "$(realpath -m "$base")" 2>/dev/null; then
    die "results directory $base is inside the source tree $src_top: set SB_BENCH_RESULTS or --out elsewhere"
  fi
  stamp="$(date -u +%Y%m%dT%H%M%SZ)-${git_rev%%+*}"
  mkdir -p "$base" || die "cannot create $base"
  out="$base/$stamp"; k=1
  until mkdir "$out" 2>/dev/null; do
    [ -d "$base" ] && [ -w "$base" ] || die "cannot create a directory in $base"
    k=$((k + 1)); out="$base/$stamp-$k"
  done
fi
out="$(mkdir -p "$out" && cd "$out" && pwd)" || die "cannot create --out $out"

mkdir -p "$out/logs"
made_data=0
if [ -z "$data" ]; then data="$(mktemp -d "${TMPDIR:-/tmp}/sb-bench.XXXXXX")"; made_data=1; fi
mkdir -p "$data"
stage=""; old_ref=""
cleanup() {
  if [ "$made_data" = 1 ]; then rm -rf "$data"; fi
  if [ -n "$stage" ]; then rm -rf "$stage"; fi
  # Interrupted between the two renames of the swap: put the old one back.
  if [ -n "$old_ref" ] && [ -d "$old_ref" ]; then
    if [ -e "$ref" ]; then rm -rf "$old_ref"; else mv "$old_ref" "$ref"; fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
csv="$out/bench.csv"
# An earlier run's files in --out DIR are replaced (a new directory has none).
rm -f "$csv" "$out"/env.txt "$out"/logs/*.log "$out"/*.png "$out"/summary.* "$out"/summary_*.md \
  "$out"/plot_*.dat
log() { echo "[run.sh $(date +%H:%M:%S)] $*" >&2; }
log "results: $out"
hint_args=(); [ -n "$hints" ] && hint_args=(--hints "$hints")
sync_args=(); [ "$sync" = 1 ] && sync_args=(--sync)
# Variants the C benchmark may not have yet (bench/README.md says what they
# measure): run them when bench_extend knows the option, say so otherwise.
# Whether a program takes an option: its --help lists it (the shared option
# parser stores names without their dashes, so the binary's strings do not
# show "--name").
has_opt() { [ -x "$1" ] && "$1" --help 2>/dev/null | grep -q -e "^ *$2 "; }
has_commit_every=0; mode_args=()
if want extend; then
  if [ -n "$commit_every" ] && has_opt "$bin/bench_extend" --commit-every; then
    has_commit_every=1
  elif [ -n "$commit_every" ]; then
    log "bench_extend has no --commit-every: extend with fsync committing every K batches" \
        "(extend-*-sync-k<K>, target >= 0.9 of mpiio-sync) is not measured"
  fi
  if [ -n "$write_modes" ] && has_opt "$bin/bench_extend" --write-modes; then
    mode_args=(--write-modes "$write_modes")
  elif [ -n "$write_modes" ]; then
    log "bench_extend has no --write-modes: collective vs independent row writes are not measured"
  fi
fi

# ---- the environment every figure depends on
{
  echo "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host=$(hostname)"
  echo "cores=$(nproc)"
  echo "loadavg_start=$(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews figures)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//;s/,/;/g')"
  echo "mem_total_bytes=$((mem_kib * 1024))"
  echo "dirty_limit_bytes=$limit"
  echo "dirty_limit_source=$([ "$dirty_bytes" -gt 0 ] && echo "vm.dirty_bytes" || echo "vm.dirty_ratio=$dirty_ratio% of MemTotal")"
  echo "data_dir=$data"
  echo "fs_type=$(stat -f -c %T "$data" 2>/dev/null || echo unknown)"
  echo "fs_mount=$(df -P "$data" | awk 'NR==2 {print $1" on "$6}')"
  echo "fs_mount_type=$(awk -v m="$(df -P "$data" | awk 'NR==2 {print $6}')" '$2==m {t=$3} END {print t}' /proc/mounts)"
  # Open MPI says which I/O component it selects when asked to be verbose;
  # bench_env itself recognises ROMIO by its hints (MPICH and derivatives).
  sel=$(OMPI_MCA_io_base_verbose=100 launch 1 "$bin/bench_env" --dir "$data" 2>&1 >/dev/null |
        sed -n 's/.*Selected io module \([A-Za-z0-9_]*\).*/\1/p' | head -1 || true)
  if [ -n "$sel" ]; then
    launch 1 "$bin/bench_env" --dir "$data" 2>/dev/null |
      sed "s/^mpi_io_component=.*/mpi_io_component=$sel (io_base_verbose: selected by Open MPI)/"
  else
    launch 1 "$bin/bench_env" --dir "$data" 2>/dev/null
  fi
  echo "launcher=${launcher[*]} $np_flag N"
  echo "python=$py h5py=$([ $have_h5py = 1 ] && "$py" -c 'import h5py; print(h5py.version.version)' || echo absent)"
  echo "export_chunk_bytes=$((chunk_rows * 1016))"
  echo "sync=$sync"
  echo "smoke=$smoke"
  echo "bytes=$bytes"
  echo "row_sizes=$rows"
  echo "reps=$reps"
  echo "ranks=$ranks"
  echo "hints=${hints:-none}"
  echo "workloads=$workloads"
  [ "$has_commit_every" = 0 ] || echo "commit_every=$commit_every"
  [ ${#mode_args[@]} = 0 ] || echo "write_modes=$write_modes"
  echo "git=$git_rev"
  [ -z "$harness_git" ] || echo "harness_git=$harness_git (bench/ scripts of $src_top)"
  echo "build_dir=$build"
  echo "results_dir=$out"
} >"$out/env.txt"
log "environment: $(tr '\n' ' ' <"$out/env.txt" | cut -c1-300)..."

# ---- 1. collective extend (no-sync and sync variants) and 3. collective read
for n in $ranks; do
  for rb in $rows; do
    if want extend; then
      variants=("" --sync); [ "$sync" = 1 ] && variants=(--sync)
      if [ "$has_commit_every" = 1 ]; then
        for k in $commit_every; do variants+=("--sync --commit-every $k"); done
      fi
      for v in "${variants[@]}"; do
        log "extend ranks=$n row=$rb ${v:-no-sync}"
        read -r -a vargs <<<"$v"
        launch "$n" "$bin/bench_extend" --bytes "$bytes" --row-bytes "$rb" --reps "$reps" \
          --dir "$data" --csv "$csv" "${vargs[@]}" "${mode_args[@]}" "${hint_args[@]}" \
          >>"$out/logs/extend.log"
      done
    fi
    if want read; then
      variants=(""); [ "$cold" = 1 ] && variants+=(--cold)
      for v in "${variants[@]}"; do
        log "read ranks=$n row=$rb ${v:-warm}"
        launch "$n" "$bin/bench_read" --bytes "$bytes" --row-bytes "$rb" --reps "$reps" \
          --dir "$data" --csv "$csv" ${v:+"$v"} "${hint_args[@]}" >>"$out/logs/read.log"
      done
    fi
  done
  # ---- 4. parallel export
  if want export; then
    log "export ranks=$n"
    launch "$n" "$bin/bench_export" --bytes "$bytes" --chunk-rows "$chunk_rows" --reps "$reps" \
      --dir "$data" --csv "$csv" "${hint_args[@]}" >>"$out/logs/export.log"
  fi
done

# ---- 2. serial append, alternating C sides and h5py rep by rep
if want append; then
  for r in $(seq 1 "$reps"); do
    log "append rep $r"
    "$bin/bench_append" --traces "$traces" --reps 1 --rep-base "$r" --dir "$data" --csv "$csv" \
      "${sync_args[@]}" >>"$out/logs/append.log"
    if [ $have_h5py = 1 ]; then
      "$py" -B "$here/append_h5py.py" --traces "$traces" --reps 1 --rep-base "$r" --dir "$data" \
        --csv "$csv" "${sync_args[@]}" >>"$out/logs/append.log"
    fi
  done
fi

# ---- 5. metadata, alternating the library and h5py (order flips every rep)
if want meta; then
  for r in $(seq 1 "$reps"); do
    log "metadata rep $r (counts $meta_counts)"
    c_side() { "$bin/bench_meta" --counts "$meta_counts" --reps 1 --rep-base "$r" --dir "$data" \
                 --csv "$csv" >>"$out/logs/meta.log"; }
    p_side() { [ $have_h5py = 1 ] && "$py" -B "$here/meta_h5py.py" --counts "$meta_counts" --reps 1 \
                 --rep-base "$r" --dir "$data" --csv "$csv" >>"$out/logs/meta.log" || true; }
    if [ $((r % 2)) = 1 ]; then c_side; p_side; else p_side; c_side; fi
  done
fi

# ---- 6. Python secbench's benchmark workload: secbench-db benchmark vs h5py
if want secbench; then
  db="$build/mpi/secbench-db"
  if [ ! -x "$db" ]; then
    log "secbench-db not built ($db): workload 6 skipped"
    echo "secbench_db=absent" >>"$out/env.txt"
  else
    for r in $(seq 1 "$reps"); do
      log "secbench benchmark rep $r (max $bench_max)"
      sb_side() {
        launch 1 "$db" benchmark "$data/secbench-db-bench.h5" --max-size "$bench_max" |
          awk -F, -v r="$r" -v csv="$csv" '/^(write|read)_[0-9]+,/ {
            split($1, a, "_"); b = a[2] * 1016; mb = ($2 > 0) ? b / $2 / 1e6 : 0;
            printf "secbench-%s,1,%d,%d,sb,%.9f,%.3f,\n", $1, b, r, $2, mb >> csv }'
        rm -f "$data/secbench-db-bench.h5"
      }
      py_side() {
        [ $have_h5py = 1 ] || return 0
        "$py" -B "$here/benchmark_h5py.py" "$data/h5py-bench.h5" --max-size "$bench_max" |
          awk -F, -v r="$r" -v csv="$csv" '/^(write|read)_[0-9]+,/ {
            split($1, a, "_"); b = a[2] * 1016; mb = ($2 > 0) ? b / $2 / 1e6 : 0;
            printf "secbench-%s,1,%d,%d,h5py,%.9f,%.3f,\n", $1, b, r, $2, mb >> csv }'
        rm -f "$data/h5py-bench.h5"
      }
      if [ $((r % 2)) = 1 ]; then sb_side; py_side; else py_side; sb_side; fi
    done
  fi
fi

echo "loadavg_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/env.txt"

# ---- summary (also checks that the CSV parses) and charts
check_args=()
[ "$smoke" = 1 ] && check_args=(--check --expect "$workloads")
"$py" -B "$here/summarize.py" --csv "$csv" --env "$out/env.txt" --out "$out" "${check_args[@]}"
if [ "$plot" = 1 ]; then
  if command -v gnuplot >/dev/null; then
    # Only the charts of what was measured: summarize.py wrote only their data.
    (cd "$out" && gnuplot "$here/plot.gnuplot") 2>"$out/logs/gnuplot.log" ||
      { cat "$out/logs/gnuplot.log" >&2; echo "run.sh: gnuplot failed" >&2; exit 1; }
    if [ -s "$out/logs/gnuplot.log" ]; then
      log "gnuplot said:"; cat "$out/logs/gnuplot.log" >&2
    fi
    log "charts: $(cd "$out" && ls -- *.png 2>/dev/null | tr '\n' ' ')"
  else
    log "gnuplot not installed: no charts (apt-get install gnuplot-nox)"
  fi
fi

# ---- --update-reference: swap the reference for this run, now that it
# succeeded. Staged beside the reference (same file system, so the swap is two
# renames); files a run does not write (rerun-*.csv, notes) are carried over.
if [ "$update_ref" = 1 ]; then
  ref_parent="$(dirname "$ref")"; ref_name="$(basename "$ref")"
  mkdir -p "$ref_parent"
  stage="$(mktemp -d "$ref_parent/.$ref_name.new.XXXXXX")"
  cp -a "$out"/. "$stage"/
  if [ -d "$ref" ]; then
    for f in "$ref"/* "$ref"/.[!.]*; do
      [ -e "$f" ] || continue
      b="$(basename "$f")"
      case "$b" in
        bench.csv|env.txt|summary.csv|summary.md|summary_*.md|plot_*.dat|*.png|logs) ;;
        *) [ -e "$stage/$b" ] || cp -a "$f" "$stage/" ;;
      esac
    done
    old_ref="$ref_parent/.$ref_name.old.$$"
    mv "$ref" "$old_ref"
  fi
  mv "$stage" "$ref"; stage=""
  if [ -n "$old_ref" ]; then rm -rf "$old_ref"; old_ref=""; fi
  log "reference results replaced: $ref (from $out)"
fi
log "done: $out (bench.csv, summary.md)"
