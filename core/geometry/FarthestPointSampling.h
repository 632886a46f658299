#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"
#include "core/base/Progress.h"

#include <cstddef>
#include <vector>

/// Farthest point sampling exactly as LiDiff runs it (reference §1.3, §3.5): Open3D 0.16's
/// PointCloud::farthest_point_down_sample, pick for pick.
///
/// Open3D's algorithm: picks start at index 0; every point keeps its smallest squared distance
/// (double, (dx*dx + dy*dy) + dz*dz) to the picks so far, starting at +infinity; the next pick
/// is the first index, in input order, with the largest such distance, and only a distance
/// strictly above 0 moves it. So once every remaining point duplicates a pick (LiDiff repeats a
/// short scan element-wise before sampling), the last pick is picked again and again.
/// Here a KD-tree of point boxes skips every box that the new pick cannot bring closer; the
/// points it does update get Open3D's very arithmetic, so the picks are identical
/// (checked against Debian's python3-open3d 0.16.1 in tests/core/geometry).
namespace lidistill::geometry {

/// Indices (into `xyz`) that Open3D 0.16's farthest_point_down_sample picks, in pick order.
///
/// As Open3D: `count == 0` gives no index; `count == xyz.size()` gives 0, 1, ..., size - 1
/// (Open3D copies the cloud without sampling); otherwise `count` picks, the first being 0,
/// with repeats of the last pick once only duplicates of picks are left.
/// @param xyz the points; @param count how many picks, at most xyz.size().
/// @param progress may be null; reports the fraction of picks made and is polled every few
///        hundred picks.
/// @throws InvalidArgument if `count > xyz.size()` (Open3D refuses this too) or a point has a
///         NaN or infinite coordinate (the message names its index);
///         Cancelled if `progress` asks to stop.
/// Thread-safety: reentrant; single-threaded.
std::vector<std::size_t> farthestPointIndices(const std::vector<Vec3f>& xyz, std::size_t count,
                                              ProgressSink* progress = nullptr);

/// The cloud Open3D 0.16's farthest_point_down_sample(count) returns, with every per-point field
/// the input has (intensity, label, ring) carried along.
///
/// Open3D builds its result with SelectByIndex, which keeps the picked points in *input order*
/// and each point once: the result is the set of farthestPointIndices() sorted ascending and
/// deduplicated, so it has fewer than `count` points when the input has fewer distinct points.
/// @throws InvalidArgument as farthestPointIndices(), or if the cloud's fields are inconsistent;
///         Cancelled if `progress` asks to stop.
/// Thread-safety: reentrant.
PointCloud farthestPointSample(const PointCloud& cloud, std::size_t count,
                               ProgressSink* progress = nullptr);

}  // namespace lidistill::geometry
