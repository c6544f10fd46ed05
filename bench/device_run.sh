#!/bin/bash
# One device call: build, GPU tests, compute-sanitizer on a small test, the
# benchmark; logs under $OUT. Usage (from the repo root, carry .devdeps):
#   bash bench/device_run.sh [--quick] [--no-tests]
set -u
OUTDIR=${OUT:-/tmp/spattn_out}
mkdir -p "$OUTDIR"
QUICK=""; TESTS=1
for a in "$@"; do
  case $a in --quick) QUICK=--quick ;; --no-tests) TESTS=0 ;; esac
done
mkdir -p /tmp/dr && for f in .devdeps/*.deb; do dpkg -x "$f" /tmp/dr; done
export LD_LIBRARY_PATH=/tmp/dr/usr/lib/x86_64-linux-gnu
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv > "$OUTDIR/nvidia-smi.txt" 2>&1
cat "$OUTDIR/nvidia-smi.txt"
SECONDS=0
cmake -S . -B /tmp/b -DCMAKE_PREFIX_PATH=/tmp/dr/usr -DSPATTN_CUDA_ARCHS=90a -DCMAKE_BUILD_TYPE=Release \
  > "$OUTDIR/build.log" 2>&1 || { tail -30 "$OUTDIR/build.log"; exit 1; }
cmake --build /tmp/b -j16 --target spattn_attention_bench >> "$OUTDIR/build.log" 2>&1 \
  || { grep -E "error" "$OUTDIR/build.log" | head -30; exit 1; }
if [ $TESTS = 1 ]; then
  cmake --build /tmp/b -j16 --target spattn_gpu_tests >> "$OUTDIR/build.log" 2>&1 \
    || { echo "GPU test build failed:"; grep -E "error" "$OUTDIR/build.log" | head -20; TESTS=0; }
fi
echo "build: ${SECONDS}s"
OBJ=$(find /tmp/b/cuda -name 'attention_forward.cu.o' | head -1)
cuobjdump -res-usage "$OBJ" 2>&1 | grep -E "Function|REG" > "$OUTDIR/sass.txt"
cuobjdump -sass "$OBJ" | grep -oE "HMMA[.A-Z0-9]*|HGMMA[.A-Z0-9]*|LDSM[.A-Z0-9]*|LDGSTS[.A-Z0-9]*|MUFU.EX2|LDL|STL|BAR[.A-Z]*" | sort | uniq -c >> "$OUTDIR/sass.txt"
cat "$OUTDIR/sass.txt"
if [ $TESTS = 1 ]; then
  SECONDS=0
  /tmp/b/tests/spattn_gpu_tests > "$OUTDIR/gpu_tests.log" 2>&1
  echo "gpu tests rc=$? (${SECONDS}s)"; grep -E "FAILED|Failure|PASSED|error|Expected|actual|Which" "$OUTDIR/gpu_tests.log" | head -40
  SECONDS=0
  compute-sanitizer --tool memcheck /tmp/b/tests/spattn_gpu_tests \
    --gtest_filter='*gqa_77*:*varlen_cross*:*RejectsMisaligned*' > "$OUTDIR/sanitizer.log" 2>&1
  echo "memcheck rc=$? (${SECONDS}s)"; grep -E "ERROR SUMMARY|PASSED|FAILED" "$OUTDIR/sanitizer.log" | head
  SECONDS=0
  compute-sanitizer --tool racecheck /tmp/b/tests/spattn_gpu_tests \
    --gtest_filter='*gqa_77*' > "$OUTDIR/racecheck.log" 2>&1
  echo "racecheck rc=$? (${SECONDS}s)"; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|PASSED|FAILED" "$OUTDIR/racecheck.log" | head
fi
SECONDS=0
PYTHONUNBUFFERED=1 python3 bench/attention_bench.py --lib /tmp/b/bench/libspattn_attention_bench.so $QUICK \
  > "$OUTDIR/bench.log" 2>&1
echo "bench rc=$? (${SECONDS}s)"
sed -n '/### all shapes/,$p' "$OUTDIR/bench.log"
grep -E "Error|error|Traceback" "$OUTDIR/bench.log" | head
