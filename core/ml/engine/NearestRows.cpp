// SPDX-License-Identifier: MIT
//
// The nearest-encoder-voxel lookup of LiDiff's conditioning (lidiff-family.md 3.2), two ways
// with identical results (exact, ties to the lowest encoder row; tested against each other):
//   * the CPU: a per-query ring search over a hash of encoder cells, parallel over queries;
//   * every other device (and the CPU under setPortablePath): blocks of cells around each
//     distinct query cell, probed with searchsorted in the encoder's sorted keys, then an exact
//     scan of the batch element for the few queries no block certifies; coordinates never
//     leave the device.
// Encoder rows are unique at their own stride, so a cell of that size holds at most one row.
#include "core/base/Error.h"
#include "core/ml/engine/SparseOps.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace lidistill::ml::sparse {
namespace {

constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
// Candidates (cell x offset, query x encoder row) per batched step of the device search: bounds
// its temporary memory (about 100 bytes a candidate) independently of the cloud size.
constexpr std::int64_t kProbesPerStep = std::int64_t{1} << 21;

std::int64_t floorDiv(std::int64_t a, std::int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

[[noreturn]] void throwMissingBatch(std::int64_t b) {
    throw InvalidArgument("nearest-voxel lookup: batch element " + std::to_string(b) +
                          " has no encoder voxels");
}

// The CPU ring search: one query a task, cells in a hash map.
torch::Tensor nearestRowsCpuGrid(const SparseTensor& query, const SparseTensor& encoder) {
    const auto q = query.meCoords().to(torch::kCPU).to(torch::kLong).contiguous();
    const auto e = encoder.meCoords().to(torch::kCPU).to(torch::kLong).contiguous();
    const std::int64_t nq = q.size(0), ne = e.size(0);
    const std::int64_t cell = encoder.stride;  // encoder rows sit on a grid of this spacing
    const std::int64_t* qp = q.data_ptr<std::int64_t>();
    const std::int64_t* ep = e.data_ptr<std::int64_t>();

    // Cell -> [first, last) range of encoder rows, and per batch element the row range.
    auto cellKey = [](std::int64_t b, std::int64_t x, std::int64_t y, std::int64_t z) {
        constexpr std::int64_t bias = std::int64_t{1} << 17;
        return (b << 54) | ((x + bias) << 36) | ((y + bias) << 18) | (z + bias);
    };
    std::vector<std::int64_t> order(ne);
    std::vector<std::int64_t> keyOf(ne);
    for (std::int64_t i = 0; i < ne; ++i) {
        order[i] = i;
        keyOf[i] = cellKey(ep[4 * i], floorDiv(ep[4 * i + 1], cell), floorDiv(ep[4 * i + 2], cell),
                           floorDiv(ep[4 * i + 3], cell));
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return keyOf[a] < keyOf[b]; });
    std::unordered_map<std::int64_t, std::pair<std::int64_t, std::int64_t>> cells;
    cells.reserve(static_cast<std::size_t>(ne) * 2);
    std::map<std::int64_t, std::vector<std::int64_t>> rowsOfBatch;
    for (std::int64_t s = 0; s < ne;) {
        std::int64_t t = s;
        while (t < ne && keyOf[order[t]] == keyOf[order[s]]) ++t;
        cells[keyOf[order[s]]] = {s, t};
        s = t;
    }
    for (std::int64_t i = 0; i < ne; ++i) rowsOfBatch[ep[4 * i]].push_back(i);

    auto result = torch::empty({nq}, torch::kLong);
    std::int64_t* rp = result.data_ptr<std::int64_t>();
    std::atomic<std::int64_t> missingBatch{-1};
    at::parallel_for(0, nq, 256, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            const std::int64_t b = qp[4 * i], x = qp[4 * i + 1], y = qp[4 * i + 2],
                               z = qp[4 * i + 3];
            auto itB = rowsOfBatch.find(b);
            if (itB == rowsOfBatch.end()) {
                missingBatch = b;
                rp[i] = -1;
                continue;
            }
            std::int64_t best = -1;
            std::int64_t bestD = std::numeric_limits<std::int64_t>::max();
            auto consider = [&](std::int64_t j) {
                const std::int64_t dx = ep[4 * j + 1] - x, dy = ep[4 * j + 2] - y,
                                   dz = ep[4 * j + 3] - z;
                const std::int64_t d = dx * dx + dy * dy + dz * dz;
                if (d < bestD || (d == bestD && j < best)) {
                    bestD = d;
                    best = j;
                }
            };
            const std::int64_t cx = floorDiv(x, cell), cy = floorDiv(y, cell),
                               cz = floorDiv(z, cell);
            const auto budget = static_cast<std::int64_t>(itB->second.size());
            std::int64_t visited = 0;
            bool certified = false;
            for (std::int64_t r = 0;; ++r) {
                // Every unvisited cell is at Chebyshev ring > r, hence strictly farther than r *
                // cell (integer coordinates), so equality certifies too and ties stay lowest-index.
                for (std::int64_t ix = -r; ix <= r; ++ix) {
                    for (std::int64_t iy = -r; iy <= r; ++iy) {
                        const bool edge = std::abs(ix) == r || std::abs(iy) == r;
                        for (std::int64_t iz = -r; iz <= r;
                             iz += (edge ? 1 : std::max<std::int64_t>(2 * r, 1))) {
                            ++visited;
                            auto it = cells.find(cellKey(b, cx + ix, cy + iy, cz + iz));
                            if (it == cells.end()) continue;
                            for (std::int64_t s = it->second.first; s < it->second.second; ++s) {
                                consider(order[s]);
                            }
                        }
                    }
                }
                const std::int64_t reach = r * cell;
                if (best >= 0 && bestD <= reach * reach) {
                    certified = true;
                    break;
                }
                if (visited > budget) break;
            }
            if (!certified) {
                for (const std::int64_t j : itB->second) consider(j);
            }
            rp[i] = best;
        }
    });
    if (missingBatch >= 0) {
        throwMissingBatch(missingBatch.load());
    }
    return result.to(query.feats.device());
}

