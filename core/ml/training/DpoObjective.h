#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml (includes torch): Distillation-DPO's intended generator loss
// (reference 6.5), on its own so that a test can check it on a problem whose answer is known
// (analytic scores of point masses: the winner must move toward the teacher's data, the loser
// away, by exact amounts).

#include <torch/torch.h>

namespace lidistill::ml::training {

/// One side of a preference pair: the student's sample x0 (with its graph) and the teacher's and
/// the fake score's noise predictions at x_t = x0 + sigma_t e (any graph is cut here).
struct DpoSide {
    torch::Tensor epsTeacher;
    torch::Tensor epsFake;
    torch::Tensor x0;
};

/// mean(sg(eps_T^w - eps_F^w) x0^w) - loserWeight mean(sg(eps_T^l - eps_F^l) x0^l): gradient
/// descent moves x0^w along eps_F - eps_T (toward the teacher's density) and x0^l the other way.
inline torch::Tensor linearGeneratorLoss(const DpoSide& winner, const DpoSide& loser,
                                         double loserWeight) {
    const auto gw = (winner.epsTeacher - winner.epsFake).detach();
    const auto gl = (loser.epsTeacher - loser.epsFake).detach();
    return (gw * winner.x0).mean() - loserWeight * (gl * loser.x0).mean();
}

}  // namespace lidistill::ml::training
