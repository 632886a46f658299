#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/PointCloud.h"
#include "core/synth/Lidar.h"
#include "core/synth/World.h"

#include <Eigen/Core>

#include <cstdint>
#include <memory>

namespace lidistill::synth {

/// Casts a LiDAR sensor's rays into a World with Embree 3.
///
/// The static world is turned into a BVH once; each scan instances the movers that are
/// within range at their pose for that instant, so per-scan work is a small top-level
/// build plus the rays. Scans are instantaneous (no rolling shutter), so that static points
/// of different frames align exactly up to the range noise.
///
/// Results are deterministic: noise and dropout are drawn from a hash of
/// (seed, frame, beam, column), independent of threading.
/// Thread-safety: scan() may be called from one thread at a time (it parallelises inside
/// with OpenMP); the const accessors are safe anywhere.
class LidarSimulator {
public:
    /// @param world must outlive the simulator. @param seed drives the sensor noise.
    /// @throws InvalidArgument for a bad LidarConfig; Error if Embree fails.
    LidarSimulator(const World& world, LidarConfig lidar, std::uint64_t seed);
    ~LidarSimulator();
    LidarSimulator(const LidarSimulator&) = delete;
    LidarSimulator& operator=(const LidarSimulator&) = delete;

    const LidarConfig& lidar() const noexcept;
    /// Seconds of frame i since the start (i / rateHz).
    double frameTime(std::size_t frame) const;
    /// World pose of the sensor (x forward, y left, z up) at frame i.
    Eigen::Matrix4d sensorPose(std::size_t frame) const;
    /// How many frames the world's route allows at this sensor's rate.
    std::size_t maxFrames() const;

    /// Simulates one revolution at frame i: points in the sensor frame with remission
    /// (LidarConfig::intensityScale), SemanticKITTI labels and the beam index (ring).
    /// @throws InvalidArgument if frame >= maxFrames().
    PointCloud scan(std::size_t frame) const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace lidistill::synth
