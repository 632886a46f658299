#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"
#include "core/base/Progress.h"

#include <span>
#include <vector>

namespace lidistill::metrics {

/// Chamfer distance between a prediction and its ground truth, as LiDiff reports it
/// (reference §7.2): Euclidean (not squared) nearest-neighbour distances in metres, the mean
/// of each direction, and their average. Matches Open3D's compute_point_cloud_distance.
struct ChamferResult {
    double chamfer = 0.0;   ///< 0.5 * (gtToPred + predToGt)
    double gtToPred = 0.0;  ///< mean over GT points of the distance to the nearest predicted point
    double predToGt = 0.0;  ///< mean over predicted points of the distance to the nearest GT point
    std::vector<double> gtToPredDistances;  ///< per GT point, in GT order (recall, heatmaps)
    std::vector<double> predToGtDistances;  ///< per predicted point, in prediction order
};

/// Computes both directions with one KD-tree per cloud and parallel queries.
/// @param progress may be null; reports the two directions as halves of [0, 1].
/// @throws InvalidArgument if either cloud is empty or has a non-finite coordinate;
///         Cancelled if `progress` asks to stop.
/// Thread-safety: reentrant (uses OpenMP internally).
ChamferResult chamferDistance(std::span<const Vec3f> pred, std::span<const Vec3f> gt,
                              ProgressSink* progress = nullptr);

/// Same on the positions of two point clouds.
inline ChamferResult chamferDistance(const PointCloud& pred, const PointCloud& gt,
                                     ProgressSink* progress = nullptr) {
    return chamferDistance(pred.xyz, gt.xyz, progress);
}

/// Mean of a vector of distances (0 for an empty one).
double meanOf(const std::vector<double>& values);

}  // namespace lidistill::metrics
