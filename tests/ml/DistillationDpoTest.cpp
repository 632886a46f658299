// SPDX-License-Identifier: MIT
// Distillation-DPO on a small network and a real scan: the intended objective moves the student
// (reference 0: the released one cannot), the frozen parts stay put, and the student saves.
#include "core/base/Error.h"
#include "core/geometry/FarthestPointSampling.h"
#include "core/io/ScanIo.h"
#include "core/ml/DistillationDpo.h"
#include "core/io/CloudFile.h"
#include "core/ml/training/DpoObjective.h"
#include "core/ml/training/Trainer.h"
#include "core/pairs/PairStore.h"
#include "tests/ml/StudentTestSupport.h"
#include "tests/support/TestData.h"

#include <gtest/gtest.h>
#include <random>

namespace lidistill::ml {
namespace {

using modeltest::largestChange;
using modeltest::snapshot;
using modeltest::valueOf;
using DpoSetup = modeltest::RealScene;

TEST(DistillationDpo, IntendedObjectiveMovesTheStudentAndNothingFrozen) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    DpoSetup s;
    DpoOptions o;
    o.tile = 2;
    o.learningRate = 1e-2;
    o.gradClip = 0;  // no clipping: the test wants to see the raw step
    DpoTrainer trainer(s.teacher, o);
    auto& student = trainer.student().impl();
    const auto g0 = snapshot(*student.denoiser), e0 = snapshot(*student.encoder);
    const auto t0 = snapshot(*s.teacher.impl().denoiser);

    // Before any step the student is the teacher.
    EXPECT_EQ(largestChange(*student.denoiser, t0), 0.0);

    const DpoStepStats st = trainer.step(s.partial, s.gt, 5);
    EXPECT_GT(st.auxLoss, 0.0);
    EXPECT_GT(st.auxGradNorm, 0.0);
    EXPECT_LE(st.winnerChamfer, st.loserChamfer);
    EXPECT_GT(st.loserChamfer, 0.0);
    // The fake scores moved in their step, so teacher and fake scores differ and G gets a
    // gradient; plain SGD turns it into a parameter change of lr x gradient.
    EXPECT_GT(st.generatorGradNorm, 0.0);
    EXPECT_GT(largestChange(*student.denoiser, g0), 0.0) << "the student did not move";
    EXPECT_EQ(largestChange(*student.encoder, e0), 0.0) << "the frozen encoder moved";
    EXPECT_EQ(largestChange(*s.teacher.impl().denoiser, t0), 0.0) << "the teacher moved";

    // The trained student is an ordinary model file.
    const auto file = lidistill::test::scratchDir() / "student.safetensors";
    trainer.student().save(file);
    const LidiffModel reloaded = LidiffModel::load(file);
    const auto a = reloaded.impl().denoiser->parameters();
    const auto b = student.denoiser->parameters();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i]));
}

TEST(DistillationDpo, ReleasedObjectiveHasExactlyZeroGradient) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    DpoSetup s;
    DpoOptions o;
    o.tile = 2;
    o.learningRate = 1e-2;
    o.objective = DpoOptions::Objective::Released;
    DpoTrainer trainer(s.teacher, o);
    auto& student = trainer.student().impl();
    const auto g0 = snapshot(*student.denoiser);
    for (std::uint64_t seed : {1, 2}) {
        const DpoStepStats st = trainer.step(s.partial, s.gt, seed);
        EXPECT_GT(st.auxGradNorm, 0.0);        // the fake scores still learn
        EXPECT_EQ(st.generatorGradNorm, 0.0);  // (x0 + c) - x0 has derivative 0
        EXPECT_NE(st.generatorLoss, 0.0);      // though the loss itself is not 0
    }
    EXPECT_EQ(largestChange(*student.denoiser, g0), 0.0);
}

