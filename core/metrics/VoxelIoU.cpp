// SPDX-License-Identifier: MIT
#include "core/metrics/VoxelIoU.h"

#include "core/base/Error.h"
#include "core/metrics/NumpyBins.h"

#include <algorithm>
#include <cmath>
#include <iterator>

namespace lidistill::metrics {

double VoxelConfusion::iou() const noexcept {
    const std::uint64_t u = tp + fn + fp;
    return u == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(u);
}
double VoxelConfusion::precision() const noexcept {
    return tp + fp == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(tp + fp);
}
double VoxelConfusion::recall() const noexcept {
    return tp + fn == 0 ? 0.0 : static_cast<double>(tp) / static_cast<double>(tp + fn);
}

std::vector<std::uint64_t> occupiedVoxels(std::span<const Vec3f> points, double voxelSize,
                                          VoxelIoUDefinition definition, double range) {
    const int n = binCountFor(range, voxelSize);
    const NumpyBins bins(-range, range, n);
    const auto un = static_cast<std::uint64_t>(n);
    const bool old = definition == VoxelIoUDefinition::Old;
    std::vector<std::uint64_t> keys;
    keys.reserve(points.size());
    for (const auto& p : points) {
        int b[3];
        bool inside = true;
        for (int a = 0; a < 3 && inside; ++a) {
            double v = p[a];
            if (old) {
                // np.round(p / v): ties to even, which nearbyint does in the default mode.
                v = std::nearbyint(v / voxelSize);
            }
            b[a] = bins.binOf(v);
            inside = b[a] >= 0;
        }
        if (inside) {
            keys.push_back(
                (static_cast<std::uint64_t>(b[0]) * un + static_cast<std::uint64_t>(b[1])) * un +
                static_cast<std::uint64_t>(b[2]));
        }
    }
    // Sorted unique keys: a sparse set that is cheaper than a hash set here (one sort of
    // ~1e5 integers) and makes the intersection a linear merge.
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
}

VoxelConfusion voxelConfusion(std::span<const Vec3f> pred, std::span<const Vec3f> gt,
                              double voxelSize, VoxelIoUDefinition definition) {
    const auto g = occupiedVoxels(gt, voxelSize, definition);
    const auto p = occupiedVoxels(pred, voxelSize, definition);
    std::uint64_t both = 0;
    for (std::size_t i = 0, j = 0; i < g.size() && j < p.size();) {
        if (g[i] < p[j]) {
            ++i;
        } else if (p[j] < g[i]) {
            ++j;
        } else {
            ++both;
            ++i;
            ++j;
        }
    }
    VoxelConfusion c;
    c.tp = both;
    c.fn = g.size() - both;
    c.fp = p.size() - both;
    return c;
}

VoxelIoUAccumulator::VoxelIoUAccumulator(std::vector<double> voxelSizes,
                                         VoxelIoUDefinition definition)
    : m_voxelSizes(std::move(voxelSizes)), m_definition(definition) {
    for (const double v : m_voxelSizes) {
        binCountFor(50.0, v);  // validates
    }
    m_counts.resize(m_voxelSizes.size());
}

void VoxelIoUAccumulator::add(std::span<const Vec3f> pred, std::span<const Vec3f> gt) {
    for (std::size_t i = 0; i < m_voxelSizes.size(); ++i) {
        m_counts[i] += voxelConfusion(pred, gt, m_voxelSizes[i], m_definition);
    }
    ++m_scans;
}

void VoxelIoUAccumulator::add(const std::vector<VoxelConfusion>& perVoxelSize) {
    if (perVoxelSize.size() != m_counts.size()) {
        throw InvalidArgument("VoxelIoUAccumulator: expected " + std::to_string(m_counts.size()) +
                              " voxel sizes, got " + std::to_string(perVoxelSize.size()) + ".");
    }
    for (std::size_t i = 0; i < m_counts.size(); ++i) {
        m_counts[i] += perVoxelSize[i];
    }
    ++m_scans;
}

void VoxelIoUAccumulator::reset() {
    m_counts.assign(m_voxelSizes.size(), VoxelConfusion{});
    m_scans = 0;
}

std::vector<double> VoxelIoUAccumulator::iou() const {
    std::vector<double> r;
    r.reserve(m_counts.size());
    std::transform(m_counts.begin(), m_counts.end(), std::back_inserter(r),
                   [](const VoxelConfusion& c) { return c.iou(); });
    return r;
}

}  // namespace lidistill::metrics
