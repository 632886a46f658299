// SPDX-License-Identifier: MIT
// The metrics on real SemanticKITTI scans against the Python libraries LiDiff's evaluation
// uses (Open3D, numpy histogramdd, scipy jensenshannon / simpson), run on the same files.

#include "core/metrics/ChamferDistance.h"
#include "core/metrics/CompletionMetrics.h"
#include "tests/core/metrics/MetricsTestUtil.h"

#include <fstream>
#include <gtest/gtest.h>
#include <random>

using namespace lidistill;
using namespace lidistill::metrics;
namespace fs = std::filesystem;

namespace {

constexpr double kRel = 1e-5;

// Points exactly on and next to the histogram edges, in float32-exact values, so that the
// numpy edge rules (right edge inclusive, half-to-even rounding of the old IoU) are exercised.
std::vector<Vec3f> edgePoints() {
    return {
        {50.f, 0.f, 0.f},     {-50.f, 10.f, 1.f},  {50.f, 50.f, 50.f},    {-50.f, -50.f, -50.f},
        {50.0001f, 0.f, 0.f}, {49.75f, 1.f, 1.f},  {25.f, 0.f, 0.f},      {25.25f, 3.f, 0.f},
        {-25.25f, 3.f, 0.f},  {25.75f, 3.f, 0.f},  {10.f, 10.05f, 0.f},   {-10.1f, 5.f, 0.3f},
        {5.05f, -5.f, 0.15f}, {-5.05f, 2.f, 0.5f}, {0.25f, 0.75f, 1.25f}, {-0.35f, 0.45f, 0.05f}};
}

struct Pair {
    std::vector<Vec3f> pred;
    std::vector<Vec3f> gt;
};

class MetricsReference : public ::testing::Test {
protected:
    // Runs once, from the first test's SetUp rather than SetUpTestSuite: a failure there
    // would only mark the tests skipped, and a missing Python must fail them.
    static void prepare() {
        if (s_prepared) {
            return;
        }
        s_prepared = true;
        const auto velo = test::semanticKittiSeq00() / "velodyne";
        const auto scan0 = test::readBinXyz(velo / "000000.bin");
        const auto scan3 = test::readBinXyz(velo / "000003.bin");
        // Pair 0: another frame as "prediction" (unregistered: ~2 m of ego motion).
        s_pairs.push_back({scan3, scan0});
        // Pair 1: the GT jittered by 4 cm, so precision/recall vary across the thresholds.
        Pair p1{scan0, scan0};
        std::mt19937 rng(7);
        std::normal_distribution<float> noise(0.f, 0.04f);
        for (auto& p : p1.pred) {
            p = {p[0] + noise(rng), p[1] + noise(rng), p[2] + noise(rng)};
        }
        const auto edges = edgePoints();
        p1.pred.insert(p1.pred.end(), edges.begin(), edges.end());
        p1.gt.insert(p1.gt.end(), edges.begin(), edges.begin() + 8);
        s_pairs.push_back(std::move(p1));

        // Each ctest entry is its own process; the reference output is cached under a key
        // of the inputs and the script, so Python runs once per change, not once per test.
        std::uint64_t h = test::fnv1a(test::readText(test::referenceScript()));
        for (const auto& p : s_pairs) {
            h = test::fnv1a(p.pred, h);
            h = test::fnv1a(p.gt, h);
        }
        const fs::path base = fs::temp_directory_path() / "lidistill_tests";
        s_dir = base / ("MetricsReference-" + std::to_string(h));
        if (fs::exists(s_dir / "reference.txt")) {
            s_ref = test::parseReference(test::readText(s_dir / "reference.txt"));
            return;
        }
        const fs::path work = base / ("MetricsReference-tmp-" + std::to_string(::getpid()));
        fs::remove_all(work);
        fs::create_directories(work);
        std::string args = "metrics '" + work.string() + "'";
        for (std::size_t i = 0; i < s_pairs.size(); ++i) {
            const auto pred = work / ("pred" + std::to_string(i) + ".bin");
            const auto gt = work / ("gt" + std::to_string(i) + ".bin");
            test::writeBinXyz(pred, s_pairs[i].pred);
            test::writeBinXyz(gt, s_pairs[i].gt);
            args += " '" + pred.string() + "' '" + gt.string() + "'";
        }
        std::string raw;
        s_ref = test::runReference(args, s_error, &raw);
        if (!s_error.empty()) {
            return;
        }
        std::ofstream(work / "reference.txt") << raw;
        // Publish the finished folder in one rename; a concurrent test process may win.
        std::error_code ec;
        fs::rename(work, s_dir, ec);
        if (ec) {
            s_dir = work;
        }
    }

