#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml (includes torch): the intended distillation losses of
// ScoreLiDAR (reference 5.4) and Distillation-DPO (6.5), on their own so that tests can check
// them on problems whose answer is known (analytic scores of point masses: a winner must move
// toward the teacher's data, a loser away, by exact amounts).

#include <torch/torch.h>

namespace lidistill::ml::training {

/// One side of a preference pair: the student's sample x0 (with its graph) and the teacher's and
/// the fake score's noise predictions at x_t = x0 + sigma_t e (any graph is cut here).
struct DpoSide {
    torch::Tensor epsTeacher;
    torch::Tensor epsFake;
    torch::Tensor x0;
};

/// The intended distillation surrogate of ScoreLiDAR and Distillation-DPO (reference 5.4):
/// mean(sg(eps_T - eps_F) x0); descent moves x0 along eps_F - eps_T, toward the teacher's density.
inline torch::Tensor distillationLoss(const DpoSide& side) {
    return ((side.epsTeacher - side.epsFake).detach() * side.x0).mean();
}

/// mean(sg(eps_T^w - eps_F^w) x0^w) - loserWeight mean(sg(eps_T^l - eps_F^l) x0^l): gradient
/// descent moves x0^w along eps_F - eps_T (toward the teacher's density) and x0^l the other way.
inline torch::Tensor linearGeneratorLoss(const DpoSide& winner, const DpoSide& loser,
                                         double loserWeight) {
    return distillationLoss(winner) - loserWeight * distillationLoss(loser);
}

}  // namespace lidistill::ml::training
