// SPDX-License-Identifier: MIT
#include "core/ml/Completion.h"

#include "core/base/Error.h"
#include "core/geometry/FarthestPointSampling.h"
#include "core/ml/ModelImpl.h"
#include "core/ml/diffusion/DpmSolver.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

namespace lidistill::ml {
namespace {

void validate(const CompletionOptions& o) {
    if (o.steps < 1 || o.steps > 1000) {
        throw InvalidArgument("completion: steps must be in 1..1000, got " +
                              std::to_string(o.steps));
    }
    if (!std::isfinite(o.guidance)) throw InvalidArgument("completion: guidance must be finite");
    if (o.partialPoints < 1) throw InvalidArgument("completion: need at least one partial point");
    if (o.tile < 1 || o.tile > 1000) throw InvalidArgument("completion: tile must be in 1..1000");
    if (!(o.minRange >= 0) || !(o.maxRange > o.minRange)) {
        throw InvalidArgument("completion: need 0 <= min range < max range");
    }
}

std::string formatNumber(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

}  // namespace

CompletionOptions completionOptionsFor(const ModelConfig& c) {
    CompletionOptions o;
    o.steps = c.sampling.steps;
    o.guidance = c.sampling.guidance;
    o.partialPoints = c.scale.partialPoints;
    o.tile = c.scale.tile;
    o.minRange = c.scale.minRange;
    o.maxRange = c.scale.maxRange;
    return o;
}

struct Completer::State {
    const LidiffModel& model;
    CompletionOptions options;
    diffusion::NoiseSchedule schedule;
    diffusion::SdeDpmSolver solver;

    State(const LidiffModel& m, const CompletionOptions& o, bool carry)
        : model(m), options(o), solver(schedule, o.steps, carry) {}
};

Completer::Completer(const LidiffModel& model, const CompletionOptions& options,
                     bool carrySamplerState) {
    validate(options);
    auto& m = model.impl();
    if (!m.encoder || !m.denoiser) {
        throw ModelError("completion needs an encoder and a denoiser (a refiner-only file?)");
    }
    m_state = std::make_unique<State>(model, options, carrySamplerState);
}

Completer::~Completer() = default;

Completion completeScan(const LidiffModel& model, const PointCloud& scan,
                        const CompletionOptions& options, ProgressSink* progress) {
    return Completer(model, options).complete(scan, options.seed, progress);
}

Completion Completer::complete(const PointCloud& scan, std::uint64_t seed, ProgressSink* progress) {
    const auto& o = m_state->options;
    auto& m = m_state->model.impl();
    auto& solver = m_state->solver;
    torch::NoGradGuard noGrad;
    Completion result;
    const auto t0 = std::chrono::steady_clock::now();
    auto since = [](auto t) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    };
    // Pre-processing: range filter, farthest point sampling, x_init = the samples tiled.
    const PointCloud kept = withinRange(scan, o.minRange, o.maxRange);
    if (kept.empty()) {
        throw InvalidArgument("completion: the scan has no point between " +
                              std::to_string(o.minRange) + " and " + std::to_string(o.maxRange) +
                              " m");
    }
    SubProgress fpsProgress(progress, 0.0, 0.05);
    result.partial =
        geometry::farthestPointSample(kept, std::min(o.partialPoints, kept.size()), &fpsProgress);
    const auto dev = m.device;
    const auto cpuLong = torch::TensorOptions(torch::kLong);
    const auto partial = detail::xyzTensor(result.partial, "partial").to(dev);
    const auto xInit = partial.repeat({o.tile, 1});
    const std::int64_t n = xInit.size(0);
    solver.beginScan(n);

