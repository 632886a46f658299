// SPDX-License-Identifier: MIT
// `lidistill complete`: LiDiff scene completion of one scan with a model file.
#ifdef LIDISTILL_HAVE_ML
#include "core/base/Error.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/TerminalProgress.h"
#include "core/io/CloudFile.h"
#include "core/ml/Completion.h"
#include "core/ml/Model.h"

#include <chrono>
#include <cmath>
#include <iomanip>
#include <limits>
#include <ostream>

namespace lidistill::cli {
namespace {

ml::CompletionOptions parseOptions(const Args& args) {
    ml::CompletionOptions o;
    const long long steps = args.integer("steps", 50);
    if (steps < 1 || steps > 1000) {
        throw UsageError("--steps must be in 1..1000, got " + std::to_string(steps));
    }
    o.steps = static_cast<int>(steps);
    o.guidance = args.number("guidance", 6.0);
    if (!std::isfinite(o.guidance)) throw UsageError("--guidance must be a finite number");
    const long long seed = args.integer("seed", 0);
    if (seed < 0) throw UsageError("--seed must be >= 0");
    o.seed = static_cast<std::uint64_t>(seed);
    const long long points = args.integer("points", 18000);
    if (points < 1) throw UsageError("--points must be positive");
    o.partialPoints = static_cast<std::size_t>(points);
    const long long tile = args.integer("tile", 10);
    if (tile < 1 || tile > 1000) throw UsageError("--tile must be in 1..1000");
    o.tile = static_cast<int>(tile);
    o.minRange = args.number("min-range", 3.5);
    o.maxRange = args.number("max-range", 50.0);
    if (!(o.minRange >= 0) || !(o.maxRange > o.minRange) || !std::isfinite(o.maxRange)) {
        throw UsageError("need 0 <= --min-range < --max-range");
    }
    o.refine = !args.flag("no-refine");
    return o;
}

int runComplete(const Args& args, Context& ctx) {
    const auto& p = args.positional();
    const std::string modelFile = p[0], scanFile = p[1], outFile = p[2];
    const auto options = parseOptions(args);  // a typo should not cost a model load
    io::formatFromPath(outFile);              // nor a bad output name an hour of sampling
    if (auto d = args.value("diffused")) io::formatFromPath(*d);
    if (auto d = args.value("partial-out")) io::formatFromPath(*d);

    auto model = ml::LidiffModel::load(modelFile);
    if (auto device = args.value("device")) model.setDevice(*device);
    const PointCloud scan = io::readCloud(scanFile);

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

}  // namespace

Command completeCommand() {
    Command c;
    c.name = "complete";
    c.summary = "Complete one scan with a LiDiff-family model (diffusion + refinement)";
    c.synopsis = "MODEL SCAN OUT";
    c.description =
        "LiDiff's pipeline (reference 3.3-3.5): keep points with min-range < |p| < max-range,\n"
        "farthest-point-sample --points of them (the condition), tile them --tile times as\n"
        "x_init, add unit Gaussian noise, run --steps of SDE-DPM-Solver++ on the residual with\n"
        "classifier-free guidance --guidance, drop points beyond max-range or outside LiDiff's\n"
        "height band, then (if the model has a refiner) move each point by its 6 predicted\n"
        "offsets. OUT gets the refined cloud, or the diffused one without a refiner.\n"
        "LiDiff: 50 steps, w 6. ScoreLiDAR / Distillation-DPO students: 8 steps, w 3.5.\n"
        "Score the output with `lidistill eval OUT --sequence SEQ` (frame names must match).";
    c.options = {
        {"steps", "N", "denoising steps, 1..1000", false, "50"},
        {"guidance", "W", "classifier-free guidance weight", false, "6.0"},
        {"seed", "N", "noise seed (same noise on every device)", false, "0"},
        {"points", "N", "farthest point samples of the scan", false, "18000"},
        {"tile", "K", "copies of the samples in x_init", false, "10"},
        {"min-range", "M", "keep scan points beyond this range, metres", false, "3.5"},
        {"max-range", "M", "and within this one (also the output's limit)", false, "50"},
        {"no-refine", "", "skip the refiner even if the model has one", true, ""},
        {"diffused", "FILE", "also write the diffusion result before refinement", false, ""},
        {"partial-out", "FILE", "also write the sampled partial scan (the condition)", false, ""},
        {"device", "DEV", "cpu, cuda or cuda:N", false, "cpu"}};
    c.minPositional = 3;
    c.maxPositional = 3;
    c.run = runComplete;
    return c;
}

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
