#!/usr/bin/env bash
# The engine before and after session 9's fixed-cost work, measured in one run: bench_ml_lite
# --before (glibc allocator defaults, each guidance pass voxelized and searched alone) and
# bench_ml_lite (current) alternate ROUNDS times, each a fresh process, and the medians of each
# figure are printed side by side, lite and full scale.
#   bench/ml/compare_engine.sh BUILD_DIR SEQUENCE_DIR [MODEL|-] [ROUNDS=2]
# Takes about 4 minutes a round on the 2-core dev machine. Keep the machine otherwise quiet.
set -euo pipefail
build=${1:?usage: compare_engine.sh BUILD_DIR SEQUENCE_DIR [MODEL|-] [ROUNDS]}
seq=${2:?usage: compare_engine.sh BUILD_DIR SEQUENCE_DIR [MODEL|-] [ROUNDS]}
model=${3:--}
rounds=${4:-2}
bench="$build/bench/ml/bench_ml_lite"
[ -x "$bench" ] || { echo "compare_engine: no $bench (build the bench_ml_lite target)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for r in $(seq 1 "$rounds"); do
  for mode in before after; do
    flag=(); [ "$mode" = before ] && flag=(--before)
    echo "compare_engine: round $r/$rounds, $mode" >&2
    "$bench" "${flag[@]}" "$seq" 1 "$model" | grep '^figure' | sed "s/^figure/$mode/" >> "$out/figures"
  done
done
# Median of each (mode, scale, work), then one row per (scale, work).
awk -F'\t' '
  { key = $2 "\t" $3; v[$1, key, ++n[$1, key]] = $4; if (!(key in seen)) { seen[key] = 1; order[++k] = key } }
  function median(mode, key,   m, i, j, a, t) {
    m = n[mode, key]; for (i = 1; i <= m; i++) a[i] = v[mode, key, i]
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
  }
  END {
    print "| scale | work | before [s] | after [s] | after / before |"
    print "|---|---|---:|---:|---:|"
    for (i = 1; i <= k; i++) {
      split(order[i], p, "\t"); b = median("before", order[i]); a = median("after", order[i])
      printf "| %s | %s | %.3f | %.3f | %.2f |\n", p[1], p[2], b, a, a / b
    }
  }' "$out/figures"
