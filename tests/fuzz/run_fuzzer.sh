#!/usr/bin/env bash
# Runs one libFuzzer harness for a given amount of CPU time (not wall time: on a shared machine
# at nice 19 the two differ), then merges what it found into a compact corpus.
#   tests/fuzz/run_fuzzer.sh NAME CPU_SECONDS [extra libFuzzer flags]
# Needs the fuzz build (docs/fuzzing.md):
#   CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DAESWEEP_FUZZ=ON ...
#   cmake --build build-fuzz --target fuzz_NAME
# To go on past findings (each one saved as an artifact): -fork=1 -ignore_crashes=1 -ignore_ooms=1
# -ignore_timeouts=1 (the archive fuzzer needs it: HDF5 itself crashes on some malformed files).
# Work corpus: build-fuzz/fuzz-work/NAME (kept between runs); crashes, leaks, timeouts and
# out-of-memory inputs: build-fuzz/fuzz-artifacts/NAME/. With AESWEEP_FUZZ_UPDATE_CORPUS=1, the
# inputs of the work corpus that add coverage to the stored corpus tests/fuzz/corpus/NAME are
# added to it (-merge=1; the named seeds stay).
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1
cpu_limit=$2
shift 2
build=${AESWEEP_FUZZ_BUILD:-build-fuzz}
exe=$build/tests/fuzz_$name
work=$build/fuzz-work/$name
artifacts=$build/fuzz-artifacts/$name
mkdir -p "$work" "$artifacts"
limits=(-rss_limit_mb=512 -malloc_limit_mb=512 -timeout=10 -detect_leaks=1 -print_final_stats=1)
# A 32 MB quarantine instead of ASan's 256 MB: -rss_limit_mb measures the process, and with the
# default quarantine ASan's own bookkeeping alone passed 512 MB in the cli fuzzer (25 MB live heap,
# 132 MB quarantined, the rest allocator metadata) and was reported as out-of-memory.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0:quarantine_size_mb=32:malloc_context_size=10}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp:print_suppressions=0}
log=$build/fuzz-$name.log
artifacts_before=$(ls "$artifacts" | wc -l)
# -max_total_time only bounds wall time; the CPU time is watched here and the fuzzer stopped
# with SIGINT (libFuzzer then prints its final stats and exits normally).
nice -n 19 "$exe" "${limits[@]}" -max_total_time=100000 -artifact_prefix="$artifacts/" "$@" \
  "$work" tests/fuzz/corpus/"$name" >"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 5
  [ -r /proc/$pid/stat ] || break
  # utime + stime, plus the finished children's (libFuzzer's -fork=N mode runs the inputs in them).
  ticks=$(awk '{print $14 + $15 + $16 + $17}' /proc/$pid/stat 2>/dev/null || echo 0)
  if [ "$ticks" -ge $((cpu_limit * $(getconf CLK_TCK))) ]; then
    kill -INT "$pid" 2>/dev/null || true
    # In -fork=N mode libFuzzer's parent goes on after SIGINT: end it and its jobs.
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 2; done
    if kill -0 "$pid" 2>/dev/null; then
      pkill -TERM -P "$pid" 2>/dev/null || true
      kill -TERM "$pid" 2>/dev/null || true
      forced=1
    fi
    break
  fi
done
status=0
forced=${forced:-0}
wait "$pid" || status=$?
[ "$forced" = 1 ] && status=0
# 72: libFuzzer's exit status after the SIGINT sent above (interrupted, nothing found).
[ "$status" = 72 ] && grep -q "libFuzzer: run interrupted" "$log" && status=0
new_artifacts=$(($(ls "$artifacts" | wc -l) - artifacts_before))
# Findings kept going past (-fork=N -ignore_crashes=1 ...) fail the run as well.
[ "$status" = 0 ] && [ "$new_artifacts" -gt 0 ] && status=1
echo "fuzz_$name: exit status $status, CPU $((ticks / $(getconf CLK_TCK))) s, $new_artifacts new findings in $artifacts"
grep -E "^(stat::|Done|#[0-9]+ *DONE)|ERROR|SUMMARY|==[0-9]+==" "$log" | tail -20 || true
if [ "${AESWEEP_FUZZ_UPDATE_CORPUS:-0}" = 1 ]; then
  nice -n 19 "$exe" "${limits[@]}" -merge=1 tests/fuzz/corpus/"$name" "$work" >"$build/fuzz-$name-merge.log" 2>&1
  echo "corpus tests/fuzz/corpus/$name: $(ls tests/fuzz/corpus/"$name" | wc -l) files, $(du -sk tests/fuzz/corpus/"$name" | cut -f1) KB"
fi
exit $status
