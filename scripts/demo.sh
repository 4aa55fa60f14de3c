#!/usr/bin/env bash
# The main job, end to end: install what the build needs, build the library and
# its programs, acquire traces with 4 MPI ranks into one store, verify them,
# preprocess them with 4 ranks, and look at both stores.
#   scripts/demo.sh [OUTDIR]     results in OUTDIR (default: ./demo)
# Environment: SB_BUILD_DIR (default: build/ in the clone), SB_RANKS (4),
# SB_TRACES (20000), SB_SAMPLES (1000).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out_arg=${1:-demo}
mkdir -p "$out_arg"
out=$(cd "$out_arg" && pwd)
build=${SB_BUILD_DIR:-"$top/build"}
ranks=${SB_RANKS:-4}
traces=${SB_TRACES:-20000}
samples=${SB_SAMPLES:-1000}
t0=$SECONDS

# A path relative to here when it is below here, else absolute.
short() {
  case $1 in "$PWD"/*) echo "${1#"$PWD"/}" ;; *) echo "$1" ;; esac
}
step() { printf '\n=== %s\n' "$*"; }

step "1/5 Debian packages for the build (scripts/debian-packages.txt, section build)"
bash "$top/scripts/setup-debian.sh" build

step "2/5 build: Open MPI flavour, Release, programs only, in $(short "$build")"
cmake -S "$top" -B "$build" -DSB_MPI_FLAVOR=openmpi -DCMAKE_BUILD_TYPE=Release \
  -DSB_BUILD_TESTS=OFF -DSB_BUILD_BENCH=OFF
cmake --build "$build" -j "$(nproc)"
bin=$build/mpi
mpiexec=$(sed -n 's/^MPIEXEC_EXECUTABLE:FILEPATH=//p' "$build/CMakeCache.txt")
launch=("$mpiexec" -n "$ranks")
if "$mpiexec" --version 2>/dev/null | grep -qE 'Open MPI|OpenRTE'; then
  launch+=(--oversubscribe)
  [ "$(id -u)" -ne 0 ] || launch+=(--allow-run-as-root)
fi
run() { echo "+ $*" | sed "s|$bin/||g"; "$@"; }

rm -f "$out/traces.h5" "$out/preprocessed.h5"
step "3/5 acquisition: $traces traces of $samples samples, $ranks MPI ranks writing one store"
run "${launch[@]}" "$bin/sb-acquire" "$out/traces.h5" --traces "$traces" --samples "$samples" \
  --batch 1000 --commit-every 5000
run "${launch[@]}" "$bin/sb-acquire" "$out/traces.h5" --verify

step "4/5 preprocessing: moving average 4, decimation 2, SNR per sample, $ranks ranks"
run "${launch[@]}" "$bin/sb-preprocess" "$out/traces.h5" "$out/preprocessed.h5" \
  --average 4 --decimate 2

step "5/5 the two stores"
run "$bin/secbench-db" status "$out/traces.h5"
run "$bin/secbench-db" status "$out/preprocessed.h5"

o=$(short "$out")
b=$(short "$bin")
m=$mpiexec
[ "$(command -v "$(basename "$mpiexec")")" != "$mpiexec" ] || m=$(basename "$mpiexec")
m="$m ${launch[*]:1}"
cat <<EOF

=== done in $((SECONDS - t0)) s
Results:  $o/traces.h5 (dataset "acquisition": data, plaintext, ciphertext, key)
          $o/preprocessed.h5 (dataset "preprocessed", assets mean, variance, snr)
Programs: $b/secbench-db, $b/sb-acquire, $b/sb-preprocess (each has --help)

Try next:
  $b/secbench-db check $o/traces.h5
  $b/secbench-db asset $o/traces.h5 acquisition acquisition.json --json
  $m $b/secbench-db export -o $o/copy.h5 $o/traces.h5 acquisition --chunk-size 4096 --progress
  $m $b/sb-acquire $o/more.h5 --traces 100000 --samples 500 --progress
  cmake --install $(short "$build") --prefix \$HOME/.local   # then \$HOME/.local/bin/secbench-db
  bash $(short "$top/scripts/test.sh")    # every test (about 25 min; tests/README.md)
EOF
