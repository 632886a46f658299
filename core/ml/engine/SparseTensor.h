#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml (includes torch): the sparse tensor, its coordinate
// manager and the kernel maps. Public code outside core/ml uses core/ml/Model.h instead.
//
// Conventions (MinkowskiEngine 0.5.4, reference sparse-conv.md 1.4 / lidiff-family.md 4.2):
//   * a voxel is (batch, x, y, z); coordinates are stored "compact" at each tensor stride s,
//     i.e. floor(c / s) of the stride-1 coordinate (floor, not C++ truncation);
//     ME units (what LiDiff reads as x.C) are compact * s, see SparseTensor::meCoords();
//   * rows of every level are sorted by the packed key (batch, x, y, z) lexicographically,
//     so rows are grouped by ascending batch and results never depend on hash order;
//   * kernel index k = ix + ks * (iy + ks * iz) (x fastest); odd kernels are centred, the
//     2x2x2 stride-2 kernel covers {0, s}^3 of the fine level.

#include <torch/torch.h>
#include <torch/version.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

// libtorch versions: the engine builds against Debian's libtorch 1.13 (dev box, CI) and a
// current PyTorch's libtorch 2.x (GPU servers). It therefore sticks to API that is identical in
// both (reviewed against 2.x headers): Tensor ops and at::_unique2 / searchsorted / bincount /
// nonzero with positional defaults only (no side= / sorter= / optional-typed arguments spelled
// out, so c10::optional vs std::optional never matters), torch::div with a rounding-mode string
// literal, data_ptr<T>() with non-const T only (data_ptr<const T> is deprecated in 2.x),
// torch::autograd::Function with forward(AutogradContext*, ...) / backward(ctx, variable_list)
// and non-tensor state in ctx->saved_data, AT_DISPATCH_FLOATING_TYPES, TORCH_MODULE. No
// TORCH_VERSION_MAJOR branches are needed so far; add them here if an API has to diverge.
static_assert(TORCH_VERSION_MAJOR > 1 || (TORCH_VERSION_MAJOR == 1 && TORCH_VERSION_MINOR >= 13),
              "lidistill_ml needs libtorch 1.13 or newer");

namespace lidistill::ml::sparse {

/// Coordinate bounds accepted by the packed keys: |x|, |y|, |z| <= kCoordLimit (in stride-1
/// voxels; at 5 cm that is +-6.5 km) and 0 <= batch < kMaxBatch. The 64 spare values per axis
/// below the 18-bit field limit absorb kernel shifts, so a shifted key never carries into the
/// next field (which would silently match a wrong voxel).
inline constexpr std::int64_t kCoordLimit = (1 << 17) - 64;
inline constexpr std::int64_t kMaxBatch = 512;
/// Largest dilation accepted by submanifold maps (bounded by the guard values above).
inline constexpr std::int64_t kMaxDilation = 16;

/// Test hook: when on, CPU tensors take the code path that every other device takes
/// (searchsorted kernel maps, libtorch's index_add_ scatter) instead of the CPU-only merge maps
/// and row-scatter loop, so that CI, which has no GPU, runs the device-agnostic logic. Both paths
/// give identical maps and results (tested). Process-wide, off by default; maps that a manager
/// already cached keep the path they were built with. Thread-safe (atomic flag).
void setPortablePath(bool on);
/// Whether setPortablePath(true) is in force.
bool portablePath();

/// Packs compact coordinates int32 [N, 4] (b, x, y, z) into exact, order-preserving int64 keys.
/// @throws InvalidArgument if a coordinate or batch index is out of range.
torch::Tensor packKeys(const torch::Tensor& coords);
/// Inverse of packKeys. @return int32 [N, 4].
torch::Tensor unpackKeys(const torch::Tensor& keys);
/// Key difference of a shift (dx, dy, dz): packed keys are linear in each coordinate.
std::int64_t keyDelta(std::int64_t dx, std::int64_t dy, std::int64_t dz);

/// Pair lists of one convolution, grouped by kernel offset: for offset k the pairs are
/// rows [offsets[k], offsets[k+1]) of inIdx / outIdx (int64, on the coordinates' device),
/// sorted by output row within each offset (fixed order = deterministic weight gradients).
struct KernelMap {
    torch::Tensor inIdx;
    torch::Tensor outIdx;
    std::vector<std::int64_t> offsets;  ///< K + 1 entries, host side
    std::int64_t nIn = 0;
    std::int64_t nOut = 0;
    std::int64_t kernelVolume = 0;
    /// Submanifold maps whose centre offset is the identity (skip its gather/scatter).
    std::int64_t identityOffset = -1;

    std::int64_t pairs() const { return offsets.empty() ? 0 : offsets.back(); }
    torch::Tensor inOf(std::int64_t k) const { return inIdx.slice(0, offsets[k], offsets[k + 1]); }
    torch::Tensor outOf(std::int64_t k) const {
        return outIdx.slice(0, offsets[k], offsets[k + 1]);
    }
};
using KernelMapPtr = std::shared_ptr<const KernelMap>;

/// Owns the coordinates of one input cloud at every tensor stride and caches the kernel maps
/// built on them. Shared (shared_ptr) by every SparseTensor derived from that input, freed with
/// the last of them. Thread-safe: lazy building is serialised by a mutex.
class CoordinateManager {
public:
    /// @param coords int32 [N, 4] (b, x, y, z) at stride 1; duplicates are an error.
    /// @throws InvalidArgument on wrong shape/dtype, out-of-range or duplicate coordinates.
    /// @return the manager and the permutation `order` (int64 [N]) such that level-1 row i is
    ///         input row order[i] (rows are re-sorted by key).
    static std::pair<std::shared_ptr<CoordinateManager>, torch::Tensor> fromCoords(
        const torch::Tensor& coords);

