#!/bin/bash
# One device call: build, GPU tests, compute-sanitizer on a few tests, the
# benchmark, and (--full) the PyTorch example of the Python bindings; logs
# under $OUT (7 files at most: the device tool returns 8). Usage, from the
# repo root, carry .devdeps:
#   bash bench/device_run.sh [--quick] [--no-tests] [--full]
#   --quick     benchmark on the small shapes only
#   --no-tests  skip GPU tests and sanitizers
#   --tests-only  build, GPU tests and sanitizers; no benchmark
#   --dsa       the DSA benchmark (bench/dsa_bench.py) and examples/python/dsa_layer.py
#               instead of attention_bench.py (with --no-tests: fits one device call)
#   --full      everything that closes a benchmark round: GPU tests,
#               sanitizers, the full benchmark, then
#               examples/python/torch_attention.py on the built libspattn.so
# Every step has its own timeout; the whole --full run fits in ~5 minutes.
# Before a run, compile cuda/prefill/attention_forward_sm90.cu locally with -Xptxas -v
# and make sure there is no "(C7520)" / "(C7515)" "... wgmma.mma_async
# instructions are serialized" line (info messages, not warnings): a
# serialized kernel is ~15% slower (run 4).
set -u
OUTDIR=${OUT:-/tmp/spattn_out}
mkdir -p "$OUTDIR"
QUICK=""; TESTS=1; EXAMPLE=0; BENCH=1; DSA=0
for a in "$@"; do
  case $a in --quick) QUICK=--quick ;; --no-tests) TESTS=0 ;; --full) EXAMPLE=1; QUICK="" ;; --tests-only) BENCH=0 ;; --dsa) DSA=1; EXAMPLE=1 ;; esac
done
mkdir -p /tmp/dr && for f in .devdeps/*.deb; do dpkg -x "$f" /tmp/dr; done
export LD_LIBRARY_PATH=/tmp/dr/usr/lib/x86_64-linux-gnu
SASS="$OUTDIR/sass.txt"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > "$SASS" 2>&1
cat "$SASS"; date -u >> "$SASS"
SECONDS=0
timeout 120 cmake -S . -B /tmp/b -DCMAKE_PREFIX_PATH=/tmp/dr/usr -DSPATTN_CUDA_ARCHS=90a -DCMAKE_BUILD_TYPE=Release \
  > "$OUTDIR/build.log" 2>&1 || { tail -30 "$OUTDIR/build.log"; exit 1; }
timeout 240 cmake --build /tmp/b -j16 --target spattn_attention_bench >> "$OUTDIR/build.log" 2>&1 \
  || { grep -E "error" "$OUTDIR/build.log" | head -30; exit 1; }
if [ $TESTS = 1 ]; then
  timeout 240 cmake --build /tmp/b -j16 --target spattn_gpu_tests >> "$OUTDIR/build.log" 2>&1 \
    || { echo "GPU test build failed:"; grep -E "error" "$OUTDIR/build.log" | head -20; TESTS=0; }
fi
if [ $EXAMPLE = 1 ]; then
  timeout 240 cmake --build /tmp/b -j16 --target spattn >> "$OUTDIR/build.log" 2>&1 \
    || { echo "libspattn build failed:"; grep -E "error" "$OUTDIR/build.log" | head -20; EXAMPLE=0; }
fi
echo "build: ${SECONDS}s"
for name in attention_forward attention_forward_sm90; do
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
  timeout 90 /tmp/b/tests/spattn_gpu_tests > "$OUTDIR/gpu_tests.log" 2>&1
  RC=$?; echo "gpu tests rc=$RC (${SECONDS}s)"; grep -E "FAILED|Failure|PASSED|SKIPPED \]|error|Expected|actual|Which" "$OUTDIR/gpu_tests.log" | head -40
  SECONDS=0
  timeout 120 compute-sanitizer --tool memcheck /tmp/b/tests/spattn_gpu_tests \
    --gtest_filter='*gqa_77*:*varlen_cross*:*varlen_gqa_empty*:*RejectsMisaligned*' > "$OUTDIR/sanitizer.log" 2>&1
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
    --gtest_filter='*sm90*' >> "$OUTDIR/sanitizer.log" 2>&1
  echo "synccheck rc=$? (${SECONDS}s)"; sed -n '/==== synccheck/,$p' "$OUTDIR/sanitizer.log" | grep -E "ERROR SUMMARY|PASSED|FAILED|Barrier error" | sort | uniq -c | head
fi
if [ $RC = 124 ]; then echo "GPU tests hung: no benchmark"; exit 1; fi
if [ $BENCH = 0 ]; then exit $RC; fi
if [ $DSA = 1 ]; then
  SECONDS=0
  PYTHONUNBUFFERED=1 timeout ${BENCH_TIMEOUT:-420} python3 bench/dsa_bench.py --lib /tmp/b/bench/libspattn_attention_bench.so \
    $QUICK > "$OUTDIR/dsa_bench.log" 2>&1
  echo "dsa bench rc=$? (${SECONDS}s)"
  grep -E "^\||^###|Error|error|Traceback" "$OUTDIR/dsa_bench.log" | head -80
  if [ $EXAMPLE = 1 ]; then
    LIB=$(find /tmp/b -name "libspattn.so" | head -1)
    PYPATH=bindings/python; [ -d .devpy ] && PYPATH=.devpy:$PYPATH
    SPATTN_LIBRARY=$LIB PYTHONPATH=$PYPATH PYTHONUNBUFFERED=1 timeout 120 python3 examples/python/dsa_layer.py \
      > "$OUTDIR/example.log" 2>&1
    echo "dsa_layer.py rc=$?"; cat "$OUTDIR/example.log"
  fi
  exit 0
fi
SECONDS=0
PYTHONUNBUFFERED=1 timeout ${BENCH_TIMEOUT:-300} python3 bench/attention_bench.py --lib /tmp/b/bench/libspattn_attention_bench.so $QUICK \
  > "$OUTDIR/bench.log" 2>&1
echo "bench rc=$? (${SECONDS}s)"
sed -n '/### all shapes/,$p' "$OUTDIR/bench.log"
grep -E "Error|error|Traceback" "$OUTDIR/bench.log" | head
if [ $EXAMPLE = 1 ]; then
  SECONDS=0
  LIB=$(find /tmp/b -name "libspattn.so" | head -1)
  PYPATH=bindings/python; [ -d .devpy ] && PYPATH=.devpy:$PYPATH  # cffi built by bench/make_devpy.sh
  { echo "library: $LIB"; PYTHONPATH=$PYPATH python3 -c "import cffi; print('cffi', cffi.__version__)" 2>&1;
    SPATTN_LIBRARY=$LIB PYTHONPATH=$PYPATH PYTHONUNBUFFERED=1 \
      timeout 120 python3 examples/python/torch_attention.py 2>&1; echo "torch_attention.py rc=$?"; } \
    > "$OUTDIR/example.log" 2>&1
  echo "example (${SECONDS}s):"; cat "$OUTDIR/example.log"
fi
