// SPDX-License-Identifier: MIT
#include "core/ml/DistillationDpo.h"

#include "core/base/Error.h"
#include "core/metrics/ChamferDistance.h"
#include "core/ml/ModelImpl.h"
#include "core/ml/diffusion/DpmSolver.h"
#include "core/ml/training/DpoObjective.h"
#include "core/ml/training/StoredPairs.h"
#include "core/ml/training/StudentStates.h"
#include "core/ml/training/TrainerState.h"

#include <cmath>
#include <limits>
#include <optional>
#include <random>
#include <string>

namespace lidistill::ml {
namespace {

using sparse::SparseTensor;

using training::clipGradNorm;
using training::copyWeights;

}  // namespace

struct DpoTrainer::Impl {
    const LidiffModel& teacher;
    DpoOptions options;
    LidiffModel student;
    nets::MinkUNetDiff fakeWinner{nullptr}, fakeLoser{nullptr};
    std::unique_ptr<torch::optim::SGD> optG, optAux;
    diffusion::NoiseSchedule schedule;
    training::StudentStates states;
    torch::Device device{torch::kCPU};

    Impl(const LidiffModel& t, const DpoOptions& o, const LidiffModel* resume)
        : teacher(t), options(o), student(t.config(), 0), states(o.states, schedule) {
        auto& T = t.impl();
        if (!T.encoder || !T.denoiser) {
            throw ModelError("Distillation-DPO needs a teacher with an encoder and a denoiser");
        }
        if (!(o.learningRate > 0) || !(o.noiseScale > 0) || o.tile < 1 || !(o.gradClip >= 0) ||
            !(o.beta > 0)) {
            throw InvalidArgument("Distillation-DPO: bad options (learning rate, lambda, tile)");
        }
        device = T.device;
        auto& S = student.impl();
        S.config.role = "student";
        S.config.sampling = {8, 3.5};
        S.config.source = "lidistill train-dpo from a teacher (" + t.config().scale.name + " scale)";
        if (resume) {
            const auto& r = resume->config();
            const auto diff = r.scale.differencesFrom(t.config().scale);
            if (!diff.empty() || r.voxelSize != t.config().voxelSize || r.width != t.config().width) {
                throw InvalidArgument("the student to resume and the teacher are of different "
                                      "scales or widths (" +
                                      (diff.empty() ? std::string("voxel size or width") : diff) +
                                      ")");
            }
        }
        student.setDevice(t.device());
        training::copyNetworks(T, S);
        if (resume) copyWeights(*resume->impl().denoiser, *S.denoiser);
        const auto& c = t.config();
        fakeWinner = nets::MinkUNetDiff(c.width, c.inChannels);
        fakeLoser = nets::MinkUNetDiff(c.width, c.inChannels);
        for (auto* f : {&fakeWinner, &fakeLoser}) {
            (*f)->to(device);
            copyWeights(*T.denoiser, **f);
        }
        for (auto& p : S.encoder->parameters()) p.set_requires_grad(false);
        for (auto& p : T.denoiser->parameters()) p.set_requires_grad(false);
        optG = std::make_unique<torch::optim::SGD>(S.denoiser->parameters(),
                                                   torch::optim::SGDOptions(o.learningRate));
        auto auxParams = fakeWinner->parameters();
        for (auto& p : fakeLoser->parameters()) auxParams.push_back(p);
        optAux = std::make_unique<torch::optim::SGD>(auxParams,
                                                     torch::optim::SGDOptions(o.learningRate));
    }

    torch::Tensor eps(nets::MinkUNetDiff& net, const SparseTensor& cond, const torch::Tensor& x,
                      int t) const {
        return training::epsOf(teacher.impl(), net, cond, x, t);
    }

    // The same with x's graph kept in the voxel features (the mean xyz a voxel); the voxel
    // coordinates themselves are piecewise constant in x.
    torch::Tensor epsWithInputGrad(nets::MinkUNetDiff& net, const SparseTensor& cond,
                                   const torch::Tensor& x, int t) const {
        return net(teacher.impl().voxelize(x.detach(), x), cond, torch::full({1}, t, torch::kLong));
    }

