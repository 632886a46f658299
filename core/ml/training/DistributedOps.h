#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml (includes torch): the collectives the trainers use.

#include "core/ml/training/Distributed.h"

#include <torch/torch.h>

#include <vector>

namespace lidistill::ml::distributed {

/// In place, on CPU tensors; nothing for a group of one.
void allreduceSum(ProcessGroup& group, std::vector<torch::Tensor>& tensors);
/// Every parameter's gradient becomes the mean over the ranks (the sum, then / size: a sum of
/// two is the same float whatever the order, so two ranks equal one process that accumulates).
void averageGradients(ProcessGroup& group, const std::vector<torch::Tensor>& params);
/// Rank 0's parameters (unless buffersOnly) and buffers onto every rank.
void broadcastFromRank0(ProcessGroup& group, torch::nn::Module& module, bool buffersOnly);

}  // namespace lidistill::ml::distributed
