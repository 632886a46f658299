// SPDX-License-Identifier: MIT
// KITTI text files. Input: one mode byte (0: calib.txt, 1: poses.txt, 2: times.txt, modulo 3),
// then the file.
#include "core/io/PoseIo.h"
#include "tests/fuzz/FuzzTarget.h"

#include <cmath>

using namespace lidistill;

LIDISTILL_FUZZ_TARGET(kitti_text) {
    if (size < 1) return;
    const int mode = data[0] % 3;
    ++data, --size;
    if (mode == 0) {
        const auto calib = io::readCalib(fuzz::writeInput("calib.txt", data, size));
        if (const auto tr = calib.tr()) {
            FUZZ_CHECK((tr->row(3) - Eigen::RowVector4d(0, 0, 0, 1)).isZero(0.0));
        }
    } else if (mode == 1) {
        const auto poses = io::readPoses(fuzz::writeInput("poses.txt", data, size));
        FUZZ_CHECK(!poses.empty());
        for (const auto& p : poses) {
            FUZZ_CHECK(p.allFinite());
            FUZZ_CHECK((p.row(3) - Eigen::RowVector4d(0, 0, 0, 1)).isZero(0.0));
        }
    } else {
        const auto times = io::readTimes(fuzz::writeInput("times.txt", data, size));
        FUZZ_CHECK(!times.empty());
        for (const double t : times) FUZZ_CHECK(std::isfinite(t));
    }
}
