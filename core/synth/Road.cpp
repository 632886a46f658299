// SPDX-License-Identifier: MIT
#include "core/synth/Road.h"

#include "core/base/Error.h"
#include "core/synth/Random.h"

#include <algorithm>
#include <cmath>

namespace lidistill::synth {

Road::Road(std::uint64_t seed, double length, double minRadius, double maxRadius,
           double gradeAmplitude)
    : m_seed(seed), m_length(length), m_gradeAmplitude(gradeAmplitude) {
    if (!(length > 0) || !(minRadius > 0) || maxRadius < minRadius) {
        throw InvalidArgument("road: length and radii must be positive, min <= max");
    }
    // Curvature plan: straight, ramp in, arc, ramp out, repeat.
    Rng rng(hashKeys(seed, 0x0AD));
    struct Piece {
        double len, k0, k1;
    };
    std::vector<Piece> plan;
    double planned = 0;
    while (planned < length + 10) {
        const double straight = rng.uniform(40, 160);
        const double radius = rng.uniform(minRadius, maxRadius);
        const double angle = rng.uniform(0.15, 0.8) * (rng.chance(0.5) ? 1 : -1);
        const double k = 1.0 / radius * (angle > 0 ? 1 : -1);
        const double ramp = 20.0;
        const double arc = std::max(0.0, std::abs(angle) * radius - ramp);
        plan.push_back({straight, 0, 0});
        plan.push_back({ramp, 0, k});
        plan.push_back({arc, k, k});
        plan.push_back({ramp, k, 0});
        planned += straight + 2 * ramp + arc;
    }
    const auto n = static_cast<std::size_t>(std::ceil(length / m_step)) + 2;
    m_xy.resize(n);
    m_heading.resize(n);
    Eigen::Vector2d p(0, 0);
    // Own stream: the plan above draws more for a longer road, the start must not change.
    Rng headingRng(hashKeys(seed, 0x4EAD));
    double h = headingRng.uniform(-3.14159, 3.14159);
    std::size_t piece = 0;
    double inPiece = 0;
    for (std::size_t i = 0; i < n; ++i) {
        m_xy[i] = p;
        m_heading[i] = h;
        while (piece < plan.size() && inPiece >= plan[piece].len) {
            inPiece -= plan[piece].len;
            ++piece;
        }
        double k = 0;
        if (piece < plan.size()) {
            const auto& pc = plan[piece];
            k = pc.k0 + (pc.k1 - pc.k0) * (pc.len > 0 ? inPiece / pc.len : 0);
        }
        // Midpoint integration keeps the line smooth at this step.
        const double hm = h + 0.5 * k * m_step;
        p += m_step * Eigen::Vector2d(std::cos(hm), std::sin(hm));
        h += k * m_step;
        inPiece += m_step;
    }
}

namespace {
struct Lookup {
    std::size_t i;
    double t;
};
Lookup lookup(double s, double step, std::size_t n) {
    const double u = std::clamp(s / step, 0.0, static_cast<double>(n - 2));
    const auto i = static_cast<std::size_t>(std::floor(u));
    return {std::min(i, n - 2), u - static_cast<double>(std::min(i, n - 2))};
}
}  // namespace

Eigen::Vector2d Road::centre(double s) const {
    const std::size_t n = m_xy.size();
    const double maxS = static_cast<double>(n - 1) * m_step;
    if (s < 0)
        return m_xy.front() +
               s * Eigen::Vector2d(std::cos(m_heading.front()), std::sin(m_heading.front()));
    if (s > maxS)
        return m_xy.back() +
               (s - maxS) * Eigen::Vector2d(std::cos(m_heading.back()), std::sin(m_heading.back()));
    const auto [i, t] = lookup(s, m_step, n);
    return m_xy[i] * (1 - t) + m_xy[i + 1] * t;
}

double Road::heading(double s) const {
    const auto [i, t] = lookup(s, m_step, m_heading.size());
    return m_heading[i] * (1 - t) + m_heading[i + 1] * t;
}

Eigen::Vector2d Road::tangent(double s) const {
    const double h = heading(s);
    return {std::cos(h), std::sin(h)};
}

Eigen::Vector2d Road::normal(double s) const {
    const double h = heading(s);
    return {-std::sin(h), std::cos(h)};
}

double Road::elevation(double s) const {
    return m_gradeAmplitude * valueNoise1(hashKeys(m_seed, 0xE1E), s, 160.0);
}

double Road::grade(double s) const {
    return (elevation(s + 0.5) - elevation(s - 0.5));
}

}  // namespace lidistill::synth
