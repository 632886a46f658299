#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# On a machine with an NVIDIA GPU and a CUDA build of PyTorch 2.x: build lidistill's ML targets
# against that PyTorch's libtorch, run every ML test including the CUDA ones (ctest label gpu,
# tests/ml/DeviceTest.h), then the sparse-conv benchmark on CUDA (issue 4's target: one
# full-width denoiser call at 180k points in at most 50 ms on an H100).
# The rest of the project's dependencies (Eigen, PCL, nlohmann-json, GTest) must be installed
# as on the dev box; Qt/VTK and Embree are not needed (GUI and synth are switched off).
#
# Usage: resources/tools/run_gpu_checks.sh [BUILD_DIR] [PYTHON]
#   BUILD_DIR  default: build-gpu beside this checkout's sources
#   PYTHON     a python with the CUDA torch, default: python3
#   SCAN       (environment) KITTI .bin for the benchmark, default: the shared SemanticKITTI scan
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-gpu}
py=${2:-python3}

if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "error: '$py' cannot import torch (pass a python with a CUDA PyTorch)" >&2
    exit 2
fi
prefix=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')
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
    -DLIDISTILL_BUILD_GUI=OFF -DLIDISTILL_BUILD_SYNTH=OFF
cmake --build "$build" --parallel --target \
    test_ml_engine test_ml_networks test_ml_portable test_ml_gpu test_ml_cli bench_ml_sparse

# All ML tests (labels "ml" and "ml+gpu"). The gpu ones skip if libtorch sees no CUDA device,
# which on a GPU box means the build picked up a CPU-only libtorch: treat that as a failure.
log=$build/gpu-checks.log
ctest --test-dir "$build" -L ml --output-on-failure | tee "$log"
if grep -q "/cuda .*(Skipped)" "$log" && "$py" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())'; then
    echo "error: CUDA tests were skipped although PyTorch sees a GPU (CPU-only libtorch linked?)" >&2
    exit 1
fi

scan=${SCAN:-$src/../shared/data/semantickitti-mini/sequences/00/velodyne/000000.bin}
if [[ -f "$scan" ]]; then
    "$build/bench/ml/bench_ml_sparse" "$scan" 0.1 0 cuda
else
    echo "no scan at $scan: benchmark skipped (set SCAN=...)"
fi
