// SPDX-License-Identifier: MIT
#include "core/metrics/HistogramJsd.h"

#include "core/base/Error.h"
#include "core/metrics/NumpyBins.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace lidistill::metrics {

namespace {

// A histogram as sorted (cell, count) pairs; cells are linear indices (x major, z minor,
// matching numpy's C-order flatten, though the JSD does not depend on the order).
using Sparse = std::vector<std::pair<std::uint64_t, double>>;

std::vector<std::uint64_t> sortedCells(std::span<const Vec3f> pts, const NumpyBins& bins) {
    const auto n = static_cast<std::uint64_t>(bins.count());
    std::vector<std::uint64_t> cells;
    cells.reserve(pts.size());
    for (const auto& p : pts) {
        const int x = bins.binOf(p[0]);
        const int y = bins.binOf(p[1]);
        const int z = bins.binOf(p[2]);
        if (x < 0 || y < 0 || z < 0) {
            continue;
        }
        cells.push_back((static_cast<std::uint64_t>(x) * n + static_cast<std::uint64_t>(y)) * n +
                        static_cast<std::uint64_t>(z));
    }
    std::sort(cells.begin(), cells.end());
    return cells;
}

Sparse counts3d(const std::vector<std::uint64_t>& cells) {
    Sparse h;
    for (std::size_t i = 0; i < cells.size();) {
        std::size_t j = i;
        while (j < cells.size() && cells[j] == cells[i]) {
            ++j;
        }
        h.emplace_back(cells[i], static_cast<double>(j - i));
        i = j;
    }
    return h;
}

Sparse countsBev(const std::vector<std::uint64_t>& cells, std::uint64_t n) {
    // Distinct 3D cells, then counted per (x, y) column; cells are sorted so columns are runs.
    Sparse h;
    std::uint64_t prevCell = ~std::uint64_t{0};
    for (const std::uint64_t c : cells) {
        if (c == prevCell) {
            continue;
        }
        prevCell = c;
        const std::uint64_t column = c / n;
        if (!h.empty() && h.back().first == column) {
            h.back().second += 1.0;
        } else {
            h.emplace_back(column, 1.0);
        }
    }
    return h;
}

// scipy.special.rel_entr for x > 0 (callers skip x == 0, where it is 0).
double relEntr(double x, double y) {
    return x * std::log(x / y);
}

// scipy.spatial.distance.jensenshannon(p, q) with base e, on sparse histograms.
double jensenShannon(const Sparse& p, const Sparse& q) {
    double sp = 0.0;
    double sq = 0.0;
    for (const auto& e : p) {
        sp += e.second;
    }
    for (const auto& e : q) {
        sq += e.second;
    }
    double left = 0.0;
    double right = 0.0;
    std::size_t i = 0;
    std::size_t j = 0;
    while (i < p.size() || j < q.size()) {
        double pv = 0.0;
        double qv = 0.0;
        if (j >= q.size() || (i < p.size() && p[i].first < q[j].first)) {
            pv = p[i++].second / sp;
        } else if (i >= p.size() || q[j].first < p[i].first) {
            qv = q[j++].second / sq;
        } else {
            pv = p[i++].second / sp;
            qv = q[j++].second / sq;
        }
        const double m = (pv + qv) / 2.0;
        if (pv > 0.0) {
            left += relEntr(pv, m);
        }
        if (qv > 0.0) {
            right += relEntr(qv, m);
        }
    }
    return std::sqrt(std::max(0.0, (left + right) / 2.0));
}

void requireNonEmpty(const std::vector<std::uint64_t>& cells, const char* which) {
    if (cells.empty()) {
        throw InvalidArgument(std::string("Jensen-Shannon distance: the ") + which +
                              " has no point inside the histogram cube.");
    }
}

}  // namespace

std::pair<double, double> jensenShannonBevAnd3d(std::span<const Vec3f> pred,
                                                std::span<const Vec3f> gt, const JsdGrid& grid) {
    const NumpyBins bins(-grid.range, grid.range, binCountFor(grid.range, grid.cellSize));
    const auto gtCells = sortedCells(gt, bins);
    const auto predCells = sortedCells(pred, bins);
    requireNonEmpty(gtCells, "ground truth");
    requireNonEmpty(predCells, "prediction");
    const auto n = static_cast<std::uint64_t>(bins.count());
    const double bev = jensenShannon(countsBev(gtCells, n), countsBev(predCells, n));
    const double d3 = jensenShannon(counts3d(gtCells), counts3d(predCells));
    return {bev, d3};
}

double jensenShannonDistance(std::span<const Vec3f> pred, std::span<const Vec3f> gt, bool bev,
                             const JsdGrid& grid) {
    const NumpyBins bins(-grid.range, grid.range, binCountFor(grid.range, grid.cellSize));
    const auto gtCells = sortedCells(gt, bins);
    const auto predCells = sortedCells(pred, bins);
    requireNonEmpty(gtCells, "ground truth");
    requireNonEmpty(predCells, "prediction");
    if (bev) {
        const auto n = static_cast<std::uint64_t>(bins.count());
        return jensenShannon(countsBev(gtCells, n), countsBev(predCells, n));
    }
    return jensenShannon(counts3d(gtCells), counts3d(predCells));
}

}  // namespace lidistill::metrics
