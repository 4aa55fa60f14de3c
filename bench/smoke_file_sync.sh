#!/usr/bin/env bash
# HDF5 1.10's MPI-IO driver calls MPI_File_sync on every flush; the library
# skips it for its files (src/iolatch.c) and syncs only when the store's
# fsync option asks (README, "Things to know on a cluster"). This counts,
# with the PMPI shim (mpi_count.c), the MPI calls of bench_collectives'
# library calls at 2 ranks: the commits must have written (the shim works)
# and no call may have made an MPI_File_sync.
#   smoke_file_sync.sh MPIEXEC SHIM BENCH_COLLECTIVES DIR
set -euo pipefail
mpiexec=$1 shim=$2 prog=$3 dir=$4
if "$mpiexec" --version 2>&1 | grep -qE 'Open MPI|OpenRTE'; then
  pass=(-x "LD_PRELOAD=$shim")
else
  pass=(-genv LD_PRELOAD "$shim")
fi
counts=$(mktemp)
trap 'rm -f "$counts"' EXIT
"$mpiexec" -n 2 "${pass[@]}" "$prog" --reps 2 --batches 1 --warmup 1 --library --lib-reps 2 \
  --dir "$dir" >/dev/null 2>"$counts" || { cat "$counts"; exit 1; }
for label in 'sb_dataset_extend(1 row)+flush' 'sb_dataset_flush(2 appended rows)'; do
  if ! grep -qF "count,$label,MPI_File_write_at" "$counts"; then
    echo "FAIL: the shim counted no MPI_File_write_at in '$label':" >&2
    cat "$counts" >&2
    exit 1
  fi
done
if grep -F ',MPI_File_sync,' "$counts" >&2; then
  echo "FAIL: a library call made MPI_File_sync (lines above) with the store's fsync off" >&2
  exit 1
fi
echo "ok: $(grep -c '^count,' "$counts") counted lines, no MPI_File_sync"
