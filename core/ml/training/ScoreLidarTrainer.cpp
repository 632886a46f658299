// SPDX-License-Identifier: MIT
// ScoreLiDAR (reference 5) behind the Trainer interface: fake-score and student steps.
#include "core/base/Error.h"
#include "core/metrics/ChamferDistance.h"
#include "core/ml/ScoreLidar.h"
#include "core/ml/training/DistributedOps.h"
#include "core/ml/training/DpoObjective.h"
#include "core/ml/training/PointLosses.h"
#include "core/ml/training/StudentStates.h"
#include "core/ml/training/TrainerState.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>

namespace lidistill::ml {
namespace {

using training::clipGradNorm;
using training::copyWeights;

void checkOptions(const ScoreLidarOptions& o) {
    auto finiteNonNegative = [](double v) { return v >= 0 && std::isfinite(v); };
    if (!(o.learningRate > 0) || !std::isfinite(o.learningRate)) {
        throw InvalidArgument("ScoreLiDAR: the learning rate must be positive");
    }
    if (!finiteNonNegative(o.gradClip) || !finiteNonNegative(o.distillWeight) ||
        !finiteNonNegative(o.sceneWeight) || !finiteNonNegative(o.pointWeight)) {
        throw InvalidArgument("ScoreLiDAR: the clip and the loss weights must be >= 0");
    }
    if (!(o.subsetFraction > 0 && o.subsetFraction <= 1) ||
        !(o.keypointFraction > 0 && o.keypointFraction <= o.subsetFraction)) {
        throw InvalidArgument("ScoreLiDAR: the curvature subset must be a fraction in (0, 1] and "
                              "the keypoints a fraction no larger than it");
    }
    if (o.accumulate < 1 || o.accumulate > 64) {
        throw InvalidArgument("ScoreLiDAR: accumulate must be in 1..64");
    }
    if (o.curvatureNeighbours < 3 || o.tile < 1) {
        throw InvalidArgument("ScoreLiDAR: curvature needs >= 3 neighbours, the tile must be >= 1");
    }
    o.states.validate();
}

class ScoreLidarTrainer final : public Trainer {
public:
    ScoreLidarTrainer(const LidiffModel& teacher, const ScoreLidarOptions& o,
                      const LidiffModel* resume)
        : m_teacher(teacher), m_options(o), m_student(teacher.config(), 0),
          m_states(std::make_unique<training::StudentStates>((checkOptions(o), o.states), m_schedule)) {
        auto& T = teacher.impl();
        if (!T.encoder || !T.denoiser) {
            throw ModelError("ScoreLiDAR needs a teacher with an encoder and a denoiser");
        }
        if (resume) {
            const auto& r = resume->config();
            const auto diff = r.scale.differencesFrom(teacher.config().scale);
            if (!diff.empty() || r.width != teacher.config().width) {
                throw InvalidArgument("the student to go on from and the teacher are of "
                                      "different scales or widths" +
                                      (diff.empty() ? std::string() : " (" + diff + ")"));
            }
        }
        m_device = T.device;
        auto& S = m_student.impl();
        S.config.role = "student";
        S.config.sampling = {8, 3.5};
        S.config.source =
            "lidistill train-distill (ScoreLiDAR) from a teacher (" + teacher.config().scale.name +
            " scale)";
        m_student.setDevice(teacher.device());
        training::copyNetworks(T, S);
        if (resume) copyWeights(*resume->impl().denoiser, *S.denoiser);
        m_fake = nets::MinkUNetDiff(teacher.config().width, teacher.config().inChannels);
        m_fake->to(m_device);
        copyWeights(*T.denoiser, *m_fake);
        for (auto& p : S.encoder->parameters()) p.set_requires_grad(false);
        for (auto& p : T.denoiser->parameters()) p.set_requires_grad(false);
        m_optG = std::make_unique<torch::optim::SGD>(S.denoiser->parameters(),
                                                     torch::optim::SGDOptions(o.learningRate));
        m_optFake = std::make_unique<torch::optim::SGD>(m_fake->parameters(),
                                                        torch::optim::SGDOptions(o.learningRate));
    }

