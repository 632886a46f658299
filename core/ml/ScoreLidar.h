#pragma once
// SPDX-License-Identifier: MIT
//
// ScoreLiDAR (lidiff-family.md 5): a few-step student G, initialised from the teacher, trained
// by variational score distillation plus structural losses. Each step first trains a fake score
// phi (a teacher copy) on G's samples by denoising score matching, then G on a fresh sample x0
// from its state (x_init + eps at t = 999, or a DDIL state, StudentStates.h):
//   L_G = distillWeight L_distill + sceneWeight L_scene + pointWeight L_point.
// L_distill, intended (5.4): mean(sg(eps_T(x_t) - eps_phi(x_t)) x0), x_t = x0 + sigma_t e;
// descent moves x0 along eps_phi - eps_T, toward the teacher's density. As released it is
// mean((eps_T - eps_phi)(x_t - x0)), whose gradient is exactly zero (reference 0.2).
// L_scene: the Chamfer loss to the ground truth (squared, both ways) by nearest neighbours, or
// as released the index-aligned MSE to the ground truth resampled to x0's rows (0.3).
// L_point: keypoints are the ground-truth points of highest curvature (their k nearest
// neighbours' covariance, lambda_min / trace, over a random subset); the MSE between the
// keypoints' distance matrix and that of their counterparts in x0: each keypoint's nearest point,
// or as released the point at the same index. Plain SGD for G and phi. Torch-free interface.

#include "core/ml/Model.h"
#include "core/ml/StudentStates.h"
#include "core/ml/training/Trainer.h"

#include <memory>

namespace lidistill::ml {

struct ScoreLidarOptions {
    enum class Distill { Intended, Released };
    enum class Structure { Nearest, IndexAligned };
    Distill distill = Distill::Intended;
    Structure structure = Structure::Nearest;
    double learningRate = 3e-5;    ///< SGD, both optimizers (reference 5.2)
    double gradClip = 0;           ///< max gradient norm per optimizer; 0: none, as released
    double distillWeight = 1.0;
    double sceneWeight = 0.5;      ///< scene_wise_weight
    double pointWeight = 0.01;     ///< point_wise_weight
    double subsetFraction = 0.1;   ///< ground-truth rows whose curvature is computed (18k of 180k)
    double keypointFraction = 1.0 / 30.0;  ///< keypoints, of the generated rows (6k of 180k)
    int curvatureNeighbours = 180;
    int tile = 10;                 ///< x_init = the partial scan tiled this many times
    /// Examples a step, each with its own noise, gradients averaged: what `accumulate` ranks of
    /// a process group (Trainer::setProcessGroup) do together.
    int accumulate = 1;
    StudentStateOptions states;    ///< DDIL; default: x_init + eps at t = 999
};

/// The trainer (a batch of options.accumulate examples, the metrics their means; data-parallel
/// with setProcessGroup, except with DDIL's replay buffer; validation: 8-step completion, w 3.5).
/// The student keeps the teacher's encoder (frozen) and refiner; G and phi start as copies of the
/// teacher's denoiser (G of `student` when given, to go on from one). The teacher must outlive the
/// trainer. Each metrics record has loss_g, loss_distill, loss_scene, loss_point, loss_aux, grad_g,
/// grad_aux and cd_sample (the Chamfer distance of the G step's sample); with DDIL also state_k,
/// state_source and replayed. @throws ModelError if the teacher lacks an encoder or denoiser;
/// InvalidArgument for bad options or a student of another scale.
std::unique_ptr<Trainer> makeScoreLidarTrainer(const LidiffModel& teacher,
                                               const ScoreLidarOptions& options,
                                               const LidiffModel* student = nullptr);

}  // namespace lidistill::ml
