#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"
#include "core/base/Progress.h"

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace lidistill::metrics {

/// Exact 3D nearest-neighbour search over a fixed point set (a KD-tree, nanoflann inside).
///
/// Coordinates are widened to double on construction and distances are computed in double,
/// as Open3D's KDTreeFlann does on its Vector3dVector points, so that distances agree with
/// Open3D's compute_point_cloud_distance to rounding. Ties between equidistant points may
/// resolve to either index; the distance is the same.
///
/// Thread-safety: const queries may run concurrently; batch queries are parallel (OpenMP).
class NearestNeighborIndex {
public:
    /// Builds the tree over `points` (copied).
    /// @throws InvalidArgument if a coordinate is NaN or infinite.
    explicit NearestNeighborIndex(std::span<const Vec3f> points);
    ~NearestNeighborIndex();
    NearestNeighborIndex(NearestNeighborIndex&&) noexcept;
    NearestNeighborIndex& operator=(NearestNeighborIndex&&) noexcept;
    NearestNeighborIndex(const NearestNeighborIndex&) = delete;
    NearestNeighborIndex& operator=(const NearestNeighborIndex&) = delete;

    /// Number of indexed points.
    std::size_t size() const noexcept;

    /// One nearest neighbour: its index in the indexed points and its Euclidean distance.
    struct Neighbor {
        std::uint32_t index = 0;
        double distance = 0.0;
    };

    /// The nearest indexed point to `query`.
    /// @throws InvalidArgument if the index is empty or the query is not finite.
    Neighbor nearest(const Vec3f& query) const;

    /// Nearest distance (and optionally index) for every query point, in query order,
    /// computed in parallel. `indices` may be null when only distances are needed.
    /// @param progress may be null; called only from the calling thread (OpenMP thread 0),
    ///        every few thousand queries, so it need not be thread-safe.
    /// @throws InvalidArgument if the index is empty and there are queries, or a query is
    ///         not finite; Cancelled if `progress` asks to stop.
    void nearest(std::span<const Vec3f> queries, std::vector<double>& distances,
                 std::vector<std::uint32_t>* indices = nullptr,
                 ProgressSink* progress = nullptr) const;

    /// Convenience: the nearest distances only.
    std::vector<double> nearestDistances(std::span<const Vec3f> queries,
                                         ProgressSink* progress = nullptr) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace lidistill::metrics
