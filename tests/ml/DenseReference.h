#pragma once
// SPDX-License-Identifier: MIT
//
// Shared helpers of the ML tests: random sparse coordinates, and the dense reference
// (features scattered into a [B, C, X, Y, Z] grid, torch conv3d / conv_transpose3d on it,
// results read back at the active sites). Dense index i of an axis is compact coordinate
// origin + i; an origin divisible by 2^L keeps the grids of L stride-2 levels aligned.

#include "core/ml/engine/SparseTensor.h"

#include <algorithm>
#include <random>
#include <set>
#include <tuple>
#include <vector>

namespace lidistill::ml::sparse::dense {

/// max |a - b| / max |b| (b is the reference).
inline double relErr(const torch::Tensor& a, const torch::Tensor& b) {
    const auto bd = b.detach().to(torch::kCPU, torch::kDouble);
    const auto ad = a.detach().to(torch::kCPU, torch::kDouble);
    const double scale = std::max(bd.abs().max().item<double>(), 1e-300);
    return (ad - bd).abs().max().item<double>() / scale;
}

/// `count` unique random coordinates int32 [count, 4], xyz in [-extent, extent), batch 0..B-1.
inline torch::Tensor randomCoords(int batches, int extent, int count, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> c(-extent, extent - 1), b(0, batches - 1);
    std::set<std::tuple<int, int, int, int>> seen;
    std::vector<int> flat;
    while (static_cast<int>(seen.size()) < count) {
        auto t = std::make_tuple(b(rng), c(rng), c(rng), c(rng));
        if (seen.insert(t).second) {
            flat.insert(flat.end(),
                        {std::get<0>(t), std::get<1>(t), std::get<2>(t), std::get<3>(t)});
        }
    }
    return torch::tensor(flat, torch::kInt).view({count, 4});
}

struct Grid {
    std::int64_t origin;  ///< compact coordinate of dense index 0
    std::int64_t size;    ///< per axis
    std::int64_t batches;

    /// The same grid one stride-2 level coarser (origin and size must be even).
    Grid coarser() const { return Grid{origin / 2, size / 2, batches}; }
};

/// Scatters [N, C] features at compact `coords` into [B, C, S, S, S] (differentiable).
inline torch::Tensor densify(const torch::Tensor& coords, const torch::Tensor& feats,
                             const Grid& g) {
    auto c = coords.to(torch::kLong);
    auto d = torch::zeros({g.batches, g.size, g.size, g.size, feats.size(1)}, feats.options());
    d = d.index_put({c.select(1, 0), c.select(1, 1) - g.origin, c.select(1, 2) - g.origin,
                     c.select(1, 3) - g.origin},
                    feats);
    return d.permute({0, 4, 1, 2, 3});
}

/// Reads [N, C] at `coords` from [B, C, S, S, S] (differentiable).
inline torch::Tensor readDense(const torch::Tensor& dense, const torch::Tensor& coords,
                               std::int64_t origin) {
    auto c = coords.to(torch::kLong);
    auto cl = dense.permute({0, 2, 3, 4, 1});
    return cl.index({c.select(1, 0), c.select(1, 1) - origin, c.select(1, 2) - origin,
                     c.select(1, 3) - origin});
}

/// Active-site mask [B, 1, S, S, S] of `coords`, in the dtype of `like`.
inline torch::Tensor activeMask(const torch::Tensor& coords, const Grid& g,
                                const torch::Tensor& like) {
    return densify(coords, torch::ones({coords.size(0), 1}, like.options()), g);
}

/// ME [K, Cin, Cout] (x fastest) -> torch conv3d [Cout, Cin, kx, ky, kz].
inline torch::Tensor toConvWeight(const torch::Tensor& w, std::int64_t ks) {
    return w.view({ks, ks, ks, w.size(1), w.size(2)}).permute({4, 3, 2, 1, 0});
}
/// ME [K, Cin, Cout] -> torch conv_transpose3d [Cin, Cout, kx, ky, kz].
inline torch::Tensor toConvTWeight(const torch::Tensor& w, std::int64_t ks) {
    return w.view({ks, ks, ks, w.size(1), w.size(2)}).permute({3, 4, 2, 1, 0});
}

}  // namespace lidistill::ml::sparse::dense
