// SPDX-License-Identifier: MIT
// `lidistill model`: inspect, create and run LiDiff-family model files (safetensors).
#ifdef LIDISTILL_HAVE_ML
#include "core/base/Error.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/io/CloudFile.h"
#include "core/ml/Model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <random>

namespace lidistill::cli {
namespace {

int runInfo(const std::string& file, Context& ctx) {
    const auto model = ml::LidiffModel::load(file);
    const auto& c = model.config();
    ctx.out << file << "\n  width " << c.width << ", in_channels " << c.inChannels
            << ", voxel_size " << c.voxelSize << " m, refiner_out_channels " << c.refinerOutChannels
            << "\n  source: " << (c.source.empty() ? "-" : c.source) << '\n';
    std::int64_t total = 0;
    for (const auto& n : model.summary()) {
        ctx.out << "  " << std::left << std::setw(9) << n.name << std::setw(14) << n.architecture
                << std::right << std::setw(12) << n.parameters << " parameters, " << n.tensors
                << " tensors\n";
        total += n.parameters;
    }
    ctx.out << "  total " << total << " parameters\n";
    return kOk;
}

int runInit(const std::string& file, const Args& args, Context& ctx) {
    ml::ModelConfig c;
    c.width = args.number("width", 1.0);
    c.hasRefiner = args.flag("refiner");
    c.source = "lidistill model init (random initialisation)";
    ml::LidiffModel model(c, static_cast<std::uint64_t>(args.integer("seed", 0)));
    model.save(file);
    ctx.out << "wrote " << file << '\n';
    return kOk;
}

int runForward(const std::string& file, const std::string& scan, const Args& args, Context& ctx) {
    // Options first: a typo should not cost a model load.
    const long long step = args.integer("t", 500);
    if (step < 0 || step > 999) {
        throw UsageError("--t must be a diffusion step in 0..999, got " + std::to_string(step));
    }
    const int t = static_cast<int>(step);
    const long long maxPoints = args.integer("points", 0);
    if (maxPoints < 0) throw UsageError("--points must be 0 (all) or positive");
    auto model = ml::LidiffModel::load(file);
    if (auto device = args.value("device")) model.setDevice(*device);
    const PointCloud scanCloud = io::readCloud(scan);
    const PointCloud partial =
        args.has("partial") ? io::readCloud(*args.value("partial")) : scanCloud;
    PointCloud noisy;
    noisy.xyz = scanCloud.xyz;
    std::mt19937 rng(static_cast<unsigned>(args.integer("seed", 0)));
    if (maxPoints > 0 && static_cast<long long>(noisy.size()) > maxPoints) {
        std::shuffle(noisy.xyz.begin(), noisy.xyz.end(), rng);
        noisy.xyz.resize(static_cast<std::size_t>(maxPoints));
    }
    // LiDiff's x_t around the scan: add N(0, sigma^2) noise per coordinate.
    const double sigma = args.number("noise", 0.0);
    if (sigma > 0) {
        std::normal_distribution<float> n(0.f, static_cast<float>(sigma));
        for (auto& p : noisy.xyz) {
            for (auto& v : p) v += n(rng);
        }
    }
    const auto start = std::chrono::steady_clock::now();
    const auto eps = model.denoise(noisy, partial, t);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double sum = 0, sq = 0;
    for (const auto& e : eps) {
        for (float v : e) {
            sum += v;
            sq += double(v) * v;
        }
    }
    const double n = 3.0 * static_cast<double>(eps.size());
    ctx.out << "denoiser forward on " << model.device() << ": " << noisy.size()
            << " points, partial " << partial.size() << " points, t = " << t << ", " << std::fixed
            << std::setprecision(3) << secs << " s\n  eps mean " << std::setprecision(5) << sum / n
            << ", rms " << std::sqrt(sq / n) << '\n';
    if (auto out = args.value("out")) {
        PointCloud result;
        result.xyz = eps;
        io::writeCloud(*out, result);
        ctx.out << "  wrote the per-point prediction to " << *out << '\n';
    }
    return kOk;
}

}  // namespace

Command modelCommand() {
    Command c;
    c.name = "model";
    c.summary = "Inspect, create or run LiDiff-family model files (.safetensors)";
    c.synopsis = "info FILE | init FILE | forward FILE SCAN";
    c.description =
        "info FILE          print the config and parameter counts of a model file\n"
        "init FILE          write randomly initialised networks (--width, --seed, --refiner)\n"
        "forward FILE SCAN  one denoiser call on a scan (the scan is also the condition unless\n"
        "                   --partial is given); prints timing and output statistics\n\n"
        "Published LiDiff / ScoreLiDAR / Distillation-DPO checkpoints are converted with\n"
        "resources/tools/convert_lightning_checkpoint.py.";
    c.options = {
        {"width", "W", "channel multiplier for init", false, "1.0"},
        {"seed", "N", "random seed", false, "0"},
        {"refiner", "", "init: also create the refinement network", true, ""},
        {"partial", "SCAN", "forward: the condition scan", false, ""},
        {"points", "N", "forward: use at most N points of SCAN (0: all)", false, "0"},
        {"noise", "M", "forward: Gaussian noise std added to the points, metres", false, "0"},
        {"t", "STEP", "forward: diffusion step 0..999", false, "500"},
        {"device", "DEV", "forward: cpu, cuda or cuda:N", false, "cpu"},
        {"out", "FILE", "forward: write the prediction as a cloud file", false, ""}};
    c.minPositional = 2;
    c.maxPositional = 3;
    c.run = [](const Args& args, Context& ctx) -> int {
        const auto& p = args.positional();
        if (p[0] == "info" && p.size() == 2) return runInfo(p[1], ctx);
        if (p[0] == "init" && p.size() == 2) return runInit(p[1], args, ctx);
        if (p[0] == "forward" && p.size() == 3) return runForward(p[1], p[2], args, ctx);
        throw UsageError("expected 'info FILE', 'init FILE' or 'forward FILE SCAN'");
    };
    return c;
}

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
