#pragma once
// SPDX-License-Identifier: MIT
//
// What every trainer of the project is to the training loop (TrainingLoop.h): one optimisation
// step on a batch of examples that returns its metrics, a learning rate to set, the model as it
// is used afterwards, a validation on a held-out frame, and the whole state saved and loaded.
// The teacher (LiDiff, reference 3.1), the refiner (3.6), Distillation-DPO (6) and ScoreLiDAR
// (5, ScoreLidar.h) implement it. Torch-free interface.

#include "core/base/PointCloud.h"
#include "core/ml/Model.h"
#include "core/ml/training/Distributed.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lidistill::ml {

/// One training example, in the scan frame: the partial scan P and the ground truth G.
struct TrainingExample {
    PointCloud partial;
    PointCloud full;
};

/// Named numbers, in the order they are logged (the keys of a metrics.jsonl line).
using MetricsRecord = std::vector<std::pair<std::string, double>>;

class Trainer {
public:
    virtual ~Trainer() = default;

    /// Names the run's files: "teacher" -> teacher_latest.safetensors, ...
    virtual std::string modelName() const = 0;
    /// Examples a step takes (the batch size).
    virtual int batchSize() const = 0;
    /// One optimisation step; `seed` draws every random number of the step, so a step is a
    /// function of the state, the batch and the seed (resumed runs repeat uninterrupted ones).
    /// @throws InvalidArgument for a batch of the wrong size or empty clouds; ModelError if the
    ///         model diverges.
    virtual MetricsRecord step(const std::vector<TrainingExample>& batch, std::uint64_t seed) = 0;
    /// Where the run is before each step (step 0-based, of `total`): trainers with a schedule
    /// over training (DDIL's source mix) read it; a resumed run gets the same values.
    virtual void setProgress(long long step, long long total) {
        (void)step;
        (void)total;
    }
    /// Learning rate of every optimizer (schedules are the loop's). @throws InvalidArgument.
    virtual void setLearningRate(double lr) = 0;
    /// The model as it is used after training (checkpoints are this model's file).
    virtual const LidiffModel& model() const = 0;
    /// Held-out numbers on one frame: `scan` as read, `truth` its ground truth (reference 7.1).
    virtual MetricsRecord validate(const PointCloud& scan, const PointCloud& truth,
                                   std::uint64_t seed) = 0;
    /// Every network that trains and every optimizer state, in one file, atomically.
    /// @throws IoError.
    virtual void saveState(const std::filesystem::path& file) const = 0;
    /// The inverse. @throws IoError naming the file for a missing, corrupt or foreign state.
    virtual void loadState(const std::filesystem::path& file) = 0;
    /// Trains as one rank of `group` (Distributed.h): rank 0's networks are copied to every
    /// rank, gradients are averaged before each step. @return false if this trainer cannot.
    virtual bool setProcessGroup(std::shared_ptr<ProcessGroup> group) {
        (void)group;
        return false;
    }
};

/// LiDiff's teacher (reference 3.1): x_t = G + sigma_t eps, t ~ U{0..999} per example, loss
/// MSE(eps_hat, eps) + 5 (mean(eps_hat)^2 + (std(eps_hat) - 1)^2), classifier-free-guidance
/// dropout per example (also at batch 1, unlike the released code: the null condition is one
/// zero voxel at the origin), Adam. The encoder trains with the denoiser.
struct TeacherOptions {
    double learningRate = 1e-4;
    double uncondProb = 0.1;     ///< probability that an example gets the null condition
    double regWeight = 5.0;      ///< weight of the mean / std regulariser
    int batchSize = 2;
    /// Micro-batches of batchSize a step, their gradients averaged (the batch a step takes is
    /// batchSize x accumulate): one process doing what `accumulate` ranks do together.
    int accumulate = 1;
    int validationSteps = 8;     ///< sampler steps of the validation completion
    double validationGuidance = 6.0;
};

/// @param init the networks to start from (a fresh model for a new teacher); copied.
/// @throws InvalidArgument for bad options; ModelError if `init` has no encoder or denoiser.
std::unique_ptr<Trainer> makeTeacherTrainer(const LidiffModel& init, const TeacherOptions& options);

/// LiDiff's refiner (reference 3.6, 1.4): the input is G jittered by clip(sigma N(0, 1), +-clip)
/// per coordinate; the refiner moves each point by its 6 offsets; the loss is pytorch3d's
/// Chamfer distance (sum of the two mean squared nearest distances) to the clean G, with the
/// correspondences found by a KD-tree each step (the gradient of the Chamfer loss wherever the
/// nearest neighbours do not change). Adam.
struct RefinerOptions {
    double learningRate = 1e-4;
    double jitter = 0.2;      ///< metres, std of the input noise
    double jitterClip = 0.3;  ///< metres
    int batchSize = 1;
};

/// @param model supplies the refiner (it is trained) and everything else (kept as is); copied.
/// @throws ModelError if it has no refiner; InvalidArgument for bad options.
std::unique_ptr<Trainer> makeRefinerTrainer(const LidiffModel& model, const RefinerOptions& options);

}  // namespace lidistill::ml
