// SPDX-License-Identifier: MIT
#include "core/ml/engine/SparseTensor.h"

#include "core/base/Error.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <string>

namespace lidistill::ml::sparse {
namespace {

std::atomic<bool> g_portablePath{false};

// Field layout of a packed key, most significant first: batch 9 bits, x, y, z 18 bits each,
// every coordinate offset by kBias so that it is non-negative. Lexicographic (b, x, y, z)
// order equals integer order of the keys.
constexpr std::int64_t kBits = 18;
constexpr std::int64_t kBias = std::int64_t{1} << 17;
constexpr std::int64_t kMask = (std::int64_t{1} << kBits) - 1;
constexpr std::int64_t kShiftX = 2 * kBits;
constexpr std::int64_t kShiftB = 3 * kBits;

// Sort, then drop repeats: libtorch 1.13's CPU unique (at::_unique2) goes through a hash set and
// took 657 ms for 360k keys (LiDiff's two guidance passes of 180k points, every step) where
// this takes 81 ms; 6.8 vs 2.2 ms at the lite scale (bench_ml_sparse prints both). Same
// values, inverse and counts (tested).
struct Unique {
    torch::Tensor values, inverse, counts;
};
Unique sortedUniqueWithInverse(const torch::Tensor& keys) {
    const auto [sorted, perm] = torch::sort(keys);
    auto [values, inverseSorted, counts] = at::unique_consecutive(sorted, true, true);
    auto inverse = torch::empty_like(inverseSorted).index_copy_(0, perm, inverseSorted);
    return {values, inverse, counts};
}
torch::Tensor sortedUnique(const torch::Tensor& keys) {
    return std::get<0>(at::unique_consecutive(std::get<0>(torch::sort(keys))));
}

// The map of `copies` side-by-side copies of a cloud: per kernel offset, the source's pairs of
// copy 0, then those of copy 1 shifted by the source's row counts, and so on. Output rows stay
// ascending within an offset, as every map's are.
KernelMapPtr replicateMap(const KernelMap& src, std::int64_t copies) {
    auto map = std::make_shared<KernelMap>();
    const std::int64_t kVol = src.kernelVolume;
    std::vector<torch::Tensor> ins, outs;
    ins.reserve(static_cast<std::size_t>(kVol * copies));
    outs.reserve(ins.capacity());
    map->offsets.assign(1, 0);
    for (std::int64_t k = 0; k < kVol; ++k) {
        const auto in = src.inOf(k), out = src.outOf(k);
        for (std::int64_t c = 0; c < copies; ++c) {
            ins.push_back(c == 0 ? in : in + c * src.nIn);
            outs.push_back(c == 0 ? out : out + c * src.nOut);
        }
        map->offsets.push_back(map->offsets.back() + copies * in.size(0));
    }
    map->inIdx = torch::cat(ins);
    map->outIdx = torch::cat(outs);
    map->nIn = src.nIn * copies;
    map->nOut = src.nOut * copies;
    map->kernelVolume = kVol;
    map->identityOffset = src.identityOffset;
    return map;
}

}  // namespace

void setPortablePath(bool on) {
    g_portablePath.store(on);
}
bool portablePath() {
    return g_portablePath.load();
}

torch::Tensor packKeys(const torch::Tensor& coords) {
    if (coords.dim() != 2 || coords.size(1) != 4) {
        throw InvalidArgument("sparse coordinates must be an [N, 4] tensor (batch, x, y, z)");
    }
    if (coords.is_floating_point()) {
        throw InvalidArgument("sparse coordinates must be integers");
    }
    const auto c = coords.to(torch::kLong);
    if (c.size(0) > 0) {
        const auto b = c.select(1, 0);
        const auto xyz = c.slice(1, 1, 4);
        if (b.min().item<std::int64_t>() < 0 || b.max().item<std::int64_t>() >= kMaxBatch) {
            throw InvalidArgument("batch index outside [0, " + std::to_string(kMaxBatch) + ")");
        }
        if (xyz.abs().max().item<std::int64_t>() > kCoordLimit) {
            throw InvalidArgument("voxel coordinate beyond +-" + std::to_string(kCoordLimit) +
                                  " voxels (cloud too large for the voxel size?)");
        }
    }
    return c.select(1, 0) * (std::int64_t{1} << kShiftB) +
           (c.select(1, 1) + kBias) * (std::int64_t{1} << kShiftX) +
           (c.select(1, 2) + kBias) * (std::int64_t{1} << kBits) + (c.select(1, 3) + kBias);
}

torch::Tensor unpackKeys(const torch::Tensor& keys) {
    auto b = torch::div(keys, std::int64_t{1} << kShiftB, "floor");
    auto x =
        torch::remainder(torch::div(keys, std::int64_t{1} << kShiftX, "floor"), kMask + 1) - kBias;
    auto y =
        torch::remainder(torch::div(keys, std::int64_t{1} << kBits, "floor"), kMask + 1) - kBias;
    auto z = torch::remainder(keys, kMask + 1) - kBias;
    return torch::stack({b, x, y, z}, 1).to(torch::kInt);
}

std::int64_t keyDelta(std::int64_t dx, std::int64_t dy, std::int64_t dz) {
    return dx * (std::int64_t{1} << kShiftX) + dy * (std::int64_t{1} << kBits) + dz;
}

std::pair<std::shared_ptr<CoordinateManager>, torch::Tensor> CoordinateManager::fromCoords(
    const torch::Tensor& coords) {
    auto keys = packKeys(coords);
    auto [sorted, order] = torch::sort(keys);
    if (sorted.size(0) > 1 && (sorted.slice(0, 1) == sorted.slice(0, 0, -1)).any().item<bool>()) {
        throw InvalidArgument("duplicate voxel coordinates (quantise with pointsToVoxels first)");
    }
    auto mgr = std::make_shared<CoordinateManager>();
    mgr->m_device = coords.device();
    mgr->m_levels[1] = Level{sorted, coords.index_select(0, order).to(torch::kInt).contiguous()};
    mgr->m_batchSize = sorted.size(0) == 0 ? 0 : coords.select(1, 0).max().item<std::int64_t>() + 1;
    return {mgr, order};
}

std::shared_ptr<CoordinateManager> CoordinateManager::replicated(
    std::shared_ptr<CoordinateManager> source, std::int64_t copies) {
    if (!source || copies < 1 ||
        copies * std::max<std::int64_t>(source->batchSize(), 1) > kMaxBatch) {
        throw InvalidArgument("replicated coordinates: " + std::to_string(copies) +
                              " copies do not fit the batch index");
    }
    auto mgr = std::make_shared<CoordinateManager>();
    mgr->m_device = source->m_device;
    mgr->m_batchSize = source->m_batchSize * copies;
    mgr->m_copies = copies;
    mgr->m_source = std::move(source);
    return mgr;
}

const CoordinateManager::Level& CoordinateManager::level(std::int64_t stride) {
    if (auto it = m_levels.find(stride); it != m_levels.end()) {
        return it->second;
    }
    if (m_source) {
        // Copy c's keys are the source's plus c * batchSize in the batch field: still sorted.
        const auto keys = m_source->keys(stride), coords = m_source->coords(stride);
        std::vector<torch::Tensor> k, c;
        for (std::int64_t i = 0; i < m_copies; ++i) {
            const std::int64_t shift = i * m_source->m_batchSize;
            k.push_back(keys + shift * (std::int64_t{1} << kShiftB));
            auto ci = coords.clone();
            ci.select(1, 0).add_(static_cast<int>(shift));
            c.push_back(ci);
        }
        return m_levels[stride] = Level{torch::cat(k), torch::cat(c)};
    }
    if (stride < 2 || (stride & (stride - 1)) != 0) {
        throw InvalidArgument("tensor stride must be a power of two, got " +
                              std::to_string(stride));
    }
    const Level& fine = level(stride / 2);
    auto c = fine.coords.to(torch::kLong);
    auto coarse = torch::cat({c.slice(1, 0, 1), torch::div(c.slice(1, 1, 4), 2, "floor")}, 1);
    auto keys = sortedUnique(packKeys(coarse));
    return m_levels[stride] = Level{keys, unpackKeys(keys).contiguous()};
}

torch::Tensor CoordinateManager::coords(std::int64_t stride) {
    std::lock_guard lock(m_mutex);
    return level(stride).coords;
}

torch::Tensor CoordinateManager::keys(std::int64_t stride) {
    std::lock_guard lock(m_mutex);
    return level(stride).keys;
}

std::vector<std::int64_t> CoordinateManager::batchOffsets(std::int64_t stride) {
    auto k = keys(stride);
    auto b = torch::div(k, std::int64_t{1} << kShiftB, "floor");
    auto counts = torch::bincount(b, {}, m_batchSize).cumsum(0).cpu();
    std::vector<std::int64_t> out{0};
    for (std::int64_t i = 0; i < counts.size(0); ++i) {
        out.push_back(counts[i].item<std::int64_t>());
    }
    return out;
}

KernelMapPtr CoordinateManager::submanifoldMap(std::int64_t stride, std::int64_t kernelSize,
                                               std::int64_t dilation, bool forceGeneric) {
    if (kernelSize < 1 || kernelSize % 2 == 0 || kernelSize > 7) {
        throw InvalidArgument("submanifold kernels must be odd and at most 7");
    }
    if (dilation < 1 || dilation * (kernelSize / 2) > kMaxDilation) {
        throw InvalidArgument("dilation out of range for the packed keys");
    }
    forceGeneric = forceGeneric || portablePath();
    std::lock_guard lock(m_mutex);
    const auto key = std::make_tuple(stride, kernelSize, dilation, forceGeneric ? 2 : 0);
    if (auto it = m_maps.find(key); it != m_maps.end()) {
        return it->second;
    }
    auto map = m_source ? replicateMap(
                              *m_source->submanifoldMap(stride, kernelSize, dilation, forceGeneric),
                              m_copies)
                        : buildSubmanifold(level(stride), kernelSize, dilation, forceGeneric);
    m_maps[key] = map;
    return map;
}

KernelMapPtr CoordinateManager::buildSubmanifold(const Level& lv, std::int64_t ks,
                                                 std::int64_t dilation, bool forceGeneric) const {
    const std::int64_t kVol = ks * ks * ks;
    const std::int64_t n = lv.keys.size(0);
    std::vector<std::int64_t> deltas(kVol);
    for (std::int64_t k = 0; k < kVol; ++k) {
        const std::int64_t ix = k % ks, iy = (k / ks) % ks, iz = k / (ks * ks);
        deltas[k] =
            keyDelta((ix - ks / 2) * dilation, (iy - ks / 2) * dilation, (iz - ks / 2) * dilation);
    }
    auto map = std::make_shared<KernelMap>();
    map->offsets.assign(1, 0);
    if (lv.keys.is_cpu() && !forceGeneric) {
        std::vector<torch::Tensor> ins(kVol), outs(kVol);
        // Keys are sorted and a shift adds a constant, so the shifted array is sorted too: one
        // linear merge per offset finds every match exactly, with no hashing.
        const auto keys = lv.keys.contiguous();
        const std::int64_t* kp = keys.data_ptr<std::int64_t>();
        at::parallel_for(0, kVol, 1, [&](std::int64_t begin, std::int64_t end) {
            for (std::int64_t k = begin; k < end; ++k) {
                std::vector<std::int64_t> in, out;
                in.reserve(n / 4);
                out.reserve(n / 4);
                std::int64_t j = 0;
                for (std::int64_t i = 0; i < n; ++i) {
                    const std::int64_t target = kp[i] + deltas[k];
                    while (j < n && kp[j] < target) ++j;
                    if (j == n) break;
                    if (kp[j] == target) {
                        in.push_back(j);
                        out.push_back(i);
                    }
                }
                ins[k] = torch::tensor(in, torch::kLong);
                outs[k] = torch::tensor(out, torch::kLong);
            }
        });
        for (std::int64_t k = 0; k < kVol; ++k) {
            map->offsets.push_back(map->offsets.back() + ins[k].size(0));
        }
        map->inIdx = torch::cat(ins);
        map->outIdx = torch::cat(outs);
    } else {
        // Device-agnostic path (CUDA): binary search of every shifted key, all offsets at once
        // ([K, N] keys), so the only host syncs are nonzero's size and the per-offset counts.
        // nonzero lists (k, row) in row-major order: grouped by offset, output rows ascending.
        const auto keys = lv.keys.contiguous();
        const auto shifted = keys.unsqueeze(0) + torch::tensor(deltas, keys.options()).unsqueeze(1);
        const auto pos =
            torch::searchsorted(keys, shifted).clamp_max(std::max<std::int64_t>(n - 1, 0)).view(-1);
        const auto hit = n > 0 ? (keys.index_select(0, pos).view({kVol, n}) == shifted)
                               : torch::zeros({kVol, 0}, keys.options().dtype(torch::kBool));
        const auto pairs = torch::nonzero(hit);
        const auto kCol = pairs.select(1, 0);
        map->outIdx = pairs.select(1, 1).contiguous();
        map->inIdx = pos.index_select(0, kCol * n + map->outIdx);
        const auto counts = torch::bincount(kCol, {}, kVol).cumsum(0).cpu();
        const std::int64_t* cp = counts.data_ptr<std::int64_t>();
        map->offsets.insert(map->offsets.end(), cp, cp + kVol);
    }
    map->nIn = n;
    map->nOut = n;
    map->kernelVolume = kVol;
    map->identityOffset = (kVol - 1) / 2;
    return map;
}

KernelMapPtr CoordinateManager::downsampleMap(std::int64_t stride) {
    std::lock_guard lock(m_mutex);
    const auto key = std::make_tuple(stride, std::int64_t{2}, std::int64_t{2}, 1);
    if (auto it = m_maps.find(key); it != m_maps.end()) {
        return it->second;
    }
    if (m_source) {
        return m_maps[key] = replicateMap(*m_source->downsampleMap(stride), m_copies);
    }
    const Level& fine = level(stride);
    const Level& coarse = level(stride * 2);
    // Each fine voxel has exactly one parent (floor of its coordinate / 2) and its kernel index
    // is given by its low bits: the map is a partition of the fine rows, no lookups needed.
    auto c = fine.coords.to(torch::kLong);
    auto xyz = c.slice(1, 1, 4);
    auto parent = torch::cat({c.slice(1, 0, 1), torch::div(xyz, 2, "floor")}, 1);
    auto outRow = torch::searchsorted(coarse.keys, packKeys(parent));
    auto bits = torch::remainder(xyz, 2);
    auto k = bits.select(1, 0) + 2 * (bits.select(1, 1) + 2 * bits.select(1, 2));
    const std::int64_t nOut = coarse.keys.size(0);
    auto order = std::get<1>(torch::sort(k * std::max<std::int64_t>(nOut, 1) + outRow));
    auto map = std::make_shared<KernelMap>();
    map->inIdx = order;
    map->outIdx = outRow.index_select(0, order);
    auto counts = torch::bincount(k, {}, 8).cumsum(0).cpu();
    map->offsets.assign(1, 0);
    for (std::int64_t i = 0; i < 8; ++i) {
        map->offsets.push_back(counts[i].item<std::int64_t>());
    }
    map->nIn = fine.keys.size(0);
    map->nOut = nOut;
    map->kernelVolume = 8;
    m_maps[key] = map;
    return map;
}

torch::Tensor SparseTensor::meCoords() const {
    auto c = coords().clone();
    c.slice(1, 1, 4).mul_(static_cast<int>(stride));
    return c;
}

TensorField pointsToVoxels(const torch::Tensor& xyz, const torch::Tensor& batch,
                           const torch::Tensor& pointFeats, double voxelSize) {
    if (xyz.dim() != 2 || xyz.size(1) != 3 || !xyz.is_floating_point()) {
        throw InvalidArgument("points must be a floating-point [P, 3] tensor");
    }
    if (batch.dim() != 1 || batch.size(0) != xyz.size(0) || pointFeats.size(0) != xyz.size(0)) {
        throw InvalidArgument("batch index and point features must have one row per point");
    }
    if (batch.device() != xyz.device() || pointFeats.device() != xyz.device()) {
        throw InvalidArgument("points, batch index and point features must be on one device");
    }
    if (!(voxelSize > 0.0)) {
        throw InvalidArgument("voxel size must be positive");
    }
    // Same arithmetic as LiDiff: torch.round(x / res) in the points' own precision.
    auto q = torch::round(xyz / voxelSize);
    if (xyz.size(0) > 0) {
        if (!torch::isfinite(q).all().item<bool>()) {
            throw InvalidArgument("points contain NaN or infinite coordinates");
        }
        if (q.abs().max().item<double>() > static_cast<double>(kCoordLimit)) {
            throw InvalidArgument("points lie too far from the origin for the voxel size");
        }
    }
    auto coords = torch::cat({batch.to(torch::kLong).unsqueeze(1), q.to(torch::kLong)}, 1);
    auto [uniq, inverse, counts] = sortedUniqueWithInverse(packKeys(coords));
    auto [mgr, order] = CoordinateManager::fromCoords(unpackKeys(uniq));
    (void)order;  // unique keys are already sorted: order is the identity
    auto sums = torch::zeros({uniq.size(0), pointFeats.size(1)}, pointFeats.options())
                    .index_add(0, inverse, pointFeats);
    auto mean = sums / counts.to(pointFeats.scalar_type()).unsqueeze(1);
    return TensorField{SparseTensor{mean, mgr, 1}, inverse, counts};
}

TensorField replicateField(const TensorField& field, std::int64_t copies) {
    if (field.voxels.stride != 1) {
        throw InvalidArgument("replicateField needs the stride-1 voxels of a point field");
    }
    auto mgr = CoordinateManager::replicated(field.voxels.manager, copies);
    const std::int64_t nVox = field.voxels.rows();
    std::vector<torch::Tensor> rows;
    for (std::int64_t c = 0; c < copies; ++c) rows.push_back(field.pointToVoxel + c * nVox);
    return TensorField{SparseTensor{field.voxels.feats.repeat({copies, 1}), mgr, 1},
                       torch::cat(rows), field.voxelCounts.repeat({copies})};
}

torch::Tensor voxelsToPoints(const SparseTensor& voxels, const TensorField& field) {
    if (voxels.manager != field.voxels.manager || voxels.stride != 1) {
        throw InvalidArgument("voxelsToPoints needs stride-1 voxels of the field's own cloud");
    }
    return voxels.feats.index_select(0, field.pointToVoxel);
}

}  // namespace lidistill::ml::sparse
