// SPDX-License-Identifier: MIT
// LiDiff's teacher training (reference 3.1) behind the Trainer interface.
#include "core/ml/diffusion/DpmSolver.h"
#include "core/ml/training/DistributedOps.h"
#include "core/ml/training/TrainerState.h"

#include <cmath>
#include <string>

namespace lidistill::ml {
namespace {

class TeacherTrainer final : public Trainer {
public:
    TeacherTrainer(const LidiffModel& init, const TeacherOptions& o)
        : m_options(o), m_model(init.config(), 0) {
        auto& from = init.impl();
        if (!from.encoder || !from.denoiser) {
            throw ModelError("teacher training needs a model with an encoder and a denoiser");
        }
        if (!(o.learningRate > 0) || !(o.uncondProb >= 0 && o.uncondProb <= 1) ||
            !(o.regWeight >= 0) || o.batchSize < 1 || o.batchSize > 64 || o.accumulate < 1 ||
            o.accumulate > 64 ||
            o.validationSteps < 1 || o.validationSteps > 1000) {
            throw InvalidArgument("teacher training: bad options (learning rate, "
                                  "unconditional probability, batch size, validation steps)");
        }
        auto& m = m_model.impl();
        m_model.setDevice(init.device());
        training::copyNetworks(from, m);
        std::vector<torch::Tensor> params = m.encoder->parameters();
        for (auto& p : m.denoiser->parameters()) params.push_back(p);
        m_opt = std::make_unique<torch::optim::Adam>(
            params, torch::optim::AdamOptions(o.learningRate).betas({0.9, 0.999}));
    }

    std::string modelName() const override { return "teacher"; }
    int batchSize() const override { return m_options.batchSize * m_options.accumulate; }
    const LidiffModel& model() const override { return m_model; }
    void setLearningRate(double lr) override { training::setAdamLearningRate(*m_opt, lr); }

    bool setProcessGroup(std::shared_ptr<ProcessGroup> group) override {
        m_group = std::move(group);
        if (m_group) {
            auto& m = m_model.impl();
            distributed::broadcastFromRank0(*m_group, *m.encoder, false);
            distributed::broadcastFromRank0(*m_group, *m.denoiser, false);
        }
        return true;
    }

    MetricsRecord step(const std::vector<TrainingExample>& batch, std::uint64_t seed) override {
        const int parts = m_options.accumulate;
        if (batch.empty() || static_cast<int>(batch.size()) > 64 * parts ||
            batch.size() % static_cast<std::size_t>(parts) != 0) {
            throw InvalidArgument("teacher step: batch of " + std::to_string(batch.size()) +
                                  " examples");
        }
        auto& m = m_model.impl();
        m_opt->zero_grad();
        // Micro-batch i of rank r draws from its own seed: `--accumulate A` in one process and
        // A ranks of one micro-batch each take the same steps.
        const std::size_t micro = batch.size() / static_cast<std::size_t>(parts);
        const int rank = m_group ? m_group->rank() : 0;
        Sums sums;
        for (int i = 0; i < parts; ++i) {
            const std::vector<TrainingExample> part(batch.begin() + i * micro,
                                                    batch.begin() + (i + 1) * micro);
            forwardBackward(part, training::exampleSeed(seed, rank * parts + i), sums);
        }
        auto params = m_opt->param_groups()[0].params();
        training::averageAccumulated(params, parts, m_group.get());
        const double gradNorm = training::clipGradNorm(params, 0);
        const double lossValue = sums.loss / parts;
        if (!std::isfinite(lossValue)) {
            throw ModelError("teacher training: the loss is no longer finite (diverged: lower "
                             "the learning rate)");
        }
        m_opt->step();
        if (m_group) {
            // DDP's broadcast_buffers: batch-norm statistics follow rank 0's.
            distributed::broadcastFromRank0(*m_group, *m.encoder, true);
            distributed::broadcastFromRank0(*m_group, *m.denoiser, true);
        }
        m.encoder->eval();
        m.denoiser->eval();
        return {{"loss", lossValue},
                {"loss_mse", sums.mse / parts},
                {"loss_reg", sums.reg / parts},
                {"grad", gradNorm},
                {"t_mean", sums.t / static_cast<double>(batch.size())},
                {"uncond", static_cast<double>(sums.dropped)},
                {"points", sums.points}};
    }

