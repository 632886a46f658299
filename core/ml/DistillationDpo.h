#pragma once
// SPDX-License-Identifier: MIT
//
// Distillation-DPO (lidiff-family.md 6): a 1-step student G, initialised from the teacher, is
// trained on on-policy preference pairs. Each step draws one noise eps, completes the scan from
// x_init + eps and from x_init + lambda eps with G (one SDE-DPM++ step 999 -> 0, conditional),
// and the candidate with the lower Chamfer distance to the ground truth wins. Two "fake score"
// networks (phi_w, phi_l, also teacher copies) learn the student's winner and loser samples;
// then G follows the teacher-vs-fake score difference: toward the teacher's density on winners,
// away on losers.
//
// The released code's generator loss, mean((eps_T - eps_phi) * (x_t - x0)), has an exactly
// zero gradient (reference 0.2). Objective::Linear is the intended estimator with explicit
// stop-gradients: L = mean(sg(eps_T^w - eps_phi_w) x0^w) - loserWeight mean(sg(eps_T^l -
// eps_phi_l) x0^l). Objective::Released keeps the released form, for ablation and to show the
// zero gradient. Objective::Bounded is the Diffusion-DPO-style variant of reference 6.5 (not the
// authors'): L = -log sigmoid(-beta (D_w - D_l)), D = mean |eps_T(x_t) - eps_phi(x_t)|^2, with
// gradients into x0 through x_t and frozen network weights. Torch-free interface.

#include "core/base/PointCloud.h"
#include "core/ml/Model.h"
#include "core/ml/StudentStates.h"
#include "core/ml/training/Distributed.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

namespace lidistill::ml {

struct DpoOptions {
    enum class Objective { Linear, Released, Bounded };
    Objective objective = Objective::Linear;
    double learningRate = 1e-5;  ///< plain SGD for G and for the fake-score pair, as released
    double gradClip = 0.05;      ///< max gradient norm per optimizer (Lightning's clip)
    double noiseScale = 1.1;     ///< lambda of the second candidate (Table 3's best)
    double loserWeight = 1.0;    ///< weight of the unbounded repulsive loser term (Linear)
    double beta = 1000.0;        ///< Bounded: inverse temperature (a new hyper-parameter: sweep)
    int tile = 10;               ///< x_init = the partial scan tiled this many times
    /// Stored pairs (a pair store, core/pairs/PairStore.h) to train on offline; empty: every
    /// step on-policy. A person's verdict replaces the metric's; ties and skips are left out.
    std::filesystem::path pairStore;
    /// Fraction of the steps that take a stored pair (the rest are on-policy), in (0, 1].
    double pairMix = 1.0;
    /// Examples a step, each with its own noise, their gradients averaged: one process doing
    /// what `accumulate` ranks of a process group do together (setProcessGroup).
    int accumulate = 1;
    /// DDIL (StudentStates.h): the states the on-policy pairs start from. Both candidates start
    /// at the same step k from one source: rollouts from x_init + eps and x_init + lambda eps,
    /// or G + sigma_t eps and G + sigma_t lambda eps. Default: x_init + eps at t = 999.
    StudentStateOptions states;
};

/// What one training step measured.
struct DpoStepStats {
    double generatorLoss = 0;  ///< L_G (its value; only its gradient matters for Linear)
    double auxLoss = 0;        ///< MSE of phi_w plus MSE of phi_l
    double winnerChamfer = 0;  ///< CD (m) of the preferred candidate of the G step
    double loserChamfer = 0;
    bool scaledNoiseWon = false;   ///< the lambda-scaled candidate was preferred
    double scaledWonShare = 0;     ///< of the step's examples, the share where it was
    double generatorGradNorm = 0;  ///< before clipping
    double auxGradNorm = 0;
    /// Stored-pair steps: how much more than the reference (the teacher) the student prefers
    /// the winner, before the step: (err_G(l) - err_ref(l)) - (err_G(w) - err_ref(w)) with
    /// err the denoising MSE at the step's noise and timestep. 0 while G is the teacher.
    double preferenceMargin = 0;
    /// DDIL: the student's step k and the source of the G step's states (StateChoice), and
    /// whether they were a replayed rollout.
    int stateStep = 0;
    int stateSource = 2;
    bool replayed = false;
};

/// Not thread-safe. The teacher must outlive the trainer.
class DpoTrainer {
public:
    /// G, phi_w and phi_l start as copies of the teacher's denoiser (or G of `student`, to
    /// resume); the student keeps the teacher's encoder (frozen) and refiner. All on the
    /// teacher's device. @throws ModelError if the teacher lacks an encoder or denoiser;
    /// InvalidArgument for bad options or a student of another shape.
    explicit DpoTrainer(const LidiffModel& teacher, const DpoOptions& options = {},
                        const LidiffModel* student = nullptr);
    ~DpoTrainer();
    DpoTrainer(const DpoTrainer&) = delete;
    DpoTrainer& operator=(const DpoTrainer&) = delete;

