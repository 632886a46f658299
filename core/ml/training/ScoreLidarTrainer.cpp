// SPDX-License-Identifier: MIT
// ScoreLiDAR (reference 5) behind the Trainer interface: fake-score and student steps.
#include "core/ml/ScoreLidar.h"

#include "core/base/Error.h"
#include "core/metrics/ChamferDistance.h"
#include "core/ml/training/DpoObjective.h"
#include "core/ml/training/PointLosses.h"
#include "core/ml/training/StudentStates.h"
#include "core/ml/training/TrainerState.h"

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
    int batchSize() const override { return 1; }
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
};

MetricsRecord ScoreLidarTrainer::step(const std::vector<TrainingExample>& batch,
                                      std::uint64_t seed) {
    if (batch.size() != 1) throw InvalidArgument("ScoreLiDAR takes one example a step");
    const auto& ex = batch[0];
    if (ex.partial.empty() || ex.full.empty()) {
        throw InvalidArgument("ScoreLiDAR step: empty partial scan or ground truth");
    }
    auto& S = m_student.impl();
    auto& T = m_teacher.impl();
    auto gen = at::detail::createCPUGenerator(seed);
    auto uniformT = [&] {
        return static_cast<int>(torch::randint(0, 1000, {1}, gen).item<std::int64_t>());
    };
    auto own = training::makeScene(S, ex.partial, ex.full, m_options.tile);
    detail::useThreadsFor(own.xInit.size(0), m_device);

    // phi: denoising score matching on a sample of the student (no gradient into G).
    double auxLoss = 0, auxGrad = 0;
    {
        const auto* replay = m_states->pickReplay(gen);
        std::optional<training::StudentScene> kept;
        auto& sc = training::phaseScene(S, m_options.tile, own, replay, kept);
        torch::Tensor x0;
        {
            torch::NoGradGuard noGrad;
            const auto st = m_states->starts(sc, replay, {1.0f}, T, S.denoiser, gen);
            S.denoiser->eval();
            x0 = sample(sc, st, gen);
        }
        m_fake->train();
        m_optFake->zero_grad();
        const int t = uniformT();
        const auto e = torch::randn(x0.sizes(), gen, torch::kFloat).to(m_device);
        const auto loss = torch::mse_loss(
            training::epsOf(T, m_fake, sc.cond, x0 + m_schedule.sigma(t) * e, t), e);
        loss.backward();
        auxLoss = loss.item<double>();
        auxGrad = clipGradNorm(m_optFake->param_groups()[0].params(), m_options.gradClip);
        m_optFake->step();
    }

    // G: a fresh sample with gradients, the distillation term and the structural losses.
    const auto* replay = m_states->pickReplay(gen);
    std::optional<training::StudentScene> kept;
    auto& sc = training::phaseScene(S, m_options.tile, own, replay, kept);
    training::StudentStarts st;
    {
        torch::NoGradGuard noGrad;
        st = m_states->starts(sc, replay, {1.0f}, T, S.denoiser, gen);
    }
    S.denoiser->train();
    m_optG->zero_grad();
    const auto x0 = sample(sc, st, gen);
    const int t = uniformT();
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
    const double gradG = clipGradNorm(m_optG->param_groups()[0].params(), m_options.gradClip);
    m_optG->step();
    S.denoiser->eval();
    const double cd = metrics::chamferDistance(detail::cloudOf(x0), *sc.truth).chamfer;
    MetricsRecord r{{"loss_g", loss.item<double>()},      {"loss_distill", distill.item<double>()},
                    {"loss_scene", scene.item<double>()}, {"loss_point", point.item<double>()},
                    {"loss_aux", auxLoss},                {"grad_g", gradG},
                    {"grad_aux", auxGrad},                {"cd_sample", cd}};
    if (!m_options.states.isDefault()) {
        r.insert(r.end(), {{"state_k", double(st.choice.k)},
                           {"state_source", double(st.choice.source)},
                           {"replayed", st.replayed ? 1.0 : 0.0}});
    }
    return r;
}

}  // namespace

std::unique_ptr<Trainer> makeScoreLidarTrainer(const LidiffModel& teacher,
                                               const ScoreLidarOptions& options,
                                               const LidiffModel* student) {
    return std::make_unique<ScoreLidarTrainer>(teacher, options, student);
}

}  // namespace lidistill::ml
