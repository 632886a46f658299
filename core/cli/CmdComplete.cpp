// SPDX-License-Identifier: MIT
// `lidistill complete`: LiDiff scene completion of one scan with a model file.
#ifdef LIDISTILL_HAVE_ML
#include "core/base/AtomicFile.h"
#include "core/base/Error.h"
#include "core/base/Events.h"
#include "core/base/ShippedModels.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/CompleteOptions.h"
#include "core/cli/Outputs.h"
#include "core/cli/TerminalProgress.h"
#include "core/dataset/Sequence.h"
#include "core/io/CloudFile.h"
#include "core/io/ScanIo.h"
#include "core/ml/Completion.h"
#include "core/ml/Model.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <limits>
#include <ostream>

namespace lidistill::cli {
namespace {
namespace fs = std::filesystem;

// `base` holds the model's own options (its scale and sampling defaults); flags override them.
ml::CompletionOptions parseOptions(const Args& args, const ml::CompletionOptions& base = {}) {
    ml::CompletionOptions o = base;
    const long long steps = args.integer("steps", base.steps);
    if (steps < 1 || steps > 1000) {
        throw UsageError("--steps must be in 1..1000, got " + std::to_string(steps));
    }
    o.steps = static_cast<int>(steps);
    o.guidance = args.number("guidance", base.guidance);
    if (!std::isfinite(o.guidance)) throw UsageError("--guidance must be a finite number");
    const long long seed = args.integer("seed", 0);
    if (seed < 0) throw UsageError("--seed must be >= 0");
    o.seed = static_cast<std::uint64_t>(seed);
    const long long points = args.integer("points", static_cast<long long>(base.partialPoints));
    if (points < 1) throw UsageError("--points must be positive");
    o.partialPoints = static_cast<std::size_t>(points);
    const long long tile = args.integer("tile", base.tile);
    if (tile < 1 || tile > 1000) throw UsageError("--tile must be in 1..1000");
    o.tile = static_cast<int>(tile);
    o.minRange = args.number("min-range", base.minRange);
    o.maxRange = args.number("max-range", base.maxRange);
    if (!(o.minRange >= 0) || !(o.maxRange > o.minRange) || !std::isfinite(o.maxRange)) {
        throw UsageError("need 0 <= --min-range < --max-range");
    }
    o.refine = !args.flag("no-refine");
    o.noiseScale = args.number("noise-scale", 1.0);
    if (!(o.noiseScale > 0) || !std::isfinite(o.noiseScale)) {
        throw UsageError("--noise-scale must be a positive number");
    }
    return o;
}

io::NuscenesAxes nuscenesAxes(const Args& args) {
    const std::string v = args.value("nuscenes-axes", "stored");
    if (v == "stored") return io::NuscenesAxes::AsStored;
    if (v == "kitti") return io::NuscenesAxes::KittiFrame;
    throw UsageError("--nuscenes-axes must be stored or kitti, got '" + v + "'");
}

void checkOutputName(const std::string& file) {
    io::formatFromPath(file);  // a bad name should not cost an hour of sampling
}

// OUT and the optional extra outputs of one scan.
std::vector<fs::path> outputFiles(const Args& args, const fs::path& out) {
    std::vector<fs::path> files{out};
    if (auto d = args.value("diffused")) files.emplace_back(*d);
    if (auto d = args.value("partial-out")) files.emplace_back(*d);
    return files;
}

// MODEL SCAN OUT, or SCAN OUT with the shipped teacher.
std::vector<std::string> withModel(const Args& args) {
    auto p = args.positional();
    if (p.size() == 2) {
        if (fs::path(p[0]).extension() == ".safetensors") {
            throw UsageError("MODEL and SCAN given, but no OUT");
        }
        const auto shipped = shippedModel(kShippedTeacher);
        if (shipped.empty()) {
            throw UsageError(std::string("no MODEL given and no shipped ") + kShippedTeacher +
                             " found (resources/models, or $LIDISTILL_MODELS_DIR)");
        }
        p.insert(p.begin(), shipped.string());
    }
    return p;
}

int completeOneScan(const Args& args, Context& ctx) {
    const auto p = withModel(args);
    const std::string modelFile = p[0], scanFile = p[1], outFile = p[2];
    checkOutputName(outFile);
    if (auto d = args.value("diffused")) checkOutputName(*d);
    if (auto d = args.value("partial-out")) checkOutputName(*d);
    const bool force = args.flag("force");
    for (const auto& o : outputFiles(args, outFile)) {
        checkOutputFile(o, {modelFile, scanFile}, force);
    }

    auto model = loadModelArg(args, modelFile);
    if (auto device = args.value("device")) model.setDevice(*device);
    const auto options = completionOptionsFromArgs(args, model, ctx.err);
    const PointCloud scan = io::readCloud(scanFile, {}, nuscenesAxes(args));

    const auto start = std::chrono::steady_clock::now();
    ml::Completion result;
    {
        TerminalProgress bar(ctx.err, "complete", ctx.errIsTerminal);
        result = ml::completeScan(model, scan, options, &bar);
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const bool refined = !result.refined.empty();
    io::writeCloud(outFile, refined ? result.refined : result.diffused);
    if (auto d = args.value("diffused")) io::writeCloud(*d, result.diffused);
    if (auto d = args.value("partial-out")) io::writeCloud(*d, result.partial);

    if (auto* events = events::current()) {
        std::vector<std::string> files;
        for (const auto& f : outputFiles(args, outFile)) files.push_back(f.string());
        events->result(files,
                       {{"partial_points", double(result.partial.size())},
                        {"diffused_points", double(result.diffused.size())},
                        {"refined_points", double(result.refined.size())},
                        {"seconds", secs},
                        {"steps", double(options.steps)}},
                       {{"device", model.device()}});
    }
    ctx.out << "completed " << scanFile << " on " << model.device() << " in " << std::fixed
            << std::setprecision(2) << secs << " s (" << options.steps << " steps, w "
            << std::setprecision(2) << options.guidance << ", seed " << options.seed
            << ")\n  partial " << result.partial.size() << " points -> diffused "
            << result.diffused.size() << " points";
    if (refined) ctx.out << " -> refined " << result.refined.size() << " points";
    ctx.out << "\n  wrote " << outFile << '\n';
    if (!refined && options.refine && !model.config().hasRefiner) {
        ctx.out << "  (the model file has no refiner: the output is the diffusion result)\n";
    }
    return kOk;
}

// A sequence folder: OUT (and --diffused / --partial-out) are folders of FRAME.EXT files that
// `lidistill eval OUT --sequence SEQ` matches by frame name. Frame i uses seed + i, so a frame's
// result does not depend on which other frames run (unless --lidiff-scheduler-state).
int completeSequence(const Args& args, Context& ctx) {
    const auto p = withModel(args);
    const fs::path outDir = p[2];
    const std::string ext = "." + args.value("format", "ply");
    if (ext != ".ply" && ext != ".pcd" && ext != ".bin") {
        throw UsageError("--format must be ply, pcd or bin, got '" + ext.substr(1) + "'");
    }
    const Sequence seq = Sequence::open(p[1]);
    const auto frames = frameRange(args, seq.size());
    if (fs::exists(outDir) && !fs::is_directory(outDir)) {
        throw IoError(outDir, "OUT must be a folder when SCAN is a sequence folder");
    }
    std::vector<std::pair<std::string, fs::path>> folders{{"out", outDir}};
    if (auto d = args.value("diffused")) folders.emplace_back("diffused", *d);
    if (auto d = args.value("partial-out")) folders.emplace_back("partial", *d);
    // Every file this run writes, checked before the first model call: never a scan of the
    // sequence (OUT_DIR = SEQ/velodyne with --format bin would be), and an existing one only
    // with --force (or kept with --skip-existing).
    const bool skipExisting = args.flag("skip-existing"), force = args.flag("force");
    std::vector<fs::path> inputs{p[0]};
    for (std::size_t i = 0; i < seq.size(); ++i) {
        inputs.push_back(seq.scanFile(i));
        if (auto l = seq.labelFile(i)) inputs.push_back(*l);
    }
    for (const auto i : frames) {
        const std::string name = seq.frameName(i) + ext;
        if (skipExisting && fs::exists(outDir / name)) continue;
        for (const auto& [what, dir] : folders) checkOutputFile(dir / name, inputs, force);
    }
    for (const auto& [what, dir] : folders) {
        fs::create_directories(dir);
        removeStaleTemporaries(dir);
    }

    auto model = loadModelArg(args, p[0]);
    if (auto device = args.value("device")) model.setDevice(*device);
    const auto options = completionOptionsFromArgs(args, model, ctx.err);
    ml::Completer completer(model, options, args.flag("lidiff-scheduler-state"));
    const io::NuscenesAxes axes = nuscenesAxes(args);

    TerminalProgress bar(ctx.err, "complete", ctx.errIsTerminal);
    const auto start = std::chrono::steady_clock::now();
    std::size_t done = 0, skipped = 0;
    for (std::size_t k = 0; k < frames.size(); ++k) {
        const std::size_t i = frames[k];
        const std::string name = seq.frameName(i) + ext;
        if (skipExisting && fs::exists(outDir / name)) {
            ++skipped;
            continue;
        }
        SubProgress sub(&bar, double(k) / frames.size(), double(k + 1) / frames.size());
        const auto result = completer.complete(seq.loadScan(i, {}, axes), options.seed + i, &sub);
        const bool refined = !result.refined.empty();
        io::writeCloud(outDir / name, refined ? result.refined : result.diffused);
        for (const auto& [what, dir] : folders) {
            if (what == "diffused") io::writeCloud(dir / name, result.diffused);
            if (what == "partial") io::writeCloud(dir / name, result.partial);
        }
        ++done;
        ctx.out << seq.frameName(i) << ": partial " << result.partial.size() << " -> diffused "
                << result.diffused.size() << (refined ? " -> refined " : "")
                << (refined ? std::to_string(result.refined.size()) : "") << " points\n";
    }
    bar.finish();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (auto* events = events::current()) {
        std::vector<std::string> dirs;
        for (const auto& [what, dir] : folders) dirs.push_back(dir.string());
        events->result(dirs, {{"frames", double(done)}, {"skipped", double(skipped)},
                              {"seconds", secs}},
                       {{"device", model.device()}});
    }
    ctx.out << "completed " << done << " frame(s) of " << seq.dir().string() << " on "
            << model.device() << " in " << std::fixed << std::setprecision(1) << secs << " s";
    if (skipped > 0) ctx.out << " (" << skipped << " already done, skipped)";
    ctx.out << "\n  wrote " << outDir.string() << '\n';
    return kOk;
}

int runComplete(const Args& args, Context& ctx) {
    parseOptions(args);  // a typo should not cost a model load
    nuscenesAxes(args);
    const auto& pos = args.positional();
    if (fs::is_directory(pos.at(pos.size() == 2 ? 0 : 1))) return completeSequence(args, ctx);
    for (const char* seqOnly : {"frames", "format", "skip-existing", "lidiff-scheduler-state"}) {
        if (args.has(seqOnly)) {
            throw UsageError(std::string("--") + seqOnly + " needs a sequence folder as SCAN");
        }
    }
    return completeOneScan(args, ctx);
}

}  // namespace

std::vector<OptionSpec> completeOptionSpecs() {
    return {
        {"steps", "N", "denoising steps, 1..1000", false, "the model's"},
        {"guidance", "W", "classifier-free guidance weight", false, "the model's"},
        {"seed", "N", "noise seed (same noise on every device)", false, "0"},
        {"points", "N", "farthest point samples of the scan", false, "the model's scale"},
        {"tile", "K", "copies of the samples in x_init", false, "the model's scale"},
        {"min-range", "M", "keep scan points beyond this range, metres", false, "the model's"},
        {"max-range", "M", "and within this one (also the output's limit)", false, "the model's"},
        {"no-refine", "", "skip the refiner even if the model has one", true, ""},
        {"noise-scale", "S",
         "scale of the initial noise (Distillation-DPO's second candidate of a pair: 1.1)", false,
         "1"},
        {"diffused", "FILE", "also write the diffusion result before refinement", false, ""},
        {"partial-out", "FILE", "also write the sampled partial scan (the condition)", false, ""},
        {"device", "DEV", "cpu, cuda or cuda:N", false, "cpu"},
        {"nuscenes-axes", "stored|kitti",
         "nuScenes sweeps: complete (and write) in the stored axes or turned to KITTI's", false,
         "stored"},
        {"frames", "A:B", "sequence: frames A..B-1", false, "all"},
        {"format", "EXT", "sequence: ply, pcd or bin", false, "ply"},
        {"skip-existing", "", "sequence: keep frames already in OUT_DIR", true, ""},
        {"force", "", "replace existing output files (an input is never replaced)", true, ""},
        {"lidiff-scheduler-state", "", "sequence: carry sampler state across frames", true, ""}};
}

OptionSpec refinerOptionSpec() {
    return {"refiner", "FILE", "the refiner from this file (a converted refine_net.ckpt)", false,
            "the model's"};
}

ml::LidiffModel loadModelArg(const Args& args, const std::string& file) {
    if (auto r = args.value("refiner")) return ml::LidiffModel::load(file, *r);
    return ml::LidiffModel::load(file);
}

ml::CompletionOptions completionOptionsFromArgs(const Args& args, const ml::LidiffModel& model,
                                                std::ostream& notes) {
    const auto& c = model.config();
    auto o = parseOptions(args, ml::completionOptionsFor(c));
    ml::ModelScale asked = c.scale;
    asked.partialPoints = o.partialPoints;
    asked.tile = o.tile;
    asked.minRange = o.minRange;
    asked.maxRange = o.maxRange;
    if (const auto diff = asked.differencesFrom(c.scale); !diff.empty()) {
        notes << "complete: note: running outside the model's " << c.scale.name << " scale ("
              << diff << ")\n";
    }
    return o;
}

Command completeCommand() {
    Command c;
    c.name = "complete";
    c.summary = "Complete one scan with a LiDiff-family model (diffusion + refinement)";
    c.synopsis = "[MODEL] SCAN OUT | [MODEL] SEQUENCE_DIR OUT_DIR";
    c.description =
        "Without MODEL the shipped lite teacher (resources/models/lite-teacher.safetensors)\n"
        "completes. LiDiff's pipeline (reference 3.3-3.5): keep points with min-range < |p| < max-range,\n"
        "farthest-point-sample --points of them (the condition), tile them --tile times as\n"
        "x_init, add unit Gaussian noise, run --steps of SDE-DPM-Solver++ on the residual with\n"
        "classifier-free guidance --guidance, drop points beyond max-range or outside LiDiff's\n"
        "height band, then (if the model has a refiner) move each point by its 6 predicted\n"
        "offsets. OUT gets the refined cloud, or the diffused one without a refiner.\n"
        "Defaults come from the model file: its scale (points, tile, ranges; LiDiff's published\n"
        "scale is 18000 x 10 within 3.5-50 m, the lite scale 2000 x 4) and its sampling (LiDiff\n"
        "teachers 50 steps, w 6; ScoreLiDAR / Distillation-DPO students 8 steps, w 3.5).\n"
        "With a sequence folder, every frame (or --frames A:B) is completed with one model load\n"
        "into OUT_DIR/FRAME.ply (--format), frame i with seed + i; score the folder with\n"
        "`lidistill eval OUT_DIR --sequence SEQ`. --skip-existing resumes an interrupted run.\n"
        "An existing output is replaced only with --force; an input never is.\n"
        "--lidiff-scheduler-state carries the sampler's state from frame to frame as LiDiff's\n"
        "pipeline does (only to reproduce its published numbers exactly).";
    c.options = completeOptionSpecs();
    c.options.push_back(refinerOptionSpec());
    c.minPositional = 2;
    c.maxPositional = 3;
    c.run = runComplete;
    return c;
}

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
