#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml (includes torch): what a LidiffModel holds, for the code in
// lidistill_ml that keeps tensors on the model's device across calls (Completion.cpp).

#include "core/base/Allocator.h"
#include "core/base/Error.h"
#include "core/ml/Model.h"
#include "core/ml/nn/Networks.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace lidistill::ml {

namespace detail {
/// c10 defaults to hardware_concurrency / 2 intra-op threads (1 on a 2-core machine), which
/// halves CLI throughput. Use every core unless the user pinned OMP_NUM_THREADS.
inline void useAllCoresOnce() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (std::getenv("OMP_NUM_THREADS") == nullptr) {
            at::set_num_threads(
                static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
        }
    });
}

/// Intra-op threads for a call over `points` points on the CPU. Below ~100k points the ops are
/// too small to split: waking the pool for each of the thousands of small ops of a forward
/// costs more than it saves (a lite-scale training step measured 2.5 s with 2 threads and
/// 0.95 s with 1; bench_ml_lite), so small models run on one core and leave the other to the
/// data loader or a second run. Large calls use every core. OMP_NUM_THREADS, when set, wins.
inline void useThreadsFor(std::int64_t points, const torch::Device& device) {
    if (!device.is_cpu() || std::getenv("OMP_NUM_THREADS") != nullptr) return;
    const int want =
        points <= 100000 ? 1 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (at::get_num_threads() != want) at::set_num_threads(want);
}

/// xyz of a cloud as a float [N, 3] CPU tensor. @throws InvalidArgument if it is empty.
inline torch::Tensor xyzTensor(const PointCloud& cloud, const char* what) {
    if (cloud.empty()) throw InvalidArgument(std::string(what) + " cloud is empty");
    auto t = torch::empty({static_cast<std::int64_t>(cloud.size()), 3}, torch::kFloat);
    std::memcpy(t.data_ptr<float>(), cloud.xyz.data(), cloud.size() * sizeof(Vec3f));
    return t;
}

/// The inverse: an [N, 3] tensor on any device as a host-side cloud of xyz.
inline PointCloud cloudOf(const torch::Tensor& xyz) {
    const auto t = xyz.detach().to(torch::kCPU, torch::kFloat).contiguous();
    PointCloud c;
    c.xyz.resize(static_cast<std::size_t>(t.size(0)));
    std::memcpy(c.xyz.data(), t.data_ptr<float>(), c.xyz.size() * sizeof(Vec3f));
    return c;
}
}  // namespace detail

struct LidiffModel::Impl {
    Impl() {
        detail::useAllCoresOnce();
        retainFreedMemory();
    }
    ModelConfig config;
    nets::MinkGlobalEnc encoder{nullptr};
    nets::MinkUNetDiff denoiser{nullptr};
    nets::MinkUNet refiner{nullptr};

    std::vector<std::pair<std::string, torch::nn::Module*>> networks() {
        std::vector<std::pair<std::string, torch::nn::Module*>> out;
        if (encoder) out.emplace_back("encoder", encoder.get());
        if (denoiser) out.emplace_back("denoiser", denoiser.get());
        if (refiner) out.emplace_back("refiner", refiner.get());
        return out;
    }
    void build(const ModelConfig& c) {
        config = c;
        if (c.hasEncoder) encoder = nets::MinkGlobalEnc(c.width, c.inChannels);
        if (c.hasDenoiser) denoiser = nets::MinkUNetDiff(c.width, c.inChannels);
        if (c.hasRefiner) refiner = nets::MinkUNet(c.width, c.inChannels, c.refinerOutChannels);
        for (auto& [name, m] : networks()) m->eval();
    }
    torch::Device device{torch::kCPU};

    /// One batch element voxelised as LiDiff does: coordinates from `xyz` (on this device),
    /// features the per-voxel mean of `feats` (default: xyz itself; pass a tensor with a graph
    /// to differentiate through the features).
    sparse::TensorField voxelize(const torch::Tensor& xyz, const torch::Tensor& feats = {}) const {
        auto batch = torch::zeros({xyz.size(0)}, torch::TensorOptions(torch::kLong).device(device));
        return sparse::pointsToVoxels(xyz, batch, feats.defined() ? feats : xyz, config.voxelSize);
    }
    sparse::TensorField field(const PointCloud& cloud, const char* what) const {
        return voxelize(detail::xyzTensor(cloud, what).to(device));
    }
};

}  // namespace lidistill::ml