    // G's jump from state x at timestep t to 0 (t = 999: the one-step completion), differentiable
    // in G's parameters when grad is on.
    torch::Tensor generate(const SparseTensor& cond, const torch::Tensor& xInit,
                           const torch::Tensor& x, int t, const torch::Tensor& z) {
        return states.jump(xInit, x, t, eps(student.impl().denoiser, cond, x, t), z);
    }

    using Scene = training::StudentScene;
    using Starts = training::StudentStarts;
    Scene scene(const PointCloud& partial, const PointCloud& truth) {
        return training::makeScene(student.impl(), partial, truth, options.tile);
    }
    Starts starts(Scene& sc, const training::ReplayEntry* replay, at::Generator& gen) {
        return states.starts(sc, replay, {1.0f, static_cast<float>(options.noiseScale)},
                             teacher.impl(), student.impl().denoiser, gen);
    }

    // What a state file holds: every network that trains and both optimizers.
    training::StateParts stateParts() {
        training::StateParts parts;
        parts.modules = {{"student", student.impl().denoiser.get()},
                         {"fake_winner", fakeWinner.get()},
                         {"fake_loser", fakeLoser.get()}};
        parts.optimizers = {{"generator", optG.get()}, {"aux", optAux.get()}};
        if (options.states.replaySize > 0) {
            parts.saveExtra = [this](torch::serialize::OutputArchive& a) { states.save(a); };
            parts.loadExtra = [this](torch::serialize::InputArchive& a) { states.load(a); };
        }
        return parts;
    }

    struct Pair {
        torch::Tensor winner, loser;
        double cdWinner = 0, cdLoser = 0;
        bool scaledWon = false;
    };

