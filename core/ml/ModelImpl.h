#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml (includes torch): what a LidiffModel holds, for the code in
// lidistill_ml that keeps tensors on the model's device across calls (Completion.cpp).

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

/// xyz of a cloud as a float [N, 3] CPU tensor. @throws InvalidArgument if it is empty.
inline torch::Tensor xyzTensor(const PointCloud& cloud, const char* what) {
    if (cloud.empty()) throw InvalidArgument(std::string(what) + " cloud is empty");
    auto t = torch::empty({static_cast<std::int64_t>(cloud.size()), 3}, torch::kFloat);
    std::memcpy(t.data_ptr<float>(), cloud.xyz.data(), cloud.size() * sizeof(Vec3f));
    return t;
}
}  // namespace detail

struct LidiffModel::Impl {
    Impl() { detail::useAllCoresOnce(); }
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

    sparse::TensorField field(const PointCloud& cloud, const char* what) const {
        auto xyz = detail::xyzTensor(cloud, what).to(device);
        auto batch = torch::zeros({xyz.size(0)}, torch::TensorOptions(torch::kLong).device(device));
        return sparse::pointsToVoxels(xyz, batch, xyz, config.voxelSize);
    }
};

}  // namespace lidistill::ml
