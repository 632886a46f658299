// SPDX-License-Identifier: MIT
// Distillation-DPO on a small network and a real scan: the intended objective moves the student
// (reference 0: the released one cannot), the frozen parts stay put, and the student saves.
#include "core/base/Error.h"
#include "core/geometry/FarthestPointSampling.h"
#include "core/io/ScanIo.h"
#include "core/ml/DistillationDpo.h"
#include "tests/ml/ModelTestSupport.h"
#include "tests/support/TestData.h"

#include <gtest/gtest.h>

namespace lidistill::ml {
namespace {

struct DpoSetup {
    LidiffModel teacher{modeltest::smallConfig(false), 21};
    PointCloud partial, gt;
};

// A calibrated small teacher, a 200-point partial scan and a ground truth made of the scan's
// own points (enough to rank candidates by Chamfer distance).
DpoSetup makeSetup() {
    DpoSetup s;
    const PointCloud scan =
        io::readKittiBin(lidistill::test::semanticKittiSeq00() / "velodyne" / "000000.bin");
    PointCloud near;
    for (const auto& p : scan.xyz) {
        const double r = std::hypot(p[0], p[1], p[2]);
        if (r > 3.5 && r < 30) near.xyz.push_back(p);
    }
    s.partial = geometry::farthestPointSample(near, 200);
    s.gt = geometry::farthestPointSample(near, 2000);
    CompletionOptions o;
    o.partialPoints = 200;
    o.tile = 2;
    modeltest::calibrateBatchNorm(s.teacher, scan, o);
    return s;
}

// Every tensor of a network, copied.
std::vector<torch::Tensor> snapshot(torch::nn::Module& m) {
    std::vector<torch::Tensor> out;
    for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
    return out;
}

double largestChange(torch::nn::Module& m, const std::vector<torch::Tensor>& before) {
    double worst = 0;
    const auto now = m.parameters();
    for (std::size_t i = 0; i < now.size(); ++i) {
        worst = std::max(worst, (now[i].detach() - before[i]).abs().max().item<double>());
    }
    return worst;
}

TEST(DistillationDpo, IntendedObjectiveMovesTheStudentAndNothingFrozen) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    DpoSetup s = makeSetup();
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
    DpoSetup s = makeSetup();
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
    DpoSetup s = makeSetup();
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
    DpoSetup s = makeSetup();
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