    std::string modelName() const override { return "student"; }
    int batchSize() const override { return m_options.accumulate; }
    bool setProcessGroup(std::shared_ptr<ProcessGroup> group) override {
        if (group && group->size() > 1 && m_options.states.replaySize > 0) {
            throw InvalidArgument(
                "ScoreLiDAR cannot run data-parallel with a replay buffer "
                "(each process would keep its own rollouts)");
        }
        m_group = std::move(group);
        if (m_group) {
            distributed::broadcastFromRank0(*m_group, *m_student.impl().denoiser, false);
            distributed::broadcastFromRank0(*m_group, *m_fake, false);
        }
        return true;
    }
    const LidiffModel& model() const override { return m_student; }
    void setProgress(long long step, long long total) override {
        m_states->setProgress(total > 0 ? double(step) / double(total) : 0.0);
    }
    void setLearningRate(double lr) override {
        if (!(lr > 0) || !std::isfinite(lr)) throw InvalidArgument("learning rate must be positive");
        for (auto* opt : {m_optG.get(), m_optFake.get()}) {
            for (auto& g : opt->param_groups()) {
                static_cast<torch::optim::SGDOptions&>(g.options()).lr(lr);
            }
        }
    }

    MetricsRecord step(const std::vector<TrainingExample>& batch, std::uint64_t seed) override;

    MetricsRecord validate(const PointCloud& scan, const PointCloud& truth,
                           std::uint64_t seed) override {
        return training::validateByCompletion(m_student, scan, truth, 8, 3.5, seed);
    }
    void saveState(const std::filesystem::path& file) const override {
        training::saveStateFile(file, "scorelidar", parts());
    }
    void loadState(const std::filesystem::path& file) override {
        training::loadStateFile(file, "scorelidar", parts());
    }

private:
    // Saving reads what loading writes: one list for both.
    training::StateParts parts() const {
        training::StateParts s;
        s.modules = {{"student", m_student.impl().denoiser.get()}, {"fake", m_fake.ptr().get()}};
        s.optimizers = {{"generator", m_optG.get()}, {"fake", m_optFake.get()}};
        if (m_options.states.replaySize > 0) {
            auto* states = m_states.get();
            s.saveExtra = [states](torch::serialize::OutputArchive& a) { states->save(a); };
            s.loadExtra = [states](torch::serialize::InputArchive& a) { states->load(a); };
        }
        return s;
    }

    // What the G step of one example measured.
    struct Terms {
        double total = 0, distill = 0, scene = 0, point = 0, cd = 0;
        training::StateChoice state;
        bool replayed = false;
    };
    static int uniformT(at::Generator& gen) {
        return static_cast<int>(torch::randint(0, 1000, {1}, gen).item<std::int64_t>());
    }
    // One example's fake-score loss (its gradient added to phi's), and its G loss (to G's).
    double fakeLoss(training::StudentScene& own, at::Generator& gen);
    Terms generatorLoss(training::StudentScene& own, at::Generator& gen);

    // The student's sample from its state (first start), in the mode the caller set.
    torch::Tensor sample(const training::StudentScene& sc, const training::StudentStarts& st,
                         at::Generator& gen) {
        const auto z = torch::randn(sc.xInit.sizes(), gen, torch::kFloat).to(m_device);
        const auto e = training::epsOf(m_teacher.impl(), m_student.impl().denoiser, sc.cond,
                                       st.x[0], st.choice.t);
        auto x0 = m_states->reflect(m_states->jump(sc.xInit, st.x[0], st.choice.t, e, z), sc.p);
        if (!torch::isfinite(x0).all().item<bool>()) {
            throw ModelError("ScoreLiDAR: the student's output is no longer finite (diverged: "
                             "lower the learning rate or clip the gradient)");
        }
        return x0;
    }

