// SPDX-License-Identifier: MIT
// nuScenes `.pcd.bin` sweeps. Input: one mode byte (bit 0: KITTI axes, bit 1: strict), then
// the file.
#include "core/io/ScanIo.h"
#include "tests/fuzz/FuzzChecks.h"

using namespace lidistill;

LIDISTILL_FUZZ_TARGET(nuscenes_bin) {
    if (size < 1) return;
    const std::uint8_t mode = data[0];
    io::ReadOptions options;
    options.strict = (mode & 2) != 0;
    const auto axes = (mode & 1) ? io::NuscenesAxes::KittiFrame : io::NuscenesAxes::AsStored;
    const auto file = fuzz::writeInput("sweep.pcd.bin", data + 1, size - 1);
    const PointCloud cloud = io::readNuscenesBin(file, axes, options);
    fuzz::checkCloud(cloud);
    FUZZ_CHECK((size - 1) % 20 == 0 && cloud.size() <= (size - 1) / 20);
    FUZZ_CHECK(cloud.ring.size() == cloud.size() && cloud.intensity.size() == cloud.size());
}
