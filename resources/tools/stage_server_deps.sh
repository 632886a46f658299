#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Stages the small, header-only (and GoogleTest) build dependencies of the headless CLI/ML build
# for a GPU server that has a compiler, CMake, CUDA and PyTorch but no Debian packages and no
# network: Eigen, nlohmann-json, nanoflann and GoogleTest, as Debian 12 packages unpacked into a
# folder (nothing is installed). Run it on a Debian 12 machine that reaches Debian's archive;
# copy the folder to the server (or carry it), then build with run_gpu_checks.sh, which picks it
# up. PCL is left out: the server build uses LIDISTILL_WITH_PCL=OFF (.bin scans only).
#
# Usage: resources/tools/stage_server_deps.sh [DIR]   (default: .deps in the checkout, git-ignored)
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$src/.deps}
packages=(libeigen3-dev nlohmann-json3-dev libnanoflann-dev libgtest-dev)

rm -rf "$dir/debs" "$dir/root"
mkdir -p "$dir/debs" "$dir/root"
(cd "$dir/debs" && apt-get download "${packages[@]}")
for deb in "$dir"/debs/*.deb; do
    dpkg-deb -x "$deb" "$dir/root"
done
rm -rf "$dir/debs"
echo "staged ${packages[*]} in $dir/root (use -DCMAKE_PREFIX_PATH=$dir/root/usr)"
