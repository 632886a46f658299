// SPDX-License-Identifier: MIT
#include "core/metrics/Emd.h"

#include "core/base/Error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace lidistill::metrics {

namespace {

using Key = std::array<std::int64_t, 3>;

struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
        auto h = static_cast<std::uint64_t>(k[0]) * 0x9E3779B97F4A7C15ull;
        h ^= static_cast<std::uint64_t>(k[1]) * 0xC2B2AE3D27D4EB4Full + (h << 6) + (h >> 2);
        h ^= static_cast<std::uint64_t>(k[2]) * 0x165667B19E3779F9ull + (h << 6) + (h >> 2);
        return static_cast<std::size_t>(h);
    }
};

struct VoxelHistogram {
    std::vector<Key> keys;                       // sorted lexicographically, as np.unique
    std::vector<double> weights;                 // count / total
    std::vector<std::array<double, 3>> centres;  // (idx + 0.5) * v
};

VoxelHistogram voxelize(std::span<const Vec3f> pts, double v, const char* which) {
    if (pts.empty()) {
        throw InvalidArgument(std::string("EMD: the ") + which + " is empty.");
    }
    std::vector<Key> all;
    all.reserve(pts.size());
    for (const auto& p : pts) {
        Key k;
        for (int a = 0; a < 3; ++a) {
            const double f = std::floor(static_cast<double>(p[a]) / v);
            if (!std::isfinite(f) || std::abs(f) > 1e15) {
                throw InvalidArgument(std::string("EMD: the ") + which +
                                      " has a non-finite or huge coordinate.");
            }
            k[a] = static_cast<std::int64_t>(f);
        }
        all.push_back(k);
    }
    std::sort(all.begin(), all.end());
    VoxelHistogram h;
    const double total = static_cast<double>(all.size());
    for (std::size_t i = 0; i < all.size();) {
        std::size_t j = i;
        while (j < all.size() && all[j] == all[i]) {
            ++j;
        }
        h.keys.push_back(all[i]);
        h.weights.push_back(static_cast<double>(j - i) / total);
        h.centres.push_back({(static_cast<double>(all[i][0]) + 0.5) * v,
                             (static_cast<double>(all[i][1]) + 0.5) * v,
                             (static_cast<double>(all[i][2]) + 0.5) * v});
        i = j;
    }
    return h;
}

double distance(const std::array<double, 3>& a, const std::array<double, 3>& b) {
    const double dx = a[0] - b[0];
    const double dy = a[1] - b[1];
    const double dz = a[2] - b[2];
    return std::sqrt(dx * dx + dy * dy + dz * dz);
}

// Sparse part of K: exp(-C / epsilon) for the pairs where it is not lost against the floor.
struct SparseKernel {
    std::vector<std::size_t> rowStart;  // CSR over source voxels
    std::vector<std::uint32_t> col;
    std::vector<double> value;  // exp(-C / epsilon)
    std::vector<double> cost;   // C
};

SparseKernel nearPairs(const VoxelHistogram& a, const VoxelHistogram& b, const EmdOptions& o) {
    // Below floor * 2^-60 an exp term cannot change floor + exp in double; with floor 0 the
    // exponential itself underflows past ~745.
    const double cut = o.kernelFloor > 0 ? -std::log(o.kernelFloor) + 60 * std::log(2.0) : 746.0;
    const double radius = o.epsilon * cut;
    // Range-checked as a double: a tiny voxel or a huge epsilon gives more voxels than an int
    // holds. A negative reach (a floor above 2^60) means no pair beats the floor: no search.
    const double reach = std::floor(radius / o.voxelSize) + 1;
    const int r = reach < 0 ? -1 : reach <= 16 ? static_cast<int>(reach) : 17;
    if (r > 16) {
        throw InvalidArgument("EMD: epsilon is too large for the sparse kernel (reach " +
                              std::to_string(radius) + " m); DPO uses 0.001.");
    }
    std::unordered_map<Key, std::uint32_t, KeyHash> lookup;
    lookup.reserve(b.keys.size() * 2);
    for (std::size_t j = 0; j < b.keys.size(); ++j) {
        lookup.emplace(b.keys[j], static_cast<std::uint32_t>(j));
    }
    SparseKernel k;
    k.rowStart.push_back(0);
    for (std::size_t i = 0; i < a.keys.size(); ++i) {
        for (int dx = -r; dx <= r; ++dx) {
            for (int dy = -r; dy <= r; ++dy) {
                for (int dz = -r; dz <= r; ++dz) {
                    const Key q{a.keys[i][0] + dx, a.keys[i][1] + dy, a.keys[i][2] + dz};
                    const auto it = lookup.find(q);
                    if (it == lookup.end()) {
                        continue;
                    }
                    const double c = distance(a.centres[i], b.centres[it->second]);
                    const double e = std::exp(-c / o.epsilon);
                    if (e > 0.0) {
                        k.col.push_back(it->second);
                        k.value.push_back(e);
                        k.cost.push_back(c);
                    }
                }
            }
        }
        k.rowStart.push_back(k.col.size());
    }
    return k;
}

}  // namespace

