// SPDX-License-Identifier: MIT
// The teacher and the refiner learn (overfitting one real scene), and a trainer's whole state
// round-trips exactly: a resumed trainer takes the very step an uninterrupted one takes.
#include "core/dataset/Sequence.h"
#include "core/dataset/TrainingSample.h"
#include "core/map/SequenceMap.h"
#include "core/metrics/ChamferDistance.h"
#include "core/ml/Completion.h"
#include "core/ml/DistillationDpo.h"
#include "core/ml/ModelImpl.h"
#include "core/ml/training/Trainer.h"
#include "tests/support/TestData.h"

#include <gtest/gtest.h>

#include <numeric>
#include <thread>

namespace lidistill::ml {
namespace {
namespace fs = std::filesystem;

// A small scale of the lite kind: 300 partial points x 4, 1200 ground-truth points.
ModelConfig tinyConfig(bool refiner) {
    ModelConfig c = ModelConfig::lite();
    c.scale.partialPoints = 300;
    c.scale.tile = 4;
    c.scale.fullPoints = 1200;
    c.hasRefiner = refiner;
    return c;
}

struct Scene {
    PointCloud scan;
    TrainingExample example;
};

Scene realScene(const ModelConfig& c) {
    const auto seq = Sequence::open(lidistill::test::semanticKittiSeq00());
    const auto m = map::buildStaticMap(seq);
    dataset::TrainingSampleOptions so;
    so.partialPoints = c.scale.partialPoints;
    so.fullPoints = c.scale.fullPoints;
    so.maxRange = 20.0;  // a small scene: the network sees it densely enough to learn it fast
    const auto s = dataset::makeTrainingSample(seq, m, 3, 1, so);
    Scene out;
    out.scan = seq.loadScan(3);
    out.example = {s.partial, s.full};
    return out;
}

double meanOf(const std::vector<double>& v, std::size_t from, std::size_t to) {
    return std::accumulate(v.begin() + from, v.begin() + to, 0.0) / double(to - from);
}

double valueOf(const MetricsRecord& r, const std::string& key) {
    for (const auto& [k, v] : r) {
        if (k == key) return v;
    }
    ADD_FAILURE() << "no " << key;
    return 0;
}

std::vector<torch::Tensor> parametersOf(const LidiffModel& m) {
    std::vector<torch::Tensor> out;
    for (auto& [name, net] : m.impl().networks()) {
        for (const auto& p : net->parameters()) out.push_back(p.detach().clone());
        for (const auto& b : net->buffers()) out.push_back(b.detach().clone());
    }
    return out;
}

bool identical(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (!torch::equal(a[i], b[i])) return false;
    }
    return true;
}

TEST(TeacherTrainer, LossFallsOnOneSceneAndItsCompletionBeatsTheUntrainedNetwork) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    const auto config = tinyConfig(false);
    const Scene scene = realScene(config);
    LidiffModel untrained(config, 3);
    TeacherOptions o;
    o.learningRate = 3e-3;
    o.uncondProb = 0.0;  // one scene, always conditioned
    o.batchSize = 2;
    auto trainer = makeTeacherTrainer(untrained, o);
    std::vector<double> losses;
    const std::vector<TrainingExample> batch{scene.example, scene.example};
    for (int k = 0; k < 160; ++k) losses.push_back(valueOf(trainer->step(batch, k), "loss"));
    const double first = meanOf(losses, 0, 20), last = meanOf(losses, 140, 160);
    EXPECT_LT(last, 0.6 * first) << "first 20 steps " << first << ", last 20 " << last;

    // The trained network completes the scene it learned far better than the fresh one.
    CompletionOptions c = completionOptionsFor(config);
    c.steps = 8;
    c.guidance = 1.0;  // conditional only: it never saw the null condition
    c.maxRange = 20.0;
    const double cdUntrained =
        metrics::chamferDistance(completeScan(untrained, scene.scan, c).diffused,
                                 scene.example.full)
            .chamfer;
    const double cdTrained =
        metrics::chamferDistance(completeScan(trainer->model(), scene.scan, c).diffused,
                                 scene.example.full)
            .chamfer;
    EXPECT_LT(cdTrained, 0.7 * cdUntrained) << cdTrained << " vs untrained " << cdUntrained;
}

