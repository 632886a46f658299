#pragma once
// SPDX-License-Identifier: MIT
// What the student trainers' tests (Distillation-DPO, ScoreLiDAR) share: a small calibrated
// teacher on a real scan, parameter snapshots, metrics lookup, and the point-mass problem whose
// answer is known.

#include "core/geometry/FarthestPointSampling.h"
#include "core/io/ScanIo.h"
#include "core/ml/training/Trainer.h"
#include "tests/ml/ModelTestSupport.h"
#include "tests/support/TestData.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace lidistill::ml::modeltest {

/// A calibrated small teacher, a 200-point partial scan and a ground truth made of the scan's
/// own points (enough to rank candidates by Chamfer distance). Needs ../shared/data.
struct RealScene {
    LidiffModel teacher{smallConfig(false), 21};
    PointCloud partial, gt;
    RealScene() {
        const PointCloud scan =
            io::readKittiBin(lidistill::test::semanticKittiSeq00() / "velodyne" / "000000.bin");
        PointCloud near;
        for (const auto& p : scan.xyz) {
            const double r = std::hypot(p[0], p[1], p[2]);
            if (r > 3.5 && r < 30) near.xyz.push_back(p);
        }
        partial = geometry::farthestPointSample(near, 200);
        gt = geometry::farthestPointSample(near, 2000);
        CompletionOptions o;
        o.partialPoints = 200;
        o.tile = 2;
        calibrateBatchNorm(teacher, scan, o);
    }
};

/// Every parameter of a network, copied.
inline std::vector<torch::Tensor> snapshot(torch::nn::Module& m) {
    std::vector<torch::Tensor> out;
    for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
    return out;
}

/// The largest absolute change of any parameter since `before`.
inline double largestChange(torch::nn::Module& m, const std::vector<torch::Tensor>& before) {
    double worst = 0;
    const auto now = m.parameters();
    for (std::size_t i = 0; i < now.size(); ++i) {
        worst = std::max(worst, (now[i].detach() - before[i]).abs().max().item<double>());
    }
    return worst;
}

/// The value of a record's key (the metrics line a step logs); a failure if it is missing.
inline double valueOf(const MetricsRecord& r, const std::string& key) {
    for (const auto& [k, v] : r) {
        if (k == key) return v;
    }
    ADD_FAILURE() << "no " << key << " in the record";
    return 0;
}

/// A problem whose answer is known: the teacher's data is a set of points `target` (its noise
/// prediction at x_t = x0 + sigma e is the analytic (x_t - target) / sigma), the fake score has
/// learned the student's own samples (prediction (x_t - x0) / sigma = e).
struct PointMasses {
    torch::Tensor target = torch::tensor({{0.f, 0.f, 0.f}, {4.f, 1.f, -1.f}, {2.f, -3.f, 0.5f}});
    torch::Tensor start = torch::tensor({{1.f, 2.f, 0.f}, {3.f, 0.f, 1.f}, {2.f, -1.f, 2.f}});
    float sigma = 0.5f;
    torch::Tensor e = torch::tensor({{0.3f, -0.2f, 0.1f}, {-0.5f, 0.4f, 0.0f}, {0.2f, 0.2f, -0.7f}});
};

}  // namespace lidistill::ml::modeltest
