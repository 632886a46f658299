#!/usr/bin/env bash
# Runs every fuzz target (or those named) for a time budget and writes a table of executions,
# coverage and crashes. Needs a LIDISTILL_FUZZ build (README: fuzzing and sanitizers):
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DLIDISTILL_FUZZ=ON \
#       -DLIDISTILL_SANITIZER=address,undefined -DLIDISTILL_BUILD_GUI=OFF \
#       -DLIDISTILL_BUILD_SYNTH=OFF -DLIDISTILL_BUILD_ML=OFF
#   cmake --build build-fuzz --target fuzz_targets
#
#   tests/fuzz/run_fuzzers.sh [--build DIR] [--seconds N] [--jobs J] [--out DIR] [--seed S] [TARGET...]
#     --seconds  budget of each target (default 3600: one hour)
#     --seed     libFuzzer's random seed (default: a new one each run); CI fixes it so that its
#                short run repeats the same mutations, and a finding there is reproducible
#     --jobs     targets run at once (default 1)
#     --out      where corpora, crashes, logs and the report go (default DIR/fuzz-run)
#     --report   only write the table from the logs of an earlier run in --out
# Each target's corpus starts from tests/fuzz/seeds/T, tests/fuzz/regressions/T and, for the
# scan and KITTI text targets, the heads of the real files in ../shared/data (when present),
# and grows across runs in OUT/corpus/T. Exit status 1 if any target crashed: its inputs are in
# OUT/crashes/T; add them to tests/fuzz/regressions/T once fixed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build="$src/build-fuzz"
seconds=3600
jobs=1
out=""
report_only=0
seed_args=()
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --seed) seed_args=(-seed="$2"); shift 2 ;;
    --report) report_only=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "run_fuzzers: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
out=${out:-$build/fuzz-run}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ ${#targets[@]} -eq 0 ]; then
  targets=(kitti_scan nuscenes_bin kitti_text pcd ply ldmap run_folder pair_store \
           worker_messages worker_requests safetensors)
fi
for t in "${targets[@]}"; do
  [ -x "$build/tests/fuzz/fuzz_$t" ] || { echo "run_fuzzers: no $build/tests/fuzz/fuzz_$t (build the fuzz_targets target of a LIDISTILL_FUZZ build)" >&2; exit 2; }
done
shared="${LIDISTILL_SHARED_DATA:-$src/../shared/data}"
# Every input is handed to the readers as a file: in memory, a run goes several times faster.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

# Heads of real files: whole scans (2 MB) would make every mutation slow.
add_head() {  # corpus mode-byte-or-empty file bytes
  local dest="$1/shared-$(basename "$3")-$4"
  { [ -n "$2" ] && printf "\\x$2"; head -c "$4" "$3"; } > "$dest"
}
seed() {
  local t=$1 c="$out/corpus/$1"
  mkdir -p "$c" "$out/crashes/$t"
  cp -n "$here/seeds/$t/"* "$c/" 2>/dev/null || true
  [ -d "$here/regressions/$t" ] && cp -n "$here/regressions/$t/"* "$c/" 2>/dev/null || true
  [ -d "$shared" ] || return 0
  case $t in
    kitti_scan)
      for f in $(find "$shared" -name '*.bin' ! -name '*.pcd.bin' | sort | head -3); do
        add_head "$c" 00 "$f" 1024; done
      for f in $(find "$shared" -name '*.label' | sort | head -2); do add_head "$c" 01 "$f" 256; done ;;
    nuscenes_bin)
      for f in $(find "$shared" -name '*.pcd.bin' | sort | head -2); do add_head "$c" 00 "$f" 2000; done ;;
    kitti_text)
      for f in $(find "$shared" -name 'calib.txt' | head -1); do add_head "$c" 00 "$f" 4096; done
      for f in $(find "$shared" -name 'poses.txt' | head -1); do add_head "$c" 01 "$f" 2048; done
      for f in $(find "$shared" -name 'times.txt' | head -1); do add_head "$c" 02 "$f" 512; done ;;
  esac
}

run_one() {
  local t=$1 dict=() d=$1
  case $t in run_folder|worker_messages|worker_requests|safetensors) d=json ;; esac
  [ -f "$here/dict/$d.dict" ] && dict=(-dict="$here/dict/$d.dict")
  # halt_on_error: a UBSan report is a crash, not a note; leaks are bugs too. The memory budget
  # sits under libFuzzer's malloc limit: a file asking for more must be refused, not tried.
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  LSAN_OPTIONS="suppressions=$src/resources/sanitizers/lsan.supp" \
  OMP_NUM_THREADS=1 LIDISTILL_MEMORY_BUDGET=512M \
    "$build/tests/fuzz/fuzz_$t" "$out/corpus/$t" "${dict[@]}" "${seed_args[@]}" -max_total_time="$seconds" \
      -timeout=20 -rss_limit_mb=2560 -malloc_limit_mb=1024 -max_len=65536 \
      -artifact_prefix="$out/crashes/$t/" -print_final_stats=1 \
      > "$out/$t.log" 2>&1 || true
}

if [ "$report_only" -eq 0 ]; then
for t in "${targets[@]}"; do seed "$t"; done
echo "run_fuzzers: ${#targets[@]} targets, ${seconds} s each, $jobs at once; logs in $out"
running=0
for t in "${targets[@]}"; do
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
fi

report="$out/fuzz-report.md"
crashed=0
{
  echo "| target | seconds | executions | exec/s | coverage (edges) | features | corpus | crashes |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for t in "${targets[@]}"; do
    log="$out/$t.log"
    execs=$(grep -oE 'stat::number_of_executed_units: +[0-9]+' "$log" | awk '{print $2}' | tail -1)
    rate=$(grep -oE 'stat::average_exec_per_sec: +[0-9]+' "$log" | awk '{print $2}' | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
    corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$last")
    n=$(find "$out/crashes/$t" -type f | wc -l)
    if grep -qE '^==[0-9]+==ERROR|runtime error:|deadly signal|fuzz: invariant failed' "$log"; then
      n=$((n > 0 ? n : 1))
    fi
    [ "$n" -gt 0 ] && crashed=1
    echo "| $t | $seconds | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | $n |"
  done
} > "$report"
cat "$report"
[ "$crashed" -eq 0 ] || { echo "run_fuzzers: crashes found; inputs in $out/crashes" >&2; exit 1; }