    /// One optimisation step (fake scores, then G) on the partial scan P and its ground truth;
    /// `seed` draws every noise and timestep of the step.
    /// @throws InvalidArgument for empty clouds.
    DpoStepStats step(const PointCloud& partial, const PointCloud& groundTruth, std::uint64_t seed);

    /// A partial scan and its ground truth, or a stored pair's scan, winner and loser.
    struct Example {
        const PointCloud* partial = nullptr;
        const PointCloud* truth = nullptr;   ///< on-policy steps
        const PointCloud* winner = nullptr;  ///< stored-pair steps
        const PointCloud* loser = nullptr;
    };
    /// One step on several examples of one kind (on-policy or stored pairs), as step() and
    /// storedPairStep() do on one: example i (of rank r of the process group, with n a rank)
    /// draws from its own seed (example 0 of rank 0 from `seed` itself), the gradients are
    /// averaged over the examples and the ranks, and batch-norm running statistics follow
    /// example 0 of rank 0 (DDP's broadcast_buffers). So n examples in one process and n ranks
    /// of one example take the same step. The stats are the examples' mean (rank 0's).
    /// @throws InvalidArgument for no examples or empty clouds.
    DpoStepStats step(const std::vector<Example>& examples, std::uint64_t seed, bool storedPairs);

    /// Trains as one rank of `group` (Distributed.h; null: alone). Rank 0's networks are copied
    /// to every rank. @throws InvalidArgument with DDIL's replay buffer (each process would keep
    /// its own rollouts).
    void setProcessGroup(std::shared_ptr<ProcessGroup> group);

    /// One step on a stored pair (offline, as Diffusion-DPO, reference 6.5): both samples are
    /// noised at one timestep t ~ U{0..999} (x_t = x0 + sigma_t e), and G, a noise predictor
    /// conditioned on `partial`, follows L = -log sigmoid(-beta ((err_G(w) - err_ref(w)) -
    /// (err_G(l) - err_ref(l)))) with the teacher as the frozen reference: it learns to denoise
    /// the winner better, and the loser worse, than the teacher does. The fake scores do not
    /// take part. @throws InvalidArgument for empty clouds.
    DpoStepStats storedPairStep(const PointCloud& partial, const PointCloud& winner,
                                const PointCloud& loser, std::uint64_t seed);

    /// Training progress in [0, 1] (DDIL's schedule of state sources).
    void setProgress(double fraction);

    /// Sets the learning rate of both optimizers (an epoch-wise decay is the caller's schedule).
    /// @throws InvalidArgument unless positive.
    void setLearningRate(double lr);

    /// Every network that trains (G, phi_w, phi_l) and both optimizers, atomically.
    void saveState(const std::filesystem::path& file) const;
    /// @throws IoError naming the file for a missing, corrupt or foreign state.
    void loadState(const std::filesystem::path& file);

    /// The student as a model file's content (encoder, G, refiner): save() it, or complete
    /// with it (8 steps, w 3.5).
    const LidiffModel& student() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

class Trainer;
/// DpoTrainer behind the Trainer interface (a batch of options.accumulate examples;
/// validation: 8-step completion, w 3.5; data-parallel with setProcessGroup).
/// With options.pairStore, a step takes stored pairs with probability pairMix (drawn from the
/// step's seed, so every example and rank of a step agrees; each example draws its own pair),
/// reading the store's verdicts afresh each step so decisions made while the run goes are used
/// at once; every metrics record then also says from_store, pair (example 0's), pair_human (the
/// verdict was a person's), pairs_usable and pairs_human (of the store's usable pairs, those a
/// person decided). The teacher must outlive it. @throws as DpoTrainer; IoError for a store that
/// cannot be read; InvalidArgument for a mix outside (0, 1] or a store with no usable pair (none
/// with an A/B verdict and its clouds).
std::unique_ptr<Trainer> makeDpoTrainer(const LidiffModel& teacher, const DpoOptions& options);

}  // namespace lidistill::ml
