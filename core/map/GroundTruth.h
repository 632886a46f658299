#pragma once
// SPDX-License-Identifier: MIT
// Per-scan ground truth cropped from a static map (reference §1.3 and §7.1).

#include "core/base/PointCloud.h"
#include "core/map/CellSet.h"
#include "core/map/StaticMap.h"

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace lidistill::map {

/// The ground-truth crop. Defaults are the evaluation protocol of reference §7.1.
struct GroundTruthOptions {
    /// Map points kept when their 3D distance to the sensor position is < radius, metres.
    double radius = 50.0;
    /// Kept when zMin < z < zMax in the scan frame. Training (§1.3) uses zMax = +infinity.
    double zMin = -4.0;
    double zMax = 4.4;
    /// Keep only points inside the 10 m voxels occupied by the current scan.
    bool useViewpointMask = true;
    double viewpointVoxel = 10.0;
    /// The evaluation's "current scan": every point with |xyz| < this, no label filter and no
    /// minimum range.
    double viewpointMaxRange = 50.0;

    /// @throws InvalidArgument on a non-positive radius/voxel or zMin >= zMax.
    void validate() const;
};

/// Open3D `VoxelGrid::create_from_point_cloud` + `check_if_included`, as LiDiff uses it:
/// origin = (component-wise minimum of the points) - voxel/2, a point occupies
/// floor((p - origin) / voxel), and a query is included iff its cell is occupied.
/// Computed in double precision, as Open3D does. Thread-safe for concurrent contains().
class ViewpointMask {
public:
    /// An empty point set gives a mask that contains nothing.
    /// @throws InvalidArgument if voxel is not positive or a point is not finite.
    ViewpointMask(const std::vector<Vec3f>& points, double voxel);

    bool contains(const Eigen::Vector3d& q) const;
    const Eigen::Vector3d& origin() const noexcept { return m_origin; }
    std::size_t occupiedCells() const noexcept { return m_occupied; }

private:
    CellSet m_cells;
    // Occupancy as a dense grid when the cells span a small box (always so for one scan
    // within 50 m): a lookup is then an array read instead of a hash probe.
    std::vector<std::uint8_t> m_dense;
    std::int64_t m_extent[3] = {0, 0, 0};
    std::size_t m_occupied = 0;
    Eigen::Vector3d m_origin = Eigen::Vector3d::Zero();
    double m_voxel;
};

/// Points of `scan` with |xyz| < maxRange (the evaluation's current scan, §7.1).
std::vector<Vec3f> viewpointPoints(const PointCloud& scan, double maxRange);

/// Ground truth in the scan frame from `mapCrop`, any set of map points (sequence frame, labels
/// optional) that includes all those within options.radius of the sensor, e.g. from
/// MapFileReader::readWithin(). Keeps the points within options.radius of the pose
/// translation, transformed by inverse(lidarPose), with zMin < z < zMax and, if enabled,
/// inside the viewpoint mask built from `viewpoint` (points in the scan frame). Keeps the
/// input order. @throws InvalidArgument on invalid options or a non-finite pose.
PointCloud groundTruthFromCrop(const PointCloud& mapCrop, const Eigen::Matrix4d& lidarPose,
                               const std::vector<Vec3f>& viewpoint,
                               const GroundTruthOptions& options = {});

/// Ground truth in the scan frame: map points within options.radius of the pose translation,
/// transformed by inverse(lidarPose), with zMin < z < zMax and, if enabled, inside the
/// viewpoint mask built from `viewpoint` (points in the scan frame). Labels come along.
/// Order: ascending map index. @throws InvalidArgument on invalid options.
PointCloud groundTruthFromMap(const StaticMap& map, const Eigen::Matrix4d& lidarPose,
                              const std::vector<Vec3f>& viewpoint,
                              const GroundTruthOptions& options = {});

/// The §7.1 ground truth of one raw scan (sensor frame, unfiltered): the viewpoint mask is
/// built from viewpointPoints(scan, options.viewpointMaxRange).
PointCloud groundTruthForScan(const StaticMap& map, const Eigen::Matrix4d& lidarPose,
                              const PointCloud& scan, const GroundTruthOptions& options = {});

}  // namespace lidistill::map