std::optional<double> sinkhornEmd(std::span<const Vec3f> pred, std::span<const Vec3f> gt,
                                  const EmdOptions& o, ProgressSink* progress) {
    if (!(o.voxelSize > 0) || !(o.epsilon > 0) || !(o.kernelFloor >= 0) || o.maxIterations < 1 ||
        !(o.tolerance >= 0) || !std::isfinite(o.voxelSize) || !std::isfinite(o.epsilon) ||
        !std::isfinite(o.kernelFloor)) {
        throw InvalidArgument("EMD: invalid options (voxel size, epsilon, floor, iterations).");
    }
    checkpoint(progress, 0.0, "EMD: voxelise");
    // DPO calls calc_EMD_with_sinkhorn_knopp(pred, gt): pred is the source (u), gt the target.
    const VoxelHistogram a = voxelize(pred, o.voxelSize, "prediction");
    const VoxelHistogram b = voxelize(gt, o.voxelSize, "ground truth");
    if (a.keys.size() + b.keys.size() > o.maxVoxels) {
        return std::nullopt;
    }
    const SparseKernel k = nearPairs(a, b, o);
    const std::size_t n1 = a.keys.size();
    const std::size_t n2 = b.keys.size();
    const double floor = o.kernelFloor;

    // K^T as CSR too, for v = b / (K^T u).
    std::vector<std::size_t> tStart(n2 + 1, 0);
    for (const auto c : k.col) {
        ++tStart[c + 1];
    }
    for (std::size_t j = 0; j < n2; ++j) {
        tStart[j + 1] += tStart[j];
    }
    std::vector<std::uint32_t> tRow(k.col.size());
    std::vector<double> tValue(k.col.size());
    {
        std::vector<std::size_t> fill(tStart.begin(), tStart.end() - 1);
        for (std::size_t i = 0; i < n1; ++i) {
            for (std::size_t e = k.rowStart[i]; e < k.rowStart[i + 1]; ++e) {
                const std::size_t slot = fill[k.col[e]]++;
                tRow[slot] = static_cast<std::uint32_t>(i);
                tValue[slot] = k.value[e];
            }
        }
    }

    std::vector<double> u(n1, 1.0);
    std::vector<double> v(n2, 1.0);
    std::vector<double> uPrev(n1);
    for (int it = 0; it < o.maxIterations; ++it) {
        if (it % 64 == 0) {
            checkpoint(progress, 0.9 * it / o.maxIterations, "EMD: Sinkhorn");
        }
        uPrev = u;
        double sumV = 0.0;
        for (const double x : v) {
            sumV += x;
        }
        for (std::size_t i = 0; i < n1; ++i) {
            double s = floor * sumV;
            for (std::size_t e = k.rowStart[i]; e < k.rowStart[i + 1]; ++e) {
                s += k.value[e] * v[k.col[e]];
            }
            u[i] = a.weights[i] / s;
        }
        double sumU = 0.0;
        for (const double x : u) {
            sumU += x;
        }
        for (std::size_t j = 0; j < n2; ++j) {
            double s = floor * sumU;
            for (std::size_t e = tStart[j]; e < tStart[j + 1]; ++e) {
                s += tValue[e] * u[tRow[e]];
            }
            v[j] = b.weights[j] / s;
        }
        double diff = 0.0;
        for (std::size_t i = 0; i < n1; ++i) {
            diff += std::abs(u[i] - uPrev[i]);
        }
        if (diff < o.tolerance) {
            break;
        }
    }

    // sum_ij u_i v_j (floor + e_ij) C_ij: the floor part needs every pair once.
    double sparsePart = 0.0;
    for (std::size_t i = 0; i < n1; ++i) {
        for (std::size_t e = k.rowStart[i]; e < k.rowStart[i + 1]; ++e) {
            sparsePart += u[i] * v[k.col[e]] * k.value[e] * k.cost[e];
        }
    }
    double floorPart = 0.0;
    if (floor > 0.0) {
        constexpr std::size_t kRows = 256;
        for (std::size_t begin = 0; begin < n1; begin += kRows) {
            checkpoint(progress, 0.9 + 0.1 * static_cast<double>(begin) / static_cast<double>(n1),
                       "EMD: transport cost");
            const auto end = static_cast<std::ptrdiff_t>(std::min(n1, begin + kRows));
            double block = 0.0;
#pragma omp parallel for reduction(+ : block) schedule(static)
            for (auto i = static_cast<std::ptrdiff_t>(begin); i < end; ++i) {
                const auto& ci = a.centres[static_cast<std::size_t>(i)];
                double row = 0.0;
                for (std::size_t j = 0; j < n2; ++j) {
                    row += v[j] * distance(ci, b.centres[j]);
                }
                block += u[static_cast<std::size_t>(i)] * row;
            }
            floorPart += block;
        }
    }
    checkpoint(progress, 1.0, "EMD");
    return floor * floorPart + sparsePart;
}

}  // namespace lidistill::metrics