TEST(DistillationDpo, BoundedObjectiveMovesOnlyTheStudentInItsStep) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    DpoSetup s;
    DpoOptions o;
    o.tile = 2;
    o.learningRate = 1e-2;  // with the default clipping: beta 1000 makes raw steps huge
    o.objective = DpoOptions::Objective::Bounded;
    DpoTrainer trainer(s.teacher, o);
    auto& student = trainer.student().impl();
    const auto g0 = snapshot(*student.denoiser);
    const auto t0 = snapshot(*s.teacher.impl().denoiser);
    const DpoStepStats st = trainer.step(s.partial, s.gt, 9);
    // -log sigmoid(.) > 0, and its gradient reaches G through x_t's voxel features.
    EXPECT_GT(st.generatorLoss, 0.0);
    EXPECT_GT(st.generatorGradNorm, 0.0);
    EXPECT_GT(largestChange(*student.denoiser, g0), 0.0);
    EXPECT_EQ(largestChange(*s.teacher.impl().denoiser, t0), 0.0);
    // The fake scores keep learning in the next step (their flags were restored).
    EXPECT_GT(trainer.step(s.partial, s.gt, 10).auxGradNorm, 0.0);

    // A diverged student is reported as such, not as a bad point cloud somewhere inside.
    DpoOptions wild = o;
    wild.gradClip = 0;
    wild.learningRate = 1e6;
    DpoTrainer diverging(s.teacher, wild);
    try {
        for (std::uint64_t seed = 0; seed < 5; ++seed) diverging.step(s.partial, s.gt, seed);
        ADD_FAILURE() << "a learning rate of 1e6 should diverge within 5 steps";
    } catch (const ModelError& e) {
        EXPECT_NE(std::string(e.what()).find("diverged"), std::string::npos) << e.what();
    }
}

TEST(DistillationDpo, LearningRateReachesTheOptimizers) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    DpoSetup s;
    DpoOptions o;
    o.tile = 2;
    o.learningRate = 1e-2;
    o.gradClip = 0;
    DpoTrainer trainer(s.teacher, o);
    trainer.setLearningRate(1e-30);
    auto& student = trainer.student().impl();
    const auto g0 = snapshot(*student.denoiser);
    const DpoStepStats st = trainer.step(s.partial, s.gt, 5);
    EXPECT_GT(st.generatorGradNorm, 0.0);
    // Each change is lr x gradient, ~1e-30 here (the first test sees lr 1e-2 move it).
    EXPECT_LT(largestChange(*student.denoiser, g0), 1e-25);
    EXPECT_THROW(trainer.setLearningRate(0), InvalidArgument);
}

TEST(DistillationDpo, BadInputIsRejected) {
    LidiffModel teacher(modeltest::smallConfig(false), 3);
    DpoOptions bad;
    bad.learningRate = 0;
    EXPECT_THROW(DpoTrainer(teacher, bad), InvalidArgument);
    bad = DpoOptions{};
    bad.beta = 0;
    EXPECT_THROW(DpoTrainer(teacher, bad), InvalidArgument);
    ModelConfig refinerOnly = modeltest::smallConfig(true);
    refinerOnly.hasEncoder = refinerOnly.hasDenoiser = false;
    EXPECT_THROW(DpoTrainer(LidiffModel(refinerOnly, 1)), ModelError);
    DpoTrainer trainer(teacher);
    PointCloud one;
    one.xyz = {{5, 0, 0}};
    EXPECT_THROW(trainer.step(PointCloud{}, one, 0), InvalidArgument);
    EXPECT_THROW(trainer.step(one, PointCloud{}, 0), InvalidArgument);
}

}  // namespace
}  // namespace lidistill::ml

namespace lidistill::ml {
namespace {

// A problem whose answer is known: the teacher's data is a set of points T (its noise
// prediction at x_t = x0 + sigma e is the analytic (x_t - T) / sigma), the fake score has
// learned the student's own samples (prediction (x_t - x0) / sigma = e). One SGD step of the
// generator loss then moves each winner point by lr (T - x0) / (3 N sigma) toward T and each
// loser point by loserWeight times that away from T: a flipped sign, swapped roles or an ignored
// loser weight all give other numbers.
struct KnownProblem : modeltest::PointMasses {

