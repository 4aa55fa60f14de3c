#!/usr/bin/env bash
# The main job, end to end: set up, build, acquire traces with 4 MPI ranks into
# one store, preprocess them with 4 ranks, and look at the result.
#   scripts/demo.sh [OUTDIR]     (default: ./demo)
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mkdir -p "${1:-demo}" && cd "${1:-demo}" && pwd)
build=${SB_BUILD_DIR:-"$top/build"}
ranks=${SB_RANKS:-4}
traces=${SB_TRACES:-20000}
samples=${SB_SAMPLES:-1000}

bash "$top/scripts/setup-debian.sh"
cmake -S "$top" -B "$build" -DSB_MPI_FLAVOR=openmpi -DCMAKE_BUILD_TYPE=Release -DSB_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j 2 >/dev/null
bin="$build/mpi"
mpiexec=$(sed -n 's/^MPIEXEC_EXECUTABLE:FILEPATH=//p' "$build/CMakeCache.txt")
launch=("$mpiexec" -n "$ranks")
if "$mpiexec" --version 2>/dev/null | grep -qE 'Open MPI|OpenRTE'; then
  launch+=(--oversubscribe)
  [ "$(id -u)" -ne 0 ] || launch+=(--allow-run-as-root)
fi

rm -f "$out/traces.h5" "$out/preprocessed.h5"
echo "+ ${launch[*]} sb-acquire $out/traces.h5 --traces $traces --samples $samples"
"${launch[@]}" "$bin/sb-acquire" "$out/traces.h5" --traces "$traces" --samples "$samples" \
  --batch 1000 --commit-every 5000
echo "+ ${launch[*]} sb-acquire $out/traces.h5 --verify"
"${launch[@]}" "$bin/sb-acquire" "$out/traces.h5" --verify
echo "+ ${launch[*]} sb-preprocess $out/traces.h5 $out/preprocessed.h5 --average 4 --decimate 2"
"${launch[@]}" "$bin/sb-preprocess" "$out/traces.h5" "$out/preprocessed.h5" --average 4 --decimate 2
echo "+ secbench-db status $out/traces.h5"
"$bin/secbench-db" status "$out/traces.h5"
echo "+ secbench-db status $out/preprocessed.h5"
"$bin/secbench-db" status "$out/preprocessed.h5"
