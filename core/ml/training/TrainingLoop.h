#pragma once
// SPDX-License-Identifier: MIT
//
// The one training loop of every trainer (Trainer.h), and the run folder it keeps
// (core/base/RunFolder.h defines it for every reader):
//   run.json                      the command's options (written by the caller)
//   metrics.jsonl                 a JSON line a step ({"step", ...trainer metrics, "lr",
//                                 "seconds"}) and a line per validation ({"step", "val_*"}),
//                                 flushed at once (the studio follows it)
//   events.out.tfevents.*         the same scalars for TensorBoard (a file per process start)
//   NAME_latest.safetensors       the model as it is used (NAME = trainer.modelName())
//   NAME_step_N.safetensors       every checkpointEvery steps
//   state_step_N.pt               the whole trainer state (networks, optimizers) at step N;
//                                 the latest two are kept
//   checkpoint.json               {"step", "state", "seconds", "previous": {...}}: written last
//                                 and synced to disk, so it names complete checkpoints only
//   *.tmpPID_N                    a write in progress (removed at the next start if its
//                                 process died)
// Examples come from several sequences at once; each epoch (a pass over all training frames)
// visits them in a fresh order drawn from the seed, and step k's random numbers come from
// (seed, k) alone, so a resumed run repeats the steps of an uninterrupted one: killed at any
// moment (SIGKILL included) and resumed, it ends with the weights of a run never stopped
// (bit-identical on the CPU with the same thread count). Torch-free.

#include "core/base/PointCloud.h"
#include "core/base/Progress.h"
#include "core/base/RunFolder.h"
#include "core/dataset/Sequence.h"
#include "core/dataset/TrainingSample.h"
#include "core/map/StaticMap.h"
#include "core/ml/training/Distributed.h"
#include "core/ml/training/Trainer.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace lidistill::ml {

/// Training frames of one sequence and its static map.
struct TrainingSource {
    const Sequence* sequence = nullptr;
    const map::StaticMap* map = nullptr;
    std::vector<std::size_t> frames;
};

/// A held-out frame, read once: the scan as it is completed and its ground truth.
struct ValidationFrame {
    std::string name;
    PointCloud scan;
    PointCloud truth;
};

struct LoopOptions {
    long long steps = 1000;          ///< in all, counting the steps of a resumed run
    long long checkpointEvery = 200;
    long long validateEvery = 0;     ///< 0: never
    std::uint64_t seed = 0;
    double learningRate = 1e-4;
    double lrDecay = 1.0;            ///< learning rate x lrDecay after every epoch
    dataset::TrainingSampleOptions sample;
    bool resume = false;             ///< continue from checkpoint.json (a fresh run if none)
    bool quietResume = false;        ///< no warning when resuming a run with no checkpoint
    long long printEvery = 0;        ///< a human line on `print` every N steps (0: never)
    /// Called with every metrics.jsonl line as it is written (the CLI's metrics events).
    std::function<void(const std::string& jsonLine)> onRecord;
    /// Data-parallel training (Distributed.h; null: one process). Rank r of W takes examples
    /// (k W + r) B ... of step k; only rank 0 writes the run folder; a stop (Ctrl+C, SIGTERM on
    /// any rank) is taken by every rank at the same step.
    std::shared_ptr<ProcessGroup> group;
};

/// Makes one training example; the default is LiDiff's training sample (reference 1.3).
using ExampleMaker = std::function<TrainingExample(const TrainingSource&, std::size_t frame,
                                                   std::uint64_t seed,
                                                   const dataset::TrainingSampleOptions&)>;
TrainingExample lidiffExample(const TrainingSource& source, std::size_t frame, std::uint64_t seed,
                              const dataset::TrainingSampleOptions& options);

struct LoopResult {
    long long firstStep = 0;  ///< where this invocation began (0, or the resumed checkpoint)
    long long lastStep = 0;
    double seconds = 0;
    std::filesystem::path latestModel;
};

// The run folder's checkpoint records (core/base/RunFolder.h), under the loop's names.
using run::CheckpointRecord;
using run::lastCheckpointStep;
using run::readCheckpoints;

/// Trains into `outDir` until options.steps. On Cancelled (Ctrl+C, SIGTERM through
/// `progress`) it writes a checkpoint of the steps done and rethrows.
/// @throws InvalidArgument for no training frames; IoError for an unwritable folder or an
///         unreadable checkpoint; whatever the trainer throws.
LoopResult runTrainingLoop(Trainer& trainer, const std::vector<TrainingSource>& sources,
                           const std::vector<ValidationFrame>& validation,
                           const LoopOptions& options, const std::filesystem::path& outDir,
                           ProgressSink* progress = nullptr, std::ostream* print = nullptr,
                           const ExampleMaker& makeExample = lidiffExample);

}  // namespace lidistill::ml
