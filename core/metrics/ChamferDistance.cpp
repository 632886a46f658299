// SPDX-License-Identifier: MIT
#include "core/metrics/ChamferDistance.h"

#include "core/base/Error.h"
#include "core/metrics/NearestNeighborIndex.h"

#include <algorithm>
#include <future>

namespace lidistill::metrics {

double meanOf(const std::vector<double>& values) {
    if (values.empty()) {
        return 0.0;
    }
    // Blocked summation keeps the rounding error near numpy's pairwise sum for 1e5+ values.
    constexpr std::size_t kChunk = 4096;
    double total = 0.0;
    for (std::size_t begin = 0; begin < values.size(); begin += kChunk) {
        double part = 0.0;
        const std::size_t end = std::min(values.size(), begin + kChunk);
        for (std::size_t i = begin; i < end; ++i) {
            part += values[i];
        }
        total += part;
    }
    return total / static_cast<double>(values.size());
}

ChamferResult chamferDistance(std::span<const Vec3f> pred, std::span<const Vec3f> gt,
                              ProgressSink* progress) {
    if (pred.empty() || gt.empty()) {
        throw InvalidArgument(std::string("Chamfer distance: the ") +
                              (pred.empty() ? "prediction" : "ground truth") + " is empty.");
    }
    ChamferResult r;
    checkpoint(progress, 0.0, "chamfer: index");
    // The two trees are independent: build the GT one on a second thread meanwhile.
    auto gtFuture = std::async(std::launch::async, [gt] { return NearestNeighborIndex(gt); });
    const NearestNeighborIndex predIndex(pred);
    const NearestNeighborIndex gtIndex = gtFuture.get();
    {
        SubProgress sub(progress, 0.1, 0.55);
        gtIndex.nearest(pred, r.predToGtDistances, nullptr, &sub);
    }
    {
        SubProgress sub(progress, 0.55, 1.0);
        predIndex.nearest(gt, r.gtToPredDistances, nullptr, &sub);
    }
    r.predToGt = meanOf(r.predToGtDistances);
    r.gtToPred = meanOf(r.gtToPredDistances);
    r.chamfer = 0.5 * (r.gtToPred + r.predToGt);
    return r;
}

}  // namespace lidistill::metrics
