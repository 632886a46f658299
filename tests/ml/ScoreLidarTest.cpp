// SPDX-License-Identifier: MIT
// ScoreLiDAR (reference 5): the intended distillation term moves a student toward the teacher's
// data on a problem whose answer is known, the released one cannot move it, a flipped sign moves
// it away; the structural losses with nearest-neighbour correspondences see a permuted copy of
// the truth as perfect where the released index-aligned ones do not; and the trainer on a real
// network moves only the student and resumes exactly.
#include "core/base/Error.h"
#include "core/ml/ScoreLidar.h"
#include "core/ml/training/DpoObjective.h"
#include "core/ml/training/PointLosses.h"
#include "tests/ml/StudentTestSupport.h"
#include "tests/support/TestData.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>

namespace lidistill::ml {
namespace {

// The student is a free set of points theta (its x0). The teacher's data is one point mass per
// row at `target`, so its exact noise prediction at x_t = x0 + sigma e is (x_t - target)/sigma;
// the fake score, trained to convergence on the student's samples, is the point mass at x0:
// (x_t - x0)/sigma = e. Descent on the intended surrogate moves theta by exactly
// -lr (theta - target) / (sigma 3N) a step: toward the teacher's data.
struct PointMasses : modeltest::PointMasses {
    torch::Tensor theta = start;

