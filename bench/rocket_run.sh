#!/bin/bash
# RocketKV on the device in one call: builds libspattn and the GPU tests, runs
# the RocketKV GPU tests with SPATTN_TEST_REQUIRE_GPU=1 (a skip is a failure),
# then bench/rocket_bench.py, and the torch example examples/python/rocket_layer.py
# (with --example). Logs under $OUT. From the repo root, carry .devdeps (and
# .devpy for the example):
#   bash bench/rocket_run.sh [--quick] [--no-tests] [--example]
set -u
OUTDIR=${OUT:-/tmp/spattn_out}
mkdir -p "$OUTDIR"
QUICK=""; TESTS=1; EXAMPLE=0
for a in "$@"; do
  case $a in --quick) QUICK=--quick ;; --no-tests) TESTS=0 ;; --example) EXAMPLE=1 ;; esac
done
mkdir -p /tmp/dr && for f in .devdeps/*.deb; do dpkg -x "$f" /tmp/dr; done
export LD_LIBRARY_PATH=/tmp/dr/usr/lib/x86_64-linux-gnu
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm --format=csv
SECONDS=0
timeout 120 cmake -S . -B /tmp/b -DCMAKE_PREFIX_PATH=/tmp/dr/usr -DSPATTN_CUDA_ARCHS=90a -DCMAKE_BUILD_TYPE=Release \
  > "$OUTDIR/rocket_build.log" 2>&1 || { tail -30 "$OUTDIR/rocket_build.log"; exit 1; }
TARGETS="--target spattn"; [ $TESTS = 1 ] && TARGETS="$TARGETS --target spattn_gpu_tests"
timeout 300 cmake --build /tmp/b -j16 $TARGETS >> "$OUTDIR/rocket_build.log" 2>&1 \
  || { grep -E "error" "$OUTDIR/rocket_build.log" | head -30; exit 1; }
echo "build: ${SECONDS}s"
LIB=$(find /tmp/b -name "libspattn.so" | head -1)
RC=0
if [ $TESTS = 1 ]; then
  SECONDS=0
  SPATTN_TEST_REQUIRE_GPU=1 timeout 150 /tmp/b/tests/spattn_gpu_tests --gtest_filter='*Rocket*' \
    > "$OUTDIR/rocket_gpu_tests.log" 2>&1
  RC=$?; echo "rocket GPU tests rc=$RC (${SECONDS}s)"
  grep -E "FAILED|Failure|PASSED|SKIPPED \]|Expected|actual|Which|failure" "$OUTDIR/rocket_gpu_tests.log" | head -40
  SECONDS=0
  timeout 120 compute-sanitizer --tool memcheck /tmp/b/tests/spattn_gpu_tests \
    --gtest_filter='*RocketContextGpu*bf16_contiguous*:*RocketDecodeGpu*paged*:*RocketDecodeGpuGraph*' \
    > "$OUTDIR/rocket_sanitizer.log" 2>&1
  echo "memcheck rc=$? (${SECONDS}s)"; grep -E "ERROR SUMMARY|PASSED|FAILED" "$OUTDIR/rocket_sanitizer.log" | head
  echo "==== racecheck" >> "$OUTDIR/rocket_sanitizer.log"
  timeout 90 compute-sanitizer --tool racecheck /tmp/b/tests/spattn_gpu_tests \
    --gtest_filter='*RocketContextGpu.Whole*bf16_contiguous*:*RocketDecodeGpu.Whole*bf16_contiguous*' \
    >> "$OUTDIR/rocket_sanitizer.log" 2>&1
  echo "racecheck rc=$?"; sed -n '/==== racecheck/,$p' "$OUTDIR/rocket_sanitizer.log" | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|PASSED|FAILED" | head
fi
SECONDS=0
PYTHONUNBUFFERED=1 timeout ${BENCH_TIMEOUT:-360} python3 bench/rocket_bench.py --lib "$LIB" $QUICK \
  > "$OUTDIR/rocket_bench.log" 2>&1
echo "bench rc=$? (${SECONDS}s)"
cat "$OUTDIR/rocket_bench.log"
if [ $EXAMPLE = 1 ]; then
  PYPATH=bindings/python; [ -d .devpy ] && PYPATH=.devpy:$PYPATH
  SPATTN_LIBRARY=$LIB PYTHONPATH=$PYPATH PYTHONUNBUFFERED=1 timeout 120 python3 examples/python/rocket_layer.py \
    > "$OUTDIR/rocket_example.log" 2>&1
  echo "rocket_layer.py rc=$?"; tail -40 "$OUTDIR/rocket_example.log"
fi
exit $RC
