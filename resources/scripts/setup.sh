#!/usr/bin/env bash
# One entry point for a fresh Debian 12 machine:
#   bash resources/scripts/setup.sh studio   install what is missing, build, open the studio
#   bash resources/scripts/setup.sh test     install what is missing, build, run every test
#   bash resources/scripts/setup.sh deps     only install the Debian packages
#   bash resources/scripts/setup.sh build    only configure and build
# Installing needs root (apt-get); it is skipped when every package is already present.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD_DIR=${LIDISTILL_BUILD_DIR:-build}
JOBS=${LIDISTILL_JOBS:-$(nproc)}

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config
  qt6-base-dev libqt6opengl6-dev qt6-charts-dev
  libvtk9-dev libpcl-dev libeigen3-dev
  libtorch-dev libopenblas0-openmp
  libembree-dev nlohmann-json3-dev libnanoflann-dev libsqlite3-dev libgloo-dev
  libgtest-dev
  # The fuzz targets (tests/fuzz): libFuzzer and the sanitizer runtimes are clang 14's
  # compiler-rt; core/ needs clang's OpenMP.
  clang libclang-rt-14-dev libomp-14-dev
  xvfb xauth libgl1-mesa-dri
  python3-numpy python3-scipy python3-open3d python3-torch
)

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all Debian packages present"
    return
  fi
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON \
        ${LIDISTILL_CMAKE_ARGS:-}
  cmake --build "$BUILD_DIR" -j "$JOBS"
}

run_tests() {
  # OpenMP threads that spin would starve llvmpipe and Xvfb on 2 cores.
  export OMP_WAIT_POLICY=PASSIVE
  (cd "$BUILD_DIR" && ctest --output-on-failure --no-tests=error -LE 'bench|gpu' -j "$JOBS" \
      --timeout 900)
}

case "${1:-}" in
  deps) install_deps ;;
  build) build ;;
  test) install_deps; build; run_tests ;;
  studio)
    install_deps; build
    exec "$BUILD_DIR/app/lidistill-studio" "${@:2}" ;;
  *) sed -n '2,8p' "$0"; exit 2 ;;
esac
