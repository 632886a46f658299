#pragma once
// SPDX-License-Identifier: MIT

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace lidistill::synth {

/// A smooth road centre line on gently sloped ground: straight stretches joined by arcs with
/// linear curvature ramps (clothoid-like), and an elevation profile with grades of a few
/// percent. Positions are addressed in road coordinates (s along the line, d to the left).
/// Immutable after construction; thread-safe to query.
class Road {
public:
    /// @param seed  drives the curve and the elevation profile;
    /// @param length metres of centre line to lay out;
    /// @param minRadius, maxRadius range of curve radii (metres);
    /// @param gradeAmplitude elevation amplitude (metres) of the slow height undulation.
    Road(std::uint64_t seed, double length, double minRadius, double maxRadius,
         double gradeAmplitude);

    double length() const noexcept { return m_length; }
    /// Centre-line point (x, y) at arc length s (extrapolated straight beyond the ends).
    Eigen::Vector2d centre(double s) const;
    /// Heading (radians, counter-clockwise from world x) at s.
    double heading(double s) const;
    /// Unit tangent and left normal at s.
    Eigen::Vector2d tangent(double s) const;
    Eigen::Vector2d normal(double s) const;
    /// Centre-line elevation (metres) at s.
    double elevation(double s) const;
    /// Elevation grade de/ds at s.
    double grade(double s) const;
    /// World (x, y) of road coordinates (s, d).
    Eigen::Vector2d point(double s, double d) const { return centre(s) + d * normal(s); }

private:
    std::uint64_t m_seed;
    double m_length;
    double m_step = 0.5;
    double m_gradeAmplitude;
    std::vector<Eigen::Vector2d> m_xy;  // centre line sampled every m_step
    std::vector<double> m_heading;
};

}  // namespace lidistill::synth