    // The student's pair from two start states (G in the mode the caller set).
    Pair candidates(const Scene& sc, const Starts& st, at::Generator& gen) {
        const auto n = sc.xInit.size(0);
        auto normal = [&] { return torch::randn({n, 3}, gen, torch::kFloat).to(device); };
        auto a = generate(sc.cond, sc.xInit, st.x[0], st.choice.t, normal());
        auto b = generate(sc.cond, sc.xInit, st.x[1], st.choice.t, normal());
        a = states.reflect(a, sc.p);
        b = states.reflect(b, sc.p);
        if (!torch::isfinite(a).all().item<bool>() || !torch::isfinite(b).all().item<bool>()) {
            throw ModelError(
                "Distillation-DPO: the student's output is no longer finite (diverged: lower "
                "the learning rate or keep gradient clipping)");
        }
        const double cdA = metrics::chamferDistance(detail::cloudOf(a), *sc.truth).chamfer;
        const double cdB = metrics::chamferDistance(detail::cloudOf(b), *sc.truth).chamfer;
        Pair p;
        p.scaledWon = cdB < cdA;
        p.winner = p.scaledWon ? b : a;
        p.loser = p.scaledWon ? a : b;
        p.cdWinner = std::min(cdA, cdB);
        p.cdLoser = std::max(cdA, cdB);
        return p;
    }
};

DpoTrainer::DpoTrainer(const LidiffModel& teacher, const DpoOptions& options,
                       const LidiffModel* student)
    : m_impl(std::make_unique<Impl>(teacher, options, student)) {}

DpoTrainer::~DpoTrainer() = default;

void DpoTrainer::setLearningRate(double lr) {
    if (!(lr > 0) || !std::isfinite(lr)) throw InvalidArgument("learning rate must be positive");
    for (auto* opt : {m_impl->optG.get(), m_impl->optAux.get()}) {
        for (auto& group : opt->param_groups()) {
            static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
        }
    }
}

void DpoTrainer::setProgress(double fraction) {
    m_impl->states.setProgress(fraction);
}

void DpoTrainer::saveState(const std::filesystem::path& file) const {
    training::saveStateFile(file, "dpo", m_impl->stateParts());
}

void DpoTrainer::loadState(const std::filesystem::path& file) {
    training::loadStateFile(file, "dpo", m_impl->stateParts());
}

namespace {
class DpoRunTrainer final : public Trainer {
public:
    DpoRunTrainer(const LidiffModel& teacher, const DpoOptions& o)
        : m_dpo(teacher, o), m_ddil(!o.states.isDefault()) {
        if (o.pairStore.empty()) return;
        if (!(o.pairMix > 0 && o.pairMix <= 1)) {
            throw InvalidArgument("the share of stored pairs must be in (0, 1]");
        }
        m_mix = o.pairMix;
        m_feed.emplace(o.pairStore);
        m_feed->refresh();
        if (m_feed->usable() == 0) m_feed->draw(0);  // throws, saying why
    }
    std::string modelName() const override { return "student"; }
    int batchSize() const override { return 1; }
    const LidiffModel& model() const override { return m_dpo.student(); }
    void setLearningRate(double lr) override { m_dpo.setLearningRate(lr); }
    void setProgress(long long step, long long total) override {
        m_dpo.setProgress(total > 0 ? double(step) / double(total) : 0.0);
    }
    MetricsRecord step(const std::vector<TrainingExample>& batch, std::uint64_t seed) override {
        if (batch.size() != 1) throw InvalidArgument("Distillation-DPO takes one example a step");
        if (!m_feed) return record(m_dpo.step(batch[0].partial, batch[0].full, seed));
        // The store's verdicts as they are now: a decision made a moment ago counts.
        m_feed->refresh();
        std::mt19937_64 rng(seed ^ 0x9e3779b97f4a7c15ULL);
        const bool stored = std::uniform_real_distribution<double>(0, 1)(rng) < m_mix;
        MetricsRecord r;
        double pairId = -1, human = 0;
        if (stored) {
            const auto d = m_feed->draw(rng());
            auto st = m_dpo.storedPairStep(*d.partial, *d.winner, *d.loser, seed);
            st.winnerChamfer = d.cdWinner;
            st.loserChamfer = d.cdLoser;
            st.scaledNoiseWon = d.bWon;
            r = record(st);
            pairId = static_cast<double>(d.id);
            human = d.human ? 1 : 0;
        } else {
            r = record(m_dpo.step(batch[0].partial, batch[0].full, seed));
        }
        r.insert(r.end(), {{"from_store", stored ? 1.0 : 0.0},
                           {"pair", pairId},
                           {"pair_human", human},
                           {"pairs_usable", static_cast<double>(m_feed->usable())},
                           {"pairs_human", static_cast<double>(m_feed->humanDecided())}});
        return r;
    }
    MetricsRecord validate(const PointCloud& scan, const PointCloud& truth,
                           std::uint64_t seed) override {
        return training::validateByCompletion(m_dpo.student(), scan, truth, 8, 3.5, seed);
    }
    void saveState(const std::filesystem::path& file) const override { m_dpo.saveState(file); }
    void loadState(const std::filesystem::path& file) override { m_dpo.loadState(file); }

private:
    MetricsRecord record(const DpoStepStats& st) const {
        MetricsRecord r{{"loss_g", st.generatorLoss},  {"loss_aux", st.auxLoss},
                        {"cd_winner", st.winnerChamfer}, {"cd_loser", st.loserChamfer},
                        {"grad_g", st.generatorGradNorm}, {"grad_aux", st.auxGradNorm},
                        {"scaled_won", st.scaledNoiseWon ? 1.0 : 0.0}};
        if (m_feed) r.emplace_back("pref_margin", st.preferenceMargin);
        if (m_ddil) {
            r.insert(r.end(), {{"state_k", double(st.stateStep)},
                               {"state_source", double(st.stateSource)},
                               {"replayed", st.replayed ? 1.0 : 0.0}});
        }
        return r;
    }

