// SPDX-License-Identifier: MIT
#include "core/map/GroundTruth.h"

#include "core/base/Error.h"

#include <Eigen/LU>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

namespace lidistill::map {

void GroundTruthOptions::validate() const {
    if (!(radius > 0.0) || !std::isfinite(radius)) {
        throw InvalidArgument("ground-truth radius must be positive, got " +
                              std::to_string(radius));
    }
    if (!(zMin < zMax)) {
        throw InvalidArgument("ground-truth z bounds are empty: " + std::to_string(zMin) +
                              " < z < " + std::to_string(zMax));
    }
    if (useViewpointMask && (!(viewpointVoxel > 0.0) || !std::isfinite(viewpointVoxel))) {
        throw InvalidArgument("viewpoint voxel must be positive, got " +
                              std::to_string(viewpointVoxel));
    }
}

ViewpointMask::ViewpointMask(const std::vector<Vec3f>& points, double voxel) : m_voxel(voxel) {
    if (!(voxel > 0.0) || !std::isfinite(voxel)) {
        throw InvalidArgument("viewpoint voxel must be positive, got " + std::to_string(voxel));
    }
    if (points.empty()) {
        return;
    }
    Eigen::Vector3d lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::infinity());
    for (const Vec3f& p : points) {
        lo = lo.cwiseMin(Eigen::Vector3d(p[0], p[1], p[2]));
    }
    if (!lo.allFinite()) {
        throw InvalidArgument("viewpoint points must be finite");
    }
    m_origin = lo - Eigen::Vector3d::Constant(voxel * 0.5);
    std::vector<CellKey> keys(points.size());
    std::int64_t hi[3] = {0, 0, 0};  // the lowest cell is 0 on every axis by construction
    for (std::size_t i = 0; i < points.size(); ++i) {
        const Vec3f& p = points[i];
        const Eigen::Vector3d r = (Eigen::Vector3d(p[0], p[1], p[2]) - m_origin) / voxel;
        keys[i] = cellOf(r.x(), r.y(), r.z(), 1.0);
        hi[0] = std::max<std::int64_t>(hi[0], keys[i].x);
        hi[1] = std::max<std::int64_t>(hi[1], keys[i].y);
        hi[2] = std::max<std::int64_t>(hi[2], keys[i].z);
    }
    constexpr double kMaxDense = 1 << 22;
    if (double(hi[0] + 1) * double(hi[1] + 1) * double(hi[2] + 1) <= kMaxDense) {
        for (int a = 0; a < 3; ++a) {
            m_extent[a] = hi[a] + 1;
        }
        m_dense.assign(static_cast<std::size_t>(m_extent[0] * m_extent[1] * m_extent[2]), 0);
        for (const CellKey& c : keys) {
            auto& cell =
                m_dense[static_cast<std::size_t>((c.z * m_extent[1] + c.y) * m_extent[0] + c.x)];
            m_occupied += cell == 0;
            cell = 1;
        }
    } else {
        for (const CellKey& c : keys) {
            m_cells.insert(c);
        }
        m_occupied = m_cells.size();
    }
}

bool ViewpointMask::contains(const Eigen::Vector3d& q) const {
    if (m_occupied == 0 || !q.allFinite()) {
        return false;
    }
    const Eigen::Vector3d r = (q - m_origin) / m_voxel;
    if (!m_dense.empty()) {
        const double x = std::floor(r.x()), y = std::floor(r.y()), z = std::floor(r.z());
        if (x < 0 || y < 0 || z < 0 || x >= double(m_extent[0]) || y >= double(m_extent[1]) ||
            z >= double(m_extent[2])) {
            return false;
        }
        const auto ix = static_cast<std::int64_t>(x), iy = static_cast<std::int64_t>(y),
                   iz = static_cast<std::int64_t>(z);
        return m_dense[static_cast<std::size_t>((iz * m_extent[1] + iy) * m_extent[0] + ix)] != 0;
    }
    constexpr double kMax = 2147483647.0;
    if ((r.array().abs() >= kMax).any()) {
        return false;  // far outside any occupied cell
    }
    return m_cells.contains(cellOf(r.x(), r.y(), r.z(), 1.0));
}

std::vector<Vec3f> viewpointPoints(const PointCloud& scan, double maxRange) {
    std::vector<Vec3f> out;
    out.reserve(scan.size());
    const double r2 = maxRange * maxRange;
    for (const Vec3f& p : scan.xyz) {
        const double d2 = double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2];
        if (d2 < r2) {
            out.push_back(p);
        }
    }
    return out;
}

PointCloud groundTruthFromCrop(const PointCloud& mapCrop, const Eigen::Matrix4d& lidarPose,
                               const std::vector<Vec3f>& viewpoint,
                               const GroundTruthOptions& options) {
    options.validate();
    mapCrop.validate();
    if (!lidarPose.allFinite()) {
        throw InvalidArgument("ground truth: the LiDAR pose is not finite");
    }
    const Eigen::Vector3d centre = lidarPose.block<3, 1>(0, 3);
    const Eigen::Matrix4d inv = lidarPose.inverse();
    const Eigen::Matrix3d rot = inv.block<3, 3>(0, 0);
    const Eigen::Vector3d shift = inv.block<3, 1>(0, 3);
    const double r2 = options.radius * options.radius;

    std::optional<ViewpointMask> mask;
    if (options.useViewpointMask) {
        mask.emplace(viewpoint, options.viewpointVoxel);
    }
    const bool labelled = mapCrop.hasLabels();
    PointCloud gt;
    gt.xyz.reserve(mapCrop.size());
    if (labelled) {
        gt.label.reserve(mapCrop.size());
    }
    for (std::size_t i = 0; i < mapCrop.size(); ++i) {
        const Eigen::Vector3d p(mapCrop.xyz[i][0], mapCrop.xyz[i][1], mapCrop.xyz[i][2]);
        if (!((p - centre).squaredNorm() < r2)) {
            continue;
        }
        const Eigen::Vector3d q = rot * p + shift;
        if (!(q.z() > options.zMin && q.z() < options.zMax)) {
            continue;
        }
        if (mask && !mask->contains(q)) {
            continue;
        }
        gt.xyz.push_back(
            {static_cast<float>(q.x()), static_cast<float>(q.y()), static_cast<float>(q.z())});
        if (labelled) {
            gt.label.push_back(mapCrop.label[i]);
        }
    }
    return gt;
}

PointCloud groundTruthFromMap(const StaticMap& map, const Eigen::Matrix4d& lidarPose,
                              const std::vector<Vec3f>& viewpoint,
                              const GroundTruthOptions& options) {
    options.validate();
    if (!lidarPose.allFinite()) {
        throw InvalidArgument("ground truth: the LiDAR pose is not finite");
    }
    const Eigen::Vector3d centre = lidarPose.block<3, 1>(0, 3);
    return groundTruthFromCrop(map.select(map.indicesWithin(centre, options.radius)), lidarPose,
                               viewpoint, options);
}

PointCloud groundTruthForScan(const StaticMap& map, const Eigen::Matrix4d& lidarPose,
                              const PointCloud& scan, const GroundTruthOptions& options) {
    return groundTruthFromMap(map, lidarPose, viewpointPoints(scan, options.viewpointMaxRange),
                              options);
}

}  // namespace lidistill::map