    // One SGD step of lr on the given loss of (epsT, epsF, x0, xt), from theta.
    template <class Loss>
    torch::Tensor step(const torch::Tensor& from, double lr, Loss loss, int seed) const {
        torch::manual_seed(seed);
        auto x0 = from.clone().requires_grad_(true);
        const auto noise = torch::randn({3, 3});
        const auto xt = x0 + sigma * noise;
        const auto epsT = ((xt - target) / sigma).detach();
        const auto epsF = ((xt - x0) / sigma).detach();
        loss(epsT, epsF, x0, xt).backward();
        torch::NoGradGuard g;
        return x0.grad().defined() ? (x0 - lr * x0.grad()).detach() : from.clone();
    }
};

TEST(ScoreLidar, IntendedDistillationMovesTheStudentToTheTeachersDataByTheKnownAmount) {
    const PointMasses p;
    const double lr = 0.9;
    auto intended = [](const torch::Tensor& epsT, const torch::Tensor& epsF,
                       const torch::Tensor& x0, const torch::Tensor&) {
        return training::distillationLoss({epsT, epsF, x0});
    };
    const auto one = p.step(p.theta, lr, intended, 1);
    const auto expected = p.theta - lr * (p.theta - p.target) / (p.sigma * 9.0);
    EXPECT_TRUE(torch::allclose(one, expected, 1e-5, 1e-6)) << one;
    // Repeated (the fake score refitted each step), the student converges to the data.
    auto x = p.theta;
    for (int i = 0; i < 300; ++i) x = p.step(x, lr, intended, i);
    EXPECT_LT((x - p.target).abs().max().item<double>(), 1e-3) << x;

    // The released form, mean((eps_T - eps_F)(x_t - x0)), has an exactly zero gradient.
    auto released = [](const torch::Tensor& epsT, const torch::Tensor& epsF,
                       const torch::Tensor& x0, const torch::Tensor& xt) {
        return ((epsT - epsF) * (xt - x0)).mean();
    };
    auto y = p.theta;
    for (int i = 0; i < 50; ++i) y = p.step(y, lr, released, i);
    EXPECT_TRUE(torch::equal(y, p.theta));

    // A sign-flipped objective moves it away, and this test tells the two apart.
    auto flipped = [&](const torch::Tensor& epsT, const torch::Tensor& epsF,
                       const torch::Tensor& x0, const torch::Tensor& xt) {
        return -intended(epsT, epsF, x0, xt);
    };
    auto z = p.theta;
    for (int i = 0; i < 20; ++i) z = p.step(z, lr, flipped, i);
    EXPECT_GT((z - p.target).norm().item<double>(), 2.0 * (p.theta - p.target).norm().item<double>());
}

// A flat random scene (10 m across, 1 m high).
torch::Tensor someCloud(int n, int seed) {
    torch::manual_seed(seed);
    return torch::randn({n, 3}) * torch::tensor({10.f, 10.f, 1.f});
}

TEST(ScoreLidar, NearestNeighbourStructureSeesAPermutedTruthAsPerfectIndexAlignedDoesNot) {
    const auto truth = someCloud(400, 3);
    const auto perm = torch::randperm(400);
    const auto x0 = truth.index_select(0, perm);
    EXPECT_EQ(training::chamferLoss(x0, truth).item<double>(), 0.0);
    EXPECT_GT(torch::mse_loss(x0, truth).item<double>(), 10.0);  // released scene loss (0.3)
    const auto keys = training::curvatureKeypoints(truth, torch::arange(400), 40, 16);
    EXPECT_EQ(keys.size(0), 40);
    EXPECT_LT(training::keypointLoss(x0, truth, keys, false).item<double>(), 1e-9);
    EXPECT_GT(training::keypointLoss(x0, truth, keys, true).item<double>(), 10.0);

    // Perturbed, each nearest-neighbour loss alone pulls the sample back toward the truth.
    auto descend = [&](const std::function<torch::Tensor(const torch::Tensor&)>& loss, double lr,
                       int iterations) {
        torch::manual_seed(5);
        auto x = (truth + 0.3 * torch::randn({400, 3})).requires_grad_(true);
        const double before = loss(x).item<double>();
        for (int i = 0; i < iterations; ++i) {
            loss(x).backward();
            torch::NoGradGuard g;
            x -= lr * x.grad();
            x.grad().zero_();
        }
        return std::make_pair(before, loss(x).item<double>());
    };
    const auto [cd0, cd1] =
        descend([&](const torch::Tensor& x) { return training::chamferLoss(x, truth); }, 20, 20);
    EXPECT_LT(cd1, 0.1 * cd0);
    const auto [kp0, kp1] = descend(
        [&](const torch::Tensor& x) { return training::keypointLoss(x, truth, keys, false); }, 3,
        30);
    EXPECT_LT(kp1, 0.1 * kp0);
}

TEST(ScoreLidar, CurvatureIsZeroOnAPlaneAndAThirdForAnIsotropicCloud) {
    torch::manual_seed(9);
    auto plane = torch::rand({500, 3}) * 10.0;
    plane.select(1, 2).zero_();
    // A plane tilted out of the axes: lambda_min = 0 whatever the orientation.
    const auto rot = torch::tensor({{0.8f, 0.f, 0.6f}, {0.f, 1.f, 0.f}, {-0.6f, 0.f, 0.8f}});
    EXPECT_LT(training::curvature(plane.matmul(rot), 30).abs().max().item<double>(), 1e-4);
    // With every other point as a neighbour the curvature is the cloud's covariance's
    // lambda_min / trace: about 1/3 for an isotropic Gaussian, 1/201 for scales (10, 10, 1).
    const auto iso = torch::randn({2000, 3});
    const auto c = training::curvature(iso, 1999);
    EXPECT_NEAR(c.mean().item<double>(), 1.0 / 3.0, 0.03);
    const auto flat = iso * torch::tensor({10.f, 10.f, 1.f});
    EXPECT_NEAR(training::curvature(flat, 1999).mean().item<double>(), 1.0 / 201.0, 0.001);
}

using modeltest::largestChange;
using modeltest::snapshot;
using modeltest::valueOf;
using Scene = modeltest::RealScene;  // a small teacher on a real scan

TEST(ScoreLidar, TrainerMovesOnlyTheStudentAndTheReleasedDistillationCannot) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    Scene s;
    const std::vector<TrainingExample> batch{{s.partial, s.gt}};
    const auto teacher0 = snapshot(*s.teacher.impl().denoiser);
    for (auto distill : {ScoreLidarOptions::Distill::Intended, ScoreLidarOptions::Distill::Released}) {
        ScoreLidarOptions o;
        o.tile = 2;
        o.learningRate = 1e-2;
        o.distill = distill;
        o.sceneWeight = 0;  // the distillation term alone
        o.pointWeight = 0;
        auto trainer = makeScoreLidarTrainer(s.teacher, o);
        auto& student = trainer->model().impl();
        const auto g0 = snapshot(*student.denoiser), e0 = snapshot(*student.encoder);
        EXPECT_EQ(largestChange(*student.denoiser, teacher0), 0.0);  // G starts as the teacher
        const auto r = trainer->step(batch, 7);
        EXPECT_GT(valueOf(r, "loss_aux"), 0.0);
        EXPECT_GT(valueOf(r, "grad_aux"), 0.0);  // the fake score learns either way
        EXPECT_NE(valueOf(r, "loss_distill"), 0.0);
        if (distill == ScoreLidarOptions::Distill::Intended) {
            EXPECT_GT(valueOf(r, "grad_g"), 0.0);
            EXPECT_GT(largestChange(*student.denoiser, g0), 0.0) << "the student did not move";
        } else {
            EXPECT_EQ(valueOf(r, "grad_g"), 0.0);
            EXPECT_EQ(largestChange(*student.denoiser, g0), 0.0);
        }
        EXPECT_EQ(largestChange(*student.encoder, e0), 0.0) << "the frozen encoder moved";
        EXPECT_EQ(largestChange(*s.teacher.impl().denoiser, teacher0), 0.0) << "the teacher moved";
    }
    // As released, ScoreLiDAR's student learns from the structural losses only.
    ScoreLidarOptions o;
    o.tile = 2;
    o.learningRate = 1e-3;
    o.distill = ScoreLidarOptions::Distill::Released;
    o.structure = ScoreLidarOptions::Structure::IndexAligned;
    o.curvatureNeighbours = 16;
    auto trainer = makeScoreLidarTrainer(s.teacher, o);
    const auto r = trainer->step(batch, 7);
    EXPECT_GT(valueOf(r, "grad_g"), 0.0);
    EXPECT_GT(valueOf(r, "loss_scene"), 0.0);
    EXPECT_GT(valueOf(r, "loss_point"), 0.0);
}

// With DDIL states and a replay buffer, a state saved after two steps and loaded into a fresh
// trainer goes on exactly as the uninterrupted trainer does (the buffer is in the state).
TEST(ScoreLidar, StateWithReplayBufferResumesBitIdentically) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    Scene s;
    const std::vector<TrainingExample> batch{{s.partial, s.gt}};
    ScoreLidarOptions o;
    o.tile = 2;
    o.learningRate = 1e-3;
    o.curvatureNeighbours = 16;
    o.states.studentSteps = 4;
    o.states.start = {0.0, 0.5, 0.5};
    o.states.end = o.states.start;
    o.states.replaySize = 8;
    o.states.replayProb = 1.0;  // once something is kept, every phase replays
    o.states.reflectMargin = 5;  // this untrained network's rollouts leave the scene otherwise
    auto a = makeScoreLidarTrainer(s.teacher, o);
    for (std::uint64_t k = 0; k < 2; ++k) a->step(batch, 100 + k);
    const auto file = lidistill::test::scratchDir() / "scorelidar.pt";
    a->saveState(file);
    auto b = makeScoreLidarTrainer(s.teacher, o);
    b->loadState(file);
    int replayed = 0;
    for (std::uint64_t k = 2; k < 4; ++k) {
        const auto ra = a->step(batch, 100 + k);
        const auto rb = b->step(batch, 100 + k);
        EXPECT_EQ(valueOf(ra, "loss_g"), valueOf(rb, "loss_g"));
        replayed += static_cast<int>(valueOf(ra, "replayed"));
    }
    EXPECT_GT(replayed, 0) << "no step replayed: the test does not exercise the buffer";
    const auto pa = a->model().impl().denoiser->parameters();
    const auto pb = b->model().impl().denoiser->parameters();
    for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << i;
    // A fresh trainer that did not load the state takes other steps.
    auto c = makeScoreLidarTrainer(s.teacher, o);
    EXPECT_NE(valueOf(c->step(batch, 102), "loss_g"), valueOf(b->step(batch, 200), "loss_g"));
}

TEST(ScoreLidar, BadOptionsAreRefused) {
    const LidiffModel teacher{modeltest::smallConfig(false), 21};
    auto make = [&](auto edit) {
        ScoreLidarOptions o;
        edit(o);
        return makeScoreLidarTrainer(teacher, o);
    };
    EXPECT_THROW(make([](auto& o) { o.learningRate = 0; }), InvalidArgument);
    EXPECT_THROW(make([](auto& o) { o.sceneWeight = -1; }), InvalidArgument);
    EXPECT_THROW(make([](auto& o) { o.keypointFraction = 0.5; }), InvalidArgument);
    EXPECT_THROW(make([](auto& o) { o.curvatureNeighbours = 2; }), InvalidArgument);
    EXPECT_THROW(make([](auto& o) { o.states.studentSteps = 0; }), InvalidArgument);
    ModelConfig noDenoiser = modeltest::smallConfig(false);
    noDenoiser.hasDenoiser = false;
    const LidiffModel encoderOnly{noDenoiser, 1};
    EXPECT_THROW(makeScoreLidarTrainer(encoderOnly, ScoreLidarOptions{}), ModelError);
}

}  // namespace
}  // namespace lidistill::ml
