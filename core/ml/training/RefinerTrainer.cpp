// SPDX-License-Identifier: MIT
// LiDiff's refinement network training (reference 3.6) behind the Trainer interface.
#include "core/ml/training/DistributedOps.h"
#include "core/ml/training/PointLosses.h"
#include "core/ml/training/TrainerState.h"

#include <cmath>
#include <string>

namespace lidistill::ml {
namespace {

using training::chamferLoss;

class RefinerTrainer final : public Trainer {
public:
    RefinerTrainer(const LidiffModel& init, const RefinerOptions& o)
        : m_options(o), m_model(init.config(), 0) {
        if (!init.impl().refiner) throw ModelError("refiner training needs a model with a refiner");
        if (!(o.learningRate > 0) || !(o.jitter >= 0) || !(o.jitterClip >= 0) ||
            o.batchSize < 1 || o.batchSize > 64) {
            throw InvalidArgument("refiner training: bad options (learning rate, jitter, batch)");
        }
        m_model.setDevice(init.device());
        training::copyNetworks(init.impl(), m_model.impl());
        m_opt = std::make_unique<torch::optim::Adam>(m_model.impl().refiner->parameters(),
                                                     torch::optim::AdamOptions(o.learningRate));
    }

    std::string modelName() const override { return "refiner"; }
    int batchSize() const override { return m_options.batchSize; }
    const LidiffModel& model() const override { return m_model; }
    void setLearningRate(double lr) override { training::setAdamLearningRate(*m_opt, lr); }

    bool setProcessGroup(std::shared_ptr<ProcessGroup> group) override {
        m_group = std::move(group);
        if (m_group) distributed::broadcastFromRank0(*m_group, *m_model.impl().refiner, false);
        return true;
    }

    MetricsRecord step(const std::vector<TrainingExample>& batch, std::uint64_t seed) override {
        if (batch.empty()) throw InvalidArgument("refiner step: empty batch");
        auto& m = m_model.impl();
        // Each rank its own noise (rank 0 as a single process).
        if (m_group && m_group->rank() > 0) {
            seed ^= 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(m_group->rank());
        }
        auto gen = at::detail::createCPUGenerator(seed);
        detail::useThreadsFor(static_cast<std::int64_t>(batch[0].full.size()), m.device);
        m.refiner->train();
        m_opt->zero_grad();
        torch::Tensor loss = torch::zeros({}, torch::TensorOptions(m.device));
        double before = 0;
        for (const auto& ex : batch) {
            const auto target = detail::xyzTensor(ex.full, "ground-truth");
            const auto input = jittered(target, inputPoints(target.size(0)), gen);
            const auto in = input.to(m.device);
            const auto offsets = m.refiner(m.voxelize(in));
            const auto pred =
                (in.unsqueeze(1) + offsets.view({in.size(0), -1, 3})).reshape({-1, 3});
            loss = loss + chamferLoss(pred, target.to(m.device)) / double(batch.size());
            torch::NoGradGuard noGrad;
            before += chamferLoss(input, target).item<double>() / double(batch.size());
        }
        loss.backward();
        if (m_group) distributed::averageGradients(*m_group, m_opt->param_groups()[0].params());
        const double grad = training::clipGradNorm(m_opt->param_groups()[0].params(), 0);
        const double value = loss.item<double>();
        if (!std::isfinite(value)) {
            throw ModelError("refiner training: the loss is no longer finite (diverged)");
        }
        m_opt->step();
        if (m_group) distributed::broadcastFromRank0(*m_group, *m.refiner, true);
        m.refiner->eval();
        return {{"loss", value}, {"loss_input", before}, {"grad", grad}};
    }

    MetricsRecord validate(const PointCloud& scan, const PointCloud& truth,
                           std::uint64_t seed) override {
        auto& m = m_model.impl();
        if (m.encoder && m.denoiser) {
            return training::validateByCompletion(m_model, scan, truth, 8,
                                                  m_model.config().sampling.guidance, seed);
        }
        // A refiner-only file: how much closer to the truth a jittered sample of it gets.
        torch::NoGradGuard noGrad;
        auto gen = at::detail::createCPUGenerator(seed);
        const auto target = detail::xyzTensor(truth, "ground truth");
        const auto input = jittered(target, inputPoints(target.size(0)), gen);
        const auto out = m.refiner(m.voxelize(input.to(m.device)));
        const auto pred = (input.to(m.device).unsqueeze(1) + out.view({input.size(0), -1, 3}))
                              .reshape({-1, 3});
        return {
            {"val_cd_input", metrics::chamferDistance(detail::cloudOf(input), truth).chamfer},
            {"val_cd_refined", metrics::chamferDistance(detail::cloudOf(pred), truth).chamfer}};
    }

    void saveState(const std::filesystem::path& file) const override {
        training::saveStateFile(file, "refiner", parts());
    }
    void loadState(const std::filesystem::path& file) override {
        training::loadStateFile(file, "refiner", parts());
    }

private:
    // The refiner multiplies points by refinerOutChannels / 3: the input is that much sparser
    // than the target, as LiDiff's 180k -> 360k+ pairs are.
    std::int64_t inputPoints(std::int64_t targetPoints) const {
        const std::int64_t up = std::max(1, m_model.config().refinerOutChannels / 3);
        return std::max<std::int64_t>(1, targetPoints / up);
    }
    torch::Tensor jittered(const torch::Tensor& target, std::int64_t n, at::Generator& gen) const {
        const auto pick = torch::randperm(target.size(0), gen, torch::kLong).slice(0, 0, n);
        const auto noise = (torch::randn({n, 3}, gen, torch::kFloat) * m_options.jitter)
                               .clamp(-m_options.jitterClip, m_options.jitterClip);
        return target.index_select(0, pick) + noise;
    }
    training::StateParts parts() const {
        training::StateParts s;
        s.modules.emplace_back("refiner", m_model.impl().refiner.get());
        s.optimizers.emplace_back("adam", m_opt.get());
        return s;
    }

    RefinerOptions m_options;
    LidiffModel m_model;
    std::unique_ptr<torch::optim::Adam> m_opt;
    std::shared_ptr<ProcessGroup> m_group;
};

}  // namespace

std::unique_ptr<Trainer> makeRefinerTrainer(const LidiffModel& model, const RefinerOptions& o) {
    return std::make_unique<RefinerTrainer>(model, o);
}

}  // namespace lidistill::ml
