#pragma once
// SPDX-License-Identifier: MIT
//
// LiDiff's diffusion training sample of one scan (lidiff-family.md 1.3): the partial scan P
// (18 000 farthest points of the label-, range- and height-filtered scan) and the ground truth
// G (180 000 map points around the sensor, in the scan frame, inside P's 10 m viewpoint cells,
// randomly permuted, element-wise repeated and truncated), optionally augmented jointly.

#include "core/base/PointCloud.h"
#include "core/dataset/Sequence.h"
#include "core/map/StaticMap.h"

#include <cstddef>
#include <cstdint>

namespace lidistill::dataset {

struct TrainingSampleOptions {
    std::size_t partialPoints = 18000;  ///< |P|
    std::size_t fullPoints = 180000;    ///< |G|
    double minRange = 3.5;              ///< P keeps minRange < |p| < maxRange and z > minZ
    double maxRange = 50.0;             ///< also G's radius around the sensor
    double minZ = -4.0;                 ///< P and G keep z > minZ (G has no upper bound)
    bool augment = false;               ///< LiDiff's training augmentation (1.3), from `seed`
};

struct TrainingSample {
    PointCloud partial;  ///< P, scan frame
    PointCloud full;     ///< G, scan frame, exactly options.fullPoints points
};

/// The sample of frame `i`; `seed` drives G's permutation and the augmentation.
/// Labels (when the sequence has them) filter P to 1 < class < 252, as LiDiff's training does.
/// @throws IoError for an unreadable scan; InvalidArgument if the sequence has no poses, the
///         frame is out of range, or P or G ends up empty.
TrainingSample makeTrainingSample(const Sequence& seq, const map::StaticMap& map, std::size_t i,
                                  std::uint64_t seed, const TrainingSampleOptions& options = {});

}  // namespace lidistill::dataset
