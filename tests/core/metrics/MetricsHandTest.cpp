// SPDX-License-Identifier: MIT
// Hand-computed cases: values worked out on paper, edges of numpy's binning, error paths.

#include "core/base/Error.h"
#include "core/metrics/ChamferDistance.h"
#include "core/metrics/CompletionMetrics.h"
#include "core/metrics/NearestNeighborIndex.h"
#include "core/metrics/NumpyBins.h"

#include <cmath>
#include <gtest/gtest.h>
#include <limits>
#include <random>

using namespace lidistill;
using namespace lidistill::metrics;

namespace {

std::vector<Vec3f> randomCloud(std::size_t n, std::uint32_t seed, float extent) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-extent, extent);
    std::vector<Vec3f> pts(n);
    for (auto& p : pts) {
        p = {u(rng), u(rng), u(rng)};
    }
    return pts;
}

double bruteDistance(const Vec3f& q, const std::vector<Vec3f>& pts, std::uint32_t& best) {
    double bestD = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < pts.size(); ++i) {
        const double dx = double(q[0]) - pts[i][0];
        const double dy = double(q[1]) - pts[i][1];
        const double dz = double(q[2]) - pts[i][2];
        const double d = std::sqrt(dx * dx + dy * dy + dz * dz);
        if (d < bestD) {
            bestD = d;
            best = static_cast<std::uint32_t>(i);
        }
    }
    return bestD;
}

class CancelAfter : public ProgressSink {
public:
    void report(double, std::string_view) override { ++m_reports; }
    bool cancelled() const override { return true; }
    int m_reports = 0;
};

}  // namespace

TEST(NearestNeighborIndex, MatchesBruteForce) {
    const auto pts = randomCloud(3000, 1, 20.f);
    const auto queries = randomCloud(700, 2, 25.f);
    const NearestNeighborIndex index(pts);
    EXPECT_EQ(index.size(), pts.size());
    std::vector<double> d;
    std::vector<std::uint32_t> idx;
    index.nearest(queries, d, &idx);
    ASSERT_EQ(d.size(), queries.size());
    for (std::size_t i = 0; i < queries.size(); ++i) {
        std::uint32_t best = 0;
        const double ref = bruteDistance(queries[i], pts, best);
        EXPECT_DOUBLE_EQ(d[i], ref) << i;
        EXPECT_EQ(idx[i], best) << i;
        const auto one = index.nearest(queries[i]);
        EXPECT_EQ(one.index, best);
        EXPECT_DOUBLE_EQ(one.distance, ref);
    }
    // A query equal to an indexed point is at distance 0.
    EXPECT_EQ(index.nearest(pts[123]).index, 123u);
    EXPECT_EQ(index.nearest(pts[123]).distance, 0.0);
}

TEST(NearestNeighborIndex, RejectsBadInput) {
    const std::vector<Vec3f> empty;
    const NearestNeighborIndex e(empty);
    EXPECT_THROW(e.nearest(Vec3f{0, 0, 0}), InvalidArgument);
    std::vector<double> d;
    e.nearest(empty, d);  // no queries: fine
    EXPECT_TRUE(d.empty());
    const float nan = std::numeric_limits<float>::quiet_NaN();
    EXPECT_THROW(NearestNeighborIndex(std::vector<Vec3f>{{0, 0, 0}, {nan, 0, 0}}), InvalidArgument);
    const NearestNeighborIndex ok(std::vector<Vec3f>{{0, 0, 0}});
    EXPECT_THROW(ok.nearest(Vec3f{0, nan, 0}), InvalidArgument);
    CancelAfter cancel;
    EXPECT_THROW(ok.nearest(randomCloud(10, 3, 1.f), d, nullptr, &cancel), Cancelled);
}