    const LidiffModel& m_teacher;
    ScoreLidarOptions m_options;
    LidiffModel m_student;
    nets::MinkUNetDiff m_fake{nullptr};
    std::unique_ptr<torch::optim::SGD> m_optG, m_optFake;
    diffusion::NoiseSchedule m_schedule;
    std::unique_ptr<training::StudentStates> m_states;  // behind a pointer: a const save reads it
    torch::Device m_device{torch::kCPU};
    std::shared_ptr<ProcessGroup> m_group;
};

MetricsRecord ScoreLidarTrainer::step(const std::vector<TrainingExample>& batch,
                                      std::uint64_t seed) {
    const int n = m_options.accumulate;
    if (static_cast<int>(batch.size()) != n) {
        throw InvalidArgument("ScoreLiDAR takes " + std::to_string(n) + " example(s) a step, got " +
                              std::to_string(batch.size()));
    }
    auto& S = m_student.impl();
    std::vector<training::StudentScene> own;
    std::vector<at::Generator> gens;
    std::int64_t largest = 0;
    const int rank = m_group ? m_group->rank() : 0;
    for (int i = 0; i < n; ++i) {
        const auto& ex = batch[static_cast<std::size_t>(i)];
        if (ex.partial.empty() || ex.full.empty()) {
            throw InvalidArgument("ScoreLiDAR step: empty partial scan or ground truth");
        }
        own.push_back(training::makeScene(S, ex.partial, ex.full, m_options.tile));
        largest = std::max(largest, own.back().xInit.size(0));
        gens.push_back(at::detail::createCPUGenerator(training::exampleSeed(seed, rank * n + i)));
    }
    detail::useThreadsFor(largest, m_device);

    // phi: denoising score matching on samples of the student (no gradient into G).
    double auxLoss = 0;
    m_fake->train();
    const double auxGrad = training::stepOnMeanGradient(
        own.size(), *m_optFake, m_options.gradClip, m_group.get(), {m_fake.ptr().get()},
        [&](std::size_t i) { auxLoss += fakeLoss(own[i], gens[i]) / n; });

    // G: a fresh sample with gradients, the distillation term and the structural losses.
    std::vector<Terms> terms(own.size());
    const double gradG = training::stepOnMeanGradient(
        own.size(), *m_optG, m_options.gradClip, m_group.get(), {S.denoiser.get()},
        [&](std::size_t i) { terms[i] = generatorLoss(own[i], gens[i]); });
    S.denoiser->eval();
    MetricsRecord r{{"loss_g", 0},         {"loss_distill", 0},   {"loss_scene", 0},
                    {"loss_point", 0},     {"loss_aux", auxLoss}, {"grad_g", gradG},
                    {"grad_aux", auxGrad}, {"cd_sample", 0}};
    for (const auto& t : terms) {
        r[0].second += t.total / n;
        r[1].second += t.distill / n;
        r[2].second += t.scene / n;
        r[3].second += t.point / n;
        r[7].second += t.cd / n;
    }
    if (!m_options.states.isDefault()) {
        r.insert(r.end(), {{"state_k", double(terms[0].state.k)},
                           {"state_source", double(terms[0].state.source)},
                           {"replayed", terms[0].replayed ? 1.0 : 0.0}});
    }
    return r;
}

double ScoreLidarTrainer::fakeLoss(training::StudentScene& own, at::Generator& gen) {
    auto& S = m_student.impl();
    auto& T = m_teacher.impl();
    auto phase = m_states->beginPhase(S, m_options.tile, own, {1.0f}, T, gen);
    auto& sc = phase.scene();
    torch::Tensor x0;
    {
        torch::NoGradGuard noGrad;
        S.denoiser->eval();
        x0 = sample(sc, phase.starts, gen);
    }
    const int t = uniformT(gen);
    const auto e = torch::randn(x0.sizes(), gen, torch::kFloat).to(m_device);
    const auto loss =
        torch::mse_loss(training::epsOf(T, m_fake, sc.cond, x0 + m_schedule.sigma(t) * e, t), e);
    loss.backward();
    return loss.item<double>();
}

ScoreLidarTrainer::Terms ScoreLidarTrainer::generatorLoss(training::StudentScene& own,
                                                          at::Generator& gen) {
    auto& S = m_student.impl();
    auto& T = m_teacher.impl();
    auto phase = m_states->beginPhase(S, m_options.tile, own, {1.0f}, T, gen);
    auto& sc = phase.scene();
    const auto& st = phase.starts;
    S.denoiser->train();
    const auto x0 = sample(sc, st, gen);
    const int t = uniformT(gen);
    const auto e = torch::randn(x0.sizes(), gen, torch::kFloat).to(m_device);
    const float sigma = m_schedule.sigma(t);
    torch::Tensor epsT, epsF;
    {
        torch::NoGradGuard noGrad;
        T.denoiser->eval();
        m_fake->eval();
        const auto xt = x0.detach() + sigma * e;
        epsT = training::epsOf(T, T.denoiser, sc.cond, xt, t);
        epsF = training::epsOf(T, m_fake, sc.cond, xt, t);
    }
    const bool released = m_options.distill == ScoreLidarOptions::Distill::Released;
    // As released: x_t - x0 with x_t built from x0 itself, whose derivative is exactly 0.
    const auto distill = released ? ((epsT - epsF) * ((x0 + sigma * e) - x0)).mean()
                                  : training::distillationLoss({epsT, epsF, x0});
    // The truth: all of it for nearest neighbours; one row a generated point (LiDiff's
    // resampled G) for the index-aligned losses and the keypoints.
    const auto& truth = training::truthOf(sc);
    const auto truthN = training::resampleRows(truth, x0.size(0), gen);
    const bool aligned = m_options.structure == ScoreLidarOptions::Structure::IndexAligned;
    torch::Tensor scene = torch::zeros({}, x0.options());
    if (m_options.sceneWeight > 0) {
        scene = aligned ? torch::mse_loss(x0, truthN) : training::chamferLoss(x0, truth);
    }
    torch::Tensor point = torch::zeros({}, x0.options());
    if (m_options.pointWeight > 0) {
        const auto n = x0.size(0);
        const auto subsetSize = std::max<std::int64_t>(
            4, static_cast<std::int64_t>(std::llround(m_options.subsetFraction * double(n))));
        const auto keyCount = std::max<std::int64_t>(
            2, static_cast<std::int64_t>(std::llround(m_options.keypointFraction * double(n))));
        const auto subset =
            torch::randperm(n, gen, torch::kLong).slice(0, 0, std::min(n, subsetSize));
        const auto keys = training::curvatureKeypoints(truthN, subset.to(m_device), keyCount,
                                                       m_options.curvatureNeighbours);
        point = training::keypointLoss(x0, truthN, keys, aligned);
    }
    const auto loss = m_options.distillWeight * distill + m_options.sceneWeight * scene +
                      m_options.pointWeight * point;
    if (!torch::isfinite(loss).item<bool>()) {
        throw ModelError("ScoreLiDAR: the student's loss is no longer finite (diverged)");
    }
    loss.backward();
    Terms terms;
    terms.total = loss.item<double>();
    terms.distill = distill.item<double>();
    terms.scene = scene.item<double>();
    terms.point = point.item<double>();
    terms.cd = metrics::chamferDistance(detail::cloudOf(x0), *sc.truth).chamfer;
    terms.state = st.choice;
    terms.replayed = st.replayed;
    return terms;
}

}  // namespace

std::unique_ptr<Trainer> makeScoreLidarTrainer(const LidiffModel& teacher,
                                               const ScoreLidarOptions& options,
                                               const LidiffModel* student) {
    return std::make_unique<ScoreLidarTrainer>(teacher, options, student);
}

}  // namespace lidistill::ml
