#pragma once
// SPDX-License-Identifier: MIT
//
// Internal header of lidistill_ml (includes torch): what the trainers share: whole-state files
// (networks and optimizers in one torch archive, written atomically), gradient clipping and
// averaging (accumulated examples, ranks), batch-norm buffers and the validation by completion.

#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/metrics/ChamferDistance.h"
#include "core/metrics/HistogramJsd.h"
#include "core/ml/Completion.h"
#include "core/ml/ModelImpl.h"
#include "core/ml/training/DistributedOps.h"
#include "core/ml/training/Trainer.h"

#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace lidistill::ml::training {

/// Named networks and optimizers, as they go into and come out of a state file.
struct StateParts {
    std::vector<std::pair<std::string, torch::nn::Module*>> modules;
    std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers;
    /// Anything else a trainer keeps (a replay buffer), written into and read from the archive.
    std::function<void(torch::serialize::OutputArchive&)> saveExtra;
    std::function<void(torch::serialize::InputArchive&)> loadExtra;
};

/// The format tag inside every state file: a file of another trainer is refused by name.
inline void saveStateFile(const std::filesystem::path& file, const std::string& kind,
                          const StateParts& parts) {
    torch::serialize::OutputArchive archive;
    archive.write("lidistill_state_kind", torch::tensor(std::vector<std::int64_t>(
                                              kind.begin(), kind.end())));
    for (const auto& [name, m] : parts.modules) {
        torch::serialize::OutputArchive sub;
        m->save(sub);
        archive.write("module." + name, sub);
    }
    for (const auto& [name, opt] : parts.optimizers) {
        torch::serialize::OutputArchive sub;
        opt->save(sub);
        archive.write("optimizer." + name, sub);
    }
    if (parts.saveExtra) parts.saveExtra(archive);
    // Synced: checkpoint.json, written next, must never name a state still in the page cache.
    writeViaTemp(file, [&](const std::filesystem::path& tmp) { archive.save_to(tmp.string()); },
                 Durable::yes);
}

inline void loadStateFile(const std::filesystem::path& file, const std::string& kind,
                          const StateParts& parts) {
    if (!std::filesystem::exists(file)) throw IoError(file, "no such training state file");
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(file.string());
        torch::Tensor tag;
        archive.read("lidistill_state_kind", tag);
        const auto* p = tag.data_ptr<std::int64_t>();
        const std::string found(p, p + tag.numel());
        if (found != kind) {
            throw IoError(file, "holds the state of a '" + found + "' trainer, not '" + kind + "'");
        }
        for (const auto& [name, m] : parts.modules) {
            torch::serialize::InputArchive sub;
            archive.read("module." + name, sub);
            m->load(sub);
        }
        for (const auto& [name, opt] : parts.optimizers) {
            torch::serialize::InputArchive sub;
            archive.read("optimizer." + name, sub);
            opt->load(sub);
        }
        if (parts.loadExtra) parts.loadExtra(archive);
    } catch (const c10::Error& e) {
        const std::string msg = e.what_without_backtrace();
        throw IoError(file, "not a readable training state (" + msg.substr(0, 200) + ")");
    }
}

/// Copies every parameter and buffer of `from` into the same-named tensors of `to`.
/// @throws InvalidArgument naming the first tensor that is missing or shaped differently.
inline void copyWeights(torch::nn::Module& from, torch::nn::Module& to) {
    torch::NoGradGuard noGrad;
    auto src = from.named_parameters(true);
    for (auto& p : to.named_parameters(true)) {
        const auto* s = src.find(p.key());
        if (!s || s->sizes() != p.value().sizes()) {
            throw InvalidArgument("networks differ at '" + p.key() + "'");
        }
        p.value().copy_(*s);
    }
    auto srcBuf = from.named_buffers(true);
    for (auto& b : to.named_buffers(true)) {
        if (const auto* s = srcBuf.find(b.key())) b.value().copy_(*s);
    }
}

/// copyWeights for every network the two models both have (encoder, denoiser, refiner).
inline void copyNetworks(LidiffModel::Impl& from, LidiffModel::Impl& to) {
    auto src = from.networks();
    for (auto& [name, module] : to.networks()) {
        for (auto& [sname, smodule] : src) {
            if (sname == name) copyWeights(*smodule, *module);
        }
    }
}

/// Lightning's gradient_clip_val: total L2 norm (returned, before clipping); 0 = no clipping.
inline double clipGradNorm(const std::vector<torch::Tensor>& params, double maxNorm) {
    return torch::nn::utils::clip_grad_norm_(
        params, maxNorm > 0 ? maxNorm : std::numeric_limits<double>::infinity());
}

