#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"

#include <span>
#include <utility>

namespace lidistill::metrics {

/// The histogram grid of LiDiff's JSD (reference §7.3): `bins` cells per axis over
/// [-range, range]^3, numpy.histogramdd semantics (see NumpyBins).
struct JsdGrid {
    double range = 50.0;    ///< half-width of the cube, metres
    double cellSize = 0.5;  ///< LiDiff's "resolution"; bins = int(2 * range / cellSize)
};

/// Jensen-Shannon distance between the GT and predicted occupancy histograms, as LiDiff's
/// compute_hist_metrics computes it: scipy.spatial.distance.jensenshannon (natural log,
/// square root of the divergence) of the two histograms normalised to sum 1.
///  - bev = true: 3D cells clipped to occupied/empty, then summed over z, giving a
///    per-column count of occupied cells (the "JSD" of ScoreLiDAR/DPO, "JSD BEV" of LiDiff);
///  - bev = false: raw point counts per 3D cell ("JSD 3D").
/// Points outside the cube are dropped; a coordinate equal to +range is in the last cell.
/// Uses sparse cell lists, never the dense 200^3 grid.
/// @throws InvalidArgument if either cloud has no point inside the cube (the distance is
///         undefined; numpy would return NaN).
/// Thread-safety: reentrant.
double jensenShannonDistance(std::span<const Vec3f> pred, std::span<const Vec3f> gt, bool bev,
                             const JsdGrid& grid = {});

/// Both variants at once (shares the binning). first = BEV, second = 3D.
std::pair<double, double> jensenShannonBevAnd3d(std::span<const Vec3f> pred,
                                                std::span<const Vec3f> gt,
                                                const JsdGrid& grid = {});

}  // namespace lidistill::metrics
