#!/bin/bash
# Build the libFuzzer target with clang and fuzz the store reader.
#   tests/fuzz/run_fuzz.sh [SECONDS]      (default 60, the CI run; 0 only
#                                          replays and classifies the artifacts)
# Env: SB_FUZZ_BUILD (build dir, default build-fuzz/ in the clone),
#      SB_FUZZ_WORK (corpus, artifacts, reports, the inputs it found; default
#      $SB_FUZZ_BUILD/fuzz-work),
#      SB_FUZZ_JOBS (parallel fuzzing processes, default 1),
#      SB_FUZZ_INDEX_SECONDS (each parser below, afterwards, default
#      min(SECONDS, 30)).
# Exit status: 1 if a crash in the library (src/) was found, else 0.
# Then the parsers with no HDF5 underneath, the shared-dataset index reader
# (sb_fuzz_index: TOML through toml++, seeds tests/data/index, dictionary
# toml.dict) and the JSON parser of JSON assets (sb_fuzz_json, seeds
# tests/data/json): any crash, leak, timeout or out-of-memory they reproduce
# is the library's: the input is kept in $SB_FUZZ_WORK/found/<parser>/ and
# the script fails.
# Seeds: the bad-input corpus (tests/reliability/make_corpus.py), the Python
# reference store and small valid stores. Every crash found is replayed and
# told apart by its stack: top frames in src/ (a library bug: one input per
# kind is kept in $SB_FUZZ_WORK/found/library/ and the script fails; copy it to
# tests/fuzz/crashes/ so that ctest fuzz_replay replays it) or in libhdf5
# (HDF5's own bug: kept in $SB_FUZZ_WORK/found/hdf5/, reported; the known kinds
# are in tests/fuzz/hdf5-crashes/). Reports with the stacks go to
# $SB_FUZZ_WORK/reports/. Nothing is written into the source tree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-60}
build=${SB_FUZZ_BUILD:-$root/build-fuzz}
work=${SB_FUZZ_WORK:-$build/fuzz-work}
jobs=${SB_FUZZ_JOBS:-1}
python=/usr/bin/python3

cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DSB_FUZZ=ON \
      -DSB_BUILD_PROGRAMS=OFF -DSB_BUILD_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target sb_fuzz_store sb_fuzz_index sb_fuzz_json
bin=$build/tests/fuzz/sb_fuzz_store

mkdir -p "$work/corpus" "$work/seeds" "$work/artifacts" "$work/reports" \
         "$work/found/library" "$work/found/hdf5"
"$python" "$root/tests/reliability/make_corpus.py" "$work/seed-src" >/dev/null
cp "$work"/seed-src/*.h5 "$work/seeds/"
for ref in "$root/tests/data/secbench-reference.h5" "$root/../shared/reference/secbench-reference.h5"; do
    if [ -f "$ref" ]; then cp "$ref" "$work/seeds/reference.h5"; break; fi
done

export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
[ "$secs" -gt 0 ] && echo "fuzzing for $secs s with $jobs job(s); corpus $work/corpus"
fuzz_rc=0
set +e
# Fork mode goes on after a crash (HDF5 has its own), so one run collects
# every kind of crash it meets instead of stopping at the first.
[ "$secs" -gt 0 ] && "$bin" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
       -max_total_time="$secs" -timeout=20 -rss_limit_mb=2048 -max_len=131072 \
       -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" "$work/seeds" \
       >"$work/fuzz.log" 2>&1
[ "$secs" -gt 0 ] && fuzz_rc=$?
set -e
grep -E "^(stat::|#[0-9]+ +DONE|Done [0-9]+ runs|INFO: fuzzed for)" "$work/fuzz.log" | tail -n 12 || true
grep -E "^#[0-9]+: cov:" "$work/fuzz.log" | tail -n 1 || true

# Tell HDF5's crashes from ours by the first frame that is neither the
# sanitizer/libFuzzer runtime nor libc; print "kind signature".
classify() {
    awk '
        /ERROR: (AddressSanitizer|LeakSanitizer)/ && !err { err = $0; sub(/.*Sanitizer: /, "", err); sub(/ on .*/, "", err); gsub(/ /, "-", err) }
        /runtime error:/ && !err { err = "ubsan" }
        /^ *#[0-9]+ 0x/ {
            line = $0
            if (line ~ /(__asan|__ubsan|__sanitizer|[Ii]nterceptor|__lsan|compiler-rt|fuzzer::|libc\.so|libc-|__libc|abort|raise|__GI_| in malloc| in calloc| in realloc| in free |memcpy|memmove|memset|memcmp|strlen|strcmp|strnlen|strdup|H5MM_|H5FL_)/) next
            fn = "?"
            if (match(line, / in [^ ]+/)) fn = substr(line, RSTART + 4, RLENGTH - 4)
            said = 1
            if (line ~ /libhdf5/ || fn ~ /^H5/) { print "hdf5", err "@" fn; exit }
            if (line ~ /\/src\/[a-z_]+\.c/ || fn ~ /^sb_/) { print "library", err "@" fn; exit }
            if (line ~ /fuzz_store\.c/) { print "target", err "@" fn; exit }
            print "other", err "@" fn; exit
        }
        # A sanitizer error without a usable stack (a stack overflow prints
        # "<empty stack>") cannot be put on HDF5: it counts as unexplained.
        END { if (!err) print "none", "does-not-reproduce-alone"; else if (!said) print "other", err "@?" }'
}