    // x0 after one step of lr on the linear loss, for the winner and the loser.
    std::pair<torch::Tensor, torch::Tensor> step(double lr, double loserWeight) const {
        auto w = start.clone().requires_grad_(true), l = start.clone().requires_grad_(true);
        auto side = [&](const torch::Tensor& x0) {
            const auto xt = x0 + sigma * e;
            return training::DpoSide{(xt - target) / sigma, (xt - x0) / sigma, x0};
        };
        training::linearGeneratorLoss(side(w), side(l), loserWeight).backward();
        torch::NoGradGuard g;
        return {w - lr * w.grad(), l - lr * l.grad()};
    }
};

TEST(DistillationDpo, IntendedObjectiveMovesWinnersTowardTheTeachersDataAndLosersAway) {
    const KnownProblem p;
    const double lr = 0.3;
    const auto [w, l] = p.step(lr, 1.0);
    // The exact answer: x0 -/+ lr (x0 - T) / (sigma * 9) (mean over 9 coordinates).
    const auto move = lr * (p.start - p.target) / (p.sigma * 9.0);
    EXPECT_TRUE(torch::allclose(w, p.start - move, 1e-6, 1e-6)) << w;
    EXPECT_TRUE(torch::allclose(l, p.start + move, 1e-6, 1e-6)) << l;
    const double before = (p.start - p.target).norm().item<double>();
    EXPECT_LT((w - p.target).norm().item<double>(), before);  // toward the teacher's data
    EXPECT_GT((l - p.target).norm().item<double>(), before);  // the loser away from it
    // The loser weight scales only the loser's move.
    const auto [w2, l2] = p.step(lr, 0.5);
    EXPECT_TRUE(torch::allclose(w2, w));
    EXPECT_TRUE(torch::allclose(l2, p.start + 0.5 * move, 1e-6, 1e-6));
    // A sign-flipped objective moves the winner away: the check above tells them apart.
    auto flipped = p.start.clone().requires_grad_(true);
    const auto xt = flipped + p.sigma * p.e;
    (-training::linearGeneratorLoss({(xt - p.target) / p.sigma, p.e, flipped},
                                    {(xt - p.target) / p.sigma, p.e, flipped.detach()}, 1.0))
        .backward();
    const auto wf = (p.start - lr * flipped.grad()).detach();
    EXPECT_GT((wf - p.target).norm().item<double>(), before);
}


// The change of every parameter of the student from the teacher's, as one vector.
torch::Tensor studentStep(const Trainer& trainer, const LidiffModel& teacher) {
    std::vector<torch::Tensor> d;
    const auto now = trainer.model().impl().denoiser->parameters();
    const auto was = teacher.impl().denoiser->parameters();
    for (std::size_t i = 0; i < now.size(); ++i) d.push_back((now[i] - was[i]).flatten());
    return torch::cat(d);
}

// train-dpo --pairs: a person's verdict replaces the metric's, and the student's step follows it.
// The metric prefers A (the data) over B (the data jittered); a person overrides it to B. With
// one timestep and one noise for both sides, swapping winner and loser negates the loss's
// argument, so while G is the teacher the two runs' first steps are exact opposites; and after
// its step each student prefers its own winner more than the teacher does. A decision made
// while a run goes is read by its next step.
TEST(DistillationDpo, StoredPairsTrainOnThePersonsVerdictWhenThereIsOne) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    DpoSetup s;
    const auto dir = lidistill::test::scratchDir();
    auto store = pairs::PairStore::open(dir / "pairs.db", true);
    std::filesystem::create_directories(store.cloudDir());
    PointCloud a = geometry::farthestPointSample(s.gt, 600), b = a;
    std::mt19937 rng(3);
    std::normal_distribution<float> jitter(0.f, 0.4f);
    for (auto& p : b.xyz) {
        for (auto& c : p) c += jitter(rng);
    }
    io::writeCloud(store.cloudDir() / "partial.bin", s.partial);
    io::writeCloud(store.cloudDir() / "a.bin", a);
    io::writeCloud(store.cloudDir() / "b.bin", b);
    pairs::Pair pair;
    pair.recipe = {"seq", "000000", "m.safetensors", "h", 1, 1, 1.1, 1, 3.5};
    pair.metric = "cd";
    pair.partial = "partial.bin";
    pair.a = {"a.bin", 0.3, 0.1, 0.5, "a.bin"};
    pair.b = {"b.bin", 0.6, 0.2, 0.3, "b.bin"};
    pair.automatic = pairs::Verdict::A;
    pair.margin = 0.3;
    const long long id = store.add(pair);

