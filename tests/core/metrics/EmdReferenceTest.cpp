// SPDX-License-Identifier: MIT
// Sinkhorn EMD on small crops of real scans against a dense numpy transcription of
// Distillation-DPO's utils/EMD.py (run by metrics_reference.py in the same test).

#include "core/metrics/Emd.h"
#include "tests/core/metrics/MetricsTestUtil.h"

#include <gtest/gtest.h>

using namespace lidistill;
using namespace lidistill::metrics;
namespace fs = std::filesystem;

namespace {

// A box in front of the car: a few hundred 0.5 m voxels, small enough for the dense
// reference (n1 x n2 matrices, 3000 iterations) to take well under a second.
std::vector<Vec3f> crop(const std::vector<Vec3f>& pts) {
    std::vector<Vec3f> out;
    for (const auto& p : pts) {
        if (p[0] > 5.f && p[0] < 11.f && p[1] > -4.f && p[1] < 4.f) {
            out.push_back(p);
        }
    }
    return out;
}

void compareWithReference(double epsilon, int maxIterations) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto velo = test::semanticKittiSeq00() / "velodyne";
    const auto pred = crop(test::readBinXyz(velo / "000003.bin"));
    const auto gt = crop(test::readBinXyz(velo / "000000.bin"));
    ASSERT_GT(pred.size(), 500u);
    ASSERT_GT(gt.size(), 500u);
    const fs::path dir = test::scratchDir();
    test::writeBinXyz(dir / "pred.bin", pred);
    test::writeBinXyz(dir / "gt.bin", gt);
    std::string error;
    const auto ref = test::runReference(
        "emd " + std::to_string(epsilon) + " " + std::to_string(maxIterations) + " '" +
            (dir / "pred.bin").string() + "' '" + (dir / "gt.bin").string() + "'",
        error);
    ASSERT_TRUE(error.empty()) << error;
    EmdOptions opt;
    opt.epsilon = epsilon;
    opt.maxIterations = maxIterations;
    const auto emd = sinkhornEmd(pred, gt, opt);
    ASSERT_TRUE(emd.has_value());
    const double expected = test::refValue(ref, "emd");
    EXPECT_REL_NEAR(*emd, expected, 1e-5);
    EXPECT_GT(test::refValue(ref, "voxels", 0), 100.0);
    // The skip rule counts voxels of both clouds.
    opt.maxVoxels = static_cast<std::size_t>(test::refValue(ref, "voxels", 0) +
                                             test::refValue(ref, "voxels", 1)) -
                    1;
    EXPECT_FALSE(sinkhornEmd(pred, gt, opt).has_value());
    opt.maxVoxels += 1;
    EXPECT_TRUE(sinkhornEmd(pred, gt, opt).has_value());
}

}  // namespace

TEST(EmdReference, DpoSettingsMatchDenseNumpy) {
    compareWithReference(0.001, 3000);
}

// A larger epsilon makes exp(-C/epsilon) matter between neighbouring voxels (0.5 m apart:
// e^-10), which exercises the sparse neighbour part of the kernel, not only the floor.
TEST(EmdReference, WiderKernelMatchesDenseNumpy) {
    compareWithReference(0.05, 400);
}
