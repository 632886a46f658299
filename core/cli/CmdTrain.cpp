// SPDX-License-Identifier: MIT
// `lidistill train-dpo`: Distillation-DPO training of a few-step student from a teacher.
#ifdef LIDISTILL_HAVE_ML
#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/TerminalProgress.h"
#include "core/dataset/Sequence.h"
#include "core/dataset/TrainingSample.h"
#include "core/map/SequenceMap.h"
#include "core/metrics/ChamferDistance.h"
#include "core/ml/Completion.h"
#include "core/ml/DistillationDpo.h"
#include "core/ml/Model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <optional>
#include <ostream>
#include <random>

namespace lidistill::cli {
namespace {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

struct RunOptions {
    ml::DpoOptions dpo;
    dataset::TrainingSampleOptions sample;
    long long steps = 1000;
    long long checkpointEvery = 200;
    long long validateEvery = 0;
    std::optional<std::size_t> validationFrame;
    std::uint64_t seed = 0;
    double lrDecay = 0.999;  // StepLR(step_size 1, gamma) stepped once an epoch, as released
};

long long positive(const Args& args, const char* name, long long fallback, long long lo = 1) {
    const long long v = args.integer(name, fallback);
    if (v < lo) throw UsageError(std::string("--") + name + " must be >= " + std::to_string(lo));
    return v;
}

RunOptions parse(const Args& args, std::size_t frames) {
    RunOptions r;
    r.steps = positive(args, "steps", 1000);
    r.checkpointEvery = positive(args, "checkpoint-every", 200);
    r.validateEvery = positive(args, "validate-every", 0, 0);
    if (args.has("validation-frame")) {
        std::size_t f = 0;
        if (!parseIndex(*args.value("validation-frame"), f) || f >= frames) {
            throw UsageError("--validation-frame must be a frame index below " +
                             std::to_string(frames));
        }
        r.validationFrame = f;
    }
    if (r.validateEvery > 0 && !r.validationFrame) {
        throw UsageError("--validate-every needs --validation-frame");
    }
    r.seed = static_cast<std::uint64_t>(positive(args, "seed", 0, 0));
    r.dpo.learningRate = args.number("lr", 1e-5);
    r.lrDecay = args.number("lr-decay", 0.999);
    if (!(r.lrDecay > 0) || r.lrDecay > 1) throw UsageError("--lr-decay must be in (0, 1]");
    r.dpo.noiseScale = args.number("lambda", 1.1);
    r.dpo.gradClip = args.number("clip", 0.05);
    r.dpo.loserWeight = args.number("loser-weight", 1.0);
    r.dpo.beta = args.number("beta", 1000.0);
    if (!(r.dpo.beta > 0) || !std::isfinite(r.dpo.beta)) throw UsageError("--beta must be > 0");
    r.dpo.tile = static_cast<int>(positive(args, "tile", 10));
    const std::string objective = args.value("objective", "linear");
    if (objective == "linear") {
        r.dpo.objective = ml::DpoOptions::Objective::Linear;
    } else if (objective == "released") {
        r.dpo.objective = ml::DpoOptions::Objective::Released;
    } else if (objective == "bounded") {
        r.dpo.objective = ml::DpoOptions::Objective::Bounded;
    } else {
        throw UsageError("--objective must be linear, released or bounded, got '" + objective +
                         "'");
    }
    if (!(r.dpo.learningRate > 0) || !(r.dpo.noiseScale > 0) || !(r.dpo.gradClip >= 0) ||
        !std::isfinite(r.dpo.loserWeight)) {
        throw UsageError("--lr and --lambda must be positive, --clip >= 0");
    }
    r.sample.partialPoints = static_cast<std::size_t>(positive(args, "points", 18000));
    r.sample.fullPoints = static_cast<std::size_t>(positive(args, "full-points", 180000));
    r.sample.augment = args.flag("augment");
    return r;
}

Json runJson(const Args& args, const RunOptions& r, const std::string& teacher,
             const std::string& seq, const std::vector<std::size_t>& frames) {
    return Json{{"command", "train-dpo"},
                {"teacher", teacher},
                {"sequence", seq},
                {"frames", {frames.front(), frames.back() + 1}},
                {"steps", r.steps},
                {"objective", args.value("objective", "linear")},
                {"lr", r.dpo.learningRate},
                {"lr_decay", r.lrDecay},
                {"lambda", r.dpo.noiseScale},
                {"clip", r.dpo.gradClip},
                {"loser_weight", r.dpo.loserWeight},
                {"beta", r.dpo.beta},
                {"tile", r.dpo.tile},
                {"points", r.sample.partialPoints},
                {"full_points", r.sample.fullPoints},
                {"augment", r.sample.augment},
                {"seed", r.seed}};
}

// The frame of step k: a fresh seeded shuffle of the training frames every epoch, so a resumed
// run visits the same frames as an uninterrupted one.
std::size_t frameOfStep(const std::vector<std::size_t>& frames, long long step,
                        std::uint64_t seed) {
    const auto epoch = static_cast<std::uint64_t>(step) / frames.size();
    std::vector<std::size_t> order = frames;
    std::mt19937_64 rng(seed * 1000003u + epoch);
    std::shuffle(order.begin(), order.end(), rng);
    return order[static_cast<std::size_t>(step) % frames.size()];
}

int runTrain(const Args& args, Context& ctx) {
    const auto& p = args.positional();
    const std::string teacherFile = p[0];
    const Sequence seq = Sequence::open(p[1]);
    const fs::path outDir = p[2];
    const auto frames = frameRange(args, seq.size());
    const RunOptions r = parse(args, seq.size());
    if (!seq.hasPoses()) throw IoError(seq.dir(), "training needs poses.txt (the map)");
    if (fs::exists(outDir) && !fs::is_directory(outDir)) {
        throw IoError(outDir, "OUT_DIR must be a folder");
    }
    fs::create_directories(outDir);
    const fs::path latest = outDir / "student_latest.safetensors";
    const fs::path logFile = outDir / "metrics.jsonl";

    auto teacher = ml::LidiffModel::load(teacherFile);
    if (auto device = args.value("device")) teacher.setDevice(*device);
    // Resume: the latest student and the number of steps logged so far.
    std::optional<ml::LidiffModel> resumed;
    long long start = 0;
    if (args.flag("resume") && fs::exists(latest)) {
        resumed.emplace(ml::LidiffModel::load(latest));
        std::ifstream log(logFile);
        for (std::string line; std::getline(log, line);) {
            try {
                const auto j = Json::parse(line);
                if (j.contains("loss_g")) start = std::max(start, j.at("step").get<long long>());
            } catch (const nlohmann::json::exception&) {
                break;  // a line cut by a crash ends the usable log
            }
        }
    } else if (fs::exists(logFile)) {
        fs::remove(logFile);
    }
    writeStreamAtomically(outDir / "run.json", [&](std::ostream& os) {
        os << runJson(args, r, teacherFile, seq.dir().string(), frames).dump(2) << '\n';
    });

    const fs::path mapFile = args.value("map", (outDir / "train-map.ldmap").string());
    TerminalProgress bar(ctx.err, "train-dpo", ctx.errIsTerminal);
    SubProgress mapProgress(&bar, 0.0, 0.0);
    const map::StaticMap staticMap = map::loadOrBuildStaticMap(seq, mapFile, {}, &mapProgress);
    ml::DpoTrainer trainer(teacher, r.dpo, resumed ? &*resumed : nullptr);

    // Validation: the student as it is used (8 steps, CFG 3.5) on one frame, whose scan and
    // ground truth are read once.
    PointCloud valScan, valTruth;
    ml::CompletionOptions val;
    if (r.validateEvery > 0) {
        valScan = seq.loadScan(*r.validationFrame);
        valTruth = map::groundTruthForFrame(seq, staticMap, *r.validationFrame);
        val.steps = 8;
        val.guidance = 3.5;
        val.partialPoints = r.sample.partialPoints;
        val.tile = r.dpo.tile;
        val.refine = false;
    }

    std::ofstream log(logFile, std::ios::app);
    if (!log) throw IoError(logFile, "cannot open for appending");
    const auto t0 = std::chrono::steady_clock::now();
    auto seconds = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    auto saveCheckpoint = [&](long long step) {
        trainer.student().save(latest);
        if (step % r.checkpointEvery == 0) {
            trainer.student().save(outDir /
                                   ("student_step_" + std::to_string(step) + ".safetensors"));
        }
    };
    long long step = start;
    try {
        while (step < r.steps) {
            checkpoint(&bar, double(step) / r.steps, "training");
            const std::size_t frame = frameOfStep(frames, step, r.seed);
            const auto epoch = static_cast<double>(static_cast<std::size_t>(step) / frames.size());
            const double lr = r.dpo.learningRate * std::pow(r.lrDecay, epoch);
            trainer.setLearningRate(lr);
            const std::uint64_t stepSeed = r.seed * 1000003u + static_cast<std::uint64_t>(step);
            const auto sample =
                dataset::makeTrainingSample(seq, staticMap, frame, stepSeed, r.sample);
            const auto st = trainer.step(sample.partial, sample.full, stepSeed);
            ++step;
            log << Json{{"step", step},
                        {"frame", seq.frameName(frame)},
                        {"loss_g", st.generatorLoss},
                        {"loss_aux", st.auxLoss},
                        {"cd_winner", st.winnerChamfer},
                        {"cd_loser", st.loserChamfer},
                        {"grad_g", st.generatorGradNorm},
                        {"grad_aux", st.auxGradNorm},
                        {"scaled_won", st.scaledNoiseWon},
                        {"lr", lr},
                        {"seconds", seconds()}}
                       .dump()
                << std::endl;  // flushed: the studio follows this file
            if (step % r.checkpointEvery == 0 || step == r.steps) saveCheckpoint(step);
            if (r.validateEvery > 0 && step % r.validateEvery == 0) {
                const auto done = ml::completeScan(trainer.student(), valScan, val);
                const double cd = metrics::chamferDistance(done.diffused, valTruth).chamfer;
                log << Json{{"step", step},
                            {"val_frame", seq.frameName(*r.validationFrame)},
                            {"val_cd", cd},
                            {"seconds", seconds()}}
                           .dump()
                    << std::endl;
            }
        }
    } catch (const Cancelled&) {
        if (step > start) trainer.student().save(latest);
        ctx.err << "train-dpo: stopped at step " << step << "; " << latest.string()
                << " holds the student (--resume continues)\n";
        throw;
    }
    bar.finish();
    ctx.out << "trained " << (step - start) << " step(s) (" << step << " in all) in " << std::fixed
            << std::setprecision(1) << seconds() << " s on " << teacher.device() << "\n  wrote "
            << latest.string() << " and " << logFile.string() << '\n';
    return kOk;
}

}  // namespace

Command trainDpoCommand() {
    Command c;
    c.name = "train-dpo";
    c.summary = "Distillation-DPO: train a few-step student from a teacher on a sequence";
    c.synopsis = "TEACHER SEQUENCE_DIR OUT_DIR";
    c.description =
        "Reference 6 with the intended objective (reference 0.2: the released loss has an exactly\n"
        "zero gradient; --objective released keeps it, for ablation; --objective bounded is the\n"
        "Diffusion-DPO-style variant of reference 6.5 with --beta). Each step takes a frame's\n"
        "LiDiff training sample (18k partial points, 180k ground-truth points from the sequence's\n"
        "map), draws a preference pair from the student (noise eps and --lambda eps, one step\n"
        "999 -> 0), ranks it by Chamfer distance, trains the fake-score pair, then the student\n"
        "(plain SGD, --lr, gradient norm clipped at --clip).\n"
        "OUT_DIR gets metrics.jsonl (a JSON line a step, flushed: loss_g, loss_aux, cd_winner,\n"
        "cd_loser, grad_g, grad_aux; val_cd lines with --validate-every), run.json (the options),\n"
        "student_latest.safetensors and student_step_N.safetensors every --checkpoint-every "
        "steps.\n"
        "Ctrl+C or SIGTERM stops after the current step and saves the student; --resume goes on.\n"
        "Complete with the student as it is meant to run: `lidistill complete STUDENT SCAN OUT\n"
        "--steps 8 --guidance 3.5`.";
    c.options = {{"steps", "N", "optimisation steps in all (a resumed run counts the earlier ones)",
                  false, "1000"},
                 {"frames", "A:B", "training frames A..B-1", false, "all"},
                 {"lr", "LR", "SGD learning rate", false, "1e-5"},
                 {"lr-decay", "G", "learning rate x G after every epoch (pass over --frames)",
                  false, "0.999"},
                 {"lambda", "L", "noise scale of the second candidate", false, "1.1"},
                 {"clip", "C", "gradient norm clip (0: none)", false, "0.05"},
                 {"loser-weight", "W", "weight of the loser (repulsive) term", false, "1.0"},
                 {"objective", "linear|released|bounded", "generator loss", false, "linear"},
                 {"beta", "B", "bounded objective: inverse temperature", false, "1000"},
                 {"points", "N", "partial scan points", false, "18000"},
                 {"full-points", "N", "ground-truth points", false, "180000"},
                 {"tile", "K", "copies of the partial scan in x_init", false, "10"},
                 {"augment", "", "LiDiff's training augmentation", true, ""},
                 {"seed", "N", "seeds frames, samples and noise", false, "0"},
                 {"checkpoint-every", "N", "keep student_step_N every N steps", false, "200"},
                 {"validate-every", "N", "8-step completion CD on --validation-frame every N steps",
                  false, "0"},
                 {"validation-frame", "I", "frame index used for validation", false, ""},
                 {"map", "FILE", "map cache", false, "OUT_DIR/train-map.ldmap"},
                 {"resume", "", "continue from OUT_DIR/student_latest.safetensors", true, ""},
                 {"device", "DEV", "cpu, cuda or cuda:N", false, "cpu"}};
    c.minPositional = 3;
    c.maxPositional = 3;
    c.run = runTrain;
    return c;
}

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
