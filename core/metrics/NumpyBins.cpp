// SPDX-License-Identifier: MIT
#include "core/metrics/NumpyBins.h"

#include "core/base/Error.h"

#include <cmath>
#include <string>

namespace lidistill::metrics {

NumpyBins::NumpyBins(double lo, double hi, int n) : m_lo(lo), m_hi(hi), m_n(n) {
    if (n < 1 || !std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi)) {
        throw InvalidArgument(
            "NumpyBins: need n >= 1 and finite lo < hi (got n=" + std::to_string(n) + ").");
    }
    m_step = (hi - lo) / static_cast<double>(n);
    m_edges.resize(static_cast<std::size_t>(n) + 1);
    for (int k = 0; k < n; ++k) {
        // Two roundings, like numpy's `arange * step` followed by `+= start`.
        const double scaled = static_cast<double>(k) * m_step;
        m_edges[static_cast<std::size_t>(k)] = scaled + lo;
    }
    m_edges.back() = hi;
}

int NumpyBins::binOf(double v) const noexcept {
    if (!(v >= m_lo && v <= m_hi)) {  // also rejects NaN
        return -1;
    }
    if (v == m_hi) {
        return m_n - 1;
    }
    // Guess from the width, then correct against the real edges (at most a step or two).
    auto b = static_cast<long>(std::floor((v - m_lo) / m_step));
    if (b < 0) {
        b = 0;
    } else if (b > m_n - 1) {
        b = m_n - 1;
    }
    while (b > 0 && m_edges[static_cast<std::size_t>(b)] > v) {
        --b;
    }
    while (b < m_n - 1 && m_edges[static_cast<std::size_t>(b) + 1] <= v) {
        ++b;
    }
    return static_cast<int>(b);
}

int binCountFor(double maxRange, double voxel) {
    if (!(voxel > 0.0) || !(maxRange > 0.0)) {
        throw InvalidArgument("Voxel size and range must be positive.");
    }
    const double n = std::trunc(2.0 * maxRange / voxel);
    if (!(n >= 1.0 && n <= 1048576.0)) {
        throw InvalidArgument("Voxel size " + std::to_string(voxel) +
                              " gives an unsupported number of bins per axis.");
    }
    return static_cast<int>(n);
}

}  // namespace lidistill::metrics