    MetricsRecord validate(const PointCloud& scan, const PointCloud& truth,
                           std::uint64_t seed) override {
        return training::validateByCompletion(m_model, scan, truth, m_options.validationSteps,
                                              m_options.validationGuidance, seed);
    }

    void saveState(const std::filesystem::path& file) const override {
        training::saveStateFile(file, "teacher", parts());
    }
    void loadState(const std::filesystem::path& file) override {
        training::loadStateFile(file, "teacher", parts());
    }

private:
    struct Sums {
        double loss = 0, mse = 0, reg = 0, t = 0, points = 0;
        int dropped = 0;
    };

    // One micro-batch: its loss's gradient is added to the parameters' .grad.
    void forwardBackward(const std::vector<TrainingExample>& batch, std::uint64_t seed,
                         Sums& sums) {
        auto& m = m_model.impl();
        const auto dev = m.device;
        auto gen = at::detail::createCPUGenerator(seed);
        const auto longOpt = torch::TensorOptions(torch::kLong);
        std::vector<torch::Tensor> condPts, condBatch, xs, xBatch, noise;
        std::vector<std::int64_t> ts;
        int dropped = 0;
        for (std::size_t b = 0; b < batch.size(); ++b) {
            const auto& ex = batch[b];
            const auto g = detail::xyzTensor(ex.full, "ground-truth");
            const auto p = detail::xyzTensor(ex.partial, "partial");
            const auto t = torch::randint(0, 1000, {1}, gen).item<std::int64_t>();
            const auto eps = torch::randn(g.sizes(), gen, torch::kFloat);
            const bool uncond = torch::rand({1}, gen).item<double>() < m_options.uncondProb;
            dropped += uncond ? 1 : 0;
            // The null condition: every partial point at the origin = one zero voxel.
            const auto cp = uncond ? torch::zeros({1, 3}) : p;
            condPts.push_back(cp);
            condBatch.push_back(torch::full({cp.size(0)}, static_cast<std::int64_t>(b), longOpt));
            xs.push_back(g + m_schedule.sigma(static_cast<int>(t)) * eps);
            xBatch.push_back(torch::full({g.size(0)}, static_cast<std::int64_t>(b), longOpt));
            noise.push_back(eps);
            ts.push_back(t);
        }
        const auto cp = torch::cat(condPts).to(dev);
        const auto x = torch::cat(xs).to(dev);
        detail::useThreadsFor(x.size(0), dev);
        const auto eps = torch::cat(noise).to(dev);
        // A batch of null conditions only is one zero voxel per example: batch norm cannot take
        // statistics of so few rows, so the encoder uses its running ones for it.
        if (dropped == static_cast<int>(batch.size())) {
            m.encoder->eval();
        } else {
            m.encoder->train();
        }
        m.denoiser->train();
        const auto cond =
            m.encoder(sparse::pointsToVoxels(cp, torch::cat(condBatch).to(dev), cp,
                                             m.config.voxelSize)
                          .voxels);
        const auto field =
            sparse::pointsToVoxels(x, torch::cat(xBatch).to(dev), x, m.config.voxelSize);
        const auto pred = m.denoiser(field, cond, torch::tensor(ts, longOpt));
        const auto mse = torch::mse_loss(pred, eps);
        const auto reg = pred.mean().pow(2) + (pred.std() - 1.0).pow(2);
        const auto loss = mse + m_options.regWeight * reg;
        loss.backward();
        sums.loss += loss.item<double>();
        sums.mse += mse.item<double>();
        sums.reg += reg.item<double>();
        for (auto t : ts) sums.t += static_cast<double>(t);
        sums.dropped += dropped;
        sums.points += static_cast<double>(x.size(0));
    }

    training::StateParts parts() const {
        auto& m = m_model.impl();
        training::StateParts s;
        for (auto& [name, module] : m.networks()) s.modules.emplace_back(name, module);
        s.optimizers.emplace_back("adam", m_opt.get());
        return s;
    }

    TeacherOptions m_options;
    LidiffModel m_model;
    diffusion::NoiseSchedule m_schedule;
    std::unique_ptr<torch::optim::Adam> m_opt;
    std::shared_ptr<ProcessGroup> m_group;
};

}  // namespace

std::unique_ptr<Trainer> makeTeacherTrainer(const LidiffModel& init, const TeacherOptions& o) {
    return std::make_unique<TeacherTrainer>(init, o);
}

}  // namespace lidistill::ml