// Key deltas of the (2r + 1)^3 cells within Chebyshev distance r.
torch::Tensor blockDeltas(std::int64_t r, torch::Device device) {
    std::vector<std::int64_t> d;
    for (std::int64_t iz = -r; iz <= r; ++iz) {
        for (std::int64_t iy = -r; iy <= r; ++iy) {
            for (std::int64_t ix = -r; ix <= r; ++ix) d.push_back(keyDelta(ix, iy, iz));
        }
    }
    return torch::tensor(d, torch::kLong).to(device);
}

// The device search. Probing is per distinct query cell, not per query: the 180k voxels of a
// LiDiff level fall into a few thousand stride-16 cells, so the probes (searchsorted) cost
// little and the work is one distance per (query, encoder row in its cell's block).
class DeviceSearch {
public:
    DeviceSearch(const SparseTensor& query, const SparseTensor& encoder)
        : m_encoder(encoder),
          m_lng(torch::TensorOptions().dtype(torch::kLong).device(query.feats.device())),
          m_cell(encoder.stride) {
        const auto device = query.feats.device();
        m_encKeys = encoder.manager->keys(encoder.stride).to(device);  // row j has key j
        m_encXyz = encoder.meCoords().to(device).to(torch::kLong).slice(1, 1, 4).contiguous();
        const auto qMe = query.meCoords().to(device).to(torch::kLong);
        m_qBatch = qMe.select(1, 0).contiguous();
        m_qXyz = qMe.slice(1, 1, 4).contiguous();
        const std::int64_t nq = qMe.size(0);
        m_bestD = torch::full({nq}, kNone, m_lng);
        m_best = torch::full({nq}, kNone, m_lng);
        if (nq > 0 && m_encKeys.size(0) > 0) {
            m_qCellKey =
                packKeys(torch::cat({qMe.slice(1, 0, 1), torch::div(m_qXyz, m_cell, "floor")}, 1));
        }
    }