    DpoTrainer m_dpo;
    bool m_ddil = false;
    std::optional<training::StoredPairFeed> m_feed;
    double m_mix = 1.0;
};
}  // namespace

std::unique_ptr<Trainer> makeDpoTrainer(const LidiffModel& teacher, const DpoOptions& options) {
    return std::make_unique<DpoRunTrainer>(teacher, options);
}

const LidiffModel& DpoTrainer::student() const {
    return m_impl->student;
}

DpoStepStats DpoTrainer::step(const PointCloud& partial, const PointCloud& groundTruth,
                              std::uint64_t seed) {
    auto& m = *m_impl;
    if (partial.empty() || groundTruth.empty()) {
        throw InvalidArgument("Distillation-DPO step: empty partial scan or ground truth");
    }
    auto& S = m.student.impl();
    auto& T = m.teacher.impl();
    auto gen = at::detail::createCPUGenerator(seed);
    auto uniformT = [&] {
        return static_cast<int>(torch::randint(0, 1000, {1}, gen).item<int64_t>());
    };
    auto normalLike = [&](const torch::Tensor& x) {
        return torch::randn(x.sizes(), gen, torch::kFloat).to(m.device);
    };
    DpoStepStats stats;

    Impl::Scene own = m.scene(partial, groundTruth);
    detail::useThreadsFor(own.xInit.size(0), m.device);

    // Fake scores: denoising score matching on the student's winners and losers.
    {
        const auto* replay = m.states.pickReplay(gen);
        std::optional<Impl::Scene> kept;
        auto& sc = training::phaseScene(S, m.options.tile, own, replay, kept);  // DDIL: maybe a replayed rollout's
        Impl::Pair pair;
        {
            torch::NoGradGuard noGrad;
            const auto st = m.starts(sc, replay, gen);
            S.denoiser->eval();
            pair = m.candidates(sc, st, gen);
        }
        m.fakeWinner->train();
        m.fakeLoser->train();
        m.optAux->zero_grad();
        const int tw = uniformT(), tl = uniformT();
        const auto ew = normalLike(pair.winner), el = normalLike(pair.loser);
        const auto lossW = torch::mse_loss(
            m.eps(m.fakeWinner, sc.cond, pair.winner + m.schedule.sigma(tw) * ew, tw), ew);
        const auto lossL = torch::mse_loss(
            m.eps(m.fakeLoser, sc.cond, pair.loser + m.schedule.sigma(tl) * el, tl), el);
        const auto aux = lossW + lossL;
        aux.backward();
        stats.auxLoss = aux.item<double>();
        stats.auxGradNorm = clipGradNorm(m.optAux->param_groups()[0].params(), m.options.gradClip);
        m.optAux->step();
    }

    // The student, on a fresh pair with gradients.
    const auto* replay = m.states.pickReplay(gen);
    std::optional<Impl::Scene> kept;
    auto& sc = training::phaseScene(S, m.options.tile, own, replay, kept);  // DDIL: maybe a replayed rollout's
    Impl::Starts st;
    {
        torch::NoGradGuard noGrad;
        st = m.starts(sc, replay, gen);
    }
    stats.stateStep = st.choice.k;
    stats.stateSource = st.choice.source;
    stats.replayed = st.replayed;
    S.denoiser->train();
    m.optG->zero_grad();
    const auto pair = m.candidates(sc, st, gen);
    stats.winnerChamfer = pair.cdWinner;
    stats.loserChamfer = pair.cdLoser;
    stats.scaledNoiseWon = pair.scaledWon;
    const int t = uniformT();
    const auto e = normalLike(pair.winner);
    const float sigma = m.schedule.sigma(t);
    T.denoiser->eval();
    m.fakeWinner->eval();
    m.fakeLoser->eval();
    torch::Tensor loss;
    if (m.options.objective == DpoOptions::Objective::Bounded) {
        // Discrepancies with input gradients: x_t carries x0's graph into the frozen networks'
        // voxel features; their own weights get no gradient (flags off for this step).
        const auto xw = pair.winner + sigma * e, xl = pair.loser + sigma * e;
        for (auto* f : {&m.fakeWinner, &m.fakeLoser}) {
            for (auto& q : (*f)->parameters()) q.set_requires_grad(false);
        }
        const auto dW = (m.epsWithInputGrad(T.denoiser, sc.cond, xw, t) -
                         m.epsWithInputGrad(m.fakeWinner, sc.cond, xw, t))
                            .pow(2)
                            .mean();
        const auto dL = (m.epsWithInputGrad(T.denoiser, sc.cond, xl, t) -
                         m.epsWithInputGrad(m.fakeLoser, sc.cond, xl, t))
                            .pow(2)
                            .mean();
        loss = -torch::log_sigmoid(-m.options.beta * (dW - dL));
        for (auto* f : {&m.fakeWinner, &m.fakeLoser}) {
            for (auto& q : (*f)->parameters()) q.set_requires_grad(true);
        }
    } else {
        torch::Tensor epsTw, epsTl, epsFw, epsFl;
        {
            torch::NoGradGuard noGrad;
            const auto xw = pair.winner.detach() + sigma * e, xl = pair.loser.detach() + sigma * e;
            epsTw = m.eps(T.denoiser, sc.cond, xw, t);
            epsTl = m.eps(T.denoiser, sc.cond, xl, t);
            epsFw = m.eps(m.fakeWinner, sc.cond, xw, t);
            epsFl = m.eps(m.fakeLoser, sc.cond, xl, t);
        }
        if (m.options.objective == DpoOptions::Objective::Linear) {
            loss = training::linearGeneratorLoss({epsTw, epsFw, pair.winner},
                                                 {epsTl, epsFl, pair.loser}, m.options.loserWeight);
        } else {
            // As released: x_t - x0 with x_t built from x0 itself: derivative exactly 0.
            const auto xw = pair.winner + sigma * e, xl = pair.loser + sigma * e;
            loss = ((epsTw - epsFw) * (xw - pair.winner)).mean() -
                   ((epsTl - epsFl) * (xl - pair.loser)).mean();
        }
    }
    loss.backward();
    stats.generatorLoss = loss.item<double>();
    stats.generatorGradNorm = clipGradNorm(m.optG->param_groups()[0].params(), m.options.gradClip);
    m.optG->step();
    S.denoiser->eval();
    return stats;
}

DpoStepStats DpoTrainer::storedPairStep(const PointCloud& partial, const PointCloud& winner,
                                        const PointCloud& loser, std::uint64_t seed) {
    auto& m = *m_impl;
    if (partial.empty() || winner.empty() || loser.empty()) {
        throw InvalidArgument("Distillation-DPO stored pair: an empty partial scan or candidate");
    }
    auto& S = m.student.impl();
    auto& T = m.teacher.impl();
    auto gen = at::detail::createCPUGenerator(seed);
    const auto p = detail::xyzTensor(partial, "partial").to(m.device);
    const auto xw = detail::xyzTensor(winner, "winner").to(m.device);
    const auto xl = detail::xyzTensor(loser, "loser").to(m.device);
    detail::useThreadsFor(std::max(xw.size(0), xl.size(0)), m.device);
    SparseTensor cond;
    {
        torch::NoGradGuard noGrad;
        S.encoder->eval();
        cond = S.encoder(T.voxelize(p).voxels);
    }
    // One timestep for both sides (Diffusion-DPO): the comparison is at one noise level.
    const int t = static_cast<int>(torch::randint(0, 1000, {1}, gen).item<int64_t>());
    const float sigma = m.schedule.sigma(t);
    // And one noise when the samples are of one size (Diffusion-DPO's shared noise): then
    // swapping winner and loser exactly negates the loss's argument.
    const auto ew = torch::randn(xw.sizes(), gen, torch::kFloat).to(m.device);
    const auto el = xl.sizes() == xw.sizes()
                        ? ew
                        : torch::randn(xl.sizes(), gen, torch::kFloat).to(m.device);
    const auto xtw = xw + sigma * ew, xtl = xl + sigma * el;
    torch::Tensor refW, refL;
    {
        torch::NoGradGuard noGrad;
        T.denoiser->eval();
        refW = torch::mse_loss(m.eps(T.denoiser, cond, xtw, t), ew);
        refL = torch::mse_loss(m.eps(T.denoiser, cond, xtl, t), el);
    }
    // G in eval mode too: BatchNorm on its running statistics, as the reference runs, so the
    // two differ only by their weights (and the margin is exactly 0 while G is the teacher).
    S.denoiser->eval();
    m.optG->zero_grad();
    const auto errW = torch::mse_loss(m.eps(S.denoiser, cond, xtw, t), ew);
    const auto errL = torch::mse_loss(m.eps(S.denoiser, cond, xtl, t), el);
    const auto inside = (errW - refW) - (errL - refL);
    const auto loss = -torch::log_sigmoid(-m.options.beta * inside);
    if (!torch::isfinite(loss).item<bool>()) {
        throw ModelError("Distillation-DPO: the stored-pair loss is no longer finite (diverged: "
                         "lower the learning rate or --beta)");
    }
    loss.backward();
    DpoStepStats stats;
    stats.generatorLoss = loss.item<double>();
    stats.preferenceMargin = -inside.item<double>();
    stats.generatorGradNorm = clipGradNorm(m.optG->param_groups()[0].params(), m.options.gradClip);
    m.optG->step();
    return stats;
}

}  // namespace lidistill::ml
