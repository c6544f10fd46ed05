#!/usr/bin/env bash
# Runs every test of spattn, each build configuration built once:
#   build/       the library as shipped (CUDA kernels when nvcc is found):
#                unit tests, GPU tests (they skip without a GPU), ABI checks,
#                binding tests;
#   build-asan/  clang + AddressSanitizer + UndefinedBehaviorSanitizer: the
#                unit tests again, and every libFuzzer target replaying its
#                corpus and then fuzzing for SPATTN_FUZZ_SECONDS (15) seconds;
#   build-tsan/  clang + ThreadSanitizer: the concurrency tests.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-2}
[ -d /usr/local/cuda/bin ] && export PATH="$PATH:/usr/local/cuda/bin"

section() { printf '\n==== %s ====\n' "$*"; }

# ctest, with its output also kept for the overall count printed at the end.
SUMMARY_LOG=$(mktemp)
trap 'rm -f "$SUMMARY_LOG"' EXIT
run_ctest() {
  ctest "$@" 2>&1 | tee -a "$SUMMARY_LOG"
  return "${PIPESTATUS[0]}"
}

section "main build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$JOBS"
run_ctest --test-dir build --output-on-failure -j"$JOBS"

# Test names are words: a parameter printed as raw bytes (a suite without a
# name generator, a parameter type without PrintTo) changes from build to build.
if ctest --test-dir build -N | grep -E 'byte object|GetParam\(\)'; then
  echo "the ctest names above carry raw parameter bytes: give the suite kernel_check::CaseName() and its parameter a PrintTo"
  exit 1
fi

section "AddressSanitizer + UndefinedBehaviorSanitizer build (fuzz corpora, bounded fuzzing)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSPATTN_SANITIZE=ON -DSPATTN_FUZZ=ON -DSPATTN_WITH_CUDA=OFF -DSPATTN_BUILD_BENCH=OFF \
  -DSPATTN_BUILD_BINDINGS=OFF > /dev/null
cmake --build build-asan -j"$JOBS"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_ctest --test-dir build-asan --output-on-failure -j"$JOBS"

section "ThreadSanitizer build (concurrency tests)"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DSPATTN_TSAN=ON -DSPATTN_WITH_CUDA=OFF -DSPATTN_BUILD_BENCH=OFF -DSPATTN_BUILD_BINDINGS=OFF > /dev/null
cmake --build build-tsan -j"$JOBS" --target spattn_unit_tests
TSAN_OPTIONS=halt_on_error=1 run_ctest --test-dir build-tsan --output-on-failure -j"$JOBS" -R 'Concurrent|Thread'

# One line for all three runs (skipped: GPU tests on a machine without a GPU).
total=$(grep -oE 'tests failed out of [0-9]+' "$SUMMARY_LOG" | awk '{s += $5} END {print s + 0}')
failed=$(grep -oE '[0-9]+ tests failed out of' "$SUMMARY_LOG" | awk '{s += $1} END {print s + 0}')
skipped=$(grep -c '(Skipped)$' "$SUMMARY_LOG" || true)
printf '\nall: %d passed, %d failed, %d skipped\n' "$((total - failed - skipped))" "$failed" "$skipped"
