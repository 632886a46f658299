#pragma once
// SPDX-License-Identifier: MIT

#include <cstdint>
#include <vector>

namespace lidistill::metrics {

/// Equal-width bins over [lo, hi] that assign values exactly as numpy.histogramdd does with
/// `bins=n, range=(lo, hi)`: edges are numpy.linspace(lo, hi, n + 1) (computed as k*step + lo
/// with the last edge set to hi), a value v goes to bin i when edges[i] <= v < edges[i+1],
/// v == hi goes to the last bin, and values below lo, above hi or NaN are dropped.
///
/// Why not floor((v - lo) / width): for widths like 0.2 or 0.1 the linspace edges are not the
/// exact multiples, and points on or next to an edge would land one bin off numpy's.
/// Thread-safety: immutable after construction.
class NumpyBins {
public:
    /// @throws InvalidArgument unless n >= 1 and lo < hi (both finite).
    NumpyBins(double lo, double hi, int n);

    /// Bin of `v` in [0, n), or -1 if numpy would drop it.
    int binOf(double v) const noexcept;
    int count() const noexcept { return m_n; }
    const std::vector<double>& edges() const noexcept { return m_edges; }

private:
    double m_lo;
    double m_hi;
    double m_step;
    int m_n;
    std::vector<double> m_edges;
};

/// Python's `int(2 * max_range / voxel)` as LiDiff computes its bin counts (truncation).
/// @throws InvalidArgument if `voxel` is not positive or the count is not in [1, 2^20].
int binCountFor(double maxRange, double voxel);

}  // namespace lidistill::metrics
