#!/bin/bash
# One device call: build, GPU tests, compute-sanitizer on a few tests, the
# benchmark, and (--full) the PyTorch example of the Python bindings; back
# under $OUT: summary.txt and logs.tgz (see below). Usage, from the repo
# root, carry .devdeps:
#   bash bench/device_run.sh [--quick] [--no-tests] [--tests-only] [--bench=NAME] [--full]
#   --quick       benchmark on the small shapes only
#   --no-tests    skip GPU tests and sanitizers
#   --tests-only  build, GPU tests and sanitizers; no benchmark (with --full: and the examples)
#   --bench=NAME  which benchmark: bench/NAME_bench.py with NAME attention (the
#                 default: prefill), decode, dsa, rocket or vsa
#   --full        everything that closes a benchmark round: GPU tests,
#                 sanitizers, the full benchmark, then every example in
#                 examples/python/ on the built libspattn.so (cffi from .devpy:
#                 bench/make_devpy.sh; carry .devpy)
# Every step has its own timeout; the whole --full run fits in ~5 minutes.
# GPU tests run with SPATTN_TEST_REQUIRE_GPU=1: on the device a test that
# would skip (no usable GPU, a kernel refusing a problem) fails instead.
# Before a run, compile cuda/prefill/attention_forward_sm90.cu locally with -Xptxas -v
# and make sure there is no "(C7520)" / "(C7515)" "... wgmma.mma_async
# instructions are serialized" line (info messages, not warnings): a
# serialized kernel is ~15% slower (run 4).
# What comes back fits the device tool's limits (8 files, the last 12,000
# characters of output): the logs are written under /tmp/spattn_logs and
# packed into $OUT/logs.tgz at exit, and everything printed is also kept in
# $OUT/summary.txt.
set -u
export SPATTN_TEST_REQUIRE_GPU=1
RETURNED=${OUT:-/tmp/spattn_out}
OUTDIR=/tmp/spattn_logs
mkdir -p "$RETURNED" "$OUTDIR"
exec > >(tee -a "$RETURNED/summary.txt") 2>&1
pack_logs() { tar czf "$RETURNED/logs.tgz" -C "$OUTDIR" . 2>/dev/null; }
trap pack_logs EXIT
QUICK=""; TESTS=1; EXAMPLE=0; BENCH=1; BENCH_NAME=attention
for a in "$@"; do
  case $a in --quick) QUICK=--quick ;; --no-tests) TESTS=0 ;; --full) EXAMPLE=1; QUICK="" ;; --tests-only) BENCH=0 ;;
    --bench=*) BENCH_NAME=${a#--bench=} ;; esac
done
# --full also runs the examples; --tests-only after it still drops the benchmark
for a in "$@"; do [ "$a" = --tests-only ] && BENCH=0; done
[ -f bench/${BENCH_NAME}_bench.py ] || { echo "no benchmark bench/${BENCH_NAME}_bench.py"; exit 2; }
mkdir -p /tmp/dr && for f in .devdeps/*.deb; do dpkg -x "$f" /tmp/dr; done
export LD_LIBRARY_PATH=/tmp/dr/usr/lib/x86_64-linux-gnu
SASS="$OUTDIR/sass.txt"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > "$SASS" 2>&1
cat "$SASS"; date -u >> "$SASS"
SECONDS=0
timeout 120 cmake -S . -B /tmp/b -DCMAKE_PREFIX_PATH=/tmp/dr/usr -DSPATTN_CUDA_ARCHS=90a -DCMAKE_BUILD_TYPE=Release \
  > "$OUTDIR/build.log" 2>&1 || { tail -30 "$OUTDIR/build.log"; exit 1; }
if [ $BENCH = 1 ]; then
  timeout 240 cmake --build /tmp/b -j16 --target spattn_attention_bench spattn >> "$OUTDIR/build.log" 2>&1 \
    || { grep -E "error" "$OUTDIR/build.log" | head -30; exit 1; }
fi
if [ $TESTS = 1 ]; then
  timeout 300 cmake --build /tmp/b -j16 --target spattn_gpu_tests >> "$OUTDIR/build.log" 2>&1 \
    || { echo "GPU test build failed:"; grep -E "error" "$OUTDIR/build.log" | head -20; [ $BENCH = 0 ] && exit 1; TESTS=0; }
fi
if [ $EXAMPLE = 1 ]; then
  timeout 240 cmake --build /tmp/b -j16 --target spattn >> "$OUTDIR/build.log" 2>&1 \
    || { echo "libspattn build failed:"; grep -E "error" "$OUTDIR/build.log" | head -20; EXAMPLE=0; }
fi
echo "build: ${SECONDS}s"
for name in attention_forward attention_forward_sm90 vsa_fine_sm90; do
  OBJ=$(find /tmp/b/cuda -name "$name.cu.o" | head -1)
  echo "== $name" >> "$SASS"
  cuobjdump -res-usage "$OBJ" 2>&1 | grep -E "REG" | sed 's/^ *//' >> "$SASS"
  cuobjdump -sass "$OBJ" > /tmp/$name.sass
  grep -oE "HMMA[.A-Z0-9]*|HGMMA[.A-Z0-9x]*|LDSM[.A-Z0-9]*|LDGSTS[.A-Z0-9]*|UTMALDG[.A-Z0-9]*|MUFU.EX2|LDL|STL|BAR[.A-Z]*|USETMAXREG[.A-Z0-9]*|WARPGROUP[.A-Z]*" /tmp/$name.sass | sort | uniq -c >> "$SASS"
done
cp /tmp/attention_forward_sm90.sass "$OUTDIR/sm90.sass"
cat "$SASS"
RC=0
if [ $TESTS = 1 ]; then
  SECONDS=0
  timeout 240 /tmp/b/tests/spattn_gpu_tests > "$OUTDIR/gpu_tests.log" 2>&1
  RC=$?; echo "gpu tests rc=$RC (${SECONDS}s)"
  grep -E "^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ test" "$OUTDIR/gpu_tests.log"
  grep -E "^\[  FAILED  \]|Failure|error|Expected|actual|Which|failure\(s\)|got " "$OUTDIR/gpu_tests.log" | head -60
  SECONDS=0
  timeout 120 compute-sanitizer --tool memcheck /tmp/b/tests/spattn_gpu_tests \
    --gtest_filter='*gqa_77*:*varlen_cross*:*varlen_gqa_empty*:*RejectsMisaligned*:-*Inputs*' > "$OUTDIR/sanitizer.log" 2>&1
  echo "memcheck rc=$? (${SECONDS}s)"; grep -E "ERROR SUMMARY|PASSED|FAILED" "$OUTDIR/sanitizer.log" | head
  SECONDS=0
  echo "==== racecheck" >> "$OUTDIR/sanitizer.log"
  timeout 60 compute-sanitizer --tool racecheck /tmp/b/tests/spattn_gpu_tests \
    --gtest_filter='*gqa_77_mma' >> "$OUTDIR/sanitizer.log" 2>&1
  echo "racecheck rc=$? (${SECONDS}s)"; sed -n '/==== racecheck/,$p' "$OUTDIR/sanitizer.log" | grep -E "ERROR SUMMARY|RACECHECK SUMMARY|PASSED|FAILED" | head
  # synccheck over every sm_90a case: named barriers and the mbarrier protocol
  # (each arrival paired with a wait) of the warp-specialized kernel.
  SECONDS=0
  echo "==== synccheck" >> "$OUTDIR/sanitizer.log"
  timeout 120 compute-sanitizer --tool synccheck /tmp/b/tests/spattn_gpu_tests \
    --gtest_filter='*sm90*:-*Mutation*:*Inputs*' >> "$OUTDIR/sanitizer.log" 2>&1
  echo "synccheck rc=$? (${SECONDS}s)"; sed -n '/==== synccheck/,$p' "$OUTDIR/sanitizer.log" | grep -E "ERROR SUMMARY|PASSED|FAILED|Barrier error" | sort | uniq -c | head
  # VSA: memcheck on a ragged case and the relayout, synccheck over the fine
  # stage's producer / consumer mbarriers.
  SECONDS=0
  echo "==== vsa" >> "$OUTDIR/sanitizer.log"
  timeout 120 compute-sanitizer --tool memcheck /tmp/b/tests/spattn_gpu_tests \
    --gtest_filter='*GpuVsa.*batch2*:*GpuVsaLayout*' >> "$OUTDIR/sanitizer.log" 2>&1
  echo "vsa memcheck rc=$?"
  timeout 120 compute-sanitizer --tool synccheck /tmp/b/tests/spattn_gpu_tests \
    --gtest_filter='*GpuVsa.*gqa*' >> "$OUTDIR/sanitizer.log" 2>&1
  echo "vsa synccheck rc=$? (${SECONDS}s)"; sed -n '/==== vsa/,$p' "$OUTDIR/sanitizer.log" | grep -E "ERROR SUMMARY|PASSED|FAILED|Barrier error" | sort | uniq -c | head
fi
if [ $RC = 124 ]; then echo "GPU tests hung: no benchmark"; exit 1; fi
# The benchmark: RocketKV's and decode's drive the whole library, the others the
# bench library (the attention entry points plus forced-kernel paths).
if [ $BENCH = 1 ]; then
  SECONDS=0
  LIB=/tmp/b/bench/libspattn_attention_bench.so
  [ "$BENCH_NAME" = rocket ] || [ "$BENCH_NAME" = decode ] && LIB=$(find /tmp/b -name "libspattn.so" | head -1)
  PYTHONUNBUFFERED=1 timeout ${BENCH_TIMEOUT:-420} python3 bench/${BENCH_NAME}_bench.py --lib "$LIB" $QUICK \
    > "$OUTDIR/bench.log" 2>&1
  echo "bench ${BENCH_NAME} rc=$? (${SECONDS}s)"
  grep -E "^\||^###|Error|error|Traceback" "$OUTDIR/bench.log" | head -150
fi
if [ $EXAMPLE = 1 ]; then
  SECONDS=0
  LIB=$(find /tmp/b -name "libspattn.so" | head -1)
  PYPATH=bindings/python; [ -d .devpy ] && PYPATH=.devpy:$PYPATH  # cffi built by bench/make_devpy.sh
  { echo "library: $LIB"; PYTHONPATH=$PYPATH python3 -c "import cffi; print('cffi', cffi.__version__)" 2>&1
    for example in examples/python/*.py; do
      [ "$(basename "$example")" = lookup.py ] && continue  # no GPU: run by tests/run_all.sh
      SPATTN_LIBRARY=$LIB PYTHONPATH=$PYPATH PYTHONUNBUFFERED=1 timeout 120 python3 "$example" 2>&1
      rc=$?; echo "$(basename "$example") rc=$rc"  # $? before $(basename) resets it
    done
    # the binding tests that need torch with CUDA (skipped in CI)
    SPATTN_LIBRARY=$LIB PYTHONPATH=$PYPATH timeout 120 python3 -m unittest discover \
      -s bindings/python/tests -t bindings/python 2>&1 | tail -5
    echo "python binding tests rc=${PIPESTATUS[0]}"; } > "$OUTDIR/example.log" 2>&1
  echo "examples (${SECONDS}s):"; grep -E "rc=|mismatch|error|Error|^Ran|^OK|FAILED" "$OUTDIR/example.log" | head -40
fi
exit $RC
