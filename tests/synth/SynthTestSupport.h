#pragma once
// SPDX-License-Identifier: MIT
// Helpers shared by the synth tests: file comparison and nearest-neighbour distances.

#include "core/base/PointCloud.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_map>
#include <vector>

namespace lidistill::test {

inline std::vector<char> fileBytes(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Brute-force-free nearest neighbour on a hash grid: distances from each query point to the
/// nearest reference point, capped at `cell` (points with no neighbour within a cell report cell).
inline std::vector<double> nearestDistances(const std::vector<Eigen::Vector3d>& ref,
                                            const std::vector<Eigen::Vector3d>& query,
                                            double cell) {
    auto key = [cell](const Eigen::Vector3d& p, int dx, int dy, int dz) {
        const auto ix = static_cast<std::int64_t>(std::floor(p.x() / cell)) + dx;
        const auto iy = static_cast<std::int64_t>(std::floor(p.y() / cell)) + dy;
        const auto iz = static_cast<std::int64_t>(std::floor(p.z() / cell)) + dz;
        return (ix * 73856093) ^ (iy * 19349663) ^ (iz * 83492791);
    };
    std::unordered_multimap<std::int64_t, std::size_t> grid;
    grid.reserve(ref.size());
    for (std::size_t i = 0; i < ref.size(); ++i) grid.emplace(key(ref[i], 0, 0, 0), i);
    std::vector<double> out;
    out.reserve(query.size());
    for (const auto& q : query) {
        double best = cell;
        for (int dx = -1; dx <= 1; ++dx)
            for (int dy = -1; dy <= 1; ++dy)
                for (int dz = -1; dz <= 1; ++dz) {
                    auto [a, b] = grid.equal_range(key(q, dx, dy, dz));
                    for (auto it = a; it != b; ++it)
                        best = std::min(best, (ref[it->second] - q).norm());
                }
        out.push_back(best);
    }
    return out;
}

inline double median(std::vector<double> v) {
    if (v.empty()) return 0;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
}

}  // namespace lidistill::test