    // The condition, once: the scan (batch 0) and LiDiff's null condition, all points at the
    // origin = one zero voxel (batch 1). Tiling P does not change its voxel means.
    const bool needCond = o.guidance != 0.0, needUncond = o.guidance != 1.0;
    const auto origin = torch::zeros({1, 3}, xInit.options());
    std::vector<torch::Tensor> condPts, condBatch;
    if (needCond) {
        condPts.push_back(partial);
        condBatch.push_back(torch::full({partial.size(0)}, 0, cpuLong));
    }
    if (needUncond) {
        condPts.push_back(origin);
        condBatch.push_back(torch::full({1}, needCond ? 1 : 0, cpuLong));
    }
    const auto cPts = torch::cat(condPts);
    const auto cField =
        sparse::pointsToVoxels(cPts, torch::cat(condBatch).to(dev), cPts, m.config.voxelSize);
    const auto condition = m.encoder(cField.voxels);
    const std::int64_t passes = condPts.size();
    detail::useThreadsFor(n * passes, dev);
    const auto passBatch = torch::arange(passes, cpuLong).repeat_interleave(n).to(dev);

    // The loop on the residual r = x - x_init; noise drawn on the CPU from one generator.
    auto gen = at::detail::createCPUGenerator(seed);
    auto normal = [&](std::int64_t rows) {
        return torch::randn({rows, 3}, gen, torch::kFloat).to(dev);
    };
    result.timesteps = solver.timesteps();
    auto x = xInit + o.noiseScale * normal(n);  // x_T = x_init + N(0, I): std 1, not sigma_999
    for (int k = 0; k < o.steps; ++k) {
        checkpoint(progress, 0.05 + 0.9 * k / o.steps, "denoising");
        const int s = result.timesteps[static_cast<std::size_t>(k)];
        // Both passes denoise the same x: voxelize it once and share its kernel maps.
        sparse::TensorField field;
        try {
            if (passes == 2 && o.shareGuidanceMaps) {
                field = sparse::replicateField(
                    sparse::pointsToVoxels(x, passBatch.slice(0, 0, n), x, m.config.voxelSize), 2);
            } else {
                const auto xs = x.repeat({passes, 1});
                field = sparse::pointsToVoxels(xs, passBatch, xs, m.config.voxelSize);
            }
        } catch (const InvalidArgument& e) {
            // x_init and the first noise are finite and near the scan (unless noiseScale is
            // absurd): a sample that leaves the voxel grid was pushed there by the model (seen:
            // an undertrained teacher at guidance 6), which the user can act on; the grid's
            // limit alone says nothing.
            throw ModelError("completion diverged at step " + std::to_string(k + 1) + " of " +
                             std::to_string(o.steps) + " (" + e.what() +
                             "): the model is unstable with guidance " + formatNumber(o.guidance) +
                             "; a smaller guidance may help");
        }
        const auto eps = m.denoiser(field, condition, torch::full({passes}, s, cpuLong));
        torch::Tensor guided;
        if (passes == 1) {
            guided = eps;
        } else {
            const auto cond = eps.slice(0, 0, n), uncond = eps.slice(0, n, 2 * n);
            guided = uncond + o.guidance * (cond - uncond);
        }
        const auto r = solver.step(k, x - xInit, guided, normal(n));
        x = xInit + r;
    }

    // LiDiff's post-filter: |x| < max range, mean z - 2 std z < z < max z of x_init.
    const auto zInit = xInit.select(1, 2);
    const double zMax = zInit.max().item<double>();
    const double zMin = zInit.mean().item<double>() - 2.0 * zInit.std().item<double>();
    const auto z = x.select(1, 2);
    const auto keep = ((x * x).sum(1) < o.maxRange * o.maxRange) & (z > zMin) & (z < zMax);
    const auto diffused = x.index_select(0, keep.nonzero().select(1, 0));
    result.diffused = detail::cloudOf(diffused);
    result.diffusionSeconds = since(t0);

    if (o.refine && m.refiner && diffused.size(0) > 0) {
        checkpoint(progress, 0.95, "refining");
        const auto offsets = m.refiner(m.voxelize(diffused));
        if (offsets.size(1) % 3 != 0) {
            throw ModelError("refiner output of " + std::to_string(offsets.size(1)) +
                             " channels is not a list of 3D offsets");
        }
        const auto up = diffused.unsqueeze(1) + offsets.view({diffused.size(0), -1, 3});
        result.refined = detail::cloudOf(up.reshape({-1, 3}));
        result.refineSeconds = since(t0) - result.diffusionSeconds;
    }
    checkpoint(progress, 1.0, "done");
    return result;
}

}  // namespace lidistill::ml
