// SPDX-License-Identifier: MIT
//
// The nearest-encoder-voxel lookup of LiDiff's conditioning (lidiff-family.md 3.2), two ways
// with identical results (exact, ties to the lowest encoder row; tested against each other):
//   * the CPU: a KD-tree per batch element (nanoflann), parallel over queries;
//   * every other device (and the CPU under setPortablePath): blocks of cells around each
//     distinct query cell, probed with searchsorted in the encoder's sorted keys, then an exact
//     scan of the batch element for the few queries no block certifies; coordinates never
//     leave the device.
// Encoder rows are unique at their own stride, so a cell of that size holds at most one row.
#include "core/base/Error.h"
#include "core/ml/engine/SparseOps.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <memory>
#include <nanoflann.hpp>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lidistill::ml::sparse {
namespace {

constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();
// Candidates (cell x offset, query x encoder row) per batched step of the device search: bounds
// its temporary memory (about 100 bytes a candidate) independently of the cloud size.
constexpr std::int64_t kProbesPerStep = std::int64_t{1} << 21;


[[noreturn]] void throwMissingBatch(std::int64_t b) {
    throw InvalidArgument("nearest-voxel lookup: batch element " + std::to_string(b) +
                          " has no encoder voxels");
}

// Encoder coordinates of one batch element, for nanoflann (integers, exact in double).
struct EncoderCloud {
    std::vector<std::array<double, 3>> pts;
    std::size_t kdtree_get_point_count() const { return pts.size(); }
    double kdtree_get_pt(std::size_t i, std::size_t d) const { return pts[i][d]; }
    template <class Bbox>
    bool kdtree_get_bbox(Bbox& /*bb*/) const {
        return false;
    }
};
using EncoderTree =
    nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, EncoderCloud>,
                                        EncoderCloud, 3, std::uint32_t>;

// nanoflann result set that keeps the nearest row with ties to the lowest index: squared
// distances are integers, so a worst distance of best + 0.5 lets every equal one in (nanoflann
// adds a point only when strictly below worstDist()) and prunes everything farther.
class LowestNearest {
public:
    explicit LowestNearest(bool highest = false) : m_highest(highest) {}
    void init() {}
    std::size_t size() const { return m_index == kNoRow ? 0 : 1; }
    bool full() const { return m_index != kNoRow; }
    bool addPoint(double d, std::uint32_t i) {
        if (d < m_best || (d == m_best && (m_highest ? i > m_index : i < m_index))) {
            m_best = d;
            m_index = i;
        }
        return true;
    }
    double worstDist() const { return m_index == kNoRow ? m_best : m_best + 0.5; }
    std::uint32_t index() const { return m_index; }

private:
    static constexpr std::uint32_t kNoRow = std::numeric_limits<std::uint32_t>::max();
    bool m_highest = false;
    double m_best = std::numeric_limits<double>::max();
    std::uint32_t m_index = kNoRow;
};

std::atomic<NearestTieRule> g_tieRule{NearestTieRule::Lowest};

// The CPU search: a KD-tree per batch element over its encoder rows, queried in parallel. Its
// cost is logarithmic in the encoder rows however far a query lies from the scan (a ring
// search over cells grows with that distance, which early or random models make large).
torch::Tensor nearestRowsCpuGrid(const SparseTensor& query, const SparseTensor& encoder) {
    const auto q = query.meCoords().to(torch::kCPU).to(torch::kLong).contiguous();
    const auto e = encoder.meCoords().to(torch::kCPU).to(torch::kLong).contiguous();
    const std::int64_t nq = q.size(0), ne = e.size(0);
    const std::int64_t* qp = q.data_ptr<std::int64_t>();
    const std::int64_t* ep = e.data_ptr<std::int64_t>();

    // Encoder rows are sorted by batch: one contiguous range, one tree per batch element.
    struct Batch {
        std::int64_t first = 0;
        EncoderCloud cloud;
        std::unique_ptr<EncoderTree> tree;
    };
    std::map<std::int64_t, Batch> trees;
    for (std::int64_t i = 0; i < ne; ++i) {
        auto& b = trees[ep[4 * i]];
        if (b.cloud.pts.empty()) b.first = i;
        b.cloud.pts.push_back({double(ep[4 * i + 1]), double(ep[4 * i + 2]), double(ep[4 * i + 3])});
    }
    for (auto& [id, b] : trees) {
        b.tree = std::make_unique<EncoderTree>(3, b.cloud,
                                               nanoflann::KDTreeSingleIndexAdaptorParams(16));
        b.tree->buildIndex();
    }
    auto result = torch::empty({nq}, torch::kLong);
    std::int64_t* rp = result.data_ptr<std::int64_t>();
    std::atomic<std::int64_t> missingBatch{-1};
    at::parallel_for(0, nq, 512, [&](std::int64_t begin, std::int64_t end) {
        for (std::int64_t i = begin; i < end; ++i) {
            auto it = trees.find(qp[4 * i]);
            if (it == trees.end()) {
                missingBatch = qp[4 * i];
                rp[i] = -1;
                continue;
            }
            const double pt[3] = {double(qp[4 * i + 1]), double(qp[4 * i + 2]),
                                  double(qp[4 * i + 3])};
            LowestNearest best(g_tieRule == NearestTieRule::Highest);
            it->second.tree->findNeighbors(best, pt, nanoflann::SearchParams());
            rp[i] = it->second.first + best.index();
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

void setNearestTieRule(NearestTieRule rule) {
    g_tieRule = rule;
}

NearestTieRule nearestTieRule() {
    return g_tieRule;
}

torch::Tensor nearestEncoderRows(const SparseTensor& query, const SparseTensor& encoder) {
    if (query.feats.is_cpu() && !portablePath()) return nearestRowsCpuGrid(query, encoder);
    if (g_tieRule != NearestTieRule::Lowest) {
        throw InvalidArgument("the highest-row tie rule is a CPU measurement setting");
    }
    return DeviceSearch(query, encoder).run();
}

}  // namespace lidistill::ml::sparse
