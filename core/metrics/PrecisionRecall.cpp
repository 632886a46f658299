// SPDX-License-Identifier: MIT
#include "core/metrics/PrecisionRecall.h"

#include "core/base/Error.h"

#include <algorithm>
#include <string>

namespace lidistill::metrics {

std::vector<double> linspace(double lo, double hi, int n) {
    if (n < 2) {
        throw InvalidArgument("linspace needs at least 2 samples.");
    }
    const double step = (hi - lo) / static_cast<double>(n - 1);
    std::vector<double> y(static_cast<std::size_t>(n));
    for (int k = 0; k < n; ++k) {
        const double scaled = static_cast<double>(k) * step;
        y[static_cast<std::size_t>(k)] = scaled + lo;
    }
    y.back() = hi;
    return y;
}

std::vector<double> defaultThresholds() {
    return linspace(0.05, 2 * 0.05, 100);
}

namespace {

// Percentages at every threshold: 100 / n * count(d < t), in LiDiff's operation order.
std::vector<double> sharesBelow(std::span<const double> d, const std::vector<double>& t) {
    std::vector<double> sorted(d.begin(), d.end());
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> out(t.size());
    const double scale = 100.0 / static_cast<double>(sorted.size());
    for (std::size_t i = 0; i < t.size(); ++i) {
        const auto below = std::lower_bound(sorted.begin(), sorted.end(), t[i]) - sorted.begin();
        out[i] = scale * static_cast<double>(below);
    }
    return out;
}

// SciPy's _basic_simpson over samples [start, stop + 2) with even spacing dx.
double basicSimpson(std::span<const double> y, std::size_t start, std::size_t stop, double dx) {
    double s = 0.0;
    for (std::size_t i = start; i < stop; i += 2) {
        s += y[i] + 4.0 * y[i + 1] + y[i + 2];
    }
    return s * dx / 3.0;
}

}  // namespace

PrecisionRecallCurve precisionRecall(std::span<const double> predToGt,
                                     std::span<const double> gtToPred,
                                     const std::vector<double>& thresholds) {
    if (predToGt.empty() || gtToPred.empty()) {
        throw InvalidArgument("Precision/recall: a distance list is empty.");
    }
    PrecisionRecallCurve c;
    c.thresholds = thresholds;
    c.precision = sharesBelow(predToGt, thresholds);
    c.recall = sharesBelow(gtToPred, thresholds);
    c.fscore.resize(thresholds.size());
    for (std::size_t i = 0; i < thresholds.size(); ++i) {
        const double p = c.precision[i];
        const double r = c.recall[i];
        c.fscore[i] = (p == 0.0 || r == 0.0) ? 0.0 : 2 * p * r / (p + r);
    }
    return c;
}

double simpson(std::span<const double> y, double dx, SimpsonRule rule) {
    const std::size_t n = y.size();
    if (n == 0) {
        throw InvalidArgument("simpson: no samples.");
    }
    if (n == 1) {
        return 0.0;
    }
    if (n % 2 == 1) {
        return basicSimpson(y, 0, n - 2, dx);
    }
    if (n == 2) {
        return 0.5 * dx * (y[0] + y[1]);
    }
    if (rule == SimpsonRule::Average) {
        // SciPy 1.10: even='avg'.
        double val = 0.5 * dx * (y[n - 1] + y[n - 2]);
        double result = basicSimpson(y, 0, n - 3, dx);
        val += 0.5 * dx * (y[1] + y[0]);
        result += basicSimpson(y, 1, n - 2, dx);
        return result / 2.0 + val / 2.0;
    }
    // SciPy >= 1.11: Simpson on intervals [0, n-2], then Cartwright's correction for the last
    // interval; with equal spacing alpha = 5h/12, beta = 2h/3, eta = h/12.
    const double h0 = dx;
    const double h1 = dx;
    const double alpha = (2 * h1 * h1 + 3 * h0 * h1) / (6 * (h1 + h0));
    const double beta = (h1 * h1 + 3.0 * h0 * h1) / (6 * h0);
    const double eta = (h1 * h1 * h1) / (6 * h0 * (h0 + h1));
    return basicSimpson(y, 0, n - 3, dx) + alpha * y[n - 1] + beta * y[n - 2] - eta * y[n - 3];
}

PrecisionRecallAccumulator::PrecisionRecallAccumulator(std::vector<double> thresholds)
    : m_thresholds(std::move(thresholds)) {
    if (m_thresholds.size() < 2) {
        throw InvalidArgument("PrecisionRecallAccumulator: need at least 2 thresholds.");
    }
    reset();
}

void PrecisionRecallAccumulator::reset() {
    m_sumP.assign(m_thresholds.size(), 0.0);
    m_sumR.assign(m_thresholds.size(), 0.0);
    m_sumF.assign(m_thresholds.size(), 0.0);
    m_scans = 0;
}

void PrecisionRecallAccumulator::add(const PrecisionRecallCurve& curve) {
    if (curve.thresholds != m_thresholds) {
        throw InvalidArgument("PrecisionRecallAccumulator: the curve uses other thresholds.");
    }
    for (std::size_t i = 0; i < m_thresholds.size(); ++i) {
        m_sumP[i] += curve.precision[i];
        m_sumR[i] += curve.recall[i];
        m_sumF[i] += curve.fscore[i];
    }
    ++m_scans;
}

void PrecisionRecallAccumulator::add(std::span<const double> predToGt,
                                     std::span<const double> gtToPred) {
    add(precisionRecall(predToGt, gtToPred, m_thresholds));
}

PrecisionRecallCurve PrecisionRecallAccumulator::meanCurve() const {
    PrecisionRecallCurve c;
    c.thresholds = m_thresholds;
    const double n = m_scans == 0 ? 1.0 : static_cast<double>(m_scans);
    for (std::size_t i = 0; i < m_thresholds.size(); ++i) {
        c.precision.push_back(m_sumP[i] / n);
        c.recall.push_back(m_sumR[i] / n);
        c.fscore.push_back(m_sumF[i] / n);
    }
    return c;
}

PrecisionRecallAuc PrecisionRecallAccumulator::auc(SimpsonRule rule) const {
    if (m_scans == 0) {
        throw InvalidArgument("PrecisionRecallAccumulator: no scan was added.");
    }
    const double dx = m_thresholds[1] - m_thresholds[0];
    const std::vector<double> ones(m_thresholds.size(), 1.0);
    const double perfect = simpson(ones, dx, rule);
    const PrecisionRecallCurve c = meanCurve();
    return {simpson(c.precision, dx, rule) / perfect, simpson(c.recall, dx, rule) / perfect,
            simpson(c.fscore, dx, rule) / perfect};
}

}  // namespace lidistill::metrics
