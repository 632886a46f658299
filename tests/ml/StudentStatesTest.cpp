// SPDX-License-Identifier: MIT
// DDIL's training states (core/ml/StudentStates.h): the defaults are the released behaviour and
// draw no random number; the student's jump at t = 999 is the one-step sampler's; forward states
// are the truth noised to t_k; rollouts stop at step k of the K-step sampler; the sources follow
// their schedule; the replay buffer is a ring that saves and loads whole.
#include "core/base/Error.h"
#include "core/ml/training/StudentStates.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <set>

namespace lidistill::ml::training {
namespace {

struct Fixture : ::testing::Test {
    diffusion::NoiseSchedule schedule;
    torch::Tensor partial = torch::tensor({{1.f, 2.f, 0.f}, {-3.f, 0.5f, 1.f}, {4.f, -1.f, -0.5f}});
    torch::Tensor xInit = partial.repeat({2, 1});
    torch::Tensor truth = torch::randn({50, 3}) * 5.0;
    // A stand-in noise predictor: any fixed function of (x, t) will do for the bookkeeping.
    EpsFn eps = [](const torch::Tensor& x, int t) { return 0.1 * x + 1e-4 * t; };
};

TEST_F(Fixture, DefaultsAreTheReleasedStatesAndDrawNothing) {
    const StudentStateOptions o;
    EXPECT_TRUE(o.isDefault());
    StudentStates states(o, schedule);
    auto gen = at::detail::createCPUGenerator(42);
    auto ref = at::detail::createCPUGenerator(42);
    EXPECT_EQ(states.pickReplay(gen), nullptr);
    const auto c = states.choose(gen);
    EXPECT_EQ(c.k, 0);
    EXPECT_EQ(c.t, 999);
    EXPECT_EQ(torch::randn({4}, gen).sum().item<float>(), torch::randn({4}, ref).sum().item<float>())
        << "the default path drew random numbers";
    const auto base = torch::randn({6, 3});
    const auto x = states.make(c, xInit, partial, truth, {1.0f, 1.1f}, base, eps, eps, gen);
    ASSERT_EQ(x.size(), 2u);
    EXPECT_TRUE(torch::equal(x[0], xInit + base));
    EXPECT_TRUE(torch::equal(x[1], xInit + 1.1f * base));
}

TEST_F(Fixture, JumpFrom999IsTheOneStepSampler) {
    StudentStates states(StudentStateOptions{}, schedule);
    const auto x = xInit + torch::randn({6, 3});
    const auto e = torch::randn({6, 3}), z = torch::randn({6, 3});
    diffusion::SdeDpmSolver solver(schedule, 1);
    solver.beginScan(6);
    const auto expected = xInit + solver.step(0, x - xInit, e, z);
    EXPECT_TRUE(torch::allclose(states.jump(xInit, x, 999, e, z), expected, 1e-6, 1e-5));
    // From a later state, a perfect prediction of the state's noise returns the clean residual
    // (the jump's coefficients differ from alpha_0 and 0 by ~1e-4 at t = 250).
    const int t = 250;
    const auto r0 = torch::randn({6, 3});
    const auto noise = torch::randn({6, 3});
    const auto xt = xInit + schedule.alpha(t) * r0 + schedule.sigma(t) * noise;
    const auto out = states.jump(xInit, xt, t, noise, torch::zeros({6, 3}));
    EXPECT_TRUE(torch::allclose(out, xInit + r0 * schedule.alpha(0), 1e-3, 1e-3));
    EXPECT_FALSE(torch::allclose(xt, xInit + r0 * schedule.alpha(0), 1e-2, 1e-2));
}

TEST_F(Fixture, ForwardStatesAreTheTruthNoisedToTk) {
    StudentStateOptions o;
    o.studentSteps = 8;
    o.start = o.end = {1.0, 0.0, 0.0};
    StudentStates states(o, schedule);
    auto gen = at::detail::createCPUGenerator(3);
    const auto c = states.choose(gen);
    EXPECT_EQ(c.source, StateChoice::Forward);
    EXPECT_EQ(c.t, diffusion::samplingTimesteps(8)[static_cast<std::size_t>(c.k)]);
    const auto base = torch::randn({6, 3});
    const auto x = states.make(c, xInit, partial, truth, {1.0f, 2.0f}, base, eps, eps, gen);
    const auto g = x[0] - schedule.sigma(c.t) * base;
    // Every row of the clean part is a row of the truth, and both scales share it.
    for (int i = 0; i < 6; ++i) {
        const auto d = (truth - g[i]).abs().sum(1).min().item<float>();
        EXPECT_LT(d, 1e-4) << i;
    }
    EXPECT_TRUE(torch::allclose(x[1] - schedule.sigma(c.t) * 2.0f * base, g, 1e-5, 1e-5));
}

TEST_F(Fixture, RolloutsStopAtStepKOfTheKStepSamplerAndUseTheirNetwork) {
    StudentStateOptions o;
    o.studentSteps = 4;
    StudentStates states(o, schedule);
    const auto base = torch::randn({6, 3});
    EpsFn other = [](const torch::Tensor& x, int) { return -0.2 * x; };
    for (int k = 1; k < 4; ++k) {
        StateChoice c{k, diffusion::samplingTimesteps(4)[static_cast<std::size_t>(k)],
                      StateChoice::Student};
        auto gen = at::detail::createCPUGenerator(11);
        const auto x = states.make(c, xInit, partial, truth, {1.0f}, base, eps, other, gen)[0];
        // The same by hand: k sampler steps from x_init + base with the student's network.
        auto ref = at::detail::createCPUGenerator(11);
        diffusion::SdeDpmSolver solver(schedule, 4);
        solver.beginScan(6);
        auto y = xInit + base;
        for (int j = 0; j < k; ++j) {
            const auto z = torch::randn({6, 3}, ref, torch::kFloat);
            y = xInit + solver.step(j, y - xInit, other(y, solver.timesteps()[j]), z);
        }
        EXPECT_TRUE(torch::equal(x, y)) << "k " << k;
        // The teacher's rollout uses the teacher's network: another state.
        c.source = StateChoice::Teacher;
        auto gen2 = at::detail::createCPUGenerator(11);
        EXPECT_FALSE(torch::equal(
            states.make(c, xInit, partial, truth, {1.0f}, base, eps, other, gen2)[0], x));
    }
}

TEST_F(Fixture, SourcesFollowTheirScheduleAndStepsAreUniform) {
    StudentStateOptions o;
    o.studentSteps = 4;
    o.start = {0.6, 0.4, 0.0};
    o.end = {0.0, 0.2, 0.8};
    StudentStates states(o, schedule);
    auto gen = at::detail::createCPUGenerator(5);
    auto frequencies = [&](double progress) {
        states.setProgress(progress);
        std::array<double, 3> f{};
        std::array<double, 4> ks{};
        const int n = 4000;
        for (int i = 0; i < n; ++i) {
            const auto c = states.choose(gen);
            f[static_cast<std::size_t>(c.source)] += 1.0 / n;
            ks[static_cast<std::size_t>(c.k)] += 1.0 / n;
        }
        for (double k : ks) EXPECT_NEAR(k, 0.25, 0.03);
        return f;
    };
    const auto a = frequencies(0.0), b = frequencies(1.0), h = frequencies(0.5);
    EXPECT_NEAR(a[0], 0.6, 0.03);
    EXPECT_NEAR(a[1], 0.4, 0.03);
    EXPECT_EQ(a[2], 0.0);
    EXPECT_EQ(b[0], 0.0);
    EXPECT_NEAR(b[2], 0.8, 0.03);
    EXPECT_NEAR(h[0], 0.3, 0.03);
    EXPECT_NEAR(h[1], 0.3, 0.03);
    EXPECT_NEAR(h[2], 0.4, 0.03);
}

TEST_F(Fixture, ReplayIsARingThatSavesAndLoadsWhole) {
    StudentStateOptions o;
    o.studentSteps = 4;
    o.replaySize = 2;
    o.replayProb = 1.0;
    StudentStates states(o, schedule);
    auto gen = at::detail::createCPUGenerator(1);
    EXPECT_EQ(states.pickReplay(gen), nullptr);  // empty
    TrainingExample ex;
    ex.partial.xyz = {{1, 2, 3}};
    ex.full.xyz = {{1, 2, 3}, {4, 5, 6}};
    states.remember(ex, {0, 999, StateChoice::Student}, {torch::ones({6, 3})});  // k = 0: not kept
    states.remember(ex, {1, 749, StateChoice::Forward}, {torch::ones({6, 3})});  // forward: not kept
    EXPECT_EQ(states.pickReplay(gen), nullptr);
    for (int i = 1; i <= 3; ++i) {
        states.remember(ex, {i, 100 * i, StateChoice::Teacher}, {torch::full({6, 3}, float(i))});
    }
    // Two slots: the first rollout was overwritten by the third.
    std::set<int> seen;
    for (int i = 0; i < 50; ++i) seen.insert(states.pickReplay(gen)->choice.k);
    EXPECT_EQ(seen, (std::set<int>{2, 3}));

    torch::serialize::OutputArchive out;
    states.save(out);
    const auto file = std::filesystem::temp_directory_path() / "lidistill-replay-test.pt";
    out.save_to(file.string());
    StudentStates loaded(o, schedule);
    torch::serialize::InputArchive in;
    in.load_from(file.string());
    loaded.load(in);
    auto g1 = at::detail::createCPUGenerator(9), g2 = at::detail::createCPUGenerator(9);
    for (int i = 0; i < 10; ++i) {
        const auto* a = states.pickReplay(g1);
        const auto* b = loaded.pickReplay(g2);
        ASSERT_TRUE(a && b);
        EXPECT_EQ(a->choice.k, b->choice.k);
        EXPECT_EQ(a->choice.t, b->choice.t);
        EXPECT_EQ(a->choice.source, b->choice.source);
        EXPECT_TRUE(torch::equal(a->states[0], b->states[0]));
        EXPECT_EQ(a->example.full.xyz, b->example.full.xyz);
    }
    // The ring position came back too: the next rollout replaces the oldest (k = 2).
    states.remember(ex, {3, 7, StateChoice::Student}, {torch::zeros({6, 3})});
    loaded.remember(ex, {3, 7, StateChoice::Student}, {torch::zeros({6, 3})});
    for (auto* s : {&states, &loaded}) {
        std::set<int> ts;
        for (int i = 0; i < 50; ++i) ts.insert(s->pickReplay(gen)->choice.t);
        EXPECT_EQ(ts, (std::set<int>{7, 300}));
    }
    // A buffer larger than this run keeps is refused.
    StudentStateOptions small = o;
    small.replaySize = 1;
    StudentStates tiny(small, schedule);
    torch::serialize::InputArchive again;
    again.load_from(file.string());
    EXPECT_THROW(tiny.load(again), InvalidArgument);
    std::filesystem::remove(file);
}

TEST_F(Fixture, ReflectionClampsToTheScansBoxAndBadOptionsAreRefused) {
    StudentStateOptions o;
    o.reflectMargin = 1.0;
    StudentStates states(o, schedule);
    const auto x = torch::tensor({{100.f, 0.f, 0.f}, {0.f, -100.f, 0.5f}});
    const auto r = states.reflect(x, partial);
    EXPECT_TRUE(torch::equal(r, torch::tensor({{5.f, 0.f, 0.f}, {0.f, -2.f, 0.5f}}))) << r;
    EXPECT_TRUE(torch::equal(StudentStates(StudentStateOptions{}, schedule).reflect(x, partial), x));

    auto bad = [&](auto edit) {
        StudentStateOptions b;
        b.studentSteps = 4;
        edit(b);
        EXPECT_THROW(b.validate(), InvalidArgument);
    };
    bad([](auto& b) { b.studentSteps = 0; });
    bad([](auto& b) { b.start = {0.5, 0.6, 0.0}; });
    bad([](auto& b) { b.end = {-0.5, 1.5, 0.0}; });
    bad([](auto& b) { b.replayProb = 0.5; });  // no buffer
    bad([](auto& b) { b.reflectMargin = -1; });
    EXPECT_EQ(StudentStateOptions{}.describe(), "K=1 start=0,0,1 end=0,0,1");
}

}  // namespace
}  // namespace lidistill::ml::training
