#pragma once
// SPDX-License-Identifier: MIT
//
// LiDiff's scene completion of one scan (lidiff-family.md 3.3-3.5): pre-processing, the
// diffusion loop with classifier-free guidance and the SDE-DPM-Solver++ sampler on the
// residual, LiDiff's post-filter, and the optional 6x refinement. Torch-free interface.

#include "core/base/PointCloud.h"
#include "core/base/Progress.h"
#include "core/ml/Model.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace lidistill::ml {

/// Defaults are LiDiff's (50 steps, w = 6); distilled students use 1-8 steps and w = 3.5.
struct CompletionOptions {
    int steps = 50;                     ///< denoising steps, 1..1000
    double guidance = 6.0;              ///< CFG weight w: eps = eps(0) + w (eps(P) - eps(0))
    std::uint64_t seed = 0;             ///< initial and per-step noise (drawn on the CPU, so
                                        ///< the same seed gives the same noise on every device)
    std::size_t partialPoints = 18000;  ///< farthest point samples of the scan (the condition)
    int tile = 10;                      ///< copies of the partial scan in x_init (180k points)
    double minRange = 3.5;              ///< metres, kept: minRange < |p| < maxRange
    double maxRange = 50.0;
    bool refine = true;  ///< run the refiner when the model has one
    /// Scale of the initial noise: x_T = x_init + noiseScale N(0, I). Distillation-DPO's
    /// second candidate of a pair uses 1.1 with the same noise (reference 6.3).
    double noiseScale = 1.0;
    /// The conditional and unconditional passes of a step voxelize x once and share its kernel
    /// maps (CoordinateManager::replicated). Off: each pass's copy is quantised and searched
    /// anew, as before; the result is bit-identical (tested), only slower (bench_ml_lite).
    bool shareGuidanceMaps = true;
};

/// The options a model file asks for: its scale (points, tile, ranges) and its sampling
/// defaults (steps, guidance); refinement on.
CompletionOptions completionOptionsFor(const ModelConfig& config);

/// One completed scan.
struct Completion {
    PointCloud partial;           ///< the condition: the scan after the range filter and FPS
    PointCloud diffused;          ///< the denoised cloud after LiDiff's range and height filter
    PointCloud refined;           ///< 6 points per diffused point; empty without a refiner
    std::vector<int> timesteps;   ///< the sampler's timesteps, in order
    double diffusionSeconds = 0;  ///< wall time up to the post-filter (pre-processing included)
    double refineSeconds = 0;     ///< wall time of the refinement
};

/// Completes scan after scan with one model and one set of options (a sequence). With
/// `carrySamplerState` the sampler keeps its last data prediction from one scan to the next, as
/// LiDiff's pipeline does by accident (lidiff-family.md 3.4): only for reproducing its numbers.
/// Not thread-safe; the model must outlive it.
class Completer {
public:
    /// @throws InvalidArgument for bad options; ModelError if the model lacks the encoder or
    ///         denoiser.
    Completer(const LidiffModel& model, const CompletionOptions& options,
              bool carrySamplerState = false);
    ~Completer();
    Completer(const Completer&) = delete;
    Completer& operator=(const Completer&) = delete;

    /// Completes `scan` on the model's device with noise from `seed`. The conditional and
    /// unconditional passes of a step run as one batch of two.
    /// @throws InvalidArgument for a scan with no point in range; Cancelled if `progress` asks.
    Completion complete(const PointCloud& scan, std::uint64_t seed,
                        ProgressSink* progress = nullptr);

private:
    struct State;
    std::unique_ptr<State> m_state;
};

/// One scan: Completer(model, options).complete(scan, options.seed, progress).
Completion completeScan(const LidiffModel& model, const PointCloud& scan,
                        const CompletionOptions& options, ProgressSink* progress = nullptr);

}  // namespace lidistill::ml