TEST(Chamfer, HandComputedEuclideanNotSquared) {
    const std::vector<Vec3f> pred{{0, 0, 0}, {1, 0, 0}};
    const std::vector<Vec3f> gt{{0, 0, 0}, {0, 0, 2}};
    const ChamferResult r = chamferDistance(pred, gt);
    EXPECT_DOUBLE_EQ(r.predToGt, 0.5);  // (0 + 1) / 2
    EXPECT_DOUBLE_EQ(r.gtToPred, 1.0);  // (0 + 2) / 2
    EXPECT_DOUBLE_EQ(r.chamfer, 0.75);  // squared distances would give 1.5
    EXPECT_EQ(r.predToGtDistances, (std::vector<double>{0.0, 1.0}));
    EXPECT_EQ(r.gtToPredDistances, (std::vector<double>{0.0, 2.0}));
    EXPECT_THROW(chamferDistance(std::vector<Vec3f>{}, gt), InvalidArgument);
}

TEST(NumpyBins, EdgesFollowNumpyLinspaceAndHistogramdd) {
    const NumpyBins b(-50, 50, 200);
    EXPECT_EQ(b.binOf(-50.0), 0);
    EXPECT_EQ(b.binOf(50.0), 199);  // right edge inclusive in the last bin
    EXPECT_EQ(b.binOf(49.75), 199);
    EXPECT_EQ(b.binOf(std::nextafter(49.5, 0.0)), 198);
    EXPECT_EQ(b.binOf(0.0), 100);
    EXPECT_EQ(b.binOf(-0.25), 99);
    EXPECT_EQ(b.binOf(std::nextafter(50.0, 60.0)), -1);
    EXPECT_EQ(b.binOf(std::nextafter(-50.0, -60.0)), -1);
    EXPECT_EQ(b.binOf(std::numeric_limits<double>::quiet_NaN()), -1);
    // Every edge value lands in the bin it opens, and the value just below it in the previous
    // one, for the inexact widths 0.2 and 0.1 too.
    for (const int n : {200, 500, 1000}) {
        const NumpyBins bins(-50, 50, n);
        ASSERT_EQ(bins.edges().size(), static_cast<std::size_t>(n) + 1);
        for (int k = 1; k < n; ++k) {
            const double e = bins.edges()[static_cast<std::size_t>(k)];
            ASSERT_EQ(bins.binOf(e), k) << n << " " << k;
            ASSERT_EQ(bins.binOf(std::nextafter(e, -100.0)), k - 1) << n << " " << k;
        }
    }
    // numpy.linspace(-50, 50, 501)[1] is -50 + 0.2 computed as 1 * 0.2 + -50.
    EXPECT_EQ(NumpyBins(-50, 50, 500).edges()[1], 1.0 * (100.0 / 500.0) + -50.0);
    EXPECT_EQ(binCountFor(50, 0.2), 500);
    EXPECT_EQ(binCountFor(50, 0.1), 1000);
    EXPECT_EQ(binCountFor(50, 0.3), 333);  // int() truncation
    EXPECT_THROW(binCountFor(50, 0.0), InvalidArgument);
}

TEST(Jsd, HandCases) {
    const std::vector<Vec3f> a{{1.1f, 1.1f, 0.1f}, {1.2f, 1.2f, 0.2f}};  // one cell, 2 points
    const std::vector<Vec3f> b{{1.1f, 1.1f, 0.1f}, {1.2f, 1.2f, 0.7f}};  // same column, 2 cells
    EXPECT_DOUBLE_EQ(jensenShannonDistance(a, a, true), 0.0);
    EXPECT_DOUBLE_EQ(jensenShannonDistance(a, a, false), 0.0);
    // BEV counts occupied cells per column: 1 vs 2, both normalise to the same single column.
    EXPECT_DOUBLE_EQ(jensenShannonDistance(a, b, true), 0.0);
    // 3D: p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4).
    const double js3d =
        0.5 * (std::log(4.0 / 3.0)) + 0.5 * (0.5 * std::log(2.0 / 3.0) + 0.5 * std::log(2.0));
    EXPECT_NEAR(jensenShannonDistance(b, a, false), std::sqrt(js3d), 1e-15);
    // Disjoint supports: sqrt(ln 2).
    const std::vector<Vec3f> far{{-20.f, 3.f, 1.f}};
    EXPECT_NEAR(jensenShannonDistance(far, a, true), std::sqrt(std::log(2.0)), 1e-15);
    // 50 m is inside (last cell), just above is dropped.
    const std::vector<Vec3f> edge{{50.f, 50.f, 50.f}};
    const std::vector<Vec3f> nearEdge{{49.6f, 49.9f, 49.55f}};
    EXPECT_DOUBLE_EQ(jensenShannonDistance(edge, nearEdge, false), 0.0);
    const std::vector<Vec3f> outside{{50.0001f, 0.f, 0.f}};
    EXPECT_THROW(jensenShannonDistance(outside, a, true), InvalidArgument);
}

