// SPDX-License-Identifier: MIT
// LiDiff's training sample (reference 1.3) on the real SemanticKITTI sequence.
#include "core/base/Error.h"
#include "core/dataset/TrainingSample.h"
#include "core/map/SequenceMap.h"
#include "tests/support/TestData.h"

#include <Eigen/Dense>

#include <cmath>
#include <gtest/gtest.h>
#include <map>
#include <set>

namespace lidistill::dataset {
namespace {

const map::StaticMap& sharedMap(const Sequence& seq) {
    static const map::StaticMap m = map::buildStaticMap(seq);
    return m;
}

TEST(TrainingSample, SizesFiltersAndRepetitionFollowLiDiff) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const Sequence seq = Sequence::open(test::semanticKittiSeq00());
    const auto& m = sharedMap(seq);
    TrainingSampleOptions o;
    o.partialPoints = 3000;
    o.fullPoints = 400000;  // more than the crop holds: every kept point repeated k times
    const TrainingSample s = makeTrainingSample(seq, m, 4, 7, o);
    EXPECT_EQ(s.partial.size(), 3000u);
    ASSERT_EQ(s.full.size(), 400000u);

    // P: label-filtered (1 < class < 252), 3.5 < |p| < 50, z > -4, and drawn from the scan.
    const PointCloud scan = seq.loadScan(4);
    std::set<std::array<float, 3>> allowed;
    for (std::size_t j = 0; j < scan.size(); ++j) {
        const auto c = semanticClass(scan.label[j]);
        if (c > 1 && c < 252) allowed.insert(scan.xyz[j]);
    }
    for (const auto& p : s.partial.xyz) {
        ASSERT_TRUE(allowed.count(p)) << "P point not from a kept scan point";
        const double r = std::hypot(p[0], p[1], p[2]);
        EXPECT_TRUE(r > 3.5 && r < 50 && p[2] > -4) << r << " " << p[2];
    }
    // G: within 50 m of the sensor, above -4 m, and numpy-repeated: runs of k equal points.
    for (const auto& p : s.full.xyz) {
        ASSERT_LT(std::hypot(p[0], p[1], p[2]), 50.0f);
        ASSERT_GT(p[2], -4.0f);
    }
    std::size_t run = 1;
    while (run < s.full.size() && s.full.xyz[run] == s.full.xyz[0]) ++run;
    ASSERT_GE(run, 2u) << "with |G| < fullPoints each point repeats";
    for (std::size_t j = 0; j + run <= s.full.size(); j += run) {
        for (std::size_t r = 1; r < run; ++r) ASSERT_EQ(s.full.xyz[j + r], s.full.xyz[j]) << j;
    }

    // The seed decides the permutation; the same seed, the same sample.
    EXPECT_EQ(makeTrainingSample(seq, m, 4, 7, o).full.xyz, s.full.xyz);
    EXPECT_NE(makeTrainingSample(seq, m, 4, 8, o).full.xyz, s.full.xyz);
    EXPECT_EQ(makeTrainingSample(seq, m, 4, 8, o).partial.xyz, s.partial.xyz);
}

TEST(TrainingSample, AugmentationIsOneSimilarityForBothClouds) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const Sequence seq = Sequence::open(test::semanticKittiSeq00());
    const auto& m = sharedMap(seq);
    TrainingSampleOptions o;
    o.partialPoints = 2000;
    o.fullPoints = 20000;
    const TrainingSample plain = makeTrainingSample(seq, m, 2, 11, o);
    o.augment = true;
    const TrainingSample aug = makeTrainingSample(seq, m, 2, 11, o);
    ASSERT_EQ(aug.full.size(), plain.full.size());

    // Fit the linear map on G by least squares, then check it on every point of G and P.
    Eigen::MatrixXd a(plain.full.size(), 3), b(plain.full.size(), 3);
    for (std::size_t j = 0; j < plain.full.size(); ++j) {
        for (int k = 0; k < 3; ++k) {
            a(j, k) = plain.full.xyz[j][k];
            b(j, k) = aug.full.xyz[j][k];
        }
    }
    const Eigen::Matrix3d mt = a.colPivHouseholderQr().solve(b);  // b = a * M^T
    const Eigen::Matrix3d mm = mt.transpose();
    const double scale = std::cbrt(std::abs(mm.determinant()));
    EXPECT_GT(scale, 0.95 - 1e-4);
    EXPECT_LT(scale, 1.05 + 1e-4);
    EXPECT_TRUE((mm.transpose() * mm / (scale * scale)).isIdentity(1e-4)) << mm;
    // The z axis stays nearly vertical: yaw is free, tilt at most 0.18 rad a axis.
    EXPECT_GT(std::abs(mm(2, 2)) / scale, std::cos(0.26));
    for (std::size_t j = 0; j < plain.partial.size(); ++j) {
        const Eigen::Vector3d p(plain.partial.xyz[j][0], plain.partial.xyz[j][1],
                                plain.partial.xyz[j][2]);
        const Eigen::Vector3d q = mm * p;
        for (int k = 0; k < 3; ++k) ASSERT_NEAR(q[k], aug.partial.xyz[j][k], 1e-3) << j;
    }
}

TEST(TrainingSample, RejectsWhatCannotMakeASample) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const Sequence seq = Sequence::open(test::semanticKittiSeq00());
    const auto& m = sharedMap(seq);
    EXPECT_THROW(makeTrainingSample(seq, m, seq.size(), 0), InvalidArgument);
    TrainingSampleOptions o;
    o.minRange = 60;
    o.maxRange = 70;
    EXPECT_THROW(makeTrainingSample(seq, m, 0, 0, o), InvalidArgument);
}

}  // namespace
}  // namespace lidistill::dataset
