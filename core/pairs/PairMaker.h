#pragma once
// SPDX-License-Identifier: MIT
//
// A preference pair from two completions of one frame: what `lidistill pairs make` and the
// studio's Make pairs (which completes through a `lidistill worker`, maybe on another machine)
// share, so that a pair is the same pair whichever of them made it.

#include "core/base/PointCloud.h"
#include "core/pairs/PairStore.h"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace lidistill::pairs {

/// Whether `metric` ranks pairs: cd, jsd, iou or weighted (cd + jsd - iou).
bool isPairMetric(const std::string& metric);

/// A candidate's score by `metric` (lower is better: IoU enters negated; weighted is
/// cd + jsd - iou).
double pairScore(const Candidate& c, const std::string& metric);

/// FNV-1a (64 bit, hex) of a file's bytes: a pair remembers which weights made it.
/// @throws IoError when the file cannot be read.
std::string modelFileHash(const std::filesystem::path& file);

/// Where pair making keeps a sequence's ground-truth map: in the store's cloud folder, one file
/// a sequence and model (built on first use by map::loadOrBuildStaticMap).
std::filesystem::path pairMapFile(const PairStore& store, const std::filesystem::path& sequenceDir,
                                  const std::string& modelHash);

/// What makes the pair of frame `index`: candidate A from seed `seed + index` at noise scale 1,
/// B from the same seed at `lambda` (Distillation-DPO) or, with `independentSeeds`, from another
/// seed at scale 1. `sequence` is the canonical folder path (the store's key).
Recipe pairRecipe(const std::string& sequence, const std::string& frame, std::size_t index,
                  const std::string& model, const std::string& modelHash, std::uint64_t seed,
                  double lambda, bool independentSeeds, int steps, double guidance);

/// One completion of a candidate: its condition, its diffused cloud and its refined one (empty
/// without a refiner).
struct CandidateClouds {
    PointCloud partial;
    PointCloud diffused;
    PointCloud refined;
};

/// Writes both candidates' clouds into the store's cloud folder (before the pair: readers never
/// see a pair without its clouds), scores each (refined, else diffused) against `truth` (CD,
/// BEV-JSD, IoU at 0.5 m), ranks them by `metric` (lower is better; IoU enters negated), draws
/// once the side shown on the left, and adds the pair. @return the pair's id; `stored`, when
/// given, receives the pair as added. @throws InvalidArgument for an unknown metric; IoError.
long long storeCandidatePair(PairStore& store, const Recipe& recipe, std::size_t frameIndex,
                             const CandidateClouds& a, const CandidateClouds& b,
                             const PointCloud& truth, const std::string& metric,
                             Pair* stored = nullptr);

}  // namespace lidistill::pairs