TEST(VoxelIoU, OldAndCurrentDefinitionsDiffer) {
    // 30 m is inside the current cube but outside the old one at 0.5 m (half-width 25 m).
    const std::vector<Vec3f> far{{30.f, 0.f, 0.f}};
    VoxelConfusion c = voxelConfusion(far, far, 0.5, VoxelIoUDefinition::Current);
    EXPECT_EQ(c.tp, 1u);
    c = voxelConfusion(far, far, 0.5, VoxelIoUDefinition::Old);
    EXPECT_EQ(c.tp + c.fn + c.fp, 0u);
    EXPECT_EQ(c.iou(), 0.0);
    // Old at 0.2 m keeps |index| <= 50: 10.0 m -> 50 (right edge, kept), 10.2 m -> 51 (dropped).
    EXPECT_EQ(occupiedVoxels(std::vector<Vec3f>{{10.f, 0, 0}}, 0.2, VoxelIoUDefinition::Old).size(),
              1u);
    EXPECT_EQ(
        occupiedVoxels(std::vector<Vec3f>{{10.2f, 0, 0}}, 0.2, VoxelIoUDefinition::Old).size(), 0u);
    // Half-to-even rounding: 25.25 / 0.5 = 50.5 -> 50 (kept), -25.25 -> -50 (kept),
    // 25.75 / 0.5 = 51.5 -> 52 (dropped).
    EXPECT_EQ(occupiedVoxels(std::vector<Vec3f>{{25.25f, 0, 0}, {-25.25f, 0, 0}, {25.75f, 0, 0}},
                             0.5, VoxelIoUDefinition::Old)
                  .size(),
              2u);
    // A 0.3 m shift: same [0, 0.5) voxel for the current grid, rounded indices 0 vs 1 for old.
    const std::vector<Vec3f> gt{{0.1f, 0.1f, 0.1f}};
    const std::vector<Vec3f> pred{{0.4f, 0.1f, 0.1f}};
    c = voxelConfusion(pred, gt, 0.5, VoxelIoUDefinition::Current);
    EXPECT_EQ(c.tp, 1u);
    EXPECT_EQ(c.fn + c.fp, 0u);
    c = voxelConfusion(pred, gt, 0.5, VoxelIoUDefinition::Old);
    EXPECT_EQ(c.tp, 0u);
    EXPECT_EQ(c.fn, 1u);
    EXPECT_EQ(c.fp, 1u);
    // Metric coordinate exactly 50 m: last cell of the current grid.
    EXPECT_EQ(
        occupiedVoxels(std::vector<Vec3f>{{50.f, -50.f, 50.f}}, 0.1, VoxelIoUDefinition::Current),
        (std::vector<std::uint64_t>{(999ull * 1000 + 0) * 1000 + 999}));
}

