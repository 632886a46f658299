// SPDX-License-Identifier: MIT
// PCD files (ascii, binary, binary_compressed). Input: the file. The header check is ours;
// the data is then read by PCL, which trusts the header, so anything the check lets through
// that makes PCL misbehave is a bug of the check.
#include "core/io/CloudFile.h"
#include "tests/fuzz/FuzzChecks.h"

using namespace lidistill;

LIDISTILL_FUZZ_TARGET(pcd) {
    const PointCloud cloud = io::readPcd(fuzz::writeInput("cloud.pcd", data, size));
    fuzz::checkCloud(cloud);
}