    void SetUp() override {
        LIDISTILL_REQUIRE_SHARED_DATA();
        prepare();
        ASSERT_TRUE(s_error.empty()) << s_error;
        ASSERT_FALSE(s_ref.empty()) << "the Python reference produced no output";
    }

    static std::string key(std::size_t pair, const std::string& name) {
        return "pair" + std::to_string(pair) + "_" + name;
    }

    static inline bool s_prepared = false;
    static inline std::string s_error;
    static inline fs::path s_dir;
    static inline std::vector<Pair> s_pairs;
    static inline test::ReferenceValues s_ref;
};

TEST_F(MetricsReference, ChamferMatchesOpen3d) {
    for (std::size_t i = 0; i < s_pairs.size(); ++i) {
        const ChamferResult cd = chamferDistance(s_pairs[i].pred, s_pairs[i].gt);
        EXPECT_REL_NEAR(cd.chamfer, test::refValue(s_ref, key(i, "cd")), kRel);
        EXPECT_REL_NEAR(cd.gtToPred, test::refValue(s_ref, key(i, "gt2pred")), kRel);
        EXPECT_REL_NEAR(cd.predToGt, test::refValue(s_ref, key(i, "pred2gt")), kRel);
        // Every per-point distance, not only the means (the heatmaps use them).
        const auto refP = test::readF64(s_dir / ("pair" + std::to_string(i) + "_pred2gt.f64"));
        const auto refG = test::readF64(s_dir / ("pair" + std::to_string(i) + "_gt2pred.f64"));
        ASSERT_EQ(refP.size(), cd.predToGtDistances.size());
        ASSERT_EQ(refG.size(), cd.gtToPredDistances.size());
        double worst = 0.0;
        for (std::size_t k = 0; k < refP.size(); ++k) {
            worst = std::max(worst, std::abs(refP[k] - cd.predToGtDistances[k]));
        }
        for (std::size_t k = 0; k < refG.size(); ++k) {
            worst = std::max(worst, std::abs(refG[k] - cd.gtToPredDistances[k]));
        }
        EXPECT_LT(worst, 1e-9) << "largest per-point difference to Open3D, pair " << i;
    }
}

TEST_F(MetricsReference, JsdMatchesScipy) {
    for (std::size_t i = 0; i < s_pairs.size(); ++i) {
        const auto [bev, d3] = jensenShannonBevAnd3d(s_pairs[i].pred, s_pairs[i].gt);
        EXPECT_REL_NEAR(bev, test::refValue(s_ref, key(i, "jsd_bev")), kRel);
        EXPECT_REL_NEAR(d3, test::refValue(s_ref, key(i, "jsd_3d")), kRel);
        EXPECT_DOUBLE_EQ(bev, jensenShannonDistance(s_pairs[i].pred, s_pairs[i].gt, true));
        EXPECT_DOUBLE_EQ(d3, jensenShannonDistance(s_pairs[i].pred, s_pairs[i].gt, false));
    }
}

TEST_F(MetricsReference, VoxelConfusionMatchesNumpyHistogramdd) {
    for (std::size_t i = 0; i < s_pairs.size(); ++i) {
        for (const auto def : {VoxelIoUDefinition::Current, VoxelIoUDefinition::Old}) {
            for (const char* v : {"0.5", "0.2", "0.1"}) {
                const std::string name =
                    std::string(def == VoxelIoUDefinition::Old ? "old_" : "current_") + v;
                const VoxelConfusion c =
                    voxelConfusion(s_pairs[i].pred, s_pairs[i].gt, std::stod(v), def);
                SCOPED_TRACE(key(i, name));
                EXPECT_EQ(static_cast<double>(c.tp), test::refValue(s_ref, key(i, name), 0));
                EXPECT_EQ(static_cast<double>(c.fn), test::refValue(s_ref, key(i, name), 1));
                EXPECT_EQ(static_cast<double>(c.fp), test::refValue(s_ref, key(i, name), 2));
            }
        }
    }
}

TEST_F(MetricsReference, SequenceTableMatchesLidiffScripts) {
    for (const auto rule : {SimpsonRule::Cartwright, SimpsonRule::Average}) {
        EvaluationOptions opt;
        opt.simpsonRule = rule;
        SequenceAccumulator acc(opt);
        for (const auto& p : s_pairs) {
            acc.add(evaluateScan(p.pred, p.gt, opt));
        }
        const SequenceMetrics m = acc.result();
        EXPECT_EQ(m.scans, s_pairs.size());
        EXPECT_REL_NEAR(m.cdMean, test::refValue(s_ref, "seq_cd_mean"), kRel);
        EXPECT_REL_NEAR(m.cdStd, test::refValue(s_ref, "seq_cd_std"), kRel);
        EXPECT_REL_NEAR(m.rmseMean, test::refValue(s_ref, "seq_rmse_mean"), kRel);
        EXPECT_REL_NEAR(m.rmseStd, test::refValue(s_ref, "seq_rmse_std"), kRel);
        const char* sizes[] = {"0.5", "0.2", "0.1"};
        for (std::size_t k = 0; k < 3; ++k) {
            EXPECT_REL_NEAR(m.iouCurrent[k],
                            test::refValue(s_ref, std::string("seq_iou_current_") + sizes[k]),
                            kRel);
            EXPECT_REL_NEAR(m.iouOld[k],
                            test::refValue(s_ref, std::string("seq_iou_old_") + sizes[k]), kRel);
        }
        // Mean curve at a few thresholds (percent).
        for (const int t : {0, 37, 99}) {
            const std::string k = "curve_t" + std::to_string(t);
            const auto ti = static_cast<std::size_t>(t);
            EXPECT_REL_NEAR(m.meanCurve.precision[ti], test::refValue(s_ref, k, 0), kRel);
            EXPECT_REL_NEAR(m.meanCurve.recall[ti], test::refValue(s_ref, k, 1), kRel);
            EXPECT_REL_NEAR(m.meanCurve.fscore[ti], test::refValue(s_ref, k, 2), kRel);
        }
        // SciPy < 1.11 (Debian 12: 1.10.1) defaults to even='avg'; newer ones to Cartwright.
        const bool scipyIsOld = test::refValue(s_ref, "scipy_version") < 1.105;
        const bool compareScipy = (rule == SimpsonRule::Average) == scipyIsOld;
        const std::string prefix = rule == SimpsonRule::Cartwright ? "auc_cartwright_" : "";
        for (const auto& [name, value] :
             {std::pair{"precision", m.auc.precision}, std::pair{"recall", m.auc.recall},
              std::pair{"fscore", m.auc.fscore}}) {
            if (!prefix.empty()) {
                EXPECT_REL_NEAR(value, test::refValue(s_ref, prefix + name), kRel);
            }
            if (compareScipy) {
                EXPECT_REL_NEAR(value, test::refValue(s_ref, std::string("auc_scipy_") + name),
                                kRel);
            }
        }
        // The two rules must differ here (the curve is not a quadratic), or the test could
        // not tell them apart.
        if (rule == SimpsonRule::Average && scipyIsOld) {
            EXPECT_NE(test::refValue(s_ref, "auc_cartwright_precision"),
                      test::refValue(s_ref, "auc_scipy_precision"));
        }
        EXPECT_GT(m.auc.fscore, 1.0);  // non-trivial curve
        EXPECT_LT(m.auc.fscore, 99.0);
    }
}

}  // namespace
