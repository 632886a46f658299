#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"

#include <cstddef>
#include <string>
#include <vector>

namespace lidistill::synth {

/// Figures that describe how a LiDAR scan looks, for comparing synthetic with real scans.
/// Rings are recovered from the point order (a new ring starts where the azimuth crosses
/// from negative to positive, as in KITTI files), so the same code measures both.
struct ScanStats {
    double points = 0;
    double rings = 0;                     ///< rings found in the point order
    std::vector<double> pointsPerRing;    ///< ring 0 = first in the file (top beam)
    double groundFraction = -1;           ///< share of ground classes; -1 without labels
    std::vector<double> rangeHistogram;   ///< share of points per kRangeEdges bin
    std::vector<double> heightHistogram;  ///< share of points per kHeightEdges bin (sensor z)
    double medianRange = 0;
    double meanIntensity = 0;

    /// Bin edges: range in metres, height (z in the sensor frame) in metres.
    static const std::vector<double>& rangeEdges();
    static const std::vector<double>& heightEdges();
};

/// Measures one scan. Thread-safe.
ScanStats computeScanStats(const PointCloud& scan);
/// Element-wise mean of several scans' figures (rings padded with zeros).
ScanStats averageStats(const std::vector<ScanStats>& stats);

/// Jensen-Shannon divergence (natural log, 0..ln 2) between two histograms of equal length;
/// each is normalised first. Used to bound range and height distribution differences.
double jensenShannon(const std::vector<double>& p, const std::vector<double>& q);

/// A Markdown table comparing `columns` side by side (one column per named stats set).
std::string formatStatsTable(const std::vector<std::string>& names,
                             const std::vector<ScanStats>& columns);

}  // namespace lidistill::synth
