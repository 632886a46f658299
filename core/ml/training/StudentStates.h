#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml (includes torch): the student trainers' training states
// (DDIL, core/ml/StudentStates.h) and the student's one-step jump from a state to t = 0. The
// Distillation-DPO and ScoreLiDAR trainers share it, so both get DDIL the same way.

#include "core/ml/ModelImpl.h"
#include "core/ml/StudentStates.h"
#include "core/ml/diffusion/DpmSolver.h"
#include "core/ml/training/Trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace lidistill::ml::training {

/// A noise predictor already conditioned on the scan: eps(x, t) for points x at timestep t.
using EpsFn = std::function<torch::Tensor(const torch::Tensor& x, int t)>;

/// Which state a student step trains at.
struct StateChoice {
    enum Source : int { Forward = 0, Teacher = 1, Student = 2 };
    int k = 0;    ///< the student's sampler step (0: the first, t = 999)
    int t = 999;  ///< its timestep
    int source = Student;
};

/// A kept rollout: the example it belongs to, where it was taken, and its states (one a start
/// noise scale: Distillation-DPO keeps two, eps and lambda eps).
struct ReplayEntry {
    TrainingExample example;
    StateChoice choice;
    std::vector<torch::Tensor> states;
};

/// The denoiser's noise prediction at points x and timestep t, voxelised as `model` does (no
/// gradient into x's voxel features: the student trainers differentiate through x0 itself).
inline torch::Tensor epsOf(const LidiffModel::Impl& model, nets::MinkUNetDiff& net,
                           const sparse::SparseTensor& cond, const torch::Tensor& x, int t) {
    return net(model.voxelize(x.detach()), cond, torch::full({1}, t, torch::kLong));
}

/// The scan one phase of a student step works on: the step's example or a replayed rollout's.
struct StudentScene {
    const PointCloud* partial = nullptr;
    const PointCloud* truth = nullptr;
    torch::Tensor p;      ///< the partial scan on the model's device
    torch::Tensor xInit;  ///< p tiled
    torch::Tensor gt;     ///< the truth on the device, made when a state needs it
    sparse::SparseTensor cond;  ///< the frozen encoder's condition
};

/// @param model supplies the encoder (run in eval mode, no gradient) and the device.
StudentScene makeScene(LidiffModel::Impl& model, const PointCloud& partial,
                       const PointCloud& truth, int tile);

/// The scene a phase of a step works on: `own` (the step's example), or, when the phase replays
/// a rollout, one made from the rollout's example and held in `kept` for the phase.
StudentScene& phaseScene(LidiffModel::Impl& model, int tile, StudentScene& own,
                         const ReplayEntry* replay, std::optional<StudentScene>& kept);

/// The scene's truth on the device (made once, on first use).
const torch::Tensor& truthOf(StudentScene& sc);

/// Start states of a student step (one a noise scale) and where they were taken.
struct StudentStarts {
    StateChoice choice;
    std::vector<torch::Tensor> x;
    bool replayed = false;
};

/// G's rows resampled to n (without replacement while G has enough, as LiDiff's 180k sample):
/// the forward source and the index-aligned losses need one GT row a generated point.
torch::Tensor resampleRows(const torch::Tensor& g, std::int64_t n, at::Generator& gen);

class StudentStates {
public:
    /// @throws InvalidArgument for bad options.
    StudentStates(const StudentStateOptions& options, const diffusion::NoiseSchedule& schedule);

    const StudentStateOptions& options() const { return m_options; }
    /// Training progress in [0, 1]: where the sources' probabilities are between start and end.
    void setProgress(double fraction) { m_progress = std::clamp(fraction, 0.0, 1.0); }

    /// With probability replayProb (and a non-empty buffer) a kept rollout, else nullptr. Draws
    /// nothing with the default options.
    const ReplayEntry* pickReplay(at::Generator& gen) const;
    /// The step and source of a fresh state. Draws nothing with the default options (k = 0).
    StateChoice choose(at::Generator& gen) const;
    /// The states at `choice` for the starts x_init + scale_i base (forward: G + sigma_t scale_i
    /// base, G resampled to x_init's rows). Rollouts draw their sampler noise from `gen`.
    std::vector<torch::Tensor> make(const StateChoice& choice, const torch::Tensor& xInit,
                                    const torch::Tensor& partial, const torch::Tensor& truth,
                                    const std::vector<float>& scales, const torch::Tensor& base,
                                    const EpsFn& teacher, const EpsFn& student,
                                    at::Generator& gen) const;
    /// The starts of a phase: a replayed entry's states, or states made now at a fresh choice
    /// (x_init + scale_i base at k = 0; else make() with the teacher's and the student's
    /// denoisers, both in eval mode, and kept). `base` noise is drawn here, after the choice.
    StudentStarts starts(StudentScene& scene, const ReplayEntry* replay,
                         const std::vector<float>& scales, const LidiffModel::Impl& teacher,
                         nets::MinkUNetDiff& student, at::Generator& gen);
    /// A phase of a step as it begins: maybe a replayed rollout (pickReplay), the scene it works
    /// on (phaseScene) and its starts (starts(), with `student`'s denoiser).
    struct Phase {
        std::optional<StudentScene> kept;  ///< a replayed rollout's scene
        StudentScene* own = nullptr;
        StudentStarts starts;
        StudentScene& scene() { return kept ? *kept : *own; }
    };
    Phase beginPhase(LidiffModel::Impl& student, int tile, StudentScene& own,
                     const std::vector<float>& scales, const LidiffModel::Impl& teacher,
                     at::Generator& gen);
    /// Keeps a rollout (forward states and k = 0 are cheap to make again and are not kept).
    void remember(const TrainingExample& example, const StateChoice& choice,
                  const std::vector<torch::Tensor>& states);

    /// The student's first-order SDE-DPM++ jump from state x at timestep t to 0, given its noise
    /// prediction e and the jump's own noise z (t = 999: the released one-step generator).
    torch::Tensor jump(const torch::Tensor& xInit, const torch::Tensor& x, int t,
                       const torch::Tensor& e, const torch::Tensor& z) const;
    /// Reflection: x clamped to the partial scan's box grown by reflectMargin (off: x itself).
    torch::Tensor reflect(const torch::Tensor& x, const torch::Tensor& partial) const;

    /// The replay buffer, into and out of a trainer's state file (exact resume).
    void save(torch::serialize::OutputArchive& archive) const;
    void load(torch::serialize::InputArchive& archive);

private:
    torch::Tensor rollout(const EpsFn& eps, const torch::Tensor& xInit,
                          const torch::Tensor& partial, torch::Tensor x, int k,
                          at::Generator& gen) const;

    StudentStateOptions m_options;
    const diffusion::NoiseSchedule& m_schedule;
    std::vector<int> m_timesteps;
    double m_progress = 0;
    std::vector<ReplayEntry> m_buffer;
    std::int64_t m_added = 0;  // rollouts ever kept: the ring's write position
};

}  // namespace lidistill::ml::training
