// SPDX-License-Identifier: MIT
// `lidistill model`: inspect, create and run LiDiff-family model files (safetensors).
#ifdef LIDISTILL_HAVE_ML
#include "core/base/Error.h"
#include "core/cli/Cli.h"
#include "core/cli/Command.h"
#include "core/cli/TrainSetup.h"
#include "core/io/CloudFile.h"
#include "core/ml/Model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <ostream>
#include <random>
#include <sstream>

namespace lidistill::cli {
namespace {

int runInfo(const std::string& file, Context& ctx) {
    const auto model = ml::LidiffModel::load(file);
    const auto& c = model.config();
    const auto& s = c.scale;
    ctx.out << file << "\n  " << c.role << ", width " << c.width << ", in_channels "
            << c.inChannels << ", voxel_size " << c.voxelSize << " m, refiner_out_channels "
            << c.refinerOutChannels << "\n  scale " << s.name << ": " << s.partialPoints
            << " partial points x " << s.tile << ", " << s.fullPoints
            << " ground-truth points in training, " << s.minRange << "-" << s.maxRange
            << " m\n  sampling: " << c.sampling.steps << " steps, guidance " << c.sampling.guidance
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
    ml::ModelConfig c = newModelConfig(args, "full");
    ml::ModelConfig::fromJson(c.toJson());  // InvalidArgument (exit 1) for values out of range
    c.hasRefiner = args.flag("refiner");
    c.source = "lidistill model init (random initialisation)";
    ml::LidiffModel model(c, static_cast<std::uint64_t>(args.integer("seed", 0)));
    model.save(file);
    ctx.out << "wrote " << file << '\n';
    return kOk;
}

// One file from the networks of several: each network from the first file that has it (of
// --networks); config (scale, role, sampling) from the first file.
int runMerge(const std::vector<std::string>& files, const Args& args, Context& ctx) {
    // One file with --networks takes some of its networks (a refiner-only file, say).
    if (files.size() < 3 && !(files.size() == 2 && args.value("networks"))) {
        throw UsageError("merge needs OUT and at least two model files (or one with --networks)");
    }
    std::vector<ml::LidiffModel> in;
    for (std::size_t i = 1; i < files.size(); ++i) in.push_back(ml::LidiffModel::load(files[i]));
    std::vector<std::string> wanted;
    std::stringstream ss(args.value("networks", "encoder,denoiser,refiner"));
    for (std::string w; std::getline(ss, w, ',');) {
        if (w != "encoder" && w != "denoiser" && w != "refiner") {
            throw UsageError("--networks lists encoder, denoiser, refiner; got '" + w + "'");
        }
        wanted.push_back(w);
    }
    auto has = [](const ml::ModelConfig& c, const std::string& n) {
        return n == "encoder" ? c.hasEncoder : n == "denoiser" ? c.hasDenoiser : c.hasRefiner;
    };
    ml::ModelConfig c = in.front().config();
    c.hasEncoder = c.hasDenoiser = c.hasRefiner = false;
    std::vector<std::pair<std::string, std::size_t>> plan;
    for (const auto& n : wanted) {
        for (std::size_t i = 0; i < in.size(); ++i) {
            if (!has(in[i].config(), n)) continue;
            if (in[i].config().width != c.width || in[i].config().voxelSize != c.voxelSize) {
                throw IoError(files[i + 1], "width or voxel size differs from " + files[1]);
            }
            (n == "encoder" ? c.hasEncoder : n == "denoiser" ? c.hasDenoiser : c.hasRefiner) = true;
            plan.emplace_back(n, i);
            break;
        }
    }
    c.source = args.value("source", "lidistill model merge");
    // The sampling the file is meant to run with, when it was chosen after training.
    c.sampling.steps = static_cast<int>(args.integer("sample-steps", c.sampling.steps));
    c.sampling.guidance = args.number("guidance", c.sampling.guidance);
    if (c.sampling.steps < 1 || c.sampling.steps > 1000) {
        throw UsageError("--sample-steps must be in 1..1000");
    }
    if (!(c.sampling.guidance >= 0) || !std::isfinite(c.sampling.guidance)) {
        throw UsageError("--guidance must be >= 0");
    }
    ml::LidiffModel out(c, 0);
    for (const auto& [n, i] : plan) {
        out.copyNetworksFrom(in[i], n);
        ctx.out << "  " << n << " from " << files[i + 1] << '\n';
    }
    out.save(files[0]);
    ctx.out << "wrote " << files[0] << '\n';
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
    c.synopsis = "info FILE | init FILE | forward FILE SCAN | merge OUT FILE...";
    c.description =
        "info FILE          print the config and parameter counts of a model file\n"
        "init FILE          write randomly initialised networks (--scale, --width, --seed,\n"
        "                   --refiner, ...)\n"
        "forward FILE SCAN  one denoiser call on a scan (the scan is also the condition unless\n"
        "                   --partial is given); prints timing and output statistics\n"
        "merge OUT FILE...  one file from several: each network (--networks) from the first\n"
        "                   FILE that has it, the scale and sampling of the first FILE (one\n"
        "                   FILE with --networks: some of its networks, e.g. a refiner-only file)\n\n"
        "Published LiDiff / ScoreLiDAR / Distillation-DPO checkpoints are converted with\n"
        "resources/tools/convert_lightning_checkpoint.py.";
    c.options = {
        {"scale", "full|lite", "init: LiDiff's published scale or the CPU-sized lite one", false,
         "full"},
        {"width", "W", "init: channel multiplier", false, "1.0 (lite 0.25)"},
        {"voxel-size", "M", "init: voxel size, metres", false, "0.05 (lite 0.1)"},
        {"tile", "K", "init: copies of the partial scan in x_init", false, "10 (lite 4)"},
        {"full-points", "N", "init: ground-truth points of a training sample", false,
         "180000 (lite 8000)"},
        {"seed", "N", "random seed", false, "0"},
        {"refiner", "", "init: also create the refinement network", true, ""},
        {"partial", "SCAN", "forward: the condition scan", false, ""},
        {"points", "N",
         "forward: use at most N points of SCAN (0: all); init: partial points of the scale",
         false, "0 / 18000 (lite 2000)"},
        {"noise", "M", "forward: Gaussian noise std added to the points, metres", false, "0"},
        {"t", "STEP", "forward: diffusion step 0..999", false, "500"},
        {"device", "DEV", "forward: cpu, cuda or cuda:N", false, "cpu"},
        {"out", "FILE", "forward: write the prediction as a cloud file", false, ""},
        {"networks", "LIST", "merge: networks to take", false, "encoder,denoiser,refiner"},
        {"source", "TEXT", "merge: provenance written into the file", false, ""},
        {"sample-steps", "N", "merge: sampler steps written into the file", false,
         "the first file's"},
        {"guidance", "W", "merge: guidance weight written into the file", false,
         "the first file's"}};
    c.minPositional = 2;
    c.maxPositional = 20;
    c.run = [](const Args& args, Context& ctx) -> int {
        const auto& p = args.positional();
        if (p[0] == "info" && p.size() == 2) return runInfo(p[1], ctx);
        if (p[0] == "init" && p.size() == 2) return runInit(p[1], args, ctx);
        if (p[0] == "forward" && p.size() == 3) return runForward(p[1], p[2], args, ctx);
        if (p[0] == "merge") return runMerge({p.begin() + 1, p.end()}, args, ctx);
        throw UsageError(
            "expected 'info FILE', 'init FILE', 'forward FILE SCAN' or 'merge OUT FILE...'");
    };
    return c;
}

}  // namespace lidistill::cli
#endif  // LIDISTILL_HAVE_ML
