// SPDX-License-Identifier: MIT
// The lite scale's speed targets, measured on this machine (issue "Models that have learned"):
//   a teacher training step <= 0.5 s, a Distillation-DPO step <= 3 s, a 50-step teacher
//   completion of a real scan <= 15 s, an 8-step student completion <= 2 s;
// and the same work at LiDiff's full scale (width 1/16, as the issue measured it) beside it.
// Usage: bench_ml_lite SEQUENCE_DIR [full=1] [model.safetensors | -] [width points tile voxel]
// (the last four try another lite scale: how the lite scale was chosen).
// The sequence must have poses and labels (the training samples come from its map). With a
// model file, completions use its weights (a trained model keeps its points near the scan,
// a random one spreads them, which costs the nearest-row lookup); otherwise fresh networks.
// Prints which OpenBLAS core is in use: Debian's OpenBLAS picks slow kernels on new CPUs.
// --before measures the engine as it was before session 9's fixed-cost work: glibc's allocator
// defaults (LIDISTILL_MALLOC_TUNING=0) and each guidance pass voxelized and searched alone
// (CompletionOptions::shareGuidanceMaps off). bench/ml/compare_engine.sh alternates the two in
// one run and prints the medians side by side. Every figure is also printed as a
// "figure<TAB>scale<TAB>work<TAB>seconds" line for that script.
#include "core/dataset/Sequence.h"
#include "core/dataset/TrainingSample.h"
#include "core/map/SequenceMap.h"
#include "core/ml/Completion.h"
#include "core/ml/DistillationDpo.h"
#include "core/ml/Model.h"
#include "core/ml/training/Trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

using namespace lidistill;
using namespace lidistill::ml;

namespace {

double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <typename F>
double median3(F&& f) {
    double t[3];
    for (double& x : t) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        x = since(t0);
    }
    std::sort(t, t + 3);
    return t[1];
}

bool g_before = false;

void figure(const char* scale, const char* work, double seconds) {
    std::printf("figure\t%s\t%s\t%.4f\n", scale, work, seconds);
}

void runScale(const char* label, const char* scale, const ModelConfig& config, const Sequence& seq,
              const map::StaticMap& staticMap, const LidiffModel* trained) {
    std::printf("\n== %s: width %.4g, voxel %.3g m, %zu partial points x %d, %zu GT points\n",
                label, config.width, config.voxelSize, config.scale.partialPoints,
                config.scale.tile, config.scale.fullPoints);
    LidiffModel fresh(config, 1);
    const LidiffModel& model = trained ? *trained : fresh;
    dataset::TrainingSampleOptions so;
    so.partialPoints = config.scale.partialPoints;
    so.fullPoints = config.scale.fullPoints;
    auto t0 = std::chrono::steady_clock::now();
    const auto sample = dataset::makeTrainingSample(seq, staticMap, 1, 7, so);
    std::printf("training sample (map crop, FPS, repetition): %.3f s\n", since(t0));
    const std::vector<TrainingExample> batch1{{sample.partial, sample.full}};
    const std::vector<TrainingExample> batch2{batch1[0], batch1[0]};

    TeacherOptions to;
    auto teacher = makeTeacherTrainer(model, to);
    std::uint64_t s = 0;
    teacher->step(batch2, s++);  // warm-up (allocator, thread pool)
    const double t2 = median3([&] { teacher->step(batch2, s++); });
    std::printf("teacher training step, batch 2: %.3f s\n", t2);
    figure(scale, "teacher step, batch 2", t2);
    const double t1 = median3([&] { teacher->step(batch1, s++); });
    std::printf("teacher training step, batch 1: %.3f s   (target <= 0.5 s at lite)\n", t1);
    figure(scale, "teacher step, batch 1", t1);

    DpoOptions dpo;
    dpo.tile = config.scale.tile;
    DpoTrainer trainer(model, dpo);
    const double td = median3([&] { trainer.step(sample.partial, sample.full, s++); });
    std::printf("Distillation-DPO step: %.3f s   (target <= 3 s at lite)\n", td);
    figure(scale, "Distillation-DPO step", td);

    const PointCloud scan = seq.loadScan(2);
    auto o = completionOptionsFor(config);
    o.refine = false;
    o.shareGuidanceMaps = !g_before;
    o.steps = 50;
    o.guidance = 6.0;
    t0 = std::chrono::steady_clock::now();
    const auto c50 = completeScan(model, scan, o);
    const double t50 = since(t0);
    std::printf(
        "teacher completion, 50 steps, CFG: %.2f s, %zu points   (target <= 15 s at lite)\n", t50,
        c50.diffused.size());
    figure(scale, "50-step completion", t50);
    o.steps = 8;
    o.guidance = 3.5;
    const double t8 = median3([&] { completeScan(model, scan, o); });
    std::printf("student completion, 8 steps, CFG: %.2f s   (target <= 2 s at lite)\n", t8);
    figure(scale, "8-step completion", t8);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "--before") {
        g_before = true;
        setenv("LIDISTILL_MALLOC_TUNING", "0", 1);  // before the first model reads it
        --argc;
        ++argv;
    }
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s [--before] SEQUENCE_DIR [full=1] [model.safetensors]\n",
                     argv[0]);
        return 2;
    }
    const char* core = std::getenv("OPENBLAS_CORETYPE");
    std::printf(
        "threads: %u hardware; OPENBLAS_CORETYPE=%s (Debian's OpenBLAS falls back to "
        "Prescott kernels on CPUs it does not know: reference cpu-notes.md)\n",
        std::thread::hardware_concurrency(), core ? core : "(unset)");
    const Sequence seq = Sequence::open(argv[1]);
    const auto staticMap = map::buildStaticMap(seq);
    const bool full = argc < 3 || std::string(argv[2]) != "0";
    std::optional<LidiffModel> trained;
    if (argc > 3 && std::string(argv[3]) != "-") trained.emplace(LidiffModel::load(argv[3]));
    ModelConfig lite = trained ? trained->config() : ModelConfig::lite();
    if (argc > 7) {
        lite.width = std::stod(argv[4]);
        lite.scale.partialPoints = std::stoul(argv[5]);
        lite.scale.tile = std::stoi(argv[6]);
        lite.scale.fullPoints = lite.scale.partialPoints * lite.scale.tile;
        lite.voxelSize = std::stod(argv[7]);
    }
    std::printf("engine: %s\n",
                g_before ? "before (allocator defaults, guidance passes apart)" : "current");
    runScale("lite scale", "lite", lite, seq, staticMap, trained ? &*trained : nullptr);
    if (full) {
        ModelConfig c;
        c.width = 1.0 / 16;
        c.scale.partialPoints = 4000;
        c.scale.fullPoints = 40000;
        runScale("full scale at width 1/16 and 4k x 10 points (the issue's measurement)", "full", c,
                 seq, staticMap, nullptr);
    }
    return 0;
}
