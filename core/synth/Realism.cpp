// SPDX-License-Identifier: MIT
#include "core/synth/Realism.h"

#include "core/base/Error.h"
#include "core/synth/Classes.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace lidistill::synth {

const std::vector<double>& ScanStats::rangeEdges() {
    static const std::vector<double> e = {0, 5, 10, 15, 20, 30, 40, 50, 70, 200};
    return e;
}
const std::vector<double>& ScanStats::heightEdges() {
    static const std::vector<double> e = {-100, -2.5, -1.9, -1.5, -1.0, 0.0, 1.0, 2.5, 5.0, 100};
    return e;
}

namespace {
std::size_t binOf(const std::vector<double>& edges, double v) {
    const auto it = std::upper_bound(edges.begin(), edges.end(), v);
    const auto i = static_cast<std::size_t>(std::max<std::ptrdiff_t>(1, it - edges.begin())) - 1;
    return std::min(i, edges.size() - 2);
}
}  // namespace

ScanStats computeScanStats(const PointCloud& scan) {
    ScanStats s;
    const std::size_t n = scan.size();
    s.points = static_cast<double>(n);
    s.rangeHistogram.assign(ScanStats::rangeEdges().size() - 1, 0.0);
    s.heightHistogram.assign(ScanStats::heightEdges().size() - 1, 0.0);
    if (n == 0) return s;
    std::vector<double> ranges(n);
    double prevAz = 0, intensity = 0;
    std::size_t ground = 0;
    s.pointsPerRing.assign(1, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& p = scan.xyz[i];
        const double az = std::atan2(p[1], p[0]);
        // A ring needs a few hundred points before the next can start, so a point that jitters
        // across azimuth 0 does not split a ring in two.
        if (i > 0 && prevAz < 0 && az >= 0 && az - prevAz < 1.5707963 &&
            s.pointsPerRing.back() > 200) {
            s.pointsPerRing.push_back(0.0);
        }
        prevAz = az;
        s.pointsPerRing.back() += 1.0;
        ranges[i] = std::sqrt(double(p[0]) * p[0] + double(p[1]) * p[1] + double(p[2]) * p[2]);
        s.rangeHistogram[binOf(ScanStats::rangeEdges(), ranges[i])] += 1.0;
        s.heightHistogram[binOf(ScanStats::heightEdges(), p[2])] += 1.0;
        if (scan.hasIntensity()) intensity += scan.intensity[i];
        if (scan.hasLabels() && cls::isGround(semanticClass(scan.label[i]))) ++ground;
    }
    s.rings = static_cast<double>(s.pointsPerRing.size());
    for (auto& h : s.rangeHistogram) h /= static_cast<double>(n);
    for (auto& h : s.heightHistogram) h /= static_cast<double>(n);
    std::nth_element(ranges.begin(), ranges.begin() + static_cast<std::ptrdiff_t>(n / 2),
                     ranges.end());
    s.medianRange = ranges[n / 2];
    s.meanIntensity = intensity / static_cast<double>(n);
    if (scan.hasLabels()) s.groundFraction = static_cast<double>(ground) / static_cast<double>(n);
    return s;
}

ScanStats averageStats(const std::vector<ScanStats>& stats) {
    if (stats.empty()) throw InvalidArgument("averageStats: no scans");
    ScanStats a = stats.front();
    std::size_t rings = 0;
    for (const auto& s : stats) rings = std::max(rings, s.pointsPerRing.size());
    a.pointsPerRing.assign(rings, 0.0);
    a.points = a.rings = a.medianRange = a.meanIntensity = 0;
    a.groundFraction = 0;
    std::fill(a.rangeHistogram.begin(), a.rangeHistogram.end(), 0.0);
    std::fill(a.heightHistogram.begin(), a.heightHistogram.end(), 0.0);
    bool labels = true;
    const double k = 1.0 / static_cast<double>(stats.size());
    for (const auto& s : stats) {
        a.points += k * s.points;
        a.rings += k * s.rings;
        a.medianRange += k * s.medianRange;
        a.meanIntensity += k * s.meanIntensity;
        labels = labels && s.groundFraction >= 0;
        a.groundFraction += k * s.groundFraction;
        for (std::size_t i = 0; i < s.pointsPerRing.size(); ++i)
            a.pointsPerRing[i] += k * s.pointsPerRing[i];
        for (std::size_t i = 0; i < a.rangeHistogram.size(); ++i)
            a.rangeHistogram[i] += k * s.rangeHistogram[i];
        for (std::size_t i = 0; i < a.heightHistogram.size(); ++i)
            a.heightHistogram[i] += k * s.heightHistogram[i];
    }
    if (!labels) a.groundFraction = -1;
    return a;
}

