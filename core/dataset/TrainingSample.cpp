// SPDX-License-Identifier: MIT
#include "core/dataset/TrainingSample.h"

#include "core/base/Error.h"
#include "core/geometry/FarthestPointSampling.h"
#include "core/map/GroundTruth.h"

#include <Eigen/Geometry>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <string>

namespace lidistill::dataset {
namespace {

// numpy's ndarray.repeat(k, axis=0): p0 x k, p1 x k, ... (element-wise, not a tile).
std::vector<Vec3f> repeatEach(const std::vector<Vec3f>& pts, std::size_t k) {
    std::vector<Vec3f> out;
    out.reserve(pts.size() * k);
    for (const auto& p : pts) out.insert(out.end(), k, p);
    return out;
}

std::size_t ceilDiv(std::size_t a, std::size_t b) {
    return (a + b - 1) / b;
}

// pcd_transforms.py: rotation about z, a small rotation perturbation (Rz Ry Rx), a uniform
// scale and a y flip, applied to row vectors (p' = p R), i.e. p' = R^T p for column vectors.
Eigen::Matrix3d augmentation(std::mt19937_64& rng) {
    std::uniform_real_distribution<double> angle(0.0, 2.0 * M_PI), scale(0.95, 1.05), coin(0, 1);
    std::normal_distribution<double> normal(0.0, 1.0);
    auto perturb = [&] { return std::clamp(0.06 * normal(rng), -0.18, 0.18); };
    const double yaw = angle(rng);
    Eigen::Matrix3d r = Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitZ()).toRotationMatrix();
    const double ax = perturb(), ay = perturb(), az = perturb();
    const Eigen::Matrix3d small = (Eigen::AngleAxisd(az, Eigen::Vector3d::UnitZ()) *
                                   Eigen::AngleAxisd(ay, Eigen::Vector3d::UnitY()) *
                                   Eigen::AngleAxisd(ax, Eigen::Vector3d::UnitX()))
                                      .toRotationMatrix();
    Eigen::Matrix3d m = r * small * scale(rng);
    if (coin(rng) < 0.5) m = Eigen::Vector3d(1, -1, 1).asDiagonal() * m;
    return m;
}

void transform(std::vector<Vec3f>& pts, const Eigen::Matrix3d& m) {
    for (auto& p : pts) {
        const Eigen::Vector3d q = m * Eigen::Vector3d(p[0], p[1], p[2]);
        p = {static_cast<float>(q.x()), static_cast<float>(q.y()), static_cast<float>(q.z())};
    }
}

}  // namespace

TrainingSample makeTrainingSample(const Sequence& seq, const map::StaticMap& map, std::size_t i,
                                  std::uint64_t seed, const TrainingSampleOptions& o) {
    if (!seq.hasPoses()) {
        throw InvalidArgument("training samples need poses (poses.txt) in " + seq.dir().string());
    }
    if (i >= seq.size()) throw InvalidArgument("frame " + std::to_string(i) + " out of range");
    if (o.partialPoints == 0 || o.fullPoints == 0) {
        throw InvalidArgument("training sample sizes must be positive");
    }
    const PointCloud scan = seq.loadScan(i);
    const std::string where = seq.dir().string() + " frame " + seq.frameName(i);

    std::vector<Vec3f> kept;
    for (std::size_t j = 0; j < scan.size(); ++j) {
        const auto& p = scan.xyz[j];
        if (scan.hasLabels()) {
            const auto cls = semanticClass(scan.label[j]);
            if (cls <= 1 || cls >= 252) continue;
        }
        const double r = std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2]);
        if (r > o.minRange && r < o.maxRange && p[2] > o.minZ) kept.push_back(p);
    }
    if (kept.empty()) throw InvalidArgument(where + ": no scan point survives the filters");
    const auto tiledP = repeatEach(kept, ceilDiv(o.partialPoints, kept.size()));

    map::GroundTruthOptions gt;
    gt.radius = o.maxRange;
    gt.zMin = o.minZ;
    gt.zMax = std::numeric_limits<double>::infinity();
    PointCloud g = map::groundTruthFromMap(map, seq.pose(i), tiledP, gt);
    if (g.empty()) throw InvalidArgument(where + ": no map point around the sensor");

    TrainingSample s;
    PointCloud pCloud;
    pCloud.xyz = tiledP;
    s.partial.xyz = geometry::farthestPointSample(pCloud, o.partialPoints).xyz;

    std::mt19937_64 rng(seed);
    std::vector<std::size_t> order(g.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::shuffle(order.begin(), order.end(), rng);
    const std::size_t k = ceilDiv(o.fullPoints, g.size());
    s.full.xyz.reserve(o.fullPoints);
    for (std::size_t j = 0; s.full.xyz.size() < o.fullPoints; ++j) {
        for (std::size_t r = 0; r < k && s.full.xyz.size() < o.fullPoints; ++r) {
            s.full.xyz.push_back(g.xyz[order[j]]);
        }
    }

    if (o.augment) {
        const Eigen::Matrix3d m = augmentation(rng);
        transform(s.partial.xyz, m);
        transform(s.full.xyz, m);
    }
    return s;
}

}  // namespace lidistill::dataset
