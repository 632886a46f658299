// SPDX-License-Identifier: MIT
#include "core/ml/training/StudentStates.h"

#include "core/base/Error.h"
#include "core/ml/ModelImpl.h"

#include <cmath>
#include <sstream>

namespace lidistill::ml {

void StudentStateOptions::validate() const {
    if (studentSteps < 1 || studentSteps > 1000) {
        throw InvalidArgument("DDIL: the student's steps must be in 1..1000");
    }
    for (const auto* p : {&start, &end}) {
        double sum = 0;
        for (double v : *p) {
            if (!(v >= 0) || !std::isfinite(v)) {
                throw InvalidArgument("DDIL: source probabilities must be >= 0");
            }
            sum += v;
        }
        if (std::abs(sum - 1.0) > 1e-6) {
            throw InvalidArgument("DDIL: the probabilities of forward, teacher and student "
                                  "states must sum to 1");
        }
    }
    if (replaySize < 0 || replaySize > 100000) {
        throw InvalidArgument("DDIL: the replay buffer size must be in 0..100000");
    }
    if (!(replayProb >= 0 && replayProb <= 1)) {
        throw InvalidArgument("DDIL: the replay probability must be in [0, 1]");
    }
    if (replayProb > 0 && replaySize == 0) {
        throw InvalidArgument("DDIL: a replay probability needs a replay buffer (size > 0)");
    }
    if (!(reflectMargin >= 0) || !std::isfinite(reflectMargin)) {
        throw InvalidArgument("DDIL: the reflection margin must be >= 0 metres");
    }
}

std::string StudentStateOptions::describe() const {
    std::ostringstream s;
    auto list = [&](const std::array<double, 3>& p) { s << p[0] << ',' << p[1] << ',' << p[2]; };
    s << "K=" << studentSteps << " start=";
    list(start);
    s << " end=";
    list(end);
    if (replaySize > 0) s << " replay=" << replaySize << '@' << replayProb;
    if (reflectMargin > 0) s << " reflect=" << reflectMargin;
    return s.str();
}

namespace training {

torch::Tensor resampleRows(const torch::Tensor& g, std::int64_t n, at::Generator& gen) {
    const auto m = g.size(0);
    const auto idx = m >= n ? torch::randperm(m, gen, torch::kLong).slice(0, 0, n)
                            : torch::randint(0, m, {n}, gen, torch::kLong);
    return g.index_select(0, idx.to(g.device()));
}

StudentScene makeScene(LidiffModel::Impl& model, const PointCloud& partial,
                       const PointCloud& truth, int tile) {
    StudentScene sc;
    sc.partial = &partial;
    sc.truth = &truth;
    sc.p = detail::xyzTensor(partial, "partial").to(model.device);
    sc.xInit = sc.p.repeat({tile, 1});
    torch::NoGradGuard noGrad;
    model.encoder->eval();
    sc.cond = model.encoder(model.voxelize(sc.p).voxels);
    return sc;
}

StudentScene& phaseScene(LidiffModel::Impl& model, int tile, StudentScene& own,
                         const ReplayEntry* replay, std::optional<StudentScene>& kept) {
    if (!replay) return own;
    kept.emplace(makeScene(model, replay->example.partial, replay->example.full, tile));
    return *kept;
}

const torch::Tensor& truthOf(StudentScene& sc) {
    if (!sc.gt.defined()) sc.gt = detail::xyzTensor(*sc.truth, "ground truth").to(sc.xInit.device());
    return sc.gt;
}

StudentStarts StudentStates::starts(StudentScene& sc, const ReplayEntry* replay,
                                    const std::vector<float>& scales,
                                    const LidiffModel::Impl& teacher,
                                    nets::MinkUNetDiff& student, at::Generator& gen) {
    torch::NoGradGuard noGrad;
    StudentStarts st;
    if (replay) {
        st.choice = replay->choice;
        st.replayed = true;
        for (const auto& x : replay->states) st.x.push_back(x.to(sc.xInit.device()));
        return st;
    }
    st.choice = choose(gen);
    const auto base =
        torch::randn({sc.xInit.size(0), 3}, gen, torch::kFloat).to(sc.xInit.device());
    if (st.choice.k == 0 && st.choice.source != StateChoice::Forward) {
        for (float s : scales) st.x.push_back(sc.xInit + s * base);
        return st;
    }
    truthOf(sc);
    nets::MinkUNetDiff T = teacher.denoiser;  // a holder of the same (frozen) network
    T->eval();
    student->eval();
    const EpsFn te = [&](const torch::Tensor& x, int t) {
        return epsOf(teacher, T, sc.cond, x, t);
    };
    const EpsFn se = [&](const torch::Tensor& x, int t) {
        return epsOf(teacher, student, sc.cond, x, t);
    };
    st.x = make(st.choice, sc.xInit, sc.p, sc.gt, scales, base, te, se, gen);
    remember({*sc.partial, *sc.truth}, st.choice, st.x);
    return st;
}

StudentStates::Phase StudentStates::beginPhase(LidiffModel::Impl& student, int tile,
                                               StudentScene& own, const std::vector<float>& scales,
                                               const LidiffModel::Impl& teacher,
                                               at::Generator& gen) {
    Phase phase;
    phase.own = &own;
    const ReplayEntry* replay = pickReplay(gen);
    phaseScene(student, tile, own, replay, phase.kept);
    phase.starts = starts(phase.scene(), replay, scales, teacher, student.denoiser, gen);
    return phase;
}

StudentStates::StudentStates(const StudentStateOptions& options,
                             const diffusion::NoiseSchedule& schedule)
    : m_options(options), m_schedule(schedule) {
    options.validate();
    m_timesteps = diffusion::samplingTimesteps(options.studentSteps, schedule.trainSteps());
}

const ReplayEntry* StudentStates::pickReplay(at::Generator& gen) const {
    if (m_options.replayProb <= 0 || m_buffer.empty()) return nullptr;
    const double u = torch::rand({1}, gen, torch::kDouble).item<double>();
    if (u >= m_options.replayProb) return nullptr;
    const auto i = torch::randint(0, static_cast<std::int64_t>(m_buffer.size()), {1}, gen,
                                  torch::kLong)
                       .item<std::int64_t>();
    return &m_buffer[static_cast<std::size_t>(i)];
}

StateChoice StudentStates::choose(at::Generator& gen) const {
    StateChoice c;
    if (m_options.studentSteps == 1) return c;  // the released state: x_init + eps at 999
    c.k = static_cast<int>(
        torch::randint(0, m_options.studentSteps, {1}, gen, torch::kLong).item<std::int64_t>());
    c.t = m_timesteps[static_cast<std::size_t>(c.k)];
    const double u = torch::rand({1}, gen, torch::kDouble).item<double>();
    double acc = 0;
    c.source = StateChoice::Student;
    for (int s = 0; s < 3; ++s) {
        acc += m_options.start[s] + m_progress * (m_options.end[s] - m_options.start[s]);
        if (u < acc) {
            c.source = s;
            break;
        }
    }
    return c;
}

torch::Tensor StudentStates::rollout(const EpsFn& eps, const torch::Tensor& xInit,
                                     const torch::Tensor& partial, torch::Tensor x, int k,
                                     at::Generator& gen) const {
    diffusion::SdeDpmSolver solver(m_schedule, m_options.studentSteps);
    solver.beginScan(x.size(0));
    for (int j = 0; j < k; ++j) {
        torch::Tensor e;
        try {
            e = eps(x, m_timesteps[static_cast<std::size_t>(j)]);
        } catch (const InvalidArgument& err) {
            // An untrained or diverging network's rollout can leave the voxel grid.
            throw ModelError(std::string("DDIL: a rollout diverged at its step ") +
                             std::to_string(j) + " (" + err.what() +
                             "): clamp the states with --reflect M, or lower the learning rate");
        }
        const auto z = torch::randn(x.sizes(), gen, torch::kFloat).to(x.device());
        x = reflect(xInit + solver.step(j, x - xInit, e, z), partial);
    }
    return x;
}

std::vector<torch::Tensor> StudentStates::make(const StateChoice& choice,
                                               const torch::Tensor& xInit,
                                               const torch::Tensor& partial,
                                               const torch::Tensor& truth,
                                               const std::vector<float>& scales,
                                               const torch::Tensor& base, const EpsFn& teacher,
                                               const EpsFn& student, at::Generator& gen) const {
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> out;
    if (choice.source == StateChoice::Forward) {
        const auto g = resampleRows(truth, xInit.size(0), gen);
        for (float s : scales) out.push_back(g + (m_schedule.sigma(choice.t) * s) * base);
        return out;
    }
    for (float s : scales) {
        const auto start = xInit + s * base;
        if (choice.k == 0) {
            out.push_back(start);
            continue;
        }
        out.push_back(rollout(choice.source == StateChoice::Teacher ? teacher : student, xInit,
                              partial, start, choice.k, gen));
    }
    return out;
}

void StudentStates::remember(const TrainingExample& example, const StateChoice& choice,
                             const std::vector<torch::Tensor>& states) {
    if (m_options.replaySize == 0 || choice.k == 0 || choice.source == StateChoice::Forward) {
        return;
    }
    ReplayEntry e{example, choice, {}};
    for (const auto& s : states) e.states.push_back(s.detach().clone());
    const auto slot = static_cast<std::size_t>(m_added % m_options.replaySize);
    if (m_buffer.size() < static_cast<std::size_t>(m_options.replaySize)) {
        m_buffer.push_back(std::move(e));
    } else {
        m_buffer[slot] = std::move(e);
    }
    ++m_added;
}

torch::Tensor StudentStates::jump(const torch::Tensor& xInit, const torch::Tensor& x, int t,
                                  const torch::Tensor& e, const torch::Tensor& z) const {
    const auto c = diffusion::SdeDpmSolver::firstOrder(m_schedule, t, 0);
    const auto r = x - xInit;
    const auto d = (r - m_schedule.sigma(t) * e) / m_schedule.alpha(t);
    return xInit + c.sample * r + c.data * d + c.noise * z;
}

torch::Tensor StudentStates::reflect(const torch::Tensor& x, const torch::Tensor& partial) const {
    if (m_options.reflectMargin <= 0) return x;
    const auto lo = std::get<0>(partial.min(0)) - m_options.reflectMargin;
    const auto hi = std::get<0>(partial.max(0)) + m_options.reflectMargin;
    return torch::max(torch::min(x, hi), lo);
}

void StudentStates::save(torch::serialize::OutputArchive& archive) const {
    archive.write("replay.count", torch::tensor({static_cast<std::int64_t>(m_buffer.size()),
                                                 m_added}));
    for (std::size_t i = 0; i < m_buffer.size(); ++i) {
        const auto& e = m_buffer[i];
        const std::string p = "replay." + std::to_string(i) + ".";
        archive.write(p + "partial", detail::xyzTensor(e.example.partial, "replay partial"));
        archive.write(p + "full", detail::xyzTensor(e.example.full, "replay truth"));
        archive.write(p + "choice", torch::tensor({std::int64_t{e.choice.k},
                                                   std::int64_t{e.choice.t},
                                                   std::int64_t{e.choice.source}}));
        archive.write(p + "states", torch::stack(e.states).cpu());
    }
}

void StudentStates::load(torch::serialize::InputArchive& archive) {
    torch::Tensor count;
    archive.read("replay.count", count);
    const auto n = count[0].item<std::int64_t>();
    if (n < 0 || n > m_options.replaySize) {
        throw InvalidArgument("the state's replay buffer holds " + std::to_string(n) +
                              " entries; this run keeps at most " +
                              std::to_string(m_options.replaySize));
    }
    std::vector<ReplayEntry> buffer;
    for (std::int64_t i = 0; i < n; ++i) {
        const std::string p = "replay." + std::to_string(i) + ".";
        torch::Tensor partial, full, choice, states;
        archive.read(p + "partial", partial);
        archive.read(p + "full", full);
        archive.read(p + "choice", choice);
        archive.read(p + "states", states);
        ReplayEntry e;
        e.example.partial = detail::cloudOf(partial);
        e.example.full = detail::cloudOf(full);
        e.choice = {choice[0].item<int>(), choice[1].item<int>(), choice[2].item<int>()};
        for (const auto& s : states.unbind(0)) e.states.push_back(s.clone());
        buffer.push_back(std::move(e));
    }
    m_buffer = std::move(buffer);
    m_added = count[1].item<std::int64_t>();
}

}  // namespace training
}  // namespace lidistill::ml