TEST(VoxelIoU, AccumulatesCountsNotRatios) {
    VoxelIoUAccumulator acc({0.5}, VoxelIoUDefinition::Current);
    const std::vector<Vec3f> a{{0.1f, 0.1f, 0.1f}, {1.1f, 0.1f, 0.1f}};
    const std::vector<Vec3f> b{{0.1f, 0.1f, 0.1f}};
    acc.add(a, b);  // tp 1, fp 1: IoU 0.5
    const std::vector<Vec3f> c{{5.1f, 0.1f, 0.1f}, {6.1f, 0.1f, 0.1f}, {7.1f, 0.1f, 0.1f}};
    acc.add(c, c);  // tp 3: IoU 1
    EXPECT_EQ(acc.result()[0].tp, 4u);
    EXPECT_EQ(acc.result()[0].fp, 1u);
    EXPECT_DOUBLE_EQ(acc.iou()[0], 0.8);  // the mean of the ratios would be 0.75
    EXPECT_EQ(acc.scans(), 2u);
    EXPECT_THROW(acc.add(std::vector<VoxelConfusion>(2)), InvalidArgument);
    acc.reset();
    EXPECT_EQ(acc.result()[0].tp, 0u);
}

TEST(Simpson, EvenRulesOfScipy) {
    const std::vector<double> y{0, 1, 4, 9};  // x^2 at 0..3; the integral is 9
    EXPECT_NEAR(simpson(y, 1.0, SimpsonRule::Cartwright), 9.0, 1e-14);
    // SciPy 1.10 'avg': (8/3 + 6.5 + 0.5 + 26/3) / 2.
    EXPECT_NEAR(simpson(y, 1.0, SimpsonRule::Average), (8.0 / 3 + 6.5 + 0.5 + 26.0 / 3) / 2, 1e-14);
    const std::vector<double> odd{0, 1, 4, 9, 16};
    EXPECT_NEAR(simpson(odd, 0.5, SimpsonRule::Cartwright), 0.5 * 64.0 / 3, 1e-14);
    EXPECT_EQ(simpson(odd, 0.5, SimpsonRule::Cartwright), simpson(odd, 0.5, SimpsonRule::Average));
    EXPECT_NEAR(simpson(std::vector<double>{1, 3}, 2.0), 4.0, 1e-15);
    EXPECT_EQ(simpson(std::vector<double>{5}, 1.0), 0.0);
    const auto t = defaultThresholds();
    ASSERT_EQ(t.size(), 100u);
    EXPECT_EQ(t.front(), 0.05);
    EXPECT_EQ(t.back(), 0.1);
    EXPECT_EQ(t[1], 1.0 * (0.05 / 99) + 0.05);
}

TEST(PrecisionRecall, StrictThresholdsAndFscore) {
    const std::vector<double> predToGt{0.01, 0.06, 0.2};
    const std::vector<double> gtToPred{0.07, 0.075};
    const PrecisionRecallCurve c = precisionRecall(predToGt, gtToPred, {0.05, 0.075, 0.1});
    EXPECT_DOUBLE_EQ(c.precision[0], 100.0 / 3);
    EXPECT_DOUBLE_EQ(c.precision[1], 200.0 / 3);
    EXPECT_DOUBLE_EQ(c.recall[0], 0.0);
    EXPECT_DOUBLE_EQ(c.recall[1], 50.0);  // 0.075 is not < 0.075
    EXPECT_DOUBLE_EQ(c.recall[2], 100.0);
    EXPECT_EQ(c.fscore[0], 0.0);
    EXPECT_DOUBLE_EQ(c.fscore[1], 2 * (200.0 / 3) * 50 / (200.0 / 3 + 50));
    PrecisionRecallAccumulator acc({0.05, 0.075, 0.1});
    EXPECT_THROW(acc.auc(), InvalidArgument);
    acc.add(c);
    acc.add(predToGt, std::vector<double>{0.0, 0.0});
    const auto mean = acc.meanCurve();
    EXPECT_DOUBLE_EQ(mean.recall[0], 50.0);
    // Three samples: plain Simpson; normalised by the integral of ones.
    const auto auc = acc.auc();
    EXPECT_NEAR(auc.recall, (50 + 4 * 75 + 100) / 6.0, 1e-12);
    EXPECT_THROW(acc.add(precisionRecall(predToGt, gtToPred, {0.1, 0.2})), InvalidArgument);
}

