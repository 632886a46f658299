#pragma once
// SPDX-License-Identifier: MIT

#include "core/base/Progress.h"
#include "core/synth/World.h"

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace lidistill::synth {

/// What `lidistill synth` generates.
struct SynthOptions {
    std::uint64_t seed = 0;  ///< drives the world and the sensor noise
    Preset preset = Preset::Urban;
    std::string sensor = "hdl64";  ///< LidarConfig::byName
    std::size_t frames = 10;
    std::string sequence = "00";  ///< folder name under sequences/
    double egoSpeed = 0;          ///< m/s, at most 100; <= 0 picks the preset's speed
};

/// What was written.
struct SynthSummary {
    std::filesystem::path directory;  ///< ROOT/sequences/XX
    std::size_t frames = 0;
    std::size_t points = 0;  ///< summed over all frames
    double seconds = 0;
};

/// The real KITTI odometry Tr (velodyne to left camera) of drive 00, used for synthetic
/// sequences so their poses.txt / calib.txt pair behaves exactly as on real data.
Eigen::Matrix4d kittiVelodyneToCamera();

/// Generates a world and writes a SemanticKITTI sequence:
/// ROOT/sequences/XX/{velodyne/NNNNNN.bin, labels/NNNNNN.label, poses.txt, calib.txt,
/// times.txt}. poses.txt holds camera-frame poses P_i = Tr * T_i * inv(Tr), where T_i is the
/// LiDAR pose of frame i in the LiDAR frame of frame 0, so Sequence::open recovers T_i.
/// Every file is written atomically; the same options give byte-identical files.
/// @throws InvalidArgument for bad options (0 frames, unknown sensor, bad sequence name);
///         IoError if a file cannot be written; Cancelled if `progress` asks to stop.
/// Not thread-safe with itself on the same ROOT/sequences/XX.
SynthSummary writeSyntheticSequence(const std::filesystem::path& root, const SynthOptions& options,
                                    ProgressSink* progress = nullptr);

}  // namespace lidistill::synth
