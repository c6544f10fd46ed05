#!/bin/bash
# One device call: build the benchmark library and profile the sm_90a kernel
# with Nsight Compute (full section set, source-level stall sampling) on the
# benchmark's inputs, dense and at the given thresholds. Reports under $OUT:
# details.txt (every section per launch) and stalls_<n>.csv (per-SASS-line
# stall samples of launch n). Usage, from the repo root, carry .devdeps:
#   bash bench/profile_sm90.sh DIM SEQ THRESHOLD...
set -u
OUTDIR=${OUT:-/tmp/spattn_out}
mkdir -p "$OUTDIR"
DIM=${1:-128}; SEQ=${2:-16384}; shift 2 || true
mkdir -p /tmp/dr && for f in .devdeps/*.deb; do dpkg -x "$f" /tmp/dr; done
export LD_LIBRARY_PATH=/tmp/dr/usr/lib/x86_64-linux-gnu
if [ ! -f /tmp/b/bench/libspattn_attention_bench.so ]; then
  timeout 120 cmake -S . -B /tmp/b -DCMAKE_PREFIX_PATH=/tmp/dr/usr -DSPATTN_CUDA_ARCHS=90a \
    -DCMAKE_BUILD_TYPE=Release > "$OUTDIR/profile_build.log" 2>&1 || { tail -30 "$OUTDIR/profile_build.log"; exit 1; }
fi
timeout 240 cmake --build /tmp/b -j16 --target spattn_attention_bench >> "$OUTDIR/profile_build.log" 2>&1 \
  || { grep -E "error" "$OUTDIR/profile_build.log" | head -30; exit 1; }
LIB=/tmp/b/bench/libspattn_attention_bench.so
N=$(( $# + 1 ))
timeout 300 ncu --clock-control none --set full --import-source no -k regex:attention_forward_sm90 -c $N \
  -f -o /tmp/prof python3 bench/profile_sm90.py --lib $LIB --dim $DIM --seq $SEQ --thresholds 0 "$@" \
  > "$OUTDIR/profile_run.log" 2>&1
echo "ncu rc=$?"; grep -E "threshold|ERR|rror" "$OUTDIR/profile_run.log" | head
ncu --import /tmp/prof.ncu-rep --page details > "$OUTDIR/details.txt" 2>&1
for i in $(seq 0 $((N - 1))); do
  ncu --import /tmp/prof.ncu-rep --page source --csv --print-source sass --launch-skip $i --launch-count 1 \
    > "$OUTDIR/stalls_$i.csv" 2>&1
done
grep -E "Duration|Compute \(SM\) Throughput|L2 Cache Throughput|Registers Per|Achieved Occupancy|Issue Slots Busy|Executed Ipc Active" "$OUTDIR/details.txt"