    DpoOptions o;
    o.tile = 2;
    o.learningRate = 1e-2;  // the gradient clipped at 0.05, as train-dpo runs
    o.pairStore = store.file();
    const std::vector<TrainingExample> batch{{s.partial, s.gt}};

    auto byMetric = makeDpoTrainer(s.teacher, o);
    const auto r1 = byMetric->step(batch, 11);
    EXPECT_EQ(valueOf(r1, "from_store"), 1.0);
    EXPECT_EQ(valueOf(r1, "pair"), double(id));
    EXPECT_EQ(valueOf(r1, "pair_human"), 0.0);
    EXPECT_EQ(valueOf(r1, "pairs_human"), 0.0);
    EXPECT_EQ(valueOf(r1, "cd_winner"), 0.3);  // A won
    EXPECT_EQ(valueOf(r1, "pref_margin"), 0.0);  // G is the teacher
    EXPECT_GT(valueOf(r1, "grad_g"), 0.0);

    store.decide(id, pairs::Verdict::B, "ann");  // read by the next step of any run
    auto byPerson = makeDpoTrainer(s.teacher, o);
    const auto r2 = byPerson->step(batch, 11);
    EXPECT_EQ(valueOf(r2, "pair_human"), 1.0);
    EXPECT_EQ(valueOf(r2, "pairs_human"), 1.0);
    EXPECT_EQ(valueOf(r2, "pairs_usable"), 1.0);
    EXPECT_EQ(valueOf(r2, "cd_winner"), 0.6);  // B won
    EXPECT_EQ(valueOf(r2, "scaled_won"), 1.0);

    const auto d1 = studentStep(*byMetric, s.teacher), d2 = studentStep(*byPerson, s.teacher);
    ASSERT_GT(d1.norm().item<double>(), 0.0) << "the student did not move";
    const double cosine = (d1 * d2).sum().item<double>() /
                          (d1.norm().item<double>() * d2.norm().item<double>());
    EXPECT_LT(cosine, -0.999) << "the step does not follow the verdict";
    EXPECT_NEAR(d1.norm().item<double>(), d2.norm().item<double>(),
                1e-3 * d1.norm().item<double>());

    // The same draw again, before the second step (both runs now read B as the winner): the
    // student that learnt the person's verdict prefers B more than the teacher does, the one
    // that learnt the metric's prefers it less.
    EXPECT_GT(valueOf(byPerson->step(batch, 11), "pref_margin"), 0.0);
    EXPECT_LT(valueOf(byMetric->step(batch, 11), "pref_margin"), 0.0);

    // --pairs-mix: a share of the steps on-policy (a full step: the fake scores train too).
    {
        auto mixed = o;
        mixed.pairMix = 0.5;
        auto trainer = makeDpoTrainer(s.teacher, mixed);
        int stored = 0, onPolicy = 0;
        for (std::uint64_t seed = 1; seed <= 8; ++seed) {
            const auto r = trainer->step(batch, seed);
            if (valueOf(r, "from_store") == 1.0) {
                ++stored;
                EXPECT_EQ(valueOf(r, "loss_aux"), 0.0);
            } else {
                ++onPolicy;
                EXPECT_EQ(valueOf(r, "pair"), -1.0);
                EXPECT_GT(valueOf(r, "loss_aux"), 0.0);
            }
        }
        EXPECT_GT(stored, 0);
        EXPECT_GT(onPolicy, 0);
    }

    // A skip leaves the store with no usable pair: a run on it is refused, saying why.
    store.decide(id, pairs::Verdict::Skip, "ann");
    try {
        makeDpoTrainer(s.teacher, o);
        ADD_FAILURE() << "a store with no usable pair was accepted";
    } catch (const InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("no usable pair"), std::string::npos) << e.what();
    }
    o.pairStore = dir / "missing.db";
    EXPECT_THROW(makeDpoTrainer(s.teacher, o), IoError);
}

}  // namespace
}  // namespace lidistill::ml