/// The seed of example i of a step (i counts over every rank's examples: rank r's example j is
/// r * perRank + j), so that n examples in one process draw what n ranks of one example draw.
/// Example 0 keeps the step's seed.
inline std::uint64_t exampleSeed(std::uint64_t seed, int i) {
    return i == 0 ? seed : seed ^ (0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(i));
}

/// A module's buffers (batch-norm running statistics), to put back with restoreBuffers: an
/// accumulating process keeps only its first example's updates, as ranks keep rank 0's.
inline std::vector<torch::Tensor> snapshotBuffers(torch::nn::Module& module) {
    std::vector<torch::Tensor> out;
    for (const auto& b : module.buffers()) out.push_back(b.clone());
    return out;
}
inline void restoreBuffers(torch::nn::Module& module, const std::vector<torch::Tensor>& saved) {
    torch::NoGradGuard noGrad;
    auto buffers = module.buffers();
    for (std::size_t i = 0; i < buffers.size() && i < saved.size(); ++i) buffers[i].copy_(saved[i]);
}

/// After `parts` examples added their gradients: the mean over them (and over the ranks of
/// `group`, when given), in the order that makes n ranks equal one process of n examples.
inline void averageAccumulated(const std::vector<torch::Tensor>& params, int parts,
                               ProcessGroup* group) {
    if (group) distributed::averageGradients(*group, params);
    if (parts > 1) {
        torch::NoGradGuard noGrad;
        for (torch::Tensor p : params) {
            if (p.grad().defined()) p.mutable_grad().mul_(1.0 / parts);
        }
    }
}

/// One step of `opt` on the mean gradient of n examples (of this process; with `group`, of
/// every rank's): backward(i) adds example i's gradient; then averaged, clipped at `clip` (0:
/// not) and applied. `trained`, the networks that run in training mode, keep the batch-norm
/// running statistics of example 0 only and then take rank 0's, as DDP's broadcast_buffers
/// does, so n examples in one process end where n ranks of one example end.
/// @return the gradient norm before clipping.
inline double stepOnMeanGradient(std::size_t n, torch::optim::Optimizer& opt, double clip,
                                 ProcessGroup* group,
                                 const std::vector<torch::nn::Module*>& trained,
                                 const std::function<void(std::size_t)>& backward) {
    opt.zero_grad();
    for (std::size_t i = 0; i < n; ++i) {
        std::vector<std::vector<torch::Tensor>> saved;
        if (i > 0) {
            for (auto* net : trained) saved.push_back(snapshotBuffers(*net));
        }
        backward(i);
        for (std::size_t k = 0; k < saved.size(); ++k) restoreBuffers(*trained[k], saved[k]);
    }
    const auto params = opt.param_groups()[0].params();
    averageAccumulated(params, static_cast<int>(n), group);
    const double norm = clipGradNorm(params, clip);
    opt.step();
    if (group) {
        for (auto* net : trained) distributed::broadcastFromRank0(*group, *net, true);
    }
    return norm;
}

inline void setAdamLearningRate(torch::optim::Adam& opt, double lr) {
    if (!(lr > 0) || !std::isfinite(lr)) throw InvalidArgument("learning rate must be positive");
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

/// CD and BEV-JSD of a completion of `scan` against `truth` (diffused and, with a refiner,
/// refined), with `model`'s own scale.
inline MetricsRecord validateByCompletion(const LidiffModel& model, const PointCloud& scan,
                                          const PointCloud& truth, int steps, double guidance,
                                          std::uint64_t seed) {
    auto o = completionOptionsFor(model.config());
    o.steps = steps;
    o.guidance = guidance;
    o.seed = seed;
    const auto done = completeScan(model, scan, o);
    MetricsRecord r;
    auto add = [&](const std::string& suffix, const PointCloud& cloud) {
        if (cloud.empty()) {
            r.emplace_back("val_cd" + suffix, std::numeric_limits<double>::quiet_NaN());
            return;
        }
        r.emplace_back("val_cd" + suffix, metrics::chamferDistance(cloud, truth).chamfer);
        double jsd = std::numeric_limits<double>::quiet_NaN();
        try {
            jsd = metrics::jensenShannonDistance(cloud.xyz, truth.xyz, true);
        } catch (const InvalidArgument&) {
            // no point inside the histogram cube: leave it NaN
        }
        r.emplace_back("val_jsd" + suffix, jsd);
    };
    add("", done.diffused);
    if (!done.refined.empty()) add("_refined", done.refined);
    return r;
}

}  // namespace lidistill::ml::training
