// SPDX-License-Identifier: MIT
// The device checks on the CPU through the CUDA code path (setPortablePath), run by CI.
#include "tests/ml/DeviceTest.h"

namespace lidistill::ml::sparse::device {

INSTANTIATE_TEST_SUITE_P(Portable, OnDevice,
                         ::testing::Values(Target{"cpu_portable", torch::kCPU, true}), targetName);

}  // namespace lidistill::ml::sparse::device
