#pragma once
// SPDX-License-Identifier: MIT

#include <span>
#include <vector>

namespace lidistill::metrics {

/// numpy.linspace(lo, hi, n) exactly as numpy computes it (k * step + lo, last = hi).
/// @throws InvalidArgument if n < 2.
std::vector<double> linspace(double lo, double hi, int n);

/// LiDiff's thresholds: linspace(0.05, 0.10, 100) metres.
std::vector<double> defaultThresholds();

/// Precision, recall and F-score (all in percent) at each distance threshold.
struct PrecisionRecallCurve {
    std::vector<double> thresholds;
    std::vector<double> precision;  ///< 100 * share of predicted points with NN distance < t
    std::vector<double> recall;     ///< 100 * share of GT points with NN distance < t
    std::vector<double> fscore;     ///< 2PR / (P + R), or 0 when P or R is 0
};

/// One scan's curve from its nearest-neighbour distances (strict `<`, as LiDiff).
/// @param predToGt per predicted point, distance to the nearest GT point
/// @param gtToPred per GT point, distance to the nearest predicted point
/// @throws InvalidArgument if either distance list is empty.
PrecisionRecallCurve precisionRecall(std::span<const double> predToGt,
                                     std::span<const double> gtToPred,
                                     const std::vector<double>& thresholds = defaultThresholds());

/// How scipy.integrate.simpson treats an even number of samples (an odd number of intervals).
enum class SimpsonRule {
    /// SciPy >= 1.11 default (even='simpson'): Simpson on the first N-2 intervals and
    /// Cartwright's three-point correction for the last one. Exact for quadratics.
    Cartwright,
    /// SciPy <= 1.10 default (even='avg'): the average of "Simpson on the first N-2
    /// intervals + trapezoid on the last" and "trapezoid on the first + Simpson on the rest".
    /// Debian 12's python3-scipy 1.10.1 uses this.
    Average,
};

/// scipy.integrate.simpson(y, dx=dx) with the given even-N rule (uniform spacing only).
/// N = 1 gives 0, N = 2 the trapezoid (as SciPy).
/// @throws InvalidArgument if y is empty.
double simpson(std::span<const double> y, double dx, SimpsonRule rule = SimpsonRule::Cartwright);

/// Normalised areas under the mean curves: simpson(y) / simpson(ones), in percent.
struct PrecisionRecallAuc {
    double precision = 0.0;
    double recall = 0.0;
    double fscore = 0.0;
};

/// LiDiff's PrecisionRecall: per-threshold values are averaged over scans, then integrated.
/// Not thread-safe (plain accumulator).
class PrecisionRecallAccumulator {
public:
    /// @throws InvalidArgument if fewer than 2 thresholds.
    explicit PrecisionRecallAccumulator(std::vector<double> thresholds = defaultThresholds());

    /// Adds one scan's curve. @throws InvalidArgument if its thresholds differ.
    void add(const PrecisionRecallCurve& curve);
    /// Adds one scan from its distances.
    void add(std::span<const double> predToGt, std::span<const double> gtToPred);
    void reset();

    std::size_t scans() const noexcept { return m_scans; }
    const std::vector<double>& thresholds() const noexcept { return m_thresholds; }
    /// Mean over the added scans at each threshold (zeros if none were added).
    PrecisionRecallCurve meanCurve() const;
    /// The AUC LiDiff prints, with dx = thresholds[1] - thresholds[0].
    /// @throws InvalidArgument if no scan was added.
    PrecisionRecallAuc auc(SimpsonRule rule = SimpsonRule::Cartwright) const;

private:
    std::vector<double> m_thresholds;
    std::vector<double> m_sumP;
    std::vector<double> m_sumR;
    std::vector<double> m_sumF;
    std::size_t m_scans = 0;
};

}  // namespace lidistill::metrics
