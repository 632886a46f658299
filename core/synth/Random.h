#pragma once
// SPDX-License-Identifier: MIT

#include <cmath>
#include <cstdint>

namespace lidistill::synth {

/// Mixes a 64-bit value into a well-distributed one (SplitMix64 finaliser).
/// Used to derive independent streams from (seed, purpose, index) without shared state,
/// which is what makes parallel ray noise reproducible regardless of thread scheduling.
inline std::uint64_t mix64(std::uint64_t x) noexcept {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/// Combines several keys into one stream seed.
inline std::uint64_t hashKeys(std::uint64_t a, std::uint64_t b, std::uint64_t c = 0,
                              std::uint64_t d = 0) noexcept {
    return mix64(mix64(mix64(mix64(a) ^ b) ^ c) ^ d);
}

/// Small deterministic generator (SplitMix64 sequence). Our own distributions, not <random>'s,
/// so that the same seed gives the same world with any standard library.
/// Not thread-safe: one instance per thread or per stream.
class Rng {
public:
    explicit Rng(std::uint64_t seed) noexcept : m_state(seed) {}

    std::uint64_t next() noexcept {
        m_state += 0x9E3779B97F4A7C15ull;
        std::uint64_t z = m_state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, 1), 53 bits.
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    /// Uniform in [lo, hi).
    double uniform(double lo, double hi) noexcept { return lo + (hi - lo) * uniform(); }
    /// Uniform integer in [lo, hi] (inclusive).
    int integer(int lo, int hi) noexcept {
        return lo + static_cast<int>(uniform() * static_cast<double>(hi - lo + 1));
    }
    /// True with probability p.
    bool chance(double p) noexcept { return uniform() < p; }
    /// Standard normal (Box-Muller, one value per call; keeps the stream simple).
    double normal() noexcept {
        const double u1 = 1.0 - uniform();  // (0, 1]
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
    double normal(double mean, double stddev) noexcept { return mean + stddev * normal(); }

private:
    std::uint64_t m_state;
};

/// Smooth 1D value noise in [-1, 1]: cosine-interpolated random values at integer knots of
/// x / scale. Deterministic in (seed, x). Used for road grades and terrain undulation.
inline double valueNoise1(std::uint64_t seed, double x, double scale) noexcept {
    const double u = x / scale;
    const double f = std::floor(u);
    const double t = u - f;
    const auto k = static_cast<std::int64_t>(f);
    auto knot = [&](std::int64_t i) {
        return static_cast<double>(mix64(seed ^ mix64(static_cast<std::uint64_t>(i))) >> 11) *
                   0x1.0p-52 -
               1.0;
    };
    const double w = 0.5 - 0.5 * std::cos(3.141592653589793 * t);
    return knot(k) * (1.0 - w) + knot(k + 1) * w;
}

/// Smooth 2D value noise in [-1, 1] (bilinear with cosine weights).
inline double valueNoise2(std::uint64_t seed, double x, double y, double scale) noexcept {
    const double u = x / scale, v = y / scale;
    const double fu = std::floor(u), fv = std::floor(v);
    const double tu = 0.5 - 0.5 * std::cos(3.141592653589793 * (u - fu));
    const double tv = 0.5 - 0.5 * std::cos(3.141592653589793 * (v - fv));
    const auto iu = static_cast<std::int64_t>(fu);
    const auto iv = static_cast<std::int64_t>(fv);
    auto knot = [&](std::int64_t i, std::int64_t j) {
        const std::uint64_t h =
            hashKeys(seed, static_cast<std::uint64_t>(i), static_cast<std::uint64_t>(j));
        return static_cast<double>(h >> 11) * 0x1.0p-52 - 1.0;
    };
    const double a = knot(iu, iv) * (1 - tu) + knot(iu + 1, iv) * tu;
    const double b = knot(iu, iv + 1) * (1 - tu) + knot(iu + 1, iv + 1) * tu;
    return a * (1 - tv) + b * tv;
}

}  // namespace lidistill::synth
