#pragma once
// SPDX-License-Identifier: MIT
// Helpers for tests that run whole LiDiff models.

#include "core/ml/Completion.h"
#include "core/ml/ModelImpl.h"

namespace lidistill::ml::modeltest {

/// A fresh network's activations shrink through its layers (eval-mode BN at its initial
/// statistics), so eps would hardly depend on x or on the condition. Calibrating BN on the data
/// (one training-mode completion with momentum 1 sets the running statistics to the batch's)
/// keeps them O(1), so tests can tell conditions, inputs and objectives apart.
inline void calibrateBatchNorm(LidiffModel& model, const PointCloud& scan, CompletionOptions o) {
    auto& impl = model.impl();
    for (torch::nn::Module* net : {static_cast<torch::nn::Module*>(impl.encoder.get()),
                                   static_cast<torch::nn::Module*>(impl.denoiser.get())}) {
        for (auto& m : net->modules()) {
            if (auto bn = std::dynamic_pointer_cast<torch::nn::BatchNorm1dImpl>(m)) {
                bn->options.momentum(1.0);
            }
        }
        net->train();
    }
    o.steps = 1;
    completeScan(model, scan, o);
    impl.encoder->eval();
    impl.denoiser->eval();
}

/// Width 0.25 (a quarter of LiDiff's channels), optionally with a refiner.
inline ModelConfig smallConfig(bool refiner) {
    ModelConfig c;
    c.width = 0.25;
    c.hasRefiner = refiner;
    return c;
}

}  // namespace lidistill::ml::modeltest
