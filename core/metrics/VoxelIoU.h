#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"

#include <cstdint>
#include <span>
#include <vector>

namespace lidistill::metrics {

/// Which of LiDiff's two completion-IoU voxelisations to use (reference §7.4).
enum class VoxelIoUDefinition {
    /// LiDiff since June 2025 (e5305f9): metric coordinates histogrammed over [-50, 50]^3
    /// with int(100 / v) bins per axis.
    Current,
    /// LiDiff's paper table, ScoreLiDAR and Distillation-DPO: indices round(p / v) (numpy
    /// round-half-to-even) histogrammed over [-50, 50]^3 *in index units*, which keeps only a
    /// cube of half-width 50 * v metres (issue PRBonn/LiDiff#45).
    Old,
};

/// True/false positive and false negative occupied-voxel counts.
struct VoxelConfusion {
    std::uint64_t tp = 0;  ///< occupied in both
    std::uint64_t fn = 0;  ///< occupied in GT only
    std::uint64_t fp = 0;  ///< occupied in the prediction only

    /// tp / (tp + fn + fp), 0 when all are 0 (LiDiff adds 1e-15 to the denominator).
    double iou() const noexcept;
    /// tp / (tp + fp), 0 when the prediction occupies nothing.
    double precision() const noexcept;
    /// tp / (tp + fn), 0 when the GT occupies nothing.
    double recall() const noexcept;
    VoxelConfusion& operator+=(const VoxelConfusion& o) noexcept {
        tp += o.tp;
        fn += o.fn;
        fp += o.fp;
        return *this;
    }
};

/// The occupied voxels of a cloud as sorted, unique linear keys (a sparse set; at 0.1 m the
/// dense grid would be 10^9 cells). Points outside the histogram range are dropped.
/// @param range the half-width of LiDiff's histogram range (50).
/// @throws InvalidArgument for a non-positive voxel size.
std::vector<std::uint64_t> occupiedVoxels(std::span<const Vec3f> points, double voxelSize,
                                          VoxelIoUDefinition definition, double range = 50.0);

/// Confusion counts of one prediction against its GT at one voxel size.
/// @throws InvalidArgument for a non-positive voxel size. Thread-safety: reentrant.
VoxelConfusion voxelConfusion(std::span<const Vec3f> pred, std::span<const Vec3f> gt,
                              double voxelSize, VoxelIoUDefinition definition);

/// LiDiff's CompletionIoU: counts are summed over a whole sequence, then IoU is taken once.
/// Not thread-safe (plain accumulator); use one per thread and merge with add(other).
class VoxelIoUAccumulator {
public:
    /// @throws InvalidArgument if a voxel size is not positive.
    explicit VoxelIoUAccumulator(std::vector<double> voxelSizes = {0.5, 0.2, 0.1},
                                 VoxelIoUDefinition definition = VoxelIoUDefinition::Current);

    /// Adds one scan at every voxel size.
    void add(std::span<const Vec3f> pred, std::span<const Vec3f> gt);
    /// Adds precomputed counts, one per voxel size in order.
    /// @throws InvalidArgument if the size does not match.
    void add(const std::vector<VoxelConfusion>& perVoxelSize);
    void reset();

    const std::vector<double>& voxelSizes() const noexcept { return m_voxelSizes; }
    VoxelIoUDefinition definition() const noexcept { return m_definition; }
    /// Accumulated counts, one per voxel size.
    const std::vector<VoxelConfusion>& result() const noexcept { return m_counts; }
    /// Accumulated IoU per voxel size (fraction, not percent).
    std::vector<double> iou() const;
    std::size_t scans() const noexcept { return m_scans; }

private:
    std::vector<double> m_voxelSizes;
    VoxelIoUDefinition m_definition;
    std::vector<VoxelConfusion> m_counts;
    std::size_t m_scans = 0;
};

}  // namespace lidistill::metrics
