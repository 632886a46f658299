#pragma once
// SPDX-License-Identifier: MIT
// Static maps and per-frame ground truth of a dataset Sequence (reference §1.2, §7.1).

#include "core/base/PointCloud.h"
#include "core/base/Progress.h"
#include "core/dataset/Sequence.h"
#include "core/map/GroundTruth.h"
#include "core/map/StaticMap.h"

#include <cstddef>
#include <filesystem>
#include <vector>

namespace lidistill::map {

/// Builds the static map from `frames` of `seq`, in the given order (LiDiff: all frames in
/// natural order, which is the Sequence's order). Reports per scan and checks for cancel.
/// @throws InvalidArgument if the sequence has no poses, no labels (unless allowUnlabeled),
///         or a frame index is out of range; IoError on an unreadable scan; Cancelled.
StaticMap buildStaticMap(const Sequence& seq, const std::vector<std::size_t>& frames,
                         const MapBuildOptions& options = {}, ProgressSink* progress = nullptr);
/// All frames of the sequence.
StaticMap buildStaticMap(const Sequence& seq, const MapBuildOptions& options = {},
                         ProgressSink* progress = nullptr);

/// Loads `cacheFile` when it holds a map of this sequence's frame count built with the same
/// options (sameBuild()); otherwise builds it from all frames and saves it atomically.
/// A corrupt cache is rebuilt with a warning. @throws as buildStaticMap and StaticMap::save.
StaticMap loadOrBuildStaticMap(const Sequence& seq, const std::filesystem::path& cacheFile,
                               const MapBuildOptions& options = {},
                               ProgressSink* progress = nullptr);

/// The §7.1 ground truth of frame i (scan frame, with labels): reads the raw scan for the
/// viewpoint mask and crops `map` around seq.pose(i).
/// @throws IoError on an unreadable scan; InvalidArgument on bad options or index.
PointCloud groundTruthForFrame(const Sequence& seq, const StaticMap& map, std::size_t i,
                               const GroundTruthOptions& options = {});

}  // namespace lidistill::map