    /// Compact coordinates int32 [N, 4] at tensor stride `stride` (a power of two), built on
    /// demand from the next finer stride by floor division.
    torch::Tensor coords(std::int64_t stride);
    /// Sorted packed keys (int64 [N]) at `stride`.
    torch::Tensor keys(std::int64_t stride);
    std::int64_t size(std::int64_t stride) { return keys(stride).size(0); }
    /// Row ranges per batch element at `stride`: int64 [B + 1] (host), B = max batch + 1.
    std::vector<std::int64_t> batchOffsets(std::int64_t stride);

    /// 3^3 (or ks^3, ks odd) submanifold map at `stride` with `dilation`; output = input rows.
    /// The CPU builds it by a merge of sorted key arrays, other devices by one batched
    /// searchsorted over all offsets (two host syncs per map); both give identical maps
    /// (tested). `forceGeneric` (or portablePath()) selects the searchsorted path on CPU.
    KernelMapPtr submanifoldMap(std::int64_t stride, std::int64_t kernelSize = 3,
                                std::int64_t dilation = 1, bool forceGeneric = false);
    /// 2x2x2 stride-2 map from `stride` (in) to 2 * stride (out). Transposed convolutions use
    /// the same map with the roles of inIdx/outIdx swapped.
    KernelMapPtr downsampleMap(std::int64_t stride);

    /// `copies` copies of `source`'s cloud in one manager: element b of copy c is batch
    /// element c * source->batchSize() + b. Its levels and kernel maps are the source's with
    /// rows shifted by one copy's row count, derived on demand from (and cached in) the source:
    /// identical to those of a manager built from the repeated coordinates (tested), for the
    /// price of copies instead of searches. Classifier-free guidance runs its conditional and
    /// unconditional passes of one x so.
    /// @throws InvalidArgument if copies < 1 or the batch index would exceed kMaxBatch.
    static std::shared_ptr<CoordinateManager> replicated(std::shared_ptr<CoordinateManager> source,
                                                         std::int64_t copies);

    torch::Device device() const { return m_device; }
    std::int64_t batchSize() const { return m_batchSize; }

private:
    struct Level {
        torch::Tensor keys;    // int64 [N], sorted, unique
        torch::Tensor coords;  // int32 [N, 4] compact
    };
    const Level& level(std::int64_t stride);  // m_mutex held
    KernelMapPtr buildSubmanifold(const Level& lv, std::int64_t ks, std::int64_t dilation,
                                  bool forceGeneric) const;

    std::mutex m_mutex;
    std::map<std::int64_t, Level> m_levels;
    std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, int>, KernelMapPtr> m_maps;
    torch::Device m_device{torch::kCPU};
    std::int64_t m_batchSize = 0;
    std::shared_ptr<CoordinateManager> m_source;  // set by replicated(): levels/maps derive
    std::int64_t m_copies = 1;
};
using CoordinateManagerPtr = std::shared_ptr<CoordinateManager>;

/// Features on the rows of one stride level of a CoordinateManager.
struct SparseTensor {
    torch::Tensor feats;  ///< [N, C], rows in the level's key order
    CoordinateManagerPtr manager;
    std::int64_t stride = 1;

    std::int64_t rows() const { return feats.size(0); }
    std::int64_t channels() const { return feats.size(1); }
    /// Compact coordinates int32 [N, 4].
    torch::Tensor coords() const { return manager->coords(stride); }
    /// MinkowskiEngine units (compact * stride, batch unchanged), int32 [N, 4].
    torch::Tensor meCoords() const;
    /// Same coordinates, new features (must have rows() rows).
    SparseTensor withFeats(torch::Tensor f) const {
        return SparseTensor{std::move(f), manager, stride};
    }
};

/// Points quantised to voxels (ME TensorField + sparse()): the voxel tensor and the inverse
/// map point -> voxel row, kept to send voxel features back to the points (slice()).
struct TensorField {
    SparseTensor voxels;         ///< stride 1; features = mean of the point features per voxel
    torch::Tensor pointToVoxel;  ///< int64 [P]
    torch::Tensor voxelCounts;   ///< int64 [N]
};

/// LiDiff's quantisation: coordinates round(xyz / voxelSize) (torch.round: half to even),
/// unweighted average of `pointFeats` per voxel (differentiable w.r.t. pointFeats).
/// @param xyz float [P, 3] metres; @param batch int64 [P] batch index per point (>= 0);
/// @param pointFeats [P, C] (LiDiff passes xyz itself).
/// @throws InvalidArgument on non-finite or out-of-range coordinates or shape mismatches.
TensorField pointsToVoxels(const torch::Tensor& xyz, const torch::Tensor& batch,
                           const torch::Tensor& pointFeats, double voxelSize);

/// The field of `field`'s points repeated `copies` times, copy c as batch elements shifted by
/// c * batchSize() (CoordinateManager::replicated): equal, voxel for voxel and map for map, to
/// pointsToVoxels of the repeated points, without quantising, sorting or searching them again.
/// @throws InvalidArgument if `field` is not at stride 1 or copies is out of range.
TensorField replicateField(const TensorField& field, std::int64_t copies);

/// ME's slice(): every point gets the features of its voxel. Differentiable.
torch::Tensor voxelsToPoints(const SparseTensor& voxels, const TensorField& field);

}  // namespace lidistill::ml::sparse