    torch::Tensor run() {
        auto open = torch::arange(m_qXyz.size(0), m_lng);
        // A block of radius 1 settles most LiDiff queries with at most 27 candidates; the rest
        // try radius 3 (reach 2.4 m at 5 cm voxels), then scan their batch element.
        for (const std::int64_t radius : {1, 3}) {
            if (open.size(0) == 0 || m_encKeys.size(0) == 0) break;
            searchBlock(open, radius);
            // Cells beyond the block lie strictly farther than radius * cell (see the CPU path).
            const std::int64_t reach = radius * m_cell;
            open = open.masked_select(m_bestD.index_select(0, open) > reach * reach);
        }
        if (open.size(0) > 0) scanBatches(open);
        return m_best;
    }

private:
    // Candidates = encoder rows in the (2 radius + 1)^3 cells around each open query's cell.
    void searchBlock(const torch::Tensor& open, std::int64_t radius) {
        auto [cells, inverse, unusedCounts] =
            at::_unique2(m_qCellKey.index_select(0, open), true, true, false);
        const std::int64_t nCells = cells.size(0), ne = m_encKeys.size(0);
        const auto deltas = blockDeltas(radius, m_qXyz.device());
        const std::int64_t block = deltas.size(0);
        std::vector<torch::Tensor> hitCell, hitRow;  // sorted by cell: chunks in order, row-major
        const std::int64_t cellStep = std::max<std::int64_t>(1, kProbesPerStep / block);
        for (std::int64_t s = 0; s < nCells; s += cellStep) {
            const std::int64_t m = std::min(cellStep, nCells - s);
            const auto keys = (cells.slice(0, s, s + m).unsqueeze(1) + deltas.unsqueeze(0));
            const auto pos = torch::searchsorted(m_encKeys, keys.view(-1)).clamp_max(ne - 1);
            const auto hit = (m_encKeys.index_select(0, pos) == keys.view(-1)).view({m, block});
            hitCell.push_back(hit.nonzero().select(1, 0) + s);
            hitRow.push_back(pos.view({m, block}).masked_select(hit));
        }
        const auto cellOfHit = torch::cat(hitCell), rowOfHit = torch::cat(hitRow);
        const auto perCell = torch::bincount(cellOfHit, {}, nCells);
        const auto cellStart = perCell.cumsum(0) - perCell;

        const auto perQuery = perCell.index_select(0, inverse);
        const std::int64_t widest = perQuery.numel() ? perQuery.max().item<std::int64_t>() : 0;
        const std::int64_t step =
            std::max<std::int64_t>(1, kProbesPerStep / std::max<std::int64_t>(widest, 1));
        for (std::int64_t s = 0; s < open.size(0); s += step) {
            const std::int64_t m = std::min(step, open.size(0) - s);
            const auto count = perQuery.slice(0, s, s + m);
            const auto local = torch::arange(m, m_lng).repeat_interleave(count);
            if (local.size(0) == 0) continue;
            const auto first = (count.cumsum(0) - count).index_select(0, local);
            const auto within = torch::arange(local.size(0), m_lng) - first;
            const auto cell = inverse.slice(0, s, s + m).index_select(0, local);
            const auto row = rowOfHit.index_select(0, cellStart.index_select(0, cell) + within);
            const auto idx = open.slice(0, s, s + m);
            const auto diff =
                m_encXyz.index_select(0, row) - m_qXyz.index_select(0, idx.index_select(0, local));
            const auto d = (diff * diff).sum(1);
            auto dmin = torch::full({m}, kNone, m_lng).scatter_reduce(0, local, d, "amin");
            auto rmin =
                torch::full({m}, kNone, m_lng)
                    .scatter_reduce(
                        0, local, row.masked_fill(d != dmin.index_select(0, local), kNone), "amin");
            // A wider block holds every candidate of a narrower one: replace, don't merge.
            m_bestD.index_copy_(0, idx, dmin);
            m_best.index_copy_(0, idx, rmin);
        }
    }

    // An exact scan of the encoder rows of each open query's batch element.
    void scanBatches(const torch::Tensor& open) {
        const auto ranges = m_encoder.manager->batchOffsets(m_encoder.stride);
        const auto openBatch = m_qBatch.index_select(0, open);
        const auto batches = std::get<0>(at::_unique2(openBatch, true, false, false)).cpu();
        for (std::int64_t i = 0; i < batches.size(0); ++i) {
            const std::int64_t b = batches[i].item<std::int64_t>();
            if (b + 1 >= static_cast<std::int64_t>(ranges.size()) || ranges[b] == ranges[b + 1]) {
                throwMissingBatch(b);
            }
            const std::int64_t lo = ranges[b], hi = ranges[b + 1];
            const auto mine = open.masked_select(openBatch == b);
            const auto candidates = m_encXyz.slice(0, lo, hi).unsqueeze(0);
            const auto rows = torch::arange(lo, hi, m_lng).unsqueeze(0);
            const std::int64_t step = std::max<std::int64_t>(1, kProbesPerStep / (hi - lo));
            for (std::int64_t s = 0; s < mine.size(0); s += step) {
                const auto idx = mine.slice(0, s, std::min(s + step, mine.size(0)));
                const auto diff = candidates - m_qXyz.index_select(0, idx).unsqueeze(1);
                const auto d = (diff * diff).sum(2);
                const auto dmin = std::get<0>(d.min(1));
                const auto r = rows.expand_as(d).masked_fill(d != dmin.unsqueeze(1), kNone);
                m_best.index_copy_(0, idx, std::get<0>(r.min(1)));
            }
        }
    }

    const SparseTensor& m_encoder;
    torch::TensorOptions m_lng;
    std::int64_t m_cell;
    torch::Tensor m_encKeys, m_encXyz, m_qBatch, m_qXyz, m_qCellKey, m_bestD, m_best;
};

}  // namespace

torch::Tensor nearestEncoderRows(const SparseTensor& query, const SparseTensor& encoder) {
    if (query.feats.is_cpu() && !portablePath()) return nearestRowsCpuGrid(query, encoder);
    return DeviceSearch(query, encoder).run();
}

}  // namespace lidistill::ml::sparse
