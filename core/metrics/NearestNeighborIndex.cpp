// SPDX-License-Identifier: MIT
#include "core/metrics/NearestNeighborIndex.h"

#include "core/base/Error.h"

#include <nanoflann.hpp>

#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <omp.h>
#include <string>

namespace lidistill::metrics {

namespace {

using Point3d = std::array<double, 3>;

struct DoubleCloud {
    std::vector<Point3d> pts;
    std::size_t kdtree_get_point_count() const { return pts.size(); }
    double kdtree_get_pt(std::size_t i, std::size_t d) const { return pts[i][d]; }
    template <class Bbox>
    bool kdtree_get_bbox(Bbox& /*bb*/) const {
        return false;
    }
};

using Tree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, DoubleCloud>,
                                                 DoubleCloud, 3, std::uint32_t>;

// Leaf size 16 measured faster than nanoflann's default 10 for 100k-point LiDAR scans
// (fewer nodes, the leaf scan is cheap); bench/metrics prints the figures.
constexpr std::size_t kLeafSize = 16;
// Queries per scheduling chunk and per progress report: consecutive LiDAR points are
// neighbours in space, so a chunk keeps the tree paths it walks in cache.
constexpr std::ptrdiff_t kChunk = 4096;

bool finite(const Vec3f& p) {
    return std::isfinite(p[0]) && std::isfinite(p[1]) && std::isfinite(p[2]);
}

}  // namespace

struct NearestNeighborIndex::Impl {
    DoubleCloud cloud;
    std::unique_ptr<Tree> tree;

    void query(const Vec3f& q, std::uint32_t& index, double& distance) const {
        const double qd[3] = {q[0], q[1], q[2]};
        std::uint32_t idx = 0;
        double d2 = 0.0;
        nanoflann::KNNResultSet<double, std::uint32_t> result(1);
        result.init(&idx, &d2);
        tree->findNeighbors(result, qd, nanoflann::SearchParams());
        // Recomputed from the coordinates so the value does not depend on the tree's
        // incremental distance bookkeeping (Open3D returns sqrt of the same sum).
        const Point3d& p = cloud.pts[idx];
        const double dx = qd[0] - p[0];
        const double dy = qd[1] - p[1];
        const double dz = qd[2] - p[2];
        index = idx;
        distance = std::sqrt(dx * dx + dy * dy + dz * dz);
    }
};

NearestNeighborIndex::NearestNeighborIndex(std::span<const Vec3f> points)
    : m_impl(std::make_unique<Impl>()) {
    if (points.size() >= std::numeric_limits<std::uint32_t>::max()) {
        throw InvalidArgument("NearestNeighborIndex: more than 2^32-1 points are not supported.");
    }
    m_impl->cloud.pts.resize(points.size());
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (!finite(points[i])) {
            throw InvalidArgument("NearestNeighborIndex: point " + std::to_string(i) +
                                  " has a NaN or infinite coordinate.");
        }
        m_impl->cloud.pts[i] = {points[i][0], points[i][1], points[i][2]};
    }
    m_impl->tree = std::make_unique<Tree>(3, m_impl->cloud,
                                          nanoflann::KDTreeSingleIndexAdaptorParams(kLeafSize));
}

NearestNeighborIndex::~NearestNeighborIndex() = default;
NearestNeighborIndex::NearestNeighborIndex(NearestNeighborIndex&&) noexcept = default;
NearestNeighborIndex& NearestNeighborIndex::operator=(NearestNeighborIndex&&) noexcept = default;

std::size_t NearestNeighborIndex::size() const noexcept {
    return m_impl->cloud.pts.size();
}

NearestNeighborIndex::Neighbor NearestNeighborIndex::nearest(const Vec3f& query) const {
    if (size() == 0) {
        throw InvalidArgument("NearestNeighborIndex: query on an empty point set.");
    }
    if (!finite(query)) {
        throw InvalidArgument("NearestNeighborIndex: the query point is not finite.");
    }
    Neighbor n;
    m_impl->query(query, n.index, n.distance);
    return n;
}

void NearestNeighborIndex::nearest(std::span<const Vec3f> queries, std::vector<double>& distances,
                                   std::vector<std::uint32_t>* indices,
                                   ProgressSink* progress) const {
    const std::size_t n = queries.size();
    if (n > 0 && size() == 0) {
        throw InvalidArgument("NearestNeighborIndex: query on an empty point set.");
    }
    for (std::size_t i = 0; i < n; ++i) {
        if (!finite(queries[i])) {
            throw InvalidArgument("NearestNeighborIndex: query point " + std::to_string(i) +
                                  " has a NaN or infinite coordinate.");
        }
    }
    distances.resize(n);
    if (indices) {
        indices->resize(n);
    }
    double* dist = distances.data();
    std::uint32_t* idx = indices ? indices->data() : nullptr;
    const Impl& impl = *m_impl;
    checkpoint(progress, 0.0, "nearest neighbours");
    // One parallel loop with no per-block barrier (a barrier makes the fast thread wait for a
    // slow one on a loaded machine). Only OpenMP thread 0 talks to the sink, so sinks need
    // not be thread-safe; a cancel request stops the remaining chunks.
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> done{0};
    const auto count = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel for schedule(dynamic, kChunk)
    for (std::ptrdiff_t i = 0; i < count; ++i) {
        if (stop.load(std::memory_order_relaxed)) {
            continue;
        }
        std::uint32_t k = 0;
        impl.query(queries[static_cast<std::size_t>(i)], k, dist[i]);
        if (idx) {
            idx[i] = k;
        }
        if (i % static_cast<std::ptrdiff_t>(kChunk) == kChunk - 1) {
            const std::size_t finished = done.fetch_add(kChunk) + kChunk;
            if (progress && omp_get_thread_num() == 0) {
                progress->report(static_cast<double>(finished) / static_cast<double>(n),
                                 "nearest neighbours");
                if (progress->cancelled()) {
                    stop.store(true);
                }
            }
        }
    }
    if (stop.load()) {
        throw Cancelled();
    }
    checkpoint(progress, 1.0, "nearest neighbours");
}

std::vector<double> NearestNeighborIndex::nearestDistances(std::span<const Vec3f> queries,
                                                           ProgressSink* progress) const {
    std::vector<double> d;
    nearest(queries, d, nullptr, progress);
    return d;
}

}  // namespace lidistill::metrics
