#pragma once
// SPDX-License-Identifier: MIT
//
// DDIL for LiDAR (lidiff-family.md 10): where the states a few-step student is trained on come
// from. The student samples with K steps at t_0 = 999 > t_1 > ... (the sampler's timesteps) but
// the released trainers only ever train it at t_0 on x_init + eps; at t_k > 0 it meets states
// its own earlier steps made (covariate shift). Here each student training step picks a step
// k < K and a source for the state at t_k, then trains the student's jump t_k -> 0 from it:
//   forward  G + sigma_{t_k} eps (the local forward process of the ground truth, reference 3.1);
//   teacher  the teacher's K-step sampler run from x_init + eps down to t_k;
//   student  the student's own sampler run the same way (DMD2's "backward simulation").
// Rollouts run without gradient, conditional only (as the student is trained), in eval mode.
// The sources' probabilities go linearly from `start` to `end` over the run (DAgger-like: more
// student states as it learns). Rollout states are kept in a replay buffer and reused with
// probability replayProb (dataset aggregation, cheaper steps). The defaults (K = 1) are the
// released trainers' behaviour: every state is x_init + eps at t = 999. Torch-free.

#include <array>
#include <string>

namespace lidistill::ml {

struct StudentStateOptions {
    /// K, the student's sampler steps whose states it is trained at (1: t = 999 only).
    int studentSteps = 1;
    /// Probabilities of the sources forward, teacher, student at the start and at the end of
    /// training (each sums to 1; linear in between).
    std::array<double, 3> start{0.0, 0.0, 1.0};
    std::array<double, 3> end{0.0, 0.0, 1.0};
    int replaySize = 0;       ///< rollout states kept (0: no replay)
    double replayProb = 0.0;  ///< probability that a step reuses a kept state
    /// Reflection (reference 10's "thresholding" analogue): rollout states and the student's
    /// predictions from them are clamped to the partial scan's bounding box grown by this many
    /// metres. 0: off.
    double reflectMargin = 0.0;

    /// Whether these are the released behaviour (then no random number is drawn for states).
    bool isDefault() const { return studentSteps == 1 && replaySize == 0; }
    /// @throws InvalidArgument naming the bad option.
    void validate() const;
    /// "K=8 start=0.5,0.25,0.25 end=0,0.25,0.75 replay=64@0.5 reflect=2" (logs, run.json).
    std::string describe() const;
};

}  // namespace lidistill::ml
