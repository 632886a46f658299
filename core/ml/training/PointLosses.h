#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml (includes torch): losses between point sets that the trainers
// share. Correspondences (nearest neighbours) are found without gradient, on the CPU; the
// distances to them carry the gradient, which is the loss's gradient wherever the neighbours do
// not change. The refiner (reference 3.6) and ScoreLiDAR's structural losses (5.3, 5.4) use them.

#include "core/metrics/NearestNeighborIndex.h"
#include "core/ml/ModelImpl.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace lidistill::ml::training {

/// Nearest row of `to` for every row of `from` (both [N, 3] float), as int64 CPU indices.
inline torch::Tensor nearestRows(const torch::Tensor& from, const torch::Tensor& to) {
    const auto a = detail::cloudOf(from), b = detail::cloudOf(to);
    const metrics::NearestNeighborIndex index(b.xyz);
    std::vector<double> dist;
    std::vector<std::uint32_t> idx;
    index.nearest(a.xyz, dist, &idx);
    return torch::tensor(std::vector<std::int64_t>(idx.begin(), idx.end()), torch::kLong);
}

/// pytorch3d's chamfer_distance: the mean squared nearest distance each way, summed.
inline torch::Tensor chamferLoss(const torch::Tensor& pred, const torch::Tensor& target) {
    torch::Tensor toTarget, toPred;
    {
        torch::NoGradGuard noGrad;
        toTarget = nearestRows(pred, target).to(pred.device());
        toPred = nearestRows(target, pred).to(pred.device());
    }
    return (pred - target.index_select(0, toTarget)).pow(2).sum(1).mean() +
           (target - pred.index_select(0, toPred)).pow(2).sum(1).mean();
}

/// Pairwise Euclidean distances of the rows of x ([K, 3] -> [K, K]); the epsilon keeps the
/// gradient finite at coincident points (the diagonal, or two keypoints matched to one point).
inline torch::Tensor pairwiseDistances(const torch::Tensor& x) {
    const auto sq = x.pow(2).sum(1);
    const auto d2 = sq.unsqueeze(1) + sq.unsqueeze(0) - 2.0 * x.matmul(x.t());
    return (d2.clamp_min(0) + 1e-12).sqrt();
}

/// ScoreLiDAR's curvature (reference 5.3) of every row of s: its k nearest other rows' covariance
/// (divided by k), lambda_min / (lambda_1 + lambda_2 + lambda_3). Chunked: s may have 18k rows.
inline torch::Tensor curvature(const torch::Tensor& s, int k) {
    torch::NoGradGuard noGrad;
    const auto m = s.size(0);
    k = static_cast<int>(std::min<std::int64_t>(k, m - 1));
    if (k < 3) return torch::zeros({m}, s.options());
    std::vector<torch::Tensor> out;
    for (std::int64_t a = 0; a < m; a += 1024) {
        const auto rows = s.slice(0, a, std::min(m, a + 1024));
        const auto d = torch::cdist(rows, s);
        const auto idx = std::get<1>(d.topk(k + 1, 1, /*largest=*/false)).slice(1, 1);  // no self
        const auto nb = s.index_select(0, idx.reshape({-1})).view({rows.size(0), k, 3});
        const auto c = nb - nb.mean(1, true);
        const auto cov = c.transpose(1, 2).matmul(c) / double(k);
        const auto ev = torch::linalg_eigvalsh(cov);  // ascending
        out.push_back(ev.select(1, 0) / ev.sum(1).clamp_min(1e-12));
    }
    return torch::cat(out);
}

/// Rows of `truth` (indices) that are ScoreLiDAR's keypoints: the `count` of highest curvature
/// among the rows `subset`, curvature from k neighbours within the subset.
inline torch::Tensor curvatureKeypoints(const torch::Tensor& truth, const torch::Tensor& subset,
                                        std::int64_t count, int k) {
    torch::NoGradGuard noGrad;
    const auto curv = curvature(truth.index_select(0, subset), k);
    count = std::min<std::int64_t>(count, subset.size(0));
    return subset.index_select(0, std::get<1>(curv.topk(count)));
}

/// The point-wise structural loss: MSE between the keypoints' distance matrix in the truth and
/// that of their counterparts in x0: each keypoint's nearest point of x0 (reference 5.4), or,
/// `indexAligned`, the row of x0 with the keypoint's index (as released, 5.3; x0 and truth must
/// then have as many rows).
inline torch::Tensor keypointLoss(const torch::Tensor& x0, const torch::Tensor& truth,
                                  const torch::Tensor& keypoints, bool indexAligned) {
    const auto gt = truth.index_select(0, keypoints);
    torch::Tensor match = keypoints;
    if (!indexAligned) {
        torch::NoGradGuard noGrad;
        match = nearestRows(gt, x0).to(x0.device());
    }
    return torch::mse_loss(pairwiseDistances(x0.index_select(0, match)),
                           pairwiseDistances(gt).detach());
}

}  // namespace lidistill::ml::training