double jensenShannon(const std::vector<double>& p, const std::vector<double>& q) {
    if (p.size() != q.size() || p.empty())
        throw InvalidArgument("jensenShannon: histograms differ in length");
    double sp = 0, sq = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        sp += p[i];
        sq += q[i];
    }
    if (!(sp > 0) || !(sq > 0)) throw InvalidArgument("jensenShannon: empty histogram");
    double js = 0;
    for (std::size_t i = 0; i < p.size(); ++i) {
        const double a = p[i] / sp, b = q[i] / sq, m = 0.5 * (a + b);
        if (a > 0) js += 0.5 * a * std::log(a / m);
        if (b > 0) js += 0.5 * b * std::log(b / m);
    }
    return js;
}

std::string formatStatsTable(const std::vector<std::string>& names,
                             const std::vector<ScanStats>& cols) {
    if (names.size() != cols.size() || cols.empty())
        throw InvalidArgument("formatStatsTable: bad columns");
    std::ostringstream os;
    os << std::fixed;
    os << "| figure |";
    for (const auto& n : names) os << ' ' << n << " |";
    os << "\n|---|";
    for (std::size_t i = 0; i < names.size(); ++i) os << "---:|";
    os << '\n';
    auto row = [&](const std::string& label, auto get, int precision) {
        os << "| " << label << " |";
        for (const auto& c : cols) os << ' ' << std::setprecision(precision) << get(c) << " |";
        os << '\n';
    };
    row(
        "points per scan", [](const ScanStats& s) { return s.points; }, 0);
    row(
        "rings found", [](const ScanStats& s) { return s.rings; }, 1);
    auto ringAt = [](const ScanStats& s, double frac) {
        if (s.pointsPerRing.empty()) return 0.0;
        return s.pointsPerRing[std::min(
            s.pointsPerRing.size() - 1,
            static_cast<std::size_t>(frac * static_cast<double>(s.pointsPerRing.size())))];
    };
    row(
        "points in top ring", [&](const ScanStats& s) { return ringAt(s, 0.0); }, 0);
    row(
        "points in middle ring", [&](const ScanStats& s) { return ringAt(s, 0.5); }, 0);
    row(
        "points in bottom ring", [&](const ScanStats& s) { return ringAt(s, 0.999); }, 0);
    row(
        "ground fraction", [](const ScanStats& s) { return s.groundFraction; }, 3);
    row(
        "median range (m)", [](const ScanStats& s) { return s.medianRange; }, 2);
    row(
        "mean remission", [](const ScanStats& s) { return s.meanIntensity; }, 3);
    const auto& re = ScanStats::rangeEdges();
    for (std::size_t i = 0; i + 1 < re.size(); ++i) {
        std::ostringstream l;
        l << "range " << re[i] << "-" << re[i + 1] << " m";
        row(
            l.str(), [i](const ScanStats& s) { return s.rangeHistogram[i]; }, 3);
    }
    const auto& he = ScanStats::heightEdges();
    for (std::size_t i = 0; i + 1 < he.size(); ++i) {
        std::ostringstream l;
        l << "z " << (i == 0 ? std::string("below") : std::to_string(he[i]).substr(0, 4)) << " .. "
          << (i + 2 == he.size() ? std::string("above") : std::to_string(he[i + 1]).substr(0, 4))
          << " m";
        row(
            l.str(), [i](const ScanStats& s) { return s.heightHistogram[i]; }, 3);
    }
    return os.str();
}

}  // namespace lidistill::synth
