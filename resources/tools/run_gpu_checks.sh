#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# On a machine with an NVIDIA GPU and a CUDA build of PyTorch 2.x: build lidistill's CLI and ML
# targets against that PyTorch's libtorch, run every ML test including the CUDA ones (ctest label
# gpu, tests/ml/DeviceTest.h), then the sparse-conv benchmark on CUDA (issue 4's target: one
# full-width denoiser call at 180k points in at most 50 ms on an H100).
# Meant for a bare GPU server: GUI and synth are off, PCL is off unless LIDISTILL_WITH_PCL=ON,
# and Eigen / nlohmann-json / nanoflann / GoogleTest come from the system or from a folder staged
# by resources/tools/stage_server_deps.sh (default .deps in the checkout).
#
# Usage: resources/tools/run_gpu_checks.sh [BUILD_DIR] [PYTHON]
#   BUILD_DIR  default: build-gpu beside this checkout's sources
#   PYTHON     a python with the CUDA torch, default: python3
# Environment:
#   DEPS                  staged dependencies, default: .deps/root/usr in the checkout, if present
#   LIDISTILL_SHARED_DATA the real scans (../shared/data), default: .shared-data in the checkout
#                         if present (a copy carried to a machine that lacks ../shared), else
#                         ../shared/data
#   SCAN                  KITTI .bin for the benchmark, default: a scan of the shared data
#   LIDISTILL_WITH_PCL    ON to build PCD/PLY support (needs PCL installed), default OFF
#
# From a dev box with the device tool: run stage_server_deps.sh once, copy ../shared/data to
# .shared-data, then run this script there carrying .deps and .shared-data.
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-gpu}
py=${2:-python3}

if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "error: '$py' cannot import torch (pass a python with a CUDA PyTorch)" >&2
    exit 2
fi
prefix=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')
deps=${DEPS:-$src/.deps/root/usr}
[[ -d "$deps" ]] && prefix="$prefix;$deps"
data=${LIDISTILL_SHARED_DATA:-}
if [[ -z "$data" ]]; then
    data=$src/../shared/data
    [[ -d "$src/.shared-data" ]] && data=$src/.shared-data
fi
"$py" -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda,
      "device:", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")'

generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
cuda_args=()
if [[ -z "${CUDACXX:-}" && -x /usr/local/cuda/bin/nvcc ]]; then
    cuda_args=(-DCMAKE_CUDA_COMPILER=/usr/local/cuda/bin/nvcc)
fi
cmake -S "$src" -B "$build" "${generator[@]}" "${cuda_args[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
    -DLIDISTILL_BUILD_GUI=OFF -DLIDISTILL_BUILD_SYNTH=OFF \
    -DLIDISTILL_WITH_PCL="${LIDISTILL_WITH_PCL:-OFF}" -DLIDISTILL_SHARED_DATA="$data" \
    -DLIDISTILL_TORCH_PYTHON="$(command -v "$py")"
cmake --build "$build" --parallel --target lidistill \
    test_ml_engine test_ml_networks test_ml_portable test_ml_gpu test_ml_cli bench_ml_sparse

# All ML tests (labels "ml" and "ml+gpu"). The gpu ones skip if libtorch sees no CUDA device,
# which on a GPU box means the build picked up a CPU-only libtorch: treat that as a failure.
log=$build/gpu-checks.log
ctest --test-dir "$build" -L ml --output-on-failure | tee "$log"
if grep -q "/cuda .*(Skipped)" "$log" && "$py" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
    echo "error: CUDA tests were skipped although PyTorch sees a GPU (CPU-only libtorch linked?)" >&2
    exit 1
fi

scan=${SCAN:-$data/semantickitti-mini/sequences/00/velodyne/000000.bin}
bench_device=$("$py" -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
if [[ -f "$scan" ]]; then
    "$build/bench/ml/bench_ml_sparse" "$scan" 0.1 0 "$bench_device"
else
    echo "no scan at $scan: benchmark skipped (set SCAN=...)"
fi

# One full LiDiff completion (full-width random weights, 50 steps, CFG, refiner) on the GPU:
# the end-to-end time a scan costs (LiDiff reports ~30 s with MinkowskiEngine).
if [[ "$bench_device" == cuda && -f "$scan" ]]; then
    "$build/app/lidistill" model init "$build/full-random.safetensors" --refiner --seed 1
    time timeout 600 "$build/app/lidistill" complete "$build/full-random.safetensors" "$scan" \
        "$build/completed.bin" --steps 50 --device cuda
    # Three Distillation-DPO steps at full size (18k partial, 180k ground truth): seconds a step.
    seq=$data/semantickitti-mini/sequences/00
    time timeout 600 "$build/app/lidistill" train-dpo "$build/full-random.safetensors" "$seq" \
        "$build/dpo-run" --steps 3 --device cuda
    cat "$build/dpo-run/metrics.jsonl"
fi