TEST(Emd, HandCases) {
    const std::vector<Vec3f> a{{0.1f, 0.1f, 0.1f}};
    const std::vector<Vec3f> b{{1.1f, 0.1f, 0.1f}};
    // One voxel each: the whole mass moves between centres 1 m apart.
    EXPECT_NEAR(sinkhornEmd(a, b).value(), 1.0, 1e-12);
    EXPECT_EQ(sinkhornEmd(a, a).value(), 0.0);
    EmdOptions tight;
    tight.maxVoxels = 1;
    EXPECT_FALSE(sinkhornEmd(a, b, tight).has_value());
    EXPECT_THROW(sinkhornEmd(std::vector<Vec3f>{}, b), InvalidArgument);
    EmdOptions wide;
    wide.epsilon = 1.0;  // the neighbour reach would be ~60 m
    EXPECT_THROW(sinkhornEmd(a, b, wide), InvalidArgument);
    // A reach of more voxels than an int holds must be refused before it is converted.
    for (double eps : {1e300, HUGE_VAL}) {
        wide.epsilon = eps;
        EXPECT_THROW(sinkhornEmd(a, b, wide), InvalidArgument) << eps;
    }
    EmdOptions fine;
    fine.voxelSize = 1e-13;  // 0.06 m reach / 1e-13 m voxels
    EXPECT_THROW(sinkhornEmd(a, b, fine), InvalidArgument);
    EmdOptions noFloor;
    noFloor.kernelFloor = HUGE_VAL;  // -log(inf): a reach of -inf voxels
    EXPECT_THROW(sinkhornEmd(a, b, noFloor), InvalidArgument);
}

TEST(EvaluateScan, FillsEveryFieldAndHonoursOptions) {
    const auto gt = randomCloud(4000, 11, 20.f);
    auto pred = gt;
    for (auto& p : pred) {
        p[2] += 0.06f;
    }
    EvaluationOptions opt;
    opt.keepPerPointDistances = true;
    const ScanMetrics m = evaluateScan(pred, gt, opt);
    EXPECT_EQ(m.predPoints, 4000u);
    EXPECT_NEAR(m.predToGt, 0.06, 0.002);  // sparse cloud: the shifted twin is the NN
    EXPECT_EQ(m.predToGtDistances.size(), 4000u);
    EXPECT_EQ(m.voxelCurrent.size(), 3u);
    EXPECT_EQ(m.voxelOld.size(), 3u);
    EXPECT_FALSE(m.emd.has_value());
    EXPECT_FALSE(m.emdSkipped);
    // Distances ~0.06: below thresholds > 0.06, above those < 0.06.
    EXPECT_LT(m.precisionRecall.precision.front(), 5.0);
    EXPECT_GT(m.precisionRecall.precision.back(), 95.0);
    EXPECT_GT(m.jsd3d, 0.0);

    SequenceAccumulator acc(opt);
    acc.add(m);
    acc.add(evaluateScan(gt, gt, opt));
    const SequenceMetrics s = acc.result();
    EXPECT_DOUBLE_EQ(s.cdMean, m.chamfer / 2);
    EXPECT_DOUBLE_EQ(s.cdStd, m.chamfer / 2);  // population std of {cd, 0}
    EXPECT_NE(s.toText().find("IoU 0.10 m"), std::string::npos);

    EvaluationOptions other;
    other.voxelSizes = {0.5};
    SequenceAccumulator wrong(other);
    EXPECT_THROW(wrong.add(m), InvalidArgument);
    EXPECT_THROW(wrong.result(), InvalidArgument);

    CancelAfter cancel;
    EXPECT_THROW(evaluateScan(pred, gt, opt, &cancel), Cancelled);
    EXPECT_THROW(evaluateScan(std::vector<Vec3f>{}, gt), InvalidArgument);
}
