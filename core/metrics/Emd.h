#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"
#include "core/base/Progress.h"

#include <optional>
#include <span>

namespace lidistill::metrics {

/// Parameters of Distillation-DPO's voxelised Sinkhorn EMD (utils/EMD.py, reference §7.7).
/// The defaults are the ones its evaluation uses.
struct EmdOptions {
    double voxelSize = 0.5;          ///< voxels floor(p / v), centres (idx + 0.5) * v, metres
    double epsilon = 0.001;          ///< entropic regularisation: K = exp(-C / epsilon) + floor
    double kernelFloor = 1e-9;       ///< the constant DPO adds to every kernel entry
    int maxIterations = 3000;        ///< Sinkhorn iterations at most
    double tolerance = 1e-4;         ///< stop when the L1 change of u falls below this
    std::size_t maxVoxels = 130000;  ///< skip (nullopt) above this many voxels in both clouds
};

/// Distillation-DPO's EMD between two clouds: voxel histograms (weights count / total),
/// Sinkhorn-Knopp in float64, EMD = sum(u v^T o K o C).
///
/// Exact to rounding without the dense n1 x n2 matrices DPO builds: K is the constant floor
/// plus exp(-C / epsilon), and the exponential only exceeds the floor's rounding for centres
/// closer than about 62 * epsilon, so K v is floor * sum(v) plus a sparse neighbour sum.
/// The final sum over all pairs is still O(n1 * n2) distance evaluations (parallel), which
/// is why this metric is opt-in.
///
/// @param progress may be null; polled for cancellation every few iterations.
/// @return nullopt when the two clouds together occupy more than maxVoxels voxels.
/// @throws InvalidArgument if a cloud is empty or not finite, or the options are invalid
///         (epsilon so large that the neighbour search would exceed 16 voxels);
///         Cancelled if `progress` asks to stop.
/// Thread-safety: reentrant.
std::optional<double> sinkhornEmd(std::span<const Vec3f> pred, std::span<const Vec3f> gt,
                                  const EmdOptions& options = {}, ProgressSink* progress = nullptr);

}  // namespace lidistill::metrics
