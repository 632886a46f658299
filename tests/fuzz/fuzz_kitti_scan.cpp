// SPDX-License-Identifier: MIT
// KITTI / SemanticKITTI velodyne `.bin` and `.label`. Input: one mode byte, then the file(s).
//   mode & 3 == 0: a .bin;  1: a .label;  2: a .bin and a .label together (the next 4 bytes,
//   little endian, give the .bin's length, clipped to what is left); mode & 4: strict reading.
#include "core/io/ScanIo.h"
#include "tests/fuzz/FuzzChecks.h"

#include <algorithm>
#include <cstring>

using namespace lidistill;

LIDISTILL_FUZZ_TARGET(kitti_scan) {
    if (size < 1) return;
    const std::uint8_t mode = data[0];
    io::ReadOptions options;
    options.strict = (mode & 4) != 0;
    ++data, --size;
    switch (mode & 3) {
        case 0: {
            const auto file = fuzz::writeInput("scan.bin", data, size);
            const PointCloud cloud = io::readKittiBin(file, options);
            fuzz::checkCloud(cloud);
            // Every record is 16 bytes; at most the non-finite ones were dropped.
            FUZZ_CHECK(size % 16 == 0 && cloud.size() <= size / 16);
            FUZZ_CHECK(cloud.intensity.size() == cloud.size());
            if (options.strict) FUZZ_CHECK(cloud.size() == size / 16);
            break;
        }
        case 1: {
            const auto labels = io::readLabelFile(fuzz::writeInput("scan.label", data, size));
            FUZZ_CHECK(labels.size() * 4 == size);
            if (!labels.empty()) {
                std::uint32_t first = 0;
                std::memcpy(&first, data, 4);
                FUZZ_CHECK(labels[0] == first);  // little endian, as on the hosts we build for
            }
            break;
        }
        default: {
            if (size < 4) return;
            std::uint32_t binLength = 0;
            std::memcpy(&binLength, data, 4);
            data += 4, size -= 4;
            const std::size_t n = std::min<std::size_t>(binLength, size);
            const auto bin = fuzz::writeInput("scan.bin", data, n);
            const auto label = fuzz::writeInput("scan.label", data + n, size - n);
            const PointCloud cloud = io::readKittiScan(bin, label, options);
            fuzz::checkCloud(cloud);
            FUZZ_CHECK(cloud.label.size() == cloud.size());
            FUZZ_CHECK(cloud.size() <= n / 16 && (size - n) == 4 * (n / 16));
            break;
        }
    }
}