lib=0; h5=0; other=0; alone=0
declare -A seen=()
shopt -s nullglob
for a in "$work"/artifacts/crash-* "$work"/artifacts/leak-* "$work"/artifacts/timeout-* \
         "$work"/artifacts/oom-*; do
    name=$(basename "$a")
    report="$work/reports/$name.txt"
    # The slow unwinder sees through HDF5's frame-pointer-less code.
    ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=0 \
        "$bin" -timeout=20 -rss_limit_mb=2048 "$a" >"$report" 2>&1 || true
    read -r kind sig < <(classify <"$report")
    # Keep one input per kind of crash: the repository wants regressions,
    # not every mutation of the same bug.
    new=0
    if [ -z "${seen[$kind/$sig]:-}" ]; then seen[$kind/$sig]=$name; new=1; fi
    case "$kind" in
        library|target) lib=$((lib + 1)); [ $new = 1 ] && cp "$a" "$work/found/library/$name" ;;
        hdf5) h5=$((h5 + 1)); [ $new = 1 ] && cp "$a" "$work/found/hdf5/$name" ;;
        none) alone=$((alone + 1)) ;;
        *) other=$((other + 1)); [ $new = 1 ] && cp "$a" "$work/found/library/$name" ;;
    esac
    [ $new = 1 ] || continue
    echo "== $name: $kind $sig"
    grep -m1 -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|ALARM" "$report" || true
    grep -E "^ *#[0-9]+ 0x" "$report" | grep -vE "libclang_rt|sb_fuzz_store\+0x" | head -n 8 || true
done
# The parsers without HDF5 underneath (the shared-dataset index, TOML; JSON
# assets): every reproducible artifact is a finding.
parser_secs=${SB_FUZZ_INDEX_SECONDS:-$(( secs < 30 ? secs : 30 ))}
parser_found=0
fuzz_parser() { # name, seeds dir, extra libFuzzer args...
    local name=$1 seeds=$2
    shift 2
    local pbin=$build/tests/fuzz/sb_fuzz_$name pwork=$work/$name
    mkdir -p "$pwork/corpus" "$pwork/artifacts" "$pwork/reports"
    if [ "$parser_secs" -gt 0 ]; then
        echo "fuzzing the $name parser for $parser_secs s; corpus $pwork/corpus"
        set +e
        "$pbin" -fork="$jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
            -max_total_time="$parser_secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
            "$@" -print_final_stats=1 -artifact_prefix="$pwork/artifacts/" \
            "$pwork/corpus" "$seeds" >"$pwork/fuzz.log" 2>&1
        echo "$name: libFuzzer exit $?"
        set -e
        grep -E "^#[0-9]+: cov:" "$pwork/fuzz.log" | tail -n 1 || true
    fi
    local a
    for a in "$pwork"/artifacts/crash-* "$pwork"/artifacts/leak-* "$pwork"/artifacts/timeout-* \
             "$pwork"/artifacts/oom-*; do
        [ -e "$a" ] || continue
        local aname report
        aname=$(basename "$a")
        report="$pwork/reports/$aname.txt"
        if ASAN_OPTIONS=$ASAN_OPTIONS:fast_unwind_on_malloc=0 \
            "$pbin" -timeout=10 -rss_limit_mb=2048 "$a" >"$report" 2>&1; then
            echo "== $name $aname: does not reproduce alone"
            continue
        fi
        parser_found=$((parser_found + 1))
        mkdir -p "$work/found/$name"
        cp "$a" "$work/found/$name/$aname"
        echo "== $name $aname (kept in $work/found/$name/)"
        grep -m1 -E "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|ALARM|invariant" "$report" || true
        grep -E "^ *#[0-9]+ 0x" "$report" | grep -vE "libclang_rt|sb_fuzz_$name\+0x" | head -n 8 || true
    done
    echo "$name: findings: $parser_found so far (reports: $pwork/reports/)"
}
fuzz_parser index "$root/tests/data/index" -dict="$here/toml.dict"
fuzz_parser json "$root/tests/data/json"

echo "distinct crash kinds:"
for k in "${!seen[@]}"; do echo "  $k  e.g. ${seen[$k]}"; done | sort
echo "fuzz: libFuzzer exit $fuzz_rc; crashes in the library: $lib, in HDF5: $h5," \
     "other: $other, not reproducible alone (HDF5 state from earlier inputs): $alone"
echo "reports with stacks: $work/reports/"
if [ "$parser_found" -gt 0 ]; then
    echo "parser findings were kept in $work/found/{index,json}/: copy them to" \
         "tests/fuzz/index-crashes/ or json-crashes/ (replayed by ctest)"
    exit 1
fi
if [ "$lib" -gt 0 ]; then
    echo "library crashes were kept in $work/found/library/: copy them to" \
         "tests/fuzz/crashes/ so that ctest fuzz_replay replays them"
    exit 1
fi
if [ "$other" -gt 0 ]; then
    echo "crashes that cannot be put on HDF5 (see the reports): treated as the library's"
    exit 1
fi
exit 0
