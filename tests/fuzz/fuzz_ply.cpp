// SPDX-License-Identifier: MIT
// PLY files (ascii, binary little and big endian). Input: the file. As for PCD: our header
// check, then PCL's reader.
#include "core/io/CloudFile.h"
#include "tests/fuzz/FuzzChecks.h"

using namespace lidistill;

LIDISTILL_FUZZ_TARGET(ply) {
    const PointCloud cloud = io::readPly(fuzz::writeInput("cloud.ply", data, size));
    fuzz::checkCloud(cloud);
}
