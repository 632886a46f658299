// SPDX-License-Identifier: MIT
#include "core/ml/training/Distributed.h"

#include "core/base/Error.h"
#include "core/ml/training/DistributedOps.h"

#ifdef LIDISTILL_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#include <torch/torch.h>

#include <chrono>

namespace lidistill::ml {

struct ProcessGroup::Impl {
    int rank = 0;
    int size = 1;
#ifdef LIDISTILL_HAVE_GLOO
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
#endif
};

bool distributedAvailable() {
#ifdef LIDISTILL_HAVE_GLOO
    return true;
#else
    return false;
#endif
}

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;
int ProcessGroup::rank() const noexcept {
    return m_impl->rank;
}
int ProcessGroup::size() const noexcept {
    return m_impl->size;
}

std::shared_ptr<ProcessGroup> ProcessGroup::connect(const DistributedOptions& o) {
    if (o.worldSize < 1 || o.rank < 0 || o.rank >= o.worldSize || o.port < 1 || o.port > 65535 ||
        !(o.timeoutSeconds > 0)) {
        throw InvalidArgument("distributed training: need 0 <= rank < world size and a port "
                              "in 1..65535");
    }
    auto impl = std::make_unique<Impl>();
    impl->rank = o.rank;
    impl->size = o.worldSize;
#ifdef LIDISTILL_HAVE_GLOO
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(o.timeoutSeconds * 1000));
    try {
        c10d::TCPStoreOptions so;
        so.port = static_cast<std::uint16_t>(o.port);
        so.isServer = o.rank == 0;
        so.numWorkers = o.worldSize;
        so.waitWorkers = false;
        so.timeout = timeout;
        impl->store = c10::make_intrusive<c10d::TCPStore>(o.address, so);
        auto opts = c10d::ProcessGroupGloo::Options::create();
        opts->timeout = timeout;
        // Loopback for a group on one machine; else the interface this host's name resolves to.
        opts->devices.push_back(o.address == "127.0.0.1" || o.address == "localhost"
                                    ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                    : c10d::ProcessGroupGloo::createDefaultDevice());
        impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, o.rank,
                                                                  o.worldSize, opts);
    } catch (const std::exception& e) {
        throw IoError(o.address + ":" + std::to_string(o.port),
                      std::string("distributed rendezvous failed (rank ") +
                          std::to_string(o.rank) + " of " + std::to_string(o.worldSize) +
                          "): " + e.what());
    }
#else
    if (o.worldSize > 1) {
        throw InvalidArgument("this lidistill was built without c10d Gloo (apt install "
                              "libgloo-dev and rebuild): no distributed training");
    }
#endif
    return std::shared_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

bool ProcessGroup::anyTrue(bool local) {
    if (m_impl->size == 1) return local;
    std::vector<torch::Tensor> t{torch::full({1}, local ? 1.0f : 0.0f)};
    distributed::allreduceSum(*this, t);
    return t[0].item<float>() > 0;
}

namespace distributed {

void allreduceSum(ProcessGroup& g, std::vector<torch::Tensor>& tensors) {
#ifdef LIDISTILL_HAVE_GLOO
    if (g.size() == 1) return;
    g.impl().group->allreduce(tensors)->wait();
#else
    (void)g;
    (void)tensors;
#endif
}

void averageGradients(ProcessGroup& g, const std::vector<torch::Tensor>& params) {
    if (g.size() == 1) return;
    // One flat tensor: one collective a step, whatever the number of parameters.
    std::vector<torch::Tensor> grads;
    for (const auto& p : params) {
        grads.push_back(p.grad().defined() ? p.grad().reshape({-1}).to(torch::kCPU)
                                           : torch::zeros({p.numel()}, p.options().device(torch::kCPU)));
    }
    std::vector<torch::Tensor> flat{torch::cat(grads)};
    allreduceSum(g, flat);
    flat[0].mul_(1.0 / g.size());
    std::int64_t at = 0;
    torch::NoGradGuard noGrad;
    for (const auto& p : params) {
        const auto n = p.numel();
        auto avg = flat[0].narrow(0, at, n).view(p.sizes()).to(p.device());
        if (p.grad().defined()) {
            p.mutable_grad().copy_(avg);
        } else {
            p.mutable_grad() = avg.clone();
        }
        at += n;
    }
}

void broadcastFromRank0(ProcessGroup& g, torch::nn::Module& module, bool buffersOnly) {
#ifdef LIDISTILL_HAVE_GLOO
    if (g.size() == 1) return;
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> all;
    if (!buffersOnly) {
        for (auto& p : module.parameters()) all.push_back(p);
    }
    for (auto& b : module.buffers()) all.push_back(b);
    for (auto& t : all) {
        std::vector<torch::Tensor> one{t.to(torch::kCPU).contiguous()};
        c10d::BroadcastOptions bo;
        bo.rootRank = 0;
        g.impl().group->broadcast(one, bo)->wait();
        t.copy_(one[0]);
    }
#else
    (void)g;
    (void)module;
    (void)buffersOnly;
#endif
}

}  // namespace distributed
}  // namespace lidistill::ml
