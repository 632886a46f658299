// SPDX-License-Identifier: MIT
#include "core/ml/DistillationDpo.h"

#include "core/base/Error.h"
#include "core/metrics/ChamferDistance.h"
#include "core/ml/ModelImpl.h"
#include "core/ml/diffusion/DpmSolver.h"
#include "core/ml/training/DistributedOps.h"
#include "core/ml/training/DpoObjective.h"
#include "core/ml/training/StoredPairs.h"
#include "core/ml/training/StudentStates.h"
#include "core/ml/training/TrainerState.h"

#include <algorithm>
#include <cmath>
#include <functional>
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
    // Both candidates' starts: x_init + eps and x_init + lambda eps (or DDIL's states).
    training::StudentStates::Phase beginPhase(Scene& own, at::Generator& gen) {
        return states.beginPhase(student.impl(), options.tile, own,
                                 {1.0f, static_cast<float>(options.noiseScale)}, teacher.impl(),
                                 gen);
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

    int rank() const { return group ? group->rank() : 0; }
    static int uniformT(at::Generator& gen) {
        return static_cast<int>(torch::randint(0, 1000, {1}, gen).item<int64_t>());
    }
    torch::Tensor normalLike(const torch::Tensor& x, at::Generator& gen) const {
        return torch::randn(x.sizes(), gen, torch::kFloat).to(device);
    }
    // The generator of example i of this rank's n (exampleSeed numbers every rank's examples).
    std::vector<at::Generator> generators(std::size_t n, std::uint64_t seed) const {
        std::vector<at::Generator> gens;
        for (std::size_t i = 0; i < n; ++i) {
            gens.push_back(at::detail::createCPUGenerator(
                training::exampleSeed(seed, rank() * static_cast<int>(n) + static_cast<int>(i))));
        }
        return gens;
    }
    double applyAveraged(std::size_t n, torch::optim::Optimizer& opt,
                         const std::vector<torch::nn::Module*>& trained,
                         const std::function<void(std::size_t)>& backward) {
        return training::stepOnMeanGradient(n, opt, options.gradClip, group.get(), trained,
                                            backward);
    }

    // Fake scores: denoising score matching on the student's winner and loser of one example.
    double fakeScoreLoss(Scene& own, at::Generator& gen) {
        auto& S = student.impl();
        auto phase = beginPhase(own, gen);  // DDIL: maybe a replayed rollout's scene
        auto& sc = phase.scene();
        Pair pair;
        {
            torch::NoGradGuard noGrad;
            S.denoiser->eval();
            pair = candidates(sc, phase.starts, gen);
        }
        const int tw = uniformT(gen), tl = uniformT(gen);
        const auto ew = normalLike(pair.winner, gen), el = normalLike(pair.loser, gen);
        const auto lossW = torch::mse_loss(
            eps(fakeWinner, sc.cond, pair.winner + schedule.sigma(tw) * ew, tw), ew);
        const auto lossL =
            torch::mse_loss(eps(fakeLoser, sc.cond, pair.loser + schedule.sigma(tl) * el, tl), el);
        const auto aux = lossW + lossL;
        aux.backward();
        return aux.item<double>();
    }

    // The student's loss on a fresh pair of one example, with gradients; fills the example's
    // pair statistics.
    double generatorLoss(Scene& own, at::Generator& gen, DpoStepStats& stats) {
        auto& S = student.impl();
        auto& T = teacher.impl();
        auto phase = beginPhase(own, gen);  // DDIL: maybe a replayed rollout's scene
        auto& sc = phase.scene();
        const auto& st = phase.starts;
        stats.stateStep = st.choice.k;
        stats.stateSource = st.choice.source;
        stats.replayed = st.replayed;
        S.denoiser->train();
        const auto pair = candidates(sc, st, gen);
        stats.winnerChamfer = pair.cdWinner;
        stats.loserChamfer = pair.cdLoser;
        stats.scaledNoiseWon = pair.scaledWon;
        const int t = uniformT(gen);
        const auto e = normalLike(pair.winner, gen);
        const float sigma = schedule.sigma(t);
        T.denoiser->eval();
        fakeWinner->eval();
        fakeLoser->eval();
        torch::Tensor loss;
        if (options.objective == DpoOptions::Objective::Bounded) {
            // Discrepancies with input gradients: x_t carries x0's graph into the frozen
            // networks' voxel features; their own weights get no gradient (flags off here).
            const auto xw = pair.winner + sigma * e, xl = pair.loser + sigma * e;
            for (auto* f : {&fakeWinner, &fakeLoser}) {
                for (auto& q : (*f)->parameters()) q.set_requires_grad(false);
            }
            const auto dW = (epsWithInputGrad(T.denoiser, sc.cond, xw, t) -
                             epsWithInputGrad(fakeWinner, sc.cond, xw, t))
                                .pow(2)
                                .mean();
            const auto dL = (epsWithInputGrad(T.denoiser, sc.cond, xl, t) -
                             epsWithInputGrad(fakeLoser, sc.cond, xl, t))
                                .pow(2)
                                .mean();
            loss = -torch::log_sigmoid(-options.beta * (dW - dL));
            for (auto* f : {&fakeWinner, &fakeLoser}) {
                for (auto& q : (*f)->parameters()) q.set_requires_grad(true);
            }
        } else {
            torch::Tensor epsTw, epsTl, epsFw, epsFl;
            {
                torch::NoGradGuard noGrad;
                const auto xw = pair.winner.detach() + sigma * e;
                const auto xl = pair.loser.detach() + sigma * e;
                epsTw = eps(T.denoiser, sc.cond, xw, t);
                epsTl = eps(T.denoiser, sc.cond, xl, t);
                epsFw = eps(fakeWinner, sc.cond, xw, t);
                epsFl = eps(fakeLoser, sc.cond, xl, t);
            }
            if (options.objective == DpoOptions::Objective::Linear) {
                loss = training::linearGeneratorLoss(
                    {epsTw, epsFw, pair.winner}, {epsTl, epsFl, pair.loser}, options.loserWeight);
            } else {
                // As released: x_t - x0 with x_t built from x0 itself: derivative exactly 0.
                const auto xw = pair.winner + sigma * e, xl = pair.loser + sigma * e;
                loss = ((epsTw - epsFw) * (xw - pair.winner)).mean() -
                       ((epsTl - epsFl) * (xl - pair.loser)).mean();
            }
        }
        loss.backward();
        return loss.item<double>();
    }

    DpoStepStats onPolicyStep(const std::vector<DpoTrainer::Example>& ex, std::uint64_t seed) {
        auto& S = student.impl();
        const std::size_t n = ex.size();
        auto gens = generators(n, seed);
        std::vector<Scene> own;
        std::int64_t largest = 0;
        for (const auto& e : ex) {
            own.push_back(scene(*e.partial, *e.truth));
            largest = std::max(largest, own.back().xInit.size(0));
        }
        detail::useThreadsFor(largest, device);
        DpoStepStats stats;
        fakeWinner->train();
        fakeLoser->train();
        stats.auxGradNorm = applyAveraged(
            n, *optAux, {fakeWinner.get(), fakeLoser.get()},
            [&](std::size_t i) { stats.auxLoss += fakeScoreLoss(own[i], gens[i]) / n; });
        std::vector<DpoStepStats> each(n);
        stats.generatorGradNorm = applyAveraged(n, *optG, {S.denoiser.get()}, [&](std::size_t i) {
            stats.generatorLoss += generatorLoss(own[i], gens[i], each[i]) / n;
        });
        S.denoiser->eval();
        stats.stateStep = each[0].stateStep;
        stats.stateSource = each[0].stateSource;
        stats.replayed = each[0].replayed;
        stats.scaledNoiseWon = each[0].scaledNoiseWon;
        for (const auto& e : each) {
            stats.winnerChamfer += e.winnerChamfer / n;
            stats.loserChamfer += e.loserChamfer / n;
            stats.scaledWonShare += (e.scaledNoiseWon ? 1.0 : 0.0) / n;
        }
        return stats;
    }

    // Stored pairs (Diffusion-DPO): G learns to denoise each winner better, and each loser
    // worse, than the teacher does; G in eval mode (BatchNorm on its running statistics, as the
    // reference runs), so the two differ only by their weights and the margin is exactly 0
    // while G is the teacher.
    DpoStepStats storedStep(const std::vector<DpoTrainer::Example>& ex, std::uint64_t seed) {
        auto& S = student.impl();
        auto& T = teacher.impl();
        const std::size_t n = ex.size();
        auto gens = generators(n, seed);
        std::int64_t largest = 0;
        for (const auto& e : ex) {
            largest = std::max<std::int64_t>(
                largest, static_cast<std::int64_t>(std::max(e.winner->size(), e.loser->size())));
        }
        detail::useThreadsFor(largest, device);
        DpoStepStats stats;
        S.denoiser->eval();
        T.denoiser->eval();
        stats.generatorGradNorm = applyAveraged(n, *optG, {}, [&](std::size_t i) {
            auto& gen = gens[i];
            const auto p = detail::xyzTensor(*ex[i].partial, "partial").to(device);
            const auto xw = detail::xyzTensor(*ex[i].winner, "winner").to(device);
            const auto xl = detail::xyzTensor(*ex[i].loser, "loser").to(device);
            SparseTensor cond;
            {
                torch::NoGradGuard noGrad;
                S.encoder->eval();
                cond = S.encoder(T.voxelize(p).voxels);
            }
            // One timestep for both sides (Diffusion-DPO): the comparison is at one noise
            // level; and one noise when the samples are of one size (its shared noise): then
            // swapping winner and loser exactly negates the loss's argument.
            const int t = uniformT(gen);
            const float sigma = schedule.sigma(t);
            const auto ew = normalLike(xw, gen);
            const auto el = xl.sizes() == xw.sizes() ? ew : normalLike(xl, gen);
            const auto xtw = xw + sigma * ew, xtl = xl + sigma * el;
            torch::Tensor refW, refL;
            {
                torch::NoGradGuard noGrad;
                refW = torch::mse_loss(eps(T.denoiser, cond, xtw, t), ew);
                refL = torch::mse_loss(eps(T.denoiser, cond, xtl, t), el);
            }
            const auto errW = torch::mse_loss(eps(S.denoiser, cond, xtw, t), ew);
            const auto errL = torch::mse_loss(eps(S.denoiser, cond, xtl, t), el);
            const auto inside = (errW - refW) - (errL - refL);
            const auto loss = -torch::log_sigmoid(-options.beta * inside);
            if (!torch::isfinite(loss).item<bool>()) {
                throw ModelError(
                    "Distillation-DPO: the stored-pair loss is no longer finite "
                    "(diverged: lower the learning rate or --beta)");
            }
            loss.backward();
            stats.generatorLoss += loss.item<double>() / n;
            stats.preferenceMargin += -inside.item<double>() / n;
        });
        return stats;
    }

    std::shared_ptr<ProcessGroup> group;
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
        : m_dpo(teacher, o), m_accumulate(o.accumulate), m_ddil(!o.states.isDefault()) {
        if (o.accumulate < 1 || o.accumulate > 64) {
            throw InvalidArgument("Distillation-DPO: accumulate must be in 1..64");
        }
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
    int batchSize() const override { return m_accumulate; }
    const LidiffModel& model() const override { return m_dpo.student(); }
    void setLearningRate(double lr) override { m_dpo.setLearningRate(lr); }
    void setProgress(long long step, long long total) override {
        m_dpo.setProgress(total > 0 ? double(step) / double(total) : 0.0);
    }
    bool setProcessGroup(std::shared_ptr<ProcessGroup> group) override {
        m_rank = group ? group->rank() : 0;
        m_dpo.setProcessGroup(std::move(group));
        return true;
    }
    MetricsRecord step(const std::vector<TrainingExample>& batch, std::uint64_t seed) override {
        if (static_cast<int>(batch.size()) != m_accumulate) {
            throw InvalidArgument("Distillation-DPO takes " + std::to_string(m_accumulate) +
                                  " example(s) a step, got " + std::to_string(batch.size()));
        }
        std::vector<DpoTrainer::Example> examples;
        for (const auto& e : batch) examples.push_back({&e.partial, &e.full, nullptr, nullptr});
        if (!m_feed) return record(m_dpo.step(examples, seed, false));
        // The store's verdicts as they are now: a decision made a moment ago counts.
        m_feed->refresh();
        // Stored or on-policy: one draw from the step's seed, the same on every rank.
        std::mt19937_64 rng(seed ^ kPairSalt);
        const bool stored = std::uniform_real_distribution<double>(0, 1)(rng) < m_mix;
        MetricsRecord r;
        double pairId = -1, human = 0;
        if (stored) {
            // Each example its own pair, drawn from its own seed (example 0 of rank 0: the
            // step's generator, after the decision).
            std::vector<training::StoredPairDraw> draws;
            for (int i = 0; i < m_accumulate; ++i) {
                const int global = m_rank * m_accumulate + i;
                std::mt19937_64 own(training::exampleSeed(seed, global) ^ kPairSalt);
                own();  // the decision's draw
                draws.push_back(m_feed->draw(own()));
                examples[static_cast<std::size_t>(i)] = {draws.back().partial, nullptr,
                                                         draws.back().winner, draws.back().loser};
            }
            auto st = m_dpo.step(examples, seed, true);
            st.winnerChamfer = st.loserChamfer = st.scaledWonShare = 0;
            for (const auto& d : draws) {
                st.winnerChamfer += d.cdWinner / m_accumulate;
                st.loserChamfer += d.cdLoser / m_accumulate;
                st.scaledWonShare += (d.bWon ? 1.0 : 0.0) / m_accumulate;
            }
            st.scaledNoiseWon = draws[0].bWon;
            r = record(st);
            pairId = static_cast<double>(draws[0].id);
            human = draws[0].human ? 1 : 0;
        } else {
            r = record(m_dpo.step(examples, seed, false));
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
        MetricsRecord r{{"loss_g", st.generatorLoss},     {"loss_aux", st.auxLoss},
                        {"cd_winner", st.winnerChamfer},  {"cd_loser", st.loserChamfer},
                        {"grad_g", st.generatorGradNorm}, {"grad_aux", st.auxGradNorm},
                        {"scaled_won", st.scaledWonShare}};
        if (m_feed) r.emplace_back("pref_margin", st.preferenceMargin);
        if (m_ddil) {
            r.insert(r.end(), {{"state_k", double(st.stateStep)},
                               {"state_source", double(st.stateSource)},
                               {"replayed", st.replayed ? 1.0 : 0.0}});
        }
        return r;
    }

    static constexpr std::uint64_t kPairSalt = 0x9e3779b97f4a7c15ULL;

    DpoTrainer m_dpo;
    int m_accumulate = 1;
    int m_rank = 0;
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
    if (partial.empty() || groundTruth.empty()) {
        throw InvalidArgument("Distillation-DPO step: empty partial scan or ground truth");
    }
    return step({Example{&partial, &groundTruth, nullptr, nullptr}}, seed, false);
}

DpoStepStats DpoTrainer::storedPairStep(const PointCloud& partial, const PointCloud& winner,
                                        const PointCloud& loser, std::uint64_t seed) {
    if (partial.empty() || winner.empty() || loser.empty()) {
        throw InvalidArgument("Distillation-DPO stored pair: an empty partial scan or candidate");
    }
    return step({Example{&partial, nullptr, &winner, &loser}}, seed, true);
}

DpoStepStats DpoTrainer::step(const std::vector<Example>& examples, std::uint64_t seed,
                              bool storedPairs) {
    if (examples.empty() || examples.size() > 64) {
        throw InvalidArgument("Distillation-DPO step: " + std::to_string(examples.size()) +
                              " examples (1 to 64)");
    }
    for (const auto& e : examples) {
        const bool ok =
            e.partial && !e.partial->empty() &&
            (storedPairs ? e.winner && e.loser && !e.winner->empty() && !e.loser->empty()
                         : e.truth && !e.truth->empty());
        if (!ok) {
            throw InvalidArgument(
                storedPairs ? "Distillation-DPO stored pair: an empty partial scan or "
                              "candidate"
                            : "Distillation-DPO step: empty partial scan or ground truth");
        }
    }
    return storedPairs ? m_impl->storedStep(examples, seed) : m_impl->onPolicyStep(examples, seed);
}

void DpoTrainer::setProcessGroup(std::shared_ptr<ProcessGroup> group) {
    auto& m = *m_impl;
    if (group && group->size() > 1 && m.options.states.replaySize > 0) {
        throw InvalidArgument(
            "Distillation-DPO cannot run data-parallel with a replay buffer "
            "(each process would keep its own rollouts)");
    }
    m.group = std::move(group);
    if (!m.group) return;
    distributed::broadcastFromRank0(*m.group, *m.student.impl().denoiser, false);
    distributed::broadcastFromRank0(*m.group, *m.fakeWinner, false);
    distributed::broadcastFromRank0(*m.group, *m.fakeLoser, false);
}

}  // namespace lidistill::ml
