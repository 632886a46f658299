// SPDX-License-Identifier: MIT
// The device checks on CUDA (label gpu; each test skips when no CUDA device is usable).
#include "tests/ml/DeviceTest.h"

namespace lidistill::ml::sparse::device {

INSTANTIATE_TEST_SUITE_P(Cuda, OnDevice, ::testing::Values(Target{"cuda", torch::kCUDA, false}),
                         targetName);

}  // namespace lidistill::ml::sparse::device