TEST(RefinerTrainer, LowersTheChamferDistanceOfAJitteredTrainingScene) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    auto config = tinyConfig(true);
    config.scale.fullPoints = 6 * 1200;
    const Scene scene = realScene(config);
    LidiffModel init(config, 5);
    RefinerOptions o;
    o.learningRate = 1e-3;
    auto trainer = makeRefinerTrainer(init, o);
    std::vector<double> losses, inputs;
    const std::vector<TrainingExample> batch{scene.example};
    for (int k = 0; k < 300; ++k) {
        const auto r = trainer->step(batch, k);
        losses.push_back(valueOf(r, "loss"));
        inputs.push_back(valueOf(r, "loss_input"));
    }
    EXPECT_LT(meanOf(losses, 280, 300), 0.75 * meanOf(losses, 0, 20));
    EXPECT_LT(meanOf(losses, 280, 300), 0.6 * meanOf(inputs, 280, 300));
    // Held-out jitter (another seed) of the same scene: the refined cloud is closer than the
    // jittered input, which the untrained refiner's is not.
    ModelConfig refinerOnly = config;
    refinerOnly.hasEncoder = refinerOnly.hasDenoiser = false;
    LidiffModel trained(refinerOnly, 0), fresh(refinerOnly, 0);
    trained.copyNetworksFrom(trainer->model());
    fresh.copyNetworksFrom(init);
    auto t2 = makeRefinerTrainer(trained, o);
    auto f2 = makeRefinerTrainer(fresh, o);
    const auto vt = t2->validate(scene.scan, scene.example.full, 999);
    const auto vf = f2->validate(scene.scan, scene.example.full, 999);
    EXPECT_LT(valueOf(vt, "val_cd_refined"), valueOf(vt, "val_cd_input"));
    EXPECT_LT(valueOf(vt, "val_cd_refined"), valueOf(vf, "val_cd_refined"));
}

TEST(TrainerState, SaveAndLoadRepeatsTheNextStepBitForBit) {
    LIDISTILL_REQUIRE_SHARED_DATA();
    at::set_num_threads(1);  // bit-identical on the CPU with the same thread count
    const auto config = tinyConfig(false);
    const Scene scene = realScene(config);
    const fs::path dir = lidistill::test::scratchDir();
    TeacherOptions o;
    o.learningRate = 1e-3;
    const std::vector<TrainingExample> batch{scene.example, scene.example};
    auto a = makeTeacherTrainer(LidiffModel(config, 8), o);
    a->step(batch, 1);
    a->step(batch, 2);
    a->saveState(dir / "state.pt");
    a->model().save(dir / "model.safetensors");
    a->step(batch, 3);

    auto b = makeTeacherTrainer(LidiffModel::load(dir / "model.safetensors"), o);
    b->loadState(dir / "state.pt");
    b->step(batch, 3);
    EXPECT_TRUE(identical(parametersOf(a->model()), parametersOf(b->model())))
        << "a resumed trainer must take exactly the step an uninterrupted one takes";

    // A state of another trainer, or a damaged file, is refused naming the file.
    auto r = makeRefinerTrainer(LidiffModel(tinyConfig(true), 1), RefinerOptions{});
    try {
        r->loadState(dir / "state.pt");
        ADD_FAILURE() << "a teacher's state loaded into a refiner trainer";
    } catch (const IoError& e) {
        EXPECT_NE(std::string(e.what()).find("state.pt"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("teacher"), std::string::npos) << e.what();
    }
    fs::resize_file(dir / "state.pt", fs::file_size(dir / "state.pt") / 2);
    EXPECT_THROW(b->loadState(dir / "state.pt"), IoError);
    at::set_num_threads(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
}

TEST(ModelScale, TravelsWithTheFileAndMismatchesAreRefused) {
    ModelConfig c = tinyConfig(false);
    c.role = "student";
    c.sampling = {8, 3.5};
    const auto back = ModelConfig::fromJson(c.toJson());
    EXPECT_EQ(back.scale.partialPoints, 300u);
    EXPECT_EQ(back.scale.tile, 4);
    EXPECT_EQ(back.scale.fullPoints, 1200u);
    EXPECT_EQ(back.role, "student");
    EXPECT_EQ(back.sampling.steps, 8);
    // A file without a scale (converted LiDiff weights) is LiDiff's full scale.
    const auto old = ModelConfig::fromJson(R"({"width": 1.0, "voxel_size": 0.05})");
    EXPECT_EQ(old.scale.partialPoints, 18000u);
    EXPECT_EQ(old.scale.tile, 10);
    EXPECT_EQ(completionOptionsFor(old).steps, 50);
    EXPECT_THROW(ModelConfig::fromJson(R"({"scale": {"tile": 0}})"), InvalidArgument);
    // A student of another scale than its teacher is refused by the DPO trainer.
    LidiffModel teacher(ModelConfig::lite(), 1);
    ModelConfig other = ModelConfig::lite();
    other.scale.partialPoints = 18000;
    LidiffModel student(other, 1);
    try {
        DpoTrainer t(teacher, DpoOptions{}, &student);
        ADD_FAILURE() << "a student of another scale was accepted";
    } catch (const InvalidArgument& e) {
        EXPECT_NE(std::string(e.what()).find("partial points 18000 vs 2000"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace lidistill::ml
